/*
 * qc_report.c — the printable quality control report (成果质检报告) of
 * onemap/qc.h: overview, layer scores, counts by layer and check code, an
 * overview map per layer with located findings (the layer, its error
 * polygons and locations), the worst cases (the largest overlaps, gaps,
 * parts outside the extent and control-line overlaps; the first findings
 * of every other check) and the method (thresholds, coverage and extent
 * layers, schemas, the catalogue of codes). Built on the om_html builder
 * and om_map (onemap/report.h); this file owns only the layout.
 */
#include "core/core.h"
#include "onemap/onemap.h"
#include "onemap/qc.h"
#include "onemap/report.h"
#include "onemap/rules.h"
#include "onemap/store.h"
#include "report/report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAP_W 1000
#define MAP_H 760
#define MARK_PX 6.0     /* error locations: squares of this many pixels */
#define WORST_N 20      /* rows of each worst-cases table */
#define SCORE_GOOD 95.0 /* green from here */
#define SCORE_FAIR 80.0 /* amber from here, red below */

/* Everything one report needs while it is built. */
struct rep {
    struct om_project *p; /* may be NULL: no maps */
    const struct om_qc_result *res;
    const struct om_rules *rules; /* never NULL while building */
    struct om_html *h;
    struct om__arena arena; /* cell strings, freed at the end */
    bool oom;
    struct om_error *err;
};

/* ---- text helpers (strings live in the arena) ---- */

static const char *aprintf(struct rep *c, const char *fmt, ...)
    OM__PRINTF(2, 3);
static const char *aprintf(struct rep *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = om__arena_vprintf(&c->arena, &c->oom, fmt, ap);
    va_end(ap);
    return s;
}

/* `v` with `dec` decimals, '.' whatever the locale; `none` when not
 * finite. */
static const char *num(struct rep *c, double v, int dec, const char *none)
{
    if (!isfinite(v)) {
        return none;
    }
    char b[64];
    snprintf(b, sizeof b, "%.*f", dec, v);
    for (char *q = b; *q; q++) {
        if (*q != '-' && (*q < '0' || *q > '9')) {
            *q = '.'; /* the locale's decimal point */
        }
    }
    if (b[0] == '-' && strspn(b + 1, "0.") == strlen(b + 1)) {
        memmove(b, b + 1, strlen(b)); /* "-0.00" -> "0.00" */
    }
    return aprintf(c, "%s", b);
}

static const char *str_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static const char *sev_zh(enum om_severity s)
{
    switch (s) {
    case OM_SEV_ERROR:
        return "错误";
    case OM_SEV_WARNING:
        return "警告";
    case OM_SEV_INFO:
        return "提示";
    }
    return "?";
}

static const char *sev_cell(struct rep *c, enum om_severity s)
{
    return aprintf(c, "%s\n%s", sev_zh(s), om_severity_name(s));
}

static const char *category_zh(const char *cat)
{
    static const char *const names[][2] = {{"geometry", "几何"},
                                           {"topology", "拓扑"},
                                           {"layers", "图层间"},
                                           {"attributes", "属性"},
                                           {"crs", "坐标系"}};
    for (size_t i = 0; cat && i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(cat, names[i][0]) == 0) {
            return names[i][1];
        }
    }
    return "";
}

static enum om_status oom_check(struct rep *c, const struct om__cells *t)
{
    if (c->oom || (t && t->oom)) {
        return om__enomem(c->err, "qc report");
    }
    return OM_OK;
}

/* Emit a table from `t` (nrows = t->n / ncols) and free the cells. */
static enum om_status emit_table(struct rep *c, struct om__cells *t,
                                 const char *const *header, size_t ncols,
                                 unsigned numeric)
{
    enum om_status st = oom_check(c, t);
    if (!st) {
        st = om_html_table(c->h, header, ncols, t->v, t->n / ncols, numeric,
                           NULL, c->err);
    }
    om__cells_free(t);
    return st;
}

static enum om_status esc(struct om__buf *b, const char *s)
{
    return om__xml_escape(b, s ? s : "", true);
}

/* ---- 1. overview ---- */

