/*
 * synth.c — the deterministic sample-data generator: a realistic, entirely
 * synthetic county in central Jilin (示范市, code 220189, which no real
 * county uses) in CGCS2000 3-degree Gauss-Krüger zone 42 (EPSG:4530), for
 * the demo, the tests and the benchmarks.
 *
 *   synth [--seed N] [--cells N] -o DIR
 *
 * Writes DIR/landuse/DLTB.shp (GBK DBF without .cpg), DIR/admin/XZQ.geojson
 * (EPSG:4490), DIR/plan.gdb (YJJBNTBHTB, STBHHX, CZKFBJ), the same plan
 * layers with exact coordinates in DIR/plan.gpkg, and DIR/README.txt.
 * docs/SAMPLE-DATA.md explains what and why.
 *
 * How it works: a grid of cells x cells square cells (200 m) whose nodes
 * are jittered; every grid edge is a wiggly polyline whose vertices come
 * from a hash of the edge id, so the two cells on either side of an edge
 * produce the same vertices in opposite order. Every cell gets a township,
 * a village and a land-use class from smooth value-noise fields; parcels
 * are groups of 1-4 cells of the same class and village. Every polygon that
 * follows parcel edges (parcels, townships, basic farmland) is traced on
 * the grid graph, never computed with GEOS: the result is a clean coverage
 * by construction. Red lines and development boundaries are independent
 * star-shaped polygons.
 *
 * Validity argument: nodes move by at most 0.15 cell, so adjacent grid
 * edges meet at 43° or more; an edge's wiggle is A·sin(πt)·u with
 * A <= 0.03 cell, so each edge stays in a lens inside a cone of half-angle
 * < 8° at either end; lenses of different edges therefore meet only at
 * shared nodes. Island parcels have radius 0.13 cell around the cell
 * centre, which keeps them 0.04 cell away from every edge lens.
 *
 * This is a tool: it prints and exits; it uses only the public API.
 */
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/status.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CELL_M 200.0     /* cell size in metres */
#define X0 42470000.0    /* grid origin: easting with zone prefix 42 */
#define Y0 4900000.0     /* grid origin: northing (about 44.2°N) */
#define NODE_JITTER 0.15 /* node jitter, in cells */
#define WIGGLE 0.03      /* max edge wiggle amplitude, in cells */
#define ISLAND_R 0.13    /* island radius, in cells */
#define COUNTY_CODE "220189"
#define COUNTY_NAME "示范市"
#define SURVEY_YEAR 2023
#define DEFAULT_CELLS 240
#define DEFAULT_SEED 42

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- failure ---- */

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("synth: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void check(enum om_status st, const struct om_error *err,
                  const char *what)
{
    if (st != OM_OK) {
        char buf[1024];
        die("%s: %s", what, om_error_format(err, buf, sizeof buf));
    }
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        die("out of memory (%zu bytes)", n);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        die("out of memory (%zu x %zu bytes)", n, size);
    }
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        die("out of memory (%zu bytes)", n);
    }
    return q;
}

/* ---- hashing and noise: everything derives from (seed, salt, ids) ---- */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t g_seed;

static uint64_t hash3(uint64_t salt, uint64_t a, uint64_t b)
{
    return mix64(mix64(mix64(g_seed ^ (salt * 0x632be59bd9b4e019ull)) ^ a) ^ b);
}

/* Uniform in [0, 1). */
static double u01(uint64_t salt, uint64_t a, uint64_t b)
{
    return (double)(hash3(salt, a, b) >> 11) * 0x1.0p-53;
}

static double smooth(double t)
{
    return t * t * (3.0 - 2.0 * t);
}

/* Value noise in [0, 1) on an integer lattice, bilinear with smoothstep. */
static double vnoise(uint64_t salt, double x, double y)
{
    double fx = floor(x), fy = floor(y);
    int64_t ix = (int64_t)fx, iy = (int64_t)fy;
    double tx = smooth(x - fx), ty = smooth(y - fy);
    double v00 = u01(salt, (uint64_t)ix, (uint64_t)iy);
    double v10 = u01(salt, (uint64_t)(ix + 1), (uint64_t)iy);
    double v01 = u01(salt, (uint64_t)ix, (uint64_t)(iy + 1));
    double v11 = u01(salt, (uint64_t)(ix + 1), (uint64_t)(iy + 1));
    double a = v00 + (v10 - v00) * tx;
    double b = v01 + (v11 - v01) * tx;
    return a + (b - a) * ty;
}

/* Fractal noise: 4 octaves, roughly in [0.15, 0.85], mean 0.5. */
static double fbm(uint64_t salt, double x, double y, double scale)
{
    double s = 0, amp = 0.5, norm = 0;
    x /= scale;
    y /= scale;
    for (int o = 0; o < 4; o++) {
        s += amp * vnoise(salt + (uint64_t)o * 7919u, x, y);
        norm += amp;
        amp *= 0.5;
        x *= 2.03;
        y *= 2.03;
    }
    return s / norm;
}

enum salt {
    S_NODE = 1,
    S_EDGE,
    S_MASK,
    S_TOWNSEED,
    S_WARP,
    S_VILSEED,
    S_ELEV,
    S_ELEV2,
    S_MIX,
    S_PADDY,
    S_CELL,
    S_RIVER,
    S_CORE,
    S_GROUP,
    S_ISLAND,
    S_BASIC,
    S_NAME,
    S_STAR,
    S_MINE,
    S_RES,
    S_SLOPE,
    S_ROAD
};

/* ---- dynamic arrays ---- */

struct pts {
    double *xy;
    size_t n, cap; /* in points */
};

static void pts_push(struct pts *p, double x, double y)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 256;
        p->xy = xrealloc(p->xy, p->cap * 2 * sizeof(double));
    }
    p->xy[2 * p->n] = x;
    p->xy[2 * p->n + 1] = y;
    p->n++;
}

static double round_mm(double v)
{
    return round(v * 1000.0) / 1000.0;
}

/* Signed shoelace area relative to the first point (positive = CCW). */
static double ring_area(const double *xy, size_t n)
{
    double s = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        double ax = xy[2 * i] - xy[0], ay = xy[2 * i + 1] - xy[1];
        double bx = xy[2 * i + 2] - xy[0], by = xy[2 * i + 3] - xy[1];
        s += ax * by - ay * bx;
    }
    return s / 2;
}

static void reverse_ring(double *xy, size_t n)
{
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        double tx = xy[2 * i], ty = xy[2 * i + 1];
        xy[2 * i] = xy[2 * j];
        xy[2 * i + 1] = xy[2 * j + 1];
        xy[2 * j] = tx;
        xy[2 * j + 1] = ty;
    }
}

/* ---- the grid ---- */

struct grid {
    int w, h; /* cells per side */
    size_t ncells;
};

static struct grid G;

static size_t cell_id(int i, int j)
{
    return (size_t)j * (size_t)G.w + (size_t)i;
}

static void node_xy(int i, int j, double *x, double *y)
{
    uint64_t id = (uint64_t)j * (uint64_t)(G.w + 1) + (uint64_t)i;
    double jx = NODE_JITTER * (2 * u01(S_NODE, id, 1) - 1);
    double jy = NODE_JITTER * (2 * u01(S_NODE, id, 2) - 1);
    *x = round_mm(X0 + CELL_M * (i + jx));
    *y = round_mm(Y0 + CELL_M * (j + jy));
}

/*
 * Append node (ia,ja) and the inner vertices of the edge to the adjacent
 * node (ib,jb), in the direction a -> b. The vertices are generated in the
 * edge's canonical direction (from its lower node id) and reversed when
 * walking the other way, so both neighbours get identical coordinates.
 */
static void emit_edge(struct pts *out, int ia, int ja, int ib, int jb)
{
    bool fwd = ja < jb || (ja == jb && ia < ib);
    int li = fwd ? ia : ib, lj = fwd ? ja : jb;
    int hi = fwd ? ib : ia, hj = fwd ? jb : ja;
    uint64_t lo = (uint64_t)lj * (uint64_t)(G.w + 1) + (uint64_t)li;
    uint64_t eid = 2 * lo + (lj == hj ? 0u : 1u);
    double ax, ay, bx, by;
    node_xy(li, lj, &ax, &ay);
    node_xy(hi, hj, &bx, &by);
    double u = u01(S_EDGE, eid, 0);
    int k = 2 + (int)floor(10.999 * u * u); /* 2..12, mostly few */
    double amp = CELL_M * WIGGLE * (0.25 + 0.75 * u01(S_EDGE, eid, 1));
    double dx = bx - ax, dy = by - ay;
    double len = sqrt(dx * dx + dy * dy);
    double nx = -dy / len, ny = dx / len;
    double inner[2 * 12];
    for (int m = 0; m < k; m++) {
        double t = (m + 1 + 0.7 * (u01(S_EDGE, eid, 10 + (uint64_t)m) - 0.5)) /
                   (k + 1);
        double off =
            amp * sin(M_PI * t) * (2 * u01(S_EDGE, eid, 40 + (uint64_t)m) - 1);
        inner[2 * m] = round_mm(ax + t * dx + off * nx);
        inner[2 * m + 1] = round_mm(ay + t * dy + off * ny);
    }
    double sx, sy;
    node_xy(ia, ja, &sx, &sy);
    pts_push(out, sx, sy);
    for (int m = 0; m < k; m++) {
        int q = fwd ? m : k - 1 - m;
        pts_push(out, inner[2 * q], inner[2 * q + 1]);
    }
}

/*
 * Ring tracing on the grid graph. A cell's sides in counter-clockwise
 * order: 0 bottom, 1 right, 2 top, 3 left; side s runs from corner s to
 * corner s+1 (corners 0 (i,j), 1 (i+1,j), 2 (i+1,j+1), 3 (i,j+1)), so
 * walking a boundary side keeps its cell on the left: shells come out
 * counter-clockwise and holes clockwise.
 */
static const int corner_di[4] = {0, 1, 1, 0};
static const int corner_dj[4] = {0, 0, 1, 1};
static const int side_di[4] = {0, 1, 0, -1};
static const int side_dj[4] = {-1, 0, 1, 0};

/* Cell across side s of (i,j), or SIZE_MAX outside the grid. */
static size_t across(int i, int j, int s)
{
    int ni = i + side_di[s], nj = j + side_dj[s];
    if (ni < 0 || nj < 0 || ni >= G.w || nj >= G.h) {
        return SIZE_MAX;
    }
    return cell_id(ni, nj);
}

