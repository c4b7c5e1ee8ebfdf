/*
 * svgmap.c — SVG maps of polygon layers: world → pixel transform, per-pixel
 * simplification, legend, scale bar, north arrow, labels. Also owns the
 * XML/HTML text escaper and the locale-free number formatter that html.c
 * uses (declared again there: src/report has no private header).
 */
#include "core/core.h"
#include "onemap/report.h"
#include "report/report_int.h"

#include <math.h>
#include <string.h>

#define MAP_MIN_PX 16
#define MAP_MAX_PX 20000
#define RADIAL_PX 0.5 /* drop a vertex this close to the last kept one */
#define STRIP_PX 0.25 /* collapse runs within this of a straight line */
#define COORD_CLAMP_PX 1e7
#define FONT_STACK                                                             \
    "'Noto Sans CJK SC','Source Han Sans SC','Microsoft YaHei',sans-serif"

struct map_layer {
    char *fill, *stroke, *label_zh, *label_en;
    double stroke_width, opacity;
    struct om__buf paths; /* <path .../> elements */
};

struct map_label {
    double px, py;
    char *text;
};

struct om_map {
    int width, height;
    double scale; /* pixels per metre */
    double vx0;   /* visible min x (map units) */
    double vy1;   /* visible max y */
    struct om_rect visible;
    struct map_layer *layers;
    size_t nlayers, cap_layers;
    struct map_label *labels;
    size_t nlabels, cap_labels;
    size_t npoints;
};

void om_report_free_string(char *s)
{
    om__free(s);
}

/* ---- text and numbers ---- */

/*
 * Append `s` escaped for XML/HTML text and attribute values. Invalid UTF-8
 * bytes become U+FFFD; C0 controls other than tab and newline are dropped
 * (XML forbids them); newlines become <br> when `nl_br`.
 */
enum om_status om__xml_escape(struct om__buf *b, const char *s, bool nl_br)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    enum om_status st = OM_OK;
    while (*p && st == OM_OK) {
        const unsigned char *run = p;
        while (*p >= 0x20 && *p < 0x80 && *p != '&' && *p != '<' && *p != '>' &&
               *p != '"' && *p != '\'') {
            p++;
        }
        if (p > run) {
            st = om__buf_append(b, run, (size_t)(p - run));
            continue;
        }
        unsigned c = *p;
        if (c < 0x80) {
            const char *rep = NULL;
            switch (c) {
            case '&':
                rep = "&amp;";
                break;
            case '<':
                rep = "&lt;";
                break;
            case '>':
                rep = "&gt;";
                break;
            case '"':
                rep = "&quot;";
                break;
            case '\'':
                rep = "&#39;";
                break;
            case '\t':
                rep = "\t";
                break;
            case '\n':
                rep = nl_br ? "<br>\n" : "\n";
                break;
            default:
                rep = "";
                break; /* other controls: dropped */
            }
            st = om__buf_puts(b, rep);
            p++;
            continue;
        }
        size_t n = 0;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        }
        bool ok = n > 0 && p[1] >= lo && p[1] <= hi;
        for (size_t i = 2; ok && i <= n; i++) {
            ok = p[i] >= 0x80 && p[i] <= 0xBF;
        }
        if (ok) {
            st = om__buf_append(b, p, n + 1);
            p += n + 1;
        } else {
            st = om__buf_puts(b, "\xEF\xBF\xBD");
            p++;
        }
    }
    return st;
}

/* `v` rounded to `decimals` (0..6) places, trailing zeros dropped, '.'
 * whatever the locale. Non-finite values print as 0. */
