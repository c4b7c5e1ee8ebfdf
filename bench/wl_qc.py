"""bench/wl_qc.py -- workload (d): quality control of the parcel layer.

Validity (onemap G001) and overlaps (T001: every pair of valid parcels whose
interiors intersect, DE-9IM '2********', with the area of the
intersection) of DLTB, in two variants made in setup() from the common
input: "clean" (the layer as synth made it: a clean coverage, no finding
expected) and "defects" (one parcel moved 0.5 m east, one buffered by
0.3 m: overlaps and gaps; one given a zero-width spike at its first vertex:
invalid, a ring self-intersection; three deleted: gaps). Each variant is
imported into an onemap project of its own (DLTB only: no extent layer, so
the gaps are the holes of the parcels' union on every side) and exported
again, so that every tool reads onemap's fids and coordinates.

The main row of the workload is the defects variant; the clean variant and
the gaps (T002, onemap and PostGIS only: the issue's QC is validity +
overlaps) are measured in the same runs and shown in the report section.
"""

import csv
import json
import os
import sqlite3
import time

import common
from common import BenchError, Disagree, Outcome

NAME = "d"
TITLE = "QC of the parcel layer: validity + overlaps (DLTB with defects)"
# Each variant is loaded by this module itself (its own projects and
# tables, timed in run()), not by the common per-repetition load.
LAYERS = {"onemap": [], "postgis": []}
TOOLS = common.ALL_TOOLS
VARIANTS = ("defects", "clean")
# the gaps part: the tools that have it (geopandas and GDAL are not asked)
GAP_TOOLS = ("onemap", "postgis")
# overlaps of this area or less are not compared as pairs (ST_Relate may
# see an interior intersection whose area rounds to ~1e-10 m2 at T-junctions);
# their areas still go through agree_maps (missing = 0, 1e-6 m2 absolute)
TINY_M2 = 1e-6

NOTES = {
    "onemap": "`onemap qc P --layer DLTB --only G001,T001 -j 2 --no-store "
              "--format json`; compute = that command on a project holding "
              "the layer; e2e = init + import of the GeoPackage + qc.",
    "postgis": "the layer loaded per run (ogr2ogr, GiST, VACUUM ANALYZE: "
               "the e2e load), then two queries, each a backend of its own: "
               "`NOT ST_IsValid(geom)`, and the GiST self-join "
               "`a.fid + 0 < b.fid + 0 AND a.geom && b.geom AND "
               "ST_Relate(a.geom, b.geom, '2********')` with "
               "ST_Area(ST_Intersection) per pair, the invalid fids of the "
               "first query left out; compute = the sum. No ST_Subdivide: "
               "the findings are per parcel and the parcels are small.",
    "geopandas": "bench/peers/gpd_qc.py: read (fiona, keeping the fids), "
                 "is_valid, sindex.query_bulk on the rtree index (bare "
                 "boxes: with predicate='intersects' it was slower, 14.8 "
                 "s against 11.6 s compute at county scale, as nearly "
                 "every box neighbour in a coverage touches), the DE-9IM "
                 "matrix per candidate pair (relate()[0] == '2', faster "
                 "than relate_pattern in shapely 1.8) and the "
                 "intersection's area; compute = between read and result "
                 "written; e2e = the process.",
    "gdal": "SQL on the GeoPackage itself (ogr2ogr -f CSV, native SQLite "
            "SQL with the SpatiaLite functions GDAL provides): "
            "NOT ST_IsValid, then a self-join driven by the GeoPackage's "
            "R-tree (rtree_DLTB_geom against ST_MinX..ST_MaxY of the "
            "parcel; CROSS JOIN fixes the join order) with ST_Relate "
            "'2********' and ST_Area(ST_Intersection) per pair; the area "
            "taken after translating the piece to its parcel's corner "
            "(SpatiaLite's ST_Area is a plain shoelace: on raw "
            "Gauss-Kruger coordinates it is off by ~1e-6 m2 per piece). "
            "No compute/e2e split: compute -, e2e = the two processes.",
}


# ---- setup ---------------------------------------------------------------

