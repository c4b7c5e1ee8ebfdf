/*
 * geos.c — the GEOS bridge: validity, repair, intersection and prepared
 * predicates over flat layer features (contract in onemap/polyops.h).
 *
 * The only file of onemap that includes <geos_c.h>. It uses the reentrant
 * _r API only, with one GEOS context per struct om_polyops whose error and
 * notice handlers write into that struct (no global buffer). GEOS objects
 * live only for the duration of one call (or inside an om_prepared).
 *
 * Features are converted straight from the layer's coordinate array with
 * GEOSCoordSeq_copyFromBuffer_r; results go back through
 * GEOSCoordSeq_copyToBuffer_r into a scratch buffer owned by the context.
 */
#include "geom/polyops_int.h"
#include "geom/setops.h"
#include "geom/valid_fast.h"
#include "onemap/polyops.h"

#include "core/core.h"

#include <geos_c.h>

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <string.h>

/*
 * GEOS is loaded when first needed (dlopen), not when a program starts: it
 * and the C++ runtime it needs cost every onemap command 6 ms at start,
 * and imports of valid data (proven valid without GEOS) and overlays by
 * the area kernel of small control lines never call it. A context's GEOS
 * handle is made at its first GEOS operation (need_geos). Every GEOS
 * function this file calls goes through the table below; one missing from
 * GEOS_FUNCS fails to link (the library is not linked with GEOS).
 */
#define GEOS_FUNCS(X)                                                          \
    X(GEOSArea_r)                                                              \
    X(GEOSClipByRect_r)                                                        \
    X(GEOSContext_setErrorMessageHandler_r)                                    \
    X(GEOSContext_setNoticeMessageHandler_r)                                   \
    X(GEOSCoordSeq_copyFromBuffer_r)                                           \
    X(GEOSCoordSeq_copyToBuffer_r)                                             \
    X(GEOSCoordSeq_getSize_r)                                                  \
    X(GEOSDifference_r)                                                        \
    X(GEOSFree_r)                                                              \
    X(GEOSGeomGetX_r)                                                          \
    X(GEOSGeomGetY_r)                                                          \
    X(GEOSGeomTypeId_r)                                                        \
    X(GEOSGeom_clone_r)                                                        \
    X(GEOSGeom_createCollection_r)                                             \
    X(GEOSGeom_createEmptyPolygon_r)                                           \
    X(GEOSGeom_createLineString_r)                                             \
    X(GEOSGeom_createLinearRing_r)                                             \
    X(GEOSGeom_createPolygon_r)                                                \
    X(GEOSGeom_createRectangle_r)                                              \
    X(GEOSGeom_destroy_r)                                                      \
    X(GEOSGeom_getCoordSeq_r)                                                  \
    X(GEOSGeom_getXMax_r)                                                      \
    X(GEOSGeom_getXMin_r)                                                      \
    X(GEOSGeom_getYMax_r)                                                      \
    X(GEOSGeom_getYMin_r)                                                      \
    X(GEOSGetExteriorRing_r)                                                   \
    X(GEOSGetGeometryN_r)                                                      \
    X(GEOSGetInteriorRingN_r)                                                  \
    X(GEOSGetNumCoordinates_r)                                                 \
    X(GEOSGetNumGeometries_r)                                                  \
    X(GEOSGetNumInteriorRings_r)                                               \
    X(GEOSIntersection_r)                                                      \
    X(GEOSMakeValidParams_create_r)                                            \
    X(GEOSMakeValidParams_destroy_r)                                           \
    X(GEOSMakeValidParams_setKeepCollapsed_r)                                  \
    X(GEOSMakeValidParams_setMethod_r)                                         \
    X(GEOSMakeValidWithParams_r)                                               \
    X(GEOSPointOnSurface_r)                                                    \
    X(GEOSPolygonize_r)                                                        \
    X(GEOSPrepare_r)                                                           \
    X(GEOSPreparedCovers_r)                                                    \
    X(GEOSPreparedGeom_destroy_r)                                              \
    X(GEOSPreparedIntersects_r)                                                \
    X(GEOSRelatePattern_r)                                                     \
    X(GEOSUnaryUnion_r)                                                        \
    X(GEOS_finish_r)                                                           \
    X(GEOS_init_r)                                                             \
    X(GEOSisEmpty_r)                                                           \
    X(GEOSisValidDetail_r)                                                     \
    X(GEOSisValid_r)                                                           \
    X(GEOSversion)

static struct geos_api {
#define GEOS_MEMBER(f) __typeof__(f) *f;
    GEOS_FUNCS(GEOS_MEMBER)
#undef GEOS_MEMBER
} api;
static const char *const api_names[] = {
#define GEOS_NAME(f) #f,
    GEOS_FUNCS(GEOS_NAME)
#undef GEOS_NAME
};
enum { API_N = sizeof api_names / sizeof api_names[0] };
_Static_assert(sizeof api == API_N * sizeof(void (*)(void)),
               "geos_api holds one function pointer per name");

#define GEOSArea_r (api.GEOSArea_r)
#define GEOSClipByRect_r (api.GEOSClipByRect_r)
#define GEOSContext_setErrorMessageHandler_r                                   \
    (api.GEOSContext_setErrorMessageHandler_r)
#define GEOSContext_setNoticeMessageHandler_r                                  \
    (api.GEOSContext_setNoticeMessageHandler_r)
#define GEOSCoordSeq_copyFromBuffer_r (api.GEOSCoordSeq_copyFromBuffer_r)
#define GEOSCoordSeq_copyToBuffer_r (api.GEOSCoordSeq_copyToBuffer_r)
#define GEOSCoordSeq_getSize_r (api.GEOSCoordSeq_getSize_r)
#define GEOSDifference_r (api.GEOSDifference_r)
#define GEOSFree_r (api.GEOSFree_r)
#define GEOSGeomGetX_r (api.GEOSGeomGetX_r)
#define GEOSGeomGetY_r (api.GEOSGeomGetY_r)
#define GEOSGeomTypeId_r (api.GEOSGeomTypeId_r)
#define GEOSGeom_clone_r (api.GEOSGeom_clone_r)
#define GEOSGeom_createCollection_r (api.GEOSGeom_createCollection_r)
#define GEOSGeom_createEmptyPolygon_r (api.GEOSGeom_createEmptyPolygon_r)
#define GEOSGeom_createLineString_r (api.GEOSGeom_createLineString_r)
#define GEOSGeom_createLinearRing_r (api.GEOSGeom_createLinearRing_r)
#define GEOSGeom_createPolygon_r (api.GEOSGeom_createPolygon_r)
#define GEOSGeom_createRectangle_r (api.GEOSGeom_createRectangle_r)
#define GEOSGeom_destroy_r (api.GEOSGeom_destroy_r)
#define GEOSGeom_getCoordSeq_r (api.GEOSGeom_getCoordSeq_r)
#define GEOSGeom_getXMax_r (api.GEOSGeom_getXMax_r)
#define GEOSGeom_getXMin_r (api.GEOSGeom_getXMin_r)
#define GEOSGeom_getYMax_r (api.GEOSGeom_getYMax_r)
#define GEOSGeom_getYMin_r (api.GEOSGeom_getYMin_r)
#define GEOSGetExteriorRing_r (api.GEOSGetExteriorRing_r)
#define GEOSGetGeometryN_r (api.GEOSGetGeometryN_r)
#define GEOSGetInteriorRingN_r (api.GEOSGetInteriorRingN_r)
#define GEOSGetNumCoordinates_r (api.GEOSGetNumCoordinates_r)
#define GEOSGetNumGeometries_r (api.GEOSGetNumGeometries_r)
#define GEOSGetNumInteriorRings_r (api.GEOSGetNumInteriorRings_r)
#define GEOSIntersection_r (api.GEOSIntersection_r)
#define GEOSMakeValidParams_create_r (api.GEOSMakeValidParams_create_r)
#define GEOSMakeValidParams_destroy_r (api.GEOSMakeValidParams_destroy_r)
#define GEOSMakeValidParams_setKeepCollapsed_r                                 \
    (api.GEOSMakeValidParams_setKeepCollapsed_r)
#define GEOSMakeValidParams_setMethod_r (api.GEOSMakeValidParams_setMethod_r)
#define GEOSMakeValidWithParams_r (api.GEOSMakeValidWithParams_r)
#define GEOSPointOnSurface_r (api.GEOSPointOnSurface_r)
#define GEOSPolygonize_r (api.GEOSPolygonize_r)
#define GEOSPrepare_r (api.GEOSPrepare_r)
#define GEOSPreparedCovers_r (api.GEOSPreparedCovers_r)
#define GEOSPreparedGeom_destroy_r (api.GEOSPreparedGeom_destroy_r)
#define GEOSPreparedIntersects_r (api.GEOSPreparedIntersects_r)
#define GEOSRelatePattern_r (api.GEOSRelatePattern_r)
#define GEOSUnaryUnion_r (api.GEOSUnaryUnion_r)
#define GEOS_finish_r (api.GEOS_finish_r)
#define GEOS_init_r (api.GEOS_init_r)
#define GEOSisEmpty_r (api.GEOSisEmpty_r)
#define GEOSisValidDetail_r (api.GEOSisValidDetail_r)
#define GEOSisValid_r (api.GEOSisValid_r)
#define GEOSversion (api.GEOSversion)

#ifndef OM_GEOS_SONAME
#define OM_GEOS_SONAME "libgeos_c.so"
#endif
const char *om__geos_soname = OM_GEOS_SONAME;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

/* The library and every function of the table (names by stringizing,
 * which does not expand the macros above). */
static void load_geos(void)
{
    loaded = om__dl_load("GEOS", om__geos_soname, api_names, API_N, &api,
                         load_error, sizeof load_error);
}

/* GEOS loaded, or OM_EIO naming the library. */
static enum om_status load(struct om_error *err)
{
    pthread_once(&load_once, load_geos);
    if (!loaded) {
        return om__error(err, OM_EIO, NULL, 0, -1, "%s", load_error);
    }
    return OM_OK;
}

struct om_polyops {
    GEOSContextHandle_t h;
    unsigned dropped;     /* OM_DROPPED_* of the last operation */
    char gmsg[256];       /* last GEOS error message */
    char notice[256];     /* last GEOS notice */
    double *buf;          /* scratch coordinates (x,y pairs) */
    size_t cap_buf;       /* in doubles */
    GEOSGeometry **holes; /* scratch hole array for one polygon */
    size_t cap_holes;
};

