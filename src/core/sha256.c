/*
 * sha256.c — SHA-256 (FIPS 180-4) for source-file checksums in the
 * catalogue and rule-file hashes in run records.
 *
 * Two block functions compute the same thing: a portable one, and on x86
 * CPUs with the SHA extensions one built on the SHA-NI instructions (about
 * ten times faster; importing a large GeoPackage hashes the whole file).
 * The choice is made once per process from CPUID, so the library itself
 * stays built for generic x86-64.
 */
#include "core/core.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define HAVE_SHANI 0
#endif

/* Chunk size for om__sha256_file: large reads keep syscalls out of the
 * profile; on the heap because library threads may have small stacks. */
#define FILE_CHUNK (1u << 20)

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* Compress nblocks consecutive 64-byte blocks at p into h. */
typedef void blocks_fn(uint32_t h[8], const uint8_t *p, size_t nblocks);

static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    for (; nblocks > 0; nblocks--, p += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++) {
            w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
                   (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
        }
        for (int i = 16; i < 64; i++) {
            uint32_t s0 =
                ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 =
                ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
        uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int i = 0; i < 64; i++) {
            uint32_t S1 = ror(e, 6) ^ ror(e, 11) ^ ror(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = hh + S1 + ch + K[i] + w[i];
            uint32_t S0 = ror(a, 2) ^ ror(a, 13) ^ ror(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
    }
}

#if HAVE_SHANI
/*
 * SHA-NI keeps the state as two vectors, ABEF and CDGH (A in the highest
 * lane). sha256rnds2 does two rounds with the two low lanes of its message
 * operand, already summed with K; msg1/msg2 compute the message schedule
 * four words at a time.
 */
#define SHANI_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/* Four rounds with schedule words w = W[k..k+3]. */
#define RNDS4(w, k)                                                            \
    do {                                                                       \
        __m128i wk_ =                                                          \
            _mm_add_epi32((w), _mm_loadu_si128((const __m128i *)&K[k]));       \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk_);                         \
        wk_ = _mm_shuffle_epi32(wk_, 0x0E);                                    \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, wk_);                         \
    } while (0)

/* W[t..t+3] from w0 = W[t-16..], w1 = W[t-12..], w2 = W[t-8..] and
 * w3 = W[t-4..t-1]; the result replaces w0. */
#define SCHED(w0, w1, w2, w3)                                                  \
    ((w0) =                                                                    \
         _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32((w0), (w1)),  \
                                            _mm_alignr_epi8((w3), (w2), 4)),   \
                              (w3)))

SHANI_TARGET
static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t nblocks)
{
    /* Byte swap within each 32-bit word: the message is big-endian. */
    const __m128i bswap =
        _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

    for (; nblocks > 0; nblocks--, p += 64) {
        __m128i abef_in = abef, cdgh_in = cdgh;
        __m128i m0 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), bswap);
        __m128i m1 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i m2 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i m3 =
            _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        RNDS4(m0, 0);
        RNDS4(m1, 4);
        RNDS4(m2, 8);
        RNDS4(m3, 12);
        for (int t = 16; t < 64; t += 16) {
            SCHED(m0, m1, m2, m3);
            RNDS4(m0, t);
            SCHED(m1, m2, m3, m0);
            RNDS4(m1, t + 4);
            SCHED(m2, m3, m0, m1);
            RNDS4(m2, t + 8);
            SCHED(m3, m0, m1, m2);
            RNDS4(m3, t + 12);
        }
        abef = _mm_add_epi32(abef, abef_in);
        cdgh = _mm_add_epi32(cdgh, cdgh_in);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    dcba = _mm_blend_epi16(feba, dchg, 0xF0);
    hgfe = _mm_alignr_epi8(dchg, feba, 8);
    _mm_storeu_si128((__m128i *)&h[0], dcba);
    _mm_storeu_si128((__m128i *)&h[4], hgfe);
}

#undef RNDS4
#undef SCHED

/* CPUID: SSSE3 and SSE4.1 (leaf 1 ecx bits 9, 19) and SHA (leaf 7 ebx bit
 * 29). The instructions use only XMM state, so no XGETBV check is needed.
 * Read directly rather than with __builtin_cpu_supports, which needs
 * libgcc's __cpu_model (awkward in the shared library) and whose "sha"
 * name not every compiler knows. */