def gpkg_columns(path, layer):
    """Attribute columns of a GeoPackage layer (not fid, not geom)."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        geom = con.execute("SELECT column_name FROM gpkg_geometry_columns "
                           "WHERE table_name = ?", (layer,)).fetchone()[0]
        cols = [r[1] for r in con.execute('PRAGMA table_info("%s")' % layer)
                if not r[5] and r[1] != geom]
        fids = [r[0] for r in con.execute('SELECT fid FROM "%s" ORDER BY 1'
                                          % layer)]
    finally:
        con.close()
    return cols, fids


def make_defects(src, dst):
    """The defective copy of DLTB (ogr2ogr -dialect SQLite, untimed).

    Defects at fixed shares of the parcels (so they scale with the data):
    one moved 0.5 m east, one buffered 0.3 m, one with a zero-width spike
    at its first vertex, three deleted.
    """
    cols, fids = gpkg_columns(src, "DLTB")
    n = len(fids)
    fm, fb, fs = fids[n * 33 // 100], fids[n // 2], fids[n // 4]
    gone = (fids[n * 45 // 100], fids[n * 45 // 100 + 1], fids[n * 66 // 100])
    r = "ExteriorRing(GeometryN(geom, 1))"
    q = ("SELECT %s, CASE"
         " WHEN fid = %d THEN ST_Translate(geom, 0.5, 0, 0)"
         " WHEN fid = %d THEN CastToMultiPolygon(ST_Buffer(geom, 0.3))"
         " WHEN fid = %d THEN CastToMultiPolygon(MakePolygon(AddPoint("
         "AddPoint(%s, StartPoint(%s), 1), MakePoint(X(StartPoint(%s)) + 7,"
         " Y(StartPoint(%s)) + 3, ST_SRID(geom)), 1)))"
         " ELSE geom END AS geom FROM DLTB WHERE fid NOT IN (%d, %d, %d)"
         % ((", ".join('"%s"' % c for c in cols), fm, fb, fs, r, r, r, r)
            + gone))
    if os.path.exists(dst):
        os.unlink(dst)
    common.run(["ogr2ogr", "-f", "GPKG", dst, src, "-dialect", "SQLite",
                "-nln", "DLTB", "-nlt", "MULTIPOLYGON", "-sql", q])
    return {"moved": fm, "buffered": fb, "spike": fs, "deleted": list(gone)}


def setup(ctx, sc):
    """Both variants: a project each (for compute) and its export (input)."""
    d = sc.path("qc")
    os.makedirs(d, exist_ok=True)
    st = {"dir": d, "inputs": {}, "projects": {}, "runs": {}, "gaps": {},
          "defects": None}
    sc.qc = st
    raw = {"clean": sc.inputs["DLTB"],
           "defects": os.path.join(d, "defects_raw.gpkg")}
    st["defects"] = make_defects(sc.inputs["DLTB"], raw["defects"])
    for v in VARIANTS:
        p = os.path.join(d, "qc_%s.gpkg" % v)
        for f in (p, p + "-wal", p + "-shm"):
            if os.path.exists(f):
                os.unlink(f)
        common.onemap("init", p, "--crs", "EPSG:4530")
        common.onemap("import", p, raw[v], "--as", "DLTB")
        out = os.path.join(d, "dltb_%s.gpkg" % v)
        if os.path.exists(out):
            os.unlink(out)
        common.onemap("export", p, "DLTB", out)
        st["projects"][v] = p
        st["inputs"][v] = out
    common.log("  (d) variants: %s; defects at fids %s (source)"
               % (", ".join(VARIANTS), st["defects"]))


# ---- results -------------------------------------------------------------

class TimedOut(Exception):
    """A process of the run hit ctx.timeout; carries the time spent."""

    def __init__(self, spent):
        Exception.__init__(self, "timed out")
        self.spent = spent


def checked(r, spent=0.0):
    if r.timed_out:
        raise TimedOut(spent + r.wall)
    return r


def finding(invalid=(), pairs=None, gaps=None):
    return {"invalid": set(invalid), "pairs": dict(pairs or {}),
            "gaps": gaps}


def read_onemap_json(path):
    """(invalid fids, {(f1, f2): area}, [gap areas]) from onemap's qc.json."""
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    if d.get("truncated"):
        raise BenchError("%s: onemap's list of findings is truncated" % path)
    inv, pairs, gaps = set(), {}, []
    for e in d["errors"]:
        if e["code"] == "G001":
            inv.add(int(e["fid"]))
        elif e["code"] == "T001":
            # a pair may come as several pieces: their areas add up
            k = (min(e["fid"], e["fid2"]), max(e["fid"], e["fid2"]))
            pairs[k] = pairs.get(k, 0.0) + e["area_m2"]
        elif e["code"] == "T002":
            gaps.append(e["area_m2"])
    return inv, pairs, gaps


