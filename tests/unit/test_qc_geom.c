/*
 * test_qc_geom.c — the geometry check family of onemap qc (G001–G007,
 * src/ops/qc_geom.c), called directly through its internal contract
 * (ops/qc_int.h) with a recording sink defined here: every code triggered
 * by a purpose-built feature and not by clean ones (also demo-like
 * parcels), G001 verdicts against GEOS's own expected isValid results
 * (the GEOS/JTS XML test suite, shared data geos-xmltester, LGPL-2.1),
 * identical findings for 1 and 4 threads, cancel, and out-of-memory.
 */
#include "test.h"

#include "onemap/crs.h"
#include "onemap/layer.h"
#include "ops/qc_int.h"

#include <geos_c.h>

#include <ctype.h>
#include <stdbool.h>

#include "geos_fixtures.h"
#include "qc_sink.h"

static const struct rec *find_rec(const struct om__qc_sink *s, const char *code,
                                  int64_t fid)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->items[i].code, code) == 0 && s->items[i].fid == fid) {
            return &s->items[i];
        }
    }
    return NULL;
}

static struct om__qc_ctx make_ctx(const struct om_layer *l,
                                  const struct om_qc_schema *sc,
                                  const struct om_qc_conf *conf,
                                  const struct om_crs *crs, int threads,
                                  struct om__qc_sink *s)
{
    struct om__qc_ctx c;
    memset(&c, 0, sizeof c);
    c.layer = l;
    c.code = "DLTB";
    c.role = "landuse";
    c.schema = sc;
    c.conf = conf;
    c.crs = crs;
    c.threads = threads;
    c.sink = s;
    return c;
}

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

#define RING(part, arr)                                                        \
    {                                                                          \
        (part), sizeof(arr) / sizeof((arr)[0]) / 2, (arr)                      \
    }

/* Offsets (metres) in zone 42 with prefix, like the demo county. */
#define X0 42470000.0
#define Y0 4900000.0

/* A layer with one purpose-built feature per geometry check (fid 1..12);
 * coordinates offset by (X0 + 1000 * fid, Y0). */
