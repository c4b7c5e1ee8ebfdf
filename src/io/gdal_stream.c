/*
 * gdal_stream.c — the streaming writer (om_writer_*): one output dataset
 * written chunk by chunk through OGR, for outputs larger than memory.
 *
 * GeoPackage: any number of layers; features go in dataset transactions
 * of `batch` features (one per feature is ~100x slower; the batch size
 * hardly matters from 5000 on). The R-tree of each layer is created empty
 * (GDAL's SPATIAL_INDEX=NO, our CREATE VIRTUAL TABLE) and packed while the
 * features stream in (see "GeoPackage R-tree" below): GDAL 3.6 fills it at
 * close with SQLite's R*-tree inserts, 25 us per feature, 3x the cost of
 * writing the features themselves.
 * Single-layer formats (FlatGeobuf with its packed Hilbert index built by
 * GDAL at close, Shapefile, GeoJSON, ...) hold exactly one layer;
 * FileGDB holds several.
 *
 * The output is written under its final name and removed again on any
 * failure or abort (GDAL's driver Delete, so a shapefile goes with its
 * sidecar files). Memory: the chunk the caller holds plus GDAL's buffers
 * (SQLite page cache; FlatGeobuf keeps one index entry per feature until
 * close) plus one R-tree cell per 51 GeoPackage features.
 */
#include "io/io_int.h"
#include "onemap/io.h"
#include "onemap/layer.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { DEFAULT_BATCH = 50000 };

/* A cell of an R-tree node: child node or feature id, float32 bounds. */
struct cell {
    int64_t id;
    float b[4]; /* minx, maxx, miny, maxy */
};

/*
 * The R-tree of a GeoPackage layer, packed while the features stream in:
 * every `fan` features with a geometry make a leaf node (nodes 2, 3, ...
 * in write order) queued with its _rowid rows and written about every
 * megabyte; only one cell per leaf is kept, and the upper levels and the
 * root (node 1) are built from those at close.
 */
struct rtree {
    char *name;        /* rtree_<table>_<geometry column> */
    char *table;       /* the feature table */
    char *geom_col;    /* its geometry column */
    char *fid_col;     /* its FID column */
    int node_size;     /* bytes of every node blob: the size of the root */
    size_t fan;        /* cells per node */
    struct cell *leaf; /* the pending leaf: fan cells */
    size_t nleaf;
    struct cell *up; /* one cell per written leaf (id = its node) */
    size_t nup, up_cap;
    int64_t next_node; /* next free node number */
    int64_t nids;      /* boxes added */
    /* queued SQL: rows of VALUES for _node, [id,node] pairs for the
     * _rowid and [node,parent] pairs for the _parent table */
    struct om__buf nodes, rowids, parents;
};

/* One output layer: the OGR layer and the schema its chunks must match. */
struct wlayer {
    OGRLayerH ogr;
    struct om_layer *schema; /* fields only, no features */
    int field0;              /* OGR index of our first field */
    struct rtree *rt;        /* GPKG only */
};

struct om_writer {
    char *path;
    GDALDriverH drv;
    const char *drv_name; /* GDAL's short name (static) */
    GDALDatasetH ds;
    struct wlayer *layers;
    size_t nlayers, layers_cap;
    bool is_gpkg, is_fgb, is_shp;
    bool multi_layer; /* the format holds several layers */
    bool keep_fids;   /* the format stores fids (GPKG, GeoJSON) */
    bool has_tx;      /* the driver has dataset transactions */
    bool in_tx;
    bool failed;  /* an error after GDAL was written to: only abort is left */
    size_t batch; /* features per transaction */
    size_t in_batch;    /* features in the open transaction */
    struct om__buf sql; /* SQL text run through GDAL (GPKG) */
    struct om__gdal_capture cap;
};

static enum om_status failed_error(const struct om_writer *w,
                                   struct om_error *err)
{
    return om__error(err, OM_EINVAL, w->path, 0, -1,
                     "an earlier write to this output failed; the writer can "
                     "only be aborted");
}

/* ---- open ---- */

enum om_status om_writer_open(const char *path,
                              const struct om_writer_options *opt,
                              struct om_writer **out, struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (!out || !path || !path[0]) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "no output path given for the writer");
    }
    enum om_status ist = om__gdal_init(path, err);
    if (ist != OM_OK) {
        return ist;
    }
    GDALDriverH drv;
    const char *drv_name;
    enum om_status st = om__io_output_driver(path, opt ? opt->format : NULL,
                                             &drv, &drv_name, err);
    if (st != OM_OK) {
        return st;
    }
    /* Everything of ours is allocated before the file is created. */
    struct om_writer *w = om__calloc(1, sizeof *w);
    if (!w) {
        return om__enomem(err, path);
    }
    w->path = om__strdup(path);
    if (!w->path) {
        om__free(w);
        return om__enomem(err, path);
    }
    w->drv = drv;
    w->drv_name = drv_name;
    w->is_gpkg = strcmp(drv_name, "GPKG") == 0;
    w->is_fgb = strcmp(drv_name, "FlatGeobuf") == 0;
    w->is_shp = strcmp(drv_name, "ESRI Shapefile") == 0;
    w->multi_layer = w->is_gpkg || strcmp(drv_name, "OpenFileGDB") == 0;
    w->keep_fids = w->is_gpkg || strcmp(drv_name, "GeoJSON") == 0;
    w->batch = opt && opt->batch ? opt->batch : DEFAULT_BATCH;
    om__buf_init(&w->sql, 0);
    om__gdal_capture_push(&w->cap);
    st = om__io_clear_output(drv, path, opt && opt->overwrite, err);
    if (st == OM_OK) {
        w->ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
        if (!w->ds) {
            st = om__error(err, OM_EIO, path, 0, -1, "cannot create: %s",
                           om__gdal_capture_msg(&w->cap, "unknown error"));
            /* a driver may leave a stub behind */
            if (om__io_path_exists(path)) {
                om__io_remove_output(drv, path);
            }
        }
    }
    if (st == OM_OK) {
        w->has_tx = GDALDatasetTestCapability(w->ds, ODsCTransactions) != 0;
    }
    om__gdal_capture_pop();
    if (st != OM_OK) {
        om__free(w->path);
        om__free(w);
        return st;
    }
    *out = w;
    return OM_OK;
}