void om__fmt_num(char *out, size_t size, double v, int decimals)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    if (decimals < 0) {
        decimals = 0;
    }
    if (decimals > 6) {
        decimals = 6;
    }
    if (!isfinite(v)) {
        v = 0;
    }
    if (v > 1e12) {
        v = 1e12;
    }
    if (v < -1e12) {
        v = -1e12;
    }
    long long q = llround(v * pow10[decimals]);
    bool neg = q < 0;
    unsigned long long u =
        neg ? (unsigned long long)(-q) : (unsigned long long)q;
    unsigned long long ip = u / (unsigned long long)pow10[decimals];
    unsigned long long fp = u % (unsigned long long)pow10[decimals];
    char frac[8] = "";
    int nd = decimals;
    while (nd > 0 && fp % 10 == 0) {
        fp /= 10;
        nd--;
    }
    if (nd > 0) {
        frac[0] = '.';
        for (int i = nd; i > 0; i--) {
            frac[i] = (char)('0' + fp % 10);
            fp /= 10;
        }
        frac[nd + 1] = '\0';
    }
    snprintf(out, size, "%s%llu%s", neg && (ip || nd) ? "-" : "", ip, frac);
}

/* ---- the map ---- */

enum om_status om_map_new(struct om_rect extent, int width_px, int height_px,
                          struct om_map **out, struct om_error *err)
{
    *out = NULL;
    if (width_px < MAP_MIN_PX || width_px > MAP_MAX_PX ||
        height_px < MAP_MIN_PX || height_px > MAP_MAX_PX) {
        return om__error(err, OM_EINVAL, "map", 0, -1,
                         "map size %d x %d px is outside %d..%d px", width_px,
                         height_px, MAP_MIN_PX, MAP_MAX_PX);
    }
    double ew = extent.maxx - extent.minx, eh = extent.maxy - extent.miny;
    if (!isfinite(ew) || !isfinite(eh) || !isfinite(extent.minx) ||
        !isfinite(extent.miny) || ew < 0 || eh < 0 || (ew == 0 && eh == 0)) {
        return om__error(err, OM_EINVAL, "map", 0, -1,
                         "map extent is empty, degenerate or not finite");
    }
    double sx = ew > 0 ? width_px / ew : INFINITY;
    double sy = eh > 0 ? height_px / eh : INFINITY;
    struct om_map *m = om__calloc(1, sizeof *m);
    if (!m) {
        return om__enomem(err, "map");
    }
    m->width = width_px;
    m->height = height_px;
    m->scale = sx < sy ? sx : sy;
    double cx = extent.minx + ew / 2, cy = extent.miny + eh / 2;
    double hw = width_px / m->scale / 2, hh = height_px / m->scale / 2;
    m->vx0 = cx - hw;
    m->vy1 = cy + hh;
    m->visible = (struct om_rect){cx - hw, cy - hh, cx + hw, cy + hh};
    *out = m;
    return OM_OK;
}

void om_map_free(struct om_map *m)
{
    if (!m) {
        return;
    }
    for (size_t i = 0; i < m->nlayers; i++) {
        struct map_layer *l = &m->layers[i];
        om__free(l->fill);
        om__free(l->stroke);
        om__free(l->label_zh);
        om__free(l->label_en);
        om__buf_deinit(&l->paths);
    }
    for (size_t i = 0; i < m->nlabels; i++) {
        om__free(m->labels[i].text);
    }
    om__free(m->layers);
    om__free(m->labels);
    om__free(m);
}

void om_map_to_pixel(const struct om_map *m, double x, double y, double *px,
                     double *py)
{
    *px = (x - m->vx0) * m->scale;
    *py = (m->vy1 - y) * m->scale;
}

double om_map_resolution(const struct om_map *m)
{
    return 1.0 / m->scale;
}

size_t om_map_npoints(const struct om_map *m)
{
    return m->npoints;
}

void om_map_scale_bar(const struct om_map *m, double *metres, double *pixels)
{
    double max_m = m->width / 4.0 / m->scale;
    double p = pow(10.0, floor(log10(max_m)));
    double len = p;
    if (5 * p <= max_m) {
        len = 5 * p;
    } else if (2 * p <= max_m) {
        len = 2 * p;
    }
    *metres = len;
    *pixels = len * m->scale;
}

/* ---- drawing a layer ---- */

struct draw {
    struct om_map *m;
    struct om__buf *out;
    double *kept; /* kept pixel points of the current ring, x,y pairs */
    size_t nkept, cap_kept;
    uint8_t *marks; /* one bit per pixel: a marker was drawn there */
};

