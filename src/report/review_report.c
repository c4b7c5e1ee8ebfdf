/*
 * review_report.c — the printable compliance review report (建设项目合规性
 * 审查报告) of onemap/review.h: project information, the decision badge
 * and its reasons, the findings per site and per parcel, per-class areas,
 * the admin units, maps of the site over the control lines and land use,
 * the 界址点成果表 and the method and inputs. Built on the om_html
 * builder and om_map (onemap/report.h); this file owns only the layout.
 */
#include "core/core.h"
#include "onemap/codes.h"
#include "onemap/onemap.h"
#include "onemap/report.h"
#include "onemap/review.h"
#include "report/report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M2_PER_HA 10000.0
#define M2_PER_MU (10000.0 / 15.0)
#define MAP_W 1000
#define MAP_H 760
#define MAP_GROW 1.4          /* the map shows the site's box enlarged 40% */
#define MAP_MIN_M 200.0       /* and at least this many metres each way */
#define MAX_CLUSTER_N 2000    /* parcels beyond which no per-parcel maps */
#define MAX_MAPS 50           /* per-parcel (cluster) maps at most */
#define MAX_POINT_ROWS 20000  /* rows of all 界址点成果表 together */
#define MAX_PARCEL_TABLES 500 /* per-parcel findings tables at most */
#define LONG_TABLE_ROWS 40    /* a page break before tables this long */
#define AREA_HDR_PLANAR "平面面积 m²\nplanar"
#define AREA_HDR_ELL "椭球面积 m²\nellipsoidal"

