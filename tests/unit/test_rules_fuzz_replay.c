/*
 * test_rules_fuzz_replay.c — replays the rule-file fuzz target in every
 * `make check` (and so under ASan+UBSan): the committed corpus in
 * tests/fuzz/corpus/rules/ and a deterministic stream of mutations (byte
 * flips, truncations, line swaps, YAML punctuation inserted, splices) of the
 * default rule set and small seeds. A crash, leak or sanitizer report fails
 * the suite.
 */
#include "../fuzz/fuzz_rules.c"

#include "core/core.h"
#include "test.h"

#include <dirent.h>

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd32(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 16);
}

static const char *const small_seeds[] = {
    "version: 1\nrules:\n  - id: R1\n    kind: must_not_overlap\n    a: A\n"
    "    b: {layer: DLTB, where: {DLBM: {group: construction, not: [0701]},"
    " N: {prefix: [1]}}}\n    zh: x\n    min_area: 1\n",
    "version: 1\nlayers: {DLTB: {role: landuse, keys: [BSM]}}\n"
    "admin: {layer: XZQ, code: XZQDM}\n"
    "rules: [{id: a, kind: must_cover, a: XZQ, b: DLTB, en: e}]\n",
    "version: 1\nrules:\n  - id: R2\n    kind: must_be_within\n"
    "    a: {layer: DLTB, where: {DLBM: [01*, \"0201K\"], N: {not: {group: "
    "x}}}}\n    b: B\n    zh: y\n    severity: info\n",
};

/* Punctuation that changes YAML structure. */
static const char punct[] = ":-[]{},&*!|>'\"#%@` \n\t?";

static void mutate_and_run(const char *seed, size_t slen, char *buf,
                           size_t size)
{
    size_t len = slen < size ? slen : size;
    memcpy(buf, seed, len);
    int nmut = 1 + (int)(rnd32() % 4);
    for (int m = 0; m < nmut && len > 0; m++) {
        size_t at = rnd32() % len;
        switch (rnd32() % 5) {
        case 0: /* byte flip */
            buf[at] ^= (char)(1u << (rnd32() % 8));
            break;
        case 1: /* truncate */
            len = at;
            break;
        case 2: /* YAML punctuation */
            buf[at] = punct[rnd32() % (sizeof punct - 1)];
            break;
        case 3: /* delete a span */
        {
            size_t k = rnd32() % 16;
            if (at + k > len) {
                k = len - at;
            }
            memmove(buf + at, buf + at + k, len - at - k);
            len -= k;
            break;
        }
        default: /* duplicate a span (repeats keys, ids, items) */
        {
            size_t from = rnd32() % len;
            size_t k = rnd32() % 64;
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

TEST(test_seeds)
{
    for (size_t i = 0; i < sizeof small_seeds / sizeof small_seeds[0]; i++) {
        struct om_rules *r = NULL;
        struct om_error err;
        enum om_status st = om_rules_parse(
            small_seeds[i], strlen(small_seeds[i]), "seed", &r, &err);
        /* seeds 0 and 1 are valid; seed 2 has an unknown group */
        CHECK_INT(st, i < 2 ? OM_OK : OM_EPARSE);
        om_rules_free(r);
        LLVMFuzzerTestOneInput((const uint8_t *)small_seeds[i],
                               strlen(small_seeds[i]));
    }
}

TEST(test_mutations)
{
    char *def = NULL;
    size_t dlen = 0;
    struct om_error err;
    CHECK_OK(om_rules_default_text(&def, &dlen, &err), &err);
    static char buf[16384];
    for (int it = 0; it < 12000; it++) {
        if (it % 4 == 0) {
            mutate_and_run(def, dlen, buf, sizeof buf);
        } else {
            const char *s = small_seeds[rnd32() % 3];
            mutate_and_run(s, strlen(s), buf, sizeof buf);
        }
    }
    om_rules_text_free(def);
}

TEST(test_corpus)
{
    const char *dirname = "tests/fuzz/corpus/rules";
    size_t nfiles = 0;
    DIR *dir = opendir(dirname);
    CHECK(dir != NULL);
    struct dirent *e;
    static uint8_t data[1 << 16];
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
        size_t len = fread(data, 1, sizeof data, f);
        fclose(f);
        LLVMFuzzerTestOneInput(data, len);
        nfiles++;
    }
    closedir(dir);
    CHECK(nfiles >= 5);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_rules_fuzz_replay");
    RUN(test_seeds);
    RUN(test_mutations);
    RUN(test_corpus);
    TEST_MAIN_END();
}
