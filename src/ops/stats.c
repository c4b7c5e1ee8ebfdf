/*
 * stats.c — land-use statistics: area by admin unit × land class.
 *
 * Parcels are processed in fixed chunks of CHUNK features (in the layer's
 * Hilbert order) by a pool of threads; each chunk records its area pieces
 * as (unit, class, area) entries, and the entries are summed chunk by chunk
 * in order at the end. Chunk boundaries do not depend on the thread count,
 * so the sums — and the printed table — are identical for any -j.
 *
 * Overlay assignment runs on the overlay engine (onemap/overlay.h, the
 * same one as `onemap overlay` and the conflict checks): unit polygons are
 * tiled, a tile covering a parcel takes it whole, and only parcels crossing
 * a unit boundary are intersected with GEOS.
 */
#include "onemap/stats.h"

#include "core/core.h"
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/overlay.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CHUNK = 2048, MAX_THREADS = 64 };

struct entry {
    uint32_t unit;
    uint32_t klass;
    double area;
    uint32_t feature_tag; /* parcel index within chunk, for counts */
};

struct chunk_out {
    struct entry *e;
    size_t n, cap;
    int64_t nskipped, nsplit;
    double total;
};

struct job {
    const struct om_layer *parcels;
    struct om_layer_view pv;
    const struct om_stats_options *opt;
    int area_field;
    const uint32_t *feat_class; /* class index per parcel */
    const uint32_t *feat_unit;  /* PREFIX: unit per parcel, UINT32_MAX none */
    /* OVERLAY */
    const uint32_t *ufeat_unit; /* unit index per unit-layer feature */
    uint32_t unassigned;        /* unit index of "unassigned" */

    size_t nchunks;
    struct chunk_out *out;
    pthread_mutex_t lock;
    size_t next_chunk;
    size_t chunks_done;
    enum om_status status;
    struct om_error err;
    const struct om_progress *progress;
    volatile int stop;
};

struct worker {
    struct job *job;
    struct om_area_ctx *area;
};

static bool add_entry(struct chunk_out *c, uint32_t unit, uint32_t klass,
                      double area, uint32_t tag)
{
    if (!OM__GROW(c->e, c->cap, c->n + 1)) {
        return false;
    }
    c->e[c->n].unit = unit;
    c->e[c->n].klass = klass;
    c->e[c->n].area = area;
    c->e[c->n].feature_tag = tag;
    c->n++;
    return true;
}

/* Area of feature f of view v in the chosen measure. */
static enum om_status measure(struct worker *w, const struct om_layer_view *v,
                              size_t f, double *area, struct om_error *err)
{
    const struct om_stats_options *opt = w->job->opt;
    if (opt->area == OM_AREA_ELLIPSOIDAL) {
        double planar;
        return om_area_feature(w->area, v, f, &planar, area, err);
    }
    *area = om_feature_area_planar(v, f);
    return OM_OK;
}

static enum om_status run_chunk(struct worker *w, size_t ci,
                                struct om_error *err)
{
    struct job *j = w->job;
    struct chunk_out *c = &j->out[ci];
    size_t f0 = ci * CHUNK;
    size_t f1 = f0 + CHUNK < j->pv.nfeatures ? f0 + CHUNK : j->pv.nfeatures;
    bool geometric = j->opt->area != OM_AREA_FIELD;
    for (size_t f = f0; f < f1; f++) {
        uint32_t tag = (uint32_t)(f - f0);
        uint8_t fl = j->pv.flags[f];
        if ((fl & OM_FEAT_EMPTY) || (geometric && (fl & OM_FEAT_INVALID))) {
            c->nskipped++;
            continue;
        }
        double field_area = 0.0;
        enum om_status st;
        if (j->opt->area == OM_AREA_FIELD) {
            field_area = om_layer_get_real(j->parcels, f, j->area_field);
            if (!isfinite(field_area)) {
                c->nskipped++;
                continue;
            }
        }
        double value = field_area;
        if (j->opt->area != OM_AREA_FIELD) {
            st = measure(w, &j->pv, f, &value, err);
            if (st != OM_OK) {
                return st;
            }
        }
        c->total += value;
        uint32_t unit = 0;
        if (j->opt->assign == OM_ASSIGN_PREFIX) {
            unit = j->feat_unit[f];
        }
        if (!add_entry(c, unit, j->feat_class[f], value, tag)) {
            return om__enomem(err, NULL);
        }
    }
    return OM_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct job *j = w->job;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        if (j->stop || j->next_chunk >= j->nchunks) {
            pthread_mutex_unlock(&j->lock);
            break;
        }
        size_t ci = j->next_chunk++;
        pthread_mutex_unlock(&j->lock);

