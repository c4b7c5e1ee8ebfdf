/*
 * test_overlay.c — the overlay engine and the cross-tab on synthetic
 * layers: a jittered coverage of parcels (A) against zones (B: a 2000-vertex
 * disc, tiled by the engine, and a rectangle) and three admin strips.
 * Oracles: per-pair GEOS intersections (om_polyops_intersection) on the
 * untiled polygons, and the parcels' own areas.
 */
#include "onemap/crosstab.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/polyops.h"
#include "onemap/stats.h"
#include "test.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static double rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

#define X0 42500000.0
#define Y0 4800000.0

static struct om_layer *make_parcels_ordered(int n, bool shuffled);
static struct om_layer *make_parcels(int n)
{
    return make_parcels_ordered(n, false);
}

/*
 * n x n parcels; `shuffled`: added in a scattered order (feature k is cell
 * k * 7919 mod n², n² not a multiple of 7919) and finished in that order
 * (OM_LAYER_KEEP_ORDER), else finished in Hilbert order. The geometry
 * draws the same random numbers either way.
 */
static struct om_layer *make_parcels_ordered(int n, bool shuffled)
{
    static const char *classes[] = {"0101", "0103", "0301", "0702", "1101"};
    double *gx = malloc(sizeof(double) * (size_t)(n + 1) * (size_t)(n + 1));
    double *gy = malloc(sizeof(double) * (size_t)(n + 1) * (size_t)(n + 1));
    double step = 1000.0 / n;
    for (int i = 0; i <= n; i++) {
        for (int j = 0; j <= n; j++) {
            double jx = (i > 0 && i < n) ? (rnd() - 0.5) * step * 0.6 : 0;
            double jy = (j > 0 && j < n) ? (rnd() - 0.5) * step * 0.6 : 0;
            gx[i * (n + 1) + j] = X0 + i * step + jx;
            gy[i * (n + 1) + j] = Y0 + j * step + jy;
        }
    }
    struct om_layer *l = NULL;
    int fc;
    om_layer_new("DLTB", &l, NULL);
    om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &fc, NULL);
    for (int k = 0; k < n * n; k++) {
        int cell = shuffled ? (int)(((long long)k * 7919) % (n * n)) : k;
        int i = cell / n, j = cell % n;
        int a = i * (n + 1) + j, b = (i + 1) * (n + 1) + j;
        double ring[10] = {gx[a],     gy[a],     gx[b],     gy[b], gx[b + 1],
                           gy[b + 1], gx[a + 1], gy[a + 1], gx[a], gy[a]};
        om_layer_begin_feature(l, i * n + j + 1, NULL);
        om_layer_begin_part(l, NULL);
        om_layer_add_ring(l, ring, 5, NULL);
        om_layer_set_text(l, fc, classes[(i / 3 + j / 4) % 5], NULL);
        om_layer_end_feature(l, NULL);
    }
    om_layer_set_crs(l, "EPSG:4530", NULL);
    /* the shuffled layer as the overlay command reads A: no R-tree */
    om_layer_finish(l, shuffled ? OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX : 0,
                    NULL);
    free(gx);
    free(gy);
    return l;
}

/* B: a disc of 2000 vertices and a rectangle (disjoint). */
static struct om_layer *make_zones(void)
{
    struct om_layer *l = NULL;
    int fc;
    om_layer_new("CZKFBJ", &l, NULL);
    om_layer_add_field(l, "KIND", OM_FIELD_TEXT, &fc, NULL);
    enum { N = 2000 };
    double *ring = malloc(sizeof(double) * 2 * (N + 1));
    for (int i = 0; i <= N; i++) {
        double t = 6.283185307179586 * (i % N) / N;
        double r = 250 + 20 * sin(7 * t);
        ring[2 * i] = X0 + 400 + r * cos(t);
        ring[2 * i + 1] = Y0 + 500 + r * sin(t);
    }
    om_layer_begin_feature(l, 10, NULL);
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, ring, N + 1, NULL);
    om_layer_set_text(l, fc, "disc", NULL);
    om_layer_end_feature(l, NULL);
    double rect[10] = {X0 + 700, Y0 + 100, X0 + 950, Y0 + 100, X0 + 950,
                       Y0 + 900, X0 + 700, Y0 + 900, X0 + 700, Y0 + 100};
    om_layer_begin_feature(l, 20, NULL);
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, rect, 5, NULL);
    om_layer_set_text(l, fc, "rect", NULL);
    om_layer_end_feature(l, NULL);
    om_layer_finish(l, 0, NULL);
    free(ring);
    return l;
}

/*
 * Units: three vertical strips, the last one stopping short (x < 980).
 * Dense: each side of a strip in 300 steps, so that the engine cuts the
 * strips into tiles.
 */
static struct om_layer *make_units_dense(bool dense)
{
    double cuts[] = {0, 333.3, 701.7, 980};
    const char *codes[] = {"220183101", "220183102", "220183103"};
    struct om_layer *l = NULL;
    int fc;
    om_layer_new("XZQ", &l, NULL);
    om_layer_add_field(l, "XZQDM", OM_FIELD_TEXT, &fc, NULL);
    enum { STEPS = 300 };
    static double ring[2 * (4 * STEPS + 1)];
    for (int k = 0; k < 3; k++) {
        double a = X0 + cuts[k], b = X0 + cuts[k + 1];
        const double c[10] = {a, Y0, b, Y0, b, Y0 + 1000, a, Y0 + 1000, a, Y0};
        int steps = dense ? STEPS : 1, n = 0;
        for (int side = 0; side < 4; side++) {
            for (int i = 0; i < steps; i++) {
                double t = (double)i / steps;
                ring[2 * n] = c[2 * side] + t * (c[2 * side + 2] - c[2 * side]);
                ring[2 * n + 1] =
                    c[2 * side + 1] + t * (c[2 * side + 3] - c[2 * side + 1]);
                n++;
            }
        }
        ring[2 * n] = a;
        ring[2 * n + 1] = Y0;
        n++;
        om_layer_begin_feature(l, k + 1, NULL);
        om_layer_begin_part(l, NULL);
        om_layer_add_ring(l, ring, (size_t)n, NULL);
        om_layer_set_text(l, fc, codes[k], NULL);
        om_layer_end_feature(l, NULL);
    }
    om_layer_finish(l, 0, NULL);
    return l;
}

