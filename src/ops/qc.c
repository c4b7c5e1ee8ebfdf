/*
 * qc.c — the driver of `onemap qc` (onemap/qc.h): the catalogue of check
 * codes, the sink the check families report to (ops/qc_int.h), om_qc_run
 * (read the layers once, run the families per layer, sort, count, score,
 * store as a run of kind "qc") and the JSON of a result.
 *
 * The sink keeps every finding's counts (also those beyond max_per_check)
 * and lists the first max_per_check of each (layer, check) in emission
 * order, with a copy of its polygon; the polygons become result->polygons
 * after the final sort so that their fid is the error index + 1.
 */
#include "onemap/qc.h"
#include "core/core.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/onemap.h"
#include "onemap/store.h"
#include "ops/qc_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the catalogue ---- */

static const struct om_qc_check CHECKS[] = {
    {"G001", "geometry", OM_SEV_ERROR, true,
     "几何图形无效（自相交、环自相交等）",
     "Invalid geometry (self-intersection, ring self-intersection, ...)"},
    {"G002", "geometry", OM_SEV_WARNING, true, "存在连续重复节点",
     "Repeated consecutive vertices"},
    {"G003", "geometry", OM_SEV_WARNING, false, "存在尖角（毛刺）",
     "Spike: a vertex angle below the threshold"},
    {"G004", "geometry", OM_SEV_WARNING, false, "存在极短线段",
     "Micro-segment shorter than the threshold"},
    {"G005", "geometry", OM_SEV_ERROR, false, "空几何", "Empty geometry"},
    {"G006", "geometry", OM_SEV_WARNING, false, "单部件图层中存在多部件要素",
     "Multi-part feature in a single-part layer"},
    {"G007", "geometry", OM_SEV_INFO, true,
     "环方向不规范（外环应逆时针、内环应顺时针）",
     "Ring orientation: shells not counter-clockwise or holes not clockwise"},
    {"T001", "topology", OM_SEV_ERROR, false, "图斑之间相互重叠",
     "Overlap between two features"},
    {"T002", "topology", OM_SEV_ERROR, false, "图层范围或规划范围内存在缝隙",
     "Gap inside the layer's outline or the planning extent"},
    {"T003", "topology", OM_SEV_WARNING, true, "碎片图斑（面积或宽度过小）",
     "Sliver feature (area or width below the thresholds)"},
    {"T004", "topology", OM_SEV_WARNING, false,
     "节点与相邻图斑边界几乎接触但不重合",
     "Near miss: a vertex close to a neighbour's edge but not on it"},
    {"L001", "layers", OM_SEV_ERROR, false, "要素（部分）位于规划范围之外",
     "Feature (part) outside the planning extent"},
    {"L002", "layers", OM_SEV_INFO, false, "永久基本农田落在非耕地地类上",
     "Permanent basic farmland on land not recorded as cultivated"},
    {"L003", "layers", OM_SEV_ERROR, false, "控制线之间存在不允许的重叠",
     "Control lines overlapping where the rules forbid it"},
    {"A001", "attributes", OM_SEV_ERROR, false, "缺少必填字段",
     "Required field missing from the layer"},
    {"A002", "attributes", OM_SEV_ERROR, false, "字段类型错误",
     "Field of the wrong type"},
    {"A003", "attributes", OM_SEV_ERROR, false, "必填值为空",
     "Required value NULL or blank"},
    {"A004", "attributes", OM_SEV_ERROR, false, "取值不在值域内",
     "Value outside the field's domain or list of values"},
    {"A005", "attributes", OM_SEV_ERROR, false, "唯一字段取值重复",
     "Duplicate value of a unique field"},
    {"A006", "attributes", OM_SEV_ERROR, false,
     "图斑地类面积不等于图斑面积减扣除面积",
     "Net area differs from gross minus deduction (TBDLMJ)"},
    {"A007", "attributes", OM_SEV_WARNING, false, "记录面积与计算椭球面积不符",
     "Recorded area differs from the computed ellipsoidal area"},
    {"C001", "crs", OM_SEV_ERROR, false, "坐标与声明的坐标系不一致",
     "Coordinates inconsistent with the declared CRS"},
};
#define NCHECK (sizeof CHECKS / sizeof CHECKS[0])

size_t om_qc_ncheck(void)
{
    return NCHECK;
}

const struct om_qc_check *om_qc_check_at(size_t i)
{
    return i < NCHECK ? &CHECKS[i] : NULL;
}

static size_t check_index(const char *code)
{
    for (size_t i = 0; code && i < NCHECK; i++) {
        if (strcmp(CHECKS[i].code, code) == 0) {
            return i;
        }
    }
    return OM_QC_NONE;
}

const struct om_qc_check *om_qc_check_find(const char *code)
{
    size_t i = check_index(code);
    return i == OM_QC_NONE ? NULL : &CHECKS[i];
}

/* Layer-level findings that lower the score by 10. */
static bool is_layer_level(const char *code)
{
    return strcmp(code, "A001") == 0 || strcmp(code, "A002") == 0 ||
           strcmp(code, "C001") == 0;
}

/* Pair findings whose second feature is in the same layer. */
static bool pair_in_layer(const char *code)
{
    return strcmp(code, "T001") == 0 || strcmp(code, "A005") == 0;
}

/* ---- the sink ---- */

struct finding {
    struct om_qc_error e; /* field, zh, en owned until moved */
    size_t layer, seq;
    bool has_poly;
    size_t part_off, nparts, ring_off, point_off;
};

struct count {
    size_t count, listed;
    double area;
    bool has_area;
};

