/*
 * cmd_check.c — `onemap check PROJECT SITE... [options]`: construction
 * project compliance review (合规性审查 / 压占分析).
 *
 * Loads the review profile once (om_review_open), then checks every site
 * (a 部标 TXT, or any polygon file GDAL reads) against it, stores a review
 * record per site unless --no-store, prints a table per site and, for a
 * batch, a summary; writes the HTML report, JSON and CSV per site and the
 * batch summary (summary.csv, summary.html) to -o DIR.
 *
 * Exit status: 0 every site passes, 1 at least one site is conditional or
 * fails, 2 usage error, 3 at least one site (or the project, rules or
 * profile) could not be checked; 3 wins over 1.
 */
#include "cli.h"
#include "onemap/bbtxt.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/report.h"
#include "onemap/review.h"
#include "onemap/rules.h"
#include "onemap/store.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* A site or the project could not be checked (see the file header). */
enum { CHECK_ERROR = 3 };

#define MU_PER_M2 (15.0 / 10000.0) /* 1 亩 = 10000/15 m² */

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap check PROJECT.gpkg SITE... [--profile NAME] "
          "[--rules FILE]\n"
          "                    [--use CODE] [--format LIST] [-o DIR] "
          "[--no-store]\n"
          "                    [--src-crs CRS] [--layer NAME] "
          "[--encoding ENC] [--zone N]\n"
          "                    [--title TEXT] [--applicant TEXT] "
          "[--lang zh|en]\n"
          "       onemap check PROJECT.gpkg --rerun N [--against-current] "
          "[--rules FILE]\n"
          "                    [--format LIST] [-o DIR]",
          "用法: onemap check 项目.gpkg 用地范围... [--profile 方案] "
          "[--rules 规则文件]\n"
          "                   [--use 用途编码] [--format 列表] [-o 目录] "
          "[--no-store]\n"
          "                   [--src-crs 坐标系] [--layer 图层] "
          "[--encoding 编码] [--zone 带号]\n"
          "                   [--title 项目名称] [--applicant 申请单位] "
          "[--lang zh|en]\n"
          "      onemap check 项目.gpkg --rerun 编号 [--against-current] "
          "[--rules 规则文件]\n"
          "                   [--format 列表] [-o 目录]"),
        T("Compliance review of construction sites (合规性审查): each SITE "
          "(a 部标 TXT\nfile, or a Shapefile, GeoJSON, KML, DXF, GPKG, "
          "CSV+WKT ...) is checked\nagainst the project's control lines and "
          "land use with the checks of a\nreview profile; several SITEs = "
          "batch (e.g. sites/*.txt).\n"
          "  --profile NAME      review profile (default: default)\n"
          "  --rules FILE        rule file with `profiles:` (default: the "
          "built-in rules)\n"
          "  --use CODE          the site's land-use code for purpose "
          "checks\n"
          "                      (default: each parcel's 地块用途 / "
          "地类编码)\n"
          "  --format LIST       table, html, json, csv (comma-separated); "
          "default table,\n"
          "                      or table,html,json,csv with -o\n"
          "  -o DIR              write DIR/<site>.html|.json|.csv and "
          "DIR/summary.csv|.html;\n"
          "                      without -o file formats go to "
          "./check-<site>.*\n"
          "  --no-store          do not record the review in the project "
          "(opens it read-only)\n"
          "  --src-crs CRS       CRS of GIS sites without one "
          "(e.g. EPSG:4490)\n"
          "  --layer NAME        layer of GIS sites with several\n"
          "  --encoding ENC      attribute encoding of GIS sites (e.g. "
          "GBK)\n"
          "  --zone N            zone of TXT sites whose eastings have no "
          "prefix and no 带号\n"
          "  --title TEXT        project name in the report (default: the "
          "file name)\n"
          "  --applicant TEXT    applicant in the report\n"
          "  --rerun N           reproduce stored review N on the layer "
          "versions it used\n"
          "                      (read-only; --rules FILE = the rules it "
          "was made under)\n"
          "                      and compare with the stored result; "
          "exit 0 identical,\n"
          "                      1 different, 3 cannot rerun\n"
          "  --against-current   with --rerun: the same site and profile "
          "on the current\n"
          "                      layer versions: what changed since\n"
          "Exit status: 0 all sites pass, 1 at least one conditional or "
          "fail, 2 usage\nerror, 3 a site (or the project) could not be "
          "checked.",
          "建设项目合规性审查:每个用地范围(部标 TXT 文件,或 Shapefile、"
          "GeoJSON、\nKML、DXF、GPKG、CSV+WKT 等)按审查方案逐项与项目中的"
          "管控边界和用地\n叠加检查;多个用地范围为批量审查(如 sites/*.txt)。\n"
          "  --profile 方案      审查方案(默认 default)\n"
          "  --rules 文件        含 `profiles:` 的规则文件(默认内置规则)\n"
          "  --use 编码          用地用途编码(规划用途检查用;默认取各地块的"
          "地块用途/地类编码)\n"
          "  --format 列表       table、html、json、csv,逗号分隔;默认 "
          "table,\n"
          "                      有 -o 时默认 table,html,json,csv\n"
          "  -o 目录             写出 目录/<用地>.html|.json|.csv 及 "
          "目录/summary.csv|.html;\n"
          "                      无 -o 时文件写到当前目录 check-<用地>.*\n"
          "  --no-store          不在项目库中记录审查(只读打开项目)\n"
          "  --src-crs 坐标系    无坐标系的 GIS 文件所用坐标系(如 "
          "EPSG:4490)\n"
          "  --layer 图层        GIS 文件中的图层名\n"
          "  --encoding 编码     GIS 文件属性编码(如 GBK)\n"
          "  --zone 带号         TXT 横坐标无带号前缀且缺少带号时的带号\n"
          "  --title 名称        报告中的项目名称(默认文件名)\n"
          "  --applicant 单位    报告中的申请单位\n"
          "  --rerun 编号        按原审查所用图层版本重新审查第 N 号审查记录"
          "(只读;\n"
          "                      --rules 给出原规则文件)并与存档结果比较;"
          "退出码 0 一致,\n"
          "                      1 不一致,3 无法复核\n"
          "  --against-current   与 --rerun 同用:同一用地范围和方案按现行"
          "图层版本审查,\n"
          "                      显示此后的变化\n"
          "退出码:0 全部通过,1 至少一个有条件通过或不通过,2 用法错误,"
          "3 有用地范围\n(或项目)无法审查。"));
}

