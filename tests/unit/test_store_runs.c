/*
 * test_store_runs.c — run records and results layers: a run's layers and
 * summary table commit together and read back; GDAL (ogrinfo,
 * validate_gpkg.py) and SQLite (rtreecheck, typeof, a snapshot of the
 * schema and rows) are the independent oracles; ids increase, older runs
 * stay, the view follows the latest run; abort and cancel leave the file
 * as it was; OOM on every allocation of begin/write/commit; projects made
 * before om_runs existed get it on open.
 */
#include "onemap/layer.h"
#include "onemap/store.h"
#include "test.h"

#include <math.h>
#include <sqlite3.h>
#include <sys/stat.h>

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

/*
 * A patches-like layer: `n` squares (fid 10, 11, ...) with a rule id, a
 * code with a leading zero, an area and a count, plus one empty feature
 * (fid 5) when `with_empty`. Finished, EPSG:4530.
 */
static struct om_layer *make_patches(size_t n, bool with_empty)
{
    struct om_layer *l = NULL;
    if (om_layer_new("patches", &l, NULL) != OM_OK) {
        return NULL;
    }
    int rule = -1, dlbm = -1, area = -1, cnt = -1, geom = -1;
    om_layer_add_field(l, "rule_id", OM_FIELD_TEXT, &rule, NULL);
    om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &dlbm, NULL);
    om_layer_add_field(l, "area_m2", OM_FIELD_REAL, &area, NULL);
    om_layer_add_field(l, "数量", OM_FIELD_INT, &cnt, NULL);
    om_layer_add_field(l, "geom", OM_FIELD_TEXT, &geom, NULL);
    for (size_t i = 0; i < n; i++) {
        om_layer_begin_feature(l, 10 + (int64_t)i, NULL);
        om_layer_begin_part(l, NULL);
        square(l, OX + (double)(i % 50) * 20, OY + (double)(i / 50) * 20, 10);
        om_layer_set_text(l, rule, i % 2 ? "R002" : "R001", NULL);
        om_layer_set_text(l, dlbm, "0101", NULL);
        om_layer_set_real(l, area, 100.0 + (double)i / 3.0, NULL);
        om_layer_set_int(l, cnt, (int64_t)i, NULL);
        om_layer_set_text(l, geom, "x", NULL);
        om_layer_end_feature(l, NULL);
    }
    if (with_empty) {
        om_layer_begin_feature(l, 5, NULL);
        om_layer_set_text(l, rule, "R003", NULL);
        om_layer_end_feature(l, NULL);
    }
    om_layer_set_crs(l, "EPSG:4530", NULL);
    if (om_layer_finish(l, 0, NULL) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* A fresh project with one imported layer DLTB (version 1). */
static enum om_status make_project(const char *name, char *path, size_t size,
                                   struct om_project **p, struct om_error *err)
{
    tmp_path(name, path, size);
    enum om_status s = om_project_create(path, "EPSG:4530", p, err);
    if (s != OM_OK) {
        return s;
    }
    struct om_layer *l = make_patches(3, false);
    struct om_import_meta meta = {0};
    meta.code = "DLTB";
    meta.sha256 = "ab12";
    s = l ? om_project_import(*p, l, &meta, NULL, NULL, err) : OM_ENOMEM;
    om_layer_free(l);
    if (s != OM_OK) {
        om_project_close(*p);
        *p = NULL;
    }
    return s;
}

static const struct om_run_input INPUTS[] = {
    {"DLTB", 1, "ab12"},
    {"CZKFBJ", 3, NULL},
};

static struct om_run_begin begin_args(void)
{
    struct om_run_begin b = {0};
    b.kind = "conflicts";
    b.params_json = "{\"min_area\":1,\"threads\":2,\"rules\":\"规则.yaml\"}";
    b.rules_source = "/data/onemap.yaml";
    b.rules_sha256 =
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    b.inputs = INPUTS;
    b.ninputs = 2;
    return b;
}

static const char *const SUM_COLS[] = {"rule_id", "unit_code", "npatches",
                                       "area_m2", "fid"};
/* rule_id text, unit_code text (leading zero), npatches integer, area_m2
 * real, "fid" (renamed fid_1) integer with a NULL */
static const char *const SUM_CELLS[] = {
    "R001", "0220102", "3",  "1234.5", "1",  /**/
    "R002", "220103",  "10", "7",      NULL, /**/
    "R003", "",        "0",  "-1e-3",  "3",
};

/* One full run: CONFLICTS (n patches + empty), SLIVERS (no features),
 * CONFLICT_SUMMARY. */
static enum om_status full_run(struct om_project *p, size_t n, int64_t *id,
                               struct om_error *err)
{
    struct om_layer *a = make_patches(n, true);
    struct om_layer *b = NULL;
    enum om_status s = om_layer_new("slivers", &b, err);
    if (s == OM_OK) {
        s = om_layer_finish(b, 0, err);
    }
    struct om_run *r = NULL;
    struct om_run_begin args = begin_args();
    if (s == OM_OK) {
        s = a ? om_run_begin(p, &args, &r, err) : OM_ENOMEM;
    }
    if (s == OM_OK) {
        *id = om_run_id(r);
        s = om_run_write_layer(r, "CONFLICTS", a, NULL, err);
    }
    if (s == OM_OK) {
        s = om_run_write_layer(r, "SLIVERS", b, NULL, err);
    }
    if (s == OM_OK) {
        s = om_run_write_table(r, "CONFLICT_SUMMARY", SUM_COLS, 5, SUM_CELLS, 3,
                               err);
    }
    if (s == OM_OK) {
        s = om_run_commit(r, "{\"npatches\":13,\"nslivers\":0}", err);
        r = NULL;
    }
    om_run_abort(r);
    om_layer_free(a);
    om_layer_free(b);
    return s;
}

/* Everything that matters of the file: schema, registry and run rows,
 * with row counts of every table. malloc'ed. */
static char *snapshot(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    static const char *const queries[] = {
        "SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM "
        "sqlite_master ORDER BY name",
        "SELECT table_name || '|' || data_type || '|' || "
        "COALESCE(identifier, '') FROM gpkg_contents ORDER BY 1",
        "SELECT table_name || '|' || column_name FROM gpkg_geometry_columns "
        "ORDER BY 1",
        "SELECT COALESCE(table_name, '') || '|' || extension_name FROM "
        "gpkg_extensions ORDER BY 1",
        "SELECT id || '|' || kind || '|' || COALESCE(tables, '') FROM "
        "om_runs ORDER BY id",
        "SELECT code || version || is_current FROM om_layers ORDER BY 1",
    };
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    for (size_t q = 0; out && q < sizeof queries / sizeof queries[0]; q++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, queries[q], -1, &st, NULL) != SQLITE_OK) {
            len +=
                (size_t)snprintf(out + len, cap - len, "[no query %zu]\n", q);
            continue;
        }
        while (sqlite3_step(st) == SQLITE_ROW && len + 2048 < cap) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            len +=
                (size_t)snprintf(out + len, cap - len, "%s\n", t ? t : "NULL");
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return out;
}

