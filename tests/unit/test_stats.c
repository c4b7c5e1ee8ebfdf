/*
 * test_stats.c — land-use statistics on synthetic layers: totals equal the
 * sum of the input, overlay splits add up to the parcel, results are
 * identical for any thread count, and the rounding keeps tables balanced.
 */
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/stats.h"
#include "test.h"

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

/*
 * A coverage of n×n jittered quads over [0,1000]² (shared corners, so no
 * gaps or overlaps), classes from a small list, TBDLMJ = a random number.
 */
static enum om_status make_parcels(int n, struct om_layer **out,
                                   double *sum_field, struct om_error *err)
{
    static const char *classes[] = {"0101", "0103", "0301", "0702",
                                    "1101", "0303", "1203"};
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
    int fc, fa;
    enum om_status st = om_layer_new("DLTB", &l, err);
    if (st == OM_OK) {
        st = om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &fc, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(l, "TBDLMJ", OM_FIELD_REAL, &fa, err);
    }
    *sum_field = 0;
    for (int i = 0; st == OM_OK && i < n; i++) {
        for (int j = 0; st == OM_OK && j < n; j++) {
            int a = i * (n + 1) + j, b = (i + 1) * (n + 1) + j;
            double ring[10] = {gx[a],     gy[a],     gx[b],     gy[b],
                               gx[b + 1], gy[b + 1], gx[a + 1], gy[a + 1],
                               gx[a],     gy[a]};
            double v = (double)(int)(rnd() * 100000) / 100.0;
            *sum_field += v;
            st = om_layer_begin_feature(l, i * n + j + 1, err);
            if (st == OM_OK) {
                st = om_layer_begin_part(l, err);
            }
            if (st == OM_OK) {
                st = om_layer_add_ring(l, ring, 5, err);
            }
            if (st == OM_OK) {
                st =
                    om_layer_set_text(l, fc, classes[(i / 3 + j / 4) % 7], err);
            }
            if (st == OM_OK) {
                st = om_layer_set_real(l, fa, v, err);
            }
            if (st == OM_OK) {
                st = om_layer_end_feature(l, err);
            }
        }
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    free(gx);
    free(gy);
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

/* Units: three vertical strips with boundaries that cut through parcels. */
static enum om_status make_units(struct om_layer **out, struct om_error *err)
{
    double cuts[] = {0, 333.3, 701.7, 1000};
    const char *codes[] = {"220183101", "220183102", "220183103"};
    const char *names[] = {"甲镇", "乙乡", "丙街道"};
    struct om_layer *l = NULL;
    int fc, fn;
    enum om_status st = om_layer_new("XZQ", &l, err);
    if (st == OM_OK) {
        st = om_layer_add_field(l, "XZQDM", OM_FIELD_TEXT, &fc, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(l, "XZQMC", OM_FIELD_TEXT, &fn, err);
    }
    for (int k = 0; st == OM_OK && k < 3; k++) {
        double a = X0 + cuts[k], b = X0 + cuts[k + 1];
        double ring[10] = {a, Y0, b, Y0, b, Y0 + 1000, a, Y0 + 1000, a, Y0};
        st = om_layer_begin_feature(l, k + 1, err);
        if (st == OM_OK) {
            st = om_layer_begin_part(l, err);
        }
        if (st == OM_OK) {
            st = om_layer_add_ring(l, ring, 5, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, fc, codes[k], err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, fn, names[k], err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

static double cells_sum(const struct om_stats_result *r)
{
    double s = 0;
    for (size_t i = 0; i < r->ncells; i++) {
        s += r->cells[i].area_m2;
    }
    return s;
}

TEST(test_whole_layer_totals)
{
    struct om_error err;
    struct om_layer *l = NULL;
    double sum_field;
    CHECK_OK(make_parcels(60, &l, &sum_field, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    double planar = 0;
    for (size_t f = 0; f < v.nfeatures; f++) {
        planar += om_feature_area_planar(&v, f);
    }
    struct om_stats_options o = {0};
    o.class_field = "DLBM";
    o.area = OM_AREA_PLANAR;
    o.threads = 2;
    struct om_stats_result *r = NULL;
    CHECK_OK(om_stats_run(l, &o, &r, NULL, &err), &err);
    /* A clean coverage of [0,1000]²: exactly 1e6 m², also as Σ parcels. */
    CHECK_NEAR(cells_sum(r), 1e6, 1e-12, 0);
    CHECK_NEAR(r->total_m2, planar, 1e-12, 0);
    CHECK_INT(r->nclasses, 7);
    CHECK_INT(r->nunits, 1);
    om_stats_result_free(r);
    o.area = OM_AREA_FIELD;
    o.area_field = "TBDLMJ";
    CHECK_OK(om_stats_run(l, &o, &r, NULL, &err), &err);
    CHECK_NEAR(cells_sum(r), sum_field, 1e-12, 0);
    om_stats_result_free(r);
    /* level 1: 0303 rolls up to 00 (湿地), 0101/0103 to 01, 1203 to 12 */
    o.level = 1;
    CHECK_OK(om_stats_run(l, &o, &r, NULL, &err), &err);
    CHECK_INT(r->nclasses, 6);
    CHECK_STR(r->classes[0].code, "00");
    CHECK_STR(r->classes[1].code, "01");
    om_stats_result_free(r);
    om_layer_free(l);
}

TEST(test_overlay_split_adds_up_and_threads_identical)
{
    struct om_error err;
    struct om_layer *l = NULL, *u = NULL;
    double sum_field;
    CHECK_OK(make_parcels(80, &l, &sum_field, &err), &err);
    CHECK_OK(make_units(&u, &err), &err);
    struct om_stats_options o = {0};
    o.class_field = "DLBM";
    o.area = OM_AREA_PLANAR;
    o.assign = OM_ASSIGN_OVERLAY;
    o.units = u;
    o.unit_code_field = "XZQDM";
    o.unit_name_field = "XZQMC";
    struct om_stats_result *r1 = NULL, *r2 = NULL;
    o.threads = 1;
    CHECK_OK(om_stats_run(l, &o, &r1, NULL, &err), &err);
    o.threads = 2;
    CHECK_OK(om_stats_run(l, &o, &r2, NULL, &err), &err);
    CHECK_INT(r1->nunits, 3); /* no unassigned area */
    CHECK(!r1->has_unassigned);
    CHECK(r1->nsplit > 0);
    CHECK_NEAR(cells_sum(r1), 1e6, 1e-9, 0);
    /* each strip's total is its exact area */
    double strip[3] = {0};
    for (size_t i = 0; i < r1->ncells; i++) {
        strip[r1->cells[i].unit] += r1->cells[i].area_m2;
    }
    CHECK_NEAR(strip[0], 333.3 * 1000, 1e-9, 0);
    CHECK_NEAR(strip[1], (701.7 - 333.3) * 1000, 1e-9, 0);
    CHECK_NEAR(strip[2], (1000 - 701.7) * 1000, 1e-9, 0);
    CHECK_STR(r1->units[1].name, "乙乡");
    CHECK_INT(r1->ncells, r2->ncells);
    for (size_t i = 0; i < r1->ncells; i++) {
        CHECK(r1->cells[i].area_m2 == r2->cells[i].area_m2); /* bitwise */
        CHECK_INT(r1->cells[i].nfeatures, r2->cells[i].nfeatures);
    }
    om_stats_result_free(r1);
    om_stats_result_free(r2);

    /* Ellipsoidal: each cell within the GK scale distortion of planar
     * (near the central meridian: < 1e-6), and not identical. */
    struct om_crs *crs = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    o.area = OM_AREA_ELLIPSOIDAL;
    o.crs = crs;
    o.area = OM_AREA_PLANAR;
    CHECK_OK(om_stats_run(l, &o, &r1, NULL, &err), &err);
    o.area = OM_AREA_ELLIPSOIDAL;
    CHECK_OK(om_stats_run(l, &o, &r2, NULL, &err), &err);
    CHECK_INT(r1->ncells, r2->ncells);
    for (size_t i = 0; i < r1->ncells; i++) {
        CHECK_NEAR(r2->cells[i].area_m2, r1->cells[i].area_m2, 1e-6, 0);
    }
    CHECK(cells_sum(r1) != cells_sum(r2));
    om_stats_result_free(r1);
    om_stats_result_free(r2);
    om_crs_free(crs);
    om_layer_free(l);
    om_layer_free(u);
}

/*
 * Two units split by a zigzag line of 4000 vertices: the stats engine tiles
 * them (> 1024 vertices); every unit's total must equal the direct GEOS
 * intersection of each parcel with the whole unit, summed.
 */
static enum om_status make_zigzag_units(struct om_layer **out,
                                        struct om_error *err)
{
    enum { N = 4000 };
    /* boundary x(y) = 500 + 37*sin(y/13) + small zigzag; y from 0 to 1000 */
    double *west = malloc(sizeof(double) * 2 * (N + 4));
    double *east = malloc(sizeof(double) * 2 * (N + 4));
    size_t nw = 0, ne = 0;
    for (int i = 0; i <= N; i++) {
        double y = 1000.0 * i / N;
        double x = 500 + 37 * sin(y / 13) + ((i % 2) ? 1.5 : -1.5);
        west[2 * nw] = X0 + x;
        west[2 * nw + 1] = Y0 + y;
        nw++;
    }
    /* west unit: boundary going up, then back along x = 0 */
    west[2 * nw] = X0;
    west[2 * nw + 1] = Y0 + 1000;
    nw++;
    west[2 * nw] = X0;
    west[2 * nw + 1] = Y0;
    nw++;
    /* east unit: x = 1000 edge, then the boundary going down */
    east[2 * ne] = X0 + 1000;
    east[2 * ne + 1] = Y0;
    ne++;
    east[2 * ne] = X0 + 1000;
    east[2 * ne + 1] = Y0 + 1000;
    ne++;
    for (int i = N; i >= 0; i--) {
        east[2 * ne] = west[2 * i];
        east[2 * ne + 1] = west[2 * i + 1];
        ne++;
    }
    struct om_layer *l = NULL;
    int fc;
    enum om_status st = om_layer_new("XZQ", &l, err);
    if (st == OM_OK) {
        st = om_layer_add_field(l, "XZQDM", OM_FIELD_TEXT, &fc, err);
    }
    const double *rings[2] = {west, east};
    size_t ns[2] = {nw, ne};
    const char *codes[2] = {"W", "E"};
    for (int k = 0; st == OM_OK && k < 2; k++) {
        st = om_layer_begin_feature(l, 10 + k, err);
        if (st == OM_OK) {
            st = om_layer_begin_part(l, err);
        }
        if (st == OM_OK) {
            st = om_layer_add_ring(l, rings[k], ns[k], err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, fc, codes[k], err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    free(west);
    free(east);
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

TEST(test_overlay_big_units_tiled)
{
    struct om_error err;
    struct om_layer *l = NULL, *u = NULL, *scratch = NULL;
    struct om_polyops *geos = NULL;
    double sum_field;
    CHECK_OK(make_parcels(50, &l, &sum_field, &err), &err);
    CHECK_OK(make_zigzag_units(&u, &err), &err);
    struct om_stats_options o = {0};
    o.class_field = "DLBM";
    o.area = OM_AREA_PLANAR;
    o.assign = OM_ASSIGN_OVERLAY;
    o.units = u;
    o.unit_code_field = "XZQDM";
    o.threads = 2;
    struct om_stats_result *r = NULL;
    CHECK_OK(om_stats_run(l, &o, &r, NULL, &err), &err);
    CHECK(!r->has_unassigned);
    CHECK(r->nsplit > 20);
    double got[2] = {0, 0};
    for (size_t i = 0; i < r->ncells; i++) {
        got[r->cells[i].unit] += r->cells[i].area_m2; /* 0 = E, 1 = W */
    }
    om_stats_result_free(r);
    /* Oracle: GEOS intersection of every parcel with each whole unit. */
    CHECK_OK(om_polyops_new(&geos, &err), &err);
    CHECK_OK(om_layer_new("s", &scratch, &err), &err);
    struct om_layer_view pv, uv;
    om_layer_view(l, &pv);
    om_layer_view(u, &uv);
    double want[2] = {0, 0};
    for (size_t uf = 0; uf < uv.nfeatures; uf++) {
        int k = strcmp(om_layer_get_text(u, uf, 0), "E") == 0 ? 0 : 1;
        for (size_t f = 0; f < pv.nfeatures; f++) {
            double a = 0;
            CHECK_OK(om_layer_begin_feature(scratch, 0, &err), &err);
            CHECK_OK(om_polyops_intersection(geos, &pv, f, &uv, uf, scratch, &a,
                                             &err),
                     &err);
            CHECK_OK(om_layer_end_feature(scratch, &err), &err);
            want[k] += a;
        }
    }
    om_layer_free(scratch);
    om_polyops_free(geos);
    CHECK_NEAR(got[0], want[0], 1e-9, 0);
    CHECK_NEAR(got[1], want[1], 1e-9, 0);
    CHECK_NEAR(got[0] + got[1], 1e6, 1e-9, 0);
    om_layer_free(l);
    om_layer_free(u);
}

TEST(test_prefix_assignment)
{
    struct om_error err;
    struct om_layer *l = NULL;
    double sum_field;
    CHECK_OK(make_parcels(20, &l, &sum_field, &err), &err);
    struct om_stats_options o = {0};
    o.class_field = "DLBM";
    o.area = OM_AREA_FIELD;
    o.area_field = "TBDLMJ";
    o.assign = OM_ASSIGN_PREFIX;
    o.prefix_field = "DLBM"; /* any text field: group by its first 2 chars */
    o.prefix_len = 2;
    struct om_stats_result *r = NULL;
    CHECK_OK(om_stats_run(l, &o, &r, NULL, &err), &err);
    CHECK_NEAR(cells_sum(r), sum_field, 1e-12, 0);
    CHECK_INT(r->nunits, 5); /* 01, 03, 07, 11, 12 */
    om_stats_result_free(r);
    om_layer_free(l);
}

TEST(test_errors)
{
    struct om_error err;
    struct om_layer *l = NULL;
    double sum_field;
    CHECK_OK(make_parcels(5, &l, &sum_field, &err), &err);
    struct om_stats_options o = {0};
    o.class_field = "NOPE";
    o.area = OM_AREA_PLANAR;
    struct om_stats_result *r = NULL;
    CHECK_STATUS(om_stats_run(l, &o, &r, NULL, &err), OM_ENOTFOUND);
    CHECK_CONTAINS(err.msg, "no class field 'NOPE' (fields: DLBM, TBDLMJ)");
    CHECK(r == NULL);
    o.class_field = "DLBM";
    o.area = OM_AREA_FIELD;
    o.area_field = "DLBM";
    CHECK_STATUS(om_stats_run(l, &o, &r, NULL, &err), OM_EINVAL);
    o.area = OM_AREA_ELLIPSOIDAL;
    CHECK_STATUS(om_stats_run(l, &o, &r, NULL, &err), OM_ECRS);
    om_layer_free(l);
}

TEST(test_rounding_preserves_sums)
{
    for (int trial = 0; trial < 2000; trial++) {
        double v[17], out[17];
        size_t n = 1 + (size_t)(rnd() * 16);
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            v[i] = rnd() * (trial % 2 ? 1000 : 0.05);
            sum += v[i];
        }
        om_round_preserving_sum(v, n, 2, out);
        long long t = 0, want = llround(sum * 100);
        for (size_t i = 0; i < n; i++) {
            long long c = llround(out[i] * 100);
            t += c;
            /* each value moves by less than one unit of the last place */
            CHECK(fabs(out[i] - v[i]) < 0.01 + 1e-12);
        }
        CHECK_INT(t, want);
    }
    /* city-sized totals in m2 at 9 decimals: 4e19 units do not fit in a
     * long long; the sums must still hold and the call must return */
    double big[4] = {1.2345678901234e10, 2.5e10 / 3, 7.77e9, 1e-3}, ob[4];
    double bsum = big[0] + big[1] + big[2] + big[3];
    om_apportion(big, 4, 9, bsum, ob);
    double osum = 0;
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(ob[i], big[i], 1e-4, 0);
        osum += ob[i];
    }
    CHECK_NEAR(osum, bsum, 1e-4, 0);
    /* a target far above the values: whole rounds, not one unit a loop */
    double small[3] = {1, 2, 3}, os[3];
    om_apportion(small, 3, 2, 1e7, os);
    CHECK_NEAR(os[0] + os[1] + os[2], 1e7, 1e-6, 0);
    /* a known case: 3 × 1/3 to 2 decimals sums to 1.00 */
    double third[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3}, o3[3];
    om_round_preserving_sum(third, 3, 2, o3);
    CHECK_NEAR(o3[0] + o3[1] + o3[2], 1.0, 1e-12, 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_stats");
    RUN(test_whole_layer_totals);
    RUN(test_overlay_split_adds_up_and_threads_identical);
    RUN(test_overlay_big_units_tiled);
    RUN(test_prefix_assignment);
    RUN(test_errors);
    RUN(test_rounding_preserves_sums);
    TEST_MAIN_END();
}
