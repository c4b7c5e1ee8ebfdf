/*
 * arena.c — bump allocator for many small objects freed together.
 */
#include "core/core.h"

#include <string.h>

struct om__arena_block {
    struct om__arena_block *next;
    size_t size;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

void om__arena_init(struct om__arena *a)
{
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

void om__arena_deinit(struct om__arena *a)
{
    struct om__arena_block *b = a->head;
    while (b) {
        struct om__arena_block *next = b->next;
        om__free(b);
        b = next;
    }
    om__arena_init(a);
}

void *om__arena_alloc(struct om__arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0) {
        size = 16;
    }
    if (!a->head || a->used + size > a->head->size) {
        size_t bsize = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        struct om__arena_block *b =
            om__malloc(sizeof(struct om__arena_block) + bsize);
        if (!b) {
            return NULL;
        }
        b->size = bsize;
        b->next = a->head;
        a->head = b;
        a->used = 0;
        a->total += bsize;
    }
    void *p = a->head->data + a->used;
    a->used += size;
    return p;
}

char *om__arena_strdup(struct om__arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = om__arena_alloc(a, n);
    if (p) {
        memcpy(p, s, n);
    }
    return p;
}