/* ---- small helpers ---- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "onemap: %s\n", T("out of memory", "内存不足"));
        exit(CHECK_ERROR);
    }
    return p;
}

/* A growable string (the CLI's own: plain malloc, dies on OOM). */
struct sbuf {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) {
            cap *= 2;
        }
        char *p = realloc(b->s, cap);
        if (!p) {
            fprintf(stderr, "onemap: %s\n", T("out of memory", "内存不足"));
            exit(CHECK_ERROR);
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static const char *sb_str(const struct sbuf *b)
{
    return b->s ? b->s : "";
}

static bool find_bytes(const unsigned char *hay, size_t n,
                       const unsigned char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return true;
        }
    }
    return false;
}

/*
 * A 部标 TXT: the extension .txt, or "[属性描述]" / "[地块坐标]" (UTF-8 or
 * GBK) near the start of the file.
 */
static bool is_bbtxt(const char *path)
{
    size_t n = strlen(path);
    if (n > 4 && strcasecmp(path + n - 4, ".txt") == 0) {
        return true;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        return false;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return false;
    }
    unsigned char buf[4096];
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    static const unsigned char marks[4][13] = {
        /* [属性描述], [地块坐标] in UTF-8 */
        {0x5b, 0xe5, 0xb1, 0x9e, 0xe6, 0x80, 0xa7, 0xe6, 0x8f, 0x8f, 0xe8, 0xbf,
         0xb0},
        {0x5b, 0xe5, 0x9c, 0xb0, 0xe5, 0x9d, 0x97, 0xe5, 0x9d, 0x90, 0xe6, 0xa0,
         0x87},
        /* the same in GBK */
        {0x5b, 0xca, 0xf4, 0xd0, 0xd4, 0xc3, 0xe8, 0xca, 0xf6, 0x5d},
        {0x5b, 0xb5, 0xd8, 0xbf, 0xe9, 0xd7, 0xf8, 0xb1, 0xea, 0x5d}};
    static const size_t lens[4] = {13, 13, 10, 10};
    for (size_t k = 0; k < 4; k++) {
        if (find_bytes(buf, got, marks[k], lens[k])) {
            return true;
        }
    }
    return false;
}

/* The file name without folder and last extension ("site" if empty),
 * cut to fit `size` on a UTF-8 character boundary. */
static void file_stem(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base) {
        n = (size_t)(dot - base);
    }
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    memcpy(out, base, n);
    out[n] = '\0';
    if (!out[0]) {
        snprintf(out, size, "site");
    }
}

static const char *decision_text(enum om_decision d)
{
    return cli_zh ? om_decision_zh(d) : om_decision_name(d);
}

static const char *kind_text(enum om_check_kind k)
{
    if (!cli_zh) {
        return om_check_kind_name(k);
    }
    switch (k) {
    case OM_CHECK_FORBIDDEN:
        return "禁止占用";
    case OM_CHECK_CONDITIONAL:
        return "有条件占用";
    case OM_CHECK_MUST_BE_WITHIN:
        return "须位于范围内";
    case OM_CHECK_REPORT:
        return "占用统计";
    case OM_CHECK_PURPOSE:
        return "规划用途";
    }
    return "?";
}

/* "missing", "not_evaluated", "below_tolerance" or "" (machine form). */
static const char *finding_status(const struct om_review_finding *f)
{
    if (f->missing) {
        return "missing";
    }
    if (f->not_evaluated) {
        return "not_evaluated";
    }
    if (f->below_tolerance) {
        return "below_tolerance";
    }
    return "";
}

static const char *finding_note(const struct om_review_finding *f)
{
    if (f->missing) {
        return T("layer not in the project", "项目中无此图层");
    }
    if (f->not_evaluated) {
        return T("not evaluated: no land-use code", "未评价:无用途编码");
    }
    if (f->below_tolerance) {
        return T("below tolerance", "低于容差");
    }
    return "";
}

/* Check ids whose site decision is not pass, space-separated. */
static void failing_checks(const struct om_review_result *res, char *out,
                           size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < res->ntotals && len + 1 < size; i++) {
        const struct om_review_finding *f = &res->totals[i];
        if (f->decision == OM_DECISION_PASS) {
            continue;
        }
        int w = snprintf(out + len, size - len, "%s%s", len ? " " : "",
                         f->check_id);
        if (w < 0 || (size_t)w >= size - len) {
            out[len] = '\0';
            break;
        }
        len += (size_t)w;
    }
}

/* ---- the batch ---- */

struct site_row {
    const char *path;
    char stem[200];
    bool checked; /* a result exists */
    enum om_decision decision;
    size_t nparcels;
    double planar_m2, ellipsoidal_m2;
    int64_t run_id;
    char failing[512];
    char error[OM_ERROR_MSG_MAX + OM_ERROR_SOURCE_MAX + 64];
    bool has_html;
};

struct check_ctx {
    const char *project;
    struct om_project *p;
    const struct om_review *r;
    bool store;
    bool f_table, f_html, f_json, f_csv;
    const char *outdir; /* NULL: files as ./check-<stem>.* */
    const char *use, *title, *applicant;
    int zone;
    struct om_read_options ro;
    struct om_progress quiet; /* cancel flag only, for per-site reads */
    bool batch;
};

static void print_notes(const struct om_bbtxt *t, const char *path)
{
    for (size_t i = 0; i < t->nnotes; i++) {
        const struct om_bbtxt_note *n = &t->notes[i];
        if (n->line > 0) {
            fprintf(stderr, "onemap: %s: %s:%ld: %s [%s]\n",
                    T("warning", "警告"), path, n->line, T(n->en, n->zh),
                    n->code);
        } else {
            fprintf(stderr, "onemap: %s: %s: %s [%s]\n", T("warning", "警告"),
                    path, T(n->en, n->zh), n->code);
        }
    }
}

/* Read a site: a TXT into *txt (layer borrowed from it), anything else
 * into *owned (finished, file order). */
