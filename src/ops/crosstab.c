/*
 * crosstab.c — class of A × class of B (or inside/outside) × admin unit,
 * summed from the overlay engine's pieces.
 *
 * The engine calls back in a fixed order from one thread, so the sums are
 * made in the same order for any thread count. Cells live in an open
 * addressing hash keyed by (unit, class_a, class_b), total rows included
 * (ALL = UINT32_MAX); feature counts are distinct A features per cell,
 * counted with the last A feature seen (a feature's pieces are contiguous).
 */
#include "onemap/crosstab.h"

#include "core/core.h"
#include "onemap/codes.h"
#include "onemap/overlay.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL32 UINT32_MAX

struct hcell {
    uint32_t u, ca, cb;
    double area;
    int64_t n;
    size_t last_a; /* A feature + 1 that was counted last */
};

struct dict {
    char **keys; /* unique sorted (arena strings) */
    size_t n;
    uint32_t *feat; /* per feature: index into keys */
};

/* What the layers B share: the classes of A and the admin units. */
struct shared {
    const struct om_crosstab_options *opt;
    const struct om_layer *a; /* opt->a, or A given late */
    struct om__arena arena;
    struct dict ca, un;
    char **unit_names; /* parallel to un.keys */
    uint32_t unassigned_idx;
    struct ctx *layer; /* by layer of B */
};

/* One layer B's cross-tab. */
struct ctx {
    const struct om_crosstab_options *opt;
    struct shared *sh;
    const struct om_layer *b;
    struct dict cb;
    uint32_t inside_idx, outside_idx;
    struct hcell *cells;
    size_t ncells, cap_cells;
    size_t *slots; /* cell index + 1; 0 = empty */
    size_t nslots;
    int64_t npieces;
};

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
                     "no %s field '%s' in layer %s (fields: %s)", what,
                     field ? field : "(none)", om_layer_name(l), list);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h ^ (h >> 31);
}

/* Grow the open-addressing table of distinct values to `nslot` slots. */
static bool dict_rehash(uint32_t **slot, size_t *nslot, size_t want,
                        char **keys, size_t n)
{
    uint32_t *s = om__calloc(want, sizeof *s);
    if (!s) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)str_hash(keys[i]) & (want - 1);
        while (s[h]) {
            h = (h + 1) & (want - 1);
        }
        s[h] = (uint32_t)i + 1;
    }
    om__free(*slot);
    *slot = s;
    *nslot = want;
    return true;
}

/*
 * Values of `field` of every feature (rolled up at `level` for DLBM): the
 * distinct values are gathered in a hash table (one arena copy each), then
 * sorted, and every feature gets the rank of its value.
 */
static enum om_status make_dict(struct om__arena *arena,
                                const struct om_layer *l, const char *field,
                                int level, const char *what, struct dict *d,
                                struct om_error *err)
{
    int fi = om_layer_field_index(l, field);
    if (fi < 0) {
        return field_missing(l, field, what, err);
    }
    size_t n = om_layer_nfeatures(l), m = 0, cap = 0, nslot = 0;
    uint32_t *slot = NULL, *rank = NULL;
    char **keys = NULL;
    d->feat = om__reallocarray(NULL, n + 1, sizeof *d->feat);
    bool ok = d->feat != NULL;
    char buf[256];
    for (size_t f = 0; ok && f < n; f++) {
        om_layer_format_value(l, f, fi, buf, sizeof buf);
        if (level > 0 && buf[0]) {
            char up[8];
            const char *r = om_dlbm_rollup(buf, level, up);
            if (r) {
                om__strlcpy(buf, r, sizeof buf);
            }
        }
        if (2 * (m + 1) > nslot) {
            ok = dict_rehash(&slot, &nslot, nslot ? 2 * nslot : 64, keys, m);
            if (!ok) {
                break;
            }
        }
        size_t h = (size_t)str_hash(buf) & (nslot - 1);
        while (slot[h] && strcmp(keys[slot[h] - 1], buf) != 0) {
            h = (h + 1) & (nslot - 1);
        }
        if (!slot[h]) {
            ok = m < UINT32_MAX - 1 && OM__GROW(keys, cap, m + 1);
            char *k = ok ? om__arena_strdup(arena, buf) : NULL;
            ok = k != NULL;
            if (ok) {
                keys[m++] = k;
                slot[h] = (uint32_t)m;
            }
        }
        if (ok) {
            d->feat[f] = slot[h] - 1;
        }
    }
    /* sort the distinct values; rank[i]: where value i went */
    d->keys = ok ? om__reallocarray(NULL, m + 1, sizeof *d->keys) : NULL;
    rank = ok ? om__reallocarray(NULL, m + 1, sizeof *rank) : NULL;
    ok = ok && d->keys && rank;
    if (ok) {
        if (m > 0) { /* a layer without features has no keys at all */
            memcpy(d->keys, keys, m * sizeof *keys);
            qsort(d->keys, m, sizeof *d->keys, cmp_str);
        }
        /* the arena strings are distinct, so their addresses name them */
        for (size_t i = 0; i < m; i++) {
            size_t h = (size_t)str_hash(d->keys[i]) & (nslot - 1);
            while (keys[slot[h] - 1] != d->keys[i]) {
                h = (h + 1) & (nslot - 1);
            }
            rank[slot[h] - 1] = (uint32_t)i;
        }
        for (size_t f = 0; f < n; f++) {
            d->feat[f] = rank[d->feat[f]];
        }
        d->n = m;
    }
    om__free(slot);
    om__free(keys);
    om__free(rank);
    return ok ? OM_OK : om__enomem(err, NULL);
}

