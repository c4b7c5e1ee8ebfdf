/*
 * test_bbtxt.c — the 部标 TXT reader and writer: the sample files in
 * tests/data/bbtxt (each variant and each malformed case), GBK decoding,
 * round trips, and areas against an independent oracle (the shoelace
 * formula on the file's own numbers and a closed-form rectangle).
 */
#include "onemap/bbtxt.h"
#include "onemap/crs.h"
#include "onemap/layer.h"

#include "test.h"

#include <math.h>

#define DIR "tests/data/bbtxt/"

static bool has_note(const struct om_bbtxt *t, const char *code)
{
    for (size_t i = 0; i < t->nnotes; i++) {
        if (strcmp(t->notes[i].code, code) == 0) {
            return true;
        }
    }
    return false;
}

static const char *note_en(const struct om_bbtxt *t, const char *code)
{
    for (size_t i = 0; i < t->nnotes; i++) {
        if (strcmp(t->notes[i].code, code) == 0) {
            return t->notes[i].en;
        }
    }
    return NULL;
}

TEST(test_typical_gbk)
{
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_OK(om_bbtxt_read(DIR "typical_gbk.txt", NULL, &t, &err), &err);
    CHECK_STR(t->encoding, "GBK");
    CHECK_INT(t->nnotes, 0);
    CHECK_INT(t->nparcels, 2);
    CHECK_INT(t->npoints, 11);
    CHECK_INT(t->zone, 42);
    CHECK(t->has_prefix);
    CHECK(!t->swapped);
    CHECK_STR(om_layer_crs(t->layer), "EPSG:4530");
    CHECK_STR(om_bbtxt_header(t, "数据产生单位"), "吉林省某勘测院");
    CHECK_STR(om_bbtxt_header(t, "转换参数"), ",,,,,,");
    CHECK_STR(om_bbtxt_header(t, "带号"), "42");
    CHECK_STR(t->parcels[0].name, "长春市某建设项目一号地块");
    CHECK_STR(t->parcels[1].code, "DK002");
    CHECK_INT(t->parcels[0].line, 13);
    CHECK_INT(t->parcels[1].line, 19);
    CHECK_NEAR(t->parcels[0].planar_m2, 20000.0, 0, 1e-6);
    CHECK_NEAR(t->parcels[1].planar_m2, 12500.0, 0, 1e-6);
    /* ellipsoidal area near the central meridian: within 0.01% */
    CHECK_NEAR(t->parcels[0].ellipsoidal_m2, 20000.0, 1e-4, 0);
    const struct om_layer *l = t->layer;
    CHECK_INT(om_layer_nfeatures(l), 2);
    int f = om_layer_field_index(l, "DKMC");
    CHECK(f >= 0);
    CHECK_STR(om_layer_get_text(l, 0, f), "长春市某建设项目一号地块");
    CHECK_STR(om_layer_get_text(l, 1, om_layer_field_index(l, "DLBM")), "1003");
    CHECK_NEAR(om_layer_get_real(l, 1, om_layer_field_index(l, "DKMJ_HA")),
               1.25, 0, 0);
    CHECK(om_layer_is_null(l, 0, om_layer_field_index(l, "NOTE")));
    struct om_layer_view v;
    om_layer_view(l, &v);
    CHECK_INT(v.nrings, 2);
    /* x = easting (with prefix), y = northing */
    CHECK_NEAR(v.xy[0], 42512000.0, 0, 0);
    CHECK_NEAR(v.xy[1], 4856000.0, 0, 0);
    CHECK_STR(t->points[2].name, "J3");
    CHECK_NEAR(t->points[2].north, 4856100.0, 0, 0);
    CHECK_NEAR(t->points[2].east, 42512200.0, 0, 0);
    CHECK_INT(t->points[2].ring, 1);
    CHECK_INT(t->points[2].line, 16);
    om_bbtxt_free(t);
}

TEST(test_utf8_bom)
{
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_OK(om_bbtxt_read(DIR "utf8_bom.txt", NULL, &t, &err), &err);
    CHECK_STR(t->encoding, "UTF-8");
    CHECK_INT(t->nnotes, 0);
    CHECK_STR(t->parcels[0].name, "BOM地块");
    CHECK_STR(t->keys[0].key, "格式版本号");
    om_bbtxt_free(t);
}

