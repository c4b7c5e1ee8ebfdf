/*
 * cmd_qc.c — `onemap qc PROJECT [options]`: data quality control (成果质检)
 * of the project's layers (onemap/qc.h), and `--repair` of what is safely
 * fixable into a new layer version.
 *
 * Checking prints, per layer, the score and the counts by check code, then
 * the first findings; stores the run (kind "qc") unless --no-store; writes
 * DIR/qc.html, qc.json, qc_errors.csv and qc_summary.csv with -o DIR.
 * Exit status: 0 no error-severity finding, 1 defects (error findings)
 * found, 2 usage error, 3 the project, rules or a layer could not be read,
 * or an output could not be written.
 *
 * Repair prints every change (fid, code, action, areas before / after) and
 * the layer's area before / after; writes DIR/repairs.csv with -o DIR.
 * Exit status: 0 repaired (or nothing to repair) and no error finding
 * left that repair cannot fix, 1 such findings remain (e.g. attributes),
 * 2 usage error, 3 the repair could not be done.
 */
#include "cli.h"
#include "onemap/qc.h"
#include "onemap/rules.h"
#include "onemap/store.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The project, rules or an output could not be handled. */
enum { QC_ERROR = 3 };

#define FIRST_ROWS 20 /* findings printed on stdout */

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap qc PROJECT.gpkg [--layer CODE]... [--rules FILE] "
          "[--only CODES]\n"
          "                 [--max N] [--format LIST] [-o DIR] [--no-store] "
          "[-j N] [--lang zh|en]\n"
          "       onemap qc PROJECT.gpkg --layer CODE --repair "
          "[--merge-slivers] [--dry-run]\n"
          "                 [--rules FILE] [-o DIR]",
          "用法: onemap qc 项目.gpkg [--layer 图层]... [--rules 规则文件] "
          "[--only 检查项]\n"
          "                [--max N] [--format 列表] [-o 目录] [--no-store] "
          "[-j N] [--lang zh|en]\n"
          "      onemap qc 项目.gpkg --layer 图层 --repair "
          "[--merge-slivers] [--dry-run]\n"
          "                [--rules 规则文件] [-o 目录]"),
        T("Quality control of the project's layers (成果质检): geometry "
          "(G001-G007),\ntopology of coverage layers (T001-T004), relations "
          "between layers\n(L001-L003), attributes against the rule file's "
          "qc: schemas (A001-A007)\nand the CRS (C001). Every finding cites "
          "its check code.\n"
          "  --layer CODE        check this layer (repeatable; default: "
          "every layer)\n"
          "  --rules FILE        rule file with a qc: section (default: the "
          "built-in rules);\n"
          "  --profile FILE      the same (a qc profile is a rule file)\n"
          "  --only CODES        run these checks only: codes or categories, "
          "comma-separated\n"
          "                      (G001,T001 or geometry,topology,layers,"
          "attributes,crs)\n"
          "  --max N             list at most N findings per layer and check "
          "(default 100000;\n"
          "                      the rest are counted)\n"
          "  --format LIST       table, html, csv, json (comma-separated); "
          "default table,\n"
          "                      or table,html,csv,json with -o\n"
          "  -o DIR              write DIR/qc.html, qc.json, qc_errors.csv, "
          "qc_summary.csv\n"
          "                      (default out/qc when a file format is "
          "asked)\n"
          "  --no-store          do not record the run in the project "
          "(opens it read-only)\n"
          "  -j N                threads (default: all cores)\n"
          "  --repair            repair the fixable findings (G001, G002, "
          "G007) of --layer\n"
          "                      into a new layer version; prints every "
          "change\n"
          "  --merge-slivers     with --repair: merge sliver features (T003) "
          "into the\n"
          "                      neighbour with the longest shared edge\n"
          "  --dry-run           with --repair: list the changes, write "
          "nothing\n"
          "Exit status: 0 no error found, 1 errors found (with --repair: "
          "errors remain\nthat repair cannot fix), 2 usage error, 3 could not "
          "run.",
          "项目图层成果质检:几何(G001-G007)、覆盖图层拓扑(T001-T004)、"
          "图层间关系\n(L001-L003)、按规则文件 qc: 属性结构检查属性"
          "(A001-A007)及坐标系(C001)。\n每个问题注明检查项编号。\n"
          "  --layer 图层        检查该图层(可重复;默认全部图层)\n"
          "  --rules 文件        含 qc: 部分的规则文件(默认内置规则);\n"
          "  --profile 文件      同上(质检方案即规则文件)\n"
          "  --only 检查项       只运行这些检查:编号或类别,逗号分隔\n"
          "                      (G001,T001 或 geometry,topology,layers,"
          "attributes,crs)\n"
          "  --max N             每个图层每个检查项最多列出 N 条(默认 "
          "100000;其余只计数)\n"
          "  --format 列表       table、html、csv、json,逗号分隔;默认 "
          "table,\n"
          "                      有 -o 时默认 table,html,csv,json\n"
          "  -o 目录             写出 目录/qc.html、qc.json、qc_errors.csv、"
          "qc_summary.csv\n"
          "                      (要求输出文件而未给 -o 时为 out/qc)\n"
          "  --no-store          不在项目库中记录本次质检(只读打开项目)\n"
          "  -j N                线程数(默认全部核心)\n"
          "  --repair            修复 --layer 图层中可修复的问题(G001、G002、"
          "G007),\n"
          "                      生成新版本图层;列出每处修改\n"
          "  --merge-slivers     与 --repair 同用:碎片图斑(T003)并入共边"
          "最长的相邻图斑\n"
          "  --dry-run           与 --repair 同用:只列出修改,不写入\n"
          "退出码:0 未发现错误,1 发现错误(--repair 时:仍有无法自动修复的"
          "错误),\n2 用法错误,3 无法运行。"));
}

