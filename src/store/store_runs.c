/*
 * store_runs.c — run records and results layers: om_run_begin / write /
 * commit / abort (one transaction per run, a savepoint per write), the
 * om_runs listing and the reader of results tables.
 *
 * A results feature table is written like an imported layer version
 * (store_import.c): same column naming, multi-row inserts in fid order,
 * GeoPackage blobs from om__gpkg_encode, RTree bulk-loaded in the layer's
 * order, the standard GeoPackage RTree triggers. The writer helpers of
 * store_import.c are file-local there, so the small ones are repeated
 * here.
 */
#include "geom/wkb.h"
#include "store/store_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct om_run {
    struct om_project *p;
    int64_t id;
    char kind[32];
    char started_at[32];
    char *params;
    char *rules_source;
    char rules_sha256[65];
    char *inputs;          /* JSON array */
    struct om__buf tables; /* JSON array entries, without the brackets */
    bool is_dead;          /* the transaction was lost (SQLite rolled back) */
};

/* ---- names ---- */

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char a = *s;
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != *prefix) {
            return false;
        }
    }
    return true;
}

/* Does `s` end in "_<letter><digits>" (either case of the letter)? */
static bool ends_like(const char *s, char letter)
{
    const char *u = strrchr(s, '_');
    if (!u || (u[1] != letter && u[1] != letter - 'a' + 'A') || !u[2]) {
        return false;
    }
    for (const char *c = u + 2; *c; c++) {
        if (!is_digit(*c)) {
            return false;
        }
    }
    return true;
}

static enum om_status check_kind(const char *path, const char *kind,
                                 struct om_error *err)
{
    size_t n = kind ? strlen(kind) : 0;
    bool ok = n > 0 && n < 32 && kind[0] >= 'a' && kind[0] <= 'z';
    for (size_t i = 1; ok && i < n; i++) {
        ok = (kind[i] >= 'a' && kind[i] <= 'z') || is_digit(kind[i]) ||
             kind[i] == '_';
    }
    if (!ok) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "run kind '%s' is not valid: use a lower-case "
                         "letter then up to 30 lower-case letters, digits "
                         "or '_' (e.g. conflicts)",
                         kind ? kind : "");
    }
    return OM_OK;
}

/* The results name rules; see om_run_write_layer. */
static enum om_status check_name(struct om_run *r, const char *name,
                                 struct om_error *err)
{
    const char *path = r->p->path;
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n <= OM_LIMIT_CODE_BYTES && is_alpha(name[0]);
    for (size_t i = 1; ok && i < n; i++) {
        ok = is_alpha(name[i]) || is_digit(name[i]) || name[i] == '_';
    }
    if (!ok) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "results name '%s' is not valid: use a letter then "
                         "up to 62 letters, digits or '_' (e.g. CONFLICTS)",
                         name ? name : "");
    }
    static const char *const reserved[] = {"om_", "gpkg_", "rtree_", "sqlite_"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (has_prefix_nocase(name, reserved[i])) {
            return om__error(err, OM_EINVAL, path, 0, -1,
                             "results name '%s' is reserved (it starts with "
                             "'%s')",
                             name, reserved[i]);
        }
    }
    if (ends_like(name, 'r') || ends_like(name, 'v')) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "results name '%s' ends like a run or version "
                         "table name (_r<N> / _v<N>); choose another name",
                         name);
    }
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        r->p->db, path, "SELECT 1 FROM om_layers WHERE code = ?1", &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "results name '%s' is a layer code of the project; "
                         "choose another name",
                         name);
    }
    if (rc != SQLITE_DONE) {
        return om__store_error(r->p->db, path, err, "cannot read om_layers");
    }
    return OM_OK;
}

/* ---- JSON text ---- */

static enum om_status json_str(struct om__buf *b, const char *s)
{
    enum om_status st = om__buf_puts(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; st == OM_OK && *c;
         c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            st = om__buf_append(b, e, 2);
        } else if (*c < 0x20) {
            st = om__buf_printf(b, "\\u%04x", *c);
        } else {
            st = om__buf_append(b, c, 1);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "\"");
    }
    return st;
}