static struct om_layer *make_units(void)
{
    return make_units_dense(false);
}

struct got {
    struct om_overlay_piece *p;
    size_t n, cap;
    int nvalid, ngeom;
    double worst_geom_rel;
    struct om_polyops *geos;
};

static enum om_status on_piece(void *ctx, const struct om_overlay_piece *p,
                               struct om_error *err)
{
    struct got *g = ctx;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->p = realloc(g->p, g->cap * sizeof *g->p);
    }
    g->p[g->n] = *p;
    g->p[g->n].geom = NULL;
    g->n++;
    if (p->geom && g->geos) {
        struct om_validity val;
        enum om_status st =
            om_polyops_check(g->geos, p->geom, p->geom_feature, &val, err);
        if (st != OM_OK) {
            return st;
        }
        g->ngeom++;
        g->nvalid += val.is_valid;
        double a = om_feature_area_planar(p->geom, p->geom_feature);
        double rel = fabs(a - p->planar_m2) / p->planar_m2;
        if (rel > g->worst_geom_rel) {
            g->worst_geom_rel = rel;
        }
    }
    return OM_OK;
}

static void run(struct om_overlay_options *o, struct got *g)
{
    struct om_error err;
    memset(g, 0, sizeof *g);
    if (o->want_geometry) {
        om_polyops_new(&g->geos, NULL);
    }
    CHECK_OK(om_overlay_run(o, on_piece, g, NULL, &err), &err);
    om_polyops_free(g->geos);
    g->geos = NULL;
}

/* Pieces that are a whole parcel of av: their geometry has its points. */
struct got_geom {
    const struct om_layer_view *av;
    int whole, same, pad;
};

static enum om_status on_piece_geom(void *ctx, const struct om_overlay_piece *p,
                                    struct om_error *err)
{
    (void)err;
    struct got_geom *g = ctx;
    double whole = om_feature_area_planar(g->av, p->a);
    if (p->geom && fabs(p->planar_m2 - whole) <= 1e-9 * whole) {
        g->whole++;
        size_t n = om_feature_npoints(p->geom, p->geom_feature);
        g->same +=
            n == om_feature_npoints(g->av, p->a) &&
            memcmp(p->geom->xy +
                       2 * p->geom->point_start
                               [p->geom->ring_start
                                    [p->geom->part_start[p->geom_feature]]],
                   g->av->xy +
                       2 * g->av->point_start
                               [g->av->ring_start[g->av->part_start[p->a]]],
                   2 * n * sizeof(double)) == 0;
    }
    return OM_OK;
}

static double intersection_area(struct om_polyops *geos,
                                const struct om_layer_view *a, size_t fa,
                                const struct om_layer_view *b, size_t fb)
{
    struct om_layer *dst = NULL;
    double area = 0;
    om_layer_new("x", &dst, NULL);
    om_layer_begin_feature(dst, 0, NULL);
    om_polyops_intersection(geos, a, fa, b, fb, dst, &area, NULL);
    om_layer_end_feature(dst, NULL);
    om_layer_free(dst);
    return area;
}

/*
 * The pieces against per-pair GEOS intersections. With dense units (cut
 * into tiles by the engine) a parcel wholly in one unit is one piece
 * whose geometry is the parcel itself, even where a tile cut crosses it.
 */