/* ---- small helpers ---- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "onemap: %s\n", T("out of memory", "内存不足"));
        exit(QC_ERROR);
    }
    return p;
}

/* Print an error and give the "could not run" status. */
static int could_not(const struct om_error *err)
{
    cli_report(err);
    return QC_ERROR;
}

/* `v` with `dec` decimals, "" when not finite. */
static void fnum(char *buf, size_t size, double v, int dec)
{
    if (!isfinite(v)) {
        buf[0] = '\0';
        return;
    }
    cli_fmt_num(buf, size, v, dec);
}

static void ffid(char *buf, size_t size, int64_t fid)
{
    if (fid < 0) {
        buf[0] = '\0';
    } else {
        snprintf(buf, size, "%lld", (long long)fid);
    }
}

static const char *sev_text(enum om_severity s)
{
    if (!cli_zh) {
        return om_severity_name(s);
    }
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

static const char *msg_text(const struct om_qc_error *e)
{
    const char *m = T(e->en, e->zh);
    return m ? m : "";
}

/* Write `t` to DIR/name as CSV; false (reported) on failure. */
static bool write_csv(const struct cli_table *t, const char *dir,
                      const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_fail("%s: %s", path, T("cannot write", "无法写入"));
        return false;
    }
    cli_table_print(t, f, CLI_CSV);
    if (fclose(f) != 0) {
        cli_fail("%s: %s", path, T("write failed", "写入失败"));
        return false;
    }
    printf("%s %s\n", T("wrote", "已写入"), path);
    return true;
}

/* ---- tables of a result ---- */

/* Per layer: the counts by check code (for stdout). */
static void print_layers(const struct om_qc_result *res)
{
    for (size_t l = 0; l < res->nlayers; l++) {
        const struct om_qc_layer *ly = &res->layers[l];
        char score[32];
        cli_fmt_num(score, sizeof score, ly->score, 2);
        if (cli_zh) {
            printf("图层 %s v%d:得分 %s,要素 %zu 个,问题要素 %zu 个;"
                   "错误 %zu,警告 %zu,提示 %zu\n",
                   ly->code, ly->version, score, ly->nfeatures,
                   ly->nbad_features, ly->nerrors, ly->nwarnings, ly->ninfos);
        } else {
            printf("layer %s v%d: score %s, %zu features, %zu with errors; "
                   "%zu errors, %zu warnings, %zu infos\n",
                   ly->code, ly->version, score, ly->nfeatures,
                   ly->nbad_features, ly->nerrors, ly->nwarnings, ly->ninfos);
        }
        struct cli_table t;
        cli_table_init(&t, 6);
        const char *head[] = {"code",  "severity", "description",
                              "count", "listed",   "area_m2"};
        cli_table_add(&t, head);
        cli_table_numeric(&t, 3);
        cli_table_numeric(&t, 4);
        cli_table_numeric(&t, 5);
        for (size_t i = 0; i < res->ncounts; i++) {
            const struct om_qc_count *k = &res->counts[i];
            if (!k->layer || strcmp(k->layer, ly->code) != 0) {
                continue;
            }
            const struct om_qc_check *ck = om_qc_check_find(k->code);
            char cnt[32], lst[32], area[48];
            snprintf(cnt, sizeof cnt, "%zu", k->count);
            snprintf(lst, sizeof lst, "%zu", k->listed);
            fnum(area, sizeof area, k->area_m2, 2);
            const char *row[] = {k->code,
                                 ck ? sev_text(ck->severity) : "",
                                 ck ? T(ck->en, ck->zh) : "",
                                 cnt,
                                 lst,
                                 area};
            cli_table_add(&t, row);
        }
        if (t.nrows > 1) {
            cli_table_print(&t, stdout, CLI_TABLE);
        } else {
            printf("  %s\n", T("no findings", "未发现问题"));
        }
        cli_table_free(&t);
        printf("\n");
    }
}

