"""bench/wl_stats.py -- workload (a): land-use statistics of the parcels
against the three control lines, by admin unit.

For each control-line layer L in (YJJBNTBHTB, STBHHX, CZKFBJ): the planar
area (m2) of DLTB ∩ L by (XZQ.XZQDM, DLTB.DLBM). The result of every tool
is a dict (L, xzqdm, dlbm) -> m2, compared with onemap's to 1e-9 relative
or 1e-6 m2 (common.agree_maps). A parcel may cross admin units (the
synthetic data happen not to; no tool assumes it): every tool cuts by the
admin units, none reads a code attribute of the parcels.

onemap:    `onemap overlay P DLTB YJJBNTBHTB,STBHHX,CZKFBJ --class-a DLBM
           --by XZQ --area planar --unit m2` on the loaded project: one
           process, the parcels read once (the CSV's "inside" rows);
           compute = its wall.
postgis:   one query per L on dltb, <l>_sub and xzq_sub (ST_Subdivide
           256): parcels cut by the line pieces, then by the township
           pieces, CASE WHEN ST_CoveredBy ... ELSE ST_Intersection both
           times, areas summed by (xzqdm, dlbm); see QUERY.
geopandas: bench/peers/gpd_stats.py: the parcels cut by each L, the pieces
           by the townships; gpd.overlay and sjoin + intersection.
gdal:      ogr_layer_algebra.py Intersection (PRETEST_CONTAINMENT,
           USE_PREPARED_GEOMETRIES): per L, DLTB ∩ L, the polygonal parts
           kept (ogr2ogr -sql CollectionExtract), ∩ XZQ, then the sums
           with ogr2ogr -dialect SQLite -sql "SELECT ... SUM(ST_Area())".

Join order: every tool cuts by the control line first and by the
townships second. Measured at county scale (18,190 parcels, a busy
machine): GDAL 115-140 s that way against 181-262 s townships first
(DLTB ∩ XZQ cuts every parcel against township polygons of thousands of
vertices; a control line covers only part of the parcels); geopandas
sjoin 39.5 s against 50.3 s; PostGIS 6.7-10.7 s against 7.3-10.3 s (the
planner reorders the joins anyway; only the order of the two cuts
differs).
"""

import csv
import os

import common
from common import Outcome

NAME = "a"
TITLE = ("land-use statistics: parcels (DLBM) x each control line "
         "(YJJBNTBHTB, STBHHX, CZKFBJ) by township, planar m2")
LINES = ("YJJBNTBHTB", "STBHHX", "CZKFBJ")
LAYERS = {"onemap": ["DLTB", "XZQ"] + list(LINES),
          "postgis": ["DLTB", "XZQ"] + list(LINES)}
TOOLS = common.ALL_TOOLS
# gpd_stats.py methods; the first scale runs both (in its first repetition)
# and the faster becomes the geopandas row from then on
GPD_METHODS = ("sjoin", "overlay")
NOTES = {
    "onemap": "`onemap overlay P DLTB YJJBNTBHTB,STBHHX,CZKFBJ --class-a "
              "DLBM --by XZQ --area planar --unit m2 --decimals 9 -j 2`: "
              "one process, the parcels read once; compute = its wall.",
    "postgis": "one query per control line: parcels x <line>_sub pieces "
               "(CASE WHEN ST_CoveredBy THEN geom ELSE "
               "ST_CollectionExtract(ST_Intersection, 3)) then x xzq_sub "
               "(same pattern, predicates on the stored geometries only), "
               "sum(ST_Area) by xzqdm, dlbm; planner told that parallel "
               "workers are cheap (else it runs the join in the leader "
               "only); compute = sum of the three psql walls, RSS = "
               "largest backend VmHWM (leader only).",
    "geopandas": "bench/peers/gpd_stats.py: parcels cut by each control "
                 "line, the pieces by the townships (keep_geom_type=False, "
                 "then polygonal parts); both gpd.overlay and sjoin + "
                 "prepared covers + GeoSeries.intersection were run at "
                 "the first scale, the faster is this row (see the "
                 "workload's section); compute = inside the script "
                 "between read and write.",
    "gdal": "ogr_layer_algebra.py Intersection -opt PRETEST_CONTAINMENT=YES "
            "-opt USE_PREPARED_GEOMETRIES=YES: per control line DLTB x "
            "line (-opt METHOD_PREFIX=m_ where no method field is kept: "
            "OGR fills the output fields by name from both layers, and "
            "YJJBNTBHTB and CZKFBJ carry an XZQDM of their own), "
            "polygonal parts kept (ogr2ogr -sql CollectionExtract(geom, 3): "
            "SpatiaLite's ST_Area of a GEOMETRYCOLLECTION is 0 and GEOS "
            "cannot cut one), then x XZQ, sums by ogr2ogr -dialect SQLite "
            "(ST_Area of each piece moved to its own corner: SpatiaLite's "
            "area on raw Gauss-Kruger coordinates is off by ~1e-10 "
            "relative); compute not separable (every step reads and "
            "writes files): e2e only.",
}

