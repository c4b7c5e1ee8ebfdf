/*
 * areak.c — the exact area kernel (see areak.h for the method).
 *
 * Zones are identified by z: the feature index in B, or nb + the feature
 * index in the unit layer; the rank of zone z is z + 1 and the rank of the
 * feature of A is 0. Sets of zones are sorted arrays of z; the sets met
 * while preparing (grid corners, starts of zone edges) are interned in one
 * table and named by a uint32 id (0 = the empty set).
 *
 * The grid: cells of cw × ch from (gx0, gy0), nx × ny of them, one cell
 * of margin around the zones so the first corner of every row is outside
 * all of them. A zone edge is registered in every cell its segment may
 * meet (row by row, one cell of slack each side), so a segment lying in a
 * closed cell meets only edges registered there. corner[] holds, for each
 * grid corner, the set of zones containing it as a point of rank 0 (the
 * sweep along the rows toggles the zones whose edges cross each horizontal
 * step), with DEGEN set when a zone edge passes exactly through the
 * corner: only such corners depend on the rank of the point asking, so
 * queries of other ranks use another corner of the cell.
 */
#include "ops/areak.h"

#include "core/core.h"
#include "geom/exact.h"
#include "onemap/crs.h"
#include "onemap/geom.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_CELLS = 16, MAX_CELLS = 1 << 24, MAX_JOBS = 64 };
#define DEGEN 0x80000000u
#define NOZONE UINT32_MAX
#define REV 0x80000000u
#define NOLAYER UINT32_MAX

struct zedge {
    double x0, y0, x1, y1;
    uint32_t z;     /* the zone */
    int32_t sign;   /* +1 when the zone's interior lies left of the edge */
    uint32_t set0;  /* the other zones containing the start point (those
                       of its own layer and units, see relevant_run) */
    uint32_t layer; /* its layer of B, or NOLAYER for a unit */
};

/*
 * A crossing along an edge: its parameter t in [0, 1] (the order along the
 * edge), the zone crossed, and where the point is: at parameter td along
 * zone edge e & ~REV, taken from its end when REV is set (see xpoint).
 */
struct xing {
    double t, te; /* order along the edge: estimate and its error bound */
    double td;
    uint32_t z, e;
    uint32_t o; /* the other zone edge */
    uint32_t pad;
};

/* A crossing of an edge of the feature of A with zone edge e: its order
 * t along the edge of A, u along e, and its point relative to the
 * feature's origin. */
struct zrec {
    double t, te; /* order along the edge of A */
    double u, ue; /* order along the zone edge */
    double lx, ly;
    double px, py; /* the point itself (for ellipsoidal areas) */
    double pq[4];  /* the edge of A */
    uint32_t e, z;
};

struct idset {
    uint32_t *v;
    size_t n, cap;
};

struct om__ak {
    size_t nb, nu;  /* zones: B features of every layer, then units */
    size_t nl;      /* layers of B (1 with no B: an empty layer) */
    size_t *lstart; /* nl + 1: layer l's zones are lstart[l] .. lstart[l+1] */
    struct zedge *e;
    size_t ne, cap_e;
    size_t *rstart; /* ring r is edges rstart[r] .. rstart[r+1] */
    size_t nrings, cap_rstart;
    size_t *xoff; /* ne + 1: edge i's crossings are x[xoff[i] .. xoff[i+1]) */
    struct xing *x;
    size_t nx_;
    /* grid */
    double gx0, gy0, cw, ch;
    double icw, ich; /* 1 / cw, 1 / ch: a first guess of the cell */
    size_t nx, ny;
    uint32_t *cstart; /* nx * ny + 1 */
    uint32_t *cedge;
    uint32_t *czone;     /* the zone of each cedge entry */
    struct espan *espan; /* while building: each edge's cells (seg_span) */
    uint32_t *corner;    /* (nx + 1) * (ny + 1) */
    uint32_t *filled;    /* (nx + 1) * (ny + 1): cells with edges below-left */
    /* interned sets */
    uint32_t *soff; /* nsets + 1 */
    size_t nsets, cap_soff;
    uint32_t *sids;
    size_t nsids, cap_sids;
    uint32_t *slot; /* hash slots: set id + 1, 0 free */
    size_t nslot;
};

/*
 * What a piece of boundary adds to a region: v, twice its planar integral
 * (halved when flushed); with ellipsoidal areas, the sum of its geodesic
 * area terms s + c (om_area_edge; c the compensation) and its transits.
 */
struct term {
    double v, s, c;
    long tr;
};

/*
 * Ellipsoidal areas with several layers of B. A walk is cut at every
 * crossing, but a crossing with an edge of layer l is a vertex of the
 * pieces of layer l (and, for a unit's edge, of every layer), not of the
 * other layers' pieces: their geodesic polygon does not pass through it.
 * So each layer keeps an anchor, its last vertex on the walk, and the
 * geodesic terms summed since; at its next vertex, if other layers'
 * crossings came between, the difference between the one geodesic from
 * the anchor and those terms goes to the layer's region (anchor_fix).
 * Planar integrals need no such care: they add up along a straight edge.
 */
struct anchor {
    double ll[2];
    double s, c;
    long tr;
    bool set;     /* ll is known (set with the walk's first geodesic) */
    bool skipped; /* another layer's crossing since the anchor */
};

struct om__ak_work {
    const struct om__ak *k;
    uint32_t *stamp;
    uint32_t tick;
    struct idset cur;
    struct zrec *ax; /* crossings along one edge of a */
    size_t nax, cap_ax;
    struct zrec *zr; /* crossings of zone edges with a */
    char *tmp;       /* sorting scratch */
    size_t cap_tmp;
    size_t nzr, cap_zr;
    uint32_t *gath;
    size_t ngath, cap_gath;
    struct om__ak_region *reg;
    size_t nreg, cap_reg;
    struct term *racc; /* per region: the sums behind reg[] */
    size_t cap_racc;
    struct om_area_ctx *area; /* ellipsoidal areas too, when set */
    struct anchor *an;        /* per layer of B (anchored walks) */
};

/* Minimum and maximum of finite doubles (not libm's NaN-aware calls). */
static inline double dmin(double a, double b)
{
    return a < b ? a : b;
}

static inline double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* ---- predicates ---- */

/*
 * Side of point r (rank rr) of the edge p→q (rank re != rr) after the
 * moves by rank·(ε, ε²): +1 left, -1 right, never 0.
 */
static int side(double px, double py, double qx, double qy, uint32_t re,
                double rx, double ry, uint32_t rr)
{
    int o = om__orient2d(px, py, qx, qy, rx, ry);
    if (o != 0) {
        return o;
    }
    /* det[q - p, (rr - re)(ε, ε²)] = (rr - re)((qx - px) ε² - (qy - py) ε) */
    int s = rr > re ? 1 : -1;
    int c = qy > py ? -1 : qy < py ? 1 : (qx > px ? 1 : -1);
    return s * c;
}

/* Do segments p→q (rank a) and r→s (rank b != a) cross once moved? */
static bool crosses(double px, double py, double qx, double qy, uint32_t a,
                    double rx, double ry, double sx, double sy, uint32_t b)
{
    if (dmax(px, qx) < dmin(rx, sx) || dmax(rx, sx) < dmin(px, qx) ||
        dmax(py, qy) < dmin(ry, sy) || dmax(ry, sy) < dmin(py, qy)) {
        return false;
    }
    if (side(px, py, qx, qy, a, rx, ry, b) ==
        side(px, py, qx, qy, a, sx, sy, b)) {
        return false;
    }
    return side(rx, ry, sx, sy, b, px, py, a) !=
           side(rx, ry, sx, sy, b, qx, qy, a);
}

/* Parameter along p→q of its crossing with r→s, in [0, 1]. */
static double cross_t(double px, double py, double qx, double qy, double rx,
                      double ry, double sx, double sy)
{
    double dx = qx - px, dy = qy - py, ex = sx - rx, ey = sy - ry;
    double t = ((rx - px) * ey - (ry - py) * ex) / (dx * ey - dy * ex);
    return t > 0.0 ? (t < 1.0 ? t : 1.0) : 0.0; /* NaN: 0 */
}

/* The segment s with its ends in lexicographic order; true if swapped. */
static bool canon(const double s[4], double c[4])
{
    bool swap = s[0] > s[2] || (s[0] == s[2] && s[1] > s[3]);
    c[0] = swap ? s[2] : s[0];
    c[1] = swap ? s[3] : s[1];
    c[2] = swap ? s[0] : s[2];
    c[3] = swap ? s[1] : s[3];
    return swap;
}