/* Every listed finding (qc_errors.csv), or the first `max` (stdout). */
static void error_table(const struct om_qc_result *res, size_t max,
                        struct cli_table *t)
{
    cli_table_init(t, 11);
    const char *head[] = {"code", "severity", "layer", "fid",   "fid2",   "x",
                          "y",    "area_m2",  "value", "field", "message"};
    cli_table_add(t, head);
    for (size_t c = 3; c <= 8; c++) {
        cli_table_numeric(t, c);
    }
    for (size_t i = 0; i < res->nerrors && i < max; i++) {
        const struct om_qc_error *e = &res->errors[i];
        char fid[32], fid2[32], x[48], y[48], area[48], value[48];
        ffid(fid, sizeof fid, e->fid);
        ffid(fid2, sizeof fid2, e->fid2);
        fnum(x, sizeof x, e->x, 3);
        fnum(y, sizeof y, e->y, 3);
        fnum(area, sizeof area, e->area_m2, 6);
        fnum(value, sizeof value, e->value, 6);
        const char *row[] = {e->code,
                             om_severity_name(e->severity),
                             e->layer ? e->layer : "",
                             fid,
                             fid2,
                             x,
                             y,
                             area,
                             value,
                             e->field ? e->field : "",
                             msg_text(e)};
        cli_table_add(t, row);
    }
}

/* qc_summary.csv: one row per (layer, code), a layer without findings
 * one row with an empty code. */
static void summary_table(const struct om_qc_result *res, struct cli_table *t)
{
    cli_table_init(t, 12);
    const char *head[] = {"layer", "version", "features", "bad_features",
                          "score", "code",    "category", "severity",
                          "count", "listed",  "area_m2",  "description"};
    cli_table_add(t, head);
    static const size_t numeric[] = {1, 2, 3, 4, 8, 9, 10};
    for (size_t c = 0; c < sizeof numeric / sizeof numeric[0]; c++) {
        cli_table_numeric(t, numeric[c]);
    }
    for (size_t l = 0; l < res->nlayers; l++) {
        const struct om_qc_layer *ly = &res->layers[l];
        char ver[32], nf[32], nb[32], score[32];
        snprintf(ver, sizeof ver, "%d", ly->version);
        snprintf(nf, sizeof nf, "%zu", ly->nfeatures);
        snprintf(nb, sizeof nb, "%zu", ly->nbad_features);
        cli_fmt_num(score, sizeof score, ly->score, 2);
        bool any = false;
        for (size_t i = 0; i < res->ncounts; i++) {
            const struct om_qc_count *k = &res->counts[i];
            if (!k->layer || strcmp(k->layer, ly->code) != 0) {
                continue;
            }
            any = true;
            const struct om_qc_check *ck = om_qc_check_find(k->code);
            char cnt[32], lst[32], area[48];
            snprintf(cnt, sizeof cnt, "%zu", k->count);
            snprintf(lst, sizeof lst, "%zu", k->listed);
            fnum(area, sizeof area, k->area_m2, 6);
            const char *row[] = {ly->code,
                                 ver,
                                 nf,
                                 nb,
                                 score,
                                 k->code,
                                 ck ? ck->category : "",
                                 ck ? om_severity_name(ck->severity) : "",
                                 cnt,
                                 lst,
                                 area,
                                 ck ? T(ck->en, ck->zh) : ""};
            cli_table_add(t, row);
        }
        if (!any) {
            const char *row[] = {ly->code, ver, nf,  nb,  score, "",
                                 "",       "",  "0", "0", "",    ""};
            cli_table_add(t, row);
        }
    }
}