static bool keep(struct draw *d, double x, double y)
{
    if (!OM__GROW(d->kept, d->cap_kept, 2 * d->nkept + 2)) {
        return false;
    }
    d->kept[2 * d->nkept] = x;
    d->kept[2 * d->nkept + 1] = y;
    d->nkept++;
    return true;
}

static double clamp_px(double v)
{
    return v > COORD_CLAMP_PX    ? COORD_CLAMP_PX
           : v < -COORD_CLAMP_PX ? -COORD_CLAMP_PX
                                 : v;
}

/*
 * Simplify ring points [a, b) (open: no closing repeat) into d->kept:
 * radial distance (RADIAL_PX) then Reumann-Witkam strips (STRIP_PX): a
 * vertex stays only where the outline leaves the strip along the last kept
 * direction. Every dropped vertex is within RADIAL_PX + STRIP_PX of the
 * kept outline.
 */
static bool simplify_ring(struct draw *d, const double *xy, size_t a, size_t b)
{
    const struct om_map *m = d->m;
    d->nkept = 0;
    double kx, ky, dx = 0, dy = 0, lx = 0, ly = 0, dlen = 0, along_l = 0;
    bool has_dir = false;
    om_map_to_pixel(m, xy[2 * a], xy[2 * a + 1], &kx, &ky);
    kx = clamp_px(kx);
    ky = clamp_px(ky);
    if (!keep(d, kx, ky)) {
        return false;
    }
    for (size_t i = a + 1; i < b; i++) {
        double px, py;
        om_map_to_pixel(m, xy[2 * i], xy[2 * i + 1], &px, &py);
        px = clamp_px(px);
        py = clamp_px(py);
        if (!(px == px && py == py)) {
            continue; /* NaN: invalid feature, skip the vertex */
        }
        if (has_dir) {
            double ux = px - kx, uy = py - ky;
            double perp = fabs(dx * uy - dy * ux) / dlen;
            double along = (dx * ux + dy * uy) / dlen;
            if (perp <= STRIP_PX && along >= along_l) {
                lx = px;
                ly = py;
                along_l = along;
                continue;
            }
            if (!keep(d, lx, ly)) {
                return false;
            }
            kx = lx;
            ky = ly;
            has_dir = false;
        }
        double ux = px - kx, uy = py - ky;
        if (ux * ux + uy * uy < RADIAL_PX * RADIAL_PX) {
            continue;
        }
        dx = ux;
        dy = uy;
        dlen = sqrt(ux * ux + uy * uy);
        lx = px;
        ly = py;
        along_l = dlen;
        has_dir = true;
    }
    if (has_dir && !keep(d, lx, ly)) {
        return false;
    }
    return true;
}

static enum om_status put_xy(struct om__buf *b, double x, double y, char sep)
{
    char sx[32], sy[32];
    om__fmt_num(sx, sizeof sx, x, 1);
    om__fmt_num(sy, sizeof sy, y, 1);
    return om__buf_printf(b, "%c%s %s", sep, sx, sy);
}

/* Append one ring (already simplified) to the path data. */
static enum om_status emit_kept(struct draw *d)
{
    enum om_status st = OM_OK;
    for (size_t i = 0; i < d->nkept && st == OM_OK; i++) {
        st = put_xy(d->out, d->kept[2 * i], d->kept[2 * i + 1],
                    i == 0 ? 'M' : ' ');
    }
    d->m->npoints += d->nkept;
    return st ? st : om__buf_puts(d->out, "Z");
}

