/*
 * transform.c — struct om_transform: reprojection of points and of whole
 * layers through PROJ, in onemap's x = easting/longitude, y =
 * northing/latitude order (proj_normalize_for_visualization).
 */
#include "core/core.h"
#include "crs/crs_int.h"

#include <math.h>
#include <string.h>

struct om_transform {
    struct om__pj pj; /* first: its address is given to PROJ */
    PJ *op;           /* normalised operation */
    char *dst_label;  /* destination id or WKT, for om_layer_transform */
};

void om_transform_free(struct om_transform *t)
{
    if (!t) {
        return;
    }
    proj_destroy(t->op);
    om__pj_deinit(&t->pj);
    om__free(t->dst_label);
    om__free(t);
}

enum om_status om_transform_new(const struct om_crs *src,
                                const struct om_crs *dst,
                                struct om_transform **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_transform_new: out is NULL");
    }
    *out = NULL;
    if (!src || !dst) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_transform_new: source or destination CRS is "
                         "NULL");
    }
    struct om_transform *t = om__calloc(1, sizeof *t);
    if (!t) {
        return om__enomem(err, NULL);
    }
    const char *label = om_crs_id(dst) ? om_crs_id(dst) : om_crs_wkt(dst);
    t->dst_label = om__strdup(label);
    if (!t->dst_label) {
        om_transform_free(t);
        return om__enomem(err, NULL);
    }
    enum om_status st = om__pj_init(&t->pj, err);
    if (st != OM_OK) {
        om_transform_free(t);
        return st;
    }
    char why[256];
    PJ *s = om__pj_crs(&t->pj, src);
    PJ *d = om__pj_crs(&t->pj, dst);
    PJ *op = NULL;
    if (!s || !d) {
        st = om__error(
            err, OM_ECRS, NULL, 0, -1, "cannot recreate CRS '%s': %s",
            om_crs_name(s ? dst : src), om__pj_why(&t->pj, why, sizeof why));
        goto out;
    }
    op = proj_create_crs_to_crs_from_pj(t->pj.ctx, s, d, NULL, NULL);
    if (!op) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "no coordinate operation from '%s' to '%s': %s",
                       om_crs_name(src), om_crs_name(dst),
                       om__pj_why(&t->pj, why, sizeof why));
        goto out;
    }
    t->op = proj_normalize_for_visualization(t->pj.ctx, op);
    if (!t->op) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "cannot normalise the axis order of the operation "
                       "from '%s' to '%s': %s",
                       om_crs_name(src), om_crs_name(dst),
                       om__pj_why(&t->pj, why, sizeof why));
    }
out:
    proj_destroy(op);
    proj_destroy(s);
    proj_destroy(d);
    if (st != OM_OK) {
        om_transform_free(t);
        return st;
    }
    *out = t;
    return OM_OK;
}

/* Points are transformed in chunks so that a failure can quote the input
 * coordinates of the failing point. */
#define CHUNK 256

/*
 * Transform n points of xy in place. On failure fill err (source / fid
 * given by the caller) naming point `base + i`.
 */
static enum om_status trans_run(struct om_transform *t, double *xy, size_t n,
                                size_t base, const char *source, int64_t fid,
                                struct om_error *err)
{
    double orig[2 * CHUNK];
    char why[256];
    for (size_t done = 0; done < n; done += CHUNK) {
        size_t k = n - done < CHUNK ? n - done : CHUNK;
        double *p = xy + 2 * done;
        memcpy(orig, p, 2 * k * sizeof *p);
        for (size_t i = 0; i < k; i++) {
            if (!isfinite(p[2 * i]) || !isfinite(p[2 * i + 1])) {
                return om__error(err, OM_ECRS, source, 0, fid,
                                 "point %zu (%.17g, %.17g) is not finite "
                                 "and cannot be transformed",
                                 base + done + i, p[2 * i], p[2 * i + 1]);
            }
        }
        proj_errno_reset(t->op);
        t->pj.last[0] = '\0';
        proj_trans_generic(t->op, PJ_FWD, p, 2 * sizeof(double), k, p + 1,
                           2 * sizeof(double), k, NULL, 0, 0, NULL, 0, 0);
        for (size_t i = 0; i < k; i++) {
            double x = p[2 * i], y = p[2 * i + 1];
            if (!isfinite(x) || !isfinite(y) || x == HUGE_VAL ||
                y == HUGE_VAL) {
                int e = proj_errno(t->op);
                const char *s =
                    t->pj.last[0]
                        ? t->pj.last
                        : (e ? proj_context_errno_string(t->pj.ctx, e) : NULL);
                om__strlcpy(why, s ? s : "result is not finite", sizeof why);
                proj_errno_reset(t->op);
                t->pj.last[0] = '\0';
                return om__error(err, OM_ECRS, source, 0, fid,
                                 "point %zu (%.17g, %.17g) cannot be "
                                 "transformed: %s",
                                 base + done + i, orig[2 * i], orig[2 * i + 1],
                                 why);
            }
        }
    }
    return OM_OK;
}

enum om_status om_transform_points(struct om_transform *t, double *xy,
                                   size_t npoints, struct om_error *err)
{
    if (!t || (!xy && npoints)) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_transform_points: NULL argument");
    }
    return trans_run(t, xy, npoints, 0, NULL, -1, err);
}

enum om_status om_layer_transform(struct om_layer *layer,
                                  struct om_transform *t,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    if (!layer || !t) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_layer_transform: NULL argument");
    }
    struct om_layer_view v;
    om_layer_view(layer, &v);
    double *xy = om_layer_coords_mut(layer);
    const char *name = om_layer_name(layer);
    enum om_status st = OM_OK;
    for (size_t f = 0; f < v.nfeatures && st == OM_OK; f++) {
        if (om__progress(progress, "reproject", f, v.nfeatures)) {
            st = om__error(err, OM_ECANCELED, name, 0, -1,
                           "reprojection canceled");
            break;
        }
        /* Rings of one feature may not be contiguous; go ring by ring. */
        size_t k = 0; /* index of the ring's first point in the feature */
        for (size_t p = v.part_start[f]; p < v.part_start[f + 1]; p++) {
            for (size_t r = v.ring_start[p];
                 r < v.ring_start[p + 1] && st == OM_OK; r++) {
                size_t a = v.point_start[r], b = v.point_start[r + 1];
                st = trans_run(t, xy + 2 * a, b - a, k, name, v.fid[f], err);
                k += b - a;
            }
        }
    }
    if (st == OM_OK) {
        om__progress(progress, "reproject", v.nfeatures, v.nfeatures);
    }
    om_layer_refresh(layer);
    if (st == OM_OK) {
        st = om_layer_set_crs(layer, t->dst_label, err);
    }
    return st;
}
