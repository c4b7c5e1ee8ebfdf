/*
 * review.c — the compliance review engine (合规性审查 / 压占分析): a site's
 * parcels against the checks of a review profile. See onemap/review.h.
 *
 * om_review_open reads every layer the checks and the admin units need
 * once, evaluates each check's filter into a mask over its layer's
 * features and cuts ALL usable features of each layer into tiles
 * (ops/tiles.h) with an R-tree: masks select source features, so one set
 * of tiles serves every check on a layer.
 *
 * om_review_check, per parcel: the parcel is prepared once; per layer the
 * tiles meeting its box are clipped against it (om_prepared_clip with the
 * parcel as the prepared side: COVERS = the tile lies inside the parcel,
 * the fragment is the tile itself; PARTIAL = the intersection; DISJOINT,
 * also for edge or corner contact = nothing). Each check then takes the
 * fragments of the source features its mask selects: areas are sums over
 * fragments (disjoint interiors within a feature), planar and ellipsoidal;
 * the fragments of one feature are unioned into one piece geometry only
 * for the pieces layer. must_be_within measures parcel \ union(selected
 * tiles met), checked against parcel − inside (the same GEOS robustness
 * guard as the overlay engine, ops/overlay.c). Everything a call needs
 * (GEOS, PROJ contexts, scratch layers) is its own: the review is shared
 * read-only between threads.
 */
#include "onemap/review.h"

#include "core/core.h"
#include "geom/setops.h"
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/onemap.h"
#include "onemap/polyops.h"
#include "onemap/store.h"
#include "ops/tiles.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define M2_PER_MU (10000.0 / 15.0)
#define NONE ((size_t)-1)

enum { SCRATCH_MAX = 4096, VALUE_MAX = 256 };

/* ---- the loaded review ---- */

struct rlayer {
    struct om_review_layer pub; /* points into the fields below */
    char *code, *role, *title;
    char sha256[65];
    struct om_layer *layer;
    struct om_layer *tiles;
    struct om_layer_view lv; /* of layer */
    struct om_layer_view tv; /* of tiles */
    const struct om_rtree *tree;
    uint8_t *need; /* features some check (or the units) selects */
};

struct rcheck {
    int layer;     /* index in layers, -1 when the project lacks it */
    uint8_t *mask; /* NULL when missing */
    int by;        /* field index of `by`, -1 none */
    enum om_code_table table; /* class names, 0 none */
};

struct om_review {
    struct om_check_profile prof;
    char *rules_source;
    char rules_sha256[65];
    char *crs_id;
    char *project_path;
    struct om_crs *crs;
    struct rlayer *layers;
    size_t nlayers, cap_layers;
    struct rcheck *checks; /* prof.nchecks */
    int admin;             /* layer index of the units, -1 none */
    int unit_code_f, unit_name_f;
    struct om_rect extent; /* of the loaded layers */
    /*
     * Area contexts of finished calls, reused: making one opens PROJ's
     * database, which costs more than a small site's whole check. Each
     * call still owns its context while it runs.
     */
    pthread_mutex_t pool_lock;
    struct om_area_ctx *pool[8];
    size_t npool;
    /* Only during om_review_open_pinned: the versions to load. */
    const struct om_review_pin *pins;
    size_t npins;
    bool pins_exact;
};

/* A result with what the public struct has no room for. */
struct result_priv {
    struct om_review_result pub;
    char *use; /* the use option given, NULL none */
};

/* ---- copying the profile ---- */

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s) {
        return NULL;
    }
    char *d = om__strdup(s);
    if (!d) {
        *oom = true;
    }
    return d;
}

static void free_side(struct om_rule_side *s)
{
    om__free(s->layer);
    for (size_t i = 0; i < s->nterms; i++) {
        struct om_filter_term *t = &s->terms[i];
        om__free(t->field);
        for (size_t k = 0; k < t->nvalues; k++) {
            om__free(t->values[k]);
        }
        om__free(t->values);
        om__free(t->group);
    }
    om__free(s->terms);
    om__free(s->text);
    memset(s, 0, sizeof *s);
}

static bool copy_side(struct om_rule_side *d, const struct om_rule_side *s)
{
    bool oom = false;
    memset(d, 0, sizeof *d);
    d->layer = dup_or_null(s->layer, &oom);
    d->text = dup_or_null(s->text, &oom);
    if (s->nterms) {
        d->terms = om__calloc(s->nterms, sizeof *d->terms);
        if (!d->terms) {
            return false;
        }
        d->nterms = s->nterms;
    }
    for (size_t i = 0; i < s->nterms; i++) {
        const struct om_filter_term *t = &s->terms[i];
        struct om_filter_term *u = &d->terms[i];
        u->field = dup_or_null(t->field, &oom);
        u->op = t->op;
        u->group = dup_or_null(t->group, &oom);
        u->table = t->table;
        u->line = t->line;
        if (t->nvalues) {
            u->values = om__calloc(t->nvalues, sizeof *u->values);
            if (!u->values) {
                return false;
            }
            u->nvalues = t->nvalues;
            for (size_t k = 0; k < t->nvalues; k++) {
                u->values[k] = dup_or_null(t->values[k], &oom);
            }
        }
    }
    return !oom;
}

static void free_profile(struct om_check_profile *p)
{
    om__free(p->name);
    om__free(p->zh);
    om__free(p->en);
    for (size_t i = 0; i < p->nchecks; i++) {
        struct om_check_rule *c = &p->checks[i];
        om__free(c->id);
        free_side(&c->layer);
        om__free(c->by);
        om__free(c->zh);
        om__free(c->en);
        om__free(c->basis);
    }
    om__free(p->checks);
    memset(p, 0, sizeof *p);
}

static bool copy_profile(struct om_check_profile *d,
                         const struct om_check_profile *s)
{
    bool oom = false;
    memset(d, 0, sizeof *d);
    d->name = dup_or_null(s->name, &oom);
    d->zh = dup_or_null(s->zh ? s->zh : s->name, &oom);
    d->en = dup_or_null(s->en ? s->en : s->name, &oom);
    d->tolerance_m2 = s->tolerance_m2;
    d->line = s->line;
    if (s->nchecks) {
        d->checks = om__calloc(s->nchecks, sizeof *d->checks);
        if (!d->checks) {
            return false;
        }
        d->nchecks = s->nchecks;
    }
    for (size_t i = 0; i < s->nchecks; i++) {
        const struct om_check_rule *c = &s->checks[i];
        struct om_check_rule *e = &d->checks[i];
        e->id = dup_or_null(c->id, &oom);
        e->kind = c->kind;
        e->by = dup_or_null(c->by, &oom);
        e->outcome = c->outcome;
        e->tolerance_m2 = c->tolerance_m2;
        e->zh = dup_or_null(c->zh ? c->zh : c->en, &oom);
        e->en = dup_or_null(c->en ? c->en : c->zh, &oom);
        e->basis = dup_or_null(c->basis, &oom);
        e->line = c->line;
        if (!copy_side(&e->layer, &c->layer)) {
            oom = true;
        }
    }
    return !oom;
}

/* ---- open ---- */

void om_review_free(struct om_review *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->nlayers; i++) {
        struct rlayer *l = &r->layers[i];
        om__free(l->code);
        om__free(l->role);
        om__free(l->title);
        om_layer_free(l->layer);
        om_layer_free(l->tiles);
        om__free(l->need);
    }
    om__free(r->layers);
    if (r->checks) {
        for (size_t i = 0; i < r->prof.nchecks; i++) {
            om__free(r->checks[i].mask);
        }
    }
    om__free(r->checks);
    free_profile(&r->prof);
    om__free(r->rules_source);
    om__free(r->crs_id);
    om__free(r->project_path);
    for (size_t i = 0; i < r->npool; i++) {
        om_area_ctx_free(r->pool[i]);
    }
    pthread_mutex_destroy(&r->pool_lock);
    om_crs_free(r->crs);
    om__free(r);
}

/* The pool is not part of the review's observable state. */
static struct om_area_ctx *pool_take(const struct om_review *cr)
{
    struct om_review *r = (struct om_review *)cr;
    struct om_area_ctx *a = NULL;
    pthread_mutex_lock(&r->pool_lock);
    if (r->npool > 0) {
        a = r->pool[--r->npool];
    }
    pthread_mutex_unlock(&r->pool_lock);
    return a;
}

static void pool_give(const struct om_review *cr, struct om_area_ctx *a)
{
    struct om_review *r = (struct om_review *)cr;
    if (!a) {
        return;
    }
    pthread_mutex_lock(&r->pool_lock);
    if (r->npool < sizeof r->pool / sizeof *r->pool) {
        r->pool[r->npool++] = a;
        a = NULL;
    }
    pthread_mutex_unlock(&r->pool_lock);
    om_area_ctx_free(a);
}