/* ---- SQL through GDAL (GeoPackage) ---- */

/*
 * Append `tmpl` to the writer's SQL text with %R, %T, %G, %F replaced by
 * the R-tree, table, geometry and FID column names, escaped for use inside
 * "..." (the template has the quotes), and %t / %g by the table and
 * geometry column names escaped for use inside '...'.
 */
static enum om_status sql_add(struct om_writer *w, const struct rtree *rt,
                              const char *tmpl)
{
    enum om_status st = OM_OK;
    for (const char *c = tmpl; st == OM_OK && *c; c++) {
        const char *name = NULL;
        char quote = '"';
        if (c[0] == '%' && c[1]) {
            switch (c[1]) {
            case 'R':
                name = rt->name;
                break;
            case 'T':
                name = rt->table;
                break;
            case 'G':
                name = rt->geom_col;
                break;
            case 'F':
                name = rt->fid_col;
                break;
            case 't':
                name = rt->table;
                quote = '\'';
                break;
            case 'g':
                name = rt->geom_col;
                quote = '\'';
                break;
            default:
                break;
            }
        }
        if (!name) {
            st = om__buf_append(&w->sql, c, 1);
            continue;
        }
        c++;
        for (const char *q = name; st == OM_OK && *q; q++) {
            st = om__buf_append(&w->sql, q, 1);
            if (st == OM_OK && *q == quote) {
                st = om__buf_append(&w->sql, q, 1);
            }
        }
    }
    return st;
}

/*
 * Run the writer's SQL text through GDAL (inside the open transaction, if
 * any) and reset it. *value (may be NULL) gets the first column of the
 * first row of a query, -1 when there is none. One statement per call:
 * GDAL runs only the first.
 */
