/*
 * onemap/review.h — construction project compliance review (合规性审查 /
 * 压占分析): a site (the parcels of a 部标 TXT file, or any polygons) is
 * checked against the project's control lines, land use and planned use
 * with the checks of a review profile (onemap/rules.h, `profiles:`).
 *
 * The work is split so that a server can answer in milliseconds:
 *
 *   om_review_open   reads the current version of every layer the profile
 *                    (and the admin units) needs, once, and cuts features
 *                    of more than a few hundred vertices into local tiles
 *                    (om_polyops_subdivide) with an R-tree over the tiles.
 *   om_review_check  checks one site against that: per parcel, the tiles
 *                    meeting the parcel's box are clipped against the
 *                    prepared parcel (covers / disjoint / partial), so the
 *                    cost follows the site and what is near it, not the
 *                    size of the project.
 *
 * Areas are planar (project CRS, m²) and ellipsoidal (CGCS2000 ellipsoid,
 * geodesic, as official statistics), summed over the pieces of the tiles;
 * a site touching a feature along an edge or at a point occupies 0 m².
 *
 * Thread safety: an om_review is read-only after om_review_open; any
 * number of threads may call om_review_check on it at once (each call
 * makes its own GEOS and PROJ contexts). Results are independent objects.
 */
#ifndef ONEMAP_REVIEW_H
#define ONEMAP_REVIEW_H

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
struct om_bbtxt;

/* A loaded project + profile, ready to check sites. */
struct om_review;

/*
 * Load what the checks of `profile_name` in `rules` need from the current
 * layers of `p`: each check's layer (read once even when several checks
 * name it), its selection mask, and the admin units (rules->admin_layer,
 * else XZQ when the project has it) to locate the site. `rules` and the
 * profile are copied (the caller may free them afterwards); the project
 * handle is used only during the call.
 *
 * A check whose layer the project does not have is kept and reported as
 * skipped in every result ("layer GHYT not in the project"); it never
 * passes silently: the finding has `missing` set and the parcel decision
 * is at least CONDITIONAL when the check could have failed it (every
 * kind but report). A filter naming a field the layer lacks, or a `by`
 * field the layer lacks, is OM_ENOTFOUND naming the check id, layer and
 * field. The project CRS must be set (OM_ECRS otherwise).
 * Errors: OM_ENOTFOUND (no such profile: the message lists the profiles),
 * store errors, OM_EGEOM (a feature that cannot be tiled, naming it),
 * OM_ENOMEM, OM_ECANCELED.
 */
enum om_status om_review_open(struct om_project *p,
                              const struct om_rules *rules,
                              const char *profile_name, struct om_review **out,
                              const struct om_progress *progress,
                              struct om_error *err);
void om_review_free(struct om_review *r);

/* The profile checked (a copy owned by the review). */
const struct om_check_profile *om_review_profile(const struct om_review *r);
/* The rules' source ("(built-in)" or a path) and the SHA-256 of its bytes. */
const char *om_review_rules_source(const struct om_review *r);
const char *om_review_rules_sha256(const struct om_review *r);
/* The project CRS ("EPSG:4530") and project path. */
const char *om_review_crs(const struct om_review *r);
const char *om_review_project_path(const struct om_review *r);

/* A layer loaded by the review (checks' layers, then the admin units). */
struct om_review_layer {
    const char *code;
    const char *role;  /* om_layer_role_for / the rules' layers: role */
    const char *title; /* display name (rules' layers: name), may be NULL */
    int version;
    const char *sha256;           /* of its source, "" if unknown */
    const struct om_layer *layer; /* the original features, finished */
    bool is_admin;                /* the admin units */
};
size_t om_review_nlayers(const struct om_review *r);
/* Layer `i` (< om_review_nlayers), or NULL. Borrowed from the review. */
const struct om_review_layer *om_review_layer_at(const struct om_review *r,
                                                 size_t i);
/* Layer by code (ASCII case-insensitive), NULL if not loaded. */
const struct om_review_layer *om_review_layer_find(const struct om_review *r,
                                                   const char *code);

/* ---- results ---- */

/* Area of one class (value of the check's `by` field) inside a finding. */
struct om_review_class {
    char *value;   /* "" for NULL/blank or when the check has no `by` */
    char *name_zh; /* from the code tables when the value is a known
                      DLBM / 用地用海 code, else NULL */
    char *name_en;
    double planar_m2, ellipsoidal_m2;
    size_t nfeatures; /* distinct features of that class met */
};

