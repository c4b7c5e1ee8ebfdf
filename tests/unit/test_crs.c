/*
 * test_crs.c — the CRS module: CGCS2000 zone formulas against PROJ's EPSG
 * definitions (and GDAL's gdalsrsinfo as a second reader), CRS parsing,
 * axis order, reprojection of points and layers, planar and ellipsoidal
 * areas. Oracles: GeographicLib's Planimeter (geodesic polygon areas) and
 * TransverseMercatorProj (exact Transverse Mercator), run as programs.
 */
#include "onemap/crs.h"
#include "onemap/geom.h"
#include "onemap/layer.h"

#include "test.h"

#include <pthread.h>
#include <stdbool.h>

/* CGCS2000 ellipsoid, as the oracles get it. */
#define CGCS_A "6378137"
#define CGCS_F "1/298.257222101"

/* ---- helpers ---- */

/* Read the first ring of the first polygon of a GeoJSON file (lon,lat).
 * Returns a malloc'd array of n points (closing point included). */
static double *read_first_ring(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        return NULL;
    }
    static char text[1 << 20];
    size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[len] = '\0';
    const char *p = strstr(text, "\"coordinates\"");
    p = p ? strstr(p, "[[[[") : NULL;
    if (!p) {
        return NULL;
    }
    p += 3; /* at the '[' of the first point */
    size_t cap = 1024, k = 0;
    double *xy = malloc(2 * cap * sizeof *xy);
    while (xy && *p == '[') {
        char *end;
        double x = strtod(p + 1, &end);
        if (*end != ',') {
            break;
        }
        double y = strtod(end + 1, &end);
        if (*end != ']') {
            break;
        }
        if (k == cap) {
            cap *= 2;
            double *nxy = realloc(xy, 2 * cap * sizeof *xy);
            if (!nxy) {
                free(xy);
                return NULL;
            }
            xy = nxy;
        }
        xy[2 * k] = x;
        xy[2 * k + 1] = y;
        k++;
        p = end + 1;
        while (*p == ' ' || *p == ',') {
            p++;
        }
    }
    *n = k;
    return xy;
}

/* Run a shell command with `input` on its stdin; read its stdout into out. */
static bool run_tool(const char *cmd, const char *input, char *out, size_t size)
{
    char in_path[512], cmdline[1024];
    snprintf(in_path, sizeof in_path, "%s/tool-input.txt", test_tmpdir());
    FILE *fp = fopen(in_path, "w");
    if (!fp) {
        return false;
    }
    fputs(input, fp);
    fclose(fp);
    snprintf(cmdline, sizeof cmdline, "%s < %s 2>/dev/null", cmd, in_path);
    FILE *pp = popen(cmdline, "r");
    if (!pp) {
        return false;
    }
    size_t len = fread(out, 1, size - 1, pp);
    out[len] = '\0';
    int rc = pclose(pp);
    remove(in_path);
    return rc == 0 && len > 0;
}

/* GeographicLib Planimeter on a lon/lat ring (closing point optional):
 * signed area, CCW positive. Planimeter prints areas with at most 5
 * decimals (-p 10 is its maximum), so comparisons on parcel-sized areas
 * allow 5e-6 m^2 absolute on top of the 1e-9 relative. */
static bool planimeter(const double *ll, size_t n, double *area)
{
    size_t size = n * 64 + 16;
    char *in = malloc(size);
    if (!in) {
        return false;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(in + len, size - len, "%.17g %.17g\n",
                                ll[2 * i + 1], ll[2 * i]);
    }
    char out[256];
    bool ok = run_tool("Planimeter -e " CGCS_A " " CGCS_F " -p 10", in, out,
                       sizeof out);
    free(in);
    size_t np;
    double perim;
    return ok && sscanf(out, "%zu %lf %lf", &np, &perim, area) == 3;
}

/* GeographicLib's exact inverse Transverse Mercator for a GK3 zone: x,y
 * (false easting already removed) -> lon,lat. */
static bool tm_inverse(double cm, const double *xy, size_t n, double *ll)
{
    char in[4096], out[8192], cmd[256];
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof in - 80; i++) {
        len += (size_t)snprintf(in + len, sizeof in - len, "%.17g %.17g\n",
                                xy[2 * i], xy[2 * i + 1]);
    }
    snprintf(cmd, sizeof cmd,
             "TransverseMercatorProj -r -k 1 -l %.17g -e " CGCS_A " " CGCS_F
             " -p 16",
             cm);
    if (!run_tool(cmd, in, out, sizeof out)) {
        return false;
    }
    const char *p = out;
    for (size_t i = 0; i < n; i++) {
        double lat, lon, gamma, k;
        int used;
        if (sscanf(p, "%lf %lf %lf %lf%n", &lat, &lon, &gamma, &k, &used) !=
            4) {
            return false;
        }
        ll[2 * i] = lon;
        ll[2 * i + 1] = lat;
        p += used;
    }
    return true;
}

static struct om_layer *one_feature_layer(int64_t fid, const double *shell,
                                          size_t nshell, const double *hole,
                                          size_t nhole, const char *crs)
{
    struct om_error err;
    struct om_layer *l = NULL;
    if (om_layer_new("t", &l, &err) != OM_OK ||
        om_layer_begin_feature(l, fid, &err) != OM_OK ||
        om_layer_begin_part(l, &err) != OM_OK ||
        om_layer_add_ring(l, shell, nshell, &err) != OM_OK ||
        (hole && om_layer_add_ring(l, hole, nhole, &err) != OM_OK) ||
        om_layer_end_feature(l, &err) != OM_OK ||
        om_layer_finish(l, 0, &err) != OM_OK ||
        om_layer_set_crs(l, crs, &err) != OM_OK) {
        om_layer_free(l);
        return NULL;
    }
    return l;
}

/* ---- zones ---- */

TEST(test_zone_formulas_vs_proj)
{
    struct om_error err;
    for (int zone = 25; zone <= 45; zone++) {
        for (int wp = 0; wp <= 1; wp++) {
            int epsg = om_gk3_epsg(zone, wp);
            CHECK_INT(epsg, (wp ? 4513 : 4534) + zone - 25);
            bool got_wp = !wp;
            CHECK_INT(om_gk3_zone_of_epsg(epsg, &got_wp), zone);
            CHECK(got_wp == (bool)wp);
            char spec[32];
            snprintf(spec, sizeof spec, "EPSG:%d", epsg);
            struct om_crs *c = NULL;
            CHECK_OK(om_crs_new(spec, &c, &err), &err);
            struct om_crs_tm tm;
            bool is_tm = om_crs_get_tm(c, &tm);
            double a, f;
            om_crs_ellipsoid(c, &a, &f);
            bool geo = om_crs_is_geographic(c);
            int got = om_crs_epsg(c);
            char name[128];
            snprintf(name, sizeof name, "%s", om_crs_name(c));
            om_crs_free(c);
            CHECK(is_tm);
            CHECK(!geo);
            CHECK_INT(got, epsg);
            /* Central meridian and false easting as PROJ defines them. */
            CHECK(tm.central_meridian == 3.0 * zone);
            CHECK(tm.false_easting == (wp ? zone * 1e6 : 0.0) + 500000.0);
            CHECK(tm.false_northing == 0.0);
            CHECK(tm.scale == 1.0);
            CHECK(tm.lat_origin == 0.0);
            CHECK(a == 6378137.0);
            CHECK_NEAR(f, 1 / 298.257222101, 1e-15, 0);
            char want[64];
            if (wp) {
                snprintf(want, sizeof want, "Gauss-Kruger zone %d", zone);
            } else {
                snprintf(want, sizeof want, "Gauss-Kruger CM %dE", 3 * zone);
            }
            CHECK_CONTAINS(name, want);
        }
    }
    CHECK_INT(om_gk3_epsg(24, true), 0);
    CHECK_INT(om_gk3_epsg(46, false), 0);
    CHECK_INT(om_gk3_epsg(0, true), 0);
    CHECK_INT(om_gk3_zone_of_epsg(4512, NULL), 0);
    CHECK_INT(om_gk3_zone_of_epsg(4555, NULL), 0);
    CHECK_INT(om_gk3_zone_of_epsg(4490, NULL), 0);
    CHECK_INT(om_gk3_zone_of_epsg(4533, NULL), 45);
    CHECK_INT(om_gk3_zone_of_epsg(4534, NULL), 25);
}

