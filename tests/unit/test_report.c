/*
 * test_report.c — SVG maps and HTML reports: exact pixel paths for a known
 * square (y flipped), holes with even-odd fill, the simplification bound
 * (size and geometric error, checked by parsing the SVG back), scale bar
 * lengths, escaping, empty layers, well-formedness (a tag-balance checker
 * and xmllint when installed), OOM injection, and a demo report on real
 * data (written when ONEMAP_REPORT_DEMO names an output file).
 */
#include "onemap/crs.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/report.h"
#include "test.h"

#include <ctype.h>

/* ---- helpers ---- */

/* A finished layer of axis-aligned boxes, each with an optional hole. */
static enum om_status make_boxes(const double *boxes, size_t n,
                                 const double *holes, struct om_layer **out,
                                 struct om_error *err)
{
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("boxes", &l, err);
    for (size_t i = 0; i < n && st == OM_OK; i++) {
        const double *b = boxes + 4 * i;
        double ring[10] = {b[0], b[1], b[2], b[1], b[2],
                           b[3], b[0], b[3], b[0], b[1]};
        st = om_layer_begin_feature(l, (int64_t)i, err);
        if (!st) {
            st = om_layer_begin_part(l, err);
        }
        if (!st) {
            st = om_layer_add_ring(l, ring, 5, err);
        }
        if (!st && holes) {
            const double *h = holes + 4 * i;
            double hr[10] = {h[0], h[1], h[0], h[3], h[2],
                             h[3], h[2], h[1], h[0], h[1]};
            st = om_layer_add_ring(l, hr, 5, err);
        }
        if (!st) {
            st = om_layer_end_feature(l, err);
        }
    }
    if (!st) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    if (st) {
        om_layer_free(l);
        l = NULL;
    }
    *out = l;
    return st;
}

/*
 * Tiny well-formedness checker: tags balance (void HTML elements and
 * self-closing tags excepted), attribute quotes close, no raw '<' or '&'
 * outside tags/entities. Returns NULL or a static message.
 */
static const char *check_tags(const char *s, bool html)
{
    static char msg[200];
    static const char *voids[] = {"meta", "br", "hr", "img", "link", "input"};
    char stack[64][32];
    int depth = 0;
    const char *p = s;
    if (html && strncmp(p, "<!DOCTYPE html>", 15) == 0) {
        p += 15;
    }
    while (*p) {
        if (*p == '&') {
            const char *q = p + 1;
            while (isalnum((unsigned char)*q) || *q == '#') {
                q++;
            }
            if (*q != ';' || q == p + 1) {
                return "bare '&'";
            }
            p = q + 1;
            continue;
        }
        if (*p != '<') {
            if (*p == '>') {
                return "bare '>'";
            }
            p++;
            continue;
        }
        bool closing = p[1] == '/';
        const char *n = p + 1 + closing;
        size_t nl = 0;
        while (isalnum((unsigned char)n[nl]) || n[nl] == '-') {
            nl++;
        }
        if (nl == 0 || nl >= 32) {
            return "bad tag name";
        }
        const char *q = n + nl;
        char quote = 0;
        while (*q && (quote || *q != '>')) {
            if (quote && *q == quote) {
                quote = 0;
            } else if (!quote && (*q == '"' || *q == '\'')) {
                quote = *q;
            } else if (!quote && *q == '<') {
                return "'<' inside a tag";
            }
            q++;
        }
        if (!*q) {
            return "unterminated tag";
        }
        bool self = q[-1] == '/';
        bool is_void = false;
        for (size_t i = 0; html && i < sizeof voids / sizeof *voids; i++) {
            is_void |= strlen(voids[i]) == nl && !strncmp(n, voids[i], nl);
        }
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != nl ||
                strncmp(stack[depth - 1], n, nl) != 0) {
                snprintf(msg, sizeof msg, "unbalanced </%.*s>", (int)nl, n);
                return msg;
            }
            depth--;
        } else if (!self && !is_void) {
            if (depth == 64) {
                return "too deep";
            }
            memcpy(stack[depth], n, nl);
            stack[depth][nl] = '\0';
            depth++;
        }
        /* <style> content is CSS: skip to its end tag. */
        if (!closing && nl == 5 && !strncmp(n, "style", 5)) {
            const char *e = strstr(q, "</style>");
            if (!e) {
                return "unterminated style";
            }
            q = e - 1;
        }
        p = q + 1;
    }
    if (depth) {
        snprintf(msg, sizeof msg, "<%s> not closed", stack[depth - 1]);
        return msg;
    }
    return NULL;
}

