/*
 * test_writer.c — the streaming writer (om_writer_*): chunks into two
 * GeoPackage layers read back bit for bit (fids, NULLs, 64-bit integers,
 * R-tree present), deterministic bytes, FlatGeobuf / Shapefile / GeoJSON
 * single layers, and every error path: schema mismatch, second layer in a
 * single-layer format, existing output, reused fid, abort, cancel, and
 * allocation failures — each leaving no output behind.
 *
 * Oracle: om_source_read of the written file (GDAL's readers), and
 * `ogrinfo` for the R-tree row count when it is on PATH.
 */
#include "test.h"

#include "onemap/io.h"
#include "onemap/layer.h"

#include <stdbool.h>
#include <sys/stat.h>

/* ---- helpers ---- */

static void tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", test_tmpdir(), name);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

enum { F_ID, F_CODE, F_AREA, F_NAME };

/*
 * A chunk of `n` features with fids fid0, fid0 + step, ...: a square with
 * awkward decimals, a hole in every third, a second part in every fifth,
 * no geometry in every seventh when `empties`. Fields ID (unique int),
 * CODE (int beyond 2^31, NULL in every fourth), AREA (real, NULL in every
 * sixth), NAME (text, NULL in every fifth). `shift` moves the fields: an
 * extra leading text field when 1, CODE as REAL when 2 (schema mismatch).
 */
