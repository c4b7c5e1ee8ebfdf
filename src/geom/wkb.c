/*
 * wkb.c — ISO WKB and GeoPackage geometry blob codecs for the flat layer
 * (see wkb.h). No GDAL, no GEOS: this is the fast path of the project
 * database and of the GeoPackage reader.
 */
#include "geom/wkb.h"

#include <math.h>
#include <string.h>

enum {
    WKB_POLYGON = 3,
    WKB_MULTIPOLYGON = 6,
    WKB_COLLECTION = 7,
    WKB_MULTISURFACE = 12,
};

static bool host_is_le(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

void om__bytes_deinit(struct om__bytes *b)
{
    om__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void om__wkb_reader_deinit(struct om__wkb_reader *r)
{
    om__free(r->xy);
    r->xy = NULL;
    r->cap = 0;
}

/* ---- encoding ---- */

static void put_u32(uint8_t **p, uint32_t v)
{
    (*p)[0] = (uint8_t)v;
    (*p)[1] = (uint8_t)(v >> 8);
    (*p)[2] = (uint8_t)(v >> 16);
    (*p)[3] = (uint8_t)(v >> 24);
    *p += 4;
}

static void put_f64(uint8_t **p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    for (int i = 0; i < 8; i++) {
        (*p)[i] = (uint8_t)(v >> (8 * i));
    }
    *p += 8;
}

/* Bytes of the WKB of feature f, or 0 when it does not fit the limit. */
static size_t wkb_size(const struct om_layer_view *v, size_t f)
{
    size_t n = 9;
    for (size_t p = v->part_start[f]; p < v->part_start[f + 1]; p++) {
        n += 9;
        for (size_t r = v->ring_start[p]; r < v->ring_start[p + 1]; r++) {
            n += 4 + 16 * (v->point_start[r + 1] - v->point_start[r]);
        }
    }
    return n;
}

static enum om_status reserve(struct om__bytes *out, size_t need, int64_t fid,
                              struct om_error *err)
{
    if (need > OM_LIMIT_BLOB_BYTES) {
        return om__error(err, OM_ELIMIT, NULL, 0, fid,
                         "geometry needs %zu bytes, more than the limit of "
                         "%u bytes per blob",
                         need, OM_LIMIT_BLOB_BYTES);
    }
    if (need > out->cap) {
        size_t ncap = out->cap ? out->cap : 256;
        while (ncap < need) {
            ncap *= 2;
        }
        uint8_t *d = om__realloc(out->data, ncap);
        if (!d) {
            return om__enomem(err, NULL);
        }
        out->data = d;
        out->cap = ncap;
    }
    return OM_OK;
}

static void write_wkb(const struct om_layer_view *v, size_t f, uint8_t *p)
{
    bool le = host_is_le();
    *p++ = 1;
    put_u32(&p, WKB_MULTIPOLYGON);
    put_u32(&p, (uint32_t)(v->part_start[f + 1] - v->part_start[f]));
    for (size_t q = v->part_start[f]; q < v->part_start[f + 1]; q++) {
        *p++ = 1;
        put_u32(&p, WKB_POLYGON);
        put_u32(&p, (uint32_t)(v->ring_start[q + 1] - v->ring_start[q]));
        for (size_t r = v->ring_start[q]; r < v->ring_start[q + 1]; r++) {
            size_t a = v->point_start[r], b = v->point_start[r + 1];
            put_u32(&p, (uint32_t)(b - a));
            if (le) {
                memcpy(p, v->xy + 2 * a, 16 * (b - a));
                p += 16 * (b - a);
            } else {
                for (size_t i = 2 * a; i < 2 * b; i++) {
                    put_f64(&p, v->xy[i]);
                }
            }
        }
    }
}

static enum om_status check_counts(const struct om_layer_view *v, size_t f,
                                   struct om_error *err)
{
    int64_t fid = v->fid ? v->fid[f] : -1;
    size_t np = v->part_start[f + 1] - v->part_start[f];
    if (np > UINT32_MAX) {
        return om__error(err, OM_ELIMIT, NULL, 0, fid,
                         "too many parts for WKB");
    }
    for (size_t q = v->part_start[f]; q < v->part_start[f + 1]; q++) {
        if (v->ring_start[q + 1] - v->ring_start[q] > UINT32_MAX) {
            return om__error(err, OM_ELIMIT, NULL, 0, fid,
                             "too many rings for WKB");
        }
    }
    return OM_OK;
}

enum om_status om__wkb_encode(const struct om_layer_view *v, size_t f,
                              struct om__bytes *out, struct om_error *err)
{
    int64_t fid = v->fid ? v->fid[f] : -1;
    enum om_status st = check_counts(v, f, err);
    if (st != OM_OK) {
        return st;
    }
    size_t n = wkb_size(v, f);
    st = reserve(out, n, fid, err);
    if (st != OM_OK) {
        return st;
    }
    write_wkb(v, f, out->data);
    out->len = n;
    return OM_OK;
}

enum om_status om__gpkg_encode(const struct om_layer_view *v, size_t f,
                               int32_t srs_id, struct om__bytes *out,
                               struct om_error *err)
{
    int64_t fid = v->fid ? v->fid[f] : -1;
    enum om_status st = check_counts(v, f, err);
    if (st != OM_OK) {
        return st;
    }
    bool empty = v->part_start[f + 1] == v->part_start[f];
    struct om_rect b = v->bbox[f];
    /* A geometry whose every ordinate is non-finite has an empty box:
     * write no envelope rather than a lie. */
    bool has_env = !empty && !om_rect_is_empty(b);
    size_t hdr = 8 + (has_env ? 32 : 0);
    size_t n = hdr + wkb_size(v, f);
    st = reserve(out, n, fid, err);
    if (st != OM_OK) {
        return st;
    }
    uint8_t *p = out->data;
    p[0] = 'G';
    p[1] = 'P';
    p[2] = 0;
    p[3] = (uint8_t)(0x01 | (has_env ? 0x02 : 0) | (empty ? 0x10 : 0));
    p += 4;
    put_u32(&p, (uint32_t)srs_id);
    if (has_env) {
        put_f64(&p, b.minx);
        put_f64(&p, b.maxx);
        put_f64(&p, b.miny);
        put_f64(&p, b.maxy);
    }
    write_wkb(v, f, p);
    out->len = n;
    return OM_OK;
}

/* ---- decoding ---- */

struct cursor {
    const uint8_t *p;
    size_t n, pos;
    const char *source;
    int64_t fid;
    struct om_error *err;
    struct om__wkb_reader *r;
    const struct om__wkb_sink *sink;
};

static enum om_status truncated(struct cursor *c, const char *what)
{
    return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                     "geometry blob is truncated: %s needs more than the "
                     "%zu bytes left at offset %zu",
                     what, c->n - c->pos, c->pos);
}

static uint32_t get_u32(const uint8_t *p, bool le)
{
    if (le) {
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
    }
    return (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 |
           (uint32_t)p[0] << 24;
}

static double get_f64(const uint8_t *p, bool le)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[le ? i : 7 - i] << (8 * i);
    }
    double d;
    memcpy(&d, &v, 8);
    return d;
}