        struct om_error err;
        om_error_clear(&err);
        enum om_status st = run_chunk(w, ci, &err);

        pthread_mutex_lock(&j->lock);
        if (st != OM_OK && j->status == OM_OK) {
            j->status = st;
            j->err = err;
            j->stop = 1;
        }
        j->chunks_done++;
        pthread_mutex_unlock(&j->lock);
    }
    return NULL;
}

static void worker_deinit(struct worker *w)
{
    om_area_ctx_free(w->area);
}

static enum om_status worker_init(struct worker *w, struct job *j,
                                  struct om_error *err)
{
    memset(w, 0, sizeof *w);
    w->job = j;
    if (j->opt->area == OM_AREA_ELLIPSOIDAL) {
        return om_area_ctx_new(j->opt->crs, &w->area, err);
    }
    return OM_OK;
}

/* ---- dictionaries ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted unique copy of `keys` (n pointers); returns count or -1 on OOM. */
static long unique_sorted(char **keys, size_t n, char ***out)
{
    char **u = om__reallocarray(NULL, n ? n : 1, sizeof *u);
    if (!u) {
        return -1;
    }
    memcpy(u, keys, n * sizeof *u);
    qsort(u, n, sizeof *u, cmp_str);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || strcmp(u[m - 1], u[i]) != 0) {
            u[m++] = u[i];
        }
    }
    *out = u;
    return (long)m;
}

static uint32_t find_key(char **sorted, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(sorted[mid], key);
        if (c == 0) {
            return (uint32_t)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return UINT32_MAX;
}

/* The class key of parcel f: the value as text, rolled up if asked. */
static const char *class_key(const struct om_layer *l, size_t f, int field,
                             int level, char *buf, size_t size)
{
    om_layer_format_value(l, f, field, buf, size);
    if (level > 0 && buf[0]) {
        char up[16];
        const char *r = om_dlbm_rollup(buf, level, up);
        if (r) {
            om__strlcpy(buf, r, size);
        }
    }
    return buf;
}

static enum om_status field_missing(const struct om_layer *l, const char *field,
                                    const char *what, struct om_error *err)
{
    char list[300] = "";
    size_t n = 0;
    for (size_t i = 0; i < om_layer_nfields(l) && n < sizeof list - 40; i++) {
        int k = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                         om_layer_field_name(l, (int)i));
        if (k > 0) {
            n += (size_t)k;
        }
    }
    return om__error(err, OM_ENOTFOUND, om_layer_name(l), 0, -1,
                     "no %s field '%s' (fields: %s)", what,
                     field ? field : "(none)", list);
}

void om_stats_result_free(struct om_stats_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nunits; i++) {
        om__free(r->units[i].code);
        om__free(r->units[i].name);
    }
    for (size_t i = 0; i < r->nclasses; i++) {
        om__free(r->classes[i].code);
        om__free(r->classes[i].name_zh);
        om__free(r->classes[i].name_en);
    }
    om__free(r->units);
    om__free(r->classes);
    om__free(r->cells);
    om__free(r);
}

