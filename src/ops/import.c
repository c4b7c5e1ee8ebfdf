/*
 * import.c — the import pipeline (see onemap/import.h): read, reproject,
 * check validity, optionally repair, and write one new layer version.
 */
#include "onemap/import.h"

#include "core/core.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/io.h"
#include "onemap/layer.h"
#include "onemap/polyops.h"
#include "onemap/store.h"
#include "ops/validity.h"
#include "store/stream.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && om__strcasecmp(path + n - e, ext) == 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static enum om_status hash_into(struct om__sha256 *s, const char *path,
                                struct om_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return om__error(err, OM_EIO, path, 0, -1, "cannot open for hashing");
    }
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        om__sha256_update(s, buf, n);
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        return om__error(err, OM_EIO, path, 0, -1, "read error while hashing");
    }
    return OM_OK;
}

/*
 * SHA-256 of a source: a plain file; a shapefile with its sibling files
 * (.shp .shx .dbf .prj .cpg, each name then content); a folder (FileGDB):
 * every regular file in name order.
 */
static enum om_status source_sha256(const char *path, char hex[65],
                                    struct om_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        return om__error(err, OM_EIO, path, 0, -1, "no such file");
    }
    struct om__sha256 s;
    om__sha256_init(&s);
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d) {
            return om__error(err, OM_EIO, path, 0, -1, "cannot read folder");
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *e;
        enum om_status rc = OM_OK;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            if (!OM__GROW(names, cap, n + 1) ||
                !(names[n] = om__strdup(e->d_name))) {
                rc = om__enomem(err, path);
                break;
            }
            n++;
        }
        closedir(d);
        if (rc == OM_OK && n > 1) {
            qsort(names, n, sizeof *names, cmp_name);
        }
        for (size_t i = 0; rc == OM_OK && i < n; i++) {
            char full[4096];
            snprintf(full, sizeof full, "%s/%s", path, names[i]);
            struct stat fs;
            if (stat(full, &fs) == 0 && S_ISREG(fs.st_mode)) {
                om__sha256_update(&s, names[i], strlen(names[i]) + 1);
                rc = hash_into(&s, full, err);
            }
        }
        for (size_t i = 0; i < n; i++) {
            om__free(names[i]);
        }
        om__free(names);
        if (rc != OM_OK) {
            return rc;
        }
        om__sha256_final(&s, hex);
        return OM_OK;
    }
    if (has_ext(path, ".shp")) {
        static const char *exts[] = {".shp", ".shx", ".dbf", ".prj", ".cpg"};
        size_t base = strlen(path) - 4;
        for (size_t i = 0; i < 5; i++) {
            char sib[4096];
            if (base + 5 > sizeof sib) {
                return om__error(err, OM_EINVAL, path, 0, -1, "path too long");
            }
            memcpy(sib, path, base);
            memcpy(sib + base, exts[i], strlen(exts[i]) + 1);
            struct stat ss;
            if (stat(sib, &ss) != 0) {
                /* try upper case extensions */
                for (char *c = sib + base; *c; c++) {
                    if (*c >= 'a' && *c <= 'z') {
                        *c = (char)(*c - 'a' + 'A');
                    }
                }
                if (stat(sib, &ss) != 0) {
                    continue;
                }
            }
            om__sha256_update(&s, exts[i], strlen(exts[i]) + 1);
            enum om_status rc = hash_into(&s, sib, err);
            if (rc != OM_OK) {
                return rc;
            }
        }
        om__sha256_final(&s, hex);
        return OM_OK;
    }
    return om__sha256_file(path, hex, err);
}

/* The source's SHA-256, computed on a thread while the source is read. */
struct hash_job {
    const char *path;
    char hex[65];
    enum om_status st;
    struct om_error err;
    pthread_t tid;
    bool started;
};

static void *hash_main(void *arg)
{
    struct hash_job *h = arg;
    h->st = source_sha256(h->path, h->hex, &h->err);
    return NULL;
}

static void hash_start(struct hash_job *h, const char *path)
{
    h->path = path;
    om_error_clear(&h->err);
    h->started = pthread_create(&h->tid, NULL, hash_main, h) == 0;
    if (!h->started) {
        hash_main(h);
    }
}

/* Wait for the hash; its error (reported before any reading error). */
static enum om_status hash_join(struct hash_job *h, struct om_error *err)
{
    if (h->started) {
        pthread_join(h->tid, NULL);
        h->started = false;
    }
    if (h->st != OM_OK && err) {
        *err = h->err;
    }
    return h->st;
}

