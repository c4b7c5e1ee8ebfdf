/*
 * onemap/codes.h — land-use code tables, their validator and crosswalk.
 *
 * Three tables are compiled into the library; no file is read at run
 * time. The source of truth is the CSV files in data/codes/, turned into
 * C by tools/gen-codes.
 *
 * OM_CODES_DLBM: 三调工作分类 (TD/T 1055-2019 附录 A), the DLBM field of
 *   DLTB. 13 一级类 (00 湿地 to 12), the 55 二级类 of the standard plus
 *   1208 后备耕地 of the annual change survey, and 13 suffixed codes
 *   (K 可调整地类, 1104A, 1107A, 0810A, 08H2A) at level 3.
 * OM_CODES_YDYH: 国土空间调查、规划、用途管制用地用海分类
 *   (自然资办发〔2023〕234号). 24 一级类, 111 二级类, 40 三级类.
 * OM_CODES_CZCS: 城镇村属性码 (CZCSXM of DLTB). 20 (the group
 *   城镇村及工矿用地), 201 城市 to 205 特殊用地, and 201A-203A.
 *
 * Codes are ASCII; names are UTF-8. Every returned pointer points to static
 * read-only data: never free it. All functions are pure lookups, allocate
 * nothing and are thread-safe. A NULL `code` argument is treated as "not a
 * code" (the functions return NULL / false / OM_CODE_BAD_PATTERN).
 *
 * Codes are matched exactly: no trimming, no case folding ("05h1" and
 * "0101 " are bad patterns). Trim text attributes before checking them.
 */
#ifndef ONEMAP_CODES_H
#define ONEMAP_CODES_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum om_code_table {
    OM_CODES_DLBM = 1, /* 三调工作分类 (DLBM) */
    OM_CODES_YDYH,     /* 用地用海分类 2023 */
    OM_CODES_CZCS      /* 城镇村属性码 (CZCSXM) */
};

/*
 * One class of a code table.
 *
 * `level` is 1 (一级类), 2 (二级类) or 3 (三级类 in YDYH; suffixed variants
 * such as 0201K or 1104A in DLBM, whose parent is the unsuffixed 二级类).
 * `parent` is the code of the class one level up (NULL for level 1): for
 * DLBM it is the class named by the code's first two digits (0303's parent
 * is 03 林地). `stat_class` is the 一级类 the class is counted under in
 * statistics: for DLBM the eight wetland classes 0303 0304 0306 0402 0603
 * 1105 1106 1108 have stat_class "00" (湿地); otherwise it is the first
 * two characters of the code. `source` names the standard the row comes
 * from ("TD/T 1055-2019", "国土变更调查" for annual-survey extensions,
 * "自然资办发〔2023〕234号"). `note` is an English remark, "" if none.
 */
struct om_code {
    const char *code;
    const char *name_zh;
    const char *name_en;
    int level;
    const char *parent;
    const char *stat_class;
    const char *source;
    const char *note;
};

/* The exact class `code` of table `t`, or NULL if unknown. */
const struct om_code *om_code_find(enum om_code_table t, const char *code);

/* Number of rows of table `t` (0 for an invalid `t`). */
size_t om_code_count(enum om_code_table t);

/*
 * Row `i` of table `t` in the order of the standard (each class followed by
 * its subclasses), or NULL when `i` >= om_code_count(t).
 */
const struct om_code *om_code_at(enum om_code_table t, size_t i);

/* A short name of the table, e.g. "DLBM (三调工作分类)"; "?" if invalid. */
const char *om_code_table_name(enum om_code_table t);

/*
 * Result of a code check. OM_CODE_UNKNOWN_SUFFIX is DLBM only: the base
 * class is known but the suffixed code is not (e.g. 0101K: K is defined
 * for 园地, 林地, 人工牧草地 and 养殖坑塘 only); *out is then the base
 * class, so statistics can still roll it up.
 */
enum om_code_check {
    OM_CODE_OK = 0,        /* a known class */
    OM_CODE_BAD_PATTERN,   /* not shaped like a code of this table */
    OM_CODE_UNKNOWN,       /* well-formed but not in the table */
    OM_CODE_UNKNOWN_SUFFIX /* known base class, unknown suffix */
};