struct prep {
    char **class_keys; /* per parcel (arena strings) */
    char **classes;    /* unique sorted */
    size_t nclasses;
    char **unit_codes; /* unique sorted unit codes */
    size_t nunits;
    char **unit_names; /* parallel to unit_codes (may hold NULLs) */
    uint32_t *feat_class, *feat_unit, *ufeat_unit;
    struct om__arena arena;
};

static void prep_free(struct prep *p)
{
    om__free(p->class_keys);
    om__free(p->classes);
    om__free(p->unit_codes);
    om__free(p->unit_names);
    om__free(p->feat_class);
    om__free(p->feat_unit);
    om__free(p->ufeat_unit);
    om__arena_deinit(&p->arena);
}

/* Unit codes (and names) from the unit layer: unique, sorted. */
static enum om_status units_from_layer(struct prep *p,
                                       const struct om_stats_options *opt,
                                       struct om_error *err)
{
    const struct om_layer *ul = opt->units;
    int fc = om_layer_field_index(ul, opt->unit_code_field);
    int fn = opt->unit_name_field
                 ? om_layer_field_index(ul, opt->unit_name_field)
                 : -1;
    if (fc < 0) {
        return field_missing(ul, opt->unit_code_field, "unit code", err);
    }
    if (opt->unit_name_field && fn < 0) {
        return field_missing(ul, opt->unit_name_field, "unit name", err);
    }
    size_t nu = om_layer_nfeatures(ul);
    char **codes = om__reallocarray(NULL, nu ? nu : 1, sizeof *codes);
    p->ufeat_unit = om__reallocarray(NULL, nu ? nu : 1, sizeof(uint32_t));
    if (!codes || !p->ufeat_unit) {
        om__free(codes);
        return om__enomem(err, NULL);
    }
    char buf[256];
    for (size_t u = 0; u < nu; u++) {
        om_layer_format_value(ul, u, fc, buf, sizeof buf);
        codes[u] = om__arena_strdup(&p->arena, buf);
        if (!codes[u]) {
            om__free(codes);
            return om__enomem(err, NULL);
        }
    }
    long m = unique_sorted(codes, nu, &p->unit_codes);
    if (m < 0) {
        om__free(codes);
        return om__enomem(err, NULL);
    }
    p->nunits = (size_t)m;
    p->unit_names = om__calloc(p->nunits + 1, sizeof *p->unit_names);
    if (!p->unit_names) {
        om__free(codes);
        return om__enomem(err, NULL);
    }
    for (size_t u = 0; u < nu; u++) {
        uint32_t k = find_key(p->unit_codes, p->nunits, codes[u]);
        p->ufeat_unit[u] = k;
        if (fn >= 0 && !p->unit_names[k]) {
            om_layer_format_value(ul, u, fn, buf, sizeof buf);
            p->unit_names[k] = om__arena_strdup(&p->arena, buf);
        }
    }
    om__free(codes);
    return OM_OK;
}

static enum om_status prepare(const struct om_layer *l,
                              const struct om_stats_options *opt,
                              struct prep *p, struct om_error *err)
{
    size_t n = om_layer_nfeatures(l);
    int fc = om_layer_field_index(l, opt->class_field);
    if (fc < 0) {
        return field_missing(l, opt->class_field, "class", err);
    }
    p->class_keys = om__reallocarray(NULL, n ? n : 1, sizeof(char *));
    p->feat_class = om__reallocarray(NULL, n ? n : 1, sizeof(uint32_t));
    if (!p->class_keys || !p->feat_class) {
        return om__enomem(err, NULL);
    }
    char buf[256];
    for (size_t f = 0; f < n; f++) {
        class_key(l, f, fc, opt->level, buf, sizeof buf);
        /* Interning through a sorted pass would save memory; the arena
         * keeps it simple and the strings are short. */
        p->class_keys[f] = om__arena_strdup(&p->arena, buf);
        if (!p->class_keys[f]) {
            return om__enomem(err, NULL);
        }
    }
    long m = unique_sorted(p->class_keys, n, &p->classes);
    if (m < 0) {
        return om__enomem(err, NULL);
    }
    p->nclasses = (size_t)m;
    for (size_t f = 0; f < n; f++) {
        p->feat_class[f] = find_key(p->classes, p->nclasses, p->class_keys[f]);
    }

