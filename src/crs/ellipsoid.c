/*
 * ellipsoid.c — struct om_area_ctx: areas on the ellipsoid. Vertices are
 * taken back to longitude/latitude on the CRS's own geodetic base (for a
 * projected CRS: the exact inverse projection, no datum shift) and the ring
 * is measured as a geodesic polygon with PROJ's copy of GeographicLib
 * (geod_polygon_*), which is what GeographicLib's Planimeter computes.
 */
#include "core/core.h"
#include "crs/crs_int.h"

#include "onemap/geom.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#define PI 3.14159265358979323846
#define DEG_PER_RAD (180.0 / PI)

struct om_area_ctx {
    struct om__pj pj; /* first: its address is given to PROJ */
    PJ *op;           /* CRS -> lon/lat (normalised); NULL if geographic */
    bool is_geographic;
    double to_deg; /* angular unit of the lon/lat values -> degrees */
    struct geod_geodesic geod;
    double *buf; /* scratch: one ring in lon/lat */
    size_t cap;
};

void om_area_ctx_free(struct om_area_ctx *ctx)
{
    if (!ctx) {
        return;
    }
    proj_destroy(ctx->op);
    om__pj_deinit(&ctx->pj);
    om__free(ctx->buf);
    om__free(ctx);
}

/* Degrees per angular unit of a geographic CRS's first axis; 0 on error. */
static double unit_to_deg(struct om__pj *pj, PJ *geog)
{
    PJ *cs = proj_crs_get_coordinate_system(pj->ctx, geog);
    double conv = 0.0;
    if (!cs || !proj_cs_get_axis_info(pj->ctx, cs, 0, NULL, NULL, NULL, &conv,
                                      NULL, NULL, NULL)) {
        conv = 0.0;
    }
    proj_destroy(cs);
    if (!(conv > 0.0)) {
        return 0.0;
    }
    /* Degrees stay exact: 1, not conv * 180 / pi. */
    if (fabs(conv * DEG_PER_RAD - 1.0) <= 1e-14) {
        return 1.0;
    }
    return conv * DEG_PER_RAD;
}

enum om_status om_area_ctx_new(const struct om_crs *crs,
                               struct om_area_ctx **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_area_ctx_new: out is NULL");
    }
    *out = NULL;
    if (!crs) {
        return om__error(err, OM_ECRS, NULL, 0, -1,
                         "cannot compute ellipsoidal areas without a CRS");
    }
    struct om_area_ctx *c = om__calloc(1, sizeof *c);
    if (!c) {
        return om__enomem(err, NULL);
    }
    enum om_status st = om__pj_init(&c->pj, err);
    if (st != OM_OK) {
        om__free(c);
        return st;
    }
    c->is_geographic = om_crs_is_geographic(crs);
    geod_init(&c->geod, crs->ell_a, crs->ell_f);

    char why[256];
    PJ *obj = om__pj_crs(&c->pj, crs);
    PJ *base = obj ? om__pj_base(&c->pj, obj) : NULL;
    PJ *geog = base ? proj_crs_get_geodetic_crs(c->pj.ctx, base) : NULL;
    PJ *op = NULL;
    if (!geog) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "CRS '%s': cannot find its geographic base CRS: %s",
                       om_crs_name(crs), om__pj_why(&c->pj, why, sizeof why));
        goto out;
    }
    c->to_deg = unit_to_deg(&c->pj, geog);
    if (c->to_deg == 0.0) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "CRS '%s': the angular unit of its geographic base "
                       "CRS is unknown",
                       om_crs_name(crs));
        goto out;
    }
    if (!c->is_geographic) {
        op = proj_create_crs_to_crs_from_pj(c->pj.ctx, base, geog, NULL, NULL);
        c->op = op ? proj_normalize_for_visualization(c->pj.ctx, op) : NULL;
        if (!c->op) {
            st = om__error(err, OM_ECRS, NULL, 0, -1,
                           "CRS '%s': no inverse projection to longitude/"
                           "latitude: %s",
                           om_crs_name(crs),
                           om__pj_why(&c->pj, why, sizeof why));
        }
    }
out:
    proj_destroy(op);
    proj_destroy(geog);
    proj_destroy(base);
    proj_destroy(obj);
    if (st != OM_OK) {
        om_area_ctx_free(c);
        return st;
    }
    *out = c;
    return OM_OK;
}

