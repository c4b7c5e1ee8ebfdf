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
 * GDAL is loaded when first used (dlopen), not when a program starts: its
 * 115 shared libraries made every onemap command start 50 ms later, most
 * of the fixed cost of a county's overlay, which never calls GDAL. Every
 * GDAL function src/io calls goes through the table om__gdal_api() fills
 * once, by the macros below; a function missing from OM__GDAL_FUNCS fails
 * to link (the library is not linked with GDAL). If GDAL cannot be loaded,
 * om__gdal_init fails with a message naming the library.
 */
#define OM__GDAL_FUNCS(X)                                                      \
    X(CPLErrorReset)                                                           \
    X(CPLGetErrorHandlerUserData)                                              \
    X(CPLIsUTF8)                                                               \
    X(CPLPopErrorHandler)                                                      \
    X(CPLPushErrorHandlerEx)                                                   \
    X(CPLRecode)                                                               \
    X(GDALAllRegister)                                                         \
    X(GDALClose)                                                               \
    X(GDALCreate)                                                              \
    X(GDALDatasetCommitTransaction)                                            \
    X(GDALDatasetCreateLayer)                                                  \
    X(GDALDatasetDeleteLayer)                                                  \
    X(GDALDatasetExecuteSQL)                                                   \
    X(GDALDatasetGetLayer)                                                     \
    X(GDALDatasetGetLayerByName)                                               \
    X(GDALDatasetGetLayerCount)                                                \
    X(GDALDatasetReleaseResultSet)                                             \
    X(GDALDatasetRollbackTransaction)                                          \
    X(GDALDatasetStartTransaction)                                             \
    X(GDALDatasetTestCapability)                                               \
    X(GDALDeleteDataset)                                                       \
    X(GDALGetDatasetDriver)                                                    \
    X(GDALGetDriverByName)                                                     \
    X(GDALGetDriverShortName)                                                  \
    X(GDALGetMetadataItem)                                                     \
    X(GDALOpenEx)                                                              \
    X(GDALVersionInfo)                                                         \
    X(OGRGeometryTypeToName)                                                   \
    X(OGR_FD_GetFieldCount)                                                    \
    X(OGR_FD_GetFieldDefn)                                                     \
    X(OGR_F_Create)                                                            \
    X(OGR_F_Destroy)                                                           \
    X(OGR_F_GetFID)                                                            \
    X(OGR_F_GetFieldAsDateTimeEx)                                              \
    X(OGR_F_GetFieldAsDouble)                                                  \
    X(OGR_F_GetFieldAsInteger64)                                               \
    X(OGR_F_GetFieldAsString)                                                  \
    X(OGR_F_GetGeometryRef)                                                    \
    X(OGR_F_IsFieldSetAndNotNull)                                              \
    X(OGR_F_SetFID)                                                            \
    X(OGR_F_SetFieldDouble)                                                    \
    X(OGR_F_SetFieldInteger64)                                                 \
    X(OGR_F_SetFieldNull)                                                      \
    X(OGR_F_SetFieldString)                                                    \
    X(OGR_F_SetGeometryDirectly)                                               \
    X(OGR_Fld_Create)                                                          \
    X(OGR_Fld_Destroy)                                                         \
    X(OGR_Fld_GetNameRef)                                                      \
    X(OGR_Fld_GetType)                                                         \
    X(OGR_Fld_SetWidth)                                                        \
    X(OGR_G_AddGeometryDirectly)                                               \
    X(OGR_G_CreateFromWkt)                                                     \
    X(OGR_G_CreateGeometry)                                                    \
    X(OGR_G_DestroyGeometry)                                                   \
    X(OGR_G_GetGeometryCount)                                                  \
    X(OGR_G_GetGeometryRef)                                                    \
    X(OGR_G_GetGeometryType)                                                   \
    X(OGR_G_GetLinearGeometry)                                                 \
    X(OGR_G_GetPointCount)                                                     \
    X(OGR_G_GetPoints)                                                         \
    X(OGR_G_IsEmpty)                                                           \
    X(OGR_G_SetPoints)                                                         \
    X(OGR_GT_Flatten)                                                          \
    X(OGR_L_CreateFeature)                                                     \
    X(OGR_L_CreateField)                                                       \
    X(OGR_L_GetFIDColumn)                                                      \
    X(OGR_L_GetFeatureCount)                                                   \
    X(OGR_L_GetGeomType)                                                       \
    X(OGR_L_GetGeometryColumn)                                                 \
    X(OGR_L_GetLayerDefn)                                                      \
    X(OGR_L_GetName)                                                           \
    X(OGR_L_GetNextFeature)                                                    \
    X(OGR_L_GetSpatialRef)                                                     \
    X(OGR_L_ResetReading)                                                      \
    X(OGR_L_SetAttributeFilter)                                                \
    X(OSRAutoIdentifyEPSG)                                                     \
    X(OSRClone)                                                                \
    X(OSRDestroySpatialReference)                                              \
    X(OSRExportToWktEx)                                                        \
    X(OSRFindMatches)                                                          \
    X(OSRFreeSRSArray)                                                         \
    X(OSRGetAuthorityCode)                                                     \
    X(OSRGetAuthorityName)                                                     \
    X(OSRNewSpatialReference)                                                  \
    X(OSRSetAxisMappingStrategy)                                               \
    X(OSRSetFromUserInput)                                                     \
    X(VSIFCloseL)                                                              \
    X(VSIFOpenL)                                                               \
    X(VSIFReadL)                                                               \
    X(VSIFree)                                                                 \
    X(VSIRmdirRecursive)                                                       \
    X(VSIStatL)                                                                \
    X(VSIUnlink)