/* Everything one report needs while it is built. */
struct rep {
    const struct om_review *r; /* may be NULL: no layers, no profile */
    const struct om_review_result *res;
    const struct om_review_report_info *info;
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

/* `v` with exactly `dec` decimals and '.' whatever the locale; "-" when
 * not finite. */
static void fixed(char *out, size_t size, double v, int dec)
{
    if (!isfinite(v)) {
        snprintf(out, size, "-");
        return;
    }
    snprintf(out, size, "%.*f", dec, v);
    for (char *p = out; *p; p++) {
        if (*p != '-' && (*p < '0' || *p > '9')) {
            *p = '.'; /* the locale's decimal point */
        }
    }
    /* "-0.00" → "0.00" */
    if (out[0] == '-' && strspn(out + 1, "0.") == strlen(out + 1)) {
        memmove(out, out + 1, strlen(out));
    }
}

static const char *num(struct rep *c, double v, int dec)
{
    char b[64];
    fixed(b, sizeof b, v, dec);
    return aprintf(c, "%s", b);
}

static const char *str_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static const char *base_name(const char *path)
{
    if (!path) {
        return NULL;
    }
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static const char *decision_text(struct rep *c, enum om_decision d)
{
    return aprintf(c, "%s / %s", om_decision_zh(d), om_decision_name(d));
}

static const char *kind_zh(enum om_check_kind k)
{
    switch (k) {
    case OM_CHECK_FORBIDDEN:
        return "禁止占用";
    case OM_CHECK_CONDITIONAL:
        return "有条件占用";
    case OM_CHECK_MUST_BE_WITHIN:
        return "须位于范围内";
    case OM_CHECK_REPORT:
        return "压占统计";
    case OM_CHECK_PURPOSE:
        return "规划用途";
    }
    return "?";
}

/* Table cells: Chinese over English, so the columns stay narrow. */
static const char *kind_text(struct rep *c, enum om_check_kind k)
{
    return aprintf(c, "%s\n%s", kind_zh(k), om_check_kind_name(k));
}

static const char *decision_cell(struct rep *c, enum om_decision d,
                                 const char *note)
{
    return aprintf(c, "%s\n%s%s%s", om_decision_zh(d), om_decision_name(d),
                   note && *note ? "\n" : "", note ? note : "");
}

static const struct om_check_rule *find_check(const struct rep *c,
                                              const char *id)
{
    const struct om_check_profile *p = c->r ? om_review_profile(c->r) : NULL;
    for (size_t i = 0; p && id && i < p->nchecks; i++) {
        if (p->checks[i].id && strcmp(p->checks[i].id, id) == 0) {
            return &p->checks[i];
        }
    }
    return NULL;
}

/* "1234.56 m² = 0.1235 公顷 = 1.85 亩" */
static const char *area_text(struct rep *c, double m2)
{
    char a[64], ha[64], mu[64];
    fixed(a, sizeof a, m2, 2);
    fixed(ha, sizeof ha, m2 / M2_PER_HA, 4);
    fixed(mu, sizeof mu, m2 / M2_PER_MU, 2);
    return aprintf(c, "%s m² = %s 公顷 (ha) = %s 亩 (mu)", a, ha, mu);
}

static enum om_status oom_check(struct rep *c, struct om__cells *t)
{
    if (c->oom || (t && t->oom)) {
        return om__enomem(c->err, "review report");
    }
    return OM_OK;
}

/* Emit a table from `t` (nrows = t->n / ncols) and free the cells. */
static enum om_status emit_table(struct rep *c, struct om__cells *t,
                                 const char *const *header, size_t ncols,
                                 unsigned numeric, const char *total)
{
    enum om_status st = oom_check(c, t);
    if (!st) {
        st = om_html_table(c->h, header, ncols, t->v, t->n / ncols, numeric,
                           total, c->err);
    }
    om__cells_free(t);
    return st;
}

/* Append escaped text to a raw-markup buffer. */
static enum om_status esc(struct om__buf *b, const char *s)
{
    return om__xml_escape(b, s ? s : "", false);
}

/* ---- 1. project information ---- */

static const char *site_source(const struct rep *c)
{
    if (c->info && c->info->source) {
        return c->info->source;
    }
    return c->res->source;
}

static int unit_cmp(const void *a, const void *b)
{
    const struct om_review_unit *x = *(const struct om_review_unit *const *)a;
    const struct om_review_unit *y = *(const struct om_review_unit *const *)b;
    int d = strcmp(str_or(x->code, ""), str_or(y->code, ""));
    return d ? d : strcmp(str_or(x->name, ""), str_or(y->name, ""));
}

static enum om_status section_info(struct rep *c)
{
    const struct om_review_result *res = c->res;
    const struct om_review_report_info *info = c->info;
    const char *keys[20], *vals[20];
    size_t n = 0;

    const char *src = site_source(c);
    const char *title = info && info->title ? info->title : base_name(src);
    keys[n] = "项目名称 / project";
    vals[n++] = str_or(title, "-");
    if (info && info->applicant) {
        keys[n] = "申请单位 / applicant";
        vals[n++] = info->applicant;
    }
    /* The engine records the hash when it was given one; else hash the
     * file now if it is still there (a report names what it reviewed). */
    char hex[65] = "";
    const char *sha = res->source_sha256;
    if (src && !str_or(sha, NULL) && om__sha256_file(src, hex, NULL) == OM_OK) {
        sha = hex;
    }
    keys[n] = "送审文件 / site file";
    vals[n++] =
        src ? aprintf(c, "%s\nSHA-256 %s", base_name(src), str_or(sha, "-"))
            : "-";
    const struct om_check_profile *p = c->r ? om_review_profile(c->r) : NULL;
    keys[n] = "审查方案 / profile";
    if (p) {
        vals[n++] = aprintf(c, "%s — %s / %s", p->name, str_or(p->zh, ""),
                            str_or(p->en, ""));
    } else {
        vals[n++] = str_or(res->profile, "-");
    }
    keys[n] = "规则文件 / rules";
    vals[n++] = aprintf(
        c, "%s\nSHA-256 %s",
        c->r ? str_or(om_review_rules_source(c->r), "-") : "-",
        str_or(c->r ? om_review_rules_sha256(c->r) : res->rules_sha256, "-"));
    keys[n] = "项目坐标系 / CRS";
    vals[n++] = c->r ? str_or(om_review_crs(c->r), "-")
                     : str_or(om_layer_crs(res->site), "-");
    if (c->r && om_review_project_path(c->r)) {
        keys[n] = "项目数据库 / project database";
        vals[n++] = om_review_project_path(c->r);
    }
    char now[64];
    const char *when = info ? info->generated_at : NULL;
    if (!when) {
        time_t t = time(NULL);
        struct tm tm;
        if (gmtime_r(&t, &tm) &&
            strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
            when = now;
        } else {
            when = "-";
        }
    }
    keys[n] = "审查时间 / generated at";
    vals[n++] = when;
    keys[n] = "审查记录 / run id";
    vals[n++] = res->run_id ? aprintf(c, "%lld", (long long)res->run_id)
                            : "未保存 / not stored";
    keys[n] = "地块数 / parcels";
    vals[n++] = aprintf(c, "%zu", res->nparcels);
    keys[n] = "总面积(平面) / area (planar)";
    vals[n++] = area_text(c, res->planar_m2);
    keys[n] = "总面积(椭球) / area (ellipsoidal)";
    vals[n++] = area_text(c, res->ellipsoidal_m2);

    /* The admin units met by any parcel, each once, by code. */
    struct om__buf u;
    om__buf_init(&u, 0);
    bool has_units = false;
    enum om_status st = OM_OK;
    size_t nu = 0;
    for (size_t i = 0; i < res->nparcels; i++) {
        has_units |= res->parcels[i].has_units;
        nu += res->parcels[i].nunits;
    }
    const struct om_review_unit **us = om__malloc((nu ? nu : 1) * sizeof *us);
    if (!us) {
        st = OM_ENOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < res->nparcels && !st; i++) {
        for (size_t j = 0; j < res->parcels[i].nunits; j++) {
            us[k++] = &res->parcels[i].units[j];
        }
    }
    if (!st) {
        qsort(us, nu, sizeof *us, unit_cmp);
    }
    for (size_t i = 0; i < nu && !st; i++) {
        if (i > 0 && unit_cmp(&us[i - 1], &us[i]) == 0) {
            continue;
        }
        st = om__buf_printf(&u, "%s%s %s", u.len ? "；" : "",
                            str_or(us[i]->code, ""), str_or(us[i]->name, ""));
    }
    om__free(us);
    keys[n] = "所在行政区 / admin units";
    vals[n++] = st          ? ""
                : u.len     ? aprintf(c, "%s", u.data)
                : has_units ? "不在任何行政区内 / outside every admin unit"
                            : "未加载行政区图层 / no admin layer";
    om__buf_deinit(&u);
    if (st) {
        c->oom = true;
    }
    st = oom_check(c, NULL);
    if (!st) {
        st = om_html_kv(c->h, keys, vals, n, c->err);
    }
    /* What the TXT reader corrected or found suspicious. */
    const struct om_bbtxt *txt = info ? info->txt : NULL;
    for (size_t i = 0; txt && i < txt->nnotes && !st; i++) {
        const struct om_bbtxt_note *no = &txt->notes[i];
        st = om_html_note(
            c->h,
            no->line > 0
                ? aprintf(c, "送审文件第 %ld 行 / site file line %ld: %s / %s",
                          no->line, no->line, str_or(no->zh, ""),
                          str_or(no->en, ""))
                : aprintf(c, "送审文件 / site file: %s / %s",
                          str_or(no->zh, ""), str_or(no->en, "")),
            c->err);
        if (!st) {
            st = oom_check(c, NULL);
        }
    }
    return st;
}

/* ---- 2. decision ---- */

static const char *badge_colour(enum om_decision d)
{
    switch (d) {
    case OM_DECISION_PASS:
        return "#2e7d32";
    case OM_DECISION_CONDITIONAL:
        return "#e08e00";
    case OM_DECISION_FAIL:
        return "#c62828";
    }
    return "#555555";
}

/* One reason (zh line, en line) as a list item. */
static enum om_status put_reason(struct om__buf *b, const char *zh,
                                 const char *en)
{
    enum om_status st = om__buf_puts(b, "<li>");
    if (!st) {
        st = esc(b, zh);
    }
    if (!st && en && *en) {
        st = om__buf_puts(b, "<br><span class=\"en\" style=\"color:#555\">");
        if (!st) {
            st = esc(b, en);
        }
        if (!st) {
            st = om__buf_puts(b, "</span>");
        }
    }
    return st ? st : om__buf_puts(b, "</li>\n");
}

static const char *finding_layer(struct rep *c,
                                 const struct om_review_finding *f)
{
    if (f->missing) {
        return aprintf(c, "%s (缺失 / missing)", str_or(f->layer, "?"));
    }
    return f->layer_version > 0
               ? aprintf(c, "%s v%d", str_or(f->layer, "?"), f->layer_version)
               : str_or(f->layer, "?");
}

/* The reason of a finding, made up when the engine left it NULL. */
static void finding_reason(struct rep *c, const struct om_review_finding *f,
                           const char **zh, const char **en)
{
    *zh = f->reason_zh;
    *en = f->reason_en;
    if (*zh && *en) {
        return;
    }
    const struct om_check_rule *ck = find_check(c, f->check_id);
    const char *id = str_or(f->check_id, "?");
    if (f->missing) {
        *zh = aprintf(c, "%s 图层 %s 不在项目中，未检查", id,
                      str_or(f->layer, "?"));
        *en = aprintf(c, "%s: layer %s is not in the project; not checked", id,
                      str_or(f->layer, "?"));
    } else if (f->not_evaluated) {
        *zh = aprintf(c, "%s 项目未给出用地用途，未评价", id);
        *en =
            aprintf(c, "%s: the site has no land-use code; not evaluated", id);
    } else {
        char a[64];
        fixed(a, sizeof a, f->planar_m2, 2);
        *zh = aprintf(c, "%s %s：%s 平方米", id, ck ? ck->zh : kind_zh(f->kind),
                      a);
        *en = aprintf(c, "%s %s: %s m²", id,
                      ck ? ck->en : om_check_kind_name(f->kind), a);
    }
}

static enum om_status section_decision(struct rep *c)
{
    const struct om_review_result *res = c->res;
    enum om_status st = om_html_h2(c->h, "审查结论", "Decision", c->err);
    if (st) {
        return st;
    }
    struct om__buf b;
    om__buf_init(&b, 0);
    st = om__buf_printf(
        &b,
        "<div class=\"decision\" style=\"display:inline-block;"
        "padding:.35em 1.2em;margin:.3em 0 .6em;border-radius:6px;"
        "font-size:20pt;font-weight:bold;color:#fff;background:%s;"
        "-webkit-print-color-adjust:exact;print-color-adjust:exact\">"
        "%s <span style=\"font-size:12pt;font-weight:normal\">/ %s</span>"
        "</div>\n<ol class=\"reasons\">\n",
        badge_colour(res->decision), om_decision_zh(res->decision),
        om_decision_name(res->decision));
    size_t nreasons = 0;
    for (size_t i = 0; i < res->ntotals && !st; i++) {
        const struct om_review_finding *f = &res->totals[i];
        if (f->decision == OM_DECISION_PASS && !f->missing &&
            !f->not_evaluated) {
            continue;
        }
        const char *zh, *en;
        finding_reason(c, f, &zh, &en);
        st = put_reason(&b, zh, en);
        nreasons++;
    }
    /* Parcels partly outside the project's admin units. */
    const struct om_check_profile *p = c->r ? om_review_profile(c->r) : NULL;
    double tol = p ? p->tolerance_m2 : 0;
    for (size_t i = 0; i < res->nparcels && !st; i++) {
        const struct om_review_parcel *pa = &res->parcels[i];
        if (!pa->has_units || !(pa->outside_planar_m2 > tol)) {
            continue;
        }
        char a[64];
        fixed(a, sizeof a, pa->outside_planar_m2, 2);
        const char *code = str_or(pa->code, "");
        st = put_reason(
            &b,
            aprintf(c, "地块 %zu %s 有 %s 平方米位于项目行政区范围之外", i + 1,
                    code, a),
            aprintf(c, "Parcel %zu %s: %s m² lie outside every admin unit",
                    i + 1, code, a));
        nreasons++;
    }
    if (!st && nreasons == 0) {
        st = put_reason(&b, "全部审查项均通过", "All checks passed");
    }
    if (!st) {
        st = om__buf_puts(&b, "</ol>\n");
    }
    if (!st) {
        st = oom_check(c, NULL);
        if (!st) {
            st = om__html_raw(c->h, b.data, c->err);
        }
    } else {
        st = om__enomem(c->err, "review report");
    }
    om__buf_deinit(&b);
    return st;
}

/* ---- 3. findings ---- */

static enum om_status parcels_table(struct rep *c)
{
    const struct om_review_result *res = c->res;
    static const char *const hdr[] = {
        "序号\nno.",        "地块编号\ncode", "地块名称\nname", "用途\nuse",
        AREA_HDR_PLANAR,    AREA_HDR_ELL,     "公顷\nha",       "亩\nmu",
        "界址点数\npoints", "结论\ndecision"};
    struct om__cells t = {0};
    for (size_t i = 0; i < res->nparcels; i++) {
        const struct om_review_parcel *pa = &res->parcels[i];
        om__cells_push(&t, aprintf(c, "%zu", i + 1));
        om__cells_push(&t, str_or(pa->code, ""));
        om__cells_push(&t, str_or(pa->name, ""));
        om__cells_push(&t, str_or(pa->use, "-"));
        om__cells_push(&t, num(c, pa->planar_m2, 2));
        om__cells_push(&t, num(c, pa->ellipsoidal_m2, 2));
        om__cells_push(&t, num(c, pa->planar_m2 / M2_PER_HA, 4));
        om__cells_push(&t, num(c, pa->planar_m2 / M2_PER_MU, 2));
        om__cells_push(&t, aprintf(c, "%zu", pa->nvertices));
        om__cells_push(&t, decision_cell(c, pa->decision, NULL));
    }
    if (res->nparcels > 1) {
        const char *row[] = {"合计 / total",
                             "",
                             "",
                             "",
                             num(c, res->planar_m2, 2),
                             num(c, res->ellipsoidal_m2, 2),
                             num(c, res->planar_m2 / M2_PER_HA, 4),
                             num(c, res->planar_m2 / M2_PER_MU, 2),
                             "",
                             decision_cell(c, res->decision, NULL)};
        for (size_t k = 0; k < 10; k++) {
            om__cells_push(&t, row[k]);
        }
    }
    return emit_table(c, &t, hdr, 10, 0x1f0u, "合计 / total");
}

static const char *finding_note(const struct om_review_finding *f)
{
    if (f->missing) {
        return "（缺图层，未检查 / layer missing, not checked）";
    }
    if (f->not_evaluated) {
        return "（无用途代码，未评价 / no land-use code, not evaluated）";
    }
    if (f->below_tolerance) {
        return "（不超过容差，不计 / within tolerance）";
    }
    return "";
}

static enum om_status
findings_table(struct rep *c, const struct om_review_finding *fs, size_t n)
{
    static const char *const hdr[] = {
        "编号\nid",       "类型\nkind",    "图层\nlayer",
        "结论\ndecision", AREA_HDR_PLANAR, AREA_HDR_ELL,
        "公顷\nha",       "亩\nmu",        "占比 %\nshare"};
    struct om__cells t = {0};
    for (size_t i = 0; i < n; i++) {
        const struct om_review_finding *f = &fs[i];
        bool na = f->missing || f->not_evaluated;
        om__cells_push(&t, str_or(f->check_id, "?"));
        om__cells_push(&t, kind_text(c, f->kind));
        om__cells_push(&t, finding_layer(c, f));
        om__cells_push(&t, decision_cell(c, f->decision, finding_note(f)));
        om__cells_push(&t, na ? "-" : num(c, f->planar_m2, 2));
        om__cells_push(&t, na ? "-" : num(c, f->ellipsoidal_m2, 2));
        om__cells_push(&t, na ? "-" : num(c, f->planar_m2 / M2_PER_HA, 4));
        om__cells_push(&t, na ? "-" : num(c, f->planar_m2 / M2_PER_MU, 2));
        om__cells_push(&t, na ? "-" : num(c, f->share * 100.0, 2));
    }
    if (n == 0) {
        return om_html_p(c->h, "审查方案没有审查项 / the profile has no checks",
                         c->err);
    }
    return emit_table(c, &t, hdr, 9, 0x1f0u, NULL);
}

static const char *parcel_title(struct rep *c, size_t i)
{
    const struct om_review_parcel *pa = &c->res->parcels[i];
    return aprintf(c, "地块 %zu %s %s — %s / Parcel %zu", i + 1,
                   str_or(pa->code, ""), str_or(pa->name, ""),
                   decision_text(c, pa->decision), i + 1);
}

static enum om_status units_table(struct rep *c)
{
    const struct om_review_result *res = c->res;
    bool any = false;
    for (size_t i = 0; i < res->nparcels; i++) {
        any |= res->parcels[i].has_units;
    }
    if (!any) {
        return OM_OK;
    }
    enum om_status st = om_html_h2(c->h, "所在行政区", "Admin units", c->err);
    if (st) {
        return st;
    }
    static const char *const hdr[] = {"地块\nparcel",     "行政区代码\ncode",
                                      "行政区名称\nname", AREA_HDR_PLANAR,
                                      AREA_HDR_ELL,       "占比 %\nshare"};
    struct om__cells t = {0};
    for (size_t i = 0; i < res->nparcels; i++) {
        const struct om_review_parcel *pa = &res->parcels[i];
        const char *pn = aprintf(c, "%zu %s", i + 1, str_or(pa->code, ""));
        double a = pa->planar_m2 > 0 ? pa->planar_m2 : NAN;
        for (size_t j = 0; j < pa->nunits; j++) {
            const struct om_review_unit *u = &pa->units[j];
            om__cells_push(&t, pn);
            om__cells_push(&t, str_or(u->code, ""));
            om__cells_push(&t, str_or(u->name, ""));
            om__cells_push(&t, num(c, u->planar_m2, 2));
            om__cells_push(&t, num(c, u->ellipsoidal_m2, 2));
            om__cells_push(&t, num(c, u->planar_m2 / a * 100.0, 2));
        }
        if (pa->outside_planar_m2 > 0) {
            om__cells_push(&t, pn);
            om__cells_push(&t, "-");
            om__cells_push(&t, "行政区外 / outside");
            om__cells_push(&t, num(c, pa->outside_planar_m2, 2));
            om__cells_push(&t, "-");
            om__cells_push(&t, num(c, pa->outside_planar_m2 / a * 100.0, 2));
        }
    }
    return emit_table(c, &t, hdr, 6, 0x38u, NULL);
}

static enum om_status section_findings(struct rep *c)
{
    const struct om_review_result *res = c->res;
    enum om_status st = om_html_h2(c->h, "地块一览", "Parcels", c->err);
    if (!st) {
        st = parcels_table(c);
    }
    if (!st) {
        st = om_html_h2(c->h, "审查明细（全部地块）", "Findings (whole site)",
                        c->err);
    }
    if (!st) {
        st = findings_table(c, res->totals, res->ntotals);
    }
    if (!st && res->nparcels > 1) {
        st = om_html_h2(c->h, "分地块审查明细", "Findings per parcel", c->err);
        for (size_t i = 0; i < res->nparcels && !st; i++) {
            const struct om_review_parcel *pa = &res->parcels[i];
            if (i == MAX_PARCEL_TABLES) {
                st = om_html_note(
                    c->h,
                    aprintf(c,
                            "其余 %zu 个地块的明细见审查记录 / the findings "
                            "of the other %zu parcels are in the review "
                            "record (JSON)",
                            res->nparcels - i, res->nparcels - i),
                    c->err);
                break;
            }
            st = om_html_p(c->h, parcel_title(c, i), c->err);
            if (!st) {
                st = findings_table(c, pa->findings, pa->nfindings);
            }
        }
    }
    if (!st) {
        st = units_table(c);
    }
    return st;
}

/* ---- 4. per-class tables ---- */

static bool has_classes(const struct om_review_finding *f)
{
    if (f->missing || f->nclasses == 0) {
        return false;
    }
    /* must_be_within / no `by`: one class "" — nothing to break down */
    return !(f->nclasses == 1 && !str_or(f->classes[0].value, NULL));
}

static enum om_status section_classes(struct rep *c)
{
    const struct om_review_result *res = c->res;
    bool any = false;
    for (size_t i = 0; i < res->ntotals; i++) {
        any |= has_classes(&res->totals[i]);
    }
    if (!any) {
        return OM_OK;
    }
    enum om_status st = om_html_h2(c->h, "分类面积", "Areas by class", c->err);
    static const char *const hdr[] = {
        "编码\ncode", "名称\nname", "图斑数\nfeatures", AREA_HDR_PLANAR,
        AREA_HDR_ELL, "公顷\nha",   "亩\nmu",           "占比 %\nshare"};
    for (size_t i = 0; i < res->ntotals && !st; i++) {
        const struct om_review_finding *f = &res->totals[i];
        if (!has_classes(f)) {
            continue;
        }
        const struct om_check_rule *ck = find_check(c, f->check_id);
        const char *by = ck && ck->by ? ck->by : "";
        st = om_html_p(c->h,
                       aprintf(c, "%s %s（%s%s%s）/ %s",
                               str_or(f->check_id, "?"),
                               ck ? ck->zh : kind_zh(f->kind),
                               finding_layer(c, f), *by ? " 按 " : "", by,
                               ck ? ck->en : om_check_kind_name(f->kind)),
                       c->err);
        if (st) {
            break;
        }
        struct om__cells t = {0};
        double site = res->planar_m2 > 0 ? res->planar_m2 : NAN;
        double sp = 0, se = 0;
        size_t nf = 0;
        for (size_t k = 0; k < f->nclasses; k++) {
            const struct om_review_class *cl = &f->classes[k];
            const char *name =
                cl->name_zh && cl->name_en
                    ? aprintf(c, "%s\n%s", cl->name_zh, cl->name_en)
                    : str_or(cl->name_zh, str_or(cl->name_en, ""));
            om__cells_push(&t, str_or(cl->value, "(空 / blank)"));
            om__cells_push(&t, name);
            om__cells_push(&t, aprintf(c, "%zu", cl->nfeatures));
            om__cells_push(&t, num(c, cl->planar_m2, 2));
            om__cells_push(&t, num(c, cl->ellipsoidal_m2, 2));
            om__cells_push(&t, num(c, cl->planar_m2 / M2_PER_HA, 4));
            om__cells_push(&t, num(c, cl->planar_m2 / M2_PER_MU, 2));
            om__cells_push(&t, num(c, cl->planar_m2 / site * 100.0, 2));
            sp += cl->planar_m2;
            se += cl->ellipsoidal_m2;
            nf += cl->nfeatures;
        }
        const char *row[] = {"合计 / total",
                             "",
                             aprintf(c, "%zu", nf),
                             num(c, sp, 2),
                             num(c, se, 2),
                             num(c, sp / M2_PER_HA, 4),
                             num(c, sp / M2_PER_MU, 2),
                             num(c, sp / site * 100.0, 2)};
        for (size_t k = 0; k < 8; k++) {
            om__cells_push(&t, row[k]);
        }
        st = emit_table(c, &t, hdr, 8, 0xfcu, "合计 / total");
    }
    return st;
}

/* ---- 5. maps ---- */

/* Light neutral fills of the 三调 first-level classes (stat_class). */
static const struct {
    const char *cls, *fill, *zh, *en;
} LANDUSE[] = {
    {"00", "#cfe6e3", "湿地", "wetland"},
    {"01", "#f4efd0", "耕地", "cultivated land"},
    {"02", "#e9e2c6", "园地", "garden land"},
    {"03", "#d5e7cc", "林地", "forest"},
    {"04", "#e3edcf", "草地", "grassland"},
    {"05", "#f1d8d4", "商业服务业用地", "commercial"},
    {"06", "#e2d6e4", "工矿用地", "industrial and mining"},
    {"07", "#efdccd", "住宅用地", "residential"},
    {"08", "#f1dfe8", "公共管理与公共服务用地", "public services"},
    {"09", "#e5dfd6", "特殊用地", "special use"},
    {"10", "#e1e1e1", "交通运输用地", "transport"},
    {"11", "#d3e4f1", "水域及水利设施用地", "water"},
    {"12", "#ececea", "其他土地", "other land"},
};
#define NLANDUSE (sizeof LANDUSE / sizeof LANDUSE[0])

/* Which LANDUSE row a DLBM value falls in; NLANDUSE = unknown. */
static size_t landuse_class(const char *dlbm)
{
    if (!dlbm) {
        return NLANDUSE;
    }
    while (*dlbm == ' ') {
        dlbm++;
    }
    const struct om_code *code = om_code_find(OM_CODES_DLBM, dlbm);
    char two[3] = {0};
    const char *cls = code && code->stat_class ? code->stat_class : NULL;
    if (!cls && strlen(dlbm) >= 2) {
        two[0] = dlbm[0];
        two[1] = dlbm[1];
        cls = two;
    }
    for (size_t i = 0; cls && i < NLANDUSE; i++) {
        if (strcmp(LANDUSE[i].cls, cls) == 0) {
            return i;
        }
    }
    return NLANDUSE;
}

struct mask_ctx {
    uint8_t *mask;
    size_t n;
};

static bool mask_visit(void *ctx, size_t item)
{
    struct mask_ctx *m = ctx;
    if (item < m->n) {
        m->mask[item] = 1;
    }
    return true;
}

/* The features of `l` whose box meets `vis` (om__malloc'ed, NULL on OOM);
 * *nsel the count. */
static uint8_t *visible_mask(const struct om_layer *l, struct om_rect vis,
                             size_t *nsel)
{
    size_t n = om_layer_nfeatures(l);
    uint8_t *mask = om__calloc(n ? n : 1, 1);
    *nsel = 0;
    if (!mask) {
        return NULL;
    }
    const struct om_rtree *tree = om_layer_index(l);
    if (tree) {
        struct mask_ctx mc = {mask, n};
        om_rtree_search(tree, vis, mask_visit, &mc);
    } else {
        struct om_layer_view v;
        om_layer_view(l, &v);
        for (size_t i = 0; i < n; i++) {
            mask[i] = om_rect_intersects(v.bbox[i], vis);
        }
    }
    for (size_t i = 0; i < n; i++) {
        *nsel += mask[i];
    }
    return mask;
}

static enum om_status add_masked(struct rep *c, struct om_map *m,
                                 const struct om_layer *l, const uint8_t *mask,
                                 const struct om_map_style *s)
{
    return om_map_add_layer(m, l, mask, s, c->err);
}

/* The DLTB-like layer: one fill per first-level class, or grey outlines
 * when it has no DLBM field. */
static enum om_status draw_landuse(struct rep *c, struct om_map *m,
                                   const struct om_review_layer *rl,
                                   const uint8_t *vis)
{
    const struct om_layer *l = rl->layer;
    size_t n = om_layer_nfeatures(l);
    int fi = om_layer_field_index(l, "DLBM");
    if (fi < 0) {
        struct om_map_style s = {NULL,
                                 "#9e9e9e",
                                 0.5,
                                 1.0,
                                 str_or(rl->title, "现状地类图斑"),
                                 "land use parcels"};
        return add_masked(c, m, l, vis, &s);
    }
    uint8_t *cls = om__malloc(n ? n : 1);
    uint8_t *sub = om__malloc(n ? n : 1);
    enum om_status st = OM_OK;
    if (!cls || !sub) {
        st = om__enomem(c->err, "review report map");
    }
    for (size_t i = 0; i < n && !st; i++) {
        cls[i] =
            vis[i] ? (uint8_t)landuse_class(om_layer_get_text(l, i, fi)) : 255;
    }
    for (size_t k = 0; k <= NLANDUSE && !st; k++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            sub[i] = cls[i] == k;
            cnt += sub[i];
        }
        if (!cnt) {
            continue;
        }
        struct om_map_style s = {
            k < NLANDUSE ? LANDUSE[k].fill : "#f5f5f5",
            "#b0b0b0",
            0.4,
            1.0,
            k < NLANDUSE ? aprintf(c, "%s %s", LANDUSE[k].cls, LANDUSE[k].zh)
                         : "其他地类",
            k < NLANDUSE ? LANDUSE[k].en : "other land use"};
        st = oom_check(c, NULL);
        if (!st) {
            st = add_masked(c, m, l, sub, &s);
        }
    }
    om__free(cls);
    om__free(sub);
    return st;
}

/* Draw order and styles of the loaded layers, by role. */
static const struct {
    const char *role;
    struct om_map_style style;
} ROLE_STYLE[] = {
    {"zoning", {NULL, "#7f8fa6", 0.6, 1.0, "规划分区", "planning zones"}},
    {"planned_use",
     {NULL, "#607d8b", 0.6, 1.0, "规划用途", "planned land use"}},
    {"farmland_target",
     {NULL, "#c8a400", 0.8, 1.0, "耕地保护目标", "farmland target"}},
    {"farmland",
     {"#f7dc3a", "#b89b00", 0.8, 0.6, "永久基本农田",
      "permanent basic farmland"}},
    {"eco_redline",
     {"#5cb85c", "#2e7d32", 0.8, 0.45, "生态保护红线",
      "ecological protection red line"}},
    {"urban_boundary",
     {NULL, "#8e44ad", 2.0, 1.0, "城镇开发边界", "urban development boundary"}},
    {"other", {NULL, "#9e9e9e", 0.6, 1.0, NULL, NULL}},
    {"admin", {NULL, "#333333", 1.2, 1.0, "行政区界", "admin units"}},
};
#define NROLES (sizeof ROLE_STYLE / sizeof ROLE_STYLE[0])

static size_t role_rank(const char *role)
{
    for (size_t i = 0; role && i < NROLES; i++) {
        if (strcmp(ROLE_STYLE[i].role, role) == 0) {
            return i;
        }
    }
    return 6; /* "other" */
}

static enum om_status draw_pieces(struct rep *c, struct om_map *m,
                                  struct om_rect vis)
{
    const struct om_layer *pl = c->res->pieces;
    if (!pl || !om_layer_nfeatures(pl) || !om_layer_is_finished(pl)) {
        return OM_OK;
    }
    int fi = om_layer_field_index(pl, "decision");
    if (fi < 0) {
        return OM_OK;
    }
    size_t nsel = 0, n = om_layer_nfeatures(pl);
    uint8_t *mask = visible_mask(pl, vis, &nsel);
    uint8_t *sub = om__malloc(n ? n : 1);
    enum om_status st = OM_OK;
    if (!mask || !sub) {
        st = om__enomem(c->err, "review report map");
    }
    static const struct {
        const char *decision, *colour, *zh, *en;
    } KINDS[] = {
        {"conditional", "#ff9800", "有条件通过的占用部分",
         "occupied, conditional"},
        {"fail", "#d62728", "不通过的占用部分", "occupied, failing"},
    };
    for (size_t k = 0; k < 2 && !st && nsel; k++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n; i++) {
            const char *d = om_layer_get_text(pl, i, fi);
            sub[i] = mask[i] && d && strcmp(d, KINDS[k].decision) == 0;
            cnt += sub[i];
        }
        if (cnt) {
            struct om_map_style s = {KINDS[k].colour, KINDS[k].colour, 0.6, 0.8,
                                     KINDS[k].zh,     KINDS[k].en};
            st = add_masked(c, m, pl, sub, &s);
        }
    }
    om__free(mask);
    om__free(sub);
    return st;
}