    if (opt->assign == OM_ASSIGN_OVERLAY) {
        if (!opt->units) {
            return om__error(err, OM_EINVAL, NULL, 0, -1,
                             "overlay assignment needs a unit layer");
        }
        return units_from_layer(p, opt, err);
    }
    if (opt->assign == OM_ASSIGN_PREFIX) {
        int fp = om_layer_field_index(l, opt->prefix_field);
        if (fp < 0) {
            return field_missing(l, opt->prefix_field, "unit code", err);
        }
        int plen = opt->prefix_len;
        if (opt->units) {
            enum om_status st = units_from_layer(p, opt, err);
            if (st != OM_OK) {
                return st;
            }
            if (plen <= 0 && p->nunits > 0) {
                plen = (int)strlen(p->unit_codes[0]);
            }
        }
        if (plen <= 0) {
            return om__error(err, OM_EINVAL, NULL, 0, -1,
                             "prefix assignment needs a prefix length or "
                             "a unit layer");
        }
        /* Parcel prefixes: add codes that are not in the unit layer. */
        char **pref = om__reallocarray(NULL, n ? n : 1, sizeof *pref);
        p->feat_unit = om__reallocarray(NULL, n ? n : 1, sizeof(uint32_t));
        if (!pref || !p->feat_unit) {
            om__free(pref);
            return om__enomem(err, NULL);
        }
        for (size_t f = 0; f < n; f++) {
            om_layer_format_value(l, f, fp, buf, sizeof buf);
            if ((int)strlen(buf) > plen) {
                buf[plen] = '\0';
            }
            pref[f] = om__arena_strdup(&p->arena, buf);
            if (!pref[f]) {
                om__free(pref);
                return om__enomem(err, NULL);
            }
        }
        size_t nall = n + p->nunits;
        char **all = om__reallocarray(NULL, nall ? nall : 1, sizeof *all);
        if (!all) {
            om__free(pref);
            return om__enomem(err, NULL);
        }
        memcpy(all, pref, n * sizeof *all);
        if (p->nunits) {
            memcpy(all + n, p->unit_codes, p->nunits * sizeof *all);
        }
        char **uniq = NULL;
        long mu = unique_sorted(all, nall, &uniq);
        om__free(all);
        if (mu < 0) {
            om__free(pref);
            return om__enomem(err, NULL);
        }
        char **names = om__calloc((size_t)mu + 1, sizeof *names);
        if (!names) {
            om__free(uniq);
            om__free(pref);
            return om__enomem(err, NULL);
        }
        for (size_t k = 0; k < p->nunits; k++) {
            names[find_key(uniq, (size_t)mu, p->unit_codes[k])] =
                p->unit_names[k];
        }
        om__free(p->unit_codes);
        om__free(p->unit_names);
        p->unit_codes = uniq;
        p->unit_names = names;
        p->nunits = (size_t)mu;
        for (size_t f = 0; f < n; f++) {
            p->feat_unit[f] = find_key(uniq, (size_t)mu, pref[f]);
        }
        om__free(pref);
        return OM_OK;
    }
    /* NONE: a single unit with an empty code. */
    p->unit_codes = om__calloc(1, sizeof *p->unit_codes);
    p->unit_names = om__calloc(1, sizeof *p->unit_names);
    if (!p->unit_codes || !p->unit_names) {
        return om__enomem(err, NULL);
    }
    p->unit_codes[0] = om__arena_strdup(&p->arena, "");
    if (!p->unit_codes[0]) {
        return om__enomem(err, NULL);
    }
    p->nunits = 1;
    return OM_OK;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
}