static enum om_status section_overview(struct rep *c)
{
    const struct om_qc_result *res = c->res;
    const char *keys[12], *vals[12];
    size_t n = 0;
    keys[n] = "项目数据库 / project";
    vals[n++] = c->p ? str_or(om_project_path(c->p), "-") : "-";
    keys[n] = "规则文件 / rules";
    vals[n++] = aprintf(c, "%s\nSHA-256 %s", str_or(c->rules->source, "-"),
                        str_or(c->rules->sha256, "-"));
    char now[64];
    const char *when = "-";
    time_t t = time(NULL);
    struct tm tm;
    if (gmtime_r(&t, &tm) &&
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        when = now;
    }
    keys[n] = "报告时间 / generated at";
    vals[n++] = when;
    keys[n] = "质检记录 / run id";
    vals[n++] = res->run_id ? aprintf(c, "%lld", (long long)res->run_id)
                            : "未保存 / not stored";
    keys[n] = "检查图层 / layers checked";
    vals[n++] = aprintf(c, "%zu", res->nlayers);
    size_t nw = 0, ni = 0;
    for (size_t i = 0; i < res->nlayers; i++) {
        nw += res->layers[i].nwarnings;
        ni += res->layers[i].ninfos;
    }
    keys[n] = "问题数 / findings";
    vals[n++] =
        aprintf(c,
                "错误 %zu，警告 %zu，提示 %zu / "
                "%zu errors, %zu warnings, %zu infos",
                res->nerror_findings, nw, ni, res->nerror_findings, nw, ni);
    keys[n] = "结论 / verdict";
    vals[n++] = res->nerror_findings
                    ? "存在错误，须整改 / errors found: to be corrected"
                    : "未发现错误 / no errors found";
    keys[n] = "耗时 / time";
    vals[n++] = aprintf(c, "%s s", num(c, res->elapsed_s, 2, "-"));
    enum om_status st = oom_check(c, NULL);
    if (!st) {
        st = om_html_kv(c->h, keys, vals, n, c->err);
    }
    if (!st && res->truncated) {
        st = om_html_note(c->h,
                          "部分检查项的问题超过列出上限，仅计数未全部列出 / "
                          "some checks found more than the listing limit: "
                          "they are counted in full but not all listed",
                          c->err);
    }
    return st;
}

/* ---- 2. layers with their scores ---- */

static const char *score_colour(double s)
{
    if (s >= SCORE_GOOD) {
        return "#2e7d32";
    }
    if (s >= SCORE_FAIR) {
        return "#e08e00";
    }
    return "#c62828";
}

static enum om_status section_layers(struct rep *c)
{
    const struct om_qc_result *res = c->res;
    enum om_status st = om_html_h2(c->h, "图层评分", "Layer scores", c->err);
    if (st || res->nlayers == 0) {
        return st ? st
                  : om_html_p(c->h, "未检查任何图层 / no layer checked",
                              c->err);
    }
    /* Written as markup: the score cell is coloured. */
    static const char *const hdr[] = {
        "图层\nlayer",      "版本\nversion",
        "要素数\nfeatures", "问题要素\nbad features",
        "得分\nscore",      "错误\nerrors",
        "警告\nwarnings",   "提示\ninfos"};
    struct om__buf b;
    om__buf_init(&b, 0);
    st = om__buf_puts(&b, "<table class=\"data short\">\n<thead><tr>");
    for (size_t i = 0; i < 8 && !st; i++) {
        st = om__buf_puts(&b, i >= 1 ? "<th class=\"num\">" : "<th>");
        if (!st) {
            st = esc(&b, hdr[i]);
        }
        if (!st) {
            st = om__buf_puts(&b, "</th>");
        }
    }
    if (!st) {
        st = om__buf_puts(&b, "</tr></thead>\n<tbody>\n");
    }
    for (size_t i = 0; i < res->nlayers && !st; i++) {
        const struct om_qc_layer *ly = &res->layers[i];
        const char *score = num(c, ly->score, 2, "-");
        st = om__buf_puts(&b, "<tr><td>");
        if (!st) {
            st = esc(&b, ly->code);
        }
        if (!st) {
            st = om__buf_printf(
                &b,
                "</td><td class=\"num\">%d</td><td class=\"num\">%zu</td>"
                "<td class=\"num\">%zu</td><td class=\"num score\" "
                "style=\"font-weight:bold;color:#fff;background:%s;"
                "-webkit-print-color-adjust:exact;print-color-adjust:exact\">"
                "%s</td><td class=\"num\">%zu</td><td class=\"num\">%zu</td>"
                "<td class=\"num\">%zu</td></tr>\n",
                ly->version, ly->nfeatures, ly->nbad_features,
                score_colour(ly->score), score, ly->nerrors, ly->nwarnings,
                ly->ninfos);
        }
    }
    if (!st) {
        st = om__buf_puts(&b, "</tbody>\n</table>\n");
    }
    if (st) {
        om__buf_deinit(&b);
        return om__enomem(c->err, "qc report");
    }
    st = om__html_raw(c->h, b.data, c->err);
    om__buf_deinit(&b);
    if (!st) {
        st = om_html_note(
            c->h,
            "得分 = 100 ×（1 − 有错误的要素数 / 要素数），每个图层级错误"
            "（A001、A002、C001）再扣 10 分，最低 0 分；警告和提示不扣分。"
            "绿色 ≥ 95，橙色 ≥ 80，红色 < 80。\n"
            "Score = 100 × (1 − features with an error / features), minus 10 "
            "per layer-level error (A001, A002, C001), at least 0; warnings "
            "and infos do not lower it. Green ≥ 95, amber ≥ 80, red < 80.",
            c->err);
    }
    return st;
}