static enum om_status draw_site(struct rep *c, struct om_map *m,
                                struct om_rect vis)
{
    const struct om_layer *site = c->res->site;
    if (!site || !om_layer_is_finished(site)) {
        return OM_OK;
    }
    size_t nsel = 0;
    uint8_t *mask = visible_mask(site, vis, &nsel);
    if (!mask) {
        return om__enomem(c->err, "review report map");
    }
    struct om_map_style s = {NULL, "#000000",          2.5,
                             1.0,  "建设项目用地范围", "project site"};
    enum om_status st = add_masked(c, m, site, mask, &s);
    om__free(mask);
    struct om_layer_view v;
    om_layer_view(site, &v);
    for (size_t i = 0; i < c->res->nparcels && !st; i++) {
        const struct om_review_parcel *pa = &c->res->parcels[i];
        if (pa->index >= v.nfeatures ||
            !om_rect_intersects(v.bbox[pa->index], vis)) {
            continue;
        }
        struct om_rect b = v.bbox[pa->index];
        const char *text =
            str_or(pa->code, NULL) ? pa->code : aprintf(c, "地块 %zu", i + 1);
        st = oom_check(c, NULL);
        if (!st) {
            st = om_map_add_label(m, (b.minx + b.maxx) / 2,
                                  (b.miny + b.maxy) / 2, text, c->err);
        }
    }
    return st;
}

