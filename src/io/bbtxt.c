/*
 * bbtxt.c — the 部标 TXT (勘测定界界址点坐标交换格式) reader and writer
 * (contract in onemap/bbtxt.h). Text parsing and GBK <-> UTF-8 through
 * glibc iconv; the CRS, area and validity checks go through crs.h and
 * polyops.h.
 */
#include "onemap/bbtxt.h"

#include "core/core.h"
#include "onemap/crs.h"
#include "onemap/limits.h"
#include "onemap/polyops.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct om_bbtxt_priv {
    struct om__arena arena;
    size_t cap_keys, cap_parcels, cap_points, cap_notes;
};

struct parser {
    struct om_bbtxt *t;
    struct om_bbtxt_priv *p;
    const char *src;
    const struct om_bbtxt_options *opt;
    struct om_error *err;
};

/* ---- small helpers ---- */

static enum om_status perr(struct parser *ps, enum om_status st, long line,
                           const char *fmt, ...) OM__PRINTF(4, 5);
static enum om_status perr(struct parser *ps, enum om_status st, long line,
                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    om__errorv(ps->err, st, ps->src, line, -1, fmt, ap);
    va_end(ap);
    return st;
}

static const char *adup(struct parser *ps, const char *s)
{
    return om__arena_strdup(&ps->p->arena, s ? s : "");
}

static enum om_status note(struct parser *ps, long line, const char *code,
                           const char *zh, const char *en)
{
    struct om_bbtxt *t = ps->t;
    if (!OM__GROW(t->notes, ps->p->cap_notes, t->nnotes + 1)) {
        return om__enomem(ps->err, ps->src);
    }
    struct om_bbtxt_note *n = &t->notes[t->nnotes];
    n->line = line;
    n->code = code;
    n->zh = adup(ps, zh);
    n->en = adup(ps, en);
    if (!n->zh || !n->en) {
        return om__enomem(ps->err, ps->src);
    }
    t->nnotes++;
    return OM_OK;
}

static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            min = 0x80;
            c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            min = 0x800;
            c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            min = 0x10000;
            c &= 0x07;
        } else {
            return false;
        }
        if (i + k >= n) {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) {
                return false;
            }
            c = (c << 6) | (s[i + j] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            return false;
        }
        i += k + 1;
    }
    return true;
}

static long line_at(const char *data, size_t off)
{
    long line = 1;
    for (size_t i = 0; i < off; i++) {
        line += data[i] == '\n';
    }
    return line;
}

/* Decode to a NUL-terminated UTF-8 copy (om__free it). */
static enum om_status decode(struct parser *ps, const char *data, size_t len,
                             char **out, size_t *outlen)
{
    *out = NULL;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        len -= 3;
    }
    const char *nul = memchr(data, '\0', len);
    if (nul) {
        return perr(ps, OM_EPARSE, line_at(data, (size_t)(nul - data)),
                    "NUL byte in a text file");
    }
    if (utf8_valid((const unsigned char *)data, len)) {
        char *s = om__malloc(len + 1);
        if (!s) {
            return om__enomem(ps->err, ps->src);
        }
        memcpy(s, data, len);
        s[len] = '\0';
        *out = s;
        *outlen = len;
        ps->t->encoding = "UTF-8";
        return OM_OK;
    }
    ps->t->encoding = "GBK";
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1) {
        return perr(ps, OM_EIO, 0, "cannot convert GBK text: iconv: %s",
                    strerror(errno));
    }
    size_t cap = 2 * len + 16;
    char *s = om__malloc(cap);
    if (!s) {
        iconv_close(cd);
        return om__enomem(ps->err, ps->src);
    }
    char *in = (char *)(uintptr_t)data, *o = s;
    size_t inleft = len, oleft = cap - 1;
    size_t r = iconv(cd, &in, &inleft, &o, &oleft);
    iconv_close(cd);
    if (r == (size_t)-1) {
        om__free(s);
        return perr(ps, OM_EPARSE, line_at(data, (size_t)(in - data)),
                    "text is neither UTF-8 nor GBK (byte 0x%02X)",
                    (unsigned char)*in);
    }
    *o = '\0';
    *out = s;
    *outlen = (size_t)(o - s);
    return OM_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

/* Split in place on ','. Returns the number of fields (<= max). */
static size_t split(char *s, char **f, size_t max)
{
    size_t n = 0;
    for (;;) {
        char *c = n + 1 < max ? strchr(s, ',') : NULL;
        if (c) {
            *c = '\0';
        }
        f[n++] = trim(s);
        if (!c) {
            return n;
        }
        s = c + 1;
    }
}

static bool parse_double(const char *s, double *v)
{
    if (!*s) {
        return false;
    }
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return *end == '\0' && errno != ERANGE && isfinite(*v);
}

static bool parse_long(const char *s, long *v)
{
    if (!*s) {
        return false;
    }
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return *end == '\0' && errno != ERANGE;
}

/* ---- the line parser ---- */

enum { SEC_NONE, SEC_HEADER, SEC_COORDS, SEC_OTHER };

