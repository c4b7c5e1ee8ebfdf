/*
 * qc_geom.c — the geometry check family of `onemap qc` (G001–G007, see
 * onemap/qc.h): validity through GEOS (om_polyops_check), repeated
 * vertices, spikes, micro-segments, empty features, multi-part features
 * in single-part layers and ring orientation.
 *
 * Features are visited in fid order, in fixed chunks of CHUNK ranks. The
 * GEOS validity check is the cost, so chunks are worked on by c->threads
 * threads (one om_polyops each); every chunk collects its findings, and
 * after each round of chunks the calling thread emits them chunk by chunk.
 * The emitted sequence is therefore the same for any thread count.
 */
#include "core/core.h"
#include "onemap/crs.h"
#include "onemap/polyops.h"
#include "ops/qc_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const double PI = 3.14159265358979323846;

enum {
    CHUNK = 128,       /* features (by fid rank) per chunk */
    ROUND = 64,        /* chunks per round (findings kept in memory) */
    MAX_THREADS = 256, /* sanity cap on c->threads */
};

/* One finding of a chunk (messages in the chunk's arena). */
struct finding {
    const char *code;
    int64_t fid;
    double x, y, value;
    const char *zh, *en;
};

struct chunk {
    struct om__arena arena;
    struct finding *items;
    size_t n, cap;
};

struct job {
    const struct om__qc_ctx *c;
    struct om_layer_view v;
    size_t nfeat;
    bool want_valid, want_repeat, want_spike, want_micro, want_empty,
        want_parts, want_orient;
    bool geographic;
    /* The layer stores shells clockwise (Shapefile / FileGDB convention):
     * G007 is then one layer-level finding, and features are judged
     * against that convention (shells CW, holes CCW). */
    bool cw_layer;
    struct chunk *chunks; /* ROUND, for chunks round_begin.. */
    size_t round_begin;

    pthread_mutex_t lock;
    size_t next, end; /* chunk indices of the round still to take */
    bool stop;
    enum om_status status;
    size_t err_chunk; /* the failing chunk with the lowest index */
    struct om_error err;
};

struct worker {
    struct job *j;
    struct om_polyops *ops; /* NULL when G001 is not wanted */
    size_t *idx;            /* scratch: distinct vertices of a ring */
    size_t idxcap;
};

/* ---- recording ---- */

/* "(x, y)" with a precision that suits the units (degrees or metres). */
static void fmt_xy(char *buf, size_t size, double x, double y)
{
    if (fabs(x) <= 360 && fabs(y) <= 360) {
        snprintf(buf, size, "(%.8f, %.8f)", x, y);
    } else {
        snprintf(buf, size, "(%.3f, %.3f)", x, y);
    }
}

static enum om_status add(struct chunk *ch, const char *code, int64_t fid,
                          double x, double y, double value, const char *zh,
                          const char *en, struct om_error *err)
{
    if (!OM__GROW(ch->items, ch->cap, ch->n + 1)) {
        return om__enomem(err, NULL);
    }
    struct finding *it = &ch->items[ch->n];
    it->code = code;
    it->fid = fid;
    it->x = x;
    it->y = y;
    it->value = value;
    it->zh = om__arena_strdup(&ch->arena, zh);
    it->en = om__arena_strdup(&ch->arena, en);
    if (!it->zh || !it->en) {
        return om__enomem(err, NULL);
    }
    ch->n++;
    return OM_OK;
}

/* ---- G001 ---- */

struct reason_zh {
    const char *en, *zh;
};
static const struct reason_zh reasons[] = {
    {"Self-intersection", "自相交"},
    {"Ring Self-intersection", "环自相交"},
    {"Hole lies outside shell", "内环位于外环之外"},
    {"Nested shells", "外环嵌套"},
    {"Nested holes", "内环嵌套"},
    {"Too few points", "点数过少"},
    {"Invalid Coordinate", "无效坐标"},
    {"Ring is not closed", "环未闭合"},
    {"Interior is disconnected", "内部不连通"},
    {"Duplicate Rings", "重复的环"},
};