/* A second, independent reader of the EPSG database: GDAL's gdalsrsinfo. */
TEST(test_zone_formulas_vs_gdalsrsinfo)
{
    if (system("command -v gdalsrsinfo >/dev/null 2>&1") != 0) {
        FAILF("gdalsrsinfo (gdal-bin) is not installed");
        return;
    }
    static char out[16384];
    char cmd[] = "for c in $(seq 4513 4554); do gdalsrsinfo -o proj4 "
                 "EPSG:$c; done";
    CHECK(run_tool(cmd, "", out, sizeof out));
    const char *p = out;
    for (int i = 0; i < 42; i++) {
        int zone = 25 + i % 21;
        bool wp = i < 21;
        const char *l0 = strstr(p, "+lon_0=");
        const char *x0 = l0 ? strstr(l0, "+x_0=") : NULL;
        CHECK(l0 && x0);
        double lon0 = strtod(l0 + 7, NULL), fe = strtod(x0 + 5, NULL);
        CHECK(lon0 == 3.0 * zone);
        CHECK(fe == (wp ? zone * 1e6 : 0) + 500000.0);
        CHECK_INT(om_gk3_epsg(om_gk3_zone_for_lon(lon0), wp), 4513 + i);
        p = x0 + 5;
    }
}

TEST(test_zone_helpers)
{
    CHECK_INT(om_gk3_zone_for_lon(126.0), 42);
    CHECK_INT(om_gk3_zone_for_lon(124.49), 41);
    CHECK_INT(om_gk3_zone_for_lon(124.51), 42);
    CHECK_INT(om_gk3_zone_for_lon(75.0), 25);
    CHECK_INT(om_gk3_zone_for_lon(73.4), 0);
    CHECK_INT(om_gk3_zone_for_lon(135.0), 45);
    CHECK_INT(om_gk3_zone_for_lon(137.0), 0);
    CHECK_INT(om_gk3_zone_for_lon(-126.0), 0);
    CHECK_INT(om_gk3_zone_for_lon(NAN), 0);
    CHECK_INT(om_gk3_zone_for_lon(1e300), 0);

    CHECK_INT(om_gk3_zone_from_easting(42512345.6), 42);
    CHECK_INT(om_gk3_zone_from_easting(41000000.0), 41);
    CHECK_INT(om_gk3_zone_from_easting(25999999.99), 25);
    CHECK_INT(om_gk3_zone_from_easting(45500000.0), 45);
    CHECK_INT(om_gk3_zone_from_easting(512345.6), 0);    /* no prefix */
    CHECK_INT(om_gk3_zone_from_easting(9999999.0), 0);   /* 7 digits */
    CHECK_INT(om_gk3_zone_from_easting(425123456.0), 0); /* 9 digits */
    CHECK_INT(om_gk3_zone_from_easting(24512345.0), 0);  /* not a zone */
    CHECK_INT(om_gk3_zone_from_easting(46512345.0), 0);
    CHECK_INT(om_gk3_zone_from_easting(-42512345.0), 0);
    CHECK_INT(om_gk3_zone_from_easting(NAN), 0);
    CHECK_INT(om_gk3_zone_from_easting(INFINITY), 0);
}

TEST(test_auto_zone_jilin)
{
    char path[512];
    size_t n = 0;
    double *ring = read_first_ring(
        test_data_path("dcw-gmt/dcw_CN_JL.geojson", path, sizeof path), &n);
    CHECK(ring && n > 1000);
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    int zmin = 99, zmax = 0;
    for (size_t i = 0; i < n; i++) {
        minx = fmin(minx, ring[2 * i]);
        maxx = fmax(maxx, ring[2 * i]);
        miny = fmin(miny, ring[2 * i + 1]);
        maxy = fmax(maxy, ring[2 * i + 1]);
        int z = om_gk3_zone_for_lon(ring[2 * i]);
        zmin = z < zmin ? z : zmin;
        zmax = z > zmax ? z : zmax;
    }
    free(ring);
    CHECK_NEAR(minx, 121.6, 0, 0.1);
    CHECK_NEAR(maxx, 131.3, 0, 0.1);
    CHECK_INT(zmin, 41);
    CHECK_INT(zmax, 44);

    struct om_error err;
    struct om_crs *c = NULL;
    CHECK_OK(om_crs_auto_for_extent(minx, miny, maxx, maxy, &c, &err), &err);
    const char *id = om_crs_id(c);
    bool ok = id && strcmp(id, "EPSG:4530") == 0;
    om_crs_free(c);
    CHECK(ok);

    CHECK_STATUS(om_crs_auto_for_extent(0, 0, 1, 1, &c, &err), OM_ECRS);
    CHECK(c == NULL);
    CHECK_CONTAINS(err.msg, "outside");
    CHECK_STATUS(om_crs_auto_for_extent(NAN, 40, 126, 41, &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_auto_for_extent(127, 40, 126, 41, &c, &err), OM_ECRS);
    CHECK(c == NULL);
}

/* ---- parsing ---- */

static bool crs_is(const char *spec, const char *want_id, bool geographic)
{
    struct om_error err;
    struct om_crs *c = NULL;
    if (om_crs_new(spec, &c, &err) != OM_OK) {
        printf("  om_crs_new(%s): %s\n", spec, err.msg);
        return false;
    }
    const char *id = om_crs_id(c);
    bool ok = om_crs_is_geographic(c) == geographic &&
              (want_id ? id && strcmp(id, want_id) == 0 : id == NULL);
    if (!ok) {
        printf("  om_crs_new(%s): id %s\n", spec, id ? id : "(none)");
    }
    om_crs_free(c);
    return ok;
}

TEST(test_parse_specs)
{
    CHECK(crs_is("EPSG:4530", "EPSG:4530", false));
    CHECK(crs_is("epsg:4490", "EPSG:4490", true));
    CHECK(crs_is(" 4530 ", "EPSG:4530", false));
    CHECK(crs_is("CGCS2000", "EPSG:4490", true));
    CHECK(crs_is("CGCS2000/GK3 42", "EPSG:4530", false));
    CHECK(crs_is("cgcs2000 / gk3 41", "EPSG:4529", false));
    CHECK(crs_is("CGCS2000/GK3CM 126", "EPSG:4551", false));
    CHECK(crs_is("urn:ogc:def:crs:EPSG::4326", "EPSG:4326", true));

    struct om_error err;
    struct om_crs *c = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &c, &err), &err);
    CHECK_STR(om_crs_name(c), "CGCS2000 / 3-degree Gauss-Kruger zone 42");
    CHECK_CONTAINS(om_crs_wkt(c), "PROJCRS[");
    /* Our own WKT reads back as the same CRS. */
    struct om_crs *w = NULL;
    enum om_status st = om_crs_new(om_crs_wkt(c), &w, &err);
    bool eq = st == OM_OK && om_crs_equivalent(c, w) && om_crs_epsg(w) == 4530;
    om_crs_free(w);
    om_crs_free(c);
    CHECK(eq);
}

