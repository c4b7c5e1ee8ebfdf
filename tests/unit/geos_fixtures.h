/*
 * geos_fixtures.h — for the unit tests that read GEOS's XML test suite
 * (shared data geos-xmltester, LGPL-2.1, github libgeos/geos) or compare
 * against GEOS (test_areak_xml.c, test_polyops.c, test_qc_geom.c,
 * test_valid_fast.c): the suite's files and cases, a geometry read as the
 * XML tester reads it (WKT or hex WKB), and a GEOS polygon or
 * multipolygon added to an om_layer. Tests may include <geos_c.h>; the
 * library only in src/geom/geos.c. Included by one test file per binary,
 * after test.h.
 *
 * Each test uses some of these: the unused ones are no warning.
 */
#ifndef ONEMAP_TEST_GEOS_FIXTURES_H
#define ONEMAP_TEST_GEOS_FIXTURES_H

#include "onemap/layer.h"
#include "test.h"

#include <ctype.h>
#include <dirent.h>
#include <geos_c.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- files ---- */

/* The whole file, NUL-terminated (free it); NULL if it cannot be read
 * (or out of memory). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    char *s = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
            s = malloc((size_t)n + 1);
            if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
                free(s);
                s = NULL;
            } else if (s) {
                s[n] = '\0';
            }
        }
    }
    fclose(f);
    return s;
}

/* The text between `open` and `close` inside [p, end), copied (free it);
 * NULL if none (or out of memory). */
static char *between(const char *p, const char *end, const char *open,
                     const char *close)
{
    const char *a = strstr(p, open);
    if (!a || a >= end) {
        return NULL;
    }
    a += strlen(open);
    const char *b = strstr(a, close);
    if (!b || b > end) {
        return NULL;
    }
    char *s = malloc((size_t)(b - a) + 1);
    if (s) {
        memcpy(s, a, (size_t)(b - a));
        s[b - a] = '\0';
    }
    return s;
}

/* A list of paths, each owned; running out of memory ends the test. */
struct names {
    char **v;
    size_t n, cap;
};

static void names_push(struct names *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
    }
    if (!l->v || !(l->v[l->n] = strdup(s))) {
        perror("names_push");
        exit(2);
    }
    l->n++;
}

static void names_free(struct names *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i]);
    }
    free(l->v);
}

/* Every *.xml under dir, `depth` levels down (at most 6), into l. */
static void find_xml(const char *dir, int depth, struct names *l)
{
    DIR *d = depth <= 6 ? opendir(dir) : NULL;
    if (!d) {
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            continue;
        }
        size_t n = strlen(e->d_name);
        if (S_ISDIR(st.st_mode)) {
            find_xml(path, depth + 1, l);
        } else if (n > 4 && strcmp(e->d_name + n - 4, ".xml") == 0) {
            names_push(l, path);
        }
    }
    closedir(d);
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Every *.xml under dir (recursively) into l, sorted. */
static void xml_files(const char *dir, struct names *l)
{
    find_xml(dir, 0, l);
    if (l->n > 0) {
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    }
}

/*
 * The first case of an XML test file at or after p ("<case" up to
 * "</case>", its end in *end); NULL when there is none, or it has no end.
 */
static const char *next_case(const char *p, const char **end)
{
    const char *c = strstr(p, "<case");
    *end = c ? strstr(c, "</case>") : NULL;
    return *end ? c : NULL;
}

/* ---- geometries ---- */

/* WKT or hex WKB, as the XML tester reads them; NULL if GEOS cannot. */
static GEOSGeometry *read_geom(GEOSContextHandle_t h, const char *text)
{
    while (isspace((unsigned char)*text)) {
        text++;
    }
    bool hex = *text != '\0';
    size_t len = 0;
    for (const char *q = text; *q; q++) {
        if (isxdigit((unsigned char)*q)) {
            len = (size_t)(q - text) + 1;
        } else if (!isspace((unsigned char)*q)) {
            hex = false;
            break;
        }
    }
    GEOSGeometry *g = NULL;
    if (hex) {
        GEOSWKBReader *r = GEOSWKBReader_create_r(h);
        g = GEOSWKBReader_readHEX_r(h, r, (const unsigned char *)text, len);
        GEOSWKBReader_destroy_r(h, r);
    } else {
        GEOSWKTReader *r = GEOSWKTReader_create_r(h);
        g = GEOSWKTReader_read_r(h, r, text);
        GEOSWKTReader_destroy_r(h, r);
    }
    return g;
}

/*
 * Add the GEOS polygon or multipolygon g to l as feature fid, its rings
 * as GEOS holds them: its empty polygons left out, and its empty rings
 * unless keep_empty_rings. Returns 0; 1 when g is not polygonal (nothing
 * added); -1 when the layer refuses it (*err set, the feature aborted).
 */
static int add_geos(GEOSContextHandle_t h, struct om_layer *l, int64_t fid,
                    const GEOSGeometry *g, bool keep_empty_rings,
                    struct om_error *err)
{
    int type = GEOSGeomTypeId_r(h, g);
    if (type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) {
        return 1;
    }
    enum om_status st = om_layer_begin_feature(l, fid, err);
    if (st != OM_OK) {
        return -1;
    }
    int np = type == GEOS_POLYGON ? 1 : GEOSGetNumGeometries_r(h, g);
    for (int i = 0; st == OM_OK && i < np; i++) {
        const GEOSGeometry *poly =
            type == GEOS_POLYGON ? g : GEOSGetGeometryN_r(h, g, i);
        if (GEOSisEmpty_r(h, poly)) {
            continue;
        }
        st = om_layer_begin_part(l, err);
        int nh = GEOSGetNumInteriorRings_r(h, poly);
        for (int k = -1; st == OM_OK && k < nh; k++) {
            const GEOSGeometry *ring = k < 0
                                           ? GEOSGetExteriorRing_r(h, poly)
                                           : GEOSGetInteriorRingN_r(h, poly, k);
            const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(h, seq, &n);
            if (n == 0 && !keep_empty_rings) {
                continue;
            }
            double *xy = malloc(2 * (size_t)n * sizeof *xy + 1);
            if (!xy ||
                (n > 0 && !GEOSCoordSeq_copyToBuffer_r(h, seq, xy, 0, 0))) {
                om_error_clear(err);
                err->status = st = xy ? OM_EGEOM : OM_ENOMEM;
                snprintf(err->msg, sizeof err->msg,
                         "cannot copy a ring of fid %lld", (long long)fid);
            } else {
                st = om_layer_add_ring(l, xy, n, err);
            }
            free(xy);
        }
    }
    if (st == OM_OK) {
        st = om_layer_end_feature(l, err);
    }
    if (st != OM_OK) {
        om_layer_abort_feature(l);
        return -1;
    }
    return 0;
}

#pragma GCC diagnostic pop

#endif
