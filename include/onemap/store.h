/*
 * onemap/store.h — the project database: one GeoPackage 1.3 file that QGIS
 * and GDAL open directly, holding every imported layer version in the
 * project CRS plus onemap's own tables:
 *
 *   om_project         key/value: onemap version, crs, created_at, meta
 *   om_layers          catalogue: one row per (code, version)
 *   om_import_log      one row per import
 *   om_feature_issues  invalid / repaired / empty features of each import
 *
 * Layer version N of code C is the feature table "C_vN" (fid INTEGER
 * PRIMARY KEY = the source fid, geom MULTIPOLYGON, then the attributes),
 * registered in gpkg_contents / gpkg_geometry_columns with an RTree
 * spatial index; a view named "C" shows the current version (also
 * registered as a features layer, so QGIS shows one current layer per
 * code).
 *
 * Every write is one SQLite transaction (rollback journal, synchronous
 * FULL): an interrupted or failed write, a cancel or a kill -9 leaves the
 * file as it was (SQLite rolls the journal back at the next open).
 *
 * The RTree of each version is bulk-loaded (packed in the layer's Hilbert
 * order) and kept up to date afterwards by the standard GeoPackage
 * triggers; onemap registers the ST_IsEmpty/ST_MinX/... functions those
 * triggers call on its own connections, as GDAL does on its.
 *
 * Thread safety: a struct om_project belongs to one thread; open one per
 * thread. Several processes may open the same file; writers wait up to
 * 5 s for each other.
 */
#ifndef ONEMAP_STORE_H
#define ONEMAP_STORE_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_project;

/*
 * Create a new project file at `path` with CRS `crs`: an id such as
 * "EPSG:4530", or "auto" (the CRS is chosen at the first import; until
 * om_project_set_crs the project stores crs='auto'). Refuses an existing
 * path (OM_EEXIST). Writes the GeoPackage core tables (application_id
 * 'GPKG', user_version 10300, gpkg_spatial_ref_sys with the rows -1, 0,
 * 4326 and the project's CRS, gpkg_contents, gpkg_geometry_columns,
 * gpkg_extensions) and onemap's tables in one transaction; on failure the
 * file is removed. *out is the open project (close with
 * om_project_close); NULL on failure.
 */
enum om_status om_project_create(const char *path, const char *crs,
                                 struct om_project **out, struct om_error *err);

/*
 * Open an existing project. A missing file gives OM_ENOTFOUND; a file that
 * is not SQLite, or a SQLite/GeoPackage file without onemap's tables,
 * OM_ESTORE "<path>: not a onemap project (no om_project table); create
 * one with onemap init". `readonly` opens without write access (writes
 * then fail with OM_ESTORE).
 */
enum om_status om_project_open(const char *path, bool readonly,
                               struct om_project **out, struct om_error *err);

/* Close the project. Accepts NULL. */
void om_project_close(struct om_project *p);

/* The path given at create/open. Borrowed. */
const char *om_project_path(const struct om_project *p);

/* The project CRS ("EPSG:4530", or a WKT), NULL while still "auto". */
const char *om_project_crs(const struct om_project *p);

/*
 * The GeoPackage srs_id of the project CRS (the EPSG code, or >= 100000
 * for a custom CRS); 0 while "auto".
 */
int32_t om_project_srs_id(const struct om_project *p);

/*
 * True when the project CRS is known to be projected from its GeoPackage
 * definition alone (a WKT whose root is PROJCRS or PROJCS), without
 * loading PROJ: planar areas then need no om_crs. False when it is
 * geographic, "auto", or of a kind this cannot tell.
 */
bool om_project_crs_is_projected(struct om_project *p);

/*
 * Fix the project CRS (only while it is "auto"; else OM_EINVAL). `crs` is
 * an "EPSG:<code>" id or a WKT definition. One transaction.
 */
enum om_status om_project_set_crs(struct om_project *p, const char *crs,
                                  struct om_error *err);

