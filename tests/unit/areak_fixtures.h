/*
 * areak_fixtures.h — for the unit tests of the exact area kernel
 * (test_areak.c, test_areak_ell.c): the seeded pseudo-random numbers,
 * test-owned buffers, the error-keeping layer building (bk / finish),
 * the star and blob ring shapes, the validity check of a built layer and
 * the piece list an overlay delivers into. Included by one test file per
 * binary, after test.h.
 */
#ifndef ONEMAP_TEST_AREAK_FIXTURES_H
#define ONEMAP_TEST_AREAK_FIXTURES_H

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

#endif
