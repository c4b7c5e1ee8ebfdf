/*
 * conflicts.c — multi-plan conflict detection: rules → overlay pieces →
 * a patches layer, a rule × admin-unit summary and (optionally) a stored
 * run. See onemap/conflicts.h.
 */
#include "onemap/conflicts.h"

#include "core/core.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/overlay.h"
#include "onemap/rules.h"
#include "onemap/store.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Patch attribute columns, in order. */
enum {
    F_RULE,
    F_SEVERITY,
    F_KIND,
    F_A_LAYER,
    F_A_FID,
    F_A_KEYS,
    F_B_LAYER,
    F_B_FID,
    F_B_KEYS,
    F_UNIT_CODE,
    F_UNIT_NAME,
    F_AREA,
    F_AREA_ELL,
    F_DESC_ZH,
    F_DESC_EN,
    NFIELDS
};

static const struct {
    const char *name;
    enum om_field_type type;
} fields[NFIELDS] = {
    {"rule_id", OM_FIELD_TEXT},     {"severity", OM_FIELD_TEXT},
    {"kind", OM_FIELD_TEXT},        {"a_layer", OM_FIELD_TEXT},
    {"a_fid", OM_FIELD_INT},        {"a_keys", OM_FIELD_TEXT},
    {"b_layer", OM_FIELD_TEXT},     {"b_fid", OM_FIELD_INT},
    {"b_keys", OM_FIELD_TEXT},      {"unit_code", OM_FIELD_TEXT},
    {"unit_name", OM_FIELD_TEXT},   {"area_m2", OM_FIELD_REAL},
    {"area_ell_m2", OM_FIELD_REAL}, {"desc_zh", OM_FIELD_TEXT},
    {"desc_en", OM_FIELD_TEXT},
};

/* Layers read once per run. */
struct cached {
    char *code;
    struct om_layer *layer;
    int version;
    char sha256[65];
    int keys[8]; /* key field indices */
    int nkeys;
};

struct run {
    struct om_project *p;
    const struct om_rules *rules;
    const struct om_conflicts_options *opt;
    struct cached *cache;
    size_t ncache, cap_cache;
    const struct om_progress *progress;
    struct om_crs *crs;
    /* units */
    const struct om_layer *units;
    int unit_code_f, unit_name_f;
    char *admin_layer;
    /* output */
    struct om_layer *patches;
    int64_t next_fid;
    int64_t nslivers;
    struct om_conflict_summary *summary;
    size_t nsummary, cap_summary;
    char **skipped;
    size_t nskipped, cap_skipped;
    /* current rule */
    const struct om_rule *rule;
    const struct cached *la, *lb; /* overlay A and B */
    bool swapped;                 /* must_cover: overlay A is the rule's B */
    double min_area, min_width;
};

static const char *default_keys[] = {"BSM",  "TBBH",     "DLBM", "DLMC",
                                     "YSDM", "YDYHFLDM", "HXMC", "XZQDM"};

static enum om_status get_layer(struct run *r, const char *code,
                                const struct cached **out, struct om_error *err)
{
    for (size_t i = 0; i < r->ncache; i++) {
        if (om__strcasecmp(r->cache[i].code, code) == 0) {
            *out = &r->cache[i];
            return OM_OK;
        }
    }
    if (!OM__GROW(r->cache, r->cap_cache, r->ncache + 1)) {
        return om__enomem(err, code);
    }
    struct cached *c = &r->cache[r->ncache];
    memset(c, 0, sizeof *c);
    struct om_layer_record rec;
    enum om_status st = om_project_layer_record(r->p, code, 0, &rec, err);
    if (st != OM_OK) {
        return st;
    }
    c->version = rec.version;
    om__strlcpy(c->sha256, rec.sha256, sizeof c->sha256);
    om_layer_record_deinit(&rec);
    st = om_project_read(r->p, code, c->version, &c->layer, r->progress, err);
    if (st != OM_OK) {
        return st;
    }
    c->code = om__strdup(code);
    if (!c->code) {
        om_layer_free(c->layer);
        return om__enomem(err, code);
    }
    /* Key attributes: from the rule file's layer section, else the usual
     * identifying fields that exist. */
    const struct om_layer_conf *conf = om_rules_layer(r->rules, code);
    if (conf && conf->nkeys) {
        for (size_t k = 0; k < conf->nkeys && c->nkeys < 8; k++) {
            int fi = om_layer_field_index(c->layer, conf->keys[k]);
            if (fi >= 0) {
                c->keys[c->nkeys++] = fi;
            }
        }
    } else {
        for (size_t k = 0;
             k < sizeof default_keys / sizeof *default_keys && c->nkeys < 4;
             k++) {
            int fi = om_layer_field_index(c->layer, default_keys[k]);
            if (fi >= 0) {
                c->keys[c->nkeys++] = fi;
            }
        }
        /* No usual identifier: the first two attributes. */
        if (c->nkeys == 0) {
            for (int k = 0; k < 2 && (size_t)k < om_layer_nfields(c->layer);
                 k++) {
                c->keys[c->nkeys++] = k;
            }
        }
    }
    r->ncache++;
    *out = c;
    return OM_OK;
}

