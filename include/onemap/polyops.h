/*
 * onemap/polyops.h — polygon validity, repair, intersection and prepared
 * predicates over flat layer features (the GEOS bridge).
 *
 * Features are read from a struct om_layer_view (onemap/layer.h); GEOS
 * geometries are built transiently for each call and never kept, except
 * inside an om_prepared. Constructed results are appended as polygon parts
 * to the feature under construction in a destination layer: the caller has
 * called om_layer_begin_feature(dst, ...) and calls om_layer_end_feature
 * (or om_layer_abort_feature when a call failed: a failed call may have
 * appended some parts already).
 *
 * Results written to a layer hold polygons only: points and lines produced
 * by collapse (e.g. two squares meeting along an edge) are dropped, which
 * om_polyops_last_dropped() reports. Written rings are closed, shells
 * counter-clockwise and holes clockwise (in x-east, y-north axes).
 *
 * Areas are planar (shoelace in the layer's own units, as GEOS computes
 * them: |shell| - sum |holes| per part, summed over parts, whether or not
 * the polygon is valid).
 *
 * Input strictness: every operation except om_polyops_check and
 * om_polyops_make_valid needs each ring closed, with at least 4 points and
 * finite coordinates, and fails with OM_EGEOM naming the feature otherwise.
 * A ring without points is taken as GEOS takes an EMPTY ring: an empty hole
 * is ignored and a part whose rings are all empty is an empty part.
 * They do not check full validity (that costs as much as the operation):
 * GEOS results on invalid input are undefined or an OM_EGEOM error; check
 * with om_polyops_check and repair with om_polyops_make_valid first.
 *
 * Thread safety: a struct om_polyops (it owns one GEOS context and its
 * message handlers) is used by one thread at a time; make one per thread.
 * An om_prepared belongs to the context that made it and must not be
 * shared between threads either (GEOS builds its indexes lazily). The
 * views read are not modified, so several threads may read one finished
 * layer at once, each with its own context.
 */
#ifndef ONEMAP_POLYOPS_H
#define ONEMAP_POLYOPS_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A GEOS context with its own error and notice handlers. */
struct om_polyops;

/* Create a context. OM_ENOMEM if GEOS or memory fails. */
enum om_status om_polyops_new(struct om_polyops **out, struct om_error *err);
/* Free a context. Accepts NULL. Free its om_prepared objects first. */
void om_polyops_free(struct om_polyops *ctx);

/* The GEOS runtime version string, e.g. "3.11.1-CAPI-1.17.1". */
const char *om_polyops_geos_version(void);

/* ---- validity ---- */

struct om_validity {
    bool is_valid;
    /*
     * Empty when valid; otherwise GEOS's reason text, e.g.
     * "Self-intersection", "Ring Self-intersection",
     * "Hole lies outside shell", "Nested shells", "Too few points",
     * "Invalid Coordinate", "Ring is not closed",
     * "Interior is disconnected", "Duplicate Rings", "Nested holes".
     */
    char reason[128];
    double x, y; /* where: NaN when GEOS gives no location */
};

/*
 * Check feature `feature` of `v` (OGC validity, as GEOSisValidDetail).
 * Done first on the flat arrays, where GEOS would fail or could not build
 * the geometry, in GEOS's own order:
 *   - any non-finite coordinate: "Invalid Coordinate" at that point;
 *   - a ring whose last point differs from its first: "Ring is not
 *     closed" at its first point;
 *   - a ring with fewer than 4 points after removing consecutive repeats,
 *     or fewer than 3 distinct points: "Too few points" at its first point;
 *   - a part without rings, or with an empty shell but non-empty holes:
 *     "Too few points" at NaN (rings without points are otherwise ignored,
 *     as GEOS ignores EMPTY rings).
 * Then GEOS decides. Empty features (no parts) are valid.
 * Returns OM_OK with *out filled whether or not the feature is valid;
 * OM_EINVAL for a bad feature index, OM_EGEOM if GEOS fails.
 */
