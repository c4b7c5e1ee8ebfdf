/*
 * onemap/rules.h — the project / rule file (onemap.yaml): its data model,
 * the parser, feature filters and the built-in default rule set.
 *
 * The file is YAML, edited by hand at bureaus; docs/rules.md is the full
 * reference (zh + en) and data/rules/onemap.yaml the documented default.
 * In short:
 *
 *   version: 1
 *   project: {name: 某县国土空间规划, crs: EPSG:4530}      # optional
 *   layers:                                               # optional
 *     DLTB: {role: landuse, name: 地类图斑, keys: [BSM, DLBM, DLMC]}
 *   admin: {layer: XZQ, code: XZQDM, name: XZQMC}        # optional
 *   defaults: {severity: error, min_area: 1, min_width: 0}   # optional
 *   rules:
 *     - id: R001
 *       kind: must_not_overlap      # | must_be_within | must_cover
 *       a: CZKFBJ
 *       b: {layer: DLTB, where: {DLBM: {group: construction}}}
 *       severity: error             # | warning | info
 *       zh: ...
 *       en: ...
 *       basis: 自然资发〔2022〕142号     # optional policy citation
 *       min_area: 1                 # m², optional
 *       min_width: 0.1              # m, optional
 *
 * Scalars are kept as written (0701 stays "0701": no YAML number typing).
 * Layer codes are upper-cased, as on import. Anchors and aliases are
 * refused (no "billion laughs"); unknown keys are errors (with a "did you
 * mean"), so a typo never silently disables a rule.
 *
 * Errors: a malformed file gives OM_EPARSE with err->source = the path (or
 * the `source` given to om_rules_parse), err->line = the 1-based line and
 * the 1-based column at the start of the message ("column 7: ..."). A file
 * over one of the limits below gives OM_ELIMIT. Outputs are NULL on failure
 * and nothing leaks.
 *
 * Thread safety: a loaded struct om_rules is read-only; any number of
 * threads may read it and call om_rule_side_select at once.
 */
#ifndef ONEMAP_RULES_H
#define ONEMAP_RULES_H

#include "onemap/codes.h"
#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Limits of the rule-file parser. They belong in onemap/limits.h; they are
 * here until that header takes them (same OM_LIMIT_ prefix, same meaning:
 * exceeding one gives OM_ELIMIT).
 */
#define OM_LIMIT_RULES_BYTES (4u << 20) /* size of one rule file */
#define OM_LIMIT_RULES 10000u           /* rules in one file */
#define OM_LIMIT_RULES_NODES 500000u    /* YAML nodes (scalars, maps, lists) */
#define OM_LIMIT_RULES_DEPTH 32u        /* nesting of maps and lists */
#define OM_LIMIT_RULES_VALUES 10000u    /* values in one filter list */
#define OM_LIMIT_RULES_SCALAR 4096u     /* bytes of one scalar (zh/en text) */
#define OM_LIMIT_RULES_ID_BYTES 63u     /* bytes of a rule id */

enum om_rule_kind {
    OM_RULE_MUST_NOT_OVERLAP = 1, /* A ∩ B must be empty; reports A ∩ B */
    OM_RULE_MUST_BE_WITHIN,       /* A \ B must be empty; reports A \ B */
    OM_RULE_MUST_COVER            /* B \ A must be empty; reports B \ A */
};
/* "must_not_overlap", "must_be_within", "must_cover"; "?" otherwise. */
const char *om_rule_kind_name(enum om_rule_kind k);

enum om_severity {
    OM_SEV_ERROR = 1, /* a violation: becomes a case */
    OM_SEV_WARNING,   /* to be checked by a person */
    OM_SEV_INFO       /* reported for information */
};
/* "error", "warning", "info"; "?" otherwise. */
const char *om_severity_name(enum om_severity s);

