/*
 * gdal_read.c — reading any OGR vector source into an om_layer
 * (om_source_read) and listing a source's layers (om_source_layers).
 *
 * Geometries are walked ring by ring with OGR_G_GetPoints straight into a
 * reused coordinate buffer; no WKB round trip. Text encodings: shapefiles
 * are decoded by GDAL (ENCODING open option, else the .cpg / DBF code
 * page; with neither, bytes are taken as UTF-8 as they are), CSV text is
 * recoded here; every text value is then checked to be UTF-8.
 */
/* VSIStatBufL is struct stat64, hidden by _POSIX_C_SOURCE alone. */
#define _LARGEFILE64_SOURCE 1

#include "io/gdal_bridge.h"
#include "onemap/io.h"
#include "onemap/layer.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

struct reader {
    const char *path;
    const char *lname;
    struct om_layer *layer;
    int nfields;
    int *map;                /* OGR field index -> om column */
    OGRFieldType *types;     /* OGR field types */
    const char *recode_from; /* recode text here (CSV); NULL = as is */
    double *xy;
    size_t cap_xy;
    size_t nparts;    /* parts added to the current feature */
    size_t nnonareal; /* components that are points / open lines */
    size_t nskipped;  /* features skipped: no areal component */
    struct om__gdal_capture cap;
};

/* ---- opening ---- */

static bool file_exists(const char *path)
{
    VSIStatBufL st;
    return VSIStatL(path, &st) == 0;
}

/* Replace the extension of `path` with `ext` into buf. */
static void with_ext(const char *path, const char *ext, char *buf, size_t size)
{
    snprintf(buf, size, "%s", path);
    char *slash = strrchr(buf, '/');
    char *dot = strrchr(slash ? slash : buf, '.');
    if (dot) {
        *dot = '\0';
    }
    size_t len = strlen(buf);
    snprintf(buf + len, size - len, "%s", ext);
}

/* Byte 29 of a DBF header: the code page ("language driver") id. */
static int dbf_ldid(const char *shp)
{
    char dbf[4096];
    with_ext(shp, ".dbf", dbf, sizeof dbf);
    VSILFILE *f = VSIFOpenL(dbf, "rb");
    if (!f) {
        with_ext(shp, ".DBF", dbf, sizeof dbf);
        f = VSIFOpenL(dbf, "rb");
    }
    if (!f) {
        return -1;
    }
    unsigned char hdr[32];
    size_t got = VSIFReadL(hdr, 1, sizeof hdr, f);
    VSIFCloseL(f);
    return got == sizeof hdr ? hdr[29] : -1;
}

static bool has_cpg(const char *shp)
{
    char cpg[4096];
    with_ext(shp, ".cpg", cpg, sizeof cpg);
    if (file_exists(cpg)) {
        return true;
    }
    with_ext(shp, ".CPG", cpg, sizeof cpg);
    return file_exists(cpg);
}

static enum om_status open_source(const char *path,
                                  const struct om_read_options *opt,
                                  GDALDatasetH *out, struct om_error *err)
{
    *out = NULL;
    if (!path || !path[0]) {
        return om__error(err, OM_EINVAL, NULL, 0, -1, "no input file given");
    }
    enum om_status ist = om__gdal_init(path, err);
    if (ist != OM_OK) {
        return ist;
    }
    VSIStatBufL st;
    if (VSIStatL(path, &st) != 0) {
        return om__error(err, OM_EIO, path, 0, -1, "no such file");
    }
    if (VSI_ISREG(st.st_mode) && st.st_size == 0) {
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "the file is empty (0 bytes)");
    }
    char ext[16];
    om__gdal_path_ext(path, ext, sizeof ext);
    char encopt[128];
    const char *oo[6] = {NULL};
    int noo = 0;
    const char *enc = opt ? opt->encoding : NULL;
    if (strcmp(ext, ".shp") == 0 || strcmp(ext, ".dbf") == 0) {
        if (enc) {
            snprintf(encopt, sizeof encopt, "ENCODING=%s", enc);
            oo[noo++] = encopt;
        } else if (!has_cpg(path) && dbf_ldid(path) == 0) {
            /* No code page anywhere: take the bytes as UTF-8 (checked). */
            oo[noo++] = "ENCODING=";
        }
    } else if (strcmp(ext, ".csv") == 0) {
        oo[noo++] = "GEOM_POSSIBLE_NAMES=WKT,wkt,geometry,geom,the_geom";
        oo[noo++] = "KEEP_GEOM_COLUMNS=NO";
    }
    struct om__gdal_capture cap;
    om__gdal_capture_push(&cap);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                                 noo ? oo : NULL, NULL);
    om__gdal_capture_pop();
    if (!ds) {
        if (cap.nfailures) {
            return om__error(err, OM_EFORMAT, path, 0, -1,
                             "cannot be read as GIS vector data: %s",
                             cap.failure);
        }
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "is not a GIS vector format GDAL can read");
    }
    *out = ds;
    return OM_OK;
}