static enum om_status build_result(struct prep *p, struct job *j,
                                   struct om_stats_result **out,
                                   struct om_error *err)
{
    size_t nu = p->nunits + (j->opt->assign == OM_ASSIGN_OVERLAY ? 1 : 0);
    size_t nc = p->nclasses;
    double *sum = om__calloc(nu * nc + 1, sizeof *sum);
    int64_t *cnt = om__calloc(nu * nc + 1, sizeof *cnt);
    struct om_stats_result *r = om__calloc(1, sizeof *r);
    /* last (unit,class,tag) seen, to count each parcel once per cell */
    if (!sum || !cnt || !r) {
        om__free(sum);
        om__free(cnt);
        om__free(r);
        return om__enomem(err, NULL);
    }
    for (size_t ci = 0; ci < j->nchunks; ci++) {
        struct chunk_out *c = &j->out[ci];
        r->total_m2 += c->total;
        r->nskipped += c->nskipped;
        r->nsplit += c->nsplit;
        for (size_t k = 0; k < c->n; k++) {
            const struct entry *e = &c->e[k];
            size_t cell = (size_t)e->unit * nc + e->klass;
            sum[cell] += e->area;
            bool dup = false;
            /* a parcel's pieces in the same cell are adjacent entries */
            if (k > 0 && c->e[k - 1].feature_tag == e->feature_tag &&
                c->e[k - 1].unit == e->unit && c->e[k - 1].klass == e->klass) {
                dup = true;
            }
            if (!dup) {
                cnt[cell]++;
            }
        }
    }
    r->nfeatures = (int64_t)j->pv.nfeatures;
    if (nu > p->nunits) {
        /* Keep the "unassigned" unit only when some area fell there. */
        bool any = false;
        for (size_t k = 0; k < nc; k++) {
            any |= cnt[p->nunits * nc + k] > 0;
        }
        if (!any) {
            nu = p->nunits;
        }
    }
    r->nunits = nu;
    r->has_unassigned = nu > p->nunits;
    r->units = om__calloc(nu, sizeof *r->units);
    r->nclasses = nc;
    r->classes = om__calloc(nc ? nc : 1, sizeof *r->classes);
    size_t ncells = 0;
    for (size_t i = 0; i < nu * nc; i++) {
        ncells += cnt[i] > 0;
    }
    r->cells = om__calloc(ncells ? ncells : 1, sizeof *r->cells);
    bool oom = !r->units || !r->classes || !r->cells;
    for (size_t u = 0; !oom && u < nu; u++) {
        bool un = u == p->nunits;
        r->units[u].code = om__strdup(un ? "" : p->unit_codes[u]);
        r->units[u].name = om__strdup(
            un ? "(unassigned)" : (p->unit_names[u] ? p->unit_names[u] : ""));
        oom = !r->units[u].code || !r->units[u].name;
    }
    for (size_t k = 0; !oom && k < nc; k++) {
        r->classes[k].code = om__strdup(p->classes[k]);
        oom = !r->classes[k].code;
        const struct om_code *code =
            oom ? NULL : om_code_find(OM_CODES_DLBM, p->classes[k]);
        if (code) {
            r->classes[k].name_zh = om__strdup(code->name_zh);
            r->classes[k].name_en = om__strdup(code->name_en);
            oom = !r->classes[k].name_zh || !r->classes[k].name_en;
        }
    }
    size_t m = 0;
    for (size_t u = 0; !oom && u < nu; u++) {
        for (size_t k = 0; k < nc; k++) {
            size_t cell = u * nc + k;
            if (cnt[cell] > 0) {
                r->cells[m].unit = u;
                r->cells[m].klass = k;
                r->cells[m].area_m2 = sum[cell];
                r->cells[m].nfeatures = cnt[cell];
                if (u < p->nunits) {
                    r->assigned_m2 += sum[cell];
                }
                m++;
            }
        }
    }
    r->ncells = m;
    om__free(sum);
    om__free(cnt);
    if (oom) {
        om_stats_result_free(r);
        return om__enomem(err, NULL);
    }
    *out = r;
    return OM_OK;
}

