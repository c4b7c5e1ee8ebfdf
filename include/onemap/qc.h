/*
 * onemap/qc.h — data quality control (成果质检) of the project's layers:
 * geometry, topology inside coverage layers, relations between layers,
 * attributes against a schema, and the CRS; an error list with stable
 * check codes, an error layer in the project, a summary and a score; and
 * the repair of what is safely fixable into a new layer version.
 *
 * Checks are configured by the `qc:` section of the rule file
 * (onemap/rules.h): thresholds, coverage layers, the extent layer and the
 * attribute schemas. Every finding names its check code (catalogue
 * below), the layer, the feature id (and the other feature for pairs), a
 * location, and where it has one its polygon (overlap, gap, sliver, the
 * part outside the extent) with its planar area.
 *
 * Thread safety: one call per project handle at a time; results are
 * independent objects.
 */
#ifndef ONEMAP_QC_H
#define ONEMAP_QC_H

#include "onemap/layer.h"
#include "onemap/rules.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_project;

#define OM_QC_NONE ((size_t)-1)

/* ---- the catalogue of checks ----
 *
 * Codes are stable (never reused for another meaning):
 *   geometry   G001 invalid geometry (GEOS reason: self-intersection, ring
 *                   self-intersection, hole outside shell, nested shells,
 *                   too few points, invalid coordinate, ...)   error  fix
 *              G002 repeated consecutive vertices               warning fix
 *              G003 spike / zero-width finger (vertex angle below
 *                   thresholds.spike_angle)                     warning
 *              G004 micro-segment (shorter than micro_segment) warning
 *              G005 empty geometry                              error
 *              G006 multi-part feature in a single_part layer   warning
 *              G007 ring orientation: shells not CCW / holes not CW  info fix
                   (a layer storing most shells CW — the Shapefile /
                   FileGDB convention — gets one layer-level G007 and its
                   features are judged against that convention)
 *   topology   T001 overlap between two features (polygon)      error
 *   (coverage  T002 gap inside the layer's outline or the
 *    layers)        extent (polygon)                            error
 *              T003 sliver feature (area or width below)        warning fix*
 *              T004 near miss: a vertex within near_distance of a
 *                   neighbour's edge but not on it              warning
 *   layers     L001 feature (part) outside the planning extent  error
 *                   (parts that are slivers by the thresholds are
 *                   digitising noise between sources: not reported)
 *              L002 permanent basic farmland on land not recorded as
 *                   cultivated, share above crop_rel            info
 *              L003 control lines overlapping where the rule set
 *                   forbids it (rules of kind must_not_overlap between
 *                   farmland / eco_redline / urban_boundary layers)  error
 *   attributes A001 required field missing from the layer       error
 *              A002 field of the wrong type                      error
 *              A003 required value NULL or blank                 error
 *              A004 value outside the field's domain / values    error
 *              A005 duplicate value of a unique field            error
 *              A006 net area ≠ gross − deduction (TBDLMJ)        error
 *              A007 recorded area ≠ computed ellipsoidal area    warning
 *   crs        C001 coordinates inconsistent with the declared CRS (range,
 *                   zone prefix of the eastings)                 error
 * (fix*: only with om_qc_repair_options.merge_slivers.)
 */
struct om_qc_check {
    const char *code;     /* "G001" */
    const char *category; /* geometry topology layers attributes crs */
    enum om_severity severity;
    bool fixable;
    const char *zh, *en; /* what is checked, one line */
};
size_t om_qc_ncheck(void);
const struct om_qc_check *om_qc_check_at(size_t i);
/* By code (exact), NULL if unknown. */
const struct om_qc_check *om_qc_check_find(const char *code);

/* ---- running ---- */

struct om_qc_options {
    /* Layer codes to check (current versions); NULL/0 = every current
     * layer of the project. A code not in the project: OM_ENOTFOUND. */
    const char *const *layers;
    size_t nlayers;
    /* The rule file (qc: section; its rules for L003); NULL = built-in. */
    const struct om_rules *rules;
    /* Check codes to run ("G001", or a category "topology"); NULL/0 =
     * all. */
    const char *const *only;
    size_t nonly;
    /* At most this many findings per (layer, check) are kept; the rest
     * are counted (om_qc_count.count) but not listed. 0 = 100000. */
    size_t max_per_check;
    int threads; /* 0 = all cores */
};

struct om_qc_error {
    const char *code; /* static: the catalogue's */
    enum om_severity severity;
    const char *layer; /* owned by the result */
    int64_t fid;       /* -1: the whole layer (A001, A002, C001) */
    int64_t fid2;      /* the other feature (T001, T004, A005), else -1 */
    double x, y;       /* location in the project CRS; NaN for layer-level */
    double area_m2;    /* planar area of the error polygon; NaN if none */
    double value;      /* what was measured (segment length m, angle °,
                          area difference m², distance m), NaN if none */
    char *field;       /* attribute concerned, NULL if none */
    char *zh, *en;     /* the specific message, e.g. "Self-intersection at
                          (42512345.678, 4856000.123)" */
    size_t polygon;    /* feature index in result->polygons, or
                          OM_QC_NONE */
};