static bool is_polygonal_type(OGRwkbGeometryType t)
{
    t = wkbFlatten(t);
    return t == wkbPolygon || t == wkbMultiPolygon || t == wkbCurvePolygon ||
           t == wkbMultiSurface || t == wkbPolyhedralSurface || t == wkbTIN ||
           t == wkbTriangle;
}

/* "a (Multi Polygon, 3 features), b (...)" into buf. */
static void list_layers(GDALDatasetH ds, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    int nl = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < nl && len + 1 < size; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        GIntBig nf = OGR_L_GetFeatureCount(l, FALSE);
        int w = snprintf(buf + len, size - len, "%s%s (%s", i ? ", " : "",
                         OGR_L_GetName(l),
                         OGRGeometryTypeToName(OGR_L_GetGeomType(l)));
        if (w < 0) {
            break;
        }
        len += (size_t)w;
        if (len + 1 >= size) {
            break;
        }
        if (nf >= 0) {
            w = snprintf(buf + len, size - len, ", %lld features)",
                         (long long)nf);
        } else {
            w = snprintf(buf + len, size - len, ")");
        }
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    if (len + 1 >= size && size > 4) {
        memcpy(buf + size - 4, "...", 4);
    }
}

static enum om_status pick_layer(GDALDatasetH ds, const char *path,
                                 const char *name, OGRLayerH *out,
                                 struct om_error *err)
{
    char names[300];
    int nl = GDALDatasetGetLayerCount(ds);
    *out = NULL;
    if (name) {
        OGRLayerH l = GDALDatasetGetLayerByName(ds, name);
        if (!l) {
            list_layers(ds, names, sizeof names);
            return om__error(err, OM_ENOTFOUND, path, 0, -1,
                             "has no layer '%.60s'; its layers are: %s", name,
                             nl ? names : "(none)");
        }
        *out = l;
        return OM_OK;
    }
    if (nl == 0) {
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "contains no vector layers");
    }
    if (nl == 1) {
        *out = GDALDatasetGetLayer(ds, 0);
        return OM_OK;
    }
    OGRLayerH found = NULL;
    int nfound = 0;
    for (int i = 0; i < nl; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        if (is_polygonal_type(OGR_L_GetGeomType(l))) {
            found = l;
            nfound++;
        }
    }
    if (nfound == 1) {
        *out = found;
        return OM_OK;
    }
    list_layers(ds, names, sizeof names);
    return om__error(err, OM_EINVAL, path, 0, -1,
                     "has %d layers; choose one with --layer: %s", nl, names);
}

/* ---- attributes ---- */

static enum om_status setup_fields(struct reader *r, OGRLayerH l,
                                   struct om_error *err)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(l);
    int n = OGR_FD_GetFieldCount(defn);
    if (n < 0 || (unsigned)n > OM_LIMIT_FIELDS) {
        return om__error(err, OM_ELIMIT, r->path, 0, -1,
                         "layer '%s' has %d fields, more than the limit %u",
                         r->lname, n, OM_LIMIT_FIELDS);
    }
    r->nfields = n;
    if (n == 0) {
        return OM_OK;
    }
    r->map = om__calloc((size_t)n, sizeof *r->map);
    r->types = om__calloc((size_t)n, sizeof *r->types);
    if (!r->map || !r->types) {
        return om__enomem(err, r->path);
    }
    for (int i = 0; i < n; i++) {
        OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
        OGRFieldType t = OGR_Fld_GetType(fd);
        enum om_field_type ot = OM_FIELD_TEXT;
        if (t == OFTInteger || t == OFTInteger64) {
            ot = OM_FIELD_INT;
        } else if (t == OFTReal) {
            ot = OM_FIELD_REAL;
        }
        r->types[i] = t;
        const char *name = OGR_Fld_GetNameRef(fd);
        if (!CPLIsUTF8(name, -1)) {
            return om__error(err, OM_EPARSE, r->path, 0, -1,
                             "layer '%s': field %d has a name that is not "
                             "valid UTF-8; the file is probably in a Chinese "
                             "code page: give its encoding, e.g. --encoding "
                             "GBK",
                             r->lname, i + 1);
        }
        enum om_status st =
            om_layer_add_field(r->layer, name, ot, &r->map[i], err);
        if (st != OM_OK) {
            om__error_prefix(err, "%s: layer '%s'", r->path, r->lname);
            return st;
        }
    }
    return OM_OK;
}

