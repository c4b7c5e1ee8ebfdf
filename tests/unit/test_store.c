/*
 * test_store.c — the project database: create/open/refuse, import and
 * read back exactly, versions, catalogue, issues and log, cancel and
 * kill -9 leave the file as it was, OOM in read; reading some fields gives
 * the full read without the other columns. GDAL (ogrinfo, ogr2ogr,
 * validate_gpkg.py) is the independent oracle that the file is a
 * GeoPackage QGIS opens.
 */
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "onemap/store.h"
#include "store/store_int.h"
#include "test.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- helpers ---- */

static char *run_cmd(const char *cmd, int *status)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while (out && (n = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *o = realloc(out, cap * 2);
            if (!o) {
                free(out);
                out = NULL;
                break;
            }
            out = o;
            cap *= 2;
        }
    }
    if (out) {
        out[len] = '\0';
    }
    *status = pclose(f);
    return out;
}

static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", test_tmpdir(), name);
    return buf;
}

static const double OX = 500000, OY = 4800000;

static void square(struct om_layer *l, double x, double y, double s)
{
    double r[] = {x, y, x + s, y, x + s, y + s, x, y + s, x, y};
    om_layer_add_ring(l, r, 5, NULL);
}

/* The sample layer: 5 hand-made features plus `nextra` grid squares. */
static struct om_layer *make_layer(size_t nextra, bool with_attrs)
{
    struct om_layer *l = NULL;
    if (om_layer_new("src", &l, NULL) != OM_OK) {
        return NULL;
    }
    int dlbm = -1, tbmj = -1, name = -1, count = -1, geom = -1;
    if (with_attrs) {
        om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &dlbm, NULL);
        om_layer_add_field(l, "TBMJ", OM_FIELD_REAL, &tbmj, NULL);
        om_layer_add_field(l, "地类名称", OM_FIELD_TEXT, &name, NULL);
        om_layer_add_field(l, "数量", OM_FIELD_INT, &count, NULL);
        om_layer_add_field(l, "geom", OM_FIELD_TEXT, &geom, NULL);
    }
    /* fid 1: a square */
    om_layer_begin_feature(l, 1, NULL);
    om_layer_begin_part(l, NULL);
    square(l, OX, OY, 100);
    if (with_attrs) {
        om_layer_set_text(l, dlbm, "0101", NULL);
        om_layer_set_real(l, tbmj, 10000.5, NULL);
        om_layer_set_text(l, name, "水田", NULL);
        om_layer_set_int(l, count, 3, NULL);
        om_layer_set_text(l, geom, "x", NULL);
    }
    om_layer_end_feature(l, NULL);
    /* fid 2: a polygon with a hole, flagged invalid */
    om_layer_begin_feature(l, 2, NULL);
    om_layer_begin_part(l, NULL);
    square(l, OX + 200, OY, 100);
    double hole[] = {OX + 210.125, OY + 10, OX + 210.125, OY + 20,
                     OX + 220,     OY + 20, OX + 220,     OY + 10};
    om_layer_add_ring(l, hole, 4, NULL);
    om_layer_set_flags(l, OM_FEAT_INVALID);
    if (with_attrs) {
        om_layer_set_text(l, dlbm, "0103", NULL);
        om_layer_set_real(l, tbmj, 1.0 / 3.0, NULL);
        om_layer_set_text(l, name, "旱地", NULL);
        om_layer_set_int(l, count, -9007199254740993LL, NULL);
    }
    om_layer_end_feature(l, NULL);
    /* fid 5: a multipolygon */
    om_layer_begin_feature(l, 5, NULL);
    om_layer_begin_part(l, NULL);
    square(l, OX + 400, OY, 50);
    om_layer_begin_part(l, NULL);
    square(l, OX + 460, OY + 0.1, 1e-3);
    if (with_attrs) {
        om_layer_set_text(l, dlbm, "05H1", NULL);
        om_layer_set_real(l, tbmj, 1e-300, NULL);
        om_layer_set_text(l, name, "引号\"'\n换行;--", NULL);
    }
    om_layer_end_feature(l, NULL);
    /* fid 4: empty */
    om_layer_begin_feature(l, 4, NULL);
    om_layer_end_feature(l, NULL);
    /* fid 3: a triangle, empty-string text */
    om_layer_begin_feature(l, 3, NULL);
    om_layer_begin_part(l, NULL);
    double tri[] = {OX, OY - 50, OX + 30, OY - 50, OX + 15, OY - 20};
    om_layer_add_ring(l, tri, 3, NULL);
    if (with_attrs) {
        om_layer_set_text(l, dlbm, "", NULL);
    }
    om_layer_end_feature(l, NULL);
    for (size_t i = 0; i < nextra; i++) {
        om_layer_begin_feature(l, 1000 + (int64_t)i, NULL);
        om_layer_begin_part(l, NULL);
        square(l, OX + (double)(i % 300) * 10,
               OY + 1000 + (double)(i / 300) * 10, 10);
        if (with_attrs) {
            om_layer_set_text(l, dlbm, "0201", NULL);
            om_layer_set_real(l, tbmj, (double)i, NULL);
            om_layer_set_int(l, count, (int64_t)i, NULL);
        }
        om_layer_end_feature(l, NULL);
    }
    om_layer_set_crs(l, "EPSG:4530", NULL);
    om_layer_finish(l, 0, NULL);
    return l;
}

static bool same_geometry(const struct om_layer *a, size_t fa,
                          const struct om_layer *b, size_t fb)
{
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    size_t np = va.part_start[fa + 1] - va.part_start[fa];
    if (np != vb.part_start[fb + 1] - vb.part_start[fb]) {
        return false;
    }
    for (size_t k = 0; k < np; k++) {
        size_t pa = va.part_start[fa] + k, pb = vb.part_start[fb] + k;
        size_t nr = va.ring_start[pa + 1] - va.ring_start[pa];
        if (nr != vb.ring_start[pb + 1] - vb.ring_start[pb]) {
            return false;
        }
        for (size_t j = 0; j < nr; j++) {
            size_t ra = va.ring_start[pa] + j, rb = vb.ring_start[pb] + j;
            size_t n = va.point_start[ra + 1] - va.point_start[ra];
            if (n != vb.point_start[rb + 1] - vb.point_start[rb] ||
                memcmp(va.xy + 2 * va.point_start[ra],
                       vb.xy + 2 * vb.point_start[rb], 16 * n) != 0) {
                return false;
            }
        }
    }
    return true;
}

/* Compare every feature, coordinate and attribute; "" if equal. */
static const char *compare_layers(const struct om_layer *a,
                                  const struct om_layer *b, char *why,
                                  size_t size)
{
    why[0] = '\0';
    if (om_layer_nfeatures(a) != om_layer_nfeatures(b)) {
        snprintf(why, size, "%zu vs %zu features", om_layer_nfeatures(a),
                 om_layer_nfeatures(b));
        return why;
    }
    if (om_layer_nfields(a) != om_layer_nfields(b)) {
        snprintf(why, size, "%zu vs %zu fields", om_layer_nfields(a),
                 om_layer_nfields(b));
        return why;
    }
    struct om_layer_view va;
    om_layer_view(a, &va);
    for (size_t f = 0; f < va.nfeatures; f++) {
        int64_t fid = va.fid[f];
        size_t g = om_layer_find_fid(b, fid);
        if (g == (size_t)-1) {
            snprintf(why, size, "fid %lld missing", (long long)fid);
            return why;
        }
        if (!same_geometry(a, f, b, g)) {
            snprintf(why, size, "fid %lld: geometry differs", (long long)fid);
            return why;
        }
        for (size_t c = 0; c < om_layer_nfields(a); c++) {
            const char *name = om_layer_field_name(a, (int)c);
            int k = om_layer_field_index(b, name);
            if (k < 0 && strcmp(name, "geom") == 0) {
                k = om_layer_field_index(b, "geom_1");
            }
            if (k < 0 ||
                om_layer_field_type(b, k) != om_layer_field_type(a, (int)c)) {
                snprintf(why, size, "field %s missing or retyped", name);
                return why;
            }
            bool na = om_layer_is_null(a, f, (int)c);
            bool nb = om_layer_is_null(b, g, k);
            bool eq = na == nb;
            if (eq && !na) {
                switch (om_layer_field_type(a, (int)c)) {
                case OM_FIELD_INT:
                    eq = om_layer_get_int(a, f, (int)c) ==
                         om_layer_get_int(b, g, k);
                    break;
                case OM_FIELD_REAL: {
                    double x = om_layer_get_real(a, f, (int)c);
                    double y = om_layer_get_real(b, g, k);
                    eq = memcmp(&x, &y, 8) == 0;
                    break;
                }
                default:
                    eq = strcmp(om_layer_get_text(a, f, (int)c),
                                om_layer_get_text(b, g, k)) == 0;
                }
            }
            if (!eq) {
                snprintf(why, size, "fid %lld field %s differs", (long long)fid,
                         name);
                return why;
            }
        }
    }
    return why;
}

