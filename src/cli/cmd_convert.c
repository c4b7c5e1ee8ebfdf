/*
 * cmd_convert.c — `onemap convert INPUT OUTPUT [options]`: 部标 TXT to any
 * GIS format GDAL writes, and any GIS format (or TXT) to 部标 TXT in a
 * CGCS2000 3-degree zone. Prints the reader's warnings in the user's
 * language.
 */
#include "cli.h"
#include "onemap/bbtxt.h"
#include "onemap/onemap.h"

#include <getopt.h>
#include <math.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static void help(void)
{
    printf(
        "%s\n\n%s\n",
        T("usage: onemap convert INPUT OUTPUT [--zone N] [--src-crs SPEC]\n"
          "                      [--layer NAME] [--encoding ENC] "
          "[--format DRIVER]\n                      [--utf8] "
          "[--decimals N] [--overwrite]",
          "用法: onemap convert 输入 输出 [--zone 带号] [--src-crs 坐标系]\n"
          "                      [--layer 图层] [--encoding 编码] "
          "[--format 驱动]\n                      [--utf8] "
          "[--decimals 位数] [--overwrite]"),
        T("Convert a 部标 TXT coordinate file (勘测定界界址点坐标交换格式)\n"
          "to any GIS format (.gpkg, .shp, .geojson, ...), or any GIS "
          "file to a\n部标 TXT (output ending in .txt). For TXT output the "
          "geometry is\nreprojected to the CGCS2000 3-degree zone --zone N "
          "(default: the\nlayer's own zone, else the zone of its centre); "
          "the file is GBK\nwith CRLF unless --utf8. For TXT input, --zone "
          "gives the zone when\nthe eastings have no prefix and 带号 is "
          "missing. Warnings (zone\ncorrected, X/Y swapped, area differs, "
          "...) go to stderr.",
          "部标 TXT 坐标文件(勘测定界界址点坐标交换格式)与各种 GIS 格式互转:\n"
          "输出为 .gpkg、.shp、.geojson 等,或以 .txt 结尾时输出部标 TXT。\n"
          "输出 TXT 时几何转换到 CGCS2000 3 度带 --zone N(默认用图层本身"
          "的带,\n否则用其中心所在带);文件为 GBK 编码、CRLF 换行,"
          "--utf8 改为 UTF-8。\n输入 TXT 时,横坐标无带号前缀且缺少带号时"
          "用 --zone 指定。\n警告(带号纠正、XY 互换、面积不符等)输出到"
          "标准错误。"));
}

static bool is_txt(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcasecmp(path + n - 4, ".txt") == 0;
}

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

/* One line per parcel: computed and declared areas. */
static void print_areas(const struct om_bbtxt *t)
{
    for (size_t i = 0; i < t->nparcels; i++) {
        const struct om_bbtxt_parcel *p = &t->parcels[i];
        printf("%s %s: %.3f m² %s, %.3f m² %s", T("parcel", "地块"), p->code,
               p->planar_m2, T("planar", "平面"), p->ellipsoidal_m2,
               T("ellipsoidal", "椭球"));
        if (!isnan(p->area_ha)) {
            printf(", %s %.4f %s", T("declared", "申报"), p->area_ha,
                   T("ha", "公顷"));
        }
        printf("\n");
    }
}

/* The GK3 zone of `layer`'s CRS (0 if none); *crs_out gets the parsed CRS
 * (NULL if the layer has none). */
static enum om_status layer_zone(const struct om_layer *layer, int *zone,
                                 struct om_crs **crs_out, struct om_error *err)
{
    *zone = 0;
    *crs_out = NULL;
    const char *cs = om_layer_crs(layer);
    if (!cs) {
        return OM_OK;
    }
    enum om_status st = om_crs_new(cs, crs_out, err);
    if (st == OM_OK) {
        *zone = om_gk3_zone_of_epsg(om_crs_epsg(*crs_out), NULL);
    }
    return st;
}

static enum om_status set_err(struct om_error *err, enum om_status st,
                              const char *msg)
{
    om_error_clear(err);
    err->status = st;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return st;
}

/* Zone of the centre of the layer's extent. */
static enum om_status centre_zone(const struct om_layer *layer,
                                  const struct om_crs *src, int *zone,
                                  struct om_error *err)
{
    struct om_crs *geo = NULL;
    struct om_transform *tr = NULL;
    struct om_rect e = om_layer_extent(layer);
    double xy[2] = {(e.minx + e.maxx) / 2, (e.miny + e.maxy) / 2};
    enum om_status st = om_crs_new("EPSG:4490", &geo, err);
    if (st == OM_OK) {
        st = om_transform_new(src, geo, &tr, err);
    }
    if (st == OM_OK) {
        st = om_transform_points(tr, xy, 1, err);
    }
    om_transform_free(tr);
    om_crs_free(geo);
    *zone = st == OM_OK ? om_gk3_zone_for_lon(xy[0]) : 0;
    return st;
}

