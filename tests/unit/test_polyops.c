/*
 * test_polyops.c — the GEOS bridge (onemap/polyops.h): validity reasons and
 * locations, repair, intersection areas, prepared relate classes.
 *
 * Oracles: hand-computed areas for simple shapes; the GEOS/JTS XML test
 * suite (shared data geos-xmltester, LGPL-2.1, github libgeos/geos) for
 * intersection results (area of the expected polygons, a shoelace over the
 * expected WKT, not an overlay), validity verdicts and DE-9IM matrices.
 * This test reads the XML's WKT with GEOS itself (tests may include
 * <geos_c.h>; the library only in src/geom/geos.c).
 */
#include "test.h"

#include "geom/polyops_int.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"

#include <geos_c.h>

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>

#include "geos_fixtures.h"

/* ---- building features ---- */

struct tring {
    bool new_part; /* this ring starts a part (its shell) */
    size_t n;
    const double *xy;
};

static enum om_status add_feat(struct om_layer *l, int64_t fid,
                               const struct tring *r, size_t nr,
                               struct om_error *err)
{
    enum om_status st = om_layer_begin_feature(l, fid, err);
    for (size_t i = 0; st == OM_OK && i < nr; i++) {
        if (r[i].new_part) {
            st = om_layer_begin_part(l, err);
        }
        if (st == OM_OK) {
            st = om_layer_add_ring(l, r[i].xy, r[i].n, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    } else {
        om_layer_abort_feature(l);
    }
    return st;
}

/* One-ring polygon. */
static enum om_status add_poly(struct om_layer *l, int64_t fid,
                               const double *xy, size_t n, struct om_error *err)
{
    struct tring r = {true, n, xy};
    return add_feat(l, fid, &r, 1, err);
}

/* Axis-aligned rectangle as one feature. */
static enum om_status add_rect(struct om_layer *l, int64_t fid, double x0,
                               double y0, double x1, double y1,
                               struct om_error *err)
{
    double xy[] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    return add_poly(l, fid, xy, 5, err);
}

static size_t find(const struct om_layer_view *v, int64_t fid)
{
    for (size_t i = 0; i < v->nfeatures; i++) {
        if (v->fid[i] == fid) {
            return i;
        }
    }
    return (size_t)-1;
}

static double ring_area2(const struct om_layer_view *v, size_t r)
{
    double s = 0;
    for (size_t i = v->point_start[r]; i + 1 < v->point_start[r + 1]; i++) {
        s += v->xy[2 * i] * v->xy[2 * i + 3] -
             v->xy[2 * i + 2] * v->xy[2 * i + 1];
    }
    return s;
}

/* ---- tests on small hand-made shapes ---- */

TEST(test_version)
{
    const char *v = om_polyops_geos_version();
    CHECK(v != NULL);
    CHECK(strncmp(v, "3.", 2) == 0);
}

struct check_case {
    int64_t fid;
    const char *reason; /* NULL: valid */
    double x, y;        /* NaN: do not check (or expect NaN, see below) */
};

/* Builds the validity fixtures; fids 1.. */
static enum om_status build_validity_layer(struct om_layer *l,
                                           struct om_error *err)
{
    static const double square[] = {0, 0, 1, 0, 1, 1, 0, 1, 0, 0};
    static const double bowtie[] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 0};
    static const double big[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    static const double outside_hole[] = {20, 20, 21, 20, 21, 21, 20, 20};
    static const double inner[] = {2, 2, 4, 2, 4, 4, 2, 4, 2, 2};
    /* A shell that touches itself at (2,2): two lobes joined at a point. */
    static const double pinch[] = {0, 0, 4, 0, 2, 2, 4, 4, 0, 4, 2, 2, 0, 0};
    static const double nan_pt[] = {0, 0, 1, 0, NAN, 1, 0, 1, 0, 0};
    static const double three[] = {0, 0, 1, 1, 0, 0};
    static const double abab[] = {0, 0, 1, 1, 0, 0, 1, 1, 0, 0};
    static const double diamond[] = {5, 0, 10, 5, 5, 10, 0, 5, 5, 0};
    static const double holed_hole[] = {2, 2, 8, 2, 8, 8, 2, 8, 2, 2};
    enum om_status st = add_poly(l, 1, square, 5, err);
    if (st == OM_OK) {
        st = add_poly(l, 2, bowtie, 5, err);
    }
    if (st == OM_OK) {
        struct tring r[] = {{true, 5, big}, {false, 4, outside_hole}};
        st = add_feat(l, 3, r, 2, err);
    }
    if (st == OM_OK) {
        struct tring r[] = {{true, 5, big}, {true, 5, inner}};
        st = add_feat(l, 4, r, 2, err);
    }
    if (st == OM_OK) {
        st = add_poly(l, 5, pinch, 7, err);
    }
    if (st == OM_OK) {
        st = add_poly(l, 6, nan_pt, 5, err);
    }
    if (st == OM_OK) {
        st = add_poly(l, 7, three, 3, err);
    }
    if (st == OM_OK) {
        st = add_poly(l, 8, abab, 5, err);
    }
    if (st == OM_OK) {
        st = om_layer_begin_feature(l, 9, err); /* empty */
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    if (st == OM_OK) {
        struct tring r[] = {{true, 5, big}, {false, 5, diamond}};
        st = add_feat(l, 10, r, 2, err);
    }
    if (st == OM_OK) {
        /* valid polygon with a hole */
        struct tring r[] = {{true, 5, big}, {false, 5, holed_hole}};
        st = add_feat(l, 11, r, 2, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    return st;
}

TEST(test_check_reasons)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    struct om_polyops *ctx = NULL;
    CHECK_OK(om_layer_new("validity", &l, &err), &err);
    enum om_status st = build_validity_layer(l, &err);
    if (st == OM_OK) {
        st = om_polyops_new(&ctx, &err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        CHECK_OK(st, &err);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    const struct check_case cases[] = {
        {1, NULL, NAN, NAN},
        {2, "Self-intersection", 0.5, 0.5},
        {3, "Hole lies outside shell", 20, 20},
        {4, "Nested shells", 2, 2},
        {5, "Ring Self-intersection", 2, 2},
        {6, "Invalid Coordinate", NAN, 1},
        {7, "Too few points", 0, 0},
        {8, "Too few points", 0, 0},
        {9, NULL, NAN, NAN},
        {10, "Interior is disconnected", NAN, NAN},
        {11, NULL, NAN, NAN},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct check_case *c = &cases[i];
        struct om_validity val;
        size_t f = find(&v, c->fid);
        st = om_polyops_check(ctx, &v, f, &val, &err);
        if (st != OM_OK) {
            FAILF("fid %lld: %s", (long long)c->fid, err.msg);
            bad = 1;
            break;
        }
        if (!c->reason) {
            if (!val.is_valid || val.reason[0] || !isnan(val.x)) {
                FAILF("fid %lld: want valid, got \"%s\"", (long long)c->fid,
                      val.reason);
                bad = 1;
                break;
            }
            continue;
        }
        bool xok = isnan(c->x) ? (c->fid != 6 || isnan(val.x))
                               : fabs(val.x - c->x) < 1e-12;
        bool yok = isnan(c->y) || fabs(val.y - c->y) < 1e-12;
        if (val.is_valid || strcmp(val.reason, c->reason) != 0 || !xok ||
            !yok) {
            FAILF("fid %lld: got valid=%d \"%s\" at %g %g, want \"%s\" at "
                  "%g %g",
                  (long long)c->fid, val.is_valid, val.reason, val.x, val.y,
                  c->reason, c->x, c->y);
            bad = 1;
            break;
        }
    }
    struct om_validity val;
    st = om_polyops_check(ctx, &v, v.nfeatures, &val, &err);
    om_polyops_free(ctx);
    om_layer_free(l);
    if (bad) {
        return;
    }
    CHECK_INT(st, OM_EINVAL);
}

/*
 * Views the layer never produces (other producers may): an unclosed ring,
 * a part without rings, an empty hole (ignored, as GEOS does).
 */
TEST(test_check_raw_view)
{
    static const double xy[] = {0, 0, 1, 0, 1, 1, 0, 1, /* unclosed */
                                0, 0, 1, 0, 1, 1, 0, 1, 0, 0};
    static const size_t point_start[] = {0, 4, 9, 9};
    static const size_t ring_start[] = {0, 1, 1, 3};
    static const size_t part_start[] = {0, 1, 2, 3};
    static const int64_t fid[] = {1, 2, 3};
    static const uint8_t flags[] = {0, 0, 0};
    struct om_layer_view v = {.nfeatures = 3,
                              .nparts = 3,
                              .nrings = 3,
                              .npoints = 9,
                              .xy = xy,
                              .point_start = point_start,
                              .ring_start = ring_start,
                              .part_start = part_start,
                              .bbox = NULL,
                              .fid = fid,
                              .flags = flags};
    struct om_error err = {0};
    struct om_polyops *ctx = NULL;
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_validity val[3];
    enum om_status st = OM_OK;
    for (size_t f = 0; f < 3 && st == OM_OK; f++) {
        st = om_polyops_check(ctx, &v, f, &val[f], &err);
    }
    double area = 0;
    enum om_status st_area = OM_OK;
    if (st == OM_OK) {
        st = om_polyops_area(ctx, &v, 2, &area, &err);
        st_area = om_polyops_area(ctx, &v, 0, &area, &err);
    }
    om_polyops_free(ctx);
    CHECK_OK(st, &err);
    CHECK_STR(val[0].reason, "Ring is not closed");
    CHECK(val[0].x == 0 && val[0].y == 0);
    CHECK_STR(val[1].reason, "Too few points");
    CHECK(val[2].is_valid);
    CHECK_INT(st_area, OM_EGEOM);
    CHECK_CONTAINS(err.msg, "not closed");
}

/* make_valid of a unit bow-tie: two triangles of 0.25 each. */
TEST(test_make_valid_bowtie)
{
    struct om_error err = {0};
    struct om_layer *l = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    static const double bowtie[] = {0, 0, 1, 1, 1, 0, 0, 1, 0, 0};
    CHECK_OK(om_layer_new("in", &l, &err), &err);
    CHECK_OK(add_poly(l, 2, bowtie, 5, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    double before = -1, after = -1;
    CHECK_OK(om_layer_begin_feature(dst, 2, &err), &err);
    enum om_status st =
        om_polyops_make_valid(ctx, &v, 0, dst, &before, &after, &err);
    unsigned dropped = om_polyops_last_dropped(ctx);
    if (st == OM_OK) {
        st = om_layer_end_feature(dst, &err);
    }
    struct om_layer_view w;
    om_layer_view(dst, &w);
    struct om_validity val = {0};
    double a2 = NAN;
    if (st == OM_OK) {
        st = om_polyops_check(ctx, &w, 0, &val, &err);
    }
    if (st == OM_OK) {
        st = om_polyops_area(ctx, &w, 0, &a2, &err);
    }
    om_polyops_free(ctx);
    CHECK_OK(st, &err);
    /* GEOS area of the invalid input: the lobes have opposite orientation
     * and cancel. */
    CHECK_NEAR(before, 0.0, 0, 1e-15);
    CHECK_NEAR(after, 0.5, 1e-15, 0);
    CHECK_NEAR(a2, 0.5, 1e-15, 0);
    CHECK_INT(dropped, 0);
    CHECK(val.is_valid);
    CHECK_INT(w.nfeatures, 1);
    CHECK_INT(w.part_start[1] - w.part_start[0], 2);
    for (size_t p = 0; p < 2; p++) {
        size_t r = w.ring_start[p];
        CHECK_INT(w.ring_start[p + 1] - r, 1);
        CHECK_INT(w.point_start[r + 1] - w.point_start[r], 4);
        /* each lobe is 0.25, shells counter-clockwise */
        CHECK_NEAR(ring_area2(&w, r), 0.5, 1e-15, 0);
    }
    om_layer_free(l);
    om_layer_free(dst);
}

/*
 * The STRUCTURE method: a hole outside its shell is dropped (LINEWORK, and
 * GEOS 3.11's STRUCTURE alone, would make it an island), overlapping parts
 * are unioned (LINEWORK: their xor).
 */
TEST(test_make_valid_structure)
{
    struct om_error err = {0};
    struct om_layer *l = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    static const double big[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    static const double outside_hole[] = {20, 20, 21, 20, 21, 21, 20, 20};
    static const double sq1[] = {0, 0, 2, 0, 2, 2, 0, 2, 0, 0};
    static const double sq2[] = {1, 1, 3, 1, 3, 3, 1, 3, 1, 1};
    CHECK_OK(om_layer_new("in", &l, &err), &err);
    struct tring r1[] = {{true, 5, big}, {false, 4, outside_hole}};
    CHECK_OK(add_feat(l, 1, r1, 2, &err), &err);
    struct tring r2[] = {{true, 5, sq1}, {true, 5, sq2}};
    CHECK_OK(add_feat(l, 2, r2, 2, &err), &err);
    /* a hole inside the shell's box but outside the (triangular) shell,
     * and one inside it */
    static const double tri[] = {0, 0, 10, 0, 0, 10, 0, 0};
    static const double h_out[] = {6, 6, 8, 6, 8, 8, 6, 6};
    static const double h_in[] = {1, 1, 2, 1, 2, 2, 1, 1};
    struct tring r3[] = {{true, 4, tri}, {false, 4, h_out}, {false, 4, h_in}};
    CHECK_OK(add_feat(l, 3, r3, 3, &err), &err);
    CHECK_OK(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    double before[3] = {0}, after[3] = {0};
    unsigned dropped[3] = {0};
    enum om_status st = OM_OK;
    for (size_t f = 0; f < 3 && st == OM_OK; f++) {
        st = om_layer_begin_feature(dst, v.fid[f], &err);
        if (st == OM_OK) {
            st = om_polyops_make_valid(ctx, &v, f, dst, &before[f], &after[f],
                                       &err);
        }
        dropped[f] = om_polyops_last_dropped(ctx);
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, &err);
        }
    }
    om_polyops_free(ctx);
    CHECK_OK(st, &err);
    struct om_layer_view w;
    om_layer_view(dst, &w);
    CHECK_NEAR(before[0], 99.5, 1e-15, 0); /* 100 - |0.5| as GEOS sees it */
    CHECK_NEAR(after[0], 100, 1e-15, 0);
    CHECK_INT(w.part_start[1] - w.part_start[0], 1);
    CHECK_INT(w.ring_start[1] - w.ring_start[0], 1);
    CHECK_NEAR(before[1], 8, 1e-15, 0);
    CHECK_NEAR(after[1], 7, 1e-15, 0);
    CHECK_INT(w.part_start[2] - w.part_start[1], 1);
    CHECK_INT(dropped[0], OM_DROPPED_HOLE);
    CHECK_INT(dropped[1], 0);
    CHECK_NEAR(before[2], 50 - 2 - 0.5, 1e-15, 0);
    CHECK_NEAR(after[2], 50 - 0.5, 1e-15, 0);
    CHECK_INT(dropped[2], OM_DROPPED_HOLE);
    CHECK_INT(w.part_start[3] - w.part_start[2], 1);
    CHECK_INT(w.ring_start[w.part_start[2] + 1] - w.ring_start[w.part_start[2]],
              2);
    om_layer_free(l);
    om_layer_free(dst);
}

/* Non-finite points are dropped; degenerate rings are dropped. */
TEST(test_make_valid_cleaning)
{
    struct om_error err = {0};
    struct om_layer *l = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    static const double nan_sq[] = {0, 0, 2, 0, NAN, 7, 2, 2, 0, 2, 0, 0};
    static const double first_inf[] = {INFINITY, 0, 0, 0, 2,        0,
                                       2,        2, 0, 2, INFINITY, 0};
    static const double three[] = {0, 0, 1, 1, 0, 0};
    static const double big[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    static const double flat_hole[] = {2, 2, 3, 3, 2, 2, 3, 3, 2, 2};
    CHECK_OK(om_layer_new("in", &l, &err), &err);
    CHECK_OK(add_poly(l, 1, nan_sq, 6, &err), &err);
    CHECK_OK(add_poly(l, 2, first_inf, 6, &err), &err);
    CHECK_OK(add_poly(l, 3, three, 3, &err), &err);
    struct tring r4[] = {{true, 5, big}, {false, 5, flat_hole}};
    CHECK_OK(add_feat(l, 4, r4, 2, &err), &err);
    CHECK_OK(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    const double want_after[] = {4, 4, 0, 100};
    const unsigned want_dropped[] = {OM_DROPPED_NONFINITE, OM_DROPPED_NONFINITE,
                                     OM_DROPPED_DEGENERATE,
                                     OM_DROPPED_DEGENERATE};
    const size_t want_parts[] = {1, 1, 0, 1};
    double after[4] = {0}, before[4] = {0};
    unsigned dropped[4] = {0};
    enum om_status st = OM_OK;
    for (size_t f = 0; f < 4 && st == OM_OK; f++) {
        st = om_layer_begin_feature(dst, v.fid[f], &err);
        if (st == OM_OK) {
            st = om_polyops_make_valid(ctx, &v, f, dst, &before[f], &after[f],
                                       &err);
        }
        dropped[f] = om_polyops_last_dropped(ctx);
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, &err);
        }
    }
    om_polyops_free(ctx);
    CHECK_OK(st, &err);
    struct om_layer_view w;
    om_layer_view(dst, &w);
    for (size_t f = 0; f < 4; f++) {
        CHECK_NEAR(after[f], want_after[f], 1e-15, 0);
        CHECK_NEAR(before[f], want_after[f], 1e-15, 0);
        CHECK_INT(dropped[f], want_dropped[f]);
        CHECK_INT(w.part_start[f + 1] - w.part_start[f], want_parts[f]);
    }
    /* the hole-less square of fid 4 */
    CHECK_INT(w.ring_start[w.part_start[3] + 1] - w.ring_start[w.part_start[3]],
              1);
    om_layer_free(l);
    om_layer_free(dst);
}

/* Squares overlapping at Gauss-Kruger-sized coordinates. */
TEST(test_intersection_squares)
{
    struct om_error err = {0};
    struct om_layer *a = NULL, *b = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    const double X = 41500000.0, Y = 4800000.0;
    CHECK_OK(om_layer_new("a", &a, &err), &err);
    CHECK_OK(om_layer_new("b", &b, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(add_rect(a, 10, 0, 0, 2, 2, &err), &err);
    CHECK_OK(add_rect(a, 11, X, Y, X + 100.5, Y + 60.25, &err), &err);
    CHECK_OK(add_rect(a, 12, 0, 0, 1, 1, &err), &err);
    CHECK_OK(add_rect(b, 20, 1, 1, 3, 3, &err), &err);
    CHECK_OK(add_rect(b, 21, X + 50.25, Y - 10, X + 300, Y + 30.5, &err), &err);
    CHECK_OK(add_rect(b, 22, 1, 0, 2, 1, &err), &err); /* edge-adjacent */
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    /* area of [X+50.25, X+100.5] x [Y, Y+30.5] = 50.25 * 30.5 */
    const double want[] = {1.0, 50.25 * 30.5, 0.0};
    const size_t want_parts[] = {1, 1, 0};
    const unsigned want_dropped[] = {0, 0, OM_DROPPED_LOWER_DIM};
    double got[3];
    unsigned dropped[3];
    enum om_status st = OM_OK;
    for (size_t i = 0; i < 3 && st == OM_OK; i++) {
        st = om_layer_begin_feature(dst, (int64_t)i, &err);
        if (st == OM_OK) {
            st = om_polyops_intersection(ctx, &va, find(&va, 10 + (int)i), &vb,
                                         find(&vb, 20 + (int)i), dst, &got[i],
                                         &err);
        }
        dropped[i] = om_polyops_last_dropped(ctx);
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, &err);
        }
    }
    om_polyops_free(ctx);
    CHECK_OK(st, &err);
    struct om_layer_view w;
    om_layer_view(dst, &w);
    for (size_t i = 0; i < 3; i++) {
        CHECK_NEAR(got[i], want[i], 1e-12, 0);
        CHECK_INT(w.part_start[i + 1] - w.part_start[i], want_parts[i]);
        CHECK_INT(dropped[i], want_dropped[i]);
    }
    /* the written patch is the expected rectangle */
    size_t r = w.ring_start[w.part_start[1]];
    CHECK_INT(w.point_start[r + 1] - w.point_start[r], 5);
    CHECK(w.bbox[1].minx == X + 50.25 && w.bbox[1].maxx == X + 100.5);
    CHECK(w.bbox[1].miny == Y && w.bbox[1].maxy == Y + 30.5);
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(dst);
}

/* Bad input: a clear OM_EGEOM naming the feature, nothing leaks. */
TEST(test_intersection_bad_input)
{
    struct om_error err = {0};
    struct om_layer *a = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    static const double nan_sq[] = {0, 0, 2, 0, NAN, 7, 2, 2, 0, 2, 0, 0};
    static const double three[] = {0, 0, 1, 1, 0, 0};
    CHECK_OK(om_layer_new("a", &a, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(add_rect(a, 100, 0, 0, 2, 2, &err), &err);
    CHECK_OK(add_poly(a, 101, nan_sq, 6, &err), &err);
    CHECK_OK(add_poly(a, 102, three, 3, &err), &err);
    CHECK_OK(om_layer_finish(a, OM_LAYER_KEEP_ORDER, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view v;
    om_layer_view(a, &v);
    CHECK_OK(om_layer_begin_feature(dst, 1, &err), &err);
    double area = 0;
    enum om_status st1 =
        om_polyops_intersection(ctx, &v, 0, &v, 1, dst, &area, &err);
    struct om_error e1 = err;
    double area1 = area;
    enum om_status st2 =
        om_polyops_intersection(ctx, &v, 2, &v, 0, dst, &area, &err);
    struct om_error e2 = err;
    double a3 = 0;
    enum om_status st3 = om_polyops_area(ctx, &v, 1, &a3, &err);
    om_layer_abort_feature(dst);
    om_polyops_free(ctx);
    om_layer_free(a);
    om_layer_free(dst);
    CHECK_INT(st1, OM_EGEOM);
    CHECK(isnan(area1));
    CHECK_CONTAINS(e1.msg, "101");
    CHECK_CONTAINS(e1.msg, "non-finite");
    CHECK_INT(e1.feature, 101);
    CHECK_INT(st2, OM_EGEOM);
    CHECK_CONTAINS(e2.msg, "102");
    CHECK_INT(st3, OM_EGEOM);
    CHECK(isnan(a3));
}

/* Prepared zone [0,10]^2 with a hole [4,6]^2 against parcels. */
TEST(test_prepared_relate)
{
    struct om_error err = {0};
    struct om_layer *z = NULL, *p = NULL, *dst = NULL;
    struct om_polyops *ctx = NULL;
    struct om_prepared *zp = NULL;
    static const double zone[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    static const double hole[] = {4, 4, 6, 4, 6, 6, 4, 6, 4, 4};
    CHECK_OK(om_layer_new("zone", &z, &err), &err);
    struct tring zr[] = {{true, 5, zone}, {false, 5, hole}};
    CHECK_OK(add_feat(z, 7, zr, 2, &err), &err);
    CHECK_OK(om_layer_new("parcels", &p, &err), &err);
    struct {
        int64_t fid;
        double x0, y0, x1, y1;
        int rel;
        double area; /* of p ∩ zone */
    } cases[] = {
        {1, 1, 1, 3, 3, OM_REL_COVERS, 4},        /* inside */
        {2, 10, 2, 12, 4, OM_REL_DISJOINT, 0},    /* edge touch outside */
        {3, 10, 10, 12, 12, OM_REL_DISJOINT, 0},  /* corner touch */
        {4, 8, 2, 12, 4, OM_REL_PARTIAL, 4},      /* straddles the edge */
        {5, 0, 0, 10, 10, OM_REL_PARTIAL, 96},    /* shell only: hole */
        {6, 20, 20, 21, 21, OM_REL_DISJOINT, 0},  /* far away */
        {7, 0, 0, 2, 2, OM_REL_COVERS, 4},        /* inside, touching */
        {8, 4, 4, 6, 6, OM_REL_DISJOINT, 0},      /* fills the hole */
        {9, 3, 3, 5, 5, OM_REL_PARTIAL, 3},       /* over the hole edge */
        {10, -1, -1, 11, 11, OM_REL_PARTIAL, 96}, /* contains the zone */
    };
    size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < ncases; i++) {
        CHECK_OK(add_rect(p, cases[i].fid, cases[i].x0, cases[i].y0,
                          cases[i].x1, cases[i].y1, &err),
                 &err);
    }
    /* the zone itself (identical polygon, with its hole) and an empty one */
    CHECK_OK(add_feat(p, 11, zr, 2, &err), &err);
    CHECK_OK(om_layer_begin_feature(p, 12, &err), &err);
    CHECK_OK(om_layer_end_feature(p, &err), &err);
    CHECK_OK(om_layer_finish(p, 0, &err), &err);
    CHECK_OK(om_layer_new("out", &dst, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view vz, vp;
    om_layer_view(z, &vz);
    om_layer_view(p, &vp);
    enum om_status st = om_polyops_prepare(ctx, &vz, 0, &zp, &err);
    int rel[12];
    double area[12], area_plain[12];
    for (size_t i = 0; st == OM_OK && i < 12; i++) {
        size_t f = find(&vp, (int64_t)i + 1);
        st = om_prepared_relate(ctx, zp, &vp, f, &rel[i], &err);
        if (st == OM_OK) {
            st = om_layer_begin_feature(dst, (int64_t)i + 1, &err);
        }
        if (st == OM_OK) {
            st = om_prepared_intersection(ctx, zp, &vp, f, dst, &area[i], &err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, &err);
        }
        if (st == OM_OK) {
            st = om_layer_begin_feature(dst, -(int64_t)i - 1, &err);
        }
        if (st == OM_OK) {
            st = om_polyops_intersection(ctx, &vz, 0, &vp, f, dst,
                                         &area_plain[i], &err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(dst, &err);
        }
    }
    om_prepared_free(ctx, zp);
    om_polyops_free(ctx);
    om_layer_free(z);
    om_layer_free(p);
    om_layer_free(dst);
    CHECK_OK(st, &err);
    for (size_t i = 0; i < ncases; i++) {
        if (rel[i] != cases[i].rel) {
            FAILF("parcel %lld: relation %d, want %d", (long long)cases[i].fid,
                  rel[i], cases[i].rel);
            return;
        }
        CHECK_NEAR(area[i], cases[i].area, 1e-15, 0);
        CHECK_NEAR(area_plain[i], cases[i].area, 1e-15, 0);
    }
    CHECK_INT(rel[10], OM_REL_COVERS);
    CHECK_NEAR(area[10], 96, 1e-15, 0);
    CHECK_INT(rel[11], OM_REL_DISJOINT);
    CHECK_NEAR(area[11], 0, 0, 0);
}

/* Every allocation failing in turn: OM_ENOMEM, no leak, no crash. */
TEST(test_oom)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    static const double nan_sq[] = {0, 0, 2, 0, NAN, 7, 2, 2, 0, 2, 0, 0};
    static const double bowtie[] = {5, 5, 6, 6, 6, 5, 5, 6, 5, 5};
    CHECK_OK(om_layer_new("in", &l, &err), &err);
    struct tring r[] = {{true, 6, nan_sq}, {true, 5, bowtie}};
    CHECK_OK(add_feat(l, 1, r, 2, &err), &err);
    CHECK_OK(add_rect(l, 2, 1, 1, 5.5, 5.5, &err), &err);
    CHECK_OK(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    long base = test_live_allocs_;
    bool done = false;
    for (int n = 0; n < 200 && !done; n++) {
        struct om_layer *dst = NULL;
        struct om_polyops *ctx = NULL;
        struct om_prepared *pp = NULL;
        test_fail_allocs_after(n);
        enum om_status st = om_polyops_new(&ctx, &err);
        if (st == OM_OK) {
            st = om_layer_new("out", &dst, &err);
        }
        if (st == OM_OK) {
            st = om_layer_begin_feature(dst, 1, &err);
        }
        double a = 0;
        if (st == OM_OK) {
            st = om_polyops_make_valid(ctx, &v, 0, dst, NULL, &a, &err);
        }
        if (st == OM_OK) {
            st = om_polyops_prepare(ctx, &v, 1, &pp, &err);
        }
        if (st == OM_OK) {
            st = om_prepared_intersection(ctx, pp, &v, 1, dst, &a, &err);
        }
        test_fail_allocs_after(-1);
        if (dst) {
            om_layer_abort_feature(dst);
        }
        om_prepared_free(ctx, pp);
        om_polyops_free(ctx);
        om_layer_free(dst);
        if (test_live_allocs_ != base) {
            FAILF("allocation %d failing: %ld allocations leaked", n,
                  test_live_allocs_ - base);
            break;
        }
        if (st == OM_OK) {
            done = true;
        } else if (st != OM_ENOMEM) {
            FAILF("allocation %d failing: %s: %s", n, om_status_name(st),
                  err.msg);
            break;
        }
    }
    om_layer_free(l);
    CHECK(done);
}

/* ---- the GEOS/JTS XML test suite as an oracle (geos_fixtures.h) ---- */

struct xml_stats {
    int cases, compared, failed, errors;
    char first_failure[512];
};

static void note_failure(struct xml_stats *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note_failure(struct xml_stats *s, const char *fmt, ...)
{
    s->failed++;
    if (s->failed <= 5) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->first_failure, sizeof s->first_failure, fmt, ap);
        va_end(ap);
        printf("# %s\n", s->first_failure);
    }
}

enum xml_kind { XML_INTERSECTION, XML_AREA, XML_VALID, XML_RELATE };

/* Load a and b of one case into fresh one-feature layers. */
static int load_case(GEOSContextHandle_t h, const char *c, const char *end,
                     struct om_layer *la, struct om_layer *lb,
                     GEOSGeometry **ga, GEOSGeometry **gb)
{
    struct om_error err;
    char *ta = between(c, end, "<a>", "</a>");
    char *tb = between(c, end, "<b>", "</b>");
    *ga = ta ? read_geom(h, ta) : NULL;
    *gb = tb ? read_geom(h, tb) : NULL;
    free(ta);
    free(tb);
    int rc = 0;
    if (!*ga || add_geos(h, la, 1, *ga, true, &err) != 0) {
        rc = 1;
    }
    if (lb && (!*gb || add_geos(h, lb, 2, *gb, true, &err) != 0)) {
        rc = 1;
    }
    return rc;
}

static void run_xml_case(GEOSContextHandle_t h, struct om_polyops *ctx,
                         enum xml_kind kind, const char *file, int ncase,
                         const char *c, const char *end, struct xml_stats *s)
{
    struct om_error err = {0};
    struct om_layer *la = NULL, *lb = NULL, *dst = NULL;
    GEOSGeometry *ga = NULL, *gb = NULL, *gx = NULL;
    char *want = NULL;
    if (kind == XML_INTERSECTION) {
        const char *op = strstr(c, "name=\"intersection\"");
        if (!op || op > end) {
            op = strstr(c, "name=\"intersectionNG\"");
        }
        if (!op || op > end) {
            return;
        }
        want = between(op, end, ">", "</op>");
    } else if (kind == XML_AREA) {
        const char *op = strstr(c, "name=\"overlayAreaTest\"");
        if (!op || op > end) {
            op = strstr(c, "name=\"overlayareatest\"");
        }
        if (!op || op > end) {
            return;
        }
        want = between(op, end, ">", "</op>");
    } else if (kind == XML_VALID) {
        const char *op = strstr(c, "name=\"isValid\"");
        if (!op || op > end) {
            return;
        }
        want = between(op, end, ">", "</op>");
    } else {
        const char *op = strstr(c, "name=\"relate\"");
        if (!op || op > end) {
            return;
        }
        want = between(op, end, "arg3=\"", "\"");
    }
    if (!want) {
        return;
    }
    if (om_layer_new("a", &la, &err) != OM_OK ||
        om_layer_new("b", &lb, &err) != OM_OK ||
        om_layer_new("out", &dst, &err) != OM_OK ||
        load_case(h, c, end, la, kind == XML_VALID ? NULL : lb, &ga, &gb)) {
        goto done; /* not a polygon/polygon case */
    }
    s->cases++;
    struct om_layer_view va, vb;
    om_layer_view(la, &va);
    om_layer_view(lb, &vb);
    if (kind == XML_INTERSECTION) {
        gx = read_geom(h, want);
        double want_area = 0, got = 0, area_a = 0, area_b = 0;
        if (!gx || !GEOSArea_r(h, gx, &want_area)) {
            goto done;
        }
        GEOSArea_r(h, ga, &area_a);
        GEOSArea_r(h, gb, &area_b);
        om_layer_begin_feature(dst, 1, &err);
        enum om_status st =
            om_polyops_intersection(ctx, &va, 0, &vb, 0, dst, &got, &err);
        s->compared++;
        if (st != OM_OK) {
            s->errors++;
            note_failure(s, "%s case %d: %s", file, ncase, err.msg);
            goto done;
        }
        /* relative to the result, with a floor of 1e-12 of the inputs for
         * results that are slivers of cancellation */
        double tol = 1e-9 * fmax(want_area, 1e-3 * fmin(area_a, area_b));
        if (!(fabs(got - want_area) <= tol)) {
            note_failure(s, "%s case %d: area %.17g, expected %.17g", file,
                         ncase, got, want_area);
        }
    } else if (kind == XML_AREA) {
        /* No expected result: area(A∩B) must equal area(A) - area(A\B),
         * A\B by GEOS's difference in this test. */
        double area_a = 0, area_d = 0, got = 0;
        gx = GEOSDifference_r(h, ga, gb);
        if (!gx || !GEOSArea_r(h, gx, &area_d) || !GEOSArea_r(h, ga, &area_a)) {
            goto done;
        }
        om_layer_begin_feature(dst, 1, &err);
        enum om_status st =
            om_polyops_intersection(ctx, &va, 0, &vb, 0, dst, &got, &err);
        s->compared++;
        if (st != OM_OK) {
            s->errors++;
            note_failure(s, "%s case %d: %s", file, ncase, err.msg);
        } else if (!(fabs(got - (area_a - area_d)) <= 1e-9 * area_a)) {
            note_failure(s, "%s case %d: area %.17g, area(A)-area(A-B) %.17g",
                         file, ncase, got, area_a - area_d);
        }
    } else if (kind == XML_VALID) {
        struct om_validity val;
        bool want_valid = strstr(want, "true") != NULL;
        s->compared++;
        if (om_polyops_check(ctx, &va, 0, &val, &err) != OM_OK) {
            s->errors++;
            note_failure(s, "%s case %d: %s", file, ncase, err.msg);
        } else if (val.is_valid != want_valid) {
            note_failure(s, "%s case %d: valid=%d (%s), expected %d", file,
                         ncase, val.is_valid, val.reason, want_valid);
        }
    } else {
        /* DE-9IM of A vs B: A covers B iff B's interior and boundary avoid
         * A's exterior (cells EI and EB); interiors meet iff II != F. */
        if (strlen(want) != 9) {
            goto done;
        }
        int want_rel = want[6] == 'F' && want[7] == 'F' ? OM_REL_COVERS
                       : want[0] != 'F'                 ? OM_REL_PARTIAL
                                                        : OM_REL_DISJOINT;
        struct om_prepared *pp = NULL;
        int rel = -1;
        s->compared++;
        enum om_status st = om_polyops_prepare(ctx, &va, 0, &pp, &err);
        if (st == OM_OK) {
            st = om_prepared_relate(ctx, pp, &vb, 0, &rel, &err);
        }
        om_prepared_free(ctx, pp);
        if (st != OM_OK) {
            s->errors++;
            note_failure(s, "%s case %d: %s", file, ncase, err.msg);
        } else if (rel != want_rel) {
            note_failure(s, "%s case %d: relation %d, expected %d (%s)", file,
                         ncase, rel, want_rel, want);
        }
    }
done:
    om_layer_free(la);
    om_layer_free(lb);
    om_layer_free(dst);
    if (ga) {
        GEOSGeom_destroy_r(h, ga);
    }
    if (gb) {
        GEOSGeom_destroy_r(h, gb);
    }
    if (gx) {
        GEOSGeom_destroy_r(h, gx);
    }
    free(want);
}

static void run_xml(const char *const *files, size_t nfiles, enum xml_kind kind,
                    struct xml_stats *s)
{
    GEOSContextHandle_t h = GEOS_init_r();
    struct om_polyops *ctx = NULL;
    struct om_error err;
    if (om_polyops_new(&ctx, &err) != OM_OK) {
        note_failure(s, "om_polyops_new: %s", err.msg);
        GEOS_finish_r(h);
        return;
    }
    for (size_t i = 0; i < nfiles; i++) {
        char path[1024];
        test_data_path(files[i], path, sizeof path);
        char *xml = slurp(path);
        if (!xml) {
            note_failure(s, "cannot read %s", path);
            continue;
        }
        int ncase = 0;
        const char *end;
        for (const char *c = next_case(xml, &end); c;
             c = next_case(c + 5, &end)) {
            run_xml_case(h, ctx, kind, files[i], ++ncase, c, end, s);
        }
        free(xml);
    }
    om_polyops_free(ctx);
    GEOS_finish_r(h);
}

TEST(test_xml_intersection_areas)
{
    static const char *const files[] = {
        "geos-xmltester/tests/general/TestOverlayAA.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-pg-list.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-234.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-list.xml",
        "geos-xmltester/tests/issue/issue-geos-586.xml",
        "geos-xmltester/tests/general/TestNGOverlayA.xml",
    };
    struct xml_stats s = {0};
    run_xml(files, sizeof files / sizeof files[0], XML_INTERSECTION, &s);
    printf("# intersection: %d polygon cases, %d compared, %d failed "
           "(%d errors)\n",
           s.cases, s.compared, s.failed, s.errors);
    if (s.failed) {
        FAILF("%d failed; last shown: %s", s.failed, s.first_failure);
        return;
    }
    CHECK(s.compared >= 10);
}

TEST(test_xml_overlay_area_identity)
{
    static const char *const files[] = {
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-153.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-275.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-350.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-358.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-368.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-geos-1051.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-misc-1.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-misc-2.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-misc-3.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-misc-4.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-misc-5.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-qgis-29400.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-qgis-31552.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-qgis-37032.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-shapely-829.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-shapely-1061.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-osmwater.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-jts-300.xml",
        "geos-xmltester/tests/robust/overlay/TestOverlay-pg-4538.xml",
    };
    struct xml_stats s = {0};
    run_xml(files, sizeof files / sizeof files[0], XML_AREA, &s);
    printf("# area identity: %d polygon cases, %d compared, %d failed "
           "(%d errors)\n",
           s.cases, s.compared, s.failed, s.errors);
    if (s.failed) {
        FAILF("%d failed; last shown: %s", s.failed, s.first_failure);
        return;
    }
    CHECK(s.compared >= 5);
}

TEST(test_xml_validity)
{
    static const char *const files[] = {
        "geos-xmltester/tests/general/TestValid.xml",
        "geos-xmltester/tests/general/TestValid2.xml",
    };
    struct xml_stats s = {0};
    run_xml(files, sizeof files / sizeof files[0], XML_VALID, &s);
    printf("# validity: %d polygon cases, %d compared, %d failed\n", s.cases,
           s.compared, s.failed);
    if (s.failed) {
        FAILF("%d failed; last shown: %s", s.failed, s.first_failure);
        return;
    }
    CHECK(s.compared >= 100);
}

TEST(test_xml_relate)
{
    static const char *const files[] = {
        "geos-xmltester/tests/validate/TestRelateAA.xml",
        "geos-xmltester/tests/general/TestRelateAA.xml",
    };
    struct xml_stats s = {0};
    run_xml(files, sizeof files / sizeof files[0], XML_RELATE, &s);
    printf("# relate: %d polygon cases, %d compared, %d failed\n", s.cases,
           s.compared, s.failed);
    if (s.failed) {
        FAILF("%d failed; last shown: %s", s.failed, s.first_failure);
        return;
    }
    CHECK(s.compared >= 100);
}

/*
 * Real shapes: the 49 African countries of the JTS test data (lon/lat)
 * against two zones: a rectangle across the continent and one country
 * (its neighbours meet it along digitised borders). For every country the
 * relation and both intersection areas are checked against GEOS in this
 * test: the DE-9IM matrix from GEOSRelate and area(C) - area(C \ zone).
 */
TEST(test_real_africa)
{
    char path[1024];
    test_data_path("jts-testdata/africa.wkt", path, sizeof path);
    char *text = slurp(path);
    CHECK(text != NULL);
    struct om_error err = {0};
    struct om_layer *l = NULL, *zl = NULL, *dst = NULL;
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSGeometry *geoms[64] = {0};
    size_t ngeoms = 0;
    /* entries start with a geometry keyword at the start of a line */
    char *p = text;
    while (p && *p && ngeoms < 64) {
        char *next = p;
        do {
            next = strchr(next + 1, '\n');
        } while (next && !(isupper((unsigned char)next[1])));
        if (next) {
            *next++ = '\0';
        }
        if (strstr(p, "POLYGON")) {
            GEOSGeometry *g = read_geom(h, p);
            if (g) {
                geoms[ngeoms++] = g;
            }
        }
        p = next;
    }
    free(text);
    enum om_status st = om_layer_new("africa", &l, &err);
    if (st == OM_OK) {
        st = om_layer_new("zones", &zl, &err);
    }
    if (st == OM_OK) {
        st = om_layer_new("out", &dst, &err);
    }
    for (size_t i = 0; st == OM_OK && i < ngeoms; i++) {
        if (add_geos(h, l, (int64_t)i, geoms[i], true, &err) != 0) {
            st = OM_EINTERNAL;
        }
    }
    if (st == OM_OK) {
        st = add_rect(zl, 1000, 0, -10, 30, 20, &err);
    }
    if (st == OM_OK && add_geos(h, zl, 1001, geoms[12], true, &err) != 0) {
        st = OM_EINTERNAL;
    }
    struct om_polyops *ctx = NULL;
    if (st == OM_OK) {
        st = om_polyops_new(&ctx, &err);
    }
    struct om_layer_view v, vz;
    om_layer_view(l, &v);
    om_layer_view(zl, &vz);
    int counts[3] = {0, 0, 0}, nvalid = 0, nbad = 0;
    for (size_t z = 0; st == OM_OK && z < 2; z++) {
        struct om_prepared *pp = NULL;
        GEOSGeometry *zg = NULL;
        if (z == 0) {
            GEOSWKTReader *r = GEOSWKTReader_create_r(h);
            zg = GEOSWKTReader_read_r(
                h, r, "POLYGON((0 -10,30 -10,30 20,0 20,0 -10))");
            GEOSWKTReader_destroy_r(h, r);
        } else {
            zg = GEOSGeom_clone_r(h, geoms[12]);
        }
        st = om_polyops_prepare(ctx, &vz, z, &pp, &err);
        for (size_t f = 0; st == OM_OK && f < v.nfeatures; f++) {
            struct om_validity val;
            st = om_polyops_check(ctx, &v, f, &val, &err);
            if (st != OM_OK || !val.is_valid) {
                continue;
            }
            nvalid++;
            const GEOSGeometry *cg = geoms[v.fid[f]];
            char *im = GEOSRelate_r(h, zg, cg);
            double area_c = 0, area_d = 0;
            GEOSGeometry *d = GEOSDifference_r(h, cg, zg);
            GEOSArea_r(h, cg, &area_c);
            GEOSArea_r(h, d, &area_d);
            GEOSGeom_destroy_r(h, d);
            int want = im[6] == 'F' && im[7] == 'F' ? OM_REL_COVERS
                       : im[0] != 'F'               ? OM_REL_PARTIAL
                                                    : OM_REL_DISJOINT;
            GEOSFree_r(h, im);
            int rel = -1;
            double a1 = -1, a2 = -1;
            st = om_prepared_relate(ctx, pp, &v, f, &rel, &err);
            if (st == OM_OK) {
                st = om_layer_begin_feature(dst, v.fid[f], &err);
            }
            if (st == OM_OK) {
                st = om_prepared_intersection(ctx, pp, &v, f, dst, &a1, &err);
            }
            if (st == OM_OK) {
                st =
                    om_polyops_intersection(ctx, &vz, z, &v, f, dst, &a2, &err);
            }
            om_layer_abort_feature(dst);
            if (st != OM_OK) {
                break;
            }
            counts[rel]++;
            double want_area = area_c - area_d;
            double tol = 1e-9 * area_c;
            if (rel != want || !(fabs(a1 - want_area) <= tol) ||
                !(fabs(a2 - want_area) <= tol) ||
                (rel == OM_REL_DISJOINT && a1 != 0) ||
                (rel == OM_REL_COVERS && !(fabs(a1 - area_c) <= tol))) {
                if (nbad++ < 5) {
                    printf("# zone %zu country %lld: relation %d want %d, "
                           "areas %.17g %.17g want %.17g\n",
                           z, (long long)v.fid[f], rel, want, a1, a2,
                           want_area);
                }
            }
        }
        om_prepared_free(ctx, pp);
        GEOSGeom_destroy_r(h, zg);
    }
    om_polyops_free(ctx);
    for (size_t i = 0; i < ngeoms; i++) {
        GEOSGeom_destroy_r(h, geoms[i]);
    }
    GEOS_finish_r(h);
    om_layer_free(l);
    om_layer_free(zl);
    om_layer_free(dst);
    CHECK_OK(st, &err);
    printf("# africa: %zu countries, %d valid checks, disjoint %d, covers "
           "%d, partial %d\n",
           ngeoms, nvalid, counts[0], counts[1], counts[2]);
    CHECK_INT(nbad, 0);
    CHECK(ngeoms >= 40);
    CHECK(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
}

/*
 * Subdivision of a 6000-vertex polygon with a hole: every piece within the
 * vertex limit, pieces valid, areas add up to the whole, neighbouring
 * pieces do not overlap, prepared clip agrees with plain intersection.
 */
TEST(test_subdivide_and_clip)
{
    enum { N = 6000 };
    struct om_error err;
    struct om_layer *src = NULL, *pieces = NULL, *scratch = NULL;
    struct om_polyops *ctx = NULL;
    double *ring = malloc(sizeof(double) * 2 * (N + 1));
    for (int i = 0; i < N; i++) {
        double t = 2 * 3.14159265358979323846 * i / N;
        double r = 1000 + 80 * sin(7 * t) + ((i % 2) ? 3 : -3);
        ring[2 * i] = 42500000 + r * cos(t);
        ring[2 * i + 1] = 4800000 + r * sin(t);
    }
    ring[2 * N] = ring[0];
    ring[2 * N + 1] = ring[1];
    double hole[] = {42500000 - 100, 4800000 - 100,  42500000 - 100,
                     4800000 + 100,  42500000 + 100, 4800000 + 100,
                     42500000 + 100, 4800000 - 100,  42500000 - 100,
                     4800000 - 100};
    CHECK_OK(om_layer_new("big", &src, &err), &err);
    CHECK_OK(om_layer_begin_feature(src, 77, &err), &err);
    CHECK_OK(om_layer_begin_part(src, &err), &err);
    CHECK_OK(om_layer_add_ring(src, ring, N + 1, &err), &err);
    CHECK_OK(om_layer_add_ring(src, hole, 5, &err), &err);
    CHECK_OK(om_layer_end_feature(src, &err), &err);
    free(ring);
    CHECK_OK(om_layer_finish(src, 0, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    CHECK_OK(om_layer_new("pieces", &pieces, &err), &err);
    struct om_layer_view sv;
    om_layer_view(src, &sv);
    size_t np = 0;
    CHECK_OK(om_polyops_subdivide(ctx, &sv, 0, 256, pieces, &np, &err), &err);
    CHECK_OK(om_layer_finish(pieces, 0, &err), &err);
    struct om_layer_view pv;
    om_layer_view(pieces, &pv);
    CHECK_INT(np, pv.nfeatures);
    CHECK(np >= 24);
    double whole = 0, sum = 0;
    CHECK_OK(om_polyops_area(ctx, &sv, 0, &whole, &err), &err);
    for (size_t i = 0; i < pv.nfeatures; i++) {
        CHECK_INT(pv.fid[i], 77);
        size_t a = pv.point_start[pv.ring_start[pv.part_start[i]]];
        size_t b = pv.point_start[pv.ring_start[pv.part_start[i + 1]]];
        CHECK(b - a <= 256);
        struct om_validity val;
        CHECK_OK(om_polyops_check(ctx, &pv, i, &val, &err), &err);
        CHECK(val.is_valid);
        double ai = 0;
        CHECK_OK(om_polyops_area(ctx, &pv, i, &ai, &err), &err);
        sum += ai;
    }
    CHECK_NEAR(sum, whole, 1e-12, 0);
    /* pieces do not overlap: intersections of box-overlapping pairs */
    CHECK_OK(om_layer_new("s", &scratch, &err), &err);
    for (size_t i = 0; i < pv.nfeatures; i++) {
        for (size_t k = i + 1; k < pv.nfeatures; k++) {
            if (!om_rect_intersects(pv.bbox[i], pv.bbox[k])) {
                continue;
            }
            double a = -1;
            CHECK_OK(om_layer_begin_feature(scratch, 0, &err), &err);
            CHECK_OK(
                om_polyops_intersection(ctx, &pv, i, &pv, k, scratch, &a, &err),
                &err);
            CHECK_OK(om_layer_end_feature(scratch, &err), &err);
            CHECK(a < 1e-6);
        }
    }
    /* clip of a 300 m square straddling the boundary: same area as the
     * plain intersection, relation PARTIAL; a square inside: COVERS. */
    struct om_layer *sq = NULL;
    CHECK_OK(om_layer_new("sq", &sq, &err), &err);
    double s1[] = {42500850, 4799850,  42501150, 4799850,  42501150,
                   4800150,  42500850, 4800150,  42500850, 4799850};
    double s2[] = {42500300, 4800300,  42500400, 4800300,  42500400,
                   4800400,  42500300, 4800400,  42500300, 4800300};
    CHECK_OK(om_layer_begin_feature(sq, 1, &err), &err);
    CHECK_OK(om_layer_begin_part(sq, &err), &err);
    CHECK_OK(om_layer_add_ring(sq, s1, 5, &err), &err);
    CHECK_OK(om_layer_end_feature(sq, &err), &err);
    CHECK_OK(om_layer_begin_feature(sq, 2, &err), &err);
    CHECK_OK(om_layer_begin_part(sq, &err), &err);
    CHECK_OK(om_layer_add_ring(sq, s2, 5, &err), &err);
    CHECK_OK(om_layer_end_feature(sq, &err), &err);
    CHECK_OK(om_layer_finish(sq, OM_LAYER_KEEP_ORDER, &err), &err);
    struct om_layer_view qv;
    om_layer_view(sq, &qv);
    struct om_prepared *prep = NULL;
    CHECK_OK(om_polyops_prepare(ctx, &sv, 0, &prep, &err), &err);
    int rel = -1;
    double clip = 0, plain = 0;
    CHECK_OK(om_layer_begin_feature(scratch, 0, &err), &err);
    CHECK_OK(om_prepared_clip(ctx, prep, &qv, 0, scratch, &rel, &clip, &err),
             &err);
    CHECK_OK(om_layer_end_feature(scratch, &err), &err);
    CHECK_INT(rel, OM_REL_PARTIAL);
    CHECK_OK(om_layer_begin_feature(scratch, 0, &err), &err);
    CHECK_OK(
        om_polyops_intersection(ctx, &sv, 0, &qv, 0, scratch, &plain, &err),
        &err);
    CHECK_OK(om_layer_end_feature(scratch, &err), &err);
    CHECK_NEAR(clip, plain, 1e-12, 0);
    CHECK(clip > 1000 && clip < 90000);
    CHECK_OK(om_layer_begin_feature(scratch, 0, &err), &err);
    CHECK_OK(om_prepared_clip(ctx, prep, &qv, 1, scratch, &rel, &clip, &err),
             &err);
    CHECK_OK(om_layer_end_feature(scratch, &err), &err);
    CHECK_INT(rel, OM_REL_COVERS);
    om_prepared_free(ctx, prep);
    om_layer_free(sq);
    om_layer_free(scratch);
    om_layer_free(pieces);
    om_layer_free(src);
    om_polyops_free(ctx);
}

/* *area: the area of feature 0 of sv, checked valid (NaN if not). */
static void valid_area(struct om_polyops *ctx, const struct om_layer_view *sv,
                       double *area)
{
    struct om_error err;
    struct om_validity val;
    CHECK_OK(om_polyops_check(ctx, sv, 0, &val, &err), &err);
    CHECK(val.is_valid);
    CHECK_OK(om_polyops_area(ctx, sv, 0, area, &err), &err);
}

/*
 * Subdivide feature 0 of sv at `limit` vertices: at least `min_pieces`
 * pieces, each valid and within the limit unless it has several parts;
 * *sum is the sum of their areas (NaN when a check failed).
 */
static void subdivide_checked(struct om_polyops *ctx,
                              const struct om_layer_view *sv, size_t limit,
                              size_t min_pieces, double *sum)
{
    struct om_error err;
    struct om_layer *pieces = NULL;
    struct om_validity val;
    *sum = NAN;
    CHECK_OK(om_layer_new("pieces", &pieces, &err), &err);
    size_t np = 0;
    enum om_status st =
        om_polyops_subdivide(ctx, sv, 0, limit, pieces, &np, &err);
    if (st == OM_OK) {
        st = om_layer_finish(pieces, 0, &err);
    }
    struct om_layer_view pv;
    om_layer_view(pieces, &pv);
    double total = 0;
    bool ok = st == OM_OK && np == pv.nfeatures && np >= min_pieces;
    for (size_t i = 0; ok && i < pv.nfeatures; i++) {
        size_t a = pv.point_start[pv.ring_start[pv.part_start[i]]];
        size_t b = pv.point_start[pv.ring_start[pv.part_start[i + 1]]];
        double ai = 0;
        ok = (b - a <= limit || pv.part_start[i + 1] - pv.part_start[i] > 1) &&
             om_polyops_check(ctx, &pv, i, &val, &err) == OM_OK &&
             val.is_valid && om_polyops_area(ctx, &pv, i, &ai, &err) == OM_OK;
        total += ai;
    }
    om_layer_free(pieces);
    CHECK_OK(st, &err);
    CHECK(ok);
    *sum = total;
}

/*
 * Subdivision where the cuts run along edges: a comb on the integer
 * lattice (teeth one unit wide, every vertical edge at an integer x, so
 * the bisecting lines x = 32, 16, 48 ... hold vertices and whole edges),
 * where GEOS's rectangle clipper may return invalid halves. Every piece
 * is valid and within the vertex limit; the areas (exact on the lattice)
 * add up to the whole exactly.
 */
TEST(test_subdivide_along_edges)
{
    enum { TEETH = 32 };
    struct om_error err;
    struct om_layer *src = NULL;
    struct om_polyops *ctx = NULL;
    double ring[2 * (4 * TEETH + 4)];
    size_t n = 0;
    double x0 = 42500000, y0 = 4800000;
    ring[n++] = x0;
    ring[n++] = y0;
    for (int t = 0; t < TEETH; t++) {
        double h = t % 3 == 0 ? 40 : 64;
        ring[n++] = x0 + 2 * t;
        ring[n++] = y0 + h;
        ring[n++] = x0 + 2 * t + 1;
        ring[n++] = y0 + h;
        ring[n++] = x0 + 2 * t + 1;
        ring[n++] = y0 + 8;
        ring[n++] = x0 + 2 * t + 2;
        ring[n++] = y0 + 8;
    }
    ring[n++] = x0 + 2 * TEETH;
    ring[n++] = y0;
    ring[n++] = x0;
    ring[n++] = y0;
    /* the ring goes clockwise; the layer keeps it as given */
    CHECK_OK(om_layer_new("comb", &src, &err), &err);
    CHECK_OK(om_layer_begin_feature(src, 5, &err), &err);
    CHECK_OK(om_layer_begin_part(src, &err), &err);
    CHECK_OK(om_layer_add_ring(src, ring, n / 2, &err), &err);
    CHECK_OK(om_layer_end_feature(src, &err), &err);
    CHECK_OK(om_layer_finish(src, 0, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view sv;
    om_layer_view(src, &sv);
    double whole = NAN;
    valid_area(ctx, &sv, &whole);
    /* 64 x 8 base + teeth: 11 of height 40 - 8, 21 of 64 - 8 */
    CHECK_NEAR(whole, 64 * 8 + 11 * 32 + 21 * 56, 0, 0);
    size_t limits[] = {8, 12, 40, 8, 12, 40};
    unsigned long checked = om__subdivide_leaves_checked;
    for (size_t li = 0; li < 6; li++) {
        om__subdivide_careful = li >= 3; /* then every half checked */
        double sum = NAN;
        subdivide_checked(ctx, &sv, limits[li], 8, &sum);
        CHECK_NEAR(sum, whole, 0, 0);
    }
    om__subdivide_careful = 0;
    /* vertices on the cuts: the leaves were checked */
    CHECK(om__subdivide_leaves_checked > checked);
    om_layer_free(src);
    om_polyops_free(ctx);
}

/*
 * Holes touching the shell and each other at a point (valid, and what the
 * rectangle clipper regroups into rings touching themselves: 892 invalid
 * tiles of real farmland once): the pieces are valid, within the limit
 * unless multipart, and their areas add up to the whole, with only the
 * leaves checked and with every half checked.
 */
TEST(test_subdivide_touching_holes)
{
    struct om_error err;
    struct om_layer *src = NULL;
    struct om_polyops *ctx = NULL;
    double x0 = 500000, y0 = 4800000;
    double shell[2 * 401];
    size_t n = 0;
    for (int i = 0; i < 400; i++) { /* 100 x 100, a vertex every unit */
        int side = i / 100, k = i % 100;
        int x = side == 0 ? k : side == 1 ? 100 : side == 2 ? 100 - k : 0;
        int y = side == 0 ? 0 : side == 1 ? k : side == 2 ? 100 : 100 - k;
        shell[n++] = x0 + x;
        shell[n++] = y0 + y;
    }
    shell[n++] = x0;
    shell[n++] = y0;
    CHECK_OK(om_layer_new("holes", &src, &err), &err);
    CHECK_OK(om_layer_begin_feature(src, 7, &err), &err);
    CHECK_OK(om_layer_begin_part(src, &err), &err);
    CHECK_OK(om_layer_add_ring(src, shell, n / 2, &err), &err);
    double holes_area = 0;
    /* triangles across the first cuts (x = 50, then y = 50 in the left
     * half), touching the shell off the cut: the clipper joins each to the
     * shell into one ring that touches itself */
    double across[][8] = {
        {x0 + 48, y0, x0 + 52, y0 + 3, x0 + 48, y0 + 3, x0 + 48, y0},
        {x0 + 48, y0 + 100, x0 + 48, y0 + 97, x0 + 52, y0 + 97, x0 + 48,
         y0 + 100},
        {x0, y0 + 48, x0 + 3, y0 + 48, x0 + 3, y0 + 52, x0, y0 + 48},
    };
    for (int h = 0; h < 3; h++) {
        CHECK_OK(om_layer_add_ring(src, across[h], 4, &err), &err);
        holes_area += 6;
    }
    for (int h = 1; h < 20; h++) {
        if (h == 10) {
            continue; /* x = 50: the triangles above */
        }
        double c = 5.0 * h;
        /* a triangle touching the bottom side at (c, 0) */
        double t1[] = {x0 + c,     y0,     x0 + c + 1, y0 + 2,
                       x0 + c - 1, y0 + 2, x0 + c,     y0};
        /* a diamond touching the top of the next one at a point */
        double d1[] = {x0 + c,  y0 + 50,    x0 + c + 1, y0 + 51, x0 + c,
                       y0 + 52, x0 + c - 1, y0 + 51,    x0 + c,  y0 + 50};
        double d2[] = {x0 + c,  y0 + 52,    x0 + c + 1, y0 + 53, x0 + c,
                       y0 + 54, x0 + c - 1, y0 + 53,    x0 + c,  y0 + 52};
        CHECK_OK(om_layer_add_ring(src, t1, 4, &err), &err);
        CHECK_OK(om_layer_add_ring(src, d1, 5, &err), &err);
        CHECK_OK(om_layer_add_ring(src, d2, 5, &err), &err);
        holes_area += 2 + 2 + 2;
    }
    CHECK_OK(om_layer_end_feature(src, &err), &err);
    CHECK_OK(om_layer_finish(src, 0, &err), &err);
    CHECK_OK(om_polyops_new(&ctx, &err), &err);
    struct om_layer_view sv;
    om_layer_view(src, &sv);
    double whole = NAN;
    valid_area(ctx, &sv, &whole);
    CHECK_NEAR(whole, 10000 - holes_area, 1e-12, 0);
    size_t limits[] = {16, 64, 200};
    unsigned long redone = om__subdivide_leaves_redone;
    unsigned long again = om__subdivide_features_redone;
    for (int careful = 0; careful < 2; careful++) {
        om__subdivide_careful = careful;
        if (careful) {
            /* the triangles across the cuts made invalid leaves, redone
             * by overlay, and pieces breeding from invalid halves, the
             * feature then done carefully */
            CHECK(om__subdivide_leaves_redone > redone);
            CHECK(om__subdivide_features_redone > again);
        }
        for (size_t li = 0; li < 3; li++) {
            double sum = NAN;
            subdivide_checked(ctx, &sv, limits[li], 2, &sum);
            CHECK_NEAR(sum, whole, 1e-12, 0);
        }
    }
    om__subdivide_careful = 0;
    om_layer_free(src);
    om_polyops_free(ctx);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_polyops");
    RUN(test_subdivide_and_clip);
    RUN(test_subdivide_along_edges);
    RUN(test_subdivide_touching_holes);
    RUN(test_version);
    RUN(test_check_reasons);
    RUN(test_check_raw_view);
    RUN(test_make_valid_bowtie);
    RUN(test_make_valid_structure);
    RUN(test_make_valid_cleaning);
    RUN(test_intersection_squares);
    RUN(test_intersection_bad_input);
    RUN(test_prepared_relate);
    RUN(test_oom);
    RUN(test_xml_intersection_areas);
    RUN(test_xml_overlay_area_identity);
    RUN(test_xml_validity);
    RUN(test_xml_relate);
    RUN(test_real_africa);
    TEST_MAIN_END();
}
