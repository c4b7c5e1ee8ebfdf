/*
 * crs.c — struct om_crs: parsing CRS definitions through PROJ (EPSG codes,
 * CGCS2000 zone shorthands, WKT, PROJJSON, PROJ strings), identification,
 * equivalence, and the CGCS2000 3-degree Gauss-Krüger zone formulas.
 */
#include "core/core.h"
#include "crs/crs_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEG_PER_RAD (180.0 / 3.14159265358979323846)
#define RAD_PER_DEG (3.14159265358979323846 / 180.0)

/* CGCS2000 EPSG codes (DESIGN.md §3). */
#define EPSG_CGCS2000 4490
#define EPSG_GK3_PREFIX_FIRST 4513
#define EPSG_GK3_PLAIN_FIRST 4534

/* ---- loading PROJ (see OM__PROJ_FUNCS) ---- */

#ifndef OM_PROJ_SONAME
#define OM_PROJ_SONAME "libproj.so"
#endif
const char *om__proj_soname = OM_PROJ_SONAME;

/* The table, filled slot by slot: its members are function pointers only,
 * in the order of OM__PROJ_FUNCS (names by stringizing, which does not
 * expand the macros that send each name to the table). */
static struct om__proj_api api;
static const char *const api_names[] = {
#define OM__PROJ_NAME(f) #f,
    OM__PROJ_FUNCS(OM__PROJ_NAME)
#undef OM__PROJ_NAME
};
enum { API_N = sizeof api_names / sizeof api_names[0] };
_Static_assert(sizeof api == API_N * sizeof(void (*)(void)),
               "om__proj_api holds one function pointer per name");
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

static void load_proj(void)
{
    loaded = om__dl_load("PROJ", om__proj_soname, api_names, API_N, &api,
                         load_error, sizeof load_error);
}

const struct om__proj_api *om__proj_api(void)
{
    return &api;
}

/* ---- PROJ context wrapper ---- */

static void log_capture(void *app, int level, const char *msg)
{
    struct om__pj *p = app;
    if (p && level <= PJ_LOG_ERROR && msg) {
        om__strlcpy(p->last, msg, sizeof p->last);
    }
}

/*
 * Contexts given back are kept for the next user (one user at a time: a
 * context is not for two threads at once). A new context opens PROJ's
 * database again, and its first lookups are slow: `init --crs EPSG:4530`
 * looks the CRS up twice (the command, then the project), and the second
 * lookup in a fresh context cost about 10 ms. Those kept are never
 * destroyed: still referenced at exit, they are no leak.
 */
enum { KEPT_CONTEXTS = 4 };
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static PJ_CONTEXT *kept[KEPT_CONTEXTS];
static size_t nkept;

enum om_status om__pj_init(struct om__pj *p, struct om_error *err)
{
    p->last[0] = '\0';
    p->ctx = NULL;
    pthread_once(&load_once, load_proj);
    if (!loaded) {
        return om__error(err, OM_ECRS, NULL, 0, -1, "%s", load_error);
    }
    pthread_mutex_lock(&kept_mu);
    if (nkept) {
        p->ctx = kept[--nkept];
    }
    pthread_mutex_unlock(&kept_mu);
    if (!p->ctx) {
        p->ctx = proj_context_create();
    }
    if (!p->ctx) {
        return om__enomem(err, NULL);
    }
    proj_log_func(p->ctx, p, log_capture);
    proj_log_level(p->ctx, PJ_LOG_ERROR);
    proj_context_set_enable_network(p->ctx, 0);
    return OM_OK;
}

void om__pj_deinit(struct om__pj *p)
{
    if (!p || !p->ctx) {
        return;
    }
    /* its log no longer goes to p, which may go away; one with an error
     * number set is not kept (om__pj_why would give it to the next) */
    proj_log_func(p->ctx, NULL, log_capture);
    pthread_mutex_lock(&kept_mu);
    if (nkept < KEPT_CONTEXTS && proj_context_errno(p->ctx) == 0) {
        kept[nkept++] = p->ctx;
        p->ctx = NULL;
    }
    pthread_mutex_unlock(&kept_mu);
    if (p->ctx) {
        proj_context_destroy(p->ctx);
        p->ctx = NULL;
    }
}