/* An ArcGIS .prj without an AUTHORITY: identified as EPSG:4530. */
TEST(test_parse_esri_wkt)
{
    static const char prj[] =
        "PROJCS[\"CGCS2000_3_Degree_GK_Zone_42\",GEOGCS[\"GCS_China_"
        "Geodetic_Coordinate_System_2000\",DATUM[\"D_China_2000\","
        "SPHEROID[\"CGCS2000\",6378137.0,298.257222101]],PRIMEM["
        "\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]],"
        "PROJECTION[\"Gauss_Kruger\"],PARAMETER[\"False_Easting\","
        "42500000.0],PARAMETER[\"False_Northing\",0.0],PARAMETER["
        "\"Central_Meridian\",126.0],PARAMETER[\"Scale_Factor\",1.0],"
        "PARAMETER[\"Latitude_Of_Origin\",0.0],UNIT[\"Meter\",1.0]]";
    struct om_error err;
    struct om_crs *c = NULL, *e = NULL;
    CHECK_OK(om_crs_new(prj, &c, &err), &err);
    struct om_crs_tm tm;
    bool is_tm = om_crs_get_tm(c, &tm);
    int epsg = om_crs_epsg(c);
    enum om_status st = om_crs_new("EPSG:4530", &e, &err);
    bool eq = st == OM_OK && om_crs_equivalent(c, e);
    om_crs_free(c);
    om_crs_free(e);
    CHECK(is_tm);
    CHECK(tm.central_meridian == 126.0);
    CHECK(tm.false_easting == 42500000.0);
    CHECK_INT(epsg, 4530);
    CHECK(eq);
}

TEST(test_parse_proj_string_and_equivalence)
{
    struct om_error err;
    struct om_crs *p = NULL, *a = NULL, *b = NULL, *g = NULL, *w = NULL;
    CHECK_OK(om_crs_new("+proj=tmerc +lat_0=0 +lon_0=123 +k=1 "
                        "+x_0=41500000 +y_0=0 +ellps=GRS80 +units=m",
                        &p, &err),
             &err);
    struct om_crs_tm tm;
    bool is_tm = om_crs_get_tm(p, &tm);
    bool geo = om_crs_is_geographic(p);
    om_crs_free(p);
    CHECK(is_tm && !geo);
    CHECK(tm.central_meridian == 123.0 && tm.false_easting == 41500000.0);

    CHECK_OK(om_crs_new("EPSG:4490", &a, &err), &err);
    CHECK_OK(om_crs_new("CGCS2000", &b, &err), &err);
    enum om_status s1 = om_crs_new("EPSG:4326", &w, &err);
    enum om_status s2 = om_crs_new("EPSG:4530", &g, &err);
    bool ab = om_crs_equivalent(a, b);
    bool aw = om_crs_equivalent(a, w);
    bool ag = om_crs_equivalent(a, g);
    bool an = om_crs_equivalent(a, NULL);
    om_crs_free(a);
    om_crs_free(b);
    om_crs_free(w);
    om_crs_free(g);
    CHECK(s1 == OM_OK && s2 == OM_OK);
    CHECK(ab);
    CHECK(!aw);
    CHECK(!ag);
    CHECK(!an);
}

