/*
 * cmd_conflicts.c — `onemap conflicts PROJECT [--rules FILE] ...`
 *
 * Multi-plan conflict detection: evaluates the rule file (or the built-in
 * default rules) on the project's current layers, stores the patches and
 * the summary as a new run in the project, prints the summary per rule ×
 * admin unit, and writes CSV / JSON / an HTML report with a map to -o DIR.
 */
#include "cli.h"
#include "onemap/conflicts.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/report.h"
#include "onemap/rules.h"
#include "onemap/stats.h"
#include "onemap/store.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap conflicts PROJECT.gpkg [--rules FILE.yaml] [options]",
          "用法: onemap conflicts 项目.gpkg [--rules 规则.yaml] [选项]"),
        T("Detect conflicts between plans and control lines (多规合一).\n"
          "  --rules FILE        rule file (default: the built-in rule set; "
          "see docs/rules.md)\n"
          "  --rule ID           evaluate one rule only\n"
          "  --min-area M2       ignore patches smaller than M2 (overrides "
          "each rule's min_area)\n"
          "  --unit m2|ha|mu     unit of the printed areas (default ha)\n"
          "  --decimals N        decimals (default 4)\n"
          "  --format LIST       table (stdout, default), csv, json, html, "
          "gpkg — comma-separated;\n"
          "                      files go to -o DIR\n"
          "  -o DIR              output folder (default out/conflicts)\n"
          "  --no-store          do not record the run in the project\n"
          "  --skip-missing      skip rules naming layers the project lacks\n"
          "                      (always on with the built-in rules)\n"
          "  -j N                threads (default: all cores)",
          "检测规划之间、规划与管控边界之间的冲突(多规合一)。\n"
          "  --rules 文件        规则文件(默认:内置规则集,见 docs/rules.md)\n"
          "  --rule 编号         只检查一条规则\n"
          "  --min-area 平方米   忽略小于该面积的图斑(覆盖规则中的 min_area)\n"
          "  --unit m2|ha|mu     输出面积单位(默认公顷)\n"
          "  --decimals N        小数位数(默认 4)\n"
          "  --format 列表       table(屏幕,默认)、csv、json、html、gpkg,"
          "逗号分隔;\n"
          "                      文件写入 -o 目录\n"
          "  -o 目录             输出目录(默认 out/conflicts)\n"
          "  --no-store          不在项目库中记录本次运行\n"
          "  --skip-missing      跳过引用了项目中不存在图层的规则\n"
          "  -j N                线程数(默认全部核心)"));
}

static const char *sev_color(const char *sev)
{
    if (strcmp(sev, "error") == 0) {
        return "#d62728";
    }
    if (strcmp(sev, "warning") == 0) {
        return "#ff7f0e";
    }
    return "#1f77b4";
}

