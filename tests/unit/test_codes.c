/*
 * test_codes.c — the land-use code tables (三调 DLBM, 用地用海 2023,
 * CZCSXM), their checks, roll-up, groups and the DLBM -> 用地用海 crosswalk.
 *
 * Oracles: the class counts stated by the standards (written out below),
 * hand-picked rows checked against the printed standards, and the CSVs in
 * data/codes/ read back here with an independent parser, so the compiled
 * tables cannot drift from their source.
 */
#include "onemap/codes.h"
#include "test.h"

#include <stdbool.h>

#define CHECK_CODE_ROW(t, code_, zh)                                           \
    do {                                                                       \
        const struct om_code *c_ = om_code_find((t), (code_));                 \
        if (!c_) {                                                             \
            FAILF("%s not found", (code_));                                    \
            return;                                                            \
        }                                                                      \
        CHECK_STR(c_->name_zh, (zh));                                          \
    } while (0)

static size_t count_level(enum om_code_table t, int level, const char *source)
{
    size_t n = 0;
    for (size_t i = 0; i < om_code_count(t); i++) {
        const struct om_code *c = om_code_at(t, i);
        if (c->level == level && (!source || strcmp(c->source, source) == 0)) {
            n++;
        }
    }
    return n;
}

static size_t count_children(enum om_code_table t, const char *parent)
{
    size_t n = 0;
    for (size_t i = 0; i < om_code_count(t); i++) {
        const struct om_code *c = om_code_at(t, i);
        if (c->parent && strcmp(c->parent, parent) == 0) {
            n++;
        }
    }
    return n;
}

TEST(test_structure)
{
    static const enum om_code_table tabs[] = {OM_CODES_DLBM, OM_CODES_YDYH,
                                              OM_CODES_CZCS};
    for (size_t k = 0; k < sizeof tabs / sizeof tabs[0]; k++) {
        enum om_code_table t = tabs[k];
        CHECK(om_code_count(t) > 0);
        CHECK(om_code_at(t, om_code_count(t)) == NULL);
        for (size_t i = 0; i < om_code_count(t); i++) {
            const struct om_code *c = om_code_at(t, i);
            CHECK(c && c->code && c->name_zh && c->name_en && c->source &&
                  c->note && c->stat_class);
            CHECK(c->name_zh[0] && c->name_en[0]);
            /* find returns this very row: codes are unique */
            if (om_code_find(t, c->code) != c) {
                FAILF("%s: find(%s) is not row %zu (duplicate?)",
                      om_code_table_name(t), c->code, i);
                return;
            }
            for (size_t j = 0; j < i; j++) {
                if (strcmp(om_code_at(t, j)->code, c->code) == 0) {
                    FAILF("duplicate code %s", c->code);
                    return;
                }
            }
            if (c->level == 1) {
                CHECK(c->parent == NULL);
                CHECK_STR(c->stat_class, c->code);
            } else {
                CHECK(c->level == 2 || c->level == 3);
                const struct om_code *p = om_code_find(t, c->parent);
                if (!p) {
                    FAILF("%s: parent %s of %s missing", om_code_table_name(t),
                          c->parent, c->code);
                    return;
                }
                CHECK_INT(p->level, c->level - 1);
                CHECK(strncmp(c->code, p->code, strlen(p->code)) == 0);
                /* a subclass appears after its parent (standard order) */
                CHECK(p < c);
            }
            const struct om_code *s = om_code_find(t, c->stat_class);
            CHECK(s && s->level == 1);
        }
    }
    CHECK(om_code_count((enum om_code_table)0) == 0);
    CHECK(om_code_at((enum om_code_table)99, 0) == NULL);
    CHECK(om_code_find(OM_CODES_DLBM, NULL) == NULL);
    CHECK(om_code_find((enum om_code_table)0, "0101") == NULL);
}

