/*
 * alloc.c — the allocator hook. Every library allocation goes through
 * om__malloc/om__realloc/om__free so tests can count and fail allocations.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

static void *default_malloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}
static void *default_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    return realloc(ptr, size);
}
static void default_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static struct om_allocator current = {default_malloc, default_realloc,
                                      default_free, NULL};

void om_set_allocator(const struct om_allocator *alloc)
{
    if (alloc) {
        current = *alloc;
    } else {
        current.malloc_fn = default_malloc;
        current.realloc_fn = default_realloc;
        current.free_fn = default_free;
        current.ctx = NULL;
    }
}

void *om__malloc(size_t size)
{
    return current.malloc_fn(current.ctx, size ? size : 1);
}

void *om__calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    void *p = om__malloc(n * size);
    if (p) {
        memset(p, 0, n * size);
    }
    return p;
}

void *om__realloc(void *ptr, size_t size)
{
    return current.realloc_fn(current.ctx, ptr, size ? size : 1);
}

void *om__reallocarray(void *ptr, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        return NULL;
    }
    return om__realloc(ptr, n * size);
}

void om__free(void *ptr)
{
    if (ptr) {
        current.free_fn(current.ctx, ptr);
    }
}

char *om__strdup(const char *s)
{
    return s ? om__strndup(s, strlen(s)) : NULL;
}

char *om__strndup(const char *s, size_t n)
{
    if (!s) {
        return NULL;
    }
    size_t len = strnlen(s, n);
    char *p = om__malloc(len + 1);
    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

bool om__grow(void **pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) {
        return true;
    }
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            return false;
        }
        ncap *= 2;
    }
    void *p = om__reallocarray(*pp, ncap, elem);
    if (!p) {
        return false;
    }
    *pp = p;
    *cap = ncap;
    return true;
}
