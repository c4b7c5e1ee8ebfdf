/*
 * onemap/import.h — the import pipeline: any GIS source into the project
 * database, in the project CRS, with validity flags or repairs.
 *
 * read (GeoPackage through the fast SQLite reader, anything else through
 * GDAL) → source CRS (declared, or --src-crs; none is an error) → project
 * CRS (fixed at init, or chosen from this import's extent when "auto") →
 * reprojection → validity check of every feature (GEOS), optional repair
 * (MakeValid) → Hilbert order + index → one transaction in the project.
 */
#ifndef ONEMAP_IMPORT_H
#define ONEMAP_IMPORT_H

#include "onemap/status.h"

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct om_project;

struct om_import_options {
    const char *code;       /* required: layer code, e.g. "DLTB"; stored
                               in upper case */
    const char *role;       /* NULL = derived from the code */
    const char *layer;      /* source layer; NULL = the only one */
    const char *encoding;   /* DBF/CSV text encoding, e.g. "GBK" */
    const char *src_crs;    /* CRS of a source that declares none */
    const char *where;      /* attribute filter (GDAL sources) */
    const char *code_field; /* admin unit code attribute (XZQ) */
    const char *name_field; /* admin unit name attribute (XZQ) */
    bool repair;            /* MakeValid invalid geometries */
    int threads;            /* validity check threads; 0 = one per core */
};

struct om_import_report {
    char code[64];          /* the layer code as stored (upper case) */
    int version;            /* the new layer version */
    int64_t nfeatures;      /* features imported */
    int64_t nempty;         /* without geometry */
    int64_t ninvalid;       /* invalid and kept as is (flagged) */
    int64_t nrepaired;      /* repaired with MakeValid */
    double repair_delta_m2; /* planar area change by repairs */
    bool reprojected;
    bool crs_chosen;         /* the project CRS was chosen ("auto") now */
    char src_crs[64];        /* source CRS id ("EPSG:4490") or "custom" */
    char dst_crs[64];        /* project CRS id */
    char first_invalid[160]; /* "fid 12: Self-intersection" or "" */
};

/*
 * Import `path` into the project. On any error nothing is written. The
 * source checksum (SHA-256 of the file, of a shapefile's sibling files, or
 * of every file of a FileGDB folder) is recorded in the catalogue.
 */
enum om_status om_import_file(struct om_project *p, const char *path,
                              const struct om_import_options *opt,
                              struct om_import_report *report,
                              const struct om_progress *progress,
                              struct om_error *err);

#ifdef __cplusplus
}
#endif
#endif