static enum om_status read_u32(struct cursor *c, bool le, uint32_t *v,
                               const char *what)
{
    if (c->n - c->pos < 4) {
        return truncated(c, what);
    }
    *v = get_u32(c->p + c->pos, le);
    c->pos += 4;
    return OM_OK;
}

/* Byte order and type of the geometry at the cursor. */
static enum om_status read_head(struct cursor *c, bool *le, uint32_t *type,
                                unsigned *dim)
{
    if (c->n - c->pos < 5) {
        return truncated(c, "a geometry header");
    }
    uint8_t bo = c->p[c->pos];
    if (bo > 1) {
        return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                         "bad WKB byte order %u at offset %zu (want 0 or 1)",
                         bo, c->pos);
    }
    *le = bo == 1;
    uint32_t t = get_u32(c->p + c->pos + 1, *le);
    c->pos += 5;
    unsigned d = 2;
    /* EWKB flags (PostGIS) */
    if (t & 0x80000000u) {
        d++;
    }
    if (t & 0x40000000u) {
        d++;
    }
    if (t & 0x20000000u) {
        uint32_t srid;
        enum om_status st = read_u32(c, *le, &srid, "an EWKB SRID");
        if (st != OM_OK) {
            return st;
        }
    }
    t &= 0x0fffffffu;
    /* ISO: 1000 Z, 2000 M, 3000 ZM */
    if (t >= 1000 && t < 4000) {
        unsigned k = t / 1000;
        d += k == 3 ? 2 : 1;
        t %= 1000;
    }
    if (d > 4) {
        return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                         "WKB geometry type 0x%08x has both EWKB and ISO "
                         "dimension flags",
                         (unsigned)t);
    }
    *type = t;
    *dim = d;
    return OM_OK;
}

