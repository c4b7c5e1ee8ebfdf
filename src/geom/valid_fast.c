/*
 * valid_fast.c — the exact validity pre-check (see valid_fast.h).
 *
 * Why a "true" agrees with GEOS 3.11. IsValid (IsValidOp) on a polygon or
 * multipolygon checks coordinates, closure and "too few points" (fewer
 * than 4 points after dropping repeated ones), then nodes the rings with
 * repeated points removed (PolygonTopologyAnalyzer) and tests every pair
 * of segments whose boxes meet (PolygonIntersectionAnalyzer): a pair
 * intersecting properly or in a collinear overlap is a self-intersection;
 * any other meeting of two segments of one ring that are not neighbours
 * is a ring self-intersection; then it checks holes against the shell,
 * holes against holes, shells against shells, and whether touches
 * disconnect the interior. Segments meet in GEOS's LineIntersector iff
 * their boxes meet and neither segment has both ends strictly on one side
 * of the other — the test `meet` below makes with exact signs, so a pair
 * GEOS finds is a pair this check finds. Neighbouring segments P→Q→R meet
 * in more than Q iff R is on the line PQ and one folds back over the other
 * (`folds`). Everything accepted here has no meeting pair at all apart
 * from neighbours at their shared vertex and rings touching at points, so
 * GEOS records no intersection other than those touches. A touch is two
 * rings sharing a point without crossing there (PolygonNode::isCrossing:
 * both edges of one ring at the point lie in the same of the two angles
 * the other ring's edges make); within a polygon, GEOS fails two rings
 * touching at two points and a cycle of rings joined by touches at
 * different points. touches_ok makes these tests with exact signs. The
 * containment tests use a ray-crossing count like GEOS's, with exact signs, on
 * points off every other ring.
 *
 * A simple closed ring always bounds a positive area, so rings that pass
 * are never the zero-area kind GEOS rejects.
 *
 * Speed. Most parcels are star-shaped from the mean of their points, and
 * `star_simple` proves those simple in one pass of orientation signs.
 * Other features go the general way: segments sorted by the left end of
 * their box and swept in x (pairs whose boxes miss cost a comparison or
 * two), the sort a natural merge sort whose runs are the x-monotone
 * stretches of the rings, each already in order of x. The nesting of the
 * rings is tested only where a ring's first point lies in another ring's
 * box (the rings sorted by that point's x), and all the points tested
 * against one ring are located in one pass over its segments (the points
 * sorted by y, each segment meeting only those in its y range). So a red
 * line of 10^6 vertices and 10^3 holes costs about what its parcels do.
 * The sweep and the location count their steps: a shape for which they
 * would be quadratic (a spiral of long edges stacked in x) gives up past
 * WORK_PER_POINT steps a point and is left to GEOS.
 *
 * GEOS's orientation is exact only as long as its double-double arithmetic
 * is: it forms coordinate differences exactly, but products of inexact
 * differences lose bits. `coords_ok` therefore accepts only coordinates
 * whose differences on each axis are exact doubles, where GEOS's products
 * and sums of two products are exact or sign-correct.
 */
#include "geom/valid_fast.h"

#include "geom/exact.h"

#include "core/core.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    MAXP = OM__VALID_FAST_MAX_POINTS,
    MAXR = OM__VALID_FAST_MAX_RINGS,
    /* features up to this size use storage on the stack */
    SMALLP = 512,
    SMALLR = 64,
    WORK_PER_POINT = 256,
    WORK_BASE = 4096,
    /* features of more segments go through grid_crossings */
    GRID_SEGS = 4096,
    /* a grid testing more pairs a segment goes over to the sweep */
    DENSE_PAIRS = 16,
};

int om__valid_fast_sweep = 0;

struct ring {
    uint32_t i0, i1; /* its points: i0 .. i1-1 of the feature */
    uint32_t part;
    uint32_t probe; /* the point located against other rings: i0, or the
                       first one not where the ring touches another */
    bool is_shell;
    double bx0, bx1, by0, by1; /* its box */
};

/*
 * The segments of a feature, repeated points dropped: segment s goes from
 * point a[s] to point b[s] and has the box x0..x1, y0..y1. The last one of
 * a ring ends at the ring's first point index (same coordinates as its
 * last point), so two segments are neighbours iff they share a point
 * index. perm lists the segments in order of x0 once sorted; before, its
 * runs perm[run[i] .. run[i+1]) are each in that order.
 */
struct segs {
    double *x0, *x1, *y0, *y1;
    uint32_t *a, *b;
    uint32_t *perm, *tmp;
    uint32_t *run;
    struct ring *rings;
    size_t nseg, nrun, nrings;
    size_t work, max_work; /* steps of the sweep and the location */
    struct touch *touch;   /* where rings touch (touch_pair), on the heap */
    size_t ntouch, cap_touch;
};

/*
 * Two rings meeting at a single point P, a vertex of at least one of them,
 * may be a touch, which OGC allows between rings (touches_ok decides).
 * Each ring through P is recorded by its arms: the points its boundary
 * goes to from P (the other ends of its two segments at a vertex, or both
 * ends of the segment P lies inside).
 */
struct touch {
    double x, y;   /* P */
    uint32_t ring; /* a ring through P */
    uint32_t arm;  /* the point index of one of its arms */
    uint32_t vtx;  /* the point index of P in the ring, or NOVTX */
};
#define NOVTX UINT32_MAX

/* The first point of a ring, to locate against another ring. */
struct probe {
    double x, y;
    uint32_t crossings;
    int8_t want; /* 1 inside, 0 outside */
    bool on;
};

/* A ring by the x of its first point (nesting_ok). */
struct ring_key {
    double x;
    uint32_t ring;
};

