"""bench/wl_conflicts.py -- workload (b): conflict patches, constructed
geometries written to a GeoPackage.

The rules of bench/conflicts.yaml (RULES below, the same rules): nine
must_not_overlap rules between the control lines and with the current
(DLTB) and planned (GHYT) land use, code groups turned into explicit code
lists for the peers. A patch is the polygonal part of A ∩ B ∩ township
(XZQ), one geometry per (rule, A fid, B fid, XZQDM), area > 0: what
`onemap conflicts` writes (src/ops/conflicts.c: one patch per overlay
piece, and the overlay delivers one piece per (a, b, unit) with its
fragments unioned; min_area 0 and min_width 0 in the rule file, so no
sliver filter). Every tool writes its patches as polygons to a
GeoPackage with the rule id, both fids and the township code; that is
part of the measured work.

Result compared: (rule, a_fid, b_fid, xzqdm) -> planar m2 (the sum over
the rows of that key), 1e-9 relative / 1e-6 m2 (common.agree_maps); and
the number of patches: one row per key for every tool, and the same
number of keys with an area above 1e-6 m2 as onemap.

Crumbs: every tool writes some patches of 1e-10..1e-7 m2 (real slivers
where the synthetic lines run along parcel edges, and overlay noise);
which of them a tool keeps differs (PostGIS adds a few where its
ST_Subdivide cuts meet, GDAL drops a few), so patch counts are compared
above 1e-6 m2 and the report shows the raw counts.

Patches outside every township (onemap: unit_code '') are not made by
the peers: the synthetic townships cover the control lines; such a patch
would show as a disagreement.

onemap:    `onemap conflicts` on the loaded project (NOTES["onemap"]).
postgis:   one CREATE TABLE AS per rule (PG_PIECES + PG_UNION), exported
           with ogr2ogr.
geopandas: bench/peers/gpd_conflicts.py, sjoin and overlay.
gdal:      ogr2ogr + ogr_layer_algebra.py chains (gdal_plan).
"""

import csv
import json
import os
import re
import sqlite3

import common
from common import BenchError, Disagree, Outcome

NAME = "b"
TITLE = ("conflict patches: 9 must_not_overlap rules (control lines, DLTB, "
         "GHYT) split by township, constructed and written to GPKG")
RULES_FILE = os.path.join(common.ROOT, "bench", "conflicts.yaml")
CODES_DIR = os.path.join(common.ROOT, "data", "codes")
CODES = ("DLTB", "XZQ", "YJJBNTBHTB", "STBHHX", "CZKFBJ", "GHYT")
LAYERS = {"onemap": list(CODES), "postgis": list(CODES)}
TOOLS = common.ALL_TOOLS
ADMIN = ("XZQ", "XZQDM")

# (id, side a, side b); a side is (layer, filter) with filter None or
# (field, code table, group, negated), as written in conflicts.yaml.
CONSTR_D = ("DLBM", "dlbm", "construction", False)
CULT_D = ("DLBM", "dlbm", "cultivated", False)
NOT_CULT_D = ("DLBM", "dlbm", "cultivated", True)
CONSTR_G = ("YDYHFLDM", "ydyh", "construction", False)
RULES = (
    ("R001", ("CZKFBJ", None), ("YJJBNTBHTB", None)),
    ("R002", ("STBHHX", None), ("YJJBNTBHTB", None)),
    ("R003", ("STBHHX", None), ("CZKFBJ", None)),
    ("R004", ("STBHHX", None), ("DLTB", CONSTR_D)),
    ("R005", ("GHYT", CONSTR_G), ("YJJBNTBHTB", None)),
    ("R006", ("YJJBNTBHTB", None), ("DLTB", NOT_CULT_D)),
    ("R007", ("STBHHX", None), ("DLTB", CULT_D)),
    ("R008", ("CZKFBJ", None), ("DLTB", CULT_D)),
    ("R009", ("GHYT", CONSTR_G), ("DLTB", CULT_D)),
)
# the class column of the PostGIS <code>_sub tables (bench.py SUB_CLASS)
SUB_CLASS = {"DLTB": "DLBM", "GHYT": "YDYHFLDM"}

