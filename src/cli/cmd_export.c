/*
 * cmd_export.c — `onemap export PROJECT CODE OUTPUT [options]`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap export PROJECT.gpkg CODE OUTPUT [--version N] "
             "[--format DRIVER]\n                     [--encoding ENC] "
             "[--overwrite]",
             "用法: onemap export 项目.gpkg 图层代码 输出文件 [--version N] "
             "[--format 驱动]\n                     [--encoding 编码] "
             "[--overwrite]"),
           T("Export a layer (current version unless --version) in the "
             "project CRS.\nThe format follows the extension: .gpkg, "
             ".geojson, .shp (with a .cpg),\n.fgb, .gdb, .csv (WKT), .kml; "
             "--format names a GDAL driver instead.\n--encoding sets the "
             "Shapefile DBF encoding (default UTF-8, e.g. GBK).",
             "导出图层(默认当前版本),坐标系为项目坐标系。\n格式由扩展名决定:"
             ".gpkg、.geojson、.shp(附 .cpg)、.fgb、.gdb、.csv(WKT)、"
             ".kml;\n也可用 --format 指定 GDAL 驱动。--encoding 设置 "
             "Shapefile 的 DBF 编码(默认 UTF-8,如 GBK)。"));
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"version", required_argument, 0, 'v'},
        {"format", required_argument, 0, 'f'},
        {"encoding", required_argument, 0, 'e'},
        {"overwrite", no_argument, 0, 'O'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    long version = 0;
    struct om_write_options wo;
    memset(&wo, 0, sizeof wo);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (!cli_parse_int(optarg, 1, 1000000, &version)) {
                return cli_usage("export", "%s",
                                 T("bad --version", "--version 无效"));
            }
            break;
        case 'f':
            wo.format = optarg;
            break;
        case 'e':
            wo.encoding = optarg;
            break;
        case 'O':
            wo.overwrite = true;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("export", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 3 != argc) {
        return cli_usage("export", "%s",
                         T("expected PROJECT, CODE and OUTPUT",
                           "需要项目路径、图层代码和输出路径"));
    }
    const char *code = argv[optind + 1], *path = argv[optind + 2];
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    struct om_layer *l = NULL;
    enum om_status st =
        om_project_read(p, code, (int)version, &l, cli_progress(), &err);
    if (st == OM_OK) {
        st = om_layer_write(l, path, &wo, cli_progress(), &err);
    }
    cli_progress_end();
    if (st != OM_OK) {
        om_layer_free(l);
        om_project_close(p);
        return cli_report(&err);
    }
    printf("%s %s -> %s: %zu %s\n", T("exported", "已导出"), code, path,
           om_layer_nfeatures(l), T("features", "个要素"));
    om_layer_free(l);
    om_project_close(p);
    return CLI_OK;
}