/* The HTML report: project info, summary table, map. */
static int write_html(const char *path, const char *project,
                      const struct om_rules *rules,
                      const struct om_conflicts_result *res,
                      const struct om_layer *units, const struct cli_table *t)
{
    struct om_error err;
    om_error_clear(&err);
    struct om_html *h = NULL;
    struct om_map *m = NULL;
    uint8_t *mask = NULL;
    int rc = CLI_FAIL;
    if (om_html_new("冲突检测报告", "Conflict detection report", &h, &err) !=
        OM_OK) {
        return cli_report(&err);
    }
    char nrules[32], npatch[32], nsliv[32], run[32];
    snprintf(nrules, sizeof nrules, "%zu", rules->nrules);
    snprintf(npatch, sizeof npatch, "%zu", om_layer_nfeatures(res->patches));
    snprintf(nsliv, sizeof nsliv, "%lld", (long long)res->nslivers);
    snprintf(run, sizeof run, "%lld", (long long)res->run_id);
    const char *keys[] = {"项目 / project",       "规则 / rules",
                          "规则文件 SHA-256",     "图斑 / patches",
                          "忽略的碎片 / slivers", "运行编号 / run id",
                          "行政区 / admin units"};
    const char *vals[] = {project,
                          rules->source,
                          rules->sha256,
                          npatch,
                          nsliv,
                          res->run_id ? run : "-",
                          res->admin_layer ? res->admin_layer : "-"};
    (void)nrules;
    if (om_html_kv(h, keys, vals, 7, &err) != OM_OK ||
        om_html_h2(h, "冲突汇总(规则 × 行政区)",
                   "Summary by rule and admin unit", &err) != OM_OK) {
        goto done;
    }
    if (t->nrows > 1) {
        /* total rows carry "TOTAL" in the unit_code column, not the first:
         * mark them by making the table's first column the rule id. */
        if (om_html_table(h, (const char *const *)t->cells, t->ncols,
                          (const char *const *)t->cells + t->ncols,
                          t->nrows - 1, (unsigned)t->numeric, NULL,
                          &err) != OM_OK) {
            goto done;
        }
    } else if (om_html_p(h, "未发现冲突 / no conflicts found", &err) != OM_OK) {
        goto done;
    }
    /* The rules evaluated, with their texts; skipped ones listed. */
    if (om_html_h2(h, "规则", "Rules", &err) != OM_OK) {
        goto done;
    }
    {
        size_t nr = rules->nrules;
        const char **cells = calloc(nr * 5 + 1, sizeof *cells);
        if (!cells) {
            goto done;
        }
        size_t row = 0;
        for (size_t i = 0; i < nr; i++) {
            const struct om_rule *ru = &rules->rules[i];
            cells[5 * row + 0] = ru->id;
            cells[5 * row + 1] = om_severity_name(ru->severity);
            cells[5 * row + 2] = om_rule_kind_name(ru->kind);
            cells[5 * row + 3] = ru->zh ? ru->zh : "";
            cells[5 * row + 4] = ru->en ? ru->en : "";
            row++;
        }
        const char *rh[] = {"rule_id", "severity", "kind", "说明",
                            "description"};
        enum om_status hs = om_html_table(h, rh, 5, cells, row, 0, NULL, &err);
        free(cells);
        if (hs != OM_OK) {
            goto done;
        }
    }
    for (size_t i = 0; i < res->nskipped; i++) {
        char line[700];
        snprintf(line, sizeof line, "未检查 / skipped: %s", res->skipped[i]);
        if (om_html_note(h, line, &err) != OM_OK) {
            goto done;
        }
    }
    /* Map: admin units in grey, patches by severity. */
    struct om_rect ext = om_rect_empty();
    if (units) {
        ext = om_layer_extent(units);
    }
    if (om_layer_nfeatures(res->patches)) {
        ext = om_rect_union(ext, om_layer_extent(res->patches));
    }
    if (!om_rect_is_empty(ext)) {
        if (om_map_new(ext, 1000, 760, &m, &err) != OM_OK) {
            goto done;
        }
        if (units) {
            struct om_map_style s = {"#f2f2f2", "#555555", 0.8,
                                     1.0,       "行政区",  "admin units"};
            if (om_map_add_layer(m, units, NULL, &s, &err) != OM_OK) {
                goto done;
            }
        }
        size_t n = om_layer_nfeatures(res->patches);
        mask = calloc(n ? n : 1, 1);
        if (!mask) {
            goto done;
        }
        static const char *sevs[] = {"error", "warning", "info"};
        static const char *zh[] = {"冲突(错误)", "冲突(警告)", "冲突(提示)"};
        static const char *en[] = {"conflict (error)", "conflict (warning)",
                                   "conflict (info)"};
        for (int k = 0; k < 3; k++) {
            size_t cnt = 0;
            for (size_t f = 0; f < n; f++) {
                const char *sv = om_layer_get_text(res->patches, f, 1);
                mask[f] = sv && strcmp(sv, sevs[k]) == 0;
                cnt += mask[f];
            }
            if (!cnt) {
                continue;
            }
            struct om_map_style s = {sev_color(sevs[k]),
                                     sev_color(sevs[k]),
                                     0.6,
                                     0.85,
                                     zh[k],
                                     en[k]};
            if (om_map_add_layer(m, res->patches, mask, &s, &err) != OM_OK) {
                goto done;
            }
        }
        if (om_html_h2(h, "冲突图斑分布图", "Map of the conflict patches",
                       &err) != OM_OK ||
            om_html_svg_map(h, m, "冲突图斑与行政区",
                            "Conflict patches and admin units",
                            &err) != OM_OK) {
            goto done;
        }
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        cli_fail("%s: %s", path, T("cannot write", "无法写入"));
        goto done;
    }
    if (om_html_write(h, f, &err) != OM_OK) {
        fclose(f);
        goto done;
    }
    if (fclose(f) != 0) {
        cli_fail("%s: %s", path, T("write failed", "写入失败"));
        goto done;
    }
    rc = CLI_OK;
done:
    if (rc != CLI_OK && err.status != OM_OK) {
        cli_report(&err);
    }
    free(mask);
    om_map_free(m);
    om_html_free(h);
    return rc;
}

