/*
 * test_areak_real.c — the exact area kernel (ops/areak.h) on real
 * coverages, against an untiled GEOS arrangement and against exact
 * answers that the data give for free.
 *
 * Data (../shared/data): the 516 communes of Bas-Rhin (france-communes,
 * IGN Admin Express COG 2018 / INSEE, Licence Ouverte; EPSG:4326) in
 * Lambert-93 (EPSG:2154), and the 3,121 census tracts of Illinois
 * (us-tracts-2018, US Census cb_2018; NAD83, EPSG:4269) in CONUS Albers
 * (EPSG:5070), both reprojected with om_layer_transform. Zones and units
 * are dissolves of them (om__setops_union: GEOS UnaryUnion), so their
 * edges are the features' own edges, vertex for vertex:
 *   - communes: Z3 = by the first three digits of the INSEE code (6
 *     zones), Z7 = by the code mod 7 (7 zones); both are scattered
 *     multipolygons with holes (the codes are alphabetical); units U =
 *     by the code / 200 (3 units, each the union of two Z3 zones);
 *   - tracts: counties = by COUNTYFP (102), units = by COUNTYFP / 40 (6).
 * Scenes (A against B, split by units U):
 *   1. communes × Z3 × U, 2. communes × Z7 × U: each commune lies in its
 *      own zone and unit: that one region has the commune's area, every
 *      other region (other zones, outside every zone, outside every unit)
 *      is 0 to 1e-6 m2;
 *   3. Z3 × Z7 × U (dissolves against dissolves, 6 A features of some
 *      4,000 vertices): each region is a union of communes, its area the
 *      sum of theirs;
 *   4. communes × Z7 moved by (137.31, -91.27) m × U moved by (-53.83,
 *      211.69) m: the same shapes in general position, GEOS only;
 *   5. tracts × counties × units: each tract in its own county and unit
 *      (test_areak.c overlays a window of ~270 tracts in a GK-like CRS
 *      with the us-atlas counties, another edition, as B: not this).
 * Oracles, per A feature:
 *   - the arrangement (untiled GEOS): the feature's rings and every edge
 *     of B and of U whose box meets the feature's box, noded at once and
 *     polygonized (om__setops_polygonize: GEOSUnaryUnion + GEOSPolygonize,
 *     OverlayNG noding, each crossing point computed once from the
 *     original segments, as the kernel does); the faces inside the
 *     feature are classified by an interior point (even-odd against the
 *     whole B and U features) and their areas summed per (B feature,
 *     unit); planar areas by the shoelace on an exactly translated copy
 *     (see arrangement), ellipsoidal ones (scenes 1, 2, 4) by
 *     om_area_feature on the edges as they are;
 *   - the exact answers of scenes 1, 2, 3 and 5 above (planar: shoelace
 *     of the communes / tracts; ellipsoidal, scenes 1 and 2: om_area_feature
 *     of the communes, whose boundaries are the regions' boundaries).
 * Every region of either side is compared (a region missing on one side
 * counts as 0): planar to 1e-9 relative or 1e-6 m2; ellipsoidal (the
 * kernel with om__ak_work_set_area) to 1e-9 relative or 1e-6 m2 as well
 * (the kernel and the arrangement sum the geodesic terms of the same
 * vertices; scene 4's small pieces come within a factor 2 of it). In
 * scene 3 only, a region one side lacks may be a crumb (see struct
 * scene). The worst differences (and difference / bound) are printed on
 * INFO lines, and up to 12 offending regions before a FAIL line. About
 * 15 s at -O2, 35 s under ASan+UBSan.
 */
#include "core/core.h"
#include "geom/setops.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "ops/areak.h"
#include "test.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

/* the shared kernel-test helpers; this file uses the buffers and the
 * validity check, not the random shapes */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "areak_fixtures.h"
#pragma GCC diagnostic pop

#define COMMUNES "france-communes/communes-67-bas-rhin.geojson"
#define TRACTS "us-tracts-2018/cb_2018_17_tract_500k.json"

/* The bounds: relative, and absolute in m2. */
#define REL_TOL 1e-9
#define ABS_TOL 1e-6

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- loading ---- */

/* Copy feature f of v (all its rings, moved by dx, dy) into l's current
 * feature. */
static enum om_status copy_rings(struct om_layer *l,
                                 const struct om_layer_view *v, size_t f,
                                 double dx, double dy, struct pts *buf,
                                 struct om_error *err)
{
    enum om_status st = OM_OK;
    for (size_t p = v->part_start[f]; st == OM_OK && p < v->part_start[f + 1];
         p++) {
        st = om_layer_begin_part(l, err);
        for (size_t r = v->ring_start[p];
             st == OM_OK && r < v->ring_start[p + 1]; r++) {
            buf->n = 0;
            for (size_t i = v->point_start[r]; i < v->point_start[r + 1]; i++) {
                pts_push(buf, v->xy[2 * i] + dx, v->xy[2 * i + 1] + dy);
            }
            st = om_layer_add_ring(l, buf->xy, buf->n, err);
        }
    }
    return st;
}