static enum om_status build_cases(struct om_layer **out, struct om_error *err)
{
    static const double clean[] = {0, 0, 100, 0, 100, 100, 0, 100, 0, 0};
    static const double clean_hole[] = {20, 20, 20, 40, 40, 40, 40, 20, 20, 20};
    static const double bowtie[] = {0, 0, 100, 100, 100, 0, 0, 100, 0, 0};
    static const double repeat[] = {0,   0, 100, 0, 100, 0, 100,
                                    100, 0, 100, 0, 100, 0, 0};
    static const double spike[] = {0,   0,     100, 0,   100, 49.99, 200, 50,
                                   100, 50.01, 100, 100, 0,   100,   0,   0};
    static const double micro[] = {0,       0,   100, 0, 100, 50, 100,
                                   50.0005, 100, 100, 0, 100, 0,  0};
    static const double cw[] = {0, 0, 0, 100, 100, 100, 100, 0, 0, 0};
    static const double ccw_hole[] = {20, 20, 40, 20, 40, 40, 20, 40, 20, 20};
    static const double part2[] = {200, 0, 300, 0, 300, 100, 200, 100, 200, 0};
    static const double hole_out[] = {200, 200, 200, 300, 300,
                                      300, 300, 200, 200, 200};
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("DLTB", &l, err);
    struct {
        int64_t fid;
        struct tring r[2];
        size_t nr;
    } cases[] = {
        {1, {RING(true, clean), RING(false, clean_hole)}, 2},
        {2, {RING(true, bowtie)}, 1},
        {3, {RING(true, repeat)}, 1},
        {4, {RING(true, spike)}, 1},
        {5, {RING(true, micro)}, 1},
        {6, {{false, 0, NULL}}, 0}, /* empty */
        {7, {RING(true, clean), RING(true, part2)}, 2},
        {8, {RING(true, cw)}, 1},
        {9, {RING(true, clean), RING(false, ccw_hole)}, 2},
        {10, {RING(true, clean), RING(false, hole_out)}, 2},
        {11, {RING(true, clean)}, 1},
    };
    for (size_t i = 0; st == OM_OK && i < sizeof cases / sizeof cases[0]; i++) {
        /* shift a copy of the rings */
        double buf[2][32];
        struct tring r[2];
        for (size_t k = 0; k < cases[i].nr; k++) {
            r[k] = cases[i].r[k];
            for (size_t q = 0; q < r[k].n; q++) {
                buf[k][2 * q] = r[k].xy[2 * q] + X0 + 1000.0 * (double)i;
                buf[k][2 * q + 1] = r[k].xy[2 * q + 1] + Y0;
            }
            r[k].xy = buf[k];
        }
        st = add_feat(l, cases[i].fid, r, cases[i].nr, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

TEST(test_geometry_codes)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    struct om_crs *crs = NULL;
    CHECK_OK(build_cases(&l, &err), &err);
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.layer = "DLTB";
    sc.single_part = true;
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, crs, 2, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    om_crs_free(crs);
    om_layer_free(l);
    if (st != OM_OK) {
        sink_free(&s);
        FAILF("om__qc_geometry: %s", err.msg);
        return;
    }
    /* exactly these findings, in fid order */
    static const struct {
        const char *code;
        int64_t fid;
    } want[] = {
        {"G001", 2}, {"G002", 3}, {"G003", 4}, {"G004", 5},  {"G005", 6},
        {"G006", 7}, {"G007", 8}, {"G007", 9}, {"G001", 10},
    };
    size_t nwant = sizeof want / sizeof want[0];
    bool ok = s.n == nwant;
    for (size_t i = 0; ok && i < nwant; i++) {
        ok = strcmp(s.items[i].code, want[i].code) == 0 &&
             s.items[i].fid == want[i].fid;
    }
    if (!ok) {
        for (size_t i = 0; i < s.n; i++) {
            printf("# got %s fid %lld: %s\n", s.items[i].code,
                   (long long)s.items[i].fid, s.items[i].en);
        }
        sink_free(&s);
        FAILF("%zu findings, want %zu", s.n, nwant);
        return;
    }
    const struct rec *r = &s.items[0]; /* bowtie: GEOS's point (50, 50) */
    double ok_loc =
        fabs(r->x - (X0 + 1000 + 50)) < 1e-6 && fabs(r->y - (Y0 + 50)) < 1e-6;
    char en0[640], en1[640], en2[640], en3[640], zh0[640];
    snprintf(en0, sizeof en0, "%s", r->en);
    snprintf(zh0, sizeof zh0, "%s", r->zh);
    snprintf(en1, sizeof en1, "%s", s.items[1].en);
    snprintf(en2, sizeof en2, "%s", s.items[8].en);
    snprintf(en3, sizeof en3, "%s", s.items[5].en);
    double v2 = s.items[1].value, v3 = s.items[2].value, v4 = s.items[3].value,
           v6 = s.items[5].value, x3 = s.items[2].x, y3 = s.items[2].y;
    double x5 = s.items[4].x;
    int64_t fid2 = s.items[0].fid2;
    sink_free(&s);
    CHECK(ok_loc);
    CHECK_CONTAINS(en0, "Self-intersection at (42471050.000, 4900050.000)");
    CHECK_CONTAINS(zh0, "自相交");
    CHECK_INT(fid2, -1);
    CHECK_CONTAINS(en1, "2 repeated consecutive vertices, the first at "
                        "(42472100.000, 4900000.000)");
    CHECK_NEAR(v2, 2, 0, 0);
    /* spike apex (200, 50): angle 2·atan(0.01 / 100) */
    CHECK_NEAR(v3, 2 * atan(0.01 / 100) * 180 / 3.14159265358979323846, 1e-6,
               0);
    CHECK_NEAR(x3, X0 + 3000 + 200, 0, 1e-9);
    CHECK_NEAR(y3, Y0 + 50, 0, 1e-9);
    CHECK_NEAR(v4, 0.0005, 1e-6, 0);
    CHECK(isnan(x5));
    CHECK_NEAR(v6, 2, 0, 0);
    CHECK_CONTAINS(en3, "2 parts");
    CHECK_CONTAINS(en2, "Hole lies outside shell");
}

TEST(test_geometry_no_schema_no_g006)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(build_cases(&l, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 1, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    om_layer_free(l);
    size_t n6 = count_code(&s, "G006"), n = s.n;
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(n6, 0);
    CHECK_INT(n, 8);
}

/* A layer storing its shells clockwise (Shapefile convention): one
 * layer-level G007, and only the feature that breaks that convention. */
TEST(test_clockwise_layer)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("cw", &l, &err);
    for (int i = 0; st == OM_OK && i < 5; i++) {
        double x = X0 + 100.0 * i, y = Y0;
        double cw[] = {x, y, x, y + 10, x + 10, y + 10, x + 10, y, x, y};
        double ccw[] = {x, y, x + 10, y, x + 10, y + 10, x, y + 10, x, y};
        struct tring r[] = {RING(true, cw)};
        struct tring q[] = {RING(true, ccw)};
        st = add_feat(l, i + 1, i == 3 ? q : r, 1, &err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err);
    }
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    s.only = "G007";
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 1, &s);
    if (st == OM_OK) {
        st = om__qc_geometry(&c, &err);
    }
    om_layer_free(l);
    size_t n = s.n;
    const struct rec *layer_level = find_rec(&s, "G007", -1);
    const struct rec *odd = find_rec(&s, "G007", 4);
    bool mentions = layer_level && strstr(layer_level->en, "4 of 5");
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(n, 2);
    CHECK(layer_level != NULL);
    CHECK(odd != NULL);
    CHECK(mentions);
}

TEST(test_geometry_only)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(build_cases(&l, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    s.only = "G007";
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 1, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    om_layer_free(l);
    size_t n7 = count_code(&s, "G007"), n = s.n;
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(n7, 2);
    CHECK_INT(n, 2);
}

/* Thresholds matter: a spike of 2° is not one at 1° but is at 3°. */
TEST(test_geometry_thresholds)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("T", &l, &err), &err);
    double h = 100 * tan(1.0 * 3.14159265358979323846 / 180); /* 2° apex */
    double spike[] = {0,   0,      100, 0,   100, 50 - h, 200, 50,
                      100, 50 + h, 100, 100, 0,   100,    0,   0};
    struct tring r[] = {RING(true, spike)};
    CHECK_OK(add_feat(l, 1, r, 1, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 1, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    size_t n1 = s.n;
    conf.spike_angle_deg = 3;
    conf.micro_segment_m = 60; /* every segment shorter than 60 m */
    s.n = 0;
    if (st == OM_OK) {
        st = om__qc_geometry(&c, &err);
    }
    size_t n3 = count_code(&s, "G003"), n4 = count_code(&s, "G004");
    double ang = n3 ? find_rec(&s, "G003", 1)->value : 0;
    sink_free(&s);
    om_layer_free(l);
    CHECK_OK(st, &err);
    CHECK_INT(n1, 0);
    CHECK_INT(n3, 1);
    CHECK_NEAR(ang, 2, 1e-9, 0);
    CHECK_INT(n4, 2); /* the two 50 - h sides of the finger's base */
}

/* ---- demo-like clean parcels ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static double unit(uint64_t k) /* [0, 1) */
{
    return (double)(mix(k) >> 11) / 9007199254740992.0;
}

enum { WIG = 5 }; /* interior vertices per grid edge */

/* Node (i, j) of an n-cell grid with 200 m cells, jittered ±0.15 cell. */
static void node(int i, int j, double *x, double *y)
{
    uint64_t k = (uint64_t)i * 100003u + (uint64_t)j;
    *x = X0 + 200.0 * (i + 0.3 * (unit(2 * k) - 0.5));
    *y = Y0 + 200.0 * (j + 0.3 * (unit(2 * k + 1) - 0.5));
}

/* The WIG interior points of the edge a→b (id: its key), wiggled along the
 * normal; the same points for b→a in reverse order. */
static void edge(double ax, double ay, double bx, double by, uint64_t id,
                 double *out)
{
    double amp = 200.0 * 0.03 * (2 * unit(id) - 1);
    double nx = -(by - ay), ny = bx - ax, len = hypot(nx, ny);
    for (int k = 1; k <= WIG; k++) {
        double t = (double)k / (WIG + 1);
        double w = amp * sin(3.14159265358979323846 * t) / len;
        out[2 * (k - 1)] = ax + t * (bx - ax) + w * nx;
        out[2 * (k - 1) + 1] = ay + t * (by - ay) + w * ny;
    }
}

/* Append edge from node (i0,j0) to (i1,j1) (one step), without its end. */
static size_t append_edge(double *ring, size_t n, int i0, int j0, int i1,
                          int j1)
{
    bool fwd = i0 < i1 || j0 < j1;
    int ai = fwd ? i0 : i1, aj = fwd ? j0 : j1;
    int bi = fwd ? i1 : i0, bj = fwd ? j1 : j0;
    double ax, ay, bx, by, pts[2 * WIG];
    node(ai, aj, &ax, &ay);
    node(bi, bj, &bx, &by);
    uint64_t id = ((uint64_t)ai * 1000u + (uint64_t)aj) * 2u + (ai != bi);
    edge(ax, ay, bx, by, id + 77, pts);
    double sx, sy;
    node(i0, j0, &sx, &sy);
    ring[2 * n] = sx;
    ring[2 * n + 1] = sy;
    n++;
    for (int k = 0; k < WIG; k++) {
        int q = fwd ? k : WIG - 1 - k;
        ring[2 * n] = pts[2 * q];
        ring[2 * n + 1] = pts[2 * q + 1];
        n++;
    }
    return n;
}

/*
 * n×n cells; cell (i, j) is fid j*n+i+1, a CCW ring along wiggly shared
 * edges; every 7th cell has an island: a CW hole, and the island itself
 * as its own feature (fid 100000 + cell). A clean coverage.
 */
static enum om_status build_parcels(int n, struct om_layer **out,
                                    struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("DLTB", &l, err);
    double ring[2 * (4 * (WIG + 1) + 1)];
    for (int j = 0; j < n && st == OM_OK; j++) {
        for (int i = 0; i < n && st == OM_OK; i++) {
            size_t m = 0;
            m = append_edge(ring, m, i, j, i + 1, j);
            m = append_edge(ring, m, i + 1, j, i + 1, j + 1);
            m = append_edge(ring, m, i + 1, j + 1, i, j + 1);
            m = append_edge(ring, m, i, j + 1, i, j);
            ring[2 * m] = ring[0];
            ring[2 * m + 1] = ring[1];
            m++;
            int64_t fid = (int64_t)j * n + i + 1;
            bool island = fid % 7 == 0;
            double cx, cy, hole[2 * 9], isl[2 * 9];
            node(i, j, &cx, &cy);
            cx += 100;
            cy += 100;
            for (int k = 0; k <= 8; k++) {
                double a = 2 * 3.14159265358979323846 * (k % 8) / 8;
                isl[2 * k] = cx + 26 * cos(a);
                isl[2 * k + 1] = cy + 26 * sin(a);
                hole[2 * (8 - k)] = isl[2 * k];
                hole[2 * (8 - k) + 1] = isl[2 * k + 1];
            }
            struct tring r[2] = {{true, m, ring}, {false, 9, hole}};
            st = add_feat(l, fid, r, island ? 2 : 1, err);
            if (st == OM_OK && island) {
                struct tring ri = {true, 9, isl};
                st = add_feat(l, 100000 + fid, &ri, 1, err);
            }
        }
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

TEST(test_clean_parcels)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    struct om_crs *crs = NULL;
    CHECK_OK(build_parcels(40, &l, &err), &err);
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.single_part = true;
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, crs, 4, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    size_t nf = om_layer_nfeatures(l);
    om_crs_free(crs);
    om_layer_free(l);
    if (s.n) {
        printf("# %s fid %lld: %s\n", s.items[0].code,
               (long long)s.items[0].fid, s.items[0].en);
    }
    size_t n = s.n;
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK(nf > 1600);
    CHECK_INT(n, 0);
}

/* ---- thread-count independence ---- */

/* Parcels with defects sprinkled in: every 5th cell gets a bow-tie
 * corner, every 11th a repeated vertex, every 13th is reversed. */
static enum om_status build_mixed(int n, struct om_layer **out,
                                  struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("M", &l, err);
    double ring[2 * (4 * (WIG + 1) + 3)];
    for (int j = 0; j < n && st == OM_OK; j++) {
        for (int i = 0; i < n && st == OM_OK; i++) {
            int64_t fid = (int64_t)j * n + i + 1;
            size_t m = 0;
            m = append_edge(ring, m, i, j, i + 1, j);
            m = append_edge(ring, m, i + 1, j, i + 1, j + 1);
            m = append_edge(ring, m, i + 1, j + 1, i, j + 1);
            m = append_edge(ring, m, i, j + 1, i, j);
            ring[2 * m] = ring[0];
            ring[2 * m + 1] = ring[1];
            m++;
            if (fid % 5 == 0) { /* swap two vertices: self-intersection */
                double tx = ring[2], ty = ring[3];
                ring[2] = ring[6];
                ring[3] = ring[7];
                ring[6] = tx;
                ring[7] = ty;
            }
            if (fid % 11 == 0) { /* repeat vertex 3 */
                memmove(&ring[8], &ring[6], (2 * m - 6) * sizeof ring[0]);
                m++;
            }
            if (fid % 13 == 0) { /* reverse */
                for (size_t a = 0, b = m - 1; a < b; a++, b--) {
                    double tx = ring[2 * a], ty = ring[2 * a + 1];
                    ring[2 * a] = ring[2 * b];
                    ring[2 * a + 1] = ring[2 * b + 1];
                    ring[2 * b] = tx;
                    ring[2 * b + 1] = ty;
                }
            }
            struct tring r = {true, m, ring};
            st = add_feat(l, fid, &r, 1, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

TEST(test_threads_identical)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(build_mixed(60, &l, &err), &err);
    struct om_qc_conf conf = conf_default();
    conf.micro_segment_m = 10; /* a few micro-segments too */
    struct om__qc_sink s1 = {0}, s4 = {0}, s0 = {0};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 1, &s1);
    enum om_status st = om__qc_geometry(&c, &err);
    c.threads = 4;
    c.sink = &s4;
    if (st == OM_OK) {
        st = om__qc_geometry(&c, &err);
    }
    c.threads = 0; /* all cores */
    c.sink = &s0;
    if (st == OM_OK) {
        st = om__qc_geometry(&c, &err);
    }
    om_layer_free(l);
    bool same = s1.n == s4.n && s1.n == s0.n;
    for (size_t i = 0; same && i < s1.n; i++) {
        same = memcmp(&s1.items[i], &s4.items[i], sizeof s1.items[i]) == 0 &&
               memcmp(&s1.items[i], &s0.items[i], sizeof s1.items[i]) == 0;
    }
    size_t n1 = count_code(&s1, "G001"), n2 = count_code(&s1, "G002"),
           n7 = count_code(&s1, "G007"), n = s1.n;
    bool ordered = true;
    for (size_t i = 1; i < s1.n; i++) {
        ordered = ordered && s1.items[i - 1].fid <= s1.items[i].fid;
    }
    sink_free(&s1);
    sink_free(&s4);
    sink_free(&s0);
    CHECK_OK(st, &err);
    CHECK(same);
    CHECK(ordered);
    CHECK_INT(n1, 3600 / 5);
    CHECK_INT(n2, 3600 / 11);
    CHECK_INT(n7, 3600 / 13);
    CHECK(n > n1 + n2 + n7); /* the micro-segments */
}

/* ---- cancel and out of memory ---- */

static void on_progress(void *ctx, const char *phase, uint64_t done,
                        uint64_t total)
{
    (void)phase;
    (void)done;
    (void)total;
    (*(int *)ctx)++;
}

TEST(test_cancel)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(build_mixed(20, &l, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    volatile int cancel = 1;
    int calls = 0;
    struct om_progress pr = {on_progress, &calls, &cancel};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 2, &s);
    c.progress = &pr;
    enum om_status st = om__qc_geometry(&c, &err);
    cancel = 0;
    enum om_status st2 = om__qc_geometry(&c, &err);
    om_layer_free(l);
    sink_free(&s);
    CHECK_INT(st, OM_ECANCELED);
    CHECK_INT(st2, OM_OK);
    CHECK(calls > 0);
}

TEST(test_oom)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(build_cases(&l, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.single_part = true;
    enum om_status st = OM_ENOMEM;
    int i;
    for (i = 0; i < 500; i++) {
        struct om__qc_sink s = {0};
        struct om__qc_ctx c = make_ctx(l, &sc, &conf, NULL, 2, &s);
        long before = test_live_allocs_;
        test_fail_allocs_after(i);
        st = om__qc_geometry(&c, &err);
        test_fail_after_ = -1;
        long after = test_live_allocs_;
        size_t n = s.n;
        sink_free(&s);
        if (after != before) {
            om_layer_free(l);
            FAILF("leak after failing allocation %d", i);
            return;
        }
        if (st == OM_OK) {
            if (n != 9) {
                om_layer_free(l);
                FAILF("%zu findings after OOM loop", n);
                return;
            }
            break;
        }
        if (st != OM_ENOMEM) {
            om_layer_free(l);
            FAILF("allocation %d: %s: %s", i, om_status_name(st), err.msg);
            return;
        }
    }
    om_layer_free(l);
    CHECK_INT(st, OM_OK);
    CHECK(i > 2);
}

/* ---- G001 against GEOS's expected verdicts (XML test suite) ---- */

TEST(test_xml_validity)
{
    /* every file of the suite with isValid cases */
    static const char *const files[] = {
        "geos-xmltester/tests/general/TestValid.xml",
        "geos-xmltester/tests/general/TestValid2.xml",
        "geos-xmltester/tests/general/TestValid2-big.xml",
        "geos-xmltester/tests/misc/TestIsValid.xml",
        "geos-xmltester/tests/misc/hexwkb.xml",
        "geos-xmltester/tests/misc/Segfaults.xml",
        "geos-xmltester/tests/issue/issue-geos-275.xml",
        "geos-xmltester/tests/issue/issue-geos-392.xml",
        "geos-xmltester/tests/issue/issue-geos-590.xml",
        "geos-xmltester/tests/issue/issue-geos-599.xml",
    };
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("XML", &l, &err), &err);
    GEOSContextHandle_t h = GEOS_init_r();
    /* expected verdict per fid (1-based, over all files) */
    static signed char expect[4096];
    int ncases = 0, nloaded = 0, nskipped = 0;
    bool load_failed = false;
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        char path[512];
        char *text = slurp(test_data_path(files[fi], path, sizeof path));
        if (!text) {
            load_failed = true;
            break;
        }
        const char *end;
        for (const char *c = next_case(text, &end); c;
             c = next_case(c + 5, &end)) {
            /* each isValid op of the case, on A or B */
            for (const char *op = strstr(c, "name=\"isValid\""); op && op < end;
                 op = strstr(op + 1, "name=\"isValid\"")) {
                const char *arg = strstr(op, "arg1=\"");
                bool on_b = arg && arg < end && arg[6] == 'B';
                char *wkt = between(c, end, on_b ? "<b>" : "<a>",
                                    on_b ? "</b>" : "</a>");
                if (!wkt) {
                    continue;
                }
                ncases++;
                const char *gt = strchr(op, '>');
                while (gt && isspace((unsigned char)gt[1])) {
                    gt++;
                }
                bool want = gt && strncmp(gt + 1, "true", 4) == 0;
                GEOSGeometry *g = read_geom(h, wkt);
                free(wkt);
                int fid = nloaded + 1;
                int rc =
                    g && fid < 4096 ? add_geos(h, l, fid, g, true, &err) : 1;
                if (g) {
                    GEOSGeom_destroy_r(h, g);
                }
                if (rc == 0) {
                    expect[fid] = want ? 1 : 0;
                    nloaded++;
                } else if (rc < 0) {
                    load_failed = true;
                } else {
                    nskipped++;
                }
            }
        }
        free(text);
    }
    GEOS_finish_r(h);
    if (load_failed) {
        om_layer_free(l);
        FAILF("cannot load the XML cases: %s", err.msg);
        return;
    }
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    s.only = "G001";
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, NULL, 4, &s);
    enum om_status st = om__qc_geometry(&c, &err);
    om_layer_free(l);
    static signed char got[4096];
    memset(got, 1, sizeof got);
    for (size_t i = 0; i < s.n; i++) {
        if (s.items[i].fid > 0 && s.items[i].fid < 4096) {
            got[s.items[i].fid] = 0;
        }
    }
    int nfail = 0, ninvalid = 0;
    for (int fid = 1; fid <= nloaded; fid++) {
        ninvalid += expect[fid] == 0;
        if (got[fid] != expect[fid]) {
            if (++nfail <= 5) {
                printf("# fid %d: G001 %s, GEOS expects %s\n", fid,
                       got[fid] ? "not reported" : "reported",
                       expect[fid] ? "valid" : "invalid");
            }
        }
    }
    sink_free(&s);
    printf("# G001 vs GEOS isValid: %d isValid cases, %d polygonal compared "
           "(%d invalid), %d skipped (not polygonal or unreadable), %d "
           "differ\n",
           ncases, nloaded, ninvalid, nskipped, nfail);
    CHECK_OK(st, &err);
    CHECK_INT(nfail, 0);
    CHECK(nloaded >= 300);
    CHECK(ninvalid >= 40);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc_geom.c");
    RUN(test_geometry_codes);
    RUN(test_geometry_no_schema_no_g006);
    RUN(test_geometry_only);
    RUN(test_clockwise_layer);
    RUN(test_geometry_thresholds);
    RUN(test_clean_parcels);
    RUN(test_threads_identical);
    RUN(test_cancel);
    RUN(test_oom);
    RUN(test_xml_validity);
    TEST_MAIN_END();
}
