/*
 * store_read.c — the fast GeoPackage reader: rows straight from SQLite,
 * geometry blobs decoded into the flat layer without GEOS or GDAL. Used for
 * project layers (om_project_read) and for any GeoPackage feature table
 * (om_project_read_gpkg_file).
 */
#include "geom/layer_int.h"
#include "geom/wkb.h"
#include "store/store_int.h"
#include "store/stream.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct column {
    char *name;
    int field;               /* layer field index; -1 = skipped */
    enum om_field_type type; /* 0 = not an attribute (BLOB, the fid) */
};

/* Attribute type from a declared SQL column type; 0 = skip (BLOB or a
 * geometry type). */
static enum om_field_type field_type_for(const char *decl)
{
    char up[64];
    size_t n = 0;
    for (; decl && decl[n] && n + 1 < sizeof up; n++) {
        up[n] = (char)toupper((unsigned char)decl[n]);
    }
    up[n] = '\0';
    if (strstr(up, "INT") || strstr(up, "BOOL")) {
        return OM_FIELD_INT;
    }
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB") ||
        strstr(up, "NUMERIC") || strstr(up, "DECIMAL")) {
        return OM_FIELD_REAL;
    }
    if (n == 0 || strstr(up, "TEXT") || strstr(up, "CHAR") ||
        strstr(up, "CLOB") || strstr(up, "DATE") || strstr(up, "TIME")) {
        return OM_FIELD_TEXT;
    }
    return 0;
}

static void free_columns(struct column *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++) {
        om__free(c[i].name);
    }
    om__free(c);
}

/* Columns of `table` except the geometry column; the INTEGER PRIMARY KEY
 * (if any) goes to *fid_col. */
static enum om_status table_columns(sqlite3 *db,
                                    const struct om__read_spec *spec,
                                    struct column **out, size_t *nout,
                                    char **fid_col, struct om_error *err)
{
    *out = NULL;
    *nout = 0;
    *fid_col = NULL;
    struct om__buf sql;
    om__buf_init(&sql, 0);
    enum om_status s = om__buf_puts(&sql, "PRAGMA table_info(");
    if (s == OM_OK) {
        s = om__store_quote(&sql, spec->table);
    }
    if (s == OM_OK) {
        s = om__buf_puts(&sql, ")");
    }
    if (s != OM_OK) {
        om__buf_deinit(&sql);
        return om__enomem(err, spec->source);
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(db, spec->source, sql.data, &st, err);
    om__buf_deinit(&sql);
    if (s != OM_OK) {
        return s;
    }
    struct column *cols = NULL;
    size_t n = 0, cap = 0;
    int npk = 0;
    char *pk = NULL;
    bool pk_is_int = false;
    bool first_is_int = false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *decl = (const char *)sqlite3_column_text(st, 2);
        int is_pk = sqlite3_column_int(st, 5);
        if (!name) {
            continue;
        }
        if (n == 0 && !first_is_int && decl &&
            om__strcasecmp(decl, "INTEGER") == 0 &&
            om__strcasecmp(name, spec->geom_column) != 0) {
            first_is_int = true;
        }
        if (is_pk) {
            npk++;
            if (npk == 1) {
                pk = om__strdup(name);
                pk_is_int = decl && om__strcasecmp(decl, "INTEGER") == 0;
                if (!pk) {
                    s = om__enomem(err, spec->source);
                    break;
                }
            }
        }
        if (om__strcasecmp(name, spec->geom_column) == 0) {
            continue;
        }
        if (!OM__GROW(cols, cap, n + 1)) {
            s = om__enomem(err, spec->source);
            break;
        }
        cols[n].name = om__strdup(name);
        cols[n].field = -1;
        cols[n].type = field_type_for(decl);
        if (!cols[n].name) {
            s = om__enomem(err, spec->source);
            break;
        }
        n++;
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(db, spec->source, err, "cannot read the columns");
    }
    sqlite3_finalize(st);
    if (s == OM_OK && n == 0 && !pk) {
        s = om__error(err, OM_ENOTFOUND, spec->source, 0, -1, "no table '%s'",
                      spec->table);
    }
    if (s != OM_OK) {
        free_columns(cols, n);
        om__free(pk);
        return s;
    }
    /* A single INTEGER PRIMARY KEY is the rowid: that is the fid. Views
     * have no rowid: like GDAL, take their first column when it is an
     * INTEGER. */
    if (npk == 0 && first_is_int && n > 0) {
        om__free(pk);
        pk = om__strdup(cols[0].name);
        if (!pk) {
            free_columns(cols, n);
            return om__enomem(err, spec->source);
        }
        npk = 1;
        pk_is_int = true;
    }
    if (npk == 1 && pk_is_int) {
        *fid_col = pk;
        for (size_t i = 0; i < n; i++) {
            if (om__strcasecmp(cols[i].name, pk) == 0) {
                cols[i].type = 0;
            }
        }
    } else {
        om__free(pk);
    }
    *out = cols;
    *nout = n;
    return OM_OK;
}

/*
 * Keep only the attribute columns named in fields[0..nfields) (ASCII case
 * like om_layer_field_index); the others get type 0. A name that is not an
 * attribute column gives OM_ENOTFOUND naming it and listing the ones that
 * are.
 */
static enum om_status keep_fields(struct column *cols, size_t ncols,
                                  const struct om__read_spec *spec,
                                  const char *const *fields, size_t nfields,
                                  struct om_error *err)
{
    for (size_t k = 0; k < nfields; k++) {
        bool found = false;
        for (size_t i = 0; fields[k] && !found && i < ncols; i++) {
            found =
                cols[i].type && om__strcasecmp(cols[i].name, fields[k]) == 0;
        }
        if (found) {
            continue;
        }
        char list[300] = "";
        size_t len = 0;
        for (size_t i = 0; i < ncols; i++) {
            if (!cols[i].type) {
                continue;
            }
            size_t need = strlen(cols[i].name) + 2;
            if (len + need + 4 >= sizeof list) {
                snprintf(list + len, sizeof list - len, ", ...");
                break;
            }
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                    len ? ", " : "", cols[i].name);
        }
        return om__error(err, OM_ENOTFOUND, spec->source, 0, -1,
                         "no field '%s' in layer %s (fields: %s)",
                         fields[k] ? fields[k] : "(null)", spec->layer_name,
                         len ? list : "none");
    }
    for (size_t i = 0; i < ncols; i++) {
        bool wanted = false;
        for (size_t k = 0; !wanted && k < nfields; k++) {
            wanted = om__strcasecmp(cols[i].name, fields[k]) == 0;
        }
        if (!wanted) {
            cols[i].type = 0;
        }
    }
    return OM_OK;
}