static enum om_status inputs_json(const struct om_run_begin *b, char **out)
{
    struct om__buf j;
    om__buf_init(&j, 0);
    enum om_status st = om__buf_puts(&j, "[");
    for (size_t i = 0; st == OM_OK && i < b->ninputs; i++) {
        const struct om_run_input *in = &b->inputs[i];
        st = om__buf_puts(&j, i ? ",{\"code\":" : "{\"code\":");
        if (st == OM_OK) {
            st = json_str(&j, in->code ? in->code : "");
        }
        if (st == OM_OK) {
            st = om__buf_printf(&j, ",\"version\":%d,\"sha256\":", in->version);
        }
        if (st == OM_OK) {
            st = in->sha256 && in->sha256[0] ? json_str(&j, in->sha256)
                                             : om__buf_puts(&j, "null");
        }
        if (st == OM_OK) {
            st = om__buf_puts(&j, "}");
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(&j, "]");
    }
    if (st != OM_OK) {
        om__buf_deinit(&j);
        return st;
    }
    *out = om__buf_take(&j);
    return *out ? OM_OK : OM_ENOMEM;
}

/* Is `text` NULL or valid JSON (SQLite's json_valid)? */
static enum om_status check_json(struct om_project *p, const char *text,
                                 const char *what, struct om_error *err)
{
    if (!text) {
        return OM_OK;
    }
    sqlite3_stmt *st = NULL;
    enum om_status s =
        om__store_prepare(p->db, p->path, "SELECT json_valid(?1)", &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    bool valid = rc == SQLITE_ROW && sqlite3_column_int(st, 0) == 1;
    if (rc != SQLITE_ROW) {
        s = om__store_error(p->db, p->path, err, "cannot check JSON");
    } else if (!valid) {
        s = om__error(err, OM_EINVAL, p->path, 0, -1,
                      "the run's %s is not valid JSON: %.80s", what, text);
    }
    sqlite3_finalize(st);
    return s;
}

/* ---- begin / abort ---- */

static void run_free(struct om_run *r)
{
    if (!r) {
        return;
    }
    om__free(r->params);
    om__free(r->rules_source);
    om__free(r->inputs);
    om__buf_deinit(&r->tables);
    om__free(r);
}

void om_run_now(char buf[32])
{
    om__store_now(buf);
}

int64_t om_run_id(const struct om_run *r)
{
    return r->id;
}

static enum om_status next_id(struct om_run *r, struct om_error *err)
{
    struct om_project *p = r->p;
    if (!om__store_has_table(p->db, "om_runs")) {
        return om__error(err, OM_ESTORE, p->path, 0, -1,
                         "the project has no om_runs table yet (it was "
                         "locked when opened); open it again read-write");
    }
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path, "SELECT COALESCE(MAX(id), 0) + 1 FROM om_runs", &st,
        err);
    if (s != OM_OK) {
        return s;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        r->id = sqlite3_column_int64(st, 0);
    } else {
        s = om__store_error(p->db, p->path, err, "cannot read om_runs");
    }
    sqlite3_finalize(st);
    return s;
}

enum om_status om_run_begin(struct om_project *p, const struct om_run_begin *b,
                            struct om_run **out, struct om_error *err)
{
    *out = NULL;
    enum om_status s = check_kind(p->path, b->kind, err);
    if (s != OM_OK) {
        return s;
    }
    if (p->readonly) {
        return om__error(err, OM_ESTORE, p->path, 0, -1,
                         "the project is open read-only");
    }
    if (!p->crs) {
        return om__error(err, OM_ECRS, p->path, 0, -1,
                         "the project CRS is still 'auto': import a layer "
                         "before a %s run",
                         b->kind);
    }
    if (b->ninputs && !b->inputs) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "run inputs: %zu inputs but no array", b->ninputs);
    }
    s = check_json(p, b->params_json, "params", err);
    if (s != OM_OK) {
        return s;
    }
    struct om_run *r = om__calloc(1, sizeof *r);
    if (!r) {
        return om__enomem(err, p->path);
    }
    r->p = p;
    om__buf_init(&r->tables, 0);
    om__strlcpy(r->kind, b->kind, sizeof r->kind);
    if (b->started_at && b->started_at[0]) {
        om__strlcpy(r->started_at, b->started_at, sizeof r->started_at);
    } else {
        om__store_now(r->started_at);
    }
    om__strlcpy(r->rules_sha256, b->rules_sha256 ? b->rules_sha256 : "",
                sizeof r->rules_sha256);
    bool ok = true;
    if (b->params_json) {
        ok = (r->params = om__strdup(b->params_json)) != NULL;
    }
    if (ok && b->rules_source) {
        ok = (r->rules_source = om__strdup(b->rules_source)) != NULL;
    }
    if (ok) {
        ok = inputs_json(b, &r->inputs) == OM_OK;
    }
    if (!ok) {
        run_free(r);
        return om__enomem(err, p->path);
    }
    s = om__store_exec(p->db, p->path, "BEGIN IMMEDIATE", err);
    if (s != OM_OK) {
        run_free(r);
        return s;
    }
    s = next_id(r, err);
    if (s != OM_OK) {
        sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
        run_free(r);
        return s;
    }
    *out = r;
    return OM_OK;
}

void om_run_abort(struct om_run *r)
{
    if (!r) {
        return;
    }
    if (!sqlite3_get_autocommit(r->p->db)) {
        sqlite3_exec(r->p->db, "ROLLBACK", NULL, NULL, NULL);
    }
    run_free(r);
}

/* ---- one write: a savepoint inside the run's transaction ---- */

static enum om_status write_begin(struct om_run *r, const char *name,
                                  struct om_error *err)
{
    if (r->is_dead || sqlite3_get_autocommit(r->p->db)) {
        r->is_dead = true;
        return om__error(err, OM_ESTORE, r->p->path, 0, -1,
                         "run %" PRId64 " lost its transaction after an "
                         "earlier error; abort it",
                         r->id);
    }
    enum om_status s = check_name(r, name, err);
    if (s == OM_OK) {
        s = om__store_exec(r->p->db, r->p->path, "SAVEPOINT om_run_write", err);
    }
    return s;
}

static enum om_status write_end(struct om_run *r, enum om_status s,
                                struct om_error *err)
{
    sqlite3 *db = r->p->db;
    if (s == OM_OK) {
        s = om__store_exec(db, r->p->path, "RELEASE om_run_write", err);
    }
    if (s != OM_OK) {
        if (sqlite3_get_autocommit(db)) {
            /* SQLite rolled the whole transaction back (full disk, OOM
             * inside a statement, ...). */
            r->is_dead = true;
        } else {
            sqlite3_exec(db, "ROLLBACK TO om_run_write; RELEASE om_run_write",
                         NULL, NULL, NULL);
        }
    }
    return s;
}

/* ---- the SQL text builder of one write ---- */

struct writer {
    struct om_run *r;
    const char *name;
    char table[128];
    char rtree[160];
    struct om__buf sql;
    struct om_error *err;
    const char *geom_type; /* gpkg_geometry_columns type of features */
    bool is_oom;           /* a buffer append failed */
};

static void put(struct writer *w, const char *s)
{
    if (!w->is_oom && om__buf_puts(&w->sql, s) != OM_OK) {
        w->is_oom = true;
    }
}

static void put_id(struct writer *w, const char *id)
{
    if (!w->is_oom && om__store_quote(&w->sql, id) != OM_OK) {
        w->is_oom = true;
    }
}

/* Run the SQL built so far and reset the builder. */
static enum om_status run_sql(struct writer *w)
{
    enum om_status s;
    if (w->is_oom) {
        s = om__enomem(w->err, w->r->p->path);
    } else {
        s = om__store_exec(w->r->p->db, w->r->p->path, w->sql.data, w->err);
    }
    om__buf_reset(&w->sql);
    w->is_oom = false;
    return s;
}

static enum om_status prepare_sql(struct writer *w, sqlite3_stmt **st)
{
    enum om_status s;
    *st = NULL;
    if (w->is_oom) {
        s = om__enomem(w->err, w->r->p->path);
    } else {
        s = om__store_prepare(w->r->p->db, w->r->p->path, w->sql.data, st,
                              w->err);
    }
    om__buf_reset(&w->sql);
    w->is_oom = false;
    return s;
}