/* Storage of a small feature, on the stack. */
struct small {
    double x0[SMALLP], x1[SMALLP], y0[SMALLP], y1[SMALLP];
    uint32_t a[SMALLP], b[SMALLP];
    uint32_t perm[SMALLP], tmp[SMALLP];
    uint32_t run[SMALLP + 1];
    struct ring rings[SMALLR];
    struct probe probes[SMALLR];
    struct ring_key keys[SMALLR];
};

static double dmin(double a, double b)
{
    return a < b ? a : b;
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

static bool same_pt(const double *p, const double *q)
{
    return p[0] == q[0] && p[1] == q[1];
}

/*
 * The exponent of the lowest set bit of a finite nonzero double x (x is a
 * multiple of 2^that); INT_MIN for subnormals, which are refused anyway.
 * A normal x is (2^52 + m) * 2^(e - 1075).
 */
static int low_bit(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    int e = (int)((u >> 52) & 0x7ff);
    uint64_t m = u & ((UINT64_C(1) << 52) - 1);
    if (e == 0) {
        return INT_MIN;
    }
    return e - 1075 + (m ? __builtin_ctzll(m) : 52);
}

/*
 * Coordinates on one axis (range lo .. hi) are finite, not huge or tiny
 * (products and their rounding errors stay normal doubles), and every
 * difference of two is exact: either all lie within a factor of 2 of each
 * other (Sterbenz), or all are multiples of 2^g and the range is at most
 * 2^(52+g).
 */
static bool axis_ok(const double *xy, size_t n, int axis, double lo, double hi)
{
    if (!(lo >= -0x1p200 && hi <= 0x1p200)) {
        return false;
    }
    if ((lo >= 0x1p-200 && hi <= 2 * lo) || (hi <= -0x1p-200 && lo >= 2 * hi)) {
        return true;
    }
    int g = INT_MAX;
    for (size_t i = 0; i < n; i++) {
        double c = xy[2 * i + axis];
        if (c != 0) {
            int b = low_bit(c);
            g = b < g ? b : g;
        }
    }
    return g == INT_MAX || (g >= -200 && hi - lo <= ldexp(1.0, 52 + g));
}

/*
 * Finite, and axis_ok on both axes; c = the mean of the points, a centre
 * for star_simple. With these bounds c and the points differ, if at all,
 * by far more than the ~1e-138 below which om__orient2d's products would
 * underflow.
 */
static bool coords_ok(const double *xy, size_t n, double *c)
{
    double x0 = xy[0], x1 = x0, y0 = xy[1], y1 = y0, sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
        sx += x;
        sy += y;
    }
    c[0] = sx / (double)n;
    c[1] = sy / (double)n;
    /* the comparisons above skip NaN; a NaN or infinity makes a sum NaN */
    return isfinite(sx) && isfinite(sy) && axis_ok(xy, n, 0, x0, x1) &&
           axis_ok(xy, n, 1, y0, y1);
}

static bool in_box(const double *p, const double *a, const double *b)
{
    return p[0] >= dmin(a[0], b[0]) && p[0] <= dmax(a[0], b[0]) &&
           p[1] >= dmin(a[1], b[1]) && p[1] <= dmax(a[1], b[1]);
}

static int orient(const double *a, const double *b, const double *c)
{
    return om__orient2d(a[0], a[1], b[0], b[1], c[0], c[1]);
}

/* P→Q→R (P != Q != R) turns back onto itself: R on line PQ, overlapping. */
static bool folds(const double *p, const double *q, const double *r)
{
    return (in_box(r, p, q) || in_box(p, q, r)) && orient(p, q, r) == 0;
}

/* Segments pq and rs, whose boxes meet, share at least one point. */
static bool meet(const double *p, const double *q, const double *r,
                 const double *s)
{
    int o1 = orient(p, q, r), o2 = orient(p, q, s);
    if (o1 == o2 && o1 != 0) {
        return false;
    }
    int o3 = orient(r, s, p), o4 = orient(r, s, q);
    return !(o3 == o4 && o3 != 0);
}

/*
 * The common case in O(n): the closed ring xy[0..n) is star-shaped from
 * the point c. Every segment (repeated points skipped) must turn strictly
 * the same way around c, so the direction from c to the ring turns
 * strictly monotonically along it, by less than a half turn per segment;
 * and the ring must cross the horizontal line through c exactly twice
 * (a segment counts when exactly one end is above the line, so a vertex on
 * it counts once: no segment lies on the line, c is off every segment's
 * line), which a monotone turn does twice per full turn, so it turns
 * exactly once around. Then no two points of the ring lie in
 * one direction from c: the ring is simple (no crossing, touch or fold)
 * and, being closed, has at least 3 segments.
 */
static bool star_simple(const double *xy, size_t n, const double *c)
{
    int turn = 0, crossings = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const double *p = xy + 2 * i, *q = p + 2;
        if (same_pt(p, q)) {
            continue;
        }
        int o = orient(c, p, q);
        if (o == 0 || o == -turn) {
            return false;
        }
        turn = o;
        crossings += (p[1] > c[1]) != (q[1] > c[1]);
    }
    return crossings == 2;
}

/* Close the run of segments s0 .. nseg-1; dir < 0: it goes left. */
static void end_run(struct segs *S, size_t s0, int dir)
{
    size_t s1 = S->nseg;
    for (size_t s = s0; s < s1; s++) {
        S->perm[s] = (uint32_t)(dir < 0 ? s1 - 1 - (s - s0) : s);
    }
    S->run[S->nrun++] = (uint32_t)s0;
}

static int sgn(double a, double b)
{
    return (b > a) - (b < a);
}

/*
 * Segments of one ring, cut into runs that go monotonically in x (dx = 0
 * fits any run); false if the ring is not closed, has fewer than 4 points
 * after dropping repeated ones (GEOS: "Too few points") or two neighbouring
 * segments fold back onto each other. A fold needs both dx and dy to stop
 * or turn back, so turns that keep either are not tested.
 */
