/*
 * onemap/io.h — the GDAL/OGR bridge: read polygon layers from any GIS
 * format GDAL knows (Shapefile, FileGDB, GeoPackage, GeoJSON, TopoJSON,
 * FlatGeobuf, KML, DXF, CSV with WKT) into an om_layer, and write an
 * om_layer to GIS formats.
 *
 * Coordinates are always x = easting/longitude, y = northing/latitude
 * (traditional GIS order) on both sides, whatever the official axis order
 * of the CRS (EPSG:4490 and EPSG:4326 are lat,lon officially).
 *
 * GDAL diagnostics never reach stderr: they are captured and turned into
 * the om_error message, which names the file, the layer and the feature.
 *
 * Thread safety: the functions may be called from several threads at once
 * on different files (GDAL's own thread-safety rules apply: one dataset is
 * used by one thread only, which is what these functions do).
 */
#ifndef ONEMAP_IO_H
#define ONEMAP_IO_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_read_options {
    /*
     * Source layer name (FileGDB, GPKG, DXF, KML with several). NULL = the
     * only polygon layer; when there are several, OM_EINVAL with a message
     * listing them. A name that does not exist: OM_ENOTFOUND listing the
     * layers.
     */
    const char *layer;
    /*
     * Text encoding of DBF/CSV attributes, e.g. "GBK", "CP936", "UTF-8".
     * NULL = the .cpg file if any, else UTF-8. Text that is not valid UTF-8
     * after decoding gives OM_EPARSE naming the feature and the field and
     * suggesting --encoding GBK.
     */
    const char *encoding;
    /*
     * CRS to assume when the source has none (any definition PROJ/GDAL
     * accept, e.g. "EPSG:4530"). When the source has a CRS and src_crs is
     * given too, src_crs overrides it (the coordinates are not changed).
     */
    const char *src_crs;
    /* Optional OGR SQL attribute filter, e.g. "DLBM LIKE '01%'". */
    const char *where;
    /*
     * Optional output: the number of features skipped because they are
     * only points or open lines (set on success; may be NULL).
     */
    size_t *nskipped;
};

/* One layer of a source dataset, as listed by om_source_layers(). */
struct om_source_layer {
    char *name;
    char *geometry_type; /* OGR name, e.g. "Multi Polygon", "Unknown" */
    int64_t nfeatures;   /* -1 when the driver cannot count cheaply */
    char *crs;           /* "EPSG:<n>", WKT2, or NULL when none */
};

/*
 * List the layers of the dataset at `path`. On success *out is an array of
 * *n entries, freed with om_source_layers_free(). Errors: OM_EIO (cannot
 * open), OM_EFORMAT (not a GIS format GDAL recognises).
 */
enum om_status om_source_layers(const char *path, struct om_source_layer **out,
                                size_t *n, struct om_error *err);
/* Free what om_source_layers() returned. Accepts NULL. */
void om_source_layers_free(struct om_source_layer *layers, size_t n);

/*
 * Read the polygon layer of `path` (see struct om_read_options; `opt` may
 * be NULL) into a new layer in *out.
 *
 * Geometry: Polygon and MultiPolygon (any Z/M dropped, curves linearised);
 * closed LineStrings / polylines (e.g. from DXF) become polygons. Features
 * that are only points or open lines are skipped (a DXF mixes them with
 * outlines; counted in opt->nskipped); a layer with no areal feature at
 * all gives OM_EGEOM. Null/empty geometries are kept as
 * features with no parts (OM_FEAT_EMPTY). Non-finite coordinates and rings
 * with fewer than 3 distinct points are kept and flagged OM_FEAT_INVALID.
 *
 * The layer is returned UNFINISHED (om_layer_finish not called), features
 * in source order, fid = the OGR FID as GDAL gives it (0-based record
 * number for shapefiles and GeoJSON without ids, the stored fid for GPKG
 * and FileGDB, the line number for CSV). Attribute columns: OGR Integer /
 * Integer64 -> OM_FIELD_INT, Real -> OM_FIELD_REAL, everything else
 * (strings, dates as ISO text, lists) -> OM_FIELD_TEXT. Layer name = the
 * source layer name. CRS (om_layer_crs): "EPSG:<n>" when an authority code
 * is known, else WKT2. GeoJSON/TopoJSON without a crs member are
 * EPSG:4326 (lon/lat).
 *
 * A CSV with a WKT column (named WKT, geometry, geom or the_geom) is read
 * with that column as geometry; give its CRS with src_crs.
 *
 * A plain text file named *.wkt or *.ewkt holds one or more WKT
 * geometries in any layout ('#' starts a comment; ';' and ',' between
 * geometries are allowed), each optionally with an EWKT "SRID=<epsg>;"
 * prefix (all the same). Feature fids are 1, 2, ... in file order, no
 * attributes; the CRS is src_crs, else the SRID, else OM_ECRS. Malformed
 * WKT gives OM_EPARSE with err->line = the line where the geometry starts.
 *
 * Errors: OM_EIO (missing or unreadable file), OM_EFORMAT (not GIS data),
 * OM_ENOTFOUND / OM_EINVAL (layer selection), OM_EGEOM (no polygons),
 * OM_ECRS (no CRS and no src_crs: "<file>: has no coordinate reference
 * system (no .prj file); give it with --src-crs, e.g. --src-crs
 * EPSG:4530"; or an unusable src_crs), OM_EPARSE (bad encoding or a broken
 * feature), OM_ELIMIT, OM_ENOMEM, OM_ECANCELED.
 */
