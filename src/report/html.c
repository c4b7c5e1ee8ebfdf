/*
 * html.c — a small builder for self-contained, printable bilingual HTML
 * reports: title, headings, paragraphs, notes, tables, key/value blocks and
 * inline SVG maps, with CSS for screen and A4 print. No scripts, no
 * external resources.
 */
#include "core/core.h"
#include "onemap/report.h"
#include "report/report_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Tables up to this many rows are kept on one page when printed. */
#define SHORT_TABLE_ROWS 30
#define MAX_COLS 1000

struct om_html {
    struct om__buf title; /* escaped <title> text */
    struct om__buf body;  /* everything inside <body> */
};

static const char CSS[] =
    "@page{size:A4;margin:16mm 14mm}\n"
    "body{font-family:\"Noto Sans CJK SC\",\"Source Han Sans SC\","
    "\"Microsoft YaHei\",sans-serif;font-size:10.5pt;line-height:1.5;"
    "color:#222;max-width:190mm;margin:1em auto;padding:0 1em}\n"
    "h1{font-size:18pt;margin:.2em 0 .6em;border-bottom:2px solid #333}\n"
    "h1 .en,h2 .en,figcaption .en{font-weight:normal;color:#555}\n"
    "h1 .en{display:block;font-size:12pt}\n"
    "h2{font-size:13pt;margin:1.2em 0 .4em;border-bottom:1px solid #999;"
    "break-after:avoid;page-break-after:avoid}\n"
    "p{margin:.4em 0}\n"
    "p.note{font-size:9pt;color:#555}\n"
    "table{border-collapse:collapse;margin:.5em 0 1em;font-size:9.5pt}\n"
    "th,td{border:1px solid #999;padding:2px 6px;vertical-align:top}\n"
    "th{background:#eee;text-align:left}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}\n"
    "tr.total td{font-weight:bold;background:#f6f6f6}\n"
    "thead{display:table-header-group}\n"
    "tr,figure{break-inside:avoid;page-break-inside:avoid}\n"
    "table.short{break-inside:avoid;page-break-inside:avoid}\n"
    "table.kv th{width:30%;white-space:nowrap}\n"
    "figure{margin:.5em 0 1em}\n"
    "figure svg{max-width:100%;height:auto;display:block}\n"
    "figcaption{font-size:9.5pt;text-align:center;margin-top:.3em}\n"
    "div.pagebreak{break-before:page;page-break-before:always}\n"
    "@media print{body{margin:0;padding:0;max-width:none}}\n";

static enum om_status fail(struct om_html *h, size_t len0, enum om_status st,
                           struct om_error *err)
{
    h->body.len = len0; /* the document is as it was before the call */
    if (h->body.data) {
        h->body.data[len0] = '\0';
    }
    return om__error(err, st, "html", 0, -1,
                     st == OM_ELIMIT ? "HTML report exceeds the size limit"
                                     : "out of memory building the report");
}

/* "zh <span class=en>en</span>", either part optional. */
static enum om_status put_bilingual(struct om__buf *b, const char *zh,
                                    const char *en)
{
    enum om_status st = om__xml_escape(b, zh, false);
    if (!st && en) {
        st = om__buf_puts(b,
                          zh ? " <span class=\"en\">" : "<span class=\"en\">");
        if (!st) {
            st = om__xml_escape(b, en, false);
        }
        if (!st) {
            st = om__buf_puts(b, "</span>");
        }
    }
    return st;
}

enum om_status om_html_new(const char *title_zh, const char *title_en,
                           struct om_html **out, struct om_error *err)
{
    *out = NULL;
    struct om_html *h = om__calloc(1, sizeof *h);
    if (!h) {
        return om__enomem(err, "html");
    }
    om__buf_init(&h->title, 0);
    om__buf_init(&h->body, 0);
    enum om_status st = om__xml_escape(&h->title, title_zh, false);
    if (!st && title_zh && title_en) {
        st = om__buf_puts(&h->title, " / ");
    }
    if (!st) {
        st = om__xml_escape(&h->title, title_en, false);
    }
    if (!st) {
        st = om__buf_puts(&h->body, "<h1>");
    }
    if (!st) {
        st = put_bilingual(&h->body, title_zh, title_en);
    }
    if (!st) {
        st = om__buf_puts(&h->body, "</h1>\n");
    }
    if (st) {
        om_html_free(h);
        return om__error(err, st, "html", 0, -1,
                         "out of memory creating the report");
    }
    *out = h;
    return OM_OK;
}