static bool is_boundary(const int32_t *key, size_t c, int s)
{
    int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
    size_t n = across(i, j, s);
    return n == SIZE_MAX || key[n] != key[c];
}

/*
 * Trace the ring through boundary side s of cell c (of group key[c]) into
 * `out` (closed). At a saddle node (two diagonal cells of the group, two
 * other cells outside) the turn decides whether one ring touches itself,
 * which OGC validity forbids: when the diagonal cell is in the same
 * component (comp[] == mark) the walk crosses over to it, keeping the same
 * outside cell on its right, so the shell and the hole the two cells
 * enclose touch at the node; when it is another component the walk turns
 * round the current cell, so the two components touch at the node.
 */
static void trace_ring(const int32_t *key, const uint32_t *comp, uint32_t mark,
                       uint8_t *visited, size_t c, int s, struct pts *out)
{
    size_t c0 = c;
    int s0 = s;
    out->n = 0;
    do {
        visited[c] |= (uint8_t)(1u << s);
        int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
        int e = (s + 1) % 4;
        emit_edge(out, i + corner_di[s], j + corner_dj[s], i + corner_di[e],
                  j + corner_dj[e]);
        if (is_boundary(key, c, e)) {
            int di = i + side_di[s] + side_di[e],
                dj = j + side_dj[s] + side_dj[e];
            size_t d = di < 0 || dj < 0 || di >= G.w || dj >= G.h
                           ? SIZE_MAX
                           : cell_id(di, dj);
            if (d != SIZE_MAX && key[d] == key[c] && comp[d] == mark) {
                c = d;
                s = (s + 3) % 4;
            } else {
                s = e;
            }
            continue;
        }
        size_t c2 = across(i, j, e);
        if (is_boundary(key, c2, s)) {
            c = c2;
            continue;
        }
        int i2 = (int)(c2 % (size_t)G.w), j2 = (int)(c2 / (size_t)G.w);
        c = across(i2, j2, s);
        s = (s + 3) % 4;
    } while (c != c0 || s != s0);
    pts_push(out, out->xy[0], out->xy[1]);
}

/* A traced polygon: one shell (ring 0) and holes; points in `xy`. */
struct poly {
    struct pts xy;
    size_t *ring_end; /* end (exclusive, in points) of each ring */
    size_t nrings, cap;
};

static void poly_add_ring(struct poly *p, const struct pts *r)
{
    for (size_t k = 0; k < r->n; k++) {
        pts_push(&p->xy, r->xy[2 * k], r->xy[2 * k + 1]);
    }
    if (p->nrings == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 8;
        p->ring_end = xrealloc(p->ring_end, p->cap * sizeof(size_t));
    }
    p->ring_end[p->nrings++] = p->xy.n;
}

static void poly_reset(struct poly *p)
{
    p->xy.n = 0;
    p->nrings = 0;
}

static void poly_free(struct poly *p)
{
    free(p->xy.xy);
    free(p->ring_end);
}

/*
 * Trace the component of cell `start` (the first cell of its component in
 * row-major order, so its bottom side is on the outer boundary) into `p`:
 * the shell, then every hole. `cells`/`stack` are scratch arrays of
 * G.ncells; `comp` marks visited cells with `mark`.
 */
struct tracer {
    const int32_t *key;
    uint8_t *visited;
    uint32_t *comp;
    size_t *stack;
    size_t *cells;
    struct pts ring;
};

static size_t trace_component(struct tracer *t, size_t start, uint32_t mark,
                              struct poly *p)
{
    poly_reset(p);
    size_t ncells = 0, nstack = 0;
    t->stack[nstack++] = start;
    t->comp[start] = mark;
    while (nstack) {
        size_t c = t->stack[--nstack];
        t->cells[ncells++] = c;
        int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
        for (int s = 0; s < 4; s++) {
            size_t n = across(i, j, s);
            if (n != SIZE_MAX && t->key[n] == t->key[c] && t->comp[n] != mark) {
                t->comp[n] = mark;
                t->stack[nstack++] = n;
            }
        }
    }
    trace_ring(t->key, t->comp, mark, t->visited, start, 0, &t->ring);
    if (ring_area(t->ring.xy, t->ring.n) <= 0) {
        die("internal: shell of cell %zu is not counter-clockwise", start);
    }
    poly_add_ring(p, &t->ring);
    for (size_t k = 0; k < ncells; k++) {
        size_t c = t->cells[k];
        for (int s = 0; s < 4; s++) {
            if (!(t->visited[c] & (1u << s)) && is_boundary(t->key, c, s)) {
                trace_ring(t->key, t->comp, mark, t->visited, c, s, &t->ring);
                if (ring_area(t->ring.xy, t->ring.n) >= 0) {
                    die("internal: hole at cell %zu is not clockwise", c);
                }
                poly_add_ring(p, &t->ring);
            }
        }
    }
    return ncells;
}

static void tracer_init(struct tracer *t, const int32_t *key)
{
    memset(t, 0, sizeof *t);
    t->key = key;
    t->visited = xcalloc(G.ncells, 1);
    t->comp = xcalloc(G.ncells, sizeof(uint32_t));
    t->stack = xmalloc(G.ncells * sizeof(size_t));
    t->cells = xmalloc(G.ncells * sizeof(size_t));
}

static void tracer_deinit(struct tracer *t)
{
    free(t->visited);
    free(t->comp);
    free(t->stack);
    free(t->cells);
    free(t->ring.xy);
}

/* ---- the county ---- */

enum cls {
    C_0101,
    C_0102,
    C_0103,
    C_0301,
    C_0305,
    C_0307,
    C_0404,
    C_05H1,
    C_0601,
    C_0602,
    C_0701,
    C_0702,
    C_0809,
    C_0810,
    C_08H2,
    C_1003,
    C_1004,
    C_1006,
    C_1101,
    C_1103,
    C_1104,
    C_1202,
    C_1206,
    C_1207,
    NCLS
};
static const char *const cls_code[NCLS] = {
    "0101", "0102", "0103", "0301", "0305", "0307", "0404", "05H1",
    "0601", "0602", "0701", "0702", "0809", "0810", "08H2", "1003",
    "1004", "1006", "1101", "1103", "1104", "1202", "1206", "1207"};

static bool is_cultivated(int c)
{
    return c == C_0101 || c == C_0102 || c == C_0103;
}

enum czcs { Z_NONE, Z_201, Z_202, Z_203, Z_204 };
static const char *const czcs_code[] = {NULL, "201", "202", "203", "204"};

struct town {
    int kind; /* 0 街道, 1 镇, 2 乡 */
    char code[32];
    char name[64];
    size_t seat;   /* seat cell */
    double radius; /* town core radius, cells */
    size_t ncells;
    size_t first; /* first cell, row-major */
};

struct village {
    int town;
    char code[32]; /* 12 digits */
    char name[64];
    size_t seat;
    size_t ncells;
    double sx, sy; /* sums of cell coordinates */
};

struct county {
    uint8_t *mask;
    int32_t *town;                      /* per cell, -1 outside */
    int32_t *village;                   /* per cell, -1 outside */
    uint8_t *cls, *czcs, *grade, *gdlx; /* gdlx: 0 none, 1 PD, 2 TT */
    int32_t *parcel;                    /* per cell, -1 outside */
    struct town *towns;
    int ntowns;
    struct village *vils;
    int nvils;
    size_t ncounty; /* cells in the county */
};

static struct county K;

/* Main river centre line y(x) and its slope, in cells. */
static double river_y(double x, double *slope)
{
    double y0 = G.h * (0.30 + 0.15 * u01(S_RIVER, 0, 0));
    double a1 = G.h * 0.07, p1 = G.w * (0.55 + 0.2 * u01(S_RIVER, 0, 1));
    double a2 = G.h * 0.025, p2 = G.w * (0.17 + 0.05 * u01(S_RIVER, 0, 2));
    double f1 = 6.283 * u01(S_RIVER, 0, 3), f2 = 6.283 * u01(S_RIVER, 0, 4);
    *slope = a1 * 2 * M_PI / p1 * cos(2 * M_PI * x / p1 + f1) +
             a2 * 2 * M_PI / p2 * cos(2 * M_PI * x / p2 + f2);
    return y0 + a1 * sin(2 * M_PI * x / p1 + f1) +
           a2 * sin(2 * M_PI * x / p2 + f2);
}

/* Tributary k: x(y) for y on one side of the main river. */
static double trib_x(int k, double y, double *slope)
{
    double x0 = G.w * (0.12 + 0.76 * u01(S_RIVER, 10 + (uint64_t)k, 0));
    double a = G.w * 0.03,
           p = G.h * (0.3 + 0.2 * u01(S_RIVER, 10 + (uint64_t)k, 1));
    double f = 6.283 * u01(S_RIVER, 10 + (uint64_t)k, 2);
    *slope = a * 2 * M_PI / p * cos(2 * M_PI * y / p + f);
    return x0 + a * sin(2 * M_PI * y / p + f);
}

static int ntribs(void)
{
    int n = G.w / 70;
    return n < 1 ? 1 : n;
}

/*
 * How far (cells, along the axis across the river) the point (x,y) is
 * outside the nearest river strip: < 0 inside. A strip is as wide across
 * the axis as it needs to stay 4-connected where the river runs steeply.
 * *width_needed receives that strip's half-width.
 */
static double river_dist(double x, double y, double *width_needed)
{
    double sl;
    double ry = river_y(x, &sl);
    *width_needed = (1.4 + fabs(sl)) / 2;
    double best = fabs(y - ry) - *width_needed;
    for (int k = 0; k < ntribs(); k++) {
        /* tributaries flow in from the north for even k, south for odd */
        bool north = k % 2 == 0;
        if ((north && y < ry) || (!north && y > ry)) {
            continue;
        }
        double ts;
        double tx = trib_x(k, y, &ts);
        double need = (1.0 + fabs(ts)) / 2;
        double m = fabs(x - tx) - need;
        if (m < best) {
            best = m;
            *width_needed = need;
        }
    }
    return best; /* < 0: inside a river strip */
}

static double elevation(double x, double y)
{
    return 0.85 * (x / G.w) + 0.9 * (fbm(S_ELEV, x, y, 35) - 0.5) +
           0.25 * (fbm(S_ELEV2, x, y, 7) - 0.5);
}

/* 4-connected component cleanup of a per-cell labelling: fragments that
 * are not the largest component of their label join a neighbouring label
 * (of the same `within` label, when given: villages stay in their
 * township). Repeats until nothing changes. */