enum om_status om_source_read(const char *path,
                              const struct om_read_options *opt,
                              struct om_layer **out,
                              const struct om_progress *progress,
                              struct om_error *err);

struct om_write_options {
    /*
     * GDAL driver short name; NULL = from the extension: .gpkg GPKG,
     * .geojson/.json GeoJSON, .shp ESRI Shapefile, .fgb FlatGeobuf, .gdb
     * OpenFileGDB, .csv CSV (geometry as WKT), .kml KML.
     */
    const char *format;
    const char *layer_name; /* NULL = om_layer_name(layer) */
    /*
     * Shapefile DBF encoding (default "UTF-8"), e.g. "GBK" or "CP936". The
     * .cpg file always names it (GDAL's ENCODING layer option: "UTF-8",
     * "GBK", "CP936"). Text fields are as wide as their longest value;
     * text over 254 bytes gives OM_ELIMIT (use GeoPackage). Reals keep 15
     * significant digits in a DBF; field names are cut to 10 characters.
     */
    const char *encoding;
    bool overwrite;    /* replace an existing output; otherwise OM_EEXIST */
    bool append_layer; /* add a layer to an existing GPKG / FileGDB */
};

/*
 * Write `layer` (finished or not) to `path` (`opt` may be NULL) as one
 * MultiPolygon layer, features in fid order, with the layer's attributes
 * (INT columns as 32-bit integers when every value fits, else 64-bit) and
 * CRS; the source fid is kept where the format stores one (GPKG, GeoJSON;
 * FileGDB when all fids are positive) and the fids are unique. Empty
 * features get a null geometry. One transaction per file where the driver
 * has them; on any failure or cancel the partial output is removed (for
 * append_layer: the new layer is rolled back or deleted).
 *
 * Exactness: coordinates round-trip bit for bit through GPKG, GeoJSON,
 * Shapefile and FlatGeobuf; FileGDB stores them on its integer grid
 * (GDAL's default resolution, 0.0001 m for projected CRSs). Reals
 * round-trip exactly in GPKG, FlatGeobuf and FileGDB; GeoJSON may drop a
 * last-digit "noise" (GDAL writes 0.30000000000000004 as 0.3) and a DBF
 * keeps 15 significant digits. Format quirks: FlatGeobuf files get a
 * spatial index, so GDAL stores them in its own (Hilbert) order without
 * fids, and GDAL 3.6 drops features without geometry there (so a layer
 * with empty features gives OM_EGEOM); shapefiles renumber fids from 0;
 * Shapefile and FileGDB store shells clockwise; DBF numbers have no NULL
 * (read back as 0); FileGDB in GDAL 3.6 stores 64-bit integers as reals.
 *
 * Errors: OM_EEXIST (output exists and neither overwrite nor append_layer),
 * OM_EFORMAT (unknown extension or driver), OM_EIO (write failed),
 * OM_EGEOM (empty features to FlatGeobuf), OM_ELIMIT (DBF text > 254),
 * OM_ECRS (the layer CRS cannot be understood), OM_ECANCELED, OM_ENOMEM.
 */
enum om_status om_layer_write(const struct om_layer *layer, const char *path,
                              const struct om_write_options *opt,
                              const struct om_progress *progress,
                              struct om_error *err);

/*
 * Streaming output: a dataset written chunk by chunk, for outputs larger
 * than memory (the province-scale sample-data generator writes millions
 * of parcels one county at a time). One writer owns one output dataset:
 * a GeoPackage holds any number of layers, single-layer formats
 * (FlatGeobuf, Shapefile, GeoJSON) exactly one. Not thread-safe: a writer
 * is used by one thread at a time; different writers may run in
 * different threads.
 */
