/*
 * rules.c — the project / rule file (onemap.yaml): YAML parsing with
 * libyaml (the only file that includes <yaml.h>), validation into the
 * struct om_rules model of onemap/rules.h (rules, compliance review
 * profiles and the quality control section), feature filters
 * (om_rule_side_select) and the built-in default set (default_rules.c).
 *
 * Parsing is two passes over the text: a scan of libyaml's events that
 * enforces the limits (nodes, depth) and refuses anchors and aliases before
 * anything is built, then libyaml's document loader, whose node tree (with
 * line/column marks) is walked and checked. libyaml allocates with plain
 * malloc; its objects never escape this file.
 */
#include "onemap/rules.h"

#include "core/core.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* Generated into default_rules.c by tools/gen-rules. */
const char *om__default_rules_line(size_t i);

/* ---- names ---- */

static const char *const kind_names[] = {"must_not_overlap", "must_be_within",
                                         "must_cover"};
static const char *const severity_names[] = {"error", "warning", "info"};
static const char *const role_names[] = {
    "landuse",     "admin",           "farmland",
    "eco_redline", "urban_boundary",  "zoning",
    "planned_use", "farmland_target", "other"};
static const char *const table_names[] = {"dlbm", "ydyh", "czcs"};
static const char *const check_kind_names[] = {
    "forbidden", "conditional", "must_be_within", "report", "purpose"};
static const char *const decision_names[] = {"pass", "conditional", "fail"};
static const char *const decision_zh[] = {"通过", "有条件通过", "不通过"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *om_rule_kind_name(enum om_rule_kind k)
{
    if (k >= OM_RULE_MUST_NOT_OVERLAP && k <= OM_RULE_MUST_COVER) {
        return kind_names[k - 1];
    }
    return "?";
}

const char *om_severity_name(enum om_severity s)
{
    if (s >= OM_SEV_ERROR && s <= OM_SEV_INFO) {
        return severity_names[s - 1];
    }
    return "?";
}

const char *om_check_kind_name(enum om_check_kind k)
{
    if (k >= OM_CHECK_FORBIDDEN && k <= OM_CHECK_PURPOSE) {
        return check_kind_names[k - 1];
    }
    return "?";
}

const char *om_decision_name(enum om_decision d)
{
    if (d >= OM_DECISION_PASS && d <= OM_DECISION_FAIL) {
        return decision_names[d];
    }
    return "?";
}

const char *om_decision_zh(enum om_decision d)
{
    if (d >= OM_DECISION_PASS && d <= OM_DECISION_FAIL) {
        return decision_zh[d];
    }
    return "?";
}

/* ---- freeing ---- */

static void free_qc(struct om_qc_conf *q);

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        om__free(v[i]);
    }
    om__free(v);
}

static void free_side(struct om_rule_side *s)
{
    om__free(s->layer);
    for (size_t i = 0; i < s->nterms; i++) {
        struct om_filter_term *t = &s->terms[i];
        om__free(t->field);
        free_strv(t->values, t->nvalues);
        om__free(t->group);
    }
    om__free(s->terms);
    om__free(s->text);
}

void om_rules_free(struct om_rules *r)
{
    if (!r) {
        return;
    }
    om__free(r->source);
    om__free(r->name);
    om__free(r->crs);
    for (size_t i = 0; i < r->nlayers; i++) {
        om__free(r->layers[i].code);
        om__free(r->layers[i].role);
        om__free(r->layers[i].title);
        free_strv(r->layers[i].keys, r->layers[i].nkeys);
    }
    om__free(r->layers);
    om__free(r->admin_layer);
    om__free(r->admin_code);
    om__free(r->admin_name);
    for (size_t i = 0; i < r->nrules; i++) {
        struct om_rule *u = &r->rules[i];
        om__free(u->id);
        free_side(&u->a);
        free_side(&u->b);
        om__free(u->zh);
        om__free(u->en);
        om__free(u->basis);
    }
    om__free(r->rules);
    for (size_t i = 0; i < r->nprofiles; i++) {
        struct om_check_profile *pf = &r->profiles[i];
        for (size_t j = 0; j < pf->nchecks; j++) {
            struct om_check_rule *c = &pf->checks[j];
            om__free(c->id);
            free_side(&c->layer);
            om__free(c->by);
            om__free(c->zh);
            om__free(c->en);
            om__free(c->basis);
        }
        om__free(pf->checks);
        om__free(pf->name);
        om__free(pf->zh);
        om__free(pf->en);
    }
    om__free(r->profiles);
    free_qc(&r->qc);
    om__free(r);
}

const struct om_layer_conf *om_rules_layer(const struct om_rules *r,
                                           const char *code)
{
    for (size_t i = 0; r && code && i < r->nlayers; i++) {
        if (om__strcasecmp(r->layers[i].code, code) == 0) {
            return &r->layers[i];
        }
    }
    return NULL;
}

const struct om_check_profile *om_rules_profile(const struct om_rules *r,
                                                const char *name)
{
    for (size_t i = 0; r && name && i < r->nprofiles; i++) {
        if (strcmp(r->profiles[i].name, name) == 0) {
            return &r->profiles[i];
        }
    }
    return NULL;
}

const struct om_rule *om_rules_find(const struct om_rules *r, const char *id)
{
    for (size_t i = 0; r && id && i < r->nrules; i++) {
        if (strcmp(r->rules[i].id, id) == 0) {
            return &r->rules[i];
        }
    }
    return NULL;
}

/* ---- "did you mean" ---- */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) {
        return 64;
    }
    size_t row[64];
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) ==
                       tolower((unsigned char)b[j - 1]);
            size_t best = diag + (same ? 0 : 1);
            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

/* The closest of `names` to `word` when close enough, else NULL. */
static const char *closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t bestd = 3;
    size_t lw = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, names[i]);
        size_t ln = strlen(names[i]);
        size_t lim = (lw < ln ? lw : ln) / 3 + 1;
        if (lim > 2) {
            lim = 2;
        }
        if (d <= lim && d < bestd) {
            best = names[i];
            bestd = d;
        }
    }
    return best;
}

/* " (did you mean 'x'?)" or "" into buf. */
static const char *hint(char *buf, size_t size, const char *word,
                        const char *const *names, size_t n)
{
    const char *c = closest(word, names, n);
    if (c) {
        snprintf(buf, size, " (did you mean '%s'?)", c);
    } else {
        buf[0] = '\0';
    }
    return buf;
}

/* "a, b, c" into buf. */
static const char *join(char *buf, size_t size, const char *const *names,
                        size_t n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < size; i++) {
        int k =
            snprintf(buf + off, size - off, "%s%s", i ? ", " : "", names[i]);
        if (k < 0) {
            break;
        }
        off += (size_t)k;
    }
    return buf;
}

/* ---- the walk over libyaml's document ---- */

struct walk {
    yaml_document_t *doc;
    const char *source;
    struct om_error *err;
    struct om_rules *r;
    enum om_severity def_severity;
    double def_min_area, def_min_width;
    bool has_def_min_area; /* defaults.min_area given (profile tolerance) */
    bool is_builtin;       /* parsing the built-in set itself */
};

static yaml_node_t *node_at(struct walk *w, int id)
{
    return yaml_document_get_node(w->doc, id);
}

static enum om_status perr(struct walk *w, const yaml_node_t *n,
                           const char *fmt, ...) OM__PRINTF(3, 4);
static enum om_status perr(struct walk *w, const yaml_node_t *n,
                           const char *fmt, ...)
{
    char msg[OM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    long line = n ? (long)n->start_mark.line + 1 : 0;
    long col = n ? (long)n->start_mark.column + 1 : 0;
    return om__error(w->err, OM_EPARSE, w->source, line, -1, "column %ld: %s",
                     col, msg);
}

static const char *type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return "a single value";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping (key: value)";
    default:
        return "nothing";
    }
}

static bool is_null(const yaml_node_t *n)
{
    if (!n) {
        return true;
    }
    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    return len == 0 || (len == 1 && v[0] == '~') ||
           (len == 4 &&
            (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
             memcmp(v, "NULL", 4) == 0));
}

/*
 * The scalar's text, trimmed of ASCII blanks, into a fresh string.
 * `what` names the item for messages ("rule R001: id").
 */
static enum om_status scalar_dup(struct walk *w, const yaml_node_t *n,
                                 const char *what, char **out)
{
    *out = NULL;
    if (is_null(n)) {
        return perr(w, n, "%s: missing value", what);
    }
    if (n->type != YAML_SCALAR_NODE) {
        return perr(w, n, "%s: expected a single value, found %s", what,
                    type_name(n));
    }
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (len > OM_LIMIT_RULES_SCALAR) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: %s: value of %zu bytes is longer than "
            "the limit of %u (OM_LIMIT_RULES_SCALAR)",
            (long)n->start_mark.column + 1, what, len, OM_LIMIT_RULES_SCALAR);
    }
    if (memchr(v, '\0', len)) {
        return perr(w, n, "%s: value contains a NUL character", what);
    }
    while (len > 0 && isspace((unsigned char)v[0])) {
        v++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)v[len - 1])) {
        len--;
    }
    if (len == 0) {
        return perr(w, n, "%s: empty value", what);
    }
    *out = om__strndup(v, len);
    return *out ? OM_OK : om__enomem(w->err, w->source);
}

/* Whether scalar node n equals `s`. */
static bool scalar_is(const yaml_node_t *n, const char *s)
{
    size_t len = strlen(s);
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
           memcmp(n->data.scalar.value, s, len) == 0;
}

/*
 * Check that mapping `m` has only keys from `allowed`, each scalar and each
 * at most once. `what` names the mapping.
 */
static enum om_status check_keys(struct walk *w, const yaml_node_t *m,
                                 const char *what, const char *const *allowed,
                                 size_t nallowed)
{
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(w, p->key);
        if (!k || k->type != YAML_SCALAR_NODE) {
            return perr(w, k ? k : m, "%s: a key must be a single value", what);
        }
        const char *ks = (const char *)k->data.scalar.value;
        bool known = false;
        for (size_t i = 0; i < nallowed; i++) {
            if (scalar_is(k, allowed[i])) {
                known = true;
            }
        }
        if (!known) {
            char h[96], list[256];
            if (strlen(ks) > 64 || memchr(ks, '\0', k->data.scalar.length)) {
                return perr(w, k, "%s: unknown key (known keys: %s)", what,
                            join(list, sizeof list, allowed, nallowed));
            }
            return perr(w, k, "%s: unknown key '%s'%s (known keys: %s)", what,
                        ks, hint(h, sizeof h, ks, allowed, nallowed),
                        join(list, sizeof list, allowed, nallowed));
        }
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node_at(w, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && scalar_is(k2, ks)) {
                return perr(w, k,
                            "%s: key '%s' given twice (first at line %ld)",
                            what, ks, (long)k2->start_mark.line + 1);
            }
        }
    }
    return OM_OK;
}

