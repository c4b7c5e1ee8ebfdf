/*
 * cmd_runs.c — `onemap runs PROJECT [--kind K] [--format ...]` and
 * `onemap runs PROJECT --export RESULT OUT`: the analysis run history
 * (what was run, on which layer versions, with which rule file) and the
 * export of a run's results layer.
 */
#include "cli.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/store.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap runs PROJECT.gpkg [--kind conflicts] [--format "
             "table|csv|json]\n"
             "       onemap runs PROJECT.gpkg --export CONFLICTS[_rN] OUT",
             "用法: onemap runs 项目.gpkg [--kind conflicts] [--format "
             "table|csv|json]\n"
             "      onemap runs 项目.gpkg --export CONFLICTS[_rN] 输出文件"),
           T("The analysis runs recorded in the project: id, kind, time, rule "
             "file and its\nSHA-256, input layer versions, tables written, "
             "summary. --export writes a\nrun's results layer (CONFLICTS = "
             "the latest run) to any GIS format.",
             "项目中记录的分析运行:编号、类型、时间、规则文件及其 SHA-256、"
             "输入图层版本、\n写出的结果表、汇总。--export 将某次运行的结果图层"
             "(CONFLICTS 为最新一次)导出为任意 GIS 格式。"));
}

/* "XZQ v1, DLTB v2" from the inputs JSON (a compact view for tables). */
static void compact_inputs(const char *json, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (const char *p = json ? strstr(json, "\"code\":\"") : NULL; p;
         p = strstr(p, "\"code\":\"")) {
        p += 8;
        const char *e = strchr(p, '"');
        const char *v = strstr(p, "\"version\":");
        if (!e || !v) {
            break;
        }
        int k = snprintf(buf + n, size - n, "%s%.*s v%ld", n ? ", " : "",
                         (int)(e - p), p, strtol(v + 10, NULL, 10));
        if (k < 0 || (size_t)k >= size - n) {
            break;
        }
        n += (size_t)k;
        p = e;
    }
}

int cmd_runs(int argc, char **argv)
{
    static const struct option opts[] = {{"kind", required_argument, 0, 'k'},
                                         {"format", required_argument, 0, 'f'},
                                         {"export", required_argument, 0, 'e'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *kind = NULL, *export_name = NULL;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'k':
            kind = optarg;
            break;
        case 'e':
            export_name = optarg;
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage("runs", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("runs", "%s", T("bad option", "选项错误"));
        }
    }
    int npos = export_name ? 2 : 1;
    if (optind + npos != argc) {
        return cli_usage(
            "runs", "%s",
            export_name
                ? T("expected PROJECT and OUTPUT", "需要项目路径和输出路径")
                : T("expected one project path", "需要一个项目路径"));
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    if (export_name) {
        struct om_layer *l = NULL;
        enum om_status st =
            om_project_read_result(p, export_name, &l, cli_progress(), &err);
        struct om_write_options wo;
        memset(&wo, 0, sizeof wo);
        wo.overwrite = true;
        if (st == OM_OK) {
            st = om_layer_write(l, argv[optind + 1], &wo, cli_progress(), &err);
        }
        cli_progress_end();
        if (st != OM_OK) {
            om_layer_free(l);
            om_project_close(p);
            return cli_report(&err);
        }
        printf("%s %s -> %s: %zu %s\n", T("exported", "已导出"), export_name,
               argv[optind + 1], om_layer_nfeatures(l),
               T("features", "个要素"));
        om_layer_free(l);
        om_project_close(p);
        return CLI_OK;
    }
    struct om_run_record *r = NULL;
    size_t n = 0;
    if (om_project_runs(p, kind, &r, &n, &err) != OM_OK) {
        om_project_close(p);
        return cli_report(&err);
    }
    struct cli_table t;
    cli_table_init(&t, 8);
    const char *head[] = {"id",    "kind",         "started_at", "finished_at",
                          "rules", "rules_sha256", "inputs",     "summary"};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 0);
    for (size_t i = 0; i < n; i++) {
        char id[24], sha[17], ins[512];
        compact_inputs(r[i].inputs, ins, sizeof ins);
        snprintf(id, sizeof id, "%lld", (long long)r[i].id);
        snprintf(sha, sizeof sha, "%.16s", r[i].rules_sha256);
        const char *row[] = {
            id,
            r[i].kind,
            r[i].started_at,
            r[i].finished_at,
            r[i].rules_source ? r[i].rules_source : "",
            fmt == CLI_TABLE ? sha : r[i].rules_sha256,
            fmt == CLI_TABLE ? ins : (r[i].inputs ? r[i].inputs : ""),
            r[i].summary ? r[i].summary : ""};
        cli_table_add(&t, row);
    }
    if (n == 0 && fmt == CLI_TABLE) {
        printf("%s\n", T("(no runs yet)", "(尚无运行记录)"));
    } else {
        cli_table_print(&t, stdout, fmt);
    }
    cli_table_free(&t);
    om_run_records_free(r, n);
    om_project_close(p);
    return CLI_OK;
}