void om_html_free(struct om_html *h)
{
    if (!h) {
        return;
    }
    om__buf_deinit(&h->title);
    om__buf_deinit(&h->body);
    om__free(h);
}

static enum om_status check(const struct om_html *h, struct om_error *err)
{
    return h ? OM_OK
             : om__error(err, OM_EINVAL, "html", 0, -1, "no HTML document");
}

enum om_status om_html_h2(struct om_html *h, const char *zh, const char *en,
                          struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    size_t len0 = h->body.len;
    enum om_status st = om__buf_puts(&h->body, "<h2>");
    if (!st) {
        st = put_bilingual(&h->body, zh, en);
    }
    if (!st) {
        st = om__buf_puts(&h->body, "</h2>\n");
    }
    return st ? fail(h, len0, st, err) : OM_OK;
}

static enum om_status para(struct om_html *h, const char *open,
                           const char *text, struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    size_t len0 = h->body.len;
    enum om_status st = om__buf_puts(&h->body, open);
    if (!st) {
        st = om__xml_escape(&h->body, text, true);
    }
    if (!st) {
        st = om__buf_puts(&h->body, "</p>\n");
    }
    return st ? fail(h, len0, st, err) : OM_OK;
}

enum om_status om_html_p(struct om_html *h, const char *text,
                         struct om_error *err)
{
    return para(h, "<p>", text, err);
}

enum om_status om_html_note(struct om_html *h, const char *text,
                            struct om_error *err)
{
    return para(h, "<p class=\"note\">", text, err);
}

enum om_status om_html_page_break(struct om_html *h, struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    size_t len0 = h->body.len;
    enum om_status st =
        om__buf_puts(&h->body, "<div class=\"pagebreak\"></div>\n");
    return st ? fail(h, len0, st, err) : OM_OK;
}

enum om_status om__html_raw(struct om_html *h, const char *markup,
                            struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    size_t len0 = h->body.len;
    enum om_status st = om__buf_puts(&h->body, markup ? markup : "");
    return st ? fail(h, len0, st, err) : OM_OK;
}

static enum om_status cell(struct om__buf *b, const char *tag, bool num,
                           const char *text)
{
    enum om_status st =
        om__buf_printf(b, "<%s%s>", tag, num ? " class=\"num\"" : "");
    if (!st) {
        st = om__xml_escape(b, text, true);
    }
    return st ? st : om__buf_printf(b, "</%s>", tag);
}

enum om_status om_html_table(struct om_html *h, const char *const *header,
                             size_t ncols, const char *const *cells,
                             size_t nrows, unsigned numeric_cols_mask,
                             const char *total_marker, struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    if (ncols == 0 || ncols > MAX_COLS || (nrows > 0 && !cells)) {
        return om__error(err, OM_EINVAL, "html", 0, -1,
                         "a table needs 1..%d columns and its cells", MAX_COLS);
    }
    if (nrows > SIZE_MAX / ncols) {
        return om__error(err, OM_ELIMIT, "html", 0, -1, "table too large");
    }
    size_t len0 = h->body.len;
    struct om__buf *b = &h->body;
    enum om_status st =
        om__buf_printf(b, "<table class=\"data%s\">\n",
                       nrows <= SHORT_TABLE_ROWS ? " short" : "");
    if (!st && header) {
        st = om__buf_puts(b, "<thead><tr>");
        for (size_t c = 0; c < ncols && !st; c++) {
            bool num = c < 32 && (numeric_cols_mask >> c) & 1u;
            st = cell(b, "th", num, header[c]);
        }
        if (!st) {
            st = om__buf_puts(b, "</tr></thead>\n");
        }
    }
    if (!st) {
        st = om__buf_puts(b, "<tbody>\n");
    }
    for (size_t r = 0; r < nrows && !st; r++) {
        const char *const *row = cells + r * ncols;
        bool total =
            total_marker && row[0] && strcmp(row[0], total_marker) == 0;
        st = om__buf_puts(b, total ? "<tr class=\"total\">" : "<tr>");
        for (size_t c = 0; c < ncols && !st; c++) {
            bool num = c < 32 && (numeric_cols_mask >> c) & 1u;
            st = cell(b, "td", num, row[c]);
        }
        if (!st) {
            st = om__buf_puts(b, "</tr>\n");
        }
    }
    if (!st) {
        st = om__buf_puts(b, "</tbody>\n</table>\n");
    }
    return st ? fail(h, len0, st, err) : OM_OK;
}