static size_t hash3(uint32_t u, uint32_t a, uint32_t b)
{
    uint64_t h = (uint64_t)u * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)a * 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
    h ^= (uint64_t)b * 0x165667B19E3779F9ull + (h << 6) + (h >> 2);
    return (size_t)(h ^ (h >> 29));
}

static bool rehash(struct ctx *c, size_t nslots)
{
    size_t *s = om__calloc(nslots, sizeof *s);
    if (!s) {
        return false;
    }
    for (size_t i = 0; i < c->ncells; i++) {
        size_t k =
            hash3(c->cells[i].u, c->cells[i].ca, c->cells[i].cb) & (nslots - 1);
        while (s[k]) {
            k = (k + 1) & (nslots - 1);
        }
        s[k] = i + 1;
    }
    om__free(c->slots);
    c->slots = s;
    c->nslots = nslots;
    return true;
}

static bool add(struct ctx *c, uint32_t u, uint32_t ca, uint32_t cb, size_t a,
                double area)
{
    if (2 * (c->ncells + 1) > c->nslots &&
        !rehash(c, c->nslots ? 2 * c->nslots : 64)) {
        return false;
    }
    size_t k = hash3(u, ca, cb) & (c->nslots - 1);
    while (c->slots[k]) {
        struct hcell *h = &c->cells[c->slots[k] - 1];
        if (h->u == u && h->ca == ca && h->cb == cb) {
            h->area += area;
            if (h->last_a != a + 1) {
                h->last_a = a + 1;
                h->n++;
            }
            return true;
        }
        k = (k + 1) & (c->nslots - 1);
    }
    if (!OM__GROW(c->cells, c->cap_cells, c->ncells + 1)) {
        return false;
    }
    struct hcell *h = &c->cells[c->ncells];
    h->u = u;
    h->ca = ca;
    h->cb = cb;
    h->area = area;
    h->n = 1;
    h->last_a = a + 1;
    c->slots[k] = ++c->ncells;
    return true;
}

static enum om_status on_piece(void *ctx, const struct om_overlay_piece *p,
                               struct om_error *err)
{
    struct shared *sh = ctx;
    struct ctx *c = &sh->layer[p->layer];
    const struct om_crosstab_options *opt = c->opt;
    double area =
        opt->area == OM_AREA_ELLIPSOIDAL ? p->ellipsoidal_m2 : p->planar_m2;
    uint32_t ca = sh->ca.feat[p->a];
    uint32_t cb = p->b == OM_OVERLAY_NONE
                      ? c->outside_idx
                      : (opt->class_b ? c->cb.feat[p->b] : c->inside_idx);
    c->npieces++;
    bool ok = true;
    if (opt->units) {
        uint32_t u = p->unit == OM_OVERLAY_NONE ? sh->unassigned_idx
                                                : sh->un.feat[p->unit];
        ok = add(c, u, ca, cb, p->a, area) &&
             add(c, u, ca, ALL32, p->a, area) &&
             add(c, u, ALL32, ALL32, p->a, area);
    }
    ok = ok && add(c, ALL32, ca, cb, p->a, area) &&
         add(c, ALL32, ca, ALL32, p->a, area) &&
         add(c, ALL32, ALL32, ALL32, p->a, area);
    return ok ? OM_OK : om__enomem(err, NULL);
}