/* The value of key `key` in mapping `m`, or NULL. */
static yaml_node_t *map_get(struct walk *w, const yaml_node_t *m,
                            const char *key)
{
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top; p++) {
        if (scalar_is(node_at(w, p->key), key)) {
            return node_at(w, p->value);
        }
    }
    return NULL;
}

static enum om_status expect_map(struct walk *w, const yaml_node_t *n,
                                 const char *what)
{
    if (!n || n->type != YAML_MAPPING_NODE) {
        return perr(w, n, "%s: expected a mapping (key: value), found %s", what,
                    n ? type_name(n) : "nothing");
    }
    return OM_OK;
}

/* Optional string: absent or null leaves *out NULL. */
static enum om_status opt_str(struct walk *w, const yaml_node_t *m,
                              const char *key, const char *what, char **out)
{
    yaml_node_t *v = map_get(w, m, key);
    *out = NULL;
    if (!v || is_null(v)) {
        return OM_OK;
    }
    char buf[128];
    snprintf(buf, sizeof buf, "%s: %s", what, key);
    return scalar_dup(w, v, buf, out);
}

/* A finite number >= 0 written plainly (digits, sign, '.', exponent). */
static enum om_status parse_nonneg(struct walk *w, const yaml_node_t *n,
                                   const char *what, double *out)
{
    char *s = NULL;
    enum om_status st = scalar_dup(w, n, what, &s);
    if (st != OM_OK) {
        return st;
    }
    bool plain = true;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c) && !strchr("+-.eE", *c)) {
            plain = false;
        }
    }
    errno = 0;
    char *end = NULL;
    double d = strtod(s, &end);
    if (!plain || end == s || *end != '\0' || errno == ERANGE || !isfinite(d)) {
        st = perr(w, n, "%s: '%s' is not a number", what, s);
    } else if (d < 0) {
        st = perr(w, n, "%s: %s is negative; must be 0 or more", what, s);
    } else {
        *out = d;
    }
    om__free(s);
    return st;
}

/* Pick `word` from `names` (1-based index into *out). */
static enum om_status parse_enum(struct walk *w, const yaml_node_t *n,
                                 const char *what, const char *const *names,
                                 size_t nnames, int *out)
{
    char *s = NULL;
    enum om_status st = scalar_dup(w, n, what, &s);
    if (st != OM_OK) {
        return st;
    }
    for (size_t i = 0; i < nnames; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i + 1;
            om__free(s);
            return OM_OK;
        }
    }
    char h[96], list[256];
    st = perr(w, n, "%s: unknown value '%.64s'%s (one of: %s)", what, s,
              hint(h, sizeof h, s, names, nnames),
              join(list, sizeof list, names, nnames));
    om__free(s);
    return st;
}

/* A layer code: [A-Za-z0-9_]+, upper-cased. */
static enum om_status parse_code(struct walk *w, const yaml_node_t *n,
                                 const char *what, char **out)
{
    enum om_status st = scalar_dup(w, n, what, out);
    if (st != OM_OK) {
        return st;
    }
    char *s = *out;
    size_t len = strlen(s);
    bool ok = len <= OM_LIMIT_CODE_BYTES;
    for (char *c = s; *c && ok; c++) {
        if (!isalnum((unsigned char)*c) && *c != '_') {
            ok = false;
        }
        *c = (char)toupper((unsigned char)*c);
    }
    if (!ok) {
        st = perr(w, n,
                  "%s: '%.64s' is not a layer code (letters, digits and _, "
                  "at most %u bytes)",
                  what, s, OM_LIMIT_CODE_BYTES);
        om__free(s);
        *out = NULL;
    }
    return st;
}

/* A list of single values (or one value) into a string vector. */
static enum om_status parse_strv(struct walk *w, const yaml_node_t *n,
                                 const char *what, char ***out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (is_null(n)) {
        return perr(w, n, "%s: missing values", what);
    }
    if (n->type == YAML_MAPPING_NODE) {
        return perr(w, n, "%s: expected a value or a list of values, found %s",
                    what, type_name(n));
    }
    size_t count = n->type == YAML_SCALAR_NODE
                       ? 1
                       : (size_t)(n->data.sequence.items.top -
                                  n->data.sequence.items.start);
    if (count == 0) {
        return perr(w, n, "%s: empty list", what);
    }
    if (count > OM_LIMIT_RULES_VALUES) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: %s: %zu values, more than the limit of "
            "%u (OM_LIMIT_RULES_VALUES)",
            (long)n->start_mark.column + 1, what, count, OM_LIMIT_RULES_VALUES);
    }
    char **v = om__calloc(count, sizeof *v);
    if (!v) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item =
            n->type == YAML_SCALAR_NODE
                ? n
                : node_at(w, n->data.sequence.items.start[i]);
        enum om_status st = scalar_dup(w, item ? item : n, what, &v[i]);
        if (st != OM_OK) {
            free_strv(v, count);
            return st;
        }
    }
    *out = v;
    *nout = count;
    return OM_OK;
}

/* ---- filters ---- */

static enum om_code_table table_for_field(const char *field)
{
    static const struct {
        const char *field;
        enum om_code_table t;
    } known[] = {
        {"DLBM", OM_CODES_DLBM},     {"XZDWDLBM", OM_CODES_DLBM},
        {"YDYHFLDM", OM_CODES_YDYH}, {"YDYHDM", OM_CODES_YDYH},
        {"GHYTDM", OM_CODES_YDYH},   {"CZCSXM", OM_CODES_CZCS},
    };
    for (size_t i = 0; i < NELEM(known); i++) {
        if (om__strcasecmp(field, known[i].field) == 0) {
            return known[i].t;
        }
    }
    return 0;
}

static bool group_exists(enum om_code_table t, const char *group)
{
    for (size_t i = 0; om_code_group_names(t, i); i++) {
        if (strcmp(om_code_group_names(t, i), group) == 0) {
            return true;
        }
    }
    return false;
}

/* Append a zeroed term to side s. */
static struct om_filter_term *add_term(struct walk *w, struct om_rule_side *s,
                                       size_t *cap)
{
    if (!OM__GROW(s->terms, *cap, s->nterms + 1)) {
        om__enomem(w->err, w->source);
        return NULL;
    }
    struct om_filter_term *t = &s->terms[s->nterms++];
    memset(t, 0, sizeof *t);
    return t;
}

/* Check list values: no blanks-only, '*' only at the end, not alone. */
static enum om_status check_values(struct walk *w, const yaml_node_t *n,
                                   const char *what, char **v, size_t nv,
                                   bool is_prefix)
{
    for (size_t i = 0; i < nv; i++) {
        size_t len = strlen(v[i]);
        char *star = strchr(v[i], '*');
        if (is_prefix && star == v[i] + len - 1) {
            v[i][--len] = '\0'; /* "07*" under prefix: same as "07" */
            star = NULL;
        }
        if (star && star != v[i] + len - 1) {
            return perr(w, n,
                        "%s: '%.64s': '*' may only end a value (a prefix)",
                        what, v[i]);
        }
        if (len == 0 || (star && len == 1)) {
            return perr(w, n,
                        "%s: a lone '*' would match every value; leave the "
                        "field out instead",
                        what);
        }
    }
    return OM_OK;
}

static enum om_status parse_group(struct walk *w, struct om_filter_term *t,
                                  const yaml_node_t *gnode,
                                  enum om_code_table table, const char *what)
{
    enum om_status st = scalar_dup(w, gnode, what, &t->group);
    if (st != OM_OK) {
        return st;
    }
    if (!table) {
        table = table_for_field(t->field);
    }
    if (!table) {
        /* a group that exists in one table only says which */
        int found = 0;
        for (int k = OM_CODES_DLBM; k <= OM_CODES_CZCS; k++) {
            if (group_exists((enum om_code_table)k, t->group)) {
                table = (enum om_code_table)k;
                found++;
            }
        }
        if (found != 1) {
            return perr(w, gnode,
                        "%s: cannot tell which code table field '%s' uses; "
                        "add 'table: dlbm', 'table: ydyh' or 'table: czcs'",
                        what, t->field);
        }
    }
    t->table = table;
    if (!group_exists(table, t->group)) {
        const char *names[64];
        size_t n = 0;
        while (n < NELEM(names) && om_code_group_names(table, n)) {
            names[n] = om_code_group_names(table, n);
            n++;
        }
        char h[96], list[400];
        return perr(w, gnode,
                    "%s: unknown group '%.64s' of table %s%s (groups: %s)",
                    what, t->group, table_names[table - 1],
                    hint(h, sizeof h, t->group, names, n),
                    join(list, sizeof list, names, n));
    }
    return OM_OK;
}

/*
 * One field's condition: a value, a list, or a mapping of in / prefix /
 * group / not / table. `negate` is set inside `not:`.
 */
