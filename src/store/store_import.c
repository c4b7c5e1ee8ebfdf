/*
 * store_import.c — om_project_import: one finished layer into a new
 * versioned feature table with its GeoPackage registration, RTree index,
 * current-version view, catalogue row, log row and issues, all in one
 * transaction.
 */
#define _GNU_SOURCE /* sync_file_range */
#include "geom/wkb.h"
#include "store/store_int.h"
#include "store/stream.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * Write-back started while the rows are written: the project's pages that
 * SQLite has handed to the kernel (its cache spills as it fills) are sent
 * to the disk every FLUSH_BYTES of rows, in the background, so that the
 * fsync of COMMIT finds most of them written (the city's 545k parcels:
 * that fsync 0.15 s instead of 0.7 s, the import 0.1 s shorter: the rows
 * are written a little slower meanwhile). It changes no guarantee: SQLite
 * only hands the kernel pages it may write back at any time, and COMMIT
 * still syncs. Only where the kernel offers it (Linux).
 */
enum { FLUSH_BYTES = 32 << 20 };

struct flusher {
    int fd;
    size_t pending;
};

static void flusher_open(struct flusher *fl, const char *path)
{
    fl->pending = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    fl->fd = open(path, O_RDONLY | O_CLOEXEC);
#else
    (void)path;
    fl->fd = -1;
#endif
}

static void flusher_add(struct flusher *fl, size_t bytes)
{
    fl->pending += bytes;
    if (fl->fd < 0 || fl->pending < FLUSH_BYTES) {
        return;
    }
    fl->pending = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    /* a failure only leaves the pages to COMMIT's fsync */
    (void)sync_file_range(fl->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#endif
}

static void flusher_close(struct flusher *fl)
{
    if (fl->fd >= 0) {
        close(fl->fd);
    }
}

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
        char a = *s, b = *prefix;
        if (a >= 'A' && a <= 'Z') {
            a = (char)(a - 'A' + 'a');
        }
        if (a != b) {
            return false;
        }
    }
    return true;
}

static enum om_status check_code(const char *path, const char *code,
                                 struct om_error *err)
{
    size_t n = code ? strlen(code) : 0;
    bool ok = n > 0 && n <= OM_LIMIT_CODE_BYTES && is_alpha(code[0]);
    for (size_t i = 1; ok && i < n; i++) {
        ok = is_alpha(code[i]) || is_digit(code[i]) || code[i] == '_';
    }
    if (!ok) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "layer code '%s' is not valid: use a letter then "
                         "up to 62 letters, digits or '_' (e.g. DLTB)",
                         code ? code : "");
    }
    static const char *const reserved[] = {"om_", "gpkg_", "rtree_", "sqlite_"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        if (has_prefix_nocase(code, reserved[i])) {
            return om__error(err, OM_EINVAL, path, 0, -1,
                             "layer code '%s' is reserved (it starts with "
                             "'%s')",
                             code, reserved[i]);
        }
    }
    /* "<x>_v<digits>" would collide with the version tables */
    const char *u = strrchr(code, '_');
    if (u && (u[1] == 'v' || u[1] == 'V') && u[2]) {
        bool digits = true;
        for (const char *c = u + 2; *c; c++) {
            digits = digits && is_digit(*c);
        }
        if (digits) {
            return om__error(err, OM_EINVAL, path, 0, -1,
                             "layer code '%s' ends like a version table "
                             "name (_v<N>); choose another code",
                             code);
        }
    }
    return OM_OK;
}

/*
 * A layer code must not be the name of a results layer or table written by
 * a run (CONFLICTS, ...): its view "<name>" would be replaced silently.
 */
