/*
 * cmd_import.c — `onemap import PROJECT SOURCE --as CODE [options]`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <string.h>

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap import PROJECT.gpkg SOURCE --as CODE [options]",
          "用法: onemap import 项目.gpkg 数据源 --as 图层代码 [选项]"),
        T("Import a polygon layer from any GIS format (Shapefile, FileGDB,\n"
          "GeoPackage, GeoJSON, TopoJSON, KML, DXF, CSV with WKT) into the\n"
          "project, reprojected to the project CRS. Re-importing a code\n"
          "makes a new version; the old one stays readable.\n"
          "  --as CODE           layer code: DLTB, XZQ, YJJBNTBHTB, STBHHX,\n"
          "                      CZKFBJ, GHFQ, GHYT, ... (required)\n"
          "  --layer NAME        source layer (FileGDB, GeoPackage, DXF...)\n"
          "  --encoding ENC      attribute text encoding, e.g. GBK\n"
          "  --src-crs SPEC      CRS of a source that has none (no .prj)\n"
          "  --role ROLE         layer role (default: from the code)\n"
          "  --code-field F      admin unit code field (XZQ: XZQDM)\n"
          "  --name-field F      admin unit name field (XZQ: XZQMC)\n"
          "  --where SQL         attribute filter\n"
          "  --repair            repair invalid geometries (MakeValid)\n"
          "  -j N                validity check threads (default: all cores)",
          "从任意 GIS 格式(Shapefile、FileGDB、GeoPackage、GeoJSON、\n"
          "TopoJSON、KML、DXF、含 WKT 的 CSV)导入面图层,投影到项目坐标系。\n"
          "重复导入同一代码会生成新版本,旧版本仍可读取。\n"
          "  --as 代码           图层代码:DLTB、XZQ、YJJBNTBHTB、STBHHX、\n"
          "                      CZKFBJ、GHFQ、GHYT 等(必填)\n"
          "  --layer 名称        源图层(FileGDB、GeoPackage、DXF 等)\n"
          "  --encoding 编码     属性文本编码,如 GBK\n"
          "  --src-crs 坐标系    数据源无坐标系(缺 .prj)时指定\n"
          "  --role 角色         图层角色(默认由代码推断)\n"
          "  --code-field 字段   行政区代码字段(XZQ:XZQDM)\n"
          "  --name-field 字段   行政区名称字段(XZQ:XZQMC)\n"
          "  --where SQL         属性过滤\n"
          "  --repair            修复无效几何(MakeValid)\n"
          "  -j N                有效性检查线程数(默认全部核心)"));
}

int cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"as", required_argument, 0, 'a'},
        {"layer", required_argument, 0, 'l'},
        {"encoding", required_argument, 0, 'e'},
        {"src-crs", required_argument, 0, 's'},
        {"role", required_argument, 0, 'r'},
        {"code-field", required_argument, 0, 'C'},
        {"name-field", required_argument, 0, 'N'},
        {"where", required_argument, 0, 'w'},
        {"repair", no_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    struct om_import_options o;
    memset(&o, 0, sizeof o);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hj:", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.code = optarg;
            break;
        case 'l':
            o.layer = optarg;
            break;
        case 'e':
            o.encoding = optarg;
            break;
        case 's':
            o.src_crs = optarg;
            break;
        case 'r':
            o.role = optarg;
            break;
        case 'C':
            o.code_field = optarg;
            break;
        case 'N':
            o.name_field = optarg;
            break;
        case 'w':
            o.where = optarg;
            break;
        case 'R':
            o.repair = true;
            break;
        case 'j': {
            long threads = 0;
            if (!cli_parse_int(optarg, 1, 64, &threads)) {
                return cli_usage("import", "%s", T("bad -j", "-j 无效"));
            }
            o.threads = (int)threads;
            break;
        }
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("import", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 2 != argc) {
        return cli_usage(
            "import", "%s",
            T("expected PROJECT and SOURCE", "需要项目路径和数据源路径"));
    }
    if (!o.code) {
        return cli_usage("import", "%s",
                         T("--as CODE is required (e.g. --as DLTB)",
                           "必须指定 --as 图层代码(如 --as DLTB)"));
    }
    const char *project = argv[optind], *source = argv[optind + 1];
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    if (om_project_open(project, false, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    struct om_import_report rep;
    enum om_status st =
        om_import_file(p, source, &o, &rep, cli_progress(), &err);
    cli_progress_end();
    om_project_close(p);
    if (st != OM_OK) {
        return cli_report(&err);
    }
    if (rep.crs_chosen) {
        cli_note("%s %s",
                 T("project CRS chosen from the data extent:",
                   "已按数据范围确定项目坐标系:"),
                 rep.dst_crs);
    }
    printf("%s %s v%d: %lld %s", T("imported", "已导入"), rep.code, rep.version,
           (long long)rep.nfeatures, T("features", "个要素"));
    if (rep.reprojected) {
        printf(", %s %s -> %s", T("reprojected", "已投影转换"), rep.src_crs,
               rep.dst_crs);
    }
    printf("\n");
    if (rep.nempty) {
        printf("  %lld %s\n", (long long)rep.nempty,
               T("features without geometry (kept, flagged empty)",
                 "个要素无几何(已保留并标记为空)"));
    }
    if (rep.ninvalid) {
        printf(
            "  %lld %s (%s %s); %s\n", (long long)rep.ninvalid,
            T("invalid geometries kept and flagged", "个无效几何已保留并标记"),
            T("first:", "首个:"), rep.first_invalid,
            T("see 'onemap info', or re-import with --repair",
              "详见 'onemap info',或使用 --repair 重新导入"));
    }
    if (rep.nrepaired) {
        printf("  %lld %s, %s %.3f m2\n", (long long)rep.nrepaired,
               T("geometries repaired with MakeValid",
                 "个几何已用 MakeValid 修复"),
               T("planar area change", "平面面积变化"), rep.repair_delta_m2);
    }
    return CLI_OK;
}