/* {"BSM":"...","DLBM":"..."} of feature f. */
static enum om_status keys_json(const struct cached *c, size_t f,
                                struct om__buf *b)
{
    om__buf_reset(b);
    enum om_status st = om__buf_puts(b, "{");
    char val[512];
    for (int k = 0; st == OM_OK && k < c->nkeys; k++) {
        const char *name = om_layer_field_name(c->layer, c->keys[k]);
        om_layer_format_value(c->layer, f, c->keys[k], val, sizeof val);
        st = om__buf_printf(b, "%s\"%s\":\"", k ? "," : "", name);
        for (const char *s = val; st == OM_OK && *s; s++) {
            if (*s == '"' || *s == '\\') {
                st = om__buf_printf(b, "\\%c", *s);
            } else if ((unsigned char)*s < 0x20) {
                st = om__buf_printf(b, "\\u%04x", (unsigned)*s);
            } else {
                st = om__buf_append(b, s, 1);
            }
        }
        if (st == OM_OK) {
            st = om__buf_puts(b, "\"");
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "}");
    }
    return st;
}

static double feature_perimeter(const struct om_layer_view *v, size_t f)
{
    double per = 0.0;
    size_t p0 = v->part_start[f], p1 = v->part_start[f + 1];
    if (p1 == p0) {
        return 0.0;
    }
    for (size_t r = v->ring_start[p0]; r < v->ring_start[p1]; r++) {
        for (size_t i = v->point_start[r]; i + 1 < v->point_start[r + 1]; i++) {
            per += hypot(v->xy[2 * i + 2] - v->xy[2 * i],
                         v->xy[2 * i + 3] - v->xy[2 * i + 1]);
        }
    }
    return per;
}

static enum om_status add_summary(struct run *r, const char *unit_code,
                                  const char *unit_name, double planar,
                                  double ell, struct om_error *err)
{
    struct om_conflict_summary *s = NULL;
    for (size_t i = r->nsummary; i-- > 0;) {
        struct om_conflict_summary *c = &r->summary[i];
        if (strcmp(c->rule_id, r->rule->id) != 0) {
            break; /* rows of the current rule are at the end */
        }
        if (strcmp(c->unit_code, unit_code) == 0) {
            s = c;
            break;
        }
    }
    if (!s) {
        if (!OM__GROW(r->summary, r->cap_summary, r->nsummary + 1)) {
            return om__enomem(err, NULL);
        }
        s = &r->summary[r->nsummary];
        memset(s, 0, sizeof *s);
        s->rule_id = om__strdup(r->rule->id);
        s->severity = om__strdup(om_severity_name(r->rule->severity));
        s->unit_code = om__strdup(unit_code);
        s->unit_name = om__strdup(unit_name);
        r->nsummary++;
        if (!s->rule_id || !s->severity || !s->unit_code || !s->unit_name) {
            return om__enomem(err, NULL);
        }
    }
    s->npatches++;
    s->planar_m2 += planar;
    s->ellipsoidal_m2 += ell;
    return OM_OK;
}

