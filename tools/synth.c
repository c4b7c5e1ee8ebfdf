/*
 * synth.c — the deterministic sample-data generator: a realistic, entirely
 * synthetic county in central Jilin (示范市, code 220189, which no real
 * county uses) in CGCS2000 3-degree Gauss-Krüger zone 42 (EPSG:4530), for
 * the demo, the tests and the benchmarks.
 *
 *   synth [--seed N] [--cells N] [--sites N] [--defects] -o DIR
 *   synth --scale city|province | --counties N [-j N] [--fgb] ... -o DIR
 *
 * Writes DIR/landuse/DLTB.shp (GBK DBF without .cpg), DIR/admin/XZQ.geojson
 * (EPSG:4490), DIR/plan.gdb (YJJBNTBHTB, STBHHX, CZKFBJ, GHYT), the same
 * plan layers with exact coordinates in DIR/plan.gpkg, construction sites
 * as 部标 TXT in DIR/sites (with README.md and expected.csv: the expected
 * review decisions, measured with GEOS) and DIR/README.txt. With
 * --defects, also DIR/defects/DLTB_defects.gpkg (DLTB with one injected
 * defect of each kind `onemap qc` checks for) and DIR/defects/expected.csv
 * (every finding they imply). Every mode also writes
 * DIR/landuse/DLTB_2024.gpkg, a second-year snapshot (annual change
 * survey) of the parcels. With --scale or --counties N > 1, N x N such
 * counties form one city or province (one coverage, GeoPackage output,
 * one county per forked child process): see "city and province mosaics".
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
#include "onemap/bbtxt.h"
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/status.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CELL_M 200.0       /* cell size in metres */
#define X0_BASE 42470000.0 /* grid origin: easting with zone prefix 42 */
#define Y0_BASE 4900000.0  /* grid origin: northing (about 44.2°N) */
#define NODE_JITTER 0.15   /* node jitter, in cells */
#define WIGGLE 0.03        /* max edge wiggle amplitude, in cells */
#define ISLAND_R 0.13      /* island radius, in cells */
#define COUNTY_CODE "220189"
#define COUNTY_NAME "示范市"
#define SURVEY_YEAR 2023
#define SURVEY_YEAR2 2024 /* the second-year snapshot (DLTB_2024) */
#define DEFAULT_CELLS 240
#define DEFAULT_SEED 42
#define DEFAULT_SITES 12

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- failure ---- */

/*
 * In mosaic mode each county runs in a forked child: its failures name the
 * county and end with _exit (never exit: the parent's open GDAL datasets
 * must not be closed by the child's exit handlers). The parent's failures
 * first run g_atdie, which stops the children and removes partial output.
 */
static bool g_child;
static char g_where[96]; /* "county 220101 (示范一县): " in a child */
static void (*g_atdie)(void);

