/*
 * gdal_write.c — writing an om_layer to a GIS file through OGR
 * (om_layer_write): driver choice from the extension, schema, one
 * transaction where the driver has them, features in fid order with the
 * fid kept where the format stores one, and removal of the partial output
 * on any failure. What it shares with the streaming writer
 * (gdal_stream.c) is here too, behind io_int.h.
 */
/* VSIStatBufL is struct stat64, hidden by _POSIX_C_SOURCE alone. */
#define _LARGEFILE64_SOURCE 1

#include "io/io_int.h"
#include "onemap/io.h"
#include "onemap/layer.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct writer {
    const struct om_layer *layer;
    const char *path;
    const char *drv_name;
    GDALDriverH drv;
    GDALDatasetH ds;
    OGRLayerH ogr;
    const char *lname;
    bool created; /* we created the dataset (delete it on failure) */
    bool in_tx;
    int field0; /* OGR index of our first field */
    bool set_fids;
    struct om__gdal_capture cap;
};

struct fid_idx {
    int64_t fid;
    size_t idx;
};

static int cmp_fid(const void *a, const void *b)
{
    const struct fid_idx *x = a, *y = b;
    if (x->fid != y->fid) {
        return x->fid < y->fid ? -1 : 1;
    }
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* ---- shared with the streaming writer (io_int.h) ---- */

static const char *driver_for_ext(const char *ext)
{
    static const struct {
        const char *ext, *drv;
    } table[] = {
        {".gpkg", "GPKG"},
        {".geojson", "GeoJSON"},
        {".json", "GeoJSON"},
        {".shp", "ESRI Shapefile"},
        {".fgb", "FlatGeobuf"},
        {".gdb", "OpenFileGDB"},
        {".csv", "CSV"},
        {".kml", "KML"},
        {".geojsonl", "GeoJSONSeq"},
        {".geojsons", "GeoJSONSeq"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(ext, table[i].ext) == 0) {
            return table[i].drv;
        }
    }
    return NULL;
}

enum om_status om__io_output_driver(const char *path, const char *format,
                                    GDALDriverH *drv, const char **drv_name,
                                    struct om_error *err)
{
    *drv = NULL;
    *drv_name = NULL;
    const char *name = format;
    if (!name) {
        char ext[16];
        om__gdal_path_ext(path, ext, sizeof ext);
        name = driver_for_ext(ext);
        if (!name) {
            return om__error(err, OM_EFORMAT, path, 0, -1,
                             "unknown output format '%s'; use .gpkg, "
                             ".geojson, .shp, .fgb, .gdb, .csv or .kml, or "
                             "name a GDAL driver",
                             ext[0] ? ext : "(no extension)");
        }
    }
    GDALDriverH d = GDALGetDriverByName(name);
    if (!d || !GDALGetMetadataItem(d, GDAL_DCAP_VECTOR, NULL) ||
        !GDALGetMetadataItem(d, GDAL_DCAP_CREATE, NULL)) {
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "GDAL driver '%s' cannot write vector files", name);
    }
    *drv = d;
    *drv_name = GDALGetDriverShortName(d);
    return OM_OK;
}

static bool is_dir(const char *path)
{
    VSIStatBufL st;
    return VSIStatL(path, &st) == 0 && VSI_ISDIR(st.st_mode);
}

void om__io_remove_output(GDALDriverH drv, const char *path)
{
    struct om__gdal_capture cap;
    om__gdal_capture_push(&cap);
    GDALDeleteDataset(drv, path);
    /* What the driver left: GDAL 3.6 OpenFileGDB keeps the empty folder. */
    if (om__io_path_exists(path)) {
        char ext[16];
        om__gdal_path_ext(path, ext, sizeof ext);
        if (is_dir(path)) {
            /* Only a FileGDB folder is ours to remove recursively. */
            if (strcmp(ext, ".gdb") == 0) {
                VSIRmdirRecursive(path);
            }
        } else {
            VSIUnlink(path);
        }
    }
    om__gdal_capture_pop();
}