struct om_writer;

struct om_writer_options {
    /* GDAL driver short name; NULL = from the extension, as om_write_options */
    const char *format;
    bool overwrite; /* replace an existing output; otherwise OM_EEXIST */
    /*
     * Features per transaction where the driver has transactions (GPKG);
     * 0 = 50000. Memory stays bounded by the caller's chunk plus GDAL's
     * buffers (SQLite's page cache; FlatGeobuf keeps an index entry per
     * feature until close) plus 24 bytes per 51 GeoPackage features.
     */
    size_t batch;
};

/*
 * Create the output dataset at `path` (`opt` may be NULL). Nothing is
 * visible to other readers until om_writer_close() succeeds (the output
 * is written under its final name, but removed again on failure or
 * abort). Errors: OM_EEXIST, OM_EFORMAT (unknown extension or driver),
 * OM_EIO, OM_ENOMEM.
 */
enum om_status om_writer_open(const char *path,
                              const struct om_writer_options *opt,
                              struct om_writer **out, struct om_error *err);

/*
 * Add a MultiPolygon layer named `name` with the fields (names, types, in
 * order) and the CRS of `schema`, whose features are not written. The
 * writer cannot see the values to come, so INT fields are 64-bit
 * integers, TEXT fields have no width (a Shapefile gets 254). *index
 * (may be NULL) receives the layer's index for om_writer_add (0, 1, ...
 * in creation order). GeoPackage layers get the standard R-tree spatial
 * index (gpkg_rtree_index extension, triggers included), packed while the
 * features are written: its leaves follow the write order, so spatially
 * coherent chunks (a county at a time, finished layers in Hilbert order)
 * give a good index, any order a correct one. FlatGeobuf layers get a
 * packed Hilbert R-tree (GDAL's SPATIAL_INDEX=YES). Errors: OM_EFORMAT (a
 * second layer in a single-layer format), OM_EEXIST (a layer of that name
 * exists, names compared without case), OM_ECRS, OM_EIO, OM_ENOMEM;
 * OM_EINVAL after an earlier failure.
 */
enum om_status om_writer_add_layer(struct om_writer *w, const char *name,
                                   const struct om_layer *schema, int *index,
                                   struct om_error *err);

/*
 * Append every feature of `chunk` (finished or not), in chunk order, to
 * layer `index`. The chunk must have the schema's fields in the same order
 * with the same types (else OM_EINVAL naming the first field that
 * differs; names compared without case); its CRS is not checked. Fids are
 * kept where the format stores them: GPKG (they must be >= 0 and unique
 * over all chunks of the layer, else OM_EINVAL naming the fid) and
 * GeoJSON (fids >= 0). Empty features get a null geometry (GDAL 3.6
 * FlatGeobuf drops them: OM_EGEOM). Shapefile text over 254 bytes gives
 * OM_ELIMIT. Coordinates are written bit for bit.
 *
 * The checks that need no writing (schema, negative fids, OM_EGEOM,
 * OM_ELIMIT, a bad index) fail before anything of the chunk is written and
 * leave the writer usable. After any other error (a reused fid, OM_EIO,
 * OM_ECANCELED, OM_ENOMEM) the output is unusable: only om_writer_abort()
 * is left (other calls give OM_EINVAL; om_writer_close() also removes the
 * output). Errors: OM_EINVAL, OM_EGEOM, OM_ELIMIT, OM_EIO, OM_ECANCELED,
 * OM_ENOMEM.
 */
enum om_status om_writer_add(struct om_writer *w, int index,
                             const struct om_layer *chunk,
                             const struct om_progress *progress,
                             struct om_error *err);

/*
 * Commit, finish the spatial indexes, close the dataset and free `w` (in
 * every case). On failure the output is removed. A writer with no layer,
 * or after a failed om_writer_add / om_writer_add_layer, gives OM_EINVAL
 * (and no output). Errors: OM_EINVAL, OM_EIO, OM_ENOMEM, OM_EINTERNAL (the
 * GeoPackage R-tree did not come out whole).
 */
enum om_status om_writer_close(struct om_writer *w, struct om_error *err);

/* Close and remove the partial output; free `w`. Accepts NULL. */
void om_writer_abort(struct om_writer *w);

/* The GDAL release in use, e.g. "3.6.2". Never NULL. */
const char *om_io_gdal_version(void);

#ifdef __cplusplus
}
#endif
#endif