struct om_prepared {
    GEOSGeometry *g;
    const GEOSPreparedGeometry *pg;
    struct om_rect box; /* of the finite points; empty for an empty feature */
    int64_t fid;
};

/* Conversion modes of build(). */
enum build_mode {
    BUILD_STRICT, /* reject non-finite, unclosed or too-short rings */
    BUILD_CLEAN   /* drop non-finite points, then degenerate rings */
};

/* ---- GEOS message handlers ---- */

static void on_geos_error(const char *message, void *userdata)
{
    struct om_polyops *ctx = userdata;
    om__strlcpy(ctx->gmsg, message ? message : "unknown GEOS error",
                sizeof ctx->gmsg);
}

static void on_geos_notice(const char *message, void *userdata)
{
    struct om_polyops *ctx = userdata;
    om__strlcpy(ctx->notice, message ? message : "", sizeof ctx->notice);
}

static const char *geos_msg(const struct om_polyops *ctx)
{
    return ctx->gmsg[0] ? ctx->gmsg : "GEOS failed without a message";
}

/* ---- context ---- */

enum om_status om_polyops_new(struct om_polyops **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_new: out is NULL");
    }
    *out = NULL;
    struct om_polyops *ctx = om__calloc(1, sizeof *ctx);
    if (!ctx) {
        return om__enomem(err, NULL);
    }
    *out = ctx;
    return OM_OK;
}

/* The context's GEOS handle, made at its first GEOS operation. */
static enum om_status need_geos(struct om_polyops *ctx, struct om_error *err)
{
    if (ctx->h) {
        return OM_OK;
    }
    enum om_status st = load(err);
    if (st != OM_OK) {
        return st;
    }
    ctx->h = GEOS_init_r();
    if (!ctx->h) {
        return om__error(err, OM_ENOMEM, NULL, 0, -1,
                         "cannot create a GEOS context");
    }
    GEOSContext_setErrorMessageHandler_r(ctx->h, on_geos_error, ctx);
    GEOSContext_setNoticeMessageHandler_r(ctx->h, on_geos_notice, ctx);
    return OM_OK;
}

void om_polyops_free(struct om_polyops *ctx)
{
    if (!ctx) {
        return;
    }
    if (ctx->h) {
        GEOS_finish_r(ctx->h);
    }
    om__free(ctx->buf);
    om__free(ctx->holes);
    om__free(ctx);
}

const char *om_polyops_geos_version(void)
{
    return load(NULL) == OM_OK ? GEOSversion() : "unavailable";
}

unsigned om_polyops_last_dropped(const struct om_polyops *ctx)
{
    return ctx ? ctx->dropped : 0;
}

/* ---- flat-array helpers ---- */

static int64_t fid_of(const struct om_layer_view *v, size_t f)
{
    return v->fid ? v->fid[f] : (int64_t)f;
}

static enum om_status check_args(const struct om_polyops *ctx,
                                 const struct om_layer_view *v, size_t f,
                                 const char *fn, struct om_error *err)
{
    if (!ctx || !v) {
        return om__error(err, OM_EINVAL, NULL, 0, -1, "%s: NULL argument", fn);
    }
    if (f >= v->nfeatures) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "%s: feature index %zu out of range (layer has "
                         "%zu features)",
                         fn, f, v->nfeatures);
    }
    return OM_OK;
}

static bool same_pt(const double *a, const double *b)
{
    return a[0] == b[0] && a[1] == b[1];
}

/*
 * True if a ring of n points has fewer than 4 points once consecutive
 * repeats are removed (GEOS's rule) or fewer than 3 distinct points (then
 * it has no area whatever its length).
 */
static bool ring_too_few(const double *xy, size_t n)
{
    size_t nonrep = 0;
    const double *a = NULL, *b = NULL;
    bool has_c = false;
    for (size_t i = 0; i < n; i++) {
        const double *p = xy + 2 * i;
        if (i == 0 || !same_pt(p, p - 2)) {
            nonrep++;
        }
        if (!a) {
            a = p;
        } else if (!b) {
            if (!same_pt(p, a)) {
                b = p;
            }
        } else if (!has_c && !same_pt(p, a) && !same_pt(p, b)) {
            has_c = true;
        }
    }
    return nonrep < 4 || !has_c;
}

static bool ring_closed(const double *xy, size_t n)
{
    return n >= 1 && same_pt(xy, xy + 2 * (n - 1));
}

static bool ensure_buf(struct om_polyops *ctx, size_t ndoubles)
{
    return OM__GROW(ctx->buf, ctx->cap_buf, ndoubles);
}

/* ---- flat feature -> GEOS ---- */

/*
 * One ring as a GEOS LinearRing. In BUILD_STRICT mode a bad ring is an
 * error; in BUILD_CLEAN mode non-finite points are dropped (the ring is
 * closed again if needed) and a ring left degenerate gives *ring = NULL
 * with OM_OK.
 */
static enum om_status build_ring(struct om_polyops *ctx,
                                 const struct om_layer_view *v, size_t f,
                                 size_t r, enum build_mode mode,
                                 GEOSGeometry **ring, struct om_error *err)
{
    *ring = NULL;
    size_t p0 = v->point_start[r], n = v->point_start[r + 1] - p0;
    size_t rf = r - v->ring_start[v->part_start[f]]; /* for messages */
    const double *xy = v->xy + 2 * p0;
    if (n > UINT_MAX - 1) {
        return om__error(err, OM_ELIMIT, NULL, 0, fid_of(v, f),
                         "ring %zu has %zu points, more than GEOS takes", rf,
                         n);
    }
    if (mode == BUILD_STRICT) {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(xy[2 * i]) || !isfinite(xy[2 * i + 1])) {
                return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                                 "feature %lld has a non-finite coordinate "
                                 "(point %zu of ring %zu); repair it first",
                                 (long long)fid_of(v, f), i, rf);
            }
        }
        if (n < 4 || !ring_closed(xy, n)) {
            return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                             "feature %lld: ring %zu is %s (%zu points)",
                             (long long)fid_of(v, f), rf,
                             n < 4 ? "too short" : "not closed", n);
        }
    } else {
        size_t nfin = 0;
        for (size_t i = 0; i < n; i++) {
            nfin += isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]);
        }
        if (nfin < n || !ring_closed(xy, n)) {
            if (!ensure_buf(ctx, 2 * (nfin + 1))) {
                return om__enomem(err, NULL);
            }
            size_t m = 0;
            for (size_t i = 0; i < n; i++) {
                if (isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1])) {
                    ctx->buf[2 * m] = xy[2 * i];
                    ctx->buf[2 * m + 1] = xy[2 * i + 1];
                    m++;
                }
            }
            if (nfin < n) {
                ctx->dropped |= OM_DROPPED_NONFINITE;
            }
            if (m > 0 && !ring_closed(ctx->buf, m)) {
                ctx->buf[2 * m] = ctx->buf[0];
                ctx->buf[2 * m + 1] = ctx->buf[1];
                m++;
            }
            xy = ctx->buf;
            n = m;
        }
        if (ring_too_few(xy, n)) {
            ctx->dropped |= OM_DROPPED_DEGENERATE;
            return OM_OK;
        }
    }
    ctx->gmsg[0] = '\0';
    GEOSCoordSequence *seq =
        GEOSCoordSeq_copyFromBuffer_r(ctx->h, xy, (unsigned)n, 0, 0);
    GEOSGeometry *g = seq ? GEOSGeom_createLinearRing_r(ctx->h, seq) : NULL;
    if (!g) {
        /* On failure GEOS has freed the sequence it was given. */
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                         "feature %lld: cannot build ring %zu: %s",
                         (long long)fid_of(v, f), rf, geos_msg(ctx));
    }
    *ring = g;
    return OM_OK;
}

static void destroy_all(struct om_polyops *ctx, GEOSGeometry **gs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        GEOSGeom_destroy_r(ctx->h, gs[i]);
    }
}

static bool ring_empty(const struct om_layer_view *v, size_t r)
{
    return v->point_start[r] == v->point_start[r + 1];
}

/*
 * One part as a GEOS Polygon; *poly = NULL if the part is dropped or empty.
 * Rings without points are treated as GEOS treats an EMPTY ring: an empty
 * hole is ignored, an empty shell with only empty holes is an empty part.
 */
static enum om_status build_part(struct om_polyops *ctx,
                                 const struct om_layer_view *v, size_t f,
                                 size_t part, enum build_mode mode,
                                 GEOSGeometry **poly, struct om_error *err)
{
    *poly = NULL;
    size_t r0 = v->ring_start[part], r1 = v->ring_start[part + 1];
    if (r0 == r1) {
        if (mode == BUILD_CLEAN) {
            return OM_OK;
        }
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                         "feature %lld: part %zu has no rings",
                         (long long)fid_of(v, f), part - v->part_start[f]);
    }
    if (r1 - r0 > UINT_MAX) {
        return om__error(err, OM_ELIMIT, NULL, 0, fid_of(v, f),
                         "feature %lld: too many holes for GEOS",
                         (long long)fid_of(v, f));
    }
    if (ring_empty(v, r0)) {
        /* An empty shell: GEOS's POLYGON EMPTY if its holes are empty too. */
        for (size_t r = r0 + 1; r < r1; r++) {
            if (!ring_empty(v, r)) {
                if (mode == BUILD_CLEAN) {
                    ctx->dropped |= OM_DROPPED_DEGENERATE;
                    return OM_OK;
                }
                return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                                 "feature %lld: part %zu has an empty shell "
                                 "but holes",
                                 (long long)fid_of(v, f),
                                 part - v->part_start[f]);
            }
        }
        return OM_OK;
    }
    GEOSGeometry *shell = NULL;
    enum om_status st = build_ring(ctx, v, f, r0, mode, &shell, err);
    if (st != OM_OK) {
        return st;
    }
    if (!shell) {
        /* Degenerate shell: its holes have nothing to be holes of. */
        return OM_OK;
    }
    if (!OM__GROW(ctx->holes, ctx->cap_holes, r1 - r0)) {
        GEOSGeom_destroy_r(ctx->h, shell);
        return om__enomem(err, NULL);
    }
    size_t nholes = 0;
    for (size_t r = r0 + 1; r < r1; r++) {
        GEOSGeometry *hole = NULL;
        if (ring_empty(v, r)) {
            continue; /* an empty hole is no hole (as in GEOS) */
        }
        st = build_ring(ctx, v, f, r, mode, &hole, err);
        if (st != OM_OK) {
            GEOSGeom_destroy_r(ctx->h, shell);
            destroy_all(ctx, ctx->holes, nholes);
            return st;
        }
        if (hole) {
            ctx->holes[nholes++] = hole;
        }
    }
    ctx->gmsg[0] = '\0';
    /* Takes ownership of shell and holes, also on failure. */
    GEOSGeometry *g = GEOSGeom_createPolygon_r(
        ctx->h, shell, nholes ? ctx->holes : NULL, (unsigned)nholes);
    if (!g) {
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                         "feature %lld: cannot build polygon: %s",
                         (long long)fid_of(v, f), geos_msg(ctx));
    }
    *poly = g;
    return OM_OK;
}

