/*
 * test_import_stream.c — the streamed import (store/stream.h): a
 * GeoPackage in the project's CRS is read in chunks while they are written
 * and checked. The project it writes must be the one the import of the
 * whole layer writes (om__import_stream = 0): the same rows, index,
 * catalogue counts and issues; and a failure anywhere (a bad blob, a
 * cancel, a failed allocation on any thread) must leave nothing written.
 */
#include "onemap/import.h"
#include "onemap/layer.h"
#include "onemap/store.h"
#include "store/store_int.h"
#include "store/stream.h"
#include "test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", test_tmpdir(), name);
    return buf;
}

/*
 * n features with fids 7, 10, 13...: squares of varying size, every 10th
 * with a hole, every 97th a bow tie (invalid), every 50th from the 25th
 * without geometry, every 7th a two-part multipolygon; a text field
 * (Chinese, NULL every 13th), an integer and a real.
 */
static struct om_layer *source_layer(size_t n)
{
    struct om_error err;
    struct om_layer *l = NULL;
    bool ok =
        om_layer_new("SRC", &l, &err) == OM_OK &&
        om_layer_set_crs(l, "EPSG:4530", &err) == OM_OK &&
        om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, NULL, &err) == OM_OK &&
        om_layer_add_field(l, "N", OM_FIELD_INT, NULL, &err) == OM_OK &&
        om_layer_add_field(l, "A", OM_FIELD_REAL, NULL, &err) == OM_OK;
    for (size_t i = 0; ok && i < n; i++) {
        double x = 42500000.0 + (double)(i % 100) * 100.0;
        double y = 4000000.0 + (double)(i / 100) * 100.0;
        double s = 20.0 + (double)(i % 17) * 3.5;
        ok = om_layer_begin_feature(l, (int64_t)(7 + 3 * i), &err) == OM_OK;
        if (ok && i % 50 != 25) {
            double sq[] = {x, y, x + s, y, x + s, y + s, x, y + s, x, y};
            double hole[] = {x + 5,  y + 5,  x + 5, y + 10, x + 10,
                             y + 10, x + 10, y + 5, x + 5,  y + 5};
            double bow[] = {x, y, x + s, y + s, x + s, y, x, y + s, x, y};
            ok = om_layer_begin_part(l, &err) == OM_OK &&
                 om_layer_add_ring(l, i % 97 == 3 ? bow : sq, 5, &err) == OM_OK;
            if (ok && i % 10 == 0 && i % 97 != 3) {
                ok = om_layer_add_ring(l, hole, 5, &err) == OM_OK;
            }
            if (ok && i % 7 == 1) {
                double far[] = {x + 90, y + 90, x + 95, y + 90,
                                x + 95, y + 95, x + 90, y + 90};
                ok = om_layer_begin_part(l, &err) == OM_OK &&
                     om_layer_add_ring(l, far, 4, &err) == OM_OK;
            }
        }
        char text[32];
        snprintf(text, sizeof text, "%s%03zu", i % 2 ? "水田" : "0101",
                 i % 300);
        if (ok && i % 13 != 0) {
            ok = om_layer_set_text(l, 0, text, &err) == OM_OK;
        }
        ok = ok &&
             om_layer_set_int(l, 1, (int64_t)i * 1000003, &err) == OM_OK &&
             om_layer_set_real(l, 2, (double)i / 7.0, &err) == OM_OK &&
             om_layer_end_feature(l, &err) == OM_OK;
    }
    ok = ok && om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err) == OM_OK;
    if (!ok) {
        printf("source layer: %s\n", err.msg);
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* A GeoPackage (a project) holding the source layer as table SRC_v1. */
static bool make_source(const char *path, size_t n)
{
    struct om_error err;
    struct om_project *p = NULL;
    struct om_layer *l = source_layer(n);
    remove(path);
    bool ok = l && om_project_create(path, "EPSG:4530", &p, &err) == OM_OK;
    if (ok) {
        struct om_import_meta meta = {0};
        meta.code = "SRC";
        ok = om_project_import(p, l, &meta, NULL, NULL, &err) == OM_OK;
    }
    if (!ok) {
        printf("%s: %s\n", path, err.msg);
    }
    om_layer_free(l);
    om_project_close(p);
    return ok;
}

/* Run SQL on a GeoPackage (outside the library); false on failure. */
static bool sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    /* the functions of the GeoPackage's R-tree triggers */
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              om__store_register_functions(db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    if (!ok) {
        printf("%s: %s: %s\n", path, sql, db ? sqlite3_errmsg(db) : "?");
    }
    sqlite3_close(db);
    return ok;
}

/* Append n bytes to the growing text b (len, cap); false out of memory. */
static bool append(char **b, size_t *len, size_t *cap, const void *s, size_t n)
{
    while (*len + n + 2 >= *cap) {
        char *nb = realloc(*b, *cap * 2);
        if (!nb) {
            return false;
        }
        *b = nb;
        *cap *= 2;
    }
    memcpy(*b + *len, s, n);
    *len += n;
    return true;
}

/* Every row of a query, as text, into *out (cells ended by '|', rows by
 * a newline; a blob as its length and a checksum). */
static bool sql_dump(const char *path, const char *sql, char **out)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    size_t len = 0, cap = 1 << 16;
    char *b = malloc(cap);
    bool ok =
        b &&
        sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
    int rc = SQLITE_DONE;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; ok && c < sqlite3_column_count(st); c++) {
            int n = sqlite3_column_bytes(st, c);
            if (sqlite3_column_type(st, c) == SQLITE_BLOB) {
                const unsigned char *bl = sqlite3_column_blob(st, c);
                unsigned long h = 5381;
                for (int k = 0; k < n; k++) {
                    h = h * 33 + bl[k];
                }
                char hb[48];
                int hn = snprintf(hb, sizeof hb, "blob:%d:%lx", n, h);
                ok = append(&b, &len, &cap, hb, (size_t)hn);
            } else if (sqlite3_column_type(st, c) == SQLITE_NULL) {
                ok = append(&b, &len, &cap, "<null>", 6);
            } else {
                ok = append(&b, &len, &cap, sqlite3_column_text(st, c),
                            (size_t)n);
            }
            ok = ok && append(&b, &len, &cap, "|", 1);
        }
        ok = ok && append(&b, &len, &cap, "\n", 1);
    }
    if (ok && rc != SQLITE_DONE) {
        ok = false;
    }
    if (!ok) {
        printf("%s: %s: %s\n", path, sql, db ? sqlite3_errmsg(db) : "?");
        free(b);
        b = NULL;
    } else {
        b[len] = '\0';
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    *out = b;
    return ok;
}

