/*
 * onemap/crs.h — coordinate reference systems, reprojection and areas on
 * the ellipsoid (the PROJ bridge).
 *
 * Coordinate convention, everywhere in onemap: x is the easting or the
 * longitude, y the northing or the latitude, whatever the official axis
 * order of the CRS (EPSG:4490 is officially lat,lon; onemap still stores
 * lon,lat). Geographic coordinates are in the CRS's angular unit (degrees
 * for every CRS met in practice).
 *
 * CGCS2000 3-degree Gauss-Krüger zones (DESIGN.md §3): zones 25..45 with
 * central meridian 3*zone (75E..135E). With zone prefix (false easting
 * zone*1e6 + 500000 m): EPSG:4513 + (zone - 25) = EPSG:4513..4533. Without
 * prefix (false easting 500000 m): EPSG:4534 + (zone - 25) =
 * EPSG:4534..4554. Jilin lies in zones 41..44.
 *
 * Thread safety: a struct om_crs is immutable after creation and may be
 * read from any number of threads at once. A struct om_transform and a
 * struct om_area_ctx each own a PROJ context and belong to one thread at a
 * time: make one per worker thread.
 */
#ifndef ONEMAP_CRS_H
#define ONEMAP_CRS_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- coordinate reference systems ---- */

struct om_crs;

/*
 * Parse a CRS definition. `spec` may be:
 *   "EPSG:4530", "epsg:4490", a bare code "4530"
 *   "CGCS2000"                 CGCS2000 geographic, EPSG:4490
 *   "CGCS2000/GK3 42"          3-degree zone 42 with zone prefix (EPSG:4530)
 *   "CGCS2000/GK3CM 126"       3-degree zone by central meridian, without
 *                              prefix (EPSG:4551)
 *   (spaces around '/' and case are free in the two forms above)
 *   WKT1 (OGC or ESRI, e.g. a shapefile .prj), WKT2, PROJJSON,
 *   a PROJ string ("+proj=tmerc ..."; "+type=crs" is implied) or anything
 *   else proj_create() accepts ("urn:ogc:def:crs:EPSG::4490", ...).
 * A compound CRS is reduced to its horizontal part. Geocentric CRSs and
 * definitions that are not CRSs are refused.
 *
 * Returns OM_OK and a new CRS in *out (free with om_crs_free); OM_ECRS with
 * a message quoting the spec when it is unknown or unusable (zone or
 * central meridian out of range included); OM_EINVAL for NULL arguments;
 * OM_ENOMEM. On failure *out is NULL.
 */
enum om_status om_crs_new(const char *spec, struct om_crs **out,
                          struct om_error *err);

/* Free a CRS. Accepts NULL. */
void om_crs_free(struct om_crs *crs);

/* The CRS name, e.g. "CGCS2000 / 3-degree Gauss-Kruger zone 42". Never
 * NULL (may be "unknown"). Borrowed, valid until om_crs_free. */
const char *om_crs_name(const struct om_crs *crs);

/*
 * "EPSG:4530" when the CRS has an EPSG identity: given as an EPSG code, or
 * carrying an EPSG ID, or identified by proj_identify() as equivalent to
 * exactly one EPSG CRS (confidence >= 70%, i.e. same datum and coordinate
 * system, names may differ: typical of ESRI .prj files). NULL otherwise.
 */
const char *om_crs_id(const struct om_crs *crs);

/* The EPSG code of om_crs_id, 0 if none. */
int om_crs_epsg(const struct om_crs *crs);

/* The definition as WKT2_2019 (multi-line). Never NULL. Borrowed. */
const char *om_crs_wkt(const struct om_crs *crs);

/* True for a geographic (lon/lat) CRS, false for a projected one. */
bool om_crs_is_geographic(const struct om_crs *crs);

/*
 * True when `a` and `b` describe the same CRS for coordinate work: names,
 * identifiers and the axis order of geographic CRSs are ignored (PROJ's
 * PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS). False when they differ or
 * the comparison cannot be made (out of memory): the caller then
 * transforms, which is always correct. Either may be NULL (false).
 */
bool om_crs_equivalent(const struct om_crs *a, const struct om_crs *b);

/*
 * Parameters of a Transverse Mercator (Gauss-Krüger) projected CRS, read
 * from PROJ's definition: angles in degrees, lengths in metres.
 */
struct om_crs_tm {
    double lat_origin;       /* latitude of natural origin */
    double central_meridian; /* longitude of natural origin */
    double scale;            /* scale factor at natural origin */
    double false_easting;
    double false_northing;
};
/* Fill *tm and return true if `crs` is a Transverse Mercator projection;
 * false otherwise (*tm untouched). */
