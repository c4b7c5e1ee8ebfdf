/*
 * cmd_layers.c — `onemap layers PROJECT [--all] [--format table|csv|json]`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap layers PROJECT.gpkg [--all] [--format "
          "table|csv|json]",
          "用法: onemap layers 项目.gpkg [--all] [--format table|csv|json]"),
        T("The layer catalogue: code, role, version, features, CRS, source,\n"
          "source SHA-256, import time. --all lists older versions too.",
          "图层目录:代码、角色、版本、要素数、坐标系、来源、来源 SHA-256、"
          "导入时间。\n--all 同时列出历史版本。"));
}

int cmd_layers(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, 0, 'a'},
                                         {"format", required_argument, 0, 'f'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bool all = false;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage("layers", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("layers", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 1 != argc) {
        return cli_usage("layers", "%s",
                         T("expected one project path", "需要一个项目路径"));
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    struct om_layer_record *r = NULL;
    size_t n = 0;
    enum om_status st = om_project_layers(p, all, &r, &n, &err);
    if (st != OM_OK) {
        om_project_close(p);
        return cli_report(&err);
    }
    struct cli_table t;
    cli_table_init(&t, 10);
    const char *head[] = {"code",     "role",       "version", "current",
                          "features", "invalid",    "crs",     "source",
                          "sha256",   "imported_at"};
    cli_table_add(&t, head);
    cli_table_numeric(&t, 2);
    cli_table_numeric(&t, 4);
    cli_table_numeric(&t, 5);
    for (size_t i = 0; i < n; i++) {
        char ver[16], feat[24], inv[24], sha[17];
        snprintf(ver, sizeof ver, "%d", r[i].version);
        snprintf(feat, sizeof feat, "%lld", (long long)r[i].nfeatures);
        snprintf(inv, sizeof inv, "%lld", (long long)r[i].ninvalid);
        /* Full hash in CSV/JSON; the table shows a prefix. */
        snprintf(sha, sizeof sha, "%.16s", r[i].sha256);
        const char *row[] = {r[i].code,
                             r[i].role,
                             ver,
                             r[i].is_current ? "yes" : "no",
                             feat,
                             inv,
                             r[i].crs,
                             r[i].source ? r[i].source : "",
                             fmt == CLI_TABLE ? sha : r[i].sha256,
                             r[i].imported_at};
        cli_table_add(&t, row);
    }
    if (n == 0 && fmt == CLI_TABLE) {
        printf("%s\n", T("(no layers yet: use 'onemap import')",
                         "(尚无图层:请使用 'onemap import')"));
    } else {
        cli_table_print(&t, stdout, fmt);
    }
    cli_table_free(&t);
    om_layer_records_free(r, n);
    om_project_close(p);
    return CLI_OK;
}
