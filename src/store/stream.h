/*
 * stream.h — a streamed import: a GeoPackage's rows read in chunks on a
 * thread of their own while the project writes the chunks already read,
 * and a check works on those already written. The layer is never whole in
 * memory: a few chunk layers go round, filled again and again.
 */
#ifndef ONEMAP_STORE_STREAM_H
#define ONEMAP_STORE_STREAM_H

#include "onemap/layer.h"
#include "onemap/status.h"
#include "onemap/store.h"

#include <stdint.h>

/*
 * Reading side. om__gpkg_stream_open opens the features table `table` of
 * the GeoPackage `path` (NULL: its only one; the errors are those of
 * om_project_read_gpkg_file), for its schema; om__gpkg_stream_start starts
 * reading its rows in fid order, on a thread, into chunk layers named
 * `name` with every attribute column. A chunk is finished
 * (OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX) and holds rows of
 * consecutive, increasing fids.
 */
struct om__gpkg_stream;

/* The most chunks out at once (read and not yet given back). */
enum { OM__GPKG_STREAM_MAX_CHUNKS = 64 };

/* For the tests: rows in a chunk (at most; fewer when the chunk's points
 * reach their own bound first), and whether om_import_file streams at all
 * (0: it reads the whole layer first, as for the sources it cannot
 * stream). The project written is the same either way. */
extern size_t om__gpkg_stream_chunk_rows;
extern int om__import_stream;
/* Imports streamed so far (atomic), for the tests to see the path taken. */
extern unsigned long om__imports_streamed;

enum om_status om__gpkg_stream_open(const char *path, const char *table,
                                    const char *name,
                                    struct om__gpkg_stream **out,
                                    struct om_error *err);

enum om_status om__gpkg_stream_start(struct om__gpkg_stream *s,
                                     struct om_error *err);

/* The table's fields and CRS (om_layer_crs: NULL when undefined), in a
 * layer without features, valid until om__gpkg_stream_close. */
const struct om_layer *om__gpkg_stream_schema(const struct om__gpkg_stream *s);

/* The table's row count as the GeoPackage records it (for progress only:
 * it may be stale). */
uint64_t om__gpkg_stream_total(const struct om__gpkg_stream *s);

/*
 * The next chunk, waiting for it; *chunk NULL after the last. An error of
 * the reading (a bad geometry blob names the file and the fid) comes once
 * the chunks read before it are taken. The chunk stays the caller's until
 * given back with om__gpkg_stream_release (from any thread).
 */
enum om_status om__gpkg_stream_next(struct om__gpkg_stream *s,
                                    struct om_layer **chunk,
                                    struct om_error *err);
void om__gpkg_stream_release(struct om__gpkg_stream *s, struct om_layer *chunk);

/* Stop the reading (if still going) and free everything, every chunk
 * included: nothing may use one any more. NULL: a no-op. */
void om__gpkg_stream_close(struct om__gpkg_stream *s);

/*
 * Writing side: om_project_import for a layer that comes in chunks. The
 * chunks (finished, with the fields of `schema`, in the project CRS) come
 * from next() in increasing fid order until it gives NULL; each one, once
 * its rows are written, goes to written(): the store is done with it. The
 * store never reads the chunk's flags, which a check may be marking while
 * the rows are written. The
 * catalogue's counts of invalid and repaired features come from the
 * issues (meta's or rows_written's) of those kinds; the empty features are
 * counted as they are written. *nfeatures: the rows written.
 */
struct om__import_source {
    const struct om_layer *schema;
    uint64_t total; /* expected rows, for progress */
    enum om_status (*next)(void *ctx, struct om_layer **chunk,
                           struct om_error *err);
    void (*written)(void *ctx, struct om_layer *chunk);
    void *ctx;
};
enum om_status om__project_import_stream(struct om_project *p,
                                         const struct om__import_source *src,
                                         const struct om_import_meta *meta,
                                         int *version, uint64_t *nfeatures,
                                         const struct om_progress *progress,
                                         struct om_error *err);

#endif