static void make_connected(int32_t *lab, int nlab, const int32_t *within)
{
    size_t *best = xmalloc((size_t)nlab * sizeof(size_t));
    size_t *bestn = xmalloc((size_t)nlab * sizeof(size_t));
    uint32_t *comp = xcalloc(G.ncells, sizeof(uint32_t));
    size_t *stack = xmalloc(G.ncells * sizeof(size_t));
    size_t *compsize = NULL;
    size_t *compstart = NULL;
    for (int pass = 0; pass < 50; pass++) {
        memset(comp, 0, G.ncells * sizeof(uint32_t));
        size_t ncomp = 0, capc = 0;
        for (size_t c = 0; c < G.ncells; c++) {
            if (lab[c] < 0 || comp[c]) {
                continue;
            }
            if (ncomp == capc) {
                capc = capc ? 2 * capc : 1024;
                compsize = xrealloc(compsize, capc * sizeof(size_t));
                compstart = xrealloc(compstart, capc * sizeof(size_t));
            }
            uint32_t id = (uint32_t)ncomp + 1;
            size_t n = 0, ns = 0;
            stack[ns++] = c;
            comp[c] = id;
            while (ns) {
                size_t x = stack[--ns];
                n++;
                int i = (int)(x % (size_t)G.w), j = (int)(x / (size_t)G.w);
                for (int s = 0; s < 4; s++) {
                    size_t y = across(i, j, s);
                    if (y != SIZE_MAX && lab[y] == lab[x] && !comp[y]) {
                        comp[y] = id;
                        stack[ns++] = y;
                    }
                }
            }
            compsize[ncomp] = n;
            compstart[ncomp] = c;
            ncomp++;
        }
        for (int l = 0; l < nlab; l++) {
            bestn[l] = 0;
            best[l] = 0;
        }
        for (size_t k = 0; k < ncomp; k++) {
            int l = lab[compstart[k]];
            if (compsize[k] > bestn[l]) {
                bestn[l] = compsize[k];
                best[l] = k + 1;
            }
        }
        bool changed = false;
        for (size_t c = 0; c < G.ncells; c++) {
            if (lab[c] < 0 || best[lab[c]] == comp[c]) {
                continue;
            }
            int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
            for (int s = 0; s < 4; s++) {
                size_t y = across(i, j, s);
                if (y != SIZE_MAX && lab[y] >= 0 && lab[y] != lab[c] &&
                    (!within || within[y] == within[c])) {
                    lab[c] = lab[y];
                    changed = true;
                    break;
                }
            }
        }
        if (!changed) {
            break;
        }
    }
    free(best);
    free(bestn);
    free(comp);
    free(stack);
    free(compsize);
    free(compstart);
}

static void build_mask(void)
{
    K.mask = xcalloc(G.ncells, 1);
    double cx = G.w / 2.0, cy = G.h / 2.0, r = 0.47 * G.w;
    for (int j = 0; j < G.h; j++) {
        for (int i = 0; i < G.w; i++) {
            double x = i + 0.5, y = j + 0.5;
            double d = sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / r;
            double n = fbm(S_MASK, x, y, G.w / 5.0) - 0.5;
            K.mask[cell_id(i, j)] = d + 0.7 * n < 0.93;
        }
    }
    /* keep the component of the centre; fill holes */
    int32_t *lab = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        lab[c] = K.mask[c] ? 0 : -1;
    }
    size_t *stack = xmalloc(G.ncells * sizeof(size_t));
    uint8_t *seen = xcalloc(G.ncells, 1);
    size_t ns = 0;
    size_t centre = cell_id(G.w / 2, G.h / 2);
    K.mask[centre] = 1;
    stack[ns++] = centre;
    seen[centre] = 1;
    while (ns) {
        size_t x = stack[--ns];
        int i = (int)(x % (size_t)G.w), j = (int)(x / (size_t)G.w);
        for (int s = 0; s < 4; s++) {
            size_t y = across(i, j, s);
            if (y != SIZE_MAX && K.mask[y] && !seen[y]) {
                seen[y] = 1;
                stack[ns++] = y;
            }
        }
    }
    /* outside = reachable from the grid border through non-county cells */
    uint8_t *out = xcalloc(G.ncells, 1);
    for (size_t c = 0; c < G.ncells; c++) {
        int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
        bool border = i == 0 || j == 0 || i == G.w - 1 || j == G.h - 1;
        if (border && !seen[c]) {
            out[c] = 1;
            stack[ns++] = c;
        }
    }
    while (ns) {
        size_t x = stack[--ns];
        int i = (int)(x % (size_t)G.w), j = (int)(x / (size_t)G.w);
        for (int s = 0; s < 4; s++) {
            size_t y = across(i, j, s);
            if (y != SIZE_MAX && !seen[y] && !out[y]) {
                out[y] = 1;
                stack[ns++] = y;
            }
        }
    }
    K.ncounty = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        K.mask[c] = !out[c];
        K.ncounty += K.mask[c];
    }
    free(lab);
    free(stack);
    free(seen);
    free(out);
}

/* Nearest seed of a jittered lattice (spacing sp) to a domain-warped
 * point; returns the lattice index. */
static uint64_t nearest_seed(uint64_t salt, double x, double y, double sp,
                             int nlx)
{
    double wx = x + sp * 0.45 * (fbm(S_WARP + salt, x, y, sp * 0.8) - 0.5) * 2;
    double wy =
        y + sp * 0.45 * (fbm(S_WARP + salt + 100, x, y, sp * 0.8) - 0.5) * 2;
    int lx = (int)floor(wx / sp), ly = (int)floor(wy / sp);
    double bd = 1e300;
    uint64_t best = 0;
    for (int dy = -2; dy <= 2; dy++) {
        for (int dx = -2; dx <= 2; dx++) {
            int ax = lx + dx, ay = ly + dy;
            if (ax < 0 || ay < 0 || ax >= nlx || ay >= nlx) {
                continue;
            }
            uint64_t id = (uint64_t)ay * (uint64_t)nlx + (uint64_t)ax;
            double sx = (ax + 0.5 + 0.7 * (u01(salt, id, 0) - 0.5)) * sp;
            double sy = (ay + 0.5 + 0.7 * (u01(salt, id, 1) - 0.5)) * sp;
            double d = (wx - sx) * (wx - sx) + (wy - sy) * (wy - sy);
            if (d < bd) {
                bd = d;
                best = id;
            }
        }
    }
    return best;
}

static const char *const name_a[] = {
    "东", "西", "南", "北", "大", "小", "新", "老", "上", "下", "前", "后",
    "高", "平", "太", "长", "永", "兴", "双", "万", "金", "青", "红", "白"};
static const char *const name_b[] = {
    "岭", "河", "山", "沟", "岗", "泉", "屯", "台", "房", "甸", "城", "营",
    "店", "桥", "湖", "林", "安", "丰", "阳", "源", "堡", "岱", "榆", "柳"};
static const char *const surname[] = {
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "高", "林", "罗", "于", "韩", "姜", "崔"};
static const char *const vsuffix[] = {
    "家村",   "家屯村",   "家窝堡村", "家店村",   "家岗村",
    "家沟村", "家油坊村", "家粉房村", "家围子村", "家洼子村"};
#define NA (sizeof name_a / sizeof name_a[0])
#define NB (sizeof name_b / sizeof name_b[0])