static enum om_status on_piece(void *ctx, const struct om_overlay_piece *pc,
                               struct om_error *err)
{
    struct run *r = ctx;
    const struct om_rule *rule = r->rule;
    if (pc->planar_m2 < r->min_area) {
        r->nslivers++;
        return OM_OK;
    }
    if (r->min_width > 0 && pc->geom) {
        double per = feature_perimeter(pc->geom, pc->geom_feature);
        if (per > 0 && 2 * pc->planar_m2 / per < r->min_width) {
            r->nslivers++;
            return OM_OK;
        }
    }
    const char *ucode = "", *uname = "";
    char cbuf[128], nbuf[256];
    if (r->units && pc->unit != OM_OVERLAY_NONE) {
        ucode = om_layer_format_value(r->units, pc->unit, r->unit_code_f, cbuf,
                                      sizeof cbuf);
        uname = r->unit_name_f >= 0
                    ? om_layer_format_value(r->units, pc->unit, r->unit_name_f,
                                            nbuf, sizeof nbuf)
                    : "";
    }
    struct om_layer *l = r->patches;
    enum om_status st = om_layer_begin_feature(l, ++r->next_fid, err);
    const struct om_layer_view *g = pc->geom;
    size_t gf = pc->geom_feature;
    for (size_t q = g ? g->part_start[gf] : 0;
         st == OM_OK && g && q < g->part_start[gf + 1]; q++) {
        st = om_layer_begin_part(l, err);
        for (size_t k = g->ring_start[q];
             st == OM_OK && k < g->ring_start[q + 1]; k++) {
            size_t a = g->point_start[k], b = g->point_start[k + 1];
            st = om_layer_add_ring(l, g->xy + 2 * a, b - a, err);
        }
    }
    /* The rule's A and B sides: for must_cover the overlay ran B \ A. */
    const struct cached *ra = r->swapped ? r->lb : r->la;
    const struct cached *rb = r->swapped ? r->la : r->lb;
    size_t fa = r->swapped ? pc->b : pc->a;
    size_t fb = r->swapped ? pc->a : pc->b;
    struct om__buf kb;
    om__buf_init(&kb, 1 << 16);
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_RULE, rule->id, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_SEVERITY, om_severity_name(rule->severity),
                               err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_KIND, om_rule_kind_name(rule->kind), err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_A_LAYER, ra->code, err);
    }
    if (st == OM_OK && fa != OM_OVERLAY_NONE) {
        struct om_layer_view v;
        om_layer_view(ra->layer, &v);
        st = om_layer_set_int(l, F_A_FID, v.fid[fa], err);
        if (st == OM_OK) {
            st = keys_json(ra, fa, &kb) == OM_OK
                     ? om_layer_set_text(l, F_A_KEYS, kb.data, err)
                     : om__enomem(err, NULL);
        }
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_B_LAYER, rb->code, err);
    }
    if (st == OM_OK && fb != OM_OVERLAY_NONE) {
        struct om_layer_view v;
        om_layer_view(rb->layer, &v);
        st = om_layer_set_int(l, F_B_FID, v.fid[fb], err);
        if (st == OM_OK) {
            st = keys_json(rb, fb, &kb) == OM_OK
                     ? om_layer_set_text(l, F_B_KEYS, kb.data, err)
                     : om__enomem(err, NULL);
        }
    }
    om__buf_deinit(&kb);
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_UNIT_CODE, ucode, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_UNIT_NAME, uname, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_real(l, F_AREA, pc->planar_m2, err);
    }
    if (st == OM_OK && isfinite(pc->ellipsoidal_m2)) {
        st = om_layer_set_real(l, F_AREA_ELL, pc->ellipsoidal_m2, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_DESC_ZH, rule->zh, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, F_DESC_EN, rule->en, err);
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    } else {
        om_layer_abort_feature(l);
    }
    if (st == OM_OK) {
        st = add_summary(
            r, ucode, uname, pc->planar_m2,
            isfinite(pc->ellipsoidal_m2) ? pc->ellipsoidal_m2 : 0.0, err);
    }
    return st;
}

