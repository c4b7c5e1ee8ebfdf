/*
 * test_qc_topo.c — the topology (T001–T004) and between-layer (L001–L003)
 * quality-control families, called directly with a recording sink defined
 * here (the driver's sink in qc.c is not linked: nothing else of qc.o is
 * referenced).
 *
 * Hand-made coverages check each defect and its exact area; real clean
 * coverages (Illinois tracts, Bas-Rhin communes) must give no overlap and
 * no gap; the DCW north-east provinces (neighbours share no vertex) are
 * checked against GEOS as an independent oracle: pairwise intersection
 * areas for T001 and the holes of the GEOS union for T002.
 */
#include "test.h"

#include "core/core.h"
#include "geom/setops.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/rules.h"
#include "ops/qc_int.h"

#include <math.h>
#include <time.h>

/* ---- the recording sink ---- */

struct finding {
    char code[8];
    int64_t fid, fid2;
    double x, y, value, area;
};

struct om__qc_sink {
    struct finding *f;
    size_t n, cap;
    const char *only; /* comma list of wanted codes, NULL = all */
};

bool om__qc_wanted(const struct om__qc_sink *s, const char *code)
{
    return !s->only || strstr(s->only, code) != NULL;
}

enum om_status om__qc_emit(struct om__qc_sink *s, const struct om__qc_item *it,
                           struct om_error *err)
{
    (void)err;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->f = realloc(s->f, s->cap * sizeof *s->f);
        if (!s->f) {
            abort();
        }
    }
    struct finding *f = &s->f[s->n++];
    snprintf(f->code, sizeof f->code, "%s", it->code);
    f->fid = it->fid;
    f->fid2 = it->fid2;
    f->x = it->x;
    f->y = it->y;
    f->value = it->value;
    f->area = it->pv ? om_feature_area_planar(it->pv, it->pf) : NAN;
    return OM_OK;
}

static void sink_reset(struct om__qc_sink *s, const char *only)
{
    free(s->f);
    memset(s, 0, sizeof *s);
    s->only = only;
}

static size_t count_code(const struct om__qc_sink *s, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        n += strcmp(s->f[i].code, code) == 0;
    }
    return n;
}

static double sum_area(const struct om__qc_sink *s, const char *code)
{
    double a = 0.0;
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->f[i].code, code) == 0) {
            a += s->f[i].area;
        }
    }
    return a;
}

static const struct finding *first(const struct om__qc_sink *s,
                                   const char *code)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->f[i].code, code) == 0) {
            return &s->f[i];
        }
    }
    return NULL;
}

static struct om_qc_conf default_conf(void)
{
    struct om_qc_conf q;
    memset(&q, 0, sizeof q);
    q.sliver_area_m2 = 1;
    q.sliver_width_m = 0.1;
    q.near_distance_m = 0.05;
    q.micro_segment_m = 0.001;
    q.spike_angle_deg = 1;
    q.area_rel = 0.001;
    q.area_abs_m2 = 1;
    q.tbdlmj_abs_m2 = 0.01;
    q.crop_rel = 0.05;
    return q;
}

static void ctx_init(struct om__qc_ctx *c, const struct om_layer *l,
                     const char *code, const char *role,
                     const struct om_qc_conf *conf, struct om__qc_sink *s,
                     int threads)
{
    memset(c, 0, sizeof *c);
    c->layer = l;
    c->code = code;
    c->role = role;
    c->conf = conf;
    c->threads = threads;
    c->sink = s;
}

/* ---- building layers ---- */

/* Offsets like a Gauss-Krüger zone with prefix, to exercise precision. */
#define X0 41500000.0
#define Y0 4800000.0

static enum om_status add_poly(struct om_layer *l, int64_t fid,
                               const double *xy, size_t n, struct om_error *err)
{
    double buf[64];
    for (size_t i = 0; i < n; i++) {
        buf[2 * i] = X0 + xy[2 * i];
        buf[2 * i + 1] = Y0 + xy[2 * i + 1];
    }
    enum om_status st = om_layer_begin_feature(l, fid, err);
    if (st == OM_OK) {
        st = om_layer_begin_part(l, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_ring(l, buf, n, err);
    }
    return st == OM_OK ? om_layer_end_feature(l, err) : st;
}

static enum om_status add_rect(struct om_layer *l, int64_t fid, double x0,
                               double y0, double x1, double y1,
                               struct om_error *err)
{
    double xy[] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    return add_poly(l, fid, xy, 5, err);
}

/* A ring of 8 unit cells (size 10) around the centre cell [10,20]². */
static enum om_status add_frame(struct om_layer *l, int64_t *fid,
                                struct om_error *err)
{
    enum om_status st = OM_OK;
    for (int i = 0; st == OM_OK && i < 3; i++) {
        for (int j = 0; st == OM_OK && j < 3; j++) {
            if (i == 1 && j == 1) {
                continue;
            }
            st = add_rect(l, (*fid)++, 10.0 * i, 10.0 * j, 10.0 * i + 10,
                          10.0 * j + 10, err);
        }
    }
    return st;
}

static void run_topo(struct om_layer *l, const struct om_layer *extent,
                     struct om__qc_sink *s, int threads, enum om_status *st,
                     struct om_error *err)
{
    struct om_qc_conf conf = default_conf();
    struct om__qc_ctx c;
    ctx_init(&c, l, "DLTB", "landuse", &conf, s, threads);
    *st = om__qc_topology(&c, extent, err);
}

/* ---- hand-made coverages ---- */

TEST(test_clean_grid)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("grid", &l, &err), &err);
    int64_t fid = 1;
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 4; j++) {
            CHECK_OK(add_rect(l, fid++, 10.0 * i, 10.0 * j, 10.0 * i + 10,
                              10.0 * j + 10, &err),
                     &err);
        }
    }
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 2, &st, &err);
    om_layer_free(l);
    size_t n = s.n;
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n, 0);
}