static void build_towns(void)
{
    /* one township per ~130 km² (3300 cells), seeds spread out by
     * rejection sampling, cells to the nearest seed of a warped domain */
    int want = (int)lround((double)K.ncounty / 3300.0);
    if (want < 3) {
        want = 3;
    }
    if (want > 190) {
        want = 190; /* codes: 1 街道, <= 99 镇 (101-199), <= 90 乡 (2xx) */
    }
    double *seedx = xmalloc((size_t)want * sizeof(double));
    double *seedy = xmalloc((size_t)want * sizeof(double));
    double dmin = 0.8 * sqrt((double)K.ncounty / want);
    int n = 0;
    for (uint64_t tries = 0; n < want; tries++) {
        if (tries % (uint64_t)(50 * want) == 50u * (uint64_t)want - 1) {
            dmin *= 0.9;
        }
        size_t c = (size_t)(hash3(S_TOWNSEED, tries, 0) % G.ncells);
        if (!K.mask[c]) {
            continue;
        }
        double x = (double)(c % (size_t)G.w) + 0.5,
               y = (double)(c / (size_t)G.w) + 0.5;
        bool ok = true;
        for (int k = 0; k < n && ok; k++) {
            ok = (x - seedx[k]) * (x - seedx[k]) +
                     (y - seedy[k]) * (y - seedy[k]) >=
                 dmin * dmin;
        }
        if (ok) {
            seedx[n] = x;
            seedy[n] = y;
            n++;
        }
    }
    K.town = xmalloc(G.ncells * sizeof(int32_t));
    double sp = sqrt((double)K.ncounty / want);
    for (size_t c = 0; c < G.ncells; c++) {
        if (!K.mask[c]) {
            K.town[c] = -1;
            continue;
        }
        double x = (double)(c % (size_t)G.w) + 0.5,
               y = (double)(c / (size_t)G.w) + 0.5;
        double wx = x + sp * 0.5 * (fbm(S_WARP, x, y, sp * 0.6) - 0.5);
        double wy = y + sp * 0.5 * (fbm(S_WARP + 100, x, y, sp * 0.6) - 0.5);
        double bd = 1e300;
        int best = 0;
        for (int k = 0; k < n; k++) {
            double d = (wx - seedx[k]) * (wx - seedx[k]) +
                       (wy - seedy[k]) * (wy - seedy[k]);
            if (d < bd) {
                bd = d;
                best = k;
            }
        }
        K.town[c] = best;
    }
    free(seedx);
    free(seedy);
    make_connected(K.town, n, NULL);

    /* renumber by first cell, find centroids and seats */
    K.ntowns = n;
    K.towns = xcalloc((size_t)n, sizeof(struct town));
    int32_t *ren = xmalloc((size_t)n * sizeof(int32_t));
    for (int t = 0; t < n; t++) {
        ren[t] = -1;
    }
    int next = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        if (K.town[c] >= 0 && ren[K.town[c]] < 0) {
            K.towns[next].first = c;
            ren[K.town[c]] = next++;
        }
    }
    K.ntowns = next;
    double *sx = xcalloc((size_t)n, sizeof(double));
    double *sy = xcalloc((size_t)n, sizeof(double));
    for (size_t c = 0; c < G.ncells; c++) {
        if (K.town[c] >= 0) {
            int t = ren[K.town[c]];
            K.town[c] = t;
            K.towns[t].ncells++;
            sx[t] += (double)(c % (size_t)G.w);
            sy[t] += (double)(c / (size_t)G.w);
        }
    }
    double *bd = xmalloc((size_t)n * sizeof(double));
    for (int t = 0; t < K.ntowns; t++) {
        sx[t] /= (double)K.towns[t].ncells;
        sy[t] /= (double)K.towns[t].ncells;
        bd[t] = 1e300;
    }
    for (size_t c = 0; c < G.ncells; c++) {
        int t = K.town[c];
        if (t < 0) {
            continue;
        }
        double x = (double)(c % (size_t)G.w), y = (double)(c / (size_t)G.w);
        /* the seat: the township's cell nearest its centroid */
        double d = (x - sx[t]) * (x - sx[t]) + (y - sy[t]) * (y - sy[t]);
        if (d < bd[t]) {
            bd[t] = d;
            K.towns[t].seat = c;
        }
    }
    /* the county seat: the township whose seat is nearest the centre */
    double cx = G.w * 0.45, cy = G.h * 0.5, best = 1e300;
    int seat = 0;
    for (int t = 0; t < K.ntowns; t++) {
        double x = (double)(K.towns[t].seat % (size_t)G.w);
        double y = (double)(K.towns[t].seat / (size_t)G.w);
        double d = (x - cx) * (x - cx) + (y - cy) * (y - cy);
        if (d < best) {
            best = d;
            seat = t;
        }
    }
    /* kinds: 街道 for the seat, then 镇 for the 65% nearest, 乡 beyond */
    double *dist = xmalloc((size_t)K.ntowns * sizeof(double));
    double scx = (double)(K.towns[seat].seat % (size_t)G.w);
    double scy = (double)(K.towns[seat].seat / (size_t)G.w);
    for (int t = 0; t < K.ntowns; t++) {
        double x = (double)(K.towns[t].seat % (size_t)G.w) - scx;
        double y = (double)(K.towns[t].seat / (size_t)G.w) - scy;
        dist[t] = sqrt(x * x + y * y);
    }
    int nz = 0, nx = 0, nj = 0;
    bool used[NA * NB] = {false};
    for (int t = 0; t < K.ntowns; t++) {
        int rank = 0;
        for (int u = 0; u < K.ntowns; u++) {
            rank += dist[u] < dist[t] || (dist[u] == dist[t] && u < t);
        }
        struct town *T = &K.towns[t];
        if (t == seat) {
            T->kind = 0;
        } else {
            int ntown = (int)ceil(0.65 * (K.ntowns - 1));
            T->kind = rank <= (ntown < 99 ? ntown : 99) ? 1 : 2;
        }
        int num = T->kind == 0   ? 1 + nj++
                  : T->kind == 1 ? 101 + nz++
                                 : 201 + nx++;
        snprintf(T->code, sizeof T->code, "%s%03d", COUNTY_CODE, num % 1000);
        size_t pick = (size_t)(hash3(S_NAME, 1, (uint64_t)t) % (NA * NB));
        while (used[pick]) {
            pick = (pick + 7) % (NA * NB);
        }
        used[pick] = true;
        snprintf(T->name, sizeof T->name, "%s%s%s", name_a[pick / NB],
                 name_b[pick % NB],
                 T->kind == 0   ? "街道"
                 : T->kind == 1 ? "镇"
                                : "乡");
        T->radius = T->kind == 0   ? 9.0
                    : T->kind == 1 ? 2.5 + 1.5 * u01(S_CORE, (uint64_t)t, 0)
                                   : 1.5 + 0.7 * u01(S_CORE, (uint64_t)t, 0);
    }
    free(ren);
    free(sx);
    free(sy);
    free(bd);
    free(dist);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void build_villages(void)
{
    double sp = 12.0; /* ~5.8 km² per village */
    int nlx = (int)ceil(G.w / sp) + 1;
    uint64_t *pair = xmalloc(G.ncells * sizeof(uint64_t));
    size_t np = 0;
    K.village = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        K.village[c] = -1;
        if (K.town[c] < 0) {
            continue;
        }
        double x = (double)(c % (size_t)G.w) + 0.5,
               y = (double)(c / (size_t)G.w) + 0.5;
        uint64_t s = nearest_seed(S_VILSEED, x, y, sp, nlx);
        pair[np++] = ((uint64_t)K.town[c] << 32) | s;
    }
    qsort(pair, np, sizeof *pair, cmp_u64);
    size_t nu = 0;
    for (size_t k = 0; k < np; k++) {
        if (nu == 0 || pair[nu - 1] != pair[k]) {
            pair[nu++] = pair[k];
        }
    }
    for (size_t c = 0; c < G.ncells; c++) {
        if (K.town[c] < 0) {
            continue;
        }
        double x = (double)(c % (size_t)G.w) + 0.5,
               y = (double)(c / (size_t)G.w) + 0.5;
        uint64_t key = ((uint64_t)K.town[c] << 32) |
                       nearest_seed(S_VILSEED, x, y, sp, nlx);
        uint64_t *hit = bsearch(&key, pair, nu, sizeof *pair, cmp_u64);
        K.village[c] = (int32_t)(hit - pair);
    }
    make_connected(K.village, (int)nu, K.town);
    /* renumber by first cell; village codes count within each township */
    int32_t *ren = xmalloc(nu * sizeof(int32_t));
    for (size_t v = 0; v < nu; v++) {
        ren[v] = -1;
    }
    K.vils = xcalloc(nu, sizeof(struct village));
    int next = 0;
    int *per_town = xcalloc((size_t)K.ntowns, sizeof(int));
    bool *used = xcalloc((size_t)K.ntowns * 240, sizeof(bool));
    for (size_t c = 0; c < G.ncells; c++) {
        int v = K.village[c];
        if (v < 0) {
            continue;
        }
        if (ren[v] < 0) {
            struct village *V = &K.vils[next];
            V->town = K.town[c];
            const struct town *T = &K.towns[V->town];
            int num = ++per_town[V->town];
            snprintf(V->code, sizeof V->code, "%.16s%03d", T->code,
                     ((T->kind == 0 ? 0 : 200) + num) % 1000);
            size_t space = T->kind == 0 ? NA * NB : 24 * 10;
            size_t pick = (size_t)(hash3(S_NAME, 2, (uint64_t)next) % space);
            for (int probe = 0; probe < 240 && T->kind != 0 &&
                                used[(size_t)V->town * 240 + pick];
                 probe++) {
                pick = (pick + 11) % space;
            }
            if (T->kind == 0) {
                snprintf(V->name, sizeof V->name, "%s%s社区", name_a[pick / NB],
                         name_b[pick % NB]);
            } else {
                used[(size_t)V->town * 240 + pick] = true;
                snprintf(V->name, sizeof V->name, "%s%s", surname[pick / 10],
                         vsuffix[pick % 10]);
            }
            ren[v] = next++;
        }
        K.village[c] = ren[v];
        struct village *V = &K.vils[ren[v]];
        V->ncells++;
        V->sx += (double)(c % (size_t)G.w);
        V->sy += (double)(c / (size_t)G.w);
    }
    K.nvils = next;
    double *bd = xmalloc((size_t)next * sizeof(double));
    for (int v = 0; v < next; v++) {
        K.vils[v].sx /= (double)K.vils[v].ncells;
        K.vils[v].sy /= (double)K.vils[v].ncells;
        bd[v] = 1e300;
    }
    for (size_t c = 0; c < G.ncells; c++) {
        int v = K.village[c];
        if (v < 0) {
            continue;
        }
        double dx = (double)(c % (size_t)G.w) - K.vils[v].sx;
        double dy = (double)(c / (size_t)G.w) - K.vils[v].sy;
        if (dx * dx + dy * dy < bd[v]) {
            bd[v] = dx * dx + dy * dy;
            K.vils[v].seat = c;
        }
    }
    free(bd);
    free(pair);
    free(ren);
    free(per_town);
    free(used);
}

/* Rasterise a 4-connected line of cells from a to b as class `cl`. */
static void draw_road(size_t a, size_t b, int cl, bool keep_cores)
{
    int x0 = (int)(a % (size_t)G.w), y0 = (int)(a / (size_t)G.w);
    int x1 = (int)(b % (size_t)G.w), y1 = (int)(b / (size_t)G.w);
    int n = abs(x1 - x0) + abs(y1 - y0);
    int x = x0, y = y0;
    for (int k = 0; k <= n; k++) {
        size_t c = cell_id(x, y);
        if (K.mask[c] && !(keep_cores && K.czcs[c] != Z_NONE)) {
            K.cls[c] = (uint8_t)cl;
            K.czcs[c] = Z_NONE;
            K.grade[c] = 0;
            K.gdlx[c] = 0;
        }
        /* step in x or y, whichever keeps us nearer the straight line */
        if (x == x1 && y == y1) {
            break;
        }
        double ex = (double)(x + (x1 > x ? 1 : -1) - x0) * (y1 - y0) -
                    (double)(y - y0) * (x1 - x0);
        double ey = (double)(x - x0) * (y1 - y0) -
                    (double)(y + (y1 > y ? 1 : -1) - y0) * (x1 - x0);
        if (y == y1 || (x != x1 && fabs(ex) <= fabs(ey))) {
            x += x1 > x ? 1 : -1;
        } else {
            y += y1 > y ? 1 : -1;
        }
    }
}

