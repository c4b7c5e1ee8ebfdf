/*
 * qc_int.h — internal: the contract between the qc driver (qc.c: the
 * catalogue, om_qc_run, the sink, storing, JSON) and the check families
 * (qc_geom.c: G*, qc_attr.c: A* and C*, qc_topo.c: T* and L*).
 *
 * The driver reads each layer once and calls each family with a context;
 * a family reports every finding through om__qc_emit, in a deterministic
 * order (the family's own: e.g. by feature in fid order), from the
 * calling thread only (a family that works in parallel collects per
 * thread and emits after joining, in order). The driver sorts the final
 * list, counts, truncates at max_per_check and computes scores.
 */
#ifndef ONEMAP_OPS_QC_INT_H
#define ONEMAP_OPS_QC_INT_H

#include "onemap/layer.h"
#include "onemap/qc.h"
#include "onemap/rules.h"
#include "onemap/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct om_crs;
struct om__qc_sink;

/* One finding as a family reports it (everything is copied). */
struct om__qc_item {
    const char *code;    /* catalogue code, e.g. "G001" */
    int64_t fid;         /* -1 layer-level */
    int64_t fid2;        /* -1 if none */
    double x, y;         /* location, NaN for layer-level */
    double value;        /* NaN if none */
    const char *field;   /* NULL if none */
    const char *zh, *en; /* specific message (never NULL) */
    /* The error polygon, or pv NULL: feature pf of view pv (copied into
     * result->polygons with its planar area as area_m2). */
    const struct om_layer_view *pv;
    size_t pf;
};

/*
 * Record a finding for the layer being checked. Returns OM_ENOMEM, or
 * OM_ECANCELED when the progress callback asked to stop; families return
 * that status at once. Unknown codes are a programming error (OM_EINVAL).
 */
enum om_status om__qc_emit(struct om__qc_sink *s, const struct om__qc_item *it,
                           struct om_error *err);
/* Whether check `code` is to run (om_qc_options.only). */
bool om__qc_wanted(const struct om__qc_sink *s, const char *code);

/* What a family gets for one layer. */
struct om__qc_ctx {
    const struct om_layer *layer;      /* finished, project CRS */
    const char *code;                  /* layer code, upper case */
    const char *role;                  /* om_layer_role_for / rules */
    const struct om_qc_schema *schema; /* NULL if the layer has none */
    const struct om_qc_conf *conf;     /* thresholds etc. */
    const struct om_rules *rules;
    const struct om_crs *crs; /* the project CRS */
    int threads;
    const struct om_progress *progress;
    struct om__qc_sink *sink;
};

/* G001–G007 on every feature. */
enum om_status om__qc_geometry(const struct om__qc_ctx *c,
                               struct om_error *err);

/* A001–A007 against c->schema (nothing when NULL), and C001. */
enum om_status om__qc_attributes(const struct om__qc_ctx *c,
                                 struct om_error *err);
enum om_status om__qc_crs(const struct om__qc_ctx *c, struct om_error *err);

/*
 * T001–T004 for a coverage layer. `extent` (may be NULL) is the planning
 * extent layer (its features' union): gaps are then also looked for
 * between the layer and the extent's boundary. Invalid features (per
 * GEOS) take no part (they are G001 findings); the count of them skipped
 * is not a finding.
 */
enum om_status om__qc_topology(const struct om__qc_ctx *c,
                               const struct om_layer *extent,
                               struct om_error *err);

/*
 * L001 (parts of c->layer outside `extent`, when extent is not NULL and
 * not the layer itself), L002 (c->layer has role farmland and `landuse`
 * is the DLTB layer) and L003 (c->layer is a control line: the rules'
 * must_not_overlap rules whose sides are this layer and another loaded
 * control layer, `others`/`nothers`, each such pair reported once: on
 * the rule's side a).
 */
enum om_status om__qc_between(const struct om__qc_ctx *c,
                              const struct om_layer *extent,
                              const struct om_layer *landuse,
                              const struct om_layer *const *others,
                              const char *const *other_codes, size_t nothers,
                              struct om_error *err);

#endif
