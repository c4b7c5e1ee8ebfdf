/*
 * areak_fixtures.h — for the unit tests of the exact area kernel
 * (test_areak.c, test_areak_ell.c, test_areak_real.c, test_areak_xml.c):
 * the seeded pseudo-random numbers, a clock, test-owned buffers, the
 * error-keeping layer building (bk / finish), the star and blob ring shapes,
 * the validity check of a built layer, the piece list an overlay delivers into,
 * copies / reprojections / dissolves of real layers, and the untiled GEOS
 * arrangement oracle. Included by one test file per binary, after test.h.
 *
 * Each test uses some of these: the unused ones are no warning.
 */
#ifndef ONEMAP_TEST_AREAK_FIXTURES_H
#define ONEMAP_TEST_AREAK_FIXTURES_H

#include "core/core.h"
#include "geom/setops.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/polyops.h"
#include "test.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

#define TAU 6.283185307179586
#define NONE OM_OVERLAY_NONE

/* At most this many offending pieces are printed before a FAIL line. */
enum { MAX_REPORT = 12 };

/* ---- seeded pseudo-random numbers (xorshift64) ---- */

static uint64_t rng;

static void seed(uint64_t s)
{
    rng = (s + 1) * 0x9E3779B97F4A7C15ull ^ 0x2545F4914F6CDD1Dull;
}

static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* An integer in lo..hi (inclusive). */
static int rndi(int lo, int hi)
{
    return lo + (int)(rnd() * (double)(hi - lo + 1));
}

/* A monotonic clock in seconds, for the timings on INFO lines. */
static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- test-owned buffers (libc memory, not counted as library leaks) ---- */

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        perror("realloc");
        exit(2);
    }
    return q;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        perror("calloc");
        exit(2);
    }
    return p;
}

struct pts {
    double *xy;
    size_t n, cap;
};

static void pts_push(struct pts *p, double x, double y)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 64;
        p->xy = xrealloc(p->xy, 2 * p->cap * sizeof *p->xy);
    }
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->n++;
}

/* ---- building layers: the first failure is kept in bst / berr ---- */

static enum om_status bst;
static struct om_error berr, btmp;

static void bk(enum om_status st)
{
    if (st != OM_OK && bst == OM_OK) {
        bst = st;
        berr = btmp;
    }
}

static void finish(struct om_layer *l)
{
    if (l) {
        bk(om_layer_finish(l, 0, &btmp));
    }
}

/* Twice the signed area of the open ring xy[0..n), relative to xy[0]. */
static double area2(const double *xy, size_t n)
{
    double s = 0.0;
    for (size_t i = 1; i + 1 < n; i++) {
        double ax = xy[2 * i] - xy[0], ay = xy[2 * i + 1] - xy[1];
        double bx = xy[2 * i + 2] - xy[0], by = xy[2 * i + 3] - xy[1];
        s += ax * by - bx * ay;
    }
    return s;
}

/* ---- shapes ---- */

/* A star-shaped ring: n vertices at increasing angles, radii rmin..rmax. */
static void star(struct pts *p, double cx, double cy, double rmin, double rmax,
                 int n)
{
    p->n = 0;
    double t0 = TAU * rnd();
    for (int i = 0; i < n; i++) {
        double t = t0 + TAU * (i + 0.1 + 0.8 * rnd()) / n;
        double r = rmin + (rmax - rmin) * rnd();
        pts_push(p, cx + r * cos(t), cy + r * sin(t));
    }
}

/* A smooth wavy ring of n vertices, radii within R * [0.719, 1.281]. */
static void blob(struct pts *p, double cx, double cy, double R, int n)
{
    p->n = 0;
    double k1 = rndi(2, 7), k2 = rndi(11, 40);
    double f1 = TAU * rnd(), f2 = TAU * rnd();
    for (int i = 0; i < n; i++) {
        double t = TAU * (i + 0.5 * rnd()) / n;
        double r = R * (1.0 + 0.2 * sin(k1 * t + f1) + 0.08 * sin(k2 * t + f2) +
                        0.002 * (rnd() - 0.5));
        pts_push(p, cx + r * cos(t), cy + r * sin(t));
    }
}

