/*
 * test_review.c — the compliance review engine (onemap/review.h): exact
 * hand-computable areas on axis-aligned squares, tiling of a big polygon
 * against the GEOS slow path, ellipsoidal areas, CRS of the site, errors,
 * JSON, the stored record, threads and out-of-memory paths, and
 * reproducing a stored record (rerun on its layer versions, compare).
 *
 * Coordinates are EPSG:4530 (CGCS2000 GK zone 42 with prefix), relative to
 * (X0, Y0). The project, built once in main:
 *   YJJBNTBHTB  fid 1 [0,100]x[0,100], fid 2 [300,400]x[0,100]
 *   STBHHX      fid 1 [0,100]x[300,400], fid 2 a 4000-vertex disc at
 *               (2000,2000) r 300 (tiled)
 *   DLTB        fid 1 [0,200]x[600,700] 0101, 2 [200,400]x[600,700] 0103,
 *               3 [400,600]x[600,700] 0702
 *   CZKFBJ      fid 1 [0,500]x[800,1000]
 *   GHYT        fid 1 [0,100]x[1200,1300] 0701, 2 [100,200]x[1200,1300] 1001
 *   XZQ         220101 [-1000,1500]x[-1000,3000], 220102 [1500,3000]x[...]
 */
#include "test.h"

#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/review.h"
#include "onemap/rules.h"
#include "onemap/store.h"

#include <pthread.h>
#include <stdbool.h>

#define X0 42500000.0
#define Y0 4800000.0

static char g_project[512];

static const char *rules_text =
    "version: 1\n"
    "admin: {layer: XZQ, code: XZQDM, name: XZQMC}\n"
    "profiles:\n"
    "  default:\n"
    "    zh: 测试\n"
    "    en: Test\n"
    "    tolerance: 1\n"
    "    checks:\n"
    "      - id: C001\n"
    "        kind: forbidden\n"
    "        layer: YJJBNTBHTB\n"
    "        zh: 不得占用永久基本农田\n"
    "        en: Must not occupy permanent basic farmland\n"
    "      - id: C002\n"
    "        kind: forbidden\n"
    "        layer: STBHHX\n"
    "        zh: 不得占用生态保护红线\n"
    "        en: Must not occupy the ecological red line\n"
    "      - id: C003\n"
    "        kind: conditional\n"
    "        layer: {layer: DLTB, where: {DLBM: {group: cultivated}}}\n"
    "        by: DLBM\n"
    "        zh: 占用耕地须占补平衡\n"
    "        en: Cultivated land needs compensation\n"
    "      - id: C004\n"
    "        kind: report\n"
    "        layer: DLTB\n"
    "        by: DLBM\n"
    "        zh: 现状地类\n"
    "        en: Current land use\n"
    "      - id: C005\n"
    "        kind: purpose\n"
    "        layer: GHYT\n"
    "        by: YDYHFLDM\n"
    "        zh: 项目用途须符合规划用途\n"
    "        en: Use must match the planned use\n"
    "  urban:\n"
    "    zh: 城镇\n"
    "    en: Urban\n"
    "    checks:\n"
    "      - id: U001\n"
    "        kind: must_be_within\n"
    "        layer: CZKFBJ\n"
    "        zh: 须位于城镇开发边界内\n"
    "        en: Must lie inside the urban development boundary\n"
    "  missing:\n"
    "    zh: 缺图层\n"
    "    en: Missing\n"
    "    checks:\n"
    "      - id: M001\n"
    "        kind: forbidden\n"
    "        layer: GHFQ\n"
    "        zh: 规划分区\n"
    "        en: Zoning\n"
    "      - id: M002\n"
    "        kind: report\n"
    "        layer: GHFQ\n"
    "        zh: 规划分区\n"
    "        en: Zoning\n"
    "  overlap:\n"
    "    zh: 重叠\n"
    "    en: Overlap\n"
    "    checks:\n"
    "      - id: V001\n"
    "        kind: must_be_within\n"
    "        layer: OVL\n"
    "        zh: 须位于范围内\n"
    "        en: Must lie inside\n"
    "  strict:\n"
    "    zh: 严格\n"
    "    en: Strict\n"
    "    tolerance: 0\n"
    "    checks:\n"
    "      - id: S001\n"
    "        kind: forbidden\n"
    "        layer: YJJBNTBHTB\n"
    "        zh: 不得占用永久基本农田\n"
    "        en: Must not occupy permanent basic farmland\n";

/* ---- building layers ---- */