/*
 * Overlay assignment runs on the overlay engine (onemap/overlay.h): the
 * parcels split by the unit polygons (tiled there), one piece per parcel
 * and unit, delivered in a fixed order, so results do not depend on -j.
 * Pieces outside every unit go to "unassigned". A field area (TBDLMJ) is
 * shared out in proportion to the planar areas of the pieces.
 */
struct overlay_acc {
    struct job *j;
    struct chunk_out *c;
    size_t cur_a;
    uint32_t last_unit;
    int nunits_a; /* distinct units the current parcel lies in */
};

static enum om_status on_piece(void *ctx, const struct om_overlay_piece *pc,
                               struct om_error *err)
{
    struct overlay_acc *o = ctx;
    struct job *j = o->j;
    if (pc->a != o->cur_a) {
        o->c->nsplit += o->nunits_a > 1;
        o->cur_a = pc->a;
        o->nunits_a = 0;
        o->last_unit = UINT32_MAX;
    }
    uint32_t unit = j->unassigned;
    if (pc->unit != OM_OVERLAY_NONE) {
        unit = j->ufeat_unit[pc->unit];
        if (unit != o->last_unit) {
            o->nunits_a++;
            o->last_unit = unit;
        }
    }
    double v = pc->planar_m2;
    if (j->opt->area == OM_AREA_ELLIPSOIDAL) {
        v = pc->ellipsoidal_m2;
    } else if (j->opt->area == OM_AREA_FIELD) {
        double full = om_feature_area_planar(&j->pv, pc->a);
        double field = om_layer_get_real(j->parcels, pc->a, j->area_field);
        v = full > 0 ? field * (pc->planar_m2 / full) : 0.0;
    }
    o->c->total += v;
    if (!add_entry(o->c, unit, j->feat_class[pc->a], v, (uint32_t)pc->a)) {
        return om__enomem(err, NULL);
    }
    return OM_OK;
}

static enum om_status run_overlay(struct job *j, struct prep *p,
                                  struct om_stats_result **out,
                                  struct om_error *err)
{
    const struct om_stats_options *opt = j->opt;
    struct chunk_out c;
    memset(&c, 0, sizeof c);
    size_t n = j->pv.nfeatures;
    uint8_t *mask = om__malloc(n ? n : 1);
    if (!mask) {
        return om__enomem(err, NULL);
    }
    for (size_t f = 0; f < n; f++) {
        bool use = !(j->pv.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID));
        if (use && opt->area == OM_AREA_FIELD) {
            use = isfinite(om_layer_get_real(j->parcels, f, j->area_field));
        }
        mask[f] = use;
        c.nskipped += !use;
    }
    struct om_overlay_options o;
    memset(&o, 0, sizeof o);
    o.a = j->parcels;
    o.a_mask = mask;
    o.units = opt->units;
    o.inside = o.outside = true;
    o.ellipsoidal = opt->area == OM_AREA_ELLIPSOIDAL;
    o.crs = opt->crs;
    o.threads = opt->threads;
    o.engine = opt->engine;
    struct overlay_acc acc = {j, &c, (size_t)-1, UINT32_MAX, 0};
    enum om_status st = om_overlay_run(&o, on_piece, &acc, j->progress, err);
    c.nsplit += acc.nunits_a > 1;
    om__free(mask);
    if (st == OM_OK) {
        j->nchunks = 1;
        j->out = &c;
        st = build_result(p, j, out, err);
        j->out = NULL;
        j->nchunks = 0;
    }
    if (st == OM_OK) {
        struct om_layer_view uv;
        om_layer_view(opt->units, &uv);
        for (size_t u = 0; u < uv.nfeatures; u++) {
            (*out)->nunits_unusable +=
                (uv.flags[u] & (OM_FEAT_EMPTY | OM_FEAT_INVALID)) != 0;
        }
    }
    om__free(c.e);
    return st;
}