enum om_status om_polyops_check(struct om_polyops *ctx,
                                const struct om_layer_view *v, size_t feature,
                                struct om_validity *out, struct om_error *err);

/*
 * Repair feature `feature` of `v` and append the polygonal result to dst's
 * current feature. Steps:
 *   1. non-finite points are dropped (they cannot be placed anywhere); a
 *      ring is closed again if its first point was dropped;
 *   2. rings left with fewer than 4 points or fewer than 3 distinct points
 *      (zero area) are dropped; a part whose shell is dropped is dropped
 *      with its holes;
 *   3. holes that do not meet their shell at all are dropped (STRUCTURE
 *      means shell minus holes, so such a hole removes nothing; GEOS 3.11
 *      would otherwise turn it into an island);
 *   4. GEOSMakeValidWithParams, method GEOS_MAKE_VALID_STRUCTURE (shells
 *      unioned, holes subtracted), collapsed parts not kept; only polygons
 *      of the result are appended.
 * A valid feature comes out as the same polygons (ring order, start points
 * and orientation may change). The result may be empty (no parts appended),
 * e.g. for a feature made only of a degenerate ring.
 * *area_before (may be NULL) = planar area of the input after step 1 and 2
 * as GEOS computes it for a possibly invalid polygon (a bow-tie's two lobes
 * cancel); *area_after (may be NULL) = planar area of the result.
 * om_polyops_last_dropped() tells what steps 1-4 dropped.
 * Errors: OM_EINVAL (bad index), OM_EGEOM (GEOS failed, message names the
 * fid and GEOS's reason), OM_ENOMEM / OM_ELIMIT (appending to dst).
 */
enum om_status om_polyops_make_valid(struct om_polyops *ctx,
                                     const struct om_layer_view *v,
                                     size_t feature, struct om_layer *dst,
                                     double *area_before, double *area_after,
                                     struct om_error *err);

/*
 * What the last make_valid / intersection / prepared intersection on `ctx`
 * dropped (a set of bits; 0 = nothing).
 */
enum {
    OM_DROPPED_NONFINITE = 1u << 0,  /* non-finite points (make_valid) */
    OM_DROPPED_DEGENERATE = 1u << 1, /* rings with < 3 distinct points */
    OM_DROPPED_LOWER_DIM = 1u << 2,  /* points / lines of the result */
    OM_DROPPED_HOLE = 1u << 3,       /* holes disjoint from their shell */
};
unsigned om_polyops_last_dropped(const struct om_polyops *ctx);

/* ---- intersection and area ---- */

/*
 * A_fa ∩ B_fb (GEOSIntersection, i.e. GEOS 3.9+ OverlayNG with its own
 * robustness fallbacks: floating, snapping, then snap-rounding at an
 * automatic scale) appended to dst's current feature as polygons.
 * *planar_area (may be NULL) = planar area of the polygonal result (0 when
 * empty). No further retry on a coarser grid is made: once GEOS's own
 * fallbacks fail the cause is nearly always an invalid input, and a grid
 * chosen here would silently move vertices; the error is OM_EGEOM naming
 * both fids and GEOS's message.
 * `a` and `b` may be the same view.
 */
enum om_status om_polyops_intersection(struct om_polyops *ctx,
                                       const struct om_layer_view *a, size_t fa,
                                       const struct om_layer_view *b, size_t fb,
                                       struct om_layer *dst,
                                       double *planar_area,
                                       struct om_error *err);

/*
 * Split feature `feature` of `v` into pieces of at most `max_vertices`
 * coordinates (≥ 8), cutting recursively at the midline of the longer side
 * of each piece's envelope with an exact intersection (like PostGIS's
 * ST_Subdivide). Each piece is appended to `dst` as its own feature with the
 * source fid, so the pieces of one feature are contiguous. Pieces have
 * disjoint interiors and their union is the feature (cut points rounded to
 * doubles); every piece is valid (GEOS's rectangle clipper makes them;
 * where it may have broken one, the piece is checked and, if invalid, made
 * again by overlay). This is what keeps an overlay against a 10^5-vertex
 * polygon local. *npieces (may be NULL) receives the number of pieces written.
 * Errors: invalid input (OM_EGEOM), OOM; on error dst may hold some
 * pieces of this feature (the caller discards dst).
 */
