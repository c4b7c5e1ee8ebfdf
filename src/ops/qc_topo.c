/*
 * qc_topo.c — the topology checks of a coverage layer (T001 overlaps, T002
 * gaps, T003 slivers, T004 near misses) and the checks between layers
 * (L001 outside the extent, L002 farmland on non-cultivated land, L003
 * forbidden overlaps of control lines). See ops/qc_int.h and onemap/qc.h.
 *
 * Nothing here is quadratic. Overlaps: each feature is prepared once and
 * related to the neighbours its R-tree box query finds, each unordered
 * pair once. Gaps: the directed edges of every feature (shells CCW, holes
 * CW) are hashed; an edge matched by the reverse edge of a neighbour is
 * interior to the coverage, so only the unmatched edges (outline, gap and
 * overlap boundaries, T-junction pieces) are noded and polygonized; the
 * coverage count is constant on each face of that arrangement (balanced
 * edges do not change the winding number), so one interior point per face
 * tells whether it is a gap. Near misses: the vertices of unmatched edges
 * against an R-tree of all edges. The between-layer checks use the overlay
 * engine (onemap/overlay.h).
 *
 * Numerical noise: pieces thinner (2·area/perimeter) than 1e-12 × the
 * largest coordinate magnitude (0.04 mm for 8-digit Gauss-Krüger
 * eastings) and vertex distances below it are floating-point noise of
 * T-junctions, not defects; they are not reported. Everything above it is,
 * however small (an overlap or gap below sliver_area is still listed).
 *
 * What the findings carry:
 *   T001 fid < fid2 (each pair once), the overlap polygon, value = area;
 *   T002 fid -1 (a gap belongs to no feature), the gap polygon (holes =
 *        islands inside it), value = area; listed largest first;
 *   T003 the feature polygon, value = area;
 *   T004 one finding per vertex of an unmatched edge: the nearest other
 *        feature whose boundary is within (noise, near_distance], value =
 *        the distance, location = the vertex; a near miss that leaves a
 *        gap (or overlap) is also a T002 (T001) sliver;
 *   L001 the part outside the extent, value = its area (parts that are
 *        slivers by the thresholds are digitising noise: not reported);
 *   L002 the part on non-cultivated DLTB (DLBM not in group cultivated,
 *        or NULL), value = its share of the feature (0..1);
 *   L003 fid = the side-a feature, fid2 = the side-b feature, the overlap
 *        polygon, value = area, the rule id in the message; pieces below
 *        the rule's min_area / min_width are not listed.
 * Invalid features (GEOS) are not tested for T001/T003/T004 nor in L*,
 * but their edges and area take part in the gap search, so that an
 * invalid parcel does not show up as a gap. In a geographic CRS the
 * thresholds are converted to degrees (thresholds_of).
 */
#include "ops/qc_int.h"

#include "core/core.h"
#include "geom/setops.h"
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/overlay.h"
#include "onemap/polyops.h"
#include "ops/tiles.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CHUNK = 256, MAX_THREADS = 64 };

/* How a feature takes part. */
enum { USE_NONE = 0, USE_VALID = 1, USE_INVALID = 2 };

/* ---- a small pool of threads over fixed chunks ---- */

typedef enum om_status (*chunk_fn)(void *job, int t, size_t chunk,
                                   struct om_error *err);

struct par {
    chunk_fn fn;
    void *job;
    size_t nchunks, next, done;
    pthread_mutex_t lock;
    enum om_status status;
    struct om_error err;
    int stop;
};

struct par_arg {
    struct par *p;
    int t;
};

static bool par_take(struct par *p, size_t *ci)
{
    pthread_mutex_lock(&p->lock);
    bool ok = !p->stop && p->next < p->nchunks;
    if (ok) {
        *ci = p->next++;
    }
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static void par_done(struct par *p, enum om_status st, const struct om_error *e)
{
    pthread_mutex_lock(&p->lock);
    if (st != OM_OK && p->status == OM_OK) {
        p->status = st;
        p->err = *e;
        p->stop = 1;
    }
    p->done++;
    pthread_mutex_unlock(&p->lock);
}

static void *par_main(void *arg)
{
    struct par_arg *a = arg;
    size_t ci;
    while (par_take(a->p, &ci)) {
        struct om_error e;
        om_error_clear(&e);
        enum om_status st = a->p->fn(a->p->job, a->t, ci, &e);
        par_done(a->p, st, &e);
    }
    return NULL;
}

static int thread_count(int want)
{
    if (want <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        want = n < 1 ? 1 : (int)(n > MAX_THREADS ? MAX_THREADS : n);
    }
    return want > MAX_THREADS ? MAX_THREADS : want;
}

/* Run fn over chunks 0..nchunks-1 on `nthreads` threads (thread 0 is the
 * caller, which also reports progress and polls the cancel flag). */
static enum om_status par_run(chunk_fn fn, void *job, size_t nchunks,
                              int nthreads, const struct om_progress *progress,
                              const char *phase, const char *source,
                              struct om_error *err)
{
    struct par p;
    memset(&p, 0, sizeof p);
    p.fn = fn;
    p.job = job;
    p.nchunks = nchunks;
    om_error_clear(&p.err);
    pthread_mutex_init(&p.lock, NULL);
    pthread_t tids[MAX_THREADS];
    struct par_arg args[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int t = 0; t < nthreads && t < MAX_THREADS; t++) {
        args[t].p = &p;
        args[t].t = t;
        if (t > 0 && (size_t)t < nchunks) {
            started[t] =
                pthread_create(&tids[t], NULL, par_main, &args[t]) == 0;
        }
    }
    size_t ci;
    while (par_take(&p, &ci)) {
        pthread_mutex_lock(&p.lock);
        size_t done = p.done;
        pthread_mutex_unlock(&p.lock);
        if (om__progress(progress, phase, done, nchunks)) {
            struct om_error e;
            om__error(&e, OM_ECANCELED, source, 0, -1, "%s canceled", phase);
            par_done(&p, OM_ECANCELED, &e);
            break;
        }
        struct om_error e;
        om_error_clear(&e);
        enum om_status st = fn(job, 0, ci, &e);
        par_done(&p, st, &e);
    }
    for (int t = 1; t < nthreads && t < MAX_THREADS; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        }
    }
    pthread_mutex_destroy(&p.lock);
    if (p.status != OM_OK && err) {
        *err = p.err;
    }
    return p.status;
}

/* ---- small geometry helpers ---- */

static double ring_length(const double *xy, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i + 1 < n; i++) {
        s += hypot(xy[2 * i + 2] - xy[2 * i], xy[2 * i + 3] - xy[2 * i + 1]);
    }
    return s;
}

static double feature_perimeter(const struct om_layer_view *v, size_t f)
{
    double s = 0.0;
    size_t r0 = v->ring_start[v->part_start[f]];
    size_t r1 = v->ring_start[v->part_start[f + 1]];
    for (size_t r = r0; r < r1; r++) {
        size_t a = v->point_start[r], b = v->point_start[r + 1];
        s += ring_length(v->xy + 2 * a, b - a);
    }
    return s;
}

/* Whether the point is inside feature f (even-odd over all its rings).
 * Each edge is evaluated with its endpoints in a canonical order, so a
 * point on an edge two features share exactly is inside exactly one. */
static bool point_in_feature(const struct om_layer_view *v, size_t f, double x,
                             double y)
{
    bool in = false;
    size_t r0 = v->ring_start[v->part_start[f]];
    size_t r1 = v->ring_start[v->part_start[f + 1]];
    for (size_t r = r0; r < r1; r++) {
        const double *p = v->xy + 2 * v->point_start[r];
        size_t n = v->point_start[r + 1] - v->point_start[r];
        for (size_t i = 0; i + 1 < n; i++) {
            double x0 = p[2 * i], y0 = p[2 * i + 1];
            double x1 = p[2 * i + 2], y1 = p[2 * i + 3];
            if ((y0 > y) == (y1 > y)) {
                continue;
            }
            if (y1 < y0 || (y1 == y0 && x1 < x0)) {
                double tx = x0, ty = y0;
                x0 = x1;
                y0 = y1;
                x1 = tx;
                y1 = ty;
            }
            double xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0);
            if (x < xi) {
                in = !in;
            }
        }
    }
    return in;
}