static const char *type_name(uint32_t t)
{
    static const char *names[] = {"Geometry",
                                  "Point",
                                  "LineString",
                                  "Polygon",
                                  "MultiPoint",
                                  "MultiLineString",
                                  "MultiPolygon",
                                  "GeometryCollection",
                                  "CircularString",
                                  "CompoundCurve",
                                  "CurvePolygon",
                                  "MultiCurve",
                                  "MultiSurface",
                                  "Curve",
                                  "Surface",
                                  "PolyhedralSurface",
                                  "TIN",
                                  "Triangle"};
    return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static enum om_status read_polygon_body(struct cursor *c, bool le, unsigned dim)
{
    uint32_t nrings;
    enum om_status st = read_u32(c, le, &nrings, "a ring count");
    if (st != OM_OK) {
        return st;
    }
    /* every ring takes at least its 4-byte point count */
    if (nrings > (c->n - c->pos) / 4) {
        return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                         "polygon declares %u rings but only %zu bytes "
                         "remain",
                         (unsigned)nrings, c->n - c->pos);
    }
    if (nrings == 0) {
        return OM_OK; /* POLYGON EMPTY */
    }
    bool began = false, shell_empty = false;
    size_t stride = 8 * (size_t)dim;
    for (uint32_t i = 0; i < nrings; i++) {
        uint32_t npts;
        st = read_u32(c, le, &npts, "a point count");
        if (st != OM_OK) {
            return st;
        }
        if (npts > (c->n - c->pos) / stride) {
            return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                             "ring %u declares %u points but only %zu "
                             "bytes remain",
                             (unsigned)i, (unsigned)npts, c->n - c->pos);
        }
        if (npts > OM_LIMIT_FEATURE_POINTS) {
            return om__error(c->err, OM_ELIMIT, c->source, 0, c->fid,
                             "ring has %u points, more than the limit of %u",
                             (unsigned)npts, OM_LIMIT_FEATURE_POINTS);
        }
        if (npts == 0 || shell_empty) {
            /* an empty shell makes the whole polygon empty; the rest is
             * still walked to stay in step with the bytes */
            shell_empty = shell_empty || i == 0;
            c->pos += stride * npts;
            continue;
        }
        if (2 * (size_t)npts > c->r->cap) {
            size_t ncap = c->r->cap ? c->r->cap : 256;
            while (ncap < 2 * (size_t)npts) {
                ncap *= 2;
            }
            double *xy = om__reallocarray(c->r->xy, ncap, sizeof *xy);
            if (!xy) {
                return om__enomem(c->err, c->source);
            }
            c->r->xy = xy;
            c->r->cap = ncap;
        }
        const uint8_t *src = c->p + c->pos;
        double *xy = c->r->xy;
        if (dim == 2 && le == host_is_le()) {
            memcpy(xy, src, 16 * (size_t)npts);
        } else {
            for (size_t k = 0; k < npts; k++) {
                xy[2 * k] = get_f64(src + k * stride, le);
                xy[2 * k + 1] = get_f64(src + k * stride + 8, le);
            }
        }
        c->pos += stride * npts;
        if (!began) {
            st = c->sink->begin_part(c->sink->ctx, c->err);
            if (st != OM_OK) {
                return st;
            }
            began = true;
        }
        st = c->sink->ring(c->sink->ctx, xy, npts, c->err);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

static enum om_status read_geometry(struct cursor *c, unsigned depth,
                                    uint32_t parent)
{
    if (depth > OM_LIMIT_WKB_DEPTH) {
        return om__error(c->err, OM_ELIMIT, c->source, 0, c->fid,
                         "geometry collections nested deeper than %u",
                         OM_LIMIT_WKB_DEPTH);
    }
    bool le = true;
    uint32_t type = 0;
    unsigned dim = 2;
    enum om_status st = read_head(c, &le, &type, &dim);
    if (st != OM_OK) {
        return st;
    }
    if (parent == WKB_MULTIPOLYGON && type != WKB_POLYGON) {
        return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                         "MultiPolygon member is a %s, not a Polygon",
                         type_name(type));
    }
    if (type == WKB_POLYGON) {
        return read_polygon_body(c, le, dim);
    }
    if (type != WKB_MULTIPOLYGON && type != WKB_COLLECTION &&
        type != WKB_MULTISURFACE) {
        return om__error(c->err, OM_EGEOM, c->source, 0, c->fid,
                         "geometry type %s (%u) is not polygonal",
                         type_name(type), (unsigned)type);
    }
    uint32_t n;
    st = read_u32(c, le, &n, "a member count");
    if (st != OM_OK) {
        return st;
    }
    /* every member takes at least 9 bytes (header + count) */
    if (n > (c->n - c->pos) / 9) {
        return om__error(c->err, OM_EPARSE, c->source, 0, c->fid,
                         "%s declares %u members but only %zu bytes remain",
                         type_name(type), (unsigned)n, c->n - c->pos);
    }
    for (uint32_t i = 0; i < n; i++) {
        st = read_geometry(c, depth + 1, type);
        if (st != OM_OK) {
            return st;
        }
    }
    return OM_OK;
}

