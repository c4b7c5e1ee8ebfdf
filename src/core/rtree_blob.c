/*
 * rtree_blob.c — the cells of SQLite R-tree nodes (core.h): shared by the
 * project store (store_rtree.c) and the GeoPackage writer (gdal_stream.c),
 * which both write their spatial indexes node by node.
 */
#include "core/core.h"

#include <math.h>
#include <string.h>

static void put_be32f(uint8_t *p, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

void om__rtree_put_cell(uint8_t *p, int64_t id, const float b[4])
{
    uint64_t v = (uint64_t)id;
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
    for (int k = 0; k < 4; k++) {
        put_be32f(p + 8 + 4 * k, b[k]);
    }
}

static float down(double d)
{
    float f = (float)d;
    return (double)f > d ? nextafterf(f, -INFINITY) : f;
}

static float up(double d)
{
    float f = (float)d;
    return (double)f < d ? nextafterf(f, INFINITY) : f;
}

void om__rtree_bounds(float b[4], double minx, double miny, double maxx,
                      double maxy)
{
    b[0] = down(minx);
    b[1] = up(maxx);
    b[2] = down(miny);
    b[3] = up(maxy);
}