/* One catalogue row. */
struct om_layer_record {
    char code[64];
    char role[64];
    int version;
    bool is_current;
    char table[128];
    int64_t nfeatures, nempty, ninvalid, nrepaired;
    char crs[64];
    char *source;         /* source path; may be NULL */
    char *source_layer;   /* source layer name; may be NULL */
    char sha256[65];      /* of the source file(s); "" if unknown */
    char imported_at[32]; /* ISO 8601 UTC, "2026-11-24T05:01:02Z" */
    char *params;         /* JSON text of the import options; may be NULL */
    char *code_field;     /* admin unit code attribute (XZQ); may be NULL */
    char *name_field;     /* admin unit name attribute (XZQ); may be NULL */
    struct om_rect extent;
};

/*
 * The catalogue, ordered by code then version: only current versions, or
 * every version when `all_versions`. Free with om_layer_records_free.
 * An empty project gives *out NULL and *n 0.
 */
enum om_status om_project_layers(struct om_project *p, bool all_versions,
                                 struct om_layer_record **out, size_t *n,
                                 struct om_error *err);
void om_layer_records_free(struct om_layer_record *r, size_t n);

/*
 * The catalogue row of `code` (compared without ASCII case), `version` 0 =
 * the current one. OM_ENOTFOUND names the code and lists the codes that
 * exist. The caller frees the record with om_layer_record_deinit.
 */
enum om_status om_project_layer_record(struct om_project *p, const char *code,
                                       int version, struct om_layer_record *out,
                                       struct om_error *err);
void om_layer_record_deinit(struct om_layer_record *r);

/* A per-feature finding of an import. */
struct om_feature_issue {
    int64_t fid;
    const char *kind;   /* "invalid", "repaired", "empty" */
    const char *reason; /* e.g. "Self-intersection" */
    double x, y;        /* location, NaN if none */
};

/* What om_project_import records about a layer besides its features. */
struct om_import_meta {
    const char *code; /* [A-Za-z][A-Za-z0-9_]{0,62}; not "om_*", "gpkg_*",
                         "rtree_*", "sqlite_*" nor ending in "_v<digits>" */
    const char *role; /* NULL = derived from the code (om_layer_role_for) */
    const char *source;
    const char *source_layer;
    const char *sha256;
    const char *params_json;
    const char *code_field;
    const char *name_field;
    const struct om_feature_issue *issues;
    size_t nissues;
    /* When set: called in the import's transaction once the rows are
     * written, before the catalogue and the issues; its issues replace
     * the two fields above, and an error aborts the import (rolled back).
     * For a check of the layer running while the rows are written; the
     * check may set the features' flags (OM_FEAT_INVALID), which the
     * catalogue counts after this call. */
    enum om_status (*rows_written)(void *ctx,
                                   const struct om_feature_issue **issues,
                                   size_t *nissues, struct om_error *err);
    void *rows_written_ctx;
    /* While the project CRS is still "auto": the CRS to set (same id/WKT
     * forms as om_project_set_crs) in the import's own transaction, so a
     * failed first import leaves the project "auto". The layer must
     * already be in it. Ignored once the project has a CRS. */
    const char *project_crs;
};

/*
 * The role of a layer code: DLTB landuse, XZQ admin, YJJBNTBHTB farmland,
 * STBHHX eco_redline, CZKFBJ urban_boundary, GHFQ zoning, GHYT and TDGHDL
 * planned_use, GDBHMB farmland_target, anything else "other". Static.
 */
const char *om_layer_role_for(const char *code);

/*
 * Write a finished `layer` (already in the project CRS; the project CRS
 * must be set or given in meta->project_crs, else OM_ECRS) as a NEW version of
 * meta->code: table
 * "<code>_v<N>" with N = previous max + 1, written in fid order; duplicate fids
 * give OM_ESTORE naming the fid. Attribute columns keep their names (a field
 * named like "fid" or "geom" gets a "_1" suffix). Registers the table in
 * gpkg_contents, gpkg_geometry_columns and the RTree extension, marks it
 * current in om_layers (older versions stay, is_current 0), (re)creates
 * the view "<code>", adds an om_import_log row and the issues. All of it is
 * one transaction: on any error or cancel (OM_ECANCELED) nothing is
 * written. *version (may be NULL) receives N.
 */
enum om_status
om_project_import(struct om_project *p, const struct om_layer *layer,
                  const struct om_import_meta *meta, int *version,
                  const struct om_progress *progress, struct om_error *err);