# The PostGIS query for one control line (the join order measured at
# county scale: QUERY_ORDER). A parcel is cut by the first table (CASE
# WHEN ST_CoveredBy ... ELSE ST_Intersection; ST_CollectionExtract 3: a
# parcel touching the cutting polygon along an edge gives a
# GEOMETRYCOLLECTION), the piece by the second, the same way. Every
# predicate is evaluated on the stored geometries, never on a constructed
# piece: GEOS 3.11's relate is not robust on constructed pieces
# (ST_Intersects(piece, line) raised "TopologyException: side location
# conflict" at county scale on valid inputs), and the shortcut stays
# exact (a parcel covered by the second polygon has its piece covered
# too). The piece is written out in place, not in a LATERAL subquery:
# it is evaluated once either way (one CASE branch runs), and a LATERAL
# reference is a parameter that keeps the join out of the parallel
# workers.
PIECE = """CASE WHEN ST_CoveredBy(d.geom, f.geom) THEN d.geom
                ELSE ST_CollectionExtract(ST_Intersection(d.geom, f.geom), 3)
           END"""
QUERY = """
SELECT {x}, d.dlbm,
       sum({area0}CASE WHEN ST_CoveredBy(d.geom, t.geom) THEN {piece}
                       ELSE ST_Intersection({piece}, t.geom) END{area1})
FROM dltb d
JOIN {first} f ON ST_Intersects(d.geom, f.geom)
JOIN {second} t ON ST_Intersects(d.geom, t.geom) AND f.geom && t.geom
GROUP BY 1, 2
"""
# "admin": parcels x xzq_sub, then x <line>_sub; "line": the other way.
QUERY_ORDER = "line"


# The planner drives these joins from the small *_sub tables and, with
# the default parallel costs, runs them without workers; the work is all
# in the GEOS calls, so an expert tells it that workers are cheap (county
# scale: see QUERY_ORDER).
PG_SETTINGS = """SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET min_parallel_index_scan_size = 0;
"""


# the area of a piece: planar, or ellipsoidal on CGCS2000 as the old
# bench computed it (secondary; see ELL_LINE)
AREA = {False: ("ST_Area(", ")"),
        True: ("ST_Area(ST_Transform(", ", 4490)::geography)")}


def pg_query(line, order=None, ellipsoidal=False, timeout=None):
    """The SQL (settings and query) for one control line.

    timeout: seconds; the backend cancels itself a little after the psql
    client is killed at that time (else it would run on, unseen, and slow
    every later run down).
    """
    n = line.lower() + "_sub"
    kw = {"piece": PIECE, "area0": AREA[ellipsoidal][0],
          "area1": AREA[ellipsoidal][1]}
    if (order or QUERY_ORDER) == "admin":
        q = QUERY.format(x="f.cls", first="xzq_sub", second=n, **kw)
    else:
        q = QUERY.format(x="t.cls", first=n, second="xzq_sub", **kw)
    st = ""
    if timeout:
        st = "SET statement_timeout = %d;\n" % int((timeout + 10) * 1000)
    return PG_SETTINGS + st + q


# Secondary check, untimed, at county scale in the first repetition: the
# ellipsoidal areas (CGCS2000) of one control line, onemap against
# PostGIS's ST_Area(ST_Transform(g, 4490)::geography), to 1e-8 relative or
# 1e-5 m2: a piece cut by a tile boundary (ST_Subdivide) gets new vertices
# on its straight projected edges, and the geodesics through them differ
# from the whole edge's by ~1e-9 relative on a cell (see the old bench,
# `git show 23902d4:bench/run`).
ELL_LINE = "YJJBNTBHTB"
ELL_REL = 1e-8
ELL_ABS_M2 = 1e-5


def ell_wanted(sc, rep):
    return sc.name == "county" and rep == 1


def setup(ctx, sc):
    os.makedirs(sc.path("wl_a"), exist_ok=True)


def out(sc, *parts):
    return sc.path("wl_a", *parts)