def read_rows(path, sep):
    """Rows of a psql -A output (sep '|') or a CSV with a header (',')."""
    with open(path, encoding="utf-8") as f:
        if sep == ",":
            rows = list(csv.reader(f))[1:]
        else:
            rows = [line.rstrip("\n").split(sep) for line in f]
    return [r for r in rows if r and r[0].strip()]


def pairs_of(rows):
    return {(int(r[0]), int(r[1])): float(r[2]) for r in rows}


def remember(sc, tool, v, rep, compute, e2e, rss, res):
    n = len(res["pairs"])
    # the last run's overlap areas at full precision, for the report's
    # peer-against-peer line (onemap's JSON carries 9 decimals)
    sc.qc.setdefault("last", {})[(tool, v)] = dict(res["pairs"])
    sc.qc["runs"].setdefault((tool, v), []).append({
        "rep": rep, "compute": compute, "e2e": e2e, "rss_kb": rss,
        "ninvalid": len(res["invalid"]), "npairs": n,
        "area": sum(res["pairs"].values())})


def remember_gaps(sc, tool, v, rep, secs, rss, gaps, timed_out=False):
    sc.qc["gaps"].setdefault((tool, v), []).append({
        "rep": rep, "time": secs, "rss_kb": rss,
        "n": len([a for a in gaps if a > TINY_M2]) if gaps is not None else 0,
        "area": sum(gaps or []), "timed_out": timed_out})


def maxrss(*runs):
    vals = [r.rss_kb for r in runs if r is not None and r.rss_kb]
    return max(vals) if vals else None


# ---- onemap --------------------------------------------------------------

def onemap_qc(ctx, project, outdir, only):
    """One `onemap qc` run -> (Run, parsed findings). Exit 1 = findings."""
    common.rmtree(outdir)
    r = common.onemap("qc", project, "--layer", "DLTB", "--only", only,
                      "-j", "2", "--no-store", "--format", "json",
                      "-o", outdir, timeout=ctx.timeout, ok=(0, 1))
    if r.timed_out:
        return r, None
    return r, read_onemap_json(os.path.join(outdir, "qc.json"))