TEST(test_dlbm_counts)
{
    /* TD/T 1055-2019 附录 A: 13 一级类 (00-12), 55 二级类. */
    CHECK_INT(count_level(OM_CODES_DLBM, 1, NULL), 13);
    CHECK_INT(count_level(OM_CODES_DLBM, 2, "TD/T 1055-2019"), 55);
    /* + 1208 后备耕地 of the annual change survey */
    CHECK_INT(count_level(OM_CODES_DLBM, 2, NULL), 56);
    /* 9 K codes, 1104A, 1107A (三调) + 0810A, 08H2A (变更调查) */
    CHECK_INT(count_level(OM_CODES_DLBM, 3, NULL), 13);
    CHECK_INT(count_level(OM_CODES_DLBM, 3, "TD/T 1055-2019"), 11);
    /* 二级类 per prefix class (by code prefix, before the wetland roll-up) */
    static const struct {
        const char *code;
        int n;
    } per[] = {{"00", 0}, {"01", 3},  {"02", 4}, {"03", 7}, {"04", 4},
               {"05", 2}, {"06", 3},  {"07", 2}, {"08", 4}, {"09", 0},
               {"10", 9}, {"11", 10}, {"12", 8}};
    for (size_t i = 0; i < sizeof per / sizeof per[0]; i++) {
        if ((int)count_children(OM_CODES_DLBM, per[i].code) != per[i].n) {
            FAILF("DLBM %s has %zu 二级类, want %d", per[i].code,
                  count_children(OM_CODES_DLBM, per[i].code), per[i].n);
            return;
        }
    }
    /* the statistical 湿地 class holds exactly these eight */
    static const char *wet[] = {"0303", "0304", "0306", "0402",
                                "0603", "1105", "1106", "1108"};
    size_t nwet = 0;
    for (size_t i = 0; i < om_code_count(OM_CODES_DLBM); i++) {
        const struct om_code *c = om_code_at(OM_CODES_DLBM, i);
        if (c->level == 2 && strcmp(c->stat_class, "00") == 0) {
            nwet++;
        } else if (c->level == 2) {
            CHECK(strncmp(c->stat_class, c->code, 2) == 0);
        }
    }
    CHECK_INT(nwet, 8);
    for (size_t i = 0; i < 8; i++) {
        const struct om_code *c = om_code_find(OM_CODES_DLBM, wet[i]);
        CHECK(c && strcmp(c->stat_class, "00") == 0);
        CHECK(strncmp(c->parent, wet[i], 2) == 0);
    }
}

TEST(test_dlbm_names)
{
    CHECK_CODE_ROW(OM_CODES_DLBM, "00", "湿地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "02", "种植园用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0101", "水田");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0102", "水浇地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0103", "旱地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0303", "红树林地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0306", "灌丛沼泽");
    CHECK_CODE_ROW(OM_CODES_DLBM, "05H1", "商业服务业设施用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "08H1", "机关团体新闻出版用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "08H2", "科教文卫用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "09", "特殊用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1005", "交通服务场站用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1109", "水工建筑用地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1203", "田坎");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1207", "裸岩石砾地");
    CHECK_CODE_ROW(OM_CODES_DLBM, "0201K", "可调整果园");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1104A", "养殖坑塘");
    CHECK_CODE_ROW(OM_CODES_DLBM, "1107A", "干渠");
    CHECK_STR(om_code_find(OM_CODES_DLBM, "0303")->parent, "03");
    CHECK_STR(om_code_find(OM_CODES_DLBM, "0201K")->parent, "0201");
    CHECK_STR(om_code_find(OM_CODES_DLBM, "0101")->name_en, "Paddy field");
    CHECK_CODE_ROW(OM_CODES_CZCS, "201", "城市");
    CHECK_CODE_ROW(OM_CODES_CZCS, "202", "建制镇");
    CHECK_CODE_ROW(OM_CODES_CZCS, "203", "村庄");
    CHECK_CODE_ROW(OM_CODES_CZCS, "204", "盐田及采矿用地");
    CHECK_CODE_ROW(OM_CODES_CZCS, "205", "特殊用地");
}