static bool lex_less(const double a[4], const double b[4])
{
    for (int i = 0; i < 4; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return false;
}

/*
 * Where segments s and r cross, computed from the two geometric segments
 * alone (not their direction, not which is asked first): the parameter
 * along the lexicographically smaller of the two, ends in lexicographic
 * order. *on_r tells which segment that is, *swapped whether its ends
 * were swapped. Every walk through a crossing then uses the same point,
 * so the boundary integrals close exactly, even where nearly parallel
 * edges make the point itself ill-conditioned and where two zones share
 * an edge (their copies of it give the very same point).
 */
static double xpoint(const double s[4], const double r[4], bool *on_r,
                     bool *swapped)
{
    double cs[4], cr[4];
    bool ws = canon(s, cs), wr = canon(r, cr);
    *on_r = lex_less(cr, cs);
    if (*on_r) {
        *swapped = wr;
        return cross_t(cr[0], cr[1], cr[2], cr[3], cs[0], cs[1], cs[2], cs[3]);
    }
    *swapped = ws;
    return cross_t(cs[0], cs[1], cs[2], cs[3], cr[0], cr[1], cr[2], cr[3]);
}

/*
 * The parameter along p→q of its crossing with r→s, unclamped, and a
 * bound on its rounding error; false when the two are too close to
 * parallel for the estimate to mean anything.
 */
static bool t_estimate(const double pq[4], const double rs[4], double *t,
                       double *err)
{
    const double u = 1.1102230246251565e-16;
    double dx = pq[2] - pq[0], dy = pq[3] - pq[1];
    double ex = rs[2] - rs[0], ey = rs[3] - rs[1];
    double fx = rs[0] - pq[0], fy = rs[1] - pq[1];
    double d = dx * ey - dy * ex, dm = fabs(dx * ey) + fabs(dy * ex);
    double n = fx * ey - fy * ex, nm = fabs(fx * ey) + fabs(fy * ex);
    double slack = fabs(d) - 8.0 * u * dm;
    if (!(slack > 0.0)) {
        *t = 0.0;
        *err = INFINITY;
        return false;
    }
    *t = n / d;
    *err =
        2.0 * ((8.0 * u * (nm + fabs(*t) * dm)) / slack + 4.0 * u * fabs(*t));
    return true;
}

/*
 * The exact order along p→q (rank rp) of its crossings with r1→s1 (rank
 * r1) and r2→s2 (rank r2): t_i = N_i / D_i with N_i = det[r_i - p, e_i],
 * D_i = det[q - p, e_i], e_i = s_i - r_i. Equal in the limit, the moves
 * decide: N_i grows by (rank_i - rp) det[(ε, ε²), e_i]. Negative when the
 * first comes first; 0 only for crossings that stay together (one zone's
 * edges meeting on p→q), whose order does not matter.
 */
static int order_exact(const double pq[4], uint32_t rp, const double a[4],
                       uint32_t ra, const double b[4], uint32_t rb)
{
    double na[OM__DET2_MAX], nb[OM__DET2_MAX], da[OM__DET2_MAX],
        db[OM__DET2_MAX];
    int lna =
        om__exp_det2(pq[0], pq[1], a[0], a[1], a[0], a[1], a[2], a[3], na);
    int lnb =
        om__exp_det2(pq[0], pq[1], b[0], b[1], b[0], b[1], b[2], b[3], nb);
    int lda =
        om__exp_det2(pq[0], pq[1], pq[2], pq[3], a[0], a[1], a[2], a[3], da);
    int ldb =
        om__exp_det2(pq[0], pq[1], pq[2], pq[3], b[0], b[1], b[2], b[3], db);
    int sd = om__exp_sign(da, lda) * om__exp_sign(db, ldb);
    double p1[2 * OM__DET2_MAX * OM__DET2_MAX],
        p2[2 * OM__DET2_MAX * OM__DET2_MAX];
    double diff[4 * OM__DET2_MAX * OM__DET2_MAX];
    int l1 = om__exp_mul(na, lna, db, ldb, p1);
    int l2 = om__exp_mul(nb, lnb, da, lda, p2);
    int s0 = om__exp_sign(diff, om__exp_sub(p1, l1, p2, l2, diff)) * sd;
    if (s0 != 0) {
        return s0;
    }
    double fa = (double)ra - (double)rp, fb = (double)rb - (double)rp;
    for (int order = 0; order < 2; order++) {
        /* ε: fa e_a.y / D_a - fb e_b.y / D_b; ε²: -fa e_a.x / D_a + ... */
        int c = order == 0 ? 1 : 0;
        double ea[2], eb[2], ma[4 * OM__DET2_MAX], mb[4 * OM__DET2_MAX];
        double sa[8 * OM__DET2_MAX], sb[8 * OM__DET2_MAX];
        double dd[16 * OM__DET2_MAX];
        int lea = om__exp_diff(a[2 + c], a[c], ea);
        int leb = om__exp_diff(b[2 + c], b[c], eb);
        int lma = om__exp_mul(ea, lea, db, ldb, ma);
        int lmb = om__exp_mul(eb, leb, da, lda, mb);
        double ka = order == 0 ? fa : -fa, kb = order == 0 ? fb : -fb;
        int lsa = om__exp_scale(ma, lma, ka, sa);
        int lsb = om__exp_scale(mb, lmb, kb, sb);
        int s1 = om__exp_sign(dd, om__exp_sub(sa, lsa, sb, lsb, dd)) * sd;
        if (s1 != 0) {
            return s1;
        }
    }
    return 0;
}

/* The order of two crossings along an edge, from their estimates when
 * they are far enough apart. */
static int order_along(const double pq[4], uint32_t rp, double ta, double ea,
                       const double a[4], uint32_t ra, double tb, double eb,
                       const double b[4], uint32_t rb)
{
    if (fabs(ta - tb) > ea + eb) {
        return ta < tb ? -1 : 1;
    }
    return order_exact(pq, rp, a, ra, b, rb);
}

static void zedge_seg(const struct zedge *e, double s[4])
{
    s[0] = e->x0;
    s[1] = e->y0;
    s[2] = e->x1;
    s[3] = e->y1;
}

/* Stable merge sort with a context (the comparators need the edge). */
typedef int (*cmp_ctx_fn)(const void *x, const void *y, const void *ctx);

static void msort(void *base, size_t n, size_t size, cmp_ctx_fn cmp,
                  const void *ctx, void *tmp)
{
    char *a = base, *t = tmp;
    if (n < 2) {
        return;
    }
    for (size_t i = 1; i < n && n <= 12; i++) { /* insertion sort */
        size_t j = i;
        memcpy(t, a + i * size, size);
        while (j > 0 && cmp(a + (j - 1) * size, t, ctx) > 0) {
            memcpy(a + j * size, a + (j - 1) * size, size);
            j--;
        }
        memcpy(a + j * size, t, size);
    }
    if (n <= 12) {
        return;
    }
    size_t h = n / 2;
    msort(a, h, size, cmp, ctx, tmp);
    msort(a + h * size, n - h, size, cmp, ctx, tmp);
    size_t i = 0, j = h, o = 0;
    while (i < h || j < n) {
        bool left =
            j >= n || (i < h && cmp(a + i * size, a + j * size, ctx) <= 0);
        memcpy(t + o * size, a + (left ? i++ : j++) * size, size);
        o++;
    }
    memcpy(a, t, n * size);
}

struct edge_ctx {
    const struct om__ak *k;
    double seg[4];
    uint32_t rank;
};

/* zone crossings along one zone edge */
static int cmp_xing(const void *x, const void *y, const void *ctx)
{
    const struct xing *a = x, *b = y;
    const struct edge_ctx *c = ctx;
    if (a->e == b->e && a->td == b->td) {
        return 0; /* one point */
    }
    double sa[4], sb[4];
    zedge_seg(&c->k->e[a->o], sa);
    zedge_seg(&c->k->e[b->o], sb);
    return order_along(c->seg, c->rank, a->t, a->te, sa, a->z + 1, b->t, b->te,
                       sb, b->z + 1);
}

/* crossings along one edge of A (rank 0) */
static int cmp_along_a(const void *x, const void *y, const void *ctx)
{
    const struct zrec *a = x, *b = y;
    const struct edge_ctx *c = ctx;
    if (a->lx == b->lx && a->ly == b->ly) {
        return 0; /* one point: what lies between has no length */
    }
    double sa[4], sb[4];
    zedge_seg(&c->k->e[a->e], sa);
    zedge_seg(&c->k->e[b->e], sb);
    return order_along(c->seg, 0, a->t, a->te, sa, a->z + 1, b->t, b->te, sb,
                       b->z + 1);
}

/* crossings of A with zone edges: by zone edge, then along it */
static int cmp_zrec(const void *x, const void *y, const void *ctx)
{
    const struct zrec *a = x, *b = y;
    const struct om__ak *k = ctx;
    if (a->e != b->e) {
        return a->e < b->e ? -1 : 1;
    }
    if (a->lx == b->lx && a->ly == b->ly) {
        return 0;
    }
    const struct zedge *e = &k->e[a->e];
    double s[4];
    zedge_seg(e, s);
    return order_along(s, e->z + 1, a->u, a->ue, a->pq, 0, b->u, b->ue, b->pq,
                       0);
}

/*
 * Sort v[0..n) (tmp: n more): insertion for a few, else least significant
 * digit first, 11 bits a pass, the passes above the largest value skipped.
 * (glibc's qsort with a comparison call was 7% of an overlay.)
 */
static void sort_u32(uint32_t *v, size_t n, uint32_t *tmp)
{
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--) {
                v[j] = v[j - 1];
            }
            v[j] = x;
        }
        return;
    }
    uint32_t hi = 0;
    for (size_t i = 0; i < n; i++) {
        hi |= v[i];
    }
    uint32_t *src = v, *dst = tmp;
    for (int shift = 0; shift < 32 && (hi >> shift) != 0; shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++) {
            count[((src[i] >> shift) & 2047u) + 1]++;
        }
        for (size_t d = 0; d < 2048; d++) {
            count[d + 1] += count[d];
        }
        for (size_t i = 0; i < n; i++) {
            dst[count[(src[i] >> shift) & 2047u]++] = src[i];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v) {
        memcpy(v, src, n * sizeof *v);
    }
}

/* +1 / -1: the factor that makes the ring's interior lie on its left;
 * 0 for a ring of no area. */
static int ring_sign(const double *xy, size_t n, bool shell)
{
    double s = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        s += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) -
             (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    }
    if (s == 0.0) {
        return 0;
    }
    return (s > 0.0) == shell ? 1 : -1;
}

/* ---- sets ---- */

static bool ids_toggle(struct idset *s, uint32_t z)
{
    size_t i = 0;
    while (i < s->n && s->v[i] < z) {
        i++;
    }
    if (i < s->n && s->v[i] == z) {
        memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
        s->n--;
        return true;
    }
    if (!OM__GROW(s->v, s->cap, s->n + 1)) {
        return false;
    }
    memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof *s->v);
    s->v[i] = z;
    s->n++;
    return true;
}

static void ids_remove(struct idset *s, uint32_t z)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == z) {
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof *s->v);
            s->n--;
            return;
        }
    }
}

static bool ids_load(struct idset *s, const struct om__ak *k, uint32_t id)
{
    id &= ~DEGEN;
    size_t n = k->soff[id + 1] - k->soff[id];
    if (!OM__GROW(s->v, s->cap, n + 1)) {
        return false;
    }
    memcpy(s->v, k->sids + k->soff[id], n * sizeof *s->v);
    s->n = n;
    return true;
}

static uint64_t ids_hash(const uint32_t *v, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ n;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ v[i]) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static bool set_equal(const struct om__ak *k, uint32_t id, const uint32_t *v,
                      size_t n)
{
    size_t m = k->soff[id + 1] - k->soff[id];
    return m == n &&
           (n == 0 || memcmp(k->sids + k->soff[id], v, n * sizeof *v) == 0);
}

static bool rehash(struct om__ak *k, size_t nslot)
{
    uint32_t *slot = om__calloc(nslot, sizeof *slot);
    if (!slot) {
        return false;
    }
    for (size_t id = 0; id < k->nsets; id++) {
        size_t o = k->soff[id], n = k->soff[id + 1] - o;
        size_t h = (size_t)ids_hash(k->sids + o, n) & (nslot - 1);
        while (slot[h]) {
            h = (h + 1) & (nslot - 1);
        }
        slot[h] = (uint32_t)id + 1;
    }
    om__free(k->slot);
    k->slot = slot;
    k->nslot = nslot;
    return true;
}