static struct om_rect grow_extent(struct om_rect b)
{
    double cx = (b.minx + b.maxx) / 2, cy = (b.miny + b.maxy) / 2;
    double w = (b.maxx - b.minx) * MAP_GROW, h = (b.maxy - b.miny) * MAP_GROW;
    if (!(w >= MAP_MIN_M)) {
        w = MAP_MIN_M;
    }
    if (!(h >= MAP_MIN_M)) {
        h = MAP_MIN_M;
    }
    return (struct om_rect){cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
}

/* One map of `ext` with every layer, captioned. */
static enum om_status draw_map(struct rep *c, struct om_rect ext,
                               const char *cap_zh, const char *cap_en)
{
    struct om_map *m = NULL;
    enum om_status st = om_map_new(ext, MAP_W, MAP_H, &m, c->err);
    if (st) {
        return st;
    }
    /* The area the map shows (the extent, widened on the spare axis). */
    double res = om_map_resolution(m);
    double cx = (ext.minx + ext.maxx) / 2, cy = (ext.miny + ext.maxy) / 2;
    struct om_rect vis = {cx - MAP_W * res / 2, cy - MAP_H * res / 2,
                          cx + MAP_W * res / 2, cy + MAP_H * res / 2};
    size_t nl = c->r ? om_review_nlayers(c->r) : 0;
    for (size_t rank = 0; rank <= NROLES && !st; rank++) {
        for (size_t i = 0; i < nl && !st; i++) {
            const struct om_review_layer *rl = om_review_layer_at(c->r, i);
            if (!rl || !rl->layer || !om_layer_is_finished(rl->layer)) {
                continue;
            }
            bool is_landuse = rl->role && strcmp(rl->role, "landuse") == 0;
            size_t want =
                is_landuse ? 0
                           : role_rank(rl->is_admin ? "admin" : rl->role) + 1;
            if (want != rank) {
                continue;
            }
            size_t nsel = 0;
            uint8_t *mask = visible_mask(rl->layer, vis, &nsel);
            if (!mask) {
                st = om__enomem(c->err, "review report map");
                break;
            }
            if (nsel && is_landuse) {
                st = draw_landuse(c, m, rl, mask);
            } else if (nsel) {
                struct om_map_style s = ROLE_STYLE[rank - 1].style;
                if (!s.label_zh) {
                    s.label_zh = str_or(rl->title, rl->code);
                    s.label_en = rl->code;
                } else if (rl->title) {
                    s.label_zh = rl->title;
                }
                st = add_masked(c, m, rl->layer, mask, &s);
            }
            om__free(mask);
        }
    }
    if (!st) {
        st = draw_pieces(c, m, vis);
    }
    if (!st) {
        st = draw_site(c, m, vis);
    }
    if (!st) {
        st = om_html_svg_map(c->h, m, cap_zh, cap_en, c->err);
    }
    om_map_free(m);
    return st;
}

/* Union-find root with path halving. */
static size_t uf_find(size_t *parent, size_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static enum om_status section_maps(struct rep *c)
{
    const struct om_review_result *res = c->res;
    const struct om_layer *site = res->site;
    if (!site || !om_layer_is_finished(site) || res->nparcels == 0) {
        return OM_OK;
    }
    struct om_rect ext = om_layer_extent(site);
    if (om_rect_is_empty(ext) || !isfinite(ext.minx) || !isfinite(ext.maxx) ||
        !isfinite(ext.miny) || !isfinite(ext.maxy)) {
        return OM_OK;
    }
    enum om_status st = om_html_page_break(c->h, c->err);
    if (!st) {
        st = om_html_h2(c->h, "审查范围图", "Maps", c->err);
    }
    if (!st) {
        st = draw_map(c, grow_extent(ext), "建设项目用地范围与管控线、用地现状",
                      "The site over the control lines and land use");
    }
    size_t n = res->nparcels;
    if (st || n < 2) {
        return st;
    }
    if (n > MAX_CLUSTER_N) {
        return om_html_note(c->h,
                            "地块过多，未绘制分地块图 / too many parcels for "
                            "one map per parcel",
                            c->err);
    }
    /* Parcels whose enlarged boxes overlap share a map. */
    struct om_layer_view v;
    om_layer_view(site, &v);
    size_t *parent = om__malloc(n * sizeof *parent);
    struct om_rect *box = om__malloc(n * sizeof *box);
    if (!parent || !box) {
        om__free(parent);
        om__free(box);
        return om__enomem(c->err, "review report map");
    }
    for (size_t i = 0; i < n; i++) {
        parent[i] = i;
        size_t fi = res->parcels[i].index;
        box[i] = fi < v.nfeatures && !om_rect_is_empty(v.bbox[fi])
                     ? grow_extent(v.bbox[fi])
                     : om_rect_empty();
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (!om_rect_is_empty(box[i]) && !om_rect_is_empty(box[j]) &&
                om_rect_intersects(box[i], box[j])) {
                size_t a = uf_find(parent, i), b = uf_find(parent, j);
                parent[a < b ? b : a] = a < b ? a : b;
            }
        }
    }
    size_t nclusters = 0;
    for (size_t i = 0; i < n; i++) {
        nclusters += uf_find(parent, i) == i && !om_rect_is_empty(box[i]);
    }
    size_t nmaps = 0;
    for (size_t i = 0; i < n && !st && nclusters > 1; i++) {
        if (uf_find(parent, i) != i || om_rect_is_empty(box[i])) {
            continue;
        }
        if (nmaps == MAX_MAPS) {
            st = om_html_note(c->h,
                              "其余地块未单独成图 / further parcels are "
                              "shown on the overview map only",
                              c->err);
            break;
        }
        struct om_rect b = om_rect_empty();
        struct om__buf names;
        om__buf_init(&names, 0);
        for (size_t j = i; j < n && !st; j++) {
            if (uf_find(parent, j) == i) {
                b = om_rect_union(b, v.bbox[res->parcels[j].index]);
                st = om__buf_printf(&names, "%s%zu", names.len ? ", " : "",
                                    j + 1);
            }
        }
        if (st) {
            st = om__enomem(c->err, "review report map");
        } else {
            st = draw_map(c, grow_extent(b), aprintf(c, "地块 %s", names.data),
                          aprintf(c, "Parcel(s) %s", names.data));
        }
        om__buf_deinit(&names);
        nmaps++;
    }
    om__free(parent);
    om__free(box);
    return st;
}

/* ---- 6. 界址点成果表 ---- */

static const char *const POINT_HDR[] = {"点号\npoint", "圈号\nring",
                                        "X 北坐标 m\nnorthing",
                                        "Y 东坐标 m\neasting", "边长 m\nedge"};

struct pt {
    const char *name;
    int ring;
    double north, east;
};

/* Rows for points [a, shown) of the ring run pts[a..b) (b <= the points
 * available): the edge from each point to the next; the last point of a
 * run closes the ring unless it repeats the first. */
static void ring_rows(struct rep *c, struct om__cells *t, const struct pt *pts,
                      size_t a, size_t b, size_t shown)
{
    for (size_t i = a; i < b && i < shown; i++) {
        const struct pt *p = &pts[i];
        const struct pt *q = NULL;
        if (i + 1 < b) {
            q = &pts[i + 1];
        } else if (b - a > 1 &&
                   (p->north != pts[a].north || p->east != pts[a].east)) {
            q = &pts[a];
        }
        om__cells_push(t, p->name);
        om__cells_push(t, aprintf(c, "%d", p->ring));
        om__cells_push(t, num(c, p->north, 3));
        om__cells_push(t, num(c, p->east, 3));
        om__cells_push(
            t,
            q ? num(c, hypot(q->north - p->north, q->east - p->east), 2) : "");
    }
}

/*
 * The points of parcel `i`: from the TXT, or numbered J1.. from the site.
 * *ntotal is the parcel's count; *out holds the first min(*ntotal,
 * limit + 1) of them in *navail (one more than shown, for the last edge).
 */
static enum om_status parcel_points(struct rep *c, size_t i, size_t limit,
                                    struct pt **out, size_t *navail,
                                    size_t *ntotal, bool *from_txt)
{
    const struct om_review_parcel *pa = &c->res->parcels[i];
    const struct om_bbtxt *txt = c->info ? c->info->txt : NULL;
    *out = NULL;
    *navail = *ntotal = 0;
    *from_txt = false;
    if (txt) {
        size_t k = pa->fid >= 1 && (uint64_t)pa->fid <= txt->nparcels
                       ? (size_t)(pa->fid - 1)
                       : i;
        if (k < txt->nparcels) {
            const struct om_bbtxt_parcel *tp = &txt->parcels[k];
            size_t n = tp->npoints < limit + 1 ? tp->npoints : limit + 1;
            struct pt *v = om__malloc((n ? n : 1) * sizeof *v);
            if (!v) {
                return om__enomem(c->err, "review report");
            }
            for (size_t j = 0; j < n; j++) {
                const struct om_bbtxt_point *bp =
                    &txt->points[tp->first_point + j];
                v[j] = (struct pt){bp->name, bp->ring, bp->north, bp->east};
            }
            *out = v;
            *navail = n;
            *ntotal = tp->npoints;
            *from_txt = true;
            return OM_OK;
        }
    }
    struct om_layer_view lv;
    om_layer_view(c->res->site, &lv);
    if (pa->index >= lv.nfeatures) {
        return OM_OK;
    }
    size_t r0 = lv.ring_start[lv.part_start[pa->index]];
    size_t r1 = lv.ring_start[lv.part_start[pa->index + 1]];
    size_t total = lv.point_start[r1] - lv.point_start[r0];
    size_t np = total < limit + 1 ? total : limit + 1;
    struct pt *v = om__malloc((np ? np : 1) * sizeof *v);
    if (!v) {
        return om__enomem(c->err, "review report");
    }
    size_t k = 0, num_j = 0;
    for (size_t r = r0; r < r1 && k < np; r++) {
        size_t a = lv.point_start[r], b = lv.point_start[r + 1];
        const char *first = NULL;
        for (size_t j = a; j < b && k < np; j++) {
            /* the stored closing point repeats the first point's name */
            const char *name =
                j + 1 == b && first ? first : aprintf(c, "J%zu", ++num_j);
            if (!first) {
                first = name;
            }
            v[k++] = (struct pt){name, (int)(r - r0 + 1), lv.xy[2 * j + 1],
                                 lv.xy[2 * j]};
        }
    }
    *out = v;
    *navail = k;
    *ntotal = total;
    return oom_check(c, NULL);
}

static enum om_status section_points(struct rep *c)
{
    const struct om_review_result *res = c->res;
    if (!res->site || res->nparcels == 0) {
        return OM_OK;
    }
    enum om_status st = om_html_page_break(c->h, c->err);
    if (!st) {
        st = om_html_h2(c->h, "界址点成果表", "Boundary point table", c->err);
    }
    size_t budget = MAX_POINT_ROWS;
    for (size_t i = 0; i < res->nparcels && !st; i++) {
        struct pt *pts = NULL;
        size_t navail = 0, n = 0;
        bool from_txt = false;
        st = parcel_points(c, i, budget, &pts, &navail, &n, &from_txt);
        if (st) {
            break;
        }
        const struct om_review_parcel *pa = &res->parcels[i];
        size_t shown = n < budget ? n : budget;
        if (i > 0 && shown > LONG_TABLE_ROWS) {
            st = om_html_page_break(c->h, c->err);
        }
        if (!st) {
            st = om_html_p(
                c->h,
                aprintf(c,
                        "地块 %zu %s %s：界址点 %zu 个（%s）/ Parcel %zu: "
                        "%zu points (%s)",
                        i + 1, str_or(pa->code, ""), str_or(pa->name, ""), n,
                        from_txt ? "送审文件原点号与坐标" : "项目坐标系顶点",
                        i + 1, n,
                        from_txt ? "as in the site file"
                                 : "site vertices in the project CRS"),
                c->err);
        }
        struct om__cells t = {0};
        for (size_t a = 0; a < shown && !st;) {
            size_t b = a + 1;
            while (b < navail && pts[b].ring == pts[a].ring) {
                b++;
            }
            ring_rows(c, &t, pts, a, b, shown);
            a = b;
        }
        budget -= shown;
        if (!st && shown > 0) {
            st = emit_table(c, &t, POINT_HDR, 5, 0x1cu, NULL);
        } else {
            om__cells_free(&t);
        }
        if (!st && shown < n) {
            st = om_html_note(
                c->h,
                aprintf(c,
                        "表格已截断：另有 %zu 个点未列出（完整坐标见送审文件"
                        "或导出的审查记录）/ table truncated: %zu more "
                        "points not listed (see the site file or the "
                        "exported review record)",
                        n - shown, n - shown),
                c->err);
        }
        om__free(pts);
    }
    if (!st) {
        st = om_html_note(
            c->h,
            "X 为北坐标、Y 为东坐标（含带号时东坐标带带号），单位米；边长为"
            "本点至同圈下一点的平面距离。\nX is the northing, Y the easting "
            "(with the zone prefix when the file has it), in metres; the edge "
            "length is the planar distance from the point to the next one of "
            "its ring.",
            c->err);
    }
    return st;
}

/* ---- 7. method and inputs ---- */

static enum om_status section_method(struct rep *c)
{
    enum om_status st =
        om_html_h2(c->h, "方法与数据", "Method and inputs", c->err);
    size_t nl = c->r ? om_review_nlayers(c->r) : 0;
    if (!st && nl) {
        static const char *const hdr[] = {"图层\nlayer",      "名称\nname",
                                          "角色\nrole",       "版本\nversion",
                                          "要素数\nfeatures", "SHA-256"};
        struct om__cells t = {0};
        for (size_t i = 0; i < nl; i++) {
            const struct om_review_layer *rl = om_review_layer_at(c->r, i);
            if (!rl) {
                continue;
            }
            om__cells_push(&t, str_or(rl->code, "?"));
            om__cells_push(&t, str_or(rl->title, ""));
            om__cells_push(&t, rl->is_admin
                                   ? aprintf(c, "%s\n(行政区 / admin units)",
                                             str_or(rl->role, ""))
                                   : str_or(rl->role, ""));
            om__cells_push(&t, aprintf(c, "%d", rl->version));
            om__cells_push(
                &t, rl->layer ? aprintf(c, "%zu", om_layer_nfeatures(rl->layer))
                              : "-");
            om__cells_push(&t, str_or(rl->sha256, "-"));
        }
        st = emit_table(c, &t, hdr, 6, 0x18u, NULL);
    }
    const struct om_check_profile *p = c->r ? om_review_profile(c->r) : NULL;
    if (!st && p && p->nchecks) {
        static const char *const hdr[] = {
            "编号\nid",           "类型\nkind",      "审查对象\nlayer",
            "容差 m²\ntolerance", "违反时\noutcome", "说明\ndescription",
            "依据\nbasis"};
        struct om__cells t = {0};
        for (size_t i = 0; i < p->nchecks; i++) {
            const struct om_check_rule *ck = &p->checks[i];
            om__cells_push(&t, str_or(ck->id, "?"));
            om__cells_push(&t, kind_text(c, ck->kind));
            const char *what =
                str_or(ck->layer.text, str_or(ck->layer.layer, ""));
            om__cells_push(
                &t, ck->by ? aprintf(c, "%s\n按 / by %s", what, ck->by) : what);
            om__cells_push(&t, num(c, ck->tolerance_m2, 2));
            om__cells_push(&t, ck->kind == OM_CHECK_REPORT
                                   ? "不作判定\nnone"
                                   : decision_cell(c, ck->outcome, NULL));
            om__cells_push(&t, aprintf(c, "%s\n%s", str_or(ck->zh, ""),
                                       str_or(ck->en, "")));
            om__cells_push(&t, str_or(ck->basis, ""));
        }
        st = om_html_p(c->h, "审查项 / Checks", c->err);
        if (!st) {
            st = emit_table(c, &t, hdr, 7, 0x8u, NULL);
        } else {
            om__cells_free(&t);
        }
    }
    if (!st) {
        char tol[64] = "";
        if (p) {
            char v[48];
            fixed(v, sizeof v, p->tolerance_m2, 2);
            snprintf(tol, sizeof tol, " %s m²", v);
        }
        char ms[64];
        fixed(ms, sizeof ms, c->res->elapsed_ms, 1);
        st = om_html_note(
            c->h,
            aprintf(
                c,
                "面积计算：平面面积为项目坐标系（CGCS2000 高斯-克吕格投影）下"
                "的平面面积；椭球面积为 CGCS2000 椭球面上的大地测量面积（与官方"
                "统计口径一致）。各项面积为地块与管控图斑相交部分之和；仅边界"
                "相接的面积为 0。面积不超过容差（方案默认%s）的占用只报告，"
                "不影响结论。1 公顷 = 10000 m²，1 亩 = 10000/15 m²。\n"
                "Areas: planar in the project CRS (CGCS2000 Gauss-Krüger), "
                "ellipsoidal on the CGCS2000 ellipsoid (geodesic, as official "
                "statistics); occupied areas sum the pieces of the site inside "
                "the selected features; a site touching a feature along an "
                "edge occupies 0 m². Occupations not above the tolerance "
                "(profile default%s) are reported but do not decide. "
                "1 ha = 10000 m², 1 mu = 10000/15 m².\n"
                "onemap %s；审查耗时 / check time %s ms。",
                tol, tol, om_version(), ms),
            c->err);
    }
    return st;
}

/* ---- the report ---- */

enum om_status om_review_report_html(const struct om_review *r,
                                     const struct om_review_result *res,
                                     const struct om_review_report_info *info,
                                     FILE *f, struct om_error *err)
{
    if (!res || !f) {
        return om__error(err, OM_EINVAL, "review report", 0, -1,
                         "no review result or no output file");
    }
    if (res->nparcels > 0 && !res->parcels) {
        return om__error(err, OM_EINVAL, "review report", 0, -1,
                         "review result without its parcels");
    }
    struct rep c = {r, res, info, NULL, {0}, false, err};
    om__arena_init(&c.arena);
    enum om_status st = om_html_new("建设项目合规性审查报告",
                                    "Compliance review report", &c.h, err);
    if (!st) {
        st = section_info(&c);
    }
    if (!st) {
        st = section_decision(&c);
    }
    if (!st) {
        st = section_findings(&c);
    }
    if (!st) {
        st = section_classes(&c);
    }
    if (!st) {
        st = section_maps(&c);
    }
    if (!st) {
        st = section_points(&c);
    }
    if (!st) {
        st = section_method(&c);
    }
    if (!st) {
        st = oom_check(&c, NULL); /* a cell or text that could not be made */
    }
    if (!st) {
        st = om_html_write(c.h, f, err);
        if (st == OM_EIO) {
            om__error(err, OM_EIO, "review report", 0, -1,
                      "cannot write the review report");
        }
    }
    om_html_free(c.h);
    om__arena_deinit(&c.arena);
    return st;
}