static double seg_dist(double px, double py, double ax, double ay, double bx,
                       double by)
{
    double dx = bx - ax, dy = by - ay;
    double l2 = dx * dx + dy * dy;
    double t = l2 > 0.0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0.0;
    t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
    return hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/* Every coordinate finite and every ring long enough for GEOS. */
static bool feature_usable(const struct om_layer_view *v, size_t f)
{
    if ((v->flags[f] & OM_FEAT_EMPTY) ||
        v->part_start[f] == v->part_start[f + 1]) {
        return false;
    }
    size_t r0 = v->ring_start[v->part_start[f]];
    size_t r1 = v->ring_start[v->part_start[f + 1]];
    if (v->point_start[r0] == v->point_start[r1]) {
        return false;
    }
    for (size_t r = r0; r < r1; r++) {
        size_t a = v->point_start[r], b = v->point_start[r + 1];
        if (b != a && b - a < 4) { /* rings without points are ignored */
            return false;
        }
        for (size_t i = a; i < b; i++) {
            if (!isfinite(v->xy[2 * i]) || !isfinite(v->xy[2 * i + 1])) {
                return false;
            }
        }
    }
    return true;
}

/* 1e-12 of the largest coordinate magnitude: see the file comment. */
static double noise_tol(struct om_rect e)
{
    double m = fmax(fmax(fabs(e.minx), fabs(e.maxx)),
                    fmax(fabs(e.miny), fabs(e.maxy)));
    return isfinite(m) ? m * 1e-12 : 0.0;
}

/*
 * The thresholds in the layer's units: metres as configured, or for a
 * geographic CRS degrees (1° taken as 111,320 m: of latitude, and of
 * longitude scaled by the cosine of the layer's mid latitude for areas).
 */
struct thresholds {
    double sliver_area, sliver_width, near;
};

static struct thresholds thresholds_of(const struct om__qc_ctx *c)
{
    struct thresholds t = {1.0, 0.1, 0.05};
    if (c->conf) {
        t.sliver_area = c->conf->sliver_area_m2;
        t.sliver_width = c->conf->sliver_width_m;
        t.near = c->conf->near_distance_m;
    }
    if (c->crs && om_crs_is_geographic(c->crs)) {
        struct om_rect e = om_layer_extent(c->layer);
        double lat = om_rect_is_empty(e) ? 0.0 : 0.5 * (e.miny + e.maxy);
        double k = cos(fmin(fabs(lat), 89.0) * 3.14159265358979323846 / 180.0);
        const double m_per_deg = 111320.0;
        t.sliver_area /= m_per_deg * m_per_deg * k;
        t.sliver_width /= m_per_deg;
        t.near /= m_per_deg;
    }
    return t;
}

/* ---- which features take part (validity per GEOS, in parallel) ---- */

struct use_job {
    const struct om_layer_view *v;
    uint8_t *use;
    struct om_polyops **ops; /* one per thread */
};

static enum om_status use_chunk(void *job, int t, size_t ci,
                                struct om_error *err)
{
    struct use_job *j = job;
    size_t f1 = (ci + 1) * CHUNK;
    f1 = f1 < j->v->nfeatures ? f1 : j->v->nfeatures;
    for (size_t f = ci * CHUNK; f < f1; f++) {
        if (!feature_usable(j->v, f)) {
            j->use[f] = USE_NONE;
            continue;
        }
        if (j->v->flags[f] & OM_FEAT_INVALID) {
            j->use[f] = USE_INVALID;
            continue;
        }
        struct om_validity val;
        enum om_status st = om_polyops_check(j->ops[t], j->v, f, &val, err);
        if (st == OM_ENOMEM) {
            return st;
        }
        /* GEOS could not tell: not trusted */
        j->use[f] = st == OM_OK && val.is_valid ? USE_VALID : USE_INVALID;
    }
    return OM_OK;
}

static void ops_free_all(struct om_polyops **ops, int n)
{
    if (ops) {
        for (int t = 0; t < n; t++) {
            om_polyops_free(ops[t]);
        }
        om__free(ops);
    }
}

static enum om_status ops_new_all(struct om_polyops ***out, int n,
                                  struct om_error *err)
{
    *out = om__calloc((size_t)n, sizeof **out);
    if (!*out) {
        return om__enomem(err, NULL);
    }
    for (int t = 0; t < n; t++) {
        enum om_status st = om_polyops_new(&(*out)[t], err);
        if (st != OM_OK) {
            ops_free_all(*out, n);
            *out = NULL;
            return st;
        }
    }
    return OM_OK;
}

/* *use (om__malloc'ed, one byte per feature): USE_NONE, USE_VALID or
 * USE_INVALID. */
static enum om_status compute_use(const struct om_layer *l, int nthreads,
                                  const struct om_progress *progress,
                                  uint8_t **use, struct om_error *err)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    *use = om__calloc(v.nfeatures + 1, 1);
    if (!*use) {
        return om__enomem(err, om_layer_name(l));
    }
    size_t nchunks = (v.nfeatures + CHUNK - 1) / CHUNK;
    int nt = nthreads < (int)nchunks ? nthreads : (int)(nchunks ? nchunks : 1);
    struct use_job j = {&v, *use, NULL};
    enum om_status st = ops_new_all(&j.ops, nt, err);
    if (st == OM_OK) {
        st = par_run(use_chunk, &j, nchunks, nt, progress, "validity",
                     om_layer_name(l), err);
    }
    ops_free_all(j.ops, nt);
    if (st != OM_OK) {
        om__free(*use);
        *use = NULL;
    }
    return st;
}

/* ---- emitting ---- */

static enum om_status emit(struct om__qc_sink *sink, const char *code,
                           int64_t fid, int64_t fid2, double x, double y,
                           double value, const struct om_layer_view *pv,
                           size_t pf, const char *zh, const char *en,
                           struct om_error *err)
{
    struct om__qc_item it;
    memset(&it, 0, sizeof it);
    it.code = code;
    it.fid = fid;
    it.fid2 = fid2;
    it.x = x;
    it.y = y;
    it.value = value;
    it.field = NULL;
    it.zh = zh;
    it.en = en;
    it.pv = pv;
    it.pf = pf;
    return om__qc_emit(sink, &it, err);
}

/* ---- T001 overlaps ---- */

struct overlap {
    int64_t fid, fid2;
    double area, x, y;
    size_t piece; /* feature of the thread's scratch layer */
    int t;
};

struct ov_thread {
    struct om_polyops *ops;
    struct om__setops *set;
    struct om_layer *scratch;
    struct overlap *ov;
    size_t nov, cap;
    size_t *cand;
    size_t ncand, ccap;
    bool oom;
};

struct ov_job {
    const struct om_layer *layer;
    const struct om_layer_view *v;
    const uint8_t *use;
    const uint8_t *mark; /* candidates (analyse_faces), NULL = all */
    double tol;
    struct ov_thread *th;
};

static bool collect_cand(void *ctx, size_t item)
{
    struct ov_thread *w = ctx;
    if (!OM__GROW(w->cand, w->ccap, w->ncand + 1)) {
        w->oom = true;
        return false;
    }
    w->cand[w->ncand++] = item;
    return true;
}

static enum om_status overlap_pair(struct ov_job *j, struct ov_thread *w,
                                   const struct om_prepared *p, size_t i,
                                   size_t k, struct om_error *err)
{
    const struct om_layer_view *v = j->v;
    enum om_status st = om_layer_begin_feature(w->scratch, v->fid[k], err);
    if (st != OM_OK) {
        return st;
    }
    int rel = OM_REL_DISJOINT;
    double area = 0.0;
    st = om_prepared_clip(w->ops, p, v, k, w->scratch, &rel, &area, err);
    if (st != OM_OK) {
        om_layer_abort_feature(w->scratch);
        om__error_prefix(err, "overlap of features %lld and %lld",
                         (long long)v->fid[i], (long long)v->fid[k]);
        return st;
    }
    if (rel == OM_REL_DISJOINT) {
        om_layer_abort_feature(w->scratch);
        return OM_OK;
    }
    if (rel == OM_REL_COVERS) {
        /* k lies inside i: the overlap is k itself. */
        om_layer_abort_feature(w->scratch);
        st = om__copy_feature(w->scratch, v, k, v->fid[k], err);
        area = om_feature_area_planar(v, k);
    } else {
        st = om_layer_end_feature(w->scratch, err);
    }
    if (st != OM_OK) {
        return st;
    }
    struct om_layer_view sv;
    om_layer_view(w->scratch, &sv);
    size_t piece = sv.nfeatures - 1;
    double per = feature_perimeter(&sv, piece);
    if (sv.part_start[piece] == sv.part_start[piece + 1] || !(area > 0.0) ||
        !(per > 0.0) || 2.0 * area / per <= j->tol) {
        return OM_OK; /* collapsed or noise */
    }
    double x, y;
    st = om__setops_interior_point(w->set, &sv, piece, &x, &y, err);
    if (st != OM_OK) {
        return st;
    }
    if (!OM__GROW(w->ov, w->cap, w->nov + 1)) {
        return om__enomem(err, NULL);
    }
    w->ov[w->nov++] =
        (struct overlap){v->fid[i], v->fid[k], area, x, y, piece, 0};
    return OM_OK;
}