/* 1 = well-formed, 0 = not, -1 = xmllint not installed. */
static int xmllint_ok(const char *text, size_t n)
{
    if (system("command -v xmllint >/dev/null 2>&1") != 0) {
        return -1;
    }
    char path[512];
    snprintf(path, sizeof path, "%s/lint.svg", test_tmpdir());
    FILE *f = fopen(path, "wb");
    if (!f) {
        return 0;
    }
    fwrite(text, 1, n, f);
    fclose(f);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "xmllint --noout '%s' 2>/dev/null", path);
    return system(cmd) == 0;
}

/* The d attribute of the first <path> after `from`, copied into buf. */
static const char *path_d(const char *svg, const char *from, char *buf,
                          size_t size)
{
    const char *p = strstr(from ? from : svg, "<path d=\"");
    if (!p) {
        return NULL;
    }
    p += 9;
    const char *e = strchr(p, '"');
    size_t n = (size_t)(e - p) < size - 1 ? (size_t)(e - p) : size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static double seg_dist(double px, double py, double ax, double ay, double bx,
                       double by)
{
    double dx = bx - ax, dy = by - ay;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ex = ax + t * dx - px, ey = ay + t * dy - py;
    return sqrt(ex * ex + ey * ey);
}

/* ---- tests ---- */

TEST(test_square_pixels)
{
    struct om_error err;
    struct om_layer *l = NULL;
    static const double box[] = {10, 10, 30, 40};
    CHECK_OK(make_boxes(box, 1, NULL, &l, &err), &err);
    struct om_map *m = NULL;
    CHECK_OK(om_map_new((struct om_rect){0, 0, 100, 100}, 200, 200, &m, &err),
             &err);
    double px, py;
    om_map_to_pixel(m, 10, 10, &px, &py);
    CHECK_NEAR(px, 20, 0, 1e-12);
    CHECK_NEAR(py, 180, 0, 1e-12); /* y flipped */
    CHECK_NEAR(om_map_resolution(m), 0.5, 1e-15, 0);
    struct om_map_style sty = {"#ff0000", "#000", 1, 0.5, "红线", "red"};
    CHECK_OK(om_map_add_layer(m, l, NULL, &sty, &err), &err);
    char *svg = NULL;
    size_t n = 0;
    CHECK_OK(om_map_svg_string(m, true, true, true, &svg, &n, &err), &err);
    char d[256];
    bool ok = path_d(svg, NULL, d, sizeof d) &&
              !strcmp(d, "M20 180 60 180 60 120 20 120Z");
    bool style = strstr(svg, "fill=\"#ff0000\"") &&
                 strstr(svg, "fill-opacity=\"0.5\"") &&
                 strstr(svg, "fill-rule=\"evenodd\"") &&
                 strstr(svg, "红线 / red");
    const char *bad = check_tags(svg, false);
    int lint = xmllint_ok(svg, n);
    bool no_ext = !strstr(svg, "href") && !strstr(svg, "url(");
    om_report_free_string(svg);
    om_map_free(m);
    om_layer_free(l);
    if (!ok) {
        FAILF("path d = \"%s\"", d);
        return;
    }
    CHECK(style);
    if (bad) {
        FAILF("SVG not well-formed: %s", bad);
        return;
    }
    CHECK(lint != 0);
    CHECK(no_ext);
}

TEST(test_aspect_centred)
{
    struct om_error err;
    struct om_map *m = NULL;
    /* 100 × 50 extent on a square image: y gets 25 extra each side. */
    CHECK_OK(om_map_new((struct om_rect){0, 0, 100, 50}, 200, 200, &m, &err),
             &err);
    double px, py;
    om_map_to_pixel(m, 0, 0, &px, &py);
    CHECK_NEAR(px, 0, 0, 1e-12);
    CHECK_NEAR(py, 150, 0, 1e-12);
    om_map_to_pixel(m, 100, 50, &px, &py);
    CHECK_NEAR(px, 200, 0, 1e-12);
    CHECK_NEAR(py, 50, 0, 1e-12);
    om_map_free(m);
}

TEST(test_hole_evenodd)
{
    struct om_error err;
    struct om_layer *l = NULL;
    static const double box[] = {0, 0, 100, 100}, hole[] = {25, 25, 75, 75};
    CHECK_OK(make_boxes(box, 1, hole, &l, &err), &err);
    struct om_map *m = NULL;
    CHECK_OK(om_map_new((struct om_rect){0, 0, 100, 100}, 100, 100, &m, &err),
             &err);
    struct om_map_style sty = {"#0a0", NULL, 0, 1, NULL, NULL};
    CHECK_OK(om_map_add_layer(m, l, NULL, &sty, &err), &err);
    char *svg = NULL;
    CHECK_OK(om_map_svg_string(m, false, false, false, &svg, NULL, &err), &err);
    char d[256];
    bool ok = path_d(svg, NULL, d, sizeof d) &&
              !strcmp(d, "M0 100 100 100 100 0 0 0ZM25 75 25 25 75 25 75 75Z");
    bool evenodd = strstr(svg, "fill-rule=\"evenodd\"") != NULL;
    bool nolegend = !strstr(svg, "class=\"legend\"") &&
                    !strstr(svg, "class=\"scalebar\"") &&
                    !strstr(svg, "class=\"north\"");
    om_report_free_string(svg);
    om_map_free(m);
    om_layer_free(l);
    if (!ok) {
        FAILF("path d = \"%s\"", d);
        return;
    }
    CHECK(evenodd);
    CHECK(nolegend);
}

/*
 * A circle of 100,000 vertices filling an 800 px map: under 5,000 path
 * points, and every input vertex close to the drawn outline, which is
 * itself on the circle.
 */
TEST(test_simplify_bound)
{
    enum { N = 100000 };
    struct om_error err;
    const double R = 5000.0, cx = 500000.0, cy = 4800000.0;
    double *ring = malloc(sizeof(double) * 2 * (N + 1));
    for (int i = 0; i <= N; i++) {
        double a = 2 * 3.14159265358979323846 * (i % N) / N;
        ring[2 * i] = cx + R * cos(a);
        ring[2 * i + 1] = cy + R * sin(a);
    }
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("circle", &l, &err);
    if (!st) {
        st = om_layer_begin_feature(l, 1, &err);
    }
    if (!st) {
        st = om_layer_begin_part(l, &err);
    }
    if (!st) {
        st = om_layer_add_ring(l, ring, N + 1, &err);
    }
    if (!st) {
        st = om_layer_end_feature(l, &err);
    }
    if (!st) {
        st = om_layer_finish(l, 0, &err);
    }
    struct om_map *m = NULL;
    if (!st) {
        st = om_map_new((struct om_rect){cx - R, cy - R, cx + R, cy + R}, 800,
                        800, &m, &err);
    }
    struct om_map_style sty = {"#00f", "#000", 0.5, 0.3, "c", NULL};
    if (!st) {
        st = om_map_add_layer(m, l, NULL, &sty, &err);
    }
    char *svg = NULL;
    if (!st) {
        st = om_map_svg_string(m, true, true, true, &svg, NULL, &err);
    }
    if (st) {
        free(ring);
        om_map_free(m);
        om_layer_free(l);
        CHECK_OK(st, &err);
    }
    size_t np = om_map_npoints(m);
    /* Parse the path back. */
    char *d = malloc(strlen(svg) + 1);
    path_d(svg, NULL, d, strlen(svg) + 1);
    double *pts = malloc(sizeof(double) * 2 * (np + 1));
    size_t k = 0;
    for (char *p = d; *p && k <= np;) {
        if (*p == 'M' || *p == ' ') {
            p++;
            pts[2 * k] = strtod(p, &p);
            pts[2 * k + 1] = strtod(p + 1, &p);
            k++;
        } else {
            break;
        }
    }
    double worst = 0, off_circle = 0;
    for (size_t j = 0; j < k; j++) {
        double dx = pts[2 * j] - 400, dy = pts[2 * j + 1] - 400;
        off_circle = fmax(off_circle, fabs(sqrt(dx * dx + dy * dy) - 400));
    }
    /* Each input vertex against the nearby segments (checked every 7th). */
    for (int i = 0; i < N && k >= 3; i += 7) {
        double px, py;
        om_map_to_pixel(m, ring[2 * i], ring[2 * i + 1], &px, &py);
        double best = INFINITY;
        for (size_t j = 0; j < k; j++) {
            size_t j2 = (j + 1) % k;
            best = fmin(best, seg_dist(px, py, pts[2 * j], pts[2 * j + 1],
                                       pts[2 * j2], pts[2 * j2 + 1]));
        }
        worst = fmax(worst, best);
    }
    free(pts);
    free(d);
    om_report_free_string(svg);
    om_map_free(m);
    om_layer_free(l);
    free(ring);
    CHECK(k == np);
    CHECK(np >= 20);
    CHECK(np < 5000);
    CHECK(off_circle < 0.1);
    /* General bound 0.8 px; on a convex curve the strip test leaves
     * chords whose sagitta is a quarter of the strip: 0.0625 + rounding. */
    if (worst > 0.15) {
        FAILF("an input vertex is %.3f px from the drawn outline", worst);
    }
}

TEST(test_scale_bar)
{
    struct om_error err;
    struct om_map *m = NULL;
    double metres, px;
    /* 10 km over 1000 px: at most 2.5 km → a 2 km bar of 200 px. */
    CHECK_OK(
        om_map_new((struct om_rect){0, 0, 10000, 10000}, 1000, 1000, &m, &err),
        &err);
    om_map_scale_bar(m, &metres, &px);
    CHECK_NEAR(metres, 2000, 1e-12, 0);
    CHECK_NEAR(px, 200, 1e-12, 0);
    char *svg = NULL;
    CHECK_OK(om_map_svg_string(m, false, true, false, &svg, NULL, &err), &err);
    bool lbl = strstr(svg, ">2 km</text>") != NULL;
    bool bar = strstr(svg, "width=\"200\" height=\"5\"") != NULL;
    om_report_free_string(svg);
    om_map_free(m);
    CHECK(lbl);
    CHECK(bar);
    /* 30 km over 1000 px: max 7.5 km → 5 km, 166.7 px. */
    CHECK_OK(
        om_map_new((struct om_rect){0, 0, 30000, 1000}, 1000, 500, &m, &err),
        &err);
    om_map_scale_bar(m, &metres, &px);
    om_map_free(m);
    CHECK_NEAR(metres, 5000, 1e-12, 0);
    CHECK_NEAR(px, 1000.0 / 6, 1e-12, 0);
    /* 1 km over 800 px: max 250 m → 200 m, labelled in m. */
    CHECK_OK(om_map_new((struct om_rect){0, 0, 1000, 1000}, 800, 800, &m, &err),
             &err);
    om_map_scale_bar(m, &metres, &px);
    CHECK_OK(om_map_svg_string(m, false, true, false, &svg, NULL, &err), &err);
    lbl = strstr(svg, ">200 m</text>") != NULL;
    om_report_free_string(svg);
    om_map_free(m);
    CHECK_NEAR(metres, 200, 1e-12, 0);
    CHECK_NEAR(px, 160, 1e-12, 0);
    CHECK(lbl);
    /* 100 km extent, 1000 px: 20 km bar. */
    CHECK_OK(om_map_new((struct om_rect){0, 0, 100000, 1}, 1000, 100, &m, &err),
             &err);
    om_map_scale_bar(m, &metres, &px);
    om_map_free(m);
    CHECK_NEAR(metres, 20000, 1e-12, 0);
}

TEST(test_escaping)
{
    struct om_error err;
    struct om_map *m = NULL;
    CHECK_OK(om_map_new((struct om_rect){0, 0, 100, 100}, 100, 100, &m, &err),
             &err);
    CHECK_OK(om_map_add_label(m, 50, 50, "a<b & \"c\">'d' 长春\x01\xff", &err),
             &err);
    struct om_layer *l = NULL;
    static const double box[] = {10, 10, 20, 20};
    CHECK_OK(make_boxes(box, 1, NULL, &l, &err), &err);
    struct om_map_style sty = {"#f00\"/><script>", NULL, 0, 1, "<zh>", "&en"};
    enum om_status st = om_map_add_layer(m, l, NULL, &sty, &err);
    om_layer_free(l);
    char *svg = NULL;
    if (st == OM_OK) {
        st = om_map_svg_string(m, true, true, true, &svg, NULL, &err);
    }
    CHECK_OK(st, &err);

    struct om_html *h = NULL;
    CHECK_OK(om_html_new("标题<1>", "Title & \"x\"", &h, &err), &err);
    static const char *const hdr[] = {"<a>", "b&"};
    static const char *const cells[] = {"x<y", "1&2", "合计", "\"q\""};
    st = om_html_table(h, hdr, 2, cells, 2, 2u, "合计", &err);
    if (!st) {
        st = om_html_p(h, "line1\nline2 <b>", &err);
    }
    if (!st) {
        st = om_html_svg_map(h, m, "图<1>", NULL, &err);
    }
    char *html = NULL;
    if (!st) {
        st = om_html_string(h, &html, NULL, &err);
    }
    om_html_free(h);
    om_map_free(m);
    if (st) {
        om_report_free_string(svg);
        CHECK_OK(st, &err);
    }
    const char *bad_svg = check_tags(svg, false);
    const char *bad_html = check_tags(html, true);
    bool lab = strstr(svg, "a&lt;b &amp; &quot;c&quot;&gt;&#39;d&#39; "
                           "长春\xEF\xBF\xBD</text>") != NULL;
    bool attr = strstr(svg, "fill=\"#f00&quot;/&gt;&lt;script&gt;\"") != NULL;
    bool leg = strstr(svg, "&lt;zh&gt; / &amp;en") != NULL;
    bool noscript = !strstr(svg, "<script") && !strstr(html, "<script");
    bool title = strstr(html, "<title>标题&lt;1&gt; / Title &amp; "
                              "&quot;x&quot;</title>") != NULL;
    bool th = strstr(html, "<th>&lt;a&gt;</th><th class=\"num\">b&amp;</th>");
    bool td = strstr(html, "<tr><td>x&lt;y</td><td class=\"num\">1&amp;2"
                           "</td></tr>") != NULL;
    bool total = strstr(html, "<tr class=\"total\"><td>合计</td>"
                              "<td class=\"num\">&quot;q&quot;</td>") != NULL;
    bool br = strstr(html, "<p>line1<br>\nline2 &lt;b&gt;</p>") != NULL;
    bool cap = strstr(html, "<figcaption>图&lt;1&gt;</figcaption>") != NULL;
    om_report_free_string(svg);
    om_report_free_string(html);
    if (bad_svg || bad_html) {
        FAILF("not well-formed: svg %s, html %s", bad_svg ? bad_svg : "ok",
              bad_html ? bad_html : "ok");
        return;
    }
    CHECK(lab);
    CHECK(attr);
    CHECK(leg);
    CHECK(noscript);
    CHECK(title);
    CHECK(th);
    CHECK(td);
    CHECK(total);
    CHECK(br);
    CHECK(cap);
}

TEST(test_empty_and_tiny)
{
    struct om_error err;
    struct om_layer *empty = NULL;
    CHECK_OK(om_layer_new("empty", &empty, &err), &err);
    enum om_status st = om_layer_begin_feature(empty, 1, &err);
    if (!st) {
        st = om_layer_end_feature(empty, &err); /* a feature with no parts */
    }
    if (!st) {
        st = om_layer_finish(empty, 0, &err);
    }
    /* 300 boxes of 1 m inside one 10 m pixel, one outside the map, one
     * masked out. */
    double boxes[4 * 302];
    for (int i = 0; i < 300; i++) {
        double o = (i % 10) * 0.5;
        double *b = boxes + 4 * i;
        b[0] = 100 + o;
        b[1] = 100 + o;
        b[2] = 101 + o;
        b[3] = 101 + o;
    }
    double far[] = {1e6, 1e6, 1e6 + 10, 1e6 + 10, 500, 500, 600, 600};
    memcpy(boxes + 4 * 300, far, sizeof far);
    struct om_layer *tiny = NULL;
    if (!st) {
        st = make_boxes(boxes, 302, NULL, &tiny, &err);
    }
    uint8_t mask[302];
    memset(mask, 1, sizeof mask);
    mask[301] = 0;
    struct om_map *m = NULL;
    if (!st) {
        st = om_map_new((struct om_rect){0, 0, 1000, 1000}, 100, 100, &m, &err);
    }
    struct om_map_style sty = {"#f00", "#000", 1, 1, "空", "empty"};
    if (!st) {
        st = om_map_add_layer(m, empty, NULL, &sty, &err);
    }
    if (!st) {
        st = om_map_add_layer(m, tiny, mask, &sty, &err);
    }
    char *svg = NULL;
    if (!st) {
        st = om_map_svg_string(m, true, true, true, &svg, NULL, &err);
    }
    om_layer_free(empty);
    om_layer_free(tiny);
    om_map_free(m);
    CHECK_OK(st, &err);
    size_t npath = 0;
    for (const char *p = svg; (p = strstr(p, "<path d=\"M")) != NULL; p++) {
        npath++;
    }
    bool marker = strstr(svg, "<path d=\"M10 89h1v1h-1Z\"/>") != NULL;
    bool groups = strstr(svg, "<g fill-rule") != NULL;
    const char *bad = check_tags(svg, false);
    om_report_free_string(svg);
    CHECK(bad == NULL);
    CHECK(groups);
    /* one marker for the 300 tiny boxes (all in pixel 10,89) + 2 arrow */
    if (npath != 1 + 2 || !marker) {
        FAILF("%zu paths, marker %d", npath, marker);
    }
}

TEST(test_html_document)
{
    struct om_error err;
    struct om_html *h = NULL;
    CHECK_OK(om_html_new("冲突检测报告", "Conflict report", &h, &err), &err);
    static const char *const keys[] = {"项目 Project", "规则 Rules"};
    static const char *const vals[] = {"demo.gpkg", NULL};
    enum om_status st = om_html_kv(h, keys, vals, 2, &err);
    if (!st) {
        st = om_html_h2(h, "汇总", "Summary", &err);
    }
    if (!st) {
        st = om_html_note(h, "面积为椭球面积 (CGCS2000)。", &err);
    }
    if (!st) {
        st = om_html_page_break(h, &err);
    }
    static const char *const hdr[] = {"规则", "面积 (ha)"};
    const char *cells[2 * 40];
    for (int i = 0; i < 40; i++) {
        cells[2 * i] = i == 39 ? "合计" : "R1";
        cells[2 * i + 1] = "1.00";
    }
    if (!st) {
        st = om_html_table(h, hdr, 2, cells, 40, 2u, "合计", &err);
    }
    char path[512];
    snprintf(path, sizeof path, "%s/doc.html", test_tmpdir());
    FILE *f = fopen(path, "w+b");
    if (!st) {
        st = om_html_write(h, f, &err);
    }
    char *s = NULL;
    size_t n = 0;
    if (!st) {
        st = om_html_string(h, &s, &n, &err);
    }
    /* invalid calls leave the document unchanged */
    enum om_status bad1 = om_html_table(h, hdr, 0, cells, 1, 0, NULL, &err);
    enum om_status bad2 = om_html_table(NULL, hdr, 2, cells, 1, 0, NULL, &err);
    om_html_free(h);
    char *back = calloc(1, n + 1);
    if (f) {
        rewind(f);
        if (fread(back, 1, n + 1, f) != n) {
            back[0] = '\0';
        }
        fclose(f);
    }
    if (st) {
        free(back);
        CHECK_OK(st, &err);
    }
    bool same = s && strcmp(s, back) == 0;
    free(back);
    const char *bad = check_tags(s, true);
    bool a4 = strstr(s, "@page{size:A4") != NULL;
    bool font = strstr(s, "\"Noto Sans CJK SC\",\"Source Han Sans SC\","
                          "\"Microsoft YaHei\",sans-serif") != NULL;
    bool head = !strncmp(s, "<!DOCTYPE html>\n<html lang=\"zh-CN\">", 33) &&
                strstr(s, "<meta charset=\"utf-8\">");
    bool h1 = strstr(s, "<h1>冲突检测报告 <span class=\"en\">Conflict report"
                        "</span></h1>") != NULL;
    bool kv = strstr(s, "<tr><th>规则 Rules</th><td></td></tr>") != NULL;
    bool long_tbl = strstr(s, "<table class=\"data\">") != NULL;
    bool thead = strstr(s, "<thead><tr><th>规则</th>") != NULL;
    bool pb = strstr(s, "<div class=\"pagebreak\"></div>") != NULL;
    om_report_free_string(s);
    CHECK(same);
    if (bad) {
        FAILF("HTML not well-formed: %s", bad);
        return;
    }
    CHECK(a4);
    CHECK(font);
    CHECK(head);
    CHECK(h1);
    CHECK(kv);
    CHECK(long_tbl);
    CHECK(thead);
    CHECK(pb);
    CHECK(bad1 == OM_EINVAL);
    CHECK(bad2 == OM_EINVAL);
}

TEST(test_bad_arguments)
{
    struct om_error err;
    struct om_map *m = (struct om_map *)&err;
    CHECK_STATUS(om_map_new((struct om_rect){0, 0, 1, 1}, 8, 100, &m, &err),
                 OM_EINVAL);
    CHECK(m == NULL);
    CHECK_STATUS(om_map_new((struct om_rect){0, 0, 0, 0}, 100, 100, &m, &err),
                 OM_EINVAL);
    CHECK_STATUS(om_map_new(om_rect_empty(), 100, 100, &m, &err), OM_EINVAL);
    CHECK_STATUS(om_map_new((struct om_rect){0, 0, NAN, 1}, 100, 100, &m, &err),
                 OM_EINVAL);
    CHECK_CONTAINS(err.msg, "extent");
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("open", &l, &err), &err);
    CHECK_OK(om_map_new((struct om_rect){0, 0, 10, 10}, 100, 100, &m, &err),
             &err);
    struct om_map_style sty = {"#f00", NULL, 0, 1, NULL, NULL};
    enum om_status st1 = om_map_add_layer(m, l, NULL, &sty, &err);
    enum om_status st2 = om_map_add_layer(m, l, NULL, NULL, &err);
    enum om_status st3 = om_map_add_label(m, NAN, 0, "x", &err);
    FILE *f = fopen("/dev/full", "w");
    enum om_status st4 =
        f ? om_map_write_svg(m, f, true, true, true, &err) : OM_EIO;
    if (f) {
        fclose(f);
    }
    om_map_free(m);
    om_layer_free(l);
    CHECK(st1 == OM_EINVAL);
    CHECK(st2 == OM_EINVAL);
    CHECK(st3 == OM_EINVAL);
    CHECK(st4 == OM_EIO);
}

