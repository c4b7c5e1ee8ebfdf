/*
 * test_qc.c — the qc driver (src/ops/qc.c) with the real check families:
 * the catalogue is complete and unique; a small project (EPSG:4530, an
 * XZQ extent and a 3×3 DLTB grid built in memory) is clean (no findings,
 * score 100); injected defects (bow-tie, duplicate BSM, an overlap whose
 * area is known by construction, NULL values) are found with the right
 * codes, fids, areas and scores; max_per_check truncation and counts;
 * the sort order; storing (QC_ERRORS is a POINT layer for GDAL and
 * SQLite, QC_AREAS, QC_SUMMARY, the "qc" run); the JSON parses (python3);
 * options errors, cancel, out-of-memory.
 */
#include "onemap/layer.h"
#include "onemap/qc.h"
#include "onemap/rules.h"
#include "onemap/store.h"
#include "test.h"

#include <math.h>
#include <sqlite3.h>

#define X0 42470000.0
#define Y0 4900000.0
#define CELL 100.0

static const char RULES[] = "version: 1\n"
                            "qc:\n"
                            "  coverage: [DLTB]\n"
                            "  extent: XZQ\n"
                            "  schemas:\n"
                            "    DLTB:\n"
                            "      single_part: true\n"
                            "      fields:\n"
                            "        BSM: {type: text, required: true, "
                            "unique: true}\n"
                            "        DLBM: {type: text, required: true, "
                            "domain: dlbm}\n";

/* ---- helpers ---- */