static struct om_layer *new_layer(const char *name, const char *f1,
                                  const char *f2)
{
    struct om_layer *l = NULL;
    if (om_layer_new(name, &l, NULL) != OM_OK) {
        return NULL;
    }
    if ((f1 && om_layer_add_field(l, f1, OM_FIELD_TEXT, NULL, NULL)) ||
        (f2 && om_layer_add_field(l, f2, OM_FIELD_TEXT, NULL, NULL))) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* A feature of one part: a rectangle, with an optional hole. */
static bool rect_hole(struct om_layer *l, int64_t fid, double x0, double y0,
                      double x1, double y1, const double *hole, const char *v1,
                      const char *v2)
{
    double r[10] = {X0 + x0, Y0 + y0, X0 + x1, Y0 + y0, X0 + x1,
                    Y0 + y1, X0 + x0, Y0 + y1, X0 + x0, Y0 + y0};
    bool ok = om_layer_begin_feature(l, fid, NULL) == OM_OK &&
              om_layer_begin_part(l, NULL) == OM_OK &&
              om_layer_add_ring(l, r, 5, NULL) == OM_OK;
    if (ok && hole) {
        double h[10] = {X0 + hole[0], Y0 + hole[1], X0 + hole[0], Y0 + hole[3],
                        X0 + hole[2], Y0 + hole[3], X0 + hole[2], Y0 + hole[1],
                        X0 + hole[0], Y0 + hole[1]};
        ok = om_layer_add_ring(l, h, 5, NULL) == OM_OK;
    }
    if (ok && v1) {
        ok = om_layer_set_text(l, 0, v1, NULL) == OM_OK;
    }
    if (ok && v2) {
        ok = om_layer_set_text(l, 1, v2, NULL) == OM_OK;
    }
    return ok && om_layer_end_feature(l, NULL) == OM_OK;
}

static bool rect(struct om_layer *l, int64_t fid, double x0, double y0,
                 double x1, double y1, const char *v1, const char *v2)
{
    return rect_hole(l, fid, x0, y0, x1, y1, NULL, v1, v2);
}

enum { DISC_N = 4000 };

static bool disc(struct om_layer *l, int64_t fid, double cx, double cy,
                 double rad)
{
    static double xy[2 * (DISC_N + 1)];
    for (int i = 0; i <= DISC_N; i++) {
        double a = 2.0 * 3.14159265358979323846 * (i % DISC_N) / DISC_N;
        /* a wobbly disc: not a symmetric polygon */
        double rr = rad * (1.0 + 0.05 * sin(7.0 * a));
        xy[2 * i] = X0 + cx + rr * cos(a);
        xy[2 * i + 1] = Y0 + cy + rr * sin(a);
    }
    return om_layer_begin_feature(l, fid, NULL) == OM_OK &&
           om_layer_begin_part(l, NULL) == OM_OK &&
           om_layer_add_ring(l, xy, DISC_N + 1, NULL) == OM_OK &&
           om_layer_end_feature(l, NULL) == OM_OK;
}

static bool import(struct om_project *p, struct om_layer *l, const char *code,
                   const char *code_field, const char *name_field)
{
    struct om_error e;
    bool ok = l && om_layer_finish(l, 0, NULL) == OM_OK &&
              om_layer_set_crs(l, "EPSG:4530", NULL) == OM_OK;
    struct om_import_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.code = code;
    meta.code_field = code_field;
    meta.name_field = name_field;
    if (ok && om_project_import(p, l, &meta, NULL, NULL, &e) != OM_OK) {
        fprintf(stderr, "import %s: %s\n", code, e.msg);
        ok = false;
    }
    om_layer_free(l);
    return ok;
}

static bool build_project(void)
{
    snprintf(g_project, sizeof g_project, "%s/review.gpkg", test_tmpdir());
    struct om_project *p = NULL;
    struct om_error e;
    if (om_project_create(g_project, "EPSG:4530", &p, &e) != OM_OK) {
        fprintf(stderr, "create: %s\n", e.msg);
        return false;
    }
    struct om_layer *l = new_layer("YJJBNTBHTB", "DLBM", NULL);
    bool ok = l && rect(l, 1, 0, 0, 100, 100, "0101", NULL) &&
              rect(l, 2, 300, 0, 400, 100, "0103", NULL);
    ok = ok && import(p, l, "YJJBNTBHTB", NULL, NULL);
    l = ok ? new_layer("STBHHX", "HXMC", NULL) : NULL;
    ok = ok && l && rect(l, 1, 0, 300, 100, 400, "A", NULL) &&
         disc(l, 2, 2000, 2000, 300);
    ok = ok && import(p, l, "STBHHX", NULL, NULL);
    l = ok ? new_layer("DLTB", "DLBM", NULL) : NULL;
    ok = ok && l && rect(l, 1, 0, 600, 200, 700, "0101", NULL) &&
         rect(l, 2, 200, 600, 400, 700, "0103", NULL) &&
         rect(l, 3, 400, 600, 600, 700, "0702", NULL);
    ok = ok && import(p, l, "DLTB", NULL, NULL);
    l = ok ? new_layer("CZKFBJ", NULL, NULL) : NULL;
    ok = ok && l && rect(l, 1, 0, 800, 500, 1000, NULL, NULL);
    ok = ok && import(p, l, "CZKFBJ", NULL, NULL);
    l = ok ? new_layer("GHYT", "YDYHFLDM", NULL) : NULL;
    ok = ok && l && rect(l, 1, 0, 1200, 100, 1300, "0701", NULL) &&
         rect(l, 2, 100, 1200, 200, 1300, "1001", NULL);
    ok = ok && import(p, l, "GHYT", NULL, NULL);
    /* two overlapping features, and a third adjacent one */
    l = ok ? new_layer("OVL", NULL, NULL) : NULL;
    ok = ok && l && rect(l, 1, 0, 1500, 300, 1600, NULL, NULL) &&
         rect(l, 2, 200, 1500, 500, 1600, NULL, NULL) &&
         rect(l, 3, 0, 1700, 300, 1800, NULL, NULL) &&
         rect(l, 4, 300, 1700, 600, 1800, NULL, NULL);
    ok = ok && import(p, l, "OVL", NULL, NULL);
    l = ok ? new_layer("XZQ", "XZQDM", "XZQMC") : NULL;
    ok = ok && l && rect(l, 1, -1000, -1000, 1500, 3000, "220101", "甲县") &&
         rect(l, 2, 1500, -1000, 3000, 3000, "220102", "乙县");
    ok = ok && import(p, l, "XZQ", "XZQDM", "XZQMC");
    om_project_close(p);
    return ok;
}

/* ---- helpers ---- */

struct fixture {
    struct om_project *p;
    struct om_rules *rules;
    struct om_review *r;
};

static enum om_status fx_open(struct fixture *fx, const char *profile,
                              bool readonly, struct om_error *err)
{
    memset(fx, 0, sizeof *fx);
    enum om_status st = om_project_open(g_project, readonly, &fx->p, err);
    if (st == OM_OK) {
        st = om_rules_parse(rules_text, strlen(rules_text), "test.yaml",
                            &fx->rules, err);
    }
    if (st == OM_OK) {
        st = om_review_open(fx->p, fx->rules, profile, &fx->r, NULL, err);
    }
    return st;
}

static void fx_close(struct fixture *fx)
{
    om_review_free(fx->r);
    om_rules_free(fx->rules);
    om_project_close(fx->p);
    memset(fx, 0, sizeof *fx);
}

/* A site layer with fields DKBH, DKYT (finished, EPSG:4530). */
static struct om_layer *site_new(void)
{
    return new_layer("site", "DKBH", "DKYT");
}

static struct om_layer *site_done(struct om_layer *l, const char *crs)
{
    if (!l || om_layer_finish(l, 0, NULL) != OM_OK ||
        om_layer_set_crs(l, crs, NULL) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

static struct om_layer *site_rect(double x0, double y0, double x1, double y1,
                                  const char *use)
{
    struct om_layer *l = site_new();
    if (!l || !rect(l, 1, x0, y0, x1, y1, "J1", use)) {
        om_layer_free(l);
        return NULL;
    }
    return site_done(l, "EPSG:4530");
}

static const struct om_review_finding *finding(const struct om_review_parcel *p,
                                               const char *id)
{
    for (size_t i = 0; i < p->nfindings; i++) {
        if (strcmp(p->findings[i].check_id, id) == 0) {
            return &p->findings[i];
        }
    }
    return NULL;
}

static const struct om_review_finding *total(const struct om_review_result *r,
                                             const char *id)
{
    for (size_t i = 0; i < r->ntotals; i++) {
        if (strcmp(r->totals[i].check_id, id) == 0) {
            return &r->totals[i];
        }
    }
    return NULL;
}

/* Number of pieces of check `id`, and their summed area. */
static size_t pieces_of(const struct om_review_result *res, const char *id,
                        double *area)
{
    const struct om_layer *l = res->pieces;
    int fc = om_layer_field_index(l, "check_id");
    int fa = om_layer_field_index(l, "area_m2");
    size_t n = 0;
    *area = 0.0;
    for (size_t i = 0; i < om_layer_nfeatures(l); i++) {
        const char *c = om_layer_get_text(l, i, fc);
        if (c && strcmp(c, id) == 0) {
            n++;
            *area += om_layer_get_real(l, i, fa);
        }
    }
    return n;
}

/* ---- tests ---- */

TEST(test_half_farmland)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_rect(50, 0, 150, 100, "1001");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_parcel *p = &res->parcels[0];
    const struct om_review_finding *f = finding(p, "C001");
    bool ok = res->nparcels == 1 && f && f->decision == OM_DECISION_FAIL &&
              fabs(f->planar_m2 - 5000.0) < 1e-6 && f->nfids == 1 &&
              f->fids[0] == 1 && fabs(f->share - 0.5) < 1e-12 &&
              !f->below_tolerance && p->decision == OM_DECISION_FAIL &&
              res->decision == OM_DECISION_FAIL &&
              fabs(p->planar_m2 - 10000.0) < 1e-6;
    double pa = 0.0;
    size_t np = pieces_of(res, "C001", &pa);
    char zh[512], en[512];
    snprintf(zh, sizeof zh, "%s", f ? f->reason_zh : "");
    snprintf(en, sizeof en, "%s", f ? f->reason_en : "");
    double ell = f ? f->ellipsoidal_m2 : 0;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
    CHECK_INT(np, 1);
    CHECK_NEAR(pa, 5000.0, 1e-12, 0);
    /* GK zone 42 near its central meridian: scale ~1, so ellipsoidal ≈
     * planar to a few 1e-4 */
    CHECK_NEAR(ell, 5000.0, 1e-3, 0);
    CHECK_CONTAINS(
        zh,
        "C001 不得占用永久基本农田：占用 5000.00 平方米（7.5000 亩），不通过");
    CHECK_CONTAINS(en, "C001 Must not occupy permanent basic farmland: 5000.00 "
                       "m² (7.5000 mu) occupied: fail");
}

TEST(test_touch_edge)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_rect(100, 0, 200, 100, "1001");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_finding *f = finding(&res->parcels[0], "C001");
    double pa;
    size_t np = pieces_of(res, "C001", &pa);
    bool ok = f && f->planar_m2 == 0.0 && f->decision == OM_DECISION_PASS &&
              f->nfids == 0 && !f->below_tolerance && np == 0;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
}

TEST(test_hole_over_redline)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    double hole[4] = {0, 300, 100, 400};
    CHECK(rect_hole(site, 7, -50, 250, 150, 450, hole, "J1", "1001"));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_parcel *p = &res->parcels[0];
    const struct om_review_finding *f = finding(p, "C002");
    bool ok = f && f->planar_m2 == 0.0 && f->decision == OM_DECISION_PASS &&
              p->fid == 7 && fabs(p->planar_m2 - 30000.0) < 1e-6 &&
              strcmp(p->code, "J1") == 0;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
}

