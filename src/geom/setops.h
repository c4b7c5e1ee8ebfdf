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

/*
 * Node a set of polylines and polygonize the arrangement (for the qc
 * topology checks): the lines are given as points xy (x,y pairs), line
 * i = points start[i] .. start[i+1]-1 (nlines + 1 offsets; lines of
 * fewer than 2 points are ignored). They are noded and
 * deduplicated (GEOSUnaryUnion) and polygonized (GEOSPolygonize); every
 * bounded face becomes one feature of dst (fid = face index, from 0;
 * shells CCW, holes CW), and *pts (om__malloc'ed, 2 doubles per face, NULL
 * when there is none) an interior point of it (GEOSPointOnSurface).
 * *nfaces is the number of features appended. On failure dst may hold some
 * faces (the caller discards it) and *pts is NULL.
 */
enum om_status om__setops_polygonize(struct om__setops *g, const double *xy,
                                     const size_t *start, size_t nlines,
                                     struct om_layer *dst, double **pts,
                                     size_t *nfaces, struct om_error *err);
/* An interior point of feature f of v (GEOSPointOnSurface); NaN, NaN for
 * an empty feature. */
enum om_status om__setops_interior_point(struct om__setops *g,
                                         const struct om_layer_view *v,
                                         size_t f, double *x, double *y,
                                         struct om_error *err);

#endif
