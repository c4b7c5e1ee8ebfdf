/*
 * validity.c — om__check_all (ops/validity.h): om_polyops_check over every
 * feature of a layer, the features cut into one contiguous range per
 * thread, the ranges holding about as many vertices each (a few control
 * line polygons of 10^5 vertices are as much work as 10^4 parcels).
 */
#include "ops/validity.h"

#include "core/core.h"
#include "onemap/polyops.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MIN_POINTS 20000 /* vertices per thread at least */

struct job {
    const struct om_layer_view *v;
    size_t from, to;
    uint8_t *invalid;
    const struct om_progress *progress;
    const char *what, *phase;
    int nthreads; /* progress: the calling thread's share times this */
    bool reports; /* the calling thread's job */
    enum om_status st;
    struct om_error err;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct om_polyops *g = NULL;
    j->st = om_polyops_new(&g, &j->err);
    size_t n = j->v->nfeatures;
    for (size_t f = j->from; j->st == OM_OK && f < j->to; f++) {
        bool stop = false;
        if (j->reports) {
            uint64_t done = (uint64_t)(f - j->from) * (uint64_t)j->nthreads;
            stop = om__progress(j->progress, j->phase, done < n ? done : n, n);
        } else if ((f & 63) == 0) {
            stop = om__canceled(j->progress);
        }
        if (stop) {
            j->st =
                om__error(&j->err, OM_ECANCELED, j->what, 0, -1, "canceled");
            break;
        }
        if (j->v->flags[f] & OM_FEAT_EMPTY) {
            continue;
        }
        struct om_validity val;
        j->st = om_polyops_check(g, j->v, f, &val, &j->err);
        if (j->st == OM_OK && !val.is_valid) {
            j->invalid[f] = 1;
        }
    }
    om_polyops_free(g);
    return NULL;
}

/* The vertices of the features before feature f. */
static size_t points_before(const struct om_layer_view *v, size_t f)
{
    return v->point_start[v->ring_start[v->part_start[f]]];
}

static int cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

enum om_status om__check_all(const struct om_layer_view *v, int threads,
                             uint8_t *invalid, const char *what,
                             const char *phase,
                             const struct om_progress *progress,
                             struct om_error *err)
{
    size_t n = v->nfeatures;
    int nt = threads > 0 ? threads : cores();
    if (nt > MAX_THREADS) {
        nt = MAX_THREADS;
    }
    size_t np = v->point_start[v->nrings];
    if ((size_t)nt > np / MIN_POINTS) {
        nt = np / MIN_POINTS > 0 ? (int)(np / MIN_POINTS) : 1;
    }
    if ((size_t)nt > n) {
        nt = n > 0 ? (int)n : 1;
    }
    struct job *jobs = om__calloc((size_t)nt, sizeof *jobs);
    pthread_t *tids = om__calloc((size_t)nt, sizeof *tids);
    bool *started = om__calloc((size_t)nt, sizeof *started);
    if (!jobs || !tids || !started) {
        om__free(jobs);
        om__free(tids);
        om__free(started);
        return om__enomem(err, what);
    }
    size_t f = 0;
    for (int t = 0; t < nt; t++) {
        /* up to the feature holding vertex np (t + 1) / nt */
        size_t want = np / (size_t)nt * (size_t)(t + 1);
        jobs[t].from = f;
        while (f < n && (t == nt - 1 || points_before(v, f + 1) <= want)) {
            f++;
        }
        jobs[t].to = f;
    }
    for (int t = 0; t < nt; t++) {
        jobs[t].v = v;
        jobs[t].invalid = invalid;
        jobs[t].progress = progress;
        jobs[t].what = what;
        jobs[t].phase = phase;
        jobs[t].nthreads = nt;
        jobs[t].reports = t == 0;
    }
    for (int t = 1; t < nt; t++) {
        started[t] = pthread_create(&tids[t], NULL, job_main, &jobs[t]) == 0;
    }
    job_main(&jobs[0]);
    for (int t = 1; t < nt; t++) {
        if (started[t]) {
            pthread_join(tids[t], NULL);
        } else {
            job_main(&jobs[t]); /* no thread: do it here */
        }
    }
    enum om_status st = OM_OK;
    for (int t = 0; t < nt; t++) {
        if (jobs[t].st != OM_OK) {
            st = jobs[t].st;
            if (err) {
                *err = jobs[t].err;
            }
            break;
        }
    }
    om__free(jobs);
    om__free(tids);
    om__free(started);
    return st;
}