enum om_status om_stats_run(const struct om_layer *parcels,
                            const struct om_stats_options *opt,
                            struct om_stats_result **out,
                            const struct om_progress *progress,
                            struct om_error *err)
{
    *out = NULL;
    if (!om_layer_is_finished(parcels) ||
        (opt->units && !om_layer_is_finished(opt->units))) {
        return om__error(err, OM_EINVAL, om_layer_name(parcels), 0, -1,
                         "statistics need finished (indexed) layers");
    }
    if (opt->area == OM_AREA_ELLIPSOIDAL && !opt->crs) {
        return om__error(err, OM_ECRS, om_layer_name(parcels), 0, -1,
                         "ellipsoidal areas need the layer's CRS");
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.parcels = parcels;
    j.opt = opt;
    j.progress = progress;
    om_layer_view(parcels, &j.pv);
    j.area_field = -1;
    if (opt->area == OM_AREA_FIELD) {
        j.area_field = om_layer_field_index(parcels, opt->area_field);
        if (j.area_field < 0) {
            return field_missing(parcels, opt->area_field, "area", err);
        }
        if (om_layer_field_type(parcels, j.area_field) == OM_FIELD_TEXT) {
            return om__error(err, OM_EINVAL, om_layer_name(parcels), 0, -1,
                             "area field '%s' is text, not a number",
                             opt->area_field);
        }
    }
    struct prep p;
    memset(&p, 0, sizeof p);
    om__arena_init(&p.arena);
    enum om_status st = prepare(parcels, opt, &p, err);
    if (st != OM_OK) {
        prep_free(&p);
        return st;
    }
    j.feat_class = p.feat_class;
    j.feat_unit = p.feat_unit;
    j.ufeat_unit = p.ufeat_unit;
    j.unassigned = (uint32_t)p.nunits;
    if (opt->assign == OM_ASSIGN_OVERLAY) {
        st = run_overlay(&j, &p, out, err);
        prep_free(&p);
        return st;
    }
    j.nchunks = (j.pv.nfeatures + CHUNK - 1) / CHUNK;
    j.out = om__calloc(j.nchunks ? j.nchunks : 1, sizeof *j.out);
    if (!j.out) {
        prep_free(&p);
        return om__enomem(err, NULL);
    }
    int nthreads = opt->threads > 0 ? opt->threads : default_threads();
    if (nthreads > MAX_THREADS) {
        nthreads = MAX_THREADS;
    }
    if ((size_t)nthreads > j.nchunks) {
        nthreads = j.nchunks ? (int)j.nchunks : 1;
    }
    struct worker *ws = om__calloc((size_t)nthreads, sizeof *ws);
    pthread_t *tids = om__calloc((size_t)nthreads, sizeof *tids);
    bool *started = om__calloc((size_t)nthreads, sizeof *started);
    if (!ws || !tids || !started) {
        st = om__enomem(err, NULL);
        goto done;
    }
    for (int t = 0; t < nthreads; t++) {
        st = worker_init(&ws[t], &j, err);
        if (st != OM_OK) {
            goto done;
        }
    }
    pthread_mutex_init(&j.lock, NULL);
    for (int t = 1; t < nthreads; t++) {
        started[t] = pthread_create(&tids[t], NULL, worker_main, &ws[t]) == 0;
    }
    /* The calling thread works too, and reports progress between chunks. */
    for (;;) {
        pthread_mutex_lock(&j.lock);
        bool finished = j.stop || j.next_chunk >= j.nchunks;
        size_t ci = j.next_chunk;
        if (!finished) {
            j.next_chunk++;
        }
        size_t done_chunks = j.chunks_done;
        pthread_mutex_unlock(&j.lock);
        if (finished) {
            break;
        }
        size_t every = j.nchunks / 256 + 1;
        bool cancel = ci % every == 0
                          ? om__progress_force(progress, "statistics",
                                               (uint64_t)done_chunks * CHUNK,
                                               (uint64_t)j.pv.nfeatures)
                          : om__canceled(progress);
        if (cancel) {
            pthread_mutex_lock(&j.lock);
            if (j.status == OM_OK) {
                j.status = OM_ECANCELED;
                om__error(&j.err, OM_ECANCELED, om_layer_name(parcels), 0, -1,
                          "statistics canceled");
            }
            j.stop = 1;
            pthread_mutex_unlock(&j.lock);
            break;
        }
        struct om_error e;
        om_error_clear(&e);
        enum om_status cst = run_chunk(&ws[0], ci, &e);
        pthread_mutex_lock(&j.lock);
        if (cst != OM_OK && j.status == OM_OK) {
            j.status = cst;
            j.err = e;
            j.stop = 1;
        }
        j.chunks_done++;
        pthread_mutex_unlock(&j.lock);
    }
    for (int t = 1; t < nthreads; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        }
    }
    pthread_mutex_destroy(&j.lock);
    om__progress(progress, "statistics", j.pv.nfeatures, j.pv.nfeatures);
    if (j.status != OM_OK) {
        st = j.status;
        if (err) {
            *err = j.err;
        }
        goto done;
    }
    st = build_result(&p, &j, out, err);
done:
    if (ws) {
        for (int t = 0; t < nthreads; t++) {
            worker_deinit(&ws[t]);
        }
    }
    om__free(ws);
    om__free(tids);
    om__free(started);
    for (size_t ci = 0; ci < j.nchunks; ci++) {
        om__free(j.out[ci].e);
    }
    om__free(j.out);
    prep_free(&p);
    return st;
}

