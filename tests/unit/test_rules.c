/*
 * test_rules.c — the rule file parser (onemap/rules.h): the shipped default
 * set field by field, every class of malformed file with its line and
 * column, limits, anchors, out-of-memory at every allocation, and feature
 * selection by values, prefixes, code-table groups and negations on a small
 * built layer (expected masks written out by hand from the code tables);
 * the compliance review profiles: the shipped ones check by check, every
 * key, every error with its line and column, limits and out-of-memory;
 * the quality control section: defaults with and without it, the shipped
 * schemas (and against the fields the sample data generator writes),
 * every key, every error, limits and out-of-memory.
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

/* ---- compliance review profiles ---- */

/* The shipped profiles, check by check (docs/rules.md section 6). */
TEST(test_default_profiles)
{
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_default(&r, &err), &err);
    CHECK_INT(r->nprofiles, 3);
    CHECK_STR(r->profiles[0].name, "default");
    CHECK_STR(r->profiles[1].name, "urban");
    CHECK_STR(r->profiles[2].name, "linear");
    CHECK(om_rules_profile(r, "urban") == &r->profiles[1]);
    CHECK(om_rules_profile(r, "Urban") == NULL); /* exact */
    CHECK(om_rules_profile(r, "nope") == NULL);
    CHECK(om_rules_profile(r, NULL) == NULL);
    CHECK(om_rules_profile(NULL, "default") == NULL);

    static const struct {
        const char *zh, *en;
    } ptext[] = {
        {"一般建设项目", "General construction project"},
        {"城镇建设项目", "Urban construction project"},
        {"线性基础设施（公路、铁路、水利等）",
         "Linear infrastructure (roads, railways, water works)"},
    };
    /* one row per check: profile, id, kind, layer, nterms, by, outcome,
     * has basis */
    static const struct {
        int profile;
        const char *id;
        enum om_check_kind kind;
        const char *layer;
        size_t nterms;
        const char *by;
        enum om_decision outcome;
        bool basis;
    } want[] = {
        {0, "C001", OM_CHECK_FORBIDDEN, "YJJBNTBHTB", 0, NULL, OM_DECISION_FAIL,
         true},
        {0, "C002", OM_CHECK_FORBIDDEN, "STBHHX", 0, NULL, OM_DECISION_FAIL,
         true},
        {0, "C003", OM_CHECK_CONDITIONAL, "DLTB", 1, "DLBM",
         OM_DECISION_CONDITIONAL, true},
        {0, "C004", OM_CHECK_REPORT, "DLTB", 0, "DLBM", OM_DECISION_PASS,
         false},
        {0, "C005", OM_CHECK_REPORT, "GHYT", 0, "YDYHFLDM", OM_DECISION_PASS,
         false},
        {0, "C006", OM_CHECK_PURPOSE, "GHYT", 0, "YDYHFLDM",
         OM_DECISION_CONDITIONAL, false},
        {1, "C001", OM_CHECK_FORBIDDEN, "YJJBNTBHTB", 0, NULL, OM_DECISION_FAIL,
         true},
        {1, "C002", OM_CHECK_FORBIDDEN, "STBHHX", 0, NULL, OM_DECISION_FAIL,
         true},
        {1, "U001", OM_CHECK_MUST_BE_WITHIN, "CZKFBJ", 0, NULL,
         OM_DECISION_FAIL, true},
        {1, "C003", OM_CHECK_CONDITIONAL, "DLTB", 1, "DLBM",
         OM_DECISION_CONDITIONAL, true},
        {1, "C004", OM_CHECK_REPORT, "DLTB", 0, "DLBM", OM_DECISION_PASS,
         false},
        {1, "C005", OM_CHECK_REPORT, "GHYT", 0, "YDYHFLDM", OM_DECISION_PASS,
         false},
        {1, "C006", OM_CHECK_PURPOSE, "GHYT", 0, "YDYHFLDM",
         OM_DECISION_CONDITIONAL, false},
        {2, "L001", OM_CHECK_CONDITIONAL, "YJJBNTBHTB", 0, NULL,
         OM_DECISION_CONDITIONAL, true},
        {2, "L002", OM_CHECK_CONDITIONAL, "STBHHX", 0, NULL,
         OM_DECISION_CONDITIONAL, true},
        {2, "C003", OM_CHECK_CONDITIONAL, "DLTB", 1, "DLBM",
         OM_DECISION_CONDITIONAL, true},
        {2, "C004", OM_CHECK_REPORT, "DLTB", 0, "DLBM", OM_DECISION_PASS,
         false},
        {2, "C005", OM_CHECK_REPORT, "GHYT", 0, "YDYHFLDM", OM_DECISION_PASS,
         false},
        {2, "C006", OM_CHECK_PURPOSE, "GHYT", 0, "YDYHFLDM",
         OM_DECISION_CONDITIONAL, false},
    };
    size_t row = 0;
    for (int p = 0; p < 3; p++) {
        const struct om_check_profile *pf = &r->profiles[p];
        CHECK_STR(pf->zh, ptext[p].zh);
        CHECK_STR(pf->en, ptext[p].en);
        CHECK(pf->tolerance_m2 == 1.0);
        CHECK(pf->line > 0);
        CHECK_INT(pf->nchecks, p == 1 ? 7 : 6);
        for (size_t i = 0; i < pf->nchecks; i++, row++) {
            const struct om_check_rule *c = &pf->checks[i];
            CHECK(row < sizeof want / sizeof want[0]);
            CHECK_INT(want[row].profile, p);
            CHECK_STR(c->id, want[row].id);
            CHECK_INT(c->kind, want[row].kind);
            CHECK_STR(c->layer.layer, want[row].layer);
            CHECK_INT(c->layer.nterms, want[row].nterms);
            if (want[row].by) {
                CHECK_STR(c->by, want[row].by);
            } else {
                CHECK(c->by == NULL);
            }
            CHECK_INT(c->outcome, want[row].outcome);
            CHECK((c->basis != NULL) == want[row].basis);
            CHECK(c->tolerance_m2 == 1.0);
            CHECK(c->zh && c->en && strlen(c->zh) >= 12 && strlen(c->en) > 10 &&
                  strcmp(c->zh, c->en) != 0);
            CHECK(c->line > pf->line);
            CHECK(i == 0 || c->line > pf->checks[i - 1].line);
        }
    }
    CHECK_INT(row, sizeof want / sizeof want[0]);

    /* an id shared with the default profile means the same check */
    for (int p = 1; p < 3; p++) {
        const struct om_check_profile *pf = &r->profiles[p];
        for (size_t i = 0; i < pf->nchecks; i++) {
            const struct om_check_rule *c = &pf->checks[i];
            for (size_t j = 0; j < r->profiles[0].nchecks; j++) {
                const struct om_check_rule *d = &r->profiles[0].checks[j];
                if (strcmp(c->id, d->id) != 0) {
                    continue;
                }
                CHECK_STR(c->zh, d->zh);
                CHECK_STR(c->en, d->en);
                CHECK_STR(c->layer.text, d->layer.text);
                CHECK_INT(c->kind, d->kind);
                CHECK_INT(c->outcome, d->outcome);
            }
        }
    }

    const struct om_check_rule *c = &r->profiles[0].checks[0];
    CHECK_STR(c->zh, "不得占用永久基本农田");
    CHECK_STR(c->basis, "《中华人民共和国土地管理法》第三十五条");
    c = &r->profiles[0].checks[2];
    CHECK_INT(c->layer.terms[0].op, OM_FILTER_GROUP);
    CHECK_INT(c->layer.terms[0].table, OM_CODES_DLBM);
    CHECK_STR(c->layer.text, "DLTB where DLBM in group cultivated (耕地)");
    CHECK_STR(c->basis, "《中华人民共和国土地管理法》第三十条");
    CHECK_CONTAINS(c->zh, "占补平衡");
    c = &r->profiles[2].checks[0];
    CHECK_CONTAINS(c->zh, "论证");
    CHECK_CONTAINS(c->en, "approval");
    CHECK_CONTAINS(r->profiles[2].checks[1].zh, "论证");
    CHECK_CONTAINS(r->profiles[1].checks[2].en, "urban development boundary");
    om_rules_free(r);

    CHECK_STR(om_check_kind_name(OM_CHECK_FORBIDDEN), "forbidden");
    CHECK_STR(om_check_kind_name(OM_CHECK_CONDITIONAL), "conditional");
    CHECK_STR(om_check_kind_name(OM_CHECK_MUST_BE_WITHIN), "must_be_within");
    CHECK_STR(om_check_kind_name(OM_CHECK_REPORT), "report");
    CHECK_STR(om_check_kind_name(OM_CHECK_PURPOSE), "purpose");
    CHECK_STR(om_check_kind_name((enum om_check_kind)0), "?");
    CHECK_STR(om_check_kind_name((enum om_check_kind)6), "?");
    CHECK_STR(om_decision_name(OM_DECISION_PASS), "pass");
    CHECK_STR(om_decision_name(OM_DECISION_CONDITIONAL), "conditional");
    CHECK_STR(om_decision_name(OM_DECISION_FAIL), "fail");
    CHECK_STR(om_decision_name((enum om_decision)3), "?");
    CHECK_STR(om_decision_name((enum om_decision) - 1), "?");
    CHECK_STR(om_decision_zh(OM_DECISION_PASS), "通过");
    CHECK_STR(om_decision_zh(OM_DECISION_CONDITIONAL), "有条件通过");
    CHECK_STR(om_decision_zh(OM_DECISION_FAIL), "不通过");
    CHECK_STR(om_decision_zh((enum om_decision)7), "?");
    CHECK(OM_DECISION_PASS < OM_DECISION_CONDITIONAL &&
          OM_DECISION_CONDITIONAL < OM_DECISION_FAIL);
}