static enum om_status copy_attrs(const struct om_layer *src, size_t f,
                                 struct om_layer *dst, struct om_error *err)
{
    size_t nf = om_layer_nfields(src);
    for (size_t c = 0; c < nf; c++) {
        int k = (int)c;
        if (om_layer_is_null(src, f, k)) {
            continue;
        }
        enum om_status st = OM_OK;
        switch (om_layer_field_type(src, k)) {
        case OM_FIELD_INT:
            st = om_layer_set_int(dst, k, om_layer_get_int(src, f, k), err);
            break;
        case OM_FIELD_REAL:
            st = om_layer_set_real(dst, k, om_layer_get_real(src, f, k), err);
            break;
        case OM_FIELD_TEXT:
            st = om_layer_set_text(dst, k, om_layer_get_text(src, f, k), err);
            break;
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status copy_geometry(const struct om_layer_view *v, size_t f,
                                    struct om_layer *dst, struct om_error *err)
{
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        enum om_status st = om_layer_begin_part(dst, err);
        if (st != OM_OK) {
            return st;
        }
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            st = om_layer_add_ring(dst, v->xy + 2 * a, b - a, err);
            if (st != OM_OK) {
                return st;
            }
        }
    }
    return OM_OK;
}

struct issues {
    struct om_feature_issue *v;
    size_t n, cap;
    struct om__arena arena;
};

static enum om_status add_issue(struct issues *is, int64_t fid,
                                const char *kind, const char *reason, double x,
                                double y, struct om_error *err)
{
    if (!OM__GROW(is->v, is->cap, is->n + 1)) {
        return om__enomem(err, NULL);
    }
    char *r = om__arena_strdup(&is->arena, reason);
    if (!r) {
        return om__enomem(err, NULL);
    }
    struct om_feature_issue *e = &is->v[is->n++];
    e->fid = fid;
    e->kind = kind;
    e->reason = r;
    e->x = x;
    e->y = y;
    return OM_OK;
}

/*
 * Check every feature; flag invalid ones, or (repair) rebuild the layer
 * with MakeValid geometries. *layer may be replaced.
 */
static enum om_status check_validity(struct om_layer **layer, bool repair,
                                     int threads, struct issues *is,
                                     struct om_import_report *rep,
                                     const struct om_progress *progress,
                                     struct om_error *err)
{
    struct om_polyops *geos = NULL;
    enum om_status st = om_polyops_new(&geos, err);
    if (st != OM_OK) {
        return st;
    }
    struct om_layer *l = *layer;
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t n = v.nfeatures;
    uint8_t *bad = om__calloc(n ? n : 1, 1);
    const char **why = NULL;
    double *wx = NULL, *wy = NULL;
    if (repair) {
        why = om__calloc(n ? n : 1, sizeof *why);
        wx = om__calloc(n ? n : 1, sizeof *wx);
        wy = om__calloc(n ? n : 1, sizeof *wy);
    }
    if (!bad || (repair && (!why || !wx || !wy))) {
        om__free(bad);
        om__free(why);
        om__free(wx);
        om__free(wy);
        om_polyops_free(geos);
        return om__enomem(err, om_layer_name(l));
    }
    /* The checks on threads; the reasons of the (few) invalid features
     * again in fid order, for the report. */
    st = om__check_all(&v, threads, bad, om_layer_name(l), "validity", progress,
                       err);
    if (st != OM_OK) {
        goto out;
    }
    size_t nbad = 0;
    for (size_t f = 0; f < n; f++) {
        if (v.flags[f] & OM_FEAT_EMPTY) {
            rep->nempty++;
            st = add_issue(is, v.fid[f], "empty", "no geometry", NAN, NAN, err);
            if (st != OM_OK) {
                goto out;
            }
            continue;
        }
        if (!bad[f]) {
            continue;
        }
        struct om_validity val;
        st = om_polyops_check(geos, &v, f, &val, err);
        if (st != OM_OK) {
            goto out;
        }
        if (val.is_valid) {
            /* om__check_all and this check are the same function */
            st = om__error(err, OM_EINTERNAL, om_layer_name(l), 0, v.fid[f],
                           "feature %lld: validity check not repeatable",
                           (long long)v.fid[f]);
            goto out;
        }
        nbad++;
        if (!rep->first_invalid[0]) {
            snprintf(rep->first_invalid, sizeof rep->first_invalid,
                     "fid %lld: %s", (long long)v.fid[f], val.reason);
        }
        if (!repair) {
            om_layer_mark(l, f, OM_FEAT_INVALID);
            rep->ninvalid++;
            st = add_issue(is, v.fid[f], "invalid", val.reason, val.x, val.y,
                           err);
            if (st != OM_OK) {
                goto out;
            }
        } else {
            /* Remember why, for the repair record below. */
            why[f] = om__arena_strdup(&is->arena, val.reason);
            if (!why[f]) {
                st = om__enomem(err, om_layer_name(l));
                goto out;
            }
            wx[f] = val.x;
            wy[f] = val.y;
        }
    }
    if (repair && nbad > 0) {
        struct om_layer *dst = NULL;
        st = om_layer_new(om_layer_name(l), &dst, err);
        for (size_t c = 0; st == OM_OK && c < om_layer_nfields(l); c++) {
            st = om_layer_add_field(dst, om_layer_field_name(l, (int)c),
                                    om_layer_field_type(l, (int)c), NULL, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_crs(dst, om_layer_crs(l), err);
        }
        for (size_t f = 0; st == OM_OK && f < n; f++) {
            st = om_layer_begin_feature(dst, v.fid[f], err);
            if (st != OM_OK) {
                break;
            }
            if (bad[f]) {
                double before = 0, after = 0;
                st = om_polyops_make_valid(geos, &v, f, dst, &before, &after,
                                           err);
                if (st == OM_OK) {
                    om_layer_set_flags(dst, OM_FEAT_REPAIRED);
                    rep->nrepaired++;
                    rep->repair_delta_m2 += after - before;
                    char msg[300];
                    snprintf(msg, sizeof msg,
                             "%s; MakeValid: planar area %.3f -> %.3f", why[f],
                             before, after);
                    st = add_issue(is, v.fid[f], "repaired", msg, wx[f], wy[f],
                                   err);
                }
            } else {
                st = copy_geometry(&v, f, dst, err);
            }
            if (st == OM_OK) {
                st = copy_attrs(l, f, dst, err);
            }
            if (st == OM_OK) {
                st = om_layer_end_feature(dst, err);
            }
        }
        if (st != OM_OK) {
            om_layer_free(dst);
            goto out;
        }
        om_layer_free(l);
        *layer = dst;
    }
out:
    om__free(bad);
    om__free(why);
    om__free(wx);
    om__free(wy);
    om_polyops_free(geos);
    return st;
}

/*
 * The validity check on threads of its own while the rows are written
 * (SQLite writes on one core): joined by the store, in the import's
 * transaction, once the rows are in and before the catalogue counts the
 * invalid features. Not with --repair, which rewrites geometries first.
 * The check only marks the features' flags, which the writing of the rows
 * does not read.
 */
struct check_job {
    struct om_layer *l;
    int threads;
    struct issues *is;
    struct om_import_report *rep;
    volatile int stop; /* set when the import fails before the join */
    struct om_progress progress;
    enum om_status st;
    struct om_error err;
    pthread_t tid;
    bool started;
};

static void *check_main(void *arg)
{
    struct check_job *c = arg;
    struct om_layer *l = c->l;
    c->st = check_validity(&l, false, c->threads, c->is, c->rep, &c->progress,
                           &c->err);
    return NULL;
}

static void check_start(struct check_job *c, struct om_layer *l, int threads,
                        struct issues *is, struct om_import_report *rep)
{
    c->l = l;
    /* all of them, though the writer takes a core: the check of a layer
     * of few rows (farmland, red lines) is most of its import */
    c->threads = threads;
    c->is = is;
    c->rep = rep;
    c->stop = 0;
    /* no progress of its own (the writing's shows); stopped when the
     * import fails, which a cancel by the user makes it do */
    c->progress.fn = NULL;
    c->progress.ctx = NULL;
    c->progress.cancel = &c->stop;
    om_error_clear(&c->err);
    c->st = OM_OK;
    c->started = pthread_create(&c->tid, NULL, check_main, c) == 0;
    if (!c->started) {
        check_main(c);
    }
}

/* Wait for the check (stopping it first when `abandon`); its status. */
static enum om_status check_join(struct check_job *c, bool abandon)
{
    if (c->started) {
        if (abandon) {
            __atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
        }
        pthread_join(c->tid, NULL);
        c->started = false;
    }
    return c->st;
}

/* The store's hook (om_import_meta.rows_written): the check's issues. */
static enum om_status check_done(void *ctx,
                                 const struct om_feature_issue **issues,
                                 size_t *nissues, struct om_error *err)
{
    struct check_job *c = ctx;
    enum om_status st = check_join(c, false);
    if (st != OM_OK) {
        if (err) {
            *err = c->err;
        }
        return st;
    }
    *issues = c->is->v;
    *nissues = c->is->n;
    return OM_OK;
}

/* Choose the project CRS from the layer's extent (lon/lat centre). */
static enum om_status choose_crs(const struct om_layer *l,
                                 const struct om_crs *src, struct om_crs **out,
                                 struct om_error *err)
{
    struct om_rect e = om_layer_extent(l);
    if (om_rect_is_empty(e)) {
        return om__error(err, OM_ECRS, om_layer_name(l), 0, -1,
                         "cannot choose the project CRS automatically: the "
                         "first import has no geometry");
    }
    struct om_crs *geo = NULL;
    struct om_transform *t = NULL;
    enum om_status st = om_crs_new("EPSG:4490", &geo, err);
    if (st == OM_OK) {
        st = om_transform_new(src, geo, &t, err);
    }
    double pts[10] = {e.minx,
                      e.miny,
                      e.maxx,
                      e.miny,
                      e.maxx,
                      e.maxy,
                      e.minx,
                      e.maxy,
                      (e.minx + e.maxx) / 2,
                      (e.miny + e.maxy) / 2};
    if (st == OM_OK) {
        st = om_transform_points(t, pts, 5, err);
    }
    om_transform_free(t);
    om_crs_free(geo);
    if (st != OM_OK) {
        return st;
    }
    double minlon = INFINITY, minlat = INFINITY, maxlon = -INFINITY,
           maxlat = -INFINITY;
    for (int i = 0; i < 5; i++) {
        minlon = fmin(minlon, pts[2 * i]);
        maxlon = fmax(maxlon, pts[2 * i]);
        minlat = fmin(minlat, pts[2 * i + 1]);
        maxlat = fmax(maxlat, pts[2 * i + 1]);
    }
    /* The store sets it in the import's own transaction (meta.project_crs),
     * so a failed first import leaves the project "auto". */
    return om_crs_auto_for_extent(minlon, minlat, maxlon, maxlat, out, err);
}

static void json_str(struct om__buf *b, const char *key, const char *v,
                     bool *first)
{
    if (!v) {
        return;
    }
    om__buf_printf(b, "%s\"%s\":\"", *first ? "" : ",", key);
    *first = false;
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\') {
            om__buf_printf(b, "\\%c", *c);
        } else if ((unsigned char)*c < 0x20) {
            om__buf_printf(b, "\\u%04x", (unsigned)*c);
        } else {
            om__buf_append(b, c, 1);
        }
    }
    om__buf_puts(b, "\"");
}