/*
 * Feature f of v as a GEOS Polygon (one part), MultiPolygon (several) or
 * empty Polygon (none). The caller destroys *out.
 */
static enum om_status build(struct om_polyops *ctx,
                            const struct om_layer_view *v, size_t f,
                            enum build_mode mode, GEOSGeometry **out,
                            struct om_error *err)
{
    *out = NULL;
    enum om_status st = need_geos(ctx, err);
    if (st != OM_OK) {
        return st;
    }
    size_t q0 = v->part_start[f], q1 = v->part_start[f + 1];
    size_t nparts = q1 - q0;
    GEOSGeometry **parts = NULL;
    if (nparts > 1) {
        if (nparts > UINT_MAX) {
            return om__error(err, OM_ELIMIT, NULL, 0, fid_of(v, f),
                             "feature %lld: too many parts for GEOS",
                             (long long)fid_of(v, f));
        }
        parts = om__reallocarray(NULL, nparts, sizeof *parts);
        if (!parts) {
            return om__enomem(err, NULL);
        }
    }
    size_t n = 0;
    GEOSGeometry *single = NULL;
    for (size_t q = q0; q < q1; q++) {
        GEOSGeometry *poly = NULL;
        st = build_part(ctx, v, f, q, mode, &poly, err);
        if (st != OM_OK) {
            if (parts) {
                destroy_all(ctx, parts, n);
            } else {
                GEOSGeom_destroy_r(ctx->h, single);
            }
            om__free(parts);
            return st;
        }
        if (!poly) {
            continue;
        }
        if (parts) {
            parts[n++] = poly;
        } else {
            single = poly;
            n = 1;
        }
    }
    ctx->gmsg[0] = '\0';
    GEOSGeometry *g;
    if (parts && n > 1) {
        /* Takes ownership of the parts, also on failure. */
        g = GEOSGeom_createCollection_r(ctx->h, GEOS_MULTIPOLYGON, parts,
                                        (unsigned)n);
    } else if (n == 1) {
        g = parts ? parts[0] : single;
    } else {
        g = GEOSGeom_createEmptyPolygon_r(ctx->h);
    }
    om__free(parts);
    if (!g) {
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, f),
                         "feature %lld: cannot build geometry: %s",
                         (long long)fid_of(v, f), geos_msg(ctx));
    }
    *out = g;
    return OM_OK;
}

/* ---- GEOS -> layer ---- */

static double ring_signed_area2(const double *xy, size_t n)
{
    /* Shoelace relative to the first point, for accuracy far from 0,0. */
    double s = 0.0, x0 = xy[0], y0 = xy[1];
    for (size_t i = 1; i + 1 < n; i++) {
        s += (xy[2 * i] - x0) * (xy[2 * i + 3] - y0) -
             (xy[2 * i + 2] - x0) * (xy[2 * i + 1] - y0);
    }
    return s;
}

static enum om_status write_ring(struct om_polyops *ctx,
                                 const GEOSGeometry *ring, bool want_ccw,
                                 struct om_layer *dst, int64_t fid,
                                 struct om_error *err)
{
    unsigned n = 0;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(ctx->h, ring);
    if (!seq || !GEOSCoordSeq_getSize_r(ctx->h, seq, &n)) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: cannot read a result ring: %s",
                         (long long)fid, geos_msg(ctx));
    }
    if (!ensure_buf(ctx, 2 * (size_t)n + 2)) {
        return om__enomem(err, NULL);
    }
    if (n && !GEOSCoordSeq_copyToBuffer_r(ctx->h, seq, ctx->buf, 0, 0)) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: cannot copy a result ring: %s",
                         (long long)fid, geos_msg(ctx));
    }
    double a2 = n ? ring_signed_area2(ctx->buf, n) : 0.0;
    if (a2 != 0.0 && (a2 > 0.0) != want_ccw) {
        for (size_t i = 0, j = (size_t)n - 1; i < j; i++, j--) {
            double tx = ctx->buf[2 * i], ty = ctx->buf[2 * i + 1];
            ctx->buf[2 * i] = ctx->buf[2 * j];
            ctx->buf[2 * i + 1] = ctx->buf[2 * j + 1];
            ctx->buf[2 * j] = tx;
            ctx->buf[2 * j + 1] = ty;
        }
    }
    return om_layer_add_ring(dst, ctx->buf, n, err);
}

static enum om_status write_polygon(struct om_polyops *ctx,
                                    const GEOSGeometry *poly,
                                    struct om_layer *dst, int64_t fid,
                                    struct om_error *err)
{
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(ctx->h, poly);
    int nholes = GEOSGetNumInteriorRings_r(ctx->h, poly);
    if (!shell || nholes < 0) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: cannot read a result polygon: %s",
                         (long long)fid, geos_msg(ctx));
    }
    enum om_status st = om_layer_begin_part(dst, err);
    if (st == OM_OK) {
        st = write_ring(ctx, shell, true, dst, fid, err);
    }
    for (int i = 0; st == OM_OK && i < nholes; i++) {
        const GEOSGeometry *hole = GEOSGetInteriorRingN_r(ctx->h, poly, i);
        if (!hole) {
            return om__error(err, OM_EGEOM, NULL, 0, fid,
                             "feature %lld: cannot read a result hole: %s",
                             (long long)fid, geos_msg(ctx));
        }
        st = write_ring(ctx, hole, false, dst, fid, err);
    }
    return st;
}

/* Append the polygons of g to dst; note dropped points and lines. */
static enum om_status write_polys(struct om_polyops *ctx, const GEOSGeometry *g,
                                  struct om_layer *dst, int64_t fid,
                                  unsigned depth, struct om_error *err)
{
    if (GEOSisEmpty_r(ctx->h, g) == 1) {
        return OM_OK;
    }
    int type = GEOSGeomTypeId_r(ctx->h, g);
    switch (type) {
    case GEOS_POLYGON:
        return write_polygon(ctx, g, dst, fid, err);
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: {
        if (depth >= OM_LIMIT_WKB_DEPTH) {
            return om__error(err, OM_ELIMIT, NULL, 0, fid,
                             "feature %lld: GEOS result nested too deep",
                             (long long)fid);
        }
        int n = GEOSGetNumGeometries_r(ctx->h, g);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *sub = GEOSGetGeometryN_r(ctx->h, g, i);
            if (!sub) {
                return om__error(err, OM_EGEOM, NULL, 0, fid,
                                 "feature %lld: cannot read a result "
                                 "part: %s",
                                 (long long)fid, geos_msg(ctx));
            }
            enum om_status st = write_polys(ctx, sub, dst, fid, depth + 1, err);
            if (st != OM_OK) {
                return st;
            }
        }
        return OM_OK;
    }
    case -1:
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: cannot read a result geometry: %s",
                         (long long)fid, geos_msg(ctx));
    default:
        /* Points and lines of a collapse: not polygons. */
        ctx->dropped |= OM_DROPPED_LOWER_DIM;
        return OM_OK;
    }
}

static enum om_status geos_area(struct om_polyops *ctx, const GEOSGeometry *g,
                                int64_t fid, double *area, struct om_error *err)
{
    double a = 0.0;
    ctx->gmsg[0] = '\0';
    if (!GEOSArea_r(ctx->h, g, &a)) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: GEOS area failed: %s", (long long)fid,
                         geos_msg(ctx));
    }
    *area = a;
    return OM_OK;
}

/* ---- validity ---- */

static void set_invalid(struct om_validity *out, const char *reason, double x,
                        double y)
{
    out->is_valid = false;
    om__strlcpy(out->reason, reason, sizeof out->reason);
    out->x = x;
    out->y = y;
}

/* The checks GEOS would miss or fail on; true if one found a problem. */
static bool flat_check(const struct om_layer_view *v, size_t f,
                       struct om_validity *out)
{
    size_t r0 = v->ring_start[v->part_start[f]];
    size_t r1 = v->ring_start[v->part_start[f + 1]];
    for (size_t r = r0; r < r1; r++) {
        size_t p0 = v->point_start[r], p1 = v->point_start[r + 1];
        for (size_t i = p0; i < p1; i++) {
            double x = v->xy[2 * i], y = v->xy[2 * i + 1];
            if (!isfinite(x) || !isfinite(y)) {
                set_invalid(out, "Invalid Coordinate", x, y);
                return true;
            }
        }
    }
    for (size_t r = r0; r < r1; r++) {
        size_t p0 = v->point_start[r], n = v->point_start[r + 1] - p0;
        const double *xy = v->xy + 2 * p0;
        if (n == 0) {
            continue; /* see the part check below */
        }
        if (!ring_closed(xy, n)) {
            set_invalid(out, "Ring is not closed", xy[0], xy[1]);
            return true;
        }
        if (ring_too_few(xy, n)) {
            set_invalid(out, "Too few points", xy[0], xy[1]);
            return true;
        }
    }
    for (size_t q = v->part_start[f]; q < v->part_start[f + 1]; q++) {
        size_t q0 = v->ring_start[q], q1 = v->ring_start[q + 1];
        if (q0 == q1) {
            set_invalid(out, "Too few points", NAN, NAN);
            return true;
        }
        for (size_t r = q0 + 1; r < q1 && ring_empty(v, q0); r++) {
            if (!ring_empty(v, r)) {
                set_invalid(out, "Too few points", NAN, NAN);
                return true;
            }
        }
    }
    return false;
}