/* Check a row count against the layer limit. */
static enum om_status check_rows(const char *source, const char *table,
                                 uint64_t total, struct om_error *err)
{
    if (total > OM_LIMIT_LAYER_FEATURES) {
        return om__error(err, OM_ELIMIT, source, 0, -1,
                         "table %s has %llu features, more than the limit of "
                         "%u",
                         table, (unsigned long long)total,
                         OM_LIMIT_LAYER_FEATURES);
    }
    return OM_OK;
}

/* COUNT(*) walks every leaf page of the table: a whole extra pass over the
 * file, so project reads take the count from the catalogue instead. */
static enum om_status count_rows(sqlite3 *db, const char *source,
                                 const char *table, uint64_t *total,
                                 struct om_error *err)
{
    struct om__buf sql;
    om__buf_init(&sql, 0);
    enum om_status s = om__buf_puts(&sql, "SELECT COUNT(*) FROM ");
    if (s == OM_OK) {
        s = om__store_quote(&sql, table);
    }
    if (s != OM_OK) {
        om__buf_deinit(&sql);
        return om__enomem(err, source);
    }
    sqlite3_stmt *st = NULL;
    s = om__store_prepare(db, source, sql.data, &st, err);
    om__buf_deinit(&sql);
    if (s != OM_OK) {
        return s;
    }
    if (sqlite3_step(st) == SQLITE_ROW) {
        *total = (uint64_t)sqlite3_column_int64(st, 0);
    } else {
        s = om__store_error(db, source, err, "cannot count the features");
    }
    sqlite3_finalize(st);
    return s == OM_OK ? check_rows(source, table, *total, err) : s;
}

/*
 * The count GDAL keeps in a GeoPackage's gpkg_ogr_contents (its triggers
 * update it on every insert and delete), false when there is none. Only
 * planning the parts and the progress bar use it, and both bear a stale
 * one; the limit on a layer's features holds as they are added. It spares
 * COUNT(*), a pass over the whole table (0.5 s for 545k parcels).
 */
