/*
 * hilbert.h — Hilbert curve keys for sorting features and packing R-trees.
 */
#ifndef ONEMAP_HILBERT_H
#define ONEMAP_HILBERT_H

#include "onemap/layer.h"

#include <stddef.h>
#include <stdint.h>

/* Key of (x,y) on a 2^16 x 2^16 grid, 0 .. 2^32-1. */
uint32_t om__hilbert_xy(uint32_t x, uint32_t y);

/*
 * Hilbert keys of the box centres of `boxes` on a grid over `extent`.
 * Empty boxes get UINT32_MAX.
 */
void om__hilbert_keys(const struct om_rect *boxes, size_t n,
                      struct om_rect extent, uint32_t *keys);

/*
 * A permutation sorting `keys` ascending, ties in input order (stable).
 * `perm` receives n indices. Returns false on OOM (and for n >= 2^32).
 */
bool om__hilbert_order(const uint32_t *keys, size_t n, size_t *perm);

#endif