/*
 * The polygons of `rel` (read as CRS src_crs), reprojected to dst_crs,
 * with an INT field "code" = the text field `code_field` as a number; the
 * features GEOS finds invalid after reprojection left out (counted in
 * *ninvalid).
 */
static enum om_status load(const char *rel, const char *src_crs,
                           const char *dst_crs, const char *code_field,
                           struct om_layer **out, size_t *ninvalid,
                           struct om_error *err)
{
    char path[1024];
    test_data_path(rel, path, sizeof path);
    struct om_layer *src = NULL, *tmp = NULL, *dst = NULL;
    struct om_crs *cs = NULL, *cd = NULL;
    struct om_transform *t = NULL;
    struct om_polyops *geos = NULL;
    struct pts buf = {0};
    int tf = 0, df = 0, cf = -1;
    *out = NULL;
    *ninvalid = 0;
    enum om_status st = om_source_read(path, NULL, &src, NULL, err);
    if (st == OM_OK) {
        cf = om_layer_field_index(src, code_field);
        st = cf < 0 ? OM_ENOTFOUND : OM_OK;
    }
    if (st == OM_OK) {
        st = om_layer_new(om_layer_name(src), &tmp, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(tmp, "code", OM_FIELD_INT, &tf, err);
    }
    struct om_layer_view v;
    if (st == OM_OK) {
        om_layer_view(src, &v);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        if (v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID)) {
            *ninvalid += 1;
            continue;
        }
        const char *code = om_layer_get_text(src, f, cf);
        st = om_layer_begin_feature(tmp, v.fid[f], err);
        if (st == OM_OK) {
            st = copy_rings(tmp, &v, f, 0.0, 0.0, &buf, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(tmp, tf, code ? atoll(code) : -1, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(tmp, err);
        }
    }
    if (st == OM_OK) {
        st = om_crs_new(src_crs, &cs, err);
    }
    if (st == OM_OK) {
        st = om_crs_new(dst_crs, &cd, err);
    }
    if (st == OM_OK) {
        st = om_transform_new(cs, cd, &t, err);
    }
    if (st == OM_OK) {
        st = om_layer_transform(tmp, t, NULL, err);
    }
    if (st == OM_OK) {
        st = om_polyops_new(&geos, err);
    }
    if (st == OM_OK) {
        st = om_layer_new(om_layer_name(src), &dst, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(dst, dst_crs, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(dst, "code", OM_FIELD_INT, &df, err);
    }
    struct om_layer_view tv;
    if (st == OM_OK) {
        om_layer_view(tmp, &tv);
    }
    for (size_t f = 0; st == OM_OK && f < tv.nfeatures; f++) {
        struct om_validity val;
        st = om_polyops_check(geos, &tv, f, &val, err);
        if (st != OM_OK || !val.is_valid) {
            *ninvalid += st == OM_OK;
            continue;
        }
        st = om_layer_begin_feature(dst, tv.fid[f], err);
        if (st == OM_OK) {
            st = copy_rings(dst, &tv, f, 0.0, 0.0, &buf, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(dst, df, om_layer_get_int(tmp, f, tf), err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(dst, 0, err);
    }
    free(buf.xy);
    om_polyops_free(geos);
    om_transform_free(t);
    om_crs_free(cs);
    om_crs_free(cd);
    om_layer_free(tmp);
    om_layer_free(src);
    if (st != OM_OK) {
        om_layer_free(dst);
        return st;
    }
    *out = dst;
    return OM_OK;
}

/* ---- dissolves ---- */

typedef int64_t (*group_fn)(int64_t code);

static int64_t by_prefix3(int64_t code)
{
    return code / 100; /* INSEE 67xyz: 670 .. 675 */
}

static int64_t by_mod7(int64_t code)
{
    return code % 7;
}

static int64_t by_200(int64_t code)
{
    return code / 200; /* 335 .. 337: two prefix groups each */
}

static int64_t by_county(int64_t code)
{
    return code;
}

static int64_t by_county40(int64_t code)
{
    return code / 40;
}

/*
 * The union of the features of l in each group g(code), as a layer named
 * `name` (fid = the group, field "code" = the group); its CRS is l's.
 */
static enum om_status dissolve(const struct om_layer *l, group_fn g,
                               const char *name, struct om_layer **out,
                               struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    int cf = om_layer_field_index(l, "code");
    struct om__fref *refs = xcalloc(v.nfeatures, sizeof *refs);
    bool *done = xcalloc(v.nfeatures, sizeof *done);
    struct om__setops *sx = NULL;
    struct om_layer *u = NULL;
    int uf = 0;
    enum om_status st = om__setops_new(&sx, err);
    if (st == OM_OK) {
        st = om_layer_new(name, &u, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(u, om_layer_crs(l), err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(u, "code", OM_FIELD_INT, &uf, err);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        if (done[f]) {
            continue;
        }
        int64_t key = g(om_layer_get_int(l, f, cf));
        size_t n = 0;
        for (size_t k = f; k < v.nfeatures; k++) {
            if (!done[k] && g(om_layer_get_int(l, k, cf)) == key) {
                done[k] = true;
                refs[n++] = (struct om__fref){&v, k};
            }
        }
        st = om_layer_begin_feature(u, key, err);
        if (st == OM_OK) {
            st = om__setops_union(sx, refs, n, u, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(u, uf, key, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(u, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(u, 0, err);
    }
    om__setops_free(sx);
    free(refs);
    free(done);
    if (st != OM_OK) {
        om_layer_free(u);
        u = NULL;
    }
    *out = u;
    return st;
}

/* A copy of l moved by (dx, dy), named `name`. */
static enum om_status moved(const struct om_layer *l, double dx, double dy,
                            const char *name, struct om_layer **out,
                            struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om_layer *m = NULL;
    struct pts buf = {0};
    enum om_status st = om_layer_new(name, &m, err);
    if (st == OM_OK) {
        st = om_layer_set_crs(m, om_layer_crs(l), err);
    }
    for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
        st = om_layer_begin_feature(m, v.fid[f], err);
        if (st == OM_OK) {
            st = copy_rings(m, &v, f, dx, dy, &buf, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(m, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(m, 0, err);
    }
    free(buf.xy);
    if (st != OM_OK) {
        om_layer_free(m);
        m = NULL;
    }
    *out = m;
    return st;
}

/* Parts and holes of a layer, for the INFO lines. */
static void count_parts(const struct om_layer *l, size_t *nparts,
                        size_t *nholes, size_t *npoints)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    *nparts = v.nparts;
    *nholes = v.nrings - v.nparts;
    *npoints = v.npoints;
}

/* ---- regions ---- */

/* One region of one A feature: B feature b, unit u (or NONE). */
struct region {
    size_t b, u;
    double planar, ell;
};

struct rlist {
    struct region *r;
    size_t n, cap;
};

/* r[(b, u)] += (planar, ell), the entry made when new. */
static void rl_add(struct rlist *l, size_t b, size_t u, double planar,
                   double ell)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].b == b && l->r[i].u == u) {
            l->r[i].planar += planar;
            l->r[i].ell += ell;
            return;
        }
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->r = xrealloc(l->r, l->cap * sizeof *l->r);
    }
    l->r[l->n++] = (struct region){b, u, planar, ell};
}

static const struct region *rl_find(const struct rlist *l, size_t b, size_t u)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->r[i].b == b && l->r[i].u == u) {
            return &l->r[i];
        }
    }
    return NULL;
}

/* ---- the arrangement oracle ---- */

struct arr {
    struct om__setops *sx;
    struct om_area_ctx *area; /* NULL: planar only */
    struct pts lines;
    size_t *start;
    size_t nlines, cap_start;
    struct om__fref *refs;
    size_t nrefs, cap_refs;
};

/* Even-odd: is (x, y) inside feature f of v? */
static bool inside(const struct om_layer_view *v, size_t f, double x, double y)
{
    struct om_rect bb = v->bbox[f];
    if (x < bb.minx || x > bb.maxx || y < bb.miny || y > bb.maxy) {
        return false;
    }
    bool in = false;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            const double *xy = v->xy + 2 * v->point_start[r];
            size_t n = v->point_start[r + 1] - v->point_start[r];
            for (size_t i = 0; i + 1 < n; i++) {
                double ax = xy[2 * i], ay = xy[2 * i + 1];
                double bx = xy[2 * i + 2], by = xy[2 * i + 3];
                if ((ay > y) != (by > y) &&
                    x < ax + (y - ay) * (bx - ax) / (by - ay)) {
                    in = !in;
                }
            }
        }
    }
    return in;
}

/* End the current polyline (started where the previous one ended). */
static void line_end(struct arr *o)
{
    if (o->nlines + 2 > o->cap_start) {
        o->cap_start = 2 * o->cap_start + 64;
        o->start = xrealloc(o->start, o->cap_start * sizeof *o->start);
    }
    if (o->nlines == 0) {
        o->start[0] = 0;
    }
    if (o->lines.n > o->start[o->nlines]) {
        o->start[++o->nlines] = o->lines.n;
    }
}

/*
 * The edges of feature f of v whose boxes meet r, as polylines, moved by
 * (-ox, -oy) (exactly: see arrangement).
 */
static void add_edges(struct arr *o, const struct om_layer_view *v, size_t f,
                      struct om_rect r, double ox, double oy)
{
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t q = v->ring_start[p]; q < v->ring_start[p + 1]; q++) {
            const double *xy = v->xy + 2 * v->point_start[q];
            size_t n = v->point_start[q + 1] - v->point_start[q];
            bool open = false;
            for (size_t i = 0; i + 1 < n; i++) {
                struct om_rect e = {fmin(xy[2 * i], xy[2 * i + 2]),
                                    fmin(xy[2 * i + 1], xy[2 * i + 3]),
                                    fmax(xy[2 * i], xy[2 * i + 2]),
                                    fmax(xy[2 * i + 1], xy[2 * i + 3])};
                if (!om_rect_intersects(e, r)) {
                    if (open) {
                        line_end(o);
                        open = false;
                    }
                    continue;
                }
                if (!open) {
                    pts_push(&o->lines, xy[2 * i] - ox, xy[2 * i + 1] - oy);
                    open = true;
                }
                pts_push(&o->lines, xy[2 * i + 2] - ox, xy[2 * i + 3] - oy);
            }
            if (open) {
                line_end(o);
            }
        }
    }
}

/* refs += the features of v whose box meets r; their number. */
static size_t near_refs(struct arr *o, const struct om_layer_view *v,
                        struct om_rect r)
{
    size_t n0 = o->nrefs;
    for (size_t f = 0; v && f < v->nfeatures; f++) {
        if (om_rect_intersects(v->bbox[f], r)) {
            if (o->nrefs == o->cap_refs) {
                o->cap_refs = 2 * o->cap_refs + 16;
                o->refs = xrealloc(o->refs, o->cap_refs * sizeof *o->refs);
            }
            o->refs[o->nrefs++] = (struct om__fref){v, f};
        }
    }
    return o->nrefs - n0;
}

/*
 * The faces of the arrangement of the edges gathered in o (moved by
 * (-ox, -oy)) inside feature a of av, classified against o->refs (the
 * first nb of them B features, then units), with their planar
 * (planar_too) or ellipsoidal areas (!planar_too) added to out.
 */
static enum om_status faces_into(struct arr *o, const struct om_layer_view *av,
                                 size_t a, size_t nb, double ox, double oy,
                                 bool planar_too, struct rlist *out,
                                 size_t *nfaces_in, struct om_error *err)
{
    struct om_layer *faces = NULL;
    double *ip = NULL;
    size_t nfaces = 0;
    enum om_status st = om_layer_new("faces", &faces, err);
    if (st == OM_OK) {
        st = om__setops_polygonize(o->sx, o->lines.xy, o->start, o->nlines,
                                   faces, &ip, &nfaces, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(faces, OM_LAYER_KEEP_ORDER, err);
    }
    struct om_layer_view fv;
    if (st == OM_OK) {
        om_layer_view(faces, &fv);
    }
    for (size_t k = 0; st == OM_OK && k < nfaces; k++) {
        /* an interior point: strictly inside its face, so moving it back
         * (rounded) leaves it on the same side of every edge */
        double x = ip[2 * k] + ox, y = ip[2 * k + 1] + oy;
        if (!inside(av, a, x, y)) {
            continue;
        }
        size_t b = NONE, u = NONE;
        for (size_t i = 0; i < o->nrefs; i++) {
            const struct om__fref *f = &o->refs[i];
            size_t *slot = i < nb ? &b : &u;
            if (*slot == NONE && inside(f->v, f->f, x, y)) {
                *slot = f->f;
            }
        }
        double ell = 0.0;
        if (!planar_too) {
            st = om_area_feature(o->area, &fv, k, NULL, &ell, err);
        }
        rl_add(out, b, u, planar_too ? om_feature_area_planar(&fv, k) : 0.0,
               ell);
        *nfaces_in += planar_too;
    }
    om__free(ip);
    om_layer_free(faces);
    return st;
}

/* Feature a's edges and those of refs whose boxes meet a's box, moved by
 * (-ox, -oy), as the lines of o. */
static void gather(struct arr *o, const struct om_layer_view *av, size_t a,
                   double ox, double oy)
{
    struct om_rect box = av->bbox[a];
    o->lines.n = 0;
    o->nlines = 0;
    add_edges(o, av, a, box, ox, oy);
    for (size_t i = 0; i < o->nrefs; i++) {
        add_edges(o, o->refs[i].v, o->refs[i].f, box, ox, oy);
    }
}

/*
 * The regions of feature a of av in the arrangement with the B features
 * of bv and the units of uv (either may be NULL) into out; *nfaces_in +=
 * the faces inside a.
 *
 * Planar areas: the edges are moved by (-ox, -oy), a multiple of 1024 m
 * near the feature, so that GEOS computes the crossing points and the
 * shoelace near 0 (the vertices to ~1e-11 m instead of ~1e-9 m at
 * y ~ 7e6): the translation is exact (ox is a multiple of every
 * coordinate's ulp and the differences are smaller than the coordinates)
 * and changes no area. Ellipsoidal areas: on the edges as they are, as
 * the kernel's: its crossing points for them are absolute doubles too (a
 * vertex moved by an ulp moves a 1,000 m2 piece's geodesic area by ~1e-6
 * m2: the area terms are rounded on the scale of the area between each
 * edge and the equator).
 */
static enum om_status arrangement(struct arr *o, const struct om_layer_view *av,
                                  size_t a, const struct om_layer_view *bv,
                                  const struct om_layer_view *uv,
                                  struct rlist *out, size_t *nfaces_in,
                                  struct om_error *err)
{
    struct om_rect box = av->bbox[a];
    double ox = 1024.0 * nearbyint(box.minx / 1024.0);
    double oy = 1024.0 * nearbyint(box.miny / 1024.0);
    out->n = 0;
    o->nrefs = 0;
    size_t nb = near_refs(o, bv, box);
    near_refs(o, uv, box);
    gather(o, av, a, ox, oy);
    enum om_status st =
        faces_into(o, av, a, nb, ox, oy, true, out, nfaces_in, err);
    if (st == OM_OK && o->area) {
        gather(o, av, a, 0.0, 0.0);
        st = faces_into(o, av, a, nb, 0.0, 0.0, false, out, nfaces_in, err);
    }
    return st;
}

/* ---- a scene ---- */

struct scene {
    const char *what;
    const struct om_layer *a, *b, *u;
    const struct om_crs *crs; /* ellipsoidal areas too, else NULL */
    /* the exact answer (NULL: none): the regions of A feature f are
     * ex[f] and nothing else */
    const struct rlist *ex;
    /* a region only one side has may be a crumb: below 1e-9 of the A
     * feature's area + 1e-6 m2, the overlay's threshold (overlay.h), for A
     * features of 1e9 m2 whose empty regions are the sums of boundary
     * terms of up to 1e10 m2 that cancel (else: below 1e-6 m2) */
    bool crumbs;
};

/* The worst differences against one oracle. */
struct worst {
    size_t n;
    double abs, rel;       /* rel: of regions of 1 m2 or more */
    double abs_at, rel_at; /* the regions' areas */
    double ratio;          /* diff / the bound: <= 1 passes */
};

/* The bound on |x - y|: REL_TOL relative or `floor` m2. */
static double bound(double x, double y, double floor)
{
    return fmax(REL_TOL * fmax(fabs(x), fabs(y)), floor);
}

static void track(struct worst *w, double x, double y, double floor)
{
    double d = fabs(x - y), m = fmax(fabs(x), fabs(y));
    w->n++;
    if (d > w->abs) {
        w->abs = d;
        w->abs_at = m;
    }
    if (m >= 1.0 && d / m > w->rel) {
        w->rel = d / m;
        w->rel_at = m;
    }
    w->ratio = fmax(w->ratio, d / bound(x, y, floor));
}

struct run {
    const struct scene *s;
    struct om_layer_view av, bv, uv;
    struct worst pl[2], el[2]; /* [0] the arrangement, [1] the exact */
    size_t ncells, npieces, nfaces;
    int nbad;
};

/* "communes fid 12 / Z7 fid 3 / U fid 335", for messages. */
static const char *describe(const struct run *r, size_t a, size_t b, size_t u,
                            char *buf, size_t size)
{
    char bs[48] = "outside", us[48] = "outside";
    if (b != NONE) {
        snprintf(bs, sizeof bs, "fid %lld", (long long)r->bv.fid[b]);
    }
    if (u != NONE) {
        snprintf(us, sizeof us, "fid %lld", (long long)r->uv.fid[u]);
    }
    snprintf(buf, size, "%s fid %lld / %s %s / %s %s", om_layer_name(r->s->a),
             (long long)r->av.fid[a], om_layer_name(r->s->b), bs,
             om_layer_name(r->s->u), us);
    return buf;
}

/* The kernel's regions k of A feature a against oracle o (which = 0:
 * the arrangement, 1: the exact answer); every key of either side. */
static void judge(struct run *r, size_t a, const struct rlist *k,
                  const struct rlist *o, int which)
{
    static const char *const name[2] = {"arrangement", "exact"};
    bool ell = r->s->crs != NULL;
    double crumb = 1e-9 * om_feature_area_planar(&r->av, a) + ABS_TOL;
    for (int side = 0; side < 2; side++) {
        const struct rlist *x = side ? o : k, *y = side ? k : o;
        for (size_t i = 0; i < x->n; i++) {
            const struct region *p = &x->r[i];
            const struct region *q = rl_find(y, p->b, p->u);
            if (side == 1 && q) {
                continue; /* compared from the kernel's side */
            }
            const struct region zero = {p->b, p->u, 0.0, 0.0};
            const struct region *kr = side ? (q ? q : &zero) : p;
            const struct region *ore = side ? p : (q ? q : &zero);
            double floor = !q && r->s->crumbs ? crumb : ABS_TOL;
            r->ncells += which == 0;
            track(&r->pl[which], kr->planar, ore->planar, floor);
            bool ok = fabs(kr->planar - ore->planar) <=
                      bound(kr->planar, ore->planar, floor);
            if (ell) {
                track(&r->el[which], kr->ell, ore->ell, floor);
                ok = ok && fabs(kr->ell - ore->ell) <=
                               bound(kr->ell, ore->ell, floor);
            }
            if (!ok && r->nbad++ < MAX_REPORT) {
                char d[256];
                printf("  %s: [%s] kernel %.17g m2 (ellipsoidal %.17g), %s "
                       "%.17g (%.17g)\n",
                       r->s->what, describe(r, a, p->b, p->u, d, sizeof d),
                       kr->planar, kr->ell, name[which], ore->planar, ore->ell);
            }
        }
    }
}

/* Run scene s: the kernel against the oracles, every A feature. */
static void check_scene(const struct scene *s)
{
    struct run r;
    memset(&r, 0, sizeof r);
    r.s = s;
    om_layer_view(s->a, &r.av);
    om_layer_view(s->b, &r.bv);
    om_layer_view(s->u, &r.uv);
    struct om__ak *k = NULL;
    struct om__ak_work *w = NULL;
    struct om_area_ctx *ka = NULL;
    struct arr o;
    memset(&o, 0, sizeof o);
    struct rlist kr = {0}, ar = {0};
    struct om_error err;
    om_error_clear(&err);
    double t0 = seconds(), t_kernel = 0.0;
    enum om_status st = om__ak_new(s->b, NULL, s->u, 2, &k, &err);
    if (st == OM_OK) {
        st = om__ak_work_new(k, &w, &err);
    }
    if (st == OM_OK && s->crs) {
        st = om_area_ctx_new(s->crs, &ka, &err);
        if (st == OM_OK) {
            om__ak_work_set_area(w, ka);
            st = om_area_ctx_new(s->crs, &o.area, &err);
        }
    }
    if (st == OM_OK) {
        st = om__setops_new(&o.sx, &err);
    }
    t_kernel += seconds() - t0;
    for (size_t a = 0; st == OM_OK && a < r.av.nfeatures; a++) {
        double t1 = seconds();
        const struct om__ak_region *reg = NULL;
        size_t n = 0;
        st = om__ak_feature(w, &r.av, a, &reg, &n, &err);
        t_kernel += seconds() - t1;
        if (st != OM_OK) {
            break;
        }
        kr.n = 0;
        for (size_t i = 0; i < n; i++) {
            rl_add(&kr, reg[i].b, reg[i].unit, reg[i].planar,
                   s->crs ? reg[i].ell : 0.0);
            r.npieces += fabs(reg[i].planar) > ABS_TOL;
        }
        st = arrangement(&o, &r.av, a, &r.bv, &r.uv, &ar, &r.nfaces, &err);
        if (st != OM_OK) {
            printf("  %s: the arrangement of %s fid %lld failed\n", s->what,
                   om_layer_name(s->a), (long long)r.av.fid[a]);
            break;
        }
        judge(&r, a, &kr, &ar, 0);
        if (s->ex) {
            judge(&r, a, &kr, &s->ex[a], 1);
        }
    }
    free(kr.r);
    free(ar.r);
    free(o.lines.xy);
    free(o.start);
    free(o.refs);
    om__setops_free(o.sx);
    om_area_ctx_free(o.area);
    om_area_ctx_free(ka);
    om__ak_work_free(w);
    om__ak_free(k);
    if (st != OM_OK) {
        FAILF("%s: %s: %s", s->what, om_status_name(st), err.msg);
        return;
    }
    printf("INFO %s: %zu A features, %zu B, %zu units; %zu regions compared "
           "(%zu kernel pieces above 1e-6 m2, %zu arrangement faces); "
           "kernel %.2f s, all %.2f s\n",
           s->what, r.av.nfeatures, r.bv.nfeatures, r.uv.nfeatures, r.ncells,
           r.npieces, r.nfaces, t_kernel, seconds() - t0);
    static const char *const name[2] = {"untiled GEOS arrangement",
                                        "exact answer"};
    for (int i = 0; i < 2; i++) {
        if (r.pl[i].n == 0) {
            continue;
        }
        printf("INFO %s: kernel vs %s: planar worst abs %.3g m2 (of %.4g "
               "m2), rel %.3g (of %.4g m2; regions of 1 m2 or more), "
               "diff/bound %.3g",
               s->what, name[i], r.pl[i].abs, r.pl[i].abs_at, r.pl[i].rel,
               r.pl[i].rel_at, r.pl[i].ratio);
        if (s->crs) {
            printf("; ellipsoidal worst abs %.3g m2 (of %.4g m2), rel %.3g "
                   "(of %.4g m2), diff/bound %.3g",
                   r.el[i].abs, r.el[i].abs_at, r.el[i].rel, r.el[i].rel_at,
                   r.el[i].ratio);
        }
        printf("\n");
    }
    if (r.nbad > 0) {
        FAILF("%s: %d regions differ by more than %g relative and %g m2",
              s->what, r.nbad, REL_TOL, ABS_TOL);
    }
}

/* ---- exact answers ---- */

/*
 * For A = the source features themselves: each in the B feature with fid
 * gb(code) and the unit with fid gu(code), with its own area.
 */
static struct rlist *exact_own(const struct om_layer *a,
                               const struct om_layer *b, group_fn gb,
                               const struct om_layer *u, group_fn gu,
                               struct om_area_ctx *area, struct om_error *err,
                               enum om_status *st)
{
    struct om_layer_view v;
    om_layer_view(a, &v);
    int cf = om_layer_field_index(a, "code");
    struct rlist *ex = xcalloc(v.nfeatures, sizeof *ex);
    *st = OM_OK;
    for (size_t f = 0; *st == OM_OK && f < v.nfeatures; f++) {
        int64_t code = om_layer_get_int(a, f, cf);
        double ell = 0.0;
        if (area) {
            *st = om_area_feature(area, &v, f, NULL, &ell, err);
        }
        rl_add(&ex[f], om_layer_find_fid(b, gb(code)),
               om_layer_find_fid(u, gu(code)), om_feature_area_planar(&v, f),
               ell);
    }
    return ex;
}

/*
 * For A = the dissolve by ga: feature g holds, per (B feature, unit), the
 * sum of the areas of the source features in it.
 */
static struct rlist *exact_sums(const struct om_layer *src,
                                const struct om_layer *a, group_fn ga,
                                const struct om_layer *b, group_fn gb,
                                const struct om_layer *u, group_fn gu,
                                struct om_area_ctx *area, struct om_error *err,
                                enum om_status *st)
{
    struct om_layer_view v;
    om_layer_view(src, &v);
    int cf = om_layer_field_index(src, "code");
    struct rlist *ex = xcalloc(om_layer_nfeatures(a), sizeof *ex);
    *st = OM_OK;
    for (size_t f = 0; *st == OM_OK && f < v.nfeatures; f++) {
        int64_t code = om_layer_get_int(src, f, cf);
        double ell = 0.0;
        if (area) {
            *st = om_area_feature(area, &v, f, NULL, &ell, err);
        }
        rl_add(&ex[om_layer_find_fid(a, ga(code))],
               om_layer_find_fid(b, gb(code)), om_layer_find_fid(u, gu(code)),
               om_feature_area_planar(&v, f), ell);
    }
    return ex;
}

static void free_exact(struct rlist *ex, size_t n)
{
    for (size_t i = 0; ex && i < n; i++) {
        free(ex[i].r);
    }
    free(ex);
}

/* ---- the tests ---- */

static bool have(const char *rel)
{
    char path[1024];
    test_data_path(rel, path, sizeof path);
    if (access(path, R_OK) != 0) {
        printf("SKIP %s:%s: %s not found\n", test_file_, test_name_, path);
        return false;
    }
    return true;
}

static void info_layer(const char *what, const struct om_layer *l)
{
    size_t np, nh, nv;
    count_parts(l, &np, &nh, &nv);
    printf("INFO %s: %zu features, %zu parts, %zu holes, %zu vertices\n", what,
           om_layer_nfeatures(l), np, nh, nv);
}

TEST(test_bas_rhin_communes)
{
    if (!have(COMMUNES)) {
        return;
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_layer *c = NULL, *z3 = NULL, *z7 = NULL, *u = NULL, *z7m = NULL,
                    *um = NULL;
    struct om_crs *crs = NULL;
    struct om_area_ctx *area = NULL;
    struct rlist *ex1 = NULL, *ex2 = NULL, *ex3 = NULL;
    size_t ninvalid = 0;
    enum om_status st =
        load(COMMUNES, "EPSG:4326", "EPSG:2154", "code", &c, &ninvalid, &err);
    if (st == OM_OK) {
        st = dissolve(c, by_prefix3, "Z3", &z3, &err);
    }
    if (st == OM_OK) {
        st = dissolve(c, by_mod7, "Z7", &z7, &err);
    }
    if (st == OM_OK) {
        st = dissolve(c, by_200, "U", &u, &err);
    }
    if (st == OM_OK) {
        st = moved(z7, 137.31, -91.27, "Z7 moved", &z7m, &err);
    }
    if (st == OM_OK) {
        st = moved(u, -53.83, 211.69, "U moved", &um, &err);
    }
    if (st == OM_OK) {
        st = om_crs_new("EPSG:2154", &crs, &err);
    }
    if (st == OM_OK) {
        st = om_area_ctx_new(crs, &area, &err);
    }
    if (st == OM_OK) {
        ex1 = exact_own(c, z3, by_prefix3, u, by_200, area, &err, &st);
    }
    if (st == OM_OK) {
        ex2 = exact_own(c, z7, by_mod7, u, by_200, area, &err, &st);
    }
    if (st == OM_OK) {
        ex3 = exact_sums(c, z3, by_prefix3, z7, by_mod7, u, by_200, area, &err,
                         &st);
    }
    if (st != OM_OK) {
        FAILF("preparing the communes: %s: %s", om_status_name(st), err.msg);
        goto out;
    }
    printf("INFO communes: %zu read in EPSG:2154 (%zu invalid left out)\n",
           om_layer_nfeatures(c), ninvalid);
    info_layer("Z3", z3);
    info_layer("Z7", z7);
    info_layer("U", u);
    if (om_layer_nfeatures(c) != 516 || ninvalid != 0 ||
        om_layer_nfeatures(z3) != 6 || om_layer_nfeatures(z7) != 7 ||
        om_layer_nfeatures(u) != 3) {
        FAILF("the communes are not the 516 valid ones, or the dissolves "
              "are not 6, 7, 3 features");
        goto out;
    }
    if (!check_valid(z3) || !check_valid(z7) || !check_valid(u) ||
        !check_valid(z7m) || !check_valid(um)) {
        goto out;
    }
    const struct scene sc[] = {
        {"communes x Z3 x U", c, z3, u, crs, ex1, false},
        {"communes x Z7 x U", c, z7, u, crs, ex2, false},
        {"Z3 x Z7 x U", z3, z7, u, NULL, ex3, true},
        {"communes x Z7 moved x U moved", c, z7m, um, crs, NULL, false},
    };
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        check_scene(&sc[i]);
    }
out:
    free_exact(ex1, om_layer_nfeatures(c));
    free_exact(ex2, om_layer_nfeatures(c));
    free_exact(ex3, z3 ? om_layer_nfeatures(z3) : 0);
    om_area_ctx_free(area);
    om_crs_free(crs);
    om_layer_free(c);
    om_layer_free(z3);
    om_layer_free(z7);
    om_layer_free(u);
    om_layer_free(z7m);
    om_layer_free(um);
}

TEST(test_illinois_tracts)
{
    if (!have(TRACTS)) {
        return;
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_layer *t = NULL, *co = NULL, *u = NULL;
    struct rlist *ex = NULL;
    size_t ninvalid = 0;
    enum om_status st =
        load(TRACTS, "EPSG:4269", "EPSG:5070", "COUNTYFP", &t, &ninvalid, &err);
    if (st == OM_OK) {
        st = dissolve(t, by_county, "counties", &co, &err);
    }
    if (st == OM_OK) {
        st = dissolve(t, by_county40, "units", &u, &err);
    }
    if (st == OM_OK) {
        ex = exact_own(t, co, by_county, u, by_county40, NULL, &err, &st);
    }
    if (st != OM_OK) {
        FAILF("preparing the tracts: %s: %s", om_status_name(st), err.msg);
        goto out;
    }
    printf("INFO tracts: %zu read in EPSG:5070 (%zu invalid left out)\n",
           om_layer_nfeatures(t), ninvalid);
    info_layer("counties", co);
    info_layer("units", u);
    if (om_layer_nfeatures(t) < 3100 || om_layer_nfeatures(co) != 102 ||
        om_layer_nfeatures(u) != 6) {
        FAILF("too few tracts, or the dissolves are not 102 and 6 features");
        goto out;
    }
    if (!check_valid(co) || !check_valid(u)) {
        goto out;
    }
    const struct scene s = {
        "tracts x counties x units", t, co, u, NULL, ex, false};
    check_scene(&s);
out:
    free_exact(ex, t ? om_layer_nfeatures(t) : 0);
    om_layer_free(t);
    om_layer_free(co);
    om_layer_free(u);
}

int main(void)
{
    TEST_MAIN_BEGIN(__FILE__);
    RUN(test_bas_rhin_communes);
    RUN(test_illinois_tracts);
    TEST_MAIN_END();
}