static void build_landuse(void)
{
    K.cls = xcalloc(G.ncells, 1);
    K.czcs = xcalloc(G.ncells, 1);
    K.grade = xcalloc(G.ncells, 1);
    K.gdlx = xcalloc(G.ncells, 1);
    /* reservoir in the hills */
    double rx = G.w * (0.72 + 0.1 * u01(S_RES, 0, 0));
    double ry = G.h * (0.55 + 0.2 * u01(S_RES, 0, 1));
    for (size_t c = 0; c < G.ncells; c++) {
        if (!K.mask[c]) {
            continue;
        }
        double x = (double)(c % (size_t)G.w) + 0.5,
               y = (double)(c / (size_t)G.w) + 0.5;
        double e = elevation(x, y);
        double need;
        double rd = river_dist(x, y, &need);
        double h = u01(S_CELL, c, 0);
        double mix = fbm(S_MIX, x, y, 6);
        int cl;
        uint8_t grade = 0, gdlx = 0;
        double dres = sqrt((x - rx) * (x - rx) + (y - ry) * (y - ry));
        if (dres < 2.5 + 1.5 * (fbm(S_RES, x, y, 2) - 0.5) * 2) {
            cl = C_1103;
        } else if (rd < 0) {
            cl = C_1101;
        } else if (e > 0.62) {
            cl = mix < 0.40 ? C_0305 : mix > 0.68 ? C_0307 : C_0301;
            if (e > 0.85 && h < 0.04) {
                cl = C_1207;
            }
        } else if (e > 0.50 && mix > 0.55) {
            cl = mix > 0.66 ? C_0404 : C_0301;
        } else {
            double paddy = fbm(S_PADDY, x, y, 9);
            if (rd + need < 9.0 && e < 0.42 && paddy > 0.40) {
                cl = C_0101;
            } else if (paddy > 0.66) {
                cl = C_0102;
            } else {
                cl = C_0103;
            }
            if (h < 0.004 && e < 0.45) {
                cl = C_1104;
            } else if (h > 0.996) {
                cl = C_0404;
            } else if (h > 0.9935 && h <= 0.996) {
                cl = C_1206;
            }
        }
        if (is_cultivated(cl)) {
            double g = (e - 0.22) / 0.09 + 0.6 * (fbm(S_SLOPE, x, y, 3) - 0.5);
            grade = (uint8_t)(g < 1 ? 1 : g >= 5 ? 5 : (int)g + 1);
            if (grade > 5) {
                grade = 5;
            }
            if (cl == C_0101 && grade > 2) {
                grade = 2;
            }
            if (grade >= 2) {
                gdlx = grade >= 3 && u01(S_SLOPE, c, 1) < 0.3 ? 2 : 1;
            }
        }
        K.cls[c] = (uint8_t)cl;
        K.grade[c] = grade;
        K.gdlx[c] = gdlx;
    }
    /* villages: a cluster of homesteads round each village seat */
    for (int v = 0; v < K.nvils; v++) {
        const struct village *V = &K.vils[v];
        if (K.towns[V->town].kind == 0) {
            continue;
        }
        int si = (int)(V->seat % (size_t)G.w),
            sj = (int)(V->seat / (size_t)G.w);
        double r = 0.8 + 1.2 * u01(S_CORE, 1000 + (uint64_t)v, 0);
        for (int j = sj - 3; j <= sj + 3; j++) {
            for (int i = si - 3; i <= si + 3; i++) {
                if (i < 0 || j < 0 || i >= G.w || j >= G.h) {
                    continue;
                }
                size_t c = cell_id(i, j);
                double d =
                    sqrt((double)((i - si) * (i - si) + (j - sj) * (j - sj)));
                d *= 1 + 0.9 * (fbm(S_CORE + 1, i + 0.5, j + 0.5, 1.7) - 0.5);
                if (K.village[c] != v || K.cls[c] == C_1101 ||
                    K.cls[c] == C_1103) {
                    continue;
                }
                if (d <= r) {
                    K.cls[c] = C_0702;
                    K.czcs[c] = Z_203;
                    K.grade[c] = K.gdlx[c] = 0;
                } else if (d <= 3 && u01(S_CELL, c, 2) < 0.12 &&
                           is_cultivated(K.cls[c])) {
                    K.cls[c] = C_1202;
                    K.grade[c] = K.gdlx[c] = 0;
                }
            }
        }
    }
    /* town cores */
    for (int t = 0; t < K.ntowns; t++) {
        const struct town *T = &K.towns[t];
        int si = (int)(T->seat % (size_t)G.w),
            sj = (int)(T->seat / (size_t)G.w);
        int R = (int)ceil(T->radius * 1.3) + 1;
        for (int j = sj - R; j <= sj + R; j++) {
            for (int i = si - R; i <= si + R; i++) {
                if (i < 0 || j < 0 || i >= G.w || j >= G.h) {
                    continue;
                }
                size_t c = cell_id(i, j);
                if (!K.mask[c] || K.cls[c] == C_1101 || K.cls[c] == C_1103) {
                    continue;
                }
                double x = i + 0.5, y = j + 0.5;
                double d =
                    sqrt((double)((i - si) * (i - si) + (j - sj) * (j - sj)));
                d *= 1 + 0.5 * (fbm(S_CORE, x, y, 3) - 0.5);
                if (d > T->radius) {
                    continue;
                }
                double h = u01(S_CORE, c, 1);
                int cl;
                if (T->kind == 0 && (i - si) % 5 == 0) {
                    cl = C_1004; /* the street grid of the county town */
                } else if (T->kind == 0 && (j - sj) % 5 == 0) {
                    cl = C_1004;
                } else if (d > 0.6 * T->radius && h < 0.35) {
                    cl = C_0601; /* industry on the outskirts */
                } else if (h < 0.55) {
                    cl = C_0701;
                } else if (h < 0.70) {
                    cl = C_05H1;
                } else if (h < 0.80) {
                    cl = C_08H2;
                } else if (h < 0.88) {
                    cl = C_0809;
                } else if (h < 0.94) {
                    cl = C_0810;
                } else {
                    cl = C_0701;
                }
                K.cls[c] = (uint8_t)cl;
                K.czcs[c] = T->kind == 0 ? Z_201 : Z_202;
                K.grade[c] = K.gdlx[c] = 0;
            }
        }
    }
    /* mines in the hills: a 2x2 block per ~3 townships */
    int nmines = K.ntowns / 3 + 1;
    for (int m = 0, tries = 0; m < nmines && tries < 1000; tries++) {
        size_t c = (size_t)(hash3(S_MINE, (uint64_t)tries, 0) % G.ncells);
        int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
        if (i + 1 >= G.w || j + 1 >= G.h) {
            continue;
        }
        size_t cs[4] = {c, c + 1, c + (size_t)G.w, c + (size_t)G.w + 1};
        bool ok = true;
        for (int k = 0; k < 4; k++) {
            double x = (double)(cs[k] % (size_t)G.w) + 0.5;
            double y = (double)(cs[k] / (size_t)G.w) + 0.5;
            ok = ok && K.mask[cs[k]] && K.czcs[cs[k]] == Z_NONE &&
                 elevation(x, y) > 0.5 && K.cls[cs[k]] != C_1101 &&
                 K.cls[cs[k]] != C_1103;
        }
        if (!ok) {
            continue;
        }
        for (int k = 0; k < 4; k++) {
            K.cls[cs[k]] = C_0602;
            K.czcs[cs[k]] = Z_204;
            K.grade[cs[k]] = K.gdlx[cs[k]] = 0;
        }
        m++;
    }
    /* roads: county seat to every township seat (公路), half of the
     * villages to their township seat (农村道路) */
    int seat = 0;
    for (int t = 0; t < K.ntowns; t++) {
        if (K.towns[t].kind == 0) {
            seat = t;
        }
    }
    for (int t = 0; t < K.ntowns; t++) {
        if (t != seat) {
            draw_road(K.towns[seat].seat, K.towns[t].seat, C_1003, true);
        }
    }
    for (int v = 0; v < K.nvils; v++) {
        const struct village *V = &K.vils[v];
        size_t a = V->seat, b = K.towns[V->town].seat;
        long len = labs((long)(a % (size_t)G.w) - (long)(b % (size_t)G.w)) +
                   labs((long)(a / (size_t)G.w) - (long)(b / (size_t)G.w));
        if (K.towns[V->town].kind != 0 && len <= 24 &&
            u01(S_ROAD, (uint64_t)v, 0) < 0.3) {
            draw_road(V->seat, K.towns[V->town].seat, C_1006, true);
        }
    }
}

/* ---- parcels ---- */

struct parcel {
    size_t start;  /* first cell, row-major */
    int island_of; /* host parcel for an island, else -1 */
    int island;    /* island parcel inside this one, else -1 */
    uint8_t cls, czcs, grade, gdlx;
    int village;
    double cx, cy; /* island centre (metres) */
    double radius; /* island radius (metres) */
    uint64_t island_salt;
};

static struct parcel *P;
static int NP;

static uint64_t cell_key(size_t c)
{
    return (uint64_t)K.cls[c] | (uint64_t)K.czcs[c] << 8 |
           (uint64_t)K.grade[c] << 12 | (uint64_t)K.gdlx[c] << 16 |
           (uint64_t)(uint32_t)K.village[c] << 24;
}

static void build_parcels(void)
{
    K.parcel = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        K.parcel[c] = -1;
    }
    size_t cap = 1024;
    P = xmalloc(cap * sizeof *P);
    NP = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        if (!K.mask[c] || K.parcel[c] >= 0) {
            continue;
        }
        double u = u01(S_GROUP, c, 0);
        int target = u < 0.25 ? 1 : u < 0.55 ? 2 : u < 0.78 ? 3 : 4;
        uint64_t key = cell_key(c);
        size_t grp[4];
        int n = 0;
        grp[n++] = c;
        K.parcel[c] = NP;
        /* grow: right, up, left, down of each member in turn */
        for (int m = 0; m < n && n < target; m++) {
            int i = (int)(grp[m] % (size_t)G.w),
                j = (int)(grp[m] / (size_t)G.w);
            static const int order[4] = {1, 2, 3, 0};
            for (int k = 0; k < 4 && n < target; k++) {
                size_t y = across(i, j, order[k]);
                if (y != SIZE_MAX && K.mask[y] && K.parcel[y] < 0 &&
                    cell_key(y) == key) {
                    K.parcel[y] = NP;
                    grp[n++] = y;
                }
            }
        }
        if ((size_t)NP + 2 > cap) {
            cap *= 2;
            P = xrealloc(P, cap * sizeof *P);
        }
        struct parcel *p = &P[NP++];
        memset(p, 0, sizeof *p);
        p->start = c;
        p->island_of = -1;
        p->island = -1;
        p->cls = K.cls[c];
        p->czcs = K.czcs[c];
        p->grade = K.grade[c];
        p->gdlx = K.gdlx[c];
        p->village = K.village[c];
        /* ~1% of hosts get an island parcel in their first cell */
        bool host = is_cultivated(p->cls) || p->cls == C_0301 ||
                    p->cls == C_0305 || p->cls == C_0404;
        double ui = u01(S_ISLAND, c, 0);
        if (host && ui < 0.012) {
            int ci = (int)(c % (size_t)G.w), cj = (int)(c / (size_t)G.w);
            double sx = 0, sy = 0;
            for (int k = 0; k < 4; k++) {
                double x, y;
                node_xy(ci + corner_di[k], cj + corner_dj[k], &x, &y);
                sx += x;
                sy += y;
            }
            struct parcel *q = &P[NP];
            memset(q, 0, sizeof *q);
            q->start = SIZE_MAX;
            q->island_of = NP - 1;
            q->island = -1;
            q->cls = is_cultivated(p->cls) && ui < 0.005 ? C_0702 : C_1104;
            q->czcs = q->cls == C_0702 ? Z_203 : Z_NONE;
            q->village = p->village;
            q->cx = sx / 4;
            q->cy = sy / 4;
            q->radius = ISLAND_R * CELL_M * (0.7 + 0.3 * u01(S_ISLAND, c, 1));
            q->island_salt = c;
            p->island = NP;
            NP++;
        }
    }
}

