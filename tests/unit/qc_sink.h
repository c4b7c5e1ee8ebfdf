/*
 * qc_sink.h — for the unit tests of the qc check families (test_qc_geom.c,
 * test_qc_attr.c): a sink that records every finding, replacing the
 * driver's om__qc_emit / om__qc_wanted (qc.o is then not linked), and the
 * default thresholds. Included by one test file per binary.
 */
#ifndef ONEMAP_TEST_QC_SINK_H
#define ONEMAP_TEST_QC_SINK_H

#include "ops/qc_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a recording sink (the driver's om__qc_emit is not linked) ---- */

struct rec {
    char code[8];
    int64_t fid, fid2;
    double x, y, value;
    char field[64];
    char zh[640], en[640];
};

struct om__qc_sink {
    struct rec *items;
    size_t n, cap;
    const char *only; /* run only this code, NULL = all */
};

enum om_status om__qc_emit(struct om__qc_sink *s, const struct om__qc_item *it,
                           struct om_error *err)
{
    if (!it->code || strlen(it->code) != 4 || !it->zh || !it->en) {
        if (err) {
            err->status = OM_EINVAL;
        }
        return OM_EINVAL;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct rec *p = realloc(s->items, cap * sizeof *p);
        if (!p) {
            return OM_ENOMEM;
        }
        s->items = p;
        s->cap = cap;
    }
    struct rec *r = &s->items[s->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->code, sizeof r->code, "%s", it->code);
    r->fid = it->fid;
    r->fid2 = it->fid2;
    r->x = it->x;
    r->y = it->y;
    r->value = it->value;
    snprintf(r->field, sizeof r->field, "%s", it->field ? it->field : "");
    snprintf(r->zh, sizeof r->zh, "%s", it->zh);
    snprintf(r->en, sizeof r->en, "%s", it->en);
    return OM_OK;
}

bool om__qc_wanted(const struct om__qc_sink *s, const char *code)
{
    return !s->only || strcmp(s->only, code) == 0;
}

static void sink_free(struct om__qc_sink *s)
{
    free(s->items);
    memset(s, 0, sizeof *s);
}

static size_t count_code(const struct om__qc_sink *s, const char *code)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        n += strcmp(s->items[i].code, code) == 0;
    }
    return n;
}

static struct om_qc_conf conf_default(void)
{
    struct om_qc_conf c;
    memset(&c, 0, sizeof c);
    c.sliver_area_m2 = 1;
    c.sliver_width_m = 0.1;
    c.near_distance_m = 0.05;
    c.micro_segment_m = 0.001;
    c.spike_angle_deg = 1;
    c.area_rel = 0.001;
    c.area_abs_m2 = 1;
    c.tbdlmj_abs_m2 = 0.01;
    c.crop_rel = 0.05;
    return c;
}

#endif