/*
 * The boundaries of n vertical strips: bd[k] (k = 0..n, zeroed before) runs
 * up from (x0 + cuts[k], ylo) to (x0 + cuts[k], yhi); bd[0] and bd[n] are
 * straight, the others zig-zags of nz vertices, each inner vertex moved by
 * amp * [-0.5, 0.5) in x.
 */
static void zigzag_bounds(struct pts *bd, int n, double x0, const double *cuts,
                          double ylo, double yhi, int nz, double amp)
{
    for (int k = 0; k <= n; k++) {
        int m = (k == 0 || k == n) ? 2 : nz;
        for (int i = 0; i < m; i++) {
            double y = ylo + (yhi - ylo) * i / (m - 1);
            double jit = (i > 0 && i < m - 1) ? amp * (rnd() - 0.5) : 0.0;
            pts_push(&bd[k], x0 + cuts[k] + jit, y);
        }
    }
}

/*
 * The open ring of strip k, between the boundaries bd[k] and bd[k + 1]
 * (each from bottom to top): it shares them, vertex for vertex, with its
 * neighbours.
 */
static void strip_ring(struct pts *ring, const struct pts *bd, int k)
{
    ring->n = 0;
    for (size_t i = 0; i < bd[k + 1].n; i++) {
        pts_push(ring, bd[k + 1].xy[2 * i], bd[k + 1].xy[2 * i + 1]);
    }
    for (size_t i = bd[k].n; i-- > 0;) {
        pts_push(ring, bd[k].xy[2 * i], bd[k].xy[2 * i + 1]);
    }
}

/* Every feature valid (GEOS): the scenes are meant to be valid input. */
static bool check_valid(const struct om_layer *l)
{
    struct om_polyops *geos = NULL;
    struct om_error err;
    if (om_polyops_new(&geos, &err) != OM_OK) {
        FAILF("om_polyops_new: %s", err.msg);
        return false;
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    bool ok = true;
    for (size_t f = 0; ok && f < v.nfeatures; f++) {
        struct om_validity val;
        enum om_status st = om_polyops_check(geos, &v, f, &val, &err);
        if (st != OM_OK || !val.is_valid) {
            FAILF("test bug: %s fid %lld is not valid: %s at (%.17g, %.17g)",
                  om_layer_name(l), (long long)v.fid[f],
                  st != OM_OK ? err.msg : val.reason, val.x, val.y);
            ok = false;
        }
    }
    om_polyops_free(geos);
    return ok;
}

/* ---- the pieces of an overlay ---- */

struct plist {
    struct om_overlay_piece *p;
    size_t n, cap;
};

/* om_overlay_run's callback: appends a copy of the piece (geometry left
 * out) to the struct plist ctx. */
static enum om_status on_piece(void *ctx, const struct om_overlay_piece *p,
                               struct om_error *err)
{
    (void)err;
    struct plist *l = ctx;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->p = xrealloc(l->p, l->cap * sizeof *l->p);
    }
    l->p[l->n] = *p;
    l->p[l->n].geom = NULL;
    l->n++;
    return OM_OK;
}

static const char *engine_name(enum om_overlay_engine e)
{
    return e == OM_ENGINE_KERNEL ? "kernel" : "GEOS";
}

/*
 * Overlay with o into *out (on_piece); a failure is a FAIL line naming the
 * scene `what`, the engine and the threads.
 */
static bool run_into(const struct om_overlay_options *o, const char *what,
                     struct plist *out)
{
    struct om_error err;
    om_error_clear(&err);
    enum om_status st = om_overlay_run(o, on_piece, out, NULL, &err);
    if (st != OM_OK) {
        FAILF("%s: %s -j%d: %s: %s", what, engine_name(o->engine), o->threads,
              om_status_name(st), err.msg);
        return false;
    }
    return true;
}

/* The pieces' key order: a, then b, then unit. */
static int key_cmp(const struct om_overlay_piece *x,
                   const struct om_overlay_piece *y)
{
    if (x->a != y->a) {
        return x->a < y->a ? -1 : 1;
    }
    if (x->b != y->b) {
        return x->b < y->b ? -1 : 1;
    }
    if (x->unit != y->unit) {
        return x->unit < y->unit ? -1 : 1;
    }
    return 0;
}

