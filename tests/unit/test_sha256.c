/*
 * test_sha256.c — SHA-256: FIPS 180-4 / NIST vectors, and the SHA-NI
 * block function against the portable one on random data fed in random
 * pieces; om__sha256_file against sha256sum. On a CPU without SHA
 * instructions both runs use the portable code and the vectors still
 * check it.
 */
#include "core/core.h"
#include "test.h"

struct rng {
    uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

static void rng_fill(struct rng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(rng_next(r) >> 56);
    }
}

/* Hash p[0..n-1] in pieces of random size: mostly small and unaligned,
 * sometimes up to max_piece, sometimes empty (with a NULL pointer). */
static void hash_pieces(const uint8_t *p, size_t n, size_t max_piece,
                        struct rng *r, char hex[65])
{
    struct om__sha256 s;
    om__sha256_init(&s);
    size_t off = 0;
    while (off < n) {
        uint64_t x = rng_next(r);
        size_t k;
        switch (x % 4) {
        case 0:
            k = 0;
            om__sha256_update(&s, NULL, 0);
            break;
        case 1:
            k = (size_t)(x >> 8) % 130;
            break;
        default:
            k = (size_t)(x >> 8) % (max_piece + 1);
            break;
        }
        k = k < n - off ? k : n - off;
        if (k > 0) {
            om__sha256_update(&s, p + off, k);
        }
        off += k;
    }
    om__sha256_final(&s, hex);
}

/* Hash with the accelerated path (where there is one) and the portable
 * path; fail unless both give want. */
#define CHECK_BOTH(data, len, want)                                            \
    do {                                                                       \
        char h1_[65], h2_[65];                                                 \
        om__sha256_force_portable(false);                                      \
        om__sha256_hex((data), (len), h1_);                                    \
        om__sha256_force_portable(true);                                       \
        om__sha256_hex((data), (len), h2_);                                    \
        om__sha256_force_portable(false);                                      \
        CHECK_STR(h1_, (want));                                                \
        CHECK_STR(h2_, (want));                                                \
    } while (0)

TEST(test_nist_vectors)
{
    CHECK_BOTH("abc", 3,
               "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
               "ad");
    CHECK_BOTH("", 0,
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
               "55");
    const char *m448 =
        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK_INT(strlen(m448) * 8, 448);
    CHECK_BOTH(m448, strlen(m448),
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06"
               "c1");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
        "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK_INT(strlen(m896) * 8, 896);
    CHECK_BOTH(m896, strlen(m896),
               "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9"
               "d1");
    static uint8_t million[1000000];
    memset(million, 'a', sizeof million);
    const char *want_million =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    CHECK_BOTH(million, sizeof million, want_million);
    /* The same million, as the FIPS example streams it: bytes one by one
     * on the accelerated path, then in random pieces on each path. */
    struct om__sha256 s;
    om__sha256_init(&s);
    for (size_t i = 0; i < sizeof million; i++) {
        om__sha256_update(&s, "a", 1);
    }
    char hex[65];
    om__sha256_final(&s, hex);
    CHECK_STR(hex, want_million);
    struct rng r = {0x9e3779b97f4a7c15u};
    for (int portable = 0; portable < 2; portable++) {
        om__sha256_force_portable(portable);
        hash_pieces(million, sizeof million, 5000, &r, hex);
        om__sha256_force_portable(false);
        CHECK_STR(hex, want_million);
    }
}

/* Every length 0..300 (all padding cases: nbuf 55, 56, 63, 0 at final),
 * random content, random pieces; the paths must agree with each other and
 * with the one-shot portable hash. */