static enum om_status sql_run(struct om_writer *w, const char *what,
                              int64_t *value, struct om_error *err)
{
    int nfail = w->cap.nfailures;
    OGRLayerH res = GDALDatasetExecuteSQL(w->ds, w->sql.data, NULL, NULL);
    if (value) {
        *value = -1;
        OGRFeatureH f = res ? OGR_L_GetNextFeature(res) : NULL;
        if (f && OGR_F_IsFieldSetAndNotNull(f, 0)) {
            *value = (int64_t)OGR_F_GetFieldAsInteger64(f, 0);
        }
        OGR_F_Destroy(f);
    }
    if (res) {
        GDALDatasetReleaseResultSet(w->ds, res);
    }
    om__buf_reset(&w->sql);
    if (w->cap.nfailures != nfail) {
        return om__error(err, OM_EIO, w->path, 0, -1, "%s: %s", what,
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    return OM_OK;
}

/* ---- GeoPackage R-tree, packed while streaming ---- */

/*
 * SQLite's R*-tree costs ~25 us per inserted box (GDAL's
 * CreateSpatialIndex() at close: 5 s for 200k features); writing packed
 * nodes straight into its shadow tables (_node, _rowid, _parent), as
 * src/store/store_rtree.c does for the project database, costs ~3 us here
 * (0.7 s), GDAL's per-statement overhead included. The
 * node format is SQLite's (ext/rtree/rtree.c): 2-byte depth (root only),
 * 2-byte cell count, cells of a big-endian 8-byte id and four big-endian
 * float32 bounds (minx, maxx, miny, maxy) rounded outwards, every blob as
 * long as the root the virtual table made; the root is node 1.
 * The leaves are the features in write order: packed well when the
 * caller's chunks are spatially coherent (a county at a time, a finished
 * layer in Hilbert order); correct, only slower to search, otherwise.
 */
enum { CELL_BYTES = 24, MAX_CELLS = 51 /* RTREE_MAXCELLS in rtree.c */ };

static void rtree_free(struct rtree *rt)
{
    if (rt) {
        om__free(rt->name);
        om__free(rt->table);
        om__free(rt->geom_col);
        om__free(rt->fid_col);
        om__free(rt->leaf);
        om__free(rt->up);
        om__buf_deinit(&rt->nodes);
        om__buf_deinit(&rt->rowids);
        om__buf_deinit(&rt->parents);
        om__free(rt);
    }
}

/* The empty R-tree virtual table of layer `ogr` (GPKG's naming). */
static enum om_status rtree_create(struct om_writer *w, OGRLayerH ogr,
                                   struct rtree **out, struct om_error *err)
{
    *out = NULL;
    struct rtree *rt = om__calloc(1, sizeof *rt);
    if (!rt) {
        return om__enomem(err, w->path);
    }
    om__buf_init(&rt->nodes, 0);
    om__buf_init(&rt->rowids, 0);
    om__buf_init(&rt->parents, 0);
    struct om__buf name;
    om__buf_init(&name, 0);
    rt->table = om__strdup(OGR_L_GetName(ogr));
    rt->geom_col = om__strdup(OGR_L_GetGeometryColumn(ogr));
    rt->fid_col = om__strdup(OGR_L_GetFIDColumn(ogr));
    if (!rt->table || !rt->geom_col || !rt->fid_col ||
        om__buf_printf(&name, "rtree_%s_%s", rt->table, rt->geom_col) !=
            OM_OK ||
        !(rt->name = om__buf_take(&name))) {
        om__buf_deinit(&name);
        rtree_free(rt);
        return om__enomem(err, w->path);
    }
    rt->next_node = 2;
    enum om_status st = sql_add(w, rt,
                                "CREATE VIRTUAL TABLE \"%R\" USING "
                                "rtree(id, minx, maxx, miny, maxy)");
    if (st == OM_OK) {
        st = sql_run(w, "cannot create the spatial index", NULL, err);
    } else {
        st = om__enomem(err, w->path);
    }
    int64_t size = -1;
    if (st == OM_OK) {
        if (sql_add(w, rt,
                    "SELECT length(data) FROM \"%R_node\" WHERE nodeno = 1") !=
            OM_OK) {
            st = om__enomem(err, w->path);
        } else {
            st = sql_run(w, "cannot read the spatial index", &size, err);
        }
    }
    if (st == OM_OK && (size < 4 + 2 * CELL_BYTES || size > 65536)) {
        st = om__error(err, OM_EINTERNAL, w->path, 0, -1,
                       "unexpected R-tree node size %lld in %s",
                       (long long)size, rt->name);
    }
    if (st == OM_OK) {
        rt->node_size = (int)size;
        rt->fan = (size_t)(size - 4) / CELL_BYTES;
        rt->fan = rt->fan > MAX_CELLS ? MAX_CELLS : rt->fan;
        rt->leaf = om__malloc(rt->fan * sizeof *rt->leaf);
        if (!rt->leaf) {
            st = om__enomem(err, w->path);
        }
    }
    if (st != OM_OK) {
        om__buf_reset(&w->sql);
        rtree_free(rt);
        return st;
    }
    *out = rt;
    return OM_OK;
}

/*
 * The queue goes to GDAL in one statement per table about every
 * FLUSH_BYTES: each ExecuteSQL makes GDAL sync its layers (feature-count
 * triggers re-created, then dropped again at the next insert), which
 * costs far more than the rows when done per node (10 us per feature).
 */
enum { FLUSH_BYTES = 1 << 20 };

/* Run `head` + the queue `q` (+ `tail`) as one statement; empty `q`. */
static enum om_status run_queue(struct om_writer *w, const struct rtree *rt,
                                struct om__buf *q, const char *head,
                                const char *tail, struct om_error *err)
{
    if (q->len == 0) {
        return OM_OK;
    }
    enum om_status st = sql_add(w, rt, head);
    if (st == OM_OK) {
        st = om__buf_append(&w->sql, q->data, q->len);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&w->sql, tail);
    }
    om__buf_reset(q);
    if (st != OM_OK) {
        om__buf_reset(&w->sql);
        return om__enomem(err, w->path);
    }
    return sql_run(w, "cannot write the spatial index", NULL, err);
}

static enum om_status rtree_flush(struct om_writer *w, struct rtree *rt,
                                  struct om_error *err)
{
    enum om_status st =
        run_queue(w, rt, &rt->nodes,
                  "INSERT OR REPLACE INTO \"%R_node\" VALUES ", "", err);
    if (st == OM_OK) {
        st = run_queue(w, rt, &rt->rowids,
                       "INSERT INTO \"%R_rowid\"(rowid, nodeno) SELECT "
                       "value ->> 0, value ->> 1 FROM json_each('[",
                       "]')", err);
    }
    if (st == OM_OK) {
        st = run_queue(w, rt, &rt->parents,
                       "INSERT INTO \"%R_parent\"(nodeno, parentnode) SELECT "
                       "value ->> 0, value ->> 1 FROM json_each('[",
                       "]')", err);
    }
    return st;
}

/* Append `n` bytes to `b` as hex digits. */
static enum om_status put_hex(struct om__buf *b, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789ABCDEF";
    char buf[256];
    enum om_status st = OM_OK;
    for (size_t i = 0; i < n && st == OM_OK;) {
        size_t k = 0;
        for (; i < n && k < sizeof buf; i++, k += 2) {
            buf[k] = digits[p[i] >> 4];
            buf[k + 1] = digits[p[i] & 15];
        }
        st = om__buf_append(b, buf, k);
    }
    return st;
}

/* Queue node `nodeno` holding cells[0..n), `depth` stored in the root. */
static enum om_status queue_node(struct om_writer *w, struct rtree *rt,
                                 int64_t nodeno, const struct cell *cells,
                                 size_t n, int depth, struct om_error *err)
{
    struct om__buf *b = &rt->nodes;
    uint8_t head[4] = {(uint8_t)(depth >> 8), (uint8_t)depth, (uint8_t)(n >> 8),
                       (uint8_t)n};
    enum om_status st =
        om__buf_printf(b, "%s(%lld, X'", b->len ? ", " : "", (long long)nodeno);
    if (st == OM_OK) {
        st = put_hex(b, head, sizeof head);
    }
    for (size_t i = 0; i < n && st == OM_OK; i++) {
        uint8_t c[CELL_BYTES];
        om__rtree_put_cell(c, cells[i].id, cells[i].b);
        st = put_hex(b, c, sizeof c);
    }
    /* zero padding up to the node size */
    static const uint8_t zeros[64];
    size_t pad = (size_t)rt->node_size - 4 - n * CELL_BYTES;
    while (pad > 0 && st == OM_OK) {
        size_t k = pad < sizeof zeros ? pad : sizeof zeros;
        st = put_hex(b, zeros, k);
        pad -= k;
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "')");
    }
    if (st != OM_OK) {
        return om__enomem(err, w->path);
    }
    return b->len >= FLUSH_BYTES ? rtree_flush(w, rt, err) : OM_OK;
}