/* Is value (fa, ca) of a the same as (fb, cb) of b, NULLs included? */
static bool same_value(const struct om_layer *a, size_t fa, int ca,
                       const struct om_layer *b, size_t fb, int cb)
{
    bool na = om_layer_is_null(a, fa, ca), nb = om_layer_is_null(b, fb, cb);
    if (na || nb) {
        return na == nb;
    }
    switch (om_layer_field_type(a, ca)) {
    case OM_FIELD_INT:
        return om_layer_get_int(a, fa, ca) == om_layer_get_int(b, fb, cb);
    case OM_FIELD_REAL: {
        double x = om_layer_get_real(a, fa, ca);
        double y = om_layer_get_real(b, fb, cb);
        return memcmp(&x, &y, 8) == 0;
    }
    default:
        return strcmp(om_layer_get_text(a, fa, ca),
                      om_layer_get_text(b, fb, cb)) == 0;
    }
}

/*
 * A read of some fields (`sub`) against the full read of the same layer:
 * the same features in the same order with the same fids, flags, boxes and
 * geometry, the same name, CRS and extent, finished, and every field of
 * `sub` equal to the field of that name in `full`. "" if so.
 */
static const char *compare_subset(const struct om_layer *full,
                                  const struct om_layer *sub, char *why,
                                  size_t size)
{
    why[0] = '\0';
    struct om_layer_view vf, vs;
    om_layer_view(full, &vf);
    om_layer_view(sub, &vs);
    struct om_rect ef = om_layer_extent(full), es = om_layer_extent(sub);
    const char *cf = om_layer_crs(full), *cs = om_layer_crs(sub);
    if (vf.nfeatures != vs.nfeatures || vf.npoints != vs.npoints ||
        vf.nrings != vs.nrings || vf.nparts != vs.nparts) {
        snprintf(why, size, "%zu/%zu vs %zu/%zu features/points", vf.nfeatures,
                 vf.npoints, vs.nfeatures, vs.npoints);
        return why;
    }
    if (!om_layer_is_finished(sub) ||
        strcmp(om_layer_name(full), om_layer_name(sub)) != 0 || !cf || !cs ||
        strcmp(cf, cs) != 0 || memcmp(&ef, &es, sizeof ef) != 0) {
        snprintf(why, size, "name, crs, extent or finished differ");
        return why;
    }
    for (size_t f = 0; f < vf.nfeatures; f++) {
        if (vf.fid[f] != vs.fid[f] || vf.flags[f] != vs.flags[f] ||
            memcmp(&vf.bbox[f], &vs.bbox[f], sizeof vf.bbox[f]) != 0 ||
            !same_geometry(full, f, sub, f)) {
            snprintf(why, size, "feature %zu (fid %lld / %lld) differs", f,
                     (long long)vf.fid[f], (long long)vs.fid[f]);
            return why;
        }
    }
    for (size_t c = 0; c < om_layer_nfields(sub); c++) {
        const char *name = om_layer_field_name(sub, (int)c);
        int k = om_layer_field_index(full, name);
        if (k < 0 || strcmp(om_layer_field_name(full, k), name) != 0 ||
            om_layer_field_type(full, k) != om_layer_field_type(sub, (int)c)) {
            snprintf(why, size, "field %s missing, renamed or retyped", name);
            return why;
        }
        for (size_t f = 0; f < vf.nfeatures; f++) {
            if (!same_value(full, f, k, sub, f, (int)c)) {
                snprintf(why, size, "fid %lld field %s differs",
                         (long long)vf.fid[f], name);
                return why;
            }
        }
    }
    return why;
}

/* "Feature Count: N" of layer `name` in ogrinfo -so output; -1 if none. */
static long ogr_count(const char *path, const char *layer)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "ogrinfo -so '%s' '%s' 2>&1", path, layer);
    int status;
    char *out = run_cmd(cmd, &status);
    long n = -1;
    const char *p = out ? strstr(out, "Feature Count: ") : NULL;
    if (p && status == 0) {
        n = strtol(p + 15, NULL, 10);
    }
    free(out);
    return n;
}

static enum om_status import_sample(struct om_project *p, const char *code,
                                    struct om_layer *l, int *version,
                                    const struct om_progress *prog,
                                    struct om_error *err)
{
    struct om_feature_issue issue = {2, "invalid", "Self-intersection",
                                     OX + 215, OY + 15};
    struct om_import_meta meta = {0};
    meta.code = code;
    meta.source = "/data/源/dltb.shp";
    meta.source_layer = "dltb";
    meta.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
                  "7852b855";
    meta.params_json = "{\"encoding\":\"GBK\"}";
    meta.issues = &issue;
    meta.nissues = 1;
    return om_project_import(p, l, &meta, version, prog, err);
}

/* ---- tests ---- */

TEST(test_create_open)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("create.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    CHECK_STR(om_project_crs(p), "EPSG:4530");
    CHECK_STR(om_project_path(p), path);
    CHECK_INT(om_project_srs_id(p), 4530);
    om_project_close(p);
    p = NULL;
    CHECK_STATUS(om_project_create(path, "EPSG:4530", &p, &err), OM_EEXIST);
    CHECK(p == NULL);
    CHECK_OK(om_project_open(path, true, &p, &err), &err);
    CHECK_STR(om_project_crs(p), "EPSG:4530");
    char *v = NULL;
    enum om_status st = om_project_get_meta(p, "onemap_version", &v, &err);
    bool has_version = st == OM_OK && v && v[0];
    om_project_free_string(v);
    om_project_close(p);
    CHECK(has_version);
    /* the GeoPackage header fields, and the project's page size */
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' 'PRAGMA application_id; PRAGMA user_version; "
             "PRAGMA page_size;'",
             path);
    int status;
    char *out = run_cmd(cmd, &status);
    bool ok = out && strcmp(out, "1196444487\n10300\n32768\n") == 0;
    free(out);
    CHECK(ok);
    /* missing file, bad CRS (and no file left behind) */
    tmp_path("missing.gpkg", path, sizeof path);
    CHECK_STATUS(om_project_open(path, false, &p, &err), OM_ENOTFOUND);
    tmp_path("badcrs.gpkg", path, sizeof path);
    CHECK_STATUS(om_project_create(path, "EPSG:45x", &p, &err), OM_ECRS);
    struct stat sb;
    CHECK(stat(path, &sb) != 0);
    CHECK_STATUS(om_project_create(path, "EPSG:99999", &p, &err), OM_ECRS);
    CHECK_CONTAINS(err.msg, "unknown CRS");
    CHECK(stat(path, &sb) != 0);
    /* a custom WKT CRS is stored as srs_id 100000 with its definition */
    tmp_path("custom.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path,
                               "PROJCS[\"custom tm\",GEOGCS[\"CGCS2000\","
                               "DATUM[\"China_2000\",SPHEROID[\"CGCS2000\","
                               "6378137,298.257222101]],PRIMEM[\"Greenwich\","
                               "0],UNIT[\"degree\",0.0174532925199433]],"
                               "PROJECTION[\"Transverse_Mercator\"],"
                               "PARAMETER[\"central_meridian\",125.5],"
                               "PARAMETER[\"scale_factor\",1],"
                               "PARAMETER[\"false_easting\",500000],"
                               "PARAMETER[\"false_northing\",0],"
                               "UNIT[\"metre\",1]]",
                               &p, &err),
             &err);
    int32_t custom_id = om_project_srs_id(p);
    bool custom_projected = om_project_crs_is_projected(p);
    om_project_close(p);
    CHECK_INT(custom_id, 100000);
    CHECK(custom_projected);
}

TEST(test_auto_crs)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("auto.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "auto", &p, &err), &err);
    CHECK(om_project_crs(p) == NULL);
    CHECK(!om_project_crs_is_projected(p));
    struct om_layer *l = make_layer(0, false);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    om_layer_free(l);
    CHECK_STATUS(st, OM_ECRS);
    om_project_close(p);
    CHECK_OK(om_project_open(path, false, &p, &err), &err);
    CHECK(om_project_crs(p) == NULL);
    st = om_project_set_crs(p, "EPSG:4490", &err);
    if (st != OM_OK) {
        om_project_close(p);
        CHECK_OK(st, &err);
    }
    st = om_project_set_crs(p, "EPSG:4530", &err);
    om_project_close(p);
    CHECK_STATUS(st, OM_EINVAL);
    CHECK_OK(om_project_open(path, true, &p, &err), &err);
    const char *crs = om_project_crs(p);
    bool ok = crs && strcmp(crs, "EPSG:4490") == 0;
    bool projected = om_project_crs_is_projected(p);
    om_project_close(p);
    CHECK(ok);
    CHECK(!projected); /* geographic */
}