/*
 * One condition on one attribute field. Values are matched against the
 * field's value as text with leading/trailing ASCII blanks removed (INT
 * fields in decimal; REAL fields compare numerically for exact values).
 *
 *   IN / NOT_IN         `values`: a value ending in '*' is a prefix
 *                       ("07*" matches 0701, 0702, 07); others are exact.
 *   PREFIX / NOT_PREFIX `values` are prefixes (written without '*').
 *   GROUP / NOT_GROUP   `group` of code table `table` (om_code_in_group).
 *
 * A NULL or blank attribute matches no IN/PREFIX/GROUP term and every
 * NOT_* term ("not in the list").
 */
enum om_filter_op {
    OM_FILTER_IN = 1,
    OM_FILTER_PREFIX,
    OM_FILTER_GROUP,
    OM_FILTER_NOT_IN,
    OM_FILTER_NOT_PREFIX,
    OM_FILTER_NOT_GROUP
};

struct om_filter_term {
    char *field; /* as written (matched without case) */
    enum om_filter_op op;
    char **values; /* IN, PREFIX and their NOT_ forms; NULL otherwise */
    size_t nvalues;
    char *group;              /* GROUP / NOT_GROUP; NULL otherwise */
    enum om_code_table table; /* GROUP / NOT_GROUP; 0 otherwise */
    int line;                 /* 1-based line in the rule file */
};

/*
 * Whether a field value satisfies a term. `value` NULL means a NULL
 * attribute. Blanks around `value` are ignored.
 */
bool om_filter_term_match(const struct om_filter_term *t, const char *value);

/* One side of a rule: a layer and the terms (ANDed) that select features. */
struct om_rule_side {
    char *layer; /* layer code, upper case */
    struct om_filter_term *terms;
    size_t nterms; /* 0 = every feature */
    char *text; /* e.g. "DLTB where DLBM in group construction (建设用地)" */
};

struct om_rule {
    char *id;
    enum om_rule_kind kind;
    struct om_rule_side a, b;
    enum om_severity severity;
    char *zh, *en;      /* never NULL: a missing one is a copy of the other */
    char *basis;        /* policy citation, NULL if none */
    double min_area_m2; /* patches with a smaller area are slivers; >= 0 */
    double min_width_m; /* patches with 2*area/perimeter below are slivers */
    int line;           /* 1-based line of the rule's "- id:" item */
};

/* ---- compliance review profiles (onemap check) ----
 *
 * The optional top-level `profiles:` section maps a profile name to the
 * checks a construction site (a 部标 TXT parcel, or any polygon) is put
 * through by `onemap check` (onemap/review.h):
 *
 *   profiles:
 *     default:                              # [a-z][a-z0-9_-]{0,31}
 *       zh: 一般建设项目
 *       en: General construction project
 *       tolerance: 1                        # m², default for its checks
 *       checks:
 *         - id: C001
 *           kind: forbidden
 *           layer: YJJBNTBHTB               # or {layer: DLTB, where: {...}}
 *           zh: 不得占用永久基本农田
 *           en: Must not occupy permanent basic farmland
 *           basis: 《中华人民共和国土地管理法》第三十五条
 *         - id: C003
 *           kind: conditional
 *           layer: {layer: DLTB, where: {DLBM: {group: cultivated}}}
 *           by: DLBM                        # areas per class of this field
 *         - id: C004
 *           kind: must_be_within
 *           layer: CZKFBJ
 *           outcome: conditional            # default fail
 *         - id: C005
 *           kind: report
 *           layer: DLTB
 *           by: DLBM
 *         - id: C006
 *           kind: purpose
 *           layer: GHYT
 *           by: YDYHFLDM                    # required for purpose
 *
 * Kinds (what the check measures, and the outcome when it is violated):
 *   forbidden       site ∩ selected features; area > tolerance → outcome
 *                   (default fail)
 *   conditional     site ∩ selected features; area > tolerance → outcome
 *                   (default conditional, e.g. cultivated land needs
 *                   占补平衡)
 *   must_be_within  site \ union(selected features); area > tolerance →
 *                   outcome (default fail)
 *   report          site ∩ selected features per class; never decides
 *                   (outcome is pass and may not be set)
 *   purpose         the site's land-use code (地块用途 / 地类编码 of the
 *                   parcel, or given by the user) against the planned use
 *                   (field `by` of the selected features): the area where
 *                   neither code is a prefix of the other, compared as
 *                   用地用海 codes; area > tolerance → outcome (default
 *                   conditional). A site without a use code: not
 *                   evaluated (the finding says so).
 *
 * Ids are unique within a profile (the same id may appear in two
 * profiles). `tolerance` (m², >= 0) defaults to the profile's, which
 * defaults to `defaults.min_area` (1 when not given). Unknown keys are
 * errors, as everywhere in the file. A rule file without `profiles:` gets
 * none (om_rules_profile then finds nothing; onemap check falls back to
 * the built-in default rule set's profiles).
 */