static enum om_status parcel_line(struct parser *ps, char *s, long line)
{
    struct om_bbtxt *t = ps->t;
    if (t->nparcels >= OM_BBTXT_MAX_PARCELS) {
        return perr(ps, OM_ELIMIT, line, "more than %u parcels",
                    OM_BBTXT_MAX_PARCELS);
    }
    size_t n = strlen(s);
    s[n - 1] = '\0'; /* the '@' */
    char *f[OM_BBTXT_MAX_FIELDS];
    size_t nf = split(s, f, OM_BBTXT_MAX_FIELDS);
    if (nf > 0 && f[nf - 1][0] == '\0') {
        nf--; /* ",@" */
    }
    if (!OM__GROW(t->parcels, ps->p->cap_parcels, t->nparcels + 1)) {
        return om__enomem(ps->err, ps->src);
    }
    struct om_bbtxt_parcel *pc = &t->parcels[t->nparcels];
    memset(pc, 0, sizeof *pc);
    pc->line = line;
    pc->npoints_declared = -1;
    pc->area_ha = NAN;
    pc->ellipsoidal_m2 = NAN;
    pc->first_point = t->npoints;
    if (nf >= 1 && f[0][0]) {
        long v;
        if (!parse_long(f[0], &v) || v < 0) {
            return perr(ps, OM_EPARSE, line, "bad 界址点数 (point count) '%s'",
                        f[0]);
        }
        pc->npoints_declared = v;
    }
    if (nf >= 2 && f[1][0]) {
        if (!parse_double(f[1], &pc->area_ha)) {
            return perr(ps, OM_EPARSE, line, "bad 地块面积 (area) '%s'", f[1]);
        }
    }
    const char **dst[] = {&pc->code,  &pc->name, &pc->shape,
                          &pc->sheet, &pc->use,  &pc->dlbm};
    for (size_t i = 0; i < 6; i++) {
        *dst[i] = adup(ps, nf > i + 2 ? f[i + 2] : "");
        if (!*dst[i]) {
            return om__enomem(ps->err, ps->src);
        }
    }
    if (nf >= 9) {
        pc->note = adup(ps, f[8]);
        if (!pc->note) {
            return om__enomem(ps->err, ps->src);
        }
    }
    t->nparcels++;
    if (nf > 9) {
        return note(ps, line, "ignored_field", "地块行字段过多,多余字段已忽略",
                    "too many fields in the parcel line: extra ones ignored");
    }
    if (pc->shape[0] && strcmp(pc->shape, "面") != 0) {
        char zh[128], en[160];
        snprintf(zh, sizeof zh, "记录图形属性为“%.40s”,按面读取", pc->shape);
        snprintf(en, sizeof en,
                 "geometry type '%.40s' is not 面: read as a "
                 "polygon",
                 pc->shape);
        return note(ps, line, "shape_type", zh, en);
    }
    return OM_OK;
}

static enum om_status point_line(struct parser *ps, char *s, long line)
{
    struct om_bbtxt *t = ps->t;
    char *f[8];
    size_t nf = split(s, f, 8);
    if (t->nparcels == 0) {
        return perr(ps, OM_EPARSE, line,
                    "point line before any parcel header line (ending in @)");
    }
    if (nf < 4) {
        return perr(ps, OM_EPARSE, line,
                    "expected 点号,圈号,X,Y; got %zu field(s)", nf);
    }
    struct om_bbtxt_parcel *pc = &t->parcels[t->nparcels - 1];
    if (pc->npoints >= OM_BBTXT_MAX_PARCEL_POINTS) {
        return perr(ps, OM_ELIMIT, line, "more than %u points in a parcel",
                    OM_BBTXT_MAX_PARCEL_POINTS);
    }
    long ring;
    if (!parse_long(f[1], &ring) || ring < 1 || ring > INT_MAX) {
        return perr(ps, OM_EPARSE, line, "bad 圈号 (ring number) '%s'", f[1]);
    }
    double x, y;
    if (!parse_double(f[2], &x)) {
        return perr(ps, OM_EPARSE, line, "bad number X '%s'", f[2]);
    }
    if (!parse_double(f[3], &y)) {
        return perr(ps, OM_EPARSE, line, "bad number Y '%s'", f[3]);
    }
    if (!OM__GROW(t->points, ps->p->cap_points, t->npoints + 1)) {
        return om__enomem(ps->err, ps->src);
    }
    struct om_bbtxt_point *pt = &t->points[t->npoints];
    pt->name = adup(ps, f[0]);
    if (!pt->name) {
        return om__enomem(ps->err, ps->src);
    }
    pt->ring = (int)ring;
    pt->north = x;
    pt->east = y;
    pt->parcel = t->nparcels - 1;
    pt->line = line;
    t->npoints++;
    pc->npoints++;
    return OM_OK;
}

