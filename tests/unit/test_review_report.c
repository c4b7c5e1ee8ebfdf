/*
 * test_review_report.c — the compliance review report (om_review_report_html):
 * a result built by hand with known numbers (decision badge, reasons, every
 * check id, areas as printed, the 界址点成果表 of a 100 m square with its
 * 100.00 m edges, maps with legend and scale bar, well-formed HTML by
 * xmllint), the points of a 部标 TXT (3-4-5 triangle: edges 30/40/50),
 * a failing FILE * (OM_EIO), OOM injection, and the real engine on a small
 * project (om_project_create + import + om_review_open/check).
 */
#include "onemap/onemap.h"
#include "onemap/review.h"
#include "test.h"

#include <errno.h>
#include <sys/stat.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)sz + 1);
    if (s && fread(s, 1, (size_t)sz, f) != (size_t)sz) {
        free(s);
        s = NULL;
    }
    if (s) {
        s[sz] = '\0';
        *n = (size_t)sz;
    }
    fclose(f);
    return s;
}

/* The last rendered document (freed by the next render and at exit, so a
 * failing CHECK does not leak it). */
static char *g_doc;

/* Render to a file in the scratch dir and read it back into g_doc. */
static enum om_status render(const struct om_review *r,
                             const struct om_review_result *res,
                             const struct om_review_report_info *info,
                             const char *name, char **out, struct om_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        return OM_EIO;
    }
    enum om_status st = om_review_report_html(r, res, info, f, err);
    fclose(f);
    size_t n = 0;
    free(g_doc);
    g_doc = st == OM_OK ? slurp(path, &n) : NULL;
    *out = g_doc;
    const char *keep = getenv("ONEMAP_REVIEW_REPORT_DEMO");
    if (st == OM_OK && keep && *out) {
        char dst[600];
        snprintf(dst, sizeof dst, "%s/%s", keep, name);
        FILE *g = fopen(dst, "wb");
        if (g) {
            fwrite(*out, 1, n, g);
            fclose(g);
        }
    }
    return st;
}

/*
 * 1 = well-formed HTML (xmllint --html: no parser error but the HTML4
 * parser's "Tag figure/svg/path invalid" for HTML5 and inline SVG
 * elements), 0 = not, -1 = no xmllint.
 */
static int xmllint_html(const char *name)
{
    if (system("command -v xmllint >/dev/null 2>&1") != 0) {
        return -1;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "xmllint --html --noout '%s/%s' 2>&1 | grep 'error' | "
             "grep -v 'HTML parser error : Tag [a-zA-Z]* invalid' "
             ">'%s/%s.lint'; ! [ -s '%s/%s.lint' ]",
             test_tmpdir(), name, test_tmpdir(), name, test_tmpdir(), name);
    return system(cmd) == 0;
}

/* Occurrences of `needle` (one pass: strstr in a loop is quadratic under
 * ASan, whose interceptor measures the whole rest of the text each call). */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0, m = strlen(needle);
    for (const char *p = hay; *p; p++) {
        n += *p == *needle && strncmp(p, needle, m) == 0;
    }
    return n;
}

/* A rectangle feature. */
static enum om_status add_rect(struct om_layer *l, int64_t fid, double x0,
                               double y0, double x1, double y1,
                               struct om_error *err)
{
    double xy[] = {x0, y0, x1, y0, x1, y1, x0, y1, x0, y0};
    enum om_status st = om_layer_begin_feature(l, fid, err);
    if (!st) {
        st = om_layer_begin_part(l, err);
    }
    if (!st) {
        st = om_layer_add_ring(l, xy, 5, err);
    }
    return st;
}

#define X0 42500000.0
#define Y0 4850000.0