/* The id of the sorted set v[0..n); UINT32_MAX when out of memory. */
static uint32_t intern(struct om__ak *k, const uint32_t *v, size_t n)
{
    if (2 * (k->nsets + 1) > k->nslot &&
        !rehash(k, k->nslot ? 2 * k->nslot : 1024)) {
        return UINT32_MAX;
    }
    size_t h = (size_t)ids_hash(v, n) & (k->nslot - 1);
    while (k->slot[h]) {
        uint32_t id = k->slot[h] - 1;
        if (set_equal(k, id, v, n)) {
            return id;
        }
        h = (h + 1) & (k->nslot - 1);
    }
    if (k->nsets + 1 >= (size_t)(DEGEN - 1) ||
        !OM__GROW(k->soff, k->cap_soff, k->nsets + 2) ||
        !OM__GROW(k->sids, k->cap_sids, k->nsids + n + 1)) {
        return UINT32_MAX;
    }
    if (n > 0) {
        memcpy(k->sids + k->nsids, v, n * sizeof *v);
    }
    k->nsids += n;
    uint32_t id = (uint32_t)k->nsets++;
    k->soff[k->nsets] = (uint32_t)k->nsids;
    k->slot[h] = id + 1;
    return id;
}

/* ---- grid ---- */

static double gxat(const struct om__ak *k, size_t i)
{
    return k->gx0 + (double)i * k->cw;
}

static double gyat(const struct om__ak *k, size_t j)
{
    return k->gy0 + (double)j * k->ch;
}

/*
 * The index of the grid interval (origin o, size h, 1/h inv, n of them)
 * whose closed span holds v, clamped to the grid: the multiplication
 * guesses, the comparisons with the very corner coordinates the rest of
 * the code uses decide. Always inlined: it runs for every vertex of a
 * feature near a zone edge (as a call, 7% of an overlay's time).
 */
static inline __attribute__((always_inline)) size_t
cell_of(double v, double o, double h, double inv, size_t n)
{
    double f = (v - o) * inv;
    size_t i = !(f > 0.0) ? 0 : f >= (double)(n - 1) ? n - 1 : (size_t)f;
    while (i > 0 && v < o + (double)i * h) {
        i--;
    }
    while (i + 1 < n && v > o + (double)(i + 1) * h) {
        i++;
    }
    return i;
}

static size_t col_of(const struct om__ak *k, double x)
{
    return cell_of(x, k->gx0, k->cw, k->icw, k->nx);
}

static size_t row_of(const struct om__ak *k, double y)
{
    return cell_of(y, k->gy0, k->ch, k->ich, k->ny);
}

/* The cells a segment may meet: rows [*j0, *j1]; per row, seg_row. */
struct span {
    size_t i0, i1, j0, j1;
};

/* The same, kept for every zone edge while the kernel is built. */
struct espan {
    uint32_t i0, i1, j0, j1;
};

static struct span seg_span(const struct om__ak *k, double x0, double y0,
                            double x1, double y1)
{
    struct span s;
    s.i0 = col_of(k, dmin(x0, x1));
    s.i1 = col_of(k, dmax(x0, x1));
    s.j0 = row_of(k, dmin(y0, y1));
    s.j1 = row_of(k, dmax(y0, y1));
    return s;
}

/* Columns of row j the segment may meet (one cell of slack each side). */
static void seg_row(const struct om__ak *k, const struct span *s, double x0,
                    double y0, double x1, double y1, size_t j, size_t *i0,
                    size_t *i1)
{
    *i0 = s->i0;
    *i1 = s->i1;
    if (s->i1 - s->i0 < 2 || s->j0 == s->j1 || y0 == y1) {
        return;
    }
    double ta = (gyat(k, j) - y0) / (y1 - y0);
    double tb = (gyat(k, j + 1) - y0) / (y1 - y0);
    ta = ta > 0.0 ? (ta < 1.0 ? ta : 1.0) : 0.0;
    tb = tb > 0.0 ? (tb < 1.0 ? tb : 1.0) : 0.0;
    double xa = x0 + ta * (x1 - x0), xb = x0 + tb * (x1 - x0);
    size_t a = col_of(k, dmin(xa, xb)), b = col_of(k, dmax(xa, xb));
    a = a > 0 ? a - 1 : 0;
    b = b + 1 < k->nx ? b + 1 : b;
    if (a > s->i0) {
        *i0 = a;
    }
    if (b < s->i1) {
        *i1 = b;
    }
    if (*i0 > *i1) {
        *i0 = s->i0;
        *i1 = s->i1;
    }
}

static bool in_grid(const struct om__ak *k, double x, double y)
{
    return k->ne > 0 && x >= k->gx0 && y >= k->gy0 && x <= gxat(k, k->nx) &&
           y <= gyat(k, k->ny);
}

/*
 * The zones other than `self` containing (x, y) as a point of rank `rank`,
 * into s (sorted). False when every corner of its cell is degenerate and
 * rank > 0 (the caller picks another point).
 */
static bool point_zones(const struct om__ak *k, double x, double y,
                        uint32_t rank, uint32_t self, struct idset *s,
                        bool *oom)
{
    s->n = 0;
    if (!in_grid(k, x, y)) {
        return true;
    }
    size_t i = col_of(k, x), j = row_of(k, y);
    size_t c = 0;
    bool found = false;
    for (int q = 0; q < 4 && !found; q++) {
        c = (j + (size_t)(q >> 1)) * (k->nx + 1) + i + (size_t)(q & 1);
        found = rank == 0 || !(k->corner[c] & DEGEN);
    }
    if (!found) {
        return false;
    }
    size_t ci = c % (k->nx + 1), cj = c / (k->nx + 1);
    double cx = gxat(k, ci), cy = gyat(k, cj);
    if (!ids_load(s, k, k->corner[c])) {
        *oom = true;
        return true;
    }
    size_t cell = j * k->nx + i;
    for (uint32_t p = k->cstart[cell]; p < k->cstart[cell + 1]; p++) {
        const struct zedge *e = &k->e[k->cedge[p]];
        if (e->z != self &&
            crosses(cx, cy, x, y, rank, e->x0, e->y0, e->x1, e->y1, e->z + 1) &&
            !ids_toggle(s, e->z)) {
            *oom = true;
            return true;
        }
    }
    if (self != NOZONE) {
        ids_remove(s, self);
    }
    return true;
}

/* ---- building ---- */