/* Threads of the validity check (the streamed import checks whole chunks
 * on each, merged in chunk order). */
static int import_threads = 2;

/* Import `src` (table SRC_v1) into a new project `dst` as code T. */
static enum om_status import_into(const char *dst, const char *src, bool stream,
                                  struct om_import_report *rep,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    struct om_project *p = NULL;
    remove(dst);
    enum om_status st = om_project_create(dst, "EPSG:4530", &p, err);
    if (st != OM_OK) {
        return st;
    }
    struct om_import_options o = {0};
    o.code = "T";
    o.layer = "SRC_v1";
    o.code_field = "DLBM";
    o.threads = import_threads;
    om__import_stream = stream ? 1 : 0;
    unsigned long opened = om__imports_streamed;
    st = om_import_file(p, src, &o, rep, progress, err);
    om__import_stream = 1;
    /* the path asked for was taken */
    if (st == OM_OK && om__imports_streamed - opened != (stream ? 1u : 0u)) {
        snprintf(err->msg, sizeof err->msg, "%s: the import was %sstreamed",
                 dst, stream ? "not " : "");
        st = OM_EINTERNAL;
    }
    om_project_close(p);
    return st;
}

static const char *const SAME_QUERIES[] = {
    "SELECT * FROM T_v1 ORDER BY fid",
    "SELECT * FROM rtree_T_v1_geom_node ORDER BY nodeno",
    "SELECT * FROM rtree_T_v1_geom_rowid ORDER BY rowid",
    "SELECT * FROM rtree_T_v1_geom_parent ORDER BY nodeno",
    "SELECT code, version, role, is_current, table_name, nfeatures, nempty, "
    "ninvalid, nrepaired, crs, source_layer, sha256, params, code_field, "
    "min_x, min_y, max_x, max_y FROM om_layers",
    "SELECT rowid, * FROM om_feature_issues ORDER BY rowid",
    "SELECT table_name, data_type, min_x, min_y, max_x, max_y, srs_id FROM "
    "gpkg_contents ORDER BY table_name",
    "SELECT version, source, message FROM om_import_log",
    "SELECT rtreecheck('rtree_T_v1_geom')",
};