static bool ogr_count(sqlite3 *db, const char *table, uint64_t *total)
{
    sqlite3_stmt *st = NULL;
    bool ok = sqlite3_prepare_v2(db,
                                 "SELECT feature_count FROM gpkg_ogr_contents "
                                 "WHERE lower(table_name) = lower(?1)",
                                 -1, &st, NULL) == SQLITE_OK &&
              sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW &&
              sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
              sqlite3_column_int64(st, 0) >= 0;
    if (ok) {
        *total = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return ok;
}

static enum om_status set_value(struct om_layer *l, const struct column *c,
                                sqlite3_stmt *st, int k, struct om_error *err)
{
    if (sqlite3_column_type(st, k) == SQLITE_NULL) {
        return OM_OK;
    }
    switch (c->type) {
    case OM_FIELD_INT:
        return om_layer_set_int(l, c->field, sqlite3_column_int64(st, k), err);
    case OM_FIELD_REAL:
        return om_layer_set_real(l, c->field, sqlite3_column_double(st, k),
                                 err);
    default: {
        const char *v = (const char *)sqlite3_column_text(st, k);
        if (!v) {
            return om__enomem(err, om_layer_name(l));
        }
        return om_layer_set_text(l, c->field, v, err);
    }
    }
}

/* What read_table reads besides the spec. */
struct read_opts {
    bool all_fields; /* every attribute column, else only fields[] */
    const char *const *fields;
    size_t nfields;
    int64_t nrows; /* the row count when known (catalogue), else -1 */
    bool finish;   /* finish the layer (with finish_flags), parts at once */
    unsigned finish_flags;
    bool one_pass; /* never in parts (OM_READ_ONE_PASS) */
};

/* SELECT fid, geom, a, b, ... FROM t [WHERE fid BETWEEN ?1 AND ?2]
 * ORDER BY 1 */
static enum om_status select_sql(struct om__buf *sql,
                                 const struct om__read_spec *spec,
                                 const char *fid_col, const struct column *cols,
                                 size_t ncols, bool ranged)
{
    enum om_status s = om__buf_puts(sql, "SELECT ");
    if (s == OM_OK) {
        s = fid_col ? om__store_quote(sql, fid_col)
                    : om__buf_puts(sql, "rowid");
    }
    if (s == OM_OK) {
        s = om__buf_puts(sql, ", ");
    }
    if (s == OM_OK) {
        s = om__store_quote(sql, spec->geom_column);
    }
    for (size_t i = 0; s == OM_OK && i < ncols; i++) {
        if (cols[i].type) {
            s = om__buf_puts(sql, ", ");
            if (s == OM_OK) {
                s = om__store_quote(sql, cols[i].name);
            }
        }
    }
    if (s == OM_OK) {
        s = om__buf_puts(sql, " FROM ");
    }
    if (s == OM_OK) {
        s = om__store_quote(sql, spec->table);
    }
    if (s == OM_OK && ranged) {
        s = om__buf_puts(sql, " WHERE ");
        if (s == OM_OK) {
            s = fid_col ? om__store_quote(sql, fid_col)
                        : om__buf_puts(sql, "rowid");
        }
        if (s == OM_OK) {
            s = om__buf_puts(sql, " BETWEEN ?1 AND ?2");
        }
    }
    if (s == OM_OK) {
        s = om__buf_puts(sql, " ORDER BY 1");
    }
    return s;
}

/* The geometry of the current row into the current feature. */
static enum om_status row_geometry(const struct om__read_spec *spec,
                                   sqlite3_stmt *st, int64_t fid,
                                   struct om__wkb_reader *rd,
                                   struct om_layer *l, struct om_error *err)
{
    int type = sqlite3_column_type(st, 1);
    if (type == SQLITE_NULL) {
        return OM_OK;
    }
    if (type != SQLITE_BLOB) {
        return om__error(err, OM_EPARSE, spec->source, 0, fid,
                         "the geometry column '%s' of %s holds a %s, not "
                         "a GeoPackage geometry blob",
                         spec->geom_column, spec->table,
                         type == SQLITE_TEXT ? "text" : "number");
    }
    const uint8_t *blob = sqlite3_column_blob(st, 1);
    size_t n = (size_t)sqlite3_column_bytes(st, 1);
    if (!blob) {
        return om__enomem(err, spec->source);
    }
    return om__gpkg_decode_to_layer(rd, blob, n, l, NULL, spec->source, fid,
                                    err);
}

/*
 * Large tables are read in ranges of fids on several threads, each with a
 * connection of its own, into layers appended in fid order: the same
 * layer as one pass. Only for a table in a file (not a view, not WAL, not
 * inside a write transaction), so every connection sees the rows of the
 * caller's read transaction: its shared lock keeps writers out until the
 * parts are read.
 */
size_t om__store_read_min_rows = 100000;
unsigned long om__store_parted_reads = 0;
int om__store_read_threads = 0;

struct part {
    const struct om__read_spec *spec;
    const struct column *cols;
    size_t nsel;
    const char *sql;
    sqlite3 *db; /* part 0: the caller's connection */
    bool ranged;
    int64_t lo, hi; /* fids lo..hi when ranged */
    struct om_layer *l;
    uint64_t total;
    uint64_t *done; /* rows read by every part (part 0 reports them) */
    int *stop;      /* atomic: set by the first part that fails */
    bool reports;
    enum om_status st;
    struct om_error err;
    pthread_t tid;
    bool started;
};

/* A layer with the fields of the read (cols[0..nsel), in order). */
static enum om_status part_layer(const struct om__read_spec *spec,
                                 struct column *cols, size_t nsel,
                                 struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status s = om_layer_new(spec->layer_name, &l, err);
    for (size_t i = 0; s == OM_OK && i < nsel; i++) {
        s = om_layer_add_field(l, cols[i].name, cols[i].type, &cols[i].field,
                               err);
    }
    if (s != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return s;
}

/* The current row of st (SELECT fid, geom, cols...) as a new feature of l;
 * on failure l is as before. */
static enum om_status read_row(const struct om__read_spec *spec,
                               const struct column *cols, size_t nsel,
                               sqlite3_stmt *st, struct om__wkb_reader *rd,
                               struct om_layer *l, struct om_error *err)
{
    int64_t fid = sqlite3_column_int64(st, 0);
    enum om_status s = om_layer_begin_feature(l, fid, err);
    if (s != OM_OK) {
        return s;
    }
    s = row_geometry(spec, st, fid, rd, l, err);
    for (size_t i = 0; s == OM_OK && i < nsel; i++) {
        s = set_value(l, &cols[i], st, (int)i + 2, err);
    }
    if (s == OM_OK) {
        s = om_layer_end_feature(l, err);
    }
    if (s != OM_OK) {
        om_layer_abort_feature(l);
    }
    return s;
}

static void *read_part(void *arg)
{
    struct part *pt = arg;
    const struct om__read_spec *spec = pt->spec;
    struct om_error *err = &pt->err;
    struct om__wkb_reader rd = {0};
    sqlite3_stmt *st = NULL;
    enum om_status s =
        om__store_prepare(pt->db, spec->source, pt->sql, &st, err);
    if (s == OM_OK && pt->ranged) {
        sqlite3_bind_int64(st, 1, pt->lo);
        sqlite3_bind_int64(st, 2, pt->hi);
    }
    uint64_t mine = 0, shown = UINT64_MAX; /* the step last reported */
    int rc = SQLITE_DONE;
    while (s == OM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if ((++mine & 255) == 0) {
            __atomic_fetch_add(pt->done, 256, __ATOMIC_RELAXED);
        }
        if (__atomic_load_n(pt->stop, __ATOMIC_RELAXED)) {
            s = om__error(err, OM_ECANCELED, spec->source, 0, -1,
                          "reading %s canceled", spec->table);
            break;
        }
        if (pt->reports) {
            uint64_t done = __atomic_load_n(pt->done, __ATOMIC_RELAXED);
            /* A catalogue count can be stale (the table edited in QGIS). */
            if (pt->total <= done) {
                pt->total = done + 1;
            }
            /* done moves 256 rows at a time: report the first row and each
             * 1/256 of the total it passes, not the multiples of it */
            uint64_t step = pt->total > 256 ? pt->total / 256 : 1;
            bool show = done / step != shown;
            shown = done / step;
            if (show && om__progress_force(spec->progress, "reading", done,
                                           pt->total)) {
                __atomic_store_n(pt->stop, 1, __ATOMIC_RELAXED);
                s = om__error(err, OM_ECANCELED, spec->source, 0, -1,
                              "reading %s canceled", spec->table);
                break;
            }
        }
        s = read_row(spec, pt->cols, pt->nsel, st, &rd, pt->l, err);
    }
    if (s == OM_OK && rc != SQLITE_DONE) {
        s = om__store_error(pt->db, spec->source, err,
                            "cannot read the features");
    }
    if (s != OM_OK) {
        __atomic_store_n(pt->stop, 1, __ATOMIC_RELAXED);
    }
    sqlite3_finalize(st);
    om__wkb_reader_deinit(&rd);
    pt->st = s;
    return NULL;
}

/* One text value of a query on db (NULL on any failure); caller frees. */
static char *query_text(sqlite3 *db, const char *sql, const char *arg)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (arg) {
            sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
        }
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            v = om__strdup((const char *)sqlite3_column_text(st, 0));
        }
    }
    sqlite3_finalize(st);
    return v;
}

/*
 * How many parts to read a table of `total` rows in, and their fid bounds
 * (lo[k]..hi[k]); 1 when it should be read in one pass.
 */