const char *om__pj_why(struct om__pj *p, char *buf, size_t size)
{
    int e = proj_context_errno(p->ctx);
    if (p->last[0]) {
        om__strlcpy(buf, p->last, size);
    } else if (e != 0) {
        const char *s = proj_context_errno_string(p->ctx, e);
        om__strlcpy(buf, s ? s : "unknown PROJ error", size);
    } else {
        om__strlcpy(buf, "unknown PROJ error", size);
    }
    p->last[0] = '\0';
    return buf;
}

PJ *om__pj_crs(struct om__pj *p, const struct om_crs *crs)
{
    return proj_create(p->ctx, crs->def);
}

PJ *om__pj_base(struct om__pj *p, PJ *crs)
{
    if (proj_get_type(crs) == PJ_TYPE_BOUND_CRS) {
        return proj_get_source_crs(p->ctx, crs);
    }
    return proj_clone(p->ctx, crs);
}

/* ---- zones ---- */

int om_gk3_zone_for_lon(double lon)
{
    if (!isfinite(lon) || lon < 0.0 || lon > 180.0) {
        return 0;
    }
    int zone = (int)lround(lon / 3.0);
    return zone >= OM_GK3_ZONE_MIN && zone <= OM_GK3_ZONE_MAX ? zone : 0;
}

int om_gk3_epsg(int zone, bool with_prefix)
{
    if (zone < OM_GK3_ZONE_MIN || zone > OM_GK3_ZONE_MAX) {
        return 0;
    }
    return (with_prefix ? EPSG_GK3_PREFIX_FIRST : EPSG_GK3_PLAIN_FIRST) +
           (zone - OM_GK3_ZONE_MIN);
}

int om_gk3_zone_from_easting(double easting)
{
    /* An 8-digit integer part: 10,000,000 <= e < 100,000,000. */
    if (!isfinite(easting) || easting < 1e7 || easting >= 1e8) {
        return 0;
    }
    int zone = (int)(easting / 1e6);
    return zone >= OM_GK3_ZONE_MIN && zone <= OM_GK3_ZONE_MAX ? zone : 0;
}

int om_gk3_zone_of_epsg(int epsg, bool *with_prefix)
{
    int nzones = OM_GK3_ZONE_MAX - OM_GK3_ZONE_MIN + 1;
    bool prefix;
    int zone;
    if (epsg >= EPSG_GK3_PREFIX_FIRST &&
        epsg < EPSG_GK3_PREFIX_FIRST + nzones) {
        prefix = true;
        zone = OM_GK3_ZONE_MIN + (epsg - EPSG_GK3_PREFIX_FIRST);
    } else if (epsg >= EPSG_GK3_PLAIN_FIRST &&
               epsg < EPSG_GK3_PLAIN_FIRST + nzones) {
        prefix = false;
        zone = OM_GK3_ZONE_MIN + (epsg - EPSG_GK3_PLAIN_FIRST);
    } else {
        return 0;
    }
    if (with_prefix) {
        *with_prefix = prefix;
    }
    return zone;
}

/* ---- parsing the spec ---- */

/* Parse a whole string [s, e) of decimal digits into *v (1..INT_MAX). */
static bool parse_code(const char *s, const char *e, long *v)
{
    if (s == e || e - s > 9) {
        return false;
    }
    long n = 0;
    for (const char *p = s; p < e; p++) {
        if (!isdigit((unsigned char)*p)) {
            return false;
        }
        n = n * 10 + (*p - '0');
    }
    *v = n;
    return n > 0;
}

static bool prefix_ci(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(e - s) < n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (toupper((unsigned char)s[i]) != toupper((unsigned char)word[i])) {
            return false;
        }
    }
    return true;
}

