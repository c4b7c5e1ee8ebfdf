/*
 * overlay.c — the overlay engine: pieces of A ∩ B and A \ B split by admin
 * unit, with planar and ellipsoidal areas and (on request) geometry.
 *
 * B and the units are cut into tiles (ops/tiles.h: om_polyops_subdivide for
 * features of more than OM__TILE_SPLIT vertices) whose fid is the index of
 * their source feature, so no A feature is ever overlaid with a whole big
 * polygon. For
 * one A feature: its candidate B tiles (R-tree, sorted by B feature then
 * tile) are clipped once each (om_prepared_clip: covers / disjoint /
 * partial); the fragments of one B feature form its piece; the outside
 * piece is A minus the union of the B tiles it meets, built only when no
 * tile covers A. Each piece is then split by the unit tiles the same way,
 * the part outside every unit being the piece minus the unit tiles met; a
 * fragment wholly in one unit stays whole (its pieces in that unit's tiles
 * are dropped: no union to make of them).
 *
 * With geometry and the auto engine, filter_make first asks the area
 * kernel (A as its zones, each B feature in turn) which pairs overlap;
 * a feature of A then meets only the tiles of those B features.
 *
 * A big fragment (more than BIG_FRAG vertices: a red line, a large
 * farmland patch) is not tested against each prepared tile: its edges go
 * into a grid, the tiles whose box no edge enters are taken whole (inside)
 * or skipped (outside), and only the tiles on its boundary are overlaid
 * (clip_tile). The pieces are the same, to the last bit.
 *
 * Areas of a piece are the sums over its fragments (disjoint interiors),
 * so they do not depend on want_geometry; with want_geometry the fragments
 * of one piece are unioned into one valid (multi)polygon.
 *
 * Work runs over chunks of A in Hilbert order (walk_order; A's own order
 * when it is finished in it): up to CHUNK features, fewer when they are
 * big (CHUNK_WORK, counted in vertices), so that a few big features (red
 * lines) still go to several threads. Each chunk stores its pieces (and
 * geometries) and the calling thread hands them to the callback chunk by
 * chunk, in order: as the chunks are consecutive runs of that order, the
 * order is fixed, identical for any -j.
 *
 * Union and difference of several features come from the GEOS bridge
 * (src/geom/setops.h, implemented in src/geom/geos.c).
 */
#include "onemap/overlay.h"

#include "core/core.h"
#include "geom/setops.h"
#include "index/hilbert.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/polyops.h"
#include "ops/areak.h"
#include "ops/tiles.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CHUNK = 512, CHUNK_WORK = 16384, MAX_THREADS = 64 };
enum { SCRATCH_MAX = 4096 };
/*
 * Fragments of more vertices than a tile get an edge grid (grid_begin,
 * clip_tile): from there on, relating each candidate tile to the fragment
 * through the grid costs less than GEOS relating the fragment to each.
 */
enum { BIG_FRAG = OM__TILE_VERTICES };
/* Vertices tested against prepared tiles between emptyings (tile_cache). */
enum { CACHE_VERTICES = 1 << 20 };

/* ---- tiles ---- */

