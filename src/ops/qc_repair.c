/*
 * qc_repair.c — om_qc_repair (onemap/qc.h): the safe, listed repair of one
 * layer version into a new version. Owns the repair pipeline: repeated
 * vertices (G002), MakeValid (G001), ring orientation (G007) and, on
 * request, the merge of sliver features into their neighbour (T003).
 *
 * Repair finds what it fixes itself (it does not run the qc families), so
 * it works on any layer version. Stages, each a full pass in fid order:
 *   A  the source without repeated consecutive vertices (no attributes);
 *   -  validity of every A feature (in parallel; only a bit per feature);
 *   B  A made valid / reoriented, with the source attributes;
 *   C  B with the slivers merged (only with merge_slivers).
 * The changes are listed per feature; the result is imported as a new
 * version in one transaction by om_project_import.
 */
#include "onemap/qc.h"

#include "core/core.h"
#include "geom/setops.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/rules.h"
#include "onemap/store.h"
#include "ops/validity.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- planar measures on the flat arrays ---- */

/* Twice the signed area of a closed ring (CCW > 0), relative to its first
 * point for precision with zone-prefixed eastings. */
static double ring_area2(const double *xy, size_t n)
{
    if (n < 4) {
        return 0.0;
    }
    double s = 0.0, x0 = xy[0], y0 = xy[1];
    for (size_t i = 1; i + 1 < n; i++) {
        s += (xy[2 * i] - x0) * (xy[2 * i + 3] - y0) -
             (xy[2 * i + 2] - x0) * (xy[2 * i + 1] - y0);
    }
    return s;
}

/*
 * Planar area as GEOS computes it for a possibly invalid polygon:
 * |shell| − Σ|holes| per part, summed over parts. Rings with non-finite
 * coordinates count 0 (GEOS cannot build them; MakeValid drops them).
 */
static double feature_area(const struct om_layer_view *v, size_t f)
{
    double sum = 0.0;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        double part = 0.0;
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            double a2 = fabs(ring_area2(v->xy + 2 * a, b - a)) / 2.0;
            if (!isfinite(a2)) {
                a2 = 0.0;
            }
            part += r == v->ring_start[p] ? a2 : -a2;
        }
        sum += part;
    }
    return sum;
}

static double feature_perimeter(const struct om_layer_view *v, size_t f)
{
    double sum = 0.0;
    size_t r0 = v->ring_start[v->part_start[f]];
    size_t r1 = v->ring_start[v->part_start[f + 1]];
    for (size_t r = r0; r < r1; r++) {
        for (size_t i = v->point_start[r]; i + 1 < v->point_start[r + 1]; i++) {
            sum += hypot(v->xy[2 * i + 2] - v->xy[2 * i],
                         v->xy[2 * i + 3] - v->xy[2 * i + 1]);
        }
    }
    return sum;
}

/*
 * Length of the boundary of feature a lying on the boundary of feature b
 * (the length of the intersection of the two boundaries, for features of
 * a coverage whose shared edges coincide): for every pair of segments
 * that are collinear within `eps`, the length of the overlap of their
 * projections. Point contacts give 0.
 */
static double shared_length(const struct om_layer_view *v, size_t a, size_t b,
                            double eps)
{
    struct om_rect ba = v->bbox[a];
    ba.minx -= eps;
    ba.miny -= eps;
    ba.maxx += eps;
    ba.maxy += eps;
    double sum = 0.0;
    size_t rb0 = v->ring_start[v->part_start[b]];
    size_t rb1 = v->ring_start[v->part_start[b + 1]];
    size_t ra0 = v->ring_start[v->part_start[a]];
    size_t ra1 = v->ring_start[v->part_start[a + 1]];
    for (size_t rb = rb0; rb < rb1; rb++) {
        for (size_t j = v->point_start[rb]; j + 1 < v->point_start[rb + 1];
             j++) {
            const double *q = v->xy + 2 * j;
            if (fmax(q[0], q[2]) < ba.minx || fmin(q[0], q[2]) > ba.maxx ||
                fmax(q[1], q[3]) < ba.miny || fmin(q[1], q[3]) > ba.maxy) {
                continue;
            }
            double dx = q[2] - q[0], dy = q[3] - q[1];
            double len = hypot(dx, dy);
            if (!(len > eps)) {
                continue;
            }
            for (size_t ra = ra0; ra < ra1; ra++) {
                for (size_t i = v->point_start[ra];
                     i + 1 < v->point_start[ra + 1]; i++) {
                    const double *s = v->xy + 2 * i;
                    double c0 = (dx * (s[1] - q[1]) - dy * (s[0] - q[0])) / len;
                    double c1 = (dx * (s[3] - q[1]) - dy * (s[2] - q[0])) / len;
                    if (!(fabs(c0) <= eps && fabs(c1) <= eps)) {
                        continue;
                    }
                    double t0 = (dx * (s[0] - q[0]) + dy * (s[1] - q[1])) / len;
                    double t1 = (dx * (s[2] - q[0]) + dy * (s[3] - q[1])) / len;
                    double lo = fmax(fmin(t0, t1), 0.0);
                    double hi = fmin(fmax(t0, t1), len);
                    if (hi - lo > eps) {
                        sum += hi - lo;
                    }
                }
            }
        }
    }
    return sum;
}

