/*
 * test_qc_report.c — the quality control report (om_qc_report_html): a
 * result built by hand with known findings (well-formed HTML by xmllint and
 * a tag-balance check, title, scores with their colours, every code and
 * count, areas as printed, the worst overlaps / gaps ranked by area, the
 * map with its error polygons, squares and legend, the thresholds of the
 * rule file), a clean result (no map), a failing FILE * (OM_EIO), bad
 * arguments, OOM injection, and the real engine on a small project with
 * the layers read back for the map.
 */
#include "onemap/onemap.h"
#include "onemap/qc.h"
#include "test.h"

#include <math.h>

/* ---- helpers ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    if (s && fread(s, 1, (size_t)sz, f) != (size_t)sz) {
        free(s);
        s = NULL;
    }
    if (s) {
        s[sz] = '\0';
    }
    fclose(f);
    return s;
}

/* The last rendered document (freed by the next render and at exit). */
static char *g_doc;

static enum om_status render(struct om_project *p,
                             const struct om_qc_result *res,
                             const struct om_rules *rules, const char *name,
                             struct om_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        return OM_EIO;
    }
    enum om_status st = om_qc_report_html(p, res, rules, f, err);
    fclose(f);
    free(g_doc);
    g_doc = st == OM_OK ? slurp(path) : NULL;
    return st;
}

/* 1 = well-formed (xmllint --html finds no error but the HTML5 / SVG tags
 * it does not know, and every element closes in order), 0 = not, -1 = no
 * tools. */
static int well_formed(const char *name)
{
    if (system("command -v xmllint >/dev/null 2>&1 && "
               "command -v python3 >/dev/null 2>&1") != 0) {
        return -1;
    }
    char cmd[3000];
    snprintf(cmd, sizeof cmd,
             "xmllint --html --noout '%s/%s' 2>&1 | grep 'parser error' | "
             "grep -v 'HTML parser error : Tag [a-zA-Z]* invalid' "
             ">'%s/%s.lint'; python3 -c '\n"
             "import sys\n"
             "from html.parser import HTMLParser\n"
             "V={\"br\",\"meta\",\"hr\",\"img\",\"link\",\"col\",\"input\"}\n"
             "class P(HTMLParser):\n"
             "  def __init__(s):\n"
             "    super().__init__(); s.st=[]; s.bad=0\n"
             "  def handle_starttag(s,t,a):\n"
             "    if t not in V: s.st.append(t)\n"
             "  def handle_endtag(s,t):\n"
             "    if not s.st or s.st[-1]!=t: s.bad+=1\n"
             "    else: s.st.pop()\n"
             "p=P(); p.feed(open(sys.argv[1],encoding=\"utf-8\").read())\n"
             "sys.exit(1 if p.bad or p.st else 0)' '%s/%s' >>'%s/%s.lint' "
             "2>&1 || echo unbalanced >>'%s/%s.lint'; ! [ -s '%s/%s.lint' ]",
             test_tmpdir(), name, test_tmpdir(), name, test_tmpdir(), name,
             test_tmpdir(), name, test_tmpdir(), name, test_tmpdir(), name);
    return system(cmd) == 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, m = strlen(needle);
    for (const char *p = hay; *p; p++) {
        n += *p == *needle && strncmp(p, needle, m) == 0;
    }
    return n;
}

/* ---- a result built by hand ---- */

#define E0 42512000.0
#define N0 4856000.0

static enum om_status add_rect(struct om_layer *l, int64_t fid, double x0,
                               double y0, double x1, double y1,
                               struct om_error *err)
{
    double r[10] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    enum om_status st = om_layer_begin_feature(l, fid, err);
    if (!st) {
        st = om_layer_begin_part(l, err);
    }
    if (!st) {
        st = om_layer_add_ring(l, r, 5, err);
    }
    return st ? st : om_layer_end_feature(l, err);
}

struct hand {
    struct om_qc_result res;
    struct om_qc_error errors[8];
    struct om_qc_count counts[7];
    struct om_qc_layer layers[2];
};