TEST(test_refuse_non_projects)
{
    char text[512], plain[512], gpkg[512], cmd[4096], src[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("text.gpkg", text, sizeof text);
    FILE *f = fopen(text, "w");
    CHECK(f);
    fputs("this is not a database, just some text that is long enough to "
          "fill a SQLite header of one hundred bytes ..................\n",
          f);
    fclose(f);
    CHECK_STATUS(om_project_open(text, false, &p, &err), OM_ESTORE);
    CHECK_CONTAINS(err.msg, "not a onemap project");
    CHECK_CONTAINS(err.msg, "onemap init");
    tmp_path("plain.sqlite", plain, sizeof plain);
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'CREATE TABLE t(x)'", plain);
    CHECK(system(cmd) == 0);
    CHECK_STATUS(om_project_open(plain, true, &p, &err), OM_ESTORE);
    CHECK_CONTAINS(err.msg, "no om_project table");
    test_data_path("france-communes/communes-67-bas-rhin.geojson", src,
                   sizeof src);
    tmp_path("ogr.gpkg", gpkg, sizeof gpkg);
    snprintf(cmd, sizeof cmd, "ogr2ogr -f GPKG '%s' '%s' 2>&1", gpkg, src);
    CHECK(system(cmd) == 0);
    CHECK_STATUS(om_project_open(gpkg, false, &p, &err), OM_ESTORE);
    CHECK_CONTAINS(err.msg, "not a onemap project");
    /* an empty file is an empty SQLite database: still not a project */
    tmp_path("empty.gpkg", text, sizeof text);
    f = fopen(text, "w");
    CHECK(f);
    fclose(f);
    CHECK_STATUS(om_project_open(text, true, &p, &err), OM_ESTORE);
    CHECK(p == NULL);
}

TEST(test_import_read_back_exactly)
{
    char path[512], why[300];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("roundtrip.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(20, true);
    int version = 0;
    enum om_status st = import_sample(p, "DLTB", l, &version, NULL, &err);
    struct om_layer *r = NULL;
    if (st == OM_OK) {
        st = om_project_read(p, "DLTB", 0, &r, NULL, &err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        om_project_close(p);
        CHECK_OK(st, &err);
    }
    compare_layers(l, r, why, sizeof why);
    size_t f2 = om_layer_find_fid(r, 2), f4 = om_layer_find_fid(r, 4);
    struct om_layer_view v;
    om_layer_view(r, &v);
    unsigned flags2 = v.flags[f2], flags4 = v.flags[f4];
    bool finished = om_layer_is_finished(r);
    char crs[64], name[64];
    snprintf(crs, sizeof crs, "%s", om_layer_crs(r) ? om_layer_crs(r) : "");
    snprintf(name, sizeof name, "%s", om_layer_name(r));
    bool renamed = om_layer_field_index(r, "geom_1") >= 0 &&
                   om_layer_field_index(r, "地类名称") >= 0;
    om_layer_free(r);
    om_layer_free(l);
    /* catalogue, issues, log */
    struct om_layer_record rec;
    st = om_project_layer_record(p, "dltb", 0, &rec, &err);
    struct om_feature_issue *iss = NULL;
    size_t niss = 0;
    if (st == OM_OK) {
        st = om_project_issues(p, "DLTB", 1, &iss, &niss, &err);
    }
    struct om_import_log_entry *log = NULL;
    size_t nlog = 0;
    if (st == OM_OK) {
        st = om_project_import_log(p, NULL, &log, &nlog, &err);
    }
    om_project_close(p);
    if (st != OM_OK) {
        om_layer_record_deinit(&rec);
        om_feature_issues_free(iss, niss);
        CHECK_OK(st, &err);
    }
    bool rec_ok =
        strcmp(rec.code, "DLTB") == 0 && strcmp(rec.role, "landuse") == 0 &&
        rec.version == 1 && rec.is_current &&
        strcmp(rec.table, "DLTB_v1") == 0 && rec.nfeatures == 25 &&
        rec.nempty == 1 && rec.ninvalid == 1 && rec.nrepaired == 0 &&
        strcmp(rec.crs, "EPSG:4530") == 0 && rec.source &&
        strcmp(rec.source, "/data/源/dltb.shp") == 0 && rec.sha256[63] == '5' &&
        rec.params && strcmp(rec.params, "{\"encoding\":\"GBK\"}") == 0 &&
        strlen(rec.imported_at) == 20 && rec.imported_at[19] == 'Z' &&
        !rec.code_field && rec.extent.minx == OX &&
        rec.extent.miny == OY - 50 && rec.extent.maxx == OX + 460 + 1e-3;
    bool iss_ok = niss == 1 && iss[0].fid == 2 &&
                  strcmp(iss[0].kind, "invalid") == 0 &&
                  strcmp(iss[0].reason, "Self-intersection") == 0 &&
                  iss[0].x == OX + 215 && iss[0].y == OY + 15;
    bool log_ok = nlog == 1 && log[0].version == 1 &&
                  strcmp(log[0].code, "DLTB") == 0 && log[0].message &&
                  strstr(log[0].message, "25 features");
    om_layer_record_deinit(&rec);
    om_feature_issues_free(iss, niss);
    om_import_log_free(log, nlog);
    CHECK_INT(version, 1);
    if (why[0]) {
        FAILF("read back differs: %s", why);
        return;
    }
    CHECK(finished);
    CHECK(flags2 & OM_FEAT_INVALID);
    CHECK(flags4 & OM_FEAT_EMPTY);
    CHECK_STR(crs, "EPSG:4530");
    CHECK_STR(name, "DLTB");
    CHECK(renamed);
    CHECK(rec_ok);
    CHECK(iss_ok);
    CHECK(log_ok);
}

TEST(test_versions_and_gdal)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("versions.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *a = make_layer(100, true);
    struct om_layer *b = make_layer(7, true);
    struct om_layer *x = make_layer(0, false);
    int v1 = 0, v2 = 0, vx = 0;
    enum om_status st = import_sample(p, "DLTB", a, &v1, NULL, &err);
    if (st == OM_OK) {
        st = import_sample(p, "XZQ", x, &vx, NULL, &err);
    }
    if (st == OM_OK) {
        st = import_sample(p, "DLTB", b, &v2, NULL, &err);
    }
    struct om_layer *r1 = NULL, *r2 = NULL;
    if (st == OM_OK) {
        st = om_project_read(p, "DLTB", 1, &r1, NULL, &err);
    }
    if (st == OM_OK) {
        st = om_project_read(p, "DLTB", 0, &r2, NULL, &err);
    }
    struct om_layer_record *cur = NULL, *all = NULL;
    size_t ncur = 0, nall = 0;
    if (st == OM_OK) {
        st = om_project_layers(p, false, &cur, &ncur, &err);
    }
    if (st == OM_OK) {
        st = om_project_layers(p, true, &all, &nall, &err);
    }
    struct om_layer *bad = NULL;
    enum om_status st_missing = om_project_read(p, "GHFQ", 0, &bad, NULL, &err);
    char missing_msg[OM_ERROR_MSG_MAX];
    snprintf(missing_msg, sizeof missing_msg, "%s", err.msg);
    om_project_close(p);
    char why1[300], why2[300], why3[300] = "not read";
    if (st == OM_OK) {
        compare_layers(a, r1, why1, sizeof why1);
        compare_layers(b, r2, why2, sizeof why2);
    }
    /* the current-version view, through the external GeoPackage reader */
    struct om_layer *r3 = NULL;
    char crs3[64] = "";
    if (st == OM_OK) {
        st = om_project_read_gpkg_file(path, "DLTB", &r3, NULL, &err);
    }
    if (st == OM_OK) {
        compare_layers(b, r3, why3, sizeof why3);
        snprintf(crs3, sizeof crs3, "%s",
                 om_layer_crs(r3) ? om_layer_crs(r3) : "");
    }
    om_layer_free(r3);
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(x);
    om_layer_free(r1);
    om_layer_free(r2);
    bool cat_ok = st == OM_OK && ncur == 2 && nall == 3 &&
                  strcmp(cur[0].code, "DLTB") == 0 && cur[0].version == 2 &&
                  strcmp(cur[1].code, "XZQ") == 0 &&
                  strcmp(cur[1].role, "admin") == 0 &&
                  strcmp(all[0].table, "DLTB_v1") == 0 && !all[0].is_current &&
                  all[1].is_current && all[1].nfeatures == 12;
    om_layer_records_free(cur, ncur);
    om_layer_records_free(all, nall);
    CHECK_OK(st, &err);
    CHECK_INT(v1, 1);
    CHECK_INT(v2, 2);
    CHECK_INT(vx, 1);
    CHECK_STR(why1, "");
    CHECK_STR(why2, "");
    CHECK_STR(why3, "");
    CHECK_STR(crs3, "EPSG:4530");
    CHECK(cat_ok);
    CHECK_STATUS(st_missing, OM_ENOTFOUND);
    CHECK_CONTAINS(missing_msg, "'GHFQ'");
    CHECK_CONTAINS(missing_msg, "DLTB, XZQ");
    /* GDAL sees every version and the current view, with counts */
    CHECK_INT(ogr_count(path, "DLTB_v1"), 105);
    CHECK_INT(ogr_count(path, "DLTB_v2"), 12);
    CHECK_INT(ogr_count(path, "DLTB"), 12);
    CHECK_INT(ogr_count(path, "XZQ"), 5);
    /* ... with the project CRS and the spatial index */
    char cmd[4096];
    int status;
    snprintf(cmd, sizeof cmd, "ogrinfo -so '%s' DLTB_v1 2>&1", path);
    char *out = run_cmd(cmd, &status);
    bool crs_ok = out && status == 0 &&
                  (strstr(out, "ID[\"EPSG\",4530]") ||
                   strstr(out, "AUTHORITY[\"EPSG\",\"4530\"]")) &&
                  strstr(out, "Geometry: Multi Polygon") &&
                  strstr(out, "地类名称: String") &&
                  strstr(out, "数量: Integer64") && !strstr(out, "ERROR");
    if (!crs_ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(crs_ok);
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -sql \"SELECT HasSpatialIndex('DLTB_v1', "
             "'geom')\" 2>&1",
             path);
    out = run_cmd(cmd, &status);
    bool idx_ok = out && strstr(out, "= 1");
    free(out);
    CHECK(idx_ok);
    /* SQLite's own check of the bulk-loaded RTree structure */
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"SELECT rtreecheck('rtree_DLTB_v1_geom'), "
             "rtreecheck('rtree_DLTB_v2_geom'), "
             "rtreecheck('rtree_XZQ_v1_geom'); PRAGMA integrity_check\" "
             "2>&1",
             path);
    out = run_cmd(cmd, &status);
    bool check_ok = out && strcmp(out, "ok|ok|ok\nok\n") == 0;
    if (!check_ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(check_ok);
    /* a spatial filter through the RTree: fid 1 and 3 and grid squares
     * near the origin */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q -al '%s' DLTB_v1 -spat %.17g %.17g %.17g %.17g "
             "2>&1 | grep -c '^OGRFeature'",
             path, OX - 1, OY - 60, OX + 101, OY + 101);
    out = run_cmd(cmd, &status);
    long nspat = out ? strtol(out, NULL, 10) : -1;
    free(out);
    CHECK_INT(nspat, 2);
    /* attributes as GDAL reads them */
    snprintf(cmd, sizeof cmd, "ogrinfo -q '%s' DLTB_v1 -fid 1 2>&1", path);
    out = run_cmd(cmd, &status);
    bool attr_ok = out && strstr(out, "地类名称 (String) = 水田") &&
                   strstr(out, "TBMJ (Real) = 10000.5") &&
                   strstr(out, "MULTIPOLYGON (((500000 4800000");
    if (!attr_ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(attr_ok);
    /* edits through GDAL (as in QGIS) keep the RTree right via the
     * GeoPackage triggers */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -sql \"UPDATE DLTB_v2 SET geom = (SELECT geom "
             "FROM DLTB_v2 WHERE fid = 5) WHERE fid = 1\" >/dev/null 2>&1 && "
             "ogrinfo -q '%s' -sql \"DELETE FROM DLTB_v2 WHERE fid = 3\" "
             ">/dev/null 2>&1 && sqlite3 '%s' \"SELECT "
             "rtreecheck('rtree_DLTB_v2_geom'); SELECT count(*) FROM "
             "rtree_DLTB_v2_geom; SELECT minx FROM rtree_DLTB_v2_geom WHERE "
             "id = 1\" 2>&1",
             path, path, path);
    out = run_cmd(cmd, &status);
    bool trig_ok = out && strcmp(out, "ok\n10\n500400.0\n") == 0;
    if (!trig_ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(trig_ok);
}

TEST(test_validate_gpkg)
{
    const char *validator =
        "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    struct stat sb;
    if (stat(validator, &sb) != 0) {
        printf("SKIP test_store:test_validate_gpkg: no validate_gpkg.py\n");
        return;
    }
    char path[512], cmd[4096];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("validate.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(10, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    if (st == OM_OK) {
        st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    }
    om_layer_free(l);
    om_project_close(p);
    CHECK_OK(st, &err);
    snprintf(cmd, sizeof cmd, "python3 %s '%s' 2>&1", validator, path);
    int status;
    char *out = run_cmd(cmd, &status);
    bool ok = status == 0 && out && !strstr(out, "Error");
    if (!ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(ok);
}

struct cancel_ctx {
    volatile int cancel;
    uint64_t at;
    int pipe_fd;
};

static void cancel_fn(void *ctx, const char *phase, uint64_t done,
                      uint64_t total)
{
    (void)phase;
    (void)total;
    struct cancel_ctx *c = ctx;
    if (done >= c->at) {
        c->cancel = 1;
        if (c->pipe_fd >= 0) {
            if (write(c->pipe_fd, "x", 1) != 1) {
                _exit(3);
            }
            c->pipe_fd = -1;
        }
    }
}

TEST(test_cancel_leaves_catalogue)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("cancel.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(3000, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    struct cancel_ctx c = {0, 1500, -1};
    struct om_progress prog = {cancel_fn, &c, &c.cancel};
    enum om_status st2 = OM_OK;
    if (st == OM_OK) {
        st2 = import_sample(p, "DLTB", l, NULL, &prog, &err);
    }
    struct om_layer_record *all = NULL;
    size_t nall = 0;
    enum om_status st3 = om_project_layers(p, true, &all, &nall, &err);
    struct om_import_log_entry *log = NULL;
    size_t nlog = 0;
    enum om_status st4 = om_project_import_log(p, "DLTB", &log, &nlog, &err);
    struct om_layer *r = NULL;
    enum om_status st5 = om_project_read(p, "DLTB", 2, &r, NULL, &err);
    om_layer_free(r);
    om_project_close(p);
    om_layer_free(l);
    bool ok =
        nall == 1 && all[0].version == 1 && all[0].is_current && nlog == 1;
    om_layer_records_free(all, nall);
    om_import_log_free(log, nlog);
    CHECK_OK(st, &err);
    CHECK_STATUS(st2, OM_ECANCELED);
    CHECK(st3 == OM_OK && st4 == OM_OK);
    CHECK(ok);
    CHECK_STATUS(st5, OM_ENOTFOUND);
    CHECK_INT(ogr_count(path, "DLTB"), 3005);
    CHECK_INT(ogr_count(path, "DLTB_v2"), -1);
}

TEST(test_kill_during_import)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("kill.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *small = make_layer(0, true);
    enum om_status st = import_sample(p, "XZQ", small, NULL, NULL, &err);
    om_layer_free(small);
    om_project_close(p);
    CHECK_OK(st, &err);
    struct om_layer *big = make_layer(60000, true);
    CHECK(big);
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        struct om_project *q = NULL;
        if (om_project_open(path, false, &q, NULL) != OM_OK) {
            _exit(2);
        }
        struct cancel_ctx c = {0, 40000, fds[1]};
        struct om_progress prog = {cancel_fn, &c, NULL};
        import_sample(q, "DLTB", big, NULL, &prog, NULL);
        /* finished before the kill: still must not matter */
        for (;;) {
            pause();
        }
    }
    close(fds[1]);
    char ch;
    ssize_t got = read(fds[0], &ch, 1);
    kill(pid, SIGKILL);
    int wst = 0;
    waitpid(pid, &wst, 0);
    close(fds[0]);
    om_layer_free(big);
    CHECK_INT(got, 1);
    CHECK(WIFSIGNALED(wst));
    /* the interrupted import is rolled back when the file is next opened */
    CHECK_OK(om_project_open(path, false, &p, &err), &err);
    struct om_layer_record *all = NULL;
    size_t nall = 0;
    st = om_project_layers(p, true, &all, &nall, &err);
    bool ok = st == OM_OK && nall == 1 && strcmp(all[0].code, "XZQ") == 0;
    om_layer_records_free(all, nall);
    om_project_close(p);
    CHECK_OK(st, &err);
    CHECK(ok);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'PRAGMA integrity_check' 2>&1",
             path);
    int status;
    char *out = run_cmd(cmd, &status);
    bool intact = out && strcmp(out, "ok\n") == 0;
    free(out);
    CHECK(intact);
    CHECK_INT(ogr_count(path, "DLTB_v1"), -1);
    CHECK_INT(ogr_count(path, "XZQ"), 5);
}

TEST(test_bad_imports)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("bad.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(0, true);
    static const char *bad_codes[] = {"",
                                      "1DLTB",
                                      "om_layers",
                                      "GPKG_x",
                                      "DLTB_v2",
                                      "DL TB",
                                      "rtree_a",
                                      "a234567890123456789012345678901234567"
                                      "890123456789012345678901234"};
    enum om_status sts[8];
    for (int i = 0; i < 8; i++) {
        sts[i] = import_sample(p, bad_codes[i], l, NULL, NULL, &err);
    }
    /* duplicate fids */
    struct om_layer *d = NULL;
    om_layer_new("dup", &d, NULL);
    for (int i = 0; i < 2; i++) {
        om_layer_begin_feature(d, 7, NULL);
        om_layer_begin_part(d, NULL);
        square(d, i, 0, 1);
        om_layer_end_feature(d, NULL);
    }
    om_layer_finish(d, 0, NULL);
    enum om_status st_dup = import_sample(p, "DLTB", d, NULL, NULL, &err);
    char dup_msg[OM_ERROR_MSG_MAX];
    snprintf(dup_msg, sizeof dup_msg, "%s", err.msg);
    om_layer_free(d);
    struct om_layer_record *all = NULL;
    size_t nall = 99;
    enum om_status st_list = om_project_layers(p, true, &all, &nall, &err);
    om_project_close(p);
    /* read-only */
    enum om_status st_ro = OM_OK;
    if (om_project_open(path, true, &p, &err) == OM_OK) {
        st_ro = import_sample(p, "DLTB", l, NULL, NULL, &err);
        om_project_close(p);
    }
    om_layer_free(l);
    for (int i = 0; i < 8; i++) {
        CHECK_STATUS(sts[i], OM_EINVAL);
    }
    CHECK_STATUS(st_dup, OM_ESTORE);
    CHECK_CONTAINS(dup_msg, "fid 7");
    CHECK_OK(st_list, &err);
    CHECK_INT(nall, 0);
    CHECK(all == NULL);
    CHECK_STATUS(st_ro, OM_ESTORE);
}

TEST(test_meta)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("meta.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    enum om_status a = om_project_set_meta(p, "run.last", "42", &err);
    enum om_status b = om_project_set_meta(p, "crs", "EPSG:1", &err);
    char *v = NULL, *w = NULL;
    enum om_status c = om_project_get_meta(p, "run.last", &v, &err);
    enum om_status d = om_project_get_meta(p, "nope", &w, &err);
    om_project_close(p);
    bool ok = v && strcmp(v, "42") == 0 && !w;
    om_project_free_string(v);
    CHECK_OK(a, &err);
    CHECK_STATUS(b, OM_EINVAL);
    CHECK_OK(c, &err);
    CHECK_STATUS(d, OM_ENOTFOUND);
    CHECK(ok);
}

/* A project named `name` with 30 sample parcels as DLTB, for the
 * allocation-failure tests; NULL if it cannot be made. */
static struct om_project *oom_project(const char *name)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path(name, path, sizeof path);
    if (om_project_create(path, "EPSG:4530", &p, &err) != OM_OK) {
        return NULL;
    }
    struct om_layer *l = make_layer(30, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    om_layer_free(l);
    if (st != OM_OK) {
        om_project_close(p);
        return NULL;
    }
    return p;
}

TEST(test_read_oom)
{
    struct om_error err;
    struct om_project *p = oom_project("oom.gpkg");
    CHECK(p != NULL);
    enum om_status st;
    int nok = 0, nomem = 0, other = 0;
    for (int k = 0; k < 400 && nok < 3; k++) {
        test_fail_allocs_after(k);
        struct om_layer *r = NULL;
        st = om_project_read(p, "DLTB", 0, &r, NULL, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            nok++;
            om_layer_free(r);
        } else if (st == OM_ENOMEM && r == NULL) {
            nomem++;
        } else {
            other++;
        }
    }
    om_project_close(p);
    CHECK_INT(other, 0);
    CHECK(nomem > 10);
    CHECK(nok > 0);
}

/* The field names of a layer as "A, B, C". */
static const char *field_list(const struct om_layer *l, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t c = 0; c < om_layer_nfields(l); c++) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", c ? ", " : "",
                 om_layer_field_name(l, (int)c));
    }
    return buf;
}