/* ---- 3. counts by layer and check ---- */

static enum om_status section_counts(struct rep *c)
{
    const struct om_qc_result *res = c->res;
    enum om_status st = om_html_h2(c->h, "问题统计（图层 × 检查项）",
                                   "Findings by layer and check", c->err);
    if (st) {
        return st;
    }
    if (res->ncounts == 0) {
        return om_html_p(c->h, "未发现问题 / no findings", c->err);
    }
    static const char *const hdr[] = {
        "图层\nlayer",       "编号\ncode",  "类别\ncategory", "级别\nseverity",
        "说明\ndescription", "数量\ncount", "列出\nlisted",   "面积 m²\narea"};
    struct om__cells t = {0};
    for (size_t i = 0; i < res->ncounts; i++) {
        const struct om_qc_count *k = &res->counts[i];
        const struct om_qc_check *ck = om_qc_check_find(k->code);
        om__cells_push(&t, str_or(k->layer, "?"));
        om__cells_push(&t, str_or(k->code, "?"));
        om__cells_push(&t, ck ? aprintf(c, "%s\n%s", category_zh(ck->category),
                                        ck->category)
                              : "");
        om__cells_push(&t, ck ? sev_cell(c, ck->severity) : "");
        om__cells_push(&t, ck ? aprintf(c, "%s\n%s", ck->zh, ck->en) : "");
        om__cells_push(&t, aprintf(c, "%zu", k->count));
        om__cells_push(&t, aprintf(c, "%zu", k->listed));
        om__cells_push(&t, num(c, k->area_m2, 2, ""));
    }
    return emit_table(c, &t, hdr, 8, 0xe0u);
}

/* ---- 4. maps ---- */

static bool of_layer(const struct om_qc_error *e, const char *layer)
{
    return e->layer && layer && strcmp(e->layer, layer) == 0;
}

static bool has_xy(const struct om_qc_error *e)
{
    return isfinite(e->x) && isfinite(e->y);
}

struct mark {
    int64_t key;
    size_t i;
};

static int mark_cmp(const void *a, const void *b)
{
    const struct mark *x = a, *y = b;
    if (x->key != y->key) {
        return x->key < y->key ? -1 : 1;
    }
    return (x->i > y->i) - (x->i < y->i);
}

/*
 * The locations of the findings of `layer` with severity `sev` as squares
 * of MARK_PX pixels, at most one per MARK_PX cell of the map (so a
 * hundred thousand findings stay a small drawing), in a scratch layer;
 * *out stays NULL when there is none.
 */
static enum om_status mark_layer(struct rep *c, const struct om_map *m,
                                 struct om_rect ext, const char *layer,
                                 enum om_severity sev, struct om_layer **out)
{
    const struct om_qc_result *res = c->res;
    *out = NULL;
    size_t n = 0;
    for (size_t i = 0; i < res->nerrors; i++) {
        const struct om_qc_error *e = &res->errors[i];
        n += e->severity == sev && has_xy(e) && of_layer(e, layer);
    }
    if (!n) {
        return OM_OK;
    }
    struct mark *mk = om__malloc(n * sizeof *mk);
    if (!mk) {
        return om__enomem(c->err, "qc report map");
    }
    double s = MARK_PX * om_map_resolution(m);
    size_t k = 0;
    for (size_t i = 0; i < res->nerrors; i++) {
        const struct om_qc_error *e = &res->errors[i];
        if (e->severity == sev && has_xy(e) && of_layer(e, layer)) {
            double gx = floor((e->x - ext.minx) / s);
            double gy = floor((e->y - ext.miny) / s);
            if (!(fabs(gx) < 1e6 && fabs(gy) < 1e6)) {
                continue; /* far outside the map */
            }
            mk[k].key =
                ((int64_t)gy + 2000000) * 4000000 + (int64_t)gx + 2000000;
            mk[k].i = i;
            k++;
        }
    }
    qsort(mk, k, sizeof *mk, mark_cmp);
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("qc_marks", &l, c->err);
    for (size_t j = 0; j < k && !st; j++) {
        if (j > 0 && mk[j].key == mk[j - 1].key) {
            continue;
        }
        const struct om_qc_error *e = &res->errors[mk[j].i];
        double h = s / 2;
        double ring[10] = {e->x - h, e->y - h, e->x + h, e->y - h, e->x + h,
                           e->y + h, e->x - h, e->y + h, e->x - h, e->y - h};
        st = om_layer_begin_feature(l, (int64_t)j + 1, c->err);
        if (!st) {
            st = om_layer_begin_part(l, c->err);
        }
        if (!st) {
            st = om_layer_add_ring(l, ring, 5, c->err);
        }
        if (!st) {
            st = om_layer_end_feature(l, c->err);
        }
    }
    if (!st) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, c->err);
    }
    om__free(mk);
    if (st) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