static int find_layer(const struct om_review *r, const char *code)
{
    for (size_t i = 0; i < r->nlayers; i++) {
        if (om__strcasecmp(r->layers[i].code, code) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/*
 * Load layer `code` (once). *index = its index, or -1 when the project
 * does not have it and `missing_ok`.
 */
static enum om_status load_layer(struct om_review *r, struct om_project *p,
                                 const struct om_rules *rules, const char *code,
                                 bool missing_ok, int *index,
                                 struct om_layer_record *rec_out,
                                 const struct om_progress *progress,
                                 struct om_error *err)
{
    *index = find_layer(r, code);
    if (*index >= 0 && !rec_out) {
        return OM_OK;
    }
    const struct om_review_pin *pin = NULL;
    for (size_t i = 0; i < r->npins && !pin; i++) {
        if (om__strcasecmp(r->pins[i].code, code) == 0) {
            pin = &r->pins[i];
        }
    }
    if (!pin && r->pins_exact) {
        /* not an input of the pinned review: as if not in the project */
        if (missing_ok) {
            *index = -1;
            return OM_OK;
        }
        return om__error(err, OM_ENOTFOUND, r->project_path, 0, -1,
                         "layer %s is not among the pinned layer versions",
                         code);
    }
    struct om_layer_record rec;
    struct om_error e2;
    om_error_clear(&e2);
    enum om_status st =
        om_project_layer_record(p, code, pin ? pin->version : 0, &rec, &e2);
    if (st == OM_ENOTFOUND && pin) {
        return om__error(err, OM_ENOTFOUND, r->project_path, 0, -1,
                         "layer %s version %d is not in the project (any "
                         "more): %s",
                         code, pin->version, e2.msg);
    }
    if (st == OM_ENOTFOUND && missing_ok) {
        *index = -1;
        return OM_OK;
    }
    if (st != OM_OK) {
        if (err) {
            *err = e2;
        }
        return st;
    }
    if (*index >= 0) {
        *rec_out = rec;
        return OM_OK;
    }
    if (!OM__GROW(r->layers, r->cap_layers, r->nlayers + 1)) {
        om_layer_record_deinit(&rec);
        return om__enomem(err, code);
    }
    struct rlayer *l = &r->layers[r->nlayers];
    memset(l, 0, sizeof *l);
    r->nlayers++; /* freed with the review from here on */
    om__strlcpy(l->sha256, rec.sha256, sizeof l->sha256);
    const struct om_layer_conf *conf = om_rules_layer(rules, code);
    bool oom = false;
    l->code = dup_or_null(rec.code, &oom);
    l->role = dup_or_null(
        conf && conf->role ? conf->role : om_layer_role_for(rec.code), &oom);
    l->title = dup_or_null(conf ? conf->title : NULL, &oom);
    l->pub.version = rec.version;
    if (oom) {
        om_layer_record_deinit(&rec);
        return om__enomem(err, code);
    }
    st = om_project_read(p, rec.code, rec.version, &l->layer, progress, err);
    if (st != OM_OK) {
        om_layer_record_deinit(&rec);
        return st;
    }
    *index = (int)(r->nlayers - 1);
    if (rec_out) {
        *rec_out = rec;
    } else {
        om_layer_record_deinit(&rec);
    }
    return OM_OK;
}

static enum om_status field_error(const struct om_check_rule *c,
                                  const struct om_layer *l, const char *field,
                                  struct om_error *err)
{
    char list[256] = "";
    size_t n = 0;
    for (size_t i = 0; i < om_layer_nfields(l); i++) {
        n += (size_t)snprintf(list + n, n < sizeof list ? sizeof list - n : 0,
                              "%s%s", i ? ", " : "",
                              om_layer_field_name(l, (int)i));
        if (n >= sizeof list) {
            break;
        }
    }
    return om__error(err, OM_ENOTFOUND, om_layer_name(l), 0, -1,
                     "check %s: layer %s has no field '%s' (fields: %s)", c->id,
                     om_layer_name(l), field, list);
}

/* The code table naming the classes of check c's `by` values. */
static enum om_code_table class_table(const struct om_check_rule *c,
                                      const char *role)
{
    if (!c->by) {
        return 0;
    }
    if (c->kind == OM_CHECK_PURPOSE) {
        return OM_CODES_YDYH;
    }
    char up[64];
    size_t i = 0;
    for (; c->by[i] && i + 1 < sizeof up; i++) {
        char ch = c->by[i];
        up[i] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
    }
    up[i] = '\0';
    if (strstr(up, "DLBM")) {
        return OM_CODES_DLBM;
    }
    if (strstr(up, "YDYH") || strstr(up, "GHYT") || strstr(up, "GHDL")) {
        return OM_CODES_YDYH;
    }
    if (role && strcmp(role, "landuse") == 0) {
        return OM_CODES_DLBM;
    }
    if (role &&
        (strcmp(role, "planned_use") == 0 || strcmp(role, "zoning") == 0)) {
        return OM_CODES_YDYH;
    }
    return 0;
}

static enum om_status open_checks(struct om_review *r, struct om_project *p,
                                  const struct om_rules *rules,
                                  const struct om_progress *progress,
                                  struct om_error *err)
{
    for (size_t k = 0; k < r->prof.nchecks; k++) {
        const struct om_check_rule *c = &r->prof.checks[k];
        struct rcheck *rc = &r->checks[k];
        rc->layer = -1;
        rc->by = -1;
        if (!c->layer.layer) {
            return om__error(err, OM_EINVAL, rules->source, c->line, -1,
                             "check %s has no layer", c->id);
        }
        if (c->kind == OM_CHECK_PURPOSE && !c->by) {
            return om__error(err, OM_EINVAL, rules->source, c->line, -1,
                             "check %s: a purpose check needs `by` (the "
                             "planned-use code field)",
                             c->id);
        }
        enum om_status st = load_layer(r, p, rules, c->layer.layer, true,
                                       &rc->layer, NULL, progress, err);
        if (st != OM_OK) {
            om__error_prefix(err, "check %s", c->id);
            return st;
        }
        if (rc->layer < 0) {
            continue; /* reported as missing in every result */
        }
        const struct rlayer *l = &r->layers[rc->layer];
        if (c->by) {
            rc->by = om_layer_field_index(l->layer, c->by);
            if (rc->by < 0) {
                return field_error(c, l->layer, c->by, err);
            }
        }
        rc->table = class_table(c, l->role);
        struct om_rule tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.id = c->id;
        tmp.zh = c->zh;
        tmp.en = c->en;
        tmp.line = c->line;
        st = om_rule_side_select(&tmp, &c->layer, l->layer, &rc->mask, NULL,
                                 err);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* Admin units: the rule file's admin section, else XZQ when present. */
static enum om_status open_units(struct om_review *r, struct om_project *p,
                                 const struct om_rules *rules,
                                 const struct om_progress *progress,
                                 struct om_error *err)
{
    r->admin = -1;
    const char *code = rules->admin_layer ? rules->admin_layer : "XZQ";
    struct om_layer_record rec;
    memset(&rec, 0, sizeof rec);
    int idx = -1;
    enum om_status st = load_layer(r, p, rules, code, !rules->admin_layer, &idx,
                                   &rec, progress, err);
    if (st != OM_OK || idx < 0) {
        return st;
    }
    const char *cf = rules->admin_code ? rules->admin_code : rec.code_field;
    const char *nf = rules->admin_name ? rules->admin_name : rec.name_field;
    const struct om_layer *l = r->layers[idx].layer;
    r->unit_code_f = om_layer_field_index(l, cf ? cf : "XZQDM");
    r->unit_name_f = om_layer_field_index(l, nf ? nf : "XZQMC");
    if (r->unit_code_f < 0) {
        st = om__error(err, OM_ENOTFOUND, code, 0, -1,
                       "admin layer %s has no code field '%s'; set admin: "
                       "{code: ...} in the rule file or import it with "
                       "--code-field",
                       code, cf ? cf : "XZQDM");
    }
    om_layer_record_deinit(&rec);
    r->admin = idx;
    r->layers[idx].pub.is_admin = true;
    return st;
}

static enum om_status open_tiles(struct om_review *r,
                                 const struct om_progress *progress,
                                 struct om_error *err)
{
    for (size_t i = 0; i < r->nlayers; i++) {
        struct rlayer *l = &r->layers[i];
        if (om__progress_force(progress, "tiles", i, r->nlayers)) {
            return om__error(err, OM_ECANCELED, l->code, 0, -1,
                             "review canceled");
        }
        size_t n = om_layer_nfeatures(l->layer);
        l->need = om__calloc(n + 1, 1);
        if (!l->need) {
            return om__enomem(err, l->code);
        }
        for (size_t k = 0; k < r->prof.nchecks; k++) {
            const struct rcheck *rc = &r->checks[k];
            if (rc->layer != (int)i) {
                continue;
            }
            for (size_t f = 0; f < n; f++) {
                l->need[f] |= rc->mask[f];
            }
        }
        if ((int)i == r->admin) {
            memset(l->need, 1, n);
        }
        enum om_status st = om__tiles_make(l->layer, l->need, &l->tiles, err);
        if (st != OM_OK) {
            return st;
        }
        om_layer_view(l->tiles, &l->tv);
        om_layer_view(l->layer, &l->lv);
        l->tree = om_layer_index(l->tiles);
        r->extent = om_rect_union(r->extent, om_layer_extent(l->layer));
        l->pub.code = l->code;
        l->pub.role = l->role;
        l->pub.title = l->title;
        l->pub.sha256 = l->sha256;
        l->pub.layer = l->layer;
    }
    om__progress_force(progress, "tiles", r->nlayers, r->nlayers);
    return OM_OK;
}

enum om_status om_review_open(struct om_project *p,
                              const struct om_rules *rules,
                              const char *profile_name, struct om_review **out,
                              const struct om_progress *progress,
                              struct om_error *err)
{
    return om_review_open_pinned(p, rules, profile_name, NULL, 0, false, out,
                                 progress, err);
}

enum om_status
om_review_open_pinned(struct om_project *p, const struct om_rules *rules,
                      const char *profile_name,
                      const struct om_review_pin *pins, size_t npins,
                      bool exact, struct om_review **out,
                      const struct om_progress *progress, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_open: out is NULL");
    }
    *out = NULL;
    if (!p || !rules || !profile_name || (npins && !pins)) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_open: NULL project, rules, profile or "
                         "pins");
    }
    for (size_t i = 0; i < npins; i++) {
        if (!pins[i].code || pins[i].version < 1) {
            return om__error(err, OM_EINVAL, NULL, 0, -1,
                             "om_review_open_pinned: pin %zu (%s version %d) "
                             "needs a code and a version >= 1",
                             i + 1, pins[i].code ? pins[i].code : "NULL",
                             pins[i].version);
        }
    }
    const struct om_check_profile *prof = NULL;
    for (size_t i = 0; i < rules->nprofiles; i++) {
        if (strcmp(rules->profiles[i].name, profile_name) == 0) {
            prof = &rules->profiles[i];
        }
    }
    if (!prof) {
        char list[256] = "";
        size_t n = 0;
        for (size_t i = 0; i < rules->nprofiles && n < sizeof list; i++) {
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%s",
                                  i ? ", " : "", rules->profiles[i].name);
        }
        return om__error(err, OM_ENOTFOUND, rules->source, 0, -1,
                         "no review profile '%s' in %s (profiles: %s)",
                         profile_name, rules->source ? rules->source : "rules",
                         rules->nprofiles ? list : "none");
    }
    const char *pcrs = om_project_crs(p);
    if (!pcrs) {
        return om__error(err, OM_ECRS, om_project_path(p), 0, -1,
                         "the project has no CRS yet (no layers imported)");
    }
    struct om_review *r = om__calloc(1, sizeof *r);
    if (!r) {
        return om__enomem(err, NULL);
    }
    pthread_mutex_init(&r->pool_lock, NULL);
    r->pins = pins;
    r->npins = npins;
    r->pins_exact = exact;
    r->admin = -1;
    r->unit_code_f = r->unit_name_f = -1;
    r->extent = om_rect_empty();
    enum om_status st = OM_OK;
    bool oom = false;
    r->rules_source =
        dup_or_null(rules->source ? rules->source : "(buffer)", &oom);
    om__strlcpy(r->rules_sha256, rules->sha256, sizeof r->rules_sha256);
    r->crs_id = dup_or_null(pcrs, &oom);
    r->project_path = dup_or_null(om_project_path(p), &oom);
    if (oom || !copy_profile(&r->prof, prof)) {
        st = om__enomem(err, NULL);
    }
    if (st == OM_OK) {
        st = om_crs_new(pcrs, &r->crs, err);
    }
    if (st == OM_OK) {
        r->checks = om__calloc(r->prof.nchecks ? r->prof.nchecks : 1,
                               sizeof *r->checks);
        if (!r->checks) {
            st = om__enomem(err, NULL);
        }
    }
    if (st == OM_OK) {
        st = open_checks(r, p, rules, progress, err);
    }
    if (st == OM_OK) {
        st = open_units(r, p, rules, progress, err);
    }
    if (st == OM_OK) {
        st = open_tiles(r, progress, err);
    }
    r->pins = NULL; /* the caller's, borrowed for the call only */
    r->npins = 0;
    r->pins_exact = false;
    if (st != OM_OK) {
        om_review_free(r);
        return st;
    }
    *out = r;
    return OM_OK;
}

const struct om_check_profile *om_review_profile(const struct om_review *r)
{
    return r ? &r->prof : NULL;
}

const char *om_review_rules_source(const struct om_review *r)
{
    return r ? r->rules_source : NULL;
}

const char *om_review_rules_sha256(const struct om_review *r)
{
    return r ? r->rules_sha256 : NULL;
}

const char *om_review_crs(const struct om_review *r)
{
    return r ? r->crs_id : NULL;
}

const char *om_review_project_path(const struct om_review *r)
{
    return r ? r->project_path : NULL;
}

size_t om_review_nlayers(const struct om_review *r)
{
    return r ? r->nlayers : 0;
}

const struct om_review_layer *om_review_layer_at(const struct om_review *r,
                                                 size_t i)
{
    return r && i < r->nlayers ? &r->layers[i].pub : NULL;
}

const struct om_review_layer *om_review_layer_find(const struct om_review *r,
                                                   const char *code)
{
    int i = r && code ? find_layer(r, code) : -1;
    return i >= 0 ? &r->layers[i].pub : NULL;
}

/* ---- results: building findings ---- */

struct bclass {
    char *value;
    double planar, ell;
    int64_t *fids;
    size_t nfids, cap;
};

/* Areas, classes and features of one finding (parcel or total). */
struct builder {
    struct bclass *cls;
    size_t ncls, cap;
    int64_t *fids;
    size_t nfids, capf;
    double planar, ell;
};

static void builder_deinit(struct builder *b)
{
    for (size_t i = 0; i < b->ncls; i++) {
        om__free(b->cls[i].value);
        om__free(b->cls[i].fids);
    }
    om__free(b->cls);
    om__free(b->fids);
    memset(b, 0, sizeof *b);
}

static bool push_fid(int64_t **arr, size_t *n, size_t *cap, int64_t fid)
{
    if (!om__grow((void **)arr, cap, *n + 1, sizeof **arr)) {
        return false;
    }
    (*arr)[(*n)++] = fid;
    return true;
}

/* Add an area of class `value`; `fid` >= 0 counts a feature met. */
static bool builder_add(struct builder *b, const char *value, int64_t fid,
                        double planar, double ell)
{
    struct bclass *c = NULL;
    for (size_t i = 0; i < b->ncls; i++) {
        if (strcmp(b->cls[i].value, value) == 0) {
            c = &b->cls[i];
            break;
        }
    }
    if (!c) {
        if (!OM__GROW(b->cls, b->cap, b->ncls + 1)) {
            return false;
        }
        c = &b->cls[b->ncls];
        memset(c, 0, sizeof *c);
        c->value = om__strdup(value);
        if (!c->value) {
            return false;
        }
        b->ncls++;
    }
    c->planar += planar;
    c->ell += ell;
    b->planar += planar;
    b->ell += ell;
    if (fid >= 0) {
        return push_fid(&c->fids, &c->nfids, &c->cap, fid) &&
               push_fid(&b->fids, &b->nfids, &b->capf, fid);
    }
    return true;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static size_t sort_unique(int64_t *a, size_t n)
{
    if (n == 0) {
        return 0;
    }
    qsort(a, n, sizeof *a, cmp_i64);
    size_t k = 1;
    for (size_t i = 1; i < n; i++) {
        if (a[i] != a[k - 1]) {
            a[k++] = a[i];
        }
    }
    return k;
}

static int cmp_class(const void *x, const void *y)
{
    return strcmp(((const struct om_review_class *)x)->value,
                  ((const struct om_review_class *)y)->value);
}

static void class_names(enum om_code_table t, const char *value,
                        const char **zh, const char **en)
{
    *zh = *en = NULL;
    const struct om_code *c = NULL;
    if (!t || !*value) {
        return;
    }
    if (t == OM_CODES_DLBM) {
        enum om_code_check k = om_dlbm_check(value, &c);
        if (k != OM_CODE_OK) {
            c = NULL;
        }
    } else {
        c = om_code_find(t, value);
    }
    if (c) {
        *zh = c->name_zh;
        *en = c->name_en;
    }
}

/* Move the builder's classes and features into finding f. */
static bool builder_finish(struct builder *b, enum om_code_table table,
                           struct om_review_finding *f)
{
    f->planar_m2 = b->planar;
    f->ellipsoidal_m2 = b->ell;
    if (b->ncls) {
        f->classes = om__calloc(b->ncls, sizeof *f->classes);
        if (!f->classes) {
            return false;
        }
    }
    for (size_t i = 0; i < b->ncls; i++) {
        struct bclass *c = &b->cls[i];
        struct om_review_class *o = &f->classes[f->nclasses++];
        o->value = c->value;
        c->value = NULL;
        o->planar_m2 = c->planar;
        o->ellipsoidal_m2 = c->ell;
        o->nfeatures = sort_unique(c->fids, c->nfids);
        const char *zh, *en;
        class_names(table, o->value, &zh, &en);
        if (zh) {
            o->name_zh = om__strdup(zh);
            o->name_en = om__strdup(en);
            if (!o->name_zh || !o->name_en) {
                return false;
            }
        }
    }
    if (f->nclasses > 1) {
        qsort(f->classes, f->nclasses, sizeof *f->classes, cmp_class);
    }
    b->nfids = sort_unique(b->fids, b->nfids);
    if (b->nfids) {
        f->fids = om__malloc(b->nfids * sizeof *f->fids);
        if (!f->fids) {
            return false;
        }
        memcpy(f->fids, b->fids, b->nfids * sizeof *f->fids);
        f->nfids = b->nfids;
    }
    return true;
}

static void finding_deinit(struct om_review_finding *f)
{
    om__free(f->check_id);
    om__free(f->layer);
    for (size_t i = 0; i < f->nclasses; i++) {
        om__free(f->classes[i].value);
        om__free(f->classes[i].name_zh);
        om__free(f->classes[i].name_en);
    }
    om__free(f->classes);
    om__free(f->fids);
    om__free(f->reason_zh);
    om__free(f->reason_en);
}

static void parcel_deinit(struct om_review_parcel *p)
{
    om__free(p->code);
    om__free(p->name);
    om__free(p->use);
    for (size_t i = 0; i < p->nfindings; i++) {
        finding_deinit(&p->findings[i]);
    }
    om__free(p->findings);
    for (size_t i = 0; i < p->nunits; i++) {
        om__free(p->units[i].code);
        om__free(p->units[i].name);
    }
    om__free(p->units);
}

void om_review_result_free(struct om_review_result *res)
{
    if (!res) {
        return;
    }
    struct result_priv *rp = (struct result_priv *)res;
    om__free(res->profile);
    om__free(res->rules_sha256);
    for (size_t i = 0; i < res->nparcels; i++) {
        parcel_deinit(&res->parcels[i]);
    }
    om__free(res->parcels);
    for (size_t i = 0; i < res->ntotals; i++) {
        finding_deinit(&res->totals[i]);
    }
    om__free(res->totals);
    om_layer_free(res->site);
    om_layer_free(res->pieces);
    om__free(res->source);
    om__free(res->source_sha256);
    om__free(rp->use);
    om__free(rp);
}

/* ---- reasons ---- */

static char *fmt_dup(const char *fmt, ...) OM__PRINTF(1, 2);
static char *fmt_dup(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return om__strdup(buf);
}

/* One zh and one en sentence citing the check id. */
static bool make_reasons(const struct om_check_rule *c,
                         struct om_review_finding *f, const char *use)
{
    const char *dzh = om_decision_zh(f->decision);
    const char *den = om_decision_name(f->decision);
    double m2 = f->planar_m2, mu = m2 / M2_PER_MU;
    char zh[512], en[512];
    if (f->missing) {
        snprintf(zh, sizeof zh, "项目数据库中没有图层 %s，未能审查（%s）",
                 f->layer,
                 f->kind == OM_CHECK_REPORT ? "仅报告" : "须人工核实");
        snprintf(en, sizeof en,
                 "layer %s is not in the project, the check could not be "
                 "made%s",
                 f->layer,
                 f->kind == OM_CHECK_REPORT ? "" : " (to be verified by hand)");
    } else if (f->not_evaluated) {
        snprintf(zh, sizeof zh, "地块无用途编码，未评价");
        snprintf(en, sizeof en, "no land-use code for the site: not evaluated");
    } else {
        const char *vzh = "占用", *ven = "occupied";
        if (f->kind == OM_CHECK_MUST_BE_WITHIN) {
            vzh = "位于范围外";
            ven = "outside";
        } else if (f->kind == OM_CHECK_PURPOSE) {
            vzh = "与规划用途不符";
            ven = "of planned use incompatible with the site's use";
        }
        if (f->kind == OM_CHECK_PURPOSE && m2 > 0.0) {
            snprintf(zh, sizeof zh, "项目用途 %s，%s %.2f 平方米（%.4f 亩）",
                     use ? use : "", vzh, m2, mu);
            snprintf(en, sizeof en, "%.2f m² (%.4f mu) %s %s", m2, mu, ven,
                     use ? use : "");
        } else if (m2 > 0.0) {
            snprintf(zh, sizeof zh, "%s %.2f 平方米（%.4f 亩）", vzh, m2, mu);
            snprintf(en, sizeof en, "%.2f m² (%.4f mu) %s", m2, mu, ven);
        } else {
            snprintf(zh, sizeof zh, "%s 0 平方米", vzh);
            snprintf(en, sizeof en, "0 m² %s", ven);
        }
        if (f->below_tolerance) {
            size_t n = strlen(zh), k = strlen(en);
            snprintf(zh + n, sizeof zh - n, "，不超过容差 %g 平方米",
                     c->tolerance_m2);
            snprintf(en + k, sizeof en - k, ", within the tolerance of %g m²",
                     c->tolerance_m2);
        }
    }
    f->reason_zh = fmt_dup("%s %s：%s，%s", c->id, c->zh, zh, dzh);
    f->reason_en = fmt_dup("%s %s: %s: %s", c->id, c->en, en, den);
    return f->reason_zh && f->reason_en;
}

/* The decision of a measured finding. */
static void decide(const struct om_check_rule *c, struct om_review_finding *f)
{
    f->decision = OM_DECISION_PASS;
    f->below_tolerance = false;
    if (f->missing || f->not_evaluated) {
        if (c->kind != OM_CHECK_REPORT && c->outcome != OM_DECISION_PASS) {
            f->decision = OM_DECISION_CONDITIONAL;
        }
        return;
    }
    if (c->kind == OM_CHECK_REPORT) {
        return;
    }
    if (f->planar_m2 > c->tolerance_m2) {
        f->decision = c->outcome;
    } else if (f->planar_m2 > 0.0) {
        f->below_tolerance = true;
    }
}

static bool finding_init(const struct om_review *r, size_t k,
                         struct om_review_finding *f)
{
    const struct om_check_rule *c = &r->prof.checks[k];
    const struct rcheck *rc = &r->checks[k];
    memset(f, 0, sizeof *f);
    f->check_id = om__strdup(c->id);
    f->kind = c->kind;
    f->layer =
        om__strdup(rc->layer >= 0 ? r->layers[rc->layer].code : c->layer.layer);
    f->layer_version = rc->layer >= 0 ? r->layers[rc->layer].pub.version : 0;
    f->missing = rc->layer < 0;
    return f->check_id && f->layer;
}

/* ---- the check ---- */

/* A clip of one tile against the parcel. */
struct frag {
    size_t tile;
    size_t src; /* source feature */
    size_t gf;  /* PARTIAL: feature of the scratch layer; NONE: the tile */
    double planar, ell;
};

struct fraglist {
    struct frag *f;
    size_t n, cap;
};

struct call {
    const struct om_review *r;
    struct om_polyops *geos;
    struct om__setops *gx;
    struct om_area_ctx *area;
    struct om_layer *scratch;
    struct om_layer_view sv;
    struct om_layer *site;
    struct om_layer_view pv;
    struct om_layer *pieces;
    int64_t next_piece;
    struct fraglist *lf; /* per layer, for the current parcel */
    size_t *cand;
    size_t ncand, cap_cand;
    bool cand_oom;
    struct om__fref *refs;
    size_t nrefs, cap_refs;
    struct builder *tot; /* per check */
    const char *use;     /* current parcel's use code */
    double parcel_planar, parcel_ell;
    int f_dkbh, f_dkmc, f_dkyt, f_dlbm;
};

enum {
    P_PARCEL,
    P_PARCEL_CODE,
    P_CHECK,
    P_KIND,
    P_DECISION,
    P_LAYER,
    P_FID,
    P_CLASS,
    P_AREA,
    P_AREA_ELL,
    P_NFIELDS
};

static const struct {
    const char *name;
    enum om_field_type type;
} piece_fields[P_NFIELDS] = {
    {"parcel", OM_FIELD_INT},    {"parcel_code", OM_FIELD_TEXT},
    {"check_id", OM_FIELD_TEXT}, {"kind", OM_FIELD_TEXT},
    {"decision", OM_FIELD_TEXT}, {"layer", OM_FIELD_TEXT},
    {"fid", OM_FIELD_INT},       {"class", OM_FIELD_TEXT},
    {"area_m2", OM_FIELD_REAL},  {"area_ell_m2", OM_FIELD_REAL},
};

static bool collect(void *ctx, size_t item)
{
    struct call *c = ctx;
    if (!OM__GROW(c->cand, c->cap_cand, c->ncand + 1)) {
        c->cand_oom = true;
        return false;
    }
    c->cand[c->ncand++] = item;
    return true;
}

static const struct om_layer_view *
frag_view(struct call *c, const struct rlayer *l, const struct frag *fr)
{
    return fr->gf == NONE ? &l->tv : &c->sv;
}

static size_t frag_feature(const struct frag *fr)
{
    return fr->gf == NONE ? fr->tile : fr->gf;
}

static bool has_parts(const struct om_layer_view *v, size_t f)
{
    return v->part_start[f + 1] > v->part_start[f];
}

/* Crumbs of floating-point overlay are not areas (as in overlay.c). */
static bool crumb(double rest, double whole)
{
    return rest <= 1e-9 * whole + 1e-6;
}

static bool consistent(double outside, double expected, double whole)
{
    return fabs(outside - expected) <= 1e-6 * whole + 1e-3;
}

/* Clip the tiles of layer li meeting parcel pf against the parcel. */
static enum om_status layer_frags(struct call *c, size_t li, size_t pf,
                                  const struct om_prepared *pp,
                                  struct om_error *err)
{
    const struct rlayer *l = &c->r->layers[li];
    struct fraglist *fl = &c->lf[li];
    fl->n = 0;
    c->ncand = 0;
    c->cand_oom = false;
    om_rtree_search(l->tree, c->pv.bbox[pf], collect, c);
    if (c->cand_oom) {
        return om__enomem(err, NULL);
    }
    /* by (source feature, tile): insertion sort, the lists are short */
    for (size_t i = 1; i < c->ncand; i++) {
        size_t x = c->cand[i], k = i;
        while (k > 0 && (l->tv.fid[c->cand[k - 1]] > l->tv.fid[x] ||
                         (l->tv.fid[c->cand[k - 1]] == l->tv.fid[x] &&
                          c->cand[k - 1] > x))) {
            c->cand[k] = c->cand[k - 1];
            k--;
        }
        c->cand[k] = x;
    }
    for (size_t i = 0; i < c->ncand; i++) {
        size_t t = c->cand[i];
        int rel = OM_REL_DISJOINT;
        double area = 0.0;
        enum om_status st = om_layer_begin_feature(c->scratch, 0, err);
        if (st == OM_OK) {
            st = om_prepared_clip(c->geos, pp, &l->tv, t, c->scratch, &rel,
                                  &area, err);
        }
        if (st == OM_OK) {
            st = om_layer_end_feature(c->scratch, err);
        } else {
            om_layer_abort_feature(c->scratch);
        }
        if (st != OM_OK) {
            om__error_prefix(err, "%s feature %lld", l->code,
                             (long long)l->lv.fid[l->tv.fid[t]]);
            return st;
        }
        om_layer_view(c->scratch, &c->sv);
        struct frag fr;
        fr.tile = t;
        fr.src = (size_t)l->tv.fid[t];
        if (rel == OM_REL_COVERS) {
            fr.gf = NONE;
        } else if (rel == OM_REL_PARTIAL) {
            fr.gf = c->sv.nfeatures - 1;
            if (!has_parts(&c->sv, fr.gf)) {
                continue;
            }
        } else {
            continue;
        }
        const struct om_layer_view *v = frag_view(c, l, &fr);
        size_t f = frag_feature(&fr);
        fr.planar = om_feature_area_planar(v, f);
        if (fr.gf != NONE &&
            crumb(fabs(c->parcel_planar - fr.planar), c->parcel_planar)) {
            /* the parcel itself (inside one tile): its area, known */
            fr.ell = c->parcel_ell;
        } else {
            st = om_area_feature(c->area, v, f, NULL, &fr.ell, err);
            if (st != OM_OK) {
                return st;
            }
        }
        if (!(fr.planar > 0.0)) {
            continue;
        }
        if (!OM__GROW(fl->f, fl->cap, fl->n + 1)) {
            return om__enomem(err, NULL);
        }
        fl->f[fl->n++] = fr;
    }
    return OM_OK;
}

/* Append the parts of feature f of v to dst's current feature. */
static enum om_status append_parts(struct om_layer *dst,
                                   const struct om_layer_view *v, size_t f,
                                   struct om_error *err)
{
    enum om_status st = OM_OK;
    for (size_t q = v->part_start[f]; st == OM_OK && q < v->part_start[f + 1];
         q++) {
        st = om_layer_begin_part(dst, err);
        for (size_t k = v->ring_start[q];
             st == OM_OK && k < v->ring_start[q + 1]; k++) {
            size_t a = v->point_start[k], b = v->point_start[k + 1];
            st = om_layer_add_ring(dst, v->xy + 2 * a, b - a, err);
        }
    }
    return st;
}

/* Blank-trimmed text of a field value. */
static const char *field_text(const struct om_layer *l, size_t f, int field,
                              char *buf, size_t size)
{
    if (field < 0 || om_layer_is_null(l, f, field)) {
        buf[0] = '\0';
        return buf;
    }
    char tmp[VALUE_MAX];
    om_layer_format_value(l, f, field, tmp, sizeof tmp);
    const char *s = tmp;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                     s[n - 1] == '\n')) {
        n--;
    }
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Planned use `plan` is compatible with the site's use when one code is a
 * prefix of the other (0701 within 07, 07 within 0701). */
static bool compatible(const char *use, const char *plan)
{
    size_t a = strlen(use), b = strlen(plan);
    if (a == 0 || b == 0) {
        return false;
    }
    return strncmp(use, plan, a < b ? a : b) == 0;
}

/* A group of fragments of one source feature. */
struct group {
    size_t i0, i1, src;
    double planar, ell;
    char value[VALUE_MAX];
    bool counted;
};

struct evalctx {
    struct group *g;
    size_t ng, cap;
};

static enum om_status set_piece_attrs(struct call *c, size_t pi,
                                      const struct om_review_finding *f,
                                      const char *code, int64_t fid,
                                      const char *value, double planar,
                                      double ell, struct om_error *err)
{
    struct om_layer *l = c->pieces;
    enum om_status st = om_layer_set_int(l, P_PARCEL, (int64_t)pi + 1, err);
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_PARCEL_CODE, code, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_CHECK, f->check_id, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_KIND, om_check_kind_name(f->kind), err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_DECISION, om_decision_name(f->decision),
                               err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_LAYER, f->layer, err);
    }
    if (st == OM_OK && fid >= 0) {
        st = om_layer_set_int(l, P_FID, fid, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_text(l, P_CLASS, value, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_real(l, P_AREA, planar, err);
    }
    if (st == OM_OK && isfinite(ell)) {
        st = om_layer_set_real(l, P_AREA_ELL, ell, err);
    }
    return st;
}

static enum om_status end_piece(struct om_layer *l, enum om_status st,
                                struct om_error *err)
{
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    if (st != OM_OK) {
        om_layer_abort_feature(l);
    }
    return st;
}

/* The piece of one group: its fragments unioned. */
static enum om_status emit_group(struct call *c, size_t pi,
                                 const struct om_review_parcel *P,
                                 const struct rlayer *l, const struct group *g,
                                 const struct om_review_finding *f,
                                 struct om_error *err)
{
    const struct fraglist *fl = &c->lf[l - c->r->layers];
    enum om_status st = om_layer_begin_feature(c->pieces, ++c->next_piece, err);
    if (st == OM_OK && g->i1 - g->i0 == 1) {
        const struct frag *fr = &fl->f[g->i0];
        st =
            append_parts(c->pieces, frag_view(c, l, fr), frag_feature(fr), err);
    } else if (st == OM_OK) {
        c->nrefs = 0;
        if (!OM__GROW(c->refs, c->cap_refs, g->i1 - g->i0)) {
            st = om__enomem(err, NULL);
        }
        for (size_t i = g->i0; st == OM_OK && i < g->i1; i++) {
            c->refs[c->nrefs].v = frag_view(c, l, &fl->f[i]);
            c->refs[c->nrefs++].f = frag_feature(&fl->f[i]);
        }
        if (st == OM_OK) {
            st = om__setops_union(c->gx, c->refs, c->nrefs, c->pieces, err);
        }
    }
    if (st == OM_OK) {
        st = set_piece_attrs(c, pi, f, P->code, l->lv.fid[g->src], g->value,
                             g->planar, g->ell, err);
    }
    return end_piece(c->pieces, st, err);
}

/* The planar area of union(refs), appended to the scratch layer. */
static enum om_status union_area(struct call *c, const struct om__fref *refs,
                                 size_t n, double *area, struct om_error *err)
{
    enum om_status st = om_layer_begin_feature(c->scratch, 0, err);
    if (st == OM_OK) {
        st = om__setops_union(c->gx, refs, n, c->scratch, err);
    }
    st = end_piece(c->scratch, st, err);
    if (st == OM_OK) {
        om_layer_view(c->scratch, &c->sv);
        size_t f = c->sv.nfeatures - 1;
        *area = has_parts(&c->sv, f) ? om_feature_area_planar(&c->sv, f) : 0.0;
    }
    return st;
}

/* refs = the selected fragments (fragments) or the tiles they come from. */
static enum om_status select_refs(struct call *c, const struct rlayer *l,
                                  const struct evalctx *e, bool fragments,
                                  struct om_error *err)
{
    const struct fraglist *fl = &c->lf[l - c->r->layers];
    c->nrefs = 0;
    for (size_t g = 0; g < e->ng; g++) {
        if (!OM__GROW(c->refs, c->cap_refs,
                      c->nrefs + e->g[g].i1 - e->g[g].i0)) {
            return om__enomem(err, NULL);
        }
        for (size_t i = e->g[g].i0; i < e->g[g].i1; i++) {
            const struct frag *fr = &fl->f[i];
            c->refs[c->nrefs].v = fragments ? frag_view(c, l, fr) : &l->tv;
            c->refs[c->nrefs++].f = fragments ? frag_feature(fr) : fr->tile;
        }
    }
    return OM_OK;
}

/*
 * must_be_within: the parcel outside the selected features (e->ng > 0),
 * into the scratch layer (*sf = its feature, NONE when nothing lies
 * outside). The result is checked against the areas already known:
 * outside = parcel − inside, inside being the sum of the fragments or,
 * when selected features overlap, their union; GEOS is retried against
 * the fragments themselves before giving up (as in ops/overlay.c).
 */
static enum om_status outside_piece(struct call *c, size_t pf,
                                    const struct rlayer *l,
                                    const struct evalctx *e, double whole,
                                    double *out_planar, double *out_ell,
                                    size_t *sf, struct om_error *err)
{
    double in = 0.0;
    *sf = NONE;
    *out_planar = *out_ell = 0.0;
    for (size_t g = 0; g < e->ng; g++) {
        in += e->g[g].planar;
        if (crumb(fabs(whole - e->g[g].planar), whole)) {
            return OM_OK; /* inside one feature */
        }
    }
    struct om__fref self = {&c->pv, pf};
    bool have_union = false;
    double out = 0.0;
    size_t f = NONE;
    for (int attempt = 0; attempt < 2; attempt++) {
        enum om_status st = select_refs(c, l, e, attempt == 1, err);
        if (st == OM_OK) {
            st = om_layer_begin_feature(c->scratch, 0, err);
        }
        if (st == OM_OK) {
            st = om__setops_difference(c->gx, self, c->refs, c->nrefs,
                                       c->scratch, err);
        }
        st = end_piece(c->scratch, st, err);
        if (st != OM_OK) {
            return st;
        }
        om_layer_view(c->scratch, &c->sv);
        f = c->sv.nfeatures - 1;
        out = has_parts(&c->sv, f) ? om_feature_area_planar(&c->sv, f) : 0.0;
        if (!consistent(out, whole - in, whole) && !have_union) {
            /* overlapping selected features: the inside is their union */
            have_union = true;
            st = select_refs(c, l, e, true, err);
            if (st == OM_OK) {
                st = union_area(c, c->refs, c->nrefs, &in, err);
            }
            if (st != OM_OK) {
                return st;
            }
        }
        if (consistent(out, whole - in, whole)) {
            if (crumb(out, whole)) {
                return OM_OK;
            }
            *sf = f;
            *out_planar = out;
            return om_area_feature(c->area, &c->sv, f, NULL, out_ell, err);
        }
    }
    return om__error(err, OM_EGEOM, NULL, 0, c->pv.fid[pf],
                     "site parcel %lld: GEOS gave inconsistent areas outside "
                     "%s (outside %.3f m2 + inside %.3f m2 != %.3f m2); "
                     "check the geometries with onemap info",
                     (long long)c->pv.fid[pf], l->code, out, in, whole);
}

static enum om_status evaluate(struct call *c, struct evalctx *e, size_t pi,
                               size_t k, struct om_review_parcel *P,
                               struct om_review_finding *f,
                               struct om_error *err)
{
    const struct om_review *r = c->r;
    const struct om_check_rule *ck = &r->prof.checks[k];
    const struct rcheck *rc = &r->checks[k];
    struct builder b;
    memset(&b, 0, sizeof b);
    enum om_status st = OM_OK;
    if (!finding_init(r, k, f)) {
        return om__enomem(err, NULL);
    }
    if (f->missing || (ck->kind == OM_CHECK_PURPOSE && (!c->use || !*c->use))) {
        f->not_evaluated = !f->missing;
        decide(ck, f);
        return make_reasons(ck, f, c->use) ? OM_OK : om__enomem(err, NULL);
    }
    const struct rlayer *l = &r->layers[rc->layer];
    const struct fraglist *fl = &c->lf[rc->layer];
    e->ng = 0;
    for (size_t i = 0; i < fl->n;) {
        size_t src = fl->f[i].src, j = i;
        while (j < fl->n && fl->f[j].src == src) {
            j++;
        }
        if (rc->mask[src]) {
            if (!OM__GROW(e->g, e->cap, e->ng + 1)) {
                return om__enomem(err, NULL);
            }
            struct group *g = &e->g[e->ng++];
            g->i0 = i;
            g->i1 = j;
            g->src = src;
            g->planar = g->ell = 0.0;
            for (size_t q = i; q < j; q++) {
                g->planar += fl->f[q].planar;
                g->ell += fl->f[q].ell;
            }
            field_text(l->layer, src, rc->by, g->value, sizeof g->value);
            g->counted =
                ck->kind != OM_CHECK_PURPOSE || !compatible(c->use, g->value);
        }
        i = j;
    }
    struct builder *tot = &c->tot[k];
    double whole = P->planar_m2;
    size_t osf = NONE;
    double oplanar = 0.0, oell = 0.0;
    if (ck->kind == OM_CHECK_MUST_BE_WITHIN) {
        if (e->ng > 0) {
            st = outside_piece(c, pi, l, e, whole, &oplanar, &oell, &osf, err);
        } else {
            /* nothing selected nearby: the whole parcel is outside */
            osf = NONE;
            oplanar = whole;
            oell = P->ellipsoidal_m2;
        }
        bool ok = st != OM_OK || (builder_add(&b, "", -1, oplanar, oell) &&
                                  builder_add(tot, "", -1, oplanar, oell));
        for (size_t g = 0; ok && st == OM_OK && g < e->ng; g++) {
            int64_t fid = l->lv.fid[e->g[g].src];
            ok = push_fid(&b.fids, &b.nfids, &b.capf, fid) &&
                 push_fid(&tot->fids, &tot->nfids, &tot->capf, fid);
        }
        if (!ok) {
            st = om__enomem(err, NULL);
        }
    } else {
        for (size_t g = 0; st == OM_OK && g < e->ng; g++) {
            const struct group *gr = &e->g[g];
            int64_t fid = l->lv.fid[gr->src];
            if (gr->counted &&
                (!builder_add(&b, gr->value, fid, gr->planar, gr->ell) ||
                 !builder_add(tot, gr->value, fid, gr->planar, gr->ell))) {
                st = om__enomem(err, NULL);
            }
        }
    }
    if (st == OM_OK && !builder_finish(&b, rc->table, f)) {
        st = om__enomem(err, NULL);
    }
    builder_deinit(&b);
    if (st != OM_OK) {
        return st;
    }
    f->share = whole > 0.0 ? f->planar_m2 / whole : 0.0;
    decide(ck, f);
    if (!make_reasons(ck, f, c->use)) {
        return om__enomem(err, NULL);
    }
    /* The pieces, now that the finding's decision is known. */
    if (ck->kind == OM_CHECK_MUST_BE_WITHIN) {
        if (!(oplanar > 0.0)) {
            return OM_OK;
        }
        st = om_layer_begin_feature(c->pieces, ++c->next_piece, err);
        if (st == OM_OK) {
            st = osf == NONE ? append_parts(c->pieces, &c->pv, pi, err)
                             : append_parts(c->pieces, &c->sv, osf, err);
        }
        if (st == OM_OK) {
            st = set_piece_attrs(c, pi, f, P->code, -1, "", oplanar, oell, err);
        }
        return end_piece(c->pieces, st, err);
    }
    for (size_t g = 0; st == OM_OK && g < e->ng; g++) {
        if (e->g[g].counted) {
            st = emit_group(c, pi, P, l, &e->g[g], f, err);
        }
    }
    return st;
}

static int cmp_unit(const void *x, const void *y)
{
    return strcmp(((const struct om_review_unit *)x)->code,
                  ((const struct om_review_unit *)y)->code);
}

static enum om_status units_of(struct call *c, struct om_review_parcel *P,
                               struct om_error *err)
{
    const struct om_review *r = c->r;
    P->has_units = r->admin >= 0;
    if (r->admin < 0) {
        return OM_OK;
    }
    const struct rlayer *l = &r->layers[r->admin];
    const struct fraglist *fl = &c->lf[r->admin];
    size_t n = 0;
    for (size_t i = 0; i < fl->n; i++) {
        n += i == 0 || fl->f[i].src != fl->f[i - 1].src;
    }
    if (n) {
        P->units = om__calloc(n, sizeof *P->units);
        if (!P->units) {
            return om__enomem(err, NULL);
        }
    }
    double inside = 0.0;
    for (size_t i = 0; i < fl->n;) {
        size_t src = fl->f[i].src, j = i;
        struct om_review_unit *u = &P->units[P->nunits++];
        while (j < fl->n && fl->f[j].src == src) {
            u->planar_m2 += fl->f[j].planar;
            u->ellipsoidal_m2 += fl->f[j].ell;
            j++;
        }
        inside += u->planar_m2;
        char buf[VALUE_MAX];
        u->code = om__strdup(
            field_text(l->layer, src, r->unit_code_f, buf, sizeof buf));
        u->name = om__strdup(
            field_text(l->layer, src, r->unit_name_f, buf, sizeof buf));
        if (!u->code || !u->name) {
            return om__enomem(err, NULL);
        }
        i = j;
    }
    if (P->nunits > 1) {
        qsort(P->units, P->nunits, sizeof *P->units, cmp_unit);
    }
    double rest = P->planar_m2 - inside;
    P->outside_planar_m2 = crumb(rest, P->planar_m2) ? 0.0 : rest;
    return OM_OK;
}

/* The parcel's land-use code for purpose checks (用地用海), or NULL. */
static const char *ydyh_of(const char *text, char *buf, size_t size)
{
    if (!text || !*text) {
        return NULL;
    }
    if (om_ydyh_check(text, NULL) == OM_CODE_OK) {
        om__strlcpy(buf, text, size);
        return buf;
    }
    for (size_t i = 0; i < om_code_count(OM_CODES_YDYH); i++) {
        const struct om_code *cd = om_code_at(OM_CODES_YDYH, i);
        if (strcmp(cd->name_zh, text) == 0) {
            om__strlcpy(buf, cd->code, size);
            return buf;
        }
    }
    return NULL;
}

static const char *parcel_use(struct call *c, size_t pf, const char *opt_use,
                              char *buf, size_t size)
{
    if (opt_use) {
        return opt_use;
    }
    char v[VALUE_MAX];
    const char *u =
        ydyh_of(field_text(c->site, pf, c->f_dkyt, v, sizeof v), buf, size);
    if (u) {
        return u;
    }
    const char *x =
        om_dlbm_to_ydyh(field_text(c->site, pf, c->f_dlbm, v, sizeof v));
    if (x) {
        om__strlcpy(buf, x, size);
        return buf;
    }
    return NULL;
}

static const char *parcel_label(struct call *c, size_t pf, char *buf,
                                size_t size)
{
    char code[VALUE_MAX];
    field_text(c->site, pf, c->f_dkbh, code, sizeof code);
    if (code[0]) {
        snprintf(buf, size, "site parcel %zu (fid %lld, DKBH %s)", pf + 1,
                 (long long)c->pv.fid[pf], code);
    } else {
        snprintf(buf, size, "site parcel %zu (fid %lld)", pf + 1,
                 (long long)c->pv.fid[pf]);
    }
    return buf;
}

static enum om_status renew_scratch(struct call *c, struct om_error *err)
{
    if (c->scratch && om_layer_nfeatures(c->scratch) <= SCRATCH_MAX) {
        return OM_OK;
    }
    om_layer_free(c->scratch);
    c->scratch = NULL;
    enum om_status st = om_layer_new("fragments", &c->scratch, err);
    if (st == OM_OK) {
        om_layer_view(c->scratch, &c->sv);
    }
    return st;
}

static enum om_status do_parcel(struct call *c, struct evalctx *e, size_t pf,
                                const char *opt_use, struct om_review_parcel *P,
                                struct om_error *err)
{
    const struct om_review *r = c->r;
    char label[320], buf[VALUE_MAX], ubuf[16];
    P->index = pf;
    P->fid = c->pv.fid[pf];
    P->code = om__strdup(field_text(c->site, pf, c->f_dkbh, buf, sizeof buf));
    P->name = om__strdup(field_text(c->site, pf, c->f_dkmc, buf, sizeof buf));
    c->use = parcel_use(c, pf, opt_use, ubuf, sizeof ubuf);
    P->use = c->use ? om__strdup(c->use) : NULL;
    if (!P->code || !P->name || (c->use && !P->use)) {
        return om__enomem(err, NULL);
    }
    c->use = P->use;
    P->nvertices = om_feature_npoints(&c->pv, pf);
    if (!has_parts(&c->pv, pf)) {
        return om__error(err, OM_EGEOM, om_layer_name(c->site), 0, P->fid,
                         "%s is empty",
                         parcel_label(c, pf, label, sizeof label));
    }
    struct om_validity val;
    enum om_status st = om_polyops_check(c->geos, &c->pv, pf, &val, err);
    if (st == OM_OK && !val.is_valid) {
        char where[96] = "";
        if (isfinite(val.x) && isfinite(val.y)) {
            snprintf(where, sizeof where, " at (%.3f, %.3f)", val.x, val.y);
        }
        return om__error(err, OM_EGEOM, om_layer_name(c->site), 0, P->fid,
                         "%s is not a valid polygon: %s%s; repair it (e.g. "
                         "onemap import --repair) and check again",
                         parcel_label(c, pf, label, sizeof label), val.reason,
                         where);
    }
    if (st != OM_OK) {
        return st;
    }
    P->planar_m2 = om_feature_area_planar(&c->pv, pf);
    st = om_area_feature(c->area, &c->pv, pf, NULL, &P->ellipsoidal_m2, err);
    if (st != OM_OK) {
        return st;
    }
    c->parcel_planar = P->planar_m2;
    c->parcel_ell = P->ellipsoidal_m2;
    struct om_prepared *pp = NULL;
    st = renew_scratch(c, err);
    if (st == OM_OK) {
        st = om_polyops_prepare(c->geos, &c->pv, pf, &pp, err);
    }
    for (size_t li = 0; st == OM_OK && li < r->nlayers; li++) {
        st = layer_frags(c, li, pf, pp, err);
    }
    om_prepared_free(c->geos, pp);
    if (st == OM_OK && r->prof.nchecks) {
        P->findings = om__calloc(r->prof.nchecks, sizeof *P->findings);
        if (!P->findings) {
            st = om__enomem(err, NULL);
        }
    }
    for (size_t k = 0; st == OM_OK && k < r->prof.nchecks; k++) {
        P->nfindings = k + 1;
        st = evaluate(c, e, pf, k, P, &P->findings[k], err);
        if (st == OM_OK && P->findings[k].decision > P->decision) {
            P->decision = P->findings[k].decision;
        }
    }
    if (st == OM_OK) {
        st = units_of(c, P, err);
    }
    if (st == OM_OK && P->has_units &&
        P->outside_planar_m2 > r->prof.tolerance_m2 &&
        P->decision < OM_DECISION_CONDITIONAL) {
        P->decision = OM_DECISION_CONDITIONAL;
    }
    if (st != OM_OK && st != OM_ENOMEM && err && err->feature < 0) {
        om__error_prefix(err, "%s", parcel_label(c, pf, label, sizeof label));
        err->feature = P->fid;
    }
    return st;
}

/* ---- the site ---- */

static enum om_status copy_site(const struct om_review *r,
                                const struct om_layer *site,
                                struct om_layer **out, struct om_error *err)
{
    *out = NULL;
    const char *name = om_layer_name(site);
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new(name && *name ? name : "SITE", &l, err);
    size_t nf = om_layer_nfields(site);
    for (size_t i = 0; st == OM_OK && i < nf; i++) {
        st = om_layer_add_field(l, om_layer_field_name(site, (int)i),
                                om_layer_field_type(site, (int)i), NULL, err);
    }
    struct om_layer_view v;
    om_layer_view(site, &v);
    for (size_t rank = 0; st == OM_OK && rank < v.nfeatures; rank++) {
        size_t f = om_layer_feature_by_fid_rank(site, rank);
        st = om_layer_begin_feature(l, v.fid[f], err);
        if (st == OM_OK) {
            st = append_parts(l, &v, f, err);
        }
        for (size_t i = 0; st == OM_OK && i < nf; i++) {
            int fi = (int)i;
            if (om_layer_is_null(site, f, fi)) {
                continue;
            }
            switch (om_layer_field_type(site, fi)) {
            case OM_FIELD_INT:
                st =
                    om_layer_set_int(l, fi, om_layer_get_int(site, f, fi), err);
                break;
            case OM_FIELD_REAL:
                st = om_layer_set_real(l, fi, om_layer_get_real(site, f, fi),
                                       err);
                break;
            default:
                st = om_layer_set_text(l, fi, om_layer_get_text(site, f, fi),
                                       err);
                break;
            }
        }
        if (st == OM_OK) {
            om_layer_set_flags(l, v.flags[f]);
        }
        st = end_piece(l, st, err);
    }
    /* Coordinates a parcel cannot have are named before any transform. */
    struct om_layer_view cv;
    memset(&cv, 0, sizeof cv);
    if (st == OM_OK) {
        om_layer_view(l, &cv);
    }
    for (size_t f = 0; st == OM_OK && f < cv.nfeatures; f++) {
        size_t p0 = cv.part_start[f], p1 = cv.part_start[f + 1];
        if (p1 == p0) {
            continue;
        }
        for (size_t i = cv.point_start[cv.ring_start[p0]];
             i < cv.point_start[cv.ring_start[p1]]; i++) {
            if (!isfinite(cv.xy[2 * i]) || !isfinite(cv.xy[2 * i + 1])) {
                st = om__error(err, OM_EGEOM, name, 0, cv.fid[f],
                               "site parcel %zu (fid %lld) has a non-finite "
                               "coordinate (point %zu)",
                               f + 1, (long long)cv.fid[f],
                               i - cv.point_start[cv.ring_start[p0]] + 1);
                break;
            }
        }
    }
    const char *scrs = om_layer_crs(site);
    if (st == OM_OK && scrs && *scrs && om__strcasecmp(scrs, r->crs_id) != 0) {
        struct om_crs *sc = NULL;
        struct om_transform *t = NULL;
        st = om_crs_new(scrs, &sc, err);
        if (st == OM_OK && !om_crs_equivalent(sc, r->crs)) {
            st = om_transform_new(sc, r->crs, &t, err);
            if (st == OM_OK) {
                st = om_layer_transform(l, t, NULL, err);
            }
        }
        om_transform_free(t);
        om_crs_free(sc);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, r->crs_id, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static enum om_status make_totals(struct call *c, struct om_review_result *res,
                                  struct om_error *err)
{
    const struct om_review *r = c->r;
    size_t n = r->prof.nchecks;
    if (n == 0) {
        return OM_OK;
    }
    res->totals = om__calloc(n, sizeof *res->totals);
    if (!res->totals) {
        return om__enomem(err, NULL);
    }
    /* The site's use when every parcel has the same one. */
    const char *use = res->nparcels ? res->parcels[0].use : NULL;
    for (size_t i = 1; use && i < res->nparcels; i++) {
        if (!res->parcels[i].use || strcmp(res->parcels[i].use, use) != 0) {
            use = NULL;
        }
    }
    for (size_t k = 0; k < n; k++) {
        struct om_review_finding *t = &res->totals[k];
        res->ntotals = k + 1;
        if (!finding_init(r, k, t) ||
            !builder_finish(&c->tot[k], r->checks[k].table, t)) {
            return om__enomem(err, NULL);
        }
        bool below = false;
        for (size_t i = 0; i < res->nparcels; i++) {
            const struct om_review_finding *f = &res->parcels[i].findings[k];
            if (f->decision > t->decision) {
                t->decision = f->decision;
            }
            t->not_evaluated |= f->not_evaluated;
            below |= f->below_tolerance;
        }
        t->below_tolerance = below && t->decision == OM_DECISION_PASS;
        t->share = res->planar_m2 > 0.0 ? t->planar_m2 / res->planar_m2 : 0.0;
        if (!make_reasons(&r->prof.checks[k], t, use)) {
            return om__enomem(err, NULL);
        }
    }
    return OM_OK;
}

static void call_deinit(struct call *c)
{
    const struct om_review *r = c->r;
    om_polyops_free(c->geos);
    om__setops_free(c->gx);
    pool_give(r, c->area);
    om_layer_free(c->scratch);
    om_layer_free(c->pieces);
    if (c->lf) {
        for (size_t i = 0; i < r->nlayers; i++) {
            om__free(c->lf[i].f);
        }
    }
    om__free(c->lf);
    if (c->tot) {
        for (size_t k = 0; k < r->prof.nchecks; k++) {
            builder_deinit(&c->tot[k]);
        }
    }
    om__free(c->tot);
    om__free(c->cand);
    om__free(c->refs);
}

static enum om_status call_init(struct call *c, const struct om_review *r,
                                struct om_error *err)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    enum om_status st = om_polyops_new(&c->geos, err);
    if (st == OM_OK) {
        st = om__setops_new(&c->gx, err);
    }
    c->area = pool_take(r);
    if (st == OM_OK && !c->area) {
        st = om_area_ctx_new(r->crs, &c->area, err);
    }
    if (st == OM_OK) {
        st = om_layer_new("CHECK_PIECES", &c->pieces, err);
    }
    for (int i = 0; st == OM_OK && i < P_NFIELDS; i++) {
        st = om_layer_add_field(c->pieces, piece_fields[i].name,
                                piece_fields[i].type, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(c->pieces, r->crs_id, err);
    }
    if (st == OM_OK) {
        c->lf = om__calloc(r->nlayers + 1, sizeof *c->lf);
        c->tot = om__calloc(r->prof.nchecks + 1, sizeof *c->tot);
        if (!c->lf || !c->tot) {
            st = om__enomem(err, NULL);
        }
    }
    return st;
}

static enum om_status check_use_option(const char *use, char *buf, size_t size,
                                       const char **out, struct om_error *err)
{
    *out = NULL;
    if (!use) {
        return OM_OK;
    }
    const char *u = ydyh_of(use, buf, size);
    if (!u) {
        u = om_dlbm_to_ydyh(use);
    }
    if (!u) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "land use '%s' is not a 用地用海 code or name (e.g. "
                         "0701, 1001) nor a 三调 DLBM code",
                         use);
    }
    *out = u;
    return OM_OK;
}

enum om_status om_review_check(const struct om_review *r,
                               const struct om_layer *site,
                               const struct om_review_site_options *opt,
                               struct om_review_result **out,
                               struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_check: out is NULL");
    }
    *out = NULL;
    if (!r || !site) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_check: NULL review or site");
    }
    const char *sname = om_layer_name(site);
    if (!om_layer_is_finished(site)) {
        return om__error(err, OM_EINVAL, sname, 0, -1,
                         "the site layer must be finished");
    }
    if (om_layer_nfeatures(site) == 0) {
        return om__error(err, OM_EINVAL, sname, 0, -1,
                         "the site %s has no parcels", sname);
    }
    double t0 = now_ms();
    char ubuf[16];
    const char *opt_use = NULL;
    enum om_status st = check_use_option(opt ? opt->use : NULL, ubuf,
                                         sizeof ubuf, &opt_use, err);
    if (st != OM_OK) {
        return st;
    }
    struct result_priv *rp = om__calloc(1, sizeof *rp);
    if (!rp) {
        return om__enomem(err, NULL);
    }
    struct om_review_result *res = &rp->pub;
    struct call c;
    struct evalctx e;
    memset(&e, 0, sizeof e);
    st = call_init(&c, r, err);
    if (st == OM_OK) {
        st = copy_site(r, site, &res->site, err);
    }
    if (st == OM_OK) {
        c.site = res->site;
        om_layer_view(c.site, &c.pv);
        c.f_dkbh = om_layer_field_index(c.site, "DKBH");
        c.f_dkmc = om_layer_field_index(c.site, "DKMC");
        c.f_dkyt = om_layer_field_index(c.site, "DKYT");
        c.f_dlbm = om_layer_field_index(c.site, "DLBM");
        if (!om_rect_is_empty(r->extent) &&
            !om_rect_intersects(om_layer_extent(c.site), r->extent)) {
            struct om_rect x = om_layer_extent(c.site);
            st = om__error(
                err, OM_EINVAL, sname, 0, -1,
                "the site %s (%.1f,%.1f - %.1f,%.1f in %s) does not meet the "
                "project's layers (%.1f,%.1f - %.1f,%.1f): wrong zone or "
                "CRS?",
                sname, x.minx, x.miny, x.maxx, x.maxy, r->crs_id,
                r->extent.minx, r->extent.miny, r->extent.maxx, r->extent.maxy);
        }
    }
    size_t n = c.site ? c.pv.nfeatures : 0;
    if (st == OM_OK) {
        res->parcels = om__calloc(n, sizeof *res->parcels);
        if (!res->parcels) {
            st = om__enomem(err, NULL);
        }
    }
    for (size_t i = 0; st == OM_OK && i < n; i++) {
        res->nparcels = i + 1;
        st = do_parcel(&c, &e, i, opt_use, &res->parcels[i], err);
        if (st == OM_OK) {
            res->planar_m2 += res->parcels[i].planar_m2;
            res->ellipsoidal_m2 += res->parcels[i].ellipsoidal_m2;
            if (res->parcels[i].decision > res->decision) {
                res->decision = res->parcels[i].decision;
            }
        }
    }
    if (st == OM_OK) {
        st = make_totals(&c, res, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(c.pieces, OM_LAYER_KEEP_ORDER, err);
    }
    if (st == OM_OK) {
        res->pieces = c.pieces;
        c.pieces = NULL;
        bool oom = false;
        res->profile = dup_or_null(r->prof.name, &oom);
        res->rules_sha256 = dup_or_null(r->rules_sha256, &oom);
        res->source = dup_or_null(opt ? opt->source : NULL, &oom);
        char hex[65] = "";
        if (opt && opt->source_sha256) {
            snprintf(hex, sizeof hex, "%s", opt->source_sha256);
        } else if (opt && opt->source) {
            struct om_error ignored = {0};
            if (om__sha256_file(opt->source, hex, &ignored) != OM_OK) {
                hex[0] = '\0'; /* not a readable file: unknown */
            }
        }
        res->source_sha256 = dup_or_null(hex, &oom);
        rp->use = dup_or_null(opt_use, &oom);
        if (oom) {
            st = om__enomem(err, NULL);
        }
    }
    om__free(e.g);
    call_deinit(&c);
    if (st != OM_OK) {
        om_review_result_free(res);
        return st;
    }
    res->elapsed_ms = now_ms() - t0;
    *out = res;
    return OM_OK;
}