TEST(test_dltb_classes)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    /* 0101 [100,200], 0103 [200,400], 0702 [400,450] */
    struct om_layer *site = site_rect(100, 600, 450, 700, "1001");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_parcel *p = &res->parcels[0];
    const struct om_review_finding *c3 = finding(p, "C003");
    const struct om_review_finding *c4 = finding(p, "C004");
    bool ok3 = c3 && c3->decision == OM_DECISION_CONDITIONAL &&
               fabs(c3->planar_m2 - 30000.0) < 1e-6 && c3->nclasses == 2 &&
               strcmp(c3->classes[0].value, "0101") == 0 &&
               fabs(c3->classes[0].planar_m2 - 10000.0) < 1e-6 &&
               strcmp(c3->classes[1].value, "0103") == 0 &&
               fabs(c3->classes[1].planar_m2 - 20000.0) < 1e-6 &&
               c3->classes[0].name_zh &&
               strcmp(c3->classes[0].name_zh, "水田") == 0;
    bool ok4 = c4 && c4->decision == OM_DECISION_PASS && c4->nclasses == 3 &&
               fabs(c4->planar_m2 - 35000.0) < 1e-6 &&
               strcmp(c4->classes[2].value, "0702") == 0 &&
               fabs(c4->classes[2].planar_m2 - 5000.0) < 1e-6 &&
               c4->classes[2].nfeatures == 1 && c4->nfids == 3;
    bool okp = p->decision == OM_DECISION_CONDITIONAL;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok3);
    CHECK(ok4);
    CHECK(okp);
}

TEST(test_must_be_within)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "urban", true, &e), &e);
    struct om_layer *site = site_rect(400, 900, 600, 1000, NULL);
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_finding *f = finding(&res->parcels[0], "U001");
    double pa = 0.0;
    size_t np = pieces_of(res, "U001", &pa);
    /* the ellipsoidal area of the stored outside piece, independently */
    double ell_piece = NAN;
    struct om_area_ctx *ac = NULL;
    struct om_crs *crs = NULL;
    if (np == 1 && om_crs_new("EPSG:4530", &crs, NULL) == OM_OK &&
        om_area_ctx_new(crs, &ac, NULL) == OM_OK) {
        struct om_layer_view v;
        om_layer_view(res->pieces, &v);
        om_area_feature(ac, &v, 0, NULL, &ell_piece, NULL);
    }
    om_area_ctx_free(ac);
    om_crs_free(crs);
    bool ok = f && f->decision == OM_DECISION_FAIL &&
              fabs(f->planar_m2 - 10000.0) < 1e-6 && f->nclasses == 1 &&
              f->classes[0].value[0] == '\0' && f->nfids == 1 && np == 1 &&
              fabs(pa - 10000.0) < 1e-6;
    double ell = f ? f->ellipsoidal_m2 : 0;
    om_review_result_free(res);
    /* entirely inside: 0 outside */
    site = site_rect(100, 850, 200, 950, NULL);
    st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    bool ok2 = st == OM_OK && res->parcels[0].findings[0].planar_m2 == 0.0 &&
               res->decision == OM_DECISION_PASS;
    om_review_result_free(res);
    /* far from it: all outside */
    site = site_rect(1000, 0, 1100, 50, NULL);
    st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    bool ok3 = st == OM_OK &&
               fabs(res->parcels[0].findings[0].planar_m2 - 5000.0) < 1e-6;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
    CHECK_NEAR(ell, ell_piece, 1e-12, 0);
    CHECK(ok2);
    CHECK(ok3);
}

/* Selected features that overlap, or that meet along an edge. */
TEST(test_must_be_within_overlaps)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "overlap", true, &e), &e);
    struct om_layer *site = site_new();
    /* inside 1 ∪ 2 = [100,500]: sum of the pieces is 50000 = the parcel */
    CHECK(rect(site, 1, 100, 1500, 600, 1600, "A", NULL));
    /* across the edge of 3 and 4, all inside */
    CHECK(rect(site, 2, 100, 1700, 500, 1800, "B", NULL));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    double a = res->parcels[0].findings[0].planar_m2;
    double b = res->parcels[1].findings[0].planar_m2;
    enum om_decision da = res->parcels[0].decision;
    enum om_decision db = res->parcels[1].decision;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK_NEAR(a, 10000.0, 1e-12, 0);
    CHECK_INT(da, OM_DECISION_FAIL);
    CHECK(b == 0.0);
    CHECK_INT(db, OM_DECISION_PASS);
}