static const struct {
    enum om_severity sev;
    const char *colour;
    const char *poly_zh, *poly_en, *mark_zh, *mark_en;
} SEV_STYLE[] = {
    {OM_SEV_INFO, "#1f77b4", "提示图斑", "info polygons", "提示位置",
     "info locations"},
    {OM_SEV_WARNING, "#ff7f0e", "警告图斑", "warning polygons", "警告位置",
     "warning locations"},
    {OM_SEV_ERROR, "#d62728", "错误图斑（重叠、缝隙、范围外等）",
     "error polygons (overlaps, gaps, outside, ...)", "错误位置",
     "error locations"},
};
#define NSEV (sizeof SEV_STYLE / sizeof SEV_STYLE[0])

/* The extent of the map of `layer`: the layer, its error polygons and
 * its finding locations, with a margin. */
static struct om_rect map_extent(struct rep *c, const struct om_layer *l,
                                 const char *layer)
{
    const struct om_qc_result *res = c->res;
    struct om_rect ext = l ? om_layer_extent(l) : om_rect_empty();
    struct om_layer_view pv = {0};
    if (res->polygons) {
        om_layer_view(res->polygons, &pv);
    }
    for (size_t i = 0; i < res->nerrors; i++) {
        const struct om_qc_error *e = &res->errors[i];
        if (!of_layer(e, layer)) {
            continue;
        }
        if (e->polygon != OM_QC_NONE && e->polygon < pv.nfeatures &&
            !om_rect_is_empty(pv.bbox[e->polygon])) {
            ext = om_rect_union(ext, pv.bbox[e->polygon]);
        }
        if (has_xy(e)) {
            struct om_rect r = {e->x, e->y, e->x, e->y};
            ext = om_rect_union(ext, r);
        }
    }
    if (om_rect_is_empty(ext)) {
        return ext;
    }
    double w = ext.maxx - ext.minx, hgt = ext.maxy - ext.miny;
    double g = 0.03 * (w > hgt ? w : hgt);
    if (!(g >= 10.0)) {
        g = 10.0; /* a point or a tiny layer: show some surroundings */
    }
    ext.minx -= g;
    ext.miny -= g;
    ext.maxx += g;
    ext.maxy += g;
    return ext;
}

/* One overview map: the layer (read from the project when there is one)
 * in light grey, the error polygons and the finding locations above. */
static enum om_status layer_map(struct rep *c, const struct om_qc_layer *ly)
{
    const struct om_qc_result *res = c->res;
    struct om_layer *l = NULL;
    enum om_status st = OM_OK;
    if (c->p) {
        st = om_project_read(c->p, ly->code, ly->version, &l, NULL, c->err);
        if (st == OM_ENOMEM || st == OM_ECANCELED) {
            return st;
        }
        if (st) {
            st = om_html_note(
                c->h,
                aprintf(c,
                        "图层 %s 无法读取，地图未绘出 / layer %s cannot be "
                        "read, no map: %s",
                        ly->code, ly->code, c->err->msg),
                c->err);
            return st ? st : oom_check(c, NULL);
        }
    }
    struct om_rect ext = map_extent(c, l, ly->code);
    struct om_map *m = NULL;
    uint8_t *mask = NULL;
    if (om_rect_is_empty(ext)) {
        om_layer_free(l);
        return OM_OK;
    }
    st = om_map_new(ext, MAP_W, MAP_H, &m, c->err);
    if (!st && l && om_layer_nfeatures(l)) {
        struct om_map_style s = {"#ececec",
                                 "#a0a0a0",
                                 0.3,
                                 1.0,
                                 aprintf(c, "图层 %s", ly->code),
                                 aprintf(c, "layer %s", ly->code)};
        st = oom_check(c, NULL);
        if (!st) {
            st = om_map_add_layer(m, l, NULL, &s, c->err);
        }
    }
    om_layer_free(l);
    size_t np = res->polygons ? om_layer_nfeatures(res->polygons) : 0;
    if (!st && np) {
        mask = om__malloc(np);
        if (!mask) {
            st = om__enomem(c->err, "qc report map");
        }
    }
    for (size_t k = 0; k < NSEV && !st && np; k++) {
        memset(mask, 0, np);
        size_t cnt = 0;
        for (size_t i = 0; i < res->nerrors; i++) {
            const struct om_qc_error *e = &res->errors[i];
            if (e->severity == SEV_STYLE[k].sev && e->polygon < np &&
                of_layer(e, ly->code)) {
                cnt += !mask[e->polygon];
                mask[e->polygon] = 1;
            }
        }
        if (cnt) {
            struct om_map_style s = {
                SEV_STYLE[k].colour,  SEV_STYLE[k].colour, 0.6, 0.7,
                SEV_STYLE[k].poly_zh, SEV_STYLE[k].poly_en};
            st = om_map_add_layer(m, res->polygons, mask, &s, c->err);
        }
    }
    for (size_t k = 0; k < NSEV && !st; k++) {
        struct om_layer *marks = NULL;
        st = mark_layer(c, m, ext, ly->code, SEV_STYLE[k].sev, &marks);
        if (!st && marks) {
            struct om_map_style s = {
                SEV_STYLE[k].colour,  "#333333",           0.6, 1.0,
                SEV_STYLE[k].mark_zh, SEV_STYLE[k].mark_en};
            st = om_map_add_layer(m, marks, NULL, &s, c->err);
        }
        om_layer_free(marks);
    }
    if (!st) {
        st = om_html_svg_map(
            c->h, m, aprintf(c, "图层 %s 质检问题分布", ly->code),
            aprintf(c, "Layer %s: findings", ly->code), c->err);
    }
    if (!st) {
        st = oom_check(c, NULL);
    }
    om__free(mask);
    om_map_free(m);
    return st;
}