TEST(test_empty_layers)
{
    struct om_error err;
    struct om_layer *l = NULL, *m = NULL;
    CHECK_OK(om_layer_new("none", &l, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    CHECK_OK(om_layer_new("empty", &m, &err), &err);
    enum om_status st = om_layer_begin_feature(m, 1, &err);
    st = st == OM_OK ? om_layer_end_feature(m, &err) : st;
    st = st == OM_OK ? om_layer_finish(m, 0, &err) : st;
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status s1 = OM_OK, s2 = OM_OK, s3 = OM_OK;
    if (st == OM_OK) {
        run_topo(l, m, &s, 2, &s1, &err);
        run_topo(m, l, &s, 2, &s2, &err);
        struct om_qc_conf conf = default_conf();
        struct om__qc_ctx c;
        ctx_init(&c, m, "YJJBNTBHTB", "farmland", &conf, &s, 2);
        s3 = om__qc_between(&c, l, l, NULL, NULL, 0, &err);
    }
    om_layer_free(l);
    om_layer_free(m);
    size_t n = s.n;
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_OK(s1, &err);
    CHECK_OK(s2, &err);
    CHECK_OK(s3, &err);
    CHECK_INT(n, 0);
}

TEST(test_overlap)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("ov", &l, &err), &err);
    CHECK_OK(add_rect(l, 7, 0, 0, 10, 10, &err), &err);
    CHECK_OK(add_rect(l, 3, 8, 0, 18, 10, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 1, &st, &err);
    om_layer_free(l);
    struct om__qc_sink r = s;
    memset(&s, 0, sizeof s);
    const struct finding *f = first(&r, "T001");
    bool ok = st == OM_OK && count_code(&r, "T001") == 1 && f &&
              count_code(&r, "T002") == 0 && count_code(&r, "T004") == 0;
    struct finding got = f ? *f : (struct finding){{0}, 0, 0, 0, 0, 0, 0};
    sink_reset(&r, NULL);
    CHECK_OK(st, &err);
    CHECK(ok);
    CHECK_INT(got.fid, 3);
    CHECK_INT(got.fid2, 7);
    CHECK_NEAR(got.area, 20.0, 1e-9, 0);
    CHECK_NEAR(got.value, 20.0, 1e-9, 0);
    CHECK(got.x > X0 + 8 && got.x < X0 + 10 && got.y > Y0 && got.y < Y0 + 10);
}

TEST(test_duplicate_coverage)
{
    /* A 2×2 grid imported twice: every interior edge is matched (twice
     * each way), yet each feature overlaps its copy. */
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("dup", &l, &err), &err);
    for (int copy = 0; copy < 2; copy++) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                CHECK_OK(add_rect(l, 10 * copy + 2 * i + j + 1, 10.0 * i,
                                  10.0 * j, 10.0 * i + 10, 10.0 * j + 10, &err),
                         &err);
            }
        }
    }
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 2, &st, &err);
    om_layer_free(l);
    size_t n1 = count_code(&s, "T001"), n2 = count_code(&s, "T002");
    double a1 = sum_area(&s, "T001");
    bool pairs = true;
    for (size_t i = 0; i < s.n; i++) {
        if (strcmp(s.f[i].code, "T001") == 0) {
            pairs = pairs && s.f[i].fid2 == s.f[i].fid + 10;
        }
    }
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n1, 4);
    CHECK_INT(n2, 0);
    CHECK(pairs);
    CHECK_NEAR(a1, 400.0, 1e-9, 0);
}

