/*
 * onemap/geom.h — planar geometry helpers on flat coordinate arrays.
 *
 * Pure arithmetic, no third-party library. Thread-safe.
 */
#ifndef ONEMAP_GEOM_H
#define ONEMAP_GEOM_H

#include "onemap/layer.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Signed area of a closed ring of `npoints` x,y pairs (last == first),
 * positive when counter-clockwise. Computed relative to the first vertex so
 * that 8-digit Gauss-Krüger eastings keep full precision, with compensated
 * (Kahan–Neumaier) summation. Units: the coordinates' units squared.
 */
double om_ring_area_planar(const double *xy, size_t npoints);

/*
 * Planar area of a feature: for each part |shell| − Σ|holes|, summed over
 * parts. Orientation-independent. 0 for an empty feature.
 */
double om_feature_area_planar(const struct om_layer_view *v, size_t feature);

/* Number of vertices of a feature (closing points included). */
size_t om_feature_npoints(const struct om_layer_view *v, size_t feature);

#ifdef __cplusplus
}
#endif
#endif
