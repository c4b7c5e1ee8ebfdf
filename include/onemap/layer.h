/*
 * onemap/layer.h — the flat columnar polygon layer.
 *
 * A layer is the in-memory form of every polygon dataset onemap works on:
 * one array of coordinates (x,y doubles), ring, part and feature offsets,
 * one bounding box per feature, typed attribute columns, and (after
 * om_layer_finish) features in Hilbert order with a packed R-tree over their
 * boxes. GEOS objects are never the storage; they are made transiently by
 * the operations that need them.
 *
 * Geometry model: a feature is a multipolygon of zero or more parts; a part
 * is one outer ring followed by zero or more holes. Every ring is stored
 * closed (the last point repeats the first), with at least 4 points unless
 * the feature is flagged OM_FEAT_INVALID. Ring orientation is kept as read.
 * A feature with no parts is empty (OM_FEAT_EMPTY).
 *
 * Lifecycle: om_layer_new → (om_layer_add_field)* → for each feature
 * om_layer_begin_feature, (om_layer_begin_part, om_layer_add_ring+)*,
 * om_layer_set_*, om_layer_end_feature → om_layer_finish → read-only use
 * (om_layer_view, om_layer_get_*, om_layer_index) → om_layer_free.
 *
 * Thread safety: building is single-threaded; a finished layer may be read
 * from any number of threads at once.
 */
#ifndef ONEMAP_LAYER_H
#define ONEMAP_LAYER_H

#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An axis-aligned rectangle, passed by value. Empty: minx > maxx. */
struct om_rect {
    double minx, miny, maxx, maxy;
};

/* The empty rectangle (expands to anything). */
struct om_rect om_rect_empty(void);
struct om_rect om_rect_union(struct om_rect a, struct om_rect b);
bool om_rect_intersects(struct om_rect a, struct om_rect b);
bool om_rect_is_empty(struct om_rect r);

enum om_field_type {
    OM_FIELD_INT = 1, /* 64-bit integer */
    OM_FIELD_REAL,    /* double */
    OM_FIELD_TEXT     /* UTF-8 text */
};
const char *om_field_type_name(enum om_field_type t);

/* Per-feature flags. */
enum {
    OM_FEAT_EMPTY = 1u << 0,    /* no geometry (null or empty) */
    OM_FEAT_INVALID = 1u << 1,  /* failed the validity check on import */
    OM_FEAT_REPAIRED = 1u << 2, /* geometry was repaired (MakeValid) */
};

struct om_layer;

/* ---- building ---- */

/* Create an empty layer named `name` (copied). */
enum om_status om_layer_new(const char *name, struct om_layer **out,
                            struct om_error *err);
/* Free a layer and everything it owns. Accepts NULL. */
void om_layer_free(struct om_layer *layer);

/*
 * Add an attribute column (before the first feature). Names are unique,
 * compared without case. Returns the column index in *index (may be NULL).
 */
enum om_status om_layer_add_field(struct om_layer *layer, const char *name,
                                  enum om_field_type type, int *index,
                                  struct om_error *err);

/* Start a feature with source feature id `fid`; attributes start NULL. */
enum om_status om_layer_begin_feature(struct om_layer *layer, int64_t fid,
                                      struct om_error *err);
/* Start a polygon part of the current feature. */
enum om_status om_layer_begin_part(struct om_layer *layer,
                                   struct om_error *err);
/*
 * Append a ring to the current part: `n` points as x,y pairs. A ring that
 * is not closed is closed by appending its first point. The first ring of a
 * part is its shell. Non-finite coordinates are accepted and make the
 * feature OM_FEAT_INVALID (the validity check says why).
 */
enum om_status om_layer_add_ring(struct om_layer *layer, const double *xy,
                                 size_t n, struct om_error *err);
/* Attribute setters for the current feature. Type must match the column. */
enum om_status om_layer_set_int(struct om_layer *layer, int field,
                                int64_t value, struct om_error *err);
enum om_status om_layer_set_real(struct om_layer *layer, int field,
                                 double value, struct om_error *err);
/* `value` is UTF-8, copied; NULL sets NULL. */
enum om_status om_layer_set_text(struct om_layer *layer, int field,
                                 const char *value, struct om_error *err);
/* OR extra OM_FEAT_* flags into the current feature. */
void om_layer_set_flags(struct om_layer *layer, unsigned flags);
/* Finish the current feature. */
enum om_status om_layer_end_feature(struct om_layer *layer,
                                    struct om_error *err);
/* Drop the current (unfinished) feature, e.g. after a read error. */
void om_layer_abort_feature(struct om_layer *layer);

enum {
    OM_LAYER_KEEP_ORDER = 1u << 0, /* do not reorder features */
    /* build no R-tree (om_layer_index gives NULL): for a caller that never
     * searches the layer, e.g. the overlay's A and, with the kernel, B */
    OM_LAYER_NO_INDEX = 1u << 1,
};
/*
 * Seal the layer: features are sorted in Hilbert order of their box
 * centres (unless OM_LAYER_KEEP_ORDER; ties and empty features keep input
 * order) and a packed R-tree is built over the boxes. After this the layer
 * is read-only.
 */
