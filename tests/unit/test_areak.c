/*
 * test_areak.c — the exact area kernel (OM_ENGINE_KERNEL) against the GEOS
 * overlay (OM_ENGINE_GEOS), as property tests on seeded pseudo-random
 * layers in projected-looking coordinates (x ~ 4.25e7 or 5e5, y ~ 4.8e6,
 * as in the CGCS2000 GK zones), where cancellation shows.
 *
 * Every scene is overlaid (inside and outside pieces) with and without its
 * unit layer: GEOS once (-j2), the kernel with -j1 and -j2. Checked:
 *   - both deliver strictly increasing (a, b, unit) keys (the documented
 *     order) and the same keys, areas within 1e-9 relative + 1e-6 m2; a
 *     key that only one side has must be a GEOS sliver (< 1e-6 m2 plus
 *     1e-8 m times the square root of the A feature's area, see
 *     extra_kind) or a piece at the engines' crumb threshold (1e-9
 *     relative + 1e-6 m2); they are counted on the INFO line;
 *   - the kernel's pieces are bit-identical for -j1 and -j2;
 *   - where the B features are disjoint, the pieces of each A feature add
 *     up to its area (both engines);
 *   - on integer rectangles (scenes 6 and 7) both engines are checked
 *     against an exact raster oracle (cell counts).
 * Scenes (each checked valid with GEOS first): 1 generic position, 2
 * shared edges (exact, and with B and units moved by one unit in the last
 * place), 3 vertices on edges,
 * 4 identical polygons / dissolves / nested and filled holes, 5 B features
 * overlapping each other, 6 axis-parallel integer rectangles, 7 ring
 * orientation and repeated points, 8 nothing nearby / no B / no units;
 * then Illinois tracts (us-tracts-2018) against us-atlas counties with the
 * tracts' county dissolve as units.
 *
 * A failure prints, before the FAIL line, the scene, the layer names, the
 * fids and both areas of (at most 12) offending pieces.
 */
#include "geom/setops.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/polyops.h"
#include "test.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "areak_fixtures.h"

static struct pts ringbuf, shapebuf, shapebuf2;

/* ---- building layers (bk, finish: areak_fixtures.h) ---- */

static struct om_layer *new_layer(const char *name)
{
    struct om_layer *l = NULL;
    bk(om_layer_new(name, &l, &btmp));
    return l;
}

/*
 * Ring mangling (scene 7): rings reversed at random, started at a random
 * vertex, with repeated consecutive points.
 */
static struct {
    bool on;
    double p_rev, p_dup;
} mangle;

/*
 * Add the open ring xy[0..n) (closed here) to the current part: a shell
 * counter-clockwise, a hole clockwise, both reversed when `flip`; then
 * mangled when mangling is on.
 */
static void put_ring(struct om_layer *l, const double *xy, size_t n, bool hole,
                     bool flip)
{
    bool rev = (area2(xy, n) > 0.0) == hole;
    rev ^= flip;
    size_t rot = 0;
    if (mangle.on) {
        if (rnd() < mangle.p_rev) {
            rev = !rev;
        }
        rot = (size_t)rndi(0, (int)n - 1);
    }
    ringbuf.n = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = rev ? (rot + n - k) % n : (rot + k) % n;
        pts_push(&ringbuf, xy[2 * i], xy[2 * i + 1]);
        if (mangle.on && rnd() < mangle.p_dup) {
            pts_push(&ringbuf, xy[2 * i], xy[2 * i + 1]);
        }
    }
    pts_push(&ringbuf, ringbuf.xy[0], ringbuf.xy[1]);
    bk(om_layer_add_ring(l, ringbuf.xy, ringbuf.n, &btmp));
}

/* A one-ring feature. */
static void ring_feature(struct om_layer *l, int64_t fid, const struct pts *p,
                         bool flip)
{
    bk(om_layer_begin_feature(l, fid, &btmp));
    bk(om_layer_begin_part(l, &btmp));
    put_ring(l, p->xy, p->n, false, flip);
    bk(om_layer_end_feature(l, &btmp));
}

/* ---- shapes ---- */

/*
 * A star feature around (cx, cy), radius up to rmax, nv vertices; with a
 * star hole; with a second, disjoint star part.
 */
static void star_feature(struct om_layer *l, int64_t fid, double cx, double cy,
                         double rmax, int nv, bool hole, bool multi)
{
    bk(om_layer_begin_feature(l, fid, &btmp));
    for (int part = 0; part < (multi ? 2 : 1); part++) {
        double r = part ? rmax * (0.4 + 0.5 * rnd()) : rmax;
        double x = cx, y = cy;
        if (part) {
            double t = TAU * rnd(), d = rmax + r + 1.0 + 20.0 * rnd();
            x += d * cos(t);
            y += d * sin(t);
        }
        bk(om_layer_begin_part(l, &btmp));
        star(&shapebuf, x, y, 0.5 * r, r, part ? rndi(5, 30) : nv);
        put_ring(l, shapebuf.xy, shapebuf.n, false, false);
        if (hole && part == 0) {
            /* the shell holds the disc of radius 0.24 r (n >= 5) */
            star(&shapebuf, x, y, 0.075 * r, 0.2 * r, rndi(5, 20));
            put_ring(l, shapebuf.xy, shapebuf.n, true, false);
        }
    }
    bk(om_layer_end_feature(l, &btmp));
}

/* A blob feature with 0, 1 or 2 blob holes. */
static void blob_feature(struct om_layer *l, int64_t fid, double cx, double cy,
                         double R, int n, int nholes)
{
    bk(om_layer_begin_feature(l, fid, &btmp));
    bk(om_layer_begin_part(l, &btmp));
    blob(&shapebuf, cx, cy, R, n);
    put_ring(l, shapebuf.xy, shapebuf.n, false, false);
    int nh = n / 4 > 8 ? n / 4 : 8;
    if (nholes == 1) {
        double t = TAU * rnd();
        blob(&shapebuf, cx + 0.1 * R * cos(t), cy + 0.1 * R * sin(t), 0.25 * R,
             nh);
        put_ring(l, shapebuf.xy, shapebuf.n, true, false);
    } else if (nholes == 2) {
        blob(&shapebuf, cx - 0.3 * R, cy, 0.15 * R, nh);
        put_ring(l, shapebuf.xy, shapebuf.n, true, false);
        blob(&shapebuf, cx + 0.3 * R, cy, 0.15 * R, nh);
        put_ring(l, shapebuf.xy, shapebuf.n, true, false);
    }
    bk(om_layer_end_feature(l, &btmp));
}

/*
 * Units as strips between polylines bd[0..n] (each from bottom to top,
 * not crossing each other): unit k lies between bd[k] and bd[k + 1] and
 * shares its boundary polylines, vertex for vertex, with its neighbours.
 */
static struct om_layer *strip_units(const char *name, const struct pts *bd,
                                    int n)
{
    struct om_layer *l = new_layer(name);
    struct pts ring = {0};
    for (int k = 0; l && k < n; k++) {
        strip_ring(&ring, bd, k);
        ring_feature(l, k, &ring, false);
    }
    free(ring.xy);
    finish(l);
    return l;
}

/* Strips at x = x0 + cuts[k], inner boundaries zig-zags of nz vertices. */
static struct om_layer *zigzag_units(const char *name, double x0, double ylo,
                                     double yhi, const double *cuts, int n,
                                     int nz, double amp)
{
    struct pts *bd = xcalloc((size_t)n + 1, sizeof *bd);
    zigzag_bounds(bd, n, x0, cuts, ylo, yhi, nz, amp);
    struct om_layer *l = strip_units(name, bd, n);
    for (int k = 0; k <= n; k++) {
        free(bd[k].xy);
    }
    free(bd);
    return l;
}

/* ---- cell masks and their boundary rings ---- */

/*
 * Nodes of a w x h cell grid: node v = j * (w + 1) + i is at
 * (gx[v], gy[v]) (a jittered grid) or, without gx, at
 * (x0 + i * step, y0 + j * step).
 */
struct nodemap {
    int w, h;
    const double *gx, *gy;
    double x0, y0, step;
};

static void node_xy(const struct nodemap *nm, int v, double *x, double *y)
{
    if (nm->gx) {
        *x = nm->gx[v];
        *y = nm->gy[v];
    } else {
        *x = nm->x0 + (v % (nm->w + 1)) * nm->step;
        *y = nm->y0 + (v / (nm->w + 1)) * nm->step;
    }
}

/* The boundary of a cell set: ring r is node[start[r] .. start[r + 1]). */
struct trace {
    int *node;
    size_t nnode, cap_node;
    size_t *start;
    int *shell;      /* for a hole, its shell ring; -1 for a shell */
    long long *area; /* twice the signed area, in cells */
    double *tx, *ty; /* a cell centre left of the ring's first edge */
    size_t nrings, cap_rings;
};

static void trace_free(struct trace *t)
{
    free(t->node);
    free(t->start);
    free(t->shell);
    free(t->area);
    free(t->tx);
    free(t->ty);
    memset(t, 0, sizeof *t);
}