/* The site: parcel 1 = 100 m square, parcel 2 = 50 x 40 m, 3 km away. */
static enum om_status make_site(struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("site", &l, err);
    int fk = -1, fn = -1;
    if (!st) {
        st = om_layer_add_field(l, "DKBH", OM_FIELD_TEXT, &fk, err);
    }
    if (!st) {
        st = om_layer_add_field(l, "DKMC", OM_FIELD_TEXT, &fn, err);
    }
    if (!st) {
        st = add_rect(l, 1, X0, Y0, X0 + 100, Y0 + 100, err);
    }
    if (!st) {
        st = om_layer_set_text(l, fk, "DK-001", err);
    }
    if (!st) {
        st = om_layer_set_text(l, fn, "一号地块 <&>", err);
    }
    if (!st) {
        st = om_layer_end_feature(l, err);
    }
    if (!st) {
        st = add_rect(l, 2, X0 + 3000, Y0 + 2000, X0 + 3050, Y0 + 2040, err);
    }
    if (!st) {
        st = om_layer_set_text(l, fk, "DK-002", err);
    }
    if (!st) {
        st = om_layer_end_feature(l, err);
    }
    if (!st) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (!st) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    if (st) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

/* The pieces: C001 fails on parcel 1 (30 x 100 m), C003 conditional. */
static enum om_status make_pieces(struct om_layer **out, struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("pieces", &l, err);
    static const char *names[] = {
        "parcel", "parcel_code", "check_id", "kind",    "decision",
        "layer",  "fid",         "class",    "area_m2", "area_ell_m2"};
    static const enum om_field_type types[] = {
        OM_FIELD_INT,  OM_FIELD_TEXT, OM_FIELD_TEXT, OM_FIELD_TEXT,
        OM_FIELD_TEXT, OM_FIELD_TEXT, OM_FIELD_INT,  OM_FIELD_TEXT,
        OM_FIELD_REAL, OM_FIELD_REAL};
    for (int i = 0; i < 10 && !st; i++) {
        st = om_layer_add_field(l, names[i], types[i], NULL, err);
    }
    if (!st) {
        st = add_rect(l, 1, X0, Y0, X0 + 30, Y0 + 100, err);
    }
    if (!st) {
        st = om_layer_set_text(l, 2, "C001", err);
    }
    if (!st) {
        st = om_layer_set_text(l, 4, "fail", err);
    }
    if (!st) {
        st = om_layer_end_feature(l, err);
    }
    if (!st) {
        st = add_rect(l, 2, X0 + 30, Y0, X0 + 100, Y0 + 20, err);
    }
    if (!st) {
        st = om_layer_set_text(l, 2, "C003", err);
    }
    if (!st) {
        st = om_layer_set_text(l, 4, "conditional", err);
    }
    if (!st) {
        st = om_layer_end_feature(l, err);
    }
    if (!st) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    if (st) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

/* A result built by hand (static storage; only the layers are owned). */
struct hand {
    struct om_review_result res;
    struct om_review_parcel parcels[2];
    struct om_review_finding totals[4], f1[4], f2[4];
    struct om_review_class classes[2];
    struct om_review_unit units[1];
};

static void set_finding(struct om_review_finding *f, const char *id,
                        enum om_check_kind kind, const char *layer,
                        enum om_decision d, double a, double ae, double share)
{
    memset(f, 0, sizeof *f);
    f->check_id = (char *)id;
    f->kind = kind;
    f->layer = (char *)layer;
    f->layer_version = 1;
    f->decision = d;
    f->planar_m2 = a;
    f->ellipsoidal_m2 = ae;
    f->share = share;
}

static enum om_status make_hand(struct hand *h, struct om_error *err)
{
    memset(h, 0, sizeof *h);
    struct om_review_result *res = &h->res;
    res->profile = "default";
    res->rules_sha256 = "abc123";
    res->decision = OM_DECISION_FAIL;
    res->planar_m2 = 12000;
    res->ellipsoidal_m2 = 12003.456;
    res->source = "/data/项目/site.txt";
    res->source_sha256 = "feedbeef";
    res->run_id = 42;
    /* totals */
    set_finding(&h->totals[0], "C001", OM_CHECK_FORBIDDEN, "YJJBNTBHTB",
                OM_DECISION_FAIL, 3000, 3000.9, 0.25);
    h->totals[0].reason_zh = "C001 不得占用永久基本农田：占用 3000.00 平方米";
    h->totals[0].reason_en = "C001 Must not occupy permanent basic farmland";
    set_finding(&h->totals[1], "C003", OM_CHECK_CONDITIONAL, "DLTB",
                OM_DECISION_CONDITIONAL, 1400, 1400.4, 1400.0 / 12000);
    set_finding(&h->totals[2], "C005", OM_CHECK_REPORT, "DLTB",
                OM_DECISION_PASS, 12000, 12003.456, 1.0);
    h->classes[0] =
        (struct om_review_class){"0103", "旱地", "dry land", 4000, 4001, 2};
    h->classes[1] = (struct om_review_class){
        "0702", "农村宅基地", "rural homestead", 8000, 8002.456, 3};
    h->totals[2].classes = h->classes;
    h->totals[2].nclasses = 2;
    set_finding(&h->totals[3], "C006", OM_CHECK_PURPOSE, "GHYT",
                OM_DECISION_CONDITIONAL, 0, 0, 0);
    h->totals[3].missing = true;
    h->totals[3].layer_version = 0;
    res->totals = h->totals;
    res->ntotals = 4;
    /* parcel 1: everything; parcel 2: passes */
    memcpy(h->f1, h->totals, sizeof h->f1);
    h->f1[2].planar_m2 = 10000;
    memcpy(h->f2, h->totals, sizeof h->f2);
    for (int i = 0; i < 3; i++) {
        h->f2[i].decision = OM_DECISION_PASS;
        h->f2[i].planar_m2 = h->f2[i].ellipsoidal_m2 = h->f2[i].share = 0;
        h->f2[i].reason_zh = h->f2[i].reason_en = NULL;
    }
    h->units[0] = (struct om_review_unit){"220102", "南关区", 10000, 10002};
    struct om_review_parcel *p = h->parcels;
    p[0] = (struct om_review_parcel){0};
    p[0].index = 0;
    p[0].fid = 1;
    p[0].code = "DK-001";
    p[0].name = "一号地块 <&>";
    p[0].use = "1001";
    p[0].planar_m2 = 10000;
    p[0].ellipsoidal_m2 = 10002;
    p[0].nvertices = 5;
    p[0].decision = OM_DECISION_FAIL;
    p[0].findings = h->f1;
    p[0].nfindings = 4;
    p[0].units = h->units;
    p[0].nunits = 1;
    p[0].has_units = true;
    p[1] = p[0];
    p[1].index = 1;
    p[1].fid = 2;
    p[1].code = "DK-002";
    p[1].name = "";
    p[1].planar_m2 = 2000;
    p[1].ellipsoidal_m2 = 2001.456;
    p[1].decision = OM_DECISION_CONDITIONAL;
    p[1].findings = h->f2;
    p[1].nunits = 0;
    p[1].outside_planar_m2 = 2000;
    res->parcels = p;
    res->nparcels = 2;
    enum om_status st = make_site(&res->site, err);
    if (!st) {
        st = make_pieces(&res->pieces, err);
    }
    return st;
}

static void free_hand(struct hand *h)
{
    om_layer_free(h->res.site);
    om_layer_free(h->res.pieces);
    h->res.site = h->res.pieces = NULL;
}

/* ---- tests ---- */

TEST(test_hand_built)
{
    struct hand h;
    struct om_error err;
    om_error_clear(&err);
    enum om_status st = make_hand(&h, &err);
    if (st) {
        free_hand(&h);
    }
    CHECK_OK(st, &err);
    struct om_review_report_info info = {0};
    info.title = "某某产业园项目";
    info.applicant = "某某公司";
    info.generated_at = "2024-05-01T08:00:00Z";
    char *s = NULL;
    st = render(NULL, &h.res, &info, "hand.html", &s, &err);
    free_hand(&h);
    CHECK_OK(st, &err);
    CHECK(s != NULL);
    /* title, info */
    CHECK_CONTAINS(s, "建设项目合规性审查报告");
    CHECK_CONTAINS(s, "某某产业园项目");
    CHECK_CONTAINS(s, "site.txt<br>\nSHA-256 feedbeef");
    CHECK_CONTAINS(s, "2024-05-01T08:00:00Z");
    CHECK_CONTAINS(s, "<td>42</td>");
    CHECK_CONTAINS(s, "12000.00 m² = 1.2000 公顷 (ha) = 18.00 亩 (mu)");
    CHECK_CONTAINS(s, "12003.46 m²");
    CHECK_CONTAINS(s, "220102 南关区");
    /* the badge and the reasons, escaped names */
    CHECK_CONTAINS(s, "background:#c62828");
    CHECK_CONTAINS(s, ">不通过 <span");
    CHECK_CONTAINS(s, "<li>C001 不得占用永久基本农田：占用 3000.00 平方米");
    CHECK_CONTAINS(s, "C003 有条件占用：1400.00 平方米"); /* made up */
    CHECK_CONTAINS(s, "C006 图层 GHYT 不在项目中");
    CHECK_CONTAINS(s, "地块 2 DK-002 有 2000.00 平方米位于项目行政区范围之外");
    CHECK_CONTAINS(s, "一号地块 &lt;&amp;&gt;");
    CHECK(!strstr(s, "一号地块 <&>"));
    /* every check id in the findings tables: site + 2 parcels + reasons */
    const char *ids[] = {"C001", "C003", "C005", "C006"};
    for (int i = 0; i < 4; i++) {
        char cell[32];
        snprintf(cell, sizeof cell, "<td>%s</td>", ids[i]);
        CHECK_INT(count(s, cell), 3);
    }
    /* areas as printed: m², ha, mu, share */
    CHECK_CONTAINS(s,
                   "<td class=\"num\">3000.00</td><td class=\"num\">"
                   "3000.90</td><td class=\"num\">0.3000</td>"
                   "<td class=\"num\">4.50</td><td class=\"num\">25.00</td>");
    CHECK_CONTAINS(s, "<td>GHYT (缺失 / missing)</td><td>有条件通过<br>\n"
                      "conditional<br>\n（缺图层，未检查 / layer missing, "
                      "not checked）</td><td class=\"num\">-</td>");
    CHECK_CONTAINS(s, "<td>YJJBNTBHTB v1</td>");
    /* per-class table with names and total */
    CHECK_CONTAINS(s, "<td>0702</td><td>农村宅基地<br>\nrural homestead</td>"
                      "<td class=\"num\">3</td><td class=\"num\">8000.00</td>");
    CHECK_CONTAINS(s, "<tr class=\"total\"><td>合计 / total</td><td></td>"
                      "<td class=\"num\">5</td><td class=\"num\">12000.00</td>"
                      "<td class=\"num\">12003.46</td>");
    /* maps: overview + one per parcel (they are 3 km apart) */
    CHECK_INT(count(s, "<svg"), 3);
    CHECK_CONTAINS(s, "建设项目用地范围");
    CHECK_CONTAINS(s, "不通过的占用部分");
    CHECK_CONTAINS(s, "有条件通过的占用部分");
    CHECK_CONTAINS(s, ">DK-001</text>");
    CHECK_CONTAINS(s, " m</text>"); /* scale bar label */
    /* 界址点成果表: J1..J4, closing J1, edges 100.00 */
    CHECK_CONTAINS(
        s, "<tr><td>J1</td><td>1</td><td class=\"num\">4850000.000</td>"
           "<td class=\"num\">42500000.000</td><td class=\"num\">100.00</td>"
           "</tr>\n<tr><td>J2</td><td>1</td><td class=\"num\">4850000.000</td>"
           "<td class=\"num\">42500100.000</td><td class=\"num\">100.00</td>");
    CHECK_CONTAINS(
        s, "<tr><td>J4</td><td>1</td><td class=\"num\">4850100.000</td>"
           "<td class=\"num\">42500000.000</td><td class=\"num\">100.00</td>"
           "</tr>\n<tr><td>J1</td><td>1</td><td class=\"num\">4850000.000</td>"
           "<td class=\"num\">42500000.000</td><td class=\"num\"></td></tr>");
    /* parcel 2: 50 and 40 m edges */
    CHECK_CONTAINS(s, "<td class=\"num\">42503000.000</td>"
                      "<td class=\"num\">50.00</td>");
    CHECK_CONTAINS(s, "<td class=\"num\">42503050.000</td>"
                      "<td class=\"num\">40.00</td>");
    CHECK(!strstr(s, "<script"));
    CHECK(!strstr(s, "http://") || strstr(s, "http://www.w3.org/2000/svg"));
    CHECK(!strstr(s, "https://"));
    CHECK(xmllint_html("hand.html") != 0);
}

TEST(test_pass_single)
{
    /* one parcel, everything passes: green badge, one map, no per-parcel
     * tables, no admin layer */
    struct hand h;
    struct om_error err;
    enum om_status st = make_hand(&h, &err);
    if (st) {
        free_hand(&h);
    }
    CHECK_OK(st, &err);
    h.res.decision = OM_DECISION_PASS;
    h.res.nparcels = 1;
    h.res.ntotals = 3;
    h.res.run_id = 0;
    h.parcels[0].has_units = false;
    h.parcels[0].nunits = 0;
    for (int i = 0; i < 3; i++) {
        h.totals[i].decision = OM_DECISION_PASS;
    }
    char *s = NULL;
    st = render(NULL, &h.res, NULL, "pass.html", &s, &err);
    free_hand(&h);
    CHECK_OK(st, &err);
    CHECK_CONTAINS(s, "background:#2e7d32");
    CHECK_CONTAINS(s, ">通过 <span");
    CHECK_CONTAINS(s, "全部审查项均通过");
    CHECK_CONTAINS(s, "未保存 / not stored");
    CHECK_CONTAINS(s, "未加载行政区图层 / no admin layer");
    CHECK_CONTAINS(s, "<td>site.txt</td>"); /* title = source name */
    CHECK(!strstr(s, "分地块审查明细"));
    CHECK_INT(count(s, "<svg"), 1);
    CHECK(xmllint_html("pass.html") != 0);
}

/* A 部标 TXT with a 3-4-5 triangle (closing point repeated) and a square
 * without its closing point. */
static const char TXT[] =
    "[属性描述]\r\n坐标系=2000国家大地坐标系\r\n几度分带=3\r\n带号=42\r\n"
    "[地块坐标]\r\n"
    "4,0.0600,T-1,三角地,面,,,,@\r\n"
    "P1,1,4850000.000,42500000.000\r\n"
    "P2,1,4850000.000,42500040.000\r\n"
    "P3,1,4850030.000,42500000.000\r\n"
    "P1,1,4850000.000,42500000.000\r\n"
    "4,0.0100,T-2,方地,面,,,,@\r\n"
    "Q1,1,4851000.000,42501000.000\r\n"
    "Q2,1,4851000.000,42501010.000\r\n"
    "Q3,1,4851010.000,42501010.000\r\n"
    "Q4,1,4851010.000,42501000.000\r\n";

TEST(test_txt_points)
{
    struct om_error err;
    struct om_bbtxt *t = NULL;
    CHECK_OK(om_bbtxt_parse(TXT, sizeof TXT - 1, "tri.txt", NULL, &t, &err),
             &err);
    struct om_review_result res;
    memset(&res, 0, sizeof res);
    struct om_review_parcel p[2];
    memset(p, 0, sizeof p);
    for (int i = 0; i < 2; i++) {
        p[i].index = (size_t)i;
        p[i].fid = i + 1;
        p[i].code = (char *)t->parcels[i].code;
        p[i].planar_m2 = t->parcels[i].planar_m2;
    }
    res.parcels = p;
    res.nparcels = 2;
    res.site = t->layer;
    res.planar_m2 = p[0].planar_m2 + p[1].planar_m2;
    /* the file on disk: the report hashes it (the result has no hash);
     * sha256sum is the oracle */
    char path[512], cmd[700], want[80] = "";
    snprintf(path, sizeof path, "%s/tri.txt", test_tmpdir());
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(TXT, 1, sizeof TXT - 1, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *pp = popen(cmd, "r");
    if (pp) {
        if (fscanf(pp, "%64s", want) != 1) {
            want[0] = '\0';
        }
        pclose(pp);
    }
    struct om_review_report_info info = {0};
    info.txt = t;
    info.source = path;
    info.generated_at = "2024-01-01T00:00:00Z";
    char *s = NULL;
    enum om_status st = render(NULL, &res, &info, "txt.html", &s, &err);
    om_bbtxt_free(t);
    CHECK_OK(st, &err);
    /* the file's names, edges 40 / 50 / 30, closing point without edge */
    CHECK_CONTAINS(s, "<tr><td>P1</td><td>1</td><td class=\"num\">4850000.000"
                      "</td><td class=\"num\">42500000.000</td>"
                      "<td class=\"num\">40.00</td></tr>");
    CHECK_CONTAINS(s, "<tr><td>P2</td><td>1</td><td class=\"num\">4850000.000"
                      "</td><td class=\"num\">42500040.000</td>"
                      "<td class=\"num\">50.00</td></tr>");
    CHECK_CONTAINS(s, "<tr><td>P3</td><td>1</td><td class=\"num\">4850030.000"
                      "</td><td class=\"num\">42500000.000</td>"
                      "<td class=\"num\">30.00</td></tr>");
    CHECK_CONTAINS(s, "<tr><td>P1</td><td>1</td><td class=\"num\">4850000.000"
                      "</td><td class=\"num\">42500000.000</td>"
                      "<td class=\"num\"></td></tr>");
    /* unclosed square: Q4's edge closes the ring back to Q1 */
    CHECK_CONTAINS(s, "<tr><td>Q4</td><td>1</td><td class=\"num\">4851010.000"
                      "</td><td class=\"num\">42501000.000</td>"
                      "<td class=\"num\">10.00</td></tr>");
    CHECK_CONTAINS(s, "送审文件原点号与坐标");
    /* the reader's notes (the square has no closing point) */
    CHECK_CONTAINS(s, "送审文件第 ");
    CHECK(strlen(want) == 64);
    char line[120];
    snprintf(line, sizeof line, "tri.txt<br>\nSHA-256 %s</td>", want);
    CHECK_CONTAINS(s, line);
    /* 600 m² triangle + 100 m² square */
    CHECK_CONTAINS(s, "700.00 m² = 0.0700 公顷 (ha) = 1.05 亩 (mu)");
    CHECK(xmllint_html("txt.html") != 0);
}

TEST(test_bad_file)
{
    struct hand h;
    struct om_error err;
    enum om_status st = make_hand(&h, &err);
    if (st) {
        free_hand(&h);
    }
    CHECK_OK(st, &err);
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        free_hand(&h);
        CHECK(f != NULL);
    }
    st = om_review_report_html(NULL, &h.res, NULL, f, &err);
    fclose(f);
    free_hand(&h);
    CHECK_INT(st, OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot write");
    CHECK_INT(om_review_report_html(NULL, NULL, NULL, stdout, &err), OM_EINVAL);
}

TEST(test_oom)
{
    /* every allocation failing in turn: OM_ENOMEM, nothing leaks */
    struct hand h;
    struct om_error err;
    enum om_status st = make_hand(&h, &err);
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
        st = om_review_report_html(NULL, &h.res, NULL, f, &err);
        test_fail_allocs_after(-1);
        fclose(f);
        if (st == OM_OK) {
            break;
        }
        if (st != OM_ENOMEM) {
            break;
        }
    }
    free_hand(&h);
    CHECK_INT(st, OM_OK);
    CHECK(n > 10);
}

/* ---- the real engine on a small project ---- */

static const char RULES[] =
    "version: 1\n"
    "admin: {layer: XZQ, code: XZQDM, name: XZQMC}\n"
    "profiles:\n"
    "  test:\n"
    "    zh: 测试方案\n"
    "    en: Test profile\n"
    "    tolerance: 1\n"
    "    checks:\n"
    "      - id: C001\n"
    "        kind: forbidden\n"
    "        layer: YJJBNTBHTB\n"
    "        zh: 不得占用永久基本农田\n"
    "        en: Must not occupy permanent basic farmland\n"
    "      - id: C003\n"
    "        kind: conditional\n"
    "        layer: {layer: DLTB, where: {DLBM: {group: cultivated}}}\n"
    "        by: DLBM\n"
    "        zh: 占用耕地\n"
    "        en: Occupies cultivated land\n"
    "      - id: C004\n"
    "        kind: must_be_within\n"
    "        layer: CZKFBJ\n"
    "        outcome: conditional\n"
    "        zh: 须位于城镇开发边界内\n"
    "        en: Must lie within the urban development boundary\n"
    "      - id: C005\n"
    "        kind: report\n"
    "        layer: DLTB\n"
    "        by: DLBM\n"
    "        zh: 占用现状地类\n"
    "        en: Current land use occupied\n"
    "      - id: C006\n"
    "        kind: purpose\n"
    "        layer: GHYT\n"
    "        by: YDYHFLDM\n"
    "        zh: 符合规划用途\n"
    "        en: Matches the planned use\n";

/* Import one layer of rectangles {x0,y0,x1,y1} (offsets from X0/Y0) with
 * an optional text field. */
static enum om_status import_rects(struct om_project *p, const char *code,
                                   const double (*r)[4], size_t n,
                                   const char *field, const char *const *vals,
                                   const char *field2, const char *const *vals2,
                                   struct om_error *err)
{
    struct om_layer *l = NULL;
    int fi = -1, fi2 = -1;
    enum om_status st = om_layer_new(code, &l, err);
    if (!st && field) {
        st = om_layer_add_field(l, field, OM_FIELD_TEXT, &fi, err);
    }
    if (!st && field2) {
        st = om_layer_add_field(l, field2, OM_FIELD_TEXT, &fi2, err);
    }
    for (size_t i = 0; i < n && !st; i++) {
        st = add_rect(l, (int64_t)i + 1, X0 + r[i][0], Y0 + r[i][1],
                      X0 + r[i][2], Y0 + r[i][3], err);
        if (!st && field) {
            st = om_layer_set_text(l, fi, vals[i], err);
        }
        if (!st && field2) {
            st = om_layer_set_text(l, fi2, vals2[i], err);
        }
        if (!st) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (!st) {
        st = om_layer_set_crs(l, "EPSG:4530", err);
    }
    if (!st) {
        st = om_layer_finish(l, 0, err);
    }
    if (!st) {
        struct om_import_meta meta = {0};
        meta.code = code;
        meta.source = "test";
        st = om_project_import(p, l, &meta, NULL, NULL, err);
    }
    om_layer_free(l);
    return st;
}

static enum om_status make_project(struct om_project **out,
                                   struct om_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/review.gpkg", test_tmpdir());
    remove(path);
    struct om_project *p = NULL;
    enum om_status st = om_project_create(path, "EPSG:4530", &p, err);
    static const double farm[][4] = {{-50, -50, 30, 150}};
    static const double dltb[][4] = {{-200, -200, 60, 300},
                                     {60, -200, 300, 300}};
    static const char *const dlbm[] = {"0103", "0702"};
    static const double czk[][4] = {{20, -100, 400, 400}};
    static const double xzq[][4] = {{-1000, -1000, 1000, 1000}};
    static const char *const xzqdm[] = {"220102"};
    static const char *const xzqmc[] = {"南关区"};
    if (!st) {
        st =
            import_rects(p, "YJJBNTBHTB", farm, 1, NULL, NULL, NULL, NULL, err);
    }
    if (!st) {
        st = import_rects(p, "DLTB", dltb, 2, "DLBM", dlbm, NULL, NULL, err);
    }
    if (!st) {
        st = import_rects(p, "CZKFBJ", czk, 1, NULL, NULL, NULL, NULL, err);
    }
    if (!st) {
        st =
            import_rects(p, "XZQ", xzq, 1, "XZQDM", xzqdm, "XZQMC", xzqmc, err);
    }
    if (st) {
        om_project_close(p);
        p = NULL;
    }
    *out = p;
    return st;
}

TEST(test_engine)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    struct om_rules *rules = NULL;
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    struct om_layer *site = NULL;
    char sha[65] = "";
    char *s = NULL;
    enum om_status st = make_project(&p, &err);
    if (!st) {
        st = om_rules_parse(RULES, sizeof RULES - 1, "test.yaml", &rules, &err);
    }
    if (!st) {
        memcpy(sha, rules->sha256, sizeof sha);
        st = om_review_open(p, rules, "test", &r, NULL, &err);
    }
    if (!st) {
        st = make_site(&site, &err);
    }
    if (!st) {
        /* parcel 2 lies outside the project: keep only the square */
        om_layer_free(site);
        site = NULL;
        st = om_layer_new("site", &site, &err);
        if (!st) {
            st = add_rect(site, 1, X0, Y0, X0 + 100, Y0 + 100, &err);
        }
        if (!st) {
            st = om_layer_end_feature(site, &err);
        }
        if (!st) {
            st = om_layer_set_crs(site, "EPSG:4530", &err);
        }
        if (!st) {
            st = om_layer_finish(site, OM_LAYER_KEEP_ORDER, &err);
        }
    }
    if (!st) {
        struct om_review_site_options o = {0};
        o.source = "/data/site.txt";
        o.source_sha256 = "0123abcd";
        st = om_review_check(r, site, &o, &res, &err);
    }
    if (!st) {
        struct om_review_report_info info = {0};
        info.generated_at = "2024-05-01T08:00:00Z";
        st = render(r, res, &info, "engine.html", &s, &err);
    }
    /* every allocation of the report failing in turn, with the layers,
     * masks and land-use classes of a real review: OM_ENOMEM, no leak */
    int noom = 0;
    enum om_status oom_st = OM_ENOMEM;
    char opath[512];
    snprintf(opath, sizeof opath, "%s/engine_oom.html", test_tmpdir());
    for (; !st && noom < 100000 && oom_st == OM_ENOMEM; noom++) {
        FILE *f = fopen(opath, "wb");
        if (!f) {
            break;
        }
        test_fail_allocs_after(noom);
        oom_st = om_review_report_html(r, res, NULL, f, &err);
        test_fail_allocs_after(-1);
        fclose(f);
    }
    double ell = res ? res->ellipsoidal_m2 : 0;
    om_review_result_free(res);
    om_review_free(r);
    om_rules_free(rules);
    om_project_close(p);
    om_layer_free(site);
    CHECK_OK(st, &err);
    CHECK_INT(oom_st, OM_OK);
    CHECK(noom > 20);
    /* decision: C001 fails */
    CHECK_CONTAINS(s, ">不通过 <span");
    CHECK_CONTAINS(s, "test — 测试方案 / Test profile");
    CHECK_CONTAINS(s, sha);
    CHECK_CONTAINS(s, "site.txt<br>\nSHA-256 0123abcd");
    CHECK_CONTAINS(s, "<td>EPSG:4530</td>");
    CHECK_CONTAINS(s, "220102 南关区");
    /* areas by hand (rectangles): the farmland strip 30 x 100 m, the
     * cultivated 0103 part 60 x 100, the part outside CZKFBJ 20 x 100 */
    CHECK_CONTAINS(s, "<tr><td>C001</td><td>禁止占用<br>\nforbidden</td>"
                      "<td>YJJBNTBHTB v1</td><td>不通过<br>\nfail</td>"
                      "<td class=\"num\">3000.00</td>");
    CHECK_CONTAINS(s, "<tr><td>C003</td><td>有条件占用<br>\nconditional</td>"
                      "<td>DLTB v1</td><td>有条件通过<br>\nconditional</td>"
                      "<td class=\"num\">6000.00</td>");
    CHECK_CONTAINS(s, "<tr><td>C004</td><td>须位于范围内<br>\nmust_be_within"
                      "</td><td>CZKFBJ v1</td><td>有条件通过<br>\n"
                      "conditional</td><td class=\"num\">2000.00</td>");
    CHECK_CONTAINS(s, "<tr><td>C005</td><td>压占统计<br>\nreport</td>"
                      "<td>DLTB v1</td><td>通过<br>\npass</td>"
                      "<td class=\"num\">10000.00</td>");
    CHECK_CONTAINS(s, "<td>C006</td>");
    CHECK_CONTAINS(s, "GHYT (缺失 / missing)");
    CHECK_CONTAINS(s, "<td>0103</td><td>旱地");
    CHECK_CONTAINS(s, "<td>0702</td><td>农村宅基地");
    CHECK_CONTAINS(s, "10000.00 m² = 1.0000 公顷 (ha) = 15.00 亩 (mu)");
    char buf[64];
    snprintf(buf, sizeof buf, "%.2f m² = ", ell);
    CHECK_CONTAINS(s, buf);
    CHECK(fabs(ell - 10000) < 50);
    /* the map: control lines and land use with their legend */
    CHECK_INT(count(s, "<svg"), 1);
    CHECK_CONTAINS(s, "永久基本农田 / permanent basic farmland");
    CHECK_CONTAINS(s, "城镇开发边界 / urban development boundary");
    CHECK_CONTAINS(s, "01 耕地 / cultivated land");
    CHECK_CONTAINS(s, "07 住宅用地 / residential");
    CHECK_CONTAINS(s, "行政区界 / admin units");
    CHECK_CONTAINS(s, "不通过的占用部分");
    CHECK_CONTAINS(s, "stroke=\"#8e44ad\"");
    /* boundary points and method */
    CHECK_CONTAINS(s, "<td class=\"num\">42500100.000</td>"
                      "<td class=\"num\">100.00</td>");
    CHECK_CONTAINS(s, "<td>YJJBNTBHTB</td>");
    CHECK(xmllint_html("engine.html") != 0);
}

TEST(test_points_truncated)
{
    /* a 25000-vertex parcel: the table stops at 20000 rows with a note,
     * the last row's edge is still the edge to the next vertex */
    enum { N = 25000 };
    struct om_error err;
    struct om_layer *l = NULL;
    double *xy = malloc(2 * N * sizeof *xy);
    CHECK(xy != NULL);
    for (int i = 0; i < N; i++) {
        double a = 2 * M_PI * i / N;
        xy[2 * i] = X0 + 1000 * cos(a);
        xy[2 * i + 1] = Y0 + 1000 * sin(a);
    }
    enum om_status st = om_layer_new("site", &l, &err);
    if (!st) {
        st = om_layer_begin_feature(l, 1, &err);
    }
    if (!st) {
        st = om_layer_begin_part(l, &err);
    }
    if (!st) {
        st = om_layer_add_ring(l, xy, N, &err);
    }
    free(xy);
    if (!st) {
        st = om_layer_end_feature(l, &err);
    }
    if (!st) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err);
    }
    struct om_review_parcel p;
    memset(&p, 0, sizeof p);
    p.fid = 1;
    p.planar_m2 = M_PI * 1e6;
    struct om_review_result res;
    memset(&res, 0, sizeof res);
    res.parcels = &p;
    res.nparcels = 1;
    res.site = l;
    char *s = NULL;
    if (!st) {
        st = render(NULL, &res, NULL, "big.html", &s, &err);
    }
    om_layer_free(l);
    CHECK_OK(st, &err);
    CHECK_INT(count(s, "<tr><td>J"), 20000);
    CHECK_CONTAINS(s, "界址点 25001 个");
    CHECK_CONTAINS(s, "另有 5001 个点未列出");
    /* 2 R sin(pi / N) = 0.2513 m */
    char want[64];
    snprintf(want, sizeof want, "<td class=\"num\">%.2f</td></tr>\n</tbody>",
             2000 * sin(M_PI / N));
    CHECK_CONTAINS(s, want);
    CHECK_CONTAINS(s, "<tr><td>J20000</td>");
}

int main(void)
{
    TEST_MAIN_BEGIN("test_review_report.c");
    RUN(test_hand_built);
    RUN(test_pass_single);
    RUN(test_txt_points);
    RUN(test_bad_file);
    RUN(test_oom);
    RUN(test_points_truncated);
    RUN(test_engine);
    free(g_doc);
    TEST_MAIN_END();
}