TEST(test_ydyh_counts_and_names)
{
    /* 自然资办发〔2023〕234号: 24 一级类, 111 二级类, 40 三级类 */
    CHECK_INT(count_level(OM_CODES_YDYH, 1, NULL), 24);
    CHECK_INT(count_level(OM_CODES_YDYH, 2, NULL), 111);
    CHECK_INT(count_level(OM_CODES_YDYH, 3, NULL), 40);
    static const int per[25] = {
        0,  3, 5, 4, 3, 7, 2, 4, 7, 4, 3, 2, 9, /* 01-12 */
        12, 3, 7, 0, 6, 4, 6, 5, 2, 6, 7, 0     /* 13-24 */
    };
    for (int i = 1; i <= 24; i++) {
        char code[3] = {(char)('0' + i / 10), (char)('0' + i % 10), 0};
        if ((int)count_children(OM_CODES_YDYH, code) != per[i]) {
            FAILF("YDYH %s has %zu 二级类, want %d", code,
                  count_children(OM_CODES_YDYH, code), per[i]);
            return;
        }
    }
    CHECK_INT(count_children(OM_CODES_YDYH, "0804"), 5);
    CHECK_INT(count_children(OM_CODES_YDYH, "0807"), 4);
    CHECK_INT(count_children(OM_CODES_YDYH, "0901"), 5);
    CHECK_INT(count_children(OM_CODES_YDYH, "0903"), 0);
    CHECK_CODE_ROW(OM_CODES_YDYH, "05", "湿地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "09", "商业服务业用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "16", "留白用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "23", "其他土地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "24", "其他海域");
    CHECK_CODE_ROW(OM_CODES_YDYH, "0204", "油料园地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "0507", "红树林地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "0703", "农村宅基地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "070101", "一类城镇住宅用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "100101", "一类工业用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "120803", "社会停车场用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "1311", "水工设施用地");
    CHECK_CODE_ROW(OM_CODES_YDYH, "1706", "冰川及常年积雪");
    CHECK_CODE_ROW(OM_CODES_YDYH, "2303", "田坎");
    CHECK_STR(om_code_find(OM_CODES_YDYH, "070101")->parent, "0701");
    CHECK_STR(om_code_find(OM_CODES_YDYH, "070101")->stat_class, "07");
}

TEST(test_dlbm_check)
{
    const struct om_code *c = (const struct om_code *)1;
    CHECK(om_dlbm_check("0101", &c) == OM_CODE_OK);
    CHECK(c && strcmp(c->code, "0101") == 0);
    CHECK(om_dlbm_check("05H1", NULL) == OM_CODE_OK);
    CHECK(om_dlbm_check("08H2", NULL) == OM_CODE_OK);
    CHECK(om_dlbm_check("09", &c) == OM_CODE_OK);
    CHECK_STR(c->code, "09");
    CHECK(om_dlbm_check("0201K", &c) == OM_CODE_OK);
    CHECK_STR(c->code, "0201K");
    CHECK(om_dlbm_check("1104A", NULL) == OM_CODE_OK);
    /* K is defined for 园地/林地/人工牧草地/养殖坑塘 only */
    CHECK(om_dlbm_check("0101K", &c) == OM_CODE_UNKNOWN_SUFFIX);
    CHECK(c && strcmp(c->code, "0101") == 0);
    CHECK(om_dlbm_check("0303K", &c) == OM_CODE_UNKNOWN_SUFFIX);
    CHECK_STR(c->code, "0303");

    static const char *bad[] = {
        "",     "0",     "01",    "00",   "10",   "1A01",         "0101KK",
        "010",  "01011", "0101k", "05h1", "05H3", "0101 ",        " 0101",
        "H101", "0H01",  "1101-", "09K",  "0a01", "\xe6\xb0\xb4",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = (const struct om_code *)1;
        if (om_dlbm_check(bad[i], &c) != OM_CODE_BAD_PATTERN || c) {
            FAILF("\"%s\" is not BAD_PATTERN", bad[i]);
            return;
        }
    }
    CHECK(om_dlbm_check(NULL, &c) == OM_CODE_BAD_PATTERN && !c);
    CHECK(om_dlbm_check("0199", &c) == OM_CODE_UNKNOWN && !c);
    CHECK(om_dlbm_check("1300", NULL) == OM_CODE_UNKNOWN);
    CHECK(om_dlbm_check("05H2", NULL) == OM_CODE_UNKNOWN);
    CHECK(om_dlbm_check("0199K", &c) == OM_CODE_UNKNOWN && !c);
    CHECK(om_dlbm_check("0501", NULL) == OM_CODE_UNKNOWN); /* GB/T only */
    /* every 二级 and suffixed row of the table passes */
    for (size_t i = 0; i < om_code_count(OM_CODES_DLBM); i++) {
        const struct om_code *r = om_code_at(OM_CODES_DLBM, i);
        if (r->level >= 2 && om_dlbm_check(r->code, NULL) != OM_CODE_OK) {
            FAILF("table row %s fails the check", r->code);
            return;
        }
    }
}

