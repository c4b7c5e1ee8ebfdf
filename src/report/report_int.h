/*
 * report_int.h — internal: what the report modules (svgmap.c, html.c,
 * review_report.c) share and nothing else uses.
 */
#ifndef ONEMAP_REPORT_INT_H
#define ONEMAP_REPORT_INT_H

#include "core/core.h"
#include "onemap/report.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Append `s` escaped for HTML/XML text and attributes (svgmap.c);
 * with nl_br, newlines become <br>. */
enum om_status om__xml_escape(struct om__buf *b, const char *s, bool nl_br);
/* `v` with `decimals` decimals, '.' whatever the locale (svgmap.c). */
void om__fmt_num(char *out, size_t size, double v, int decimals);
/* Append trusted markup to the document body (html.c): for elements the
 * builder has none of (the review decision badge, lists). The caller
 * escapes every text it puts inside. */
enum om_status om__html_raw(struct om_html *h, const char *markup,
                            struct om_error *err);

/* A growable list of table cells (row by row) for om_html_table; on OOM
 * `oom` is set and pushes are ignored. Free with om__cells_free. */
struct om__cells {
    const char **v;
    size_t n, cap;
    bool oom;
};
void om__cells_push(struct om__cells *t, const char *s);
void om__cells_free(struct om__cells *t);

/* printf into `arena` (cell texts of a report); on OOM sets *oom and
 * returns "". */
const char *om__arena_vprintf(struct om__arena *arena, bool *oom,
                              const char *fmt, va_list ap);

#endif