static enum om_status read_site(const struct check_ctx *c, const char *path,
                                struct om_bbtxt **txt, struct om_layer **owned,
                                const struct om_layer **site,
                                struct om_error *err)
{
    *txt = NULL;
    *owned = NULL;
    *site = NULL;
    enum om_status st;
    if (is_bbtxt(path)) {
        struct om_bbtxt_options bo;
        memset(&bo, 0, sizeof bo);
        bo.zone = c->zone;
        st = om_bbtxt_read(path, &bo, txt, err);
        if (st == OM_OK) {
            print_notes(*txt, path);
            *site = (*txt)->layer;
        }
        return st;
    }
    size_t nskipped = 0;
    struct om_read_options ro = c->ro;
    ro.nskipped = &nskipped;
    st = om_source_read(path, &ro, owned, &c->quiet, err);
    if (st == OM_OK) {
        st = om_layer_finish(*owned, OM_LAYER_KEEP_ORDER, err);
    }
    if (st != OM_OK) {
        om_layer_free(*owned);
        *owned = NULL;
        return st;
    }
    if (nskipped) {
        fprintf(stderr, "onemap: %s: %s: %zu %s\n", T("warning", "警告"), path,
                nskipped,
                T("point or open-line features skipped (not areas)",
                  "个点或非闭合线要素已跳过(非面)"));
    }
    *site = *owned;
    return OM_OK;
}

/* The per-site table on stdout. */
static void print_site(const char *path, const struct om_review_result *res)
{
    char a[40], mu[40];
    cli_fmt_num(a, sizeof a, res->planar_m2, 2);
    cli_fmt_num(mu, sizeof mu, res->planar_m2 * MU_PER_M2, 4);
    if (cli_zh) {
        printf("%s:%zu 个地块,%s 平方米(%s 亩),审查结论:%s", path,
               res->nparcels, a, mu, decision_text(res->decision));
        if (res->run_id) {
            printf("(审查记录 %lld)", (long long)res->run_id);
        }
    } else {
        printf("%s: %zu parcel%s, %s m² (%s mu), decision: %s", path,
               res->nparcels, res->nparcels == 1 ? "" : "s", a, mu,
               decision_text(res->decision));
        if (res->run_id) {
            printf(" (review record run %lld)", (long long)res->run_id);
        }
    }
    printf("\n");
    struct cli_table t;
    cli_table_init(&t, 8);
    const char *head[] = {T("check", "检查项"),
                          T("kind", "类型"),
                          T("layer", "图层"),
                          T("area_m2", "面积(平方米)"),
                          T("area_ell_m2", "椭球面积(平方米)"),
                          T("area_mu", "面积(亩)"),
                          T("decision", "结论"),
                          T("note", "备注")};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 3);
    cli_table_numeric(&t, 4);
    cli_table_numeric(&t, 5);
    for (size_t i = 0; i < res->ntotals; i++) {
        const struct om_review_finding *f = &res->totals[i];
        char e[40];
        cli_fmt_num(a, sizeof a, f->planar_m2, 2);
        cli_fmt_num(e, sizeof e, f->ellipsoidal_m2, 2);
        cli_fmt_num(mu, sizeof mu, f->planar_m2 * MU_PER_M2, 4);
        const char *row[] = {f->check_id,
                             kind_text(f->kind),
                             f->layer ? f->layer : "",
                             f->missing ? "-" : a,
                             f->missing ? "-" : e,
                             f->missing ? "-" : mu,
                             decision_text(f->decision),
                             finding_note(f)};
        cli_table_add(&t, row);
    }
    cli_table_print(&t, stdout, CLI_TABLE);
    cli_table_free(&t);
    if (res->nparcels > 1) {
        cli_table_init(&t, 6);
        const char *ph[] = {
            T("parcel", "地块"),          T("code", "地块编号"),
            T("area_m2", "面积(平方米)"), T("area_mu", "面积(亩)"),
            T("decision", "结论"),        T("not passed", "未通过的检查项")};
        cli_table_add(&t, ph);
        cli_table_numeric(&t, 0);
        cli_table_numeric(&t, 2);
        cli_table_numeric(&t, 3);
        for (size_t i = 0; i < res->nparcels; i++) {
            const struct om_review_parcel *pa = &res->parcels[i];
            char num[24], ids[512];
            size_t len = 0;
            ids[0] = '\0';
            for (size_t k = 0; k < pa->nfindings; k++) {
                const struct om_review_finding *f = &pa->findings[k];
                if (f->decision == OM_DECISION_PASS) {
                    continue;
                }
                int w = snprintf(ids + len, sizeof ids - len, "%s%s",
                                 len ? " " : "", f->check_id);
                if (w < 0 || (size_t)w >= sizeof ids - len) {
                    ids[len] = '\0';
                    break;
                }
                len += (size_t)w;
            }
            snprintf(num, sizeof num, "%zu", i + 1);
            cli_fmt_num(a, sizeof a, pa->planar_m2, 2);
            cli_fmt_num(mu, sizeof mu, pa->planar_m2 * MU_PER_M2, 4);
            const char *row[] = {num, pa->code ? pa->code : "",    a,
                                 mu,  decision_text(pa->decision), ids};
            cli_table_add(&t, row);
        }
        cli_table_print(&t, stdout, CLI_TABLE);
        cli_table_free(&t);
    }
    for (size_t i = 0; i < res->ntotals; i++) {
        const struct om_review_finding *f = &res->totals[i];
        const char *why = T(f->reason_en, f->reason_zh);
        if (f->decision != OM_DECISION_PASS && why && why[0]) {
            printf("  %s\n", why);
        }
    }
    printf("\n");
}

