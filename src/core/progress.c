/*
 * progress.c — rate-limited progress reporting and cancel polling.
 */
#include "core/core.h"

bool om__progress(const struct om_progress *p, const char *phase, uint64_t done,
                  uint64_t total)
{
    if (!p) {
        return false;
    }
    if (p->fn) {
        /* Report at ~256 steps over the total, plus the first and last. */
        uint64_t step = total > 256 ? total / 256 : 1;
        if (done == 0 || done >= total || done % step == 0) {
            p->fn(p->ctx, phase, done, total);
        }
    }
    return p->cancel && __atomic_load_n(p->cancel, __ATOMIC_RELAXED);
}

bool om__progress_force(const struct om_progress *p, const char *phase,
                        uint64_t done, uint64_t total)
{
    if (!p) {
        return false;
    }
    if (p->fn) {
        p->fn(p->ctx, phase, done, total);
    }
    return p->cancel && __atomic_load_n(p->cancel, __ATOMIC_RELAXED);
}