static const char *reason_zh(const char *en)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (strcmp(reasons[i].en, en) == 0) {
            return reasons[i].zh;
        }
    }
    return en;
}

/* The first vertex of feature f, NaN if it has none. */
static void first_vertex(const struct om_layer_view *v, size_t f, double *x,
                         double *y)
{
    *x = NAN;
    *y = NAN;
    size_t p0 = v->part_start[f], p1 = v->part_start[f + 1];
    for (size_t p = p0; p < p1; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            if (v->point_start[r + 1] > v->point_start[r]) {
                size_t i = v->point_start[r];
                *x = v->xy[2 * i];
                *y = v->xy[2 * i + 1];
                return;
            }
        }
    }
}

static enum om_status check_valid(struct worker *w, struct chunk *ch, size_t f,
                                  struct om_error *err)
{
    const struct om_layer_view *v = &w->j->v;
    struct om_validity val;
    struct om_error e;
    om_error_clear(&e);
    enum om_status st = om_polyops_check(w->ops, v, f, &val, &e);
    if (st == OM_ENOMEM) {
        if (err) {
            *err = e;
        }
        return st;
    }
    char zh[320], en[320], xy[96];
    if (st != OM_OK) {
        /* GEOS could not even decide: the geometry is unusable. */
        val.is_valid = false;
        val.x = NAN;
        val.y = NAN;
        snprintf(val.reason, sizeof val.reason, "GEOS failed: %.100s", e.msg);
    }
    if (val.is_valid) {
        return OM_OK;
    }
    double x = val.x, y = val.y;
    if (!isfinite(x) || !isfinite(y)) {
        first_vertex(v, f, &x, &y);
    }
    fmt_xy(xy, sizeof xy, x, y);
    snprintf(en, sizeof en, "%s at %s", val.reason, xy);
    snprintf(zh, sizeof zh, "几何无效（%s），位置 %s", reason_zh(val.reason),
             xy);
    return add(ch, "G001", v->fid[f], x, y, NAN, zh, en, err);
}

/* ---- G002–G004: linear scans of each ring ---- */

static bool same(const double *a, const double *b)
{
    return a[0] == b[0] && a[1] == b[1];
}

/* Segment length in metres (an approximation in geographic CRSs). */
static double seg_len(const struct job *j, const double *a, const double *b)
{
    double dx = b[0] - a[0], dy = b[1] - a[1];
    if (j->geographic) {
        double lat = 0.5 * (a[1] + b[1]) * (PI / 180);
        dx *= 111320.0 * cos(lat);
        dy *= 110574.0;
    }
    return hypot(dx, dy);
}

/* The interior angle (degrees) at b between b→a and b→c. */
static double vertex_angle(const double *a, const double *b, const double *c)
{
    double ux = a[0] - b[0], uy = a[1] - b[1];
    double wx = c[0] - b[0], wy = c[1] - b[1];
    double cross = ux * wy - uy * wx, dot = ux * wx + uy * wy;
    return atan2(fabs(cross), dot) * (180 / PI);
}

