/*
 * store.c — the project database file: connection settings, the
 * GeoPackage core schema and onemap's tables, create/open/close, the
 * project CRS and its gpkg_spatial_ref_sys row, key/value metadata, and
 * the catalogue, issue and import-log queries. The layer writer is in
 * store_import.c, the readers in store_read.c.
 */
#include "store/store_int.h"

#include "onemap/crs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* core/version.c; declared in onemap/onemap.h, which pulls in every
 * module's header. */
const char *om_version(void);

#define GPKG_APPLICATION_ID 0x47504B47
#define GPKG_USER_VERSION 10300
#define CUSTOM_SRS_ID 100000

/* ---- small SQLite helpers ---- */

enum om_status om__store_error(sqlite3 *db, const char *path,
                               struct om_error *err, const char *what)
{
    int code = db ? sqlite3_errcode(db) : SQLITE_NOMEM;
    if (code == SQLITE_NOMEM) {
        return om__enomem(err, path);
    }
    return om__error(err, OM_ESTORE, path, 0, -1, "%s: %s", what,
                     db ? sqlite3_errmsg(db) : "no connection");
}

enum om_status om__store_exec(sqlite3 *db, const char *path, const char *sql,
                              struct om_error *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        enum om_status st =
            rc == SQLITE_NOMEM
                ? om__enomem(err, path)
                : om__error(err, OM_ESTORE, path, 0, -1, "SQL failed: %s",
                            msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return st;
    }
    return OM_OK;
}

enum om_status om__store_prepare(sqlite3 *db, const char *path, const char *sql,
                                 sqlite3_stmt **st, struct om_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return om__store_error(db, path, err, "cannot prepare a query");
    }
    return OM_OK;
}

enum om_status om__store_quote(struct om__buf *b, const char *name)
{
    enum om_status st = om__buf_puts(b, "\"");
    for (const char *c = name; st == OM_OK && *c; c++) {
        st = om__buf_append(b, c, 1);
        if (st == OM_OK && *c == '"') {
            st = om__buf_append(b, c, 1);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "\"");
    }
    return st;
}

bool om__store_has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    bool found = false;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM sqlite_master WHERE type IN "
                           "('table','view') AND name = ?1 COLLATE NOCASE",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        found = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    return found;
}