/* The result of one check on one parcel (or on the whole site). */
struct om_review_finding {
    char *check_id;
    enum om_check_kind kind;
    char *layer;               /* layer code */
    int layer_version;         /* 0 when missing */
    bool missing;              /* the layer is not in the project */
    bool not_evaluated;        /* purpose check of a site without use code */
    enum om_decision decision; /* the check's outcome for this parcel */
    /* The measured area (planar m², ellipsoidal m²): forbidden /
     * conditional / report: site ∩ selected; must_be_within: site outside
     * their union; purpose: area of planned use incompatible with the
     * site's use. 0 when missing. */
    double planar_m2, ellipsoidal_m2;
    double share;         /* planar_m2 / the parcel's (site's) planar area */
    bool below_tolerance; /* area > 0 but <= the tolerance: reported,
                             not decisive */
    struct om_review_class *classes; /* by value (byte order); for
                                        must_be_within one class "" */
    size_t nclasses;
    int64_t *fids; /* features met (ascending, distinct) */
    size_t nfids;
    char *reason_zh, *reason_en; /* one sentence citing the check id,
                                    e.g. "C001 不得占用永久基本农田：占用
                                    1234.56 平方米（1.8518 亩）" */
};

/* An admin unit the parcel lies in. */
struct om_review_unit {
    char *code, *name; /* "" when the field is missing / NULL */
    double planar_m2, ellipsoidal_m2;
};

struct om_review_parcel {
    size_t index; /* feature index in result->site (fid order) */
    int64_t fid;
    char *code, *name; /* site fields DKBH / DKMC if present, else "" */
    char *use;         /* land-use code used by purpose checks, NULL none */
    double planar_m2, ellipsoidal_m2;
    size_t nvertices;
    enum om_decision decision;          /* worst of its findings */
    struct om_review_finding *findings; /* one per profile check, in order */
    size_t nfindings;
    struct om_review_unit *units; /* by code; area outside every unit is
                                     outside_m2 */
    size_t nunits;
    double outside_planar_m2; /* outside every admin unit (project area):
                                 above the profile tolerance makes the
                                 parcel at least CONDITIONAL */
    bool has_units;           /* an admin layer was loaded */
};

struct om_review_result {
    char *profile; /* profile name */
    char *rules_sha256;
    enum om_decision decision; /* worst over the parcels */
    struct om_review_parcel *parcels;
    size_t nparcels;
    /* The whole site: per check, areas summed over the parcels, decision
     * = worst of the parcels' for that check. */
    struct om_review_finding *totals;
    size_t ntotals;
    double planar_m2, ellipsoidal_m2; /* site area (sum of parcels) */
    /* The site in the project CRS (finished, fid order: KEEP_ORDER),
     * fields as given plus nothing; owned. */
    struct om_layer *site;
    /*
     * The pieces (finished, fid order from 1): for forbidden, conditional,
     * report and purpose checks the parcel ∩ each feature met (one
     * feature per (parcel, check, source feature)); for must_be_within the
     * parcel outside the layer (one per parcel and check). Fields:
     * parcel (INT, 1-based parcel number = parcel index + 1), parcel_code
     * (TEXT), check_id (TEXT), kind (TEXT), decision (TEXT: the finding's),
     * layer (TEXT), fid (INT, NULL for must_be_within), class (TEXT),
     * area_m2 (REAL), area_ell_m2 (REAL). Owned.
     */
    struct om_layer *pieces;
    double elapsed_ms;   /* wall time of om_review_check */
    int64_t run_id;      /* the stored review record, 0 when not stored */
    char *source;        /* the site's source (path), may be NULL */
    char *source_sha256; /* of the source file, "" if unknown */
};

struct om_review_site_options {
    /* Land-use code of the site for purpose checks, overriding the
     * parcels' own (field DKYT 地块用途 when it is a 用地用海 code, else
     * field DLBM 地类编码 converted with the 三调 → 用地用海 crosswalk).
     * NULL = the parcels' own. */
    const char *use;
    const char *source;        /* recorded in the result, may be NULL */
    const char *source_sha256; /* NULL = the SHA-256 of the file `source`
                                  when it can be read, else "" */
};

/*
 * Check every feature (parcel) of `site` (a finished layer of polygons;
 * its CRS must be set — it is transformed to the project CRS when it
 * differs — or NULL/"" meaning the project CRS). `opt` may be NULL.
 * Errors: OM_EGEOM (an empty, invalid or non-finite parcel: the message
 * names its fid / code and the GEOS reason), OM_EINVAL (an empty site,
 * a site none of whose parcels meets the project's extent — "wrong zone
 * or CRS?"), OM_ECRS, OM_ENOMEM. *out is NULL on failure.
 */