/* A 1-pixel square at pixel (x, y) unless one is there already. */
static enum om_status emit_marker(struct draw *d, double x, double y)
{
    const struct om_map *m = d->m;
    double fx = floor(x), fy = floor(y);
    if (fx < 0 || fy < 0 || fx >= m->width || fy >= m->height) {
        return OM_OK;
    }
    size_t bit = (size_t)fy * (size_t)m->width + (size_t)fx;
    if (!d->marks) {
        size_t nbytes = ((size_t)m->width * (size_t)m->height + 7) / 8;
        d->marks = om__calloc(nbytes, 1);
        if (!d->marks) {
            return OM_ENOMEM;
        }
    }
    if (d->marks[bit / 8] & (1u << (bit % 8))) {
        return OM_OK;
    }
    d->marks[bit / 8] |= (uint8_t)(1u << (bit % 8));
    d->m->npoints += 4;
    return om__buf_printf(d->out, "M%d %dh1v1h-1Z", (int)fx, (int)fy);
}

static enum om_status draw_feature(struct draw *d,
                                   const struct om_layer_view *v, size_t f)
{
    size_t start = d->out->len;
    enum om_status st = om__buf_puts(d->out, "<path d=\"");
    size_t body = d->out->len;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1] && !st; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1] && !st;
             r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            if (b > a + 1 && v->xy[2 * a] == v->xy[2 * (b - 1)] &&
                v->xy[2 * a + 1] == v->xy[2 * (b - 1) + 1]) {
                b--; /* drop the closing repeat */
            }
            if (b <= a) {
                continue;
            }
            if (!simplify_ring(d, v->xy, a, b)) {
                st = OM_ENOMEM;
                break;
            }
            if (d->nkept >= 3) {
                st = emit_kept(d);
                continue;
            }
            if (r != v->ring_start[p]) {
                continue; /* a hole smaller than a pixel */
            }
            /* A tiny shell, or a sliver: marker if it fits in a pixel. */
            double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
            for (size_t i = a; i < b; i++) {
                double px, py;
                om_map_to_pixel(d->m, v->xy[2 * i], v->xy[2 * i + 1], &px, &py);
                x0 = fmin(x0, px);
                y0 = fmin(y0, py);
                x1 = fmax(x1, px);
                y1 = fmax(y1, py);
            }
            if (x1 - x0 < 1 && y1 - y0 < 1) {
                st = emit_marker(d, (x0 + x1) / 2, (y0 + y1) / 2);
            } else if (d->nkept == 2) {
                st = emit_kept(d);
            }
        }
    }
    if (st) {
        return st;
    }
    if (d->out->len == body) {
        d->out->len = start; /* nothing drawn */
        d->out->data[start] = '\0';
        return OM_OK;
    }
    return om__buf_puts(d->out, "\"/>\n");
}

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s) {
        return NULL;
    }
    char *c = om__strdup(s);
    if (!c) {
        *oom = true;
    }
    return c;
}

enum om_status om_map_add_layer(struct om_map *m, const struct om_layer *layer,
                                const uint8_t *mask,
                                const struct om_map_style *style,
                                struct om_error *err)
{
    const char *lname = layer ? om_layer_name(layer) : "map";
    if (!m || !layer || !style) {
        return om__error(err, OM_EINVAL, lname, 0, -1,
                         "map, layer and style are required");
    }
    if (!om_layer_is_finished(layer)) {
        return om__error(err, OM_EINVAL, lname, 0, -1,
                         "layer must be finished before it is drawn");
    }
    if (!OM__GROW(m->layers, m->cap_layers, m->nlayers + 1)) {
        return om__enomem(err, lname);
    }
    struct map_layer *l = &m->layers[m->nlayers];
    memset(l, 0, sizeof *l);
    om__buf_init(&l->paths, 0);
    bool oom = false;
    l->fill = dup_or_null(style->fill, &oom);
    l->stroke = dup_or_null(style->stroke, &oom);
    l->label_zh = dup_or_null(style->label_zh, &oom);
    l->label_en = dup_or_null(style->label_en, &oom);
    l->stroke_width =
        isfinite(style->stroke_width_px) && style->stroke_width_px > 0
            ? style->stroke_width_px
            : 0;
    l->opacity = isfinite(style->fill_opacity) ? style->fill_opacity : 1;
    l->opacity = l->opacity < 0 ? 0 : l->opacity > 1 ? 1 : l->opacity;