struct om__gdal_api {
#define OM__GDAL_MEMBER(f) __typeof__(f) *f;
    OM__GDAL_FUNCS(OM__GDAL_MEMBER)
#undef OM__GDAL_MEMBER
};
const struct om__gdal_api *om__gdal_api(void);

#define CPLErrorReset (om__gdal_api()->CPLErrorReset)
#define CPLGetErrorHandlerUserData (om__gdal_api()->CPLGetErrorHandlerUserData)
#define CPLIsUTF8 (om__gdal_api()->CPLIsUTF8)
#define CPLPopErrorHandler (om__gdal_api()->CPLPopErrorHandler)
#define CPLPushErrorHandlerEx (om__gdal_api()->CPLPushErrorHandlerEx)
#define CPLRecode (om__gdal_api()->CPLRecode)
#define GDALAllRegister (om__gdal_api()->GDALAllRegister)
#define GDALClose (om__gdal_api()->GDALClose)
#define GDALCreate (om__gdal_api()->GDALCreate)
#define GDALDatasetCommitTransaction                                           \
    (om__gdal_api()->GDALDatasetCommitTransaction)
#define GDALDatasetCreateLayer (om__gdal_api()->GDALDatasetCreateLayer)
#define GDALDatasetDeleteLayer (om__gdal_api()->GDALDatasetDeleteLayer)
#define GDALDatasetExecuteSQL (om__gdal_api()->GDALDatasetExecuteSQL)
#define GDALDatasetGetLayer (om__gdal_api()->GDALDatasetGetLayer)
#define GDALDatasetGetLayerByName (om__gdal_api()->GDALDatasetGetLayerByName)
#define GDALDatasetGetLayerCount (om__gdal_api()->GDALDatasetGetLayerCount)
#define GDALDatasetReleaseResultSet                                            \
    (om__gdal_api()->GDALDatasetReleaseResultSet)
#define GDALDatasetRollbackTransaction                                         \
    (om__gdal_api()->GDALDatasetRollbackTransaction)
#define GDALDatasetStartTransaction                                            \
    (om__gdal_api()->GDALDatasetStartTransaction)