enum om_status om_review_check(const struct om_review *r,
                               const struct om_layer *site,
                               const struct om_review_site_options *opt,
                               struct om_review_result **out,
                               struct om_error *err);
void om_review_result_free(struct om_review_result *res);

/*
 * Store the result as a review record: a run of kind "check"
 * (onemap/store.h) with params {"profile","source","source_sha256",
 * "use"}, the rules source and hash, the inputs (each loaded layer's code,
 * version, sha256), the results layers CHECK_SITES (the site, one feature
 * per parcel with fields parcel, code, name, use, decision, area_m2,
 * area_ell_m2), CHECK_PIECES (result->pieces) and the table
 * CHECK_FINDINGS (parcel, code, check_id, kind, layer, layer_version,
 * decision, area_m2, area_ell_m2, share, classes, reason_zh, reason_en),
 * and the summary = om_review_result_json. One transaction. Sets
 * res->run_id. `p` must be the project the review was opened on, opened
 * read-write.
 */
enum om_status om_review_store(const struct om_review *r, struct om_project *p,
                               struct om_review_result *res,
                               struct om_error *err);

/*
 * The result as JSON (UTF-8, one object): {"onemap","profile",
 * "rules_sha256","crs","source","source_sha256","decision","area_m2",
 * "area_ell_m2","run_id","elapsed_ms","inputs":[{code,version,sha256}],
 * "parcels":[{"parcel","fid","code","name","use","area_m2",
 * "area_ell_m2","nvertices","decision","outside_m2","units":[...],
 * "findings":[{"check_id","kind","layer","layer_version","missing",
 * "not_evaluated","decision","area_m2","area_ell_m2","area_ha",
 * "area_mu","share","below_tolerance","classes":[{value,name_zh,name_en,
 * area_m2,area_ell_m2,nfeatures}],"fids":[...],"reason_zh",
 * "reason_en"}]}],"totals":[findings]}. Areas with full precision
 * (%.17g rounded to 1e-6 m²: 6 decimals). *out is NUL-terminated; free
 * with om_review_free_string.
 */
enum om_status om_review_result_json(const struct om_review *r,
                                     const struct om_review_result *res,
                                     char **out, size_t *len,
                                     struct om_error *err);
void om_review_free_string(char *s);

/* ---- reproducing a stored review (review records) ----
 *
 * A stored review (om_review_store) keeps what is needed to make the
 * decision again: the site (CHECK_SITES_r<N>: the parcels' geometry in the
 * project CRS and, per parcel, code, name and the land-use code the
 * purpose checks used), the profile, the use option, the rules' SHA-256
 * and every loaded layer's version (layer versions are never overwritten,
 * only superseded). om_review_record_read reads it back;
 * om_review_rerun checks the site again on the same layer versions (or
 * on the current ones) and om_review_compare lists what differs from the
 * stored result.
 */

/* A layer version to load instead of the current one. */
struct om_review_pin {
    const char *code; /* layer code (compared without ASCII case) */
    int version;      /* >= 1 */
};

/*
 * om_review_open on given layer versions: a layer named in `pins` is read
 * at that version; a pinned version the project does not have (any more)
 * is OM_ENOTFOUND naming the code and the version. When `exact`, a layer
 * the pins do not name is treated as not in the project — as it was when
 * the pinned review was made: its checks are reported missing, and there
 * are no admin units unless pinned (a rules' `admin:` layer that is not
 * pinned is OM_ENOTFOUND). Without `exact`, unnamed layers are read at
 * their current version. A pin with a NULL code or a version < 1 is
 * OM_EINVAL. om_review_open = no pins, not exact.
 */
enum om_status
om_review_open_pinned(struct om_project *p, const struct om_rules *rules,
                      const char *profile_name,
                      const struct om_review_pin *pins, size_t npins,
                      bool exact, struct om_review **out,
                      const struct om_progress *progress, struct om_error *err);