static enum om_status check_not_result(struct om_project *p, const char *code,
                                       struct om_error *err)
{
    if (!om__store_has_table(p->db, "om_runs")) {
        return OM_OK;
    }
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT 1 FROM om_runs, json_each(om_runs.tables) j "
        "WHERE json_extract(j.value, '$.name') = ?1 COLLATE NOCASE LIMIT 1",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) {
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "layer code '%s' is the name of analysis results "
                         "in this project; choose another code",
                         code);
    }
    if (rc != SQLITE_DONE) {
        return om__store_error(p->db, p->path, err, "cannot read om_runs");
    }
    return OM_OK;
}

/* SQL column names of the attributes: names kept, "fid"/"geom" and their
 * case variants get a "_1" (or "_2", ...) suffix. */
static enum om_status column_names(const struct om_layer *l, char ***out,
                                   struct om_error *err)
{
    size_t nf = om_layer_nfields(l);
    char **names = om__calloc(nf ? nf : 1, sizeof *names);
    if (!names) {
        return om__enomem(err, om_layer_name(l));
    }
    for (size_t i = 0; i < nf; i++) {
        const char *name = om_layer_field_name(l, (int)i);
        if (om__strcasecmp(name, "fid") != 0 &&
            om__strcasecmp(name, "geom") != 0) {
            names[i] = om__strdup(name);
        } else {
            size_t len = strlen(name) + 8;
            for (int k = 1;; k++) {
                om__free(names[i]);
                names[i] = om__malloc(len);
                if (!names[i]) {
                    break;
                }
                snprintf(names[i], len, "%s_%d", name, k);
                if (om_layer_field_index(l, names[i]) < 0) {
                    break;
                }
            }
        }
        if (!names[i]) {
            for (size_t j = 0; j < i; j++) {
                om__free(names[j]);
            }
            om__free(names);
            return om__enomem(err, om_layer_name(l));
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

struct writer {
    struct om_project *p;
    const struct om_layer *l;
    const struct om_import_meta *meta;
    const char *code;
    char table[128];
    char rtree[160];
    int version;
    char **cols;
    struct om__buf sql;
    struct om_error *err;
    /* the issues to record: meta's, or those of meta->rows_written */
    const struct om_feature_issue *issues;
    size_t nissues;
    /* what the catalogue records of the rows */
    uint64_t nfeatures, nempty, ninvalid, nrepaired;
    struct om_rect extent;
};

/* Build and run the SQL in w->sql (reset before and after). */
static enum om_status run_sql(struct writer *w)
{
    enum om_status st =
        om__store_exec(w->p->db, w->p->path, w->sql.data, w->err);
    om__buf_reset(&w->sql);
    return st;
}

static enum om_status sql_fmt(struct writer *w, enum om_status st,
                              const char *s)
{
    if (st != OM_OK) {
        return st;
    }
    return om__buf_puts(&w->sql, s);
}

static enum om_status sql_id(struct writer *w, enum om_status st,
                             const char *id)
{
    if (st != OM_OK) {
        return st;
    }
    return om__store_quote(&w->sql, id);
}

static enum om_status create_table(struct writer *w)
{
    enum om_status st = sql_fmt(w, OM_OK, "CREATE TABLE ");
    st = sql_id(w, st, w->table);
    st = sql_fmt(w, st,
                 " (fid INTEGER PRIMARY KEY NOT NULL, "
                 "geom MULTIPOLYGON");
    for (size_t i = 0; i < om_layer_nfields(w->l); i++) {
        st = sql_fmt(w, st, ", ");
        st = sql_id(w, st, w->cols[i]);
        enum om_field_type t = om_layer_field_type(w->l, (int)i);
        st = sql_fmt(w, st,
                     t == OM_FIELD_INT    ? " INTEGER"
                     : t == OM_FIELD_REAL ? " REAL"
                                          : " TEXT");
    }
    st = sql_fmt(w, st, "); CREATE VIRTUAL TABLE ");
    st = sql_id(w, st, w->rtree);
    st = sql_fmt(w, st, " USING rtree(id, minx, maxx, miny, maxy);");
    if (st != OM_OK) {
        return om__enomem(w->err, w->p->path);
    }
    return run_sql(w);
}

/* The standard GeoPackage 1.3 RTree triggers. */
static enum om_status create_triggers(struct writer *w)
{
    if (om__store_rtree_triggers_sql(&w->sql, w->table, w->rtree) != OM_OK) {
        return om__enomem(w->err, w->p->path);
    }
    return run_sql(w);
}

static enum om_status step_done(struct writer *w, sqlite3_stmt *st,
                                const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return om__store_error(w->p->db, w->p->path, w->err, what);
    }
    return OM_OK;
}

/*
 * INSERT OR FAIL INTO t VALUES (?, ?, ...), ... with `rows` rows. OR FAIL:
 * a failing statement keeps the rows before it (the whole import is rolled
 * back then anyway), so SQLite keeps no statement journal. With the default
 * (ABORT), every statement of several rows first copied the pages it was
 * about to change into a temporary file: for the city's 545k parcels,
 * 880 MB written in 56k calls taking 0.9 s.
 */
static enum om_status prepare_insert(struct writer *w, size_t rows,
                                     sqlite3_stmt **ins)
{
    size_t nfields = om_layer_nfields(w->l);
    enum om_status st = sql_fmt(w, OM_OK, "INSERT OR FAIL INTO ");
    st = sql_id(w, st, w->table);
    st = sql_fmt(w, st, " VALUES ");
    for (size_t r = 0; r < rows; r++) {
        st = sql_fmt(w, st, r ? ", (?, ?" : "(?, ?");
        for (size_t i = 0; i < nfields; i++) {
            st = sql_fmt(w, st, ", ?");
        }
        st = sql_fmt(w, st, ")");
    }
    if (st != OM_OK) {
        om__buf_reset(&w->sql);
        return om__enomem(w->err, w->p->path);
    }
    st = om__store_prepare(w->p->db, w->p->path, w->sql.data, ins, w->err);
    om__buf_reset(&w->sql);
    return st;
}

/*
 * The rows being written: the INSERT statements, a blob per row of the
 * larger one, and for a streamed layer every fid and box, for the index.
 */
struct rows {
    sqlite3_stmt *one, *many;
    size_t batch, nparams;
    struct om__bytes *blobs;
    struct flusher fl;
    int32_t srs_id;
    bool any;         /* a row was written: last_fid is its fid */
    int64_t last_fid; /* fids must increase: they become the primary key */
    bool boxes;       /* keep fid and bbox (a stream) */
    int64_t *fid;
    struct om_rect *bbox;
    size_t cap;
};

static enum om_status rows_open(struct writer *w, struct rows *r, bool boxes)
{
    memset(r, 0, sizeof *r);
    r->fl.fd = -1;
    r->nparams = 2 + om_layer_nfields(w->l);
    /* Several rows per statement: the per-step cost of SQLite's VM is
     * about half of a small row's. */
    size_t batch = 32000 / r->nparams;
    r->batch = batch > 64 ? 64 : batch < 1 ? 1 : batch;
    r->boxes = boxes;
    r->srs_id = om_project_srs_id(w->p);
    /* one blob a row of a statement, bound without a copy */
    r->blobs = om__calloc(r->batch, sizeof *r->blobs);
    if (!r->blobs) {
        return om__enomem(w->err, w->p->path);
    }
    enum om_status st = prepare_insert(w, 1, &r->one);
    if (st == OM_OK && r->batch > 1) {
        st = prepare_insert(w, r->batch, &r->many);
    }
    flusher_open(&r->fl, w->p->path);
    return st;
}

static void rows_close(struct rows *r)
{
    flusher_close(&r->fl);
    sqlite3_finalize(r->one);
    sqlite3_finalize(r->many);
    for (size_t k = 0; r->blobs && k < r->batch; k++) {
        om__bytes_deinit(&r->blobs[k]);
    }
    om__free(r->blobs);
    om__free(r->fid);
    om__free(r->bbox);
}

/*
 * Write every feature of the finished layer l in fid order, after those
 * written before (whose fids must all be smaller). `done` rows of `total`
 * were written before, for progress. For a stream, counts the empty
 * features and keeps fids and boxes. The features' flags are not read: a
 * check may be marking them meanwhile (a feature without geometry is the
 * one with an empty box).
 */
static enum om_status rows_write(struct writer *w, struct rows *r,
                                 const struct om_layer *l, uint64_t done,
                                 uint64_t total,
                                 const struct om_progress *progress)
{
    sqlite3 *db = w->p->db;
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t n = v.nfeatures;
    if (r->boxes && !OM__GROW(r->fid, r->cap, w->nfeatures + n)) {
        return om__enomem(w->err, w->p->path);
    }
    if (r->boxes) {
        struct om_rect *b =
            om__reallocarray(r->bbox, r->cap ? r->cap : 1, sizeof *b);
        if (!b) {
            return om__enomem(w->err, w->p->path);
        }
        r->bbox = b;
    }
    size_t full = r->batch > 1 ? n / r->batch * r->batch : 0;
    enum om_status st = OM_OK;
    for (size_t rank = 0; st == OM_OK && rank < n; rank++) {
        uint64_t at = done + rank;
        if (om__progress(progress, "writing", at,
                         total > at ? total : at + 1)) {
            st = om__error(w->err, OM_ECANCELED, w->p->path, 0, -1,
                           "import of %s canceled", w->code);
            break;
        }
        size_t f = om_layer_feature_by_fid_rank(l, rank);
        int64_t fid = v.fid[f];
        if (r->any && fid <= r->last_fid) {
            /* in fid order, a repeated fid follows itself */
            st = om__error(w->err, OM_ESTORE, w->p->path, 0, fid,
                           "layer %s has two features with fid %lld; "
                           "fids must be unique",
                           w->code, (long long)fid);
            break;
        }
        r->any = true;
        r->last_fid = fid;
        if (r->boxes) {
            size_t i = w->nfeatures++;
            r->fid[i] = fid;
            r->bbox[i] = v.bbox[f];
            w->extent = om_rect_union(w->extent, v.bbox[f]);
            w->nempty += om_rect_is_empty(v.bbox[f]);
        }
        sqlite3_stmt *ins = rank < full ? r->many : r->one;
        size_t row = rank < full ? rank % r->batch : 0;
        st = om__gpkg_encode(&v, f, r->srs_id, &r->blobs[row], w->err);
        if (st != OM_OK) {
            om__error_prefix(w->err, "%s", w->code);
            break;
        }
        om__store_bind_feature(l, fid, &r->blobs[row], true, f, ins,
                               (int)(row * r->nparams + 1));
        flusher_add(&r->fl, r->blobs[row].len);
        if (row + 1 < (rank < full ? r->batch : 1)) {
            continue;
        }
        int rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (rc != SQLITE_DONE) {
            st = om__store_error(db, w->p->path, w->err,
                                 "cannot write a feature");
        }
    }
    return st;
}

/* The index, packed in Hilbert order: over the whole layer l, or over
 * the boxes a stream kept. */
static enum om_status rows_index(struct writer *w, struct rows *r,
                                 const struct om_layer *l,
                                 const struct om_progress *progress)
{
    uint64_t n = r->boxes ? w->nfeatures : om_layer_nfeatures(l);
    if (om__progress(progress, "indexing", n, n)) {
        return om__error(w->err, OM_ECANCELED, w->p->path, 0, -1,
                         "import of %s canceled", w->code);
    }
    enum om_status st =
        r->boxes
            ? om__store_rtree_bulk_boxes(w->p->db, w->p->path, w->rtree,
                                         w->nfeatures, r->fid, r->bbox,
                                         w->extent, w->err)
            : om__store_rtree_bulk(w->p->db, w->p->path, w->rtree, l, w->err);
    if (st == OM_OK) {
        om__progress(progress, "writing", n, n);
    }
    return st;
}

/* Register a features table or view in gpkg_contents and
 * gpkg_geometry_columns. */
static enum om_status register_contents(struct writer *w, const char *name,
                                        const char *description)
{
    sqlite3 *db = w->p->db;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        db, w->p->path,
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, "
        "identifier, description, min_x, min_y, max_x, max_y, srs_id) "
        "VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    struct om_rect e = w->extent;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, description, -1, SQLITE_STATIC);
    if (!om_rect_is_empty(e)) {
        sqlite3_bind_double(st, 3, e.minx);
        sqlite3_bind_double(st, 4, e.miny);
        sqlite3_bind_double(st, 5, e.maxx);
        sqlite3_bind_double(st, 6, e.maxy);
    }
    sqlite3_bind_int(st, 7, om_project_srs_id(w->p));
    s = step_done(w, st, "cannot write gpkg_contents");
    sqlite3_finalize(st);
    if (s != OM_OK) {
        return s;
    }
    s = om__store_prepare(db, w->p->path,
                          "INSERT OR REPLACE INTO gpkg_geometry_columns "
                          "VALUES (?1, 'geom', 'MULTIPOLYGON', ?2, 0, 0)",
                          &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, om_project_srs_id(w->p));
    s = step_done(w, st, "cannot write gpkg_geometry_columns");
    sqlite3_finalize(st);
    return s;
}

static enum om_status register_table(struct writer *w)
{
    char desc[200];
    snprintf(desc, sizeof desc, "onemap layer %s version %d", w->code,
             w->version);
    enum om_status s = register_contents(w, w->table, desc);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(
        w->p->db, w->p->path,
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

/* The view "<code>" over the current version, for QGIS users. */
static enum om_status create_view(struct writer *w)
{
    sqlite3 *db = w->p->db;
    /* Only replace a view we made: a table of that name is the user's. */
    sqlite3_stmt *q = NULL;
    enum om_status s = om__store_prepare(
        db, w->p->path,
        "SELECT type FROM sqlite_master WHERE name = ?1 COLLATE NOCASE", &q,
        w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(q, 1, w->code, -1, SQLITE_STATIC);
    char type[16] = "";
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        om__strlcpy(type, t ? t : "", sizeof type);
    }
    sqlite3_finalize(q);
    if (type[0] && strcmp(type, "view") != 0) {
        return om__error(w->err, OM_ESTORE, w->p->path, 0, -1,
                         "cannot make the view '%s' of the current version: "
                         "a %s of that name exists",
                         w->code, type);
    }
    enum om_status b = sql_fmt(w, OM_OK, "DROP VIEW IF EXISTS ");
    b = sql_id(w, b, w->code);
    b = sql_fmt(w, b, "; CREATE VIEW ");
    b = sql_id(w, b, w->code);
    b = sql_fmt(w, b, " AS SELECT * FROM ");
    b = sql_id(w, b, w->table);
    b = sql_fmt(w, b, ";");
    if (b != OM_OK) {
        return om__enomem(w->err, w->p->path);
    }
    s = run_sql(w);
    if (s != OM_OK) {
        return s;
    }
    /* drop registrations of the old view under another case spelling */
    s = om__store_prepare(db, w->p->path,
                          "DELETE FROM gpkg_geometry_columns WHERE "
                          "table_name = ?1 COLLATE NOCASE",
                          &q, w->err);
    if (s == OM_OK) {
        sqlite3_bind_text(q, 1, w->code, -1, SQLITE_STATIC);
        s = step_done(w, q, "cannot update gpkg_geometry_columns");
        sqlite3_finalize(q);
    }
    if (s == OM_OK) {
        s = om__store_prepare(db, w->p->path,
                              "DELETE FROM gpkg_contents WHERE table_name = "
                              "?1 COLLATE NOCASE",
                              &q, w->err);
    }
    if (s == OM_OK) {
        sqlite3_bind_text(q, 1, w->code, -1, SQLITE_STATIC);
        s = step_done(w, q, "cannot update gpkg_contents");
        sqlite3_finalize(q);
    }
    if (s == OM_OK) {
        char desc[200];
        snprintf(desc, sizeof desc, "onemap layer %s, current version (%d)",
                 w->code, w->version);
        s = register_contents(w, w->code, desc);
    }
    return s;
}

static enum om_status write_catalogue(struct writer *w, const char *now)
{
    sqlite3 *db = w->p->db;
    const struct om_import_meta *m = w->meta;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        db, w->p->path, "UPDATE om_layers SET is_current = 0 WHERE code = ?1",
        &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, w->code, -1, SQLITE_STATIC);
    s = step_done(w, st, "cannot update om_layers");
    sqlite3_finalize(st);
    if (s != OM_OK) {
        return s;
    }
    s = om__store_prepare(
        db, w->p->path,
        "INSERT INTO om_layers (code, version, role, is_current, table_name, "
        "nfeatures, nempty, ninvalid, nrepaired, crs, source, source_layer, "
        "sha256, imported_at, params, code_field, name_field, min_x, min_y, "
        "max_x, max_y) VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
        "?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, w->code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, w->version);
    sqlite3_bind_text(st, 3, m->role ? m->role : om_layer_role_for(w->code), -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->table, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)w->nfeatures);
    sqlite3_bind_int64(st, 6, (int64_t)w->nempty);
    sqlite3_bind_int64(st, 7, (int64_t)w->ninvalid);
    sqlite3_bind_int64(st, 8, (int64_t)w->nrepaired);
    sqlite3_bind_text(st, 9, w->p->crs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, m->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, m->source_layer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, m->sha256, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 14, m->params_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 15, m->code_field, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 16, m->name_field, -1, SQLITE_STATIC);
    struct om_rect e = w->extent;
    if (!om_rect_is_empty(e)) {
        sqlite3_bind_double(st, 17, e.minx);
        sqlite3_bind_double(st, 18, e.miny);
        sqlite3_bind_double(st, 19, e.maxx);
        sqlite3_bind_double(st, 20, e.maxy);
    }
    s = step_done(w, st, "cannot write om_layers");
    sqlite3_finalize(st);
    if (s != OM_OK) {
        return s;
    }
    /* log */
    char msg[400];
    snprintf(msg, sizeof msg,
             "imported %llu features (%llu empty, %llu invalid, %llu "
             "repaired) as %s version %d",
             (unsigned long long)w->nfeatures, (unsigned long long)w->nempty,
             (unsigned long long)w->ninvalid, (unsigned long long)w->nrepaired,
             w->code, w->version);
    s = om__store_prepare(db, w->p->path,
                          "INSERT INTO om_import_log (at, code, version, "
                          "source, message) VALUES (?1, ?2, ?3, ?4, ?5)",
                          &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, w->version);
    sqlite3_bind_text(st, 4, m->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, msg, -1, SQLITE_STATIC);
    s = step_done(w, st, "cannot write om_import_log");
    sqlite3_finalize(st);
    if (s != OM_OK || w->nissues == 0) {
        return s;
    }
    s = om__store_prepare(db, w->p->path,
                          "INSERT INTO om_feature_issues VALUES (?1, ?2, ?3, "
                          "?4, ?5, ?6, ?7)",
                          &st, w->err);
    if (s != OM_OK) {
        return s;
    }
    for (size_t i = 0; s == OM_OK && i < w->nissues; i++) {
        const struct om_feature_issue *is = &w->issues[i];
        sqlite3_bind_text(st, 1, w->code, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, w->version);
        sqlite3_bind_int64(st, 3, is->fid);
        sqlite3_bind_text(st, 4, is->kind ? is->kind : "invalid", -1,
                          SQLITE_STATIC);
        sqlite3_bind_text(st, 5, is->reason, -1, SQLITE_STATIC);
        if (isfinite(is->x) && isfinite(is->y)) {
            sqlite3_bind_double(st, 6, is->x);
            sqlite3_bind_double(st, 7, is->y);
        } else {
            sqlite3_bind_null(st, 6);
            sqlite3_bind_null(st, 7);
        }
        s = step_done(w, st, "cannot write om_feature_issues");
    }
    sqlite3_finalize(st);
    return s;
}

static enum om_status next_version(struct writer *w)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        w->p->db, w->p->path,
        "SELECT COALESCE(MAX(version), 0) FROM om_layers WHERE code = ?1", &st,
        w->err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, w->code, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        w->version = sqlite3_column_int(st, 0) + 1;
    } else {
        s = om__store_error(w->p->db, w->p->path, w->err,
                            "cannot read om_layers");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        return s;
    }
    snprintf(w->table, sizeof w->table, "%s_v%d", w->code, w->version);
    snprintf(w->rtree, sizeof w->rtree, "rtree_%s_geom", w->table);
    if (om__store_has_table(w->p->db, w->table)) {
        return om__error(w->err, OM_ESTORE, w->p->path, 0, -1,
                         "a table named %s already exists but is not in "
                         "the catalogue; rename or drop it",
                         w->table);
    }
    return OM_OK;
}

/*
 * The rows: the whole `layer`, or the chunks of `src` when it is set
 * (layer is then the schema, without features).
 */
static enum om_status write_rows(struct writer *w,
                                 const struct om__import_source *src,
                                 const struct om_progress *progress)
{
    struct rows r;
    enum om_status s = rows_open(w, &r, src != NULL);
    if (!src) {
        uint64_t n = om_layer_nfeatures(w->l);
        if (s == OM_OK) {
            s = rows_write(w, &r, w->l, 0, n, progress);
        }
        if (s == OM_OK) {
            s = rows_index(w, &r, w->l, progress);
        }
        rows_close(&r);
        return s;
    }
    while (s == OM_OK) {
        struct om_layer *chunk = NULL;
        s = src->next(src->ctx, &chunk, w->err);
        if (s != OM_OK || !chunk) {
            break;
        }
        s = rows_write(w, &r, chunk, w->nfeatures, src->total, progress);
        src->written(src->ctx, chunk);
    }
    if (s == OM_OK) {
        s = rows_index(w, &r, NULL, progress);
    }
    rows_close(&r);
    return s;
}

/* The catalogue's counts of invalid and repaired features from a stream's
 * issues (a whole layer's come from its flags). */
static void count_issues(struct writer *w)
{
    for (size_t i = 0; i < w->nissues; i++) {
        const char *k = w->issues[i].kind ? w->issues[i].kind : "invalid";
        w->ninvalid += strcmp(k, "invalid") == 0;
        w->nrepaired += strcmp(k, "repaired") == 0;
    }
}

static enum om_status import_layer(struct om_project *p,
                                   const struct om_layer *layer,
                                   const struct om__import_source *src,
                                   const struct om_import_meta *meta,
                                   int *version, uint64_t *nfeatures,
                                   const struct om_progress *progress,
                                   struct om_error *err)
{
    if (version) {
        *version = 0;
    }
    if (nfeatures) {
        *nfeatures = 0;
    }
    enum om_status s = check_code(p->path, meta->code, err);
    if (s != OM_OK) {
        return s;
    }
    s = check_not_result(p, meta->code, err);
    if (s != OM_OK) {
        return s;
    }
    if (p->readonly) {
        return om__error(err, OM_ESTORE, p->path, 0, -1,
                         "the project is open read-only");
    }
    if (!p->crs && !meta->project_crs) {
        return om__error(err, OM_ECRS, p->path, 0, -1,
                         "the project CRS is still 'auto': set it before "
                         "writing layer %s",
                         meta->code);
    }
    if (om_layer_nfields(layer) > OM_LIMIT_FIELDS) {
        return om__error(err, OM_ELIMIT, meta->code, 0, -1,
                         "more than %u fields", OM_LIMIT_FIELDS);
    }
    struct writer w = {0};
    w.p = p;
    w.l = layer;
    w.meta = meta;
    w.code = meta->code;
    w.err = err;
    w.issues = meta->issues;
    w.nissues = meta->nissues;
    w.extent = om_rect_empty();
    om__buf_init(&w.sql, 0);
    s = column_names(layer, &w.cols, err);
    if (s != OM_OK) {
        return s;
    }
    /* SQLite's default page cache (2 MB), not a large one: the new table's
     * pages spill to the kernel as the cache fills, and the same 2 MB are
     * used again. A cache the size of the table touches that much fresh
     * memory, which SQLite zeroes page by page: with 64 MB, the county's
     * parcels took 224 ms to import instead of 178 ms. */
    s = om__store_exec(p->db, p->path, "BEGIN IMMEDIATE", err);
    bool crs_now = false;
    if (s == OM_OK) {
        char now[32];
        om__store_now(now);
        if (!p->crs) {
            /* "auto": the CRS chosen for this first import is set in the
             * same transaction, so a failed import leaves it "auto". */
            s = om__store_set_crs_tx(p, meta->project_crs, err);
            crs_now = s == OM_OK;
        }
        if (s == OM_OK) {
            s = next_version(&w);
        }
        if (s == OM_OK) {
            s = create_table(&w);
        }
        if (s == OM_OK) {
            s = write_rows(&w, src, progress);
        }
        if (s == OM_OK && meta->rows_written) {
            s = meta->rows_written(meta->rows_written_ctx, &w.issues,
                                   &w.nissues, err);
        }
        if (s == OM_OK && src) {
            count_issues(&w);
        } else if (s == OM_OK) {
            w.nfeatures = om_layer_nfeatures(layer);
            w.nempty = om_layer_count_flag(layer, OM_FEAT_EMPTY);
            w.ninvalid = om_layer_count_flag(layer, OM_FEAT_INVALID);
            w.nrepaired = om_layer_count_flag(layer, OM_FEAT_REPAIRED);
            w.extent = om_layer_extent(layer);
        }
        if (s == OM_OK) {
            s = create_triggers(&w);
        }
        if (s == OM_OK) {
            s = register_table(&w);
        }
        if (s == OM_OK) {
            s = create_view(&w);
        }
        if (s == OM_OK) {
            s = write_catalogue(&w, now);
        }
        if (s == OM_OK && om__canceled(progress)) {
            s = om__error(err, OM_ECANCELED, p->path, 0, -1,
                          "import of %s canceled", w.code);
        }
        if (s == OM_OK) {
            s = om__store_exec(p->db, p->path, "COMMIT", err);
        }
        if (s != OM_OK) {
            sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
            if (crs_now) {
                om__store_unset_crs(p);
            }
        }
    }
    free_names(w.cols, om_layer_nfields(layer));
    om__buf_deinit(&w.sql);
    if (s == OM_OK && version) {
        *version = w.version;
    }
    if (s == OM_OK && nfeatures) {
        *nfeatures = w.nfeatures;
    }
    return s;
}

enum om_status
om_project_import(struct om_project *p, const struct om_layer *layer,
                  const struct om_import_meta *meta, int *version,
                  const struct om_progress *progress, struct om_error *err)
{
    return import_layer(p, layer, NULL, meta, version, NULL, progress, err);
}

enum om_status om__project_import_stream(struct om_project *p,
                                         const struct om__import_source *src,
                                         const struct om_import_meta *meta,
                                         int *version, uint64_t *nfeatures,
                                         const struct om_progress *progress,
                                         struct om_error *err)
{
    return import_layer(p, src->schema, src, meta, version, nfeatures, progress,
                        err);
}