enum om_status om_polyops_check(struct om_polyops *ctx,
                                const struct om_layer_view *v, size_t feature,
                                struct om_validity *out, struct om_error *err)
{
    enum om_status st = check_args(ctx, v, feature, "om_polyops_check", err);
    if (st != OM_OK) {
        return st;
    }
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_check: out is NULL");
    }
    out->is_valid = true;
    out->reason[0] = '\0';
    out->x = NAN;
    out->y = NAN;
    if (v->part_start[feature] == v->part_start[feature + 1]) {
        return OM_OK;
    }
    if (flat_check(v, feature, out)) {
        return OM_OK;
    }
    if (om__valid_fast(v, feature)) {
        return OM_OK; /* proven valid exactly: GEOS would agree */
    }
    GEOSGeometry *g = NULL;
    st = build(ctx, v, feature, BUILD_STRICT, &g, err);
    if (st != OM_OK) {
        return st;
    }
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    ctx->gmsg[0] = '\0';
    char rc = GEOSisValidDetail_r(ctx->h, g, 0, &reason, &loc);
    GEOSGeom_destroy_r(ctx->h, g);
    if (rc == 0) {
        double x = NAN, y = NAN;
        if (loc && GEOSisEmpty_r(ctx->h, loc) == 0) {
            if (!GEOSGeomGetX_r(ctx->h, loc, &x) ||
                !GEOSGeomGetY_r(ctx->h, loc, &y)) {
                x = y = NAN;
            }
        }
        set_invalid(out, reason ? reason : "invalid", x, y);
    }
    if (reason) {
        GEOSFree_r(ctx->h, reason);
    }
    if (loc) {
        GEOSGeom_destroy_r(ctx->h, loc);
    }
    if (rc != 0 && rc != 1) {
        out->is_valid = true;
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, feature),
                         "feature %lld: GEOS validity check failed: %s",
                         (long long)fid_of(v, feature), geos_msg(ctx));
    }
    return OM_OK;
}

/* ---- repair ---- */

/*
 * A copy of `poly` without the holes that do not meet its shell, or NULL
 * if GEOS failed (then the caller keeps `poly`). *ndropped counts them.
 */
static GEOSGeometry *without_disjoint_holes(struct om_polyops *ctx,
                                            const GEOSGeometry *poly,
                                            size_t *ndropped)
{
    GEOSContextHandle_t h = ctx->h;
    int nholes = GEOSGetNumInteriorRings_r(h, poly);
    const GEOSGeometry *shell = GEOSGetExteriorRing_r(h, poly);
    if (nholes < 0 || !shell) {
        return NULL;
    }
    GEOSGeometry *ring = GEOSGeom_clone_r(h, shell);
    GEOSGeometry *shellpoly =
        ring ? GEOSGeom_createPolygon_r(h, ring, NULL, 0) : NULL;
    const GEOSPreparedGeometry *pg =
        shellpoly ? GEOSPrepare_r(h, shellpoly) : NULL;
    bool ok = pg && OM__GROW(ctx->holes, ctx->cap_holes, (size_t)nholes + 1);
    size_t nkept = 0;
    for (int i = 0; ok && i < nholes; i++) {
        const GEOSGeometry *hole = GEOSGetInteriorRingN_r(h, poly, i);
        GEOSGeometry *hr = hole ? GEOSGeom_clone_r(h, hole) : NULL;
        GEOSGeometry *hp = hr ? GEOSGeom_createPolygon_r(h, hr, NULL, 0) : NULL;
        char meets = hp ? GEOSPreparedIntersects_r(h, pg, hp) : 2;
        GEOSGeom_destroy_r(h, hp);
        GEOSGeometry *keep =
            meets == 0 ? NULL : GEOSGeom_clone_r(h, hole); /* 2: keep */
        if (meets == 0) {
            (*ndropped)++;
        } else if (!keep) {
            ok = false;
        } else {
            ctx->holes[nkept++] = keep;
        }
    }
    GEOSGeometry *res = NULL;
    if (ok) {
        ring = GEOSGeom_clone_r(h, shell);
        if (ring) {
            res = GEOSGeom_createPolygon_r(h, ring, nkept ? ctx->holes : NULL,
                                           (unsigned)nkept);
            nkept = 0; /* owned by res, or freed by GEOS on failure */
        }
    }
    destroy_all(ctx, ctx->holes, nkept);
    if (pg) {
        GEOSPreparedGeom_destroy_r(h, pg);
    }
    GEOSGeom_destroy_r(h, shellpoly);
    return res;
}

/*
 * GEOS 3.11's STRUCTURE repair turns a hole that does not meet its shell
 * into an island of its own, while it subtracts holes that overlap or
 * touch the shell. The documented meaning of STRUCTURE (shells unioned,
 * holes subtracted) drops such a hole, which is also what a planner
 * expects of a stray hole: it removes nothing. So drop them before the
 * repair. On any GEOS failure here *g is left as it was.
 */
static void drop_disjoint_holes(struct om_polyops *ctx, GEOSGeometry **g)
{
    GEOSContextHandle_t h = ctx->h;
    int type = GEOSGeomTypeId_r(h, *g);
    int n = type == GEOS_POLYGON        ? 1
            : type == GEOS_MULTIPOLYGON ? GEOSGetNumGeometries_r(h, *g)
                                        : 0;
    bool any_holes = false;
    for (int i = 0; i < n && !any_holes; i++) {
        const GEOSGeometry *poly =
            type == GEOS_POLYGON ? *g : GEOSGetGeometryN_r(h, *g, i);
        any_holes = poly && GEOSGetNumInteriorRings_r(h, poly) > 0;
    }
    if (!any_holes) {
        return;
    }
    GEOSGeometry **polys = om__reallocarray(NULL, (size_t)n, sizeof *polys);
    if (!polys) {
        return;
    }
    size_t ndropped = 0;
    int k = 0;
    for (; k < n; k++) {
        const GEOSGeometry *poly =
            type == GEOS_POLYGON ? *g : GEOSGetGeometryN_r(h, *g, k);
        polys[k] = poly ? without_disjoint_holes(ctx, poly, &ndropped) : NULL;
        if (!polys[k]) {
            break;
        }
    }
    GEOSGeometry *res = NULL;
    if (k == n && ndropped > 0) {
        res = type == GEOS_POLYGON
                  ? polys[0]
                  : GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys,
                                                (unsigned)n);
        k = 0; /* owned by res (or freed by GEOS on failure) */
    }
    destroy_all(ctx, polys, (size_t)k);
    om__free(polys);
    if (res) {
        GEOSGeom_destroy_r(h, *g);
        *g = res;
        ctx->dropped |= OM_DROPPED_HOLE;
    }
}

enum om_status om_polyops_make_valid(struct om_polyops *ctx,
                                     const struct om_layer_view *v,
                                     size_t feature, struct om_layer *dst,
                                     double *area_before, double *area_after,
                                     struct om_error *err)
{
    if (area_before) {
        *area_before = NAN;
    }
    if (area_after) {
        *area_after = NAN;
    }
    enum om_status st =
        check_args(ctx, v, feature, "om_polyops_make_valid", err);
    if (st != OM_OK) {
        return st;
    }
    if (!dst) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_make_valid: dst is NULL");
    }
    ctx->dropped = 0;
    int64_t fid = fid_of(v, feature);
    GEOSGeometry *g = NULL;
    st = build(ctx, v, feature, BUILD_CLEAN, &g, err);
    if (st != OM_OK) {
        return st;
    }
    double before = 0.0, after = 0.0;
    st = geos_area(ctx, g, fid, &before, err);
    if (st != OM_OK) {
        GEOSGeom_destroy_r(ctx->h, g);
        return st;
    }
    drop_disjoint_holes(ctx, &g);
    ctx->gmsg[0] = '\0';
    GEOSMakeValidParams *params = GEOSMakeValidParams_create_r(ctx->h);
    GEOSGeometry *res = NULL;
    if (params &&
        GEOSMakeValidParams_setMethod_r(ctx->h, params,
                                        GEOS_MAKE_VALID_STRUCTURE) &&
        GEOSMakeValidParams_setKeepCollapsed_r(ctx->h, params, 0)) {
        res = GEOSMakeValidWithParams_r(ctx->h, g, params);
    }
    if (params) {
        GEOSMakeValidParams_destroy_r(ctx->h, params);
    }
    GEOSGeom_destroy_r(ctx->h, g);
    if (!res) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "feature %lld: GEOS MakeValid failed: %s",
                         (long long)fid, geos_msg(ctx));
    }
    st = write_polys(ctx, res, dst, fid, 0, err);
    if (st == OM_OK) {
        st = geos_area(ctx, res, fid, &after, err);
    }
    GEOSGeom_destroy_r(ctx->h, res);
    if (st != OM_OK) {
        return st;
    }
    if (area_before) {
        *area_before = before;
    }
    if (area_after) {
        *area_after = after;
    }
    return OM_OK;
}

/* ---- intersection and area ---- */

enum om_status om_polyops_intersection(struct om_polyops *ctx,
                                       const struct om_layer_view *a, size_t fa,
                                       const struct om_layer_view *b, size_t fb,
                                       struct om_layer *dst,
                                       double *planar_area,
                                       struct om_error *err)
{
    if (planar_area) {
        *planar_area = NAN;
    }
    enum om_status st =
        check_args(ctx, a, fa, "om_polyops_intersection (A)", err);
    if (st == OM_OK) {
        st = check_args(ctx, b, fb, "om_polyops_intersection (B)", err);
    }
    if (st != OM_OK) {
        return st;
    }
    if (!dst) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_intersection: dst is NULL");
    }
    ctx->dropped = 0;
    int64_t fida = fid_of(a, fa), fidb = fid_of(b, fb);
    GEOSGeometry *ga = NULL, *gb = NULL;
    st = build(ctx, a, fa, BUILD_STRICT, &ga, err);
    if (st != OM_OK) {
        om__error_prefix(err, "intersection, feature A");
        return st;
    }
    st = build(ctx, b, fb, BUILD_STRICT, &gb, err);
    if (st != OM_OK) {
        GEOSGeom_destroy_r(ctx->h, ga);
        om__error_prefix(err, "intersection, feature B");
        return st;
    }
    ctx->gmsg[0] = '\0';
    GEOSGeometry *res = GEOSIntersection_r(ctx->h, ga, gb);
    GEOSGeom_destroy_r(ctx->h, ga);
    GEOSGeom_destroy_r(ctx->h, gb);
    if (!res) {
        return om__error(err, OM_EGEOM, NULL, 0, fida,
                         "intersection of feature %lld (A) and feature %lld "
                         "(B) failed: %s; check both with om_polyops_check "
                         "and repair the invalid one",
                         (long long)fida, (long long)fidb, geos_msg(ctx));
    }
    double area = 0.0;
    st = write_polys(ctx, res, dst, fida, 0, err);
    if (st == OM_OK) {
        st = geos_area(ctx, res, fida, &area, err);
    }
    GEOSGeom_destroy_r(ctx->h, res);
    if (st == OM_OK && planar_area) {
        *planar_area = area;
    }
    return st;
}

