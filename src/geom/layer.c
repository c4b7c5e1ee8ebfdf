/*
 * layer.c — the flat columnar polygon layer: building, Hilbert ordering,
 * the feature R-tree, attribute columns and read access.
 */
#include "onemap/layer.h"
#include "core/core.h"
#include "geom/layer_int.h"
#include "index/hilbert.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct column {
    char *name;
    enum om_field_type type;
    union {
        int64_t *i;
        double *d;
        size_t *s; /* offset into the layer's text pool */
    } v;
    uint8_t *is_null;
};

struct om_layer {
    char *name;
    char *crs;
    bool is_finished;
    bool in_feature;

    size_t nfeatures, nparts, nrings, npoints;
    size_t cap_feat, cap_part, cap_ring, cap_point;
    double *xy;
    size_t *point_start; /* nrings + 1 */
    size_t *ring_start;  /* nparts + 1 */
    size_t *part_start;  /* nfeatures + 1 */
    struct om_rect *bbox;
    int64_t *fid;
    uint8_t *flags;
    struct om_rect extent;

    struct column *cols;
    size_t ncols;
    char *pool;
    size_t pool_len, pool_cap;

    /* current feature rollback marks */
    size_t mark_parts, mark_rings, mark_points, mark_pool;

    struct om_rtree *index;
    size_t *fid_order; /* feature indices sorted by fid (after finish) */
};

/* ---- rectangles ---- */

struct om_rect om_rect_empty(void)
{
    struct om_rect r = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    return r;
}

bool om_rect_is_empty(struct om_rect r)
{
    return !(r.minx <= r.maxx && r.miny <= r.maxy);
}

struct om_rect om_rect_union(struct om_rect a, struct om_rect b)
{
    struct om_rect r;
    r.minx = a.minx < b.minx ? a.minx : b.minx;
    r.miny = a.miny < b.miny ? a.miny : b.miny;
    r.maxx = a.maxx > b.maxx ? a.maxx : b.maxx;
    r.maxy = a.maxy > b.maxy ? a.maxy : b.maxy;
    return r;
}

bool om_rect_intersects(struct om_rect a, struct om_rect b)
{
    return a.minx <= b.maxx && b.minx <= a.maxx && a.miny <= b.maxy &&
           b.miny <= a.maxy;
}

const char *om_field_type_name(enum om_field_type t)
{
    switch (t) {
    case OM_FIELD_INT:
        return "integer";
    case OM_FIELD_REAL:
        return "real";
    case OM_FIELD_TEXT:
        return "text";
    }
    return "unknown";
}

/* ---- lifecycle ---- */

static bool valid_name(const char *name)
{
    return name && name[0] && strlen(name) <= OM_LIMIT_NAME_BYTES;
}

enum om_status om_layer_new(const char *name, struct om_layer **out,
                            struct om_error *err)
{
    *out = NULL;
    if (!valid_name(name)) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "layer name is empty or longer than %u bytes",
                         OM_LIMIT_NAME_BYTES);
    }
    struct om_layer *l = om__calloc(1, sizeof *l);
    if (!l) {
        return om__enomem(err, name);
    }
    l->name = om__strdup(name);
    l->point_start = om__malloc(16 * sizeof(size_t));
    l->ring_start = om__malloc(16 * sizeof(size_t));
    l->part_start = om__malloc(16 * sizeof(size_t));
    if (!l->name || !l->point_start || !l->ring_start || !l->part_start) {
        om_layer_free(l);
        return om__enomem(err, name);
    }
    l->cap_ring = l->cap_part = 16;
    l->cap_feat = 15; /* feature arrays hold cap_feat + 1 (sentinel) */
    l->point_start[0] = l->ring_start[0] = l->part_start[0] = 0;
    l->extent = om_rect_empty();
    *out = l;
    return OM_OK;
}

static void free_columns(struct column *cols, size_t ncols)
{
    for (size_t c = 0; c < ncols; c++) {
        om__free(cols[c].name);
        om__free(cols[c].v.i);
        om__free(cols[c].is_null);
    }
    om__free(cols);
}

void om_layer_free(struct om_layer *l)
{
    if (!l) {
        return;
    }
    om__free(l->name);
    om__free(l->crs);
    om__free(l->xy);
    om__free(l->point_start);
    om__free(l->ring_start);
    om__free(l->part_start);
    om__free(l->bbox);
    om__free(l->fid);
    om__free(l->flags);
    free_columns(l->cols, l->ncols);
    om__free(l->pool);
    om_rtree_free(l->index);
    om__free(l->fid_order);
    om__free(l);
}

enum om_status om_layer_set_crs(struct om_layer *l, const char *crs,
                                struct om_error *err)
{
    char *c = NULL;
    if (crs) {
        c = om__strdup(crs);
        if (!c) {
            return om__enomem(err, l->name);
        }
    }
    om__free(l->crs);
    l->crs = c;
    return OM_OK;
}

enum om_status om_layer_set_name(struct om_layer *l, const char *name,
                                 struct om_error *err)
{
    if (!valid_name(name)) {
        return om__error(err, OM_EINVAL, l->name, 0, -1,
                         "layer name is empty or too long");
    }
    char *n = om__strdup(name);
    if (!n) {
        return om__enomem(err, l->name);
    }
    om__free(l->name);
    l->name = n;
    return OM_OK;
}

