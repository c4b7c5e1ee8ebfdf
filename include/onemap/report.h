/*
 * onemap/report.h — printable bilingual reports rendered by onemap itself:
 * SVG maps of polygon layers (legend, scale bar, north arrow) and a small
 * builder for self-contained HTML documents (headings, paragraphs, tables,
 * key/value blocks, inline maps). No JavaScript, no external resources:
 * the output opens in any browser and prints on A4.
 *
 * The library never prints: everything is written to a caller-supplied
 * FILE * or returned as a string the caller frees with om_report_free_string.
 * All text (labels, cells, titles) is UTF-8 and is escaped for HTML / XML
 * (&, <, >, ", '); control characters other than tab and newline are
 * dropped and invalid UTF-8 bytes become U+FFFD, so any input yields
 * well-formed output. Numbers are written without the C locale's help
 * (always '.' as decimal point).
 *
 * Thread safety: a map or document belongs to one thread while it is being
 * built; a finished one may be written from several threads at once.
 */
#ifndef ONEMAP_REPORT_H
#define ONEMAP_REPORT_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Free a string returned by om_map_svg_string / om_html_string. */
void om_report_free_string(char *s);

/* ---- SVG maps ---- */

/*
 * How a layer is drawn. Colours are CSS colours ("#d62728", "none",
 * "rgb(0,0,0)"); NULL fill or stroke means none. `fill_opacity` outside
 * [0,1] is clamped. `label_zh` / `label_en` (either may be NULL) name the
 * layer in the legend as "zh / en"; a layer with neither is not listed.
 * Every string is copied.
 */
struct om_map_style {
    const char *fill;
    const char *stroke;
    double stroke_width_px;
    double fill_opacity;
    const char *label_zh, *label_en;
};

struct om_map;

/*
 * Create a map of `extent` (project CRS coordinates, metres, x = easting)
 * drawn on a `width_px` × `height_px` image (each 16..20000). The extent is
 * scaled uniformly (no distortion) and centred: the axis with room to spare
 * shows more of the surroundings, as every GIS map export does. An empty or
 * degenerate extent (zero width and height) or a non-finite one gives
 * OM_EINVAL. Free with om_map_free.
 */
enum om_status om_map_new(struct om_rect extent, int width_px, int height_px,
                          struct om_map **out, struct om_error *err);
void om_map_free(struct om_map *m);

/*
 * Draw the features of `layer` (borrowed for the call only; the drawing is
 * kept in the map) whose mask byte is non-zero (`mask` NULL = all; else
 * om_layer_nfeatures bytes), above the layers added before. Features flagged
 * OM_FEAT_EMPTY and features whose box misses the visible area are skipped.
 * Each feature is one SVG path, holes included, filled with the even-odd
 * rule. Coordinates become pixels (y flipped, 0.1 px resolution) and are
 * simplified: a vertex closer than half a pixel to the previous kept one is
 * dropped, and runs of vertices within 0.25 px of a straight line collapse
 * to their ends, so the size of the SVG follows the image, not the data
 * (a 10^6-vertex polygon stays a few thousand points). A shell smaller than
 * a pixel is drawn as a 1-pixel square (at most one per pixel per layer) so
 * small patches stay visible; holes smaller than a pixel are dropped.
 * Errors: OM_EINVAL (NULL style, unfinished layer), OM_ENOMEM, OM_ELIMIT.
 */
enum om_status om_map_add_layer(struct om_map *m, const struct om_layer *layer,
                                const uint8_t *mask,
                                const struct om_map_style *style,
                                struct om_error *err);

/* A text label (UTF-8, copied) centred on the map point (x, y). Labels
 * are drawn above every layer, with a white halo. */
enum om_status om_map_add_label(struct om_map *m, double x, double y,
                                const char *text, struct om_error *err);