static int cmp_cell(const void *x, const void *y)
{
    const struct hcell *a = x, *b = y;
    if (a->u != b->u) {
        return a->u < b->u ? -1 : 1;
    }
    if (a->ca != b->ca) {
        return a->ca < b->ca ? -1 : 1;
    }
    return a->cb < b->cb ? -1 : a->cb > b->cb;
}

static void ctx_free(struct ctx *c)
{
    om__free(c->cb.keys);
    om__free(c->cb.feat);
    om__free(c->cells);
    om__free(c->slots);
}

static void shared_free(struct shared *sh, size_t nl)
{
    for (size_t l = 0; sh->layer && l < nl; l++) {
        ctx_free(&sh->layer[l]);
    }
    om__free(sh->layer);
    om__free(sh->ca.keys);
    om__free(sh->ca.feat);
    om__free(sh->un.keys);
    om__free(sh->un.feat);
    om__free(sh->unit_names);
    om__arena_deinit(&sh->arena);
}

void om_crosstab_result_free(struct om_crosstab_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; r->units && i < r->nunits; i++) {
        om__free(r->units[i].code);
        om__free(r->units[i].name);
    }
    struct om_crosstab_class *cls[2] = {r->classes_a, r->classes_b};
    size_t ncls[2] = {r->nclasses_a, r->nclasses_b};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; cls[s] && i < ncls[s]; i++) {
            om__free(cls[s][i].code);
            om__free(cls[s][i].name_zh);
            om__free(cls[s][i].name_en);
        }
        om__free(cls[s]);
    }
    om__free(r->units);
    om__free(r->cells);
    om__free(r);
}

static bool set_class(struct om_crosstab_class *k, const char *code,
                      const char *field, const char *zh, const char *en)
{
    k->code = om__strdup(code);
    if (!k->code) {
        return false;
    }
    if (zh) {
        k->name_zh = om__strdup(zh);
        k->name_en = om__strdup(en);
        return k->name_zh && k->name_en;
    }
    /* 用地用海 codes for fields such as YDYHFLDM; 三调 DLBM otherwise. */
    bool ydyh = false;
    for (const char *q = field; q && *q && !ydyh; q++) {
        ydyh = strncmp(q, "YDYH", 4) == 0 || strncmp(q, "ydyh", 4) == 0;
    }
    const struct om_code *row =
        code[0] ? om_code_find(ydyh ? OM_CODES_YDYH : OM_CODES_DLBM, code)
                : NULL;
    if (row) {
        k->name_zh = om__strdup(row->name_zh);
        k->name_en = om__strdup(row->name_en);
        return k->name_zh && k->name_en;
    }
    return true;
}