enum om_status om_layer_add_field(struct om_layer *l, const char *name,
                                  enum om_field_type type, int *index,
                                  struct om_error *err)
{
    if (l->nfeatures > 0 || l->in_feature || l->is_finished) {
        return om__error(err, OM_EINVAL, l->name, 0, -1,
                         "field '%s' added after the first feature", name);
    }
    if (!valid_name(name)) {
        return om__error(err, OM_EINVAL, l->name, 0, -1,
                         "field name is empty or longer than %u bytes",
                         OM_LIMIT_NAME_BYTES);
    }
    if (type != OM_FIELD_INT && type != OM_FIELD_REAL &&
        type != OM_FIELD_TEXT) {
        return om__error(err, OM_EINVAL, l->name, 0, -1,
                         "field '%s' has an unknown type", name);
    }
    if (om_layer_field_index(l, name) >= 0) {
        return om__error(err, OM_EEXIST, l->name, 0, -1,
                         "duplicate field name '%s'", name);
    }
    if (l->ncols >= OM_LIMIT_FIELDS) {
        return om__error(err, OM_ELIMIT, l->name, 0, -1, "more than %u fields",
                         OM_LIMIT_FIELDS);
    }
    struct column *cols = om__reallocarray(l->cols, l->ncols + 1, sizeof *cols);
    if (!cols) {
        return om__enomem(err, l->name);
    }
    l->cols = cols;
    struct column *c = &cols[l->ncols];
    memset(c, 0, sizeof *c);
    c->name = om__strdup(name);
    c->type = type;
    size_t cap = l->cap_feat + 1;
    c->v.i = om__malloc(cap * 8); /* all value types are 8 bytes */
    c->is_null = om__malloc(cap);
    if (!c->name || !c->v.i || !c->is_null) {
        om__free(c->name);
        om__free(c->v.i);
        om__free(c->is_null);
        return om__enomem(err, l->name);
    }
    if (index) {
        *index = (int)l->ncols;
    }
    l->ncols++;
    return OM_OK;
}

/* ---- building ---- */

static enum om_status not_building(struct om_layer *l, struct om_error *err)
{
    return om__error(err, OM_EINVAL, l->name, 0, -1,
                     l->is_finished ? "layer is finished (read-only)"
                                    : "no feature is being built");
}

/* Grow per-feature arrays to hold index `f` (+1 sentinel). */
static bool reserve_features(struct om_layer *l, size_t f)
{
    if (f + 1 < l->cap_feat + 1 && l->bbox) {
        return true;
    }
    size_t ncap = l->cap_feat ? l->cap_feat : 16;
    while (f + 1 >= ncap + 1 || ncap < 16) {
        ncap *= 2;
    }
    size_t *ps = om__reallocarray(l->part_start, ncap + 1, sizeof *ps);
    if (!ps) {
        return false;
    }
    l->part_start = ps;
    struct om_rect *bb = om__reallocarray(l->bbox, ncap + 1, sizeof *bb);
    if (!bb) {
        return false;
    }
    l->bbox = bb;
    int64_t *fid = om__reallocarray(l->fid, ncap + 1, sizeof *fid);
    if (!fid) {
        return false;
    }
    l->fid = fid;
    uint8_t *fl = om__reallocarray(l->flags, ncap + 1, 1);
    if (!fl) {
        return false;
    }
    l->flags = fl;
    for (size_t c = 0; c < l->ncols; c++) {
        int64_t *v = om__reallocarray(l->cols[c].v.i, ncap + 1, 8);
        if (!v) {
            return false;
        }
        l->cols[c].v.i = v;
        uint8_t *nn = om__reallocarray(l->cols[c].is_null, ncap + 1, 1);
        if (!nn) {
            return false;
        }
        l->cols[c].is_null = nn;
    }
    l->cap_feat = ncap;
    return true;
}

/* Grow the coordinates to hold n points (cap_point counts doubles). */
static bool reserve_points(struct om_layer *l, size_t n)
{
    size_t need = 2 * n;
    if (need <= l->cap_point) {
        return true;
    }
    size_t ncap = l->cap_point ? l->cap_point : 1024;
    while (ncap < need) {
        ncap *= 2;
    }
    double *p = om__reallocarray(l->xy, ncap, sizeof *p);
    if (!p) {
        return false;
    }
    l->xy = p;
    l->cap_point = ncap;
    return true;
}

enum om_status om_layer_begin_feature(struct om_layer *l, int64_t fid,
                                      struct om_error *err)
{
    if (l->is_finished || l->in_feature) {
        return om__error(err, OM_EINVAL, l->name, 0, fid,
                         l->is_finished ? "layer is finished (read-only)"
                                        : "previous feature not ended");
    }
    if (l->nfeatures >= OM_LIMIT_LAYER_FEATURES) {
        return om__error(err, OM_ELIMIT, l->name, 0, fid,
                         "more than %u features in one layer",
                         OM_LIMIT_LAYER_FEATURES);
    }
    size_t f = l->nfeatures;
    if (!reserve_features(l, f)) {
        return om__enomem(err, l->name);
    }
    l->fid[f] = fid;
    l->flags[f] = 0;
    l->bbox[f] = om_rect_empty();
    l->part_start[f] = l->nparts;
    for (size_t c = 0; c < l->ncols; c++) {
        l->cols[c].is_null[f] = 1;
        l->cols[c].v.i[f] = 0;
    }
    l->mark_parts = l->nparts;
    l->mark_rings = l->nrings;
    l->mark_points = l->npoints;
    l->mark_pool = l->pool_len;
    l->in_feature = true;
    return OM_OK;
}

/* Remove a trailing part that got no ring. */
static void drop_empty_part(struct om_layer *l)
{
    if (l->nparts > l->mark_parts &&
        l->ring_start[l->nparts - 1] == l->nrings) {
        l->nparts--;
    }
}

enum om_status om_layer_begin_part(struct om_layer *l, struct om_error *err)
{
    if (!l->in_feature) {
        return not_building(l, err);
    }
    drop_empty_part(l);
    if (!OM__GROW(l->ring_start, l->cap_part, l->nparts + 2)) {
        return om__enomem(err, l->name);
    }
    l->ring_start[l->nparts] = l->nrings;
    l->nparts++;
    l->ring_start[l->nparts] = l->nrings;
    return OM_OK;
}