void om__store_now(char buf[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        om__strlcpy(buf, "1970-01-01T00:00:00Z", 32);
        return;
    }
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum om_status om__store_connect(const char *path, int flags, sqlite3 **db,
                                 struct om_error *err)
{
    *db = NULL;
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(path, &h, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        enum om_status st =
            rc == SQLITE_NOMEM || !h
                ? om__enomem(err, path)
                : om__error(err, OM_ESTORE, path, 0, -1,
                            "cannot open the database: %s", sqlite3_errmsg(h));
        sqlite3_close(h);
        return st;
    }
    sqlite3_extended_result_codes(h, 0);
    sqlite3_busy_timeout(h, 5000);
    if (om__store_register_functions(h) != SQLITE_OK) {
        sqlite3_close(h);
        return om__enomem(err, path);
    }
    *db = h;
    return OM_OK;
}

/* ---- roles ---- */

const char *om_layer_role_for(const char *code)
{
    static const struct {
        const char *code, *role;
    } roles[] = {
        {"DLTB", "landuse"},           {"XZQ", "admin"},
        {"YJJBNTBHTB", "farmland"},    {"STBHHX", "eco_redline"},
        {"CZKFBJ", "urban_boundary"},  {"GHFQ", "zoning"},
        {"GHYT", "planned_use"},       {"TDGHDL", "planned_use"},
        {"GDBHMB", "farmland_target"},
    };
    for (size_t i = 0; code && i < sizeof roles / sizeof roles[0]; i++) {
        if (om__strcasecmp(code, roles[i].code) == 0) {
            return roles[i].role;
        }
    }
    return "other";
}

/* ---- schema ---- */

static const char *const schema_sql =
    "CREATE TABLE gpkg_spatial_ref_sys ("
    " srs_name TEXT NOT NULL,"
    " srs_id INTEGER PRIMARY KEY,"
    " organization TEXT NOT NULL,"
    " organization_coordsys_id INTEGER NOT NULL,"
    " definition TEXT NOT NULL,"
    " description TEXT);"
    "CREATE TABLE gpkg_contents ("
    " table_name TEXT NOT NULL PRIMARY KEY,"
    " data_type TEXT NOT NULL,"
    " identifier TEXT UNIQUE,"
    " description TEXT DEFAULT '',"
    " last_change DATETIME NOT NULL DEFAULT"
    "  (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
    " min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,"
    " srs_id INTEGER,"
    " CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)"
    "  REFERENCES gpkg_spatial_ref_sys(srs_id));"
    "CREATE TABLE gpkg_geometry_columns ("
    " table_name TEXT NOT NULL,"
    " column_name TEXT NOT NULL,"
    " geometry_type_name TEXT NOT NULL,"
    " srs_id INTEGER NOT NULL,"
    " z TINYINT NOT NULL,"
    " m TINYINT NOT NULL,"
    " CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),"
    " CONSTRAINT uk_gc_table_name UNIQUE (table_name),"
    " CONSTRAINT fk_gc_tn FOREIGN KEY (table_name)"
    "  REFERENCES gpkg_contents(table_name),"
    " CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)"
    "  REFERENCES gpkg_spatial_ref_sys (srs_id));"
    "CREATE TABLE gpkg_extensions ("
    " table_name TEXT,"
    " column_name TEXT,"
    " extension_name TEXT NOT NULL,"
    " definition TEXT NOT NULL,"
    " scope TEXT NOT NULL,"
    " CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));"
    "INSERT INTO gpkg_spatial_ref_sys VALUES"
    " ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined',"
    "  'undefined cartesian coordinate reference system'),"
    " ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',"
    "  'undefined geographic coordinate reference system'),"
    " ('WGS 84 geodetic', 4326, 'EPSG', 4326,"
    "  'GEOGCS[\"WGS 84\",DATUM[\"WGS_1984\",SPHEROID[\"WGS 84\",6378137,"
    "298.257223563,AUTHORITY[\"EPSG\",\"7030\"]],AUTHORITY[\"EPSG\","
    "\"6326\"]],PRIMEM[\"Greenwich\",0,AUTHORITY[\"EPSG\",\"8901\"]],"
    "UNIT[\"degree\",0.0174532925199433,AUTHORITY[\"EPSG\",\"9122\"]],"
    "AXIS[\"Latitude\",NORTH],AXIS[\"Longitude\",EAST],"
    "AUTHORITY[\"EPSG\",\"4326\"]]',"
    "  'longitude/latitude coordinates in decimal degrees on the WGS 84 "
    "spheroid');"
    "CREATE TABLE om_project ("
    " key TEXT NOT NULL PRIMARY KEY,"
    " value TEXT);"
    "CREATE TABLE om_layers ("
    " code TEXT NOT NULL COLLATE NOCASE,"
    " version INTEGER NOT NULL,"
    " role TEXT NOT NULL,"
    " is_current INTEGER NOT NULL DEFAULT 0,"
    " table_name TEXT NOT NULL UNIQUE,"
    " nfeatures INTEGER NOT NULL DEFAULT 0,"
    " nempty INTEGER NOT NULL DEFAULT 0,"
    " ninvalid INTEGER NOT NULL DEFAULT 0,"
    " nrepaired INTEGER NOT NULL DEFAULT 0,"
    " crs TEXT,"
    " source TEXT,"
    " source_layer TEXT,"
    " sha256 TEXT,"
    " imported_at TEXT NOT NULL,"
    " params TEXT,"
    " code_field TEXT,"
    " name_field TEXT,"
    " min_x REAL, min_y REAL, max_x REAL, max_y REAL,"
    " PRIMARY KEY (code, version));"
    "CREATE TABLE om_import_log ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at TEXT NOT NULL,"
    " code TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " source TEXT,"
    " message TEXT);"
    "CREATE TABLE om_feature_issues ("
    " code TEXT NOT NULL COLLATE NOCASE,"
    " version INTEGER NOT NULL,"
    " fid INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " reason TEXT,"
    " x REAL, y REAL);"
    "CREATE INDEX om_feature_issues_layer ON om_feature_issues"
    " (code, version, fid);";

/* Run records (store_runs.c); also created when a project made before
 * runs existed is opened read-write. */
static const char *const runs_schema_sql =
    "CREATE TABLE IF NOT EXISTS om_runs ("
    " id INTEGER PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " started_at TEXT NOT NULL,"
    " finished_at TEXT,"
    " params TEXT,"
    " rules_source TEXT,"
    " rules_sha256 TEXT,"
    " inputs TEXT,"
    " tables TEXT,"
    " summary TEXT);";

/* srs_id for a CRS text: the EPSG code of "EPSG:<n>", else custom. */
static int32_t srs_id_for(const char *crs)
{
    if (om__strcasecmp(crs, "auto") == 0) {
        return 0;
    }
    if (strncmp(crs, "EPSG:", 5) == 0 || strncmp(crs, "epsg:", 5) == 0) {
        char *end;
        errno = 0;
        long v = strtol(crs + 5, &end, 10);
        if (errno == 0 && *end == '\0' && v > 0 && v < CUSTOM_SRS_ID) {
            return (int32_t)v;
        }
        return -2;
    }
    return CUSTOM_SRS_ID;
}

/*
 * Insert the gpkg_spatial_ref_sys row of the project CRS: organization
 * 'EPSG' with the EPSG code for EPSG ids, 'NONE' with srs_id 100000 for a
 * custom definition. The definition column holds the WKT the crs module
 * gives (WKT2_2019: the crs module has no WKT1 export; GDAL and QGIS read
 * both, and resolve EPSG rows by their code anyway). A CRS PROJ does not
 * know is refused (OM_ECRS).
 */
static enum om_status insert_srs(sqlite3 *db, const char *path, const char *crs,
                                 int32_t srs_id, struct om_error *err)
{
    if (srs_id <= 0 || srs_id == 4326) {
        return OM_OK;
    }
    struct om_crs *c = NULL;
    struct om_error cerr;
    enum om_status s = om_crs_new(crs, &c, &cerr);
    if (s == OM_ENOMEM) {
        return om__enomem(err, path);
    }
    if (s != OM_OK) {
        return om__error(err, OM_ECRS, path, 0, -1, "unknown CRS: %s",
                         cerr.msg);
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(
        db, path,
        "INSERT OR REPLACE INTO gpkg_spatial_ref_sys (srs_name, srs_id, "
        "organization, organization_coordsys_id, definition, description) "
        "VALUES (?1, ?2, ?3, ?2, ?4, ?5)",
        &st, err);
    if (s != OM_OK) {
        om_crs_free(c);
        return s;
    }
    bool custom = srs_id == CUSTOM_SRS_ID;
    sqlite3_bind_text(st, 1, om_crs_name(c), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, srs_id);
    sqlite3_bind_text(st, 3, custom ? "NONE" : "EPSG", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, om_crs_wkt(c), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, "onemap project CRS", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        s = om__store_error(db, path, err, "cannot write the CRS row");
    }
    sqlite3_finalize(st);
    om_crs_free(c);
    return s;
}

static enum om_status put_meta(sqlite3 *db, const char *path, const char *key,
                               const char *value, struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        db, path, "INSERT OR REPLACE INTO om_project VALUES (?1, ?2)", &st,
        err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        s = om__store_error(db, path, err, "cannot write om_project");
    }
    sqlite3_finalize(st);
    return s;
}

static enum om_status validate_crs(const char *path, const char *crs,
                                   int32_t *srs_id, struct om_error *err)
{
    if (!crs || !crs[0]) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "a project CRS is required, e.g. EPSG:4530 or "
                         "auto");
    }
    *srs_id = srs_id_for(crs);
    if (*srs_id == -2) {
        return om__error(err, OM_ECRS, path, 0, -1,
                         "'%s' is not a valid EPSG id (want EPSG:<code>)", crs);
    }
    return OM_OK;
}