static enum om_status build(struct ctx *c, const struct om_layer_view *av,
                            struct om_crosstab_result **out,
                            struct om_error *err)
{
    const struct om_crosstab_options *opt = c->opt;
    const struct shared *sh = c->sh;
    struct om_crosstab_result *r = om__calloc(1, sizeof *r);
    if (!r) {
        return om__enomem(err, NULL);
    }
    bool any_out = false, any_un = false;
    for (size_t i = 0; i < c->ncells; i++) {
        any_out |= c->cells[i].cb == c->outside_idx;
        any_un |= opt->units && c->cells[i].u == sh->unassigned_idx;
    }
    r->has_outside = any_out;
    r->has_unassigned = any_un;
    r->nunits = opt->units ? sh->un.n + any_un : 0;
    size_t ncb = opt->class_b ? c->cb.n : 1;
    r->nclasses_b = ncb + any_out;
    r->nclasses_a = sh->ca.n;
    r->units = om__calloc(r->nunits + 1, sizeof *r->units);
    r->classes_a = om__calloc(r->nclasses_a + 1, sizeof *r->classes_a);
    r->classes_b = om__calloc(r->nclasses_b + 1, sizeof *r->classes_b);
    r->cells = om__calloc(c->ncells + 1, sizeof *r->cells);
    bool ok = r->units && r->classes_a && r->classes_b && r->cells;
    for (size_t u = 0; ok && u < r->nunits; u++) {
        bool un = u == sh->un.n;
        const char *name = un ? "(unassigned)" : sh->unit_names[u];
        r->units[u].code = om__strdup(un ? "" : sh->un.keys[u]);
        r->units[u].name = om__strdup(name ? name : "");
        ok = r->units[u].code && r->units[u].name;
    }
    for (size_t k = 0; ok && k < sh->ca.n; k++) {
        ok = set_class(&r->classes_a[k], sh->ca.keys[k], opt->class_a, NULL,
                       NULL);
    }
    for (size_t k = 0; ok && k < ncb; k++) {
        ok = opt->class_b ? set_class(&r->classes_b[k], c->cb.keys[k],
                                      opt->class_b, NULL, NULL)
                          : set_class(&r->classes_b[k], "inside", NULL,
                                      "范围内", "inside");
    }
    if (ok && any_out) {
        ok = set_class(&r->classes_b[ncb], opt->class_b ? "" : "outside", NULL,
                       "范围外", "(outside)");
    }
    if (!ok) {
        om_crosstab_result_free(r);
        return om__enomem(err, NULL);
    }
    qsort(c->cells, c->ncells, sizeof *c->cells, cmp_cell);
    for (size_t i = 0; i < c->ncells; i++) {
        const struct hcell *h = &c->cells[i];
        struct om_crosstab_cell *o = &r->cells[i];
        o->unit = h->u == ALL32 ? OM_CROSSTAB_ALL : h->u;
        o->class_a = h->ca == ALL32 ? OM_CROSSTAB_ALL : h->ca;
        o->class_b = h->cb == ALL32 ? OM_CROSSTAB_ALL : h->cb;
        o->area_m2 = h->area;
        o->nfeatures = h->n;
    }
    r->ncells = c->ncells;
    r->nfeatures_a = (int64_t)av->nfeatures;
    for (size_t f = 0; f < av->nfeatures; f++) {
        r->nskipped_a +=
            (av->flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID)) != 0;
    }
    r->npieces = c->npieces;
    *out = r;
    return OM_OK;
}

enum om_status om_crosstab_run(const struct om_crosstab_options *opt,
                               struct om_crosstab_result **out,
                               const struct om_progress *progress,
                               struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1, "crosstab: out is NULL");
    }
    *out = NULL;
    if (!opt || !opt->b) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "crosstab needs layers A and B and a class field of "
                         "A");
    }
    return om_crosstab_run_layers(opt, &opt->b, 1, out, progress, err);
}

/* The overlay's om_overlay_options.a_late: the caller's A, and its
 * classes. */
static enum om_status late_a(void *ctx, const struct om_layer **a,
                             struct om_error *err)
{
    struct shared *sh = ctx;
    const struct om_crosstab_options *opt = sh->opt;
    enum om_status st = opt->a_late(opt->a_late_ctx, a, err);
    if (st == OM_OK && !*a) {
        st = om__error(err, OM_EINVAL, NULL, 0, -1,
                       "crosstab: layer A given late is missing");
    }
    if (st == OM_OK) {
        sh->a = *a;
        st = make_dict(&sh->arena, sh->a, opt->class_a, opt->level_a, "class",
                       &sh->ca, err);
    }
    return st;
}