enum om_status om__copy_feature(struct om_layer *dst,
                                const struct om_layer_view *v, size_t f,
                                int64_t fid, struct om_error *err)
{
    enum om_status st = om_layer_begin_feature(dst, fid, err);
    for (size_t q = v->part_start[f]; st == OM_OK && q < v->part_start[f + 1];
         q++) {
        st = om_layer_begin_part(dst, err);
        for (size_t r = v->ring_start[q];
             st == OM_OK && r < v->ring_start[q + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            st = om_layer_add_ring(dst, v->xy + 2 * a, b - a, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(dst, err);
    } else {
        om_layer_abort_feature(dst);
    }
    return st;
}

/* See ops/tiles.h. */
enum om_status om__tiles_make(const struct om_layer *src, const uint8_t *mask,
                              struct om_layer **out, struct om_error *err)
{
    *out = NULL;
    struct om_layer_view v;
    om_layer_view(src, &v);
    struct om_layer *tiles = NULL;
    struct om_polyops *geos = NULL;
    enum om_status st = om_layer_new("tiles", &tiles, err);
    if (st == OM_OK) {
        st = om_polyops_new(&geos, err);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        if ((mask && !mask[f]) ||
            (v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
            continue;
        }
        if (om_feature_npoints(&v, f) <= OM__TILE_SPLIT) {
            st = om__copy_feature(tiles, &v, f, (int64_t)f, err);
            continue;
        }
        struct om_layer *tmp = NULL;
        st = om_layer_new("subdivided", &tmp, err);
        if (st == OM_OK) {
            st = om_polyops_subdivide(geos, &v, f, OM__TILE_VERTICES, tmp, NULL,
                                      err);
        }
        if (st == OM_OK) {
            struct om_layer_view tv;
            om_layer_view(tmp, &tv);
            for (size_t t = 0; st == OM_OK && t < tv.nfeatures; t++) {
                st = om__copy_feature(tiles, &tv, t, (int64_t)f, err);
            }
        } else {
            om__error_prefix(err, "%s: cannot tile feature %lld",
                             om_layer_name(src), (long long)v.fid[f]);
        }
        om_layer_free(tmp);
    }
    om_polyops_free(geos);
    if (st == OM_OK) {
        st = om_layer_finish(tiles, 0, err);
    }
    if (st != OM_OK) {
        om_layer_free(tiles);
        return st;
    }
    *out = tiles;
    return OM_OK;
}

/* ---- the run ---- */

struct piece_rec {
    size_t a, b, unit, layer;
    double planar, ell;
    size_t gf; /* feature in the chunk's geometry layer, or NONE */
};

struct chunk_out {
    struct piece_rec *p;
    size_t n, cap;
    struct om_layer *geom; /* want_geometry */
};

struct job {
    const struct om_overlay_options *opt;
    struct om_layer_view av;
    const char *aname, *bname, *uname;
    struct om_layer_view btv, utv; /* tiles */
    const struct om_rtree *btree, *utree;
    struct om__ak *ak; /* the area kernel, when it is the engine */
    /* With geometry (auto engine): the B features overlapping feature a
     * of A are kb[kstart[a] .. kstart[a + 1]) (filter_make); NULL: not
     * known, every candidate is met. */
    size_t *kstart, *kb;
    /* CRS units² per m² (planar areas are in CRS units: degrees² for a
     * geographic CRS, where thresholds in m² are scaled by this) */
    double unit2_per_m2;
    /* A's features in the order they are walked (walk_order); NULL: in
     * A's own order */
    size_t *order;
    size_t nchunks;
    /* chunk ci is the features at positions cstart[ci] .. cstart[ci+1] of
     * that order */
    size_t *cstart;
    struct chunk_out *out;
    pthread_mutex_t lock;
    size_t next_chunk, chunks_done;
    uint8_t *cdone; /* per chunk: computed (under lock) */
    enum om_status status;
    struct om_error err;
    volatile int stop;
};

/* Where a fragment lives: A itself, frag1 (B level) or frag2 (unit level). */
enum { SRC_A = 0, SRC_F1 = 1, SRC_F2 = 2 };
struct frag {
    uint8_t src;
    size_t f;
    size_t key; /* B feature (B level) or unit feature (unit level) */
};

/*
 * The edges of one big fragment in a uniform grid of cells (clip_tile):
 * edge k is (seg[4k], seg[4k+1]) - (seg[4k+2], seg[4k+3]); the edges
 * whose box meets cell c are cell[start[c] .. start[c+1]).
 */
struct grid {
    bool on;
    struct om_rect box;
    size_t nx, ny;
    double cw, ch;
    double *seg;
    size_t nseg, cap_seg;
    size_t *start, *cell;
    size_t cap_start, cap_cell;
};

/*
 * Prepared tiles, made on first use and shared by the fragments that meet
 * them; `used` lists the tiles prepared. A prepared tile keeps what GEOS
 * indexed of the geometries tested against it (about 8 bytes a vertex):
 * over the 10^5 tiles of a city that adds up to gigabytes, so the cache is
 * emptied whenever `tested` (vertices of the fragments tested since it was
 * last emptied) passes CACHE_VERTICES.
 */
struct tile_cache {
    struct om_prepared **p; /* by tile */
    size_t *used;
    size_t nused, cap_used;
    size_t tested;
};

struct worker {
    struct job *job;
    struct om__ak_work *akw;
    struct om_polyops *geos;
    struct om__setops *gx;
    struct om_area_ctx *area;
    struct tile_cache bc, uc; /* prepared B and unit tiles */
    struct grid big;          /* edges of the big fragment being clipped */
    struct om_layer *f1, *f2; /* scratch fragments */
    struct om_layer_view f1v, f2v;
    struct om_layer *trash; /* scratch results not kept (clip_tile) */
    struct om_layer_view trashv;
    size_t *cand;
    size_t ncand, cap_cand;
    bool cand_oom;
    struct frag *bl; /* B-level fragments of the current A */
    size_t nbl, cap_bl;
    struct frag *ul; /* unit-level fragments of the current piece */
    size_t nul, cap_ul;
    struct om__fref *refs;
    size_t nrefs, cap_refs;
    size_t *met;
    size_t nmet, cap_met;
};

static const struct om_layer_view *src_view(struct worker *w, uint8_t src)
{
    if (src == SRC_A) {
        return &w->job->av;
    }
    return src == SRC_F1 ? &w->f1v : &w->f2v;
}

static bool collect(void *ctx, size_t item)
{
    struct worker *w = ctx;
    if (!OM__GROW(w->cand, w->cap_cand, w->ncand + 1)) {
        w->cand_oom = true;
        return false;
    }
    w->cand[w->ncand++] = item;
    return true;
}

static int cmp_tile(const void *x, const void *y, const struct om_layer_view *v)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    int64_t fa = v->fid[a], fb = v->fid[b];
    if (fa != fb) {
        return fa < fb ? -1 : 1;
    }
    return a < b ? -1 : a > b;
}

/* Candidates of a box in a tile tree, sorted by (source feature, tile). */
static enum om_status candidates(struct worker *w, const struct om_rtree *tree,
                                 const struct om_layer_view *tv,
                                 struct om_rect box, struct om_error *err)
{
    w->ncand = 0;
    w->cand_oom = false;
    om_rtree_search(tree, box, collect, w);
    if (w->cand_oom) {
        return om__enomem(err, NULL);
    }
    /* insertion sort: candidate lists are short, and qsort has no context */
    for (size_t i = 1; i < w->ncand; i++) {
        size_t x = w->cand[i], k = i;
        while (k > 0 && cmp_tile(&w->cand[k - 1], &x, tv) > 0) {
            w->cand[k] = w->cand[k - 1];
            k--;
        }
        w->cand[k] = x;
    }
    return OM_OK;
}

static enum om_status end_scratch(struct om_layer *l, enum om_status st,
                                  struct om_error *err)
{
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    if (st != OM_OK) {
        om_layer_abort_feature(l);
    }
    return st;
}

static void refresh(struct worker *w, struct om_layer *dst)
{
    if (dst == w->f1) {
        om_layer_view(w->f1, &w->f1v);
    } else {
        om_layer_view(w->f2, &w->f2v);
    }
}

/* Clip fragment (src,f) by prepared tile; a partial piece goes to `dst`. */
static enum om_status clip(struct worker *w, struct om_prepared *p, uint8_t src,
                           size_t f, struct om_layer *dst, int *rel,
                           struct om_error *err)
{
    double area = 0.0;
    enum om_status st = om_layer_begin_feature(dst, 0, err);
    if (st == OM_OK) {
        st = om_prepared_clip(w->geos, p, src_view(w, src), f, dst, rel, &area,
                              err);
    }
    st = end_scratch(dst, st, err);
    if (st == OM_OK) {
        refresh(w, dst);
    }
    return st;
}

static enum om_status renew(struct om_layer **l, struct om_layer_view *v,
                            struct om_error *err)
{
    if (om_layer_nfeatures(*l) <= SCRATCH_MAX) {
        return OM_OK;
    }
    om_layer_free(*l);
    *l = NULL;
    enum om_status st = om_layer_new("fragments", l, err);
    if (st == OM_OK) {
        om_layer_view(*l, v);
    }
    return st;
}

static bool has_parts(const struct om_layer_view *v, size_t f)
{
    return v->part_start[f + 1] > v->part_start[f];
}

static double frag_planar(struct worker *w, const struct frag *fr)
{
    const struct om_layer_view *v = src_view(w, fr->src);
    return has_parts(v, fr->f) ? om_feature_area_planar(v, fr->f) : 0.0;
}

static struct om_rect frag_box(struct worker *w, const struct frag *fr)
{
    return src_view(w, fr->src)->bbox[fr->f];
}

static bool push_frag(struct frag **arr, size_t *n, size_t *cap, uint8_t src,
                      size_t f, size_t key)
{
    if (!om__grow((void **)arr, cap, *n + 1, sizeof **arr)) {
        return false;
    }
    (*arr)[*n].src = src;
    (*arr)[*n].f = f;
    (*arr)[*n].key = key;
    (*n)++;
    return true;
}

static bool crumb(const struct job *j, double rest, double whole);
static bool crumb_piece(const struct job *j, double piece, double whole);

/* Emit one piece made of fragments fr[0..n) (disjoint interiors). */
static enum om_status emit(struct worker *w, struct chunk_out *c, size_t a,
                           size_t b, size_t unit, const struct frag *fr,
                           size_t n, struct om_error *err)
{
    const struct om_overlay_options *opt = w->job->opt;
    double planar = 0.0, ell = opt->ellipsoidal ? 0.0 : NAN;
    for (size_t i = 0; i < n; i++) {
        const struct om_layer_view *v = src_view(w, fr[i].src);
        if (!has_parts(v, fr[i].f)) {
            continue;
        }
        planar += om_feature_area_planar(v, fr[i].f);
        if (opt->ellipsoidal) {
            double e = 0.0;
            enum om_status st =
                om_area_feature(w->area, v, fr[i].f, NULL, &e, err);
            if (st != OM_OK) {
                return st;
            }
            ell += e;
        }
    }
    if (crumb_piece(w->job, planar, om_feature_area_planar(&w->job->av, a)) ||
        planar < opt->min_area_m2 * w->job->unit2_per_m2) {
        return OM_OK;
    }
    size_t gf = OM_OVERLAY_NONE;
    if (opt->want_geometry) {
        int64_t fid = w->job->av.fid[a];
        enum om_status st;
        if (n == 1) {
            st = om__copy_feature(c->geom, src_view(w, fr[0].src), fr[0].f, fid,
                                  err);
        } else {
            w->nrefs = 0;
            if (!OM__GROW(w->refs, w->cap_refs, n)) {
                return om__enomem(err, NULL);
            }
            for (size_t i = 0; i < n; i++) {
                w->refs[w->nrefs].v = src_view(w, fr[i].src);
                w->refs[w->nrefs++].f = fr[i].f;
            }
            st = om_layer_begin_feature(c->geom, fid, err);
            if (st == OM_OK) {
                st = om__setops_union(w->gx, w->refs, w->nrefs, c->geom, err);
            }
            st = end_scratch(c->geom, st, err);
        }
        if (st != OM_OK) {
            return st;
        }
        gf = om_layer_nfeatures(c->geom) - 1;
    }
    if (!OM__GROW(c->p, c->cap, c->n + 1)) {
        return om__enomem(err, NULL);
    }
    struct piece_rec *r = &c->p[c->n++];
    r->a = a;
    r->b = b;
    r->unit = unit;
    r->layer = 0;
    r->planar = planar;
    r->ell = ell;
    r->gf = gf;
    return OM_OK;
}

/*
 * Crumbs are not pieces (as in stats.c). A remainder (A minus the pieces
 * assigned: A \ B, what lies outside every unit) carries the cancellation
 * of whole − parts: below 1e-9 of the whole + 1e-6 m² it is that rounding,
 * or a sliver between boundaries that nearly coincide (a parcel edge and a
 * township edge digitised 1e-10 m apart). A piece computed directly (an
 * intersection; a boundary integral) carries its own rounding only: below
 * 1e-12 of the A feature + 1e-6 m². A real overlap of 0.1 m² between a red
 * line of 10^8 m² and a parcel is a piece, not a crumb. Both engines.
 */
static bool crumb_piece(const struct job *j, double piece, double whole)
{
    return piece <= 1e-12 * whole + 1e-6 * j->unit2_per_m2;
}

static bool crumb(const struct job *j, double rest, double whole)
{
    return rest <= 1e-9 * whole + 1e-6 * j->unit2_per_m2;
}

/*
 * GEOS's overlay can, on rare degenerate input (edges that coincide with
 * tile cuts and holes filled exactly by other features), return a
 * difference that is plainly wrong. Every "outside" piece is therefore
 * checked against the areas already known: outside + inside = whole.
 */
static bool consistent(double outside, double expected, double whole)
{
    return fabs(outside - expected) <= 1e-6 * whole + 1e-3;
}

/* Append feature = union(refs) to *dst; its planar area in *area. */
static enum om_status union_area(struct worker *w, struct om_layer *dst,
                                 struct om_layer_view *dv,
                                 const struct om__fref *refs, size_t n,
                                 double *area, struct om_error *err)
{
    enum om_status st = om_layer_begin_feature(dst, 0, err);
    if (st == OM_OK) {
        st = om__setops_union(w->gx, refs, n, dst, err);
    }
    st = end_scratch(dst, st, err);
    if (st == OM_OK) {
        om_layer_view(dst, dv);
        size_t sf = dv->nfeatures - 1;
        *area = has_parts(dv, sf) ? om_feature_area_planar(dv, sf) : 0.0;
    }
    return st;
}

static void cache_clear(struct worker *w, struct tile_cache *cache);

/* Prepare tile t for a test of a fragment of `npoints` vertices. */
static enum om_status prep_tile(struct worker *w, struct tile_cache *cache,
                                const struct om_layer_view *tv, size_t t,
                                size_t npoints, struct om_error *err)
{
    if (cache->tested > CACHE_VERTICES) {
        cache_clear(w, cache);
    }
    cache->tested += npoints;
    if (cache->p[t]) {
        return OM_OK;
    }
    if (!OM__GROW(cache->used, cache->cap_used, cache->nused + 1)) {
        return om__enomem(err, NULL);
    }
    enum om_status st = om_polyops_prepare(w->geos, tv, t, &cache->p[t], err);
    if (st == OM_OK) {
        cache->used[cache->nused++] = t;
    }
    return st;
}

/* Free the prepared tiles (a tile may be listed twice: see clip_tile). */
static void cache_clear(struct worker *w, struct tile_cache *cache)
{
    for (size_t i = 0; cache->p && i < cache->nused; i++) {
        om_prepared_free(w->geos, cache->p[cache->used[i]]);
        cache->p[cache->used[i]] = NULL;
    }
    cache->nused = 0;
    cache->tested = 0;
}

static bool box_contains(struct om_rect outer, struct om_rect inner)
{
    return outer.minx <= inner.minx && outer.miny <= inner.miny &&
           outer.maxx >= inner.maxx && outer.maxy >= inner.maxy;
}

static size_t grid_col(const struct grid *g, double x)
{
    double c = floor((x - g->box.minx) / g->cw);
    return c <= 0 ? 0 : (c >= (double)(g->nx - 1) ? g->nx - 1 : (size_t)c);
}

static size_t grid_row(const struct grid *g, double y)
{
    double r = floor((y - g->box.miny) / g->ch);
    return r <= 0 ? 0 : (r >= (double)(g->ny - 1) ? g->ny - 1 : (size_t)r);
}

/* Count (fill: list) edge k in every cell its box meets. */
static void grid_cells(struct grid *g, size_t k, bool fill)
{
    const double *e = g->seg + 4 * k;
    size_t c0 = grid_col(g, fmin(e[0], e[2])),
           c1 = grid_col(g, fmax(e[0], e[2]));
    size_t r0 = grid_row(g, fmin(e[1], e[3])),
           r1 = grid_row(g, fmax(e[1], e[3]));
    for (size_t r = r0; r <= r1; r++) {
        for (size_t c = c0; c <= c1; c++) {
            size_t i = r * g->nx + c;
            if (fill) {
                g->cell[g->start[i]++] = k;
            } else {
                g->start[i + 1]++;
            }
        }
    }
}

/*
 * Index the edges of fragment (src,f) in w->big when it is big (more than
 * BIG_FRAG vertices), for clip_tile; grid_end forgets it.
 */
static enum om_status grid_begin(struct worker *w, uint8_t src, size_t f,
                                 struct om_error *err)
{
    const struct om_layer_view *v = src_view(w, src);
    struct grid *g = &w->big;
    size_t npts = om_feature_npoints(v, f);
    if (npts <= BIG_FRAG) {
        return OM_OK;
    }
    if (!OM__GROW(g->seg, g->cap_seg, 4 * npts)) {
        return om__enomem(err, NULL);
    }
    g->nseg = 0;
    size_t p0 = v->part_start[f], p1 = v->part_start[f + 1];
    for (size_t r = v->ring_start[p0]; r < v->ring_start[p1]; r++) {
        for (size_t i = v->point_start[r]; i + 1 < v->point_start[r + 1]; i++) {
            memcpy(g->seg + 4 * g->nseg++, v->xy + 2 * i, 4 * sizeof(double));
        }
    }
    /* About two edges a cell, cells about square. */
    g->box = v->bbox[f];
    double w_ = g->box.maxx - g->box.minx, h_ = g->box.maxy - g->box.miny;
    double side = sqrt(w_ * h_ / (double)(g->nseg / 2 + 1));
    if (!(side > 0.0)) {
        side = fmax(w_, h_) / 64 + 1e-9;
    }
    g->nx = (size_t)fmin(fmax(ceil(w_ / side), 1.0), 4096.0);
    g->ny = (size_t)fmin(fmax(ceil(h_ / side), 1.0), 4096.0);
    g->cw = w_ > 0.0 ? w_ / (double)g->nx : 1.0;
    g->ch = h_ > 0.0 ? h_ / (double)g->ny : 1.0;
    size_t ncells = g->nx * g->ny;
    if (!OM__GROW(g->start, g->cap_start, ncells + 1)) {
        return om__enomem(err, NULL);
    }
    memset(g->start, 0, (ncells + 1) * sizeof *g->start);
    for (size_t k = 0; k < g->nseg; k++) {
        grid_cells(g, k, false);
    }
    for (size_t i = 0; i < ncells; i++) {
        g->start[i + 1] += g->start[i];
    }
    if (!OM__GROW(g->cell, g->cap_cell, g->start[ncells] + 1)) {
        return om__enomem(err, NULL);
    }
    /* Fill: start[i] runs from the beginning of cell i to its end (the
     * beginning of cell i + 1), then shift back. */
    for (size_t k = 0; k < g->nseg; k++) {
        grid_cells(g, k, true);
    }
    for (size_t i = ncells; i > 0; i--) {
        g->start[i] = g->start[i - 1];
    }
    g->start[0] = 0;
    g->on = true;
    return OM_OK;
}

static void grid_end(struct worker *w)
{
    w->big.on = false;
}

static void grid_free(struct grid *g)
{
    om__free(g->seg);
    om__free(g->start);
    om__free(g->cell);
}

/* Where box b lies against the big fragment. */
enum { BOX_NEAR = 0, BOX_INSIDE, BOX_OUTSIDE };

static int grid_locate(const struct grid *g, struct om_rect b)
{
    if (b.maxx < g->box.minx || b.minx > g->box.maxx || b.maxy < g->box.miny ||
        b.miny > g->box.maxy) {
        return BOX_OUTSIDE;
    }
    /* Does any edge come into the (closed) box? */
    size_t c0 = grid_col(g, b.minx), c1 = grid_col(g, b.maxx);
    size_t r0 = grid_row(g, b.miny), r1 = grid_row(g, b.maxy);
    for (size_t r = r0; r <= r1; r++) {
        for (size_t c = c0; c <= c1; c++) {
            size_t i = r * g->nx + c;
            for (size_t q = g->start[i]; q < g->start[i + 1]; q++) {
                const double *e = g->seg + 4 * g->cell[q];
                if (fmax(e[0], e[2]) >= b.minx && fmin(e[0], e[2]) <= b.maxx &&
                    fmax(e[1], e[3]) >= b.miny && fmin(e[1], e[3]) <= b.maxy) {
                    return BOX_NEAR;
                }
            }
        }
    }
    /*
     * No edge in the box: the box is all inside or all outside. Cast a ray
     * from its centre to +x along its grid row; an edge is counted in the
     * cell where it crosses the ray only. The centre is at least half the
     * box from every edge, so the float crossing test cannot err.
     */
    double px = 0.5 * (b.minx + b.maxx), py = 0.5 * (b.miny + b.maxy);
    size_t r = grid_row(g, py);
    bool inside = false;
    for (size_t c = grid_col(g, px); c < g->nx; c++) {
        size_t i = r * g->nx + c;
        for (size_t q = g->start[i]; q < g->start[i + 1]; q++) {
            const double *e = g->seg + 4 * g->cell[q];
            if ((e[1] > py) == (e[3] > py)) {
                continue;
            }
            double x = e[0] + (py - e[1]) * (e[2] - e[0]) / (e[3] - e[1]);
            x = fmin(fmax(x, fmin(e[0], e[2])), fmax(e[0], e[2]));
            if (x > px && grid_col(g, x) == c) {
                inside = !inside;
            }
        }
    }
    return inside ? BOX_INSIDE : BOX_OUTSIDE;
}

/*
 * Append to w->trash a rectangle around box b (margin 1% + 1 unit) and set
 * *v, *f to it.
 */
static enum om_status box_feature(struct worker *w, struct om_rect b,
                                  const struct om_layer_view **v, size_t *f,
                                  struct om_error *err)
{
    double m = 0.01 * fmax(b.maxx - b.minx, b.maxy - b.miny) + 1.0;
    double x0 = b.minx - m, y0 = b.miny - m, x1 = b.maxx + m, y1 = b.maxy + m;
    double ring[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    enum om_status st = om_layer_begin_feature(w->trash, 0, err);
    if (st == OM_OK) {
        st = om_layer_begin_part(w->trash, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_ring(w->trash, ring, 5, err);
    }
    st = end_scratch(w->trash, st, err);
    if (st == OM_OK) {
        om_layer_view(w->trash, &w->trashv);
        *v = &w->trashv;
        *f = w->trashv.nfeatures - 1;
    }
    return st;
}

/*
 * Clip fragment (src,f) by tile t of tv (prepared tiles cached in `cache`):
 * *rel is OM_REL_COVERS (the tile covers the fragment, nothing written),
 * OM_REL_PARTIAL (the fragment ∩ tile written to dst as its last feature)
 * or OM_REL_DISJOINT.
 *
 * A small fragment is tested against the tile's prepared geometry, shared
 * by every fragment that meets the tile. A big fragment (its edges in
 * w->big, see grid_begin) is not: GEOS 3.11 keeps the monotone chains of
 * the last geometry tested inside the prepared tile (80 kB for a
 * 40,000-vertex red line, for as long as the tile is cached: 830 MB for
 * one county), and an overlay of a tile lying inside the big polygon
 * builds a point locator on the whole polygon every time. So for a big
 * fragment, a tile whose box no edge of it enters is inside it (then the
 * piece is the tile, as GEOSIntersection(tile, a rectangle around it)
 * writes it: the same graph for the tile's rings as with the fragment,
 * so the same rings and start points, to the last bit) or outside it;
 * only the other tiles are overlaid, with GEOSIntersection(tile,
 * fragment) as om_prepared_clip makes it, and a tile that was prepared
 * (only one whose box holds the fragment's box can cover it) is dropped
 * from the cache after.
 */
static enum om_status clip_tile(struct worker *w, struct tile_cache *cache,
                                const struct om_layer_view *tv, size_t t,
                                uint8_t src, size_t f, struct om_layer *dst,
                                int *rel, struct om_error *err)
{
    *rel = OM_REL_DISJOINT;
    const struct om_layer_view *sv = src_view(w, src);
    enum om_status st = OM_OK;
    if (!w->big.on) {
        st = prep_tile(w, cache, tv, t, om_feature_npoints(sv, f), err);
        return st == OM_OK ? clip(w, cache->p[t], src, f, dst, rel, err) : st;
    }
    int where = grid_locate(&w->big, tv->bbox[t]);
    if (where == BOX_OUTSIDE) {
        return OM_OK;
    }
    if (where == BOX_NEAR && box_contains(tv->bbox[t], sv->bbox[f])) {
        st = prep_tile(w, cache, tv, t, om_feature_npoints(sv, f), err);
        if (st == OM_OK) {
            st = clip(w, cache->p[t], src, f, dst, rel, err);
        }
        om_prepared_free(w->geos, cache->p[t]);
        cache->p[t] = NULL;
        return st;
    }
    const struct om_layer_view *with = sv;
    size_t wf = f;
    if (where == BOX_INSIDE) {
        st = renew(&w->trash, &w->trashv, err);
        if (st == OM_OK) {
            st = box_feature(w, tv->bbox[t], &with, &wf, err);
        }
    }
    double area = 0.0;
    if (st == OM_OK) {
        st = om_layer_begin_feature(dst, 0, err);
    }
    if (st == OM_OK) {
        st = om_polyops_intersection(w->geos, tv, t, with, wf, dst, &area, err);
    }
    st = end_scratch(dst, st, err);
    if (st == OM_OK) {
        refresh(w, dst);
        *rel = area > 0.0 ? OM_REL_PARTIAL : OM_REL_DISJOINT;
    }
    return st;
}

/* Split the piece made of B-level fragments bl[i0..i1) by units. */
static enum om_status split_units(struct worker *w, struct chunk_out *c,
                                  size_t a, size_t b, size_t i0, size_t i1,
                                  struct om_error *err)
{
    struct job *j = w->job;
    if (!j->opt->units) {
        return emit(w, c, a, b, OM_OVERLAY_NONE, w->bl + i0, i1 - i0, err);
    }
    w->nul = 0;
    /* Remainders outside every unit. */
    struct frag *rests = NULL;
    size_t nrests = 0, cap_rests = 0;
    enum om_status st = OM_OK;
    for (size_t i = i0; st == OM_OK && i < i1; i++) {
        struct frag fr = w->bl[i];
        double whole = frag_planar(w, &fr);
        size_t ul0 = w->nul;
        st = candidates(w, j->utree, &j->utv, frag_box(w, &fr), err);
        if (st == OM_OK && w->ncand > 1) {
            st = grid_begin(w, fr.src, fr.f, err);
        }
        double assigned = 0.0;
        bool covered = false;
        w->nmet = 0;
        for (size_t k = 0; st == OM_OK && k < w->ncand && !covered; k++) {
            size_t t = w->cand[k];
            int rel = OM_REL_DISJOINT;
            st = clip_tile(w, &w->uc, &j->utv, t, fr.src, fr.f, w->f2, &rel,
                           err);
            if (st != OM_OK) {
                break;
            }
            size_t unit = (size_t)j->utv.fid[t];
            if (rel == OM_REL_COVERS) {
                covered = true;
                if (!push_frag(&w->ul, &w->nul, &w->cap_ul, fr.src, fr.f,
                               unit)) {
                    st = om__enomem(err, NULL);
                }
                assigned = whole;
            } else if (rel == OM_REL_PARTIAL) {
                size_t sf = w->f2v.nfeatures - 1;
                assigned += om_feature_area_planar(&w->f2v, sf);
                if (!push_frag(&w->ul, &w->nul, &w->cap_ul, SRC_F2, sf, unit) ||
                    !OM__GROW(w->met, w->cap_met, w->nmet + 1)) {
                    st = om__enomem(err, NULL);
                }
                w->met[w->nmet++] = t;
            }
        }
        grid_end(w);
        if (st != OM_OK || covered) {
            continue;
        }
        if (crumb(j, whole - assigned, whole)) {
            /* All in units: in one unit only (its tiles cut it into
             * pieces), the piece there is the fragment itself, not a
             * union of its pieces to be made again in emit. */
            bool one = w->nul > ul0 + 1;
            for (size_t k = ul0 + 1; one && k < w->nul; k++) {
                one = w->ul[k].key == w->ul[ul0].key;
            }
            if (one) {
                w->ul[ul0] = (struct frag){fr.src, fr.f, w->ul[ul0].key};
                w->nul = ul0 + 1;
            }
            continue;
        }
        /* Part of the fragment lies outside every unit. */
        if (w->nmet == 0) {
            if (!push_frag(&rests, &nrests, &cap_rests, fr.src, fr.f, 0)) {
                st = om__enomem(err, NULL);
            }
            continue;
        }
        if (!OM__GROW(w->refs, w->cap_refs, w->nmet + (w->nul - ul0))) {
            st = om__enomem(err, NULL);
            break;
        }
        for (size_t k = 0; k < w->nmet; k++) {
            w->refs[k].v = &j->utv;
            w->refs[k].f = w->met[k];
        }
        struct om__fref self = {src_view(w, fr.src), fr.f};
        st = om_layer_begin_feature(w->f2, 0, err);
        if (st == OM_OK) {
            st = om__setops_difference(w->gx, self, w->refs, w->nmet, w->f2,
                                       err);
        }
        st = end_scratch(w->f2, st, err);
        if (st == OM_OK) {
            om_layer_view(w->f2, &w->f2v);
            size_t sf = w->f2v.nfeatures - 1;
            double out = has_parts(&w->f2v, sf)
                             ? om_feature_area_planar(&w->f2v, sf)
                             : 0.0;
            if (!consistent(out, whole - assigned, whole)) {
                /* Retry against the inside pieces themselves. */
                size_t nin = 0;
                for (size_t k = ul0; k < w->nul; k++) {
                    w->refs[nin].v = src_view(w, w->ul[k].src);
                    w->refs[nin].f = w->ul[k].f;
                    nin++;
                }
                self.v = src_view(w, fr.src);
                st = om_layer_begin_feature(w->f2, 0, err);
                if (st == OM_OK) {
                    st = om__setops_difference(w->gx, self, w->refs, nin, w->f2,
                                               err);
                }
                st = end_scratch(w->f2, st, err);
                if (st == OM_OK) {
                    om_layer_view(w->f2, &w->f2v);
                    sf = w->f2v.nfeatures - 1;
                    out = has_parts(&w->f2v, sf)
                              ? om_feature_area_planar(&w->f2v, sf)
                              : 0.0;
                    if (!consistent(out, whole - assigned, whole)) {
                        st = om__error(
                            err, OM_EGEOM, NULL, 0, j->av.fid[a],
                            "feature %lld: GEOS gave inconsistent areas "
                            "splitting it by admin units (outside %.3f m2 "
                            "+ inside %.3f m2 != %.3f m2); check the "
                            "geometries with onemap info",
                            (long long)j->av.fid[a], out, assigned, whole);
                    }
                }
            }
        }
        if (st == OM_OK) {
            size_t sf = w->f2v.nfeatures - 1;
            if (has_parts(&w->f2v, sf) &&
                !crumb(j, om_feature_area_planar(&w->f2v, sf), whole) &&
                !push_frag(&rests, &nrests, &cap_rests, SRC_F2, sf, 0)) {
                st = om__enomem(err, NULL);
            }
        }
    }
    /* Group by unit (stable: fragments keep their order within a unit). */
    for (size_t i = 1; st == OM_OK && i < w->nul; i++) {
        struct frag x = w->ul[i];
        size_t k = i;
        while (k > 0 && w->ul[k - 1].key > x.key) {
            w->ul[k] = w->ul[k - 1];
            k--;
        }
        w->ul[k] = x;
    }
    for (size_t i = 0; st == OM_OK && i < w->nul;) {
        size_t k = i;
        while (k < w->nul && w->ul[k].key == w->ul[i].key) {
            k++;
        }
        st = emit(w, c, a, b, w->ul[i].key, w->ul + i, k - i, err);
        i = k;
    }
    if (st == OM_OK && nrests > 0) {
        st = emit(w, c, a, b, OM_OVERLAY_NONE, rests, nrests, err);
    }
    om__free(rests);
    return st;
}

static enum om_status name_pair(struct job *j, size_t a, struct om_error *err,
                                enum om_status st)
{
    if (st != OM_OK && st != OM_ENOMEM && err) {
        char pre[OM_ERROR_SOURCE_MAX];
        om__strlcpy(pre, j->aname, sizeof pre);
        om__error_prefix(err, "overlay of %s feature %lld", j->aname,
                         (long long)j->av.fid[a]);
        om__strlcpy(err->source, pre, sizeof err->source);
        err->feature = j->av.fid[a];
    }
    return st;
}

/* Keep the candidate B tiles of the B features overlapping feature a. */
static void drop_candidates(struct worker *w, size_t a)
{
    const struct job *j = w->job;
    const size_t *keep = j->kb + j->kstart[a];
    size_t nkeep = j->kstart[a + 1] - j->kstart[a], m = 0;
    for (size_t k = 0; k < w->ncand; k++) {
        size_t b = (size_t)j->btv.fid[w->cand[k]];
        size_t lo = 0, hi = nkeep;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (keep[mid] < b) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if (lo < nkeep && keep[lo] == b) {
            w->cand[m++] = w->cand[k];
        }
    }
    w->ncand = m;
}

static enum om_status one_feature(struct worker *w, struct chunk_out *c,
                                  size_t a, struct om_error *err)
{
    struct job *j = w->job;
    const struct om_overlay_options *opt = j->opt;
    enum om_status st = renew(&w->f1, &w->f1v, err);
    if (st == OM_OK) {
        st = renew(&w->f2, &w->f2v, err);
    }
    if (st != OM_OK) {
        return st;
    }
    w->nbl = 0;
    if (!opt->b) {
        if (!push_frag(&w->bl, &w->nbl, &w->cap_bl, SRC_A, a,
                       OM_OVERLAY_NONE)) {
            return om__enomem(err, NULL);
        }
        return split_units(w, c, a, OM_OVERLAY_NONE, 0, 1, err);
    }
    double whole = om_feature_area_planar(&j->av, a);
    if (j->kstart && j->kstart[a] == j->kstart[a + 1] && !opt->outside) {
        return OM_OK; /* no B feature overlaps a */
    }
    st = candidates(w, j->btree, &j->btv, j->av.bbox[a], err);
    if (st == OM_OK && j->kstart) {
        drop_candidates(w, a);
    }
    if (st == OM_OK && w->ncand > 1) {
        st = grid_begin(w, SRC_A, a, err);
    }
    bool covered = false;
    w->nmet = 0;
    size_t covered_b = OM_OVERLAY_NONE;
    for (size_t k = 0; st == OM_OK && k < w->ncand; k++) {
        size_t t = w->cand[k];
        size_t b = (size_t)j->btv.fid[t];
        if (b == covered_b) {
            continue; /* other tiles of a B feature covering A add nothing */
        }
        int rel = OM_REL_DISJOINT;
        st = clip_tile(w, &w->bc, &j->btv, t, SRC_A, a, w->f1, &rel, err);
        if (st != OM_OK) {
            break;
        }
        if (rel == OM_REL_COVERS) {
            covered = true;
            covered_b = b;
            /* drop earlier fragments of this B feature (crumbs at most) */
            while (w->nbl > 0 && w->bl[w->nbl - 1].key == b) {
                w->nbl--;
            }
            if (!push_frag(&w->bl, &w->nbl, &w->cap_bl, SRC_A, a, b)) {
                st = om__enomem(err, NULL);
            }
        } else if (rel == OM_REL_PARTIAL) {
            if (!push_frag(&w->bl, &w->nbl, &w->cap_bl, SRC_F1,
                           w->f1v.nfeatures - 1, b) ||
                !OM__GROW(w->met, w->cap_met, w->nmet + 1)) {
                st = om__enomem(err, NULL);
                break;
            }
            w->met[w->nmet++] = t;
        }
    }
    grid_end(w);
    if (st != OM_OK) {
        return name_pair(j, a, err, st);
    }
    /* The outside piece: A minus the B tiles it meets. */
    size_t nin = w->nbl;
    if (opt->outside && !covered) {
        if (w->nmet == 0) {
            if (!push_frag(&w->bl, &w->nbl, &w->cap_bl, SRC_A, a,
                           OM_OVERLAY_NONE)) {
                return om__enomem(err, NULL);
            }
        } else {
            if (!OM__GROW(w->refs, w->cap_refs, w->nmet)) {
                return om__enomem(err, NULL);
            }
            for (size_t k = 0; k < w->nmet; k++) {
                w->refs[k].v = &j->btv;
                w->refs[k].f = w->met[k];
            }
            struct om__fref self = {&j->av, a};
            st = om_layer_begin_feature(w->f1, 0, err);
            if (st == OM_OK) {
                st = om__setops_difference(w->gx, self, w->refs, w->nmet, w->f1,
                                           err);
            }
            st = end_scratch(w->f1, st, err);
            if (st != OM_OK) {
                return name_pair(j, a, err, st);
            }
            om_layer_view(w->f1, &w->f1v);
            size_t sf = w->f1v.nfeatures - 1;
            double out = has_parts(&w->f1v, sf)
                             ? om_feature_area_planar(&w->f1v, sf)
                             : 0.0;
            /* Check: outside + union(inside pieces) = whole. */
            if (!OM__GROW(w->refs, w->cap_refs, nin + 1)) {
                return om__enomem(err, NULL);
            }
            size_t nref = 0;
            for (size_t k = 0; k < nin; k++) {
                w->refs[nref].v = src_view(w, w->bl[k].src);
                w->refs[nref].f = w->bl[k].f;
                nref++;
            }
            double in = 0.0;
            st = union_area(w, w->f2, &w->f2v, w->refs, nref, &in, err);
            if (st != OM_OK) {
                return name_pair(j, a, err, st);
            }
            if (!consistent(out, whole - in, whole)) {
                /* Retry against the inside pieces themselves. */
                st = om_layer_begin_feature(w->f1, 0, err);
                if (st == OM_OK) {
                    st = om__setops_difference(w->gx, self, w->refs, nref,
                                               w->f1, err);
                }
                st = end_scratch(w->f1, st, err);
                if (st != OM_OK) {
                    return name_pair(j, a, err, st);
                }
                om_layer_view(w->f1, &w->f1v);
                sf = w->f1v.nfeatures - 1;
                out = has_parts(&w->f1v, sf)
                          ? om_feature_area_planar(&w->f1v, sf)
                          : 0.0;
                if (!consistent(out, whole - in, whole)) {
                    return om__error(
                        err, OM_EGEOM, NULL, 0, j->av.fid[a],
                        "feature %lld: GEOS gave inconsistent overlay areas "
                        "(outside %.3f m2 + inside %.3f m2 != %.3f m2); "
                        "check the geometries with onemap info",
                        (long long)j->av.fid[a], out, in, whole);
                }
            }
            if (has_parts(&w->f1v, sf) && !crumb(j, out, whole) &&
                !push_frag(&w->bl, &w->nbl, &w->cap_bl, SRC_F1, sf,
                           OM_OVERLAY_NONE)) {
                return om__enomem(err, NULL);
            }
        }
    }
    /* Pieces by B feature (candidates came sorted by B), outside last. */
    size_t i = opt->inside ? 0 : nin;
    while (st == OM_OK && i < w->nbl) {
        size_t k = i;
        while (k < w->nbl && w->bl[k].key == w->bl[i].key) {
            k++;
        }
        st = split_units(w, c, a, w->bl[i].key, i, k, err);
        i = k;
    }
    return name_pair(j, a, err, st);
}

/*
 * One feature of A with the area kernel: the same pieces as one_feature
 * (inside pieces by B feature, the outside piece unless a crumb, each
 * split by unit, the remainder outside every unit unless a crumb of its
 * piece), with areas only.
 */
static enum om_status kernel_feature(struct worker *w, struct chunk_out *c,
                                     size_t a, struct om_error *err)
{
    struct job *j = w->job;
    const struct om_overlay_options *opt = j->opt;
    const struct om__ak_region *reg = NULL;
    size_t n = 0;
    enum om_status st = om__ak_feature(w->akw, &j->av, a, &reg, &n, err);
    if (st != OM_OK) {
        return name_pair(j, a, err, st);
    }
    double whole = om_feature_area_planar(&j->av, a);
    for (size_t i = 0; i < n;) {
        size_t l = reg[i].layer, b = reg[i].b, k = i;
        double piece = 0.0;
        while (k < n && reg[k].b == b && reg[k].layer == l) {
            piece += reg[k++].planar;
        }
        bool keep =
            !opt->b || (b == OM_OVERLAY_NONE ? opt->outside : opt->inside);
        keep = keep && !(b == OM_OVERLAY_NONE ? crumb(j, piece, whole)
                                              : crumb_piece(j, piece, whole));
        for (size_t m = i; keep && m < k; m++) {
            double v = reg[m].planar;
            /* remainders: outside every B, or outside every unit */
            bool rest = b == OM_OVERLAY_NONE ||
                        (opt->units && reg[m].unit == OM_OVERLAY_NONE);
            if ((rest ? crumb(j, v, whole) : crumb_piece(j, v, whole)) ||
                v < opt->min_area_m2 * j->unit2_per_m2) {
                continue;
            }
            if (!OM__GROW(c->p, c->cap, c->n + 1)) {
                return om__enomem(err, NULL);
            }
            struct piece_rec *r = &c->p[c->n++];
            r->a = a;
            r->b = b;
            r->unit = reg[m].unit;
            r->layer = l;
            r->planar = v;
            r->ell = opt->ellipsoidal ? reg[m].ell : NAN;
            r->gf = OM_OVERLAY_NONE;
        }
        i = k;
    }
    return OM_OK;
}

static enum om_status run_chunk(struct worker *w, size_t ci,
                                struct om_error *err)
{
    struct job *j = w->job;
    struct chunk_out *c = &j->out[ci];
    size_t i0 = j->cstart[ci], i1 = j->cstart[ci + 1];
    if (j->opt->want_geometry) {
        enum om_status st = om_layer_new("pieces", &c->geom, err);
        if (st != OM_OK) {
            return st;
        }
    }
    for (size_t i = i0; i < i1; i++) {
        size_t a = j->order ? j->order[i] : i;
        if ((j->opt->a_mask && !j->opt->a_mask[a]) ||
            (j->av.flags[a] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
            continue;
        }
        enum om_status st =
            j->ak ? kernel_feature(w, c, a, err) : one_feature(w, c, a, err);
        if (st != OM_OK) {
            return st;
        }
        if (j->stop) {
            return OM_OK;
        }
    }
    return OM_OK;
}

static void record(struct job *j, size_t ci, enum om_status st,
                   const struct om_error *e)
{
    pthread_mutex_lock(&j->lock);
    if (st != OM_OK && j->status == OM_OK) {
        j->status = st;
        j->err = *e;
        j->stop = 1;
    }
    j->chunks_done++;
    j->cdone[ci] = 1;
    pthread_mutex_unlock(&j->lock);
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
        struct om_error e;
        om_error_clear(&e);
        enum om_status st = run_chunk(w, ci, &e);
        record(j, ci, st, &e);
    }
    return NULL;
}

static void worker_deinit(struct worker *w)
{
    struct job *j = w->job;
    if (!j) {
        return;
    }
    cache_clear(w, &w->bc);
    cache_clear(w, &w->uc);
    om__free(w->bc.p);
    om__free(w->bc.used);
    om__free(w->uc.p);
    om__free(w->uc.used);
    grid_free(&w->big);
    om_layer_free(w->f1);
    om_layer_free(w->f2);
    om_layer_free(w->trash);
    om_area_ctx_free(w->area);
    om_polyops_free(w->geos);
    om__setops_free(w->gx);
    om__free(w->cand);
    om__free(w->bl);
    om__free(w->ul);
    om__free(w->refs);
    om__free(w->met);
    om__ak_work_free(w->akw);
}

static enum om_status worker_init(struct worker *w, struct job *j,
                                  struct om_error *err)
{
    memset(w, 0, sizeof *w);
    w->job = j;
    if (j->ak) {
        enum om_status st = om__ak_work_new(j->ak, &w->akw, err);
        if (st == OM_OK && j->opt->ellipsoidal) {
            st = om_area_ctx_new(j->opt->crs, &w->area, err);
            if (st == OM_OK) {
                om__ak_work_set_area(w->akw, w->area);
            }
        }
        return st;
    }
    enum om_status st = om_polyops_new(&w->geos, err);
    if (st == OM_OK) {
        st = om__setops_new(&w->gx, err);
    }
    if (st == OM_OK && j->opt->ellipsoidal) {
        st = om_area_ctx_new(j->opt->crs, &w->area, err);
    }
    if (st == OM_OK) {
        st = om_layer_new("fragments", &w->f1, err);
    }
    if (st == OM_OK) {
        st = om_layer_new("fragments", &w->f2, err);
    }
    if (st == OM_OK) {
        st = om_layer_new("fragments", &w->trash, err);
    }
    if (st != OM_OK) {
        return st;
    }
    om_layer_view(w->f1, &w->f1v);
    om_layer_view(w->f2, &w->f2v);
    om_layer_view(w->trash, &w->trashv);
    w->bc.p = om__calloc(j->btv.nfeatures + 1, sizeof *w->bc.p);
    w->uc.p = om__calloc(j->utv.nfeatures + 1, sizeof *w->uc.p);
    if (!w->bc.p || !w->uc.p) {
        return om__enomem(err, NULL);
    }
    return OM_OK;
}

/*
 * The order A is walked in: the Hilbert order of its features' box centres
 * over its extent, the order om_layer_finish gives, so that neighbouring
 * features share a chunk (and the zone edges they meet stay in cache)
 * whatever A's own order: a layer read in fid order (OM_LAYER_KEEP_ORDER)
 * is walked as one finished in Hilbert order, without copying it there.
 * j->order stays NULL when that is A's own order.
 */
static enum om_status walk_order(struct job *j, struct om_error *err)
{
    size_t n = j->av.nfeatures;
    if (n < 2) {
        return OM_OK;
    }
    uint32_t *keys = om__reallocarray(NULL, n, sizeof *keys);
    size_t *perm = om__reallocarray(NULL, n, sizeof *perm);
    bool ok = keys && perm;
    if (ok) {
        om__hilbert_keys(j->av.bbox, n, om_layer_extent(j->opt->a), keys);
        ok = om__hilbert_order(keys, n, perm);
    }
    om__free(keys);
    if (!ok) {
        om__free(perm);
        return om__enomem(err, j->aname);
    }
    size_t i = 0;
    while (i < n && perm[i] == i) {
        i++;
    }
    if (i == n) {
        om__free(perm);
    } else {
        j->order = perm;
    }
    return OM_OK;
}

/* Chunk boundaries (j->nchunks + 1 of them; NULL if out of memory). */
static size_t *make_chunks(struct job *j)
{
    const struct om_layer_view *v = &j->av;
    size_t *cs = om__malloc((v->nfeatures + 2) * sizeof *cs);
    if (!cs) {
        return NULL;
    }
    size_t n = 0, count = 0, work = 0;
    cs[0] = 0;
    for (size_t i = 0; i < v->nfeatures; i++) {
        size_t f = j->order ? j->order[i] : i;
        bool used = !(j->opt->a_mask && !j->opt->a_mask[f]) &&
                    !(v->flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID));
        count++;
        work += used ? om_feature_npoints(v, f) + 64 : 1;
        if (count == CHUNK || work >= CHUNK_WORK) {
            cs[++n] = i + 1;
            count = work = 0;
        }
    }
    if (count > 0) {
        cs[++n] = v->nfeatures;
    }
    j->nchunks = n;
    return cs;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
}

/* Deliver chunk ci's pieces to the callback. */
static enum om_status deliver(struct job *j, size_t ci, om_overlay_piece_fn fn,
                              void *ctx, struct om_error *err)
{
    struct chunk_out *c = &j->out[ci];
    struct om_layer_view gv;
    if (c->geom) {
        om_layer_view(c->geom, &gv);
    }
    for (size_t k = 0; k < c->n; k++) {
        const struct piece_rec *r = &c->p[k];
        struct om_overlay_piece p;
        p.a = r->a;
        p.b = r->b;
        p.unit = r->unit;
        p.layer = r->layer;
        p.planar_m2 = r->planar;
        p.ellipsoidal_m2 = r->ell;
        p.geom = c->geom ? &gv : NULL;
        p.geom_feature = r->gf;
        enum om_status st = fn(ctx, &p, err);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static void free_chunk(struct chunk_out *c)
{
    om__free(c->p);
    om_layer_free(c->geom);
    memset(c, 0, sizeof *c);
}

/* Deliver (then free) the chunks from *next on that are computed, in
 * order, while no chunk has failed. */
static enum om_status deliver_ready(struct job *j, size_t *next,
                                    om_overlay_piece_fn fn, void *ctx,
                                    struct om_error *err)
{
    for (;;) {
        pthread_mutex_lock(&j->lock);
        bool ready =
            *next < j->nchunks && j->cdone[*next] && j->status == OM_OK;
        pthread_mutex_unlock(&j->lock);
        if (!ready) {
            return OM_OK;
        }
        enum om_status st = deliver(j, *next, fn, ctx, err);
        free_chunk(&j->out[*next]);
        (*next)++;
        if (st != OM_OK) {
            return st;
        }
    }
}

/*
 * Which B features overlap which features of A, from the area kernel with
 * the selected features of A as its zones, asked about each selected B
 * feature on `threads` threads: a pair whose overlap is at most a quarter
 * of a crumb (1e-12 of the A feature + 1e-6 m², see crumb_piece) is left
 * out. Its pieces would be crumbs at most (the kernel's error is orders
 * below that), dropped by emit anyway; GEOS is then spared the features
 * that only touch (plans digitised from the same parcels share most of
 * their edges). Sets j->kstart, j->kb.
 */
struct fpart {
    const struct job *j;
    const struct om__ak *ak;
    const double *whole; /* planar area of each feature of A */
    size_t b0, b1;
    uint64_t *pairs; /* a << 32 | b */
    size_t n, cap;
    enum om_status st;
    struct om_error err;
};

static void *filter_main(void *arg)
{
    struct fpart *p = arg;
    const struct job *j = p->j;
    const struct om_overlay_options *opt = j->opt;
    struct om_layer_view bv;
    om_layer_view(opt->b, &bv);
    struct om__ak_work *w = NULL;
    p->st = om__ak_work_new(p->ak, &w, &p->err);
    for (size_t b = p->b0; p->st == OM_OK && b < p->b1 && !j->stop; b++) {
        if ((opt->b_mask && !opt->b_mask[b]) ||
            (bv.flags[b] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
            continue;
        }
        const struct om__ak_region *reg = NULL;
        size_t n = 0;
        p->st = om__ak_feature(w, &bv, b, &reg, &n, &p->err);
        for (size_t i = 0; p->st == OM_OK && i < n; i++) {
            size_t a = reg[i].b;
            if (a == OM_OVERLAY_NONE ||
                !(reg[i].planar >
                  0.25 * (1e-12 * p->whole[a] + 1e-6 * j->unit2_per_m2))) {
                continue;
            }
            if (!OM__GROW(p->pairs, p->cap, p->n + 1)) {
                p->st = om__enomem(&p->err, NULL);
                break;
            }
            p->pairs[p->n++] = (uint64_t)a << 32 | (uint64_t)b;
        }
    }
    om__ak_work_free(w);
    return NULL;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

static enum om_status filter_make(struct job *j, int threads,
                                  struct om_error *err)
{
    const struct om_overlay_options *opt = j->opt;
    size_t na = j->av.nfeatures, nb = om_layer_nfeatures(opt->b);
    if (na >= UINT32_MAX || nb >= UINT32_MAX) {
        return OM_OK; /* not filtered */
    }
    struct om__ak *ak = NULL;
    enum om_status st =
        om__ak_new(opt->a, opt->a_mask, NULL, threads, &ak, err);
    if (st != OM_OK) {
        return st;
    }
    double *whole = om__calloc(na + 1, sizeof *whole);
    struct fpart *parts = om__calloc((size_t)threads, sizeof *parts);
    pthread_t *tids = om__calloc((size_t)threads, sizeof *tids);
    bool *started = om__calloc((size_t)threads, sizeof *started);
    if (!whole || !parts || !tids || !started) {
        om__free(whole);
        om__free(parts);
        om__free(tids);
        om__free(started);
        om__ak_free(ak);
        return om__enomem(err, NULL);
    }
    for (size_t a = 0; a < na; a++) {
        whole[a] = om_feature_area_planar(&j->av, a);
    }
    for (int t = 0; t < threads; t++) {
        parts[t].j = j;
        parts[t].ak = ak;
        parts[t].whole = whole;
        parts[t].b0 = nb * (size_t)t / (size_t)threads;
        parts[t].b1 = nb * (size_t)(t + 1) / (size_t)threads;
        if (t > 0) {
            started[t] =
                pthread_create(&tids[t], NULL, filter_main, &parts[t]) == 0;
            if (!started[t]) {
                filter_main(&parts[t]);
            }
        }
    }
    filter_main(&parts[0]);
    size_t total = 0;
    for (int t = 0; t < threads; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        }
        if (st == OM_OK && parts[t].st != OM_OK) {
            st = parts[t].st;
            if (err) {
                *err = parts[t].err;
            }
        }
        total += parts[t].n;
    }
    uint64_t *all = NULL;
    if (st == OM_OK) {
        all = om__calloc(total + 1, sizeof *all);
        j->kstart = om__calloc(na + 1, sizeof *j->kstart);
        j->kb = om__calloc(total + 1, sizeof *j->kb);
        if (!all || !j->kstart || !j->kb) {
            st = om__enomem(err, NULL);
        }
    }
    if (st == OM_OK) {
        size_t n = 0;
        for (int t = 0; t < threads; t++) {
            if (parts[t].n) {
                memcpy(all + n, parts[t].pairs, parts[t].n * sizeof *all);
            }
            n += parts[t].n;
        }
        qsort(all, total, sizeof *all, cmp_u64);
        for (size_t i = 0; i < total; i++) {
            j->kstart[(all[i] >> 32) + 1]++;
            j->kb[i] = (size_t)(all[i] & 0xffffffffu);
        }
        for (size_t a = 0; a < na; a++) {
            j->kstart[a + 1] += j->kstart[a];
        }
    }
    if (st != OM_OK) {
        om__free(j->kstart);
        om__free(j->kb);
        j->kstart = j->kb = NULL;
    }
    for (int t = 0; t < threads; t++) {
        om__free(parts[t].pairs);
    }
    om__free(all);
    om__free(parts);
    om__free(tids);
    om__free(started);
    om__free(whole);
    om__ak_free(ak);
    return st;
}

/*
 * Several layers B with the GEOS engine: one run per layer, its pieces
 * marked with the layer; one progress bar over all of them.
 */
struct layer_pass {
    om_overlay_piece_fn fn;
    void *ctx;
    size_t layer, nlayers;
    const struct om_progress *real;
};

static enum om_status layer_piece(void *ctx, const struct om_overlay_piece *p,
                                  struct om_error *err)
{
    struct layer_pass *lp = ctx;
    struct om_overlay_piece q = *p;
    q.layer = lp->layer;
    return lp->fn(lp->ctx, &q, err);
}

static void layer_progress(void *ctx, const char *phase, uint64_t done,
                           uint64_t total)
{
    struct layer_pass *lp = ctx;
    lp->real->fn(lp->real->ctx, phase, lp->layer * total + done,
                 lp->nlayers * total);
}

static enum om_status run_layers_apart(const struct om_overlay_options *opt,
                                       om_overlay_piece_fn fn, void *ctx,
                                       const struct om_progress *progress,
                                       struct om_error *err)
{
    struct layer_pass lp = {fn, ctx, 0, opt->nmore_b + 1, progress};
    struct om_progress prog = {0};
    if (progress) {
        prog = *progress;
        prog.fn = progress->fn ? layer_progress : NULL;
        prog.ctx = &lp;
    }
    enum om_status st = OM_OK;
    for (size_t l = 0; st == OM_OK && l <= opt->nmore_b; l++) {
        struct om_overlay_options o = *opt;
        o.more_b = NULL;
        o.more_b_mask = NULL;
        o.nmore_b = 0;
        if (l > 0) {
            o.b = opt->more_b[l - 1];
            o.b_mask = opt->more_b_mask ? opt->more_b_mask[l - 1] : NULL;
        }
        lp.layer = l;
        st = om_overlay_run(&o, layer_piece, &lp, progress ? &prog : NULL, err);
    }
    return st;
}

/* What the job takes from A (j->opt->a). */
static void job_set_a(struct job *j)
{
    const struct om_layer *a = j->opt->a;
    j->aname = om_layer_name(a);
    om_layer_view(a, &j->av);
    j->unit2_per_m2 = 1.0;
    if (j->opt->crs && om_crs_is_geographic(j->opt->crs)) {
        /* degrees² per m² at the middle latitude of A (good to a few
         * per cent across a province: enough for a crumb threshold) */
        struct om_rect e = om_layer_extent(a);
        double lat = fabs(0.5 * (e.miny + e.maxy));
        double c = cos((lat < 89.0 ? lat : 89.0) * 0.017453292519943295);
        double m_per_deg = 6371008.8 * 0.017453292519943295;
        j->unit2_per_m2 = 1.0 / (m_per_deg * m_per_deg * c);
    }
}

/* A given late (om_overlay_options.a_late) into o->a. */
static enum om_status late_a(struct om_overlay_options *o, struct om_error *err)
{
    const struct om_layer *a = NULL;
    enum om_status st = o->a_late(o->a_late_ctx, &a, err);
    if (st != OM_OK) {
        return st;
    }
    if (!a || !om_layer_is_finished(a)) {
        return om__error(err, OM_EINVAL, a ? om_layer_name(a) : NULL, 0, -1,
                         "overlay: layer A given late is %s",
                         a ? "not finished" : "missing");
    }
    o->a = a;
    return OM_OK;
}

enum om_status om_overlay_run(const struct om_overlay_options *given,
                              om_overlay_piece_fn fn, void *ctx,
                              const struct om_progress *progress,
                              struct om_error *err)
{
    if (!given || (!given->a && !given->a_late) || !fn) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "overlay: NULL options, layer A or callback");
    }
    /* a copy: A given late goes into it */
    struct om_overlay_options o = *given;
    const struct om_overlay_options *opt = &o;
    const char *aname = opt->a ? om_layer_name(opt->a) : "A";
    if (opt->nmore_b > 0 && (!opt->b || !opt->more_b)) {
        return om__error(err, OM_EINVAL, aname, 0, -1,
                         "overlay: more layers B need layer B and the list");
    }
    bool ready = (!opt->a || om_layer_is_finished(opt->a)) &&
                 (!opt->b || om_layer_is_finished(opt->b)) &&
                 (!opt->units || om_layer_is_finished(opt->units));
    for (size_t l = 0; ready && l < opt->nmore_b; l++) {
        ready = opt->more_b[l] && om_layer_is_finished(opt->more_b[l]);
    }
    if (!ready) {
        return om__error(err, OM_EINVAL, aname, 0, -1,
                         "overlay needs finished (indexed) layers");
    }
    if (opt->ellipsoidal && !opt->crs) {
        return om__error(err, OM_ECRS, aname, 0, -1,
                         "ellipsoidal areas need the layers' CRS");
    }
    if (opt->engine != OM_ENGINE_AUTO && opt->engine != OM_ENGINE_KERNEL &&
        opt->engine != OM_ENGINE_GEOS) {
        return om__error(err, OM_EINVAL, aname, 0, -1,
                         "overlay: unknown engine %d", (int)opt->engine);
    }
    bool kernel = opt->engine == OM_ENGINE_KERNEL ||
                  (opt->engine == OM_ENGINE_AUTO && !opt->want_geometry);
    if (kernel && opt->want_geometry) {
        return om__error(err, OM_EINVAL, aname, 0, -1,
                         "the area kernel computes areas only, no piece "
                         "geometry: use the GEOS engine");
    }
    if (!kernel && !opt->a) {
        enum om_status st = late_a(&o, err);
        if (st != OM_OK) {
            return st;
        }
        aname = om_layer_name(opt->a);
    }
    if (!kernel && opt->nmore_b > 0) {
        return run_layers_apart(opt, fn, ctx, progress, err);
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.opt = opt;
    if (opt->a) {
        job_set_a(&j);
    }
    struct om_layer *btiles = NULL, *utiles = NULL;
    enum om_status st = OM_OK;
    if (kernel) {
        int kt = opt->threads > 0 ? opt->threads : default_threads();
        size_t nbl = opt->b ? opt->nmore_b + 1 : 0;
        struct om__ak_layer *bl = om__calloc(nbl + 1, sizeof *bl);
        if (!bl) {
            return om__enomem(err, NULL);
        }
        for (size_t l = 0; l < nbl; l++) {
            bl[l].layer = l ? opt->more_b[l - 1] : opt->b;
            bl[l].mask = !l                 ? opt->b_mask
                         : opt->more_b_mask ? opt->more_b_mask[l - 1]
                                            : NULL;
        }
        st = om__ak_new_layers(bl, nbl, opt->units,
                               kt > MAX_THREADS ? MAX_THREADS : kt, &j.ak, err);
        om__free(bl);
        if (st == OM_OK && !opt->a) {
            st = late_a(&o, err);
            if (st == OM_OK) {
                job_set_a(&j);
            }
        }
        if (st != OM_OK) {
            om__ak_free(j.ak);
            return st;
        }
    } else if (opt->b) {
        st = om__tiles_make(opt->b, opt->b_mask, &btiles, err);
        if (st == OM_OK) {
            om_layer_view(btiles, &j.btv);
            j.btree = om_layer_index(btiles);
        }
        if (st == OM_OK && opt->engine == OM_ENGINE_AUTO) {
            int kt = opt->threads > 0 ? opt->threads : default_threads();
            st = filter_make(&j, kt > MAX_THREADS ? MAX_THREADS : kt, err);
        }
    }
    if (st == OM_OK && opt->units && !kernel) {
        st = om__tiles_make(opt->units, NULL, &utiles, err);
        if (st == OM_OK) {
            om_layer_view(utiles, &j.utv);
            j.utree = om_layer_index(utiles);
        }
    }
    if (st == OM_OK) {
        st = walk_order(&j, err);
    }
    if (st != OM_OK) {
        om_layer_free(btiles);
        om_layer_free(utiles);
        om__ak_free(j.ak);
        om__free(j.kstart);
        om__free(j.kb);
        return st;
    }
    j.cstart = make_chunks(&j);
    j.out = om__calloc(j.nchunks + 1, sizeof *j.out);
    j.cdone = om__calloc(j.nchunks + 1, 1);
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
    if (!j.cstart || !j.out || !j.cdone || !ws || !tids || !started) {
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
    /* The calling thread works too, reports progress between chunks, and
     * delivers the pieces of the chunks done so far, in chunk order. */
    size_t next_deliver = 0;
    enum om_status dst = OM_OK;
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
                          ? om__progress_force(progress, "overlay",
                                               (uint64_t)j.cstart[done_chunks],
                                               (uint64_t)j.av.nfeatures)
                          : om__canceled(progress);
        struct om_error e;
        om_error_clear(&e);
        enum om_status cst = OM_OK;
        if (cancel) {
            cst = om__error(&e, OM_ECANCELED, aname, 0, -1, "overlay canceled");
        } else {
            cst = run_chunk(&ws[0], ci, &e);
        }
        record(&j, ci, cst, &e);
        if (cancel) {
            break;
        }
        dst = deliver_ready(&j, &next_deliver, fn, ctx, err);
        if (dst != OM_OK) {
            pthread_mutex_lock(&j.lock);
            j.stop = 1;
            pthread_mutex_unlock(&j.lock);
            break;
        }
    }
    for (int t = 1; t < nthreads; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        }
    }
    if (dst != OM_OK) {
        pthread_mutex_destroy(&j.lock);
        st = dst;
        goto done;
    }
    st = j.status;
    if (st != OM_OK) {
        pthread_mutex_destroy(&j.lock);
        if (err) {
            *err = j.err;
        }
        goto done;
    }
    st = deliver_ready(&j, &next_deliver, fn, ctx, err);
    pthread_mutex_destroy(&j.lock);
    if (st != OM_OK) {
        goto done;
    }
    om__progress(progress, "overlay", j.av.nfeatures, j.av.nfeatures);
done:
    if (ws) {
        for (int t = 0; t < nthreads; t++) {
            worker_deinit(&ws[t]);
        }
    }
    om__free(ws);
    om__free(tids);
    om__free(started);
    if (j.out) {
        for (size_t ci = 0; ci < j.nchunks; ci++) {
            free_chunk(&j.out[ci]);
        }
    }
    om__free(j.out);
    om__free(j.cdone);
    om__free(j.cstart);
    om__free(j.order);
    om_layer_free(btiles);
    om_layer_free(utiles);
    om__ak_free(j.ak);
    om__free(j.kstart);
    om__free(j.kb);
    return st;
}
