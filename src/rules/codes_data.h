/*
 * codes_data.h — the layout of the compiled-in code tables, shared by
 * codes.c (lookups) and codes_data.c (the data, generated from
 * data/codes/ (CSV files) by tools/gen-codes). Not part of the public API.
 */
#ifndef ONEMAP_RULES_CODES_DATA_H
#define ONEMAP_RULES_CODES_DATA_H

#include "onemap/codes.h"

#include <stddef.h>
#include <stdint.h>

/* A class and the bit set of the groups it belongs to (bit i = group i). */
struct om__code_row {
    struct om_code c; /* first member: a row pointer is a code pointer */
    uint32_t groups;
};

struct om__code_group {
    const char *name;
    const char *name_zh;
};

struct om__code_tab {
    const struct om__code_row *rows; /* in the standard's order */
    size_t nrows;
    const uint16_t *sorted; /* row indices, codes in strcmp order */
    const struct om__code_group *groups;
    size_t ngroups;
};

extern const struct om__code_tab om__codes_dlbm;
extern const struct om__code_tab om__codes_ydyh;
extern const struct om__code_tab om__codes_czcs;

/* The DLBM -> YDYH crosswalk, in CSV order, and indices in dlbm order. */
extern const struct om_code_xwalk om__codes_xwalk[];
extern const size_t om__codes_nxwalk;
extern const uint16_t om__codes_xwalk_sorted[];

#endif
