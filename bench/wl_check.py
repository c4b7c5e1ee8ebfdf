"""bench/wl_check.py -- workload (c): compliance check of the site set.

The construction sites synth writes (sites/*.txt, 部标 TXT) checked with
the default review profile. What every tool computes, per site parcel
(DKBH), planar m2 (onemap and PostGIS also ellipsoidal):

  C001  site ∩ YJJBNTBHTB           C002  site ∩ STBHHX
  C003  site ∩ cultivated DLTB by DLBM (0101 0102 0103)
  C004  site ∩ DLTB by DLBM         C005  site ∩ GHYT by YDYHFLDM

compared per (site, DKBH, check, class).

onemap    compute: build/tools/bench-check on the project loaded in this
          run: the review opened once, om_review_check timed per site
          REPS times; compute = the sum over the sites of the per-site
          medians (checking the whole set once, warm, as a service does).
          e2e: load of the layers the review reads + the CLI batch
          `onemap check P sites/*.txt --no-store --format json -o DIR`
          (process start, review open, TXT read, check, JSON written);
          the areas compared come from that JSON. rss: the CLI's.
PostGIS   the site GeoPackages appended to a table `site` (ogr2ogr,
          index, VACUUM ANALYZE: timed as the site load), then one
          prepared statement per site over one connection, psql \\timing:
          a warm-up round, then REPS rounds; compute = the sum over the
          sites of the per-site medians; e2e = layer load + site load +
          compute. rss: the backend's VmHWM.
geopandas bench/peers/gpd_check.py: layers and sites read once, rtree
          built, then each site timed; compute = the sum over the sites;
          e2e = the process. Both sjoin+intersection and overlay at the
          first scale; the faster is the main row from then on.
GDAL      per site and layer ogr_layer_algebra.py Intersection (site as
          input, the layer as method: the layer is then read through its
          R-tree around the site only; the other way round reads every
          feature of the layer), the four results in one GeoPackage per
          site, then one ogr2ogr -dialect SQLite (SpatiaLite ST_Area, sum
          by DKBH and class) to CSV. e2e = every process; compute None.

BENCH_CHECK_REPS (default 10): repetitions per site of onemap's library
call and of the PostGIS statement.
"""

import glob
import json
import os
import statistics

import common
from common import BenchError, Outcome

NAME = "c"
TITLE = ("compliance check of the site set (default profile, C001-C005 "
         "areas per site parcel)")
# XZQ: the review also locates each parcel in the admin units
LAYERS = {"onemap": ["DLTB", "XZQ", "YJJBNTBHTB", "STBHHX", "GHYT"],
          "postgis": ["DLTB", "YJJBNTBHTB", "STBHHX", "GHYT"]}
TOOLS = common.ALL_TOOLS
REPS = int(os.environ.get("BENCH_CHECK_REPS", "10"))
NOTES = {
    "onemap": "compute: om_review_check per site on a review opened once "
              "(build/tools/bench-check), sum over the sites of the "
              "per-site medians of %d runs; e2e: import of the 5 layers "
              "the review reads + `onemap check P sites/*.txt --no-store "
              "--format json` (planar and ellipsoidal areas, C006, admin "
              "units, pieces, reasons)" % REPS,
    "postgis": "one prepared statement per site (site ∩ *_sub tables, "
               "CASE WHEN ST_CoveredBy, planar and ellipsoidal areas), "
               "sum over the sites of the per-site medians of %d runs; "
               "e2e: layer load + site load + that" % REPS,
    "geopandas": "layers read once, rtree built, then per site sjoin + "
                 "prepared covers/intersection or overlay on the rtree "
                 "candidates (the faster; both in the report); planar only",
    "gdal": "per site and layer ogr_layer_algebra.py Intersection "
            "(PRETEST_CONTAINMENT, USE_PREPARED_GEOMETRIES) + one "
            "ogr2ogr -dialect SQLite for the areas: a process per call, "
            "compute not separable; planar only",
}
# the onemap layers each peer cuts the sites with, and its class column
PEER_LAYERS = ("YJJBNTBHTB", "STBHHX", "DLTB", "GHYT")
CLASS_OF = {"YJJBNTBHTB": None, "STBHHX": None, "DLTB": "DLBM",
            "GHYT": "YDYHFLDM"}