static enum om_status overlap_chunk(void *job, int t, size_t ci,
                                    struct om_error *err)
{
    struct ov_job *j = job;
    struct ov_thread *w = &j->th[t];
    const struct om_layer_view *v = j->v;
    const struct om_rtree *tree = om_layer_index(j->layer);
    size_t f1 = (ci + 1) * CHUNK;
    f1 = f1 < v->nfeatures ? f1 : v->nfeatures;
    for (size_t i = ci * CHUNK; i < f1; i++) {
        if (j->use[i] != USE_VALID || (j->mark && !j->mark[i])) {
            continue;
        }
        w->ncand = 0;
        om_rtree_search(tree, v->bbox[i], collect_cand, w);
        if (w->oom) {
            return om__enomem(err, NULL);
        }
        size_t n = 0;
        for (size_t c = 0; c < w->ncand; c++) {
            size_t k = w->cand[c];
            if (k != i && j->use[k] == USE_VALID && (!j->mark || j->mark[k]) &&
                (v->fid[k] > v->fid[i] || (v->fid[k] == v->fid[i] && k > i))) {
                w->cand[n++] = k;
            }
        }
        if (n == 0) {
            continue;
        }
        struct om_prepared *p = NULL;
        enum om_status st = om_polyops_prepare(w->ops, v, i, &p, err);
        for (size_t c = 0; st == OM_OK && c < n; c++) {
            st = overlap_pair(j, w, p, i, w->cand[c], err);
        }
        om_prepared_free(w->ops, p);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static int cmp_overlap(const void *a, const void *b)
{
    const struct overlap *x = a, *y = b;
    if (x->fid != y->fid) {
        return x->fid < y->fid ? -1 : 1;
    }
    if (x->fid2 != y->fid2) {
        return x->fid2 < y->fid2 ? -1 : 1;
    }
    if (x->t != y->t) {
        return x->t < y->t ? -1 : 1;
    }
    return x->piece < y->piece ? -1 : (x->piece > y->piece);
}

static enum om_status check_overlaps(const struct om__qc_ctx *c,
                                     const struct om_layer_view *v,
                                     const uint8_t *use, const uint8_t *mark,
                                     double tol, int nt, struct om_error *err)
{
    size_t nchunks = (v->nfeatures + CHUNK - 1) / CHUNK;
    if (nt > (int)nchunks) {
        nt = nchunks ? (int)nchunks : 1;
    }
    struct ov_job j = {c->layer, v, use, mark, tol, NULL};
    j.th = om__calloc((size_t)nt, sizeof *j.th);
    enum om_status st = j.th ? OM_OK : om__enomem(err, c->code);
    for (int t = 0; st == OM_OK && t < nt; t++) {
        st = om_polyops_new(&j.th[t].ops, err);
        if (st == OM_OK) {
            st = om__setops_new(&j.th[t].set, err);
        }
        if (st == OM_OK) {
            st = om_layer_new("overlaps", &j.th[t].scratch, err);
        }
    }
    if (st == OM_OK) {
        st = par_run(overlap_chunk, &j, nchunks, nt, c->progress,
                     "topology: overlaps", c->code, err);
    }
    struct overlap *all = NULL;
    size_t nall = 0;
    for (int t = 0; st == OM_OK && t < nt; t++) {
        st = om_layer_finish(j.th[t].scratch, OM_LAYER_KEEP_ORDER, err);
        nall += j.th[t].nov;
    }
    if (st == OM_OK && nall) {
        all = om__malloc(nall * sizeof *all);
        st = all ? OM_OK : om__enomem(err, c->code);
    }
    if (st == OM_OK) {
        size_t k = 0;
        for (int t = 0; t < nt; t++) {
            for (size_t i = 0; i < j.th[t].nov; i++) {
                all[k] = j.th[t].ov[i];
                all[k++].t = t;
            }
        }
        if (nall > 1) {
            qsort(all, nall, sizeof *all, cmp_overlap);
        }
    }
    for (size_t i = 0; st == OM_OK && i < nall; i++) {
        const struct overlap *o = &all[i];
        struct om_layer_view sv;
        om_layer_view(j.th[o->t].scratch, &sv);
        char zh[160], en[160];
        snprintf(zh, sizeof zh, "与要素 %lld 重叠 %.6f 平方米",
                 (long long)o->fid2, o->area);
        snprintf(en, sizeof en, "Overlaps feature %lld by %.6f m2",
                 (long long)o->fid2, o->area);
        st = emit(c->sink, "T001", o->fid, o->fid2, o->x, o->y, o->area, &sv,
                  o->piece, zh, en, err);
    }
    om__free(all);
    if (j.th) {
        for (int t = 0; t < nt; t++) {
            om_polyops_free(j.th[t].ops);
            om__setops_free(j.th[t].set);
            om_layer_free(j.th[t].scratch);
            om__free(j.th[t].ov);
            om__free(j.th[t].cand);
        }
    }
    om__free(j.th);
    return st;
}

/* ---- edge hashing ---- */

struct edge {
    double ax, ay, bx, by; /* a < b lexicographically */
    uint32_t nfwd, nbwd;   /* directed uses a->b and b->a */
};

struct edges {
    struct edge *e;
    size_t cap; /* power of two */
    size_t n;
};

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    d += 0.0; /* -0.0 -> 0.0 */
    memcpy(&u, &d, sizeof u);
    return u;
}

static bool pt_less(double ax, double ay, double bx, double by)
{
    return ax < bx || (ax == bx && ay < by);
}

/* The slot of edge (a, b) (a < b): the matching entry or the empty slot
 * where it goes (marked by nfwd == nbwd == 0). */
static struct edge *edge_slot(struct edges *h, double ax, double ay, double bx,
                              double by)
{
    uint64_t k = mix64(dbits(ax) * 0x9e3779b97f4a7c15ULL ^ dbits(ay));
    k = mix64(k ^ dbits(bx) * 0xbf58476d1ce4e5b9ULL);
    k = mix64(k ^ dbits(by));
    size_t m = h->cap - 1;
    for (size_t i = (size_t)k & m;; i = (i + 1) & m) {
        struct edge *e = &h->e[i];
        if ((e->nfwd == 0 && e->nbwd == 0) ||
            (e->ax == ax && e->ay == ay && e->bx == bx && e->by == by)) {
            return e;
        }
    }
}

/* The directed edges of ring r of v, in the normalised orientation, are
 * visited as (x0,y0)->(x1,y1) for i = 0..n-2 over point indices. */
static bool ring_reversed(const struct om_layer_view *v, size_t r, bool shell)
{
    size_t a = v->point_start[r], b = v->point_start[r + 1];
    double s = om_ring_area_planar(v->xy + 2 * a, b - a);
    return s != 0.0 && (s > 0.0) != shell;
}

static bool is_shell(const struct om_layer_view *v, size_t r, size_t q)
{
    return r == v->ring_start[q];
}

/* Hash the directed edges of the features with use[f] != USE_NONE. */
static enum om_status edges_build(const struct om_layer_view *v,
                                  const uint8_t *use, struct edges *h,
                                  struct om_error *err)
{
    size_t need = 2 * v->npoints + 16, cap = 16;
    while (cap < need) {
        cap *= 2;
    }
    h->e = om__calloc(cap, sizeof *h->e);
    if (!h->e) {
        return om__enomem(err, NULL);
    }
    h->cap = cap;
    h->n = 0;
    for (size_t f = 0; f < v->nfeatures; f++) {
        if (!use[f]) {
            continue;
        }
        for (size_t q = v->part_start[f]; q < v->part_start[f + 1]; q++) {
            for (size_t r = v->ring_start[q]; r < v->ring_start[q + 1]; r++) {
                bool rev = ring_reversed(v, r, is_shell(v, r, q));
                const double *p = v->xy;
                for (size_t i = v->point_start[r];
                     i + 1 < v->point_start[r + 1]; i++) {
                    double x0 = p[2 * i], y0 = p[2 * i + 1];
                    double x1 = p[2 * i + 2], y1 = p[2 * i + 3];
                    if (x0 == x1 && y0 == y1) {
                        continue;
                    }
                    bool fwd = pt_less(x0, y0, x1, y1) != rev;
                    struct edge *e = pt_less(x0, y0, x1, y1)
                                         ? edge_slot(h, x0, y0, x1, y1)
                                         : edge_slot(h, x1, y1, x0, y0);
                    if (e->nfwd == 0 && e->nbwd == 0) {
                        bool lt = pt_less(x0, y0, x1, y1);
                        e->ax = lt ? x0 : x1;
                        e->ay = lt ? y0 : y1;
                        e->bx = lt ? x1 : x0;
                        e->by = lt ? y1 : y0;
                        h->n++;
                    }
                    if (fwd) {
                        e->nfwd++;
                    } else {
                        e->nbwd++;
                    }
                }
            }
        }
    }
    return OM_OK;
}

static bool edge_unmatched(struct edges *h, const double *p, size_t i)
{
    double x0 = p[2 * i], y0 = p[2 * i + 1];
    double x1 = p[2 * i + 2], y1 = p[2 * i + 3];
    if (x0 == x1 && y0 == y1) {
        return false;
    }
    const struct edge *e = pt_less(x0, y0, x1, y1)
                               ? edge_slot(h, x0, y0, x1, y1)
                               : edge_slot(h, x1, y1, x0, y0);
    return e->nfwd != e->nbwd;
}

/* Growable polylines. */
struct lines {
    double *xy;
    size_t npts, cap;
    size_t *start; /* nlines + 1 */
    size_t nlines, scap;
};

static bool lines_point(struct lines *L, double x, double y)
{
    if (!OM__GROW(L->xy, L->cap, 2 * (L->npts + 1))) {
        return false;
    }
    L->xy[2 * L->npts] = x;
    L->xy[2 * L->npts + 1] = y;
    L->npts++;
    return true;
}

static bool lines_end(struct lines *L)
{
    if (!OM__GROW(L->start, L->scap, L->nlines + 2)) {
        return false;
    }
    if (L->nlines == 0) {
        L->start[0] = 0;
    }
    L->start[++L->nlines] = L->npts;
    return true;
}

static void lines_free(struct lines *L)
{
    om__free(L->xy);
    om__free(L->start);
    memset(L, 0, sizeof *L);
}

/* Append the chains of unmatched edges of the used features to L; with
 * `mark` (npoints bytes), mark the points on an unmatched edge. */
static enum om_status unmatched_lines(const struct om_layer_view *v,
                                      const uint8_t *use, struct edges *h,
                                      struct lines *L, uint8_t *mark,
                                      struct om_error *err)
{
    for (size_t f = 0; f < v->nfeatures; f++) {
        if (!use[f]) {
            continue;
        }
        size_t r0 = v->ring_start[v->part_start[f]];
        size_t r1 = v->ring_start[v->part_start[f + 1]];
        for (size_t r = r0; r < r1; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            bool open = false; /* a chain is being written */
            for (size_t i = a; i + 1 < b; i++) {
                bool un = edge_unmatched(h, v->xy, i);
                if (un) {
                    if (mark) {
                        mark[i] = 1;
                        mark[i + 1 == b - 1 ? a : i + 1] = 1;
                    }
                    if (!open &&
                        !lines_point(L, v->xy[2 * i], v->xy[2 * i + 1])) {
                        return om__enomem(err, NULL);
                    }
                    if (!lines_point(L, v->xy[2 * i + 2], v->xy[2 * i + 3])) {
                        return om__enomem(err, NULL);
                    }
                    open = true;
                } else if (open) {
                    if (!lines_end(L)) {
                        return om__enomem(err, NULL);
                    }
                    open = false;
                }
            }
            if (open && !lines_end(L)) {
                return om__enomem(err, NULL);
            }
        }
    }
    return OM_OK;
}

/* ---- T002 gaps ---- */

struct gap {
    size_t face;
    double area, x, y;
    bool outside_outline; /* between the layer and the extent boundary */
};

static int cmp_gap(const void *a, const void *b)
{
    const struct gap *x = a, *y = b;
    if (x->area != y->area) {
        return x->area > y->area ? -1 : 1;
    }
    if (x->x != y->x) {
        return x->x < y->x ? -1 : 1;
    }
    return x->y < y->y ? -1 : (x->y > y->y);
}

struct count_ctx {
    const struct om_layer_view *v;
    const uint8_t *use;
    double x, y;
    size_t n;
};

static bool count_visit(void *ctx, size_t f)
{
    struct count_ctx *c = ctx;
    if ((!c->use || c->use[f]) && point_in_feature(c->v, f, c->x, c->y)) {
        c->n++;
    }
    return true;
}

/* How many used features of `l` contain the point. */
static size_t cover_count(const struct om_layer *l,
                          const struct om_layer_view *v, const uint8_t *use,
                          double x, double y)
{
    struct count_ctx c = {v, use, x, y, 0};
    struct om_rect q = {x, y, x, y};
    om_rtree_search(om_layer_index(l), q, count_visit, &c);
    return c.n;
}

/* The faces of polygonize(lines) as a finished layer with their interior
 * points. */
static enum om_status faces_of(struct om__setops *set, const struct lines *L,
                               struct om_layer **faces, double **pts,
                               size_t *nfaces, struct om_error *err)
{
    *faces = NULL;
    *pts = NULL;
    *nfaces = 0;
    enum om_status st = om_layer_new("faces", faces, err);
    if (st == OM_OK && L->nlines) {
        st = om__setops_polygonize(set, L->xy, L->start, L->nlines, *faces, pts,
                                   nfaces, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(*faces, OM_LAYER_KEEP_ORDER, err);
    }
    if (st != OM_OK) {
        om_layer_free(*faces);
        om__free(*pts);
        *faces = NULL;
        *pts = NULL;
        *nfaces = 0;
    }
    return st;
}

struct gap_state {
    const struct om__qc_ctx *c;
    const struct om_layer_view *v;
    const uint8_t *use;
    const struct om_layer *extent;
    struct om_layer_view ev;
    uint8_t *euse;
    struct om__setops *set;
    struct lines own;       /* the layer's unmatched chains */
    struct lines both;      /* + the extent's outline */
    struct om_layer *holes; /* lazily: faces of `own` covered by nothing */
    double *hole_pts;
    double tol;
    /* the faces analysed, and the gaps found among them */
    struct om_layer *faces;
    double *face_pts;
    size_t nfaces;
    struct gap *gaps;
    size_t ngaps, gcap;
};

/* Whether a point is inside a hole of the layer's own outline. */
static enum om_status in_layer_hole(struct gap_state *g, double x, double y,
                                    bool *in, struct om_error *err)
{
    if (!g->holes) {
        struct om_layer *faces = NULL;
        double *pts = NULL;
        size_t n = 0;
        enum om_status st = faces_of(g->set, &g->own, &faces, &pts, &n, err);
        if (st != OM_OK) {
            return st;
        }
        struct om_layer_view fv;
        om_layer_view(faces, &fv);
        /* Keep the faces; mark the covered ones as unused by making
         * their hole points NaN. */
        for (size_t k = 0; k < n; k++) {
            if (cover_count(g->c->layer, g->v, g->use, pts[2 * k],
                            pts[2 * k + 1]) != 0) {
                pts[2 * k] = NAN;
            }
        }
        g->holes = faces;
        g->hole_pts = pts;
    }
    struct om_layer_view hv;
    om_layer_view(g->holes, &hv);
    *in = false;
    for (size_t k = 0; k < hv.nfeatures && !*in; k++) {
        struct om_rect b = hv.bbox[k];
        if (isnan(g->hole_pts[2 * k]) || x < b.minx || x > b.maxx ||
            y < b.miny || y > b.maxy) {
            continue;
        }
        *in = point_in_feature(&hv, k, x, y);
    }
    return OM_OK;
}

static bool mark_visit(void *ctx, size_t f)
{
    ((uint8_t *)ctx)[f] = 1;
    return true;
}

/*
 * Classify the faces of the arrangement of unmatched edges: faces covered
 * by no feature are gaps (collected in g->gaps when want_gaps); with
 * `ovmark`, every feature whose box meets a face covered twice or more is
 * marked there. Two features whose interiors meet share such a face (the
 * cover count is constant on a face and >= 2 where they overlap), so only
 * marked features need the exact overlap test: none in a clean coverage.
 */
static enum om_status analyse_faces(struct gap_state *g, bool want_gaps,
                                    uint8_t *ovmark, struct om_error *err)
{
    const struct om__qc_ctx *c = g->c;
    struct lines *L = g->extent ? &g->both : &g->own;
    enum om_status st =
        faces_of(g->set, L, &g->faces, &g->face_pts, &g->nfaces, err);
    struct om_layer_view fv;
    if (st == OM_OK) {
        om_layer_view(g->faces, &fv);
    }
    for (size_t k = 0; st == OM_OK && k < g->nfaces; k++) {
        double x = g->face_pts[2 * k], y = g->face_pts[2 * k + 1];
        if (!isfinite(x) || !isfinite(y)) {
            if (ovmark) { /* cannot tell: test its features */
                om_rtree_search(om_layer_index(c->layer), fv.bbox[k],
                                mark_visit, ovmark);
            }
            continue;
        }
        size_t n = cover_count(c->layer, g->v, g->use, x, y);
        if (n >= 2 && ovmark) {
            om_rtree_search(om_layer_index(c->layer), fv.bbox[k], mark_visit,
                            ovmark);
        }
        if (n != 0 || !want_gaps) {
            continue;
        }
        bool gap = !g->extent, outside = false;
        if (g->extent) {
            if (cover_count(g->extent, &g->ev, g->euse, x, y) != 0) {
                gap = true;
                st = in_layer_hole(g, x, y, &outside, err);
                outside = !outside;
            } else {
                st = in_layer_hole(g, x, y, &gap, err);
            }
        }
        if (st != OM_OK || !gap) {
            continue;
        }
        double area = om_feature_area_planar(&fv, k);
        double per = feature_perimeter(&fv, k);
        if (!(area > 0.0) || !(per > 0.0) || 2.0 * area / per <= g->tol) {
            continue;
        }
        if (!OM__GROW(g->gaps, g->gcap, g->ngaps + 1)) {
            st = om__enomem(err, c->code);
            break;
        }
        g->gaps[g->ngaps++] = (struct gap){k, area, x, y, outside};
    }
    if (st == OM_OK && g->ngaps > 1) {
        qsort(g->gaps, g->ngaps, sizeof *g->gaps, cmp_gap);
    }
    return st;
}

static enum om_status emit_gaps(struct gap_state *g, struct om_error *err)
{
    const struct om__qc_ctx *c = g->c;
    enum om_status st = OM_OK;
    struct om_layer_view fv;
    if (g->faces) {
        om_layer_view(g->faces, &fv);
    }
    for (size_t i = 0; st == OM_OK && i < g->ngaps; i++) {
        const struct gap *q = &g->gaps[i];
        char zh[200], en[200];
        if (q->outside_outline) {
            snprintf(zh, sizeof zh, "图层与范围 %s 边界之间的缝隙 %.6f 平方米",
                     om_layer_name(g->extent), q->area);
            snprintf(en, sizeof en,
                     "Gap of %.6f m2 between the layer and the boundary of "
                     "the extent %s",
                     q->area, om_layer_name(g->extent));
        } else {
            snprintf(zh, sizeof zh, "要素之间的缝隙 %.6f 平方米", q->area);
            snprintf(en, sizeof en, "Gap of %.6f m2 between features", q->area);
        }
        st = emit(c->sink, "T002", -1, -1, q->x, q->y, q->area, &fv, q->face,
                  zh, en, err);
    }
    return st;
}

/* ---- T003 slivers ---- */

static enum om_status check_slivers(const struct om__qc_ctx *c,
                                    const struct om_layer_view *v,
                                    const uint8_t *use, struct om__setops *set,
                                    struct om_error *err)
{
    struct thresholds th = thresholds_of(c);
    double amin = th.sliver_area, wmin = th.sliver_width;
    enum om_status st = OM_OK;
    for (size_t rank = 0; st == OM_OK && rank < v->nfeatures; rank++) {
        size_t f = om_layer_feature_by_fid_rank(c->layer, rank);
        if (f >= v->nfeatures || use[f] != USE_VALID) {
            continue;
        }
        double area = om_feature_area_planar(v, f);
        double per = feature_perimeter(v, f);
        double width = per > 0.0 ? 2.0 * area / per : 0.0;
        if (!(area < amin) && !(width < wmin)) {
            continue;
        }
        double x, y;
        st = om__setops_interior_point(set, v, f, &x, &y, err);
        if (st != OM_OK) {
            break;
        }
        char zh[200], en[200];
        snprintf(zh, sizeof zh, "细碎图斑：面积 %.6f 平方米，宽度 %.6f 米",
                 area, width);
        snprintf(en, sizeof en, "Sliver: area %.6f m2, width %.6f m", area,
                 width);
        st =
            emit(c->sink, "T003", v->fid[f], -1, x, y, area, v, f, zh, en, err);
        if (om__canceled(c->progress)) {
            return om__error(err, OM_ECANCELED, c->code, 0, -1,
                             "quality control canceled");
        }
    }
    return st;
}

/* ---- T004 near misses ---- */

struct near {
    int64_t fid, fid2;
    size_t seq; /* point index */
    double x, y, d;
};

struct nm_cand {
    size_t f;
    double d;
};

struct nm_thread {
    struct near *out;
    size_t nout, cap;
    size_t *segs;
    size_t nsegs, scap;
    struct nm_cand *cand;
    size_t ncand, ccap;
    bool oom;
};

struct nm_job {
    const struct om_layer_view *v;
    const uint8_t *use;
    const uint8_t *mark;
    const size_t *ring_feat;
    const struct om_rtree *segtree;
    double nd, tol;
    struct nm_thread *th;
};

static bool collect_seg(void *ctx, size_t item)
{
    struct nm_thread *w = ctx;
    if (!OM__GROW(w->segs, w->scap, w->nsegs + 1)) {
        w->oom = true;
        return false;
    }
    w->segs[w->nsegs++] = item;
    return true;
}

/* Ring of point index i. */
static size_t ring_of_point(const struct om_layer_view *v, size_t i)
{
    size_t lo = 0, hi = v->nrings; /* point_start[lo] <= i < [hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->point_start[mid] <= i) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static enum om_status near_vertex(struct nm_job *j, struct nm_thread *w,
                                  size_t f, size_t i, struct om_error *err)
{
    const struct om_layer_view *v = j->v;
    double x = v->xy[2 * i], y = v->xy[2 * i + 1];
    struct om_rect q = {x - j->nd, y - j->nd, x + j->nd, y + j->nd};
    w->nsegs = 0;
    om_rtree_search(j->segtree, q, collect_seg, w);
    if (w->oom) {
        return om__enomem(err, NULL);
    }
    w->ncand = 0;
    for (size_t s = 0; s < w->nsegs; s++) {
        size_t p = w->segs[s];
        size_t g = j->ring_feat[ring_of_point(v, p)];
        if (g == f || !j->use[g]) {
            continue;
        }
        double d = seg_dist(x, y, v->xy[2 * p], v->xy[2 * p + 1],
                            v->xy[2 * p + 2], v->xy[2 * p + 3]);
        size_t c = 0;
        while (c < w->ncand && w->cand[c].f != g) {
            c++;
        }
        if (c == w->ncand) {
            if (!OM__GROW(w->cand, w->ccap, w->ncand + 1)) {
                return om__enomem(err, NULL);
            }
            w->cand[w->ncand++] = (struct nm_cand){g, d};
        } else if (d < w->cand[c].d) {
            w->cand[c].d = d;
        }
    }
    const struct nm_cand *best = NULL;
    for (size_t c = 0; c < w->ncand; c++) {
        const struct nm_cand *k = &w->cand[c];
        if (k->d > j->tol && k->d <= j->nd &&
            (!best || k->d < best->d ||
             (k->d == best->d && v->fid[k->f] < v->fid[best->f]))) {
            best = k;
        }
    }
    if (!best) {
        return OM_OK;
    }
    if (!OM__GROW(w->out, w->cap, w->nout + 1)) {
        return om__enomem(err, NULL);
    }
    w->out[w->nout++] =
        (struct near){v->fid[f], v->fid[best->f], i, x, y, best->d};
    return OM_OK;
}

static enum om_status near_chunk(void *job, int t, size_t ci,
                                 struct om_error *err)
{
    struct nm_job *j = job;
    struct nm_thread *w = &j->th[t];
    const struct om_layer_view *v = j->v;
    size_t f1 = (ci + 1) * CHUNK;
    f1 = f1 < v->nfeatures ? f1 : v->nfeatures;
    for (size_t f = ci * CHUNK; f < f1; f++) {
        if (j->use[f] != USE_VALID) {
            continue;
        }
        size_t r0 = v->ring_start[v->part_start[f]];
        size_t r1 = v->ring_start[v->part_start[f + 1]];
        for (size_t r = r0; r < r1; r++) {
            /* The closing point repeats the first: skip it. */
            for (size_t i = v->point_start[r]; i + 1 < v->point_start[r + 1];
                 i++) {
                if (!j->mark[i]) {
                    continue;
                }
                enum om_status st = near_vertex(j, w, f, i, err);
                if (st != OM_OK) {
                    return st;
                }
            }
        }
    }
    return OM_OK;
}