TEST(test_parse_errors)
{
    struct om_error err;
    struct om_crs *c = (struct om_crs *)&err; /* must be reset to NULL */
    CHECK_STATUS(om_crs_new("nonsense-crs", &c, &err), OM_ECRS);
    CHECK(c == NULL);
    CHECK_CONTAINS(err.msg, "'nonsense-crs'");
    CHECK_STATUS(om_crs_new("EPSG:999999", &c, &err), OM_ECRS);
    CHECK_CONTAINS(err.msg, "EPSG:999999");
    CHECK_STATUS(om_crs_new("CGCS2000/GK3 50", &c, &err), OM_ECRS);
    CHECK_CONTAINS(err.msg, "zone 50");
    CHECK_STATUS(om_crs_new("CGCS2000/GK3 0", &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_new("CGCS2000/GK3CM 127", &c, &err), OM_ECRS);
    CHECK_CONTAINS(err.msg, "127");
    CHECK_STATUS(om_crs_new("CGCS2000/GK3 x", &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_new("", &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_new("   ", &c, &err), OM_ECRS);
    /* Geocentric CGCS2000 and a vertical CRS are no use for polygons. */
    CHECK_STATUS(om_crs_new("EPSG:4479", &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_new("EPSG:5773", &c, &err), OM_ECRS);
    /* An operation, not a CRS. */
    CHECK_STATUS(om_crs_new("EPSG:1671", &c, &err), OM_ECRS);
    CHECK_STATUS(om_crs_new(NULL, &c, &err), OM_EINVAL);
    CHECK(c == NULL);
    CHECK_STATUS(om_crs_new("EPSG:4490", NULL, &err), OM_EINVAL);
    CHECK_STATUS(om_crs_new("nonsense", &c, NULL), OM_ECRS);
}

TEST(test_oom)
{
    struct om_error err;
    bool done = false;
    for (int n = 0; n < 50 && !done; n++) {
        struct om_crs *c = NULL, *d = NULL;
        struct om_transform *t = NULL;
        struct om_area_ctx *a = NULL;
        test_fail_allocs_after(n);
        enum om_status st = om_crs_new("EPSG:4490", &c, &err);
        if (st == OM_OK) {
            st = om_crs_new("CGCS2000/GK3 42", &d, &err);
        }
        if (st == OM_OK) {
            st = om_transform_new(c, d, &t, &err);
        }
        if (st == OM_OK) {
            st = om_area_ctx_new(d, &a, &err);
        }
        test_fail_allocs_after(-1);
        om_area_ctx_free(a);
        om_transform_free(t);
        om_crs_free(d);
        om_crs_free(c);
        CHECK(st == OM_OK || st == OM_ENOMEM);
        done = st == OM_OK;
    }
    CHECK(done);
}

/* ---- transforms ---- */

TEST(test_axis_order_and_roundtrip)
{
    struct om_error err;
    struct om_crs *geo = NULL, *gk = NULL;
    struct om_transform *fwd = NULL, *inv = NULL;
    CHECK_OK(om_crs_new("EPSG:4490", &geo, &err), &err);
    CHECK_OK(om_crs_new("EPSG:4530", &gk, &err), &err);
    enum om_status st = om_transform_new(geo, gk, &fwd, &err);
    if (st == OM_OK) {
        st = om_transform_new(gk, geo, &inv, &err);
    }
    om_crs_free(geo);
    om_crs_free(gk);
    /* The transforms own what they need: the CRSs are freed already. */
    double pts[] = {126.0, 43.0, 124.6, 41.2, 127.4, 45.9, 130.9, 42.4};
    double xy[8];
    memcpy(xy, pts, sizeof pts);
    if (st == OM_OK) {
        st = om_transform_points(fwd, xy, 4, &err);
    }
    double back[8];
    memcpy(back, xy, sizeof xy);
    if (st == OM_OK) {
        st = om_transform_points(inv, back, 4, &err);
    }
    om_transform_free(fwd);
    om_transform_free(inv);
    CHECK_OK(st, &err);
    /* lon 126 is the central meridian of zone 42. */
    CHECK_NEAR(xy[0], 42500000.0, 0, 1e-6);
    for (int i = 0; i < 4; i++) {
        CHECK(om_gk3_zone_from_easting(xy[2 * i]) == 42);
        CHECK_NEAR(back[2 * i], pts[2 * i], 0, 1e-9);
        CHECK_NEAR(back[2 * i + 1], pts[2 * i + 1], 0, 1e-9);
    }
    /* Northings against GeographicLib's exact Transverse Mercator. */
    double ref[8];
    double local[8];
    for (int i = 0; i < 4; i++) {
        local[2 * i] = xy[2 * i] - 42500000.0;
        local[2 * i + 1] = xy[2 * i + 1];
    }
    CHECK(tm_inverse(126.0, local, 4, ref));
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(ref[2 * i], pts[2 * i], 0, 1e-9);
        CHECK_NEAR(ref[2 * i + 1], pts[2 * i + 1], 0, 1e-9);
    }
}

TEST(test_transform_errors)
{
    struct om_error err;
    struct om_crs *geo = NULL, *gk = NULL;
    struct om_transform *t = NULL;
    CHECK_OK(om_crs_new("EPSG:4490", &geo, &err), &err);
    CHECK_OK(om_crs_new("EPSG:4530", &gk, &err), &err);
    enum om_status st = om_transform_new(geo, gk, &t, &err);
    om_crs_free(geo);
    om_crs_free(gk);
    CHECK_OK(st, &err);
    double nan_pt[] = {126.0, 43.0, NAN, 43.0};
    st = om_transform_points(t, nan_pt, 2, &err);
    double bad_lat[] = {126.0, 43.0, 126.0, 43.5, 126.0, 95.0};
    enum om_status st2 = om_transform_points(t, bad_lat, 3, &err);
    char msg2[OM_ERROR_MSG_MAX];
    memcpy(msg2, err.msg, sizeof msg2);
    enum om_status st3 = om_transform_points(t, NULL, 0, &err);
    om_transform_free(t);
    CHECK_STATUS(st, OM_ECRS);
    CHECK_STATUS(st2, OM_ECRS);
    CHECK_CONTAINS(msg2, "point 2 (126, 95)");
    CHECK_STATUS(st3, OM_OK);
    CHECK_STATUS(om_transform_new(NULL, NULL, &t, &err), OM_EINVAL);
    CHECK(t == NULL);
}

TEST(test_layer_transform)
{
    struct om_error err;
    double sq[] = {126.0, 43.0, 126.01, 43.0, 126.01, 43.01, 126.0, 43.01};
    struct om_layer *l = one_feature_layer(7, sq, 4, NULL, 0, "EPSG:4490");
    CHECK(l);
    struct om_crs *geo = NULL, *gk = NULL;
    struct om_transform *t = NULL;
    enum om_status st = om_crs_new("EPSG:4490", &geo, &err);
    if (st == OM_OK) {
        st = om_crs_new("CGCS2000/GK3 42", &gk, &err);
    }
    if (st == OM_OK) {
        st = om_transform_new(geo, gk, &t, &err);
    }
    if (st == OM_OK) {
        st = om_layer_transform(l, t, NULL, &err);
    }
    double want[8];
    memcpy(want, sq, sizeof sq);
    if (st == OM_OK) {
        st = om_transform_points(t, want, 4, &err);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    bool same = v.npoints == 5;
    for (size_t i = 0; same && i < 4; i++) {
        same = v.xy[2 * i] == want[2 * i] && v.xy[2 * i + 1] == want[2 * i + 1];
    }
    same = same && v.xy[8] == want[0] && v.xy[9] == want[1];
    char crs[32];
    snprintf(crs, sizeof crs, "%s", om_layer_crs(l) ? om_layer_crs(l) : "");
    struct om_rect e = om_layer_extent(l);
    om_layer_free(l);

    /* A feature whose point cannot be projected: the error names its fid. */
    double bad[] = {126.0, 43.0, 126.01, 43.0, 126.01, 93.0, 126.0, 43.01};
    l = one_feature_layer(1234, bad, 4, NULL, 0, "EPSG:4490");
    enum om_status st_bad = OM_OK;
    struct om_error err_bad = {0};
    if (l && t) {
        st_bad = om_layer_transform(l, t, NULL, &err_bad);
    }
    om_layer_free(l);
    om_transform_free(t);
    om_crs_free(geo);
    om_crs_free(gk);
    CHECK_OK(st, &err);
    CHECK(same);
    CHECK_STR(crs, "EPSG:4530");
    CHECK_NEAR(e.minx, want[0], 0, 1e-6);
    CHECK(e.minx > 42500000.0 - 1e-6 && e.maxx < 42501000.0);
    CHECK_STATUS(st_bad, OM_ECRS);
    CHECK_INT(err_bad.feature, 1234);
    CHECK_CONTAINS(err_bad.source, "t");
    CHECK_CONTAINS(err_bad.msg, "point 2");
}

/* ---- areas ---- */

TEST(test_planar_area)
{
    double ccw[] = {0, 0, 10, 0, 10, 10, 0, 10, 0, 0};
    double cw[] = {0, 0, 0, 10, 10, 10, 10, 0, 0, 0};
    CHECK(om_ring_area_planar(ccw, 5) == 100.0);
    CHECK(om_ring_area_planar(cw, 5) == -100.0);
    /* Triangle with base 6 and height 4: 12; an L-shape of 3 unit squares
     * plus a 2x1 tail: by hand 1*3 + 2*1 = 5. */
    double tri[] = {1, 1, 7, 1, 3, 5, 1, 1};
    CHECK(om_ring_area_planar(tri, 4) == 12.0);
    double ell[] = {0, 0, 3, 0, 3, 1, 1, 1, 1, 3, 0, 3, 0, 0};
    CHECK(om_ring_area_planar(ell, 7) == 5.0);
    /* 8-digit eastings: a 1 m square and a 0.5 x 0.25 m rectangle. */
    double e0 = 42512345.0, n0 = 4812345.0;
    double sq1[] = {e0, n0, e0 + 1, n0, e0 + 1, n0 + 1, e0, n0 + 1, e0, n0};
    CHECK(om_ring_area_planar(sq1, 5) == 1.0);
    double r[] = {e0 + 0.5, n0 + 0.25, e0 + 1.0, n0 + 0.25, e0 + 1.0,
                  n0 + 0.5, e0 + 0.5,  n0 + 0.5, e0 + 0.5,  n0 + 0.25};
    CHECK(om_ring_area_planar(r, 5) == 0.125);
}

TEST(test_ellipsoidal_jilin)
{
    char path[512];
    size_t n = 0;
    double *ll = read_first_ring(
        test_data_path("dcw-gmt/dcw_CN_JL.geojson", path, sizeof path), &n);
    CHECK(ll && n > 1000);
    double want;
    bool have = planimeter(ll, n, &want);
    if (!have) {
        free(ll);
        FAILF("Planimeter (geographiclib-tools) did not run");
        return;
    }
    struct om_error err;
    struct om_crs *geo = NULL, *gk = NULL;
    struct om_area_ctx *ageo = NULL, *agk = NULL;
    struct om_transform *t = NULL;
    double *xy = malloc(2 * n * sizeof *xy);
    memcpy(xy, ll, 2 * n * sizeof *xy);
    double a_geo = NAN, a_gk = NAN, a_rev = NAN;
    enum om_status st = om_crs_new("EPSG:4490", &geo, &err);
    if (st == OM_OK) {
        st = om_crs_new("EPSG:4530", &gk, &err);
    }
    if (st == OM_OK) {
        st = om_area_ctx_new(geo, &ageo, &err);
    }
    if (st == OM_OK) {
        st = om_area_ctx_new(gk, &agk, &err);
    }
    if (st == OM_OK) {
        st = om_area_ring_ellipsoidal(ageo, ll, n, &a_geo, &err);
    }
    if (st == OM_OK) {
        st = om_transform_new(geo, gk, &t, &err);
    }
    if (st == OM_OK) {
        st = om_transform_points(t, xy, n, &err);
    }
    if (st == OM_OK) {
        st = om_area_ring_ellipsoidal(agk, xy, n, &a_gk, &err);
    }
    /* Reversed ring: the sign flips. */
    for (size_t i = 0; i < n / 2; i++) {
        for (int k = 0; k < 2; k++) {
            double tmp = xy[2 * i + k];
            xy[2 * i + k] = xy[2 * (n - 1 - i) + k];
            xy[2 * (n - 1 - i) + k] = tmp;
        }
    }
    if (st == OM_OK) {
        st = om_area_ring_ellipsoidal(agk, xy, n, &a_rev, &err);
    }
    om_transform_free(t);
    om_area_ctx_free(ageo);
    om_area_ctx_free(agk);
    om_crs_free(geo);
    om_crs_free(gk);
    free(xy);
    free(ll);
    CHECK_OK(st, &err);
    /* Jilin is about 190,000 km^2. */
    CHECK(fabs(want) > 1.7e11 && fabs(want) < 2.1e11);
    CHECK_NEAR(a_geo, want, 1e-12, 0);
    CHECK_NEAR(a_gk, want, 1e-9, 0);
    CHECK_NEAR(a_rev, -want, 1e-9, 0);
}

/* 100 m squares in zone 42: near the central meridian and 150 km off it.
 * Oracle: GeographicLib's exact inverse TM for the corners, then
 * Planimeter. */
TEST(test_ellipsoidal_parcels)
{
    static const double origin[][2] = {
        {42500000.0, 4760000.0},
        {42350123.4, 4620000.0},
        {42649876.6, 5040000.0},
    };
    struct om_error err;
    struct om_crs *gk = NULL;
    struct om_area_ctx *a = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &gk, &err), &err);
    enum om_status st = om_area_ctx_new(gk, &a, &err);
    om_crs_free(gk);
    CHECK_OK(st, &err);
    for (size_t k = 0; k < 3; k++) {
        double x0 = origin[k][0], y0 = origin[k][1];
        double ring[] = {x0,       y0, x0 + 100, y0, x0 + 100,
                         y0 + 100, x0, y0 + 100, x0, y0};
        double local[10], ll[10], want = NAN, got = NAN;
        for (int i = 0; i < 5; i++) {
            local[2 * i] = ring[2 * i] - 42500000.0;
            local[2 * i + 1] = ring[2 * i + 1];
        }
        bool ok = tm_inverse(126.0, local, 4, ll) && planimeter(ll, 4, &want);
        st = om_area_ring_ellipsoidal(a, ring, 5, &got, &err);
        double planar = om_ring_area_planar(ring, 5);
        if (!ok || st != OM_OK) {
            om_area_ctx_free(a);
            CHECK(ok);
            CHECK_OK(st, &err);
        }
        if (!(fabs(got - want) <= 1e-9 * fabs(want) + 5e-6) ||
            planar != 10000.0) {
            om_area_ctx_free(a);
            CHECK(planar == 10000.0);
            CHECK_NEAR(got, want, 1e-9, 5e-6);
        }
        /* GK is conformal with scale >= 1: ellipsoidal area <= planar,
         * nearly equal on the central meridian. */
        if (!(got <= planar + 1e-6 && got > 0.99 * planar)) {
            om_area_ctx_free(a);
            FAILF("ellipsoidal %.6f vs planar %.6f", got, planar);
            return;
        }
    }
    om_area_ctx_free(a);
}

/* A 1 km square parcel with a 200 m hole, as a layer feature. */
TEST(test_ellipsoidal_hole)
{
    double x0 = 42561234.0, y0 = 4801234.0;
    double shell[] = {x0,        y0,        x0 + 1000, y0,
                      x0 + 1000, y0 + 1000, x0,        y0 + 1000};
    /* The hole has the same orientation as the shell: orientation must not
     * matter. */
    double hole[] = {x0 + 300, y0 + 300, x0 + 500, y0 + 300,
                     x0 + 500, y0 + 500, x0 + 300, y0 + 500};
    struct om_layer *l = one_feature_layer(5, shell, 4, hole, 4, "EPSG:4530");
    CHECK(l);
    double ll_shell[8], ll_hole[8], local[8], a_shell, a_hole;
    for (int i = 0; i < 4; i++) {
        local[2 * i] = shell[2 * i] - 42500000.0;
        local[2 * i + 1] = shell[2 * i + 1];
    }
    bool ok = tm_inverse(126.0, local, 4, ll_shell) &&
              planimeter(ll_shell, 4, &a_shell);
    for (int i = 0; i < 4; i++) {
        local[2 * i] = hole[2 * i] - 42500000.0;
        local[2 * i + 1] = hole[2 * i + 1];
    }
    ok = ok && tm_inverse(126.0, local, 4, ll_hole) &&
         planimeter(ll_hole, 4, &a_hole);

    struct om_error err;
    struct om_crs *gk = NULL;
    struct om_area_ctx *a = NULL;
    double planar = NAN, ell = NAN, only_ell = NAN;
    enum om_status st = om_crs_new(om_layer_crs(l), &gk, &err);
    if (st == OM_OK) {
        st = om_area_ctx_new(gk, &a, &err);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    if (st == OM_OK) {
        st = om_area_feature(a, &v, 0, &planar, &ell, &err);
    }
    if (st == OM_OK) {
        st = om_area_feature(a, &v, 0, NULL, &only_ell, &err);
    }
    enum om_status st_bad =
        a ? om_area_feature(a, &v, 1, NULL, &ell, NULL) : OM_OK;
    om_area_ctx_free(a);
    om_crs_free(gk);
    om_layer_free(l);
    CHECK(ok);
    CHECK_OK(st, &err);
    CHECK(planar == 1e6 - 4e4);
    CHECK_NEAR(ell, fabs(a_shell) - fabs(a_hole), 1e-9, 1e-5);
    CHECK(only_ell == ell);
    CHECK_STATUS(st_bad, OM_EINVAL);
}

/* A geographic layer: planar area is NaN, ellipsoidal works on lon/lat. */
TEST(test_area_geographic_layer)
{
    double sq[] = {126.0, 43.0, 126.001, 43.0, 126.001, 43.001, 126.0, 43.001};
    struct om_layer *l = one_feature_layer(1, sq, 4, NULL, 0, "EPSG:4490");
    CHECK(l);
    double want = NAN;
    bool ok = planimeter(sq, 4, &want);
    struct om_error err;
    struct om_crs *geo = NULL;
    struct om_area_ctx *a = NULL;
    double planar = 0, ell = NAN;
    enum om_status st = om_crs_new("EPSG:4490", &geo, &err);
    if (st == OM_OK) {
        st = om_area_ctx_new(geo, &a, &err);
    }
    struct om_layer_view v;
    om_layer_view(l, &v);
    if (st == OM_OK) {
        st = om_area_feature(a, &v, 0, &planar, &ell, &err);
    }
    double nan_ring[] = {126.0, 43.0, NAN, 43.0, 126.0, 43.1, 126.0, 43.0};
    double r = 0;
    enum om_status st_nan =
        a ? om_area_ring_ellipsoidal(a, nan_ring, 4, &r, &err) : OM_OK;
    om_area_ctx_free(a);
    om_crs_free(geo);
    om_layer_free(l);
    CHECK(ok);
    CHECK_OK(st, &err);
    CHECK(isnan(planar));
    CHECK_NEAR(ell, fabs(want), 1e-12, 5e-6);
    CHECK_STATUS(st_nan, OM_ECRS);
    CHECK(isnan(r));
    CHECK_CONTAINS(err.msg, "point 1");
}

/* ---- areas edge by edge ---- */

/* A fixed splitmix64 stream: the same polygons on every run. */
static uint64_t edge_rng_state;

static double rnd01(void)
{
    uint64_t z = (edge_rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53;
}

/* Neumaier's compensated sum. */
struct nsum {
    double s, c;
};

static void nsum_add(struct nsum *k, double x)
{
    double t = k->s + x;
    k->c += fabs(k->s) >= fabs(x) ? (k->s - t) + x : (x - t) + k->s;
    k->s = t;
}

/* Append the n edges {lon1, lat1, lon2, lat2} of the closed lon/lat ring
 * `ll` (no closing point) to `e`; returns the new edge count. */
static size_t ring_edges(const double *ll, size_t n, double *e, size_t ne)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = (i + 1) % n;
        double *d = e + 4 * ne++;
        d[0] = ll[2 * i];
        d[1] = ll[2 * i + 1];
        d[2] = ll[2 * j];
        d[3] = ll[2 * j + 1];
    }
    return ne;
}

/* The area of the loops formed by `ne` directed edges, as the exact area
 * kernel computes it: om_area_edge over the edges in a random order (the
 * kernel meets them unordered), a compensated sum, om_area_finish. Sets
 * *transits to the sum of the transits and *nonzero to the number of edges
 * with one (either may be NULL). */
static double edges_area(const struct om_area_ctx *a, const double *e,
                         size_t ne, long *transits, long *nonzero)
{
    size_t *perm = malloc((ne ? ne : 1) * sizeof *perm);
    if (!perm) {
        return NAN;
    }
    for (size_t i = 0; i < ne; i++) {
        perm[i] = i;
    }
    for (size_t i = ne; i > 1; i--) {
        size_t j = (size_t)(rnd01() * (double)i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    struct nsum k = {0.0, 0.0};
    long tr = 0, nz = 0;
    for (size_t i = 0; i < ne; i++) {
        double s12;
        int t;
        om_area_edge(a, e + 4 * perm[i], e + 4 * perm[i] + 2, &s12, &t);
        nsum_add(&k, s12);
        tr += t;
        nz += t != 0;
    }
    free(perm);
    if (transits) {
        *transits = tr;
    }
    if (nonzero) {
        *nonzero = nz;
    }
    return om_area_finish(a, k.s + k.c, tr);
}

static void reverse_points(double *xy, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        for (int k = 0; k < 2; k++) {
            double t = xy[2 * i + k];
            xy[2 * i + k] = xy[2 * (n - 1 - i) + k];
            xy[2 * (n - 1 - i) + k] = t;
        }
    }
}

static double rel_diff(double a, double b)
{
    return fabs(a - b) / fmax(fabs(a), fabs(b));
}

/* max(w, d), with a NaN d as the worst: a NaN must not pass. */
static double worst_of(double w, double d)
{
    return isnan(d) ? INFINITY : fmax(w, d);
}

/* Where the random polygons go: centres in [x0, x0 + w] x [y0, y0 + h] of
 * `crs`, whose units per metre there are about mx, my. */
struct edge_case {
    const char *crs;
    double x0, y0, w, h;
    double mx, my;
};

static const struct edge_case edge_cases[] = {
    /* GK zone 42 with the zone prefix, up to 150 km off the meridian. */
    {"EPSG:4530", 42350000.0, 4600000.0, 300000.0, 400000.0, 1.0, 1.0},
    /* lon/lat around 43N: 1 degree of longitude is 81.5 km there. */
    {"EPSG:4490", 124.5, 41.0, 3.0, 4.0, 1.0 / 81500.0, 1.0 / 111100.0},
    /* UTM 50N, up to 200 km off the meridian, 27N..45N. */
    {"EPSG:32650", 300000.0, 3000000.0, 400000.0, 2000000.0, 1.0, 1.0},
    /* UTM 31N across the prime meridian (x ~ 292 km at 51.4N). */
    {"EPSG:32631", 289500.0, 5690000.0, 3000.0, 20000.0, 1.0, 1.0},
};

#define EDGE_NPOLY 200 /* small ones, then one of 20 km */
#define EDGE_MAXPTS 240

struct edge_stats {
    /* (1) Σ edges + finish vs om_area_ring_ellipsoidal, relative */
    double ring;
    /* (2) the ring with its edges cut at random interior points: edges vs
     * om_area_ring_ellipsoidal of the cut ring; cut vs uncut (relative and
     * m²) */
    double split_ring, split, split_m2;
    double split_big, split_big_m2; /* the 20 km polygon alone */
    /* (3) two pieces sharing two edges vs their union */
    double pieces;
    int npoly, ncross;
};

/* A random star-shaped (so simple) counter-clockwise polygon of m vertices
 * around (cx, cy), radius r metres. */
static void star_polygon(const struct edge_case *c, double cx, double cy,
                         double r, size_t m, double *xy)
{
    for (size_t i = 0; i < m; i++) {
        double th = 2 * 3.14159265358979323846 *
                    ((double)i + 0.1 + 0.8 * rnd01()) / (double)m;
        double rho = r * (0.3 + 0.7 * rnd01());
        xy[2 * i] = cx + c->mx * rho * cos(th);
        xy[2 * i + 1] = cy + c->my * rho * sin(th);
    }
}

/* Runs (1), (2), (3) on the random polygons of one case. */
static enum om_status edge_case_run(const struct edge_case *c,
                                    struct edge_stats *s, struct om_error *err)
{
    memset(s, 0, sizeof *s);
    edge_rng_state = 12345;
    struct om_crs *crs = NULL;
    struct om_area_ctx *a = NULL;
    enum om_status st = om_crs_new(c->crs, &crs, err);
    if (st == OM_OK) {
        st = om_area_ctx_new(crs, &a, err);
    }
    om_crs_free(crs);
    /* xy/ll: a polygon; cut: it with its edges cut (<= 4 points an edge);
     * pa/pb: the two pieces; e: edges (4 doubles each). */
    size_t cap = 4 * EDGE_MAXPTS + 2;
    double *xy = malloc(2 * cap * sizeof *xy);
    double *ll = malloc(2 * cap * sizeof *ll);
    double *cut = malloc(2 * cap * sizeof *cut);
    double *pa = malloc(2 * cap * sizeof *pa);
    double *pb = malloc(2 * cap * sizeof *pb);
    double *e = malloc(4 * 2 * cap * sizeof *e);
    if (st == OM_OK && !(xy && ll && cut && pa && pb && e)) {
        st = OM_ENOMEM;
    }
    for (int trial = 0; trial <= EDGE_NPOLY && st == OM_OK; trial++) {
        bool big = trial == EDGE_NPOLY;
        size_t m = big ? EDGE_MAXPTS : 10 + (size_t)(rnd01() * 51);
        double r = big ? 10000.0 : 25.0 + 225.0 * rnd01();
        double cx = c->x0 + c->w * rnd01(), cy = c->y0 + c->h * rnd01();
        star_polygon(c, cx, cy, r, m, xy);
        s->npoly++;
        for (int orient = 0; orient < 2 && st == OM_OK; orient++) {
            if (orient) {
                reverse_points(xy, m);
            }
            double want = NAN, got, got_cut, want_cut = NAN;
            long tr = 0;
            st = om_area_lonlat(a, xy, m, ll, err);
            if (st == OM_OK) {
                st = om_area_ring_ellipsoidal(a, xy, m, &want, err);
            }
            if (st != OM_OK) {
                break;
            }
            /* Counter-clockwise positive, like the ring. */
            if ((orient == 0) != (want > 0)) {
                s->ring = INFINITY;
            }
            got = edges_area(a, e, ring_edges(ll, m, e, 0), NULL, &tr);
            s->ring = worst_of(s->ring, rel_diff(got, want));
            s->ncross += orient == 0 && tr != 0;

            /* (2) 1..3 cuts an edge, at sorted random interior points. */
            size_t k = 0;
            for (size_t i = 0; i < m; i++) {
                size_t j = (i + 1) % m;
                int ncuts = 1 + (int)(rnd01() * 3);
                double t0 = 0.0;
                cut[2 * k] = xy[2 * i];
                cut[2 * k + 1] = xy[2 * i + 1];
                k++;
                for (int q = 0; q < ncuts; q++) {
                    double t = t0 + (1.0 - t0) * (0.05 + 0.9 * rnd01());
                    cut[2 * k] = xy[2 * i] + t * (xy[2 * j] - xy[2 * i]);
                    cut[2 * k + 1] =
                        xy[2 * i + 1] + t * (xy[2 * j + 1] - xy[2 * i + 1]);
                    k++;
                    t0 = t;
                }
            }
            st = om_area_ring_ellipsoidal(a, cut, k, &want_cut, err);
            if (st == OM_OK) {
                st = om_area_lonlat(a, cut, k, cut, err); /* in place */
            }
            if (st != OM_OK) {
                break;
            }
            got_cut = edges_area(a, e, ring_edges(cut, k, e, 0), NULL, NULL);
            s->split_ring =
                worst_of(s->split_ring, rel_diff(got_cut, want_cut));
            double *worst = big ? &s->split_big : &s->split;
            double *worst_m2 = big ? &s->split_big_m2 : &s->split_m2;
            *worst = worst_of(*worst, rel_diff(got_cut, got));
            *worst_m2 = worst_of(*worst_m2, fabs(got_cut - got));

            /* (3) Fans from the centre: A = centre, v0..vh and
             * B = centre, vh..v(m-1), v0 share the edges centre-v0 and
             * centre-vh; their union is the polygon. */
            size_t h = m / 2, na = 0, nb = 0;
            pa[2 * na] = cx;
            pa[2 * na++ + 1] = cy;
            for (size_t i = 0; i <= h; i++) {
                pa[2 * na] = xy[2 * i];
                pa[2 * na++ + 1] = xy[2 * i + 1];
            }
            pb[2 * nb] = cx;
            pb[2 * nb++ + 1] = cy;
            for (size_t i = h; i <= m; i++) {
                pb[2 * nb] = xy[2 * (i % m)];
                pb[2 * nb++ + 1] = xy[2 * (i % m) + 1];
            }
            double ring_a = NAN, ring_b = NAN;
            st = om_area_ring_ellipsoidal(a, pa, na, &ring_a, err);
            if (st == OM_OK) {
                st = om_area_ring_ellipsoidal(a, pb, nb, &ring_b, err);
            }
            if (st == OM_OK) {
                st = om_area_lonlat(a, pa, na, pa, err);
            }
            if (st == OM_OK) {
                st = om_area_lonlat(a, pb, nb, pb, err);
            }
            if (st != OM_OK) {
                break;
            }
            size_t ne_a = ring_edges(pa, na, e, 0);
            double edge_a = edges_area(a, e, ne_a, NULL, NULL);
            double edge_b =
                edges_area(a, e + 4 * ne_a, ring_edges(pb, nb, e, ne_a) - ne_a,
                           NULL, NULL);
            /* Both pieces' edges in one sum: the kernel's way. */
            double edge_ab =
                edges_area(a, e, ring_edges(pb, nb, e, ne_a), NULL, NULL);
            s->pieces = worst_of(s->pieces, rel_diff(ring_a + ring_b, want));
            s->pieces = worst_of(s->pieces, rel_diff(edge_a + edge_b, want));
            s->pieces = worst_of(s->pieces, rel_diff(edge_ab, want));
            if (!(fabs(ring_a) > 0 && fabs(ring_b) > 0)) {
                s->pieces = INFINITY;
            }
        }
    }
    free(xy);
    free(ll);
    free(cut);
    free(pa);
    free(pb);
    free(e);
    om_area_ctx_free(a);
    return st;
}

#define N_EDGE_CASES (sizeof edge_cases / sizeof edge_cases[0])

/* (1) Σ om_area_edge + om_area_finish is om_area_ring_ellipsoidal. */
TEST(test_area_edges_vs_ring)
{
    for (size_t i = 0; i < N_EDGE_CASES; i++) {
        struct om_error err;
        struct edge_stats s;
        CHECK_OK(edge_case_run(&edge_cases[i], &s, &err), &err);
        printf("  %s: %d polygons x 2 orientations (%d with transits): "
               "edges vs ring worst relative %.3g\n",
               edge_cases[i].crs, s.npoly, s.ncross, s.ring);
        CHECK(s.ring <= 1e-9);
        if (strcmp(edge_cases[i].crs, "EPSG:32631") == 0) {
            CHECK(s.ncross >= 5); /* the prime meridian is crossed */
        }
    }
}

/*
 * (2) Cutting every edge of a ring at interior points. Against the cut
 * ring (what GEOS gives a piece: the cut points are its vertices) the
 * edge terms agree to rounding. Against the uncut ring they differ by the
 * area between each geodesic and the two geodesics through its cut points
 * (the cut points are on the straight segment of the CRS, not on the
 * geodesic): about L^2 * (the geodesic's bend) per edge. Measured: GK and
 * UTM up to 150-200 km off the meridian, 50-500 m polygons: < 1e-6
 * relative; lon/lat (straight lines of constant bearing), much more.
 */
TEST(test_area_edges_split)
{
    for (size_t i = 0; i < N_EDGE_CASES; i++) {
        struct om_error err;
        struct edge_stats s;
        CHECK_OK(edge_case_run(&edge_cases[i], &s, &err), &err);
        bool geographic = strcmp(edge_cases[i].crs, "EPSG:4490") == 0;
        printf("  %s: cut edges vs cut ring worst relative %.3g; cut vs "
               "uncut: small polygons %.3g (%.3g m^2), 20 km %.3g "
               "(%.3g m^2)\n",
               edge_cases[i].crs, s.split_ring, s.split, s.split_m2,
               s.split_big, s.split_big_m2);
        CHECK(s.split_ring <= 1e-9);
        CHECK(s.split <= (geographic ? 1e-4 : 1e-6));
        CHECK(s.split_big <= (geographic ? 1e-3 : 1e-5));
    }
}

/* (3) Two pieces sharing two edges add up to their union. */
TEST(test_area_edges_pieces)
{
    for (size_t i = 0; i < N_EDGE_CASES; i++) {
        struct om_error err;
        struct edge_stats s;
        CHECK_OK(edge_case_run(&edge_cases[i], &s, &err), &err);
        printf("  %s: pieces vs union worst relative %.3g\n", edge_cases[i].crs,
               s.pieces);
        CHECK(s.pieces <= 1e-9);
    }
}

/* Longitude/latitude rings across the prime meridian, the antimeridian and
 * around the north pole, as rings and as loose edges. */
TEST(test_area_edges_transits)
{
    struct om_error err;
    struct om_crs *geo = NULL;
    struct om_area_ctx *a = NULL;
    CHECK_OK(om_crs_new("EPSG:4490", &geo, &err), &err);
    enum om_status st = om_area_ctx_new(geo, &a, &err);
    om_crs_free(geo);
    CHECK_OK(st, &err);

    static const double tr_cases[][5] = {
        /* lon1, lat1, lon2, lat2, transit */
        {-0.5, 10, 0.5, 10, 1},
        {0.5, 10, -0.5, 10, -1},
        {0, 10, 1, 10, 1},
        {1, 10, 0, 10, -1},
        {-1, 10, 0, 10, 0},
        {179.5, 10, -179.5, 10, 0},
        {-179.5, 10, 179.5, 10, 0},
        {359.5, 10, 360.5, 10, 1},
        {10, 10, 10, 20, 0},
        {-90, 0, 90.000001, 0, 0},
        {-90.0000000000000142, 0, 90, 0, 0},
        {90, 0, -90.0000000000000142, 0, 0},
        {-90.0000000000000284, 0, 90, 0, 0},
        {-89.9999999999999858, 0, 90, 0, 1},
        {-90, 0, 89.999999, 0, 1},
    };
    for (size_t i = 0; i < sizeof tr_cases / sizeof tr_cases[0]; i++) {
        double s12 = NAN;
        int t = 9;
        om_area_edge(a, tr_cases[i], tr_cases[i] + 2, &s12, &t);
        if (t != (int)tr_cases[i][4] || !isfinite(s12)) {
            om_area_ctx_free(a);
            FAILF("edge %zu: transit %d, want %d (s12 %g)", i, t,
                  (int)tr_cases[i][4], s12);
            return;
        }
    }
    double p[2] = {126.0, 43.0}, s0 = NAN;
    int t0 = 9;
    om_area_edge(a, p, p, &s0, &t0);

    /* Vertices exactly on 0, 180 and -180; a polar cap (longitudes
     * 0..330, unreduced) and that cap cut by a geodesic into a piece
     * without the pole and one with it. */
    double prime[] = {-0.01, 51.5, 0.0,   51.49, 0.01,
                      51.5,  0.01, 51.51, -0.01, 51.51};
    double anti[] = {179.99,  -17.0,  180.0,  -17.01, -179.99, -17.0,
                     -179.99, -16.99, -180.0, -16.98, 179.99,  -16.99};
    double cap[24], half1[12], half2[16];
    for (int i = 0; i < 12; i++) {
        cap[2 * i] = 30.0 * i;
        cap[2 * i + 1] = 89.0;
    }
    memcpy(half1, cap, sizeof half1);          /* 0..150 */
    memcpy(half2, cap + 10, 14 * sizeof *cap); /* 150..330 */
    half2[14] = cap[0];                        /* and back to 0 */
    half2[15] = cap[1];
    struct {
        double *ll;
        size_t n;
    } rings[] = {{prime, 5}, {anti, 6}, {cap, 12}, {half1, 6}, {half2, 8}};
    double got[5][2], want[5][2];
    long trs[5][2];
    double e[4 * 12];
    for (int r = 0; r < 5 && st == OM_OK; r++) {
        for (int o = 0; o < 2 && st == OM_OK; o++) {
            if (o) {
                reverse_points(rings[r].ll, rings[r].n);
            }
            st = om_area_ring_ellipsoidal(a, rings[r].ll, rings[r].n,
                                          &want[r][o], &err);
            got[r][o] =
                edges_area(a, e, ring_edges(rings[r].ll, rings[r].n, e, 0),
                           &trs[r][o], NULL);
        }
    }
    om_area_ctx_free(a);
    CHECK_OK(st, &err);
    CHECK(s0 == 0.0 && t0 == 0);
    for (int r = 0; r < 5; r++) {
        CHECK(want[r][0] > 0 && want[r][1] < 0);
        CHECK_NEAR(got[r][0], want[r][0], 1e-9, 0);
        CHECK_NEAR(got[r][1], want[r][1], 1e-9, 0);
    }
    CHECK_INT(trs[0][0], 0); /* crosses 0E twice */
    CHECK_INT(trs[2][0], 1); /* winds once around the pole */
    CHECK_INT(trs[2][1], -1);
    /* The cap, a 12-gon inscribed in the circle at 89N (radius ~111.7 km):
     * 3 r^2 / (pi r^2) = 0.955 of the spherical cap's 3.9e10 m^2. */
    CHECK(want[2][0] > 3.5e10 && want[2][0] < 3.9e10);
    CHECK_NEAR(got[3][0] + got[4][0], want[2][0], 1e-9, 0);
}

/* om_area_lonlat: the inverse projection, in place or not, and its
 * errors. */
TEST(test_area_lonlat)
{
    double xy[] = {42623456.7, 4812345.6, 42500000.0, 4700000.0};
    double local[4] = {xy[0] - 42500000.0, xy[1], 0.0, xy[3]}, want[4];
    bool ok = tm_inverse(126.0, local, 2, want);
    struct om_error err, err_nan, err_lat, err_null;
    struct om_crs *gk = NULL, *geo = NULL;
    struct om_area_ctx *agk = NULL, *ageo = NULL;
    double ll[4] = {0}, inplace[4];
    memcpy(inplace, xy, sizeof xy);
    enum om_status st = om_crs_new("EPSG:4530", &gk, &err);
    if (st == OM_OK) {
        st = om_crs_new("EPSG:4490", &geo, &err);
    }
    if (st == OM_OK) {
        st = om_area_ctx_new(gk, &agk, &err);
    }
    if (st == OM_OK) {
        st = om_area_ctx_new(geo, &ageo, &err);
    }
    if (st == OM_OK) {
        st = om_area_lonlat(agk, xy, 2, ll, &err);
    }
    if (st == OM_OK) {
        st = om_area_lonlat(agk, inplace, 2, inplace, &err);
    }
    enum om_status st_empty = OM_EINVAL, st_nan = OM_OK, st_lat = OM_OK,
                   st_null = OM_OK;
    double geo_in[] = {126.5, 43.25, 126.5, 95.0}, geo_out[4] = {0};
    double bad[] = {42500000.0, 4700000.0, NAN, 4700000.0};
    if (st == OM_OK) {
        st = om_area_lonlat(ageo, geo_in, 1, geo_out, &err);
        st_empty = om_area_lonlat(agk, NULL, 0, NULL, &err);
        st_nan = om_area_lonlat(agk, bad, 2, bad, &err_nan);
        st_lat = om_area_lonlat(ageo, geo_in, 2, geo_out, &err_lat);
        st_null = om_area_lonlat(agk, xy, 1, NULL, &err_null);
    }
    om_area_ctx_free(agk);
    om_area_ctx_free(ageo);
    om_crs_free(gk);
    om_crs_free(geo);
    CHECK(ok);
    CHECK_OK(st, &err);
    /* 1e-11 degrees is 1 mm. */
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(inplace[i], want[i], 0, 1e-11);
    }
    CHECK(memcmp(inplace, ll, sizeof ll) == 0);
    CHECK(geo_out[0] == 126.5 && geo_out[1] == 43.25);
    CHECK_STATUS(st_empty, OM_OK);
    CHECK_STATUS(st_nan, OM_ECRS);
    CHECK_CONTAINS(err_nan.msg, "point 1");
    CHECK_STATUS(st_lat, OM_ECRS);
    CHECK_CONTAINS(err_lat.msg, "point 1");
    CHECK_STATUS(st_null, OM_EINVAL);
}

/* One shared om_crs, an area context and a transform per thread. */
struct thread_job {
    const struct om_crs *gk, *geo;
    double area;
    double x;
    enum om_status st;
};

static void *thread_main(void *arg)
{
    struct thread_job *j = arg;
    struct om_error err;
    struct om_area_ctx *a = NULL;
    struct om_transform *t = NULL;
    j->area = 0;
    j->st = om_area_ctx_new(j->gk, &a, &err);
    if (j->st == OM_OK) {
        j->st = om_transform_new(j->geo, j->gk, &t, &err);
    }
    for (int k = 0; k < 200 && j->st == OM_OK; k++) {
        double x0 = 42400000.0 + 1000.0 * k, y0 = 4800000.0;
        double ring[] = {x0,       y0, x0 + 100, y0, x0 + 100,
                         y0 + 100, x0, y0 + 100, x0, y0};
        double r;
        j->st = om_area_ring_ellipsoidal(a, ring, 5, &r, &err);
        j->area += r;
        double pt[] = {126.0, 43.0};
        if (j->st == OM_OK) {
            j->st = om_transform_points(t, pt, 1, &err);
        }
        j->x = pt[0];
    }
    om_transform_free(t);
    om_area_ctx_free(a);
    return NULL;
}

TEST(test_threads)
{
    /* test.h's counting allocator is not thread-safe: use plain malloc here
     * (ASan still checks for leaks). */
    om_set_allocator(NULL);
    struct om_error err;
    struct om_crs *gk = NULL, *geo = NULL;
    CHECK_OK(om_crs_new("EPSG:4530", &gk, &err), &err);
    enum om_status st = om_crs_new("EPSG:4490", &geo, &err);
    struct thread_job jobs[4];
    pthread_t th[4];
    int started = 0;
    for (int i = 0; i < 4 && st == OM_OK; i++) {
        jobs[i].gk = gk;
        jobs[i].geo = geo;
        if (pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0) {
            started++;
        }
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    om_crs_free(gk);
    om_crs_free(geo);
    CHECK_OK(st, &err);
    CHECK_INT(started, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_STATUS(jobs[i].st, OM_OK);
        CHECK(jobs[i].area == jobs[0].area);
        CHECK_NEAR(jobs[i].area, 200 * 1e4, 1e-3, 0);
        CHECK_NEAR(jobs[i].x, 42500000.0, 0, 1e-6);
    }
}

int main(void)
{
    TEST_MAIN_BEGIN("test_crs");
    RUN(test_zone_formulas_vs_proj);
    RUN(test_zone_formulas_vs_gdalsrsinfo);
    RUN(test_zone_helpers);
    RUN(test_auto_zone_jilin);
    RUN(test_parse_specs);
    RUN(test_parse_esri_wkt);
    RUN(test_parse_proj_string_and_equivalence);
    RUN(test_parse_errors);
    RUN(test_oom);
    RUN(test_axis_order_and_roundtrip);
    RUN(test_transform_errors);
    RUN(test_layer_transform);
    RUN(test_planar_area);
    RUN(test_ellipsoidal_jilin);
    RUN(test_ellipsoidal_parcels);
    RUN(test_ellipsoidal_hole);
    RUN(test_area_geographic_layer);
    RUN(test_area_lonlat);
    RUN(test_area_edges_vs_ring);
    RUN(test_area_edges_split);
    RUN(test_area_edges_pieces);
    RUN(test_area_edges_transits);
    RUN(test_threads);
    TEST_MAIN_END();
}