/* One value of a query on the file, as text ("" if none); malloc'ed. */
static char *query1(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *v = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            v = strdup((const char *)sqlite3_column_text(st, 0));
        } else {
            fprintf(stderr, "query1: %s: %s\n", sql, sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v ? v : strdup("");
}

#define CHECK_QUERY(path, sql, want)                                           \
    do {                                                                       \
        char *q_ = query1((path), (sql));                                      \
        bool ok_ = q_ && strcmp(q_, (want)) == 0;                              \
        if (!ok_) {                                                            \
            FAILF("%s gave \"%s\", want \"%s\"", (sql), q_ ? q_ : "(null)",    \
                  (want));                                                     \
        }                                                                      \
        free(q_);                                                              \
        if (!ok_) {                                                            \
            return;                                                            \
        }                                                                      \
    } while (0)

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

/* ---- tests ---- */

TEST(test_run_commit_layers_and_table)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("commit.gpkg", path, sizeof path, &p, &err), &err);
    int64_t id = 0;
    enum om_status s = full_run(p, 12, &id, &err);
    struct om_layer *back = NULL;
    if (s == OM_OK) {
        s = om_project_read_result(p, "conflicts_r1", &back, NULL, &err);
    }
    om_project_close(p);
    if (s != OM_OK) {
        om_layer_free(back);
    }
    CHECK_OK(s, &err);
    CHECK_INT(id, 1);
    /* read back exactly: fid order, attributes, empty feature, CRS */
    bool ok = om_layer_nfeatures(back) == 13 && om_layer_is_finished(back) &&
              om_layer_crs(back) &&
              strcmp(om_layer_crs(back), "EPSG:4530") == 0 &&
              strcmp(om_layer_name(back), "CONFLICTS_r1") == 0;
    struct om_layer_view v;
    om_layer_view(back, &v);
    int fa = om_layer_field_index(back, "area_m2");
    int fd = om_layer_field_index(back, "DLBM");
    int fg = om_layer_field_index(back, "geom_1");
    int fc = om_layer_field_index(back, "数量");
    ok = ok && fa >= 0 && fd >= 0 && fg >= 0 && fc >= 0 &&
         om_layer_field_type(back, fa) == OM_FIELD_REAL &&
         om_layer_field_type(back, fc) == OM_FIELD_INT;
    for (size_t f = 0; ok && f < v.nfeatures; f++) {
        /* KEEP_ORDER: fid order, 5 first */
        int64_t want = f == 0 ? 5 : 10 + (int64_t)(f - 1);
        ok = v.fid[f] == want;
        if (ok && f > 0) {
            double a = om_layer_get_real(back, f, fa);
            ok = a == 100.0 + (double)(f - 1) / 3.0 &&
                 strcmp(om_layer_get_text(back, f, fd), "0101") == 0 &&
                 om_layer_get_int(back, f, fc) == (int64_t)(f - 1) &&
                 v.part_start[f + 1] - v.part_start[f] == 1;
        }
        if (ok && f == 0) {
            ok = v.part_start[1] == v.part_start[0];
        }
    }
    om_layer_free(back);
    CHECK(ok);
    /* GDAL sees both layers, the views and the table, with counts */
    CHECK_INT(ogr_count(path, "CONFLICTS_r1"), 13);
    CHECK_INT(ogr_count(path, "CONFLICTS"), 13);
    CHECK_INT(ogr_count(path, "SLIVERS_r1"), 0);
    CHECK_INT(ogr_count(path, "CONFLICT_SUMMARY_r1"), 3);
    CHECK_INT(ogr_count(path, "CONFLICT_SUMMARY"), 3);
    char cmd[4096];
    int status;
    snprintf(cmd, sizeof cmd, "ogrinfo -so '%s' CONFLICTS_r1 2>&1", path);
    char *out = run_cmd(cmd, &status);
    bool crs_ok = out && status == 0 &&
                  (strstr(out, "ID[\"EPSG\",4530]") ||
                   strstr(out, "AUTHORITY[\"EPSG\",\"4530\"]")) &&
                  strstr(out, "Geometry: Multi Polygon") &&
                  strstr(out, "数量: Integer64") &&
                  strstr(out, "geom_1: String") && !strstr(out, "ERROR");
    if (!crs_ok) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(crs_ok);
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q '%s' -sql \"SELECT HasSpatialIndex('CONFLICTS_r1', "
             "'geom')\" 2>&1",
             path);
    out = run_cmd(cmd, &status);
    bool idx_ok = out && strstr(out, "= 1");
    free(out);
    CHECK(idx_ok);
    /* a spatial filter through the RTree: squares 0 and 1 */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q -al '%s' CONFLICTS_r1 -spat %.17g %.17g %.17g %.17g "
             "2>&1 | grep -c '^OGRFeature'",
             path, OX - 1, OY - 1, OX + 31, OY + 5);
    out = run_cmd(cmd, &status);
    long nspat = out ? strtol(out, NULL, 10) : -1;
    free(out);
    CHECK_INT(nspat, 2);
    CHECK_QUERY(path,
                "SELECT rtreecheck('rtree_CONFLICTS_r1_geom') || "
                "rtreecheck('rtree_SLIVERS_r1_geom') || "
                "(SELECT COUNT(*) FROM rtree_CONFLICTS_r1_geom)",
                "okok12");
    /* registry */
    CHECK_QUERY(path,
                "SELECT group_concat(table_name || ':' || data_type || ':' || "
                "identifier || ':' || COALESCE(srs_id, 'null'), ' ') FROM "
                "(SELECT * FROM gpkg_contents WHERE table_name NOT LIKE "
                "'DLTB%' ORDER BY table_name)",
                "CONFLICTS:features:CONFLICTS:4530 "
                "CONFLICTS_r1:features:CONFLICTS run 1:4530 "
                "CONFLICT_SUMMARY:attributes:CONFLICT_SUMMARY:null "
                "CONFLICT_SUMMARY_r1:attributes:CONFLICT_SUMMARY run 1:null "
                "SLIVERS:features:SLIVERS:4530 "
                "SLIVERS_r1:features:SLIVERS run 1:4530");
    CHECK_QUERY(path,
                "SELECT description FROM gpkg_contents WHERE table_name = "
                "'CONFLICTS_r1'",
                "onemap conflicts run 1: CONFLICTS");
    CHECK_QUERY(path,
                "SELECT min_x || ',' || min_y || ',' || max_x || ',' || max_y "
                "FROM gpkg_contents WHERE table_name = 'CONFLICTS_r1'",
                "500000.0,4800000.0,500230.0,4800010.0");
    /* summary column types: codes stay text, numbers become numbers */
    CHECK_QUERY(path,
                "SELECT group_concat(name || ' ' || type, ', ') FROM "
                "pragma_table_info('CONFLICT_SUMMARY_r1')",
                "fid INTEGER, rule_id TEXT, unit_code TEXT, npatches "
                "INTEGER, area_m2 REAL, fid_1 INTEGER");
    CHECK_QUERY(path,
                "SELECT group_concat(unit_code || '/' || typeof(npatches) || "
                "'/' || area_m2 || '/' || COALESCE(fid_1, 'N'), ' ') FROM "
                "(SELECT * FROM CONFLICT_SUMMARY_r1 ORDER BY fid)",
                "0220102/integer/1234.5/1 220103/integer/7.0/N "
                "/integer/-0.001/3");
    /* the GeoPackage validator (GDAL's) accepts the file */
    const char *validator =
        "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    struct stat sb;
    if (stat(validator, &sb) == 0) {
        snprintf(cmd, sizeof cmd, "python3 %s '%s' 2>&1", validator, path);
        out = run_cmd(cmd, &status);
        bool valid = status == 0 && out && !strstr(out, "Error");
        if (!valid) {
            printf("%s\n", out ? out : "");
        }
        free(out);
        CHECK(valid);
    }
}

