/*
 * test_qc_repair.c — om_qc_repair: MakeValid of a bow-tie, repeated
 * vertices, ring orientation, clean layers and dry runs write nothing,
 * slivers merged into the neighbour with the longest shared edge, the
 * versions and the import log, the same result for any thread count, OOM.
 * Oracles: areas worked out by hand for the shapes drawn here, and GEOS
 * (om_polyops_check / om_polyops_area) on what was written back.
 */
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/qc.h"
#include "onemap/rules.h"
#include "onemap/store.h"
#include "test.h"

/* EPSG:4530 (CGCS2000 3° zone 42, zone-prefixed eastings). */
static const double OX = 42500000.0, OY = 4800000.0;

/* ---- building small layers ---- */

static int dlbm_field = -1;

static struct om_layer *new_layer(void)
{
    struct om_layer *l = NULL;
    if (om_layer_new("src", &l, NULL) != OM_OK) {
        return NULL;
    }
    om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &dlbm_field, NULL);
    om_layer_add_field(l, "N", OM_FIELD_INT, NULL, NULL);
    return l;
}

static void begin(struct om_layer *l, int64_t fid, const char *dlbm)
{
    om_layer_begin_feature(l, fid, NULL);
    om_layer_set_text(l, 0, dlbm, NULL);
    om_layer_set_int(l, 1, fid * 10, NULL);
}

/* A ring from local coordinates (offset by OX, OY), as given (no
 * closing added unless the caller repeats the first point). */
static void ring(struct om_layer *l, const double *pts, size_t n)
{
    double xy[64];
    for (size_t i = 0; i < n && i < 32; i++) {
        xy[2 * i] = pts[2 * i] + OX;
        xy[2 * i + 1] = pts[2 * i + 1] + OY;
    }
    om_layer_add_ring(l, xy, n, NULL);
}

static void rect(struct om_layer *l, double x0, double y0, double x1, double y1)
{
    double r[] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    om_layer_begin_part(l, NULL);
    ring(l, r, 5);
}

static void end(struct om_layer *l)
{
    om_layer_end_feature(l, NULL);
}

static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", test_tmpdir(), name);
    unlink(buf);
    return buf;
}

/* A new project at `name` with `l` (freed) imported as `code` v1. */
static enum om_status make_project(const char *name, const char *code,
                                   struct om_layer *l, struct om_project **out,
                                   struct om_error *err)
{
    char path[512];
    tmp_path(name, path, sizeof path);
    *out = NULL;
    enum om_status st =
        l ? om_project_create(path, "EPSG:4530", out, err) : OM_ENOMEM;
    if (st == OM_OK) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, 0, err);
    }
    if (st == OM_OK) {
        struct om_import_meta meta = {0};
        meta.code = code;
        meta.source = "/data/dltb.shp";
        meta.source_layer = "dltb";
        meta.sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef01234567"
                      "89abcdef";
        st = om_project_import(*out, l, &meta, NULL, NULL, err);
    }
    om_layer_free(l);
    if (st != OM_OK) {
        om_project_close(*out);
        *out = NULL;
    }
    return st;
}

static size_t nversions(struct om_project *p)
{
    struct om_layer_record *r = NULL;
    size_t n = 0;
    if (om_project_layers(p, true, &r, &n, NULL) != OM_OK) {
        return (size_t)-1;
    }
    om_layer_records_free(r, n);
    return n;
}

static int current_version(struct om_project *p, const char *code)
{
    struct om_layer_record rec;
    if (om_project_layer_record(p, code, 0, &rec, NULL) != OM_OK) {
        return -1;
    }
    int v = rec.version;
    om_layer_record_deinit(&rec);
    return v;
}