/*
 * Read version `version` (0 = current) of `code` as a FINISHED layer
 * (Hilbert order, R-tree) named `code` with the project CRS; features
 * recorded as invalid / repaired in om_feature_issues carry those flags.
 * Attribute types come from the declared column types. Unknown code:
 * OM_ENOTFOUND naming it and listing the codes available.
 */
enum om_status om_project_read(struct om_project *p, const char *code,
                               int version, struct om_layer **out,
                               const struct om_progress *progress,
                               struct om_error *err);

/*
 * om_project_read with only the attribute columns named in
 * fields[0..nfields): names compared without ASCII case (as
 * om_layer_field_index), a name given twice read once; the layer's fields
 * keep the table's column order. nfields 0 reads no attributes at all
 * (`fields` may then be NULL). Geometry, fids, feature order and flags are
 * those of om_project_read, and so are the values of the columns read;
 * skipping the other columns makes big layers much faster to read. A name
 * that is not an attribute column of the layer gives OM_ENOTFOUND "no
 * field '<name>' in layer <code> (fields: <the layer's fields>)"; an
 * unknown code fails as in om_project_read.
 */
enum om_status om_project_read_fields(struct om_project *p, const char *code,
                                      int version, const char *const *fields,
                                      size_t nfields, struct om_layer **out,
                                      const struct om_progress *progress,
                                      struct om_error *err);

/*
 * om_project_read_fields with the flags of om_layer_finish
 * (OM_LAYER_KEEP_ORDER, OM_LAYER_NO_INDEX) and OM_READ_ONE_PASS; others:
 * OM_EINVAL. With OM_LAYER_KEEP_ORDER the features stay in fid order, the
 * table's, and are not copied into Hilbert order: for a caller that orders
 * its own work (om_overlay_run walks A in Hilbert order whatever the
 * layer's order). Reading a city's parcels then touches a third less fresh
 * memory.
 *
 * A large table is otherwise read in ranges of fids on several threads,
 * whose parts are then copied into one layer. OM_READ_ONE_PASS reads it
 * in one pass on the calling thread instead: for a read that runs beside
 * other work on the other cores (the overlay reads A while the area
 * kernel prepares the zones), where the copy's second touch of the
 * layer's memory costs more than the threads gain. For a province's
 * parcels (2.2 M) read beside the kernel: 4 s instead of 8.5 s.
 */
enum { OM_READ_ONE_PASS = 1u << 8 };
enum om_status om_project_read_fields_flags(struct om_project *p,
                                            const char *code, int version,
                                            const char *const *fields,
                                            size_t nfields, unsigned flags,
                                            struct om_layer **out,
                                            const struct om_progress *progress,
                                            struct om_error *err);

/*
 * Read a feature table of any GeoPackage file with the same fast reader.
 * `table` NULL = the only features table (OM_EINVAL listing them when
 * there are several). The geometry column and srs come from
 * gpkg_geometry_columns; the layer CRS is "EPSG:<code>" when the srs
 * organisation is EPSG, else its definition; none for srs_id 0 / -1 or an
 * 'undefined' definition. Columns of type INTEGER-like, REAL-like and
 * TEXT-like become attributes; BLOB columns are skipped. Returns an
 * UNFINISHED layer named after the table, in fid order.
 */
enum om_status om_project_read_gpkg_file(const char *path, const char *table,
                                         struct om_layer **out,
                                         const struct om_progress *progress,
                                         struct om_error *err);

/*
 * The issues recorded by the import of (code, version) (0 = current), in
 * fid order. The kind / reason strings are owned by the array; free it
 * with om_feature_issues_free.
 */
enum om_status om_project_issues(struct om_project *p, const char *code,
                                 int version, struct om_feature_issue **out,
                                 size_t *n, struct om_error *err);
void om_feature_issues_free(struct om_feature_issue *f, size_t n);

struct om_import_log_entry {
    int64_t id;
    char at[32];
    char code[64];
    int version;
    char *source;
    char *message;
};

/*
 * The import log, oldest first; `code` NULL = every code. Free with
 * om_import_log_free.
 */
enum om_status om_project_import_log(struct om_project *p, const char *code,
                                     struct om_import_log_entry **out,
                                     size_t *n, struct om_error *err);
void om_import_log_free(struct om_import_log_entry *e, size_t n);