# PostGIS: how each side of a rule enters the query: the features
# ("whole") or their ST_Subdivide(256) pieces (<code>_sub). The control
# lines (10^3-10^5 vertices per polygon) are always cut from their
# pieces; the parcels (DLTB, GHYT: ~40 vertices) are taken whole. And how
# the pieces of one key become one geometry: "union", the ST_Union
# aggregate; "collect", array_agg, then the single piece as it is or
# ST_UnaryUnion(ST_Collect(pieces)). Measured at county scale (9 rules,
# sum of the psql walls, 2 cores shared with other runs, so +-20%):
#   parcels whole + union 13.1 s, whole + collect 16.7 s,
#   all pieces + union 16.9 s,    all pieces + collect 16.1 s
# (identical results); the first is used.
PG_WHOLE = {"DLTB", "GHYT"}
PG_MERGE = "union"
GPD_METHODS = ("sjoin", "overlay")

NOTES = {
    "onemap": "`onemap conflicts P --rules bench/conflicts.yaml --format "
              "gpkg -o DIR --no-store -j 2` (9 rules in one process, "
              "patches written to DIR/conflicts.gpkg with rule, fids, "
              "township, planar and ellipsoidal areas); compute = that "
              "process; e2e = load of the 6 layers + compute.",
    "postgis": "per rule one CREATE TABLE AS (parallel-safe; INSERT would "
               "not use the 2 workers): the control lines from their "
               "<code>_sub pieces (ST_Subdivide 256), DLTB/GHYT whole, "
               "filtered by explicit code lists; A x B and then x xzq_sub "
               "with CASE WHEN ST_CoveredBy THEN geom ELSE "
               "ST_CollectionExtract(ST_Intersection, 3); the pieces of one "
               "(rule, a, b, township) merged into one MultiPolygon "
               "(ST_Union aggregate: as fast as the alternatives tried, "
               "see PG_MERGE in wl_conflicts.py); "
               "ST_Area. compute = the 9 psql walls, e2e = load + compute "
               "+ ogr2ogr export of the patches (UNION ALL of the 9 "
               "tables) to a GeoPackage; RSS = the largest backend.",
    "geopandas": "bench/peers/gpd_conflicts.py: fiona read (fids), where "
                 "filters as code lists, A x B then x townships with "
                 "sjoin + prepared covers + intersection, or gpd.overlay "
                 "(both run at the first scale, the faster is this row; "
                 "see the workload's section), polygonal parts, area > 0, "
                 "to_file GPKG; compute = between read and write, e2e = "
                 "the process.",
    "gdal": "per side: ogr2ogr -sql 'SELECT fid + 0 AS src_fid, geom ... "
            "WHERE <code list>' (once per layer and filter); per rule: "
            "ogr_layer_algebra.py Intersection A x B (-opt "
            "PRETEST_CONTAINMENT=YES USE_PREPARED_GEOMETRIES=YES, "
            "INPUT_PREFIX a_, METHOD_PREFIX b_), polygonal parts "
            "(ogr2ogr -dialect SQLite CollectionExtract), Intersection x "
            "XZQ, polygonal parts with area > 0 appended to the patches "
            "GeoPackage; areas by ogr2ogr -dialect SQLite ST_Area (of the "
            "patch moved to its corner: SpatiaLite's plain shoelace on "
            "raw coordinates is off by 1e-9 relative). Not "
            "separable: compute -, e2e = all those processes.",
}


# ---- setup: code lists and the rule file ----------------------------------