/* Reproject `layer` to zone `zone` with prefix unless it is in that zone. */
static enum om_status to_zone(struct om_layer *layer, int *zone,
                              struct om_error *err)
{
    struct om_crs *src = NULL, *dst = NULL;
    int have = 0;
    enum om_status st = layer_zone(layer, &have, &src, err);
    if (st != OM_OK) {
        return st;
    }
    if (!src) {
        if (*zone == 0) {
            return set_err(err, OM_ECRS,
                           T("the layer has no CRS: give --zone N (or "
                             "--src-crs)",
                             "图层无坐标系:请用 --zone(或 --src-crs)指定"));
        }
        return OM_OK; /* the writer takes --zone as the layer's zone */
    }
    if (*zone == 0) {
        *zone = have;
    }
    if (*zone == 0) {
        st = centre_zone(layer, src, zone, err);
        if (st == OM_OK && *zone == 0) {
            st = set_err(err, OM_ECRS,
                         T("the layer is outside China's 3-degree zones "
                           "25..45: give --zone N",
                           "图层不在 3 度带 25..45 范围内,请用 --zone 指定"));
        }
    }
    if (st == OM_OK && have != *zone) {
        char spec[32];
        snprintf(spec, sizeof spec, "EPSG:%d", om_gk3_epsg(*zone, true));
        struct om_transform *tr = NULL;
        st = om_crs_new(spec, &dst, err);
        if (st == OM_OK) {
            st = om_transform_new(src, dst, &tr, err);
        }
        if (st == OM_OK) {
            st = om_layer_transform(layer, tr, cli_progress(), err);
            cli_progress_end();
        }
        om_transform_free(tr);
    }
    om_crs_free(dst);
    om_crs_free(src);
    return st;
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zone", required_argument, 0, 'z'},
        {"src-crs", required_argument, 0, 's'},
        {"layer", required_argument, 0, 'l'},
        {"encoding", required_argument, 0, 'e'},
        {"format", required_argument, 0, 'f'},
        {"utf8", no_argument, 0, 'u'},
        {"decimals", required_argument, 0, 'd'},
        {"overwrite", no_argument, 0, 'O'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    long zone = 0, decimals = 0;
    struct om_read_options ro;
    struct om_write_options wo;
    struct om_bbtxt_write_options bo;
    memset(&ro, 0, sizeof ro);
    memset(&wo, 0, sizeof wo);
    memset(&bo, 0, sizeof bo);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'z':
            if (!cli_parse_int(optarg, OM_GK3_ZONE_MIN, OM_GK3_ZONE_MAX,
                               &zone)) {
                return cli_usage(
                    "convert", "%s",
                    T("--zone must be 25..45", "--zone 须为 25..45"));
            }
            break;
        case 's':
            ro.src_crs = optarg;
            break;
        case 'l':
            ro.layer = optarg;
            break;
        case 'e':
            ro.encoding = optarg;
            wo.encoding = optarg;
            break;
        case 'f':
            wo.format = optarg;
            break;
        case 'u':
            bo.utf8 = true;
            break;
        case 'd':
            if (!cli_parse_int(optarg, 1, 9, &decimals)) {
                return cli_usage(
                    "convert", "%s",
                    T("--decimals must be 1..9", "--decimals 须为 1..9"));
            }
            break;
        case 'O':
            wo.overwrite = true;
            break;
        case 'h':
            help();
            return CLI_OK;
        default:
            return cli_usage("convert", "%s", T("bad option", "选项错误"));
        }
    }
    if (optind + 2 != argc) {
        return cli_usage("convert", "%s",
                         T("expected INPUT and OUTPUT", "需要输入和输出路径"));
    }
    const char *in = argv[optind], *out = argv[optind + 1];
    bool out_txt = is_txt(out) && !wo.format;
    struct stat sb;
    if (out_txt && !wo.overwrite && stat(out, &sb) == 0) {
        return cli_fail(
            "%s: %s", out,
            T("exists (use --overwrite)", "已存在(可用 --overwrite)"));
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_bbtxt *t = NULL;
    struct om_layer *owned = NULL, *layer = NULL;
    enum om_status st;
    if (is_txt(in)) {
        struct om_bbtxt_options bro;
        memset(&bro, 0, sizeof bro);
        bro.zone = (int)zone;
        st = om_bbtxt_read(in, &bro, &t, &err);
        if (st == OM_OK) {
            print_notes(t, in);
            print_areas(t);
            layer = t->layer;
        }
    } else {
        st = om_source_read(in, &ro, &owned, cli_progress(), &err);
        cli_progress_end();
        layer = owned;
    }
    if (st != OM_OK) {
        return cli_report(&err);
    }
    int z = (int)zone;
    if (out_txt) {
        st = to_zone(layer, &z, &err);
        if (st == OM_OK) {
            bo.zone = z;
            bo.decimals = (int)decimals;
            st = om_bbtxt_write(layer, out, &bo, &err);
        }
    } else {
        st = om_layer_write(layer, out, &wo, cli_progress(), &err);
        cli_progress_end();
    }
    size_t n = om_layer_nfeatures(layer);
    om_bbtxt_free(t);
    om_layer_free(owned);
    if (st != OM_OK) {
        return cli_report(&err);
    }
    printf("%s %s -> %s: %zu %s\n", T("converted", "已转换"), in, out, n,
           T("parcels", "个地块"));
    return CLI_OK;
}
