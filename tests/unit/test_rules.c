/*
 * test_rules.c — the rule file parser (onemap/rules.h): the shipped default
 * set field by field, every class of malformed file with its line and
 * column, limits, anchors, out-of-memory at every allocation, and feature
 * selection by values, prefixes, code-table groups and negations on a small
 * built layer (expected masks written out by hand from the code tables).
 */
#include "onemap/rules.h"

#include "core/core.h"
#include "test.h"

static const char *tmp_file(const char *name, const char *text, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        return NULL;
    }
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

TEST(test_default_set)
{
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_default(&r, &err), &err);
    CHECK_STR(r->source, "(built-in)");
    CHECK_INT(strlen(r->sha256), 64);
    CHECK(r->name == NULL && r->crs == NULL);
    CHECK_INT(r->nrules, 11);
    CHECK_INT(r->nlayers, 6);
    CHECK_STR(r->admin_layer, "XZQ");
    CHECK_STR(r->admin_code, "XZQDM");
    CHECK_STR(r->admin_name, "XZQMC");

    const struct om_layer_conf *dltb = om_rules_layer(r, "dltb");
    CHECK(dltb != NULL);
    CHECK_STR(dltb->code, "DLTB");
    CHECK_STR(dltb->role, "landuse");
    CHECK_STR(dltb->title, "地类图斑");
    CHECK_INT(dltb->nkeys, 4);
    CHECK_STR(dltb->keys[0], "BSM");
    CHECK_STR(dltb->keys[1], "DLBM");
    CHECK_STR(dltb->keys[3], "ZLDWMC");
    CHECK_STR(om_rules_layer(r, "YJJBNTBHTB")->role, "farmland");
    CHECK_STR(om_rules_layer(r, "STBHHX")->role, "eco_redline");
    CHECK_STR(om_rules_layer(r, "CZKFBJ")->role, "urban_boundary");
    CHECK_STR(om_rules_layer(r, "GHYT")->role, "planned_use");
    CHECK(om_rules_layer(r, "NOPE") == NULL);

    /* every rule: id, kind, sides, severity, texts, defaults */
    static const struct {
        const char *id;
        enum om_rule_kind kind;
        const char *a, *b;
        enum om_severity sev;
        size_t na, nb;
    } want[] = {
        {"R001", OM_RULE_MUST_NOT_OVERLAP, "CZKFBJ", "YJJBNTBHTB", OM_SEV_ERROR,
         0, 0},
        {"R002", OM_RULE_MUST_NOT_OVERLAP, "STBHHX", "YJJBNTBHTB", OM_SEV_ERROR,
         0, 0},
        {"R003", OM_RULE_MUST_NOT_OVERLAP, "STBHHX", "CZKFBJ", OM_SEV_ERROR, 0,
         0},
        {"R004", OM_RULE_MUST_NOT_OVERLAP, "STBHHX", "DLTB", OM_SEV_WARNING, 0,
         1},
        {"R005", OM_RULE_MUST_NOT_OVERLAP, "STBHHX", "GHYT", OM_SEV_ERROR, 0,
         1},
        {"R006", OM_RULE_MUST_NOT_OVERLAP, "GHYT", "YJJBNTBHTB", OM_SEV_ERROR,
         1, 0},
        {"R007", OM_RULE_MUST_NOT_OVERLAP, "YJJBNTBHTB", "DLTB", OM_SEV_WARNING,
         0, 1},
        {"R008", OM_RULE_MUST_BE_WITHIN, "GHYT", "CZKFBJ", OM_SEV_WARNING, 1,
         0},
        {"R009", OM_RULE_MUST_COVER, "XZQ", "YJJBNTBHTB", OM_SEV_WARNING, 0, 0},
        {"R010", OM_RULE_MUST_COVER, "XZQ", "STBHHX", OM_SEV_WARNING, 0, 0},
        {"R011", OM_RULE_MUST_COVER, "XZQ", "CZKFBJ", OM_SEV_WARNING, 0, 0},
    };
    for (size_t i = 0; i < r->nrules; i++) {
        const struct om_rule *u = &r->rules[i];
        CHECK_STR(u->id, want[i].id);
        CHECK(om_rules_find(r, want[i].id) == u);
        CHECK_INT(u->kind, want[i].kind);
        CHECK_STR(u->a.layer, want[i].a);
        CHECK_STR(u->b.layer, want[i].b);
        CHECK_INT(u->severity, want[i].sev);
        CHECK_INT(u->a.nterms, want[i].na);
        CHECK_INT(u->b.nterms, want[i].nb);
        CHECK(u->zh && u->en && strlen(u->zh) > 10 && strlen(u->en) > 10);
        CHECK(u->min_area_m2 == 1.0);
        CHECK(u->min_width_m == 0.1);
        CHECK(u->line > 0);
        CHECK((u->basis != NULL) == (i < 8));
    }
    const struct om_rule *u = om_rules_find(r, "R001");
    CHECK_STR(u->zh, "城镇开发边界不得占用永久基本农田");
    CHECK_STR(u->a.text, "CZKFBJ");
    CHECK_STR(om_rule_kind_name(u->kind), "must_not_overlap");
    CHECK_STR(om_severity_name(u->severity), "error");

    u = om_rules_find(r, "R004");
    CHECK_INT(u->b.terms[0].op, OM_FILTER_GROUP);
    CHECK_INT(u->b.terms[0].table, OM_CODES_DLBM);
    CHECK_STR(u->b.terms[0].group, "construction");
    CHECK_STR(u->b.terms[0].field, "DLBM");
    CHECK_STR(u->b.text, "DLTB where DLBM in group construction (建设用地)");

    u = om_rules_find(r, "R005");
    CHECK_INT(u->b.terms[0].table, OM_CODES_YDYH);

    u = om_rules_find(r, "R007");
    CHECK_INT(u->b.terms[0].op, OM_FILTER_NOT_GROUP);
    CHECK_STR(u->b.terms[0].group, "cultivated");
    CHECK_STR(u->b.text, "DLTB where DLBM not in group cultivated (耕地)");

    u = om_rules_find(r, "R008");
    CHECK_INT(u->a.terms[0].op, OM_FILTER_IN);
    CHECK_INT(u->a.terms[0].nvalues, 7);
    CHECK_STR(u->a.terms[0].values[0], "0701*");
    CHECK_STR(u->a.text, "GHYT where YDYHFLDM in [0701*, 0702*, 09*, 1001*, "
                         "11*, 14*, 16*]");
    CHECK(om_rules_find(r, "R012") == NULL);
    om_rules_free(r);
}