enum om_status om_polyops_area(struct om_polyops *ctx,
                               const struct om_layer_view *v, size_t feature,
                               double *area, struct om_error *err)
{
    if (area) {
        *area = NAN;
    }
    enum om_status st = check_args(ctx, v, feature, "om_polyops_area", err);
    if (st != OM_OK) {
        return st;
    }
    GEOSGeometry *g = NULL;
    st = build(ctx, v, feature, BUILD_STRICT, &g, err);
    if (st != OM_OK) {
        return st;
    }
    double a = 0.0;
    st = geos_area(ctx, g, fid_of(v, feature), &a, err);
    GEOSGeom_destroy_r(ctx->h, g);
    if (st == OM_OK && area) {
        *area = a;
    }
    return st;
}

/* ---- prepared features ---- */

static struct om_rect finite_box(const struct om_layer_view *v, size_t f)
{
    struct om_rect b = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    size_t p0 = v->point_start[v->ring_start[v->part_start[f]]];
    size_t p1 = v->point_start[v->ring_start[v->part_start[f + 1]]];
    for (size_t i = p0; i < p1; i++) {
        double x = v->xy[2 * i], y = v->xy[2 * i + 1];
        if (isfinite(x) && isfinite(y)) {
            b.minx = x < b.minx ? x : b.minx;
            b.miny = y < b.miny ? y : b.miny;
            b.maxx = x > b.maxx ? x : b.maxx;
            b.maxy = y > b.maxy ? y : b.maxy;
        }
    }
    return b;
}

enum om_status om_polyops_prepare(struct om_polyops *ctx,
                                  const struct om_layer_view *v, size_t feature,
                                  struct om_prepared **out,
                                  struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    enum om_status st = check_args(ctx, v, feature, "om_polyops_prepare", err);
    if (st != OM_OK) {
        return st;
    }
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_prepare: out is NULL");
    }
    struct om_prepared *p = om__calloc(1, sizeof *p);
    if (!p) {
        return om__enomem(err, NULL);
    }
    p->fid = fid_of(v, feature);
    p->box = finite_box(v, feature);
    st = build(ctx, v, feature, BUILD_STRICT, &p->g, err);
    if (st != OM_OK) {
        om__free(p);
        return st;
    }
    ctx->gmsg[0] = '\0';
    p->pg = GEOSPrepare_r(ctx->h, p->g);
    if (!p->pg) {
        GEOSGeom_destroy_r(ctx->h, p->g);
        om__free(p);
        return om__error(err, OM_EGEOM, NULL, 0, fid_of(v, feature),
                         "feature %lld: GEOS cannot prepare it: %s",
                         (long long)fid_of(v, feature), geos_msg(ctx));
    }
    *out = p;
    return OM_OK;
}

void om_prepared_free(struct om_polyops *ctx, struct om_prepared *p)
{
    if (!p || !ctx) {
        return;
    }
    /* made by another context (GEOS is loaded: a prepared feature
     * exists), ctx may have no handle yet; without one it leaks the
     * GEOS objects rather than crash */
    if (need_geos(ctx, NULL) == OM_OK) {
        GEOSPreparedGeom_destroy_r(ctx->h, p->pg);
        GEOSGeom_destroy_r(ctx->h, p->g);
    }
    om__free(p);
}

/* True if the feature's box shows it cannot touch p at all. */
static bool box_disjoint(const struct om_prepared *p,
                         const struct om_layer_view *v, size_t f)
{
    struct om_rect b = v->bbox ? v->bbox[f] : finite_box(v, f);
    struct om_rect a = p->box;
    return b.maxx < a.minx || b.minx > a.maxx || b.maxy < a.miny ||
           b.miny > a.maxy;
}

/* A GEOS predicate answer: 1 true, 0 false, 2 exception. */
static enum om_status pred_result(struct om_polyops *ctx, char rc,
                                  const char *what, const struct om_prepared *p,
                                  int64_t fid, bool *out, struct om_error *err)
{
    if (rc == 0 || rc == 1) {
        *out = rc == 1;
        return OM_OK;
    }
    return om__error(err, OM_EGEOM, NULL, 0, fid,
                     "%s of feature %lld against prepared feature %lld "
                     "failed: %s; check both for validity",
                     what, (long long)fid, (long long)p->fid, geos_msg(ctx));
}

/*
 * Shared first step of relate and intersection. *g is the built feature
 * (NULL when the answer came from the box or emptiness alone); *covered and
 * *meets are the covers and intersects answers.
 */
static enum om_status relate_start(struct om_polyops *ctx,
                                   const struct om_prepared *p,
                                   const struct om_layer_view *v, size_t f,
                                   GEOSGeometry **g, bool *covered, bool *meets,
                                   struct om_error *err)
{
    *g = NULL;
    *covered = false;
    *meets = false;
    if (v->part_start[f] == v->part_start[f + 1] || box_disjoint(p, v, f)) {
        return OM_OK;
    }
    enum om_status st = build(ctx, v, f, BUILD_STRICT, g, err);
    if (st != OM_OK) {
        return st;
    }
    int64_t fid = fid_of(v, f);
    ctx->gmsg[0] = '\0';
    st = pred_result(ctx, GEOSPreparedCovers_r(ctx->h, p->pg, *g), "covers", p,
                     fid, covered, err);
    if (st == OM_OK && *covered) {
        *meets = true;
    } else if (st == OM_OK) {
        st = pred_result(ctx, GEOSPreparedIntersects_r(ctx->h, p->pg, *g),
                         "intersects", p, fid, meets, err);
    }
    if (st != OM_OK) {
        GEOSGeom_destroy_r(ctx->h, *g);
        *g = NULL;
    }
    return st;
}

static enum om_status check_prepared(const struct om_polyops *ctx,
                                     const struct om_prepared *p,
                                     const struct om_layer_view *v, size_t f,
                                     const char *fn, struct om_error *err)
{
    if (!p) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "%s: prepared feature is NULL", fn);
    }
    return check_args(ctx, v, f, fn, err);
}

enum om_status om_prepared_relate(struct om_polyops *ctx,
                                  const struct om_prepared *p,
                                  const struct om_layer_view *v, size_t feature,
                                  int *relation, struct om_error *err)
{
    if (relation) {
        *relation = OM_REL_DISJOINT;
    }
    enum om_status st =
        check_prepared(ctx, p, v, feature, "om_prepared_relate", err);
    if (st == OM_OK) {
        st = need_geos(ctx, err);
    }
    if (st != OM_OK) {
        return st;
    }
    if (!relation) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_prepared_relate: relation is NULL");
    }
    GEOSGeometry *g = NULL;
    bool covered = false, meets = false;
    st = relate_start(ctx, p, v, feature, &g, &covered, &meets, err);
    if (st != OM_OK) {
        return st;
    }
    int rel = OM_REL_DISJOINT;
    if (covered) {
        rel = OM_REL_COVERS;
    } else if (meets) {
        /* Interiors meet, or only the boundaries touch? */
        bool inner = false;
        ctx->gmsg[0] = '\0';
        st = pred_result(ctx, GEOSRelatePattern_r(ctx->h, p->g, g, "T********"),
                         "relate", p, fid_of(v, feature), &inner, err);
        rel = inner ? OM_REL_PARTIAL : OM_REL_DISJOINT;
    }
    GEOSGeom_destroy_r(ctx->h, g);
    if (st == OM_OK) {
        *relation = rel;
    }
    return st;
}

enum om_status om_prepared_intersection(struct om_polyops *ctx,
                                        const struct om_prepared *p,
                                        const struct om_layer_view *v,
                                        size_t feature, struct om_layer *dst,
                                        double *planar_area,
                                        struct om_error *err)
{
    if (planar_area) {
        *planar_area = NAN;
    }
    enum om_status st =
        check_prepared(ctx, p, v, feature, "om_prepared_intersection", err);
    if (st == OM_OK) {
        st = need_geos(ctx, err);
    }
    if (st != OM_OK) {
        return st;
    }
    if (!dst) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_prepared_intersection: dst is NULL");
    }
    ctx->dropped = 0;
    int64_t fid = fid_of(v, feature);
    GEOSGeometry *g = NULL;
    bool covered = false, meets = false;
    st = relate_start(ctx, p, v, feature, &g, &covered, &meets, err);
    if (st != OM_OK) {
        return st;
    }
    double area = 0.0;
    if (!meets) {
        GEOSGeom_destroy_r(ctx->h, g);
        if (planar_area) {
            *planar_area = 0.0;
        }
        return OM_OK;
    }
    GEOSGeometry *res = g;
    if (!covered) {
        ctx->gmsg[0] = '\0';
        res = GEOSIntersection_r(ctx->h, p->g, g);
        GEOSGeom_destroy_r(ctx->h, g);
        if (!res) {
            return om__error(err, OM_EGEOM, NULL, 0, fid,
                             "intersection of prepared feature %lld and "
                             "feature %lld failed: %s; check both with "
                             "om_polyops_check and repair the invalid one",
                             (long long)p->fid, (long long)fid, geos_msg(ctx));
        }
    }
    st = write_polys(ctx, res, dst, fid, 0, err);
    if (st == OM_OK) {
        st = geos_area(ctx, res, fid, &area, err);
    }
    GEOSGeom_destroy_r(ctx->h, res);
    if (st == OM_OK && planar_area) {
        *planar_area = area;
    }
    return st;
}

/* ---- subdivision ---- */

/*
 * Split g (owned) recursively at the midline of the longer side of its
 * envelope until each piece has at most max_vertices coordinates, writing
 * each piece as its own feature of dst with fid `fid`.
 */
/*
 * 1 if a vertex of the polygons of g has coordinate `axis` (0: x, 1: y)
 * equal to v, 0 if none has, -1 if g cannot be read.
 */