/* Build a map and a document with every allocation failing in turn. */
static enum om_status build_all(const struct om_layer *l, char **out,
                                struct om_error *err)
{
    *out = NULL;
    struct om_map *m = NULL;
    struct om_html *h = NULL;
    struct om_map_style sty = {"#f00", "#000", 1, 0.4, "甲", "A"};
    static const char *const hdr[] = {"a", "b"};
    static const char *const cells[] = {"1", "2", "合计", "3"};
    static const char *const k[] = {"k"};
    enum om_status st =
        om_map_new((struct om_rect){0, 0, 100, 100}, 100, 100, &m, err);
    if (!st) {
        st = om_map_add_layer(m, l, NULL, &sty, err);
    }
    if (!st) {
        st = om_map_add_label(m, 5, 5, "标签", err);
    }
    if (!st) {
        st = om_html_new("题", "T", &h, err);
    }
    if (!st) {
        st = om_html_h2(h, "节", "S", err);
    }
    if (!st) {
        st = om_html_kv(h, k, k, 1, err);
    }
    if (!st) {
        st = om_html_table(h, hdr, 2, cells, 2, 2u, "合计", err);
    }
    if (!st) {
        st = om_html_svg_map(h, m, "图", "Map", err);
    }
    if (!st) {
        st = om_html_string(h, out, NULL, err);
    }
    om_html_free(h);
    om_map_free(m);
    return st;
}