/* Every key of the profiles section, defaults and inheritance. */
TEST(test_profiles_format)
{
    const char *y = "version: 1\n"                   /* 1 */
                    "defaults: {min_area: 2.5}\n"    /* 2 */
                    "profiles:\n"                    /* 3 */
                    "  a-1_x:\n"                     /* 4 */
                    "    zh: 甲\n"                   /* 5 */
                    "    tolerance: 0.5\n"           /* 6 */
                    "    checks:\n"                  /* 7 */
                    "      - id: K.1\n"              /* 8 */
                    "        kind: forbidden\n"      /* 9 */
                    "        layer: yjjbntbhtb\n"    /* 10 */
                    "        en: only english\n"     /* 11 */
                    "        outcome: conditional\n" /* 12 */
                    "        tolerance: 0\n"         /* 13 */
                    "        basis: 某文件\n"        /* 14 */
                    "      - id: K2\n"               /* 15 */
                    "        kind: conditional\n"    /* 16 */
                    "        layer: {layer: dltb, where: {DLBM: [0101, 02*]}}\n"
                    "        by: DLBM\n"      /* 18 */
                    "        zh: 只有中文\n"  /* 19 */
                    "        outcome: fail\n" /* 20 */
                    "      - {id: K3, kind: must_be_within, layer: CZKFBJ, "
                    "zh: x, en: y, outcome: pass}\n" /* 21 */
                    "      - {id: K4, kind: report, layer: DLTB, by: ~, "
                    "zh: r, outcome: pass}\n" /* 22 */
                    "      - {id: K5, kind: purpose, layer: GHYT, "
                    "by: YDYHFLDM, zh: p}\n" /* 23 */
                    "      - {id: K6, kind: report, layer: DLTB, zh: q}\n"
                    "  b:\n"        /* 25 */
                    "    en: Bee\n" /* 26 */
                    "    checks: [{id: K.1, kind: conditional, layer: X, "
                    "zh: z}]\n"     /* 27 */
                    "  c:\n"        /* 28 */
                    "    checks:\n" /* 29 */
                    "      - {id: Z, kind: forbidden, layer: X, zh: z}\n";
    struct om_rules *r = NULL;
    struct om_error err;
    /* a profile-only file is a valid rule file */
    CHECK_OK(om_rules_parse(y, strlen(y), "p.yaml", &r, &err), &err);
    CHECK_INT(r->nrules, 0);
    CHECK(r->rules == NULL);
    CHECK_INT(r->nprofiles, 3);

    const struct om_check_profile *pf = om_rules_profile(r, "a-1_x");
    CHECK(pf == &r->profiles[0]);
    CHECK_STR(pf->zh, "甲");
    CHECK_STR(pf->en, "甲"); /* copy of the other */
    CHECK(pf->tolerance_m2 == 0.5);
    CHECK_INT(pf->line, 4);
    CHECK_INT(pf->nchecks, 6);
    const struct om_check_rule *c = &pf->checks[0];
    CHECK_STR(c->id, "K.1");
    CHECK_INT(c->kind, OM_CHECK_FORBIDDEN);
    CHECK_STR(c->layer.layer, "YJJBNTBHTB"); /* upper-cased */
    CHECK_STR(c->layer.text, "YJJBNTBHTB");
    CHECK_INT(c->layer.nterms, 0);
    CHECK(c->by == NULL);
    CHECK_INT(c->outcome, OM_DECISION_CONDITIONAL);
    CHECK(c->tolerance_m2 == 0.0);
    CHECK_STR(c->zh, "only english");
    CHECK_STR(c->en, "only english");
    CHECK_STR(c->basis, "某文件");
    CHECK_INT(c->line, 8);

    c = &pf->checks[1];
    CHECK_INT(c->kind, OM_CHECK_CONDITIONAL);
    CHECK_STR(c->layer.layer, "DLTB");
    CHECK_INT(c->layer.nterms, 1);
    CHECK_INT(c->layer.terms[0].op, OM_FILTER_IN);
    CHECK_INT(c->layer.terms[0].line, 17);
    CHECK_STR(c->layer.text, "DLTB where DLBM in [0101, 02*]");
    CHECK_STR(c->by, "DLBM");
    CHECK_INT(c->outcome, OM_DECISION_FAIL);
    CHECK(c->tolerance_m2 == 0.5); /* the profile's */
    CHECK_STR(c->en, "只有中文");
    CHECK(c->basis == NULL);
    CHECK_INT(c->line, 15);

    c = &pf->checks[2];
    CHECK_INT(c->kind, OM_CHECK_MUST_BE_WITHIN);
    CHECK_INT(c->outcome, OM_DECISION_PASS);
    CHECK_STR(c->zh, "x");
    CHECK_STR(c->en, "y");
    CHECK_INT(c->line, 21);
    c = &pf->checks[3];
    CHECK_INT(c->kind, OM_CHECK_REPORT);
    CHECK(c->by == NULL); /* by: ~ is no field */
    CHECK_INT(c->outcome, OM_DECISION_PASS);
    c = &pf->checks[4];
    CHECK_INT(c->kind, OM_CHECK_PURPOSE);
    CHECK_STR(c->by, "YDYHFLDM");
    CHECK_INT(c->outcome, OM_DECISION_CONDITIONAL); /* default */
    c = &pf->checks[5];
    CHECK_INT(c->outcome, OM_DECISION_PASS); /* report default */

    /* the same id in two profiles; tolerance from defaults.min_area */
    pf = om_rules_profile(r, "b");
    CHECK_STR(pf->zh, "Bee");
    CHECK_STR(pf->en, "Bee");
    CHECK(pf->tolerance_m2 == 2.5);
    CHECK_STR(pf->checks[0].id, "K.1");
    CHECK_INT(pf->checks[0].outcome, OM_DECISION_CONDITIONAL);
    CHECK(pf->checks[0].tolerance_m2 == 2.5);
    CHECK_INT(pf->checks[0].line, 27);
    pf = om_rules_profile(r, "c");
    CHECK_STR(pf->zh, "c"); /* neither zh nor en: the name */
    CHECK_STR(pf->en, "c");
    CHECK_INT(pf->checks[0].outcome, OM_DECISION_FAIL);
    om_rules_free(r);

    /* without defaults.min_area the tolerance is 1 m²; rules and profiles
     * together; defaults.min_area: 0 is kept */
    const char *z = "version: 1\n"
                    "rules: [{id: R1, kind: must_cover, a: A, b: B, zh: r}]\n"
                    "profiles: {p: {checks: [{id: C, kind: report, "
                    "layer: A, zh: c}]}}\n";
    CHECK_OK(om_rules_parse(z, strlen(z), NULL, &r, &err), &err);
    CHECK_INT(r->nrules, 1);
    CHECK_INT(r->nprofiles, 1);
    CHECK(r->profiles[0].tolerance_m2 == 1.0);
    CHECK(r->profiles[0].checks[0].tolerance_m2 == 1.0);
    CHECK(r->rules[0].min_area_m2 == 0.0); /* rules unchanged */
    om_rules_free(r);
    z = "version: 1\ndefaults: {min_area: 0}\n"
        "profiles: {p: {checks: [{id: C, kind: report, layer: A, zh: c}]}}\n";
    CHECK_OK(om_rules_parse(z, strlen(z), NULL, &r, &err), &err);
    CHECK(r->profiles[0].tolerance_m2 == 0.0);
    om_rules_free(r);

    /* empty sections: no profiles / no rules */
    z = "version: 1\nrules: []\nprofiles:\n";
    CHECK_OK(om_rules_parse(z, strlen(z), NULL, &r, &err), &err);
    CHECK(r->nprofiles == 0 && r->profiles == NULL);
    CHECK(om_rules_profile(r, "default") == NULL);
    om_rules_free(r);
    z = "version: 1\nprofiles: {}\n";
    CHECK_OK(om_rules_parse(z, strlen(z), NULL, &r, &err), &err);
    CHECK(r->nprofiles == 0 && r->nrules == 0);
    om_rules_free(r);
}