/*
 * DLTB (8 features, score 62.5): G001 at fid 6; T001 between 2 and 3,
 * 1000 m² (polygon 0); T002 gaps of 2500 and 6000 m² (polygons 1, 2: the
 * larger one listed second); A005 duplicate BSM; A006 net area; T003 sliver
 * (warning, polygon 3). XZQ (1 feature): a layer-level A001 (score 90).
 */
static enum om_status make_hand(struct hand *h, struct om_error *err)
{
    memset(h, 0, sizeof *h);
    struct om_layer *pl = NULL;
    enum om_status st = om_layer_new("QC_AREAS", &pl, err);
    if (!st) {
        st = add_rect(pl, 1, E0 + 190, N0, E0 + 200, N0 + 100, err);
    }
    if (!st) {
        st = add_rect(pl, 2, E0 + 500, N0, E0 + 550, N0 + 50, err);
    }
    if (!st) {
        st = add_rect(pl, 3, E0 + 300, N0 + 200, E0 + 360, N0 + 300, err);
    }
    if (!st) {
        st = add_rect(pl, 4, E0 + 600, N0, E0 + 600.05, N0 + 100, err);
    }
    if (!st) {
        st = om_layer_finish(pl, OM_LAYER_KEEP_ORDER, err);
    }
    if (!st) {
        st = om_layer_set_crs(pl, "EPSG:4530", err);
    }
    if (st) {
        om_layer_free(pl);
        return st;
    }
    h->res.polygons = pl;
    static char dltb[] = "DLTB", xzq[] = "XZQ";
    static char bsm[] = "BSM", tbdlmj[] = "TBDLMJ", xzqdm[] = "XZQDM";
    static char z[] = "中文说明", e1[] = "Self-intersection at (42512550.000, "
                                         "4856050.000)";
    static char e2[] = "Overlaps feature 3 by 1000.000000 m2";
    static char e3[] = "Gap of 2500.000000 m2";
    static char e4[] = "Gap of 6000.000000 m2 <&> \"quoted\"";
    static char e5[] = "Value '1' of unique field BSM repeats fid 1";
    static char e6[] = "TBDLMJ differs by -900.0000 m²";
    static char e7[] = "Sliver: width 0.05 m";
    static char e8[] = "Required field XZQDM is missing";
    const double nan = NAN;
    struct om_qc_error *e = h->errors;
    /* sorted by layer, code, fid, fid2 */
    e[0] =
        (struct om_qc_error){"A005", OM_SEV_ERROR, dltb, 2, 1,  E0 + 100,  N0,
                             nan,    nan,          bsm,  z, e5, OM_QC_NONE};
    e[1] =
        (struct om_qc_error){"A006", OM_SEV_ERROR, dltb,   5, -1, E0 + 400,  N0,
                             nan,    -900,         tbdlmj, z, e6, OM_QC_NONE};
    e[2] = (struct om_qc_error){"G001",   OM_SEV_ERROR, dltb,      6,   -1,
                                E0 + 550, N0 + 50,      nan,       nan, NULL,
                                z,        e1,           OM_QC_NONE};
    e[3] = (struct om_qc_error){"T001",   OM_SEV_ERROR, dltb, 2,    3,
                                E0 + 195, N0 + 50,      1000, 1000, NULL,
                                z,        e2,           0};
    e[4] = (struct om_qc_error){"T002",   OM_SEV_ERROR, dltb, -1,   -1,
                                E0 + 525, N0 + 25,      2500, 2500, NULL,
                                z,        e3,           1};
    e[5] = (struct om_qc_error){"T002",   OM_SEV_ERROR, dltb, -1,   -1,
                                E0 + 330, N0 + 250,     6000, 6000, NULL,
                                z,        e4,           2};
    e[6] = (struct om_qc_error){
        "T003", OM_SEV_WARNING, dltb, 7,  -1, E0 + 600.025, N0 + 50, 5,
        0.05,   NULL,           z,    e7, 3};
    e[7] = (struct om_qc_error){"A001", OM_SEV_ERROR, xzq,       -1,  -1,
                                nan,    nan,          nan,       nan, xzqdm,
                                z,      e8,           OM_QC_NONE};
    h->res.errors = e;
    h->res.nerrors = 8;
    struct om_qc_count *k = h->counts;
    k[0] = (struct om_qc_count){"A005", dltb, 1, 1, nan};
    k[1] = (struct om_qc_count){"A006", dltb, 1, 1, nan};
    k[2] = (struct om_qc_count){"G001", dltb, 1, 1, nan};
    k[3] = (struct om_qc_count){"T001", dltb, 1, 1, 1000};
    k[4] = (struct om_qc_count){"T002", dltb, 2, 2, 8500};
    k[5] = (struct om_qc_count){"T003", dltb, 1, 1, 5};
    k[6] = (struct om_qc_count){"A001", xzq, 1, 1, nan};
    h->res.counts = k;
    h->res.ncounts = 7;
    h->layers[0] = (struct om_qc_layer){dltb, 1, 8, 6, 1, 0, 3, 62.5};
    h->layers[1] = (struct om_qc_layer){xzq, 2, 1, 1, 0, 0, 0, 90.0};
    h->res.layers = h->layers;
    h->res.nlayers = 2;
    h->res.nerror_findings = 7;
    h->res.run_id = 42;
    h->res.elapsed_s = 0.25;
    return OM_OK;
}