/* om_project_read_fields gives the full read minus the other columns. */
TEST(test_read_fields)
{
    char path[512], why[4][300], names[3][200];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("fields.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(40, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    om_layer_free(l);
    /* case-insensitive, a name twice, not in table order */
    const char *two[] = {"tbmj", "DLBM", "dlbm"};
    /* non-ASCII names, an INT column, the renamed "geom" attribute */
    const char *three[] = {"数量", "geom_1", "地类名称"};
    struct om_layer *full = NULL, *sub[4] = {NULL, NULL, NULL, NULL};
    if (st == OM_OK) {
        st = om_project_read(p, "DLTB", 0, &full, NULL, &err);
    }
    if (st == OM_OK) {
        st = om_project_read_fields(p, "DLTB", 0, two, 3, &sub[0], NULL, &err);
    }
    if (st == OM_OK) {
        st =
            om_project_read_fields(p, "DLTB", 0, three, 3, &sub[1], NULL, &err);
    }
    if (st == OM_OK) {
        st = om_project_read_fields(p, "DLTB", 0, NULL, 0, &sub[2], NULL, &err);
    }
    if (st == OM_OK) {
        st = om_project_read_fields(p, "DLTB", 1, two + 1, 1, &sub[3], NULL,
                                    &err);
    }
    om_project_close(p);
    size_t nfields[4] = {0, 0, 0, 0};
    bool invalid2 = false, empty4 = false;
    for (int i = 0; st == OM_OK && i < 4; i++) {
        compare_subset(full, sub[i], why[i], sizeof why[i]);
        nfields[i] = om_layer_nfields(sub[i]);
        if (i < 2) {
            field_list(sub[i], names[i], sizeof names[i]);
        }
    }
    if (st == OM_OK) {
        struct om_layer_view v;
        om_layer_view(sub[2], &v);
        size_t f2 = om_layer_find_fid(sub[2], 2);
        size_t f4 = om_layer_find_fid(sub[2], 4);
        invalid2 = f2 != (size_t)-1 && (v.flags[f2] & OM_FEAT_INVALID);
        empty4 = f4 != (size_t)-1 && (v.flags[f4] & OM_FEAT_EMPTY);
        field_list(full, names[2], sizeof names[2]);
    }
    om_layer_free(full);
    for (int i = 0; i < 4; i++) {
        om_layer_free(sub[i]);
    }
    CHECK_OK(st, &err);
    for (int i = 0; i < 4; i++) {
        if (why[i][0]) {
            FAILF("read %d differs from the full read: %s", i, why[i]);
            return;
        }
    }
    CHECK_STR(names[2], "DLBM, TBMJ, 地类名称, 数量, geom_1");
    /* the table's names and order, each column once */
    CHECK_INT(nfields[0], 2);
    CHECK_STR(names[0], "DLBM, TBMJ");
    CHECK_INT(nfields[1], 3);
    CHECK_STR(names[1], "地类名称, 数量, geom_1");
    CHECK_INT(nfields[2], 0);
    CHECK_INT(nfields[3], 1);
    CHECK(invalid2);
    CHECK(empty4);
}

TEST(test_read_fields_errors)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err, e_nope, e_code;
    tmp_path("fields_err.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(3, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    om_layer_free(l);
    if (st != OM_OK) {
        om_project_close(p);
        CHECK_OK(st, &err);
    }
    const char *nope[] = {"DLBM", "NOPE"};
    const char *fid[] = {"fid"};
    const char *geom[] = {"GEOM"};
    const char *null[] = {NULL};
    struct om_layer *r[7];
    enum om_status s[7];
    s[0] = om_project_read_fields(p, "DLTB", 0, nope, 2, &r[0], NULL, &e_nope);
    /* the fid and the geometry column are not attributes */
    s[1] = om_project_read_fields(p, "DLTB", 0, fid, 1, &r[1], NULL, &err);
    s[2] = om_project_read_fields(p, "DLTB", 0, geom, 1, &r[2], NULL, &err);
    s[3] = om_project_read_fields(p, "DLTB", 0, null, 1, &r[3], NULL, &err);
    s[4] = om_project_read_fields(p, "DLTB", 0, NULL, 1, &r[4], NULL, &err);
    s[5] = om_project_read_fields(p, "GHFQ", 0, nope, 1, &r[5], NULL, &e_code);
    s[6] = om_project_read_fields(p, "DLTB", 7, nope, 1, &r[6], NULL, &err);
    /* the handle is still fine after the errors */
    struct om_layer *ok = NULL;
    enum om_status s_ok =
        om_project_read_fields(p, "DLTB", 0, nope, 1, &ok, NULL, &err);
    size_t n_ok = ok ? om_layer_nfeatures(ok) : 0;
    om_layer_free(ok);
    om_project_close(p);
    bool all_null = true;
    for (int i = 0; i < 7; i++) {
        all_null = all_null && r[i] == NULL;
    }
    CHECK(all_null);
    CHECK_STATUS(s[0], OM_ENOTFOUND);
    CHECK_INT(e_nope.status, OM_ENOTFOUND);
    CHECK_CONTAINS(e_nope.msg, "no field 'NOPE' in layer DLTB");
    CHECK_CONTAINS(e_nope.msg, "(fields: DLBM, TBMJ, 地类名称, 数量, geom_1)");
    CHECK_STATUS(s[1], OM_ENOTFOUND);
    CHECK_STATUS(s[2], OM_ENOTFOUND);
    CHECK_STATUS(s[3], OM_ENOTFOUND);
    CHECK_STATUS(s[4], OM_EINVAL);
    CHECK_STATUS(s[5], OM_ENOTFOUND);
    CHECK_CONTAINS(e_code.msg, "GHFQ");
    CHECK_STATUS(s[6], OM_ENOTFOUND);
    CHECK_OK(s_ok, &err);
    CHECK_INT(n_ok, 8);
}

struct progress_log {
    uint64_t done, total;
    int ncalls;
    bool done_above_total;
};

static void log_progress(void *ctx, const char *phase, uint64_t done,
                         uint64_t total)
{
    (void)phase;
    struct progress_log *g = ctx;
    g->done = done;
    g->total = total;
    g->ncalls++;
    g->done_above_total = g->done_above_total || done > total;
}

/* The row count for progress comes from the catalogue; a table changed
 * behind onemap's back (rows deleted in QGIS, the count edited) still
 * reads every row, and progress ends at (n, n). */
TEST(test_read_stale_count)
{
    char path[512], cmd[1200];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("stale.gpkg", path, sizeof path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(600, true);
    enum om_status st = import_sample(p, "DLTB", l, NULL, NULL, &err);
    om_layer_free(l);
    om_project_close(p);
    CHECK_OK(st, &err);
    /* one pass: with parts on threads, how many reports fall between the
     * first and the last depends on the threads' timing */
    int threads = om__store_read_threads;
    om__store_read_threads = 1;
    const char *counts[] = {"3", "100000"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd,
                 "sqlite3 '%s' \"DELETE FROM DLTB_v1 WHERE fid = %d; UPDATE "
                 "om_layers SET nfeatures = %s\" 2>&1",
                 path, 1000 + i, counts[i]);
        int status;
        free(run_cmd(cmd, &status));
        CHECK_INT(status, 0);
        CHECK_OK(om_project_open(path, true, &p, &err), &err);
        struct progress_log g = {0, 0, 0, false};
        struct om_progress prog = {log_progress, &g, NULL};
        const char *dlbm[] = {"DLBM"};
        struct om_layer *r = NULL;
        st = om_project_read_fields(p, "DLTB", 0, dlbm, 1, &r, &prog, &err);
        size_t n = r ? om_layer_nfeatures(r) : 0;
        bool gone = r && om_layer_find_fid(r, 1000 + i) == (size_t)-1;
        om_layer_free(r);
        om_project_close(p);
        CHECK_OK(st, &err);
        CHECK_INT(n, 604 - i);
        CHECK(gone);
        CHECK(!g.done_above_total);
        CHECK(g.ncalls > 2);
        CHECK_INT(g.done, n);
        CHECK_INT(g.total, n);
    }
    om__store_read_threads = threads;
}

/* Every allocation failure gives OM_ENOMEM (or the field error), nothing
 * else, and leaks nothing (the test allocator counts). */
TEST(test_read_fields_oom)
{
    struct om_error err;
    struct om_project *p = oom_project("fields_oom.gpkg");
    CHECK(p != NULL);
    enum om_status st;
    const char *good[] = {"TBMJ", "dlbm"};
    const char *bad[] = {"TBMJ", "NOPE"};
    int nok = 0, nomem = 0, nfound = 0, other = 0;
    for (int k = 0; k < 400 && nok < 3; k++) {
        struct om_layer *r = NULL, *e = NULL;
        test_fail_allocs_after(k);
        st = om_project_read_fields(p, "DLTB", 0, good, 2, &r, NULL, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            nok++;
            om_layer_free(r);
        } else if (st == OM_ENOMEM && r == NULL) {
            nomem++;
        } else {
            other++;
        }
        test_fail_allocs_after(k);
        st = om_project_read_fields(p, "DLTB", 0, bad, 2, &e, NULL, &err);
        test_fail_allocs_after(-1);
        if (st == OM_ENOTFOUND && e == NULL) {
            nfound++;
        } else if (st != OM_ENOMEM || e != NULL) {
            other++;
            om_layer_free(e);
        }
    }
    om_project_close(p);
    CHECK_INT(other, 0);
    CHECK(nomem > 10);
    CHECK(nok > 0);
    CHECK(nfound > 0);
}

/* The fast reader on a GeoPackage written by GDAL, against GDAL's own
 * SQL (SpatiaLite ST_Area, ST_NPoints) as the oracle. */
TEST(test_read_gdal_gpkg)
{
    char src[512], gpkg[512], cmd[4096];
    test_data_path("france-communes/communes-67-bas-rhin.geojson", src,
                   sizeof src);
    tmp_path("communes.gpkg", gpkg, sizeof gpkg);
    snprintf(cmd, sizeof cmd,
             "ogr2ogr -f GPKG '%s' '%s' -nln communes 2>&1 && "
             "ogr2ogr -update '%s' '%s' -nln second 2>&1",
             gpkg, src, gpkg, src);
    CHECK(system(cmd) == 0);
    struct om_layer *l = NULL;
    struct om_error err;
    CHECK_STATUS(om_project_read_gpkg_file(gpkg, NULL, &l, NULL, &err),
                 OM_EINVAL);
    CHECK_CONTAINS(err.msg, "communes, second");
    CHECK_STATUS(om_project_read_gpkg_file(gpkg, "nope", &l, NULL, &err),
                 OM_ENOTFOUND);
    CHECK_OK(om_project_read_gpkg_file(gpkg, "communes", &l, NULL, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    double area = 0;
    for (size_t q = 0; q < v.nparts; q++) {
        for (size_t r = v.ring_start[q]; r < v.ring_start[q + 1]; r++) {
            double s = 0;
            for (size_t k = v.point_start[r]; k + 1 < v.point_start[r + 1];
                 k++) {
                s += v.xy[2 * k] * v.xy[2 * k + 3] -
                     v.xy[2 * k + 2] * v.xy[2 * k + 1];
            }
            /* shell minus holes */
            area += (r == v.ring_start[q] ? 1 : -1) * fabs(s) / 2;
        }
    }
    size_t nf = v.nfeatures, np = v.npoints;
    bool finished = om_layer_is_finished(l);
    char crs[64];
    snprintf(crs, sizeof crs, "%s", om_layer_crs(l) ? om_layer_crs(l) : "");
    int code = om_layer_field_index(l, "code");
    int nom = om_layer_field_index(l, "nom");
    char first_code[32] = "";
    if (code >= 0 && nf) {
        snprintf(
            first_code, sizeof first_code, "%s",
            om_layer_get_text(l, om_layer_feature_by_fid_rank(l, 0), code));
    }
    om_layer_free(l);
    CHECK_INT(nf, 516);
    CHECK(!finished);
    CHECK_STR(crs, "EPSG:4326");
    CHECK(code >= 0 && nom >= 0);
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -sql \"SELECT printf('%%.17g', "
             "SUM(ST_Area(geom))) AS a, SUM(ST_NPoints(geom)) AS n FROM "
             "communes\" 2>&1",
             gpkg);
    int status;
    char *out = run_cmd(cmd, &status);
    const char *a2 = out ? strstr(out, "a (String) = ") : NULL;
    const char *n2 = a2 ? strstr(a2, "n (Integer") : NULL;
    double gdal_area = a2 ? strtod(a2 + 13, NULL) : -1;
    long gdal_np = n2 ? strtol(strchr(n2, '=') + 1, NULL, 10) : -1;
    if (!a2 || !n2) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -sql \"SELECT code FROM communes ORDER BY fid "
             "LIMIT 1\" 2>&1",
             gpkg);
    out = run_cmd(cmd, &status);
    char want[64];
    snprintf(want, sizeof want, "code (String) = %s\n", first_code);
    bool code_ok = out && first_code[0] && strstr(out, want);
    free(out);
    CHECK_NEAR(area, gdal_area, 1e-12, 0);
    CHECK_INT(np, gdal_np);
    CHECK(code_ok);
    /* GDAL's count (gpkg_ogr_contents) only plans the read and the
     * progress bar: stale, above the layer limit, or NULL (then COUNT(*)),
     * every feature is read, and the bar ends at their number */
    const char *counts[] = {"3", "1000000000000", "NULL"};
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd,
                 "sqlite3 '%s' \"UPDATE gpkg_ogr_contents SET feature_count "
                 "= %s WHERE table_name = 'communes'\" 2>&1",
                 gpkg, counts[i]);
        free(run_cmd(cmd, &status));
        CHECK_INT(status, 0);
        struct progress_log g = {0, 0, 0, false};
        struct om_progress prog = {log_progress, &g, NULL};
        l = NULL;
        CHECK_OK(om_project_read_gpkg_file(gpkg, "communes", &l, &prog, &err),
                 &err);
        CHECK_INT(l ? om_layer_nfeatures(l) : 0, 516);
        CHECK(!g.done_above_total);
        CHECK_INT(g.done, 516);
        CHECK_INT(g.total, 516);
        om_layer_free(l);
    }
}

