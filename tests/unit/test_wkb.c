/*
 * test_wkb.c — the WKB / GeoPackage blob codecs: round trips, GEOS as an
 * independent reader and writer, every truncation and corrupted byte of a
 * valid blob, hostile counts and nesting, OOM.
 */
#include "geom/wkb.h"
#include "onemap/layer.h"
#include "test.h"

#include <geos_c.h>

/* Build a layer: fid 7 = two squares, the first with a hole; fid 9 =
 * empty; fid 3 = one triangle. */
static struct om_layer *sample_layer(void)
{
    struct om_layer *l = NULL;
    if (om_layer_new("wkb", &l, NULL) != OM_OK) {
        return NULL;
    }
    const double sq[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    const double hole[] = {2, 2, 2, 4, 4, 4, 4, 2, 2, 2};
    const double sq2[] = {20.5, 0.25, 30, 0, 30, 10, 20.5, 10};
    const double tri[] = {-1e7, -2.5e6, 1.0 / 3.0, 5e-9, 0.1, 7};
    om_layer_begin_feature(l, 7, NULL);
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, sq, 5, NULL);
    om_layer_add_ring(l, hole, 5, NULL);
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, sq2, 4, NULL);
    om_layer_end_feature(l, NULL);
    om_layer_begin_feature(l, 9, NULL);
    om_layer_end_feature(l, NULL);
    om_layer_begin_feature(l, 3, NULL);
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, tri, 3, NULL);
    om_layer_end_feature(l, NULL);
    return l;
}

/* Exact comparison of feature fa of a with feature fb of b. */
static int same_feature(const struct om_layer *a, size_t fa,
                        const struct om_layer *b, size_t fb)
{
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    size_t np = va.part_start[fa + 1] - va.part_start[fa];
    if (np != vb.part_start[fb + 1] - vb.part_start[fb]) {
        return 0;
    }
    for (size_t k = 0; k < np; k++) {
        size_t pa = va.part_start[fa] + k, pb = vb.part_start[fb] + k;
        size_t nr = va.ring_start[pa + 1] - va.ring_start[pa];
        if (nr != vb.ring_start[pb + 1] - vb.ring_start[pb]) {
            return 0;
        }
        for (size_t j = 0; j < nr; j++) {
            size_t ra = va.ring_start[pa] + j, rb = vb.ring_start[pb] + j;
            size_t n = va.point_start[ra + 1] - va.point_start[ra];
            if (n != vb.point_start[rb + 1] - vb.point_start[rb]) {
                return 0;
            }
            if (memcmp(va.xy + 2 * va.point_start[ra],
                       vb.xy + 2 * vb.point_start[rb], 16 * n) != 0) {
                return 0;
            }
        }
    }
    return 1;
}

