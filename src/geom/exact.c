/*
 * exact.c — exact orientation sign (see exact.h).
 *
 * The filter: with dl = (bx-ax)(cy-ay) and dr = (by-ay)(cx-ax) computed in
 * double, |det - (dl - dr)| <= (3u + 16u^2)(|dl| + |dr|) (Shewchuk 1997,
 * "Adaptive precision floating-point arithmetic and fast robust geometric
 * predicates", the bound ccwerrboundA), u = 2^-53. Outside the bound the
 * sign of dl - dr is the sign of det.
 *
 * The exact path: each coordinate difference is an exact two-component
 * sum (two_diff), each product of two such sums is eight exact products
 * (Dekker's two_prod), and the sixteen terms of the determinant are added
 * into one non-overlapping expansion (grow_expansion, zero components
 * dropped); its last component is the largest and has the sign of the
 * whole sum.
 */
#include "geom/exact.h"

#include <math.h>

/* a + b = x + y exactly, |y| <= ulp(x)/2 (Knuth's two-sum). */
static void two_sum(double a, double b, double *x, double *y)
{
    double s = a + b;
    double bv = s - a;
    double av = s - bv;
    *x = s;
    *y = (a - av) + (b - bv);
}

static void two_diff(double a, double b, double *x, double *y)
{
    double s = a - b;
    double bv = a - s;
    double av = s + bv;
    *x = s;
    *y = (a - av) + (bv - b);
}

/* Dekker's split of a 53-bit double into two 26-bit halves. */
static void split(double a, double *hi, double *lo)
{
    double c = 134217729.0 * a; /* 2^27 + 1 */
    double big = c - a;
    *hi = c - big;
    *lo = a - *hi;
}

/* a * b = x + y exactly. */
static void two_prod(double a, double b, double *x, double *y)
{
    double p = a * b;
    double ah, al, bh, bl;
    split(a, &ah, &al);
    split(b, &bh, &bl);
    double err = p - ah * bh;
    err -= al * bh;
    err -= ah * bl;
    *x = p;
    *y = al * bl - err;
}

/* e[0..*n) += b, keeping e non-overlapping, increasing, zero-free. */
static void grow(double *e, int *n, double b)
{
    double q = b;
    int m = 0;
    for (int i = 0; i < *n; i++) {
        double s, h;
        two_sum(q, e[i], &s, &h);
        q = s;
        if (h != 0.0) {
            e[m++] = h;
        }
    }
    if (q != 0.0) {
        e[m++] = q;
    }
    *n = m;
}

int om__exp_diff(double b, double a, double *out)
{
    double x, y;
    two_diff(b, a, &x, &y);
    int n = 0;
    if (y != 0.0) {
        out[n++] = y;
    }
    if (x != 0.0) {
        out[n++] = x;
    }
    return n;
}

int om__exp_det2(double ax, double ay, double bx, double by, double cx,
                 double cy, double dx, double dy, double *out)
{
    double u[2], v[2], w[2], z[2];
    int nu = om__exp_diff(bx, ax, u), nv = om__exp_diff(dy, cy, v);
    int nw = om__exp_diff(by, ay, w), nz = om__exp_diff(dx, cx, z);
    int n = 0;
    for (int i = 0; i < nu; i++) {
        for (int k = 0; k < nv; k++) {
            double x, y;
            two_prod(u[i], v[k], &x, &y);
            grow(out, &n, y);
            grow(out, &n, x);
        }
    }
    for (int i = 0; i < nw; i++) {
        for (int k = 0; k < nz; k++) {
            double x, y;
            two_prod(w[i], z[k], &x, &y);
            grow(out, &n, -y);
            grow(out, &n, -x);
        }
    }
    return n;
}

int om__exp_scale(const double *a, int na, double s, double *out)
{
    int n = 0;
    for (int i = 0; i < na; i++) {
        double x, y;
        two_prod(a[i], s, &x, &y);
        grow(out, &n, y);
        grow(out, &n, x);
    }
    return n;
}

int om__exp_mul(const double *a, int na, const double *b, int nb, double *out)
{
    int n = 0;
    for (int i = 0; i < na; i++) {
        for (int k = 0; k < nb; k++) {
            double x, y;
            two_prod(a[i], b[k], &x, &y);
            grow(out, &n, y);
            grow(out, &n, x);
        }
    }
    return n;
}

int om__exp_sub(const double *a, int na, const double *b, int nb, double *out)
{
    int n = 0;
    for (int i = 0; i < na; i++) {
        grow(out, &n, a[i]);
    }
    for (int i = 0; i < nb; i++) {
        grow(out, &n, -b[i]);
    }
    return n;
}

int om__exp_sign(const double *e, int n)
{
    return n == 0 ? 0 : e[n - 1] > 0.0 ? 1 : -1;
}

static int orient_exact(double ax, double ay, double bx, double by, double cx,
                        double cy)
{
    double u[2], v[2], w[2], z[2];
    two_diff(bx, ax, &u[1], &u[0]);
    two_diff(cy, ay, &v[1], &v[0]);
    two_diff(by, ay, &w[1], &w[0]);
    two_diff(cx, ax, &z[1], &z[0]);
    double e[40];
    int n = 0;
    if (u[0] == 0.0 && v[0] == 0.0 && w[0] == 0.0 && z[0] == 0.0) {
        /* exact differences (nearby points: Sterbenz): two products */
        double x, y;
        two_prod(u[1], v[1], &x, &y);
        grow(e, &n, y);
        grow(e, &n, x);
        two_prod(w[1], z[1], &x, &y);
        grow(e, &n, -y);
        grow(e, &n, -x);
        return n == 0 ? 0 : e[n - 1] > 0.0 ? 1 : -1;
    }
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 2; k++) {
            double x, y;
            two_prod(u[i], v[k], &x, &y);
            grow(e, &n, y);
            grow(e, &n, x);
            two_prod(w[i], z[k], &x, &y);
            grow(e, &n, -y);
            grow(e, &n, -x);
        }
    }
    if (n == 0) {
        return 0;
    }
    return e[n - 1] > 0.0 ? 1 : -1;
}

int om__orient2d_exact(double ax, double ay, double bx, double by, double cx,
                       double cy)
{
    return orient_exact(ax, ay, bx, by, cx, cy);
}