static void pieces_against_geos(bool dense)
{
    struct om_layer *a = make_parcels(40), *b = make_zones(),
                    *u = make_units_dense(dense);
    struct om_crs *crs = NULL;
    struct om_error err;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    struct om_overlay_options o = {0};
    o.a = a;
    o.b = b;
    o.units = u;
    o.inside = o.outside = true;
    o.ellipsoidal = true;
    o.crs = crs;
    o.threads = 2;
    struct got g;
    run(&o, &g);
    struct om_layer_view av, bv, uv;
    om_layer_view(a, &av);
    om_layer_view(b, &bv);
    om_layer_view(u, &uv);
    size_t na = av.nfeatures, nb = bv.nfeatures, nu = uv.nfeatures;
    double *sum_a = calloc(na, sizeof *sum_a);
    double *sum_ab = calloc(na * nb, sizeof *sum_ab);
    double *sum_au = calloc(na * (nu + 1), sizeof *sum_au);
    double *ell_a = calloc(na, sizeof *ell_a);
    size_t prev = 0;
    bool ordered = true;
    for (size_t i = 0; i < g.n; i++) {
        const struct om_overlay_piece *p = &g.p[i];
        ordered &= p->a >= prev;
        prev = p->a;
        sum_a[p->a] += p->planar_m2;
        ell_a[p->a] += p->ellipsoidal_m2;
        if (p->b != OM_OVERLAY_NONE) {
            sum_ab[p->a * nb + p->b] += p->planar_m2;
        }
        size_t uu = p->unit == OM_OVERLAY_NONE ? nu : p->unit;
        sum_au[p->a * (nu + 1) + uu] += p->planar_m2;
    }
    CHECK(ordered);
    struct om_polyops *geos = NULL;
    CHECK_OK(om_polyops_new(&geos, &err), &err);
    struct om_area_ctx *actx = NULL;
    CHECK_OK(om_area_ctx_new(crs, &actx, &err), &err);
    double worst_ell = 0;
    int bad_whole = 0, bad_pair = 0, bad_unit = 0, bad_ell = 0, nsplit = 0;
    for (size_t f = 0; f < na; f++) {
        double whole = om_feature_area_planar(&av, f);
        bad_whole += fabs(sum_a[f] - whole) > 1e-9 * whole;
        double e = 0;
        om_area_feature(actx, &av, f, NULL, &e, NULL);
        /* Not exact: a cut point lies on the straight projected edge, not
         * on the geodesic between the edge's ends, so the pieces' geodesic
         * polygons differ from the whole by slivers (~2e-8 relative here,
         * for 25 m edges; PostGIS pieces do the same). */
        bad_ell += fabs(ell_a[f] - e) > 1e-7 * e;
        if (fabs(ell_a[f] - e) > worst_ell) {
            worst_ell = fabs(ell_a[f] - e);
        }
        for (size_t k = 0; k < nb; k++) {
            double want = intersection_area(geos, &av, f, &bv, k);
            double have = sum_ab[f * nb + k];
            bad_pair += fabs(want - have) > 1e-9 * whole + 1e-6;
            nsplit += want > 0 && want < whole * 0.999;
        }
        double in_units = 0;
        for (size_t k = 0; k < nu; k++) {
            double want = intersection_area(geos, &av, f, &uv, k);
            in_units += want;
            bad_unit +=
                fabs(want - sum_au[f * (nu + 1) + k]) > 1e-9 * whole + 1e-6;
        }
        bad_unit += fabs(whole - in_units - sum_au[f * (nu + 1) + nu]) >
                    1e-9 * whole + 1e-6;
    }
    CHECK_INT(bad_whole, 0);
    CHECK_INT(bad_pair, 0);
    CHECK_INT(bad_unit, 0);
    if (getenv("VERBOSE")) {
        printf("worst ellipsoidal sum difference %.3g m2\n", worst_ell);
    }
    CHECK_INT(bad_ell, 0);
    CHECK(nsplit > 50); /* the test does cut parcels */

    /* -j1 gives identical pieces, in the same order */
    struct got g1;
    o.threads = 1;
    run(&o, &g1);
    CHECK_INT(g1.n, g.n);
    bool same = g1.n == g.n;
    for (size_t i = 0; same && i < g.n; i++) {
        same = g1.p[i].a == g.p[i].a && g1.p[i].b == g.p[i].b &&
               g1.p[i].unit == g.p[i].unit &&
               memcmp(&g1.p[i].planar_m2, &g.p[i].planar_m2, 8) == 0 &&
               memcmp(&g1.p[i].ellipsoidal_m2, &g.p[i].ellipsoidal_m2, 8) == 0;
    }
    CHECK(same);

    /* geometry: valid pieces with the same areas, same pieces */
    struct got gg;
    o.want_geometry = true;
    run(&o, &gg);
    CHECK_INT(gg.n, g.n);
    CHECK_INT(gg.nvalid, (int)gg.n);
    CHECK(gg.worst_geom_rel < 1e-9);
    o.want_geometry = false;

    /* min_area: exactly the pieces at or above the threshold */
    struct got gm;
    o.min_area_m2 = 50;
    run(&o, &gm);
    size_t want_n = 0;
    for (size_t i = 0; i < g.n; i++) {
        want_n += g.p[i].planar_m2 >= 50;
    }
    CHECK_INT(gm.n, want_n);
    CHECK(gm.n < g.n);
    o.min_area_m2 = 0;

    /* masks: B without the disc; A: odd features only */
    uint8_t bmask[2] = {0, 0};
    size_t disc = om_layer_find_fid(b, 10);
    bmask[1 - disc] = 1;
    uint8_t *amask = calloc(na, 1);
    for (size_t f = 0; f < na; f += 2) {
        amask[f] = 1;
    }
    o.a_mask = amask;
    o.b_mask = bmask;
    struct got gk;
    run(&o, &gk);
    bool mask_ok = true;
    double *sum_k = calloc(na, sizeof *sum_k);
    for (size_t i = 0; i < gk.n; i++) {
        mask_ok &= amask[gk.p[i].a] && gk.p[i].b != disc;
        sum_k[gk.p[i].a] += gk.p[i].planar_m2;
    }
    int bad_k = 0;
    for (size_t f = 0; f < na; f += 2) {
        double whole = om_feature_area_planar(&av, f);
        bad_k += fabs(sum_k[f] - whole) > 1e-9 * whole;
    }
    CHECK(mask_ok);
    CHECK_INT(bad_k, 0);

    /* no B: a parcel in one unit is its piece there, as it is */
    o.a_mask = NULL;
    o.b_mask = NULL;
    o.b = NULL;
    o.want_geometry = true;
    struct got_geom gw = {&av, 0, 0, 0};
    CHECK_OK(om_overlay_run(&o, on_piece_geom, &gw, NULL, &err), &err);
    if (getenv("VERBOSE")) {
        printf("%d parcels in one unit, %d their own piece\n", gw.whole,
               gw.same);
    }
    CHECK(gw.whole > 1000 && gw.same == gw.whole);
    o.b = b;
    o.want_geometry = false;

    /* inside only, no units: pieces per pair, nothing outside */
    o.units = NULL;
    o.outside = false;
    struct got gi;
    run(&o, &gi);
    bool inside_ok = true;
    for (size_t i = 0; i < gi.n; i++) {
        inside_ok &=
            gi.p[i].b != OM_OVERLAY_NONE && gi.p[i].unit == OM_OVERLAY_NONE;
    }
    CHECK(inside_ok);

    free(sum_a);
    free(sum_ab);
    free(sum_au);
    free(ell_a);
    free(sum_k);
    free(amask);
    free(g.p);
    free(g1.p);
    free(gg.p);
    free(gm.p);
    free(gk.p);
    free(gi.p);
    om_area_ctx_free(actx);
    om_polyops_free(geos);
    om_crs_free(crs);
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(u);
}