enum om_status om__wkb_decode(struct om__wkb_reader *r, const uint8_t *p,
                              size_t n, const struct om__wkb_sink *sink,
                              const char *source, int64_t fid,
                              struct om_error *err)
{
    if (n > OM_LIMIT_BLOB_BYTES) {
        return om__error(err, OM_ELIMIT, source, 0, fid,
                         "geometry blob of %zu bytes is above the limit of "
                         "%u bytes",
                         n, OM_LIMIT_BLOB_BYTES);
    }
    struct cursor c = {p, n, 0, source, fid, err, r, sink};
    return read_geometry(&c, 1, 0);
}

enum om_status om__gpkg_header_parse(const uint8_t *p, size_t n,
                                     struct om__gpkg_header *h,
                                     const char *source, int64_t fid,
                                     struct om_error *err)
{
    memset(h, 0, sizeof *h);
    h->envelope = om_rect_empty();
    if (n > OM_LIMIT_BLOB_BYTES) {
        return om__error(err, OM_ELIMIT, source, 0, fid,
                         "geometry blob of %zu bytes is above the limit of "
                         "%u bytes",
                         n, OM_LIMIT_BLOB_BYTES);
    }
    if (n < 8 || p[0] != 'G' || p[1] != 'P') {
        return om__error(err, OM_EPARSE, source, 0, fid,
                         "not a GeoPackage geometry blob (no \"GP\" magic "
                         "in %zu bytes)",
                         n);
    }
    if (p[2] != 0) {
        return om__error(err, OM_EFORMAT, source, 0, fid,
                         "GeoPackage geometry blob version %u is not "
                         "supported (want 0)",
                         p[2]);
    }
    uint8_t flags = p[3];
    if (flags & 0x20) {
        return om__error(err, OM_EFORMAT, source, 0, fid,
                         "extended GeoPackage geometry blobs are not "
                         "supported");
    }
    bool le = flags & 0x01;
    unsigned env = (flags >> 1) & 0x07;
    static const size_t env_bytes[] = {0, 32, 48, 48, 64};
    if (env > 4) {
        return om__error(err, OM_EPARSE, source, 0, fid,
                         "bad GeoPackage envelope indicator %u", env);
    }
    h->srs_id = (int32_t)get_u32(p + 4, le);
    h->is_empty = flags & 0x10;
    size_t off = 8 + env_bytes[env];
    if (n < off) {
        return om__error(err, OM_EPARSE, source, 0, fid,
                         "GeoPackage geometry blob is truncated: the "
                         "envelope needs %zu bytes, the blob has %zu",
                         off, n);
    }
    if (env) {
        double minx = get_f64(p + 8, le), maxx = get_f64(p + 16, le);
        double miny = get_f64(p + 24, le), maxy = get_f64(p + 32, le);
        /* GDAL writes NaN envelopes for empty geometries */
        if (!isnan(minx) && !isnan(miny) && !isnan(maxx) && !isnan(maxy)) {
            h->has_envelope = true;
            h->envelope = (struct om_rect){minx, miny, maxx, maxy};
        }
    }
    h->wkb_offset = off;
    return OM_OK;
}