enum om_status om_layer_add_ring(struct om_layer *l, const double *xy, size_t n,
                                 struct om_error *err)
{
    size_t f = l->nfeatures;
    if (!l->in_feature) {
        return not_building(l, err);
    }
    if (l->nparts == l->mark_parts) {
        return om__error(err, OM_EINVAL, l->name, 0, l->fid[f],
                         "ring added before om_layer_begin_part");
    }
    bool closed = n >= 2 && xy[0] == xy[2 * n - 2] && xy[1] == xy[2 * n - 1];
    size_t nstore = closed || n == 0 ? n : n + 1;
    if (l->npoints - l->mark_points + nstore > OM_LIMIT_FEATURE_POINTS) {
        return om__error(err, OM_ELIMIT, l->name, 0, l->fid[f],
                         "more than %u vertices in one feature",
                         OM_LIMIT_FEATURE_POINTS);
    }
    if (l->nrings - l->mark_rings + 1 > OM_LIMIT_FEATURE_RINGS) {
        return om__error(err, OM_ELIMIT, l->name, 0, l->fid[f],
                         "more than %u rings in one feature",
                         OM_LIMIT_FEATURE_RINGS);
    }
    if (!OM__GROW(l->point_start, l->cap_ring, l->nrings + 2)) {
        return om__enomem(err, l->name);
    }
    if (!reserve_points(l, l->npoints + nstore)) {
        return om__enomem(err, l->name);
    }
    double *dst = l->xy + 2 * l->npoints;
    if (n) {
        memcpy(dst, xy, 2 * n * sizeof *xy);
    }
    if (nstore > n) {
        dst[2 * n] = xy[0];
        dst[2 * n + 1] = xy[1];
    }
    struct om_rect b = l->bbox[f];
    bool finite = true;
    for (size_t i = 0; i < nstore; i++) {
        double x = dst[2 * i], y = dst[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) {
            finite = false;
            continue;
        }
        if (x < b.minx) {
            b.minx = x;
        }
        if (x > b.maxx) {
            b.maxx = x;
        }
        if (y < b.miny) {
            b.miny = y;
        }
        if (y > b.maxy) {
            b.maxy = y;
        }
    }
    l->bbox[f] = b;
    if (!finite || nstore < 4) {
        l->flags[f] |= OM_FEAT_INVALID;
    }
    l->point_start[l->nrings] = l->npoints;
    l->npoints += nstore;
    l->nrings++;
    l->point_start[l->nrings] = l->npoints;
    l->ring_start[l->nparts] = l->nrings;
    return OM_OK;
}

/*
 * memcpy of a large block on several threads: the destination of an
 * append is fresh memory, and first touching it (page faults, the kernel
 * zeroing the pages) was most of a city read's single-threaded append,
 * 0.75 s for 160 MB of coordinates; each thread touches its own slice.
 */
struct copy_slice {
    char *dst;
    const char *src;
    size_t n;
    pthread_t tid;
    bool started;
};

static void *copy_main(void *arg)
{
    struct copy_slice *c = arg;
    memcpy(c->dst, c->src, c->n);
    return NULL;
}

enum { COPY_PAR_MIN = 16u << 20, COPY_MAX_THREADS = 4 };

static void copy_par(void *dst, const void *src, size_t n)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cores < 1 ? 1 : (size_t)cores;
    nt = nt > COPY_MAX_THREADS ? COPY_MAX_THREADS : nt;
    if (n < COPY_PAR_MIN || nt < 2) {
        memcpy(dst, src, n);
        return;
    }
    struct copy_slice s[COPY_MAX_THREADS];
    for (size_t t = 0; t < nt; t++) {
        size_t a = n * t / nt, b = n * (t + 1) / nt;
        s[t].dst = (char *)dst + a;
        s[t].src = (const char *)src + a;
        s[t].n = b - a;
        s[t].started =
            t > 0 && pthread_create(&s[t].tid, NULL, copy_main, &s[t]) == 0;
    }
    for (size_t t = 0; t < nt; t++) {
        if (!s[t].started) {
            copy_main(&s[t]);
        }
    }
    for (size_t t = 1; t < nt; t++) {
        if (s[t].started) {
            pthread_join(s[t].tid, NULL);
        }
    }
}

/* src can join dst (append, finish as parts): both unfinished, not
 * building a feature, the same fields (names, types) in the same order. */
static bool can_join(const struct om_layer *dst, const struct om_layer *src)
{
    bool same = dst->ncols == src->ncols;
    for (size_t c = 0; same && c < dst->ncols; c++) {
        same = dst->cols[c].type == src->cols[c].type &&
               strcmp(dst->cols[c].name, src->cols[c].name) == 0;
    }
    return same && !dst->is_finished && !dst->in_feature && !src->is_finished &&
           !src->in_feature;
}

enum om_status om__layer_append(struct om_layer *dst,
                                const struct om_layer *src,
                                struct om_error *err)
{
    if (!can_join(dst, src)) {
        return om__error(err, OM_EINVAL, dst->name, 0, -1,
                         "cannot append layer %s: finished, building a "
                         "feature, or other fields",
                         src->name);
    }
    if (src->nfeatures == 0) {
        return OM_OK;
    }
    if (src->nfeatures > OM_LIMIT_LAYER_FEATURES - dst->nfeatures) {
        return om__error(err, OM_ELIMIT, dst->name, 0, -1,
                         "more than %u features in one layer",
                         OM_LIMIT_LAYER_FEATURES);
    }
    size_t nf = dst->nfeatures + src->nfeatures;
    if (!reserve_features(dst, nf - 1) ||
        !reserve_points(dst, dst->npoints + src->npoints) ||
        !OM__GROW(dst->ring_start, dst->cap_part,
                  dst->nparts + src->nparts + 2) ||
        !OM__GROW(dst->point_start, dst->cap_ring,
                  dst->nrings + src->nrings + 2) ||
        !OM__GROW(dst->pool, dst->pool_cap,
                  dst->pool_len + src->pool_len + 1)) {
        return om__enomem(err, dst->name);
    }
    if (src->npoints) {
        copy_par(dst->xy + 2 * dst->npoints, src->xy,
                 2 * src->npoints * sizeof *src->xy);
    }
    for (size_t r = 1; r <= src->nrings; r++) {
        dst->point_start[dst->nrings + r] = src->point_start[r] + dst->npoints;
    }
    for (size_t p = 1; p <= src->nparts; p++) {
        dst->ring_start[dst->nparts + p] = src->ring_start[p] + dst->nrings;
    }
    size_t f0 = dst->nfeatures;
    for (size_t f = 1; f <= src->nfeatures; f++) {
        dst->part_start[f0 + f] = src->part_start[f] + dst->nparts;
    }
    memcpy(dst->bbox + f0, src->bbox, src->nfeatures * sizeof *src->bbox);
    memcpy(dst->fid + f0, src->fid, src->nfeatures * sizeof *src->fid);
    memcpy(dst->flags + f0, src->flags, src->nfeatures);
    for (size_t c = 0; c < dst->ncols; c++) {
        struct column *d = &dst->cols[c];
        const struct column *s = &src->cols[c];
        memcpy(d->is_null + f0, s->is_null, src->nfeatures);
        if (d->type == OM_FIELD_TEXT) {
            for (size_t f = 0; f < src->nfeatures; f++) {
                d->v.s[f0 + f] = s->is_null[f] ? 0 : s->v.s[f] + dst->pool_len;
            }
        } else {
            memcpy(d->v.i + f0, s->v.i, src->nfeatures * sizeof *s->v.i);
        }
    }
    if (src->pool_len) {
        memcpy(dst->pool + dst->pool_len, src->pool, src->pool_len);
    }
    dst->extent = om_rect_union(dst->extent, src->extent);
    dst->npoints += src->npoints;
    dst->nrings += src->nrings;
    dst->nparts += src->nparts;
    dst->nfeatures = nf;
    dst->pool_len += src->pool_len;
    return OM_OK;
}