static bool add_ring(struct segs *S, const double *xy, size_t i0, size_t i1,
                     size_t part, bool is_shell)
{
    if (i1 - i0 < 4 || !same_pt(xy + 2 * i0, xy + 2 * (i1 - 1))) {
        return false;
    }
    struct ring *rg = &S->rings[S->nrings];
    rg->i0 = (uint32_t)i0;
    rg->i1 = (uint32_t)i1;
    rg->part = (uint32_t)part;
    rg->probe = (uint32_t)i0;
    rg->is_shell = is_shell;
    rg->bx0 = rg->bx1 = xy[2 * i0];
    rg->by0 = rg->by1 = xy[2 * i0 + 1];
    size_t s0 = S->nseg, r0 = s0, prev = i0, pprev = i0;
    int dir = 0, dx0 = 0, dy0 = 0, pdx = 0, pdy = 0;
    for (size_t i = i0 + 1; i < i1; i++) {
        const double *p = xy + 2 * prev, *q = xy + 2 * i;
        if (same_pt(p, q)) {
            continue;
        }
        int dx = sgn(p[0], q[0]), dy = sgn(p[1], q[1]);
        if (prev == i0) {
            dx0 = dx;
            dy0 = dy;
        } else if (dx * pdx <= 0 && dy * pdy <= 0 &&
                   folds(xy + 2 * pprev, p, q)) {
            return false;
        }
        if (dx != 0 && dir != 0 && dx != dir) {
            end_run(S, r0, dir);
            r0 = S->nseg;
            dir = 0;
        }
        dir = dir ? dir : dx;
        size_t n = S->nseg++;
        S->x0[n] = dmin(p[0], q[0]);
        S->x1[n] = dmax(p[0], q[0]);
        S->y0[n] = dmin(p[1], q[1]);
        S->y1[n] = dmax(p[1], q[1]);
        S->a[n] = (uint32_t)prev;
        S->b[n] = (uint32_t)i;
        rg->bx0 = dmin(rg->bx0, S->x0[n]);
        rg->bx1 = dmax(rg->bx1, S->x1[n]);
        rg->by0 = dmin(rg->by0, S->y0[n]);
        rg->by1 = dmax(rg->by1, S->y1[n]);
        pprev = prev;
        prev = i;
        pdx = dx;
        pdy = dy;
    }
    if (S->nseg - s0 < 3) {
        return false;
    }
    /* the turn at the first point, from the last segment to the first */
    S->b[S->nseg - 1] = (uint32_t)i0;
    if (dx0 * pdx <= 0 && dy0 * pdy <= 0 &&
        folds(xy + 2 * pprev, xy + 2 * i0, xy + 2 * S->b[s0])) {
        return false;
    }
    end_run(S, r0, dir);
    S->nrings++;
    return true;
}

static bool build(struct segs *S, const struct om_layer_view *v, size_t f,
                  size_t p0)
{
    const double *xy = v->xy + 2 * p0;
    S->nseg = S->nrun = S->nrings = 0;
    for (size_t q = v->part_start[f]; q < v->part_start[f + 1]; q++) {
        if (v->ring_start[q] == v->ring_start[q + 1]) {
            return false; /* a part without a shell */
        }
        for (size_t r = v->ring_start[q]; r < v->ring_start[q + 1]; r++) {
            if (!add_ring(S, xy, v->point_start[r] - p0,
                          v->point_start[r + 1] - p0, q - v->part_start[f],
                          r == v->ring_start[q])) {
                return false;
            }
        }
    }
    S->run[S->nrun] = (uint32_t)S->nseg;
    return true;
}

/* ---- rings touching at a point ---- */

/* The ring holding point index i (rings are in order of their points). */
static uint32_t ring_of(const struct segs *S, uint32_t i)
{
    size_t lo = 0, hi = S->nrings;
    while (hi - lo > 1) {
        size_t m = lo + (hi - lo) / 2;
        if (S->rings[m].i0 <= i) {
            lo = m;
        } else {
            hi = m;
        }
    }
    return (uint32_t)lo;
}

static bool add_touch(struct segs *S, const double *p, uint32_t ring,
                      uint32_t arm, uint32_t vtx)
{
    if (!OM__GROW(S->touch, S->cap_touch, S->ntouch + 1)) {
        return false;
    }
    S->touch[S->ntouch++] = (struct touch){p[0], p[1], ring, arm, vtx};
    return true;
}

/* x and y, collinear with p and off it, lie in one direction from p. */
static bool same_dir(const double *p, const double *x, const double *y)
{
    return sgn(p[0], x[0]) == sgn(p[0], y[0]) &&
           sgn(p[1], x[1]) == sgn(p[1], y[1]);
}

/*
 * Segments s and t, not neighbours, meet (`meet`). True if that may be a
 * touch of two rings, recorded for touches_ok: the segments are of
 * different rings and share one point only, an end of one of them. False
 * (not proven valid) otherwise: a proper crossing, a collinear overlap, a
 * ring meeting itself, or no memory.
 */
static bool touch_pair(struct segs *S, const double *xy, size_t s, size_t t)
{
    uint32_t rs = ring_of(S, S->a[s]), rt = ring_of(S, S->a[t]);
    if (rs == rt) {
        return false;
    }
    const uint32_t se[2] = {S->a[s], S->b[s]}, te[2] = {S->a[t], S->b[t]};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            const double *p = xy + 2 * se[i];
            if (!same_pt(p, xy + 2 * te[j])) {
                continue;
            }
            /* a shared end: the other ends must not coincide (the same
             * segment twice) nor lie on one line on the same side (an
             * overlap) */
            const double *x = xy + 2 * se[1 - i], *y = xy + 2 * te[1 - j];
            if (same_pt(x, y) || (orient(p, x, y) == 0 && same_dir(p, x, y))) {
                return false;
            }
            return add_touch(S, p, rs, se[1 - i], se[i]) &&
                   add_touch(S, p, rt, te[1 - j], te[j]);
        }
    }
    /* an end of one inside the other, whose line the other end is off */
    for (int k = 0; k < 2; k++) {
        const uint32_t *ue = k ? te : se, *ve = k ? se : te;
        uint32_t ru = k ? rt : rs, rv = k ? rs : rt;
        const double *u0 = xy + 2 * ue[0], *u1 = xy + 2 * ue[1];
        for (int j = 0; j < 2; j++) {
            const double *p = xy + 2 * ve[j];
            if (orient(u0, u1, p) != 0 || !in_box(p, u0, u1)) {
                continue;
            }
            if (orient(u0, u1, xy + 2 * ve[1 - j]) == 0) {
                return false;
            }
            return add_touch(S, p, ru, ue[0], NOVTX) &&
                   add_touch(S, p, ru, ue[1], NOVTX) &&
                   add_touch(S, p, rv, ve[1 - j], ve[j]);
        }
    }
    return false; /* a proper crossing */
}