static size_t plan_parts(sqlite3 *db, const struct om__read_spec *spec,
                         const char *fid_col, uint64_t total, int64_t *lo,
                         int64_t *hi, size_t max)
{
    long cores = om__store_read_threads > 0 ? om__store_read_threads
                                            : sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cores < 1 ? 1 : (size_t)cores;
    n = n > max ? max : n;
    if (n < 2 || total < om__store_read_min_rows || total < n ||
        sqlite3_txn_state(db, "main") == SQLITE_TXN_WRITE) {
        return 1;
    }
    const char *file = sqlite3_db_filename(db, "main");
    char *type = query_text(
        db, "SELECT type FROM sqlite_master WHERE name = ?1", spec->table);
    char *jm = query_text(db, "PRAGMA journal_mode", NULL);
    bool ok = file && file[0] && type && strcmp(type, "table") == 0 && jm &&
              om__strcasecmp(jm, "wal") != 0;
    om__free(type);
    om__free(jm);
    if (!ok) {
        return 1;
    }
    struct om__buf sql;
    om__buf_init(&sql, 0);
    const char *key = fid_col ? fid_col : "rowid";
    /* two subqueries: SQLite answers a lone min() or max() of the rowid
     * from the b-tree's ends, but min() and max() together by a scan */
    enum om_status s = OM_OK;
    for (int m = 0; m < 2 && s == OM_OK; m++) {
        s = om__buf_puts(&sql, m ? ", (SELECT max(" : "SELECT (SELECT min(");
        if (s == OM_OK) {
            s = fid_col ? om__store_quote(&sql, key) : om__buf_puts(&sql, key);
        }
        if (s == OM_OK) {
            s = om__buf_puts(&sql, ") FROM ");
        }
        if (s == OM_OK) {
            s = om__store_quote(&sql, spec->table);
        }
        if (s == OM_OK) {
            s = om__buf_puts(&sql, ")");
        }
    }
    sqlite3_stmt *st = NULL;
    ok = s == OM_OK &&
         sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) == SQLITE_OK &&
         sqlite3_step(st) == SQLITE_ROW &&
         sqlite3_column_type(st, 0) == SQLITE_INTEGER &&
         sqlite3_column_type(st, 1) == SQLITE_INTEGER;
    int64_t a = ok ? sqlite3_column_int64(st, 0) : 0;
    int64_t b = ok ? sqlite3_column_int64(st, 1) : 0;
    sqlite3_finalize(st);
    om__buf_deinit(&sql);
    /* the span as unsigned: fids may be negative */
    uint64_t span = (uint64_t)b - (uint64_t)a;
    if (!ok || b < a || span < n) {
        return 1;
    }
    uint64_t step = span / n; /* >= 1 */
    for (size_t k = 0; k < n; k++) {
        lo[k] = (int64_t)((uint64_t)a + k * step);
        hi[k] = k + 1 == n ? b : (int64_t)((uint64_t)a + (k + 1) * step - 1);
    }
    return n;
}

enum { MAX_PARTS = 4 };

/*
 * A read-only connection to db's file in a read transaction that already
 * holds its shared lock; false (nothing left open) if that cannot be had
 * at once: a writer waiting for the caller's lock to go would wait for
 * this one too, so the caller reads in one pass instead.
 */
static bool part_connect(sqlite3 *db, sqlite3 **out)
{
    struct om_error e;
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    *out = NULL;
    if (om__store_connect(sqlite3_db_filename(db, "main"), SQLITE_OPEN_READONLY,
                          &h, &e) != OM_OK) {
        return false;
    }
    sqlite3_busy_timeout(h, 0);
    bool ok = sqlite3_exec(h, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
              sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_master", -1,
                                 &st, NULL) == SQLITE_OK &&
              sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    if (!ok) {
        sqlite3_close(h);
        return false;
    }
    *out = h;
    return true;
}