static enum om_status step_done(struct writer *w, sqlite3_stmt *st,
                                const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return om__store_error(w->r->p->db, w->r->p->path, w->err, what);
    }
    return OM_OK;
}

static enum om_status writer_init(struct writer *w, struct om_run *r,
                                  const char *name, struct om_error *err)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    w->name = name;
    w->err = err;
    w->geom_type = "MULTIPOLYGON";
    om__buf_init(&w->sql, 0);
    snprintf(w->table, sizeof w->table, "%s_r%" PRId64, name, r->id);
    snprintf(w->rtree, sizeof w->rtree, "rtree_%s_geom", w->table);
    if (om__store_has_table(r->p->db, w->table)) {
        return om__error(err, OM_EINVAL, r->p->path, 0, -1,
                         "a table named %s already exists (written twice "
                         "in run %" PRId64 "?)",
                         w->table, r->id);
    }
    return OM_OK;
}

/* Unique SQL column names: "fid" (and "geom" for layers) get "_1", "_2",
 * ... until no field and no earlier column has the name. */
static enum om_status column_names(const char *const *in, size_t n,
                                   bool spatial, char ***out,
                                   struct om_error *err, const char *path)
{
    char **names = om__calloc(n ? n : 1, sizeof *names);
    if (!names) {
        return om__enomem(err, path);
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = in[i];
        bool clash = om__strcasecmp(name, "fid") == 0 ||
                     (spatial && om__strcasecmp(name, "geom") == 0);
        if (!clash) {
            names[i] = om__strdup(name);
        }
        for (int k = 1; clash; k++) {
            size_t len = strlen(name) + 16;
            om__free(names[i]);
            names[i] = om__malloc(len);
            if (!names[i]) {
                break;
            }
            snprintf(names[i], len, "%s_%d", name, k);
            clash = false;
            for (size_t j = 0; j < n && !clash; j++) {
                clash = om__strcasecmp(in[j], names[i]) == 0;
            }
        }
        if (!names[i]) {
            for (size_t j = 0; j < i; j++) {
                om__free(names[j]);
            }
            om__free(names);
            return om__enomem(err, path);
        }
    }
    *out = names;
    return OM_OK;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++) {
        om__free(names[i]);
    }
    om__free(names);
}

/* gpkg_contents (and gpkg_geometry_columns for features) rows of a table
 * or view. */
static enum om_status register_contents(struct writer *w, const char *name,
                                        const char *identifier,
                                        const char *description, bool spatial,
                                        struct om_rect e)
{
    struct om_project *p = w->r->p;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, "
        "identifier, description, min_x, min_y, max_x, max_y, srs_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, spatial ? "features" : "attributes", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 3, identifier, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
    if (spatial && !om_rect_is_empty(e)) {
        sqlite3_bind_double(st, 5, e.minx);
        sqlite3_bind_double(st, 6, e.miny);
        sqlite3_bind_double(st, 7, e.maxx);
        sqlite3_bind_double(st, 8, e.maxy);
    }
    if (spatial) {
        sqlite3_bind_int(st, 9, om_project_srs_id(p));
    }
    s = step_done(w, st, "cannot write gpkg_contents");
    sqlite3_finalize(st);
    if (s != OM_OK || !spatial) {
        return s;
    }
    s = om__store_prepare(p->db, p->path,
                          "INSERT OR REPLACE INTO gpkg_geometry_columns "
                          "VALUES (?1, 'geom', ?3, ?2, 0, 0)",
                          &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, om_project_srs_id(p));
    sqlite3_bind_text(st, 3, w->geom_type, -1, SQLITE_STATIC);
    s = step_done(w, st, "cannot write gpkg_geometry_columns");
    sqlite3_finalize(st);
    return s;
}

static enum om_status register_table(struct writer *w, bool spatial,
                                     struct om_rect e)
{
    char ident[160], desc[200];
    snprintf(ident, sizeof ident, "%s run %" PRId64, w->name, w->r->id);
    snprintf(desc, sizeof desc, "onemap %s run %" PRId64 ": %s", w->r->kind,
             w->r->id, w->name);
    enum om_status s = register_contents(w, w->table, ident, desc, spatial, e);
    if (s != OM_OK || !spatial) {
        return s;
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(
        w->r->p->db, w->r->p->path,
        "INSERT INTO gpkg_extensions VALUES (?1, 'geom', "
        "'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', "
        "'write-only')",
        &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, w->table, -1, SQLITE_STATIC);
    s = step_done(w, st, "cannot write gpkg_extensions");
    sqlite3_finalize(st);
    return s;
}

static enum om_status delete_nocase(struct writer *w, const char *sql)
{
    sqlite3_stmt *st = NULL;
    enum om_status s =
        om__store_prepare(w->r->p->db, w->r->p->path, sql, &st, w->err);
    if (s == OM_OK) {
        sqlite3_bind_text(st, 1, w->name, -1, SQLITE_STATIC);
        s = step_done(w, st, "cannot update the GeoPackage registry");
        sqlite3_finalize(st);
    }
    return s;
}

/* The view "<name>" over this run's table. */
static enum om_status create_view(struct writer *w, bool spatial,
                                  struct om_rect e)
{
    struct om_project *p = w->r->p;
    sqlite3_stmt *q = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT type FROM sqlite_master WHERE name = ?1 COLLATE NOCASE", &q,
        w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(q, 1, w->name, -1, SQLITE_STATIC);
    char type[16] = "";
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        om__strlcpy(type, t ? t : "", sizeof type);
    }
    sqlite3_finalize(q);
    if (type[0] && strcmp(type, "view") != 0) {
        return om__error(w->err, OM_ESTORE, p->path, 0, -1,
                         "cannot make the view '%s' of the latest results: "
                         "a %s of that name exists",
                         w->name, type);
    }
    put(w, "DROP VIEW IF EXISTS ");
    put_id(w, w->name);
    put(w, "; CREATE VIEW ");
    put_id(w, w->name);
    put(w, " AS SELECT * FROM ");
    put_id(w, w->table);
    put(w, ";");
    s = run_sql(w);
    if (s == OM_OK) {
        s = delete_nocase(w, "DELETE FROM gpkg_geometry_columns WHERE "
                             "table_name = ?1 COLLATE NOCASE");
    }
    if (s == OM_OK) {
        s = delete_nocase(w, "DELETE FROM gpkg_contents WHERE table_name = "
                             "?1 COLLATE NOCASE");
    }
    if (s == OM_OK) {
        char desc[200];
        snprintf(desc, sizeof desc,
                 "onemap %s results %s, latest run (%" PRId64 ")", w->r->kind,
                 w->name, w->r->id);
        s = register_contents(w, w->name, w->name, desc, spatial, e);
    }
    return s;
}

