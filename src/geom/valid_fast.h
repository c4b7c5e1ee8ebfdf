/*
 * valid_fast.h — internal: an exact, conservative polygon validity
 * pre-check that spares GEOS the common case.
 *
 * om__valid_fast(v, f) returns true only if feature f of the view is valid
 * under the OGC rules as GEOS 3.11 IsValid applies them (flags 0: a shell
 * touching itself is invalid). false means "not proven valid", never
 * "invalid": the caller then asks GEOS, which also gives the reason and
 * location. The decision uses exact orientation signs (geom/exact.h), no
 * tolerance.
 *
 * Proven valid (anything else gives false):
 *  - every ring closed, finite, at least 4 points after dropping repeated
 *    consecutive points (repeated points are allowed);
 *  - no segment meets a non-adjacent segment of its ring, not even at a
 *    single point, and two adjacent segments do not fold back onto each
 *    other (collinear vertices that go on forward are fine);
 *  - rings meet each other only where two of them touch at a single
 *    point, a vertex of at least one, without crossing or overlapping
 *    there; within a polygon, no two rings touch twice and the touches
 *    join its rings without a cycle (either would cut the interior);
 *    three rings at one point give false (GEOS accepts some of those);
 *  - each hole is inside its shell and outside the other holes of its
 *    part; each shell is outside the other shells (a part inside another
 *    part's hole gives false);
 *  - at most OM__VALID_FAST_MAX_POINTS points and OM__VALID_FAST_MAX_RINGS
 *    rings in the feature, and a shape the sweep over its segments gets
 *    through in about 64 steps a point (a spiral of long edges does not);
 *  - on each axis every difference of two coordinates of the feature is an
 *    exact double (true for real data unless its coordinates come near 0,
 *    e.g. straddle the 0 meridian or a local origin); then GEOS's
 *    double-double orientation is exact too and sees the same signs.
 *
 * Thread safety: a pure function of the view; uses about 32 KB of stack,
 * and a block of about 60 bytes a point from the heap for a feature of more
 * than 512 points or 64 rings, and a little more where rings touch (out of
 * memory: false). The sweep used for dense big features (see
 * om__valid_fast_sweep) leaves touching rings to GEOS.
 */
#ifndef ONEMAP_GEOM_VALID_FAST_H
#define ONEMAP_GEOM_VALID_FAST_H

#include "onemap/layer.h"

#include <stdbool.h>
#include <stddef.h>

enum {
    OM__VALID_FAST_MAX_POINTS = 1 << 24,
    OM__VALID_FAST_MAX_RINGS = 1 << 24,
};

bool om__valid_fast(const struct om_layer_view *v, size_t f);

/*
 * How a big feature's segments are tested for meeting (valid_fast.c): 0
 * (default) in a grid, or by a sweep where the grid is dense; 1 always by
 * the sweep, every feature (tests); -1 never by the sweep.
 */
extern int om__valid_fast_sweep;

#endif
