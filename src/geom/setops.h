/*
 * setops.h — internal: union and difference of several flat features with
 * GEOS, for the overlay engine. Implemented in the GEOS bridge (geos.c);
 * one context per thread.
 */
#ifndef ONEMAP_GEOM_SETOPS_H
#define ONEMAP_GEOM_SETOPS_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stddef.h>

/* A feature of some view. */
struct om__fref {
    const struct om_layer_view *v;
    size_t f;
};

struct om__setops;

enum om_status om__setops_new(struct om__setops **out, struct om_error *err);
void om__setops_free(struct om__setops *g);
/* dst's current feature += union(fs[0..n)) (valid polygons). */
enum om_status om__setops_union(struct om__setops *g, const struct om__fref *fs,
                                size_t n, struct om_layer *dst,
                                struct om_error *err);
/* dst's current feature += a \ union(fs[0..n)). */
enum om_status om__setops_difference(struct om__setops *g, struct om__fref a,
                                     const struct om__fref *fs, size_t n,
                                     struct om_layer *dst,
                                     struct om_error *err);

#endif