/* Same layer, byte for byte: features in the same order, every array. */
static const char *same_bytes(const struct om_layer *a,
                              const struct om_layer *b, char *why, size_t size)
{
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    why[0] = '\0';
    if (va.nfeatures != vb.nfeatures || va.nparts != vb.nparts ||
        va.nrings != vb.nrings || va.npoints != vb.npoints) {
        snprintf(why, size, "counts %zu/%zu/%zu/%zu vs %zu/%zu/%zu/%zu",
                 va.nfeatures, va.nparts, va.nrings, va.npoints, vb.nfeatures,
                 vb.nparts, vb.nrings, vb.npoints);
    } else if (memcmp(va.fid, vb.fid, va.nfeatures * sizeof *va.fid) ||
               memcmp(va.flags, vb.flags, va.nfeatures) ||
               memcmp(va.xy, vb.xy, 2 * va.npoints * sizeof *va.xy) ||
               memcmp(va.point_start, vb.point_start,
                      (va.nrings + 1) * sizeof *va.point_start) ||
               memcmp(va.ring_start, vb.ring_start,
                      (va.nparts + 1) * sizeof *va.ring_start) ||
               memcmp(va.part_start, vb.part_start,
                      (va.nfeatures + 1) * sizeof *va.part_start) ||
               memcmp(va.bbox, vb.bbox, va.nfeatures * sizeof *va.bbox)) {
        snprintf(why, size, "fids, flags, boxes or coordinates differ");
    } else {
        compare_layers(a, b, why, size);
    }
    return why;
}