static void remove_files(const char *path)
{
    char j[4096];
    unlink(path);
    snprintf(j, sizeof j, "%s-journal", path);
    unlink(j);
}

static enum om_status project_new(const char *path, sqlite3 *db,
                                  const char *crs, bool readonly,
                                  struct om_project **out, struct om_error *err)
{
    struct om_project *p = om__calloc(1, sizeof *p);
    if (!p) {
        return om__enomem(err, path);
    }
    p->db = db;
    p->readonly = readonly;
    p->path = om__strdup(path);
    if (crs && om__strcasecmp(crs, "auto") != 0) {
        p->crs = om__strdup(crs);
        p->srs_id = srs_id_for(crs);
    }
    if (!p->path || (crs && om__strcasecmp(crs, "auto") != 0 && !p->crs)) {
        om__free(p->path);
        om__free(p->crs);
        om__free(p);
        return om__enomem(err, path);
    }
    *out = p;
    return OM_OK;
}

enum om_status om_project_create(const char *path, const char *crs,
                                 struct om_project **out, struct om_error *err)
{
    *out = NULL;
    int32_t srs_id = 0;
    enum om_status s = validate_crs(path, crs, &srs_id, err);
    if (s != OM_OK) {
        return s;
    }
    struct stat sb;
    if (stat(path, &sb) == 0) {
        return om__error(err, OM_EEXIST, path, 0, -1,
                         "already exists; choose another path or remove "
                         "it first");
    }
    sqlite3 *db = NULL;
    s = om__store_connect(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &db,
                          err);
    if (s != OM_OK) {
        remove_files(path);
        return s;
    }
    char now[32], pragma[128];
    om__store_now(now);
    /* 32 KiB pages (SQLite's default is 4 KiB): the benchmark city's 545k
     * parcels (rows of ~900 bytes) import 15% faster (fewer page splits
     * and writes) into a file 10% smaller; reads of whole layers are as
     * fast, and one row's update rewrites a page still small for a disk */
    s = om__store_exec(db, path, "PRAGMA page_size = 32768", err);
    if (s == OM_OK) {
        s = om__store_exec(db, path, "BEGIN IMMEDIATE", err);
    }
    if (s == OM_OK) {
        /* the header fields in the same transaction as the schema: one
         * commit (and its syncs) for the whole new file */
        snprintf(pragma, sizeof pragma,
                 "PRAGMA application_id = %d; PRAGMA user_version = %d;",
                 GPKG_APPLICATION_ID, GPKG_USER_VERSION);
        s = om__store_exec(db, path, pragma, err);
        if (s == OM_OK) {
            s = om__store_exec(db, path, schema_sql, err);
        }
        if (s == OM_OK) {
            s = om__store_exec(db, path, runs_schema_sql, err);
        }
        if (s == OM_OK) {
            s = insert_srs(db, path, crs, srs_id, err);
        }
        if (s == OM_OK) {
            s = put_meta(db, path, "onemap_version", om_version(), err);
        }
        if (s == OM_OK) {
            s = put_meta(db, path, "crs", crs, err);
        }
        if (s == OM_OK) {
            s = put_meta(db, path, "created_at", now, err);
        }
        if (s == OM_OK) {
            s = om__store_exec(db, path, "COMMIT", err);
        }
    }
    if (s == OM_OK) {
        s = project_new(path, db, crs, false, out, err);
    }
    if (s != OM_OK) {
        sqlite3_close(db);
        remove_files(path);
    }
    return s;
}

