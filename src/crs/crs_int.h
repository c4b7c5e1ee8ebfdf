/*
 * crs_int.h — internals shared by the files of src/crs: the om_crs record
 * and a PROJ context wrapper that captures PROJ's log messages (PROJ would
 * print them to stderr; the library never prints) for error reports.
 * Only src/crs includes <proj.h> (and loads PROJ: see OM__PROJ_FUNCS).
 */
#ifndef ONEMAP_CRS_INT_H
#define ONEMAP_CRS_INT_H

#include "onemap/crs.h"

#include <geodesic.h>
#include <proj.h>

/*
 * PROJ is loaded when first used (dlopen), not when a program starts: it
 * and the 40 libraries it needs (curl, TLS, LDAP, TIFF...) made every
 * onemap command start 20 ms later, and most commands (an import into a
 * project of the same CRS, an overlay of planar areas) never call it.
 * Every PROJ function src/crs calls goes through the table om__proj_api()
 * fills once, by the macros below; a function missing from OM__PROJ_FUNCS
 * fails to link (the library is not linked with PROJ). Every path into
 * PROJ starts with om__pj_init, which fails with a message naming the
 * library when it cannot be loaded; only then are the table's slots used.
 */
#define OM__PROJ_FUNCS(X)                                                      \
    X(geod_geninverse)                                                         \
    X(geod_init)                                                               \
    X(geod_polygon_addpoint)                                                   \
    X(geod_polygon_compute)                                                    \
    X(geod_polygon_init)                                                       \
    X(proj_as_wkt)                                                             \
    X(proj_clone)                                                              \
    X(proj_context_create)                                                     \
    X(proj_context_destroy)                                                    \
    X(proj_context_errno)                                                      \
    X(proj_context_errno_string)                                               \
    X(proj_context_set_enable_network)                                         \
    X(proj_coordoperation_get_method_info)                                     \
    X(proj_coordoperation_get_param)                                           \
    X(proj_coordoperation_get_param_count)                                     \
    X(proj_create)                                                             \
    X(proj_create_crs_to_crs_from_pj)                                          \
    X(proj_crs_get_coordinate_system)                                          \
    X(proj_crs_get_coordoperation)                                             \
    X(proj_crs_get_geodetic_crs)                                               \
    X(proj_crs_get_sub_crs)                                                    \
    X(proj_cs_get_axis_info)                                                   \
    X(proj_destroy)                                                            \
    X(proj_ellipsoid_get_parameters)                                           \
    X(proj_errno)                                                              \
    X(proj_errno_reset)                                                        \
    X(proj_get_ellipsoid)                                                      \
    X(proj_get_id_auth_name)                                                   \
    X(proj_get_id_code)                                                        \
    X(proj_get_name)                                                           \
    X(proj_get_source_crs)                                                     \
    X(proj_get_type)                                                           \
    X(proj_identify)                                                           \
    X(proj_int_list_destroy)                                                   \
    X(proj_is_crs)                                                             \
    X(proj_is_equivalent_to_with_ctx)                                          \
    X(proj_list_destroy)                                                       \
    X(proj_list_get)                                                           \
    X(proj_list_get_count)                                                     \
    X(proj_log_func)                                                           \
    X(proj_log_level)                                                          \
    X(proj_normalize_for_visualization)                                        \
    X(proj_trans_generic)

struct om__proj_api {
#define OM__PROJ_MEMBER(f) __typeof__(f) *f;
    OM__PROJ_FUNCS(OM__PROJ_MEMBER)
#undef OM__PROJ_MEMBER
};
const struct om__proj_api *om__proj_api(void);
/* The library loaded (OM_PROJ_SONAME from the build); a test sets another
 * before the first PROJ call to see the failure. */
extern const char *om__proj_soname;

#define geod_geninverse (om__proj_api()->geod_geninverse)
#define geod_init (om__proj_api()->geod_init)
#define geod_polygon_addpoint (om__proj_api()->geod_polygon_addpoint)
#define geod_polygon_compute (om__proj_api()->geod_polygon_compute)
#define geod_polygon_init (om__proj_api()->geod_polygon_init)
#define proj_as_wkt (om__proj_api()->proj_as_wkt)
#define proj_clone (om__proj_api()->proj_clone)
#define proj_context_create (om__proj_api()->proj_context_create)
#define proj_context_destroy (om__proj_api()->proj_context_destroy)
#define proj_context_errno (om__proj_api()->proj_context_errno)
#define proj_context_errno_string (om__proj_api()->proj_context_errno_string)
#define proj_context_set_enable_network                                        \
    (om__proj_api()->proj_context_set_enable_network)