CHECK_OF = {"YJJBNTBHTB": "C001", "STBHHX": "C002", "DLTB": "C004",
            "GHYT": "C005"}
CULTIVATED = ("0101", "0102", "0103")
# Ellipsoidal agreement (onemap vs PostGIS): 1e-8 relative or 1e-3 m2 (a
# tenth of the 0.01 m2 official areas are rounded to). A piece's boundary
# runs along the site's and the feature's edges; where a tile boundary
# crosses such an edge the piece gets a new vertex on the straight
# (projected) edge, and the geodesics through it enclose a different area
# than the geodesic of the whole edge: about L^3 x / (12 R^2) for an edge
# of length L at x from the central meridian, independent of the piece's
# area. onemap's tiles and ST_Subdivide's cut in different places: seen up
# to 6e-4 m2 (1.3e-8 relative) on a 400 m x 250 m site 100 km from the
# meridian at --cells 700, ~6e-5 m2 at 240.
ELL_REL = 1e-8
ELL_ABS = 1e-3

PG_QUERY = """PREPARE chk(text) AS
WITH s AS (SELECT code, geom FROM site WHERE site = $1),
pieces AS (
  SELECT s.code, l.src, l.cls,
         CASE WHEN ST_CoveredBy(l.geom, s.geom) THEN l.geom
              ELSE ST_Intersection(l.geom, s.geom) END AS g
  FROM s JOIN (
        SELECT 'Y' AS src, '' AS cls, geom FROM yjjbntbhtb_sub
        UNION ALL SELECT 'S', '', geom FROM stbhhx_sub
        UNION ALL SELECT 'D', cls, geom FROM dltb_sub
        UNION ALL SELECT 'G', cls, geom FROM ghyt_sub) l
    ON ST_Intersects(l.geom, s.geom)),
a AS (SELECT code, src, cls, ST_Area(g) AS pa,
             ST_Area(ST_Transform(g, 4490)::geography) AS ea FROM pieces)
SELECT $1, code, 'C001', '', sum(pa), sum(ea) FROM a
  WHERE src = 'Y' GROUP BY code
UNION ALL
SELECT $1, code, 'C002', '', sum(pa), sum(ea) FROM a
  WHERE src = 'S' GROUP BY code
UNION ALL
SELECT $1, code, 'C003', cls, sum(pa), sum(ea) FROM a
  WHERE src = 'D' AND cls IN ('0101', '0102', '0103') GROUP BY code, cls
UNION ALL
SELECT $1, code, 'C004', cls, sum(pa), sum(ea) FROM a
  WHERE src = 'D' GROUP BY code, cls
UNION ALL
SELECT $1, code, 'C005', cls, sum(pa), sum(ea) FROM a
  WHERE src = 'G' GROUP BY code, cls;
"""


def state(ctx, sc):
    """What this workload keeps for its report: per scale, per tool."""
    st = ctx.extra.setdefault("wl_check", {})
    return st.setdefault(sc.name, {"onemap": {}, "postgis": {},
                                   "geopandas": {}, "gdal": {}})


def stem(path):
    return os.path.splitext(os.path.basename(path))[0]


def workdir(sc, tool, rep):
    d = sc.path("check", "%s_%d" % (tool, rep))
    common.rmtree(d)
    os.makedirs(d)
    return d


def setup(ctx, sc):
    state(ctx, sc)
    if not sc.sites_txt:
        raise BenchError("%s: synth wrote no sites" % sc.name)


# ---- onemap ----

