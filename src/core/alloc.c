/*
 * alloc.c — the allocator hook. Every library allocation goes through
 * om__malloc/om__realloc/om__free so tests can count and fail allocations.
 */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include "core/core.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Large blocks (coordinate arrays, the kernel's grids) are asked to be
 * backed by transparent huge pages: every 4 KiB page first touched costs a
 * page fault, and on a virtual machine those faults were a third of an
 * overlay's time (410k faults, 3.5 s of system time at city scale). The
 * advice covers the whole pages of the block: a block malloc mapped on its
 * own stays one mapping, so realloc can still grow it with mremap (advice
 * on part of it would split the mapping and make every realloc copy). The
 * kernel ignores the advice where huge pages are off; a failure changes
 * nothing but speed.
 */
enum { HUGE_MIN = 4u << 20, POPULATE_MIN = 1u << 20 };

/*
 * Blocks of a megabyte or more are also populated at once
 * (MADV_POPULATE_WRITE): one call maps all their pages instead of one
 * fault per page at first touch. On this project's virtual machines a
 * fault costs about 12 us: 64 MB touched page by page took 200 ms, and
 * 55 ms populated first (10 ms with huge pages as well). A block grown by
 * realloc to 4 MB or more is not: arrays grow by doubling, and populating
 * the unused half of every large one made the city's overlay hold 1.49 GB
 * instead of 1.02 GB, and run slower. The county's overlay: 216 ms before,
 * about 185 ms with everything populated, 203 ms as it is; the city's
 * about 5.8 s before, 4.7 s now.
 */
static void advise_huge(void *p, size_t size, bool grown)
{
    if (!p || size < POPULATE_MIN) {
        return;
    }
    long ps = sysconf(_SC_PAGESIZE); /* no cache: threads allocate at once */
    size_t page = ps > 0 ? (size_t)ps : 4096;
    uintptr_t lo = (uintptr_t)p & ~(uintptr_t)(page - 1);
    uintptr_t hi = ((uintptr_t)p + size + page - 1) & ~(uintptr_t)(page - 1);
#ifdef MADV_HUGEPAGE
    if (size >= HUGE_MIN) {
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
#ifdef MADV_POPULATE_WRITE
    if (!grown || size < HUGE_MIN) {
        (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
    }
#else
    (void)grown;
#endif
}

static void *default_malloc(void *ctx, size_t size)
{
    (void)ctx;
    void *p = malloc(size);
    advise_huge(p, size, false);
    return p;
}
static void *default_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    void *p = realloc(ptr, size);
    advise_huge(p, size, true);
    return p;
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