/* ---- JSON ---- */

/* ,"key": */
static enum om_status jkey(struct om__buf *b, const char *key, bool first)
{
    return om__buf_printf(b, "%s\"%s\":", first ? "" : ",", key);
}

static enum om_status jarea(struct om__buf *b, const char *key, double m2)
{
    enum om_status st = jkey(b, key, false);
    return st == OM_OK ? om__json_num(b, m2, 9) : st;
}

static enum om_status json_finding(struct om__buf *b,
                                   const struct om_review_finding *f)
{
    enum om_status st = om__buf_puts(b, "{");
    if (st == OM_OK) {
        st = jkey(b, "check_id", true);
    }
    if (st == OM_OK) {
        st = om__json_str(b, f->check_id);
    }
    if (st == OM_OK) {
        st = om__buf_printf(
            b, ",\"kind\":\"%s\",\"layer\":", om_check_kind_name(f->kind));
    }
    if (st == OM_OK) {
        st = om__json_str(b, f->layer);
    }
    if (st == OM_OK) {
        st = om__buf_printf(
            b,
            ",\"layer_version\":%d,\"missing\":%s,\"not_evaluated\":%s,"
            "\"decision\":\"%s\"",
            f->layer_version, f->missing ? "true" : "false",
            f->not_evaluated ? "true" : "false", om_decision_name(f->decision));
    }
    if (st == OM_OK) {
        st = jarea(b, "area_m2", f->planar_m2);
    }
    if (st == OM_OK) {
        st = jarea(b, "area_ell_m2", f->ellipsoidal_m2);
    }
    if (st == OM_OK) {
        st = jkey(b, "area_ha", false);
    }
    if (st == OM_OK) {
        st = om__json_num(b, f->planar_m2 / 10000.0, 10);
    }
    if (st == OM_OK) {
        st = jkey(b, "area_mu", false);
    }
    if (st == OM_OK) {
        st = om__json_num(b, f->planar_m2 / M2_PER_MU, 10);
    }
    if (st == OM_OK) {
        st = jkey(b, "share", false);
    }
    if (st == OM_OK) {
        st = om__json_num(b, f->share, 9);
    }
    if (st == OM_OK) {
        st = om__buf_printf(b, ",\"below_tolerance\":%s,\"classes\":[",
                            f->below_tolerance ? "true" : "false");
    }
    for (size_t i = 0; st == OM_OK && i < f->nclasses; i++) {
        const struct om_review_class *c = &f->classes[i];
        st = om__buf_puts(b, i ? ",{\"value\":" : "{\"value\":");
        if (st == OM_OK) {
            st = om__json_str(b, c->value);
        }
        if (st == OM_OK) {
            st = jkey(b, "name_zh", false);
        }
        if (st == OM_OK) {
            st = om__json_str(b, c->name_zh);
        }
        if (st == OM_OK) {
            st = jkey(b, "name_en", false);
        }
        if (st == OM_OK) {
            st = om__json_str(b, c->name_en);
        }
        if (st == OM_OK) {
            st = jarea(b, "area_m2", c->planar_m2);
        }
        if (st == OM_OK) {
            st = jarea(b, "area_ell_m2", c->ellipsoidal_m2);
        }
        if (st == OM_OK) {
            st = om__buf_printf(b, ",\"nfeatures\":%zu}", c->nfeatures);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "],\"fids\":[");
    }
    for (size_t i = 0; st == OM_OK && i < f->nfids; i++) {
        st = om__buf_printf(b, "%s%lld", i ? "," : "", (long long)f->fids[i]);
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "],\"reason_zh\":");
    }
    if (st == OM_OK) {
        st = om__json_str(b, f->reason_zh);
    }
    if (st == OM_OK) {
        st = jkey(b, "reason_en", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, f->reason_en);
    }
    return st == OM_OK ? om__buf_puts(b, "}") : st;
}

