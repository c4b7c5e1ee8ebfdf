/*
 * onemap/status.h — result codes, the error record, progress and cancel.
 *
 * Every fallible onemap function returns an `enum om_status` and takes a
 * `struct om_error *err` as its last argument (which may be NULL when the
 * caller does not want the message). On failure the function fills `err`
 * with the status, the input it was reading (file or layer), the line or
 * feature, and a message; its outputs are NULL and nothing leaks.
 *
 * Thread safety: an om_error belongs to one caller; nothing here is global.
 */
#ifndef ONEMAP_STATUS_H
#define ONEMAP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum om_status {
    OM_OK = 0,
    OM_ENOMEM,    /* out of memory */
    OM_EINVAL,    /* bad argument or option */
    OM_EIO,       /* file cannot be opened, read or written */
    OM_EPARSE,    /* malformed input text or binary */
    OM_EGEOM,     /* invalid or unusable geometry */
    OM_ECRS,      /* missing, unknown or unusable coordinate reference */
    OM_ESTORE,    /* project database error */
    OM_ELIMIT,    /* an explicit limit (onemap/limits.h) was exceeded */
    OM_ECANCELED, /* the caller's cancel flag was raised */
    OM_ENOTFOUND, /* named layer, field or record does not exist */
    OM_EEXIST,    /* named object already exists */
    OM_EFORMAT,   /* unknown or unsupported file format */
    OM_EINTERNAL  /* a bug in onemap: please report it */
};

/* Sizes of the fixed buffers inside struct om_error. */
#define OM_ERROR_MSG_MAX 512
#define OM_ERROR_SOURCE_MAX 256

/*
 * An error record. `source` names the file or layer, `line` the 1-based
 * line of a text input (0 if none) and `feature` the feature id (-1 if
 * none). `msg` is a complete English sentence; the CLI prints it as is.
 */
struct om_error {
    enum om_status status;
    long line;
    int64_t feature;
    char source[OM_ERROR_SOURCE_MAX];
    char msg[OM_ERROR_MSG_MAX];
};

/* Reset an error record to "no error". Accepts NULL. */
void om_error_clear(struct om_error *err);

/* The symbolic name of a status, e.g. "OM_EPARSE". Never NULL. */
const char *om_status_name(enum om_status status);

/* A short English description of a status. Never NULL. */
const char *om_status_text(enum om_status status);

/*
 * Format an error as one line: "source:line: feature N: message".
 * Parts that are absent are left out. Always NUL-terminates `buf`
 * (when `size` > 0). Returns `buf`.
 */
char *om_error_format(const struct om_error *err, char *buf, size_t size);

/*
 * Progress and cancellation for long operations.
 *
 * `fn` (may be NULL) is called with the number of units done and the total
 * (0 if unknown) and a short label of the current phase; it is called from
 * the calling thread only, at most a few hundred times per operation.
 * `cancel` (may be NULL) is polled: when it holds non-zero the operation
 * stops, undoes its writes and returns OM_ECANCELED.
 */
struct om_progress {
    void (*fn)(void *ctx, const char *phase, uint64_t done, uint64_t total);
    void *ctx;
    volatile int *cancel;
};

/*
 * Custom allocator. All library allocations go through these hooks. Set it
 * before any other call; it is process-wide and not thread-safe to change.
 * Passing NULL restores malloc/realloc/free.
 */
struct om_allocator {
    void *(*malloc_fn)(void *ctx, size_t size);
    void *(*realloc_fn)(void *ctx, void *ptr, size_t size);
    void (*free_fn)(void *ctx, void *ptr);
    void *ctx;
};
void om_set_allocator(const struct om_allocator *alloc);

#ifdef __cplusplus
}
#endif
#endif