/* Queue the pairs (id of each of cells[0..n), `node`) into `b`. */
static enum om_status queue_links(struct om_writer *w, struct rtree *rt,
                                  struct om__buf *b, const struct cell *cells,
                                  size_t n, int64_t node, struct om_error *err)
{
    enum om_status st = OM_OK;
    for (size_t i = 0; i < n && st == OM_OK; i++) {
        st = om__buf_printf(b, "%s[%lld,%lld]", b->len ? "," : "",
                            (long long)cells[i].id, (long long)node);
    }
    if (st != OM_OK) {
        return om__enomem(err, w->path);
    }
    return b->len >= FLUSH_BYTES ? rtree_flush(w, rt, err) : OM_OK;
}

/* The box of cells[0..n). */
static struct cell cell_union(int64_t id, const struct cell *cells, size_t n)
{
    struct cell u = {id, {INFINITY, -INFINITY, INFINITY, -INFINITY}};
    for (size_t i = 0; i < n; i++) {
        u.b[0] = fminf(u.b[0], cells[i].b[0]);
        u.b[1] = fmaxf(u.b[1], cells[i].b[1]);
        u.b[2] = fminf(u.b[2], cells[i].b[2]);
        u.b[3] = fmaxf(u.b[3], cells[i].b[3]);
    }
    return u;
}

/* Queue the pending leaf as node `nodeno` (depth: see queue_node). */
static enum om_status flush_leaf(struct om_writer *w, struct rtree *rt,
                                 int64_t nodeno, int depth,
                                 struct om_error *err)
{
    if (nodeno != 1) {
        if (!OM__GROW(rt->up, rt->up_cap, rt->nup + 1)) {
            return om__enomem(err, w->path);
        }
        rt->up[rt->nup++] = cell_union(nodeno, rt->leaf, rt->nleaf);
    }
    enum om_status st =
        queue_node(w, rt, nodeno, rt->leaf, rt->nleaf, depth, err);
    if (st == OM_OK) {
        st = queue_links(w, rt, &rt->rowids, rt->leaf, rt->nleaf, nodeno, err);
    }
    rt->nleaf = 0;
    return st;
}

/* Add the box of feature `fid` (written just now). */
static enum om_status rtree_add(struct om_writer *w, struct rtree *rt,
                                int64_t fid, struct om_rect b,
                                struct om_error *err)
{
    if (!(isfinite(b.minx) && isfinite(b.miny) && isfinite(b.maxx) &&
          isfinite(b.maxy))) {
        return OM_OK; /* the box of an invalid geometry: not searchable */
    }
    if (rt->nleaf == rt->fan) {
        /* The leaf is written when full and more follow: a layer that
         * fits in one node keeps it as the root (node 1). */
        enum om_status st = flush_leaf(w, rt, rt->next_node, 0, err);
        rt->next_node++;
        if (st != OM_OK) {
            return st;
        }
    }
    rt->nids++;
    struct cell *c = &rt->leaf[rt->nleaf++];
    c->id = fid;
    om__rtree_bounds(c->b, b.minx, b.miny, b.maxx, b.maxy);
    return OM_OK;
}

/* Queue the upper levels and the root. */
static enum om_status rtree_top(struct om_writer *w, struct rtree *rt,
                                struct om_error *err)
{
    if (rt->next_node == 2) {
        /* no leaf written: the pending one (if any) is the root */
        return rt->nleaf ? flush_leaf(w, rt, 1, 0, err) : OM_OK;
    }
    enum om_status st = OM_OK;
    if (rt->nleaf) {
        st = flush_leaf(w, rt, rt->next_node++, 0, err);
    }
    struct cell *level = rt->up;
    size_t n = rt->nup;
    int depth = 1;
    while (st == OM_OK && n > rt->fan) {
        size_t nodes = (n + rt->fan - 1) / rt->fan;
        struct cell *next = om__reallocarray(NULL, nodes, sizeof *next);
        if (!next) {
            st = om__enomem(err, w->path);
            break;
        }
        for (size_t j = 0; j < nodes && st == OM_OK; j++) {
            size_t a = j * rt->fan, k = n - a < rt->fan ? n - a : rt->fan;
            int64_t nodeno = rt->next_node++;
            next[j] = cell_union(nodeno, level + a, k);
            st = queue_node(w, rt, nodeno, level + a, k, 0, err);
            if (st == OM_OK) {
                st =
                    queue_links(w, rt, &rt->parents, level + a, k, nodeno, err);
            }
        }
        if (level != rt->up) {
            om__free(level);
        }
        level = next;
        n = nodes;
        depth++;
    }
    if (st == OM_OK) {
        st = queue_node(w, rt, 1, level, n, depth, err);
    }
    if (st == OM_OK) {
        st = queue_links(w, rt, &rt->parents, level, n, 1, err);
    }
    if (level != rt->up) {
        om__free(level);
    }
    return st;
}