    enum om_status st = oom ? OM_ENOMEM : OM_OK;
    struct draw d = {.m = m, .out = &l->paths};
    size_t npoints0 = m->npoints;
    struct om_layer_view v;
    om_layer_view(layer, &v);
    for (size_t f = 0; f < v.nfeatures && st == OM_OK; f++) {
        if ((mask && !mask[f]) || (v.flags[f] & OM_FEAT_EMPTY) ||
            !om_rect_intersects(v.bbox[f], m->visible)) {
            continue;
        }
        st = draw_feature(&d, &v, f);
    }
    om__free(d.kept);
    om__free(d.marks);
    if (st != OM_OK) {
        om__free(l->fill);
        om__free(l->stroke);
        om__free(l->label_zh);
        om__free(l->label_en);
        om__buf_deinit(&l->paths);
        m->npoints = npoints0;
        return om__error(err, st, lname, 0, -1,
                         st == OM_ELIMIT ? "map drawing exceeds the size limit"
                                         : "out of memory drawing the map");
    }
    m->nlayers++;
    return OM_OK;
}

enum om_status om_map_add_label(struct om_map *m, double x, double y,
                                const char *text, struct om_error *err)
{
    if (!m || !text || !isfinite(x) || !isfinite(y)) {
        return om__error(err, OM_EINVAL, "map", 0, -1,
                         "a label needs a finite position and a text");
    }
    if (!OM__GROW(m->labels, m->cap_labels, m->nlabels + 1)) {
        return om__enomem(err, "map");
    }
    char *t = om__strdup(text);
    if (!t) {
        return om__enomem(err, "map");
    }
    struct map_label *lb = &m->labels[m->nlabels++];
    om_map_to_pixel(m, x, y, &lb->px, &lb->py);
    lb->text = t;
    return OM_OK;
}

/* ---- writing ---- */

/* Rough text width in pixels at font size 12 (CJK full width). */
static double text_width(const char *s)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p < 0x80) {
            w += 6.8;
        } else if (*p >= 0xC0) {
            w += *p >= 0xE0 ? 12.0 : 7.0;
        }
    }
    return w;
}

static enum om_status put_attr(struct om__buf *b, const char *name,
                               const char *value)
{
    enum om_status st = om__buf_printf(b, " %s=\"", name);
    if (!st) {
        st = om__xml_escape(b, value, false);
    }
    return st ? st : om__buf_puts(b, "\"");
}

static enum om_status put_style(struct om__buf *b, const struct map_layer *l)
{
    char sw[32], op[32];
    om__fmt_num(sw, sizeof sw, l->stroke_width, 2);
    om__fmt_num(op, sizeof op, l->opacity, 2);
    enum om_status st = put_attr(b, "fill", l->fill ? l->fill : "none");
    if (!st) {
        st = put_attr(b, "stroke",
                      l->stroke && l->stroke_width > 0 ? l->stroke : "none");
    }
    if (!st) {
        st = om__buf_printf(b, " stroke-width=\"%s\" fill-opacity=\"%s\"", sw,
                            op);
    }
    return st;
}

static enum om_status put_legend_text(struct om__buf *b,
                                      const struct map_layer *l)
{
    enum om_status st = om__xml_escape(b, l->label_zh, false);
    if (!st && l->label_zh && l->label_en) {
        st = om__buf_puts(b, " / ");
    }
    return st ? st : om__xml_escape(b, l->label_en, false);
}