/* Append the simple cycle cyc[0..n) of nodes as a ring. */
static void trace_ring(struct trace *t, const int *cyc, size_t n, int w,
                       bool merge)
{
    if (t->nrings + 2 > t->cap_rings) {
        t->cap_rings = 2 * t->cap_rings + 8;
        t->start = xrealloc(t->start, t->cap_rings * sizeof *t->start);
        t->shell = xrealloc(t->shell, t->cap_rings * sizeof *t->shell);
        t->area = xrealloc(t->area, t->cap_rings * sizeof *t->area);
        t->tx = xrealloc(t->tx, t->cap_rings * sizeof *t->tx);
        t->ty = xrealloc(t->ty, t->cap_rings * sizeof *t->ty);
    }
    if (t->nrings == 0) {
        t->start[0] = 0;
    }
    size_t r = t->nrings;
    int W1 = w + 1;
    long long a2 = 0;
    for (size_t k = 0; k < n; k++) {
        int p = cyc[(k + n - 1) % n], v = cyc[k], q = cyc[(k + 1) % n];
        long long xi = v % W1, yi = v / W1, xj = q % W1, yj = q / W1;
        a2 += xi * yj - xj * yi;
        /* all steps are unit steps: v is collinear iff both steps agree */
        bool straight = (v - p) == (q - v);
        if (merge && straight) {
            continue;
        }
        if (t->nnode == t->cap_node) {
            t->cap_node = 2 * t->cap_node + 64;
            t->node = xrealloc(t->node, t->cap_node * sizeof *t->node);
        }
        t->node[t->nnode++] = v;
    }
    int dx = cyc[1] % W1 - cyc[0] % W1, dy = cyc[1] / W1 - cyc[0] / W1;
    t->tx[r] = cyc[0] % W1 + 0.5 * dx - 0.5 * dy;
    t->ty[r] = cyc[0] / W1 + 0.5 * dy + 0.5 * dx;
    t->area[r] = a2;
    t->shell[r] = -1;
    t->start[r + 1] = t->nnode;
    t->nrings++;
}

/* Is (px, py) (half-integer) inside ring r (index space)? */
static bool trace_pip(const struct trace *t, size_t r, int w, double px,
                      double py)
{
    bool in = false;
    size_t s = t->start[r], n = t->start[r + 1] - s;
    for (size_t k = 0; k < n; k++) {
        int v = t->node[s + k], q = t->node[s + (k + 1) % n];
        double xi = v % (w + 1), yi = v / (w + 1);
        double xj = q % (w + 1), yj = q / (w + 1);
        if ((yi > py) != (yj > py) &&
            px < xi + (py - yi) * (xj - xi) / (yj - yi)) {
            in = !in;
        }
    }
    return in;
}

/* Directed boundary edge a -> b (a node has at most two outgoing). */
static void add_edge(int *out, int a, int b)
{
    out[2 * a + (out[2 * a] >= 0)] = b;
}

/*
 * Trace the boundary of cells m[j * w + i] != 0: shells counter-clockwise,
 * holes clockwise (index space), each hole given its smallest containing
 * shell. Rings that would pass a node twice (cells touching at a corner)
 * are split there, so parts and holes touch at points, as OGC validity
 * wants. With `merge`, nodes where the boundary goes straight on are left
 * out; otherwise every grid node on the boundary is a vertex.
 */
static bool trace_mask(const uint8_t *m, int w, int h, bool merge,
                       struct trace *t)
{
    int W1 = w + 1;
    size_t nn = (size_t)W1 * (size_t)(h + 1);
    int *out = xrealloc(NULL, 2 * nn * sizeof *out);
    int *pos = xrealloc(NULL, nn * sizeof *pos);
    for (size_t v = 0; v < nn; v++) {
        out[2 * v] = out[2 * v + 1] = -1;
        pos[v] = -1;
    }
#define IN(i, j) ((i) >= 0 && (j) >= 0 && (i) < w && (j) < h && m[(j)*w + (i)])
#define NODE(i, j) ((j)*W1 + (i))
#define EDGE(a, b) add_edge(out, (a), (b))
    for (int j = 0; j < h; j++) {
        for (int i = 0; i < w; i++) {
            if (!IN(i, j)) {
                continue;
            }
            if (!IN(i, j - 1)) {
                EDGE(NODE(i, j), NODE(i + 1, j));
            }
            if (!IN(i + 1, j)) {
                EDGE(NODE(i + 1, j), NODE(i + 1, j + 1));
            }
            if (!IN(i, j + 1)) {
                EDGE(NODE(i + 1, j + 1), NODE(i, j + 1));
            }
            if (!IN(i - 1, j)) {
                EDGE(NODE(i, j + 1), NODE(i, j));
            }
        }
    }
#undef IN
#undef NODE
#undef EDGE
    /* Closed walks (in = out degree everywhere), split into simple cycles
     * with a stack of the nodes on the current path. */
    int *stack = NULL;
    size_t top = 0, cap = 0;
    for (size_t s = 0; s < nn; s++) {
        while (out[2 * s] >= 0 || out[2 * s + 1] >= 0) {
            int v = (int)s;
            top = 0;
            do {
                if (pos[v] >= 0) {
                    size_t p = (size_t)pos[v];
                    trace_ring(t, stack + p, top - p, w, merge);
                    for (size_t k = p + 1; k < top; k++) {
                        pos[stack[k]] = -1;
                    }
                    top = p + 1;
                } else {
                    if (top == cap) {
                        cap = 2 * cap + 64;
                        stack = xrealloc(stack, cap * sizeof *stack);
                    }
                    pos[v] = (int)top;
                    stack[top++] = v;
                }
                int *e = out[2 * v] >= 0 ? &out[2 * v] : &out[2 * v + 1];
                v = *e;
                *e = -1;
            } while (v != (int)s);
            trace_ring(t, stack, top, w, merge);
            for (size_t k = 0; k < top; k++) {
                pos[stack[k]] = -1;
            }
        }
    }
    free(stack);
    free(out);
    free(pos);
    bool ok = t->nrings > 0;
    for (size_t r = 0; r < t->nrings; r++) {
        if (t->area[r] > 0) {
            continue;
        }
        int best = -1;
        for (size_t s = 0; s < t->nrings; s++) {
            if (t->area[s] > 0 && trace_pip(t, s, w, t->tx[r], t->ty[r]) &&
                (best < 0 || t->area[s] < t->area[best])) {
                best = (int)s;
            }
        }
        t->shell[r] = best;
        ok &= best >= 0;
    }
    return ok;
}

/* Ring r of a trace as coordinates. */
static void trace_xy(const struct trace *t, size_t r, const struct nodemap *nm,
                     struct pts *p)
{
    p->n = 0;
    for (size_t k = t->start[r]; k < t->start[r + 1]; k++) {
        double x, y;
        node_xy(nm, t->node[k], &x, &y);
        pts_push(p, x, y);
    }
}

/* Cell set m as feature `fid`: one part per shell, with its holes. */
static void mask_feature(struct om_layer *l, int64_t fid, const uint8_t *m,
                         const struct nodemap *nm, bool merge, bool flip)
{
    struct trace t = {0};
    if (!trace_mask(m, nm->w, nm->h, merge, &t)) {
        if (bst == OM_OK) {
            bst = OM_EINVAL;
            snprintf(berr.msg, sizeof berr.msg,
                     "test bug: mask of %s fid %lld cannot be traced",
                     om_layer_name(l), (long long)fid);
        }
        trace_free(&t);
        return;
    }
    bk(om_layer_begin_feature(l, fid, &btmp));
    for (size_t s = 0; s < t.nrings; s++) {
        if (t.shell[s] >= 0) {
            continue;
        }
        bk(om_layer_begin_part(l, &btmp));
        trace_xy(&t, s, nm, &shapebuf2);
        put_ring(l, shapebuf2.xy, shapebuf2.n, false, flip);
        for (size_t r = 0; r < t.nrings; r++) {
            if (t.shell[r] == (int)s) {
                trace_xy(&t, r, nm, &shapebuf2);
                put_ring(l, shapebuf2.xy, shapebuf2.n, true, flip);
            }
        }
    }
    bk(om_layer_end_feature(l, &btmp));
    trace_free(&t);
}

static uint8_t *mask_new(int w, int h)
{
    return xcalloc((size_t)w * (size_t)h, 1);
}

/* Set cells [i0, i1) x [j0, j1) (clipped to the grid) to v. */
static void mask_rect(uint8_t *m, int w, int h, int i0, int j0, int i1, int j1,
                      uint8_t v)
{
    for (int j = j0 < 0 ? 0 : j0; j < j1 && j < h; j++) {
        for (int i = i0 < 0 ? 0 : i0; i < i1 && i < w; i++) {
            m[j * w + i] = v;
        }
    }
}

/* A jittered grid: n x n cells of `step`, node (i, j) at v = j(n+1) + i. */
struct jgrid {
    int n;
    double *gx, *gy;
    struct nodemap nm;
};

static void jgrid_make(struct jgrid *g, int n, double x0, double y0,
                       double step, double jit)
{
    size_t nn = (size_t)(n + 1) * (size_t)(n + 1);
    g->n = n;
    g->gx = xcalloc(nn, sizeof *g->gx);
    g->gy = xcalloc(nn, sizeof *g->gy);
    for (int j = 0; j <= n; j++) {
        for (int i = 0; i <= n; i++) {
            size_t v = (size_t)j * (size_t)(n + 1) + (size_t)i;
            g->gx[v] = x0 + i * step + jit * (rnd() - 0.5) * step;
            g->gy[v] = y0 + j * step + jit * (rnd() - 0.5) * step;
        }
    }
    g->nm = (struct nodemap){n, n, g->gx, g->gy, 0, 0, 0};
}

