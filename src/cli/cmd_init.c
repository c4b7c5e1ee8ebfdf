/*
 * cmd_init.c — `onemap init PROJECT.gpkg --crs EPSG:4530|auto`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap init PROJECT.gpkg --crs EPSG:4530|auto",
             "用法: onemap init 项目.gpkg --crs EPSG:4530|auto"),
           T("Create a new project database (a GeoPackage).\n"
             "  --crs SPEC   project CRS: an EPSG code (CGCS2000 3-degree "
             "zones: EPSG:4513-4533\n"
             "               with zone prefix, 4534-4554 without), or 'auto' "
             "to choose the\n"
             "               zone from the first import's extent",
             "创建新的项目数据库(GeoPackage)。\n"
             "  --crs 坐标系  项目坐标系:EPSG 代码(CGCS2000 三度带:"
             "带带号 EPSG:4513-4533,\n"
             "               不带带号 4534-4554),或 auto:按首次导入数据"
             "的范围自动选择投影带"));
}

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {{"crs", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *crs = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            crs = optarg;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("init", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 1 != argc) {
        return cli_usage("init", "%s",
                         T("expected one project path", "需要一个项目路径"));
    }
    if (!crs) {
        return cli_usage("init", "%s",
                         T("--crs is required (e.g. --crs EPSG:4530 or "
                           "--crs auto)",
                           "必须指定 --crs(如 --crs EPSG:4530 或 --crs auto)"));
    }
    struct om_error err;
    om_error_clear(&err);
    const char *canon = crs;
    struct om_crs *parsed = NULL;
    if (strcmp(crs, "auto") != 0) {
        if (om_crs_new(crs, &parsed, &err) != OM_OK) {
            return cli_report(&err);
        }
        if (om_crs_is_geographic(parsed)) {
            om_crs_free(parsed);
            return cli_fail("%s",
                            T("the project CRS must be projected (areas and "
                              "overlays are computed in it); use a CGCS2000 "
                              "Gauss-Kruger zone such as EPSG:4530",
                              "项目坐标系必须是投影坐标系(面积和叠加分析"
                              "在其中计算),请使用 CGCS2000 高斯-克吕格投影带,"
                              "如 EPSG:4530"));
        }
        if (om_crs_id(parsed)) {
            canon = om_crs_id(parsed);
        }
    }
    struct om_project *p = NULL;
    enum om_status st = om_project_create(argv[optind], canon, &p, &err);
    if (st != OM_OK) {
        om_crs_free(parsed);
        return cli_report(&err);
    }
    printf("%s %s (%s %s)\n", T("created", "已创建"), argv[optind],
           T("CRS", "坐标系"),
           parsed
               ? om_crs_name(parsed)
               : T("auto: chosen at the first import", "自动:首次导入时确定"));
    om_crs_free(parsed);
    om_project_close(p);
    return CLI_OK;
}