/*
 * Check a DLBM value of a DLTB feature. Accepted shapes:
 *   - the pattern [0-9]{2}([0-9]{2}|H[12])[A-Z]? (DESIGN.md §3), and
 *   - "09" exactly (特殊用地 has no 二级类, so 09 itself is the DLBM value).
 * Any other 2-character code ("01", "00") is OM_CODE_BAD_PATTERN: a parcel
 * must carry a 二级类. A suffixed code that is in the table (0201K, 1104A)
 * is OM_CODE_OK; one whose base is known but the combination is not
 * (0101K) is OM_CODE_UNKNOWN_SUFFIX. When `out` is not NULL it receives the
 * matched row (the base row for UNKNOWN_SUFFIX), or NULL.
 */
enum om_code_check om_dlbm_check(const char *code, const struct om_code **out);

/*
 * The code a DLBM value is counted under, written into `buf`:
 *   level 1: the statistical 一级类 (stat_class): "00" for 0303/1105/…,
 *            "03" for 0301K, "09" for 09;
 *   level 2: the 二级类 without suffix ("0303", "0301" for 0301K, "1104" for
 *            1104A); "09" stays "09".
 * Accepts what om_dlbm_check accepts as OK or UNKNOWN_SUFFIX. Returns `buf`,
 * or NULL (buf untouched) for a bad or unknown code or another level.
 */
const char *om_dlbm_rollup(const char *code, int level, char buf[8]);

/*
 * Check a 用地用海 code: 2, 4 or 6 ASCII digits (BAD_PATTERN otherwise),
 * then looked up (OK or UNKNOWN). `out` as for om_dlbm_check.
 */
enum om_code_check om_ydyh_check(const char *code, const struct om_code **out);

/*
 * Check a CZCSXM value: [0-9]{3}[A-Z]? (BAD_PATTERN otherwise), then looked
 * up exactly (OK or UNKNOWN). `out` as for om_dlbm_check.
 */
enum om_code_check om_czcs_check(const char *code, const struct om_code **out);

/*
 * One row of the DLBM -> 用地用海 crosswalk. `ydyh` is the default target
 * (a 一级类 such as "09" or "15" where 三调 does not distinguish the uses);
 * `alternatives` lists other possible targets separated by single spaces
 * ("" if none) and `note` says when to use them ("" if none).
 */
struct om_code_xwalk {
    const char *dlbm;
    const char *ydyh;
    const char *alternatives;
    const char *note;
};

/*
 * The crosswalk row of a DLBM value: the exact code's row, else (for an
 * UNKNOWN_SUFFIX code such as 0101K) the base class's row. NULL for a bad
 * or unknown code.
 */
const struct om_code_xwalk *om_dlbm_xwalk(const char *dlbm);

/* Shorthand: om_dlbm_xwalk(dlbm)->ydyh, or NULL. */
const char *om_dlbm_to_ydyh(const char *dlbm);

/* Number of crosswalk rows, and row `i` (NULL past the end). */
size_t om_xwalk_count(void);
const struct om_code_xwalk *om_xwalk_at(size_t i);

/*
 * Whether `code` belongs to the named group of table `t`. Unknown codes,
 * unknown groups and NULL arguments give false. For DLBM a suffixed code
 * not in the table (0101K) is judged by its base class; other tables
 * match exactly. Level-1 rows belong to the 三大类 group only when the
 * whole class does (01 is agricultural, 04 草地 is not: 0404 is unused).
 *
 * DLBM groups (statistical 一级类, so wetland classes are only "wetland"):
 *   cultivated 耕地, garden 种植园用地, forest 林地, grassland 草地,
 *   wetland 湿地, commercial, industrial_mining, residential,
 *   public_service, special, transport, water, other_land,
 *   agricultural 农用地, construction 建设用地, unused 未利用地 (the 三大类
 *   of GB/T 21010-2017 附录 A; 1107A 干渠 is construction), adjustable (K).
 * YDYH groups: land, sea, cultivated, garden, forest, grassland, wetland,
 *   agri_facility, residential, public_service, commercial,
 *   industrial_mining, warehouse, transport, utilities, green_open,
 *   special, reserved, water, other_land, agricultural, construction,
 *   unused.
 * CZCS groups: urban (201 202), city, town, village, industrial_mining,
 *   special, detached_industrial (201A-203A).
 * data/codes/groups.csv documents each group.
 */
bool om_code_in_group(enum om_code_table t, const char *code,
                      const char *group);

/* Group name `i` of table `t` (in the order above), NULL past the end. */
const char *om_code_group_names(enum om_code_table t, size_t i);

/* The Chinese name of a group ("农用地" for "agricultural"), or NULL. */
const char *om_code_group_name_zh(enum om_code_table t, const char *group);

#ifdef __cplusplus
}
#endif
#endif