static enum om_status check_set(struct om_layer *l, int field,
                                enum om_field_type type, struct om_error *err)
{
    if (!l->in_feature) {
        return not_building(l, err);
    }
    if (field < 0 || (size_t)field >= l->ncols) {
        return om__error(err, OM_EINVAL, l->name, 0, l->fid[l->nfeatures],
                         "no field with index %d", field);
    }
    if (l->cols[field].type != type) {
        return om__error(err, OM_EINVAL, l->name, 0, l->fid[l->nfeatures],
                         "field '%s' is %s, not %s", l->cols[field].name,
                         om_field_type_name(l->cols[field].type),
                         om_field_type_name(type));
    }
    return OM_OK;
}

enum om_status om_layer_set_int(struct om_layer *l, int field, int64_t value,
                                struct om_error *err)
{
    enum om_status st = check_set(l, field, OM_FIELD_INT, err);
    if (st == OM_OK) {
        l->cols[field].v.i[l->nfeatures] = value;
        l->cols[field].is_null[l->nfeatures] = 0;
    }
    return st;
}

enum om_status om_layer_set_real(struct om_layer *l, int field, double value,
                                 struct om_error *err)
{
    enum om_status st = check_set(l, field, OM_FIELD_REAL, err);
    if (st == OM_OK) {
        l->cols[field].v.d[l->nfeatures] = value;
        l->cols[field].is_null[l->nfeatures] = 0;
    }
    return st;
}

enum om_status om_layer_set_text(struct om_layer *l, int field,
                                 const char *value, struct om_error *err)
{
    enum om_status st = check_set(l, field, OM_FIELD_TEXT, err);
    if (st != OM_OK) {
        return st;
    }
    size_t f = l->nfeatures;
    if (!value) {
        l->cols[field].is_null[f] = 1;
        return OM_OK;
    }
    size_t n = strlen(value);
    if (n > OM_LIMIT_TEXT_BYTES) {
        return om__error(err, OM_ELIMIT, l->name, 0, l->fid[f],
                         "text in field '%s' longer than %u bytes",
                         l->cols[field].name, OM_LIMIT_TEXT_BYTES);
    }
    if (!OM__GROW(l->pool, l->pool_cap, l->pool_len + n + 1)) {
        return om__enomem(err, l->name);
    }
    memcpy(l->pool + l->pool_len, value, n + 1);
    l->cols[field].v.s[f] = l->pool_len;
    l->cols[field].is_null[f] = 0;
    l->pool_len += n + 1;
    return OM_OK;
}

void om_layer_set_flags(struct om_layer *l, unsigned flags)
{
    if (l->in_feature) {
        l->flags[l->nfeatures] |= (uint8_t)flags;
    }
}

enum om_status om_layer_end_feature(struct om_layer *l, struct om_error *err)
{
    if (!l->in_feature) {
        return not_building(l, err);
    }
    drop_empty_part(l);
    size_t f = l->nfeatures;
    if (l->nparts == l->mark_parts) {
        l->flags[f] |= OM_FEAT_EMPTY;
    }
    if (!om_rect_is_empty(l->bbox[f])) {
        l->extent = om_rect_union(l->extent, l->bbox[f]);
    }
    l->nfeatures++;
    l->part_start[l->nfeatures] = l->nparts;
    l->in_feature = false;
    return OM_OK;
}

void om__layer_clear(struct om_layer *l)
{
    l->nfeatures = l->nparts = l->nrings = l->npoints = 0;
    l->point_start[0] = l->ring_start[0] = l->part_start[0] = 0;
    l->extent = om_rect_empty();
    l->pool_len = 0;
    l->mark_parts = l->mark_rings = l->mark_points = l->mark_pool = 0;
    l->in_feature = false;
    l->is_finished = false;
    om_rtree_free(l->index);
    l->index = NULL;
    om__free(l->fid_order);
    l->fid_order = NULL;
}

void om_layer_abort_feature(struct om_layer *l)
{
    if (!l->in_feature) {
        return;
    }
    l->nparts = l->mark_parts;
    l->nrings = l->mark_rings;
    l->npoints = l->mark_points;
    l->pool_len = l->mark_pool;
    l->ring_start[l->nparts] = l->nrings;
    l->point_start[l->nrings] = l->npoints;
    l->in_feature = false;
}

/* ---- finishing ---- */