/* Whether `layer` has a finding with a location or a polygon. */
static bool has_located(const struct om_qc_result *res, const char *layer)
{
    for (size_t i = 0; i < res->nerrors; i++) {
        const struct om_qc_error *e = &res->errors[i];
        if ((has_xy(e) || e->polygon != OM_QC_NONE) && of_layer(e, layer)) {
            return true;
        }
    }
    return false;
}

static enum om_status section_maps(struct rep *c)
{
    const struct om_qc_result *res = c->res;
    enum om_status st = OM_OK;
    bool heading = false;
    for (size_t i = 0; i < res->nlayers && !st; i++) {
        const struct om_qc_layer *ly = &res->layers[i];
        if (!has_located(res, ly->code)) {
            /* clean, or layer-level findings only (A001, C001, ...):
             * nothing to show on a map, and a county's parcels drawn for
             * nothing would make the report megabytes larger */
            continue;
        }
        if (!heading) {
            st = om_html_page_break(c->h, c->err);
            if (!st) {
                st = om_html_h2(c->h, "问题分布图", "Maps of the findings",
                                c->err);
            }
            heading = true;
        }
        if (!st) {
            st = layer_map(c, ly);
        }
    }
    return st;
}

/* ---- 5. worst cases ---- */

static const char *const AREA_CODES[] = {"T001", "T002", "L001", "L003"};
#define NAREA_CODES (sizeof AREA_CODES / sizeof AREA_CODES[0])

static bool is_area_code(const char *code)
{
    for (size_t i = 0; code && i < NAREA_CODES; i++) {
        if (strcmp(code, AREA_CODES[i]) == 0) {
            return true;
        }
    }
    return false;
}

static const char *fid_text(struct rep *c, int64_t fid)
{
    return fid < 0 ? "" : aprintf(c, "%lld", (long long)fid);
}

static const char *message(struct rep *c, const struct om_qc_error *e)
{
    return aprintf(c, "%s\n%s", str_or(e->zh, ""), str_or(e->en, ""));
}

/* The unit of om_qc_error.value by check. */
static const char *value_unit(const char *code)
{
    static const char *const units[][2] = {{"G003", "°"},   {"G004", " m"},
                                           {"T003", " m"},  {"T004", " m"},
                                           {"A006", " m²"}, {"A007", " m²"}};
    for (size_t i = 0; code && i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(code, units[i][0]) == 0) {
            return units[i][1];
        }
    }
    return "";
}

struct ranked {
    double area;
    size_t i;
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->area != y->area) {
        return x->area > y->area ? -1 : 1;
    }
    return (x->i > y->i) - (x->i < y->i);
}

static const char *const AREA_HDR[] = {
    "序号\nrank",     "图层\nlayer",       "要素\nfid",
    "另一要素\nfid2", "东坐标 x\neasting", "北坐标 y\nnorthing",
    "面积 m²\narea",  "说明\nmessage"};