TEST(test_run_records)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("records.gpkg", path, sizeof path, &p, &err), &err);
    int64_t id1 = 0, id2 = 0;
    enum om_status s = full_run(p, 2, &id1, &err);
    /* an overlay run in between, with no inputs and no params */
    struct om_run *r = NULL;
    struct om_run_begin b = {0};
    b.kind = "overlay";
    b.started_at = "2026-01-02T03:04:05Z";
    if (s == OM_OK) {
        s = om_run_begin(p, &b, &r, &err);
    }
    if (s == OM_OK) {
        const char *cols[] = {"class"};
        const char *cells[] = {"a\"b"};
        s = om_run_write_table(r, "XTAB", cols, 1, cells, 1, &err);
    }
    if (s == OM_OK) {
        s = om_run_commit(r, NULL, &err);
        r = NULL;
    }
    om_run_abort(r);
    if (s == OM_OK) {
        s = full_run(p, 1, &id2, &err);
    }
    struct om_run_record *rec = NULL, *conf = NULL;
    size_t n = 0, nconf = 0;
    if (s == OM_OK) {
        s = om_project_runs(p, NULL, &rec, &n, &err);
    }
    if (s == OM_OK) {
        s = om_project_runs(p, "conflicts", &conf, &nconf, &err);
    }
    om_project_close(p);
    bool ok = s == OM_OK && n == 3 && nconf == 2 && id1 == 1 && id2 == 3;
    if (ok) {
        ok = rec[0].id == 1 && rec[1].id == 2 && rec[2].id == 3 &&
             conf[0].id == 1 && conf[1].id == 3 &&
             strcmp(rec[1].kind, "overlay") == 0 &&
             strcmp(rec[1].started_at, "2026-01-02T03:04:05Z") == 0 &&
             rec[1].params == NULL && rec[1].summary == NULL &&
             rec[1].rules_source == NULL && rec[1].rules_sha256[0] == '\0' &&
             strcmp(rec[1].inputs, "[]") == 0 &&
             strcmp(rec[1].tables, "[{\"name\":\"XTAB\",\"table\":"
                                   "\"XTAB_r2\",\"type\":\"attributes\","
                                   "\"rows\":1}]") == 0;
    }
    struct om_run_record *c = ok ? &rec[2] : NULL;
    if (ok) {
        ok = strcmp(c->kind, "conflicts") == 0 &&
             strcmp(c->params, "{\"min_area\":1,\"threads\":2,\"rules\":"
                               "\"规则.yaml\"}") == 0 &&
             strcmp(c->rules_source, "/data/onemap.yaml") == 0 &&
             strcmp(c->rules_sha256, begin_args().rules_sha256) == 0 &&
             strcmp(c->inputs, "[{\"code\":\"DLTB\",\"version\":1,"
                               "\"sha256\":\"ab12\"},{\"code\":\"CZKFBJ\","
                               "\"version\":3,\"sha256\":null}]") == 0 &&
             strcmp(c->summary, "{\"npatches\":13,\"nslivers\":0}") == 0 &&
             strstr(c->tables, "{\"name\":\"CONFLICTS\",\"table\":"
                               "\"CONFLICTS_r3\",\"type\":\"features\","
                               "\"rows\":2}") &&
             strstr(c->tables, "\"SLIVERS_r3\"") &&
             strstr(c->tables, "\"CONFLICT_SUMMARY_r3\"") &&
             strlen(c->started_at) == 20 && strlen(c->finished_at) == 20 &&
             strcmp(c->started_at, c->finished_at) <= 0;
        if (!ok) {
            printf("tables %s\ninputs %s\n", c->tables, c->inputs);
        }
    }
    om_run_records_free(rec, n);
    om_run_records_free(conf, nconf);
    CHECK_OK(s, &err);
    CHECK(ok);
    /* the JSON texts are valid JSON to SQLite */
    CHECK_QUERY(path,
                "SELECT SUM(json_valid(params)) || SUM(json_valid(inputs)) || "
                "SUM(json_valid(tables)) || SUM(json_valid(summary)) FROM "
                "om_runs",
                "2332");
}