/* The file on disk gives the same set and the file's checksum. */
TEST(test_load_file)
{
    char *text = NULL;
    size_t len = 0;
    struct om_error err;
    CHECK_OK(om_rules_default_text(&text, &len, &err), &err);
    CHECK(len > 1000 && strlen(text) == len);
    CHECK(strncmp(text, "# onemap.yaml", 13) == 0);
    const char *path = tmp_file("default.yaml", text, len);
    om_rules_text_free(text);
    CHECK(path != NULL);
    struct om_rules *r = NULL;
    CHECK_OK(om_rules_load(path, &r, &err), &err);
    CHECK_STR(r->source, path);
    CHECK_INT(r->nrules, 11);
    char hex[65];
    CHECK_OK(om__sha256_file(path, hex, &err), &err);
    CHECK_STR(r->sha256, hex);
    struct om_rules *d = NULL;
    CHECK_OK(om_rules_default(&d, &err), &err);
    CHECK_STR(d->sha256, hex);
    om_rules_free(d);
    om_rules_free(r);

    CHECK_STATUS(om_rules_load("/nonexistent/onemap.yaml", &r, &err), OM_EIO);
    CHECK(r == NULL);
    CHECK_STR(err.source, "/nonexistent/onemap.yaml");
}

TEST(test_full_format)
{
    const char *y = "version: 1\n"
                    "project: {name: 某县, crs: EPSG:4530}\n"
                    "layers:\n"
                    "  dltb: {keys: [BSM]}\n"
                    "  XZQ:\n"
                    "defaults: {severity: info, min_area: 5}\n"
                    "rules:\n"
                    "  - id: a-1.x\n"
                    "    kind: must_cover\n"
                    "    a: xzq\n"
                    "    b:\n"
                    "      layer: DLTB\n"
                    "      where:\n"
                    "        DLBM: {prefix: [01, '07*'], not: [0102]}\n"
                    "        QSXZ: \"10\"\n"
                    "        CODE: {group: agri_facility}\n"
                    "        X: {group: village, table: czcs}\n"
                    "    zh: 只有中文\n"
                    "    min_width: 0\n"
                    "  - id: B\n"
                    "    kind: must_be_within\n"
                    "    a: A\n"
                    "    b: {layer: B}\n"
                    "    en: English only\n"
                    "    severity: warning\n"
                    "    min_area: 0.25\n";
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK_STR(r->name, "某县");
    CHECK_STR(r->crs, "EPSG:4530");
    CHECK_INT(r->nlayers, 2);
    CHECK_STR(r->layers[0].code, "DLTB");
    CHECK(r->layers[1].role == NULL && r->layers[1].nkeys == 0);
    CHECK(r->admin_layer == NULL);
    const struct om_rule *u = &r->rules[0];
    CHECK_STR(u->id, "a-1.x");
    CHECK_STR(u->a.layer, "XZQ");
    CHECK_INT(u->severity, OM_SEV_INFO);
    CHECK(u->min_area_m2 == 5.0 && u->min_width_m == 0.0);
    CHECK_STR(u->en, "只有中文");
    CHECK_INT(u->b.nterms, 5);
    CHECK_INT(u->b.terms[0].op, OM_FILTER_PREFIX);
    CHECK_STR(u->b.terms[0].values[1], "07"); /* '*' dropped under prefix */
    CHECK_INT(u->b.terms[1].op, OM_FILTER_NOT_IN);
    CHECK_INT(u->b.terms[2].op, OM_FILTER_IN);
    CHECK_STR(u->b.terms[2].values[0], "10");
    CHECK_INT(u->b.terms[3].table, OM_CODES_YDYH); /* only YDYH has it */
    CHECK_INT(u->b.terms[4].table, OM_CODES_CZCS);
    CHECK_INT(u->b.terms[4].line, 17);
    CHECK_STR(u->b.text, "DLTB where DLBM starting with [01, 07] and DLBM not "
                         "in [0102] and QSXZ in [10] and CODE in group "
                         "agri_facility (农业设施建设用地) and X in group "
                         "village (村庄)");
    u = &r->rules[1];
    CHECK_STR(u->zh, "English only");
    CHECK_INT(u->kind, OM_RULE_MUST_BE_WITHIN);
    CHECK(u->min_area_m2 == 0.25 && u->min_width_m == 0.0);
    CHECK_INT(u->line, 20);
    om_rules_free(r);

    /* an empty rule list is a valid (empty) set */
    const char *e = "version: 1\nrules: []\n";
    CHECK_OK(om_rules_parse(e, strlen(e), NULL, &r, &err), &err);
    CHECK_INT(r->nrules, 0);
    CHECK_STR(r->source, "(buffer)");
    om_rules_free(r);
}