/*
 * Large tables are read in ranges of fids on several connections: the
 * layer is the one read in one pass (fids with gaps, NULLs, empty and
 * invalid features, multipolygons), from the project and from an outside
 * GeoPackage, for 2, 3 and 4 parts; a corrupt row in a later part fails
 * with the same message as in one pass.
 */
TEST(test_read_parallel)
{
    char path[512], cmd[1600];
    struct om_error err;
    struct om_project *p = NULL;
    tmp_path("parallel.gpkg", path, sizeof path);
    unlink(path);
    struct om_layer *src = make_layer(5000, true);
    CHECK(src != NULL);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    int version = 0;
    CHECK_OK(import_sample(p, "DLTB", src, &version, NULL, &err), &err);
    size_t min_rows = om__store_read_min_rows;
    int threads = om__store_read_threads;
    om__store_read_min_rows = 1;
    struct om_layer *one = NULL, *ext1 = NULL;
    om__store_read_threads = 1;
    CHECK_OK(om_project_read(p, "DLTB", 0, &one, NULL, &err), &err);
    CHECK_OK(om_project_read_gpkg_file(path, "DLTB_v1", &ext1, NULL, &err),
             &err);
    char why[300];
    for (int t = 2; t <= 4; t++) {
        struct om_layer *l = NULL, *ext = NULL;
        om__store_read_threads = t;
        CHECK_OK(om_project_read(p, "DLTB", 0, &l, NULL, &err), &err);
        CHECK_STR(same_bytes(one, l, why, sizeof why), "");
        CHECK_OK(om_project_read_gpkg_file(path, "DLTB_v1", &ext, NULL, &err),
                 &err);
        CHECK_STR(same_bytes(ext1, ext, why, sizeof why), "");
        om_layer_free(l);
        om_layer_free(ext);
    }
    CHECK_STR(compare_layers(src, one, why, sizeof why), "");
    /* kept in fid order (OM_LAYER_KEEP_ORDER): the same features, in fid
     * order, finished, on any number of threads */
    struct om_layer_view ov;
    om_layer_view(one, &ov);
    for (int t = 1; t <= 4; t++) {
        struct om_layer *k = NULL;
        om__store_read_threads = t;
        unsigned flags = OM_LAYER_KEEP_ORDER | (t % 2 ? OM_LAYER_NO_INDEX : 0);
        CHECK_OK(om_project_read_fields_flags(p, "DLTB", 0, NULL, 0, flags, &k,
                                              NULL, &err),
                 &err);
        if (!k) {
            continue;
        }
        CHECK(om_layer_is_finished(k));
        CHECK((om_layer_index(k) == NULL) == (t % 2 == 1));
        struct om_layer_view kv;
        om_layer_view(k, &kv);
        CHECK_INT(kv.nfeatures, ov.nfeatures);
        size_t bad = 0;
        for (size_t f = 0; f < kv.nfeatures && kv.nfeatures == ov.nfeatures;
             f++) {
            bad += f > 0 && kv.fid[f] <= kv.fid[f - 1];
            size_t g = om_layer_find_fid(one, kv.fid[f]);
            size_t n = om_feature_npoints(&kv, f);
            const double *a =
                kv.xy + 2 * kv.point_start[kv.ring_start[kv.part_start[f]]];
            const double *b =
                ov.xy + 2 * ov.point_start[ov.ring_start[ov.part_start[g]]];
            bad += g == (size_t)-1 || n != om_feature_npoints(&ov, g) ||
                   memcmp(a, b, 2 * n * sizeof *a) != 0 ||
                   kv.flags[f] != ov.flags[g];
        }
        CHECK_INT(bad, 0);
        om_layer_free(k);
    }
    /* in one pass when asked, whatever the threads: the same layer */
    struct om_layer *kept = NULL, *once = NULL;
    om__store_read_threads = 1;
    CHECK_OK(om_project_read_fields_flags(
                 p, "DLTB", 0, NULL, 0, OM_LAYER_KEEP_ORDER, &kept, NULL, &err),
             &err);
    om__store_read_threads = 4;
    unsigned long parted = om__store_parted_reads;
    CHECK_OK(om_project_read_fields_flags(
                 p, "DLTB", 0, NULL, 0, OM_LAYER_KEEP_ORDER | OM_READ_ONE_PASS,
                 &once, NULL, &err),
             &err);
    CHECK_INT(om__store_parted_reads, parted);
    if (kept && once) {
        CHECK_STR(same_bytes(kept, once, why, sizeof why), "");
    }
    om_layer_free(kept);
    om_layer_free(once);
    CHECK_OK(om_project_read_fields_flags(
                 p, "DLTB", 0, NULL, 0, OM_LAYER_KEEP_ORDER, &kept, NULL, &err),
             &err);
    CHECK_INT(om__store_parted_reads, parted + 1);
    om_layer_free(kept);
    struct om_layer *none = NULL;
    CHECK_STATUS(om_project_read_fields_flags(p, "DLTB", 0, NULL, 0, 8u, &none,
                                              NULL, &err),
                 OM_EINVAL);
    CHECK(none == NULL);
    /* a row of the last part that is not a GeoPackage geometry */
    om_project_close(p);
    p = NULL;
    /* (without the RTree triggers: the sqlite3 shell has no ST_IsEmpty) */
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"SELECT 'DROP TRIGGER \\\"' || name || '\\\";' "
             "FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
             "'DLTB_v1'; SELECT 'UPDATE DLTB_v1 SET geom = x''4750000100'' "
             "WHERE fid = 5990;'\" | sqlite3 '%s'",
             path, path);
    int status = 0;
    free(run_cmd(cmd, &status));
    CHECK_INT(status, 0);
    CHECK_OK(om_project_open(path, true, &p, &err), &err);
    char msg1[OM_ERROR_MSG_MAX] = "", msg4[OM_ERROR_MSG_MAX] = "";
    struct om_layer *bad = NULL;
    om__store_read_threads = 1;
    CHECK(om_project_read(p, "DLTB", 0, &bad, NULL, &err) != OM_OK);
    snprintf(msg1, sizeof msg1, "%s", err.msg);
    int64_t fid1 = err.feature;
    om__store_read_threads = 4;
    CHECK(om_project_read(p, "DLTB", 0, &bad, NULL, &err) != OM_OK);
    snprintf(msg4, sizeof msg4, "%s", err.msg);
    CHECK(bad == NULL);
    CHECK_STR(msg4, msg1);
    CHECK_INT(err.feature, fid1);
    CHECK_INT(fid1, 5990);
    om__store_read_min_rows = min_rows;
    om__store_read_threads = threads;
    om_project_close(p);
    om_layer_free(one);
    om_layer_free(ext1);
    om_layer_free(src);
}