static int cmp_touch(const void *x, const void *y)
{
    const struct touch *p = x, *q = y;
    if (p->x != q->x) {
        return p->x < q->x ? -1 : 1;
    }
    if (p->y != q->y) {
        return p->y < q->y ? -1 : 1;
    }
    if (p->ring != q->ring) {
        return p->ring < q->ring ? -1 : 1;
    }
    return (p->arm > q->arm) - (p->arm < q->arm);
}

/* Whether the direction p→x comes before p→y counterclockwise from the
 * positive x axis (x, y != p): by half plane, then by orientation. */
static int half(const double *p, const double *x)
{
    return x[1] < p[1] || (x[1] == p[1] && x[0] < p[0]);
}

static int cmp_angle(const double *p, const double *x, const double *y)
{
    int hx = half(p, x), hy = half(p, y);
    if (hx != hy) {
        return hx < hy ? -1 : 1;
    }
    return -orient(p, x, y); /* 0: the same direction */
}

/* Union-find over the rings (parent array u). */
static uint32_t uf_find(uint32_t *u, uint32_t r)
{
    while (u[r] != r) {
        u[r] = u[u[r]];
        r = u[r];
    }
    return r;
}

/*
 * The recorded touches keep the feature valid, as GEOS 3.11 judges
 * (PolygonTopologyAnalyzer): at each point exactly two rings meet, each
 * passing through once (two arms); their boundaries touch without
 * crossing (in the order of the four arms around the point, each ring's
 * two arms are neighbours) and without overlapping (four directions);
 * and within a polygon, the graph of rings joined by touches has no
 * cycle and no pair of rings touching twice, either of which would cut
 * the interior. Touches between the polygons of a multipolygon join
 * nothing (OGC allows them at finitely many points). Each ring's probe
 * then moves off the points where it touches, so nesting_ok locates a
 * point strictly inside or outside the other rings. u: room for a ring
 * each.
 */
static bool touches_ok(struct segs *S, const double *xy, uint32_t *u)
{
    struct touch *tc = S->touch;
    size_t n = S->ntouch, m = 0;
    qsort(tc, n, sizeof *tc, cmp_touch);
    for (size_t i = 0; i < n; i++) {
        if (m == 0 || cmp_touch(&tc[m - 1], &tc[i]) != 0) {
            tc[m++] = tc[i];
        } else if (tc[m - 1].vtx != tc[i].vtx) {
            return false;
        }
    }
    S->ntouch = n = m;
    for (size_t r = 0; r < S->nrings; r++) {
        u[r] = (uint32_t)r;
    }
    for (size_t g = 0; g < n;) {
        size_t e = g + 1;
        while (e < n && tc[e].x == tc[g].x && tc[e].y == tc[g].y) {
            e++;
        }
        /* two rings, two arms each, one vertex (or none) each */
        if (e - g != 4 || tc[g].ring != tc[g + 1].ring ||
            tc[g + 2].ring != tc[g + 3].ring || tc[g].ring == tc[g + 2].ring ||
            tc[g].vtx != tc[g + 1].vtx || tc[g + 2].vtx != tc[g + 3].vtx) {
            return false;
        }
        const double p[2] = {tc[g].x, tc[g].y};
        /* the four arms sorted around p (ring A's are 0 and 1) */
        int ord[4] = {0, 1, 2, 3};
        for (int i = 1; i < 4; i++) {
            for (int j = i; j > 0; j--) {
                if (cmp_angle(p, xy + 2 * tc[g + ord[j - 1]].arm,
                              xy + 2 * tc[g + ord[j]].arm) <= 0) {
                    break;
                }
                int k = ord[j];
                ord[j] = ord[j - 1];
                ord[j - 1] = k;
            }
        }
        for (int i = 0; i + 1 < 4; i++) {
            if (cmp_angle(p, xy + 2 * tc[g + ord[i]].arm,
                          xy + 2 * tc[g + ord[i + 1]].arm) == 0) {
                return false; /* two arms in one direction */
            }
        }
        /* A's arms neighbours around p: positions i < j with j = i + 1
         * or i = 0, j = 3 (then B's are neighbours too) */
        int pa[2], na = 0;
        for (int i = 0; i < 4; i++) {
            if (ord[i] < 2) {
                pa[na++] = i;
            }
        }
        if (!(pa[1] == pa[0] + 1 || (pa[0] == 0 && pa[1] == 3))) {
            return false; /* the boundaries cross at p */
        }
        uint32_t ra = tc[g].ring, rb = tc[g + 2].ring;
        if (S->rings[ra].part == S->rings[rb].part) {
            uint32_t fa = uf_find(u, ra), fb = uf_find(u, rb);
            if (fa == fb) {
                return false; /* a cycle, or a second touch */
            }
            u[fa] = fb;
        }
        g = e;
    }
    /* probes off the touch points (tc sorted by point) */
    for (size_t r = 0; r < S->nrings; r++) {
        struct ring *rg = &S->rings[r];
        uint32_t i = rg->i0;
        for (; i + 1 < rg->i1; i++) {
            struct touch key = {xy[2 * i], xy[2 * i + 1], 0, 0, 0};
            size_t lo = 0, hi = n;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (tc[mid].x < key.x ||
                    (tc[mid].x == key.x && tc[mid].y < key.y)) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if (lo == n || tc[lo].x != key.x || tc[lo].y != key.y) {
                break;
            }
        }
        if (i + 1 >= rg->i1) {
            return false; /* every point of the ring a touch */
        }
        rg->probe = i;
    }
    return true;
}