static enum om_status make_chunk(int64_t fid0, int64_t step, size_t n,
                                 bool empties, int shift, struct om_layer **out,
                                 struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("chunk", &l, err);
    if (st == OM_OK && shift == 1) {
        st = om_layer_add_field(l, "EXTRA", OM_FIELD_TEXT, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(l, "ID", OM_FIELD_INT, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(
            l, "CODE", shift == 2 ? OM_FIELD_REAL : OM_FIELD_INT, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(l, "AREA", OM_FIELD_REAL, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_add_field(l, "NAME", OM_FIELD_TEXT, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    int o = shift == 1 ? 1 : 0;
    for (size_t k = 0; k < n && st == OM_OK; k++) {
        int64_t fid = fid0 + step * (int64_t)k;
        double x0 = 41500000.123456789 + 1000.1 * (double)fid;
        double y0 = 4800000.987654321 + 0.1 / (double)(k + 3);
        double shell[] = {x0,       y0, x0 + 900, y0, x0 + 900,
                          y0 + 900, x0, y0 + 900, x0, y0};
        double hole[] = {x0 + 100, y0 + 100, x0 + 100, y0 + 200,
                         x0 + 200, y0 + 200, x0 + 100, y0 + 100};
        double far[] = {x0,      y0 + 2000, x0 + 50, y0 + 2000,
                        x0 + 50, y0 + 2050, x0,      y0 + 2000};
        st = om_layer_begin_feature(l, fid, err);
        if (st == OM_OK && !(empties && fid % 7 == 0)) {
            st = om_layer_begin_part(l, err);
            if (st == OM_OK) {
                st = om_layer_add_ring(l, shell, 5, err);
            }
            if (st == OM_OK && fid % 3 == 0) {
                st = om_layer_add_ring(l, hole, 4, err);
            }
            if (st == OM_OK && fid % 5 == 0) {
                st = om_layer_begin_part(l, err);
                if (st == OM_OK) {
                    st = om_layer_add_ring(l, far, 4, err);
                }
            }
        }
        if (st == OM_OK && shift == 1) {
            st = om_layer_set_text(l, 0, "x", err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(l, o + F_ID, fid, err);
        }
        if (st == OM_OK && fid % 4 != 0) {
            if (shift == 2) {
                st = om_layer_set_real(l, F_CODE, 1.5, err);
            } else {
                st = om_layer_set_int(
                    l, o + F_CODE,
                    (fid % 2 ? -1 : 1) * (5000000000LL + fid * 7919), err);
            }
        }
        if (st == OM_OK && fid % 6 != 0) {
            st = om_layer_set_real(l, o + F_AREA, 0.1 + 1.0 / (double)(fid + 3),
                                   err);
        }
        if (st == OM_OK && fid % 5 != 0) {
            st = om_layer_set_text(
                l, o + F_NAME, fid % 2 ? "城镇开发边界" : "a,b 'q' \"r\"", err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

/*
 * Relative tolerance of REAL attributes: 0, but GDAL's GeoJSON writer trims
 * "noise" digits (0.30000000000000004 -> 0.3, as om_layer_write says).
 */
static double real_rel_;

/* Same geometry (bit for bit) and attributes (exact, NULLs too). */
static bool same_feature(const struct om_layer *a, size_t fa,
                         const struct om_layer *b, size_t fb, char *why,
                         size_t size)
{
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    size_t pa = va.part_start[fa], pb = vb.part_start[fb];
    size_t np = va.part_start[fa + 1] - pa;
    if (vb.part_start[fb + 1] - pb != np) {
        snprintf(why, size, "fid %lld: %zu parts vs %zu", (long long)va.fid[fa],
                 np, vb.part_start[fb + 1] - pb);
        return false;
    }
    for (size_t k = 0; k < np; k++) {
        size_t ra = va.ring_start[pa + k], rb = vb.ring_start[pb + k];
        size_t nr = va.ring_start[pa + k + 1] - ra;
        if (vb.ring_start[pb + k + 1] - rb != nr) {
            snprintf(why, size, "fid %lld: rings differ in part %zu",
                     (long long)va.fid[fa], k);
            return false;
        }
        size_t a0 = va.point_start[ra], a1 = va.point_start[ra + nr];
        size_t b0 = vb.point_start[rb], b1 = vb.point_start[rb + nr];
        if (a1 - a0 != b1 - b0 || memcmp(va.xy + 2 * a0, vb.xy + 2 * b0,
                                         2 * (a1 - a0) * sizeof(double)) != 0) {
            snprintf(why, size, "fid %lld: coordinates differ in part %zu",
                     (long long)va.fid[fa], k);
            return false;
        }
    }
    for (size_t i = 0; i < om_layer_nfields(a); i++) {
        const char *name = om_layer_field_name(a, (int)i);
        int ib = om_layer_field_index(b, name);
        char x[64], y[64];
        if (ib < 0 ||
            om_layer_field_type(b, ib) != om_layer_field_type(a, (int)i)) {
            snprintf(why, size, "field %s missing or of another type", name);
            return false;
        }
        bool na = om_layer_is_null(a, fa, (int)i);
        bool nb = om_layer_is_null(b, fb, ib);
        om_layer_format_value(a, fa, (int)i, x, sizeof x);
        om_layer_format_value(b, fb, ib, y, sizeof y);
        bool eq = strcmp(x, y) == 0;
        if (!eq && !na && !nb && om_layer_field_type(b, ib) == OM_FIELD_REAL) {
            double ra = om_layer_get_real(a, fa, (int)i);
            eq =
                fabs(ra - om_layer_get_real(b, fb, ib)) <= real_rel_ * fabs(ra);
        }
        if (na != nb || !eq) {
            snprintf(why, size, "fid %lld field %s: '%s'%s vs '%s'%s",
                     (long long)va.fid[fa], name, x, na ? " (null)" : "", y,
                     nb ? " (null)" : "");
            return false;
        }
    }
    return true;
}

/*
 * Every feature of `chunk` is in `back`: by fid when `by_fid`, else by the
 * unique ID attribute.
 */
static bool chunk_in(const struct om_layer *chunk, const struct om_layer *back,
                     bool by_fid, char *why, size_t size)
{
    size_t n = om_layer_nfeatures(chunk), nb = om_layer_nfeatures(back);
    struct om_layer_view vc;
    om_layer_view(chunk, &vc);
    int idb = om_layer_field_index(back, "ID");
    for (size_t f = 0; f < n; f++) {
        size_t g = (size_t)-1;
        if (by_fid) {
            g = om_layer_find_fid(back, vc.fid[f]);
        } else {
            for (size_t j = 0; j < nb && g == (size_t)-1; j++) {
                if (om_layer_get_int(back, j, idb) == vc.fid[f]) {
                    g = j;
                }
            }
        }
        if (g == (size_t)-1) {
            snprintf(why, size, "feature fid %lld not found",
                     (long long)vc.fid[f]);
            return false;
        }
        if (!same_feature(chunk, f, back, g, why, size)) {
            return false;
        }
    }
    return true;
}

static enum om_status read_layer(const char *path, const char *layer,
                                 struct om_layer **out, struct om_error *err)
{
    struct om_read_options o = {0};
    o.layer = layer;
    return om_source_read(path, &o, out, NULL, err);
}

static bool have_ogrinfo(void)
{
    return system("command -v ogrinfo >/dev/null 2>&1") == 0;
}

/*
 * The value of column "n" of the one-row result of `ogrinfo -sql`, as
 * text into buf ("" when there is none).
 */
static const char *ogr_value(const char *path, const char *sql, char *buf,
                             size_t size)
{
    buf[0] = '\0';
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ogrinfo -q -sql \"%s\" '%s' 2>&1", sql, path);
    FILE *p = popen(cmd, "r");
    if (!p) {
        return buf;
    }
    char line[512];
    while (fgets(line, sizeof line, p)) {
        const char *eq = strstr(line, "  n (");
        if (eq && (eq = strstr(eq, ") = "))) {
            snprintf(buf, size, "%s", eq + 4);
            buf[strcspn(buf, "\r\n")] = '\0';
        }
    }
    pclose(p);
    return buf;
}

/* `ogrinfo -sql` of a count: the number, or -1. */
static long ogr_count(const char *path, const char *sql)
{
    char buf[64];
    ogr_value(path, sql, buf, sizeof buf);
    return buf[0] ? strtol(buf, NULL, 10) : -1;
}

/* SQLite's own consistency check of the R-tree `name` says "ok". */
#define CHECK_RTREE(path, name)                                                \
    do {                                                                       \
        char rq_[256], rv_[256];                                               \
        snprintf(rq_, sizeof rq_, "SELECT rtreecheck('%s') AS n", name);       \
        CHECK_STR(ogr_value(path, rq_, rv_, sizeof rv_), "ok");                \
    } while (0)

static bool same_bytes(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa && fb;
    while (same) {
        char x[8192], y[8192];
        size_t na = fread(x, 1, sizeof x, fa), nb = fread(y, 1, sizeof y, fb);
        same = na == nb && memcmp(x, y, na) == 0;
        if (na == 0) {
            break;
        }
    }
    if (fa) {
        fclose(fa);
    }
    if (fb) {
        fclose(fb);
    }
    return same;
}

/* The chunks of the GeoPackage tests: parcels in 3 chunks, zones in 2. */
struct chunks {
    struct om_layer *p[3], *z[2];
};

static void chunks_free(struct chunks *c)
{
    for (int i = 0; i < 3; i++) {
        om_layer_free(c->p[i]);
    }
    for (int i = 0; i < 2; i++) {
        om_layer_free(c->z[i]);
    }
}

static enum om_status chunks_make(struct chunks *c, struct om_error *err)
{
    memset(c, 0, sizeof *c);
    /* fids out of order within and across chunks */
    enum om_status st = make_chunk(40, -3, 10, true, 0, &c->p[0], err);
    if (st == OM_OK) {
        st = make_chunk(100, 1, 25, true, 0, &c->p[1], err);
    }
    if (st == OM_OK) {
        st = make_chunk(0, 2, 6, true, 0, &c->p[2], err); /* 0..10 even */
    }
    if (st == OM_OK) {
        st = make_chunk(1, 1, 4, false, 0, &c->z[0], err);
    }
    if (st == OM_OK) {
        st = make_chunk(2147483648LL, 1, 3, false, 0, &c->z[1], err);
    }
    if (st == OM_OK) {
        /* the two layers differ in CRS */
        st = om_layer_set_crs(c->z[0], "EPSG:4490", err);
    }
    if (st != OM_OK) {
        chunks_free(c);
    }
    return st;
}

/* Write the chunks, interleaving the two layers, batches of `batch`. */
static enum om_status write_chunks(const char *path, const struct chunks *c,
                                   size_t batch, struct om_error *err)
{
    struct om_writer_options o = {0};
    o.batch = batch;
    o.overwrite = true;
    struct om_writer *w = NULL;
    enum om_status st = om_writer_open(path, &o, &w, err);
    if (st != OM_OK) {
        return st;
    }
    int ip = -1, iz = -1;
    st = om_writer_add_layer(w, "parcels", c->p[0], &ip, err);
    if (st == OM_OK) {
        st = om_writer_add(w, ip, c->p[0], NULL, err);
    }
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "zones", c->z[0], &iz, err);
    }
    if (st == OM_OK) {
        st = om_writer_add(w, iz, c->z[0], NULL, err);
    }
    if (st == OM_OK) {
        st = om_writer_add(w, ip, c->p[1], NULL, err);
    }
    if (st == OM_OK) {
        st = om_writer_add(w, iz, c->z[1], NULL, err);
    }
    if (st == OM_OK) {
        st = om_writer_add(w, ip, c->p[2], NULL, err);
    }
    if (st != OM_OK) {
        om_writer_abort(w);
        return st;
    }
    if (ip != 0 || iz != 1) {
        om_writer_abort(w);
        snprintf(err->msg, sizeof err->msg, "layer indexes %d %d", ip, iz);
        return OM_EINTERNAL;
    }
    return om_writer_close(w, err);
}

/* ---- GeoPackage ---- */

TEST(test_gpkg_two_layers)
{
    struct chunks c;
    struct om_error err = {0};
    CHECK_OK(chunks_make(&c, &err), &err);
    char path[1024];
    tmp_path("two.gpkg", path, sizeof path);
    /* batch 7: transactions end inside chunks and span them */
    enum om_status st = write_chunks(path, &c, 7, &err);
    if (st != OM_OK) {
        chunks_free(&c);
        CHECK_OK(st, &err);
    }
    struct om_layer *bp = NULL, *bz = NULL;
    st = read_layer(path, "parcels", &bp, &err);
    if (st == OM_OK) {
        st = read_layer(path, "zones", &bz, &err);
    }
    char why[OM_ERROR_MSG_MAX + 64] = "";
    bool ok = st == OM_OK;
    if (!ok) {
        snprintf(why, sizeof why, "read back: %.500s", err.msg);
    }
    if (ok && (om_layer_nfeatures(bp) != 41 || om_layer_nfeatures(bz) != 7)) {
        ok = false;
        snprintf(why, sizeof why, "%zu parcels, %zu zones",
                 om_layer_nfeatures(bp), om_layer_nfeatures(bz));
    }
    for (int i = 0; ok && i < 3; i++) {
        ok = chunk_in(c.p[i], bp, true, why, sizeof why);
    }
    for (int i = 0; ok && i < 2; i++) {
        ok = chunk_in(c.z[i], bz, true, why, sizeof why);
    }
    if (ok && (strcmp(om_layer_crs(bp), "EPSG:4530") != 0 ||
               strcmp(om_layer_crs(bz), "EPSG:4490") != 0)) {
        ok = false;
        snprintf(why, sizeof why, "crs %s / %s", om_layer_crs(bp),
                 om_layer_crs(bz));
    }
    om_layer_free(bp);
    om_layer_free(bz);
    chunks_free(&c);
    if (!ok) {
        FAILF("%s", why);
        return;
    }
    /* the R-tree holds every non-empty feature: not fids 0, 28, 105, 112,
     * 119 */
    if (have_ogrinfo()) {
        CHECK_INT(
            ogr_count(path, "SELECT count(*) AS n FROM rtree_parcels_geom"),
            41 - 5);
        CHECK_RTREE(path, "rtree_parcels_geom");
        CHECK_RTREE(path, "rtree_zones_geom");
        CHECK_INT(ogr_count(path, "SELECT count(*) AS n FROM "
                                  "gpkg_extensions WHERE extension_name = "
                                  "'gpkg_rtree_index'"),
                  2);
    }
}

TEST(test_gpkg_rtree_levels)
{
    /* 3000 boxes: 59 leaves under 2 inner nodes under the root (depth 2);
     * 60: two leaves under the root (depth 1) */
    struct om_layer *c[3] = {NULL, NULL, NULL}, *small = NULL;
    struct om_error err = {0};
    enum om_status st = OM_OK;
    for (int i = 0; i < 3 && st == OM_OK; i++) {
        st = make_chunk(1000 * i + 1, 1, 1000, false, 0, &c[i], &err);
    }
    if (st == OM_OK) {
        st = make_chunk(1, 1, 60, false, 0, &small, &err);
    }
    char path[1024];
    tmp_path("levels.gpkg", path, sizeof path);
    struct om_writer *w = NULL;
    int ib = -1, is = -1;
    if (st == OM_OK) {
        st = om_writer_open(path, NULL, &w, &err);
    }
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "big", c[0], &ib, &err);
        if (st == OM_OK) {
            st = om_writer_add_layer(w, "small", small, &is, &err);
        }
        for (int i = 0; i < 3 && st == OM_OK; i++) {
            st = om_writer_add(w, ib, c[i], NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_add(w, is, small, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_close(w, &err);
        } else {
            om_writer_abort(w);
        }
    }
    for (int i = 0; i < 3; i++) {
        om_layer_free(c[i]);
    }
    om_layer_free(small);
    CHECK_OK(st, &err);
    if (have_ogrinfo()) {
        CHECK_INT(ogr_count(path, "SELECT count(*) AS n FROM rtree_big_geom"),
                  3000);
        CHECK_RTREE(path, "rtree_big_geom");
        CHECK_INT(ogr_count(path, "SELECT count(*) AS n FROM rtree_small_geom"),
                  60);
        CHECK_RTREE(path, "rtree_small_geom");
        /* a window query through the index: x0 of fid k is 41500000.12 +
         * 1000.1 k, its box x0 .. x0 + 900: fids 11 .. 20 */
        CHECK_INT(ogr_count(path, "SELECT count(*) AS n FROM rtree_big_geom "
                                  "WHERE minx <= 41520500 AND maxx >= "
                                  "41511500"),
                  10);
    }
}

TEST(test_gpkg_deterministic)
{
    /* what tools/synth does to get the same bytes on every run */
    CHECK(setenv("OGR_CURRENT_DATE", "2023-12-31T00:00:00.000Z", 1) == 0);
    struct chunks c;
    struct om_error err = {0};
    CHECK_OK(chunks_make(&c, &err), &err);
    char a[1024], b[1024];
    tmp_path("det-a.gpkg", a, sizeof a);
    tmp_path("det-b.gpkg", b, sizeof b);
    enum om_status st = write_chunks(a, &c, 0, &err);
    if (st == OM_OK) {
        st = write_chunks(b, &c, 0, &err);
    }
    chunks_free(&c);
    unsetenv("OGR_CURRENT_DATE");
    CHECK_OK(st, &err);
    CHECK(same_bytes(a, b));
}

TEST(test_gpkg_duplicate_fid)
{
    struct om_layer *c1 = NULL, *c2 = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 5, false, 0, &c1, &err), &err);
    CHECK_OK(make_chunk(5, 1, 3, false, 0, &c2, &err), &err); /* 5 again */
    char path[1024];
    tmp_path("dup.gpkg", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "dup", c1, &i, &err);
    }
    if (st == OM_OK) {
        st = om_writer_add(w, i, c1, NULL, &err);
    }
    enum om_status st2 = st == OM_OK ? om_writer_add(w, i, c2, NULL, &err) : st;
    char msg[OM_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err.msg);
    int64_t feature = err.feature;
    /* only abort is left: close fails and removes the output too */
    enum om_status st3 = om_writer_close(w, &err);
    om_layer_free(c1);
    om_layer_free(c2);
    CHECK_OK(st, &err);
    CHECK_INT(st2, OM_EINVAL);
    CHECK_CONTAINS(msg, "fid 5");
    CHECK_CONTAINS(msg, "dup");
    CHECK_INT(feature, 5);
    CHECK_INT(st3, OM_EINVAL);
    CHECK_CONTAINS(err.msg, "abort");
    CHECK(!exists(path));
}

/* ---- single-layer formats ---- */

TEST(test_fgb_round_trip)
{
    struct om_layer *c1 = NULL, *c2 = NULL, *back = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 20, false, 0, &c1, &err), &err);
    CHECK_OK(make_chunk(300, -7, 9, false, 0, &c2, &err), &err);
    char path[1024];
    tmp_path("rt.fgb", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "parcels", c1, &i, &err);
        if (st == OM_OK) {
            st = om_writer_add(w, i, c1, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_add(w, i, c2, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_close(w, &err);
        } else {
            om_writer_abort(w);
        }
    }
    if (st == OM_OK) {
        st = read_layer(path, NULL, &back, &err);
    }
    char why[256] = "";
    bool ok = st == OM_OK;
    if (ok && om_layer_nfeatures(back) != 29) {
        ok = false;
        snprintf(why, sizeof why, "%zu features", om_layer_nfeatures(back));
    }
    /* Hilbert order, no fids: matched on ID */
    if (ok) {
        ok = chunk_in(c1, back, false, why, sizeof why) &&
             chunk_in(c2, back, false, why, sizeof why);
    }
    if (ok && strcmp(om_layer_crs(back), "EPSG:4530") != 0) {
        ok = false;
        snprintf(why, sizeof why, "crs %s", om_layer_crs(back));
    }
    om_layer_free(back);
    om_layer_free(c1);
    om_layer_free(c2);
    CHECK_OK(st, &err);
    if (!ok) {
        FAILF("%s", why);
    }
}

TEST(test_fgb_limits)
{
    struct om_layer *c = NULL, *e = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 3, false, 0, &c, &err), &err);
    CHECK_OK(make_chunk(1, 1, 8, true, 0, &e, &err), &err); /* fid 7 empty */
    char path[1024];
    tmp_path("two.fgb", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1, j = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    enum om_status st2 = OM_OK, st3 = OM_OK;
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "a", c, &i, &err);
        if (st == OM_OK) {
            st2 = om_writer_add_layer(w, "b", c, &j, &err);
        }
        if (st == OM_OK && st2 == OM_EFORMAT) {
            CHECK_CONTAINS(err.msg, "'b'");
            st3 = om_writer_add(w, i, e, NULL, &err);
        }
        om_writer_abort(w);
    }
    om_layer_free(c);
    om_layer_free(e);
    CHECK_OK(st, &err);
    CHECK_INT(st2, OM_EFORMAT);
    CHECK_INT(j, -1);
    CHECK_INT(st3, OM_EGEOM);
    CHECK_INT(err.feature, 7);
    CHECK(!exists(path));
}

/* One layer, two chunks; features come back in write order. */
static void single_layer_case(const char *file, bool dbf)
{
    struct om_layer *c1 = NULL, *c2 = NULL, *back = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 6, !dbf, 0, &c1, &err), &err);
    CHECK_OK(make_chunk(50, 1, 4, !dbf, 0, &c2, &err), &err);
    char path[1024];
    tmp_path(file, path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "parcels", c1, &i, &err);
        if (st == OM_OK) {
            st = om_writer_add(w, i, c1, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_add(w, i, c2, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_close(w, &err);
        } else {
            om_writer_abort(w);
        }
    }
    if (st == OM_OK) {
        st = read_layer(path, NULL, &back, &err);
    }
    char why[256] = "";
    bool ok = st == OM_OK;
    if (ok && om_layer_nfeatures(back) != 10) {
        ok = false;
        snprintf(why, sizeof why, "%zu features", om_layer_nfeatures(back));
    }
    struct om_layer_view v;
    if (ok) {
        om_layer_view(back, &v);
    }
    int id = ok ? om_layer_field_index(back, "ID") : -1;
    for (size_t k = 0; ok && k < 10; k++) {
        int64_t want = k < 6 ? (int64_t)k + 1 : 50 + (int64_t)k - 6;
        /* GeoJSON keeps the fids; a shapefile numbers records from 0 */
        if (om_layer_get_int(back, k, id) != want ||
            v.fid[k] != (dbf ? (int64_t)k : want)) {
            ok = false;
            snprintf(why, sizeof why, "feature %zu: ID %lld fid %lld", k,
                     (long long)om_layer_get_int(back, k, id),
                     (long long)v.fid[k]);
        }
    }
    if (ok && !dbf) {
        ok = chunk_in(c1, back, true, why, sizeof why) &&
             chunk_in(c2, back, true, why, sizeof why);
    }
    om_layer_free(back);
    om_layer_free(c1);
    om_layer_free(c2);
    CHECK_OK(st, &err);
    if (!ok) {
        FAILF("%s: %s", file, why);
    }
}