#define GDALDatasetTestCapability (om__gdal_api()->GDALDatasetTestCapability)
#define GDALDeleteDataset (om__gdal_api()->GDALDeleteDataset)
#define GDALGetDatasetDriver (om__gdal_api()->GDALGetDatasetDriver)
#define GDALGetDriverByName (om__gdal_api()->GDALGetDriverByName)
#define GDALGetDriverShortName (om__gdal_api()->GDALGetDriverShortName)
#define GDALGetMetadataItem (om__gdal_api()->GDALGetMetadataItem)
#define GDALOpenEx (om__gdal_api()->GDALOpenEx)
#define GDALVersionInfo (om__gdal_api()->GDALVersionInfo)
#define OGRGeometryTypeToName (om__gdal_api()->OGRGeometryTypeToName)
#define OGR_FD_GetFieldCount (om__gdal_api()->OGR_FD_GetFieldCount)
#define OGR_FD_GetFieldDefn (om__gdal_api()->OGR_FD_GetFieldDefn)
#define OGR_F_Create (om__gdal_api()->OGR_F_Create)
#define OGR_F_Destroy (om__gdal_api()->OGR_F_Destroy)
#define OGR_F_GetFID (om__gdal_api()->OGR_F_GetFID)
#define OGR_F_GetFieldAsDateTimeEx (om__gdal_api()->OGR_F_GetFieldAsDateTimeEx)
#define OGR_F_GetFieldAsDouble (om__gdal_api()->OGR_F_GetFieldAsDouble)
#define OGR_F_GetFieldAsInteger64 (om__gdal_api()->OGR_F_GetFieldAsInteger64)
#define OGR_F_GetFieldAsString (om__gdal_api()->OGR_F_GetFieldAsString)
#define OGR_F_GetGeometryRef (om__gdal_api()->OGR_F_GetGeometryRef)
#define OGR_F_IsFieldSetAndNotNull (om__gdal_api()->OGR_F_IsFieldSetAndNotNull)
#define OGR_F_SetFID (om__gdal_api()->OGR_F_SetFID)
#define OGR_F_SetFieldDouble (om__gdal_api()->OGR_F_SetFieldDouble)
#define OGR_F_SetFieldInteger64 (om__gdal_api()->OGR_F_SetFieldInteger64)
#define OGR_F_SetFieldNull (om__gdal_api()->OGR_F_SetFieldNull)
#define OGR_F_SetFieldString (om__gdal_api()->OGR_F_SetFieldString)
#define OGR_F_SetGeometryDirectly (om__gdal_api()->OGR_F_SetGeometryDirectly)
#define OGR_Fld_Create (om__gdal_api()->OGR_Fld_Create)
#define OGR_Fld_Destroy (om__gdal_api()->OGR_Fld_Destroy)
#define OGR_Fld_GetNameRef (om__gdal_api()->OGR_Fld_GetNameRef)
#define OGR_Fld_GetType (om__gdal_api()->OGR_Fld_GetType)
#define OGR_Fld_SetWidth (om__gdal_api()->OGR_Fld_SetWidth)
#define OGR_G_AddGeometryDirectly (om__gdal_api()->OGR_G_AddGeometryDirectly)
#define OGR_G_CreateFromWkt (om__gdal_api()->OGR_G_CreateFromWkt)
#define OGR_G_CreateGeometry (om__gdal_api()->OGR_G_CreateGeometry)
#define OGR_G_DestroyGeometry (om__gdal_api()->OGR_G_DestroyGeometry)
#define OGR_G_GetGeometryCount (om__gdal_api()->OGR_G_GetGeometryCount)
#define OGR_G_GetGeometryRef (om__gdal_api()->OGR_G_GetGeometryRef)
#define OGR_G_GetGeometryType (om__gdal_api()->OGR_G_GetGeometryType)
#define OGR_G_GetLinearGeometry (om__gdal_api()->OGR_G_GetLinearGeometry)
#define OGR_G_GetPointCount (om__gdal_api()->OGR_G_GetPointCount)
#define OGR_G_GetPoints (om__gdal_api()->OGR_G_GetPoints)
#define OGR_G_IsEmpty (om__gdal_api()->OGR_G_IsEmpty)
#define OGR_G_SetPoints (om__gdal_api()->OGR_G_SetPoints)
#define OGR_GT_Flatten (om__gdal_api()->OGR_GT_Flatten)
#define OGR_L_CreateFeature (om__gdal_api()->OGR_L_CreateFeature)
#define OGR_L_CreateField (om__gdal_api()->OGR_L_CreateField)
#define OGR_L_GetFIDColumn (om__gdal_api()->OGR_L_GetFIDColumn)
#define OGR_L_GetFeatureCount (om__gdal_api()->OGR_L_GetFeatureCount)
#define OGR_L_GetGeomType (om__gdal_api()->OGR_L_GetGeomType)
#define OGR_L_GetGeometryColumn (om__gdal_api()->OGR_L_GetGeometryColumn)
#define OGR_L_GetLayerDefn (om__gdal_api()->OGR_L_GetLayerDefn)
#define OGR_L_GetName (om__gdal_api()->OGR_L_GetName)
#define OGR_L_GetNextFeature (om__gdal_api()->OGR_L_GetNextFeature)
#define OGR_L_GetSpatialRef (om__gdal_api()->OGR_L_GetSpatialRef)
#define OGR_L_ResetReading (om__gdal_api()->OGR_L_ResetReading)
#define OGR_L_SetAttributeFilter (om__gdal_api()->OGR_L_SetAttributeFilter)
#define OSRAutoIdentifyEPSG (om__gdal_api()->OSRAutoIdentifyEPSG)
#define OSRClone (om__gdal_api()->OSRClone)
#define OSRDestroySpatialReference (om__gdal_api()->OSRDestroySpatialReference)
#define OSRExportToWktEx (om__gdal_api()->OSRExportToWktEx)
#define OSRFindMatches (om__gdal_api()->OSRFindMatches)
#define OSRFreeSRSArray (om__gdal_api()->OSRFreeSRSArray)
#define OSRGetAuthorityCode (om__gdal_api()->OSRGetAuthorityCode)
#define OSRGetAuthorityName (om__gdal_api()->OSRGetAuthorityName)
#define OSRNewSpatialReference (om__gdal_api()->OSRNewSpatialReference)
#define OSRSetAxisMappingStrategy (om__gdal_api()->OSRSetAxisMappingStrategy)
#define OSRSetFromUserInput (om__gdal_api()->OSRSetFromUserInput)
#define VSIFCloseL (om__gdal_api()->VSIFCloseL)
#define VSIFOpenL (om__gdal_api()->VSIFOpenL)
#define VSIFReadL (om__gdal_api()->VSIFReadL)
#define VSIFree (om__gdal_api()->VSIFree)
#define VSIRmdirRecursive (om__gdal_api()->VSIRmdirRecursive)
#define VSIStatL (om__gdal_api()->VSIStatL)
#define VSIUnlink (om__gdal_api()->VSIUnlink)

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

/*
 * Load GDAL and GDALAllRegister, once per process (thread-safe). Every
 * entry point that calls GDAL calls this first: OM_EIO (source: the file
 * at hand) when GDAL cannot be loaded, then the GDAL functions must not
 * be called (their table is empty).
 */
enum om_status om__gdal_init(const char *source, struct om_error *err);
/* The library loaded (OM_GDAL_SONAME from the build); a test sets another
 * before the first GDAL call to see the failure. */
extern const char *om__gdal_soname;

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