enum om_status om_layer_finish(struct om_layer *layer, unsigned flags,
                               struct om_error *err);

/* Set the CRS definition (e.g. "EPSG:4530" or WKT); copied. NULL clears. */
enum om_status om_layer_set_crs(struct om_layer *layer, const char *crs,
                                struct om_error *err);
enum om_status om_layer_set_name(struct om_layer *layer, const char *name,
                                 struct om_error *err);

/* ---- reading ---- */

const char *om_layer_name(const struct om_layer *layer);
/* NULL when unknown. */
const char *om_layer_crs(const struct om_layer *layer);
size_t om_layer_nfeatures(const struct om_layer *layer);
struct om_rect om_layer_extent(const struct om_layer *layer);
bool om_layer_is_finished(const struct om_layer *layer);

/*
 * A borrowed, read-only view of the geometry arrays; valid until the layer
 * is changed or freed. Feature f has parts part_start[f] .. part_start[f+1]-1
 * (offsets into rings: part p has rings ring_start[p] .. ring_start[p+1]-1),
 * ring r has points point_start[r] .. point_start[r+1]-1, point i is
 * (xy[2i], xy[2i+1]).
 */
struct om_layer_view {
    size_t nfeatures, nparts, nrings, npoints;
    const double *xy;
    const size_t *point_start;  /* nrings + 1 */
    const size_t *ring_start;   /* nparts + 1 */
    const size_t *part_start;   /* nfeatures + 1 */
    const struct om_rect *bbox; /* nfeatures */
    const int64_t *fid;         /* nfeatures: the source feature id */
    const uint8_t *flags;       /* nfeatures: OM_FEAT_* */
};
void om_layer_view(const struct om_layer *layer, struct om_layer_view *view);

/* Replace the coordinates in place (e.g. after reprojection); `xy` holds
 * npoints pairs. Recomputes boxes; the layer must be finished again. */
enum om_status om_layer_set_coords(struct om_layer *layer, const double *xy,
                                   struct om_error *err);
/* Mutable coordinates for in-place transforms; call om_layer_refresh after. */
double *om_layer_coords_mut(struct om_layer *layer);
/* Recompute boxes and extent after coordinates changed; unfinishes. */
void om_layer_refresh(struct om_layer *layer);

size_t om_layer_nfields(const struct om_layer *layer);
const char *om_layer_field_name(const struct om_layer *layer, int field);
enum om_field_type om_layer_field_type(const struct om_layer *layer, int field);
/* Column index by name (ASCII case-insensitive), -1 if none. */
int om_layer_field_index(const struct om_layer *layer, const char *name);

bool om_layer_is_null(const struct om_layer *layer, size_t feature, int field);
/* Typed getters; 0 / NaN / NULL for NULL values or a type mismatch. */
int64_t om_layer_get_int(const struct om_layer *layer, size_t feature,
                         int field);
double om_layer_get_real(const struct om_layer *layer, size_t feature,
                         int field);
const char *om_layer_get_text(const struct om_layer *layer, size_t feature,
                              int field);
/*
 * Any value as text into `buf` (ints in decimal, reals with %.17g, NULL as
 * ""). Returns `buf`.
 */
const char *om_layer_format_value(const struct om_layer *layer, size_t feature,
                                  int field, char *buf, size_t size);
/* Find a feature by source fid; (size_t)-1 if none. O(log n). */
size_t om_layer_find_fid(const struct om_layer *layer, int64_t fid);

/*
 * The feature index of the rank-th smallest fid (0-based), for visiting
 * features in source order; (size_t)-1 past the end.
 */
size_t om_layer_feature_by_fid_rank(const struct om_layer *layer, size_t rank);

/*
 * OR `flags` (OM_FEAT_*) into feature `feature` of a built layer, e.g. to
 * flag geometries found invalid after reading. Allowed on finished layers
 * (flags are not part of the index).
 */
void om_layer_mark(struct om_layer *layer, size_t feature, unsigned flags);

/* Feature counts. */
size_t om_layer_count_flag(const struct om_layer *layer, unsigned flag);

/* ---- spatial index ---- */
struct om_rtree;
/* The layer's packed R-tree (NULL before om_layer_finish, or when
 * finished with OM_LAYER_NO_INDEX). Borrowed. */
const struct om_rtree *om_layer_index(const struct om_layer *layer);

/*
 * Build a packed R-tree over `n` boxes (copied); items are box indices.
 * Boxes that are empty are never returned by a search.
 */
enum om_status om_rtree_build(const struct om_rect *boxes, size_t n,
                              struct om_rtree **out, struct om_error *err);
void om_rtree_free(struct om_rtree *tree);
/* Visitor: return false to stop the search. */
typedef bool (*om_rtree_visit_fn)(void *ctx, size_t item);
/* Call `fn` for every item whose box intersects `query` (closed test). */
void om_rtree_search(const struct om_rtree *tree, struct om_rect query,
                     om_rtree_visit_fn fn, void *ctx);
size_t om_rtree_count(const struct om_rtree *tree);

#ifdef __cplusplus
}
#endif
#endif