static enum om_status json_parcel(struct om__buf *b,
                                  const struct om_review_parcel *p)
{
    enum om_status st = om__buf_printf(
        b, "{\"parcel\":%zu,\"fid\":%lld,\"code\":", p->index + 1,
        (long long)p->fid);
    if (st == OM_OK) {
        st = om__json_str(b, p->code);
    }
    if (st == OM_OK) {
        st = jkey(b, "name", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, p->name);
    }
    if (st == OM_OK) {
        st = jkey(b, "use", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, p->use);
    }
    if (st == OM_OK) {
        st = jarea(b, "area_m2", p->planar_m2);
    }
    if (st == OM_OK) {
        st = jarea(b, "area_ell_m2", p->ellipsoidal_m2);
    }
    if (st == OM_OK) {
        st = om__buf_printf(b, ",\"nvertices\":%zu,\"decision\":\"%s\"",
                            p->nvertices, om_decision_name(p->decision));
    }
    if (st == OM_OK) {
        st = jarea(b, "outside_m2", p->outside_planar_m2);
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, p->has_units ? ",\"units\":[" : ",\"units\":null");
    }
    for (size_t i = 0; st == OM_OK && p->has_units && i < p->nunits; i++) {
        const struct om_review_unit *u = &p->units[i];
        st = om__buf_puts(b, i ? ",{\"code\":" : "{\"code\":");
        if (st == OM_OK) {
            st = om__json_str(b, u->code);
        }
        if (st == OM_OK) {
            st = jkey(b, "name", false);
        }
        if (st == OM_OK) {
            st = om__json_str(b, u->name);
        }
        if (st == OM_OK) {
            st = jarea(b, "area_m2", u->planar_m2);
        }
        if (st == OM_OK) {
            st = jarea(b, "area_ell_m2", u->ellipsoidal_m2);
        }
        if (st == OM_OK) {
            st = om__buf_puts(b, "}");
        }
    }
    if (st == OM_OK && p->has_units) {
        st = om__buf_puts(b, "]");
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, ",\"findings\":[");
    }
    for (size_t i = 0; st == OM_OK && i < p->nfindings; i++) {
        st = i ? om__buf_puts(b, ",") : OM_OK;
        if (st == OM_OK) {
            st = json_finding(b, &p->findings[i]);
        }
    }
    return st == OM_OK ? om__buf_puts(b, "]}") : st;
}