TEST(test_pieces_against_geos)
{
    pieces_against_geos(false);
}

TEST(test_pieces_dense_units)
{
    pieces_against_geos(true);
}

/*
 * With geometry the auto engine asks the area kernel first which B
 * features overlap each feature of A and meets only those: the pieces are
 * those of the GEOS engine, which meets every candidate. B here is every
 * third parcel of A itself, so most candidates only touch (shared edges).
 */
TEST(test_filter_same_pieces)
{
    struct om_layer *a = make_parcels(30), *u = make_units();
    struct om_layer_view av;
    om_layer_view(a, &av);
    uint8_t *bmask = calloc(av.nfeatures, 1);
    for (size_t f = 0; f < av.nfeatures; f += 3) {
        bmask[f] = 1;
    }
    struct om_overlay_options o = {0};
    o.a = a;
    o.b = a;
    o.b_mask = bmask;
    o.units = u;
    o.inside = o.outside = true;
    o.want_geometry = true;
    o.threads = 2;
    struct got ga, gg;
    run(&o, &ga);
    o.engine = OM_ENGINE_GEOS;
    run(&o, &gg);
    CHECK_INT(ga.n, gg.n);
    int bad = 0, nin = 0;
    for (size_t i = 0; i < ga.n && ga.n == gg.n; i++) {
        const struct om_overlay_piece *p = &ga.p[i], *q = &gg.p[i];
        double whole = om_feature_area_planar(&av, p->a);
        bad += p->a != q->a || p->b != q->b || p->unit != q->unit ||
               fabs(p->planar_m2 - q->planar_m2) > 1e-9 * whole;
        nin += p->b != OM_OVERLAY_NONE;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(ga.nvalid, (int)ga.n);
    /* every selected parcel overlaps itself only */
    size_t nsel = (av.nfeatures + 2) / 3;
    CHECK(nin >= (int)nsel);
    free(ga.p);
    free(gg.p);
    free(bmask);
    om_layer_free(a);
    om_layer_free(u);
}

/* Cross-tab rows add up to the stats of A by unit. */
TEST(test_crosstab_consistent_with_stats)
{
    struct om_layer *a = make_parcels(30), *b = make_zones(), *u = make_units();
    struct om_error err;
    struct om_crosstab_options o = {0};
    o.a = a;
    o.b = b;
    o.class_a = "DLBM";
    o.area = OM_AREA_PLANAR;
    o.units = u;
    o.unit_code_field = "XZQDM";
    o.threads = 2;
    struct om_crosstab_result *r = NULL;
    CHECK_OK(om_crosstab_run(&o, &r, NULL, &err), &err);
    struct om_stats_options so = {0};
    so.class_field = "DLBM";
    so.area = OM_AREA_PLANAR;
    so.assign = OM_ASSIGN_OVERLAY;
    so.units = u;
    so.unit_code_field = "XZQDM";
    struct om_stats_result *s = NULL;
    CHECK_OK(om_stats_run(a, &so, &s, NULL, &err), &err);
    CHECK(r->has_outside);
    CHECK(r->has_unassigned);
    CHECK(s->has_unassigned);
    CHECK_INT(r->nclasses_b, 2);
    CHECK_STR(r->classes_b[0].code, "inside");
    CHECK_INT(r->nunits, s->nunits);
    int checked = 0, bad = 0;
    for (size_t i = 0; i < s->ncells; i++) {
        const struct om_stats_cell *sc = &s->cells[i];
        const char *ucode = s->units[sc->unit].code;
        const char *kcode = s->classes[sc->klass].code;
        for (size_t k = 0; k < r->ncells; k++) {
            const struct om_crosstab_cell *c = &r->cells[k];
            if (c->unit == OM_CROSSTAB_ALL || c->class_a == OM_CROSSTAB_ALL ||
                c->class_b != OM_CROSSTAB_ALL) {
                continue;
            }
            if (strcmp(r->units[c->unit].code, ucode) == 0 &&
                strcmp(r->classes_a[c->class_a].code, kcode) == 0) {
                checked++;
                bad += fabs(c->area_m2 - sc->area_m2) > 1e-9 * sc->area_m2;
                /* and the row is the sum of its cells */
                double sum = 0;
                for (size_t q = 0; q < r->ncells; q++) {
                    const struct om_crosstab_cell *d = &r->cells[q];
                    if (d->unit == c->unit && d->class_a == c->class_a &&
                        d->class_b != OM_CROSSTAB_ALL) {
                        sum += d->area_m2;
                    }
                }
                bad += fabs(sum - c->area_m2) > 1e-9 * sum;
            }
        }
    }
    CHECK_INT(checked, (int)s->ncells);
    CHECK_INT(bad, 0);
    /* grand total */
    const struct om_crosstab_cell *last = &r->cells[r->ncells - 1];
    CHECK(last->unit == OM_CROSSTAB_ALL && last->class_a == OM_CROSSTAB_ALL &&
          last->class_b == OM_CROSSTAB_ALL);
    CHECK_NEAR(last->area_m2, 1e6, 1e-9, 0);
    CHECK_INT(last->nfeatures, 900);
    om_crosstab_result_free(r);
    om_stats_result_free(s);

    /* with a class field of B, and errors */
    o.class_b = "KIND";
    CHECK_OK(om_crosstab_run(&o, &r, NULL, &err), &err);
    CHECK_INT(r->nclasses_b, 3);
    CHECK_STR(r->classes_b[0].code, "disc");
    CHECK_STR(r->classes_b[2].code, "");
    om_crosstab_result_free(r);
    o.class_b = "NOPE";
    CHECK_STATUS(om_crosstab_run(&o, &r, NULL, &err), OM_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "NOPE");
    CHECK(r == NULL);
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(u);
}

/*
 * Big features on the A side (more vertices than the engine's BIG_FRAG,
 * 256): a wavy disc of 3000 vertices with a 1500-vertex hole and a wavy
 * 1200-vertex strip, against parcels of both orientations, some with
 * holes. The engine locates the parcels well inside or outside a big A
 * feature with its own edge grid and overlays only the others; every piece
 * must still be, to the last bit, what GEOSIntersection(parcel, A)
 * writes (om_polyops_intersection with the parcel first, the order the
 * engine always uses).
 */
static void wavy_ring(double *xy, int n, double cx, double cy, double r0,
                      double amp, int waves, bool ccw)
{
    for (int i = 0; i <= n; i++) {
        double t = 6.283185307179586 * (i % n) / n * (ccw ? 1 : -1);
        double r = r0 + amp * sin(waves * t);
        xy[2 * i] = cx + r * cos(t);
        xy[2 * i + 1] = cy + r * sin(t);
    }
}

static struct om_layer *make_big_a(void)
{
    struct om_layer *l = NULL;
    om_layer_new("STBHHX", &l, NULL);
    double *ring = malloc(sizeof(double) * 2 * 3001);
    om_layer_begin_feature(l, 1, NULL);
    om_layer_begin_part(l, NULL);
    wavy_ring(ring, 3000, X0 + 450, Y0 + 500, 340, 15, 9, true);
    om_layer_add_ring(l, ring, 3001, NULL);
    wavy_ring(ring, 1500, X0 + 430, Y0 + 480, 110, 8, 5, false);
    om_layer_add_ring(l, ring, 1501, NULL);
    om_layer_end_feature(l, NULL);
    /* a strip x 830..990 with a wavy west side, shell clockwise */
    enum { NS = 1200 };
    om_layer_begin_feature(l, 2, NULL);
    om_layer_begin_part(l, NULL);
    int k = 0;
    ring[2 * k] = X0 + 990, ring[2 * k + 1] = Y0 + 40, k++;
    for (int i = 0; i < NS - 3; i++) {
        double y = 40 + 920.0 * i / (NS - 4);
        ring[2 * k] = X0 + 840 + 9 * sin(y / 7.0);
        ring[2 * k + 1] = Y0 + y;
        k++;
    }
    ring[2 * k] = X0 + 990, ring[2 * k + 1] = Y0 + 960, k++;
    ring[2 * k] = ring[0], ring[2 * k + 1] = ring[1], k++;
    om_layer_add_ring(l, ring, (size_t)k, NULL);
    om_layer_end_feature(l, NULL);
    om_layer_set_crs(l, "EPSG:4530", NULL);
    om_layer_finish(l, 0, NULL);
    free(ring);
    return l;
}

/* 25 x 25 parcels of 40 m: odd ones clockwise, every 5th with a hole. */
static struct om_layer *make_mixed_parcels(void)
{
    struct om_layer *l = NULL;
    om_layer_new("DLTB", &l, NULL);
    for (int i = 0; i < 25; i++) {
        for (int j = 0; j < 25; j++) {
            double x = X0 + 40 * i + 0.37, y = Y0 + 40 * j + 0.21;
            double q[10] = {x, y, x + 40, y, x + 40, y + 40, x, y + 40, x, y};
            double h[10] = {x + 12, y + 12, x + 12, y + 27, x + 27,
                            y + 27, x + 27, y + 12, x + 12, y + 12};
            int id = i * 25 + j;
            if (id % 2) { /* reverse: swap the 2nd and 4th points */
                double t0 = q[2], t1 = q[3];
                q[2] = q[6], q[3] = q[7];
                q[6] = t0, q[7] = t1;
            }
            om_layer_begin_feature(l, id + 1, NULL);
            om_layer_begin_part(l, NULL);
            om_layer_add_ring(l, q, 5, NULL);
            if (id % 5 == 0) {
                om_layer_add_ring(l, h, 5, NULL);
            }
            om_layer_end_feature(l, NULL);
        }
    }
    om_layer_set_crs(l, "EPSG:4530", NULL);
    om_layer_finish(l, 0, NULL);
    return l;
}

static bool same_feature(const struct om_layer_view *x, size_t fx,
                         const struct om_layer_view *y, size_t fy)
{
    size_t np = x->part_start[fx + 1] - x->part_start[fx];
    if (np != y->part_start[fy + 1] - y->part_start[fy]) {
        return false;
    }
    size_t r0 = x->ring_start[x->part_start[fx]];
    size_t r1 = x->ring_start[x->part_start[fx + 1]];
    size_t s0 = y->ring_start[y->part_start[fy]];
    if (r1 - r0 != y->ring_start[y->part_start[fy + 1]] - s0) {
        return false;
    }
    for (size_t k = 0; k < np; k++) {
        if (x->ring_start[x->part_start[fx] + k] - r0 !=
            y->ring_start[y->part_start[fy] + k] - s0) {
            return false;
        }
    }
    for (size_t r = 0; r < r1 - r0; r++) {
        size_t a = x->point_start[r0 + r], n = x->point_start[r0 + r + 1] - a;
        size_t b = y->point_start[s0 + r];
        if (n != y->point_start[s0 + r + 1] - b ||
            memcmp(x->xy + 2 * a, y->xy + 2 * b, 16 * n) != 0) {
            return false;
        }
    }
    return true;
}

struct big_got {
    const struct om_layer_view *av, *bv;
    struct om_polyops *geos;
    int npieces, nsame;
    char *seen; /* [a * nb + b] */
    size_t nb;
};

static enum om_status on_big_piece(void *ctx, const struct om_overlay_piece *p,
                                   struct om_error *err)
{
    struct big_got *g = ctx;
    struct om_layer *dst = NULL;
    enum om_status st = om_layer_new("oracle", &dst, err);
    if (st == OM_OK) {
        st = om_layer_begin_feature(dst, 0, err);
    }
    if (st == OM_OK) {
        st = om_polyops_intersection(g->geos, g->bv, p->b, g->av, p->a, dst,
                                     NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(dst, err);
    }
    if (st == OM_OK) {
        struct om_layer_view ov;
        om_layer_view(dst, &ov);
        g->nsame += same_feature(p->geom, p->geom_feature, &ov, 0);
        g->npieces++;
        g->seen[p->a * g->nb + p->b]++;
    }
    om_layer_free(dst);
    return st;
}

TEST(test_big_a_features)
{
    struct om_layer *a = make_big_a(), *b = make_mixed_parcels();
    struct om_layer_view av, bv;
    om_layer_view(a, &av);
    om_layer_view(b, &bv);
    struct om_error err;
    struct big_got g = {0};
    g.av = &av;
    g.bv = &bv;
    g.nb = bv.nfeatures;
    g.seen = calloc(av.nfeatures * bv.nfeatures, 1);
    CHECK_OK(om_polyops_new(&g.geos, &err), &err);
    struct om_overlay_options o = {0};
    o.a = a;
    o.b = b;
    o.inside = true;
    o.want_geometry = true;
    o.threads = 2;
    CHECK_OK(om_overlay_run(&o, on_big_piece, &g, NULL, &err), &err);
    CHECK_INT(g.nsame, g.npieces);
    /* every pair with an intersection has its piece, and only those */
    int ninside = 0, ncross = 0, nmissing = 0;
    for (size_t fa = 0; fa < av.nfeatures; fa++) {
        for (size_t fb = 0; fb < bv.nfeatures; fb++) {
            double want = intersection_area(g.geos, &bv, fb, &av, fa);
            double whole = om_feature_area_planar(&bv, fb);
            nmissing += (want > 0) != (g.seen[fa * g.nb + fb] == 1);
            ninside += want > 0 && fabs(want - whole) < 1e-9 * whole;
            ncross += want > 0 && fabs(want - whole) >= 1e-9 * whole;
        }
    }
    CHECK_INT(nmissing, 0);
    CHECK(ninside > 50 && ncross > 50);

    /* with units and the outside: the pieces of each A add up to it */
    struct om_layer *u = make_units();
    o.units = u;
    o.outside = true;
    o.want_geometry = false;
    struct got gu;
    run(&o, &gu);
    double sum[2] = {0, 0};
    for (size_t i = 0; i < gu.n; i++) {
        sum[gu.p[i].a] += gu.p[i].planar_m2;
    }
    for (size_t fa = 0; fa < 2; fa++) {
        double whole = om_feature_area_planar(&av, fa);
        CHECK_NEAR(sum[fa], whole, 1e-9, 0);
    }
    /* no B: A split by units; big pieces go through the grid too */
    o.b = NULL;
    struct got gn;
    run(&o, &gn);
    struct om_layer_view uv;
    om_layer_view(u, &uv);
    int bad_unit = 0;
    for (size_t i = 0; i < gn.n; i++) {
        const struct om_overlay_piece *p = &gn.p[i];
        if (p->unit != OM_OVERLAY_NONE) {
            double want = intersection_area(g.geos, &av, p->a, &uv, p->unit);
            bad_unit += fabs(want - p->planar_m2) > 1e-9 * want;
        }
    }
    CHECK_INT(bad_unit, 0);
    CHECK(gn.n >= 4);
    free(gu.p);
    free(gn.p);
    free(g.seen);
    om_polyops_free(g.geos);
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(u);
}

/* The pieces of layer `l` in g, in order (b == l when by_layer). */
static size_t layer_pieces(const struct got *g, size_t l,
                           struct om_overlay_piece *out)
{
    size_t n = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->p[i].layer == l) {
            out[n++] = g->p[i];
        }
    }
    return n;
}

