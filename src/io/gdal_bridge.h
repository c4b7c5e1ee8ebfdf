/*
 * gdal_bridge.h — internal helpers shared by the GDAL reader and writer:
 * one-time driver registration, capture of GDAL diagnostics into an
 * om_error, and CRS naming. Only src/io/ includes this (and GDAL).
 */
#ifndef ONEMAP_IO_GDAL_BRIDGE_H
#define ONEMAP_IO_GDAL_BRIDGE_H

#include "core/core.h"
#include "onemap/io.h"

/*
 * GDAL's headers are not -Wpedantic clean (enumerators above INT_MAX in
 * ogr_core.h) and pkg-config gives them with -I, not -isystem.
 */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * GDAL diagnostics raised while a capture is pushed on this thread. The
 * first failure is usually the cause; later ones are consequences.
 */
struct om__gdal_capture {
    int nfailures;
    int nwarnings;
    char failure[384]; /* first CE_Failure / CE_Fatal message */
    char warning[384]; /* first CE_Warning message */
};

/* GDALAllRegister once per process (thread-safe). */
void om__gdal_init(void);

/* Push / pop a thread-local handler that records into `cap`. */
void om__gdal_capture_push(struct om__gdal_capture *cap);
void om__gdal_capture_pop(void);
/* The best message captured so far, or `fallback` when none. */
const char *om__gdal_capture_msg(const struct om__gdal_capture *cap,
                                 const char *fallback);

/*
 * Name a CRS the way onemap stores it: "EPSG:<n>" when the SRS or its
 * single best match (confidence >= 90) has an EPSG code, else WKT2. *out
 * is a new string (om__free). Returns OM_ENOMEM, or OM_ECRS when the SRS
 * cannot be exported; fills no error.
 */
enum om_status om__gdal_srs_name(OGRSpatialReferenceH srs, char **out);

/*
 * Make an SRS (*out, OSRDestroySpatialReference) from any user definition
 * ("EPSG:4530", WKT, PROJ string), in traditional GIS axis order.
 * OM_ECRS naming the definition when GDAL does not understand it.
 */
enum om_status om__gdal_srs_from_user(const char *def, const char *source,
                                      OGRSpatialReferenceH *out,
                                      struct om_error *err);

/* Lower-case extension of `path` including the dot ("" when none). */
void om__gdal_path_ext(const char *path, char *ext, size_t size);

#endif