static void jgrid_free(struct jgrid *g)
{
    free(g->gx);
    free(g->gy);
}

/* The 4 corners of cell (i, j) of a grid, counter-clockwise from (i, j). */
static void cell_ring(const struct jgrid *g, int i, int j, struct pts *p)
{
    int W1 = g->n + 1;
    int v[4] = {j * W1 + i, j * W1 + i + 1, (j + 1) * W1 + i + 1,
                (j + 1) * W1 + i};
    p->n = 0;
    for (int k = 0; k < 4; k++) {
        pts_push(p, g->gx[v[k]], g->gy[v[k]]);
    }
}

/* Every cell of the grid as a feature of A (fid j * n + i). */
static struct om_layer *grid_cells(const char *name, const struct jgrid *g)
{
    struct om_layer *l = new_layer(name);
    for (int j = 0; l && j < g->n; j++) {
        for (int i = 0; i < g->n; i++) {
            cell_ring(g, i, j, &shapebuf);
            ring_feature(l, j * g->n + i, &shapebuf, false);
        }
    }
    return l;
}

/*
 * Units following the grid lines: unit k = cells t[k * rows + j] <= i <
 * t[(k + 1) * rows + j] of rows j < rows.
 */
static struct om_layer *stair_units(const char *name, const struct nodemap *nm,
                                    const int *t, int nunits, int rows)
{
    struct om_layer *l = new_layer(name);
    uint8_t *m = mask_new(nm->w, nm->h);
    for (int k = 0; l && k < nunits; k++) {
        memset(m, 0, (size_t)nm->w * (size_t)nm->h);
        for (int j = 0; j < rows; j++) {
            mask_rect(m, nm->w, nm->h, t[k * rows + j], j,
                      t[(k + 1) * rows + j], j + 1, 1);
        }
        /* merging straight runs of nodes is only exact on a plain grid:
         * on a jittered one the units would not follow A, nor each other */
        mask_feature(l, k, m, nm, k == 1 && !nm->gx, false);
    }
    free(m);
    finish(l);
    return l;
}

/* ---- running and comparing ---- */

/* One overlay and the layers' views, for messages. */
struct scene {
    char what[160];
    const struct om_layer *a, *b, *u;
    const uint8_t *amask, *bmask; /* selections (NULL: all) */
    struct om_layer_view av, bv, uv;
    double *whole; /* area of each A feature */
};

static void scene_init(struct scene *s, const char *what,
                       const struct om_layer *a, const struct om_layer *b,
                       const struct om_layer *u)
{
    memset(s, 0, sizeof *s);
    snprintf(s->what, sizeof s->what, "%s", what);
    s->a = a;
    s->b = b;
    s->u = u;
    om_layer_view(a, &s->av);
    if (b) {
        om_layer_view(b, &s->bv);
    }
    if (u) {
        om_layer_view(u, &s->uv);
    }
    s->whole = xcalloc(s->av.nfeatures, sizeof *s->whole);
    for (size_t f = 0; f < s->av.nfeatures; f++) {
        s->whole[f] = om_feature_area_planar(&s->av, f);
    }
}

static bool run_list(const struct scene *s, enum om_overlay_engine e,
                     int threads, struct plist *out)
{
    struct om_overlay_options o = {0};
    o.a = s->a;
    o.b = s->b;
    o.units = s->u;
    o.a_mask = s->amask;
    o.b_mask = s->bmask;
    o.inside = o.outside = true;
    o.threads = threads;
    o.engine = e;
    return run_into(&o, s->what, out);
}

/* "A fid 12 (area 1234.5) / B fid 3 / unit fid 1", for messages. */
static const char *describe(const struct scene *s,
                            const struct om_overlay_piece *p, char *buf,
                            size_t size)
{
    char bs[48] = "-", us[48] = "-";
    if (p->b != NONE) {
        snprintf(bs, sizeof bs, "fid %lld", (long long)s->bv.fid[p->b]);
    } else if (s->b) {
        snprintf(bs, sizeof bs, "outside");
    }
    if (p->unit != NONE) {
        snprintf(us, sizeof us, "fid %lld", (long long)s->uv.fid[p->unit]);
    } else if (s->u) {
        snprintf(us, sizeof us, "outside");
    }
    snprintf(buf, size, "%s fid %lld (area %.6f) / %s %s / %s %s",
             om_layer_name(s->a), (long long)s->av.fid[p->a], s->whole[p->a],
             s->b ? om_layer_name(s->b) : "B", bs,
             s->u ? om_layer_name(s->u) : "units", us);
    return buf;
}

/* Keys strictly increasing: the documented delivery order, no repeats. */
static bool check_sorted(const struct scene *s, const struct plist *l,
                         const char *who)
{
    for (size_t i = 1; i < l->n; i++) {
        if (key_cmp(&l->p[i - 1], &l->p[i]) >= 0) {
            char d0[256], d1[256];
            printf("  %s: %s piece %zu [%s] then [%s]\n", s->what, who, i,
                   describe(s, &l->p[i - 1], d0, sizeof d0),
                   describe(s, &l->p[i], d1, sizeof d1));
            FAILF("%s: %s pieces not in (a, b, unit) order", s->what, who);
            return false;
        }
    }
    return true;
}

/* The kernel with -j1 and -j2: the same pieces, areas bit for bit. */
static bool check_same_bits(const struct scene *s, const struct plist *x,
                            const struct plist *y)
{
    size_t n = x->n < y->n ? x->n : y->n;
    for (size_t i = 0; i < n; i++) {
        if (key_cmp(&x->p[i], &y->p[i]) != 0 ||
            memcmp(&x->p[i].planar_m2, &y->p[i].planar_m2, sizeof(double))) {
            char d0[256], d1[256];
            printf("  %s: piece %zu: -j1 [%s] %.17g, -j2 [%s] %.17g\n", s->what,
                   i, describe(s, &x->p[i], d0, sizeof d0), x->p[i].planar_m2,
                   describe(s, &y->p[i], d1, sizeof d1), y->p[i].planar_m2);
            FAILF("%s: kernel pieces differ between -j1 and -j2", s->what);
            return false;
        }
    }
    if (x->n != y->n) {
        FAILF("%s: kernel gives %zu pieces with -j1, %zu with -j2", s->what,
              x->n, y->n);
        return false;
    }
    return true;
}

struct cmp_stats {
    size_t nmatch, sliver_g, sliver_k, crumb_g, crumb_k;
    double worst_abs, worst_rel;
};

/*
 * May a piece be missing on the other side? 1: a sliver, below 1e-6 m2 +
 * a strip 1e-8 m wide (about one rounding step at x ~ 4e7) along a line
 * as long as the A feature is wide: GEOS slivers come from rounded
 * coordinates (the engine's tile cut points), so they grow with the
 * lengths of the edges (5e-6 m2 were seen on Illinois tracts of 1.6e8
 * m2); 2: a piece at the crumb threshold below which both engines drop
 * pieces (overlay.h: 1e-9 of the A feature + 1e-6 m2), where one engine
 * may land just above it and the other just below; 0: no.
 */
static int extra_kind(const struct scene *s, const struct om_overlay_piece *p)
{
    if (fabs(p->planar_m2) < 1e-6 + 1e-8 * sqrt(s->whole[p->a])) {
        return 1;
    }
    if (p->planar_m2 <= 1.001 * (1e-9 * s->whole[p->a] + 1e-6)) {
        return 2;
    }
    return 0;
}

/* All pieces of A feature a in both lists, for a failure message. */
static void dump_feature(const struct scene *s, const struct plist *g,
                         const struct plist *k, size_t a)
{
    char d[256];
    const struct plist *l[2] = {g, k};
    for (int e = 0; e < 2; e++) {
        printf("  %s pieces of %s fid %lld:\n", e ? "kernel" : "GEOS",
               om_layer_name(s->a), (long long)s->av.fid[a]);
        for (size_t i = 0; i < l[e]->n; i++) {
            if (l[e]->p[i].a == a) {
                printf("    [%s] %.17g\n",
                       describe(s, &l[e]->p[i], d, sizeof d),
                       l[e]->p[i].planar_m2);
            }
        }
    }
}

static bool compare_gk(const struct scene *s, const struct plist *g,
                       const struct plist *k, struct cmp_stats *cs)
{
    memset(cs, 0, sizeof *cs);
    size_t i = 0, j = 0, first_bad = NONE;
    int nbad = 0;
    char d[256];
    while (i < g->n || j < k->n) {
        int c = i == g->n ? 1 : j == k->n ? -1 : key_cmp(&g->p[i], &k->p[j]);
        if (c == 0) {
            double x = g->p[i].planar_m2, y = k->p[j].planar_m2;
            double diff = fabs(x - y), m = fmax(fabs(x), fabs(y));
            if (!(diff <= 1e-9 * m + 1e-6)) {
                first_bad = first_bad == NONE ? g->p[i].a : first_bad;
                if (nbad++ < MAX_REPORT) {
                    printf("  %s: [%s] GEOS %.17g kernel %.17g (diff %.3g)\n",
                           s->what, describe(s, &g->p[i], d, sizeof d), x, y,
                           y - x);
                }
            }
            cs->worst_abs = fmax(cs->worst_abs, diff);
            if (m > 0.0) {
                cs->worst_rel = fmax(cs->worst_rel, diff / m);
            }
            cs->nmatch++;
            i++;
            j++;
            continue;
        }
        const struct om_overlay_piece *p = c < 0 ? &g->p[i] : &k->p[j];
        int kind = extra_kind(s, p);
        if (kind == 0) {
            first_bad = first_bad == NONE ? p->a : first_bad;
            if (nbad++ < MAX_REPORT) {
                printf("  %s: [%s] only from %s: %.17g\n", s->what,
                       describe(s, p, d, sizeof d), c < 0 ? "GEOS" : "kernel",
                       p->planar_m2);
            }
        } else if (c < 0) {
            *(kind == 1 ? &cs->sliver_g : &cs->crumb_g) += 1;
        } else {
            *(kind == 1 ? &cs->sliver_k : &cs->crumb_k) += 1;
        }
        i += c < 0;
        j += c > 0;
    }
    if (nbad > 0) {
        dump_feature(s, g, k, first_bad);
        FAILF("%s: %d pieces differ between GEOS (%zu pieces) and the kernel "
              "(%zu pieces)",
              s->what, nbad, g->n, k->n);
        return false;
    }
    return true;
}

