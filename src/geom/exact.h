/*
 * exact.h — internal: exact geometric predicates on double coordinates.
 *
 * om__orient2d returns the exact sign of the orientation determinant
 * det[b - a, c - a]: +1 when c lies left of the directed line a→b, -1
 * right, 0 exactly on it. A floating-point evaluation decides the sign
 * when it is certain (the forward error bound of Shewchuk's orient2d
 * filter); otherwise the determinant is evaluated exactly as a sum of
 * non-overlapping floating-point expansions (error-free sums and Dekker
 * products), whose largest component gives the sign. No rounding mode or
 * FMA is assumed; coordinates must be finite and not so small that their
 * products underflow (below ~1e-150), which projected or geographic
 * coordinates never are.
 */
#ifndef ONEMAP_GEOM_EXACT_H
#define ONEMAP_GEOM_EXACT_H

int om__orient2d_exact(double ax, double ay, double bx, double by, double cx,
                       double cy);

/* The filter inline (it decides nearly every call of the area kernel's
 * walks), the exact evaluation out of line. */
static inline int om__orient2d(double ax, double ay, double bx, double by,
                               double cx, double cy)
{
    if ((cx == ax && cy == ay) || (cx == bx && cy == by)) {
        return 0; /* a shared vertex: the common degenerate case */
    }
    double dl = (bx - ax) * (cy - ay);
    double dr = (by - ay) * (cx - ax);
    double det = dl - dr;
    /* Shewchuk's ccwerrboundA: (3 + 16 eps) eps */
    double bound =
        3.3306690738754716e-16 * ((dl < 0 ? -dl : dl) + (dr < 0 ? -dr : dr));
    if (det > bound) {
        return 1;
    }
    if (-det > bound) {
        return -1;
    }
    return om__orient2d_exact(ax, ay, bx, by, cx, cy);
}

/*
 * Expansions: a number held exactly as a sum of doubles in increasing
 * magnitude, no two overlapping (Shewchuk's representation); n components
 * in e[0..n). Every function returns the new length; zero components are
 * dropped, so the number 0 has length 0. The caller sizes the outputs:
 * OM__DET2_MAX for om__exp_det2, na * nb * 2 for om__exp_mul, na + nb for
 * om__exp_sum.
 */
enum { OM__DET2_MAX = 16 };
/* det[b - a, d - c] = (bx-ax)(dy-cy) - (by-ay)(dx-cx), exactly. */
int om__exp_det2(double ax, double ay, double bx, double by, double cx,
                 double cy, double dx, double dy, double *out);
/* The exact difference b - a of two doubles (2 components at most). */
int om__exp_diff(double b, double a, double *out);
/* out = a * b (out must not alias a or b). */
int om__exp_mul(const double *a, int na, const double *b, int nb, double *out);
/* out = a * s for a double s (out: 2 * na). */
int om__exp_scale(const double *a, int na, double s, double *out);
/* out = a - b (out: na + nb; may alias neither). */
int om__exp_sub(const double *a, int na, const double *b, int nb, double *out);
/* -1, 0 or +1: the sign of the number. */
int om__exp_sign(const double *e, int n);

#endif