TEST(test_runs_keep_history_view_latest)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("history.gpkg", path, sizeof path, &p, &err), &err);
    int64_t id1 = 0, id2 = 0;
    enum om_status s = full_run(p, 7, &id1, &err);
    if (s == OM_OK) {
        s = full_run(p, 4, &id2, &err);
    }
    struct om_layer *latest = NULL, *first = NULL;
    if (s == OM_OK) {
        s = om_project_read_result(p, "Conflicts", &latest, NULL, &err);
    }
    if (s == OM_OK) {
        s = om_project_read_result(p, "CONFLICTS_r1", &first, NULL, &err);
    }
    /* not a results layer: a project layer, a summary table, nonsense */
    struct om_layer *none = NULL;
    struct om_error e2 = {0};
    enum om_status s_dltb = om_project_read_result(p, "DLTB", &none, NULL, &e2);
    enum om_status s_sum =
        om_project_read_result(p, "CONFLICT_SUMMARY_r2", &none, NULL, NULL);
    om_project_close(p);
    size_t nl = latest ? om_layer_nfeatures(latest) : 0;
    size_t nf = first ? om_layer_nfeatures(first) : 0;
    bool names_ok =
        latest && strcmp(om_layer_name(latest), "CONFLICTS_r2") == 0;
    om_layer_free(latest);
    om_layer_free(first);
    CHECK_OK(s, &err);
    CHECK_INT(id1, 1);
    CHECK_INT(id2, 2);
    CHECK_INT(nl, 5);
    CHECK_INT(nf, 8);
    CHECK(names_ok);
    CHECK_INT(s_dltb, OM_ENOTFOUND);
    CHECK_INT(s_sum, OM_ENOTFOUND);
    CHECK(none == NULL);
    CHECK_CONTAINS(e2.msg, "CONFLICTS_r2, SLIVERS_r2, CONFLICTS_r1");
    /* GDAL: both runs' tables, the views on run 2 */
    CHECK_INT(ogr_count(path, "CONFLICTS_r1"), 8);
    CHECK_INT(ogr_count(path, "CONFLICTS_r2"), 5);
    CHECK_INT(ogr_count(path, "CONFLICTS"), 5);
    CHECK_INT(ogr_count(path, "CONFLICT_SUMMARY_r1"), 3);
    CHECK_QUERY(path, "SELECT sql FROM sqlite_master WHERE name = 'CONFLICTS'",
                "CREATE VIEW \"CONFLICTS\" AS SELECT * FROM "
                "\"CONFLICTS_r2\"");
    CHECK_QUERY(path,
                "SELECT description FROM gpkg_contents WHERE table_name = "
                "'CONFLICTS'",
                "onemap conflicts results CONFLICTS, latest run (2)");
    CHECK_QUERY(path,
                "SELECT COUNT(*) FROM gpkg_contents WHERE table_name LIKE "
                "'CONFLICTS%'",
                "3");
    CHECK_QUERY(path, "SELECT group_concat(id) FROM om_runs", "1,2");
    /* the imported layer is untouched */
    CHECK_INT(ogr_count(path, "DLTB"), 3);
}