enum om_status om_crosstab_run_layers(const struct om_crosstab_options *opt,
                                      const struct om_layer *const *bs,
                                      size_t nb,
                                      struct om_crosstab_result **out,
                                      const struct om_progress *progress,
                                      struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1, "crosstab: out is NULL");
    }
    for (size_t l = 0; l < nb; l++) {
        out[l] = NULL;
    }
    bool have_b = bs && nb > 0;
    for (size_t l = 0; have_b && l < nb; l++) {
        have_b = bs[l] != NULL;
    }
    if (!opt || (!opt->a && !opt->a_late) || !have_b || !opt->class_a) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "crosstab needs layers A and B and a class field of "
                         "A");
    }
    if (opt->area != OM_AREA_ELLIPSOIDAL && opt->area != OM_AREA_PLANAR) {
        return om__error(err, OM_EINVAL, opt->a ? om_layer_name(opt->a) : NULL,
                         0, -1, "crosstab areas are ellipsoidal or planar");
    }
    if (opt->units && !opt->unit_code_field) {
        return om__error(err, OM_EINVAL, om_layer_name(opt->units), 0, -1,
                         "admin units need a code field");
    }
    struct shared sh;
    memset(&sh, 0, sizeof sh);
    sh.opt = opt;
    om__arena_init(&sh.arena);
    enum om_status st = OM_OK;
    sh.layer = om__calloc(nb, sizeof *sh.layer);
    if (!sh.layer) {
        st = om__enomem(err, NULL);
    }
    sh.a = opt->a;
    if (st == OM_OK && sh.a) {
        st = make_dict(&sh.arena, sh.a, opt->class_a, opt->level_a, "class",
                       &sh.ca, err);
    }
    for (size_t l = 0; st == OM_OK && l < nb; l++) {
        struct ctx *c = &sh.layer[l];
        c->opt = opt;
        c->sh = &sh;
        c->b = bs[l];
        if (opt->class_b) {
            st = make_dict(&sh.arena, bs[l], opt->class_b, opt->level_b,
                           "class", &c->cb, err);
        }
        c->inside_idx = 0;
        c->outside_idx = opt->class_b ? (uint32_t)c->cb.n : 1;
    }
    if (st == OM_OK && opt->units) {
        st = make_dict(&sh.arena, opt->units, opt->unit_code_field, 0,
                       "unit code", &sh.un, err);
        int fn = opt->unit_name_field
                     ? om_layer_field_index(opt->units, opt->unit_name_field)
                     : -1;
        if (st == OM_OK && opt->unit_name_field && fn < 0) {
            st = field_missing(opt->units, opt->unit_name_field, "unit name",
                               err);
        }
        if (st == OM_OK) {
            sh.unit_names = om__calloc(sh.un.n + 1, sizeof *sh.unit_names);
            if (!sh.unit_names) {
                st = om__enomem(err, NULL);
            }
        }
        char buf[256];
        for (size_t u = 0;
             st == OM_OK && fn >= 0 && u < om_layer_nfeatures(opt->units);
             u++) {
            uint32_t k = sh.un.feat[u];
            if (!sh.unit_names[k]) {
                om_layer_format_value(opt->units, u, fn, buf, sizeof buf);
                sh.unit_names[k] = om__arena_strdup(&sh.arena, buf);
                if (!sh.unit_names[k]) {
                    st = om__enomem(err, NULL);
                }
            }
        }
    }
    sh.unassigned_idx = (uint32_t)sh.un.n;
    if (st == OM_OK) {
        struct om_overlay_options o;
        memset(&o, 0, sizeof o);
        o.a = opt->a;
        if (!o.a) {
            o.a_late = late_a;
            o.a_late_ctx = &sh;
        }
        o.b = bs[0];
        o.more_b = bs + 1;
        o.nmore_b = nb - 1;
        o.units = opt->units;
        o.inside = true;
        o.outside = true;
        o.ellipsoidal = opt->area == OM_AREA_ELLIPSOIDAL;
        o.crs = opt->crs;
        o.min_area_m2 = opt->min_area_m2;
        o.threads = opt->threads;
        o.engine = opt->engine;
        st = om_overlay_run(&o, on_piece, &sh, progress, err);
    }
    struct om_layer_view av;
    if (st == OM_OK) {
        om_layer_view(sh.a, &av);
    }
    for (size_t l = 0; st == OM_OK && l < nb; l++) {
        st = build(&sh.layer[l], &av, &out[l], err);
    }
    if (st != OM_OK) {
        for (size_t l = 0; l < nb; l++) {
            om_crosstab_result_free(out[l]);
            out[l] = NULL;
        }
    }
    shared_free(&sh, nb);
    return st;
}