bool om__io_path_exists(const char *path)
{
    VSIStatBufL st;
    return VSIStatL(path, &st) == 0;
}

enum om_status om__io_clear_output(GDALDriverH drv, const char *path,
                                   bool overwrite, struct om_error *err)
{
    if (!om__io_path_exists(path)) {
        return OM_OK;
    }
    if (!overwrite) {
        return om__error(err, OM_EEXIST, path, 0, -1,
                         "already exists; use --overwrite to replace it");
    }
    om__io_remove_output(drv, path);
    if (om__io_path_exists(path)) {
        return om__error(err, OM_EIO, path, 0, -1,
                         "cannot remove the existing output");
    }
    return OM_OK;
}

OGRGeometryH om__io_make_geometry(const struct om_layer_view *v, size_t f)
{
    OGRGeometryH mp = OGR_G_CreateGeometry(wkbMultiPolygon);
    if (!mp) {
        return NULL;
    }
    int stride = (int)(2 * sizeof(double));
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
        if (!poly) {
            OGR_G_DestroyGeometry(mp);
            return NULL;
        }
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], n = v->point_start[r + 1] - a;
            OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
            if (!ring) {
                OGR_G_DestroyGeometry(poly);
                OGR_G_DestroyGeometry(mp);
                return NULL;
            }
            /* n <= OM_LIMIT_FEATURE_POINTS < INT_MAX */
            OGR_G_SetPoints(ring, (int)n, v->xy + 2 * a, stride,
                            v->xy + 2 * a + 1, stride, NULL, 0);
            OGR_G_AddGeometryDirectly(poly, ring);
        }
        OGR_G_AddGeometryDirectly(mp, poly);
    }
    return mp;
}

void om__io_set_fields(OGRFeatureH feat, const struct om_layer *l, size_t f,
                       int field0)
{
    size_t nf = om_layer_nfields(l);
    for (size_t i = 0; i < nf; i++) {
        int fi = field0 + (int)i;
        if (om_layer_is_null(l, f, (int)i)) {
            OGR_F_SetFieldNull(feat, fi);
            continue;
        }
        switch (om_layer_field_type(l, (int)i)) {
        case OM_FIELD_INT:
            OGR_F_SetFieldInteger64(feat, fi,
                                    (GIntBig)om_layer_get_int(l, f, (int)i));
            break;
        case OM_FIELD_REAL:
            OGR_F_SetFieldDouble(feat, fi, om_layer_get_real(l, f, (int)i));
            break;
        case OM_FIELD_TEXT:
            OGR_F_SetFieldString(feat, fi, om_layer_get_text(l, f, (int)i));
            break;
        }
    }
}

/* ---- om_layer_write ---- */

