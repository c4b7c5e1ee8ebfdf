/*
 * cmd_info.c — `onemap info PROJECT CODE [--version N] [--format ...]`
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <math.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap info PROJECT.gpkg CODE [--version N] [--format "
             "table|json] [--max-issues N]",
             "用法: onemap info 项目.gpkg 图层代码 [--version N] [--format "
             "table|json] [--max-issues N]"),
           T("Describe a layer: catalogue record, fields with types and "
             "null counts,\nextent, feature/part/ring/vertex counts, empty, "
             "invalid and repaired\ngeometries with their reasons.",
             "图层信息:目录记录、字段(类型、空值数)、范围、要素/部件/环/"
             "顶点数、\n空几何、无效几何与已修复几何及原因。"));
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"version", required_argument, 0, 'v'},
        {"format", required_argument, 0, 'f'},
        {"max-issues", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    long version = 0, max_issues = 20;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (!cli_parse_int(optarg, 1, 1000000, &version)) {
                return cli_usage("info", "%s",
                                 T("bad --version", "--version 无效"));
            }
            break;
        case 'm':
            if (!cli_parse_int(optarg, 0, 100000000, &max_issues)) {
                return cli_usage("info", "%s",
                                 T("bad --max-issues", "--max-issues 无效"));
            }
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt) || fmt == CLI_CSV) {
                return cli_usage("info", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("info", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 2 != argc) {
        return cli_usage(
            "info", "%s",
            T("expected PROJECT and CODE", "需要项目路径和图层代码"));
    }
    const char *code = argv[optind + 1];
    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    struct om_layer_record rec;
    struct om_layer *l = NULL;
    struct om_feature_issue *iss = NULL;
    size_t niss = 0;
    enum om_status st =
        om_project_layer_record(p, code, (int)version, &rec, &err);
    if (st != OM_OK) {
        om_project_close(p);
        return cli_report(&err);
    }
    st = om_project_read(p, code, rec.version, &l, cli_progress(), &err);
    cli_progress_end();
    if (st == OM_OK) {
        st = om_project_issues(p, code, rec.version, &iss, &niss, &err);
    }
    if (st != OM_OK) {
        om_layer_record_deinit(&rec);
        om_layer_free(l);
        om_project_close(p);
        return cli_report(&err);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om_rect e = om_layer_extent(l);
    size_t nf = om_layer_nfields(l);
    size_t nempty = om_layer_count_flag(l, OM_FEAT_EMPTY);
    size_t ninvalid = om_layer_count_flag(l, OM_FEAT_INVALID);
    size_t nrepaired = om_layer_count_flag(l, OM_FEAT_REPAIRED);
    double area = 0.0;
    for (size_t f = 0; f < v.nfeatures; f++) {
        if (!(v.flags[f] & (OM_FEAT_EMPTY | OM_FEAT_INVALID))) {
            area += om_feature_area_planar(&v, f);
        }
    }
    if (fmt == CLI_JSON) {
        printf("{\n  \"code\": ");
        cli_json_string(stdout, rec.code);
        printf(",\n  \"role\": ");
        cli_json_string(stdout, rec.role);
        printf(",\n  \"version\": %d,\n  \"current\": %s,\n  \"table\": ",
               rec.version, rec.is_current ? "true" : "false");
        cli_json_string(stdout, rec.table);
        printf(",\n  \"crs\": ");
        cli_json_string(stdout, rec.crs);
        printf(",\n  \"source\": ");
        cli_json_string(stdout, rec.source);
        printf(",\n  \"sha256\": ");
        cli_json_string(stdout, rec.sha256);
        printf(",\n  \"imported_at\": ");
        cli_json_string(stdout, rec.imported_at);
        printf(",\n  \"features\": %zu,\n  \"parts\": %zu,\n  \"rings\": %zu,"
               "\n  \"vertices\": %zu,\n  \"empty\": %zu,\n  \"invalid\": %zu,"
               "\n  \"repaired\": %zu,\n  \"planar_area_m2\": %.3f,\n",
               v.nfeatures, v.nparts, v.nrings, v.npoints, nempty, ninvalid,
               nrepaired, area);
        if (om_rect_is_empty(e)) {
            printf("  \"extent\": null,\n");
        } else {
            printf("  \"extent\": [%.3f, %.3f, %.3f, %.3f],\n", e.minx, e.miny,
                   e.maxx, e.maxy);
        }
        printf("  \"fields\": [");
        for (size_t i = 0; i < nf; i++) {
            size_t nnull = 0;
            for (size_t f = 0; f < v.nfeatures; f++) {
                nnull += om_layer_is_null(l, f, (int)i);
            }
            printf("%s\n    {\"name\": ", i ? "," : "");
            cli_json_string(stdout, om_layer_field_name(l, (int)i));
            printf(", \"type\": \"%s\", \"nulls\": %zu}",
                   om_field_type_name(om_layer_field_type(l, (int)i)), nnull);
        }
        printf("\n  ],\n  \"issues\": [");
        for (size_t i = 0; i < niss && (long)i < max_issues; i++) {
            printf("%s\n    {\"fid\": %lld, \"kind\": ", i ? "," : "",
                   (long long)iss[i].fid);
            cli_json_string(stdout, iss[i].kind);
            printf(", \"reason\": ");
            cli_json_string(stdout, iss[i].reason);
            if (isfinite(iss[i].x)) {
                printf(", \"x\": %.3f, \"y\": %.3f", iss[i].x, iss[i].y);
            }
            printf("}");
        }
        printf("\n  ],\n  \"issues_total\": %zu\n}\n", niss);
    } else {
        printf("%-14s %s (%s)\n", T("layer", "图层"), rec.code, rec.role);
        printf("%-14s %d%s  [%s]\n", T("version", "版本"), rec.version,
               rec.is_current ? T(" (current)", "(当前)") : "", rec.table);
        printf("%-14s %s\n", T("CRS", "坐标系"), rec.crs);
        printf("%-14s %s%s%s\n", T("source", "来源"),
               rec.source ? rec.source : "", rec.source_layer ? " : " : "",
               rec.source_layer ? rec.source_layer : "");
        printf("%-14s %s\n", "sha256", rec.sha256);
        printf("%-14s %s\n", T("imported at", "导入时间"), rec.imported_at);
        printf("%-14s %zu  (%s %zu, %s %zu, %s %zu)\n", T("features", "要素数"),
               v.nfeatures, T("parts", "部件"), v.nparts, T("rings", "环"),
               v.nrings, T("vertices", "顶点"), v.npoints);
        printf("%-14s %zu %s, %zu %s, %zu %s\n", T("geometry", "几何"), nempty,
               T("empty", "为空"), ninvalid, T("invalid", "无效"), nrepaired,
               T("repaired", "已修复"));
        if (!om_rect_is_empty(e)) {
            printf("%-14s %.3f %.3f %.3f %.3f\n", T("extent", "范围"), e.minx,
                   e.miny, e.maxx, e.maxy);
        }
        printf("%-14s %.2f m2 (%s)\n", T("area", "面积"), area,
               T("planar, valid features", "平面面积,有效要素"));
        printf("\n");
        struct cli_table t;
        cli_table_init(&t, 3);
        const char *head[] = {T("field", "字段"), T("type", "类型"),
                              T("nulls", "空值数")};
        cli_table_add(&t, head);
        cli_table_numeric(&t, 2);
        for (size_t i = 0; i < nf; i++) {
            size_t nnull = 0;
            for (size_t f = 0; f < v.nfeatures; f++) {
                nnull += om_layer_is_null(l, f, (int)i);
            }
            char nn[24];
            snprintf(nn, sizeof nn, "%zu", nnull);
            const char *row[] = {
                om_layer_field_name(l, (int)i),
                om_field_type_name(om_layer_field_type(l, (int)i)), nn};
            cli_table_add(&t, row);
        }
        cli_table_print(&t, stdout, CLI_TABLE);
        cli_table_free(&t);
        if (niss) {
            printf("\n%s (%zu):\n", T("geometry issues", "几何问题"), niss);
            for (size_t i = 0; i < niss && (long)i < max_issues; i++) {
                printf("  fid %lld  %-8s %s", (long long)iss[i].fid,
                       iss[i].kind, iss[i].reason);
                if (isfinite(iss[i].x)) {
                    printf("  @ %.3f %.3f", iss[i].x, iss[i].y);
                }
                printf("\n");
            }
            if ((long)niss > max_issues) {
                printf("  ... %zu %s\n", niss - (size_t)max_issues,
                       T("more (--max-issues N)", "条未显示(--max-issues N)"));
            }
        }
    }
    om_feature_issues_free(iss, niss);
    om_layer_record_deinit(&rec);
    om_layer_free(l);
    om_project_close(p);
    return CLI_OK;
}