/* Append this write's entry to the run's tables JSON (kept on failure
 * of the caller's later steps: the caller appends last). */
static enum om_status note_table(struct writer *w, bool spatial, size_t nrows)
{
    struct om__buf *b = &w->r->tables;
    size_t mark = b->len;
    enum om_status s = om__buf_puts(b, mark ? ",{\"name\":" : "{\"name\":");
    if (s == OM_OK) {
        s = json_str(b, w->name);
    }
    if (s == OM_OK) {
        s = om__buf_puts(b, ",\"table\":");
    }
    if (s == OM_OK) {
        s = json_str(b, w->table);
    }
    if (s == OM_OK) {
        s = om__buf_printf(b, ",\"type\":\"%s\",\"rows\":%zu}",
                           spatial ? "features" : "attributes", nrows);
    }
    if (s != OM_OK) {
        b->len = mark;
        if (b->data) {
            b->data[mark] = '\0';
        }
        return om__enomem(w->err, w->r->p->path);
    }
    return OM_OK;
}

/* ---- features ---- */

static enum om_status
create_feature_table(struct writer *w, const struct om_layer *l, char **cols)
{
    put(w, "CREATE TABLE ");
    put_id(w, w->table);
    put(w, " (fid INTEGER PRIMARY KEY NOT NULL, geom MULTIPOLYGON");
    for (size_t i = 0; i < om_layer_nfields(l); i++) {
        put(w, ", ");
        put_id(w, cols[i]);
        enum om_field_type t = om_layer_field_type(l, (int)i);
        put(w, t == OM_FIELD_INT    ? " INTEGER"
               : t == OM_FIELD_REAL ? " REAL"
                                    : " TEXT");
    }
    put(w, "); CREATE VIRTUAL TABLE ");
    put_id(w, w->rtree);
    put(w, " USING rtree(id, minx, maxx, miny, maxy);");
    return run_sql(w);
}

/* The standard GeoPackage 1.3 RTree triggers (table and rtree names are
 * [A-Za-z0-9_] by check_name). */
static enum om_status create_triggers(struct writer *w)
{
    if (!w->is_oom &&
        om__store_rtree_triggers_sql(&w->sql, w->table, w->rtree) != OM_OK) {
        w->is_oom = true;
    }
    return run_sql(w);
}

/* OR FAIL: no statement journal for the statements of many rows (a
 * failed write is rolled back to its savepoint; see store_import.c) */
static enum om_status prepare_insert(struct writer *w, size_t rows,
                                     size_t nvalues, sqlite3_stmt **ins)
{
    put(w, "INSERT OR FAIL INTO ");
    put_id(w, w->table);
    put(w, " VALUES ");
    for (size_t r = 0; r < rows; r++) {
        put(w, r ? ", (?" : "(?");
        for (size_t i = 1; i < nvalues; i++) {
            put(w, ", ?");
        }
        put(w, ")");
    }
    return prepare_sql(w, ins);
}

static enum om_status check_fids(struct writer *w, const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    for (size_t r = 1; r < v.nfeatures; r++) {
        int64_t a = v.fid[om_layer_feature_by_fid_rank(l, r - 1)];
        int64_t b = v.fid[om_layer_feature_by_fid_rank(l, r)];
        if (a == b) {
            return om__error(w->err, OM_ESTORE, w->r->p->path, 0, a,
                             "results layer %s has two features with fid "
                             "%" PRId64 "; fids must be unique",
                             w->name, a);
        }
    }
    return OM_OK;
}

static enum om_status canceled(struct writer *w)
{
    return om__error(w->err, OM_ECANCELED, w->r->p->path, 0, -1,
                     "writing results %s of run %" PRId64 " canceled", w->name,
                     w->r->id);
}