bool om_crs_get_tm(const struct om_crs *crs, struct om_crs_tm *tm);

/*
 * The ellipsoid of the CRS's geodetic (geographic base) CRS: semi-major
 * axis in metres and flattening (0 for a sphere). CGCS2000: 6378137,
 * 1/298.257222101.
 */
void om_crs_ellipsoid(const struct om_crs *crs, double *a, double *f);

/* ---- CGCS2000 3-degree Gauss-Krüger zones ---- */

#define OM_GK3_ZONE_MIN 25
#define OM_GK3_ZONE_MAX 45

/* The zone whose central meridian is nearest to `lon` (degrees east):
 * round(lon / 3); 0 if that is outside 25..45 or lon is not finite. */
int om_gk3_zone_for_lon(double lon);

/* The EPSG code of a zone, with or without zone prefix; 0 if the zone is
 * outside 25..45. */
int om_gk3_epsg(int zone, bool with_prefix);

/*
 * The zone prefix of an easting written with it, e.g. 42512345.6 -> 42:
 * the first two digits of an 8-digit integer part. 0 when the easting has
 * no prefix (fewer or more digits, negative, not finite) or the prefix is
 * not a zone 25..45.
 */
int om_gk3_zone_from_easting(double easting);

/* Inverse of om_gk3_epsg: the zone of a CGCS2000 GK3 EPSG code (and in
 * *with_prefix, which may be NULL, whether it has the zone prefix);
 * 0 if `epsg` is not one of EPSG:4513..4554. */
int om_gk3_zone_of_epsg(int epsg, bool *with_prefix);

/*
 * The CGCS2000 3-degree zone with zone prefix whose central meridian is
 * nearest to the centre of a lon/lat extent (degrees). OM_ECRS when the
 * centre is outside zones 25..45 (not in China) or the extent is not
 * finite / inverted; OM_ENOMEM. New CRS in *out.
 */
enum om_status om_crs_auto_for_extent(double minlon, double minlat,
                                      double maxlon, double maxlat,
                                      struct om_crs **out,
                                      struct om_error *err);

/* ---- reprojection ---- */

struct om_transform;

/*
 * A transformation from `src` to `dst` (both borrowed: they may be freed
 * afterwards). PROJ chooses the operation (proj_create_crs_to_crs); input
 * and output are in onemap's x/y convention. Between different datums with
 * no known transformation PROJ uses a "ballpark" (datum-ignoring) operation:
 * CGCS2000 <-> WGS 84 is such a case and is fine at the metre level.
 * OM_ECRS when PROJ finds no operation.
 */
enum om_status om_transform_new(const struct om_crs *src,
                                const struct om_crs *dst,
                                struct om_transform **out,
                                struct om_error *err);
/* Free a transform. Accepts NULL. */
void om_transform_free(struct om_transform *t);

/*
 * Transform `npoints` x,y pairs in place. A point that is not finite on
 * input, fails in PROJ or becomes non-finite gives OM_ECRS naming its index
 * (0-based) and input coordinates; the points before it are transformed,
 * the rest are unspecified.
 */
enum om_status om_transform_points(struct om_transform *t, double *xy,
                                   size_t npoints, struct om_error *err);

/*
 * Transform every coordinate of `layer` in place (om_layer_coords_mut),
 * recompute its boxes (om_layer_refresh: the layer must be finished again
 * before it is indexed) and set its CRS to the destination's id
 * ("EPSG:4530") or, without one, its WKT. Failure: OM_ECRS with the layer
 * name as source and the failing feature's fid; OM_ECANCELED. On failure
 * the coordinates are partly transformed and the CRS is unchanged: discard
 * the layer.
 */
enum om_status om_layer_transform(struct om_layer *layer,
                                  struct om_transform *t,
                                  const struct om_progress *progress,
                                  struct om_error *err);

/* ---- areas ---- */

/*
 * An area context: the inverse projection from a CRS to longitude/latitude
 * on its own geodetic base CRS, and the geodesic on that CRS's ellipsoid.
 * Areas are therefore always on the ellipsoid of the layer's geographic
 * base CRS: CGCS2000 for EPSG:4490 and the CGCS2000 GK zones (what official
 * Chinese statistics use), WGS 84 for EPSG:4326 and UTM, Clarke 1866 for
 * NAD27, ... No datum shift is applied. One context per thread.
 */
struct om_area_ctx;

enum om_status om_area_ctx_new(const struct om_crs *crs,
                               struct om_area_ctx **out, struct om_error *err);