static enum om_status add_layer(struct om__ak *k, const struct om_layer *l,
                                const uint8_t *mask, size_t zbase,
                                uint32_t layer, struct om_rect *box,
                                struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    /* room for every edge at once: fewer than the points */
    if (k->ne + v.npoints >= (size_t)(REV - 1) ||
        !OM__GROW(k->e, k->cap_e, k->ne + v.npoints + 1)) {
        return om__enomem(err, NULL);
    }
    for (size_t f = 0; f < v.nfeatures; f++) {
        if ((mask && !mask[f]) ||
            (v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
            continue;
        }
        *box = om_rect_union(*box, v.bbox[f]);
        for (size_t p = v.part_start[f]; p < v.part_start[f + 1]; p++) {
            for (size_t r = v.ring_start[p]; r < v.ring_start[p + 1]; r++) {
                const double *xy = v.xy + 2 * v.point_start[r];
                size_t n = v.point_start[r + 1] - v.point_start[r];
                int sg = ring_sign(xy, n, r == v.ring_start[p]);
                if (sg == 0) {
                    continue;
                }
                if (!OM__GROW(k->rstart, k->cap_rstart, k->nrings + 2)) {
                    return om__enomem(err, NULL);
                }
                k->rstart[k->nrings++] = k->ne;
                for (size_t i = 0; i + 1 < n; i++) {
                    const double *p0 = xy + 2 * i, *p1 = p0 + 2;
                    if (p0[0] == p1[0] && p0[1] == p1[1]) {
                        continue;
                    }
                    struct zedge *e = &k->e[k->ne++];
                    e->x0 = p0[0];
                    e->y0 = p0[1];
                    e->x1 = p1[0];
                    e->y1 = p1[1];
                    e->z = (uint32_t)(zbase + f);
                    e->sign = sg;
                    e->set0 = 0;
                    e->layer = layer;
                }
                if (k->rstart[k->nrings - 1] == k->ne) {
                    k->nrings--; /* a ring of one point repeated */
                }
            }
        }
    }
    k->rstart[k->nrings] = k->ne;
    return OM_OK;
}

/*
 * Square cells, about one per zone edge: at city scale (5 M zone edges,
 * workload (a) of the benchmark) one per edge built the kernel 0.1-0.2 s
 * faster than two per edge (a grid half the size), the walks of the
 * parcels no slower; four and eight per edge were slower.
 */
static void choose_grid(struct om__ak *k, struct om_rect box)
{
    double w = box.maxx - box.minx, h = box.maxy - box.miny;
    double target = (double)k->ne;
    target = target < MIN_CELLS   ? MIN_CELLS
             : target > MAX_CELLS ? MAX_CELLS
                                  : target;
    double cw = sqrt(w * h / target);
    double lo = dmax(w, h) / 4096.0;
    if (!(cw >= lo)) {
        cw = lo;
    }
    if (!(cw > 0.0)) {
        cw = 1.0;
    }
    for (;;) {
        /* a margin of more than a cell, not a round fraction of one */
        k->gx0 = box.minx - 1.3819660112501051 * cw;
        k->gy0 = box.miny - 1.3819660112501051 * cw;
        k->cw = k->ch = cw;
        k->icw = k->ich = 1.0 / cw;
        k->nx = (size_t)ceil((box.maxx - k->gx0) / cw) + 2;
        k->ny = (size_t)ceil((box.maxy - k->gy0) / cw) + 2;
        if ((double)k->nx * (double)k->ny <= 2.0 * MAX_CELLS) {
            break;
        }
        cw *= 1.25;
    }
}

/*
 * Run fn(arg + i * size) for i in 0 .. n: n - 1 threads and this one (a
 * thread that cannot be started runs here, after the others).
 */
static void run_all(void *(*fn)(void *), void *arg, size_t size, int n)
{
    pthread_t tid[MAX_JOBS];
    bool started[MAX_JOBS] = {0};
    n = n < 1 ? 1 : n > MAX_JOBS ? MAX_JOBS : n;
    for (int t = 1; t < n; t++) {
        started[t] = pthread_create(&tid[t], NULL, fn,
                                    (char *)arg + (size_t)t * size) == 0;
    }
    fn(arg);
    for (int t = 1; t < n; t++) {
        if (started[t]) {
            pthread_join(tid[t], NULL);
        } else {
            fn((char *)arg + (size_t)t * size);
        }
    }
}

/* One thread's rows of the grid, j0 .. j1, in register_edges. */
struct regrows {
    struct om__ak *k;
    size_t j0, j1;
    int pass;
    uint64_t total;
};

/*
 * Pass 0: count the edges of every cell of rows j0 .. j1 into
 * cstart[c + 1]; pass 1: list them (in id order, so by zone) from
 * cstart[c] on, cstart[c] ending at the cell's end. Threads with
 * different rows touch different cells.
 */
static void *register_rows(void *arg)
{
    struct regrows *r = arg;
    struct om__ak *k = r->k;
    for (size_t id = 0; id < k->ne; id++) {
        const struct espan *sp = &k->espan[id];
        if (sp->j1 < r->j0 || sp->j0 >= r->j1) {
            continue;
        }
        const struct zedge *e = &k->e[id];
        struct span s = {sp->i0, sp->i1, sp->j0, sp->j1};
        size_t j0 = s.j0 > r->j0 ? s.j0 : r->j0;
        size_t j1 = s.j1 < r->j1 - 1 ? s.j1 : r->j1 - 1;
        for (size_t j = j0; j <= j1; j++) {
            size_t i0, i1;
            seg_row(k, &s, e->x0, e->y0, e->x1, e->y1, j, &i0, &i1);
            for (size_t c = j * k->nx + i0; c <= j * k->nx + i1; c++) {
                if (r->pass == 0) {
                    k->cstart[c + 1]++;
                    r->total++;
                } else {
                    uint32_t p = k->cstart[c]++;
                    k->cedge[p] = (uint32_t)id;
                    k->czone[p] = e->z;
                }
            }
        }
    }
    return NULL;
}

/* Edges lo .. hi's spans (k->espan), on one thread. */
struct spanjob {
    struct om__ak *k;
    size_t lo, hi;
};

static void *spans_main(void *arg)
{
    struct spanjob *j = arg;
    struct om__ak *k = j->k;
    for (size_t id = j->lo; id < j->hi; id++) {
        const struct zedge *e = &k->e[id];
        struct span s = seg_span(k, e->x0, e->y0, e->x1, e->y1);
        k->espan[id] = (struct espan){(uint32_t)s.i0, (uint32_t)s.i1,
                                      (uint32_t)s.j0, (uint32_t)s.j1};
    }
    return NULL;
}

/* Every edge into the cells its segment may meet, on `threads` threads
 * over bands of rows (each edge's span first, over ranges of edges). */
static enum om_status register_edges(struct om__ak *k, int threads,
                                     struct om_error *err)
{
    size_t ncells = k->nx * k->ny;
    k->cstart = om__calloc(ncells + 1, sizeof *k->cstart);
    k->espan = om__malloc((k->ne + 1) * sizeof *k->espan);
    if (!k->cstart || !k->espan) {
        return om__enomem(err, NULL);
    }
    int n = threads < 1 ? 1 : threads > MAX_JOBS ? MAX_JOBS : threads;
    struct spanjob sj[MAX_JOBS];
    for (int t = 0; t < n; t++) {
        sj[t] = (struct spanjob){k, k->ne * (size_t)t / (size_t)n,
                                 k->ne * (size_t)(t + 1) / (size_t)n};
    }
    run_all(spans_main, sj, sizeof *sj, n);
    struct regrows r[MAX_JOBS];
    if ((size_t)n > k->ny) {
        n = (int)k->ny;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (int t = 0; t < n; t++) {
            r[t] =
                (struct regrows){k, k->ny * (size_t)t / (size_t)n,
                                 k->ny * (size_t)(t + 1) / (size_t)n, pass, 0};
        }
        run_all(register_rows, r, sizeof *r, n);
        if (pass == 0) {
            uint64_t total = 0;
            for (int t = 0; t < n; t++) {
                total += r[t].total;
            }
            if (total >= UINT32_MAX) {
                return om__error(err, OM_ENOMEM, NULL, 0, -1,
                                 "area kernel: too many zone edges");
            }
            for (size_t c = 0; c < ncells; c++) {
                k->cstart[c + 1] += k->cstart[c];
            }
            k->cedge = om__malloc((size_t)total * sizeof *k->cedge + 1);
            k->czone = om__malloc((size_t)total * sizeof *k->czone + 1);
            if (!k->cedge || !k->czone) {
                return om__enomem(err, NULL);
            }
        } else {
            /* cstart[c] now holds the end of cell c: shift back */
            for (size_t c = ncells; c > 0; c--) {
                k->cstart[c] = k->cstart[c - 1];
            }
            k->cstart[0] = 0;
        }
    }
    return OM_OK;
}

/* One thread's grid lines j0 .. j1 of sweep_corners; the sets are
 * interned under `lock` (their ids depend on the order, the sets not). */
struct sweepjob {
    struct om__ak *k;
    pthread_mutex_t *lock;
    size_t j0, j1;
    bool oom;
};

static void *sweep_main(void *arg)
{
    struct sweepjob *sj = arg;
    struct om__ak *k = sj->k;
    struct idset s = {0};
    for (size_t j = sj->j0; j < sj->j1 && !sj->oom; j++) {
        size_t crow = j < k->ny ? j : k->ny - 1;
        double y = gyat(k, j);
        uint32_t cur = 0;
        s.n = 0;
        for (size_t i = 0; i < k->nx && !sj->oom; i++) {
            size_t cell = crow * k->nx + i;
            double xa = gxat(k, i), xb = gxat(k, i + 1);
            bool degen = false, changed = false;
            for (uint32_t p = k->cstart[cell]; p < k->cstart[cell + 1]; p++) {
                const struct zedge *e = &k->e[k->cedge[p]];
                if (crosses(xa, y, xb, y, 0, e->x0, e->y0, e->x1, e->y1,
                            e->z + 1)) {
                    if (!ids_toggle(&s, e->z)) {
                        sj->oom = true;
                        break;
                    }
                    changed = true;
                }
                if (!degen && xb >= dmin(e->x0, e->x1) &&
                    xb <= dmax(e->x0, e->x1) && y >= dmin(e->y0, e->y1) &&
                    y <= dmax(e->y0, e->y1) &&
                    om__orient2d(e->x0, e->y0, e->x1, e->y1, xb, y) == 0) {
                    degen = true;
                }
            }
            if (changed && !sj->oom) {
                if (s.n == 0) {
                    cur = 0; /* the empty set */
                } else {
                    pthread_mutex_lock(sj->lock);
                    cur = intern(k, s.v, s.n);
                    pthread_mutex_unlock(sj->lock);
                    sj->oom = cur == UINT32_MAX;
                }
            }
            k->corner[j * (k->nx + 1) + i + 1] = cur | (degen ? DEGEN : 0);
        }
    }
    om__free(s.v);
    return NULL;
}

/*
 * The zones containing every grid corner: along each grid line from its
 * left end (outside every zone), toggled at each crossing with a zone
 * edge; DEGEN marks a corner on an edge. On `threads` threads over bands
 * of lines. Then `filled`.
 */
static enum om_status sweep_corners(struct om__ak *k, int threads,
                                    struct om_error *err)
{
    size_t nc = (k->nx + 1) * (k->ny + 1);
    k->corner = om__calloc(nc, sizeof *k->corner);
    k->filled = om__calloc(nc, sizeof *k->filled);
    if (!k->corner || !k->filled) {
        return om__enomem(err, NULL);
    }
    int n = threads < 1 ? 1 : threads > MAX_JOBS ? MAX_JOBS : threads;
    pthread_mutex_t lock;
    pthread_mutex_init(&lock, NULL);
    struct sweepjob sj[MAX_JOBS];
    for (int t = 0; t < n; t++) {
        sj[t] =
            (struct sweepjob){k, &lock, (k->ny + 1) * (size_t)t / (size_t)n,
                              (k->ny + 1) * (size_t)(t + 1) / (size_t)n, false};
    }
    run_all(sweep_main, sj, sizeof *sj, n);
    pthread_mutex_destroy(&lock);
    for (int t = 0; t < n; t++) {
        if (sj[t].oom) {
            return om__enomem(err, NULL);
        }
    }
    /* filled[j][i]: cells with edges among columns < i and rows < j */
    for (size_t j = 1; j <= k->ny; j++) {
        uint32_t row = 0;
        for (size_t i = 1; i <= k->nx; i++) {
            size_t c = (j - 1) * k->nx + (i - 1);
            row += k->cstart[c + 1] > k->cstart[c];
            k->filled[j * (k->nx + 1) + i] =
                k->filled[(j - 1) * (k->nx + 1) + i] + row;
        }
    }
    return OM_OK;
}

/* Cells with edges in columns i0..i1, rows j0..j1. */
static uint32_t filled_in(const struct om__ak *k, size_t i0, size_t i1,
                          size_t j0, size_t j1)
{
    size_t w = k->nx + 1;
    return k->filled[(j1 + 1) * w + i1 + 1] - k->filled[j0 * w + i1 + 1] -
           k->filled[(j1 + 1) * w + i0] + k->filled[j0 * w + i0];
}

/* The first entry of cell c whose zone is >= z (> z when `after`). */
static uint32_t zone_run(const struct om__ak *k, size_t c, uint32_t z,
                         bool after)
{
    uint32_t lo = k->cstart[c], hi = k->cstart[c + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint32_t mz = k->czone[mid];
        if (mz < z || (after && mz == z)) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * The zones whose edges matter to an edge of `layer`, as ranges of zone ids
 * r[2q] .. r[2q+1] (NOZONE: to the end); returns their count. A unit's
 * edge bounds regions of every layer of B: every zone matters. An edge of
 * layer l of B bounds regions of layer l only, which no edge of another
 * layer bounds: only the zones of layer l and the units matter (their
 * crossings with other layers are not needed, and the zone sets along the
 * edge leave those layers out).
 */
static int relevant_zones(const struct om__ak *k, uint32_t layer, uint32_t r[4])
{
    if (layer == NOLAYER || k->nl == 1) {
        r[0] = 0;
        r[1] = NOZONE;
        return 1;
    }
    r[0] = (uint32_t)k->lstart[layer];
    r[1] = (uint32_t)k->lstart[layer + 1];
    r[2] = (uint32_t)k->nb;
    r[3] = NOZONE;
    return 2;
}

/* Keep in s only the zones that matter to an edge of `layer`. */
static void ids_relevant(struct idset *s, const struct om__ak *k,
                         uint32_t layer)
{
    uint32_t r[4];
    int nr = relevant_zones(k, layer, r);
    if (nr == 1) {
        return;
    }
    size_t m = 0;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t z = s->v[i];
        if ((z >= r[0] && z < r[1]) || z >= r[2]) {
            s->v[m++] = z;
        }
    }
    s->n = m;
}

/* One thread's share of the arrangement: the crossings of edges lo..hi. */
struct xbuf {
    const struct om__ak *k;
    size_t lo, hi;
    struct xing *x;
    size_t n, cap;
    size_t *off; /* hi - lo + 1: edge lo + i's crossings are x[off[i]..] */
    char *tmp;
    size_t cap_tmp;
    uint32_t *stamp;
    bool oom;
};

/* The crossings of zone edge id with the edges of the other zones that
 * matter to it, sorted along it, appended to b->x. stamp/tick dedupe
 * edges registered in several cells. */
static bool edge_crossings(struct xbuf *b, size_t id, uint32_t tick)
{
    const struct om__ak *k = b->k;
    uint32_t *stamp = b->stamp;
    const struct zedge *e = &k->e[id];
    size_t first = b->n;
    uint32_t r[4];
    int nr = relevant_zones(k, e->layer, r);
    const struct espan *sp = &k->espan[id];
    struct span s = {sp->i0, sp->i1, sp->j0, sp->j1};
    for (size_t j = s.j0; j <= s.j1; j++) {
        size_t i0, i1;
        seg_row(k, &s, e->x0, e->y0, e->x1, e->y1, j, &i0, &i1);
        for (size_t i = i0; i <= i1; i++) {
            size_t c = j * k->nx + i;
            /* a cell lists its edges by id, so by zone: skip e's own run
             * (a dense red line fills its cells with its own edges) and
             * the zones that do not matter */
            if (k->czone[k->cstart[c]] == e->z &&
                k->czone[k->cstart[c + 1] - 1] == e->z) {
                continue; /* e's zone alone */
            }
            uint32_t lo = zone_run(k, c, e->z, false);
            uint32_t hi = zone_run(k, c, e->z, true);
            for (int q = 0; q < nr; q++) {
                uint32_t p0 = r[2 * q] == 0 ? k->cstart[c]
                                            : zone_run(k, c, r[2 * q], false);
                uint32_t p1 = r[2 * q + 1] == NOZONE
                                  ? k->cstart[c + 1]
                                  : zone_run(k, c, r[2 * q + 1], false);
                for (uint32_t p = p0; p < p1; p++) {
                    if (p == lo) {
                        p = hi;
                        if (p >= p1) {
                            break;
                        }
                    }
                    uint32_t o = k->cedge[p];
                    const struct zedge *g = &k->e[o];
                    if (stamp[o] == tick) {
                        continue;
                    }
                    stamp[o] = tick;
                    if (!crosses(e->x0, e->y0, e->x1, e->y1, e->z + 1, g->x0,
                                 g->y0, g->x1, g->y1, g->z + 1)) {
                        continue;
                    }
                    if (!OM__GROW(b->x, b->cap, b->n + 1)) {
                        return false;
                    }
                    struct xing *x = &b->x[b->n++];
                    memset(x, 0, sizeof *x);
                    bool on_g, sw;
                    double es[4], gs[4];
                    zedge_seg(e, es);
                    zedge_seg(g, gs);
                    t_estimate(es, gs, &x->t, &x->te);
                    x->z = g->z;
                    x->o = o;
                    x->td = xpoint(es, gs, &on_g, &sw);
                    x->e = (on_g ? o : (uint32_t)id) | (sw ? REV : 0);
                }
            }
        }
    }
    size_t n = b->n - first;
    if (n > 1) {
        if (!OM__GROW(b->tmp, b->cap_tmp, n * sizeof *b->x)) {
            return false;
        }
        struct edge_ctx c = {k, {e->x0, e->y0, e->x1, e->y1}, e->z + 1};
        msort(b->x + first, n, sizeof *b->x, cmp_xing, &c, b->tmp);
    }
    return true;
}

static void *crossings_main(void *arg)
{
    struct xbuf *b = arg;
    b->stamp = om__calloc(b->k->ne + 1, sizeof *b->stamp);
    b->off = om__calloc(b->hi - b->lo + 1, sizeof *b->off);
    if (!b->stamp || !b->off) {
        b->oom = true;
        return NULL;
    }
    uint32_t tick = 0;
    for (size_t id = b->lo; id < b->hi && !b->oom; id++) {
        b->off[id - b->lo] = b->n;
        b->oom = !edge_crossings(b, id, ++tick);
    }
    b->off[b->hi - b->lo] = b->n;
    return NULL;
}

/* The crossings of every zone edge, on `threads` threads over ranges of
 * edges, gathered in edge order into k->x / k->xoff. */
static enum om_status all_crossings(struct om__ak *k, int threads,
                                    struct om_error *err)
{
    if (threads < 1) {
        threads = 1;
    }
    if ((size_t)threads > k->ne / 4096 + 1) {
        threads = (int)(k->ne / 4096 + 1);
    }
    if (threads > MAX_JOBS) {
        threads = MAX_JOBS;
    }
    struct xbuf b[MAX_JOBS];
    memset(b, 0, sizeof b);
    for (int t = 0; t < threads; t++) {
        b[t].k = k;
        b[t].lo = k->ne * (size_t)t / (size_t)threads;
        b[t].hi = k->ne * (size_t)(t + 1) / (size_t)threads;
    }
    run_all(crossings_main, b, sizeof *b, threads);
    enum om_status st = OM_OK;
    size_t total = 0;
    for (int t = 0; t < threads; t++) {
        if (b[t].oom) {
            st = om__enomem(err, NULL);
        }
        total += b[t].n;
    }
    if (st == OM_OK) {
        k->x = om__malloc((total + 1) * sizeof *k->x);
        if (!k->x) {
            st = om__enomem(err, NULL);
        }
    }
    for (int t = 0; st == OM_OK && t < threads; t++) {
        if (b[t].n) {
            memcpy(k->x + k->nx_, b[t].x, b[t].n * sizeof *k->x);
        }
        for (size_t id = b[t].lo; id < b[t].hi; id++) {
            k->xoff[id] = k->nx_ + b[t].off[id - b[t].lo];
        }
        k->nx_ += b[t].n;
    }
    k->xoff[k->ne] = k->nx_;
    for (int t = 0; t < threads; t++) {
        om__free(b[t].x);
        om__free(b[t].off);
        om__free(b[t].tmp);
        om__free(b[t].stamp);
    }
    return st;
}

/*
 * Walk every zone ring: the set of other zones at its first usable vertex
 * (point_zones; those that matter to it, relevant_zones), then edge by
 * edge, toggled at each crossing. A ring must come back to the set it
 * started with.
 */
static enum om_status arrange(struct om__ak *k, int threads,
                              struct om_error *err)
{
    k->xoff = om__calloc(k->ne + 1, sizeof *k->xoff);
    struct idset s = {0};
    enum om_status st = OM_OK;
    if (!k->xoff) {
        st = om__enomem(err, NULL);
        goto done;
    }
    st = all_crossings(k, threads, err);
    if (st != OM_OK) {
        goto done;
    }
    for (size_t r = 0; r < k->nrings; r++) {
        size_t e0 = k->rstart[r], e1 = k->rstart[r + 1];
        if (e0 == e1) {
            continue;
        }
        uint32_t z = k->e[e0].z;
        size_t first = e1;
        bool oom = false;
        for (size_t id = e0; id < e1 && first == e1; id++) {
            if (point_zones(k, k->e[id].x0, k->e[id].y0, z + 1, z, &s, &oom)) {
                first = id;
            }
        }
        if (oom) {
            st = om__enomem(err, NULL);
            goto done;
        }
        if (first == e1) {
            st = om__error(err, OM_EGEOM, NULL, 0, -1,
                           "area kernel: no usable grid corner near a ring "
                           "of zone %u",
                           (unsigned)z);
            goto done;
        }
        ids_relevant(&s, k, k->e[e0].layer);
        uint32_t start = intern(k, s.v, s.n);
        uint32_t cur = start;
        for (size_t m = 0; m < e1 - e0; m++) {
            size_t id = e0 + (first - e0 + m) % (e1 - e0);
            k->e[id].set0 = cur;
            bool changed = false;
            for (size_t x = k->xoff[id]; x < k->xoff[id + 1]; x++) {
                if (!ids_toggle(&s, k->x[x].z)) {
                    st = om__enomem(err, NULL);
                    goto done;
                }
                changed = true;
            }
            if (changed) {
                cur = intern(k, s.v, s.n);
            }
            if (cur == UINT32_MAX || start == UINT32_MAX) {
                st = om__enomem(err, NULL);
                goto done;
            }
        }
        if (cur != start) {
            st = om__error(err, OM_EGEOM, NULL, 0, -1,
                           "area kernel: inconsistent zone arrangement "
                           "around zone %u",
                           (unsigned)z);
            goto done;
        }
    }
done:
    om__free(s.v);
    return st;
}

void om__ak_free(struct om__ak *k)
{
    if (!k) {
        return;
    }
    om__free(k->lstart);
    om__free(k->e);
    om__free(k->rstart);
    om__free(k->xoff);
    om__free(k->x);
    om__free(k->cstart);
    om__free(k->cedge);
    om__free(k->czone);
    om__free(k->espan);
    om__free(k->corner);
    om__free(k->filled);
    om__free(k->soff);
    om__free(k->sids);
    om__free(k->slot);
    om__free(k);
}

enum om_status om__ak_new_layers(const struct om__ak_layer *bl, size_t nbl,
                                 const struct om_layer *units, int threads,
                                 struct om__ak **out, struct om_error *err)
{
    *out = NULL;
    struct om__ak *k = om__calloc(1, sizeof *k);
    if (!k) {
        return om__enomem(err, NULL);
    }
    enum om_status st = OM_OK;
    k->nl = nbl ? nbl : 1;
    k->lstart = om__calloc(k->nl + 1, sizeof *k->lstart);
    if (!k->lstart) {
        st = om__enomem(err, NULL);
    }
    for (size_t l = 0; st == OM_OK && l < nbl; l++) {
        k->lstart[l + 1] = k->lstart[l] + om_layer_nfeatures(bl[l].layer);
    }
    if (st == OM_OK) {
        k->nb = k->lstart[k->nl];
        k->nu = units ? om_layer_nfeatures(units) : 0;
        if (nbl >= (size_t)NOLAYER || k->nb + k->nu >= (size_t)NOZONE - 2) {
            st = om__error(err, OM_EINVAL, NULL, 0, -1,
                           "area kernel: too many zone features");
        }
    }
    /* the empty set is id 0 */
    if (st == OM_OK && (!OM__GROW(k->soff, k->cap_soff, 2) ||
                        !OM__GROW(k->rstart, k->cap_rstart, 1))) {
        st = om__enomem(err, NULL);
    }
    if (st == OM_OK) {
        k->soff[0] = 0;
        k->rstart[0] = 0;
        if (intern(k, NULL, 0) != 0) {
            st = om__enomem(err, NULL);
        }
    }
    /* room for every edge at once (fewer than the points of the features
     * taking part): one block, populated when allocated, not grown layer
     * by layer and touched page by page (a province's 21 M zone edges are
     * 1 GB) */
    size_t npoints = 0;
    for (size_t l = 0; l <= nbl; l++) {
        const struct om_layer *zl = l < nbl ? bl[l].layer : units;
        const uint8_t *mask = l < nbl ? bl[l].mask : NULL;
        struct om_layer_view v;
        if (!zl) {
            continue;
        }
        om_layer_view(zl, &v);
        for (size_t f = 0; f < v.nfeatures; f++) {
            if (!(mask && !mask[f]) &&
                !(v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
                npoints += om_feature_npoints(&v, f);
            }
        }
    }
    if (st == OM_OK && npoints < (size_t)(REV - 1)) {
        k->e = om__malloc((npoints + 1) * sizeof *k->e);
        k->cap_e = k->e ? npoints + 1 : 0;
        if (!k->e) {
            st = om__enomem(err, NULL);
        }
    }
    struct om_rect box = om_rect_empty();
    for (size_t l = 0; st == OM_OK && l < nbl; l++) {
        st = add_layer(k, bl[l].layer, bl[l].mask, k->lstart[l], (uint32_t)l,
                       &box, err);
    }
    if (st == OM_OK && units) {
        st = add_layer(k, units, NULL, k->nb, NOLAYER, &box, err);
    }
    if (st == OM_OK && k->ne > 0) {
        choose_grid(k, box);
        st = register_edges(k, threads, err);
        if (st == OM_OK) {
            st = sweep_corners(k, threads, err);
        }
        if (st == OM_OK) {
            st = arrange(k, threads, err);
        }
        om__free(k->espan); /* not needed once built */
        k->espan = NULL;
    }
    if (st != OM_OK) {
        om__ak_free(k);
        return st;
    }
    *out = k;
    return OM_OK;
}

enum om_status om__ak_new(const struct om_layer *b, const uint8_t *b_mask,
                          const struct om_layer *units, int threads,
                          struct om__ak **out, struct om_error *err)
{
    const struct om__ak_layer bl = {b, b_mask};
    return om__ak_new_layers(&bl, b ? 1 : 0, units, threads, out, err);
}

/* ---- one feature of A ---- */

enum om_status om__ak_work_new(const struct om__ak *k, struct om__ak_work **out,
                               struct om_error *err)
{
    struct om__ak_work *w = om__calloc(1, sizeof *w);
    if (w) {
        w->stamp = om__calloc(k->ne + 1, sizeof *w->stamp);
    }
    if (!w || !w->stamp) {
        om__ak_work_free(w);
        *out = NULL;
        return om__enomem(err, NULL);
    }
    w->an = om__calloc(k->nl, sizeof *w->an);
    if (!w->an) {
        om__ak_work_free(w);
        *out = NULL;
        return om__enomem(err, NULL);
    }
    w->k = k;
    *out = w;
    return OM_OK;
}

void om__ak_work_set_area(struct om__ak_work *w, struct om_area_ctx *area)
{
    w->area = area;
}

void om__ak_work_free(struct om__ak_work *w)
{
    if (!w) {
        return;
    }
    om__free(w->stamp);
    om__free(w->an);
    om__free(w->cur.v);
    om__free(w->ax);
    om__free(w->zr);
    om__free(w->tmp);
    om__free(w->gath);
    om__free(w->reg);
    om__free(w->racc);
    om__free(w);
}

static uint32_t next_tick(struct om__ak_work *w)
{
    if (++w->tick == 0) {
        memset(w->stamp, 0, (w->k->ne + 1) * sizeof *w->stamp);
        w->tick = 1;
    }
    return w->tick;
}

/* s += x without losing what does not fit (Neumaier): c keeps it. */
static void acc_add(double *s, double *c, double x)
{
    double y = *s + x;
    *c += fabs(*s) >= fabs(x) ? (*s - y) + x : (x - y) + *s;
    *s = y;
}

static void term_add(struct term *t, const struct term *u, double sign)
{
    t->v += sign * u->v;
    if (u->s != 0.0 || u->c != 0.0) { /* ellipsoidal terms */
        acc_add(&t->s, &t->c, sign * u->s);
        acc_add(&t->s, &t->c, sign * u->c);
    }
    t->tr += sign > 0 ? u->tr : -u->tr;
}

static bool reg_add(struct om__ak_work *w, size_t l, size_t b, size_t u,
                    const struct term *t, double sign)
{
    for (size_t i = 0; i < w->nreg; i++) {
        const struct om__ak_region *r = &w->reg[i];
        if (r->b == b && r->unit == u && r->layer == l) {
            term_add(&w->racc[i], t, sign);
            return true;
        }
    }
    if (!OM__GROW(w->reg, w->cap_reg, w->nreg + 1) ||
        !OM__GROW(w->racc, w->cap_racc, w->nreg + 1)) {
        return false;
    }
    w->reg[w->nreg].layer = l;
    w->reg[w->nreg].b = b;
    w->reg[w->nreg].unit = u;
    memset(&w->racc[w->nreg], 0, sizeof *w->racc);
    term_add(&w->racc[w->nreg], t, sign);
    w->nreg++;
    return true;
}

/*
 * One coordinate of the regions a term goes to: the zones v[0..n) as
 * feature indices (id - base), or OM_OVERLAY_NONE when there are none; or
 * the single value `fixed` when `one`.
 */
struct pick {
    bool one;
    const uint32_t *v;
    size_t n, base, fixed;
};

static struct pick pick_one(size_t x)
{
    return (struct pick){true, NULL, 0, 0, x};
}

static size_t pick_count(const struct pick *p)
{
    return p->one || p->n == 0 ? 1 : p->n;
}

static size_t pick_at(const struct pick *p, size_t i)
{
    return p->one ? p->fixed : p->n ? p->v[i] - p->base : OM_OVERLAY_NONE;
}

/* The zones of set s in [lo, hi) (s sorted). */
static struct pick pick_range(const struct idset *s, size_t lo, size_t hi)
{
    size_t i = 0;
    while (i < s->n && s->v[i] < lo) {
        i++;
    }
    size_t j = i;
    while (j < s->n && s->v[j] < hi) {
        j++;
    }
    return (struct pick){false, j > i ? s->v + i : NULL, j - i, lo, 0};
}

/* The B features of layer l in s, and the units in s. */
static struct pick layer_part(const struct om__ak *k, const struct idset *s,
                              size_t l)
{
    return pick_range(s, k->lstart[l], k->lstart[l + 1]);
}

static struct pick unit_part(const struct om__ak *k, const struct idset *s)
{
    return pick_range(s, k->nb, SIZE_MAX);
}

/* t times sign to every region (l, b, u), b from pb, u from pu. */
static bool add_regions(struct om__ak_work *w, size_t l, const struct pick *pb,
                        const struct pick *pu, const struct term *t,
                        double sign)
{
    size_t nb = pick_count(pb), nu = pick_count(pu);
    for (size_t i = 0; i < nb; i++) {
        size_t b = pick_at(pb, i);
        for (size_t m = 0; m < nu; m++) {
            if (!reg_add(w, l, b, pick_at(pu, m), t, sign)) {
                return false;
            }
        }
    }
    return true;
}

/* t to the regions of layer l of B containing the zones of s. */
static bool add_in_layer(struct om__ak_work *w, size_t l, const struct idset *s,
                         const struct term *t)
{
    struct pick pu = unit_part(w->k, s);
    struct pick pb = layer_part(w->k, s, l);
    return add_regions(w, l, &pb, &pu, t, 1.0);
}

/* t to the regions of every layer of B containing the zones of s. */
static bool add_all(struct om__ak_work *w, const struct idset *s,
                    const struct term *t)
{
    for (size_t l = 0; l < w->k->nl; l++) {
        if (!add_in_layer(w, l, s, t)) {
            return false;
        }
    }
    return true;
}

static bool term_zero(const struct term *t)
{
    return t->v == 0.0 && t->s == 0.0 && t->c == 0.0 && t->tr == 0;
}

/* A sub-path of a's boundary with the zones w->cur: t = its integrals. */
static bool flush_a(struct om__ak_work *w, const struct term *t)
{
    return term_zero(t) || add_all(w, &w->cur, t);
}

/* A sub-path of zone edge e inside a, the other zones being w->cur (of
 * e's layer and the units when e is of a layer of B), to the regions of
 * layer `only` of B (SIZE_MAX: of every layer). */
static bool flush_zone(struct om__ak_work *w, const struct zedge *e,
                       const struct term *t, size_t only)
{
    if (term_zero(t)) {
        return true;
    }
    const struct om__ak *k = w->k;
    struct pick pu = unit_part(k, &w->cur);
    if (e->z < k->nb) {
        /* on the boundary of B feature z of layer l: of (l, z, units), and
         * of layer l's outside when no other feature of l contains it */
        size_t l = e->layer;
        struct pick pb = layer_part(k, &w->cur, l);
        struct pick self = pick_one(e->z - k->lstart[l]);
        struct pick none = pick_one(OM_OVERLAY_NONE);
        if (!add_regions(w, l, &self, &pu, t, 1.0)) {
            return false;
        }
        return pb.n > 0 || add_regions(w, l, &none, &pu, t, -1.0);
    }
    /* on the boundary of unit m: in every layer, of (B features, m), and
     * of (B features, outside every unit) when no other unit contains it */
    struct pick self = pick_one(e->z - k->nb);
    struct pick none = pick_one(OM_OVERLAY_NONE);
    size_t l0 = only == SIZE_MAX ? 0 : only;
    size_t l1 = only == SIZE_MAX ? k->nl : only + 1;
    for (size_t l = l0; l < l1; l++) {
        struct pick pb = layer_part(k, &w->cur, l);
        if (!add_regions(w, l, &pb, &self, t, 1.0) ||
            (pu.n == 0 && !add_regions(w, l, &pb, &none, t, -1.0))) {
            return false;
        }
    }
    return true;
}

/* Is zone point (x, y) of rank `rank` inside feature f of A (rank 0)? */
static bool pip(const struct om_layer_view *av, size_t f, double x, double y,
                uint32_t rank)
{
    bool in = false;
    for (size_t p = av->part_start[f]; p < av->part_start[f + 1]; p++) {
        for (size_t r = av->ring_start[p]; r < av->ring_start[p + 1]; r++) {
            const double *xy = av->xy + 2 * av->point_start[r];
            size_t n = av->point_start[r + 1] - av->point_start[r];
            for (size_t i = 0; i + 1 < n; i++) {
                double rx = xy[2 * i], ry = xy[2 * i + 1];
                double sx = xy[2 * i + 2], sy = xy[2 * i + 3];
                /* rank 0 lies below rank > 0 at equal y */
                bool ar = ry > y, as = sy > y;
                if (ar == as) {
                    continue;
                }
                int o = side(rx, ry, sx, sy, 0, x, y, rank);
                if (as ? o > 0 : o < 0) {
                    in = !in;
                }
            }
        }
    }
    return in;
}

/*
 * Where a walk along a boundary has got to: the last point (relative to
 * the feature's origin, and absolute with its longitude/latitude when
 * ellipsoidal areas are wanted) and the term gathered since the last
 * flush.
 */
struct walk {
    double lx, ly;
    double ax, ay, ll[2];
    bool have_ll;
    struct term run;
    double half; /* 0.5 * the ring's orientation factor */
    int sg;
    bool anchored; /* per-layer anchors (struct anchor) are kept */
};

static void anchors_reset(struct om__ak_work *w, struct walk *k);

/* A walk from (lx, ly) (absolute (ax, ay)); per-layer anchors when
 * ellipsoidal areas are wanted, there are several layers of B, and
 * `anchor` (the walk can meet crossings of some layers only). */
static void walk_start(struct om__ak_work *w, struct walk *k, double lx,
                       double ly, double ax, double ay, int sg, bool anchor)
{
    memset(k, 0, sizeof *k);
    k->lx = lx;
    k->ly = ly;
    k->ax = ax;
    k->ay = ay;
    k->sg = sg;
    k->half = 0.5 * sg;
    k->anchored = anchor && w->area && w->k->nl > 1;
    anchors_reset(w, k);
}

/* The walk goes on to (lx, ly) (absolute (ax, ay)); counted if `on`. */
static enum om_status walk_to(struct om__ak_work *w, struct walk *k, double lx,
                              double ly, double ax, double ay, bool on,
                              struct om_error *err)
{
    if (on) {
        k->run.v += k->lx * ly - lx * k->ly;
        if (w->area) {
            double ll[2];
            enum om_status st = OM_OK;
            if (!k->have_ll) {
                const double p0[2] = {k->ax, k->ay};
                st = om_area_lonlat(w->area, p0, 1, k->ll, err);
            }
            const double p1[2] = {ax, ay};
            if (st == OM_OK) {
                st = om_area_lonlat(w->area, p1, 1, ll, err);
            }
            if (st != OM_OK) {
                return st;
            }
            double s12;
            int tr;
            om_area_edge(w->area, k->ll, ll, &s12, &tr);
            acc_add(&k->run.s, &k->run.c, k->sg * s12);
            k->run.tr += k->sg * tr;
            for (size_t l = 0; k->anchored && l < w->k->nl; l++) {
                struct anchor *an = &w->an[l];
                if (!an->set) {
                    an->ll[0] = k->ll[0];
                    an->ll[1] = k->ll[1];
                    an->set = true;
                }
                acc_add(&an->s, &an->c, k->sg * s12);
                an->tr += k->sg * tr;
            }
            k->ll[0] = ll[0];
            k->ll[1] = ll[1];
            k->have_ll = true;
        }
    } else {
        k->have_ll = false;
    }
    k->lx = lx;
    k->ly = ly;
    k->ax = ax;
    k->ay = ay;
    return OM_OK;
}

/* The term gathered since the last flush (planar halved), then reset. */
static struct term walk_take(struct walk *k)
{
    struct term t = k->run;
    t.v *= k->half;
    memset(&k->run, 0, sizeof k->run);
    return t;
}

/* Every layer's anchor at the walk's current point. */
static void anchors_reset(struct om__ak_work *w, struct walk *k)
{
    for (size_t l = 0; k->anchored && l < w->k->nl; l++) {
        struct anchor *an = &w->an[l];
        memset(an, 0, sizeof *an);
        an->set = k->have_ll;
        if (an->set) {
            an->ll[0] = k->ll[0];
            an->ll[1] = k->ll[1];
        }
    }
}

/*
 * The walk's current point is a vertex of layer l's pieces: when other
 * layers' crossings came since its anchor, the one geodesic from the
 * anchor replaces the terms summed since, in the layer's regions (those
 * of a's boundary with the zones w->cur, or of zone edge e); the anchor
 * moves here.
 */
static bool anchor_fix(struct om__ak_work *w, struct walk *k, size_t l,
                       const struct zedge *e)
{
    struct anchor *an = &w->an[l];
    if (an->skipped && an->set && k->have_ll) {
        double s12;
        int tr;
        om_area_edge(w->area, an->ll, k->ll, &s12, &tr);
        struct term t = {0.0, 0.0, 0.0, k->sg * tr - an->tr};
        acc_add(&t.s, &t.c, k->sg * s12);
        acc_add(&t.s, &t.c, -an->s);
        acc_add(&t.s, &t.c, -an->c);
        if (!(e ? flush_zone(w, e, &t, l) : add_in_layer(w, l, &w->cur, &t))) {
            return false;
        }
    }
    memset(an, 0, sizeof *an);
    an->set = k->have_ll;
    if (an->set) {
        an->ll[0] = k->ll[0];
        an->ll[1] = k->ll[1];
    }
    return true;
}

/* The walk's current point is a crossing with an edge of `layer` of B
 * (NOLAYER: a unit's edge or a vertex, a vertex of every layer). */
static bool anchors_at(struct om__ak_work *w, struct walk *k, uint32_t layer,
                       const struct zedge *e)
{
    for (size_t l = 0; k->anchored && l < w->k->nl; l++) {
        if (layer == NOLAYER || layer == l) {
            if (!anchor_fix(w, k, l, e)) {
                return false;
            }
        } else {
            w->an[l].skipped = true;
        }
    }
    return true;
}

/* The integral along a's ring r, crossings with zone edges recorded for
 * the zone side in w->zr. */
static enum om_status walk_a_ring(struct om__ak_work *w, const double *xy,
                                  size_t n, int sg, double ox, double oy,
                                  int64_t fid, struct om_error *err)
{
    const struct om__ak *k = w->k;
    bool oom = false;
    point_zones(k, xy[0], xy[1], 0, NOZONE, &w->cur, &oom);
    size_t n0 = w->cur.n;
    uint32_t h0 = (uint32_t)ids_hash(w->cur.v, w->cur.n);
    struct walk wk;
    walk_start(w, &wk, xy[0] - ox, xy[1] - oy, xy[0], xy[1], sg, true);
    enum om_status st = OM_OK;
    /* the grid column and row of each vertex, once (cell_of is monotone,
     * so a segment's span is that of its ends) */
    size_t pc = col_of(k, xy[0]), pr = row_of(k, xy[1]);
    for (size_t i = 0; i + 1 < n && !oom && st == OM_OK; i++) {
        double px = xy[2 * i], py = xy[2 * i + 1];
        double qx = xy[2 * i + 2], qy = xy[2 * i + 3];
        if (px == qx && py == qy) {
            continue;
        }
        size_t qc = col_of(k, qx), qr = row_of(k, qy);
        struct span s = {pc < qc ? pc : qc, pc < qc ? qc : pc,
                         pr < qr ? pr : qr, pr < qr ? qr : pr};
        pc = qc;
        pr = qr;
        w->nax = 0;
        uint32_t tick = next_tick(w);
        const double seg[4] = {px, py, qx, qy};
        bool one_cell = s.i0 == s.i1 && s.j0 == s.j1;
        bool inside_grid =
            k->ne > 0 && dmax(px, qx) >= k->gx0 && dmax(py, qy) >= k->gy0 &&
            dmin(px, qx) <= gxat(k, k->nx) && dmin(py, qy) <= gyat(k, k->ny);
        for (size_t j = s.j0; inside_grid && j <= s.j1; j++) {
            size_t i0, i1;
            seg_row(k, &s, px, py, qx, qy, j, &i0, &i1);
            for (size_t c = j * k->nx + i0; c <= j * k->nx + i1; c++) {
                for (uint32_t p = k->cstart[c]; p < k->cstart[c + 1]; p++) {
                    uint32_t id = k->cedge[p];
                    if (!one_cell) {
                        /* an edge in several of these cells: test it once */
                        if (w->stamp[id] == tick) {
                            continue;
                        }
                        w->stamp[id] = tick;
                    }
                    const struct zedge *e = &k->e[id];
                    if (!crosses(px, py, qx, qy, 0, e->x0, e->y0, e->x1, e->y1,
                                 e->z + 1)) {
                        continue;
                    }
                    if (!OM__GROW(w->ax, w->cap_ax, w->nax + 1) ||
                        !OM__GROW(w->zr, w->cap_zr, w->nzr + 1)) {
                        return om__enomem(err, NULL);
                    }
                    struct zrec *x = &w->ax[w->nax++];
                    bool on_e, sw;
                    double es[4];
                    zedge_seg(e, es);
                    t_estimate(seg, es, &x->t, &x->te);
                    t_estimate(es, seg, &x->u, &x->ue);
                    memcpy(x->pq, seg, sizeof x->pq);
                    double td = xpoint(seg, es, &on_e, &sw);
                    const double *d = on_e ? es : seg;
                    double sx = d[sw ? 2 : 0], sy = d[sw ? 3 : 1];
                    double fx = d[sw ? 0 : 2], fy = d[sw ? 1 : 3];
                    x->lx = (sx - ox) + td * (fx - sx);
                    x->ly = (sy - oy) + td * (fy - sy);
                    x->px = sx + td * (fx - sx);
                    x->py = sy + td * (fy - sy);
                    x->e = id;
                    x->z = e->z;
                    w->zr[w->nzr++] = *x;
                }
            }
        }
        if (w->nax > 1) {
            if (!OM__GROW(w->tmp, w->cap_tmp, w->nax * sizeof *w->ax)) {
                return om__enomem(err, NULL);
            }
            struct edge_ctx ec = {k, {px, py, qx, qy}, 0};
            msort(w->ax, w->nax, sizeof *w->ax, cmp_along_a, &ec, w->tmp);
        }
        for (size_t m = 0; m < w->nax && st == OM_OK; m++) {
            const struct zrec *x = &w->ax[m];
            st = walk_to(w, &wk, x->lx, x->ly, x->px, x->py, true, err);
            struct term t = walk_take(&wk);
            if (st == OM_OK && (!flush_a(w, &t) ||
                                !anchors_at(w, &wk, k->e[x->e].layer, NULL) ||
                                !ids_toggle(&w->cur, x->z))) {
                return om__enomem(err, NULL);
            }
        }
        if (st == OM_OK) {
            st = walk_to(w, &wk, qx - ox, qy - oy, qx, qy, true, err);
        }
        if (st == OM_OK && !anchors_at(w, &wk, NOLAYER, NULL)) {
            return om__enomem(err, NULL);
        }
    }
    if (st != OM_OK) {
        return st;
    }
    struct term t = walk_take(&wk);
    if (oom || !flush_a(w, &t)) {
        return om__enomem(err, NULL);
    }
    if (w->cur.n != n0 || (uint32_t)ids_hash(w->cur.v, w->cur.n) != h0) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "area kernel: feature %lld: a ring does not close "
                         "on the zones it started in",
                         (long long)fid);
    }
    return OM_OK;
}

/* The integral along zone edge id inside a; its crossings with a are
 * zr[r0 .. r1) (sorted along it). */
static enum om_status walk_zone_edge(struct om__ak_work *w,
                                     const struct om_layer_view *av, size_t f,
                                     uint32_t id, size_t r0, size_t r1,
                                     struct om_rect bb, double ox, double oy,
                                     int *carry, struct om_error *err)
{
    const struct om__ak *k = w->k;
    const struct zedge *e = &k->e[id];
    bool in;
    bool within =
        dmin(e->x0, e->x1) >= bb.minx && dmax(e->x0, e->x1) <= bb.maxx &&
        dmin(e->y0, e->y1) >= bb.miny && dmax(e->y0, e->y1) <= bb.maxy;
    if (*carry >= 0) {
        in = *carry != 0; /* the end of the previous edge of the ring */
    } else if (r0 == r1) {
        /* no crossing with a: all inside a (so inside its box) or out */
        in = within && pip(av, f, e->x0, e->y0, e->z + 1);
    } else {
        in = e->x0 >= bb.minx && e->x0 <= bb.maxx && e->y0 >= bb.miny &&
             e->y0 <= bb.maxy && pip(av, f, e->x0, e->y0, e->z + 1);
    }
    *carry = (int)(in ^ ((r1 - r0) & 1));
    if (!in && r0 == r1) {
        return OM_OK;
    }
    if (!ids_load(&w->cur, k, e->set0)) {
        return om__enomem(err, NULL);
    }
    struct walk wk;
    /* a B edge meets crossings of its own layer and units only */
    walk_start(w, &wk, e->x0 - ox, e->y0 - oy, e->x0, e->y0, e->sign,
               e->layer == NOLAYER);
    double es[4];
    zedge_seg(e, es);
    enum om_status st = OM_OK;
    size_t ia = r0, iz = k->xoff[id], zend = k->xoff[id + 1];
    while ((ia < r1 || iz < zend) && st == OM_OK) {
        double zx = 0.0, zy = 0.0, zax = 0.0, zay = 0.0;
        if (iz < zend) {
            const struct xing *x = &k->x[iz];
            const struct zedge *d = &k->e[x->e & ~REV];
            bool sw = (x->e & REV) != 0;
            double sx = sw ? d->x1 : d->x0, sy = sw ? d->y1 : d->y0;
            double fx = sw ? d->x0 : d->x1, fy = sw ? d->y0 : d->y1;
            zx = (sx - ox) + x->td * (fx - sx);
            zy = (sy - oy) + x->td * (fy - sy);
            zax = sx + x->td * (fx - sx);
            zay = sy + x->td * (fy - sy);
        }
        bool take_a = iz >= zend;
        if (!take_a && ia < r1) {
            const struct xing *x = &k->x[iz];
            double os[4];
            zedge_seg(&k->e[x->o], os);
            take_a =
                (w->zr[ia].lx == zx && w->zr[ia].ly == zy) ||
                order_along(es, e->z + 1, w->zr[ia].u, w->zr[ia].ue,
                            w->zr[ia].pq, 0, x->t, x->te, os, x->z + 1) <= 0;
        }
        if (take_a) {
            const struct zrec *x = &w->zr[ia];
            st = walk_to(w, &wk, x->lx, x->ly, x->px, x->py, in, err);
        } else {
            st = walk_to(w, &wk, zx, zy, zax, zay, in, err);
        }
        if (in && st == OM_OK) {
            struct term t = walk_take(&wk);
            if (!flush_zone(w, e, &t, SIZE_MAX)) {
                return om__enomem(err, NULL);
            }
        }
        if (take_a) {
            if (in && !anchors_at(w, &wk, NOLAYER, e)) {
                return om__enomem(err, NULL);
            }
            if (!in) {
                anchors_reset(w, &wk);
            }
            in = !in;
            ia++;
        } else {
            if ((in && !anchors_at(w, &wk, k->e[k->x[iz].o].layer, e)) ||
                !ids_toggle(&w->cur, k->x[iz].z)) {
                return om__enomem(err, NULL);
            }
            iz++;
        }
    }
    if (st == OM_OK && in) {
        st = walk_to(w, &wk, e->x1 - ox, e->y1 - oy, e->x1, e->y1, true, err);
        struct term t = walk_take(&wk);
        if (st == OM_OK && (!flush_zone(w, e, &t, SIZE_MAX) ||
                            !anchors_at(w, &wk, NOLAYER, e))) {
            return om__enomem(err, NULL);
        }
    }
    return st;
}

static int cmp_region(const void *x, const void *y)
{
    const struct om__ak_region *a = x, *b = y;
    if (a->layer != b->layer) {
        return a->layer < b->layer ? -1 : 1;
    }
    if (a->b != b->b) {
        return a->b < b->b ? -1 : 1;
    }
    return a->unit < b->unit ? -1 : a->unit > b->unit ? 1 : 0;
}

enum om_status om__ak_feature(struct om__ak_work *w,
                              const struct om_layer_view *av, size_t f,
                              const struct om__ak_region **out, size_t *n,
                              struct om_error *err)
{
    const struct om__ak *k = w->k;
    w->nreg = 0;
    *out = w->reg;
    *n = 0;
    struct om_rect bb = av->bbox[f];
    int64_t fid = av->fid ? av->fid[f] : (int64_t)f;
    bool touches = k->ne > 0 && bb.maxx >= k->gx0 && bb.maxy >= k->gy0 &&
                   bb.minx <= gxat(k, k->nx) && bb.miny <= gyat(k, k->ny);
    size_t i0 = 0, i1 = 0, j0 = 0, j1 = 0;
    if (touches) {
        i0 = col_of(k, bb.minx);
        i1 = col_of(k, bb.maxx);
        j0 = row_of(k, bb.miny);
        j1 = row_of(k, bb.maxy);
    }
    if (!touches || filled_in(k, i0, i1, j0, j1) == 0) {
        /* no zone edge near: the whole feature in the zones of a corner */
        w->cur.n = 0;
        if (touches &&
            !ids_load(&w->cur, k, k->corner[j0 * (k->nx + 1) + i0])) {
            return om__enomem(err, NULL);
        }
        struct term t = {om_feature_area_planar(av, f), 0.0, 0.0, 0};
        if (!add_all(w, &w->cur, &t)) {
            return om__enomem(err, NULL);
        }
        double ell = NAN;
        if (w->area) {
            enum om_status st =
                om_area_feature(w->area, av, f, NULL, &ell, err);
            if (st != OM_OK) {
                return st;
            }
        }
        for (size_t i = 0; i < w->nreg; i++) {
            w->reg[i].planar = w->racc[i].v;
            w->reg[i].ell = ell;
        }
        *out = w->reg;
        *n = w->nreg;
        return OM_OK;
    }
    size_t p0 = av->point_start[av->ring_start[av->part_start[f]]];
    double ox = av->xy[2 * p0], oy = av->xy[2 * p0 + 1];
    w->nzr = 0;
    enum om_status st = OM_OK;
    for (size_t p = av->part_start[f]; st == OM_OK && p < av->part_start[f + 1];
         p++) {
        for (size_t r = av->ring_start[p];
             st == OM_OK && r < av->ring_start[p + 1]; r++) {
            const double *xy = av->xy + 2 * av->point_start[r];
            size_t np = av->point_start[r + 1] - av->point_start[r];
            int sg = ring_sign(xy, np, r == av->ring_start[p]);
            if (sg != 0) {
                st = walk_a_ring(w, xy, np, sg, ox, oy, fid, err);
            }
        }
    }
    if (st != OM_OK) {
        return st;
    }
    /* the zone edges near a, each once, in edge order */
    uint32_t tick = next_tick(w);
    w->ngath = 0;
    for (size_t j = j0; j <= j1; j++) {
        for (size_t c = j * k->nx + i0; c <= j * k->nx + i1; c++) {
            for (uint32_t q = k->cstart[c]; q < k->cstart[c + 1]; q++) {
                uint32_t id = k->cedge[q];
                if (w->stamp[id] == tick) {
                    continue;
                }
                w->stamp[id] = tick;
                const struct zedge *e = &k->e[id];
                if (dmax(e->x0, e->x1) < bb.minx ||
                    dmin(e->x0, e->x1) > bb.maxx ||
                    dmax(e->y0, e->y1) < bb.miny ||
                    dmin(e->y0, e->y1) > bb.maxy) {
                    continue;
                }
                if (!OM__GROW(w->gath, w->cap_gath, w->ngath + 1)) {
                    return om__enomem(err, NULL);
                }
                w->gath[w->ngath++] = id;
            }
        }
    }
    if (w->ngath > 1) {
        if (!OM__GROW(w->tmp, w->cap_tmp, w->ngath * sizeof *w->gath)) {
            return om__enomem(err, NULL);
        }
        sort_u32(w->gath, w->ngath, (uint32_t *)(void *)w->tmp);
    }
    if (w->nzr > 1) {
        if (!OM__GROW(w->tmp, w->cap_tmp, w->nzr * sizeof *w->zr)) {
            return om__enomem(err, NULL);
        }
        msort(w->zr, w->nzr, sizeof *w->zr, cmp_zrec, k, w->tmp);
    }
    size_t r = 0;
    int carry = -1;
    for (size_t g = 0; st == OM_OK && g < w->ngath; g++) {
        uint32_t id = w->gath[g];
        const struct zedge *e = &k->e[id];
        if (g == 0 || w->gath[g - 1] + 1 != id || e[-1].x1 != e->x0 ||
            e[-1].y1 != e->y0) {
            carry = -1; /* not the next edge of the same ring */
        }
        while (r < w->nzr && w->zr[r].e < id) {
            r++;
        }
        size_t r1 = r;
        while (r1 < w->nzr && w->zr[r1].e == id) {
            r1++;
        }
        st = walk_zone_edge(w, av, f, id, r, r1, bb, ox, oy, &carry, err);
        r = r1;
    }
    if (st != OM_OK) {
        return st;
    }
    for (size_t i = 0; i < w->nreg; i++) {
        const struct term *t = &w->racc[i];
        w->reg[i].planar = t->v;
        w->reg[i].ell =
            w->area ? om_area_finish(w->area, t->s + t->c, t->tr) : NAN;
    }
    if (w->nreg > 1) {
        qsort(w->reg, w->nreg, sizeof *w->reg, cmp_region);
    }
    *out = w->reg;
    *n = w->nreg;
    return OM_OK;
}