static enum om_status parse_lines(struct parser *ps, char *buf, size_t len,
                                  long *nlines, bool *has_coords)
{
    char *s = buf, *end = buf + len;
    long line = 0;
    int sec = SEC_NONE;
    enum om_status st = OM_OK;
    while (s < end && st == OM_OK) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *e = nl ? nl : end;
        line++;
        if ((size_t)(e - s) > OM_LIMIT_LINE_BYTES) {
            return perr(ps, OM_ELIMIT, line, "line longer than %u bytes",
                        OM_LIMIT_LINE_BYTES);
        }
        *e = '\0';
        /* full-width comma -> ',' (in place: the text only shrinks) */
        char *w = s;
        for (char *r = s; *r;) {
            if ((unsigned char)r[0] == 0xEF && (unsigned char)r[1] == 0xBC &&
                (unsigned char)r[2] == 0x8C) {
                *w++ = ',';
                r += 3;
            } else {
                *w++ = *r++;
            }
        }
        *w = '\0';
        char *l = trim(s);
        s = e + 1;
        if (!*l) {
            continue;
        }
        if (l[0] == '[') {
            char *c = strchr(l, ']');
            if (c) {
                *c = '\0';
            }
            char *name = trim(l + 1);
            if (strcmp(name, "属性描述") == 0) {
                sec = SEC_HEADER;
            } else if (strcmp(name, "地块坐标") == 0) {
                sec = SEC_COORDS;
                *has_coords = true;
            } else {
                sec = SEC_OTHER;
                st = note(ps, line, "ignored_line", "未知节,已忽略",
                          "unknown section ignored");
            }
            continue;
        }
        size_t n = strlen(l);
        if (sec == SEC_COORDS) {
            st = l[n - 1] == '@' ? parcel_line(ps, l, line)
                                 : point_line(ps, l, line);
        } else if (sec == SEC_OTHER) {
            continue;
        } else {
            char *eq = strchr(l, '=');
            if (!eq) {
                st = note(ps, line, "ignored_line", "无法识别的行,已忽略",
                          "unrecognised line ignored");
                continue;
            }
            *eq = '\0';
            struct om_bbtxt *t = ps->t;
            if (!OM__GROW(t->keys, ps->p->cap_keys, t->nkeys + 1)) {
                return om__enomem(ps->err, ps->src);
            }
            t->keys[t->nkeys].key = adup(ps, trim(l));
            t->keys[t->nkeys].value = adup(ps, trim(eq + 1));
            if (!t->keys[t->nkeys].key || !t->keys[t->nkeys].value) {
                return om__enomem(ps->err, ps->src);
            }
            t->nkeys++;
        }
    }
    *nlines = line;
    return st;
}

/* ---- geometry ---- */

static bool is_north(double v)
{
    return v >= 2e6 && v <= 6e6;
}
static bool is_east(double v)
{
    return (v >= 2.5e7 && v < 4.6e7) || (v >= 1e5 && v <= 9e5);
}

/* Point in ring (closed or not, n points): 1 inside, -1 outside, 0 on
 * the boundary. */
static int pip(double px, double py, const double *xy, size_t n)
{
    bool in = false;
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        double xi = xy[2 * i], yi = xy[2 * i + 1];
        double xj = xy[2 * j], yj = xy[2 * j + 1];
        double cross = (xj - xi) * (py - yi) - (yj - yi) * (px - xi);
        if (cross == 0 && px >= fmin(xi, xj) && px <= fmax(xi, xj) &&
            py >= fmin(yi, yj) && py <= fmax(yi, yj)) {
            return 0;
        }
        if ((yi > py) != (yj > py)) {
            double x = xi + (py - yi) * (xj - xi) / (yj - yi);
            if (px < x) {
                in = !in;
            }
        }
    }
    return in ? 1 : -1;
}

static double ring_area(const double *xy, size_t n)
{
    double a = 0, x0 = xy[0], y0 = xy[1];
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        a += (xy[2 * i] - x0) * (xy[2 * j + 1] - y0) -
             (xy[2 * j] - x0) * (xy[2 * i + 1] - y0);
    }
    return a / 2;
}

struct ring {
    size_t start, n; /* in the scratch xy array (points) */
    long line;
    int depth;
    size_t parent;
};

/* Is ring a inside ring b? Decided by the first vertex of a that is not on
 * b's boundary. */
static bool ring_inside(const double *xy, const struct ring *a,
                        const struct ring *b)
{
    for (size_t i = 0; i < a->n; i++) {
        int r = pip(xy[2 * (a->start + i)], xy[2 * (a->start + i) + 1],
                    xy + 2 * b->start, b->n);
        if (r != 0) {
            return r > 0;
        }
    }
    return false;
}

enum { F_DKBH, F_DKMC, F_DKYT, F_DLBM, F_TFH, F_DKMJ, F_NOTE, F_N };

