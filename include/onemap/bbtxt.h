/*
 * onemap/bbtxt.h — the 部标 TXT (勘测定界界址点坐标交换格式) reader and
 * writer: the coordinate file a construction project boundary usually
 * arrives in (DESIGN.md §3).
 *
 * File layout:
 *
 *   [属性描述]
 *   格式版本号=1.0
 *   坐标系=2000国家大地坐标系
 *   几度分带=3
 *   带号=42
 *   ...
 *   [地块坐标]
 *   界址点数,地块面积(公顷),地块编号,地块名称,面,图幅号,地块用途,地类编码,@
 *   J1,1,4856000.123,42512345.678        <- 点号,圈号,X(northing),Y(easting)
 *   ...
 *
 * The reader is strict in what it reports and lenient in what it accepts:
 * GBK or UTF-8 (with or without BOM; valid UTF-8 is taken as UTF-8, else
 * GBK/GB18030), CRLF or LF, full-width commas, with or without the repeated
 * closing point, with or without the 描述 field before '@', a wrong 带号
 * (corrected from the easting prefix), swapped X/Y (detected from the
 * ranges of Chinese coordinates). Every correction is a note in the result.
 *
 * Rings: points of a parcel with the same 圈号 in a row form one ring.
 * Whether a ring is a shell or a hole is decided by containment, not by
 * its number or orientation (real files are inconsistent on both): a ring
 * inside an odd number of the parcel's other rings is a hole of the
 * innermost ring containing it; other rings are shells (圈号 1 normally
 * is). Orientation is kept as written.
 *
 * Thread safety: no global state; a struct om_bbtxt is read-only after
 * om_bbtxt_read and may be read from several threads.
 */
#ifndef ONEMAP_BBTXT_H
#define ONEMAP_BBTXT_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Explicit limits of the reader (beyond OM_LIMIT_LINE_BYTES per line). */
#define OM_BBTXT_MAX_FILE_BYTES ((size_t)256 << 20)
#define OM_BBTXT_MAX_PARCELS 100000u
#define OM_BBTXT_MAX_PARCEL_POINTS 1000000u
#define OM_BBTXT_MAX_PARCEL_RINGS 10000u
#define OM_BBTXT_MAX_FIELDS 32u

/* One `key=value` line of [属性描述], in file order, UTF-8. */
struct om_bbtxt_kv {
    const char *key;
    const char *value;
};

/*
 * One point line, in file order (the 界址点成果表). `north`/`east` are the
 * file's X and Y after a swap correction (so always northing / easting,
 * easting with the zone prefix when the file has it). Closing points are
 * kept as written.
 */
struct om_bbtxt_point {
    const char *name; /* 点号, e.g. "J1" */
    int ring;         /* 圈号 */
    double north, east;
    size_t parcel; /* index into parcels */
    long line;
};

/* One parcel (地块): header fields as written. Feature `index` of layer. */
struct om_bbtxt_parcel {
    long line;                   /* line of its header */
    long npoints_declared;       /* 界址点数; -1 when empty */
    double area_ha;              /* 地块面积 (公顷); NaN when empty */
    const char *code;            /* 地块编号 */
    const char *name;            /* 地块名称 */
    const char *shape;           /* 记录图形属性: 面 / 线 / 点 */
    const char *sheet;           /* 图幅号 */
    const char *use;             /* 地块用途 */
    const char *dlbm;            /* 地类编码 */
    const char *note;            /* 描述, NULL when absent */
    size_t first_point, npoints; /* range in points[] */
    double planar_m2;            /* computed planar (Gauss-Krüger) area */
    double ellipsoidal_m2;       /* computed CGCS2000 ellipsoidal area; NaN if
                                    the zone is unknown */
};

/* A warning: something accepted but suspicious or corrected. */
struct om_bbtxt_note {
    long line;        /* 0 for the whole file */
    const char *code; /* stable id, e.g. "zone_mismatch" (see below) */
    const char *zh;   /* Chinese message */
    const char *en;   /* English message */
};
/*
 * Note codes: zone_mismatch (带号 differs from the easting prefix; prefix
 * used), zone_missing (no usable zone: layer without CRS), mixed_zones,
 * swapped_xy, coord_range (coordinates not in Chinese ranges),
 * area_mismatch, point_count (界址点数 differs from the point lines),
 * unclosed_ring, shape_type (not 面), datum (坐标系 is not CGCS2000: the
 * coordinates are labelled CGCS2000 anyway), ignored_line, ignored_field.
 */

