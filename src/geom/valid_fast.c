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
 * from neighbours at their shared vertex, so GEOS records no intersection
 * and no touch; the containment tests use a ray-crossing count like
 * GEOS's, with exact signs, on points off every other ring.
 *
 * A simple closed ring always bounds a positive area, so rings that pass
 * are never the zero-area kind GEOS rejects.
 *
 * Speed. Most parcels are star-shaped from the mean of their points, and
 * `star_simple` proves those simple in one pass of orientation signs.
 * Other features go the general way: segments sorted by the left end of
 * their box and swept in x (pairs whose boxes miss cost a comparison or
 * two), the sort a natural merge sort whose runs are the x-monotone
 * stretches of the rings, each already in order of x.
 *
 * GEOS's orientation is exact only as long as its double-double arithmetic
 * is: it forms coordinate differences exactly, but products of inexact
 * differences lose bits. `coords_ok` therefore accepts only coordinates
 * whose differences on each axis are exact doubles, where GEOS's products
 * and sums of two products are exact or sign-correct.
 */
#include "geom/valid_fast.h"

#include "geom/exact.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

enum { MAXP = OM__VALID_FAST_MAX_POINTS, MAXR = OM__VALID_FAST_MAX_RINGS };

struct ring {
    uint16_t i0, i1; /* its points: i0 .. i1-1 of the feature */
    uint16_t part;
    bool is_shell;
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
    double x0[MAXP], x1[MAXP], y0[MAXP], y1[MAXP];
    uint16_t a[MAXP], b[MAXP];
    uint16_t perm[MAXP], tmp[MAXP];
    uint16_t run[MAXP + 1];
    struct ring rings[MAXR];
    size_t nseg, nrun, nrings;
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
 * 1 if pt is inside the ring xy[0..n), 0 outside, -1 on it: GEOS's
 * RayCrossingCounter (repeated points add nothing).
 */
static int locate(const double *pt, const double *xy, size_t n)
{
    int crossings = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const double *p = xy + 2 * i, *q = p + 2;
        if (same_pt(p, pt)) {
            return -1;
        }
        if (p[1] == pt[1] && q[1] == pt[1]) {
            if (pt[0] >= dmin(p[0], q[0]) && pt[0] <= dmax(p[0], q[0])) {
                return -1;
            }
            continue;
        }
        if ((p[1] > pt[1] && q[1] <= pt[1]) ||
            (q[1] > pt[1] && p[1] <= pt[1])) {
            int o = orient(p, q, pt);
            if (o == 0) {
                return -1;
            }
            if (q[1] < p[1]) {
                o = -o;
            }
            crossings += o > 0;
        }
    }
    return crossings & 1;
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
        S->perm[s] = (uint16_t)(dir < 0 ? s1 - 1 - (s - s0) : s);
    }
    S->run[S->nrun++] = (uint16_t)s0;
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
    rg->i0 = (uint16_t)i0;
    rg->i1 = (uint16_t)i1;
    rg->part = (uint16_t)part;
    rg->is_shell = is_shell;
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
        S->a[n] = (uint16_t)prev;
        S->b[n] = (uint16_t)i;
        pprev = prev;
        prev = i;
        pdx = dx;
        pdy = dy;
    }
    if (S->nseg - s0 < 3) {
        return false;
    }
    /* the turn at the first point, from the last segment to the first */
    S->b[S->nseg - 1] = (uint16_t)i0;
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
    S->run[S->nrun] = (uint16_t)S->nseg;
    return true;
}

/* Sort perm by x0, merging neighbouring runs pass by pass. */
static const uint16_t *sort_segs(struct segs *S)
{
    uint16_t *src = S->perm, *dst = S->tmp, *run = S->run;
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
        run[m] = (uint16_t)S->nseg;
        nrun = m;
        uint16_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

/* No two segments meet, neighbours at their shared vertex apart. */
static bool no_crossings(struct segs *S, const double *xy)
{
    const uint16_t *perm = sort_segs(S);
    const double *x0 = S->x0, *x1 = S->x1, *y0 = S->y0, *y1 = S->y1;
    const uint16_t *a = S->a, *b = S->b;
    size_t n = S->nseg;
    for (size_t i = 0; i < n; i++) {
        size_t s = perm[i];
        double sx1 = x1[s], sy0 = y0[s], sy1 = y1[s];
        for (size_t j = i + 1; j < n; j++) {
            size_t t = perm[j];
            if (x0[t] > sx1) {
                break;
            }
            if (y0[t] > sy1 || y1[t] < sy0 || a[t] == b[s] || a[s] == b[t]) {
                continue;
            }
            if (meet(xy + 2 * a[s], xy + 2 * b[s], xy + 2 * a[t],
                     xy + 2 * b[t])) {
                return false;
            }
        }
    }
    return true;
}

/*
 * With rings disjoint: every hole inside its shell and outside the other
 * holes of its part, every shell outside the other shells.
 */
static bool nesting_ok(const struct segs *S, const double *xy)
{
    const struct ring *rings = S->rings;
    for (size_t r = 0; r < S->nrings; r++) {
        const double *pt = xy + 2 * rings[r].i0;
        for (size_t o = 0; o < S->nrings; o++) {
            if (o == r || (rings[r].is_shell && !rings[o].is_shell) ||
                (!rings[r].is_shell && rings[o].part != rings[r].part)) {
                continue;
            }
            /* r shell vs another shell, or r hole vs its part's rings */
            int want = !rings[r].is_shell && rings[o].is_shell;
            if (locate(pt, xy + 2 * rings[o].i0, rings[o].i1 - rings[o].i0) !=
                want) {
                return false;
            }
        }
    }
    return true;
}

bool om__valid_fast(const struct om_layer_view *v, size_t f)
{
    size_t q0 = v->part_start[f], q1 = v->part_start[f + 1];
    if (q0 == q1) {
        return false;
    }
    size_t r0 = v->ring_start[q0], r1 = v->ring_start[q1];
    size_t p0 = v->point_start[r0], np = v->point_start[r1] - p0;
    if (np < 4 || np > MAXP || r1 - r0 > MAXR) {
        return false;
    }
    const double *xy = v->xy + 2 * p0;
    double c[2];
    if (!coords_ok(xy, np, c)) {
        return false;
    }
    if (q1 - q0 == 1 && r1 - r0 == 1 && same_pt(xy, xy + 2 * (np - 1)) &&
        star_simple(xy, np, c)) {
        return true;
    }
    struct segs S;
    if (!build(&S, v, f, p0) || !no_crossings(&S, xy)) {
        return false;
    }
    return S.nrings == 1 || nesting_ok(&S, xy);
}