static enum om_status build_parcel(struct parser *ps, size_t k, double **xyp,
                                   size_t *xycap, struct ring **rp,
                                   size_t *rcap, const int *fld)
{
    struct om_bbtxt *t = ps->t;
    struct om_bbtxt_parcel *pc = &t->parcels[k];
    struct om_error *err = ps->err;
    if (pc->npoints == 0) {
        return perr(ps, OM_EPARSE, pc->line, "parcel %s has no points",
                    pc->code);
    }
    if (!OM__GROW(*xyp, *xycap, 2 * pc->npoints)) {
        return om__enomem(err, ps->src);
    }
    double *xy = *xyp;
    size_t nrings = 0, np = 0, nclosing = 0;
    bool unclosed = false;
    const struct om_bbtxt_point *pts = t->points + pc->first_point;
    for (size_t i = 0; i < pc->npoints;) {
        size_t j = i;
        while (j < pc->npoints && pts[j].ring == pts[i].ring) {
            j++;
        }
        if (nrings >= OM_BBTXT_MAX_PARCEL_RINGS) {
            return perr(ps, OM_ELIMIT, pts[i].line,
                        "more than %u rings in a parcel",
                        OM_BBTXT_MAX_PARCEL_RINGS);
        }
        if (!OM__GROW(*rp, *rcap, nrings + 1)) {
            return om__enomem(err, ps->src);
        }
        struct ring *r = &(*rp)[nrings];
        r->start = np;
        r->line = pts[i].line;
        for (size_t m = i; m < j; m++) {
            double x = pts[m].east, y = pts[m].north;
            if (np > r->start && xy[2 * np - 2] == x && xy[2 * np - 1] == y) {
                continue; /* repeated point */
            }
            xy[2 * np] = x;
            xy[2 * np + 1] = y;
            np++;
        }
        r->n = np - r->start;
        double *rx = xy + 2 * r->start;
        if (r->n > 1 && rx[0] == rx[2 * r->n - 2] &&
            rx[1] == rx[2 * r->n - 1]) {
            r->n--;
            np--;
            nclosing++;
        } else {
            unclosed = true;
        }
        /* at least 3 distinct points */
        size_t a = 1;
        while (a < r->n && rx[2 * a] == rx[0] && rx[2 * a + 1] == rx[1]) {
            a++;
        }
        size_t b = a + 1;
        while (b < r->n &&
               ((rx[2 * b] == rx[0] && rx[2 * b + 1] == rx[1]) ||
                (rx[2 * b] == rx[2 * a] && rx[2 * b + 1] == rx[2 * a + 1]))) {
            b++;
        }
        if (b >= r->n) {
            return perr(ps, OM_EPARSE, r->line,
                        "parcel %s: ring %d has fewer than 3 distinct points",
                        pc->code, pts[i].ring);
        }
        nrings++;
        i = j;
    }
    struct ring *rings = *rp;
    for (size_t i = 0; i < nrings; i++) {
        rings[i].depth = 0;
        for (size_t j = 0; j < nrings; j++) {
            if (j != i && ring_inside(xy, &rings[i], &rings[j])) {
                rings[i].depth++;
            }
        }
    }
    for (size_t i = 0; i < nrings; i++) {
        rings[i].parent = (size_t)-1;
        if (rings[i].depth % 2 == 1) {
            for (size_t j = 0; j < nrings; j++) {
                if (j != i && rings[j].depth == rings[i].depth - 1 &&
                    ring_inside(xy, &rings[i], &rings[j])) {
                    rings[i].parent = j;
                    break;
                }
            }
        }
    }
    struct om_layer *l = t->layer;
    enum om_status st = om_layer_begin_feature(l, (int64_t)k + 1, err);
    double area = 0;
    for (size_t i = 0; i < nrings && st == OM_OK; i++) {
        if (rings[i].depth % 2 == 1 && rings[i].parent != (size_t)-1) {
            continue;
        }
        st = om_layer_begin_part(l, err);
        if (st == OM_OK) {
            st = om_layer_add_ring(l, xy + 2 * rings[i].start, rings[i].n, err);
            area += fabs(ring_area(xy + 2 * rings[i].start, rings[i].n));
        }
        for (size_t h = 0; h < nrings && st == OM_OK; h++) {
            if (rings[h].parent == i) {
                st = om_layer_add_ring(l, xy + 2 * rings[h].start, rings[h].n,
                                       err);
                area -= fabs(ring_area(xy + 2 * rings[h].start, rings[h].n));
            }
        }
    }
    pc->planar_m2 = area;
    const char *txt[] = {pc->code, pc->name, pc->use, pc->dlbm, pc->sheet};
    for (int i = 0; i < 5 && st == OM_OK; i++) {
        st = om_layer_set_text(l, fld[i], txt[i], err);
    }
    if (st == OM_OK && !isnan(pc->area_ha)) {
        st = om_layer_set_real(l, fld[F_DKMJ], pc->area_ha, err);
    }
    if (st == OM_OK && pc->note) {
        st = om_layer_set_text(l, fld[F_NOTE], pc->note, err);
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    if (st != OM_OK) {
        return st;
    }
    char zh[256], en[256];
    if (unclosed) {
        snprintf(zh, sizeof zh, "地块 %.60s 的圈未以起点闭合,已自动闭合",
                 pc->code);
        snprintf(en, sizeof en,
                 "parcel %.60s: a ring does not repeat its "
                 "first point; closed",
                 pc->code);
        st = note(ps, pc->line, "unclosed_ring", zh, en);
    }
    long nlines = (long)pc->npoints;
    if (st == OM_OK && pc->npoints_declared >= 0 &&
        pc->npoints_declared != nlines &&
        pc->npoints_declared != nlines - (long)nclosing) {
        snprintf(zh, sizeof zh, "地块 %.60s 界址点数=%ld,实有 %ld 行", pc->code,
                 pc->npoints_declared, nlines);
        snprintf(en, sizeof en,
                 "parcel %.60s: 界址点数=%ld but %ld point "
                 "lines",
                 pc->code, pc->npoints_declared, nlines);
        st = note(ps, pc->line, "point_count", zh, en);
    }
    return st;
}

static enum om_status check_zone(struct parser *ps, long nlines)
{
    struct om_bbtxt *t = ps->t;
    (void)nlines;
    bool normal = true, swapped = true;
    for (size_t i = 0; i < t->npoints; i++) {
        const struct om_bbtxt_point *p = &t->points[i];
        normal = normal && is_north(p->north) && is_east(p->east);
        swapped = swapped && is_east(p->north) && is_north(p->east);
    }
    enum om_status st = OM_OK;
    if (!normal && swapped) {
        for (size_t i = 0; i < t->npoints; i++) {
            double v = t->points[i].north;
            t->points[i].north = t->points[i].east;
            t->points[i].east = v;
        }
        t->swapped = true;
        st = note(ps, 0, "swapped_xy",
                  "X 与 Y 互换了(X 应为纵坐标北方向,Y 为横坐标东方向),已纠正",
                  "X and Y are swapped (X must be the northing, Y the "
                  "easting): corrected");
    } else if (!normal) {
        st = note(ps, 0, "coord_range",
                  "坐标不在中国高斯投影坐标范围内,请核对坐标系",
                  "coordinates are outside the ranges of Chinese "
                  "Gauss-Kruger coordinates: check the coordinate system");
    }
    if (st != OM_OK) {
        return st;
    }
    int z0 = om_gk3_zone_from_easting(t->points[0].east);
    bool prefix = z0 != 0, mixed = false;
    for (size_t i = 1; i < t->npoints && prefix; i++) {
        int z = om_gk3_zone_from_easting(t->points[i].east);
        prefix = z != 0;
        mixed = mixed || (z != 0 && z != z0);
    }
    t->has_prefix = prefix;
    const char *hz = om_bbtxt_header(t, "带号");
    const char *width = om_bbtxt_header(t, "几度分带");
    long zh_zone = 0;
    if (hz && !parse_long(hz, &zh_zone)) {
        zh_zone = 0;
    }
    char zh[256], en[256];
    if (width && (strcmp(width, "6") == 0 || strstr(width, "6度"))) {
        t->zone = 0;
        return note(ps, 0, "zone_missing", "6 度分带不受支持,图层无坐标系",
                    "6-degree zones are not supported: the layer has no CRS");
    }
    if (prefix) {
        t->zone = z0;
        if (mixed) {
            st = note(ps, 0, "mixed_zones",
                      "横坐标带号前缀不一致,采用第一个点的",
                      "eastings carry different zone prefixes: using the "
                      "first point's");
        }
        if (st == OM_OK && hz && zh_zone != z0) {
            snprintf(zh, sizeof zh, "带号=%.20s 但横坐标以 %d 开头:采用 %d 带",
                     hz ? hz : "", z0, z0);
            snprintf(en, sizeof en,
                     "带号=%.20s but eastings start with %d: using zone %d",
                     hz ? hz : "", z0, z0);
            st = note(ps, 0, "zone_mismatch", zh, en);
        }
    } else if (zh_zone >= OM_GK3_ZONE_MIN && zh_zone <= OM_GK3_ZONE_MAX) {
        t->zone = (int)zh_zone;
    } else if (ps->opt && ps->opt->zone >= OM_GK3_ZONE_MIN &&
               ps->opt->zone <= OM_GK3_ZONE_MAX) {
        t->zone = ps->opt->zone;
    } else {
        t->zone = 0;
        st =
            note(ps, 0, "zone_missing", "无带号且横坐标无带号前缀,图层无坐标系",
                 "no usable 带号 and no zone prefix in the eastings: the "
                 "layer has no CRS");
    }
    const char *cs = om_bbtxt_header(t, "坐标系");
    if (st == OM_OK && cs && cs[0] && !strstr(cs, "2000") &&
        !strstr(cs, "CGCS")) {
        snprintf(zh, sizeof zh, "坐标系=%.80s 不是 CGCS2000,仍按 CGCS2000 标注",
                 cs);
        snprintf(en, sizeof en,
                 "坐标系=%.80s is not CGCS2000: the "
                 "coordinates are labelled CGCS2000 anyway",
                 cs);
        st = note(ps, 0, "datum", zh, en);
    }
    return st;
}

static enum om_status checks(struct parser *ps)
{
    struct om_bbtxt *t = ps->t;
    struct om_layer_view v;
    om_layer_view(t->layer, &v);
    struct om_polyops *po = NULL;
    enum om_status st = om_polyops_new(&po, ps->err);
    for (size_t k = 0; k < t->nparcels && st == OM_OK; k++) {
        struct om_validity val;
        st = om_polyops_check(po, &v, k, &val, ps->err);
        if (st == OM_OK && !val.is_valid) {
            st = perr(ps, OM_EGEOM, t->parcels[k].line,
                      "parcel %s: invalid boundary: %s at (%.4f, %.4f)",
                      t->parcels[k].code, val.reason, val.x, val.y);
        }
    }
    om_polyops_free(po);
    if (st != OM_OK || t->zone == 0) {
        return st;
    }
    struct om_crs *crs = NULL;
    struct om_area_ctx *ac = NULL;
    char spec[32];
    snprintf(spec, sizeof spec, "EPSG:%d", om_gk3_epsg(t->zone, t->has_prefix));
    st = om_crs_new(spec, &crs, ps->err);
    if (st == OM_OK) {
        st = om_area_ctx_new(crs, &ac, ps->err);
    }
    double rel =
        ps->opt && ps->opt->area_rel_tol > 0 ? ps->opt->area_rel_tol : 0.001;
    double abs_m2 =
        (ps->opt && ps->opt->area_abs_ha > 0 ? ps->opt->area_abs_ha : 0.01) *
        1e4;
    for (size_t k = 0; k < t->nparcels && st == OM_OK; k++) {
        struct om_bbtxt_parcel *pc = &t->parcels[k];
        st = om_area_feature(ac, &v, k, NULL, &pc->ellipsoidal_m2, ps->err);
        if (st != OM_OK || isnan(pc->area_ha)) {
            continue;
        }
        double d = pc->area_ha * 1e4;
        double tol_p = fmax(rel * pc->planar_m2, abs_m2);
        double tol_e = fmax(rel * pc->ellipsoidal_m2, abs_m2);
        if (fabs(d - pc->planar_m2) > tol_p &&
            fabs(d - pc->ellipsoidal_m2) > tol_e) {
            char zh[256], en[256];
            snprintf(zh, sizeof zh,
                     "地块 %.60s 申报面积 %.4f 公顷,计算面积 %.4f 公顷(平面)/ "
                     "%.4f 公顷(椭球)",
                     pc->code, pc->area_ha, pc->planar_m2 / 1e4,
                     pc->ellipsoidal_m2 / 1e4);
            snprintf(en, sizeof en,
                     "parcel %.60s: declared area %.4f ha, computed %.4f ha "
                     "(planar) / %.4f ha (ellipsoidal)",
                     pc->code, pc->area_ha, pc->planar_m2 / 1e4,
                     pc->ellipsoidal_m2 / 1e4);
            st = note(ps, pc->line, "area_mismatch", zh, en);
        }
    }
    om_area_ctx_free(ac);
    om_crs_free(crs);
    return st;
}

static enum om_status build(struct parser *ps)
{
    struct om_bbtxt *t = ps->t;
    static const char *const names[F_N] = {"DKBH", "DKMC",    "DKYT", "DLBM",
                                           "TFH",  "DKMJ_HA", "NOTE"};
    int fld[F_N];
    /* layer name: the file name without directory and extension */
    char lname[OM_LIMIT_NAME_BYTES + 1];
    const char *base = strrchr(ps->src, '/');
    om__strlcpy(lname, base ? base + 1 : ps->src, sizeof lname);
    char *dot = strrchr(lname, '.');
    if (dot && dot != lname) {
        *dot = '\0';
    }
    enum om_status st = om_layer_new(lname, &t->layer, ps->err);
    for (int i = 0; i < F_N && st == OM_OK; i++) {
        st = om_layer_add_field(t->layer, names[i],
                                i == F_DKMJ ? OM_FIELD_REAL : OM_FIELD_TEXT,
                                &fld[i], ps->err);
    }
    if (st != OM_OK) {
        return st;
    }
    if (ps->opt && ps->opt->has_extent) {
        struct om_rect e = ps->opt->extent;
        for (size_t i = 0; i < t->npoints; i++) {
            const struct om_bbtxt_point *p = &t->points[i];
            if (!(p->east >= e.minx && p->east <= e.maxx &&
                  p->north >= e.miny && p->north <= e.maxy)) {
                return perr(ps, OM_EGEOM, p->line,
                            "point %s (X=%.4f, Y=%.4f) is outside the "
                            "project extent",
                            p->name, p->north, p->east);
            }
        }
    }
    double *xy = NULL;
    size_t xycap = 0, rcap = 0;
    struct ring *rings = NULL;
    for (size_t k = 0; k < t->nparcels && st == OM_OK; k++) {
        st = build_parcel(ps, k, &xy, &xycap, &rings, &rcap, fld);
    }
    om__free(xy);
    om__free(rings);
    if (st != OM_OK) {
        return st;
    }
    if (!(ps->opt && ps->opt->no_checks)) {
        st = checks(ps);
    }
    if (st == OM_OK && t->zone) {
        char spec[32];
        snprintf(spec, sizeof spec, "EPSG:%d",
                 om_gk3_epsg(t->zone, t->has_prefix));
        st = om_layer_set_crs(t->layer, spec, ps->err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(t->layer, OM_LAYER_KEEP_ORDER, ps->err);
    }
    return st;
}

enum om_status om_bbtxt_parse(const char *data, size_t len, const char *source,
                              const struct om_bbtxt_options *opt,
                              struct om_bbtxt **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, source, 0, -1, "NULL output");
    }
    *out = NULL;
    if (!data && len) {
        return om__error(err, OM_EINVAL, source, 0, -1, "NULL data");
    }
    if (!source) {
        source = "bbtxt";
    }
    if (len > OM_BBTXT_MAX_FILE_BYTES) {
        return om__error(err, OM_ELIMIT, source, 0, -1,
                         "file larger than %zu bytes", OM_BBTXT_MAX_FILE_BYTES);
    }
    struct om_bbtxt *t = om__calloc(1, sizeof *t);
    struct om_bbtxt_priv *p = om__calloc(1, sizeof *p);
    if (!t || !p) {
        om__free(t);
        om__free(p);
        return om__enomem(err, source);
    }
    om__arena_init(&p->arena);
    t->priv_ = p;
    struct parser ps = {t, p, source, opt, err};
    char *buf = NULL;
    size_t blen = 0;
    long nlines = 0;
    bool has_coords = false;
    enum om_status st = decode(&ps, data ? data : "", len, &buf, &blen);
    if (st == OM_OK) {
        st = parse_lines(&ps, buf, blen, &nlines, &has_coords);
    }
    om__free(buf);
    if (st == OM_OK && !has_coords) {
        st = perr(&ps, OM_EPARSE, nlines, "missing [地块坐标] section");
    } else if (st == OM_OK && t->nparcels == 0) {
        st = perr(&ps, OM_EPARSE, nlines, "no parcel in [地块坐标]");
    }
    for (size_t k = 0; st == OM_OK && k < t->nparcels; k++) {
        if (t->parcels[k].npoints == 0) {
            st = perr(&ps, OM_EPARSE, t->parcels[k].line,
                      "parcel %s has no points", t->parcels[k].code);
        }
    }
    if (st == OM_OK) {
        st = check_zone(&ps, nlines);
    }
    if (st == OM_OK) {
        st = build(&ps);
    }
    if (st != OM_OK) {
        om_bbtxt_free(t);
        return st;
    }
    *out = t;
    return OM_OK;
}