def read_check_json(ck):
    """{(site, DKBH, check, class): (planar, ellipsoidal)} of the CLI's JSON.

    C001/C002: the finding's area, class ''; C003-C005: each class.
    """
    om = {}
    for path in sorted(glob.glob(os.path.join(ck, "*.json"))):
        if os.path.basename(path).startswith("summary"):
            continue
        site = stem(path)
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for p in doc["parcels"]:
            for fd in p["findings"]:
                cid = fd["check_id"]
                if cid in ("C001", "C002"):
                    om[(site, p["code"], cid, "")] = (fd["area_m2"],
                                                      fd["area_ell_m2"])
                elif cid in ("C003", "C004", "C005"):
                    for c in fd["classes"]:
                        om[(site, p["code"], cid, c["value"])] = (
                            c["area_m2"], c["area_ell_m2"])
    return om


def read_bench_check(out):
    """bench-check's CSV -> (open row, {site: row}, threads row)."""
    lines = out.strip().splitlines()
    head = lines[0].split(",")
    opened, sites, threads = None, {}, None
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row["site"] == "(open)":
            opened = row
        elif row["site"].startswith("(threads"):
            threads = row
        else:
            sites[row["site"]] = row
    return opened, sites, threads


def run_onemap(ctx, sc, rep):
    st = state(ctx, sc)["onemap"]
    d = workdir(sc, "onemap", rep)
    # the library call per site, on the project loaded in this run
    r = common.run([common.BENCH_CHECK, sc.om_project] + sc.sites_txt
                   + ["--reps", str(REPS), "--open-reps", "3",
                      "--threads", "2"], timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(timed_out=True, e2e=r.wall, note="bench-check")
    opened, sites, threads = read_bench_check(r.out)
    compute = sum(float(s["median_ms"]) for s in sites.values()) / 1e3
    # the CLI batch, end to end; exit 1: some sites are meant to fail
    ck = os.path.join(d, "ck")
    cli = common.onemap("check", sc.om_project, *sc.sites_txt, "--no-store",
                        "--format", "json", "-o", ck, ok=(0, 1),
                        timeout=ctx.timeout)
    if cli.timed_out:
        return Outcome(compute=compute, e2e=cli.wall, timed_out=True,
                       note="CLI batch")
    om = read_check_json(ck)
    if len(om) < 10 or len({k[0] for k in om}) < len(sc.sites_txt):
        raise BenchError("onemap check: %d areas on %d sites in %s: too "
                         "few to compare" % (len(om), len({k[0] for k in om}),
                                             ck))
    e2e = sc.load_time("onemap", rep, LAYERS["onemap"]) + cli.wall
    st[rep] = {"open": opened, "sites": sites, "threads": threads,
               "cli_s": cli.wall, "cli_rss_kb": cli.rss_kb,
               "lib_rss_kb": r.rss_kb}
    res = {"planar": {k: v[0] for k, v in om.items()},
           "ell": {k: v[1] for k, v in om.items()}}
    return Outcome(compute=compute, e2e=e2e, rss_kb=cli.rss_kb, result=res,
                   note="CLI batch %.3f s" % cli.wall)


# ---- PostGIS ----

def pg_load_sites(sc):
    """Table site(site, code, geom) from the site GeoPackages; seconds."""
    common.sql("SET client_min_messages = warning; DROP TABLE IF EXISTS site")
    t = 0.0
    for g in sc.sites_gpkg:
        s = stem(g)
        t += common.run(["ogr2ogr", "-f", "PostgreSQL",
                         "PG:dbname=%s" % os.environ["PGDATABASE"], g,
                         "-nln", "site", "-append", "-nlt", "MULTIPOLYGON",
                         "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid",
                         "-sql", "SELECT '%s' AS site, DKBH AS code, geom "
                         "FROM \"%s\"" % (s, s)]).wall
    for q in ("CREATE INDEX ON site (site)", "VACUUM ANALYZE site"):
        t += common.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-c",
                         q]).wall
    return t