/* Twice the signed area of ring r of view v (local to its first point). */
static double signed_area2(const struct om_layer_view *v, size_t r)
{
    const double *xy = v->xy + 2 * v->point_start[r];
    size_t n = v->point_start[r + 1] - v->point_start[r];
    double s = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        s += (xy[2 * i] - xy[0]) * (xy[2 * i + 3] - xy[1]) -
             (xy[2 * i + 2] - xy[0]) * (xy[2 * i + 1] - xy[1]);
    }
    return s;
}

/* GEOS area and validity of feature `fid` of l. */
static int geos_area(const struct om_layer *l, int64_t fid, double *area,
                     bool *valid)
{
    size_t f = om_layer_find_fid(l, fid);
    if (f == (size_t)-1) {
        return -1;
    }
    struct om_polyops *g = NULL;
    if (om_polyops_new(&g, NULL) != OM_OK) {
        return -1;
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om_validity val;
    int rc = om_polyops_area(g, &v, f, area, NULL) == OM_OK &&
                     om_polyops_check(g, &v, f, &val, NULL) == OM_OK
                 ? 0
                 : -1;
    *valid = val.is_valid;
    om_polyops_free(g);
    return rc;
}

/* fid 1 bow-tie, fid 2 a clean square; fid 3 with repeated vertices. */
static struct om_layer *sample_layer(void)
{
    struct om_layer *l = new_layer();
    if (!l) {
        return NULL;
    }
    begin(l, 1, "0101");
    double bow[] = {0, 0, 10, 10, 10, 0, 0, 10, 0, 0};
    om_layer_begin_part(l, NULL);
    ring(l, bow, 5);
    end(l);
    begin(l, 2, "0201");
    rect(l, 20, 0, 30, 10);
    end(l);
    begin(l, 3, "0301");
    double rep[] = {40, 0, 40, 0, 50, 0, 50, 10, 50, 10, 50, 10, 40, 10, 40, 0};
    om_layer_begin_part(l, NULL);
    ring(l, rep, 8);
    end(l);
    return l;
}

/* ---- tests ---- */

TEST(test_bowtie_and_repeated)
{
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("bowtie.gpkg", "DLTB", sample_layer(), &p, &err),
             &err);
    struct om_qc_repair_options opt = {0};
    struct om_qc_repair_result *res = NULL;
    CHECK_OK(om_qc_repair(p, "dltb", &opt, &res, NULL, &err), &err);
    CHECK_STR(res->layer, "DLTB");
    CHECK_INT(res->version_from, 1);
    CHECK_INT(res->version_to, 2);
    CHECK_INT(res->nchanges, 2);
    CHECK_INT(res->nremaining, 0);
    /* fid 1: MakeValid into two triangles of 25 m² each (the bow-tie's
     * lobes cancel in the shoelace area before) */
    CHECK_INT(res->changes[0].fid, 1);
    CHECK_STR(res->changes[0].code, "G001");
    CHECK_CONTAINS(res->changes[0].action, "MakeValid: 2 polygons");
    CHECK_CONTAINS(res->changes[0].action, "Self-intersection");
    CHECK_NEAR(res->changes[0].area_before_m2, 0.0, 0, 1e-9);
    CHECK_NEAR(res->changes[0].area_after_m2, 50.0, 1e-12, 1e-9);
    CHECK_INT(res->changes[0].merged_into, -1);
    /* fid 3: three repeated vertices dropped, area unchanged */
    CHECK_INT(res->changes[1].fid, 3);
    CHECK_STR(res->changes[1].code, "G002");
    CHECK_STR(res->changes[1].action, "removed 3 repeated vertices");
    CHECK_NEAR(res->changes[1].area_before_m2, 100.0, 1e-12, 1e-9);
    CHECK_NEAR(res->changes[1].area_after_m2, 100.0, 1e-12, 1e-9);
    CHECK_NEAR(res->area_before_m2, 200.0, 1e-12, 1e-9);
    CHECK_NEAR(res->area_after_m2, 250.0, 1e-12, 1e-9);
    om_qc_repair_result_free(res);

    /* the new version is current; GEOS finds it valid */
    CHECK_INT(current_version(p, "DLTB"), 2);
    struct om_layer *l = NULL;
    CHECK_OK(om_project_read(p, "DLTB", 0, &l, NULL, &err), &err);
    CHECK_INT(om_layer_nfeatures(l), 3);
    double a = 0;
    bool valid = false;
    CHECK(geos_area(l, 1, &a, &valid) == 0);
    CHECK(valid);
    CHECK_NEAR(a, 50.0, 1e-12, 1e-9);
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t f1 = om_layer_find_fid(l, 1);
    CHECK_INT(v.part_start[f1 + 1] - v.part_start[f1], 2);
    CHECK(v.flags[f1] & OM_FEAT_REPAIRED);
    size_t f3 = om_layer_find_fid(l, 3);
    size_t r3 = v.ring_start[v.part_start[f3]];
    CHECK_INT(v.point_start[r3 + 1] - v.point_start[r3], 5);
    CHECK(geos_area(l, 3, &a, &valid) == 0);
    CHECK(valid);
    CHECK_NEAR(a, 100.0, 1e-12, 1e-9);
    /* fid 2 copied unchanged, attributes kept everywhere */
    size_t f2 = om_layer_find_fid(l, 2);
    size_t r2 = v.ring_start[v.part_start[f2]];
    CHECK_INT(v.point_start[r2 + 1] - v.point_start[r2], 5);
    CHECK(v.xy[2 * v.point_start[r2]] == OX + 20);
    CHECK(v.xy[2 * v.point_start[r2] + 1] == OY + 0);
    CHECK(!(v.flags[f2] & OM_FEAT_REPAIRED));
    int fd = om_layer_field_index(l, "DLBM"), fn = om_layer_field_index(l, "N");
    CHECK_STR(om_layer_get_text(l, f1, fd), "0101");
    CHECK_STR(om_layer_get_text(l, f2, fd), "0201");
    CHECK_STR(om_layer_get_text(l, f3, fd), "0301");
    CHECK_INT(om_layer_get_int(l, f3, fn), 30);
    om_layer_free(l);

    /* version 1 stays as it was: the bow-tie with its 5 points */
    CHECK_OK(om_project_read(p, "DLTB", 1, &l, NULL, &err), &err);
    om_layer_view(l, &v);
    f1 = om_layer_find_fid(l, 1);
    CHECK_INT(v.part_start[f1 + 1] - v.part_start[f1], 1);
    f3 = om_layer_find_fid(l, 3);
    r3 = v.ring_start[v.part_start[f3]];
    CHECK_INT(v.point_start[r3 + 1] - v.point_start[r3], 8);
    om_layer_free(l);

    /* the import log and the catalogue name the repair */
    struct om_import_log_entry *log = NULL;
    size_t nlog = 0;
    CHECK_OK(om_project_import_log(p, "DLTB", &log, &nlog, &err), &err);
    CHECK_INT(nlog, 2);
    CHECK_INT(log[1].version, 2);
    CHECK_STR(log[1].source, "repair of DLTB v1");
    om_import_log_free(log, nlog);
    struct om_layer_record rec;
    CHECK_OK(om_project_layer_record(p, "DLTB", 2, &rec, &err), &err);
    CHECK_STR(rec.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0"
                          "123456789abcdef");
    CHECK_CONTAINS(rec.params, "\"repair\": true");
    CHECK_CONTAINS(rec.params, "\"changes\": 2");
    CHECK_INT(rec.nfeatures, 3);
    om_layer_record_deinit(&rec);
    struct om_feature_issue *is = NULL;
    size_t nis = 0;
    CHECK_OK(om_project_issues(p, "DLTB", 2, &is, &nis, &err), &err);
    CHECK_INT(nis, 2);
    CHECK_INT(is[0].fid, 1);
    CHECK_STR(is[0].kind, "repaired");
    CHECK_CONTAINS(is[0].reason, "MakeValid: 2 polygons");
    CHECK_INT(is[1].fid, 3);
    CHECK_STR(is[1].reason, "removed 3 repeated vertices");
    om_feature_issues_free(is, nis);

    /* repairing again: nothing left to do, no version 3 */
    CHECK_OK(om_qc_repair(p, "DLTB", NULL, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 0);
    CHECK_INT(res->version_from, 2);
    CHECK_INT(res->version_to, 0);
    om_qc_repair_result_free(res);
    CHECK_INT(nversions(p), 2);
    om_project_close(p);
}

TEST(test_orientation)
{
    struct om_layer *l = new_layer();
    CHECK(l);
    /* fid 5: a clockwise shell */
    begin(l, 5, "0101");
    double cw[] = {0, 0, 0, 10, 10, 10, 10, 0, 0, 0};
    om_layer_begin_part(l, NULL);
    ring(l, cw, 5);
    end(l);
    /* fid 6: a CCW shell with a CCW hole */
    begin(l, 6, "0102");
    rect(l, 20, 0, 40, 20);
    double hole[] = {25, 5, 35, 5, 35, 15, 25, 15, 25, 5};
    ring(l, hole, 5);
    end(l);
    /* fid 7: right already */
    begin(l, 7, "0103");
    rect(l, 50, 0, 60, 10);
    end(l);
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("orient.gpkg", "DLTB", l, &p, &err), &err);
    struct om_qc_repair_result *res = NULL;
    CHECK_OK(om_qc_repair(p, "DLTB", NULL, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 2);
    CHECK_INT(res->changes[0].fid, 5);
    CHECK_STR(res->changes[0].code, "G007");
    CHECK_CONTAINS(res->changes[0].action, "reoriented 1 ring");
    CHECK_NEAR(res->changes[0].area_after_m2, 100.0, 1e-12, 1e-9);
    CHECK_INT(res->changes[1].fid, 6);
    CHECK_STR(res->changes[1].code, "G007");
    CHECK_NEAR(res->changes[1].area_before_m2, 300.0, 1e-12, 1e-9);
    CHECK_INT(res->version_to, 2);
    om_qc_repair_result_free(res);
    CHECK_OK(om_project_read(p, "DLTB", 0, &l, NULL, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t f5 = om_layer_find_fid(l, 5), f6 = om_layer_find_fid(l, 6);
    CHECK(signed_area2(&v, v.ring_start[v.part_start[f5]]) > 0);
    CHECK(signed_area2(&v, v.ring_start[v.part_start[f6]]) > 0);
    CHECK(signed_area2(&v, v.ring_start[v.part_start[f6]] + 1) < 0);
    double a = 0;
    bool valid = false;
    CHECK(geos_area(l, 6, &a, &valid) == 0);
    CHECK(valid);
    CHECK_NEAR(a, 300.0, 1e-12, 1e-9);
    om_layer_free(l);
    om_project_close(p);
}

TEST(test_clean_and_dry_run)
{
    struct om_layer *l = new_layer();
    CHECK(l);
    for (int i = 0; i < 5; i++) {
        begin(l, i + 1, "0101");
        rect(l, 10.0 * i, 0, 10.0 * i + 10, 10);
        end(l);
    }
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("clean.gpkg", "DLTB", l, &p, &err), &err);
    struct om_qc_repair_result *res = NULL;
    CHECK_OK(om_qc_repair(p, "DLTB", NULL, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 0);
    CHECK_INT(res->version_to, 0);
    CHECK_NEAR(res->area_before_m2, 500.0, 1e-12, 1e-9);
    CHECK_NEAR(res->area_after_m2, 500.0, 1e-12, 1e-9);
    om_qc_repair_result_free(res);
    CHECK_INT(nversions(p), 1);
    om_project_close(p);

    /* dry run: listed, nothing written */
    CHECK_OK(make_project("dry.gpkg", "DLTB", sample_layer(), &p, &err), &err);
    struct om_qc_repair_options opt = {0};
    opt.dry_run = true;
    CHECK_OK(om_qc_repair(p, "DLTB", &opt, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 2);
    CHECK_INT(res->version_to, 0);
    CHECK_NEAR(res->area_after_m2, 250.0, 1e-12, 1e-9);
    om_qc_repair_result_free(res);
    CHECK_INT(nversions(p), 1);
    struct om_import_log_entry *log = NULL;
    size_t nlog = 0;
    CHECK_OK(om_project_import_log(p, NULL, &log, &nlog, &err), &err);
    CHECK_INT(nlog, 1);
    om_import_log_free(log, nlog);

    /* errors */
    CHECK_STATUS(om_qc_repair(p, "NOPE", NULL, &res, NULL, &err), OM_ENOTFOUND);
    CHECK(res == NULL);
    CHECK_CONTAINS(err.msg, "NOPE");
    om_project_close(p);
}

/*
 * A coverage: A = [0,100]², B = [100,110]×[0.05,100] and the sliver
 * S = [100,110]×[0,0.05] (0.5 m²) between them: S shares 0.05 m with A
 * (fid 1) and 10 m with B (fid 3), so it goes to B although A has the
 * smaller fid. fid 4 is a lone 0.25 m² square: no neighbour, it stays.
 */
static struct om_layer *sliver_layer(void)
{
    struct om_layer *l = new_layer();
    if (!l) {
        return NULL;
    }
    begin(l, 1, "0101");
    double a[] = {0, 0, 100, 0, 100, 0.05, 100, 100, 0, 100, 0, 0};
    om_layer_begin_part(l, NULL);
    ring(l, a, 6);
    end(l);
    begin(l, 2, "9999");
    rect(l, 100, 0, 110, 0.05);
    end(l);
    begin(l, 3, "0301");
    rect(l, 100, 0.05, 110, 100);
    end(l);
    begin(l, 4, "0401");
    rect(l, 500, 500, 500.5, 500.5);
    end(l);
    return l;
}

TEST(test_merge_slivers)
{
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("sliver.gpkg", "DLTB", sliver_layer(), &p, &err),
             &err);
    /* without merge_slivers: nothing to do */
    struct om_qc_repair_result *res = NULL;
    CHECK_OK(om_qc_repair(p, "DLTB", NULL, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 0);
    om_qc_repair_result_free(res);

    struct om_qc_repair_options opt = {0};
    opt.merge_slivers = true;
    CHECK_OK(om_qc_repair(p, "DLTB", &opt, &res, NULL, &err), &err);
    CHECK_INT(res->nchanges, 1);
    CHECK_INT(res->changes[0].fid, 2);
    CHECK_STR(res->changes[0].code, "T003");
    CHECK_INT(res->changes[0].merged_into, 3);
    CHECK_CONTAINS(res->changes[0].action, "merged into fid 3");
    /* 0.05 m above OY as stored in a double */
    double h = (OY + 0.05) - OY;
    CHECK_NEAR(res->changes[0].area_before_m2, 10.0 * h, 1e-12, 1e-15);
    CHECK_INT(res->nremaining, 1); /* the lone fid 4 */
    /* 10000 + 0.5 + 999.5 + 0.25 (the 0.5 is 10 h: the sliver and fid 3
     * together are exactly 1000) */
    CHECK_NEAR(res->area_before_m2, 11000.25, 0, 1e-9);
    CHECK_NEAR(res->area_after_m2, 11000.25, 0, 1e-9);
    CHECK_INT(res->version_to, 2);
    om_qc_repair_result_free(res);

    struct om_layer *l = NULL;
    CHECK_OK(om_project_read(p, "DLTB", 0, &l, NULL, &err), &err);
    CHECK_INT(om_layer_nfeatures(l), 3);
    CHECK(om_layer_find_fid(l, 2) == (size_t)-1);
    double a = 0, total = 0;
    bool valid = false;
    CHECK(geos_area(l, 3, &a, &valid) == 0);
    CHECK(valid);
    CHECK_NEAR(a, 1000.0, 0, 1e-9);
    total += a;
    CHECK(geos_area(l, 1, &a, &valid) == 0);
    CHECK_NEAR(a, 10000.0, 0, 1e-9);
    total += a;
    CHECK(geos_area(l, 4, &a, &valid) == 0);
    total += a;
    CHECK_NEAR(total, 11000.25, 0, 1e-9);
    size_t f3 = om_layer_find_fid(l, 3);
    CHECK_STR(om_layer_get_text(l, f3, om_layer_field_index(l, "DLBM")),
              "0301");
    struct om_layer_view v;
    om_layer_view(l, &v);
    CHECK_INT(v.part_start[f3 + 1] - v.part_start[f3], 1);
    struct om_rect b = v.bbox[f3];
    CHECK_NEAR(b.miny, OY, 0, 1e-9);
    CHECK_NEAR(b.maxy, OY + 100, 0, 1e-9);
    om_layer_free(l);

    /* version 1 still has the sliver */
    CHECK_OK(om_project_read(p, "DLTB", 1, &l, NULL, &err), &err);
    CHECK_INT(om_layer_nfeatures(l), 4);
    om_layer_free(l);
    struct om_layer_record rec;
    CHECK_OK(om_project_layer_record(p, "DLTB", 0, &rec, &err), &err);
    CHECK_INT(rec.version, 2);
    CHECK_CONTAINS(rec.params, "\"merge_slivers\": true");
    om_layer_record_deinit(&rec);
    om_project_close(p);

    /* only coverage layers (qc.coverage of the built-in rules: DLTB,
     * XZQ) */
    CHECK_OK(make_project("sliver2.gpkg", "GHYT", sliver_layer(), &p, &err),
             &err);
    CHECK_STATUS(om_qc_repair(p, "GHYT", &opt, &res, NULL, &err), OM_EINVAL);
    CHECK(res == NULL);
    CHECK_CONTAINS(err.msg, "coverage");
    CHECK_INT(nversions(p), 1);
    om_project_close(p);
}

/* The thresholds and coverage layers come from the rule file's qc:. */
TEST(test_rules_thresholds)
{
    static const char strict[] = "version: 1\n"
                                 "qc:\n"
                                 "  thresholds:\n"
                                 "    sliver_area: 0.1\n"
                                 "    sliver_width: 0.01\n"
                                 "  coverage: [DLTB, GHYT]\n";
    struct om_error err;
    struct om_rules *rules = NULL;
    CHECK_OK(
        om_rules_parse(strict, sizeof strict - 1, "strict.yaml", &rules, &err),
        &err);
    struct om_project *p = NULL;
    enum om_status st =
        make_project("rules.gpkg", "GHYT", sliver_layer(), &p, &err);
    if (st != OM_OK) {
        om_rules_free(rules);
        CHECK_OK(st, &err);
    }
    struct om_qc_repair_options opt = {0};
    opt.merge_slivers = true;
    opt.rules = rules;
    struct om_qc_repair_result *res = NULL;
    /* GHYT is a coverage layer here; the 0.5 m² strip (2A/P 0.0498 m) is
     * no sliver under 0.1 m² / 0.01 m, nor the 0.25 m² square (0.125 m) */
    st = om_qc_repair(p, "GHYT", &opt, &res, NULL, &err);
    size_t nchanges = res ? res->nchanges : 99,
           nrem = res ? res->nremaining : 99;
    om_qc_repair_result_free(res);
    res = NULL;
    om_rules_free(rules);
    rules = NULL;
    static const char loose[] = "version: 1\n"
                                "qc:\n"
                                "  thresholds:\n"
                                "    sliver_width: 0.2\n"
                                "  coverage: [GHYT]\n";
    enum om_status st2 =
        om_rules_parse(loose, sizeof loose - 1, "loose.yaml", &rules, &err);
    opt.rules = rules;
    /* width 0.2 m: the lone square (2A/P = 0.125 m) is a sliver now, but
     * has no neighbour */
    if (st == OM_OK && st2 == OM_OK) {
        st2 = om_qc_repair(p, "GHYT", &opt, &res, NULL, &err);
    }
    om_rules_free(rules);
    om_project_close(p);
    CHECK_OK(st, &err);
    CHECK_INT(nchanges, 0);
    CHECK_INT(nrem, 0);
    CHECK_OK(st2, &err);
    size_t n2 = res->nchanges, rem2 = res->nremaining;
    int64_t into = n2 ? res->changes[0].merged_into : -1;
    om_qc_repair_result_free(res);
    CHECK_INT(n2, 1);
    CHECK_INT(into, 3);
    CHECK_INT(rem2, 1);
}

/* A grid of 40 × 30 squares, every 7th a bow-tie, every 5th clockwise,
 * every 11th with a repeated vertex; thin strips as slivers. */
static struct om_layer *grid_layer(void)
{
    struct om_layer *l = new_layer();
    if (!l) {
        return NULL;
    }
    int64_t fid = 1;
    for (int j = 0; j < 30; j++) {
        for (int i = 0; i < 40; i++, fid++) {
            double x = 10.0 * i, y = 10.0 * j;
            begin(l, fid, "0101");
            om_layer_begin_part(l, NULL);
            if (fid % 7 == 0) {
                double bow[] = {x, y, x + 10, y + 10, x + 10,
                                y, x, y + 10, x,      y};
                ring(l, bow, 5);
            } else if (fid % 5 == 0) {
                double cw[] = {x,      y,      x, y + 10, x + 10,
                               y + 10, x + 10, y, x,      y};
                ring(l, cw, 5);
            } else if (fid % 11 == 0) {
                double rep[] = {x,      y,      x + 10, y,      x + 10, y,
                                x + 10, y + 10, x,      y + 10, x,      y};
                ring(l, rep, 6);
            } else if (fid % 13 == 0) {
                /* a strip 0.04 m high along the bottom, the rest above */
                double s[] = {x,        y, x + 10,   y, x + 10,
                              y + 0.04, x, y + 0.04, x, y};
                ring(l, s, 5);
                end(l);
                begin(l, 100000 + fid, "0102");
                om_layer_begin_part(l, NULL);
                double t[] = {x,      y + 0.04, x + 10, y + 0.04, x + 10,
                              y + 10, x,        y + 10, x,        y + 0.04};
                ring(l, t, 5);
            } else {
                double sq[] = {x,      y, x + 10, y, x + 10,
                               y + 10, x, y + 10, x, y};
                ring(l, sq, 5);
            }
            end(l);
        }
    }
    return l;
}

static bool same_changes(const struct om_qc_repair_result *a,
                         const struct om_qc_repair_result *b)
{
    if (a->nchanges != b->nchanges || a->nremaining != b->nremaining ||
        a->area_after_m2 != b->area_after_m2) {
        return false;
    }
    for (size_t i = 0; i < a->nchanges; i++) {
        const struct om_qc_change *x = &a->changes[i], *y = &b->changes[i];
        if (x->fid != y->fid || strcmp(x->code, y->code) != 0 ||
            strcmp(x->action, y->action) != 0 ||
            x->area_after_m2 != y->area_after_m2 ||
            x->merged_into != y->merged_into) {
            return false;
        }
    }
    return true;
}

TEST(test_threads_deterministic)
{
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("grid.gpkg", "DLTB", grid_layer(), &p, &err), &err);
    struct om_qc_repair_options opt = {0};
    opt.dry_run = true;
    opt.merge_slivers = true;
    opt.threads = 1;
    struct om_qc_repair_result *r1 = NULL, *r4 = NULL, *r0 = NULL;
    CHECK_OK(om_qc_repair(p, "DLTB", &opt, &r1, NULL, &err), &err);
    opt.threads = 4;
    CHECK_OK(om_qc_repair(p, "DLTB", &opt, &r4, NULL, &err), &err);
    opt.threads = 0;
    CHECK_OK(om_qc_repair(p, "DLTB", &opt, &r0, NULL, &err), &err);
    bool same = same_changes(r1, r4) && same_changes(r1, r0);
    /* 1200 cells: bow-ties 171, clockwise (not bow-tie) 206, repeated
     * vertex (neither) 70, strips 55 (neither of those) */
    size_t ng001 = 0, ng007 = 0, ng002 = 0, nt003 = 0;
    for (size_t i = 0; i < r1->nchanges; i++) {
        const char *c = r1->changes[i].code;
        ng001 += strcmp(c, "G001") == 0;
        ng007 += strcmp(c, "G007") == 0;
        ng002 += strcmp(c, "G002") == 0;
        nt003 += strcmp(c, "T003") == 0;
    }
    size_t want[4] = {0, 0, 0, 0};
    for (int fid = 1; fid <= 1200; fid++) {
        if (fid % 7 == 0) {
            want[0]++;
        } else if (fid % 5 == 0) {
            want[1]++;
        } else if (fid % 11 == 0) {
            want[2]++;
        } else if (fid % 13 == 0) {
            want[3]++;
        }
    }
    double before = r1->area_before_m2, after = r1->area_after_m2;
    om_qc_repair_result_free(r1);
    om_qc_repair_result_free(r4);
    om_qc_repair_result_free(r0);
    om_project_close(p);
    CHECK(same);
    CHECK_INT(ng001, want[0]);
    CHECK_INT(ng007, want[1]);
    CHECK_INT(ng002, want[2]);
    CHECK_INT(nt003, want[3]);
    /* bow-ties count 0 before and 50 after each */
    double cells = 1200.0 - (double)want[0];
    CHECK_NEAR(before, cells * 100.0, 1e-12, 1e-6);
    CHECK_NEAR(after, cells * 100.0 + (double)want[0] * 50.0, 1e-12, 1e-6);
}

TEST(test_oom)
{
    int nomem = 0, other = 0, ok = 0;
    for (int k = 0; k < 20000 && !ok; k += 1 + k / 25) {
        struct om_project *p = NULL;
        struct om_error err;
        enum om_status st =
            make_project("oom.gpkg", "DLTB", sliver_layer(), &p, &err);
        if (st != OM_OK) {
            CHECK_OK(st, &err);
        }
        struct om_qc_repair_options opt = {0};
        opt.merge_slivers = true;
        opt.threads = 2;
        struct om_qc_repair_result *res = NULL;
        test_fail_allocs_after(k);
        st = om_qc_repair(p, "DLTB", &opt, &res, NULL, &err);
        test_fail_allocs_after(-1);
        size_t nv = nversions(p);
        if (st == OM_OK) {
            ok = 1;
            if (res->nchanges != 1 || res->version_to != 2 || nv != 2) {
                other++;
            }
            om_qc_repair_result_free(res);
        } else if (st == OM_ENOMEM && res == NULL && nv == 1) {
            nomem++;
        } else {
            printf("  k=%d: %s %s (versions %zu)\n", k, om_status_name(st),
                   err.msg, nv);
            other++;
            om_qc_repair_result_free(res);
        }
        om_project_close(p);
    }
    CHECK_INT(other, 0);
    CHECK(ok);
    CHECK(nomem > 20);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc_repair.c");
    RUN(test_bowtie_and_repeated);
    RUN(test_orientation);
    RUN(test_clean_and_dry_run);
    RUN(test_merge_slivers);
    RUN(test_rules_thresholds);
    RUN(test_threads_deterministic);
    RUN(test_oom);
    TEST_MAIN_END();
}