static enum om_status read_table(sqlite3 *db, const struct om__read_spec *spec,
                                 const struct read_opts *o,
                                 struct om_layer **out, struct om_error *err)
{
    *out = NULL;
    struct column *cols = NULL;
    size_t ncols = 0, nsel = 0, nparts = 1;
    char *fid_col = NULL;
    struct om__buf sql;
    om__buf_init(&sql, 0);
    uint64_t total = o->nrows >= 0 ? (uint64_t)o->nrows : 0, done = 0;
    int stop = 0;
    struct part parts[MAX_PARTS];
    memset(parts, 0, sizeof parts);
    enum om_status s = table_columns(db, spec, &cols, &ncols, &fid_col, err);
    if (s == OM_OK && !o->all_fields) {
        s = keep_fields(cols, ncols, spec, o->fields, o->nfields, err);
    }
    if (s == OM_OK && o->nrows >= 0) {
        s = check_rows(spec->source, spec->table, total, err);
    } else if (s == OM_OK && !ogr_count(db, spec->table, &total)) {
        s = count_rows(db, spec->source, spec->table, &total, err);
    }
    /* The columns read, packed to the front in SELECT order. */
    for (size_t i = 0; s == OM_OK && i < ncols; i++) {
        if (cols[i].type) {
            struct column c = cols[nsel];
            cols[nsel++] = cols[i];
            cols[i] = c;
        }
    }
    int64_t lo[MAX_PARTS], hi[MAX_PARTS];
    if (s == OM_OK && !o->one_pass) {
        nparts = plan_parts(db, spec, fid_col, total, lo, hi, MAX_PARTS);
    }
    if (nparts > 1) {
        __atomic_fetch_add(&om__store_parted_reads, 1, __ATOMIC_RELAXED);
    }
    for (size_t k = 1; k < nparts; k++) {
        if (!part_connect(db, &parts[k].db)) {
            for (size_t m = 1; m <= k; m++) {
                sqlite3_close(parts[m].db); /* NULL: a no-op */
                parts[m].db = NULL;
            }
            nparts = 1; /* one pass on the caller's connection */
        }
    }
    if (s == OM_OK &&
        select_sql(&sql, spec, fid_col, cols, nsel, nparts > 1) != OM_OK) {
        s = om__enomem(err, spec->source);
    }
    for (size_t k = 0; s == OM_OK && k < nparts; k++) {
        struct part *pt = &parts[k];
        pt->spec = spec;
        pt->cols = cols;
        pt->nsel = nsel;
        pt->sql = sql.data;
        pt->ranged = nparts > 1;
        pt->lo = lo[k];
        pt->hi = hi[k];
        pt->total = total;
        pt->done = &done;
        pt->stop = &stop;
        pt->reports = k == 0;
        om_error_clear(&pt->err);
        s = part_layer(spec, cols, nsel, &pt->l, err);
        if (k == 0) {
            pt->db = db;
        }
    }
    if (s == OM_OK) {
        for (size_t k = 1; k < nparts; k++) {
            parts[k].started =
                pthread_create(&parts[k].tid, NULL, read_part, &parts[k]) == 0;
            if (!parts[k].started) {
                read_part(&parts[k]);
            }
        }
        read_part(&parts[0]);
        for (size_t k = 1; k < nparts; k++) {
            if (parts[k].started) {
                pthread_join(parts[k].tid, NULL);
            }
        }
        /* a part stopped by another's failure reports "canceled", so the
         * first real error in fid order is reported (with several bad
         * rows, the one a part met first: not always the table's first) */
        size_t bad = nparts;
        for (size_t k = 0; k < nparts && bad == nparts; k++) {
            if (parts[k].st != OM_OK && parts[k].st != OM_ECANCELED) {
                bad = k;
            }
        }
        for (size_t k = 0; k < nparts && bad == nparts; k++) {
            if (parts[k].st != OM_OK) {
                bad = k;
            }
        }
        if (bad < nparts) {
            s = parts[bad].st;
            if (err) {
                *err = parts[bad].err;
            }
        }
        if (s == OM_OK && o->finish) {
            struct om_layer *ls[MAX_PARTS];
            for (size_t k = 0; k < nparts; k++) {
                ls[k] = parts[k].l;
            }
            s = om__layer_finish_parts(ls, nparts, o->finish_flags, err);
            for (size_t k = 0; k < nparts; k++) {
                parts[k].l = ls[k];
            }
        }
        for (size_t k = 1; s == OM_OK && !o->finish && k < nparts; k++) {
            s = om__layer_append(parts[0].l, parts[k].l, err);
            om_layer_free(parts[k].l);
            parts[k].l = NULL;
        }
        if (s == OM_OK) {
            done = om_layer_nfeatures(parts[0].l);
            om__progress(spec->progress, "reading", done, done);
        }
    }
    for (size_t k = 0; k < nparts; k++) {
        if (k > 0 && parts[k].db) {
            sqlite3_exec(parts[k].db, "COMMIT", NULL, NULL, NULL);
            sqlite3_close(parts[k].db);
        }
        if (k > 0 || s != OM_OK) {
            om_layer_free(parts[k].l);
        }
    }
    om__buf_deinit(&sql);
    free_columns(cols, ncols);
    om__free(fid_col);
    if (s != OM_OK) {
        return s;
    }
    *out = parts[0].l;
    return OM_OK;
}

enum om_status om__store_read_table(sqlite3 *db,
                                    const struct om__read_spec *spec,
                                    struct om_layer **out, struct om_error *err)
{
    struct read_opts o = {true, NULL, 0, -1, false, 0, false};
    return read_table(db, spec, &o, out, err);
}

/* Flag the features recorded as invalid / repaired by their import. */
static enum om_status mark_issues(struct om_project *p, const char *code,
                                  int version, struct om_layer *l,
                                  struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path,
        "SELECT fid, kind FROM om_feature_issues WHERE code = ?1 AND "
        "version = ?2 AND kind IN ('invalid', 'repaired')",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, version);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        size_t f = om_layer_find_fid(l, sqlite3_column_int64(st, 0));
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        if (f != (size_t)-1 && kind) {
            om_layer_mark(l, f,
                          strcmp(kind, "repaired") == 0 ? OM_FEAT_REPAIRED
                                                        : OM_FEAT_INVALID);
        }
    }
    if (rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err,
                            "cannot read om_feature_issues");
    }
    sqlite3_finalize(st);
    return s;
}

/* The feature count of a layer table as recorded by its import. */
static enum om_status catalogue_rows(struct om_project *p, const char *table,
                                     int64_t *n, struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        p->db, p->path, "SELECT nfeatures FROM om_layers WHERE table_name = ?1",
        &st, err);
    if (s != OM_OK) {
        return s;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *n = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_DONE) {
        s = om__store_error(p->db, p->path, err, "cannot read om_layers");
    }
    sqlite3_finalize(st);
    /* a negative count (a hand-edited catalogue) is unknown: COUNT(*) */
    if (*n < 0) {
        *n = -1;
    }
    return s;
}

static enum om_status project_read(struct om_project *p, const char *code,
                                   int version, bool all_fields,
                                   const char *const *fields, size_t nfields,
                                   unsigned flags, struct om_layer **out,
                                   const struct om_progress *progress,
                                   struct om_error *err)
{
    *out = NULL;
    char table[128];
    int ver = 0;
    struct om_layer *l = NULL;
    /* One read transaction: a concurrent import cannot slip in between
     * the catalogue lookup and the rows. */
    enum om_status s = om__store_exec(p->db, p->path, "BEGIN", err);
    if (s != OM_OK) {
        return s;
    }
    s = om__store_find_layer(p, code, version, table, &ver, err);
    /* finished as it is read: the parts go straight to Hilbert order */
    struct read_opts o = {
        .all_fields = all_fields,
        .fields = fields,
        .nfields = nfields,
        .nrows = -1,
        .finish = true,
        .finish_flags = flags & ~(unsigned)OM_READ_ONE_PASS,
        .one_pass = (flags & OM_READ_ONE_PASS) != 0,
    };
    if (s == OM_OK) {
        s = catalogue_rows(p, table, &o.nrows, err);
    }
    if (s == OM_OK) {
        struct om__read_spec spec = {p->path, table, "geom", code, progress};
        s = read_table(p->db, &spec, &o, &l, err);
    }
    if (s == OM_OK && p->crs) {
        s = om_layer_set_crs(l, p->crs, err);
    }
    if (s == OM_OK) {
        s = mark_issues(p, code, ver, l, err);
    }
    sqlite3_exec(p->db, "COMMIT", NULL, NULL, NULL);
    if (s != OM_OK) {
        om_layer_free(l);
        return s;
    }
    *out = l;
    return OM_OK;
}