/* One CSV row of a finding; `parcel` is NULL for the site totals. */
static void csv_finding(FILE *f, const char *site,
                        const struct om_review_parcel *pa, size_t index,
                        const struct om_review_finding *fi)
{
    char num[32], buf[64];
    cli_csv_field(f, site);
    fputc(',', f);
    if (pa) {
        snprintf(num, sizeof num, "%zu", index + 1);
        fputs(num, f);
    } else {
        fputs("TOTAL", f);
    }
    fputc(',', f);
    cli_csv_field(f, pa && pa->code ? pa->code : "");
    fputc(',', f);
    cli_csv_field(f, pa && pa->name ? pa->name : "");
    fputc(',', f);
    cli_csv_field(f, pa && pa->use ? pa->use : "");
    fputc(',', f);
    cli_csv_field(f, fi->check_id);
    fprintf(f, ",%s,", om_check_kind_name(fi->kind));
    cli_csv_field(f, fi->layer ? fi->layer : "");
    fprintf(f, ",%d,%s,%s,", fi->layer_version, finding_status(fi),
            om_decision_name(fi->decision));
    cli_fmt_num(buf, sizeof buf, fi->planar_m2, 6);
    fprintf(f, "%s,", buf);
    cli_fmt_num(buf, sizeof buf, fi->ellipsoidal_m2, 6);
    fprintf(f, "%s,", buf);
    cli_fmt_num(buf, sizeof buf, fi->planar_m2 / 10000.0, 8);
    fprintf(f, "%s,", buf);
    cli_fmt_num(buf, sizeof buf, fi->planar_m2 * MU_PER_M2, 6);
    fprintf(f, "%s,", buf);
    cli_fmt_num(buf, sizeof buf, fi->share, 6);
    fprintf(f, "%s,", buf);
    struct sbuf cls = {0};
    for (size_t k = 0; k < fi->nclasses; k++) {
        const struct om_review_class *c = &fi->classes[k];
        if (k) {
            sb_puts(&cls, ";");
        }
        sb_puts(&cls, c->value && c->value[0] ? c->value : "-");
        cli_fmt_num(buf, sizeof buf, c->planar_m2, 2);
        sb_puts(&cls, "=");
        sb_puts(&cls, buf);
    }
    cli_csv_field(f, sb_str(&cls));
    free(cls.s);
    fputc(',', f);
    cli_csv_field(f, fi->reason_zh ? fi->reason_zh : "");
    fputc(',', f);
    cli_csv_field(f, fi->reason_en ? fi->reason_en : "");
    fputc('\n', f);
}

/* One row per (parcel, check), then the site totals (parcel TOTAL). */
static int write_csv(const char *path, const char *site,
                     const struct om_review_result *res)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return cli_fail("%s: %s", path, T("cannot write", "无法写入"));
    }
    fputs("site,parcel,parcel_code,parcel_name,use,check_id,kind,layer,"
          "layer_version,status,decision,area_m2,area_ell_m2,area_ha,"
          "area_mu,share,classes,reason_zh,reason_en\n",
          f);
    for (size_t i = 0; i < res->nparcels; i++) {
        const struct om_review_parcel *pa = &res->parcels[i];
        for (size_t k = 0; k < pa->nfindings; k++) {
            csv_finding(f, site, pa, i, &pa->findings[k]);
        }
    }
    for (size_t k = 0; k < res->ntotals; k++) {
        csv_finding(f, site, NULL, 0, &res->totals[k]);
    }
    if (ferror(f) | (fclose(f) != 0)) {
        remove(path);
        return cli_fail("%s: %s", path, T("write failed", "写入失败"));
    }
    return CLI_OK;
}

static int write_json(const char *path, const struct om_review *r,
                      const struct om_review_result *res)
{
    struct om_error err;
    om_error_clear(&err);
    char *s = NULL;
    size_t len = 0;
    if (om_review_result_json(r, res, &s, &len, &err) != OM_OK) {
        return cli_report(&err);
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        om_review_free_string(s);
        return cli_fail("%s: %s", path, T("cannot write", "无法写入"));
    }
    size_t w = fwrite(s, 1, len, f);
    if (len == 0 || s[len - 1] != '\n') {
        fputc('\n', f);
    }
    om_review_free_string(s);
    bool bad = w != len || ferror(f);
    if ((fclose(f) != 0) | bad) {
        remove(path);
        return cli_fail("%s: %s", path, T("write failed", "写入失败"));
    }
    return CLI_OK;
}

static int write_html(const char *path, const struct check_ctx *c,
                      const char *site_path, const struct om_bbtxt *txt,
                      const struct om_review_result *res)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_review_report_info info;
    memset(&info, 0, sizeof info);
    info.title = c->title;
    info.source = site_path;
    info.applicant = c->applicant;
    info.txt = txt;
    FILE *f = fopen(path, "w");
    if (!f) {
        return cli_fail("%s: %s", path, T("cannot write", "无法写入"));
    }
    enum om_status st = om_review_report_html(c->r, res, &info, f, &err);
    if (st != OM_OK) {
        fclose(f);
        remove(path);
        return cli_report(&err);
    }
    if (ferror(f) | (fclose(f) != 0)) {
        remove(path);
        return cli_fail("%s: %s", path, T("write failed", "写入失败"));
    }
    return CLI_OK;
}

static void set_row_error(struct site_row *row, const struct om_error *err)
{
    om_error_format(err, row->error, sizeof row->error);
}

/* Check one site; fills `row`. Returns false when it could not be checked
 * or an output could not be written (the error is printed). */
static bool check_site(const struct check_ctx *c, struct site_row *row)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_bbtxt *txt = NULL;
    struct om_layer *owned = NULL;
    const struct om_layer *site = NULL;
    struct om_review_result *res = NULL;
    bool ok = false;
    if (read_site(c, row->path, &txt, &owned, &site, &err) != OM_OK) {
        goto fail;
    }
    struct om_review_site_options so;
    memset(&so, 0, sizeof so);
    so.use = c->use;
    so.source = row->path;
    if (om_review_check(c->r, site, &so, &res, &err) != OM_OK) {
        goto fail;
    }
    row->checked = true;
    row->decision = res->decision;
    row->nparcels = res->nparcels;
    row->planar_m2 = res->planar_m2;
    row->ellipsoidal_m2 = res->ellipsoidal_m2;
    failing_checks(res, row->failing, sizeof row->failing);
    ok = true;
    if (c->store) {
        if (om_review_store(c->r, c->p, res, &err) != OM_OK) {
            cli_report(&err);
            set_row_error(row, &err);
            ok = false;
        }
        row->run_id = res->run_id;
    }
    if (c->f_table) {
        cli_progress_end();
        print_site(row->path, res);
    }
    char prefix[4096], path[4200];
    if (c->outdir) {
        snprintf(prefix, sizeof prefix, "%s/%s", c->outdir, row->stem);
    } else {
        snprintf(prefix, sizeof prefix, "check-%s", row->stem);
    }
    struct sbuf wrote = {0};
    static const char *exts[] = {"html", "json", "csv"};
    const bool want[] = {c->f_html, c->f_json, c->f_csv};
    for (size_t k = 0; k < 3; k++) {
        if (!want[k]) {
            continue;
        }
        snprintf(path, sizeof path, "%s.%s", prefix, exts[k]);
        int rc = k == 0   ? write_html(path, c, row->path, txt, res)
                 : k == 1 ? write_json(path, c->r, res)
                          : write_csv(path, row->path, res);
        if (rc != CLI_OK) {
            snprintf(row->error, sizeof row->error, "%.600s: %s", path,
                     T("could not write the output", "输出写入失败"));
            ok = false;
            continue;
        }
        row->has_html |= k == 0;
        sb_puts(&wrote, wrote.len ? ", " : "");
        sb_puts(&wrote, path);
    }
    if (wrote.len) {
        cli_progress_end();
        printf("%s %s\n", T("wrote", "已写入"), wrote.s);
    }
    free(wrote.s);
    om_review_result_free(res);
    om_layer_free(owned);
    om_bbtxt_free(txt);
    return ok;