enum om_status om_bbtxt_read(const char *path,
                             const struct om_bbtxt_options *opt,
                             struct om_bbtxt **out, struct om_error *err)
{
    if (out) {
        *out = NULL;
    }
    if (!path || !out) {
        return om__error(err, OM_EINVAL, path, 0, -1, "NULL argument");
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        return om__error(err, OM_EIO, path, 0, -1, "cannot open: %s",
                         strerror(errno));
    }
    struct om__buf b;
    om__buf_init(&b, OM_BBTXT_MAX_FILE_BYTES + 1);
    char chunk[65536];
    size_t n;
    enum om_status st = OM_OK;
    while (st == OM_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        st = om__buf_append(&b, chunk, n);
    }
    bool bad = ferror(f);
    fclose(f);
    if (st == OM_ELIMIT) {
        om__buf_deinit(&b);
        return om__error(err, OM_ELIMIT, path, 0, -1,
                         "file larger than %zu bytes", OM_BBTXT_MAX_FILE_BYTES);
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return om__enomem(err, path);
    }
    if (bad) {
        om__buf_deinit(&b);
        return om__error(err, OM_EIO, path, 0, -1, "read error");
    }
    st = om_bbtxt_parse(b.data, b.len, path, opt, out, err);
    om__buf_deinit(&b);
    return st;
}