static void iso_datetime(OGRFeatureH f, int i, OGRFieldType t, char *buf,
                         size_t size)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, tz = 0;
    float s = 0;
    OGR_F_GetFieldAsDateTimeEx(f, i, &y, &mo, &d, &h, &mi, &s, &tz);
    if (t == OFTDate) {
        snprintf(buf, size, "%04d-%02d-%02d", y, mo, d);
        return;
    }
    char sec[16];
    if (s == floorf(s)) {
        snprintf(sec, sizeof sec, "%02d", (int)s);
    } else {
        snprintf(sec, sizeof sec, "%06.3f", (double)s);
    }
    char zone[8] = "";
    if (tz == 100) {
        snprintf(zone, sizeof zone, "Z");
    } else if (tz > 1) {
        int off = (tz - 100) * 15;
        int a = off < 0 ? -off : off;
        snprintf(zone, sizeof zone, "%c%02d:%02d", off < 0 ? '-' : '+',
                 (a / 60) % 100, a % 60);
    }
    if (t == OFTTime) {
        snprintf(buf, size, "%02d:%02d:%s%s", h, mi, sec, zone);
    } else {
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%s%s", y, mo, d, h, mi,
                 sec, zone);
    }
}

static enum om_status bad_text(struct reader *r, int64_t fid, const char *field,
                               struct om_error *err)
{
    return om__error(err, OM_EPARSE, r->path, 0, fid,
                     "field '%s' holds text that is not valid UTF-8; the "
                     "file is probably in a Chinese code page: give its "
                     "encoding, e.g. --encoding GBK",
                     field);
}

static enum om_status set_text(struct reader *r, OGRFeatureH f, int i,
                               int64_t fid, struct om_error *err)
{
    const char *s = OGR_F_GetFieldAsString(f, i);
    const char *name = om_layer_field_name(r->layer, r->map[i]);
    char *recoded = NULL;
    if (r->recode_from) {
        int nw = r->cap.nwarnings;
        recoded = CPLRecode(s, r->recode_from, CPL_ENC_UTF8);
        if (r->cap.nwarnings != nw) {
            CPLFree(recoded);
            return om__error(err, OM_EPARSE, r->path, 0, fid,
                             "field '%s': text cannot be decoded as %s", name,
                             r->recode_from);
        }
        s = recoded;
    }
    enum om_status st;
    size_t len = strlen(s);
    if (len > OM_LIMIT_TEXT_BYTES) {
        st = om__error(err, OM_ELIMIT, r->path, 0, fid,
                       "field '%s' holds %zu bytes of text, more than the "
                       "limit %u",
                       name, len, OM_LIMIT_TEXT_BYTES);
    } else if (!CPLIsUTF8(s, (int)len)) {
        st = bad_text(r, fid, name, err);
    } else {
        st = om_layer_set_text(r->layer, r->map[i], s, err);
    }
    CPLFree(recoded);
    return st;
}