fail:
    cli_progress_end();
    cli_report(&err);
    set_row_error(row, &err);
    om_review_result_free(res);
    om_layer_free(owned);
    om_bbtxt_free(txt);
    return false;
}

/* ---- the batch summary ---- */

static const char *row_decision(const struct site_row *s, bool machine)
{
    if (!s->checked) {
        return machine ? "error" : T("error", "错误");
    }
    return machine ? om_decision_name(s->decision) : decision_text(s->decision);
}

static void print_summary(const struct site_row *rows, size_t n)
{
    struct cli_table t;
    cli_table_init(&t, 7);
    const char *head[] = {T("site", "用地范围"),
                          T("parcels", "地块数"),
                          T("area_m2", "面积(平方米)"),
                          T("area_mu", "面积(亩)"),
                          T("decision", "结论"),
                          T("not passed / error", "未通过的检查项 / 错误"),
                          T("run", "记录")};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 1);
    cli_table_numeric(&t, 2);
    cli_table_numeric(&t, 3);
    cli_table_numeric(&t, 6);
    for (size_t i = 0; i < n; i++) {
        const struct site_row *s = &rows[i];
        char np[24] = "-", a[40] = "-", mu[40] = "-", run[24] = "-";
        if (s->checked) {
            snprintf(np, sizeof np, "%zu", s->nparcels);
            cli_fmt_num(a, sizeof a, s->planar_m2, 2);
            cli_fmt_num(mu, sizeof mu, s->planar_m2 * MU_PER_M2, 4);
        }
        if (s->run_id) {
            snprintf(run, sizeof run, "%lld", (long long)s->run_id);
        }
        const char *row[] = {s->path,
                             np,
                             a,
                             mu,
                             row_decision(s, false),
                             s->error[0] ? s->error : s->failing,
                             run};
        cli_table_add(&t, row);
    }
    printf("%s\n", T("Summary", "汇总"));
    cli_table_print(&t, stdout, CLI_TABLE);
    cli_table_free(&t);
}

static int write_summary_csv(const char *path, const struct site_row *rows,
                             size_t n, bool html)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        return cli_fail("%s: %s", path, T("cannot write", "无法写入"));
    }
    fputs("site,source,parcels,area_m2,area_ell_m2,area_mu,decision,"
          "failing_checks,run_id,report,error\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const struct site_row *s = &rows[i];
        char buf[64];
        cli_csv_field(f, s->stem);
        fputc(',', f);
        cli_csv_field(f, s->path);
        if (s->checked) {
            fprintf(f, ",%zu,", s->nparcels);
            cli_fmt_num(buf, sizeof buf, s->planar_m2, 6);
            fprintf(f, "%s,", buf);
            cli_fmt_num(buf, sizeof buf, s->ellipsoidal_m2, 6);
            fprintf(f, "%s,", buf);
            cli_fmt_num(buf, sizeof buf, s->planar_m2 * MU_PER_M2, 6);
            fprintf(f, "%s,", buf);
        } else {
            fputs(",,,,,", f);
        }
        fputs(row_decision(s, true), f);
        fputc(',', f);
        cli_csv_field(f, s->failing);
        fputc(',', f);
        if (s->run_id) {
            fprintf(f, "%lld", (long long)s->run_id);
        }
        fputc(',', f);
        if (html && s->has_html) {
            char name[sizeof s->stem + 8];
            snprintf(name, sizeof name, "%s.html", s->stem);
            cli_csv_field(f, name);
        }
        fputc(',', f);
        cli_csv_field(f, s->error);
        fputc('\n', f);
    }
    if (ferror(f) | (fclose(f) != 0)) {
        remove(path);
        return cli_fail("%s: %s", path, T("write failed", "写入失败"));
    }
    return CLI_OK;
}

/* `s` escaped for an href attribute: percent-encoded where URLs need it,
 * then safe in a double-quoted attribute. */
static void href_escape(struct sbuf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || strchr("\"#%&'<>?\\`^{|}", *p)) {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            sb_add(b, e, 3);
        } else {
            sb_add(b, (const char *)p, 1);
        }
    }
}