/*
 * n points of the CRS -> {lon, lat} in degrees into `ll` (2n doubles; may be
 * `xy`). `source`/`fid` only for the error.
 */
static enum om_status to_lonlat(struct om_area_ctx *ctx, const double *xy,
                                size_t n, double *ll, const char *source,
                                int64_t fid, struct om_error *err)
{
    if (ctx->op) {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) {
                return om__error(err, OM_ECRS, source, 0, fid,
                                 "point %zu (%.17g, %.17g) is not finite", i,
                                 xy[2 * i], xy[2 * i + 1]);
            }
        }
    }
    if (ll != xy) {
        memcpy(ll, xy, 2 * n * sizeof *xy);
    }
    if (ctx->op && n > 0) {
        proj_errno_reset(ctx->op);
        proj_trans_generic(ctx->op, PJ_FWD, ll, 2 * sizeof(double), n, ll + 1,
                           2 * sizeof(double), n, NULL, 0, 0, NULL, 0, 0);
    }
    double k = ctx->to_deg;
    for (size_t i = 0; i < n; i++) {
        double lon = ll[2 * i] * k, lat = ll[2 * i + 1] * k;
        if (!isfinite(lon) || !isfinite(lat) || fabs(lat) > 90.0) {
            char why[256];
            const char *reason = ctx->op ? om__pj_why(&ctx->pj, why, sizeof why)
                                         : "latitude beyond 90 degrees";
            if (ll == xy) { /* converted in place: the input point is gone */
                return om__error(err, OM_ECRS, source, 0, fid,
                                 "point %zu has no valid longitude/latitude "
                                 "(%s)",
                                 i, reason);
            }
            return om__error(err, OM_ECRS, source, 0, fid,
                             "point %zu (%.17g, %.17g) has no valid "
                             "longitude/latitude (%s)",
                             i, xy[2 * i], xy[2 * i + 1], reason);
        }
        ll[2 * i] = lon;
        ll[2 * i + 1] = lat;
    }
    return OM_OK;
}

/* Signed area of a ring; `source`/`fid` only for the error. */
static enum om_status ring_area(struct om_area_ctx *ctx, const double *xy,
                                size_t n, double *area, const char *source,
                                int64_t fid, struct om_error *err)
{
    *area = 0.0;
    /* The closing point adds a zero-length edge: leave it out. */
    if (n >= 2 && xy[0] == xy[2 * n - 2] && xy[1] == xy[2 * n - 1]) {
        n--;
    }
    if (n < 3) {
        return OM_OK;
    }
    if (n > (size_t)INT_MAX) {
        return om__error(err, OM_ELIMIT, source, 0, fid,
                         "ring of %zu points is too long for the geodesic "
                         "area",
                         n);
    }
    if (!OM__GROW(ctx->buf, ctx->cap, 2 * n)) {
        return om__enomem(err, source);
    }
    enum om_status st = to_lonlat(ctx, xy, n, ctx->buf, source, fid, err);
    if (st != OM_OK) {
        return st;
    }
    const double *ll = ctx->buf;
    struct geod_polygon poly;
    geod_polygon_init(&poly, 0);
    for (size_t i = 0; i < n; i++) {
        geod_polygon_addpoint(&ctx->geod, &poly, ll[2 * i + 1], ll[2 * i]);
    }
    double a = 0.0;
    geod_polygon_compute(&ctx->geod, &poly, 0, 1, &a, NULL);
    *area = a;
    return OM_OK;
}

enum om_status om_area_lonlat(struct om_area_ctx *ctx, const double *xy,
                              size_t n, double *lonlat, struct om_error *err)
{
    if (!ctx || (n && (!xy || !lonlat))) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_area_lonlat: NULL argument");
    }
    return to_lonlat(ctx, xy, n, lonlat, NULL, -1, err);
}

/* Longitude reduced to (-180, 180], as GeographicLib reduces it. */
static double lon_reduce(double lon)
{
    lon = remainder(lon, 360.0);
    return lon != -180.0 ? lon : 180.0;
}

/*
 * The direction in longitude of the shorter way from lon1 to lon2 (both
 * reduced): +1 east, -1 west, 0 the same meridian; exactly 180 apart counts
 * as east, as GeographicLib's AngDiff. The difference is split exactly into
 * d + e (two-sum) so that a difference a rounding away from ±180 still
 * gets its true side.
 */
