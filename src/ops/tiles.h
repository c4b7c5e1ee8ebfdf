/*
 * tiles.h — internal: the tiles of a layer for local overlays (overlay.c,
 * review.c). Features of more than OM__TILE_SPLIT vertices are cut
 * (om_polyops_subdivide) into pieces of at most OM__TILE_VERTICES
 * vertices, so no overlay ever meets a whole 10^5-vertex polygon.
 * Implemented in overlay.c.
 */
#ifndef ONEMAP_OPS_TILES_H
#define ONEMAP_OPS_TILES_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stddef.h>
#include <stdint.h>

enum { OM__TILE_SPLIT = 1024, OM__TILE_VERTICES = 256 };

/*
 * The selected (`mask` NULL = all), usable (not empty, not invalid)
 * features of `src` as a FINISHED layer of tiles (features up to
 * OM__TILE_SPLIT vertices kept whole); the fid of a tile is the index of
 * its source feature in `src`. Errors: OM_EGEOM naming the feature that
 * cannot be tiled, OM_ENOMEM.
 */
enum om_status om__tiles_make(const struct om_layer *src, const uint8_t *mask,
                              struct om_layer **out, struct om_error *err);

/* Append a copy of feature f of v (geometry only) to dst with id `fid`. */
enum om_status om__copy_feature(struct om_layer *dst,
                                const struct om_layer_view *v, size_t f,
                                int64_t fid, struct om_error *err);

#endif