static enum om_status write_features(struct writer *w, const struct om_layer *l,
                                     const struct om_progress *progress)
{
    struct om_project *p = w->r->p;
    size_t nparams = 2 + om_layer_nfields(l);
    size_t batch = 32000 / nparams;
    batch = batch > 64 ? 64 : batch < 1 ? 1 : batch;
    sqlite3_stmt *one = NULL, *many = NULL;
    struct om__bytes blob = {0};
    enum om_status s = check_fids(w, l);
    if (s == OM_OK) {
        s = prepare_insert(w, 1, nparams, &one);
    }
    if (s == OM_OK && batch > 1) {
        s = prepare_insert(w, batch, nparams, &many);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    int32_t srs_id = om_project_srs_id(p);
    size_t n = v.nfeatures;
    size_t full = batch > 1 ? n / batch * batch : 0;
    for (size_t rank = 0; s == OM_OK && rank < n; rank++) {
        if (om__progress(progress, "writing", rank, n)) {
            s = canceled(w);
            break;
        }
        size_t f = om_layer_feature_by_fid_rank(l, rank);
        s = om__gpkg_encode(&v, f, srs_id, &blob, w->err);
        if (s != OM_OK) {
            om__error_prefix(w->err, "%s", w->name);
            break;
        }
        sqlite3_stmt *ins = rank < full ? many : one;
        size_t row = rank < full ? rank % batch : 0;
        om__store_bind_feature(l, v.fid[f], &blob, false, f, ins,
                               (int)(row * nparams + 1));
        if (row + 1 < (rank < full ? batch : 1)) {
            continue;
        }
        s = step_done(w, ins, "cannot write a results feature");
    }
    sqlite3_finalize(one);
    sqlite3_finalize(many);
    om__bytes_deinit(&blob);
    if (s == OM_OK && om__progress(progress, "indexing", n, n)) {
        s = canceled(w);
    }
    if (s == OM_OK) {
        s = om__store_rtree_bulk(p->db, p->path, w->rtree, l, w->err);
    }
    if (s == OM_OK) {
        om__progress(progress, "writing", n, n);
    }
    return s;
}

enum om_status om_run_write_layer(struct om_run *r, const char *name,
                                  const struct om_layer *layer,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    struct om_project *p = r->p;
    const char *lcrs = om_layer_crs(layer);
    if (lcrs && om__strcasecmp(lcrs, p->crs) != 0) {
        return om__error(err, OM_ECRS, p->path, 0, -1,
                         "results layer %s is in %s, not in the project CRS "
                         "%s; reproject it first",
                         name ? name : "", lcrs, p->crs);
    }
    if (!om_layer_is_finished(layer)) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "results layer %s is not finished "
                         "(om_layer_finish)",
                         name ? name : "");
    }
    if (om_layer_nfields(layer) > OM_LIMIT_FIELDS) {
        return om__error(err, OM_ELIMIT, name, 0, -1, "more than %u fields",
                         OM_LIMIT_FIELDS);
    }
    enum om_status s = write_begin(r, name, err);
    if (s != OM_OK) {
        return s;
    }
    struct writer w;
    char **cols = NULL;
    size_t nf = om_layer_nfields(layer);
    const char **fields = NULL;
    s = writer_init(&w, r, name, err);
    if (s == OM_OK && !(fields = om__calloc(nf ? nf : 1, sizeof *fields))) {
        s = om__enomem(err, p->path);
    }
    for (size_t i = 0; fields && i < nf; i++) {
        fields[i] = om_layer_field_name(layer, (int)i);
    }
    if (s == OM_OK) {
        s = column_names(fields, nf, true, &cols, err, p->path);
    }
    struct om_rect e = om_layer_extent(layer);
    if (s == OM_OK) {
        s = create_feature_table(&w, layer, cols);
    }
    if (s == OM_OK) {
        s = write_features(&w, layer, progress);
    }
    if (s == OM_OK) {
        s = create_triggers(&w);
    }
    if (s == OM_OK) {
        s = register_table(&w, true, e);
    }
    if (s == OM_OK) {
        s = create_view(&w, true, e);
    }
    if (s == OM_OK && om__canceled(progress)) {
        s = canceled(&w);
    }
    size_t mark = r->tables.len;
    if (s == OM_OK) {
        s = note_table(&w, true, om_layer_nfeatures(layer));
    }
    s = write_end(r, s, err);
    if (s != OM_OK && r->tables.len != mark) {
        r->tables.len = mark; /* RELEASE failed after the note */
        r->tables.data[mark] = '\0';
    }
    free_names(cols, nf);
    om__free(fields);
    om__buf_deinit(&w.sql);
    return s;
}

/* ---- attribute tables ---- */

enum col_kind { COL_INT, COL_REAL, COL_TEXT };

/* A decimal integer literal without leading zeros that fits int64. */
static bool is_int_literal(const char *s, int64_t *v)
{
    const char *d = s + (s[0] == '-' || s[0] == '+');
    if (!is_digit(d[0]) || (d[0] == '0' && d[1])) {
        return false;
    }
    for (const char *c = d; *c; c++) {
        if (!is_digit(*c)) {
            return false;
        }
    }
    errno = 0;
    char *end;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || *end) {
        return false;
    }
    *v = x;
    return true;
}

/* A finite decimal number (no hex, inf, nan or spaces). */
static bool is_number(const char *s, double *v)
{
    const char *d = s + (s[0] == '-' || s[0] == '+');
    if (!is_digit(d[0]) && !(d[0] == '.' && is_digit(d[1]))) {
        return false;
    }
    for (const char *c = d; *c; c++) {
        if (!is_digit(*c) && *c != '.' && *c != 'e' && *c != 'E' && *c != '-' &&
            *c != '+') {
            return false;
        }
    }
    errno = 0;
    char *end;
    double x = strtod(s, &end);
    if (*end || !isfinite(x)) {
        return false;
    }
    *v = x;
    return true;
}

/* "0101", "-007": a code, not a number. */
static bool has_leading_zero(const char *s)
{
    const char *d = s + (s[0] == '-' || s[0] == '+');
    return d[0] == '0' && is_digit(d[1]);
}

static enum col_kind column_kind(const char *const *cells, size_t ncols,
                                 size_t nrows, size_t c)
{
    enum col_kind k = COL_INT;
    size_t nvalues = 0;
    for (size_t r = 0; r < nrows && k != COL_TEXT; r++) {
        const char *v = cells[r * ncols + c];
        int64_t i;
        double d;
        if (!v) {
            continue;
        }
        nvalues++;
        if (has_leading_zero(v)) {
            k = COL_TEXT;
        } else if (k == COL_INT && !is_int_literal(v, &i)) {
            k = is_number(v, &d) ? COL_REAL : COL_TEXT;
        } else if (k == COL_REAL && !is_number(v, &d)) {
            k = COL_TEXT;
        }
    }
    return nvalues ? k : COL_TEXT;
}

static enum om_status check_columns(struct om_run *r, const char *name,
                                    const char *const *columns, size_t ncols,
                                    struct om_error *err)
{
    if (ncols == 0 || ncols > OM_LIMIT_FIELDS) {
        return om__error(err, OM_EINVAL, r->p->path, 0, -1,
                         "results table %s: %zu columns (want 1 to %u)",
                         name ? name : "", ncols, OM_LIMIT_FIELDS);
    }
    for (size_t i = 0; i < ncols; i++) {
        if (!columns[i] || !columns[i][0]) {
            return om__error(err, OM_EINVAL, r->p->path, 0, -1,
                             "results table %s: column %zu has no name",
                             name ? name : "", i + 1);
        }
        for (size_t j = 0; j < i; j++) {
            if (om__strcasecmp(columns[i], columns[j]) == 0) {
                return om__error(err, OM_EINVAL, r->p->path, 0, -1,
                                 "results table %s: column '%s' appears "
                                 "twice",
                                 name ? name : "", columns[i]);
            }
        }
    }
    return OM_OK;
}