/*
 * Several layers B in one run (more_b): each layer's pieces are those of
 * a run with that layer alone, in the same order, with either engine.
 * Layers: the zones (a disc and a rectangle), every third parcel of A
 * itself (shared edges with A, and with the units along the strips), and
 * the dense strips (the units' own edges, in 300 steps). Ellipsoidal
 * areas too: the kernel's pieces of one layer must not take the other
 * layers' crossings as vertices (see areak.c, struct anchor).
 */
TEST(test_more_layers_same_pieces)
{
    struct om_layer *a = make_parcels(24), *z = make_zones(),
                    *d = make_units_dense(true), *u = make_units();
    struct om_crs *crs = NULL;
    struct om_error err;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    struct om_layer_view av;
    om_layer_view(a, &av);
    uint8_t *third = calloc(av.nfeatures, 1);
    for (size_t f = 0; f < av.nfeatures; f += 3) {
        third[f] = 1;
    }
    const struct om_layer *more[] = {a, d};
    const uint8_t *more_mask[] = {third, NULL};
    const struct om_layer *layer[] = {z, a, d};
    const uint8_t *mask[] = {NULL, third, NULL};
    enum om_overlay_engine eng[] = {OM_ENGINE_AUTO, OM_ENGINE_GEOS};
    for (int e = 0; e < 2; e++) {
        struct om_overlay_options o = {0};
        o.a = a;
        o.b = z;
        o.more_b = more;
        o.more_b_mask = more_mask;
        o.nmore_b = 2;
        o.units = u;
        o.inside = o.outside = true;
        o.ellipsoidal = true;
        o.crs = crs;
        o.threads = 2;
        o.engine = eng[e];
        struct got all;
        run(&o, &all);
        struct om_overlay_piece *mine = calloc(all.n + 1, sizeof *mine);
        int bad = 0, nlayers = 0;
        size_t total = 0;
        for (size_t l = 0; l < 3; l++) {
            struct om_overlay_options s = o;
            s.b = layer[l];
            s.b_mask = mask[l];
            s.more_b = NULL;
            s.more_b_mask = NULL;
            s.nmore_b = 0;
            struct got one;
            run(&s, &one);
            size_t n = layer_pieces(&all, l, mine);
            total += n;
            nlayers += n > 0;
            if (n != one.n) {
                FAILF("engine %d, layer %zu: %zu pieces, alone %zu", e, l, n,
                      one.n);
                bad++;
            }
            for (size_t i = 0; i < n && n == one.n; i++) {
                const struct om_overlay_piece *p = &mine[i], *q = &one.p[i];
                double whole = om_feature_area_planar(&av, p->a);
                bool same =
                    p->a == q->a && p->b == q->b && p->unit == q->unit &&
                    q->layer == 0 &&
                    fabs(p->planar_m2 - q->planar_m2) <= 1e-9 * whole + 1e-6 &&
                    fabs(p->ellipsoidal_m2 - q->ellipsoidal_m2) <=
                        1e-9 * whole + 1e-6;
                if (!same && bad++ < 8) {
                    printf("  engine %d layer %zu piece %zu: a %zu b %zu u "
                           "%zu %.17g (%.17g) alone: a %zu b %zu u %zu "
                           "%.17g (%.17g)\n",
                           e, l, i, p->a, p->b, p->unit, p->planar_m2,
                           p->ellipsoidal_m2, q->a, q->b, q->unit, q->planar_m2,
                           q->ellipsoidal_m2);
                }
            }
            free(one.p);
        }
        CHECK_INT(bad, 0);
        CHECK_INT(nlayers, 3);
        CHECK_INT((long long)total, (long long)all.n);
        free(mine);
        free(all.p);
    }
    /* bad options: more layers without B, an unfinished layer */
    struct om_overlay_options o = {0};
    o.a = a;
    o.more_b = more;
    o.nmore_b = 1;
    struct got none = {0};
    CHECK_INT(om_overlay_run(&o, on_piece, &none, NULL, &err), OM_EINVAL);
    struct om_layer *raw = NULL;
    CHECK_OK(om_layer_new("raw", &raw, &err), &err);
    const struct om_layer *bad_more[] = {raw};
    o.b = z;
    o.more_b = bad_more;
    CHECK_INT(om_overlay_run(&o, on_piece, &none, NULL, &err), OM_EINVAL);
    CHECK(strstr(err.msg, "finished") != NULL);
    free(none.p);
    om_layer_free(raw);
    free(third);
    om_crs_free(crs);
    om_layer_free(a);
    om_layer_free(z);
    om_layer_free(d);
    om_layer_free(u);
}