static enum om_status set_attributes(struct reader *r, OGRFeatureH f,
                                     int64_t fid, struct om_error *err)
{
    for (int i = 0; i < r->nfields; i++) {
        if (!OGR_F_IsFieldSetAndNotNull(f, i)) {
            continue;
        }
        enum om_status st = OM_OK;
        char buf[64];
        switch (r->types[i]) {
        case OFTInteger:
        case OFTInteger64:
            st =
                om_layer_set_int(r->layer, r->map[i],
                                 (int64_t)OGR_F_GetFieldAsInteger64(f, i), err);
            break;
        case OFTReal:
            st = om_layer_set_real(r->layer, r->map[i],
                                   OGR_F_GetFieldAsDouble(f, i), err);
            break;
        case OFTDate:
        case OFTTime:
        case OFTDateTime:
            iso_datetime(f, i, r->types[i], buf, sizeof buf);
            st = om_layer_set_text(r->layer, r->map[i], buf, err);
            break;
        default:
            st = set_text(r, f, i, fid, err);
            break;
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- geometry ---- */

/* Fewer than 3 distinct points (a ring that encloses nothing). */
static bool degenerate_ring(const double *xy, size_t n)
{
    if (n == 0) {
        return true;
    }
    size_t second = n;
    for (size_t i = 1; i < n; i++) {
        if (xy[2 * i] != xy[0] || xy[2 * i + 1] != xy[1]) {
            second = i;
            break;
        }
    }
    if (second == n) {
        return true;
    }
    for (size_t i = second + 1; i < n; i++) {
        bool same0 = xy[2 * i] == xy[0] && xy[2 * i + 1] == xy[1];
        bool same1 =
            xy[2 * i] == xy[2 * second] && xy[2 * i + 1] == xy[2 * second + 1];
        if (!same0 && !same1) {
            return false;
        }
    }
    return true;
}

/* Load the points of a curve into r->xy; *n gets the count. */
static enum om_status load_points(struct reader *r, OGRGeometryH g, int64_t fid,
                                  size_t *n, struct om_error *err)
{
    int np = OGR_G_GetPointCount(g);
    *n = 0;
    if (np <= 0) {
        return OM_OK;
    }
    if ((size_t)np > OM_LIMIT_FEATURE_POINTS) {
        return om__error(err, OM_ELIMIT, r->path, 0, fid,
                         "a ring has %d vertices, more than the limit %u", np,
                         OM_LIMIT_FEATURE_POINTS);
    }
    if (!OM__GROW(r->xy, r->cap_xy, 2 * (size_t)np)) {
        return om__enomem(err, r->path);
    }
    int stride = (int)(2 * sizeof(double));
    OGR_G_GetPoints(g, r->xy, stride, r->xy + 1, stride, NULL, 0);
    *n = (size_t)np;
    return OM_OK;
}

static enum om_status add_ring(struct reader *r, OGRGeometryH ring, int64_t fid,
                               struct om_error *err)
{
    size_t n;
    enum om_status st = load_points(r, ring, fid, &n, err);
    if (st != OM_OK || n == 0) {
        return st;
    }
    if (degenerate_ring(r->xy, n)) {
        om_layer_set_flags(r->layer, OM_FEAT_INVALID);
    }
    st = om_layer_add_ring(r->layer, r->xy, n, err);
    if (st != OM_OK && err && !err->source[0]) {
        om__strlcpy(err->source, r->path, sizeof err->source);
    }
    return st;
}

static enum om_status add_polygon(struct reader *r, OGRGeometryH g, int64_t fid,
                                  struct om_error *err)
{
    if (OGR_G_IsEmpty(g)) {
        return OM_OK;
    }
    enum om_status st = om_layer_begin_part(r->layer, err);
    if (st != OM_OK) {
        return st;
    }
    r->nparts++;
    int nr = OGR_G_GetGeometryCount(g);
    for (int i = 0; i < nr && st == OM_OK; i++) {
        OGRGeometryH ring = OGR_G_GetGeometryRef(g, i);
        if (i > 0 && OGR_G_GetPointCount(ring) == 0) {
            continue; /* an empty hole is no hole */
        }
        st = add_ring(r, ring, fid, err);
    }
    return st;
}

/* A closed line encloses an area (DXF polylines, KML outlines). */
static enum om_status add_line(struct reader *r, OGRGeometryH g, int64_t fid,
                               struct om_error *err)
{
    size_t n;
    enum om_status st = load_points(r, g, fid, &n, err);
    if (st != OM_OK || n == 0) {
        return st;
    }
    bool closed =
        n >= 4 && r->xy[0] == r->xy[2 * n - 2] && r->xy[1] == r->xy[2 * n - 1];
    if (!closed) {
        r->nnonareal++;
        return OM_OK;
    }
    st = om_layer_begin_part(r->layer, err);
    if (st != OM_OK) {
        return st;
    }
    r->nparts++;
    if (degenerate_ring(r->xy, n)) {
        om_layer_set_flags(r->layer, OM_FEAT_INVALID);
    }
    return om_layer_add_ring(r->layer, r->xy, n, err);
}

static enum om_status add_geometry(struct reader *r, OGRGeometryH g,
                                   int64_t fid, unsigned depth,
                                   struct om_error *err)
{
    if (depth > OM_LIMIT_WKB_DEPTH) {
        return om__error(err, OM_ELIMIT, r->path, 0, fid,
                         "geometry collections nested more than %u deep",
                         OM_LIMIT_WKB_DEPTH);
    }
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    switch (t) {
    case wkbPolygon:
    case wkbTriangle:
        return add_polygon(r, g, fid, err);
    case wkbLineString:
    case wkbLinearRing:
        return add_line(r, g, fid, err);
    case wkbPoint:
    case wkbMultiPoint:
        r->nnonareal++;
        return OM_OK;
    case wkbMultiPolygon:
    case wkbMultiLineString:
    case wkbGeometryCollection:
    case wkbPolyhedralSurface:
    case wkbTIN: {
        int n = OGR_G_GetGeometryCount(g);
        for (int i = 0; i < n; i++) {
            enum om_status st = add_geometry(r, OGR_G_GetGeometryRef(g, i), fid,
                                             depth + 1, err);
            if (st != OM_OK) {
                return st;
            }
        }
        return OM_OK;
    }
    case wkbCircularString:
    case wkbCompoundCurve:
    case wkbCurvePolygon:
    case wkbMultiCurve:
    case wkbMultiSurface: {
        OGRGeometryH lin = OGR_G_GetLinearGeometry(g, 0, NULL);
        if (!lin) {
            return om__error(err, OM_EGEOM, r->path, 0, fid,
                             "cannot linearise a %s", OGRGeometryTypeToName(t));
        }
        enum om_status st = add_geometry(r, lin, fid, depth + 1, err);
        OGR_G_DestroyGeometry(lin);
        return st;
    }
    default:
        return om__error(err, OM_EGEOM, r->path, 0, fid,
                         "unsupported geometry type %s",
                         OGRGeometryTypeToName(t));
    }
}

/* ---- the read loop ---- */

static enum om_status read_feature(struct reader *r, OGRFeatureH f,
                                   struct om_error *err)
{
    int64_t fid = (int64_t)OGR_F_GetFID(f);
    enum om_status st = om_layer_begin_feature(r->layer, fid, err);
    if (st != OM_OK) {
        return st;
    }
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    r->nparts = 0;
    size_t nonareal_before = r->nnonareal;
    if (g && !OGR_G_IsEmpty(g)) {
        st = add_geometry(r, g, fid, 0, err);
        if (st != OM_OK) {
            om_layer_abort_feature(r->layer);
            return st;
        }
        if (r->nparts == 0 && r->nnonareal > nonareal_before) {
            /* Points or open lines only: not a planning polygon. */
            om_layer_abort_feature(r->layer);
            r->nskipped++;
            return OM_OK;
        }
    }
    if (r->nparts == 0) {
        om_layer_set_flags(r->layer, OM_FEAT_EMPTY);
    }
    st = set_attributes(r, f, fid, err);
    if (st == OM_OK) {
        st = om_layer_end_feature(r->layer, err);
    }
    if (st != OM_OK) {
        om_layer_abort_feature(r->layer);
    }
    return st;
}

static enum om_status read_features(struct reader *r, OGRLayerH l,
                                    const struct om_progress *progress,
                                    struct om_error *err)
{
    GIntBig total = OGR_L_GetFeatureCount(l, FALSE);
    uint64_t done = 0;
    OGR_L_ResetReading(l);
    om__progress(progress, "read", 0, total > 0 ? (uint64_t)total : 0);
    for (;;) {
        int nf = r->cap.nfailures;
        int nw = r->cap.nwarnings;
        OGRFeatureH f = OGR_L_GetNextFeature(l);
        if (r->cap.nfailures != nf) {
            int64_t fid = f ? (int64_t)OGR_F_GetFID(f) : -1;
            OGR_F_Destroy(f);
            return om__error(err, OM_EPARSE, r->path, 0, fid,
                             "layer '%s': reading feature %llu failed: %s",
                             r->lname, (unsigned long long)done + 1,
                             r->cap.failure);
        }
        if (!f) {
            break;
        }
        if (r->cap.nwarnings != nw && strstr(r->cap.warning, "convert")) {
            /* GDAL could not recode the DBF text: wrong code page. */
            int64_t fid = (int64_t)OGR_F_GetFID(f);
            OGR_F_Destroy(f);
            return om__error(err, OM_EPARSE, r->path, 0, fid,
                             "text cannot be decoded in the given encoding "
                             "(%s); check --encoding",
                             r->cap.warning);
        }
        enum om_status st = read_feature(r, f, err);
        OGR_F_Destroy(f);
        if (st != OM_OK) {
            return st;
        }
        done++;
        if (om_layer_nfeatures(r->layer) > OM_LIMIT_LAYER_FEATURES) {
            return om__error(err, OM_ELIMIT, r->path, 0, -1,
                             "more than %u features in layer '%s'",
                             OM_LIMIT_LAYER_FEATURES, r->lname);
        }
        if (om__progress(progress, "read", done,
                         total > 0 ? (uint64_t)total : 0)) {
            return om__error(err, OM_ECANCELED, r->path, 0, -1,
                             "reading canceled");
        }
    }
    if (om__canceled(progress)) {
        return om__error(err, OM_ECANCELED, r->path, 0, -1, "reading canceled");
    }
    if (om_layer_nfeatures(r->layer) == 0 && r->nskipped > 0) {
        return om__error(err, OM_EGEOM, r->path, 0, -1,
                         "layer '%s' holds no polygons (%zu features are "
                         "points or open lines); onemap reads polygon "
                         "layers only",
                         r->lname, r->nskipped);
    }
    return OM_OK;
}

static bool is_json_driver(const char *drv)
{
    return strcmp(drv, "GeoJSON") == 0 || strcmp(drv, "TopoJSON") == 0 ||
           strcmp(drv, "GeoJSONSeq") == 0 || strcmp(drv, "ESRIJSON") == 0;
}

static enum om_status set_layer_crs(struct reader *r, OGRLayerH l,
                                    const char *drv,
                                    const struct om_read_options *opt,
                                    struct om_error *err)
{
    char *name = NULL;
    enum om_status st = OM_OK;
    if (opt && opt->src_crs) {
        OGRSpatialReferenceH srs = NULL;
        st = om__gdal_srs_from_user(opt->src_crs, r->path, &srs, err);
        if (st != OM_OK) {
            return st;
        }
        st = om__gdal_srs_name(srs, &name);
        OSRDestroySpatialReference(srs);
    } else {
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l);
        if (srs) {
            st = om__gdal_srs_name(srs, &name);
        } else if (is_json_driver(drv)) {
            name = om__strdup("EPSG:4326");
            st = name ? OM_OK : OM_ENOMEM;
        } else if (strcmp(drv, "ESRI Shapefile") == 0) {
            return om__error(err, OM_ECRS, r->path, 0, -1,
                             "has no coordinate reference system (no .prj "
                             "file); give it with --src-crs, e.g. "
                             "--src-crs EPSG:4530");
        } else {
            return om__error(err, OM_ECRS, r->path, 0, -1,
                             "has no coordinate reference system; give it "
                             "with --src-crs, e.g. --src-crs EPSG:4530");
        }
    }
    if (st == OM_ENOMEM) {
        return om__enomem(err, r->path);
    }
    if (st != OM_OK) {
        return om__error(err, OM_ECRS, r->path, 0, -1,
                         "layer '%s': its coordinate reference system "
                         "cannot be exported",
                         r->lname);
    }
    st = om_layer_set_crs(r->layer, name, err);
    om__free(name);
    return st;
}

/* ---- plain WKT / EWKT text files ---- */

/* Size limit of a .wkt file (the text, not its geometries). */
#define WKT_FILE_MAX ((size_t)256 << 20)

/* 1-based line of byte offset `off` in `text`. */
static long line_of(const char *text, size_t off)
{
    long line = 1;
    for (size_t i = 0; i < off; i++) {
        line += text[i] == '\n';
    }
    return line;
}

/* Skip blanks, separators (';' ',') and '#' comments to the end of line. */
static const char *wkt_skip(const char *p)
{
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
               *p == ';' || *p == ',') {
            p++;
        }
        if (*p != '#') {
            return p;
        }
        while (*p && *p != '\n') {
            p++;
        }
    }
}