static int cmp_near(const void *a, const void *b)
{
    const struct near *x = a, *y = b;
    if (x->fid != y->fid) {
        return x->fid < y->fid ? -1 : 1;
    }
    if (x->fid2 != y->fid2) {
        return x->fid2 < y->fid2 ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

static enum om_status check_near(const struct om__qc_ctx *c,
                                 const struct om_layer_view *v,
                                 const uint8_t *use, const uint8_t *mark,
                                 double tol, int nt, struct om_error *err)
{
    double nd = thresholds_of(c).near;
    if (!(nd > tol)) {
        return OM_OK;
    }
    struct nm_job j;
    memset(&j, 0, sizeof j);
    j.v = v;
    j.use = use;
    j.mark = mark;
    j.nd = nd;
    j.tol = tol;
    size_t *ring_feat = om__malloc((v->nrings + 1) * sizeof *ring_feat);
    struct om_rect *boxes = om__malloc((v->npoints + 1) * sizeof *boxes);
    struct om_rtree *tree = NULL;
    enum om_status st = ring_feat && boxes ? OM_OK : om__enomem(err, c->code);
    if (st == OM_OK) {
        for (size_t f = 0; f < v->nfeatures; f++) {
            for (size_t r = v->ring_start[v->part_start[f]];
                 r < v->ring_start[v->part_start[f + 1]]; r++) {
                ring_feat[r] = f;
                size_t a = v->point_start[r], b = v->point_start[r + 1];
                for (size_t i = a; i < b; i++) {
                    boxes[i] = om_rect_empty();
                    if (i + 1 < b && use[f]) {
                        const double *p = v->xy + 2 * i;
                        boxes[i] = (struct om_rect){
                            fmin(p[0], p[2]), fmin(p[1], p[3]),
                            fmax(p[0], p[2]), fmax(p[1], p[3])};
                    }
                }
            }
        }
        st = om_rtree_build(boxes, v->npoints, &tree, err);
    }
    om__free(boxes);
    size_t nchunks = (v->nfeatures + CHUNK - 1) / CHUNK;
    if (nt > (int)nchunks) {
        nt = nchunks ? (int)nchunks : 1;
    }
    if (st == OM_OK) {
        j.ring_feat = ring_feat;
        j.segtree = tree;
        j.th = om__calloc((size_t)nt, sizeof *j.th);
        st = j.th ? OM_OK : om__enomem(err, c->code);
    }
    if (st == OM_OK) {
        st = par_run(near_chunk, &j, nchunks, nt, c->progress,
                     "topology: near misses", c->code, err);
    }
    struct near *all = NULL;
    size_t nall = 0;
    for (int t = 0; st == OM_OK && t < nt; t++) {
        nall += j.th[t].nout;
    }
    if (st == OM_OK && nall) {
        all = om__malloc(nall * sizeof *all);
        st = all ? OM_OK : om__enomem(err, c->code);
        size_t k = 0;
        for (int t = 0; st == OM_OK && t < nt; t++) {
            if (j.th[t].nout) { /* out is NULL when a thread found none */
                memcpy(all + k, j.th[t].out, j.th[t].nout * sizeof *all);
                k += j.th[t].nout;
            }
        }
        if (st == OM_OK) {
            qsort(all, nall, sizeof *all, cmp_near);
        }
    }
    for (size_t i = 0; st == OM_OK && i < nall; i++) {
        const struct near *n = &all[i];
        char zh[200], en[200];
        snprintf(zh, sizeof zh, "节点距要素 %lld 的边界 %.6f 米（未接合）",
                 (long long)n->fid2, n->d);
        snprintf(en, sizeof en,
                 "Vertex %.6f m from the edge of feature %lld (near miss)",
                 n->d, (long long)n->fid2);
        st = emit(c->sink, "T004", n->fid, n->fid2, n->x, n->y, n->d, NULL, 0,
                  zh, en, err);
    }
    om__free(all);
    if (j.th) {
        for (int t = 0; t < nt; t++) {
            om__free(j.th[t].out);
            om__free(j.th[t].segs);
            om__free(j.th[t].cand);
        }
        om__free(j.th);
    }
    om_rtree_free(tree);
    om__free(ring_feat);
    return st;
}

/* ---- the topology family ---- */

static enum om_status extent_use(const struct om_layer *extent,
                                 struct om_layer_view *ev, uint8_t **euse,
                                 struct om_error *err)
{
    om_layer_view(extent, ev);
    *euse = om__calloc(ev->nfeatures + 1, 1);
    if (!*euse) {
        return om__enomem(err, om_layer_name(extent));
    }
    for (size_t f = 0; f < ev->nfeatures; f++) {
        (*euse)[f] = feature_usable(ev, f) ? USE_VALID : USE_NONE;
    }
    return OM_OK;
}

enum om_status om__qc_topology(const struct om__qc_ctx *c,
                               const struct om_layer *extent,
                               struct om_error *err)
{
    bool w1 = om__qc_wanted(c->sink, "T001");
    bool w2 = om__qc_wanted(c->sink, "T002");
    bool w3 = om__qc_wanted(c->sink, "T003");
    bool w4 = om__qc_wanted(c->sink, "T004");
    if (!w1 && !w2 && !w3 && !w4) {
        return OM_OK;
    }
    if (!om_layer_is_finished(c->layer)) {
        return om__error(err, OM_EINVAL, c->code, 0, -1,
                         "topology checks need a finished layer");
    }
    if (extent == c->layer || (extent && !om_layer_is_finished(extent))) {
        extent = NULL;
    }
    int nt = thread_count(c->threads);
    struct om_layer_view v;
    om_layer_view(c->layer, &v);
    double tol = noise_tol(om_layer_extent(c->layer));
    uint8_t *use = NULL;
    uint8_t *mark = NULL;
    struct edges h = {NULL, 0, 0};
    struct gap_state g;
    memset(&g, 0, sizeof g);
    g.c = c;
    g.v = &v;
    g.tol = tol;
    enum om_status st = compute_use(c->layer, nt, c->progress, &use, err);
    g.use = use;
    if (st == OM_OK) {
        st = om__setops_new(&g.set, err);
    }
    if (st == OM_OK && (w1 || w2 || w4)) {
        mark = om__calloc(v.npoints + 1, 1);
        st = mark ? OM_OK : om__enomem(err, c->code);
        if (st == OM_OK) {
            st = edges_build(&v, use, &h, err);
        }
        if (st == OM_OK) {
            st = unmatched_lines(&v, use, &h, &g.own, mark, err);
        }
        om__free(h.e);
        h.e = NULL;
    }
    if (st == OM_OK && w2 && extent) {
        /* The extent's outline: its own unmatched edges. */
        g.extent = extent;
        st = extent_use(extent, &g.ev, &g.euse, err);
        struct edges eh = {NULL, 0, 0};
        if (st == OM_OK) {
            st = edges_build(&g.ev, g.euse, &eh, err);
        }
        if (st == OM_OK) {
            st = unmatched_lines(&g.ev, g.euse, &eh, &g.both, NULL, err);
        }
        om__free(eh.e);
        /* + the layer's own chains */
        for (size_t i = 0; st == OM_OK && i < g.own.nlines; i++) {
            for (size_t k = g.own.start[i]; k < g.own.start[i + 1]; k++) {
                if (!lines_point(&g.both, g.own.xy[2 * k],
                                 g.own.xy[2 * k + 1])) {
                    st = om__enomem(err, c->code);
                    break;
                }
            }
            if (st == OM_OK && !lines_end(&g.both)) {
                st = om__enomem(err, c->code);
            }
        }
    }
    uint8_t *ovmark = NULL;
    if (st == OM_OK && w1) {
        ovmark = om__calloc(v.nfeatures + 1, 1);
        st = ovmark ? OM_OK : om__enomem(err, c->code);
    }
    if (st == OM_OK && (w1 || w2)) {
        st = analyse_faces(&g, w2, ovmark, err);
    }
    if (st == OM_OK && w1) {
        st = check_overlaps(c, &v, use, ovmark, tol, nt, err);
    }
    om__free(ovmark);
    if (st == OM_OK && w2) {
        st = emit_gaps(&g, err);
    }
    if (st == OM_OK && w3) {
        st = check_slivers(c, &v, use, g.set, err);
    }
    if (st == OM_OK && w4) {
        st = check_near(c, &v, use, mark, tol, nt, err);
    }
    lines_free(&g.own);
    lines_free(&g.both);
    om_layer_free(g.holes);
    om__free(g.hole_pts);
    om_layer_free(g.faces);
    om__free(g.face_pts);
    om__free(g.gaps);
    om__free(g.euse);
    om__setops_free(g.set);
    om__free(mark);
    om__free(use);
    return st;
}

/* ---- the between-layer family ---- */

struct between {
    const struct om__qc_ctx *c;
    struct om__setops *set;
    const struct om_layer *b;
    const struct om_rule *rule;
    double min_width;
    /* L002 */
    struct om_layer_view av;
    struct om_layer *acc; /* accumulated parts per a */
    size_t cur_a;         /* OM_OVERLAY_NONE when none */
    double cur_area;
    struct l2 {
        size_t a, piece;
        double area, share, x, y;
    } * l2;
    size_t nl2, l2cap;
    double crop_rel;
    /* L001: parts outside below these are slivers (not reported) */
    double sliver_area, sliver_width;
    size_t nslivers;
};

static enum om_status on_outside(void *ctx, const struct om_overlay_piece *pc,
                                 struct om_error *err)
{
    struct between *bt = ctx;
    const struct om__qc_ctx *c = bt->c;
    if (!pc->geom || !(pc->planar_m2 > 0.0)) {
        return OM_OK;
    }
    /* Parts outside that are slivers (area or mean width below the
     * thresholds) are digitising noise between two sources, e.g. a plan
     * stored on a 0.1 mm grid against the admin boundary: not reported. */
    double per = feature_perimeter(pc->geom, pc->geom_feature);
    if (pc->planar_m2 < bt->sliver_area ||
        (per > 0 && 2.0 * pc->planar_m2 / per < bt->sliver_width)) {
        bt->nslivers++;
        return OM_OK;
    }
    double x, y;
    enum om_status st = om__setops_interior_point(
        bt->set, pc->geom, pc->geom_feature, &x, &y, err);
    if (st != OM_OK) {
        return st;
    }
    char zh[200], en[200];
    snprintf(zh, sizeof zh, "%.6f 平方米位于规划范围 %s 之外", pc->planar_m2,
             om_layer_name(bt->b));
    snprintf(en, sizeof en, "%.6f m2 outside the planning extent %s",
             pc->planar_m2, om_layer_name(bt->b));
    struct om_layer_view av;
    om_layer_view(c->layer, &av);
    return emit(c->sink, "L001", av.fid[pc->a], -1, x, y, pc->planar_m2,
                pc->geom, pc->geom_feature, zh, en, err);
}

static enum om_status valid_mask(const struct om__qc_ctx *c,
                                 const struct om_layer *l, uint8_t **mask,
                                 struct om_error *err)
{
    enum om_status st =
        compute_use(l, thread_count(c->threads), c->progress, mask, err);
    if (st == OM_OK) {
        size_t n = om_layer_nfeatures(l);
        for (size_t f = 0; f < n; f++) {
            (*mask)[f] = (*mask)[f] == USE_VALID;
        }
    }
    return st;
}

/* L001 pass 1: the area of each feature inside the extent's features. */
static enum om_status on_inside(void *ctx, const struct om_overlay_piece *pc,
                                struct om_error *err)
{
    (void)err;
    double *inside = ctx;
    inside[pc->a] += pc->planar_m2;
    return OM_OK;
}

static enum om_status check_outside(const struct om__qc_ctx *c,
                                    const struct om_layer *extent,
                                    struct om__setops *set,
                                    struct om_error *err)
{
    uint8_t *am = NULL, *bm = NULL;
    double *inside = NULL;
    enum om_status st = valid_mask(c, c->layer, &am, err);
    if (st == OM_OK) {
        st = valid_mask(c, extent, &bm, err);
    }
    /*
     * Pass 1 (areas only, no geometry): a feature whose area equals the
     * sum of its parts inside the extent's features lies inside; only the
     * others (also those the sum exceeds: overlapping extent features)
     * get the outside geometry built in pass 2. Most parcels cross only
     * the cuts between extent tiles, where building A minus the tiles
     * would cost a GEOS difference each.
     */
    size_t na = om_layer_nfeatures(c->layer);
    if (st == OM_OK) {
        inside = om__calloc(na ? na : 1, sizeof *inside);
        if (!inside) {
            st = om__enomem(err, om_layer_name(c->layer));
        }
    }
    if (st == OM_OK) {
        struct om_overlay_options o;
        memset(&o, 0, sizeof o);
        o.a = c->layer;
        o.b = extent;
        o.a_mask = am;
        o.b_mask = bm;
        o.inside = true;
        o.crs = c->crs;
        o.threads = c->threads;
        st = om_overlay_run(&o, on_inside, inside, c->progress, err);
    }
    if (st == OM_OK) {
        struct om_layer_view av;
        om_layer_view(c->layer, &av);
        for (size_t a = 0; a < na; a++) {
            if (am[a]) {
                double whole = om_feature_area_planar(&av, a);
                am[a] = fabs(whole - inside[a]) > 1e-9 * whole + 1e-6;
            }
        }
    }
    om__free(inside);
    if (st == OM_OK) {
        struct om_overlay_options o;
        memset(&o, 0, sizeof o);
        o.a = c->layer;
        o.b = extent;
        o.a_mask = am;
        o.b_mask = bm;
        o.outside = true;
        o.want_geometry = true;
        o.crs = c->crs;
        o.threads = c->threads;
        struct between bt;
        memset(&bt, 0, sizeof bt);
        bt.c = c;
        bt.set = set;
        bt.b = extent;
        struct thresholds th = thresholds_of(c);
        bt.sliver_area = th.sliver_area;
        bt.sliver_width = th.sliver_width;
        st = om_overlay_run(&o, on_outside, &bt, c->progress, err);
    }
    om__free(am);
    om__free(bm);
    return st;
}

/* L002: flush the accumulated non-cultivated part of farmland feature
 * cur_a. */
static enum om_status l2_flush(struct between *bt, struct om_error *err)
{
    if (bt->cur_a == OM_OVERLAY_NONE) {
        return OM_OK;
    }
    size_t a = bt->cur_a;
    bt->cur_a = OM_OVERLAY_NONE;
    enum om_status st = om_layer_end_feature(bt->acc, err);
    if (st != OM_OK) {
        return st;
    }
    double total = om_feature_area_planar(&bt->av, a);
    double share = total > 0.0 ? bt->cur_area / total : 0.0;
    if (!(share > bt->crop_rel)) {
        return OM_OK;
    }
    struct om_layer_view sv;
    om_layer_view(bt->acc, &sv);
    size_t piece = sv.nfeatures - 1;
    double x, y;
    st = om__setops_interior_point(bt->set, &sv, piece, &x, &y, err);
    if (st != OM_OK) {
        return st;
    }
    if (!OM__GROW(bt->l2, bt->l2cap, bt->nl2 + 1)) {
        return om__enomem(err, NULL);
    }
    bt->l2[bt->nl2++] = (struct l2){a, piece, bt->cur_area, share, x, y};
    return OM_OK;
}

static enum om_status on_noncultivated(void *ctx,
                                       const struct om_overlay_piece *pc,
                                       struct om_error *err)
{
    struct between *bt = ctx;
    enum om_status st = OM_OK;
    if (pc->a != bt->cur_a) {
        st = l2_flush(bt, err);
        if (st == OM_OK) {
            st = om_layer_begin_feature(bt->acc, bt->av.fid[pc->a], err);
        }
        if (st != OM_OK) {
            return st;
        }
        bt->cur_a = pc->a;
        bt->cur_area = 0.0;
    }
    if (!pc->geom) {
        return OM_OK;
    }
    bt->cur_area += pc->planar_m2;
    const struct om_layer_view *g = pc->geom;
    size_t f = pc->geom_feature;
    for (size_t q = g->part_start[f]; st == OM_OK && q < g->part_start[f + 1];
         q++) {
        st = om_layer_begin_part(bt->acc, err);
        for (size_t r = g->ring_start[q];
             st == OM_OK && r < g->ring_start[q + 1]; r++) {
            size_t a = g->point_start[r], b = g->point_start[r + 1];
            st = om_layer_add_ring(bt->acc, g->xy + 2 * a, b - a, err);
        }
    }
    return st;
}

static enum om_status check_farmland(const struct om__qc_ctx *c,
                                     const struct om_layer *landuse,
                                     struct om__setops *set,
                                     struct om_error *err)
{
    int dlbm = om_layer_field_index(landuse, "DLBM");
    if (dlbm < 0) {
        return OM_OK; /* nothing to judge by (A001 on the landuse layer) */
    }
    uint8_t *am = NULL, *bm = NULL;
    struct between bt;
    memset(&bt, 0, sizeof bt);
    bt.c = c;
    bt.set = set;
    bt.b = landuse;
    bt.cur_a = OM_OVERLAY_NONE;
    bt.crop_rel = c->conf ? c->conf->crop_rel : 0.05;
    om_layer_view(c->layer, &bt.av);
    enum om_status st = valid_mask(c, c->layer, &am, err);
    if (st == OM_OK) {
        st = valid_mask(c, landuse, &bm, err);
    }
    if (st == OM_OK) {
        size_t n = om_layer_nfeatures(landuse);
        for (size_t f = 0; f < n; f++) {
            char buf[64];
            const char *code =
                om_layer_is_null(landuse, f, dlbm)
                    ? NULL
                    : om_layer_format_value(landuse, f, dlbm, buf, sizeof buf);
            char trimmed[64] = "";
            if (code) {
                while (*code == ' ' || *code == '\t') {
                    code++;
                }
                om__strlcpy(trimmed, code, sizeof trimmed);
                size_t len = strlen(trimmed);
                while (len &&
                       (trimmed[len - 1] == ' ' || trimmed[len - 1] == '\t')) {
                    trimmed[--len] = '\0';
                }
            }
            bool cultivated =
                trimmed[0] &&
                om_code_in_group(OM_CODES_DLBM, trimmed, "cultivated");
            bm[f] = bm[f] && !cultivated;
        }
        st = om_layer_new("noncultivated", &bt.acc, err);
    }
    if (st == OM_OK) {
        struct om_overlay_options o;
        memset(&o, 0, sizeof o);
        o.a = c->layer;
        o.b = landuse;
        o.a_mask = am;
        o.b_mask = bm;
        o.inside = true;
        o.want_geometry = true;
        o.crs = c->crs;
        o.threads = c->threads;
        st = om_overlay_run(&o, on_noncultivated, &bt, c->progress, err);
        if (st == OM_OK) {
            st = l2_flush(&bt, err);
        } else if (bt.cur_a != OM_OVERLAY_NONE) {
            om_layer_abort_feature(bt.acc);
        }
    }
    if (st == OM_OK) {
        st = om_layer_finish(bt.acc, OM_LAYER_KEEP_ORDER, err);
    }
    struct om_layer_view sv;
    if (st == OM_OK) {
        om_layer_view(bt.acc, &sv);
    }
    for (size_t i = 0; st == OM_OK && i < bt.nl2; i++) {
        const struct l2 *q = &bt.l2[i];
        char zh[240], en[240];
        snprintf(zh, sizeof zh,
                 "%.2f%%（%.6f 平方米）位于 %s 中未登记为耕地的图斑上",
                 100.0 * q->share, q->area, om_layer_name(landuse));
        snprintf(en, sizeof en,
                 "%.2f%% (%.6f m2) lies on %s parcels not recorded as "
                 "cultivated land",
                 100.0 * q->share, q->area, om_layer_name(landuse));
        st = emit(c->sink, "L002", bt.av.fid[q->a], -1, q->x, q->y, q->share,
                  &sv, q->piece, zh, en, err);
    }
    om__free(bt.l2);
    om_layer_free(bt.acc);
    om__free(am);
    om__free(bm);
    return st;
}

static enum om_status on_forbidden(void *ctx, const struct om_overlay_piece *pc,
                                   struct om_error *err)
{
    struct between *bt = ctx;
    const struct om__qc_ctx *c = bt->c;
    if (!pc->geom || !(pc->planar_m2 > 0.0) || pc->b == OM_OVERLAY_NONE) {
        return OM_OK;
    }
    if (bt->min_width > 0.0) {
        double per = feature_perimeter(pc->geom, pc->geom_feature);
        if (per > 0.0 && 2.0 * pc->planar_m2 / per < bt->min_width) {
            return OM_OK;
        }
    }
    double x, y;
    enum om_status st = om__setops_interior_point(
        bt->set, pc->geom, pc->geom_feature, &x, &y, err);
    if (st != OM_OK) {
        return st;
    }
    struct om_layer_view av, bv;
    om_layer_view(c->layer, &av);
    om_layer_view(bt->b, &bv);
    const struct om_rule *r = bt->rule;
    char zh[600], en[600];
    snprintf(zh, sizeof zh, "[%s] 与 %s 要素 %lld 重叠 %.6f 平方米：%s", r->id,
             om_layer_name(bt->b), (long long)bv.fid[pc->b], pc->planar_m2,
             r->zh);
    snprintf(en, sizeof en, "[%s] overlaps %s feature %lld by %.6f m2: %s",
             r->id, om_layer_name(bt->b), (long long)bv.fid[pc->b],
             pc->planar_m2, r->en);
    return emit(c->sink, "L003", av.fid[pc->a], bv.fid[pc->b], x, y,
                pc->planar_m2, pc->geom, pc->geom_feature, zh, en, err);
}

static enum om_status check_rule(const struct om__qc_ctx *c,
                                 const struct om_rule *r,
                                 const struct om_layer *other,
                                 struct om__setops *set, struct om_error *err)
{
    uint8_t *am = NULL, *bm = NULL, *av = NULL, *bv = NULL;
    enum om_status st = om_rule_side_select(r, &r->a, c->layer, &am, NULL, err);
    if (st == OM_OK) {
        st = om_rule_side_select(r, &r->b, other, &bm, NULL, err);
    }
    if (st == OM_OK) {
        st = valid_mask(c, c->layer, &av, err);
    }
    if (st == OM_OK) {
        st = valid_mask(c, other, &bv, err);
    }
    if (st == OM_OK) {
        size_t na = om_layer_nfeatures(c->layer),
               nb = om_layer_nfeatures(other);
        for (size_t f = 0; f < na; f++) {
            am[f] = am[f] && av[f];
        }
        for (size_t f = 0; f < nb; f++) {
            bm[f] = bm[f] && bv[f];
        }
        struct om_overlay_options o;
        memset(&o, 0, sizeof o);
        o.a = c->layer;
        o.b = other;
        o.a_mask = am;
        o.b_mask = bm;
        o.inside = true;
        o.want_geometry = true;
        o.crs = c->crs;
        o.min_area_m2 = r->min_area_m2;
        o.threads = c->threads;
        struct between bt;
        memset(&bt, 0, sizeof bt);
        bt.c = c;
        bt.set = set;
        bt.b = other;
        bt.rule = r;
        bt.min_width = r->min_width_m;
        st = om_overlay_run(&o, on_forbidden, &bt, c->progress, err);
    }
    om_rules_mask_free(am);
    om_rules_mask_free(bm);
    om__free(av);
    om__free(bv);
    return st;
}

static bool is_control_role(const char *role)
{
    return role &&
           (strcmp(role, "farmland") == 0 || strcmp(role, "eco_redline") == 0 ||
            strcmp(role, "urban_boundary") == 0);
}

enum om_status om__qc_between(const struct om__qc_ctx *c,
                              const struct om_layer *extent,
                              const struct om_layer *landuse,
                              const struct om_layer *const *others,
                              const char *const *other_codes, size_t nothers,
                              struct om_error *err)
{
    bool w1 = extent && extent != c->layer && om__qc_wanted(c->sink, "L001");
    bool w2 = landuse && landuse != c->layer && c->role &&
              strcmp(c->role, "farmland") == 0 &&
              om__qc_wanted(c->sink, "L002");
    bool w3 = c->rules && nothers && is_control_role(c->role) &&
              om__qc_wanted(c->sink, "L003");
    if (!w1 && !w2 && !w3) {
        return OM_OK;
    }
    struct om__setops *set = NULL;
    enum om_status st = om__setops_new(&set, err);
    if (st == OM_OK && w1) {
        st = check_outside(c, extent, set, err);
    }
    if (st == OM_OK && w2) {
        st = check_farmland(c, landuse, set, err);
    }
    for (size_t k = 0; st == OM_OK && w3 && k < nothers; k++) {
        if (!others[k] || others[k] == c->layer || !other_codes[k] ||
            om__strcasecmp(other_codes[k], c->code) == 0) {
            continue;
        }
        for (size_t i = 0; st == OM_OK && i < c->rules->nrules; i++) {
            const struct om_rule *r = &c->rules->rules[i];
            if (r->kind == OM_RULE_MUST_NOT_OVERLAP &&
                om__strcasecmp(r->a.layer, c->code) == 0 &&
                om__strcasecmp(r->b.layer, other_codes[k]) == 0) {
                st = check_rule(c, r, others[k], set, err);
            }
        }
    }
    om__setops_free(set);
    return st;
}