/* Write what is left of the tree and check it is all there. */
static enum om_status rtree_finish(struct om_writer *w, struct rtree *rt,
                                   struct om_error *err)
{
    enum om_status st = rtree_top(w, rt, err);
    if (st == OM_OK) {
        st = rtree_flush(w, rt, err);
    }
    int64_t n = -1;
    if (st == OM_OK) {
        if (sql_add(w, rt, "SELECT count(*) FROM \"%R_rowid\"") != OM_OK) {
            om__buf_reset(&w->sql);
            return om__enomem(err, w->path);
        }
        st = sql_run(w, "cannot read the spatial index", &n, err);
    }
    if (st == OM_OK && n != rt->nids) {
        st = om__error(err, OM_EINTERNAL, w->path, 0, -1,
                       "%s holds %lld features, want %lld: GDAL did not run "
                       "every statement",
                       rt->name, (long long)n, (long long)rt->nids);
    }
    return st;
}

/*
 * Register the R-tree the way GDAL 3.6 does for its own layers (DDL copied
 * from a GDAL-written file): the gpkg_rtree_index extension row and the
 * GeoPackage 1.2 triggers that keep the index up to date on later edits.
 */
static enum om_status rtree_register(struct om_writer *w,
                                     const struct rtree *rt,
                                     struct om_error *err)
{
    static const char *const tmpl[] = {
        "CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT,"
        "column_name TEXT,extension_name TEXT NOT NULL,definition TEXT NOT "
        "NULL,scope TEXT NOT NULL,CONSTRAINT ge_tce UNIQUE (table_name, "
        "column_name, extension_name))",
        "INSERT INTO gpkg_extensions VALUES ('%t', '%g', 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        "CREATE TRIGGER \"%R_insert\" AFTER INSERT ON \"%T\" WHEN "
        "(new.\"%G\" NOT NULL AND NOT ST_IsEmpty(NEW.\"%G\")) BEGIN INSERT "
        "OR REPLACE INTO \"%R\" VALUES (NEW.\"%F\",ST_MinX(NEW.\"%G\"), "
        "ST_MaxX(NEW.\"%G\"),ST_MinY(NEW.\"%G\"), ST_MaxY(NEW.\"%G\")); END",
        "CREATE TRIGGER \"%R_update1\" AFTER UPDATE OF \"%G\" ON \"%T\" WHEN "
        "OLD.\"%F\" = NEW.\"%F\" AND (NEW.\"%G\" NOTNULL AND NOT "
        "ST_IsEmpty(NEW.\"%G\")) BEGIN INSERT OR REPLACE INTO \"%R\" VALUES "
        "(NEW.\"%F\",ST_MinX(NEW.\"%G\"), ST_MaxX(NEW.\"%G\"),"
        "ST_MinY(NEW.\"%G\"), ST_MaxY(NEW.\"%G\")); END",
        "CREATE TRIGGER \"%R_update2\" AFTER UPDATE OF \"%G\" ON \"%T\" WHEN "
        "OLD.\"%F\" = NEW.\"%F\" AND (NEW.\"%G\" ISNULL OR "
        "ST_IsEmpty(NEW.\"%G\")) BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"%F\"; END",
        "CREATE TRIGGER \"%R_update3\" AFTER UPDATE ON \"%T\" WHEN "
        "OLD.\"%F\" != NEW.\"%F\" AND (NEW.\"%G\" NOTNULL AND NOT "
        "ST_IsEmpty(NEW.\"%G\")) BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"%F\"; INSERT OR REPLACE INTO \"%R\" VALUES "
        "(NEW.\"%F\",ST_MinX(NEW.\"%G\"), ST_MaxX(NEW.\"%G\"),"
        "ST_MinY(NEW.\"%G\"), ST_MaxY(NEW.\"%G\")); END",
        "CREATE TRIGGER \"%R_update4\" AFTER UPDATE ON \"%T\" WHEN "
        "OLD.\"%F\" != NEW.\"%F\" AND (NEW.\"%G\" ISNULL OR "
        "ST_IsEmpty(NEW.\"%G\")) BEGIN DELETE FROM \"%R\" WHERE id IN "
        "(OLD.\"%F\", NEW.\"%F\"); END",
        "CREATE TRIGGER \"%R_delete\" AFTER DELETE ON \"%T\" WHEN "
        "old.\"%G\" NOT NULL BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"%F\"; END",
    };
    enum om_status st = OM_OK;
    for (size_t i = 0; i < sizeof tmpl / sizeof tmpl[0] && st == OM_OK; i++) {
        if (sql_add(w, rt, tmpl[i]) != OM_OK) {
            om__buf_reset(&w->sql);
            return om__enomem(err, w->path);
        }
        st = sql_run(w, "cannot register the spatial index", NULL, err);
    }
    return st;
}

/* ---- layers ---- */

static void wlayer_deinit(struct wlayer *wl)
{
    om_layer_free(wl->schema);
    rtree_free(wl->rt);
}

/* A features-free copy of the fields (names, types, order) of `schema`. */
static enum om_status copy_schema(const struct om_layer *schema,
                                  const char *name, struct om_layer **out,
                                  struct om_error *err)
{
    struct om_layer *s = NULL;
    enum om_status st = om_layer_new(name, &s, err);
    size_t nf = om_layer_nfields(schema);
    for (size_t i = 0; i < nf && st == OM_OK; i++) {
        st = om_layer_add_field(s, om_layer_field_name(schema, (int)i),
                                om_layer_field_type(schema, (int)i), NULL, err);
    }
    if (st != OM_OK) {
        om_layer_free(s);
        s = NULL;
    }
    *out = s;
    return st;
}

