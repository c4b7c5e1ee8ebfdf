/*
 * onemap/overlay.h — the overlay engine: the pieces of A ∩ B and/or A \ B,
 * split by admin unit, with planar and ellipsoidal areas and (on request)
 * their geometry; and the cross-tab built on it.
 *
 * The engine works on finished flat layers. B and the unit layer are cut
 * into local tiles (om_polyops_subdivide) so that no feature of A is ever
 * overlaid with a whole 10^5-vertex polygon; prepared predicates decide the
 * common cases (A inside one tile, A disjoint) without constructing
 * anything; geometry is built with GEOS only for features of A that cross
 * a boundary. Work runs on `threads` threads over fixed chunks of A in the
 * Hilbert order of its features' boxes (the order om_layer_finish gives;
 * a layer kept in another order, OM_LAYER_KEEP_ORDER, is walked in it
 * too), and the pieces are delivered to the callback in a fixed order
 * (chunk by chunk, A feature by A feature in that order, then by B
 * feature, then by unit), so every result is identical for any thread
 * count.
 *
 * Two engines compute the pieces. GEOS (the reference) builds every piece
 * as above; with geometry wanted and the auto engine, the kernel first
 * tells which B features overlap each feature of A (more than a quarter
 * of a crumb), and GEOS meets only those: features that merely touch (plans
 * digitised from the same parcels share most of their edges) cost no
 * overlay, and the pieces are the same. The exact area kernel (src/ops/areak.h)
 * computes areas only, as boundary integrals, without constructing any
 * geometry: a feature of A far from every edge of B and of the units costs one
 * grid lookup. Both deliver the same pieces in the same order. Planar areas
 * agree to rounding (the kernel is exact up to the floating-point sum of the
 * boundary terms). Ellipsoidal areas are those of the geodesic polygon
 * through a piece's vertices; the GEOS engine cuts big B and unit
 * features into tiles, whose cuts add vertices on the pieces' boundaries
 * (each a slightly different geodesic), so its ellipsoidal areas differ
 * from the kernel's by up to ~1e-7 relative in projected CRSs and ~1e-6
 * in lon/lat; the kernel's equal an untiled GEOS overlay's to rounding.
 */
#ifndef ONEMAP_OVERLAY_H
#define ONEMAP_OVERLAY_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_crs;

#define OM_OVERLAY_NONE ((size_t)-1)

/* One piece: a part of A feature `a` inside B feature `b` (or outside all
 * selected B features when b == OM_OVERLAY_NONE), within unit `unit` (or
 * outside every unit / no units given: OM_OVERLAY_NONE). */
struct om_overlay_piece {
    size_t a;    /* feature index in A */
    size_t b;    /* feature index in B, or OM_OVERLAY_NONE */
    size_t unit; /* feature index in the unit layer, or OM_OVERLAY_NONE */
    double planar_m2;
    double ellipsoidal_m2; /* NaN unless options.ellipsoidal */
    /* With options.want_geometry: the piece as feature `geom_feature` of
     * `geom` (borrowed, valid during the callback only); else NULL. */
    const struct om_layer_view *geom;
    size_t geom_feature;
    size_t layer; /* the layer of B: 0 for options.b, i + 1 for more_b[i] */
};

/* Called once per piece, in the deterministic order described above, from
 * the thread that called om_overlay_run, while the run goes on (the pieces
 * of a chunk of A as soon as it and the chunks before it are done). A
 * non-OK return stops the run. When the run fails, some pieces may have
 * been delivered: the caller drops them. */
typedef enum om_status (*om_overlay_piece_fn)(
    void *ctx, const struct om_overlay_piece *piece, struct om_error *err);

enum om_overlay_engine {
    OM_ENGINE_AUTO = 0, /* the kernel when no geometry is wanted, else
                           GEOS on the pairs the kernel finds
                           overlapping */
    OM_ENGINE_KERNEL,   /* the exact area kernel; OM_EINVAL with
                           want_geometry */
    OM_ENGINE_GEOS      /* the GEOS overlay, the reference path */
};

struct om_overlay_options {
    const struct om_layer *a;
    const struct om_layer *b; /* may be NULL: only splitting A by units
                                 (then every piece is delivered, b NONE,
                                 whatever inside/outside say) */
    /* Selection masks (nfeatures bytes, non-zero = selected); NULL = all.
     * Unselected, empty and invalid features take no part. */
    const uint8_t *a_mask;
    const uint8_t *b_mask;
    const struct om_layer *units; /* optional admin units */
    bool inside;                  /* deliver pieces of A ∩ B */
    bool outside; /* deliver pieces of A \ (union of selected B) */
    bool want_geometry;
    bool ellipsoidal;         /* compute ellipsoidal_m2 (needs crs) */
    const struct om_crs *crs; /* CRS of all layers */
    double min_area_m2;       /* drop pieces with planar area below (m²; for a
                                 geographic CRS converted to degrees² at the
                                 middle latitude of A) */
    int threads;              /* 0 = all cores */
    enum om_overlay_engine engine;
    /*
     * More layers B (b is then required): more_b[i] is layer i + 1, with
     * more_b_mask[i] as its mask (more_b_mask NULL: all features). Each
     * layer has its own pieces (piece.layer), exactly those of a run with
     * that layer alone as b. The kernel walks each feature of A once for
     * all layers, and the pieces come feature of A by feature of A, layer
     * by layer within it; the GEOS engine runs the layers one after the
     * other (all pieces of layer 0 first). Either way, the pieces of one
     * layer come in the order of a run with that layer alone.
     */
    const struct om_layer *const *more_b;
    const uint8_t *const *more_b_mask;
    size_t nmore_b;
    /*
     * A given late: with `a` NULL, a_late(a_late_ctx, &a, err) is called
     * once, and must give A (finished) or fail. The kernel first prepares
     * B and the units, which takes as long as reading a large A: the
     * caller reads A meanwhile (on another thread) and a_late waits for
     * it. The GEOS engine calls it first. Its error is the run's.
     */
    enum om_status (*a_late)(void *ctx, const struct om_layer **a,
                             struct om_error *err);
    void *a_late_ctx;
};

/*
 * Run the overlay. Errors: unfinished layers, a GEOS failure (OM_EGEOM
 * naming both features' fids), OOM, OM_ECANCELED; the callback's status.
 * B features may overlap each other: A ∩ B pieces are per (a, b) pair and
 * may then overlap; A \ B is A minus the union of the B features it meets.
 * Areas of a piece are sums over its fragments (one per B / unit tile), so
 * they do not depend on want_geometry. Remainders (A \ B, outside every
 * unit) below 1e-9 of the A feature's planar area + 1e-6 m², and pieces
 * below 1e-12 of it + 1e-6 m² (in CRS units: degrees² at A's middle
 * latitude for a geographic CRS) are crumbs, not pieces: the rounding of
 * floating-point overlay, or slivers between boundaries that nearly
 * coincide. Both engines drop them.
 */
enum om_status om_overlay_run(const struct om_overlay_options *opt,
                              om_overlay_piece_fn fn, void *ctx,
                              const struct om_progress *progress,
                              struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