TEST(test_abort_leaves_file)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("abort.gpkg", path, sizeof path, &p, &err), &err);
    int64_t id = 0;
    enum om_status s = full_run(p, 3, &id, &err);
    char *before = snapshot(path);
    struct om_layer *l = make_patches(20, true);
    struct om_run *r = NULL;
    struct om_run_begin b = begin_args();
    if (s == OM_OK) {
        s = om_run_begin(p, &b, &r, &err);
    }
    int64_t rid = r ? om_run_id(r) : 0;
    if (s == OM_OK) {
        s = om_run_write_layer(r, "CONFLICTS", l, NULL, &err);
    }
    if (s == OM_OK) {
        s = om_run_write_table(r, "CONFLICT_SUMMARY", SUM_COLS, 5, SUM_CELLS, 3,
                               &err);
    }
    om_run_abort(r);
    om_run_abort(NULL);
    char *after = snapshot(path);
    /* the project is usable afterwards and the id is reused */
    int64_t id2 = 0;
    if (s == OM_OK) {
        s = full_run(p, 1, &id2, &err);
    }
    om_project_close(p);
    om_layer_free(l);
    bool same = before && after && strcmp(before, after) == 0 &&
                strstr(before, "CONFLICTS_r1");
    if (!same) {
        printf("before:\n%s\nafter:\n%s\n", before ? before : "",
               after ? after : "");
    }
    free(before);
    free(after);
    CHECK_OK(s, &err);
    CHECK_INT(rid, 2);
    CHECK(same);
    CHECK_INT(id2, 2);
    CHECK_INT(ogr_count(path, "CONFLICTS"), 2);
}

struct cancel_ctx {
    volatile int cancel;
    uint64_t at;
};

static void cancel_fn(void *ctx, const char *phase, uint64_t done,
                      uint64_t total)
{
    (void)phase;
    (void)total;
    struct cancel_ctx *c = ctx;
    if (done >= c->at) {
        c->cancel = 1;
    }
}

TEST(test_cancel_mid_write)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("cancel.gpkg", path, sizeof path, &p, &err), &err);
    char *before = snapshot(path);
    struct om_layer *l = make_patches(3000, false);
    struct cancel_ctx cc = {0, 1500};
    struct om_progress prog = {cancel_fn, &cc, &cc.cancel};
    struct om_run *r = NULL;
    struct om_run_begin b = begin_args();
    enum om_status s = om_run_begin(p, &b, &r, &err);
    /* a summary first, then the canceled layer */
    if (s == OM_OK) {
        s = om_run_write_table(r, "CONFLICT_SUMMARY", SUM_COLS, 5, SUM_CELLS, 3,
                               &err);
    }
    enum om_status sc = OM_OK;
    struct om_error cerr = {0};
    if (s == OM_OK) {
        sc = om_run_write_layer(r, "CONFLICTS", l, &prog, &cerr);
    }
    /* cancel -> abort: as before */
    om_run_abort(r);
    r = NULL;
    char *after = snapshot(path);
    /* a failed write keeps the run: commit keeps what was written before */
    cc.cancel = 0;
    cc.at = 10;
    enum om_status sc2 = OM_OK;
    if (s == OM_OK) {
        s = om_run_begin(p, &b, &r, &err);
    }
    if (s == OM_OK) {
        s = om_run_write_table(r, "CONFLICT_SUMMARY", SUM_COLS, 5, SUM_CELLS, 3,
                               &err);
    }
    if (s == OM_OK) {
        sc2 = om_run_write_layer(r, "CONFLICTS", l, &prog, NULL);
        s = om_run_commit(r, NULL, &err);
        r = NULL;
    }
    om_run_abort(r);
    om_project_close(p);
    om_layer_free(l);
    bool same = before && after && strcmp(before, after) == 0;
    if (!same) {
        printf("before:\n%s\nafter:\n%s\n", before ? before : "",
               after ? after : "");
    }
    free(before);
    free(after);
    CHECK_OK(s, &err);
    CHECK_INT(sc, OM_ECANCELED);
    CHECK_CONTAINS(cerr.msg, "CONFLICTS");
    CHECK_CONTAINS(cerr.msg, "canceled");
    CHECK(same);
    CHECK_INT(sc2, OM_ECANCELED);
    CHECK_INT(ogr_count(path, "CONFLICT_SUMMARY_r1"), 3);
    CHECK_INT(ogr_count(path, "CONFLICTS_r1"), -1);
    CHECK_QUERY(path,
                "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE "
                "'%CONFLICTS%'",
                "0");
    CHECK_QUERY(path, "SELECT json_array_length(tables) FROM om_runs", "1");
}