static void free_hand(struct hand *h)
{
    om_layer_free(h->res.polygons);
    h->res.polygons = NULL;
}

static const char RULES[] = "version: 1\n"
                            "qc:\n"
                            "  thresholds:\n"
                            "    sliver_area: 2.5\n"
                            "    near_distance: 0.07\n"
                            "  coverage: [DLTB]\n"
                            "  extent: XZQ\n"
                            "  schemas:\n"
                            "    DLTB:\n"
                            "      single_part: true\n"
                            "      net_area: {net: TBDLMJ, gross: TBMJ, "
                            "deduct: KCMJ}\n"
                            "      fields:\n"
                            "        BSM: {type: text, required: true, "
                            "unique: true}\n"
                            "        DLBM: {type: text, domain: dlbm}\n";

TEST(test_hand)
{
    struct hand h;
    struct om_error err;
    om_error_clear(&err);
    CHECK_OK(make_hand(&h, &err), &err);
    struct om_rules *rules = NULL;
    enum om_status st =
        om_rules_parse(RULES, sizeof RULES - 1, "qc-test.yaml", &rules, &err);
    if (st) {
        free_hand(&h);
    }
    CHECK_OK(st, &err);
    st = render(NULL, &h.res, rules, "hand.html", &err);
    free_hand(&h);
    om_rules_free(rules);
    CHECK_OK(st, &err);
    const char *d = g_doc;
    CHECK(d != NULL);
    CHECK(well_formed("hand.html") != 0);
    CHECK_CONTAINS(d, "<title>");
    CHECK_CONTAINS(d, "成果质检报告");
    CHECK_CONTAINS(d, "Quality control report");
    /* overview */
    CHECK_CONTAINS(d, "qc-test.yaml");
    CHECK_CONTAINS(d, "<td>42</td>"); /* run id */
    CHECK_CONTAINS(d, "7 errors, 1 warnings, 0 infos");
    /* scores, coloured: 62.5 red, 90.0 amber */
    CHECK_CONTAINS(d, "background:#c62828;-webkit-print-color-adjust:exact;"
                      "print-color-adjust:exact\">62.50</td>");
    CHECK_CONTAINS(d, "background:#e08e00;-webkit-print-color-adjust:exact;"
                      "print-color-adjust:exact\">90.00</td>");
    /* every code with its count row; areas as printed */
    static const char *const codes[] = {"A005", "A006", "G001",
                                        "T001", "T002", "T003"};
    for (size_t i = 0; i < 6; i++) {
        CHECK(count(d, codes[i]) >= 3); /* counts, worst cases, catalogue */
    }
    CHECK_CONTAINS(d, "<td class=\"num\">8500.00</td>");
    CHECK_CONTAINS(d, "<td class=\"num\">1000.00</td>");
    /* worst cases: the 6000 m² gap ranked before the 2500 m² one, with
     * its coordinates; text escaped */
    const char *g6 = strstr(d, "<td class=\"num\">6000.00</td>");
    const char *g25 = strstr(d, "<td class=\"num\">2500.00</td>");
    CHECK(g6 && g25 && g6 < g25);
    CHECK_CONTAINS(d, "42512330.000");
    CHECK_CONTAINS(d, "4856250.000");
    CHECK_CONTAINS(d, "Gap of 6000.000000 m2 &lt;&amp;&gt; &quot;quoted&quot;");
    CHECK(strstr(d, "<&>") == NULL);
    /* first findings of the other checks, with their values and fields */
    CHECK_CONTAINS(d, "-900.000 m²");
    CHECK_CONTAINS(d, "Value &#39;1&#39; of unique field BSM repeats fid 1");
    CHECK_CONTAINS(d, "Required field XZQDM is missing");
    /* a map for each layer with findings: polygons, squares, legend */
    /* XZQ has only a layer-level finding and no project to read: none */
    CHECK_INT((long)count(d, "<svg"), 1);
    CHECK_CONTAINS(d, "error polygons");
    CHECK_CONTAINS(d, "error locations");
    CHECK_CONTAINS(d, "warning polygons");
    CHECK_CONTAINS(d, "Layer DLTB: findings");
    /* the method: this rule file's thresholds and schema */
    CHECK_CONTAINS(d, "2.5 m²");
    CHECK_CONTAINS(d, "0.07 m");
    CHECK_CONTAINS(d, "BSM (text, required, unique)");
    CHECK_CONTAINS(d, "DLBM (text, domain dlbm)");
    CHECK_CONTAINS(d, "TBDLMJ = TBMJ − KCMJ");
    CHECK_CONTAINS(d, "C001"); /* the catalogue is complete */
    CHECK_CONTAINS(d, "L003");
}