TEST(test_geojson_round_trip)
{
    real_rel_ = 1e-15;
    single_layer_case("rt.geojson", false);
    real_rel_ = 0;
}

TEST(test_shapefile)
{
    single_layer_case("rt.shp", true);
    if (test_failed_) {
        return;
    }
    /* abort takes every sidecar file with it */
    struct om_layer *c = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 3, false, 0, &c, &err), &err);
    char path[1024];
    tmp_path("gone.shp", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "gone", c, &i, &err);
        if (st == OM_OK) {
            st = om_writer_add(w, i, c, NULL, &err);
        }
        om_writer_abort(w);
    }
    om_layer_free(c);
    CHECK_OK(st, &err);
    static const char *side[] = {"gone.shp", "gone.dbf", "gone.shx", "gone.prj",
                                 "gone.cpg"};
    for (size_t k = 0; k < sizeof side / sizeof side[0]; k++) {
        tmp_path(side[k], path, sizeof path);
        CHECK(!exists(path));
    }
    /* DBF text is at most 254 bytes: found before the chunk is written */
    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    CHECK_OK(make_chunk(1, 1, 3, false, 0, &c, &err), &err);
    struct om_layer *big = NULL;
    enum om_status s2 = om_layer_new("big", &big, &err);
    for (size_t f = 0; f < om_layer_nfields(c) && s2 == OM_OK; f++) {
        s2 = om_layer_add_field(big, om_layer_field_name(c, (int)f),
                                om_layer_field_type(c, (int)f), NULL, &err);
    }
    if (s2 == OM_OK) {
        s2 = om_layer_begin_feature(big, 9, &err);
    }
    if (s2 == OM_OK) {
        s2 = om_layer_set_text(big, F_NAME, long_text, &err);
    }
    if (s2 == OM_OK) {
        s2 = om_layer_end_feature(big, &err);
    }
    tmp_path("long.shp", path, sizeof path);
    st = s2 == OM_OK ? om_writer_open(path, NULL, &w, &err) : s2;
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "long", c, &i, &err);
        if (st == OM_OK) {
            s2 = om_writer_add(w, i, big, NULL, &err);
        }
        /* the writer is still usable */
        if (st == OM_OK) {
            st = om_writer_add(w, i, c, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_close(w, &err);
        } else {
            om_writer_abort(w);
        }
    }
    om_layer_free(c);
    om_layer_free(big);
    CHECK_OK(st, &err);
    CHECK_INT(s2, OM_ELIMIT);
    CHECK(exists(path));
}