static enum om_status read_crs(sqlite3 *db, const char *path, char **crs,
                               struct om_error *err)
{
    *crs = NULL;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        db, path, "SELECT value FROM om_project WHERE key = 'crs'", &st, err);
    if (s != OM_OK) {
        return s;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) {
        *crs = om__strdup((const char *)sqlite3_column_text(st, 0));
        if (!*crs) {
            s = om__enomem(err, path);
        }
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        s = om__error(err, OM_ESTORE, path, 0, -1,
                      "damaged onemap project: om_project has no crs");
    } else {
        s = om__store_error(db, path, err, "cannot read om_project");
    }
    sqlite3_finalize(st);
    return s;
}

enum om_status om_project_open(const char *path, bool readonly,
                               struct om_project **out, struct om_error *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return om__error(err, errno == ENOENT ? OM_ENOTFOUND : OM_EIO, path, 0,
                         -1, "cannot open the project: %s", strerror(errno));
    }
    if (S_ISDIR(sb.st_mode)) {
        return om__error(err, OM_ESTORE, path, 0, -1,
                         "is a directory, not a onemap project");
    }
    sqlite3 *db = NULL;
    enum om_status s = om__store_connect(
        path, readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE, &db,
        err);
    if (s != OM_OK) {
        return s;
    }
    /* A text file opens fine; the first read says SQLITE_NOTADB. */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT 1 FROM sqlite_master WHERE "
                                "type = 'table' AND name = 'om_project'",
                                -1, &st, NULL);
    bool has = false;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        has = rc == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_NOMEM) {
        sqlite3_close(db);
        return om__enomem(err, path);
    }
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        s = om__store_error(db, path, err, "the project is locked");
        sqlite3_close(db);
        return s;
    }
    if (!has) {
        sqlite3_close(db);
        return om__error(err, OM_ESTORE, path, 0, -1,
                         "%s: not a onemap project (no om_project table); "
                         "create one with onemap init",
                         path);
    }
    /* Projects made before runs existed: add om_runs. A lock held by
     * another writer beyond the busy timeout is not worth failing the
     * open for; om_run_begin reports the missing table. */
    if (!readonly && !om__store_has_table(db, "om_runs")) {
        sqlite3_exec(db, runs_schema_sql, NULL, NULL, NULL);
    }
    char *crs = NULL;
    s = read_crs(db, path, &crs, err);
    if (s == OM_OK) {
        s = project_new(path, db, crs, readonly, out, err);
    }
    om__free(crs);
    if (s != OM_OK) {
        sqlite3_close(db);
    }
    return s;
}