TEST(test_oom)
{
    struct om_error err;
    struct om_layer *l = NULL;
    static const double box[] = {10, 10, 30, 40, 50, 50, 50.001, 50.001},
                        hole[] = {15, 15, 20, 20, 0, 0, 0, 0};
    CHECK_OK(make_boxes(box, 2, hole, &l, &err), &err);
    char *ref = NULL;
    CHECK_OK(build_all(l, &ref, &err), &err);
    long base = test_live_allocs_;
    int n;
    for (n = 0; n < 10000; n++) {
        char *s = NULL;
        test_fail_allocs_after(n);
        enum om_status st = build_all(l, &s, &err);
        test_fail_after_ = -1;
        if (st == OM_OK) {
            bool same = strcmp(s, ref) == 0;
            om_report_free_string(s);
            if (!same) {
                FAILF("output differs after %d failures", n);
            }
            break;
        }
        if (st != OM_ENOMEM || s != NULL || test_live_allocs_ != base) {
            FAILF("alloc %d: status %s, live %ld (want %ld)", n,
                  om_status_name(st), test_live_allocs_, base);
            break;
        }
    }
    om_report_free_string(ref);
    om_layer_free(l);
    CHECK(n > 10);
}

/*
 * A demo report on real data (North Carolina counties, sf package), written
 * to $ONEMAP_REPORT_DEMO when set; tests/cli/report_render.sh renders it.
 */
