/*
 * io_int.h — what the two GDAL writers share: om_layer_write
 * (gdal_write.c, one layer in one go) and the streaming om_writer
 * (gdal_stream.c, chunk by chunk). Output driver choice, replacing and
 * removing an output, and turning one om_layer feature into OGR geometry
 * and field values. Only src/io/ includes this.
 */
#ifndef ONEMAP_IO_INT_H
#define ONEMAP_IO_INT_H

#include "io/gdal_bridge.h"
#include "onemap/layer.h"

#include <stdbool.h>

/*
 * The GDAL driver writing `path`: the driver named `format`, else the one
 * of the extension (.gpkg GPKG, .geojson/.json GeoJSON, .shp ESRI
 * Shapefile, .fgb FlatGeobuf, .gdb OpenFileGDB, .csv CSV, .kml KML,
 * .geojsonl/.geojsons GeoJSONSeq). *drv_name is GDAL's short name (static).
 * OM_EFORMAT naming the extension or the driver when there is none, or it
 * cannot create vector datasets.
 */
enum om_status om__io_output_driver(const char *path, const char *format,
                                    GDALDriverH *drv, const char **drv_name,
                                    struct om_error *err);

/* Whether anything (file or folder) exists at `path`. */
bool om__io_path_exists(const char *path);

/*
 * Remove a dataset we created or are replacing: through the driver (a
 * shapefile goes with its .dbf/.shx/.prj/.cpg), else the file; a folder
 * only when it is a FileGDB (.gdb). Diagnostics are swallowed.
 */
void om__io_remove_output(GDALDriverH drv, const char *path);

/*
 * Make room for a new output at `path`: OM_OK when nothing is there;
 * OM_EEXIST when something is and !overwrite; else remove it (OM_EIO when
 * that fails).
 */
enum om_status om__io_clear_output(GDALDriverH drv, const char *path,
                                   bool overwrite, struct om_error *err);

/*
 * Feature `f` of view `v` as a new OGR MultiPolygon (coordinates copied
 * bit for bit; OGR_G_DestroyGeometry), NULL when GDAL is out of memory.
 * The feature must have at least one part.
 */
OGRGeometryH om__io_make_geometry(const struct om_layer_view *v, size_t f);

/*
 * Set the attribute values of feature `f` of `l` on `feat`: column i goes
 * to OGR field field0 + i, NULL values are set NULL.
 */
void om__io_set_fields(OGRFeatureH feat, const struct om_layer *l, size_t f,
                       int field0);

#endif
