/*
 * areak.h — internal: the exact area kernel. Areas of A ∩ B ∩ U pieces as
 * boundary integrals, without constructing any geometry (DESIGN §5).
 *
 * The zones (the selected features of B and the features of the unit
 * layer U) are prepared once (om__ak_new): their edges in a uniform grid,
 * the set of zones containing every grid corner (a sweep along the grid
 * rows), and every zone edge cut by the edges of the other zones, with the
 * set of other zones containing each of its sub-segments. Then, for one
 * feature a of A (om__ak_feature, any thread, one work area each):
 *
 *   area(a ∩ X) = 1/2 ∮_{∂(a ∩ X)} (x dy − y dx)
 *
 * summed over the pieces of a's edges inside X, the pieces of X's edges
 * inside a, for every region X = (B feature or outside every selected B
 * feature) × (unit or outside every unit). A feature whose box meets no
 * grid cell holding a zone edge costs one corner lookup.
 *
 * Exactness: every topological decision (does an edge cross another, on
 * which side of an edge is a point) is an exact orientation sign
 * (geom/exact.h) made consistent by simulation of simplicity: each zone is
 * moved by an infinitesimal λ·(ε, ε²), λ its rank (a: 0, B feature k:
 * k + 1, unit m: nb + m + 1), so no vertex lies on another feature's edge
 * and no two features' edges overlap. Area is continuous under these
 * moves, so the integral of the moved configuration is the area of the
 * real one: edges shared by a and a zone in the same direction count once,
 * in opposite directions cancel (adjacent, not overlapping); vertices on
 * edges, touching rings, holes, identical polygons and zones overlapping
 * each other need no special case. Only the positions of the crossing
 * points are rounded, which moves areas by rounding only (the sub-segment
 * sums are taken relative to a vertex of a).
 */
#ifndef ONEMAP_OPS_AREAK_H
#define ONEMAP_OPS_AREAK_H

#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/status.h"

#include <stddef.h>
#include <stdint.h>

struct om__ak;
struct om__ak_work;

/*
 * Prepare the zones: the features of `b` selected by `b_mask` (NULL: all)
 * and all features of `units`; either layer may be NULL. Empty and invalid
 * features take no part. Layers must be finished and outlive the kernel.
 * The crossings between zones are found on `threads` threads (>= 1); the
 * result does not depend on it.
 */
enum om_status om__ak_new(const struct om_layer *b, const uint8_t *b_mask,
                          const struct om_layer *units, int threads,
                          struct om__ak **out, struct om_error *err);

/*
 * The same with several layers of B at once, bl[0 .. nbl) (nbl 0: units
 * only): each feature of A is then walked once for all of them. Layers of
 * B are independent: a feature's regions are, for every layer l, (B
 * feature of l or outside every selected feature of l) × (unit or
 * outside every unit), each the area om__ak_new would give with layer l
 * alone (to rounding: the crossing points differ).
 */
struct om__ak_layer {
    const struct om_layer *layer;
    const uint8_t *mask; /* NULL: all */
};
enum om_status om__ak_new_layers(const struct om__ak_layer *bl, size_t nbl,
                                 const struct om_layer *units, int threads,
                                 struct om__ak **out, struct om_error *err);
void om__ak_free(struct om__ak *k);

/* One thread's scratch. */
enum om_status om__ak_work_new(const struct om__ak *k, struct om__ak_work **out,
                               struct om_error *err);
void om__ak_work_free(struct om__ak_work *w);

/*
 * Ellipsoidal areas too (NULL: planar only): each piece of boundary adds
 * its geodesic area term (om_area_edge, between the longitudes/latitudes
 * of its ends), so a region's ellipsoidal area is that of the geodesic
 * polygon through the vertices of its planar piece: the value GEOS's
 * piece would get from om_area_feature. `area` is borrowed, one per
 * thread.
 */
struct om_area_ctx;
void om__ak_work_set_area(struct om__ak_work *w, struct om_area_ctx *area);

/* A region of a feature of A: layer is the layer of B (0 with one or
 * none), b and unit are feature indices of that layer and of the unit
 * layer, or OM_OVERLAY_NONE (outside every selected feature of the layer /
 * every unit, or no such layer). */
struct om__ak_region {
    size_t layer, b, unit;
    double planar; /* the boundary integral: >= 0 up to rounding */
    double ell;    /* ellipsoidal (om__ak_work_set_area), else NaN */
};

/*
 * The regions met by feature `f` of `av` (a valid, non-empty polygon),
 * sorted by layer, b, then unit, OM_OVERLAY_NONE last; *out points into `w` and
 * is valid until the next call. Regions of zero area may be listed (a feature
 * touching a zone); the caller drops them by its own threshold.
 */
enum om_status om__ak_feature(struct om__ak_work *w,
                              const struct om_layer_view *av, size_t f,
                              const struct om__ak_region **out, size_t *n,
                              struct om_error *err);

#endif