static void text_escape(struct sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

/*
 * summary.html: an om_html table, one row per site, the site cell linking
 * to its report. om_html escapes every cell, so the site cells hold
 * placeholder tokens that are replaced by the links afterwards.
 */
static int write_summary_html(const char *path, const char *project,
                              const struct om_review *r,
                              const struct site_row *rows, size_t n)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_html *h = NULL;
    char *doc = NULL;
    int rc = CLI_FAIL;
    enum { NC = 8 };
    const char **cells = xcalloc(n * NC, sizeof *cells);
    char(*tok)[48] = xcalloc(n, sizeof *tok);
    char(*nums)[4][48] = xcalloc(n, sizeof *nums);
    size_t counts[3] = {0, 0, 0}, nerr = 0;
    for (size_t i = 0; i < n; i++) {
        const struct site_row *s = &rows[i];
        snprintf(tok[i], sizeof tok[i], "@@onemap-site-%zu@@", i);
        cells[NC * i + 0] = s->has_html ? tok[i] : s->stem;
        if (s->checked) {
            snprintf(nums[i][0], sizeof nums[i][0], "%zu", s->nparcels);
            cli_fmt_num(nums[i][1], sizeof nums[i][1], s->planar_m2, 2);
            cli_fmt_num(nums[i][2], sizeof nums[i][2], s->planar_m2 / 1e4, 4);
            cli_fmt_num(nums[i][3], sizeof nums[i][3], s->planar_m2 * MU_PER_M2,
                        4);
            counts[s->decision <= 2 ? s->decision : 2]++;
        } else {
            nerr++;
        }
        cells[NC * i + 1] = s->checked ? nums[i][0] : "";
        cells[NC * i + 2] = s->checked ? nums[i][1] : "";
        cells[NC * i + 3] = s->checked ? nums[i][2] : "";
        cells[NC * i + 4] = s->checked ? nums[i][3] : "";
        cells[NC * i + 5] = !s->checked                       ? "错误 / error"
                            : s->decision == OM_DECISION_PASS ? "通过 / pass"
                            : s->decision == OM_DECISION_CONDITIONAL
                                ? "有条件通过 / conditional"
                                : "不通过 / fail";
        cells[NC * i + 6] = s->failing;
        cells[NC * i + 7] = s->error;
    }
    const char *head[NC] = {"用地范围 / site",
                            "地块数 / parcels",
                            "面积 / area (m²)",
                            "面积 / area (公顷 ha)",
                            "面积 / area (亩 mu)",
                            "结论 / decision",
                            "未通过的检查项 / checks not passed",
                            "错误 / error"};
    const struct om_check_profile *prof = om_review_profile(r);
    char nsites[32], tally[160];
    snprintf(nsites, sizeof nsites, "%zu", n);
    snprintf(tally, sizeof tally,
             "通过 pass %zu · 有条件通过 conditional %zu · 不通过 fail %zu · "
             "错误 error %zu",
             counts[0], counts[1], counts[2], nerr);
    char profile[400];
    snprintf(profile, sizeof profile, "%s (%s / %s)", prof->name, prof->zh,
             prof->en);
    const char *keys[] = {"项目 / project",     "审查方案 / profile",
                          "规则 / rules",       "规则文件 SHA-256",
                          "用地范围数 / sites", "结论 / decisions"};
    const char *vals[] = {
        project, profile, om_review_rules_source(r), om_review_rules_sha256(r),
        nsites,  tally};
    if (om_html_new("建设项目合规性审查汇总", "Compliance review summary", &h,
                    &err) != OM_OK ||
        om_html_kv(h, keys, vals, 6, &err) != OM_OK ||
        om_html_h2(h, "审查结果", "Results", &err) != OM_OK ||
        om_html_table(h, head, NC, cells, n, 0x1eu, NULL, &err) != OM_OK ||
        om_html_note(h,
                     "面积为项目坐标系下的平面面积;椭球面积见各报告。 / Areas "
                     "are planar (project CRS); ellipsoidal areas are in each "
                     "report.",
                     &err) != OM_OK ||
        om_html_string(h, &doc, NULL, &err) != OM_OK) {
        cli_report(&err);
        goto done;
    }
    struct sbuf out = {0};
    const char *p = doc;
    while (*p) {
        const char *at = strstr(p, "@@onemap-site-");
        if (!at) {
            sb_puts(&out, p);
            break;
        }
        sb_add(&out, p, (size_t)(at - p));
        char *end = NULL;
        unsigned long long k = strtoull(at + 14, &end, 10);
        if (end && strncmp(end, "@@", 2) == 0 && k < n) {
            sb_puts(&out, "<a href=\"");
            struct sbuf name = {0};
            sb_puts(&name, rows[k].stem);
            sb_puts(&name, ".html");
            href_escape(&out, name.s);
            free(name.s);
            sb_puts(&out, "\">");
            text_escape(&out, rows[k].stem);
            sb_puts(&out, "</a>");
            p = end + 2;
        } else {
            sb_add(&out, at, 1);
            p = at + 1;
        }
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        free(out.s);
        cli_fail("%s: %s", path, T("cannot write", "无法写入"));
        goto done;
    }
    fwrite(sb_str(&out), 1, out.len, f);
    free(out.s);
    if (ferror(f) | (fclose(f) != 0)) {
        remove(path);
        cli_fail("%s: %s", path, T("write failed", "写入失败"));
        goto done;
    }
    rc = CLI_OK;
done:
    om_report_free_string(doc);
    om_html_free(h);
    free(cells);
    free(tok);
    free(nums);
    return rc;
}

/* ---- rules and profile ---- */

/* Rules with the profile `name`: --rules FILE, or the built-in set (also
 * when FILE has no profiles: section). Unknown profile: error listing
 * them. */
