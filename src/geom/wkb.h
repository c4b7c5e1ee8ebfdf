/*
 * wkb.h — internal codecs between onemap's flat layer and binary geometry:
 * ISO WKB (little-endian MultiPolygon out; Polygon, MultiPolygon,
 * MultiSurface and GeometryCollections of them in, either byte order, with
 * Z/M ordinates ignored) and the GeoPackage geometry blob (header "GP",
 * version 0, flags, srs_id, optional envelope, then WKB).
 *
 * Decoding is strict about bounds: every count is checked against the bytes
 * that remain before anything is allocated, blobs are capped by
 * OM_LIMIT_BLOB_BYTES and nesting by OM_LIMIT_WKB_DEPTH. Errors name the
 * source (file or layer) and the feature id.
 */
#ifndef ONEMAP_GEOM_WKB_H
#define ONEMAP_GEOM_WKB_H

#include "core/core.h"
#include "onemap/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reusable output buffer for the encoders. */
struct om__bytes {
    uint8_t *data;
    size_t len, cap;
};
void om__bytes_deinit(struct om__bytes *b);

/*
 * Encode feature `f` of a layer view as a little-endian ISO WKB
 * MultiPolygon (an empty feature gives MULTIPOLYGON EMPTY) into `out`
 * (replacing its content).
 */
enum om_status om__wkb_encode(const struct om_layer_view *v, size_t f,
                              struct om__bytes *out, struct om_error *err);

/*
 * Encode feature `f` as a GeoPackage geometry blob: little-endian header
 * with an xy envelope (flags 0x03), or for an empty feature the empty flag
 * without envelope (flags 0x11) followed by MULTIPOLYGON EMPTY.
 */
enum om_status om__gpkg_encode(const struct om_layer_view *v, size_t f,
                               int32_t srs_id, struct om__bytes *out,
                               struct om_error *err);

/* Where decoded polygons go. */
struct om__wkb_sink {
    enum om_status (*begin_part)(void *ctx, struct om_error *err);
    /* `xy` holds `n` x,y pairs (aligned, host order); borrowed. */
    enum om_status (*ring)(void *ctx, const double *xy, size_t n,
                           struct om_error *err);
    void *ctx;
};

/* Decoder state kept between features: a scratch coordinate buffer. */
struct om__wkb_reader {
    double *xy;
    size_t cap; /* doubles */
};
void om__wkb_reader_deinit(struct om__wkb_reader *r);

/*
 * Decode WKB `p[0..n)` and send every polygon part to `sink`. Empty
 * polygons are skipped. Non-polygonal geometries give OM_EGEOM; malformed
 * bytes OM_EPARSE; nesting deeper than OM_LIMIT_WKB_DEPTH or a blob above
 * OM_LIMIT_BLOB_BYTES OM_ELIMIT. `source` and `fid` are for messages.
 */
enum om_status om__wkb_decode(struct om__wkb_reader *r, const uint8_t *p,
                              size_t n, const struct om__wkb_sink *sink,
                              const char *source, int64_t fid,
                              struct om_error *err);

/* A parsed GeoPackage blob header. */
struct om__gpkg_header {
    int32_t srs_id;
    bool is_empty;
    bool has_envelope;
    struct om_rect envelope; /* when has_envelope */
    size_t wkb_offset;       /* where the WKB starts */
};

/* Parse and check a GeoPackage blob header (OM_EPARSE / OM_EFORMAT). */
enum om_status om__gpkg_header_parse(const uint8_t *p, size_t n,
                                     struct om__gpkg_header *h,
                                     const char *source, int64_t fid,
                                     struct om_error *err);

/*
 * Decode a GeoPackage blob into the current feature of `layer` (between
 * om_layer_begin_feature and om_layer_end_feature): one om_layer_begin_part
 * per polygon and om_layer_add_ring per ring. A blob with the empty flag
 * or an empty geometry adds nothing. `srs_id` (may be NULL) receives the
 * header's srs_id.
 */
enum om_status om__gpkg_decode_to_layer(struct om__wkb_reader *r,
                                        const uint8_t *p, size_t n,
                                        struct om_layer *layer, int32_t *srs_id,
                                        const char *source, int64_t fid,
                                        struct om_error *err);

/* The same for plain WKB. */
enum om_status om__wkb_decode_to_layer(struct om__wkb_reader *r,
                                       const uint8_t *p, size_t n,
                                       struct om_layer *layer,
                                       const char *source, int64_t fid,
                                       struct om_error *err);

/*
 * Envelope of a GeoPackage blob: from the header when present, else by
 * walking the WKB. *is_empty is set for empty geometries (then *env is the
 * empty rectangle).
 */
enum om_status om__gpkg_envelope(struct om__wkb_reader *r, const uint8_t *p,
                                 size_t n, struct om_rect *env, bool *is_empty,
                                 struct om_error *err);

#endif