TEST(test_clean)
{
    /* no findings: the layer table says 100, no map, no worst cases;
     * the built-in rules describe the method */
    struct om_qc_layer ly = {(char *)"DLTB", 3, 20, 0, 0, 0, 0, 100.0};
    struct om_qc_result res;
    memset(&res, 0, sizeof res);
    res.layers = &ly;
    res.nlayers = 1;
    struct om_error err;
    om_error_clear(&err);
    CHECK_OK(render(NULL, &res, NULL, "clean.html", &err), &err);
    const char *d = g_doc;
    CHECK(d != NULL);
    CHECK(well_formed("clean.html") != 0);
    CHECK_CONTAINS(d, "100.00</td>");
    CHECK_CONTAINS(d, "background:#2e7d32");
    CHECK_CONTAINS(d, "no findings");
    CHECK_CONTAINS(d, "no errors found");
    CHECK_CONTAINS(d, "(built-in)");
    CHECK(strstr(d, "<svg") == NULL);
    CHECK(strstr(d, "Worst cases") == NULL);
    CHECK_CONTAINS(d, "Catalogue of checks");
}

TEST(test_eio_and_args)
{
    struct hand h;
    struct om_error err;
    om_error_clear(&err);
    CHECK_OK(make_hand(&h, &err), &err);
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        free_hand(&h);
        CHECK(f != NULL);
    }
    enum om_status st = om_qc_report_html(NULL, &h.res, NULL, f, &err);
    fclose(f);
    CHECK_INT(st, OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot write");
    CHECK_INT(om_qc_report_html(NULL, NULL, NULL, stdout, &err), OM_EINVAL);
    CHECK_INT(om_qc_report_html(NULL, &h.res, NULL, NULL, &err), OM_EINVAL);
    struct om_qc_result broken = h.res;
    broken.errors = NULL;
    CHECK_INT(om_qc_report_html(NULL, &broken, NULL, stdout, &err), OM_EINVAL);
    free_hand(&h);
}