static int vertex_on_line(struct om_polyops *ctx, const GEOSGeometry *g,
                          int axis, double v, unsigned depth)
{
    int type = GEOSGeomTypeId_r(ctx->h, g);
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(ctx->h, g);
        if (n < 0 || depth >= OM_LIMIT_WKB_DEPTH) {
            return -1;
        }
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *sub = GEOSGetGeometryN_r(ctx->h, g, i);
            int r = sub ? vertex_on_line(ctx, sub, axis, v, depth + 1) : -1;
            if (r != 0) {
                return r;
            }
        }
        return 0;
    }
    if (type != GEOS_POLYGON) {
        return -1;
    }
    int nholes = GEOSGetNumInteriorRings_r(ctx->h, g);
    if (nholes < 0) {
        return -1;
    }
    for (int i = -1; i < nholes; i++) {
        const GEOSGeometry *ring = i < 0 ? GEOSGetExteriorRing_r(ctx->h, g)
                                         : GEOSGetInteriorRingN_r(ctx->h, g, i);
        const GEOSCoordSequence *seq =
            ring ? GEOSGeom_getCoordSeq_r(ctx->h, ring) : NULL;
        unsigned n = 0;
        if (!seq || !GEOSCoordSeq_getSize_r(ctx->h, seq, &n) ||
            !ensure_buf(ctx, 2 * (size_t)n + 2) ||
            (n && !GEOSCoordSeq_copyToBuffer_r(ctx->h, seq, ctx->buf, 0, 0))) {
            return -1;
        }
        for (size_t k = 0; k < n; k++) {
            if (ctx->buf[2 * k + (size_t)axis] == v) {
                return 1;
            }
        }
    }
    return 0;
}

/*
 * One feature's subdivision. The rectangle clipper (linear, ~10x faster
 * than an overlay) may return an invalid polygon where a boundary runs
 * along the cut (vertices on the cut line) and where it regroups rings (a
 * hole touching its shell becomes a ring touching itself); a validity
 * check costs more than the clip. So only the leaves of a branch that may
 * have gone wrong are checked, and an invalid leaf is made again as the
 * overlay of the feature with the leaf's rectangle (always valid). A
 * branch is clean while every piece is a single ring with no vertex on the
 * cut. When some leaf needed checking, the leaves' areas must add up to
 * the feature's; if not (an invalid half clipped again), the feature is
 * done carefully: every half checked, an invalid one redone by overlay.
 */
int om__subdivide_careful = 0;
unsigned long om__subdivide_leaves_checked = 0;
unsigned long om__subdivide_leaves_redone = 0;
unsigned long om__subdivide_features_redone = 0;

struct subdiv {
    const GEOSGeometry *g0; /* the feature */
    size_t max_vertices;
    int64_t fid;
    bool careful;
    bool checked; /* a leaf was checked */
    /* halvings so far and the most a sane subdivision needs: past that,
     * invalid halves clipped again are breeding pieces (give up) */
    size_t splits, max_splits;
    bool gave_up;
    GEOSGeometry **leaf;
    size_t n, cap;
};

static void subdiv_clear(struct om_polyops *ctx, struct subdiv *s)
{
    for (size_t i = 0; i < s->n; i++) {
        GEOSGeom_destroy_r(ctx->h, s->leaf[i]);
    }
    s->n = 0;
}

/* g ∩ the rectangle r (xmin ymin xmax ymax) by overlay; NULL on failure. */
static GEOSGeometry *overlay_rect(struct om_polyops *ctx, const GEOSGeometry *g,
                                  const double r[4])
{
    GEOSGeometry *rect =
        GEOSGeom_createRectangle_r(ctx->h, r[0], r[1], r[2], r[3]);
    GEOSGeometry *res = NULL;
    if (rect) {
        ctx->gmsg[0] = '\0';
        res = GEOSIntersection_r(ctx->h, g, rect);
        GEOSGeom_destroy_r(ctx->h, rect);
    }
    return res;
}

/* Split g (owned), the feature within rectangle acc, into leaves. */
static enum om_status subdivide_rec(struct om_polyops *ctx, struct subdiv *s,
                                    GEOSGeometry *g, const double acc[4],
                                    bool dirty, unsigned depth,
                                    struct om_error *err)
{
    if (GEOSisEmpty_r(ctx->h, g) == 1) {
        GEOSGeom_destroy_r(ctx->h, g);
        return OM_OK;
    }
    int ncoords = GEOSGetNumCoordinates_r(ctx->h, g);
    double minx, miny, maxx, maxy;
    bool have_env = GEOSGeom_getXMin_r(ctx->h, g, &minx) == 1 &&
                    GEOSGeom_getYMin_r(ctx->h, g, &miny) == 1 &&
                    GEOSGeom_getXMax_r(ctx->h, g, &maxx) == 1 &&
                    GEOSGeom_getYMax_r(ctx->h, g, &maxy) == 1;
    /* Depth 40 halves any envelope below 1e-12 of its size: stop there. */
    if (ncoords < 0 || (size_t)ncoords <= s->max_vertices || depth >= 40 ||
        !have_env) {
        if (dirty && !s->careful) {
            s->checked = true;
            __atomic_fetch_add(&om__subdivide_leaves_checked, 1,
                               __ATOMIC_RELAXED);
            if (GEOSisValid_r(ctx->h, g) != 1) {
                __atomic_fetch_add(&om__subdivide_leaves_redone, 1,
                                   __ATOMIC_RELAXED);
                GEOSGeom_destroy_r(ctx->h, g);
                g = overlay_rect(ctx, s->g0, acc);
                if (!g) {
                    return om__error(err, OM_EGEOM, NULL, 0, s->fid,
                                     "feature %lld: cannot subdivide: %s",
                                     (long long)s->fid, geos_msg(ctx));
                }
                if (GEOSisEmpty_r(ctx->h, g) == 1) {
                    GEOSGeom_destroy_r(ctx->h, g);
                    return OM_OK;
                }
            }
        }
        if (!OM__GROW(s->leaf, s->cap, s->n + 1)) {
            GEOSGeom_destroy_r(ctx->h, g);
            return om__enomem(err, NULL);
        }
        s->leaf[s->n++] = g;
        return OM_OK;
    }
    if (!s->careful && ++s->splits > s->max_splits) {
        s->gave_up = true;
        GEOSGeom_destroy_r(ctx->h, g);
        return OM_OK;
    }
    /* Halves cut at the middle of the longer side; their other sides lie
     * well outside g, so the cut line is the only rectangle side a vertex
     * of g can lie on. */
    double w = maxx - minx, h = maxy - miny;
    double pad = w > h ? w : h;
    double r1[4], r2[4]; /* xmin ymin xmax ymax */
    int axis = w >= h ? 0 : 1;
    double mid = axis == 0 ? minx + w / 2 : miny + h / 2;
    if (axis == 0) {
        double a[4] = {minx - pad, miny - pad, mid, maxy + pad};
        double b[4] = {mid, miny - pad, maxx + pad, maxy + pad};
        memcpy(r1, a, sizeof a);
        memcpy(r2, b, sizeof b);
    } else {
        double a[4] = {minx - pad, miny - pad, maxx + pad, mid};
        double b[4] = {minx - pad, mid, maxx + pad, maxy + pad};
        memcpy(r1, a, sizeof a);
        memcpy(r2, b, sizeof b);
    }
    /* a single ring: only vertices on the cut can make a half invalid;
     * holes and parts can be regrouped by the clipper */
    bool one_ring = GEOSGeomTypeId_r(ctx->h, g) == GEOS_POLYGON &&
                    GEOSGetNumInteriorRings_r(ctx->h, g) == 0;
    int on_cut = one_ring ? vertex_on_line(ctx, g, axis, mid, 0) : 1;
    const double *rects[2] = {r1, r2};
    GEOSGeometry *halves[2] = {NULL, NULL};
    double sub[2][4];
    enum om_status st = OM_OK;
    for (int k = 0; k < 2; k++) {
        sub[k][0] = acc[0] > rects[k][0] ? acc[0] : rects[k][0];
        sub[k][1] = acc[1] > rects[k][1] ? acc[1] : rects[k][1];
        sub[k][2] = acc[2] < rects[k][2] ? acc[2] : rects[k][2];
        sub[k][3] = acc[3] < rects[k][3] ? acc[3] : rects[k][3];
        ctx->gmsg[0] = '\0';
        halves[k] = GEOSClipByRect_r(ctx->h, g, rects[k][0], rects[k][1],
                                     rects[k][2], rects[k][3]);
        if (s->careful && halves[k] && on_cut != 0 &&
            GEOSisValid_r(ctx->h, halves[k]) != 1) {
            GEOSGeom_destroy_r(ctx->h, halves[k]);
            halves[k] = overlay_rect(ctx, g, rects[k]);
        }
        if (!halves[k]) {
            st = om__error(err, OM_EGEOM, NULL, 0, s->fid,
                           "feature %lld: cannot subdivide: %s",
                           (long long)s->fid, geos_msg(ctx));
            break;
        }
    }
    GEOSGeom_destroy_r(ctx->h, g);
    for (int k = 0; k < 2; k++) {
        if (st == OM_OK && halves[k] && !s->gave_up) {
            st = subdivide_rec(ctx, s, halves[k], sub[k],
                               !s->careful && (dirty || on_cut != 0), depth + 1,
                               err);
            halves[k] = NULL;
        }
        if (halves[k]) {
            GEOSGeom_destroy_r(ctx->h, halves[k]);
        }
    }
    return st;
}

/* Do the leaves' areas add up to the feature's (to rounding)? */
static bool leaves_add_up(struct om_polyops *ctx, const struct subdiv *s)
{
    double whole = 0.0, sum = 0.0, abs_sum = 0.0;
    if (!GEOSArea_r(ctx->h, s->g0, &whole)) {
        return false;
    }
    for (size_t i = 0; i < s->n; i++) {
        double a = 0.0;
        if (!GEOSArea_r(ctx->h, s->leaf[i], &a)) {
            return false;
        }
        sum += a;
        abs_sum += fabs(a);
    }
    return fabs(sum - whole) <= 1e-9 * (abs_sum > whole ? abs_sum : whole);
}