TEST(test_dlbm_rollup)
{
    char buf[8];
    CHECK_STR(om_dlbm_rollup("0303", 1, buf), "00");
    CHECK_STR(om_dlbm_rollup("0303", 2, buf), "0303");
    CHECK_STR(om_dlbm_rollup("0603", 1, buf), "00");
    CHECK_STR(om_dlbm_rollup("1108", 1, buf), "00");
    CHECK_STR(om_dlbm_rollup("0301", 1, buf), "03");
    CHECK_STR(om_dlbm_rollup("0301K", 1, buf), "03");
    CHECK_STR(om_dlbm_rollup("0301K", 2, buf), "0301");
    CHECK_STR(om_dlbm_rollup("0101K", 2, buf), "0101");
    CHECK_STR(om_dlbm_rollup("0101K", 1, buf), "01");
    CHECK_STR(om_dlbm_rollup("1104A", 2, buf), "1104");
    CHECK_STR(om_dlbm_rollup("1107A", 1, buf), "11");
    CHECK_STR(om_dlbm_rollup("08H2A", 2, buf), "08H2");
    CHECK_STR(om_dlbm_rollup("05H1", 1, buf), "05");
    CHECK_STR(om_dlbm_rollup("09", 1, buf), "09");
    CHECK_STR(om_dlbm_rollup("09", 2, buf), "09");
    strcpy(buf, "keep");
    CHECK(om_dlbm_rollup("0199", 1, buf) == NULL);
    CHECK(om_dlbm_rollup("01", 1, buf) == NULL);
    CHECK(om_dlbm_rollup("0101", 3, buf) == NULL);
    CHECK(om_dlbm_rollup("0101", 0, buf) == NULL);
    CHECK(om_dlbm_rollup(NULL, 1, buf) == NULL);
    CHECK_STR(buf, "keep");
}

TEST(test_ydyh_czcs_check)
{
    const struct om_code *c;
    CHECK(om_ydyh_check("01", &c) == OM_CODE_OK && c);
    CHECK(om_ydyh_check("0703", &c) == OM_CODE_OK);
    CHECK_STR(c->name_zh, "农村宅基地");
    CHECK(om_ydyh_check("070101", NULL) == OM_CODE_OK);
    CHECK(om_ydyh_check("25", &c) == OM_CODE_UNKNOWN && !c);
    CHECK(om_ydyh_check("0199", NULL) == OM_CODE_UNKNOWN);
    CHECK(om_ydyh_check("090301", NULL) == OM_CODE_UNKNOWN); /* 2020 only */
    static const char *bad[] = {"",   "1",    "010",   "01011", "0101011",
                                "0A", "05H1", "0101K", " 01",   "01 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (om_ydyh_check(bad[i], NULL) != OM_CODE_BAD_PATTERN) {
            FAILF("YDYH \"%s\" is not BAD_PATTERN", bad[i]);
            return;
        }
    }
    CHECK(om_ydyh_check(NULL, NULL) == OM_CODE_BAD_PATTERN);
    CHECK(om_czcs_check("201", &c) == OM_CODE_OK);
    CHECK_STR(c->name_zh, "城市");
    CHECK(om_czcs_check("203A", NULL) == OM_CODE_OK);
    CHECK(om_czcs_check("206", NULL) == OM_CODE_UNKNOWN);
    CHECK(om_czcs_check("204A", NULL) == OM_CODE_UNKNOWN);
    CHECK(om_czcs_check("20", NULL) == OM_CODE_BAD_PATTERN);
    CHECK(om_czcs_check("201AA", NULL) == OM_CODE_BAD_PATTERN);
    CHECK(om_czcs_check("2010", NULL) == OM_CODE_BAD_PATTERN);
    CHECK(om_czcs_check(NULL, NULL) == OM_CODE_BAD_PATTERN);
}