/* Each malformed file: status, line, "column N:" and a phrase. */
TEST(test_errors)
{
#define HEAD "version: 1\nrules:\n  - id: R1\n    kind: must_not_overlap\n"
    static const struct {
        const char *text;
        enum om_status st;
        long line;
        const char *col; /* "column N:" or NULL */
        const char *phrase;
    } cases[] = {
        {HEAD "    a: A\n    b: B\n    severty: error\n    zh: x\n", OM_EPARSE,
         7, "column 5:",
         "unknown key 'severty' (did you mean "
         "'severity'?)"},
        {HEAD "    a: [A, B]\n    b: B\n    zh: x\n", OM_EPARSE, 5,
         "column 8:", "expected a single value, found a list"},
        {"version: 1\nrules:\n  - kind: must_cover\n    a: A\n    b: B\n",
         OM_EPARSE, 3, "column 5:", "rule #1: missing 'id'"},
        {"version: 1\nrules:\n  - id: R1\n    a: A\n    b: B\n    zh: x\n",
         OM_EPARSE, 3, "column 5:", "rule R1: missing 'kind'"},
        {HEAD "    b: B\n    zh: x\n", OM_EPARSE, 3,
         "column 5:", "missing 'a'"},
        {HEAD "    a: A\n    zh: x\n", OM_EPARSE, 3, NULL, "missing 'b'"},
        {HEAD "    a: A\n    b: B\n", OM_EPARSE, 3, NULL,
         "missing 'zh' and 'en'"},
        {HEAD "    a: A\n    b: B\n    zh: x\n  - id: R1\n", OM_EPARSE, 8,
         "column 9:", "rule id R1 is used twice (first at line 3)"},
        {"version: 1\nrules:\n  - id: R1\n    kind: must_not_overlaps\n"
         "    a: A\n    b: B\n",
         OM_EPARSE, 4, "column 11:",
         "unknown value 'must_not_overlaps' (did you mean "
         "'must_not_overlap'?)"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    severity: fatal\n", OM_EPARSE,
         8, "column 15:", "one of: error, warning, info"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    min_area: abc\n", OM_EPARSE,
         8, "column 15:", "'abc' is not a number"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    min_area: -1\n", OM_EPARSE, 8,
         NULL, "-1 is negative"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    min_width: 1e999\n",
         OM_EPARSE, 8, NULL, "'1e999' is not a number"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    min_area: .inf\n", OM_EPARSE,
         8, NULL, "is not a number"},
        {HEAD "    a: A\n    b: {layer: DLTB, where: {DLBM: {group: "
              "constructon}}}\n    zh: x\n",
         OM_EPARSE, 6, "column 44:",
         "unknown group 'constructon' of table dlbm (did you mean "
         "'construction'?)"},
        {HEAD "    a: A\n    b: {layer: T, where: {FOO: {group: "
              "construction}}}\n    zh: x\n",
         OM_EPARSE, 6, NULL, "add 'table: dlbm'"},
        {HEAD "    a: A\n    b: {layer: T, where: {F: [01*1]}}\n    zh: x\n",
         OM_EPARSE, 6, NULL, "'*' may only end a value"},
        {HEAD "    a: A\n    b: {layer: T, where: {F: []}}\n    zh: x\n",
         OM_EPARSE, 6, NULL, "empty list"},
        {HEAD "    a: A\n    b: {layer: T, wher: {F: x}}\n    zh: x\n",
         OM_EPARSE, 6, "column 19:", "did you mean 'where'?"},
        {HEAD "    a: A-B\n    b: B\n    zh: x\n", OM_EPARSE, 5, NULL,
         "'A-B' is not a layer code"},
        {HEAD "    a: A\n    b: B\n    zh: x\n    zh: y\n", OM_EPARSE, 8,
         "column 5:", "key 'zh' given twice (first at line 7)"},
        {"version: 1\nrules:\n  - id: R1\n    kind: [must_cover\n", OM_EPARSE,
         5, NULL, "YAML:"},
        {"version: 1\nrules:\n  - id: R1\n   kind: x\n", OM_EPARSE, 4, NULL,
         "YAML:"},
        {"version: 1\nrules:\n  - id: &x R1\n", OM_EPARSE, 3,
         "column 9:", "anchors (&name) are not supported"},
        {"version: 1\nx: &a [1]\nrules: *a\n", OM_EPARSE, 2, NULL, "anchors"},
        {"version: 1\nrules: *a\n", OM_EPARSE, 2, NULL, "YAML"},
        {"rules: []\n", OM_EPARSE, 1, "column 1:", "missing 'version: 1'"},
        {"version: 2\nrules: []\n", OM_EPARSE, 1,
         "column 10:", "unsupported version"},
        {"version: 1\nrule: []\n", OM_EPARSE, 2,
         "column 1:", "unknown key 'rule' (did you mean 'rules'?)"},
        {"version: 1\n", OM_EPARSE, 1, NULL, "missing 'rules:'"},
        {"", OM_EPARSE, 0, NULL, "an empty file"},
        {"- a\n- b\n", OM_EPARSE, 1, "column 1:", "found a list"},
        {"version: 1\nrules: []\n---\nversion: 1\n", OM_EPARSE, 3, NULL,
         "a second YAML document"},
        {"version: 1\nrules: {a: 1}\n", OM_EPARSE, 2, NULL,
         "expected a list of rules"},
        {"version: 1\nlayers: {DLTB: {role: land_use}}\nrules: []\n", OM_EPARSE,
         2, NULL, "did you mean 'landuse'?"},
        {"version: 1\nadmin: {code: XZQDM}\nrules: []\n", OM_EPARSE, 2, NULL,
         "admin: missing 'layer'"},
        {"version: 1\nrules:\n  - id: \"R 1\"\n", OM_EPARSE, 3, NULL,
         "use letters, digits"},
        {"version: 1\nrules: []\nname: \"\xb3\xc7\xd5\xf2\"\n", OM_EPARSE, 3,
         NULL, "save the file as UTF-8"},
    };
#undef HEAD
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct om_rules *r = (struct om_rules *)&cases; /* must be reset */
        struct om_error err;
        om_error_clear(&err);
        enum om_status st = om_rules_parse(cases[i].text, strlen(cases[i].text),
                                           "bad.yaml", &r, &err);
        if (st != cases[i].st || r != NULL) {
            FAILF("case %zu: status %s (%s), want %s", i, om_status_name(st),
                  err.msg, om_status_name(cases[i].st));
            om_rules_free(st == OM_OK ? r : NULL);
            return;
        }
        if (err.line != cases[i].line || strcmp(err.source, "bad.yaml") != 0) {
            FAILF("case %zu: line %ld source %s, want %ld (%s)", i, err.line,
                  err.source, cases[i].line, err.msg);
            return;
        }
        if ((cases[i].col &&
             strncmp(err.msg, cases[i].col, strlen(cases[i].col)) != 0) ||
            !strstr(err.msg, cases[i].phrase)) {
            FAILF("case %zu: message \"%s\", want \"%s\" ... \"%s\"", i,
                  err.msg, cases[i].col ? cases[i].col : "", cases[i].phrase);
            return;
        }
    }
}