/*
 * The GeoPackage R-tree of a layer kept in its source order (as an import
 * keeps it) is packed along a Hilbert curve all the same: squares on a
 * grid, their fids (= source order) scattered over it. Every leaf node's
 * box is then a small block of the grid: the leaves' areas add up to 1.3
 * times the extent. Packed in source order, each leaf spans most of the
 * extent: 66 times it.
 */
TEST(test_rtree_packed_any_order)
{
    char path[512];
    struct om_error err;
    struct om_project *p = NULL;
    tmp_path("packed.gpkg", path, sizeof path);
    unlink(path);
    enum { SIDE = 60, N = SIDE * SIDE };
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("src", &l, &err), &err);
    for (size_t k = 0; k < N; k++) {
        /* 1637 is prime to N: k -> cell is a bijection that scatters */
        size_t cell = (k * 1637) % N;
        double x = OX + 2.0 * (double)(cell % SIDE);
        double y = OY + 2.0 * (double)(cell / SIDE);
        CHECK_OK(om_layer_begin_feature(l, (int64_t)k + 1, &err), &err);
        CHECK_OK(om_layer_begin_part(l, &err), &err);
        square(l, x, y, 1.0);
        CHECK_OK(om_layer_end_feature(l, &err), &err);
    }
    CHECK_OK(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    int version = 0;
    CHECK_OK(import_sample(p, "DLTB", l, &version, NULL, &err), &err);
    /* the leaves: the nodes the _rowid table points at */
    sqlite3_stmt *st = NULL;
    CHECK(sqlite3_prepare_v2(p->db,
                             "SELECT rtreenode(2, data) FROM "
                             "rtree_DLTB_v1_geom_node WHERE nodeno IN "
                             "(SELECT nodeno FROM rtree_DLTB_v1_geom_rowid)",
                             -1, &st, NULL) == SQLITE_OK);
    double sum = 0.0;
    size_t leaves = 0, cells = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        double b[4] = {INFINITY, -INFINITY, INFINITY, -INFINITY};
        double id, c[4];
        int used = 0;
        /* "{id minx maxx miny maxy} {...} ..." */
        while (t && sscanf(t, " {%lf %lf %lf %lf %lf}%n", &id, &c[0], &c[1],
                           &c[2], &c[3], &used) == 5) {
            b[0] = fmin(b[0], c[0]);
            b[1] = fmax(b[1], c[1]);
            b[2] = fmin(b[2], c[2]);
            b[3] = fmax(b[3], c[3]);
            cells++;
            t += used;
        }
        sum += (b[1] - b[0]) * (b[3] - b[2]);
        leaves++;
    }
    sqlite3_finalize(st);
    CHECK_INT(cells, N);
    CHECK(leaves >= N / 51);
    double extent = (2.0 * SIDE - 1.0) * (2.0 * SIDE - 1.0);
    CHECK(sum < 2.0 * extent);
    om_project_close(p);
    om_layer_free(l);
}

