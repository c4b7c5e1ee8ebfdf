/*
 * validity.h — internal: the validity of every feature of a layer,
 * checked on threads (one GEOS context each), for import and repair.
 */
#ifndef ONEMAP_OPS_VALIDITY_H
#define ONEMAP_OPS_VALIDITY_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stddef.h>
#include <stdint.h>

/*
 * invalid[f] = 1 for every non-empty feature of `v` that om_polyops_check
 * finds invalid (the caller zeroes `invalid`). `threads` <= 0: one per
 * core. Progress is reported as `phase` from the calling thread; cancel
 * stops every thread with OM_ECANCELED naming `what`. The outcome, and the
 * error reported (the first chunk's), are the same for any thread count.
 */
enum om_status om__check_all(const struct om_layer_view *v, int threads,
                             uint8_t *invalid, const char *what,
                             const char *phase,
                             const struct om_progress *progress,
                             struct om_error *err);

#endif