/* The cross-tabs of several layers in one pass: each that of its layer
 * alone; a missing class field in any layer fails the whole run. */
TEST(test_crosstab_layers)
{
    struct om_layer *a = make_parcels(20), *z = make_zones(),
                    *d = make_units_dense(true), *u = make_units();
    struct om_error err;
    const struct om_layer *bs[] = {z, d};
    struct om_crosstab_options o = {0};
    o.a = a;
    o.class_a = "DLBM";
    o.area = OM_AREA_PLANAR;
    o.units = u;
    o.unit_code_field = "XZQDM";
    o.threads = 2;
    struct om_crosstab_result *res[2] = {0};
    CHECK_OK(om_crosstab_run_layers(&o, bs, 2, res, NULL, &err), &err);
    for (size_t l = 0; l < 2 && res[0] && res[1]; l++) {
        struct om_crosstab_result *one = NULL;
        o.b = bs[l];
        CHECK_OK(om_crosstab_run(&o, &one, NULL, &err), &err);
        CHECK_INT((long long)res[l]->ncells, (long long)one->ncells);
        CHECK_INT((long long)res[l]->npieces, (long long)one->npieces);
        int bad = 0;
        for (size_t i = 0; i < one->ncells && one->ncells == res[l]->ncells;
             i++) {
            const struct om_crosstab_cell *p = &res[l]->cells[i],
                                          *q = &one->cells[i];
            bad += p->unit != q->unit || p->class_a != q->class_a ||
                   p->class_b != q->class_b || p->nfeatures != q->nfeatures ||
                   fabs(p->area_m2 - q->area_m2) > 1e-9 * q->area_m2 + 1e-6;
        }
        CHECK_INT(bad, 0);
        om_crosstab_result_free(one);
    }
    om_crosstab_result_free(res[0]);
    om_crosstab_result_free(res[1]);
    o.class_b = "KIND"; /* the zones have it, the strips do not */
    res[0] = res[1] = (struct om_crosstab_result *)&o;
    CHECK_INT(om_crosstab_run_layers(&o, bs, 2, res, NULL, &err), OM_ENOTFOUND);
    CHECK(res[0] == NULL && res[1] == NULL);
    CHECK(strstr(err.msg, "KIND") != NULL);
    om_layer_free(a);
    om_layer_free(z);
    om_layer_free(d);
    om_layer_free(u);
}