int cmd_conflicts(int argc, char **argv)
{
    static const struct option opts[] = {
        {"rules", required_argument, 0, 'r'},
        {"rule", required_argument, 0, 'R'},
        {"min-area", required_argument, 0, 'm'},
        {"unit", required_argument, 0, 'u'},
        {"decimals", required_argument, 0, 'd'},
        {"format", required_argument, 0, 'f'},
        {"no-store", no_argument, 0, 'N'},
        {"skip-missing", no_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *rules_path = NULL, *formats = "table", *outdir = NULL;
    const char *unit = "ha";
    double factor = 1.0 / 10000.0; /* m2 -> the output unit (ha) */
    long threads = 0, decimals = 4;
    struct om_conflicts_options o;
    memset(&o, 0, sizeof o);
    o.min_area_m2 = -1;
    bool store = true;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rules_path = optarg;
            break;
        case 'R':
            o.only_rule = optarg;
            break;
        case 'm': {
            char *end;
            o.min_area_m2 = strtod(optarg, &end);
            if (*end || !(o.min_area_m2 >= 0)) {
                return cli_usage("conflicts", "%s",
                                 T("--min-area must be a number >= 0",
                                   "--min-area 必须是不小于 0 的数"));
            }
            break;
        }
        case 'u':
            if (!cli_parse_unit(optarg, &factor)) {
                return cli_usage(
                    "conflicts", "%s '%s'",
                    T("unknown unit (m2, ha, mu)", "未知单位(m2、ha、mu)"),
                    optarg);
            }
            unit = optarg;
            break;
        case 'd':
            if (!cli_parse_int(optarg, 0, 9, &decimals)) {
                return cli_usage(
                    "conflicts", "%s",
                    T("--decimals must be 0..9", "--decimals 须为 0..9"));
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
                return cli_usage("conflicts", "%s", T("bad -j", "-j 无效"));
            }
            break;
        case 'N':
            store = false;
            break;
        case 'S':
            o.skip_missing = true;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("conflicts", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 1 != argc) {
        return cli_usage("conflicts", "%s",
                         T("expected one project path", "需要一个项目路径"));
    }
    static const char *known[] = {"table", "csv", "json", "html", "gpkg"};
    for (const char *p = formats; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;
        for (size_t k = 0; k < 5; k++) {
            ok |= strlen(known[k]) == len && strncmp(p, known[k], len) == 0;
        }
        if (!ok) {
            return cli_usage("conflicts", "%s '%.*s'",
                             T("unknown format", "未知格式"), (int)len, p);
        }
        p = e ? e + 1 : p + len;
    }
    o.threads = (int)threads;
    const char *project = argv[optind];
    struct om_error err;
    om_error_clear(&err);
    struct om_rules *rules = NULL;
    enum om_status st = rules_path ? om_rules_load(rules_path, &rules, &err)
                                   : om_rules_default(&rules, &err);
    if (st != OM_OK) {
        return cli_report(&err);
    }
    if (!rules_path) {
        /* The built-in set covers layers a project may not have (GHYT...):
         * those rules are skipped and listed, not an error. */
        o.skip_missing = true;
    }
    struct om_project *p = NULL;
    if (om_project_open(project, !store, &p, &err) != OM_OK) {
        om_rules_free(rules);
        return cli_report(&err);
    }
    struct om_conflicts_result *res = NULL;
    st = om_conflicts_run(p, rules, &o, store, &res, cli_progress(), &err);
    cli_progress_end();
    if (st != OM_OK) {
        om_project_close(p);
        om_rules_free(rules);
        return cli_report(&err);
    }
    for (size_t i = 0; i < res->nskipped; i++) {
        cli_note("%s %s", T("skipped rule", "已跳过规则"), res->skipped[i]);
    }
    /* Summary table; areas rounded so each rule's rows add up to its
     * total. */
    struct cli_table t;
    cli_table_init(&t, 7);
    char h_area[32], h_ell[32];
    snprintf(h_area, sizeof h_area, "area_%s", unit);
    snprintf(h_ell, sizeof h_ell, "area_ell_%s", unit);
    const char *head[] = {"rule_id", "severity", "unit_code", "unit_name",
                          "patches", h_area,     h_ell};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 4);
    cli_table_numeric(&t, 5);
    cli_table_numeric(&t, 6);
    size_t n = res->nsummary;
    double *va = calloc(n + 1, sizeof *va), *ve = calloc(n + 1, sizeof *ve);
    double *ra = calloc(n + 1, sizeof *ra), *re = calloc(n + 1, sizeof *re);
    if (!va || !ve || !ra || !re) {
        fprintf(stderr, "onemap: out of memory\n");
        exit(CLI_FAIL);
    }
    for (size_t i = 0; i < n; i++) {
        va[i] = res->summary[i].planar_m2 * factor;
        ve[i] = res->summary[i].ellipsoidal_m2 * factor;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double ta = 0, te = 0;
        long long cnt = 0;
        while (j < n &&
               strcmp(res->summary[j].rule_id, res->summary[i].rule_id) == 0) {
            ta += va[j];
            te += ve[j];
            cnt += res->summary[j].npatches;
            j++;
        }
        om_apportion(va + i, j - i, (int)decimals, ta, ra + i);
        om_apportion(ve + i, j - i, (int)decimals, te, re + i);
        for (size_t k = i; k < j; k++) {
            const struct om_conflict_summary *s = &res->summary[k];
            char np[24], a[40], e[40];
            snprintf(np, sizeof np, "%lld", (long long)s->npatches);
            cli_fmt_num(a, sizeof a, ra[k], (int)decimals);
            cli_fmt_num(e, sizeof e, re[k], (int)decimals);
            const char *row[] = {
                s->rule_id, s->severity, s->unit_code, s->unit_name, np, a, e};
            cli_table_add(&t, row);
        }
        char np[24], a[40], e[40];
        snprintf(np, sizeof np, "%lld", cnt);
        cli_fmt_num(a, sizeof a, ta, (int)decimals);
        cli_fmt_num(e, sizeof e, te, (int)decimals);
        const char *trow[] = {res->summary[i].rule_id,
                              res->summary[i].severity,
                              "TOTAL",
                              "",
                              np,
                              a,
                              e};
        cli_table_add(&t, trow);
        i = j;
    }
    free(va);
    free(ve);
    free(ra);
    free(re);
    int rc = CLI_OK;
    if (cli_in_list(formats, "table")) {
        if (n == 0) {
            printf("%s\n", T("no conflicts found", "未发现冲突"));
        } else {
            cli_table_print(&t, stdout, CLI_TABLE);
        }
    }
    bool files = cli_in_list(formats, "csv") || cli_in_list(formats, "json") ||
                 cli_in_list(formats, "html") || cli_in_list(formats, "gpkg");
    if (files) {
        if (!outdir) {
            outdir = "out/conflicts";
        }
        if (cli_mkdirs(outdir) != 0) {
            rc = cli_fail("%s: %s", outdir,
                          T("cannot create folder", "无法创建目录"));
        }
    }
    char path[4096];
    static const struct {
        const char *fmt, *file;
        enum cli_format f;
    } outs[] = {{"csv", "conflicts_summary.csv", CLI_CSV},
                {"json", "conflicts_summary.json", CLI_JSON}};
    for (size_t k = 0; rc == CLI_OK && k < 2; k++) {
        if (!cli_in_list(formats, outs[k].fmt)) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", outdir, outs[k].file);
        FILE *f = fopen(path, "w");
        if (!f) {
            rc = cli_fail("%s: %s", path, T("cannot write", "无法写入"));
            break;
        }
        cli_table_print(&t, f, outs[k].f);
        if (fclose(f) != 0) {
            rc = cli_fail("%s: %s", path, T("write failed", "写入失败"));
        }
        printf("%s %s\n", T("wrote", "已写入"), path);
    }
    if (rc == CLI_OK && cli_in_list(formats, "gpkg")) {
        snprintf(path, sizeof path, "%s/conflicts.gpkg", outdir);
        struct om_write_options wo;
        memset(&wo, 0, sizeof wo);
        wo.overwrite = true;
        wo.layer_name = "conflicts";
        if (om_layer_write(res->patches, path, &wo, NULL, &err) != OM_OK) {
            rc = cli_report(&err);
        } else {
            printf("%s %s\n", T("wrote", "已写入"), path);
        }
    }
    if (rc == CLI_OK && cli_in_list(formats, "html")) {
        struct om_layer *units = NULL;
        if (res->admin_layer) {
            om_project_read(p, res->admin_layer, 0, &units, NULL, &err);
        }
        snprintf(path, sizeof path, "%s/conflicts_report.html", outdir);
        rc = write_html(path, project, rules, res, units, &t);
        om_layer_free(units);
        if (rc == CLI_OK) {
            printf("%s %s\n", T("wrote", "已写入"), path);
        }
    }
    if (!cli_quiet) {
        fprintf(stderr, "onemap: %zu %s, %lld %s",
                om_layer_nfeatures(res->patches),
                T("conflict patches", "个冲突图斑"), (long long)res->nslivers,
                T("slivers ignored", "个碎片已忽略"));
        if (res->run_id) {
            fprintf(stderr, ", %s %lld", T("stored as run", "已记录为运行"),
                    (long long)res->run_id);
        }
        fprintf(stderr, "\n");
    }
    cli_table_free(&t);
    om_conflicts_result_free(res);
    om_project_close(p);
    om_rules_free(rules);
    return rc;
}