TEST(test_errors)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("errors.gpkg", path, sizeof path, &p, &err), &err);
    char *before = snapshot(path);
    struct om_layer *l = make_patches(2, false);
    struct om_run *r = NULL;
    struct om_run_begin b = begin_args();
    struct om_error e[13];
    memset(e, 0, sizeof e);
    enum om_status st[13];
    for (int i = 0; i < 13; i++) {
        st[i] = OM_OK;
    }
    b.kind = "Conflicts";
    st[0] = om_run_begin(p, &b, &r, &e[0]);
    b.kind = "conflicts";
    b.params_json = "{min_area: 1}";
    st[1] = om_run_begin(p, &b, &r, &e[1]);
    b = begin_args();
    enum om_status s = om_run_begin(p, &b, &r, &err);
    if (s == OM_OK) {
        st[2] = om_run_write_layer(r, "DLTB", l, NULL, &e[2]);
        st[3] = om_run_write_layer(r, "CONFLICTS_r3", l, NULL, &e[3]);
        st[4] = om_run_write_layer(r, "gpkg_x", l, NULL, &e[4]);
        st[5] = om_run_write_layer(r, "冲突", l, NULL, &e[5]);
        st[6] = om_run_write_layer(r, "CONFLICTS", l, NULL, &e[6]);
        st[7] = om_run_write_layer(r, "conflicts", l, NULL, &e[7]);
        const char *cols[] = {"a", "A"};
        st[8] = om_run_write_table(r, "SUM", cols, 2, NULL, 0, &e[8]);
        st[9] = om_run_commit(r, "{not json", &e[9]);
        r = NULL;
    }
    om_run_abort(r);
    /* a layer in another CRS; duplicate fids */
    struct om_layer *other = make_patches(1, false);
    om_layer_set_crs(other, "EPSG:4326", NULL);
    struct om_layer *dup = NULL;
    om_layer_new("dup", &dup, NULL);
    for (int i = 0; i < 2; i++) {
        om_layer_begin_feature(dup, 7, NULL);
        om_layer_begin_part(dup, NULL);
        square(dup, OX + i * 20, OY, 10);
        om_layer_end_feature(dup, NULL);
    }
    om_layer_finish(dup, 0, NULL);
    if (s == OM_OK) {
        s = om_run_begin(p, &b, &r, &err);
    }
    if (s == OM_OK) {
        st[10] = om_run_write_layer(r, "CONFLICTS", other, NULL, &e[10]);
        st[11] = om_run_write_layer(r, "CONFLICTS", dup, NULL, &e[11]);
        struct om_layer *raw = NULL;
        om_layer_new("raw", &raw, NULL);
        st[12] = om_run_write_layer(r, "CONFLICTS", raw, NULL, &e[12]);
        om_layer_free(raw);
    }
    om_run_abort(r);
    om_project_close(p);
    om_layer_free(other);
    om_layer_free(dup);
    /* read-only */
    struct om_project *ro = NULL;
    enum om_status s_ro = OM_OK;
    struct om_error ero = {0};
    if (om_project_open(path, true, &ro, &err) == OM_OK) {
        s_ro = om_run_begin(ro, &b, &r, &ero);
    }
    om_project_close(ro);
    om_layer_free(l);
    char *after = snapshot(path);
    bool same = before && after && strcmp(before, after) == 0;
    free(before);
    free(after);
    CHECK_OK(s, &err);
    CHECK_INT(st[0], OM_EINVAL);
    CHECK_CONTAINS(e[0].msg, "run kind 'Conflicts'");
    CHECK_INT(st[1], OM_EINVAL);
    CHECK_CONTAINS(e[1].msg, "params is not valid JSON");
    CHECK_INT(st[2], OM_EINVAL);
    CHECK_CONTAINS(e[2].msg, "is a layer code");
    CHECK_INT(st[3], OM_EINVAL);
    CHECK_CONTAINS(e[3].msg, "_r<N>");
    CHECK_INT(st[4], OM_EINVAL);
    CHECK_CONTAINS(e[4].msg, "reserved");
    CHECK_INT(st[5], OM_EINVAL);
    CHECK_INT(st[6], OM_OK);
    CHECK_INT(st[7], OM_EINVAL);
    CHECK_CONTAINS(e[7].msg, "conflicts_r1 already exists");
    CHECK_INT(st[8], OM_EINVAL);
    CHECK_CONTAINS(e[8].msg, "column 'A' appears twice");
    CHECK_INT(st[9], OM_EINVAL);
    CHECK_CONTAINS(e[9].msg, "summary is not valid JSON");
    CHECK_INT(st[10], OM_ECRS);
    CHECK_CONTAINS(e[10].msg, "EPSG:4326");
    CHECK_INT(st[11], OM_ESTORE);
    CHECK_CONTAINS(e[11].msg, "fid 7");
    CHECK_INT(st[12], OM_EINVAL);
    CHECK_CONTAINS(e[12].msg, "not finished");
    CHECK_INT(s_ro, OM_ESTORE);
    CHECK_CONTAINS(ero.msg, "read-only");
    CHECK(same);
}

/* Fail every allocation in turn through begin, writes and commit: each
 * failure is OM_ENOMEM, leaks nothing and leaves the file as it was. */
TEST(test_oom)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("oom.gpkg", path, sizeof path, &p, &err), &err);
    char *before = snapshot(path);
    struct om_layer *l = make_patches(5, true);
    struct om_run_begin b = begin_args();
    bool done = false, ok = true;
    int n;
    for (n = 0; n < 2000 && !done && ok; n++) {
        struct om_run *r = NULL;
        test_fail_allocs_after(n);
        enum om_status s = om_run_begin(p, &b, &r, &err);
        if (s == OM_OK) {
            s = om_run_write_layer(r, "CONFLICTS", l, NULL, &err);
        }
        if (s == OM_OK) {
            s = om_run_write_table(r, "CONFLICT_SUMMARY", SUM_COLS, 5,
                                   SUM_CELLS, 3, &err);
        }
        if (s == OM_OK) {
            s = om_run_commit(r, "{}", &err);
            r = NULL;
        }
        om_run_abort(r);
        test_fail_allocs_after(-1);
        if (s == OM_OK) {
            done = true;
        } else if (s != OM_ENOMEM) {
            printf("n=%d: %s: %s\n", n, om_status_name(s), err.msg);
            ok = false;
        } else {
            char *now = snapshot(path);
            ok = now && before && strcmp(now, before) == 0;
            free(now);
        }
    }
    /* listing under OOM */
    bool list_ok = true;
    for (int k = 0; done && k < 20 && list_ok; k++) {
        struct om_run_record *rec = NULL;
        size_t nrec = 0;
        test_fail_allocs_after(k);
        enum om_status s = om_project_runs(p, NULL, &rec, &nrec, &err);
        test_fail_allocs_after(-1);
        list_ok = s == OM_OK ? nrec == 1 : s == OM_ENOMEM && !rec;
        om_run_records_free(rec, nrec);
    }
    om_layer_free(l);
    om_project_close(p);
    free(before);
    CHECK(ok);
    CHECK(done);
    CHECK(n > 10);
    CHECK(list_ok);
    CHECK_INT(ogr_count(path, "CONFLICTS"), 6);
}