/* om_crosstab_options.a_late: the layer to give, or the error to give,
 * counting the calls. */
struct late {
    const struct om_layer *a;
    enum om_status st;
    int calls;
};

static enum om_status give_late(void *ctx, const struct om_layer **a,
                                struct om_error *err)
{
    struct late *l = ctx;
    l->calls++;
    if (l->st != OM_OK) {
        err->status = l->st;
        snprintf(err->msg, sizeof err->msg, "A could not be read");
        return l->st;
    }
    *a = l->a;
    return OM_OK;
}

/*
 * A given late (a_late: the overlay command reads A while the kernel
 * prepares the zones): with both engines the cross-tabs are those of A
 * given at once, bit for bit; its error is the run's, with nothing leaked;
 * an unfinished A is refused.
 */
TEST(test_crosstab_a_late)
{
    struct om_layer *a = make_parcels(40), *z = make_zones(),
                    *d = make_units_dense(true), *u = make_units();
    struct om_error err;
    const struct om_layer *bs[] = {z, d};
    enum om_overlay_engine engines[] = {OM_ENGINE_KERNEL, OM_ENGINE_GEOS};
    for (size_t e = 0; e < 2; e++) {
        struct om_crosstab_options o = {0};
        o.a = a;
        o.class_a = "DLBM";
        o.area = OM_AREA_PLANAR;
        o.units = u;
        o.unit_code_field = "XZQDM";
        o.threads = 2;
        o.engine = engines[e];
        struct om_crosstab_result *now[2] = {0}, *late[2] = {0};
        CHECK_OK(om_crosstab_run_layers(&o, bs, 2, now, NULL, &err), &err);
        struct late l = {a, OM_OK, 0};
        o.a = NULL;
        o.a_late = give_late;
        o.a_late_ctx = &l;
        CHECK_OK(om_crosstab_run_layers(&o, bs, 2, late, NULL, &err), &err);
        CHECK_INT(l.calls, 1);
        for (size_t k = 0; k < 2 && now[k] && late[k]; k++) {
            CHECK_INT((long long)late[k]->ncells, (long long)now[k]->ncells);
            CHECK_INT((long long)late[k]->npieces, (long long)now[k]->npieces);
            int bad = 0;
            for (size_t i = 0;
                 i < now[k]->ncells && now[k]->ncells == late[k]->ncells; i++) {
                const struct om_crosstab_cell *p = &late[k]->cells[i],
                                              *q = &now[k]->cells[i];
                bad += p->unit != q->unit || p->class_a != q->class_a ||
                       p->class_b != q->class_b ||
                       p->nfeatures != q->nfeatures || p->area_m2 != q->area_m2;
            }
            CHECK_INT(bad, 0);
            om_crosstab_result_free(now[k]);
            om_crosstab_result_free(late[k]);
        }
        l.st = OM_EIO;
        CHECK_STATUS(om_crosstab_run_layers(&o, bs, 2, late, NULL, &err),
                     OM_EIO);
        CHECK_CONTAINS(err.msg, "A could not be read");
        CHECK(late[0] == NULL && late[1] == NULL);
        struct om_layer *open = NULL;
        CHECK_OK(om_layer_new("OPEN", &open, &err), &err);
        CHECK_OK(om_layer_add_field(open, "DLBM", OM_FIELD_TEXT, NULL, &err),
                 &err);
        l.st = OM_OK;
        l.a = open;
        CHECK_STATUS(om_crosstab_run_layers(&o, bs, 2, late, NULL, &err),
                     OM_EINVAL);
        CHECK_CONTAINS(err.msg, "not finished");
        om_layer_free(open);
    }
    om_layer_free(a);
    om_layer_free(z);
    om_layer_free(d);
    om_layer_free(u);
}