/* The two projects hold the same layer T, field by field. */
static void check_same(const char *a, const char *b)
{
    for (size_t q = 0; q < sizeof SAME_QUERIES / sizeof *SAME_QUERIES; q++) {
        char *x = NULL, *y = NULL;
        CHECK(sql_dump(a, SAME_QUERIES[q], &x));
        CHECK(sql_dump(b, SAME_QUERIES[q], &y));
        if (x && y && strcmp(x, y) != 0) {
            FAILF("query '%s' differs (%zu and %zu bytes)", SAME_QUERIES[q],
                  strlen(x), strlen(y));
        }
        free(x);
        free(y);
    }
}

static size_t chunk_rows_default;

/* Streamed and whole, for several chunk sizes: the same project. */
TEST(test_stream_same_as_whole)
{
    char src[512], whole[512], streamed[512];
    tmp_path("src.gpkg", src, sizeof src);
    tmp_path("whole.gpkg", whole, sizeof whole);
    tmp_path("streamed.gpkg", streamed, sizeof streamed);
    CHECK(make_source(src, 3000));
    struct om_error err;
    struct om_import_report rw, rs;
    CHECK_OK(import_into(whole, src, false, &rw, NULL, &err), &err);
    CHECK_INT(rw.nfeatures, 3000);
    CHECK_INT(rw.nempty, 60);
    CHECK_INT(rw.ninvalid, 30); /* one of the 31 bow ties is empty */
    CHECK_CONTAINS(rw.first_invalid, "fid 16:");
    static const size_t sizes[] = {1, 7, 64, 2048, 100000};
    static const int threads[] = {2, 1, 5};
    for (size_t k = 0; k < 3 * sizeof sizes / sizeof *sizes; k++) {
        om__gpkg_stream_chunk_rows = sizes[k % (sizeof sizes / sizeof *sizes)];
        import_threads = threads[k / (sizeof sizes / sizeof *sizes)];
        memset(&rs, 0xff, sizeof rs);
        CHECK_OK(import_into(streamed, src, true, &rs, NULL, &err), &err);
        CHECK_INT(rs.nfeatures, rw.nfeatures);
        CHECK_INT(rs.nempty, rw.nempty);
        CHECK_INT(rs.ninvalid, rw.ninvalid);
        CHECK_INT(rs.nrepaired, 0);
        CHECK_INT(rs.version, 1);
        CHECK_STR(rs.first_invalid, rw.first_invalid);
        CHECK_STR(rs.src_crs, "EPSG:4530");
        CHECK_STR(rs.dst_crs, "EPSG:4530");
        CHECK_STR(rs.code, "T");
        check_same(whole, streamed);
    }
    om__gpkg_stream_chunk_rows = chunk_rows_default;
    import_threads = 2;
}