void om_project_close(struct om_project *p)
{
    if (!p) {
        return;
    }
    sqlite3_close(p->db);
    om__free(p->path);
    om__free(p->crs);
    om__free(p);
}

const char *om_project_path(const struct om_project *p)
{
    return p->path;
}

const char *om_project_crs(const struct om_project *p)
{
    return p->crs;
}

int32_t om_project_srs_id(const struct om_project *p)
{
    return p->crs ? p->srs_id : 0;
}

/* Whether the WKT `def` has root keyword `kw` (ASCII case ignored). */
static bool wkt_root_is(const char *def, const char *kw)
{
    while (*def == ' ' || *def == '\t' || *def == '\n' || *def == '\r') {
        def++;
    }
    for (; *kw; kw++, def++) {
        char c = *def >= 'a' && *def <= 'z' ? (char)(*def - 'a' + 'A') : *def;
        if (c != *kw) {
            return false;
        }
    }
    while (*def == ' ') {
        def++;
    }
    return *def == '[' || *def == '(';
}

bool om_project_crs_is_projected(struct om_project *p)
{
    if (!p->crs) {
        return false;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(p->db,
                           "SELECT definition FROM gpkg_spatial_ref_sys "
                           "WHERE srs_id = ?1",
                           -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_bind_int(st, 1, p->srs_id);
    bool projected = false;
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *def = (const char *)sqlite3_column_text(st, 0);
        projected = def && (wkt_root_is(def, "PROJCRS") ||
                            wkt_root_is(def, "PROJECTEDCRS") ||
                            wkt_root_is(def, "PROJCS"));
    }
    sqlite3_finalize(st);
    return projected;
}

enum om_status om__store_set_crs_tx(struct om_project *p, const char *crs,
                                    struct om_error *err)
{
    if (p->crs) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "the project CRS is already %s; it can only be "
                         "set while it is 'auto'",
                         p->crs);
    }
    int32_t srs_id = 0;
    enum om_status s = validate_crs(p->path, crs, &srs_id, err);
    if (s != OM_OK) {
        return s;
    }
    if (srs_id == 0) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "om_project_set_crs needs a real CRS, not 'auto'");
    }
    char *copy = om__strdup(crs);
    if (!copy) {
        return om__enomem(err, p->path);
    }
    s = insert_srs(p->db, p->path, crs, srs_id, err);
    if (s == OM_OK) {
        s = put_meta(p->db, p->path, "crs", crs, err);
    }
    if (s != OM_OK) {
        om__free(copy);
        return s;
    }
    p->crs = copy;
    p->srs_id = srs_id;
    return OM_OK;
}

