/*
 * area.c — planar polygon areas on the flat layer.
 */
#include "onemap/geom.h"

#include <math.h>

double om_ring_area_planar(const double *xy, size_t n)
{
    if (n < 4) {
        return 0.0;
    }
    /* Shoelace relative to the first vertex: sum of cross products of
     * (p_i - p_0) x (p_{i+1} - p_0). Neumaier summation keeps the error
     * at a few ulps of the result even for long rings. */
    double x0 = xy[0], y0 = xy[1];
    double sum = 0.0, comp = 0.0;
    double px = xy[2] - x0, py = xy[3] - y0;
    for (size_t i = 2; i + 1 < n; i++) {
        double qx = xy[2 * i] - x0, qy = xy[2 * i + 1] - y0;
        double term = px * qy - qx * py;
        double t = sum + term;
        if (fabs(sum) >= fabs(term)) {
            comp += (sum - t) + term;
        } else {
            comp += (term - t) + sum;
        }
        sum = t;
        px = qx;
        py = qy;
    }
    return 0.5 * (sum + comp);
}

double om_feature_area_planar(const struct om_layer_view *v, size_t f)
{
    double area = 0.0;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            double ra = fabs(om_ring_area_planar(v->xy + 2 * a, b - a));
            area += r == v->ring_start[p] ? ra : -ra;
        }
    }
    return area;
}

size_t om_feature_npoints(const struct om_layer_view *v, size_t f)
{
    size_t p0 = v->part_start[f], p1 = v->part_start[f + 1];
    if (p1 == p0) {
        return 0;
    }
    return v->point_start[v->ring_start[p1]] -
           v->point_start[v->ring_start[p0]];
}