/* The island ring of parcel q (counter-clockwise, closed). */
static void island_ring(const struct parcel *q, struct pts *out)
{
    out->n = 0;
    int n = 10 + (int)(7 * u01(S_ISLAND, q->island_salt, 2));
    for (int k = 0; k < n; k++) {
        double a = 2 * M_PI *
                   (k + 0.4 * u01(S_ISLAND, q->island_salt, 10 + (uint64_t)k)) /
                   n;
        double r = q->radius * (0.7 + 0.3 * u01(S_ISLAND, q->island_salt,
                                                40 + (uint64_t)k));
        pts_push(out, round_mm(q->cx + r * cos(a)),
                 round_mm(q->cy + r * sin(a)));
    }
    pts_push(out, out->xy[0], out->xy[1]);
}

/* ---- output ---- */

struct area_calc {
    struct om_area_ctx *ctx;
};

static double ring_area_ell(struct area_calc *a, const double *xy, size_t n)
{
    struct om_error err;
    double v;
    check(om_area_ring_ellipsoidal(a->ctx, xy, n, &v, &err), &err,
          "ellipsoidal area");
    return fabs(v);
}

/* Add `p` as one part of the current feature; return its ellipsoidal and
 * planar areas. */
static void add_poly(struct om_layer *l, const struct poly *p,
                     struct area_calc *ac, double *ell, double *planar)
{
    struct om_error err;
    check(om_layer_begin_part(l, &err), &err, "layer");
    size_t b = 0;
    *ell = 0;
    *planar = 0;
    for (size_t r = 0; r < p->nrings; r++) {
        size_t e = p->ring_end[r];
        const double *xy = p->xy.xy + 2 * b;
        check(om_layer_add_ring(l, xy, e - b, &err), &err, "layer");
        double ae = ring_area_ell(ac, xy, e - b);
        double ap = fabs(ring_area(xy, e - b));
        *ell += r == 0 ? ae : -ae;
        *planar += r == 0 ? ap : -ap;
        b = e;
    }
}

static int add_field(struct om_layer *l, const char *name, enum om_field_type t)
{
    struct om_error err;
    int idx;
    check(om_layer_add_field(l, name, t, &idx, &err), &err, "layer field");
    return idx;
}

static void set_text(struct om_layer *l, int f, const char *v)
{
    struct om_error err;
    check(om_layer_set_text(l, f, v, &err), &err, "attribute");
}

static void set_real(struct om_layer *l, int f, double v)
{
    struct om_error err;
    check(om_layer_set_real(l, f, v, &err), &err, "attribute");
}

static void set_int(struct om_layer *l, int f, int64_t v)
{
    struct om_error err;
    check(om_layer_set_int(l, f, v, &err), &err, "attribute");
}

static double cents(double v)
{
    return round(v * 100.0) / 100.0;
}

/* 田坎系数 by 坡度级别 for 坡地 (PD) and 梯田 (TT). */
static double kcxs_of(int grade, int gdlx)
{
    static const double pd[6] = {0, 0, 0.012, 0.038, 0.078, 0.121};
    static const double tt[6] = {0, 0, 0.034, 0.065, 0.105, 0.152};
    if (grade < 2 || grade > 5) {
        return 0;
    }
    return gdlx == 2 ? tt[grade] : pd[grade];
}

struct totals {
    size_t nparcels, nislands, nxzq, njbnt, nstbhhx, nczkfbj;
    double dltb_planar, dltb_ell, xzq_planar, jbnt_ell;
    size_t dltb_points;
};