enum om_check_kind {
    OM_CHECK_FORBIDDEN = 1,
    OM_CHECK_CONDITIONAL,
    OM_CHECK_MUST_BE_WITHIN,
    OM_CHECK_REPORT,
    OM_CHECK_PURPOSE
};
/* "forbidden", "conditional", "must_be_within", "report", "purpose";
 * "?" otherwise. */
const char *om_check_kind_name(enum om_check_kind k);

/* A review decision, ordered by gravity. */
enum om_decision {
    OM_DECISION_PASS = 0,
    OM_DECISION_CONDITIONAL = 1,
    OM_DECISION_FAIL = 2
};
/* "pass", "conditional", "fail"; "?" otherwise. */
const char *om_decision_name(enum om_decision d);
/* "通过", "有条件通过", "不通过"; "?" otherwise. */
const char *om_decision_zh(enum om_decision d);

struct om_check_rule {
    char *id;
    enum om_check_kind kind;
    struct om_rule_side layer; /* the layer and its filter (`layer:`) */
    char *by;                  /* class field, NULL if none */
    enum om_decision outcome;  /* when violated (report: PASS) */
    double tolerance_m2;       /* >= 0 */
    char *zh, *en;             /* never NULL (copy of each other) */
    char *basis;               /* NULL if none */
    int line;                  /* 1-based line of the "- id:" item */
};

struct om_check_profile {
    char *name;
    char *zh, *en; /* never NULL: missing ones are copies / the name */
    double tolerance_m2;
    struct om_check_rule *checks; /* in file order */
    size_t nchecks;
    int line;
};

/* Limits of the profiles section (exceeding one gives OM_ELIMIT). */
#define OM_LIMIT_PROFILES 1000u       /* profiles in one file */
#define OM_LIMIT_PROFILE_CHECKS 1000u /* checks in one profile */

