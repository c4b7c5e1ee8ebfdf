/*
 * store_sql.c — the SQL functions the GeoPackage RTree triggers call
 * (ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY, ST_MaxY), registered on every
 * onemap connection so that rows changed through onemap keep the spatial
 * index right. GDAL and QGIS register their own on their connections.
 */
#include "geom/wkb.h"
#include "store/store_int.h"

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