/* ---- copies, reprojections and dissolves of layers ---- */

/*
 * Copy feature f of v (all its rings, moved by (dx, dy)) into l's current
 * feature; buf is scratch.
 */
static enum om_status copy_rings(struct om_layer *l,
                                 const struct om_layer_view *v, size_t f,
                                 double dx, double dy, struct pts *buf,
                                 struct om_error *err)
{
    enum om_status st = OM_OK;
    for (size_t p = v->part_start[f]; st == OM_OK && p < v->part_start[f + 1];
         p++) {
        st = om_layer_begin_part(l, err);
        for (size_t r = v->ring_start[p];
             st == OM_OK && r < v->ring_start[p + 1]; r++) {
            buf->n = 0;
            for (size_t i = v->point_start[r]; i < v->point_start[r + 1]; i++) {
                pts_push(buf, v->xy[2 * i] + dx, v->xy[2 * i + 1] + dy);
            }
            st = om_layer_add_ring(l, buf->xy, buf->n, err);
        }
    }
    return st;
}

/*
 * The features of src with an INT field "code" = the text field
 * code_field as a number, reprojected with t, as a new finished layer
 * (no CRS set). With win, only the features whose box centre lies in
 * *win, or with `touch` whose box meets it. Left out: the features src
 * flags empty or invalid (counted in *nflagged) and those GEOS finds
 * invalid after reprojection (counted in *ninvalid).
 */
