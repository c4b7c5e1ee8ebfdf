/*
 * onemap/limits.h — every explicit limit of onemap's parsers and buffers.
 *
 * Exceeding one gives OM_ELIMIT with a message naming the limit. The values
 * are generous for real planning data (a province has ~10^7 parcels and
 * single control-line polygons up to ~10^6 vertices) and exist so that a
 * corrupt or hostile file cannot make onemap allocate without bound.
 */
#ifndef ONEMAP_LIMITS_H
#define ONEMAP_LIMITS_H

/* Vertices in one feature. */
#define OM_LIMIT_FEATURE_POINTS 50000000u
/* Rings in one feature (outer + holes over all parts). */
#define OM_LIMIT_FEATURE_RINGS 10000000u
/* Features in one layer. */
#define OM_LIMIT_LAYER_FEATURES 200000000u
/* Attribute fields in one layer. */
#define OM_LIMIT_FIELDS 1000u
/* Bytes of one text attribute value. */
#define OM_LIMIT_TEXT_BYTES (1u << 20)
/* Bytes of one geometry blob (WKB / GeoPackage). */
#define OM_LIMIT_BLOB_BYTES (1u << 30)
/* Length of one line in a text input (部标 TXT, CSV, YAML). */
#define OM_LIMIT_LINE_BYTES (1u << 20)
/* Default cap of a bounded buffer (om__buf with limit 0). */
#define OM_LIMIT_BUF_BYTES ((size_t)1 << 32)
/* Length of a layer code (e.g. DLTB, YJJBNTBHTB). */
#define OM_LIMIT_CODE_BYTES 63u
/* Length of a field name. */
#define OM_LIMIT_NAME_BYTES 255u
/* Depth of nested geometry collections in WKB. */
#define OM_LIMIT_WKB_DEPTH 8u

#endif
