/*
 * qc_attr.c — the attribute and CRS check families of `onemap qc` (see
 * onemap/qc.h): A001–A007 against the layer's qc schema (onemap/rules.h)
 * and C001, coordinates against the range of the declared CRS.
 *
 * Everything is a linear pass over the features in fid order except the
 * ellipsoidal areas of A007 (~1.3 µs a vertex), which are computed first
 * by c->threads threads (one om_area_ctx each) into an array indexed by
 * feature; the findings are then emitted by the calling thread in fid
 * order, so the sequence does not depend on the thread count.
 *
 * Choices where the contract leaves room: a NULL deduction (KCMJ) counts as 0
 * in A006, a NULL net or gross area skips the feature; values are trimmed of
 * ASCII blanks and U+3000 before any check; `integer` accepts only INT columns,
 * `real` only REAL columns, `number` both; the area and net-area fields named
 * by the schema must exist (A001) and be numeric (A002) even when not listed
 * under `fields`.
 */
#include "core/core.h"
#include "onemap/codes.h"
#include "onemap/crs.h"
#include "ops/qc_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    AREA_CHUNK = 256, /* features per chunk of the area computation */
    MAX_THREADS = 256,
};

/* ---- small helpers ---- */

/* Trim ASCII blanks and the ideographic space U+3000 (E3 80 80). */
static const char *trim(const char *s, size_t *len)
{
    size_t n = strlen(s);
    for (;;) {
        if (n > 0 &&
            (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')) {
            s++;
            n--;
        } else if (n >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0) {
            s += 3;
            n -= 3;
        } else {
            break;
        }
    }
    for (;;) {
        if (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                      s[n - 1] == '\n')) {
            n--;
        } else if (n >= 3 && memcmp(s + n - 3, "\xE3\x80\x80", 3) == 0) {
            n -= 3;
        } else {
            break;
        }
    }
    *len = n;
    return s;
}

/* Copy s[0..n) into buf for a message: at most size-4 bytes, cut on a
 * UTF-8 character boundary, "..." when cut. */
static const char *quote(const char *s, size_t n, char *buf, size_t size)
{
    if (n + 1 <= size) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        return buf;
    }
    size_t k = size - 4;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80) {
        k--;
    }
    memcpy(buf, s, k);
    memcpy(buf + k, "...", 4);
    return buf;
}

static void fmt_xy(char *buf, size_t size, double x, double y)
{
    if (fabs(x) <= 360 && fabs(y) <= 360) {
        snprintf(buf, size, "(%.8f, %.8f)", x, y);
    } else {
        snprintf(buf, size, "(%.3f, %.3f)", x, y);
    }
}