static bool cpu_has_shani(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) {
        return false;
    }
    if (!(c & (1u << 9)) || !(c & (1u << 19))) {
        return false;
    }
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        return false;
    }
    return (b & (1u << 29)) != 0;
}
#endif

/* 0 = not yet probed, 1 = portable only, 2 = SHA-NI usable. Probing is
 * idempotent, so threads racing on the first call just store the same
 * value. */
static atomic_int cpu_level;
static atomic_bool force_portable;

static int probe_cpu(void)
{
    int level = atomic_load_explicit(&cpu_level, memory_order_relaxed);
    if (level == 0) {
#if HAVE_SHANI
        level = cpu_has_shani() ? 2 : 1;
#else
        level = 1;
#endif
        atomic_store_explicit(&cpu_level, level, memory_order_relaxed);
    }
    return level;
}

static blocks_fn *pick_blocks(void)
{
#if HAVE_SHANI
    if (probe_cpu() == 2 &&
        !atomic_load_explicit(&force_portable, memory_order_relaxed)) {
        return blocks_shani;
    }
#endif
    return blocks_portable;
}

bool om__sha256_force_portable(bool on)
{
    atomic_store_explicit(&force_portable, on, memory_order_relaxed);
    return probe_cpu() == 2;
}

void om__sha256_init(struct om__sha256 *s)
{
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                   0xa54ff53a, 0x510e527f, 0x9b05688c,
                                   0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, h0, sizeof h0);
    s->len = 0;
    s->nbuf = 0;
}

void om__sha256_update(struct om__sha256 *s, const void *data, size_t n)
{
    if (n == 0) {
        return; /* data may be NULL */
    }
    const uint8_t *p = data;
    blocks_fn *blocks = pick_blocks();
    s->len += n;
    if (s->nbuf > 0) {
        size_t k = 64 - s->nbuf < n ? 64 - s->nbuf : n;
        memcpy(s->buf + s->nbuf, p, k);
        s->nbuf += k;
        p += k;
        n -= k;
        if (s->nbuf < 64) {
            return;
        }
        blocks(s->h, s->buf, 1);
        s->nbuf = 0;
    }
    size_t nblocks = n / 64;
    if (nblocks > 0) {
        blocks(s->h, p, nblocks);
        p += 64 * nblocks;
        n -= 64 * nblocks;
    }
    if (n > 0) {
        memcpy(s->buf, p, n);
        s->nbuf = n;
    }
}

void om__sha256_final(struct om__sha256 *s, char hex[65])
{
    uint64_t bits = s->len * 8;
    /* 0x80, zeros up to 56 mod 64, then the bit length big-endian. */
    uint8_t pad[72] = {0x80};
    size_t npad = (s->nbuf < 56 ? 56 : 120) - s->nbuf;
    for (int i = 0; i < 8; i++) {
        pad[npad + i] = (uint8_t)(bits >> (56 - 8 * i));
    }
    om__sha256_update(s, pad, npad + 8);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 4; j++) {
            uint8_t byte = (uint8_t)(s->h[i] >> (24 - 8 * j));
            hex[8 * i + 2 * j] = digits[byte >> 4];
            hex[8 * i + 2 * j + 1] = digits[byte & 15];
        }
    }
    hex[64] = '\0';
}

void om__sha256_hex(const void *data, size_t len, char hex[65])
{
    struct om__sha256 s;
    om__sha256_init(&s);
    om__sha256_update(&s, data, len);
    om__sha256_final(&s, hex);
}

enum om_status om__sha256_file(const char *path, char hex[65],
                               struct om_error *err)
{
    unsigned char *buf = om__malloc(FILE_CHUNK);
    if (!buf) {
        return om__enomem(err, path);
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        om__free(buf);
        return om__error(err, OM_EIO, path, 0, -1, "cannot open: %s",
                         strerror(e));
    }
    struct om__sha256 s;
    om__sha256_init(&s);
    size_t n;
    while ((n = fread(buf, 1, FILE_CHUNK, f)) > 0) {
        om__sha256_update(&s, buf, n);
    }
    int bad = ferror(f);
    fclose(f);
    om__free(buf);
    if (bad) {
        return om__error(err, OM_EIO, path, 0, -1, "read error");
    }
    om__sha256_final(&s, hex);
    return OM_OK;
}