static enum om_status open_output(struct writer *w,
                                  const struct om_write_options *opt,
                                  struct om_error *err)
{
    bool append = opt && opt->append_layer;
    bool overwrite = opt && opt->overwrite;
    if (append && om__io_path_exists(w->path)) {
        w->ds = GDALOpenEx(w->path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL,
                           NULL);
        if (!w->ds) {
            return om__error(err, OM_EIO, w->path, 0, -1,
                             "cannot open for adding a layer: %s",
                             om__gdal_capture_msg(&w->cap, "unknown error"));
        }
        if (!GDALDatasetTestCapability(w->ds, ODsCCreateLayer)) {
            return om__error(err, OM_EFORMAT, w->path, 0, -1,
                             "%s files cannot hold another layer", w->drv_name);
        }
        return OM_OK;
    }
    enum om_status st = om__io_clear_output(w->drv, w->path, overwrite, err);
    if (st != OM_OK) {
        return st;
    }
    w->ds = GDALCreate(w->drv, w->path, 0, 0, 0, GDT_Unknown, NULL);
    if (!w->ds) {
        return om__error(err, OM_EIO, w->path, 0, -1, "cannot create: %s",
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    w->created = true;
    return OM_OK;
}

/* Longest text value of column `field`, in bytes. */
static size_t max_text_len(const struct om_layer *l, int field)
{
    size_t m = 0;
    size_t n = om_layer_nfeatures(l);
    for (size_t f = 0; f < n; f++) {
        const char *s = om_layer_get_text(l, f, field);
        size_t len = s ? strlen(s) : 0;
        if (len > m) {
            m = len;
        }
    }
    return m;
}

/*
 * 32-bit integer columns when every value fits: what Shapefile/FileGDB
 * users expect, and FileGDB in GDAL 3.6 stores 64-bit ones as reals.
 */
static OGRFieldType int_type(const struct om_layer *l, int field)
{
    size_t n = om_layer_nfeatures(l);
    for (size_t f = 0; f < n; f++) {
        int64_t v = om_layer_get_int(l, f, field);
        if (v < INT32_MIN || v > INT32_MAX) {
            return OFTInteger64;
        }
    }
    return OFTInteger;
}

static enum om_status create_layer(struct writer *w,
                                   const struct om_write_options *opt,
                                   struct om_error *err)
{
    const struct om_layer *l = w->layer;
    /* An existing layer of that name in an append target. */
    int nl = GDALDatasetGetLayerCount(w->ds);
    for (int i = 0; i < nl; i++) {
        OGRLayerH x = GDALDatasetGetLayer(w->ds, i);
        if (om__strcasecmp(OGR_L_GetName(x), w->lname) != 0) {
            continue;
        }
        if (!opt || !opt->overwrite) {
            return om__error(err, OM_EEXIST, w->path, 0, -1,
                             "already has a layer '%s'; use --overwrite "
                             "to replace it",
                             w->lname);
        }
        if (GDALDatasetDeleteLayer(w->ds, i) != OGRERR_NONE) {
            return om__error(err, OM_EIO, w->path, 0, -1,
                             "cannot replace layer '%s': %s", w->lname,
                             om__gdal_capture_msg(&w->cap, "unknown error"));
        }
        break;
    }
    OGRSpatialReferenceH srs = NULL;
    const char *crs = om_layer_crs(l);
    if (crs) {
        enum om_status st = om__gdal_srs_from_user(crs, w->path, &srs, err);
        if (st != OM_OK) {
            return st;
        }
    }
    char encopt[96];
    const char *lco[4] = {NULL};
    int nlco = 0;
    if (strcmp(w->drv_name, "ESRI Shapefile") == 0) {
        snprintf(encopt, sizeof encopt, "ENCODING=%s",
                 opt && opt->encoding ? opt->encoding : "UTF-8");
        lco[nlco++] = encopt;
    } else if (strcmp(w->drv_name, "CSV") == 0) {
        lco[nlco++] = "GEOMETRY=AS_WKT";

    } else if (strcmp(w->drv_name, "GPKG") == 0) {
        lco[nlco++] =
            om_layer_field_index(l, "fid") >= 0 ? "FID=ogc_fid" : "FID=fid";
    }
    w->ogr = GDALDatasetCreateLayer(w->ds, w->lname, srs, wkbMultiPolygon,
                                    (char **)lco);
    OSRDestroySpatialReference(srs);
    if (!w->ogr) {
        return om__error(err, OM_EIO, w->path, 0, -1,
                         "cannot create layer '%s': %s", w->lname,
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(w->ogr);
    w->field0 = OGR_FD_GetFieldCount(defn);
    bool is_shp = strcmp(w->drv_name, "ESRI Shapefile") == 0;
    size_t nf = om_layer_nfields(l);
    for (size_t i = 0; i < nf; i++) {
        const char *name = om_layer_field_name(l, (int)i);
        enum om_field_type t = om_layer_field_type(l, (int)i);
        OGRFieldType ot = t == OM_FIELD_INT    ? int_type(l, (int)i)
                          : t == OM_FIELD_REAL ? OFTReal
                                               : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(name, ot);
        if (is_shp && t == OM_FIELD_TEXT) {
            size_t m = max_text_len(l, (int)i);
            if (m > 254) {
                OGR_Fld_Destroy(fd);
                return om__error(err, OM_ELIMIT, w->path, 0, -1,
                                 "field '%s' holds text of %zu bytes; a "
                                 "shapefile holds at most 254: write a "
                                 "GeoPackage instead",
                                 name, m);
            }
            OGR_Fld_SetWidth(fd, m ? (int)m : 1);
        }
        OGRErr e = OGR_L_CreateField(w->ogr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            return om__error(err, OM_EIO, w->path, 0, -1,
                             "layer '%s': cannot create field '%s': %s",
                             w->lname, name,
                             om__gdal_capture_msg(&w->cap, "unknown error"));
        }
    }
    if (OGR_FD_GetFieldCount(defn) != w->field0 + (int)nf) {
        return om__error(err, OM_EINTERNAL, w->path, 0, -1,
                         "layer '%s': the driver did not create every field",
                         w->lname);
    }
    return OM_OK;
}

static enum om_status write_feature(struct writer *w,
                                    const struct om_layer_view *v, size_t f,
                                    struct om_error *err)
{
    OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(w->ogr));
    if (!feat) {
        return om__enomem(err, w->path);
    }
    if (w->set_fids) {
        OGR_F_SetFID(feat, (GIntBig)v->fid[f]);
    }
    if (v->part_start[f + 1] > v->part_start[f]) {
        OGRGeometryH g = om__io_make_geometry(v, f);
        if (!g) {
            OGR_F_Destroy(feat);
            return om__enomem(err, w->path);
        }
        OGR_F_SetGeometryDirectly(feat, g);
    }
    om__io_set_fields(feat, w->layer, f, w->field0);
    int nfail = w->cap.nfailures;
    OGRErr e = OGR_L_CreateFeature(w->ogr, feat);
    OGR_F_Destroy(feat);
    if (e != OGRERR_NONE || w->cap.nfailures != nfail) {
        return om__error(err, OM_EIO, w->path, 0, v->fid[f],
                         "layer '%s': cannot write the feature: %s", w->lname,
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    return OM_OK;
}

/* Keep fids where the format stores them and they are usable there. */
static bool can_keep_fids(const char *drv, const struct fid_idx *order,
                          size_t n)
{
    int64_t min_fid;
    if (strcmp(drv, "GPKG") == 0 || strcmp(drv, "GeoJSON") == 0) {
        min_fid = 0;
    } else if (strcmp(drv, "OpenFileGDB") == 0) {
        min_fid = 1;
    } else {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (order[i].fid < min_fid ||
            (i > 0 && order[i].fid == order[i - 1].fid)) {
            return false;
        }
    }
    return true;
}

static enum om_status write_features(struct writer *w,
                                     const struct om_progress *progress,
                                     struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(w->layer, &v);
    struct fid_idx *order = NULL;
    if (v.nfeatures) {
        order = om__malloc(v.nfeatures * sizeof *order);
        if (!order) {
            return om__enomem(err, w->path);
        }
    }
    for (size_t i = 0; i < v.nfeatures; i++) {
        order[i].fid = v.fid[i];
        order[i].idx = i;
    }
    if (v.nfeatures > 1) {
        qsort(order, v.nfeatures, sizeof *order, cmp_fid);
    }
    w->set_fids = can_keep_fids(w->drv_name, order, v.nfeatures);
    enum om_status st = OM_OK;
    om__progress(progress, "write", 0, v.nfeatures);
    for (size_t i = 0; i < v.nfeatures && st == OM_OK; i++) {
        st = write_feature(w, &v, order[i].idx, err);
        if (st == OM_OK &&
            om__progress(progress, "write", i + 1, v.nfeatures)) {
            st = om__error(err, OM_ECANCELED, w->path, 0, -1,
                           "writing canceled");
        }
    }
    if (st == OM_OK && om__canceled(progress)) {
        st = om__error(err, OM_ECANCELED, w->path, 0, -1, "writing canceled");
    }
    om__free(order);
    return st;
}

/* Undo: drop the new layer from an existing dataset, or the dataset. */
static void undo(struct writer *w)
{
    if (w->in_tx) {
        w->in_tx = false;
        if (GDALDatasetRollbackTransaction(w->ds) == OGRERR_NONE) {
            w->ogr = NULL; /* the new layer went with the transaction */
        }
    }
    if (!w->created && w->ds && w->ogr) {
        int nl = GDALDatasetGetLayerCount(w->ds);
        for (int i = 0; i < nl; i++) {
            OGRLayerH x = GDALDatasetGetLayer(w->ds, i);
            if (x == w->ogr) {
                GDALDatasetDeleteLayer(w->ds, i);
                break;
            }
        }
    }
    if (w->ds) {
        GDALClose(w->ds);
        w->ds = NULL;
    }
    if (w->created) {
        om__io_remove_output(w->drv, w->path);
    }
}

enum om_status om_layer_write(const struct om_layer *layer, const char *path,
                              const struct om_write_options *opt,
                              const struct om_progress *progress,
                              struct om_error *err)
{
    if (!layer || !path || !path[0]) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "no layer or no output path given");
    }
    enum om_status ist = om__gdal_init(path, err);
    if (ist != OM_OK) {
        return ist;
    }
    struct writer w;
    memset(&w, 0, sizeof w);
    w.layer = layer;
    w.path = path;
    w.lname = opt && opt->layer_name ? opt->layer_name : om_layer_name(layer);
    if (!w.lname || !w.lname[0]) {
        w.lname = "layer";
    }
    enum om_status st = om__io_output_driver(path, opt ? opt->format : NULL,
                                             &w.drv, &w.drv_name, err);
    if (st != OM_OK) {
        return st;
    }
    size_t nempty = om_layer_count_flag(layer, OM_FEAT_EMPTY);
    if (nempty && strcmp(w.drv_name, "FlatGeobuf") == 0) {
        /* GDAL 3.6 silently drops features without geometry there. */
        return om__error(err, OM_EGEOM, path, 0, -1,
                         "%zu features have no geometry and FlatGeobuf "
                         "cannot hold them; write a GeoPackage instead",
                         nempty);
    }
    om__gdal_capture_push(&w.cap);
    st = open_output(&w, opt, err);
    if (st == OM_OK) {
        if (GDALDatasetStartTransaction(w.ds, FALSE) == OGRERR_NONE) {
            w.in_tx = true;
        }
        st = create_layer(&w, opt, err);
    }
    if (st == OM_OK) {
        st = write_features(&w, progress, err);
    }
    if (st == OM_OK && w.in_tx) {
        w.in_tx = false;
        if (GDALDatasetCommitTransaction(w.ds) != OGRERR_NONE) {
            st = om__error(err, OM_EIO, path, 0, -1, "commit failed: %s",
                           om__gdal_capture_msg(&w.cap, "unknown error"));
        }
    }
    if (st == OM_OK) {
        int nfail = w.cap.nfailures;
        GDALClose(w.ds);
        w.ds = NULL;
        if (w.cap.nfailures != nfail) {
            st = om__error(err, OM_EIO, path, 0, -1,
                           "finishing the file failed: %s", w.cap.failure);
            if (w.created) {
                om__io_remove_output(w.drv, path);
            }
        }
    } else {
        undo(&w);
    }
    om__gdal_capture_pop();
    return st;
}