enum om_status om_polyops_subdivide(struct om_polyops *ctx,
                                    const struct om_layer_view *v,
                                    size_t feature, size_t max_vertices,
                                    struct om_layer *dst, size_t *npieces,
                                    struct om_error *err)
{
    size_t n = 0;
    if (npieces) {
        *npieces = 0;
    }
    enum om_status st =
        check_args(ctx, v, feature, "om_polyops_subdivide", err);
    if (st != OM_OK) {
        return st;
    }
    if (!dst || max_vertices < 8) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_polyops_subdivide: no destination or "
                         "max_vertices < 8");
    }
    ctx->dropped = 0;
    GEOSGeometry *g = NULL;
    st = build(ctx, v, feature, BUILD_STRICT, &g, err);
    if (st != OM_OK) {
        return st;
    }
    struct subdiv s;
    memset(&s, 0, sizeof s);
    s.g0 = g;
    s.max_vertices = max_vertices;
    s.fid = fid_of(v, feature);
    s.careful = om__subdivide_careful != 0;
    int n0 = GEOSGetNumCoordinates_r(ctx->h, g);
    s.max_splits = 16 * ((n0 > 0 ? (size_t)n0 : 0) / max_vertices + 1) + 256;
    const double all[4] = {-INFINITY, -INFINITY, INFINITY, INFINITY};
    for (int pass = 0; pass < 2; pass++) {
        GEOSGeometry *c = GEOSGeom_clone_r(ctx->h, g);
        st = c ? subdivide_rec(ctx, &s, c, all, false, 0, err)
               : om__enomem(err, NULL);
        if (st != OM_OK || s.careful ||
            (!s.gave_up && (!s.checked || leaves_add_up(ctx, &s)))) {
            break;
        }
        __atomic_fetch_add(&om__subdivide_features_redone, 1, __ATOMIC_RELAXED);
        subdiv_clear(ctx, &s);
        s.careful = true;
        s.gave_up = false;
    }
    for (size_t i = 0; st == OM_OK && i < s.n; i++) {
        size_t before = om_layer_nfeatures(dst);
        st = om_layer_begin_feature(dst, s.fid, err);
        if (st == OM_OK) {
            st = write_polys(ctx, s.leaf[i], dst, s.fid, 0, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, err);
        } else {
            om_layer_abort_feature(dst);
        }
        if (st == OM_OK && om_layer_nfeatures(dst) > before) {
            n++;
        }
    }
    subdiv_clear(ctx, &s);
    om__free(s.leaf);
    GEOSGeom_destroy_r(ctx->h, g);
    if (npieces) {
        *npieces = n;
    }
    return st;
}

enum om_status om_prepared_clip(struct om_polyops *ctx,
                                const struct om_prepared *p,
                                const struct om_layer_view *v, size_t feature,
                                struct om_layer *dst, int *relation,
                                double *planar_area, struct om_error *err)
{
    *relation = OM_REL_DISJOINT;
    *planar_area = 0.0;
    enum om_status st =
        check_prepared(ctx, p, v, feature, "om_prepared_clip", err);
    if (st == OM_OK) {
        st = need_geos(ctx, err);
    }
    if (st != OM_OK) {
        return st;
    }
    ctx->dropped = 0;
    GEOSGeometry *g = NULL;
    bool covered = false, meets = false;
    st = relate_start(ctx, p, v, feature, &g, &covered, &meets, err);
    if (st != OM_OK) {
        return st;
    }
    if (covered || !meets) {
        GEOSGeom_destroy_r(ctx->h, g);
        *relation = covered ? OM_REL_COVERS : OM_REL_DISJOINT;
        return OM_OK;
    }
    int64_t fid = fid_of(v, feature);
    ctx->gmsg[0] = '\0';
    GEOSGeometry *res = GEOSIntersection_r(ctx->h, p->g, g);
    GEOSGeom_destroy_r(ctx->h, g);
    if (!res) {
        return om__error(err, OM_EGEOM, NULL, 0, fid,
                         "intersection of prepared feature %lld and feature "
                         "%lld failed: %s; check both with om_polyops_check "
                         "and repair the invalid one",
                         (long long)p->fid, (long long)fid, geos_msg(ctx));
    }
    double area = 0.0;
    st = geos_area(ctx, res, fid, &area, err);
    if (st == OM_OK && area > 0.0) {
        st = write_polys(ctx, res, dst, fid, 0, err);
    }
    GEOSGeom_destroy_r(ctx->h, res);
    if (st == OM_OK) {
        /* Boundaries that only touch give an empty or zero-area result. */
        *relation = area > 0.0 ? OM_REL_PARTIAL : OM_REL_DISJOINT;
        *planar_area = area;
    }
    return st;
}

/* ---- union and difference of several features (for the overlay engine) ----
 */

struct om__setops {
    GEOSContextHandle_t h;
    char msg[256];
    double *buf;
    size_t cap;
};

static void gx_on_error(const char *message, void *userdata)
{
    struct om__setops *g = userdata;
    om__strlcpy(g->msg, message ? message : "unknown GEOS error",
                sizeof g->msg);
}

static void gx_on_notice(const char *message, void *userdata)
{
    (void)message;
    (void)userdata;
}

static enum om_status gx_init(struct om__setops *g, struct om_error *err)
{
    memset(g, 0, sizeof *g);
    enum om_status st = load(err);
    if (st != OM_OK) {
        return st;
    }
    g->h = GEOS_init_r();
    if (!g->h) {
        return om__error(err, OM_ENOMEM, NULL, 0, -1,
                         "cannot create a GEOS context");
    }
    GEOSContext_setErrorMessageHandler_r(g->h, gx_on_error, g);
    GEOSContext_setNoticeMessageHandler_r(g->h, gx_on_notice, g);
    return OM_OK;
}

static void gx_deinit(struct om__setops *g)
{
    if (g->h) {
        GEOS_finish_r(g->h);
    }
    om__free(g->buf);
    memset(g, 0, sizeof *g);
}

static void gx_destroy_all(struct om__setops *g, GEOSGeometry **gs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        GEOSGeom_destroy_r(g->h, gs[i]);
    }
}

static GEOSGeometry *gx_ring(struct om__setops *g,
                             const struct om_layer_view *v, size_t r)
{
    size_t p0 = v->point_start[r], n = v->point_start[r + 1] - p0;
    if (n < 4 || n > UINT_MAX) {
        om__strlcpy(g->msg, "ring too short or too long", sizeof g->msg);
        return NULL;
    }
    GEOSCoordSequence *seq =
        GEOSCoordSeq_copyFromBuffer_r(g->h, v->xy + 2 * p0, (unsigned)n, 0, 0);
    return seq ? GEOSGeom_createLinearRing_r(g->h, seq) : NULL;
}

/* Feature f of v as a GEOS MultiPolygon; NULL on failure (g->msg says). */
static GEOSGeometry *gx_build(struct om__setops *g,
                              const struct om_layer_view *v, size_t f)
{
    size_t q0 = v->part_start[f], q1 = v->part_start[f + 1];
    GEOSGeometry **polys = om__calloc(q1 - q0 + 1, sizeof *polys);
    if (!polys) {
        om__strlcpy(g->msg, "out of memory", sizeof g->msg);
        return NULL;
    }
    size_t np = 0;
    bool ok = true;
    for (size_t q = q0; ok && q < q1; q++) {
        size_t r0 = v->ring_start[q], r1 = v->ring_start[q + 1];
        if (r0 == r1 || v->point_start[r0] == v->point_start[r0 + 1]) {
            continue;
        }
        GEOSGeometry *shell = gx_ring(g, v, r0);
        GEOSGeometry **holes = om__calloc(r1 - r0, sizeof *holes);
        size_t nh = 0;
        ok = shell && holes;
        for (size_t r = r0 + 1; ok && r < r1; r++) {
            if (v->point_start[r] == v->point_start[r + 1]) {
                continue;
            }
            holes[nh] = gx_ring(g, v, r);
            ok = holes[nh++] != NULL;
        }
        if (ok) {
            /* Takes ownership of shell and holes, also on failure. */
            polys[np] =
                GEOSGeom_createPolygon_r(g->h, shell, holes, (unsigned)nh);
            ok = polys[np++] != NULL;
        } else {
            if (shell) {
                GEOSGeom_destroy_r(g->h, shell);
            }
            if (holes) {
                gx_destroy_all(g, holes, nh);
            }
        }
        om__free(holes);
    }
    GEOSGeometry *out = NULL;
    if (ok) {
        /* Takes ownership of the parts, also on failure. */
        out = GEOSGeom_createCollection_r(g->h, GEOS_MULTIPOLYGON, polys,
                                          (unsigned)np);
    } else {
        for (size_t i = 0; i < np; i++) {
            if (polys[i]) {
                GEOSGeom_destroy_r(g->h, polys[i]);
            }
        }
    }
    om__free(polys);
    return out;
}

static double ring_area2(const double *xy, size_t n)
{
    double s = 0.0, x0 = xy[0], y0 = xy[1];
    for (size_t i = 1; i + 1 < n; i++) {
        s += (xy[2 * i] - x0) * (xy[2 * i + 3] - y0) -
             (xy[2 * i + 2] - x0) * (xy[2 * i + 1] - y0);
    }
    return s;
}

static enum om_status gx_write_ring(struct om__setops *g,
                                    const GEOSGeometry *ring, bool ccw,
                                    struct om_layer *dst, struct om_error *err)
{
    unsigned n = 0;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(g->h, ring);
    if (!seq || !GEOSCoordSeq_getSize_r(g->h, seq, &n)) {
        return om__error(err, OM_EGEOM, NULL, 0, -1,
                         "cannot read a result ring: %s", g->msg);
    }
    if (!OM__GROW(g->buf, g->cap, 2 * (size_t)n + 2)) {
        return om__enomem(err, NULL);
    }
    if (n && !GEOSCoordSeq_copyToBuffer_r(g->h, seq, g->buf, 0, 0)) {
        return om__error(err, OM_EGEOM, NULL, 0, -1,
                         "cannot copy a result ring: %s", g->msg);
    }
    double a2 = n ? ring_area2(g->buf, n) : 0.0;
    if (a2 != 0.0 && (a2 > 0.0) != ccw) {
        for (size_t i = 0, j = (size_t)n - 1; i < j; i++, j--) {
            double tx = g->buf[2 * i], ty = g->buf[2 * i + 1];
            g->buf[2 * i] = g->buf[2 * j];
            g->buf[2 * i + 1] = g->buf[2 * j + 1];
            g->buf[2 * j] = tx;
            g->buf[2 * j + 1] = ty;
        }
    }
    return om_layer_add_ring(dst, g->buf, n, err);
}

