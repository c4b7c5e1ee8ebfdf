/*
 * store_sql.c — the SQL functions the GeoPackage RTree triggers call
 * (ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY), registered on every
 * onemap connection so that rows changed through onemap keep the spatial
 * index right. GDAL and QGIS register their own on their connections.
 */
#include "geom/layer_int.h"
#include "geom/wkb.h"
#include "store/store_int.h"

#include <math.h>

enum which { IS_EMPTY, MIN_X, MAX_X, MIN_Y, MAX_Y };

static void st_func(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    enum which w = (enum which)(intptr_t)sqlite3_user_data(ctx);
    if (sqlite3_value_type(argv[0]) != SQLITE_BLOB) {
        sqlite3_result_null(ctx);
        return;
    }
    const uint8_t *p = sqlite3_value_blob(argv[0]);
    size_t n = (size_t)sqlite3_value_bytes(argv[0]);
    struct om__wkb_reader r = {0};
    struct om_rect env;
    bool empty;
    enum om_status st = om__gpkg_envelope(&r, p, n, &env, &empty, NULL);
    om__wkb_reader_deinit(&r);
    if (st != OM_OK) {
        if (st == OM_ENOMEM) {
            sqlite3_result_error_nomem(ctx);
        } else {
            sqlite3_result_null(ctx);
        }
        return;
    }
    if (w == IS_EMPTY) {
        sqlite3_result_int(ctx, empty);
        return;
    }
    if (empty) {
        sqlite3_result_null(ctx);
        return;
    }
    double v = w == MIN_X   ? env.minx
               : w == MAX_X ? env.maxx
               : w == MIN_Y ? env.miny
                            : env.maxy;
    sqlite3_result_double(ctx, v);
}

int om__store_register_functions(sqlite3 *db)
{
    static const struct {
        const char *name;
        enum which w;
    } fns[] = {{"ST_IsEmpty", IS_EMPTY},
               {"ST_MinX", MIN_X},
               {"ST_MaxX", MAX_X},
               {"ST_MinY", MIN_Y},
               {"ST_MaxY", MAX_Y}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        int rc = sqlite3_create_function(
            db, fns[i].name, 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
            (void *)(intptr_t)fns[i].w, st_func, NULL, NULL);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    return SQLITE_OK;
}

/* ---- shared by the layer writers (store_import.c, store_runs.c) ---- */

enum om_status om__store_rtree_triggers_sql(struct om__buf *b,
                                            const char *table,
                                            const char *rtree)
{
    static const char *const tmpl[] = {
        "CREATE TRIGGER \"%R_insert\" AFTER INSERT ON \"%T\" "
        "WHEN (new.\"geom\" NOT NULL AND NOT ST_IsEmpty(NEW.\"geom\")) "
        "BEGIN INSERT OR REPLACE INTO \"%R\" VALUES (NEW.\"fid\", "
        "ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"), "
        "ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;",
        "CREATE TRIGGER \"%R_update1\" AFTER UPDATE OF \"geom\" ON \"%T\" "
        "WHEN OLD.\"fid\" = NEW.\"fid\" AND (NEW.\"geom\" NOTNULL AND NOT "
        "ST_IsEmpty(NEW.\"geom\")) BEGIN INSERT OR REPLACE INTO \"%R\" "
        "VALUES (NEW.\"fid\", ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"), "
        "ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;",
        "CREATE TRIGGER \"%R_update2\" AFTER UPDATE OF \"geom\" ON \"%T\" "
        "WHEN OLD.\"fid\" = NEW.\"fid\" AND (NEW.\"geom\" ISNULL OR "
        "ST_IsEmpty(NEW.\"geom\")) BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"fid\"; END;",
        "CREATE TRIGGER \"%R_update3\" AFTER UPDATE ON \"%T\" "
        "WHEN OLD.\"fid\" != NEW.\"fid\" AND (NEW.\"geom\" NOTNULL AND NOT "
        "ST_IsEmpty(NEW.\"geom\")) BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"fid\"; INSERT OR REPLACE INTO \"%R\" VALUES (NEW.\"fid\", "
        "ST_MinX(NEW.\"geom\"), ST_MaxX(NEW.\"geom\"), "
        "ST_MinY(NEW.\"geom\"), ST_MaxY(NEW.\"geom\")); END;",
        "CREATE TRIGGER \"%R_update4\" AFTER UPDATE ON \"%T\" "
        "WHEN OLD.\"fid\" != NEW.\"fid\" AND (NEW.\"geom\" ISNULL OR "
        "ST_IsEmpty(NEW.\"geom\")) BEGIN DELETE FROM \"%R\" WHERE id IN "
        "(OLD.\"fid\", NEW.\"fid\"); END;",
        "CREATE TRIGGER \"%R_delete\" AFTER DELETE ON \"%T\" "
        "WHEN old.\"geom\" NOT NULL BEGIN DELETE FROM \"%R\" WHERE id = "
        "OLD.\"fid\"; END;",
    };
    /* Table names are [A-Za-z0-9_] (checked by the callers), so no
     * quoting is needed inside the quotes. */
    enum om_status st = OM_OK;
    for (size_t i = 0; st == OM_OK && i < sizeof tmpl / sizeof tmpl[0]; i++) {
        for (const char *c = tmpl[i]; st == OM_OK && *c; c++) {
            if (c[0] == '%' && c[1] == 'R') {
                st = om__buf_puts(b, rtree);
                c++;
            } else if (c[0] == '%' && c[1] == 'T') {
                st = om__buf_puts(b, table);
                c++;
            } else {
                st = om__buf_append(b, c, 1);
            }
        }
    }
    return st;
}

static void bind_value(sqlite3_stmt *ins, int k, const struct om__value *v)
{
    if (v->null || (v->type == OM_FIELD_REAL && isnan(v->d))) {
        sqlite3_bind_null(ins, k);
    } else if (v->type == OM_FIELD_INT) {
        sqlite3_bind_int64(ins, k, v->i);
    } else if (v->type == OM_FIELD_REAL) {
        sqlite3_bind_double(ins, k, v->d);
    } else {
        /* the layer outlives the statement step */
        sqlite3_bind_text(ins, k, v->s, -1, SQLITE_STATIC);
    }
}

void om__store_bind_feature(const struct om_layer *l, int64_t fid,
                            const struct om__bytes *blob, bool blob_kept,
                            size_t f, sqlite3_stmt *ins, int k)
{
    sqlite3_bind_int64(ins, k++, fid);
    sqlite3_bind_blob(ins, k++, blob->data, (int)blob->len,
                      blob_kept ? SQLITE_STATIC : SQLITE_TRANSIENT);
    enum { MANY = 64 };
    size_t nfields = om_layer_nfields(l);
    if (nfields <= MANY) {
        struct om__value v[MANY];
        om__layer_values(l, f, v);
        for (size_t c = 0; c < nfields; c++) {
            bind_value(ins, k + (int)c, &v[c]);
        }
        return;
    }
    for (size_t c = 0; c < nfields; c++) { /* a very wide table */
        int fi = (int)c;
        struct om__value v = {
            om_layer_field_type(l, fi), om_layer_is_null(l, f, fi),
            om_layer_get_int(l, f, fi), om_layer_get_real(l, f, fi),
            om_layer_get_text(l, f, fi)};
        bind_value(ins, k + (int)c, &v);
    }
}
