/*
 * test_qc_attr.c — the attribute and CRS check families of onemap qc
 * (A001–A007, C001: src/ops/qc_attr.c), called directly through their
 * internal contract (ops/qc_int.h) with a recording sink defined here:
 * every code triggered by a purpose-built feature and not by clean ones
 * (also demo-like parcels whose TBMJ is the ellipsoidal area rounded to
 * 0.01 m²), domains with real 三调 / 用地用海 / 城镇村 codes, many
 * duplicates, recorded areas against the crs module's ellipsoidal area
 * (om_area_ring_ellipsoidal, an independent code path from the feature
 * areas the check uses), eastings without the zone prefix, 1 vs 4
 * threads, out-of-memory.
 */
#include "test.h"

#include "onemap/crs.h"
#include "onemap/layer.h"
#include "ops/qc_int.h"

#include <stdbool.h>

#include "qc_sink.h"

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

#define X0 42470000.0
#define Y0 4900000.0

/* The demo's DLTB schema (rules.h example) plus two fields the test
 * layer lacks (YSDM) or has with the wrong type (XZQMC). */
static char *qsxz_values[] = {"10", "20", "30", "40"};
static struct om_qc_field demo_fields[] = {
    {"BSM", OM_FIELD_TEXT, true, true, OM_QC_DOMAIN_NONE, NULL, 0, 1},
    {"DLBM", OM_FIELD_TEXT, true, false, OM_QC_DOMAIN_DLBM, NULL, 0, 2},
    {"TBMJ", OM_FIELD_REAL, true, false, OM_QC_DOMAIN_NONE, NULL, 0, 3},
    {"ZLDWDM", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_XZQDM, NULL, 0, 4},
    {"QSXZ", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_NONE, qsxz_values, 4, 5},
    {"CZCSXM", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_CZCS, NULL, 0, 6},
    {"GHYT", 0, false, false, OM_QC_DOMAIN_YDYH, NULL, 0, 7},
    {"YSDM", OM_FIELD_TEXT, true, false, OM_QC_DOMAIN_NONE, NULL, 0, 8},
    {"XZQMC", OM_FIELD_INT, false, false, OM_QC_DOMAIN_NONE, NULL, 0, 9},
};

static struct om_qc_schema demo_schema(size_t nfields)
{
    struct om_qc_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.layer = "DLTB";
    sc.single_part = true;
    sc.area_field = "TBMJ";
    sc.net_field = "TBDLMJ";
    sc.gross_field = "TBMJ";
    sc.deduct_field = "KCMJ";
    sc.fields = demo_fields;
    sc.nfields = nfields;
    return sc;
}

/* One parcel's attributes; NULL text = NULL value. */
struct attrs {
    int64_t fid;
    const char *bsm, *dlbm, *zldwdm, *qsxz, *czcsxm, *ghyt;
    double tbmj_delta; /* added to the ellipsoidal area */
    double tbdlmj_delta;
};

struct fields {
    int bsm, dlbm, tbmj, zldwdm, qsxz, czcsxm, ghyt, kcmj, tbdlmj, xzqmc;
};

static enum om_status add_fields(struct om_layer *l, struct fields *fd,
                                 struct om_error *err)
{
    enum om_status st = OM_OK;
    struct {
        const char *name;
        enum om_field_type t;
        int *idx;
    } defs[] = {
        {"BSM", OM_FIELD_TEXT, &fd->bsm},
        {"DLBM", OM_FIELD_TEXT, &fd->dlbm},
        {"TBMJ", OM_FIELD_REAL, &fd->tbmj},
        {"ZLDWDM", OM_FIELD_TEXT, &fd->zldwdm},
        {"QSXZ", OM_FIELD_TEXT, &fd->qsxz},
        {"CZCSXM", OM_FIELD_TEXT, &fd->czcsxm},
        {"GHYT", OM_FIELD_TEXT, &fd->ghyt},
        {"KCMJ", OM_FIELD_INT, &fd->kcmj},
        {"TBDLMJ", OM_FIELD_REAL, &fd->tbdlmj},
        {"XZQMC", OM_FIELD_TEXT, &fd->xzqmc},
    };
    for (size_t i = 0; st == OM_OK && i < sizeof defs / sizeof defs[0]; i++) {
        st = om_layer_add_field(l, defs[i].name, defs[i].t, defs[i].idx, err);
    }
    return st;
}

