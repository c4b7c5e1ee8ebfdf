/*
 * test_fuzz_replay.c — replays the libFuzzer targets in every `make check`
 * (and so under ASan+UBSan): the committed corpus in tests/fuzz/corpus/ and
 * a deterministic stream of mutations (bit flips, truncations, inflated
 * counts, splices) of valid GeoPackage blobs. A crash, leak or sanitizer
 * report fails the suite.
 */
#include "../fuzz/fuzz_gpkg_blob.c"

#include "core/core.h"
#include "test.h"

#include <dirent.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd32(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

/* Valid blobs: a square, a polygon with a hole, a two-part multipolygon. */
static size_t make_seeds(struct om__bytes *seeds, size_t max)
{
    struct om_layer *l = NULL;
    struct om_error err;
    if (om_layer_new("seed", &l, &err) != OM_OK) {
        return 0;
    }
    double sq[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double hole[] = {2, 2, 4, 2, 4, 4, 2, 4, 2, 2};
    double far[] = {42500000, 4800000, 42500100, 4800000,
                    42500100, 4800100, 42500000, 4800000};
    om_layer_begin_feature(l, 1, &err);
    om_layer_begin_part(l, &err);
    om_layer_add_ring(l, sq, 5, &err);
    om_layer_end_feature(l, &err);
    om_layer_begin_feature(l, 2, &err);
    om_layer_begin_part(l, &err);
    om_layer_add_ring(l, sq, 5, &err);
    om_layer_add_ring(l, hole, 5, &err);
    om_layer_begin_part(l, &err);
    om_layer_add_ring(l, far, 4, &err);
    om_layer_end_feature(l, &err);
    om_layer_begin_feature(l, 3, &err);
    om_layer_end_feature(l, &err);
    om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    size_t n = 0;
    for (size_t f = 0; f < v.nfeatures && n < max; f++) {
        memset(&seeds[n], 0, sizeof seeds[n]);
        if (om__gpkg_encode(&v, f, 4530, &seeds[n], &err) == OM_OK) {
            n++;
        } else {
            om__bytes_deinit(&seeds[n]);
        }
    }
    om_layer_free(l);
    return n;
}

TEST(test_seeds_roundtrip)
{
    struct om__bytes seeds[4];
    size_t n = make_seeds(seeds, 4);
    CHECK_INT(n, 3);
    for (size_t i = 0; i < n; i++) {
        LLVMFuzzerTestOneInput(seeds[i].data, seeds[i].len);
        om__bytes_deinit(&seeds[i]);
    }
}

TEST(test_mutations)
{
    struct om__bytes seeds[4];
    size_t n = make_seeds(seeds, 4);
    CHECK(n > 0);
    uint8_t buf[4096];
    for (int it = 0; it < 30000; it++) {
        const struct om__bytes *s = &seeds[rnd32() % n];
        size_t len = s->len < sizeof buf ? s->len : sizeof buf;
        memcpy(buf, s->data, len);
        int kind = (int)(rnd32() % 5);
        int nmut = 1 + (int)(rnd32() % 4);
        for (int m = 0; m < nmut && len > 0; m++) {
            size_t at = rnd32() % len;
            switch (kind) {
            case 0: /* bit flip */
                buf[at] ^= (uint8_t)(1u << (rnd32() % 8));
                break;
            case 1: /* truncate */
                len = at;
                break;
            case 2: /* inflate a 32-bit count */
                if (at + 4 <= len) {
                    uint32_t big = rnd32() | 0x10000000u;
                    memcpy(buf + at, &big, 4);
                }
                break;
            case 3: /* random byte */
                buf[at] = (uint8_t)rnd32();
                break;
            default: /* splice another seed's tail */
            {
                const struct om__bytes *o = &seeds[rnd32() % n];
                size_t from = rnd32() % o->len;
                size_t k = o->len - from;
                if (at + k > sizeof buf) {
                    k = sizeof buf - at;
                }
                memcpy(buf + at, o->data + from, k);
                len = at + k;
            }
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    for (size_t i = 0; i < n; i++) {
        om__bytes_deinit(&seeds[i]);
    }
}

TEST(test_corpus)
{
    const char *dirs[] = {"tests/fuzz/corpus/gpkg_blob"};
    size_t nfiles = 0;
    for (size_t d = 0; d < 1; d++) {
        DIR *dir = opendir(dirs[d]);
        if (!dir) {
            continue;
        }
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.') {
                continue;
            }
            char path[512];
            snprintf(path, sizeof path, "%s/%s", dirs[d], e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f) {
                continue;
            }
            uint8_t data[65536];
            size_t len = fread(data, 1, sizeof data, f);
            fclose(f);
            LLVMFuzzerTestOneInput(data, len);
            nfiles++;
        }
        closedir(dir);
    }
    CHECK(nfiles > 0);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_fuzz_replay");
    RUN(test_seeds_roundtrip);
    RUN(test_mutations);
    RUN(test_corpus);
    TEST_MAIN_END();
}