static enum om_status layer_part(void *ctx, struct om_error *err)
{
    return om_layer_begin_part(ctx, err);
}

static enum om_status layer_ring(void *ctx, const double *xy, size_t n,
                                 struct om_error *err)
{
    return om_layer_add_ring(ctx, xy, n, err);
}

enum om_status om__wkb_decode_to_layer(struct om__wkb_reader *r,
                                       const uint8_t *p, size_t n,
                                       struct om_layer *layer,
                                       const char *source, int64_t fid,
                                       struct om_error *err)
{
    struct om__wkb_sink sink = {layer_part, layer_ring, layer};
    return om__wkb_decode(r, p, n, &sink, source, fid, err);
}

enum om_status om__gpkg_decode_to_layer(struct om__wkb_reader *r,
                                        const uint8_t *p, size_t n,
                                        struct om_layer *layer, int32_t *srs_id,
                                        const char *source, int64_t fid,
                                        struct om_error *err)
{
    struct om__gpkg_header h;
    enum om_status st = om__gpkg_header_parse(p, n, &h, source, fid, err);
    if (st != OM_OK) {
        return st;
    }
    if (srs_id) {
        *srs_id = h.srs_id;
    }
    if (h.is_empty) {
        return OM_OK;
    }
    return om__wkb_decode_to_layer(r, p + h.wkb_offset, n - h.wkb_offset, layer,
                                   source, fid, err);
}

struct env_ctx {
    struct om_rect r;
    bool any;
};

static enum om_status env_part(void *ctx, struct om_error *err)
{
    (void)ctx;
    (void)err;
    return OM_OK;
}

static enum om_status env_ring(void *ctx, const double *xy, size_t n,
                               struct om_error *err)
{
    (void)err;
    struct env_ctx *e = ctx;
    for (size_t i = 0; i < n; i++) {
        double x = xy[2 * i], y = xy[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) {
            continue;
        }
        e->r = om_rect_union(e->r, (struct om_rect){x, y, x, y});
        e->any = true;
    }
    return OM_OK;
}

enum om_status om__gpkg_envelope(struct om__wkb_reader *r, const uint8_t *p,
                                 size_t n, struct om_rect *env, bool *is_empty,
                                 struct om_error *err)
{
    *env = om_rect_empty();
    *is_empty = true;
    struct om__gpkg_header h;
    enum om_status st = om__gpkg_header_parse(p, n, &h, NULL, -1, err);
    if (st != OM_OK || h.is_empty) {
        return st;
    }
    if (h.has_envelope) {
        *env = h.envelope;
        *is_empty = false;
        return OM_OK;
    }
    struct env_ctx e = {om_rect_empty(), false};
    struct om__wkb_sink sink = {env_part, env_ring, &e};
    st = om__wkb_decode(r, p + h.wkb_offset, n - h.wkb_offset, &sink, NULL, -1,
                        err);
    if (st == OM_OK && e.any) {
        *env = e.r;
        *is_empty = false;
    }
    return st;
}