enum om_status om_project_read(struct om_project *p, const char *code,
                               int version, struct om_layer **out,
                               const struct om_progress *progress,
                               struct om_error *err)
{
    return project_read(p, code, version, true, NULL, 0, 0, out, progress, err);
}

enum om_status om_project_read_fields(struct om_project *p, const char *code,
                                      int version, const char *const *fields,
                                      size_t nfields, struct om_layer **out,
                                      const struct om_progress *progress,
                                      struct om_error *err)
{
    return om_project_read_fields_flags(p, code, version, fields, nfields, 0,
                                        out, progress, err);
}

enum om_status om_project_read_fields_flags(struct om_project *p,
                                            const char *code, int version,
                                            const char *const *fields,
                                            size_t nfields, unsigned flags,
                                            struct om_layer **out,
                                            const struct om_progress *progress,
                                            struct om_error *err)
{
    if (nfields > 0 && !fields) {
        *out = NULL;
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "om_project_read_fields: %zu fields but no list",
                         nfields);
    }
    if (flags & ~(unsigned)(OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX |
                            OM_READ_ONE_PASS)) {
        *out = NULL;
        return om__error(err, OM_EINVAL, p->path, 0, -1,
                         "om_project_read_fields_flags: unknown flags %#x",
                         flags);
    }
    return project_read(p, code, version, false, fields, nfields, flags, out,
                        progress, err);
}

/* The features tables of a GeoPackage, "a, b, c" into buf. */
static enum om_status features_tables(sqlite3 *db, const char *path,
                                      char *first, size_t first_size, size_t *n,
                                      char *list, size_t list_size,
                                      struct om_error *err)
{
    sqlite3_stmt *st = NULL;
    *n = 0;
    list[0] = '\0';
    enum om_status s = om__store_prepare(
        db, path,
        "SELECT c.table_name FROM gpkg_contents c JOIN "
        "gpkg_geometry_columns g ON g.table_name = c.table_name "
        "WHERE c.data_type = 'features' ORDER BY c.table_name",
        &st, err);
    if (s != OM_OK) {
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "not a GeoPackage (no gpkg_contents / "
                         "gpkg_geometry_columns tables)");
    }
    size_t len = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (!t) {
            continue;
        }
        if (*n == 0) {
            om__strlcpy(first, t, first_size);
        }
        if (len + strlen(t) + 8 < list_size) {
            len += (size_t)snprintf(list + len, list_size - len, "%s%s",
                                    len ? ", " : "", t);
        }
        (*n)++;
    }
    if (rc != SQLITE_DONE) {
        s = om__store_error(db, path, err, "cannot read gpkg_contents");
    }
    sqlite3_finalize(st);
    return s;
}

/* Geometry column and CRS of a features table. */
static enum om_status table_geometry(sqlite3 *db, const char *path,
                                     const char *table, char **table_out,
                                     char **column, char **crs,
                                     struct om_error *err)
{
    *table_out = *column = *crs = NULL;
    sqlite3_stmt *st = NULL;
    enum om_status s = om__store_prepare(
        db, path,
        "SELECT g.table_name, g.column_name, g.srs_id, s.organization, "
        "s.organization_coordsys_id, s.definition FROM "
        "gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s ON "
        "s.srs_id = g.srs_id WHERE g.table_name = ?1 COLLATE NOCASE",
        &st, err);
    if (s != OM_OK) {
        return om__error(err, OM_EFORMAT, path, 0, -1,
                         "not a GeoPackage (no gpkg_geometry_columns table)");
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        const char *c = (const char *)sqlite3_column_text(st, 1);
        int srs = sqlite3_column_int(st, 2);
        const char *org = (const char *)sqlite3_column_text(st, 3);
        int code = sqlite3_column_int(st, 4);
        const char *def = (const char *)sqlite3_column_text(st, 5);
        *table_out = om__strdup(t ? t : table);
        *column = om__strdup(c ? c : "geom");
        bool ok = *table_out && *column;
        if (ok && srs > 0 && org && om__strcasecmp(org, "EPSG") == 0 &&
            code > 0) {
            char id[32];
            snprintf(id, sizeof id, "EPSG:%d", code);
            ok = (*crs = om__strdup(id)) != NULL;
        } else if (ok && srs > 0 && def &&
                   om__strcasecmp(def, "undefined") != 0) {
            ok = (*crs = om__strdup(def)) != NULL;
        }
        if (!ok) {
            s = om__enomem(err, path);
        }
    } else if (rc == SQLITE_DONE) {
        s = om__error(err, OM_ENOTFOUND, path, 0, -1,
                      "no features table '%s' in the GeoPackage", table);
    } else {
        s = om__store_error(db, path, err, "cannot read gpkg_geometry_columns");
    }
    sqlite3_finalize(st);
    if (s != OM_OK) {
        om__free(*table_out);
        om__free(*column);
        om__free(*crs);
        *table_out = *column = *crs = NULL;
    }
    return s;
}

/*
 * Open a GeoPackage read-only in a read transaction and find its features
 * table `table` (NULL: the only one): its name as stored, geometry column
 * and CRS ("EPSG:n", a WKT, or NULL when undefined). On failure nothing is
 * left open.
 */
static enum om_status open_gpkg_table(const char *path, const char *table,
                                      sqlite3 **out, char **tname,
                                      char **column, char **crs,
                                      struct om_error *err)
{
    *out = NULL;
    *tname = *column = *crs = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        return om__error(err, OM_ENOTFOUND, path, 0, -1,
                         "cannot open: no such file");
    }
    sqlite3 *db = NULL;
    enum om_status s = om__store_connect(path, SQLITE_OPEN_READONLY, &db, err);
    if (s != OM_OK) {
        return s;
    }
    char first[256] = "", list[600];
    size_t n = 0;
    /* Hold one read transaction over the metadata and the rows. */
    s = om__store_exec(db, path, "BEGIN", err);
    if (s == OM_OK) {
        s = features_tables(db, path, first, sizeof first, &n, list,
                            sizeof list, err);
    }
    if (s == OM_OK && !table) {
        if (n == 0) {
            s = om__error(err, OM_ENOTFOUND, path, 0, -1,
                          "the GeoPackage has no features table");
        } else if (n > 1) {
            s = om__error(err, OM_EINVAL, path, 0, -1,
                          "the GeoPackage has %zu features tables (%s); "
                          "choose one with --layer",
                          n, list);
        } else {
            table = first;
        }
    }
    if (s == OM_OK) {
        s = table_geometry(db, path, table, tname, column, crs, err);
        if (s == OM_ENOTFOUND) {
            om__error(err, OM_ENOTFOUND, path, 0, -1,
                      "no features table '%s' in the GeoPackage (tables: "
                      "%s)",
                      table, n ? list : "none");
        }
    }
    if (s != OM_OK) {
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(db);
        return s;
    }
    *out = db;
    return OM_OK;
}