/* Decode a blob (gpkg or plain WKB) as feature `fid` of a new layer. */
static enum om_status decode(const uint8_t *p, size_t n, bool gpkg,
                             struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    struct om__wkb_reader r = {0};
    enum om_status st = om_layer_new("dec", &l, err);
    if (st == OM_OK) {
        st = om_layer_begin_feature(l, 42, err);
    }
    if (st == OM_OK) {
        st = gpkg ? om__gpkg_decode_to_layer(&r, p, n, l, NULL, "blob", 42, err)
                  : om__wkb_decode_to_layer(&r, p, n, l, "blob", 42, err);
        if (st != OM_OK) {
            om_layer_abort_feature(l);
        }
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    om__wkb_reader_deinit(&r);
    if (st != OM_OK) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

TEST(test_roundtrip_wkb_and_gpkg)
{
    struct om_layer *l = sample_layer();
    CHECK(l);
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om__bytes b = {0};
    struct om_error err;
    for (size_t f = 0; f < v.nfeatures; f++) {
        for (int gpkg = 0; gpkg < 2; gpkg++) {
            enum om_status st = gpkg ? om__gpkg_encode(&v, f, 4530, &b, &err)
                                     : om__wkb_encode(&v, f, &b, &err);
            if (st != OM_OK) {
                om__bytes_deinit(&b);
                om_layer_free(l);
                CHECK_OK(st, &err);
            }
            struct om_layer *d = NULL;
            st = decode(b.data, b.len, gpkg, &d, &err);
            int same = st == OM_OK && same_feature(l, f, d, 0);
            om_layer_free(d);
            if (!same) {
                om__bytes_deinit(&b);
                om_layer_free(l);
                CHECK_OK(st, &err);
                CHECK(same);
            }
        }
    }
    /* header of the first feature: "GP", v0, LE + xy envelope */
    om__gpkg_encode(&v, 0, 4530, &b, &err);
    uint8_t want[8] = {'G', 'P', 0, 0x03, 0xB2, 0x11, 0, 0};
    int hdr_ok = memcmp(b.data, want, 8) == 0;
    double env[4];
    memcpy(env, b.data + 8, 32);
    /* WKB after the header: LE MultiPolygon of 2 */
    uint8_t wkb[9] = {1, 6, 0, 0, 0, 2, 0, 0, 0};
    int wkb_ok = memcmp(b.data + 40, wkb, 9) == 0;
    /* empty feature: empty flag, no envelope, MULTIPOLYGON EMPTY */
    om__gpkg_encode(&v, 1, 4530, &b, &err);
    uint8_t want_empty[17] = {'G', 'P', 0, 0x11, 0xB2, 0x11, 0, 0, 1,
                              6,   0,   0, 0,    0,    0,    0, 0};
    int empty_ok = b.len == 17 && memcmp(b.data, want_empty, 17) == 0;
    om__bytes_deinit(&b);
    om_layer_free(l);
    CHECK(hdr_ok);
    CHECK(env[0] == 0 && env[1] == 30 && env[2] == 0 && env[3] == 10);
    CHECK(wkb_ok);
    CHECK(empty_ok);
}

/* GEOS reads what we write: same area and structure. */
TEST(test_geos_reads_our_wkb)
{
    struct om_layer *l = sample_layer();
    CHECK(l);
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om__bytes b = {0};
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    double area = -1;
    int nparts = -1, type = -1;
    if (om__wkb_encode(&v, 0, &b, NULL) == OM_OK) {
        GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, b.data, b.len);
        if (g) {
            GEOSArea_r(h, g, &area);
            nparts = GEOSGetNumGeometries_r(h, g);
            type = GEOSGeomTypeId_r(h, g);
            GEOSGeom_destroy_r(h, g);
        }
    }
    int empty_ok = 0;
    if (om__wkb_encode(&v, 1, &b, NULL) == OM_OK) {
        GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, b.data, b.len);
        if (g) {
            empty_ok = GEOSisEmpty_r(h, g) == 1;
            GEOSGeom_destroy_r(h, g);
        }
    }
    GEOSWKBReader_destroy_r(h, rd);
    GEOS_finish_r(h);
    om__bytes_deinit(&b);
    om_layer_free(l);
    CHECK_INT(type, GEOS_MULTIPOLYGON);
    CHECK_INT(nparts, 2);
    /* 100 - 4 + trapezoid (9.5 + 9.5... ) computed independently:
     * sq2 = (20.5,0.25)-(30,0)-(30,10)-(20.5,10): shoelace = 93.8125 */
    CHECK_NEAR(area, 96.0 + 93.8125, 0, 1e-12);
    CHECK(empty_ok);
}

/* We read what GEOS writes: big-endian, 3D, polygon, collections. */
TEST(test_read_geos_wkb_variants)
{
    static const struct {
        const char *wkt;
        int byte_order; /* 0 big, 1 little */
        int dims;
        size_t nparts;
        double area;
    } cases[] = {
        {"POLYGON ((0 0, 4 0, 4 3, 0 0))", 0, 2, 1, 6},
        {"POLYGON Z ((0 0 5, 4 0 6, 4 3 7, 0 0 5))", 0, 3, 1, 6},
        {"POLYGON Z ((0 0 5, 4 0 6, 4 3 7, 0 0 5))", 1, 3, 1, 6},
        {"MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 7 5, 7 7, 5 5)))", 0, 2,
         2, 2.5},
        {"GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)), "
         "MULTIPOLYGON (((5 5, 7 5, 7 7, 5 5))), GEOMETRYCOLLECTION EMPTY)",
         0, 2, 2, 2.5},
        {"POLYGON EMPTY", 1, 2, 0, 0},
        {"MULTIPOLYGON EMPTY", 0, 2, 0, 0},
    };
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSWKTReader *wr = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *ww = GEOSWKBWriter_create_r(h);
    GEOSWKBWriter_setFlavor_r(h, ww, GEOS_WKB_ISO);
    char why[600] = "";
    for (size_t i = 0; !why[0] && i < sizeof cases / sizeof cases[0]; i++) {
        GEOSWKBWriter_setByteOrder_r(h, ww, cases[i].byte_order);
        GEOSWKBWriter_setOutputDimension_r(h, ww, cases[i].dims);
        GEOSGeometry *g = GEOSWKTReader_read_r(h, wr, cases[i].wkt);
        size_t n = 0;
        unsigned char *wkb = g ? GEOSWKBWriter_write_r(h, ww, g, &n) : NULL;
        GEOSGeom_destroy_r(h, g);
        struct om_layer *l = NULL;
        struct om_error err;
        enum om_status st =
            wkb ? decode(wkb, n, false, &l, &err) : OM_EINTERNAL;
        GEOSFree_r(h, wkb);
        if (st != OM_OK) {
            snprintf(why, sizeof why, "case %zu: %s", i, err.msg);
            break;
        }
        struct om_layer_view v;
        om_layer_view(l, &v);
        double area = 0;
        for (size_t r = 0; r < v.nrings; r++) {
            double s = 0;
            for (size_t k = v.point_start[r]; k + 1 < v.point_start[r + 1];
                 k++) {
                s += v.xy[2 * k] * v.xy[2 * k + 3] -
                     v.xy[2 * k + 2] * v.xy[2 * k + 1];
            }
            area += fabs(s) / 2;
        }
        if (v.nparts != cases[i].nparts || area != cases[i].area) {
            snprintf(why, sizeof why, "case %zu: %zu parts, area %g", i,
                     v.nparts, area);
        }
        om_layer_free(l);
    }
    GEOSWKTReader_destroy_r(h, wr);
    GEOSWKBWriter_destroy_r(h, ww);
    GEOS_finish_r(h);
    if (why[0]) {
        FAILF("%s", why);
    }
}