static enum om_status skip(struct run *r, const char *rule_id, const char *why,
                           struct om_error *err)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s: %s", rule_id, why);
    if (!OM__GROW(r->skipped, r->cap_skipped, r->nskipped + 1)) {
        return om__enomem(err, NULL);
    }
    r->skipped[r->nskipped] = om__strdup(msg);
    if (!r->skipped[r->nskipped]) {
        return om__enomem(err, NULL);
    }
    r->nskipped++;
    return OM_OK;
}

static enum om_status run_rule(struct run *r, const struct om_rule *rule,
                               struct om_error *err)
{
    const struct cached *a = NULL, *b = NULL;
    enum om_status st = get_layer(r, rule->a.layer, &a, err);
    if (st == OM_OK) {
        st = get_layer(r, rule->b.layer, &b, err);
    }
    if (st == OM_ENOTFOUND && r->opt->skip_missing) {
        char why[OM_ERROR_MSG_MAX];
        om__strlcpy(why, err ? err->msg : "layer missing", sizeof why);
        om_error_clear(err);
        return skip(r, rule->id, why, err);
    }
    if (st != OM_OK) {
        om__error_prefix(err, "rule %s", rule->id);
        return st;
    }
    uint8_t *ma = NULL, *mb = NULL;
    size_t na = 0, nb = 0;
    st = om_rule_side_select(rule, &rule->a, a->layer, &ma, &na, err);
    if (st == OM_OK) {
        st = om_rule_side_select(rule, &rule->b, b->layer, &mb, &nb, err);
    }
    if (st != OM_OK) {
        om__free(ma);
        om__free(mb);
        return st;
    }
    r->rule = rule;
    r->swapped = rule->kind == OM_RULE_MUST_COVER;
    r->la = r->swapped ? b : a;
    r->lb = r->swapped ? a : b;
    r->min_area =
        r->opt->min_area_m2 >= 0 ? r->opt->min_area_m2 : rule->min_area_m2;
    r->min_width = rule->min_width_m;
    struct om_overlay_options o;
    memset(&o, 0, sizeof o);
    o.a = r->la->layer;
    o.b = r->lb->layer;
    o.a_mask = r->swapped ? mb : ma;
    o.b_mask = r->swapped ? ma : mb;
    o.units = r->units;
    o.inside = rule->kind == OM_RULE_MUST_NOT_OVERLAP;
    o.outside = !o.inside;
    o.want_geometry = true;
    o.ellipsoidal = r->crs != NULL;
    o.crs = r->crs;
    o.min_area_m2 = 0; /* slivers are counted here */
    o.threads = r->opt->threads;
    st = om_overlay_run(&o, on_piece, r, r->progress, err);
    om__free(ma);
    om__free(mb);
    if (st != OM_OK) {
        om__error_prefix(err, "rule %s", rule->id);
    }
    return st;
}

void om_conflicts_result_free(struct om_conflicts_result *res)
{
    if (!res) {
        return;
    }
    om_layer_free(res->patches);
    for (size_t i = 0; i < res->nsummary; i++) {
        om__free(res->summary[i].rule_id);
        om__free(res->summary[i].severity);
        om__free(res->summary[i].unit_code);
        om__free(res->summary[i].unit_name);
    }
    om__free(res->summary);
    for (size_t i = 0; i < res->nskipped; i++) {
        om__free(res->skipped[i]);
    }
    om__free(res->skipped);
    om__free(res->admin_layer);
    om__free(res);
}