/* Layer creation options of the driver (static strings). */
static size_t layer_options(const struct om_writer *w,
                            const struct om_layer *schema, const char **lco,
                            size_t size)
{
    size_t n = 0;
    if (w->is_gpkg) {
        /* A user column called fid would clash with the FID column. */
        lco[n++] = om_layer_field_index(schema, "fid") >= 0 ? "FID=ogc_fid"
                                                            : "FID=fid";
        lco[n++] = "GEOMETRY_NAME=geom";
        lco[n++] = "SPATIAL_INDEX=NO"; /* ours: see rtree_create() */
    } else if (w->is_fgb) {
        lco[n++] = "SPATIAL_INDEX=YES";
    } else if (w->is_shp) {
        lco[n++] = "ENCODING=UTF-8";
    } else if (strcmp(w->drv_name, "CSV") == 0) {
        lco[n++] = "GEOMETRY=AS_WKT";
    }
    lco[n] = NULL;
    (void)size; /* n + 1 <= 4 <= size */
    return n;
}

static enum om_status create_fields(struct om_writer *w, struct wlayer *wl,
                                    const char *name, struct om_error *err)
{
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(wl->ogr);
    wl->field0 = OGR_FD_GetFieldCount(defn);
    size_t nf = om_layer_nfields(wl->schema);
    for (size_t i = 0; i < nf; i++) {
        const char *fname = om_layer_field_name(wl->schema, (int)i);
        enum om_field_type t = om_layer_field_type(wl->schema, (int)i);
        /* The values to come are unknown: 64-bit integers, free text. */
        OGRFieldType ot = t == OM_FIELD_INT    ? OFTInteger64
                          : t == OM_FIELD_REAL ? OFTReal
                                               : OFTString;
        OGRFieldDefnH fd = OGR_Fld_Create(fname, ot);
        if (!fd) {
            return om__enomem(err, w->path);
        }
        if (w->is_shp && t == OM_FIELD_TEXT) {
            OGR_Fld_SetWidth(fd, 254);
        }
        OGRErr e = OGR_L_CreateField(wl->ogr, fd, TRUE);
        OGR_Fld_Destroy(fd);
        if (e != OGRERR_NONE) {
            return om__error(err, OM_EIO, w->path, 0, -1,
                             "layer '%s': cannot create field '%s': %s", name,
                             fname,
                             om__gdal_capture_msg(&w->cap, "unknown error"));
        }
    }
    if (OGR_FD_GetFieldCount(defn) != wl->field0 + (int)nf) {
        return om__error(err, OM_EINTERNAL, w->path, 0, -1,
                         "layer '%s': the driver did not create every field",
                         name);
    }
    return OM_OK;
}