/*
 * Write the map as a self-contained SVG document (UTF-8, no external
 * references), with optionally a legend box (one swatch per labelled
 * layer, bottom right), a scale bar (bottom left, with a round length of
 * 1, 2 or 5 × 10^k m, at most a quarter of the width, labelled in m below
 * 1 km and in km from 1 km) and a north arrow (top right; grid north).
 * OM_EIO when `f` fails.
 */
enum om_status om_map_write_svg(const struct om_map *m, FILE *f, bool legend,
                                bool scale_bar, bool north_arrow,
                                struct om_error *err);
/* The same SVG as a NUL-terminated string (*len may be NULL). */
enum om_status om_map_svg_string(const struct om_map *m, bool legend,
                                 bool scale_bar, bool north_arrow, char **out,
                                 size_t *len, struct om_error *err);

/* Map coordinates → pixel coordinates (y down), unrounded. */
void om_map_to_pixel(const struct om_map *m, double x, double y, double *px,
                     double *py);
/* Metres per pixel of the map. */
double om_map_resolution(const struct om_map *m);
/* The scale bar the map would draw: its length in metres and pixels. */
void om_map_scale_bar(const struct om_map *m, double *metres, double *pixels);
/* Number of path points written so far (for tests and size estimates). */
size_t om_map_npoints(const struct om_map *m);

/* ---- HTML documents ---- */

struct om_html;

/*
 * A new document titled `title_zh` / `title_en` (either may be NULL).
 * The document is HTML5, UTF-8, lang zh-CN, styled for screen and A4 print
 * (CJK font stack "Noto Sans CJK SC", "Source Han Sans SC",
 * "Microsoft YaHei", sans-serif; table headers repeat on every page; rows,
 * figures and short tables are not split; headings stay with what follows).
 * Free with om_html_free.
 */
enum om_status om_html_new(const char *title_zh, const char *title_en,
                           struct om_html **out, struct om_error *err);
void om_html_free(struct om_html *h);

/* A section heading "zh / en" (either may be NULL). */
enum om_status om_html_h2(struct om_html *h, const char *zh, const char *en,
                          struct om_error *err);
/* A paragraph; newlines in `text` become line breaks. */
enum om_status om_html_p(struct om_html *h, const char *text,
                         struct om_error *err);
/* A note: a small, muted paragraph (method, data sources, caveats). */
enum om_status om_html_note(struct om_html *h, const char *text,
                            struct om_error *err);
/* Force a page break in print before what comes next. */
enum om_status om_html_page_break(struct om_html *h, struct om_error *err);

/*
 * A table: `header` holds `ncols` column titles (NULL = no header row),
 * `cells` holds nrows × ncols strings row by row (NULL cells are empty).
 * Bit i of `numeric_cols_mask` right-aligns column i (i < 32) with tabular
 * figures. Rows whose first cell equals `total_marker` (NULL = none) are
 * bold (totals). ncols must be 1..1000.
 */
enum om_status om_html_table(struct om_html *h, const char *const *header,
                             size_t ncols, const char *const *cells,
                             size_t nrows, unsigned numeric_cols_mask,
                             const char *total_marker, struct om_error *err);

/* A key/value table (project information): n pairs, NULL values empty. */
enum om_status om_html_kv(struct om_html *h, const char *const *keys,
                          const char *const *values, size_t n,
                          struct om_error *err);

/*
 * The map as an inline SVG figure with legend, scale bar and north arrow,
 * captioned "zh / en" (either may be NULL). The map is rendered now: it may
 * be freed or changed afterwards.
 */
enum om_status om_html_svg_map(struct om_html *h, const struct om_map *m,
                               const char *caption_zh, const char *caption_en,
                               struct om_error *err);

/* Write the complete document. OM_EIO when `f` fails. */
enum om_status om_html_write(const struct om_html *h, FILE *f,
                             struct om_error *err);
/* The complete document as a NUL-terminated string (*len may be NULL). */
enum om_status om_html_string(const struct om_html *h, char **out, size_t *len,
                              struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