static void die(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("synth: ", stderr);
    fputs(g_where, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (g_child) {
        fflush(stderr);
        _exit(1);
    }
    if (g_atdie) {
        void (*f)(void) = g_atdie;
        g_atdie = NULL;
        f();
    }
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

/*
 * g_seed drives everything of one county; g_base (the seed as given)
 * drives the grid geometry shared by all counties of a mosaic (node
 * jitter, edge wiggle, county outlines). In county mode they are equal.
 */
static uint64_t g_seed, g_base;

static uint64_t hash3s(uint64_t seed, uint64_t salt, uint64_t a, uint64_t b)
{
    return mix64(mix64(mix64(seed ^ (salt * 0x632be59bd9b4e019ull)) ^ a) ^ b);
}

static uint64_t hash3(uint64_t salt, uint64_t a, uint64_t b)
{
    return hash3s(g_seed, salt, a, b);
}

/* Uniform in [0, 1). */
static double u01(uint64_t salt, uint64_t a, uint64_t b)
{
    return (double)(hash3(salt, a, b) >> 11) * 0x1.0p-53;
}

/* The same from the base seed: geometry shared across counties. */
static double u01b(uint64_t salt, uint64_t a, uint64_t b)
{
    return (double)(hash3s(g_base, salt, a, b) >> 11) * 0x1.0p-53;
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
    S_ROAD,
    S_GHYT,
    S_SITE,
    S_DEFECT,
    S_COUNTY,
    S_PROV,
    S_CHANGE
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
static bool g_mosaic; /* a county of a city/province mosaic */
static int g_big_red; /* vertices of this county's large red line, or 0 */

/*
 * The window: G is the grid of one county (in a mosaic: a window of the
 * province grid, GW cells wide, whose lower-left cell is (OI,OJ)). Node
 * and edge ids and node coordinates use global indices, so neighbouring
 * counties produce the same shared vertices; X0/Y0 are the window's
 * origin for everything else. County mode: OI = OJ = 0, GW = G.w.
 */
static int OI, OJ, GW;
static double X0 = X0_BASE, Y0 = Y0_BASE;
static char g_code[8] = COUNTY_CODE;  /* county code, 6 digits */
static char g_name[64] = COUNTY_NAME; /* county name */

static size_t cell_id(int i, int j)
{
    return (size_t)j * (size_t)G.w + (size_t)i;
}

static void node_xy(int i, int j, double *x, double *y)
{
    int gi = i + OI, gj = j + OJ;
    uint64_t id = (uint64_t)gj * (uint64_t)(GW + 1) + (uint64_t)gi;
    double jx = NODE_JITTER * (2 * u01b(S_NODE, id, 1) - 1);
    double jy = NODE_JITTER * (2 * u01b(S_NODE, id, 2) - 1);
    *x = round_mm(X0_BASE + CELL_M * (gi + jx));
    *y = round_mm(Y0_BASE + CELL_M * (gj + jy));
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
    uint64_t lo =
        (uint64_t)(lj + OJ) * (uint64_t)(GW + 1) + (uint64_t)(li + OI);
    uint64_t eid = 2 * lo + (lj == hj ? 0u : 1u);
    double ax, ay, bx, by;
    node_xy(li, lj, &ax, &ay);
    node_xy(hi, hj, &bx, &by);
    double u = u01b(S_EDGE, eid, 0);
    int k = 2 + (int)floor(10.999 * u * u); /* 2..12, mostly few */
    double amp = CELL_M * WIGGLE * (0.25 + 0.75 * u01b(S_EDGE, eid, 1));
    double dx = bx - ax, dy = by - ay;
    double len = sqrt(dx * dx + dy * dy);
    double nx = -dy / len, ny = dx / len;
    double inner[2 * 12];
    for (int m = 0; m < k; m++) {
        double t = (m + 1 + 0.7 * (u01b(S_EDGE, eid, 10 + (uint64_t)m) - 0.5)) /
                   (k + 1);
        double off =
            amp * sin(M_PI * t) * (2 * u01b(S_EDGE, eid, 40 + (uint64_t)m) - 1);
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

/* Keep the 4-connected component of the centre cell of `mask` (set to 1)
 * and fill its holes; returns the number of cells kept. */
static size_t clean_mask(uint8_t *mask)
{
    size_t *stack = xmalloc(G.ncells * sizeof(size_t));
    uint8_t *seen = xcalloc(G.ncells, 1);
    size_t ns = 0;
    size_t centre = cell_id(G.w / 2, G.h / 2);
    mask[centre] = 1;
    stack[ns++] = centre;
    seen[centre] = 1;
    while (ns) {
        size_t x = stack[--ns];
        int i = (int)(x % (size_t)G.w), j = (int)(x / (size_t)G.w);
        for (int s = 0; s < 4; s++) {
            size_t y = across(i, j, s);
            if (y != SIZE_MAX && mask[y] && !seen[y]) {
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
    size_t n = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        mask[c] = !out[c];
        n += mask[c];
    }
    free(stack);
    free(seen);
    free(out);
    return n;
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
    K.ncounty = clean_mask(K.mask);
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
        snprintf(T->code, sizeof T->code, "%s%03d", g_code, num % 1000);
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
static uint8_t *JSEL; /* per parcel: in permanent basic farmland */

static uint64_t cell_key(size_t c)
{
    return (uint64_t)K.cls[c] | (uint64_t)K.czcs[c] << 8 |
           (uint64_t)K.grade[c] << 12 | (uint64_t)K.gdlx[c] << 16 |
           (uint64_t)(uint32_t)K.village[c] << 24;
}

static void build_group(size_t c);
static void add_parcel(size_t c);

/*
 * Group the cells into parcels. `keep` (NULL, or per cell: a group id or
 * -1) gives groups to keep as they are (the second year keeps the
 * unchanged parcels of the first): their cells are reserved (-2) and
 * become one parcel when the scan reaches their first cell.
 */
static void build_parcels(const int32_t *keep)
{
    K.parcel = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        K.parcel[c] = keep && keep[c] >= 0 ? -2 : -1;
    }
    size_t cap = 1024;
    P = xmalloc(cap * sizeof *P);
    NP = 0;
    for (size_t c = 0; c < G.ncells; c++) {
        if (!K.mask[c] || K.parcel[c] >= 0) {
            continue;
        }
        if (K.parcel[c] == -2) {
            /* a kept group (4-connected, from its first cell) */
            size_t grp[64];
            int n = 0;
            grp[n++] = c;
            K.parcel[c] = NP;
            for (int m = 0; m < n; m++) {
                int i = (int)(grp[m] % (size_t)G.w),
                    j = (int)(grp[m] / (size_t)G.w);
                for (int k = 0; k < 4; k++) {
                    size_t y = across(i, j, k);
                    if (y != SIZE_MAX && K.parcel[y] == -2 &&
                        keep[y] == keep[c] && n < 64) {
                        K.parcel[y] = NP;
                        grp[n++] = y;
                    }
                }
            }
        } else {
            build_group(c);
        }
        if ((size_t)NP + 2 > cap) {
            cap *= 2;
            P = xrealloc(P, cap * sizeof *P);
        }
        add_parcel(c);
    }
}

/* Grow a new parcel (number NP) from cell c: 1-4 cells of its key. */
static void build_group(size_t c)
{
    double u = u01(S_GROUP, c, 0);
    int target = u < 0.25 ? 1 : u < 0.55 ? 2 : u < 0.78 ? 3 : 4;
    uint64_t key = cell_key(c);
    size_t grp[4];
    int n = 0;
    grp[n++] = c;
    K.parcel[c] = NP;
    /* grow: right, up, left, down of each member in turn */
    for (int m = 0; m < n && n < target; m++) {
        int i = (int)(grp[m] % (size_t)G.w), j = (int)(grp[m] / (size_t)G.w);
        static const int order[4] = {1, 2, 3, 0};
        for (int k = 0; k < 4 && n < target; k++) {
            size_t y = across(i, j, order[k]);
            if (y != SIZE_MAX && K.mask[y] && K.parcel[y] == -1 &&
                cell_key(y) == key) {
                K.parcel[y] = NP;
                grp[n++] = y;
            }
        }
    }
}

/* Add parcel NP starting at cell c (and its island, if it gets one);
 * P has room for two more. */
static void add_parcel(size_t c)
{
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
    bool host = is_cultivated(p->cls) || p->cls == C_0301 || p->cls == C_0305 ||
                p->cls == C_0404;
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
    size_t nparcels, nislands, nxzq, njbnt, nstbhhx, nczkfbj, nghyt, nsites;
    double dltb_planar, dltb_ell, xzq_planar, jbnt_ell;
    size_t dltb_points;
};

/* DLTB of survey year `year`; bsmno/tbbhno give each parcel's BSM
 * sequence number and TBBH (NULL: k + 1, and counted per village). */
static struct om_layer *build_dltb(struct area_calc *ac, struct totals *tot,
                                   int year, const int64_t *bsmno,
                                   const int *tbbhno)
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
        snprintf(buf, sizeof buf, "%s%012lld", g_code,
                 bsmno ? (long long)bsmno[k] : (long long)k + 1);
        set_text(l, fBSM, buf);
        set_text(l, fYSDM, "2001010100");
        snprintf(buf, sizeof buf, "%d",
                 tbbhno ? tbbhno[k] : ++tbbh[p->village]);
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
        set_int(l, fSJNF, year);
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
        snprintf(buf, sizeof buf, "%s%012lld", g_code, (long long)fid);
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
    JSEL = sel; /* kept: GHYT and the sites need it */
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
    int nverts[3] = {40000, 15000, 6000};
    if (g_big_red) {
        nverts[0] = g_big_red; /* a 10^5-10^6 vertex red line */
    }
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
        char buf[160];
        snprintf(buf, sizeof buf, "%s%012d", g_code, k + 1);
        set_text(l, fBSM, buf);
        static const char *const names[] = {
            "水库水源涵养", "东部山地生物多样性维护", "东部丘陵水土保持"};
        snprintf(buf, sizeof buf, "%s%s生态保护红线", g_name, names[k]);
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
        double f = 1;
        if (g_mosaic) {
            /* the star reaches 1.4 R: keep it inside this county, so it
             * never covers a neighbouring county's parcels */
            double x = (double)(T->seat % (size_t)G.w) + 0.5;
            double y = (double)(T->seat / (size_t)G.w) + 0.5;
            while (f > 0.03 &&
                   !disc_in_county(x, y, 1.45 * T->radius * 1.45 * f)) {
                f *= 0.85;
            }
        }
        poly_reset(&poly);
        star_ring(500 + (uint64_t)k, cell_cx(T->seat), cell_cy(T->seat),
                  CELL_M * T->radius * 1.45 * f, k == 0 ? 1500 : 500, 10,
                  &ring);
        poly_add_ring(&poly, &ring);
        check(om_layer_begin_feature(l, ++fid, &err), &err, "layer");
        double ell, planar;
        add_poly(l, &poly, ac, &ell, &planar);
        char buf[64];
        snprintf(buf, sizeof buf, "%s%012lld", g_code, (long long)fid);
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

/* ---- planned land use (GHYT 规划用途) ----
 *
 * One feature per DLTB parcel, with the parcel's exact geometry, so GHYT is
 * a clean coverage sharing every edge with DLTB. The planned code is:
 *   - parcels the urban development boundary covers (GEOS relate), except
 *     basic farmland, water and highways: an urban class picked per
 *     cluster of a warped Voronoi field (clusters of ~3 x 3 cells);
 *   - elsewhere the 三调 -> 用地用海 crosswalk of the DLBM (its first
 *     alternative where the crosswalk gives only a 一级类: plans are drawn
 *     in 二级类), with planned village expansion 0703 on cultivated land
 *     round villages and industrial land 1001 round township seats;
 *   - on purpose, a few conflicts: planned village land on three basic
 *     farmland parcels (rule R006) and planned industry on two forest or
 *     grass parcels inside the ecological red line (R005).
 */

struct zones {
    uint8_t *in_czk;   /* per parcel: covered by an urban boundary */
    uint8_t *meet_czk; /* per parcel: interiors meet an urban boundary */
    uint8_t *red;      /* per parcel: interiors meet a red line */
    const char **ghyt; /* per parcel: planned 用地用海 code (static) */
    int nconf_jbnt, nconf_red;
    int conf_jbnt[8], conf_red[8]; /* parcels of the deliberate conflicts */
};

static struct zones Z;

static const struct {
    const char *code;
    double w;
} urban_mix[] = {{"0701", 0.33}, {"0702", 0.03}, {"0901", 0.12}, {"1001", 0.16},
                 {"1101", 0.05}, {"0801", 0.04}, {"0804", 0.04}, {"0806", 0.02},
                 {"1401", 0.12}, {"1402", 0.04}, {"1403", 0.02}, {"16", 0.03}};
#define NURBAN (sizeof urban_mix / sizeof urban_mix[0])

static char ghyt_base[NCLS][8];

static const char *ydyh_name(const char *code)
{
    const struct om_code *c = om_code_find(OM_CODES_YDYH, code);
    if (!c) {
        die("用地用海 code %s is not in the code table", code);
    }
    return c->name_zh;
}

static void init_ghyt_codes(void)
{
    for (int c = 0; c < NCLS; c++) {
        const struct om_code_xwalk *x = om_dlbm_xwalk(cls_code[c]);
        if (!x) {
            die("DLBM %s has no crosswalk row", cls_code[c]);
        }
        const char *code = x->ydyh;
        size_t n = strlen(code);
        if (n == 2 && x->alternatives[0]) {
            code = x->alternatives;
            n = strcspn(code, " ");
        }
        if (n >= sizeof ghyt_base[c]) {
            die("crosswalk code too long for %s", cls_code[c]);
        }
        memcpy(ghyt_base[c], code, n);
        ghyt_base[c][n] = 0;
        (void)ydyh_name(ghyt_base[c]);
    }
    for (size_t k = 0; k < NURBAN; k++) {
        (void)ydyh_name(urban_mix[k].code);
    }
}

static const char *urban_class(double x, double y)
{
    double sp = 3.0;
    int nlx = (int)ceil(G.w / sp) + 1;
    uint64_t id = nearest_seed(S_GHYT, x, y, sp, nlx);
    double u = u01(S_GHYT, id, 7), acc = 0;
    for (size_t k = 0; k < NURBAN; k++) {
        acc += urban_mix[k].w;
        if (u < acc) {
            return urban_mix[k].code;
        }
    }
    return urban_mix[0].code;
}

/* Relate every parcel to every feature of `zone` with GEOS: covered[k]
 * when a feature covers parcel k, meet[k] when their interiors meet. */
static void relate_parcels(struct om_polyops *ops, const struct om_layer *dltb,
                           const struct om_layer *zone, uint8_t *covered,
                           uint8_t *meet)
{
    struct om_error err;
    struct om_layer_view dv, zv;
    om_layer_view(dltb, &dv);
    om_layer_view(zone, &zv);
    for (size_t f = 0; f < zv.nfeatures; f++) {
        struct om_prepared *pr;
        check(om_polyops_prepare(ops, &zv, f, &pr, &err), &err, "prepare");
        for (size_t k = 0; k < dv.nfeatures; k++) {
            if (!om_rect_intersects(dv.bbox[k], zv.bbox[f])) {
                continue;
            }
            int rel;
            check(om_prepared_relate(ops, pr, &dv, k, &rel, &err), &err,
                  "relate");
            if (rel == OM_REL_COVERS && covered) {
                covered[k] = 1;
            }
            if (rel != OM_REL_DISJOINT && meet) {
                meet[k] = 1;
            }
        }
        om_prepared_free(ops, pr);
    }
}

/*
 * The same without GEOS for a layer of huge polygons (the red lines: a
 * GEOS relate rebuilds a 40,000-vertex edge graph for every parcel): ring
 * edges in chunks of 64 with boxes. A parcel whose box meets no chunk box
 * lies wholly inside or outside (point in polygon of its first vertex);
 * one whose box meets a chunk box is taken as meeting, never as covered:
 * `meet` errs on the safe side, `covered` is exact where set.
 */
#define CHUNK 64

static bool ring_contains(const double *xy, size_t n, const struct om_rect *box,
                          size_t nch, double px, double py)
{
    bool in = false;
    for (size_t c = 0; c < nch; c++) {
        if (py < box[c].miny || py >= box[c].maxy || box[c].maxx < px) {
            continue;
        }
        size_t e = (c + 1) * CHUNK < n - 1 ? (c + 1) * CHUNK : n - 1;
        for (size_t i = c * CHUNK; i < e; i++) {
            double ax = xy[2 * i], ay = xy[2 * i + 1];
            double bx = xy[2 * i + 2], by = xy[2 * i + 3];
            if ((ay > py) != (by > py) &&
                px < ax + (py - ay) * (bx - ax) / (by - ay)) {
                in = !in;
            }
        }
    }
    return in;
}

static void locate_parcels(const struct om_layer *dltb,
                           const struct om_layer *zone, uint8_t *covered,
                           uint8_t *meet)
{
    struct om_layer_view dv, zv;
    om_layer_view(dltb, &dv);
    om_layer_view(zone, &zv);
    for (size_t f = 0; f < zv.nfeatures; f++) {
        size_t r0 = zv.ring_start[zv.part_start[f]];
        size_t r1 = zv.ring_start[zv.part_start[f + 1]];
        size_t nr = r1 - r0;
        struct om_rect **box = xcalloc(nr, sizeof *box);
        size_t *nch = xcalloc(nr, sizeof *nch);
        for (size_t r = 0; r < nr; r++) {
            size_t a = zv.point_start[r0 + r],
                   n = zv.point_start[r0 + r + 1] - a;
            nch[r] = (n - 1 + CHUNK - 1) / CHUNK;
            box[r] = xmalloc(nch[r] * sizeof **box);
            for (size_t c = 0; c < nch[r]; c++) {
                struct om_rect b = om_rect_empty();
                size_t e = (c + 1) * CHUNK < n - 1 ? (c + 1) * CHUNK : n - 1;
                for (size_t i = c * CHUNK; i <= e; i++) {
                    struct om_rect p = {
                        zv.xy[2 * (a + i)], zv.xy[2 * (a + i) + 1],
                        zv.xy[2 * (a + i)], zv.xy[2 * (a + i) + 1]};
                    b = om_rect_union(b, p);
                }
                box[r][c] = b;
            }
        }
        for (size_t k = 0; k < dv.nfeatures; k++) {
            if (!om_rect_intersects(dv.bbox[k], zv.bbox[f])) {
                continue;
            }
            bool near = false;
            for (size_t r = 0; r < nr && !near; r++) {
                for (size_t c = 0; c < nch[r] && !near; c++) {
                    near = om_rect_intersects(dv.bbox[k], box[r][c]);
                }
            }
            if (near) {
                meet[k] = 1;
                continue;
            }
            const double *p =
                dv.xy + 2 * dv.point_start[dv.ring_start[dv.part_start[k]]];
            bool in = true;
            for (size_t r = 0; r < nr && in; r++) {
                size_t a = zv.point_start[r0 + r],
                       n = zv.point_start[r0 + r + 1] - a;
                bool c =
                    ring_contains(zv.xy + 2 * a, n, box[r], nch[r], p[0], p[1]);
                in = r == 0 ? c : !c;
            }
            if (in) {
                meet[k] = 1;
                covered[k] = 1;
            }
        }
        for (size_t r = 0; r < nr; r++) {
            free(box[r]);
        }
        free(box);
        free(nch);
    }
}

static double cell_dist(size_t a, size_t b)
{
    double dx = (double)(a % (size_t)G.w) - (double)(b % (size_t)G.w);
    double dy = (double)(a / (size_t)G.w) - (double)(b / (size_t)G.w);
    return sqrt(dx * dx + dy * dy);
}

/* The cell a parcel is judged by: its first cell, or its host's. */
static size_t parcel_cell(int k)
{
    return P[k].island_of >= 0 ? P[P[k].island_of].start : P[k].start;
}

/* Pick up to `want` parcels with pred(k) true, in hash order. */
static int pick_parcels(bool (*pred)(int), uint64_t salt, int want, int *out)
{
    int n = 0;
    uint64_t hv[8];
    for (int k = 0; k < NP; k++) {
        if (!pred(k)) {
            continue;
        }
        uint64_t h = hash3(S_GHYT, salt, (uint64_t)k);
        int pos;
        if (n < want) {
            pos = n++;
        } else if (h < hv[want - 1]) {
            pos = want - 1;
        } else {
            continue;
        }
        while (pos > 0 && hv[pos - 1] > h) {
            hv[pos] = hv[pos - 1];
            out[pos] = out[pos - 1];
            pos--;
        }
        hv[pos] = h;
        out[pos] = k;
    }
    return n;
}

static bool near_village(int k)
{
    size_t c = parcel_cell(k);
    return cell_dist(c, K.vils[K.village[c]].seat) <= 3.0;
}

static bool conflict_jbnt_pred(int k)
{
    return JSEL[k] && P[k].island_of < 0 && !Z.red[k] && !Z.meet_czk[k] &&
           near_village(k);
}

static bool conflict_red_pred(int k)
{
    int c = P[k].cls;
    return Z.in_czk[k] == 0 && P[k].island_of < 0 && P[k].island < 0 &&
           !JSEL[k] &&
           (c == C_0301 || c == C_0305 || c == C_0307 || c == C_0404);
}

static uint8_t *RED_COVER; /* per parcel: covered by a red line */

static bool conflict_red_pred2(int k)
{
    return RED_COVER[k] && conflict_red_pred(k);
}

static void plan_ghyt(struct om_polyops *ops, const struct om_layer *dltb,
                      const struct om_layer *czkfbj,
                      const struct om_layer *stbhhx)
{
    init_ghyt_codes();
    Z.in_czk = xcalloc((size_t)NP, 1);
    Z.meet_czk = xcalloc((size_t)NP, 1);
    Z.red = xcalloc((size_t)NP, 1);
    RED_COVER = xcalloc((size_t)NP, 1);
    Z.ghyt = xcalloc((size_t)NP, sizeof(char *));
    relate_parcels(ops, dltb, czkfbj, Z.in_czk, Z.meet_czk);
    locate_parcels(dltb, stbhhx, RED_COVER, Z.red);
    for (int k = 0; k < NP; k++) {
        const struct parcel *p = &P[k];
        int cl = p->cls;
        size_t c = parcel_cell(k);
        double x = (double)(c % (size_t)G.w) + 0.5;
        double y = (double)(c / (size_t)G.w) + 0.5;
        bool keep = cl == C_1101 || cl == C_1103 || cl == C_1104 ||
                    cl == C_1003 || cl == C_1004 || JSEL[k];
        const char *code = ghyt_base[cl];
        if (Z.in_czk[k] && !keep) {
            code = urban_class(x, y);
        } else if (!Z.meet_czk[k] && !JSEL[k] && !Z.red[k] &&
                   is_cultivated(cl)) {
            const struct village *V = &K.vils[K.village[c]];
            const struct town *T = &K.towns[V->town];
            double dt = cell_dist(c, T->seat);
            if (cell_dist(c, V->seat) <= 3.0 &&
                u01(S_GHYT, (uint64_t)k, 1) < 0.5) {
                code = "0703"; /* planned village expansion */
            } else if (T->kind != 0 && dt > T->radius &&
                       dt <= T->radius + 4.0 &&
                       u01(S_GHYT, (uint64_t)k, 2) < 0.3) {
                code = "1001"; /* township industrial land */
            }
        }
        Z.ghyt[k] = code;
    }
    Z.nconf_jbnt = pick_parcels(conflict_jbnt_pred, 1, 3, Z.conf_jbnt);
    for (int m = 0; m < Z.nconf_jbnt; m++) {
        Z.ghyt[Z.conf_jbnt[m]] = "0703";
    }
    Z.nconf_red = pick_parcels(conflict_red_pred2, 2, 2, Z.conf_red);
    for (int m = 0; m < Z.nconf_red; m++) {
        Z.ghyt[Z.conf_red[m]] = "1001";
    }
}

/* Append feature `k` of view `v` to the current feature of `l`. */
static void copy_geometry(struct om_layer *l, const struct om_layer_view *v,
                          size_t k)
{
    struct om_error err;
    for (size_t p = v->part_start[k]; p < v->part_start[k + 1]; p++) {
        check(om_layer_begin_part(l, &err), &err, "layer");
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            check(om_layer_add_ring(l, v->xy + 2 * a, b - a, &err), &err,
                  "layer");
        }
    }
}

static struct om_layer *build_ghyt(const struct om_layer *dltb,
                                   struct totals *tot)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("GHYT", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fBSM = add_field(l, "BSM", OM_FIELD_TEXT);
    int fDM = add_field(l, "YDYHFLDM", OM_FIELD_TEXT);
    int fMC = add_field(l, "YDYHFLMC", OM_FIELD_TEXT);
    int fXZQ = add_field(l, "XZQDM", OM_FIELD_TEXT);
    struct om_layer_view v;
    om_layer_view(dltb, &v);
    if (v.nfeatures != (size_t)NP) {
        die("internal: DLTB has %zu features for %d parcels", v.nfeatures, NP);
    }
    char buf[64];
    for (int k = 0; k < NP; k++) {
        check(om_layer_begin_feature(l, k + 1, &err), &err, "layer");
        copy_geometry(l, &v, (size_t)k);
        snprintf(buf, sizeof buf, "%s%012d", g_code, k + 1);
        set_text(l, fBSM, buf);
        set_text(l, fDM, Z.ghyt[k]);
        set_text(l, fMC, ydyh_name(Z.ghyt[k]));
        set_text(l, fXZQ, K.towns[K.town[parcel_cell(k)]].code);
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    tot->nghyt = (size_t)NP;
    return l;
}

/* ---- the second-year snapshot (年度变更调查 2024) ----
 *
 * Realistic annual change, about 1-2 % of the cells: towns grow into
 * 30 % of the cultivated and village cells next to their cores (urban
 * classes), some sloping cultivated land is returned to forest or
 * grass in clustered patches (退耕还林还草), some grass, bare or other
 * forest land becomes cultivated in patches (补充耕地), and a road is
 * built from a township seat towards its nearest neighbour (at most
 * 4 km of it this year). The parcels are then regrouped from the changed
 * cells with the same rules and traced the same way, so year 2 is a clean
 * coverage too and shares every unchanged boundary exactly. A year-2
 * parcel with exactly the cell set and attributes of a year-1 parcel
 * keeps its BSM and TBBH; the others get new numbers after the county's
 * year-1 maximum (per village for TBBH).
 */

/* Turn cell c into class cl (grade/gdlx for cultivated land). */
static void change_cell(size_t c, int cl, int czcs, int grade, int gdlx)
{
    K.cls[c] = (uint8_t)cl;
    K.czcs[c] = (uint8_t)czcs;
    K.grade[c] = (uint8_t)grade;
    K.gdlx[c] = (uint8_t)gdlx;
}

/* Clustered patches: npatch discs of radius 1.5-3 cells round seeds
 * whose class passes `seed_ok`; cells in a disc that pass `cell_ok2`
 * change to what `to` says. Returns the number of changed cells. */
static size_t change_patches(uint64_t salt, int npatch, bool (*seed_ok)(size_t),
                             void (*to)(size_t))
{
    size_t nch = 0;
    for (int m = 0, tries = 0; m < npatch && tries < 100000; tries++) {
        size_t c = (size_t)(hash3(S_CHANGE, salt, (uint64_t)tries) % G.ncells);
        if (!K.mask[c] || !seed_ok(c)) {
            continue;
        }
        m++;
        int si = (int)(c % (size_t)G.w), sj = (int)(c / (size_t)G.w);
        double r = 1.5 + 1.5 * u01(S_CHANGE, salt + 1, (uint64_t)tries);
        int R = (int)ceil(r * 1.3);
        for (int j = sj - R; j <= sj + R; j++) {
            for (int i = si - R; i <= si + R; i++) {
                if (i < 0 || j < 0 || i >= G.w || j >= G.h) {
                    continue;
                }
                size_t x = cell_id(i, j);
                double d =
                    sqrt((double)((i - si) * (i - si) + (j - sj) * (j - sj)));
                d *= 1 + 0.6 * (fbm(S_CHANGE + 2, i + 0.5, j + 0.5, 1.7) - 0.5);
                if (d <= r && K.mask[x] && seed_ok(x)) {
                    to(x);
                    nch++;
                }
            }
        }
    }
    return nch;
}

static bool returnable(size_t c)
{
    return is_cultivated(K.cls[c]) && K.czcs[c] == Z_NONE && K.grade[c] >= 2;
}

static void to_forest(size_t c)
{
    double x = (double)(c % (size_t)G.w) + 0.5;
    double y = (double)(c / (size_t)G.w) + 0.5;
    change_cell(c, elevation(x, y) > 0.45 ? C_0301 : C_0404, Z_NONE, 0, 0);
}

static bool reclaimable(size_t c)
{
    int cl = K.cls[c];
    return K.czcs[c] == Z_NONE &&
           (cl == C_0404 || cl == C_1206 || cl == C_0307);
}

static void to_cultivated(size_t c)
{
    change_cell(c, C_0103, Z_NONE, 2, 1);
}

/* Change the cells; part[] receives how many changed by town growth,
 * 退耕, 补充耕地 and the new road; returns the total. */
static size_t change_cells(size_t part[4])
{
    size_t nch = 0;
    /* towns grow: 30 % of the cultivated and village cells next to a
     * core cell of year 1 */
    uint8_t *core = xcalloc(G.ncells, 1);
    for (size_t c = 0; c < G.ncells; c++) {
        core[c] = K.czcs[c] == Z_201 || K.czcs[c] == Z_202;
    }
    for (int pass = 0; pass < 1; pass++) {
        uint8_t *grow = xcalloc(G.ncells, 1);
        for (size_t c = 0; c < G.ncells; c++) {
            int cl = K.cls[c];
            if (!K.mask[c] || core[c] ||
                !(is_cultivated(cl) || cl == C_0702 || cl == C_1202)) {
                continue;
            }
            int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
            int t = -1;
            for (int s = 0; s < 4 && t < 0; s++) {
                size_t n = across(i, j, s);
                if (n != SIZE_MAX && core[n]) {
                    t = K.town[n];
                }
            }
            if (t < 0 || (pass == 1 && K.towns[t].kind != 0) ||
                u01(S_CHANGE, c, (uint64_t)pass) >= 0.3) {
                continue;
            }
            grow[c] = 1;
            double h = u01(S_CHANGE, c, 10);
            int ncl = h < 0.45   ? C_0701
                      : h < 0.65 ? C_05H1
                      : h < 0.90 ? C_0601
                                 : C_1003;
            change_cell(c, ncl, K.towns[t].kind == 0 ? Z_201 : Z_202, 0, 0);
            nch++;
        }
        for (size_t c = 0; c < G.ncells; c++) {
            core[c] |= grow[c];
        }
        free(grow);
    }
    free(core);
    part[0] = nch;
    int npatch = (int)(K.ncounty / 1500) + 1;
    part[1] = change_patches(1, npatch, returnable, to_forest);
    part[2] = change_patches(3, npatch, reclaimable, to_cultivated);
    nch += part[1] + part[2];
    part[3] = 0;
    /* a new road between the two nearest township seats (not the county
     * town, whose roads exist) */
    int ba = -1, bb = -1;
    double bd = 1e300;
    for (int a = 0; a < K.ntowns; a++) {
        for (int b = a + 1; b < K.ntowns; b++) {
            if (K.towns[a].kind == 0 || K.towns[b].kind == 0) {
                continue;
            }
            double d = cell_dist(K.towns[a].seat, K.towns[b].seat);
            if (d < bd) {
                bd = d;
                ba = a;
                bb = b;
            }
        }
    }
    if (ba >= 0) {
        uint8_t *before = xmalloc(G.ncells);
        memcpy(before, K.cls, G.ncells);
        /* this year's section: at most 20 cells (4 km) from seat a */
        size_t a = K.towns[ba].seat, b = K.towns[bb].seat;
        if (bd > 20) {
            double f = 20 / bd;
            int ai = (int)(a % (size_t)G.w), aj = (int)(a / (size_t)G.w);
            int bi = (int)(b % (size_t)G.w), bj = (int)(b / (size_t)G.w);
            b = cell_id(ai + (int)lround(f * (bi - ai)),
                        aj + (int)lround(f * (bj - aj)));
        }
        draw_road(a, b, C_1003, true);
        for (size_t c = 0; c < G.ncells; c++) {
            part[3] += before[c] != K.cls[c];
        }
        free(before);
    }
    return nch + part[3];
}

/* Change the county and build year 2's DLTB; frees year 1's parcels. */
static struct om_layer *build_year2(struct area_calc *ac, struct totals *tot,
                                    size_t nchanged[4])
{
    struct parcel *P1 = P;
    int NP1 = NP;
    int32_t *parcel1 = K.parcel;
    /* year 1's TBBH, as build_dltb numbered them */
    int *vmax = xcalloc((size_t)K.nvils, sizeof(int));
    int *tb1 = xmalloc((size_t)NP1 * sizeof(int));
    for (int k = 0; k < NP1; k++) {
        tb1[k] = ++vmax[P1[k].village];
    }
    /* the year-1 keys: parcels none of whose cells change are kept */
    uint64_t *key1 = xmalloc(G.ncells * sizeof(uint64_t));
    for (size_t c = 0; c < G.ncells; c++) {
        key1[c] = cell_key(c);
    }
    (void)change_cells(nchanged);
    uint8_t *dirty = xcalloc((size_t)NP1, 1);
    for (size_t c = 0; c < G.ncells; c++) {
        if (parcel1[c] >= 0 && cell_key(c) != key1[c]) {
            dirty[parcel1[c]] = 1;
        }
    }
    int32_t *keep = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        keep[c] = parcel1[c] >= 0 && !dirty[parcel1[c]] ? parcel1[c] : -1;
    }
    build_parcels(keep);
    free(key1);
    free(dirty);
    free(keep);
    /* match year-2 parcels to year-1 parcels by cell set and attributes */
    size_t *n1 = xcalloc((size_t)NP1, sizeof(size_t));
    size_t *n2 = xcalloc((size_t)NP, sizeof(size_t));
    uint8_t *bad = xcalloc((size_t)NP, 1);
    for (size_t c = 0; c < G.ncells; c++) {
        if (parcel1[c] >= 0) {
            n1[parcel1[c]]++;
        }
        int k = K.parcel[c];
        if (k >= 0) {
            n2[k]++;
            if (parcel1[c] != parcel1[P[k].start]) {
                bad[k] = 1;
            }
        }
    }
    int64_t *bsm = xmalloc((size_t)NP * sizeof(int64_t));
    int *tb = xmalloc((size_t)NP * sizeof(int));
    int *old = xmalloc((size_t)NP * sizeof(int));
    int64_t next = NP1;
    for (int k = 0; k < NP; k++) {
        const struct parcel *p = &P[k];
        int o = -1;
        if (p->island_of >= 0) {
            int h = old[p->island_of];
            o = h >= 0 ? P1[h].island : -1;
        } else {
            int c = parcel1[p->start];
            const struct parcel *q = &P1[c];
            if (!bad[k] && q->start == p->start && n1[c] == n2[k] &&
                q->cls == p->cls && q->czcs == p->czcs &&
                q->grade == p->grade && q->gdlx == p->gdlx &&
                q->village == p->village &&
                (q->island >= 0) == (p->island >= 0)) {
                o = c;
            }
        }
        old[k] = o;
        if (o >= 0) {
            bsm[k] = o + 1;
            tb[k] = tb1[o];
        } else {
            bsm[k] = ++next;
            tb[k] = ++vmax[p->village];
        }
    }
    struct om_layer *l = build_dltb(ac, tot, SURVEY_YEAR2, bsm, tb);
    free(vmax);
    free(tb1);
    free(n1);
    free(n2);
    free(bad);
    free(bsm);
    free(tb);
    free(old);
    free(P1);
    free(parcel1);
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

/* ---- construction sites (部标 TXT) ----
 *
 * DIR/sites/siteNN.txt: the project boundaries a reviewer meets, each
 * designed on the cell grid to show one case (see docs/SAMPLE-DATA.md):
 * parcels are placed inside cells whose parcels have the wanted
 * properties, with a margin of 0.2 cell, which the jittered and wiggled
 * cell edges (at most 0.18 cell off the nominal grid) never reach. The
 * expected decisions in sites/README.md and sites/expected.csv are then
 * measured exactly with GEOS, as the review profiles of the default rule
 * set define them, so they never rest on the design alone.
 */

#define SITE_MAX_PARCELS 3
#define NDESIGNS 12
#define SITE_TOL_M2 1.0 /* the profiles' default tolerance */

struct site_parcel {
    struct poly poly;
    char name[360];
    char use[16];  /* 地块用途 as written */
    char dlbm[16]; /* 地类编码 as written, "" none */
    char ydyh[16]; /* the 用地用海 code a review uses */
    char code[16]; /* 地块编号 */
    double area, jbnt, red, cult, out_czk, purpose, out_county;
    int dec[3]; /* default, urban, linear */
    size_t nvertices;
};

struct site {
    char file[32];
    char project[320];
    const char *zh, *en; /* what it is designed to show */
    int nparcels;
    struct site_parcel parcel[SITE_MAX_PARCELS];
    int dec[3];
};

static uint8_t *USED; /* per cell: taken by a site, with a 1-cell margin */

enum {
    Q_CZK = 1u,     /* parcel covered by an urban development boundary */
    Q_NOCZK = 2u,   /* parcel does not meet any boundary */
    Q_CULT = 4u,    /* cultivated (0101-0103) */
    Q_NOCULT = 8u,  /* not cultivated */
    Q_FARM = 16u,   /* permanent basic farmland */
    Q_NOFARM = 32u, /* not permanent basic farmland */
    Q_NORED = 64u,  /* parcel does not meet a red line */
    Q_URBAN_OK = Q_CZK | Q_NOCULT | Q_NOFARM | Q_NORED
};

static bool cell_ok(int i, int j, unsigned q, const char *ghyt)
{
    if (i < 0 || j < 0 || i >= G.w || j >= G.h) {
        return false;
    }
    size_t c = cell_id(i, j);
    if (!K.mask[c] || USED[c]) {
        return false;
    }
    int k = K.parcel[c];
    const struct parcel *p = &P[k];
    if (p->island >= 0 && p->start == c) {
        return false; /* holds an island parcel of another class */
    }
    bool cult = is_cultivated(p->cls);
    return !((q & Q_CZK) && !Z.in_czk[k]) &&
           !((q & Q_NOCZK) && Z.meet_czk[k]) && !((q & Q_CULT) && !cult) &&
           !((q & Q_NOCULT) && cult) && !((q & Q_FARM) && !JSEL[k]) &&
           !((q & Q_NOFARM) && JSEL[k]) && !((q & Q_NORED) && Z.red[k]) &&
           !(ghyt && strcmp(Z.ghyt[k], ghyt) != 0);
}

struct blockq {
    int w, h;
    unsigned q;
    const char *ghyt; /* wanted planned code, NULL any */
    bool uniform;     /* all cells of one planned code */
    size_t near;      /* SIZE_MAX, or prefer anchors nearest this cell */
    double maxd;
    int prefer_kind; /* -1, or prefer townships of this kind */
};

/* The anchor (lower-left cell) of a w x h block meeting `b`, least hash
 * first (nearest first when b->near is set). */
static bool find_block(const struct blockq *b, uint64_t salt, int *oi, int *oj)
{
    double best = 1e300;
    bool found = false;
    for (int j = 0; j + b->h <= G.h; j++) {
        for (int i = 0; i + b->w <= G.w; i++) {
            size_t c0 = cell_id(i, j);
            if (!K.mask[c0]) {
                continue;
            }
            double score = u01(S_SITE, salt, c0);
            if (b->near != SIZE_MAX) {
                double d = cell_dist(c0, b->near);
                if (d > b->maxd || d < 2.0) {
                    continue;
                }
                score += floor(d);
            }
            if (b->prefer_kind >= 0 &&
                K.towns[K.town[c0]].kind != b->prefer_kind) {
                score += 1000;
            }
            if (score >= best) {
                continue;
            }
            const char *g = b->ghyt;
            bool ok = true;
            for (int dj = 0; dj < b->h && ok; dj++) {
                for (int di = 0; di < b->w && ok; di++) {
                    ok = cell_ok(i + di, j + dj, b->q, g);
                    if (ok && b->uniform && !g) {
                        g = Z.ghyt[K.parcel[cell_id(i + di, j + dj)]];
                    }
                }
            }
            if (ok) {
                best = score;
                *oi = i;
                *oj = j;
                found = true;
            }
        }
    }
    return found;
}

static void use_cells(int i0, int j0, int i1, int j1)
{
    for (int j = j0 - 1; j <= j1 + 1; j++) {
        for (int i = i0 - 1; i <= i1 + 1; i++) {
            if (i >= 0 && j >= 0 && i < G.w && j < G.h) {
                USED[cell_id(i, j)] = 1;
            }
        }
    }
}

static void use_box(double x0, double y0, double x1, double y1)
{
    use_cells((int)floor((x0 - X0) / CELL_M), (int)floor((y0 - Y0) / CELL_M),
              (int)floor((x1 - X0) / CELL_M), (int)floor((y1 - Y0) / CELL_M));
}

/* Whether every cell under the box is in the county, free and passes q. */
static bool box_ok(double x0, double y0, double x1, double y1, unsigned q)
{
    int i0 = (int)floor((x0 - X0) / CELL_M),
        j0 = (int)floor((y0 - Y0) / CELL_M);
    int i1 = (int)floor((x1 - X0) / CELL_M),
        j1 = (int)floor((y1 - Y0) / CELL_M);
    for (int j = j0; j <= j1; j++) {
        for (int i = i0; i <= i1; i++) {
            if (i < 0 || j < 0 || i >= G.w || j >= G.h) {
                return false;
            }
            size_t c = cell_id(i, j);
            int k = K.parcel[c];
            if (!K.mask[c] || USED[c] || ((q & Q_NORED) && Z.red[k]) ||
                ((q & Q_NOCZK) && Z.meet_czk[k])) {
                return false;
            }
        }
    }
    return true;
}

static void ring_rect(struct pts *r, double x0, double y0, double x1, double y1)
{
    r->n = 0;
    pts_push(r, round_mm(x0), round_mm(y0));
    pts_push(r, round_mm(x1), round_mm(y0));
    pts_push(r, round_mm(x1), round_mm(y1));
    pts_push(r, round_mm(x0), round_mm(y1));
    pts_push(r, round_mm(x0), round_mm(y0));
}

/* A rectangle inside block (i,j,w,h), each side 0.2-0.3 cell in. */
static void block_rect(struct site_parcel *sp, struct pts *tmp, uint64_t salt,
                       int i, int j, int w, int h)
{
    double m[4];
    for (int k = 0; k < 4; k++) {
        m[k] = 0.2 + 0.1 * u01(S_SITE, salt, 50 + (uint64_t)k);
    }
    ring_rect(tmp, X0 + CELL_M * (i + m[0]), Y0 + CELL_M * (j + m[1]),
              X0 + CELL_M * (i + w - m[2]), Y0 + CELL_M * (j + h - m[3]));
    poly_add_ring(&sp->poly, tmp);
}

static void set_use(struct site_parcel *sp, const char *ydyh)
{
    snprintf(sp->use, sizeof sp->use, "%s", ydyh);
    snprintf(sp->ydyh, sizeof sp->ydyh, "%s", ydyh);
    sp->dlbm[0] = 0;
}

static const char *town_at(size_t c)
{
    return K.towns[K.town[c]].name;
}

/* The town seat of kind 1 nearest the county seat with a straight line
 * inside the county, as (a, b). */
static bool road_ends(size_t *a, size_t *b)
{
    int seat = -1;
    for (int t = 0; t < K.ntowns; t++) {
        if (K.towns[t].kind == 0) {
            seat = t;
        }
    }
    if (seat < 0) {
        return false;
    }
    *a = K.towns[seat].seat;
    double best = 1e300;
    bool found = false;
    for (int t = 0; t < K.ntowns; t++) {
        if (t == seat) {
            continue;
        }
        size_t c = K.towns[t].seat;
        double d = cell_dist(*a, c);
        if (d < 15 || d >= best) {
            continue;
        }
        bool ok = true;
        for (int s = 0; s <= 200 && ok; s++) {
            double f = s / 200.0;
            double x = (double)(*a % (size_t)G.w) * (1 - f) +
                       (double)(c % (size_t)G.w) * f + 0.5;
            double y = (double)(*a / (size_t)G.w) * (1 - f) +
                       (double)(c / (size_t)G.w) * f + 0.5;
            int ci = (int)x, cj = (int)y;
            for (int dj = -2; dj <= 2 && ok; dj++) {
                for (int di = -2; di <= 2 && ok; di++) {
                    int i = ci + di, j = cj + dj;
                    ok = i >= 0 && j >= 0 && i < G.w && j < G.h &&
                         K.mask[cell_id(i, j)];
                }
            }
        }
        if (ok) {
            best = d;
            *b = c;
            found = true;
        }
    }
    return found;
}

/* A corridor `width` m wide along a meandering line from cell a to cell b,
 * a vertex every ~4 m on either side. */
static void road_ring(size_t a, size_t b, double width, uint64_t salt,
                      struct pts *out)
{
    double ax = cell_cx(a), ay = cell_cy(a), bx = cell_cx(b), by = cell_cy(b);
    double dx = bx - ax, dy = by - ay, len = sqrt(dx * dx + dy * dy);
    double nx = -dy / len, ny = dx / len;
    double amp = 120 + 60 * u01(S_SITE, salt, 1);
    double waves = floor(len / 1500) + 1;
    double ph = M_PI * u01(S_SITE, salt, 2);
    int n = (int)(len / 4.0);
    struct pts c = {0};
    for (int s = 0; s <= n; s++) {
        double t = (double)s / n;
        double off = amp * sin(M_PI * t) * sin(2 * M_PI * waves * t + ph) -
                     amp * sin(M_PI * t) * sin(ph) * (1 - t);
        pts_push(&c, ax + t * dx + off * nx, ay + t * dy + off * ny);
    }
    out->n = 0;
    for (int side = 0; side < 2; side++) {
        for (int s0 = 0; s0 <= n; s0++) {
            int s = side == 0 ? s0 : n - s0;
            int sa = s > 0 ? s - 1 : s, sb = s < n ? s + 1 : s;
            double tx = c.xy[2 * sb] - c.xy[2 * sa];
            double ty = c.xy[2 * sb + 1] - c.xy[2 * sa + 1];
            double tl = sqrt(tx * tx + ty * ty);
            double h = (side == 0 ? -0.5 : 0.5) * width;
            pts_push(out, round_mm(c.xy[2 * s] - h * ty / tl),
                     round_mm(c.xy[2 * s + 1] + h * tx / tl));
        }
    }
    pts_push(out, out->xy[0], out->xy[1]);
    if (ring_area(out->xy, out->n) < 0) {
        reverse_ring(out->xy, out->n);
    }
    free(c.xy);
}

struct site_ctx {
    struct om_polyops *ops;
    const struct om_layer *dltb, *jbnt, *stbhhx, *czkfbj;
    struct om_layer *scratch;
    struct pts tmp;
};

/* Design d: fill s (parcels, names); false when it finds no place. */
static bool design_site(struct site_ctx *sc, int d, int rep, struct site *s)
{
    uint64_t salt = (uint64_t)d + 100u * (uint64_t)rep;
    struct pts *tmp = &sc->tmp;
    int i = 0, j = 0;
    struct site_parcel *sp = &s->parcel[0];
    s->nparcels = 1;
    switch (d) {
    case 0: { /* industrial park on planned industrial land in the boundary */
        static const int wh[][2] = {{3, 2}, {2, 3}, {2, 2}, {2, 1}, {1, 1}};
        struct blockq b = {0, 0, Q_URBAN_OK, "1001", true, SIZE_MAX, 0, -1};
        bool ok = false;
        for (size_t k = 0; k < 5 && !ok; k++) {
            b.w = wh[k][0];
            b.h = wh[k][1];
            ok = find_block(&b, salt, &i, &j);
        }
        if (!ok) {
            return false;
        }
        block_rect(sp, tmp, salt, i, j, b.w, b.h);
        use_cells(i, j, i + b.w - 1, j + b.h - 1);
        set_use(sp, "1001");
        snprintf(s->project, sizeof s->project, "%s%s产业园区标准厂房项目",
                 g_name, town_at(cell_id(i, j)));
        s->zh = "城镇开发边界内规划工业用地上的矩形地块，不占耕地、永久基本农田"
                "和生态保护红线";
        s->en =
            "rectangle on planned industrial land inside the urban development "
            "boundary; no cultivated land, farmland or red line";
        return true;
    }
    case 1:    /* housing estate: irregular polygon on planned housing land */
    case 10: { /* the same land, industrial use: contradicts GHYT */
        struct blockq b = {2, 2, Q_URBAN_OK, "0701", true, SIZE_MAX, 0, -1};
        double r = 0.56;
        if (!find_block(&b, salt, &i, &j)) {
            b.w = b.h = 1;
            r = 0.21;
            if (!find_block(&b, salt, &i, &j)) {
                return false;
            }
        }
        star_ring(700 + salt, X0 + CELL_M * (i + b.w / 2.0),
                  Y0 + CELL_M * (j + b.h / 2.0), CELL_M * r, d == 1 ? 48 : 9,
                  d == 1 ? 6 : 3, tmp);
        poly_add_ring(&sp->poly, tmp);
        use_cells(i, j, i + b.w - 1, j + b.h - 1);
        if (d == 1) {
            set_use(sp, "0701");
            snprintf(s->project, sizeof s->project, "%s%s住宅小区项目", g_name,
                     town_at(cell_id(i, j)));
            s->zh = "城镇开发边界内规划城镇住宅用地上的不规则地块，用途相符";
            s->en =
                "irregular polygon on planned urban housing land inside the "
                "boundary, use as planned";
        } else {
            /* 地块用途 as text: the review takes the use from 地类编码
             * (三调 0601 工业用地 -> 用地用海 1001) */
            snprintf(sp->use, sizeof sp->use, "工业");
            snprintf(sp->dlbm, sizeof sp->dlbm, "0601");
            snprintf(sp->ydyh, sizeof sp->ydyh, "1001");
            snprintf(s->project, sizeof s->project, "%s%s机械加工厂项目",
                     g_name, town_at(cell_id(i, j)));
            s->zh = "规划为城镇住宅用地（0701）的土地上建工厂：用途与规划不符"
                    "（地块用途为文字“工业”，地类编码 0601 "
                    "经三调→用地用海对照为 1001）";
            s->en = "a factory on land planned as urban housing (0701): use "
                    "contradicts GHYT (地块用途 is text; 地类编码 0601 maps to "
                    "1001)";
        }
        return true;
    }
    case 2: { /* over permanent basic farmland */
        struct blockq b = {
            2, 2, Q_FARM | Q_NORED | Q_NOCZK, NULL, false, SIZE_MAX, 0, -1};
        if (!find_block(&b, salt, &i, &j)) {
            b.w = b.h = 1;
            if (!find_block(&b, salt, &i, &j)) {
                return false;
            }
        }
        block_rect(sp, tmp, salt, i, j, b.w, b.h);
        use_cells(i, j, i + b.w - 1, j + b.h - 1);
        set_use(sp, "1001");
        snprintf(s->project, sizeof s->project, "%s%s农产品加工厂项目", g_name,
                 town_at(cell_id(i, j)));
        s->zh = "占用永久基本农田的工业项目";
        s->en = "industrial project on permanent basic farmland";
        return true;
    }
    case 3: { /* across the ecological red line */
        struct om_layer_view v;
        om_layer_view(sc->stbhhx, &v);
        size_t nf = v.nfeatures;
        for (size_t f0 = 0; f0 < nf; f0++) {
            size_t f = (f0 + (size_t)rep) % nf;
            size_t a = v.point_start[v.ring_start[v.part_start[f]]];
            size_t e = v.point_start[v.ring_start[v.part_start[f]] + 1] - 1;
            size_t off = (size_t)(hash3(S_SITE, salt, 3) % (e - a));
            for (size_t t = 0; t < e - a; t += 97) {
                size_t q = a + (off + t) % (e - a);
                double x = round(v.xy[2 * q]), y = round(v.xy[2 * q + 1]);
                if (box_ok(x - 260, y - 160, x + 260, y + 160, Q_NOCZK)) {
                    ring_rect(tmp, x - 200, y - 125, x + 200, y + 125);
                    poly_add_ring(&sp->poly, tmp);
                    use_box(x - 200, y - 125, x + 200, y + 125);
                    set_use(sp, "1002");
                    size_t c = cell_id((int)floor((x - X0) / CELL_M),
                                       (int)floor((y - Y0) / CELL_M));
                    snprintf(s->project, sizeof s->project,
                             "%s%s采石场扩建项目", g_name, town_at(c));
                    s->zh = "跨越生态保护红线边界的采矿项目（一半在红线内）";
                    s->en = "quarry extension across the ecological red line "
                            "boundary (about half inside)";
                    return true;
                }
            }
        }
        return false;
    }
    case 4: { /* cultivated land outside farmland: planned village land */
        struct blockq b = {2,      1,    Q_CULT | Q_NOFARM | Q_NORED | Q_NOCZK,
                           "0703", true, SIZE_MAX,
                           0,      -1};
        bool ok = find_block(&b, salt, &i, &j);
        if (!ok) {
            b.ghyt = NULL;
            ok = find_block(&b, salt, &i, &j);
        }
        if (!ok) {
            b.w = 1;
            ok = find_block(&b, salt, &i, &j);
        }
        if (!ok) {
            return false;
        }
        block_rect(sp, tmp, salt, i, j, b.w, b.h);
        use_cells(i, j, i + b.w - 1, j + b.h - 1);
        set_use(sp, Z.ghyt[K.parcel[cell_id(i, j)]]);
        snprintf(s->project, sizeof s->project, "%s%s%s村民住宅建设项目",
                 g_name, town_at(cell_id(i, j)),
                 K.vils[K.village[cell_id(i, j)]].name);
        s->zh = "占用永久基本农田以外的一般耕地，用途与规划相符：需落实耕地占补"
                "平衡";
        s->en = "cultivated land outside permanent basic farmland, use as "
                "planned: needs compensation of cultivated land (占补平衡)";
        return true;
    }
    case 5: { /* exactly a parcel, sharing an edge with farmland */
        struct om_layer_view v;
        om_layer_view(sc->dltb, &v);
        int best = -1;
        double bh = 2;
        for (int k = 0; k < NP; k++) {
            const struct parcel *p = &P[k];
            if (p->island_of >= 0 || p->island >= 0 || JSEL[k] ||
                is_cultivated(p->cls) || Z.red[k] || Z.meet_czk[k] ||
                !(p->cls == C_0702 || p->cls == C_1202 || p->cls == C_0301 ||
                  p->cls == C_0305 || p->cls == C_0404)) {
                continue;
            }
            double h = u01(S_SITE, salt, (uint64_t)k);
            if (h >= bh) {
                continue;
            }
            int si = (int)(p->start % (size_t)G.w),
                sj = (int)(p->start / (size_t)G.w);
            bool ok = true, touch = false;
            for (int dj = -4; dj <= 4 && ok; dj++) {
                for (int di = -4; di <= 4 && ok; di++) {
                    int ci = si + di, cj = sj + dj;
                    if (ci < 0 || cj < 0 || ci >= G.w || cj >= G.h ||
                        K.parcel[cell_id(ci, cj)] != k) {
                        continue;
                    }
                    ok = !USED[cell_id(ci, cj)] && ci > 0 && cj > 0 &&
                         ci < G.w - 1 && cj < G.h - 1;
                    for (int s4 = 0; s4 < 4 && ok; s4++) {
                        size_t n = across(ci, cj, s4);
                        touch =
                            touch || (n != SIZE_MAX && K.parcel[n] >= 0 &&
                                      K.parcel[n] != k && JSEL[K.parcel[n]]);
                    }
                }
            }
            if (ok && touch) {
                best = k;
                bh = h;
            }
        }
        if (best < 0) {
            return false;
        }
        size_t f = (size_t)best;
        size_t a = v.point_start[v.ring_start[v.part_start[f]]];
        size_t e = v.point_start[v.ring_start[v.part_start[f]] + 1];
        tmp->n = 0;
        for (size_t q = a; q < e; q++) {
            pts_push(tmp, v.xy[2 * q], v.xy[2 * q + 1]);
        }
        poly_add_ring(&sp->poly, tmp);
        use_box(v.bbox[f].minx, v.bbox[f].miny, v.bbox[f].maxx, v.bbox[f].maxy);
        set_use(sp, Z.ghyt[best]);
        snprintf(s->project, sizeof s->project, "%s%s%s%s地块项目", g_name,
                 town_at(P[best].start), K.vils[P[best].village].name,
                 ydyh_name(Z.ghyt[best]));
        s->zh =
            "与一块地类图斑完全重合（同一批顶点），沿共用边界紧邻永久基本农田："
            "只接边不重叠，占用面积应为 0";
        s->en = "exactly one land-use parcel (the same vertices), sharing an "
                "edge with permanent basic farmland: touching, not "
                "overlapping, 0 m² occupied";
        return true;
    }
    case 6: { /* ring round a small farmland patch, the patch as a hole */
        struct om_layer_view v;
        om_layer_view(sc->jbnt, &v);
        size_t best = SIZE_MAX;
        double ba = 1e300;
        for (size_t g = 0; g < v.nfeatures; g++) {
            if (v.part_start[g + 1] - v.part_start[g] != 1) {
                continue;
            }
            struct om_rect r = v.bbox[g];
            double x0 = floor(r.minx) - 100, y0 = floor(r.miny) - 100;
            double x1 = ceil(r.maxx) + 100, y1 = ceil(r.maxy) + 100;
            size_t pa = v.point_start[v.ring_start[v.part_start[g]]];
            size_t pe = v.point_start[v.ring_start[v.part_start[g]] + 1];
            double area =
                ring_area(v.xy + 2 * pa, pe - pa) + u01(S_SITE, salt, g);
            if (area >= ba || x1 - x0 > 1200 || y1 - y0 > 1200 ||
                !box_ok(x0, y0, x1, y1, Q_NORED | Q_NOCZK)) {
                continue;
            }
            struct om_rect e = {x0, y0, x1, y1};
            bool alone = true;
            for (size_t h = 0; h < v.nfeatures && alone; h++) {
                alone = h == g || !om_rect_intersects(e, v.bbox[h]);
            }
            if (alone) {
                best = g;
                ba = area;
            }
        }
        if (best == SIZE_MAX) {
            return false;
        }
        struct om_rect r = v.bbox[best];
        double x0 = floor(r.minx) - 100, y0 = floor(r.miny) - 100;
        double x1 = ceil(r.maxx) + 100, y1 = ceil(r.maxy) + 100;
        ring_rect(tmp, x0, y0, x1, y1);
        poly_add_ring(&sp->poly, tmp);
        size_t pa = v.point_start[v.ring_start[v.part_start[best]]];
        size_t pe = v.point_start[v.ring_start[v.part_start[best]] + 1];
        tmp->n = 0;
        for (size_t q = pa; q < pe; q++) {
            pts_push(tmp, v.xy[2 * q], v.xy[2 * q + 1]);
        }
        if (ring_area(tmp->xy, tmp->n) > 0) {
            reverse_ring(tmp->xy, tmp->n);
        }
        poly_add_ring(&sp->poly, tmp);
        use_box(x0, y0, x1, y1);
        set_use(sp, "1101");
        size_t c = cell_id((int)floor((x0 + 100 - X0) / CELL_M),
                           (int)floor((y0 + 100 - Y0) / CELL_M));
        snprintf(s->project, sizeof s->project, "%s%s物流仓储项目", g_name,
                 town_at(c));
        s->zh = "环绕一块永久基本农田的地块，该农田恰为地块的内环（洞）："
                "不占用永久基本农田（0 平方米）";
        s->en = "a site round a permanent basic farmland patch whose boundary "
                "is exactly the site's hole: 0 m² of farmland occupied";
        return true;
    }
    case 7: { /* three parcels in one file */
        struct blockq b = {1, 1, Q_URBAN_OK, NULL, true, SIZE_MAX, 0, -1};
        int ia, ja;
        if (!find_block(&b, salt, &ia, &ja)) {
            return false;
        }
        size_t ca = cell_id(ia, ja);
        use_cells(ia, ja, ia, ja);
        block_rect(&s->parcel[0], tmp, salt, ia, ja, 1, 1);
        set_use(&s->parcel[0], Z.ghyt[K.parcel[ca]]);
        b.near = ca;
        b.maxd = 15;
        s->nparcels = 1;
        if (find_block(&b, salt + 1000, &i, &j)) {
            use_cells(i, j, i, j);
            block_rect(&s->parcel[1], tmp, salt + 1000, i, j, 1, 1);
            set_use(&s->parcel[1], Z.ghyt[K.parcel[cell_id(i, j)]]);
            s->nparcels = 2;
        }
        b.q = Q_CULT | Q_NOFARM | Q_NORED;
        if (find_block(&b, salt + 2000, &i, &j)) {
            struct site_parcel *pc = &s->parcel[s->nparcels++];
            use_cells(i, j, i, j);
            block_rect(pc, tmp, salt + 2000, i, j, 1, 1);
            set_use(pc, Z.ghyt[K.parcel[cell_id(i, j)]]);
        }
        snprintf(s->project, sizeof s->project, "%s%s城区综合开发项目", g_name,
                 town_at(ca));
        s->zh = "一个文件中的多个地块：两块在城镇开发边界内、用途相符，"
                "一块占用一般耕地（需占补平衡）";
        s->en = "several parcels in one file: two inside the boundary with "
                "the planned use, one on cultivated land (compensation "
                "needed)";
        return true;
    }
    case 8: { /* road corridor, thousands of vertices */
        size_t a, b;
        if (!road_ends(&a, &b)) {
            return false;
        }
        road_ring(a, b, 30.0, salt, tmp);
        poly_add_ring(&sp->poly, tmp);
        set_use(sp, "1202");
        snprintf(s->project, sizeof s->project, "%s%s至%s公路工程", g_name,
                 town_at(a), town_at(b));
        s->zh = "线性工程：宽 30 米、长数公里的公路用地，数千个顶点，"
                "穿越耕地和永久基本农田";
        s->en = "linear project: a 30 m wide road corridor several km long, "
                "thousands of vertices, across cultivated land and farmland";
        return true;
    }
    case 9: { /* a few thousand vertices inside a boundary */
        struct blockq b = {4, 4, Q_CZK | Q_NOFARM, NULL, false, SIZE_MAX,
                           0, -1};
        if (!find_block(&b, salt, &i, &j)) {
            return false;
        }
        star_ring(900 + salt, X0 + CELL_M * (i + 2.0), Y0 + CELL_M * (j + 2.0),
                  CELL_M * 1.1, 3000, 24, tmp);
        poly_add_ring(&sp->poly, tmp);
        use_cells(i, j, i + 3, j + 3);
        set_use(sp, "1101");
        snprintf(s->project, sizeof s->project, "%s%s物流园区项目", g_name,
                 town_at(cell_id(i, j)));
        s->zh = "城镇开发边界内 3000 个顶点的不规则地块，跨多种规划用途";
        s->en = "an irregular 3000-vertex site inside the boundary over "
                "several planned uses";
        return true;
    }
    case 11: { /* a small petrol station (090105 in planned 0901) */
        struct blockq b = {1, 1, Q_URBAN_OK, "0901", true, SIZE_MAX, 0, 1};
        if (!find_block(&b, salt, &i, &j)) {
            return false;
        }
        double cx = X0 + CELL_M * (i + 0.5), cy = Y0 + CELL_M * (j + 0.5);
        ring_rect(tmp, cx - 35.5, cy - 35, cx + 35.5, cy + 35);
        poly_add_ring(&sp->poly, tmp);
        use_cells(i, j, i, j);
        set_use(sp, "090105");
        snprintf(s->project, sizeof s->project, "%s%s加油站项目", g_name,
                 town_at(cell_id(i, j)));
        s->zh = "约 0.5 公顷的加油站：用途 090105（三级类）在规划商业用地 0901 "
                "之内，"
                "前缀相容";
        s->en = "a 0.5 ha petrol station: use 090105 (level 3) within planned "
                "commercial land 0901, compatible by prefix";
        return true;
    }
    default:
        return false;
    }
}

static bool codes_compatible(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    return strncmp(a, b, na < nb ? na : nb) == 0;
}

/* Planar area of the prepared site parcel ∩ each feature of `l`, summed. */
static double meet_area(struct site_ctx *sc, const struct om_prepared *pr,
                        struct om_rect box, const struct om_layer *l)
{
    struct om_error err;
    struct om_layer_view v;
    om_layer_view(l, &v);
    double sum = 0;
    for (size_t k = 0; k < v.nfeatures; k++) {
        if (!om_rect_intersects(box, v.bbox[k])) {
            continue;
        }
        double a = 0;
        check(om_layer_begin_feature(sc->scratch, 1, &err), &err, "layer");
        check(
            om_prepared_intersection(sc->ops, pr, &v, k, sc->scratch, &a, &err),
            &err, "site intersection");
        om_layer_abort_feature(sc->scratch);
        sum += a;
    }
    return sum;
}

/* One pass over the parcels: cultivated land, use conflicts with GHYT
 * (whose features are the parcels) and the part outside the county. */
static void dltb_areas(struct site_ctx *sc, const struct om_prepared *pr,
                       struct om_rect box, struct site_parcel *sp)
{
    struct om_error err;
    struct om_layer_view v;
    om_layer_view(sc->dltb, &v);
    double inside = 0;
    sp->cult = sp->purpose = 0;
    for (size_t k = 0; k < v.nfeatures; k++) {
        if (!om_rect_intersects(box, v.bbox[k])) {
            continue;
        }
        double a = 0;
        check(om_layer_begin_feature(sc->scratch, 1, &err), &err, "layer");
        check(
            om_prepared_intersection(sc->ops, pr, &v, k, sc->scratch, &a, &err),
            &err, "site intersection");
        om_layer_abort_feature(sc->scratch);
        inside += a;
        if (is_cultivated(P[k].cls)) {
            sp->cult += a;
        }
        if (!codes_compatible(sp->ydyh, Z.ghyt[k])) {
            sp->purpose += a;
        }
    }
    sp->out_county = sp->area - inside;
}

static int worst(int a, int b)
{
    return a > b ? a : b;
}

/* Measure every parcel of `s` (features of `l`, in order) and decide. */
static void measure_site(struct site_ctx *sc, const struct om_layer *l,
                         struct site *s)
{
    struct om_error err;
    struct om_layer_view v;
    om_layer_view(l, &v);
    s->dec[0] = s->dec[1] = s->dec[2] = 0;
    for (int k = 0; k < s->nparcels; k++) {
        struct site_parcel *sp = &s->parcel[k];
        struct om_prepared *pr;
        check(om_polyops_area(sc->ops, &v, (size_t)k, &sp->area, &err), &err,
              "site area");
        check(om_polyops_prepare(sc->ops, &v, (size_t)k, &pr, &err), &err,
              "site");
        struct om_rect box = v.bbox[k];
        sp->jbnt = meet_area(sc, pr, box, sc->jbnt);
        sp->red = meet_area(sc, pr, box, sc->stbhhx);
        sp->out_czk = sp->area - meet_area(sc, pr, box, sc->czkfbj);
        dltb_areas(sc, pr, box, sp);
        om_prepared_free(sc->ops, pr);
        /* rounding noise of the sums: below 1e-6 m² is nothing */
        if (fabs(sp->out_county) < 1e-6) {
            sp->out_county = 0;
        }
        if (fabs(sp->out_czk) < 1e-6) {
            sp->out_czk = 0;
        }
        bool lines = sp->jbnt > SITE_TOL_M2 || sp->red > SITE_TOL_M2;
        bool cond = sp->cult > SITE_TOL_M2 || sp->purpose > SITE_TOL_M2 ||
                    sp->out_county > SITE_TOL_M2;
        sp->dec[0] = lines ? 2 : cond ? 1 : 0;
        sp->dec[1] = lines || sp->out_czk > SITE_TOL_M2 ? 2 : cond ? 1 : 0;
        sp->dec[2] = lines || cond ? 1 : 0;
        for (int p = 0; p < 3; p++) {
            s->dec[p] = worst(s->dec[p], sp->dec[p]);
        }
    }
}

static const char *const dec_en[3] = {"pass", "conditional", "fail"};
static const char *const dec_zh[3] = {"通过", "有条件通过", "不通过"};

/* Remove DIR/sites/site*.txt of an earlier run. */
static void clear_sites(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        die("cannot open %s: %s", dir, strerror(errno));
    }
    char buf[4096];
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "site", 4) != 0 || n < 8 ||
            strcmp(e->d_name + n - 4, ".txt") != 0) {
            continue;
        }
        int len = snprintf(buf, sizeof buf, "%s/%s", dir, e->d_name);
        if (len < 0 || (size_t)len >= sizeof buf || unlink(buf) != 0) {
            die("cannot remove %s: %s", buf, strerror(errno));
        }
    }
    closedir(d);
}

static const char *const cn_num[] = {"一", "二", "三"};

static void build_sites(struct site_ctx *sc, const char *outdir, int nsites,
                        struct totals *tot)
{
    struct om_error err;
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/sites", outdir);
    mkdir_p(dir);
    clear_sites(dir);
    USED = xcalloc(G.ncells, 1);
    struct site *S = xcalloc((size_t)(nsites > 0 ? nsites : 1), sizeof *S);
    int n = 0;
    for (int m = 0; m < nsites; m++) {
        int d = m % NDESIGNS, rep = m / NDESIGNS;
        struct site *s = &S[n];
        if (!design_site(sc, d, rep, s)) {
            fprintf(stderr,
                    "synth: site design %d (round %d): no place in "
                    "this county, skipped\n",
                    d + 1, rep + 1);
            for (int k = 0; k < SITE_MAX_PARCELS; k++) {
                poly_free(&s->parcel[k].poly);
            }
            memset(s, 0, sizeof *s);
            continue;
        }
        n++;
        snprintf(s->file, sizeof s->file, "site%02d.txt", n);
        struct om_layer *l;
        check(om_layer_new("site", &l, &err), &err, "layer");
        check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
        int fBH = add_field(l, "DKBH", OM_FIELD_TEXT);
        int fMC = add_field(l, "DKMC", OM_FIELD_TEXT);
        int fYT = add_field(l, "DKYT", OM_FIELD_TEXT);
        int fDL = add_field(l, "DLBM", OM_FIELD_TEXT);
        for (int k = 0; k < s->nparcels; k++) {
            struct site_parcel *sp = &s->parcel[k];
            check(om_layer_begin_feature(l, k + 1, &err), &err, "layer");
            check(om_layer_begin_part(l, &err), &err, "layer");
            size_t b = 0;
            for (size_t r = 0; r < sp->poly.nrings; r++) {
                size_t e = sp->poly.ring_end[r];
                check(om_layer_add_ring(l, sp->poly.xy.xy + 2 * b, e - b, &err),
                      &err, "layer");
                b = e;
            }
            sp->nvertices = sp->poly.xy.n;
            snprintf(sp->code, sizeof sp->code, "S%02d-%d", n, k + 1);
            if (s->nparcels > 1) {
                snprintf(sp->name, sizeof sp->name, "%s（%s号地块）",
                         s->project, cn_num[k]);
            } else {
                snprintf(sp->name, sizeof sp->name, "%s", s->project);
            }
            set_text(l, fBH, sp->code);
            set_text(l, fMC, sp->name);
            set_text(l, fYT, sp->use);
            set_text(l, fDL, sp->dlbm[0] ? sp->dlbm : NULL);
            check(om_layer_end_feature(l, &err), &err, "layer");
        }
        check(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err, "site");
        measure_site(sc, l, s);
        snprintf(path, sizeof path, "%s/%s", dir, s->file);
        struct om_bbtxt_write_options o = {0};
        o.producer = "onemap synth 示例数据（虚构）";
        o.date = "2023-12-31";
        check(om_bbtxt_write(l, path, &o, &err), &err, path);
        om_layer_free(l);
    }
    tot->nsites = (size_t)n;

    /* README.md (UTF-8) and expected.csv */
    snprintf(path, sizeof path, "%s/README.md", dir);
    FILE *f = fopen(path, "w");
    snprintf(path, sizeof path, "%s/expected.csv", dir);
    FILE *c = fopen(path, "w");
    if (!f || !c) {
        die("cannot write %s/README.md or expected.csv", dir);
    }
    fprintf(f,
            "示例建设项目用地范围（部标 TXT）/ sample construction sites\n"
            "NOT real projects: invented on the synthetic county %s (%s).\n\n"
            "Files: GBK, CRLF, 2000国家大地坐标系, 3-degree zone 42, eastings "
            "with the zone prefix\n(EPSG:4530). Each file is designed to show "
            "one case a reviewer meets. The\nexpected decisions are those of "
            "the shipped review profiles (data/rules/onemap.yaml:\n"
            "default, urban, linear; tolerance 1 m²), measured exactly with "
            "GEOS on the\ngenerated layers with GHYT imported: farmland = "
            "YJJBNTBHTB, red line =\nSTBHHX, cultivated = DLTB 0101/0102/0103, "
            "outside CZKFBJ = site minus CZKFBJ,\nuse conflict = GHYT where "
            "neither the site's use code nor YDYHFLDM is a prefix\nof the "
            "other, outside county = site minus DLTB. Areas are planar "
            "(EPSG:4530), m².\n"
            "default: fail on farmland or red line > 1 m²; conditional on "
            "cultivated land,\n         use conflict or outside the county "
            "> 1 m²; else pass.\n"
            "urban:   as default, and fail outside CZKFBJ > 1 m².\n"
            "linear:  as default, but farmland and red line are conditional.\n"
            "A file's decision is the worst of its parcels'. expected.csv "
            "holds the same\nnumbers, one row per parcel.\n",
            g_name, g_code);
    fprintf(c, "file,parcel,code,name,use,ydyh,nvertices,area_m2,farmland_m2,"
               "redline_m2,cultivated_m2,outside_czkfbj_m2,use_conflict_m2,"
               "outside_county_m2,default,urban,linear\n");
    for (int m = 0; m < n; m++) {
        const struct site *s = &S[m];
        double area = 0;
        for (int k = 0; k < s->nparcels; k++) {
            area += s->parcel[k].area;
        }
        fprintf(f,
                "\n%s  %s\n  %.4f ha, %d parcel%s\n  %s\n  %s\n"
                "  expected: default %s %s, urban %s %s, linear %s %s\n",
                s->file, s->project, area / 10000.0, s->nparcels,
                s->nparcels > 1 ? "s" : "", s->zh, s->en, dec_en[s->dec[0]],
                dec_zh[s->dec[0]], dec_en[s->dec[1]], dec_zh[s->dec[1]],
                dec_en[s->dec[2]], dec_zh[s->dec[2]]);
        for (int k = 0; k < s->nparcels; k++) {
            const struct site_parcel *sp = &s->parcel[k];
            fprintf(f,
                    "  parcel %d %s: use %s%s%s (用地用海 %s), %zu "
                    "vertices, %.2f m²\n"
                    "    farmland %.2f, red line %.2f, cultivated %.2f, "
                    "outside CZKFBJ %.2f,\n    use conflict %.2f, outside "
                    "county %.2f -> %s / %s / %s\n",
                    k + 1, sp->code, sp->use, sp->dlbm[0] ? ", 地类编码 " : "",
                    sp->dlbm, sp->ydyh, sp->nvertices, sp->area, sp->jbnt,
                    sp->red, sp->cult, sp->out_czk, sp->purpose, sp->out_county,
                    dec_en[sp->dec[0]], dec_en[sp->dec[1]], dec_en[sp->dec[2]]);
            fprintf(c,
                    "%s,%d,%s,%s,%s,%s,%zu,%.3f,%.3f,%.3f,%.3f,%.3f,"
                    "%.3f,%.3f,%s,%s,%s\n",
                    s->file, k + 1, sp->code, sp->name, sp->use, sp->ydyh,
                    sp->nvertices, sp->area, sp->jbnt, sp->red, sp->cult,
                    sp->out_czk, sp->purpose, sp->out_county,
                    dec_en[sp->dec[0]], dec_en[sp->dec[1]], dec_en[sp->dec[2]]);
        }
    }
    if (fclose(f) != 0 || fclose(c) != 0) {
        die("cannot write %s", dir);
    }
    for (int m = 0; m < nsites; m++) {
        for (int k = 0; k < SITE_MAX_PARCELS; k++) {
            poly_free(&S[m].parcel[k].poly);
        }
    }
    free(S);
    free(USED);
}

/* ---- injected defects (--defects) ----
 *
 * DIR/defects/DLTB_defects.gpkg is a copy of DLTB with one defect of each
 * kind `onemap qc` checks for, each on its own parcel in a quiet
 * neighbourhood (no island parcel within 5 cells, 14 cells or more from
 * any other defect, so that their effects never meet), and
 * DIR/defects/expected.csv lists every finding each defect implies, with
 * its exact planar area or measured value where it has one (computed here
 * with the formulas of the definitions, on the very coordinates written).
 *
 * Most defects sit at a vertex X of the parcel's shell: an inner vertex of
 * the bottom side of its first cell, so the two shell edges U→X and X→W
 * are shared with exactly one neighbour N (the parcel of the cell below).
 * X is the straightest such vertex (U-X-W turning by 10° or less, both
 * edges 12 m or longer), so that shapes of a few metres at X stay clear of
 * every other edge. Frame: t = unit(W − U), nP its left normal (into the
 * parcel: shells are counter-clockwise here), nN = −nP (into N).
 */
enum dkind {
    DK_BOWTIE,
    DK_HOLE,
    DK_REPEAT,
    DK_SPIKE,
    DK_MICRO,
    DK_MULTI,
    DK_OVERLAP,
    DK_GAP,
    DK_SLIVER,
    DK_NEAR,
    DK_BLANK,
    DK_BADCODE,
    DK_DUPBSM,
    DK_NETAREA,
    DK_AREA,
    NDK
};

struct dsite {
    int k;    /* the parcel */
    int n;    /* the parcel N below X */
    int y;    /* second parcel (DK_MULTI, DK_DUPBSM), else -1 */
    size_t m; /* index of X in the shell */
    double t[2], nN[2];
};

#define D_SPACING 14 /* cells between defects (Chebyshev) */
#define D_QUIET 5    /* cells around a defect without islands */
#define D_MULTI_DX 9 /* the second part of DK_MULTI: 9 cells right */
#define D_BADCODE "0109"
#define D_SPIKE_LEN 5.0     /* m, into N */
#define D_SPIKE_BASE 0.05   /* m: vertex angle about 0.57° */
#define D_MICRO_LEN 0.0005  /* m, below micro_segment (0.001) */
#define D_OVERLAP_MOVE 2.0  /* m */
#define D_SLIVER_WIDTH 0.05 /* m, below sliver_width (0.1) */
#define D_NEAR_MOVE 0.015   /* m, below near_distance (0.05) */
#define D_NET_DELTA 1234    /* cents added to TBDLMJ */
#define D_AREA_FACTOR 1.1   /* TBMJ 10 % too large */

static bool quiet_box(size_t c, int r)
{
    int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
    if (i - r < 0 || j - r < 0 || i + r >= G.w || j + r >= G.h) {
        return false;
    }
    for (int dj = -r; dj <= r; dj++) {
        for (int di = -r; di <= r; di++) {
            size_t d = cell_id(i + di, j + dj);
            if (!K.mask[d] || K.parcel[d] < 0 || P[K.parcel[d]].island >= 0 ||
                P[K.parcel[d]].island_of >= 0) {
                return false;
            }
        }
    }
    return true;
}

static bool far_from(size_t c, const size_t *used, int nused)
{
    int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
    for (int u = 0; u < nused; u++) {
        int ui = (int)(used[u] % (size_t)G.w),
            uj = (int)(used[u] / (size_t)G.w);
        if (abs(ui - i) < D_SPACING && abs(uj - j) < D_SPACING) {
            return false;
        }
    }
    return true;
}

/* The shell of feature k of view v (points, count). */
static const double *shell_of(const struct om_layer_view *v, size_t k,
                              size_t *n)
{
    size_t r = v->ring_start[v->part_start[k]];
    *n = v->point_start[r + 1] - v->point_start[r];
    return v->xy + 2 * v->point_start[r];
}

/* The straightest inner vertex of the bottom side of parcel k's first
 * cell (see above); false if none is straight and long enough. */
static bool pick_vertex(const struct om_layer_view *v, int k, struct dsite *d)
{
    size_t c = P[k].start, n;
    int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
    double ex, ey;
    node_xy(i + 1, j, &ex, &ey);
    const double *R = shell_of(v, (size_t)k, &n);
    double best = -0.985; /* cos 170°: U-X-W turns by 10° at most */
    d->m = 0;
    for (size_t m = 1; m + 1 < n; m++) {
        if (R[2 * m] == ex && R[2 * m + 1] == ey) {
            break;
        }
        double ax = R[2 * m - 2] - R[2 * m], ay = R[2 * m - 1] - R[2 * m + 1];
        double bx = R[2 * m + 2] - R[2 * m], by = R[2 * m + 3] - R[2 * m + 1];
        double la = hypot(ax, ay), lb = hypot(bx, by);
        if (la < 12 || lb < 12) {
            continue;
        }
        double cs = (ax * bx + ay * by) / (la * lb);
        if (cs < best) {
            best = cs;
            d->m = m;
        }
    }
    if (d->m == 0) {
        return false;
    }
    const double *U = R + 2 * (d->m - 1), *W = R + 2 * (d->m + 1);
    double tx = W[0] - U[0], ty = W[1] - U[1], l = hypot(tx, ty);
    d->t[0] = tx / l;
    d->t[1] = ty / l;
    d->nN[0] = d->t[1]; /* right normal of t */
    d->nN[1] = -d->t[0];
    d->n = K.parcel[cell_id(i, j - 1)];
    return true;
}

/* Choose the parcels of every defect, deterministically by seed. */
static void pick_defects(const struct om_layer_view *v, struct dsite *ds)
{
    size_t used[2 * NDK];
    int nused = 0;
    for (int kind = 0; kind < NDK; kind++) {
        struct dsite *d = &ds[kind];
        bool two = kind == DK_MULTI || kind == DK_DUPBSM;
        bool found = false;
        for (uint64_t a = 0; a < 100000 && !found; a++) {
            int k = (int)(hash3(S_DEFECT, (uint64_t)kind, a) % (uint64_t)NP);
            const struct parcel *p = &P[k];
            if (p->island_of >= 0 || p->island >= 0 ||
                !quiet_box(p->start, D_QUIET) ||
                !far_from(p->start, used, nused) || !pick_vertex(v, k, d)) {
                continue;
            }
            d->k = k;
            d->y = -1;
            if (two) {
                int i = (int)(p->start % (size_t)G.w) + D_MULTI_DX;
                int j = (int)(p->start / (size_t)G.w);
                if (i >= G.w) {
                    continue;
                }
                size_t c2 = cell_id(i, j);
                if (!quiet_box(c2, D_QUIET) || !far_from(c2, used, nused) ||
                    K.parcel[c2] == k) {
                    continue;
                }
                d->y = K.parcel[c2];
                used[nused++] = c2;
            }
            used[nused++] = p->start;
            found = true;
        }
        if (!found) {
            die("--defects: no quiet parcel for defect %d (grid too small?)",
                kind);
        }
    }
}

static void pt_at(const double *X, const struct dsite *d, double s, double r,
                  struct pts *out)
{
    pts_push(out, X[0] + s * d->t[0] + r * d->nN[0],
             X[1] + s * d->t[1] + r * d->nN[1]);
}

/* The vertex angle at b (degrees), as G003 measures it. */
static double angle_at(const double *a, const double *b, const double *c)
{
    double ux = a[0] - b[0], uy = a[1] - b[1];
    double wx = c[0] - b[0], wy = c[1] - b[1];
    double cross = ux * wy - uy * wx, dot = ux * wx + uy * wy;
    return atan2(fabs(cross), dot) * (180 / M_PI);
}

static double seg_dist(const double *p, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0.0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2 : 0.0;
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    return hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/* |area| of the polygon of n <= 7 points (not closed). */
static double poly_area_abs(const double *xy, size_t n)
{
    double tmp[2 * 8];
    memcpy(tmp, xy, 2 * n * sizeof(double));
    tmp[2 * n] = xy[0];
    tmp[2 * n + 1] = xy[1];
    return fabs(ring_area(tmp, n + 1));
}

static void copy_attrs(struct om_layer *l, const struct om_layer *src, size_t k)
{
    for (int f = 0; f < (int)om_layer_nfields(src); f++) {
        if (om_layer_is_null(src, k, f)) {
            continue;
        }
        switch (om_layer_field_type(src, f)) {
        case OM_FIELD_INT:
            set_int(l, f, om_layer_get_int(src, k, f));
            break;
        case OM_FIELD_REAL:
            set_real(l, f, om_layer_get_real(src, k, f));
            break;
        case OM_FIELD_TEXT:
            set_text(l, f, om_layer_get_text(src, k, f));
            break;
        }
    }
}

/* TBMJ, KCMJ, TBDLMJ for an ellipsoidal area, as build_dltb sets them. */
static void set_areas(struct om_layer *l, const struct om_layer *src, size_t k,
                      double ell, int64_t net_delta)
{
    int fT = om_layer_field_index(src, "TBMJ");
    int fX = om_layer_field_index(src, "KCXS");
    int fK = om_layer_field_index(src, "KCMJ");
    int fN = om_layer_field_index(src, "TBDLMJ");
    int64_t tb = llround(ell * 100.0);
    int64_t kc = llround((double)tb * om_layer_get_real(src, k, fX));
    set_real(l, fT, (double)tb / 100.0);
    set_real(l, fK, (double)kc / 100.0);
    set_real(l, fN, (double)(tb - kc + net_delta) / 100.0);
}

static void csv_row(FILE *f, const char *code, int64_t fid, int64_t fid2,
                    double area, double value, const char *what)
{
    fprintf(f, "DLTB,%s,%lld,", code, (long long)fid);
    if (fid2 >= 0) {
        fprintf(f, "%lld", (long long)fid2);
    }
    fputc(',', f);
    if (!isnan(area)) {
        fprintf(f, "%.17g", area);
    }
    fputc(',', f);
    if (!isnan(value)) {
        fprintf(f, "%.17g", value);
    }
    fprintf(f, ",%s\n", what);
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static void build_defects(const struct om_layer *dltb, struct area_calc *ac,
                          const char *outdir)
{
    struct om_error err;
    struct om_layer_view v;
    om_layer_view(dltb, &v);
    if (v.nfeatures != (size_t)NP) {
        die("internal: DLTB has %zu features for %d parcels", v.nfeatures, NP);
    }
    if (om_code_find(OM_CODES_DLBM, D_BADCODE)) {
        die("internal: %s is a DLBM code", D_BADCODE);
    }
    struct dsite ds[NDK];
    pick_defects(&v, ds);

    char path[4096];
    snprintf(path, sizeof path, "%s/defects", outdir);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/defects/expected.csv", outdir);
    FILE *csv = fopen(path, "w");
    if (!csv) {
        die("cannot write %s: %s", path, strerror(errno));
    }
    fprintf(csv, "layer,code,fid,fid2,area_m2,value,defect\n");

    struct om_layer *l;
    check(om_layer_new("DLTB", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    for (int f = 0; f < (int)om_layer_nfields(dltb); f++) {
        add_field(l, om_layer_field_name(dltb, f),
                  om_layer_field_type(dltb, f));
    }
    int fBSM = om_layer_field_index(dltb, "BSM");
    int fDLBM = om_layer_field_index(dltb, "DLBM");
    int fTBBH = om_layer_field_index(dltb, "TBBH");
    int fT = om_layer_field_index(dltb, "TBMJ");
    int fK = om_layer_field_index(dltb, "KCMJ");
    int fN = om_layer_field_index(dltb, "TBDLMJ");
    const int64_t empty_fid = NP + 1, sliver_fid = NP + 2;

    struct pts sh = {0}, extra = {0}, sliver = {0};
    for (int k = 0; k < NP; k++) {
        int kind = -1;
        for (int q = 0; q < NDK; q++) {
            if (ds[q].k == k) {
                kind = q;
            }
        }
        if (kind == DK_GAP || k == ds[DK_MULTI].y) {
            continue; /* deleted (DK_MULTI: moved into the other parcel) */
        }
        size_t n;
        const double *R = shell_of(&v, (size_t)k, &n);
        int64_t fid = k + 1;
        const struct dsite *d = kind >= 0 ? &ds[kind] : NULL;
        int64_t nfid = d ? d->n + 1 : -1;
        sh.n = 0;
        extra.n = 0;
        bool geom = false; /* the geometry changed: recompute the areas */
        size_t m = d ? d->m : 0;
        const double *U = R + 2 * (m ? m - 1 : 0), *X = R + 2 * m,
                     *W = R + 2 * (m + 1);
        for (size_t q = 0; q < n; q++) {
            pts_push(&sh, R[2 * q], R[2 * q + 1]);
            if (!d || q != m) {
                continue;
            }
            switch (kind) {
            case DK_BOWTIE: {
                /* X → B → C → D → X: X→B crosses C→D; a figure-8 hanging
                 * into N from X */
                pt_at(X, d, 3, 4.5, &sh);
                pt_at(X, d, 3, 1.5, &sh);
                pt_at(X, d, 0, 4.5, &sh);
                pts_push(&sh, X[0], X[1]);
                csv_row(csv, "G001", fid, -1, NAN, NAN,
                        "bow-tie: a figure-8 loop from a shell vertex into "
                        "the neighbour (self-intersection)");
                break;
            }
            case DK_HOLE: {
                /* a 2 m square hole, clockwise, 3-5 m inside N */
                pt_at(X, d, -1, 3, &extra);
                pt_at(X, d, -1, 5, &extra);
                pt_at(X, d, 1, 5, &extra);
                pt_at(X, d, 1, 3, &extra);
                pt_at(X, d, -1, 3, &extra);
                if (ring_area(extra.xy, extra.n) >= 0) {
                    reverse_ring(extra.xy, extra.n);
                }
                csv_row(csv, "G001", fid, -1, NAN, NAN,
                        "hole outside its shell (in the neighbour)");
                break;
            }
            case DK_REPEAT:
                pts_push(&sh, X[0], X[1]);
                csv_row(csv, "G002", fid, -1, NAN, 1,
                        "one repeated consecutive vertex");
                break;
            case DK_SPIKE: {
                /* X → T (5 m into N) → X2 (5 cm along X→W): a finger of
                 * the parcel over N */
                double bx = W[0] - X[0], by = W[1] - X[1], lb = hypot(bx, by);
                pt_at(X, d, 0, D_SPIKE_LEN, &sh);
                pts_push(&sh, X[0] + D_SPIKE_BASE * bx / lb,
                         X[1] + D_SPIKE_BASE * by / lb);
                const double *T = sh.xy + 2 * (sh.n - 2),
                             *X2 = sh.xy + 2 * (sh.n - 1);
                double tri[6] = {X[0], X[1], T[0], T[1], X2[0], X2[1]};
                csv_row(csv, "G003", fid, -1, NAN, angle_at(X, T, X2),
                        "spike: a finger 5 m long, 5 cm wide at its base");
                csv_row(csv, "T001", min64(fid, nfid), max64(fid, nfid),
                        poly_area_abs(tri, 3), NAN,
                        "the spike's finger overlaps the neighbour");
                geom = true;
                break;
            }
            case DK_MICRO: {
                double bx = W[0] - X[0], by = W[1] - X[1], lb = hypot(bx, by);
                pts_push(&sh, X[0] + D_MICRO_LEN * bx / lb,
                         X[1] + D_MICRO_LEN * by / lb);
                const double *X3 = sh.xy + 2 * (sh.n - 1);
                csv_row(csv, "G004", fid, -1, NAN,
                        hypot(X3[0] - X[0], X3[1] - X[1]),
                        "micro-segment: a vertex 0.5 mm along a shared edge");
                break;
            }
            case DK_OVERLAP: {
                sh.n--;
                pt_at(X, d, 0, D_OVERLAP_MOVE, &sh);
                const double *X1 = sh.xy + 2 * (sh.n - 1);
                double quad[8] = {U[0], U[1], X1[0], X1[1],
                                  W[0], W[1], X[0],  X[1]};
                csv_row(csv, "T001", min64(fid, nfid), max64(fid, nfid),
                        poly_area_abs(quad, 4), NAN,
                        "overlap: a shared vertex moved 2 m into the "
                        "neighbour");
                geom = true;
                break;
            }
            case DK_SLIVER: {
                /* split a strip 5 cm wide along X→W off the parcel */
                double bx = W[0] - X[0], by = W[1] - X[1], lb = hypot(bx, by);
                double px = -by / lb * D_SLIVER_WIDTH,
                       py = bx / lb * D_SLIVER_WIDTH;
                double X1[2] = {X[0] + px, X[1] + py},
                       W1[2] = {W[0] + px, W[1] + py};
                pts_push(&sh, X1[0], X1[1]);
                pts_push(&sh, W1[0], W1[1]);
                sliver.n = 0;
                pts_push(&sliver, X[0], X[1]);
                pts_push(&sliver, W[0], W[1]);
                pts_push(&sliver, W1[0], W1[1]);
                pts_push(&sliver, X1[0], X1[1]);
                pts_push(&sliver, X[0], X[1]);
                double a = fabs(ring_area(sliver.xy, sliver.n));
                csv_row(csv, "T003", sliver_fid, -1, a, a,
                        "sliver parcel: a strip 5 cm wide split off a "
                        "parcel");
                geom = true;
                break;
            }
            case DK_NEAR: {
                sh.n--;
                pt_at(X, d, 0, -D_NEAR_MOVE, &sh);
                const double *X1 = sh.xy + 2 * (sh.n - 1);
                double d1 = fmin(seg_dist(X1, U, X), seg_dist(X1, X, W));
                double d2 = fmin(seg_dist(X, U, X1), seg_dist(X, X1, W));
                double quad[8] = {U[0], U[1], X[0],  X[1],
                                  W[0], W[1], X1[0], X1[1]};
                csv_row(csv, "T004", fid, nfid, NAN, d1,
                        "near miss: a shared vertex pulled back 1.5 cm");
                csv_row(csv, "T004", nfid, fid, NAN, d2,
                        "near miss, seen from the neighbour: its vertex is "
                        "off this parcel's new edges");
                csv_row(csv, "T002", -1, -1, poly_area_abs(quad, 4), NAN,
                        "the near miss leaves a gap");
                geom = true;
                break;
            }
            default:
                break;
            }
        }
        check(om_layer_begin_feature(l, fid, &err), &err, "layer");
        check(om_layer_begin_part(l, &err), &err, "layer");
        check(om_layer_add_ring(l, sh.xy, sh.n, &err), &err, "layer");
        size_t r0 = v.ring_start[v.part_start[k]];
        for (size_t r = r0 + 1; r < v.ring_start[v.part_start[k] + 1]; r++) {
            check(om_layer_add_ring(l, v.xy + 2 * v.point_start[r],
                                    v.point_start[r + 1] - v.point_start[r],
                                    &err),
                  &err, "layer");
        }
        if (extra.n) {
            check(om_layer_add_ring(l, extra.xy, extra.n, &err), &err, "layer");
        }
        /* quiet parcels have no island holes: the shell is the parcel */
        double ell = ring_area_ell(ac, sh.xy, sh.n);
        if (kind == DK_MULTI) {
            size_t n2;
            const double *R2 = shell_of(&v, (size_t)d->y, &n2);
            check(om_layer_begin_part(l, &err), &err, "layer");
            check(om_layer_add_ring(l, R2, n2, &err), &err, "layer");
            ell += ring_area_ell(ac, R2, n2);
            csv_row(csv, "G006", fid, -1, NAN, NAN,
                    "multi-part parcel: a parcel 9 cells away joined as a "
                    "second part");
            geom = true;
        }
        copy_attrs(l, dltb, (size_t)k);
        if (geom) {
            set_areas(l, dltb, (size_t)k, ell, 0);
        }
        char buf[64];
        switch (kind) {
        case DK_BLANK:
            set_text(l, fDLBM, NULL);
            csv_row(csv, "A003", fid, -1, NAN, NAN, "DLBM blank (NULL)");
            break;
        case DK_BADCODE:
            set_text(l, fDLBM, D_BADCODE);
            csv_row(csv, "A004", fid, -1, NAN, NAN,
                    "DLBM " D_BADCODE ": not a land-use code");
            break;
        case DK_DUPBSM:
            snprintf(buf, sizeof buf, "%s%012d", g_code, d->y + 1);
            set_text(l, fBSM, buf);
            csv_row(csv, "A005", max64(fid, d->y + 1), min64(fid, d->y + 1),
                    NAN, NAN, "BSM of another parcel");
            break;
        case DK_NETAREA: {
            int64_t tb = llround(om_layer_get_real(dltb, (size_t)k, fT) * 100);
            int64_t kc = llround(om_layer_get_real(dltb, (size_t)k, fK) * 100);
            double net = (double)(tb - kc + D_NET_DELTA) / 100.0;
            set_real(l, fN, net);
            csv_row(csv, "A006", fid, -1, NAN,
                    net - ((double)tb / 100.0 - (double)kc / 100.0),
                    "TBDLMJ 12.34 m2 more than TBMJ - KCMJ");
            break;
        }
        case DK_AREA: {
            set_areas(l, dltb, (size_t)k, ell * D_AREA_FACTOR, 0);
            double tb = (double)llround(ell * D_AREA_FACTOR * 100.0) / 100.0;
            csv_row(csv, "A007", fid, -1, NAN, tb - ell,
                    "TBMJ 10 % larger than the ellipsoidal area");
            break;
        }
        case DK_GAP:
        default:
            break;
        }
        check(om_layer_end_feature(l, &err), &err, "layer");
        if (kind == DK_SLIVER) {
            /* the strip split off, as its own parcel */
            check(om_layer_begin_feature(l, sliver_fid, &err), &err, "layer");
            check(om_layer_begin_part(l, &err), &err, "layer");
            check(om_layer_add_ring(l, sliver.xy, sliver.n, &err), &err,
                  "layer");
            copy_attrs(l, dltb, (size_t)k);
            snprintf(buf, sizeof buf, "%s%012lld", g_code,
                     (long long)sliver_fid);
            set_text(l, fBSM, buf);
            snprintf(buf, sizeof buf, "%s-1",
                     om_layer_get_text(dltb, (size_t)k, fTBBH));
            set_text(l, fTBBH, buf);
            set_areas(l, dltb, (size_t)k,
                      ring_area_ell(ac, sliver.xy, sliver.n), 0);
            check(om_layer_end_feature(l, &err), &err, "layer");
        }
    }
    /* the deleted parcel is a gap of its own area */
    {
        size_t n;
        const double *R = shell_of(&v, (size_t)ds[DK_GAP].k, &n);
        char what[96];
        snprintf(what, sizeof what, "gap: parcel %d (BSM %s%012d) deleted",
                 ds[DK_GAP].k + 1, g_code, ds[DK_GAP].k + 1);
        csv_row(csv, "T002", -1, -1, fabs(ring_area(R, n)), NAN, what);
    }
    /* an empty feature: the attributes of a parcel, no geometry, no area */
    check(om_layer_begin_feature(l, empty_fid, &err), &err, "layer");
    copy_attrs(l, dltb, (size_t)ds[DK_GAP].k);
    {
        char buf[64];
        snprintf(buf, sizeof buf, "%s%012lld", g_code, (long long)empty_fid);
        set_text(l, fBSM, buf);
    }
    set_real(l, fT, 0);
    set_real(l, fK, 0);
    set_real(l, fN, 0);
    check(om_layer_end_feature(l, &err), &err, "layer");
    csv_row(csv, "G005", empty_fid, -1, NAN, NAN,
            "empty geometry (the deleted parcel's attributes, areas 0)");

    snprintf(path, sizeof path, "%s/defects/DLTB_defects.gpkg", outdir);
    write_layer(l, path, NULL, false);
    if (fclose(csv) != 0) {
        die("cannot write %s/defects/expected.csv", outdir);
    }
    om_layer_free(l);
    free(sh.xy);
    free(extra.xy);
    free(sliver.xy);
}

/* ---- city and province mosaics ----
 *
 * N x N counties in one province grid of (N cells) x (N cells) cells: a
 * global function of the cell (nearest seed of a jittered county lattice
 * after a smooth domain warp, inside a province outline with a ragged
 * edge) gives every cell exactly one county, so neighbouring counties
 * complement each other exactly. Each county is generated by a forked
 * child in a window of the province grid (its cells' bounding square)
 * with today's pipeline and a seed of its own; node and edge ids are
 * global, so a border edge gets identical vertices from both sides. The
 * child writes its layers to DIR/.tmp/countyNNN.gpkg; the parent appends
 * the counties in county order to the final GeoPackages with the
 * streaming writer, so the output does not depend on -j.
 */

#define CITY_BLOCK 5 /* counties per city side: city codes 2201.. */
#define BIG_RED_EVERY 25

struct mosaic {
    int n;        /* counties per side */
    int cells;    /* county lattice spacing, cells (0.85 --cells) */
    int gw, gh;   /* province grid, cells */
    int32_t *cty; /* per province cell: county index, -1 outside */
    int ncty;
    int *i0, *j0, *i1, *j1; /* per county: bounding box of its cells */
    size_t *ncells;
    char (*code)[8];
    char (*name)[64];
    int sites_county;
    int jobs;
    bool fgb;
    const char *outdir;
    char tmpdir[4096];
    pid_t *pid;
    int *state; /* 0 pending, 1 running, 2 finished */
};

static struct mosaic M;

static int g_county = -1; /* this child's county */

/* v (1..999) in Chinese numerals: 一, 十二, 一百零五. */
static void cn_number(int v, char *buf, size_t size)
{
    static const char *const d[10] = {"零", "一", "二", "三", "四",
                                      "五", "六", "七", "八", "九"};
    int h = v / 100, t = v / 10 % 10, o = v % 10;
    buf[0] = 0;
    size_t n = 0;
#define CAT(s) n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s", s)
    if (h) {
        CAT(d[h]);
        CAT("百");
        if (t == 0 && o) {
            CAT("零");
        }
    }
    if (t) {
        if (t > 1 || h) {
            CAT(d[t]);
        }
        CAT("十");
    }
    if (o) {
        CAT(d[o]);
    }
#undef CAT
}

static void build_province(int n, int cells)
{
    /* lattice spacing: the county of a --cells N county run fills about
     * 72 % of its N x N grid, so a mosaic county of 0.85 N x 0.85 N cells
     * has about its area and parcels */
    cells = (int)lround(0.85 * cells);
    M.n = n;
    M.cells = cells;
    M.ncty = n * n;
    M.gw = M.gh = n * cells;
    G.w = G.h = M.gw;
    G.ncells = (size_t)M.gw * (size_t)M.gh;
    /* the province outline: the N x N block with bites out of its edge */
    uint8_t *pm = xcalloc(G.ncells, 1);
    for (int j = 0; j < G.h; j++) {
        for (int i = 0; i < G.w; i++) {
            double x = i + 0.5, y = j + 0.5;
            int db = i < j ? i : j;
            db = db < G.w - 1 - i ? db : G.w - 1 - i;
            db = db < G.h - 1 - j ? db : G.h - 1 - j;
            double depth =
                cells * 0.5 * (fbm(S_PROV, x, y, cells / 3.0) - 0.45);
            pm[cell_id(i, j)] = db + 0.5 >= depth;
        }
    }
    (void)clean_mask(pm);
    M.cty = xmalloc(G.ncells * sizeof(int32_t));
    for (size_t c = 0; c < G.ncells; c++) {
        double x = (double)(c % (size_t)G.w) + 0.5;
        double y = (double)(c / (size_t)G.w) + 0.5;
        M.cty[c] = pm[c] ? (int32_t)nearest_seed(S_COUNTY, x, y, cells, n) : -1;
    }
    free(pm);
    make_connected(M.cty, M.ncty, NULL);
    M.i0 = xmalloc((size_t)M.ncty * sizeof(int));
    M.j0 = xmalloc((size_t)M.ncty * sizeof(int));
    M.i1 = xmalloc((size_t)M.ncty * sizeof(int));
    M.j1 = xmalloc((size_t)M.ncty * sizeof(int));
    M.ncells = xcalloc((size_t)M.ncty, sizeof(size_t));
    for (int k = 0; k < M.ncty; k++) {
        M.i0[k] = M.j0[k] = INT32_MAX;
        M.i1[k] = M.j1[k] = -1;
    }
    for (size_t c = 0; c < G.ncells; c++) {
        int k = M.cty[c];
        if (k < 0) {
            continue;
        }
        int i = (int)(c % (size_t)G.w), j = (int)(c / (size_t)G.w);
        M.i0[k] = i < M.i0[k] ? i : M.i0[k];
        M.j0[k] = j < M.j0[k] ? j : M.j0[k];
        M.i1[k] = i > M.i1[k] ? i : M.i1[k];
        M.j1[k] = j > M.j1[k] ? j : M.j1[k];
        M.ncells[k]++;
    }
    /* codes 22 CC KK: cities of CITY_BLOCK x CITY_BLOCK counties */
    M.code = xcalloc((size_t)M.ncty, sizeof *M.code);
    M.name = xcalloc((size_t)M.ncty, sizeof *M.name);
    int cb = (n + CITY_BLOCK - 1) / CITY_BLOCK;
    for (int k = 0; k < M.ncty; k++) {
        if (M.ncells[k] < (size_t)cells * (size_t)cells / 8) {
            die("internal: county %d has only %zu cells", k, M.ncells[k]);
        }
        int cx = k % n, cy = k / n;
        int city = (cy / CITY_BLOCK) * cb + cx / CITY_BLOCK;
        int within = (cy % CITY_BLOCK) * CITY_BLOCK + cx % CITY_BLOCK;
        snprintf(M.code[k], sizeof M.code[k], "22%02u%02u",
                 (unsigned)(city + 1) % 100u, (unsigned)(within + 1) % 100u);
        char num[40];
        cn_number(k + 1, num, sizeof num);
        snprintf(M.name[k], sizeof M.name[k], "示范%s县", num);
    }
    M.sites_county = (n / 2) * n + n / 2;
}

/* Set the window and the county globals for county k (in the child). */
static void enter_county(int k)
{
    int i0 = M.i0[k] > 0 ? M.i0[k] - 1 : 0;
    int j0 = M.j0[k] > 0 ? M.j0[k] - 1 : 0;
    int w = M.i1[k] + 2 - i0, h = M.j1[k] + 2 - j0;
    int side = w > h ? w : h; /* square: the lattices assume it */
    OI = i0;
    OJ = j0;
    GW = M.gw;
    G.w = G.h = side;
    G.ncells = (size_t)side * (size_t)side;
    X0 = X0_BASE + CELL_M * OI;
    Y0 = Y0_BASE + CELL_M * OJ;
    g_county = k;
    g_mosaic = true;
    snprintf(g_code, sizeof g_code, "%s", M.code[k]);
    snprintf(g_name, sizeof g_name, "%s", M.name[k]);
    snprintf(g_where, sizeof g_where, "county %s (%s): ", g_code, g_name);
    g_seed = mix64(g_base ^ mix64(0x636f756e7479ull + (uint64_t)k));
    g_big_red = 0;
    if (k % BIG_RED_EVERY == 7) {
        g_big_red = 100000 + (int)(900000 * u01b(S_STAR, 999, (uint64_t)k));
    }
    K.mask = xcalloc(G.ncells, 1);
    K.ncounty = 0;
    for (int j = 0; j < G.h; j++) {
        for (int i = 0; i < G.w; i++) {
            int gi = i + OI, gj = j + OJ;
            if (gi < M.gw && gj < M.gh &&
                M.cty[(size_t)gj * (size_t)M.gw + (size_t)gi] == k) {
                K.mask[cell_id(i, j)] = 1;
                K.ncounty++;
            }
        }
    }
}

/* XZQ_XIAN: the county outline, traced on the grid graph like the rest. */
static struct om_layer *build_xian(struct area_calc *ac)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new("XZQ_XIAN", &l, &err), &err, "layer");
    check(om_layer_set_crs(l, "EPSG:4530", &err), &err, "layer");
    int fDM = add_field(l, "XZQDM", OM_FIELD_TEXT);
    int fMC = add_field(l, "XZQMC", OM_FIELD_TEXT);
    int fMJ = add_field(l, "MJ", OM_FIELD_REAL);
    int32_t *key = xmalloc(G.ncells * sizeof(int32_t));
    size_t first = SIZE_MAX;
    for (size_t c = 0; c < G.ncells; c++) {
        key[c] = K.mask[c] ? 0 : -1;
        if (K.mask[c] && first == SIZE_MAX) {
            first = c;
        }
    }
    struct tracer tr;
    tracer_init(&tr, key);
    struct poly poly = {0};
    size_t n = trace_component(&tr, first, 1, &poly);
    if (n != K.ncounty) {
        die("internal: county outline holds %zu of %zu cells", n, K.ncounty);
    }
    check(om_layer_begin_feature(l, 1, &err), &err, "layer");
    double ell, planar;
    add_poly(l, &poly, ac, &ell, &planar);
    set_text(l, fDM, g_code);
    set_text(l, fMC, g_name);
    set_real(l, fMJ, cents(ell));
    check(om_layer_end_feature(l, &err), &err, "layer");
    tracer_deinit(&tr);
    poly_free(&poly);
    free(key);
    return l;
}

static void county_tmp(int k, const char *ext, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/county%03d.%s", M.tmpdir, k, ext);
    if (n < 0 || (size_t)n >= size) {
        die("path too long: %s", M.tmpdir);
    }
}

/* The child: generate county k into its temporary GeoPackage. */
static void run_county(int k, int nsites)
{
    enter_county(k);
    build_towns();
    build_villages();
    build_landuse();
    build_parcels(NULL);
    struct om_error err;
    struct om_crs *gk;
    check(om_crs_new("EPSG:4530", &gk, &err), &err, "CRS");
    struct area_calc ac;
    check(om_area_ctx_new(gk, &ac.ctx, &err), &err, "area context");
    struct totals tot = {0}, tot2 = {0};
    char path[4096], txt[4096];
    county_tmp(k, "gpkg", path, sizeof path);
    county_tmp(k, "txt", txt, sizeof txt);
    struct om_layer *dltb = build_dltb(&ac, &tot, SURVEY_YEAR, NULL, NULL);
    write_layer(dltb, path, NULL, false);
    struct om_layer *xzq = build_xzq(&ac, &tot);
    write_layer(xzq, path, NULL, true);
    om_layer_free(xzq);
    struct om_layer *xian = build_xian(&ac);
    write_layer(xian, path, NULL, true);
    om_layer_free(xian);
    struct om_polyops *ops;
    check(om_polyops_new(&ops, &err), &err, "GEOS");
    struct om_layer *plan[4] = {build_jbnt(&ac, &tot), build_stbhhx(&ac, &tot),
                                build_czkfbj(&ac, &tot), NULL};
    plan_ghyt(ops, dltb, plan[2], plan[1]);
    plan[3] = build_ghyt(dltb, &tot);
    for (int m = 0; m < 4; m++) {
        write_layer(plan[m], path, NULL, true);
    }
    size_t red_points = 0;
    {
        struct om_layer_view v;
        om_layer_view(plan[1], &v);
        red_points = v.npoints;
    }
    if (k == M.sites_county && nsites > 0) {
        struct site_ctx sc = {0};
        sc.ops = ops;
        sc.dltb = dltb;
        sc.jbnt = plan[0];
        sc.stbhhx = plan[1];
        sc.czkfbj = plan[2];
        check(om_layer_new("scratch", &sc.scratch, &err), &err, "layer");
        build_sites(&sc, M.outdir, nsites, &tot);
        om_layer_free(sc.scratch);
        free(sc.tmp.xy);
    }
    for (int m = 0; m < 4; m++) {
        om_layer_free(plan[m]);
    }
    om_layer_free(dltb);
    om_polyops_free(ops);
    size_t nchanged[4] = {0};
    struct om_layer *y2 = build_year2(&ac, &tot2, nchanged);
    check(om_layer_set_name(y2, "DLTB_2024", &err), &err, "layer");
    write_layer(y2, path, NULL, true);
    om_layer_free(y2);
    om_area_ctx_free(ac.ctx);
    om_crs_free(gk);
    FILE *f = fopen(txt, "w");
    if (!f) {
        die("cannot write %s: %s", txt, strerror(errno));
    }
    fprintf(f,
            "%zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu "
            "%zu %zu\n",
            tot.nparcels, tot.nislands, tot.nxzq, tot.njbnt, tot.nstbhhx,
            tot.nczkfbj, tot.nghyt, tot.nsites, tot.dltb_points, red_points,
            tot2.nparcels, tot2.dltb_points, K.ncounty, nchanged[0],
            nchanged[1], nchanged[2], nchanged[3],
            nchanged[0] + nchanged[1] + nchanged[2] + nchanged[3]);
    fprintf(f, "%.17g %.17g %.17g %.17g %.17g\n", tot.dltb_planar, tot.dltb_ell,
            tot.xzq_planar, tot.jbnt_ell, tot2.dltb_planar);
    if (fclose(f) != 0) {
        die("cannot write %s", txt);
    }
}

/* What the counties add up to. */
#define MT_NV 18
struct mtotals {
    size_t v[MT_NV];
    double d[5];
};

enum {
    MT_PARCELS,
    MT_ISLANDS,
    MT_XZQ,
    MT_JBNT,
    MT_RED,
    MT_CZK,
    MT_GHYT,
    MT_SITES,
    MT_POINTS,
    MT_REDPOINTS,
    MT_PARCELS2,
    MT_POINTS2,
    MT_CELLS,
    MT_GROW,
    MT_RETURN,
    MT_RECLAIM,
    MT_ROAD,
    MT_CHANGED
};

/* The outputs: temporary layer -> final file and layer. */
struct target {
    const char *tmp_layer;
    int file;
    const char *layer;
};

static const char *const out_files[] = {
    "landuse/DLTB.gpkg", "landuse/DLTB_2024.gpkg", "admin/XZQ.gpkg",
    "plan.gpkg", "landuse/DLTB.fgb"};
#define NOUT_FILES 5

static const struct target targets[] = {
    {"DLTB", 0, "DLTB"},         {"DLTB", 4, "DLTB"},
    {"DLTB_2024", 1, "DLTB"},    {"XZQ", 2, "XZQ"},
    {"XZQ_XIAN", 2, "XZQ_XIAN"}, {"YJJBNTBHTB", 3, "YJJBNTBHTB"},
    {"STBHHX", 3, "STBHHX"},     {"CZKFBJ", 3, "CZKFBJ"},
    {"GHYT", 3, "GHYT"}};
#define NTARGETS (sizeof targets / sizeof targets[0])

static struct om_writer *W[NOUT_FILES];
static int W_index[NTARGETS];
static int64_t W_fid[NTARGETS];

static void remove_county_tmp(int k)
{
    static const char *const ext[] = {"gpkg", "gpkg-journal", "gpkg-wal",
                                      "gpkg-shm", "txt"};
    char path[4096];
    for (size_t e = 0; e < sizeof ext / sizeof ext[0]; e++) {
        county_tmp(k, ext[e], path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT) {
            fprintf(stderr, "synth: cannot remove %s: %s\n", path,
                    strerror(errno));
        }
    }
}

/* On failure in the parent: stop the children, remove partial output. */
static void mosaic_abort(void)
{
    for (int k = 0; k < M.ncty; k++) {
        if (M.state && M.state[k] == 1) {
            kill(M.pid[k], SIGTERM);
        }
    }
    for (int k = 0; k < M.ncty; k++) {
        if (M.state && M.state[k] == 1) {
            int st;
            while (waitpid(M.pid[k], &st, 0) < 0 && errno == EINTR) {
            }
            M.state[k] = 2;
        }
        if (M.state && M.state[k] != 0) {
            remove_county_tmp(k);
        }
    }
    for (int f = 0; f < NOUT_FILES; f++) {
        om_writer_abort(W[f]);
        W[f] = NULL;
    }
    rmdir(M.tmpdir);
}

/* A copy of `src` with fids first, first + 1, ... (GPKG fids must be
 * unique over the whole output). */
static struct om_layer *renumber(const struct om_layer *src, int64_t first)
{
    struct om_error err;
    struct om_layer *l;
    check(om_layer_new(om_layer_name(src), &l, &err), &err, "layer");
    check(om_layer_set_crs(l, om_layer_crs(src), &err), &err, "layer");
    for (int f = 0; f < (int)om_layer_nfields(src); f++) {
        (void)add_field(l, om_layer_field_name(src, f),
                        om_layer_field_type(src, f));
    }
    struct om_layer_view v;
    om_layer_view(src, &v);
    for (size_t k = 0; k < v.nfeatures; k++) {
        check(om_layer_begin_feature(l, first + (int64_t)k, &err), &err,
              "layer");
        copy_geometry(l, &v, k);
        copy_attrs(l, src, k);
        check(om_layer_end_feature(l, &err), &err, "layer");
    }
    return l;
}

static void merge_county(int k, struct mtotals *mt)
{
    char path[4096], txt[4096];
    county_tmp(k, "gpkg", path, sizeof path);
    county_tmp(k, "txt", txt, sizeof txt);
    struct om_error err;
    for (size_t t = 0; t < NTARGETS; t++) {
        int f = targets[t].file;
        if (f == 4 && !M.fgb) {
            continue;
        }
        struct om_read_options ro = {0};
        ro.layer = targets[t].tmp_layer;
        struct om_layer *src;
        check(om_source_read(path, &ro, &src, NULL, &err), &err, path);
        if (!W[f]) {
            char out[4096];
            snprintf(out, sizeof out, "%s/%s", M.outdir, out_files[f]);
            struct om_writer_options wo = {0};
            wo.overwrite = true;
            check(om_writer_open(out, &wo, &W[f], &err), &err, out);
        }
        if (W_index[t] < 0) {
            check(om_writer_add_layer(W[f], targets[t].layer, src, &W_index[t],
                                      &err),
                  &err, out_files[f]);
            W_fid[t] = 1;
        }
        struct om_layer *l = renumber(src, W_fid[t]);
        W_fid[t] += (int64_t)om_layer_nfeatures(src);
        om_layer_free(src);
        check(om_writer_add(W[f], W_index[t], l, NULL, &err), &err,
              out_files[f]);
        om_layer_free(l);
    }
    FILE *fp = fopen(txt, "r");
    if (!fp) {
        die("county %s: cannot read %s: %s", M.code[k], txt, strerror(errno));
    }
    struct mtotals c;
    int got = 0;
    for (int m = 0; m < MT_NV; m++) {
        got += fscanf(fp, "%zu", &c.v[m]) == 1;
    }
    for (int m = 0; m < 5; m++) {
        got += fscanf(fp, "%lf", &c.d[m]) == 1;
    }
    fclose(fp);
    if (got != MT_NV + 5) {
        die("county %s: %s is incomplete", M.code[k], txt);
    }
    for (int m = 0; m < MT_NV; m++) {
        mt->v[m] += c.v[m];
    }
    for (int m = 0; m < 5; m++) {
        mt->d[m] += c.d[m];
    }
    remove_county_tmp(k);
}

/* SIGINT/SIGTERM/SIGHUP in the parent: stop cleanly at the next step. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    g_stop = sig;
}

static void set_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void start_county(int k, int nsites)
{
    fflush(stdout);
    fflush(stderr);
    pid_t p = fork();
    if (p < 0) {
        die("cannot fork for county %s: %s", M.code[k], strerror(errno));
    }
    if (p == 0) {
        g_child = true;
        g_atdie = NULL;
        set_signals(SIG_DFL);
        run_county(k, nsites);
        fflush(stdout);
        fflush(stderr);
        _exit(0);
    }
    M.pid[k] = p;
    M.state[k] = 1;
}

static void run_mosaic(const char *outdir, unsigned long long seed, int n,
                       int cells, int nsites, int jobs, bool fgb)
{
    double t0 = now_s();
    M.outdir = outdir;
    M.jobs = jobs;
    M.fgb = fgb;
    build_province(n, cells);
    char path[4096];
    static const char *const dirs[] = {"landuse", "admin", ".tmp"};
    for (size_t d = 0; d < 3; d++) {
        snprintf(path, sizeof path, "%s/%s", outdir, dirs[d]);
        mkdir_p(path);
    }
    snprintf(M.tmpdir, sizeof M.tmpdir, "%s/.tmp", outdir);
    for (size_t t = 0; t < NTARGETS; t++) {
        W_index[t] = -1;
    }
    M.pid = xcalloc((size_t)M.ncty, sizeof(pid_t));
    M.state = xcalloc((size_t)M.ncty, sizeof(int));
    g_atdie = mosaic_abort;
    set_signals(on_signal);
    struct mtotals mt = {0};
    bool tty = isatty(2);
    int started = 0, running = 0, merged = 0;
    while (merged < M.ncty) {
        if (g_stop) {
            die("interrupted (signal %d); output removed", (int)g_stop);
        }
        while (running < jobs && started < M.ncty) {
            start_county(started++, nsites);
            running++;
        }
        if (M.state[merged] == 2 && M.pid[merged] == 0) {
            merge_county(merged, &mt);
            merged++;
            if (tty) {
                fprintf(stderr, "\rsynth: county %d of %d merged, %.0f s ",
                        merged, M.ncty, now_s() - t0);
                fflush(stderr);
            }
            continue;
        }
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0) {
            if (errno == EINTR) {
                continue;
            }
            die("waitpid: %s", strerror(errno));
        }
        int k = 0;
        while (k < M.ncty && !(M.state[k] == 1 && M.pid[k] == p)) {
            k++;
        }
        if (k == M.ncty) {
            continue;
        }
        running--;
        M.state[k] = 2;
        M.pid[k] = 0;
        if (g_stop) {
            continue; /* reported at the top of the loop */
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (tty) {
                fputc('\n', stderr);
            }
            die("county %s (%s) failed (%s %d); output removed", M.code[k],
                M.name[k], WIFEXITED(st) ? "exit status" : "signal",
                WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        }
    }
    if (tty) {
        fputc('\n', stderr);
    }
    struct om_error err;
    for (int f = 0; f < NOUT_FILES; f++) {
        if (W[f]) {
            struct om_writer *w = W[f];
            W[f] = NULL;
            check(om_writer_close(w, &err), &err, out_files[f]);
        }
    }
    g_atdie = NULL;
    set_signals(SIG_DFL);
    if (rmdir(M.tmpdir) != 0) {
        die("cannot remove %s: %s", M.tmpdir, strerror(errno));
    }
    double secs = now_s() - t0;
    snprintf(path, sizeof path, "%s/README.txt", outdir);
    FILE *f = fopen(path, "w");
    if (!f) {
        die("cannot write %s: %s", path, strerror(errno));
    }
    fprintf(
        f,
        "Synthetic sample %s of %d x %d counties (%d counties, codes "
        "%s..%s),\ngenerated by onemap synth. NOT real data: every "
        "feature is invented.\nSee docs/SAMPLE-DATA.md.\n\n"
        "seed %llu, province grid %d x %d cells of %.0f m, counties on a "
        "lattice of %d x %d cells\n"
        "CRS: EPSG:4530 (CGCS2000 / 3-degree Gauss-Kruger zone 42, "
        "eastings with zone prefix 42)\n\n"
        "landuse/DLTB.gpkg       DLTB: %zu parcels (%zu island parcels), "
        "%zu vertices, SJNF 2023\n"
        "landuse/DLTB_2024.gpkg  DLTB: %zu parcels, %zu vertices, SJNF "
        "2024 (annual change:\n"
        "                        %zu cells of %zu changed, %.2f %%: towns "
        "%zu, 退耕 %zu,\n"
        "                        补充耕地 %zu, new road %zu)\n"
        "%s"
        "admin/XZQ.gpkg          XZQ: %zu townships; XZQ_XIAN: %d "
        "counties\n"
        "plan.gpkg               YJJBNTBHTB %zu, STBHHX %zu (%zu "
        "vertices), CZKFBJ %zu, GHYT %zu\n"
        "sites/site*.txt         %zu construction sites in county %s "
        "(%s); expected values\n"
        "                        measured on that county, valid for "
        "the whole mosaic\n\n"
        "area: planar %.2f m2 (sum of DLTB), townships %.2f m2\n"
        "sum of DLTB ellipsoidal areas: %.2f m2\n"
        "sum of YJJBNTBHTB ellipsoidal areas: %.2f m2\n",
        n >= 10 ? "province" : "city", n, n, M.ncty, M.code[0],
        M.code[M.ncty - 1], seed, M.gw, M.gh, CELL_M, M.cells, M.cells,
        mt.v[MT_PARCELS], mt.v[MT_ISLANDS], mt.v[MT_POINTS], mt.v[MT_PARCELS2],
        mt.v[MT_POINTS2], mt.v[MT_CHANGED], mt.v[MT_CELLS],
        100.0 * (double)mt.v[MT_CHANGED] / (double)mt.v[MT_CELLS],
        mt.v[MT_GROW], mt.v[MT_RETURN], mt.v[MT_RECLAIM], mt.v[MT_ROAD],
        fgb ? "landuse/DLTB.fgb        the same DLTB as FlatGeobuf\n" : "",
        mt.v[MT_XZQ], M.ncty, mt.v[MT_JBNT], mt.v[MT_RED], mt.v[MT_REDPOINTS],
        mt.v[MT_CZK], mt.v[MT_GHYT], mt.v[MT_SITES], M.code[M.sites_county],
        M.name[M.sites_county], mt.d[0], mt.d[2], mt.d[1], mt.d[3]);
    if (fclose(f) != 0) {
        die("cannot write %s", path);
    }
    /* peak memory: this process, and the largest child (county) */
    struct rusage self = {0}, kids = {0};
    (void)getrusage(RUSAGE_SELF, &self);
    (void)getrusage(RUSAGE_CHILDREN, &kids);
    printf("synth: %s: %zu parcels, %zu townships, %d counties, %zu farmland "
           "patches, %zu red lines, %zu development boundaries, %zu sites, "
           "%zu vertices, %.1f s, peak memory %.0f MB (parent) / %.0f MB "
           "(county)\n",
           outdir, mt.v[MT_PARCELS], mt.v[MT_XZQ], M.ncty, mt.v[MT_JBNT],
           mt.v[MT_RED], mt.v[MT_CZK], mt.v[MT_SITES],
           mt.v[MT_POINTS] + mt.v[MT_POINTS2] + mt.v[MT_REDPOINTS], secs,
           (double)self.ru_maxrss / 1024.0, (double)kids.ru_maxrss / 1024.0);
    free(M.cty);
    free(M.i0);
    free(M.j0);
    free(M.i1);
    free(M.j1);
    free(M.ncells);
    free(M.code);
    free(M.name);
    free(M.pid);
    free(M.state);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: synth [--seed N] [--cells N] [--sites N] [--defects] -o "
            "DIR\n"
            "       synth --scale city|province | --counties N [-j N] [--fgb] "
            "[--seed N]\n"
            "             [--cells N] [--sites N] -o DIR\n"
            "  --seed N   random seed (default %d); same seed, same bytes\n"
            "  --cells N  grid cells per side (default %d: about 20,000 "
            "parcels;\n"
            "             parcels grow with N², e.g. 1200 gives ~500,000)\n"
            "  --sites N  construction sites written to DIR/sites (default "
            "%d, 0-120)\n"
            "  --defects  also write DIR/defects/DLTB_defects.gpkg (DLTB with "
            "one\n"
            "             defect of each kind onemap qc checks) and "
            "expected.csv\n"
            "  --scale S  county (default), city (5 x 5 counties, ~750,000 "
            "parcels)\n"
            "             or province (10 x 10, ~3,000,000 parcels)\n"
            "  --counties N  N x N counties of --cells x --cells cells "
            "(1-40)\n"
            "  -j N       counties generated at once (default 2)\n"
            "  --fgb      mosaic: also write landuse/DLTB.fgb (FlatGeobuf)\n",
            DEFAULT_SEED, DEFAULT_CELLS, DEFAULT_SITES);
}

int main(int argc, char **argv)
{
    const char *outdir = NULL;
    unsigned long long seed = DEFAULT_SEED;
    long cells = DEFAULT_CELLS;
    long nsites = DEFAULT_SITES;
    bool defects = false;
    long counties = 1, jobs = 2;
    bool fgb = false;
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
        } else if (strcmp(argv[a], "--sites") == 0 && a + 1 < argc) {
            nsites = strtol(argv[++a], &end, 10);
            if (*end || nsites < 0 || nsites > 120) {
                die("--sites wants an integer from 0 to 120");
            }
        } else if (strcmp(argv[a], "--defects") == 0) {
            defects = true;
        } else if (strcmp(argv[a], "--scale") == 0 && a + 1 < argc) {
            const char *v = argv[++a];
            if (strcmp(v, "county") == 0) {
                counties = 1;
            } else if (strcmp(v, "city") == 0) {
                counties = 5;
            } else if (strcmp(v, "province") == 0) {
                counties = 10;
            } else {
                die("--scale wants county, city or province");
            }
        } else if (strcmp(argv[a], "--counties") == 0 && a + 1 < argc) {
            counties = strtol(argv[++a], &end, 10);
            if (*end || counties < 1 || counties > 40) {
                die("--counties wants an integer from 1 to 40");
            }
        } else if (strcmp(argv[a], "-j") == 0 && a + 1 < argc) {
            jobs = strtol(argv[++a], &end, 10);
            if (*end || jobs < 1 || jobs > 64) {
                die("-j wants an integer from 1 to 64");
            }
        } else if (strcmp(argv[a], "--fgb") == 0) {
            fgb = true;
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
    g_seed = g_base = mix64(seed);
    /* GDAL stamps GeoPackages with the current time unless told a date */
    if (setenv("OGR_CURRENT_DATE", "2023-12-31T00:00:00.000Z", 1) != 0) {
        die("cannot set OGR_CURRENT_DATE");
    }
    if (counties > 1) {
        if (counties * lround(0.85 * cells) > 6400) {
            die("--counties %ld x --cells %ld is too large: at most 6400 "
                "cells per province side",
                counties, cells);
        }
        if (defects) {
            die("--defects is for one county (no --scale/--counties)");
        }
        run_mosaic(outdir, seed, (int)counties, (int)cells, (int)nsites,
                   (int)jobs, fgb);
        return 0;
    }
    if (fgb) {
        die("--fgb is for mosaics (--scale city|province or --counties N)");
    }
    double t0 = now_s();
    G.w = G.h = (int)cells;
    GW = G.w;
    G.ncells = (size_t)cells * (size_t)cells;

    build_mask();
    build_towns();
    build_villages();
    build_landuse();
    build_parcels(NULL);

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

    struct om_layer *dltb = build_dltb(&ac, &tot, SURVEY_YEAR, NULL, NULL);
    snprintf(path, sizeof path, "%s/landuse/DLTB.shp", outdir);
    write_layer(dltb, path, "CP936", false);
    snprintf(path, sizeof path, "%s/landuse/DLTB.cpg", outdir);
    if (unlink(path) != 0 && errno != ENOENT) {
        die("cannot remove %s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof path, "%s/landuse/DLTB.dbf", outdir);
    fix_dbf(path);
    if (defects) {
        build_defects(dltb, &ac, outdir);
    }

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
     * parcels only to ~2e-7 m (the realistic case), the GPKG's exactly.
     * GHYT (planned land use) is derived from the parcels and the other
     * plan layers, so it comes last. */
    struct om_polyops *ops;
    check(om_polyops_new(&ops, &err), &err, "GEOS");
    struct om_layer *plan[4] = {build_jbnt(&ac, &tot), build_stbhhx(&ac, &tot),
                                build_czkfbj(&ac, &tot), NULL};
    plan_ghyt(ops, dltb, plan[2], plan[1]);
    plan[3] = build_ghyt(dltb, &tot);
    char gpkg[4096];
    snprintf(path, sizeof path, "%s/plan.gdb", outdir);
    snprintf(gpkg, sizeof gpkg, "%s/plan.gpkg", outdir);
    remove_gdb(path);
    for (int k = 0; k < 4; k++) {
        write_layer(plan[k], path, NULL, k > 0);
        write_layer(plan[k], gpkg, NULL, k > 0);
    }

    struct site_ctx sc = {0};
    sc.ops = ops;
    sc.dltb = dltb;
    sc.jbnt = plan[0];
    sc.stbhhx = plan[1];
    sc.czkfbj = plan[2];
    check(om_layer_new("scratch", &sc.scratch, &err), &err, "layer");
    build_sites(&sc, outdir, (int)nsites, &tot);
    om_layer_free(sc.scratch);
    free(sc.tmp.xy);
    for (int k = 0; k < 4; k++) {
        om_layer_free(plan[k]);
    }
    om_layer_free(dltb);
    om_polyops_free(ops);

    /* the second-year snapshot (annual change survey) */ struct totals tot2 = {
        0};
    size_t nchanged[4];
    struct om_layer *y2 = build_year2(&ac, &tot2, nchanged);
    snprintf(path, sizeof path, "%s/landuse/DLTB_2024.gpkg", outdir);
    write_layer(y2, path, NULL, false);
    om_layer_free(y2);

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
            "plan.gdb/GHYT         %zu planned land-use features "
            "(用地用海 2023, one per parcel)\n"
            "plan.gpkg             the same four layers with exact "
            "coordinates\n"
            "                      (FileGDB snaps to its grid: ~2e-7 m)\n"
            "sites/site*.txt       %zu construction sites (部标 TXT, GBK); "
            "sites/README.md\n"
            "                      says what each shows and its expected "
            "review decisions\n\n"
            "county area: planar %.2f m2, ellipsoidal %.2f m2\n"
            "sum of DLTB planar areas: %.2f m2\n"
            "sum of YJJBNTBHTB ellipsoidal areas: %.2f m2\n",
            g_name, g_code, seed, G.w, G.h, CELL_M, tot.nparcels, tot.nislands,
            tot.dltb_points, tot.nxzq, tot.njbnt, tot.nstbhhx, tot.nczkfbj,
            tot.nghyt, tot.nsites, tot.xzq_planar, tot.dltb_ell,
            tot.dltb_planar, tot.jbnt_ell);
    if (fclose(f) != 0) {
        die("cannot write %s", path);
    }
    printf("synth: %s: %zu parcels, %zu townships, %zu farmland patches, "
           "%zu red lines, %zu development boundaries, %zu sites, %zu "
           "vertices, %.1f s\n",
           outdir, tot.nparcels, tot.nxzq, tot.njbnt, tot.nstbhhx, tot.nczkfbj,
           tot.nsites, tot.dltb_points, now_s() - t0);

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
    free(JSEL);
    free(Z.in_czk);
    free(Z.meet_czk);
    free(Z.red);
    free(Z.ghyt);
    free(RED_COVER);
    return 0;
}