enum om_status om_project_read_gpkg_file(const char *path, const char *table,
                                         struct om_layer **out,
                                         const struct om_progress *progress,
                                         struct om_error *err)
{
    *out = NULL;
    sqlite3 *db = NULL;
    char *tname = NULL, *column = NULL, *crs = NULL;
    struct om_layer *l = NULL;
    enum om_status s =
        open_gpkg_table(path, table, &db, &tname, &column, &crs, err);
    if (s != OM_OK) {
        return s;
    }
    struct om__read_spec spec = {path, tname, column, tname, progress};
    s = om__store_read_table(db, &spec, &l, err);
    if (s == OM_OK && crs) {
        s = om_layer_set_crs(l, crs, err);
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    om__free(tname);
    om__free(column);
    om__free(crs);
    if (s != OM_OK) {
        om_layer_free(l);
        return s;
    }
    *out = l;
    return OM_OK;
}

/* ---- the streamed read (stream.h) ---- */

/*
 * Chunks of om__gpkg_stream_chunk_rows rows or CHUNK_POINTS points: small
 * enough that the writing starts soon, that the last chunk's writing and
 * check after the reading ends are short, and that the STREAM_CHUNKS which
 * go round soon have all the memory they need (memory touched the first
 * time is what costs most here: 2048 rows made the county's parcels 15%
 * slower to import than 512); large enough that handing chunks between
 * threads costs nothing.
 */
enum { CHUNK_POINTS = 1 << 16, STREAM_CHUNKS = 6 };
size_t om__gpkg_stream_chunk_rows = 512;

/*
 * Beyond those six, more chunks are made while a big one (a feature of
 * more than BIG_CHUNK points) is out and the chunks out (read, not yet
 * given back) hold fewer than HELD_POINTS points: a huge feature the check
 * takes long over (a red line of 10^6 points, 0.4 s) then does not hold up
 * the rows after it, which are read, written and checked meanwhile on the
 * other cores. The memory stays bounded: at most 64 MB of coordinates
 * beside that feature. Without a big chunk out, six go round: more would
 * only be fresh memory for a reading ahead of the check (a county's
 * parcels, read whole ahead, imported 10-15% slower).
 */
enum {
    MAX_CHUNKS = OM__GPKG_STREAM_MAX_CHUNKS,
    HELD_POINTS = 1 << 22,
    BIG_CHUNK = 1 << 18
};

struct om__gpkg_stream {
    sqlite3 *db; /* in a read transaction; the reader's alone once started */
    char *path, *tname, *column, *crs, *fid_col, *name;
    struct column *cols;
    size_t ncols, nsel;
    struct om__read_spec spec;
    struct om__buf sql;
    struct om_layer *schema;
    uint64_t total;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct om_layer *chunks[MAX_CHUNKS]; /* every chunk made */
    size_t nchunks;
    struct om_layer *spare[MAX_CHUNKS]; /* given back, to fill again */
    size_t nspare;
    struct om_layer *ready[MAX_CHUNKS]; /* read, in order: a ring */
    size_t head, nready;
    size_t held; /* points in the chunks out (read, not given back) */
    size_t big;  /* chunks out of more than BIG_CHUNK points */
    bool done;   /* the reader has ended: st says how */
    bool stop;   /* closing: the reader ends at once */
    enum om_status st;
    struct om_error err;
    pthread_t tid;
    bool started;
};

static size_t chunk_points(const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    return v.npoints;
}

/* A chunk to fill, waiting for one to come back when all are out; NULL
 * when closing or out of memory (*st says which). */
static struct om_layer *stream_take(struct om__gpkg_stream *s,
                                    enum om_status *st, struct om_error *err)
{
    pthread_mutex_lock(&s->mu);
    while (
        !s->stop && s->nspare == 0 &&
        !(s->nchunks < STREAM_CHUNKS ||
          (s->big > 0 && s->nchunks < MAX_CHUNKS && s->held < HELD_POINTS))) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    struct om_layer *l = NULL;
    bool make = false;
    if (s->stop) {
        *st = OM_ECANCELED;
    } else if (s->nspare) {
        l = s->spare[--s->nspare];
    } else {
        make = true;
    }
    pthread_mutex_unlock(&s->mu);
    if (l) {
        om__layer_clear(l);
        return l;
    }
    if (!make) {
        om__error(err, OM_ECANCELED, s->path, 0, -1, "reading %s canceled",
                  s->tname);
        return NULL;
    }
    /* only this thread makes chunks: the count cannot move meanwhile */
    *st = part_layer(&s->spec, s->cols, s->nsel, &l, err);
    if (*st != OM_OK) {
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    s->chunks[s->nchunks++] = l;
    pthread_mutex_unlock(&s->mu);
    return l;
}

static enum om_status stream_deliver(struct om__gpkg_stream *s,
                                     struct om_layer *l, struct om_error *err)
{
    enum om_status st =
        om_layer_finish(l, OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX, err);
    pthread_mutex_lock(&s->mu);
    if (st == OM_OK) {
        s->ready[(s->head + s->nready++) % MAX_CHUNKS] = l;
        size_t n = chunk_points(l);
        s->held += n;
        s->big += n > BIG_CHUNK;
    } else {
        s->spare[s->nspare++] = l;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return st;
}

static void *stream_main(void *arg)
{
    struct om__gpkg_stream *s = arg;
    struct om_error err;
    om_error_clear(&err);
    struct om__wkb_reader rd = {0};
    sqlite3_stmt *stmt = NULL;
    struct om_layer *l = NULL;
    uint64_t rows = 0;
    enum om_status st =
        om__store_prepare(s->db, s->path, s->sql.data, &stmt, &err);
    int rc = SQLITE_DONE;
    while (st == OM_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (!l && !(l = stream_take(s, &st, &err))) {
            break;
        }
        if (++rows > OM_LIMIT_LAYER_FEATURES) {
            st = om__error(&err, OM_ELIMIT, s->path, 0, -1,
                           "table %s has more than %u features", s->tname,
                           OM_LIMIT_LAYER_FEATURES);
            break;
        }
        st = read_row(&s->spec, s->cols, s->nsel, stmt, &rd, l, &err);
        struct om_layer_view v;
        om_layer_view(l, &v);
        if (st == OM_OK && (v.nfeatures >= om__gpkg_stream_chunk_rows ||
                            v.npoints >= CHUNK_POINTS)) {
            st = stream_deliver(s, l, &err);
            l = NULL;
        }
    }
    if (st == OM_OK && rc != SQLITE_DONE) {
        st = om__store_error(s->db, s->path, &err, "cannot read the features");
    }
    if (st == OM_OK && l && om_layer_nfeatures(l) > 0) {
        st = stream_deliver(s, l, &err);
        l = NULL;
    }
    sqlite3_finalize(stmt);
    om__wkb_reader_deinit(&rd);
    pthread_mutex_lock(&s->mu);
    if (l) {
        s->spare[s->nspare++] = l;
    }
    s->st = st;
    s->err = err;
    s->done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum om_status om__gpkg_stream_open(const char *path, const char *table,
                                    const char *name,
                                    struct om__gpkg_stream **out,
                                    struct om_error *err)
{
    *out = NULL;
    struct om__gpkg_stream *s = om__calloc(1, sizeof *s);
    if (!s) {
        return om__enomem(err, path);
    }
    om__buf_init(&s->sql, 0);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->path = om__strdup(path);
    s->name = om__strdup(name);
    enum om_status st = s->path && s->name ? OM_OK : om__enomem(err, path);
    if (st == OM_OK) {
        st = open_gpkg_table(path, table, &s->db, &s->tname, &s->column,
                             &s->crs, err);
    }
    if (st == OM_OK) {
        s->spec.source = s->path;
        s->spec.table = s->tname;
        s->spec.geom_column = s->column;
        s->spec.layer_name = s->name;
        st = table_columns(s->db, &s->spec, &s->cols, &s->ncols, &s->fid_col,
                           err);
    }
    if (st == OM_OK && !ogr_count(s->db, s->tname, &s->total)) {
        st = count_rows(s->db, s->path, s->tname, &s->total, err);
    }
    /* the columns read, packed to the front in SELECT order */
    for (size_t i = 0; st == OM_OK && i < s->ncols; i++) {
        if (s->cols[i].type) {
            struct column c = s->cols[s->nsel];
            s->cols[s->nsel++] = s->cols[i];
            s->cols[i] = c;
        }
    }
    if (st == OM_OK && select_sql(&s->sql, &s->spec, s->fid_col, s->cols,
                                  s->nsel, false) != OM_OK) {
        st = om__enomem(err, path);
    }
    if (st == OM_OK) {
        st = part_layer(&s->spec, s->cols, s->nsel, &s->schema, err);
    }
    if (st == OM_OK && s->crs) {
        st = om_layer_set_crs(s->schema, s->crs, err);
    }
    if (st != OM_OK) {
        om__gpkg_stream_close(s);
        return st;
    }
    *out = s;
    return OM_OK;
}

enum om_status om__gpkg_stream_start(struct om__gpkg_stream *s,
                                     struct om_error *err)
{
    if (s->started || s->done) {
        return OM_OK;
    }
    s->started = pthread_create(&s->tid, NULL, stream_main, s) == 0;
    if (!s->started) {
        return om__error(err, OM_ENOMEM, s->path, 0, -1,
                         "cannot start a thread to read %s", s->tname);
    }
    return OM_OK;
}

const struct om_layer *om__gpkg_stream_schema(const struct om__gpkg_stream *s)
{
    return s->schema;
}

uint64_t om__gpkg_stream_total(const struct om__gpkg_stream *s)
{
    return s->total;
}

enum om_status om__gpkg_stream_next(struct om__gpkg_stream *s,
                                    struct om_layer **chunk,
                                    struct om_error *err)
{
    if (!s->started) {
        *chunk = NULL;
        return om__error(err, OM_EINVAL, s->path, 0, -1,
                         "reading %s: the stream was not started", s->tname);
    }
    pthread_mutex_lock(&s->mu);
    while (s->nready == 0 && !s->done) {
        pthread_cond_wait(&s->cv, &s->mu);
    }
    enum om_status st = OM_OK;
    *chunk = NULL;
    if (s->nready) {
        *chunk = s->ready[s->head];
        s->head = (s->head + 1) % MAX_CHUNKS;
        s->nready--;
    } else if (s->st != OM_OK) {
        st = s->st;
        if (err) {
            *err = s->err;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

void om__gpkg_stream_release(struct om__gpkg_stream *s, struct om_layer *chunk)
{
    if (!chunk) {
        return;
    }
    size_t n = chunk_points(chunk);
    pthread_mutex_lock(&s->mu);
    s->held -= n < s->held ? n : s->held;
    s->big -= n > BIG_CHUNK && s->big > 0;
    s->spare[s->nspare++] = chunk;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

void om__gpkg_stream_close(struct om__gpkg_stream *s)
{
    if (!s) {
        return;
    }
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->tid, NULL);
    }
    if (s->db) {
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
        sqlite3_close(s->db);
    }
    for (size_t k = 0; k < s->nchunks; k++) {
        om_layer_free(s->chunks[k]);
    }
    om_layer_free(s->schema);
    free_columns(s->cols, s->ncols);
    om__buf_deinit(&s->sql);
    om__free(s->path);
    om__free(s->name);
    om__free(s->tname);
    om__free(s->column);
    om__free(s->crs);
    om__free(s->fid_col);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    om__free(s);
}