TEST(test_gap)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("gap", &l, &err), &err);
    int64_t fid = 1;
    CHECK_OK(add_frame(l, &fid, &err), &err);
    /* the centre cell shrunk by 1 on each side: a ring-shaped gap */
    CHECK_OK(add_rect(l, fid++, 11, 11, 19, 19, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 3, &st, &err);
    om_layer_free(l);
    size_t n1 = count_code(&s, "T001"), n2 = count_code(&s, "T002");
    size_t n4 = count_code(&s, "T004");
    double a2 = sum_area(&s, "T002");
    const struct finding *f = first(&s, "T002");
    double v = f ? f->value : NAN;
    int64_t gfid = f ? f->fid : 0;
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n1, 0);
    CHECK_INT(n2, 1);
    CHECK_INT(n4, 0);
    CHECK_INT(gfid, -1);
    CHECK_NEAR(a2, 100.0 - 64.0, 1e-9, 0);
    CHECK_NEAR(v, 36.0, 1e-9, 0);
}

TEST(test_hole_gap_and_extent)
{
    /* A frame without its centre: the centre is a gap. With an extent
     * larger than the layer, the band between them is a gap too. */
    struct om_error err;
    struct om_layer *l = NULL, *e = NULL;
    CHECK_OK(om_layer_new("frame", &l, &err), &err);
    int64_t fid = 1;
    CHECK_OK(add_frame(l, &fid, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    CHECK_OK(om_layer_new("XZQ", &e, &err), &err);
    CHECK_OK(add_rect(e, 1, 0, -5, 15, 30, &err), &err);
    CHECK_OK(add_rect(e, 2, 15, -5, 30, 30, &err), &err);
    CHECK_OK(om_layer_finish(e, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 2, &st, &err);
    size_t n2 = count_code(&s, "T002");
    double a2 = sum_area(&s, "T002");
    sink_reset(&s, NULL);
    enum om_status st2;
    run_topo(l, e, &s, 2, &st2, &err);
    size_t m2 = count_code(&s, "T002");
    double b2 = sum_area(&s, "T002");
    sink_reset(&s, NULL);
    om_layer_free(l);
    om_layer_free(e);
    CHECK_OK(st, &err);
    CHECK_OK(st2, &err);
    CHECK_INT(n2, 1);
    CHECK_NEAR(a2, 100.0, 1e-9, 0);
    CHECK_INT(m2, 2); /* the hole and the band below the frame */
    CHECK_NEAR(b2, 100.0 + 30.0 * 5.0, 1e-9, 0);
}

TEST(test_t_junction)
{
    /* A above B and C; B and C split A's bottom edge: exactly at x = 10,
     * and along a slanted edge at a point that is not representable on
     * it (off by rounding): no gap, no overlap, no near miss. */
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("tj", &l, &err), &err);
    double a[] = {0, 10, 20, 10, 20, 20, 0, 20, 0, 10};
    double b[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double c[] = {10, 0, 20, 0, 20, 10, 10, 10, 10, 0};
    CHECK_OK(add_poly(l, 1, a, 5, &err), &err);
    CHECK_OK(add_poly(l, 2, b, 5, &err), &err);
    CHECK_OK(add_poly(l, 3, c, 5, &err), &err);
    /* slanted: D's bottom edge (30,0)-(60,7); E, F below split it at
     * t = 1/3 */
    double tx = 30.0 + 30.0 / 3.0, ty = 7.0 / 3.0;
    double d[] = {30, 0, 60, 7, 60, 20, 30, 20, 30, 0};
    double e[] = {30, -10, 40, -10, tx, ty, 30, 0, 30, -10};
    double f[] = {40, -10, 60, -10, 60, 7, tx, ty, 40, -10};
    CHECK_OK(add_poly(l, 4, d, 5, &err), &err);
    CHECK_OK(add_poly(l, 5, e, 5, &err), &err);
    CHECK_OK(add_poly(l, 6, f, 5, &err), &err);
    /* G above H, I whose common vertex is 1e-7 m below G's edge (a
     * 1.5e-6 m² sliver gap: noise), and J above K, L with it 1e-7 m
     * above (a noise overlap) */
    for (int k = 0; k < 2; k++) {
        double ox = 70.0 + 40.0 * k, dy = k ? 1e-7 : -1e-7;
        double gg[] = {ox, 0, ox + 30, 0, ox + 30, 10, ox, 10, ox, 0};
        double hh[] = {ox, -10, ox + 15, -10, ox + 15, dy, ox, 0, ox, -10};
        double ii[] = {ox + 15, -10,     ox + 30, -10,     ox + 30,
                       0,       ox + 15, dy,      ox + 15, -10};
        CHECK_OK(add_poly(l, 7 + 3 * k, gg, 5, &err), &err);
        CHECK_OK(add_poly(l, 8 + 3 * k, hh, 5, &err), &err);
        CHECK_OK(add_poly(l, 9 + 3 * k, ii, 5, &err), &err);
    }
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 2, &st, &err);
    om_layer_free(l);
    size_t n = s.n;
    char what[64] = "";
    if (n) {
        snprintf(what, sizeof what, "%s %lld %lld %g", s.f[0].code,
                 (long long)s.f[0].fid, (long long)s.f[0].fid2, s.f[0].value);
    }
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    if (n) {
        FAILF("%zu findings, first: %s", n, what);
        return;
    }
}

TEST(test_near_miss)
{
    /* A and B 1 cm apart, closed by C below and D above: a 0.1 m² gap
     * sliver (T002, reported although below sliver_area) and near misses
     * (T004) on both sides; no overlap. */
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("nm", &l, &err), &err);
    CHECK_OK(add_rect(l, 1, 0, 0, 10, 10, &err), &err);
    CHECK_OK(add_rect(l, 2, 10.01, 0, 20, 10, &err), &err);
    CHECK_OK(add_rect(l, 3, 0, -10, 20, 0, &err), &err);
    CHECK_OK(add_rect(l, 4, 0, 10, 20, 20, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    enum om_status st;
    run_topo(l, NULL, &s, 2, &st, &err);
    om_layer_free(l);
    size_t n1 = count_code(&s, "T001"), n2 = count_code(&s, "T002");
    size_t n3 = count_code(&s, "T003"), n4 = count_code(&s, "T004");
    double a2 = sum_area(&s, "T002");
    double gap = (X0 + 10.01) - (X0 + 10.0);
    bool pairs_ok = true;
    for (size_t i = 0; i < s.n; i++) {
        const struct finding *f = &s.f[i];
        if (strcmp(f->code, "T004") == 0) {
            pairs_ok = pairs_ok &&
                       ((f->fid == 1 && f->fid2 == 2) ||
                        (f->fid == 2 && f->fid2 == 1)) &&
                       fabs(f->value - gap) < 1e-9 && isnan(f->area);
        }
    }
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n1, 0);
    CHECK_INT(n2, 1);
    CHECK_INT(n3, 0);
    CHECK_INT(n4, 4);
    CHECK(pairs_ok);
    CHECK_NEAR(a2, gap * 10.0, 1e-6, 0);
}

/* In a geographic CRS the thresholds (metres) are converted to degrees. */
TEST(test_geographic_thresholds)
{
    struct om_error err;
    struct om_crs *crs = NULL;
    CHECK_OK(om_crs_new("EPSG:4490", &crs, &err), &err);
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("geo", &l, &err);
    /* A | B 1e-7° (about 1 cm) apart, C and D closing the gap; E | F
     * 1e-5° (about 1 m) apart, G and H closing; a tiny feature I (about
     * 0.1 m²) */
    for (int k = 0; st == OM_OK && k < 2; k++) {
        double ox = 125.0 + 0.01 * k, d = k ? 1e-5 : 1e-7, w = 0.001;
        double sq[4][4] = {{ox, 44.0, ox + w, 44.0 + w},
                           {ox + w + d, 44.0, ox + 2 * w, 44.0 + w},
                           {ox, 44.0 - w, ox + 2 * w, 44.0},
                           {ox, 44.0 + w, ox + 2 * w, 44.0 + 2 * w}};
        for (int i = 0; st == OM_OK && i < 4; i++) {
            double xy[] = {sq[i][0], sq[i][1], sq[i][2], sq[i][1], sq[i][2],
                           sq[i][3], sq[i][0], sq[i][3], sq[i][0], sq[i][1]};
            st = om_layer_begin_feature(l, 10 * k + i + 1, &err);
            st = st == OM_OK ? om_layer_begin_part(l, &err) : st;
            st = st == OM_OK ? om_layer_add_ring(l, xy, 5, &err) : st;
            st = st == OM_OK ? om_layer_end_feature(l, &err) : st;
        }
    }
    double tiny[] = {125.5,     44.0,  125.500003, 44.0,  125.500003,
                     44.000003, 125.5, 44.000003,  125.5, 44.0};
    st = st == OM_OK ? om_layer_begin_feature(l, 99, &err) : st;
    st = st == OM_OK ? om_layer_begin_part(l, &err) : st;
    st = st == OM_OK ? om_layer_add_ring(l, tiny, 5, &err) : st;
    st = st == OM_OK ? om_layer_end_feature(l, &err) : st;
    st = st == OM_OK ? om_layer_finish(l, 0, &err) : st;
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    s.only = "T003,T004";
    if (st == OM_OK) {
        struct om_qc_conf conf = default_conf();
        struct om__qc_ctx c;
        ctx_init(&c, l, "DLTB", "landuse", &conf, &s, 2);
        c.crs = crs;
        st = om__qc_topology(&c, NULL, &err);
    }
    om_layer_free(l);
    om_crs_free(crs);
    size_t n3 = count_code(&s, "T003"), n4 = count_code(&s, "T004");
    bool ok = true;
    for (size_t i = 0; i < s.n; i++) {
        ok = ok && (strcmp(s.f[i].code, "T003") == 0 ? s.f[i].fid == 99
                                                     : s.f[i].fid < 10);
    }
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n3, 1);
    CHECK_INT(n4, 4);
    CHECK(ok);
}

TEST(test_slivers)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("sl", &l, &err), &err);
    CHECK_OK(add_rect(l, 1, 0, 0, 100, 100, &err), &err);
    CHECK_OK(add_rect(l, 2, 200, 0, 201, 0.5, &err), &err);  /* 0.5 m² */
    CHECK_OK(add_rect(l, 3, 300, 0, 400, 0.05, &err), &err); /* thin */
    CHECK_OK(add_rect(l, 4, 500, 0, 502, 2, &err), &err);    /* fine */
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    s.only = "T003";
    enum om_status st;
    run_topo(l, NULL, &s, 1, &st, &err);
    om_layer_free(l);
    struct om__qc_sink r = s;
    memset(&s, 0, sizeof s);
    bool ok = r.n == 2 && r.f[0].fid == 2 && r.f[1].fid == 3 &&
              fabs(r.f[0].value - 0.5) < 1e-9 && fabs(r.f[1].area - 5.0) < 1e-6;
    size_t n = r.n;
    sink_reset(&r, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n, 2);
    CHECK(ok);
}