/* A file of WKT geometries (one or more, any layout, '#' comments), each
 * optionally with an EWKT "SRID=n;" prefix. */
static enum om_status read_wkt_file(struct reader *r,
                                    const struct om_read_options *opt,
                                    struct om_error *err)
{
    FILE *f = fopen(r->path, "rb");
    if (!f) {
        return om__error(err, OM_EIO, r->path, 0, -1, "cannot open: %s",
                         strerror(errno));
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    enum om_status st = OM_OK;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            if (cap >= WKT_FILE_MAX) {
                st = om__error(err, OM_ELIMIT, r->path, 0, -1,
                               "WKT file larger than %zu MiB",
                               WKT_FILE_MAX >> 20);
                break;
            }
            size_t ncap = cap ? cap * 2 : 65536 * 2;
            char *t = om__realloc(text, ncap);
            if (!t) {
                st = om__enomem(err, r->path);
                break;
            }
            text = t;
            cap = ncap;
        }
        size_t n = fread(text + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                st = om__error(err, OM_EIO, r->path, 0, -1, "read error");
            }
            break;
        }
    }
    fclose(f);
    if (st != OM_OK) {
        om__free(text);
        return st;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        om__free(text);
        return om__error(err, OM_EFORMAT, r->path, 0, -1,
                         "not a WKT text file (NUL bytes)");
    }
    int srid = 0;
    int64_t fid = 0;
    const char *p = wkt_skip(text);
    while (st == OM_OK && *p) {
        long line = line_of(text, (size_t)(p - text));
        if (strncmp(p, "SRID=", 5) == 0 || strncmp(p, "srid=", 5) == 0) {
            char *end = NULL;
            long v = strtol(p + 5, &end, 10);
            if (end == p + 5 || *end != ';' || v <= 0 || v > 999999 ||
                (srid && srid != v)) {
                st = om__error(err, OM_EPARSE, r->path, line, -1,
                               "bad or inconsistent EWKT SRID prefix");
                break;
            }
            srid = (int)v;
            p = end + 1;
        }
        char *q = (char *)p;
        OGRGeometryH g = NULL;
        if (OGR_G_CreateFromWkt(&q, NULL, &g) != OGRERR_NONE || !g) {
            st = om__error(err, OM_EPARSE, r->path, line, fid + 1,
                           "not valid WKT near '%.40s'", p);
            break;
        }
        fid++;
        st = om_layer_begin_feature(r->layer, fid, err);
        if (st == OM_OK) {
            r->nparts = 0;
            size_t before = r->nnonareal;
            if (!OGR_G_IsEmpty(g)) {
                st = add_geometry(r, g, fid, 0, err);
            }
            if (st == OM_OK && r->nparts == 0 && r->nnonareal > before) {
                om_layer_abort_feature(r->layer);
                r->nskipped++;
            } else if (st == OM_OK) {
                if (r->nparts == 0) {
                    om_layer_set_flags(r->layer, OM_FEAT_EMPTY);
                }
                st = om_layer_end_feature(r->layer, err);
            }
            if (st != OM_OK) {
                om_layer_abort_feature(r->layer);
                if (err && err->line <= 0) {
                    err->line = line;
                }
            }
        }
        OGR_G_DestroyGeometry(g);
        p = wkt_skip(q);
    }
    om__free(text);
    if (st != OM_OK) {
        return st;
    }
    if (om_layer_nfeatures(r->layer) == 0) {
        return om__error(err, OM_EGEOM, r->path, 0, -1,
                         r->nskipped ? "holds no polygons (only points or "
                                       "open lines)"
                                     : "holds no WKT geometry");
    }
    char crs[32];
    const char *name = opt ? opt->src_crs : NULL;
    if (!name && srid) {
        snprintf(crs, sizeof crs, "EPSG:%d", srid);
        name = crs;
    }
    if (!name) {
        return om__error(err, OM_ECRS, r->path, 0, -1,
                         "has no coordinate reference system (plain WKT); "
                         "give it with --src-crs, e.g. --src-crs EPSG:4530, "
                         "or write EWKT (SRID=4530;POLYGON(...))");
    }
    OGRSpatialReferenceH srs = NULL;
    st = om__gdal_srs_from_user(name, r->path, &srs, err);
    if (st != OM_OK) {
        return st;
    }
    char *crsname = NULL;
    st = om__gdal_srs_name(srs, &crsname);
    OSRDestroySpatialReference(srs);
    if (st != OM_OK) {
        return st == OM_ENOMEM ? om__enomem(err, r->path)
                               : om__error(err, OM_ECRS, r->path, 0, -1,
                                           "unusable CRS %s", name);
    }
    st = om_layer_set_crs(r->layer, crsname, err);
    om__free(crsname);
    return st;
}

