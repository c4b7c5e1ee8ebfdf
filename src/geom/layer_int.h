/*
 * layer_int.h — internal layer operations.
 */
#ifndef ONEMAP_GEOM_LAYER_INT_H
#define ONEMAP_GEOM_LAYER_INT_H

#include "onemap/layer.h"
#include "onemap/status.h"

/*
 * Append every feature of `src` after those of `dst`: both unfinished, not
 * building a feature, with the same fields (names and types) in the same
 * order, as the parts of one table read in ranges of fids. `src` is left
 * as it was. On error `dst` is unchanged.
 */
enum om_status om__layer_append(struct om_layer *dst,
                                const struct om_layer *src,
                                struct om_error *err);

/*
 * Threads of om_layer_finish's reordering (0: the online cores, at most 4,
 * for layers of a million points or more, else one). For the tests: the
 * layer is the same for any number.
 */
extern int om__layer_permute_threads;

#endif