/* om_import_meta.rows_written: marks fid 1 invalid and gives its issue,
 * or fails (ctx->fail). */
struct hook_ctx {
    struct om_layer *l;
    bool fail;
    int calls;
    struct om_feature_issue issue;
};

static enum om_status hook(void *ctx, const struct om_feature_issue **issues,
                           size_t *nissues, struct om_error *err)
{
    struct hook_ctx *h = ctx;
    h->calls++;
    if (h->fail) {
        return om__error(err, OM_EGEOM, "hook", 0, 2, "the check failed");
    }
    struct om_layer_view v;
    om_layer_view(h->l, &v);
    for (size_t f = 0; f < v.nfeatures; f++) {
        if (v.fid[f] == 1) {
            om_layer_mark(h->l, f, OM_FEAT_INVALID);
        }
    }
    *issues = &h->issue;
    *nissues = 1;
    return OM_OK;
}

/*
 * The import's rows_written hook (the validity check that runs while the
 * rows are written): its issues are recorded and the flags it sets are
 * counted in the catalogue; when it fails, the import is rolled back and
 * leaves no trace.
 */
TEST(test_rows_written_hook)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    tmp_path("hook.gpkg", path, sizeof path);
    unlink(path);
    CHECK_OK(om_project_create(path, "EPSG:4530", &p, &err), &err);
    struct om_layer *l = make_layer(50, true);
    CHECK(l != NULL);
    struct hook_ctx h = {
        l, true, 0, {1, "invalid", "Ring Self-intersection", OX + 10, OY + 10}};
    struct om_import_meta meta = {0};
    meta.code = "DLTB";
    meta.source = "x.gpkg";
    meta.sha256 = "00";
    meta.params_json = "{}";
    meta.rows_written = hook;
    meta.rows_written_ctx = &h;
    int version = 0;
    CHECK_STATUS(om_project_import(p, l, &meta, &version, NULL, &err),
                 OM_EGEOM);
    CHECK_CONTAINS(err.msg, "the check failed");
    CHECK_INT(h.calls, 1);
    struct om_layer_record *recs = NULL;
    size_t n = 99;
    CHECK_OK(om_project_layers(p, true, &recs, &n, &err), &err);
    CHECK_INT(n, 0);
    om_layer_records_free(recs, n);
    h.fail = false;
    CHECK_OK(om_project_import(p, l, &meta, &version, NULL, &err), &err);
    CHECK_INT(h.calls, 2);
    CHECK_INT(version, 1);
    CHECK_OK(om_project_layers(p, true, &recs, &n, &err), &err);
    CHECK_INT(n, 1);
    if (n == 1) {
        /* fid 2 flagged by make_layer, fid 1 by the hook */
        CHECK_INT(recs[0].ninvalid, 2);
    }
    om_layer_records_free(recs, n);
    struct om_feature_issue *is = NULL;
    size_t ni = 0;
    CHECK_OK(om_project_issues(p, "DLTB", 0, &is, &ni, &err), &err);
    CHECK_INT(ni, 1);
    if (ni == 1) {
        CHECK_INT(is[0].fid, 1);
        CHECK_STR(is[0].reason, "Ring Self-intersection");
    }
    om_feature_issues_free(is, ni);
    om_project_close(p);
    om_layer_free(l);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_store");
    RUN(test_create_open);
    RUN(test_auto_crs);
    RUN(test_refuse_non_projects);
    RUN(test_import_read_back_exactly);
    RUN(test_versions_and_gdal);
    RUN(test_validate_gpkg);
    RUN(test_cancel_leaves_catalogue);
    RUN(test_kill_during_import);
    RUN(test_bad_imports);
    RUN(test_meta);
    RUN(test_read_oom);
    RUN(test_read_fields);
    RUN(test_read_fields_errors);
    RUN(test_read_stale_count);
    RUN(test_read_fields_oom);
    RUN(test_read_gdal_gpkg);
    RUN(test_read_parallel);
    RUN(test_rtree_packed_any_order);
    RUN(test_rows_written_hook);
    TEST_MAIN_END();
}