static const char *skip_space(const char *s, const char *e)
{
    while (s < e && isspace((unsigned char)*s)) {
        s++;
    }
    return s;
}

/* A short, one-line rendering of the spec for error messages. */
static void quote_spec(const char *spec, char *buf, size_t size)
{
    size_t i = 0, j = 0;
    for (; spec[i] && j + 4 < size; i++) {
        char c = spec[i];
        buf[j++] = (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    if (spec[i]) {
        memcpy(buf + j, "...", 3);
        j += 3;
    }
    buf[j] = '\0';
}

/*
 * Recognise the shorthand forms. Returns 1 with *epsg set, 0 when the spec
 * is not a shorthand (give it to PROJ), -1 with the error filled when it is
 * a shorthand with a bad zone or meridian.
 */
static int parse_shorthand(const char *spec, const char *q, int *epsg,
                           struct om_error *err)
{
    const char *s = skip_space(spec, spec + strlen(spec));
    const char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) {
        e--;
    }
    long v;
    if (parse_code(s, e, &v)) {
        *epsg = (int)v;
        return 1;
    }
    if (prefix_ci(s, e, "EPSG:") && parse_code(s + 5, e, &v)) {
        *epsg = (int)v;
        return 1;
    }
    if (!prefix_ci(s, e, "CGCS2000")) {
        return 0;
    }
    const char *p = skip_space(s + 8, e);
    if (p == e) {
        *epsg = EPSG_CGCS2000;
        return 1;
    }
    if (*p != '/') {
        return 0;
    }
    p = skip_space(p + 1, e);
    bool by_cm = prefix_ci(p, e, "GK3CM");
    if (!by_cm && !prefix_ci(p, e, "GK3")) {
        return 0;
    }
    p = skip_space(p + (by_cm ? 5 : 3), e);
    if (!parse_code(p, e, &v)) {
        om__error(err, OM_ECRS, NULL, 0, -1,
                  "CRS '%s': expected a %s number after '%s'", q,
                  by_cm ? "central meridian" : "zone", by_cm ? "GK3CM" : "GK3");
        return -1;
    }
    if (by_cm) {
        int zone = v % 3 == 0 && v <= 180 ? (int)(v / 3) : 0;
        *epsg = om_gk3_epsg(zone, false);
        if (!*epsg) {
            om__error(err, OM_ECRS, NULL, 0, -1,
                      "CRS '%s': central meridian %ld is not one of the "
                      "CGCS2000 3-degree zones (75, 78, ..., 135 E)",
                      q, v);
            return -1;
        }
    } else {
        *epsg = om_gk3_epsg(v <= 1000 ? (int)v : 0, true);
        if (!*epsg) {
            om__error(err, OM_ECRS, NULL, 0, -1,
                      "CRS '%s': zone %ld is outside the CGCS2000 3-degree "
                      "zones %d..%d",
                      q, v, OM_GK3_ZONE_MIN, OM_GK3_ZONE_MAX);
            return -1;
        }
    }
    return 1;
}

/* ---- reading facts from PROJ ---- */

static double angle_deg(double value, double conv)
{
    /* Keep exact degrees exact: 126 stays 126, not 126 * k / k. */
    if (fabs(conv - RAD_PER_DEG) <= 1e-15) {
        return value;
    }
    return value * conv * DEG_PER_RAD;
}

static void read_tm(struct om__pj *pj, PJ *base, struct om_crs *c)
{
    PJ *op = proj_crs_get_coordoperation(pj->ctx, base);
    if (!op) {
        return;
    }
    const char *code = NULL;
    if (proj_coordoperation_get_method_info(pj->ctx, op, NULL, NULL, &code) &&
        code && strcmp(code, "9807") == 0) {
        struct om_crs_tm tm = {0.0, 0.0, 1.0, 0.0, 0.0};
        int n = proj_coordoperation_get_param_count(pj->ctx, op);
        for (int i = 0; i < n; i++) {
            const char *pcode = NULL;
            double value = 0.0, conv = 1.0;
            if (!proj_coordoperation_get_param(pj->ctx, op, i, NULL, NULL,
                                               &pcode, &value, NULL, &conv,
                                               NULL, NULL, NULL, NULL) ||
                !pcode) {
                continue;
            }
            if (strcmp(pcode, "8801") == 0) {
                tm.lat_origin = angle_deg(value, conv);
            } else if (strcmp(pcode, "8802") == 0) {
                tm.central_meridian = angle_deg(value, conv);
            } else if (strcmp(pcode, "8805") == 0) {
                tm.scale = value * conv;
            } else if (strcmp(pcode, "8806") == 0) {
                tm.false_easting = conv == 1.0 ? value : value * conv;
            } else if (strcmp(pcode, "8807") == 0) {
                tm.false_northing = conv == 1.0 ? value : value * conv;
            }
        }
        c->tm = tm;
        c->has_tm = true;
    }
    proj_destroy(op);
}

static void read_ellipsoid(struct om__pj *pj, PJ *base, struct om_crs *c)
{
    c->ell_a = NAN;
    c->ell_f = NAN;
    PJ *geod = proj_crs_get_geodetic_crs(pj->ctx, base);
    PJ *ell = geod ? proj_get_ellipsoid(pj->ctx, geod) : NULL;
    double a, b, inv_f;
    int computed;
    if (ell && proj_ellipsoid_get_parameters(pj->ctx, ell, &a, &b, &computed,
                                             &inv_f)) {
        c->ell_a = a;
        c->ell_f = inv_f == 0.0 ? 0.0 : 1.0 / inv_f;
    }
    proj_destroy(ell);
    proj_destroy(geod);
}

/* The EPSG code of `obj`: its own ID, else a unique proj_identify match of
 * confidence >= 70 (equivalent CRS). 0 if none. */
static int identify_epsg(struct om__pj *pj, PJ *obj)
{
    const char *auth = proj_get_id_auth_name(obj, 0);
    const char *code = proj_get_id_code(obj, 0);
    if (auth && code && strcmp(auth, "EPSG") == 0) {
        long v;
        if (parse_code(code, code + strlen(code), &v)) {
            return (int)v;
        }
    }
    int *conf = NULL;
    PJ_OBJ_LIST *list = proj_identify(pj->ctx, obj, "EPSG", NULL, &conf);
    int best = 0, best_conf = 0, nbest = 0;
    int n = list ? proj_list_get_count(list) : 0;
    for (int i = 0; i < n; i++) {
        if (conf[i] < 70 || conf[i] < best_conf) {
            continue;
        }
        PJ *cand = proj_list_get(pj->ctx, list, i);
        const char *cc = cand ? proj_get_id_code(cand, 0) : NULL;
        long v;
        if (cc && parse_code(cc, cc + strlen(cc), &v)) {
            if (conf[i] > best_conf) {
                best_conf = conf[i];
                best = (int)v;
                nbest = 1;
            } else {
                nbest++;
            }
        }
        proj_destroy(cand);
    }
    proj_int_list_destroy(conf);
    proj_list_destroy(list);
    pj->last[0] = '\0';
    return nbest == 1 ? best : 0;
}

/* ---- om_crs ---- */

void om_crs_free(struct om_crs *crs)
{
    if (!crs) {
        return;
    }
    om__free(crs->def);
    om__free(crs->name);
    om__free(crs->wkt);
    om__free(crs);
}

/* Everything after the PROJ object exists: fill *c from obj. */
static enum om_status describe(struct om__pj *pj, PJ *obj, int given_epsg,
                               const char *q, struct om_crs *c,
                               struct om_error *err)
{
    char why[256];
    PJ *base = om__pj_base(pj, obj);
    if (!base) {
        return om__error(err, OM_ECRS, NULL, 0, -1, "CRS '%s': %s", q,
                         om__pj_why(pj, why, sizeof why));
    }
    enum om_status st = OM_OK;
    PJ_TYPE type = proj_get_type(base);
    switch (type) {
    case PJ_TYPE_GEOGRAPHIC_2D_CRS:
    case PJ_TYPE_GEOGRAPHIC_3D_CRS:
        c->is_geographic = true;
        break;
    case PJ_TYPE_PROJECTED_CRS:
        c->is_geographic = false;
        break;
    default:
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "CRS '%s' is not a geographic or projected CRS "
                       "(onemap needs one of those for 2D polygons)",
                       q);
        goto out;
    }
    const char *name = proj_get_name(base);
    const char *wkt = proj_as_wkt(pj->ctx, obj, PJ_WKT2_2019, NULL);
    if (!wkt) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "CRS '%s' cannot be written as WKT: %s", q,
                       om__pj_why(pj, why, sizeof why));
        goto out;
    }
    c->name = om__strdup(name ? name : "unknown");
    c->wkt = om__strdup(wkt);
    c->epsg = given_epsg ? given_epsg : identify_epsg(pj, base);
    if (given_epsg) {
        char def[32];
        snprintf(def, sizeof def, "EPSG:%d", given_epsg);
        c->def = om__strdup(def);
    } else {
        c->def = om__strdup(wkt);
    }
    if (!c->name || !c->wkt || !c->def) {
        st = om__enomem(err, NULL);
        goto out;
    }
    if (c->epsg) {
        snprintf(c->id, sizeof c->id, "EPSG:%d", c->epsg);
    }
    if (!c->is_geographic) {
        read_tm(pj, base, c);
    }
    read_ellipsoid(pj, base, c);
    if (!isfinite(c->ell_a) || c->ell_a <= 0.0) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "CRS '%s' has no usable ellipsoid: %s", q,
                       om__pj_why(pj, why, sizeof why));
    }
