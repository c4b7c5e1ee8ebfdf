/*
 * layer_int.h — internal layer operations.
 */
#ifndef ONEMAP_GEOM_LAYER_INT_H
#define ONEMAP_GEOM_LAYER_INT_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * Finish parts[0 .. n) (1 <= n <= OM__LAYER_MAX_PARTS; unfinished, not
 * building a feature, the same fields in the same order) as one layer: the
 * layer om__layer_append of parts[1 .. n) onto parts[0] and then
 * om_layer_finish(flags) would give. When reordered, each feature is copied
 * once, straight to its place in the final order (for a city's parcels,
 * the append was a serial copy of half the coordinates into fresh memory);
 * with OM_LAYER_KEEP_ORDER it is that append (parts[0] grows in place). On
 * success parts[0] is that layer and parts[1 .. n) are freed and NULL; on
 * failure the parts can only be freed.
 */
enum { OM__LAYER_MAX_PARTS = 8 };
enum om_status om__layer_finish_parts(struct om_layer **parts, size_t n,
                                      unsigned flags, struct om_error *err);

/*
 * Threads of om_layer_finish's reordering (0: the online cores, at most 4,
 * for layers of a million points or more, else one). For the tests: the
 * layer is the same for any number.
 */
extern int om__layer_permute_threads;

/*
 * Drop every feature, keeping the fields, name, CRS and the arrays' memory:
 * the layer is unfinished and empty, ready to be filled again. For layers
 * used as buffers over and over (a streamed import's chunks): memory
 * touched once costs a page fault per 4 KiB the first time only.
 */
void om__layer_clear(struct om_layer *l);

/* One attribute value of a feature (om__layer_values). */
struct om__value {
    enum om_field_type type;
    bool null;
    int64_t i;     /* OM_FIELD_INT */
    double d;      /* OM_FIELD_REAL */
    const char *s; /* OM_FIELD_TEXT: in the layer, as om_layer_get_text */
};

/*
 * Every attribute of feature f (< nfeatures) into out[0 .. nfields), in
 * one call: writing a layer binds millions of values, and a call with its
 * checks per value was a tenth of it.
 */
void om__layer_values(const struct om_layer *l, size_t f,
                      struct om__value *out);

#endif