static enum om_status parse_cond(struct walk *w, struct om_rule_side *s,
                                 size_t *cap, const char *field,
                                 const yaml_node_t *c, bool negate,
                                 enum om_code_table table, const char *what)
{
    static const char *const keys[] = {"in", "prefix", "group", "not", "table"};
    static const char *const nkeys[] = {"in", "prefix", "group", "table"};
    enum om_status st;
    if (is_null(c)) {
        return perr(w, c, "%s: no values for field %s", what, field);
    }
    if (c->type != YAML_MAPPING_NODE) {
        struct om_filter_term *t = add_term(w, s, cap);
        if (!t) {
            return OM_ENOMEM;
        }
        t->line = (int)c->start_mark.line + 1;
        t->op = negate ? OM_FILTER_NOT_IN : OM_FILTER_IN;
        if (!(t->field = om__strdup(field))) {
            return om__enomem(w->err, w->source);
        }
        st = parse_strv(w, c, what, &t->values, &t->nvalues);
        if (st == OM_OK) {
            st = check_values(w, c, what, t->values, t->nvalues, false);
        }
        return st;
    }
    st = negate ? check_keys(w, c, what, nkeys, NELEM(nkeys))
                : check_keys(w, c, what, keys, NELEM(keys));
    if (st != OM_OK) {
        return st;
    }
    yaml_node_t *tn = map_get(w, c, "table");
    if (tn) {
        int k = 0;
        st = parse_enum(w, tn, what, table_names, NELEM(table_names), &k);
        if (st != OM_OK) {
            return st;
        }
        table = (enum om_code_table)k;
    }
    size_t before = s->nterms;
    for (yaml_node_pair_t *p = c->data.mapping.pairs.start;
         p < c->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(w, p->key);
        yaml_node_t *v = node_at(w, p->value);
        if (scalar_is(k, "table")) {
            continue;
        }
        if (scalar_is(k, "not")) {
            st = parse_cond(w, s, cap, field, v, true, table, what);
            if (st != OM_OK) {
                return st;
            }
            continue;
        }
        struct om_filter_term *t = add_term(w, s, cap);
        if (!t) {
            return OM_ENOMEM;
        }
        t->line = (int)k->start_mark.line + 1;
        if (!(t->field = om__strdup(field))) {
            return om__enomem(w->err, w->source);
        }
        if (scalar_is(k, "group")) {
            t->op = negate ? OM_FILTER_NOT_GROUP : OM_FILTER_GROUP;
            st = parse_group(w, t, v, table, what);
        } else {
            bool is_prefix = scalar_is(k, "prefix");
            t->op = is_prefix
                        ? (negate ? OM_FILTER_NOT_PREFIX : OM_FILTER_PREFIX)
                        : (negate ? OM_FILTER_NOT_IN : OM_FILTER_IN);
            st = parse_strv(w, v ? v : c, what, &t->values, &t->nvalues);
            if (st == OM_OK) {
                st = check_values(w, v, what, t->values, t->nvalues, is_prefix);
            }
        }
        if (st != OM_OK) {
            return st;
        }
    }
    if (s->nterms == before) {
        return perr(w, c,
                    "%s: no condition for field %s (use in, prefix, "
                    "group or not)",
                    what, field);
    }
    return OM_OK;
}

static enum om_status side_text(struct walk *w, struct om_rule_side *s)
{
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = om__buf_puts(&b, s->layer);
    for (size_t i = 0; i < s->nterms && st == OM_OK; i++) {
        const struct om_filter_term *t = &s->terms[i];
        st = om__buf_printf(&b, "%s%s ", i ? " and " : " where ", t->field);
        bool neg = t->op == OM_FILTER_NOT_IN || t->op == OM_FILTER_NOT_PREFIX ||
                   t->op == OM_FILTER_NOT_GROUP;
        if (st == OM_OK && neg) {
            st = om__buf_puts(&b, "not ");
        }
        if (st != OM_OK) {
            break;
        }
        if (t->op == OM_FILTER_GROUP || t->op == OM_FILTER_NOT_GROUP) {
            const char *zh = om_code_group_name_zh(t->table, t->group);
            st =
                om__buf_printf(&b, "in group %s (%s)", t->group, zh ? zh : "?");
            continue;
        }
        bool pre = t->op == OM_FILTER_PREFIX || t->op == OM_FILTER_NOT_PREFIX;
        st = om__buf_puts(&b, pre ? "starting with [" : "in [");
        for (size_t j = 0; j < t->nvalues && st == OM_OK; j++) {
            st = om__buf_printf(&b, "%s%s", j ? ", " : "", t->values[j]);
        }
        if (st == OM_OK) {
            st = om__buf_puts(&b, "]");
        }
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return om__error(w->err, st, w->source, 0, -1,
                         "cannot build the text of a rule side");
    }
    s->text = om__buf_take(&b);
    return s->text ? OM_OK : om__enomem(w->err, w->source);
}