/* qsort has no context argument in C17; sort (fid,index) pairs instead. */
struct fid_pair {
    int64_t fid;
    size_t idx;
};
static int cmp_pair(const void *a, const void *b)
{
    const struct fid_pair *x = a, *y = b;
    if (x->fid != y->fid) {
        return x->fid < y->fid ? -1 : 1;
    }
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * The features a reordering copies from: those of src[0], then those of
 * src[1], ... (the parts of one table read in ranges of fids); feature g
 * of that sequence is feature g - base[k] of src[k], its text offsets moved
 * by pool_base[k] (the sources' text pools are laid end to end).
 */
struct perm_src {
    const struct om_layer *const *l;
    size_t n;
    size_t base[OM__LAYER_MAX_PARTS + 1]; /* base[n]: every feature */
    size_t pool_base[OM__LAYER_MAX_PARTS];
};

static size_t src_of(const struct perm_src *s, size_t g)
{
    size_t k = s->n - 1;
    while (g < s->base[k]) {
        k--;
    }
    return k;
}

/*
 * The permutation's copies, for the output features [i0, i1) of one thread:
 * first their counts of parts, rings and points (phase 0), then, from the
 * offsets those give, the copy of their geometry (phase 1) and of the
 * columns c with c % nthreads == the thread's index.
 */
struct perm_job {
    const struct perm_src *src;
    const size_t *perm;
    size_t nf, ncols;
    size_t i0, i1, t, nthreads;
    int phase;
    size_t np, nr, nq; /* phase 0: the counts; phase 1: the first of each */
    double *xy;
    size_t *pts, *rs, *ps;
    struct om_rect *bb;
    int64_t *fid;
    uint8_t *fl;
    int64_t **cv; /* the new column values, ncols of them */
    uint8_t **cn; /* and their null flags */
    pthread_t tid;
    bool started;
};

static void *perm_main(void *arg)
{
    struct perm_job *j = arg;
    const struct perm_src *s = j->src;
    const size_t *perm = j->perm;
    if (j->phase == 0) {
        size_t np = 0, nr = 0, nq = 0;
        for (size_t i = j->i0; i < j->i1; i++) {
            size_t k = src_of(s, perm[i]);
            const struct om_layer *l = s->l[k];
            size_t f = perm[i] - s->base[k];
            size_t p0 = l->part_start[f], p1 = l->part_start[f + 1];
            np += p1 - p0;
            nr += l->ring_start[p1] - l->ring_start[p0];
            nq += l->point_start[l->ring_start[p1]] -
                  l->point_start[l->ring_start[p0]];
        }
        j->np = np;
        j->nr = nr;
        j->nq = nq;
        return NULL;
    }
    size_t np = j->np, nr = j->nr, nq = j->nq;
    for (size_t i = j->i0; i < j->i1; i++) {
        size_t k = src_of(s, perm[i]);
        const struct om_layer *l = s->l[k];
        size_t f = perm[i] - s->base[k];
        j->ps[i] = np;
        j->bb[i] = l->bbox[f];
        j->fid[i] = l->fid[f];
        j->fl[i] = l->flags[f];
        /* a feature's rings, and their points, are contiguous */
        size_t a = l->point_start[l->ring_start[l->part_start[f]]];
        size_t b = l->point_start[l->ring_start[l->part_start[f + 1]]];
        for (size_t p = l->part_start[f]; p < l->part_start[f + 1]; p++) {
            j->rs[np++] = nr;
            for (size_t r = l->ring_start[p]; r < l->ring_start[p + 1]; r++) {
                j->pts[nr++] = nq + (l->point_start[r] - a);
            }
        }
        memcpy(j->xy + 2 * nq, l->xy + 2 * a, 2 * (b - a) * sizeof *j->xy);
        nq += b - a;
    }
    for (size_t c = j->t; c < j->ncols; c += j->nthreads) {
        int64_t *v = j->cv[c];
        uint8_t *nn = j->cn[c];
        bool text = s->l[0]->cols[c].type == OM_FIELD_TEXT;
        for (size_t i = 0; i < j->nf; i++) {
            size_t k = src_of(s, perm[i]);
            const struct column *col = &s->l[k]->cols[c];
            size_t f = perm[i] - s->base[k];
            nn[i] = col->is_null[f];
            v[i] = col->v.i[f];
            if (text && !nn[i]) {
                v[i] = (int64_t)(col->v.s[f] + s->pool_base[k]);
            }
        }
    }
    return NULL;
}

int om__layer_permute_threads = 0;
enum { PERM_MIN_POINTS = 1 << 20, PERM_MAX_THREADS = 4 };

static size_t permute_threads(size_t npoints, size_t nf)
{
    if (npoints < PERM_MIN_POINTS && om__layer_permute_threads == 0) {
        return 1;
    }
    long n = om__layer_permute_threads > 0 ? om__layer_permute_threads
                                           : sysconf(_SC_NPROCESSORS_ONLN);
    n = n < 1 ? 1 : n > PERM_MAX_THREADS ? PERM_MAX_THREADS : n;
    size_t m = (size_t)n;
    return m <= nf ? m : nf ? nf : 1;
}

/* Run phase `phase` of the jobs, on threads where they start. */
static void perm_run(struct perm_job *jobs, size_t n, int phase)
{
    for (size_t t = 0; t < n; t++) {
        jobs[t].phase = phase;
        jobs[t].started = t > 0 && pthread_create(&jobs[t].tid, NULL, perm_main,
                                                  &jobs[t]) == 0;
    }
    for (size_t t = 0; t < n; t++) {
        if (!jobs[t].started) {
            perm_main(&jobs[t]);
        }
    }
    for (size_t t = 0; t < n; t++) {
        if (jobs[t].started) {
            pthread_join(jobs[t].tid, NULL);
        }
    }
}

/* The new arrays of a reordering. */
struct perm_out {
    double *xy;
    size_t *pts, *rs, *ps;
    struct om_rect *bb;
    int64_t *fid;
    uint8_t *fl;
    int64_t **cv;
    uint8_t **cn;
    size_t ncols;
};

static void perm_out_free(struct perm_out *o)
{
    om__free(o->xy);
    om__free(o->pts);
    om__free(o->rs);
    om__free(o->ps);
    om__free(o->bb);
    om__free(o->fid);
    om__free(o->fl);
    for (size_t c = 0; c < o->ncols; c++) {
        om__free(o->cv ? o->cv[c] : NULL);
        om__free(o->cn ? o->cn[c] : NULL);
    }
    om__free(o->cv);
    om__free(o->cn);
}

/*
 * Copy the features of the sources into dst in the order `perm` (new
 * position i holds feature perm[i] of the sources' sequence), replacing
 * dst's geometry, per-feature arrays and column values; dst's counts
 * become the totals. Large layers are copied on several threads (the copy
 * of a city's coordinates is most of a read's single-threaded time); the
 * result does not depend on their number. On failure dst is unchanged.
 */
static enum om_status permute(struct om_layer *dst, const struct perm_src *s,
                              const size_t *perm, struct om_error *err)
{
    size_t nf = s->base[s->n], npts = 0, nrings = 0, nparts = 0;
    for (size_t k = 0; k < s->n; k++) {
        npts += s->l[k]->npoints;
        nrings += s->l[k]->nrings;
        nparts += s->l[k]->nparts;
    }
    size_t nt = permute_threads(npts, nf), ncols = dst->ncols;
    struct perm_out o = {0};
    o.xy = om__reallocarray(NULL, 2 * npts + 2, sizeof *o.xy);
    o.pts = om__reallocarray(NULL, nrings + 1, sizeof *o.pts);
    o.rs = om__reallocarray(NULL, nparts + 1, sizeof *o.rs);
    o.ps = om__reallocarray(NULL, nf + 1, sizeof *o.ps);
    o.bb = om__reallocarray(NULL, nf + 1, sizeof *o.bb);
    o.fid = om__reallocarray(NULL, nf + 1, sizeof *o.fid);
    o.fl = om__malloc(nf + 1);
    o.cv = om__calloc(ncols ? ncols : 1, sizeof *o.cv);
    o.cn = om__calloc(ncols ? ncols : 1, sizeof *o.cn);
    struct perm_job *jobs = om__calloc(nt, sizeof *jobs);
    bool ok = o.xy && o.pts && o.rs && o.ps && o.bb && o.fid && o.fl && o.cv &&
              o.cn && jobs;
    if (o.cv && o.cn) {
        o.ncols = ncols;
    }
    for (size_t c = 0; ok && c < ncols; c++) {
        o.cv[c] = om__reallocarray(NULL, nf + 1, 8);
        o.cn[c] = om__malloc(nf + 1);
        ok = o.cv[c] && o.cn[c];
    }
    if (!ok) {
        om__free(jobs);
        perm_out_free(&o);
        return om__enomem(err, dst->name);
    }
    for (size_t t = 0; t < nt; t++) {
        struct perm_job *j = &jobs[t];
        j->src = s;
        j->perm = perm;
        j->nf = nf;
        j->ncols = ncols;
        j->i0 = nf * t / nt;
        j->i1 = nf * (t + 1) / nt;
        j->t = t;
        j->nthreads = nt;
        j->xy = o.xy;
        j->pts = o.pts;
        j->rs = o.rs;
        j->ps = o.ps;
        j->bb = o.bb;
        j->fid = o.fid;
        j->fl = o.fl;
        j->cv = o.cv;
        j->cn = o.cn;
    }
    perm_run(jobs, nt, 0);
    size_t np = 0, nr = 0, nq = 0;
    for (size_t t = 0; t < nt; t++) {
        size_t a = jobs[t].np, b = jobs[t].nr, c = jobs[t].nq;
        jobs[t].np = np;
        jobs[t].nr = nr;
        jobs[t].nq = nq;
        np += a;
        nr += b;
        nq += c;
    }
    perm_run(jobs, nt, 1);
    om__free(jobs);
    o.ps[nf] = np;
    o.rs[np] = nr;
    o.pts[nr] = nq;
    om__free(dst->xy);
    om__free(dst->point_start);
    om__free(dst->ring_start);
    om__free(dst->part_start);
    om__free(dst->bbox);
    om__free(dst->fid);
    om__free(dst->flags);
    dst->xy = o.xy;
    dst->cap_point = 2 * npts + 2;
    dst->point_start = o.pts;
    dst->cap_ring = nrings;
    dst->ring_start = o.rs;
    dst->cap_part = nparts;
    dst->part_start = o.ps;
    dst->bbox = o.bb;
    dst->fid = o.fid;
    dst->flags = o.fl;
    dst->cap_feat = nf;
    for (size_t c = 0; c < ncols; c++) {
        om__free(dst->cols[c].v.i);
        om__free(dst->cols[c].is_null);
        dst->cols[c].v.i = o.cv[c];
        dst->cols[c].is_null = o.cn[c];
    }
    om__free(o.cv);
    om__free(o.cn);
    dst->nfeatures = nf;
    dst->npoints = npts;
    dst->nrings = nrings;
    dst->nparts = nparts;
    return OM_OK;
}

/*
 * The end of every finish: the fid order and the R-tree of dst, already in
 * its final order; `fid_order` NULL when it must be sorted.
 */
static enum om_status seal(struct om_layer *l, size_t *fid_order, bool index,
                           struct om_error *err)
{
    size_t nf = l->nfeatures;
    if (!fid_order) {
        fid_order = om__reallocarray(NULL, nf ? nf : 1, sizeof *fid_order);
        struct fid_pair *pairs =
            om__reallocarray(NULL, nf ? nf : 1, sizeof *pairs);
        if (!fid_order || !pairs) {
            om__free(fid_order);
            om__free(pairs);
            return om__enomem(err, l->name);
        }
        for (size_t i = 0; i < nf; i++) {
            pairs[i].fid = l->fid[i];
            pairs[i].idx = i;
        }
        if (nf > 1) {
            qsort(pairs, nf, sizeof *pairs, cmp_pair);
        }
        for (size_t i = 0; i < nf; i++) {
            fid_order[i] = pairs[i].idx;
        }
        om__free(pairs);
    }
    struct om_rtree *tree = NULL;
    enum om_status st = index ? om_rtree_build(l->bbox, nf, &tree, err) : OM_OK;
    if (st != OM_OK) {
        om__free(fid_order);
        return st;
    }
    om_rtree_free(l->index);
    om__free(l->fid_order);
    l->index = tree;
    l->fid_order = fid_order;
    l->is_finished = true;
    return OM_OK;
}

/*
 * Finish the sources as one layer in dst (= src[0]): reorder (unless
 * KEEP_ORDER with a single source, which stays where it is), then seal.
 */
static enum om_status finish_sources(struct om_layer *dst,
                                     const struct perm_src *s, unsigned flags,
                                     struct om_error *err)
{
    size_t nf = s->base[s->n];
    if (s->n == 1 && !reserve_features(dst, nf)) {
        return om__enomem(err, dst->name);
    }
    /* Read in fid order (a project table, most sources): the fid order
     * after the Hilbert permutation is its inverse, no sort needed. */
    bool ascending = true;
    int64_t last = 0;
    for (size_t k = 0; k < s->n && ascending; k++) {
        const struct om_layer *l = s->l[k];
        for (size_t i = 0; i < l->nfeatures && ascending; i++) {
            ascending = (k == 0 && i == 0) || last < l->fid[i];
            last = l->fid[i];
        }
    }
    bool reorder = !(flags & OM_LAYER_KEEP_ORDER) && nf > 1;
    size_t *perm = NULL;
    if (reorder || s->n > 1) {
        perm = om__reallocarray(NULL, nf ? nf : 1, sizeof *perm);
        if (!perm) {
            return om__enomem(err, dst->name);
        }
    }
    if (reorder) {
        uint32_t *keys = om__reallocarray(NULL, nf, sizeof *keys);
        struct om_rect ext = om_rect_empty();
        for (size_t k = 0; k < s->n; k++) {
            ext = om_rect_union(ext, s->l[k]->extent);
        }
        for (size_t k = 0; keys && k < s->n; k++) {
            om__hilbert_keys(s->l[k]->bbox, s->l[k]->nfeatures, ext,
                             keys + s->base[k]);
        }
        bool ok = keys && om__hilbert_order(keys, nf, perm);
        om__free(keys);
        if (!ok) {
            om__free(perm);
            return om__enomem(err, dst->name);
        }
    } else if (perm) {
        for (size_t i = 0; i < nf; i++) {
            perm[i] = i;
        }
    }
    size_t *order = NULL;
    if (ascending) {
        order = om__reallocarray(NULL, nf ? nf : 1, sizeof *order);
        if (!order) {
            om__free(perm);
            return om__enomem(err, dst->name);
        }
        for (size_t i = 0; i < nf; i++) {
            order[perm ? perm[i] : i] = i;
        }
    }
    if (perm) {
        enum om_status st = permute(dst, s, perm, err);
        om__free(perm);
        if (st != OM_OK) {
            om__free(order);
            return st;
        }
    }
    return seal(dst, order, !(flags & OM_LAYER_NO_INDEX), err);
}

enum om_status om_layer_finish(struct om_layer *l, unsigned flags,
                               struct om_error *err)
{
    if (l->in_feature) {
        return om__error(err, OM_EINVAL, l->name, 0, -1,
                         "om_layer_finish with a feature still open");
    }
    if (l->is_finished) {
        return OM_OK;
    }
    const struct om_layer *one[] = {l};
    struct perm_src s = {one, 1, {0, l->nfeatures}, {0}};
    return finish_sources(l, &s, flags, err);
}

enum om_status om__layer_finish_parts(struct om_layer **parts, size_t n,
                                      unsigned flags, struct om_error *err)
{
    if (n == 0 || n > OM__LAYER_MAX_PARTS) {
        return om__error(err, OM_EINVAL, n ? parts[0]->name : NULL, 0, -1,
                         "cannot finish %zu parts as one layer (1 to %d)", n,
                         OM__LAYER_MAX_PARTS);
    }
    struct om_layer *dst = parts[0];
    for (size_t k = 1; k < n; k++) {
        if (!can_join(dst, parts[k])) {
            return om__error(err, OM_EINVAL, dst->name, 0, -1,
                             "cannot finish layer %s with %s: finished, "
                             "building a feature, or other fields",
                             dst->name, parts[k]->name);
        }
    }
    if (n == 1 || (flags & OM_LAYER_KEEP_ORDER)) {
        /* no reordering: parts[0] grows in place (realloc moves the pages
         * of a big block without copying them) and takes the others' */
        for (size_t k = 1; k < n; k++) {
            enum om_status st = om__layer_append(dst, parts[k], err);
            if (st != OM_OK) {
                return st;
            }
        }
        enum om_status st = om_layer_finish(dst, flags, err);
        for (size_t k = 1; st == OM_OK && k < n; k++) {
            om_layer_free(parts[k]);
            parts[k] = NULL;
        }
        return st;
    }
    struct perm_src s = {(const struct om_layer *const *)parts, n, {0}, {0}};
    size_t pool = 0;
    for (size_t k = 0; k < n; k++) {
        if (parts[k]->nfeatures > OM_LIMIT_LAYER_FEATURES - s.base[k]) {
            return om__error(err, OM_ELIMIT, dst->name, 0, -1,
                             "more than %u features in one layer",
                             OM_LIMIT_LAYER_FEATURES);
        }
        s.base[k + 1] = s.base[k] + parts[k]->nfeatures;
        s.pool_base[k] = pool;
        pool += parts[k]->pool_len;
    }
    /* the text pools end to end in dst's (its own stays where it is) */
    if (!OM__GROW(dst->pool, dst->pool_cap, pool + 1)) {
        return om__enomem(err, dst->name);
    }
    enum om_status st = finish_sources(dst, &s, flags, err);
    if (st != OM_OK) {
        return st;
    }
    for (size_t k = 1; k < n; k++) {
        if (parts[k]->pool_len) {
            memcpy(dst->pool + s.pool_base[k], parts[k]->pool,
                   parts[k]->pool_len);
        }
        dst->extent = om_rect_union(dst->extent, parts[k]->extent);
        om_layer_free(parts[k]);
        parts[k] = NULL;
    }
    dst->pool_len = pool;
    return OM_OK;
}

/* ---- reading ---- */

const char *om_layer_name(const struct om_layer *l)
{
    return l->name;
}

const char *om_layer_crs(const struct om_layer *l)
{
    return l->crs;
}

size_t om_layer_nfeatures(const struct om_layer *l)
{
    return l->nfeatures;
}

struct om_rect om_layer_extent(const struct om_layer *l)
{
    return l->extent;
}

bool om_layer_is_finished(const struct om_layer *l)
{
    return l->is_finished;
}

void om_layer_view(const struct om_layer *l, struct om_layer_view *v)
{
    v->nfeatures = l->nfeatures;
    v->nparts = l->nparts;
    v->nrings = l->nrings;
    v->npoints = l->npoints;
    v->xy = l->xy;
    v->point_start = l->point_start;
    v->ring_start = l->ring_start;
    v->part_start = l->part_start;
    v->bbox = l->bbox;
    v->fid = l->fid;
    v->flags = l->flags;
}

void om_layer_refresh(struct om_layer *l)
{
    l->extent = om_rect_empty();
    for (size_t f = 0; f < l->nfeatures; f++) {
        struct om_rect b = om_rect_empty();
        size_t p0 = l->part_start[f], p1 = l->part_start[f + 1];
        if (p1 > p0) {
            size_t a = l->point_start[l->ring_start[p0]];
            size_t e = l->point_start[l->ring_start[p1]];
            for (size_t i = a; i < e; i++) {
                double x = l->xy[2 * i], y = l->xy[2 * i + 1];
                if (!isfinite(x) || !isfinite(y)) {
                    continue;
                }
                b.minx = x < b.minx ? x : b.minx;
                b.maxx = x > b.maxx ? x : b.maxx;
                b.miny = y < b.miny ? y : b.miny;
                b.maxy = y > b.maxy ? y : b.maxy;
            }
        }
        l->bbox[f] = b;
        if (!om_rect_is_empty(b)) {
            l->extent = om_rect_union(l->extent, b);
        }
    }
    om_rtree_free(l->index);
    l->index = NULL;
    om__free(l->fid_order);
    l->fid_order = NULL;
    l->is_finished = false;
}

double *om_layer_coords_mut(struct om_layer *l)
{
    return l->xy;
}

enum om_status om_layer_set_coords(struct om_layer *l, const double *xy,
                                   struct om_error *err)
{
    (void)err;
    if (l->npoints) {
        memcpy(l->xy, xy, 2 * l->npoints * sizeof *xy);
    }
    om_layer_refresh(l);
    return OM_OK;
}

size_t om_layer_nfields(const struct om_layer *l)
{
    return l->ncols;
}

const char *om_layer_field_name(const struct om_layer *l, int field)
{
    if (field < 0 || (size_t)field >= l->ncols) {
        return NULL;
    }
    return l->cols[field].name;
}

enum om_field_type om_layer_field_type(const struct om_layer *l, int field)
{
    if (field < 0 || (size_t)field >= l->ncols) {
        return (enum om_field_type)0;
    }
    return l->cols[field].type;
}

int om_layer_field_index(const struct om_layer *l, const char *name)
{
    if (!name) {
        return -1;
    }
    for (size_t c = 0; c < l->ncols; c++) {
        if (om__strcasecmp(l->cols[c].name, name) == 0) {
            return (int)c;
        }
    }
    return -1;
}

static bool valid_cell(const struct om_layer *l, size_t f, int field)
{
    return field >= 0 && (size_t)field < l->ncols && f < l->nfeatures;
}

void om__layer_values(const struct om_layer *l, size_t f, struct om__value *out)
{
    for (size_t c = 0; c < l->ncols; c++) {
        const struct column *col = &l->cols[c];
        struct om__value *v = &out[c];
        v->type = col->type;
        v->null = col->is_null[f] != 0;
        if (v->null) {
            continue;
        }
        switch (col->type) {
        case OM_FIELD_INT:
            v->i = col->v.i[f];
            break;
        case OM_FIELD_REAL:
            v->d = col->v.d[f];
            break;
        default:
            v->s = l->pool + col->v.s[f];
            break;
        }
    }
}

bool om_layer_is_null(const struct om_layer *l, size_t f, int field)
{
    return !valid_cell(l, f, field) || l->cols[field].is_null[f];
}

int64_t om_layer_get_int(const struct om_layer *l, size_t f, int field)
{
    if (om_layer_is_null(l, f, field) || l->cols[field].type != OM_FIELD_INT) {
        return 0;
    }
    return l->cols[field].v.i[f];
}

double om_layer_get_real(const struct om_layer *l, size_t f, int field)
{
    if (om_layer_is_null(l, f, field)) {
        return NAN;
    }
    if (l->cols[field].type == OM_FIELD_INT) {
        return (double)l->cols[field].v.i[f];
    }
    if (l->cols[field].type != OM_FIELD_REAL) {
        return NAN;
    }
    return l->cols[field].v.d[f];
}

const char *om_layer_get_text(const struct om_layer *l, size_t f, int field)
{
    if (om_layer_is_null(l, f, field) || l->cols[field].type != OM_FIELD_TEXT) {
        return NULL;
    }
    return l->pool + l->cols[field].v.s[f];
}

const char *om_layer_format_value(const struct om_layer *l, size_t f, int field,
                                  char *buf, size_t size)
{
    if (size == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (om_layer_is_null(l, f, field)) {
        return buf;
    }
    switch (l->cols[field].type) {
    case OM_FIELD_INT:
        snprintf(buf, size, "%lld", (long long)l->cols[field].v.i[f]);
        break;
    case OM_FIELD_REAL:
        snprintf(buf, size, "%.17g", l->cols[field].v.d[f]);
        break;
    case OM_FIELD_TEXT:
        om__strlcpy(buf, l->pool + l->cols[field].v.s[f], size);
        break;
    }
    return buf;
}

size_t om_layer_find_fid(const struct om_layer *l, int64_t fid)
{
    if (!l->fid_order) {
        for (size_t i = 0; i < l->nfeatures; i++) {
            if (l->fid[i] == fid) {
                return i;
            }
        }
        return (size_t)-1;
    }
    size_t lo = 0, hi = l->nfeatures;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->fid[l->fid_order[mid]] < fid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < l->nfeatures && l->fid[l->fid_order[lo]] == fid) {
        return l->fid_order[lo];
    }
    return (size_t)-1;
}

size_t om_layer_feature_by_fid_rank(const struct om_layer *l, size_t rank)
{
    if (rank >= l->nfeatures) {
        return (size_t)-1;
    }
    return l->fid_order ? l->fid_order[rank] : rank;
}

void om_layer_mark(struct om_layer *l, size_t feature, unsigned flags)
{
    if (feature < l->nfeatures) {
        l->flags[feature] |= (uint8_t)flags;
    }
}

size_t om_layer_count_flag(const struct om_layer *l, unsigned flag)
{
    size_t n = 0;
    for (size_t f = 0; f < l->nfeatures; f++) {
        n += (l->flags[f] & flag) != 0;
    }
    return n;
}

const struct om_rtree *om_layer_index(const struct om_layer *l)
{
    return l->index;
}