void om__store_unset_crs(struct om_project *p)
{
    om__free(p->crs);
    p->crs = NULL;
    p->srs_id = 0;
}

enum om_status om_project_set_crs(struct om_project *p, const char *crs,
                                  struct om_error *err)
{
    if (p->crs) {
        return om__store_set_crs_tx(p, crs, err); /* the error message */
    }
    enum om_status s = om__store_exec(p->db, p->path, "BEGIN IMMEDIATE", err);
    if (s != OM_OK) {
        return s;
    }
    s = om__store_set_crs_tx(p, crs, err);
    if (s == OM_OK) {
        s = om__store_exec(p->db, p->path, "COMMIT", err);
        if (s != OM_OK) {
            om__store_unset_crs(p);
        }
    }
    if (s != OM_OK) {
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
    }
    return s;
}

/* ---- key/value metadata ---- */

static bool reserved_key(const char *key)
{
    return strcmp(key, "crs") == 0 || strcmp(key, "onemap_version") == 0 ||
           strcmp(key, "created_at") == 0;
}

enum om_status om_project_get_meta(struct om_project *p, const char *key,
                                   char **value, struct om_error *err)
{
    *value = NULL;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path, "SELECT value FROM om_project WHERE key = ?1", &st,
        err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(st, 0);
        *value = om__strdup(v ? v : "");
        if (!*value) {
            s = om__enomem(err, p->path);
        }
    } else if (rc == SQLITE_DONE) {
        s = om__error(err, OM_ENOTFOUND, p->path, 0, -1,
                      "no project metadata key '%s'", key);
    } else {
        s = om__store_error(p->db, p->path, err, "cannot read om_project");
    }
    sqlite3_finalize(st);
    return s;
}

enum om_status om_project_set_meta(struct om_project *p, const char *key,
                                   const char *value, struct om_error *err)
{
    if (!key || !key[0] || reserved_key(key)) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "metadata key '%s' is empty or reserved",
                         key ? key : "");
    }
    return put_meta(p->db, p->path, key, value, err);
}

void om_project_free_string(char *s)
{
    om__free(s);
}

/* ---- catalogue ---- */

#define RECORD_COLUMNS                                                         \
    "code, role, version, is_current, table_name, nfeatures, nempty, "         \
    "ninvalid, nrepaired, crs, source, source_layer, sha256, imported_at, "    \
    "params, code_field, name_field, min_x, min_y, max_x, max_y"

static void col_copy(sqlite3_stmt *st, int i, char *dst, size_t size)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    om__strlcpy(dst, v ? v : "", size);
}

static bool col_dup(sqlite3_stmt *st, int i, char **dst)
{
    const char *v = (const char *)sqlite3_column_text(st, i);
    *dst = NULL;
    if (!v) {
        return true;
    }
    *dst = om__strdup(v);
    return *dst != NULL;
}

static double col_real(sqlite3_stmt *st, int i, double dflt)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL
               ? dflt
               : sqlite3_column_double(st, i);
}

void om_layer_record_deinit(struct om_layer_record *r)
{
    if (!r) {
        return;
    }
    om__free(r->source);
    om__free(r->source_layer);
    om__free(r->params);
    om__free(r->code_field);
    om__free(r->name_field);
    r->source = r->source_layer = r->params = NULL;
    r->code_field = r->name_field = NULL;
}

