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
 *   6. communes × (Z3, Z7, Z7 moved) × U: one kernel for the three layers
 *      B at once (om__ak_new_layers), each layer's regions judged as in
 *      scenes 1, 2 and 4 (Z3 and Z7 share their edges; Z7 moved, with U
 *      not moved, only has the arrangement as oracle).
 * Oracles, per A feature:
 *   - the arrangement (untiled GEOS): the feature's rings and every edge
 *     of B and of U whose box meets the feature's box, noded at once and
 *     polygonized (om__setops_polygonize: GEOSUnaryUnion + GEOSPolygonize,
 *     OverlayNG noding, each crossing point computed once from the
 *     original segments, as the kernel does); the faces inside the
 *     feature are classified by an interior point (even-odd against the
 *     whole B and U features) and their areas summed per (B feature,
 *     unit); planar areas by the shoelace on an exactly translated copy
 *     (see arrangement), ellipsoidal ones (scenes 1, 2, 4, 6) by
 *     om_area_feature on the edges as they are;
 *   - the exact answers of scenes 1, 2, 3, 5 and 6 above (planar: shoelace
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

#include "areak_fixtures.h"

#define COMMUNES "france-communes/communes-67-bas-rhin.geojson"
#define TRACTS "us-tracts-2018/cb_2018_17_tract_500k.json"

/* The bounds: relative, and absolute in m2. */
#define REL_TOL 1e-9
#define ABS_TOL 1e-6

/* ---- loading (copy_rings, reprojected: areak_fixtures.h) ---- */

/*
 * The polygons of `rel` (read as CRS src_crs), reprojected to dst_crs,
 * with an INT field "code" = the text field `code_field` as a number; the
 * features flagged empty or invalid when read and those GEOS finds
 * invalid after reprojection left out (counted in *ninvalid).
 */
static enum om_status load(const char *rel, const char *src_crs,
                           const char *dst_crs, const char *code_field,
                           struct om_layer **out, size_t *ninvalid,
                           struct om_error *err)
{
    char path[1024];
    test_data_path(rel, path, sizeof path);
    struct om_layer *src = NULL, *dst = NULL;
    struct om_crs *cs = NULL, *cd = NULL;
    struct om_transform *t = NULL;
    size_t nflagged = 0;
    *out = NULL;
    *ninvalid = 0;
    enum om_status st = om_source_read(path, NULL, &src, NULL, err);
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
        st = reprojected(src, NULL, false, code_field, t, &dst, &nflagged,
                         ninvalid, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(dst, dst_crs, err);
    }
    *ninvalid += nflagged;
    om_transform_free(t);
    om_crs_free(cs);
    om_crs_free(cd);
    om_layer_free(src);
    if (st != OM_OK) {
        om_layer_free(dst);
        return st;
    }
    *out = dst;
    return OM_OK;
}

/* ---- dissolves (dissolve, by_code: areak_fixtures.h) ---- */

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

static int64_t by_county40(int64_t code)
{
    return code / 40;
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
    /* NULL: the kernel of b alone; else the kernel of all these layers B
     * at once (om__ak_new_layers), b being layers[layer], whose regions
     * are judged */
    const struct om_layer *const *layers;
    size_t nlayers, layer;
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
            const struct region zero = {p->b, p->u, 0.0, 0.0, false};
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
    enum om_status st = OM_OK;
    if (s->layers) {
        struct om__ak_layer bl[8] = {{0}};
        for (size_t l = 0; l < s->nlayers && l < 8; l++) {
            bl[l].layer = s->layers[l];
        }
        st = om__ak_new_layers(bl, s->nlayers, s->u, 2, &k, &err);
    } else {
        st = om__ak_new(s->b, NULL, s->u, 2, &k, &err);
    }
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
            if (reg[i].layer != (s->layers ? s->layer : 0)) {
                continue;
            }
            rl_add(&kr, reg[i].b, reg[i].unit, reg[i].planar,
                   s->crs ? reg[i].ell : 0.0);
            r.npieces += fabs(reg[i].planar) > ABS_TOL;
        }
        st =
            arrangement(&o, &r.av, a, &r.bv, &r.uv, true, &ar, &r.nfaces, &err);
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
    arr_free(&o);
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
    /* three layers B at once: Z3 and Z7 share their edges (both
     * dissolves of the communes), Z7 moved crosses both */
    const struct om_layer *const three[] = {z3, z7, z7m};
    const struct scene sc[] = {
        {"communes x Z3 x U", c, z3, u, crs, ex1, false, NULL, 0, 0},
        {"communes x Z7 x U", c, z7, u, crs, ex2, false, NULL, 0, 0},
        {"Z3 x Z7 x U", z3, z7, u, NULL, ex3, true, NULL, 0, 0},
        {"communes x Z7 moved x U moved", c, z7m, um, crs, NULL, false, NULL, 0,
         0},
        {"communes x (Z3, Z7, Z7 moved) x U: Z3", c, z3, u, crs, ex1, false,
         three, 3, 0},
        {"communes x (Z3, Z7, Z7 moved) x U: Z7", c, z7, u, crs, ex2, false,
         three, 3, 1},
        {"communes x (Z3, Z7, Z7 moved) x U: Z7 moved", c, z7m, u, crs, NULL,
         false, three, 3, 2},
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
        st = dissolve(t, by_code, "counties", &co, &err);
    }
    if (st == OM_OK) {
        st = dissolve(t, by_county40, "units", &u, &err);
    }
    if (st == OM_OK) {
        ex = exact_own(t, co, by_code, u, by_county40, NULL, &err, &st);
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
        "tracts x counties x units", t, co, u, NULL, ex, false, NULL, 0, 0};
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