/* "EPSG:<digits>", the form a project records an EPSG CRS in. */
static bool is_epsg_id(const char *s)
{
    if (strncmp(s, "EPSG:", 5) != 0 || !s[5]) {
        return false;
    }
    for (s += 5; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

/*
 * The source CRS `src_def` against the project's (chosen from the layer's
 * extent while the project is still 'auto'): *src and *dst made, the layer
 * transformed when they differ and labelled with the project CRS, and the
 * report's CRS fields filled.
 */
static enum om_status resolve_crs(struct om_project *p, struct om_layer *layer,
                                  const char *src_def, const char *path,
                                  struct om_crs **src, struct om_crs **dst,
                                  struct om_import_report *rep,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    enum om_status st = om_crs_new(src_def, src, err);
    if (st != OM_OK) {
        om__error_prefix(err, "%s: source CRS", path);
        return st;
    }
    const char *sid = om_crs_id(*src);
    om__strlcpy(rep->src_crs, sid ? sid : "custom", sizeof rep->src_crs);
    const char *pcrs = om_project_crs(p);
    if (!pcrs) {
        st = choose_crs(layer, *src, dst, err);
        rep->crs_chosen = st == OM_OK;
    } else {
        st = om_crs_new(pcrs, dst, err);
    }
    if (st != OM_OK) {
        return st;
    }
    const char *did = om_crs_id(*dst);
    om__strlcpy(rep->dst_crs, did ? did : "custom", sizeof rep->dst_crs);
    if (!om_crs_equivalent(*src, *dst)) {
        struct om_transform *t = NULL;
        st = om_transform_new(*src, *dst, &t, err);
        if (st == OM_OK) {
            st = om_layer_transform(layer, t, progress, err);
        }
        om_transform_free(t);
        if (st != OM_OK) {
            return st;
        }
        rep->reprojected = true;
    }
    return om_layer_set_crs(layer, did ? did : om_crs_wkt(*dst), err);
}

/* The import's parameters as the catalogue records them (JSON). */
static enum om_status import_params(struct om__buf *params,
                                    const struct om_import_options *opt)
{
    bool first = true;
    om__buf_puts(params, "{");
    json_str(params, "layer", opt->layer, &first);
    json_str(params, "encoding", opt->encoding, &first);
    json_str(params, "src_crs", opt->src_crs, &first);
    json_str(params, "where", opt->where, &first);
    json_str(params, "repair", opt->repair ? "true" : "false", &first);
    return om__buf_puts(params, "}");
}

/* --code-field and --name-field name fields of the layer. */
static enum om_status check_fields(const struct om_layer *l,
                                   const struct om_import_options *opt,
                                   const char *path, struct om_error *err)
{
    if (opt->code_field && om_layer_field_index(l, opt->code_field) < 0) {
        return om__error(err, OM_ENOTFOUND, path, 0, -1,
                         "no field '%s' for --code-field", opt->code_field);
    }
    if (opt->name_field && om_layer_field_index(l, opt->name_field) < 0) {
        return om__error(err, OM_ENOTFOUND, path, 0, -1,
                         "no field '%s' for --name-field", opt->name_field);
    }
    return OM_OK;
}

/*
 * The streamed import (store/stream.h): a GeoPackage already in the
 * project's CRS is read in chunks on one thread while the store writes
 * the chunks read, and the validity check below works on the chunks while
 * they are written (it only marks the features' flags, which the writing
 * does not read). The check runs on threads of its own, each taking the
 * next chunk whole: a huge feature (a red line of 10^6 points) keeps one
 * thread while the others go on with the chunks after it. Each chunk's
 * issues and counts are merged in chunk order, so the project written is
 * the same for any number of threads. A chunk goes back to the stream
 * once it is written and its check merged. The layer is never whole in
 * memory, and reading, writing and checking share the cores instead of
 * following one another.
 */
enum { CHECK_QUEUE = OM__GPKG_STREAM_MAX_CHUNKS, CHECK_THREADS = 16 };
int om__import_stream = 1;
unsigned long om__imports_streamed = 0;

/* One chunk's check, until merged. */
struct chunk_check {
    struct om_layer *l;
    bool done;
    enum om_status st;
    struct om_error err;
    struct issues is;
    struct om_import_report rep; /* its counts and first invalid feature */
};

struct stream_job {
    struct om__gpkg_stream *gs;
    struct hash_job *hash;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct om_layer *q[CHECK_QUEUE]; /* to check: a ring */
    size_t head, n;
    uint64_t taken, merged;              /* chunks taken by the check, merged */
    struct chunk_check res[CHECK_QUEUE]; /* chunk k at k % CHECK_QUEUE */
    struct {
        struct om_layer *l;
        int users; /* the writing and the check: 2, 1, then released */
    } held[CHECK_QUEUE];
    bool end; /* no chunk will come any more */
    struct issues *is;
    struct om_import_report *rep;
    volatile int stop; /* the import failed: check no more */
    struct om_progress progress;
    enum om_status st;
    struct om_error err;
    pthread_t tid[CHECK_THREADS];
    bool started[CHECK_THREADS];
};

/* One of the chunk's two users is done with it; the second gives it back
 * to the stream. */
static void stream_unhold(struct stream_job *j, struct om_layer *chunk)
{
    bool last = false;
    pthread_mutex_lock(&j->mu);
    for (size_t k = 0; k < CHECK_QUEUE; k++) {
        if (j->held[k].l == chunk) {
            last = --j->held[k].users == 0;
            if (last) {
                j->held[k].l = NULL;
            }
            break;
        }
    }
    pthread_mutex_unlock(&j->mu);
    if (last) {
        om__gpkg_stream_release(j->gs, chunk);
    }
}

/* Merge one chunk's check into the import's (with j->mu held); the first
 * failure in chunk order is the import's. */
static void merge_check(struct stream_job *j, struct chunk_check *c)
{
    if (j->st == OM_OK && c->st != OM_OK) {
        j->st = c->st;
        j->err = c->err;
        __atomic_store_n(&j->stop, 1, __ATOMIC_RELAXED);
    }
    for (size_t i = 0; j->st == OM_OK && i < c->is.n; i++) {
        const struct om_feature_issue *e = &c->is.v[i];
        j->st =
            add_issue(j->is, e->fid, e->kind, e->reason, e->x, e->y, &j->err);
    }
    if (j->st == OM_OK) {
        j->rep->nempty += c->rep.nempty;
        j->rep->ninvalid += c->rep.ninvalid;
        if (!j->rep->first_invalid[0] && c->rep.first_invalid[0]) {
            memcpy(j->rep->first_invalid, c->rep.first_invalid,
                   sizeof j->rep->first_invalid);
        }
    }
    om__free(c->is.v);
    om__arena_deinit(&c->is.arena);
}

static void *stream_check_main(void *arg)
{
    struct stream_job *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (j->n == 0 && !j->end) {
            pthread_cond_wait(&j->cv, &j->mu);
        }
        if (j->n == 0) {
            break;
        }
        struct chunk_check *c = &j->res[j->taken++ % CHECK_QUEUE];
        memset(c, 0, sizeof *c);
        c->l = j->q[j->head];
        j->head = (j->head + 1) % CHECK_QUEUE;
        j->n--;
        pthread_mutex_unlock(&j->mu);
        om__arena_init(&c->is.arena);
        om_error_clear(&c->err);
        if (!__atomic_load_n(&j->stop, __ATOMIC_RELAXED)) {
            struct om_layer *l = c->l;
            c->st = check_validity(&l, false, 1, &c->is, &c->rep, &j->progress,
                                   &c->err);
        }
        /* merge the chunks done, in order; give them back */
        struct om_layer *back[CHECK_QUEUE];
        size_t nback = 0;
        pthread_mutex_lock(&j->mu);
        c->done = true;
        while (j->merged < j->taken && j->res[j->merged % CHECK_QUEUE].done) {
            struct chunk_check *m = &j->res[j->merged++ % CHECK_QUEUE];
            merge_check(j, m);
            back[nback++] = m->l;
        }
        pthread_mutex_unlock(&j->mu);
        for (size_t k = 0; k < nback; k++) {
            stream_unhold(j, back[k]);
        }
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* The next chunk for the writing, and for the check at the same time. */
static enum om_status stream_next(void *ctx, struct om_layer **chunk,
                                  struct om_error *err)
{
    struct stream_job *j = ctx;
    enum om_status st = om__gpkg_stream_next(j->gs, chunk, err);
    if (st != OM_OK || !*chunk) {
        return st;
    }
    pthread_mutex_lock(&j->mu);
    for (size_t k = 0; k < CHECK_QUEUE; k++) {
        if (!j->held[k].l) {
            j->held[k].l = *chunk;
            j->held[k].users = 2;
            break;
        }
    }
    j->q[(j->head + j->n++) % CHECK_QUEUE] = *chunk;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    return OM_OK;
}

static void stream_written(void *ctx, struct om_layer *chunk)
{
    stream_unhold(ctx, chunk);
}

/* Start the check's threads (at least one, or OM_ENOMEM). */
static enum om_status stream_check_start(struct stream_job *j, int threads,
                                         const char *path, struct om_error *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int n = threads > 0 ? threads : cores > 0 ? (int)cores : 1;
    n = n > CHECK_THREADS ? CHECK_THREADS : n;
    int started = 0;
    for (int t = 0; t < n; t++) {
        j->started[t] =
            pthread_create(&j->tid[t], NULL, stream_check_main, j) == 0;
        started += j->started[t];
    }
    if (started == 0) {
        return om__error(err, OM_ENOMEM, path, 0, -1,
                         "cannot start the validity check's thread");
    }
    return OM_OK;
}

/* Wait for the check to end (stopping it first when `abandon`). */
static void stream_check_join(struct stream_job *j, bool abandon)
{
    pthread_mutex_lock(&j->mu);
    if (abandon) {
        __atomic_store_n(&j->stop, 1, __ATOMIC_RELAXED);
    }
    j->end = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (int t = 0; t < CHECK_THREADS; t++) {
        if (j->started[t]) {
            pthread_join(j->tid[t], NULL);
            j->started[t] = false;
        }
    }
}

/* The store's hook once every row is written: the check's issues, and
 * the source's hash for the catalogue. */
static enum om_status stream_done(void *ctx,
                                  const struct om_feature_issue **issues,
                                  size_t *nissues, struct om_error *err)
{
    struct stream_job *j = ctx;
    stream_check_join(j, false);
    if (hash_join(j->hash, err) != OM_OK) {
        return j->hash->st;
    }
    if (j->st != OM_OK) {
        if (err) {
            *err = j->err;
        }
        return j->st;
    }
    *issues = j->is->v;
    *nissues = j->is->n;
    return OM_OK;
}

/* Whether path is the project's own file (by any name). */
static bool is_project_file(struct om_project *p, const char *path)
{
    struct stat a, b;
    return stat(path, &a) == 0 && stat(om_project_path(p), &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Whether the import of this stream's table can be streamed: no
 * reprojection (the source in the project's own EPSG CRS), and not a
 * table of the project itself: the reading's lock on the file would keep
 * the writing from ever committing.
 */
static bool can_stream(struct om_project *p, const char *path,
                       const struct om_layer *schema,
                       const struct om_import_options *opt)
{
    const char *src = opt->src_crs ? opt->src_crs : om_layer_crs(schema);
    const char *pcrs = om_project_crs(p);
    return src && pcrs && strcmp(src, pcrs) == 0 && is_epsg_id(pcrs) &&
           !is_project_file(p, path);
}

static enum om_status
import_stream(struct om_project *p, const char *path,
              const struct om_import_options *opt, const char *code,
              struct om__gpkg_stream *gs, struct hash_job *hash,
              struct issues *is, struct om_import_report *rep,
              const struct om_progress *progress, struct om_error *err)
{
    __atomic_fetch_add(&om__imports_streamed, 1, __ATOMIC_RELAXED);
    const struct om_layer *schema = om__gpkg_stream_schema(gs);
    const char *pcrs = om_project_crs(p);
    om__strlcpy(rep->src_crs, pcrs, sizeof rep->src_crs);
    om__strlcpy(rep->dst_crs, pcrs, sizeof rep->dst_crs);
    struct om__buf params;
    om__buf_init(&params, 1 << 16);
    enum om_status st = check_fields(schema, opt, path, err);
    if (st == OM_OK) {
        st = om__gpkg_stream_start(gs, err);
    }
    if (st == OM_OK && import_params(&params, opt) != OM_OK) {
        st = om__enomem(err, path);
    }
    struct stream_job j = {0};
    j.gs = gs;
    j.hash = hash;
    j.is = is;
    j.rep = rep;
    /* no progress of its own (the writing's shows); stopped when the
     * import fails, which a cancel by the user makes it do */
    j.progress.cancel = &j.stop;
    om_error_clear(&j.err);
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.cv, NULL);
    if (st == OM_OK) {
        st = stream_check_start(&j, opt->threads, path, err);
    }
    if (st == OM_OK) {
        struct om__import_source src = {schema, om__gpkg_stream_total(gs),
                                        stream_next, stream_written, &j};
        struct om_import_meta meta = {0};
        meta.code = code;
        meta.role = opt->role;
        meta.source = path;
        meta.source_layer = opt->layer;
        meta.sha256 = hash->hex;
        meta.params_json = params.data;
        meta.code_field = opt->code_field;
        meta.name_field = opt->name_field;
        meta.rows_written = stream_done;
        meta.rows_written_ctx = &j;
        om__strlcpy(rep->code, code, sizeof rep->code);
        uint64_t n = 0;
        st = om__project_import_stream(p, &src, &meta, &rep->version, &n,
                                       progress, err);
        if (st == OM_OK) {
            rep->nfeatures = (int64_t)n;
        }
    }
    stream_check_join(&j, true);
    if (hash_join(hash, NULL) != OM_OK && st == OM_OK) {
        st = hash->st; /* not reached: stream_done joined it */
        if (err) {
            *err = hash->err;
        }
    }
    pthread_mutex_destroy(&j.mu);
    pthread_cond_destroy(&j.cv);
    om__buf_deinit(&params);
    return st;
}

enum om_status om_import_file(struct om_project *p, const char *path,
                              const struct om_import_options *opt,
                              struct om_import_report *rep,
                              const struct om_progress *progress,
                              struct om_error *err)
{
    memset(rep, 0, sizeof *rep);
    struct om_layer *layer = NULL;
    struct om_crs *src = NULL, *dst = NULL;
    struct issues is = {0};
    om__arena_init(&is.arena);
    struct om__buf params;
    om__buf_init(&params, 1 << 16);
    struct check_job check = {0};
    enum om_status st;
    if (!opt->code || !opt->code[0]) {
        st = om__error(err, OM_EINVAL, path, 0, -1,
                       "a layer code is required (--as DLTB)");
        goto out;
    }
    /* Layer codes are upper case by convention (DLTB, XZQ): `--as dltb`
     * names the same layer as `--as DLTB`. */
    char code[OM_LIMIT_CODE_BYTES + 1];
    if (strlen(opt->code) > OM_LIMIT_CODE_BYTES) {
        st = om__error(err, OM_EINVAL, path, 0, -1,
                       "layer code '%s' is longer than %u characters",
                       opt->code, OM_LIMIT_CODE_BYTES);
        goto out;
    }
    for (size_t i = 0;; i++) {
        char ch = opt->code[i];
        code[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
        if (!ch) {
            break;
        }
    }
    struct hash_job hash;
    hash_start(&hash, path);
    const char *sha = hash.hex;
    if (om__import_stream && has_ext(path, ".gpkg") && !opt->where &&
        !opt->repair) {
        struct om__gpkg_stream *gs = NULL;
        st = om__gpkg_stream_open(path, opt->layer, code, &gs, err);
        bool streamed =
            st == OM_OK && can_stream(p, path, om__gpkg_stream_schema(gs), opt);
        if (streamed) {
            st = import_stream(p, path, opt, code, gs, &hash, &is, rep,
                               progress, err);
        }
        om__gpkg_stream_close(gs);
        if (streamed || st != OM_OK) {
            if (hash_join(&hash, err) != OM_OK) {
                st = hash.st;
            }
            goto out;
        }
    }
    if (has_ext(path, ".gpkg") && !opt->where) {
        st = om_project_read_gpkg_file(path, opt->layer, &layer, progress, err);
    } else {
        struct om_read_options ro = {0};
        ro.layer = opt->layer;
        ro.encoding = opt->encoding;
        ro.src_crs = opt->src_crs;
        ro.where = opt->where;
        st = om_source_read(path, &ro, &layer, progress, err);
    }
    if (hash_join(&hash, err) != OM_OK) {
        st = hash.st;
    }
    if (st != OM_OK) {
        goto out;
    }
    /* Source CRS: --src-crs overrides; otherwise what the source says. */
    const char *src_def = opt->src_crs ? opt->src_crs : om_layer_crs(layer);
    if (!src_def) {
        st = om__error(err, OM_ECRS, path, 0, -1,
                       "has no coordinate reference system; give it with "
                       "--src-crs, e.g. --src-crs EPSG:4530");
        goto out;
    }
    const char *pcrs = om_project_crs(p);
    if (pcrs && strcmp(src_def, pcrs) == 0 && is_epsg_id(pcrs)) {
        /* The project's own CRS by the same EPSG code (the usual case):
         * nothing to transform, and PROJ is not even loaded. */
        om__strlcpy(rep->src_crs, pcrs, sizeof rep->src_crs);
        om__strlcpy(rep->dst_crs, pcrs, sizeof rep->dst_crs);
        st = om_layer_set_crs(layer, pcrs, err);
    } else {
        st = resolve_crs(p, layer, src_def, path, &src, &dst, rep, progress,
                         err);
    }
    if (st != OM_OK) {
        goto out;
    }
    if (opt->repair) {
        st =
            check_validity(&layer, true, opt->threads, &is, rep, progress, err);
        if (st != OM_OK) {
            goto out;
        }
    }
    st = om_layer_set_name(layer, code, err);
    if (st == OM_OK) {
        /* in the source's order: the rows go to the project in fid order,
         * which a source read in fid order gives sequentially (the
         * GeoPackage R-tree packs the boxes in Hilbert order itself); the
         * layer is never searched: no R-tree of its own */
        st = om_layer_finish(layer, OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX,
                             err);
    }
    if (st != OM_OK) {
        goto out;
    }
    if (!opt->repair) {
        /* from here on the layer's arrays stay where they are */
        check_start(&check, layer, opt->threads, &is, rep);
    }
    if (import_params(&params, opt) != OM_OK) {
        st = om__enomem(err, path);
        goto out;
    }
    struct om_import_meta meta = {0};
    meta.code = code;
    meta.role = opt->role;
    meta.source = path;
    meta.source_layer = opt->layer;
    meta.sha256 = sha;
    meta.params_json = params.data;
    meta.code_field = opt->code_field;
    meta.name_field = opt->name_field;
    if (rep->crs_chosen) {
        const char *did = om_crs_id(dst);
        meta.project_crs = did ? did : om_crs_wkt(dst);
    }
    if (opt->repair) {
        meta.issues = is.v;
        meta.nissues = is.n;
    } else {
        /* the issues come from the check once the rows are written */
        meta.rows_written = check_done;
        meta.rows_written_ctx = &check;
    }
    st = check_fields(layer, opt, path, err);
    if (st != OM_OK) {
        goto out;
    }
    om__strlcpy(rep->code, code, sizeof rep->code);
    st = om_project_import(p, layer, &meta, &rep->version, progress, err);
    if (st == OM_OK) {
        rep->nfeatures = (int64_t)om_layer_nfeatures(layer);
    }
out:
    if (check_join(&check, true) != OM_OK && st == OM_OK) {
        /* only when the store never asked for the check */
        st = check.st;
        if (err) {
            *err = check.err;
        }
    }
    om_layer_free(layer);
    om_crs_free(src);
    om_crs_free(dst);
    om__free(is.v);
    om__arena_deinit(&is.arena);
    om__buf_deinit(&params);
    return st;
}