/*
 * Small generic key/value metadata in om_project (e.g. run records). The
 * keys "crs", "onemap_version" and "created_at" are onemap's own: get
 * reads them, set refuses them (OM_EINVAL). get: *value is a copy (free it
 * with om_project_free_string), OM_ENOTFOUND for a missing key. set: one
 * statement (atomic), replaces an existing value; NULL stores NULL (read
 * back as "").
 */
enum om_status om_project_get_meta(struct om_project *p, const char *key,
                                   char **value, struct om_error *err);
enum om_status om_project_set_meta(struct om_project *p, const char *key,
                                   const char *value, struct om_error *err);
/* Free a string returned by this module. Accepts NULL. */
void om_project_free_string(char *s);

/* ---- runs and results layers ----
 *
 * A run is one execution of an analysis ("conflicts", "overlay", later
 * "qc", "check") whose results are kept in the project:
 *
 *   om_runs   one row per committed run: id (1, 2, ...), kind, started_at,
 *             finished_at, params (JSON), rules_source, rules_sha256,
 *             inputs (JSON array of {"code","version","sha256"}), tables
 *             (JSON array of {"name","table","type","rows"}), summary
 *             (JSON).
 *
 * A results layer "<name>" of run N is the feature table "<name>_r<N>"
 * (fid, geom MULTIPOLYGON, attributes; RTree; gpkg_contents identifier
 * "<name> run <N>"); a summary table is the attributes table
 * "<name>_r<N>" (fid, then text/number columns). The view "<name>" always
 * shows the latest run's table and is registered in gpkg_contents too, so
 * QGIS shows one current CONFLICTS layer; older runs' tables stay.
 *
 * Everything a run writes, and its om_runs row, is ONE transaction: the
 * run holds the project's write lock from om_run_begin to om_run_commit /
 * om_run_abort, and the project handle must not be used for anything
 * else meanwhile (om_project_read etc. fail inside the run's
 * transaction). So compute first, then begin, write, commit. Projects
 * made before runs existed get the om_runs table when opened read-write.
 */

/* A layer version a run used. */
struct om_run_input {
    const char *code;
    int version;
    const char *sha256; /* of its source; NULL or "" if unknown */
};

struct om_run_begin {
    const char *kind;         /* [a-z][a-z0-9_]{0,30}: "conflicts", ... */
    const char *params_json;  /* the command-line parameters as a JSON
                                 value; NULL = none. Must be valid JSON. */
    const char *rules_source; /* rule file path; may be NULL */
    const char *rules_sha256; /* its SHA-256 (hex); may be NULL */
    const struct om_run_input *inputs;
    size_t ninputs;
    const char *started_at; /* when the computation started, ISO 8601
                               UTC ("2026-11-24T05:01:02Z", as from
                               om_run_now); NULL = now */
};

/* An open run; everything it writes is one transaction. */
struct om_run;

/*
 * Start a run: BEGIN IMMEDIATE (waits up to 5 s for another writer, then
 * OM_ESTORE), and allocate the run id = max(om_runs.id) + 1. The project
 * must be writable with its CRS set (else OM_ESTORE / OM_ECRS). An
 * invalid kind or params_json gives OM_EINVAL. *out is NULL on failure.
 */
enum om_status om_run_begin(struct om_project *p, const struct om_run_begin *b,
                            struct om_run **out, struct om_error *err);

/* The run id (> 0). */
int64_t om_run_id(const struct om_run *r);

/* The current UTC time as "2026-11-24T05:01:02Z" into buf. */
void om_run_now(char buf[32]);

/*
 * Write a finished `layer` (else OM_EINVAL; in the project CRS; a layer whose
 * CRS text is set and differs from the project's gives OM_ECRS) as the feature
 * table
 * "<name>_r<id>" in fid order, registered in gpkg_contents (identifier
 * "<name> run <id>", description from the run kind),
 * gpkg_geometry_columns and the RTree extension, with the RTree bulk
 * loaded and the GeoPackage RTree triggers; and (re)create the view
 * "<name>" over it. Empty features and an empty layer are fine. Fids
 * must be unique (OM_ESTORE naming the fid). Attribute columns keep their
 * names ("fid"/"geom" get a "_1" suffix), INTEGER / REAL / TEXT by field
 * type. `name` follows the layer-code rules (om_import_meta.code) and
 * must not be a layer code of the project, end in "_r<digits>", nor be
 * written twice in one run (OM_EINVAL). On failure or cancel
 * (OM_ECANCELED) nothing of this call is written and the run stays open:
 * commit what was written before, or abort.
 */