static bool fill_record(sqlite3_stmt *st, struct om_layer_record *r)
{
    memset(r, 0, sizeof *r);
    col_copy(st, 0, r->code, sizeof r->code);
    col_copy(st, 1, r->role, sizeof r->role);
    r->version = sqlite3_column_int(st, 2);
    r->is_current = sqlite3_column_int(st, 3) != 0;
    col_copy(st, 4, r->table, sizeof r->table);
    r->nfeatures = sqlite3_column_int64(st, 5);
    r->nempty = sqlite3_column_int64(st, 6);
    r->ninvalid = sqlite3_column_int64(st, 7);
    r->nrepaired = sqlite3_column_int64(st, 8);
    col_copy(st, 9, r->crs, sizeof r->crs);
    col_copy(st, 12, r->sha256, sizeof r->sha256);
    col_copy(st, 13, r->imported_at, sizeof r->imported_at);
    r->extent = om_rect_empty();
    if (sqlite3_column_type(st, 17) != SQLITE_NULL) {
        r->extent.minx = col_real(st, 17, NAN);
        r->extent.miny = col_real(st, 18, NAN);
        r->extent.maxx = col_real(st, 19, NAN);
        r->extent.maxy = col_real(st, 20, NAN);
    }
    bool ok = col_dup(st, 10, &r->source) &&
              col_dup(st, 11, &r->source_layer) &&
              col_dup(st, 14, &r->params) && col_dup(st, 15, &r->code_field) &&
              col_dup(st, 16, &r->name_field);
    if (!ok) {
        om_layer_record_deinit(r);
    }
    return ok;
}

void om_layer_records_free(struct om_layer_record *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        om_layer_record_deinit(&r[i]);
    }
    om__free(r);
}

enum om_status om_project_layers(struct om_project *p, bool all_versions,
                                 struct om_layer_record **out, size_t *n,
                                 struct om_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        all_versions ? "SELECT " RECORD_COLUMNS
                       " FROM om_layers ORDER BY code, version"
                     : "SELECT " RECORD_COLUMNS
                       " FROM om_layers WHERE is_current ORDER BY code, "
                       "version",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    struct om_layer_record *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!OM__GROW(v, cap, len + 1) || !fill_record(st, &v[len])) {
            s = om__enomem(err, p->path);
            break;
        }
        len++;
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err, "cannot read om_layers");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        om_layer_records_free(v, len);
        return s;
    }
    *out = v;
    *n = len;
    return OM_OK;
}

/* "DLTB, XZQ" or "none" into b. */
static void list_codes(struct om_project *p, char *b, size_t size)
{
    sqlite3_stmt *st = NULL;
    size_t len = 0;
    b[0] = '\0';
    if (sqlite3_prepare_v2(p->db,
                           "SELECT DISTINCT code FROM om_layers ORDER BY "
                           "code",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && len + 70 < size) {
            const char *c = (const char *)sqlite3_column_text(st, 0);
            len += (size_t)snprintf(b + len, size - len, "%s%s",
                                    len ? ", " : "", c ? c : "");
        }
    }
    sqlite3_finalize(st);
    if (!b[0]) {
        om__strlcpy(b, "none", size);
    }
}

static enum om_status select_record(struct om_project *p, const char *code,
                                    int version, sqlite3_stmt **out,
                                    struct om_error *err)
{
    *out = NULL;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        version > 0 ? "SELECT " RECORD_COLUMNS
                      " FROM om_layers WHERE code = ?1 AND version = ?2"
                    : "SELECT " RECORD_COLUMNS
                      " FROM om_layers WHERE code = ?1 AND is_current",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    if (version > 0) {
        sqlite3_bind_int(st, 2, version);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = st;
        return OM_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        return om__store_error(p->db, p->path, err, "cannot read om_layers");
    }
    char codes[300];
    list_codes(p, codes, sizeof codes);
    if (version > 0) {
        return om__error(err, OM_ENOTFOUND, p->path, 0, -1,
                         "no version %d of layer '%s' (layers: %s)", version,
                         code, codes);
    }
    return om__error(err, OM_ENOTFOUND, p->path, 0, -1,
                     "no layer '%s' in the project (layers: %s)", code, codes);
}