static enum om_status json_result(const struct om_review *r,
                                  const struct om_review_result *res,
                                  struct om__buf *b)
{
    enum om_status st =
        om__buf_printf(b, "{\"onemap\":\"%s\",\"profile\":", om_version());
    if (st == OM_OK) {
        st = om__json_str(b, res->profile);
    }
    if (st == OM_OK) {
        st = jkey(b, "rules_sha256", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, res->rules_sha256);
    }
    if (st == OM_OK) {
        st = jkey(b, "crs", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, r->crs_id);
    }
    if (st == OM_OK) {
        st = jkey(b, "source", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, res->source);
    }
    if (st == OM_OK) {
        st = jkey(b, "source_sha256", false);
    }
    if (st == OM_OK) {
        st = om__json_str(b, res->source_sha256);
    }
    if (st == OM_OK) {
        st = om__buf_printf(b, ",\"decision\":\"%s\"",
                            om_decision_name(res->decision));
    }
    if (st == OM_OK) {
        st = jarea(b, "area_m2", res->planar_m2);
    }
    if (st == OM_OK) {
        st = jarea(b, "area_ell_m2", res->ellipsoidal_m2);
    }
    if (st == OM_OK) {
        st = res->run_id > 0
                 ? om__buf_printf(b, ",\"run_id\":%lld", (long long)res->run_id)
                 : om__buf_puts(b, ",\"run_id\":null");
    }
    if (st == OM_OK) {
        st = jkey(b, "elapsed_ms", false);
    }
    if (st == OM_OK) {
        st = om__json_num(b, res->elapsed_ms, 3);
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, ",\"inputs\":[");
    }
    for (size_t i = 0; st == OM_OK && i < r->nlayers; i++) {
        st = om__buf_puts(b, i ? ",{\"code\":" : "{\"code\":");
        if (st == OM_OK) {
            st = om__json_str(b, r->layers[i].code);
        }
        if (st == OM_OK) {
            st = om__buf_printf(
                b, ",\"version\":%d,\"sha256\":", r->layers[i].pub.version);
        }
        if (st == OM_OK) {
            st = om__json_str(b, r->layers[i].sha256);
        }
        if (st == OM_OK) {
            st = om__buf_puts(b, "}");
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "],\"parcels\":[");
    }
    for (size_t i = 0; st == OM_OK && i < res->nparcels; i++) {
        st = i ? om__buf_puts(b, ",") : OM_OK;
        if (st == OM_OK) {
            st = json_parcel(b, &res->parcels[i]);
        }
    }
    if (st == OM_OK) {
        st = om__buf_puts(b, "],\"totals\":[");
    }
    for (size_t i = 0; st == OM_OK && i < res->ntotals; i++) {
        st = i ? om__buf_puts(b, ",") : OM_OK;
        if (st == OM_OK) {
            st = json_finding(b, &res->totals[i]);
        }
    }
    return st == OM_OK ? om__buf_puts(b, "]}") : st;
}