TEST(test_filegdb_two_layers)
{
    struct om_layer *c = NULL, *back = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 12, false, 0, &c, &err), &err);
    char path[1024];
    tmp_path("two.gdb", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1, j = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "a", c, &i, &err);
        if (st == OM_OK) {
            st = om_writer_add_layer(w, "b", c, &j, &err);
        }
        if (st == OM_OK) {
            st = om_writer_add(w, j, c, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_add(w, i, c, NULL, &err);
        }
        if (st == OM_OK) {
            st = om_writer_close(w, &err);
        } else {
            om_writer_abort(w);
        }
    }
    om_layer_free(c);
    CHECK_OK(st, &err);
    CHECK_OK(read_layer(path, "b", &back, &err), &err);
    size_t n = om_layer_nfeatures(back);
    om_layer_free(back);
    CHECK_INT(n, 12);
}

/* ---- errors ---- */

TEST(test_abort_every_format)
{
    static const char *files[] = {"ab.gpkg", "ab.fgb",     "ab.geojson",
                                  "ab.gdb",  "ab.csv",     "ab.shp",
                                  "ab.kml",  "ab.geojsonl"};
    struct om_layer *c = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 60, false, 0, &c, &err), &err);
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char path[1024];
        tmp_path(files[k], path, sizeof path);
        struct om_writer *w = NULL;
        int i = -1;
        enum om_status st = om_writer_open(path, NULL, &w, &err);
        if (st == OM_OK) {
            st = om_writer_add_layer(w, "ab", c, &i, &err);
            if (st == OM_OK) {
                st = om_writer_add(w, i, c, NULL, &err);
            }
            om_writer_abort(w);
        }
        if (st != OM_OK || exists(path)) {
            om_layer_free(c);
            FAILF("%s: %s, %s", files[k], om_status_name(st),
                  exists(path) ? "left behind" : "removed");
            return;
        }
    }
    om_layer_free(c);
}