TEST(test_oom)
{
    /* every allocation failing in turn: OM_ENOMEM, nothing leaks */
    struct hand h;
    struct om_error err;
    om_error_clear(&err);
    CHECK_OK(make_hand(&h, &err), &err);
    struct om_rules *rules = NULL;
    enum om_status st =
        om_rules_parse(RULES, sizeof RULES - 1, "qc-test.yaml", &rules, &err);
    if (st) {
        free_hand(&h);
    }
    CHECK_OK(st, &err);
    char path[512];
    snprintf(path, sizeof path, "%s/oom.html", test_tmpdir());
    int n;
    for (n = 0; n < 100000; n++) {
        FILE *f = fopen(path, "wb");
        if (!f) {
            break;
        }
        test_fail_allocs_after(n);
        st = om_qc_report_html(NULL, &h.res, rules, f, &err);
        test_fail_allocs_after(-1);
        fclose(f);
        if (st != OM_ENOMEM) {
            break;
        }
    }
    free_hand(&h);
    om_rules_free(rules);
    CHECK_INT(st, OM_OK);
    CHECK(n > 20);
}

/* ---- the engine on a small project ---- */

static enum om_status make_project(const char *path, struct om_project **out,
                                   struct om_error *err)
{
    struct om_project *p = NULL;
    struct om_layer *l = NULL;
    enum om_status st = om_project_create(path, "EPSG:4530", &p, err);
    int fb = -1;
    if (!st) {
        st = om_layer_new("DLTB", &l, err);
    }
    if (!st) {
        st = om_layer_add_field(l, "BSM", OM_FIELD_TEXT, &fb, err);
    }
    /* four 100 m squares; the third overlaps the second by 10 × 100 m */
    static const double xs[4][2] = {
        {0, 100}, {100, 200}, {190, 300}, {300, 400}};
    for (int i = 0; i < 4 && !st; i++) {
        double r[10] = {E0 + xs[i][0], N0,       E0 + xs[i][1], N0,
                        E0 + xs[i][1], N0 + 100, E0 + xs[i][0], N0 + 100,
                        E0 + xs[i][0], N0};
        char bsm[16];
        snprintf(bsm, sizeof bsm, "%d", i + 1);
        st = om_layer_begin_feature(l, i + 1, err);
        if (!st) {
            st = om_layer_begin_part(l, err);
        }
        if (!st) {
            st = om_layer_add_ring(l, r, 5, err);
        }
        if (!st) {
            st = om_layer_set_text(l, fb, bsm, err);
        }
        if (!st) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (!st) {
        st = om_layer_finish(l, 0, err);
    }
    if (!st) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (!st) {
        struct om_import_meta meta = {0};
        meta.code = "DLTB";
        meta.source = "hand";
        st = om_project_import(p, l, &meta, NULL, NULL, err);
    }
    om_layer_free(l);
    if (st) {
        om_project_close(p);
        return st;
    }
    *out = p;
    return OM_OK;
}

TEST(test_engine)
{
    char path[512];
    snprintf(path, sizeof path, "%s/engine.gpkg", test_tmpdir());
    struct om_project *p = NULL;
    struct om_error err;
    om_error_clear(&err);
    CHECK_OK(make_project(path, &p, &err), &err);
    static const char *const only[] = {"T001"};
    struct om_qc_options o = {0};
    o.only = only;
    o.nonly = 1;
    struct om_qc_result *res = NULL;
    enum om_status st = om_qc_run(p, &o, false, &res, NULL, &err);
    if (st) {
        om_project_close(p);
    }
    CHECK_OK(st, &err);
    st = render(p, res, NULL, "engine.html", &err);
    size_t nerr = res->nerrors;
    om_qc_result_free(res);
    om_project_close(p);
    CHECK_OK(st, &err);
    CHECK_INT((long)nerr, 1);
    const char *d = g_doc;
    CHECK(d != NULL);
    CHECK(well_formed("engine.html") != 0);
    CHECK_CONTAINS(d, "engine.gpkg");
    CHECK_CONTAINS(d, "<td class=\"num\">1000.00</td>");
    /* the layer itself is drawn under the findings */
    CHECK_CONTAINS(d, "layer DLTB");
    CHECK_INT((long)count(d, "<svg"), 1);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_qc_report");
    RUN(test_hand);
    RUN(test_clean);
    RUN(test_eio_and_args);
    RUN(test_oom);
    RUN(test_engine);
    free(g_doc);
    TEST_MAIN_END();
}
