/*
 * error.c — status names and the error record.
 */
#include "core/core.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *text;
} statuses[] = {
    [OM_OK] = {"OM_OK", "success"},
    [OM_ENOMEM] = {"OM_ENOMEM", "out of memory"},
    [OM_EINVAL] = {"OM_EINVAL", "invalid argument"},
    [OM_EIO] = {"OM_EIO", "input/output error"},
    [OM_EPARSE] = {"OM_EPARSE", "malformed input"},
    [OM_EGEOM] = {"OM_EGEOM", "invalid geometry"},
    [OM_ECRS] = {"OM_ECRS", "coordinate reference system error"},
    [OM_ESTORE] = {"OM_ESTORE", "project database error"},
    [OM_ELIMIT] = {"OM_ELIMIT", "limit exceeded"},
    [OM_ECANCELED] = {"OM_ECANCELED", "canceled"},
    [OM_ENOTFOUND] = {"OM_ENOTFOUND", "not found"},
    [OM_EEXIST] = {"OM_EEXIST", "already exists"},
    [OM_EFORMAT] = {"OM_EFORMAT", "unsupported format"},
    [OM_EINTERNAL] = {"OM_EINTERNAL", "internal error"},
};

const char *om_status_name(enum om_status status)
{
    if ((unsigned)status < sizeof statuses / sizeof statuses[0]) {
        return statuses[status].name;
    }
    return "OM_UNKNOWN";
}

const char *om_status_text(enum om_status status)
{
    if ((unsigned)status < sizeof statuses / sizeof statuses[0]) {
        return statuses[status].text;
    }
    return "unknown status";
}

void om_error_clear(struct om_error *err)
{
    if (err) {
        err->status = OM_OK;
        err->line = 0;
        err->feature = -1;
        err->source[0] = '\0';
        err->msg[0] = '\0';
    }
}

enum om_status om__errorv(struct om_error *err, enum om_status status,
                          const char *source, long line, int64_t feature,
                          const char *fmt, va_list ap)
{
    if (!err) {
        return status;
    }
    err->status = status;
    err->line = line;
    err->feature = feature;
    om__strlcpy(err->source, source ? source : "", sizeof err->source);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return status;
}

enum om_status om__error(struct om_error *err, enum om_status status,
                         const char *source, long line, int64_t feature,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    om__errorv(err, status, source, line, feature, fmt, ap);
    va_end(ap);
    return status;
}

enum om_status om__enomem(struct om_error *err, const char *source)
{
    return om__error(err, OM_ENOMEM, source, 0, -1, "out of memory");
}

void om__error_prefix(struct om_error *err, const char *fmt, ...)
{
    if (!err) {
        return;
    }
    char prefix[OM_ERROR_MSG_MAX];
    char old[OM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* Truncation is the intended behaviour for very long messages. */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) {
        n = sizeof err->msg - 3;
    }
    memcpy(err->msg, prefix, n);
    err->msg[n++] = ':';
    err->msg[n++] = ' ';
    om__strlcpy(err->msg + n, old, sizeof err->msg - n);
}

char *om_error_format(const struct om_error *err, char *buf, size_t size)
{
    if (!buf || size == 0) {
        return buf;
    }
    buf[0] = '\0';
    if (!err) {
        return buf;
    }
    size_t n = 0;
#define APPEND(...)                                                            \
    do {                                                                       \
        if (n < size) {                                                        \
            int k_ = snprintf(buf + n, size - n, __VA_ARGS__);                 \
            if (k_ > 0) {                                                      \
                n += (size_t)k_;                                               \
            }                                                                  \
        }                                                                      \
    } while (0)
    if (err->source[0]) {
        APPEND("%s", err->source);
        if (err->line > 0) {
            APPEND(":%ld", err->line);
        }
        APPEND(": ");
    }
    if (err->feature >= 0) {
        APPEND("feature %lld: ", (long long)err->feature);
    }
    APPEND("%s", err->msg[0] ? err->msg : om_status_text(err->status));
#undef APPEND
    return buf;
}

void om__strlcpy(char *dst, const char *src, size_t size)
{
    if (size == 0) {
        return;
    }
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

int om__strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z') {
            ca += 'a' - 'A';
        }
        if (cb >= 'A' && cb <= 'Z') {
            cb += 'a' - 'A';
        }
        if (ca != cb || ca == 0) {
            return ca - cb;
        }
    }
}