/*
 * A layer kept in a scattered order (OM_LAYER_KEEP_ORDER, as the overlay
 * command reads A) is walked in Hilbert order all the same: with both
 * engines, the pieces, their order and their areas (bit for bit) are those
 * of the same parcels finished in Hilbert order, by fid.
 */
TEST(test_walk_order)
{
    uint64_t seed = rs;
    struct om_layer *h = make_parcels_ordered(20, false);
    rs = seed;
    struct om_layer *k = make_parcels_ordered(20, true);
    struct om_layer *z = make_zones(), *u = make_units();
    struct om_crs *crs = NULL;
    struct om_error err;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    struct om_layer_view hv, kv;
    om_layer_view(h, &hv);
    om_layer_view(k, &kv);
    CHECK_INT(hv.nfeatures, kv.nfeatures);
    CHECK(om_layer_index(k) == NULL && om_layer_index(h) != NULL);
    size_t moved = 0;
    for (size_t f = 0; f < hv.nfeatures && f < kv.nfeatures; f++) {
        moved += hv.fid[f] != kv.fid[f];
    }
    CHECK(moved > hv.nfeatures / 2);
    enum om_overlay_engine eng[] = {OM_ENGINE_KERNEL, OM_ENGINE_GEOS};
    for (int e = 0; e < 2; e++) {
        struct got g[2];
        for (int w = 0; w < 2; w++) {
            struct om_overlay_options o = {0};
            o.a = w ? k : h;
            o.b = z;
            o.units = u;
            o.inside = o.outside = true;
            o.ellipsoidal = true;
            o.crs = crs;
            o.threads = 2;
            o.engine = eng[e];
            run(&o, &g[w]);
        }
        CHECK_INT(g[0].n, g[1].n);
        CHECK(g[0].n > hv.nfeatures);
        size_t bad = 0;
        for (size_t i = 0; i < g[0].n && g[0].n == g[1].n; i++) {
            const struct om_overlay_piece *p = &g[0].p[i], *q = &g[1].p[i];
            bad += hv.fid[p->a] != kv.fid[q->a] || p->b != q->b ||
                   p->unit != q->unit || p->planar_m2 != q->planar_m2 ||
                   p->ellipsoidal_m2 != q->ellipsoidal_m2;
        }
        CHECK_INT(bad, 0);
        free(g[0].p);
        free(g[1].p);
    }
    om_crs_free(crs);
    om_layer_free(h);
    om_layer_free(k);
    om_layer_free(z);
    om_layer_free(u);
}

int main(void)
{
    TEST_MAIN_BEGIN(__FILE__);
    RUN(test_pieces_against_geos);
    RUN(test_pieces_dense_units);
    RUN(test_filter_same_pieces);
    RUN(test_crosstab_consistent_with_stats);
    RUN(test_big_a_features);
    RUN(test_more_layers_same_pieces);
    RUN(test_crosstab_layers);
    RUN(test_crosstab_a_late);
    RUN(test_walk_order);
    TEST_MAIN_END();
}