static enum om_status reprojected(const struct om_layer *src,
                                  const struct om_rect *win, bool touch,
                                  const char *code_field,
                                  struct om_transform *t, struct om_layer **out,
                                  size_t *nflagged, size_t *ninvalid,
                                  struct om_error *err)
{
    struct om_layer *tmp = NULL, *dst = NULL;
    struct om_polyops *geos = NULL;
    struct pts buf = {0};
    struct om_layer_view v;
    om_layer_view(src, &v);
    int cf = om_layer_field_index(src, code_field);
    int tf = 0, df = 0;
    *out = NULL;
    *nflagged = *ninvalid = 0;
    enum om_status st = cf < 0 ? OM_ENOTFOUND : OM_OK;
    if (st == OM_OK) {
        st = om_layer_new(om_layer_name(src), &tmp, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(tmp, "code", OM_FIELD_INT, &tf, err);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        struct om_rect r = v.bbox[f];
        double cx = 0.5 * (r.minx + r.maxx), cy = 0.5 * (r.miny + r.maxy);
        if (win && !(touch ? om_rect_intersects(r, *win)
                           : cx >= win->minx && cx <= win->maxx &&
                                 cy >= win->miny && cy <= win->maxy)) {
            continue;
        }
        if (v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID)) {
            *nflagged += 1;
            continue;
        }
        const char *code = om_layer_get_text(src, f, cf);
        st = om_layer_begin_feature(tmp, v.fid[f], err);
        if (st == OM_OK) {
            st = copy_rings(tmp, &v, f, 0.0, 0.0, &buf, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(tmp, tf, code ? atoll(code) : -1, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(tmp, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_transform(tmp, t, NULL, err);
    }
    if (st == OM_OK) {
        st = om_polyops_new(&geos, err);
    }
    if (st == OM_OK) {
        st = om_layer_new(om_layer_name(src), &dst, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(dst, "code", OM_FIELD_INT, &df, err);
    }
    struct om_layer_view tv;
    if (st == OM_OK) {
        om_layer_view(tmp, &tv);
    }
    for (size_t f = 0; st == OM_OK && f < tv.nfeatures; f++) {
        struct om_validity val;
        st = om_polyops_check(geos, &tv, f, &val, err);
        if (st != OM_OK || !val.is_valid) {
            *ninvalid += st == OM_OK;
            continue;
        }
        st = om_layer_begin_feature(dst, tv.fid[f], err);
        if (st == OM_OK) {
            st = copy_rings(dst, &tv, f, 0.0, 0.0, &buf, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(dst, df, om_layer_get_int(tmp, f, tf), err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(dst, 0, err);
    }
    free(buf.xy);
    om_polyops_free(geos);
    om_layer_free(tmp);
    if (st != OM_OK) {
        om_layer_free(dst);
        return st;
    }
    *out = dst;
    return OM_OK;
}

/* A feature's group, from its "code": dissolves, exact answers. */
typedef int64_t (*group_fn)(int64_t code);

/* One group per code. */
static int64_t by_code(int64_t code)
{
    return code;
}

/*
 * The union of the features of l in each group g(code) of its INT field
 * "code" (om__setops_union), as a finished layer named `name` (fid = the
 * group, field "code" = the group); its CRS is l's.
 */
static enum om_status dissolve(const struct om_layer *l, group_fn g,
                               const char *name, struct om_layer **out,
                               struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    int cf = om_layer_field_index(l, "code");
    struct om__fref *refs = xcalloc(v.nfeatures, sizeof *refs);
    bool *done = xcalloc(v.nfeatures, sizeof *done);
    struct om__setops *sx = NULL;
    struct om_layer *u = NULL;
    int uf = 0;
    enum om_status st = om__setops_new(&sx, err);
    if (st == OM_OK) {
        st = om_layer_new(name, &u, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(u, om_layer_crs(l), err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(u, "code", OM_FIELD_INT, &uf, err);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        if (done[f]) {
            continue;
        }
        int64_t key = g(om_layer_get_int(l, f, cf));
        size_t n = 0;
        for (size_t k = f; k < v.nfeatures; k++) {
            if (!done[k] && g(om_layer_get_int(l, k, cf)) == key) {
                done[k] = true;
                refs[n++] = (struct om__fref){&v, k};
            }
        }
        st = om_layer_begin_feature(u, key, err);
        if (st == OM_OK) {
            st = om__setops_union(sx, refs, n, u, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(u, uf, key, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(u, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(u, 0, err);
    }
    om__setops_free(sx);
    free(refs);
    free(done);
    if (st != OM_OK) {
        om_layer_free(u);
        u = NULL;
    }
    *out = u;
    return st;
}

/* ---- regions: the areas of one A feature per (B feature, unit) ---- */

/* B feature b, unit u (or NONE); used: a kernel piece matched it. */
struct region {
    size_t b, u;
    double planar, ell;
    bool used;
};

struct rlist {
    struct region *r;
    size_t n, cap;
};

/* r[(b, u)] += (planar, ell), the entry made when new. */
static void rl_add(struct rlist *l, size_t b, size_t u, double planar,
                   double ell)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].b == b && l->r[i].u == u) {
            l->r[i].planar += planar;
            l->r[i].ell += ell;
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->r = xrealloc(l->r, l->cap * sizeof *l->r);
    }
    l->r[l->n++] = (struct region){b, u, planar, ell, false};
}

static const struct region *rl_find(const struct rlist *l, size_t b, size_t u)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].b == b && l->r[i].u == u) {
            return &l->r[i];
        }
    }
    return NULL;
}

/* ---- the untiled GEOS arrangement oracle ---- */

/*
 * Its state, kept from one A feature to the next: the caller sets sx
 * (om__setops_new) and, for ellipsoidal areas, area; arr_free frees all.
 */
struct arr {
    struct om__setops *sx;
    struct om_area_ctx *area; /* NULL: planar only */
    struct pts lines;         /* the polylines to node */
    size_t *start;
    size_t nlines, cap_start;
    struct om__fref *refs; /* the B features, then the units, near */
    size_t nrefs, cap_refs;
};

static void arr_free(struct arr *o)
{
    free(o->lines.xy);
    free(o->start);
    free(o->refs);
    om__setops_free(o->sx);
    om_area_ctx_free(o->area);
}

/* Even-odd: is (x, y) inside feature f of v? */
static bool inside(const struct om_layer_view *v, size_t f, double x, double y)
{
    struct om_rect bb = v->bbox[f];
    if (x < bb.minx || x > bb.maxx || y < bb.miny || y > bb.maxy) {
        return false;
    }
    bool in = false;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            const double *xy = v->xy + 2 * v->point_start[r];
            size_t n = v->point_start[r + 1] - v->point_start[r];
            for (size_t i = 0; i + 1 < n; i++) {
                double ax = xy[2 * i], ay = xy[2 * i + 1];
                double bx = xy[2 * i + 2], by = xy[2 * i + 3];
                if ((ay > y) != (by > y) &&
                    x < ax + (y - ay) * (bx - ax) / (by - ay)) {
                    in = !in;
                }
            }
        }
    }
    return in;
}

/* End the current polyline (started where the previous one ended). */
static void line_end(struct arr *o)
{
    if (o->nlines + 2 > o->cap_start) {
        o->cap_start = 2 * o->cap_start + 64;
        o->start = xrealloc(o->start, o->cap_start * sizeof *o->start);
    }
    if (o->nlines == 0) {
        o->start[0] = 0;
    }
    if (o->lines.n > o->start[o->nlines]) {
        o->start[++o->nlines] = o->lines.n;
    }
}

/*
 * The edges of feature f of v whose boxes meet r, as polylines, moved by
 * (-ox, -oy) (exactly: see arrangement).
 */
static void add_edges(struct arr *o, const struct om_layer_view *v, size_t f,
                      struct om_rect r, double ox, double oy)
{
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t q = v->ring_start[p]; q < v->ring_start[p + 1]; q++) {
            const double *xy = v->xy + 2 * v->point_start[q];
            size_t n = v->point_start[q + 1] - v->point_start[q];
            bool open = false;
            for (size_t i = 0; i + 1 < n; i++) {
                struct om_rect e = {fmin(xy[2 * i], xy[2 * i + 2]),
                                    fmin(xy[2 * i + 1], xy[2 * i + 3]),
                                    fmax(xy[2 * i], xy[2 * i + 2]),
                                    fmax(xy[2 * i + 1], xy[2 * i + 3])};
                if (!om_rect_intersects(e, r)) {
                    if (open) {
                        line_end(o);
                        open = false;
                    }
                    continue;
                }
                if (!open) {
                    pts_push(&o->lines, xy[2 * i] - ox, xy[2 * i + 1] - oy);
                    open = true;
                }
                pts_push(&o->lines, xy[2 * i + 2] - ox, xy[2 * i + 3] - oy);
            }
            if (open) {
                line_end(o);
            }
        }
    }
}

/* refs += the features of v (may be NULL) whose box meets r; their
 * number. */
static size_t near_refs(struct arr *o, const struct om_layer_view *v,
                        struct om_rect r)
{
    size_t n0 = o->nrefs;
    for (size_t f = 0; v && f < v->nfeatures; f++) {
        if (om_rect_intersects(v->bbox[f], r)) {
            if (o->nrefs == o->cap_refs) {
                o->cap_refs = 2 * o->cap_refs + 16;
                o->refs = xrealloc(o->refs, o->cap_refs * sizeof *o->refs);
            }
            o->refs[o->nrefs++] = (struct om__fref){v, f};
        }
    }
    return o->nrefs - n0;
}

/*
 * The faces of the arrangement of the edges gathered in o (moved by
 * (-ox, -oy)) inside feature a of av, classified against o->refs (the
 * first nb of them B features, then units), with their planar (`planar`)
 * or ellipsoidal areas (!planar) added to out; *nfaces_in += their number
 * (when nfaces_in is not NULL).
 */
static enum om_status faces_into(struct arr *o, const struct om_layer_view *av,
                                 size_t a, size_t nb, double ox, double oy,
                                 bool planar, struct rlist *out,
                                 size_t *nfaces_in, struct om_error *err)
{
    struct om_layer *faces = NULL;
    double *ip = NULL;
    size_t nfaces = 0;
    enum om_status st = om_layer_new("faces", &faces, err);
    if (st == OM_OK) {
        st = om__setops_polygonize(o->sx, o->lines.xy, o->start, o->nlines,
                                   faces, &ip, &nfaces, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(faces, OM_LAYER_KEEP_ORDER, err);
    }
    struct om_layer_view fv;
    if (st == OM_OK) {
        om_layer_view(faces, &fv);
    }
    for (size_t k = 0; st == OM_OK && k < nfaces; k++) {
        /* an interior point: strictly inside its face, so moving it back
         * (rounded) leaves it on the same side of every edge */
        double x = ip[2 * k] + ox, y = ip[2 * k + 1] + oy;
        if (!inside(av, a, x, y)) {
            continue;
        }
        size_t b = NONE, u = NONE;
        for (size_t i = 0; i < o->nrefs; i++) {
            const struct om__fref *f = &o->refs[i];
            size_t *slot = i < nb ? &b : &u;
            if (*slot == NONE && inside(f->v, f->f, x, y)) {
                *slot = f->f;
            }
        }
        double ell = 0.0;
        if (!planar) {
            st = om_area_feature(o->area, &fv, k, NULL, &ell, err);
        }
        rl_add(out, b, u, planar ? om_feature_area_planar(&fv, k) : 0.0, ell);
        if (nfaces_in) {
            *nfaces_in += 1;
        }
    }
    om__free(ip);
    om_layer_free(faces);
    return st;
}

/* Feature a's edges and those of refs whose boxes meet a's box, moved by
 * (-ox, -oy), as the lines of o. */
static void gather(struct arr *o, const struct om_layer_view *av, size_t a,
                   double ox, double oy)
{
    struct om_rect box = av->bbox[a];
    o->lines.n = 0;
    o->nlines = 0;
    add_edges(o, av, a, box, ox, oy);
    for (size_t i = 0; i < o->nrefs; i++) {
        add_edges(o, o->refs[i].v, o->refs[i].f, box, ox, oy);
    }
}

/*
 * The regions of feature a of av in the arrangement with the B features
 * of bv and the units of uv (either may be NULL) into out: its rings and
 * every edge of B and of the units whose box meets a's box, noded all at
 * once (so each crossing point is computed once, from the original
 * segments, as the kernel computes it) and polygonized; the faces inside
 * a are classified by an interior point and their areas summed per
 * (B feature, unit). *nfaces_in += the faces inside a.
 *
 * With `planar`, planar areas, and ellipsoidal ones too when o->area is
 * set; without, ellipsoidal areas only (o->area must be set).
 *
 * Planar areas: the edges are moved by (-ox, -oy), a multiple of 1024 m
 * near the feature, so that GEOS computes the crossing points and the
 * shoelace near 0 (the vertices to ~1e-11 m instead of ~1e-9 m at
 * y ~ 7e6): the translation is exact (ox is a multiple of every
 * coordinate's ulp and the differences are smaller than the coordinates)
 * and changes no area. Ellipsoidal areas: on the edges as they are, as
 * the kernel's: its crossing points for them are absolute doubles too (a
 * vertex moved by an ulp moves a 1,000 m2 piece's geodesic area by ~1e-6
 * m2: the area terms are rounded on the scale of the area between each
 * edge and the equator).
 */
static enum om_status arrangement(struct arr *o, const struct om_layer_view *av,
                                  size_t a, const struct om_layer_view *bv,
                                  const struct om_layer_view *uv, bool planar,
                                  struct rlist *out, size_t *nfaces_in,
                                  struct om_error *err)
{
    struct om_rect box = av->bbox[a];
    double ox = 1024.0 * nearbyint(box.minx / 1024.0);
    double oy = 1024.0 * nearbyint(box.miny / 1024.0);
    out->n = 0;
    o->nrefs = 0;
    size_t nb = near_refs(o, bv, box);
    near_refs(o, uv, box);
    enum om_status st = OM_OK;
    if (planar) {
        gather(o, av, a, ox, oy);
        st = faces_into(o, av, a, nb, ox, oy, true, out, nfaces_in, err);
    }
    if (st == OM_OK && o->area) {
        gather(o, av, a, 0.0, 0.0);
        st = faces_into(o, av, a, nb, 0.0, 0.0, false, out,
                        planar ? NULL : nfaces_in, err);
    }
    return st;
}

#pragma GCC diagnostic pop

#endif