enum om_status om_review_result_json(const struct om_review *r,
                                     const struct om_review_result *res,
                                     char **out, size_t *len,
                                     struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_result_json: out is NULL");
    }
    *out = NULL;
    if (len) {
        *len = 0;
    }
    if (!r || !res) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_result_json: NULL review or result");
    }
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = json_result(r, res, &b);
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return st == OM_ENOMEM
                   ? om__enomem(err, NULL)
                   : om__error(err, st, NULL, 0, -1, "review JSON too large");
    }
    size_t n = b.len;
    *out = om__buf_take(&b);
    if (!*out) {
        return om__enomem(err, NULL);
    }
    if (len) {
        *len = n;
    }
    return OM_OK;
}

void om_review_free_string(char *s)
{
    om__free(s);
}

/* ---- store ---- */

static enum om_status sites_layer(const struct om_review_result *res,
                                  const char *crs, struct om_layer **out,
                                  struct om_error *err)
{
    static const struct {
        const char *name;
        enum om_field_type type;
    } fl[] = {{"parcel", OM_FIELD_INT},      {"code", OM_FIELD_TEXT},
              {"name", OM_FIELD_TEXT},       {"use", OM_FIELD_TEXT},
              {"decision", OM_FIELD_TEXT},   {"area_m2", OM_FIELD_REAL},
              {"area_ell_m2", OM_FIELD_REAL}};
    struct om_layer *l = NULL;
    enum om_status st = om_layer_new("CHECK_SITES", &l, err);
    for (size_t i = 0; st == OM_OK && i < sizeof fl / sizeof *fl; i++) {
        st = om_layer_add_field(l, fl[i].name, fl[i].type, NULL, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, crs, err);
    }
    struct om_layer_view v;
    om_layer_view(res->site, &v);
    for (size_t i = 0; st == OM_OK && i < res->nparcels; i++) {
        const struct om_review_parcel *p = &res->parcels[i];
        st = om_layer_begin_feature(l, (int64_t)i + 1, err);
        if (st == OM_OK) {
            st = append_parts(l, &v, p->index, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_int(l, 0, (int64_t)i + 1, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, 1, p->code, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, 2, p->name, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, 3, p->use, err);
        }
        if (st == OM_OK) {
            st = om_layer_set_text(l, 4, om_decision_name(p->decision), err);
        }
        if (st == OM_OK) {
            st = om_layer_set_real(l, 5, p->planar_m2, err);
        }
        if (st == OM_OK && isfinite(p->ellipsoidal_m2)) {
            st = om_layer_set_real(l, 6, p->ellipsoidal_m2, err);
        }
        st = end_piece(l, st, err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

enum { NCOLS = 13 };

/* "0101 水田 12.50; 0103 旱地 3.25" (m²) */
static char *classes_text(const struct om_review_finding *f)
{
    struct om__buf b;
    om__buf_init(&b, 1 << 20);
    enum om_status st = om__buf_puts(&b, "");
    for (size_t i = 0; st == OM_OK && i < f->nclasses; i++) {
        const struct om_review_class *c = &f->classes[i];
        st = om__buf_printf(&b, "%s%s%s%s %.2f", i ? "; " : "",
                            c->value[0] ? c->value : "-", c->name_zh ? " " : "",
                            c->name_zh ? c->name_zh : "", c->planar_m2);
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return NULL;
    }
    return om__buf_take(&b);
}

static enum om_status findings_table(struct om_run *run,
                                     const struct om_review_result *res,
                                     struct om_error *err)
{
    static const char *cols[NCOLS] = {
        "parcel",        "code",      "check_id", "kind",        "layer",
        "layer_version", "decision",  "area_m2",  "area_ell_m2", "share",
        "classes",       "reason_zh", "reason_en"};
    size_t nrows = 0;
    for (size_t i = 0; i < res->nparcels; i++) {
        nrows += res->parcels[i].nfindings;
    }
    const char **cells = om__calloc(nrows * NCOLS + 1, sizeof *cells);
    char(*nums)[6][40] = om__calloc(nrows + 1, sizeof *nums);
    char **cls = om__calloc(nrows + 1, sizeof *cls);
    enum om_status st = OM_OK;
    if (!cells || !nums || !cls) {
        st = om__enomem(err, NULL);
    }
    size_t row = 0;
    for (size_t i = 0; st == OM_OK && i < res->nparcels; i++) {
        const struct om_review_parcel *p = &res->parcels[i];
        for (size_t k = 0; st == OM_OK && k < p->nfindings; k++, row++) {
            const struct om_review_finding *f = &p->findings[k];
            cls[row] = classes_text(f);
            if (!cls[row]) {
                st = om__enomem(err, NULL);
                break;
            }
            snprintf(nums[row][0], 40, "%zu", i + 1);
            snprintf(nums[row][1], 40, "%d", f->layer_version);
            snprintf(nums[row][2], 40, "%.6f", f->planar_m2);
            snprintf(nums[row][3], 40, "%.6f", f->ellipsoidal_m2);
            snprintf(nums[row][4], 40, "%.9f", f->share);
            const char **c = cells + row * NCOLS;
            c[0] = nums[row][0];
            c[1] = p->code;
            c[2] = f->check_id;
            c[3] = om_check_kind_name(f->kind);
            c[4] = f->layer;
            c[5] = nums[row][1];
            c[6] = om_decision_name(f->decision);
            c[7] = nums[row][2];
            c[8] = isfinite(f->ellipsoidal_m2) ? nums[row][3] : NULL;
            c[9] = nums[row][4];
            c[10] = cls[row];
            c[11] = f->reason_zh;
            c[12] = f->reason_en;
        }
    }
    if (st == OM_OK) {
        st = om_run_write_table(run, "CHECK_FINDINGS", cols, NCOLS,
                                (const char *const *)cells, nrows, err);
    }
    for (size_t i = 0; cls && i < nrows; i++) {
        om__free(cls[i]);
    }
    om__free(cls);
    om__free(nums);
    om__free(cells);
    return st;
}

enum om_status om_review_store(const struct om_review *r, struct om_project *p,
                               struct om_review_result *res,
                               struct om_error *err)
{
    if (!r || !p || !res) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_store: NULL review, project or result");
    }
    const struct result_priv *rp = (const struct result_priv *)res;
    struct om__buf pb;
    om__buf_init(&pb, 1 << 20);
    enum om_status st = om__buf_puts(&pb, "{\"profile\":");
    if (st == OM_OK) {
        st = om__json_str(&pb, res->profile);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&pb, ",\"source\":");
    }
    if (st == OM_OK) {
        st = om__json_str(&pb, res->source);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&pb, ",\"source_sha256\":");
    }
    if (st == OM_OK) {
        st = om__json_str(&pb, res->source_sha256);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&pb, ",\"use\":");
    }
    if (st == OM_OK) {
        st = om__json_str(&pb, rp->use);
    }
    if (st == OM_OK) {
        st = om__buf_puts(&pb, "}");
    }
    struct om_run_input *in = om__calloc(r->nlayers + 1, sizeof *in);
    struct om_layer *sites = NULL;
    if (st != OM_OK || !in) {
        om__buf_deinit(&pb);
        om__free(in);
        return om__enomem(err, NULL);
    }
    for (size_t i = 0; i < r->nlayers; i++) {
        in[i].code = r->layers[i].code;
        in[i].version = r->layers[i].pub.version;
        in[i].sha256 = r->layers[i].sha256;
    }
    st = sites_layer(res, r->crs_id, &sites, err);
    struct om_run *run = NULL;
    if (st == OM_OK) {
        struct om_run_begin b;
        memset(&b, 0, sizeof b);
        b.kind = "check";
        b.params_json = pb.data;
        b.rules_source = r->rules_source;
        b.rules_sha256 = r->rules_sha256;
        b.inputs = in;
        b.ninputs = r->nlayers;
        st = om_run_begin(p, &b, &run, err);
    }
    om__buf_deinit(&pb);
    om__free(in);
    if (st == OM_OK) {
        st = om_run_write_layer(run, "CHECK_SITES", sites, NULL, err);
    }
    om_layer_free(sites);
    if (st == OM_OK) {
        st = om_run_write_layer(run, "CHECK_PIECES", res->pieces, NULL, err);
    }
    if (st == OM_OK) {
        st = findings_table(run, res, err);
    }
    char *summary = NULL;
    if (st == OM_OK) {
        res->run_id = om_run_id(run);
        st = om_review_result_json(r, res, &summary, NULL, err);
    }
    if (st == OM_OK) {
        st = om_run_commit(run, summary, err);
        run = NULL;
    }
    om__free(summary);
    if (run) {
        om_run_abort(run);
    }
    if (st != OM_OK) {
        res->run_id = 0;
    }
    return st;
}