/* A valid gpkg blob of the sample's first feature, into b. */
static void valid_blob(struct om__bytes *b)
{
    struct om_layer *l = sample_layer();
    struct om_layer_view v;
    om_layer_view(l, &v);
    om__gpkg_encode(&v, 0, 4326, b, NULL);
    om_layer_free(l);
}

TEST(test_every_truncation_is_an_error)
{
    struct om__bytes b = {0};
    valid_blob(&b);
    CHECK(b.len > 100);
    size_t bad = 0;
    enum om_status bad_st = OM_OK;
    for (size_t n = 0; n < b.len; n++) {
        struct om_layer *l = NULL;
        struct om_error err;
        enum om_status st = decode(b.data, n, true, &l, &err);
        om_layer_free(l);
        if (st != OM_EPARSE || err.feature != 42 ||
            strcmp(err.source, "blob") != 0) {
            bad = n;
            bad_st = st;
            break;
        }
    }
    om__bytes_deinit(&b);
    if (bad_st != OM_OK || bad) {
        FAILF("prefix of %zu bytes gave %s", bad, om_status_name(bad_st));
    }
}

TEST(test_corrupted_bytes_never_crash)
{
    struct om__bytes b = {0};
    valid_blob(&b);
    uint32_t seed = 12345;
    int nok = 0, nerr = 0;
    for (int round = 0; round < 4000; round++) {
        uint8_t buf[512];
        size_t n = b.len < sizeof buf ? b.len : sizeof buf;
        memcpy(buf, b.data, n);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            buf[pos] = (uint8_t)(seed >> 16);
        }
        struct om_layer *l = NULL;
        struct om_error err;
        enum om_status st = decode(buf, n, true, &l, &err);
        om_layer_free(l);
        if (st == OM_OK) {
            nok++;
        } else if (st == OM_EPARSE || st == OM_EGEOM || st == OM_ELIMIT ||
                   st == OM_EFORMAT) {
            nerr++;
        } else {
            om__bytes_deinit(&b);
            FAILF("round %d: %s: %s", round, om_status_name(st), err.msg);
            return;
        }
    }
    om__bytes_deinit(&b);
    CHECK(nok + nerr == 4000);
    CHECK(nerr > 100);
}

static enum om_status decode_hex(const char *hex, bool gpkg,
                                 struct om_error *err)
{
    uint8_t buf[256];
    size_t n = 0;
    for (; hex[0] && hex[1] && n < sizeof buf; hex += 2) {
        unsigned v;
        sscanf(hex, "%2x", &v);
        buf[n++] = (uint8_t)v;
    }
    struct om_layer *l = NULL;
    enum om_status st = decode(buf, n, gpkg, &l, err);
    om_layer_free(l);
    return st;
}

TEST(test_hostile_blobs)
{
    struct om_error err;
    /* polygon claiming 2^32-1 rings */
    CHECK_STATUS(decode_hex("0103000000ffffffff", false, &err), OM_EPARSE);
    CHECK_CONTAINS(err.msg, "4294967295 rings");
    CHECK_INT(err.feature, 42);
    /* ring claiming 2^32-1 points */
    CHECK_STATUS(decode_hex("010300000001000000ffffffff00000000", false, &err),
                 OM_EPARSE);
    /* multipolygon claiming a billion members */
    CHECK_STATUS(decode_hex("01060000000000003b", false, &err), OM_EPARSE);
    /* bad byte order */
    CHECK_STATUS(decode_hex("0203000000", false, &err), OM_EPARSE);
    CHECK_CONTAINS(err.msg, "byte order");
    /* a LineString is not polygonal */
    CHECK_STATUS(decode_hex("010200000000000000", false, &err), OM_EGEOM);
    CHECK_CONTAINS(err.msg, "LineString");
    /* a Point inside a MultiPolygon */
    CHECK_STATUS(decode_hex("0106000000010000000101000000"
                            "00000000000000000000000000000000",
                            false, &err),
                 OM_EPARSE);
    /* GeoPackage header problems */
    CHECK_STATUS(decode_hex("4750010110e6000001060000000000000000", true, &err),
                 OM_EFORMAT); /* version 1 */
    CHECK_STATUS(decode_hex("47500021e6100000", true, &err), OM_EFORMAT);
    CHECK_STATUS(decode_hex("4750000fe6100000", true, &err), OM_EPARSE);
    CHECK_STATUS(decode_hex("5850000110e60000", true, &err), OM_EPARSE);
    CHECK_STATUS(decode_hex("475000", true, &err), OM_EPARSE);
    /* empty flag: no geometry whatever follows */
    CHECK_OK(decode_hex("47500011e6100000", true, &err), &err);
}