/* The first vertex of feature f (the finding's location), NaN if none. */
static void first_vertex(const struct om_layer_view *v, size_t f, double *x,
                         double *y)
{
    *x = NAN;
    *y = NAN;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
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

/* A value as text (borrowed from the layer or written into buf); NULL for
 * a NULL value. */
static const char *value_text(const struct om_layer *l, size_t f, int col,
                              char *buf, size_t size)
{
    if (om_layer_is_null(l, f, col)) {
        return NULL;
    }
    if (om_layer_field_type(l, col) == OM_FIELD_TEXT) {
        return om_layer_get_text(l, f, col);
    }
    return om_layer_format_value(l, f, col, buf, size);
}

/* A value as a number: INT, REAL, or TEXT holding exactly a number. */
static bool value_number(const struct om_layer *l, size_t f, int col,
                         double *out)
{
    if (col < 0 || om_layer_is_null(l, f, col)) {
        return false;
    }
    switch (om_layer_field_type(l, col)) {
    case OM_FIELD_INT:
        *out = (double)om_layer_get_int(l, f, col);
        return true;
    case OM_FIELD_REAL:
        *out = om_layer_get_real(l, f, col);
        return isfinite(*out);
    case OM_FIELD_TEXT: {
        size_t n;
        const char *s = trim(om_layer_get_text(l, f, col), &n);
        char tmp[64];
        if (n == 0 || n >= sizeof tmp) {
            return false;
        }
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *end;
        *out = strtod(tmp, &end);
        return *end == '\0' && isfinite(*out);
    }
    }
    return false;
}

static const char *type_word(int type)
{
    switch (type) {
    case OM_FIELD_INT:
        return "integer";
    case OM_FIELD_REAL:
        return "real";
    case OM_FIELD_TEXT:
        return "text";
    case -1:
        return "number";
    default:
        return "any";
    }
}

static bool type_ok(int want, enum om_field_type have)
{
    if (want == 0) {
        return true;
    }
    if (want == -1) {
        return have == OM_FIELD_INT || have == OM_FIELD_REAL;
    }
    return (int)have == want;
}

static enum om_status emit(const struct om__qc_ctx *c, const char *code,
                           int64_t fid, int64_t fid2, double x, double y,
                           double value, const char *field, const char *zh,
                           const char *en, struct om_error *err)
{
    struct om__qc_item it = {
        .code = code,
        .fid = fid,
        .fid2 = fid2,
        .x = x,
        .y = y,
        .value = value,
        .field = field,
        .zh = zh,
        .en = en,
        .pv = NULL,
        .pf = 0,
    };
    return om__qc_emit(c->sink, &it, err);
}

/* ---- A001, A002: the layer's columns ---- */

/* One column the schema asks for (a listed field or an area field). */
struct col {
    const char *name;
    const struct om_qc_field *field; /* NULL for area / net-area fields */
    int type;                        /* wanted type */
    bool required;
    int index; /* column, -1 if missing */
};

static enum om_status check_columns(const struct om__qc_ctx *c,
                                    struct col *cols, size_t ncols,
                                    struct om_error *err)
{
    bool w1 = om__qc_wanted(c->sink, "A001");
    bool w2 = om__qc_wanted(c->sink, "A002");
    char zh[512], en[512];
    for (size_t i = 0; i < ncols; i++) {
        struct col *k = &cols[i];
        enum om_status st = OM_OK;
        if (k->index < 0) {
            if (k->required && w1) {
                snprintf(en, sizeof en,
                         "Required field %s is missing from the layer",
                         k->name);
                snprintf(zh, sizeof zh, "图层缺少必填字段 %s", k->name);
                st = emit(c, "A001", -1, -1, NAN, NAN, NAN, k->name, zh, en,
                          err);
            }
        } else {
            enum om_field_type have = om_layer_field_type(c->layer, k->index);
            if (!type_ok(k->type, have) && w2) {
                snprintf(en, sizeof en,
                         "Field %s is of type %s, the schema wants %s", k->name,
                         type_word((int)have), type_word(k->type));
                snprintf(zh, sizeof zh, "字段 %s 的类型为 %s，应为 %s", k->name,
                         type_word((int)have), type_word(k->type));
                st = emit(c, "A002", -1, -1, NAN, NAN, NAN, k->name, zh, en,
                          err);
            }
        }
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- A004 ---- */

static bool digits_only(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Whether value s[0..n) is in the field's domain / values; when not,
 * why_en / why_zh name the domain and the problem. */
static bool in_domain(const struct om_qc_field *fd, const char *s, size_t n,
                      char *why_en, char *why_zh, size_t size)
{
    static const char *const tbl_en[] = {"", "DLBM of the third survey",
                                         "YDYH 2023", "CZCSXM"};
    static const char *const tbl_zh[] = {"", "三调地类编码", "用地用海分类",
                                         "城镇村属性码"};
    static const char *const r_en[] = {"", "bad pattern", "unknown code",
                                       "unknown suffix"};
    static const char *const r_zh[] = {"", "格式不符", "未知编码", "未知后缀"};
    if (fd->domain == OM_QC_DOMAIN_XZQDM) {
        snprintf(why_en, size,
                 "administrative division code: 6, 9, 12 or 19 digits");
        snprintf(why_zh, size, "行政区划代码：6、9、12 或 19 位数字");
        return (n == 6 || n == 9 || n == 12 || n == 19) && digits_only(s, n);
    }
    if (fd->domain != OM_QC_DOMAIN_NONE) {
        char code[32];
        enum om_code_check r = OM_CODE_BAD_PATTERN;
        if (n < sizeof code) {
            memcpy(code, s, n);
            code[n] = '\0';
            if (fd->domain == OM_QC_DOMAIN_DLBM) {
                r = om_dlbm_check(code, NULL);
            } else if (fd->domain == OM_QC_DOMAIN_YDYH) {
                r = om_ydyh_check(code, NULL);
            } else {
                r = om_czcs_check(code, NULL);
            }
        }
        if (r == OM_CODE_OK) {
            return true;
        }
        size_t d = (size_t)fd->domain < 4 ? (size_t)fd->domain : 0;
        size_t k = (size_t)r < 4 ? (size_t)r : 1;
        snprintf(why_en, size, "%s: %s", tbl_en[d], r_en[k]);
        snprintf(why_zh, size, "%s：%s", tbl_zh[d], r_zh[k]);
        return false;
    }
    if (fd->values) {
        for (size_t i = 0; i < fd->nvalues; i++) {
            size_t m;
            const char *t = trim(fd->values[i], &m);
            if (m == n && memcmp(t, s, n) == 0) {
                return true;
            }
        }
        snprintf(why_en, size, "not one of the %zu listed values", fd->nvalues);
        snprintf(why_zh, size, "不在 %zu 个列举值中", fd->nvalues);
        return false;
    }
    return true;
}

/* ---- A005: a hash set of values per unique field ---- */

struct slot {
    const char *key; /* NULL = free */
    size_t len;
    uint64_t hash;
    int64_t fid;
};

struct uniq {
    struct slot *slots;
    size_t cap; /* power of two */
    struct om__arena keys;
};

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Look up s; when absent insert it with `fid` (*first = -1), else *first
 * is the fid of the earlier feature. `copy` stores a copy of the key. */
static enum om_status uniq_put(struct uniq *u, const char *s, size_t n,
                               bool copy, int64_t fid, int64_t *first,
                               struct om_error *err)
{
    uint64_t h = hash_bytes(s, n);
    size_t i = (size_t)h & (u->cap - 1);
    while (u->slots[i].key) {
        struct slot *sl = &u->slots[i];
        if (sl->hash == h && sl->len == n && memcmp(sl->key, s, n) == 0) {
            *first = sl->fid;
            return OM_OK;
        }
        i = (i + 1) & (u->cap - 1);
    }
    if (copy) {
        char *k = om__arena_alloc(&u->keys, n + 1);
        if (!k) {
            return om__enomem(err, NULL);
        }
        memcpy(k, s, n);
        k[n] = '\0';
        s = k;
    }
    u->slots[i] = (struct slot){s, n, h, fid};
    *first = -1;
    return OM_OK;
}

/* ---- A007: ellipsoidal areas in parallel ---- */

struct area_job {
    const struct om_layer *layer;
    struct om_layer_view v;
    const struct om_progress *progress;
    const uint8_t *need; /* features with a recorded area */
    double *area;        /* per feature, NaN when not computed */
    size_t nchunks;
    pthread_mutex_t lock;
    size_t next;
    enum om_status status; /* OM_ENOMEM from a worker */
    struct om_error err;
};

struct area_worker {
    struct area_job *j;
    struct om_area_ctx *ctx;
};

static void *area_main(void *arg)
{
    struct area_worker *w = arg;
    struct area_job *j = w->j;
    for (;;) {
        pthread_mutex_lock(&j->lock);
        size_t ci = j->status == OM_OK ? j->next : j->nchunks;
        if (ci < j->nchunks) {
            j->next++;
        }
        pthread_mutex_unlock(&j->lock);
        if (ci >= j->nchunks || om__canceled(j->progress)) {
            return NULL;
        }
        size_t f1 = (ci + 1) * AREA_CHUNK;
        if (f1 > j->v.nfeatures) {
            f1 = j->v.nfeatures;
        }
        for (size_t f = ci * AREA_CHUNK; f < f1; f++) {
            double a = NAN;
            struct om_error e;
            enum om_status st =
                j->need[f] ? om_area_feature(w->ctx, &j->v, f, NULL, &a, &e)
                           : OM_OK;
            if (st == OM_ENOMEM) {
                pthread_mutex_lock(&j->lock);
                if (j->status == OM_OK) {
                    j->status = st;
                    j->err = e;
                }
                pthread_mutex_unlock(&j->lock);
                return NULL;
            }
            /* other failures: a vertex that is not finite or cannot be
             * converted (G001 / C001 report it): no area, no A007 */
            j->area[f] = st == OM_OK ? a : NAN;
        }
    }
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

/*
 * Areas of the features with need[f] into area[] (NaN elsewhere). A CRS
 * without an area context (PROJ cannot invert it) leaves all NaN: A007 is
 * then not checked. Errors: OM_ENOMEM, OM_ECANCELED.
 */
static enum om_status compute_areas(const struct om__qc_ctx *c,
                                    const uint8_t *need, double *area,
                                    struct om_error *err)
{
    struct area_job j;
    memset(&j, 0, sizeof j);
    j.layer = c->layer;
    om_layer_view(c->layer, &j.v);
    j.progress = c->progress;
    j.need = need;
    j.area = area;
    j.nchunks = (j.v.nfeatures + AREA_CHUNK - 1) / AREA_CHUNK;
    for (size_t f = 0; f < j.v.nfeatures; f++) {
        area[f] = NAN;
    }
    int nthreads = thread_count(c->threads, j.nchunks);
    struct area_worker ws[MAX_THREADS];
    memset(ws, 0, sizeof ws[0] * (size_t)nthreads);
    enum om_status st = OM_OK;
    int nready = 0;
    for (int t = 0; t < nthreads; t++) {
        struct om_error e;
        ws[t].j = &j;
        st = om_area_ctx_new(c->crs, &ws[t].ctx, &e);
        if (st != OM_OK) {
            break;
        }
        nready++;
    }
    if (st == OM_ENOMEM) {
        st = om__enomem(err, om_layer_name(c->layer));
    } else if (nready == 0) {
        st = OM_OK; /* no area context for this CRS: A007 not checked */
    } else if (pthread_mutex_init(&j.lock, NULL) != 0) {
        st = om__error(err, OM_ENOMEM, om_layer_name(c->layer), 0, -1,
                       "cannot create a mutex");
    } else {
        st = OM_OK;
        pthread_t tids[MAX_THREADS];
        bool started[MAX_THREADS] = {false};
        for (int t = 1; t < nready; t++) {
            started[t] = pthread_create(&tids[t], NULL, area_main, &ws[t]) == 0;
        }
        area_main(&ws[0]);
        for (int t = 1; t < nready; t++) {
            if (started[t]) {
                pthread_join(tids[t], NULL);
            }
        }
        pthread_mutex_destroy(&j.lock);
        if (j.status != OM_OK) {
            st = j.status;
            if (err) {
                *err = j.err;
            }
        } else if (om__canceled(c->progress)) {
            st = om__error(err, OM_ECANCELED, om_layer_name(c->layer), 0, -1,
                           "quality control canceled");
        }
    }
    for (int t = 0; t < nthreads; t++) {
        om_area_ctx_free(ws[t].ctx);
    }
    return st;
}

/* ---- the per-feature pass ---- */

struct pass {
    const struct om__qc_ctx *c;
    const struct om_layer *l;
    struct om_layer_view v;
    struct col *cols; /* the schema's fields first (nfields of them) */
    size_t nfields;
    struct uniq *uniq; /* per listed field; slots NULL if not unique */
    int net, gross, deduct, areacol;
    double *area; /* NULL when A007 is not checked */
    bool w3, w4, w5, w6, w7;
};

static enum om_status feature_fields(struct pass *p, size_t f, double x,
                                     double y, struct om_error *err)
{
    const struct om__qc_ctx *c = p->c;
    int64_t fid = p->v.fid[f];
    char buf[64], q[96], zh[640], en[640];
    for (size_t i = 0; i < p->nfields; i++) {
        const struct col *k = &p->cols[i];
        const struct om_qc_field *fd = k->field;
        if (k->index < 0) {
            continue;
        }
        const char *raw = value_text(p->l, f, k->index, buf, sizeof buf);
        size_t n = 0;
        const char *s = raw ? trim(raw, &n) : NULL;
        enum om_status st = OM_OK;
        if (n == 0) {
            if (fd->required && p->w3) {
                snprintf(en, sizeof en, "Required field %s is %s", k->name,
                         raw ? "blank" : "NULL");
                snprintf(zh, sizeof zh, "必填字段 %s 为空", k->name);
                st = emit(c, "A003", fid, -1, x, y, NAN, k->name, zh, en, err);
            }
            if (st != OM_OK) {
                return st;
            }
            continue;
        }
        char why_en[128], why_zh[128];
        if (p->w4 && !in_domain(fd, s, n, why_en, why_zh, sizeof why_en)) {
            quote(s, n, q, sizeof q);
            snprintf(en, sizeof en,
                     "Value '%s' of %s is not in its domain (%s)", q, k->name,
                     why_en);
            snprintf(zh, sizeof zh, "字段 %s 的值“%s”不在值域内（%s）", k->name,
                     q, why_zh);
            st = emit(c, "A004", fid, -1, x, y, NAN, k->name, zh, en, err);
            if (st != OM_OK) {
                return st;
            }
        }
        if (p->w5 && p->uniq[i].slots) {
            int64_t first = -1;
            bool copy = om_layer_field_type(p->l, k->index) != OM_FIELD_TEXT;
            st = uniq_put(&p->uniq[i], s, n, copy, fid, &first, err);
            if (st == OM_OK && first >= 0) {
                quote(s, n, q, sizeof q);
                snprintf(en, sizeof en,
                         "Value '%s' of unique field %s repeats fid %lld", q,
                         k->name, (long long)first);
                snprintf(zh, sizeof zh, "唯一字段 %s 的值“%s”与要素 %lld 重复",
                         k->name, q, (long long)first);
                st = emit(c, "A005", fid, first, x, y, NAN, k->name, zh, en,
                          err);
            }
            if (st != OM_OK) {
                return st;
            }
        }
    }
    return OM_OK;
}

static enum om_status feature_areas(struct pass *p, size_t f, double x,
                                    double y, struct om_error *err)
{
    const struct om__qc_ctx *c = p->c;
    const struct om_qc_schema *sc = c->schema;
    int64_t fid = p->v.fid[f];
    char zh[640], en[640];
    double net, gross, deduct = 0;
    if (p->w6 && p->net >= 0 && p->gross >= 0 &&
        value_number(p->l, f, p->net, &net) &&
        value_number(p->l, f, p->gross, &gross)) {
        if (p->deduct >= 0 && !value_number(p->l, f, p->deduct, &deduct)) {
            deduct = 0; /* NULL deduction: nothing deducted */
        }
        double d = net - (gross - deduct);
        if (fabs(d) > c->conf->tbdlmj_abs_m2) {
            snprintf(en, sizeof en,
                     "%s %.2f differs from %s %.2f - %s %.2f by %.4f m²",
                     sc->net_field, net, sc->gross_field, gross,
                     sc->deduct_field, deduct, d);
            snprintf(zh, sizeof zh,
                     "%s %.2f 不等于 %s %.2f − %s %.2f，相差 %.4f 平方米",
                     sc->net_field, net, sc->gross_field, gross,
                     sc->deduct_field, deduct, d);
            enum om_status st =
                emit(c, "A006", fid, -1, x, y, d, sc->net_field, zh, en, err);
            if (st != OM_OK) {
                return st;
            }
        }
    }
    double rec;
    if (p->area && isfinite(p->area[f]) &&
        value_number(p->l, f, p->areacol, &rec)) {
        double comp = p->area[f], d = rec - comp;
        if (fabs(d) > c->conf->area_abs_m2 &&
            fabs(d) > c->conf->area_rel * fabs(comp)) {
            snprintf(en, sizeof en,
                     "%s %.2f m² differs from the computed ellipsoidal area "
                     "%.2f m² by %.2f m²",
                     sc->area_field, rec, comp, d);
            snprintf(zh, sizeof zh,
                     "%s %.2f 平方米与计算的椭球面积 %.2f 平方米相差 %.2f "
                     "平方米",
                     sc->area_field, rec, comp, d);
            return emit(c, "A007", fid, -1, x, y, d, sc->area_field, zh, en,
                        err);
        }
    }
    return OM_OK;
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n) {
        c *= 2;
    }
    return c;
}

enum om_status om__qc_attributes(const struct om__qc_ctx *c,
                                 struct om_error *err)
{
    if (!c || !c->layer || !c->conf) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om__qc_attributes: missing layer or configuration");
    }
    const struct om_qc_schema *sc = c->schema;
    if (!sc) {
        return OM_OK;
    }
    const struct om_layer *l = c->layer;
    const char *lname = om_layer_name(l);
    struct pass p;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.l = l;
    om_layer_view(l, &p.v);
    p.nfields = sc->nfields;
    p.net = p.gross = p.deduct = p.areacol = -1;
    enum om_status st = OM_OK;
    uint8_t *need = NULL;

    /* the columns: listed fields, then area / net-area fields not listed */
    const char *extra[4] = {sc->area_field, sc->net_field, sc->gross_field,
                            sc->deduct_field};
    p.cols = om__calloc(sc->nfields + 4, sizeof *p.cols);
    p.uniq = om__calloc(sc->nfields ? sc->nfields : 1, sizeof *p.uniq);
    if (!p.cols || !p.uniq) {
        st = om__enomem(err, lname);
        goto done;
    }
    size_t ncols = 0;
    for (size_t i = 0; i < sc->nfields; i++) {
        const struct om_qc_field *fd = &sc->fields[i];
        p.cols[ncols++] = (struct col){fd->name, fd, fd->type, fd->required,
                                       om_layer_field_index(l, fd->name)};
        om__arena_init(&p.uniq[i].keys);
    }
    for (size_t e = 0; e < 4; e++) {
        bool listed = extra[e] == NULL;
        for (size_t i = 0; i < ncols && !listed; i++) {
            listed = om__strcasecmp(p.cols[i].name, extra[e]) == 0;
        }
        if (!listed) {
            /* the deduction may be absent (nothing deducted) */
            p.cols[ncols++] = (struct col){extra[e], NULL, -1, e != 3,
                                           om_layer_field_index(l, extra[e])};
        }
    }
    st = check_columns(c, p.cols, ncols, err);
    if (st != OM_OK) {
        goto done;
    }

    p.w3 = om__qc_wanted(c->sink, "A003");
    p.w4 = om__qc_wanted(c->sink, "A004");
    p.w5 = om__qc_wanted(c->sink, "A005");
    p.w6 = om__qc_wanted(c->sink, "A006");
    p.w7 = om__qc_wanted(c->sink, "A007");
    size_t nf = p.v.nfeatures;
    if (p.w5) {
        for (size_t i = 0; i < sc->nfields; i++) {
            if (sc->fields[i].unique && p.cols[i].index >= 0) {
                p.uniq[i].cap = pow2_at_least(2 * nf + 1);
                p.uniq[i].slots =
                    om__calloc(p.uniq[i].cap, sizeof *p.uniq[i].slots);
                if (!p.uniq[i].slots) {
                    st = om__enomem(err, lname);
                    goto done;
                }
            }
        }
    }
    if (sc->net_field && sc->gross_field) {
        p.net = om_layer_field_index(l, sc->net_field);
        p.gross = om_layer_field_index(l, sc->gross_field);
        p.deduct =
            sc->deduct_field ? om_layer_field_index(l, sc->deduct_field) : -1;
    }
    if (sc->area_field) {
        p.areacol = om_layer_field_index(l, sc->area_field);
    }
    if (p.w7 && p.areacol >= 0 && c->crs && nf > 0) {
        need = om__malloc(nf);
        p.area = om__malloc(nf * sizeof *p.area);
        if (!need || !p.area) {
            st = om__enomem(err, lname);
            goto done;
        }
        double tmp;
        for (size_t f = 0; f < nf; f++) {
            need[f] = value_number(l, f, p.areacol, &tmp);
        }
        st = compute_areas(c, need, p.area, err);
        if (st != OM_OK) {
            goto done;
        }
    }

    /* nothing per feature to do (e.g. --only G001,T001) */
    bool per_feature = p.w3 || p.w4 || p.w5 || p.w6 || p.w7;
    for (size_t r = 0; per_feature && r < nf && st == OM_OK; r++) {
        size_t f = om_layer_feature_by_fid_rank(l, r);
        if (om__progress(c->progress, "qc attributes", r, nf)) {
            st = om__error(err, OM_ECANCELED, lname, 0, -1,
                           "quality control canceled");
            break;
        }
        double x, y;
        first_vertex(&p.v, f, &x, &y);
        st = feature_fields(&p, f, x, y, err);
        if (st == OM_OK) {
            st = feature_areas(&p, f, x, y, err);
        }
    }

done:
    if (p.uniq) {
        for (size_t i = 0; i < sc->nfields; i++) {
            om__free(p.uniq[i].slots);
            om__arena_deinit(&p.uniq[i].keys);
        }
    }
    om__free(p.uniq);
    om__free(p.cols);
    om__free(need);
    om__free(p.area);
    return st;
}

/* ---- C001 ---- */

enum om_status om__qc_crs(const struct om__qc_ctx *c, struct om_error *err)
{
    if (!c || !c->layer) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om__qc_crs: missing layer");
    }
    if (!c->crs || !om__qc_wanted(c->sink, "C001")) {
        return OM_OK;
    }
    int epsg = om_crs_epsg(c->crs);
    bool prefix = false;
    int zone = om_gk3_zone_of_epsg(epsg, &prefix);
    struct om_rect ok;
    char range_en[256], range_zh[256];
    if (zone != 0 && prefix) {
        double z = zone * 1e6;
        ok = (struct om_rect){z + 100000, 0, z + 900000, 6200000};
        snprintf(range_en, sizeof range_en,
                 "zone %d with prefix: eastings %.0f..%.0f m, northings "
                 "0..6200000 m",
                 zone, ok.minx, ok.maxx);
        snprintf(range_zh, sizeof range_zh,
                 "%d 带（带号）：东坐标 %.0f..%.0f 米，北坐标 0..6200000 米",
                 zone, ok.minx, ok.maxx);
    } else if (zone != 0) {
        ok = (struct om_rect){0, 0, 1000000, 6200000};
        snprintf(range_en, sizeof range_en,
                 "zone %d without prefix: eastings 0..1000000 m, northings "
                 "0..6200000 m",
                 zone);
        snprintf(range_zh, sizeof range_zh,
                 "%d 带（无带号）：东坐标 0..1000000 米，北坐标 0..6200000 米",
                 zone);
    } else if (epsg == 4490 || epsg == 4326) {
        ok = (struct om_rect){73, 3, 136, 54};
        snprintf(range_en, sizeof range_en,
                 "longitude 73..136, latitude 3..54 degrees");
        snprintf(range_zh, sizeof range_zh, "经度 73..136 度，纬度 3..54 度");
    } else {
        return OM_OK; /* no known range for other CRSs */
    }
    const struct om_layer *l = c->layer;
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t nonempty = 0, nout = 0;
    double ex = NAN, ey = NAN;
    for (size_t r = 0; r < v.nfeatures; r++) {
        size_t f = om_layer_feature_by_fid_rank(l, r);
        if (v.part_start[f + 1] == v.part_start[f]) {
            continue;
        }
        nonempty++;
        struct om_rect b = v.bbox[f];
        if (b.minx >= ok.minx && b.maxx <= ok.maxx && b.miny >= ok.miny &&
            b.maxy <= ok.maxy) {
            continue;
        }
        if (nout++ > 0) {
            continue;
        }
        /* the example: the first vertex out of range (or not finite) */
        size_t p0 = v.ring_start[v.part_start[f]];
        size_t i0 = v.point_start[p0];
        size_t i1 = v.point_start[v.ring_start[v.part_start[f + 1]]];
        for (size_t i = i0; i < i1; i++) {
            double x = v.xy[2 * i], y = v.xy[2 * i + 1];
            if (!(x >= ok.minx && x <= ok.maxx && y >= ok.miny &&
                  y <= ok.maxy)) {
                ex = x;
                ey = y;
                break;
            }
        }
    }
    if (nout == 0) {
        return OM_OK;
    }
    double share = 100.0 * (double)nout / (double)nonempty;
    char xy[96], hint_en[160] = "", hint_zh[160] = "";
    fmt_xy(xy, sizeof xy, ex, ey);
    if (zone != 0 && isfinite(ex)) {
        int have = om_gk3_zone_from_easting(ex);
        if (prefix && have == 0 && ex >= 0 && ex < 1e6) {
            snprintf(hint_en, sizeof hint_en,
                     "; the eastings lack the zone prefix %d", zone);
            snprintf(hint_zh, sizeof hint_zh, "；东坐标缺少带号 %d", zone);
        } else if (have != 0 && have != zone) {
            snprintf(hint_en, sizeof hint_en,
                     "; the eastings carry the prefix of zone %d, not %d", have,
                     zone);
            snprintf(hint_zh, sizeof hint_zh,
                     "；东坐标带号为 %d，而坐标系为 %d 带", have, zone);
        }
    }
    char zh[1024], en[1024];
    snprintf(en, sizeof en,
             "%zu of %zu features (%.2f%%) have coordinates outside the range "
             "of EPSG:%d (%s), e.g. %s%s",
             nout, nonempty, share, epsg, range_en, xy, hint_en);
    snprintf(zh, sizeof zh,
             "%zu / %zu 个要素（%.2f%%）的坐标超出 EPSG:%d 的范围（%s），例如 "
             "%s%s",
             nout, nonempty, share, epsg, range_zh, xy, hint_zh);
    return emit(c, "C001", -1, -1, ex, ey, share, NULL, zh, en, err);
}