static enum om_status add_layer(struct om_writer *w, const char *name,
                                const struct om_layer *schema,
                                struct wlayer *wl, struct om_error *err)
{
    enum om_status st = copy_schema(schema, name, &wl->schema, err);
    if (st != OM_OK) {
        return st;
    }
    OGRSpatialReferenceH srs = NULL;
    const char *crs = om_layer_crs(schema);
    if (crs) {
        st = om__gdal_srs_from_user(crs, w->path, &srs, err);
        if (st != OM_OK) {
            return st;
        }
    }
    const char *lco[8];
    layer_options(w, schema, lco, sizeof lco / sizeof lco[0]);
    wl->ogr =
        GDALDatasetCreateLayer(w->ds, name, srs, wkbMultiPolygon, (char **)lco);
    OSRDestroySpatialReference(srs);
    if (!wl->ogr) {
        return om__error(err, OM_EIO, w->path, 0, -1,
                         "cannot create layer '%s': %s", name,
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    st = create_fields(w, wl, name, err);
    if (st == OM_OK && w->is_gpkg) {
        st = rtree_create(w, wl->ogr, &wl->rt, err);
    }
    return st;
}

enum om_status om_writer_add_layer(struct om_writer *w, const char *name,
                                   const struct om_layer *schema, int *index,
                                   struct om_error *err)
{
    if (!w || !name || !name[0] || !schema) {
        return om__error(err, OM_EINVAL, w ? w->path : NULL, 0, -1,
                         "no writer, layer name or schema given");
    }
    if (w->failed) {
        return failed_error(w, err);
    }
    if (w->nlayers > 0 && !w->multi_layer) {
        return om__error(err, OM_EFORMAT, w->path, 0, -1,
                         "%s files hold one layer; cannot add layer '%s' "
                         "(write a GeoPackage for several)",
                         w->drv_name, name);
    }
    for (size_t i = 0; i < w->nlayers; i++) {
        if (om__strcasecmp(om_layer_name(w->layers[i].schema), name) == 0) {
            return om__error(err, OM_EEXIST, w->path, 0, -1,
                             "already has a layer '%s'", name);
        }
    }
    if (w->nlayers >= (size_t)INT32_MAX) {
        return om__error(err, OM_ELIMIT, w->path, 0, -1, "too many layers");
    }
    if (!OM__GROW(w->layers, w->layers_cap, w->nlayers + 1)) {
        return om__enomem(err, w->path);
    }
    struct wlayer *wl = &w->layers[w->nlayers];
    memset(wl, 0, sizeof *wl);
    om__gdal_capture_push(&w->cap);
    enum om_status st = add_layer(w, name, schema, wl, err);
    om__gdal_capture_pop();
    if (st != OM_OK) {
        /* An OGR layer that was created stays in the dataset. */
        wlayer_deinit(wl);
        w->failed = true;
        return st;
    }
    if (index) {
        *index = (int)w->nlayers;
    }
    w->nlayers++;
    return OM_OK;
}

/* ---- features ---- */

/* OM_EINVAL naming the first field where `chunk` differs from the schema. */
static enum om_status check_schema(const struct om_writer *w,
                                   const struct om_layer *schema,
                                   const struct om_layer *chunk,
                                   struct om_error *err)
{
    const char *lname = om_layer_name(schema);
    size_t ns = om_layer_nfields(schema), nc = om_layer_nfields(chunk);
    size_t n = ns < nc ? ns : nc;
    for (size_t i = 0; i < n; i++) {
        const char *a = om_layer_field_name(schema, (int)i);
        const char *b = om_layer_field_name(chunk, (int)i);
        enum om_field_type ta = om_layer_field_type(schema, (int)i);
        enum om_field_type tb = om_layer_field_type(chunk, (int)i);
        if (om__strcasecmp(a, b) != 0 || ta != tb) {
            return om__error(err, OM_EINVAL, w->path, 0, -1,
                             "layer '%s': field %zu of the chunk is '%s' "
                             "(%s), the layer has '%s' (%s)",
                             lname, i + 1, b, om_field_type_name(tb), a,
                             om_field_type_name(ta));
        }
    }
    if (nc > ns) {
        return om__error(err, OM_EINVAL, w->path, 0, -1,
                         "layer '%s': the chunk has an extra field '%s'", lname,
                         om_layer_field_name(chunk, (int)ns));
    }
    if (ns > nc) {
        return om__error(err, OM_EINVAL, w->path, 0, -1,
                         "layer '%s': the chunk lacks field '%s'", lname,
                         om_layer_field_name(schema, (int)nc));
    }
    return OM_OK;
}

/* What the format cannot hold, found before anything of the chunk goes. */
static enum om_status check_chunk(const struct om_writer *w,
                                  const struct wlayer *wl,
                                  const struct om_layer *chunk,
                                  struct om_error *err)
{
    const char *lname = om_layer_name(wl->schema);
    struct om_layer_view v;
    om_layer_view(chunk, &v);
    if (w->is_fgb) {
        for (size_t f = 0; f < v.nfeatures; f++) {
            if (v.part_start[f + 1] == v.part_start[f]) {
                /* GDAL 3.6 silently drops features without geometry there */
                return om__error(err, OM_EGEOM, w->path, 0, v.fid[f],
                                 "layer '%s': the feature has no geometry "
                                 "and FlatGeobuf cannot hold it; write a "
                                 "GeoPackage instead",
                                 lname);
            }
        }
    }
    if (w->is_gpkg) {
        for (size_t f = 0; f < v.nfeatures; f++) {
            if (v.fid[f] < 0) {
                return om__error(err, OM_EINVAL, w->path, 0, v.fid[f],
                                 "layer '%s': negative fid %lld; GeoPackage "
                                 "fids are >= 0",
                                 lname, (long long)v.fid[f]);
            }
        }
    }
    if (w->is_shp) {
        size_t nf = om_layer_nfields(chunk);
        for (size_t i = 0; i < nf; i++) {
            if (om_layer_field_type(chunk, (int)i) != OM_FIELD_TEXT) {
                continue;
            }
            for (size_t f = 0; f < v.nfeatures; f++) {
                const char *s = om_layer_get_text(chunk, f, (int)i);
                size_t len = s ? strlen(s) : 0;
                if (len > 254) {
                    return om__error(err, OM_ELIMIT, w->path, 0, v.fid[f],
                                     "layer '%s': field '%s' holds text of "
                                     "%zu bytes; a shapefile holds at most "
                                     "254: write a GeoPackage instead",
                                     lname, om_layer_field_name(chunk, (int)i),
                                     len);
                }
            }
        }
    }
    return OM_OK;
}

static enum om_status commit(struct om_writer *w, struct om_error *err)
{
    w->in_tx = false;
    w->in_batch = 0;
    if (GDALDatasetCommitTransaction(w->ds) != OGRERR_NONE) {
        return om__error(err, OM_EIO, w->path, 0, -1, "commit failed: %s",
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    return OM_OK;
}

/* The error of a failed CreateFeature, a clear one for a reused fid. */
static enum om_status feature_error(const struct om_writer *w,
                                    const struct wlayer *wl, int64_t fid,
                                    struct om_error *err)
{
    const char *why = om__gdal_capture_msg(&w->cap, "unknown error");
    const char *lname = om_layer_name(wl->schema);
    if (w->is_gpkg && strstr(why, "UNIQUE constraint failed")) {
        return om__error(err, OM_EINVAL, w->path, 0, fid,
                         "layer '%s': fid %lld is used twice (fids must be "
                         "unique over all chunks of a layer)",
                         lname, (long long)fid);
    }
    return om__error(err, OM_EIO, w->path, 0, fid,
                     "layer '%s': cannot write the feature: %s", lname, why);
}

static enum om_status write_chunk(struct om_writer *w, struct wlayer *wl,
                                  const struct om_layer *chunk,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(chunk, &v);
    /* One feature object reused: every field and the geometry are reset. */
    OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(wl->ogr));
    if (!feat) {
        return om__enomem(err, w->path);
    }
    enum om_status st = OM_OK;
    om__progress(progress, "write", 0, v.nfeatures);
    for (size_t f = 0; f < v.nfeatures && st == OM_OK; f++) {
        if (w->has_tx && !w->in_tx) {
            if (GDALDatasetStartTransaction(w->ds, FALSE) != OGRERR_NONE) {
                st = om__error(err, OM_EIO, w->path, 0, -1,
                               "cannot start a transaction: %s",
                               om__gdal_capture_msg(&w->cap, "unknown error"));
                break;
            }
            w->in_tx = true;
        }
        bool set_fid = w->keep_fids && v.fid[f] >= 0;
        OGR_F_SetFID(feat, set_fid ? (GIntBig)v.fid[f] : OGRNullFID);
        OGRGeometryH g = NULL;
        if (v.part_start[f + 1] > v.part_start[f]) {
            g = om__io_make_geometry(&v, f);
            if (!g) {
                st = om__enomem(err, w->path);
                break;
            }
        }
        OGR_F_SetGeometryDirectly(feat, g); /* NULL: a null geometry */
        om__io_set_fields(feat, chunk, f, wl->field0);
        int nfail = w->cap.nfailures;
        OGRErr e = OGR_L_CreateFeature(wl->ogr, feat);
        if (e != OGRERR_NONE || w->cap.nfailures != nfail) {
            st = feature_error(w, wl, v.fid[f], err);
            break;
        }
        if (wl->rt && g) {
            st = rtree_add(w, wl->rt, v.fid[f], v.bbox[f], err);
        }
        if (st == OM_OK && w->in_tx && ++w->in_batch >= w->batch) {
            st = commit(w, err);
        }
        if (st == OM_OK &&
            om__progress(progress, "write", f + 1, v.nfeatures)) {
            st = om__error(err, OM_ECANCELED, w->path, 0, -1,
                           "writing canceled");
        }
    }
    if (st == OM_OK && om__canceled(progress)) {
        st = om__error(err, OM_ECANCELED, w->path, 0, -1, "writing canceled");
    }
    OGR_F_Destroy(feat);
    return st;
}

enum om_status om_writer_add(struct om_writer *w, int index,
                             const struct om_layer *chunk,
                             const struct om_progress *progress,
                             struct om_error *err)
{
    if (!w || !chunk) {
        return om__error(err, OM_EINVAL, w ? w->path : NULL, 0, -1,
                         "no writer or no chunk given");
    }
    if (index < 0 || (size_t)index >= w->nlayers) {
        return om__error(err, OM_EINVAL, w->path, 0, -1,
                         "no layer %d in the writer (it has %zu)", index,
                         w->nlayers);
    }
    if (w->failed) {
        return failed_error(w, err);
    }
    struct wlayer *wl = &w->layers[index];
    /* Errors found before anything is written leave the writer usable. */
    enum om_status st = check_schema(w, wl->schema, chunk, err);
    if (st == OM_OK) {
        st = check_chunk(w, wl, chunk, err);
    }
    if (st != OM_OK) {
        return st;
    }
    om__gdal_capture_push(&w->cap);
    st = write_chunk(w, wl, chunk, progress, err);
    om__gdal_capture_pop();
    w->failed = st != OM_OK;
    return st;
}

/* ---- close ---- */

/* Finish and register the R-trees, in one transaction. */
static enum om_status build_rtrees(struct om_writer *w, struct om_error *err)
{
    if (GDALDatasetStartTransaction(w->ds, FALSE) != OGRERR_NONE) {
        return om__error(err, OM_EIO, w->path, 0, -1,
                         "cannot start a transaction: %s",
                         om__gdal_capture_msg(&w->cap, "unknown error"));
    }
    w->in_tx = true;
    enum om_status st = OM_OK;
    for (size_t i = 0; i < w->nlayers && st == OM_OK; i++) {
        st = rtree_finish(w, w->layers[i].rt, err);
        if (st == OM_OK) {
            st = rtree_register(w, w->layers[i].rt, err);
        }
    }
    return st == OM_OK ? commit(w, err) : st;
}

static void free_writer(struct om_writer *w)
{
    for (size_t i = 0; i < w->nlayers; i++) {
        wlayer_deinit(&w->layers[i]);
    }
    om__free(w->layers);
    om__buf_deinit(&w->sql);
    om__free(w->path);
    om__free(w);
}

enum om_status om_writer_close(struct om_writer *w, struct om_error *err)
{
    if (!w) {
        return om__error(err, OM_EINVAL, NULL, 0, -1, "no writer given");
    }
    enum om_status st = OM_OK;
    om__gdal_capture_push(&w->cap);
    if (w->failed) {
        st = failed_error(w, err);
    } else if (w->nlayers == 0) {
        st = om__error(err, OM_EINVAL, w->path, 0, -1,
                       "no layer was added to the output");
    }
    if (st == OM_OK && w->in_tx) {
        st = commit(w, err);
    }
    if (st == OM_OK && w->is_gpkg) {
        st = build_rtrees(w, err);
    }
    int nfail = w->cap.nfailures;
    GDALClose(w->ds); /* FlatGeobuf writes its index and features here */
    w->ds = NULL;
    if (st == OM_OK && w->cap.nfailures != nfail) {
        st = om__error(err, OM_EIO, w->path, 0, -1,
                       "finishing the file failed: %s", w->cap.failure);
    }
    if (st != OM_OK) {
        om__io_remove_output(w->drv, w->path);
    }
    om__gdal_capture_pop();
    free_writer(w);
    return st;
}

void om_writer_abort(struct om_writer *w)
{
    if (!w) {
        return;
    }
    om__gdal_capture_push(&w->cap);
    /*
     * No rollback: the file goes anyway, and rolling back a GeoPackage
     * transaction that created tables only costs time.
     */
    GDALClose(w->ds);
    w->ds = NULL;
    om__io_remove_output(w->drv, w->path);
    om__gdal_capture_pop();
    free_writer(w);
}