/* Each malformed profile: status, line, "column N:" and a phrase. */
TEST(test_profile_errors)
{
#define PH "version: 1\nprofiles:\n  p:\n    checks:\n"
#define CK "      - id: C1\n"
    static const struct {
        const char *text;
        enum om_status st;
        long line;
        const char *col;
        const char *phrase;
    } cases[] = {
        /* 0: unknown check key with a suggestion */
        {PH CK "        kind: forbidden\n        layer: A\n        zh: x\n"
               "        outcom: fail\n",
         OM_EPARSE, 9, "column 9:",
         "profile p: check C1: unknown key 'outcom' (did you mean "
         "'outcome'?)"},
        /* 1: unknown profile key */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "    tolerence: 1\n",
         OM_EPARSE, 9, "column 5:",
         "profile p: unknown key 'tolerence' (did you mean 'tolerance'?)"},
        /* 2: unknown top-level key suggests profiles */
        {"version: 1\nprofile: {}\n", OM_EPARSE, 2,
         "column 1:", "unknown key 'profile' (did you mean 'profiles'?)"},
        /* 3: bad kind */
        {PH CK "        kind: forbiden\n        layer: A\n        zh: x\n",
         OM_EPARSE, 6, "column 15:",
         "unknown value 'forbiden' (did you mean 'forbidden'?) (one of: "
         "forbidden, conditional, must_be_within, report, purpose)"},
        /* 4: a must_not_overlap rule kind is not a check kind */
        {PH CK "        kind: must_not_overlap\n        layer: A\n"
               "        zh: x\n",
         OM_EPARSE, 6, NULL, "check C1: kind: unknown value"},
        /* 5: bad outcome */
        {PH CK "        kind: forbidden\n        layer: A\n        zh: x\n"
               "        outcome: failed\n",
         OM_EPARSE, 9, "column 18:",
         "unknown value 'failed' (did you mean 'fail'?) (one of: pass, "
         "conditional, fail)"},
        /* 6: report deciding */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "        outcome: fail\n",
         OM_EPARSE, 9,
         "column 18:", "check C1: outcome: a report check never decides"},
        /* 7 */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "        outcome: conditional\n",
         OM_EPARSE, 9, NULL, "can only be pass"},
        /* 8: purpose without by */
        {PH CK "        kind: purpose\n        layer: GHYT\n        zh: x\n",
         OM_EPARSE, 5, "column 9:", "check C1: missing 'by'"},
        /* 9: purpose with a null by */
        {PH CK "        kind: purpose\n        layer: GHYT\n        by:\n"
               "        zh: x\n",
         OM_EPARSE, 5, NULL, "missing 'by'"},
        /* 10: by on must_be_within */
        {PH CK "        kind: must_be_within\n        layer: A\n"
               "        by: DLBM\n        zh: x\n",
         OM_EPARSE, 8, "column 13:", "remove 'by'"},
        /* 11: by not a single value */
        {PH CK "        kind: report\n        layer: A\n        by: [A, B]\n"
               "        zh: x\n",
         OM_EPARSE, 8, NULL, "check C1: by: expected a single value"},
        /* 12: duplicate id */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "      - id: C2\n        kind: report\n        layer: A\n"
               "        zh: x\n"
               "      - id: C1\n",
         OM_EPARSE, 13, "column 13:",
         "profile p: check id C1 is used twice (first at line 5)"},
        /* 13: bad id */
        {PH "      - id: C 1\n", OM_EPARSE, 5,
         "column 13:", "check id 'C 1': use letters, digits"},
        /* 14: missing id */
        {PH "      - kind: report\n", OM_EPARSE, 5,
         "column 9:", "profile p: check #1: missing 'id'"},
        /* 15: missing kind */
        {PH CK "        layer: A\n        zh: x\n", OM_EPARSE, 5, NULL,
         "check C1: missing 'kind'"},
        /* 16: missing layer */
        {PH CK "        kind: report\n        zh: x\n", OM_EPARSE, 5, NULL,
         "check C1: missing 'layer'"},
        /* 17: missing zh and en */
        {PH CK "        kind: report\n        layer: A\n", OM_EPARSE, 5, NULL,
         "check C1: missing 'zh' and 'en'"},
        /* 18: the layer side: bad group, with the existing side parser */
        {PH CK "        kind: report\n        layer: {layer: DLTB, where: "
               "{DLBM: {group: cultivate}}}\n        zh: x\n",
         OM_EPARSE, 7, NULL,
         "check C1: layer: where: unknown group 'cultivate' of table dlbm "
         "(did you mean 'cultivated'?)"},
        /* 19 */
        {PH CK "        kind: report\n        layer: {layr: DLTB}\n"
               "        zh: x\n",
         OM_EPARSE, 7, NULL, "did you mean 'layer'?"},
        /* 20 */
        {PH CK "        kind: report\n        layer: A-B\n        zh: x\n",
         OM_EPARSE, 7, NULL, "'A-B' is not a layer code"},
        /* 21: bad profile names */
        {"version: 1\nprofiles:\n  Default:\n    checks: []\n", OM_EPARSE, 3,
         "column 3:", "profiles: 'Default' is not a profile name"},
        /* 22 */
        {"version: 1\nprofiles:\n  1a: {}\n", OM_EPARSE, 3, NULL,
         "is not a profile name"},
        /* 23 */
        {"version: 1\nprofiles:\n  a.b: {}\n", OM_EPARSE, 3, NULL,
         "is not a profile name"},
        /* 24: 33 bytes */
        {"version: 1\nprofiles:\n  abcdefghijabcdefghijabcdefghijabc: {}\n",
         OM_EPARSE, 3, NULL, "at most 32 bytes"},
        /* 25: profile defined twice */
        {"version: 1\nprofiles:\n  p: {checks: [{id: C, kind: report, "
         "layer: A, zh: x}]}\n  p: {}\n",
         OM_EPARSE, 4,
         "column 3:", "profiles: profile p is defined twice (first at line 3)"},
        /* 26: negative tolerances */
        {"version: 1\nprofiles:\n  p:\n    tolerance: -1\n", OM_EPARSE, 4,
         "column 16:", "profile p: tolerance: -1 is negative"},
        /* 27 */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "        tolerance: -0.5\n",
         OM_EPARSE, 9, "column 20:",
         "check C1: tolerance: -0.5 is negative; must be 0 or more"},
        /* 28 */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "        tolerance: 1 m2\n",
         OM_EPARSE, 9, NULL, "'1 m2' is not a number"},
        /* 29: missing / empty / bad checks */
        {"version: 1\nprofiles:\n  p: {zh: x}\n", OM_EPARSE, 3,
         "column 6:", "profile p: missing 'checks:'"},
        /* 30 */
        {"version: 1\nprofiles:\n  p: {checks: []}\n", OM_EPARSE, 3, NULL,
         "profile p: no checks"},
        /* 31 */
        {"version: 1\nprofiles:\n  p: {checks: }\n", OM_EPARSE, 3, NULL,
         "profile p: no checks"},
        /* 32 */
        {"version: 1\nprofiles:\n  p: {checks: {id: C1}}\n", OM_EPARSE, 3, NULL,
         "profile p: checks: expected a list of checks"},
        /* 33: not mappings */
        {"version: 1\nprofiles: [default]\n", OM_EPARSE, 2,
         "column 11:", "profiles: expected a mapping of profile names"},
        /* 34 */
        {"version: 1\nprofiles:\n  p: x\n", OM_EPARSE, 3, NULL,
         "profile p: expected a mapping"},
        /* 35 */
        {PH "      - C1\n", OM_EPARSE, 5, NULL,
         "profile p: check #1: expected a mapping"},
        /* 36: a key given twice inside a check */
        {PH CK "        kind: report\n        layer: A\n        zh: x\n"
               "        kind: report\n",
         OM_EPARSE, 9, NULL, "key 'kind' given twice (first at line 6)"},
        /* 37: neither rules nor profiles */
        {"version: 1\nlayers: {}\n", OM_EPARSE, 1,
         "column 1:", "missing 'rules:' (the list of rules) or 'profiles:'"},
        /* 38: a rule error is still reported with profiles present */
        {"version: 1\nrules: [{id: R1}]\nprofiles: {}\n", OM_EPARSE, 2, NULL,
         "rule R1: missing 'kind'"},
        /* 39: an empty profile */
        {"version: 1\nprofiles:\n  p:\n", OM_EPARSE, 3,
         "column 5:", "profile p: empty; a profile needs 'checks:'"},
        /* 40: a profile name that is not a single value */
        {"version: 1\nprofiles:\n  [a]: {}\n", OM_EPARSE, 3, NULL,
         "profile name: expected a single value"},
    };
