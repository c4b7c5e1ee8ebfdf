/*
 * bench-check.c — timing of the compliance review library calls for
 * bench/run (workload c): opens the review once (timed, repeated), then
 * checks every site (部标 TXT) N times with om_review_check and prints
 * one CSV row per site with the median / min / max wall time in ms.
 *
 *   bench-check PROJECT.gpkg SITE.txt... [--profile NAME] [--reps N]
 *               [--open-reps N] [--threads T] [--json DIR]
 *
 * stdout, CSV with a header:
 *   site        file stem; the first row "(open)" is om_review_open
 *               (project read + filters + tiling), its parcels = features
 *               loaded, vertices = their vertices, pieces = tiles built
 *   parcels, vertices           of the site
 *   pieces, piece_vertices      of result->pieces (what the check built)
 *   reps, median_ms, min_ms, max_ms   wall time of om_review_check
 *   elapsed_ms  the library's own result->elapsed_ms (median)
 *   read_ms     om_bbtxt_read of the file (median)
 *   json_ms     om_review_result_json (median)
 *   area_ms     ellipsoidal + planar area of the pieces and the site,
 *               recomputed with om_area_feature (median): the share of the
 *               check spent on geodesic areas, measured apart
 * With --threads T > 1 a last row "(threads T)" gives the wall time of
 * checking every site `reps` times from T threads sharing one review
 * (median_ms = total wall ms, parcels = checks done, min_ms = ms per check).
 * --json DIR writes DIR/<stem>.json (om_review_result_json) of the last
 * repetition, for agreement checks. --check-only times om_review_check
 * alone (the file is read once; read_ms, json_ms and area_ms are 0), for
 * profiling the check with perf.
 *
 * Exit status 0, or 1 with a message on stderr when anything fails.
 * This is a tool: it prints and exits; it uses only the public API.
 */
#include "onemap/bbtxt.h"
#include "onemap/crs.h"
#include "onemap/layer.h"
#include "onemap/review.h"
#include "onemap/rules.h"
#include "onemap/status.h"
#include "onemap/store.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median (upper of the two middle values for even n), min, max; sorts v. */
static void stats(double *v, size_t n, double *med, double *mn, double *mx)
{
    qsort(v, n, sizeof *v, cmp_double);
    *med = v[n / 2];
    *mn = v[0];
    *mx = v[n - 1];
}

static void die(const char *what, const struct om_error *err)
{
    fprintf(stderr, "bench-check: %s: %s%s%s\n", what, err->source,
            err->source[0] ? ": " : "", err->msg);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench-check: out of memory\n");
        exit(1);
    }
    return p;
}

static void stem_of(const char *path, char *out, size_t size)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b) {
        n = (size_t)(dot - b);
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(out, b, n);
    out[n] = '\0';
}

static size_t layer_vertices(const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    return v.npoints;
}

static volatile double area_sink;

/* Planar + ellipsoidal area of every feature of `l` (the work the check
 * does per piece and per parcel), in ms. */
static double area_ms(struct om_area_ctx *a, const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    struct om_error err;
    om_error_clear(&err);
    double sum = 0.0, t0 = now_ms();
    for (size_t f = 0; f < v.nfeatures; f++) {
        double pl = 0.0, el = 0.0;
        if (om_area_feature(a, &v, f, &pl, &el, &err) != OM_OK) {
            die("area", &err);
        }
        sum += pl + el;
    }
    double t = now_ms() - t0;
    area_sink += sum; /* keeps the loop from being dropped */
    return t;
}

struct site {
    const char *path;
    char stem[256];
    struct om_bbtxt *txt;
};