def left(ctx, spent):
    """Seconds left of the run's timeout (at least 1)."""
    return max(1.0, ctx.timeout - spent)


def run(ctx, sc, tool, rep):
    return {"onemap": run_onemap, "postgis": run_postgis,
            "geopandas": run_gpd, "gdal": run_gdal}[tool](ctx, sc, rep)


def run_onemap(ctx, sc, rep):
    f = out(sc, "om_%d.csv" % rep)
    r = common.onemap("overlay", sc.om_project, "DLTB", ",".join(LINES),
                      "--class-a", "DLBM", "--by", "XZQ",
                      "--area", "planar", "--unit", "m2",
                      "--decimals", "9", "--format", "csv", "-j", "2",
                      "-o", f, timeout=left(ctx, 0.0))
    wall, rss = r.wall, r.rss_kb
    if r.timed_out:
        return Outcome(wall, None, rss, None, timed_out=True)
    res = read_onemap(f)
    e2e = sc.load_time("onemap", rep, LAYERS["onemap"]) + wall
    ex = ctx.extra.setdefault("wl_a", {})
    ex.setdefault("last_ref", {})[sc.name] = res
    if ell_wanted(sc, rep):
        f = out(sc, "om_ell_%s.csv" % ELL_LINE)
        common.onemap("overlay", sc.om_project, "DLTB", ELL_LINE,
                      "--class-a", "DLBM", "--by", "XZQ",
                      "--area", "ellipsoidal", "--unit", "m2",
                      "--decimals", "9", "--format", "csv", "-j", "2",
                      "-o", f, timeout=ctx.timeout)
        ex.setdefault("ell_om", {})[sc.name] = read_onemap(f, ELL_LINE)
    return Outcome(wall, e2e, rss, res)


def read_onemap(path, line=None):
    """(line, unit, class) -> m2 from the "inside" rows of overlay's CSV
    (with several control lines, the line is the row's layer_b).

    9 decimals, not 6: the CSV's values are apportioned (largest
    remainder, so that they add up to the printed totals) and may be off
    by up to one unit of the last decimal; at 6 decimals that is the whole
    1e-6 m2 the comparison allows.
    """
    res = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["class_b"] != "inside" or row["unit_code"] == "TOTAL":
                continue
            if row["class_a"] in ("TOTAL", ""):
                continue
            k = (line or row["layer_b"], row["unit_code"], row["class_a"])
            res[k] = res.get(k, 0.0) + float(row["area_m2"])
    return res


def run_postgis(ctx, sc, rep):
    res = {}
    wall = 0.0
    rss = 0
    for line in LINES:
        f = out(sc, "pg_%d_%s.txt" % (rep, line))
        t = left(ctx, wall)
        r = common.psql(pg_query(line, timeout=t), out=f, timeout=t)
        wall += r.wall
        rss = max(rss, r.rss_kb or 0)
        if r.timed_out:
            return Outcome(wall, None, rss, None, timed_out=True)
        res.update(read_pg(f, line))
    e2e = sc.load_time("postgis", rep, LAYERS["postgis"]) + wall
    if ell_wanted(sc, rep):
        f = out(sc, "pg_ell_%s.txt" % ELL_LINE)
        r = common.psql(pg_query(ELL_LINE, ellipsoidal=True,
                                 timeout=ctx.timeout),
                        out=f, timeout=ctx.timeout)
        if not r.timed_out:
            ctx.extra.setdefault("wl_a", {}).setdefault("ell_pg", {})[
                sc.name] = read_pg(f, ELL_LINE)
    return Outcome(wall, e2e, rss, res)


def read_pg(path, line):
    """(line, unit, class) -> m2 from psql's x|c|area rows."""
    res = {}
    with open(path, encoding="utf-8") as fh:
        for ln in fh:
            ln = ln.strip()
            if ln:
                x, c, a = ln.split("|")
                k = (line, x, c)
                res[k] = res.get(k, 0.0) + float(a or 0)
    return res


