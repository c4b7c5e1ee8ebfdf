/*
 * cmd_stats.c — `onemap stats PROJECT LAYER --class F [--by XZQ] ...`
 *
 * Land-use statistics (三调 地类面积统计). Printed values are rounded with
 * the largest-remainder method so that every table adds up exactly: class
 * cells to their unit's total, unit totals to the grand total.
 */
#include "cli.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
    printf("%s\n\n%s\n",
           T("usage: onemap stats PROJECT.gpkg LAYER --class FIELD [options]",
             "用法: onemap stats 项目.gpkg 图层 --class 字段 [选项]"),
           T("Area by admin unit x land class.\n"
             "  --class FIELD       class attribute, e.g. DLBM (required)\n"
             "  --level 0|1|2       roll DLBM codes up to 一级 (1) or 二级 (2) "
             "classes\n"
             "  --by LAYER          admin units by overlay (a parcel split "
             "across units\n"
             "                      counts its intersection areas), e.g. --by "
             "XZQ\n"
             "  --by-field FIELD    admin units from a code attribute of the "
             "parcels\n"
             "                      (e.g. ZLDWDM), its first --prefix-len "
             "characters\n"
             "                      (default: the length of the --by layer's "
             "codes)\n"
             "  --area MODE         ellipsoidal (default; CGCS2000 ellipsoid), "
             "planar,\n"
             "                      or a field name holding m2 (e.g. TBDLMJ)\n"
             "  --engine E          overlay engine of --by LAYER: kernel "
             "(the exact area\n"
             "                      kernel, default) or geos (the reference "
             "path)\n"
             "  --unit m2|ha|mu     output unit (default ha; 1 mu = 10000/15 "
             "m2)\n"
             "  --decimals N        decimals (default 2)\n"
             "  --format table|csv|json   (default table)\n"
             "  -o FILE             write to FILE instead of standard output\n"
             "  -j N                threads (default: all cores)",
             "按行政区 × 地类统计面积。\n"
             "  --class 字段        地类字段,如 DLBM(必填)\n"
             "  --level 0|1|2       将 DLBM 汇总到一级类(1)或二级类(2)\n"
             "  --by 图层           按叠加分配行政区(跨行政区的图斑按相交面积"
             "计入),如 --by XZQ\n"
             "  --by-field 字段     按图斑的代码字段(如 ZLDWDM)前 --prefix-len "
             "位分配行政区\n"
             "                      (默认取 --by 图层代码的长度)\n"
             "  --area 方式         ellipsoidal(默认,CGCS2000 椭球面积)、"
             "planar(平面面积),\n"
             "                      或面积字段名(单位 m2,如 TBDLMJ)\n"
             "  --engine 引擎       --by 图层叠加所用引擎:kernel(精确面积核,"
             "默认)\n"
             "                      或 geos(参考实现)\n"
             "  --unit m2|ha|mu     输出单位(默认公顷 ha;1 亩 = 10000/15 m2)\n"
             "  --decimals N        小数位数(默认 2)\n"
             "  --format table|csv|json   输出格式(默认 table)\n"
             "  -o 文件             输出到文件\n"
             "  -j N                线程数(默认全部核心)"));
}

static const char *unit_label(const char *unit)
{
    if (strcmp(unit, "m2") == 0) {
        return T("m2", "平方米");
    }
    if (strcmp(unit, "mu") == 0) {
        return T("mu", "亩");
    }
    return T("ha", "公顷");
}