def group_members(table, group):
    """Codes of a code table (data/codes/<table>.csv) in a group."""
    out = set()
    with open(os.path.join(CODES_DIR, table + ".csv"), newline="",
              encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if group in row["groups"].split():
                out.add(row["code"])
    return out


def all_codes(table):
    with open(os.path.join(CODES_DIR, table + ".csv"), newline="",
              encoding="utf-8") as f:
        return {row["code"] for row in csv.DictReader(f)}


def in_group(value, members, known):
    """onemap's rule: a DLBM code with an unknown suffix (0101K) is judged
    by its base class."""
    if value in known:
        return value in members
    m = re.fullmatch(r"([0-9]{2}(?:[0-9]{2}|H[12]))[A-Z]", value)
    return bool(m) and m.group(1) in members


def gpkg_values(path, layer, field):
    """Distinct values of a field of a GeoPackage layer (sqlite3)."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return [r[0] for r in con.execute(
            'SELECT DISTINCT "%s" FROM "%s"' % (field, layer))]
    finally:
        con.close()


def code_list(sc, layer, filt):
    """(values, null_ok): the filter as the list of values present."""
    field, table, group, neg = filt
    members = group_members(table, group)
    known = all_codes(table)
    vals, null_ok = [], neg
    for v in gpkg_values(sc.inputs[layer], layer, field):
        if v is None or str(v).strip() == "":
            continue
        s = str(v).strip()
        if in_group(s, members, known) != neg:
            vals.append(s)
    return sorted(set(vals)), null_ok


def check_rules_file():
    """bench/conflicts.yaml must hold the rules of RULES, in order."""
    ids, sides = [], []
    with open(RULES_FILE, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*- id: (\S+)", line)
            if m:
                ids.append(m.group(1))
            m = re.match(r"\s*(a|b): (.+)$", line)
            if m:
                sides.append(m.group(2).strip())
    want = [r[0] for r in RULES]
    if ids != want:
        raise BenchError("%s: rules %s, the workload expects %s"
                         % (RULES_FILE, ids, want))
    for i, (rid, a, b) in enumerate(RULES):
        for k, (layer, filt) in enumerate((a, b)):
            s = sides[2 * i + k]
            ok = s.startswith("{layer: %s," % layer) if filt else s == layer
            if filt:
                field, _, group, neg = filt
                want_w = ("{%s: {not: {group: %s}}}" if neg
                          else "{%s: {group: %s}}") % (field, group)
                ok = ok and want_w in s
            if not ok:
                raise BenchError("%s: rule %s side %s is '%s', the workload "
                                 "expects %s %s" % (RULES_FILE, rid, "ab"[k],
                                                    s, layer, filt))


def setup(ctx, sc):
    check_rules_file()
    os.makedirs(sc.path("wl_b"), exist_ok=True)
    filters = {}
    for _, a, b in RULES:
        for layer, filt in (a, b):
            if filt and (layer, filt) not in filters:
                filters[(layer, filt)] = code_list(sc, layer, filt)
    ex = ctx.extra.setdefault("wl_b", {}).setdefault(sc.name, {})
    ex["filters"] = filters
    # townships sharing a code would need one more dissolve in the GDAL
    # chain; the synthetic ones do not
    codes = gpkg_values(sc.inputs["XZQ"], "XZQ", "XZQDM")
    con = sqlite3.connect("file:%s?mode=ro" % sc.inputs["XZQ"], uri=True)
    n = con.execute('SELECT count(*) FROM "XZQ"').fetchone()[0]
    con.close()
    ex["xzq_unique"] = len(codes) == n
    # the geopandas spec file
    spec = {"layers": dict(sc.inputs),
            "admin": {"layer": ADMIN[0], "code": ADMIN[1]},
            "rules": [{"id": rid, "a": side_spec(ex, a), "b": side_spec(ex, b)}
                      for rid, a, b in RULES]}
    with open(out(sc, "gpd_spec.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f, indent=1, ensure_ascii=False)


def side_spec(ex, side):
    layer, filt = side
    if not filt:
        return {"layer": layer, "field": None, "values": None,
                "null_ok": False}
    vals, null_ok = ex["filters"][(layer, filt)]
    return {"layer": layer, "field": filt[0], "values": vals,
            "null_ok": null_ok}


def out(sc, *parts):
    return sc.path("wl_b", *parts)


def left(ctx, spent):
    return max(1.0, ctx.timeout - spent)


def fresh(*paths):
    for p in paths:
        if os.path.isdir(p):
            common.rmtree(p)
        elif os.path.exists(p):
            os.unlink(p)


def sql_in(col, vals, null_ok):
    """col IN ('v', ...) [OR col IS NULL OR trim(col) = '']."""
    parts = []
    if vals:
        parts.append("%s IN (%s)" % (col, ", ".join(
            "'%s'" % v.replace("'", "''") for v in vals)))
    if null_ok:
        parts.append("%s IS NULL OR trim(%s) = ''" % (col, col))
    return "(%s)" % " OR ".join(parts) if parts else "FALSE"


def record(ctx, sc, tool, res, rows):
    """Per rule: patches (rows) and total area, for the report."""
    per = {}
    for k, a in res.items():
        n, s = per.get(k[0], (0, 0.0))
        per[k[0]] = (n, s + a)
    for rule, n in rows.items():
        per[rule] = (n, per.get(rule, (0, 0.0))[1])
    ctx.extra["wl_b"][sc.name].setdefault("per_rule", {})[tool] = per


def add_row(res, rows, rule, afid, bfid, code, area):
    k = (rule, int(afid), int(bfid), code or "")
    res[k] = res.get(k, 0.0) + float(area or 0.0)
    rows[rule] = rows.get(rule, 0) + 1
    res.setdefault(("__rows__",), 0.0)
    res[("__rows__",)] += 1


def run(ctx, sc, tool, rep):
    return {"onemap": run_onemap, "postgis": run_postgis,
            "geopandas": run_gpd, "gdal": run_gdal}[tool](ctx, sc, rep)


# ---- onemap ---------------------------------------------------------------

def run_onemap(ctx, sc, rep):
    d = out(sc, "om_%d" % rep)
    fresh(d)
    r = common.onemap("conflicts", sc.om_project, "--rules", RULES_FILE,
                      "--format", "gpkg", "-o", d, "--no-store", "-j", "2",
                      timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(r.wall, None, r.rss_kb, None, timed_out=True)
    res, rows = {}, {}
    con = sqlite3.connect("file:%s?mode=ro"
                          % os.path.join(d, "conflicts.gpkg"), uri=True)
    try:
        for rule, a, b, u, area in con.execute(
                "SELECT rule_id, a_fid, b_fid, unit_code, area_m2 "
                "FROM conflicts"):
            add_row(res, rows, rule, a, b, u, area)
    finally:
        con.close()
    record(ctx, sc, "onemap", res, rows)
    e2e = sc.load_time("onemap", rep, LAYERS["onemap"]) + r.wall
    return Outcome(r.wall, e2e, r.rss_kb, res)


# ---- PostGIS --------------------------------------------------------------

PG_PIECES = """
SELECT a.fid AS a_fid, b.fid AS b_fid, x.cls AS xzqdm,
       CASE WHEN ST_CoveredBy(q.g, x.geom) THEN q.g
            ELSE ST_CollectionExtract(ST_Intersection(q.g, x.geom), 3)
       END AS g
FROM {ta} a
JOIN {tb} b ON ST_Intersects(a.geom, b.geom)
CROSS JOIN LATERAL (
    SELECT CASE WHEN ST_CoveredBy(a.geom, b.geom) THEN a.geom
                WHEN ST_CoveredBy(b.geom, a.geom) THEN b.geom
                ELSE ST_CollectionExtract(ST_Intersection(a.geom, b.geom), 3)
           END AS g OFFSET 0) q
JOIN xzq_sub x ON ST_Intersects(q.g, x.geom)
WHERE {where}
"""

PG_UNION = """
CREATE TABLE {table} AS
SELECT '{rule}'::text AS rule_id, a_fid, b_fid, xzqdm,
       ST_Area(g) AS area_m2, g::geometry(MultiPolygon, {srid}) AS geom
FROM (SELECT a_fid, b_fid, xzqdm, ST_Multi(ST_Union(g)) AS g
      FROM ({pieces}) p
      WHERE ST_Area(g) > 0
      GROUP BY 1, 2, 3) k
"""

PG_COLLECT = """
CREATE TABLE {table} AS
SELECT '{rule}'::text AS rule_id, a_fid, b_fid, xzqdm,
       ST_Area(g) AS area_m2, g::geometry(MultiPolygon, {srid}) AS geom
FROM (SELECT a_fid, b_fid, xzqdm,
             ST_Multi(CASE WHEN cardinality(gs) = 1 THEN gs[1]
                           ELSE ST_UnaryUnion(ST_Collect(gs)) END) AS g
      FROM (SELECT a_fid, b_fid, xzqdm, array_agg(g) AS gs
            FROM ({pieces}) p
            WHERE ST_Area(g) > 0
            GROUP BY 1, 2, 3) s) k
"""


def pg_side(layer, filt, alias, ex, whole):
    """(table, condition) of one side of a rule."""
    if filt and layer not in whole and SUB_CLASS.get(layer) != filt[0]:
        whole = whole | {layer}  # its pieces do not carry the field
    if filt is None:
        cond = "TRUE"
    else:
        vals, null_ok = ex["filters"][(layer, filt)]
        # the pieces carry the filtered field as cls (bench.py SUB_CLASS)
        col = ("%s.%s" % (alias, filt[0].lower()) if layer in whole
               else "%s.cls" % alias)
        cond = sql_in(col, vals, null_ok)
    table = layer.lower() if layer in whole else layer.lower() + "_sub"
    return table, cond


def pg_rule_sql(rule, ex, srid, whole=None, merge=None):
    rid, (la, fa), (lb, fb) = rule
    whole = PG_WHOLE if whole is None else whole
    ta, ca = pg_side(la, fa, "a", ex, whole)
    tb, cb = pg_side(lb, fb, "b", ex, whole)
    where = " AND ".join(c for c in (ca, cb) if c != "TRUE") or "TRUE"
    pieces = PG_PIECES.format(ta=ta, tb=tb, where=where)
    tmpl = PG_UNION if (merge or PG_MERGE) == "union" else PG_COLLECT
    return tmpl.format(table="cf_" + rid.lower(), rule=rid, srid=srid,
                       pieces=pieces)


def pg_drop():
    common.sql("SET client_min_messages = warning; DROP TABLE IF EXISTS %s"
               % ", ".join("cf_" + r[0].lower() for r in RULES))


def run_postgis(ctx, sc, rep, whole=None, merge=None):
    ex = ctx.extra["wl_b"][sc.name]
    srid = int(common.sql("SELECT Find_SRID('public', 'xzq', 'geom')")
               .strip())
    pg_drop()
    wall, rss = 0.0, 0
    for rule in RULES:
        r = common.psql(pg_rule_sql(rule, ex, srid, whole, merge),
                        timeout=left(ctx, wall))
        wall += r.wall
        rss = max(rss, r.rss_kb or 0)
        if r.timed_out:
            return Outcome(wall, None, rss, None, timed_out=True)
    # the patches to a GeoPackage: part of the end-to-end work
    g = out(sc, "pg_%d.gpkg" % rep)
    fresh(g)
    union = " UNION ALL ".join(
        "SELECT rule_id, a_fid, b_fid, xzqdm, area_m2, geom FROM cf_%s"
        % r[0].lower() for r in RULES)
    x = common.run(["ogr2ogr", "-f", "GPKG", g,
                    "PG:dbname=%s" % os.environ["PGDATABASE"],
                    "-sql", union, "-nln", "patches",
                    "-nlt", "MULTIPOLYGON", "-a_srs", "EPSG:%d" % srid],
                   timeout=left(ctx, wall))
    if x.timed_out:
        return Outcome(wall, None, rss, None, timed_out=True)
    res, rows = {}, {}
    for line in common.sql("SELECT rule_id, a_fid, b_fid, xzqdm, area_m2 "
                           "FROM (%s) u" % union).splitlines():
        if line.strip():
            add_row(res, rows, *line.split("|"))
    record(ctx, sc, "postgis", res, rows)
    e2e = sc.load_time("postgis", rep, LAYERS["postgis"]) + wall + x.wall
    return Outcome(wall, e2e, rss, res)


# ---- geopandas ------------------------------------------------------------

def gpd_run(ctx, sc, rep, method):
    g = out(sc, "gpd_%s_%d.gpkg" % (method, rep))
    c = out(sc, "gpd_%s_%d.csv" % (method, rep))
    fresh(g, c)
    r, info = common.gpd("gpd_conflicts.py", "--method", method,
                         out(sc, "gpd_spec.json"), g, c, timeout=ctx.timeout)
    if r.timed_out:
        return Outcome(None, r.wall, r.rss_kb, None, note="gpd " + method,
                       timed_out=True)
    res, rows = {}, {}
    with open(c, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            add_row(res, rows, row["rule_id"], row["a_fid"], row["b_fid"],
                    row["xzqdm"], row["area_m2"])
    o = Outcome(info["compute_s"], r.wall, r.rss_kb, res, note="gpd " + method)
    o.rows = rows
    return o


def run_gpd(ctx, sc, rep):
    """The faster method; both at the first scale's first repetition."""
    ex = ctx.extra.setdefault("wl_b", {})
    best = ex.get("gpd_best")
    if best is not None:
        o = gpd_run(ctx, sc, rep, best)
    else:
        runs = {m: gpd_run(ctx, sc, rep, m) for m in GPD_METHODS}
        ex["gpd_both"] = {"scale": sc.name, "rep": rep,
                          "runs": {m: (o.compute, o.e2e, o.rss_kb,
                                       o.timed_out)
                                   for m, o in runs.items()}}
        order = sorted(GPD_METHODS,
                       key=lambda m: (runs[m].timed_out, runs[m].e2e))
        ex["gpd_best"] = order[0]
        o = runs[order[0]]
        o.others = [(m, runs[m]) for m in order[1:]
                    if not runs[m].timed_out]
    if o.result is not None:
        record(ctx, sc, "geopandas", o.result, o.rows)
    return o


# ---- GDAL -----------------------------------------------------------------

ALGEBRA = [common.PY, "/usr/bin/ogr_layer_algebra.py", "Intersection",
           "-f", "GPKG", "-overwrite",
           "-opt", "PRETEST_CONTAINMENT=YES",
           "-opt", "USE_PREPARED_GEOMETRIES=YES"]


def gdal_plan(ctx, sc, rep):
    """The commands of one GDAL run: (sides, rules, final paths).

    sides: the ogr2ogr commands that make each filtered input once;
    rules: per rule [(cmd, (gpkg, layer) or None)], where a non-empty
    output is needed for the rule's next commands: an empty one means the
    rule has no patches. (The SQLite dialect cannot type a geometry
    expression of an empty result: ogr2ogr fails on it, see run_gdal.)
    """
    ex = ctx.extra["wl_b"][sc.name]
    d = out(sc, "gdal_%d" % rep)
    fresh(d)
    os.makedirs(d)
    side_cmds, sides = [], {}

    def side(layer, filt):
        """Each input once per layer and filter: its fid as src_fid."""
        key = (layer, filt)
        if key in sides:
            return sides[key]
        p = os.path.join(d, "side_%d.gpkg" % len(sides))
        where = ""
        if filt:
            vals, null_ok = ex["filters"][key]
            where = " WHERE " + sql_in('"%s"' % filt[0], vals, null_ok)
        # fid + 0: a plain "fid AS src_fid" would become the FID column
        side_cmds.append(["ogr2ogr", "-f", "GPKG", p, sc.inputs[layer],
                          "-nln", "S", "-nlt", "MULTIPOLYGON",
                          "-sql", 'SELECT fid + 0 AS src_fid, geom FROM '
                          '"%s"%s' % (layer, where)])
        sides[key] = p
        return p

    patches = os.path.join(d, "patches.gpkg")
    rules = []
    for rid, a, b in RULES:
        pa, pb = side(*a), side(*b)
        ab = os.path.join(d, "%s_ab.gpkg" % rid)
        abp = os.path.join(d, "%s_abp.gpkg" % rid)
        abx = os.path.join(d, "%s_abx.gpkg" % rid)
        cmds = []
        cmds.append((ALGEBRA + ["-input_ds", pa, "-input_lyr", "S",
                                "-method_ds", pb, "-method_lyr", "S",
                                "-output_ds", ab, "-output_lyr", "AB",
                                "-opt", "INPUT_PREFIX=a_",
                                "-opt", "METHOD_PREFIX=b_"], (ab, "AB")))
        # the polygonal parts: pairs that touch give lines or collections,
        # which the next Intersection cannot cut
        cmds.append((["ogr2ogr", "-f", "GPKG", "-overwrite", abp, ab,
                      "-dialect", "SQLite", "-nln", "AB",
                      "-nlt", "MULTIPOLYGON", "-sql",
                      "SELECT a_src_fid, b_src_fid, "
                      "CollectionExtract(geom, 3) AS geom FROM AB "
                      "WHERE ST_Area(CollectionExtract(geom, 3)) > 0"],
                     (abp, "AB")))
        cmds.append((ALGEBRA + ["-input_ds", abp, "-input_lyr", "AB",
                                "-method_ds", sc.inputs["XZQ"],
                                "-method_lyr", "XZQ",
                                "-output_ds", abx, "-output_lyr", "R",
                                "-method_fields", "XZQDM",
                                "-opt", "METHOD_PREFIX=m_"], (abx, "R")))
        # appended to the patches GeoPackage (created by the first rule
        # that has patches: see run_gdal)
        cmds.append((["ogr2ogr", "-f", "GPKG", patches, abx,
                      "-dialect", "SQLite",
                      "-nln", "patches", "-nlt", "MULTIPOLYGON", "-sql",
                      "SELECT '%s' AS rule_id, a_src_fid AS a_fid, "
                      "b_src_fid AS b_fid, m_XZQDM AS xzqdm, "
                      "CastToMultiPolygon(CollectionExtract(geom, 3)) "
                      "AS geom FROM R WHERE "
                      "ST_Area(CollectionExtract(geom, 3)) > 0" % rid],
                     None))
        rules.append(cmds)
    # SpatiaLite's ST_Area is a plain shoelace: on raw Gauss-Kruger
    # coordinates (4e7 m eastings) it is off by ~1e-5 m2 on a 6000 m2
    # patch; moved to the patch's corner first (an exact subtraction) it
    # is as exact as GEOS's
    areas = os.path.join(d, "areas.csv")
    final = ["ogr2ogr", "-f", "CSV", areas, patches, "-dialect",
             "SQLite", "-sql", "SELECT rule_id, a_fid, b_fid, xzqdm, "
             "ST_Area(ST_Translate(geom, -MbrMinX(geom), -MbrMinY(geom), 0))"
             " AS area_m2 FROM patches",
             "-lco", "STRING_QUOTING=IF_NEEDED"]
    return side_cmds, rules, final, patches, areas


def gpkg_count(path, layer):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return con.execute('SELECT count(*) FROM "%s"' % layer).fetchone()[0]
    finally:
        con.close()


def empty_sql_result(cmd, r):
    """ogr2ogr -sql failed because its result was empty, or raise.

    With no row, OGR's SQLite dialect cannot tell that the column
    CollectionExtract(geom, 3) AS geom is a geometry: it makes it a TEXT
    field next to the geometry field and fails on the duplicate name.
    Every other failure is an error.
    """
    if "duplicate column name: geom" in r.err:
        return True
    if "ERROR" in r.err:
        raise BenchError("%s: failed\n%s" % (" ".join(cmd), r.err[-2000:]))
    return False


def run_gdal(ctx, sc, rep):
    if not ctx.extra["wl_b"][sc.name]["xzq_unique"]:
        raise BenchError("(b) gdal: townships share an XZQDM; the GDAL chain "
                         "has no dissolve step")
    side_cmds, rules, final, patches, areas = gdal_plan(ctx, sc, rep)
    wall, rss = 0.0, 0
    cmds = [(c, None) for c in side_cmds]
    for group in rules:
        cmds.append(("group", None))
        cmds.extend(group)
    cmds.append((final, "final"))
    skip = False
    for cmd, need in cmds:
        if cmd == "group":
            skip = False
            continue
        if skip:
            continue
        if need == "final":
            if not os.path.exists(patches):
                break  # no rule has patches
            need = None
        elif cmd[-1].startswith("SELECT '") and os.path.exists(patches):
            cmd = cmd[:3] + ["-append", "-update"] + cmd[3:]
        sql = cmd[0] == "ogr2ogr" and "-sql" in cmd
        # exit 1 of an SQL step is judged by empty_sql_result
        r = common.run(cmd, timeout=left(ctx, wall),
                       ok=(0, 1) if sql else (0,))
        wall += r.wall
        rss = max(rss, r.rss_kb)
        if r.timed_out:
            return Outcome(None, wall, rss, None, timed_out=True)
        if sql and empty_sql_result(cmd, r):
            skip = True  # the SQL selected no polygon: no patches
            continue
        if need and gpkg_count(*need) == 0:
            skip = True
    res, rows = {}, {}
    if os.path.exists(areas):
        with open(areas, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                add_row(res, rows, row["rule_id"], row["a_fid"],
                        row["b_fid"], row["xzqdm"], row["area_m2"])
    record(ctx, sc, "gdal", res, rows)
    return Outcome(None, wall, rss, res)


# ---- agreement and report -------------------------------------------------

def split(res):
    """(areas by key, rows written)."""
    areas = {k: v for k, v in res.items() if k != ("__rows__",)}
    return areas, int(res.get(("__rows__",), 0))


def agree_one(what, ref, res, tool):
    ra, _ = split(ref)
    oa, orows = split(res)
    if orows != len(oa):
        dup = orows - len(oa)
        raise Disagree("%s: %s wrote %d patches for %d keys (%d more than "
                       "one per key; onemap writes one per rule, "
                       "fids and township)" % (what, tool, orows, len(oa),
                                               dup))
    s = common.agree_maps(what, ra, oa, tool)
    big_r = sum(1 for v in ra.values() if v > common.ABS_M2)
    big_o = sum(1 for v in oa.values() if v > common.ABS_M2)
    if big_r != big_o:
        raise Disagree("%s: onemap has %d patches above %g m2, %s %d"
                       % (what, big_r, common.ABS_M2, tool, big_o))
    return ("%d patches (onemap %d; above %g m2: %d on both sides); %s"
            % (len(oa), len(ra), common.ABS_M2, big_r, s))


def agree(ctx, sc, ref, other, tool):
    s = agree_one("(b) %s" % tool, ref.result, other.result, tool)
    for m, o in getattr(other, "others", []):
        s2 = agree_one("(b) %s %s" % (tool, m), ref.result, o.result,
                       "%s %s" % (tool, m))
        s += "; %s: %s" % (m, s2)
    return s


def report(ctx, sc):
    ex = ctx.extra.get("wl_b", {}).get(sc.name, {})
    per = ex.get("per_rule", {})
    lines = ["Per rule: patches written and their total planar area "
             "(km2), per tool (last run of each tool)."]
    tools = [t for t in common.ALL_TOOLS if t in per]
    if per:
        lines.append("")
        lines.append("| rule | A | B | " + " | ".join(
            "%s patches | %s km2" % (t, t) for t in tools) + " |")
        lines.append("|---|---|---|" + "---:|---:|" * len(tools))
        for rid, a, b in RULES:
            cells = []
            for t in tools:
                n, s = per[t].get(rid, (0, 0.0))
                cells.append("%d | %.6f" % (n, s / 1e6))
            lines.append("| %s | %s | %s | %s |" % (
                rid, side_name(a), side_name(b), " | ".join(cells)))
    ag = [a for a in ctx.agreements if a[0] == sc.name and a[1] == NAME]
    if ag:
        lines.append("")
        lines.append("Agreement with onemap:")
        for _, _, tool, s in ag:
            lines.append("- %s: %s" % (tool, s))
    lines += common.gpd_methods_md(ctx, sc, "wl_b")
    return "\n".join(lines)


def side_name(side):
    layer, filt = side
    if not filt:
        return layer
    return "%s %s%s" % (layer, "not " if filt[3] else "", filt[2])