/* Free an area context. Accepts NULL. */
void om_area_ctx_free(struct om_area_ctx *ctx);

/*
 * Signed geodesic area (m², counter-clockwise positive in x/y) of a closed
 * ring of `npoints` x,y pairs in the context's CRS: the vertices are
 * converted to lon/lat and joined by geodesics (as GeographicLib's
 * Planimeter does; PROJ's geod_polygonarea). The repeated closing point is
 * optional. Fewer than 3 distinct points give 0. OM_ECRS naming the point
 * when a vertex is not finite or cannot be converted.
 */
enum om_status om_area_ring_ellipsoidal(struct om_area_ctx *ctx,
                                        const double *xy, size_t npoints,
                                        double *signed_area_m2,
                                        struct om_error *err);

/*
 * Geodesic areas edge by edge, for callers that hold a boundary as loose
 * directed segments rather than as rings (the exact area kernel). For any
 * set of directed edges that together form closed loops (each loop in any
 * order of its edges, edges of several loops mixed),
 *
 *   om_area_finish(ctx, Σ s12, Σ transit)
 *
 * over om_area_edge of every edge equals what om_area_ring_ellipsoidal
 * gives for the same loops (summed, signed), up to rounding: it is the
 * decomposition geod_polygon_compute uses internally. The terms are large
 * (s12 is the area between the edge and the equator: ~5e8 m² for a 100 m
 * edge at 43°N) and cancel to the small area, so sum them compensated
 * (Neumaier or a double-double); a plain running sum loses about
 * 1e-16 × Σ|s12| m².
 *
 * An edge is a geodesic between its two endpoints. A straight segment of a
 * projected CRS is not a geodesic, so cutting it at an interior point
 * changes the result by the area between the geodesic and the two
 * geodesics through the cut point (a ring with the cut point as a vertex
 * changes the same way under om_area_ring_ellipsoidal).
 */

/*
 * Longitude/latitude in degrees (lon first; on the CRS's own geodetic base,
 * as om_area_ring_ellipsoidal uses) of `n` points `xy` of the context's
 * CRS, into `lonlat` (2n doubles; may be `xy` itself, converted in place).
 * Longitudes are as PROJ returns them (not reduced to (-180, 180]).
 * OM_ECRS naming the point ("point 7 ...") when one is not finite or
 * cannot be converted; `lonlat` is then unspecified. OM_EINVAL for NULL
 * arguments (n = 0 accepts NULL arrays). Thread: the context's thread.
 */
enum om_status om_area_lonlat(struct om_area_ctx *ctx, const double *xy,
                              size_t n, double *lonlat, struct om_error *err);

/*
 * The area term of the geodesic from ll1 to ll2 ({lon, lat} in degrees,
 * finite, |lat| <= 90; as om_area_lonlat gives them): *s12 = GeographicLib's
 * S12 (m², the area between the geodesic and the equator) and *transit =
 * +1 when the geodesic crosses the prime meridian eastwards, -1 westwards,
 * else 0 (counted as geod_polygon counts them; only the parity of the total
 * matters). A zero-length edge gives 0 and 0. Reads the context only: any
 * number of threads may call it on one context at once. About 1-2 µs.
 */
void om_area_edge(const struct om_area_ctx *ctx, const double ll1[2],
                  const double ll2[2], double *s12, int *transit);

/*
 * The signed area (m², counter-clockwise positive in x/y: the sign
 * convention of om_area_ring_ellipsoidal) of closed loops whose edges'
 * om_area_edge terms sum to `sum` with `transits` transits in all. The
 * result lies in (-A/2, A/2], A the area of the whole ellipsoid. Reads the
 * context only.
 */
double om_area_finish(const struct om_area_ctx *ctx, double sum, long transits);

/*
 * Area of feature `feature` of a layer view in the context's CRS: over all
 * parts, |shell| − Σ|holes| (independent of ring orientation); 0 for an
 * empty feature.
 *   planar_m2:      planar area in the CRS's units squared (m² for the
 *                   GK zones) by the shoelace formula; NaN when the CRS is
 *                   geographic (a planar area in degrees² means nothing).
 *   ellipsoidal_m2: geodesic area on the ellipsoid, as
 *                   om_area_ring_ellipsoidal.
 * Either output may be NULL to skip it. On failure (OM_ECRS, feature = the
 * feature's fid) the outputs are NaN.
 */
enum om_status om_area_feature(struct om_area_ctx *ctx,
                               const struct om_layer_view *v, size_t feature,
                               double *planar_m2, double *ellipsoidal_m2,
                               struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
