/*
 * test.h — the tiny unit-test harness: one header, no library.
 *
 * A test file defines `static void test_x(void)` functions with TEST(), and
 * lists them in main with RUN(). Each test runs with a counting allocator
 * installed (om_set_allocator): a test that leaks library memory fails.
 * The counters are atomic: library code under test may allocate from
 * several threads. Output, one line per test: "PASS <file>:<name>" or
 * "FAIL <file>:<name>: <why>"; tests/run counts these lines.
 *
 * SHARED_DATA is the path of ../shared/data (env ONEMAP_SHARED_DATA
 * overrides); tests needing it call test_data_path().
 */
#ifndef ONEMAP_TEST_H
#define ONEMAP_TEST_H

#include "onemap/status.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int test_failed_;
static int test_npass_, test_nfail_;
static const char *test_file_;
static long test_live_allocs_;
static int test_fail_after_ = -1; /* fail the Nth allocation (0-based) */
static long test_nallocs_;

static void *test_malloc_(void *ctx, size_t n)
{
    (void)ctx;
    if (test_fail_after_ >= 0 &&
        __atomic_fetch_add(&test_nallocs_, 1, __ATOMIC_RELAXED) >=
            test_fail_after_) {
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (p) {
        __atomic_fetch_add(&test_live_allocs_, 1, __ATOMIC_RELAXED);
    }
    return p;
}
static void *test_realloc_(void *ctx, void *p, size_t n)
{
    (void)ctx;
    if (test_fail_after_ >= 0 &&
        __atomic_fetch_add(&test_nallocs_, 1, __ATOMIC_RELAXED) >=
            test_fail_after_) {
        return NULL;
    }
    void *q = realloc(p, n ? n : 1);
    if (q && !p) {
        __atomic_fetch_add(&test_live_allocs_, 1, __ATOMIC_RELAXED);
    }
    return q;
}
static void test_free_(void *ctx, void *p)
{
    (void)ctx;
    if (p) {
        __atomic_fetch_sub(&test_live_allocs_, 1, __ATOMIC_RELAXED);
    }
    free(p);
}

#define TEST(name) static void name(void)

#define FAILF(...)                                                             \
    do {                                                                       \
        if (!test_failed_) {                                                   \
            printf("FAIL %s:%s: %s:%d: ", test_file_, test_name_, __FILE__,    \
                   __LINE__);                                                  \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
        }                                                                      \
        test_failed_ = 1;                                                      \
    } while (0)

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            FAILF("check failed: %s", #cond);                                  \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_OK(expr, errp)                                                   \
    do {                                                                       \
        enum om_status st_ = (expr);                                           \
        if (st_ != OM_OK) {                                                    \
            const struct om_error *e_ = (errp);                                \
            FAILF("%s returned %s: %s", #expr, om_status_name(st_),            \
                  e_ ? e_->msg : "");                                          \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_STATUS(expr, want)                                               \
    do {                                                                       \
        enum om_status st_ = (expr);                                           \
        if (st_ != (want)) {                                                   \
            FAILF("%s returned %s, want %s", #expr, om_status_name(st_),       \
                  om_status_name(want));                                       \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_INT(a, b)                                                        \
    do {                                                                       \
        long long a_ = (long long)(a), b_ = (long long)(b);                    \
        if (a_ != b_) {                                                        \
            FAILF("%s == %lld, want %lld", #a, a_, b_);                        \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                               \
            FAILF("%s == \"%s\", want \"%s\"", #a, a_ ? a_ : "(null)",         \
                  b_ ? b_ : "(null)");                                         \
            return;                                                            \
        }                                                                      \
    } while (0)

/* |a-b| <= rel*max(|a|,|b|) + abs_tol */
#define CHECK_NEAR(a, b, rel, abs_tol)                                         \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        double m_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_);                 \
        if (!(fabs(a_ - b_) <= (rel)*m_ + (abs_tol))) {                        \
            FAILF("%s == %.17g, want %.17g (diff %.3g)", #a, a_, b_, a_ - b_); \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_CONTAINS(hay, needle)                                            \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (!h_ || !strstr(h_, n_)) {                                          \
            FAILF("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);   \
            return;                                                            \
        }                                                                      \
    } while (0)

static const char *test_name_ = "";

static void test_run_(void (*fn)(void), const char *name)
{
    static const struct om_allocator counting = {test_malloc_, test_realloc_,
                                                 test_free_, NULL};
    test_name_ = name;
    test_failed_ = 0;
    test_live_allocs_ = 0;
    test_fail_after_ = -1;
    om_set_allocator(&counting);
    fn();
    om_set_allocator(NULL);
    if (!test_failed_ && test_live_allocs_ != 0) {
        printf("FAIL %s:%s: leaked %ld allocation(s)\n", test_file_, name,
               test_live_allocs_);
        test_failed_ = 1;
    }
    if (!test_failed_) {
        printf("PASS %s:%s\n", test_file_, name);
        test_npass_++;
    } else {
        test_nfail_++;
    }
    fflush(stdout);
}

#define RUN(fn) test_run_(fn, #fn)

/* Start failing allocations from the nth one on (for OOM tests). */
static inline void test_fail_allocs_after(int n)
{
    test_fail_after_ = n;
    test_nallocs_ = 0;
}

static inline const char *test_data_path(const char *rel, char *buf,
                                         size_t size)
{
    const char *root = getenv("ONEMAP_SHARED_DATA");
    if (!root) {
        root = "../shared/data";
    }
    snprintf(buf, size, "%s/%s", root, rel);
    return buf;
}

static char test_tmpdir_[256];
static pid_t test_tmpdir_owner_;

/* Removes path and, for a directory, everything under it; 0 on success. */
static int test_rm_tree_(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            continue;
        }
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc |= test_rm_tree_(sub);
    }
    closedir(d);
    return rc | rmdir(path);
}

/* At exit of the process that made it: the scratch directory is removed
 * when every test passed, and kept (its path printed) when one failed or
 * ONEMAP_KEEP_TEST_TMP is set. Forked children exit without touching it. */
static void test_tmpdir_cleanup_(void)
{
    if (!test_tmpdir_[0] || getpid() != test_tmpdir_owner_) {
        return;
    }
    if (test_nfail_ || getenv("ONEMAP_KEEP_TEST_TMP")) {
        fprintf(stderr, "%s: scratch files kept in %s\n",
                test_file_ ? test_file_ : "test", test_tmpdir_);
        return;
    }
    if (test_rm_tree_(test_tmpdir_) != 0) {
        fprintf(stderr, "%s: cannot remove %s\n",
                test_file_ ? test_file_ : "test", test_tmpdir_);
    }
}

/* A fresh scratch directory for this test binary (under $TMPDIR), removed
 * at exit when all tests passed. */
static inline const char *test_tmpdir(void)
{
    if (!test_tmpdir_[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(test_tmpdir_, sizeof test_tmpdir_, "%s/onemap-test-XXXXXX",
                 t ? t : "/tmp");
        if (!mkdtemp(test_tmpdir_)) {
            perror("mkdtemp");
            exit(2);
        }
        test_tmpdir_owner_ = getpid();
        atexit(test_tmpdir_cleanup_);
    }
    return test_tmpdir_;
}

#define TEST_MAIN_BEGIN(file) test_file_ = (file);
#define TEST_MAIN_END()                                                        \
    do {                                                                       \
        return test_nfail_ ? 1 : 0;                                            \
    } while (0)

#endif