/*
 * With disjoint B features (or none), the pieces of each A feature add up
 * to its area, less the crumbs dropped (each below 1e-9 of the feature +
 * 1e-6 m2).
 */
static bool check_sums(const struct scene *s, const struct plist *l,
                       const char *who)
{
    int nbad = 0;
    size_t i = 0;
    for (size_t f = 0; f < s->av.nfeatures; f++) {
        double sum = 0.0;
        size_t np = 0;
        for (; i < l->n && l->p[i].a == f; i++, np++) {
            sum += l->p[i].planar_m2;
        }
        double whole = s->amask && !s->amask[f] ? 0.0 : s->whole[f];
        if (!(fabs(sum - whole) <= 3e-9 * whole + 1e-6 * (double)(np + 2))) {
            if (nbad++ < MAX_REPORT) {
                printf("  %s: %s: %s fid %lld: %zu pieces sum to %.17g, area "
                       "%.17g (diff %.3g)\n",
                       s->what, who, om_layer_name(s->a),
                       (long long)s->av.fid[f], np, sum, whole, sum - whole);
            }
        }
    }
    if (nbad > 0) {
        FAILF("%s: %s: the pieces of %d A features do not add up to them",
              s->what, who, nbad);
        return false;
    }
    return true;
}

/* ---- the exact oracle for integer rectangles (scenes 6 and 7) ---- */

/*
 * A world of 1 m cells: node (i, j) at (x0 + i, y0 + j) with integer x0,
 * y0, so every coordinate and every area is exact. Features are cell sets
 * (masks, by generation index = fid); an area is a cell count.
 */
struct rworld {
    int w, h, na, nb, nu;
    uint8_t *am, *bm; /* na / nb masks of w * h cells */
    int *abox;        /* na * 4: i0 j0 i1 j1, the cells a mask may hold */
    int *ucell;       /* unit (fid) of each cell, -1 for none */
    bool *amerge;
};

static void rworld_free(struct rworld *rw)
{
    free(rw->am);
    free(rw->bm);
    free(rw->abox);
    free(rw->ucell);
    free(rw->amerge);
}

static bool check_oracle(const struct scene *s, const struct rworld *rw,
                         const struct plist *l, const char *who)
{
    size_t nb = s->b ? (size_t)rw->nb : 0, nu = s->u ? (size_t)rw->nu : 0;
    size_t *bix = xcalloc(nb + 1, sizeof *bix),
           *uix = xcalloc(nu + 1, sizeof *uix);
    for (size_t k = 0; k < nb; k++) {
        bix[k] = om_layer_find_fid(s->b, (int64_t)k);
    }
    for (size_t k = 0; k < nu; k++) {
        uix[k] = om_layer_find_fid(s->u, (int64_t)k);
    }
    size_t ncell = (size_t)rw->w * (size_t)rw->h;
    double *acc = xcalloc((nb + 1) * (nu + 1), sizeof *acc);
    int nbad = 0;
    size_t i = 0;
    char d[256];
    for (size_t f = 0; f < s->av.nfeatures; f++) {
        size_t ga = (size_t)s->av.fid[f];
        const uint8_t *am = rw->am + ga * ncell;
        const int *bx = rw->abox + 4 * ga;
        memset(acc, 0, (nb + 1) * (nu + 1) * sizeof *acc);
        for (int j = bx[1]; j < bx[3]; j++) {
            for (int ii = bx[0]; ii < bx[2]; ii++) {
                size_t c = (size_t)j * (size_t)rw->w + (size_t)ii;
                if (!am[c]) {
                    continue;
                }
                size_t uf = nu;
                if (nu && rw->ucell[c] >= 0) {
                    uf = uix[rw->ucell[c]];
                }
                bool any = false;
                for (size_t k = 0; k < nb; k++) {
                    if (rw->bm[k * ncell + c]) {
                        acc[bix[k] * (nu + 1) + uf] += 1.0;
                        any = true;
                    }
                }
                if (!any) {
                    acc[nb * (nu + 1) + uf] += 1.0;
                }
            }
        }
        for (; i < l->n && l->p[i].a == f; i++) {
            const struct om_overlay_piece *p = &l->p[i];
            size_t slot = (p->b == NONE ? nb : p->b) * (nu + 1) +
                          (p->unit == NONE ? nu : p->unit);
            double want = acc[slot];
            acc[slot] = -1.0; /* seen */
            if (want == 0.0 && fabs(p->planar_m2) < 1e-6) {
                continue; /* a sliver */
            }
            if (!(fabs(p->planar_m2 - want) <= 1e-9 * want + 1e-6)) {
                if (nbad++ < MAX_REPORT) {
                    printf("  %s: %s [%s] %.17g, exact %.17g\n", s->what, who,
                           describe(s, p, d, sizeof d), p->planar_m2, want);
                }
            }
        }
        for (size_t slot = 0; slot < (nb + 1) * (nu + 1); slot++) {
            if (acc[slot] > 0.0 && nbad++ < MAX_REPORT) {
                struct om_overlay_piece p = {0};
                p.a = f;
                p.b = slot / (nu + 1) == nb ? NONE : slot / (nu + 1);
                p.unit = slot % (nu + 1) == nu ? NONE : slot % (nu + 1);
                printf("  %s: %s [%s] missing, exact %.17g\n", s->what, who,
                       describe(s, &p, d, sizeof d), acc[slot]);
            }
        }
    }
    free(acc);
    free(bix);
    free(uix);
    if (nbad > 0) {
        FAILF("%s: %s: %d pieces differ from the exact areas", s->what, who,
              nbad);
        return false;
    }
    return true;
}

/* ---- one scene in all its variants ---- */

enum {
    W_DISJOINT_B = 1u << 0, /* B features do not overlap: sums hold */
    W_NO_B_TOO = 1u << 1,   /* also run with B = NULL */
};

static bool check_variant(const char *what, const struct om_layer *a,
                          const struct om_layer *b, const struct om_layer *u,
                          unsigned flags, const struct rworld *rw,
                          const uint8_t *amask, const uint8_t *bmask,
                          struct plist *g_out)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s%s", what, b ? "" : ", no B",
             u ? "" : ", no units");
    struct scene s;
    scene_init(&s, name, a, b, u);
    s.amask = amask;
    s.bmask = bmask;
    struct plist g = {0}, k1 = {0}, k2 = {0};
    struct cmp_stats cs = {0};
    bool ok = run_list(&s, OM_ENGINE_GEOS, 2, &g) &&
              run_list(&s, OM_ENGINE_KERNEL, 1, &k1) &&
              run_list(&s, OM_ENGINE_KERNEL, 2, &k2) &&
              check_sorted(&s, &g, "GEOS") && check_sorted(&s, &k2, "kernel") &&
              check_same_bits(&s, &k1, &k2) && compare_gk(&s, &g, &k2, &cs);
    if (ok && (!b || (flags & W_DISJOINT_B))) {
        ok = check_sums(&s, &g, "GEOS") && check_sums(&s, &k2, "kernel");
    }
    if (ok && rw) {
        ok = check_oracle(&s, rw, &g, "GEOS") &&
             check_oracle(&s, rw, &k2, "kernel");
    }
    printf("INFO %s: %zu A, GEOS %zu pieces, kernel %zu, matched %zu, "
           "GEOS-only slivers %zu crumbs %zu, kernel-only slivers %zu crumbs "
           "%zu, worst diff %.3g m2 (rel %.3g)\n",
           s.what, s.av.nfeatures, g.n, k2.n, cs.nmatch, cs.sliver_g,
           cs.crumb_g, cs.sliver_k, cs.crumb_k, cs.worst_abs, cs.worst_rel);
    fflush(stdout);
    if (g_out) {
        *g_out = k2;
        k2.p = NULL;
    }
    free(g.p);
    free(k1.p);
    free(k2.p);
    free(s.whole);
    return ok;
}

/* With and without units (and B when W_NO_B_TOO). */
static bool check_world(const char *what, const struct om_layer *a,
                        const struct om_layer *b, const struct om_layer *u,
                        unsigned flags, const struct rworld *rw)
{
    for (int vu = 0; vu < (u ? 2 : 1); vu++) {
        for (int vb = 0; vb < ((flags & W_NO_B_TOO) && b ? 2 : 1); vb++) {
            if (!check_variant(what, a, vb ? NULL : b, vu ? NULL : u, flags, rw,
                               NULL, NULL, NULL)) {
                return false;
            }
        }
    }
    return true;
}

