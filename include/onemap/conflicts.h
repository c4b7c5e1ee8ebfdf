/*
 * onemap/conflicts.h — multi-plan conflict detection (多规合一冲突检测).
 *
 * Each rule of a rule set (onemap/rules.h) is evaluated on the project's
 * current layers with the overlay engine (onemap/overlay.h):
 *   must_not_overlap  A ∩ B must be empty: the patches are A ∩ B;
 *   must_be_within    A \ B must be empty: the patches are A outside B;
 *   must_cover        B \ A must be empty: the patches are B outside A.
 * Patches are split by admin unit, carry the rule id and severity, the fids
 * and key attributes of their source features, the unit code/name and
 * their planar and ellipsoidal areas; patches below the rule's minimum area
 * or width are dropped as slivers (and counted).
 *
 * Thread safety: one call per project handle at a time.
 */
#ifndef ONEMAP_CONFLICTS_H
#define ONEMAP_CONFLICTS_H

#include "onemap/layer.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_project;
struct om_rules;

struct om_conflicts_options {
    const char *only_rule; /* evaluate just this rule id; NULL = all */
    double min_area_m2;    /* < 0: each rule's own min_area */
    int threads;           /* 0 = all cores */
    bool skip_missing;     /* rules naming a missing layer are skipped
                              (reported) instead of failing the run */
};

/* One row of the summary: rule × admin unit. */
struct om_conflict_summary {
    char *rule_id;
    char *severity;
    char *unit_code; /* "" outside every unit / no units */
    char *unit_name;
    int64_t npatches;
    double planar_m2;
    double ellipsoidal_m2;
};

struct om_conflicts_result {
    struct om_layer *patches; /* finished; fields listed in conflicts.c */
    struct om_conflict_summary *summary; /* by rule (file order), unit */
    size_t nsummary;
    int64_t nslivers; /* patches dropped below min area/width */
    char **skipped;   /* "R007: layer GHYT not in the project" */
    size_t nskipped;
    char *admin_layer; /* units used, or NULL */
    int64_t run_id;    /* 0 when not stored */
};

/*
 * Evaluate `rules` on the current layers of `p`. With `store`, the patches
 * and the summary are written as a new run (om_run_*), all or nothing.
 */
enum om_status om_conflicts_run(struct om_project *p,
                                const struct om_rules *rules,
                                const struct om_conflicts_options *opt,
                                bool store, struct om_conflicts_result **out,
                                const struct om_progress *progress,
                                struct om_error *err);
void om_conflicts_result_free(struct om_conflicts_result *r);

#ifdef __cplusplus
}
#endif
#endif