def run_postgis(ctx, sc, rep):
    st = state(ctx, sc)["postgis"]
    d = workdir(sc, "postgis", rep)
    site_load = pg_load_sites(sc)
    names = [stem(g) for g in sc.sites_gpkg]
    out = os.path.join(d, "areas.txt")
    lines = ["\\timing on", "\\o /dev/null", PG_QUERY.strip()]
    # round 0 warms the cache and is not counted; the last one's rows kept
    for k in range(REPS + 1):
        if k == REPS:
            lines.append("\\o %s" % out)
        lines += ["EXECUTE chk('%s');" % s for s in names]
    r = common.psql("\n".join(lines), timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(timed_out=True, e2e=r.wall)
    # "Time: N ms" per statement: PREPARE, the warm-up round, REPS rounds
    ms = [float(x.split()[1]) for x in r.out.splitlines()
          if x.startswith("Time:")]
    n = len(names)
    if len(ms) != 1 + n * (REPS + 1):
        raise BenchError("PostGIS check: %d timings, expected %d"
                         % (len(ms), 1 + n * (REPS + 1)))
    per = {s: [ms[1 + n * k + i] for k in range(1, REPS + 1)]
           for i, s in enumerate(names)}
    compute = sum(statistics.median(v) for v in per.values()) / 1e3
    pa, ea = {}, {}
    with open(out, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            site, code, cid, cls, p, e = line.rstrip("\n").split("|")
            pa[(site, code, cid, cls)] = float(p)
            ea[(site, code, cid, cls)] = float(e)
    st[rep] = {"sites": per, "site_load_s": site_load, "rss_kb": r.rss_kb}
    e2e = sc.load_time("postgis", rep, LAYERS["postgis"]) + site_load + compute
    return Outcome(compute=compute, e2e=e2e, rss_kb=r.rss_kb,
                   result={"planar": pa, "ell": ea},
                   note="site load %.3f s" % site_load)


# ---- geopandas ----

def gpd_once(ctx, sc, rep, method):
    d = workdir(sc, "geopandas_" + method, rep)
    out = os.path.join(d, "areas.csv")
    r, j = common.gpd("gpd_check.py", "--method", method, out,
                      *["%s=%s" % (c, sc.inputs[c]) for c in PEER_LAYERS],
                      *sc.sites_gpkg, timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(timed_out=True, e2e=r.wall, note=method), None
    pa = {}
    with open(out, encoding="utf-8") as f:
        next(f)
        for line in f:
            site, code, cid, cls, a = line.rstrip("\n").split(",")
            pa[(site, code, cid, cls)] = float(a)
    o = Outcome(compute=j["compute_s"], e2e=r.wall, rss_kb=r.rss_kb,
                result={"planar": pa, "ell": None}, note=method)
    return o, j


def run_geopandas(ctx, sc, rep):
    st = state(ctx, sc)["geopandas"]
    g = ctx.extra.setdefault("wl_check", {})
    method = g.get("gpd_method")
    if method:
        o, j = gpd_once(ctx, sc, rep, method)
        st[rep] = {method: (o, j)}
        return o
    # first time: both methods, the faster becomes the main row; the other
    # is checked against onemap here (agree() sees only the main one)
    both = {m: gpd_once(ctx, sc, rep, m) for m in ("sjoin", "overlay")}
    st[rep] = both
    done = {m: oj for m, oj in both.items() if not oj[0].timed_out}
    if not done:
        return both["sjoin"][0]
    best = min(done, key=lambda m: done[m][0].compute)
    g["gpd_method"] = best
    ref = g.get("ref", {}).get((sc.name, rep))
    for m, (o, _) in done.items():
        if m != best and ref is not None:
            g.setdefault("gpd_other", []).append(
                (sc.name, m, common.agree_maps(
                    "(c) planar areas (geopandas %s)" % m,
                    ref.result["planar"], o.result["planar"],
                    "geopandas " + m)))
    o = both[best][0]
    o.note = "%s (faster than %s)" % (best, "/".join(
        m for m in both if m != best))
    return o


# ---- GDAL ----

def run_gdal(ctx, sc, rep):
    st = state(ctx, sc)["gdal"]
    d = workdir(sc, "gdal", rep)
    total, rss, per = 0.0, 0, {}
    pa = {}

    def call(cmd):
        nonlocal total, rss
        left = ctx.timeout - total
        r = common.run(cmd, timeout=max(left, 1.0))
        total += r.wall
        rss = max(rss, r.rss_kb or 0)
        return r

    for g in sc.sites_gpkg:
        s = stem(g)
        out = os.path.join(d, s + ".gpkg")
        t0 = total
        selects = []
        for code in PEER_LAYERS:
            cls = CLASS_OF[code]
            r = call(["ogr_layer_algebra.py", "Intersection",
                      "-input_ds", g, "-method_ds", sc.inputs[code],
                      "-output_ds", out, "-output_lyr", code, "-f", "GPKG",
                      "-input_fields", "DKBH",
                      "-method_fields", cls or "NONE",
                      "-opt", "PRETEST_CONTAINMENT=YES",
                      "-opt", "USE_PREPARED_GEOMETRIES=YES"])
            if r.timed_out:
                return Outcome(timed_out=True, e2e=total, rss_kb=rss)
            c = ("'%s'" % "','".join(CULTIVATED))
            sel = ("SELECT '%s' AS chk, DKBH AS code, %s AS cls, "
                   "sum(ST_Area(geom)) AS a FROM \"%s\" GROUP BY 2, 3")
            selects.append(sel % (CHECK_OF[code], cls or "''", code))
            if code == "DLTB":
                selects.append(
                    ("SELECT 'C003' AS chk, DKBH AS code, DLBM AS cls, "
                     "sum(ST_Area(geom)) AS a FROM \"DLTB\" "
                     "WHERE DLBM IN (%s) GROUP BY 2, 3") % c)
        r = call(["ogr2ogr", "-f", "CSV", "/vsistdout/", out,
                  "-dialect", "SQLite", "-sql", " UNION ALL ".join(selects)])
        if r.timed_out:
            return Outcome(timed_out=True, e2e=total, rss_kb=rss)
        rows = r.out.strip().splitlines()
        for line in rows[1:]:
            cid, code, cls, a = [x.strip('"') for x in line.split(",")]
            pa[(s, code, cid, cls)] = float(a)
        per[s] = total - t0
    st[rep] = {"sites": per, "rss_kb": rss}
    return Outcome(compute=None, e2e=total, rss_kb=rss,
                   result={"planar": pa, "ell": None},
                   note="%d processes" % (5 * len(sc.sites_gpkg)))


def run(ctx, sc, tool, rep):
    if tool == "onemap":
        o = run_onemap(ctx, sc, rep)
        # kept for checking the geopandas variant that is not the main row
        ctx.extra.setdefault("wl_check", {}).setdefault("ref", {})[
            (sc.name, rep)] = o
        return o
    if tool == "postgis":
        return run_postgis(ctx, sc, rep)
    if tool == "geopandas":
        return run_geopandas(ctx, sc, rep)
    if tool == "gdal":
        return run_gdal(ctx, sc, rep)
    raise BenchError("workload c: unknown tool %s" % tool)


def max_abs(a, b):
    return max((abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)),
               default=0.0)


def agree(ctx, sc, ref, other, tool):
    s = common.agree_maps("(c) planar areas per (site, DKBH, check, class)",
                          ref.result["planar"], other.result["planar"], tool)
    # onemap's areas come from the CLI's JSON (9 decimals): up to 5e-10
    # m2 of rounding
    s += ", largest absolute difference %.2g m2" % max_abs(
        ref.result["planar"], other.result["planar"])
    if other.result.get("ell") is None:
        return "planar: " + s
    e = common.agree_maps("(c) ellipsoidal areas", ref.result["ell"],
                          other.result["ell"], tool, rel=ELL_REL,
                          abs_m2=ELL_ABS)
    return "planar: %s; ellipsoidal (1e-8 or 1e-3 m2): %s" % (s, e)


# ---- report ----

def fmt_mmm(xs):
    if not xs:
        return "–"
    return "%.2f (%.2f–%.2f)" % (statistics.median(xs), min(xs), max(xs))


def ratio(a, b):
    if not a or not b:
        return "–"
    return "%.1f×" % (statistics.median(a) / statistics.median(b))


def report(ctx, sc):
    st = ctx.extra.get("wl_check", {}).get(sc.name)
    if not st or not st["onemap"]:
        return ""
    om = st["onemap"]
    # per site: onemap's per-run medians (min/max: the extremes of every
    # run); the peers' raw times of every run
    sites = list(next(iter(om.values()))["sites"])
    omm, oml, omh = {}, {}, {}
    for v in om.values():
        for s, row in v["sites"].items():
            omm.setdefault(s, []).append(float(row["median_ms"]))
            oml.setdefault(s, []).append(float(row["min_ms"]))
            omh.setdefault(s, []).append(float(row["max_ms"]))
    pg = {}
    for v in st["postgis"].values():
        for s, xs in v["sites"].items():
            pg.setdefault(s, []).extend(xs)
    gp = {}
    gmeth = ctx.extra.get("wl_check", {}).get("gpd_method")
    for v in st["geopandas"].values():
        oj = v.get(gmeth)
        if oj and oj[1]:
            for s, x in oj[1]["sites"].items():
                gp.setdefault(s, []).append(x * 1e3)
    gd = {}
    for v in st["gdal"].values():
        for s, x in v["sites"].items():
            gd.setdefault(s, []).append(x * 1e3)
    last = om[max(om)]["sites"]
    out = []
    w = out.append
    w("%d sites (synth's sites/*.txt). Wall time of one site in ms, median "
      "(min–max). onemap: om_review_check on a review opened once "
      "(build/tools/bench-check, %d runs per site per repetition); "
      "PostGIS: EXECUTE of one prepared statement per site over one psql "
      "connection (\\timing, %d runs after a warm-up round); geopandas "
      "(%s): one run per site in a process that has read the layers and "
      "built the rtree; GDAL: the ogr_layer_algebra.py and ogr2ogr "
      "processes of the site (4 + 1)." % (len(sites), REPS, REPS,
                                          gmeth or "–"))
    w("")
    w("| site | parcels | vertices | pieces | onemap ms | PostGIS ms | "
      "geopandas ms | GDAL ms | PostGIS / onemap | geopandas / onemap | "
      "GDAL / onemap |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    for s in sites:
        row = last[s]
        o = omm[s]
        w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            s, row["parcels"], row["vertices"], row["pieces"],
            "%.2f (%.2f–%.2f)" % (statistics.median(o), min(oml[s]),
                                  max(omh[s])),
            fmt_mmm(pg.get(s)), fmt_mmm(gp.get(s)), fmt_mmm(gd.get(s)),
            ratio(pg.get(s), o), ratio(gp.get(s), o), ratio(gd.get(s), o)))
    w("")

    def set_ms(runs):
        """Median over runs of the sum over sites of {site: ms or [ms]}."""
        sums = [sum(statistics.median(x) if isinstance(x, list) else x
                    for x in per.values()) for per in runs]
        return statistics.median(sums) if sums else None

    rows = []
    opens = [float(v["open"]["median_ms"]) for v in om.values()]
    o0 = om[max(om)]["open"]
    rows.append(("review open (read the layers, filter, tile, R-trees), ms, "
                 "median of 3 per run",
                 "%s; %s features, %s vertices in %s layers" % (
                     fmt_mmm(opens), o0["parcels"], o0["vertices"],
                     o0["pieces"])))
    rows.append(("CLI end to end, the batch (`onemap check P sites/*.txt "
                 "--no-store --format json -o DIR`), s",
                 fmt_mmm([v["cli_s"] for v in om.values()])))
    thr = [v["threads"] for v in om.values() if v["threads"]]
    if thr:
        t = thr[-1]
        rows.append(("2 threads on one review, every site %d times" % REPS,
                     "%s checks in %.0f ms = %.2f ms per check" % (
                         t["parcels"], float(t["median_ms"]),
                         float(t["min_ms"]))))
    rows.append(("peak RSS: onemap CLI / bench-check, MB",
                 "%.0f / %.0f" % (
                     max(v["cli_rss_kb"] for v in om.values()) / 1024,
                     max(v["lib_rss_kb"] for v in om.values()) / 1024)))
    if st["postgis"]:
        rows.append(("PostGIS site load (ogr2ogr per site + index + "
                     "VACUUM ANALYZE), s",
                     fmt_mmm([v["site_load_s"]
                              for v in st["postgis"].values()])))
        rows.append(("PostGIS backend peak RSS (VmHWM), MB", "%.0f" % (
            max(v["rss_kb"] or 0 for v in st["postgis"].values()) / 1024)))
    for v in st["geopandas"].values():
        for m, (o, j) in v.items():
            if o.timed_out:
                rows.append(("geopandas %s" % m, "timed out"))
            else:
                rows.append((
                    "geopandas %s: read, rtree, the sites, process (s); "
                    "peak RSS MB" % m,
                    "%.2f, %.2f, %.2f, %.2f; %.0f" % (
                        j["read_s"], j["index_s"], j["compute_s"], o.e2e,
                        (o.rss_kb or 0) / 1024)))
        break
    w("| | |")
    w("|---|---|")
    for a, b in rows:
        w("| %s | %s |" % (a, b))
    w("")
    parts = ["onemap %.1f ms" % set_ms(
        [{s: float(r["median_ms"]) for s, r in v["sites"].items()}
         for v in om.values()])]
    if st["postgis"]:
        parts.append("PostGIS %.1f ms" % set_ms(
            [v["sites"] for v in st["postgis"].values()]))
    gruns = [v[gmeth][1]["sites"] for v in st["geopandas"].values()
             if gmeth in v and v[gmeth][1]]
    if gruns:
        parts.append("geopandas %.1f ms" % set_ms(
            [{s: x * 1e3 for s, x in g.items()} for g in gruns]))
    if st["gdal"]:
        parts.append("GDAL %.1f ms" % set_ms(
            [{s: x * 1e3 for s, x in v["sites"].items()}
             for v in st["gdal"].values()]))
    w("The whole site set once (sum of the per-site medians): %s."
      % "; ".join(parts))
    w("")
    seen = set()
    for scn, wl, tool, s in ctx.agreements:
        if scn == sc.name and wl == NAME and (tool, s) not in seen:
            seen.add((tool, s))
            w("- agreement with %s: %s" % (tool, s))
    for scn, m, s in ctx.extra.get("wl_check", {}).get("gpd_other", []):
        if scn == sc.name:
            w("- agreement with geopandas %s (the slower variant): %s"
              % (m, s))
    w("")
    w("onemap's areas are read from the CLI's JSON, which has 9 decimals "
      "(up to 5e-10 m2 of rounding). GDAL's areas "
      "are SpatiaLite's ST_Area on the Gauss-Krüger coordinates (8-digit "
      "eastings): its absolute differences on large pieces are larger, "
      "still within 1e-9 relative.")
    w("")
    w("PostGIS, geopandas and GDAL compute the five areas only; onemap's "
      "call also evaluates C006 (purpose), locates the admin units, builds "
      "the pieces layer (one piece per parcel, check and feature), the "
      "ellipsoidal areas and the reasons.")
    return "\n".join(out)