/* The layers built without error and valid. */
static bool built_ok(const struct om_layer *a, const struct om_layer *b,
                     const struct om_layer *u)
{
    if (bst != OM_OK) {
        FAILF("building the layers: %s: %s", om_status_name(bst), berr.msg);
        return false;
    }
    return check_valid(a) && (!b || check_valid(b)) && (!u || check_valid(u));
}

static void free_layers(struct om_layer *a, struct om_layer *b,
                        struct om_layer *u)
{
    om_layer_free(a);
    om_layer_free(b);
    om_layer_free(u);
}

/* ---- 1. generic position ---- */

/* A: n stars (5-60 vertices, some with holes, some multipolygons). */
static struct om_layer *star_layer(const char *name, int n, double x0,
                                   double y0, double span, double rlo,
                                   double rhi)
{
    struct om_layer *l = new_layer(name);
    for (int k = 0; l && k < n; k++) {
        double cx = x0 + span * rnd(), cy = y0 + span * rnd();
        double r = rlo + (rhi - rlo) * rnd();
        int nv = rndi(5, 60);
        bool hole = rnd() < 0.2, multi = rnd() < 0.15;
        star_feature(l, k, cx, cy, r, nv, hole, multi);
    }
    finish(l);
    return l;
}

TEST(test_generic_position)
{
    seed(1);
    bst = OM_OK;
    const double x0 = 42500000.123, y0 = 4800000.456;
    struct om_layer *a =
        star_layer("A_generic", 300, x0 - 200, y0 - 200, 3400, 15, 120);
    /* and three big ones (more vertices than a GEOS-engine tile) */
    struct om_layer *abig = new_layer("A_generic_big");
    for (int k = 0; k < 3; k++) {
        blob_feature(abig, k, x0 + 600 + 900 * k, y0 + 700 + 800 * k, 400, 3000,
                     k % 2 + 1);
    }
    finish(abig);
    /* B: one blob per 1500 m quadrant (so disjoint): 20000 vertices with a
     * hole, 2000 with two, a two-part star, 5000 without holes. */
    struct om_layer *b = new_layer("B_generic");
    blob_feature(b, 0, x0 + 750, y0 + 750, 550, 20000, 1);
    blob_feature(b, 1, x0 + 2250, y0 + 750, 550, 2000, 2);
    star_feature(b, 2, x0 + 600, y0 + 2250, 250, 60, true, true);
    blob_feature(b, 3, x0 + 2250, y0 + 2250, 550, 5000, 0);
    finish(b);
    const double cuts[] = {-50, 700, 1400.3, 2150.7, 2900};
    struct om_layer *u =
        zigzag_units("U_generic", x0, y0 - 100, y0 + 3100, cuts, 4, 30, 40);
    if (built_ok(a, b, u) && check_valid(abig) &&
        check_world("generic", a, b, u, W_DISJOINT_B, NULL)) {
        check_world("generic, big A", abig, b, u, W_DISJOINT_B, NULL);
    }
    free_layers(a, b, u);
    om_layer_free(abig);
}

/* ---- 2. shared edges ---- */

/* x moved by k units in the last place. */
static double ulps(double x, int k)
{
    for (; k > 0; k--) {
        x = nextafter(x, INFINITY);
    }
    for (; k < 0; k++) {
        x = nextafter(x, -INFINITY);
    }
    return x;
}

/*
 * A: a jittered grid; B: dissolves of blocks of A (the same vertices);
 * B0 | B1 and B1 | B3 are neighbours; B3 has a hole and its rings reversed
 * (clockwise shell), so along B1 | B3 both run the same way. Units:
 * staircases along the grid lines; columns 22, 23 and the rows from 22 on
 * are outside every unit. With `jit_ulps`, the nodes of B and of the units
 * are moved by up to that many units in the last place, each on its own:
 * edges cross A's at tiny angles and B features (units) overlap or leave
 * gaps a few 1e-9 m wide.
 */
static void shared_edges_scene(const char *what, double x0, double y0,
                               int jit_ulps)
{
    bst = OM_OK;
    enum { N = 24 };
    struct jgrid g, gz;
    jgrid_make(&g, N, x0, y0, 40, 0.6);
    struct om_layer *a = grid_cells("A_grid", &g);
    finish(a);
    size_t nn = (size_t)(N + 1) * (N + 1);
    gz = g;
    gz.gx = xcalloc(nn, sizeof *gz.gx);
    gz.gy = xcalloc(nn, sizeof *gz.gy);
    gz.nm.gx = gz.gx;
    gz.nm.gy = gz.gy;
    struct om_layer *b = new_layer("B_blocks");
    uint8_t *m = mask_new(N, N);
    for (int k = 0; k < 4; k++) {
        for (size_t v = 0; v < nn; v++) {
            gz.gx[v] = ulps(g.gx[v], rndi(-jit_ulps, jit_ulps));
            gz.gy[v] = ulps(g.gy[v], rndi(-jit_ulps, jit_ulps));
        }
        memset(m, 0, N * N);
        if (k == 0) {
            mask_rect(m, N, N, 2, 3, 10, 12, 1);
        } else if (k == 1) {
            mask_rect(m, N, N, 10, 3, 16, 9, 1);
        } else if (k == 2) {
            for (int i = 3; i < 20; i++) {
                mask_rect(m, N, N, i, 14, i + 1, 14 + 3 + (i * 7) % 5, 1);
            }
        } else {
            mask_rect(m, N, N, 16, 2, 23, 10, 1);
            mask_rect(m, N, N, 18, 4, 20, 7, 0);
        }
        mask_feature(b, k, m, &gz.nm, false, k == 3);
    }
    free(m);
    finish(b);
    enum { ROWS = 22 };
    int t[4 * ROWS];
    for (int j = 0; j < ROWS; j++) {
        t[j] = 0;
        t[ROWS + j] = 6 + (j / 4) % 2;
        t[2 * ROWS + j] = 13 + (j % 9) / 3;
        t[3 * ROWS + j] = 22;
    }
    for (size_t v = 0; v < nn; v++) {
        gz.gx[v] = ulps(g.gx[v], rndi(-jit_ulps, jit_ulps));
        gz.gy[v] = ulps(g.gy[v], rndi(-jit_ulps, jit_ulps));
    }
    struct om_layer *u = stair_units("U_stairs", &gz.nm, t, 3, ROWS);
    if (built_ok(a, b, u)) {
        check_world(what, a, b, u, W_DISJOINT_B, NULL);
    }
    free_layers(a, b, u);
    jgrid_free(&g);
    jgrid_free(&gz);
}

TEST(test_shared_edges)
{
    seed(2);
    shared_edges_scene("shared edges", 500000.37, 4800000.71, 0);
    if (!test_failed_) {
        shared_edges_scene("shared edges, moved by ulps", 42500000.37,
                           4800000.71, 1);
    }
}

/* ---- 3. vertices on edges ---- */