static enum om_status load_rules(const char *path, const char *name,
                                 struct om_rules **out, struct om_error *err)
{
    struct om_rules *rules = NULL;
    enum om_status st =
        path ? om_rules_load(path, &rules, err) : om_rules_default(&rules, err);
    if (st != OM_OK) {
        return st;
    }
    if (path && rules->nprofiles == 0) {
        cli_note("%s: %s", path,
                 T("no profiles: section; using the built-in review profiles",
                   "无 profiles: 节,使用内置审查方案"));
        om_rules_free(rules);
        rules = NULL;
        st = om_rules_default(&rules, err);
        if (st != OM_OK) {
            return st;
        }
    }
    if (om_rules_profile(rules, name)) {
        *out = rules;
        return OM_OK;
    }
    om_error_clear(err);
    err->status = OM_ENOTFOUND;
    snprintf(err->source, sizeof err->source, "%s", rules->source);
    size_t len =
        (size_t)snprintf(err->msg, sizeof err->msg,
                         "%s '%s'; %s:", T("no review profile", "没有审查方案"),
                         name, T("the profiles are", "可用的方案"));
    if (rules->nprofiles == 0) {
        snprintf(err->msg + len, sizeof err->msg - len, " %s",
                 T("(none)", "(无)"));
    }
    for (size_t i = 0; i < rules->nprofiles && len < sizeof err->msg; i++) {
        const struct om_check_profile *pr = &rules->profiles[i];
        int w = snprintf(err->msg + len, sizeof err->msg - len, "%s %s (%s)",
                         i ? "," : "", pr->name, T(pr->en, pr->zh));
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    om_rules_free(rules);
    return OM_ENOTFOUND;
}

/* ---- reproducing a stored review (--rerun N) ---- */

/* Exit status of --rerun: 0 identical, 1 different, 3 cannot rerun. */
static int rerun_run(struct check_ctx *c, long run_id, const char *rules_path,
                     bool current)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_review_record *rec = NULL;
    struct om_rules *rules = NULL;
    struct om_review *r = NULL;
    struct om_review_result *res = NULL;
    char *diff = NULL;
    size_t ndiffs = 0;
    int rc = CHECK_ERROR;
    if (om_project_open(c->project, true, &c->p, &err) != OM_OK ||
        om_review_record_read(c->p, run_id, &rec, &err) != OM_OK ||
        load_rules(rules_path, rec->profile, &rules, &err) != OM_OK) {
        cli_report(&err);
        goto done;
    }
    const struct om_progress *prog = cli_progress();
    enum om_status st =
        om_review_rerun(c->p, rec, rules, current, &r, &res, prog, &err);
    cli_progress_end();
    if (st == OM_OK) {
        st = om_review_compare(rec, r, res, &diff, &ndiffs, &err);
    }
    if (st != OM_OK) {
        cli_report(&err);
        goto done;
    }
    c->r = r;
    const char *src = rec->source ? rec->source : "-";
    printf("%s %ld (%s): %s %s, %s %s, %s %s\n", T("run", "审查记录"), run_id,
           rec->started_at, T("profile", "审查方案"), rec->profile,
           T("site", "用地范围"), src, T("rules", "规则"),
           rec->rules_source ? rec->rules_source : "-");
    printf("%s:", current ? T("current layers", "现行图层")
                          : T("layers of the run", "原审查所用图层"));
    for (size_t i = 0; i < om_review_nlayers(r); i++) {
        const struct om_review_layer *l = om_review_layer_at(r, i);
        printf(" %s v%d", l->code, l->version);
    }
    printf("\n");
    if (c->f_table) {
        print_site(src, res);
    }
    if (ndiffs == 0) {
        printf("%s\n",
               current ? T("unchanged since the run: same decisions "
                           "and areas",
                           "与原审查相比无变化:结论与面积相同")
                       : T("reproduced: identical", "复核:结论与面积完全一致"));
        rc = CLI_OK;
    } else {
        printf("%s (%zu):\n",
               current ? T("changed since the run", "与原审查相比有变化")
                       : T("reproduced: DIFFERENT", "复核:与原审查结果不一致"),
               ndiffs);
        for (const char *q = diff; *q;) {
            const char *e = strchr(q, '\n');
            size_t len = e ? (size_t)(e - q) : strlen(q);
            printf("  %.*s\n", (int)len, q);
            q += len + (e ? 1 : 0);
        }
        rc = CLI_FAIL;
    }
    char prefix[4096], path[4200];
    snprintf(prefix, sizeof prefix, "%s%srerun-%ld%s",
             c->outdir ? c->outdir : "", c->outdir ? "/" : "", run_id,
             current ? "-current" : "");
    static const char *exts[] = {"html", "json", "csv"};
    const bool want[] = {c->f_html, c->f_json, c->f_csv};
    for (size_t k = 0; k < 3; k++) {
        if (!want[k]) {
            continue;
        }
        snprintf(path, sizeof path, "%s.%s", prefix, exts[k]);
        int w = k == 0   ? write_html(path, c, src, NULL, res)
                : k == 1 ? write_json(path, r, res)
                         : write_csv(path, src, res);
        if (w != CLI_OK) {
            rc = CHECK_ERROR;
        } else {
            printf("%s %s\n", T("wrote", "已写入"), path);
        }
    }
done:
    om_review_free_string(diff);
    om_review_result_free(res);
    om_review_free(r);
    om_rules_free(rules);
    om_review_record_free(rec);
    om_project_close(c->p);
    c->p = NULL;
    return rc;
}

