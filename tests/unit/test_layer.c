/*
 * test_layer.c — the flat layer, Hilbert order, packed R-tree, planar area
 * and the core helpers (errors, buffers, arena, sha256).
 */
#include "core/core.h"
#include "geom/layer_int.h"
#include "onemap/geom.h"
#include "onemap/layer.h"
#include "test.h"

#include "index/hilbert.h"

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* n random squares; fid = 1000 + i, field "id" = i, "name" = "f<i>". */
static enum om_status make_squares(size_t n, struct om_layer **out,
                                   struct om_error *err)
{
    struct om_layer *l = NULL;
    int fi, fn, fr;
    enum om_status st = om_layer_new("SQ", &l, err);
    if (st) {
        return st;
    }
    if ((st = om_layer_add_field(l, "id", OM_FIELD_INT, &fi, err)) ||
        (st = om_layer_add_field(l, "name", OM_FIELD_TEXT, &fn, err)) ||
        (st = om_layer_add_field(l, "area", OM_FIELD_REAL, &fr, err))) {
        om_layer_free(l);
        return st;
    }
    for (size_t i = 0; i < n; i++) {
        double x = 42500000 + rnd() * 10000, y = 4800000 + rnd() * 10000;
        double s = 1 + rnd() * 50;
        double ring[8] = {x, y, x + s, y, x + s, y + s, x, y + s};
        char name[32];
        snprintf(name, sizeof name, "f%zu", i);
        if ((st = om_layer_begin_feature(l, (int64_t)(1000 + i), err)) ||
            (st = om_layer_begin_part(l, err)) ||
            (st = om_layer_add_ring(l, ring, 4, err)) ||
            (st = om_layer_set_int(l, fi, (int64_t)i, err)) ||
            (st = om_layer_set_text(l, fn, name, err)) ||
            (st = om_layer_set_real(l, fr, ((x + s) - x) * ((y + s) - y),
                                    err)) ||
            (st = om_layer_end_feature(l, err))) {
            om_layer_free(l);
            return st;
        }
    }
    st = om_layer_finish(l, 0, err);
    if (st) {
        om_layer_free(l);
        return st;
    }
    *out = l;
    return OM_OK;
}