/* ---- quality control (onemap qc) ----
 *
 * The optional top-level `qc:` section configures `onemap qc`
 * (onemap/qc.h). Missing keys take the defaults shown; a rule file
 * without `qc:` uses the built-in default rule set's section.
 * om_rules_parse fills the thresholds, coverage and extent defaults for
 * every file (qc.present says whether the file had `qc:`); a `qc:`
 * section without `schemas:` gets the built-in set's schemas, a file
 * without `qc:` gets none (the caller falls back to the built-in set).
 * Written out as null (`coverage:`, `extent: ~`, `schemas:`) or empty
 * (`coverage: []`, `schemas: {}`), a key means none. A file may hold only
 * `qc:` (no rules or profiles).
 *
 *   qc:
 *     thresholds:
 *       sliver_area: 1          # m²: a feature (or overlap / gap) smaller
 *                               #   is a sliver
 *       sliver_width: 0.1       # m: 2·area/perimeter below is a sliver
 *       near_distance: 0.05     # m: a vertex this close to a neighbour's
 *                               #   edge without lying on it = near miss
 *       micro_segment: 0.001    # m: shorter segments are micro-segments
 *       spike_angle: 1          # degrees: sharper vertices are spikes
 *       area_rel: 0.001         # recorded vs computed area: relative and
 *       area_abs: 1             #   absolute (m²) tolerance, both exceeded
 *       tbdlmj_abs: 0.01        # m²: |TBDLMJ - (TBMJ - KCMJ)| tolerance
 *       crop_rel: 0.05          # farmland on non-cultivated land: share
 *     coverage: [DLTB, XZQ]     # layers that must tile without overlaps
 *                               #   or gaps (topology checks)
 *     extent: XZQ               # layer whose union is the planning
 *                               #   extent (outside-extent checks); none
 *                               #   when absent from the project
 *     schemas:
 *       DLTB:
 *         single_part: true     # multi-part features are reported
 *         area_field: TBMJ      # recorded ellipsoidal area (m²)
 *         net_area: {net: TBDLMJ, gross: TBMJ, deduct: KCMJ}
 *         fields:
 *           BSM: {type: text, required: true, unique: true}
 *           DLBM: {type: text, required: true, domain: dlbm}
 *           TBMJ: {type: real, required: true}
 *           ZLDWDM: {type: text, domain: xzqdm}
 *           QSXZ: {type: text, values: ['10', '20', '30', '40']}
 *
 * Thresholds are plain numbers >= 0; spike_angle is in (0, 90) and
 * crop_rel at most 1. net_area needs all three of net, gross and deduct,
 * three different fields. Booleans are true or false. Schema layer codes
 * are upper-cased and unique; field names are unique without ASCII case.
 * A field listed with nothing (`XZQMC:`) is any type, optional. A field
 * has `domain` or `values`, not both.
 *
 * Field `type`: text | integer | real | number (integer or real) | any
 * (default any). `domain`: dlbm (三调 DLBM, om_dlbm_check), ydyh (用地用海,
 * om_ydyh_check), czcs (城镇村属性码), xzqdm (6, 9 or 12 digits, or 19 for
 * a village-group code; digits only). `values`: an explicit list (exact,
 * after trimming blanks). `required`: the field must exist and be
 * non-NULL / non-blank in every feature. `unique`: no two features share
 * a non-blank value.
 */
enum om_qc_domain {
    OM_QC_DOMAIN_NONE = 0,
    OM_QC_DOMAIN_DLBM,
    OM_QC_DOMAIN_YDYH,
    OM_QC_DOMAIN_CZCS,
    OM_QC_DOMAIN_XZQDM
};

struct om_qc_field {
    char *name; /* as written (matched without ASCII case) */
    int type;   /* 0 any, else an om_field_type; -1 number */
    bool required, unique;
    enum om_qc_domain domain;
    char **values; /* explicit value list, NULL if none */
    size_t nvalues;
    int line;
};

struct om_qc_schema {
    char *layer; /* upper case */
    bool single_part;
    char *area_field;                             /* NULL if none */
    char *net_field, *gross_field, *deduct_field; /* all NULL or all set */
    struct om_qc_field *fields;
    size_t nfields;
    int line;
};

/* Limits of the qc section (exceeding one gives OM_ELIMIT); the coverage
 * list and a field's `values` are lists (OM_LIMIT_RULES_VALUES). */
#define OM_LIMIT_QC_SCHEMAS 1000u /* layer schemas in qc.schemas */
#define OM_LIMIT_QC_FIELDS 1000u  /* fields in one schema */

struct om_qc_conf {
    double sliver_area_m2, sliver_width_m, near_distance_m, micro_segment_m,
        spike_angle_deg, area_rel, area_abs_m2, tbdlmj_abs_m2, crop_rel;
    char **coverage; /* upper case */
    size_t ncoverage;
    char *extent_layer; /* upper case, NULL = none */
    struct om_qc_schema *schemas;
    size_t nschemas;
    bool present; /* the file had a qc: section */
};

