/*
 * rtree.c — packed, static R-tree (Hilbert-packed, node size 16), built
 * once over a set of boxes and searched read-only from any thread.
 *
 * Layout (as in Flatbush): all node boxes in one array; the first n entries
 * are the item boxes in Hilbert order, then each upper level follows. For a
 * leaf entry, index[pos] is the item id; for an inner entry it is the
 * position of its first child (children are contiguous, at most NODE).
 */
#include "core/core.h"
#include "index/hilbert.h"
#include "onemap/layer.h"

#include <string.h>

enum { NODE = 16, MAX_LEVELS = 32 };

struct om_rtree {
    size_t n;      /* items (non-empty boxes only) */
    size_t nnodes; /* entries in boxes/index */
    struct om_rect *boxes;
    size_t *index;
    size_t level_end[MAX_LEVELS]; /* end position of each level */
    int nlevels;
};

enum om_status om_rtree_build(const struct om_rect *boxes, size_t n,
                              struct om_rtree **out, struct om_error *err)
{
    *out = NULL;
    struct om_rtree *t = om__calloc(1, sizeof *t);
    uint32_t *keys = NULL;
    size_t *perm = NULL, *items = NULL;
    if (!t) {
        return om__enomem(err, "rtree");
    }
    /* Keep only non-empty boxes. */
    items = om__reallocarray(NULL, n ? n : 1, sizeof *items);
    if (!items) {
        goto oom;
    }
    size_t m = 0;
    struct om_rect ext = om_rect_empty();
    for (size_t i = 0; i < n; i++) {
        if (!om_rect_is_empty(boxes[i])) {
            items[m++] = i;
            ext = om_rect_union(ext, boxes[i]);
        }
    }
    /* Level sizes. */
    size_t total = m, count = m;
    int nlevels = 1;
    while (count > 1) {
        count = (count + NODE - 1) / NODE;
        total += count;
        nlevels++;
        if (nlevels >= MAX_LEVELS) {
            goto oom; /* cannot happen with size_t counts */
        }
    }
    if (m == 0) {
        total = 0;
        nlevels = 0;
    }
    t->n = m;
    t->nnodes = total;
    t->nlevels = nlevels;
    t->boxes = om__reallocarray(NULL, total ? total : 1, sizeof *t->boxes);
    t->index = om__reallocarray(NULL, total ? total : 1, sizeof *t->index);
    keys = om__reallocarray(NULL, m ? m : 1, sizeof *keys);
    perm = om__reallocarray(NULL, m ? m : 1, sizeof *perm);
    if (!t->boxes || !t->index || !keys || !perm) {
        goto oom;
    }
    for (size_t i = 0; i < m; i++) {
        t->boxes[i] = boxes[items[i]];
    }
    om__hilbert_keys(t->boxes, m, ext, keys);
    if (!om__hilbert_order(keys, m, perm)) {
        goto oom;
    }
    for (size_t i = 0; i < m; i++) {
        t->boxes[i] = boxes[items[perm[i]]];
        t->index[i] = items[perm[i]];
    }
    /* Upper levels. */
    size_t lstart = 0, lend = m, pos = m;
    int level = 0;
    if (m > 0) {
        t->level_end[level++] = m;
    }
    while (lend - lstart > 1) {
        for (size_t c = lstart; c < lend; c += NODE) {
            struct om_rect r = om_rect_empty();
            size_t cend = c + NODE < lend ? c + NODE : lend;
            for (size_t k = c; k < cend; k++) {
                r = om_rect_union(r, t->boxes[k]);
            }
            t->boxes[pos] = r;
            t->index[pos] = c;
            pos++;
        }
        lstart = lend;
        lend = pos;
        t->level_end[level++] = lend;
    }
    om__free(items);
    om__free(keys);
    om__free(perm);
    *out = t;
    return OM_OK;
oom:
    om__free(items);
    om__free(keys);
    om__free(perm);
    om_rtree_free(t);
    return om__enomem(err, "rtree");
}

void om_rtree_free(struct om_rtree *tree)
{
    if (tree) {
        om__free(tree->boxes);
        om__free(tree->index);
        om__free(tree);
    }
}

size_t om_rtree_count(const struct om_rtree *tree)
{
    return tree ? tree->n : 0;
}

void om_rtree_search(const struct om_rtree *tree, struct om_rect q,
                     om_rtree_visit_fn fn, void *ctx)
{
    if (!tree || tree->nnodes == 0 || om_rect_is_empty(q)) {
        return;
    }
    /* Stack of (node position, level). Depth <= nlevels, fan-out NODE. */
    size_t stack[MAX_LEVELS * NODE];
    int lstack[MAX_LEVELS * NODE];
    int sp = 0;
    stack[sp] = tree->nnodes - 1;
    lstack[sp] = tree->nlevels - 1;
    sp++;
    while (sp > 0) {
        sp--;
        size_t node = stack[sp];
        int level = lstack[sp];
        if (!om_rect_intersects(tree->boxes[node], q)) {
            continue;
        }
        if (level == 0) {
            if (!fn(ctx, tree->index[node])) {
                return;
            }
            continue;
        }
        size_t first = tree->index[node];
        size_t end = first + NODE;
        size_t lend = tree->level_end[level - 1];
        if (end > lend) {
            end = lend;
        }
        /* Push in reverse so children are visited in order. */
        for (size_t c = end; c-- > first;) {
            if (om_rect_intersects(tree->boxes[c], q)) {
                stack[sp] = c;
                lstack[sp] = level - 1;
                sp++;
            }
        }
    }
}