/* A stored review record read back (om_review_record_read). */
struct om_review_record {
    int64_t run_id;
    char started_at[32];
    char *profile;       /* the profile checked */
    char *source;        /* the site's source path, NULL if none */
    char *source_sha256; /* "" if unknown */
    char *use;           /* the --use option of the review, NULL if none */
    char *rules_source;  /* "(built-in)" or a path; NULL if none */
    char rules_sha256[65];
    struct om_review_pin *pins; /* every layer version loaded (inputs);
                                   codes owned by the record */
    size_t npins;
    /*
     * The site rebuilt from CHECK_SITES_r<N> (finished, project CRS,
     * KEEP_ORDER) with the parcels' original fids (from the stored
     * result) and the fields DKBH (code), DKMC (name) and DKYT (the
     * 用地用海 code the purpose checks used, NULL when none): checked
     * again it gives the same parcel codes and uses. The parcels' other
     * original attributes are not kept (they do not enter a decision).
     */
    struct om_layer *site;
    char *summary; /* the stored result JSON (om_review_result_json) */
};

/*
 * Read run `run_id` of the project as a review record. Errors:
 * OM_ENOTFOUND (no such run: the message lists the check runs), OM_EINVAL
 * (the run is not of kind "check", naming its kind), OM_ESTORE (the
 * record is incomplete or not JSON: its CHECK_SITES table, params,
 * inputs or summary), store errors, OM_ENOMEM. `p` may be read-only.
 */
enum om_status om_review_record_read(struct om_project *p, int64_t run_id,
                                     struct om_review_record **out,
                                     struct om_error *err);
void om_review_record_free(struct om_review_record *rec);

/*
 * Check the recorded site again with the recorded profile, use option
 * and source. Without `current`: on the recorded layer versions
 * (om_review_open_pinned, exact), and `rules` must be the rules the
 * decision was made under: a SHA-256 other than rec->rules_sha256 is
 * OM_EINVAL naming both hashes and the recorded rules source. With
 * `current`: on the current layer versions, with any rules that have the
 * profile (a rule change then shows in om_review_compare). *review and
 * *result are the caller's (om_review_free, om_review_result_free); both
 * NULL on failure. Nothing is written to the project. Errors: those of
 * om_review_open_pinned and om_review_check.
 */
enum om_status
om_review_rerun(struct om_project *p, const struct om_review_record *rec,
                const struct om_rules *rules, bool current,
                struct om_review **review, struct om_review_result **result,
                const struct om_progress *progress, struct om_error *err);

/*
 * Compare a result (normally of om_review_rerun) with the record's
 * stored result: the rules hash, the inputs' versions, the decision, and
 * per parcel (by position) its code, use, decision and areas, per
 * finding (matched by check id) its decision, missing flag, areas and
 * per-class areas, and the totals the same way. Areas are equal when
 * |a − b| <= 1e-6 m² + 1e-9·max(|a|, |b|) (the stored result keeps 6
 * decimals); elapsed time, run id and the onemap version are not
 * compared. *out (free with om_review_free_string) has one line per
 * difference, e.g. "parcel 1 (J1) C001: decision pass -> fail; area_m2
 * 0.000000 -> 5000.000000", "" when identical; *ndiffs the number of
 * lines. Errors: OM_ESTORE (the stored summary is not a review result),
 * OM_ENOMEM.
 */
enum om_status om_review_compare(const struct om_review_record *rec,
                                 const struct om_review *r,
                                 const struct om_review_result *res, char **out,
                                 size_t *ndiffs, struct om_error *err);

/* ---- report ---- */

struct om_review_report_info {
    const char *title;     /* project name (项目名称), NULL = source name */
    const char *source;    /* site file path, may be NULL */
    const char *applicant; /* may be NULL */
    /* The TXT the site came from, for the 界址点成果表 with the file's own
     * point names and coordinates; NULL = points numbered J1.. from the
     * site's vertices in the project CRS. Must be the file `site` was
     * read from (parcels in the same order). */
    const struct om_bbtxt *txt;
    const char *generated_at; /* ISO time, NULL = now */
};

/*
 * A self-contained bilingual HTML report (Chinese with English labels,
 * prints on A4): project information, the decision with its reasons
 * citing check ids, per parcel and total tables (areas in m², 公顷 and
 * 亩, planar and ellipsoidal), per-class tables, the admin units, a map of
 * the site over the control lines and land use with legend, scale bar and
 * north arrow (one per parcel when parcels are far apart), and the
 * 界址点成果表 (point name, ring, X northing, Y easting, edge length to the
 * next point) per parcel; the method and inputs (layer versions, rules
 * hash) at the end.
 */
enum om_status om_review_report_html(const struct om_review *r,
                                     const struct om_review_result *res,
                                     const struct om_review_report_info *info,
                                     FILE *f, struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