struct out_row {
    const char *ucode, *uname, *ccode, *cname;
    long long count;
    double value;
};

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {
        {"class", required_argument, 0, 'c'},
        {"level", required_argument, 0, 'L'},
        {"by", required_argument, 0, 'b'},
        {"by-field", required_argument, 0, 'B'},
        {"prefix-len", required_argument, 0, 'P'},
        {"area", required_argument, 0, 'a'},
        {"engine", required_argument, 0, 'e'},
        {"unit", required_argument, 0, 'u'},
        {"decimals", required_argument, 0, 'd'},
        {"format", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    const char *klass = NULL, *by = NULL, *by_field = NULL;
    const char *area = "ellipsoidal", *unit = "ha", *outpath = NULL;
    double factor = 1.0 / 10000.0; /* m2 -> the output unit (ha) */
    long level = 0, prefix_len = 0, decimals = 2, threads = 0;
    enum om_overlay_engine engine = OM_ENGINE_AUTO;
    bool engine_given = false;
    enum cli_format fmt = CLI_TABLE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:j:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            klass = optarg;
            break;
        case 'L':
            if (!cli_parse_int(optarg, 0, 2, &level)) {
                return cli_usage(
                    "stats", "%s",
                    T("--level must be 0, 1 or 2", "--level 必须为 0、1 或 2"));
            }
            break;
        case 'b':
            by = optarg;
            break;
        case 'B':
            by_field = optarg;
            break;
        case 'P':
            if (!cli_parse_int(optarg, 1, 64, &prefix_len)) {
                return cli_usage("stats", "%s",
                                 T("bad --prefix-len", "--prefix-len 无效"));
            }
            break;
        case 'a':
            area = optarg;
            break;
        case 'e':
            if (cli_parse_engine("stats", optarg, &engine) != CLI_OK) {
                return CLI_USAGE;
            }
            engine_given = true;
            break;
        case 'u':
            if (!cli_parse_unit(optarg, &factor)) {
                return cli_usage(
                    "stats", "%s '%s'",
                    T("unknown unit (m2, ha, mu)", "未知单位(m2、ha、mu)"),
                    optarg);
            }
            unit = optarg;
            break;
        case 'd':
            if (!cli_parse_int(optarg, 0, 9, &decimals)) {
                return cli_usage(
                    "stats", "%s",
                    T("--decimals must be 0..9", "--decimals 须为 0..9"));
            }
            break;
        case 'f':
            if (!cli_parse_format(optarg, &fmt)) {
                return cli_usage("stats", "%s '%s'",
                                 T("unknown format", "未知格式"), optarg);
            }
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'j':
            if (!cli_parse_int(optarg, 1, 64, &threads)) {
                return cli_usage("stats", "%s", T("bad -j", "-j 无效"));
            }
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("stats", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 2 != argc) {
        return cli_usage(
            "stats", "%s",
            T("expected PROJECT and LAYER", "需要项目路径和图层代码"));
    }
    if (!klass) {
        return cli_usage("stats", "%s",
                         T("--class FIELD is required (e.g. --class DLBM)",
                           "必须指定 --class 字段(如 --class DLBM)"));
    }
    /* The engine only serves overlay assignment (--by LAYER alone). */
    bool overlay = by && !by_field;
    if (engine_given && !overlay) {
        cli_note("%s", T("--engine applies to overlay assignment (--by LAYER "
                         "without --by-field) only; ignored",
                         "--engine 仅用于叠加分配行政区(--by 图层且无 "
                         "--by-field),已忽略"));
    }
    const char *code = argv[optind + 1];
    struct om_stats_options o;
    memset(&o, 0, sizeof o);
    o.class_field = klass;
    o.level = (int)level;
    o.threads = (int)threads;
    o.engine = engine;
    if (strcmp(area, "ellipsoidal") == 0) {
        o.area = OM_AREA_ELLIPSOIDAL;
    } else if (strcmp(area, "planar") == 0) {
        o.area = OM_AREA_PLANAR;
    } else {
        o.area = OM_AREA_FIELD;
        o.area_field = strncmp(area, "field:", 6) == 0 ? area + 6 : area;
    }

    struct om_error err;
    om_error_clear(&err);
    struct om_project *p = NULL;
    struct om_layer *parcels = NULL;
    struct om_crs *crs = NULL;
    struct om_stats_result *r = NULL;
    struct cli_units units = {0};
    int rc = CLI_FAIL;
    FILE *out = stdout;
    if (om_project_open(argv[optind], true, &p, &err) != OM_OK) {
        return cli_report(&err);
    }
    const char *pcrs = om_project_crs(p);
    if (!pcrs) {
        om_project_close(p);
        return cli_fail("%s",
                        T("the project has no layers yet", "项目中还没有图层"));
    }
    /* planar areas in a projected CRS need no CRS object (nor PROJ) */
    if (!(o.area != OM_AREA_ELLIPSOIDAL && om_project_crs_is_projected(p)) &&
        om_crs_new(pcrs, &crs, &err) != OM_OK) {
        goto fail;
    }
    o.crs = crs;
    /* om_stats_run reads the class field, the area field (--area FIELD),
     * the prefix field (--by-field) and the unit code and name fields,
     * nothing else. */
    const char *fields[3] = {klass};
    size_t nfields = 1;
    if (o.area == OM_AREA_FIELD) {
        fields[nfields++] = o.area_field;
    }
    if (by_field) {
        fields[nfields++] = by_field;
    }
    if (cli_read_layer(p, code, 0, fields, nfields, 0, &parcels, &err) !=
        OM_OK) {
        goto fail;
    }
    if (by) {
        if (cli_units_read(p, by, &units) != CLI_OK) {
            goto done;
        }
        o.units = units.layer;
        o.unit_code_field = units.code_field;
        o.unit_name_field = units.name_field;
        o.assign = by_field ? OM_ASSIGN_PREFIX : OM_ASSIGN_OVERLAY;
    } else if (by_field) {
        o.assign = OM_ASSIGN_PREFIX;
        if (!prefix_len) {
            cli_progress_end();
            rc = cli_usage("stats", "%s",
                           T("--by-field without --by needs --prefix-len",
                             "未指定 --by 时 --by-field 需要 --prefix-len"));
            goto done;
        }
    }
    o.prefix_field = by_field;
    o.prefix_len = (int)prefix_len;
    if (om_stats_run(parcels, &o, &r, cli_progress(), &err) != OM_OK) {
        goto fail;
    }
    cli_progress_end();

    /* Rounded values: unit totals to the grand total, cells to the unit
     * total. */
    size_t nu = r->nunits;
    double *utot = calloc(nu + 1, sizeof *utot);
    double *utot_r = calloc(nu + 1, sizeof *utot_r);
    double *cell_r = calloc(r->ncells + 1, sizeof *cell_r);
    double *cell_v = calloc(r->ncells + 1, sizeof *cell_v);
    long long *ucount = calloc(nu + 1, sizeof *ucount);
    double *ctot_r = calloc(r->nclasses + 1, sizeof *ctot_r);
    long long *ccount = calloc(r->nclasses + 1, sizeof *ccount);
    if (!utot || !utot_r || !cell_r || !cell_v || !ucount || !ctot_r ||
        !ccount) {
        rc = cli_fail("out of memory");
        goto free_arrays;
    }
    double grand = 0.0;
    for (size_t i = 0; i < r->ncells; i++) {
        cell_v[i] = r->cells[i].area_m2 * factor;
        utot[r->cells[i].unit] += cell_v[i];
        grand += cell_v[i];
    }
    om_apportion(utot, nu, (int)decimals, grand, utot_r);
    for (size_t i = 0; i < r->ncells;) {
        size_t j = i;
        while (j < r->ncells && r->cells[j].unit == r->cells[i].unit) {
            j++;
        }
        om_apportion(cell_v + i, j - i, (int)decimals, utot_r[r->cells[i].unit],
                     cell_r + i);
        for (size_t k = i; k < j; k++) {
            ucount[r->cells[k].unit] += r->cells[k].nfeatures;
            ctot_r[r->cells[k].klass] += cell_r[k];
            ccount[r->cells[k].klass] += r->cells[k].nfeatures;
        }
        i = j;
    }
    double grand_r = 0.0;
    long long grand_count = 0;
    for (size_t u = 0; u < nu; u++) {
        grand_r += utot_r[u];
        grand_count += ucount[u];
    }
    bool by_units = o.assign != OM_ASSIGN_NONE;

    if (outpath) {
        out = fopen(outpath, "w");
        if (!out) {
            rc = cli_fail("%s: %s", outpath, T("cannot write", "无法写入"));
            goto free_arrays;
        }
    }
    char num[64];
    const char *area_desc =
        o.area == OM_AREA_ELLIPSOIDAL
            ? "ellipsoidal"
            : (o.area == OM_AREA_PLANAR ? "planar" : o.area_field);
    const char *area_note =
        o.area == OM_AREA_ELLIPSOIDAL
            ? T("ellipsoidal", "椭球面积")
            : (o.area == OM_AREA_PLANAR ? T("planar", "平面面积")
                                        : o.area_field);
    if (fmt == CLI_JSON) {
        fprintf(out, "{\n  \"layer\": ");
        cli_json_string(out, code);
        fprintf(out, ",\n  \"class_field\": ");
        cli_json_string(out, klass);
        fprintf(out, ",\n  \"level\": %ld,\n  \"area\": ", level);
        cli_json_string(out, area_desc);
        fprintf(out, ",\n  \"unit\": \"%s\",\n  \"by\": ", unit);
        cli_json_string(out, by ? by : by_field);
        fprintf(out,
                ",\n  \"features\": %lld,\n  \"skipped\": %lld,\n"
                "  \"split\": %lld,\n",
                (long long)r->nfeatures, (long long)r->nskipped,
                (long long)r->nsplit);
        cli_fmt_num(num, sizeof num, grand_r, (int)decimals);
        fprintf(out, "  \"total\": %s,\n  \"units\": [", num);
        size_t ci = 0;
        for (size_t u = 0; u < nu; u++) {
            fprintf(out, "%s\n    {\"code\": ", u ? "," : "");
            cli_json_string(out, r->units[u].code);
            fprintf(out, ", \"name\": ");
            cli_json_string(out, r->units[u].name);
            cli_fmt_num(num, sizeof num, utot_r[u], (int)decimals);
            fprintf(out, ", \"features\": %lld, \"total\": %s, \"classes\": [",
                    ucount[u], num);
            bool first = true;
            for (; ci < r->ncells && r->cells[ci].unit == u; ci++) {
                const struct om_stats_class *k =
                    &r->classes[r->cells[ci].klass];
                fprintf(out, "%s\n      {\"code\": ", first ? "" : ",");
                first = false;
                cli_json_string(out, k->code);
                fprintf(out, ", \"name\": ");
                cli_json_string(out, cli_zh ? k->name_zh : k->name_en);
                cli_fmt_num(num, sizeof num, cell_r[ci], (int)decimals);
                fprintf(out, ", \"features\": %lld, \"area\": %s}",
                        (long long)r->cells[ci].nfeatures, num);
            }
            fprintf(out, "]}");
        }
        fprintf(out, "\n  ]\n}\n");
    } else {
        struct cli_table t;
        char areahead[64];
        snprintf(areahead, sizeof areahead, "area_%s", unit);
        if (fmt == CLI_TABLE) {
            snprintf(areahead, sizeof areahead, "%s(%s)", T("area", "面积"),
                     unit_label(unit));
        }
        size_t ncols = by_units ? 6 : 4;
        cli_table_init(&t, ncols);
        const char *head_csv[] = {"unit_code",  "unit_name", "class",
                                  "class_name", "features",  areahead};
        const char *head_tab[] = {
            T("code", "代码"),      T("unit", "行政区"),
            T("class", "地类编码"), T("class name", "地类名称"),
            T("parcels", "图斑数"), areahead};
        const char *const *head = fmt == CLI_CSV ? head_csv : head_tab;
        cli_table_add(&t, by_units ? head : head + 2);
        cli_table_numeric(&t, ncols - 2);
        cli_table_numeric(&t, ncols - 1);
        const char *total_label = fmt == CLI_CSV ? "TOTAL" : T("total", "合计");
        for (size_t i = 0; i < r->ncells; i++) {
            const struct om_stats_cell *cell = &r->cells[i];
            const struct om_stats_class *k = &r->classes[cell->klass];
            const struct om_stats_unit *u = &r->units[cell->unit];
            char cnt[24];
            snprintf(cnt, sizeof cnt, "%lld", (long long)cell->nfeatures);
            cli_fmt_num(num, sizeof num, cell_r[i], (int)decimals);
            const char *cname =
                cli_zh || fmt == CLI_CSV ? k->name_zh : k->name_en;
            const char *row[] = {u->code, u->name, k->code, cname ? cname : "",
                                 cnt,     num};
            cli_table_add(&t, by_units ? row : row + 2);
            bool last =
                i + 1 == r->ncells || r->cells[i + 1].unit != cell->unit;
            if (by_units && last) {
                snprintf(cnt, sizeof cnt, "%lld", ucount[cell->unit]);
                cli_fmt_num(num, sizeof num, utot_r[cell->unit], (int)decimals);
                const char *trow[] = {u->code, u->name, total_label,
                                      "",      cnt,     num};
                cli_table_add(&t, trow);
            }
        }
        /* Grand total by class (sums of the rounded cells), then total. */
        if (by_units) {
            for (size_t k = 0; k < r->nclasses; k++) {
                if (ccount[k] == 0) {
                    continue;
                }
                char cnt[24];
                snprintf(cnt, sizeof cnt, "%lld", ccount[k]);
                cli_fmt_num(num, sizeof num, ctot_r[k], (int)decimals);
                const struct om_stats_class *kl = &r->classes[k];
                const char *cname =
                    cli_zh || fmt == CLI_CSV ? kl->name_zh : kl->name_en;
                const char *row[] = {total_label,        "",  kl->code,
                                     cname ? cname : "", cnt, num};
                cli_table_add(&t, row);
            }
        }
        char cnt[24];
        snprintf(cnt, sizeof cnt, "%lld", grand_count);
        cli_fmt_num(num, sizeof num, grand_r, (int)decimals);
        const char *grow[] = {total_label, "", total_label, "", cnt, num};
        cli_table_add(&t, by_units ? grow : grow + 2);
        cli_table_print(&t, out, fmt);
        cli_table_free(&t);
    }
    if (!cli_quiet) {
        fprintf(stderr, "onemap: %s %lld %s, %s: %s", code,
                (long long)r->nfeatures, T("features", "个图斑"),
                T("area", "面积"), area_note);
        if (o.assign == OM_ASSIGN_OVERLAY) {
            /* AUTO: the kernel (no geometry is wanted here). */
            bool kernel = engine != OM_ENGINE_GEOS;
            fprintf(stderr, ", %s: %s", T("engine", "引擎"),
                    kernel ? "kernel" : "geos");
        }
        if (r->nsplit) {
            fprintf(stderr, ", %lld %s", (long long)r->nsplit,
                    T("split across units", "个跨行政区"));
        }
        if (r->nskipped) {
            fprintf(stderr, ", %lld %s", (long long)r->nskipped,
                    T("skipped (empty or invalid geometry; see onemap info)",
                      "个已跳过(空或无效几何,见 onemap info)"));
        }
        if (r->nunits_unusable) {
            fprintf(stderr, ", %lld %s %s", (long long)r->nunits_unusable,
                    T("admin unit features of", "个行政区要素("), by);
            fprintf(stderr, "%s",
                    T(" have empty or invalid geometry and were not used "
                      "(re-import with --repair)",
                      ")为空或无效几何,未参与统计(请用 --repair 重新导入)"));
        }
        if (r->has_unassigned) {
            fprintf(stderr, ", %s",
                    T("some area lies outside every admin unit",
                      "部分面积不在任何行政区内"));
        }
        fprintf(stderr, "\n");
    }
    rc = CLI_OK;
    if (out != stdout && fclose(out) != 0) {
        rc = cli_fail("%s: %s", outpath, T("write failed", "写入失败"));
    }
free_arrays:
    free(utot);
    free(utot_r);
    free(cell_r);
    free(cell_v);
    free(ucount);
    free(ctot_r);
    free(ccount);
    goto done;
fail:
    cli_progress_end();
    rc = cli_report(&err);
done:
    om_stats_result_free(r);
    om_layer_free(parcels);
    cli_units_deinit(&units);
    om_crs_free(crs);
    om_project_close(p);
    return rc;
}