/* `a:` or `b:` of a rule: a layer code or {layer, where}. */
static enum om_status parse_side(struct walk *w, const yaml_node_t *n,
                                 struct om_rule_side *s, const char *what)
{
    static const char *const keys[] = {"layer", "where"};
    enum om_status st;
    if (!n || n->type != YAML_MAPPING_NODE) {
        st = parse_code(w, n, what, &s->layer);
        return st == OM_OK ? side_text(w, s) : st;
    }
    if ((st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *ln = map_get(w, n, "layer");
    if (!ln) {
        return perr(w, n, "%s: missing 'layer'", what);
    }
    if ((st = parse_code(w, ln, what, &s->layer)) != OM_OK) {
        return st;
    }
    yaml_node_t *wn = map_get(w, n, "where");
    if (wn && !is_null(wn)) {
        char wwhat[128];
        snprintf(wwhat, sizeof wwhat, "%s: where", what);
        if ((st = expect_map(w, wn, wwhat)) != OM_OK) {
            return st;
        }
        size_t cap = 0;
        for (yaml_node_pair_t *p = wn->data.mapping.pairs.start;
             p < wn->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node_at(w, p->key);
            char *field = NULL;
            if ((st = scalar_dup(w, k, wwhat, &field)) != OM_OK) {
                return st;
            }
            if (strlen(field) > OM_LIMIT_NAME_BYTES) {
                om__free(field);
                return perr(w, k, "%s: field name longer than %u bytes", wwhat,
                            OM_LIMIT_NAME_BYTES);
            }
            st = parse_cond(w, s, &cap, field, node_at(w, p->value), false, 0,
                            wwhat);
            om__free(field);
            if (st != OM_OK) {
                return st;
            }
        }
    }
    return side_text(w, s);
}

/* ---- sections ---- */

static enum om_status parse_project(struct walk *w, const yaml_node_t *n)
{
    static const char *const keys[] = {"name", "crs"};
    enum om_status st;
    if ((st = expect_map(w, n, "project")) != OM_OK ||
        (st = check_keys(w, n, "project", keys, NELEM(keys))) != OM_OK ||
        (st = opt_str(w, n, "name", "project", &w->r->name)) != OM_OK) {
        return st;
    }
    return opt_str(w, n, "crs", "project", &w->r->crs);
}

static enum om_status parse_layers(struct walk *w, const yaml_node_t *n)
{
    static const char *const keys[] = {"role", "name", "keys"};
    enum om_status st = expect_map(w, n, "layers");
    if (st != OM_OK) {
        return st;
    }
    size_t count =
        (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count == 0) {
        return OM_OK;
    }
    w->r->layers = om__calloc(count, sizeof *w->r->layers);
    if (!w->r->layers) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(w, p->key);
        yaml_node_t *v = node_at(w, p->value);
        struct om_layer_conf *lc = &w->r->layers[w->r->nlayers++];
        if ((st = parse_code(w, k, "layers", &lc->code)) != OM_OK) {
            return st;
        }
        for (size_t j = 0; j + 1 < w->r->nlayers; j++) {
            if (strcmp(w->r->layers[j].code, lc->code) == 0) {
                return perr(w, k, "layers: layer %s is listed twice", lc->code);
            }
        }
        char what[128];
        snprintf(what, sizeof what, "layers: %s", lc->code);
        if (is_null(v)) {
            continue;
        }
        if ((st = expect_map(w, v, what)) != OM_OK ||
            (st = check_keys(w, v, what, keys, NELEM(keys))) != OM_OK ||
            (st = opt_str(w, v, "name", what, &lc->title)) != OM_OK) {
            return st;
        }
        yaml_node_t *rn = map_get(w, v, "role");
        if (rn && !is_null(rn)) {
            int role = 0;
            st = parse_enum(w, rn, what, role_names, NELEM(role_names), &role);
            if (st != OM_OK) {
                return st;
            }
            if (!(lc->role = om__strdup(role_names[role - 1]))) {
                return om__enomem(w->err, w->source);
            }
        }
        yaml_node_t *kn = map_get(w, v, "keys");
        if (kn && !is_null(kn)) {
            st = parse_strv(w, kn, what, &lc->keys, &lc->nkeys);
            if (st != OM_OK) {
                return st;
            }
        }
    }
    return OM_OK;
}

static enum om_status parse_admin(struct walk *w, const yaml_node_t *n)
{
    static const char *const keys[] = {"layer", "code", "name"};
    enum om_status st;
    if ((st = expect_map(w, n, "admin")) != OM_OK ||
        (st = check_keys(w, n, "admin", keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *ln = map_get(w, n, "layer");
    if (!ln) {
        return perr(w, n, "admin: missing 'layer' (e.g. layer: XZQ)");
    }
    if ((st = parse_code(w, ln, "admin: layer", &w->r->admin_layer)) != OM_OK) {
        return st;
    }
    yaml_node_t *cn = map_get(w, n, "code");
    if (!cn) {
        return perr(w, n,
                    "admin: missing 'code' (the unit code field, "
                    "e.g. code: XZQDM)");
    }
    if ((st = scalar_dup(w, cn, "admin: code", &w->r->admin_code)) != OM_OK) {
        return st;
    }
    return opt_str(w, n, "name", "admin", &w->r->admin_name);
}

static enum om_status parse_defaults(struct walk *w, const yaml_node_t *n)
{
    static const char *const keys[] = {"severity", "min_area", "min_width"};
    enum om_status st;
    if ((st = expect_map(w, n, "defaults")) != OM_OK ||
        (st = check_keys(w, n, "defaults", keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *v;
    if ((v = map_get(w, n, "severity")) != NULL) {
        int k = 0;
        st = parse_enum(w, v, "defaults: severity", severity_names,
                        NELEM(severity_names), &k);
        if (st != OM_OK) {
            return st;
        }
        w->def_severity = (enum om_severity)k;
    }
    if ((v = map_get(w, n, "min_area")) != NULL &&
        (st = parse_nonneg(w, v, "defaults: min_area", &w->def_min_area)) !=
            OM_OK) {
        return st;
    }
    w->has_def_min_area = v != NULL;
    if ((v = map_get(w, n, "min_width")) != NULL &&
        (st = parse_nonneg(w, v, "defaults: min_width", &w->def_min_width)) !=
            OM_OK) {
        return st;
    }
    return OM_OK;
}

static bool is_id_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static enum om_status parse_rule(struct walk *w, const yaml_node_t *n,
                                 size_t index, struct om_rule *u)
{
    static const char *const keys[] = {"id",       "kind",     "a",  "b",
                                       "severity", "zh",       "en", "basis",
                                       "min_area", "min_width"};
    char what[128];
    enum om_status st;
    u->line = (int)n->start_mark.line + 1;
    snprintf(what, sizeof what, "rule #%zu", index + 1);
    if ((st = expect_map(w, n, what)) != OM_OK) {
        return st;
    }
    yaml_node_t *idn = map_get(w, n, "id");
    if (!idn) {
        return perr(w, n, "%s: missing 'id' (e.g. id: R%03zu)", what,
                    index + 1);
    }
    if ((st = scalar_dup(w, idn, "rule id", &u->id)) != OM_OK) {
        return st;
    }
    bool ok = strlen(u->id) <= OM_LIMIT_RULES_ID_BYTES;
    for (const char *c = u->id; *c && ok; c++) {
        ok = is_id_char(*c);
    }
    if (!ok) {
        return perr(w, idn,
                    "rule id '%.64s': use letters, digits, '_', '-' and '.' "
                    "only, at most %u bytes",
                    u->id, OM_LIMIT_RULES_ID_BYTES);
    }
    for (size_t i = 0; i < index; i++) {
        if (strcmp(w->r->rules[i].id, u->id) == 0) {
            return perr(w, idn, "rule id %s is used twice (first at line %d)",
                        u->id, w->r->rules[i].line);
        }
    }
    snprintf(what, sizeof what, "rule %s", u->id);
    if ((st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    static const struct {
        const char *key, *desc;
    } required[] = {{"kind", "must_not_overlap, must_be_within or must_cover"},
                    {"a", "the first layer"},
                    {"b", "the second layer"}};
    for (size_t i = 0; i < NELEM(required); i++) {
        if (!map_get(w, n, required[i].key)) {
            return perr(w, n, "%s: missing '%s' (%s)", what, required[i].key,
                        required[i].desc);
        }
    }
    char sub[160];
    int k = 0;
    snprintf(sub, sizeof sub, "%s: kind", what);
    if ((st = parse_enum(w, map_get(w, n, "kind"), sub, kind_names,
                         NELEM(kind_names), &k)) != OM_OK) {
        return st;
    }
    u->kind = (enum om_rule_kind)k;
    snprintf(sub, sizeof sub, "%s: a", what);
    if ((st = parse_side(w, map_get(w, n, "a"), &u->a, sub)) != OM_OK) {
        return st;
    }
    snprintf(sub, sizeof sub, "%s: b", what);
    if ((st = parse_side(w, map_get(w, n, "b"), &u->b, sub)) != OM_OK) {
        return st;
    }
    u->severity = w->def_severity;
    yaml_node_t *v;
    if ((v = map_get(w, n, "severity")) != NULL && !is_null(v)) {
        snprintf(sub, sizeof sub, "%s: severity", what);
        if ((st = parse_enum(w, v, sub, severity_names, NELEM(severity_names),
                             &k)) != OM_OK) {
            return st;
        }
        u->severity = (enum om_severity)k;
    }
    if ((st = opt_str(w, n, "zh", what, &u->zh)) != OM_OK ||
        (st = opt_str(w, n, "en", what, &u->en)) != OM_OK ||
        (st = opt_str(w, n, "basis", what, &u->basis)) != OM_OK) {
        return st;
    }
    if (!u->zh && !u->en) {
        return perr(w, n,
                    "%s: missing 'zh' and 'en' (a description in "
                    "Chinese and/or English)",
                    what);
    }
    if (!u->zh && !(u->zh = om__strdup(u->en))) {
        return om__enomem(w->err, w->source);
    }
    if (!u->en && !(u->en = om__strdup(u->zh))) {
        return om__enomem(w->err, w->source);
    }
    u->min_area_m2 = w->def_min_area;
    u->min_width_m = w->def_min_width;
    if ((v = map_get(w, n, "min_area")) != NULL) {
        snprintf(sub, sizeof sub, "%s: min_area", what);
        if ((st = parse_nonneg(w, v, sub, &u->min_area_m2)) != OM_OK) {
            return st;
        }
    }
    if ((v = map_get(w, n, "min_width")) != NULL) {
        snprintf(sub, sizeof sub, "%s: min_width", what);
        if ((st = parse_nonneg(w, v, sub, &u->min_width_m)) != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status parse_rules(struct walk *w, const yaml_node_t *n)
{
    if (is_null(n)) {
        return OM_OK; /* "rules:" with nothing: an empty rule set */
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        return perr(w, n,
                    "rules: expected a list of rules (each starting "
                    "with '- id:'), found %s",
                    type_name(n));
    }
    size_t count =
        (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (count > OM_LIMIT_RULES) {
        return om__error(w->err, OM_ELIMIT, w->source,
                         (long)n->start_mark.line + 1, -1,
                         "%zu rules, more than the limit of %u "
                         "(OM_LIMIT_RULES)",
                         count, OM_LIMIT_RULES);
    }
    if (count == 0) {
        return OM_OK;
    }
    w->r->rules = om__calloc(count, sizeof *w->r->rules);
    if (!w->r->rules) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node_at(w, n->data.sequence.items.start[i]);
        w->r->nrules++;
        enum om_status st = parse_rule(w, item ? item : n, i, &w->r->rules[i]);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- compliance review profiles ---- */

/* The outcome of a violated check when `outcome:` is not given. */
static enum om_decision default_outcome(enum om_check_kind k)
{
    switch (k) {
    case OM_CHECK_FORBIDDEN:
    case OM_CHECK_MUST_BE_WITHIN:
        return OM_DECISION_FAIL;
    case OM_CHECK_CONDITIONAL:
    case OM_CHECK_PURPOSE:
        return OM_DECISION_CONDITIONAL;
    default:
        return OM_DECISION_PASS;
    }
}

/* [a-z][a-z0-9_-]{0,31}: safe in file names, URLs and command lines. */
static bool is_profile_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 32 || s[0] < 'a' || s[0] > 'z') {
        return false;
    }
    for (const char *c = s + 1; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                  *c == '_' || *c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* zh / en of a profile or check: a missing one is a copy of the other. */
static enum om_status fill_texts(struct walk *w, char **zh, char **en)
{
    if (!*zh && !(*zh = om__strdup(*en))) {
        return om__enomem(w->err, w->source);
    }
    if (!*en && !(*en = om__strdup(*zh))) {
        return om__enomem(w->err, w->source);
    }
    return OM_OK;
}

static enum om_status parse_check(struct walk *w, const yaml_node_t *n,
                                  const struct om_check_profile *pf,
                                  size_t index, struct om_check_rule *c)
{
    static const char *const keys[] = {"id", "kind",    "layer",
                                       "by", "outcome", "tolerance",
                                       "zh", "en",      "basis"};
    char what[160], sub[192];
    enum om_status st;
    c->line = (int)n->start_mark.line + 1;
    snprintf(what, sizeof what, "profile %s: check #%zu", pf->name, index + 1);
    if ((st = expect_map(w, n, what)) != OM_OK) {
        return st;
    }
    yaml_node_t *idn = map_get(w, n, "id");
    if (!idn) {
        return perr(w, n, "%s: missing 'id' (e.g. id: C%03zu)", what,
                    index + 1);
    }
    snprintf(sub, sizeof sub, "profile %s: check id", pf->name);
    if ((st = scalar_dup(w, idn, sub, &c->id)) != OM_OK) {
        return st;
    }
    bool ok = strlen(c->id) <= OM_LIMIT_RULES_ID_BYTES;
    for (const char *ch = c->id; *ch && ok; ch++) {
        ok = is_id_char(*ch);
    }
    if (!ok) {
        return perr(w, idn,
                    "profile %s: check id '%.64s': use letters, digits, '_', "
                    "'-' and '.' only, at most %u bytes",
                    pf->name, c->id, OM_LIMIT_RULES_ID_BYTES);
    }
    for (size_t i = 0; i < index; i++) {
        if (strcmp(pf->checks[i].id, c->id) == 0) {
            return perr(w, idn,
                        "profile %s: check id %s is used twice (first at "
                        "line %d)",
                        pf->name, c->id, pf->checks[i].line);
        }
    }
    snprintf(what, sizeof what, "profile %s: check %s", pf->name, c->id);
    if ((st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    static const struct {
        const char *key, *desc;
    } required[] = {{"kind", "forbidden, conditional, must_be_within, report "
                             "or purpose"},
                    {"layer", "the layer checked, e.g. layer: YJJBNTBHTB"}};
    for (size_t i = 0; i < NELEM(required); i++) {
        if (!map_get(w, n, required[i].key)) {
            return perr(w, n, "%s: missing '%s' (%s)", what, required[i].key,
                        required[i].desc);
        }
    }
    int k = 0;
    snprintf(sub, sizeof sub, "%s: kind", what);
    if ((st = parse_enum(w, map_get(w, n, "kind"), sub, check_kind_names,
                         NELEM(check_kind_names), &k)) != OM_OK) {
        return st;
    }
    c->kind = (enum om_check_kind)k;
    snprintf(sub, sizeof sub, "%s: layer", what);
    if ((st = parse_side(w, map_get(w, n, "layer"), &c->layer, sub)) != OM_OK) {
        return st;
    }
    yaml_node_t *v = map_get(w, n, "by");
    if (v && !is_null(v)) {
        snprintf(sub, sizeof sub, "%s: by", what);
        if ((st = scalar_dup(w, v, sub, &c->by)) != OM_OK) {
            return st;
        }
        if (strlen(c->by) > OM_LIMIT_NAME_BYTES) {
            return perr(w, v, "%s: field name longer than %u bytes", sub,
                        OM_LIMIT_NAME_BYTES);
        }
        if (c->kind == OM_CHECK_MUST_BE_WITHIN) {
            /* the area outside the layer has no class: a `by` there would
             * be silently ignored */
            return perr(w, v,
                        "%s: a must_be_within check measures the site "
                        "outside the layer, which has no class; remove 'by'",
                        sub);
        }
    }
    if (c->kind == OM_CHECK_PURPOSE && !c->by) {
        return perr(w, n,
                    "%s: missing 'by' (a purpose check compares the site's "
                    "use with the planned use in this field, e.g. "
                    "by: YDYHFLDM)",
                    what);
    }
    c->outcome = default_outcome(c->kind);
    if ((v = map_get(w, n, "outcome")) != NULL && !is_null(v)) {
        snprintf(sub, sizeof sub, "%s: outcome", what);
        if ((st = parse_enum(w, v, sub, decision_names, NELEM(decision_names),
                             &k)) != OM_OK) {
            return st;
        }
        c->outcome = (enum om_decision)(k - 1);
        if (c->kind == OM_CHECK_REPORT && c->outcome != OM_DECISION_PASS) {
            return perr(w, v,
                        "%s: a report check never decides, its outcome can "
                        "only be pass (use kind: conditional or forbidden "
                        "to decide)",
                        sub);
        }
    }
    c->tolerance_m2 = pf->tolerance_m2;
    if ((v = map_get(w, n, "tolerance")) != NULL) {
        snprintf(sub, sizeof sub, "%s: tolerance", what);
        if ((st = parse_nonneg(w, v, sub, &c->tolerance_m2)) != OM_OK) {
            return st;
        }
    }
    if ((st = opt_str(w, n, "zh", what, &c->zh)) != OM_OK ||
        (st = opt_str(w, n, "en", what, &c->en)) != OM_OK ||
        (st = opt_str(w, n, "basis", what, &c->basis)) != OM_OK) {
        return st;
    }
    if (!c->zh && !c->en) {
        return perr(w, n,
                    "%s: missing 'zh' and 'en' (a description in "
                    "Chinese and/or English)",
                    what);
    }
    return fill_texts(w, &c->zh, &c->en);
}

static enum om_status parse_profile(struct walk *w, const yaml_node_t *n,
                                    struct om_check_profile *pf)
{
    static const char *const keys[] = {"zh", "en", "tolerance", "checks"};
    char what[64];
    enum om_status st;
    snprintf(what, sizeof what, "profile %s", pf->name);
    if (is_null(n)) {
        return perr(w, n, "%s: empty; a profile needs 'checks:'", what);
    }
    if ((st = expect_map(w, n, what)) != OM_OK ||
        (st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK ||
        (st = opt_str(w, n, "zh", what, &pf->zh)) != OM_OK ||
        (st = opt_str(w, n, "en", what, &pf->en)) != OM_OK) {
        return st;
    }
    if (!pf->zh && !pf->en && !(pf->zh = om__strdup(pf->name))) {
        return om__enomem(w->err, w->source);
    }
    if ((st = fill_texts(w, &pf->zh, &pf->en)) != OM_OK) {
        return st;
    }
    pf->tolerance_m2 = w->has_def_min_area ? w->def_min_area : 1.0;
    yaml_node_t *v = map_get(w, n, "tolerance");
    if (v) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s: tolerance", what);
        if ((st = parse_nonneg(w, v, sub, &pf->tolerance_m2)) != OM_OK) {
            return st;
        }
    }
    v = map_get(w, n, "checks");
    if (!v) {
        return perr(w, n, "%s: missing 'checks:' (the list of checks)", what);
    }
    if (!is_null(v) && v->type != YAML_SEQUENCE_NODE) {
        return perr(w, v,
                    "%s: checks: expected a list of checks (each starting "
                    "with '- id:'), found %s",
                    what, type_name(v));
    }
    size_t count = is_null(v) ? 0
                              : (size_t)(v->data.sequence.items.top -
                                         v->data.sequence.items.start);
    if (count == 0) {
        /* a profile without checks would pass every site */
        return perr(w, v, "%s: no checks (a profile needs at least one)", what);
    }
    if (count > OM_LIMIT_PROFILE_CHECKS) {
        return om__error(w->err, OM_ELIMIT, w->source,
                         (long)v->start_mark.line + 1, -1,
                         "column %ld: %s: %zu checks, more than the limit of "
                         "%u (OM_LIMIT_PROFILE_CHECKS)",
                         (long)v->start_mark.column + 1, what, count,
                         OM_LIMIT_PROFILE_CHECKS);
    }
    pf->checks = om__calloc(count, sizeof *pf->checks);
    if (!pf->checks) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = node_at(w, v->data.sequence.items.start[i]);
        pf->nchecks++;
        st = parse_check(w, item ? item : v, pf, i, &pf->checks[i]);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status parse_profiles(struct walk *w, const yaml_node_t *n)
{
    enum om_status st;
    if (is_null(n)) {
        return OM_OK; /* "profiles:" with nothing: no profiles */
    }
    if (n->type != YAML_MAPPING_NODE) {
        return perr(w, n,
                    "profiles: expected a mapping of profile names to "
                    "profiles (e.g. default: {checks: [...]}), found %s",
                    type_name(n));
    }
    size_t count =
        (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > OM_LIMIT_PROFILES) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: %zu profiles, more than the limit of %u "
            "(OM_LIMIT_PROFILES)",
            (long)n->start_mark.column + 1, count, OM_LIMIT_PROFILES);
    }
    if (count == 0) {
        return OM_OK;
    }
    w->r->profiles = om__calloc(count, sizeof *w->r->profiles);
    if (!w->r->profiles) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(w, p->key);
        struct om_check_profile *pf = &w->r->profiles[w->r->nprofiles++];
        pf->line = k ? (int)k->start_mark.line + 1 : 0;
        if ((st = scalar_dup(w, k ? k : n, "profiles: profile name",
                             &pf->name)) != OM_OK) {
            return st;
        }
        if (!is_profile_name(pf->name)) {
            return perr(w, k,
                        "profiles: '%.64s' is not a profile name (a "
                        "lower-case letter, then lower-case letters, digits, "
                        "'_' or '-', at most 32 bytes)",
                        pf->name);
        }
        for (size_t j = 0; j + 1 < w->r->nprofiles; j++) {
            if (strcmp(w->r->profiles[j].name, pf->name) == 0) {
                return perr(w, k,
                            "profiles: profile %s is defined twice (first at "
                            "line %d)",
                            pf->name, w->r->profiles[j].line);
            }
        }
        st = parse_profile(w, node_at(w, p->value), pf);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

/* ---- quality control (qc:) ---- */

/* The thresholds: key, member and default (onemap/rules.h). */
#define QC_OFF(m) offsetof(struct om_qc_conf, m)
static const struct {
    const char *key;
    size_t off;
    double def;
} qc_thresholds[] = {
    {"sliver_area", QC_OFF(sliver_area_m2), 1.0},
    {"sliver_width", QC_OFF(sliver_width_m), 0.1},
    {"near_distance", QC_OFF(near_distance_m), 0.05},
    {"micro_segment", QC_OFF(micro_segment_m), 0.001},
    {"spike_angle", QC_OFF(spike_angle_deg), 1.0},
    {"area_rel", QC_OFF(area_rel), 0.001},
    {"area_abs", QC_OFF(area_abs_m2), 1.0},
    {"tbdlmj_abs", QC_OFF(tbdlmj_abs_m2), 0.01},
    {"crop_rel", QC_OFF(crop_rel), 0.05},
};
#undef QC_OFF

static const char *const qc_type_names[] = {"text", "integer", "real", "number",
                                            "any"};
static const int qc_type_codes[] = {OM_FIELD_TEXT, OM_FIELD_INT, OM_FIELD_REAL,
                                    -1, 0};
static const char *const qc_domain_names[] = {"dlbm", "ydyh", "czcs", "xzqdm"};

static double *qc_threshold(struct om_qc_conf *q, size_t i)
{
    return (double *)(void *)((char *)q + qc_thresholds[i].off);
}

/* Thresholds, coverage [DLTB, XZQ] and extent XZQ: every parsed file has
 * them, with or without a qc: section. */
static enum om_status qc_defaults(struct walk *w, struct om_qc_conf *q)
{
    for (size_t i = 0; i < NELEM(qc_thresholds); i++) {
        *qc_threshold(q, i) = qc_thresholds[i].def;
    }
    static const char *const coverage[] = {"DLTB", "XZQ"};
    q->coverage = om__calloc(NELEM(coverage), sizeof *q->coverage);
    if (!q->coverage) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < NELEM(coverage); i++) {
        if (!(q->coverage[q->ncoverage] = om__strdup(coverage[i]))) {
            return om__enomem(w->err, w->source);
        }
        q->ncoverage++;
    }
    q->extent_layer = om__strdup("XZQ");
    return q->extent_layer ? OM_OK : om__enomem(w->err, w->source);
}

static void free_qc_schema(struct om_qc_schema *s)
{
    om__free(s->layer);
    om__free(s->area_field);
    om__free(s->net_field);
    om__free(s->gross_field);
    om__free(s->deduct_field);
    for (size_t i = 0; i < s->nfields; i++) {
        om__free(s->fields[i].name);
        free_strv(s->fields[i].values, s->fields[i].nvalues);
    }
    om__free(s->fields);
}

static void free_qc(struct om_qc_conf *q)
{
    free_strv(q->coverage, q->ncoverage);
    q->coverage = NULL;
    q->ncoverage = 0;
    om__free(q->extent_layer);
    q->extent_layer = NULL;
    for (size_t i = 0; i < q->nschemas; i++) {
        free_qc_schema(&q->schemas[i]);
    }
    om__free(q->schemas);
    q->schemas = NULL;
    q->nschemas = 0;
}

const struct om_qc_schema *om_rules_qc_schema(const struct om_rules *r,
                                              const char *code)
{
    for (size_t i = 0; r && code && i < r->qc.nschemas; i++) {
        if (om__strcasecmp(r->qc.schemas[i].layer, code) == 0) {
            return &r->qc.schemas[i];
        }
    }
    return NULL;
}

/* true / false (YAML 1.2 core schema spellings). */
static enum om_status parse_bool(struct walk *w, const yaml_node_t *n,
                                 const char *what, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE"};
    static const char *const no[] = {"false", "False", "FALSE"};
    if (is_null(n) || n->type != YAML_SCALAR_NODE) {
        return perr(w, n, "%s: expected true or false, found %s", what,
                    is_null(n) ? "nothing" : type_name(n));
    }
    for (size_t i = 0; i < NELEM(yes); i++) {
        if (scalar_is(n, yes[i]) || scalar_is(n, no[i])) {
            *out = scalar_is(n, yes[i]);
            return OM_OK;
        }
    }
    char *s = NULL;
    enum om_status st = scalar_dup(w, n, what, &s);
    if (st == OM_OK) {
        st = perr(w, n, "%s: '%.64s' is not true or false", what, s);
    }
    om__free(s);
    return st;
}

/* An attribute field name: a single value of at most OM_LIMIT_NAME_BYTES. */
static enum om_status parse_field_name(struct walk *w, const yaml_node_t *n,
                                       const char *what, char **out)
{
    enum om_status st = scalar_dup(w, n, what, out);
    if (st == OM_OK && strlen(*out) > OM_LIMIT_NAME_BYTES) {
        om__free(*out);
        *out = NULL;
        st = perr(w, n, "%s: field name longer than %u bytes", what,
                  OM_LIMIT_NAME_BYTES);
    }
    return st;
}

static enum om_status parse_qc_thresholds(struct walk *w, const yaml_node_t *n,
                                          struct om_qc_conf *q)
{
    const char *keys[NELEM(qc_thresholds)];
    for (size_t i = 0; i < NELEM(qc_thresholds); i++) {
        keys[i] = qc_thresholds[i].key;
    }
    enum om_status st;
    if ((st = expect_map(w, n, "qc: thresholds")) != OM_OK ||
        (st = check_keys(w, n, "qc: thresholds", keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    for (size_t i = 0; i < NELEM(qc_thresholds); i++) {
        yaml_node_t *v = map_get(w, n, keys[i]);
        if (!v) {
            continue;
        }
        char what[64];
        snprintf(what, sizeof what, "qc: thresholds: %s", keys[i]);
        double d = 0;
        if ((st = parse_nonneg(w, v, what, &d)) != OM_OK) {
            return st;
        }
        if (strcmp(keys[i], "spike_angle") == 0 && !(d > 0 && d < 90)) {
            return perr(w, v,
                        "%s: %g is out of range; must be more than 0 and "
                        "less than 90 (degrees)",
                        what, d);
        }
        if (strcmp(keys[i], "crop_rel") == 0 && d > 1) {
            return perr(w, v,
                        "%s: %g is more than 1; it is a share (0.05 = 5%%)",
                        what, d);
        }
        *qc_threshold(q, i) = d;
    }
    return OM_OK;
}

/* `coverage:` a layer code or a list of them; null or [] = none. */
static enum om_status parse_qc_coverage(struct walk *w, const yaml_node_t *n,
                                        struct om_qc_conf *q)
{
    const char *what = "qc: coverage";
    free_strv(q->coverage, q->ncoverage);
    q->coverage = NULL;
    q->ncoverage = 0;
    if (is_null(n)) {
        return OM_OK;
    }
    if (n->type == YAML_MAPPING_NODE) {
        return perr(w, n,
                    "%s: expected a layer code or a list of them, found %s",
                    what, type_name(n));
    }
    size_t count = n->type == YAML_SCALAR_NODE
                       ? 1
                       : (size_t)(n->data.sequence.items.top -
                                  n->data.sequence.items.start);
    if (count > OM_LIMIT_RULES_VALUES) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: %s: %zu layers, more than the limit of %u "
            "(OM_LIMIT_RULES_VALUES)",
            (long)n->start_mark.column + 1, what, count, OM_LIMIT_RULES_VALUES);
    }
    if (count == 0) {
        return OM_OK;
    }
    q->coverage = om__calloc(count, sizeof *q->coverage);
    if (!q->coverage) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item =
            n->type == YAML_SCALAR_NODE
                ? n
                : node_at(w, n->data.sequence.items.start[i]);
        enum om_status st =
            parse_code(w, item ? item : n, what, &q->coverage[i]);
        if (st != OM_OK) {
            return st;
        }
        q->ncoverage++;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(q->coverage[j], q->coverage[i]) == 0) {
                return perr(w, item, "%s: layer %s is listed twice", what,
                            q->coverage[i]);
            }
        }
    }
    return OM_OK;
}

/* `net_area: {net, gross, deduct}`: all three, three different fields. */
static enum om_status parse_qc_net_area(struct walk *w, const yaml_node_t *n,
                                        const char *what,
                                        struct om_qc_schema *s)
{
    static const char *const keys[] = {"net", "gross", "deduct"};
    enum om_status st;
    if ((st = expect_map(w, n, what)) != OM_OK ||
        (st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    for (size_t i = 0; i < NELEM(keys); i++) {
        if (!map_get(w, n, keys[i])) {
            return perr(w, n,
                        "%s: missing '%s' (net, gross and deduct are all "
                        "needed: net = gross - deduct, e.g. {net: TBDLMJ, "
                        "gross: TBMJ, deduct: KCMJ})",
                        what, keys[i]);
        }
    }
    char *v[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < NELEM(keys); i++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s: %s", what, keys[i]);
        if ((st = parse_field_name(w, map_get(w, n, keys[i]), sub, &v[i])) !=
            OM_OK) {
            break;
        }
    }
    if (st == OM_OK) {
        for (size_t i = 0; i < 3 && st == OM_OK; i++) {
            for (size_t j = i + 1; j < 3 && st == OM_OK; j++) {
                if (om__strcasecmp(v[i], v[j]) == 0) {
                    st = perr(w, map_get(w, n, keys[j]),
                              "%s: %s and %s are both %s; they must be three "
                              "different fields",
                              what, keys[i], keys[j], v[j]);
                }
            }
        }
    }
    if (st != OM_OK) {
        for (size_t i = 0; i < 3; i++) {
            om__free(v[i]);
        }
        return st;
    }
    s->net_field = v[0];
    s->gross_field = v[1];
    s->deduct_field = v[2];
    return OM_OK;
}

static enum om_status parse_qc_field(struct walk *w, const yaml_node_t *n,
                                     const char *what, struct om_qc_field *f)
{
    static const char *const keys[] = {"type", "required", "unique", "domain",
                                       "values"};
    enum om_status st;
    if (is_null(n)) {
        return OM_OK; /* listed only: any type, optional */
    }
    if ((st = expect_map(w, n, what)) != OM_OK ||
        (st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    char sub[256];
    int k = 0;
    yaml_node_t *v;
    if ((v = map_get(w, n, "type")) != NULL) {
        snprintf(sub, sizeof sub, "%s: type", what);
        if ((st = parse_enum(w, v, sub, qc_type_names, NELEM(qc_type_names),
                             &k)) != OM_OK) {
            return st;
        }
        f->type = qc_type_codes[k - 1];
    }
    if ((v = map_get(w, n, "required")) != NULL) {
        snprintf(sub, sizeof sub, "%s: required", what);
        if ((st = parse_bool(w, v, sub, &f->required)) != OM_OK) {
            return st;
        }
    }
    if ((v = map_get(w, n, "unique")) != NULL) {
        snprintf(sub, sizeof sub, "%s: unique", what);
        if ((st = parse_bool(w, v, sub, &f->unique)) != OM_OK) {
            return st;
        }
    }
    if ((v = map_get(w, n, "domain")) != NULL) {
        snprintf(sub, sizeof sub, "%s: domain", what);
        if ((st = parse_enum(w, v, sub, qc_domain_names, NELEM(qc_domain_names),
                             &k)) != OM_OK) {
            return st;
        }
        f->domain = (enum om_qc_domain)k;
    }
    if ((v = map_get(w, n, "values")) != NULL) {
        snprintf(sub, sizeof sub, "%s: values", what);
        if (f->domain != OM_QC_DOMAIN_NONE) {
            /* one value set per field: a list next to a code table would
             * be read two ways (narrowing it, or widening it) */
            return perr(w, v,
                        "%s: give either 'domain' (a code table) or "
                        "'values' (a list), not both",
                        sub);
        }
        if ((st = parse_strv(w, v, sub, &f->values, &f->nvalues)) != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status parse_qc_fields(struct walk *w, const yaml_node_t *n,
                                      const char *what, struct om_qc_schema *s)
{
    enum om_status st;
    if (is_null(n)) {
        return OM_OK;
    }
    if ((st = expect_map(w, n, what)) != OM_OK) {
        return st;
    }
    size_t count =
        (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > OM_LIMIT_QC_FIELDS) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: %s: %zu fields, more than the limit of %u "
            "(OM_LIMIT_QC_FIELDS)",
            (long)n->start_mark.column + 1, what, count, OM_LIMIT_QC_FIELDS);
    }
    if (count == 0) {
        return OM_OK;
    }
    s->fields = om__calloc(count, sizeof *s->fields);
    if (!s->fields) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(w, p->key);
        struct om_qc_field *f = &s->fields[s->nfields++];
        f->line = k ? (int)k->start_mark.line + 1 : 0;
        if ((st = parse_field_name(w, k ? k : n, what, &f->name)) != OM_OK) {
            return st;
        }
        for (size_t j = 0; j < i; j++) {
            if (om__strcasecmp(s->fields[j].name, f->name) == 0) {
                return perr(w, k,
                            "%s: field %s is listed twice (first at line %d; "
                            "names are matched without case)",
                            what, f->name, s->fields[j].line);
            }
        }
        char sub[224];
        snprintf(sub, sizeof sub, "%s: %.64s", what, f->name);
        if ((st = parse_qc_field(w, node_at(w, p->value), sub, f)) != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status parse_qc_schema(struct walk *w, const yaml_node_t *n,
                                      struct om_qc_schema *s)
{
    static const char *const keys[] = {"single_part", "area_field", "net_area",
                                       "fields"};
    char what[96], sub[128];
    enum om_status st;
    snprintf(what, sizeof what, "qc: schemas: %s", s->layer);
    if (is_null(n)) {
        return OM_OK;
    }
    if ((st = expect_map(w, n, what)) != OM_OK ||
        (st = check_keys(w, n, what, keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *v;
    if ((v = map_get(w, n, "single_part")) != NULL) {
        snprintf(sub, sizeof sub, "%s: single_part", what);
        if ((st = parse_bool(w, v, sub, &s->single_part)) != OM_OK) {
            return st;
        }
    }
    if ((v = map_get(w, n, "area_field")) != NULL && !is_null(v)) {
        snprintf(sub, sizeof sub, "%s: area_field", what);
        if ((st = parse_field_name(w, v, sub, &s->area_field)) != OM_OK) {
            return st;
        }
    }
    if ((v = map_get(w, n, "net_area")) != NULL && !is_null(v)) {
        snprintf(sub, sizeof sub, "%s: net_area", what);
        if ((st = parse_qc_net_area(w, v, sub, s)) != OM_OK) {
            return st;
        }
    }
    snprintf(sub, sizeof sub, "%s: fields", what);
    return parse_qc_fields(w, map_get(w, n, "fields"), sub, s);
}

static enum om_status parse_qc_schemas(struct walk *w, const yaml_node_t *n,
                                       struct om_qc_conf *q)
{
    enum om_status st;
    if (is_null(n)) {
        return OM_OK; /* "schemas:" with nothing: no schemas */
    }
    if (n->type != YAML_MAPPING_NODE) {
        return perr(w, n,
                    "qc: schemas: expected a mapping of layer codes to "
                    "schemas (e.g. DLTB: {fields: {...}}), found %s",
                    type_name(n));
    }
    size_t count =
        (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (count > OM_LIMIT_QC_SCHEMAS) {
        return om__error(
            w->err, OM_ELIMIT, w->source, (long)n->start_mark.line + 1, -1,
            "column %ld: qc: schemas: %zu schemas, more than the limit of %u "
            "(OM_LIMIT_QC_SCHEMAS)",
            (long)n->start_mark.column + 1, count, OM_LIMIT_QC_SCHEMAS);
    }
    if (count == 0) {
        return OM_OK;
    }
    q->schemas = om__calloc(count, sizeof *q->schemas);
    if (!q->schemas) {
        return om__enomem(w->err, w->source);
    }
    for (size_t i = 0; i < count; i++) {
        yaml_node_pair_t *p = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(w, p->key);
        struct om_qc_schema *s = &q->schemas[q->nschemas++];
        s->line = k ? (int)k->start_mark.line + 1 : 0;
        if ((st = parse_code(w, k ? k : n, "qc: schemas", &s->layer)) !=
            OM_OK) {
            return st;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(q->schemas[j].layer, s->layer) == 0) {
                return perr(w, k,
                            "qc: schemas: layer %s has two schemas (first at "
                            "line %d)",
                            s->layer, q->schemas[j].line);
            }
        }
        if ((st = parse_qc_schema(w, node_at(w, p->value), s)) != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status parse_text(const char *text, size_t len,
                                 const char *source, bool is_builtin,
                                 struct om_rules **out, struct om_error *err);

/*
 * A qc: section without `schemas:` gets the built-in set's schemas ("missing
 * keys take the defaults"). The built-in set itself has them; were it ever
 * edited to lack them, it gets none rather than recursing.
 */
static enum om_status builtin_schemas(struct walk *w, struct om_qc_conf *q)
{
    if (w->is_builtin) {
        return OM_OK;
    }
    char *text = NULL;
    size_t len = 0;
    enum om_status st = om_rules_default_text(&text, &len, w->err);
    if (st != OM_OK) {
        return st;
    }
    struct om_rules *d = NULL;
    st = parse_text(text, len, "(built-in)", true, &d, w->err);
    om__free(text);
    if (st != OM_OK) {
        return st;
    }
    q->schemas = d->qc.schemas;
    q->nschemas = d->qc.nschemas;
    d->qc.schemas = NULL;
    d->qc.nschemas = 0;
    om_rules_free(d);
    return OM_OK;
}

static enum om_status parse_qc(struct walk *w, const yaml_node_t *n)
{
    static const char *const keys[] = {"thresholds", "coverage", "extent",
                                       "schemas"};
    struct om_qc_conf *q = &w->r->qc;
    enum om_status st;
    q->present = true;
    if (is_null(n)) {
        return builtin_schemas(w, q); /* "qc:" alone: every default */
    }
    if ((st = expect_map(w, n, "qc")) != OM_OK ||
        (st = check_keys(w, n, "qc", keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *v = map_get(w, n, "thresholds");
    if (v && !is_null(v) && (st = parse_qc_thresholds(w, v, q)) != OM_OK) {
        return st;
    }
    if ((v = map_get(w, n, "coverage")) != NULL &&
        (st = parse_qc_coverage(w, v, q)) != OM_OK) {
        return st;
    }
    if ((v = map_get(w, n, "extent")) != NULL) {
        om__free(q->extent_layer);
        q->extent_layer = NULL;
        if (!is_null(v) &&
            (st = parse_code(w, v, "qc: extent", &q->extent_layer)) != OM_OK) {
            return st;
        }
    }
    v = map_get(w, n, "schemas");
    return v ? parse_qc_schemas(w, v, q) : builtin_schemas(w, q);
}

static enum om_status parse_root(struct walk *w, const yaml_node_t *root)
{
    static const char *const keys[] = {"version",  "project",  "layers",
                                       "admin",    "defaults", "rules",
                                       "profiles", "qc"};
    enum om_status st;
    if (!root || root->type != YAML_MAPPING_NODE) {
        return perr(w, root,
                    "expected a mapping with 'version: 1' and 'rules:' at "
                    "the top, found %s",
                    root ? type_name(root) : "an empty file");
    }
    if ((st = check_keys(w, root, "top level", keys, NELEM(keys))) != OM_OK) {
        return st;
    }
    yaml_node_t *v = map_get(w, root, "version");
    if (!v) {
        return perr(w, root, "missing 'version: 1' at the top");
    }
    if (!scalar_is(v, "1")) {
        return perr(w, v, "unsupported version (this onemap reads version 1)");
    }
    if ((v = map_get(w, root, "project")) != NULL && !is_null(v) &&
        (st = parse_project(w, v)) != OM_OK) {
        return st;
    }
    if ((v = map_get(w, root, "layers")) != NULL && !is_null(v) &&
        (st = parse_layers(w, v)) != OM_OK) {
        return st;
    }
    if ((v = map_get(w, root, "admin")) != NULL && !is_null(v) &&
        (st = parse_admin(w, v)) != OM_OK) {
        return st;
    }
    if ((v = map_get(w, root, "defaults")) != NULL && !is_null(v) &&
        (st = parse_defaults(w, v)) != OM_OK) {
        return st;
    }
    yaml_node_t *rn = map_get(w, root, "rules");
    yaml_node_t *pn = map_get(w, root, "profiles");
    yaml_node_t *qn = map_get(w, root, "qc");
    if (!rn && !pn && !qn) {
        return perr(w, root,
                    "missing 'rules:' (the list of rules) or 'profiles:' "
                    "(the review profiles) or 'qc:' (quality control); a "
                    "rule file needs at least one of the three");
    }
    if (rn && (st = parse_rules(w, rn)) != OM_OK) {
        return st;
    }
    if (pn && (st = parse_profiles(w, pn)) != OM_OK) {
        return st;
    }
    return qn ? parse_qc(w, qn) : OM_OK;
}

/* ---- libyaml ---- */

static enum om_status yaml_fail(const yaml_parser_t *p, const char *text,
                                size_t len, const char *source,
                                struct om_error *err)
{
    if (p->error == YAML_MEMORY_ERROR) {
        return om__enomem(err, source);
    }
    if (p->error == YAML_READER_ERROR) {
        /* reader errors (bad encoding) carry a byte offset, not a mark */
        long line = 1, col = 1;
        for (size_t i = 0; i < p->problem_offset && i < len; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        return om__error(err, OM_EPARSE, source, line, -1,
                         "column %ld: YAML: %s (byte %zu)%s", col,
                         p->problem ? p->problem : "bad encoding",
                         p->problem_offset, " (save the file as UTF-8)");
    }
    const char *problem = p->problem ? p->problem : "syntax error";
    const char *hint_utf8 = strstr(problem, "UTF-8") || strstr(problem, "utf-8")
                                ? " (save the file as UTF-8)"
                                : "";
    if (p->context) {
        return om__error(err, OM_EPARSE, source, (long)p->problem_mark.line + 1,
                         -1, "column %ld: YAML: %s %s (line %ld column %ld)%s",
                         (long)p->problem_mark.column + 1, problem, p->context,
                         (long)p->context_mark.line + 1,
                         (long)p->context_mark.column + 1, hint_utf8);
    }
    return om__error(err, OM_EPARSE, source, (long)p->problem_mark.line + 1, -1,
                     "column %ld: YAML: %s%s", (long)p->problem_mark.column + 1,
                     problem, hint_utf8);
}

/*
 * First pass over the events: limits on nodes and depth, one document, no
 * anchors or aliases (the loader would share nodes, and a walk over shared
 * nodes is the exponential "billion laughs").
 */
static enum om_status scan_events(const char *text, size_t len,
                                  const char *source, struct om_error *err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        return om__enomem(err, source);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    enum om_status st = OM_OK;
    size_t nodes = 0, depth = 0, ndocs = 0;
    for (bool done = false; !done && st == OM_OK;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&p, &e)) {
            st = yaml_fail(&p, text, len, source, err);
            break;
        }
        const unsigned char *anchor = NULL;
        long line = (long)e.start_mark.line + 1;
        long col = (long)e.start_mark.column + 1;
        switch (e.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > 1) {
                st = om__error(err, OM_EPARSE, source, line, -1,
                               "column %ld: a second YAML document ('---'); "
                               "a rule file holds one",
                               col);
            }
            break;
        case YAML_ALIAS_EVENT:
            st = om__error(err, OM_EPARSE, source, line, -1,
                           "column %ld: YAML aliases (*name) are not "
                           "supported in rule files; write the value out",
                           col);
            break;
        case YAML_SCALAR_EVENT:
            anchor = e.data.scalar.anchor;
            nodes++;
            if (e.data.scalar.length > OM_LIMIT_RULES_SCALAR) {
                st =
                    om__error(err, OM_ELIMIT, source, line, -1,
                              "column %ld: a value of %zu bytes, longer "
                              "than the limit of %u (OM_LIMIT_RULES_SCALAR)",
                              col, e.data.scalar.length, OM_LIMIT_RULES_SCALAR);
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            anchor = e.type == YAML_SEQUENCE_START_EVENT
                         ? e.data.sequence_start.anchor
                         : e.data.mapping_start.anchor;
            nodes++;
            if (++depth > OM_LIMIT_RULES_DEPTH) {
                st = om__error(err, OM_ELIMIT, source, line, -1,
                               "column %ld: nested more than %u levels deep "
                               "(OM_LIMIT_RULES_DEPTH)",
                               col, OM_LIMIT_RULES_DEPTH);
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        default:
            break;
        }
        if (st == OM_OK && anchor) {
            st = om__error(err, OM_EPARSE, source, line, -1,
                           "column %ld: YAML anchors (&name) are not "
                           "supported in rule files; write the value out",
                           col);
        }
        if (st == OM_OK && nodes > OM_LIMIT_RULES_NODES) {
            st = om__error(err, OM_ELIMIT, source, line, -1,
                           "column %ld: more than %u YAML nodes "
                           "(OM_LIMIT_RULES_NODES)",
                           col, OM_LIMIT_RULES_NODES);
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&p);
    return st;
}

enum om_status om_rules_parse(const char *text, size_t len, const char *source,
                              struct om_rules **out, struct om_error *err)
{
    return parse_text(text, len, source, false, out, err);
}

static enum om_status parse_text(const char *text, size_t len,
                                 const char *source, bool is_builtin,
                                 struct om_rules **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, source, 0, -1,
                         "om_rules_parse: out is NULL");
    }
    *out = NULL;
    if (!source) {
        source = "(buffer)";
    }
    if (!text && len) {
        return om__error(err, OM_EINVAL, source, 0, -1,
                         "om_rules_parse: text is NULL");
    }
    if (len > OM_LIMIT_RULES_BYTES) {
        return om__error(err, OM_ELIMIT, source, 0, -1,
                         "rule file of %zu bytes is larger than the limit of "
                         "%u (OM_LIMIT_RULES_BYTES)",
                         len, OM_LIMIT_RULES_BYTES);
    }
    enum om_status st = scan_events(text ? text : "", len, source, err);
    if (st != OM_OK) {
        return st;
    }
    struct om_rules *r = om__calloc(1, sizeof *r);
    if (!r || !(r->source = om__strdup(source))) {
        om__free(r);
        return om__enomem(err, source);
    }
    om__sha256_hex(text ? text : "", len, r->sha256);

    yaml_parser_t p;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&p)) {
        om_rules_free(r);
        return om__enomem(err, source);
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""),
                                 len);
    if (!yaml_parser_load(&p, &doc)) {
        st = yaml_fail(&p, text ? text : "", len, source, err);
        yaml_parser_delete(&p);
        om_rules_free(r);
        return st;
    }
    struct walk w = {.doc = &doc,
                     .source = source,
                     .err = err,
                     .r = r,
                     .def_severity = OM_SEV_ERROR,
                     .is_builtin = is_builtin};
    st = qc_defaults(&w, &r->qc);
    if (st == OM_OK) {
        st = parse_root(&w, yaml_document_get_root_node(&doc));
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&p);
    if (st != OM_OK) {
        om_rules_free(r);
        return st;
    }
    *out = r;
    return OM_OK;
}

enum om_status om_rules_load(const char *path, struct om_rules **out,
                             struct om_error *err)
{
    if (!out || !path) {
        return om__error(err, OM_EINVAL, path, 0, -1,
                         "om_rules_load: path or out is NULL");
    }
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        return om__error(err, OM_EIO, path, 0, -1,
                         "cannot open the rule file: %s", strerror(errno));
    }
    struct om__buf b;
    om__buf_init(&b, (size_t)OM_LIMIT_RULES_BYTES + 1);
    char chunk[16384];
    size_t n;
    enum om_status st = OM_OK;
    while (st == OM_OK && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        st = om__buf_append(&b, chunk, n);
    }
    bool bad = ferror(f);
    fclose(f);
    if (st == OM_ELIMIT) {
        om__buf_deinit(&b);
        return om__error(err, OM_ELIMIT, path, 0, -1,
                         "rule file larger than the limit of %u bytes "
                         "(OM_LIMIT_RULES_BYTES)",
                         OM_LIMIT_RULES_BYTES);
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return om__enomem(err, path);
    }
    if (bad) {
        om__buf_deinit(&b);
        return om__error(err, OM_EIO, path, 0, -1, "cannot read the rule file");
    }
    st = om_rules_parse(b.data ? b.data : "", b.len, path, out, err);
    om__buf_deinit(&b);
    return st;
}

enum om_status om_rules_default_text(char **text, size_t *len,
                                     struct om_error *err)
{
    if (!text) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_rules_default_text: text is NULL");
    }
    *text = NULL;
    struct om__buf b;
    om__buf_init(&b, 0);
    enum om_status st = OM_OK;
    const char *line;
    for (size_t i = 0; st == OM_OK && (line = om__default_rules_line(i)); i++) {
        st = om__buf_puts(&b, line);
    }
    if (st == OM_OK && !b.data) {
        st = om__buf_puts(&b, "");
    }
    if (st != OM_OK) {
        om__buf_deinit(&b);
        return om__enomem(err, "(built-in)");
    }
    if (len) {
        *len = b.len;
    }
    *text = om__buf_take(&b);
    return OM_OK;
}

void om_rules_text_free(char *text)
{
    om__free(text);
}

enum om_status om_rules_default(struct om_rules **out, struct om_error *err)
{
    if (!out) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_rules_default: out is NULL");
    }
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    enum om_status st = om_rules_default_text(&text, &len, err);
    if (st != OM_OK) {
        return st;
    }
    st = parse_text(text, len, "(built-in)", true, out, err);
    om__free(text);
    return st;
}

/* ---- selection ---- */

static bool value_in(const struct om_filter_term *t, const char *v, size_t len,
                     bool all_prefix)
{
    for (size_t i = 0; i < t->nvalues; i++) {
        const char *x = t->values[i];
        size_t lx = strlen(x);
        if (all_prefix || (lx > 0 && x[lx - 1] == '*')) {
            size_t lp = all_prefix ? lx : lx - 1;
            if (len >= lp && memcmp(v, x, lp) == 0) {
                return true;
            }
        } else if (lx == len && memcmp(v, x, len) == 0) {
            return true;
        }
    }
    return false;
}

bool om_filter_term_match(const struct om_filter_term *t, const char *value)
{
    if (!t) {
        return false;
    }
    bool neg = t->op == OM_FILTER_NOT_IN || t->op == OM_FILTER_NOT_PREFIX ||
               t->op == OM_FILTER_NOT_GROUP;
    size_t len = value ? strlen(value) : 0;
    while (len > 0 && isspace((unsigned char)value[0])) {
        value++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)value[len - 1])) {
        len--;
    }
    if (len == 0) {
        return neg;
    }
    bool hit;
    switch (t->op) {
    case OM_FILTER_IN:
    case OM_FILTER_NOT_IN:
        hit = value_in(t, value, len, false);
        break;
    case OM_FILTER_PREFIX:
    case OM_FILTER_NOT_PREFIX:
        hit = value_in(t, value, len, true);
        break;
    case OM_FILTER_GROUP:
    case OM_FILTER_NOT_GROUP: {
        char code[32];
        if (len >= sizeof code) {
            hit = false; /* far too long to be a code */
        } else {
            memcpy(code, value, len);
            code[len] = '\0';
            hit = om_code_in_group(t->table, code, t->group);
        }
        break;
    }
    default:
        return false;
    }
    return neg ? !hit : hit;
}

/* REAL fields: exact values compare as numbers (1 matches 1.0). */
static bool real_match(const struct om_filter_term *t, double d,
                       const char *text)
{
    if (t->op != OM_FILTER_IN && t->op != OM_FILTER_NOT_IN) {
        return om_filter_term_match(t, text);
    }
    bool hit = false;
    for (size_t i = 0; i < t->nvalues && !hit; i++) {
        const char *x = t->values[i];
        size_t lx = strlen(x);
        if (lx > 0 && x[lx - 1] == '*') {
            hit = strncmp(text, x, lx - 1) == 0;
        } else {
            char *end = NULL;
            double v = strtod(x, &end);
            hit = end != x && *end == '\0' && v == d;
        }
    }
    return t->op == OM_FILTER_NOT_IN ? !hit : hit;
}

enum om_status om_rule_side_select(const struct om_rule *rule,
                                   const struct om_rule_side *side,
                                   const struct om_layer *layer, uint8_t **mask,
                                   size_t *nselected, struct om_error *err)
{
    if (mask) {
        *mask = NULL;
    }
    if (nselected) {
        *nselected = 0;
    }
    if (!side || !layer || !mask) {
        return om__error(err, OM_EINVAL, NULL, 0, -1,
                         "om_rule_side_select: side, layer or mask is NULL");
    }
    const char *lname = om_layer_name(layer);
    const char *rid = rule && rule->id ? rule->id : "?";
    int *fields = NULL;
    if (side->nterms) {
        fields = om__calloc(side->nterms, sizeof *fields);
        if (!fields) {
            return om__enomem(err, lname);
        }
    }
    for (size_t i = 0; i < side->nterms; i++) {
        fields[i] = om_layer_field_index(layer, side->terms[i].field);
        if (fields[i] < 0) {
            char list[300];
            size_t off = 0, nf = om_layer_nfields(layer);
            list[0] = '\0';
            for (size_t j = 0; j < nf && off < sizeof list; j++) {
                int k =
                    snprintf(list + off, sizeof list - off, "%s%s",
                             j ? ", " : "", om_layer_field_name(layer, (int)j));
                if (k < 0) {
                    break;
                }
                off += (size_t)k;
            }
            om__free(fields);
            return om__error(err, OM_ENOTFOUND, lname, 0, -1,
                             "rule %s: layer %s has no field %s (line %d of "
                             "the rule file); its fields: %s",
                             rid, lname ? lname : "?", side->terms[i].field,
                             side->terms[i].line, nf ? list : "(none)");
        }
    }
    size_t n = om_layer_nfeatures(layer);
    uint8_t *m = om__malloc(n ? n : 1);
    if (!m) {
        om__free(fields);
        return om__enomem(err, lname);
    }
    size_t count = 0;
    char buf[64];
    for (size_t f = 0; f < n; f++) {
        bool keep = true;
        for (size_t i = 0; i < side->nterms && keep; i++) {
            const struct om_filter_term *t = &side->terms[i];
            int fi = fields[i];
            if (om_layer_is_null(layer, f, fi)) {
                keep = om_filter_term_match(t, NULL);
                continue;
            }
            switch (om_layer_field_type(layer, fi)) {
            case OM_FIELD_TEXT:
                keep = om_filter_term_match(t, om_layer_get_text(layer, f, fi));
                break;
            case OM_FIELD_REAL:
                keep = real_match(
                    t, om_layer_get_real(layer, f, fi),
                    om_layer_format_value(layer, f, fi, buf, sizeof buf));
                break;
            default:
                keep = om_filter_term_match(
                    t, om_layer_format_value(layer, f, fi, buf, sizeof buf));
                break;
            }
        }
        m[f] = keep ? 1 : 0;
        count += keep;
    }
    om__free(fields);
    *mask = m;
    if (nselected) {
        *nselected = count;
    }
    return OM_OK;
}

void om_rules_mask_free(uint8_t *mask)
{
    om__free(mask);
}