/* ---- the change list ---- */

struct chg {
    struct om_qc_change c;
    double x, y; /* location for the import issue; NaN if none */
};

struct changes {
    struct chg *v;
    size_t n, cap;
};

static int code_rank(const char *code)
{
    /* the order of the steps */
    static const char *const order[] = {"G002", "G001", "G007", "T003"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(code, order[i]) == 0) {
            return i;
        }
    }
    return 4;
}

static int cmp_chg(const void *pa, const void *pb)
{
    const struct chg *a = pa, *b = pb;
    if (a->c.fid != b->c.fid) {
        return a->c.fid < b->c.fid ? -1 : 1;
    }
    return code_rank(a->c.code) - code_rank(b->c.code);
}

static enum om_status add_change(struct changes *cs, int64_t fid,
                                 const char *code, double before, double after,
                                 int64_t merged_into, double x, double y,
                                 struct om_error *err, const char *fmt, ...)
    OM__PRINTF(10, 11);

static enum om_status add_change(struct changes *cs, int64_t fid,
                                 const char *code, double before, double after,
                                 int64_t merged_into, double x, double y,
                                 struct om_error *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!OM__GROW(cs->v, cs->cap, cs->n + 1)) {
        return om__enomem(err, NULL);
    }
    char *action = om__strdup(msg);
    if (!action) {
        return om__enomem(err, NULL);
    }
    struct chg *e = &cs->v[cs->n++];
    e->c.fid = fid;
    e->c.code = code;
    e->c.action = action;
    e->c.area_before_m2 = before;
    e->c.area_after_m2 = after;
    e->c.merged_into = merged_into;
    e->x = x;
    e->y = y;
    return OM_OK;
}

static void changes_free(struct changes *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        om__free(cs->v[i].c.action);
    }
    om__free(cs->v);
    cs->v = NULL;
    cs->n = cs->cap = 0;
}

void om_qc_repair_result_free(struct om_qc_repair_result *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nchanges; i++) {
        om__free(r->changes[i].action);
    }
    om__free(r->changes);
    om__free(r->layer);
    om__free(r);
}

/* ---- building helpers ---- */

static enum om_status copy_fields(const struct om_layer *src,
                                  struct om_layer *dst, struct om_error *err)
{
    enum om_status st = om_layer_set_crs(dst, om_layer_crs(src), err);
    for (size_t c = 0; st == OM_OK && c < om_layer_nfields(src); c++) {
        st = om_layer_add_field(dst, om_layer_field_name(src, (int)c),
                                om_layer_field_type(src, (int)c), NULL, err);
    }
    return st;
}