TEST(test_purpose)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct {
        const char *dkyt, *opt_use;
        double want;
        bool not_evaluated;
        const char *use;
    } cases[] = {
        {"0701", NULL, 5000.0, false, "0701"},         /* the 1001 half */
        {"城镇住宅用地", NULL, 5000.0, false, "0701"}, /* by name */
        {"0701", "07", 5000.0, false, "07"},           /* 07 ⊃ 0701 */
        {"0701", "10", 5000.0, false, "10"},           /* 10 ⊃ 1001 */
        {"0701", "0101", 10000.0, false, "0101"},      /* neither */
        {NULL, NULL, 0.0, true, NULL},                 /* no code */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct om_layer *site = site_rect(50, 1200, 150, 1300, cases[i].dkyt);
        struct om_review_site_options o;
        memset(&o, 0, sizeof o);
        o.use = cases[i].opt_use;
        struct om_review_result *res = NULL;
        enum om_status st = om_review_check(fx.r, site, &o, &res, &e);
        om_layer_free(site);
        if (st != OM_OK) {
            fx_close(&fx);
            CHECK_OK(st, &e);
        }
        const struct om_review_parcel *p = &res->parcels[0];
        const struct om_review_finding *f = finding(p, "C005");
        bool ok = f && fabs(f->planar_m2 - cases[i].want) < 1e-6 &&
                  f->not_evaluated == cases[i].not_evaluated &&
                  f->decision == (cases[i].want > 0 || cases[i].not_evaluated
                                      ? OM_DECISION_CONDITIONAL
                                      : OM_DECISION_PASS) &&
                  (cases[i].use ? p->use && strcmp(p->use, cases[i].use) == 0
                                : p->use == NULL);
        bool ne_reason =
            !cases[i].not_evaluated ||
            (f && strstr(f->reason_en, "no land-use code") != NULL);
        om_review_result_free(res);
        if (!ok || !ne_reason) {
            fx_close(&fx);
            FAILF("case %zu", i);
            return;
        }
    }
    /* a DLBM code is converted with the crosswalk; a bad option refused */
    struct om_layer *site = new_layer("site", "DKBH", "DLBM");
    CHECK(rect(site, 1, 50, 1200, 150, 1300, "J1", "0101"));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    bool ok = st == OM_OK && res->parcels[0].use &&
              strcmp(res->parcels[0].use, om_dlbm_to_ydyh("0101")) == 0;
    om_review_result_free(res);
    struct om_review_site_options o = {"xyz", NULL, NULL};
    st = om_review_check(fx.r, site, &o, &res, &e);
    om_layer_free(site);
    fx_close(&fx);
    CHECK(ok);
    CHECK_INT(st, OM_EINVAL);
    CHECK(res == NULL);
    CHECK_CONTAINS(e.msg, "xyz");
}

TEST(test_missing_layer)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "missing", true, &e), &e);
    struct om_layer *site = site_rect(50, 0, 150, 100, NULL);
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_finding *m1 = finding(&res->parcels[0], "M001");
    const struct om_review_finding *m2 = finding(&res->parcels[0], "M002");
    const struct om_review_finding *t1 = total(res, "M001");
    bool ok = m1 && m1->missing && m1->decision == OM_DECISION_CONDITIONAL &&
              m1->layer_version == 0 && m2 && m2->missing &&
              m2->decision == OM_DECISION_PASS &&
              res->decision == OM_DECISION_CONDITIONAL && t1 && t1->missing &&
              strstr(m1->reason_en, "GHFQ") &&
              strstr(m1->reason_en, "not in the project");
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
}

TEST(test_tolerance)
{
    struct fixture fx;
    struct om_error e;
    /* 0.5 m² over farmland fid 1 */
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_rect(99.5, 0, 200, 1, "1001");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    if (st != OM_OK) {
        om_layer_free(site);
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_finding *f = finding(&res->parcels[0], "C001");
    bool ok = f && fabs(f->planar_m2 - 0.5) < 1e-9 &&
              f->decision == OM_DECISION_PASS && f->below_tolerance &&
              strstr(f->reason_en, "tolerance");
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
    CHECK_OK(fx_open(&fx, "strict", true, &e), &e);
    st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    ok = st == OM_OK &&
         res->parcels[0].findings[0].decision == OM_DECISION_FAIL &&
         !res->parcels[0].findings[0].below_tolerance;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
}

TEST(test_multi_parcel)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    /* fid 5: half of farmland 1; fid 3: touching; fid 9: a quarter of
     * farmland 2 and half of 0101 — input order is not fid order */
    CHECK(rect(site, 5, 50, 0, 150, 100, "A", "1001"));
    CHECK(rect(site, 9, 350, 50, 400, 100, "C", "1001"));
    CHECK(rect(site, 3, 100, 0, 200, 100, "B", "1001"));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    bool order = res->nparcels == 3 && res->parcels[0].fid == 3 &&
                 res->parcels[1].fid == 5 && res->parcels[2].fid == 9 &&
                 strcmp(res->parcels[0].code, "B") == 0;
    const struct om_review_finding *t = total(res, "C001");
    bool ok = order && t && fabs(t->planar_m2 - 7500.0) < 1e-6 &&
              t->decision == OM_DECISION_FAIL && t->nfids == 2 &&
              t->fids[0] == 1 && t->fids[1] == 2 &&
              fabs(t->share - 7500.0 / 22500.0) < 1e-12 &&
              res->parcels[0].decision == OM_DECISION_PASS &&
              res->parcels[1].decision == OM_DECISION_FAIL &&
              res->decision == OM_DECISION_FAIL &&
              fabs(res->planar_m2 - 22500.0) < 1e-6;
    double sum = 0.0;
    for (size_t i = 0; i < res->nparcels; i++) {
        sum += finding(&res->parcels[i], "C001")->ellipsoidal_m2;
    }
    bool ok2 = t && fabs(t->ellipsoidal_m2 - sum) <= 1e-9 * sum;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
    CHECK(ok2);
}

TEST(test_units)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    CHECK(rect(site, 1, 1400, 0, 1600, 100, "A", "1001"));
    CHECK(rect(site, 2, 2950, 0, 3050, 100, "B", "1001"));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    if (st != OM_OK) {
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    const struct om_review_parcel *a = &res->parcels[0], *b = &res->parcels[1];
    bool ok = a->has_units && a->nunits == 2 &&
              strcmp(a->units[0].code, "220101") == 0 &&
              strcmp(a->units[0].name, "甲县") == 0 &&
              fabs(a->units[0].planar_m2 - 10000.0) < 1e-6 &&
              strcmp(a->units[1].code, "220102") == 0 &&
              fabs(a->units[1].planar_m2 - 10000.0) < 1e-6 &&
              a->outside_planar_m2 == 0.0 && a->decision == OM_DECISION_PASS &&
              b->nunits == 1 && fabs(b->outside_planar_m2 - 5000.0) < 1e-6 &&
              b->decision == OM_DECISION_CONDITIONAL;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(ok);
}