/* Admin units: the rule file's admin section, else XZQ when present. */
static enum om_status find_units(struct run *r, struct om_error *err)
{
    const char *code = r->rules->admin_layer ? r->rules->admin_layer : "XZQ";
    struct om_layer_record rec;
    struct om_error e2;
    enum om_status st = om_project_layer_record(r->p, code, 0, &rec, &e2);
    if (st == OM_ENOTFOUND && !r->rules->admin_layer) {
        return OM_OK; /* no units: results are not split */
    }
    if (st != OM_OK) {
        if (err) {
            *err = e2;
        }
        return st;
    }
    const char *cf =
        r->rules->admin_code ? r->rules->admin_code : rec.code_field;
    const char *nf =
        r->rules->admin_name ? r->rules->admin_name : rec.name_field;
    const struct cached *c = NULL;
    st = get_layer(r, code, &c, err);
    if (st == OM_OK) {
        r->units = c->layer;
        r->unit_code_f = om_layer_field_index(c->layer, cf ? cf : "XZQDM");
        r->unit_name_f = om_layer_field_index(c->layer, nf ? nf : "XZQMC");
        if (r->unit_code_f < 0) {
            st = om__error(err, OM_ENOTFOUND, code, 0, -1,
                           "admin layer %s has no code field '%s'; set "
                           "admin: {code: ...} in the rule file or import it "
                           "with --code-field",
                           code, cf ? cf : "XZQDM");
        }
        r->admin_layer = om__strdup(code);
        if (st == OM_OK && !r->admin_layer) {
            st = om__enomem(err, code);
        }
    }
    om_layer_record_deinit(&rec);
    return st;
}

static enum om_status store_run(struct run *r, struct om_conflicts_result *res,
                                struct om_error *err)
{
    struct om_run_input *in = om__calloc(r->ncache ? r->ncache : 1, sizeof *in);
    if (!in) {
        return om__enomem(err, NULL);
    }
    for (size_t i = 0; i < r->ncache; i++) {
        in[i].code = r->cache[i].code;
        in[i].version = r->cache[i].version;
        in[i].sha256 = r->cache[i].sha256;
    }
    char params[256];
    snprintf(params, sizeof params,
             "{\"only_rule\":%s%s%s,\"min_area_m2\":%g,\"threads\":%d}",
             r->opt->only_rule ? "\"" : "",
             r->opt->only_rule ? r->opt->only_rule : "null",
             r->opt->only_rule ? "\"" : "", r->opt->min_area_m2,
             r->opt->threads);
    struct om_run_begin b;
    memset(&b, 0, sizeof b);
    b.kind = "conflicts";
    b.params_json = params;
    b.rules_source = r->rules->source;
    b.rules_sha256 = r->rules->sha256;
    b.inputs = in;
    b.ninputs = r->ncache;
    struct om_run *run = NULL;
    enum om_status st = om_run_begin(r->p, &b, &run, err);
    om__free(in);
    if (st != OM_OK) {
        return st;
    }
    st = om_run_write_layer(run, "CONFLICTS", res->patches, r->progress, err);
    /* The summary as an attribute table. */
    size_t n = res->nsummary;
    const char *cols[] = {"rule_id", "severity", "unit_code",  "unit_name",
                          "patches", "area_m2",  "area_ell_m2"};
    char **cells = NULL;
    char(*nums)[3][32] = NULL;
    if (st == OM_OK && n > 0) {
        cells = om__calloc(n * 7, sizeof *cells);
        nums = om__calloc(n, sizeof *nums);
        if (!cells || !nums) {
            st = om__enomem(err, NULL);
        }
        for (size_t i = 0; st == OM_OK && i < n; i++) {
            const struct om_conflict_summary *s = &res->summary[i];
            snprintf(nums[i][0], 32, "%lld", (long long)s->npatches);
            snprintf(nums[i][1], 32, "%.6f", s->planar_m2);
            snprintf(nums[i][2], 32, "%.6f", s->ellipsoidal_m2);
            const char *row[7] = {s->rule_id,   s->severity, s->unit_code,
                                  s->unit_name, nums[i][0],  nums[i][1],
                                  nums[i][2]};
            memcpy(cells + 7 * i, row, sizeof row);
        }
        if (st == OM_OK) {
            st = om_run_write_table(run, "CONFLICTS_SUMMARY", cols, 7,
                                    (const char *const *)cells, n, err);
        }
    }
    om__free(cells);
    om__free(nums);
    if (st == OM_OK) {
        char summary[256];
        snprintf(summary, sizeof summary,
                 "{\"rules\":%zu,\"patches\":%zu,\"slivers\":%lld,"
                 "\"skipped\":%zu}",
                 r->rules->nrules, om_layer_nfeatures(res->patches),
                 (long long)res->nslivers, res->nskipped);
        res->run_id = om_run_id(run);
        st = om_run_commit(run, summary, err);
        run = NULL;
    }
    if (run) {
        om_run_abort(run);
        res->run_id = 0;
    }
    return st;
}