TEST(test_variants)
{
    static const struct {
        const char *file, *code, *msg;
    } cases[] = {
        {"no_closing.txt", "unclosed_ring", "does not repeat"},
        {"wrong_zone.txt", "zone_mismatch",
         "带号=41 but eastings start with 42: using zone 42"},
        {"swapped_xy.txt", "swapped_xy", "swapped"},
        {"area_mismatch.txt", "area_mismatch",
         "declared area 2.5000 ha, computed 2.0000 ha"},
        {"count_mismatch.txt", "point_count", "界址点数=8 but 5"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DIR "%s", cases[i].file);
        struct om_bbtxt *t = NULL;
        struct om_error err;
        CHECK_OK(om_bbtxt_read(path, NULL, &t, &err), &err);
        bool ok = t->nnotes == 1 && has_note(t, cases[i].code);
        if (!ok) {
            FAILF("%s: %zu notes, first %s", cases[i].file, t->nnotes,
                  t->nnotes ? t->notes[0].code : "-");
            om_bbtxt_free(t);
            return;
        }
        const char *en = note_en(t, cases[i].code);
        bool has = strstr(en, cases[i].msg) != NULL;
        /* every sample is the same 100 x 200 m rectangle at the same place */
        struct om_layer_view v;
        om_layer_view(t->layer, &v);
        bool geom = v.nrings == 1 && v.xy[0] == 42512000.0 &&
                    v.xy[1] == 4856000.0 && v.xy[4] == 42512200.0 &&
                    v.xy[5] == 4856100.0;
        int zone = t->zone;
        om_bbtxt_free(t);
        CHECK(has);
        CHECK(geom);
        CHECK_INT(zone, 42);
    }
}

TEST(test_hole_and_desc)
{
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_OK(om_bbtxt_read(DIR "hole.txt", NULL, &t, &err), &err);
    CHECK_INT(t->nnotes, 0);
    struct om_layer_view v;
    om_layer_view(t->layer, &v);
    CHECK_INT(v.nparts, 1);
    CHECK_INT(v.nrings, 2);
    CHECK_NEAR(t->parcels[0].planar_m2, 37500.0, 0, 1e-6);
    om_bbtxt_free(t);

    CHECK_OK(om_bbtxt_read(DIR "desc_field.txt", NULL, &t, &err), &err);
    CHECK_INT(t->nnotes, 0);
    CHECK_STR(t->parcels[0].note, "新增建设用地");
    CHECK_STR(t->parcels[0].dlbm, "0601");
    CHECK_STR(
        om_layer_get_text(t->layer, 0, om_layer_field_index(t->layer, "NOTE")),
        "新增建设用地");
    om_bbtxt_free(t);
}

TEST(test_malformed)
{
    static const struct {
        const char *file;
        enum om_status st;
        long line;
        const char *msg;
    } cases[] = {
        {"bad_no_section.txt", OM_EPARSE, 12, "missing [地块坐标]"},
        {"bad_number.txt", OM_EPARSE, 16, "bad number X"},
        {"bad_ring.txt", OM_EPARSE, 19, "fewer than 3 distinct"},
        {"bad_point_first.txt", OM_EPARSE, 13, "before any parcel"},
        {"bad_self_intersect.txt", OM_EGEOM, 19, "DK2: invalid boundary"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, DIR "%s", cases[i].file);
        struct om_bbtxt *t = (struct om_bbtxt *)&t;
        struct om_error err;
        enum om_status st = om_bbtxt_read(path, NULL, &t, &err);
        if (st != cases[i].st || err.line != cases[i].line || t != NULL ||
            !strstr(err.msg, cases[i].msg)) {
            FAILF("%s: %s line %ld: %s", cases[i].file, om_status_name(st),
                  err.line, err.msg);
            return;
        }
    }
}

TEST(test_extent)
{
    struct om_bbtxt_options o = {0};
    o.has_extent = true;
    o.extent = (struct om_rect){42512000, 4856000, 42512150, 4856100};
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_STATUS(om_bbtxt_read(DIR "utf8_bom.txt", &o, &t, &err), OM_EGEOM);
    CHECK_INT(err.line, 15);
    CHECK(t == NULL);
    o.extent.maxx = 42512200;
    CHECK_OK(om_bbtxt_read(DIR "utf8_bom.txt", &o, &t, &err), &err);
    om_bbtxt_free(t);
}