/* The tiled big polygon against GEOS on the whole feature. */
TEST(test_tiled_vs_geos)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    const struct om_review_layer *rl = om_review_layer_find(fx.r, "stbhhx");
    CHECK(rl && rl->version == 1 && !rl->is_admin);
    size_t red = om_layer_find_fid(rl->layer, 2);
    struct om_layer_view rv;
    om_layer_view(rl->layer, &rv);
    CHECK(om_feature_npoints(&rv, red) > 1024);
    struct om_layer *site = site_new();
    /* a parcel crossing the disc's boundary, with a hole, and a second
     * one well inside it */
    double hole[4] = {1750, 1950, 1800, 2050};
    CHECK(rect_hole(site, 1, 1600, 1900, 2500, 2100, hole, "A", "1001"));
    CHECK(rect(site, 2, 1950, 1950, 2050, 2050, "B", "1001"));
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    if (st != OM_OK) {
        om_layer_free(site);
        fx_close(&fx);
        CHECK_OK(st, &e);
    }
    struct om_polyops *g = NULL;
    struct om_crs *crs = NULL;
    struct om_area_ctx *ac = NULL;
    struct om_layer *dst = NULL;
    bool setup = om_polyops_new(&g, NULL) == OM_OK &&
                 om_crs_new("EPSG:4530", &crs, NULL) == OM_OK &&
                 om_area_ctx_new(crs, &ac, NULL) == OM_OK &&
                 om_layer_new("x", &dst, NULL) == OM_OK;
    struct om_layer_view sv;
    om_layer_view(res->site, &sv);
    double want[2] = {0, 0}, want_ell[2] = {0, 0};
    for (size_t i = 0; setup && i < 2; i++) {
        setup = om_layer_begin_feature(dst, (int64_t)i, NULL) == OM_OK &&
                om_polyops_intersection(g, &sv, i, &rv, red, dst, &want[i],
                                        NULL) == OM_OK &&
                om_layer_end_feature(dst, NULL) == OM_OK;
        struct om_layer_view dv;
        om_layer_view(dst, &dv);
        setup = setup &&
                om_area_feature(ac, &dv, i, NULL, &want_ell[i], NULL) == OM_OK;
    }
    double got[2], got_ell[2];
    for (size_t i = 0; i < 2; i++) {
        const struct om_review_finding *f = finding(&res->parcels[i], "C002");
        got[i] = f ? f->planar_m2 : -1;
        got_ell[i] = f ? f->ellipsoidal_m2 : -1;
    }
    double pa = 0.0;
    size_t np = pieces_of(res, "C002", &pa);
    om_layer_free(dst);
    om_area_ctx_free(ac);
    om_crs_free(crs);
    om_polyops_free(g);
    om_review_result_free(res);
    om_layer_free(site);
    fx_close(&fx);
    CHECK(setup);
    CHECK(want[0] > 1000.0);
    CHECK_NEAR(got[0], want[0], 1e-9, 0);
    CHECK_NEAR(got[1], want[1], 1e-9, 0);
    CHECK_NEAR(got[1], 10000.0, 1e-12, 0);
    /* sum of geodesic areas of the fragments vs the whole intersection:
     * cut points lie on straight lines of the projection */
    CHECK_NEAR(got_ell[0], want_ell[0], 1e-9, 0);
    CHECK_NEAR(got_ell[1], want_ell[1], 1e-9, 0);
    CHECK_INT(np, 2);
    CHECK_NEAR(pa, want[0] + want[1], 1e-9, 0);
}

TEST(test_site_in_4490)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    /* the half-farmland site, given in CGCS2000 lon/lat */
    struct om_crs *a = NULL, *b = NULL;
    struct om_transform *t = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &a, &e), &e);
    CHECK_OK(om_crs_new("EPSG:4490", &b, &e), &e);
    enum om_status st = om_transform_new(a, b, &t, &e);
    double xy[10] = {X0 + 50,  Y0,      X0 + 150, Y0,      X0 + 150,
                     Y0 + 100, X0 + 50, Y0 + 100, X0 + 50, Y0};
    if (st == OM_OK) {
        st = om_transform_points(t, xy, 5, &e);
    }
    om_transform_free(t);
    om_crs_free(a);
    om_crs_free(b);
    struct om_layer *site = site_new();
    bool built = st == OM_OK && site &&
                 om_layer_begin_feature(site, 1, NULL) == OM_OK &&
                 om_layer_begin_part(site, NULL) == OM_OK &&
                 om_layer_add_ring(site, xy, 5, NULL) == OM_OK &&
                 om_layer_end_feature(site, NULL) == OM_OK;
    site = site_done(site, "EPSG:4490");
    struct om_review_result *res = NULL;
    if (built && site) {
        st = om_review_check(fx.r, site, NULL, &res, &e);
    }
    om_layer_free(site);
    bool ok =
        res &&
        fabs(finding(&res->parcels[0], "C001")->planar_m2 - 5000.0) < 1e-5 &&
        strcmp(om_layer_crs(res->site), "EPSG:4530") == 0 &&
        lround((om_layer_extent(res->site).minx - X0) * 1000) == 50000;
    om_review_result_free(res);
    fx_close(&fx);
    CHECK(built);
    CHECK_OK(st, &e);
    CHECK(ok);
}

TEST(test_errors)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    /* a bow-tie parcel */
    struct om_layer *site = site_new();
    double bow[10] = {X0, Y0, X0 + 100, Y0 + 100, X0 + 100,
                      Y0, X0, Y0 + 100, X0,       Y0};
    CHECK(om_layer_begin_feature(site, 4, NULL) == OM_OK &&
          om_layer_begin_part(site, NULL) == OM_OK &&
          om_layer_add_ring(site, bow, 5, NULL) == OM_OK &&
          om_layer_set_text(site, 0, "J9", NULL) == OM_OK &&
          om_layer_end_feature(site, NULL) == OM_OK);
    site = site_done(site, "EPSG:4530");
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
    om_layer_free(site);
    char msg[OM_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", e.msg);
    int64_t feat = e.feature;
    /* an empty site */
    struct om_layer *empty = site_done(site_new(), "EPSG:4530");
    enum om_status st2 = om_review_check(fx.r, empty, NULL, &res, &e);
    om_layer_free(empty);
    /* a site in the wrong zone (no zone prefix: 500 km away) */
    struct om_layer *far =
        site_rect(-42000000.0, 0, -42000000.0 + 100, 100, NULL);
    enum om_status st3 = om_review_check(fx.r, far, NULL, &res, &e);
    om_layer_free(far);
    char msg3[OM_ERROR_MSG_MAX];
    snprintf(msg3, sizeof msg3, "%s", e.msg);
    /* no such profile */
    struct om_review *r2 = NULL;
    enum om_status st4 = om_review_open(fx.p, fx.rules, "nope", &r2, NULL, &e);
    fx_close(&fx);
    CHECK_INT(st, OM_EGEOM);
    CHECK(res == NULL);
    CHECK_CONTAINS(msg, "J9");
    CHECK_CONTAINS(msg, "Self-intersection");
    CHECK_INT(feat, 4);
    CHECK_INT(st2, OM_EINVAL);
    CHECK_INT(st3, OM_EINVAL);
    CHECK_CONTAINS(msg3, "wrong zone or CRS");
    CHECK_INT(st4, OM_ENOTFOUND);
    CHECK(r2 == NULL);
    CHECK_CONTAINS(e.msg, "urban");
}