/* ---- reading a stored review back ----
 *
 * The stored params, inputs and summary are JSON written by this module
 * and the store; a small DOM parser (arena-allocated) reads them back
 * rather than a JSON library: onemap has none, and SQLite's JSON
 * functions belong to the store bridge.
 */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
    enum jtype t;
    bool b;
    double num;
    char *s;   /* J_STR */
    char *key; /* member name inside an object */
    struct jv *kid, *next;
    size_t n; /* J_ARR / J_OBJ: members */
};

struct jparse {
    const char *p, *end;
    struct om__arena *a;
    int depth;
    bool oom;
};

enum { JSON_DEPTH_MAX = 64 };

static void jws(struct jparse *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) {
        j->p++;
    }
}

static void utf8_put(char **o, unsigned long c)
{
    char *q = *o;
    if (c < 0x80) {
        *q++ = (char)c;
    } else if (c < 0x800) {
        *q++ = (char)(0xC0 | (c >> 6));
        *q++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *q++ = (char)(0xE0 | (c >> 12));
        *q++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (char)(0x80 | (c & 0x3F));
    } else {
        *q++ = (char)(0xF0 | (c >> 18));
        *q++ = (char)(0x80 | ((c >> 12) & 0x3F));
        *q++ = (char)(0x80 | ((c >> 6) & 0x3F));
        *q++ = (char)(0x80 | (c & 0x3F));
    }
    *o = q;
}

static bool hex4(const char *p, const char *end, unsigned long *out)
{
    if (end - p < 4) {
        return false;
    }
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) {
            return false;
        }
        v = v * 16 + (unsigned long)d;
    }
    *out = v;
    return true;
}

/* A string at j->p (on the opening quote); NULL on error. */
static char *jstring(struct jparse *j)
{
    const char *s = ++j->p;
    while (j->p < j->end && *j->p != '"') {
        j->p += *j->p == '\\' ? 2 : 1;
    }
    if (j->p >= j->end) {
        return NULL;
    }
    /* escapes never grow the text (\uXXXX: 6 bytes -> at most 4) */
    char *out = om__arena_alloc(j->a, (size_t)(j->p - s) + 1);
    if (!out) {
        j->oom = true;
        return NULL;
    }
    char *o = out;
    for (const char *q = s; q < j->p;) {
        if (*q != '\\') {
            *o++ = *q++;
            continue;
        }
        char c = q[1];
        q += 2;
        switch (c) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned long c1 = 0, c2 = 0;
            if (!hex4(q, j->p, &c1)) {
                return NULL;
            }
            q += 4;
            if (c1 >= 0xD800 && c1 < 0xDC00 && j->p - q >= 6 && q[0] == '\\' &&
                q[1] == 'u' && hex4(q + 2, j->p, &c2) && c2 >= 0xDC00 &&
                c2 < 0xE000) {
                c1 = 0x10000 + ((c1 - 0xD800) << 10) + (c2 - 0xDC00);
                q += 6;
            }
            utf8_put(&o, c1);
            break;
        }
        default:
            *o++ = c; /* \" \\ \/ */
            break;
        }
    }
    *o = '\0';
    j->p++;
    return out;
}

static struct jv *jvalue(struct jparse *j);

static struct jv *jnew(struct jparse *j, enum jtype t)
{
    struct jv *v = om__arena_alloc(j->a, sizeof *v);
    if (!v) {
        j->oom = true;
        return NULL;
    }
    memset(v, 0, sizeof *v);
    v->t = t;
    return v;
}

/* The members of an array or object (j->p after the opening bracket). */
static struct jv *jmembers(struct jparse *j, struct jv *v, char close)
{
    struct jv **tail = &v->kid;
    jws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        jws(j);
        if (v->t == J_OBJ) {
            if (j->p >= j->end || *j->p != '"' || !(key = jstring(j))) {
                return NULL;
            }
            jws(j);
            if (j->p >= j->end || *j->p != ':') {
                return NULL;
            }
            j->p++;
        }
        struct jv *m = jvalue(j);
        if (!m) {
            return NULL;
        }
        m->key = key;
        *tail = m;
        tail = &m->next;
        v->n++;
        jws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return v;
        }
        return NULL;
    }
}

static struct jv *jvalue(struct jparse *j)
{
    jws(j);
    if (j->p >= j->end || ++j->depth > JSON_DEPTH_MAX) {
        return NULL;
    }
    struct jv *v = NULL;
    char c = *j->p;
    if (c == '{' || c == '[') {
        j->p++;
        v = jnew(j, c == '{' ? J_OBJ : J_ARR);
        v = v ? jmembers(j, v, c == '{' ? '}' : ']') : NULL;
    } else if (c == '"') {
        v = jnew(j, J_STR);
        if (v && !(v->s = jstring(j))) {
            v = NULL;
        }
    } else if (strncmp(j->p, "null", 4) == 0 && j->end - j->p >= 4) {
        j->p += 4;
        v = jnew(j, J_NULL);
    } else if (strncmp(j->p, "true", 4) == 0 && j->end - j->p >= 4) {
        j->p += 4;
        if ((v = jnew(j, J_BOOL)) != NULL) {
            v->b = true;
        }
    } else if (strncmp(j->p, "false", 5) == 0 && j->end - j->p >= 5) {
        j->p += 5;
        v = jnew(j, J_BOOL);
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        char *e = NULL;
        double x = strtod(j->p, &e);
        if (e == j->p || e > j->end) {
            return NULL;
        }
        j->p = e;
        if ((v = jnew(j, J_NUM)) != NULL) {
            v->num = x;
        }
    }
    j->depth--;
    return v;
}

/* Parse NUL-terminated `text` into `a`; NULL when not JSON (or OOM). */
static struct jv *json_parse(struct om__arena *a, const char *text, bool *oom)
{
    struct jparse j = {text, text + strlen(text), a, 0, false};
    struct jv *v = jvalue(&j);
    jws(&j);
    *oom = j.oom;
    return v && j.p == j.end ? v : NULL;
}

static const struct jv *jget(const struct jv *o, const char *key)
{
    if (!o || o->t != J_OBJ) {
        return NULL;
    }
    for (const struct jv *m = o->kid; m; m = m->next) {
        if (strcmp(m->key, key) == 0) {
            return m;
        }
    }
    return NULL;
}

static const struct jv *jat(const struct jv *a, size_t i)
{
    if (!a || a->t != J_ARR) {
        return NULL;
    }
    const struct jv *m = a->kid;
    for (; m && i > 0; i--) {
        m = m->next;
    }
    return m;
}

/* String member, NULL when absent or not a string. */
static const char *jgets(const struct jv *o, const char *key)
{
    const struct jv *v = jget(o, key);
    return v && v->t == J_STR ? v->s : NULL;
}

/* Number member; NaN when absent, null or not a number. */
static double jgetn(const struct jv *o, const char *key)
{
    const struct jv *v = jget(o, key);
    return v && v->t == J_NUM ? v->num : NAN;
}

static bool jgetb(const struct jv *o, const char *key)
{
    const struct jv *v = jget(o, key);
    return v && v->t == J_BOOL && v->b;
}

/* A record with its parsed summary. */
struct record_priv {
    struct om_review_record pub;
    struct om__arena arena;
    const struct jv *summary; /* parsed pub.summary */
};

void om_review_record_free(struct om_review_record *rec)
{
    if (!rec) {
        return;
    }
    struct record_priv *rp = (struct record_priv *)rec;
    om__free(rec->profile);
    om__free(rec->source);
    om__free(rec->source_sha256);
    om__free(rec->use);
    om__free(rec->rules_source);
    for (size_t i = 0; i < rec->npins; i++) {
        om__free((char *)rec->pins[i].code);
    }
    om__free(rec->pins);
    om_layer_free(rec->site);
    om__free(rec->summary);
    om__arena_deinit(&rp->arena);
    om__free(rp);
}

/* The run record of `run_id`, which must be a check run. */
static enum om_status find_run(struct om_project *p, int64_t run_id,
                               struct om_run_record **runs, size_t *nruns,
                               struct om_run_record **out, struct om_error *err)
{
    *out = NULL;
    enum om_status st = om_project_runs(p, NULL, runs, nruns, err);
    if (st != OM_OK) {
        return st;
    }
    char list[200] = "";
    size_t n = 0;
    for (size_t i = 0; i < *nruns; i++) {
        struct om_run_record *r = &(*runs)[i];
        if (r->id == run_id) {
            if (strcmp(r->kind, "check") != 0) {
                return om__error(err, OM_EINVAL, om_project_path(p), 0, -1,
                                 "run %lld is a %s run, not a review (check) "
                                 "run",
                                 (long long)run_id, r->kind);
            }
            *out = r;
            return OM_OK;
        }
        if (strcmp(r->kind, "check") == 0 && n < sizeof list) {
            n += (size_t)snprintf(list + n, sizeof list - n, "%s%lld",
                                  n ? ", " : "", (long long)r->id);
        }
    }
    return om__error(err, OM_ENOTFOUND, om_project_path(p), 0, -1,
                     "no run %lld in the project (review runs: %s)",
                     (long long)run_id, n ? list : "none");
}

static enum om_status record_pins(struct om_review_record *rec,
                                  const char *inputs, struct om__arena *a,
                                  const char *path, struct om_error *err)
{
    bool oom = false;
    const struct jv *in = json_parse(a, inputs ? inputs : "[]", &oom);
    if (oom) {
        return om__enomem(err, path);
    }
    if (!in || in->t != J_ARR) {
        return om__error(err, OM_ESTORE, path, 0, -1,
                         "run %lld: its inputs are not a JSON array",
                         (long long)rec->run_id);
    }
    rec->pins = om__calloc(in->n + 1, sizeof *rec->pins);
    if (!rec->pins) {
        return om__enomem(err, path);
    }
    for (const struct jv *m = in->kid; m; m = m->next) {
        const char *code = jgets(m, "code");
        double v = jgetn(m, "version");
        if (!code || !(v >= 1 && v <= 1e9)) {
            return om__error(err, OM_ESTORE, path, 0, -1,
                             "run %lld: input %zu has no code or version",
                             (long long)rec->run_id, rec->npins + 1);
        }
        char *c = om__strdup(code);
        if (!c) {
            return om__enomem(err, path);
        }
        rec->pins[rec->npins].code = c;
        rec->pins[rec->npins].version = (int)v;
        rec->npins++;
    }
    return OM_OK;
}

/* The site from CHECK_SITES_r<N>: DKBH, DKMC, DKYT and the original fids
 * (the stored result's parcels, in parcel order). */
static enum om_status record_site(struct om_project *p,
                                  struct om_review_record *rec,
                                  const struct jv *summary,
                                  struct om_error *err)
{
    char table[64];
    snprintf(table, sizeof table, "CHECK_SITES_r%lld", (long long)rec->run_id);
    struct om_layer *cs = NULL;
    enum om_status st = om_project_read_result(p, table, &cs, NULL, err);
    if (st != OM_OK) {
        return st == OM_ENOTFOUND ? OM_ESTORE : st;
    }
    int f_code = om_layer_field_index(cs, "code");
    int f_name = om_layer_field_index(cs, "name");
    int f_use = om_layer_field_index(cs, "use");
    const struct jv *parcels = jget(summary, "parcels");
    size_t n = om_layer_nfeatures(cs);
    if (f_code < 0 || f_name < 0 || f_use < 0 || n == 0 || !parcels ||
        parcels->t != J_ARR || parcels->n != n) {
        om_layer_free(cs);
        return om__error(err, OM_ESTORE, om_project_path(p), 0, -1,
                         "%s does not match the stored result of run %lld "
                         "(fields code, name, use; one feature per parcel)",
                         table, (long long)rec->run_id);
    }
    const char *base = rec->source ? strrchr(rec->source, '/') : NULL;
    base = base ? base + 1 : rec->source;
    struct om_layer *l = NULL;
    st = om_layer_new(base && *base ? base : table, &l, err);
    static const char *fields[] = {"DKBH", "DKMC", "DKYT"};
    for (size_t i = 0; st == OM_OK && i < 3; i++) {
        st = om_layer_add_field(l, fields[i], OM_FIELD_TEXT, NULL, err);
    }
    struct om_layer_view v;
    om_layer_view(cs, &v);
    const int src[3] = {f_code, f_name, f_use};
    const struct jv *pj = parcels->kid;
    for (size_t i = 0; st == OM_OK && i < n; i++, pj = pj->next) {
        double fid = jgetn(pj, "fid");
        st = om_layer_begin_feature(
            l, isfinite(fid) ? (int64_t)fid : (int64_t)i + 1, err);
        if (st == OM_OK) {
            st = append_parts(l, &v, i, err);
        }
        for (int k = 0; st == OM_OK && k < 3; k++) {
            const char *t = om_layer_is_null(cs, i, src[k])
                                ? NULL
                                : om_layer_get_text(cs, i, src[k]);
            if (t && (k < 2 || *t)) {
                st = om_layer_set_text(l, k, t, err);
            }
        }
        st = end_piece(l, st, err);
    }
    if (st == OM_OK) {
        st = om_layer_set_crs(l, om_layer_crs(cs), err);
    }
    if (st == OM_OK) {
        st = om_layer_finish(l, OM_LAYER_KEEP_ORDER, err);
    }
    om_layer_free(cs);
    if (st != OM_OK) {
        om_layer_free(l);
        return st;
    }
    rec->site = l;
    return OM_OK;
}