static enum om_status render_legend(const struct om_map *m, struct om__buf *b)
{
    size_t n = 0;
    double tw = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        const struct map_layer *l = &m->layers[i];
        if (l->label_zh || l->label_en) {
            double w = text_width(l->label_zh) + text_width(l->label_en) +
                       (l->label_zh && l->label_en ? 20 : 0);
            tw = w > tw ? w : tw;
            n++;
        }
    }
    if (n == 0) {
        return OM_OK;
    }
    double bw = tw + 40, bh = 18.0 * (double)n + 10;
    double x0 = m->width - bw - 10, y0 = m->height - bh - 10;
    char sx[32], sy[32], sw[32], sh[32];
    om__fmt_num(sx, sizeof sx, x0, 1);
    om__fmt_num(sy, sizeof sy, y0, 1);
    om__fmt_num(sw, sizeof sw, bw, 1);
    om__fmt_num(sh, sizeof sh, bh, 1);
    enum om_status st = om__buf_printf(
        b,
        "<g class=\"legend\" font-size=\"12\">\n<rect x=\"%s\" y=\"%s\" "
        "width=\"%s\" height=\"%s\" fill=\"#fff\" fill-opacity=\"0.9\" "
        "stroke=\"#555\" stroke-width=\"0.8\"/>\n",
        sx, sy, sw, sh);
    size_t row = 0;
    for (size_t i = 0; i < m->nlayers && !st; i++) {
        const struct map_layer *l = &m->layers[i];
        if (!l->label_zh && !l->label_en) {
            continue;
        }
        double ry = y0 + 8 + 18.0 * (double)row++;
        om__fmt_num(sx, sizeof sx, x0 + 8, 1);
        om__fmt_num(sy, sizeof sy, ry + 2, 1);
        st = om__buf_printf(b,
                            "<rect x=\"%s\" y=\"%s\" width=\"16\" "
                            "height=\"11\"",
                            sx, sy);
        if (!st) {
            st = put_style(b, l);
        }
        if (!st) {
            om__fmt_num(sx, sizeof sx, x0 + 32, 1);
            om__fmt_num(sy, sizeof sy, ry + 12, 1);
            st = om__buf_printf(b, "/>\n<text x=\"%s\" y=\"%s\">", sx, sy);
        }
        if (!st) {
            st = put_legend_text(b, l);
        }
        if (!st) {
            st = om__buf_puts(b, "</text>\n");
        }
    }
    return st ? st : om__buf_puts(b, "</g>\n");
}

static enum om_status render_scale_bar(const struct om_map *m,
                                       struct om__buf *b)
{
    double metres, px;
    om_map_scale_bar(m, &metres, &px);
    char num[32], label[64], sl[32], sh[32], se[32], sy[32];
    bool km = metres >= 1000;
    om__fmt_num(num, sizeof num, km ? metres / 1000 : metres, 3);
    snprintf(label, sizeof label, "%s %s", num, km ? "km" : "m");
    double x0 = 12, y0 = m->height - 16.0;
    om__fmt_num(sl, sizeof sl, px, 1);
    om__fmt_num(sh, sizeof sh, px / 2, 1);
    om__fmt_num(se, sizeof se, x0 + px, 1);
    om__fmt_num(sy, sizeof sy, y0, 1);
    return om__buf_printf(
        b,
        "<g class=\"scalebar\" font-size=\"11\" "
        "transform=\"translate(%d %s)\">\n"
        "<rect x=\"-4\" y=\"-17\" width=\"%s\" height=\"27\" fill=\"#fff\" "
        "fill-opacity=\"0.8\"/>\n"
        "<rect x=\"0\" y=\"0\" width=\"%s\" height=\"5\" fill=\"#222\"/>\n"
        "<rect x=\"%s\" y=\"0\" width=\"%s\" height=\"5\" fill=\"#fff\" "
        "stroke=\"#222\" stroke-width=\"0.8\"/>\n"
        "<rect x=\"0\" y=\"0\" width=\"%s\" height=\"5\" fill=\"none\" "
        "stroke=\"#222\" stroke-width=\"0.8\"/>\n"
        "<text x=\"0\" y=\"-4\" text-anchor=\"middle\">0</text>\n"
        "<text x=\"%s\" y=\"-4\" text-anchor=\"middle\">%s</text>\n</g>\n",
        (int)x0, sy, se, sh, sh, sh, sl, sl, label);
}