TEST(test_bad_by_field)
{
    static const char *text = "version: 1\n"
                              "profiles:\n"
                              "  p:\n"
                              "    checks:\n"
                              "      - id: B001\n"
                              "        kind: report\n"
                              "        layer: DLTB\n"
                              "        by: NOPE\n"
                              "        zh: x\n"
                              "        en: x\n";
    struct om_project *p = NULL;
    struct om_rules *rules = NULL;
    struct om_review *r = NULL;
    struct om_error e;
    CHECK_OK(om_project_open(g_project, true, &p, &e), &e);
    enum om_status st =
        om_rules_parse(text, strlen(text), "b.yaml", &rules, &e);
    if (st == OM_OK) {
        st = om_review_open(p, rules, "p", &r, NULL, &e);
    }
    om_rules_free(rules);
    om_project_close(p);
    CHECK_INT(st, OM_ENOTFOUND);
    CHECK(r == NULL);
    CHECK_CONTAINS(e.msg, "B001");
    CHECK_CONTAINS(e.msg, "NOPE");
    CHECK_CONTAINS(e.msg, "DLTB");
}

static bool run_python_json(const char *json)
{
    char path[600], cmd[1400];
    snprintf(path, sizeof path, "%s/result.json", test_tmpdir());
    FILE *f = fopen(path, "wb");
    if (!f) {
        return false;
    }
    fputs(json, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "assert d[\"decision\"]==\"fail\"; "
             "assert d[\"parcels\"][0][\"findings\"][0][\"area_m2\"]==5000; "
             "assert d[\"parcels\"][0][\"code\"]=="
             "\"\".join(map(chr,[74,34,49,92,9,50])); "
             "assert d[\"totals\"][0][\"check_id\"]==\"C001\"' %s",
             path);
    return system(cmd) == 0;
}

TEST(test_json)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    CHECK(rect(site, 1, 50, 0, 150, 100, "J\"1\\\t2", "1001"));
    site = site_done(site, "EPSG:4530");
    struct om_review_site_options o = {NULL, "site \"x\".txt", "abc"};
    struct om_review_result *res = NULL;
    enum om_status st = om_review_check(fx.r, site, &o, &res, &e);
    om_layer_free(site);
    char *json = NULL;
    size_t len = 0;
    if (st == OM_OK) {
        st = om_review_result_json(fx.r, res, &json, &len, &e);
    }
    om_review_result_free(res);
    fx_close(&fx);
    CHECK_OK(st, &e);
    bool ok = run_python_json(json);
    bool lenok = len == strlen(json);
    char head[200];
    snprintf(head, sizeof head, "%.150s", json);
    om_review_free_string(json);
    CHECK(ok);
    CHECK(lenok);
    CHECK_CONTAINS(head, "\"profile\":\"default\"");
}

struct thread_arg {
    const struct om_review *r;
    const struct om_layer *site;
    char *json;
    enum om_status st;
};

static void *thread_run(void *p)
{
    struct thread_arg *a = p;
    struct om_review_result *res = NULL;
    a->st = OM_OK;
    for (int k = 0; k < 5 && a->st == OM_OK; k++) {
        a->st = om_review_check(a->r, a->site, NULL, &res, NULL);
        if (a->st == OM_OK) {
            res->elapsed_ms = 0; /* the only field that may differ */
            om_review_free_string(a->json);
            a->json = NULL;
            a->st = om_review_result_json(a->r, res, &a->json, NULL, NULL);
        }
        om_review_result_free(res);
    }
    return NULL;
}

TEST(test_threads)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    double hole[4] = {1750, 1950, 1800, 2050};
    CHECK(rect_hole(site, 1, 1600, 1900, 2500, 2100, hole, "A", "1001"));
    CHECK(rect(site, 2, 50, 0, 150, 100, "B", "1001"));
    CHECK(rect(site, 3, 100, 600, 450, 700, "C", "1001"));
    site = site_done(site, "EPSG:4530");
    enum { NT = 4 };
    struct thread_arg args[NT];
    pthread_t th[NT];
    bool started[NT];
    for (int i = 0; i < NT; i++) {
        args[i].r = fx.r;
        args[i].site = site;
        args[i].json = NULL;
        args[i].st = OM_EINTERNAL;
        started[i] = pthread_create(&th[i], NULL, thread_run, &args[i]) == 0;
    }
    for (int i = 0; i < NT; i++) {
        if (started[i]) {
            pthread_join(th[i], NULL);
        }
    }
    bool ok = true;
    for (int i = 0; i < NT; i++) {
        ok = ok && started[i] && args[i].st == OM_OK && args[i].json &&
             strcmp(args[i].json, args[0].json) == 0;
    }
    for (int i = 0; i < NT; i++) {
        om_review_free_string(args[i].json);
    }
    om_layer_free(site);
    fx_close(&fx);
    CHECK(ok);
}

/* Copy the project so storing does not change the others' input. */
static bool copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    bool ok = a && b;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, a)) > 0) {
        ok = fwrite(buf, 1, n, b) == n;
    }
    if (a) {
        fclose(a);
    }
    if (b && fclose(b) != 0) {
        ok = false;
    }
    return ok;
}

TEST(test_store)
{
    char path[600];
    snprintf(path, sizeof path, "%s/store.gpkg", test_tmpdir());
    CHECK(copy_file(g_project, path));
    struct om_project *p = NULL;
    struct om_rules *rules = NULL;
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    struct om_error e;
    CHECK_OK(om_project_open(path, false, &p, &e), &e);
    enum om_status st =
        om_rules_parse(rules_text, strlen(rules_text), "test.yaml", &rules, &e);
    if (st == OM_OK) {
        st = om_review_open(p, rules, "default", &r, NULL, &e);
    }
    struct om_layer *site = site_new();
    bool built = site && rect(site, 1, 50, 0, 150, 100, "J1", "1001") &&
                 rect(site, 2, 100, 600, 450, 700, "J2", "1001");
    site = site_done(site, "EPSG:4530");
    struct om_review_site_options o = {"0701", "s.txt", "ab12"};
    if (st == OM_OK && built) {
        st = om_review_check(r, site, &o, &res, &e);
    }
    if (st == OM_OK) {
        st = om_review_store(r, p, res, &e);
    }
    int64_t run_id = res ? res->run_id : -1;
    struct om_run_record *runs = NULL;
    size_t nruns = 0;
    if (st == OM_OK) {
        st = om_project_runs(p, "check", &runs, &nruns, &e);
    }
    bool ok = nruns == 1 && runs[0].id == run_id && run_id > 0 &&
              strstr(runs[0].tables, "CHECK_SITES") &&
              strstr(runs[0].tables, "CHECK_PIECES") &&
              strstr(runs[0].tables, "CHECK_FINDINGS") &&
              strstr(runs[0].params, "\"use\":\"0701\"") &&
              strstr(runs[0].params, "\"source\":\"s.txt\"") &&
              strstr(runs[0].inputs, "YJJBNTBHTB") &&
              strstr(runs[0].inputs, "XZQ") && runs[0].summary &&
              strstr(runs[0].summary, "\"run_id\":");
    om_run_records_free(runs, nruns);
    struct om_layer *pieces = NULL;
    size_t npieces = res ? om_layer_nfeatures(res->pieces) : 0;
    if (st == OM_OK) {
        st = om_project_read_result(p, "CHECK_PIECES", &pieces, NULL, &e);
    }
    bool ok2 = pieces && om_layer_nfeatures(pieces) == npieces && npieces > 0;
    om_layer_free(pieces);
    om_layer_free(site);
    om_review_result_free(res);
    om_review_free(r);
    om_rules_free(rules);
    om_project_close(p);
    CHECK(built);
    CHECK_OK(st, &e);
    CHECK(ok);
    CHECK(ok2);
}

