/*
 * codes.c — lookups over the compiled-in land-use code tables: exact find,
 * DLBM / 用地用海 / CZCSXM pattern checks, statistical roll-up, the DLBM ->
 * 用地用海 crosswalk and named groups. The data is in codes_data.c
 * (generated from data/codes/ (CSV files) by tools/gen-codes).
 *
 * Everything here is a pure function over static const data: no
 * allocation, no state, thread-safe.
 */
#include "rules/codes_data.h"

#include <string.h>

static const struct om__code_tab *table_of(enum om_code_table t)
{
    switch (t) {
    case OM_CODES_DLBM:
        return &om__codes_dlbm;
    case OM_CODES_YDYH:
        return &om__codes_ydyh;
    case OM_CODES_CZCS:
        return &om__codes_czcs;
    }
    return NULL;
}

static const struct om__code_row *tab_find(const struct om__code_tab *tab,
                                           const char *code)
{
    size_t lo = 0, hi = tab->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct om__code_row *r = &tab->rows[tab->sorted[mid]];
        int cmp = strcmp(code, r->c.code);
        if (cmp == 0) {
            return r;
        }
        if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

const struct om_code *om_code_find(enum om_code_table t, const char *code)
{
    const struct om__code_tab *tab = table_of(t);
    if (!tab || !code) {
        return NULL;
    }
    const struct om__code_row *r = tab_find(tab, code);
    return r ? &r->c : NULL;
}

size_t om_code_count(enum om_code_table t)
{
    const struct om__code_tab *tab = table_of(t);
    return tab ? tab->nrows : 0;
}

const struct om_code *om_code_at(enum om_code_table t, size_t i)
{
    const struct om__code_tab *tab = table_of(t);
    if (!tab || i >= tab->nrows) {
        return NULL;
    }
    return &tab->rows[i].c;
}

const char *om_code_table_name(enum om_code_table t)
{
    switch (t) {
    case OM_CODES_DLBM:
        return "DLBM (三调工作分类)";
    case OM_CODES_YDYH:
        return "YDYH (用地用海分类)";
    case OM_CODES_CZCS:
        return "CZCSXM (城镇村属性码)";
    }
    return "?";
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

/*
 * Length of the unsuffixed DLBM base ("09" -> 2, "0101"/"05H1" -> 4), or 0
 * if `code` does not have a DLBM shape. *has_suffix tells whether one
 * trailing capital letter follows the base.
 */
static size_t dlbm_shape(const char *code, bool *has_suffix)
{
    *has_suffix = false;
    if (!is_digit(code[0]) || !is_digit(code[1])) {
        return 0;
    }
    if (code[2] == '\0') {
        /* Only a 一级类 without 二级类 can be a parcel's code. */
        return strcmp(code, "09") == 0 ? 2 : 0;
    }
    bool mid_ok = (is_digit(code[2]) && is_digit(code[3])) ||
                  (code[2] == 'H' && (code[3] == '1' || code[3] == '2'));
    if (!mid_ok) {
        return 0;
    }
    if (code[4] == '\0') {
        return 4;
    }
    if (is_upper(code[4]) && code[5] == '\0') {
        *has_suffix = true;
        return 4;
    }
    return 0;
}

/* The DLBM row `code` stands for (exact, else base) and the check result. */
static enum om_code_check dlbm_resolve(const char *code,
                                       const struct om__code_row **out)
{
    *out = NULL;
    if (!code) {
        return OM_CODE_BAD_PATTERN;
    }
    bool has_suffix;
    size_t nbase = dlbm_shape(code, &has_suffix);
    if (nbase == 0) {
        return OM_CODE_BAD_PATTERN;
    }
    const struct om__code_row *r = tab_find(&om__codes_dlbm, code);
    if (r) {
        *out = r;
        return OM_CODE_OK;
    }
    if (!has_suffix) {
        return OM_CODE_UNKNOWN;
    }
    char base[8];
    memcpy(base, code, nbase);
    base[nbase] = '\0';
    r = tab_find(&om__codes_dlbm, base);
    if (!r) {
        return OM_CODE_UNKNOWN;
    }
    *out = r;
    return OM_CODE_UNKNOWN_SUFFIX;
}

enum om_code_check om_dlbm_check(const char *code, const struct om_code **out)
{
    const struct om__code_row *r;
    enum om_code_check st = dlbm_resolve(code, &r);
    if (out) {
        *out = r ? &r->c : NULL;
    }
    return st;
}

const char *om_dlbm_rollup(const char *code, int level, char buf[8])
{
    const struct om__code_row *r;
    if (level != 1 && level != 2) {
        return NULL;
    }
    enum om_code_check st = dlbm_resolve(code, &r);
    if (st != OM_CODE_OK && st != OM_CODE_UNKNOWN_SUFFIX) {
        return NULL;
    }
    /* climb from a suffixed variant (level 3) to its 二级类 */
    while (r->c.level > 2) {
        r = tab_find(&om__codes_dlbm, r->c.parent);
        if (!r) {
            return NULL; /* cannot happen: gen-codes checks parents */
        }
    }
    const char *s = level == 1 ? r->c.stat_class : r->c.code;
    size_t n = strlen(s);
    if (n >= 8) {
        return NULL;
    }
    memcpy(buf, s, n + 1);
    return buf;
}

enum om_code_check om_ydyh_check(const char *code, const struct om_code **out)
{
    if (out) {
        *out = NULL;
    }
    if (!code) {
        return OM_CODE_BAD_PATTERN;
    }
    size_t n = 0;
    while (n < 7 && is_digit(code[n])) {
        n++;
    }
    if (code[n] != '\0' || (n != 2 && n != 4 && n != 6)) {
        return OM_CODE_BAD_PATTERN;
    }
    const struct om__code_row *r = tab_find(&om__codes_ydyh, code);
    if (!r) {
        return OM_CODE_UNKNOWN;
    }
    if (out) {
        *out = &r->c;
    }
    return OM_CODE_OK;
}

enum om_code_check om_czcs_check(const char *code, const struct om_code **out)
{
    if (out) {
        *out = NULL;
    }
    if (!code || !is_digit(code[0]) || !is_digit(code[1]) ||
        !is_digit(code[2])) {
        return OM_CODE_BAD_PATTERN;
    }
    if (code[3] != '\0' && !(is_upper(code[3]) && code[4] == '\0')) {
        return OM_CODE_BAD_PATTERN;
    }
    const struct om__code_row *r = tab_find(&om__codes_czcs, code);
    if (!r) {
        return OM_CODE_UNKNOWN;
    }
    if (out) {
        *out = &r->c;
    }
    return OM_CODE_OK;
}

static const struct om_code_xwalk *xwalk_find(const char *dlbm)
{
    size_t lo = 0, hi = om__codes_nxwalk;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct om_code_xwalk *x =
            &om__codes_xwalk[om__codes_xwalk_sorted[mid]];
        int cmp = strcmp(dlbm, x->dlbm);
        if (cmp == 0) {
            return x;
        }
        if (cmp < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return NULL;
}

const struct om_code_xwalk *om_dlbm_xwalk(const char *dlbm)
{
    const struct om__code_row *r;
    enum om_code_check st = dlbm_resolve(dlbm, &r);
    if (st != OM_CODE_OK && st != OM_CODE_UNKNOWN_SUFFIX) {
        return NULL;
    }
    const struct om_code_xwalk *x = xwalk_find(r->c.code);
    if (!x && r->c.level > 2) {
        x = xwalk_find(r->c.parent); /* a suffixed code maps as its base */
    }
    return x;
}

const char *om_dlbm_to_ydyh(const char *dlbm)
{
    const struct om_code_xwalk *x = om_dlbm_xwalk(dlbm);
    return x ? x->ydyh : NULL;
}

size_t om_xwalk_count(void)
{
    return om__codes_nxwalk;
}

const struct om_code_xwalk *om_xwalk_at(size_t i)
{
    return i < om__codes_nxwalk ? &om__codes_xwalk[i] : NULL;
}

static int group_index(const struct om__code_tab *tab, const char *group)
{
    for (size_t i = 0; i < tab->ngroups; i++) {
        if (strcmp(tab->groups[i].name, group) == 0) {
            return (int)i;
        }
    }
    return -1;
}

bool om_code_in_group(enum om_code_table t, const char *code, const char *group)
{
    const struct om__code_tab *tab = table_of(t);
    if (!tab || !code || !group) {
        return false;
    }
    int gi = group_index(tab, group);
    if (gi < 0) {
        return false;
    }
    const struct om__code_row *r = NULL;
    if (t == OM_CODES_DLBM) {
        enum om_code_check st = dlbm_resolve(code, &r);
        if (st != OM_CODE_OK && st != OM_CODE_UNKNOWN_SUFFIX) {
            /* 00 and other level-1 codes are no DLBM values, but their
               rows still carry groups: allow an exact table hit */
            r = tab_find(tab, code);
        }
    } else {
        r = tab_find(tab, code);
    }
    return r && (r->groups >> gi & 1u);
}

const char *om_code_group_names(enum om_code_table t, size_t i)
{
    const struct om__code_tab *tab = table_of(t);
    if (!tab || i >= tab->ngroups) {
        return NULL;
    }
    return tab->groups[i].name;
}

const char *om_code_group_name_zh(enum om_code_table t, const char *group)
{
    const struct om__code_tab *tab = table_of(t);
    if (!tab || !group) {
        return NULL;
    }
    int gi = group_index(tab, group);
    return gi < 0 ? NULL : tab->groups[gi].name_zh;
}