void om_apportion(const double *values, size_t n, int decimals, double target,
                  double *out)
{
    /*
     * Units of 10^-decimals are counted in long longs: a city's total in m2
     * at 9 decimals is ~4e19 units, more than a long long holds (the loop
     * below then never ended). Then fewer decimals are apportioned; the
     * digits beyond them are noise in a double of that size anyway.
     */
    double mag = fabs(target);
    for (size_t i = 0; i < n; i++) {
        mag += fabs(values[i]);
    }
    if (!isfinite(mag)) {
        for (size_t i = 0; i < n; i++) {
            out[i] = values[i];
        }
        return;
    }
    while (decimals > 0 && mag * pow(10.0, decimals) >= 0x1p62) {
        decimals--;
    }
    double scale = pow(10.0, decimals);
    long long want = llround(target * scale);
    long long have = 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = floor(values[i] * scale + 1e-9);
        have += (long long)out[i];
    }
    /* Whole rounds at once: every value gets (or, when all can give, loses)
     * the same number of units; the rest goes by remainder below. */
    if (n > 0 && want - have >= (long long)n) {
        long long each = (want - have) / (long long)n;
        for (size_t i = 0; i < n; i++) {
            out[i] += (double)each;
        }
        have += each * (long long)n;
    }
    /* Hand out the missing units to the largest remainders (ties: first);
     * take surplus units from the smallest remainders. */
    while (have < want) {
        size_t best = n;
        double best_rem = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double rem = values[i] * scale - out[i];
            if (rem > best_rem) {
                best_rem = rem;
                best = i;
            }
        }
        if (best == n) {
            break;
        }
        out[best] += 1.0;
        have++;
    }
    while (have > want) {
        size_t best = n;
        double best_rem = INFINITY;
        for (size_t i = 0; i < n; i++) {
            double rem = values[i] * scale - out[i];
            if (out[i] >= 1.0 && rem < best_rem) {
                best_rem = rem;
                best = i;
            }
        }
        if (best == n) {
            break;
        }
        out[best] -= 1.0;
        have--;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] /= scale;
    }
}

void om_round_preserving_sum(const double *values, size_t n, int decimals,
                             double *out)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++) {
        total += values[i];
    }
    om_apportion(values, n, decimals, total, out);
}