#undef PH
#undef CK
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

/* OM_LIMIT_PROFILES and OM_LIMIT_PROFILE_CHECKS, at and over the limit. */
static char *profiles_text(size_t nprofiles, size_t nchecks)
{
    size_t cap = 64 + nprofiles * 128 + nchecks * 64;
    char *t = malloc(cap);
    if (!t) {
        return NULL;
    }
    size_t off = (size_t)snprintf(t, cap, "version: 1\nprofiles:\n");
    for (size_t p = 0; p < nprofiles; p++) {
        off +=
            (size_t)snprintf(t + off, cap - off, "  p%zu:\n    checks:\n", p);
        size_t n = p == 0 ? nchecks : 1;
        for (size_t c = 0; c < n; c++) {
            off += (size_t)snprintf(
                t + off, cap - off,
                "      - {id: C%zu, kind: report, layer: A, zh: x}\n", c);
        }
    }
    return t;
}

TEST(test_profile_limits)
{
    struct om_rules *r = NULL;
    struct om_error err;
    char *t = profiles_text(OM_LIMIT_PROFILES, OM_LIMIT_PROFILE_CHECKS);
    CHECK(t != NULL);
    enum om_status st = om_rules_parse(t, strlen(t), "max.yaml", &r, &err);
    free(t);
    CHECK_OK(st, &err);
    CHECK_INT(r->nprofiles, OM_LIMIT_PROFILES);
    CHECK_INT(r->profiles[0].nchecks, OM_LIMIT_PROFILE_CHECKS);
    CHECK_STR(om_rules_profile(r, "p999")->checks[0].id, "C0");
    om_rules_free(r);

    t = profiles_text(OM_LIMIT_PROFILES + 1, 1);
    CHECK(t != NULL);
    st = om_rules_parse(t, strlen(t), "many.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK(r == NULL);
    CHECK_INT(err.line, 3);
    CHECK_CONTAINS(err.msg, "1001 profiles");
    CHECK_CONTAINS(err.msg, "OM_LIMIT_PROFILES");

    t = profiles_text(1, OM_LIMIT_PROFILE_CHECKS + 1);
    CHECK(t != NULL);
    st = om_rules_parse(t, strlen(t), "long.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK(r == NULL);
    CHECK_INT(err.line, 5);
    CHECK_CONTAINS(err.msg, "profile p0: 1001 checks");
    CHECK_CONTAINS(err.msg, "OM_LIMIT_PROFILE_CHECKS");
}

/* A profile-heavy file failing at every allocation in turn, and the
 * failure of a later check after earlier ones were built: no leak. */
TEST(test_profiles_out_of_memory)
{
    const char *y =
        "version: 1\n"
        "profiles:\n"
        "  a:\n"
        "    checks:\n"
        "      - {id: C1, kind: conditional, layer: {layer: DLTB, where: "
        "{DLBM: {group: cultivated}, N: [1, 2*]}}, by: DLBM, zh: x, en: y, "
        "basis: b}\n"
        "      - {id: C2, kind: purpose, layer: GHYT, by: YDYHFLDM, en: p}\n"
        "  b: {zh: 乙, checks: [{id: C1, kind: report, layer: A, zh: z}]}\n";
    struct om_error err;
    int nfail = 0;
    for (int i = 0; i < 10000; i++) {
        struct om_rules *r = NULL;
        test_fail_allocs_after(i);
        enum om_status st = om_rules_parse(y, strlen(y), "m.yaml", &r, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            CHECK(r != NULL && r->nprofiles == 2);
            CHECK_INT(r->profiles[0].checks[0].layer.nterms, 2);
            om_rules_free(r);
            break;
        }
        CHECK_INT(st, OM_ENOMEM);
        CHECK(r == NULL);
        nfail++;
    }
    CHECK(nfail > 20);
    /* parse errors after partial profiles were built */
    const char *late = "version: 1\n"
                       "profiles:\n"
                       "  a: {checks: [{id: C1, kind: report, layer: "
                       "{layer: D, where: {F: [1]}}, by: F, zh: x}]}\n"
                       "  b:\n"
                       "    zh: b\n"
                       "    checks:\n"
                       "      - {id: C1, kind: report, layer: A, zh: x}\n"
                       "      - {id: C2, kind: report, layer: A, zh: x, "
                       "outcome: fail}\n";
    struct om_rules *r = NULL;
    CHECK_STATUS(om_rules_parse(late, strlen(late), "l.yaml", &r, &err),
                 OM_EPARSE);
    CHECK(r == NULL);
    CHECK_INT(err.line, 8);
}

/* ---- quality control (qc:) ---- */

static void check_qc_thresholds_default(const struct om_qc_conf *q, int *ok)
{
    *ok = q->sliver_area_m2 == 1.0 && q->sliver_width_m == 0.1 &&
          q->near_distance_m == 0.05 && q->micro_segment_m == 0.001 &&
          q->spike_angle_deg == 1.0 && q->area_rel == 0.001 &&
          q->area_abs_m2 == 1.0 && q->tbdlmj_abs_m2 == 0.01 &&
          q->crop_rel == 0.05;
}

/* A file without qc: has the documented defaults, no schemas. */
TEST(test_qc_absent)
{
    const char *y = "version: 1\nrules: []\n";
    struct om_rules *r = NULL;
    struct om_error err;
    int ok = 0;
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK(!r->qc.present);
    check_qc_thresholds_default(&r->qc, &ok);
    CHECK(ok);
    CHECK_INT(r->qc.ncoverage, 2);
    CHECK_STR(r->qc.coverage[0], "DLTB");
    CHECK_STR(r->qc.coverage[1], "XZQ");
    CHECK_STR(r->qc.extent_layer, "XZQ");
    CHECK_INT(r->qc.nschemas, 0);
    CHECK(r->qc.schemas == NULL);
    CHECK(om_rules_qc_schema(r, "DLTB") == NULL);
    CHECK(om_rules_qc_schema(NULL, "DLTB") == NULL);
    om_rules_free(r);

    /* an empty qc: section is present, with every default, and the
     * schemas of the built-in set */
    y = "version: 1\nqc:\n";
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK(r->qc.present);
    CHECK_INT(r->nrules, 0);
    CHECK_INT(r->nprofiles, 0);
    check_qc_thresholds_default(&r->qc, &ok);
    CHECK(ok);
    CHECK_INT(r->qc.ncoverage, 2);
    CHECK_STR(r->qc.extent_layer, "XZQ");
    CHECK_INT(r->qc.nschemas, 6);
    CHECK_INT(om_rules_qc_schema(r, "DLTB")->nfields, 19);
    CHECK(om_rules_qc_schema(r, "DLTB")->line > 300); /* built-in's line */
    om_rules_free(r);

    /* thresholds only: the rest is default */
    y = "version: 1\nqc: {thresholds: {sliver_area: 5}}\n";
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK(r->qc.present);
    CHECK(r->qc.sliver_area_m2 == 5.0);
    CHECK(r->qc.sliver_width_m == 0.1);
    CHECK(r->qc.crop_rel == 0.05);
    CHECK_INT(r->qc.ncoverage, 2);
    CHECK_INT(r->qc.nschemas, 6);
    om_rules_free(r);
}

/* The shipped qc section, key by key. */
TEST(test_qc_default_set)
{
    struct om_rules *r = NULL;
    struct om_error err;
    int ok = 0;
    CHECK_OK(om_rules_default(&r, &err), &err);
    const struct om_qc_conf *q = &r->qc;
    CHECK(q->present);
    /* the shipped values are the documented defaults */
    check_qc_thresholds_default(q, &ok);
    CHECK(ok);
    CHECK_INT(q->ncoverage, 2);
    CHECK_STR(q->coverage[0], "DLTB");
    CHECK_STR(q->coverage[1], "XZQ");
    CHECK_STR(q->extent_layer, "XZQ");
    CHECK_INT(q->nschemas, 6);
    static const char *const layers[] = {"DLTB",   "XZQ",    "YJJBNTBHTB",
                                         "STBHHX", "CZKFBJ", "GHYT"};
    static const size_t nfields[] = {19, 2, 5, 4, 5, 4};
    for (size_t i = 0; i < 6; i++) {
        CHECK_STR(q->schemas[i].layer, layers[i]);
        CHECK_INT(q->schemas[i].nfields, nfields[i]);
        CHECK(q->schemas[i].line > 0);
        CHECK(om_rules_qc_schema(r, layers[i]) == &q->schemas[i]);
        /* every layer's identifier is required (and BSM unique) */
        const struct om_qc_field *f0 = &q->schemas[i].fields[0];
        CHECK(f0->required && f0->unique && f0->type == OM_FIELD_TEXT);
    }
    CHECK(om_rules_qc_schema(r, "NOPE") == NULL);

    const struct om_qc_schema *s = om_rules_qc_schema(r, "dltb");
    CHECK(s == &q->schemas[0]);
    CHECK(s->single_part);
    CHECK_STR(s->area_field, "TBMJ");
    CHECK_STR(s->net_field, "TBDLMJ");
    CHECK_STR(s->gross_field, "TBMJ");
    CHECK_STR(s->deduct_field, "KCMJ");
    static const struct {
        const char *name;
        int type;
        bool required, unique;
        enum om_qc_domain domain;
    } dltb[] = {
        {"BSM", OM_FIELD_TEXT, true, true, 0},
        {"YSDM", OM_FIELD_TEXT, false, false, 0},
        {"TBBH", OM_FIELD_TEXT, true, false, 0},
        {"DLBM", OM_FIELD_TEXT, true, false, OM_QC_DOMAIN_DLBM},
        {"DLMC", OM_FIELD_TEXT, true, false, 0},
        {"QSXZ", OM_FIELD_TEXT, false, false, 0},
        {"QSDWDM", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_XZQDM},
        {"QSDWMC", OM_FIELD_TEXT, false, false, 0},
        {"ZLDWDM", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_XZQDM},
        {"ZLDWMC", OM_FIELD_TEXT, false, false, 0},
        {"TBMJ", OM_FIELD_REAL, true, false, 0},
        {"KCDLBM", OM_FIELD_TEXT, false, false, 0},
        {"KCXS", OM_FIELD_REAL, false, false, 0},
        {"KCMJ", OM_FIELD_REAL, false, false, 0},
        {"TBDLMJ", OM_FIELD_REAL, true, false, 0},
        {"GDLX", OM_FIELD_TEXT, false, false, 0},
        {"GDPDJB", OM_FIELD_TEXT, false, false, 0},
        {"CZCSXM", OM_FIELD_TEXT, false, false, OM_QC_DOMAIN_CZCS},
        {"SJNF", OM_FIELD_INT, false, false, 0},
    };
    for (size_t i = 0; i < s->nfields; i++) {
        const struct om_qc_field *f = &s->fields[i];
        CHECK_STR(f->name, dltb[i].name);
        CHECK_INT(f->type, dltb[i].type);
        CHECK_INT(f->required, dltb[i].required);
        CHECK_INT(f->unique, dltb[i].unique);
        CHECK_INT(f->domain, dltb[i].domain);
        CHECK(f->values == NULL && f->nvalues == 0);
        CHECK(f->line > s->line);
    }

    s = om_rules_qc_schema(r, "XZQ");
    CHECK(!s->single_part && !s->area_field && !s->net_field);
    CHECK_STR(s->fields[0].name, "XZQDM");
    CHECK_INT(s->fields[0].domain, OM_QC_DOMAIN_XZQDM);
    CHECK(s->fields[1].required && !s->fields[1].unique);

    s = om_rules_qc_schema(r, "GHYT");
    CHECK_STR(s->fields[1].name, "YDYHFLDM");
    CHECK(s->fields[1].required);
    CHECK_INT(s->fields[1].domain, OM_QC_DOMAIN_YDYH);
    CHECK_INT(s->fields[3].domain, OM_QC_DOMAIN_XZQDM);
    CHECK(!s->fields[3].required);

    s = om_rules_qc_schema(r, "YJJBNTBHTB");
    CHECK_STR(s->fields[4].name, "JBNTMJ");
    CHECK_INT(s->fields[4].type, OM_FIELD_REAL);
    CHECK(s->area_field == NULL);
    om_rules_free(r);
}

/*
 * An independent check of the shipped schemas against the sample data
 * generator (tools/synth.c, read as text): every required field, area
 * field and net-area field of a shipped schema is a field the generator
 * writes on that layer, with a type the schema accepts. The synthetic
 * county must pass the shipped schema.
 */
static bool synth_field(const char *src, const char *layer, const char *field,
                        char *type, size_t tsize)
{
    char key[64];
    snprintf(key, sizeof key, "om_layer_new(\"%s\"", layer);
    const char *p = strstr(src, key);
    if (!p) {
        return false;
    }
    const char *end = strstr(p + 1, "om_layer_new(");
    snprintf(key, sizeof key, "add_field(l, \"%s\", ", field);
    const char *f = strstr(p, key);
    if (!f || (end && f > end)) {
        return false;
    }
    f += strlen(key);
    size_t n = strcspn(f, ")");
    snprintf(type, tsize, "%.*s", (int)(n < tsize ? n : tsize - 1), f);
    return true;
}

TEST(test_qc_default_vs_synth)
{
    FILE *fp = fopen("tools/synth.c", "rb");
    if (!fp) {
        printf("SKIP test_rules:test_qc_default_vs_synth: tools/synth.c not "
               "found (run from the repository root)\n");
        return;
    }
    static char src[1 << 18];
    size_t n = fread(src, 1, sizeof src - 1, fp);
    fclose(fp);
    CHECK(n > 10000 && n < sizeof src - 1);
    src[n] = '\0';
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_default(&r, &err), &err);
    size_t nchecked = 0;
    for (size_t i = 0; i < r->qc.nschemas; i++) {
        const struct om_qc_schema *s = &r->qc.schemas[i];
        for (size_t j = 0; j < s->nfields + 4; j++) {
            const char *name;
            int type;
            if (j < s->nfields) {
                name = s->fields[j].name;
                type = s->fields[j].type;
            } else {
                const char *extra[4] = {s->area_field, s->net_field,
                                        s->gross_field, s->deduct_field};
                name = extra[j - s->nfields];
                type = -1; /* numeric */
            }
            if (!name || (j < s->nfields && !s->fields[j].required)) {
                continue;
            }
            char t[32];
            if (!synth_field(src, s->layer, name, t, sizeof t)) {
                FAILF("layer %s: the generator writes no field %s", s->layer,
                      name);
                break;
            }
            bool ok = type == 0 ||
                      (type == OM_FIELD_TEXT && !strcmp(t, "OM_FIELD_TEXT")) ||
                      (type == OM_FIELD_INT && !strcmp(t, "OM_FIELD_INT")) ||
                      (type == OM_FIELD_REAL && !strcmp(t, "OM_FIELD_REAL")) ||
                      (type == -1 && (!strcmp(t, "OM_FIELD_REAL") ||
                                      !strcmp(t, "OM_FIELD_INT")));
            if (!ok) {
                FAILF("layer %s: field %s is %s in the generator", s->layer,
                      name, t);
                break;
            }
            nchecked++;
        }
    }
    om_rules_free(r);
    CHECK(nchecked >= 15);
}

/* Every key of the section. */
TEST(test_qc_format)
{
    const char *y = "version: 1\n"
                    "qc:\n"
                    "  thresholds:\n"
                    "    sliver_area: 2\n"
                    "    sliver_width: 0.2\n"
                    "    near_distance: 0\n"
                    "    micro_segment: 1e-4\n"
                    "    spike_angle: 89.5\n"
                    "    area_rel: 0.01\n"
                    "    area_abs: 10\n"
                    "    tbdlmj_abs: 0.5\n"
                    "    crop_rel: 1\n"
                    "  coverage: dltb\n"
                    "  extent: xzq_2023\n"
                    "  schemas:\n"
                    "    dltb:\n"
                    "      single_part: True\n"
                    "      area_field: MJ\n"
                    "      net_area: {net: JMJ, gross: MJ, deduct: KC}\n"
                    "      fields:\n"
                    "        A: {type: text, required: true, unique: false}\n"
                    "        B: {type: integer, unique: TRUE, domain: dlbm}\n"
                    "        C: {type: real, required: false, domain: ydyh}\n"
                    "        D: {type: number, domain: czcs}\n"
                    "        E: {type: any, domain: xzqdm}\n"
                    "        F: {values: ['10', 20, \" 30 \"]}\n"
                    "        G: {values: x}\n"
                    "        地类编码:\n"
                    "        H: {}\n"
                    "    XZQ:\n"
                    "    GHYT: {single_part: false, fields: }\n";
    struct om_rules *r = NULL;
    struct om_error err;
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    const struct om_qc_conf *q = &r->qc;
    CHECK(q->present);
    CHECK(q->sliver_area_m2 == 2 && q->sliver_width_m == 0.2);
    CHECK(q->near_distance_m == 0 && q->micro_segment_m == 1e-4);
    CHECK(q->spike_angle_deg == 89.5 && q->area_rel == 0.01);
    CHECK(q->area_abs_m2 == 10 && q->tbdlmj_abs_m2 == 0.5);
    CHECK(q->crop_rel == 1);
    CHECK_INT(q->ncoverage, 1);
    CHECK_STR(q->coverage[0], "DLTB");
    CHECK_STR(q->extent_layer, "XZQ_2023");
    CHECK_INT(q->nschemas, 3);
    const struct om_qc_schema *s = om_rules_qc_schema(r, "Dltb");
    CHECK(s == &q->schemas[0]);
    CHECK_STR(s->layer, "DLTB");
    CHECK_INT(s->line, 16);
    CHECK(s->single_part);
    CHECK_STR(s->area_field, "MJ");
    CHECK_STR(s->net_field, "JMJ");
    CHECK_STR(s->gross_field, "MJ");
    CHECK_STR(s->deduct_field, "KC");
    CHECK_INT(s->nfields, 9);
    static const struct {
        const char *name;
        int type;
        bool required, unique;
        enum om_qc_domain domain;
        size_t nvalues;
        int line;
    } want[] = {
        {"A", OM_FIELD_TEXT, true, false, OM_QC_DOMAIN_NONE, 0, 21},
        {"B", OM_FIELD_INT, false, true, OM_QC_DOMAIN_DLBM, 0, 22},
        {"C", OM_FIELD_REAL, false, false, OM_QC_DOMAIN_YDYH, 0, 23},
        {"D", -1, false, false, OM_QC_DOMAIN_CZCS, 0, 24},
        {"E", 0, false, false, OM_QC_DOMAIN_XZQDM, 0, 25},
        {"F", 0, false, false, OM_QC_DOMAIN_NONE, 3, 26},
        {"G", 0, false, false, OM_QC_DOMAIN_NONE, 1, 27},
        {"地类编码", 0, false, false, OM_QC_DOMAIN_NONE, 0, 28},
        {"H", 0, false, false, OM_QC_DOMAIN_NONE, 0, 29},
    };
    for (size_t i = 0; i < s->nfields; i++) {
        const struct om_qc_field *f = &s->fields[i];
        CHECK_STR(f->name, want[i].name);
        CHECK_INT(f->type, want[i].type);
        CHECK_INT(f->required, want[i].required);
        CHECK_INT(f->unique, want[i].unique);
        CHECK_INT(f->domain, want[i].domain);
        CHECK_INT(f->nvalues, want[i].nvalues);
        CHECK((f->values != NULL) == (want[i].nvalues > 0));
        CHECK_INT(f->line, want[i].line);
    }
    /* values are text as written, trimmed */
    CHECK_STR(s->fields[5].values[0], "10");
    CHECK_STR(s->fields[5].values[1], "20");
    CHECK_STR(s->fields[5].values[2], "30");
    CHECK_STR(s->fields[6].values[0], "x");

    s = om_rules_qc_schema(r, "xzq");
    CHECK(s && !s->single_part && s->nfields == 0 && s->fields == NULL);
    CHECK(!s->area_field && !s->net_field && !s->gross_field &&
          !s->deduct_field);
    s = om_rules_qc_schema(r, "GHYT");
    CHECK(s && !s->single_part && s->nfields == 0);
    CHECK(om_rules_qc_schema(r, "DLTB_2") == NULL);
    om_rules_free(r);

    /* explicit "none": no coverage, no extent, no schemas */
    y = "version: 1\nqc: {coverage: [], extent: ~, schemas: {}}\n";
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK(r->qc.present);
    CHECK(r->qc.ncoverage == 0 && r->qc.coverage == NULL);
    CHECK(r->qc.extent_layer == NULL);
    CHECK(r->qc.nschemas == 0 && r->qc.schemas == NULL);
    om_rules_free(r);
    y = "version: 1\nqc:\n  coverage:\n  extent:\n  schemas:\n"
        "  thresholds:\n";
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK(r->qc.ncoverage == 0 && r->qc.extent_layer == NULL &&
          r->qc.nschemas == 0);
    CHECK(r->qc.spike_angle_deg == 1.0);
    om_rules_free(r);

    /* a coverage list, with rules and profiles in the same file */
    y = "version: 1\n"
        "rules: [{id: R1, kind: must_cover, a: XZQ, b: DLTB, zh: x}]\n"
        "profiles: {p: {checks: [{id: C1, kind: report, layer: A, zh: x}]}}\n"
        "qc: {coverage: [DLTB, xzq, GHFQ], schemas: {A: {fields: {X: }}}}\n";
    CHECK_OK(om_rules_parse(y, strlen(y), "t.yaml", &r, &err), &err);
    CHECK_INT(r->nrules, 1);
    CHECK_INT(r->nprofiles, 1);
    CHECK_INT(r->qc.ncoverage, 3);
    CHECK_STR(r->qc.coverage[1], "XZQ");
    CHECK_STR(r->qc.coverage[2], "GHFQ");
    CHECK_STR(r->qc.extent_layer, "XZQ");
    CHECK_INT(r->qc.nschemas, 1);
    CHECK_STR(r->qc.schemas[0].fields[0].name, "X");
    om_rules_free(r);
}

TEST(test_qc_errors)
{
#define QH "version: 1\nqc:\n"
#define SH QH "  schemas:\n    DLTB:\n"
#define FH SH "      fields:\n"
    static const struct {
        const char *text;
        enum om_status st;
        long line;
        const char *col;
        const char *phrase;
    } cases[] = {
        /* 0: unknown keys at every level, with suggestions */
        {QH "  threshold: {}\n", OM_EPARSE, 3, "column 3:",
         "qc: unknown key 'threshold' (did you mean 'thresholds'?) (known "
         "keys: thresholds, coverage, extent, schemas)"},
        /* 1 */
        {QH "  thresholds: {sliver_areas: 1}\n", OM_EPARSE, 3, "column 16:",
         "qc: thresholds: unknown key 'sliver_areas' (did you mean "
         "'sliver_area'?)"},
        /* 2 */
        {SH "      singlepart: true\n", OM_EPARSE, 5, "column 7:",
         "qc: schemas: DLTB: unknown key 'singlepart' (did you mean "
         "'single_part'?)"},
        /* 3 */
        {FH "        BSM: {type: text, requried: true}\n", OM_EPARSE, 6,
         "column 27:",
         "qc: schemas: DLTB: fields: BSM: unknown key 'requried' (did you "
         "mean 'required'?)"},
        /* 4 */
        {SH "      net_area: {net: A, gros: B, deduct: C}\n", OM_EPARSE, 5,
         "column 26:",
         "qc: schemas: DLTB: net_area: unknown key 'gros' "
         "(did you mean 'gross'?)"},
        /* 5: bad type and domain */
        {FH "        BSM: {type: string}\n", OM_EPARSE, 6, "column 21:",
         "qc: schemas: DLTB: fields: BSM: type: unknown value 'string' (one "
         "of: text, integer, real, number, any)"},
        /* 6 */
        {FH "        BSM: {type: intger}\n", OM_EPARSE, 6, NULL,
         "unknown value 'intger' (did you mean 'integer'?)"},
        /* 7 */
        {FH "        DM: {domain: xzqm}\n", OM_EPARSE, 6, "column 22:",
         "fields: DM: domain: unknown value 'xzqm' (did you mean 'xzqdm'?) "
         "(one of: dlbm, ydyh, czcs, xzqdm)"},
        /* 8: booleans */
        {FH "        BSM: {required: yes}\n", OM_EPARSE, 6,
         "column 25:", "fields: BSM: required: 'yes' is not true or false"},
        /* 9 */
        {SH "      single_part: [true]\n", OM_EPARSE, 5,
         "column 20:", "single_part: expected true or false, found a list"},
        /* 10 */
        {FH "        BSM: {unique: }\n", OM_EPARSE, 6, NULL,
         "unique: expected true or false, found nothing"},
        /* 11: incomplete net_area */
        {SH "      net_area: {net: TBDLMJ, gross: TBMJ}\n", OM_EPARSE, 5,
         "column 17:",
         "qc: schemas: DLTB: net_area: missing 'deduct' (net, gross and "
         "deduct are all needed"},
        /* 12 */
        {SH "      net_area: {gross: TBMJ, deduct: KCMJ}\n", OM_EPARSE, 5, NULL,
         "net_area: missing 'net'"},
        /* 13 */
        {SH "      net_area: TBDLMJ\n", OM_EPARSE, 5,
         "column 17:", "net_area: expected a mapping"},
        /* 14 */
        {SH "      net_area: {net: A, gross: a, deduct: C}\n", OM_EPARSE, 5,
         "column 33:",
         "net_area: net and gross are both a; they must be three different "
         "fields"},
        /* 15 */
        {SH "      net_area: {net: A, gross: B, deduct: [C]}\n", OM_EPARSE, 5,
         NULL, "net_area: deduct: expected a single value, found a list"},
        /* 16: negative and out-of-range thresholds */
        {QH "  thresholds: {sliver_area: -1}\n", OM_EPARSE, 3, "column 29:",
         "qc: thresholds: sliver_area: -1 is negative; must be 0 or more"},
        /* 17 */
        {QH "  thresholds:\n    tbdlmj_abs: -0.01\n", OM_EPARSE, 4, NULL,
         "tbdlmj_abs: -0.01 is negative"},
        /* 18 */
        {QH "  thresholds: {near_distance: 5cm}\n", OM_EPARSE, 3, NULL,
         "near_distance: '5cm' is not a number"},
        /* 19 */
        {QH "  thresholds: {spike_angle: 0}\n", OM_EPARSE, 3, "column 29:",
         "spike_angle: 0 is out of range; must be more than 0 and less than "
         "90 (degrees)"},
        /* 20 */
        {QH "  thresholds: {spike_angle: 90}\n", OM_EPARSE, 3, NULL,
         "spike_angle: 90 is out of range"},
        /* 21 */
        {QH "  thresholds: {crop_rel: 5}\n", OM_EPARSE, 3, NULL,
         "crop_rel: 5 is more than 1; it is a share"},
        /* 22 */
        {QH "  thresholds: {area_abs: .nan}\n", OM_EPARSE, 3, NULL,
         "is not a number"},
        /* 23: duplicate schema (codes are upper-cased) */
        {SH "    xzq: {}\n    dltb: {}\n", OM_EPARSE, 6, "column 5:",
         "qc: schemas: layer DLTB has two schemas (first at line 4)"},
        /* 24: duplicate field (names match without case) */
        {FH "        BSM: {type: text}\n        bsm: {type: text}\n", OM_EPARSE,
         7, "column 9:",
         "qc: schemas: DLTB: fields: field bsm is listed twice (first at "
         "line 6"},
        /* 25: a key given twice */
        {FH "        BSM: {type: text, type: real}\n", OM_EPARSE, 6, NULL,
         "key 'type' given twice"},
        /* 26: duplicate coverage layer */
        {QH "  coverage: [DLTB, XZQ, dltb]\n", OM_EPARSE, 3,
         "column 25:", "qc: coverage: layer DLTB is listed twice"},
        /* 27: bad layer codes */
        {QH "  coverage: [DLTB, X-Y]\n", OM_EPARSE, 3,
         "column 20:", "qc: coverage: 'X-Y' is not a layer code"},
        /* 28 */
        {QH "  coverage: {DLTB: 1}\n", OM_EPARSE, 3, NULL,
         "qc: coverage: expected a layer code or a list of them"},
        /* 29 */
        {QH "  extent: [XZQ]\n", OM_EPARSE, 3,
         "column 11:", "qc: extent: expected a single value, found a list"},
        /* 30 */
        {QH "  schemas:\n    DL TB: {}\n", OM_EPARSE, 4,
         "column 5:", "qc: schemas: 'DL TB' is not a layer code"},
        /* 31: wrong shapes */
        {QH "  schemas: [DLTB]\n", OM_EPARSE, 3, "column 12:",
         "qc: schemas: expected a mapping of layer codes to schemas"},
        /* 32 */
        {SH "      fields: [BSM, DLBM]\n", OM_EPARSE, 5,
         "column 15:", "qc: schemas: DLTB: fields: expected a mapping"},
        /* 33 */
        {FH "        BSM: text\n", OM_EPARSE, 6,
         "column 14:", "fields: BSM: expected a mapping"},
        /* 34 */
        {QH "  thresholds: 1\n", OM_EPARSE, 3, NULL,
         "qc: thresholds: expected a mapping"},
        /* 35 */
        {QH "  - a\n", OM_EPARSE, 3, NULL, "qc: expected a mapping"},
        /* 36 */
        {"version: 1\nqc: x\n", OM_EPARSE, 2,
         "column 5:", "qc: expected a mapping"},
        /* 37: values */
        {FH "        QSXZ: {values: []}\n", OM_EPARSE, 6, NULL,
         "fields: QSXZ: values: empty list"},
        /* 38 */
        {FH "        QSXZ: {values: {a: 1}}\n", OM_EPARSE, 6, NULL,
         "values: expected a value or a list of values"},
        /* 39 */
        {FH "        QSXZ: {values: [10, '']}\n", OM_EPARSE, 6, NULL,
         "values: empty value"},
        /* 40: field names */
        {FH "        [A]: {}\n", OM_EPARSE, 6, NULL,
         "fields: expected a single value"},
        /* 41 */
        {SH "      area_field: [TBMJ]\n", OM_EPARSE, 5, NULL,
         "area_field: expected a single value"},
        /* 42: domain and values together */
        {FH "        DLBM: {domain: dlbm, values: ['0101']}\n", OM_EPARSE, 6,
         "column 38:",
         "fields: DLBM: values: give either 'domain' (a code table) or "
         "'values' (a list), not both"},
        /* 43: the qc section is checked whatever else the file has */
        {"version: 1\nrules: []\nqc: {extent: XZQ, coverge: [DLTB]}\n",
         OM_EPARSE, 3, "column 19:", "did you mean 'coverage'?"},
    };
#undef QH
#undef SH
#undef FH
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

/* `nschemas` schemas, the first with `nfields` fields. */
static char *qc_text(size_t nschemas, size_t nfields)
{
    size_t cap = 64 + nschemas * 64 + nfields * 48;
    char *t = malloc(cap);
    if (!t) {
        return NULL;
    }
    size_t off = (size_t)snprintf(t, cap, "version: 1\nqc:\n  schemas:\n");
    for (size_t s = 0; s < nschemas; s++) {
        off += (size_t)snprintf(t + off, cap - off,
                                "    L%zu:\n      fields:\n", s);
        size_t n = s == 0 ? nfields : 1;
        for (size_t f = 0; f < n; f++) {
            off += (size_t)snprintf(t + off, cap - off,
                                    "        F%zu: {type: text}\n", f);
        }
    }
    return t;
}

TEST(test_qc_limits)
{
    struct om_rules *r = NULL;
    struct om_error err;
    char *t = qc_text(OM_LIMIT_QC_SCHEMAS, OM_LIMIT_QC_FIELDS);
    CHECK(t != NULL);
    enum om_status st = om_rules_parse(t, strlen(t), "max.yaml", &r, &err);
    free(t);
    CHECK_OK(st, &err);
    CHECK_INT(r->qc.nschemas, OM_LIMIT_QC_SCHEMAS);
    CHECK_INT(r->qc.schemas[0].nfields, OM_LIMIT_QC_FIELDS);
    CHECK_STR(om_rules_qc_schema(r, "l999")->fields[0].name, "F0");
    om_rules_free(r);

    t = qc_text(OM_LIMIT_QC_SCHEMAS + 1, 1);
    CHECK(t != NULL);
    st = om_rules_parse(t, strlen(t), "many.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK(r == NULL);
    CHECK_INT(err.line, 4);
    CHECK_CONTAINS(err.msg, "qc: schemas: 1001 schemas");
    CHECK_CONTAINS(err.msg, "OM_LIMIT_QC_SCHEMAS");

    t = qc_text(1, OM_LIMIT_QC_FIELDS + 1);
    CHECK(t != NULL);
    st = om_rules_parse(t, strlen(t), "wide.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK(r == NULL);
    CHECK_INT(err.line, 6);
    CHECK_CONTAINS(err.msg, "qc: schemas: L0: fields: 1001 fields");
    CHECK_CONTAINS(err.msg, "OM_LIMIT_QC_FIELDS");

    /* a values list over OM_LIMIT_RULES_VALUES */
    size_t nv = OM_LIMIT_RULES_VALUES + 1;
    t = malloc(128 + nv * 8);
    CHECK(t != NULL);
    size_t off = (size_t)sprintf(t, "version: 1\nqc:\n  schemas:\n    A:\n"
                                    "      fields:\n        F: {values: [");
    for (size_t i = 0; i < nv; i++) {
        off += (size_t)sprintf(t + off, "%s%zu", i ? "," : "", i);
    }
    strcpy(t + off, "]}\n");
    st = om_rules_parse(t, strlen(t), "values.yaml", &r, &err);
    free(t);
    CHECK_INT(st, OM_ELIMIT);
    CHECK(r == NULL);
    CHECK_CONTAINS(err.msg, "OM_LIMIT_RULES_VALUES");

    /* a field name over OM_LIMIT_NAME_BYTES */
    char name[OM_LIMIT_NAME_BYTES + 2];
    memset(name, 'N', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    char y[600];
    snprintf(y, sizeof y, "version: 1\nqc: {schemas: {A: {area_field: %s}}}\n",
             name);
    CHECK_STATUS(om_rules_parse(y, strlen(y), "n.yaml", &r, &err), OM_EPARSE);
    CHECK(r == NULL);
    CHECK_CONTAINS(err.msg, "area_field: field name longer than 255 bytes");
}

/* A qc-heavy file failing at every allocation in turn: OM_ENOMEM and no
 * leak, also inside the built-in schemas a qc: without schemas takes. */
TEST(test_qc_out_of_memory)
{
    static const char *const texts[] = {
        "version: 1\n"
        "qc:\n"
        "  thresholds: {sliver_area: 2, spike_angle: 5}\n"
        "  coverage: [DLTB, XZQ, GHFQ]\n"
        "  extent: XZQ\n"
        "  schemas:\n"
        "    DLTB:\n"
        "      single_part: true\n"
        "      area_field: TBMJ\n"
        "      net_area: {net: TBDLMJ, gross: TBMJ, deduct: KCMJ}\n"
        "      fields:\n"
        "        BSM: {type: text, required: true, unique: true}\n"
        "        QSXZ: {type: text, values: ['10', '20', '30', '40']}\n"
        "        DLBM: {domain: dlbm}\n"
        "    XZQ: {fields: {XZQDM: {domain: xzqdm}, XZQMC: }}\n",
        "version: 1\nqc: {coverage: DLTB}\n",
    };
    static const size_t want[] = {2, 6};
    struct om_error err;
    for (size_t k = 0; k < 2; k++) {
        int nfail = 0;
        for (int i = 0; i < 100000; i++) {
            struct om_rules *r = NULL;
            test_fail_allocs_after(i);
            enum om_status st =
                om_rules_parse(texts[k], strlen(texts[k]), "m.yaml", &r, &err);
            test_fail_allocs_after(-1);
            if (st == OM_OK) {
                CHECK(r != NULL && r->qc.nschemas == want[k]);
                om_rules_free(r);
                break;
            }
            CHECK_INT(st, OM_ENOMEM);
            CHECK(r == NULL);
            nfail++;
        }
        CHECK(nfail > 20);
    }
    /* a parse error after schemas and fields were built */
    const char *late = "version: 1\n"
                       "qc:\n"
                       "  coverage: [A, B]\n"
                       "  schemas:\n"
                       "    A: {net_area: {net: N, gross: G, deduct: D}, "
                       "fields: {X: {values: [1, 2]}}}\n"
                       "    B:\n"
                       "      area_field: M\n"
                       "      fields:\n"
                       "        Y: {type: text}\n"
                       "        Z: {type: txt}\n";
    struct om_rules *r = NULL;
    CHECK_STATUS(om_rules_parse(late, strlen(late), "l.yaml", &r, &err),
                 OM_EPARSE);
    CHECK(r == NULL);
    CHECK_INT(err.line, 10);
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
    RUN(test_default_profiles);
    RUN(test_profiles_format);
    RUN(test_profile_errors);
    RUN(test_profile_limits);
    RUN(test_profiles_out_of_memory);
    RUN(test_qc_absent);
    RUN(test_qc_default_set);
    RUN(test_qc_default_vs_synth);
    RUN(test_qc_format);
    RUN(test_qc_errors);
    RUN(test_qc_limits);
    RUN(test_qc_out_of_memory);
    TEST_MAIN_END();
}