TEST(test_crosswalk)
{
    CHECK_STR(om_dlbm_to_ydyh("0101"), "0101");
    CHECK_STR(om_dlbm_to_ydyh("0103"), "0103");
    CHECK_STR(om_dlbm_to_ydyh("0701"), "0701");
    CHECK_STR(om_dlbm_to_ydyh("0702"), "0703");
    CHECK_STR(om_dlbm_to_ydyh("1203"), "2303");
    CHECK_STR(om_dlbm_to_ydyh("0303"), "0507");
    CHECK_STR(om_dlbm_to_ydyh("0305"), "0303");
    CHECK_STR(om_dlbm_to_ydyh("0603"), "1003");
    CHECK_STR(om_dlbm_to_ydyh("1006"), "0601");
    CHECK_STR(om_dlbm_to_ydyh("1202"), "0602");
    CHECK_STR(om_dlbm_to_ydyh("1109"), "1311");
    CHECK_STR(om_dlbm_to_ydyh("05H1"), "09");
    CHECK_STR(om_dlbm_to_ydyh("09"), "15");
    CHECK_STR(om_dlbm_to_ydyh("0301K"), "0301");
    CHECK_STR(om_dlbm_to_ydyh("0101K"), "0101"); /* via base */
    CHECK_STR(om_dlbm_to_ydyh("0810A"), "1403");
    CHECK(om_dlbm_to_ydyh("0199") == NULL);
    CHECK(om_dlbm_to_ydyh("01") == NULL);
    CHECK(om_dlbm_to_ydyh(NULL) == NULL);
    const struct om_code_xwalk *x = om_dlbm_xwalk("0204");
    CHECK(x && strcmp(x->ydyh, "0205") == 0);
    CHECK_STR(x->alternatives, "0204");

    /* every DLBM value has a target; every target and alternative exists */
    for (size_t i = 0; i < om_code_count(OM_CODES_DLBM); i++) {
        const struct om_code *c = om_code_at(OM_CODES_DLBM, i);
        if (om_dlbm_check(c->code, NULL) != OM_CODE_OK) {
            continue; /* 00 and 一级类 with 二级类 are no DLBM values */
        }
        if (!om_dlbm_to_ydyh(c->code)) {
            FAILF("no crosswalk for DLBM %s", c->code);
            return;
        }
    }
    CHECK(om_xwalk_count() > 0);
    CHECK(om_xwalk_at(om_xwalk_count()) == NULL);
    for (size_t i = 0; i < om_xwalk_count(); i++) {
        x = om_xwalk_at(i);
        CHECK(om_dlbm_check(x->dlbm, NULL) == OM_CODE_OK);
        CHECK(om_dlbm_xwalk(x->dlbm) == x);
        if (om_ydyh_check(x->ydyh, NULL) != OM_CODE_OK) {
            FAILF("%s -> unknown YDYH %s", x->dlbm, x->ydyh);
            return;
        }
        const char *p = x->alternatives;
        while (*p) {
            char alt[8];
            size_t n = strcspn(p, " ");
            CHECK(n > 0 && n < sizeof alt);
            memcpy(alt, p, n);
            alt[n] = 0;
            if (om_ydyh_check(alt, NULL) != OM_CODE_OK) {
                FAILF("%s alternative %s unknown", x->dlbm, alt);
                return;
            }
            p += n;
            if (*p) {
                p++;
            }
        }
    }
    /* the stat class carries over for the classes that keep their kind */
    CHECK_STR(om_code_find(OM_CODES_YDYH, om_dlbm_to_ydyh("1105"))->parent,
              "05");
}

/* The group a level>=2 DLBM row must be in, from its statistical class. */
static const char *dlbm_stat_group(const char *stat)
{
    static const char *names[] = {"wetland",
                                  "cultivated",
                                  "garden",
                                  "forest",
                                  "grassland",
                                  "commercial",
                                  "industrial_mining",
                                  "residential",
                                  "public_service",
                                  "special",
                                  "transport",
                                  "water",
                                  "other_land"};
    int k = (stat[0] - '0') * 10 + (stat[1] - '0');
    return k >= 0 && k <= 12 ? names[k] : NULL;
}