enum om_status om_html_kv(struct om_html *h, const char *const *keys,
                          const char *const *values, size_t n,
                          struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    if (n > 0 && (!keys || !values)) {
        return om__error(err, OM_EINVAL, "html", 0, -1,
                         "key/value table needs keys and values");
    }
    size_t len0 = h->body.len;
    struct om__buf *b = &h->body;
    enum om_status st = om__buf_puts(b, "<table class=\"kv short\">\n");
    for (size_t i = 0; i < n && !st; i++) {
        st = om__buf_puts(b, "<tr>");
        if (!st) {
            st = cell(b, "th", false, keys[i]);
        }
        if (!st) {
            st = cell(b, "td", false, values[i]);
        }
        if (!st) {
            st = om__buf_puts(b, "</tr>\n");
        }
    }
    if (!st) {
        st = om__buf_puts(b, "</table>\n");
    }
    return st ? fail(h, len0, st, err) : OM_OK;
}

enum om_status om_html_svg_map(struct om_html *h, const struct om_map *m,
                               const char *caption_zh, const char *caption_en,
                               struct om_error *err)
{
    if (check(h, err)) {
        return OM_EINVAL;
    }
    char *svg = NULL;
    size_t n = 0;
    enum om_status st = om_map_svg_string(m, true, true, true, &svg, &n, err);
    if (st != OM_OK) {
        return st;
    }
    size_t len0 = h->body.len;
    struct om__buf *b = &h->body;
    st = om__buf_puts(b, "<figure>\n");
    if (!st) {
        st = om__buf_append(b, svg, n);
    }
    om__free(svg);
    if (!st && (caption_zh || caption_en)) {
        st = om__buf_puts(b, "<figcaption>");
        if (!st) {
            st = put_bilingual(b, caption_zh, caption_en);
        }
        if (!st) {
            st = om__buf_puts(b, "</figcaption>\n");
        }
    }
    if (!st) {
        st = om__buf_puts(b, "</figure>\n");
    }
    return st ? fail(h, len0, st, err) : OM_OK;
}

static const char *const HEAD1 =
    "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"onemap\">\n<title>";
static const char *const HEAD2 = "</title>\n<style>\n";
static const char *const HEAD3 = "</style>\n</head>\n<body>\n";
static const char *const TAIL = "</body>\n</html>\n";

enum om_status om_html_string(const struct om_html *h, char **out, size_t *len,
                              struct om_error *err)
{
    *out = NULL;
    if (len) {
        *len = 0;
    }
    if (check(h, err)) {
        return OM_EINVAL;
    }
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = om__buf_puts(&b, HEAD1);
    if (!st && h->title.len) {
        st = om__buf_append(&b, h->title.data, h->title.len);
    }
    if (!st) {
        st = om__buf_puts(&b, HEAD2);
    }
    if (!st) {
        st = om__buf_append(&b, CSS, sizeof CSS - 1);
    }
    if (!st) {
        st = om__buf_puts(&b, HEAD3);
    }
    if (!st && h->body.len) {
        st = om__buf_append(&b, h->body.data, h->body.len);
    }
    if (!st) {
        st = om__buf_puts(&b, TAIL);
    }
    if (st) {
        om__buf_deinit(&b);
        return om__error(err, st, "html", 0, -1,
                         "out of memory writing the report");
    }
    if (len) {
        *len = b.len;
    }
    *out = om__buf_take(&b);
    return OM_OK;
}

enum om_status om_html_write(const struct om_html *h, FILE *f,
                             struct om_error *err)
{
    char *s = NULL;
    size_t n = 0;
    enum om_status st = om_html_string(h, &s, &n, err);
    if (st != OM_OK) {
        return st;
    }
    bool ok = fwrite(s, 1, n, f) == n && fflush(f) == 0 && !ferror(f);
    om__free(s);
    return ok ? OM_OK
              : om__error(err, OM_EIO, "html", 0, -1,
                          "cannot write the HTML report");
}

/* ---- shared by the reports ---- */

void om__cells_push(struct om__cells *t, const char *s)
{
    if (t->oom || !OM__GROW(t->v, t->cap, t->n + 1)) {
        t->oom = true;
        return;
    }
    t->v[t->n++] = s;
}

void om__cells_free(struct om__cells *t)
{
    om__free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

const char *om__arena_vprintf(struct om__arena *arena, bool *oom,
                              const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        return "";
    }
    char *s = om__arena_alloc(arena, (size_t)n + 1);
    if (!s) {
        *oom = true;
        return "";
    }
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}