TEST(test_schema_mismatch)
{
    struct om_layer *c = NULL, *extra = NULL, *type = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 3, false, 0, &c, &err), &err);
    CHECK_OK(make_chunk(10, 1, 3, false, 1, &extra, &err), &err);
    CHECK_OK(make_chunk(20, 1, 3, false, 2, &type, &err), &err);
    char path[1024];
    tmp_path("mismatch.gpkg", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    char msg1[OM_ERROR_MSG_MAX] = "", msg2[OM_ERROR_MSG_MAX] = "";
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    enum om_status s1 = OM_OK, s2 = OM_OK, s3 = OM_OK;
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "parcels", c, &i, &err);
        if (st == OM_OK) {
            st = om_writer_add(w, i, c, NULL, &err);
        }
        if (st == OM_OK) {
            s1 = om_writer_add(w, i, extra, NULL, &err);
            snprintf(msg1, sizeof msg1, "%s", err.msg);
            s2 = om_writer_add(w, i, type, NULL, &err);
            snprintf(msg2, sizeof msg2, "%s", err.msg);
            s3 = om_writer_add(w, 5, c, NULL, &err);
        }
        om_writer_abort(w);
    }
    om_layer_free(c);
    om_layer_free(extra);
    om_layer_free(type);
    CHECK_OK(st, &err);
    CHECK_INT(s1, OM_EINVAL);
    CHECK_CONTAINS(msg1, "EXTRA");
    CHECK_CONTAINS(msg1, "parcels");
    CHECK_INT(s2, OM_EINVAL);
    CHECK_CONTAINS(msg2, "CODE");
    CHECK_INT(s3, OM_EINVAL);
    CHECK(!exists(path));
}