struct om__qc_sink {
    const struct om_progress *progress;
    const char *const *only;
    size_t nonly;
    size_t max_per_check;
    size_t layer, nlayers;
    struct finding *f;
    size_t nf, capf;
    /* copied polygons: points, points per ring, rings per part */
    double *xy;
    size_t nxy, capxy;
    size_t *rpts;
    size_t nr, capr;
    size_t *prings;
    size_t np, capp;
    struct count *counts; /* nlayers * NCHECK */
    int64_t *bad;         /* fids with an error finding, current layer */
    size_t nbad, capbad;
    size_t nlevel; /* layer-level errors of the current layer */
    size_t seq;
    bool truncated;
};

bool om__qc_wanted(const struct om__qc_sink *s, const char *code)
{
    if (!s->nonly) {
        return true;
    }
    size_t i = check_index(code);
    if (i == OM_QC_NONE) {
        return false;
    }
    for (size_t k = 0; k < s->nonly; k++) {
        if (om__strcasecmp(s->only[k], code) == 0 ||
            om__strcasecmp(s->only[k], CHECKS[i].category) == 0) {
            return true;
        }
    }
    return false;
}

static enum om_status copy_polygon(struct om__qc_sink *s, struct finding *fd,
                                   const struct om_layer_view *v, size_t f)
{
    size_t p0 = v->part_start[f], p1 = v->part_start[f + 1];
    size_t r0 = v->ring_start[p0], r1 = v->ring_start[p1];
    size_t q0 = v->point_start[r0], q1 = v->point_start[r1];
    if (!OM__GROW(s->prings, s->capp, s->np + (p1 - p0)) ||
        !OM__GROW(s->rpts, s->capr, s->nr + (r1 - r0)) ||
        !OM__GROW(s->xy, s->capxy, 2 * (s->nxy + (q1 - q0)))) {
        return OM_ENOMEM;
    }
    fd->has_poly = true;
    fd->part_off = s->np;
    fd->nparts = p1 - p0;
    fd->ring_off = s->nr;
    fd->point_off = s->nxy;
    for (size_t p = p0; p < p1; p++) {
        s->prings[s->np++] = v->ring_start[p + 1] - v->ring_start[p];
    }
    for (size_t r = r0; r < r1; r++) {
        s->rpts[s->nr++] = v->point_start[r + 1] - v->point_start[r];
    }
    if (q1 > q0) {
        memcpy(s->xy + 2 * s->nxy, v->xy + 2 * q0,
               2 * (q1 - q0) * sizeof *s->xy);
        s->nxy += q1 - q0;
    }
    return OM_OK;
}

static enum om_status note_bad(struct om__qc_sink *s, int64_t fid)
{
    if (fid < 0) {
        return OM_OK;
    }
    if (!OM__GROW(s->bad, s->capbad, s->nbad + 1)) {
        return OM_ENOMEM;
    }
    s->bad[s->nbad++] = fid;
    return OM_OK;
}

enum om_status om__qc_emit(struct om__qc_sink *s, const struct om__qc_item *it,
                           struct om_error *err)
{
    if (!s || !it) {
        return om__error(err, OM_EINVAL, "qc", 0, -1, "om__qc_emit: NULL");
    }
    size_t ci = check_index(it->code);
    if (ci == OM_QC_NONE) {
        return om__error(err, OM_EINVAL, "qc", 0, it->fid,
                         "unknown check code '%s'",
                         it->code ? it->code : "(null)");
    }
    if (om__progress(s->progress, "checking", s->layer, s->nlayers)) {
        return om__error(err, OM_ECANCELED, "qc", 0, -1, "qc canceled");
    }
    if (!om__qc_wanted(s, CHECKS[ci].code)) {
        return OM_OK;
    }
    const struct om_qc_check *ck = &CHECKS[ci];
    struct count *c = &s->counts[s->layer * NCHECK + ci];
    double area = NAN;
    if (it->pv && it->pf < it->pv->nfeatures) {
        area = om_feature_area_planar(it->pv, it->pf);
        c->area += area;
        c->has_area = true;
    }
    c->count++;
    if (ck->severity == OM_SEV_ERROR) {
        enum om_status st = note_bad(s, it->fid);
        if (st == OM_OK && pair_in_layer(ck->code)) {
            st = note_bad(s, it->fid2);
        }
        if (st != OM_OK) {
            return om__enomem(err, "qc");
        }
        if (is_layer_level(ck->code)) {
            s->nlevel++;
        }
    }
    if (c->listed >= s->max_per_check) {
        s->truncated = true;
        return OM_OK;
    }
    if (!OM__GROW(s->f, s->capf, s->nf + 1)) {
        return om__enomem(err, "qc");
    }
    struct finding *fd = &s->f[s->nf];
    memset(fd, 0, sizeof *fd);
    fd->e.code = ck->code;
    fd->e.severity = ck->severity;
    fd->e.fid = it->fid;
    fd->e.fid2 = it->fid2;
    fd->e.x = it->x;
    fd->e.y = it->y;
    fd->e.area_m2 = area;
    fd->e.value = it->value;
    fd->e.polygon = OM_QC_NONE;
    fd->layer = s->layer;
    fd->seq = s->seq++;
    bool ok = (!it->field || (fd->e.field = om__strdup(it->field))) &&
              (fd->e.zh = om__strdup(it->zh ? it->zh : "")) &&
              (fd->e.en = om__strdup(it->en ? it->en : ""));
    if (ok && it->pv && it->pf < it->pv->nfeatures) {
        ok = copy_polygon(s, fd, it->pv, it->pf) == OM_OK;
    }
    if (!ok) {
        om__free(fd->e.field);
        om__free(fd->e.zh);
        om__free(fd->e.en);
        return om__enomem(err, "qc");
    }
    s->nf++;
    c->listed++;
    return OM_OK;
}