/* Every allocation failing in turn: OM_ENOMEM, no output, no leak. */
TEST(test_enomem)
{
    struct fixture fx;
    struct om_error e;
    CHECK_OK(fx_open(&fx, "default", true, &e), &e);
    struct om_layer *site = site_new();
    CHECK(rect(site, 1, 50, 0, 150, 100, "J1", "1001"));
    CHECK(rect(site, 2, 100, 600, 450, 700, "J2", "1001"));
    site = site_done(site, "EPSG:4530");
    bool ok = true;
    int n_ok = -1;
    for (int n = 0; n < 5000 && ok; n += 1) {
        struct om_review_result *res = NULL;
        test_fail_allocs_after(n);
        enum om_status st = om_review_check(fx.r, site, NULL, &res, &e);
        char *json = NULL;
        enum om_status st2 = OM_OK;
        if (st == OM_OK) {
            st2 = om_review_result_json(fx.r, res, &json, NULL, &e);
        }
        test_fail_allocs_after(-1);
        if (st == OM_OK && st2 == OM_OK) {
            n_ok = n;
            om_review_free_string(json);
            om_review_result_free(res);
            break;
        }
        ok = (st == OM_ENOMEM && res == NULL) ||
             (st == OM_OK && st2 == OM_ENOMEM && json == NULL);
        if (!ok) {
            FAILF("n=%d: %s / %s: %s", n, om_status_name(st),
                  om_status_name(st2), e.msg);
        }
        om_review_result_free(res);
    }
    /* and opening */
    for (int n = 0; n < 100000 && ok; n += 7) {
        struct om_review *r = NULL;
        test_fail_allocs_after(n);
        enum om_status st =
            om_review_open(fx.p, fx.rules, "default", &r, NULL, &e);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            om_review_free(r);
            break;
        }
        ok = r == NULL && st != OM_OK;
    }
    om_layer_free(site);
    fx_close(&fx);
    CHECK(ok);
    CHECK(n_ok > 0);
}

/* ---- reproducing a stored review ---- */

static bool rules_of(const char *extra, struct om_rules **out)
{
    char text[8192];
    snprintf(text, sizeof text, "%s%s", rules_text, extra);
    struct om_error e;
    return om_rules_parse(text, strlen(text), "test.yaml", out, &e) == OM_OK;
}

/* Check `site` with `profile`, store it; returns the run id (0 on error). */
static int64_t store_review(struct om_project *p, const struct om_rules *rules,
                            const char *profile, const struct om_layer *site,
                            const char *use)
{
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    struct om_error e;
    struct om_review_site_options o = {use, "sites/a.txt", "cafe"};
    enum om_status st = om_review_open(p, rules, profile, &r, NULL, &e);
    if (st == OM_OK) {
        st = om_review_check(r, site, &o, &res, &e);
    }
    if (st == OM_OK) {
        st = om_review_store(r, p, res, &e);
    }
    if (st != OM_OK) {
        fprintf(stderr, "store_review: %s\n", e.msg);
    }
    int64_t id = st == OM_OK ? res->run_id : 0;
    om_review_result_free(res);
    om_review_free(r);
    return id;
}

/* Rerun `id` (on its versions or the current ones) and compare. */
static enum om_status rerun_diff(struct om_project *p,
                                 const struct om_rules *rules, int64_t id,
                                 bool current, char **diff, size_t *ndiffs,
                                 enum om_decision *decision, struct om_error *e)
{
    struct om_review_record *rec = NULL;
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    *diff = NULL;
    enum om_status st = om_review_record_read(p, id, &rec, e);
    if (st == OM_OK) {
        st = om_review_rerun(p, rec, rules, current, &r, &res, NULL, e);
    }
    if (st == OM_OK) {
        *decision = res->decision;
        st = om_review_compare(rec, r, res, diff, ndiffs, e);
    }
    om_review_result_free(res);
    om_review_free(r);
    om_review_record_free(rec);
    return st;
}