static enum om_status write_rows(struct writer *w, const enum col_kind *kinds,
                                 size_t ncols, const char *const *cells,
                                 size_t nrows)
{
    sqlite3_stmt *ins = NULL;
    put(w, "INSERT INTO ");
    put_id(w, w->table);
    put(w, " VALUES (NULL");
    for (size_t c = 0; c < ncols; c++) {
        put(w, ", ?");
    }
    put(w, ")");
    enum om_status s = prepare_sql(w, &ins);
    for (size_t r = 0; s == OM_OK && r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *v = cells[r * ncols + c];
            int k = (int)c + 1;
            int64_t i = 0;
            double d = 0;
            if (!v) {
                sqlite3_bind_null(ins, k);
            } else if (kinds[c] == COL_INT && is_int_literal(v, &i)) {
                sqlite3_bind_int64(ins, k, i);
            } else if (kinds[c] == COL_REAL && is_number(v, &d)) {
                sqlite3_bind_double(ins, k, d);
            } else {
                sqlite3_bind_text(ins, k, v, -1, SQLITE_STATIC);
            }
        }
        s = step_done(w, ins, "cannot write a results row");
    }
    sqlite3_finalize(ins);
    return s;
}

enum om_status om_run_write_table(struct om_run *r, const char *name,
                                  const char *const *columns, size_t ncols,
                                  const char *const *cells, size_t nrows,
                                  struct om_error *err)
{
    struct om_project *p = r->p;
    enum om_status s = check_columns(r, name, columns, ncols, err);
    if (s == OM_OK && nrows && !cells) {
        s = om__error(err, OM_EINVAL, p->path, 0, -1,
                      "results table %s: %zu rows but no cells", name, nrows);
    }
    if (s != OM_OK) {
        return s;
    }
    s = write_begin(r, name, err);
    if (s != OM_OK) {
        return s;
    }
    struct writer w;
    char **cols = NULL;
    enum col_kind *kinds = NULL;
    s = writer_init(&w, r, name, err);
    if (s == OM_OK && !(kinds = om__calloc(ncols, sizeof *kinds))) {
        s = om__enomem(err, p->path);
    }
    if (s == OM_OK) {
        s = column_names(columns, ncols, false, &cols, err, p->path);
    }
    if (s == OM_OK) {
        put(&w, "CREATE TABLE ");
        put_id(&w, w.table);
        put(&w, " (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL");
        for (size_t c = 0; c < ncols; c++) {
            kinds[c] = column_kind(cells, ncols, nrows, c);
            put(&w, ", ");
            put_id(&w, cols[c]);
            put(&w, kinds[c] == COL_INT    ? " INTEGER"
                    : kinds[c] == COL_REAL ? " REAL"
                                           : " TEXT");
        }
        put(&w, ")");
        s = run_sql(&w);
    }
    if (s == OM_OK) {
        s = write_rows(&w, kinds, ncols, cells, nrows);
    }
    if (s == OM_OK) {
        s = register_table(&w, false, om_rect_empty());
    }
    if (s == OM_OK) {
        s = create_view(&w, false, om_rect_empty());
    }
    size_t mark = r->tables.len;
    if (s == OM_OK) {
        s = note_table(&w, false, nrows);
    }
    s = write_end(r, s, err);
    if (s != OM_OK && r->tables.len != mark) {
        r->tables.len = mark;
        r->tables.data[mark] = '\0';
    }
    free_names(cols, ncols);
    om__free(kinds);
    om__buf_deinit(&w.sql);
    return s;
}

/* ---- point tables ---- */

/* A GeoPackage blob of POINT(x y): little endian, no envelope. */
static void point_blob(uint8_t out[29], int32_t srs_id, double x, double y)
{
    uint32_t srs = (uint32_t)srs_id;
    out[0] = 'G';
    out[1] = 'P';
    out[2] = 0;    /* version 1 */
    out[3] = 0x01; /* little endian, no envelope, not empty */
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(srs >> (8 * i));
    }
    out[8] = 1; /* WKB little endian */
    out[9] = 1; /* wkbPoint */
    out[10] = out[11] = out[12] = 0;
    uint64_t bx, by;
    memcpy(&bx, &x, sizeof bx);
    memcpy(&by, &y, sizeof by);
    for (int i = 0; i < 8; i++) {
        out[13 + i] = (uint8_t)(bx >> (8 * i));
        out[21 + i] = (uint8_t)(by >> (8 * i));
    }
}