/* An entry of the `layers:` section. */
struct om_layer_conf {
    char *code;  /* upper case */
    char *role;  /* landuse admin farmland eco_redline urban_boundary zoning
                    planned_use farmland_target other; NULL if not given */
    char *title; /* display name ("name:"), NULL if not given */
    char **keys; /* attributes carried into results, as written */
    size_t nkeys;
};

struct om_rules {
    char *source;    /* path, or "(built-in)" */
    char sha256[65]; /* of the file's bytes */
    char *name;      /* project.name, NULL if none */
    char *crs;       /* project.crs, NULL if none */
    struct om_layer_conf *layers;
    size_t nlayers;
    char *admin_layer;     /* admin.layer (upper case), NULL if no admin: */
    char *admin_code;      /* admin.code field, NULL if none */
    char *admin_name;      /* admin.name field, NULL if none */
    struct om_rule *rules; /* in file order; ids are unique */
    size_t nrules;
    struct om_check_profile *profiles; /* in file order; names unique */
    size_t nprofiles;
    struct om_qc_conf qc; /* defaults when the file has no qc: */
};

/* Read and parse the rule file at `path`. Free with om_rules_free. */
enum om_status om_rules_load(const char *path, struct om_rules **out,
                             struct om_error *err);

/*
 * Parse `len` bytes of rule-file text (need not be NUL-terminated).
 * `source` (may be NULL: "(buffer)") names it in errors and in ->source.
 */
enum om_status om_rules_parse(const char *text, size_t len, const char *source,
                              struct om_rules **out, struct om_error *err);

/* The built-in default rule set (data/rules/onemap.yaml, compiled in). */
enum om_status om_rules_default(struct om_rules **out, struct om_error *err);

/*
 * A copy of the text of the built-in default rule set (data/rules/
 * onemap.yaml with its comments), e.g. for `onemap rules default > x.yaml`.
 * *text is NUL-terminated, free with om_rules_text_free; *len may be NULL.
 */
enum om_status om_rules_default_text(char **text, size_t *len,
                                     struct om_error *err);
void om_rules_text_free(char *text);

/* Free a rule set. Accepts NULL. */
void om_rules_free(struct om_rules *r);

/* The `layers:` entry of `code` (case-insensitive), or NULL. Borrowed. */
const struct om_layer_conf *om_rules_layer(const struct om_rules *r,
                                           const char *code);

/* The profile named `name` (exact), or NULL. Borrowed. */
const struct om_check_profile *om_rules_profile(const struct om_rules *r,
                                                const char *name);

/* The qc schema of layer `code` (ASCII case-insensitive), or NULL. */
const struct om_qc_schema *om_rules_qc_schema(const struct om_rules *r,
                                              const char *code);

/* The rule with id `id` (exact), or NULL. Borrowed. */
const struct om_rule *om_rules_find(const struct om_rules *r, const char *id);

/*
 * Evaluate `side`'s filter on `layer` (normally the layer named by
 * side->layer; the name is not checked). On success *mask is an
 * om__malloc'ed array of om_layer_nfeatures(layer) bytes, 1 = selected,
 * indexed like the layer's features (free with the allocator's free, i.e.
 * om_rules_mask_free), and *nselected (may be NULL) the count of ones.
 * A term naming a field the layer does not have gives OM_ENOTFOUND naming
 * the rule id, the layer and the field and listing the layer's fields.
 * `rule` (may be NULL) is used for messages only.
 */
enum om_status om_rule_side_select(const struct om_rule *rule,
                                   const struct om_rule_side *side,
                                   const struct om_layer *layer, uint8_t **mask,
                                   size_t *nselected, struct om_error *err);
/* Free a mask returned by om_rule_side_select. Accepts NULL. */
void om_rules_mask_free(uint8_t *mask);

#ifdef __cplusplus
}
#endif
#endif