/* Findings per (layer, check). */
struct om_qc_count {
    const char *code;
    const char *layer;
    size_t count;   /* all found, also those beyond max_per_check */
    size_t listed;  /* in result->errors */
    double area_m2; /* sum of the polygons' areas (NaN if none) */
};

/* A layer's score: 100 × (1 − features with an error-severity finding /
 * features), minus 10 per layer-level error (A001, A002, C001), at least
 * 0. Warnings and infos do not lower it. */
struct om_qc_layer {
    char *code;
    int version;
    size_t nfeatures;
    size_t nerrors, nwarnings, ninfos; /* findings by severity */
    size_t nbad_features;              /* features with an error */
    double score;
};

struct om_qc_result {
    /* Sorted by layer (as checked), check code, fid, fid2. */
    struct om_qc_error *errors;
    size_t nerrors;
    /*
     * The error polygons (finished, OM_LAYER_KEEP_ORDER, fid = error index
     * + 1, project CRS); fields: code (TEXT), severity (TEXT), layer
     * (TEXT), fid (INT), fid2 (INT, NULL if none), area_m2 (REAL),
     * message_zh (TEXT), message_en (TEXT).
     */
    struct om_layer *polygons;
    struct om_qc_count *counts; /* by layer (as checked), then code */
    size_t ncounts;
    struct om_qc_layer *layers;
    size_t nlayers;
    size_t nerror_findings; /* findings of severity error (all layers) */
    bool truncated;         /* some check exceeded max_per_check */
    int64_t run_id;         /* 0 when not stored */
    double elapsed_s;
};

/*
 * Run the checks. With `store`, a run of kind "qc" is written: the point
 * layer QC_ERRORS (one point per finding at (x, y); layer-level findings
 * get a NULL geometry) with the columns of struct om_qc_error, the
 * polygon layer QC_AREAS (result->polygons) and the table QC_SUMMARY
 * (result->counts, with severity and the layer scores), one transaction;
 * res->run_id is set. Errors: OM_ENOTFOUND (layer), store errors,
 * OM_ENOMEM, OM_ECANCELED. Findings are data, not errors: a layer full
 * of defects returns OM_OK.
 */
enum om_status om_qc_run(struct om_project *p, const struct om_qc_options *opt,
                         bool store, struct om_qc_result **out,
                         const struct om_progress *progress,
                         struct om_error *err);
void om_qc_result_free(struct om_qc_result *res);

/* The result as JSON: {"onemap","run_id","elapsed_s","layers":[...],
 * "counts":[...],"errors":[...]} (areas with 6 decimals). Free with
 * om_qc_free_string. */
enum om_status om_qc_result_json(const struct om_qc_result *res, char **out,
                                 size_t *len, struct om_error *err);
void om_qc_free_string(char *s);

/*
 * A bilingual HTML report (prints on A4): overview (layers, scores,
 * counts by check with severity and areas), an overview map per checked
 * layer with the error locations and polygons over the layer, the worst
 * cases (largest overlaps / gaps, first errors of each check) with
 * coordinates, and the method (thresholds, rule file hash). `p` (may be
 * NULL: no maps) is the project the result came from.
 */
enum om_status om_qc_report_html(struct om_project *p,
                                 const struct om_qc_result *res,
                                 const struct om_rules *rules, FILE *f,
                                 struct om_error *err);

/* ---- repair ---- */

struct om_qc_repair_options {
    const struct om_rules *rules; /* thresholds; NULL = built-in */
    /* Merge sliver features (T003) into the neighbour with the longest
     * shared edge (coverage layers only; attributes of the neighbour
     * kept). */
    bool merge_slivers;
    bool dry_run; /* compute and list, write nothing */
    int threads;
};

/* One change to one feature. */
struct om_qc_change {
    int64_t fid;
    const char *code; /* the check the change fixes (G001, G002, G007,
                         T003) */
    char *action;     /* e.g. "MakeValid: 2 polygons", "removed 3 repeated
                         vertices", "merged into fid 1234" */
    double area_before_m2, area_after_m2; /* planar */
    int64_t merged_into;                  /* T003, else -1 */
};

struct om_qc_repair_result {
    char *layer;
    int version_from, version_to; /* version_to 0 when nothing changed or
                                     dry_run */
    struct om_qc_change *changes; /* by fid */
    size_t nchanges;
    size_t nremaining; /* error findings repair could not fix (e.g. A*) */
    double area_before_m2, area_after_m2; /* whole layer, planar */
};

/*
 * Repair the current version of layer `code` into a NEW version (through
 * om_project_import: one transaction; the original version stays): every
 * feature with a fixable finding is repaired, the others are copied as
 * they are (same fid and attributes). Steps per feature: drop repeated
 * consecutive vertices; MakeValid (om_polyops_make_valid) when invalid;
 * orient shells CCW and holes CW; then, with merge_slivers, sliver
 * features are merged into their neighbour (a feature count change,
 * listed). The import log of the new version names the repair and the
 * number of changes. Nothing to change: OM_OK, version_to 0, no new
 * version.
 */
enum om_status om_qc_repair(struct om_project *p, const char *code,
                            const struct om_qc_repair_options *opt,
                            struct om_qc_repair_result **out,
                            const struct om_progress *progress,
                            struct om_error *err);
void om_qc_repair_result_free(struct om_qc_repair_result *r);

#ifdef __cplusplus
}
#endif
#endif