enum om_status om_project_layer_record(struct om_project *p, const char *code,
                                       int version, struct om_layer_record *out,
                                       struct om_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = NULL;
    enum om_status s = select_record(p, code, version, &st, err);
    if (s != OM_OK) {
        return s;
    }
    if (!fill_record(st, out)) {
        s = om__enomem(err, p->path);
    }
    sqlite3_finalize(st);
    return s;
}

enum om_status om__store_find_layer(struct om_project *p, const char *code,
                                    int version, char table[128],
                                    int *found_version, struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = select_record(p, code, version, &st, err);
    if (s != OM_OK) {
        return s;
    }
    col_copy(st, 4, table, 128);
    *found_version = sqlite3_column_int(st, 2);
    sqlite3_finalize(st);
    return OM_OK;
}

/* ---- issues ---- */

void om_feature_issues_free(struct om_feature_issue *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        om__free((char *)f[i].kind);
        om__free((char *)f[i].reason);
    }
    om__free(f);
}

enum om_status om_project_issues(struct om_project *p, const char *code,
                                 int version, struct om_feature_issue **out,
                                 size_t *n, struct om_error *err)
{
    *out = NULL;
    *n = 0;
    char table[128];
    int ver = 0;
    enum om_status s = om__store_find_layer(p, code, version, table, &ver, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(p->db, p->path,
                          "SELECT fid, kind, reason, x, y FROM "
                          "om_feature_issues WHERE code = ?1 AND version = "
                          "?2 ORDER BY fid, rowid",
                          &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, ver);
    struct om_feature_issue *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!OM__GROW(v, cap, len + 1)) {
            s = om__enomem(err, p->path);
            break;
        }
        struct om_feature_issue *e = &v[len];
        char *kind = NULL, *reason = NULL;
        bool ok = col_dup(st, 1, &kind) && col_dup(st, 2, &reason);
        if (ok && !kind) {
            ok = (kind = om__strdup("")) != NULL;
        }
        if (ok && !reason) {
            ok = (reason = om__strdup("")) != NULL;
        }
        if (!ok) {
            om__free(kind);
            om__free(reason);
            s = om__enomem(err, p->path);
            break;
        }
        e->fid = sqlite3_column_int64(st, 0);
        e->kind = kind;
        e->reason = reason;
        e->x = col_real(st, 3, NAN);
        e->y = col_real(st, 4, NAN);
        len++;
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err,
                            "cannot read om_feature_issues");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        om_feature_issues_free(v, len);
        return s;
    }
    *out = v;
    *n = len;
    return OM_OK;
}

/* ---- import log ---- */

void om_import_log_free(struct om_import_log_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++) {
        om__free(e[i].source);
        om__free(e[i].message);
    }
    om__free(e);
}

enum om_status om_project_import_log(struct om_project *p, const char *code,
                                     struct om_import_log_entry **out,
                                     size_t *n, struct om_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT id, at, code, version, source, message FROM om_import_log "
        "WHERE ?1 IS NULL OR code = ?1 COLLATE NOCASE ORDER BY id",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    struct om_import_log_entry *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!OM__GROW(v, cap, len + 1)) {
            s = om__enomem(err, p->path);
            break;
        }
        struct om_import_log_entry *e = &v[len];
        memset(e, 0, sizeof *e);
        e->id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, e->at, sizeof e->at);
        col_copy(st, 2, e->code, sizeof e->code);
        e->version = sqlite3_column_int(st, 3);
        if (!col_dup(st, 4, &e->source) || !col_dup(st, 5, &e->message)) {
            om__free(e->source);
            s = om__enomem(err, p->path);
            break;
        }
        len++;
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err, "cannot read om_import_log");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        om_import_log_free(v, len);
        return s;
    }
    *out = v;
    *n = len;
    return OM_OK;
}
