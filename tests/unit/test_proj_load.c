/*
 * test_proj_load.c — PROJ is loaded when first used (src/crs/crs.c): an
 * import into a project of the source's own EPSG CRS never loads it, and
 * when it cannot be loaded, everything that needs it fails with OM_ECRS
 * naming the library, and nothing crashes.
 *
 * The projects are made in a child process (with PROJ); this process
 * then uses only the library name below, which does not exist.
 */
#include "crs/crs_int.h"
#include "onemap/import.h"
#include "onemap/layer.h"
#include "onemap/store.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A project holding one square layer SQ, in `crs`. */
static bool make_project(const char *path, const char *crs, double x0,
                         double y0)
{
    struct om_error err;
    struct om_project *p = NULL;
    struct om_layer *l = NULL;
    double ring[] = {x0, y0, x0 + 10, y0, x0 + 10, y0 + 10, x0, y0};
    bool ok = om_project_create(path, crs, &p, &err) == OM_OK &&
              om_layer_new("SQ", &l, &err) == OM_OK &&
              om_layer_set_crs(l, crs, &err) == OM_OK &&
              om_layer_begin_feature(l, 1, &err) == OM_OK &&
              om_layer_begin_part(l, &err) == OM_OK &&
              om_layer_add_ring(l, ring, 4, &err) == OM_OK &&
              om_layer_end_feature(l, &err) == OM_OK &&
              om_layer_finish(l, 0, &err) == OM_OK;
    if (ok) {
        struct om_import_meta meta = {0};
        meta.code = "SQ";
        ok = om_project_import(p, l, &meta, NULL, NULL, &err) == OM_OK;
    }
    if (!ok) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
    }
    om_layer_free(l);
    om_project_close(p);
    return ok;
}

TEST(test_missing_proj)
{
    const char *dir = test_tmpdir();
    char proj[300], same[300], other[300], fresh[300];
    snprintf(proj, sizeof proj, "%s/p.gpkg", dir);
    snprintf(same, sizeof same, "%s/same.gpkg", dir);
    snprintf(other, sizeof other, "%s/other.gpkg", dir);
    snprintf(fresh, sizeof fresh, "%s/fresh.gpkg", dir);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        bool ok = make_project(proj, "EPSG:4530", 42500000, 4000000) &&
                  make_project(same, "EPSG:4530", 42500000, 4000000) &&
                  make_project(other, "EPSG:4490", 126.0, 36.0);
        _exit(ok ? 0 : 1);
    }
    int status = -1;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    om__proj_soname = "libonemap-test-no-such-proj.so.0";
    struct om_error err;
    struct om_project *p = NULL;
    CHECK_OK(om_project_open(proj, false, &p, &err), &err);
    /* planar areas need no om_crs in a projected CRS: told without PROJ */
    CHECK(om_project_crs_is_projected(p));
    struct om_project *g = NULL;
    CHECK_OK(om_project_open(other, true, &g, &err), &err);
    CHECK(!om_project_crs_is_projected(g));
    om_project_close(g);
    /* the project's own CRS: imported without PROJ */
    struct om_import_options opt = {0};
    opt.code = "A";
    opt.layer = "SQ";
    struct om_import_report rep;
    CHECK_OK(om_import_file(p, same, &opt, &rep, NULL, &err), &err);
    CHECK(rep.nfeatures == 1);
    CHECK(!rep.reprojected);
    CHECK_STR(rep.src_crs, "EPSG:4530");
    CHECK_STR(rep.dst_crs, "EPSG:4530");
    struct om_layer *back = NULL;
    CHECK_OK(om_project_read(p, "A", 0, &back, NULL, &err), &err);
    if (back) {
        CHECK(om_layer_nfeatures(back) == 1);
        CHECK_STR(om_layer_crs(back), "EPSG:4530");
    }
    om_layer_free(back);
    /* another CRS needs PROJ: a clear error, nothing written */
    opt.code = "B";
    CHECK_STATUS(om_import_file(p, other, &opt, &rep, NULL, &err), OM_ECRS);
    CHECK_CONTAINS(err.msg, "cannot load PROJ (libonemap-test-no-such-proj");
    struct om_layer_record rec;
    CHECK_STATUS(om_project_layer_record(p, "B", 0, &rec, &err), OM_ENOTFOUND);
    om_project_close(p);
    /* every entry point into PROJ */
    struct om_crs *c = (struct om_crs *)1;
    CHECK_STATUS(om_crs_new("EPSG:4530", &c, &err), OM_ECRS);
    CHECK(c == NULL);
    CHECK_CONTAINS(err.msg, "cannot load PROJ");
    struct om_project *q = NULL;
    CHECK_STATUS(om_project_create(fresh, "EPSG:4530", &q, &err), OM_ECRS);
    CHECK(q == NULL);
    CHECK_CONTAINS(err.msg, "cannot load PROJ");
    CHECK(access(fresh, F_OK) != 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_proj_load");
    RUN(test_missing_proj);
    TEST_MAIN_END();
}