static enum om_status record_fill(struct om_project *p, struct record_priv *rp,
                                  const struct om_run_record *run,
                                  struct om_error *err)
{
    struct om_review_record *rec = &rp->pub;
    const char *path = om_project_path(p);
    rec->run_id = run->id;
    om__strlcpy(rec->started_at, run->started_at, sizeof rec->started_at);
    om__strlcpy(rec->rules_sha256, run->rules_sha256, sizeof rec->rules_sha256);
    bool oom = false;
    const struct jv *params =
        json_parse(&rp->arena, run->params ? run->params : "null", &oom);
    const struct jv *summary =
        run->summary ? json_parse(&rp->arena, run->summary, &oom) : NULL;
    if (oom) {
        return om__enomem(err, path);
    }
    const char *profile = jgets(params, "profile");
    if (!profile || !summary || summary->t != J_OBJ) {
        return om__error(
            err, OM_ESTORE, path, 0, -1,
            "run %lld is an incomplete review record (%s)", (long long)run->id,
            !profile ? "no profile in its params" : "no stored result");
    }
    rp->summary = summary;
    rec->profile = dup_or_null(profile, &oom);
    rec->source = dup_or_null(jgets(params, "source"), &oom);
    const char *ssha = jgets(params, "source_sha256");
    rec->source_sha256 = dup_or_null(ssha ? ssha : "", &oom);
    rec->use = dup_or_null(jgets(params, "use"), &oom);
    rec->rules_source = dup_or_null(run->rules_source, &oom);
    rec->summary = dup_or_null(run->summary, &oom);
    if (oom) {
        return om__enomem(err, path);
    }
    enum om_status st = record_pins(rec, run->inputs, &rp->arena, path, err);
    if (st == OM_OK) {
        st = record_site(p, rec, summary, err);
    }
    return st;
}

enum om_status om_review_record_read(struct om_project *p, int64_t run_id,
                                     struct om_review_record **out,
                                     struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_record_read: out is NULL");
    }
    *out = NULL;
    if (!p) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_record_read: NULL project");
    }
    struct om_run_record *runs = NULL, *run = NULL;
    size_t nruns = 0;
    enum om_status st = find_run(p, run_id, &runs, &nruns, &run, err);
    struct record_priv *rp = NULL;
    if (st == OM_OK) {
        rp = om__calloc(1, sizeof *rp);
        if (!rp) {
            st = om__enomem(err, NULL);
        }
    }
    if (st == OM_OK) {
        om__arena_init(&rp->arena);
        st = record_fill(p, rp, run, err);
    }
    om_run_records_free(runs, nruns);
    if (st != OM_OK) {
        om_review_record_free(rp ? &rp->pub : NULL);
        return st;
    }
    *out = &rp->pub;
    return OM_OK;
}

enum om_status
om_review_rerun(struct om_project *p, const struct om_review_record *rec,
                const struct om_rules *rules, bool current,
                struct om_review **review, struct om_review_result **result,
                const struct om_progress *progress, struct om_error *err)
{
    if (!review || !result) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_rerun: NULL output");
    }
    *review = NULL;
    *result = NULL;
    if (!p || !rec || !rules) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_rerun: NULL project, record or rules");
    }
    if (!current && strcmp(rules->sha256, rec->rules_sha256) != 0) {
        return om__error(
            err, OM_EINVAL, rules->source, 0, -1,
            "run %lld was decided under other rules: %s (sha256 %s), not "
            "%s (sha256 %s); give the rules it used (--rules FILE)",
            (long long)rec->run_id,
            rec->rules_source ? rec->rules_source : "(unknown)",
            rec->rules_sha256[0] ? rec->rules_sha256 : "unknown",
            rules->source ? rules->source : "(buffer)", rules->sha256);
    }
    struct om_review *r = NULL;
    enum om_status st =
        current ? om_review_open(p, rules, rec->profile, &r, progress, err)
                : om_review_open_pinned(p, rules, rec->profile, rec->pins,
                                        rec->npins, true, &r, progress, err);
    if (st != OM_OK) {
        om__error_prefix(err, "rerun of run %lld", (long long)rec->run_id);
        return st;
    }
    struct om_review_site_options o;
    memset(&o, 0, sizeof o);
    o.use = rec->use;
    o.source = rec->source;
    o.source_sha256 = rec->source_sha256 ? rec->source_sha256 : "";
    st = om_review_check(r, rec->site, &o, result, err);
    if (st != OM_OK) {
        om_review_free(r);
        return st;
    }
    *review = r;
    return OM_OK;
}

/* ---- comparing with the stored result ---- */

struct cmp {
    struct om__buf b;
    size_t n;
    char where[200]; /* "parcel 1 (J1) C001" */
    bool line_open;
    enum om_status st;
};

/* Begin (or continue) the difference line of the current `where`. */
static void diff_add(struct cmp *c, const char *fmt, ...) OM__PRINTF(2, 3);
static void diff_add(struct cmp *c, const char *fmt, ...)
{
    if (c->st != OM_OK) {
        return;
    }
    if (!c->line_open) {
        c->st = om__buf_printf(&c->b, "%s%s: ", c->n ? "\n" : "", c->where);
        c->n++;
        c->line_open = true;
    } else {
        c->st = om__buf_puts(&c->b, "; ");
    }
    char tmp[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (c->st == OM_OK) {
        c->st = om__buf_puts(&c->b, tmp);
    }
}

static void diff_where(struct cmp *c, const char *fmt, ...) OM__PRINTF(2, 3);
static void diff_where(struct cmp *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->where, sizeof c->where, fmt, ap);
    va_end(ap);
    c->line_open = false;
}

static bool same_area(double a, double b)
{
    if (!isfinite(a) || !isfinite(b)) {
        return isfinite(a) == isfinite(b);
    }
    return fabs(a - b) <= 1e-6 + 1e-9 * fmax(fabs(a), fabs(b));
}

static void cmp_area(struct cmp *c, const char *key, double stored, double now)
{
    if (!same_area(stored, now)) {
        diff_add(c, "%s %.6f -> %.6f", key, stored, now);
    }
}

static void cmp_text(struct cmp *c, const char *key, const char *stored,
                     const char *now)
{
    const char *a = stored ? stored : "", *b = now ? now : "";
    if (strcmp(a, b) != 0) {
        diff_add(c, "%s %s -> %s", key, a[0] ? a : "-", b[0] ? b : "-");
    }
}

static void cmp_classes(struct cmp *c, const struct jv *sf,
                        const struct om_review_finding *f)
{
    const struct jv *cls = jget(sf, "classes");
    size_t ns = cls && cls->t == J_ARR ? cls->n : 0;
    const char *v0 = ns ? jgets(cls->kid, "value") : "";
    if (ns <= 1 && f->nclasses <= 1 && (!v0 || !v0[0]) &&
        (f->nclasses == 0 || !f->classes[0].value[0])) {
        return; /* no `by`: the one class is the finding's area */
    }
    for (const struct jv *m = ns ? cls->kid : NULL; m; m = m->next) {
        const char *v = jgets(m, "value");
        v = v ? v : "";
        double now = 0.0;
        for (size_t i = 0; i < f->nclasses; i++) {
            if (strcmp(f->classes[i].value, v) == 0) {
                now = f->classes[i].planar_m2;
            }
        }
        if (!same_area(jgetn(m, "area_m2"), now)) {
            diff_add(c, "class %s %.6f -> %.6f", v[0] ? v : "-",
                     jgetn(m, "area_m2"), now);
        }
    }
    for (size_t i = 0; i < f->nclasses; i++) {
        bool seen = false;
        for (const struct jv *m = ns ? cls->kid : NULL; m && !seen;
             m = m->next) {
            const char *v = jgets(m, "value");
            seen = strcmp(v ? v : "", f->classes[i].value) == 0;
        }
        if (!seen && !same_area(0.0, f->classes[i].planar_m2)) {
            diff_add(c, "class %s %.6f -> %.6f",
                     f->classes[i].value[0] ? f->classes[i].value : "-", 0.0,
                     f->classes[i].planar_m2);
        }
    }
}

static void cmp_findings(struct cmp *c, const char *prefix,
                         const struct jv *stored,
                         const struct om_review_finding *fs, size_t nf)
{
    size_t ns = stored && stored->t == J_ARR ? stored->n : 0;
    for (size_t k = 0; k < nf; k++) {
        const struct om_review_finding *f = &fs[k];
        const struct jv *sf = NULL;
        for (const struct jv *m = ns ? stored->kid : NULL; m && !sf;
             m = m->next) {
            const char *id = jgets(m, "check_id");
            sf = id && strcmp(id, f->check_id) == 0 ? m : NULL;
        }
        diff_where(c, "%s%s", prefix, f->check_id);
        if (!sf) {
            diff_add(c, "not in the stored result (now %s)",
                     om_decision_name(f->decision));
            continue;
        }
        cmp_text(c, "decision", jgets(sf, "decision"),
                 om_decision_name(f->decision));
        if (jgetb(sf, "missing") != f->missing) {
            diff_add(c, "layer %s %s -> %s", f->layer,
                     f->missing ? "present" : "missing",
                     f->missing ? "missing" : "present");
        }
        cmp_area(c, "area_m2", jgetn(sf, "area_m2"), f->planar_m2);
        cmp_area(c, "area_ell_m2", jgetn(sf, "area_ell_m2"), f->ellipsoidal_m2);
        cmp_classes(c, sf, f);
    }
    for (const struct jv *m = ns ? stored->kid : NULL; m; m = m->next) {
        const char *id = jgets(m, "check_id");
        bool seen = false;
        for (size_t k = 0; k < nf && id && !seen; k++) {
            seen = strcmp(fs[k].check_id, id) == 0;
        }
        if (!seen) {
            diff_where(c, "%s%s", prefix, id ? id : "?");
            diff_add(c, "stored %s, not checked now",
                     jgets(m, "decision") ? jgets(m, "decision") : "?");
        }
    }
}

static void cmp_inputs(struct cmp *c, const struct jv *stored,
                       const struct om_review *r)
{
    size_t ns = stored && stored->t == J_ARR ? stored->n : 0;
    for (size_t i = 0; i < r->nlayers; i++) {
        const struct jv *sm = NULL;
        for (const struct jv *m = ns ? stored->kid : NULL; m && !sm;
             m = m->next) {
            const char *code = jgets(m, "code");
            sm =
                code && om__strcasecmp(code, r->layers[i].code) == 0 ? m : NULL;
        }
        int now = r->layers[i].pub.version;
        double was = jgetn(sm, "version");
        if (!sm || was != (double)now) {
            diff_where(c, "layer %s", r->layers[i].code);
            if (sm) {
                diff_add(c, "version %.0f -> %d", was, now);
            } else {
                diff_add(c, "not loaded -> version %d", now);
            }
        }
    }
    for (const struct jv *m = ns ? stored->kid : NULL; m; m = m->next) {
        const char *code = jgets(m, "code");
        if (code && find_layer(r, code) < 0) {
            diff_where(c, "layer %s", code);
            diff_add(c, "version %.0f -> not loaded", jgetn(m, "version"));
        }
    }
}

enum om_status om_review_compare(const struct om_review_record *rec,
                                 const struct om_review *r,
                                 const struct om_review_result *res, char **out,
                                 size_t *ndiffs, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_compare: out is NULL");
    }
    *out = NULL;
    if (ndiffs) {
        *ndiffs = 0;
    }
    if (!rec || !r || !res) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_review_compare: NULL record, review or result");
    }
    const struct jv *s = ((const struct record_priv *)rec)->summary;
    const struct jv *sparcels = jget(s, "parcels");
    if (!s || !sparcels || sparcels->t != J_ARR) {
        return om__error(err, OM_ESTORE, NULL, 0, -1,
                         "run %lld: the stored summary is not a review result",
                         (long long)rec->run_id);
    }
    struct cmp c;
    memset(&c, 0, sizeof c);
    om__buf_init(&c.b, 0);
    c.st = om__buf_puts(&c.b, "");
    diff_where(&c, "rules");
    cmp_text(&c, "sha256", jgets(s, "rules_sha256"), res->rules_sha256);
    cmp_inputs(&c, jget(s, "inputs"), r);
    diff_where(&c, "site");
    cmp_text(&c, "decision", jgets(s, "decision"),
             om_decision_name(res->decision));
    if (sparcels->n != res->nparcels) {
        diff_add(&c, "%zu parcels -> %zu", sparcels->n, res->nparcels);
    }
    cmp_area(&c, "area_m2", jgetn(s, "area_m2"), res->planar_m2);
    cmp_area(&c, "area_ell_m2", jgetn(s, "area_ell_m2"), res->ellipsoidal_m2);
    for (size_t i = 0; i < res->nparcels && i < sparcels->n; i++) {
        const struct om_review_parcel *P = &res->parcels[i];
        const struct jv *sp = jat(sparcels, i);
        char prefix[160];
        if (P->code[0]) {
            snprintf(prefix, sizeof prefix, "parcel %zu (%.100s) ", i + 1,
                     P->code);
        } else {
            snprintf(prefix, sizeof prefix, "parcel %zu ", i + 1);
        }
        diff_where(&c, "parcel %zu%s%.100s%s", i + 1, P->code[0] ? " (" : "",
                   P->code, P->code[0] ? ")" : "");
        cmp_text(&c, "code", jgets(sp, "code"), P->code);
        cmp_text(&c, "use", jgets(sp, "use"), P->use);
        cmp_text(&c, "decision", jgets(sp, "decision"),
                 om_decision_name(P->decision));
        cmp_area(&c, "area_m2", jgetn(sp, "area_m2"), P->planar_m2);
        cmp_area(&c, "area_ell_m2", jgetn(sp, "area_ell_m2"),
                 P->ellipsoidal_m2);
        cmp_area(&c, "outside_m2", jgetn(sp, "outside_m2"),
                 P->outside_planar_m2);
        cmp_findings(&c, prefix, jget(sp, "findings"), P->findings,
                     P->nfindings);
    }
    cmp_findings(&c, "total ", jget(s, "totals"), res->totals, res->ntotals);
    if (c.st != OM_OK) {
        om__buf_deinit(&c.b);
        return om__enomem(err, NULL);
    }
    *out = om__buf_take(&c.b);
    if (ndiffs) {
        *ndiffs = c.n;
    }
    return OM_OK;
}