TEST(test_exists_and_no_layer)
{
    struct om_layer *c = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 2, false, 0, &c, &err), &err);
    char path[1024];
    tmp_path("exists.gpkg", path, sizeof path);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs("not a geopackage", f);
    fclose(f);
    struct om_writer *w = NULL;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    CHECK(w == NULL);
    if (st != OM_EEXIST) {
        om_layer_free(c);
        CHECK_STATUS(st, OM_EEXIST);
    }
    CHECK_CONTAINS(err.msg, "overwrite");
    CHECK(exists(path)); /* left alone */
    /* overwrite replaces it; a writer without layers leaves nothing */
    struct om_writer_options o = {0};
    o.overwrite = true;
    st = om_writer_open(path, &o, &w, &err);
    if (st == OM_OK) {
        st = om_writer_close(w, &err);
    }
    CHECK_INT(st, OM_EINVAL);
    CHECK(!exists(path));
    /* a second layer of the same name */
    st = om_writer_open(path, &o, &w, &err);
    enum om_status st2 = OM_OK;
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "parcels", c, NULL, &err);
        st2 = om_writer_add_layer(w, "PARCELS", c, NULL, &err);
        om_writer_abort(w);
    }
    om_layer_free(c);
    CHECK_OK(st, &err);
    CHECK_INT(st2, OM_EEXIST);
    CHECK(!exists(path));
    /* unknown extension */
    CHECK_STATUS(om_writer_open("/tmp/x.unknown", NULL, &w, &err), OM_EFORMAT);
    CHECK(w == NULL);
}

