/*
 * hilbert.c — Hilbert keys and a stable radix sort by key.
 */
#include "index/hilbert.h"

#include "core/core.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/*
 * The curve as a state machine over the levels, most significant first.
 * The state is what the levels above did to the coordinates below them:
 * bit 0 swapped x and y, bit 1 inverted both (the two commute). At a
 * level, the state maps the bits (x, y) to the quadrant's (rx, ry); the
 * key takes (3 rx) ^ ry; ry = 0 swaps, and rx = 1 also inverts. STEP
 * holds that for two levels at once: index state << 4 | x1 x0 y1 y0 bits
 * → the 4 key bits << 2 | the new state; built once by step_init.
 */
static uint8_t STEP[64];
static pthread_once_t step_once = PTHREAD_ONCE_INIT;

static unsigned one_level(unsigned state, unsigned bx, unsigned by, unsigned *q)
{
    if (state & 2) {
        bx ^= 1;
        by ^= 1;
    }
    if (state & 1) {
        unsigned t = bx;
        bx = by;
        by = t;
    }
    *q = (3 * bx) ^ by;
    if (by == 0) {
        state ^= bx ? 3 : 1;
    }
    return state;
}

static void step_init(void)
{
    for (unsigned st = 0; st < 4; st++) {
        for (unsigned xb = 0; xb < 4; xb++) {
            for (unsigned yb = 0; yb < 4; yb++) {
                unsigned q1, q0;
                unsigned s1 = one_level(st, xb >> 1, yb >> 1, &q1);
                unsigned s0 = one_level(s1, xb & 1, yb & 1, &q0);
                STEP[st << 4 | xb << 2 | yb] =
                    (uint8_t)((q1 << 2 | q0) << 2 | s0);
            }
        }
    }
}

uint32_t om__hilbert_xy(uint32_t x, uint32_t y)
{
    pthread_once(&step_once, step_init);
    uint32_t d = 0;
    unsigned st = 0;
    for (int l = 14; l >= 0; l -= 2) {
        unsigned e = STEP[st << 4 | ((x >> l) & 3) << 2 | ((y >> l) & 3)];
        d = d << 4 | e >> 2;
        st = e & 3;
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
    /* LSD radix sort of (key << 32 | index), 16 key bits per pass: stable,
     * O(n), reading its input in order. */
    if (n > UINT32_MAX) {
        return false;
    }
    uint64_t *a = om__reallocarray(NULL, n, sizeof *a);
    uint64_t *tmp = om__reallocarray(NULL, n, sizeof *tmp);
    size_t *cnt = om__calloc(2 * 65536, sizeof *cnt);
    if (!a || !tmp || !cnt) {
        om__free(a);
        om__free(tmp);
        om__free(cnt);
        return false;
    }
    size_t *lo = cnt, *hi = cnt + 65536;
    for (size_t i = 0; i < n; i++) {
        a[i] = (uint64_t)keys[i] << 32 | i;
        lo[keys[i] & 0xffff]++;
        hi[keys[i] >> 16]++;
    }
    size_t so = 0, sh = 0;
    for (size_t k = 0; k < 65536; k++) {
        size_t c = lo[k];
        lo[k] = so;
        so += c;
        c = hi[k];
        hi[k] = sh;
        sh += c;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[lo[(a[i] >> 32) & 0xffff]++] = a[i];
    }
    for (size_t i = 0; i < n; i++) {
        a[hi[tmp[i] >> 48]++] = tmp[i];
    }
    for (size_t i = 0; i < n; i++) {
        perm[i] = (size_t)(a[i] & 0xffffffffu);
    }
    om__free(a);
    om__free(tmp);
    om__free(cnt);
    return true;
}