static enum om_status scan_rings(struct worker *w, struct chunk *ch, size_t f,
                                 struct om_error *err)
{
    const struct job *j = w->j;
    const struct om_layer_view *v = &j->v;
    const struct om_qc_conf *conf = j->c->conf;
    int64_t fid = v->fid[f];
    size_t nrep = 0;
    double rx = NAN, ry = NAN;
    char zh[320], en[320], xy[96];
    enum om_status st = OM_OK;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t s = v->point_start[r], e = v->point_start[r + 1];
            if (e <= s) {
                continue;
            }
            /* distinct consecutive vertices, for spikes */
            size_t nidx = 0;
            if (j->want_spike && !OM__GROW(w->idx, w->idxcap, e - s)) {
                return om__enomem(err, NULL);
            }
            for (size_t i = s; i < e; i++) {
                const double *pi = &v->xy[2 * i];
                if (i > s && same(pi, pi - 2)) {
                    if (nrep++ == 0) {
                        rx = pi[0];
                        ry = pi[1];
                    }
                    continue;
                }
                if (i > s && j->want_micro) {
                    double len = seg_len(j, pi - 2, pi);
                    if (len > 0 && len < conf->micro_segment_m) {
                        fmt_xy(xy, sizeof xy, pi[-2], pi[-1]);
                        snprintf(en, sizeof en, "Micro-segment of %.6g m at %s",
                                 len, xy);
                        snprintf(zh, sizeof zh, "微短线段 %.6g 米，位置 %s",
                                 len, xy);
                        st = add(ch, "G004", fid, pi[-2], pi[-1], len, zh, en,
                                 err);
                        if (st != OM_OK) {
                            return st;
                        }
                    }
                }
                if (j->want_spike) {
                    w->idx[nidx++] = i;
                }
            }
            if (!j->want_spike) {
                continue;
            }
            /* cyclic: drop the closing point(s) equal to the first */
            while (nidx > 1 &&
                   same(&v->xy[2 * w->idx[nidx - 1]], &v->xy[2 * w->idx[0]])) {
                nidx--;
            }
            if (nidx < 3) {
                continue;
            }
            for (size_t k = 0; k < nidx; k++) {
                const double *a = &v->xy[2 * w->idx[(k + nidx - 1) % nidx]];
                const double *b = &v->xy[2 * w->idx[k]];
                const double *c = &v->xy[2 * w->idx[(k + 1) % nidx]];
                double ang = vertex_angle(a, b, c);
                if (isfinite(ang) && ang < conf->spike_angle_deg) {
                    fmt_xy(xy, sizeof xy, b[0], b[1]);
                    snprintf(en, sizeof en, "Spike: vertex angle %.4g° at %s",
                             ang, xy);
                    snprintf(zh, sizeof zh, "尖刺：顶点夹角 %.4g°，位置 %s",
                             ang, xy);
                    st = add(ch, "G003", fid, b[0], b[1], ang, zh, en, err);
                    if (st != OM_OK) {
                        return st;
                    }
                }
            }
        }
    }
    if (nrep > 0 && j->want_repeat) {
        fmt_xy(xy, sizeof xy, rx, ry);
        snprintf(en, sizeof en,
                 "%zu repeated consecutive vertices, the first at %s", nrep,
                 xy);
        snprintf(zh, sizeof zh, "%zu 个重复的相邻顶点，第一个位于 %s", nrep,
                 xy);
        st = add(ch, "G002", fid, rx, ry, (double)nrep, zh, en, err);
    }
    return st;
}

/* ---- G007 ---- */

/* Twice the signed area of ring r (relative to its first point). */
static double ring_area2(const struct om_layer_view *v, size_t r)
{
    size_t s = v->point_start[r], e = v->point_start[r + 1];
    if (e - s < 3) {
        return 0;
    }
    double x0 = v->xy[2 * s], y0 = v->xy[2 * s + 1], a = 0;
    for (size_t i = s + 1; i + 1 < e; i++) {
        double x1 = v->xy[2 * i] - x0, y1 = v->xy[2 * i + 1] - y0;
        double x2 = v->xy[2 * i + 2] - x0, y2 = v->xy[2 * i + 3] - y0;
        a += x1 * y2 - x2 * y1;
    }
    return a;
}

