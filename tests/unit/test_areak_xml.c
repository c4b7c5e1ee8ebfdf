/*
 * test_areak_xml.c — the exact area kernel (ops/areak.h) on the overlay
 * cases of GEOS's own XML test suite (geos-xmltester, credit: libgeos/geos,
 * LGPL-2.1), against GEOS OverlayNG.
 *
 * Every file under geos-xmltester/tests is read. A case is an overlay case
 * when one of its ops is an intersection, union, difference or
 * symdifference (with any NG / SR / SIN suffix), overlayAreaTest or
 * areatest. Of those, the cases whose <a> and <b> are both POLYGON or
 * MULTIPOLYGON (WKT or hex WKB, read by GEOS; the coordinates as written:
 * the files' fixed precision models are not applied, both sides see the
 * same doubles), a not empty, and both valid per GEOSisValid are
 * compared, A against zone B, B against zone A, and each against itself:
 *   - kernel area(a ∩ b) against GEOS area(intersection(a, b)), kernel
 *     area(a \ b) (the region outside every B feature) against GEOS
 *     area(difference(a, b)); GEOS is asked without its fallbacks first
 *     (GEOS*Prec_r with grid size 0: floating OverlayNG, each crossing
 *     point rounded once); when that throws, the robust call
 *     (GEOSIntersection_r / GEOSDifference_r: snapping, snap-rounding),
 *     counted as "snapped";
 *   - kernel area(a ∩ b) + area(a \ b) against GEOS area(a);
 *   - area(a ∩ a) = area(a), area(a \ a) = 0.
 * The bound, for every comparison with GEOS on the given coordinates:
 *
 *   |kernel - GEOS| <= 1e-9 max(area(a), area(b)) + 64 eps M^2
 *
 * eps = DBL_EPSILON, M the largest |coordinate| of a and b: the cases
 * span coordinates from 1e-2 to 1e7 and areas from 1e-10 to 1e12. GEOS
 * rounds each crossing point to a double (half an ulp of M in each
 * coordinate), which moves its area by about eps M times the lengths of
 * the edges at that point (at most ~2 M): 64 eps M^2 leaves room for 16
 * such points.
 *
 * GEOS's rounding, not the kernel's, is what that bound mostly absorbs:
 * the kernel computes crossing points relative to a vertex of a. So a
 * second, sharper oracle: GEOS on a and b translated by a round (cx, cy)
 * near their centre, where every coordinate's translation is exact
 * (checked), the area unchanged, and the crossing points rounded on the
 * scale of the extent R (the largest |translated coordinate|), not of M;
 * with it the bound is 1e-9 max(area(a), area(b)) + 64 eps R^2.
 *
 * Overlay cases with a or b invalid would be skipped and counted (the
 * kernel assumes valid input; there are none in this suite); the kernel
 * is run on every case of the whole suite (any op) with a polygonal a or
 * b that GEOS says is invalid — a against b, b against a, each against
 * itself — to show it returns (OM_OK or an error) without a crash (the
 * ASan build) or a hang: a watchdog (SIGALRM) fails the test when one
 * case takes more than 60 s.
 */
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "ops/areak.h"
#include "test.h"

#include <ctype.h>
#include <float.h>
#include <geos_c.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "areak_fixtures.h"
#include "geos_fixtures.h"

/* A case taking longer than this (seconds) is a hang. */
enum { CASE_TIMEOUT = 60 };

/* ---- the watchdog ---- */

static char wd_msg[600];
static size_t wd_len;

static void on_alarm(int sig)
{
    (void)sig;
    ssize_t r = write(STDOUT_FILENO, wd_msg, wd_len);
    (void)r;
    _exit(1);
}

/* Arm the watchdog for the case named `what`; alarm(0) disarms it. */
static void watch(const char *what)
{
    int n = snprintf(wd_msg, sizeof wd_msg,
                     "FAIL %s:%s: %s: no answer after %d s (hang)\n",
                     test_file_, test_name_, what, CASE_TIMEOUT);
    wd_len = n < 0                        ? 0
             : (size_t)n >= sizeof wd_msg ? sizeof wd_msg - 1
                                          : (size_t)n;
    alarm(CASE_TIMEOUT);
}

