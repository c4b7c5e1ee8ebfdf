/*
 * buf.c — a growable, NUL-terminated byte buffer with an upper bound.
 */
#include "core/core.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void om__buf_init(struct om__buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit ? limit : OM_LIMIT_BUF_BYTES;
}

void om__buf_deinit(struct om__buf *b)
{
    om__free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void om__buf_reset(struct om__buf *b)
{
    b->len = 0;
    if (b->data) {
        b->data[0] = '\0';
    }
}

static enum om_status reserve(struct om__buf *b, size_t extra)
{
    if (extra > b->limit || b->len > b->limit - extra) {
        return OM_ELIMIT;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) {
        return OM_OK;
    }
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) {
        ncap *= 2;
    }
    char *p = om__realloc(b->data, ncap);
    if (!p) {
        return OM_ENOMEM;
    }
    b->data = p;
    b->cap = ncap;
    return OM_OK;
}

enum om_status om__buf_append(struct om__buf *b, const void *p, size_t n)
{
    enum om_status st = reserve(b, n);
    if (st != OM_OK) {
        return st;
    }
    if (n) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return OM_OK;
}

enum om_status om__buf_puts(struct om__buf *b, const char *s)
{
    return om__buf_append(b, s, strlen(s));
}

enum om_status om__buf_printf(struct om__buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return OM_EINVAL;
    }
    if ((size_t)n < sizeof small) {
        return om__buf_append(b, small, (size_t)n);
    }
    enum om_status st = reserve(b, (size_t)n);
    if (st != OM_OK) {
        return st;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return OM_OK;
}

char *om__buf_take(struct om__buf *b)
{
    char *p = b->data;
    if (!p) {
        p = om__strdup("");
    }
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

/* ---- JSON ---- */

enum om_status om__json_str(struct om__buf *b, const char *s)
{
    if (!s) {
        return om__buf_puts(b, "null");
    }
    enum om_status st = om__buf_puts(b, "\"");
    const char *run = s;
    for (; st == OM_OK && *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch != '"' && ch != '\\' && ch >= 0x20) {
            continue;
        }
        st = om__buf_append(b, run, (size_t)(s - run));
        if (st == OM_OK) {
            st = ch == '"'    ? om__buf_puts(b, "\\\"")
                 : ch == '\\' ? om__buf_puts(b, "\\\\")
                 : ch == '\n' ? om__buf_puts(b, "\\n")
                 : ch == '\t' ? om__buf_puts(b, "\\t")
                              : om__buf_printf(b, "\\u%04x", ch);
        }
        run = s + 1;
    }
    if (st == OM_OK) {
        st = om__buf_append(b, run, (size_t)(s - run));
    }
    return st == OM_OK ? om__buf_puts(b, "\"") : st;
}

enum om_status om__json_num(struct om__buf *b, double x, int dec)
{
    if (!isfinite(x)) {
        return om__buf_puts(b, "null");
    }
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.*f", dec, x);
    const char *s = tmp;
    if (tmp[0] == '-') {
        bool zero = true;
        for (const char *q = tmp + 1; *q; q++) {
            zero &= *q == '0' || *q == '.';
        }
        s = zero ? tmp + 1 : tmp;
    }
    return om__buf_puts(b, s);
}