/* Append the polygons of `geom` to dst's current feature. */
static enum om_status gx_write(struct om__setops *g, const GEOSGeometry *geom,
                               struct om_layer *dst, unsigned depth,
                               struct om_error *err)
{
    if (GEOSisEmpty_r(g->h, geom) == 1) {
        return OM_OK;
    }
    int type = GEOSGeomTypeId_r(g->h, geom);
    if (type == GEOS_POLYGON) {
        const GEOSGeometry *shell = GEOSGetExteriorRing_r(g->h, geom);
        int nh = GEOSGetNumInteriorRings_r(g->h, geom);
        if (!shell || nh < 0) {
            return om__error(err, OM_EGEOM, NULL, 0, -1,
                             "cannot read a result polygon: %s", g->msg);
        }
        enum om_status st = om_layer_begin_part(dst, err);
        if (st == OM_OK) {
            st = gx_write_ring(g, shell, true, dst, err);
        }
        for (int i = 0; st == OM_OK && i < nh; i++) {
            const GEOSGeometry *hole = GEOSGetInteriorRingN_r(g->h, geom, i);
            st = hole ? gx_write_ring(g, hole, false, dst, err)
                      : om__error(err, OM_EGEOM, NULL, 0, -1,
                                  "cannot read a result hole: %s", g->msg);
        }
        return st;
    }
    if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        if (depth >= OM_LIMIT_WKB_DEPTH) {
            return om__error(err, OM_ELIMIT, NULL, 0, -1,
                             "GEOS result nested too deep");
        }
        int n = GEOSGetNumGeometries_r(g->h, geom);
        for (int i = 0; i < n; i++) {
            const GEOSGeometry *sub = GEOSGetGeometryN_r(g->h, geom, i);
            enum om_status st =
                sub ? gx_write(g, sub, dst, depth + 1, err)
                    : om__error(err, OM_EGEOM, NULL, 0, -1,
                                "cannot read a result part: %s", g->msg);
            if (st != OM_OK) {
                return st;
            }
        }
        return OM_OK;
    }
    if (type == -1) {
        return om__error(err, OM_EGEOM, NULL, 0, -1,
                         "cannot read a result geometry: %s", g->msg);
    }
    return OM_OK; /* points and lines of a collapse: not polygons */
}

/* Union of the features `fs` as one GEOS geometry; NULL on failure. */
static GEOSGeometry *gx_union_of(struct om__setops *g,
                                 const struct om__fref *fs, size_t n)
{
    GEOSGeometry **gs = om__calloc(n + 1, sizeof *gs);
    if (!gs) {
        om__strlcpy(g->msg, "out of memory", sizeof g->msg);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        gs[i] = gx_build(g, fs[i].v, fs[i].f);
        if (!gs[i]) {
            gx_destroy_all(g, gs, i);
            om__free(gs);
            return NULL;
        }
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(
        g->h, GEOS_GEOMETRYCOLLECTION, gs, (unsigned)n);
    om__free(gs);
    if (!coll) {
        return NULL;
    }
    GEOSGeometry *u = GEOSUnaryUnion_r(g->h, coll);
    GEOSGeom_destroy_r(g->h, coll);
    return u;
}

/* dst's current feature += union of fs[0..n). */
static enum om_status gx_union(struct om__setops *g, const struct om__fref *fs,
                               size_t n, struct om_layer *dst,
                               struct om_error *err)
{
    g->msg[0] = '\0';
    GEOSGeometry *u = gx_union_of(g, fs, n);
    if (!u) {
        return om__error(err, OM_EGEOM, NULL, 0, -1, "GEOS union failed: %s",
                         g->msg[0] ? g->msg : "no message");
    }
    enum om_status st = gx_write(g, u, dst, 0, err);
    GEOSGeom_destroy_r(g->h, u);
    return st;
}

/* dst's current feature += a \ union(fs[0..n)). */
static enum om_status gx_difference(struct om__setops *g, struct om__fref a,
                                    const struct om__fref *fs, size_t n,
                                    struct om_layer *dst, struct om_error *err)
{
    g->msg[0] = '\0';
    GEOSGeometry *ga = gx_build(g, a.v, a.f);
    GEOSGeometry *u = ga ? gx_union_of(g, fs, n) : NULL;
    GEOSGeometry *d = u ? GEOSDifference_r(g->h, ga, u) : NULL;
    enum om_status st = OM_OK;
    if (!d) {
        st = om__error(err, OM_EGEOM, NULL, 0, -1, "GEOS difference failed: %s",
                       g->msg[0] ? g->msg : "no message");
    } else {
        st = gx_write(g, d, dst, 0, err);
        GEOSGeom_destroy_r(g->h, d);
    }
    if (u) {
        GEOSGeom_destroy_r(g->h, u);
    }
    if (ga) {
        GEOSGeom_destroy_r(g->h, ga);
    }
    return st;
}

enum om_status om__setops_new(struct om__setops **out, struct om_error *err)
{
    *out = om__calloc(1, sizeof **out);
    if (!*out) {
        return om__enomem(err, NULL);
    }
    enum om_status st = gx_init(*out, err);
    if (st != OM_OK) {
        om__free(*out);
        *out = NULL;
    }
    return st;
}

void om__setops_free(struct om__setops *g)
{
    if (g) {
        gx_deinit(g);
        om__free(g);
    }
}

enum om_status om__setops_union(struct om__setops *g, const struct om__fref *fs,
                                size_t n, struct om_layer *dst,
                                struct om_error *err)
{
    return gx_union(g, fs, n, dst, err);
}

enum om_status om__setops_difference(struct om__setops *g, struct om__fref a,
                                     const struct om__fref *fs, size_t n,
                                     struct om_layer *dst, struct om_error *err)
{
    return gx_difference(g, a, fs, n, dst, err);
}

/* ---- polygonize and interior points (for the qc topology checks) ---- */

static enum om_status gx_fail(struct om__setops *g, const char *what,
                              struct om_error *err)
{
    return om__error(err, OM_EGEOM, NULL, 0, -1, "GEOS %s failed: %s", what,
                     g->msg[0] ? g->msg : "no message");
}

static enum om_status gx_point_on_surface(struct om__setops *g,
                                          const GEOSGeometry *geom, double *x,
                                          double *y, struct om_error *err)
{
    *x = NAN;
    *y = NAN;
    if (GEOSisEmpty_r(g->h, geom) == 1) {
        return OM_OK;
    }
    GEOSGeometry *pt = GEOSPointOnSurface_r(g->h, geom);
    if (!pt) {
        return gx_fail(g, "point on surface", err);
    }
    enum om_status st = OM_OK;
    if (GEOSisEmpty_r(g->h, pt) != 1 &&
        (!GEOSGeomGetX_r(g->h, pt, x) || !GEOSGeomGetY_r(g->h, pt, y))) {
        st = gx_fail(g, "point on surface", err);
    }
    GEOSGeom_destroy_r(g->h, pt);
    return st;
}

/* The lines as one noded, deduplicated GEOS geometry; NULL on failure. */
static GEOSGeometry *gx_noded_lines(struct om__setops *g, const double *xy,
                                    const size_t *start, size_t nlines,
                                    bool *oom)
{
    GEOSGeometry **ls = om__calloc(nlines + 1, sizeof *ls);
    if (!ls) {
        *oom = true;
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < nlines; i++) {
        size_t a = start[i], b = start[i + 1];
        if (b < a + 2 || b - a > UINT_MAX) {
            continue;
        }
        GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(
            g->h, xy + 2 * a, (unsigned)(b - a), 0, 0);
        ls[n] = seq ? GEOSGeom_createLineString_r(g->h, seq) : NULL;
        if (!ls[n]) {
            gx_destroy_all(g, ls, n);
            om__free(ls);
            return NULL;
        }
        n++;
    }
    GEOSGeometry *coll = GEOSGeom_createCollection_r(g->h, GEOS_MULTILINESTRING,
                                                     ls, (unsigned)n);
    om__free(ls);
    if (!coll) {
        return NULL;
    }
    GEOSGeometry *u = GEOSUnaryUnion_r(g->h, coll);
    GEOSGeom_destroy_r(g->h, coll);
    return u;
}

enum om_status om__setops_polygonize(struct om__setops *g, const double *xy,
                                     const size_t *start, size_t nlines,
                                     struct om_layer *dst, double **pts,
                                     size_t *nfaces, struct om_error *err)
{
    *pts = NULL;
    *nfaces = 0;
    g->msg[0] = '\0';
    bool oom = false;
    GEOSGeometry *u = gx_noded_lines(g, xy, start, nlines, &oom);
    if (!u) {
        /* as in om__setops_interior_point: no GEOS message, or the
         * bridge's own "out of memory", means one of our allocations */
        return oom || !g->msg[0] || strcmp(g->msg, "out of memory") == 0
                   ? om__enomem(err, NULL)
                   : gx_fail(g, "noding", err);
    }
    const GEOSGeometry *in[1] = {u};
    GEOSGeometry *faces = GEOSPolygonize_r(g->h, in, 1);
    GEOSGeom_destroy_r(g->h, u);
    if (!faces) {
        return gx_fail(g, "polygonize", err);
    }
    int n = GEOSGetNumGeometries_r(g->h, faces);
    enum om_status st = OM_OK;
    double *out = NULL;
    if (n < 0) {
        st = gx_fail(g, "polygonize", err);
    } else if (n > 0) {
        out = om__malloc(2 * (size_t)n * sizeof *out);
        if (!out) {
            st = om__enomem(err, NULL);
        }
    }
    size_t k = 0;
    for (int i = 0; st == OM_OK && i < n; i++) {
        const GEOSGeometry *face = GEOSGetGeometryN_r(g->h, faces, i);
        if (!face) {
            st = gx_fail(g, "polygonize", err);
            break;
        }
        st = om_layer_begin_feature(dst, (int64_t)k, err);
        if (st == OM_OK) {
            st = gx_write(g, face, dst, 0, err);
            if (st == OM_OK) {
                st = om_layer_end_feature(dst, err);
            } else {
                om_layer_abort_feature(dst);
            }
        }
        if (st == OM_OK) {
            st =
                gx_point_on_surface(g, face, &out[2 * k], &out[2 * k + 1], err);
        }
        k++;
    }
    GEOSGeom_destroy_r(g->h, faces);
    if (st != OM_OK) {
        om__free(out);
        return st;
    }
    *pts = out;
    *nfaces = k;
    return OM_OK;
}

enum om_status om__setops_interior_point(struct om__setops *g,
                                         const struct om_layer_view *v,
                                         size_t f, double *x, double *y,
                                         struct om_error *err)
{
    g->msg[0] = '\0';
    *x = NAN;
    *y = NAN;
    GEOSGeometry *geom = gx_build(g, v, f);
    if (!geom) {
        /* GEOS and gx_ring always leave a message; none (or gx_build's
         * own "out of memory") means one of our allocations failed */
        return !g->msg[0] || strcmp(g->msg, "out of memory") == 0
                   ? om__enomem(err, NULL)
                   : gx_fail(g, "building a polygon", err);
    }
    enum om_status st = gx_point_on_surface(g, geom, x, y, err);
    GEOSGeom_destroy_r(g->h, geom);
    return st;
}
