/*
 * test_bbtxt_fuzz_replay.c — replays the 部标 TXT fuzz target in every
 * `make check` (and so under ASan+UBSan): the committed corpus in
 * tests/fuzz/corpus/bbtxt/ and a deterministic stream of mutations (byte
 * flips, truncations, TXT punctuation and digits inserted, span deletes and
 * duplications) of the corpus files. A crash, leak or sanitizer report
 * fails the suite.
 */
#include "../fuzz/fuzz_bbtxt.c"

#include "test.h"

#include <dirent.h>

static uint64_t rs = 0x853C49E6748FEA9Bull;
static uint32_t rnd32(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

/* Characters that change the structure of a TXT file. */
static const char punct[] = ",@[]=\r\n-.0123456789eE ";

#define MAXSEED 16
static char *seed[MAXSEED];
static size_t seedlen[MAXSEED];
static size_t nseed;

static size_t load_corpus(void)
{
    const char *dirname = "tests/fuzz/corpus/bbtxt";
    DIR *dir = opendir(dirname);
    if (!dir) {
        return 0;
    }
    struct dirent *e;
    size_t n = 0;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dirname, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            continue;
        }
        static char data[1 << 16];
        size_t len = fread(data, 1, sizeof data, f);
        fclose(f);
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        n++;
        if (nseed < MAXSEED) {
            seed[nseed] = malloc(len + 1);
            if (seed[nseed]) {
                memcpy(seed[nseed], data, len);
                seedlen[nseed++] = len;
            }
        }
    }
    closedir(dir);
    return n;
}

static void mutate_and_run(const char *s, size_t slen, char *buf, size_t size)
{
    size_t len = slen < size ? slen : size;
    memcpy(buf, s, len);
    int nmut = 1 + (int)(rnd32() % 4);
    for (int m = 0; m < nmut && len > 0; m++) {
        size_t at = rnd32() % len;
        switch (rnd32() % 5) {
        case 0:
            buf[at] ^= (char)(1u << (rnd32() % 8));
            break;
        case 1:
            len = at;
            break;
        case 2:
            buf[at] = punct[rnd32() % (sizeof punct - 1)];
            break;
        case 3: {
            size_t k = rnd32() % 24;
            if (at + k > len) {
                k = len - at;
            }
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
            break;
        }
        default: {
            size_t from = rnd32() % len;
            size_t k = rnd32() % 80;
            if (from + k > len) {
                k = len - from;
            }
            if (len + k <= size) {
                memmove(buf + at + k, buf + at, len - at);
                memmove(buf + at, buf + (from >= at ? from + k : from), k);
                len += k;
            }
        }
        }
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
}

TEST(test_corpus_and_mutations)
{
    size_t n = load_corpus();
    CHECK(n >= 8);
    static char buf[1 << 14];
    for (int it = 0; it < 10000 && nseed > 0; it++) {
        size_t i = rnd32() % nseed;
        mutate_and_run(seed[i], seedlen[i], buf, sizeof buf);
    }
    for (size_t i = 0; i < nseed; i++) {
        free(seed[i]);
    }
}

int main(void)
{
    TEST_MAIN_BEGIN("test_bbtxt_fuzz_replay");
    RUN(test_corpus_and_mutations);
    TEST_MAIN_END();
}
