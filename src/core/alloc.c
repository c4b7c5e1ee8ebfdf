/*
 * alloc.c — the allocator hook. Every library allocation goes through
 * om__malloc/om__realloc/om__free so tests can count and fail allocations.
 */
#define _DEFAULT_SOURCE /* madvise's MADV_HUGEPAGE */
#include "core/core.h"

#include <pthread.h>
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
enum {
    HUGE_MIN = 4u << 20,
    POPULATE_MIN = 1u << 20,
    POPULATE_SPLIT = 16u << 20,
    POPULATE_THREADS = 4
};

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
#ifdef MADV_POPULATE_WRITE
struct slice {
    uintptr_t lo, hi;
};

static void *populate_slice(void *arg)
{
    const struct slice *s = arg;
    (void)madvise((void *)s->lo, s->hi - s->lo, MADV_POPULATE_WRITE);
    return NULL;
}

/*
 * Populate [lo, hi) (page aligned). A block of 16 MB or more is cut in
 * slices populated at once by helper threads and this one, up to one a
 * core: the zeroing of fresh pages is work like any other, and the big
 * blocks come in the serial steps of a computation (the area kernel's
 * zone edges and grid), when the other cores wait. On this project's
 * 2-core virtual machine, 1 GB took 1.2-2.2 s on one thread and
 * 0.63-0.70 s on two. A helper that cannot start leaves its slice to this
 * thread.
 */
static void populate(uintptr_t lo, uintptr_t hi)
{
    long cores = hi - lo >= POPULATE_SPLIT ? sysconf(_SC_NPROCESSORS_ONLN) : 1;
    size_t n = cores < 1                  ? 1
               : cores > POPULATE_THREADS ? POPULATE_THREADS
                                          : (size_t)cores;
    struct slice sl[POPULATE_THREADS];
    pthread_t tid[POPULATE_THREADS];
    bool started[POPULATE_THREADS] = {false};
    uintptr_t step =
        ((hi - lo) / n + (HUGE_MIN - 1)) & ~(uintptr_t)(HUGE_MIN - 1);
    for (size_t t = 0; t < n; t++) {
        uintptr_t a = lo + t * step, b = a + step;
        sl[t].lo = a < hi ? a : hi;
        sl[t].hi = b < hi && t + 1 < n ? b : hi;
    }
    for (size_t t = 1; t < n; t++) {
        started[t] = sl[t].lo < sl[t].hi &&
                     pthread_create(&tid[t], NULL, populate_slice, &sl[t]) == 0;
    }
    populate_slice(&sl[0]);
    for (size_t t = 1; t < n; t++) {
        if (started[t]) {
            pthread_join(tid[t], NULL);
        } else if (sl[t].lo < sl[t].hi) {
            populate_slice(&sl[t]);
        }
    }
}
#endif

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
        populate(lo, hi);
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
