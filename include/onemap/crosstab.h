/*
 * onemap/crosstab.h — the overlay cross-tab (叠加分析交叉统计): area of
 * every (class of A) × (class of B, or inside / outside B) × admin unit,
 * built on the overlay engine (onemap/overlay.h).
 *
 * Totals agree with onemap/stats.h: for each admin unit and class of A, the
 * sum over the classes of B (outside included) is the stats area of that
 * class in that unit, in the same area mode (to ~1e-12 relative: pieces are
 * measured separately, and overlay crumbs below 1e-9 relative + 1e-6 m² of
 * a piece are not reported, as stats does not report them as unassigned).
 *
 * Results are deterministic: identical for any thread count.
 * Thread safety: om_crosstab_run is reentrant; it reads the layers only.
 */
#ifndef ONEMAP_CROSSTAB_H
#define ONEMAP_CROSSTAB_H

#include "onemap/layer.h"
#include "onemap/overlay.h"
#include "onemap/stats.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_crs;

/* A cell index meaning "all" (a total row). */
#define OM_CROSSTAB_ALL ((size_t)-1)

struct om_crosstab_options {
    const struct om_layer *a;     /* required */
    const struct om_layer *b;     /* required */
    const char *class_a;          /* required: class field of A, e.g. DLBM */
    const char *class_b;          /* NULL: classes of B are inside / outside */
    int level_a, level_b;         /* DLBM roll-up as in stats (0, 1, 2) */
    enum om_area_mode area;       /* OM_AREA_ELLIPSOIDAL or OM_AREA_PLANAR */
    const struct om_crs *crs;     /* the layers' CRS (ellipsoidal areas) */
    const struct om_layer *units; /* optional admin units */
    const char *unit_code_field;  /* required with units */
    const char *unit_name_field;  /* optional */
    double min_area_m2;           /* drop pieces below (planar) */
    int threads;                  /* 0 = all cores */
    /* The overlay engine (onemap/overlay.h). 0 = OM_ENGINE_AUTO: the exact
     * area kernel (planar and ellipsoidal areas); OM_ENGINE_GEOS is the
     * reference path. */
    enum om_overlay_engine engine;
    /* A given late, as in om_overlay_options: with `a` NULL, a_late gives
     * it once the kernel has prepared B and the units. */
    enum om_status (*a_late)(void *ctx, const struct om_layer **a,
                             struct om_error *err);
    void *a_late_ctx;
};

struct om_crosstab_class {
    char *code;    /* the value as text ("" for NULL) */
    char *name_zh; /* from the code table (DLBM, or 用地用海 when the field
                      name contains YDYH), or NULL */
    char *name_en;
};

/*
 * One cell. unit, class_a, class_b index the arrays of the result, or are
 * OM_CROSSTAB_ALL in total rows. Produced: (u, ca, cb) cells, (u, ca, ALL)
 * class-of-A totals per unit, (u, ALL, ALL) unit totals, and the same with
 * unit = ALL; without units only unit = ALL rows.
 */
struct om_crosstab_cell {
    size_t unit, class_a, class_b;
    double area_m2;    /* in the area mode */
    int64_t nfeatures; /* distinct A features with area in the cell */
};

struct om_crosstab_result {
    struct om_stats_unit *units; /* sorted by code; the last is "" /
                                    "(unassigned)" when has_unassigned */
    size_t nunits;
    bool has_unassigned;
    struct om_crosstab_class *classes_a; /* sorted by code */
    size_t nclasses_a;
    /* Sorted by code; then the outside class last when has_outside (code
     * "outside" without class_b, else "" with name "(outside)"). Without
     * class_b the first class is "inside". */
    struct om_crosstab_class *classes_b;
    size_t nclasses_b;
    bool has_outside;
    /* Non-empty cells sorted by unit, class_a, class_b (ALL after the
     * others in each position). */
    struct om_crosstab_cell *cells;
    size_t ncells;
    int64_t nfeatures_a; /* A features read */
    int64_t nskipped_a;  /* empty or invalid A features (not counted) */
    int64_t npieces;     /* pieces delivered by the engine */
};

/*
 * Compute the cross-tab. Errors: unknown fields (OM_ENOTFOUND naming the
 * layer, the field and the layer's fields), OM_EINVAL for a bad option,
 * OM_ECRS without a CRS for ellipsoidal areas, and the engine's errors.
 * *out is NULL on failure.
 */
enum om_status om_crosstab_run(const struct om_crosstab_options *opt,
                               struct om_crosstab_result **out,
                               const struct om_progress *progress,
                               struct om_error *err);

/*
 * The cross-tabs of A against each of the layers bs[0 .. nb) (opt->b is
 * not used): out[i] (nb results) is that of bs[i], as om_crosstab_run
 * would give it (to rounding). The kernel engine walks each feature of A
 * once for all the layers. On failure every out[i] is NULL.
 */
enum om_status om_crosstab_run_layers(const struct om_crosstab_options *opt,
                                      const struct om_layer *const *bs,
                                      size_t nb,
                                      struct om_crosstab_result **out,
                                      const struct om_progress *progress,
                                      struct om_error *err);
void om_crosstab_result_free(struct om_crosstab_result *r);

#ifdef __cplusplus
}
#endif
#endif