/* ---- real coverages ---- */

static enum om_status read_layer(const char *rel, struct om_layer **out,
                                 struct om_error *err)
{
    char path[1024];
    test_data_path(rel, path, sizeof path);
    enum om_status st = om_source_read(path, NULL, out, NULL, err);
    if (st == OM_OK) {
        st = om_layer_finish(*out, 0, err);
        if (st != OM_OK) {
            om_layer_free(*out);
            *out = NULL;
        }
    }
    return st;
}

static void clean_coverage(const char *rel)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(read_layer(rel, &l, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    s.only = "T001,T002";
    enum om_status st;
    run_topo(l, NULL, &s, 0, &st, &err);
    om_layer_free(l);
    size_t n = s.n;
    char what[128] = "";
    if (n) {
        snprintf(what, sizeof what, "%s fid %lld/%lld value %g at %.9f %.9f",
                 s.f[0].code, (long long)s.f[0].fid, (long long)s.f[0].fid2,
                 s.f[0].value, s.f[0].x, s.f[0].y);
    }
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    if (n) {
        FAILF("%s: %zu findings, first %s", rel, n, what);
    }
}

TEST(test_clean_illinois_tracts)
{
    clean_coverage("us-tracts-2018/cb_2018_17_tract_500k.json");
}

TEST(test_clean_bas_rhin)
{
    clean_coverage("france-communes/communes-67-bas-rhin.geojson");
}

/* Holes of the GEOS union of every feature: the oracle for gaps. */
static enum om_status union_holes(const struct om_layer *l, double *area,
                                  size_t *nholes, struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om__fref *fs = om__calloc(v.nfeatures, sizeof *fs);
    struct om__setops *g = NULL;
    struct om_layer *u = NULL;
    enum om_status st = fs ? OM_OK : OM_ENOMEM;
    for (size_t f = 0; f < v.nfeatures && fs; f++) {
        fs[f] = (struct om__fref){&v, f};
    }
    if (st == OM_OK) {
        st = om__setops_new(&g, err);
    }
    if (st == OM_OK) {
        st = om_layer_new("union", &u, err);
    }
    if (st == OM_OK) {
        st = om_layer_begin_feature(u, 1, err);
    }
    if (st == OM_OK) {
        st = om__setops_union(g, fs, v.nfeatures, u, err);
        st = st == OM_OK ? om_layer_end_feature(u, err) : st;
    }
    *area = 0.0;
    *nholes = 0;
    if (st == OM_OK) {
        struct om_layer_view uv;
        om_layer_view(u, &uv);
        for (size_t q = 0; q < uv.nparts; q++) {
            for (size_t r = uv.ring_start[q] + 1; r < uv.ring_start[q + 1];
                 r++) {
                size_t a = uv.point_start[r], b = uv.point_start[r + 1];
                *area += fabs(om_ring_area_planar(uv.xy + 2 * a, b - a));
                (*nholes)++;
            }
        }
    }
    om_layer_free(u);
    om__setops_free(g);
    om__free(fs);
    return st;
}

TEST(test_dcw_northeast_vs_geos)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(read_layer("dcw-gmt/dcw_CN_northeast.geojson", &l, &err), &err);
    /* oracle: pairwise GEOS intersections, and the union's holes */
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om_polyops *ops = NULL;
    struct om_layer *tmp = NULL;
    CHECK_OK(om_polyops_new(&ops, &err), &err);
    enum om_status st = om_layer_new("tmp", &tmp, &err);
    double want_ov = 0.0;
    size_t want_npairs = 0;
    for (size_t i = 0; st == OM_OK && i < v.nfeatures; i++) {
        for (size_t k = i + 1; st == OM_OK && k < v.nfeatures; k++) {
            double a = 0.0;
            st = om_layer_begin_feature(tmp, 0, &err);
            if (st == OM_OK) {
                st = om_polyops_intersection(ops, &v, i, &v, k, tmp, &a, &err);
                om_layer_abort_feature(tmp);
            }
            want_ov += a;
            want_npairs += a > 0.0;
        }
    }
    om_layer_free(tmp);
    om_polyops_free(ops);
    double want_gap = 0.0;
    size_t want_nholes = 0;
    if (st == OM_OK) {
        st = union_holes(l, &want_gap, &want_nholes, &err);
    }
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    s.only = "T001,T002";
    enum om_status st2 = OM_OK;
    if (st == OM_OK) {
        run_topo(l, NULL, &s, 0, &st2, &err);
    }
    om_layer_free(l);
    double got_ov = sum_area(&s, "T001"), got_gap = sum_area(&s, "T002");
    size_t n1 = count_code(&s, "T001"), n2 = count_code(&s, "T002");
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK_OK(st2, &err);
    printf("# dcw northeast: %zu overlaps %.9g (GEOS %zu pairs %.9g), %zu "
           "gaps %.9g (GEOS union holes %zu %.9g)\n",
           n1, got_ov, want_npairs, want_ov, n2, got_gap, want_nholes,
           want_gap);
    CHECK(want_npairs > 0 && want_nholes > 0);
    CHECK(n1 >= want_npairs);
    CHECK_NEAR(got_ov, want_ov, 1e-9, 0);
    CHECK_NEAR(got_gap, want_gap, 1e-9, 0);
}

