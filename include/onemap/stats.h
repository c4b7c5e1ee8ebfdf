/*
 * onemap/stats.h — land-use statistics (三调 地类面积统计): area by
 * administrative unit × land class.
 *
 * Admin assignment is by overlay (a parcel split across units contributes
 * the area of each intersection to each unit; area outside every unit is
 * reported as unassigned) or by a code-prefix attribute of the parcel
 * (e.g. ZLDWDM, whose first 9 digits are the township code). Areas are
 * ellipsoidal (CGCS2000 ellipsoid, geodesic edges), planar (the project
 * CRS) or taken from a field (e.g. TBDLMJ, in m²). Classes may be rolled
 * up to 一级类 / 二级类 through the shipped 三调 code table.
 *
 * Results are deterministic: identical bytes for any thread count.
 * Thread safety: om_stats_run is reentrant; it reads the layers only.
 */
#ifndef ONEMAP_STATS_H
#define ONEMAP_STATS_H

#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_crs;

enum om_area_mode {
    OM_AREA_ELLIPSOIDAL = 0, /* geodesic area on the CRS's ellipsoid */
    OM_AREA_PLANAR,          /* shoelace in the projected CRS */
    OM_AREA_FIELD            /* a numeric attribute, in m² */
};

enum om_assign_mode {
    OM_ASSIGN_NONE = 0, /* whole-layer totals per class */
    OM_ASSIGN_OVERLAY,  /* intersect parcels with the unit polygons */
    OM_ASSIGN_PREFIX    /* unit = prefix of a parcel attribute */
};

struct om_stats_options {
    const char *class_field; /* required: e.g. "DLBM" */
    int level;               /* 0 = codes as they are; 1 = 一级; 2 = 二级 */
    enum om_area_mode area;
    const char *area_field;   /* OM_AREA_FIELD: e.g. "TBDLMJ" */
    const struct om_crs *crs; /* the layers' CRS: for ellipsoidal areas */

    enum om_assign_mode assign;
    /* OVERLAY (and PREFIX when names are wanted): the unit layer and its
     * code / name attributes. */
    const struct om_layer *units;
    const char *unit_code_field;
    const char *unit_name_field;
    /* PREFIX: parcel attribute and prefix length; 0 = the length of the
     * unit codes (then `units` is required). */
    const char *prefix_field;
    int prefix_len;

    int threads; /* 0 = all cores */
    /* The overlay engine (onemap/overlay.h) of OM_ASSIGN_OVERLAY; unused by
     * the other assignments. 0 = OM_ENGINE_AUTO: the exact area kernel (every
     * area mode); OM_ENGINE_GEOS is the reference path. */
    enum om_overlay_engine engine;
};

/* One cell: one unit × one class. */
struct om_stats_cell {
    size_t unit;  /* index into units[] */
    size_t klass; /* index into classes[] */
    double area_m2;
    int64_t nfeatures; /* parcels contributing (a split parcel counts in
                          every unit it touches) */
};

struct om_stats_unit {
    char *code; /* "" for unassigned / whole layer */
    char *name;
};

struct om_stats_class {
    char *code;    /* the class value ("" for NULL) */
    char *name_zh; /* from the code table, or NULL */
    char *name_en;
};

struct om_stats_result {
    struct om_stats_unit *units; /* sorted by code; the last one is
                                    "unassigned" when has_unassigned */
    size_t nunits;
    bool has_unassigned;
    struct om_stats_class *classes; /* sorted by code */
    size_t nclasses;
    struct om_stats_cell *cells; /* non-zero cells, by unit then class */
    size_t ncells;
    double total_m2;         /* area of all parcels (per the area mode) */
    double assigned_m2;      /* of which inside units */
    int64_t nfeatures;       /* parcels read */
    int64_t nskipped;        /* empty or invalid parcels (not counted) */
    int64_t nsplit;          /* parcels split across several units */
    int64_t nunits_unusable; /* unit features not used: empty or invalid
                                geometry (their area counts unassigned) */
};

/*
 * Compute the statistics of `parcels`. Errors: unknown fields
 * (OM_ENOTFOUND naming the field and listing the layer's fields), a
 * non-numeric area field, a missing CRS for ellipsoidal areas, GEOS
 * failures naming both features. *out is NULL on failure.
 */
enum om_status om_stats_run(const struct om_layer *parcels,
                            const struct om_stats_options *opt,
                            struct om_stats_result **out,
                            const struct om_progress *progress,
                            struct om_error *err);
void om_stats_result_free(struct om_stats_result *r);

/*
 * Round `n` values (already in the output unit) to `decimals` so that the
 * rounded values add up exactly to the rounded sum (largest-remainder
 * apportionment, the 平差 of official tables). Writes n values to `out`.
 */
void om_round_preserving_sum(const double *values, size_t n, int decimals,
                             double *out);

/*
 * The same with an explicit target: the rounded values add up to `target`
 * rounded to `decimals` (used to keep nested totals consistent: cells to
 * their unit's rounded total, unit totals to the grand total).
 */
void om_apportion(const double *values, size_t n, int decimals, double target,
                  double *out);

#ifdef __cplusplus
}
#endif
#endif