/* A project from before runs existed: no om_runs table. */
TEST(test_old_project_gets_runs)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("old.gpkg", path, sizeof path, &p, &err), &err);
    om_project_close(p);
    p = NULL;
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "DROP TABLE om_runs", NULL, NULL, NULL);
    }
    sqlite3_close(db);
    CHECK_INT(rc, SQLITE_OK);
    CHECK_QUERY(
        path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'om_runs'", "0");
    /* read-only: no table made, an empty list */
    struct om_run_record *rec = NULL;
    size_t n = 99;
    CHECK_OK(om_project_open(path, true, &p, &err), &err);
    enum om_status s = om_project_runs(p, NULL, &rec, &n, &err);
    struct om_layer *none = NULL;
    enum om_status s_read =
        om_project_read_result(p, "CONFLICTS", &none, NULL, NULL);
    om_project_close(p);
    CHECK_OK(s, &err);
    CHECK_INT(n, 0);
    CHECK(rec == NULL);
    CHECK_INT(s_read, OM_ENOTFOUND);
    CHECK_QUERY(
        path, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'om_runs'", "0");
    /* read-write: made on open; a run works */
    CHECK_OK(om_project_open(path, false, &p, &err), &err);
    int64_t id = 0;
    s = full_run(p, 2, &id, &err);
    om_project_close(p);
    CHECK_OK(s, &err);
    CHECK_INT(id, 1);
    CHECK_QUERY(path, "SELECT kind FROM om_runs", "conflicts");
}

/* ---- point tables (om_run_write_points) ---- */

static const char *const PT_COLS[] = {"code", "fid", "geom", "area_m2",
                                      "value"};
/* code text, "fid" (-> fid_1) integer with a NULL, "geom" (-> geom_1)
 * text, area_m2 real with NULL, value all NULL (TEXT) */
static const char *const PT_CELLS[] = {
    "G001", "12", "x", "1.5",  NULL, /**/
    "A001", NULL, "y", NULL,   NULL, /**/
    "T001", "3",  "z", "0.25", NULL,
};

static enum om_status points_run(struct om_project *p, const double *xy,
                                 struct om_error *err)
{
    struct om_run *r = NULL;
    struct om_run_begin args = begin_args();
    args.kind = "qc";
    enum om_status s = om_run_begin(p, &args, &r, err);
    if (s == OM_OK) {
        s = om_run_write_points(r, "QC_ERRORS", xy, 3, PT_COLS, 5, PT_CELLS,
                                err);
    }
    if (s == OM_OK) {
        s = om_run_write_points(r, "QC_EMPTY", NULL, 0, NULL, 0, NULL, err);
    }
    if (s == OM_OK) {
        s = om_run_commit(r, "{}", err);
        r = NULL;
    }
    om_run_abort(r);
    return s;
}

TEST(test_points)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("points.gpkg", path, sizeof path, &p, &err), &err);
    const double nan = (double)NAN;
    const double xy[] = {OX + 1.25, OY + 2.5, nan, nan, OX + 100, OY + 7};
    enum om_status s = points_run(p, xy, &err);
    om_project_close(p);
    CHECK_OK(s, &err);
    /* the polygon reader says what it is */
    struct om_layer *none = NULL;
    CHECK_OK(om_project_open(path, true, &p, &err), &err);
    s = om_project_read_result(p, "qc_errors", &none, NULL, &err);
    om_project_close(p);
    CHECK_INT(s, OM_EINVAL);
    CHECK(none == NULL);
    CHECK_CONTAINS(err.msg, "QC_ERRORS_r1 holds points");
    CHECK_QUERY(path,
                "SELECT group_concat(name || ' ' || type, ', ') FROM "
                "pragma_table_info('QC_ERRORS_r1')",
                "fid INTEGER, geom POINT, code TEXT, fid_1 INTEGER, geom_1 "
                "TEXT, area_m2 REAL, value TEXT");
    CHECK_QUERY(path,
                "SELECT group_concat(fid || ':' || code || ':' || "
                "COALESCE(fid_1, 'N') || ':' || typeof(geom) || ':' || "
                "typeof(area_m2), ' ') FROM (SELECT * FROM QC_ERRORS ORDER "
                "BY fid)",
                "1:G001:12:blob:real 2:A001:N:null:null "
                "3:T001:3:blob:real");
    CHECK_QUERY(path,
                "SELECT geometry_type_name || ':' || srs_id FROM "
                "gpkg_geometry_columns WHERE table_name = 'QC_ERRORS_r1'",
                "POINT:4530");
    CHECK_QUERY(path,
                "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE "
                "table_name = 'QC_ERRORS'",
                "POINT");
    CHECK_QUERY(path,
                "SELECT rtreecheck('rtree_QC_ERRORS_r1_geom') || "
                "(SELECT COUNT(*) FROM rtree_QC_ERRORS_r1_geom) || "
                "rtreecheck('rtree_QC_EMPTY_r1_geom')",
                "ok2ok");
    CHECK_QUERY(path,
                "SELECT min_x || ',' || min_y || ',' || max_x || ',' || max_y "
                "FROM gpkg_contents WHERE table_name = 'QC_ERRORS_r1'",
                "500001.25,4800002.5,500100.0,4800007.0");
    CHECK_QUERY(path, "SELECT tables FROM om_runs WHERE id = 1",
                "[{\"name\":\"QC_ERRORS\",\"table\":\"QC_ERRORS_r1\","
                "\"type\":\"features\",\"rows\":3},{\"name\":\"QC_EMPTY\","
                "\"table\":\"QC_EMPTY_r1\",\"type\":\"features\","
                "\"rows\":0}]");
    /* GDAL (independent reader): a point layer with the coordinates */
    char cmd[2048];
    int status;
    snprintf(cmd, sizeof cmd,
             "ogrinfo -ro -al -q '%s' QC_ERRORS_r1 2>&1 | grep -E "
             "'POINT|Geometry:'",
             path);
    char *out = run_cmd(cmd, &status);
    bool has_pt = out && strstr(out, "POINT (500001.25 4800002.5)") &&
                  strstr(out, "POINT (500100 4800007)");
    if (!has_pt) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(has_pt);
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so '%s' QC_ERRORS 2>&1", path);
    out = run_cmd(cmd, &status);
    bool is_point = out && strstr(out, "Geometry: Point") &&
                    strstr(out, "Feature Count: 3");
    if (!is_point) {
        printf("%s\n", out ? out : "");
    }
    free(out);
    CHECK(is_point);
    /* spatial filter through the RTree: only the first point */
    snprintf(cmd, sizeof cmd,
             "ogrinfo -q -al '%s' QC_ERRORS_r1 -spat %.17g %.17g %.17g %.17g "
             "2>&1 | grep -c '^OGRFeature'",
             path, OX, OY, OX + 10, OY + 10);
    out = run_cmd(cmd, &status);
    long nspat = out ? strtol(out, NULL, 10) : -1;
    free(out);
    CHECK_INT(nspat, 1);
    const char *validator =
        "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    struct stat sb;
    if (stat(validator, &sb) == 0) {
        snprintf(cmd, sizeof cmd, "python3 %s '%s' 2>&1", validator, path);
        out = run_cmd(cmd, &status);
        bool valid = status == 0 && out && !strstr(out, "Error");
        if (!valid) {
            printf("%s\n", out ? out : "");
        }
        free(out);
        CHECK(valid);
    }
}