static enum om_status write_points(struct writer *w, const enum col_kind *kinds,
                                   const double *xy, size_t n, size_t ncols,
                                   const char *const *cells, struct om_rect *e)
{
    sqlite3_stmt *ins = NULL, *idx = NULL;
    put(w, "INSERT INTO ");
    put_id(w, w->table);
    put(w, " VALUES (?, ?");
    for (size_t c = 0; c < ncols; c++) {
        put(w, ", ?");
    }
    put(w, ")");
    enum om_status s = prepare_sql(w, &ins);
    if (s == OM_OK) {
        put(w, "INSERT INTO ");
        put_id(w, w->rtree);
        put(w, " VALUES (?1, ?2, ?2, ?3, ?3)");
        s = prepare_sql(w, &idx);
    }
    int32_t srs_id = om_project_srs_id(w->r->p);
    *e = om_rect_empty();
    for (size_t r = 0; s == OM_OK && r < n; r++) {
        double x = xy[2 * r], y = xy[2 * r + 1];
        bool has = isfinite(x) && isfinite(y);
        uint8_t blob[29];
        sqlite3_bind_int64(ins, 1, (sqlite3_int64)(r + 1));
        if (has) {
            point_blob(blob, srs_id, x, y);
            sqlite3_bind_blob(ins, 2, blob, (int)sizeof blob, SQLITE_TRANSIENT);
            *e = om_rect_union(*e, (struct om_rect){x, y, x, y});
        } else {
            sqlite3_bind_null(ins, 2);
        }
        for (size_t c = 0; c < ncols; c++) {
            const char *v = cells ? cells[r * ncols + c] : NULL;
            int k = (int)c + 3;
            int64_t i = 0;
            double d = 0;
            if (!v) {
                sqlite3_bind_null(ins, k);
            } else if (kinds[c] == COL_INT && is_int_literal(v, &i)) {
                sqlite3_bind_int64(ins, k, i);
            } else if (kinds[c] == COL_REAL && is_number(v, &d)) {
                sqlite3_bind_double(ins, k, d);
            } else {
                sqlite3_bind_text(ins, k, v, -1, SQLITE_STATIC);
            }
        }
        s = step_done(w, ins, "cannot write a results point");
        if (s == OM_OK && has) {
            /* SQLite's rtree rounds min down and max up to float. */
            sqlite3_bind_int64(idx, 1, (sqlite3_int64)(r + 1));
            sqlite3_bind_double(idx, 2, x);
            sqlite3_bind_double(idx, 3, y);
            s = step_done(w, idx, "cannot index a results point");
        }
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(idx);
    return s;
}

enum om_status om_run_write_points(struct om_run *r, const char *name,
                                   const double *xy, size_t n,
                                   const char *const *columns, size_t ncols,
                                   const char *const *cells,
                                   struct om_error *err)
{
    struct om_project *p = r->p;
    enum om_status s = OM_OK;
    if (ncols > OM_LIMIT_FIELDS) {
        s = om__error(err, OM_ELIMIT, name, 0, -1, "more than %u fields",
                      OM_LIMIT_FIELDS);
    } else if (ncols) {
        s = check_columns(r, name, columns, ncols, err);
    }
    if (s == OM_OK && n && (!xy || (ncols && !cells))) {
        s = om__error(err, OM_EINVAL, p->path, 0, -1,
                      "results points %s: %zu points but no coordinates or "
                      "cells",
                      name ? name : "", n);
    }
    if (s != OM_OK) {
        return s;
    }
    s = write_begin(r, name, err);
    if (s != OM_OK) {
        return s;
    }
    struct writer w;
    char **cols = NULL;
    enum col_kind *kinds = NULL;
    struct om_rect e = om_rect_empty();
    s = writer_init(&w, r, name, err);
    w.geom_type = "POINT";
    if (s == OM_OK && !(kinds = om__calloc(ncols ? ncols : 1, sizeof *kinds))) {
        s = om__enomem(err, p->path);
    }
    if (s == OM_OK) {
        s = column_names(columns, ncols, true, &cols, err, p->path);
    }
    if (s == OM_OK) {
        put(&w, "CREATE TABLE ");
        put_id(&w, w.table);
        put(&w, " (fid INTEGER PRIMARY KEY NOT NULL, geom POINT");
        for (size_t c = 0; c < ncols; c++) {
            kinds[c] = cells ? column_kind(cells, ncols, n, c) : COL_TEXT;
            put(&w, ", ");
            put_id(&w, cols[c]);
            put(&w, kinds[c] == COL_INT    ? " INTEGER"
                    : kinds[c] == COL_REAL ? " REAL"
                                           : " TEXT");
        }
        put(&w, "); CREATE VIRTUAL TABLE ");
        put_id(&w, w.rtree);
        put(&w, " USING rtree(id, minx, maxx, miny, maxy);");
        s = run_sql(&w);
    }
    if (s == OM_OK) {
        s = write_points(&w, kinds, xy, n, ncols, cells, &e);
    }
    if (s == OM_OK) {
        s = create_triggers(&w);
    }
    if (s == OM_OK) {
        s = register_table(&w, true, e);
    }
    if (s == OM_OK) {
        s = create_view(&w, true, e);
    }
    size_t mark = r->tables.len;
    if (s == OM_OK) {
        s = note_table(&w, true, n);
    }
    s = write_end(r, s, err);
    if (s != OM_OK && r->tables.len != mark) {
        r->tables.len = mark;
        r->tables.data[mark] = '\0';
    }
    free_names(cols, ncols);
    om__free(kinds);
    om__buf_deinit(&w.sql);
    return s;
}

/* ---- commit ---- */

enum om_status om_run_commit(struct om_run *r, const char *summary_json,
                             struct om_error *err)
{
    struct om_project *p = r->p;
    enum om_status s = OM_OK;
    if (r->is_dead || sqlite3_get_autocommit(p->db)) {
        s = om__error(err, OM_ESTORE, p->path, 0, -1,
                      "run %" PRId64 " lost its transaction after an "
                      "earlier error; nothing of it was written",
                      r->id);
    }
    if (s == OM_OK) {
        s = check_json(p, summary_json, "summary", err);
    }
    char *tables = NULL;
    if (s == OM_OK) {
        struct om__buf t;
        om__buf_init(&t, 0);
        if (om__buf_puts(&t, "[") != OM_OK ||
            om__buf_puts(&t, r->tables.data ? r->tables.data : "") != OM_OK ||
            om__buf_puts(&t, "]") != OM_OK || !(tables = om__buf_take(&t))) {
            om__buf_deinit(&t);
            s = om__enomem(err, p->path);
        }
    }
    sqlite3_stmt *st = NULL;
    if (s == OM_OK) {
        s = om__store_prepare(
            p->db, p->path,
            "INSERT INTO om_runs (id, kind, started_at, finished_at, params, "
            "rules_source, rules_sha256, inputs, tables, summary) VALUES "
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            &st, err);
    }
    if (s == OM_OK) {
        char now[32];
        om__store_now(now);
        sqlite3_bind_int64(st, 1, r->id);
        sqlite3_bind_text(st, 2, r->kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, r->started_at, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, r->params, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, r->rules_source, -1, SQLITE_STATIC);
        if (r->rules_sha256[0]) {
            sqlite3_bind_text(st, 7, r->rules_sha256, -1, SQLITE_STATIC);
        }
        sqlite3_bind_text(st, 8, r->inputs, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 9, tables, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 10, summary_json, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            s = om__store_error(p->db, p->path, err, "cannot write om_runs");
        }
        sqlite3_finalize(st);
    }
    if (s == OM_OK) {
        s = om__store_exec(p->db, p->path, "COMMIT", err);
    }
    om__free(tables);
    if (s != OM_OK) {
        om_run_abort(r);
        return s;
    }
    run_free(r);
    return OM_OK;
}

/* ---- listing ---- */

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
        return sqlite3_column_type(st, i) == SQLITE_NULL;
    }
    *dst = om__strdup(v);
    return *dst != NULL;
}