/* ---- outputs ---- */

static bool write_json(const struct om_qc_result *res, const char *dir)
{
    struct om_error err;
    om_error_clear(&err);
    char *s = NULL;
    size_t n = 0;
    if (om_qc_result_json(res, &s, &n, &err) != OM_OK) {
        cli_report(&err);
        return false;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/qc.json", dir);
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(s, 1, n, f) == n;
    ok = ok && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) {
        ok = false;
    }
    om_qc_free_string(s);
    if (!ok) {
        cli_fail("%s: %s", path, T("cannot write", "无法写入"));
        return false;
    }
    printf("%s %s\n", T("wrote", "已写入"), path);
    return true;
}

static bool write_html(struct om_project *p, const struct om_qc_result *res,
                       const struct om_rules *rules, const char *dir)
{
    struct om_error err;
    om_error_clear(&err);
    char path[4096];
    snprintf(path, sizeof path, "%s/qc.html", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_fail("%s: %s", path, T("cannot write", "无法写入"));
        return false;
    }
    enum om_status st = om_qc_report_html(p, res, rules, f, &err);
    if (fclose(f) != 0 && st == OM_OK) {
        cli_fail("%s: %s", path, T("write failed", "写入失败"));
        return false;
    }
    if (st != OM_OK) {
        cli_report(&err);
        return false;
    }
    printf("%s %s\n", T("wrote", "已写入"), path);
    return true;
}

/* ---- repair ---- */

static int run_repair(struct om_project *p, const char *code,
                      const struct om_rules *rules, bool merge, bool dry_run,
                      int threads, const char *outdir)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_qc_repair_options o;
    memset(&o, 0, sizeof o);
    o.rules = rules;
    o.merge_slivers = merge;
    o.dry_run = dry_run;
    o.threads = threads;
    struct om_qc_repair_result *r = NULL;
    enum om_status st = om_qc_repair(p, code, &o, &r, cli_progress(), &err);
    cli_progress_end();
    if (st != OM_OK) {
        return could_not(&err);
    }
    struct cli_table t;
    cli_table_init(&t, 6);
    const char *head[] = {"fid",         "code",       "action",
                          "area_before", "area_after", "merged_into"};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 0);
    cli_table_numeric(&t, 3);
    cli_table_numeric(&t, 4);
    cli_table_numeric(&t, 5);
    for (size_t i = 0; i < r->nchanges; i++) {
        const struct om_qc_change *ch = &r->changes[i];
        char fid[32], a0[48], a1[48], into[32];
        ffid(fid, sizeof fid, ch->fid);
        fnum(a0, sizeof a0, ch->area_before_m2, 6);
        fnum(a1, sizeof a1, ch->area_after_m2, 6);
        ffid(into, sizeof into, ch->merged_into);
        const char *row[] = {
            fid, ch->code ? ch->code : "", ch->action ? ch->action : "", a0, a1,
            into};
        cli_table_add(&t, row);
    }
    if (r->nchanges) {
        cli_table_print(&t, stdout, CLI_TABLE);
    } else {
        printf("%s\n", T("nothing to repair", "无需修复"));
    }
    char a0[48], a1[48], d[48];
    fnum(a0, sizeof a0, r->area_before_m2, 6);
    fnum(a1, sizeof a1, r->area_after_m2, 6);
    fnum(d, sizeof d, r->area_after_m2 - r->area_before_m2, 6);
    printf("%s %s: %zu %s; %s %s m2, %s %s m2, %s %s m2\n", T("layer", "图层"),
           r->layer ? r->layer : code, r->nchanges, T("changes", "处修改"),
           T("area before", "修复前面积"), a0, T("after", "修复后"), a1,
           T("change (gained + / lost -)", "变化(增加为正,减少为负)"), d);
    if (dry_run) {
        printf("%s\n", T("dry run: nothing written", "试运行:未写入任何内容"));
    } else if (r->version_to > 0) {
        printf("%s %s v%d -> v%d\n", T("new version", "新版本"),
               r->layer ? r->layer : code, r->version_from, r->version_to);
    } else {
        printf("%s\n",
               T("no new version (nothing changed)", "未生成新版本(无修改)"));
    }
    if (r->nremaining) {
        printf("%zu %s\n", r->nremaining,
               T("error findings remain that repair cannot fix (run onemap qc)",
                 "个错误无法自动修复(请运行 onemap qc 查看)"));
    }
    int rc = r->nremaining ? CLI_FAIL : CLI_OK;
    if (outdir && !dry_run) {
        if (cli_mkdirs(outdir) != 0) {
            cli_fail("%s: %s", outdir,
                     T("cannot create folder", "无法创建目录"));
            rc = QC_ERROR;
        } else if (!write_csv(&t, outdir, "repairs.csv")) {
            rc = QC_ERROR;
        }
    }
    cli_table_free(&t);
    om_qc_repair_result_free(r);
    return rc;
}

