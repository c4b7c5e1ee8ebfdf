/*
 * crs_int.h — internals shared by the files of src/crs: the om_crs record
 * and a PROJ context wrapper that captures PROJ's log messages (PROJ would
 * print them to stderr; the library never prints) for error reports.
 * Only src/crs includes <proj.h>.
 */
#ifndef ONEMAP_CRS_INT_H
#define ONEMAP_CRS_INT_H

#include "onemap/crs.h"

#include <proj.h>

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

/* Create the context (logging captured, network off). False on OOM. */
bool om__pj_init(struct om__pj *p);
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