static enum om_status largest(struct rep *c, const char *code)
{
    const struct om_qc_result *res = c->res;
    const struct om_qc_check *ck = om_qc_check_find(code);
    size_t n = 0;
    for (size_t i = 0; i < res->nerrors; i++) {
        n += strcmp(res->errors[i].code, code) == 0 &&
             isfinite(res->errors[i].area_m2);
    }
    if (!n || !ck) {
        return OM_OK;
    }
    struct ranked *r = om__malloc(n * sizeof *r);
    if (!r) {
        return om__enomem(c->err, "qc report");
    }
    size_t k = 0;
    for (size_t i = 0; i < res->nerrors; i++) {
        if (strcmp(res->errors[i].code, code) == 0 &&
            isfinite(res->errors[i].area_m2)) {
            r[k++] = (struct ranked){res->errors[i].area_m2, i};
        }
    }
    qsort(r, k, sizeof *r, ranked_cmp);
    size_t shown = k < WORST_N ? k : WORST_N;
    enum om_status st = om_html_p(
        c->h,
        aprintf(c,
                "%s %s：面积最大的 %zu 处（共列出 %zu 处）/ %s: the %zu "
                "largest of %zu listed",
                code, ck->zh, shown, k, ck->en, shown, k),
        c->err);
    struct om__cells t = {0};
    for (size_t j = 0; j < shown && !st; j++) {
        const struct om_qc_error *e = &res->errors[r[j].i];
        om__cells_push(&t, aprintf(c, "%zu", j + 1));
        om__cells_push(&t, str_or(e->layer, "?"));
        om__cells_push(&t, fid_text(c, e->fid));
        om__cells_push(&t, fid_text(c, e->fid2));
        om__cells_push(&t, num(c, e->x, 3, "-"));
        om__cells_push(&t, num(c, e->y, 3, "-"));
        om__cells_push(&t, num(c, e->area_m2, 2, ""));
        om__cells_push(&t, message(c, e));
    }
    om__free(r);
    if (!st) {
        st = emit_table(c, &t, AREA_HDR, 8, 0x7du);
    } else {
        om__cells_free(&t);
    }
    return st;
}

static const char *const FIRST_HDR[] = {
    "要素\nfid",          "另一要素\nfid2", "东坐标 x\neasting",
    "北坐标 y\nnorthing", "测量值\nvalue",  "字段\nfield",
    "说明\nmessage"};

/* The first WORST_N listed findings of (layer, code). */
static enum om_status first_of(struct rep *c, const struct om_qc_count *k)
{
    const struct om_qc_result *res = c->res;
    const struct om_qc_check *ck = om_qc_check_find(k->code);
    if (!ck || k->listed == 0) {
        return OM_OK;
    }
    struct om__cells t = {0};
    size_t shown = 0;
    for (size_t i = 0; i < res->nerrors && shown < WORST_N; i++) {
        const struct om_qc_error *e = &res->errors[i];
        if (strcmp(e->code, k->code) != 0 || !of_layer(e, k->layer)) {
            continue;
        }
        shown++;
        om__cells_push(&t, e->fid < 0 ? "图层\nlayer" : fid_text(c, e->fid));
        om__cells_push(&t, fid_text(c, e->fid2));
        om__cells_push(&t, num(c, e->x, 3, "-"));
        om__cells_push(&t, num(c, e->y, 3, "-"));
        om__cells_push(&t, isfinite(e->value)
                               ? aprintf(c, "%s%s", num(c, e->value, 3, ""),
                                         value_unit(e->code))
                               : "");
        om__cells_push(&t, str_or(e->field, ""));
        om__cells_push(&t, message(c, e));
    }
    enum om_status st = om_html_p(
        c->h,
        aprintf(c,
                "%s · %s %s（%s）：前 %zu 条，共 %zu 条 / %s · %s %s (%s): "
                "first %zu of %zu",
                k->layer, k->code, ck->zh, sev_zh(ck->severity), shown,
                k->count, k->layer, k->code, ck->en,
                om_severity_name(ck->severity), shown, k->count),
        c->err);
    if (!st) {
        st = emit_table(c, &t, FIRST_HDR, 7, 0x1cu);
    } else {
        om__cells_free(&t);
    }
    return st;
}

static enum om_status section_worst(struct rep *c)
{
    const struct om_qc_result *res = c->res;
    if (res->nerrors == 0) {
        return OM_OK;
    }
    enum om_status st = om_html_page_break(c->h, c->err);
    if (!st) {
        st = om_html_h2(c->h, "典型问题", "Worst cases", c->err);
    }
    for (size_t i = 0; i < NAREA_CODES && !st; i++) {
        st = largest(c, AREA_CODES[i]);
    }
    for (size_t i = 0; i < res->ncounts && !st; i++) {
        if (!is_area_code(res->counts[i].code)) {
            st = first_of(c, &res->counts[i]);
        }
    }
    if (!st) {
        st = om_html_note(
            c->h,
            "坐标为项目坐标系下的东坐标 x、北坐标 y（米）；面积为项目坐标系下"
            "的平面面积。完整的问题清单见 qc_errors.csv / qc.json，或项目库中"
            "本次质检记录的 QC_ERRORS、QC_AREAS 图层。\n"
            "Coordinates are the easting x and northing y in the project CRS "
            "(metres); areas are planar in the project CRS. Every finding is "
            "in qc_errors.csv / qc.json, or in the run's QC_ERRORS and "
            "QC_AREAS layers in the project.",
            c->err);
    }
    return st;
}

/* ---- 6. method ---- */

static const char *yes_no(bool b)
{
    return b ? "是 / yes" : "否 / no";
}