enum om_status om_run_write_layer(struct om_run *r, const char *name,
                                  const struct om_layer *layer,
                                  const struct om_progress *progress,
                                  struct om_error *err);

/*
 * Write a POINT feature table "<name>_r<id>" (gpkg_geometry_columns type
 * POINT, the project srs, RTree with triggers, view "<name>", identifier
 * "<name> run <id>"): `n` points at xy[2i], xy[2i+1] (a non-finite
 * coordinate stores a NULL geometry), fid = i + 1, with attribute columns
 * as om_run_write_table describes (cells[i * ncols + col], NULL = SQL
 * NULL; same typing of columns). QGIS shows it as a point layer. Name
 * rules and failure behaviour as for om_run_write_layer.
 */
enum om_status om_run_write_points(struct om_run *r, const char *name,
                                   const double *xy, size_t n,
                                   const char *const *columns, size_t ncols,
                                   const char *const *cells,
                                   struct om_error *err);

/*
 * Write a non-spatial attribute table "<name>_r<id>" (gpkg_contents
 * data_type 'attributes', identifier "<name> run <id>") with `ncols`
 * columns and `nrows` rows; cells[row * ncols + col] is UTF-8 text or
 * NULL (SQL NULL). A column is INTEGER when every non-NULL cell is a
 * decimal integer literal without leading zeros that fits int64, REAL
 * when every non-NULL cell is a finite number (strtod, whole cell), TEXT
 * otherwise, and TEXT when any cell has a leading zero ("0101", a code,
 * not a number) or the column is all NULL. Column names must be
 * non-empty and distinct ignoring case; "fid" gets a "_1" suffix. Also
 * (re)creates the view "<name>". Name rules and failure behaviour as for
 * om_run_write_layer.
 */
enum om_status om_run_write_table(struct om_run *r, const char *name,
                                  const char *const *columns, size_t ncols,
                                  const char *const *cells, size_t nrows,
                                  struct om_error *err);

/*
 * Write the om_runs row (finished_at = now, `summary_json` may be NULL
 * but must be valid JSON otherwise) and COMMIT. Frees `r` in every case;
 * on failure (also when an earlier write lost the transaction, e.g. disk
 * full) everything of the run is rolled back.
 */
enum om_status om_run_commit(struct om_run *r, const char *summary_json,
                             struct om_error *err);

/* ROLLBACK everything the run wrote and free it. Accepts NULL. */
void om_run_abort(struct om_run *r);

/* One om_runs row. */
struct om_run_record {
    int64_t id;
    char kind[32];
    char started_at[32], finished_at[32];
    char *params;       /* JSON text; NULL if none */
    char *rules_source; /* NULL if none */
    char rules_sha256[65];
    char *inputs;  /* JSON array text, "[]" if none */
    char *tables;  /* JSON array text */
    char *summary; /* JSON text; NULL if none */
};

/*
 * The runs, oldest first; `kind` NULL = every kind. An empty list gives
 * *out NULL, *n 0 (also for a read-only project made before runs
 * existed). Free with om_run_records_free.
 */
enum om_status om_project_runs(struct om_project *p, const char *kind,
                               struct om_run_record **out, size_t *n,
                               struct om_error *err);
void om_run_records_free(struct om_run_record *r, size_t n);

/*
 * Read a results feature table back with the fast reader: `table` is a
 * run's table ("CONFLICTS_r3") or a results name ("CONFLICTS" = the latest
 * run's table), compared without ASCII case. Returns a FINISHED layer in
 * fid order (OM_LAYER_KEEP_ORDER) named after the table, with the project
 * CRS. Anything else gives OM_ENOTFOUND listing the results tables; a
 * point table (om_run_write_points) gives OM_EINVAL.
 */
enum om_status om_project_read_result(struct om_project *p, const char *table,
                                      struct om_layer **out,
                                      const struct om_progress *progress,
                                      struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