out:
    proj_destroy(base);
    return st;
}

enum om_status om_crs_new(const char *spec, struct om_crs **out,
                          struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_crs_new: out is NULL");
    }
    *out = NULL;
    if (!spec) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_crs_new: no CRS definition given");
    }
    char q[96];
    quote_spec(spec, q, sizeof q);
    if (!*skip_space(spec, spec + strlen(spec))) {
        return om__error(err, OM_ECRS, NULL, 0, -1, "empty CRS definition");
    }
    int epsg = 0;
    int sh = parse_shorthand(spec, q, &epsg, err);
    if (sh < 0) {
        return OM_ECRS;
    }
    char code_def[32];
    char *plus_def = NULL;
    const char *def = spec;
    if (sh > 0) {
        snprintf(code_def, sizeof code_def, "EPSG:%d", epsg);
        def = code_def;
    } else {
        /* A PROJ string describes an operation unless it says it is a
         * CRS. */
        const char *s = skip_space(spec, spec + strlen(spec));
        if (*s == '+' && !strstr(s, "type=crs")) {
            size_t n = strlen(s);
            plus_def = om__malloc(n + sizeof " +type=crs");
            if (!plus_def) {
                return om__enomem(err, NULL);
            }
            memcpy(plus_def, s, n);
            memcpy(plus_def + n, " +type=crs", sizeof " +type=crs");
            def = plus_def;
        }
    }

    struct om__pj pj;
    struct om_crs *c = NULL;
    PJ *obj = NULL;
    enum om_status st = OM_OK;
    char why[256];
    st = om__pj_init(&pj, err);
    if (st != OM_OK) {
        om__free(plus_def);
        return st;
    }
    obj = proj_create(pj.ctx, def);
    if (!obj) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "unknown coordinate reference system '%s' (%s)", q,
                       om__pj_why(&pj, why, sizeof why));
        goto out;
    }
    if (!proj_is_crs(obj)) {
        st = om__error(err, OM_ECRS, NULL, 0, -1,
                       "'%s' is not a coordinate reference system", q);
        goto out;
    }
    if (proj_get_type(obj) == PJ_TYPE_COMPOUND_CRS) {
        PJ *horiz = proj_crs_get_sub_crs(pj.ctx, obj, 0);
        proj_destroy(obj);
        obj = horiz;
        epsg = 0; /* the code named the compound CRS */
        if (!obj) {
            st = om__error(err, OM_ECRS, NULL, 0, -1,
                           "CRS '%s': compound CRS without a horizontal "
                           "part",
                           q);
            goto out;
        }
    }
    c = om__calloc(1, sizeof *c);
    if (!c) {
        st = om__enomem(err, NULL);
        goto out;
    }
    st = describe(&pj, obj, epsg, q, c, err);