enum om_status om_source_read(const char *path,
                              const struct om_read_options *opt,
                              struct om_layer **out,
                              const struct om_progress *progress,
                              struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (!out) {
        return om__error(err, OM_EINVAL, path, 0, -1, "no output layer");
    }
    char ext[16] = "";
    if (path) {
        om__gdal_path_ext(path, ext, sizeof ext);
    }
    if (strcmp(ext, ".wkt") == 0 || strcmp(ext, ".ewkt") == 0) {
        struct reader w;
        memset(&w, 0, sizeof w);
        w.path = path;
        w.lname = "wkt";
        enum om_status st = om__gdal_init(path, err);
        if (st == OM_OK) {
            st = om_layer_new("wkt", &w.layer, err);
        }
        if (st == OM_OK) {
            st = read_wkt_file(&w, opt, err);
        }
        om__free(w.xy);
        if (st != OM_OK) {
            om_layer_free(w.layer);
            return st;
        }
        if (opt && opt->nskipped) {
            *opt->nskipped = w.nskipped;
        }
        *out = w.layer;
        return OM_OK;
    }
    GDALDatasetH ds = NULL;
    enum om_status st = open_source(path, opt, &ds, err);
    if (st != OM_OK) {
        return st;
    }
    struct reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    om__gdal_capture_push(&r.cap);
    OGRLayerH l = NULL;
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
    st = pick_layer(ds, path, opt ? opt->layer : NULL, &l, err);
    if (st != OM_OK) {
        goto out;
    }
    r.lname = OGR_L_GetName(l);
    if (opt && opt->encoding && strcmp(drv, "CSV") == 0 &&
        om__strcasecmp(opt->encoding, "UTF-8") != 0 &&
        om__strcasecmp(opt->encoding, "UTF8") != 0) {
        r.recode_from = opt->encoding;
    }
    if (opt && opt->where && opt->where[0]) {
        int nf = r.cap.nfailures;
        if (OGR_L_SetAttributeFilter(l, opt->where) != OGRERR_NONE) {
            st = om__error(
                err, OM_EINVAL, path, 0, -1,
                "layer '%s': bad filter '%.100s': %s", r.lname, opt->where,
                r.cap.nfailures != nf ? r.cap.failure : "rejected by GDAL");
            goto out;
        }
    }
    st = om_layer_new(r.lname, &r.layer, err);
    if (st != OM_OK) {
        goto out;
    }
    st = set_layer_crs(&r, l, drv, opt, err);
    if (st != OM_OK) {
        goto out;
    }
    st = setup_fields(&r, l, err);
    if (st != OM_OK) {
        goto out;
    }
    st = read_features(&r, l, progress, err);
out:
    if (opt && opt->where && l) {
        OGR_L_SetAttributeFilter(l, NULL);
    }
    om__gdal_capture_pop();
    GDALClose(ds);
    om__free(r.map);
    om__free(r.types);
    om__free(r.xy);
    if (st != OM_OK) {
        om_layer_free(r.layer);
        return st;
    }
    if (opt && opt->nskipped) {
        *opt->nskipped = r.nskipped;
    }
    *out = r.layer;
    return OM_OK;
}