struct pool {
    const struct om_review *r;
    const struct site *sites;
    size_t nsites, total;
    size_t next;
    pthread_mutex_t mu;
    bool failed;
    struct om_error err;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t k = p->failed ? p->total : p->next++;
        pthread_mutex_unlock(&p->mu);
        if (k >= p->total) {
            return NULL;
        }
        struct om_error err;
        om_error_clear(&err);
        struct om_review_result *res = NULL;
        if (om_review_check(p->r, p->sites[k % p->nsites].txt->layer, NULL,
                            &res, &err) != OM_OK) {
            pthread_mutex_lock(&p->mu);
            p->failed = true;
            p->err = err;
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        om_review_result_free(res);
    }
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench-check PROJECT.gpkg SITE.txt... [--profile NAME] "
            "[--reps N]\n"
            "                   [--open-reps N] [--threads T] [--json DIR] "
            "[--check-only]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *project = NULL, *profile = "default", *jsondir = NULL;
    bool check_only = false;
    long reps = 20, open_reps = 3, threads = 1;
    const char **paths = xcalloc((size_t)argc, sizeof *paths);
    size_t nsites = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--profile") == 0 && has_val) {
            profile = argv[++i];
        } else if (strcmp(a, "--reps") == 0 && has_val) {
            reps = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "--open-reps") == 0 && has_val) {
            open_reps = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "--threads") == 0 && has_val) {
            threads = strtol(argv[++i], NULL, 10);
        } else if (strcmp(a, "--check-only") == 0) {
            check_only = true;
        } else if (strcmp(a, "--json") == 0 && has_val) {
            jsondir = argv[++i];
        } else if (a[0] == '-') {
            free(paths);
            return usage();
        } else if (!project) {
            project = a;
        } else {
            paths[nsites++] = a;
        }
    }
    if (!project || nsites == 0 || reps < 1 || reps > 100000 || open_reps < 1 ||
        open_reps > 1000 || threads < 1 || threads > 256) {
        free(paths);
        return usage();
    }

    struct om_error err;
    om_error_clear(&err);
    struct om_rules *rules = NULL;
    struct om_project *p = NULL;
    struct om_review *r = NULL;
    struct om_progress prog;
    memset(&prog, 0, sizeof prog);
    if (om_rules_default(&rules, &err) != OM_OK) {
        die("rules", &err);
    }
    if (om_project_open(project, true, &p, &err) != OM_OK) {
        die(project, &err);
    }

    /* ---- open: read + filter + tile, repeated ---- */
    double *ot = xcalloc((size_t)open_reps, sizeof *ot);
    for (long k = 0; k < open_reps; k++) {
        om_review_free(r);
        r = NULL;
        double t0 = now_ms();
        if (om_review_open(p, rules, profile, &r, &prog, &err) != OM_OK) {
            die("om_review_open", &err);
        }
        ot[k] = now_ms() - t0;
    }
    size_t lfeat = 0, lvert = 0;
    for (size_t i = 0; i < om_review_nlayers(r); i++) {
        const struct om_review_layer *rl = om_review_layer_at(r, i);
        lfeat += om_layer_nfeatures(rl->layer);
        lvert += layer_vertices(rl->layer);
    }
    double med, mn, mx;
    stats(ot, (size_t)open_reps, &med, &mn, &mx);
    printf("site,parcels,vertices,pieces,piece_vertices,reps,median_ms,"
           "min_ms,max_ms,elapsed_ms,read_ms,json_ms,area_ms\n");
    printf("(open),%zu,%zu,%zu,,%ld,%.3f,%.3f,%.3f,,,,\n", lfeat, lvert,
           om_review_nlayers(r), open_reps, med, mn, mx);
    fflush(stdout);
    free(ot);

    struct om_crs *crs = NULL;
    struct om_area_ctx *actx = NULL;
    if (om_crs_new(om_review_crs(r), &crs, &err) != OM_OK ||
        om_area_ctx_new(crs, &actx, &err) != OM_OK) {
        die("area context", &err);
    }

    /* ---- per site ---- */
    struct site *sites = xcalloc(nsites, sizeof *sites);
    size_t n = (size_t)reps;
    double *ct = xcalloc(n, sizeof *ct), *el = xcalloc(n, sizeof *el);
    double *rt = xcalloc(n, sizeof *rt), *jt = xcalloc(n, sizeof *jt);
    double *at = xcalloc(n, sizeof *at);
    for (size_t s = 0; s < nsites; s++) {
        struct site *S = &sites[s];
        S->path = paths[s];
        stem_of(S->path, S->stem, sizeof S->stem);
        size_t npieces = 0, npv = 0;
        for (size_t k = 0; k < n; k++) {
            double t0 = now_ms();
            rt[k] = 0.0;
            if (k == 0 || !check_only) {
                struct om_bbtxt *txt = NULL;
                if (om_bbtxt_read(S->path, NULL, &txt, &err) != OM_OK) {
                    die(S->path, &err);
                }
                rt[k] = now_ms() - t0;
                om_bbtxt_free(S->txt);
                S->txt = txt;
            }

            struct om_review_result *res = NULL;
            t0 = now_ms();
            if (om_review_check(r, S->txt->layer, NULL, &res, &err) != OM_OK) {
                die(S->path, &err);
            }
            ct[k] = now_ms() - t0;
            el[k] = res->elapsed_ms;

            npieces = om_layer_nfeatures(res->pieces);
            npv = layer_vertices(res->pieces);
            jt[k] = at[k] = 0.0;
            if (check_only) {
                om_review_result_free(res);
                continue;
            }
            char *json = NULL;
            size_t len = 0;
            t0 = now_ms();
            if (om_review_result_json(r, res, &json, &len, &err) != OM_OK) {
                die("json", &err);
            }
            jt[k] = now_ms() - t0;
            at[k] = area_ms(actx, res->pieces) + area_ms(actx, res->site);
            if (jsondir && k + 1 == n) {
                char path[4096];
                snprintf(path, sizeof path, "%s/%s.json", jsondir, S->stem);
                FILE *f = fopen(path, "w");
                if (!f || fwrite(json, 1, len, f) != len || fclose(f) != 0) {
                    fprintf(stderr, "bench-check: %s: cannot write\n", path);
                    exit(1);
                }
            }
            om_review_free_string(json);
            om_review_result_free(res);
        }
        double emed, rmed, jmed, amed, dummy1, dummy2;
        stats(ct, n, &med, &mn, &mx);
        stats(el, n, &emed, &dummy1, &dummy2);
        stats(rt, n, &rmed, &dummy1, &dummy2);
        stats(jt, n, &jmed, &dummy1, &dummy2);
        stats(at, n, &amed, &dummy1, &dummy2);
        printf("%s,%zu,%zu,%zu,%zu,%zu,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f\n",
               S->stem, om_layer_nfeatures(S->txt->layer),
               layer_vertices(S->txt->layer), npieces, npv, n, med, mn, mx,
               emed, rmed, jmed, amed);
        fflush(stdout);
    }
    free(ct);
    free(el);
    free(rt);
    free(jt);
    free(at);

    /* ---- throughput: every site reps times from T threads ---- */
    if (threads > 1) {
        struct pool pl;
        memset(&pl, 0, sizeof pl);
        pl.r = r;
        pl.sites = sites;
        pl.nsites = nsites;
        pl.total = nsites * n;
        pthread_mutex_init(&pl.mu, NULL);
        pthread_t *th = xcalloc((size_t)threads, sizeof *th);
        double t0 = now_ms();
        for (long t = 0; t < threads; t++) {
            if (pthread_create(&th[t], NULL, worker, &pl) != 0) {
                fprintf(stderr, "bench-check: cannot start a thread\n");
                exit(1);
            }
        }
        for (long t = 0; t < threads; t++) {
            pthread_join(th[t], NULL);
        }
        double wall = now_ms() - t0;
        if (pl.failed) {
            die("threads", &pl.err);
        }
        printf("(threads %ld),%zu,,,,%zu,%.3f,%.3f,,,,,\n", threads, pl.total,
               n, wall, wall / (double)pl.total);
        pthread_mutex_destroy(&pl.mu);
        free(th);
    }

    for (size_t s = 0; s < nsites; s++) {
        om_bbtxt_free(sites[s].txt);
    }
    free(sites);
    free(paths);
    om_area_ctx_free(actx);
    om_crs_free(crs);
    om_review_free(r);
    om_project_close(p);
    om_rules_free(rules);
    return 0;
}