def onemap_variant(ctx, sc, v, rep):
    """compute (on the setup project) and e2e (fresh project) of one variant."""
    d = sc.qc["dir"]
    rc, got = onemap_qc(ctx, sc.qc["projects"][v],
                        os.path.join(d, "om_%s" % v), "G001,T001")
    checked(rc)
    inv, pairs, _ = got
    p = os.path.join(d, "e2e_%s.gpkg" % v)
    for f in (p, p + "-wal", p + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    spent = 0.0
    r1 = checked(common.onemap("init", p, "--crs", "EPSG:4530",
                               timeout=ctx.timeout))
    spent += r1.wall
    r2 = checked(common.onemap("import", p, sc.qc["inputs"][v], "--as",
                               "DLTB", timeout=ctx.timeout), spent)
    spent += r2.wall
    r3, got3 = onemap_qc(ctx, p, os.path.join(d, "om_e2e_%s" % v),
                         "G001,T001")
    checked(r3, spent)
    e2e = spent + r3.wall
    # the fresh project must say what the prepared one says (same fids)
    if got3[:2] != got[:2]:
        raise BenchError("onemap qc on a fresh import of %s differs from "
                         "the prepared project's" % sc.qc["inputs"][v])
    res = finding(inv, pairs)
    remember(sc, "onemap", v, rep, rc.wall, e2e, maxrss(rc, r1, r2, r3), res)
    return rc.wall, e2e, maxrss(rc, r1, r2, r3), res


def onemap_gaps(ctx, sc, v, rep):
    r, got = onemap_qc(ctx, sc.qc["projects"][v],
                       os.path.join(sc.qc["dir"], "om_gaps_%s" % v), "T002")
    if r.timed_out:
        remember_gaps(sc, "onemap", v, rep, r.wall, r.rss_kb, None, True)
        return None
    remember_gaps(sc, "onemap", v, rep, r.wall, r.rss_kb, got[2])
    return got[2]


# ---- PostGIS -------------------------------------------------------------

def postgis_variant(ctx, sc, v, rep):
    """Load the variant (timed), then the validity and overlap queries."""
    t = "qc_%s" % v
    common.sql("SET client_min_messages = warning; DROP TABLE IF EXISTS %s"
               % t)
    os.sync()  # as common.run: earlier writes flushed, not timed
    t0 = time.monotonic()
    checked(common.run(["ogr2ogr", "-f", "PostgreSQL",
                        "PG:dbname=%s" % os.environ["PGDATABASE"],
                        sc.qc["inputs"][v], "DLTB", "-nln", t,
                        "-nlt", "MULTIPOLYGON", "-lco", "GEOMETRY_NAME=geom",
                        "-lco", "FID=fid", "-lco", "SPATIAL_INDEX=GIST",
                        "-preserve_fid", "-gt", "65536"],
                       timeout=ctx.timeout))
    common.sql("VACUUM ANALYZE %s" % t)
    load = time.monotonic() - t0
    d = sc.qc["dir"]
    f1 = os.path.join(d, "pg_%s_g001.txt" % v)
    f2 = os.path.join(d, "pg_%s_t001.txt" % v)
    r1 = checked(common.psql("SELECT fid FROM %s WHERE NOT ST_IsValid(geom) "
                             "ORDER BY 1" % t, out=f1, timeout=ctx.timeout),
                 load)
    inv = {int(r[0]) for r in read_rows(f1, "|")}
    # The invalid parcels (the first query's answer, as an analyst scripting
    # it would pass it on) are left out: onemap does not pair them and
    # ST_Intersection may throw on them. `a.fid + 0 < b.fid + 0`, not
    # `a.fid < b.fid`: with the plain comparison the planner ANDs a primary
    # key range scan (fid > a.fid: half the table per probe) into the GiST
    # bitmap, which is quadratic (at --cells 700 the query ran over 6
    # minutes before it was canceled); EXPLAIN shows it.
    excl = "'{%s}'::bigint[]" % ",".join(str(f) for f in sorted(inv))
    q = ("SELECT a.fid, b.fid, ST_Area(ST_Intersection(a.geom, b.geom)) "
         "FROM %s a JOIN %s b ON a.fid + 0 < b.fid + 0 AND a.geom && b.geom "
         "WHERE a.fid <> ALL(%s) AND b.fid <> ALL(%s) "
         "AND ST_Relate(a.geom, b.geom, '2********') ORDER BY 1, 2"
         % (t, t, excl, excl))
    r2 = checked(common.psql(q, out=f2, timeout=ctx.timeout),
                 load + r1.wall)
    res = finding(inv, pairs_of(read_rows(f2, "|")))
    compute = r1.wall + r2.wall
    rss = maxrss(r1, r2)
    remember(sc, "postgis", v, rep, compute, load + compute, rss, res)
    return compute, load + compute, rss, res


def postgis_gaps(ctx, sc, v, rep):
    """T002 as tests/cli/oracle_qc_postgis.sh: the holes of ST_Union."""
    t = "qc_%s" % v
    f = os.path.join(sc.qc["dir"], "pg_%s_t002.txt" % v)
    q = ("WITH u AS (SELECT ST_Union(geom) AS geom FROM %s), "
         "f AS (SELECT ST_Union(ST_MakePolygon(ST_ExteriorRing(d.geom))) "
         "AS geom FROM u, LATERAL ST_Dump(u.geom) d) "
         "SELECT ST_Area(d.geom) FROM f, u, LATERAL ST_Dump("
         "ST_CollectionExtract(ST_Difference(f.geom, u.geom), 3)) d "
         "ORDER BY 1 DESC" % t)
    r = common.psql(q, out=f, timeout=ctx.timeout)
    if r.timed_out:
        remember_gaps(sc, "postgis", v, rep, r.wall, r.rss_kb, None, True)
        return None
    gaps = [float(x[0]) for x in read_rows(f, "|")]
    remember_gaps(sc, "postgis", v, rep, r.wall, r.rss_kb, gaps)
    return gaps


# ---- geopandas -----------------------------------------------------------

def geopandas_variant(ctx, sc, v, rep):
    out = os.path.join(sc.qc["dir"], "gpd_%s" % v)
    common.rmtree(out)
    r, j = common.gpd("gpd_qc.py", sc.qc["inputs"][v], "DLTB", out,
                      timeout=ctx.timeout)
    checked(r)
    inv = {int(x[0]) for x in read_rows(j["invalid"], ",")}
    res = finding(inv, pairs_of(read_rows(j["pairs"], ",")))
    remember(sc, "geopandas", v, rep, j["compute_s"], r.wall, r.rss_kb, res)
    return j["compute_s"], r.wall, r.rss_kb, res


# ---- GDAL ----------------------------------------------------------------

def gdal_variant(ctx, sc, v, rep):
    """Two ogr2ogr -sql runs on the GeoPackage: validity, then overlaps."""
    src = sc.qc["inputs"][v]
    d = sc.qc["dir"]
    f1 = os.path.join(d, "gdal_%s_g001.csv" % v)
    f2 = os.path.join(d, "gdal_%s_t001.csv" % v)
    for f in (f1, f2):
        if os.path.exists(f):
            os.unlink(f)
    # `fid + 0`: a bare fid becomes the OGR feature id, which CSV omits
    r1 = checked(common.run(
        ["ogr2ogr", "-f", "CSV", f1, src, "-sql",
         "SELECT fid + 0 AS f FROM DLTB WHERE NOT ST_IsValid(geom) "
         "ORDER BY 1"], timeout=ctx.timeout))
    inv = {int(x[0]) for x in read_rows(f1, ",")}
    # (no invalid parcel: no condition; `NOT IN (NULL)` would drop all)
    excl = ", ".join(str(f) for f in sorted(inv))
    skip = ("AND a.fid NOT IN (%s) AND b.fid NOT IN (%s) " % (excl, excl)
            if inv else "")
    # CROSS JOIN keeps SQLite's join order (parcel, R-tree probe, parcel);
    # left to itself the planner scans the R-tree and range-scans the
    # parcels by fid, which is quadratic. The R-tree's float32 boxes are
    # rounded outwards, so the probe misses no candidate. The area is taken
    # on the piece moved to its parcel's corner (exact in doubles): the
    # shoelace SpatiaLite's ST_Area runs on raw coordinates of 4.2e7 m
    # loses ~1e-8 of a 100 m2 piece.
    q = ("SELECT a.fid + 0 AS f1, b.fid + 0 AS f2, "
         "ST_Area(ST_Translate(ST_Intersection(a.geom, b.geom), "
         "-ST_MinX(a.geom), -ST_MinY(a.geom), 0)) AS area "
         "FROM DLTB a CROSS JOIN rtree_DLTB_geom r CROSS JOIN DLTB b "
         "WHERE r.minx <= ST_MaxX(a.geom) AND r.maxx >= ST_MinX(a.geom) "
         "AND r.miny <= ST_MaxY(a.geom) AND r.maxy >= ST_MinY(a.geom) "
         "AND r.id > a.fid AND b.fid = r.id "
         "%sAND ST_Relate(a.geom, b.geom, '2********') ORDER BY 1, 2"
         % skip)
    r2 = checked(common.run(["ogr2ogr", "-f", "CSV", f2, src, "-sql", q],
                            timeout=ctx.timeout), r1.wall)
    res = finding(inv, pairs_of(read_rows(f2, ",")))
    e2e = r1.wall + r2.wall
    remember(sc, "gdal", v, rep, None, e2e, maxrss(r1, r2), res)
    return None, e2e, maxrss(r1, r2), res


VARIANT_RUN = {"onemap": onemap_variant, "postgis": postgis_variant,
               "geopandas": geopandas_variant, "gdal": gdal_variant}
GAPS_RUN = {"onemap": onemap_gaps, "postgis": postgis_gaps}


def expect(tool, v, res):
    """The clean layer has no finding; the defective one one of each."""
    if v == "clean" and (res["invalid"] or res["pairs"]):
        raise Disagree("(d) %s finds %d invalid parcels and %d overlapping "
                       "pairs in the clean coverage" % (
                           tool, len(res["invalid"]), len(res["pairs"])))
    if v == "defects" and (not res["invalid"] or not res["pairs"]):
        raise Disagree("(d) %s misses an injected defect: %d invalid, %d "
                       "overlapping pairs" % (tool, len(res["invalid"]),
                                              len(res["pairs"])))


def run(ctx, sc, tool, rep):
    """The defects variant is the outcome; clean and gaps ride along."""
    result = {}
    main = None
    for v in VARIANTS:
        try:
            compute, e2e, rss, res = VARIANT_RUN[tool](ctx, sc, v, rep)
        except TimedOut as e:
            if v == VARIANTS[0]:
                return Outcome(e2e=e.spent, note="timed out", timed_out=True)
            sc.qc["runs"].setdefault((tool, v), []).append(
                {"rep": rep, "timed_out": True, "e2e": e.spent})
            continue
        expect(tool, v, res)
        if tool in GAP_TOOLS:
            res["gaps"] = GAPS_RUN[tool](ctx, sc, v, rep)
        result[v] = res
        if v == VARIANTS[0]:
            main = (compute, e2e, rss)
    d = result[VARIANTS[0]]
    return Outcome(compute=main[0], e2e=main[1], rss_kb=main[2],
                   result=result,
                   note="%d invalid, %d overlapping pairs" % (
                       len(d["invalid"]), len(d["pairs"])))


# ---- agreement -----------------------------------------------------------

def agree(ctx, sc, ref, other, tool):
    """Same invalid fids, same pairs with the same areas, same gaps."""
    out = []
    for v in VARIANTS:
        a = ref.result.get(v)
        b = other.result.get(v)
        if a is None or b is None:
            continue
        if a["invalid"] != b["invalid"]:
            raise Disagree(
                "(d) %s: invalid parcels: only onemap %s, only %s %s"
                % (v, sorted(a["invalid"] - b["invalid"])[:10], tool,
                   sorted(b["invalid"] - a["invalid"])[:10]))
        pa = {k for k, x in a["pairs"].items() if x > TINY_M2}
        pb = {k for k, x in b["pairs"].items() if x > TINY_M2}
        if pa != pb:
            raise Disagree(
                "(d) %s: overlapping pairs: only onemap %s, only %s %s"
                % (v, sorted(pa - pb)[:10], tool, sorted(pb - pa)[:10]))
        s = common.agree_maps(
            "(d) %s overlap areas" % v,
            {"%d-%d" % k: x for k, x in a["pairs"].items()},
            {"%d-%d" % k: x for k, x in b["pairs"].items()}, tool)
        line = "%s: %d invalid, %d pairs (%s)" % (v, len(a["invalid"]),
                                                  len(pa), s)
        if a.get("gaps") is not None and b.get("gaps") is not None:
            line += "; gaps: " + agree_gaps(v, a["gaps"], b["gaps"], tool)
        out.append(line)
    return "; ".join(out)


def agree_gaps(v, ga, gb, tool):
    """Gaps matched by sorted area (pieces of TINY_M2 or less left out:
    PostGIS's union leaves ~1e-8 m2 noise slivers at T-junctions)."""
    ga = sorted((x for x in ga if x > TINY_M2), reverse=True)
    gb = sorted((x for x in gb if x > TINY_M2), reverse=True)
    if len(ga) != len(gb):
        raise Disagree("(d) %s gaps: onemap %d, %s %d (largest: %s / %s)"
                       % (v, len(ga), tool, len(gb), ga[:5], gb[:5]))
    if v == "clean" and ga:
        raise Disagree("(d) clean coverage has %d gaps" % len(ga))
    if v == "defects" and not ga:
        raise Disagree("(d) the deleted parcels left no gap")
    return common.agree_maps("(d) %s gap areas" % v,
                             {i: x for i, x in enumerate(ga)},
                             {i: x for i, x in enumerate(gb)}, tool)


# ---- report --------------------------------------------------------------

def fmt_s(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    m, lo, hi = common.stats3(xs)
    if len(xs) == 1:
        return "%.3f" % m
    return "%.3f (%.3f–%.3f)" % (m, lo, hi)


def fmt_mb(xs):
    xs = [x for x in xs if x]
    return "%.0f" % (max(xs) / 1024.0) if xs else "-"


def peer_lines(st):
    """The peers' overlap areas against each other, at full precision."""
    out = []
    peers = [t for t in common.ALL_TOOLS if t != "onemap"]
    for i, t1 in enumerate(peers):
        for t2 in peers[i + 1:]:
            a = st.get("last", {}).get((t1, VARIANTS[0]))
            b = st.get("last", {}).get((t2, VARIANTS[0]))
            if a is None or b is None:
                continue
            if set(a) != set(b):
                out.append("- %s and %s: different pairs" % (t1, t2))
                continue
            worst = max([abs(a[k] - b[k]) / max(abs(a[k]), abs(b[k]), 1e-300)
                         for k in a] or [0.0])
            out.append("- %s and %s: the same %d pairs, worst relative "
                       "difference of the areas %.2g" % (t1, t2, len(a),
                                                         worst))
    if out:
        out = ["", "Peers against each other (defects, last run; full "
               "precision, where onemap's qc.json rounds areas to 6 "
               "decimals, i.e. 5e-7 m²):", ""] + out
    return out


def report(ctx, sc):
    st = getattr(sc, "qc", None)
    if not st:
        return ""
    lines = ["Workload (d) — validity (G001) + overlaps (T001) of DLTB. "
             "Main row: the **defects** variant (injected at source fids "
             "%s); the clean variant is the layer as generated. Times in "
             "seconds, median (min–max) over runs; peak RSS in MiB (PostGIS: "
             "the backend)." % st["defects"], "",
             "| variant | tool | runs | compute | e2e | peak RSS MiB | "
             "invalid | overlapping pairs | overlap m² |",
             "|---|---|---|---|---|---|---|---|---|"]
    for v in VARIANTS:
        for tool in ctx.tools:
            rs = st["runs"].get((tool, v))
            if not rs:
                continue
            ok = [r for r in rs if not r.get("timed_out")]
            if not ok:
                lines.append("| %s | %s | %d | timed out | > %.0f | | | | |"
                             % (v, tool, len(rs), ctx.timeout))
                continue
            last = ok[-1]
            lines.append("| %s | %s | %d | %s | %s | %s | %d | %d | %.3f |" % (
                v, tool, len(ok), fmt_s([r["compute"] for r in ok]),
                fmt_s([r["e2e"] for r in ok]),
                fmt_mb([r["rss_kb"] for r in ok]), last["ninvalid"],
                last["npairs"], last["area"]))
    lines += ["", "Gaps (T002, an extra part: holes of the parcels' union; "
              "onemap `qc --only T002` on the prepared project, PostGIS the "
              "ST_Union query on the loaded table):", "",
              "| variant | tool | runs | compute | peak RSS MiB | gaps | "
              "gap m² |", "|---|---|---|---|---|---|---|"]
    for v in VARIANTS:
        for tool in GAP_TOOLS:
            rs = st["gaps"].get((tool, v))
            if not rs:
                continue
            ok = [r for r in rs if not r["timed_out"]]
            if not ok:
                lines.append("| %s | %s | %d | timed out | | | |"
                             % (v, tool, len(rs)))
                continue
            lines.append("| %s | %s | %d | %s | %s | %d | %.3f |" % (
                v, tool, len(ok), fmt_s([r["time"] for r in ok]),
                fmt_mb([r["rss_kb"] for r in ok]), ok[-1]["n"],
                ok[-1]["area"]))
    lines += peer_lines(st)
    agr = [(t, s) for (scn, w, t, s) in ctx.agreements
           if scn == sc.name and w == NAME]
    if agr:
        lines += ["", "Agreement with onemap (each run): invalid fids "
                  "identical, overlapping pairs identical (pieces of "
                  "1e-6 m² or less aside), areas to 1e-9 relative or "
                  "1e-6 m²; gaps matched by sorted area:", ""]
        seen = set()
        for t, s in agr:
            if (t, s) not in seen:
                seen.add((t, s))
                lines.append("- %s: %s" % (t, s))
    return "\n".join(lines) + "\n"