struct om_bbtxt {
    struct om_bbtxt_kv *keys;
    size_t nkeys;
    /*
     * The parcels as a finished layer (OM_LAYER_KEEP_ORDER, fid = 1-based
     * parcel number), x = easting, y = northing, CRS EPSG:4513..4554 (NULL
     * when the zone is unknown). Fields: DKBH 地块编号, DKMC 地块名称, DKYT
     * 地块用途, DLBM 地类编码, TFH 图幅号 (text), DKMJ_HA declared area
     * (real, NULL when empty), NOTE 描述 (text). Owned by this struct.
     */
    struct om_layer *layer;
    struct om_bbtxt_parcel *parcels;
    size_t nparcels;
    struct om_bbtxt_point *points;
    size_t npoints;
    struct om_bbtxt_note *notes;
    size_t nnotes;
    int zone;                    /* 3-degree zone used, 0 when unknown */
    bool has_prefix;             /* eastings carry the zone prefix */
    bool swapped;                /* X and Y were swapped in the file */
    const char *encoding;        /* "UTF-8" or "GBK" */
    struct om_bbtxt_priv *priv_; /* storage, do not touch */
};

struct om_bbtxt_options {
    /*
     * Project extent in onemap x/y of the file's CRS (easting with prefix
     * when the file has it); a point outside gives OM_EGEOM. Ignored when
     * has_extent is false.
     */
    bool has_extent;
    struct om_rect extent;
    /* Area tolerance: a note when |declared - computed| exceeds both
     * (0 = defaults 0.001 relative and 0.01 ha). */
    double area_rel_tol;
    double area_abs_ha;
    /* Zone to use when the eastings have no prefix and 带号 is missing
     * (0 = none). */
    int zone;
    /* Skip the validity and area checks (fuzzing, huge files). */
    bool no_checks;
};

/*
 * Read the file at `path` (`opt` may be NULL). On success *out is a new
 * result (free with om_bbtxt_free).
 *
 * Errors (om_error.line = the line): OM_EIO (cannot read), OM_EPARSE
 * (missing [地块坐标] section, a point line before any parcel header, a
 * bad number or ring number, a ring of fewer than 3 distinct points, a
 * parcel without points, text that is neither UTF-8 nor GBK), OM_EGEOM (a
 * self-intersecting or otherwise invalid parcel: the line of its header
 * and the GEOS reason and location; a point outside opt->extent),
 * OM_ELIMIT (line longer than OM_LIMIT_LINE_BYTES, file, parcel or point
 * limits above), OM_ENOMEM. On failure *out is NULL.
 *
 * A 界址点数 that differs from the point lines, a declared area that
 * differs from the computed one (it is accepted if close to either the
 * planar or the ellipsoidal area), a corrected zone or X/Y swap are notes,
 * not errors.
 */
enum om_status om_bbtxt_read(const char *path,
                             const struct om_bbtxt_options *opt,
                             struct om_bbtxt **out, struct om_error *err);

/* The same on bytes in memory; `source` names them in errors. */
enum om_status om_bbtxt_parse(const char *data, size_t len, const char *source,
                              const struct om_bbtxt_options *opt,
                              struct om_bbtxt **out, struct om_error *err);

/* Free a result. Accepts NULL. */
void om_bbtxt_free(struct om_bbtxt *t);

/* The value of header key `key` (exact UTF-8 match), NULL if absent. */
const char *om_bbtxt_header(const struct om_bbtxt *t, const char *key);

struct om_bbtxt_write_options {
    /* Zone of the coordinates when the layer has no CRS (0 = none). */
    int zone;
    bool utf8;    /* UTF-8 instead of GBK (the default, as real files) */
    int decimals; /* coordinate decimals, 0 = 4 */
    const char *producer; /* 数据产生单位; NULL = "onemap" */
    const char *date;     /* 数据产生日期; NULL = today (YYYY-MM-DD) */
};

/*
 * Write the polygons of `layer` (x = easting, y = northing in a CGCS2000
 * 3-degree Gauss-Krüger CRS, EPSG:4513..4554; or no CRS and opt->zone) to
 * `path` as a 部标 TXT: header keys 格式版本号 数据产生单位 数据产生日期 坐标系
 * 几度分带 投影类型 计量单位 带号 精度 转换参数, then per feature (fid order) a
 * parcel line with 界址点数 (point lines written), 地块面积 in 公顷 with 4
 * decimals (field DKMJ_HA when set, else the planar area), DKBH (else the
 * fid), DKMC, 面, TFH, DKYT, DLBM, NOTE as 描述 when set, '@'; then the
 * points J1..Jn numbered through the parcel, rings numbered 1.. (a part's
 * shell then its holes), each ring closed by repeating its first point
 * (and number). X = northing, Y = easting always with the zone prefix.
 * CRLF line ends. Commas and line breaks in text become '，' and ' '.
 * Features without geometry are skipped.
 *
 * Errors: OM_ECRS (not a GK3 CRS and no opt->zone), OM_EINVAL (text not
 * representable in GBK: use utf8), OM_EIO, OM_ENOMEM. On failure the file
 * is removed.
 */
enum om_status om_bbtxt_write(const struct om_layer *layer, const char *path,
                              const struct om_bbtxt_write_options *opt,
                              struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