TEST(test_auckland_near_misses)
{
    struct om_error err;
    struct om_layer *l = NULL;
    char path[1024];
    test_data_path("spdata/auckland.shp", path, sizeof path);
    struct om_read_options ro;
    memset(&ro, 0, sizeof ro);
    ro.src_crs = "EPSG:2193";
    CHECK_OK(om_source_read(path, &ro, &l, NULL, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    s.only = "T002,T004";
    enum om_status st;
    run_topo(l, NULL, &s, 0, &st, &err);
    om_layer_free(l);
    size_t n4 = count_code(&s, "T004");
    bool ok = true;
    for (size_t i = 0; i < s.n; i++) {
        if (strcmp(s.f[i].code, "T004") == 0) {
            ok = ok && s.f[i].value > 0.0 && s.f[i].value <= 0.05 &&
                 s.f[i].fid != s.f[i].fid2 && s.f[i].fid2 >= 0;
        }
    }
    printf("# auckland: %zu near misses, %zu gaps\n", n4,
           count_code(&s, "T002"));
    sink_reset(&s, NULL);
    CHECK_OK(st, &err);
    CHECK(n4 > 0);
    CHECK(ok);
}

/* Same findings for any thread count. */
static void same_for_threads(const char *rel, const char *src_crs,
                             const char *only)
{
    struct om_error err;
    struct om_layer *l = NULL;
    char path[1024];
    test_data_path(rel, path, sizeof path);
    struct om_read_options ro;
    memset(&ro, 0, sizeof ro);
    ro.src_crs = src_crs;
    CHECK_OK(om_source_read(path, &ro, &l, NULL, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    struct om__qc_sink a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.only = b.only = only;
    enum om_status s1, s2;
    run_topo(l, NULL, &a, 1, &s1, &err);
    run_topo(l, NULL, &b, 4, &s2, &err);
    om_layer_free(l);
    bool same = a.n == b.n;
    for (size_t i = 0; same && i < a.n; i++) {
        same = strcmp(a.f[i].code, b.f[i].code) == 0 &&
               a.f[i].fid == b.f[i].fid && a.f[i].fid2 == b.f[i].fid2 &&
               a.f[i].value == b.f[i].value && a.f[i].x == b.f[i].x &&
               a.f[i].y == b.f[i].y;
    }
    size_t n = a.n;
    sink_reset(&a, NULL);
    sink_reset(&b, NULL);
    CHECK_OK(s1, &err);
    CHECK_OK(s2, &err);
    CHECK(n > 0);
    CHECK(same);
}

TEST(test_deterministic)
{
    same_for_threads("dcw-gmt/dcw_CN_northeast.geojson", NULL, "T001,T002");
    if (!test_failed_) {
        same_for_threads("spdata/auckland.shp", "EPSG:2193", "T002,T004");
    }
}

/* ---- between layers ---- */

static enum om_status add_text_rect(struct om_layer *l, int field, int64_t fid,
                                    const char *text, double x0, double y0,
                                    double x1, double y1, struct om_error *err)
{
    double xy[] = {X0 + x0, Y0 + y0, X0 + x1, Y0 + y0, X0 + x1,
                   Y0 + y1, X0 + x0, Y0 + y1, X0 + x0, Y0 + y0};
    enum om_status st = om_layer_begin_feature(l, fid, err);
    if (st == OM_OK) {
        st = om_layer_begin_part(l, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_ring(l, xy, 5, err);
    }
    if (st == OM_OK && field >= 0) {
        st = om_layer_set_text(l, field, text, err);
    }
    return st == OM_OK ? om_layer_end_feature(l, err) : st;
}

TEST(test_outside_extent)
{
    struct om_error err;
    struct om_layer *l = NULL, *e = NULL;
    CHECK_OK(om_layer_new("STBHHX", &l, &err), &err);
    CHECK_OK(add_rect(l, 1, 0, 0, 10, 10, &err), &err);   /* inside */
    CHECK_OK(add_rect(l, 2, 95, 0, 105, 10, &err), &err); /* half out */
    CHECK_OK(add_rect(l, 3, 200, 0, 210, 4, &err), &err); /* all out */
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    CHECK_OK(om_layer_new("XZQ", &e, &err), &err);
    CHECK_OK(add_rect(e, 1, 0, -50, 50, 50, &err), &err);
    CHECK_OK(add_rect(e, 2, 50, -50, 100, 50, &err), &err);
    CHECK_OK(om_layer_finish(e, 0, &err), &err);
    struct om_qc_conf conf = default_conf();
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    struct om__qc_ctx c;
    ctx_init(&c, l, "STBHHX", "eco_redline", &conf, &s, 2);
    enum om_status st = om__qc_between(&c, e, NULL, NULL, NULL, 0, &err);
    om_layer_free(l);
    om_layer_free(e);
    struct om__qc_sink r = s;
    memset(&s, 0, sizeof s);
    size_t n = count_code(&r, "L001");
    double a2 = 0, a3 = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (r.f[i].fid == 2) {
            a2 = r.f[i].area;
        } else if (r.f[i].fid == 3) {
            a3 = r.f[i].value;
        }
    }
    sink_reset(&r, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n, 2);
    CHECK_NEAR(a2, 50.0, 1e-9, 0);
    CHECK_NEAR(a3, 40.0, 1e-9, 0);
}

TEST(test_farmland_on_noncultivated)
{
    struct om_error err;
    struct om_layer *dltb = NULL, *f = NULL;
    int dlbm = -1;
    CHECK_OK(om_layer_new("DLTB", &dltb, &err), &err);
    CHECK_OK(om_layer_add_field(dltb, "DLBM", OM_FIELD_TEXT, &dlbm, &err),
             &err);
    CHECK_OK(add_text_rect(dltb, dlbm, 1, "0101", 0, 0, 50, 100, &err), &err);
    CHECK_OK(add_text_rect(dltb, dlbm, 2, "0702", 50, 0, 100, 100, &err), &err);
    CHECK_OK(add_text_rect(dltb, dlbm, 3, "0103", 100, 0, 200, 100, &err),
             &err);
    CHECK_OK(om_layer_finish(dltb, 0, &err), &err);
    CHECK_OK(om_layer_new("YJJBNTBHTB", &f, &err), &err);
    /* 40% on 0702 (residential): reported */
    CHECK_OK(add_rect(f, 10, 20, 0, 70, 100, &err), &err);
    /* 2% on 0702: below crop_rel */
    CHECK_OK(add_rect(f, 11, 0, 0, 51, 100, &err), &err);
    /* all on 0103 */
    CHECK_OK(add_rect(f, 12, 120, 0, 180, 100, &err), &err);
    CHECK_OK(om_layer_finish(f, 0, &err), &err);
    struct om_qc_conf conf = default_conf();
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    struct om__qc_ctx c;
    ctx_init(&c, f, "YJJBNTBHTB", "farmland", &conf, &s, 2);
    enum om_status st = om__qc_between(&c, NULL, dltb, NULL, NULL, 0, &err);
    om_layer_free(dltb);
    om_layer_free(f);
    struct om__qc_sink r = s;
    memset(&s, 0, sizeof s);
    bool ok = r.n == 1 && strcmp(r.f[0].code, "L002") == 0 &&
              r.f[0].fid == 10 && fabs(r.f[0].value - 0.4) < 1e-9 &&
              fabs(r.f[0].area - 2000.0) < 1e-6;
    size_t n = r.n;
    sink_reset(&r, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n, 1);
    CHECK(ok);
}

TEST(test_control_lines_overlap)
{
    static const char yaml[] =
        "version: 1\n"
        "rules:\n"
        "  - id: R9\n"
        "    kind: must_not_overlap\n"
        "    a: CZKFBJ\n"
        "    b: YJJBNTBHTB\n"
        "    zh: 城镇开发边界不得与永久基本农田重叠\n"
        "    en: Urban boundary must not overlap basic farmland\n"
        "    min_area: 1\n";
    struct om_error err;
    struct om_rules *rules = NULL;
    CHECK_OK(om_rules_parse(yaml, sizeof yaml - 1, "t.yaml", &rules, &err),
             &err);
    struct om_layer *cz = NULL, *yj = NULL;
    enum om_status st = om_layer_new("CZKFBJ", &cz, &err);
    if (st == OM_OK) {
        st = om_layer_new("YJJBNTBHTB", &yj, &err);
    }
    if (st == OM_OK) {
        st = add_rect(cz, 1, 0, 0, 100, 100, &err);
    }
    if (st == OM_OK) {
        st = add_rect(yj, 5, 90, 10, 120, 30, &err); /* 10 × 20 overlap */
    }
    if (st == OM_OK) {
        st = add_rect(yj, 6, 99.9, 50, 120, 55, &err); /* 0.5 m²: below */
    }
    if (st == OM_OK) {
        st = add_rect(yj, 7, 200, 0, 220, 20, &err); /* apart */
    }
    if (st == OM_OK) {
        st = om_layer_finish(cz, 0, &err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(yj, 0, &err);
    }
    struct om__qc_sink s;
    memset(&s, 0, sizeof s);
    if (st == OM_OK) {
        struct om_qc_conf conf = default_conf();
        struct om__qc_ctx c;
        ctx_init(&c, cz, "CZKFBJ", "urban_boundary", &conf, &s, 2);
        c.rules = rules;
        const struct om_layer *others[] = {yj};
        const char *codes[] = {"YJJBNTBHTB"};
        st = om__qc_between(&c, NULL, NULL, others, codes, 1, &err);
        /* seen from the other side: nothing (reported on side a) */
        if (st == OM_OK) {
            const struct om_layer *others2[] = {cz};
            const char *codes2[] = {"CZKFBJ"};
            ctx_init(&c, yj, "YJJBNTBHTB", "farmland", &conf, &s, 2);
            c.rules = rules;
            st = om__qc_between(&c, NULL, NULL, others2, codes2, 1, &err);
        }
    }
    om_layer_free(cz);
    om_layer_free(yj);
    om_rules_free(rules);
    struct om__qc_sink r = s;
    memset(&s, 0, sizeof s);
    bool ok = r.n == 1 && strcmp(r.f[0].code, "L003") == 0 && r.f[0].fid == 1 &&
              r.f[0].fid2 == 5 && fabs(r.f[0].area - 200.0) < 1e-6;
    size_t n = r.n;
    sink_reset(&r, NULL);
    CHECK_OK(st, &err);
    CHECK_INT(n, 1);
    CHECK(ok);
}

/* Every allocation failing in turn: OM_ENOMEM or OM_OK, never a leak. */
TEST(test_out_of_memory)
{
    int nfailed = 0;
    size_t baseline = 0;
    for (int n = -1; n < 4000; n++) {
        struct om_error err;
        struct om_layer *l = NULL, *e = NULL;
        CHECK_OK(om_layer_new("frame", &l, &err), &err);
        int64_t fid = 1;
        CHECK_OK(add_frame(l, &fid, &err), &err);
        CHECK_OK(add_rect(l, fid++, 12, 12, 18, 18, &err), &err);
        CHECK_OK(add_rect(l, fid++, 17, 17, 19, 19, &err), &err);
        CHECK_OK(om_layer_finish(l, 0, &err), &err);
        CHECK_OK(om_layer_new("XZQ", &e, &err), &err);
        CHECK_OK(add_rect(e, 1, 0, -5, 30, 30, &err), &err);
        CHECK_OK(om_layer_finish(e, 0, &err), &err);
        struct om__qc_sink s;
        memset(&s, 0, sizeof s);
        struct om_qc_conf conf = default_conf();
        struct om__qc_ctx c;
        ctx_init(&c, l, "DLTB", "farmland", &conf, &s, 2);
        test_fail_allocs_after(n);
        enum om_status st = om__qc_topology(&c, e, &err);
        if (st == OM_OK) {
            st = om__qc_between(&c, e, NULL, NULL, NULL, 0, &err);
        }
        test_fail_allocs_after(-1);
        size_t found = s.n;
        sink_reset(&s, NULL);
        om_layer_free(l);
        om_layer_free(e);
        if (st != OM_OK && st != OM_ENOMEM) {
            FAILF("allocation %d: %s: %s", n, om_status_name(st), err.msg);
            return;
        }
        if (test_live_allocs_ != 0) {
            FAILF("allocation %d: %ld leaked", n, test_live_allocs_);
            return;
        }
        if (n < 0) {
            CHECK_OK(st, &err);
            baseline = found;
            continue;
        }
        if (st == OM_OK) {
            CHECK_INT(found, baseline);
            break;
        }
        nfailed++;
    }
    CHECK(nfailed > 10);
    CHECK_INT(baseline, 3); /* one overlap, two gaps */
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc_topo.c");
    RUN(test_clean_grid);
    RUN(test_empty_layers);
    RUN(test_overlap);
    RUN(test_duplicate_coverage);
    RUN(test_gap);
    RUN(test_hole_gap_and_extent);
    RUN(test_t_junction);
    RUN(test_near_miss);
    RUN(test_slivers);
    RUN(test_geographic_thresholds);
    RUN(test_clean_illinois_tracts);
    RUN(test_clean_bas_rhin);
    RUN(test_dcw_northeast_vs_geos);
    RUN(test_auckland_near_misses);
    RUN(test_deterministic);
    RUN(test_outside_extent);
    RUN(test_farmland_on_noncultivated);
    RUN(test_control_lines_overlap);
    RUN(test_out_of_memory);
    TEST_MAIN_END();
}