#define proj_coordoperation_get_method_info                                    \
    (om__proj_api()->proj_coordoperation_get_method_info)
#define proj_coordoperation_get_param                                          \
    (om__proj_api()->proj_coordoperation_get_param)
#define proj_coordoperation_get_param_count                                    \
    (om__proj_api()->proj_coordoperation_get_param_count)
#define proj_create (om__proj_api()->proj_create)
#define proj_create_crs_to_crs_from_pj                                         \
    (om__proj_api()->proj_create_crs_to_crs_from_pj)
#define proj_crs_get_coordinate_system                                         \
    (om__proj_api()->proj_crs_get_coordinate_system)
#define proj_crs_get_coordoperation                                            \
    (om__proj_api()->proj_crs_get_coordoperation)
#define proj_crs_get_geodetic_crs (om__proj_api()->proj_crs_get_geodetic_crs)
#define proj_crs_get_sub_crs (om__proj_api()->proj_crs_get_sub_crs)
#define proj_cs_get_axis_info (om__proj_api()->proj_cs_get_axis_info)
#define proj_destroy (om__proj_api()->proj_destroy)
#define proj_ellipsoid_get_parameters                                          \
    (om__proj_api()->proj_ellipsoid_get_parameters)
#define proj_errno (om__proj_api()->proj_errno)
#define proj_errno_reset (om__proj_api()->proj_errno_reset)
#define proj_get_ellipsoid (om__proj_api()->proj_get_ellipsoid)
#define proj_get_id_auth_name (om__proj_api()->proj_get_id_auth_name)
#define proj_get_id_code (om__proj_api()->proj_get_id_code)
#define proj_get_name (om__proj_api()->proj_get_name)
#define proj_get_source_crs (om__proj_api()->proj_get_source_crs)
#define proj_get_type (om__proj_api()->proj_get_type)
#define proj_identify (om__proj_api()->proj_identify)
#define proj_int_list_destroy (om__proj_api()->proj_int_list_destroy)
#define proj_is_crs (om__proj_api()->proj_is_crs)
#define proj_is_equivalent_to_with_ctx                                         \
    (om__proj_api()->proj_is_equivalent_to_with_ctx)
#define proj_list_destroy (om__proj_api()->proj_list_destroy)
#define proj_list_get (om__proj_api()->proj_list_get)
#define proj_list_get_count (om__proj_api()->proj_list_get_count)
#define proj_log_func (om__proj_api()->proj_log_func)
#define proj_log_level (om__proj_api()->proj_log_level)
#define proj_normalize_for_visualization                                       \
    (om__proj_api()->proj_normalize_for_visualization)
#define proj_trans_generic (om__proj_api()->proj_trans_generic)

/*
 * The record behind struct om_crs. It holds no PROJ object: PROJ objects
 * belong to one PJ_CONTEXT and so to one thread, while an om_crs is shared
 * read-only across threads. Every user (transform, area context) recreates
 * the CRS from `def` in its own context.
 */
struct om_crs {
    char *def;   /* what proj_create() gets: "EPSG:4530" or WKT2_2019 */
    char *name;  /* proj_get_name */
    char *wkt;   /* WKT2_2019 */
    char id[24]; /* "EPSG:4530" or "" */
    int epsg;
    bool is_geographic;
    bool has_tm;
    struct om_crs_tm tm;
    double ell_a, ell_f; /* ellipsoid of the geodetic base CRS */
};

/* A PROJ context plus the last message PROJ logged in it. Its address must
 * not change between om__pj_init and om__pj_deinit (PROJ keeps it). */
struct om__pj {
    PJ_CONTEXT *ctx;
    char last[256];
};

/* Create the context (logging captured, network off), loading PROJ on the
 * first call: OM_ECRS naming the library if it cannot be loaded, OM_ENOMEM
 * if the context cannot be made. */
enum om_status om__pj_init(struct om__pj *p, struct om_error *err);
void om__pj_deinit(struct om__pj *p);
/* Why the last PROJ call failed: the last logged message, else the text of
 * the context's errno, else "unknown PROJ error". Clears the message. */
const char *om__pj_why(struct om__pj *p, char *buf, size_t size);
/* proj_create(crs->def) in this context; NULL on failure. */
PJ *om__pj_crs(struct om__pj *p, const struct om_crs *crs);
/* The horizontal, unbound CRS of `crs` in this context (a new object: the
 * source of a BoundCRS, else a clone); NULL on failure. */
PJ *om__pj_base(struct om__pj *p, PJ *crs);

#endif
