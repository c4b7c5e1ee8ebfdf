/*
 * store_rtree.c — bulk loading of a GeoPackage RTree index.
 *
 * Inserting a million boxes one by one through SQLite's R*-tree costs about
 * 25 µs each (every insert runs several node queries and reinsertions).
 * The features' boxes sorted along a Hilbert curve pack into a tree that
 * can be written straight into the rtree's shadow tables (<name>_node,
 * _rowid, _parent), as GDAL does for its own GeoPackage writer (whatever
 * the order of the layer's features). The node format is SQLite's
 * (ext/rtree/rtree.c): a 2-byte tree depth (root only), a 2-byte cell
 * count, then cells of an 8-byte big-endian id and four big-endian float32
 * bounds (minx, maxx, miny, maxy) rounded outwards; every node blob has the
 * size of the root the virtual table created; the root is node 1.
 * SELECT rtreecheck(...) verifies the result in the tests.
 */
#include "store/store_int.h"

#include "index/hilbert.h"

#include <math.h>
#include <string.h>

#define CELL_BYTES 24
#define MAX_CELLS 51 /* RTREE_MAXCELLS in rtree.c */
#define ROWID_BATCH 256

struct cell {
    int64_t id;
    float b[4]; /* minx, maxx, miny, maxy */
};

struct loader {
    sqlite3 *db;
    const char *path;
    sqlite3_stmt *node, *rowid, *rowids, *parent;
    uint8_t *blob;
    int node_size;
    struct om_error *err;
};

static enum om_status step(struct loader *ld, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        return om__store_error(ld->db, ld->path, ld->err,
                               "cannot write the spatial index");
    }
    return OM_OK;
}

/* Write node `nodeno` holding cells[0..n) with tree depth `depth` (only
 * stored in the root). */
static enum om_status write_node(struct loader *ld, int64_t nodeno,
                                 const struct cell *cells, size_t n, int depth)
{
    memset(ld->blob, 0, (size_t)ld->node_size);
    ld->blob[0] = (uint8_t)(depth >> 8);
    ld->blob[1] = (uint8_t)depth;
    ld->blob[2] = (uint8_t)(n >> 8);
    ld->blob[3] = (uint8_t)n;
    uint8_t *p = ld->blob + 4;
    for (size_t i = 0; i < n; i++, p += CELL_BYTES) {
        om__rtree_put_cell(p, cells[i].id, cells[i].b);
    }
    sqlite3_bind_int64(ld->node, 1, nodeno);
    sqlite3_bind_blob(ld->node, 2, ld->blob, ld->node_size, SQLITE_STATIC);
    return step(ld, ld->node);
}

static enum om_status prepare(struct loader *ld, const char *rtree,
                              const char *suffix, const char *cols, int rows,
                              sqlite3_stmt **st)
{
    struct om__buf b;
    om__buf_init(&b, 0);
    /* node 1 exists already (the empty root); OR FAIL: no statement
     * journal for the statements of many rows (the caller's transaction
     * is rolled back on any failure) */
    enum om_status s = om__buf_puts(&b, strcmp(suffix, "_node") == 0
                                            ? "INSERT OR REPLACE INTO "
                                            : "INSERT OR FAIL INTO ");
    if (s == OM_OK) {
        s = om__buf_printf(&b, "\"%s%s\" %s VALUES (?, ?)", rtree, suffix,
                           cols);
    }
    for (int i = 1; s == OM_OK && i < rows; i++) {
        s = om__buf_puts(&b, ", (?, ?)");
    }
    if (s != OM_OK) {
        om__buf_deinit(&b);
        return om__enomem(ld->err, ld->path);
    }
    s = om__store_prepare(ld->db, ld->path, b.data, st, ld->err);
    om__buf_deinit(&b);
    return s;
}

static enum om_status node_size(struct loader *ld, const char *rtree)
{
    struct om__buf b;
    om__buf_init(&b, 0);
    if (om__buf_printf(&b,
                       "SELECT length(data) FROM \"%s_node\" WHERE "
                       "nodeno = 1",
                       rtree) != OM_OK) {
        om__buf_deinit(&b);
        return om__enomem(ld->err, ld->path);
    }
    sqlite3_stmt *st = NULL;
    enum om_status s =
        om__store_prepare(ld->db, ld->path, b.data, &st, ld->err);
    om__buf_deinit(&b);
    if (s != OM_OK) {
        return s;
    }
    ld->node_size =
        sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (ld->node_size < 4 + CELL_BYTES * 2 || ld->node_size > 65536) {
        return om__error(ld->err, OM_EINTERNAL, ld->path, 0, -1,
                         "unexpected rtree node size %d in %s", ld->node_size,
                         rtree);
    }
    return OM_OK;
}