TEST(test_vertices_on_edges)
{
    seed(3);
    bst = OM_OK;
    /* A grid on 1/8 m: node coordinates, and the midpoints of edges, are
     * exact. Row J0 and column I0 are straight (no jitter across them). */
    enum { N = 16, I0 = 5, J0 = 8 };
    const double x0 = 42500000.5, y0 = 4800000.25, step = 64;
    struct jgrid g;
    jgrid_make(&g, N, x0, y0, step, 0);
    for (int j = 0; j <= N; j++) {
        for (int i = 0; i <= N; i++) {
            int v = j * (N + 1) + i;
            g.gx[v] = x0 + i * step + (i == I0 ? 0 : rndi(-96, 96) / 8.0);
            g.gy[v] = y0 + j * step + (j == J0 ? 0 : rndi(-96, 96) / 8.0);
        }
    }
    struct om_layer *a = grid_cells("A_dyadic", &g);
    finish(a);
    struct om_layer *b = new_layer("B_on_edges");
    struct pts p = {0};
    /* 0: a block whose corners are cut at edge midpoints, other nodes
     * kept: vertices on A edges, half edges shared. */
    {
        uint8_t *m = mask_new(N, N);
        mask_rect(m, N, N, 1, 1, 6, 6, 1);
        struct trace t = {0};
        if (trace_mask(m, N, N, false, &t) && t.nrings == 1) {
            size_t n = t.start[1];
            for (size_t k = 0; k < n; k++) {
                int v = t.node[k], q = t.node[(k + 1) % n];
                if (rnd() < 0.5) {
                    pts_push(&p, g.gx[v], g.gy[v]);
                }
                pts_push(&p, (g.gx[v] + g.gx[q]) / 2, (g.gy[v] + g.gy[q]) / 2);
            }
            ring_feature(b, 0, &p, false);
        } else {
            bst = OM_EINVAL;
        }
        trace_free(&t);
        free(m);
    }
    /* 1: a rectangle whose bottom edge runs along straight row J0 (through
     * A vertices, along A edges); 2: one whose left edge runs along
     * column I0. */
    double yj = y0 + J0 * step, xi = x0 + I0 * step;
    p.n = 0;
    pts_push(&p, x0 + 7.5 * step + 0.3, yj);
    pts_push(&p, x0 + 12.5 * step + 0.7, yj);
    pts_push(&p, x0 + 12.5 * step + 0.7, yj + 150.3);
    pts_push(&p, x0 + 7.5 * step + 0.3, yj + 150.3);
    ring_feature(b, 1, &p, false);
    p.n = 0;
    pts_push(&p, xi, y0 + 9.3 * step + 0.1);
    pts_push(&p, x0 + 7.2 * step, y0 + 9.3 * step + 0.1);
    pts_push(&p, x0 + 7.2 * step, y0 + 14.6 * step);
    pts_push(&p, xi, y0 + 14.6 * step);
    ring_feature(b, 2, &p, false);
    int fid = 3;
    /* triangles with an A vertex at the midpoint of one edge */
    const int ci[] = {9, 12, 15}, cj[] = {12, 14};
    for (int k = 0; k < 6; k++) {
        int v = cj[k / 3] * (N + 1) + ci[k % 3];
        double dx, dy;
        do {
            dx = rndi(-80, 80) / 8.0;
            dy = rndi(-80, 80) / 8.0;
        } while (dx * dx + dy * dy < 9);
        double s = (rnd() < 0.5 ? -1 : 1) * (0.5 + 0.5 * rnd());
        p.n = 0;
        pts_push(&p, g.gx[v] - dx, g.gy[v] - dy);
        pts_push(&p, g.gx[v] + dx, g.gy[v] + dy);
        pts_push(&p, g.gx[v] - s * dy, g.gy[v] + s * dx);
        ring_feature(b, fid++, &p, false);
    }
    /* triangles touching A only at a vertex, or at an edge midpoint, from
     * inside one cell */
    for (int k = 0; k < 9; k++) {
        int i = k < 6 ? 7 + 3 * (k % 3) : 8 + 3 * (k % 3);
        int j = k < 3 ? 1 : k < 6 ? 4 : 6;
        int v = j * (N + 1) + i, W1 = N + 1;
        double ax = g.gx[v], ay = g.gy[v];
        if (k >= 6) { /* the midpoint of the cell's bottom edge */
            ax = (g.gx[v] + g.gx[v + 1]) / 2;
            ay = (g.gy[v] + g.gy[v + 1]) / 2;
        }
        double cx =
            (g.gx[v] + g.gx[v + 1] + g.gx[v + W1] + g.gx[v + W1 + 1]) / 4;
        double cy =
            (g.gy[v] + g.gy[v + 1] + g.gy[v + W1] + g.gy[v + W1 + 1]) / 4;
        double dx = cx - ax, dy = cy - ay;
        p.n = 0;
        pts_push(&p, ax, ay);
        pts_push(&p, ax + 0.5 * dx + 0.15 * dy, ay + 0.5 * dy - 0.15 * dx);
        pts_push(&p, ax + 0.5 * dx - 0.15 * dy, ay + 0.5 * dy + 0.15 * dx);
        ring_feature(b, fid++, &p, false);
    }
    finish(b);
    /* Units: split along straight column I0 (vertices on A's vertices and
     * edges), along the nodes of column 11 (shared vertices), and by a
     * zig-zag; east of it is outside every unit. */
    struct pts bd[4] = {{0}};
    double ylo = y0 - 20, yhi = y0 + N * step + 20;
    pts_push(&bd[0], x0 - 20, ylo);
    pts_push(&bd[0], x0 - 20, yhi);
    pts_push(&bd[1], xi, ylo);
    pts_push(&bd[2], g.gx[11], ylo);
    for (int j = 0; j <= N; j++) {
        pts_push(&bd[1], xi, g.gy[j * (N + 1) + I0]);
        pts_push(&bd[2], g.gx[j * (N + 1) + 11], g.gy[j * (N + 1) + 11]);
    }
    pts_push(&bd[1], xi, yhi);
    pts_push(&bd[2], g.gx[N * (N + 1) + 11], yhi);
    for (int k = 0; k < 12; k++) {
        pts_push(&bd[3], x0 + 14.3 * step + 15 * (rnd() - 0.5),
                 ylo + (yhi - ylo) * k / 11);
    }
    struct om_layer *u = strip_units("U_on_edges", bd, 3);
    for (int k = 0; k < 4; k++) {
        free(bd[k].xy);
    }
    free(p.xy);
    if (built_ok(a, b, u)) {
        check_world("vertices on edges", a, b, u, W_DISJOINT_B, NULL);
    }
    free_layers(a, b, u);
    jgrid_free(&g);
}

/* ---- 4. identical polygons, dissolves, nested and filled holes ---- */

/* A multipolygon of nested stars: shell, hole, island in it, its hole. */
static void nested_feature(struct om_layer *l, int64_t fid, double cx,
                           double cy, double R)
{
    bk(om_layer_begin_feature(l, fid, &btmp));
    bk(om_layer_begin_part(l, &btmp));
    star(&shapebuf, cx, cy, 0.8 * R, R, 40);
    put_ring(l, shapebuf.xy, shapebuf.n, false, false);
    star(&shapebuf, cx, cy, 0.5 * R, 0.6 * R, 30);
    put_ring(l, shapebuf.xy, shapebuf.n, true, false);
    bk(om_layer_begin_part(l, &btmp));
    star(&shapebuf, cx, cy, 0.3 * R, 0.4 * R, 25);
    put_ring(l, shapebuf.xy, shapebuf.n, false, false);
    star(&shapebuf, cx, cy, 0.1 * R, 0.2 * R, 12);
    put_ring(l, shapebuf.xy, shapebuf.n, true, false);
    bk(om_layer_end_feature(l, &btmp));
}

TEST(test_identical_and_holes)
{
    seed(4);
    bst = OM_OK;
    enum { N = 20 };
    struct jgrid g;
    jgrid_make(&g, N, 42500000.37, 4800000.61, 50, 0.6);
    /* the masks of B2..B6 (B0, B1 are cells); A gets copies of some */
    uint8_t *mb[7];
    for (int k = 0; k < 7; k++) {
        mb[k] = mask_new(N, N);
    }
    mask_rect(mb[2], N, N, 8, 2, 14, 8, 1); /* holes: cell (9,3) and 2x2 */
    mask_rect(mb[2], N, N, 9, 3, 10, 4, 0);
    mask_rect(mb[2], N, N, 11, 5, 13, 7, 0);
    mask_rect(mb[3], N, N, 2, 10, 7, 16, 1);   /* a plain dissolve */
    mask_rect(mb[4], N, N, 13, 10, 20, 19, 1); /* ring, island, its hole */
    mask_rect(mb[4], N, N, 14, 11, 19, 18, 0);
    mask_rect(mb[4], N, N, 15, 12, 18, 17, 1);
    mask_rect(mb[4], N, N, 16, 14, 17, 15, 0);
    mask_rect(mb[5], N, N, 15, 2, 20, 7, 1); /* hole touching the shell */
    mask_rect(mb[5], N, N, 19, 6, 20, 7, 0);
    mask_rect(mb[5], N, N, 18, 5, 19, 6, 0);
    mask_rect(mb[6], N, N, 1, 1, 2, 2, 1); /* parts touching at a corner */
    mask_rect(mb[6], N, N, 2, 2, 3, 3, 1);
    struct om_layer *a = grid_cells("A_cells", &g);
    nested_feature(a, 1000, g.gx[14 * (N + 1) + 16] + 25,
                   g.gy[14 * (N + 1) + 16] + 25, 150);
    mask_feature(a, 1001, mb[3], &g.nm, false, false);
    mask_feature(a, 1002, mb[4], &g.nm, false, false);
    mask_feature(a, 1003, mb[2], &g.nm, false, true);
    finish(a);
    struct om_layer *b = new_layer("B_same");
    struct pts p = {0};
    cell_ring(&g, 3, 3, &p); /* identical to A cell (3,3) */
    ring_feature(b, 0, &p, false);
    cell_ring(&g, 5, 3, &p); /* A cell (5,3) reversed, other start */
    struct pts q = {0};
    for (int k = 0; k < 4; k++) {
        pts_push(&q, p.xy[2 * ((k + 2) % 4)], p.xy[2 * ((k + 2) % 4) + 1]);
    }
    ring_feature(b, 1, &q, true);
    for (int k = 2; k < 7; k++) {
        mask_feature(b, k, mb[k], &g.nm, false, false);
    }
    cell_ring(&g, 9, 3, &p); /* fills the hole (9,3) of B2 and of A 1003 */
    ring_feature(b, 7, &p, false);
    finish(b);
    enum { ROWS = 19 };
    int t[4 * ROWS];
    for (int j = 0; j < ROWS; j++) {
        t[j] = 1;
        t[ROWS + j] = 7 + (j % 7 < 3);
        t[2 * ROWS + j] = 12 + (j / 5) % 3;
        t[3 * ROWS + j] = 19;
    }
    struct om_layer *u = stair_units("U_stairs", &g.nm, t, 3, ROWS);
    if (built_ok(a, b, u)) {
        check_world("identical and holes", a, b, u, W_DISJOINT_B, NULL);
    }
    for (int k = 0; k < 7; k++) {
        free(mb[k]);
    }
    free(p.xy);
    free(q.xy);
    free_layers(a, b, u);
    jgrid_free(&g);
}

/* ---- 5. B features overlapping each other ---- */

/* Pieces of B feature x and of its twin y (same geometry): the same keys
 * but b, the same areas. */