TEST(test_lenient_parse)
{
    /* LF, no header, full-width commas, no closing point, zone from opt,
     * no prefix */
    const char *s = "[地块坐标]\n"
                    "4，，A1，甲，面，，，，@\n"
                    "J1,1,4856000,512000\nJ2,1,4856000,512100\n"
                    "J3,1,4856100,512100\nJ4,1,4856100,512000\n";
    struct om_bbtxt_options o = {0};
    o.zone = 42;
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_OK(om_bbtxt_parse(s, strlen(s), "mem", &o, &t, &err), &err);
    CHECK_INT(t->zone, 42);
    CHECK(!t->has_prefix);
    CHECK_STR(om_layer_crs(t->layer), "EPSG:4551");
    CHECK_STR(t->parcels[0].code, "A1");
    CHECK(isnan(t->parcels[0].area_ha));
    CHECK(has_note(t, "unclosed_ring"));
    om_bbtxt_free(t);
    /* without a zone: no CRS, a note */
    CHECK_OK(om_bbtxt_parse(s, strlen(s), "mem", NULL, &t, &err), &err);
    CHECK(om_layer_crs(t->layer) == NULL);
    CHECK(has_note(t, "zone_missing"));
    om_bbtxt_free(t);
    /* neither UTF-8 nor GBK */
    const char bad[] = "[地块坐标]\n\xff\xff\n";
    CHECK_STATUS(om_bbtxt_parse(bad, sizeof bad - 1, "mem", NULL, &t, &err),
                 OM_EPARSE);
    CHECK_INT(err.line, 2);
}

/* Compare two results point by point and attribute by attribute. */
static bool same(const struct om_bbtxt *a, const struct om_bbtxt *b)
{
    struct om_layer_view va, vb;
    om_layer_view(a->layer, &va);
    om_layer_view(b->layer, &vb);
    if (va.npoints != vb.npoints || va.nrings != vb.nrings ||
        va.nparts != vb.nparts || a->nparcels != b->nparcels) {
        return false;
    }
    for (size_t i = 0; i < 2 * va.npoints; i++) {
        if (fabs(va.xy[i] - vb.xy[i]) > 5e-5) {
            return false;
        }
    }
    for (size_t k = 0; k < a->nparcels; k++) {
        const struct om_bbtxt_parcel *p = &a->parcels[k], *q = &b->parcels[k];
        if (strcmp(p->code, q->code) || strcmp(p->name, q->name) ||
            strcmp(p->use, q->use) || strcmp(p->dlbm, q->dlbm) ||
            strcmp(p->sheet, q->sheet) || p->area_ha != q->area_ha ||
            (p->note == NULL) != (q->note == NULL)) {
            return false;
        }
    }
    return strcmp(om_layer_crs(a->layer), om_layer_crs(b->layer)) == 0;
}

TEST(test_round_trip)
{
    static const char *const files[] = {"typical_gbk.txt", "hole.txt",
                                        "desc_field.txt", "utf8_bom.txt"};
    for (size_t i = 0; i < 4; i++) {
        char path[256], out[512];
        snprintf(path, sizeof path, DIR "%s", files[i]);
        struct om_bbtxt *a = NULL, *b = NULL;
        struct om_error err;
        CHECK_OK(om_bbtxt_read(path, NULL, &a, &err), &err);
        snprintf(out, sizeof out, "%s/rt%zu.txt", test_tmpdir(), i);
        struct om_bbtxt_write_options wo = {0};
        wo.date = "2024-01-02";
        wo.utf8 = i == 3;
        enum om_status st = om_bbtxt_write(a->layer, out, &wo, &err);
        if (st == OM_OK) {
            st = om_bbtxt_read(out, NULL, &b, &err);
        }
        bool ok = st == OM_OK && same(a, b) && b->nnotes == 0 &&
                  b->npoints == a->npoints &&
                  strcmp(b->encoding, i == 3 ? "UTF-8" : "GBK") == 0 &&
                  strcmp(om_bbtxt_header(b, "数据产生日期"), "2024-01-02") == 0;
        /* point numbers: J1.. through the parcel, closing point repeated */
        for (size_t k = 0; ok && k < a->npoints; k++) {
            ok = strcmp(a->points[k].name, b->points[k].name) == 0 &&
                 a->points[k].ring == b->points[k].ring;
        }
        om_bbtxt_free(a);
        om_bbtxt_free(b);
        if (!ok) {
            FAILF("%s: round trip differs (%s: %s)", files[i],
                  om_status_name(st), err.msg);
            return;
        }
    }
}