/* A failing point write leaves nothing of itself; errors are named. */
TEST(test_points_errors)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("points_err.gpkg", path, sizeof path, &p, &err),
             &err);
    char *before = snapshot(path);
    struct om_run *r = NULL;
    struct om_run_begin args = begin_args();
    enum om_status s = om_run_begin(p, &args, &r, &err);
    const double xy[] = {OX, OY};
    const char *const dup[] = {"a", "A"};
    const char *const cells[] = {"1", "2"};
    enum om_status s_dup = OM_OK, s_name = OM_OK, s_code = OM_OK,
                   s_twice = OM_OK, s_ok = OM_OK;
    if (s == OM_OK) {
        s_dup = om_run_write_points(r, "PTS", xy, 1, dup, 2, cells, &err);
        s_name = om_run_write_points(r, "PTS_r4", xy, 1, dup, 1, cells, &err);
        s_code = om_run_write_points(r, "dltb", xy, 1, dup, 1, cells, &err);
        s_ok = om_run_write_points(r, "PTS", xy, 1, dup, 1, cells, &err);
        s_twice = om_run_write_points(r, "PTS", xy, 1, dup, 1, cells, &err);
    }
    om_run_abort(r);
    om_project_close(p);
    char *after = snapshot(path);
    bool same = before && after && strcmp(before, after) == 0;
    free(before);
    free(after);
    CHECK_OK(s, &err);
    CHECK_INT(s_dup, OM_EINVAL);
    CHECK_INT(s_name, OM_EINVAL);
    CHECK_INT(s_code, OM_EINVAL);
    CHECK_INT(s_ok, OM_OK);
    CHECK_INT(s_twice, OM_EINVAL);
    CHECK(same);
}

/* OOM on every allocation of a points run: the file stays as it was. */
TEST(test_points_oom)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(make_project("points_oom.gpkg", path, sizeof path, &p, &err),
             &err);
    char *before = snapshot(path);
    const double xy[] = {OX, OY, OX + 1, OY + 1, OX + 2, OY + 2};
    bool done = false, ok = true;
    int n;
    for (n = 0; n < 2000 && !done && ok; n++) {
        test_fail_allocs_after(n);
        enum om_status s = points_run(p, xy, &err);
        test_fail_allocs_after(-1);
        if (s == OM_OK) {
            done = true;
        } else if (s != OM_ENOMEM) {
            printf("n=%d: %s: %s\n", n, om_status_name(s), err.msg);
            ok = false;
        } else {
            char *now = snapshot(path);
            ok = now && before && strcmp(now, before) == 0;
            free(now);
        }
    }
    om_project_close(p);
    free(before);
    CHECK(ok);
    CHECK(done);
    CHECK(n > 5);
    CHECK_INT(ogr_count(path, "QC_ERRORS"), 3);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_store_runs");
    RUN(test_run_commit_layers_and_table);
    RUN(test_run_records);
    RUN(test_runs_keep_history_view_latest);
    RUN(test_abort_leaves_file);
    RUN(test_cancel_mid_write);
    RUN(test_errors);
    RUN(test_oom);
    RUN(test_old_project_gets_runs);
    RUN(test_points);
    RUN(test_points_errors);
    RUN(test_points_oom);
    TEST_MAIN_END();
}