static bool check_twins(const struct scene *s, const struct plist *l, size_t x,
                        size_t y)
{
    size_t i = 0, j = 0, nx = 0;
    char d0[256], d1[256];
    for (;;) {
        while (i < l->n && l->p[i].b != x) {
            i++;
        }
        while (j < l->n && l->p[j].b != y) {
            j++;
        }
        if (i == l->n || j == l->n) {
            break;
        }
        if (l->p[i].a != l->p[j].a || l->p[i].unit != l->p[j].unit ||
            !(fabs(l->p[i].planar_m2 - l->p[j].planar_m2) <=
              1e-9 * l->p[i].planar_m2 + 1e-6)) {
            printf("  %s: [%s] %.17g but its twin [%s] %.17g\n", s->what,
                   describe(s, &l->p[i], d0, sizeof d0), l->p[i].planar_m2,
                   describe(s, &l->p[j], d1, sizeof d1), l->p[j].planar_m2);
            FAILF("%s: twin B features give different pieces", s->what);
            return false;
        }
        i++;
        j++;
        nx++;
    }
    if (i != l->n || j != l->n || nx == 0) {
        FAILF("%s: twin B features give %s pieces", s->what,
              nx ? "different numbers of" : "no");
        return false;
    }
    return true;
}

/* Selections: every third A feature left out, B feature 4 (the one over
 * everything) and 2 (a twin) unselected. */
static bool check_masked(const struct om_layer *a, const struct om_layer *b,
                         const struct om_layer *u)
{
    size_t na = om_layer_nfeatures(a), nb = om_layer_nfeatures(b);
    uint8_t *am = xcalloc(na, 1), *bm = xcalloc(nb, 1);
    for (size_t f = 0; f < na; f++) {
        am[f] = f % 3 != 0;
    }
    struct om_layer_view bv;
    om_layer_view(b, &bv);
    for (size_t f = 0; f < nb; f++) {
        bm[f] = bv.fid[f] != 4 && bv.fid[f] != 2;
    }
    bool ok = check_variant("overlapping B, masked", a, b, u, 0, NULL, am, bm,
                            NULL) &&
              check_variant("overlapping B, masked", a, b, NULL, 0, NULL, am,
                            bm, NULL);
    free(am);
    free(bm);
    return ok;
}

TEST(test_overlapping_b)
{
    seed(5);
    bst = OM_OK;
    const double x0 = 500000.17, y0 = 4800000.43;
    struct om_layer *a = star_layer("A_stars", 250, x0, y0, 2000, 15, 100);
    struct om_layer *b = new_layer("B_overlapping");
    blob_feature(b, 0, x0 + 700, y0 + 700, 500, 3000, 1);
    struct pts p = {0};
    blob(&p, x0 + 1100, y0 + 900, 450, 800);
    ring_feature(b, 1, &p, false);
    ring_feature(b, 2, &p, false); /* identical */
    star_feature(b, 3, x0 + 650, y0 + 650, 120, 40, false, false);
    blob_feature(b, 4, x0 + 1000, y0 + 1000, 800, 1500, 0);
    ring_feature(b, 5, &p, true); /* identical, clockwise */
    finish(b);
    free(p.xy);
    const double cuts[] = {-100, 600.5, 1350.25, 2100};
    struct om_layer *u =
        zigzag_units("U_strips", x0, y0 - 100, y0 + 2100, cuts, 3, 20, 30);
    struct plist k = {0};
    if (built_ok(a, b, u) &&
        check_variant("overlapping B", a, b, u, 0, NULL, NULL, NULL, &k) &&
        check_variant("overlapping B", a, b, NULL, 0, NULL, NULL, NULL, NULL) &&
        check_masked(a, b, u)) {
        /* the twins, in the kernel's pieces */
        struct scene s;
        scene_init(&s, "overlapping B (twins)", a, b, u);
        size_t b1 = om_layer_find_fid(b, 1), b2 = om_layer_find_fid(b, 2);
        size_t b5 = om_layer_find_fid(b, 5);
        if (check_twins(&s, &k, b1, b2)) {
            check_twins(&s, &k, b1, b5);
        }
        free(s.whole);
    }
    free(k.p);
    free_layers(a, b, u);
}

/* ---- 6. and 7. integer rectangles, with the exact oracle ---- */

/*
 * A random cell shape into m (cleared first); box = the cells it may
 * hold. Shapes: rectangles, with a hole, with a thin frame, two apart,
 * two overlapping, two touching at a corner, a hole touching the shell
 * at a point, two holes touching each other at a point.
 */
static void rw_shape(uint8_t *m, int w, int h, int type, int maxsize, int *box)
{
    memset(m, 0, (size_t)w * (size_t)h);
    int sw = rndi(1, maxsize), sh = rndi(1, maxsize);
    int i0 = rndi(0, w - 2), j0 = rndi(0, h - 2);
    if (i0 + sw > w) {
        sw = w - i0;
    }
    if (j0 + sh > h) {
        sh = h - j0;
    }
    int i1 = i0 + sw, j1 = j0 + sh;
    mask_rect(m, w, h, i0, j0, i1, j1, 1);
    box[0] = i0, box[1] = j0, box[2] = i1, box[3] = j1;
    int i2, j2, i3, j3;
    switch (type) {
    case 1: /* a hole, at least one cell from the shell */
        if (sw >= 3 && sh >= 3) {
            i2 = rndi(i0 + 1, i1 - 2), j2 = rndi(j0 + 1, j1 - 2);
            mask_rect(m, w, h, i2, j2, rndi(i2 + 1, i1 - 1),
                      rndi(j2 + 1, j1 - 1), 0);
        }
        break;
    case 2: /* a second rectangle apart */
        i2 = i1 + rndi(1, 4), j2 = j0 + rndi(-3, 3);
        i3 = i2 + rndi(1, 12), j3 = j2 + rndi(1, 12);
        mask_rect(m, w, h, i2, j2, i3, j3, 1);
        break;
    case 3: /* a second rectangle overlapping */
        i2 = rndi(i0, i1 - 1), j2 = rndi(j0, j1 - 1);
        i3 = i2 + rndi(1, maxsize), j3 = j2 + rndi(1, maxsize);
        mask_rect(m, w, h, i2, j2, i3, j3, 1);
        break;
    case 4: /* a second rectangle touching at the corner */
        i3 = i1 + rndi(1, 10), j3 = j1 + rndi(1, 10);
        mask_rect(m, w, h, i1, j1, i3, j3, 1);
        break;
    case 5: /* a corner notch and a hole touching it */
        if (sw >= 4 && sh >= 4) {
            m[(j1 - 1) * w + i1 - 1] = 0;
            m[(j1 - 2) * w + i1 - 2] = 0;
        }
        break;
    case 6: /* two holes touching at a point */
        if (sw >= 6 && sh >= 6) {
            m[(j0 + 2) * w + i0 + 2] = 0;
            m[(j0 + 3) * w + i0 + 3] = 0;
        }
        break;
    case 7: /* a frame one cell wide */
        if (sw >= 3 && sh >= 3) {
            mask_rect(m, w, h, i0 + 1, j0 + 1, i1 - 1, j1 - 1, 0);
        }
        break;
    default:
        break;
    }
    if (type == 2 || type == 3 || type == 4) {
        box[2] = w, box[3] = h;
        box[1] = j0 - 3 < 0 ? 0 : j0 - 3;
    }
}

/*
 * The rectangle world: A (na shapes), B (a comb of some 5000 vertices,
 * shapes overlapping each other, and copies of A features: identical, with
 * other vertices, reversed), units (staircase strips, not covering all).
 */