/* Add a parcel: ring xy (closed, CCW) and attributes; TBMJ = the ring's
 * ellipsoidal area (crs module) rounded to 0.01 + delta; KCMJ 2 m²;
 * TBDLMJ = TBMJ − KCMJ + tbdlmj_delta. */
static enum om_status add_parcel(struct om_layer *l, const struct fields *fd,
                                 struct om_area_ctx *actx, const double *xy,
                                 size_t n, const struct attrs *a,
                                 struct om_error *err)
{
    double area = 0;
    enum om_status st = om_area_ring_ellipsoidal(actx, xy, n, &area, err);
    if (st != OM_OK) {
        return st;
    }
    double tbmj = round(area * 100) / 100 + a->tbmj_delta;
    st = om_layer_begin_feature(l, a->fid, err);
    if (st == OM_OK) {
        st = om_layer_begin_part(l, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_ring(l, xy, n, err);
    }
    const char *texts[] = {a->bsm,    a->dlbm, a->zldwdm, a->qsxz,
                           a->czcsxm, a->ghyt, "示范市"};
    int cols[] = {fd->bsm,    fd->dlbm, fd->zldwdm, fd->qsxz,
                  fd->czcsxm, fd->ghyt, fd->xzqmc};
    for (size_t i = 0; st == OM_OK && i < 7; i++) {
        st = om_layer_set_text(l, cols[i], texts[i], err);
    }
    if (st == OM_OK) {
        st = om_layer_set_real(l, fd->tbmj, tbmj, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_int(l, fd->kcmj, 2, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_real(l, fd->tbdlmj, tbmj - 2 + a->tbdlmj_delta, err);
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    } else {
        om_layer_abort_feature(l);
    }
    return st;
}

static void square(double x, double y, double side, double *xy)
{
    double pts[] = {x, y, x + side, y, x + side, y + side, x, y + side, x, y};
    memcpy(xy, pts, sizeof pts);
}

/* The purpose-built cases (fid 1..14), 100 m squares in EPSG:4530. */
static const struct attrs cases[] = {
    {1, "B1", "0101", "220189001001", "10", NULL, "0101", 0, 0},
    {2, NULL, "0102", "220189001001", " 20 ", NULL, NULL, 0, 0},
    {3, "B3", "　 ", "220189", "30", "201", NULL, 0, 0},
    {4, "B4", "0199", "220189001", NULL, NULL, NULL, 0, 0},
    {5, "B5", "0101K", "2201890010010000001", NULL, NULL, NULL, 0, 0},
    {6, "B6", "0201K", "2201891", NULL, NULL, NULL, 0, 0},
    {7, "B7", "05H1", "220189001001", "50", NULL, NULL, 0, 0},
    {8, "B1", "09", "220189001001", NULL, NULL, NULL, 0, 0},
    {9, "B9", "1208", NULL, NULL, NULL, NULL, 0, 0.5},
    {10, "B10", "0301", NULL, NULL, NULL, NULL, 100, 0},
    {11, "B11", "0303", NULL, NULL, NULL, NULL, 5, 0},
    {12, "B12", "0404", NULL, NULL, "203A", NULL, 0, 0.009},
    {13, "B13", "1001", NULL, NULL, "209", "0199", 0, 0},
    {14, "B14", "1203", "22018900100A", NULL, NULL, "070101", -0.9, 0},
};

static enum om_status build_cases(const struct om_crs *crs, double dx,
                                  struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    struct om_area_ctx *actx = NULL;
    struct fields fd;
    enum om_status st = om_area_ctx_new(crs, &actx, err);
    if (st == OM_OK) {
        st = om_layer_new("DLTB", &l, err);
    }
    if (st == OM_OK) {
        st = add_fields(l, &fd, err);
    }
    for (size_t i = 0; st == OM_OK && i < sizeof cases / sizeof cases[0]; i++) {
        double xy[10];
        square(X0 + dx + 1000.0 * (double)i, Y0, 100, xy);
        st = add_parcel(l, &fd, actx, xy, 5, &cases[i], err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    om_area_ctx_free(actx);
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

static void dump(const struct om__qc_sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        printf("# %s fid %lld fid2 %lld %s: %s\n", s->items[i].code,
               (long long)s->items[i].fid, (long long)s->items[i].fid2,
               s->items[i].field, s->items[i].en);
    }
}

TEST(test_attribute_codes)
{
    struct om_error err = {0};
    struct om_crs *crs = NULL;
    struct om_layer *l = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    enum om_status st = build_cases(crs, 0, &l, &err);
    if (st != OM_OK) {
        om_crs_free(crs);
        FAILF("build: %s", err.msg);
        return;
    }
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc = demo_schema(9);
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, crs, 2, &s);
    st = om__qc_attributes(&c, &err);
    /* the oracle for fid 10: the crs module's area of the square */
    struct om_area_ctx *actx = NULL;
    double xy[10], area = NAN;
    square(X0 + 9000, Y0, 100, xy);
    if (om_area_ctx_new(crs, &actx, &err) == OM_OK) {
        om_area_ring_ellipsoidal(actx, xy, 5, &area, &err);
    }
    om_area_ctx_free(actx);
    om_crs_free(crs);
    om_layer_free(l);
    static const struct {
        const char *code;
        int64_t fid, fid2;
        const char *field;
    } want[] = {
        {"A001", -1, -1, "YSDM"},  {"A002", -1, -1, "XZQMC"},
        {"A003", 2, -1, "BSM"},    {"A003", 3, -1, "DLBM"},
        {"A004", 4, -1, "DLBM"},   {"A004", 5, -1, "DLBM"},
        {"A004", 6, -1, "ZLDWDM"}, {"A004", 7, -1, "QSXZ"},
        {"A005", 8, 1, "BSM"},     {"A006", 9, -1, "TBDLMJ"},
        {"A007", 10, -1, "TBMJ"},  {"A004", 13, -1, "CZCSXM"},
        {"A004", 13, -1, "GHYT"},  {"A004", 14, -1, "ZLDWDM"},
    };
    size_t nwant = sizeof want / sizeof want[0];
    bool ok = st == OM_OK && s.n == nwant;
    for (size_t i = 0; ok && i < nwant; i++) {
        const struct rec *r = &s.items[i];
        ok = strcmp(r->code, want[i].code) == 0 && r->fid == want[i].fid &&
             r->fid2 == want[i].fid2 && strcmp(r->field, want[i].field) == 0;
        if (!ok) {
            printf("# item %zu differs\n", i);
        }
    }
    if (!ok) {
        dump(&s);
        sink_free(&s);
        FAILF("%s: %zu findings, want %zu", om_status_name(st), s.n, nwant);
        return;
    }
    char e4[640], e5[640], z4[640], e7[640], e1[640], e2[640];
    snprintf(e1, sizeof e1, "%s", s.items[0].en);
    snprintf(e2, sizeof e2, "%s", s.items[1].en);
    snprintf(e4, sizeof e4, "%s", s.items[4].en);
    snprintf(z4, sizeof z4, "%s", s.items[4].zh);
    snprintf(e5, sizeof e5, "%s", s.items[5].en);
    snprintf(e7, sizeof e7, "%s", s.items[10].en);
    double v6 = s.items[9].value, v7 = s.items[10].value;
    double x3 = s.items[2].x, y3 = s.items[2].y, x1 = s.items[0].x;
    sink_free(&s);
    CHECK_CONTAINS(e1, "Required field YSDM is missing");
    CHECK_CONTAINS(e2, "Field XZQMC is of type text, the schema wants integer");
    CHECK_CONTAINS(e4, "'0199'");
    CHECK_CONTAINS(e4, "unknown code");
    CHECK_CONTAINS(z4, "未知编码");
    CHECK_CONTAINS(e5, "unknown suffix");
    CHECK_CONTAINS(e7, "TBMJ");
    CHECK_NEAR(v6, 0.5, 1e-6, 0);
    /* recorded (rounded area + 100) − computed area */
    CHECK_NEAR(v7, round(area * 100) / 100 + 100 - area, 0, 1e-6);
    CHECK(isnan(x1));
    CHECK_NEAR(x3, X0 + 1000, 0, 1e-9); /* location: first vertex */
    CHECK_NEAR(y3, Y0, 0, 1e-9);
}

TEST(test_no_schema)
{
    struct om_error err = {0};
    struct om_crs *crs = NULL;
    struct om_layer *l = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    enum om_status st = build_cases(crs, 0, &l, &err);
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, crs, 2, &s);
    if (st == OM_OK) {
        st = om__qc_attributes(&c, &err);
    }
    if (st == OM_OK) {
        st = om__qc_crs(&c, &err);
    }
    om_crs_free(crs);
    om_layer_free(l);
    size_t n = s.n;
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(n, 0);
}

/* Many duplicates: 6000 features, BSM repeating every 1000, and an INT
 * unique column repeating every 1500; added in reverse fid order. */
TEST(test_duplicates)
{
    struct om_error err = {0};
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("DUP", &l, &err), &err);
    int fb = -1, fi = -1;
    enum om_status st = om_layer_add_field(l, "BSM", OM_FIELD_TEXT, &fb, &err);
    if (st == OM_OK) {
        st = om_layer_add_field(l, "N", OM_FIELD_INT, &fi, &err);
    }
    for (int i = 5999; st == OM_OK && i >= 0; i--) {
        double xy[10];
        char b[32];
        square(X0 + 10.0 * (i % 100), Y0 + 10.0 * (i / 100), 5, xy);
        snprintf(b, sizeof b, "  2201890%05d", i % 1000);
        st = om_layer_begin_feature(l, i + 1, &err);
        if (st == OM_OK) {
            st = om_layer_begin_part(l, &err);
        }
        if (st == OM_OK) {
            st = om_layer_add_ring(l, xy, 5, &err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, fb, b, &err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(l, fi, i % 1500, &err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(l, &err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, &err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        FAILF("build: %s", err.msg);
        return;
    }
    struct om_qc_field f[] = {
        {"bsm", OM_FIELD_TEXT, true, true, OM_QC_DOMAIN_NONE, NULL, 0, 1},
        {"N", -1, false, true, OM_QC_DOMAIN_NONE, NULL, 0, 2},
    };
    struct om_qc_schema sc;
    memset(&sc, 0, sizeof sc);
    sc.fields = f;
    sc.nfields = 2;
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, NULL, 1, &s);
    st = om__qc_attributes(&c, &err);
    om_layer_free(l);
    size_t nb = 0, nn = 0, bad = 0;
    int64_t last = 0;
    for (size_t i = 0; i < s.n; i++) {
        const struct rec *r = &s.items[i];
        bool isb = strcmp(r->field, "bsm") == 0;
        int64_t first = isb ? (r->fid - 1) % 1000 + 1 : (r->fid - 1) % 1500 + 1;
        nb += isb;
        nn += !isb;
        bad +=
            strcmp(r->code, "A005") != 0 || r->fid2 != first || r->fid < last;
        last = r->fid;
    }
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(nb, 5000);
    CHECK_INT(nn, 4500);
    CHECK_INT(bad, 0);
}

/* ---- demo-like clean parcels: jittered grid, wiggly shared edges ---- */

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

static void node(int i, int j, double *x, double *y)
{
    uint64_t k = (uint64_t)i * 100003u + (uint64_t)j;
    *x = X0 + 200.0 * (i + 0.3 * (unit(2 * k) - 0.5));
    *y = Y0 + 200.0 * (j + 0.3 * (unit(2 * k + 1) - 0.5));
}

static const char *const dlbm_pool[] = {
    "0101", "0102", "0103", "0201", "0301", "0305",  "0404", "0602",
    "0702", "1003", "1006", "1101", "1104", "1107A", "1202", "0201K"};

/* n×n parcels (4 nodes + 4 edge midpoints each, CCW) with clean
 * attributes; `bad` adds 1000 m² to TBMJ of every 17th parcel. */
static enum om_status build_parcels(const struct om_crs *crs, int n, bool bad,
                                    struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    struct om_area_ctx *actx = NULL;
    struct fields fd;
    enum om_status st = om_area_ctx_new(crs, &actx, err);
    if (st == OM_OK) {
        st = om_layer_new("DLTB", &l, err);
    }
    if (st == OM_OK) {
        st = add_fields(l, &fd, err);
    }
    for (int j = 0; j < n && st == OM_OK; j++) {
        for (int i = 0; i < n && st == OM_OK; i++) {
            double c[8], xy[18];
            node(i, j, &c[0], &c[1]);
            node(i + 1, j, &c[2], &c[3]);
            node(i + 1, j + 1, &c[4], &c[5]);
            node(i, j + 1, &c[6], &c[7]);
            for (int k = 0; k < 4; k++) {
                int q = (k + 1) % 4;
                xy[4 * k] = c[2 * k];
                xy[4 * k + 1] = c[2 * k + 1];
                xy[4 * k + 2] = 0.5 * (c[2 * k] + c[2 * q]);
                xy[4 * k + 3] = 0.5 * (c[2 * k + 1] + c[2 * q + 1]);
            }
            xy[16] = xy[0];
            xy[17] = xy[1];
            int64_t fid = (int64_t)j * n + i + 1;
            char bsm[32], zl[32];
            snprintf(bsm, sizeof bsm, "2201890%011lld", (long long)fid);
            snprintf(zl, sizeof zl, "2201891%02d%03d", j % 20 + 1, i % 30);
            struct attrs a = {fid,
                              bsm,
                              dlbm_pool[fid % 16],
                              zl,
                              "20",
                              NULL,
                              NULL,
                              bad && fid % 17 == 0 ? 1000 : 0,
                              0};
            st = add_parcel(l, &fd, actx, xy, 9, &a, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    om_area_ctx_free(actx);
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
    struct om_crs *crs = NULL;
    struct om_layer *l = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    enum om_status st = build_parcels(crs, 50, false, &l, &err);
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc = demo_schema(7); /* without YSDM, XZQMC */
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, crs, 4, &s);
    if (st == OM_OK) {
        st = om__qc_attributes(&c, &err);
    }
    if (st == OM_OK) {
        st = om__qc_crs(&c, &err);
    }
    om_crs_free(crs);
    om_layer_free(l);
    dump(&s);
    size_t n = s.n;
    sink_free(&s);
    CHECK_OK(st, &err);
    CHECK_INT(n, 0);
}

TEST(test_threads_identical)
{
    struct om_error err = {0};
    struct om_crs *crs = NULL;
    struct om_layer *l = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    enum om_status st = build_parcels(crs, 60, true, &l, &err);
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc = demo_schema(7);
    struct om__qc_sink s1 = {0}, s4 = {0};
    struct om__qc_ctx c = make_ctx(l, &sc, &conf, crs, 1, &s1);
    if (st == OM_OK) {
        st = om__qc_attributes(&c, &err);
    }
    c.threads = 4;
    c.sink = &s4;
    if (st == OM_OK) {
        st = om__qc_attributes(&c, &err);
    }
    om_crs_free(crs);
    om_layer_free(l);
    bool same = s1.n == s4.n;
    for (size_t i = 0; same && i < s1.n; i++) {
        same = memcmp(&s1.items[i], &s4.items[i], sizeof s1.items[i]) == 0;
    }
    size_t n = s1.n, n7 = count_code(&s1, "A007");
    double v = n ? s1.items[0].value : 0;
    sink_free(&s1);
    sink_free(&s4);
    CHECK_OK(st, &err);
    CHECK(same);
    CHECK_INT(n7, 3600 / 17);
    CHECK_INT(n, n7);
    CHECK_NEAR(v, 1000, 0, 0.006); /* + the rounding to 0.01 */
}

/* ---- C001 ---- */

/* A layer of `n` 100 m squares at (x0 + 300 i, y0) (`nprefix` of them at
 * x0 + zone prefix), scaled by `scale` (for degrees). */
static enum om_status build_coords(int n, double x0, double y0, double scale,
                                   int nshift, double shift,
                                   struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("C", &l, err);
    for (int i = 0; st == OM_OK && i < n; i++) {
        double xy[10];
        square(x0 + 300.0 * scale * i + (i < nshift ? shift : 0), y0,
               100 * scale, xy);
        st = om_layer_begin_feature(l, i + 1, err);
        if (st == OM_OK) {
            st = om_layer_begin_part(l, err);
        }
        if (st == OM_OK) {
            st = om_layer_add_ring(l, xy, 5, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (st == OM_OK) {
        st = om_layer_begin_feature(l, n + 1, err); /* empty: not counted */
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
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

/* Run C001; *n findings, the first's value and message in en. */
static enum om_status run_c001(const char *crsdef, int n, double x0, double y0,
                               double scale, int nshift, double shift,
                               size_t *nfound, double *value, double *x,
                               char *en, size_t size, struct om_error *err)
{
    struct om_crs *crs = NULL;
    struct om_layer *l = NULL;
    enum om_status st = om_crs_new(crsdef, &crs, err);
    if (st == OM_OK) {
        st = build_coords(n, x0, y0, scale, nshift, shift, &l, err);
    }
    struct om_qc_conf conf = conf_default();
    struct om__qc_sink s = {0};
    struct om__qc_ctx c = make_ctx(l, NULL, &conf, crs, 1, &s);
    if (st == OM_OK) {
        st = om__qc_crs(&c, err);
    }
    *nfound = s.n;
    *value = s.n ? s.items[0].value : NAN;
    *x = s.n ? s.items[0].x : NAN;
    snprintf(en, size, "%s", s.n ? s.items[0].en : "");
    if (s.n && (strcmp(s.items[0].code, "C001") != 0 || s.items[0].fid != -1)) {
        *nfound = 99;
    }
    sink_free(&s);
    om_layer_free(l);
    om_crs_free(crs);
    return st;
}

TEST(test_crs_ranges)
{
    struct om_error err = {0};
    size_t n;
    double v, x;
    char en[640];
    /* zone 42 with prefix, eastings without it: every feature */
    CHECK_OK(run_c001("EPSG:4530", 10, 470000, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    CHECK_NEAR(v, 100, 0, 1e-9);
    CHECK_NEAR(x, 470000, 0, 1e-9);
    CHECK_CONTAINS(en, "10 of 10 features (100.00%)");
    CHECK_CONTAINS(en, "lack the zone prefix 42");
    /* 4 of 10 without the prefix (the others carry it) */
    CHECK_OK(run_c001("EPSG:4530", 10, X0, Y0, 1, 4, -42e6, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    CHECK_NEAR(v, 40, 0, 1e-9);
    /* all with the prefix: clean */
    CHECK_OK(run_c001("EPSG:4530", 10, X0, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 0);
    /* the prefix of another zone */
    CHECK_OK(run_c001("EPSG:4530", 10, X0 - 1e6, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    CHECK_CONTAINS(en, "prefix of zone 41, not 42");
    /* without prefix (EPSG:4551, CM 126E): prefixed eastings are wrong */
    CHECK_OK(run_c001("EPSG:4551", 10, X0, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    CHECK_OK(run_c001("EPSG:4551", 10, 470000, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 0);
    /* geographic: lon/lat fine, lat/lon swapped not */
    CHECK_OK(run_c001("EPSG:4490", 10, 125.3, 44.1, 1e-3, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 0);
    CHECK_OK(run_c001("EPSG:4490", 10, 44.1, 125.3, 1e-3, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    CHECK_OK(run_c001("EPSG:4326", 10, 2.35, 48.85, 1e-3, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 1);
    /* another CRS: nothing is known, nothing is said */
    CHECK_OK(run_c001("EPSG:3857", 10, 470000, Y0, 1, 0, 0, &n, &v, &x, en,
                      sizeof en, &err),
             &err);
    CHECK_INT(n, 0);
}

/* Fail every allocation in turn; `crsdef` is the project CRS given to
 * the checks (EPSG:4551 makes the prefixed test layer a C001 case). */
static void oom_loop(const char *crsdef, size_t nwant)
{
    struct om_error err = {0};
    struct om_crs *crs = NULL, *qcrs = NULL;
    struct om_layer *l = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &crs, &err), &err);
    enum om_status st = build_cases(crs, 0, &l, &err);
    om_crs_free(crs);
    if (st == OM_OK) {
        st = om_crs_new(crsdef, &qcrs, &err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        FAILF("build: %s", err.msg);
        return;
    }
    struct om_qc_conf conf = conf_default();
    struct om_qc_schema sc = demo_schema(9);
    int i;
    size_t n = 0;
    for (i = 0; i < 2000; i++) {
        struct om__qc_sink s = {0};
        struct om__qc_ctx c = make_ctx(l, &sc, &conf, qcrs, 2, &s);
        long before = test_live_allocs_;
        test_fail_allocs_after(i);
        st = om__qc_attributes(&c, &err);
        if (st == OM_OK) {
            st = om__qc_crs(&c, &err);
        }
        test_fail_after_ = -1;
        long after = test_live_allocs_;
        n = s.n;
        sink_free(&s);
        if (after != before) {
            om_layer_free(l);
            om_crs_free(qcrs);
            FAILF("leak after failing allocation %d", i);
            return;
        }
        if (st == OM_OK) {
            break;
        }
        if (st != OM_ENOMEM) {
            om_layer_free(l);
            om_crs_free(qcrs);
            FAILF("allocation %d: %s: %s", i, om_status_name(st), err.msg);
            return;
        }
    }
    om_layer_free(l);
    om_crs_free(qcrs);
    CHECK_INT(st, OM_OK);
    if (n != nwant) {
        printf("# %s: %zu findings\n", crsdef, n);
    }
    CHECK_INT(n, nwant);
    CHECK(i > 3);
}

TEST(test_oom)
{
    oom_loop("EPSG:4530", 14);
    if (!test_failed_) {
        oom_loop("EPSG:4551", 14); /* C001 instead of A007 */
    }
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc_attr.c");
    RUN(test_attribute_codes);
    RUN(test_no_schema);
    RUN(test_duplicates);
    RUN(test_clean_parcels);
    RUN(test_threads_identical);
    RUN(test_crs_ranges);
    RUN(test_oom);
    TEST_MAIN_END();
}