def gpd_run(ctx, sc, rep, method):
    f = out(sc, "gpd_%s_%d.csv" % (method, rep))
    args = ["--method", method, sc.inputs["DLTB"], sc.inputs["XZQ"], f]
    args += ["%s=%s" % (line, sc.inputs[line]) for line in LINES]
    r, info = common.gpd("gpd_stats.py", *args, timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(None, r.wall, r.rss_kb, None,
                       note="gpd %s" % method, timed_out=True)
    res = {}
    with open(f, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            k = (row["layer"], row["xzqdm"], row["dlbm"])
            res[k] = res.get(k, 0.0) + float(row["area_m2"])
    return Outcome(info["compute_s"], r.wall, r.rss_kb, res,
                   note="gpd %s" % method)


def run_gpd(ctx, sc, rep):
    """The faster method; both at the first scale's first repetition."""
    ex = ctx.extra.setdefault("wl_a", {})
    best = ex.get("gpd_best")
    if best is not None:
        return gpd_run(ctx, sc, rep, best)
    runs = {m: gpd_run(ctx, sc, rep, m) for m in GPD_METHODS}
    ex["gpd_both"] = {"scale": sc.name, "rep": rep,
                      "runs": {m: (o.compute, o.e2e, o.rss_kb, o.timed_out)
                               for m, o in runs.items()}}

    def key(m):
        o = runs[m]
        return (o.timed_out, o.e2e)
    order = sorted(GPD_METHODS, key=key)
    ex["gpd_best"] = order[0]
    main = runs[order[0]]
    # the other method's result is checked too (agree)
    main.others = [(m, runs[m]) for m in order[1:] if not runs[m].timed_out]
    return main


def layer_algebra(inp, in_lyr, meth, meth_lyr, outp, in_fields,
                  meth_fields):
    """ogr_layer_algebra.py Intersection as the framework tunes it.

    METHOD_PREFIX=m_ where no method field is wanted: OGR's layer algebra
    fills the output fields by name from both layers, whatever
    -method_fields says; YJJBNTBHTB and CZKFBJ have an XZQDM of their
    own, which overwrote the pieces' township code (whole CZKFBJ polygons
    were booked to one township) until the method layer's fields were
    renamed away.
    """
    cmd = [common.PY, "/usr/bin/ogr_layer_algebra.py", "Intersection",
           "-f", "GPKG", "-input_ds", inp, "-input_lyr", in_lyr,
           "-method_ds", meth, "-method_lyr", meth_lyr,
           "-output_ds", outp, "-output_lyr", "R",
           "-input_fields", in_fields, "-method_fields", meth_fields,
           "-overwrite", "-opt", "PRETEST_CONTAINMENT=YES",
           "-opt", "USE_PREPARED_GEOMETRIES=YES"]
    if meth_fields == "NONE":
        cmd += ["-opt", "METHOD_PREFIX=m_"]
    return cmd


def polygonal(inp, outp, fields):
    """ogr2ogr: the polygonal parts of the pieces only.

    A parcel touching the cutting polygon along an edge gives a
    GEOMETRYCOLLECTION (polygon + lines), which SpatiaLite's ST_Area counts
    as 0 and the next Intersection cannot cut.
    """
    return ["ogr2ogr", "-f", "GPKG", "-overwrite", outp, inp,
            "-dialect", "SQLite", "-nln", "R", "-nlt", "MULTIPOLYGON",
            "-sql", "SELECT %s, CollectionExtract(geom, 3) AS geom FROM R "
            "WHERE CollectionExtract(geom, 3) IS NOT NULL" % fields]


def sums(inp, outp):
    """ogr2ogr -dialect SQLite: the areas by (XZQDM, DLBM) to a CSV.

    Each piece is moved to its own corner first (ST_Translate by minus its
    MbrMinX/MbrMinY: exact, the difference of two doubles within a factor
    of 2 of each other is exact): SpatiaLite's ST_Area sums the shoelace
    terms on the raw coordinates, and on Gauss-Kruger coordinates with the
    zone prefix (x ~ 4.2e7 m) that costs ~1e-10 relative (4e-7 m2 on a
    2,186 m2 cell at county scale, against 1e-13 for GEOS's area of the
    same pieces), most of the 1e-6 m2 the comparison allows.
    """
    return ["ogr2ogr", "-f", "CSV", "-overwrite", outp, inp,
            "-dialect", "SQLite", "-sql",
            "SELECT XZQDM, DLBM, SUM(ST_Area(ST_Translate("
            "CollectionExtract(geom, 3), -MbrMinX(geom), -MbrMinY(geom), 0)))"
            " AS a FROM R GROUP BY 1, 2", "-lco", "STRING_QUOTING=IF_NEEDED"]


# "admin": DLTB x XZQ once, then the pieces x each line (1 + 3 passes);
# "line": DLTB x each line, then x XZQ (6 passes).
GDAL_ORDER = "line"


def gdal_steps(sc, rep, order):
    """The commands of the GDAL run and the CSV of each control line."""
    steps = []
    csvs = {}

    def f(name):
        return out(sc, "gdal_%d_%s" % (rep, name))
    if order == "admin":
        steps.append(layer_algebra(sc.inputs["DLTB"], "DLTB",
                                   sc.inputs["XZQ"], "XZQ", f("dx.gpkg"),
                                   "DLBM", "XZQDM"))
        steps.append(polygonal(f("dx.gpkg"), f("dxp.gpkg"), "DLBM, XZQDM"))
    for line in LINES:
        g = f(line + ".gpkg")
        csvs[line] = f(line + ".csv")
        if order == "admin":
            steps.append(layer_algebra(f("dxp.gpkg"), "R", sc.inputs[line],
                                       line, g, "DLBM,XZQDM", "NONE"))
        else:
            steps.append(layer_algebra(sc.inputs["DLTB"], "DLTB",
                                       sc.inputs[line], line,
                                       f(line + "_d.gpkg"), "DLBM", "NONE"))
            steps.append(polygonal(f(line + "_d.gpkg"), f(line + "_dp.gpkg"),
                                   "DLBM"))
            steps.append(layer_algebra(f(line + "_dp.gpkg"), "R",
                                       sc.inputs["XZQ"], "XZQ", g, "DLBM",
                                       "XZQDM"))
        steps.append(sums(g, csvs[line]))
    return steps, csvs


def run_gdal(ctx, sc, rep, order=None):
    """ogr_layer_algebra.py in two passes, then the SQL sums; e2e only."""
    wall = 0.0
    rss = 0
    steps, csvs = gdal_steps(sc, rep, order or GDAL_ORDER)
    for c in csvs.values():
        if os.path.exists(c):
            os.unlink(c)
    for cmd in steps:
        r = common.run(cmd, timeout=left(ctx, wall))
        wall += r.wall
        rss = max(rss, r.rss_kb)
        if r.timed_out:
            return Outcome(None, wall, rss, None, timed_out=True)
    res = {}
    for line, c in csvs.items():
        with open(c, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                k = (line, row["XZQDM"], row["DLBM"])
                res[k] = res.get(k, 0.0) + float(row["a"] or 0)
    return Outcome(None, wall, rss, res)


def agree(ctx, sc, ref, other, tool):
    s = common.agree_maps("(a) %s" % tool, ref.result, other.result, tool)
    for m, o in getattr(other, "others", []):
        s2 = common.agree_maps("(a) %s %s" % (tool, m), ref.result, o.result,
                               tool + " " + m)
        s += "; %s: %s" % (m, s2)
    ex = ctx.extra.get("wl_a", {})
    om = ex.get("ell_om", {}).get(sc.name)
    pg = ex.get("ell_pg", {}).get(sc.name)
    if tool == "postgis" and om is not None and pg is not None:
        s2 = common.agree_maps("(a) ellipsoidal %s" % ELL_LINE, om, pg,
                               tool, rel=ELL_REL, abs_m2=ELL_ABS_M2)
        ex.setdefault("ell_summary", {})[sc.name] = s2
        s += "; ellipsoidal %s (to %g): %s" % (ELL_LINE, ELL_REL, s2)
    return s


def report(ctx, sc):
    """Per control line: cells and total area; geopandas's two methods."""
    lines = ["Per control line (onemap's result, last repetition): cells "
             "(township x DLBM with area > 0) and total area inside."]
    ref = ctx.extra.get("wl_a", {}).get("last_ref", {}).get(sc.name)
    if ref:
        lines.append("")
        lines.append("| control line | cells | area inside (km2) |")
        lines.append("|---|---:|---:|")
        for line in LINES:
            v = [a for k, a in ref.items() if k[0] == line and a > 0]
            lines.append("| %s | %d | %.3f |" % (line, len(v), sum(v) / 1e6))
    ag = [a for a in ctx.agreements if a[0] == sc.name and a[1] == NAME]
    if ag:
        lines.append("")
        lines.append("Agreement with onemap:")
        for _, _, tool, s in ag:
            lines.append("- %s: %s" % (tool, s))
    ell = ctx.extra.get("wl_a", {}).get("ell_summary", {}).get(sc.name)
    if ell:
        lines.append("")
        lines.append("Ellipsoidal areas (CGCS2000) of %s, untimed, onemap "
                     "(`--area ellipsoidal`) against PostGIS "
                     "(ST_Area(ST_Transform(g, 4490)::geography)), to %g "
                     "relative or %g m2 (ST_Subdivide's cuts add vertices "
                     "on projected edges): %s" % (ELL_LINE, ELL_REL,
                                                  ELL_ABS_M2, ell))
    lines += common.gpd_methods_md(ctx, sc, "wl_a")
    return "\n".join(lines)