enum om_status om_conflicts_run(struct om_project *p,
                                const struct om_rules *rules,
                                const struct om_conflicts_options *opt,
                                bool store, struct om_conflicts_result **out,
                                const struct om_progress *progress,
                                struct om_error *err)
{
    *out = NULL;
    struct run r;
    memset(&r, 0, sizeof r);
    r.p = p;
    r.rules = rules;
    r.opt = opt;
    r.progress = progress;
    r.unit_name_f = -1;
    enum om_status st = OM_OK;
    const char *pcrs = om_project_crs(p);
    if (!pcrs) {
        return om__error(err, OM_ECRS, om_project_path(p), 0, -1,
                         "the project has no layers yet");
    }
    st = om_crs_new(pcrs, &r.crs, err);
    if (st == OM_OK) {
        st = om_layer_new("CONFLICTS", &r.patches, err);
    }
    for (int f = 0; st == OM_OK && f < NFIELDS; f++) {
        st = om_layer_add_field(r.patches, fields[f].name, fields[f].type, NULL,
                                err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(r.patches, pcrs, err);
    }
    if (st == OM_OK) {
        st = find_units(&r, err);
    }
    bool found = opt->only_rule == NULL;
    for (size_t i = 0; st == OM_OK && i < rules->nrules; i++) {
        const struct om_rule *rule = &rules->rules[i];
        if (opt->only_rule && strcmp(opt->only_rule, rule->id) != 0) {
            continue;
        }
        found = true;
        st = run_rule(&r, rule, err);
    }
    if (st == OM_OK && !found) {
        st = om__error(err, OM_ENOTFOUND, rules->source, 0, -1,
                       "no rule with id '%s'", opt->only_rule);
    }
    if (st == OM_OK) {
        st = om_layer_finish(r.patches, OM_LAYER_KEEP_ORDER, err);
    }
    /* Summary rows: rules in file order, units by code within a rule. */
    for (size_t i = 1; st == OM_OK && i < r.nsummary; i++) {
        struct om_conflict_summary x = r.summary[i];
        size_t k = i;
        while (k > 0 && strcmp(r.summary[k - 1].rule_id, x.rule_id) == 0 &&
               strcmp(r.summary[k - 1].unit_code, x.unit_code) > 0) {
            r.summary[k] = r.summary[k - 1];
            k--;
        }
        r.summary[k] = x;
    }
    struct om_conflicts_result *res = NULL;
    if (st == OM_OK) {
        res = om__calloc(1, sizeof *res);
        if (!res) {
            st = om__enomem(err, NULL);
        }
    }
    if (st == OM_OK) {
        res->patches = r.patches;
        r.patches = NULL;
        res->summary = r.summary;
        res->nsummary = r.nsummary;
        r.summary = NULL;
        r.nsummary = 0;
        res->skipped = r.skipped;
        res->nskipped = r.nskipped;
        r.skipped = NULL;
        r.nskipped = 0;
        res->nslivers = r.nslivers;
        res->admin_layer = r.admin_layer;
        r.admin_layer = NULL;
        if (store) {
            st = store_run(&r, res, err);
        }
    }
    /* cleanup */
    for (size_t i = 0; i < r.ncache; i++) {
        om_layer_free(r.cache[i].layer);
        om__free(r.cache[i].code);
    }
    om__free(r.cache);
    om_layer_free(r.patches);
    for (size_t i = 0; i < r.nsummary; i++) {
        om__free(r.summary[i].rule_id);
        om__free(r.summary[i].severity);
        om__free(r.summary[i].unit_code);
        om__free(r.summary[i].unit_name);
    }
    om__free(r.summary);
    for (size_t i = 0; i < r.nskipped; i++) {
        om__free(r.skipped[i]);
    }
    om__free(r.skipped);
    om__free(r.admin_layer);
    om_crs_free(r.crs);
    if (st != OM_OK) {
        om_conflicts_result_free(res);
        return st;
    }
    *out = res;
    return OM_OK;
}
