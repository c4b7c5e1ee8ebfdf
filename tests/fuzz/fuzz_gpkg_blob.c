/*
 * fuzz_gpkg_blob.c — libFuzzer target for the GeoPackage geometry blob and
 * WKB decoder (the parser every project read goes through). Any input must
 * give OM_OK or a clean error: no crash, no leak, no UB.
 *
 * Built by `make fuzz` (clang, -fsanitize=fuzzer); also included by
 * tests/unit/test_fuzz_replay.c, which replays a corpus and deterministic
 * mutations in every `make check`.
 */
#include "geom/wkb.h"
#include "onemap/layer.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct om_layer *l = NULL;
    struct om_error err;
    if (om_layer_new("fuzz", &l, &err) != OM_OK) {
        return 0;
    }
    struct om__wkb_reader r = {0};
    int32_t srs = 0;
    if (om_layer_begin_feature(l, 1, &err) == OM_OK) {
        if (om__gpkg_decode_to_layer(&r, data, size, l, &srs, "fuzz", 1,
                                     &err) == OM_OK) {
            om_layer_end_feature(l, &err);
        } else {
            om_layer_abort_feature(l);
        }
    }
    /* A decoded feature must be usable. */
    if (om_layer_finish(l, 0, &err) == OM_OK) {
        struct om_layer_view v;
        om_layer_view(l, &v);
        for (size_t f = 0; f < v.nfeatures; f++) {
            struct om__bytes b = {0};
            if (om__gpkg_encode(&v, f, srs, &b, &err) == OM_OK) {
                (void)b.len;
            }
            om__bytes_deinit(&b);
        }
    }
    om__wkb_reader_deinit(&r);
    om_layer_free(l);
    return 0;
}