static struct om_layer *build_dltb(struct area_calc *ac, struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("DLTB", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fBSM = add_field(l, "BSM", OM_FIELD_TEXT);
    int fYSDM = add_field(l, "YSDM", OM_FIELD_TEXT);
    int fTBBH = add_field(l, "TBBH", OM_FIELD_TEXT);
    int fDLBM = add_field(l, "DLBM", OM_FIELD_TEXT);
    int fDLMC = add_field(l, "DLMC", OM_FIELD_TEXT);
    int fQSXZ = add_field(l, "QSXZ", OM_FIELD_TEXT);
    int fQSDWDM = add_field(l, "QSDWDM", OM_FIELD_TEXT);
    int fQSDWMC = add_field(l, "QSDWMC", OM_FIELD_TEXT);
    int fZLDWDM = add_field(l, "ZLDWDM", OM_FIELD_TEXT);
    int fZLDWMC = add_field(l, "ZLDWMC", OM_FIELD_TEXT);
    int fTBMJ = add_field(l, "TBMJ", OM_FIELD_REAL);
    int fKCDLBM = add_field(l, "KCDLBM", OM_FIELD_TEXT);
    int fKCXS = add_field(l, "KCXS", OM_FIELD_REAL);
    int fKCMJ = add_field(l, "KCMJ", OM_FIELD_REAL);
    int fTBDLMJ = add_field(l, "TBDLMJ", OM_FIELD_REAL);
    int fGDLX = add_field(l, "GDLX", OM_FIELD_TEXT);
    int fGDPDJB = add_field(l, "GDPDJB", OM_FIELD_TEXT);
    int fCZCSXM = add_field(l, "CZCSXM", OM_FIELD_TEXT);
    int fSJNF = add_field(l, "SJNF", OM_FIELD_INT);

    const char *dlmc[NCLS];
    for (int c = 0; c < NCLS; c++) {
        const struct om_code *code = om_code_find(OM_CODES_DLBM, cls_code[c]);
        if (!code) {
            die("DLBM %s is not in the code table", cls_code[c]);
        }
        dlmc[c] = code->name_zh;
    }
    int *tbbh = xcalloc((size_t)K.nvils, sizeof(int));
    struct tracer tr;
    tracer_init(&tr, K.parcel);
    struct poly poly = {0};
    struct pts ring = {0};
    char buf[64], qsdm[32], qsmc[128];
    for (int k = 0; k < NP; k++) {
        const struct parcel *p = &P[k];
        if (p->island_of >= 0) {
            island_ring(p, &ring);
            poly_reset(&poly);
            poly_add_ring(&poly, &ring);
            tot->nislands++;
        } else {
            trace_component(&tr, p->start, (uint32_t)k + 1, &poly);
            if (p->island >= 0) {
                island_ring(&P[p->island], &ring);
                reverse_ring(ring.xy, ring.n);
                poly_add_ring(&poly, &ring);
            }
        }
        check(om_layer_begin_feature(l, k + 1, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        tot->dltb_points += poly.xy.n;
        tot->dltb_planar += planar;
        tot->dltb_ell += ell;
        const struct village *V = &K.vils[p->village];
        const struct town *T = &K.towns[V->town];
        snprintf(buf, sizeof buf, "%s%012d", COUNTY_CODE, k + 1);
        set_text(l, fBSM, buf);
        set_text(l, fYSDM, "2001010100");
        snprintf(buf, sizeof buf, "%d", ++tbbh[p->village]);
        set_text(l, fTBBH, buf);
        set_text(l, fDLBM, cls_code[p->cls]);
        set_text(l, fDLMC, dlmc[p->cls]);
        /* ownership: rivers, reservoirs and state forest 国有 (10), roads
         * and towns 国有 (20), the rest 集体 (30) of the village */
        const char *qsxz = "30";
        if (p->cls == C_1101 || p->cls == C_1103) {
            qsxz = "10";
        } else if (p->cls == C_0301 && p->island_of < 0) {
            size_t c = p->start;
            double x = (double)(c % (size_t)G.w) + 0.5;
            double y = (double)(c / (size_t)G.w) + 0.5;
            qsxz = elevation(x, y) > 0.72 ? "10" : "30";
        } else if (p->cls == C_1003 || p->czcs == Z_201 || p->czcs == Z_202 ||
                   p->czcs == Z_204) {
            qsxz = "20";
        }
        set_text(l, fQSXZ, qsxz);
        if (qsxz[0] == '3') {
            snprintf(qsdm, sizeof qsdm, "%.24s", V->code);
            snprintf(qsmc, sizeof qsmc, "%s", V->name);
        } else {
            snprintf(qsdm, sizeof qsdm, "%.16s000", T->code);
            snprintf(qsmc, sizeof qsmc, "%s国有土地", T->name);
        }
        set_text(l, fQSDWDM, qsdm);
        set_text(l, fQSDWMC, qsmc);
        set_text(l, fZLDWDM, V->code);
        set_text(l, fZLDWMC, V->name);
        /* TBMJ, KCMJ and TBDLMJ in whole cents so that TBDLMJ = TBMJ -
         * KCMJ holds exactly in 0.01 m² */
        int64_t tb = llround(ell * 100.0);
        double kcxs = kcxs_of(p->grade, p->gdlx);
        int64_t kc = llround((double)tb * kcxs);
        set_real(l, fTBMJ, (double)tb / 100.0);
        set_text(l, fKCDLBM, kcxs > 0 ? "1203" : NULL);
        set_real(l, fKCXS, kcxs);
        set_real(l, fKCMJ, (double)kc / 100.0);
        set_real(l, fTBDLMJ, (double)(tb - kc) / 100.0);
        set_text(l, fGDLX, p->gdlx == 1 ? "PD" : p->gdlx == 2 ? "TT" : NULL);
        if (p->grade) {
            snprintf(buf, sizeof buf, "%d", p->grade);
            set_text(l, fGDPDJB, buf);
        }
        set_text(l, fCZCSXM, czcs_code[p->czcs]);
        set_int(l, fSJNF, SURVEY_YEAR);
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->nparcels = (size_t)NP;
    tracer_deinit(&tr);
    poly_free(&poly);
    free(ring.xy);
    free(tbbh);
    return l;
}

static struct om_layer *build_xzq(struct area_calc *ac, struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("XZQ", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fDM = add_field(l, "XZQDM", OM_FIELD_TEXT);
    int fMC = add_field(l, "XZQMC", OM_FIELD_TEXT);
    int fMJ = add_field(l, "MJ", OM_FIELD_REAL);
    struct tracer tr;
    tracer_init(&tr, K.town);
    struct poly poly = {0};
    for (int t = 0; t < K.ntowns; t++) {
        const struct town *T = &K.towns[t];
        trace_component(&tr, T->first, (uint32_t)t + 1, &poly);
        check(om_layer_begin_feature(l, t + 1, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        tot->xzq_planar += planar;
        set_text(l, fDM, T->code);
        set_text(l, fMC, T->name);
        set_real(l, fMJ, cents(ell));
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->nxzq = (size_t)K.ntowns;
    tracer_deinit(&tr);
    poly_free(&poly);
    return l;
}

/* 永久基本农田: whole cultivated parcels outside towns where a smooth field
 * says so (about four fifths of the cultivated land), dissolved per
 * township into connected patches. */
static struct om_layer *build_jbnt(struct area_calc *ac, struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("YJJBNTBHTB", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fBSM = add_field(l, "BSM", OM_FIELD_TEXT);
    int fYSDM = add_field(l, "YSDM", OM_FIELD_TEXT);
    int fDM = add_field(l, "XZQDM", OM_FIELD_TEXT);
    int fMC = add_field(l, "XZQMC", OM_FIELD_TEXT);
    int fMJ = add_field(l, "JBNTMJ", OM_FIELD_REAL);
    uint8_t *sel = xcalloc((size_t)NP, 1);
    for (int k = 0; k < NP; k++) {
        const struct parcel *p = &P[k];
        if (p->island_of >= 0 || !is_cultivated(p->cls) || p->czcs) {
            continue;
        }
        double x = (double)(p->start % (size_t)G.w) + 0.5;
        double y = (double)(p->start / (size_t)G.w) + 0.5;
        sel[k] = fbm(S_BASIC, x, y, 10) > 0.38;
    }
    int32_t *key = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        key[c] = K.parcel[c] >= 0 && sel[K.parcel[c]] ? K.town[c] : -1;
    }
    struct tracer tr;
    tracer_init(&tr, key);
    struct poly poly = {0};
    struct pts ring = {0};
    /* islands of selected hosts are holes of the patch holding the host:
     * list them per patch after tracing (patch of the host's first cell) */
    uint32_t mark = 0;
    int64_t fid = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        if (key[c] < 0 || tr.comp[c]) {
            continue;
        }
        size_t n = trace_component(&tr, c, ++mark, &poly);
        for (size_t m = 0; m < n; m++) {
            size_t x = tr.cells[m];
            int pk = K.parcel[x];
            if (P[pk].start == x && P[pk].island >= 0) {
                island_ring(&P[P[pk].island], &ring);
                reverse_ring(ring.xy, ring.n);
                poly_add_ring(&poly, &ring);
            }
        }
        check(om_layer_begin_feature(l, ++fid, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        tot->jbnt_ell += ell;
        char buf[32];
        snprintf(buf, sizeof buf, "%s%012lld", COUNTY_CODE, (long long)fid);
        set_text(l, fBSM, buf);
        set_text(l, fYSDM, "2070010100");
        set_text(l, fDM, K.towns[key[c]].code);
        set_text(l, fMC, K.towns[key[c]].name);
        set_real(l, fMJ, cents(ell));
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->njbnt = (size_t)fid;
    tracer_deinit(&tr);
    poly_free(&poly);
    free(ring.xy);
    free(key);
    free(sel);
    return l;
}

/*
 * A star-shaped ring round (cx,cy) (metres): r(θ) = R(1 + Σ a_k sin(kθ+φ))
 * with Σ|a_k| <= 0.4, plus a tiny per-vertex roughness. Star-shaped with
 * r > 0 means simple. Counter-clockwise, closed.
 */
static void star_ring(uint64_t salt, double cx, double cy, double R, int nverts,
                      int nharm, struct pts *out)
{
    double a[64], ph[64], sum = 0;
    if (nharm > 64) {
        nharm = 64;
    }
    for (int k = 0; k < nharm; k++) {
        a[k] = (u01(S_STAR, salt, (uint64_t)k) - 0.5) / pow(k + 2, 1.1);
        ph[k] = 2 * M_PI * u01(S_STAR, salt, 100 + (uint64_t)k);
        sum += fabs(a[k]);
    }
    for (int k = 0; k < nharm; k++) {
        a[k] *= 0.4 / (sum > 0.4 ? sum : 0.4);
    }
    out->n = 0;
    for (int v = 0; v < nverts; v++) {
        double th = 2 * M_PI * v / nverts;
        double r = 1;
        for (int k = 0; k < nharm; k++) {
            r += a[k] * sin((k + 2) * th + ph[k]);
        }
        r *= 1 + 0.003 * (u01(S_STAR, salt, 1000 + (uint64_t)v) - 0.5);
        pts_push(out, round_mm(cx + R * r * cos(th)),
                 round_mm(cy + R * r * sin(th)));
    }
    pts_push(out, out->xy[0], out->xy[1]);
}

static double cell_cx(size_t c)
{
    return X0 + CELL_M * ((double)(c % (size_t)G.w) + 0.5);
}

static double cell_cy(size_t c)
{
    return Y0 + CELL_M * ((double)(c / (size_t)G.w) + 0.5);
}

/* Whether the disc (cells) of radius r round (x,y) lies in the county. */
static bool disc_in_county(double x, double y, double r)
{
    for (int k = 0; k < 64; k++) {
        double a = 2 * M_PI * k / 64;
        for (double f = 0.25; f <= 1.0; f += 0.25) {
            int i = (int)floor(x + f * r * cos(a)),
                j = (int)floor(y + f * r * sin(a));
            if (i < 0 || j < 0 || i >= G.w || j >= G.h ||
                !K.mask[cell_id(i, j)]) {
                return false;
            }
        }
    }
    return true;
}

static struct om_layer *build_stbhhx(struct area_calc *ac, struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("STBHHX", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fBSM = add_field(l, "BSM", OM_FIELD_TEXT);
    int fMC = add_field(l, "HXMC", OM_FIELD_TEXT);
    int fLX = add_field(l, "HXLX", OM_FIELD_TEXT);
    int fMJ = add_field(l, "MJ", OM_FIELD_REAL);
    static const char *const kinds[] = {"水源涵养", "生物多样性维护",
                                        "水土保持"};
    /* centres: the reservoir first, then high ground in the east */
    double cx[8], cy[8], cr[8];
    int n = 0;
    double rx = G.w * (0.72 + 0.1 * u01(S_RES, 0, 0));
    double ry = G.h * (0.55 + 0.2 * u01(S_RES, 0, 1));
    double rads[3] = {0.09 * G.w, 0.07 * G.w, 0.05 * G.w};
    for (int tries = 0; tries < 6000 && n < 3; tries++) {
        if (tries % 600 == 599) {
            for (int k = n; k < 3; k++) {
                rads[k] *= 0.85; /* crowded county: smaller red lines */
            }
        }
        double x, y, r = rads[n];
        if (n == 0 && tries < 200) {
            x = rx + (tries ? 8 * (u01(S_STAR, 7, (uint64_t)tries) - 0.5) : 0);
            y = ry + (tries ? 8 * (u01(S_STAR, 8, (uint64_t)tries) - 0.5) : 0);
        } else {
            x = G.w * (0.5 + 0.5 * u01(S_STAR, 9, (uint64_t)tries));
            y = G.h * u01(S_STAR, 10, (uint64_t)tries);
            if (elevation(x, y) < 0.55) {
                continue;
            }
        }
        bool ok = disc_in_county(x, y, r * 1.45);
        for (int k = 0; k < n && ok; k++) {
            double d =
                sqrt((x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k]));
            ok = d > 1.45 * (r + cr[k]);
        }
        for (int t = 0; t < K.ntowns && ok; t++) {
            if (K.towns[t].kind != 2) {
                double d =
                    sqrt(pow(x - (double)(K.towns[t].seat % (size_t)G.w), 2) +
                         pow(y - (double)(K.towns[t].seat / (size_t)G.w), 2));
                ok = d > 1.45 * r + K.towns[t].radius * 1.6;
            }
        }
        if (ok) {
            cx[n] = x;
            cy[n] = y;
            cr[n] = r;
            n++;
        }
    }
    struct pts ring = {0};
    struct poly poly = {0};
    static const int nverts[3] = {40000, 15000, 6000};
    for (int k = 0; k < n; k++) {
        double X = X0 + CELL_M * cx[k], Y = Y0 + CELL_M * cy[k];
        double R = CELL_M * cr[k];
        poly_reset(&poly);
        star_ring(100 + (uint64_t)k, X, Y, R, nverts[k], 60, &ring);
        poly_add_ring(&poly, &ring);
        int nh = k == 0 ? 1 : 3;
        for (int h = 0; h < nh; h++) {
            double ang =
                2 * M_PI *
                (h + 0.3 * u01(S_STAR, 200 + (uint64_t)k, (uint64_t)h)) / nh;
            double d = nh == 1 ? 0.3 * R : 0.32 * R;
            double rh = 0.1 * R;
            star_ring(300 + 10 * (uint64_t)k + (uint64_t)h, X + d * cos(ang),
                      Y + d * sin(ang), rh, 600 + 300 * h, 12, &ring);
            reverse_ring(ring.xy, ring.n);
            poly_add_ring(&poly, &ring);
        }
        check(om_layer_begin_feature(l, k + 1, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        char buf[64];
        snprintf(buf, sizeof buf, "%s%012d", COUNTY_CODE, k + 1);
        set_text(l, fBSM, buf);
        static const char *const names[] = {
            "水库水源涵养", "东部山地生物多样性维护", "东部丘陵水土保持"};
        snprintf(buf, sizeof buf, "%s%s生态保护红线", COUNTY_NAME, names[k]);
        set_text(l, fMC, buf);
        set_text(l, fLX, kinds[k]);
        set_real(l, fMJ, cents(ell));
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->nstbhhx = (size_t)n;
    free(ring.xy);
    poly_free(&poly);
    return l;
}

static struct om_layer *build_czkfbj(struct area_calc *ac, struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("CZKFBJ", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fBSM = add_field(l, "BSM", OM_FIELD_TEXT);
    int fLX = add_field(l, "BJLX", OM_FIELD_TEXT);
    int fDM = add_field(l, "XZQDM", OM_FIELD_TEXT);
    int fMC = add_field(l, "XZQMC", OM_FIELD_TEXT);
    int fMJ = add_field(l, "MJ", OM_FIELD_REAL);
    /* the county town and the two largest-radius 镇 */
    int pick[3] = {-1, -1, -1};
    for (int t = 0; t < K.ntowns; t++) {
        if (K.towns[t].kind == 0) {
            pick[0] = t;
        }
    }
    for (int t = 0; t < K.ntowns; t++) {
        if (K.towns[t].kind != 1) {
            continue;
        }
        if (pick[1] < 0 || K.towns[t].radius > K.towns[pick[1]].radius) {
            pick[2] = pick[1];
            pick[1] = t;
        } else if (pick[2] < 0 || K.towns[t].radius > K.towns[pick[2]].radius) {
            pick[2] = t;
        }
    }
    struct pts ring = {0};
    struct poly poly = {0};
    int64_t fid = 0;
    for (int k = 0; k < 3; k++) {
        if (pick[k] < 0) {
            continue;
        }
        const struct town *T = &K.towns[pick[k]];
        poly_reset(&poly);
        star_ring(500 + (uint64_t)k, cell_cx(T->seat), cell_cy(T->seat),
                  CELL_M * T->radius * 1.45, k == 0 ? 1500 : 500, 10, &ring);
        poly_add_ring(&poly, &ring);
        check(om_layer_begin_feature(l, ++fid, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        char buf[64];
        snprintf(buf, sizeof buf, "%s%012lld", COUNTY_CODE, (long long)fid);
        set_text(l, fBSM, buf);
        set_text(l, fLX, k == 0 ? "中心城区城镇开发边界" : "乡镇城镇开发边界");
        set_text(l, fDM, T->code);
        set_text(l, fMC, T->name);
        set_real(l, fMJ, cents(ell));
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->nczkfbj = (size_t)fid;
    free(ring.xy);
    poly_free(&poly);
    return l;
}

/* ---- files ---- */

static void mkdir_p(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf) {
        die("path too long: %s", path);
    }
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                die("cannot create %s: %s", buf, strerror(errno));
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        die("cannot create %s: %s", buf, strerror(errno));
    }
}

/*
 * Remove an existing FileGDB directory (flat: files only). om_layer_write's
 * overwrite cannot delete a FileGDB in GDAL 3.6 ("cannot remove the
 * existing output"), so the tool clears it first.
 */
static void remove_gdb(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT) {
            return;
        }
        die("cannot open %s: %s", path, strerror(errno));
    }
    char buf[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        int len = snprintf(buf, sizeof buf, "%s/%s", path, e->d_name);
        if (len < 0 || (size_t)len >= sizeof buf || unlink(buf) != 0) {
            die("cannot remove %s: %s", buf, strerror(errno));
        }
    }
    closedir(d);
    if (rmdir(path) != 0) {
        die("cannot remove %s: %s", path, strerror(errno));
    }
}

static void write_layer(const struct om_layer *l, const char *path,
                        const char *encoding, bool append)
{
    struct om_error err;
    struct om_write_options o = {0};
    o.encoding = encoding;
    o.overwrite = !append;
    o.append_layer = append;
    check(om_layer_write(l, path, &o, NULL, &err), &err, path);
}

/*
 * The DBF header holds the date of the last update (bytes 1-3): set it to
 * the survey's standard date so that the same seed gives the same bytes.
 * The language driver byte (29) is left 0, as in most real 三调 exports:
 * without the .cpg a reader has to be told the encoding.
 */
static void fix_dbf(const char *path)
{
    FILE *f = fopen(path, "r+b");
    if (!f) {
        die("cannot open %s: %s", path, strerror(errno));
    }
    unsigned char d[3] = {SURVEY_YEAR - 1900, 12, 31};
    if (fseek(f, 1, SEEK_SET) != 0 || fwrite(d, 1, 3, f) != 3) {
        die("cannot patch %s", path);
    }
    if (fclose(f) != 0) {
        die("cannot write %s: %s", path, strerror(errno));
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synth [--seed N] [--cells N] -o DIR\n"
            "  --seed N   random seed (default %d); same seed, same bytes\n"
            "  --cells N  grid cells per side (default %d: about 20,000 "
            "parcels;\n"
            "             parcels grow with N², e.g. 1200 gives ~500,000)\n",
            DEFAULT_SEED, DEFAULT_CELLS);
}

int main(int argc, char **argv)
{
    const char *outdir = NULL;
    unsigned long long seed = DEFAULT_SEED;
    long cells = DEFAULT_CELLS;
    for (int a = 1; a < argc; a++) {
        char *end;
        if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) {
            errno = 0;
            seed = strtoull(argv[++a], &end, 10);
            if (*end || errno) {
                die("--seed wants a non-negative integer");
            }
        } else if (strcmp(argv[a], "--cells") == 0 && a + 1 < argc) {
            cells = strtol(argv[++a], &end, 10);
            if (*end || cells < 20 || cells > 4000) {
                die("--cells wants an integer from 20 to 4000");
            }
        } else if (strcmp(argv[a], "-o") == 0 && a + 1 < argc) {
            outdir = argv[++a];
        } else if (strcmp(argv[a], "-h") == 0 ||
                   strcmp(argv[a], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!outdir) {
        usage(stderr);
        return 2;
    }
    g_seed = mix64(seed);
    /* GDAL stamps GeoPackages with the current time unless told a date */
    if (setenv("OGR_CURRENT_DATE", "2023-12-31T00:00:00.000Z", 1) != 0) {
        die("cannot set OGR_CURRENT_DATE");
    }
    G.w = G.h = (int)cells;
    G.ncells = (size_t)cells * (size_t)cells;

    build_mask();
    build_towns();
    build_villages();
    build_landuse();
    build_parcels();

    struct om_error err;
    struct om_crs *gk, *geo;
    check(om_crs_new("EPSG:4530", &gk, &err), &err, "CRS");
    check(om_crs_new("EPSG:4490", &geo, &err), &err, "CRS");
    struct area_calc ac;
    check(om_area_ctx_new(gk, &ac.ctx, &err), &err, "area context");

    char path[4096];
    struct totals tot = {0};
    snprintf(path, sizeof path, "%s/landuse", outdir);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/admin", outdir);
    mkdir_p(path);

    struct om_layer *dltb = build_dltb(&ac, &tot);
    snprintf(path, sizeof path, "%s/landuse/DLTB.shp", outdir);
    write_layer(dltb, path, "CP936", false);
    om_layer_free(dltb);
    snprintf(path, sizeof path, "%s/landuse/DLTB.cpg", outdir);
    if (unlink(path) != 0 && errno != ENOENT) {
        die("cannot remove %s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/landuse/DLTB.dbf", outdir);
    fix_dbf(path);

    struct om_layer *xzq = build_xzq(&ac, &tot);
    struct om_transform *tf;
    check(om_transform_new(gk, geo, &tf, &err), &err, "transform");
    check(om_layer_transform(xzq, tf, NULL, &err), &err, "XZQ to EPSG:4490");
    om_transform_free(tf);
    snprintf(path, sizeof path, "%s/admin/XZQ.geojson", outdir);
    write_layer(xzq, path, NULL, false);
    om_layer_free(xzq);

    /* The plan layers go to a FileGDB, as bureaus receive them, and to a
     * GeoPackage: FileGDB snaps coordinates to its storage grid (origin
     * -2147483647, scale 10000), so the GDB's farmland edges match the
     * parcels only to ~2e-7 m (the realistic case), the GPKG's exactly. */
    struct om_layer *plan[3] = {build_jbnt(&ac, &tot), build_stbhhx(&ac, &tot),
                                build_czkfbj(&ac, &tot)};
    char gpkg[4096];
    snprintf(path, sizeof path, "%s/plan.gdb", outdir);
    snprintf(gpkg, sizeof gpkg, "%s/plan.gpkg", outdir);
    remove_gdb(path);
    for (int k = 0; k < 3; k++) {
        write_layer(plan[k], path, NULL, k > 0);
        write_layer(plan[k], gpkg, NULL, k > 0);
        om_layer_free(plan[k]);
    }

    om_area_ctx_free(ac.ctx);
    om_crs_free(gk);
    om_crs_free(geo);

    snprintf(path, sizeof path, "%s/README.txt", outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        die("cannot write %s: %s", path, strerror(errno));
    }
    fprintf(f,
            "Synthetic sample county %s (%s), generated by onemap synth.\n"
            "NOT real data: every feature is invented. See "
            "docs/SAMPLE-DATA.md.\n\n"
            "seed %llu, grid %d x %d cells of %.0f m\n"
            "CRS: EPSG:4530 (CGCS2000 / 3-degree Gauss-Kruger zone 42, "
            "eastings with zone prefix 42)\n"
            "     except admin/XZQ.geojson: EPSG:4490 (CGCS2000 lon/lat)\n\n"
            "landuse/DLTB.shp      %zu parcels (%zu island parcels), "
            "%zu vertices;\n"
            "                      DBF text in GBK (CP936) with no .cpg: "
            "import with --encoding GBK\n"
            "admin/XZQ.geojson     %zu townships\n"
            "plan.gdb/YJJBNTBHTB   %zu permanent basic farmland patches\n"
            "plan.gdb/STBHHX       %zu ecological red line polygons\n"
            "plan.gdb/CZKFBJ       %zu urban development boundaries\n"
            "plan.gpkg             the same three layers with exact "
            "coordinates\n"
            "                      (FileGDB snaps to its grid: ~2e-7 m)\n\n"
            "county area: planar %.2f m2, ellipsoidal %.2f m2\n"
            "sum of DLTB planar areas: %.2f m2\n"
            "sum of YJJBNTBHTB ellipsoidal areas: %.2f m2\n",
            COUNTY_NAME, COUNTY_CODE, seed, G.w, G.h, CELL_M, tot.nparcels,
            tot.nislands, tot.dltb_points, tot.nxzq, tot.njbnt, tot.nstbhhx,
            tot.nczkfbj, tot.xzq_planar, tot.dltb_ell, tot.dltb_planar,
            tot.jbnt_ell);
    if (fclose(f) != 0) {
        die("cannot write %s", path);
    }
    printf("synth: %s: %zu parcels, %zu townships, %zu farmland patches, "
           "%zu red lines, %zu development boundaries\n",
           outdir, tot.nparcels, tot.nxzq, tot.njbnt, tot.nstbhhx, tot.nczkfbj);

    free(K.mask);
    free(K.town);
    free(K.village);
    free(K.cls);
    free(K.czcs);
    free(K.grade);
    free(K.gdlx);
    free(K.parcel);
    free(K.towns);
    free(K.vils);
    free(P);
    return 0;
}