/* ---- the command ---- */

int cmd_qc(int argc, char **argv)
{
    static const struct option opts[] = {{"layer", required_argument, 0, 'l'},
                                         {"rules", required_argument, 0, 'r'},
                                         {"profile", required_argument, 0, 'r'},
                                         {"only", required_argument, 0, 'O'},
                                         {"max", required_argument, 0, 'm'},
                                         {"format", required_argument, 0, 'f'},
                                         {"no-store", no_argument, 0, 'N'},
                                         {"repair", no_argument, 0, 'R'},
                                         {"merge-slivers", no_argument, 0, 'M'},
                                         {"dry-run", no_argument, 0, 'D'},
                                         {"lang", required_argument, 0, 'L'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *rules_path = NULL, *formats = NULL, *outdir = NULL;
    const char *only_arg = NULL;
    const char **layers = xcalloc((size_t)argc, sizeof *layers);
    size_t nlayers = 0;
    long threads = 0, max = 0;
    bool store = true, repair = false, merge = false, dry_run = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:j:q", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            layers[nlayers++] = optarg;
            break;
        case 'r':
            rules_path = optarg;
            break;
        case 'O':
            only_arg = optarg;
            break;
        case 'm':
            if (!cli_parse_int(optarg, 1, 2000000000L, &max)) {
                free(layers);
                return cli_usage(
                    "qc", "%s",
                    T("--max must be a positive number", "--max 须为正整数"));
            }
            break;
        case 'f':
            formats = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 64, &threads)) {
                free(layers);
                return cli_usage("qc", "%s", T("bad -j", "-j 无效"));
            }
            break;
        case 'N':
            store = false;
            break;
        case 'R':
            repair = true;
            break;
        case 'M':
            merge = true;
            break;
        case 'D':
            dry_run = true;
            break;
        case 'L':
            cli_zh = strncmp(optarg, "zh", 2) == 0;
            break;
        case 'q':
            cli_quiet = true;
            break;
        case 'h':
            free(layers);
            help();
            return CLI_OK;
        default:
            free(layers);
            return cli_usage("qc", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 1 != argc) {
        free(layers);
        return cli_usage("qc", "%s",
                         T("expected one project path", "需要一个项目路径"));
    }
    if (repair && nlayers != 1) {
        free(layers);
        return cli_usage("qc", "%s",
                         T("--repair needs exactly one --layer CODE",
                           "--repair 须且只能给出一个 --layer 图层"));
    }
    if (!repair && (merge || dry_run)) {
        free(layers);
        return cli_usage("qc", "%s",
                         T("--merge-slivers and --dry-run go with --repair",
                           "--merge-slivers 和 --dry-run 须与 --repair 同用"));
    }
    if (!formats) {
        formats = outdir ? "table,html,csv,json" : "table";
    }
    static const char *known[] = {"table", "html", "csv", "json"};
    for (const char *p = formats; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;
        for (size_t k = 0; k < 4; k++) {
            ok |= strlen(known[k]) == len && strncmp(p, known[k], len) == 0;
        }
        if (!ok) {
            free(layers);
            return cli_usage("qc", "%s '%.*s'", T("unknown format", "未知格式"),
                             (int)len, p);
        }
        p = e ? e + 1 : p + len;
    }
    /* --only: a comma-separated list (the engine checks each item). */
    char *only_buf = NULL;
    const char **only = NULL;
    size_t nonly = 0;
    if (only_arg) {
        only_buf = strdup(only_arg);
        only = xcalloc(strlen(only_arg) + 1, sizeof *only);
        if (!only_buf) {
            fprintf(stderr, "onemap: %s\n", T("out of memory", "内存不足"));
            exit(QC_ERROR);
        }
        for (char *s = only_buf, *save = NULL, *tok;
             (tok = strtok_r(s, ", ", &save)) != NULL; s = NULL) {
            only[nonly++] = tok;
        }
        if (!nonly) {
            free(only_buf);
            free(only);
            free(layers);
            return cli_usage("qc", "%s",
                             T("--only needs check codes or categories",
                               "--only 须给出检查项编号或类别"));
        }
    }
    const char *project = argv[optind];
    struct om_error err;
    om_error_clear(&err);
    struct om_rules *rules = NULL;
    int rc = CLI_OK;
    struct om_project *p = NULL;
    struct om_qc_result *res = NULL;
    enum om_status st = rules_path ? om_rules_load(rules_path, &rules, &err)
                                   : om_rules_default(&rules, &err);
    if (st != OM_OK) {
        rc = could_not(&err);
        goto done;
    }
    bool readonly = repair ? dry_run : !store;
    if (om_project_open(project, readonly, &p, &err) != OM_OK) {
        rc = could_not(&err);
        goto done;
    }
    if (repair) {
        rc = run_repair(p, layers[0], rules, merge, dry_run, (int)threads,
                        outdir);
        goto done;
    }
    struct om_qc_options o;
    memset(&o, 0, sizeof o);
    o.layers = nlayers ? layers : NULL;
    o.nlayers = nlayers;
    o.rules = rules;
    o.only = only;
    o.nonly = nonly;
    o.max_per_check = (size_t)max;
    o.threads = (int)threads;
    st = om_qc_run(p, &o, store, &res, cli_progress(), &err);
    cli_progress_end();
    if (st != OM_OK) {
        rc = could_not(&err);
        goto done;
    }
    if (cli_in_list(formats, "table")) {
        print_layers(res);
        if (res->nerrors) {
            struct cli_table t;
            error_table(res, FIRST_ROWS, &t);
            printf("%s\n", T("first findings:", "前若干条问题:"));
            cli_table_print(&t, stdout, CLI_TABLE);
            if (res->nerrors > FIRST_ROWS) {
                printf("... %zu %s\n", res->nerrors - FIRST_ROWS,
                       T("more listed (see -o DIR)", "条未显示(见 -o 目录)"));
            }
            cli_table_free(&t);
        }
    }
    bool files = cli_in_list(formats, "html") || cli_in_list(formats, "csv") ||
                 cli_in_list(formats, "json");
    if (files) {
        if (!outdir) {
            outdir = "out/qc";
        }
        if (cli_mkdirs(outdir) != 0) {
            cli_fail("%s: %s", outdir,
                     T("cannot create folder", "无法创建目录"));
            rc = QC_ERROR;
        }
    }
    if (files && rc == CLI_OK && cli_in_list(formats, "csv")) {
        struct cli_table t;
        error_table(res, (size_t)-1, &t);
        bool ok = write_csv(&t, outdir, "qc_errors.csv");
        cli_table_free(&t);
        summary_table(res, &t);
        ok = ok && write_csv(&t, outdir, "qc_summary.csv");
        cli_table_free(&t);
        if (!ok) {
            rc = QC_ERROR;
        }
    }
    if (files && rc == CLI_OK && cli_in_list(formats, "json") &&
        !write_json(res, outdir)) {
        rc = QC_ERROR;
    }
    if (files && rc == CLI_OK && cli_in_list(formats, "html") &&
        !write_html(p, res, rules, outdir)) {
        rc = QC_ERROR;
    }
    if (!cli_quiet) {
        fprintf(stderr, "onemap: %zu %s, %zu %s%s", res->nerrors,
                T("findings listed", "条问题已列出"), res->nerror_findings,
                T("errors", "个错误"),
                res->truncated ? T(" (listing truncated by --max)",
                                   "(列表已按 --max 截断)")
                               : "");
        if (res->run_id) {
            fprintf(stderr, ", %s %lld", T("stored as run", "已记录为运行"),
                    (long long)res->run_id);
        }
        fprintf(stderr, "\n");
    }
    if (rc == CLI_OK && res->nerror_findings) {
        rc = CLI_FAIL;
    }
done:
    om_qc_result_free(res);
    om_project_close(p);
    om_rules_free(rules);
    free(only_buf);
    free(only);
    free(layers);
    return rc;
}