static enum om_status copy_attrs(const struct om_layer *src, size_t f,
                                 struct om_layer *dst, struct om_error *err)
{
    size_t nf = om_layer_nfields(src);
    for (size_t c = 0; c < nf; c++) {
        int k = (int)c;
        if (om_layer_is_null(src, f, k)) {
            continue;
        }
        enum om_status st = OM_OK;
        switch (om_layer_field_type(src, k)) {
        case OM_FIELD_INT:
            st = om_layer_set_int(dst, k, om_layer_get_int(src, f, k), err);
            break;
        case OM_FIELD_REAL:
            st = om_layer_set_real(dst, k, om_layer_get_real(src, f, k), err);
            break;
        case OM_FIELD_TEXT:
            st = om_layer_set_text(dst, k, om_layer_get_text(src, f, k), err);
            break;
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status copy_geometry(const struct om_layer_view *v, size_t f,
                                    struct om_layer *dst, struct om_error *err)
{
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        enum om_status st = om_layer_begin_part(dst, err);
        for (size_t r = v->ring_start[p];
             st == OM_OK && r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            st = om_layer_add_ring(dst, v->xy + 2 * a, b - a, err);
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

struct scratch {
    double *xy;
    size_t cap; /* doubles */
};

static bool scratch_need(struct scratch *s, size_t npoints)
{
    return OM__GROW(s->xy, s->cap, 2 * npoints + 2);
}

/*
 * Append feature f of `src` to a's current feature without repeated
 * consecutive vertices (exact repeats); *removed += the count dropped.
 */
static enum om_status dedupe_feature(const struct om_layer_view *v, size_t f,
                                     struct om_layer *a, struct scratch *s,
                                     size_t *removed, struct om_error *err)
{
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        enum om_status st = om_layer_begin_part(a, err);
        for (size_t r = v->ring_start[p];
             st == OM_OK && r < v->ring_start[p + 1]; r++) {
            size_t i0 = v->point_start[r], n = v->point_start[r + 1] - i0;
            const double *xy = v->xy + 2 * i0;
            if (!scratch_need(s, n)) {
                return om__enomem(err, NULL);
            }
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (m > 0 && xy[2 * i] == s->xy[2 * m - 2] &&
                    xy[2 * i + 1] == s->xy[2 * m - 1]) {
                    continue;
                }
                s->xy[2 * m] = xy[2 * i];
                s->xy[2 * m + 1] = xy[2 * i + 1];
                m++;
            }
            if (m == 1 && n >= 2) {
                /* all one point: keep it closed (the check calls it
                 * "Too few points" and MakeValid drops it) */
                s->xy[2] = s->xy[0];
                s->xy[3] = s->xy[1];
                m = 2;
            }
            *removed += n - m;
            st = om_layer_add_ring(a, s->xy, m, err);
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/*
 * Append feature f of `v` to dst's current feature with shells CCW and
 * holes CW; *reversed = the count of rings turned.
 */
static enum om_status orient_feature(const struct om_layer_view *v, size_t f,
                                     struct om_layer *dst, struct scratch *s,
                                     size_t *reversed, struct om_error *err)
{
    *reversed = 0;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        enum om_status st = om_layer_begin_part(dst, err);
        for (size_t r = v->ring_start[p];
             st == OM_OK && r < v->ring_start[p + 1]; r++) {
            size_t i0 = v->point_start[r], n = v->point_start[r + 1] - i0;
            const double *xy = v->xy + 2 * i0;
            double a2 = ring_area2(xy, n);
            bool shell = r == v->ring_start[p];
            if ((shell && a2 < 0.0) || (!shell && a2 > 0.0)) {
                if (!scratch_need(s, n)) {
                    return om__enomem(err, NULL);
                }
                for (size_t i = 0; i < n; i++) {
                    s->xy[2 * i] = xy[2 * (n - 1 - i)];
                    s->xy[2 * i + 1] = xy[2 * (n - 1 - i) + 1];
                }
                (*reversed)++;
                st = om_layer_add_ring(dst, s->xy, n, err);
            } else {
                st = om_layer_add_ring(dst, xy, n, err);
            }
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- the repair ---- */

struct repair {
    struct om_project *p;
    const struct om_qc_repair_options *opt;
    const struct om_qc_conf *conf;
    const struct om_progress *progress;
    const char *code; /* the catalogue's spelling */
    struct om_layer *src, *a, *b, *c;
    struct changes cs;
    struct scratch s;
    struct om_polyops *geos;
    uint8_t *deduped; /* per feature rank: stage A removed vertices */
    size_t nremaining;
};

static enum om_status canceled(struct repair *r, const char *phase,
                               uint64_t done, uint64_t total,
                               struct om_error *err)
{
    if (om__progress(r->progress, phase, done, total)) {
        return om__error(err, OM_ECANCELED, r->code, 0, -1, "repair canceled");
    }
    return OM_OK;
}

/* Stage A: the source in fid order without repeated vertices; G002. */
static enum om_status stage_a(struct repair *r, struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(r->src, &v);
    enum om_status st = om_layer_new(r->code, &r->a, err);
    r->deduped = om__calloc(v.nfeatures ? v.nfeatures : 1, 1);
    if (st == OM_OK && !r->deduped) {
        st = om__enomem(err, r->code);
    }
    for (size_t k = 0; st == OM_OK && k < v.nfeatures; k++) {
        st = canceled(r, "repeated vertices", k, v.nfeatures, err);
        size_t f = om_layer_feature_by_fid_rank(r->src, k);
        size_t removed = 0;
        if (st == OM_OK) {
            st = om_layer_begin_feature(r->a, v.fid[f], err);
        }
        if (st == OM_OK) {
            st = dedupe_feature(&v, f, r->a, &r->s, &removed, err);
            if (st != OM_OK) {
                om_layer_abort_feature(r->a);
            }
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(r->a, err);
        }
        if (st == OM_OK && removed > 0) {
            r->deduped[k] = 1;
            double area = feature_area(&v, f);
            st = add_change(&r->cs, v.fid[f], "G002", area, area, -1, NAN, NAN,
                            err, "removed %zu repeated %s", removed,
                            removed == 1 ? "vertex" : "vertices");
        }
    }
    return st;
}

/* Stage B: MakeValid (G001) or reorient (G007), with the attributes. */
static enum om_status stage_b(struct repair *r, const uint8_t *invalid,
                              struct om_error *err)
{
    struct om_layer_view va;
    om_layer_view(r->a, &va);
    enum om_status st = om_layer_new(r->code, &r->b, err);
    if (st == OM_OK) {
        st = copy_fields(r->src, r->b, err);
    }
    for (size_t k = 0; st == OM_OK && k < va.nfeatures; k++) {
        st = canceled(r, "make valid", k, va.nfeatures, err);
        if (st != OM_OK) {
            break;
        }
        size_t f = om_layer_feature_by_fid_rank(r->src, k);
        int64_t fid = va.fid[k];
        if (va.flags[k] & OM_FEAT_EMPTY) {
            r->nremaining++; /* G005: nothing to repair */
        }
        st = om_layer_begin_feature(r->b, fid, err);
        if (st != OM_OK) {
            break;
        }
        double area = feature_area(&va, k);
        bool changed = false;
        struct om_validity val = {.is_valid = true};
        if (invalid[k]) {
            st = om_polyops_check(r->geos, &va, k, &val, err);
            if (st != OM_OK) {
                om_layer_abort_feature(r->b);
                break;
            }
        }
        if (!val.is_valid) {
            struct om_layer_view vb;
            om_layer_view(r->b, &vb);
            size_t parts0 = vb.nparts;
            double after = 0.0;
            if (st == OM_OK) {
                st = om_polyops_make_valid(r->geos, &va, k, r->b, NULL, &after,
                                           err);
            }
            if (st == OM_OK) {
                om_layer_view(r->b, &vb);
                size_t nparts = vb.nparts - parts0;
                changed = true;
                if (nparts == 0) {
                    r->nremaining++;
                    st = add_change(&r->cs, fid, "G001", area, 0.0, -1, val.x,
                                    val.y, err,
                                    "MakeValid: empty result — kept as empty "
                                    "(%s)",
                                    val.reason);
                } else {
                    st = add_change(
                        &r->cs, fid, "G001", area, after, -1, val.x, val.y, err,
                        "MakeValid: %zu %s (%s)", nparts,
                        nparts == 1 ? "polygon" : "polygons", val.reason);
                }
            }
        } else {
            size_t reversed = 0;
            st = orient_feature(&va, k, r->b, &r->s, &reversed, err);
            if (st == OM_OK && reversed > 0) {
                changed = true;
                st = add_change(&r->cs, fid, "G007", area, area, -1, NAN, NAN,
                                err,
                                "reoriented %zu %s (shells counter-clockwise, "
                                "holes clockwise)",
                                reversed, reversed == 1 ? "ring" : "rings");
            }
        }
        if (st == OM_OK) {
            st = copy_attrs(r->src, f, r->b, err);
        }
        if (st != OM_OK) {
            om_layer_abort_feature(r->b);
            break;
        }
        /* A G002 change is a repair of the geometry too. */
        if (changed || r->deduped[k]) {
            om_layer_set_flags(r->b, OM_FEAT_REPAIRED);
        }
        st = om_layer_end_feature(r->b, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(r->b, OM_LAYER_KEEP_ORDER, err);
    }
    return st;
}

struct near_ctx {
    const struct om_layer_view *v;
    const uint8_t *sliver;
    size_t self;
    double eps;
    size_t best;
    double best_len;
};

static bool visit_neighbour(void *arg, size_t j)
{
    struct near_ctx *c = arg;
    if (j == c->self || c->sliver[j] || (c->v->flags[j] & OM_FEAT_EMPTY)) {
        return true;
    }
    double len = shared_length(c->v, c->self, j, c->eps);
    if (len <= 0.0) {
        return true;
    }
    /* Longest shared edge; ties to the smaller fid (search order is not
     * part of the contract). */
    if (c->best == (size_t)-1 || len > c->best_len ||
        (len == c->best_len && c->v->fid[j] < c->v->fid[c->best])) {
        c->best = j;
        c->best_len = len;
    }
    return true;
}

/* Stage C: slivers of B merged into the neighbour with the longest shared
 * edge (T003). B's features are in fid order. */
static enum om_status stage_c(struct repair *r, struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(r->b, &v);
    size_t n = v.nfeatures;
    uint8_t *sliver = om__calloc(n ? n : 1, 1);
    size_t *target = om__calloc(n ? n : 1, sizeof *target);
    size_t *first = om__calloc(n ? n : 1, sizeof *first); /* per target */
    size_t *next = om__calloc(n ? n : 1, sizeof *next);   /* chain */
    struct om__fref *refs = NULL;
    size_t nrefs = 0, caprefs = 0;
    struct om__setops *ops = NULL;
    enum om_status st = OM_OK;
    if (!sliver || !target || !first || !next) {
        st = om__enomem(err, r->code);
        goto out;
    }
    for (size_t f = 0; f < n; f++) {
        target[f] = first[f] = next[f] = (size_t)-1;
        if (v.flags[f] & OM_FEAT_EMPTY) {
            continue;
        }
        double area = feature_area(&v, f), per = feature_perimeter(&v, f);
        if (area < r->conf->sliver_area_m2 ||
            (per > 0.0 && 2.0 * area / per < r->conf->sliver_width_m)) {
            sliver[f] = 1;
        }
    }
    const struct om_rtree *tree = om_layer_index(r->b);
    size_t nmerged = 0;
    for (size_t f = 0; f < n; f++) {
        if (!sliver[f]) {
            continue;
        }
        st = canceled(r, "slivers", f, n, err);
        if (st != OM_OK) {
            goto out;
        }
        struct om_rect bb = v.bbox[f];
        double mag = fmax(fmax(fabs(bb.minx), fabs(bb.maxx)),
                          fmax(fabs(bb.miny), fabs(bb.maxy)));
        struct near_ctx c = {&v,         sliver, f, 1e-9 + mag * 1e-13,
                             (size_t)-1, 0.0};
        struct om_rect q = {bb.minx - c.eps, bb.miny - c.eps, bb.maxx + c.eps,
                            bb.maxy + c.eps};
        om_rtree_search(tree, q, visit_neighbour, &c);
        double area = feature_area(&v, f);
        if (c.best == (size_t)-1) {
            r->nremaining++; /* no neighbour sharing an edge: stays */
            continue;
        }
        target[f] = c.best;
        nmerged++;
        /* chain the slivers of each target in fid order */
        if (first[c.best] == (size_t)-1) {
            first[c.best] = f;
        } else {
            size_t t = first[c.best];
            while (next[t] != (size_t)-1) {
                t = next[t];
            }
            next[t] = f;
        }
        st = add_change(&r->cs, v.fid[f], "T003", area, 0.0, v.fid[c.best], NAN,
                        NAN, err,
                        "merged into fid %lld (shared edge %.3f m, sliver "
                        "%.6f m²)",
                        (long long)v.fid[c.best], c.best_len, area);
        if (st != OM_OK) {
            goto out;
        }
    }
    if (nmerged == 0) {
        goto out; /* B is the result */
    }
    st = om__setops_new(&ops, err);
    if (st == OM_OK) {
        st = om_layer_new(r->code, &r->c, err);
    }
    if (st == OM_OK) {
        st = copy_fields(r->src, r->c, err);
    }
    for (size_t f = 0; st == OM_OK && f < n; f++) {
        if (target[f] != (size_t)-1) {
            continue; /* merged: its fid disappears */
        }
        st = om_layer_begin_feature(r->c, v.fid[f], err);
        if (st != OM_OK) {
            break;
        }
        if (first[f] == (size_t)-1) {
            st = copy_geometry(&v, f, r->c, err);
            om_layer_set_flags(r->c, v.flags[f] & OM_FEAT_REPAIRED);
        } else {
            nrefs = 0;
            for (size_t t = f; st == OM_OK && t != (size_t)-1;
                 t = t == f ? first[f] : next[t]) {
                if (!OM__GROW(refs, caprefs, nrefs + 1)) {
                    st = om__enomem(err, r->code);
                    break;
                }
                refs[nrefs].v = &v;
                refs[nrefs].f = t;
                nrefs++;
            }
            if (st == OM_OK) {
                st = om__setops_union(ops, refs, nrefs, r->c, err);
                if (st != OM_OK) {
                    om__error_prefix(err, "%s: fid %lld: merging slivers",
                                     r->code, (long long)v.fid[f]);
                }
            }
            om_layer_set_flags(r->c, OM_FEAT_REPAIRED);
        }
        if (st == OM_OK) {
            st = copy_attrs(r->b, f, r->c, err);
        }
        if (st != OM_OK) {
            om_layer_abort_feature(r->c);
            break;
        }
        st = om_layer_end_feature(r->c, err);
    }
out:
    om__setops_free(ops);
    om__free(refs);
    om__free(sliver);
    om__free(target);
    om__free(first);
    om__free(next);
    return st;
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

/*
 * The qc: defaults of the built-in rule set (onemap/rules.h), for a rule
 * set whose qc section was left all zero (a parser that does not fill
 * the defaults): thresholds of 0 would make repair silently find no
 * sliver at all.
 */
static char *builtin_coverage[] = {"DLTB", "XZQ"};
static const struct om_qc_conf builtin_conf = {
    .sliver_area_m2 = 1.0,
    .sliver_width_m = 0.1,
    .near_distance_m = 0.05,
    .micro_segment_m = 0.001,
    .spike_angle_deg = 1.0,
    .area_rel = 0.001,
    .area_abs_m2 = 1.0,
    .tbdlmj_abs_m2 = 0.01,
    .crop_rel = 0.05,
    .coverage = builtin_coverage,
    .ncoverage = 2,
};

static bool conf_is_set(const struct om_qc_conf *c)
{
    return c->present || c->ncoverage > 0 || c->sliver_area_m2 > 0.0 ||
           c->sliver_width_m > 0.0;
}

static double layer_area(const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    double sum = 0.0;
    for (size_t k = 0; k < v.nfeatures; k++) {
        size_t f =
            om_layer_is_finished(l) ? om_layer_feature_by_fid_rank(l, k) : k;
        sum += feature_area(&v, f);
    }
    return sum;
}

/* Import `l` as the new version of the layer. */
static enum om_status write_version(struct repair *r,
                                    const struct om_layer_record *rec,
                                    struct om_layer *l, int *version,
                                    struct om_error *err)
{
    struct om_feature_issue *issues =
        om__calloc(r->cs.n ? r->cs.n : 1, sizeof *issues);
    if (!issues) {
        return om__enomem(err, r->code);
    }
    for (size_t i = 0; i < r->cs.n; i++) {
        issues[i].fid = r->cs.v[i].c.fid;
        issues[i].kind = "repaired";
        issues[i].reason = r->cs.v[i].c.action;
        issues[i].x = r->cs.v[i].x;
        issues[i].y = r->cs.v[i].y;
    }
    char source[128], params[160];
    snprintf(source, sizeof source, "repair of %s v%d", rec->code,
             rec->version);
    snprintf(params, sizeof params,
             "{\"repair\": true, \"merge_slivers\": %s, \"changes\": %zu}",
             r->opt->merge_slivers ? "true" : "false", r->cs.n);
    struct om_import_meta meta = {0};
    meta.code = rec->code;
    meta.role = rec->role[0] ? rec->role : NULL;
    meta.source = source;
    meta.source_layer = rec->table[0] ? rec->table : NULL;
    meta.sha256 = rec->sha256[0] ? rec->sha256 : NULL;
    meta.params_json = params;
    meta.code_field = rec->code_field;
    meta.name_field = rec->name_field;
    meta.issues = issues;
    meta.nissues = r->cs.n;
    enum om_status st = om_layer_finish(l, 0, err);
    if (st == OM_OK) {
        st = om_project_import(r->p, l, &meta, version, r->progress, err);
    }
    om__free(issues);
    return st;
}

enum om_status om_qc_repair(struct om_project *p, const char *code,
                            const struct om_qc_repair_options *opt,
                            struct om_qc_repair_result **out,
                            const struct om_progress *progress,
                            struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (!p || !code || !out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_qc_repair: project, layer code and result are "
                         "required");
    }
    static const struct om_qc_repair_options defaults = {0};
    struct repair r = {0};
    r.p = p;
    r.opt = opt ? opt : &defaults;
    r.progress = progress;
    struct om_rules *own_rules = NULL;
    struct om_layer_record rec;
    bool have_rec = false;
    struct om_qc_repair_result *res = NULL;
    uint8_t *invalid = NULL;
    enum om_status st = OM_OK;
    const struct om_rules *rules = r.opt->rules;
    if (!rules) {
        st = om_rules_default(&own_rules, err);
        rules = own_rules;
    }
    if (st != OM_OK) {
        goto out;
    }
    r.conf = &rules->qc;
    if (!conf_is_set(r.conf)) {
        r.conf = &builtin_conf;
    }
    st = om_project_layer_record(p, code, 0, &rec, err);
    if (st != OM_OK) {
        goto out;
    }
    have_rec = true;
    r.code = rec.code;
    if (r.opt->merge_slivers && !in_coverage(r.conf, rec.code)) {
        char list[256] = "";
        for (size_t i = 0; i < r.conf->ncoverage; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                     r.conf->coverage[i]);
        }
        st = om__error(err, OM_EINVAL, rec.code, 0, -1,
                       "slivers are merged only in coverage layers, and %s is "
                       "not one (qc.coverage: %s)",
                       rec.code, list[0] ? list : "none");
        goto out;
    }
    res = om__calloc(1, sizeof *res);
    if (!res || !(res->layer = om__strdup(rec.code))) {
        st = om__enomem(err, rec.code);
        goto out;
    }
    res->version_from = rec.version;
    st = om_project_read(p, rec.code, rec.version, &r.src, progress, err);
    if (st == OM_OK) {
        st = om_polyops_new(&r.geos, err);
    }
    if (st == OM_OK) {
        st = stage_a(&r, err);
    }
    if (st != OM_OK) {
        goto out;
    }
    size_t n = om_layer_nfeatures(r.a);
    invalid = om__calloc(n ? n : 1, 1);
    if (!invalid) {
        st = om__enomem(err, rec.code);
        goto out;
    }
    {
        struct om_layer_view va;
        om_layer_view(r.a, &va);
        st = om__check_all(&va, r.opt->threads, invalid, rec.code, "validity",
                           progress, err);
    }
    if (st == OM_OK) {
        st = stage_b(&r, invalid, err);
    }
    if (st == OM_OK && r.opt->merge_slivers) {
        st = stage_c(&r, err);
    }
    if (st != OM_OK) {
        goto out;
    }
    struct om_layer *result = r.c ? r.c : r.b;
    res->area_before_m2 = layer_area(r.src);
    res->area_after_m2 = r.cs.n ? layer_area(result) : res->area_before_m2;
    if (r.cs.n > 1) {
        qsort(r.cs.v, r.cs.n, sizeof *r.cs.v, cmp_chg);
    }
    /* The listing is allocated before the write, so that nothing can fail
     * once the new version is committed. */
    res->changes = om__calloc(r.cs.n ? r.cs.n : 1, sizeof *res->changes);
    if (!res->changes) {
        st = om__enomem(err, rec.code);
        goto out;
    }
    if (r.cs.n > 0 && !r.opt->dry_run) {
        st = write_version(&r, &rec, result, &res->version_to, err);
        if (st != OM_OK) {
            goto out;
        }
    }
    for (size_t i = 0; i < r.cs.n; i++) {
        res->changes[i] = r.cs.v[i].c;
        r.cs.v[i].c.action = NULL; /* moved */
    }
    res->nchanges = r.cs.n;
    res->nremaining = r.nremaining;
out:
    if (st != OM_OK) {
        om_qc_repair_result_free(res);
        res = NULL;
    }
    *out = res;
    om__free(invalid);
    om__free(r.deduped);
    changes_free(&r.cs);
    om__free(r.s.xy);
    om_polyops_free(r.geos);
    om_layer_free(r.src);
    om_layer_free(r.a);
    om_layer_free(r.b);
    om_layer_free(r.c);
    if (have_rec) {
        om_layer_record_deinit(&rec);
    }
    om_rules_free(own_rules);
    return st;
}