void om_bbtxt_free(struct om_bbtxt *t)
{
    if (!t) {
        return;
    }
    om_layer_free(t->layer);
    om__free(t->keys);
    om__free(t->parcels);
    om__free(t->points);
    om__free(t->notes);
    if (t->priv_) {
        om__arena_deinit(&t->priv_->arena);
        om__free(t->priv_);
    }
    om__free(t);
}

const char *om_bbtxt_header(const struct om_bbtxt *t, const char *key)
{
    for (size_t i = 0; t && key && i < t->nkeys; i++) {
        if (strcmp(t->keys[i].key, key) == 0) {
            return t->keys[i].value;
        }
    }
    return NULL;
}

/* ---- writer ---- */

/* Text for a field: commas -> '，', line breaks -> ' '. */
static enum om_status put_text(struct om__buf *b, const char *s)
{
    enum om_status st = OM_OK;
    for (; s && *s && st == OM_OK; s++) {
        if (*s == ',') {
            st = om__buf_puts(b, "，");
        } else if (*s == '\n' || *s == '\r') {
            st = om__buf_puts(b, " ");
        } else {
            st = om__buf_append(b, s, 1);
        }
    }
    return st;
}

static const char *field_text(const struct om_layer *l, size_t f,
                              const char *name)
{
    int i = om_layer_field_index(l, name);
    if (i < 0 || om_layer_is_null(l, f, i) ||
        om_layer_field_type(l, i) != OM_FIELD_TEXT) {
        return NULL;
    }
    return om_layer_get_text(l, f, i);
}

