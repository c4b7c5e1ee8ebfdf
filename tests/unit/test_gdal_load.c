/*
 * test_gdal_load.c — GDAL is loaded when first used (src/io/gdal_bridge.c):
 * when it cannot be, every entry point that needs it fails with OM_EIO
 * naming the library and the file at hand, and nothing crashes; a
 * project is created and opened without GDAL.
 */
#include "io/gdal_bridge.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/store.h"
#include "test.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

TEST(test_missing_gdal)
{
    om__gdal_soname = "libonemap-test-no-such-gdal.so.0";
    const char *dir = test_tmpdir();
    char shp[300], gpkg[300], wkt[300];
    snprintf(shp, sizeof shp, "%s/in.shp", dir);
    snprintf(gpkg, sizeof gpkg, "%s/p.gpkg", dir);
    snprintf(wkt, sizeof wkt, "%s/in.wkt", dir);
    FILE *f = fopen(wkt, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("POLYGON((0 0,1 0,1 1,0 0))\n", f);
        fclose(f);
    }
    struct om_error err;
    struct om_layer *l = (struct om_layer *)1;
    CHECK_STATUS(om_source_read(shp, NULL, &l, NULL, &err), OM_EIO);
    CHECK(l == NULL);
    CHECK_CONTAINS(err.msg, "cannot load GDAL (libonemap-test-no-such-gdal");
    CHECK_STR(err.source, shp);
    l = (struct om_layer *)1;
    CHECK_STATUS(om_source_read(wkt, NULL, &l, NULL, &err), OM_EIO);
    CHECK(l == NULL);
    CHECK_STR(om_io_gdal_version(), "unavailable");
    /* a project and its GeoPackage reader work without GDAL */
    struct om_project *p = NULL;
    CHECK_OK(om_project_create(gpkg, "EPSG:4530", &p, &err), &err);
    struct om_layer *src = NULL;
    CHECK_OK(om_layer_new("SQ", &src, &err), &err);
    double ring[] = {500000, 4000000, 500010, 4000000,
                     500010, 4000010, 500000, 4000000};
    CHECK_OK(om_layer_begin_feature(src, 1, &err), &err);
    CHECK_OK(om_layer_begin_part(src, &err), &err);
    CHECK_OK(om_layer_add_ring(src, ring, 4, &err), &err);
    CHECK_OK(om_layer_end_feature(src, &err), &err);
    CHECK_OK(om_layer_finish(src, 0, &err), &err);
    CHECK_STATUS(om_layer_write(src, shp, NULL, NULL, &err), OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot load GDAL");
    struct om_writer *w = NULL;
    CHECK_STATUS(om_writer_open(shp, NULL, &w, &err), OM_EIO);
    CHECK(w == NULL);
    om_project_close(p);
    p = NULL;
    CHECK_OK(om_project_open(gpkg, false, &p, &err), &err);
    om_project_close(p);
    om_layer_free(src);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_gdal_load");
    RUN(test_missing_gdal);
    TEST_MAIN_END();
}