/* ---- the command ---- */

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"profile", required_argument, 0, 'P'},
        {"rules", required_argument, 0, 'r'},
        {"use", required_argument, 0, 'U'},
        {"format", required_argument, 0, 'f'},
        {"no-store", no_argument, 0, 'N'},
        {"src-crs", required_argument, 0, 's'},
        {"layer", required_argument, 0, 'l'},
        {"encoding", required_argument, 0, 'e'},
        {"zone", required_argument, 0, 'z'},
        {"title", required_argument, 0, 't'},
        {"applicant", required_argument, 0, 'a'},
        {"lang", required_argument, 0, 'L'},
        {"rerun", required_argument, 0, 'R'},
        {"against-current", no_argument, 0, 'C'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *rules_path = NULL, *profile = "default", *formats = NULL;
    struct check_ctx c;
    memset(&c, 0, sizeof c);
    c.store = true;
    long zone = 0, rerun_id = 0;
    bool against_current = false, has_profile = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
        switch (opt) {
        case 'P':
            profile = optarg;
            has_profile = true;
            break;
        case 'R':
            if (!cli_parse_int(optarg, 1, 2000000000L, &rerun_id)) {
                return cli_usage("check", "%s",
                                 T("--rerun needs a run id (1, 2, ...)",
                                   "--rerun 须为审查记录编号(1、2……)"));
            }
            break;
        case 'C':
            against_current = true;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 'U':
            c.use = optarg;
            break;
        case 'f':
            formats = optarg;
            break;
        case 'o':
            c.outdir = optarg;
            break;
        case 'N':
            c.store = false;
            break;
        case 's':
            c.ro.src_crs = optarg;
            break;
        case 'l':
            c.ro.layer = optarg;
            break;
        case 'e':
            c.ro.encoding = optarg;
            break;
        case 'z':
            if (!cli_parse_int(optarg, 25, 45, &zone)) {
                return cli_usage(
                    "check", "%s",
                    T("--zone must be 25..45", "--zone 须为 25..45"));
            }
            break;
        case 't':
            c.title = optarg;
            break;
        case 'a':
            c.applicant = optarg;
            break;
        case 'L':
            cli_zh = strncmp(optarg, "zh", 2) == 0;
            break;
        case 'q':
            cli_quiet = true;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("check", "%s", T("bad option", "选项错误"));
        }
    }
    if (against_current && !rerun_id) {
        return cli_usage("check", "%s",
                         T("--against-current needs --rerun N",
                           "--against-current 须与 --rerun N 同用"));
    }
    if (rerun_id) {
        if (optind + 1 != argc || has_profile || c.use) {
            return cli_usage(
                "check", "%s",
                T("--rerun N takes only the project (the site, profile and "
                  "use are the run's; nothing is stored)",
                  "--rerun N 只需项目路径(用地范围、方案与用途取自原审查;"
                  "不写入项目)"));
        }
        if (!formats) {
            formats = c.outdir ? "html,json,csv" : "";
        }
    }
    if (!rerun_id && optind + 2 > argc) {
        return cli_usage("check", "%s",
                         T("expected a project and at least one site",
                           "需要项目路径和至少一个用地范围文件"));
    }
    if (!formats) {
        formats = c.outdir ? "table,html,json,csv" : "table";
    }
    static const char *known[] = {"table", "html", "json", "csv"};
    for (const char *p = formats; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;
        for (size_t k = 0; k < 4; k++) {
            ok |= strlen(known[k]) == len && strncmp(p, known[k], len) == 0;
        }
        if (!ok) {
            return cli_usage("check", "%s '%.*s' (table, html, json, csv)",
                             T("unknown format", "未知格式"), (int)len, p);
        }
        p = e ? e + 1 : p + len;
    }
    c.f_table = cli_in_list(formats, "table");
    c.f_html = cli_in_list(formats, "html");
    c.f_json = cli_in_list(formats, "json");
    c.f_csv = cli_in_list(formats, "csv");
    c.zone = (int)zone;
    c.project = argv[optind];
    if (rerun_id) {
        if (c.outdir && cli_mkdirs(c.outdir) != 0) {
            cli_fail("%s: %s", c.outdir,
                     T("cannot create folder", "无法创建目录"));
            return CHECK_ERROR;
        }
        return rerun_run(&c, rerun_id, rules_path, against_current);
    }
    size_t nsites = (size_t)(argc - optind - 1);
    char **sites = argv + optind + 1;
    c.batch = nsites > 1;
    if (c.outdir && cli_mkdirs(c.outdir) != 0) {
        cli_fail("%s: %s", c.outdir, T("cannot create folder", "无法创建目录"));
        return CHECK_ERROR;
    }

    struct om_error err;
    om_error_clear(&err);
    struct om_rules *rules = NULL;
    if (load_rules(rules_path, profile, &rules, &err) != OM_OK) {
        cli_report(&err);
        return CHECK_ERROR;
    }
    if (om_project_open(c.project, !c.store, &c.p, &err) != OM_OK) {
        om_rules_free(rules);
        cli_report(&err);
        return CHECK_ERROR;
    }
    struct om_review *r = NULL;
    const struct om_progress *prog = cli_progress();
    enum om_status st = om_review_open(c.p, rules, profile, &r, prog, &err);
    cli_progress_end();
    om_rules_free(rules);
    if (st != OM_OK) {
        om_project_close(c.p);
        cli_report(&err);
        return CHECK_ERROR;
    }
    c.r = r;
    c.quiet.cancel = prog->cancel;

    struct site_row *rows = xcalloc(nsites, sizeof *rows);
    for (size_t i = 0; i < nsites; i++) {
        rows[i].path = sites[i];
        char stem[sizeof rows[i].stem];
        file_stem(sites[i], stem, sizeof stem - 8);
        /* unique output names: a second "a.txt" (other folder) or a site
         * called "summary" gets "-2", "-3", ... */
        snprintf(rows[i].stem, sizeof rows[i].stem, "%s", stem);
        for (int k = 2;; k++) {
            bool clash = strcmp(rows[i].stem, "summary") == 0;
            for (size_t j = 0; j < i && !clash; j++) {
                clash = strcmp(rows[i].stem, rows[j].stem) == 0;
            }
            if (!clash) {
                break;
            }
            snprintf(rows[i].stem, sizeof rows[i].stem, "%.180s-%d", stem, k);
        }
    }
    size_t nerrors = 0, nchecked = 0;
    enum om_decision worst = OM_DECISION_PASS;
    bool canceled = false;
    for (size_t i = 0; i < nsites; i++) {
        if (prog->cancel && __atomic_load_n(prog->cancel, __ATOMIC_RELAXED)) {
            canceled = true;
            break;
        }
        if (c.batch && prog->fn) {
            prog->fn(prog->ctx, "check", i, nsites);
        }
        if (!check_site(&c, &rows[i])) {
            nerrors++;
        }
        if (rows[i].checked) {
            nchecked++;
            if (rows[i].decision > worst) {
                worst = rows[i].decision;
            }
        }
    }
    if (c.batch && prog->fn && !canceled) {
        prog->fn(prog->ctx, "check", nsites, nsites);
    }
    cli_progress_end();
    int rc = CLI_OK;
    if (canceled) {
        cli_fail("%s", T("canceled", "已取消"));
        for (size_t i = 0; i < nsites; i++) {
            if (!rows[i].checked && !rows[i].error[0]) {
                snprintf(rows[i].error, sizeof rows[i].error, "%s",
                         T("not checked: canceled", "未审查:已取消"));
                nerrors++;
            }
        }
    }
    if (c.batch && c.f_table) {
        print_summary(rows, nsites);
    }
    if (c.outdir) {
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.csv", c.outdir);
        if (write_summary_csv(path, rows, nsites, c.f_html) != CLI_OK) {
            nerrors++;
        }
        snprintf(path, sizeof path, "%s/summary.html", c.outdir);
        if (write_summary_html(path, c.project, r, rows, nsites) != CLI_OK) {
            nerrors++;
        }
    }
    if (!cli_quiet) {
        fprintf(stderr, "onemap: %s %zu/%zu", T("checked", "已审查"), nchecked,
                nsites);
        if (nerrors) {
            fprintf(stderr, ", %zu %s", nerrors, T("error(s)", "个错误"));
        }
        fprintf(stderr, "; %s: %s\n", T("worst decision", "最严重结论"),
                nchecked ? decision_text(worst) : "-");
    }
    if (nerrors) {
        rc = CHECK_ERROR;
    } else if (worst != OM_DECISION_PASS) {
        rc = CLI_FAIL;
    }
    free(rows);
    om_review_free(r);
    om_project_close(c.p);
    return rc;
}
