/*
 * fuzz_bbtxt.c — libFuzzer target for the 部标 TXT reader (om_bbtxt_parse):
 * any input must give OM_OK or a clean error: no crash, no leak, no UB. A
 * parsed result is walked (notes, points, header, layer view).
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer); also included by
 * tests/unit/test_bbtxt_fuzz_replay.c, which replays the corpus in
 * tests/fuzz/corpus/bbtxt/ and deterministic mutations in every
 * `make check`.
 */
#include "onemap/bbtxt.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct om_bbtxt *t = NULL;
    struct om_error err;
    /* checks on for short inputs only: PROJ and GEOS setup dominate */
    struct om_bbtxt_options o = {0};
    o.no_checks = size > 4096;
    if (om_bbtxt_parse((const char *)data, size, "fuzz", &o, &t, &err) !=
        OM_OK) {
        return 0;
    }
    size_t sum = 0;
    for (size_t i = 0; i < t->nnotes; i++) {
        sum += strlen(t->notes[i].zh) + strlen(t->notes[i].en);
    }
    for (size_t i = 0; i < t->npoints; i++) {
        sum += strlen(t->points[i].name) + t->points[i].parcel;
    }
    for (size_t i = 0; i < t->nkeys; i++) {
        sum += strlen(t->keys[i].key) + strlen(t->keys[i].value);
    }
    struct om_layer_view v;
    om_layer_view(t->layer, &v);
    sum += v.npoints + (om_bbtxt_header(t, "带号") != NULL);
    (void)sum;
    om_bbtxt_free(t);
    return 0;
}