/* Sort perm by x0, merging neighbouring runs pass by pass. */
static const uint32_t *sort_segs(struct segs *S)
{
    uint32_t *src = S->perm, *dst = S->tmp, *run = S->run;
    const double *x0 = S->x0;
    size_t nrun = S->nrun;
    while (nrun > 1) {
        size_t m = 0;
        for (size_t r = 0; r < nrun; r += 2) {
            size_t i = run[r], mid = run[r + 1];
            size_t e = r + 2 <= nrun ? run[r + 2] : mid, j = mid, o = i;
            while (i < mid && j < e) {
                dst[o++] = x0[src[j]] < x0[src[i]] ? src[j++] : src[i++];
            }
            while (i < mid) {
                dst[o++] = src[i++];
            }
            while (j < e) {
                dst[o++] = src[j++];
            }
            run[m++] = run[r];
        }
        run[m] = (uint32_t)S->nseg;
        nrun = m;
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/*
 * No two segments meet, neighbours at their shared vertex apart; false too
 * when the sweep runs out of steps (S->max_work).
 */
static bool no_crossings(struct segs *S, const double *xy)
{
    const uint32_t *perm = sort_segs(S);
    const double *x0 = S->x0, *x1 = S->x1, *y0 = S->y0, *y1 = S->y1;
    const uint32_t *a = S->a, *b = S->b;
    size_t n = S->nseg, work = S->work, max_work = S->max_work;
    for (size_t i = 0; i < n; i++) {
        size_t s = perm[i];
        double sx1 = x1[s], sy0 = y0[s], sy1 = y1[s];
        for (size_t j = i + 1; j < n; j++) {
            size_t t = perm[j];
            if (x0[t] > sx1) {
                break;
            }
            if (++work > max_work) {
                return false;
            }
            if (y0[t] > sy1 || y1[t] < sy0 || a[t] == b[s] || a[s] == b[t]) {
                continue;
            }
            if (meet(xy + 2 * a[s], xy + 2 * b[s], xy + 2 * a[t],
                     xy + 2 * b[t]) &&
                !touch_pair(S, xy, s, t)) {
                return false;
            }
        }
    }
    S->work = work;
    return true;
}

/*
 * no_crossings by a sweep (Shamos and Hoey), for a big feature whose grid
 * is dense: zigzag teeth digitised decimetres apart put hundreds of
 * segments with overlapping boxes in one cell, and a red line of 988k
 * points took 2 s in the grid. Events in (x, y) order, an end before a
 * start at the same point; the segments the sweep line crosses kept in
 * order from bottom to top; a segment tested against its neighbours when
 * it enters and its two neighbours against each other when it leaves.
 * The first meeting of two segments (in event order) makes them
 * neighbours before it, so none is missed. Neighbours in a ring share
 * their vertex and are not tested, as in no_crossings; at any other point
 * where segments end (a ring touching itself at a vertex), they meet. Anything
 * the order cannot decide exactly (a segment starting on another, two starting
 * at one point unless neighbours, a neighbour folding back) is a failure: GEOS
 * decides.
 */
struct event {
    double x, y;
    uint32_t s;
    uint32_t start; /* 1 for the segment's left end, 0 for its right */
};

static int cmp_event(const void *p, const void *q)
{
    const struct event *e = p, *f = q;
    if (e->x != f->x) {
        return e->x < f->x ? -1 : 1;
    }
    if (e->y != f->y) {
        return e->y < f->y ? -1 : 1;
    }
    return (int)e->start - (int)f->start; /* ends first */
}

/* Whether point p comes before q in (x, y) order. */
static bool before(const double *p, const double *q)
{
    return p[0] < q[0] || (p[0] == q[0] && p[1] < q[1]);
}

static bool ring_neighbours(const struct segs *S, size_t s, size_t t)
{
    return S->a[t] == S->b[s] || S->a[s] == S->b[t];
}

/* Whether s and t, not neighbours, meet. */
static bool sweep_meet(const struct segs *S, const double *xy, size_t s,
                       size_t t)
{
    if (ring_neighbours(S, s, t) || S->x0[t] > S->x1[s] ||
        S->x1[t] < S->x0[s] || S->y0[t] > S->y1[s] || S->y1[t] < S->y0[s]) {
        return false;
    }
    return meet(xy + 2 * S->a[s], xy + 2 * S->b[s], xy + 2 * S->a[t],
                xy + 2 * S->b[t]);
}

/* Segment t, entering at its left end, against s on the sweep line: 1
 * above, -1 below, 0 when the order cannot be decided (they touch). */
static int enter_side(const struct segs *S, const double *xy,
                      const uint32_t *le, const uint32_t *re, size_t s,
                      size_t t)
{
    const double *sl = xy + 2 * le[s], *sr = xy + 2 * re[s];
    const double *tl = xy + 2 * le[t];
    int o = orient(sl, sr, tl);
    if (o != 0) {
        return o;
    }
    if (same_pt(tl, sl) && ring_neighbours(S, s, t)) {
        return orient(sl, sr, xy + 2 * re[t]);
    }
    return 0;
}

/* Whether t entered the line after s (or at the same point). */
static bool later(const double *xy, const uint32_t *le, size_t s, size_t t)
{
    return !before(xy + 2 * le[t], xy + 2 * le[s]);
}

static bool sweep_crossings(struct segs *S, const double *xy)
{
    size_t n = S->nseg;
    struct event *ev = om__reallocarray(NULL, 2 * n, sizeof *ev);
    /* the line, then each segment's left and right end (point indices) */
    uint32_t *line = om__reallocarray(NULL, 3 * n + 1, sizeof *line);
    bool ok = ev && line;
    uint32_t *le = line + n, *re = line + 2 * n;
    for (size_t s = 0; ok && s < n; s++) {
        bool fwd = before(xy + 2 * S->a[s], xy + 2 * S->b[s]);
        le[s] = fwd ? S->a[s] : S->b[s];
        re[s] = fwd ? S->b[s] : S->a[s];
        const double *l = xy + 2 * le[s], *r = xy + 2 * re[s];
        ev[2 * s] = (struct event){l[0], l[1], (uint32_t)s, 1};
        ev[2 * s + 1] = (struct event){r[0], r[1], (uint32_t)s, 0};
    }
    if (ok) {
        qsort(ev, 2 * n, sizeof *ev, cmp_event);
    }
    size_t k = 0; /* segments on the line: line[0 .. k), bottom to top */
    for (size_t e = 0; ok && e < 2 * n; e++) {
        size_t t = ev[e].s;
        if (e == 0 || ev[e].x != ev[e - 1].x || ev[e].y != ev[e - 1].y) {
            /* the ends at this point: one, or two of neighbours (a
             * vertex); more, or two of others, meet here */
            size_t g = e + 1;
            while (g < 2 * n && ev[g].x == ev[e].x && ev[g].y == ev[e].y) {
                g++;
            }
            ok = g - e == 1 ||
                 (g - e == 2 && ring_neighbours(S, ev[e].s, ev[e + 1].s));
            if (!ok) {
                break;
            }
        }
        if (ev[e].start) {
            /* the first segment above t */
            size_t lo = 0, hi = k;
            while (ok && lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int side = enter_side(S, xy, le, re, line[mid], t);
                ok = side != 0 && ++S->work <= S->max_work;
                if (side > 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            ok = ok && !(lo > 0 && sweep_meet(S, xy, line[lo - 1], t)) &&
                 !(lo < k && sweep_meet(S, xy, t, line[lo]));
            if (ok) {
                memmove(line + lo + 1, line + lo, (k - lo) * sizeof *line);
                line[lo] = (uint32_t)t;
                k++;
                S->work += (k - lo) / 8;
                ok = S->work <= S->max_work;
            }
        } else {
            /* t's place: the order of two segments on the line is the
             * side the later one entered on (nothing crossed since) */
            size_t lo = 0, hi = k;
            while (ok && lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (line[mid] == t) {
                    lo = hi = mid;
                    break;
                }
                int side = later(xy, le, line[mid], t)
                               ? enter_side(S, xy, le, re, line[mid], t)
                               : -enter_side(S, xy, le, re, t, line[mid]);
                ok = side != 0 && ++S->work <= S->max_work;
                if (side > 0) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            size_t j = lo;
            ok = ok && j < k && line[j] == t;
            S->work += (k - j) / 8;
            ok = ok && S->work <= S->max_work;
            if (ok) {
                memmove(line + j, line + j + 1, (k - j - 1) * sizeof *line);
                k--;
                ok = !(j > 0 && j < k &&
                       sweep_meet(S, xy, line[j - 1], line[j]));
            }
        }
    }
    om__free(ev);
    om__free(line);
    return ok;
}

/*
 * no_crossings for a big feature: the segments in a uniform grid, each pair of
 * segments whose boxes meet tested once, in the cell holding the lower left
 * corner of the boxes' overlap (both segments are listed there). The x sweep
 * would meet every pair that overlaps in x only, which for a long wiggling
 * boundary is most of them.
 */
static bool grid_crossings(struct segs *S, const double *xy)
{
    size_t n = S->nseg;
    double bx0 = S->rings[0].bx0, bx1 = S->rings[0].bx1;
    double by0 = S->rings[0].by0, by1 = S->rings[0].by1;
    for (size_t r = 1; r < S->nrings; r++) {
        bx0 = dmin(bx0, S->rings[r].bx0);
        bx1 = dmax(bx1, S->rings[r].bx1);
        by0 = dmin(by0, S->rings[r].by0);
        by1 = dmax(by1, S->rings[r].by1);
    }
    /* Cells twice the mean segment's box (a boundary passing through a
     * cell leaves a few segments in it), but no more than 8 a segment. */
    double w = bx1 - bx0, h = by1 - by0, len = 0;
    for (size_t s = 0; s < n; s++) {
        len += dmax(S->x1[s] - S->x0[s], S->y1[s] - S->y0[s]);
    }
    double side = dmax(2 * len / (double)n, sqrt(w * h / (8.0 * (double)n)));
    if (!(side > 0) || !isfinite(side)) {
        return false;
    }
    size_t nx = (size_t)dmin(dmax(ceil(w / side), 1), 8.0 * (double)n);
    size_t ny =
        (size_t)dmin(dmax(ceil(h / side), 1), 8.0 * (double)n / (double)nx);
    double ix = w > 0 ? (double)nx / w : 0, iy = h > 0 ? (double)ny / h : 0;
    size_t ncell = nx * ny;
    uint32_t *start = om__calloc(ncell + 1, sizeof *start);
    uint32_t *spans = om__malloc(4 * n * sizeof *spans);
    if (!start || !spans) {
        om__free(start);
        om__free(spans);
        return false;
    }
    /* each segment's cell range, then the counts, then the lists */
    uint32_t *c0 = spans, *c1 = spans + n, *r0 = spans + 2 * n,
             *r1 = spans + 3 * n;
    size_t total = 0;
    for (size_t s = 0; s < n; s++) {
        c0[s] = (uint32_t)dmin((S->x0[s] - bx0) * ix, (double)(nx - 1));
        c1[s] = (uint32_t)dmin((S->x1[s] - bx0) * ix, (double)(nx - 1));
        r0[s] = (uint32_t)dmin((S->y0[s] - by0) * iy, (double)(ny - 1));
        r1[s] = (uint32_t)dmin((S->y1[s] - by0) * iy, (double)(ny - 1));
        total += (size_t)(c1[s] - c0[s] + 1) * (r1[s] - r0[s] + 1);
    }
    uint32_t *list = NULL;
    bool ok = total <= WORK_PER_POINT * n + WORK_BASE && total < UINT32_MAX &&
              (list = om__malloc(total * sizeof *list)) != NULL;
    for (size_t s = 0; ok && s < n; s++) {
        for (size_t r = r0[s]; r <= r1[s]; r++) {
            for (size_t c = c0[s]; c <= c1[s]; c++) {
                start[r * nx + c + 1]++;
            }
        }
    }
    /* a dense grid (many segments whose boxes overlap in some cells):
     * the sweep instead */
    size_t pairs = 0;
    for (size_t k = 0; ok && k < ncell; k++) {
        size_t c = start[k + 1];
        pairs += c * (c - 1) / 2;
    }
    /* (or one whose segments cross too many cells to be listed) */
    if (om__valid_fast_sweep > 0 ||
        (om__valid_fast_sweep == 0 && (!ok || pairs > DENSE_PAIRS * n))) {
        om__free(start);
        om__free(spans);
        om__free(list);
        return sweep_crossings(S, xy);
    }
    for (size_t k = 0; ok && k < ncell; k++) {
        start[k + 1] += start[k];
    }
    for (size_t s = 0; ok && s < n; s++) {
        for (size_t r = r0[s]; r <= r1[s]; r++) {
            for (size_t c = c0[s]; c <= c1[s]; c++) {
                list[start[r * nx + c]++] = (uint32_t)s;
            }
        }
    }
    for (size_t k = ncell; ok && k > 0; k--) {
        start[k] = start[k - 1];
    }
    start[0] = 0;
    const double *x0 = S->x0, *x1 = S->x1, *y0 = S->y0, *y1 = S->y1;
    const uint32_t *a = S->a, *b = S->b;
    for (size_t k = 0; ok && k < ncell; k++) {
        size_t col = k % nx, row = k / nx;
        for (size_t i = start[k]; ok && i < start[k + 1]; i++) {
            size_t s = list[i];
            for (size_t j = i + 1; j < start[k + 1]; j++) {
                size_t t = list[j];
                if (++S->work > S->max_work) {
                    ok = false;
                    break;
                }
                if (x0[t] > x1[s] || x1[t] < x0[s] || y0[t] > y1[s] ||
                    y1[t] < y0[s] || a[t] == b[s] || a[s] == b[t]) {
                    continue;
                }
                /* the overlap's corner: in both segments' cell ranges */
                size_t cc = c0[s] > c0[t] ? c0[s] : c0[t];
                size_t rr = r0[s] > r0[t] ? r0[s] : r0[t];
                if (cc != col || rr != row) {
                    continue;
                }
                if (meet(xy + 2 * a[s], xy + 2 * b[s], xy + 2 * a[t],
                         xy + 2 * b[t]) &&
                    !touch_pair(S, xy, s, t)) {
                    ok = false;
                    break;
                }
            }
        }
    }
    om__free(start);
    om__free(spans);
    om__free(list);
    return ok;
}

static int cmp_probe_y(const void *x, const void *y)
{
    const struct probe *p = x, *q = y;
    return (p->y > q->y) - (p->y < q->y);
}

/*
 * Locate every probe pr[0..n), sorted by y, against ring o, as GEOS's
 * RayCrossingCounter does (1 inside, 0 outside, -1 on the ring; repeated
 * points add nothing), in one pass over the ring's segments: a segment can
 * only count for, or hold, the probes in its closed y range. true iff
 * every probe gets the answer it wants (false also when out of steps).
 */
static bool locate_all(struct segs *S, const double *xy, const struct ring *o,
                       struct probe *pr, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        pr[k].crossings = 0;
        pr[k].on = false;
    }
    for (size_t i = o->i0; i + 1 < o->i1; i++) {
        const double *p = xy + 2 * i, *q = p + 2;
        double lo = dmin(p[1], q[1]), hi = dmax(p[1], q[1]);
        size_t k0 = 0, k1 = n; /* the first probe with y >= lo */
        while (k0 < k1) {
            size_t m = k0 + (k1 - k0) / 2;
            if (pr[m].y < lo) {
                k0 = m + 1;
            } else {
                k1 = m;
            }
        }
        for (size_t k = k0; k < n && pr[k].y <= hi; k++) {
            if (++S->work > S->max_work) {
                return false;
            }
            const double pt[2] = {pr[k].x, pr[k].y};
            if (same_pt(p, pt)) {
                pr[k].on = true;
            } else if (p[1] == pt[1] && q[1] == pt[1]) {
                pr[k].on = pr[k].on || (pt[0] >= dmin(p[0], q[0]) &&
                                        pt[0] <= dmax(p[0], q[0]));
            } else if ((p[1] > pt[1] && q[1] <= pt[1]) ||
                       (q[1] > pt[1] && p[1] <= pt[1])) {
                int s = orient(p, q, pt);
                if (s == 0) {
                    pr[k].on = true;
                }
                if (q[1] < p[1]) {
                    s = -s;
                }
                pr[k].crossings += s > 0;
            }
        }
    }
    for (size_t k = 0; k < n; k++) {
        int got = pr[k].on ? -1 : (int)(pr[k].crossings & 1);
        if (got != pr[k].want) {
            return false;
        }
    }
    return true;
}

/* What ring r's first point must be against ring o: 1, 0, or -1 untested. */
static int wanted(const struct ring *r, const struct ring *o)
{
    if (r == o) {
        return -1;
    }
    if (r->is_shell) {
        return o->is_shell ? 0 : -1; /* shells outside the other shells */
    }
    if (o->part != r->part) {
        return -1;
    }
    return o->is_shell ? 1 : 0; /* holes inside their shell, off the rest */
}

/*
 * With rings disjoint: every hole inside its shell and outside the other
 * holes of its part, every shell outside the other shells. A point outside
 * a ring's box is outside the ring (exactly: locate would say 0), so only
 * the first points within a ring's box are located against it; a hole not
 * in its shell's box is not inside it (`inside` then falls short). keys:
 * room for a key a ring (the rings by the x of their first point).
 */
static int cmp_key_x(const void *x, const void *y)
{
    const struct ring_key *p = x, *q = y;
    return (p->x > q->x) - (p->x < q->x);
}

static bool nesting_ok(struct segs *S, const double *xy, struct probe *pr,
                       struct ring_key *keys)
{
    const struct ring *rings = S->rings;
    size_t nr = S->nrings, holes = 0, inside = 0;
    for (size_t r = 0; r < nr; r++) {
        keys[r].x = xy[2 * rings[r].probe];
        keys[r].ring = (uint32_t)r;
        holes += !rings[r].is_shell;
    }
    qsort(keys, nr, sizeof *keys, cmp_key_x);
    for (size_t o = 0; o < nr; o++) {
        const struct ring *ro = &rings[o];
        size_t k0 = 0, k1 = nr; /* the first ring with x >= the box's */
        while (k0 < k1) {
            size_t m = k0 + (k1 - k0) / 2;
            if (keys[m].x < ro->bx0) {
                k0 = m + 1;
            } else {
                k1 = m;
            }
        }
        size_t n = 0;
        for (size_t k = k0; k < nr; k++) {
            const struct ring *rr = &rings[keys[k].ring];
            const double *pt = xy + 2 * rr->probe;
            if (pt[0] > ro->bx1) {
                break;
            }
            if (++S->work > S->max_work) {
                return false;
            }
            int want = wanted(rr, ro);
            if (want < 0 || pt[1] < ro->by0 || pt[1] > ro->by1) {
                continue;
            }
            pr[n].x = pt[0];
            pr[n].y = pt[1];
            pr[n].want = (int8_t)want;
            n++;
            inside += want == 1;
        }
        if (n == 0) {
            continue;
        }
        qsort(pr, n, sizeof *pr, cmp_probe_y);
        if (!locate_all(S, xy, ro, pr, n)) {
            return false;
        }
    }
    return inside == holes;
}

/* Arrays of a feature of np points and nr rings carved from one block. */
static void *carve(struct segs *S, size_t np, size_t nr, struct probe **pr,
                   struct ring_key **keys)
{
    size_t bytes = 4 * np * sizeof(double) + nr * sizeof(struct ring) +
                   nr * sizeof(struct probe) + nr * sizeof(struct ring_key) +
                   (5 * np + 1) * sizeof(uint32_t);
    char *m = om__malloc(bytes);
    if (!m) {
        return NULL;
    }
    char *c = m;
    S->x0 = (double *)(void *)c;
    S->x1 = S->x0 + np;
    S->y0 = S->x1 + np;
    S->y1 = S->y0 + np;
    c += 4 * np * sizeof(double);
    S->rings = (struct ring *)(void *)c;
    c += nr * sizeof(struct ring);
    *pr = (struct probe *)(void *)c;
    c += nr * sizeof(struct probe);
    *keys = (struct ring_key *)(void *)c;
    c += nr * sizeof(struct ring_key);
    S->a = (uint32_t *)(void *)c;
    S->b = S->a + np;
    S->perm = S->b + np;
    S->tmp = S->perm + np;
    S->run = S->tmp + np;
    return m;
}

bool om__valid_fast(const struct om_layer_view *v, size_t f)
{
    size_t q0 = v->part_start[f], q1 = v->part_start[f + 1];
    if (q0 == q1) {
        return false;
    }
    size_t r0 = v->ring_start[q0], r1 = v->ring_start[q1];
    size_t p0 = v->point_start[r0], np = v->point_start[r1] - p0;
    size_t nr = r1 - r0;
    if (np < 4 || np > MAXP || nr > MAXR) {
        return false;
    }
    const double *xy = v->xy + 2 * p0;
    double c[2];
    if (!coords_ok(xy, np, c)) {
        return false;
    }
    if (q1 - q0 == 1 && nr == 1 && same_pt(xy, xy + 2 * (np - 1)) &&
        star_simple(xy, np, c)) {
        return true;
    }
    struct segs S = {0};
    struct probe *pr = NULL;
    struct ring_key *keys = NULL;
    void *heap = NULL;
    struct small sm;
    if (np <= SMALLP && nr <= SMALLR) {
        S.x0 = sm.x0;
        S.x1 = sm.x1;
        S.y0 = sm.y0;
        S.y1 = sm.y1;
        S.a = sm.a;
        S.b = sm.b;
        S.perm = sm.perm;
        S.tmp = sm.tmp;
        S.run = sm.run;
        S.rings = sm.rings;
        pr = sm.probes;
        keys = sm.keys;
    } else if (!(heap = carve(&S, np, nr, &pr, &keys))) {
        return false; /* out of memory: GEOS decides */
    }
    S.max_work = WORK_PER_POINT * np + WORK_BASE;
    bool ok = build(&S, v, f, p0) &&
              (om__valid_fast_sweep > 0 && S.nseg > 1 ? sweep_crossings(&S, xy)
               : S.nseg > GRID_SEGS                   ? grid_crossings(&S, xy)
                                                      : no_crossings(&S, xy));
    if (ok && S.ntouch > 0) {
        uint32_t *u = om__malloc(S.nrings * sizeof *u);
        ok = u && touches_ok(&S, xy, u);
        om__free(u);
    }
    ok = ok && (S.nrings == 1 || nesting_ok(&S, xy, pr, keys));
    om__free(S.touch);
    om__free(heap);
    return ok;
}