static enum om_status write_feature(struct om__buf *b, const struct om_layer *l,
                                    const struct om_layer_view *v, size_t f,
                                    double prefix, int dec)
{
    size_t npl = 0;
    double area = 0;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t n = v->point_start[r + 1] - v->point_start[r];
            npl += n;
            if (n >= 4) {
                double a = fabs(ring_area(v->xy + 2 * v->point_start[r], n));
                area += r == v->ring_start[p] ? a : -a;
            }
        }
    }
    int ia = om_layer_field_index(l, "DKMJ_HA");
    if (ia >= 0 && !om_layer_is_null(l, f, ia) &&
        om_layer_field_type(l, ia) == OM_FIELD_REAL) {
        area = om_layer_get_real(l, f, ia) * 1e4;
    }
    enum om_status st = om__buf_printf(b, "%zu,%.4f,", npl, area / 1e4);
    const char *code = field_text(l, f, "DKBH");
    if (st == OM_OK && code) {
        st = put_text(b, code);
    } else if (st == OM_OK) {
        st = om__buf_printf(b, "%lld", (long long)v->fid[f]);
    }
    const char *rest[] = {"DKMC", NULL, "TFH", "DKYT", "DLBM"};
    for (int i = 0; i < 5 && st == OM_OK; i++) {
        st = om__buf_puts(b, ",");
        if (st == OM_OK) {
            st = rest[i] ? put_text(b, field_text(l, f, rest[i]))
                         : om__buf_puts(b, "面");
        }
    }
    const char *nt = field_text(l, f, "NOTE");
    if (st == OM_OK && nt && nt[0]) {
        st = om__buf_puts(b, ",");
        if (st == OM_OK) {
            st = put_text(b, nt);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, ",@\r\n");
    }
    size_t jn = 0;
    int ringno = 0;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t s0 = v->point_start[r], n = v->point_start[r + 1] - s0;
            size_t first = jn + 1;
            ringno++;
            for (size_t i = 0; i < n && st == OM_OK; i++) {
                size_t num = i + 1 == n && n > 1 ? first : ++jn;
                st = om__buf_printf(b, "J%zu,%d,%.*f,%.*f\r\n", num, ringno,
                                    dec, v->xy[2 * (s0 + i) + 1], dec,
                                    v->xy[2 * (s0 + i)] + prefix);
            }
        }
    }
    return st;
}