static char *run_cmd(const char *cmd, int *status)
{
    FILE *f = popen(cmd, "r");
    if (!f) {
        *status = -1;
        return NULL;
    }
    size_t cap = 1 << 16, len = 0, n;
    char *out = malloc(cap);
    while (out && (n = fread(out + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *o = realloc(out, cap * 2);
            if (!o) {
                free(out);
                out = NULL;
                break;
            }
            out = o;
            cap *= 2;
        }
    }
    if (out) {
        out[len] = '\0';
    }
    *status = pclose(f);
    return out;
}

static void square(struct om_layer *l, double x, double y, double s)
{
    double r[] = {x, y, x + s, y, x + s, y + s, x, y + s, x, y};
    om_layer_begin_part(l, NULL);
    om_layer_add_ring(l, r, 5, NULL);
}

/* What to break in the DLTB grid. */
struct defects {
    bool bowtie;   /* fid 5 is a bow-tie (G001) */
    bool dup_bsm;  /* fid 8 has fid 7's BSM (A005) */
    bool overlap;  /* fid 10: a 30×30 square inside fid 1 (T001) */
    bool null_all; /* every DLBM NULL (A003 × nfeatures) */
};

/* The 3×3 DLTB grid: fid 1..9 row by row, CCW squares, BSM "B<fid>",
 * DLBM 0101. */
static struct om_layer *make_dltb(const struct defects *d)
{
    struct om_layer *l = NULL;
    if (om_layer_new("DLTB", &l, NULL) != OM_OK) {
        return NULL;
    }
    int bsm = -1, dlbm = -1;
    om_layer_add_field(l, "BSM", OM_FIELD_TEXT, &bsm, NULL);
    om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &dlbm, NULL);
    for (int i = 0; i < 9; i++) {
        int64_t fid = i + 1;
        double x = X0 + CELL * (i % 3), y = Y0 + CELL * (i / 3);
        char b[16];
        om_layer_begin_feature(l, fid, NULL);
        if (d->bowtie && fid == 5) {
            double r[] = {x, y, x + CELL, y + CELL, x + CELL,
                          y, x, y + CELL, x,        y};
            om_layer_begin_part(l, NULL);
            om_layer_add_ring(l, r, 5, NULL);
        } else {
            square(l, x, y, CELL);
        }
        snprintf(b, sizeof b, "B%d", d->dup_bsm && fid == 8 ? 7 : (int)fid);
        om_layer_set_text(l, bsm, b, NULL);
        om_layer_set_text(l, dlbm, d->null_all ? NULL : "0101", NULL);
        om_layer_end_feature(l, NULL);
    }
    if (d->overlap) {
        om_layer_begin_feature(l, 10, NULL);
        square(l, X0 + 50, Y0 + 50, 30);
        om_layer_set_text(l, bsm, "B10", NULL);
        om_layer_set_text(l, dlbm, d->null_all ? NULL : "0101", NULL);
        om_layer_end_feature(l, NULL);
    }
    om_layer_set_crs(l, "EPSG:4530", NULL);
    if (om_layer_finish(l, 0, NULL) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* XZQ: one unit covering the grid. */
static struct om_layer *make_xzq(void)
{
    struct om_layer *l = NULL;
    if (om_layer_new("XZQ", &l, NULL) != OM_OK) {
        return NULL;
    }
    int code = -1;
    om_layer_add_field(l, "XZQDM", OM_FIELD_TEXT, &code, NULL);
    om_layer_begin_feature(l, 1, NULL);
    square(l, X0, Y0, 3 * CELL);
    om_layer_set_text(l, code, "230102", NULL);
    om_layer_end_feature(l, NULL);
    om_layer_set_crs(l, "EPSG:4530", NULL);
    if (om_layer_finish(l, 0, NULL) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

static enum om_status import(struct om_project *p, struct om_layer *l,
                             const char *code, struct om_error *err)
{
    struct om_import_meta m = {0};
    m.code = code;
    m.sha256 = "feed";
    enum om_status s =
        l ? om_project_import(p, l, &m, NULL, NULL, err) : OM_ENOMEM;
    om_layer_free(l);
    return s;
}

/* A project "<name>.gpkg" with XZQ and DLTB (defects d). */
static enum om_status make_project(const char *name, const struct defects *d,
                                   char *path, size_t size,
                                   struct om_project **p, struct om_error *err)
{
    snprintf(path, size, "%s/%s.gpkg", test_tmpdir(), name);
    enum om_status s = om_project_create(path, "EPSG:4530", p, err);
    if (s == OM_OK) {
        s = import(*p, make_xzq(), "XZQ", err);
    }
    if (s == OM_OK) {
        s = import(*p, make_dltb(d), "DLTB", err);
    }
    if (s != OM_OK) {
        om_project_close(*p);
        *p = NULL;
    }
    return s;
}

static struct om_rules *test_rules(void)
{
    struct om_rules *r = NULL;
    if (om_rules_parse(RULES, strlen(RULES), "qc-test.yaml", &r, NULL) !=
        OM_OK) {
        return NULL;
    }
    return r;
}

static size_t count_code(const struct om_qc_result *r, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nerrors; i++) {
        n += strcmp(r->errors[i].code, code) == 0;
    }
    return n;
}

static const struct om_qc_error *find_error(const struct om_qc_result *r,
                                            const char *code)
{
    for (size_t i = 0; i < r->nerrors; i++) {
        if (strcmp(r->errors[i].code, code) == 0) {
            return &r->errors[i];
        }
    }
    return NULL;
}

static const struct om_qc_layer *find_layer(const struct om_qc_result *r,
                                            const char *code)
{
    for (size_t i = 0; i < r->nlayers; i++) {
        if (strcmp(r->layers[i].code, code) == 0) {
            return &r->layers[i];
        }
    }
    return NULL;
}

static void dump(const struct om_qc_result *r)
{
    for (size_t i = 0; r && i < r->nerrors; i++) {
        const struct om_qc_error *e = &r->errors[i];
        printf("  %s %s fid %lld/%lld area %g: %s\n", e->layer, e->code,
               (long long)e->fid, (long long)e->fid2, e->area_m2, e->en);
    }
}

/* ---- tests ---- */

TEST(test_catalogue)
{
    static const char *const want[] = {
        "G001", "G002", "G003", "G004", "G005", "G006", "G007", "T001",
        "T002", "T003", "T004", "L001", "L002", "L003", "A001", "A002",
        "A003", "A004", "A005", "A006", "A007", "C001"};
    size_t n = sizeof want / sizeof want[0];
    CHECK_INT(om_qc_ncheck(), n);
    for (size_t i = 0; i < n; i++) {
        const struct om_qc_check *c = om_qc_check_find(want[i]);
        CHECK(c != NULL);
        if (!c) {
            return;
        }
        CHECK_STR(c->code, want[i]);
        CHECK(c->zh && c->zh[0] && c->en && c->en[0]);
        CHECK(c->severity >= OM_SEV_ERROR && c->severity <= OM_SEV_INFO);
        const char *cat = want[i][0] == 'G'   ? "geometry"
                          : want[i][0] == 'T' ? "topology"
                          : want[i][0] == 'L' ? "layers"
                          : want[i][0] == 'A' ? "attributes"
                                              : "crs";
        CHECK_STR(c->category, cat);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            CHECK(strcmp(om_qc_check_at(i)->code, om_qc_check_at(j)->code));
        }
    }
    CHECK(om_qc_check_at(n) == NULL);
    CHECK(om_qc_check_find("G999") == NULL);
    CHECK(om_qc_check_find(NULL) == NULL);
    /* the severities and fixability the header lists */
    CHECK_INT(om_qc_check_find("G002")->severity, OM_SEV_WARNING);
    CHECK_INT(om_qc_check_find("G007")->severity, OM_SEV_INFO);
    CHECK_INT(om_qc_check_find("L002")->severity, OM_SEV_INFO);
    CHECK_INT(om_qc_check_find("A007")->severity, OM_SEV_WARNING);
    CHECK_INT(om_qc_check_find("T003")->severity, OM_SEV_WARNING);
    CHECK(om_qc_check_find("G001")->fixable);
    CHECK(om_qc_check_find("G007")->fixable);
    CHECK(om_qc_check_find("T003")->fixable);
    CHECK(!om_qc_check_find("A005")->fixable);
}

TEST(test_clean)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {0};
    CHECK_OK(make_project("clean", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    struct om_qc_result *r = NULL;
    enum om_status s = om_qc_run(p, &o, false, &r, NULL, &err);
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    if (r && r->nerrors) {
        dump(r);
    }
    CHECK_INT(r->nerrors, 0);
    CHECK_INT(r->ncounts, 0);
    CHECK_INT(r->nerror_findings, 0);
    CHECK(!r->truncated);
    CHECK_INT(r->nlayers, 2);
    /* every current layer, in catalogue order (code) */
    CHECK_STR(r->layers[0].code, "DLTB");
    CHECK_STR(r->layers[1].code, "XZQ");
    CHECK_INT(r->layers[0].nfeatures, 9);
    CHECK_INT(r->layers[0].version, 1);
    CHECK(r->layers[0].score == 100.0);
    CHECK(r->layers[1].score == 100.0);
    CHECK_INT(om_layer_nfeatures(r->polygons), 0);
    CHECK_INT(r->run_id, 0);
    om_qc_result_free(r);
}

/* The defect project's findings. */
static void check_defects(const struct om_qc_result *r)
{
    /* G001 on fid 5 */
    const struct om_qc_error *g = find_error(r, "G001");
    CHECK(g != NULL);
    if (!g) {
        dump(r);
        return;
    }
    CHECK_STR(g->layer, "DLTB");
    CHECK_INT(g->fid, 5);
    CHECK_INT(g->severity, OM_SEV_ERROR);
    CHECK(isfinite(g->x) && isfinite(g->y));
    /* A005: 7 and 8 share B7 */
    const struct om_qc_error *a = find_error(r, "A005");
    CHECK(a != NULL);
    if (!a) {
        dump(r);
        return;
    }
    CHECK_INT(count_code(r, "A005"), 1);
    CHECK(a->fid == 7 || a->fid == 8);
    CHECK(a->fid2 == 7 || a->fid2 == 8);
    CHECK(a->fid != a->fid2);
    CHECK_STR(a->field, "BSM");
    /* T001 between 1 and 10: the 30 m × 30 m square, 900 m² */
    const struct om_qc_error *t = find_error(r, "T001");
    CHECK(t != NULL);
    if (!t) {
        dump(r);
        return;
    }
    CHECK_INT(count_code(r, "T001"), 1);
    CHECK((t->fid == 1 && t->fid2 == 10) || (t->fid == 10 && t->fid2 == 1));
    CHECK_NEAR(t->area_m2, 900.0, 1e-9, 1e-6);
    CHECK(t->polygon != OM_QC_NONE);
    /* the polygon layer: fid = error index + 1, the same area */
    if (t->polygon != OM_QC_NONE) {
        struct om_layer_view v;
        om_layer_view(r->polygons, &v);
        size_t idx = (size_t)(t - r->errors);
        CHECK_INT(v.fid[t->polygon], (int64_t)idx + 1);
        CHECK_NEAR(v.bbox[t->polygon].minx, X0 + 50, 0, 1e-6);
        CHECK_NEAR(v.bbox[t->polygon].maxy, Y0 + 80, 0, 1e-6);
        int fa = om_layer_field_index(r->polygons, "area_m2");
        CHECK_NEAR(om_layer_get_real(r->polygons, t->polygon, fa), 900.0, 1e-9,
                   1e-6);
        int fc = om_layer_field_index(r->polygons, "code");
        CHECK_STR(om_layer_get_text(r->polygons, t->polygon, fc), "T001");
    }
    /* counts agree with the list (nothing truncated) */
    CHECK(!r->truncated);
    size_t total = 0;
    for (size_t i = 0; i < r->ncounts; i++) {
        CHECK_INT(r->counts[i].count, r->counts[i].listed);
        size_t listed = 0;
        for (size_t k = 0; k < r->nerrors; k++) {
            listed += strcmp(r->errors[k].code, r->counts[i].code) == 0 &&
                      r->errors[k].layer == r->counts[i].layer;
        }
        CHECK_INT(r->counts[i].count, listed);
        total += r->counts[i].count;
    }
    CHECK_INT(total, r->nerrors);
    /* score: features 1, 5, 7, 8, 10 have errors out of 10: 50 */
    const struct om_qc_layer *l = find_layer(r, "DLTB");
    CHECK(l != NULL);
    if (!l) {
        return;
    }
    CHECK_INT(l->nfeatures, 10);
    CHECK_INT(l->nbad_features, 5);
    CHECK_NEAR(l->score, 50.0, 0, 1e-9);
    if (l->nbad_features != 5) {
        dump(r);
    }
    const struct om_qc_layer *x = find_layer(r, "XZQ");
    CHECK(x && x->score == 100.0 && x->nerrors == 0);
}

/* Sorted by layer (as checked), code, fid, fid2. */
static bool sorted(const struct om_qc_result *r)
{
    for (size_t i = 1; i < r->nerrors; i++) {
        const struct om_qc_error *a = &r->errors[i - 1], *b = &r->errors[i];
        size_t la = 0, lb = 0;
        for (size_t k = 0; k < r->nlayers; k++) {
            la = r->layers[k].code == a->layer ? k : la;
            lb = r->layers[k].code == b->layer ? k : lb;
        }
        int c = strcmp(a->code, b->code);
        if (la > lb || (la == lb && c > 0) ||
            (la == lb && c == 0 && a->fid > b->fid) ||
            (la == lb && c == 0 && a->fid == b->fid && a->fid2 > b->fid2)) {
            return false;
        }
    }
    return true;
}

TEST(test_defects)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {.bowtie = true, .dup_bsm = true, .overlap = true};
    CHECK_OK(make_project("defects", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    /* XZQ first: layers are checked in the order given */
    const char *const layers[] = {"xzq", "DLTB", "XZQ"};
    o.layers = layers;
    o.nlayers = 3;
    struct om_qc_result *r = NULL, *r4 = NULL;
    enum om_status s = om_qc_run(p, &o, false, &r, NULL, &err);
    o.threads = 4;
    enum om_status s4 =
        s == OM_OK ? om_qc_run(p, &o, false, &r4, NULL, &err) : s;
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    CHECK_OK(s4, &err);
    CHECK_INT(r->nlayers, 2);
    CHECK_STR(r->layers[0].code, "XZQ");
    CHECK_STR(r->layers[1].code, "DLTB");
    check_defects(r);
    CHECK(sorted(r));
    CHECK(r->nerror_findings >= 4);
    /* the same list with 4 threads */
    CHECK_INT(r4->nerrors, r->nerrors);
    for (size_t i = 0; i < r->nerrors && i < r4->nerrors; i++) {
        CHECK_STR(r4->errors[i].code, r->errors[i].code);
        CHECK_INT(r4->errors[i].fid, r->errors[i].fid);
        CHECK_INT(r4->errors[i].fid2, r->errors[i].fid2);
    }
    om_qc_result_free(r);
    om_qc_result_free(r4);
}

/* `only` by code and category. */
TEST(test_only)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {.bowtie = true, .dup_bsm = true, .overlap = true};
    CHECK_OK(make_project("only", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    const char *const only[] = {"attributes", "G001"};
    o.only = only;
    o.nonly = 2;
    struct om_qc_result *r = NULL;
    enum om_status s = om_qc_run(p, &o, false, &r, NULL, &err);
    const char *const bad[] = {"G01"};
    o.only = bad;
    o.nonly = 1;
    struct om_qc_result *r2 = NULL;
    enum om_status s2 = om_qc_run(p, &o, false, &r2, NULL, &err);
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    CHECK_INT(s2, OM_EINVAL);
    CHECK(r2 == NULL);
    CHECK_INT(count_code(r, "G001"), 1);
    CHECK_INT(count_code(r, "A005"), 1);
    CHECK_INT(count_code(r, "T001"), 0);
    for (size_t i = 0; i < r->nerrors; i++) {
        CHECK(r->errors[i].code[0] == 'A' ||
              strcmp(r->errors[i].code, "G001") == 0);
    }
    om_qc_result_free(r);
}

TEST(test_truncation)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {.null_all = true};
    CHECK_OK(make_project("trunc", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    o.max_per_check = 3;
    struct om_qc_result *r = NULL;
    enum om_status s = om_qc_run(p, &o, false, &r, NULL, &err);
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    CHECK(r->truncated);
    CHECK_INT(count_code(r, "A003"), 3);
    const struct om_qc_count *c = NULL;
    for (size_t i = 0; i < r->ncounts; i++) {
        if (strcmp(r->counts[i].code, "A003") == 0) {
            c = &r->counts[i];
        }
    }
    CHECK(c != NULL);
    if (!c) {
        return;
    }
    CHECK_STR(c->layer, "DLTB");
    CHECK_INT(c->count, 9);
    CHECK_INT(c->listed, 3);
    CHECK(isnan(c->area_m2));
    CHECK_INT(r->nerror_findings, 9);
    /* all 9 features are bad although only 3 are listed: score 0 */
    const struct om_qc_layer *l = find_layer(r, "DLTB");
    CHECK_INT(l->nerrors, 9);
    CHECK_INT(l->nbad_features, 9);
    CHECK(l->score == 0.0);
    /* the first 3 in emission (fid) order */
    int64_t fids[3] = {0};
    size_t k = 0;
    for (size_t i = 0; i < r->nerrors && k < 3; i++) {
        if (strcmp(r->errors[i].code, "A003") == 0) {
            fids[k++] = r->errors[i].fid;
        }
    }
    CHECK_INT(fids[0], 1);
    CHECK_INT(fids[1], 2);
    CHECK_INT(fids[2], 3);
    om_qc_result_free(r);
}

/* One value of a query on the file, as text ("" if none); malloc'ed. */
static char *query1(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *v = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) {
            v = strdup((const char *)sqlite3_column_text(st, 0));
        } else {
            printf("query1: %s: %s\n", sql, sqlite3_errmsg(db));
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return v ? v : strdup("");
}

#define CHECK_QUERY(path, sql, want)                                           \
    do {                                                                       \
        char *q_ = query1((path), (sql));                                      \
        bool ok_ = q_ && strcmp(q_, (want)) == 0;                              \
        if (!ok_) {                                                            \
            FAILF("%s gave \"%s\", want \"%s\"", (sql), q_ ? q_ : "(null)",    \
                  (want));                                                     \
        }                                                                      \
        free(q_);                                                              \
    } while (0)

TEST(test_store_and_json)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {.bowtie = true, .dup_bsm = true, .overlap = true};
    CHECK_OK(make_project("store", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    struct om_qc_result *r = NULL;
    enum om_status s = om_qc_run(p, &o, true, &r, NULL, &err);
    struct om_run_record *rec = NULL;
    size_t nrec = 0;
    if (s == OM_OK) {
        s = om_project_runs(p, "qc", &rec, &nrec, &err);
    }
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    CHECK_INT(r->run_id, 1);
    CHECK_INT(nrec, 1);
    if (nrec == 1) {
        CHECK_STR(rec[0].kind, "qc");
        CHECK_CONTAINS(rec[0].summary, "\"score\":50.000000");
        CHECK_CONTAINS(rec[0].inputs, "\"DLTB\"");
        CHECK_CONTAINS(rec[0].params, "\"max_per_check\":100000");
        CHECK_STR(rec[0].rules_source, "qc-test.yaml");
    }
    om_run_records_free(rec, nrec);
    check_defects(r);
    char want[64];
    /* QC_ERRORS: a POINT layer, one row per finding, NULL geometry for
     * the layer-level ones */
    snprintf(want, sizeof want, "%zu", r->nerrors);
    CHECK_QUERY(path, "SELECT COUNT(*) FROM QC_ERRORS", want);
    CHECK_QUERY(path,
                "SELECT geometry_type_name FROM gpkg_geometry_columns "
                "WHERE table_name = 'QC_ERRORS_r1'",
                "POINT");
    CHECK_QUERY(path,
                "SELECT group_concat(name || ' ' || type, ', ') FROM "
                "pragma_table_info('QC_ERRORS_r1') WHERE name != 'value'",
                "fid INTEGER, geom POINT, code TEXT, severity TEXT, layer "
                "TEXT, fid_1 INTEGER, fid2 INTEGER, area_m2 REAL, field "
                "TEXT, message_zh TEXT, message_en TEXT");
    CHECK_QUERY(path,
                "SELECT code || ':' || fid_1 || ':' || fid2 || ':' || "
                "printf('%.3f', area_m2) FROM QC_ERRORS WHERE code = 'T001'",
                "T001:1:10:900.000");
    CHECK_QUERY(path, "SELECT rtreecheck('rtree_QC_ERRORS_r1_geom')", "ok");
    snprintf(want, sizeof want, "%zu", om_layer_nfeatures(r->polygons));
    CHECK_QUERY(path, "SELECT COUNT(*) FROM QC_AREAS", want);
    CHECK_QUERY(path,
                "SELECT layer || ':' || code || ':' || severity || ':' || "
                "count || ':' || listed || ':' || layer_score FROM "
                "QC_SUMMARY WHERE code = 'A005'",
                "DLTB:A005:error:1:1:50.0");
    CHECK_QUERY(path,
                "SELECT COALESCE(code, 'none') || ':' || count || ':' || "
                "layer_score FROM QC_SUMMARY WHERE layer = 'XZQ'",
                "none:0:100.0");
    /* GDAL reads QC_ERRORS as a point layer */
    char cmd[1024];
    int status;
    snprintf(cmd, sizeof cmd, "ogrinfo -ro -so '%s' QC_ERRORS 2>&1", path);
    char *out = run_cmd(cmd, &status);
    CHECK(out && strstr(out, "Geometry: Point"));
    snprintf(want, sizeof want, "Feature Count: %zu", r->nerrors);
    CHECK(out && strstr(out, want));
    free(out);
    /* JSON parses and agrees */
    char *json = NULL;
    size_t len = 0;
    CHECK_OK(om_qc_result_json(r, &json, &len, &err), &err);
    CHECK_INT(strlen(json), len);
    char jpath[600];
    snprintf(jpath, sizeof jpath, "%s/qc.json", test_tmpdir());
    FILE *f = fopen(jpath, "w");
    if (f) {
        fputs(json, f);
        fclose(f);
    }
    om_qc_free_string(json);
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "t=[e for e in d[\"errors\"] if e[\"code\"]==\"T001\"][0]; "
             "print(len(d[\"errors\"]), d[\"run_id\"], "
             "[l[\"score\"] for l in d[\"layers\"]], "
             "round(t[\"area_m2\"], 6), t[\"polygon\"] is not None)' '%s' "
             "2>&1",
             jpath);
    out = run_cmd(cmd, &status);
    char wantj[128];
    snprintf(wantj, sizeof wantj, "%zu 1 [50.0, 100.0] 900.0 True\n",
             r->nerrors);
    CHECK(status == 0 && out);
    CHECK_STR(out ? out : "", wantj);
    free(out);
    om_qc_result_free(r);
}

TEST(test_errors)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {0};
    CHECK_OK(make_project("errors", &d, path, sizeof path, &p, &err), &err);
    struct om_qc_options o = {0};
    const char *const layers[] = {"NOPE"};
    o.layers = layers;
    o.nlayers = 1;
    struct om_qc_result *r = (struct om_qc_result *)&o;
    enum om_status s1 = om_qc_run(p, &o, false, &r, NULL, &err);
    CHECK_INT(s1, OM_ENOTFOUND);
    CHECK(r == NULL);
    CHECK_CONTAINS(err.msg, "NOPE");
    CHECK_CONTAINS(err.msg, "DLTB");
    /* canceled */
    volatile int cancel = 1;
    struct om_progress pr = {NULL, NULL, &cancel};
    o.nlayers = 0;
    o.layers = NULL;
    enum om_status s2 = om_qc_run(p, &o, false, &r, &pr, &err);
    CHECK_INT(s2, OM_ECANCELED);
    CHECK(r == NULL);
    /* built-in rules (NULL): the shipped schemas; it runs */
    enum om_status s3 = om_qc_run(p, NULL, false, &r, NULL, &err);
    CHECK_OK(s3, &err);
    CHECK(r && r->nlayers == 2);
    om_qc_result_free(r);
    om_project_close(p);
    CHECK_INT(om_qc_run(NULL, &o, false, &r, NULL, NULL), OM_EINVAL);
}

/* A rule file without qc: takes the built-in qc section (its DLTB schema
 * requires fields this layer lacks): layer-level A001 findings, -10 each,
 * stored with a NULL point. */
static void progress_cb(void *ctx, const char *phase, uint64_t done,
                        uint64_t total)
{
    (void)done;
    (void)total;
    if (strcmp(phase, "checking") == 0) {
        (*(int *)ctx)++;
    }
}

TEST(test_builtin_qc_section)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {0};
    CHECK_OK(make_project("builtin", &d, path, sizeof path, &p, &err), &err);
    const char *y = "version: 1\nrules: []\n";
    struct om_rules *rules = NULL;
    enum om_status s = om_rules_parse(y, strlen(y), "noqc.yaml", &rules, &err);
    struct om_qc_options o = {0};
    o.rules = rules;
    const char *const only[] = {"A001"};
    o.only = only;
    o.nonly = 1;
    int ncalls = 0;
    struct om_progress pr = {progress_cb, &ncalls, NULL};
    struct om_qc_result *r = NULL;
    if (s == OM_OK) {
        s = om_qc_run(p, &o, true, &r, &pr, &err);
    }
    om_project_close(p);
    om_rules_free(rules);
    CHECK_OK(s, &err);
    CHECK(ncalls >= 2);
    size_t k = count_code(r, "A001");
    size_t kd = 0;
    bool level = true;
    for (size_t i = 0; i < r->nerrors; i++) {
        const struct om_qc_error *e = &r->errors[i];
        kd += strcmp(e->layer, "DLTB") == 0;
        level &= e->fid == -1 && isnan(e->x) && e->field != NULL;
    }
    CHECK(kd >= 2);
    CHECK(level);
    /* every layer: 100 - 10 per layer-level error, at least 0 */
    for (size_t i = 0; i < r->nlayers; i++) {
        const struct om_qc_layer *l = &r->layers[i];
        double want = 100.0 - 10.0 * (double)l->nerrors;
        CHECK(l->score == (want < 0 ? 0 : want));
        CHECK_INT(l->nbad_features, 0);
    }
    CHECK_INT(find_layer(r, "DLTB")->nerrors, kd);
    char q[64];
    snprintf(q, sizeof q, "%zu", k);
    CHECK_QUERY(path,
                "SELECT COUNT(*) FROM QC_ERRORS WHERE geom IS NULL AND code "
                "= 'A001' AND fid_1 IS NULL",
                q);
    CHECK_QUERY(path, "SELECT rules_source FROM om_runs", "noqc.yaml");
    om_qc_result_free(r);
}

/* Out of memory on every allocation: a clean failure, then success. */
TEST(test_oom)
{
    char path[512];
    struct om_project *p = NULL;
    struct om_error err;
    struct defects d = {.bowtie = true, .dup_bsm = true, .overlap = true};
    CHECK_OK(make_project("oom", &d, path, sizeof path, &p, &err), &err);
    struct om_rules *rules = test_rules();
    struct om_qc_options o = {0};
    o.rules = rules;
    o.threads = 1;
    bool done = false, ok = true;
    int n;
    for (n = 0; n < 100000 && !done && ok; n += 1 + n / 50) {
        struct om_qc_result *r = NULL;
        test_fail_allocs_after(n);
        enum om_status s = om_qc_run(p, &o, true, &r, NULL, &err);
        test_fail_allocs_after(-1);
        if (s == OM_OK) {
            done = true;
            ok = r && r->run_id == 1 && r->nerrors > 0;
        } else if (s != OM_ENOMEM || r) {
            printf("n=%d: %s: %s\n", n, om_status_name(s), err.msg);
            ok = false;
        }
        om_qc_result_free(r);
    }
    /* nothing of the failed attempts stayed: the run is the first */
    struct om_run_record *rec = NULL;
    size_t nrec = 0;
    enum om_status s = om_project_runs(p, "qc", &rec, &nrec, &err);
    om_run_records_free(rec, nrec);
    om_project_close(p);
    om_rules_free(rules);
    CHECK(ok);
    CHECK(done);
    CHECK(n > 20);
    CHECK_OK(s, &err);
    CHECK_INT(nrec, 1);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc");
    RUN(test_catalogue);
    RUN(test_clean);
    RUN(test_defects);
    RUN(test_only);
    RUN(test_truncation);
    RUN(test_store_and_json);
    RUN(test_errors);
    RUN(test_builtin_qc_section);
    RUN(test_oom);
    TEST_MAIN_END();
}