out:
    if (st != OM_OK) {
        om_crs_free(c);
        c = NULL;
    }
    proj_destroy(obj);
    om__pj_deinit(&pj);
    om__free(plus_def);
    *out = c;
    return st;
}

const char *om_crs_name(const struct om_crs *crs)
{
    return crs->name;
}

const char *om_crs_id(const struct om_crs *crs)
{
    return crs->id[0] ? crs->id : NULL;
}

int om_crs_epsg(const struct om_crs *crs)
{
    return crs->epsg;
}

const char *om_crs_wkt(const struct om_crs *crs)
{
    return crs->wkt;
}

bool om_crs_is_geographic(const struct om_crs *crs)
{
    return crs->is_geographic;
}

bool om_crs_get_tm(const struct om_crs *crs, struct om_crs_tm *tm)
{
    if (!crs->has_tm) {
        return false;
    }
    *tm = crs->tm;
    return true;
}

void om_crs_ellipsoid(const struct om_crs *crs, double *a, double *f)
{
    if (a) {
        *a = crs->ell_a;
    }
    if (f) {
        *f = crs->ell_f;
    }
}

bool om_crs_equivalent(const struct om_crs *a, const struct om_crs *b)
{
    if (!a || !b) {
        return false;
    }
    if (a == b || (a->epsg && a->epsg == b->epsg) ||
        strcmp(a->def, b->def) == 0) {
        return true;
    }
    if (a->is_geographic != b->is_geographic) {
        return false;
    }
    struct om__pj pj;
    if (om__pj_init(&pj, NULL) != OM_OK) {
        return false;
    }
    PJ *pa = om__pj_crs(&pj, a);
    PJ *pb = om__pj_crs(&pj, b);
    bool eq = pa && pb &&
              proj_is_equivalent_to_with_ctx(
                  pj.ctx, pa, pb, PJ_COMP_EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS);
    proj_destroy(pa);
    proj_destroy(pb);
    om__pj_deinit(&pj);
    return eq;
}