TEST(test_limits)
{
    struct om_rules *r = NULL;
    struct om_error err;
    /* nesting */
    char deep[256] = "version: 1\nrules: ";
    size_t n = strlen(deep);
    for (int i = 0; i < 40; i++) {
        deep[n++] = '[';
    }
    for (int i = 0; i < 40; i++) {
        deep[n++] = ']';
    }
    deep[n] = '\0';
    CHECK_STATUS(om_rules_parse(deep, n, "deep.yaml", &r, &err), OM_ELIMIT);
    CHECK_CONTAINS(err.msg, "OM_LIMIT_RULES_DEPTH");
    CHECK(r == NULL);

    /* a long scalar */
    size_t big = OM_LIMIT_RULES_SCALAR + 100;
    char *t = malloc(big + 100);
    CHECK(t != NULL);
    strcpy(t, "version: 1\nrules:\n  - id: R1\n    zh: ");
    size_t k = strlen(t);
    memset(t + k, 'x', big);
    strcpy(t + k + big, "\n");
    enum om_status st = om_rules_parse(t, strlen(t), "long.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK_INT(err.line, 4);
    CHECK_CONTAINS(err.msg, "OM_LIMIT_RULES_SCALAR");

    /* file size: refused before parsing */
    CHECK_STATUS(
        om_rules_parse("", (size_t)OM_LIMIT_RULES_BYTES + 1, "huge", &r, &err),
        OM_ELIMIT);

    /* billion laughs: refused at the first anchor, whatever the size */
    const char *lol = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    CHECK_STATUS(om_rules_parse(lol, strlen(lol), "lol", &r, &err), OM_EPARSE);
    CHECK_INT(err.line, 1);
    CHECK_CONTAINS(err.msg, "anchors");

    CHECK_STATUS(om_rules_parse(NULL, 0, "x", NULL, &err), OM_EINVAL);
}

/* Every allocation failing in turn: OM_ENOMEM, nothing leaks. */
TEST(test_out_of_memory)
{
    struct om_error err;
    int nfail = 0;
    for (int i = 0; i < 100000; i++) {
        struct om_rules *r = NULL;
        test_fail_allocs_after(i);
        enum om_status st = om_rules_default(&r, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            CHECK(r != NULL && r->nrules == 11);
            om_rules_free(r);
            break;
        }
        CHECK_INT(st, OM_ENOMEM);
        CHECK(r == NULL);
        nfail++;
    }
    CHECK(nfail > 100);
}

/* ---- selection ---- */

static const char *const dlbm_vals[] = {"0101",  "0701",   "05H1",  "1203",
                                        NULL,    " 0702 ", "0201K", "0102",
                                        "1107A", "0303",   "",      "0101K"};
#define NF (sizeof dlbm_vals / sizeof dlbm_vals[0])

static struct om_layer *make_layer(void)
{
    struct om_layer *l = NULL;
    struct om_error err;
    int fd, fn, fr;
    if (om_layer_new("DLTB", &l, &err) != OM_OK ||
        om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &fd, &err) != OM_OK ||
        om_layer_add_field(l, "N", OM_FIELD_INT, &fn, &err) != OM_OK ||
        om_layer_add_field(l, "R", OM_FIELD_REAL, &fr, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    for (size_t i = 0; i < NF; i++) {
        double x = (double)i * 10;
        double ring[] = {x, 0, x + 5, 0, x + 5, 5, x, 5, x, 0};
        if (om_layer_begin_feature(l, (int64_t)i + 1, &err) != OM_OK ||
            om_layer_begin_part(l, &err) != OM_OK ||
            om_layer_add_ring(l, ring, 5, &err) != OM_OK ||
            om_layer_set_text(l, fd, dlbm_vals[i], &err) != OM_OK ||
            om_layer_set_int(l, fn, (int64_t)i * 7, &err) != OM_OK ||
            (i % 3 != 2 &&
             om_layer_set_real(l, fr, (double)i / 2, &err) != OM_OK) ||
            om_layer_end_feature(l, &err) != OM_OK) {
            om_layer_free(l);
            return NULL;
        }
    }
    if (om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* Parse one rule whose b side is `where` and select on the layer. */
static void select_where(const struct om_layer *l, const char *where,
                         const char *want)
{
    char text[1024];
    snprintf(text, sizeof text,
             "version: 1\nrules:\n  - id: S1\n    kind: must_not_overlap\n"
             "    a: X\n    b: {layer: DLTB, where: %s}\n    zh: t\n",
             where);
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_parse(text, strlen(text), "sel.yaml", &r, &err), &err);
    uint8_t *mask = NULL;
    size_t nsel = 99;
    enum om_status st = om_rule_side_select(&r->rules[0], &r->rules[0].b, l,
                                            &mask, &nsel, &err);
    om_rules_free(r);
    CHECK_OK(st, &err);
    char got[NF + 1];
    size_t ones = 0;
    for (size_t i = 0; i < NF; i++) {
        got[i] = mask[i] ? '1' : '0';
        ones += mask[i];
    }
    got[NF] = '\0';
    om_rules_mask_free(mask);
    if (strcmp(got, want) != 0 || ones != nsel) {
        FAILF("where %s: mask %s (n %zu), want %s", where, got, nsel, want);
    }
}

TEST(test_select)
{
    struct om_layer *l = make_layer();
    CHECK(l != NULL);
    /* values:   0101 0701 05H1 1203 NULL ' 0702 ' 0201K 0102 1107A 0303 ''
     *           0101K */
    select_where(l, "{DLBM: [0101, 0102]}", "100000010000");
    select_where(l, "{DLBM: 0702}", "000001000000"); /* blanks trimmed */
    select_where(l, "{DLBM: [07*, 0303]}", "010001000100");
    select_where(l, "{DLBM: {prefix: [01, 12]}}", "100100010001");
    select_where(l, "{DLBM: {not: [0101, 07*]}}", "001110111111");
    select_where(l, "{DLBM: {not: {prefix: [0]}}}", "000110001010");
    /* 三调 construction: 05 06 07 08 09 10 (not 1006) 1201 1107A, 05H1 */
    select_where(l, "{DLBM: {group: construction}}", "011001001000");
    select_where(l, "{DLBM: {group: cultivated}}", "100000010001");
    /* not cultivated: 0101K counts as its base 0101 (cultivated) */
    select_where(l, "{DLBM: {not: {group: cultivated}}}", "011111101110");
    select_where(l, "{DLBM: {group: wetland}}", "000000000100");
    select_where(l, "{DLBM: {group: adjustable}}", "000000100000");
    /* terms on several fields are ANDed; ints match as decimal text */
    select_where(l, "{dlbm: {prefix: [0]}, N: [0, 7, 42, 49]}", "110000110000");
    select_where(l, "{N: {prefix: [1, 2]}}", "001110000000");
    /* reals: exact values compare as numbers; NULL reals match NOT only */
    select_where(l, "{R: [0.5, '2.0', 3]}", "010010100000");
    select_where(l, "{R: {not: [0]}}", "011111111111");
    select_where(l, "{}", "111111111111");

    /* unknown field */
    const char *t = "version: 1\nrules:\n  - id: S9\n    kind: must_cover\n"
                    "    a: X\n    b: {layer: DLTB, where: {DLMC: [x]}}\n"
                    "    zh: t\n";
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_parse(t, strlen(t), "x.yaml", &r, &err), &err);
    uint8_t *mask = (uint8_t *)&err;
    size_t nsel = 5;
    enum om_status st = om_rule_side_select(&r->rules[0], &r->rules[0].b, l,
                                            &mask, &nsel, &err);
    om_rules_free(r);
    om_layer_free(l);
    CHECK_INT(st, OM_ENOTFOUND);
    CHECK(mask == NULL && nsel == 0);
    CHECK_STR(err.source, "DLTB");
    CHECK_CONTAINS(err.msg, "rule S9: layer DLTB has no field DLMC (line 6");
    CHECK_CONTAINS(err.msg, "its fields: DLBM, N, R");
}

TEST(test_term_match)
{
    char *vals[] = {"09", "10*"};
    struct om_filter_term t = {
        .field = "F", .op = OM_FILTER_IN, .values = vals, .nvalues = 2};
    CHECK(om_filter_term_match(&t, "09"));
    CHECK(!om_filter_term_match(&t, "0901"));
    CHECK(om_filter_term_match(&t, "1001"));
    CHECK(om_filter_term_match(&t, "10"));
    CHECK(!om_filter_term_match(&t, "1"));
    CHECK(!om_filter_term_match(&t, NULL));
    t.op = OM_FILTER_NOT_IN;
    CHECK(om_filter_term_match(&t, NULL));
    CHECK(om_filter_term_match(&t, "0901"));
    CHECK(!om_filter_term_match(&t, " 09\t"));
    struct om_filter_term g = {.field = "YDYHFLDM",
                               .op = OM_FILTER_GROUP,
                               .group = "construction",
                               .table = OM_CODES_YDYH};
    /* 用地用海 construction: 07-16 and 2301 */
    CHECK(om_filter_term_match(&g, "0701"));
    CHECK(om_filter_term_match(&g, "16"));
    CHECK(om_filter_term_match(&g, "2301"));
    CHECK(!om_filter_term_match(&g, "0101"));
    CHECK(!om_filter_term_match(&g, "2302"));
    CHECK(!om_filter_term_match(&g, "0601")); /* agri facility */
    CHECK(!om_filter_term_match(&g, "07010199999999999999999999999999999"));
    CHECK(!om_filter_term_match(NULL, "0701"));
}

int main(void)
{
    TEST_MAIN_BEGIN("test_rules");
    RUN(test_default_set);
    RUN(test_load_file);
    RUN(test_full_format);
    RUN(test_errors);
    RUN(test_limits);
    RUN(test_out_of_memory);
    RUN(test_select);
    RUN(test_term_match);
    TEST_MAIN_END();
}