static void sink_deinit(struct om__qc_sink *s)
{
    for (size_t i = 0; i < s->nf; i++) {
        om__free(s->f[i].e.field);
        om__free(s->f[i].e.zh);
        om__free(s->f[i].e.en);
    }
    om__free(s->f);
    om__free(s->xy);
    om__free(s->rpts);
    om__free(s->prings);
    om__free(s->counts);
    om__free(s->bad);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Distinct fids of the current layer's error findings; resets. */
static size_t take_bad(struct om__qc_sink *s)
{
    if (s->nbad) {
        qsort(s->bad, s->nbad, sizeof *s->bad, cmp_i64);
    }
    size_t n = 0;
    for (size_t i = 0; i < s->nbad; i++) {
        n += i == 0 || s->bad[i] != s->bad[i - 1];
    }
    s->nbad = 0;
    return n;
}

static int cmp_finding(const void *a, const void *b)
{
    const struct finding *x = a, *y = b;
    if (x->layer != y->layer) {
        return x->layer < y->layer ? -1 : 1;
    }
    int c = strcmp(x->e.code, y->e.code);
    if (c) {
        return c;
    }
    if (x->e.fid != y->e.fid) {
        return x->e.fid < y->e.fid ? -1 : 1;
    }
    if (x->e.fid2 != y->e.fid2) {
        return x->e.fid2 < y->e.fid2 ? -1 : 1;
    }
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- the result ---- */

void om_qc_result_free(struct om_qc_result *res)
{
    if (!res) {
        return;
    }
    for (size_t i = 0; i < res->nerrors; i++) {
        om__free(res->errors[i].field);
        om__free(res->errors[i].zh);
        om__free(res->errors[i].en);
    }
    om__free(res->errors);
    om_layer_free(res->polygons);
    om__free(res->counts);
    for (size_t i = 0; i < res->nlayers; i++) {
        om__free(res->layers[i].code);
    }
    om__free(res->layers);
    om__free(res);
}

void om_qc_free_string(char *s)
{
    om__free(s);
}

enum { PF_CODE, PF_SEV, PF_LAYER, PF_FID, PF_FID2, PF_AREA, PF_ZH, PF_EN };

static enum om_status polygons_new(struct om_layer **out, const char *crs,
                                   struct om_error *err)
{
    static const struct {
        const char *name;
        enum om_field_type type;
    } fields[] = {
        {"code", OM_FIELD_TEXT},       {"severity", OM_FIELD_TEXT},
        {"layer", OM_FIELD_TEXT},      {"fid", OM_FIELD_INT},
        {"fid2", OM_FIELD_INT},        {"area_m2", OM_FIELD_REAL},
        {"message_zh", OM_FIELD_TEXT}, {"message_en", OM_FIELD_TEXT},
    };
    enum om_status st = om_layer_new("QC_AREAS", out, err);
    for (size_t i = 0; st == OM_OK && i < sizeof fields / sizeof fields[0];
         i++) {
        st =
            om_layer_add_field(*out, fields[i].name, fields[i].type, NULL, err);
    }
    if (st == OM_OK && crs) {
        st = om_layer_set_crs(*out, crs, err);
    }
    return st;
}

/* Add finding fd (error index i) to the polygons layer. */
static enum om_status polygon_add(struct om_layer *l,
                                  const struct om__qc_sink *s,
                                  const struct finding *fd,
                                  const struct om_qc_error *e, size_t i,
                                  struct om_error *err)
{
    enum om_status st = om_layer_begin_feature(l, (int64_t)i + 1, err);
    size_t r = fd->ring_off, q = fd->point_off;
    for (size_t p = 0; st == OM_OK && p < fd->nparts; p++) {
        st = om_layer_begin_part(l, err);
        size_t nr = s->prings[fd->part_off + p];
        for (size_t k = 0; st == OM_OK && k < nr; k++, r++) {
            st = om_layer_add_ring(l, s->xy + 2 * q, s->rpts[r], err);
            q += s->rpts[r];
        }
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, PF_CODE, e->code, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, PF_SEV, om_severity_name(e->severity), err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, PF_LAYER, e->layer, err);
    }
    if (st == OM_OK && e->fid >= 0) {
        st = om_layer_set_int(l, PF_FID, e->fid, err);
    }
    if (st == OM_OK && e->fid2 >= 0) {
        st = om_layer_set_int(l, PF_FID2, e->fid2, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_real(l, PF_AREA, e->area_m2, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, PF_ZH, e->zh, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, PF_EN, e->en, err);
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    } else {
        om_layer_abort_feature(l);
    }
    return st;
}

/* Sort, move the findings into res, build polygons and counts. */
static enum om_status finish_result(struct om__qc_sink *s,
                                    struct om_qc_result *res, const char *crs,
                                    struct om_error *err)
{
    if (s->nf) {
        qsort(s->f, s->nf, sizeof *s->f, cmp_finding);
    }
    res->errors = om__calloc(s->nf ? s->nf : 1, sizeof *res->errors);
    if (!res->errors) {
        return om__enomem(err, "qc");
    }
    enum om_status st = polygons_new(&res->polygons, crs, err);
    for (size_t i = 0; st == OM_OK && i < s->nf; i++) {
        struct finding *fd = &s->f[i];
        struct om_qc_error *e = &res->errors[i];
        *e = fd->e;
        fd->e.field = fd->e.zh = fd->e.en = NULL;
        res->nerrors = i + 1;
        e->layer = res->layers[fd->layer].code;
        if (fd->has_poly) {
            e->polygon = om_layer_nfeatures(res->polygons);
            st = polygon_add(res->polygons, s, fd, e, i, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(res->polygons, OM_LAYER_KEEP_ORDER, err);
    }
    if (st != OM_OK) {
        return st;
    }
    size_t n = 0;
    for (size_t k = 0; k < s->nlayers * NCHECK; k++) {
        n += s->counts[k].count > 0;
    }
    res->counts = om__calloc(n ? n : 1, sizeof *res->counts);
    if (!res->counts) {
        return om__enomem(err, "qc");
    }
    /* by layer, then code (alphabetical, as the errors) */
    size_t order[NCHECK];
    for (size_t k = 0; k < NCHECK; k++) {
        order[k] = k;
    }
    for (size_t a = 1; a < NCHECK; a++) {
        for (size_t b = a; b > 0 && strcmp(CHECKS[order[b - 1]].code,
                                           CHECKS[order[b]].code) > 0;
             b--) {
            size_t t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    }
    for (size_t l = 0; l < s->nlayers; l++) {
        struct om_qc_layer *ly = &res->layers[l];
        for (size_t k = 0; k < NCHECK; k++) {
            const struct count *c = &s->counts[l * NCHECK + order[k]];
            const struct om_qc_check *ck = &CHECKS[order[k]];
            if (!c->count) {
                continue;
            }
            struct om_qc_count *o = &res->counts[res->ncounts++];
            o->code = ck->code;
            o->layer = ly->code;
            o->count = c->count;
            o->listed = c->listed;
            o->area_m2 = c->has_area ? c->area : NAN;
            if (ck->severity == OM_SEV_ERROR) {
                ly->nerrors += c->count;
                res->nerror_findings += c->count;
            } else if (ck->severity == OM_SEV_WARNING) {
                ly->nwarnings += c->count;
            } else {
                ly->ninfos += c->count;
            }
        }
    }
    res->truncated = s->truncated;
    return OM_OK;
}

/* ---- running ---- */

struct loaded {
    struct om_layer_record *rec;
    const char *role;
    struct om_layer *layer; /* NULL until read */
};

static bool is_control(const char *role)
{
    return strcmp(role, "farmland") == 0 || strcmp(role, "eco_redline") == 0 ||
           strcmp(role, "urban_boundary") == 0;
}

static enum om_status load(struct om_project *p, struct loaded *ld,
                           const struct om_progress *progress,
                           struct om_error *err)
{
    if (ld->layer) {
        return OM_OK;
    }
    return om_project_read(p, ld->rec->code, ld->rec->version, &ld->layer,
                           progress, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static enum om_status check_only(const struct om_qc_options *opt,
                                 struct om_error *err)
{
    for (size_t k = 0; opt->only && k < opt->nonly; k++) {
        const char *o = opt->only[k];
        bool known = false;
        for (size_t i = 0; o && i < NCHECK && !known; i++) {
            known = om__strcasecmp(o, CHECKS[i].code) == 0 ||
                    om__strcasecmp(o, CHECKS[i].category) == 0;
        }
        if (!known) {
            return om__error(err, OM_EINVAL, "qc", 0, -1,
                             "unknown check '%s' (want a code such as G001 "
                             "or a category: geometry, topology, layers, "
                             "attributes, crs)",
                             o ? o : "(null)");
        }
    }
    return OM_OK;
}

/* The state of one om_qc_run. */
struct run {
    struct om_project *p;
    const struct om_qc_options *opt;
    const struct om_progress *progress;
    const struct om_rules *rules, *qrules;
    struct om_rules *own_rules, *own_qrules;
    struct om_layer_record *recs;
    size_t nrecs;
    struct loaded *ld; /* nrecs */
    size_t *checked;   /* indexes into ld */
    size_t nchecked;
    struct om_crs *crs;
    struct om__qc_sink sink;
    struct om_qc_result *res;
};

static void run_deinit(struct run *r)
{
    for (size_t i = 0; r->ld && i < r->nrecs; i++) {
        om_layer_free(r->ld[i].layer);
    }
    om__free(r->ld);
    om__free(r->checked);
    om_layer_records_free(r->recs, r->nrecs);
    om_crs_free(r->crs);
    om_rules_free(r->own_rules);
    om_rules_free(r->own_qrules);
    sink_deinit(&r->sink);
    om_qc_result_free(r->res);
}

static size_t find_rec(const struct run *r, const char *code)
{
    for (size_t i = 0; code && i < r->nrecs; i++) {
        if (om__strcasecmp(r->recs[i].code, code) == 0) {
            return i;
        }
    }
    return OM_QC_NONE;
}

static enum om_status not_found(const struct run *r, const char *code,
                                struct om_error *err)
{
    struct om__buf b;
    om__buf_init(&b, 0);
    for (size_t i = 0; i < r->nrecs; i++) {
        if (om__buf_printf(&b, "%s%s", i ? ", " : "", r->recs[i].code) !=
            OM_OK) {
            break;
        }
    }
    enum om_status st = om__error(
        err, OM_ENOTFOUND, om_project_path(r->p), 0, -1,
        "no layer '%s' in the project (layers: %s)", code ? code : "(null)",
        b.data && b.data[0] ? b.data : "none");
    om__buf_deinit(&b);
    return st;
}

static enum om_status resolve(struct run *r, struct om_error *err)
{
    const struct om_qc_options *opt = r->opt;
    enum om_status st = check_only(opt, err);
    if (st != OM_OK) {
        return st;
    }
    r->rules = opt->rules;
    if (!r->rules) {
        st = om_rules_default(&r->own_rules, err);
        r->rules = r->own_rules;
    }
    if (st != OM_OK) {
        return st;
    }
    r->qrules = r->rules;
    if (!r->rules->qc.present && opt->rules) {
        st = om_rules_default(&r->own_qrules, err);
        r->qrules = r->own_qrules;
    }
    if (st == OM_OK) {
        st = om_project_layers(r->p, false, &r->recs, &r->nrecs, err);
    }
    if (st != OM_OK) {
        return st;
    }
    r->ld = om__calloc(r->nrecs ? r->nrecs : 1, sizeof *r->ld);
    size_t want = opt->nlayers ? opt->nlayers : r->nrecs;
    r->checked = om__calloc(want ? want : 1, sizeof *r->checked);
    if (!r->ld || !r->checked) {
        return om__enomem(err, "qc");
    }
    for (size_t i = 0; i < r->nrecs; i++) {
        const struct om_layer_conf *lc =
            om_rules_layer(r->rules, r->recs[i].code);
        r->ld[i].rec = &r->recs[i];
        r->ld[i].role = lc && lc->role ? lc->role
                        : r->recs[i].role[0]
                            ? r->recs[i].role
                            : om_layer_role_for(r->recs[i].code);
    }
    if (!opt->nlayers) {
        for (size_t i = 0; i < r->nrecs; i++) {
            r->checked[r->nchecked++] = i;
        }
        return OM_OK;
    }
    for (size_t k = 0; k < opt->nlayers; k++) {
        size_t i = find_rec(r, opt->layers ? opt->layers[k] : NULL);
        if (i == OM_QC_NONE) {
            return not_found(r, opt->layers ? opt->layers[k] : NULL, err);
        }
        bool dup = false;
        for (size_t j = 0; j < r->nchecked && !dup; j++) {
            dup = r->checked[j] == i;
        }
        if (!dup) {
            r->checked[r->nchecked++] = i;
        }
    }
    return OM_OK;
}

/* The landuse layer: DLTB if present with that role, else the first
 * layer with role landuse. */
static size_t landuse_index(const struct run *r)
{
    size_t first = OM_QC_NONE;
    for (size_t i = 0; i < r->nrecs; i++) {
        if (strcmp(r->ld[i].role, "landuse") != 0) {
            continue;
        }
        if (om__strcasecmp(r->recs[i].code, "DLTB") == 0) {
            return i;
        }
        if (first == OM_QC_NONE) {
            first = i;
        }
    }
    return first;
}

static bool in_coverage(const struct om_qc_conf *conf, const char *code)
{
    for (size_t i = 0; i < conf->ncoverage; i++) {
        if (om__strcasecmp(conf->coverage[i], code) == 0) {
            return true;
        }
    }
    return false;
}

static enum om_status check_layer(struct run *r, size_t k, size_t ext,
                                  size_t lu, struct om_error *err)
{
    size_t li = r->checked[k];
    struct loaded *ld = &r->ld[li];
    const struct om_qc_conf *conf = &r->qrules->qc;
    struct om__qc_ctx c = {0};
    c.layer = ld->layer;
    c.code = ld->rec->code;
    c.role = ld->role;
    c.schema = om_rules_qc_schema(r->qrules, ld->rec->code);
    c.conf = conf;
    c.rules = r->rules;
    c.crs = r->crs;
    c.threads = r->opt->threads;
    c.progress = r->progress;
    c.sink = &r->sink;
    r->sink.layer = k;
    const struct om_layer *extent =
        ext != OM_QC_NONE && ext != li ? r->ld[ext].layer : NULL;
    const struct om_layer *landuse = lu != OM_QC_NONE ? r->ld[lu].layer : NULL;
    enum om_status st = om__qc_geometry(&c, err);
    if (st == OM_OK) {
        st = om__qc_crs(&c, err);
    }
    if (st == OM_OK) {
        st = om__qc_attributes(&c, err);
    }
    if (st == OM_OK && in_coverage(conf, ld->rec->code)) {
        st = om__qc_topology(&c, extent, err);
    }
    const struct om_layer **others = NULL;
    const char **codes = NULL;
    size_t n = 0;
    if (st == OM_OK) {
        others = om__calloc(r->nrecs ? r->nrecs : 1, sizeof *others);
        codes = om__calloc(r->nrecs ? r->nrecs : 1, sizeof *codes);
        if (!others || !codes) {
            st = om__enomem(err, "qc");
        }
    }
    for (size_t i = 0; st == OM_OK && i < r->nrecs; i++) {
        if (i != li && r->ld[i].layer && is_control(r->ld[i].role)) {
            others[n] = r->ld[i].layer;
            codes[n++] = r->recs[i].code;
        }
    }
    if (st == OM_OK) {
        st = om__qc_between(&c, extent, landuse, others, codes, n, err);
    }
    om__free(others);
    om__free(codes);
    if (st != OM_OK) {
        return st;
    }
    struct om_qc_layer *ly = &r->res->layers[k];
    ly->nbad_features = take_bad(&r->sink);
    ly->nfeatures = om_layer_nfeatures(ld->layer);
    if (ly->nbad_features > ly->nfeatures) {
        ly->nbad_features = ly->nfeatures;
    }
    double score =
        ly->nfeatures
            ? 100.0 * (1.0 - (double)ly->nbad_features / (double)ly->nfeatures)
            : 100.0;
    score -= 10.0 * (double)r->sink.nlevel;
    ly->score = score < 0 ? 0 : score;
    r->sink.nlevel = 0;
    return OM_OK;
}

static enum om_status run_checks(struct run *r, struct om_error *err)
{
    const char *pcrs = om_project_crs(r->p);
    enum om_status st = OM_OK;
    if (pcrs) {
        st = om_crs_new(pcrs, &r->crs, err);
    }
    if (st != OM_OK) {
        return st;
    }
    r->res = om__calloc(1, sizeof *r->res);
    if (r->res) {
        r->res->layers =
            om__calloc(r->nchecked ? r->nchecked : 1, sizeof *r->res->layers);
    }
    r->sink.counts = om__calloc(r->nchecked ? r->nchecked * NCHECK : 1,
                                sizeof(struct count));
    if (!r->res || !r->res->layers || !r->sink.counts) {
        return om__enomem(err, "qc");
    }
    r->sink.nlayers = r->nchecked;
    for (size_t k = 0; k < r->nchecked; k++) {
        struct om_qc_layer *ly = &r->res->layers[k];
        const struct om_layer_record *rec = r->ld[r->checked[k]].rec;
        if (!(ly->code = om__strdup(rec->code))) {
            return om__enomem(err, "qc");
        }
        r->res->nlayers = k + 1;
        ly->version = rec->version;
    }
    /* read each layer once: the checked ones, the extent, the landuse
     * layer and the control lines */
    const struct om_qc_conf *conf = &r->qrules->qc;
    size_t ext = find_rec(r, conf->extent_layer);
    size_t lu = landuse_index(r);
    for (size_t k = 0; st == OM_OK && k < r->nchecked; k++) {
        st = load(r->p, &r->ld[r->checked[k]], r->progress, err);
    }
    if (st == OM_OK && ext != OM_QC_NONE) {
        st = load(r->p, &r->ld[ext], r->progress, err);
    }
    if (st == OM_OK && lu != OM_QC_NONE) {
        st = load(r->p, &r->ld[lu], r->progress, err);
    }
    for (size_t i = 0; st == OM_OK && i < r->nrecs; i++) {
        if (is_control(r->ld[i].role)) {
            st = load(r->p, &r->ld[i], r->progress, err);
        }
    }
    for (size_t k = 0; st == OM_OK && k < r->nchecked; k++) {
        if (om__progress_force(r->progress, "checking", k, r->nchecked)) {
            st = om__error(err, OM_ECANCELED, "qc", 0, -1, "qc canceled");
            break;
        }
        st = check_layer(r, k, ext, lu, err);
    }
    if (st == OM_OK) {
        om__progress_force(r->progress, "checking", r->nchecked, r->nchecked);
    }
    if (st == OM_OK) {
        st = finish_result(&r->sink, r->res, pcrs, err);
    }
    return st;
}

/* ---- JSON ---- */

/* ,"key": then a string / number / fid (null when negative) */
static enum om_status jkstr(struct om__buf *b, const char *key, const char *s)
{
    enum om_status st = om__buf_printf(b, ",\"%s\":", key);
    return st == OM_OK ? om__json_str(b, s) : st;
}

static enum om_status jknum(struct om__buf *b, const char *key, double x,
                            int dec)
{
    enum om_status st = om__buf_printf(b, ",\"%s\":", key);
    return st == OM_OK ? om__json_num(b, x, dec) : st;
}

static enum om_status jkfid(struct om__buf *b, const char *key, int64_t fid)
{
    if (fid < 0) {
        return om__buf_printf(b, ",\"%s\":null", key);
    }
    return om__buf_printf(b, ",\"%s\":%" PRId64, key, fid);
}

static enum om_status json_layers(struct om__buf *b,
                                  const struct om_qc_result *res)
{
    enum om_status st = om__buf_puts(b, "[");
    for (size_t i = 0; st == OM_OK && i < res->nlayers; i++) {
        const struct om_qc_layer *l = &res->layers[i];
        st = om__buf_puts(b, i ? ",{\"code\":" : "{\"code\":");
        if (st == OM_OK) {
            st = om__json_str(b, l->code);
        }
        if (st == OM_OK) {
            st = om__buf_printf(b,
                                ",\"version\":%d,\"nfeatures\":%zu,"
                                "\"nerrors\":%zu,\"nwarnings\":%zu,"
                                "\"ninfos\":%zu,\"nbad_features\":%zu",
                                l->version, l->nfeatures, l->nerrors,
                                l->nwarnings, l->ninfos, l->nbad_features);
        }
        if (st == OM_OK) {
            st = jknum(b, "score", l->score, 6);
        }
        if (st == OM_OK) {
            st = om__buf_puts(b, "}");
        }
    }
    return st == OM_OK ? om__buf_puts(b, "]") : st;
}

static enum om_status json_counts(struct om__buf *b,
                                  const struct om_qc_result *res)
{
    enum om_status st = om__buf_puts(b, "[");
    for (size_t i = 0; st == OM_OK && i < res->ncounts; i++) {
        const struct om_qc_count *c = &res->counts[i];
        const struct om_qc_check *ck = om_qc_check_find(c->code);
        st = om__buf_puts(b, i ? ",{\"layer\":" : "{\"layer\":");
        if (st == OM_OK) {
            st = om__json_str(b, c->layer);
        }
        if (st == OM_OK) {
            st = jkstr(b, "code", c->code);
        }
        if (st == OM_OK) {
            st = jkstr(b, "severity",
                       om_severity_name(ck ? ck->severity : OM_SEV_ERROR));
        }
        if (st == OM_OK) {
            st = om__buf_printf(b, ",\"count\":%zu,\"listed\":%zu", c->count,
                                c->listed);
        }
        if (st == OM_OK) {
            st = jknum(b, "area_m2", c->area_m2, 9);
        }
        if (st == OM_OK) {
            st = om__buf_puts(b, "}");
        }
    }
    return st == OM_OK ? om__buf_puts(b, "]") : st;
}

static enum om_status json_error(struct om__buf *b, const struct om_qc_error *e)
{
    enum om_status st = om__buf_puts(b, "{\"code\":");
    if (st == OM_OK) {
        st = om__json_str(b, e->code);
    }
    if (st == OM_OK) {
        st = jkstr(b, "severity", om_severity_name(e->severity));
    }
    if (st == OM_OK) {
        st = jkstr(b, "layer", e->layer);
    }
    if (st == OM_OK) {
        st = jkfid(b, "fid", e->fid);
    }
    if (st == OM_OK) {
        st = jkfid(b, "fid2", e->fid2);
    }
    if (st == OM_OK) {
        st = jknum(b, "x", e->x, 6);
    }
    if (st == OM_OK) {
        st = jknum(b, "y", e->y, 6);
    }
    if (st == OM_OK) {
        st = jknum(b, "area_m2", e->area_m2, 9);
    }
    if (st == OM_OK) {
        st = jknum(b, "value", e->value, 6);
    }
    if (st == OM_OK) {
        st = jkstr(b, "field", e->field);
    }
    if (st == OM_OK) {
        st = jkstr(b, "message_zh", e->zh);
    }
    if (st == OM_OK) {
        st = jkstr(b, "message_en", e->en);
    }
    if (st == OM_OK) {
        st = e->polygon == OM_QC_NONE
                 ? om__buf_puts(b, ",\"polygon\":null}")
                 : om__buf_printf(b, ",\"polygon\":%zu}", e->polygon);
    }
    return st;
}

enum om_status om_qc_result_json(const struct om_qc_result *res, char **out,
                                 size_t *len, struct om_error *err)
{
    if (!out || !res) {
        if (out) {
            *out = NULL;
        }
        return om__error(err, OM_EINVAL, "qc", 0, -1,
                         "om_qc_result_json: NULL result or output");
    }
    *out = NULL;
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st =
        om__buf_printf(&b, "{\"onemap\":\"%s\",\"run_id\":%" PRId64,
                       om_version(), res->run_id);
    if (st == OM_OK) {
        st = jknum(&b, "elapsed_s", res->elapsed_s, 3);
    }
    if (st == OM_OK) {
        st = om__buf_printf(&b,
                            ",\"nerror_findings\":%zu,\"truncated\":%s,"
                            "\"layers\":",
                            res->nerror_findings,
                            res->truncated ? "true" : "false");
    }
    if (st == OM_OK) {
        st = json_layers(&b, res);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&b, ",\"counts\":");
    }
    if (st == OM_OK) {
        st = json_counts(&b, res);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&b, ",\"errors\":[");
    }
    for (size_t i = 0; st == OM_OK && i < res->nerrors; i++) {
        st = i ? om__buf_puts(&b, ",") : OM_OK;
        if (st == OM_OK) {
            st = json_error(&b, &res->errors[i]);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(&b, "]}");
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return st == OM_ENOMEM
                   ? om__enomem(err, "qc")
                   : om__error(err, st, "qc", 0, -1, "qc JSON too large");
    }
    if (len) {
        *len = b.len;
    }
    *out = om__buf_take(&b);
    return OM_OK;
}

/* ---- storing ---- */

/* Numbers and fids as cell text, in an arena. NULL for none. */
static const char *cell_num(struct om__arena *a, double x, bool *oom)
{
    if (!isfinite(x)) {
        return NULL;
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.17g", x);
    if (!strpbrk(tmp, ".eE")) {
        /* "900.0", not "900": the column is REAL, not INTEGER */
        size_t n = strlen(tmp);
        memcpy(tmp + n, ".0", 3);
    }
    char *s = om__arena_strdup(a, tmp);
    *oom |= !s;
    return s;
}

static const char *cell_fid(struct om__arena *a, int64_t fid, bool *oom)
{
    if (fid < 0) {
        return NULL;
    }
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%" PRId64, fid);
    char *s = om__arena_strdup(a, tmp);
    *oom |= !s;
    return s;
}

static enum om_status params_json(const struct run *r, struct om__buf *b)
{
    enum om_status st = om__buf_puts(b, "{\"layers\":[");
    for (size_t k = 0; st == OM_OK && k < r->nchecked; k++) {
        st = k ? om__buf_puts(b, ",") : OM_OK;
        if (st == OM_OK) {
            st = om__json_str(b, r->recs[r->checked[k]].code);
        }
    }
    st = st == OM_OK ? om__buf_puts(b, "],\"only\":") : st;
    if (st == OM_OK && !r->sink.nonly) {
        st = om__buf_puts(b, "null");
    } else if (st == OM_OK) {
        st = om__buf_puts(b, "[");
        for (size_t k = 0; st == OM_OK && k < r->sink.nonly; k++) {
            st = k ? om__buf_puts(b, ",") : OM_OK;
            if (st == OM_OK) {
                st = om__json_str(b, r->sink.only[k]);
            }
        }
        st = st == OM_OK ? om__buf_puts(b, "]") : st;
    }
    if (st == OM_OK) {
        st = om__buf_printf(b, ",\"max_per_check\":%zu,\"threads\":%d}",
                            r->sink.max_per_check, r->opt->threads);
    }
    return st;
}

static enum om_status summary_json(const struct om_qc_result *res,
                                   struct om__buf *b)
{
    enum om_status st = om__buf_printf(
        b,
        "{\"nerror_findings\":%zu,\"nerrors\":%zu,\"truncated\":%s,"
        "\"layers\":",
        res->nerror_findings, res->nerrors, res->truncated ? "true" : "false");
    if (st == OM_OK) {
        st = json_layers(b, res);
    }
    return st == OM_OK ? om__buf_puts(b, "}") : st;
}

static const char *const ERR_COLS[] = {
    "code",    "severity", "layer", "fid",        "fid2",
    "area_m2", "value",    "field", "message_zh", "message_en"};
#define NERR_COLS (sizeof ERR_COLS / sizeof ERR_COLS[0])

static const char *const SUM_COLS[] = {
    "layer",   "code",           "severity",       "count",      "listed",
    "area_m2", "description_zh", "description_en", "layer_score"};
#define NSUM_COLS (sizeof SUM_COLS / sizeof SUM_COLS[0])

static enum om_status error_cells(const struct om_qc_result *res,
                                  struct om__arena *a, const char ***cells,
                                  double **xy)
{
    size_t n = res->nerrors;
    *cells = om__calloc(n ? n * NERR_COLS : 1, sizeof **cells);
    *xy = om__calloc(n ? 2 * n : 1, sizeof **xy);
    if (!*cells || !*xy) {
        return OM_ENOMEM;
    }
    bool oom = false;
    for (size_t i = 0; i < n; i++) {
        const struct om_qc_error *e = &res->errors[i];
        const char **c = *cells + i * NERR_COLS;
        (*xy)[2 * i] = e->x;
        (*xy)[2 * i + 1] = e->y;
        c[0] = e->code;
        c[1] = om_severity_name(e->severity);
        c[2] = e->layer;
        c[3] = cell_fid(a, e->fid, &oom);
        c[4] = cell_fid(a, e->fid2, &oom);
        c[5] = cell_num(a, e->area_m2, &oom);
        c[6] = cell_num(a, e->value, &oom);
        c[7] = e->field;
        c[8] = e->zh;
        c[9] = e->en;
    }
    return oom ? OM_ENOMEM : OM_OK;
}

/* One row per (layer, code) count; a layer without findings gets one row
 * with code NULL so that every checked layer shows its score. */
static enum om_status summary_cells(const struct om_qc_result *res,
                                    struct om__arena *a, const char ***cells,
                                    size_t *nrows)
{
    size_t n = res->ncounts + res->nlayers;
    *cells = om__calloc(n * NSUM_COLS + 1, sizeof **cells);
    if (!*cells) {
        return OM_ENOMEM;
    }
    bool oom = false;
    size_t row = 0, ci = 0;
    for (size_t l = 0; l < res->nlayers; l++) {
        const struct om_qc_layer *ly = &res->layers[l];
        const char *score = cell_num(a, ly->score, &oom);
        bool any = false;
        for (; ci < res->ncounts && res->counts[ci].layer == ly->code; ci++) {
            const struct om_qc_count *c = &res->counts[ci];
            const struct om_qc_check *ck = om_qc_check_find(c->code);
            const char **r = *cells + row++ * NSUM_COLS;
            any = true;
            r[0] = ly->code;
            r[1] = c->code;
            r[2] = om_severity_name(ck->severity);
            r[3] = cell_fid(a, (int64_t)c->count, &oom);
            r[4] = cell_fid(a, (int64_t)c->listed, &oom);
            r[5] = cell_num(a, c->area_m2, &oom);
            r[6] = ck->zh;
            r[7] = ck->en;
            r[8] = score;
        }
        if (!any) {
            const char **r = *cells + row++ * NSUM_COLS;
            r[0] = ly->code;
            r[3] = "0";
            r[4] = "0";
            r[6] = "未发现问题";
            r[7] = "no findings";
            r[8] = score;
        }
    }
    *nrows = row;
    return oom ? OM_ENOMEM : OM_OK;
}

static enum om_status store(struct run *r, const char *started,
                            struct om_error *err)
{
    const struct om_qc_result *res = r->res;
    struct om__buf pj, sj;
    om__buf_init(&pj, 0);
    om__buf_init(&sj, 0);
    struct om__arena a;
    om__arena_init(&a);
    const char **ecells = NULL, **scells = NULL;
    double *xy = NULL;
    size_t nsum = 0;
    struct om_run_input *in =
        om__calloc(r->nchecked ? r->nchecked : 1, sizeof *in);
    enum om_status st = in ? params_json(r, &pj) : OM_ENOMEM;
    if (st == OM_OK) {
        st = summary_json(res, &sj);
    }
    if (st == OM_OK) {
        st = error_cells(res, &a, &ecells, &xy);
    }
    if (st == OM_OK) {
        st = summary_cells(res, &a, &scells, &nsum);
    }
    if (st != OM_OK) {
        st = om__enomem(err, "qc");
    }
    struct om_run *run = NULL;
    if (st == OM_OK) {
        for (size_t k = 0; k < r->nchecked; k++) {
            const struct om_layer_record *rec = &r->recs[r->checked[k]];
            in[k].code = rec->code;
            in[k].version = rec->version;
            in[k].sha256 = rec->sha256;
        }
        struct om_run_begin b = {0};
        b.kind = "qc";
        b.params_json = pj.data;
        b.rules_source = r->rules->source;
        b.rules_sha256 = r->rules->sha256;
        b.inputs = in;
        b.ninputs = r->nchecked;
        b.started_at = started;
        st = om_run_begin(r->p, &b, &run, err);
    }
    if (st == OM_OK) {
        r->res->run_id = om_run_id(run);
        st = om_run_write_points(run, "QC_ERRORS", xy, res->nerrors, ERR_COLS,
                                 NERR_COLS, ecells, err);
    }
    if (st == OM_OK) {
        st = om_run_write_layer(run, "QC_AREAS", res->polygons, r->progress,
                                err);
    }
    if (st == OM_OK) {
        st = om_run_write_table(run, "QC_SUMMARY", SUM_COLS, NSUM_COLS, scells,
                                nsum, err);
    }
    if (st == OM_OK) {
        st = om_run_commit(run, sj.data, err);
        run = NULL;
    }
    om_run_abort(run);
    if (st != OM_OK) {
        r->res->run_id = 0;
    }
    om__free(in);
    om__free(ecells);
    om__free(scells);
    om__free(xy);
    om__arena_deinit(&a);
    om__buf_deinit(&pj);
    om__buf_deinit(&sj);
    return st;
}

enum om_status om_qc_run(struct om_project *p, const struct om_qc_options *opt,
                         bool store_it, struct om_qc_result **out,
                         const struct om_progress *progress,
                         struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (!p || !out) {
        return om__error(err, OM_EINVAL, "qc", 0, -1,
                         "om_qc_run: NULL project or output");
    }
    double t0 = now_s();
    char started[32];
    om_run_now(started);
    struct om_qc_options none = {0};
    struct run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.opt = opt ? opt : &none;
    r.progress = progress;
    r.sink.progress = progress;
    r.sink.only = r.opt->only;
    r.sink.nonly = r.opt->only ? r.opt->nonly : 0;
    r.sink.max_per_check = r.opt->max_per_check ? r.opt->max_per_check : 100000;
    enum om_status st = resolve(&r, err);
    if (st == OM_OK) {
        st = run_checks(&r, err);
    }
    if (st == OM_OK && store_it) {
        st = store(&r, started, err);
    }
    if (st == OM_OK) {
        r.res->elapsed_s = now_s() - t0;
        *out = r.res;
        r.res = NULL;
    }
    run_deinit(&r);
    return st;
}