static const char *domain_name(enum om_qc_domain d)
{
    switch (d) {
    case OM_QC_DOMAIN_DLBM:
        return "dlbm";
    case OM_QC_DOMAIN_YDYH:
        return "ydyh";
    case OM_QC_DOMAIN_CZCS:
        return "czcs";
    case OM_QC_DOMAIN_XZQDM:
        return "xzqdm";
    case OM_QC_DOMAIN_NONE:
        break;
    }
    return NULL;
}

static const char *type_name(int type)
{
    if (type == -1) {
        return "number";
    }
    if (type == 0) {
        return "any";
    }
    return om_field_type_name((enum om_field_type)type);
}

/* "BSM (text, required, unique)" etc., one field a line. */
static const char *schema_fields(struct rep *c, const struct om_qc_schema *s)
{
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = OM_OK;
    for (size_t i = 0; i < s->nfields && !st; i++) {
        const struct om_qc_field *f = &s->fields[i];
        st = om__buf_printf(&b, "%s%s (%s%s%s", i ? "\n" : "",
                            str_or(f->name, "?"), type_name(f->type),
                            f->required ? ", required" : "",
                            f->unique ? ", unique" : "");
        if (!st && domain_name(f->domain)) {
            st = om__buf_printf(&b, ", domain %s", domain_name(f->domain));
        }
        for (size_t v = 0; v < f->nvalues && !st; v++) {
            st = om__buf_printf(&b, "%s%s", v ? ", " : ", values ",
                                str_or(f->values[v], "''"));
        }
        if (!st) {
            st = om__buf_puts(&b, ")");
        }
    }
    const char *out = st ? "" : aprintf(c, "%s", b.data ? b.data : "");
    if (st) {
        c->oom = true;
    }
    om__buf_deinit(&b);
    return out;
}

static enum om_status section_method(struct rep *c)
{
    const struct om_qc_conf *q = &c->rules->qc;
    enum om_status st =
        om_html_h2(c->h, "检查方法与参数", "Method and thresholds", c->err);
    if (!st) {
        st = om_html_p(c->h, "阈值 / Thresholds", c->err);
    }
    if (!st) {
        static const char *const hdr[] = {"参数\nparameter", "取值\nvalue",
                                          "说明\nmeaning"};
        struct om__cells t = {0};
        const struct {
            const char *key;
            double v;
            const char *unit, *zh, *en;
        } th[] = {
            {"sliver_area", q->sliver_area_m2, " m²", "小于此面积为碎片",
             "smaller features, overlaps or gaps are slivers"},
            {"sliver_width", q->sliver_width_m, " m",
             "2·面积/周长 小于此值为碎片",
             "2·area/perimeter below is a sliver"},
            {"near_distance", q->near_distance_m, " m",
             "节点距相邻边界小于此距离而不在其上为近邻未接",
             "a vertex this close to a neighbour's edge, not on it"},
            {"micro_segment", q->micro_segment_m, " m", "短于此长度为极短线段",
             "shorter segments are micro-segments"},
            {"spike_angle", q->spike_angle_deg, "°", "小于此角度为尖角",
             "sharper vertex angles are spikes"},
            {"area_rel", q->area_rel, "", "记录面积与计算面积的相对容差",
             "relative tolerance, recorded vs computed area"},
            {"area_abs", q->area_abs_m2, " m²", "记录面积与计算面积的绝对容差",
             "absolute tolerance, recorded vs computed area"},
            {"tbdlmj_abs", q->tbdlmj_abs_m2, " m²",
             "|TBDLMJ − (TBMJ − KCMJ)| 的容差",
             "tolerance of |TBDLMJ − (TBMJ − KCMJ)|"},
            {"crop_rel", q->crop_rel, "", "基本农田落在非耕地上的比例阈值",
             "share of farmland on non-cultivated land"},
        };
        for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
            char v[64];
            snprintf(v, sizeof v, "%.6g", th[i].v);
            for (char *p = v; *p; p++) {
                if (*p == ',') {
                    *p = '.'; /* a locale's decimal comma */
                }
            }
            om__cells_push(&t, th[i].key);
            om__cells_push(&t, aprintf(c, "%s%s", v, th[i].unit));
            om__cells_push(&t, aprintf(c, "%s\n%s", th[i].zh, th[i].en));
        }
        st = emit_table(c, &t, hdr, 3, 0x2u);
    }
    if (!st) {
        struct om__buf b;
        om__buf_init(&b, 0);
        for (size_t i = 0; i < q->ncoverage && !st; i++) {
            st = om__buf_printf(&b, "%s%s", i ? ", " : "", q->coverage[i]);
        }
        if (st) {
            om__buf_deinit(&b);
            return om__enomem(c->err, "qc report");
        }
        const char *keys[] = {"覆盖图层（拓扑检查）/ coverage layers",
                              "规划范围图层 / extent layer"};
        const char *vals[] = {b.len ? b.data : "-",
                              str_or(q->extent_layer, "-")};
        st = om_html_kv(c->h, keys, vals, 2, c->err);
        om__buf_deinit(&b);
    }
    if (!st && q->nschemas) {
        static const char *const hdr[] = {"图层\nlayer", "单部件\nsingle part",
                                          "面积字段\narea fields",
                                          "字段\nfields"};
        struct om__cells t = {0};
        for (size_t i = 0; i < q->nschemas; i++) {
            const struct om_qc_schema *s = &q->schemas[i];
            om__cells_push(&t, str_or(s->layer, "?"));
            om__cells_push(&t, yes_no(s->single_part));
            const char *areas = s->area_field ? s->area_field : "";
            if (s->net_field) {
                areas =
                    aprintf(c, "%s%s%s = %s − %s", areas, *areas ? "\n" : "",
                            s->net_field, str_or(s->gross_field, "?"),
                            str_or(s->deduct_field, "?"));
            }
            om__cells_push(&t, areas);
            om__cells_push(&t, schema_fields(c, s));
        }
        st = om_html_p(c->h, "属性结构 / Attribute schemas", c->err);
        if (!st) {
            st = emit_table(c, &t, hdr, 4, 0);
        } else {
            om__cells_free(&t);
        }
    }
    if (!st) {
        static const char *const hdr[] = {"编号\ncode", "类别\ncategory",
                                          "级别\nseverity", "可修复\nfixable",
                                          "说明\ndescription"};
        struct om__cells t = {0};
        for (size_t i = 0; i < om_qc_ncheck(); i++) {
            const struct om_qc_check *ck = om_qc_check_at(i);
            om__cells_push(&t, ck->code);
            om__cells_push(&t, aprintf(c, "%s\n%s", category_zh(ck->category),
                                       ck->category));
            om__cells_push(&t, sev_cell(c, ck->severity));
            om__cells_push(&t, yes_no(ck->fixable));
            om__cells_push(&t, aprintf(c, "%s\n%s", ck->zh, ck->en));
        }
        st = om_html_p(c->h, "检查项目录 / Catalogue of checks", c->err);
        if (!st) {
            st = emit_table(c, &t, hdr, 5, 0);
        } else {
            om__cells_free(&t);
        }
    }
    if (!st) {
        st = om_html_note(
            c->h,
            aprintf(
                c,
                "几何有效性按 OGC 简单要素规则（GEOS）判定；拓扑检查只在覆盖"
                "图层内进行，重叠、缝隙与范围外部分给出图斑与平面面积；属性"
                "按规则文件 qc: 中的属性结构检查。可修复项（G001、G002、"
                "G007，及合并碎片时的 T003）可用 onemap qc --repair 生成"
                "新版本图层。\nGeometry validity follows the OGC simple "
                "features rules (GEOS); topology is checked inside "
                "coverage layers, and overlaps, gaps and parts outside "
                "the extent come with their polygons and planar areas; "
                "attributes are checked against the schemas of the rule "
                "file's qc: section. Fixable findings (G001, G002, G007, "
                "and T003 when merging slivers) are repaired into a new "
                "layer version by onemap qc --repair.\nonemap %s",
                om_version()),
            c->err);
    }
    return st;
}