enum om_status om_polyops_subdivide(struct om_polyops *ctx,
                                    const struct om_layer_view *v,
                                    size_t feature, size_t max_vertices,
                                    struct om_layer *dst, size_t *npieces,
                                    struct om_error *err);

/* GEOS planar area of a feature (0 for empty); an oracle for tests. */
enum om_status om_polyops_area(struct om_polyops *ctx,
                               const struct om_layer_view *v, size_t feature,
                               double *area, struct om_error *err);

/* ---- prepared features ---- */

/*
 * A prepared feature (GEOSPrepare): a copy of one feature's geometry with
 * lazily built indexes, for repeated predicates and intersections against
 * one zone polygon. Independent of the view it was made from.
 */
struct om_prepared;

/* Prepare feature `feature` of `v`. *out is NULL on failure. */
enum om_status om_polyops_prepare(struct om_polyops *ctx,
                                  const struct om_layer_view *v, size_t feature,
                                  struct om_prepared **out,
                                  struct om_error *err);
/* Free a prepared feature with the context that made it. Accepts NULL. */
void om_prepared_free(struct om_polyops *ctx, struct om_prepared *p);

enum om_relation {
    OM_REL_DISJOINT = 0, /* interiors do not meet (touching is disjoint) */
    OM_REL_COVERS = 1,   /* the prepared feature covers the feature */
    OM_REL_PARTIAL = 2,  /* interiors meet, and part lies outside */
};

/*
 * Classify feature `feature` of `v` against prepared `p`:
 *   - empty feature: OM_REL_DISJOINT;
 *   - GEOSPreparedCovers: OM_REL_COVERS (no point of the feature lies
 *     outside p; an identical polygon is covered);
 *   - not GEOSPreparedIntersects: OM_REL_DISJOINT;
 *   - otherwise the DE-9IM interior/interior cell decides (GEOSRelatePattern
 *     "T********", exact predicates): interiors meet → OM_REL_PARTIAL, only
 *     boundaries meet (edge or corner contact) → OM_REL_DISJOINT.
 * So PARTIAL means area(p ∩ feature) > 0 and area(feature \ p) > 0 for
 * valid polygons. *relation is an enum om_relation.
 */
enum om_status om_prepared_relate(struct om_polyops *ctx,
                                  const struct om_prepared *p,
                                  const struct om_layer_view *v, size_t feature,
                                  int *relation, struct om_error *err);

/*
 * p ∩ feature appended to dst's current feature as polygons, like
 * om_polyops_intersection. Fast paths: a feature p covers is copied as is
 * (no overlay) and a feature disjoint from p adds nothing.
 */
enum om_status om_prepared_intersection(struct om_polyops *ctx,
                                        const struct om_prepared *p,
                                        const struct om_layer_view *v,
                                        size_t feature, struct om_layer *dst,
                                        double *planar_area,
                                        struct om_error *err);

/*
 * One step of an overlay against a prepared zone, with a single relate:
 * *relation is OM_REL_COVERS (nothing written: the whole feature is
 * inside), OM_REL_DISJOINT (nothing written; also when the boundaries only
 * touch), or OM_REL_PARTIAL (the intersection's polygons are appended to
 * dst's current feature and *planar_area is their GEOS area). Cheaper than
 * om_prepared_relate + om_prepared_intersection, which relate twice and
 * compute the full DE-9IM matrix for the partial case.
 */
enum om_status om_prepared_clip(struct om_polyops *ctx,
                                const struct om_prepared *p,
                                const struct om_layer_view *v, size_t feature,
                                struct om_layer *dst, int *relation,
                                double *planar_area, struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