TEST(test_groups)
{
    static const char *big3[] = {"agricultural", "construction", "unused"};
    /* DLBM: each value is in exactly one 三大类 and in its stat group */
    for (size_t i = 0; i < om_code_count(OM_CODES_DLBM); i++) {
        const struct om_code *c = om_code_at(OM_CODES_DLBM, i);
        if (c->level < 2 && strcmp(c->code, "09") != 0) {
            continue;
        }
        int n = 0;
        for (int k = 0; k < 3; k++) {
            n += om_code_in_group(OM_CODES_DLBM, c->code, big3[k]);
        }
        if (n != 1) {
            FAILF("DLBM %s is in %d of the 三大类", c->code, n);
            return;
        }
        const char *sg = dlbm_stat_group(c->stat_class);
        CHECK(sg && om_code_in_group(OM_CODES_DLBM, c->code, sg));
        for (size_t g = 0; g < 13; g++) {
            char st[3] = {(char)('0' + g / 10), (char)('0' + g % 10), 0};
            const char *other = dlbm_stat_group(st);
            if (strcmp(other, sg) != 0 &&
                om_code_in_group(OM_CODES_DLBM, c->code, other)) {
                FAILF("DLBM %s is in %s and %s", c->code, sg, other);
                return;
            }
        }
    }
    /* GB/T 21010-2017 附录 A samples */
    CHECK(om_code_in_group(OM_CODES_DLBM, "0101", "cultivated"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0101", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1006", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1203", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1202", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0303", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0603", "construction"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1201", "construction"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1109", "construction"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "09", "construction"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1107A", "construction"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1107", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0404", "unused"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1101", "unused"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "1106", "unused"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0303", "wetland"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "0303", "forest"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0301K", "forest"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0301K", "adjustable"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "0301", "adjustable"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "0101K", "cultivated"));
    CHECK(om_code_in_group(OM_CODES_DLBM, "01", "agricultural"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "04", "agricultural"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "0199", "cultivated"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "0101", "nonsense"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, NULL, "cultivated"));
    CHECK(!om_code_in_group(OM_CODES_DLBM, "0101", NULL));

    /* YDYH: land classes partition into the 三大类, sea classes do not */
    for (size_t i = 0; i < om_code_count(OM_CODES_YDYH); i++) {
        const struct om_code *c = om_code_at(OM_CODES_YDYH, i);
        bool sea = om_code_in_group(OM_CODES_YDYH, c->code, "sea");
        bool land = om_code_in_group(OM_CODES_YDYH, c->code, "land");
        CHECK(sea != land);
        int k = atoi(c->stat_class);
        CHECK(sea == ((k >= 18 && k <= 22) || k == 24));
        if (c->level < 2 && strcmp(c->code, "16") != 0) {
            continue;
        }
        int n = 0;
        for (int j = 0; j < 3; j++) {
            n += om_code_in_group(OM_CODES_YDYH, c->code, big3[j]);
        }
        if (n != (sea ? 0 : 1)) {
            FAILF("YDYH %s is in %d of the 三大类", c->code, n);
            return;
        }
    }
    /* the crosswalk keeps the 三大类 of every 1:1 class */
    for (size_t i = 0; i < om_xwalk_count(); i++) {
        const struct om_code_xwalk *x = om_xwalk_at(i);
        if (strlen(x->ydyh) == 2) {
            continue;
        }
        for (int j = 0; j < 3; j++) {
            if (om_code_in_group(OM_CODES_DLBM, x->dlbm, big3[j]) !=
                om_code_in_group(OM_CODES_YDYH, x->ydyh, big3[j])) {
                FAILF("%s -> %s changes %s", x->dlbm, x->ydyh, big3[j]);
                return;
            }
        }
    }
    CHECK(om_code_in_group(OM_CODES_YDYH, "0601", "agricultural"));
    CHECK(om_code_in_group(OM_CODES_YDYH, "16", "construction"));
    CHECK(om_code_in_group(OM_CODES_CZCS, "202A", "urban"));
    CHECK(!om_code_in_group(OM_CODES_CZCS, "203", "urban"));

    /* group name iteration and Chinese names */
    size_t n = 0;
    while (om_code_group_names(OM_CODES_DLBM, n)) {
        n++;
    }
    CHECK_INT(n, 17);
    CHECK_STR(om_code_group_names(OM_CODES_DLBM, 0), "cultivated");
    CHECK_STR(om_code_group_name_zh(OM_CODES_DLBM, "agricultural"), "农用地");
    CHECK_STR(om_code_group_name_zh(OM_CODES_YDYH, "construction"), "建设用地");
    CHECK(om_code_group_name_zh(OM_CODES_YDYH, "adjustable") == NULL);
    CHECK(om_code_group_names((enum om_code_table)0, 0) == NULL);
}

/* ---- the CSVs, read back with an independent parser ---- */

#define MAXF 12

/* Split one CSV record (RFC 4180 quoting) of `line` in place. */
static int csv_split(char *line, char **f)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == MAXF) {
            return -1;
        }
        char *out = p;
        f[n++] = out;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
        } else {
            while (*p && *p != ',') {
                *out++ = *p++;
            }
        }
        char sep = *p;
        *out = '\0';
        if (sep == '\0') {
            return n;
        }
        if (sep != ',') {
            return -1;
        }
        p++;
    }
}