/* ---- the report ---- */

enum om_status om_qc_report_html(struct om_project *p,
                                 const struct om_qc_result *res,
                                 const struct om_rules *rules, FILE *f,
                                 struct om_error *err)
{
    if (!res || !f) {
        return om__error(err, OM_EINVAL, "qc report", 0, -1,
                         "no qc result or no output file");
    }
    if ((res->nerrors && !res->errors) || (res->ncounts && !res->counts) ||
        (res->nlayers && !res->layers)) {
        return om__error(err, OM_EINVAL, "qc report", 0, -1,
                         "qc result without its arrays");
    }
    struct om_rules *own = NULL;
    if (!rules) {
        enum om_status st = om_rules_default(&own, err);
        if (st) {
            return st;
        }
        rules = own;
    }
    struct rep c = {p, res, rules, NULL, {0}, false, err};
    om__arena_init(&c.arena);
    enum om_status st =
        om_html_new("成果质检报告", "Quality control report", &c.h, err);
    if (!st) {
        st = section_overview(&c);
    }
    if (!st) {
        st = section_layers(&c);
    }
    if (!st) {
        st = section_counts(&c);
    }
    if (!st) {
        st = section_maps(&c);
    }
    if (!st) {
        st = section_worst(&c);
    }
    if (!st) {
        st = section_method(&c);
    }
    if (!st) {
        st = oom_check(&c, NULL);
    }
    if (!st) {
        st = om_html_write(c.h, f, err);
        if (st == OM_EIO) {
            om__error(err, OM_EIO, "qc report", 0, -1,
                      "cannot write the QC report");
        }
    }
    om_html_free(c.h);
    om__arena_deinit(&c.arena);
    om_rules_free(own);
    return st;
}
