/*
 * store_int.h — internals shared by the files of the store module (the
 * only module that includes <sqlite3.h>).
 */
#ifndef ONEMAP_STORE_INT_H
#define ONEMAP_STORE_INT_H

#include "core/core.h"
#include "onemap/store.h"

#include <sqlite3.h>

struct om_project {
    sqlite3 *db;
    char *path;
    char *crs; /* NULL while "auto" */
    int32_t srs_id;
    bool readonly;
};

/*
 * Set the project CRS inside the caller's transaction (srs row + metadata)
 * and on the handle; om__store_unset_crs undoes the handle part after a
 * ROLLBACK.
 */
enum om_status om__store_set_crs_tx(struct om_project *p, const char *crs,
                                    struct om_error *err);
void om__store_unset_crs(struct om_project *p);

struct om__bytes;
/*
 * Append the standard GeoPackage 1.3 RTree triggers of `table` / `rtree`
 * (names [A-Za-z0-9_]) to b. OM_ENOMEM or OM_ELIMIT from the buffer.
 */
enum om_status om__store_rtree_triggers_sql(struct om__buf *b,
                                            const char *table,
                                            const char *rtree);
/* Bind fid, geometry blob and the attributes of feature f of l to the
 * parameters of `ins` from index k on. The blob is copied unless
 * `blob_kept` (the caller keeps it unchanged until `ins` is stepped). */
void om__store_bind_feature(const struct om_layer *l, int64_t fid,
                            const struct om__bytes *blob, bool blob_kept,
                            size_t f, sqlite3_stmt *ins, int k);

/* Turn the connection's last error into OM_ESTORE (or OM_ENOMEM). */
enum om_status om__store_error(sqlite3 *db, const char *path,
                               struct om_error *err, const char *what);

/* Run one or more statements without results. */
enum om_status om__store_exec(sqlite3 *db, const char *path, const char *sql,
                              struct om_error *err);

/* Prepare `sql`; on failure fill err. */
enum om_status om__store_prepare(sqlite3 *db, const char *path, const char *sql,
                                 sqlite3_stmt **st, struct om_error *err);

/* Append `name` as a double-quoted SQL identifier. */
enum om_status om__store_quote(struct om__buf *b, const char *name);

/*
 * Open a connection with onemap's settings (busy timeout, foreign keys
 * off, the ST_* functions of the GeoPackage RTree triggers registered).
 */
enum om_status om__store_connect(const char *path, int flags, sqlite3 **db,
                                 struct om_error *err);

/* Register ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY. */
int om__store_register_functions(sqlite3 *db);

/* Does a table or view exist? */
bool om__store_has_table(sqlite3 *db, const char *name);

/* The current UTC time as "2026-11-24T05:01:02Z". */
void om__store_now(char buf[32]);

/*
 * Resolve (code, version) to its catalogue row id (table name and version)
 * or OM_ENOTFOUND listing the codes. version 0 = current.
 */
enum om_status om__store_find_layer(struct om_project *p, const char *code,
                                    int version, char table[128],
                                    int *found_version, struct om_error *err);

/*
 * Fill the empty rtree virtual table `rtree` (just created) with a packed
 * tree over the non-empty features of `layer`, in their order.
 */
enum om_status om__store_rtree_bulk(sqlite3 *db, const char *path,
                                    const char *rtree,
                                    const struct om_layer *layer,
                                    struct om_error *err);
/* The same over boxes: fid[i] and bbox[i] for i < n, fids increasing, an
 * empty box for a feature without geometry; extent: their union. */
enum om_status om__store_rtree_bulk_boxes(sqlite3 *db, const char *path,
                                          const char *rtree, size_t n,
                                          const int64_t *fid,
                                          const struct om_rect *bbox,
                                          struct om_rect extent,
                                          struct om_error *err);

/* Read a feature table from an open connection (used by both readers). */
struct om__read_spec {
    const char *source; /* for messages */
    const char *table;
    const char *geom_column;
    const char *layer_name;
    const struct om_progress *progress;
};
/*
 * Tables of at least om__store_read_min_rows rows are read in ranges of
 * fids on om__store_read_threads threads (0: the online cores, at most 4),
 * each with its own connection (store_read.c). Tests change both.
 */
extern size_t om__store_read_min_rows;
/* Tables read in parts so far (atomic), for the tests to see the path. */
extern unsigned long om__store_parted_reads;
extern int om__store_read_threads;

enum om_status om__store_read_table(sqlite3 *db,
                                    const struct om__read_spec *spec,
                                    struct om_layer **out,
                                    struct om_error *err);

#endif