/* What the index holds: items[0 .. n) (fid, box; an empty box is left
 * out), their _rowid rows written in the order of `order`'s fid ranks
 * (NULL: 0 .. n-1, fids increasing). */
struct items {
    size_t n;
    const int64_t *fid;
    const struct om_rect *bbox;
    struct om_rect extent;
    const struct om_layer *order;
};

static enum om_status bulk_load(sqlite3 *db, const char *path,
                                const char *rtree, const struct items *v,
                                struct om_error *err)
{
    struct loader ld = {db, path, NULL, NULL, NULL, NULL, NULL, 0, err};
    struct cell *level = NULL, *up = NULL;
    int64_t *leaf_of = NULL; /* leaf node of each leaf cell */
    size_t *slot = NULL;     /* leaf cell of each feature, or SIZE_MAX */
    size_t *perm = NULL;     /* the features in Hilbert order */
    uint32_t *keys = NULL;
    enum om_status s = node_size(&ld, rtree);
    if (s != OM_OK) {
        return s;
    }
    size_t fan = (size_t)(ld.node_size - 4) / CELL_BYTES;
    if (fan > MAX_CELLS) {
        fan = MAX_CELLS;
    }
    /* leaf cells: the non-empty features in Hilbert order */
    size_t n = 0;
    level = om__reallocarray(NULL, v->n ? v->n : 1, sizeof *level);
    leaf_of = om__reallocarray(NULL, v->n ? v->n : 1, sizeof *leaf_of);
    slot = om__reallocarray(NULL, v->n ? v->n : 1, sizeof *slot);
    perm = om__reallocarray(NULL, v->n ? v->n : 1, sizeof *perm);
    keys = om__reallocarray(NULL, v->n ? v->n : 1, sizeof *keys);
    ld.blob = om__malloc((size_t)ld.node_size);
    if (!level || !leaf_of || !slot || !perm || !keys || !ld.blob) {
        s = om__enomem(err, path);
        goto out;
    }
    /* a layer finished in its source order (OM_LAYER_KEEP_ORDER: an
     * import, constructed results) packs as well as a sorted one */
    om__hilbert_keys(v->bbox, v->n, v->extent, keys);
    if (!om__hilbert_order(keys, v->n, perm)) {
        s = om__enomem(err, path);
        goto out;
    }
    for (size_t i = 0; i < v->n; i++) {
        size_t f = perm[i];
        struct om_rect b = v->bbox[f];
        slot[f] = SIZE_MAX;
        if (om_rect_is_empty(b)) {
            continue;
        }
        slot[f] = n;
        level[n].id = v->fid[f];
        om__rtree_bounds(level[n].b, b.minx, b.miny, b.maxx, b.maxy);
        n++;
    }
    if (n == 0) {
        goto out; /* the empty root the virtual table made is right */
    }
    s = prepare(&ld, rtree, "_node", "(nodeno, data)", 1, &ld.node);
    if (s == OM_OK) {
        s = prepare(&ld, rtree, "_rowid", "(rowid, nodeno)", 1, &ld.rowid);
    }
    if (s == OM_OK) {
        s = prepare(&ld, rtree, "_rowid", "(rowid, nodeno)", ROWID_BATCH,
                    &ld.rowids);
    }
    if (s == OM_OK) {
        s = prepare(&ld, rtree, "_parent", "(nodeno, parentnode)", 1,
                    &ld.parent);
    }
    if (s != OM_OK) {
        goto out;
    }
    /* Levels bottom-up. Nodes are numbered from the top: the root is 1,
     * then each lower level follows; so count the levels first. */
    size_t nlevels = 1, cnt = n;
    size_t counts[64];
    counts[0] = (n + fan - 1) / fan; /* nodes in level 0 (leaves) */
    while (counts[nlevels - 1] > 1 && nlevels < 64) {
        counts[nlevels] = (counts[nlevels - 1] + fan - 1) / fan;
        nlevels++;
    }
    int64_t base[64];
    base[nlevels - 1] = 1;
    for (size_t k = nlevels - 1; k-- > 0;) {
        base[k] = base[k + 1] + (int64_t)counts[k + 1];
    }
    int depth = (int)nlevels - 1;
    for (size_t k = 0; k < nlevels && s == OM_OK; k++) {
        size_t nodes = counts[k];
        up = om__reallocarray(NULL, nodes, sizeof *up);
        if (!up) {
            s = om__enomem(err, path);
            break;
        }
        for (size_t j = 0; j < nodes && s == OM_OK; j++) {
            size_t a = j * fan, b = a + fan < cnt ? a + fan : cnt;
            int64_t nodeno = base[k] + (int64_t)j;
            struct cell *u = &up[j];
            u->id = nodeno;
            u->b[0] = u->b[2] = INFINITY;
            u->b[1] = u->b[3] = -INFINITY;
            for (size_t i = a; i < b; i++) {
                u->b[0] = fminf(u->b[0], level[i].b[0]);
                u->b[1] = fmaxf(u->b[1], level[i].b[1]);
                u->b[2] = fminf(u->b[2], level[i].b[2]);
                u->b[3] = fmaxf(u->b[3], level[i].b[3]);
                if (k == 0) {
                    leaf_of[i] = nodeno;
                    continue;
                }
                sqlite3_bind_int64(ld.parent, 1, level[i].id);
                sqlite3_bind_int64(ld.parent, 2, nodeno);
                s = step(&ld, ld.parent);
                if (s != OM_OK) {
                    break;
                }
            }
            if (s == OM_OK) {
                s = write_node(&ld, nodeno, level + a, b - a,
                               k == nlevels - 1 ? depth : 0);
            }
        }
        om__free(level);
        level = up;
        up = NULL;
        cnt = nodes;
    }
    /* _rowid in fid order: appends to a fresh B-tree instead of random
     * inserts; many rows per statement, which halves the cost. */
    int64_t pend[2 * ROWID_BATCH];
    int np = 0;
    for (size_t r = 0; s == OM_OK && r < v->n; r++) {
        size_t f = v->order ? om_layer_feature_by_fid_rank(v->order, r) : r;
        if (slot[f] == SIZE_MAX) {
            continue;
        }
        pend[2 * np] = v->fid[f];
        pend[2 * np + 1] = leaf_of[slot[f]];
        if (++np == ROWID_BATCH) {
            for (int i = 0; i < 2 * ROWID_BATCH; i++) {
                sqlite3_bind_int64(ld.rowids, i + 1, pend[i]);
            }
            s = step(&ld, ld.rowids);
            np = 0;
        }
    }
    for (int i = 0; s == OM_OK && i < np; i++) {
        sqlite3_bind_int64(ld.rowid, 1, pend[2 * i]);
        sqlite3_bind_int64(ld.rowid, 2, pend[2 * i + 1]);
        s = step(&ld, ld.rowid);
    }
out:
    sqlite3_finalize(ld.node);
    sqlite3_finalize(ld.rowid);
    sqlite3_finalize(ld.rowids);
    sqlite3_finalize(ld.parent);
    om__free(ld.blob);
    om__free(level);
    om__free(up);
    om__free(leaf_of);
    om__free(slot);
    om__free(perm);
    om__free(keys);
    return s;
}

enum om_status om__store_rtree_bulk(sqlite3 *db, const char *path,
                                    const char *rtree,
                                    const struct om_layer *layer,
                                    struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(layer, &v);
    /* a feature without parts has an empty box (om_layer_begin_feature) */
    struct items it = {v.nfeatures, v.fid, v.bbox, om_layer_extent(layer),
                       layer};
    return bulk_load(db, path, rtree, &it, err);
}

enum om_status om__store_rtree_bulk_boxes(sqlite3 *db, const char *path,
                                          const char *rtree, size_t n,
                                          const int64_t *fid,
                                          const struct om_rect *bbox,
                                          struct om_rect extent,
                                          struct om_error *err)
{
    struct items it = {n, fid, bbox, extent, NULL};
    return bulk_load(db, path, rtree, &it, err);
}