static void cancel_at_30(void *ctx, const char *phase, uint64_t done,
                         uint64_t total)
{
    (void)phase;
    (void)total;
    volatile int *flag = ctx;
    if (done >= 30) {
        *flag = 1;
    }
}

TEST(test_cancel)
{
    struct om_layer *c = NULL;
    struct om_error err = {0};
    CHECK_OK(make_chunk(1, 1, 60, true, 0, &c, &err), &err);
    volatile int flag = 0;
    struct om_progress p = {cancel_at_30, (void *)&flag, &flag};
    char path[1024];
    tmp_path("cancel.gpkg", path, sizeof path);
    struct om_writer *w = NULL;
    int i = -1;
    enum om_status st = om_writer_open(path, NULL, &w, &err);
    enum om_status st2 = OM_OK;
    if (st == OM_OK) {
        st = om_writer_add_layer(w, "parcels", c, &i, &err);
        if (st == OM_OK) {
            st2 = om_writer_add(w, i, c, &p, &err);
        }
        om_writer_abort(w);
    }
    om_layer_free(c);
    CHECK_OK(st, &err);
    CHECK_INT(st2, OM_ECANCELED);
    CHECK(!exists(path));
}

TEST(test_out_of_memory)
{
    struct chunks c;
    struct om_error err = {0};
    CHECK_OK(chunks_make(&c, &err), &err);
    char path[1024];
    tmp_path("oom.gpkg", path, sizeof path);
    int ok_at = -1;
    for (int n = 0; n < 500 && ok_at < 0; n++) {
        test_fail_allocs_after(n);
        enum om_status st = write_chunks(path, &c, 4, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            ok_at = n;
            break;
        }
        if (st != OM_ENOMEM || exists(path)) {
            FAILF("failing allocation %d: %s (%s), output %s", n,
                  om_status_name(st), err.msg,
                  exists(path) ? "left behind" : "removed");
            break;
        }
    }
    chunks_free(&c);
    CHECK(ok_at > 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_writer");
    RUN(test_gpkg_two_layers);
    RUN(test_gpkg_rtree_levels);
    RUN(test_gpkg_deterministic);
    RUN(test_gpkg_duplicate_fid);
    RUN(test_fgb_round_trip);
    RUN(test_fgb_limits);
    RUN(test_geojson_round_trip);
    RUN(test_shapefile);
    RUN(test_filegdb_two_layers);
    RUN(test_abort_every_format);
    RUN(test_schema_mismatch);
    RUN(test_exists_and_no_layer);
    RUN(test_cancel);
    RUN(test_out_of_memory);
    /* remove this binary's scratch directory (only ours) */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_tmpdir());
    if (system(cmd) != 0) {
        printf("warning: could not remove %s\n", test_tmpdir());
    }
    TEST_MAIN_END();
}