TEST(test_depth_bomb)
{
    /* 9 nested GeometryCollections: over OM_LIMIT_WKB_DEPTH (8) */
    uint8_t buf[200];
    size_t n = 0;
    for (int i = 0; i < 9; i++) {
        const uint8_t gc[9] = {1, 7, 0, 0, 0, 1, 0, 0, 0};
        memcpy(buf + n, gc, 9);
        n += 9;
    }
    const uint8_t empty_poly[9] = {1, 3, 0, 0, 0, 0, 0, 0, 0};
    memcpy(buf + n, empty_poly, 9);
    n += 9;
    struct om_layer *l = NULL;
    struct om_error err;
    CHECK_STATUS(decode(buf, n, false, &l, &err), OM_ELIMIT);
    CHECK_CONTAINS(err.msg, "nested");
    /* 7 levels are fine (depth 8 with the polygon) */
    CHECK_OK(decode(buf + 18, n - 18, false, &l, &err), &err);
    om_layer_free(l);
}

TEST(test_envelope_and_ewkb)
{
    /* blob without envelope: computed from the WKB; EWKB with SRID and Z */
    const char *hex = "4750000100000000" /* GP, no env */
                      "01"               /* LE */
                      "030000a0"         /* Polygon Z+SRID */
                      "e6100000"         /* SRID 4326 */
                      "01000000"         /* 1 ring */
                      "04000000"         /* 4 points */
                      "000000000000f03f"
                      "0000000000000040"
                      "0000000000000000"
                      "0000000000000840"
                      "0000000000000040"
                      "0000000000000000"
                      "0000000000000840"
                      "0000000000001040"
                      "0000000000000000"
                      "000000000000f03f"
                      "0000000000000040"
                      "0000000000000000";
    uint8_t buf[256];
    size_t n = 0;
    for (const char *h = hex; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        buf[n++] = (uint8_t)v;
    }
    struct om__wkb_reader r = {0};
    struct om_rect env;
    bool empty = true;
    struct om_error err;
    enum om_status st = om__gpkg_envelope(&r, buf, n, &env, &empty, &err);
    om__wkb_reader_deinit(&r);
    CHECK_OK(st, &err);
    CHECK(!empty);
    CHECK(env.minx == 1 && env.maxx == 3 && env.miny == 2 && env.maxy == 4);
    struct om_layer *l = NULL;
    CHECK_OK(decode(buf, n, true, &l, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    int ok = v.npoints == 4 && v.xy[2] == 3 && v.xy[3] == 2 && v.xy[5] == 4;
    om_layer_free(l);
    CHECK(ok);
}

TEST(test_decode_oom)
{
    struct om__bytes b = {0};
    valid_blob(&b);
    int ok = 0, nomem = 0;
    for (int k = 0; k < 40; k++) {
        test_fail_allocs_after(k);
        struct om_layer *l = NULL;
        struct om_error err;
        enum om_status st = decode(b.data, b.len, true, &l, &err);
        test_fail_allocs_after(-1);
        om_layer_free(l);
        if (st == OM_OK) {
            ok++;
        } else if (st == OM_ENOMEM) {
            nomem++;
        } else {
            FAILF("k=%d: %s", k, om_status_name(st));
            break;
        }
    }
    om__bytes_deinit(&b);
    CHECK(nomem > 0 && ok > 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_wkb");
    RUN(test_roundtrip_wkb_and_gpkg);
    RUN(test_geos_reads_our_wkb);
    RUN(test_read_geos_wkb_variants);
    RUN(test_every_truncation_is_an_error);
    RUN(test_corrupted_bytes_never_crash);
    RUN(test_hostile_blobs);
    RUN(test_depth_bomb);
    RUN(test_envelope_and_ewkb);
    RUN(test_decode_oom);
    TEST_MAIN_END();
}