static void watchdog_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
}

/* ---- files (slurp, between, xml_files: geos_fixtures.h) ---- */

/* The suite's files, sorted; false (a SKIP line) when there are none. */
static bool suite_files(struct names *files, size_t *root_len)
{
    char root[1024];
    test_data_path("geos-xmltester/tests", root, sizeof root);
    xml_files(root, files);
    if (files->n == 0) {
        printf("SKIP %s:%s: no XML files under %s\n", test_file_, test_name_,
               root);
        return false;
    }
    *root_len = strlen(root) + 1;
    return true;
}

/* White space runs in s (may be NULL) to one blank, none at the ends. */
static void squeeze(char *s)
{
    if (!s) {
        return;
    }
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (!isspace((unsigned char)*p)) {
            s[n++] = *p;
        } else if (n > 0 && s[n - 1] != ' ') {
            s[n++] = ' ';
        }
    }
    n -= n > 0 && s[n - 1] == ' ';
    s[n] = '\0';
}

/* Is `name` (n characters, any case) an overlay operation? */
static bool overlay_op(const char *name, size_t n)
{
    static const char *const prefix[] = {"intersection", "union", "difference",
                                         "symdifference"};
    static const char *const exact[] = {"overlayareatest", "areatest"};
    char low[64];
    if (n >= sizeof low) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        low[i] = (char)tolower((unsigned char)name[i]);
    }
    low[n] = '\0';
    for (size_t i = 0; i < sizeof prefix / sizeof prefix[0]; i++) {
        if (strncmp(low, prefix[i], strlen(prefix[i])) == 0) {
            return true;
        }
    }
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
        if (strcmp(low, exact[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* Does the case [c, end) hold an overlay op (name='...' or name="...")? */
static bool has_overlay_op(const char *c, const char *end)
{
    for (const char *p = strstr(c, "<op"); p && p < end;
         p = strstr(p + 3, "<op")) {
        const char *q = strstr(p, "name=");
        if (!q || q >= end) {
            break;
        }
        q += 5;
        char quote = *q++;
        const char *r = strchr(q, quote);
        if (r && r < end && overlay_op(q, (size_t)(r - q))) {
            return true;
        }
    }
    return false;
}

/* ---- geometries (read_geom, add_geos: geos_fixtures.h) ---- */

static void on_geos_message(const char *msg, void *ud)
{
    (void)msg;
    (void)ud;
}

static GEOSContextHandle_t geos_new(void)
{
    GEOSContextHandle_t h = GEOS_init_r();
    GEOSContext_setErrorMessageHandler_r(h, on_geos_message, NULL);
    GEOSContext_setNoticeMessageHandler_r(h, on_geos_message, NULL);
    return h;
}

/* One case [c, end), number ncase, of `file` (its path in the suite). */
typedef void (*case_fn)(GEOSContextHandle_t h, void *ctx, const char *file,
                        int ncase, const char *c, const char *end);

/*
 * Every case of every file of the suite through fn, the watchdog
 * installed; *nfiles = the files. False (a SKIP line) when there are
 * none.
 */
static bool each_case(case_fn fn, void *ctx, size_t *nfiles)
{
    struct names files = {0};
    size_t skip = 0;
    if (!suite_files(&files, &skip)) {
        return false;
    }
    watchdog_install();
    GEOSContextHandle_t h = geos_new();
    for (size_t i = 0; i < files.n; i++) {
        char *xml = slurp(files.v[i]);
        if (!xml) {
            FAILF("cannot read %s", files.v[i]);
            continue;
        }
        int ncase = 0;
        const char *end;
        for (const char *c = next_case(xml, &end); c;
             c = next_case(c + 5, &end)) {
            fn(h, ctx, files.v[i] + skip, ++ncase, c, end);
        }
        free(xml);
    }
    GEOS_finish_r(h);
    *nfiles = files.n;
    names_free(&files);
    return true;
}

static bool polygonal(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    int t = GEOSGeomTypeId_r(h, g);
    return t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON;
}

/* The largest |coordinate| of g into *m (max with what is there). */
static int grow_m(double *x, double *y, void *ud)
{
    double *m = ud;
    *m = fmax(*m, fmax(fabs(*x), fabs(*y)));
    return 1;
}

static double magnitude(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    double m = 0.0;
    GEOSGeometry *c = GEOSGeom_transformXY_r(h, g, grow_m, &m);
    if (c) {
        GEOSGeom_destroy_r(h, c);
    }
    return m;
}

/*
 * A finished one-feature layer (fid 1) holding the polygonal g, its rings
 * as GEOS holds them (empty polygons and empty rings left out); NULL with
 * *st, *err set when the layer refuses it (only invalid input can make
 * it).
 */
static struct om_layer *to_layer(GEOSContextHandle_t h, const GEOSGeometry *g,
                                 const char *name, enum om_status *st,
                                 struct om_error *err)
{
    struct om_layer *l = NULL;
    *st = om_layer_new(name, &l, err);
    if (*st == OM_OK && add_geos(h, l, 1, g, false, err) != 0) {
        *st = err->status;
    }
    if (*st == OM_OK) {
        *st = om_layer_finish(l, 0, err);
    }
    if (*st != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

static bool is_empty_layer(const struct om_layer *l)
{
    struct om_layer_view v;
    om_layer_view(l, &v);
    return v.nfeatures == 0 || (v.flags[0] & OM_FEAT_EMPTY) ||
           v.part_start[1] == v.part_start[0];
}

/* ---- the exact translation ---- */

struct shift {
    double cx, cy;
    double r;   /* the largest |translated coordinate| */
    bool exact; /* every translation exact so far */
};

/* Is a - b exact? (TwoSum: its rounding error is 0.) */
static bool exact_diff(double a, double b, double *d)
{
    double s = a - b, bb = s - a, aa = s - bb;
    *d = s;
    return (a - aa) + (-b - bb) == 0.0;
}

static int do_shift(double *x, double *y, void *ud)
{
    struct shift *s = ud;
    double dx, dy;
    bool ex = exact_diff(*x, s->cx, &dx);
    s->exact &= exact_diff(*y, s->cy, &dy) && ex;
    *x = dx;
    *y = dy;
    s->r = fmax(s->r, fmax(fabs(dx), fabs(dy)));
    return 1;
}

/* v rounded to its 8 leading bits: a translation that stays exact. */
static double round8(double v)
{
    if (v == 0.0 || !isfinite(v)) {
        return 0.0;
    }
    int e = ilogb(v) - 7;
    return ldexp(nearbyint(ldexp(v, -e)), e);
}

/* ---- the kernel ---- */

/*
 * The zone b goes to the kernel as a B feature (AS_B), as a unit (AS_UNIT)
 * or as both at once (AS_BOTH: two identical zones of different ranks,
 * whose mixed regions, inside one and outside the other, must be empty).
 */
enum zone_role { AS_B, AS_UNIT, AS_BOTH };

/*
 * Kernel areas of feature 0 of a inside feature 0 of b (*in) and outside
 * it (*out); with AS_BOTH, *mixed = the sum of |area| of the mixed
 * regions. Returns the kernel's status (the invalid cases may fail).
 */
static enum om_status kernel(const struct om_layer *a, const struct om_layer *b,
                             enum zone_role role, double *in, double *out,
                             double *mixed, struct om_error *err)
{
    struct om__ak *k = NULL;
    struct om__ak_work *w = NULL;
    *in = *out = *mixed = 0.0;
    enum om_status st = om__ak_new(role == AS_UNIT ? NULL : b, NULL,
                                   role == AS_B ? NULL : b, 1, &k, err);
    if (st == OM_OK) {
        st = om__ak_work_new(k, &w, err);
    }
    if (st == OM_OK) {
        struct om_layer_view av;
        om_layer_view(a, &av);
        const struct om__ak_region *r = NULL;
        size_t n = 0;
        st = om__ak_feature(w, &av, 0, &r, &n, err);
        for (size_t i = 0; st == OM_OK && i < n; i++) {
            bool in_b = r[i].b != NONE, in_u = r[i].unit != NONE;
            bool inside = role == AS_B ? in_b : in_u;
            if (role == AS_BOTH && in_b != in_u) {
                *mixed += fabs(r[i].planar);
            } else {
                *(inside ? in : out) += r[i].planar;
            }
        }
    }
    om__ak_work_free(w);
    om__ak_free(k);
    return st;
}

/* ---- the oracle ---- */

/*
 * GEOS area of a ∩ b (inter) or a \ b: floating OverlayNG, the robust
 * call when that throws (*snapped set). False when both throw.
 */
static bool geos_area(GEOSContextHandle_t h, const GEOSGeometry *a,
                      const GEOSGeometry *b, bool inter, double *area,
                      bool *snapped)
{
    GEOSGeometry *g = inter ? GEOSIntersectionPrec_r(h, a, b, 0.0)
                            : GEOSDifferencePrec_r(h, a, b, 0.0);
    if (!g) {
        *snapped = true;
        g = inter ? GEOSIntersection_r(h, a, b) : GEOSDifference_r(h, a, b);
    }
    if (!g) {
        return false;
    }
    bool ok = GEOSArea_r(h, g, area) == 1;
    GEOSGeom_destroy_r(h, g);
    return ok;
}

/* ---- comparing ---- */

/* The worst differences of one oracle. */
struct worst {
    size_t checks;
    double abs, rel, ratio; /* rel: of results above 1e-6 of the inputs */
    char where[360], rel_where[360];
};

struct tally {
    const char *last_file; /* of the last overlay case */
    size_t files, cases, no_b, unreadable, not_poly, empty_a, invalid,
        geos_throws, compared, snapped, shifted;
    struct worst given, moved; /* GEOS on the given / translated input */
    int nbad;
};

/* One comparison of kernel x with oracle y: within bound? */
static void judge(struct tally *t, struct worst *w, const char *oracle,
                  const char *what, const char *quantity, double x, double y,
                  double bound, double big)
{
    double d = fabs(x - y), m = fmax(fabs(x), fabs(y));
    w->checks++;
    w->abs = fmax(w->abs, d);
    if (m > 1e-6 * big && d / m > w->rel) {
        w->rel = d / m;
        snprintf(w->rel_where, sizeof w->rel_where, "%s, %s", what, quantity);
    }
    if (d / bound > w->ratio) {
        w->ratio = d / bound;
        snprintf(w->where, sizeof w->where, "%s, %s", what, quantity);
    }
    if (!(d <= bound) && t->nbad++ < MAX_REPORT) {
        printf("  %s: %s: kernel %.17g, %s %.17g (diff %.3g, bound %.3g)\n",
               what, quantity, x, oracle, y, x - y, bound);
    }
}

/* GEOS areas of one ordered pair: a ∩ b, a \ b, a. */
struct gareas {
    double in, out, a;
};

static bool geos_pair(GEOSContextHandle_t h, const GEOSGeometry *ga,
                      const GEOSGeometry *gb, struct gareas *g, bool *snapped)
{
    return geos_area(h, ga, gb, true, &g->in, snapped) &&
           geos_area(h, ga, gb, false, &g->out, snapped) &&
           GEOSArea_r(h, ga, &g->a) == 1;
}

/* The kernel's a against zone b (or itself) against the GEOS areas. */
static void compare(struct tally *t, const char *what, const struct om_layer *a,
                    const struct om_layer *b, const struct gareas *given,
                    const struct gareas *moved, double bound_given,
                    double bound_moved, double big)
{
    static const char *const role_name[3] = {"b as B", "b as unit",
                                             "b as B and unit"};
    for (int role = AS_B; role <= AS_BOTH; role++) {
        double ki = 0.0, kd = 0.0, mixed = 0.0;
        char w2[400];
        snprintf(w2, sizeof w2, "%s, %s", what, role_name[role]);
        struct om_error err;
        enum om_status st =
            kernel(a, b, (enum zone_role)role, &ki, &kd, &mixed, &err);
        if (st != OM_OK) {
            if (t->nbad++ < MAX_REPORT) {
                printf("  %s: kernel: %s: %s\n", w2, om_status_name(st),
                       err.msg);
            }
            continue;
        }
        const struct gareas *g[2] = {given, moved};
        struct worst *w[2] = {&t->given, &t->moved};
        const double bound[2] = {bound_given, bound_moved};
        const char *name[2] = {"GEOS", "GEOS translated"};
        for (int i = 0; i < 2; i++) {
            if (!g[i]) {
                continue;
            }
            judge(t, w[i], name[i], w2, "area(a ∩ b)", ki, g[i]->in, bound[i],
                  big);
            judge(t, w[i], name[i], w2, "area(a \\ b)", kd, g[i]->out, bound[i],
                  big);
            judge(t, w[i], name[i], w2, "area(a ∩ b) + area(a \\ b) vs area(a)",
                  ki + kd, g[i]->a, bound[i], big);
            if (role == AS_BOTH) {
                judge(t, w[i], name[i], w2, "mixed regions", mixed, 0.0,
                      bound[i], big);
            }
        }
    }
}

/* Case [c, end) of file `file`, number ncase, when it is an overlay case
 * (a case_fn; ctx: the struct tally). */
static void run_case(GEOSContextHandle_t h, void *ctx, const char *file,
                     int ncase, const char *c, const char *end)
{
    struct tally *t = ctx;
    if (!has_overlay_op(c, end)) {
        return;
    }
    t->files += file != t->last_file;
    t->last_file = file;
    char what[300], w2[340];
    char *desc = between(c, end, "<desc>", "</desc>");
    squeeze(desc);
    snprintf(what, sizeof what, "%s case %d (%.60s)", file, ncase,
             desc ? desc : "");
    free(desc);
    t->cases++;
    char *ta = between(c, end, "<a>", "</a>");
    char *tb = between(c, end, "<b>", "</b>");
    GEOSGeometry *g[4] = {NULL, NULL, NULL, NULL}; /* a, b, moved a, b */
    struct om_layer *a = NULL, *b = NULL;
    struct om_error err;
    enum om_status st;
    if (!ta || !tb) {
        t->no_b++;
        goto out;
    }
    g[0] = read_geom(h, ta);
    g[1] = read_geom(h, tb);
    if (!g[0] || !g[1]) {
        t->unreadable++;
        goto out;
    }
    if (!polygonal(h, g[0]) || !polygonal(h, g[1])) {
        t->not_poly++;
        goto out;
    }
    watch(what);
    if (GEOSisValid_r(h, g[0]) != 1 || GEOSisValid_r(h, g[1]) != 1) {
        t->invalid++; /* run by test_xml_invalid_inputs */
        goto out;
    }
    a = to_layer(h, g[0], "a", &st, &err);
    b = a ? to_layer(h, g[1], "b", &st, &err) : NULL;
    if (!b) {
        FAILF("%s: building a layer: %s: %s", what, om_status_name(st),
              err.msg);
        goto out;
    }
    bool b_empty = is_empty_layer(b);
    if (is_empty_layer(a)) {
        t->empty_a++; /* the kernel takes non-empty A features only */
        goto out;
    }
    double m = fmax(magnitude(h, g[0]), magnitude(h, g[1]));
    double area_a = 0.0, area_b = 0.0;
    GEOSArea_r(h, g[0], &area_a);
    GEOSArea_r(h, g[1], &area_b);
    double big = fmax(area_a, area_b);
    double bound = 1e-9 * big + 64.0 * DBL_EPSILON * m * m;
    /* the translated copies */
    double box[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (int i = 0; i < 2; i++) {
        double x0, y0, x1, y1;
        if (!GEOSisEmpty_r(h, g[i]) && GEOSGeom_getXMin_r(h, g[i], &x0) &&
            GEOSGeom_getYMin_r(h, g[i], &y0) &&
            GEOSGeom_getXMax_r(h, g[i], &x1) &&
            GEOSGeom_getYMax_r(h, g[i], &y1)) {
            box[0] = fmin(box[0], x0);
            box[1] = fmin(box[1], y0);
            box[2] = fmax(box[2], x1);
            box[3] = fmax(box[3], y1);
        }
    }
    struct shift sh = {round8(0.5 * box[0] + 0.5 * box[2]),
                       round8(0.5 * box[1] + 0.5 * box[3]), 0.0, true};
    g[2] = GEOSGeom_transformXY_r(h, g[0], do_shift, &sh);
    g[3] = GEOSGeom_transformXY_r(h, g[1], do_shift, &sh);
    bool moved_ok = g[2] && g[3] && sh.exact;
    double bound_moved = 1e-9 * big + 64.0 * DBL_EPSILON * sh.r * sh.r;
    /* both orders, then each against itself */
    bool snapped = false;
    struct gareas gv[2], mv[2];
    for (int o = 0; o < (b_empty ? 1 : 2); o++) {
        if (!geos_pair(h, g[o], g[1 - o], &gv[o], &snapped) ||
            (moved_ok && !geos_pair(h, g[2 + o], g[3 - o], &mv[o], &snapped))) {
            t->geos_throws++;
            goto out;
        }
    }
    for (int o = 0; o < (b_empty ? 1 : 2); o++) {
        const struct om_layer *x = o ? b : a, *z = o ? a : b;
        snprintf(w2, sizeof w2, "%s, %s", what, o ? "B vs A" : "A vs B");
        compare(t, w2, x, z, &gv[o], moved_ok ? &mv[o] : NULL, bound,
                bound_moved, big);
        struct gareas self = {gv[o].a, 0.0, gv[o].a};
        snprintf(w2, sizeof w2, "%s, %s", what, o ? "B vs B" : "A vs A");
        compare(t, w2, x, x, &self, NULL, bound, bound_moved, big);
    }
    t->compared++;
    t->snapped += snapped;
    t->shifted += moved_ok;
out:
    alarm(0);
    free(ta);
    free(tb);
    for (int i = 0; i < 4; i++) {
        if (g[i]) {
            GEOSGeom_destroy_r(h, g[i]);
        }
    }
    om_layer_free(a);
    om_layer_free(b);
}

TEST(test_xml_overlay_cases)
{
    struct tally t = {0};
    size_t nfiles = 0;
    double t0 = seconds();
    if (!each_case(run_case, &t, &nfiles)) {
        return;
    }
    printf("INFO xml: %zu XML files, %zu with overlay cases; %zu overlay "
           "cases: %zu compared (%zu needed GEOS's snapping fallback, %zu "
           "exactly translated); skipped: %zu without b (unary), %zu "
           "unreadable by GEOS (curves), %zu not polygon/polygon, %zu empty "
           "a, %zu invalid a or b, %zu where GEOS throws; %.2f s\n",
           nfiles, t.files, t.cases, t.compared, t.snapped, t.shifted, t.no_b,
           t.unreadable, t.not_poly, t.empty_a, t.invalid, t.geos_throws,
           seconds() - t0);
    const struct worst *w[2] = {&t.given, &t.moved};
    const char *name[2] = {"GEOS on the given coordinates, bound 1e-9 "
                           "max(area) + 64 eps M^2",
                           "GEOS on the translated copy, bound 1e-9 "
                           "max(area) + 64 eps R^2"};
    for (int i = 0; i < 2; i++) {
        printf("INFO xml: kernel vs %s: %zu comparisons, worst abs diff "
               "%.3g, worst rel diff %.3g (results above 1e-6 of the "
               "inputs) at %s, worst diff/bound %.3g at %s\n",
               name[i], w[i]->checks, w[i]->abs, w[i]->rel, w[i]->rel_where,
               w[i]->ratio, w[i]->where);
    }
    if (t.nbad > 0) {
        FAILF("%d comparisons differ from GEOS beyond the bound", t.nbad);
        return;
    }
    /* the walk must have found the suite (560 overlay cases in 96 files) */
    CHECK(t.compared >= 250);
    CHECK(t.shifted >= 200);
}

/* ---- invalid input: the kernel returns ---- */

struct inv_tally {
    size_t cases, runs, errors, refused;
    double slowest;
    char slowest_what[300];
};

/* The kernel on x against zone z; timed. */
static void run_kernel(struct inv_tally *t, const char *what,
                       const struct om_layer *x, const struct om_layer *z)
{
    if (!x || is_empty_layer(x)) {
        return; /* the kernel takes non-empty A features only */
    }
    for (int role = AS_B; role <= AS_BOTH; role++) {
        double in = 0.0, out = 0.0, mixed = 0.0, t0 = seconds();
        struct om_error err;
        t->runs++;
        t->errors += kernel(x, z, (enum zone_role)role, &in, &out, &mixed,
                            &err) != OM_OK;
        double dt = seconds() - t0;
        if (dt > t->slowest) {
            t->slowest = dt;
            snprintf(t->slowest_what, sizeof t->slowest_what, "%s", what);
        }
    }
}

/* Case [c, end) of `file`, number ncase, when its a or b is polygonal
 * and invalid (a case_fn; ctx: the struct inv_tally). */
static void run_invalid_case(GEOSContextHandle_t h, void *ctx, const char *file,
                             int ncase, const char *c, const char *end)
{
    struct inv_tally *t = ctx;
    char what[300];
    snprintf(what, sizeof what, "%s case %d", file, ncase);
    char *text[2] = {between(c, end, "<a>", "</a>"),
                     between(c, end, "<b>", "</b>")};
    GEOSGeometry *g[2] = {NULL, NULL};
    struct om_layer *l[2] = {NULL, NULL};
    bool invalid = false;
    for (int i = 0; i < 2; i++) {
        g[i] = text[i] ? read_geom(h, text[i]) : NULL;
        if (g[i] && !polygonal(h, g[i])) {
            GEOSGeom_destroy_r(h, g[i]);
            g[i] = NULL;
        }
        invalid |= g[i] && GEOSisValid_r(h, g[i]) != 1;
    }
    if (invalid) {
        t->cases++;
        watch(what);
        for (int i = 0; i < 2; i++) {
            struct om_error err;
            enum om_status st = OM_OK;
            l[i] = g[i] ? to_layer(h, g[i], i ? "b" : "a", &st, &err) : NULL;
            t->refused += st != OM_OK;
        }
        run_kernel(t, what, l[0], l[1]);
        run_kernel(t, what, l[1], l[0]);
        run_kernel(t, what, l[0], l[0]);
        run_kernel(t, what, l[1], l[1]);
        alarm(0);
    }
    for (int i = 0; i < 2; i++) {
        free(text[i]);
        if (g[i]) {
            GEOSGeom_destroy_r(h, g[i]);
        }
        om_layer_free(l[i]);
    }
}

TEST(test_xml_invalid_inputs)
{
    struct inv_tally t = {0};
    size_t nfiles = 0;
    double t0 = seconds();
    if (!each_case(run_invalid_case, &t, &nfiles)) {
        return;
    }
    printf("INFO xml: the kernel on the %zu cases of the whole suite with an "
           "invalid polygonal a or b: %zu runs (a vs b, b vs a, each vs "
           "itself; b as B, as unit, as both), %zu returned an error, %zu "
           "geometries refused by the "
           "layer; slowest run %.3f s (%s); %.2f s in all\n",
           t.cases, t.runs, t.errors, t.refused, t.slowest, t.slowest_what,
           seconds() - t0);
    CHECK(t.runs >= 300);
}

int main(void)
{
    TEST_MAIN_BEGIN(__FILE__);
    RUN(test_xml_overlay_cases);
    RUN(test_xml_invalid_inputs);
    TEST_MAIN_END();
}