enum om_status om_bbtxt_write(const struct om_layer *layer, const char *path,
                              const struct om_bbtxt_write_options *opt,
                              struct om_error *err)
{
    if (!layer || !path) {
        return om__error(err, OM_EINVAL, path, 0, -1, "NULL argument");
    }
    struct om_bbtxt_write_options o = {0};
    if (opt) {
        o = *opt;
    }
    int dec = o.decimals > 0 && o.decimals <= 9 ? o.decimals : 4;
    struct om_layer_view v;
    om_layer_view(layer, &v);
    int zone = 0;
    bool has_prefix = false;
    const char *cs = om_layer_crs(layer);
    if (cs) {
        struct om_crs *crs = NULL;
        enum om_status st = om_crs_new(cs, &crs, err);
        if (st != OM_OK) {
            return st;
        }
        zone = om_gk3_zone_of_epsg(om_crs_epsg(crs), &has_prefix);
        om_crs_free(crs);
        if (zone == 0) {
            return om__error(err, OM_ECRS, om_layer_name(layer), 0, -1,
                             "CRS %.60s is not a CGCS2000 3-degree "
                             "Gauss-Kruger zone: reproject it first "
                             "(onemap convert ... --zone N)",
                             cs);
        }
    } else if (o.zone >= OM_GK3_ZONE_MIN && o.zone <= OM_GK3_ZONE_MAX) {
        zone = o.zone;
        has_prefix = v.npoints > 0 && om_gk3_zone_from_easting(v.xy[0]) != 0;
    } else {
        return om__error(err, OM_ECRS, om_layer_name(layer), 0, -1,
                         "the layer has no CRS: give the zone");
    }
    double prefix = has_prefix ? 0 : zone * 1e6;
    char date[32];
    if (o.date) {
        om__strlcpy(date, o.date, sizeof date);
    } else {
        time_t now = time(NULL);
        struct tm tm;
        if (!localtime_r(&now, &tm) ||
            strftime(date, sizeof date, "%Y-%m-%d", &tm) == 0) {
            om__strlcpy(date, "1970-01-01", sizeof date);
        }
    }
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = om__buf_printf(
        &b,
        "[属性描述]\r\n格式版本号=1.0\r\n数据产生单位=%s\r\n"
        "数据产生日期=%s\r\n坐标系=2000国家大地坐标系\r\n几度分带=3\r\n"
        "投影类型=高斯克吕格\r\n计量单位=米\r\n带号=%d\r\n精度=%g\r\n"
        "转换参数=,,,,,,\r\n[地块坐标]\r\n",
        o.producer ? o.producer : "onemap", date, zone, pow(10, -dec));
    bool fin = om_layer_is_finished(layer);
    for (size_t k = 0; k < v.nfeatures && st == OM_OK; k++) {
        size_t f = fin ? om_layer_feature_by_fid_rank(layer, k) : k;
        if (f == (size_t)-1 || v.part_start[f] == v.part_start[f + 1]) {
            continue;
        }
        st = write_feature(&b, layer, &v, f, prefix, dec);
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return st == OM_ENOMEM
                   ? om__enomem(err, path)
                   : om__error(err, st, path, 0, -1, "output too large");
    }
    char *outp = b.data;
    size_t outlen = b.len;
    char *gbk = NULL;
    if (!o.utf8) {
        iconv_t cd = iconv_open("GBK", "UTF-8");
        if (cd == (iconv_t)-1) {
            om__buf_deinit(&b);
            return om__error(err, OM_EIO, path, 0, -1,
                             "cannot convert to GBK: iconv: %s",
                             strerror(errno));
        }
        size_t cap = b.len + 16;
        gbk = om__malloc(cap);
        if (!gbk) {
            iconv_close(cd);
            om__buf_deinit(&b);
            return om__enomem(err, path);
        }
        char *in = b.data, *o2 = gbk;
        size_t inleft = b.len, oleft = cap;
        size_t r = iconv(cd, &in, &inleft, &o2, &oleft);
        iconv_close(cd);
        if (r == (size_t)-1) {
            long line = line_at(b.data, (size_t)(in - b.data));
            om__free(gbk);
            om__buf_deinit(&b);
            return om__error(err, OM_EINVAL, path, line, -1,
                             "text cannot be written in GBK: write UTF-8");
        }
        outp = gbk;
        outlen = (size_t)(o2 - gbk);
    }
    FILE *fp = fopen(path, "wb");
    bool ok = fp && fwrite(outp, 1, outlen, fp) == outlen;
    int e = errno;
    if (fp && fclose(fp) != 0) {
        ok = false;
        e = errno;
    }
    om__free(gbk);
    om__buf_deinit(&b);
    if (!ok) {
        if (fp) {
            remove(path);
        }
        return om__error(err, OM_EIO, path, 0, -1, "cannot write: %s",
                         strerror(e));
    }
    return OM_OK;
}
