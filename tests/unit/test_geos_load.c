/*
 * test_geos_load.c — GEOS is loaded when first needed (src/geom/geos.c):
 * what needs no GEOS (a validity check proven by the exact pre-check, an
 * import of valid data) works without it, and when it cannot be loaded,
 * every operation that needs it fails with OM_EIO naming the library, and
 * nothing crashes. The library's loading of GEOS is pointed at a library
 * that does not exist before its first GEOS call.
 */
#include "geom/polyops_int.h"
#include "geom/setops.h"
#include "onemap/import.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/store.h"
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Feature 1 a square; feature 2 (with_bow) a bow tie (invalid: GEOS must
 * say why). */
static struct om_layer *features(bool with_bow)
{
    struct om_error err;
    struct om_layer *l = NULL;
    double sq[] = {500000,  4000000, 500010,  4000000, 500010,
                   4000010, 500000,  4000010, 500000,  4000000};
    double bow[] = {500020,  4000000, 500030,  4000010, 500030,
                    4000000, 500020,  4000010, 500020,  4000000};
    bool ok = om_layer_new("T", &l, &err) == OM_OK &&
              om_layer_set_crs(l, "EPSG:4530", &err) == OM_OK &&
              om_layer_begin_feature(l, 1, &err) == OM_OK &&
              om_layer_begin_part(l, &err) == OM_OK &&
              om_layer_add_ring(l, sq, 5, &err) == OM_OK &&
              om_layer_end_feature(l, &err) == OM_OK;
    if (ok && with_bow) {
        ok = om_layer_begin_feature(l, 2, &err) == OM_OK &&
             om_layer_begin_part(l, &err) == OM_OK &&
             om_layer_add_ring(l, bow, 5, &err) == OM_OK &&
             om_layer_end_feature(l, &err) == OM_OK;
    }
    ok = ok && om_layer_finish(l, 0, &err) == OM_OK;
    if (!ok) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

TEST(test_missing_geos)
{
    om__geos_soname = "libonemap-test-no-such-geos.so.0";
    struct om_error err;
    struct om_layer *l = features(true);
    CHECK(l != NULL);
    if (!l) {
        return;
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t sq = om_layer_find_fid(l, 1);
    size_t bow = om_layer_find_fid(l, 2);
    /* a context is made without GEOS; the square is proven valid without */
    struct om_polyops *ops = NULL;
    CHECK_OK(om_polyops_new(&ops, &err), &err);
    struct om_validity val;
    CHECK_OK(om_polyops_check(ops, &v, sq, &val, &err), &err);
    CHECK(val.is_valid);
    /* the bow tie needs GEOS's verdict */
    CHECK_STATUS(om_polyops_check(ops, &v, bow, &val, &err), OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot load GEOS (libonemap-test-no-such-geos");
    double area = 0;
    CHECK_STATUS(om_polyops_area(ops, &v, sq, &area, &err), OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot load GEOS");
    struct om_prepared *prep = NULL;
    CHECK_STATUS(om_polyops_prepare(ops, &v, sq, &prep, &err), OM_EIO);
    CHECK(prep == NULL);
    om_polyops_free(ops);
    struct om__setops *gx = NULL;
    CHECK_STATUS(om__setops_new(&gx, &err), OM_EIO);
    CHECK(gx == NULL);
    CHECK_STR(om_polyops_geos_version(), "unavailable");

    om_layer_free(l);
}

/* A GeoPackage `path` holding `l` as table <code>_v1. */
static bool write_source(const char *path, const char *code, struct om_layer *l)
{
    struct om_error err;
    struct om_project *s = NULL;
    struct om_import_meta meta = {0};
    meta.code = code;
    bool ok = l && om_project_create(path, "EPSG:4530", &s, &err) == OM_OK &&
              om_project_import(s, l, &meta, NULL, NULL, &err) == OM_OK;
    if (!ok) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
    }
    om_project_close(s);
    om_layer_free(l);
    return ok;
}

/* An import of valid data needs no GEOS; of data GEOS must judge, it
 * fails cleanly, writing nothing. (After test_missing_geos: GEOS stays
 * unloadable in this process.) */
TEST(test_import_without_geos)
{
    const char *dir = test_tmpdir();
    char good[300], bad[300], proj[300];
    snprintf(good, sizeof good, "%s/good.gpkg", dir);
    snprintf(bad, sizeof bad, "%s/bad.gpkg", dir);
    snprintf(proj, sizeof proj, "%s/p.gpkg", dir);
    CHECK(write_source(good, "SQ", features(false)));
    CHECK(write_source(bad, "ALL", features(true)));
    struct om_error err;
    struct om_project *p = NULL;
    CHECK_OK(om_project_create(proj, "EPSG:4530", &p, &err), &err);
    if (!p) {
        return;
    }
    struct om_import_options opt = {0};
    struct om_import_report rep;
    opt.code = "GOOD";
    opt.layer = "SQ_v1";
    CHECK_OK(om_import_file(p, good, &opt, &rep, NULL, &err), &err);
    CHECK(rep.nfeatures == 1 && rep.ninvalid == 0);
    opt.code = "BAD";
    opt.layer = "ALL_v1";
    CHECK_STATUS(om_import_file(p, bad, &opt, &rep, NULL, &err), OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot load GEOS");
    struct om_layer_record rec;
    CHECK_STATUS(om_project_layer_record(p, "BAD", 0, &rec, &err),
                 OM_ENOTFOUND);
    om_project_close(p);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_geos_load");
    RUN(test_missing_geos);
    RUN(test_import_without_geos);
    TEST_MAIN_END();
}