static void record_deinit(struct om_run_record *e)
{
    om__free(e->params);
    om__free(e->rules_source);
    om__free(e->inputs);
    om__free(e->tables);
    om__free(e->summary);
}

void om_run_records_free(struct om_run_record *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++) {
        record_deinit(&r[i]);
    }
    om__free(r);
}

enum om_status om_project_runs(struct om_project *p, const char *kind,
                               struct om_run_record **out, size_t *n,
                               struct om_error *err)
{
    *out = NULL;
    *n = 0;
    if (!om__store_has_table(p->db, "om_runs")) {
        return OM_OK;
    }
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT id, kind, started_at, finished_at, params, rules_source, "
        "rules_sha256, COALESCE(inputs, '[]'), COALESCE(tables, '[]'), "
        "summary FROM om_runs WHERE ?1 IS NULL OR kind = ?1 ORDER BY id",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    struct om_run_record *v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!OM__GROW(v, cap, len + 1)) {
            s = om__enomem(err, p->path);
            break;
        }
        struct om_run_record *e = &v[len];
        memset(e, 0, sizeof *e);
        e->id = sqlite3_column_int64(st, 0);
        col_copy(st, 1, e->kind, sizeof e->kind);
        col_copy(st, 2, e->started_at, sizeof e->started_at);
        col_copy(st, 3, e->finished_at, sizeof e->finished_at);
        col_copy(st, 6, e->rules_sha256, sizeof e->rules_sha256);
        bool ok = col_dup(st, 4, &e->params) &&
                  col_dup(st, 5, &e->rules_source) &&
                  col_dup(st, 7, &e->inputs) && col_dup(st, 8, &e->tables) &&
                  col_dup(st, 9, &e->summary);
        if (!ok) {
            record_deinit(e);
            s = om__enomem(err, p->path);
            break;
        }
        len++;
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err, "cannot read om_runs");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        om_run_records_free(v, len);
        return s;
    }
    *out = v;
    *n = len;
    return OM_OK;
}

/* ---- reading results back ---- */

/* The run table `name` designates: a results table itself, or the latest
 * run's table of a results name. */
static enum om_status resolve_result(struct om_project *p, const char *name,
                                     char table[128], struct om_error *err)
{
    table[0] = '\0';
    sqlite3_stmt *st = NULL;
    enum om_status s = OM_OK;
    if (om__store_has_table(p->db, "om_runs")) {
        s = om__store_prepare(
            p->db, p->path,
            "SELECT json_extract(j.value, '$.table') FROM om_runs, "
            "json_each(om_runs.tables) AS j WHERE json_extract(j.value, "
            "'$.type') = 'features' AND (json_extract(j.value, '$.table') = "
            "?1 COLLATE NOCASE OR json_extract(j.value, '$.name') = ?1 "
            "COLLATE NOCASE) ORDER BY om_runs.id DESC LIMIT 1",
            &st, err);
        if (s != OM_OK) {
            return s;
        }
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            col_copy(st, 0, table, 128);
        } else if (rc != SQLITE_DONE) {
            s = om__store_error(p->db, p->path, err, "cannot read om_runs");
        }
        sqlite3_finalize(st);
    }
    if (s != OM_OK || table[0]) {
        return s;
    }
    /* list what there is */
    char list[300] = "";
    size_t len = 0;
    if (om__store_has_table(p->db, "om_runs") &&
        sqlite3_prepare_v2(p->db,
                           "SELECT json_extract(j.value, '$.table') FROM "
                           "om_runs, json_each(om_runs.tables) AS j WHERE "
                           "json_extract(j.value, '$.type') = 'features' "
                           "ORDER BY om_runs.id DESC",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW && len + 140 < sizeof list) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    len ? ", " : "", t ? t : "");
        }
    }
    sqlite3_finalize(st);
    return om__error(err, OM_ENOTFOUND, p->path, 0, -1,
                     "no results layer '%s' (results layers: %s)", name,
                     list[0] ? list : "none");
}

/* Layers hold polygons: a point table (QC_ERRORS) is for GDAL / QGIS. */
static enum om_status check_polygonal(struct om_project *p, const char *table,
                                      struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT geometry_type_name FROM gpkg_geometry_columns WHERE "
        "table_name = ?1 COLLATE NOCASE",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    char type[32] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        col_copy(st, 0, type, sizeof type);
    }
    sqlite3_finalize(st);
    if (om__strcasecmp(type, "POINT") == 0) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "results table %s holds points, not polygons: "
                         "open it with GDAL or QGIS (ogr2ogr, onemap "
                         "reads polygon results only)",
                         table);
    }
    return OM_OK;
}

enum om_status om_project_read_result(struct om_project *p, const char *table,
                                      struct om_layer **out,
                                      const struct om_progress *progress,
                                      struct om_error *err)
{
    *out = NULL;
    if (!table || !table[0]) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "no results table named");
    }
    struct om_layer *l = NULL;
    /* One read transaction, as om_project_read. */
    enum om_status s = om__store_exec(p->db, p->path, "BEGIN", err);
    if (s != OM_OK) {
        return s;
    }
    char name[128];
    s = resolve_result(p, table, name, err);
    if (s == OM_OK) {
        s = check_polygonal(p, name, err);
    }
    if (s == OM_OK) {
        struct om__read_spec spec = {p->path, name, "geom", name, progress};
        s = om__store_read_table(p->db, &spec, &l, err);
    }
    if (s == OM_OK && p->crs) {
        s = om_layer_set_crs(l, p->crs, err);
    }
    if (s == OM_OK) {
        s = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL);
    if (s != OM_OK) {
        om_layer_free(l);
        return s;
    }
    *out = l;
    return OM_OK;
}