TEST(test_rerun)
{
    char path[600];
    snprintf(path, sizeof path, "%s/rerun.gpkg", test_tmpdir());
    CHECK(copy_file(g_project, path));
    struct om_project *p = NULL;
    struct om_rules *rules = NULL, *other = NULL;
    struct om_error e;
    CHECK_OK(om_project_open(path, false, &p, &e), &e);
    bool ok = rules_of("", &rules) && rules_of("# edited\n", &other);
    /* J1 half over farmland fid 1, with use 1001; J2 over DLTB; original
     * fids 7 and 9 (not the parcel numbers) */
    struct om_layer *site = site_new();
    ok = ok && site && rect(site, 7, 50, 0, 150, 100, "J1", "1001") &&
         rect(site, 9, 100, 600, 450, 700, "J2", "0701");
    site = site_done(site, "EPSG:4530");
    int64_t id = ok && site ? store_review(p, rules, "default", site, NULL) : 0;
    int64_t id_missing =
        id ? store_review(p, rules, "missing", site, "0701") : 0;
    om_layer_free(site);
    /* a plan revision: farmland fid 1 removed; GHFQ now exists */
    struct om_layer *l = new_layer("YJJBNTBHTB", "DLBM", NULL);
    bool imported = l && rect(l, 2, 300, 0, 400, 100, "0103", NULL) &&
                    import(p, l, "YJJBNTBHTB", NULL, NULL);
    l = imported ? new_layer("GHFQ", NULL, NULL) : NULL;
    imported = imported && l && rect(l, 1, 0, 0, 1000, 1000, NULL, NULL) &&
               import(p, l, "GHFQ", NULL, NULL);

    /* the record */
    struct om_review_record *rec = NULL;
    enum om_status st =
        id > 0 ? om_review_record_read(p, id, &rec, &e) : OM_EINVAL;
    bool rec_ok = st == OM_OK && strcmp(rec->profile, "default") == 0 &&
                  rec->use == NULL && strcmp(rec->source, "sites/a.txt") == 0 &&
                  strcmp(rec->source_sha256, "cafe") == 0 &&
                  strcmp(rec->rules_sha256, rules->sha256) == 0 &&
                  om_layer_nfeatures(rec->site) == 2;
    bool pin_v1 = false;
    for (size_t i = 0; rec_ok && i < rec->npins; i++) {
        pin_v1 |= strcmp(rec->pins[i].code, "YJJBNTBHTB") == 0 &&
                  rec->pins[i].version == 1;
    }
    struct om_layer_view v;
    if (rec_ok) {
        om_layer_view(rec->site, &v);
        int fk = om_layer_field_index(rec->site, "DKBH");
        int fu = om_layer_field_index(rec->site, "DKYT");
        rec_ok = v.fid[0] == 7 && v.fid[1] == 9 &&
                 strcmp(om_layer_get_text(rec->site, 0, fk), "J1") == 0 &&
                 strcmp(om_layer_get_text(rec->site, 0, fu), "1001") == 0 &&
                 strcmp(om_layer_get_text(rec->site, 1, fu), "0701") == 0;
    }
    /* rules other than the recorded ones are refused, naming both hashes */
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    struct om_error e2;
    enum om_status st_other =
        rec ? om_review_rerun(p, rec, other, false, &r, &res, NULL, &e2)
            : OM_OK;
    bool refused = st_other == OM_EINVAL && !r && !res &&
                   strstr(e2.msg, rules->sha256) &&
                   strstr(e2.msg, other->sha256);
    om_review_record_free(rec);

    char *same = NULL, *now = NULL, *same_m = NULL, *now_m = NULL;
    size_t nsame = 99, nnow = 0, nsame_m = 99, nnow_m = 0;
    enum om_decision d_same = OM_DECISION_PASS, d_now = OM_DECISION_FAIL;
    enum om_decision d_m = OM_DECISION_PASS, d_m_now = OM_DECISION_PASS;
    enum om_status st1 =
        rerun_diff(p, rules, id, false, &same, &nsame, &d_same, &e);
    enum om_status st2 =
        rerun_diff(p, rules, id, true, &now, &nnow, &d_now, &e);
    enum om_status st3 =
        rerun_diff(p, rules, id_missing, false, &same_m, &nsame_m, &d_m, &e);
    enum om_status st4 =
        rerun_diff(p, rules, id_missing, true, &now_m, &nnow_m, &d_m_now, &e);
    bool diffs_ok =
        st1 == OM_OK && st2 == OM_OK && st3 == OM_OK && st4 == OM_OK &&
        nsame == 0 && strcmp(same, "") == 0 && d_same == OM_DECISION_FAIL &&
        d_now == OM_DECISION_CONDITIONAL && nnow >= 3 &&
        strstr(now, "layer YJJBNTBHTB: version 1 -> 2") &&
        strstr(now, "site: decision fail -> conditional") &&
        strstr(now, "parcel 1 (J1) C001: decision fail -> pass; area_m2 "
                    "5000.000000 -> 0.000000") &&
        nsame_m == 0 && d_m == OM_DECISION_CONDITIONAL && nnow_m > 0 &&
        strstr(now_m, "layer GHFQ: not loaded -> version 1") &&
        strstr(now_m, "M001: decision conditional -> fail");
    if (!diffs_ok || getenv("ONEMAP_TEST_VERBOSE")) {
        fprintf(stderr, "same: %s\nnow: %s\nsame_m: %s\nnow_m: %s\n%s\n",
                same ? same : "-", now ? now : "-", same_m ? same_m : "-",
                now_m ? now_m : "-", e.msg);
    }
    om_review_free_string(same);
    om_review_free_string(now);
    om_review_free_string(same_m);
    om_review_free_string(now_m);

    /* unknown run, a run of another kind, a pinned version gone */
    struct om_review_record *bad = NULL;
    enum om_status st_unknown = om_review_record_read(p, 99, &bad, &e2);
    bool unknown_ok =
        st_unknown == OM_ENOTFOUND && !bad && strstr(e2.msg, "no run 99");
    struct om_run *run = NULL;
    struct om_run_begin b;
    memset(&b, 0, sizeof b);
    b.kind = "conflicts";
    enum om_status st_kind = om_run_begin(p, &b, &run, &e2);
    int64_t cid = st_kind == OM_OK ? om_run_id(run) : 0;
    if (st_kind == OM_OK) {
        st_kind = om_run_commit(run, NULL, &e2);
    }
    if (st_kind == OM_OK) {
        st_kind = om_review_record_read(p, cid, &bad, &e2);
    }
    bool kind_ok =
        st_kind == OM_EINVAL && !bad && strstr(e2.msg, "conflicts run");
    struct om_review_pin pin = {"YJJBNTBHTB", 9};
    enum om_status st_pin = om_review_open_pinned(p, rules, "default", &pin, 1,
                                                  false, &r, NULL, &e2);
    bool pin_ok = st_pin == OM_ENOTFOUND && !r && strstr(e2.msg, "version 9");
    om_rules_free(rules);
    om_rules_free(other);
    om_project_close(p);
    CHECK(ok);
    CHECK(id > 0 && id_missing > 0);
    CHECK(imported);
    CHECK_OK(st, &e);
    CHECK(rec_ok);
    CHECK(pin_v1);
    CHECK(refused);
    CHECK(diffs_ok);
    CHECK(unknown_ok);
    CHECK(kind_ok);
    CHECK(pin_ok);
}

/* Reading, rerunning and comparing with every allocation failing in
 * turn: an error, no output, no leak. */
TEST(test_rerun_enomem)
{
    char path[600];
    snprintf(path, sizeof path, "%s/rerun_nomem.gpkg", test_tmpdir());
    CHECK(copy_file(g_project, path));
    struct om_project *p = NULL;
    struct om_rules *rules = NULL;
    struct om_error e;
    CHECK_OK(om_project_open(path, false, &p, &e), &e);
    bool ok = rules_of("", &rules);
    struct om_layer *site = site_new();
    ok = ok && site && rect(site, 1, 50, 0, 150, 100, "J1", "1001");
    site = site_done(site, "EPSG:4530");
    int64_t id = ok && site ? store_review(p, rules, "default", site, NULL) : 0;
    om_layer_free(site);
    int n_ok = -1;
    for (int n = 0; n < 200000 && id > 0 && ok; n += 13) {
        char *diff = NULL;
        size_t nd = 0;
        enum om_decision d;
        test_fail_allocs_after(n);
        enum om_status st = rerun_diff(p, rules, id, false, &diff, &nd, &d, &e);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            n_ok = n;
            ok = nd == 0;
            om_review_free_string(diff);
            break;
        }
        ok = diff == NULL;
    }
    om_rules_free(rules);
    om_project_close(p);
    CHECK(id > 0);
    CHECK(ok);
    CHECK(n_ok > 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_review.c");
    if (!build_project()) {
        printf("FAIL test_review.c:build_project\n");
        return 1;
    }
    RUN(test_half_farmland);
    RUN(test_touch_edge);
    RUN(test_hole_over_redline);
    RUN(test_dltb_classes);
    RUN(test_must_be_within);
    RUN(test_must_be_within_overlaps);
    RUN(test_purpose);
    RUN(test_missing_layer);
    RUN(test_tolerance);
    RUN(test_multi_parcel);
    RUN(test_units);
    RUN(test_tiled_vs_geos);
    RUN(test_site_in_4490);
    RUN(test_errors);
    RUN(test_bad_by_field);
    RUN(test_json);
    RUN(test_threads);
    RUN(test_store);
    RUN(test_enomem);
    RUN(test_rerun);
    RUN(test_rerun_enomem);
    TEST_MAIN_END();
}