TEST(test_paths_agree_short)
{
    struct rng r = {0x243f6a8885a308d3u};
    uint8_t buf[300];
    for (size_t n = 0; n <= sizeof buf; n++) {
        rng_fill(&r, buf, n);
        char want[65], fast[65], slow[65];
        om__sha256_force_portable(true);
        om__sha256_hex(buf, n, want);
        for (int rep = 0; rep < 4; rep++) {
            hash_pieces(buf, n, 200, &r, slow);
            om__sha256_force_portable(false);
            hash_pieces(buf, n, 200, &r, fast);
            om__sha256_force_portable(true);
            if (strcmp(fast, want) != 0 || strcmp(slow, want) != 0) {
                om__sha256_force_portable(false);
                FAILF("length %zu: one-shot %s, pieces fast %s slow %s", n,
                      want, fast, slow);
                return;
            }
        }
    }
    /* Every split point of the 300 bytes, accelerated path. */
    om__sha256_force_portable(false);
    char want[65];
    om__sha256_hex(buf, sizeof buf, want);
    for (size_t i = 0; i <= sizeof buf; i++) {
        struct om__sha256 s;
        char hex[65];
        om__sha256_init(&s);
        om__sha256_update(&s, buf, i);
        om__sha256_update(&s, buf + i, sizeof buf - i);
        om__sha256_final(&s, hex);
        if (strcmp(hex, want) != 0) {
            FAILF("split at %zu: %s, want %s", i, hex, want);
            return;
        }
    }
}

TEST(test_paths_agree_long)
{
    struct rng r = {0x13198a2e03707344u};
    size_t n = ((size_t)5 << 20) + 13;
    uint8_t *buf = malloc(n);
    CHECK(buf != NULL);
    rng_fill(&r, buf, n);
    char want[65], fast[65], slow[65];
    om__sha256_force_portable(true);
    om__sha256_hex(buf, n, want);
    hash_pieces(buf, n, (size_t)300 << 10, &r, slow);
    om__sha256_force_portable(false);
    hash_pieces(buf, n, (size_t)300 << 10, &r, fast);
    char one[65];
    om__sha256_hex(buf, n, one);
    free(buf);
    CHECK_STR(slow, want);
    CHECK_STR(fast, want);
    CHECK_STR(one, want);
}

/* om__sha256_file on a file longer than its read chunk and not a multiple
 * of 64 bytes, against the buffer hash and sha256sum as an independent
 * oracle; an empty file; a missing file; OOM. */
TEST(test_file)
{
    char path[512], empty[512];
    snprintf(path, sizeof path, "%s/data.bin", test_tmpdir());
    snprintf(empty, sizeof empty, "%s/empty.bin", test_tmpdir());
    struct rng r = {0xa4093822299f31d0u};
    size_t n = ((size_t)3 << 20) + 77;
    uint8_t *buf = malloc(n);
    CHECK(buf != NULL);
    rng_fill(&r, buf, n);
    char want[65];
    om__sha256_hex(buf, n, want);
    FILE *f = fopen(path, "wb");
    size_t nw = f ? fwrite(buf, 1, n, f) : 0;
    free(buf);
    CHECK(f != NULL && fclose(f) == 0 && nw == n);
    f = fopen(empty, "wb");
    CHECK(f != NULL && fclose(f) == 0);

    struct om_error err;
    char hex[65];
    CHECK_OK(om__sha256_file(path, hex, &err), &err);
    CHECK_STR(hex, want);
    om__sha256_force_portable(true);
    CHECK_OK(om__sha256_file(path, hex, &err), &err);
    om__sha256_force_portable(false);
    CHECK_STR(hex, want);

    char cmd[600], line[128] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char *got = fgets(line, sizeof line, p);
    CHECK(pclose(p) == 0 && got != NULL && strlen(line) > 64);
    line[64] = '\0';
    CHECK_STR(line, want);

    CHECK_OK(om__sha256_file(empty, hex, &err), &err);
    CHECK_STR(hex,
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8"
              "55");
    remove(path);
    remove(empty);

    CHECK_STATUS(om__sha256_file(path, hex, &err), OM_EIO);
    CHECK_CONTAINS(err.msg, "cannot open");
    test_fail_allocs_after(0);
    CHECK_STATUS(om__sha256_file(empty, hex, &err), OM_ENOMEM);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_sha256");
    bool fast = om__sha256_force_portable(false);
    if (!fast) {
        printf("note: no SHA instructions on this CPU; checking the portable "
               "path only\n");
    }
    RUN(test_nist_vectors);
    RUN(test_paths_agree_short);
    RUN(test_paths_agree_long);
    RUN(test_file);
    TEST_MAIN_END();
}