enum om_status om_crs_auto_for_extent(double minlon, double minlat,
                                      double maxlon, double maxlat,
                                      struct om_crs **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_crs_auto_for_extent: out is NULL");
    }
    *out = NULL;
    if (!isfinite(minlon) || !isfinite(minlat) || !isfinite(maxlon) ||
        !isfinite(maxlat) || minlon > maxlon || minlat > maxlat ||
        minlat < -90.0 || maxlat > 90.0) {
        return om__error(err, OM_ECRS, NULL, 0, -1,
                         "cannot choose a Gauss-Kruger zone for the "
                         "extent (%g %g, %g %g): not a valid lon/lat "
                         "extent",
                         minlon, minlat, maxlon, maxlat);
    }
    double clon = 0.5 * (minlon + maxlon);
    int zone = om_gk3_zone_for_lon(clon);
    if (!zone) {
        return om__error(err, OM_ECRS, NULL, 0, -1,
                         "cannot choose a Gauss-Kruger zone: the extent "
                         "centre (lon %.6f) is outside the CGCS2000 "
                         "3-degree zones %d..%d (73.5E..136.5E); give the "
                         "CRS explicitly",
                         clon, OM_GK3_ZONE_MIN, OM_GK3_ZONE_MAX);
    }
    char def[32];
    snprintf(def, sizeof def, "EPSG:%d", om_gk3_epsg(zone, true));
    return om_crs_new(def, out, err);
}