static void rworld_make(struct rworld *rw, int na, struct om_layer **pa,
                        struct om_layer **pb, struct om_layer **pu)
{
    enum { W = 160, H = 160 };
    size_t ncell = (size_t)W * H;
    const struct nodemap nm = {W, H, NULL, NULL, 42500000.0, 4800000.0, 1.0};
    memset(rw, 0, sizeof *rw);
    rw->w = W, rw->h = H, rw->na = na, rw->nb = 22, rw->nu = 3;
    rw->am = xcalloc((size_t)na * ncell, 1);
    rw->bm = xcalloc((size_t)rw->nb * ncell, 1);
    rw->abox = xcalloc((size_t)na * 4, sizeof *rw->abox);
    rw->amerge = xcalloc((size_t)na, sizeof *rw->amerge);
    rw->ucell = xcalloc(ncell, sizeof *rw->ucell);
    struct om_layer *a = new_layer("A_rects");
    for (int k = 0; a && k < na; k++) {
        uint8_t *m = rw->am + (size_t)k * ncell;
        rw_shape(m, W, H, rndi(0, 7), 30, rw->abox + 4 * k);
        rw->amerge[k] = rnd() < 0.5;
        mask_feature(a, k, m, &nm, rw->amerge[k], false);
    }
    finish(a);
    struct om_layer *b = new_layer("B_rects");
    int box[4];
    uint8_t *m = rw->bm;
    /* 0: a comb (all grid nodes kept: tiled by the GEOS engine) */
    mask_rect(m, W, H, 8, 6, 152, 10, 1);
    for (int i = 8; i < 150;) {
        int tw = rndi(2, 5);
        mask_rect(m, W, H, i, 10, i + tw, 10 + rndi(10, 140), 1);
        i += tw + rndi(1, 3);
    }
    mask_feature(b, 0, m, &nm, false, false);
    for (int k = 1; k < 19; k++) {
        m = rw->bm + (size_t)k * ncell;
        static const int types[] = {1, 5, 7, 6, 0, 3, 0, 0};
        rw_shape(m, W, H, k <= 4 ? types[k - 1] : types[rndi(4, 7)], 50, box);
        mask_feature(b, k, m, &nm, rnd() < 0.5, false);
    }
    static const int src[] = {3, 5, 7};
    for (int k = 19; k < 22; k++) {
        m = rw->bm + (size_t)k * ncell;
        int s = src[k - 19] < na ? src[k - 19] : 0;
        memcpy(m, rw->am + (size_t)s * ncell, ncell);
        mask_feature(b, k, m, &nm, k == 19 ? rw->amerge[s] : !rw->amerge[s],
                     k == 21);
    }
    finish(b);
    /* Units: strips between random staircase walls, rows below H - 6 */
    enum { ROWS = H - 6 };
    int *t = xcalloc(4 * ROWS, sizeof *t);
    int wall[4] = {2, 50, 100, 150};
    for (int j = 0; j < ROWS; j++) {
        for (int k = 0; k < 4; k++) {
            if (rnd() < 0.3) {
                wall[k] += rndi(-2, 2);
            }
        }
        wall[0] = wall[0] < 0 ? 0 : wall[0] > 10 ? 10 : wall[0];
        wall[3] = wall[3] > W - 4 ? W - 4 : wall[3];
        for (int k = 1; k < 4; k++) {
            if (wall[k] < wall[k - 1] + 6) {
                wall[k] = wall[k - 1] + 6;
            }
        }
        for (int k = 0; k < 4; k++) {
            t[k * ROWS + j] = wall[k];
        }
    }
    for (size_t c = 0; c < ncell; c++) {
        rw->ucell[c] = -1;
    }
    for (int j = 0; j < ROWS; j++) {
        for (int k = 0; k < 3; k++) {
            for (int i = t[k * ROWS + j]; i < t[(k + 1) * ROWS + j]; i++) {
                rw->ucell[j * W + i] = k;
            }
        }
    }
    *pu = stair_units("U_rects", &nm, t, 3, ROWS);
    free(t);
    *pa = a;
    *pb = b;
}

TEST(test_axis_parallel)
{
    seed(6);
    bst = OM_OK;
    struct rworld rw;
    struct om_layer *a, *b, *u;
    rworld_make(&rw, 300, &a, &b, &u);
    if (built_ok(a, b, u)) {
        check_world("axis-parallel", a, b, u, W_NO_B_TOO, &rw);
    }
    rworld_free(&rw);
    free_layers(a, b, u);
}

/* ---- 7. ring orientation and repeated points ---- */

TEST(test_orientation_and_repeats)
{
    seed(7);
    bst = OM_OK;
    mangle.on = true;
    mangle.p_rev = 0.5;
    mangle.p_dup = 0.05;
    struct rworld rw;
    struct om_layer *a, *b, *u;
    rworld_make(&rw, 200, &a, &b, &u);
    bool ok = built_ok(a, b, u) &&
              check_world("orientation (rectangles)", a, b, u, 0, &rw);
    rworld_free(&rw);
    free_layers(a, b, u);
    if (ok) {
        const double x0 = 42500000.3, y0 = 4800000.9;
        a = star_layer("A_stars", 200, x0, y0, 2000, 15, 100);
        b = new_layer("B_blobs");
        blob_feature(b, 0, x0 + 500, y0 + 1000, 350, 3000, 2);
        blob_feature(b, 1, x0 + 1500, y0 + 1000, 350, 1200, 1);
        star_feature(b, 2, x0 + 1000, y0 + 1800, 150, 50, true, true);
        finish(b);
        const double cuts[] = {-100, 800.5, 1500.25, 1900};
        u = zigzag_units("U_strips", x0, y0 - 50, y0 + 2050, cuts, 3, 25, 30);
        if (built_ok(a, b, u)) {
            check_world("orientation (stars)", a, b, u, W_DISJOINT_B, NULL);
        }
        free_layers(a, b, u);
    }
    mangle.on = false;
}

/* ---- 8. nothing nearby, no B, no units ---- */

TEST(test_far_and_null)
{
    seed(8);
    bst = OM_OK;
    const double x0 = 42500000.77, y0 = 4800000.11;
    /* A: stars spread over 20 km, and small ones in and around B2 (a
     * shell, its hole, an island in it and the island's hole), most of
     * them far from any edge of B */
    struct om_layer *a = new_layer("A_far");
    for (int k = 0; a && k < 500; k++) {
        double r = k < 200 ? 15 + 105 * rnd() : 2 + 8 * rnd();
        double cx = k < 200 ? x0 + 20000 * rnd() : x0 + 4800 + 2400 * rnd();
        double cy = k < 200 ? y0 + 20000 * rnd() : y0 + 8800 + 2400 * rnd();
        star_feature(a, k, cx, cy, r, rndi(5, 60), rnd() < 0.2, rnd() < 0.15);
    }
    finish(a);
    struct om_layer *b = new_layer("B_corner");
    blob_feature(b, 0, x0 + 1500, y0 + 1500, 900, 1500, 1);
    star_feature(b, 1, x0 + 2500, y0 + 4000, 300, 50, false, false);
    nested_feature(b, 2, x0 + 6000, y0 + 10000, 1000);
    finish(b);
    const double cuts[] = {10000, 13000.5, 16000.25, 20000};
    struct om_layer *u =
        zigzag_units("U_east", x0, y0, y0 + 15000, cuts, 3, 40, 200);
    if (built_ok(a, b, u)) {
        check_world("far", a, b, u, W_DISJOINT_B | W_NO_B_TOO, NULL);
    }
    free_layers(a, b, u);
}

/* ---- real data: Illinois tracts, us-atlas counties ---- */

TEST(test_real_illinois)
{
    char tpath[1024], cpath[1024];
    test_data_path("us-tracts-2018/cb_2018_17_tract_500k.json", tpath,
                   sizeof tpath);
    test_data_path("us-atlas/counties-10m.json", cpath, sizeof cpath);
    if (access(tpath, R_OK) != 0 || access(cpath, R_OK) != 0) {
        printf("SKIP %s:%s: %s or %s not found\n", test_file_, test_name_,
               tpath, cpath);
        return;
    }
    struct om_error err;
    om_error_clear(&err);
    struct om_layer *tr = NULL, *co = NULL, *a = NULL, *b = NULL, *u = NULL;
    struct om_crs *src = NULL, *dst = NULL;
    struct om_transform *t = NULL;
    struct om_read_options ro = {0};
    enum om_status st = om_source_read(tpath, NULL, &tr, NULL, &err);
    if (st == OM_OK) {
        ro.layer = "counties";
        st = om_source_read(cpath, &ro, &co, NULL, &err);
    }
    if (st == OM_OK) {
        st = om_crs_new(om_layer_crs(tr), &src, &err);
    }
    /* a GK-like zone with the zone number in the easting: x ~ 4.25e7 */
    if (st == OM_OK) {
        st = om_crs_new("+proj=tmerc +lat_0=0 +lon_0=-88.5 +k=1 "
                        "+x_0=42500000 +y_0=0 +ellps=GRS80 +units=m +no_defs",
                        &dst, &err);
    }
    if (st == OM_OK) {
        st = om_transform_new(src, dst, &t, &err);
    }
    /* central Illinois, Springfield to Champaign: some 270 tracts */
    struct om_rect win = {-89.8, 39.4, -87.5, 40.6};
    /* flagged empty or invalid when read: left out, not counted */
    size_t bad_a = 0, bad_b = 0, nflagged = 0;
    if (st == OM_OK) {
        st = reprojected(tr, &win, false, "COUNTYFP", t, &a, &nflagged, &bad_a,
                         &err);
    }
    if (st == OM_OK) {
        st = reprojected(co, &win, true, "id", t, &b, &nflagged, &bad_b, &err);
    }
    if (st == OM_OK) {
        st = dissolve(a, by_code, "tract_counties", &u, &err);
    }
    if (st == OM_OK) {
        printf("INFO illinois: %zu tracts (%zu invalid left out), %zu "
               "counties (%zu invalid left out), %zu tract counties\n",
               om_layer_nfeatures(a), bad_a, om_layer_nfeatures(b), bad_b,
               om_layer_nfeatures(u));
        if (om_layer_nfeatures(a) < 100 || om_layer_nfeatures(b) < 5) {
            FAILF("too few features in the window");
        } else {
            check_world("illinois", a, b, u, W_DISJOINT_B, NULL);
        }
    } else {
        FAILF("reading the Illinois data: %s: %s", om_status_name(st), err.msg);
    }
    om_transform_free(t);
    om_crs_free(src);
    om_crs_free(dst);
    free_layers(a, b, u);
    om_layer_free(tr);
    om_layer_free(co);
}

int main(void)
{
    TEST_MAIN_BEGIN(__FILE__);
    RUN(test_generic_position);
    RUN(test_shared_edges);
    RUN(test_vertices_on_edges);
    RUN(test_identical_and_holes);
    RUN(test_overlapping_b);
    RUN(test_axis_parallel);
    RUN(test_orientation_and_repeats);
    RUN(test_far_and_null);
    RUN(test_real_illinois);
    free(ringbuf.xy);
    free(shapebuf.xy);
    free(shapebuf2.xy);
    TEST_MAIN_END();
}