/* A source without rows, and one whose rows are all empty geometries. */
TEST(test_stream_empty)
{
    char src[512], whole[512], streamed[512];
    tmp_path("src0.gpkg", src, sizeof src);
    tmp_path("whole0.gpkg", whole, sizeof whole);
    tmp_path("streamed0.gpkg", streamed, sizeof streamed);
    struct om_error err;
    struct om_import_report rw, rs;
    CHECK(make_source(src, 40));
    CHECK(sql_exec(src, "DELETE FROM SRC_v1"));
    CHECK_OK(import_into(whole, src, false, &rw, NULL, &err), &err);
    CHECK_OK(import_into(streamed, src, true, &rs, NULL, &err), &err);
    CHECK_INT(rs.nfeatures, 0);
    check_same(whole, streamed);
    CHECK(make_source(src, 40));
    CHECK(sql_exec(src, "UPDATE SRC_v1 SET geom = NULL"));
    om__gpkg_stream_chunk_rows = 3;
    CHECK_OK(import_into(whole, src, false, &rw, NULL, &err), &err);
    CHECK_OK(import_into(streamed, src, true, &rs, NULL, &err), &err);
    om__gpkg_stream_chunk_rows = chunk_rows_default;
    CHECK_INT(rs.nfeatures, 40);
    CHECK_INT(rs.nempty, 40);
    check_same(whole, streamed);
}

/* Nothing of layer T in the project: no table, no catalogue row. */
static void check_nothing_written(const char *path)
{
    char *x = NULL;
    CHECK(sql_dump(path,
                   "SELECT (SELECT count(*) FROM om_layers), (SELECT count(*) "
                   "FROM sqlite_master WHERE name LIKE '%T_v1%'), (SELECT "
                   "count(*) FROM om_feature_issues)",
                   &x));
    if (x) {
        CHECK_STR(x, "0|0|0|\n");
    }
    free(x);
}

/* A bad blob in the middle of the source: the error names the file and
 * the fid, as the whole layer's does, and nothing is written. */
TEST(test_stream_bad_blob)
{
    char src[512], whole[512], streamed[512];
    tmp_path("srcbad.gpkg", src, sizeof src);
    tmp_path("wholebad.gpkg", whole, sizeof whole);
    tmp_path("streamedbad.gpkg", streamed, sizeof streamed);
    CHECK(make_source(src, 500));
    /* fid 1003 is the 333rd row */
    CHECK(sql_exec(src, "UPDATE SRC_v1 SET geom = x'4750000100000000ffff' "
                        "WHERE fid = 1003"));
    struct om_error ew, es;
    struct om_import_report rw, rs;
    enum om_status sw = import_into(whole, src, false, &rw, NULL, &ew);
    for (size_t rows = 1; rows <= 1000; rows *= 10) {
        om__gpkg_stream_chunk_rows = rows;
        enum om_status ss = import_into(streamed, src, true, &rs, NULL, &es);
        CHECK(sw != OM_OK);
        CHECK_INT(ss, sw);
        CHECK_STR(es.msg, ew.msg);
        CHECK_INT(es.feature, 1003);
        CHECK_CONTAINS(es.source, "srcbad.gpkg");
        CHECK_INT(es.feature, ew.feature);
        check_nothing_written(streamed);
    }
    om__gpkg_stream_chunk_rows = chunk_rows_default;
}

/* Two features with one fid (a view over the table and itself). */
TEST(test_stream_duplicate_fid)
{
    char src[512], dst[512];
    tmp_path("srcdup.gpkg", src, sizeof src);
    tmp_path("dstdup.gpkg", dst, sizeof dst);
    CHECK(make_source(src, 30));
    CHECK(sql_exec(src, "CREATE VIEW DUP AS SELECT * FROM SRC_v1 UNION ALL "
                        "SELECT * FROM SRC_v1 WHERE fid = 40; INSERT INTO "
                        "gpkg_contents (table_name, data_type, identifier, "
                        "srs_id) VALUES ('DUP', 'features', 'DUP', 4530); "
                        "INSERT INTO gpkg_geometry_columns VALUES ('DUP', "
                        "'geom', 'MULTIPOLYGON', 4530, 0, 0)"));
    struct om_project *p = NULL;
    struct om_error err;
    remove(dst);
    CHECK_OK(om_project_create(dst, "EPSG:4530", &p, &err), &err);
    struct om_import_options o = {0};
    o.code = "T";
    o.layer = "DUP";
    struct om_import_report rep;
    om__gpkg_stream_chunk_rows = 4;
    CHECK_STATUS(om_import_file(p, src, &o, &rep, NULL, &err), OM_ESTORE);
    om__gpkg_stream_chunk_rows = chunk_rows_default;
    CHECK_CONTAINS(err.msg, "two features with fid 40");
    om_project_close(p);
    check_nothing_written(dst);
}