static enum om_status check_orientation(struct worker *w, struct chunk *ch,
                                        size_t f, struct om_error *err)
{
    const struct om_layer_view *v = &w->j->v;
    size_t nbad_shell = 0, nbad_hole = 0;
    double x = NAN, y = NAN;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            double a = ring_area2(v, r);
            bool shell = r == v->ring_start[p];
            if (w->j->cw_layer) {
                a = -a;
            }
            bool bad = shell ? a < 0 : a > 0; /* NaN and 0: not judged */
            if (!bad) {
                continue;
            }
            if (nbad_shell + nbad_hole == 0) {
                x = v->xy[2 * v->point_start[r]];
                y = v->xy[2 * v->point_start[r] + 1];
            }
            if (shell) {
                nbad_shell++;
            } else {
                nbad_hole++;
            }
        }
    }
    if (nbad_shell + nbad_hole == 0) {
        return OM_OK;
    }
    char zh[320], en[320], xy[96];
    fmt_xy(xy, sizeof xy, x, y);
    const char *sdir = w->j->cw_layer ? "clockwise" : "counter-clockwise";
    const char *hdir = w->j->cw_layer ? "counter-clockwise" : "clockwise";
    snprintf(en, sizeof en,
             "Ring orientation: %zu shell(s) not %s, %zu hole(s) not %s "
             "(the layer's convention); first at %s",
             nbad_shell, sdir, nbad_hole, hdir, xy);
    snprintf(zh, sizeof zh,
             "环方向与本图层不一致：%zu 个外环非%s，%zu 个内环非%s；第一个位于 "
             "%s",
             nbad_shell, w->j->cw_layer ? "顺时针" : "逆时针", nbad_hole,
             w->j->cw_layer ? "逆时针" : "顺时针", xy);
    return add(ch, "G007", v->fid[f], x, y, (double)(nbad_shell + nbad_hole),
               zh, en, err);
}

/*
 * The layer's ring convention: shells clockwise in most features (a
 * Shapefile or FileGDB source) makes G007 one layer-level finding instead
 * of one per feature; features are then judged against that convention.
 */
static enum om_status layer_orientation(struct job *j, struct om_error *err)
{
    const struct om_layer_view *v = &j->v;
    size_t ncw = 0, nccw = 0;
    for (size_t f = 0; f < v->nfeatures; f++) {
        for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
            double a = ring_area2(v, v->ring_start[p]);
            ncw += a < 0;
            nccw += a > 0;
        }
    }
    if (ncw <= nccw) {
        return OM_OK;
    }
    j->cw_layer = true;
    char zh[320], en[320];
    snprintf(en, sizeof en,
             "The layer stores shells clockwise (Shapefile / FileGDB "
             "convention): %zu of %zu shells; onemap reads either, and "
             "repair orients them counter-clockwise (OGC)",
             ncw, ncw + nccw);
    snprintf(zh, sizeof zh,
             "本图层外环按顺时针存储（Shapefile / FileGDB 习惯）：%zu / %zu "
             "个外环；onemap 两种方向都能读取，修复时统一为逆时针（OGC）",
             ncw, ncw + nccw);
    struct om__qc_item it;
    memset(&it, 0, sizeof it);
    it.code = "G007";
    it.fid = -1;
    it.fid2 = -1;
    it.x = it.y = NAN;
    it.value = (double)ncw;
    it.zh = zh;
    it.en = en;
    return om__qc_emit(j->c->sink, &it, err);
}

/* ---- one feature, one chunk ---- */