TEST(test_demo_report)
{
    const char *outp = getenv("ONEMAP_REPORT_DEMO");
    char path[512];
    test_data_path("sf/nc.shp", path, sizeof path);
    if (!outp || access(path, R_OK) != 0) {
        return;
    }
    struct om_error err;
    struct om_layer *l = NULL;
    struct om_crs *src = NULL, *dst = NULL;
    struct om_transform *t = NULL;
    CHECK_OK(om_source_read(path, NULL, &l, NULL, &err), &err);
    enum om_status st = om_crs_new(om_layer_crs(l), &src, &err);
    if (!st) {
        st = om_crs_new("EPSG:32617", &dst, &err);
    }
    if (!st) {
        st = om_transform_new(src, dst, &t, &err);
    }
    if (!st) {
        st = om_layer_transform(l, t, NULL, &err);
    }
    if (!st) {
        st = om_layer_finish(l, 0, &err);
    }
    om_transform_free(t);
    om_crs_free(src);
    om_crs_free(dst);
    size_t nf = l ? om_layer_nfeatures(l) : 0;
    uint8_t *mask = calloc(nf + 1, 1);
    int fb = l ? om_layer_field_index(l, "BIR74") : -1;
    int fn = l ? om_layer_field_index(l, "NAME") : -1;
    const char **cells = calloc(2 * nf + 2, sizeof *cells);
    char(*nums)[32] = calloc(nf + 1, sizeof *nums);
    size_t nrows = 0;
    double total = 0;
    for (size_t f = 0; f < nf && fb >= 0 && fn >= 0; f++) {
        double b = om_layer_get_real(l, f, fb);
        if (b > 10000) {
            mask[f] = 1;
            cells[2 * nrows] = om_layer_get_text(l, f, fn);
            snprintf(nums[nrows], 32, "%.0f", b);
            cells[2 * nrows + 1] = nums[nrows];
            nrows++;
            total += b;
        }
    }
    cells[2 * nrows] = "合计 Total";
    snprintf(nums[nrows], 32, "%.0f", total);
    cells[2 * nrows + 1] = nums[nrows];
    struct om_map *m = NULL;
    struct om_html *h = NULL;
    if (!st) {
        st = om_map_new(om_layer_extent(l), 900, 420, &m, &err);
    }
    struct om_map_style base = {"#f2efe6", "#777", 0.6,
                                1,         "县界", "County boundary"};
    struct om_map_style hi = {
        "#d62728", "#8b0000",        1,
        0.55,      "出生数 > 10000", "Births 1974 > 10,000"};
    if (!st) {
        st = om_map_add_layer(m, l, NULL, &base, &err);
    }
    if (!st) {
        st = om_map_add_layer(m, l, mask, &hi, &err);
    }
    for (size_t f = 0; f < nf && !st; f++) {
        if (mask[f]) {
            struct om_layer_view v;
            om_layer_view(l, &v);
            st = om_map_add_label(m, (v.bbox[f].minx + v.bbox[f].maxx) / 2,
                                  (v.bbox[f].miny + v.bbox[f].maxy) / 2,
                                  om_layer_get_text(l, f, fn), &err);
        }
    }
    static const char *const keys[] = {"数据 Data", "坐标系 CRS",
                                       "要素 Features"};
    char nfs[32];
    snprintf(nfs, sizeof nfs, "%zu", nf);
    const char *vals[] = {"sf/nc.shp (NC SIDS, r-cran-sf)",
                          "EPSG:32617 (UTM 17N)", nfs};
    static const char *const hdr[] = {"县 County", "出生数 Births 1974"};
    if (!st) {
        st =
            om_html_new("演示报告 <北卡罗来纳>", "Demo report & map", &h, &err);
    }
    if (!st) {
        st = om_html_kv(h, keys, vals, 3, &err);
    }
    if (!st) {
        st = om_html_h2(h, "地图", "Map", &err);
    }
    if (!st) {
        st = om_html_svg_map(h, m, "出生数较多的县",
                             "Counties with most "
                             "births",
                             &err);
    }
    if (!st) {
        st = om_html_h2(h, "统计表", "Table", &err);
    }
    if (!st) {
        st = om_html_table(h, hdr, 2, cells, nrows + 1, 2u, "合计 Total", &err);
    }
    if (!st) {
        st = om_html_note(h, "数据仅用于演示。Data for demonstration only.",
                          &err);
    }
    FILE *f = NULL;
    if (!st) {
        f = fopen(outp, "wb");
        st = f ? om_html_write(h, f, &err) : OM_EIO;
        if (f) {
            fclose(f);
        }
    }
    om_html_free(h);
    om_map_free(m);
    om_layer_free(l);
    free(mask);
    free(cells);
    free(nums);
    CHECK_OK(st, &err);
    CHECK(nrows > 3);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_report.c");
    RUN(test_square_pixels);
    RUN(test_aspect_centred);
    RUN(test_hole_evenodd);
    RUN(test_simplify_bound);
    RUN(test_scale_bar);
    RUN(test_escaping);
    RUN(test_empty_and_tiny);
    RUN(test_html_document);
    RUN(test_bad_arguments);
    RUN(test_oom);
    RUN(test_demo_report);
    TEST_MAIN_END();
}