/* ---- listing ---- */

void om_source_layers_free(struct om_source_layer *layers, size_t n)
{
    if (!layers) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        om__free(layers[i].name);
        om__free(layers[i].geometry_type);
        om__free(layers[i].crs);
    }
    om__free(layers);
}

enum om_status om_source_layers(const char *path, struct om_source_layer **out,
                                size_t *n, struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (n) {
        *n = 0;
    }
    if (!out || !n) {
        return om__error(err, OM_EINVAL, path, 0, -1, "no output given");
    }
    GDALDatasetH ds = NULL;
    enum om_status st = open_source(path, NULL, &ds, err);
    if (st != OM_OK) {
        return st;
    }
    struct om__gdal_capture cap;
    om__gdal_capture_push(&cap);
    int nl = GDALDatasetGetLayerCount(ds);
    const char *drv = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
    struct om_source_layer *ls = NULL;
    if (nl > 0) {
        ls = om__calloc((size_t)nl, sizeof *ls);
        if (!ls) {
            st = om__enomem(err, path);
        }
    }
    for (int i = 0; i < nl && st == OM_OK; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(l);
        ls[i].name = om__strdup(OGR_L_GetName(l));
        ls[i].geometry_type =
            om__strdup(OGRGeometryTypeToName(OGR_L_GetGeomType(l)));
        ls[i].nfeatures = (int64_t)OGR_L_GetFeatureCount(l, FALSE);
        bool nomem = false;
        if (srs) {
            /* an unexportable CRS is listed as none */
            nomem = om__gdal_srs_name(srs, &ls[i].crs) == OM_ENOMEM;
        } else if (is_json_driver(drv)) {
            ls[i].crs = om__strdup("EPSG:4326");
            nomem = !ls[i].crs;
        }
        if (!ls[i].name || !ls[i].geometry_type || nomem) {
            st = om__enomem(err, path);
        }
    }
    om__gdal_capture_pop();
    GDALClose(ds);
    if (st != OM_OK) {
        om_source_layers_free(ls, (size_t)nl);
        return st;
    }
    *out = ls;
    *n = (size_t)nl;
    return OM_OK;
}