static enum om_status check_feature(struct worker *w, struct chunk *ch,
                                    size_t f, struct om_error *err)
{
    const struct job *j = w->j;
    const struct om_layer_view *v = &j->v;
    size_t nparts = v->part_start[f + 1] - v->part_start[f];
    enum om_status st = OM_OK;
    if ((v->flags[f] & OM_FEAT_EMPTY) || nparts == 0) {
        if (j->want_empty) {
            st = add(ch, "G005", v->fid[f], NAN, NAN, NAN, "空几何",
                     "Empty geometry", err);
        }
        return st;
    }
    if (j->want_valid) {
        st = check_valid(w, ch, f, err);
    }
    if (st == OM_OK && (j->want_repeat || j->want_spike || j->want_micro)) {
        st = scan_rings(w, ch, f, err);
    }
    if (st == OM_OK && j->want_parts && nparts > 1) {
        char zh[320], en[320], xy[96];
        double x, y;
        first_vertex(v, f, &x, &y);
        fmt_xy(xy, sizeof xy, x, y);
        snprintf(en, sizeof en, "%zu parts in a single-part layer, at %s",
                 nparts, xy);
        snprintf(zh, sizeof zh, "单部件图层中的要素有 %zu 个部件，位置 %s",
                 nparts, xy);
        st = add(ch, "G006", v->fid[f], x, y, (double)nparts, zh, en, err);
    }
    if (st == OM_OK && j->want_orient) {
        st = check_orientation(w, ch, f, err);
    }
    return st;
}

