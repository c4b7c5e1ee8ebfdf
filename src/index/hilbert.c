/*
 * hilbert.c — Hilbert keys and a stable radix sort by key.
 */
#include "index/hilbert.h"

#include "core/core.h"

#include <math.h>
#include <string.h>

uint32_t om__hilbert_xy(uint32_t x, uint32_t y)
{
    const uint32_t n = 1u << 16;
    uint32_t d = 0;
    for (uint32_t s = n / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) > 0;
        uint32_t ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

void om__hilbert_keys(const struct om_rect *boxes, size_t n,
                      struct om_rect extent, uint32_t *keys)
{
    double w = extent.maxx - extent.minx;
    double h = extent.maxy - extent.miny;
    double sx = w > 0 ? 65535.0 / w : 0;
    double sy = h > 0 ? 65535.0 / h : 0;
    for (size_t i = 0; i < n; i++) {
        const struct om_rect *b = &boxes[i];
        if (om_rect_is_empty(*b)) {
            keys[i] = UINT32_MAX;
            continue;
        }
        double cx = (b->minx + b->maxx) * 0.5;
        double cy = (b->miny + b->maxy) * 0.5;
        double fx = (cx - extent.minx) * sx;
        double fy = (cy - extent.miny) * sy;
        uint32_t ix = fx > 0 ? (fx < 65535 ? (uint32_t)fx : 65535) : 0;
        uint32_t iy = fy > 0 ? (fy < 65535 ? (uint32_t)fy : 65535) : 0;
        if (!isfinite(cx) || !isfinite(cy)) {
            ix = iy = 0;
        }
        keys[i] = om__hilbert_xy(ix, iy);
    }
}

/* Below this many keys a stable insertion sort beats clearing the radix
 * sort's 2 x 65536 counters (small layers: sites, tiles of one parcel). */
#define SMALL_SORT 64

bool om__hilbert_order(const uint32_t *keys, size_t n, size_t *perm)
{
    if (n <= SMALL_SORT) {
        for (size_t i = 0; i < n; i++) {
            size_t x = perm[i] = i, k = i;
            while (k > 0 && keys[perm[k - 1]] > keys[x]) {
                perm[k] = perm[k - 1];
                k--;
            }
            perm[k] = x;
        }
        return true;
    }
    /* LSD radix sort, 16 bits per pass: stable, O(n). */
    size_t *tmp = om__reallocarray(NULL, n ? n : 1, sizeof *tmp);
    size_t *cnt = om__calloc(65536 + 1, sizeof *cnt);
    if (!tmp || !cnt) {
        om__free(tmp);
        om__free(cnt);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        perm[i] = i;
    }
    for (int pass = 0; pass < 2; pass++) {
        int shift = pass * 16;
        memset(cnt, 0, (65536 + 1) * sizeof *cnt);
        for (size_t i = 0; i < n; i++) {
            cnt[((keys[perm[i]] >> shift) & 0xffff) + 1]++;
        }
        for (size_t k = 0; k < 65536; k++) {
            cnt[k + 1] += cnt[k];
        }
        for (size_t i = 0; i < n; i++) {
            tmp[cnt[(keys[perm[i]] >> shift) & 0xffff]++] = perm[i];
        }
        memcpy(perm, tmp, n * sizeof *perm);
    }
    om__free(tmp);
    om__free(cnt);
    return true;
}