TEST(test_write_no_prefix_crs)
{
    /* a layer in EPSG:4551 (zone 42, no prefix) is written with prefix */
    struct om_layer *l = NULL;
    struct om_error err;
    CHECK_OK(om_layer_new("x", &l, &err), &err);
    double ring[] = {512000.125, 4856000.5,  512100.25,  4856000.5,
                     512100.25,  4856100.75, 512000.125, 4856000.5};
    CHECK_OK(om_layer_set_crs(l, "EPSG:4551", &err), &err);
    CHECK_OK(om_layer_begin_feature(l, 7, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err);
    CHECK_OK(om_layer_add_ring(l, ring, 4, &err), &err);
    CHECK_OK(om_layer_end_feature(l, &err), &err);
    CHECK_OK(om_layer_finish(l, 0, &err), &err);
    char out[512];
    snprintf(out, sizeof out, "%s/np.txt", test_tmpdir());
    struct om_bbtxt_write_options wo = {0};
    wo.utf8 = true;
    wo.date = "2024-01-02";
    enum om_status st = om_bbtxt_write(l, out, &wo, &err);
    om_layer_free(l);
    CHECK_OK(st, &err);
    FILE *f = fopen(out, "rb");
    CHECK(f != NULL);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    CHECK_CONTAINS(buf, "带号=42\r\n");
    /* planar area 100.125 * 100.25 / 2 m² = 0.5019 ha */
    CHECK_CONTAINS(buf, "4,0.5019,7,,面,,,,@\r\n");
    CHECK_CONTAINS(buf, "J1,1,4856000.5000,42512000.1250\r\n");
    CHECK_CONTAINS(buf, "J3,1,4856100.7500,42512100.2500\r\n"
                        "J1,1,4856000.5000,42512000.1250\r\n");
}

TEST(test_rings_by_containment)
{
    /* ring 1: 100x100 square; ring 2: a hole in it; ring 3: an island in
     * the hole; ring 4: a separate square outside: 3 parts */
    const char *s = "[属性描述]\n带号=42\n[地块坐标]\n"
                    ",,P,,面,,,,@\n"
                    "J1,1,4856000,42512000\nJ2,1,4856000,42512100\n"
                    "J3,1,4856100,42512100\nJ4,1,4856100,42512000\n"
                    "J5,2,4856010,42512010\nJ6,2,4856090,42512010\n"
                    "J7,2,4856090,42512090\nJ8,2,4856010,42512090\n"
                    "J9,3,4856040,42512040\nJ10,3,4856060,42512040\n"
                    "J11,3,4856060,42512060\nJ9,3,4856040,42512040\n"
                    "J12,4,4857000,42512000\nJ13,4,4857000,42512010\n"
                    "J14,4,4857010,42512010\n";
    struct om_bbtxt *t = NULL;
    struct om_error err;
    CHECK_OK(om_bbtxt_parse(s, strlen(s), "mem", NULL, &t, &err), &err);
    struct om_layer_view v;
    om_layer_view(t->layer, &v);
    size_t nparts = v.nparts, nrings = v.nrings;
    double a = t->parcels[0].planar_m2;
    om_bbtxt_free(t);
    CHECK_INT(nparts, 3);
    CHECK_INT(nrings, 4);
    /* 100*100 - 80*80 + 20*20/2 + 10*10/2 */
    CHECK_NEAR(a, 10000.0 - 6400.0 + 200.0 + 50.0, 0, 1e-6);
}

TEST(test_oom)
{
    FILE *f = fopen(DIR "typical_gbk.txt", "rb");
    CHECK(f != NULL);
    static char data[8192];
    size_t len = fread(data, 1, sizeof data, f);
    fclose(f);
    int n;
    for (n = 0; n < 1000; n++) {
        struct om_bbtxt *t = NULL;
        struct om_error err;
        test_fail_allocs_after(n);
        enum om_status st = om_bbtxt_parse(data, len, "oom", NULL, &t, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            CHECK(t->nparcels == 2);
            om_bbtxt_free(t);
            break;
        }
        if (t != NULL || st != OM_ENOMEM) {
            FAILF("allocation %d: %s (%s)", n, om_status_name(st), err.msg);
            return;
        }
    }
    CHECK(n > 5 && n < 1000);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_bbtxt");
    RUN(test_typical_gbk);
    RUN(test_utf8_bom);
    RUN(test_variants);
    RUN(test_hole_and_desc);
    RUN(test_malformed);
    RUN(test_extent);
    RUN(test_lenient_parse);
    RUN(test_round_trip);
    RUN(test_write_no_prefix_crs);
    RUN(test_rings_by_containment);
    RUN(test_oom);
    TEST_MAIN_END();
}