static FILE *open_csv(const char *name, char *path, size_t size)
{
    const char *dirs[] = {getenv("ONEMAP_CODES_DIR"), "data/codes",
                          "../data/codes", "../../data/codes"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (!dirs[i]) {
            continue;
        }
        snprintf(path, size, "%s/%s", dirs[i], name);
        FILE *f = fopen(path, "r");
        if (f) {
            return f;
        }
    }
    return NULL;
}

static bool csv_matches_table(enum om_code_table t, const char *name)
{
    char path[512], line[2048];
    char *f[MAXF];
    FILE *fp = open_csv(name, path, sizeof path);
    if (!fp) {
        FAILF("cannot open %s (run from the repository root)", name);
        return false;
    }
    size_t nrows = 0;
    bool ok = true;
    long ln = 0;
    while (ok && fgets(line, sizeof line, fp)) {
        ln++;
        line[strcspn(line, "\r\n")] = '\0';
        if (ln == 1 || !line[0]) {
            continue;
        }
        if (csv_split(line, f) != 9) {
            FAILF("%s:%ld: not 9 fields", path, ln);
            ok = false;
            break;
        }
        const struct om_code *c = om_code_at(t, nrows);
        if (!c || strcmp(c->code, f[0]) != 0 || c->level != atoi(f[1]) ||
            strcmp(c->parent ? c->parent : "", f[2]) != 0 ||
            strcmp(c->stat_class, f[3]) != 0 || strcmp(c->name_zh, f[4]) != 0 ||
            strcmp(c->name_en, f[5]) != 0 || strcmp(c->source, f[7]) != 0 ||
            strcmp(c->note, f[8]) != 0) {
            FAILF("%s:%ld: row %s differs from the compiled table (rerun "
                  "tools/gen-codes)",
                  path, ln, f[0]);
            ok = false;
            break;
        }
        /* groups: the listed ones and no others */
        size_t ng = 0;
        for (const char *g; (g = om_code_group_names(t, ng)); ng++) {
            bool listed = false;
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%s", f[6]);
            for (char *s = strtok(tmp, " "); s; s = strtok(NULL, " ")) {
                listed |= strcmp(s, g) == 0;
            }
            if (listed != om_code_in_group(t, c->code, g)) {
                FAILF("%s:%ld: %s group %s differs from the compiled table",
                      path, ln, c->code, g);
                ok = false;
                break;
            }
        }
        nrows++;
    }
    fclose(fp);
    if (ok && nrows != om_code_count(t)) {
        FAILF("%s has %zu rows, compiled table %zu", path, nrows,
              om_code_count(t));
        ok = false;
    }
    return ok;
}

TEST(test_tables_match_csv)
{
    CHECK(csv_matches_table(OM_CODES_DLBM, "dlbm.csv"));
    CHECK(csv_matches_table(OM_CODES_YDYH, "ydyh.csv"));
    CHECK(csv_matches_table(OM_CODES_CZCS, "czcs.csv"));

    char path[512], line[2048];
    char *f[MAXF];
    FILE *fp = open_csv("dlbm_ydyh.csv", path, sizeof path);
    CHECK(fp);
    size_t n = 0;
    long ln = 0;
    while (fgets(line, sizeof line, fp)) {
        ln++;
        line[strcspn(line, "\r\n")] = '\0';
        if (ln == 1 || !line[0]) {
            continue;
        }
        const struct om_code_xwalk *x = om_xwalk_at(n++);
        if (csv_split(line, f) != 4 || !x || strcmp(x->dlbm, f[0]) != 0 ||
            strcmp(x->ydyh, f[1]) != 0 || strcmp(x->alternatives, f[2]) != 0 ||
            strcmp(x->note, f[3]) != 0) {
            fclose(fp);
            FAILF("%s:%ld differs from the compiled crosswalk", path, ln);
            return;
        }
    }
    fclose(fp);
    CHECK_INT(n, om_xwalk_count());
}

int main(void)
{
    TEST_MAIN_BEGIN("test_codes");
    RUN(test_structure);
    RUN(test_dlbm_counts);
    RUN(test_dlbm_names);
    RUN(test_ydyh_counts_and_names);
    RUN(test_dlbm_check);
    RUN(test_dlbm_rollup);
    RUN(test_ydyh_czcs_check);
    RUN(test_crosswalk);
    RUN(test_groups);
    RUN(test_tables_match_csv);
    TEST_MAIN_END();
}