TEST(test_build_and_sort)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(make_squares(5000, &l, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    CHECK_INT(v.nfeatures, 5000);
    CHECK_INT(v.npoints, 5000 * 5);         /* rings closed on input */
    int fi = om_layer_field_index(l, "ID"); /* case-insensitive */
    int fn = om_layer_field_index(l, "name");
    int fr = om_layer_field_index(l, "area");
    CHECK(fi == 0 && fn == 1 && fr == 2);
    size_t moved = 0;
    for (size_t f = 0; f < v.nfeatures; f++) {
        int64_t id = om_layer_get_int(l, f, fi);
        CHECK_INT(v.fid[f], 1000 + id);
        char want[32];
        snprintf(want, sizeof want, "f%lld", (long long)id);
        CHECK_STR(om_layer_get_text(l, f, fn), want);
        CHECK_NEAR(om_feature_area_planar(&v, f), om_layer_get_real(l, f, fr),
                   1e-14, 0);
        CHECK_INT(om_layer_find_fid(l, v.fid[f]), f);
        moved += (size_t)id != f;
        size_t a = v.point_start[v.ring_start[v.part_start[f]]];
        CHECK(v.xy[2 * a] >= v.bbox[f].minx && v.xy[2 * a] <= v.bbox[f].maxx);
    }
    CHECK(moved > 0); /* Hilbert order differs from input order */
    for (size_t r = 0; r < 5000; r++) {
        size_t f = om_layer_feature_by_fid_rank(l, r);
        CHECK_INT(v.fid[f], 1000 + (int64_t)r);
    }
    CHECK_INT(om_layer_find_fid(l, 7), (size_t)-1);
    om_layer_free(l);
}

struct collect {
    size_t *items;
    size_t n;
};
static bool collect_fn(void *ctx, size_t item)
{
    struct collect *c = ctx;
    c->items[c->n++] = item;
    return true;
}
static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

TEST(test_rtree_matches_brute_force)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(make_squares(3000, &l, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    const struct om_rtree *t = om_layer_index(l);
    CHECK(t != NULL);
    CHECK_INT(om_rtree_count(t), 3000);
    size_t *got = malloc(3000 * sizeof *got),
           *want = malloc(3000 * sizeof *want);
    for (int q = 0; q < 200; q++) {
        double x = 42500000 + rnd() * 10000, y = 4800000 + rnd() * 10000;
        double w = rnd() * 800;
        struct om_rect r = {x, y, x + w, y + w * rnd()};
        struct collect c = {got, 0};
        om_rtree_search(t, r, collect_fn, &c);
        size_t nw = 0;
        for (size_t f = 0; f < v.nfeatures; f++) {
            if (om_rect_intersects(v.bbox[f], r)) {
                want[nw++] = f;
            }
        }
        qsort(got, c.n, sizeof *got, cmp_size);
        if (c.n != nw || memcmp(got, want, nw * sizeof *got) != 0) {
            free(got);
            free(want);
            om_layer_free(l);
            FAILF("query %d: rtree found %zu, brute force %zu", q, c.n, nw);
            return;
        }
    }
    free(got);
    free(want);
    om_layer_free(l);
}

TEST(test_holes_multipart_empty_and_invalid)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_OK(om_layer_new("T", &l, &err), &err);
    double shell[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double hole[] = {2, 2, 2, 4, 4, 4, 4, 2};
    double other[] = {20, 0, 21, 0, 21, 1};
    double nan_ring[] = {0, 0, NAN, 1, 1, 1};
    CHECK_OK(om_layer_begin_feature(l, 1, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err);
    CHECK_OK(om_layer_add_ring(l, shell, 5, &err), &err);
    CHECK_OK(om_layer_add_ring(l, hole, 4, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err);
    CHECK_OK(om_layer_add_ring(l, other, 3, &err), &err);
    CHECK_OK(om_layer_end_feature(l, &err), &err);
    CHECK_OK(om_layer_begin_feature(l, 2, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err); /* part without rings */
    CHECK_OK(om_layer_end_feature(l, &err), &err);
    CHECK_OK(om_layer_begin_feature(l, 3, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err);
    CHECK_OK(om_layer_add_ring(l, nan_ring, 3, &err), &err);
    CHECK_OK(om_layer_end_feature(l, &err), &err);
    CHECK_OK(om_layer_begin_feature(l, 4, &err), &err);
    CHECK_OK(om_layer_begin_part(l, &err), &err);
    CHECK_OK(om_layer_add_ring(l, shell, 5, &err), &err);
    om_layer_abort_feature(l);
    CHECK_OK(om_layer_finish(l, OM_LAYER_KEEP_ORDER, &err), &err);
    struct om_layer_view v;
    om_layer_view(l, &v);
    CHECK_INT(v.nfeatures, 3);
    CHECK_INT(v.nparts, 3);
    CHECK_INT(v.nrings, 4);
    CHECK_NEAR(om_feature_area_planar(&v, 0), 100 - 4 + 0.5, 1e-15, 0);
    CHECK(v.flags[1] & OM_FEAT_EMPTY);
    CHECK(v.flags[2] & OM_FEAT_INVALID);
    CHECK(!(v.flags[0] & (OM_FEAT_INVALID | OM_FEAT_EMPTY)));
    CHECK_INT(om_layer_count_flag(l, OM_FEAT_EMPTY), 1);
    CHECK_INT(om_feature_npoints(&v, 0), 5 + 5 + 4);
    CHECK_INT(om_feature_npoints(&v, 1), 0);
    /* read-only after finish */
    CHECK_STATUS(om_layer_begin_feature(l, 9, &err), OM_EINVAL);
    om_layer_free(l);
}

TEST(test_bad_calls)
{
    struct om_error err;
    struct om_layer *l = NULL;
    CHECK_STATUS(om_layer_new("", &l, &err), OM_EINVAL);
    CHECK(l == NULL);
    CHECK_OK(om_layer_new("B", &l, &err), &err);
    int f;
    CHECK_OK(om_layer_add_field(l, "DLBM", OM_FIELD_TEXT, &f, &err), &err);
    CHECK_STATUS(om_layer_add_field(l, "dlbm", OM_FIELD_INT, NULL, &err),
                 OM_EEXIST);
    CHECK_CONTAINS(err.msg, "duplicate field");
    double r[] = {0, 0, 1, 0, 1, 1};
    CHECK_STATUS(om_layer_add_ring(l, r, 3, &err), OM_EINVAL);
    CHECK_OK(om_layer_begin_feature(l, 5, &err), &err);
    CHECK_STATUS(om_layer_add_ring(l, r, 3, &err), OM_EINVAL);
    CHECK_INT(err.feature, 5);
    CHECK_STATUS(om_layer_set_int(l, f, 3, &err), OM_EINVAL);
    CHECK_CONTAINS(err.msg, "is text");
    CHECK_STATUS(om_layer_add_field(l, "X", OM_FIELD_INT, NULL, &err),
                 OM_EINVAL);
    om_layer_free(l);
    om_layer_free(NULL);
}

TEST(test_oom_everywhere)
{
    /* Fail each allocation in turn: never a crash, never a leak. */
    for (int k = 0; k < 400; k++) {
        struct om_error err;
        struct om_layer *l = NULL;
        test_fail_allocs_after(k);
        enum om_status st = make_squares(40, &l, &err);
        test_fail_allocs_after(-1);
        if (st == OM_OK) {
            om_layer_free(l);
            return;
        }
        CHECK_INT(st, OM_ENOMEM);
        CHECK(l == NULL);
    }
    FAILF("never succeeded");
}

TEST(test_planar_area_precision)
{
    /* A 1 m square at 8-digit eastings: exactly 1. */
    double sq[] = {42512345.25, 4812345.5, 42512346.25, 4812345.5,
                   42512346.25, 4812346.5, 42512345.25, 4812346.5,
                   42512345.25, 4812345.5};
    CHECK(om_ring_area_planar(sq, 5) == 1.0);
    double cw[] = {0, 0, 0, 2, 3, 2, 3, 0, 0, 0};
    CHECK(om_ring_area_planar(cw, 5) == -6.0);
}

TEST(test_core_helpers)
{
    char hex[65];
    om__sha256_hex("abc", 3, hex);
    CHECK_STR(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    om__sha256_hex("", 0, hex);
    CHECK_STR(
        hex,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    struct om__buf b;
    om__buf_init(&b, 10);
    CHECK_INT(om__buf_puts(&b, "hello"), OM_OK);
    CHECK_INT(om__buf_puts(&b, "world!"), OM_ELIMIT);
    CHECK_STR(b.data, "hello");
    om__buf_deinit(&b);
    struct om__arena a;
    om__arena_init(&a);
    for (int i = 0; i < 10000; i++) {
        char *s = om__arena_strdup(&a, "abc");
        CHECK(s && ((uintptr_t)s & 15) == 0);
    }
    om__arena_deinit(&a);
    struct om_error err;
    om__error(&err, OM_EPARSE, "site.txt", 12, -1, "bad number '%s'", "1,2");
    char line[600];
    CHECK_STR(om_error_format(&err, line, sizeof line),
              "site.txt:12: bad number '1,2'");
    om__error(&err, OM_EGEOM, "DLTB", 0, 42, "self-intersection");
    CHECK_STR(om_error_format(&err, line, sizeof line),
              "DLTB: feature 42: self-intersection");
    CHECK_STR(om_status_name(OM_ELIMIT), "OM_ELIMIT");
}

/* The textbook Hilbert index (xy2d): the reference for om__hilbert_xy. */
static uint32_t hilbert_ref(uint32_t x, uint32_t y)
{
    const uint32_t n = 1u << 16;
    uint32_t d = 0;
    for (uint32_t s = n / 2; s > 0; s /= 2) {
        uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
        d += s * s * ((3 * rx) ^ ry);
        if (ry == 0) {
            if (rx == 1) {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            uint32_t t = x;
            x = y;
            y = t;
        }
    }
    return d;
}

/* om__hilbert_xy is that index: on a full 512 x 512 corner of the grid,
 * the grid's edges and 10^6 random points; and it visits the 2^32 keys of
 * a 256 x 256 block as a curve (neighbouring keys are neighbouring cells). */
TEST(test_hilbert_xy)
{
    size_t bad = 0;
    for (uint32_t x = 0; x < 512; x++) {
        for (uint32_t y = 0; y < 512; y++) {
            bad += om__hilbert_xy(x, y) != hilbert_ref(x, y);
            bad += om__hilbert_xy(65535 - x, y) != hilbert_ref(65535 - x, y);
        }
    }
    for (uint32_t t = 0; t < 65536; t += 7) {
        bad += om__hilbert_xy(t, 65535) != hilbert_ref(t, 65535);
        bad += om__hilbert_xy(65535, t) != hilbert_ref(65535, t);
    }
    uint32_t r = 987654321u;
    for (int i = 0; i < 1000000; i++) {
        r = r * 1664525u + 1013904223u;
        uint32_t x = r >> 16, y = r & 0xffff;
        bad += om__hilbert_xy(x, y) != hilbert_ref(x, y);
    }
    CHECK_INT(bad, 0);
    /* keys 0 .. 65535 fill the 256 x 256 block at the origin, each step
     * one cell */
    uint32_t *px = calloc(65536, sizeof *px), *py = calloc(65536, sizeof *py);
    CHECK(px && py);
    for (uint32_t x = 0; x < 256; x++) {
        for (uint32_t y = 0; y < 256; y++) {
            uint32_t d = om__hilbert_xy(x, y);
            CHECK(d < 65536);
            px[d] = x;
            py[d] = y;
        }
    }
    size_t jumps = 0;
    for (size_t d = 1; d < 65536; d++) {
        uint32_t dx = px[d] > px[d - 1] ? px[d] - px[d - 1] : px[d - 1] - px[d];
        uint32_t dy = py[d] > py[d - 1] ? py[d] - py[d - 1] : py[d - 1] - py[d];
        jumps += dx + dy != 1;
    }
    CHECK_INT(jumps, 0);
    free(px);
    free(py);
}

/* om__hilbert_order is a stable sort by key on both of its paths (the
 * insertion sort for small n, the radix sort above). */
TEST(test_hilbert_order_stable)
{
    static const size_t sizes[] = {0, 1, 2, 17, 64, 65, 1000, 200000};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t n = sizes[si];
        uint32_t *keys = malloc((n ? n : 1) * sizeof *keys);
        size_t *perm = malloc((n ? n : 1) * sizeof *perm);
        CHECK(keys && perm);
        uint32_t x = 12345u;
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            /* few distinct keys, spread over both 16-bit halves */
            keys[i] = (x >> 8) % 7u * 0x10001u;
        }
        CHECK(om__hilbert_order(keys, n, perm));
        for (size_t i = 1; i < n; i++) {
            CHECK(
                keys[perm[i - 1]] < keys[perm[i]] ||
                (keys[perm[i - 1]] == keys[perm[i]] && perm[i - 1] < perm[i]));
        }
        free(keys);
        free(perm);
    }
}

/* om__layer_append: parts read separately make the layer built in one;
 * other fields or a finished layer are refused and leave dst as it was. */
TEST(test_append)
{
    struct om_layer *one = NULL, *a = NULL, *b = NULL, *c = NULL;
    struct om_error err;
    struct om_layer **ls[] = {&one, &a, &b, &c};
    for (int k = 0; k < 4; k++) {
        CHECK_OK(om_layer_new("t", ls[k], &err), &err);
        CHECK_OK(om_layer_add_field(*ls[k], "DLBM", OM_FIELD_TEXT, NULL, &err),
                 &err);
        if (k < 3) {
            CHECK_OK(om_layer_add_field(*ls[k], "N", OM_FIELD_INT, NULL, &err),
                     &err);
        }
    }
    for (int f = 0; f < 40; f++) {
        struct om_layer *dst[] = {one, f < 25 ? a : b};
        for (int k = 0; k < 2; k++) {
            struct om_layer *l = dst[k];
            double x = f * 10.0;
            double r[] = {x, 0, x + 5, 0, x + 5, 5 + f, x, 5 + f, x, 0};
            CHECK_OK(om_layer_begin_feature(l, 100 - f, &err), &err);
            if (f % 7 != 3) { /* some empty features */
                CHECK_OK(om_layer_begin_part(l, &err), &err);
                CHECK_OK(om_layer_add_ring(l, r, 5, &err), &err);
            }
            if (f % 3) {
                char v[16];
                snprintf(v, sizeof v, "%04d", f);
                CHECK_OK(om_layer_set_text(l, 0, v, &err), &err);
            }
            CHECK_OK(om_layer_set_int(l, 1, f, &err), &err);
            CHECK_OK(om_layer_end_feature(l, &err), &err);
        }
    }
    CHECK_STATUS(om__layer_append(a, c, &err), OM_EINVAL);
    CHECK_INT(om_layer_nfeatures(a), 25);
    CHECK_OK(om__layer_append(a, b, &err), &err);
    CHECK_INT(om_layer_nfeatures(b), 15);
    CHECK_OK(om_layer_finish(a, 0, &err), &err);
    CHECK_OK(om_layer_finish(one, 0, &err), &err);
    struct om_layer_view va, vo;
    om_layer_view(a, &va);
    om_layer_view(one, &vo);
    CHECK_INT(va.nfeatures, vo.nfeatures);
    CHECK_INT(va.npoints, vo.npoints);
    CHECK(memcmp(va.fid, vo.fid, vo.nfeatures * sizeof *vo.fid) == 0);
    CHECK(memcmp(va.flags, vo.flags, vo.nfeatures) == 0);
    CHECK(memcmp(va.xy, vo.xy, 2 * vo.npoints * sizeof *vo.xy) == 0);
    CHECK(memcmp(va.part_start, vo.part_start,
                 (vo.nfeatures + 1) * sizeof *vo.part_start) == 0);
    for (size_t f = 0; f < vo.nfeatures; f++) {
        CHECK_INT(om_layer_is_null(a, f, 0), om_layer_is_null(one, f, 0));
        if (!om_layer_is_null(one, f, 0)) {
            CHECK_STR(om_layer_get_text(a, f, 0), om_layer_get_text(one, f, 0));
        }
        CHECK_INT(om_layer_get_int(a, f, 1), om_layer_get_int(one, f, 1));
    }
    CHECK(om_rect_is_empty(om_layer_extent(a)) == false);
    CHECK(om_layer_extent(a).maxx == om_layer_extent(one).maxx);
    CHECK_STATUS(om__layer_append(a, b, &err), OM_EINVAL); /* finished */
    for (int k = 0; k < 4; k++) {
        om_layer_free(*ls[k]);
    }
}

/* A layer of n features, the same for the same seed: one to three parts,
 * some with a hole, some empty; fid 1000 + i; an int, a text and a real
 * column with some nulls. */
/* Feature i of the mixed sequence (draws from rnd) into l, fields 0 1 2. */
static bool mixed_feature(struct om_layer *l, size_t i, struct om_error *err)
{
    bool ok = om_layer_begin_feature(l, (int64_t)(1000 + i), err) == OM_OK;
    int parts = i % 11 == 5 ? 0 : 1 + (int)(rnd() * 3);
    for (int p = 0; ok && p < parts; p++) {
        double x = 500000 + rnd() * 20000, y = 4800000 + rnd() * 20000;
        double sz = 10 + rnd() * 40;
        double shell[] = {x, y, x + sz, y, x + sz, y + sz, x, y + sz};
        double hole[] = {x + 2, y + 2, x + 2, y + 4, x + 4, y + 4};
        ok = om_layer_begin_part(l, err) == OM_OK &&
             om_layer_add_ring(l, shell, 4, err) == OM_OK &&
             (rnd() < 0.5 || om_layer_add_ring(l, hole, 3, err) == OM_OK);
    }
    char name[24];
    snprintf(name, sizeof name, "n%zu", i * 7);
    return ok && om_layer_set_int(l, 0, (int64_t)i * 3, err) == OM_OK &&
           (i % 4 == 1 || om_layer_set_text(l, 1, name, err) == OM_OK) &&
           (i % 5 == 2 ||
            om_layer_set_real(l, 2, (double)i / 7.0, err) == OM_OK) &&
           om_layer_end_feature(l, err) == OM_OK;
}

/* An unfinished layer with the fields of the mixed sequence. */
static struct om_layer *mixed_empty(void)
{
    struct om_layer *l = NULL;
    struct om_error err;
    if (om_layer_new("MIX", &l, &err) != OM_OK) {
        return NULL;
    }
    if (om_layer_add_field(l, "id", OM_FIELD_INT, NULL, &err) != OM_OK ||
        om_layer_add_field(l, "name", OM_FIELD_TEXT, NULL, &err) != OM_OK ||
        om_layer_add_field(l, "v", OM_FIELD_REAL, NULL, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/*
 * n features of the mixed sequence from `seed`: some without parts, some
 * with holes, NULL texts and reals; fid 1000 + i.
 */
static struct om_layer *mixed_layer(size_t n, uint64_t seed, unsigned flags)
{
    rng_state = seed;
    struct om_error err;
    struct om_layer *l = mixed_empty();
    bool ok = l != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = mixed_feature(l, i, &err);
    }
    ok = ok && om_layer_finish(l, flags, &err) == OM_OK;
    if (!ok) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* Feature f of a against feature g of b: geometry, box, flags, columns. */
static bool same_feature(const struct om_layer *a, size_t f,
                         const struct om_layer *b, size_t g)
{
    struct om_layer_view va, vb;
    om_layer_view(a, &va);
    om_layer_view(b, &vb);
    if (va.fid[f] != vb.fid[g] || va.flags[f] != vb.flags[g] ||
        memcmp(&va.bbox[f], &vb.bbox[g], sizeof va.bbox[f]) != 0 ||
        va.part_start[f + 1] - va.part_start[f] !=
            vb.part_start[g + 1] - vb.part_start[g]) {
        return false;
    }
    for (size_t k = 0; k < va.part_start[f + 1] - va.part_start[f]; k++) {
        size_t pa = va.part_start[f] + k, pb = vb.part_start[g] + k;
        if (va.ring_start[pa + 1] - va.ring_start[pa] !=
            vb.ring_start[pb + 1] - vb.ring_start[pb]) {
            return false;
        }
        for (size_t m = 0; m < va.ring_start[pa + 1] - va.ring_start[pa]; m++) {
            size_t ra = va.ring_start[pa] + m, rb = vb.ring_start[pb] + m;
            size_t n = va.point_start[ra + 1] - va.point_start[ra];
            if (n != vb.point_start[rb + 1] - vb.point_start[rb] ||
                memcmp(va.xy + 2 * va.point_start[ra],
                       vb.xy + 2 * vb.point_start[rb],
                       2 * n * sizeof *va.xy) != 0) {
                return false;
            }
        }
    }
    for (int c = 0; c < 3; c++) {
        if (om_layer_is_null(a, f, c) != om_layer_is_null(b, g, c)) {
            return false;
        }
    }
    const char *ta = om_layer_get_text(a, f, 1),
               *tb = om_layer_get_text(b, g, 1);
    return om_layer_get_int(a, f, 0) == om_layer_get_int(b, g, 0) &&
           (om_layer_is_null(a, f, 1) || strcmp(ta, tb) == 0) &&
           (om_layer_is_null(a, f, 2) ||
            om_layer_get_real(a, f, 2) == om_layer_get_real(b, g, 2));
}

/*
 * The Hilbert reordering on 1 to 5 threads gives the same layer, and every
 * feature is its source feature (the layer kept in source order: feature
 * fid - 1000), rings, points, box, flags and columns.
 */
TEST(test_reorder_threads)
{
    int saved = om__layer_permute_threads;
    struct om_layer *src = mixed_layer(3001, 12345, OM_LAYER_KEEP_ORDER);
    CHECK(src != NULL);
    struct om_layer *one = NULL;
    for (int t = 1; src && t <= 5; t++) {
        om__layer_permute_threads = t;
        struct om_layer *l = mixed_layer(3001, 12345, 0);
        CHECK(l != NULL);
        if (!l) {
            break;
        }
        struct om_layer_view v;
        om_layer_view(l, &v);
        CHECK_INT(v.nfeatures, 3001);
        size_t bad = 0;
        for (size_t f = 0; f < v.nfeatures; f++) {
            bad += !same_feature(l, f, src, (size_t)(v.fid[f] - 1000));
            bad += one && !same_feature(l, f, one, f);
        }
        CHECK_INT(bad, 0);
        /* reordered at all: not the source order */
        CHECK(v.fid[0] != 1000 || v.fid[1] != 1001 || v.fid[2] != 1002);
        if (!one) {
            one = l;
        } else {
            om_layer_free(l);
        }
    }
    om__layer_permute_threads = saved;
    om_layer_free(one);
    om_layer_free(src);
}

/*
 * Large blocks are advised to huge pages (core/alloc.c): growing one
 * block step by step to 96 MiB, shrinking it and a large zeroed block keep
 * their contents (the advice must cover the block's whole mapping, or
 * realloc's mremap fails and copies; a wrong range or advice would lose
 * data).
 */
TEST(test_large_blocks)
{
    uint64_t *v = NULL;
    size_t cap = 0, n = 0;
    bool ok = true;
    for (size_t want = 1000; ok && want <= (96u << 20) / 8; want *= 3) {
        ok = om__grow((void **)&v, &cap, want, sizeof *v);
        CHECK(ok);
        for (; ok && n < want; n++) {
            v[n] = n * 2654435761u;
        }
        size_t bad = 0;
        for (size_t i = 0; ok && i < n; i++) {
            bad += v[i] != i * 2654435761u;
        }
        CHECK_INT(bad, 0);
    }
    uint64_t *w = ok ? om__realloc(v, (n / 2) * sizeof *v) : NULL;
    CHECK(w != NULL);
    if (w) {
        v = w;
        size_t bad = 0;
        for (size_t i = 0; i < n / 2; i++) {
            bad += v[i] != i * 2654435761u;
        }
        CHECK_INT(bad, 0);
    }
    om__free(v);
    size_t nz = (48u << 20) + 12345;
    unsigned char *z = om__calloc(nz, 1);
    CHECK(z != NULL);
    size_t nonzero = 0;
    for (size_t i = 0; z && i < nz; i++) {
        nonzero += z[i] != 0;
    }
    CHECK_INT(nonzero, 0);
    om__free(z);
}

/*
 * om__layer_finish_parts: the same sequence cut into parts (some empty)
 * and finished at once is, feature for feature (geometry, box, fid, flags,
 * columns with NULLs and texts from every part's pool), the layer of one
 * piece finished with the same flags, for Hilbert order and source order,
 * on 1 and 3 threads, with and without an R-tree (OM_LAYER_NO_INDEX); the
 * fid lookup agrees. Bad calls fail cleanly.
 */
TEST(test_finish_parts)
{
    int saved = om__layer_permute_threads;
    const size_t n = 2500;
    const size_t cuts[][5] = {{0, 1250, 2500, 2500, 2500},
                              {0, 0, 700, 701, 2500},
                              {0, 10, 2400, 2490, 2500}};
    for (unsigned flags = 0; flags <= (OM_LAYER_KEEP_ORDER | OM_LAYER_NO_INDEX);
         flags++) {
        struct om_layer *whole = mixed_layer(n, 777, flags);
        CHECK(whole != NULL);
        for (size_t c = 0; whole && c < 3; c++) {
            for (int t = 1; t <= 3; t += 2) {
                om__layer_permute_threads = t;
                struct om_layer *parts[4] = {0};
                bool ok = true;
                for (size_t k = 0; k < 4; k++) {
                    parts[k] = mixed_empty();
                    ok = ok && parts[k];
                }
                rng_state = 777;
                struct om_error err;
                for (size_t k = 0; ok && k < 4; k++) {
                    for (size_t i = cuts[c][k]; ok && i < cuts[c][k + 1]; i++) {
                        ok = mixed_feature(parts[k], i, &err);
                    }
                }
                CHECK(ok);
                CHECK_OK(om__layer_finish_parts(parts, 4, flags, &err), &err);
                CHECK(parts[1] == NULL && parts[2] == NULL && parts[3] == NULL);
                struct om_layer *l = parts[0];
                CHECK(om_layer_is_finished(l));
                CHECK((om_layer_index(l) == NULL) ==
                      ((flags & OM_LAYER_NO_INDEX) != 0));
                CHECK_INT(om_layer_nfeatures(l), n);
                size_t bad = 0;
                for (size_t f = 0; f < n; f++) {
                    bad += !same_feature(l, f, whole, f);
                    bad += om_layer_find_fid(l, (int64_t)(1000 + f)) !=
                           om_layer_find_fid(whole, (int64_t)(1000 + f));
                }
                CHECK_INT(bad, 0);
                struct om_rect a = om_layer_extent(l),
                               b = om_layer_extent(whole);
                CHECK(memcmp(&a, &b, sizeof a) == 0);
                for (size_t k = 0; k < 4; k++) {
                    om_layer_free(parts[k]);
                }
            }
        }
        om_layer_free(whole);
    }
    om__layer_permute_threads = saved;
    /* other fields, a finished part, too many parts */
    struct om_error err;
    struct om_layer *a = mixed_empty(), *b = NULL;
    CHECK_OK(om_layer_new("OTHER", &b, &err), &err);
    struct om_layer *two[] = {a, b};
    CHECK_STATUS(om__layer_finish_parts(two, 2, 0, &err), OM_EINVAL);
    CHECK(two[1] == b);
    om_layer_free(b);
    b = mixed_empty();
    CHECK_OK(om_layer_finish(b, 0, &err), &err);
    two[1] = b;
    CHECK_STATUS(om__layer_finish_parts(two, 2, 0, &err), OM_EINVAL);
    struct om_layer *many[OM__LAYER_MAX_PARTS + 1];
    for (size_t k = 0; k <= OM__LAYER_MAX_PARTS; k++) {
        many[k] = a;
    }
    CHECK_STATUS(om__layer_finish_parts(many, OM__LAYER_MAX_PARTS + 1, 0, &err),
                 OM_EINVAL);
    om_layer_free(a);
    om_layer_free(b);
}

int main(void)
{
    TEST_MAIN_BEGIN("test_layer");
    RUN(test_hilbert_xy);
    RUN(test_hilbert_order_stable);
    RUN(test_build_and_sort);
    RUN(test_rtree_matches_brute_force);
    RUN(test_holes_multipart_empty_and_invalid);
    RUN(test_bad_calls);
    RUN(test_oom_everywhere);
    RUN(test_planar_area_precision);
    RUN(test_core_helpers);
    RUN(test_append);
    RUN(test_reorder_threads);
    RUN(test_large_blocks);
    RUN(test_finish_parts);
    TEST_MAIN_END();
}
