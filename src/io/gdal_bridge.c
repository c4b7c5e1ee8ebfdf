/*
 * gdal_bridge.c — what the GDAL reader and writer share: driver
 * registration, capturing GDAL diagnostics (thread-local handler stack, so
 * nothing reaches stderr), naming CRSs, and the GDAL version.
 */
#include "io/gdal_bridge.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#ifndef OM_GDAL_SONAME
#define OM_GDAL_SONAME "libgdal.so"
#endif
const char *om__gdal_soname = OM_GDAL_SONAME;

/* The table, filled slot by slot: its members are function pointers only,
 * in the order of OM__GDAL_FUNCS (names by stringizing, which does not
 * expand the macros that send each name to the table). */
static struct om__gdal_api api;
static const char *const api_names[] = {
#define OM__GDAL_NAME(f) #f,
    OM__GDAL_FUNCS(OM__GDAL_NAME)
#undef OM__GDAL_NAME
};
enum { API_N = sizeof api_names / sizeof api_names[0] };
_Static_assert(sizeof api == API_N * sizeof(void (*)(void)),
               "om__gdal_api holds one function pointer per name");
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

static void load_gdal(void)
{
    loaded = om__dl_load("GDAL", om__gdal_soname, api_names, API_N, &api,
                         load_error, sizeof load_error);
}

const struct om__gdal_api *om__gdal_api(void)
{
    pthread_once(&load_once, load_gdal);
    return &api;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_gdal(void)
{
    pthread_once(&load_once, load_gdal);
    if (loaded) {
        GDALAllRegister();
    }
}

enum om_status om__gdal_init(const char *source, struct om_error *err)
{
    pthread_once(&init_once, init_gdal);
    if (!loaded) {
        return om__error(err, OM_EIO, source, 0, -1, "%s", load_error);
    }
    return OM_OK;
}

const char *om_io_gdal_version(void)
{
    if (om__gdal_init(NULL, NULL) != OM_OK) {
        return "unavailable";
    }
    const char *v = GDALVersionInfo("RELEASE_NAME");
    return v ? v : "unknown";
}

static void CPL_STDCALL capture_handler(CPLErr cls, CPLErrorNum no,
                                        const char *msg)
{
    (void)no;
    struct om__gdal_capture *cap = CPLGetErrorHandlerUserData();
    if (!cap || !msg) {
        return;
    }
    if (cls == CE_Failure || cls == CE_Fatal) {
        if (cap->nfailures++ == 0) {
            om__strlcpy(cap->failure, msg, sizeof cap->failure);
        }
    } else if (cls == CE_Warning) {
        if (cap->nwarnings++ == 0) {
            om__strlcpy(cap->warning, msg, sizeof cap->warning);
        }
    }
}

void om__gdal_capture_push(struct om__gdal_capture *cap)
{
    memset(cap, 0, sizeof *cap);
    CPLPushErrorHandlerEx(capture_handler, cap);
    CPLErrorReset();
}

void om__gdal_capture_pop(void)
{
    CPLPopErrorHandler();
}

const char *om__gdal_capture_msg(const struct om__gdal_capture *cap,
                                 const char *fallback)
{
    if (cap->nfailures) {
        return cap->failure;
    }
    if (cap->nwarnings) {
        return cap->warning;
    }
    return fallback;
}

/* "EPSG:<code>" into buf when the root has an EPSG code. */
static bool epsg_name(OGRSpatialReferenceH srs, char *buf, size_t size)
{
    const char *auth = OSRGetAuthorityName(srs, NULL);
    const char *code = OSRGetAuthorityCode(srs, NULL);
    if (!auth || !code || om__strcasecmp(auth, "EPSG") != 0) {
        return false;
    }
    snprintf(buf, size, "EPSG:%s", code);
    return true;
}

enum om_status om__gdal_srs_name(OGRSpatialReferenceH srs, char **out)
{
    char buf[64];
    *out = NULL;
    bool found = epsg_name(srs, buf, sizeof buf);
    if (!found) {
        OGRSpatialReferenceH clone = OSRClone(srs);
        if (clone && OSRAutoIdentifyEPSG(clone) == OGRERR_NONE) {
            found = epsg_name(clone, buf, sizeof buf);
        }
        OSRDestroySpatialReference(clone);
    }
    if (!found) {
        /* An ESRI .prj rarely carries codes: accept one clear best match. */
        int n = 0;
        int *conf = NULL;
        OGRSpatialReferenceH *m = OSRFindMatches(srs, NULL, &n, &conf);
        if (m && n >= 1 && conf[0] >= 90 && (n == 1 || conf[1] < conf[0])) {
            found = epsg_name(m[0], buf, sizeof buf);
        }
        OSRFreeSRSArray(m);
        CPLFree(conf);
    }
    if (found) {
        *out = om__strdup(buf);
        return *out ? OM_OK : OM_ENOMEM;
    }
    char *wkt = NULL;
    const char *wkt_opts[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", NULL};
    if (OSRExportToWktEx(srs, &wkt, wkt_opts) != OGRERR_NONE || !wkt) {
        CPLFree(wkt);
        return OM_ECRS;
    }
    *out = om__strdup(wkt);
    CPLFree(wkt);
    return *out ? OM_OK : OM_ENOMEM;
}

enum om_status om__gdal_srs_from_user(const char *def, const char *source,
                                      OGRSpatialReferenceH *out,
                                      struct om_error *err)
{
    *out = NULL;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    if (!srs) {
        return om__enomem(err, source);
    }
    struct om__gdal_capture cap;
    om__gdal_capture_push(&cap);
    OGRErr e = OSRSetFromUserInput(srs, def);
    om__gdal_capture_pop();
    if (e != OGRERR_NONE) {
        OSRDestroySpatialReference(srs);
        return om__error(err, OM_ECRS, source, 0, -1,
                         "cannot understand the coordinate reference system "
                         "'%.80s': %s",
                         def, om__gdal_capture_msg(&cap, "unknown definition"));
    }
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    *out = srs;
    return OM_OK;
}

void om__gdal_path_ext(const char *path, char *ext, size_t size)
{
    if (size == 0) {
        return;
    }
    ext[0] = '\0';
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') {
        len--; /* "x.gdb/" is "x.gdb" */
    }
    size_t dot = len;
    for (size_t i = len; i > 0; i--) {
        if (path[i - 1] == '/') {
            break;
        }
        if (path[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    size_t j = 0;
    for (size_t i = dot; i < len && j + 1 < size; i++) {
        ext[j++] = (char)tolower((unsigned char)path[i]);
    }
    ext[j] = '\0';
}