static enum om_status run_chunk(struct worker *w, size_t ci,
                                struct om_error *err)
{
    struct job *j = w->j;
    struct chunk *ch = &j->chunks[ci - j->round_begin];
    const struct om_layer *l = j->c->layer;
    size_t r1 = (ci + 1) * CHUNK < j->nfeat ? (ci + 1) * CHUNK : j->nfeat;
    for (size_t r = ci * CHUNK; r < r1; r++) {
        if (om__canceled(j->c->progress)) {
            return om__error(err, OM_ECANCELED, om_layer_name(l), 0, -1,
                             "quality control canceled");
        }
        enum om_status st =
            check_feature(w, ch, om_layer_feature_by_fid_rank(l, r), err);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- the thread pool of one round ---- */

static void record(struct job *j, size_t ci, enum om_status st,
                   const struct om_error *e)
{
    pthread_mutex_lock(&j->lock);
    if (st != OM_OK && (j->status == OM_OK || ci < j->err_chunk)) {
        j->status = st;
        j->err_chunk = ci;
        j->err = *e;
        j->stop = true;
    }
    pthread_mutex_unlock(&j->lock);
}

static void work(struct worker *w)
{
    struct job *j = w->j;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        bool done = j->stop || j->next >= j->end;
        size_t ci = j->next;
        if (!done) {
            j->next++;
        }
        pthread_mutex_unlock(&j->lock);
        if (done) {
            return;
        }
        struct om_error e;
        om_error_clear(&e);
        record(j, ci, run_chunk(w, ci, &e), &e);
    }
}

static void *worker_main(void *arg)
{
    work(arg);
    return NULL;
}

static int thread_count(int asked, size_t nchunks)
{
    long n = asked;
    if (n <= 0) {
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    if (n < 1) {
        n = 1;
    }
    if (n > MAX_THREADS) {
        n = MAX_THREADS;
    }
    if ((size_t)n > nchunks) {
        n = nchunks ? (long)nchunks : 1;
    }
    return (int)n;
}

/* Work chunks [begin, end) with `nthreads` workers (the caller is one). */
static void run_round(struct job *j, struct worker *ws, int nthreads,
                      size_t begin, size_t end)
{
    j->next = begin;
    j->end = end;
    j->round_begin = begin;
    pthread_t tids[MAX_THREADS];
    bool started[MAX_THREADS] = {false};
    for (int t = 1; t < nthreads; t++) {
        started[t] = pthread_create(&tids[t], NULL, worker_main, &ws[t]) == 0;
    }
    work(&ws[0]);
    for (int t = 1; t < nthreads; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        }
    }
}

static enum om_status emit_chunk(const struct om__qc_ctx *c,
                                 const struct chunk *ch, struct om_error *err)
{
    for (size_t i = 0; i < ch->n; i++) {
        const struct finding *fd = &ch->items[i];
        struct om__qc_item it = {
            .code = fd->code,
            .fid = fd->fid,
            .fid2 = -1,
            .x = fd->x,
            .y = fd->y,
            .value = fd->value,
            .field = NULL,
            .zh = fd->zh,
            .en = fd->en,
            .pv = NULL,
            .pf = 0,
        };
        enum om_status st = om__qc_emit(c->sink, &it, err);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static void chunk_reset(struct chunk *ch)
{
    om__arena_deinit(&ch->arena);
    om__arena_init(&ch->arena);
    ch->n = 0;
}

enum om_status om__qc_geometry(const struct om__qc_ctx *c, struct om_error *err)
{
    if (!c || !c->layer || !c->conf) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om__qc_geometry: missing layer or configuration");
    }
    struct job j;
    memset(&j, 0, sizeof j);
    j.c = c;
    om_layer_view(c->layer, &j.v);
    j.nfeat = j.v.nfeatures;
    j.want_valid = om__qc_wanted(c->sink, "G001");
    j.want_repeat = om__qc_wanted(c->sink, "G002");
    j.want_spike = om__qc_wanted(c->sink, "G003");
    j.want_micro = om__qc_wanted(c->sink, "G004");
    j.want_empty = om__qc_wanted(c->sink, "G005");
    j.want_parts =
        c->schema && c->schema->single_part && om__qc_wanted(c->sink, "G006");
    j.want_orient = om__qc_wanted(c->sink, "G007");
    j.geographic = c->crs && om_crs_is_geographic(c->crs);
    size_t nchunks = (j.nfeat + CHUNK - 1) / CHUNK;
    if (nchunks == 0) {
        return OM_OK;
    }
    if (j.want_orient) {
        enum om_status ost = layer_orientation(&j, err);
        if (ost != OM_OK) {
            return ost;
        }
    }
    int nthreads = thread_count(c->threads, nchunks);
    enum om_status st = OM_OK;
    struct worker ws[MAX_THREADS];
    memset(ws, 0, sizeof ws[0] * (size_t)nthreads);
    j.chunks = om__calloc(ROUND, sizeof *j.chunks);
    if (!j.chunks) {
        return om__enomem(err, om_layer_name(c->layer));
    }
    for (size_t i = 0; i < ROUND; i++) {
        om__arena_init(&j.chunks[i].arena);
    }
    for (int t = 0; t < nthreads && st == OM_OK; t++) {
        ws[t].j = &j;
        if (j.want_valid) {
            st = om_polyops_new(&ws[t].ops, err);
        }
    }
    if (st == OM_OK && pthread_mutex_init(&j.lock, NULL) != 0) {
        st = om__error(err, OM_ENOMEM, om_layer_name(c->layer), 0, -1,
                       "cannot create a mutex");
    } else if (st == OM_OK) {
        for (size_t b = 0; b < nchunks && st == OM_OK; b += ROUND) {
            size_t e = b + ROUND < nchunks ? b + ROUND : nchunks;
            run_round(&j, ws, nthreads, b, e);
            if (j.status != OM_OK) {
                st = j.status;
                if (err) {
                    *err = j.err;
                }
                break;
            }
            for (size_t ci = b; ci < e && st == OM_OK; ci++) {
                st = emit_chunk(c, &j.chunks[ci - b], err);
                chunk_reset(&j.chunks[ci - b]);
            }
            size_t done = e * CHUNK < j.nfeat ? e * CHUNK : j.nfeat;
            if (st == OM_OK &&
                om__progress(c->progress, "qc geometry", done, j.nfeat)) {
                st = om__error(err, OM_ECANCELED, om_layer_name(c->layer), 0,
                               -1, "quality control canceled");
            }
        }
        pthread_mutex_destroy(&j.lock);
    }
    for (int t = 0; t < nthreads; t++) {
        om_polyops_free(ws[t].ops);
        om__free(ws[t].idx);
    }
    for (size_t i = 0; i < ROUND; i++) {
        om__arena_deinit(&j.chunks[i].arena);
        om__free(j.chunks[i].items);
    }
    om__free(j.chunks);
    return st;
}