static enum om_status render_north(const struct om_map *m, struct om__buf *b)
{
    return om__buf_printf(
        b,
        "<g class=\"north\" transform=\"translate(%d 12)\">\n"
        "<path d=\"M0 0L9 26L0 20Z\" fill=\"#222\"/>\n"
        "<path d=\"M0 0L-9 26L0 20Z\" fill=\"#fff\" stroke=\"#222\" "
        "stroke-width=\"0.8\"/>\n"
        "<text x=\"0\" y=\"40\" font-size=\"12\" text-anchor=\"middle\" "
        "font-weight=\"bold\">N</text>\n</g>\n",
        m->width - 24);
}

static enum om_status render(const struct om_map *m, struct om__buf *b,
                             bool legend, bool scale_bar, bool north)
{
    enum om_status st = om__buf_printf(
        b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
        "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"%s\">\n"
        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
        m->width, m->height, m->width, m->height, FONT_STACK, m->width,
        m->height);
    for (size_t i = 0; i < m->nlayers && !st; i++) {
        const struct map_layer *l = &m->layers[i];
        st = om__buf_puts(b, "<g fill-rule=\"evenodd\" "
                             "stroke-linejoin=\"round\"");
        if (!st) {
            st = put_style(b, l);
        }
        if (!st) {
            st = om__buf_puts(b, ">\n");
        }
        if (!st && l->paths.len) {
            st = om__buf_append(b, l->paths.data, l->paths.len);
        }
        if (!st) {
            st = om__buf_puts(b, "</g>\n");
        }
    }
    if (!st && m->nlabels) {
        st = om__buf_puts(b, "<g class=\"labels\" font-size=\"12\" "
                             "text-anchor=\"middle\" fill=\"#222\" "
                             "stroke=\"#fff\" stroke-width=\"3\" "
                             "paint-order=\"stroke\">\n");
        for (size_t i = 0; i < m->nlabels && !st; i++) {
            char sx[32], sy[32];
            om__fmt_num(sx, sizeof sx, m->labels[i].px, 1);
            om__fmt_num(sy, sizeof sy, m->labels[i].py + 4, 1);
            st = om__buf_printf(b, "<text x=\"%s\" y=\"%s\">", sx, sy);
            if (!st) {
                st = om__xml_escape(b, m->labels[i].text, false);
            }
            if (!st) {
                st = om__buf_puts(b, "</text>\n");
            }
        }
        if (!st) {
            st = om__buf_puts(b, "</g>\n");
        }
    }
    if (!st && legend) {
        st = render_legend(m, b);
    }
    if (!st && scale_bar) {
        st = render_scale_bar(m, b);
    }
    if (!st && north) {
        st = render_north(m, b);
    }
    if (!st) {
        st = om__buf_printf(b,
                            "<rect x=\"0.5\" y=\"0.5\" width=\"%d\" "
                            "height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n"
                            "</svg>\n",
                            m->width - 1, m->height - 1);
    }
    return st;
}

enum om_status om_map_svg_string(const struct om_map *m, bool legend,
                                 bool scale_bar, bool north_arrow, char **out,
                                 size_t *len, struct om_error *err)
{
    *out = NULL;
    if (len) {
        *len = 0;
    }
    if (!m) {
        return om__error(err, OM_EINVAL, "map", 0, -1, "no map");
    }
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = render(m, &b, legend, scale_bar, north_arrow);
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return om__error(err, st, "map", 0, -1,
                         st == OM_ELIMIT ? "SVG exceeds the size limit"
                                         : "out of memory writing the SVG");
    }
    if (len) {
        *len = b.len;
    }
    *out = om__buf_take(&b);
    return OM_OK;
}

enum om_status om_map_write_svg(const struct om_map *m, FILE *f, bool legend,
                                bool scale_bar, bool north_arrow,
                                struct om_error *err)
{
    char *s = NULL;
    size_t n = 0;
    enum om_status st =
        om_map_svg_string(m, legend, scale_bar, north_arrow, &s, &n, err);
    if (st != OM_OK) {
        return st;
    }
    bool ok = fwrite(s, 1, n, f) == n && fflush(f) == 0 && !ferror(f);
    om__free(s);
    return ok ? OM_OK
              : om__error(err, OM_EIO, "map", 0, -1, "cannot write the SVG");
}