static int lon_direction(double lon1, double lon2)
{
    double d = lon2 - lon1;
    double bv = d - lon2;
    double e = (lon2 - (d - bv)) + (-lon1 - bv);
    /* lon2 - lon1 = d + e exactly, in (-360, 360). */
    if (d > 180.0 || (d == 180.0 && e > 0.0)) {
        return -1; /* more than half a turn east: the short way is west */
    }
    if (d < -180.0 || (d == -180.0 && e <= 0.0)) {
        return 1;
    }
    return d > 0.0 ? 1 : (d < 0.0 ? -1 : 0); /* d == 0 implies e == 0 */
}

/*
 * Transits of the prime meridian, with the cut between (-180, 0] and
 * (0, 180]: the sum over a closed loop has the parity of the number of
 * times the loop winds around a pole, whichever edges it is cut into.
 */
static int prime_transit(double lon1, double lon2)
{
    lon1 = lon_reduce(lon1);
    lon2 = lon_reduce(lon2);
    int dir = lon_direction(lon1, lon2);
    if (lon1 <= 0.0 && lon2 > 0.0 && dir > 0) {
        return 1;
    }
    if (lon1 > 0.0 && lon2 <= 0.0 && dir < 0) {
        return -1;
    }
    return 0;
}

void om_area_edge(const struct om_area_ctx *ctx, const double ll1[2],
                  const double ll2[2], double *s12, int *transit)
{
    double area = 0.0;
    geod_geninverse(&ctx->geod, ll1[1], ll1[0], ll2[1], ll2[0], NULL, NULL,
                    NULL, NULL, NULL, NULL, &area);
    *s12 = area;
    *transit = prime_transit(ll1[0], ll2[0]);
}

double om_area_finish(const struct om_area_ctx *ctx, double sum, long transits)
{
    /* The area of the whole ellipsoid, from the authalic radius² that
     * geod_init computed (c2: a field of the public struct, undocumented;
     * using it keeps area0 bit-identical to geod_polygon_compute's). */
    double area0 = 4 * PI * ctx->geod.c2;
    double a = remainder(sum, area0);
    /* An odd number of transits: the loops wind around a pole, and the sum
     * counts the area between them and the equator from the other side. */
    if (transits % 2 != 0) {
        a += (a < 0.0 ? 1.0 : -1.0) * area0 / 2;
    }
    /* The S12 sum is clockwise-positive; onemap is counter-clockwise. */
    a = -a;
    if (a > area0 / 2) {
        a -= area0;
    } else if (a <= -area0 / 2) {
        a += area0;
    }
    return 0.0 + a;
}

enum om_status om_area_ring_ellipsoidal(struct om_area_ctx *ctx,
                                        const double *xy, size_t npoints,
                                        double *signed_area_m2,
                                        struct om_error *err)
{
    if (!ctx || !signed_area_m2 || (!xy && npoints)) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_area_ring_ellipsoidal: NULL argument");
    }
    enum om_status st =
        ring_area(ctx, xy, npoints, signed_area_m2, NULL, -1, err);
    if (st != OM_OK) {
        *signed_area_m2 = NAN;
    }
    return st;
}

enum om_status om_area_feature(struct om_area_ctx *ctx,
                               const struct om_layer_view *v, size_t feature,
                               double *planar_m2, double *ellipsoidal_m2,
                               struct om_error *err)
{
    if (!ctx || !v || feature >= v->nfeatures) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_area_feature: bad argument");
    }
    if (planar_m2) {
        *planar_m2 =
            ctx->is_geographic ? NAN : om_feature_area_planar(v, feature);
    }
    if (!ellipsoidal_m2) {
        return OM_OK;
    }
    double sum = 0.0;
    int64_t fid = v->fid ? v->fid[feature] : (int64_t)feature;
    for (size_t p = v->part_start[feature]; p < v->part_start[feature + 1];
         p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            double ra;
            enum om_status st =
                ring_area(ctx, v->xy + 2 * a, b - a, &ra, NULL, fid, err);
            if (st != OM_OK) {
                *ellipsoidal_m2 = NAN;
                if (planar_m2) {
                    *planar_m2 = NAN;
                }
                return st;
            }
            sum += r == v->ring_start[p] ? fabs(ra) : -fabs(ra);
        }
    }
    *ellipsoidal_m2 = sum;
    return OM_OK;
}