/* A table of the project itself is not streamed (the reading's lock
 * would keep the import from committing): imported all the same. */
TEST(test_stream_own_table)
{
    char src[512];
    tmp_path("own.gpkg", src, sizeof src);
    CHECK(make_source(src, 100));
    struct om_project *p = NULL;
    struct om_error err;
    CHECK_OK(om_project_open(src, false, &p, &err), &err);
    struct om_import_options o = {0};
    o.code = "T";
    o.layer = "SRC_v1";
    struct om_import_report rep;
    unsigned long streamed = om__imports_streamed;
    CHECK_OK(om_import_file(p, src, &o, &rep, NULL, &err), &err);
    CHECK_INT(om__imports_streamed, streamed);
    CHECK_INT(rep.nfeatures, 100);
    om_project_close(p);
}

static void cancel_after(void *ctx, const char *phase, uint64_t done,
                         uint64_t total)
{
    (void)total;
    volatile int *cancel = ctx;
    if (strcmp(phase, "writing") == 0 && done >= 1000) {
        *cancel = 1;
    }
}

/* Canceled while writing: OM_ECANCELED, nothing written. */
TEST(test_stream_cancel)
{
    char src[512], dst[512];
    tmp_path("srccan.gpkg", src, sizeof src);
    tmp_path("dstcan.gpkg", dst, sizeof dst);
    CHECK(make_source(src, 3000));
    volatile int cancel = 0;
    struct om_progress pr = {cancel_after, (void *)&cancel, &cancel};
    struct om_error err;
    struct om_import_report rep;
    om__gpkg_stream_chunk_rows = 100;
    CHECK_STATUS(import_into(dst, src, true, &rep, &pr, &err), OM_ECANCELED);
    om__gpkg_stream_chunk_rows = chunk_rows_default;
    CHECK(cancel == 1);
    check_nothing_written(dst);
}

/* Every allocation failing in turn, on whichever thread makes it: an
 * error (never a crash, never a leak), and nothing written. */
TEST(test_stream_out_of_memory)
{
    char src[512], dst[512];
    tmp_path("srcoom.gpkg", src, sizeof src);
    tmp_path("dstoom.gpkg", dst, sizeof dst);
    CHECK(make_source(src, 200));
    om__gpkg_stream_chunk_rows = 16;
    int i;
    for (i = 0; i < 5000; i++) {
        struct om_project *p = NULL;
        struct om_error err;
        remove(dst);
        long before = test_live_allocs_;
        CHECK_OK(om_project_create(dst, "EPSG:4530", &p, &err), &err);
        if (!p) {
            break;
        }
        struct om_import_options o = {0};
        o.code = "T";
        o.layer = "SRC_v1";
        struct om_import_report rep;
        test_fail_allocs_after(i);
        enum om_status st = om_import_file(p, src, &o, &rep, NULL, &err);
        test_fail_after_ = -1;
        om_project_close(p);
        if (test_live_allocs_ != before) {
            FAILF("leak after failing allocation %d", i);
            break;
        }
        if (st == OM_OK) {
            CHECK_INT(rep.nfeatures, 200);
            break;
        }
        check_nothing_written(dst);
        if (test_failed_) {
            printf("allocation %d: %s\n", i, err.msg);
            break;
        }
    }
    om__gpkg_stream_chunk_rows = chunk_rows_default;
    printf("# the import succeeded once %d allocations had failed\n", i);
    CHECK(i > 10 && i < 5000);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_import_stream");
    chunk_rows_default = om__gpkg_stream_chunk_rows;
    RUN(test_stream_same_as_whole);
    RUN(test_stream_empty);
    RUN(test_stream_bad_blob);
    RUN(test_stream_duplicate_fid);
    RUN(test_stream_own_table);
    RUN(test_stream_cancel);
    RUN(test_stream_out_of_memory);
    TEST_MAIN_END();
}
