/*
 * core.h — internal helpers shared by every module: allocation through the
 * allocator hook, error filling, an arena, a bounded byte buffer, growable
 * arrays and progress reporting. Not part of the public API.
 */
#ifndef ONEMAP_CORE_H
#define ONEMAP_CORE_H

#include "onemap/limits.h"
#include "onemap/status.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define OM__PRINTF(a, b) __attribute__((format(printf, a, b)))
#define OM__UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define OM__PRINTF(a, b)
#define OM__UNLIKELY(x) (x)
#endif

/* ---- allocation (through om_set_allocator) ---- */
void *om__malloc(size_t size);
void *om__calloc(size_t n, size_t size);
void *om__realloc(void *ptr, size_t size);
/* Grow-or-fail array realloc: NULL on overflow of n*size or on OOM. */
void *om__reallocarray(void *ptr, size_t n, size_t size);
void om__free(void *ptr);
char *om__strdup(const char *s);
char *om__strndup(const char *s, size_t n);

/* ---- errors ---- */
/*
 * Fill `err` (may be NULL) and return `status`, so callers can write
 * `return om__error(err, OM_EIO, path, 0, -1, "cannot open: %s", why);`.
 * `source` may be NULL; `line` 0 and `feature` -1 mean "none".
 */
enum om_status om__error(struct om_error *err, enum om_status status,
                         const char *source, long line, int64_t feature,
                         const char *fmt, ...) OM__PRINTF(6, 7);
enum om_status om__errorv(struct om_error *err, enum om_status status,
                          const char *source, long line, int64_t feature,
                          const char *fmt, va_list ap);
/* Shorthand for out-of-memory. */
enum om_status om__enomem(struct om_error *err, const char *source);
/* Prefix the message of an already-filled error with "what: ". */
void om__error_prefix(struct om_error *err, const char *fmt, ...)
    OM__PRINTF(2, 3);

/* ---- arena: many small allocations freed at once ---- */
struct om__arena {
    struct om__arena_block *head;
    size_t used;  /* bytes used in head */
    size_t total; /* bytes in all blocks */
};
void om__arena_init(struct om__arena *a);
void om__arena_deinit(struct om__arena *a);
/* 16-byte aligned; NULL on OOM. */
void *om__arena_alloc(struct om__arena *a, size_t size);
char *om__arena_strdup(struct om__arena *a, const char *s);

/* ---- bounded byte buffer ---- */
struct om__buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = OM_LIMIT_BUF_BYTES */
};
void om__buf_init(struct om__buf *b, size_t limit);
void om__buf_deinit(struct om__buf *b);
/* These return OM_ENOMEM or OM_ELIMIT (without filling an error). */
enum om_status om__buf_append(struct om__buf *b, const void *p, size_t n);
enum om_status om__buf_puts(struct om__buf *b, const char *s);
enum om_status om__buf_printf(struct om__buf *b, const char *fmt, ...)
    OM__PRINTF(2, 3);
void om__buf_reset(struct om__buf *b);
/* Hand the data to the caller (free with om__free); the buffer is reset. */
char *om__buf_take(struct om__buf *b);

/* JSON values appended to a buffer (results written as JSON by several
 * modules): a string escaped ("\"", "\\", control characters as \n \t
 * or \u00XX; NULL gives null); a number with `dec` decimals, '.' always,
 * null when not finite, "-0.0" written as "0.0". */
enum om_status om__json_str(struct om__buf *b, const char *s);
enum om_status om__json_num(struct om__buf *b, double x, int dec);

/* ---- growable arrays ---- */
/*
 * Ensure capacity for `need` elements of `elem` bytes in *pp (capacity in
 * *cap). Doubles. Returns false on overflow or OOM (then *pp is unchanged).
 */
bool om__grow(void **pp, size_t *cap, size_t need, size_t elem);
#define OM__GROW(arr, cap, need)                                               \
    om__grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---- progress ---- */
/*
 * Report progress; returns true if the caller asked to cancel. Rate-limited
 * so it is cheap to call per feature.
 */
bool om__progress(const struct om_progress *p, const char *phase, uint64_t done,
                  uint64_t total);
/* Report unconditionally (the caller rate-limits); returns cancel. */
bool om__progress_force(const struct om_progress *p, const char *phase,
                        uint64_t done, uint64_t total);
/* The cancel flag is read atomically: it is raised from other threads. */
static inline bool om__canceled(const struct om_progress *p)
{
    return p && p->cancel && __atomic_load_n(p->cancel, __ATOMIC_RELAXED);
}

/* ---- libraries loaded when first needed ---- */
/*
 * dlopen `soname` and fill `table`, an array of n function pointers, with
 * the functions `names` in order. False with the reason in msg ("cannot
 * load <what> (<soname>): ..." or "<what> (<soname>) has no function F")
 * if the library or one function is missing. The library stays loaded.
 */
bool om__dl_load(const char *what, const char *soname, const char *const *names,
                 size_t n, void *table, char *msg, size_t msgsize);

/* ---- misc ---- */
/* Copy at most size-1 bytes and NUL-terminate (size > 0). */
void om__strlcpy(char *dst, const char *src, size_t size);
/* Case-insensitive ASCII compare. */
int om__strcasecmp(const char *a, const char *b);
/* SHA-256 of a file (hex, 65 bytes with NUL). */
enum om_status om__sha256_file(const char *path, char hex[65],
                               struct om_error *err);
void om__sha256_hex(const void *data, size_t len, char hex[65]);

/* Streaming SHA-256 */
struct om__sha256 {
    uint32_t h[8];
    uint64_t len;
    uint8_t buf[64];
    size_t nbuf;
};
void om__sha256_init(struct om__sha256 *s);
void om__sha256_update(struct om__sha256 *s, const void *data, size_t n);
void om__sha256_final(struct om__sha256 *s, char hex[65]);
/* For tests only: while `on`, use the portable code even where the CPU has
 * SHA instructions. Process-wide, not meant to be flipped while other
 * threads hash. Returns true if this CPU has an accelerated path. */
bool om__sha256_force_portable(bool on);

/*
 * SQLite R-tree node cells, as the project store and the GeoPackage writer
 * build their spatial indexes directly: a cell is a big-endian 8-byte id
 * and four big-endian float32 bounds minx, maxx, miny, maxy (24 bytes).
 */
/* Write one cell to p[0..23]. */
void om__rtree_put_cell(uint8_t *p, int64_t id, const float b[4]);
/* The float32 bounds b[4] = {minx, maxx, miny, maxy} that contain the
 * double box (rounded outwards, as SQLite's rtreeValueDown/Up). */
void om__rtree_bounds(float b[4], double minx, double miny, double maxx,
                      double maxy);

#endif
