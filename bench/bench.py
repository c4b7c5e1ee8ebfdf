"""bench/bench.py -- onemap against PostGIS, geopandas and GDAL, side by side.

Run by bench/run inside a throwaway PostgreSQL cluster (pg_virtualenv), so
PGHOST/PGPORT/PGDATABASE/PGUSER are set. For every scale (county and city
by default, province with --province): generate the data with synth, build
the common inputs (every layer exported by onemap to a GeoPackage of its
own, so every tool reads the same fids and the same coordinates), then per
repetition: run every tool, onemap first, the peers in an order that
rotates with the repetition; onemap and PostGIS each load the data (timed
per layer) right before their workloads. Every peer's result is compared with
onemap's of the same repetition and the run stops loudly if they differ.
Writes bench/results.json, bench/results.md and bench/plot.svg.

    bench/run                         # county and city
    bench/run --province              # and province (~2M parcels)
    bench/run --scales county --reps 5    # (above county: --large-reps)
    bench/run --workloads a,c --tools onemap,postgis
    BENCH_CELLS=60 bench/run          # tiny counties, for trying the script
"""

import argparse
import importlib
import json
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from common import BenchError, Disagree, log  # noqa: E402

WORKLOADS = {"a": "wl_stats", "b": "wl_conflicts", "c": "wl_check",
             "d": "wl_qc"}
# the layers of the data set; XZQ are the townships
CODES = ("DLTB", "XZQ", "YJJBNTBHTB", "STBHHX", "CZKFBJ", "GHYT")
# PostGIS: the layers cut with ST_Subdivide(geom, 256) into <code>_sub
# (with the class column the workloads group by), GiST-indexed.
SUB_CLASS = {"DLTB": "dlbm", "XZQ": "xzqdm", "YJJBNTBHTB": None,
             "STBHHX": None, "CZKFBJ": None, "GHYT": "ydyhfldm"}


def synth_data(sc, cells):
    args = [common.SYNTH, "--seed", "1"]
    if sc.name != "county":
        args += ["--scale", sc.name]
    if cells:
        args += ["--cells", str(cells)]
    r = common.run(args + ["-o", sc.data])
    log("  " + r.out.strip().splitlines()[-1] + " (%.0f s)" % r.wall)


def source_of(sc, code):
    """(path, import options) of a layer as synth wrote it."""
    d = sc.data
    if code == "DLTB":
        p = os.path.join(d, "landuse", "DLTB.gpkg")
        if os.path.exists(p):
            return p, []
        return os.path.join(d, "landuse", "DLTB.shp"), ["--encoding", "GBK"]
    if code == "XZQ":
        opts = ["--code-field", "XZQDM", "--name-field", "XZQMC"]
        p = os.path.join(d, "admin", "XZQ.gpkg")
        if os.path.exists(p):
            return p, ["--layer", "XZQ"] + opts
        return os.path.join(d, "admin", "XZQ.geojson"), opts
    return os.path.join(d, "plan.gpkg"), ["--layer", code]


def import_opts(code):
    if code == "XZQ":
        return ["--code-field", "XZQDM", "--name-field", "XZQMC"]
    return []


def prepare(sc, cells):
    """Generate the data and the common inputs of one scale."""
    log("== %s: data" % sc.name)
    os.makedirs(sc.dir, exist_ok=True)
    synth_data(sc, cells)
    sc.project = sc.path("prep.gpkg")
    common.onemap("init", sc.project, "--crs", "EPSG:4530")
    os.makedirs(sc.path("in"), exist_ok=True)
    for code in CODES:
        src, opts = source_of(sc, code)
        common.onemap("import", sc.project, src, "--as", code, *opts)
        out = sc.path("in", code.lower() + ".gpkg")
        common.onemap("export", sc.project, code, out)
        sc.inputs[code] = out
    info = json.loads(common.onemap("info", sc.project, "DLTB", "--format",
                                    "json").out)
    sc.nparcels = int(info.get("features", info.get("nfeatures", 0)))
    sc.nvertices = int(info.get("vertices", 0))
    for code in CODES:
        inf = json.loads(common.onemap("info", sc.project, code, "--format",
                                       "json").out)
        sc.counts[code] = (int(inf.get("features", inf.get("nfeatures", 0))),
                           int(inf.get("vertices", 0)))
    sites = sorted(f for f in os.listdir(os.path.join(sc.data, "sites"))
                   if f.startswith("site") and f.endswith(".txt"))
    os.makedirs(sc.path("in", "sites"), exist_ok=True)
    for f in sites:
        txt = os.path.join(sc.data, "sites", f)
        g = sc.path("in", "sites", f[:-4] + ".gpkg")
        common.onemap("convert", txt, g)
        sc.sites_txt.append(txt)
        sc.sites_gpkg.append(g)
    log("  %d parcels, %d vertices, %d townships, %d sites"
        % (sc.nparcels, sc.nvertices, sc.counts["XZQ"][0], len(sites)))


def onemap_load(sc, rep):
    """A fresh project from the common inputs; seconds per layer."""
    p = sc.path("om_%d.gpkg" % rep)
    for f in (p, p + "-wal", p + "-shm"):
        if os.path.exists(f):
            os.unlink(f)
    t = {}
    r = common.onemap("init", p, "--crs", "EPSG:4530")
    init = r.wall
    for code in CODES:
        r = common.onemap("import", p, sc.inputs[code], "--as", code,
                          *import_opts(code))
        t[code] = r.wall
    t["DLTB"] += init
    sc.loads.setdefault("onemap", {})[rep] = t
    sc.om_project = p
    return p


def postgis_load(sc, rep):
    """Every layer into PostGIS as an expert would; seconds per layer.

    Table <code lower-case>: all attributes (lower-case names), fid kept,
    GiST on geom. Table <code>_sub (fid, cls, geom): ST_Subdivide(geom, 256)
    with cls the layer's class column (SUB_CLASS; NULL where none),
    GiST-indexed. VACUUM ANALYZE on both. The load time of a layer is all
    of that.
    """
    t = {}
    for code in CODES:
        n = code.lower()
        common.sql("SET client_min_messages = warning; "
                   "DROP TABLE IF EXISTS %s, %s_sub" % (n, n))
        os.sync()  # as common.run: earlier writes flushed, not timed
        t0 = time.monotonic()
        common.run(["ogr2ogr", "-f", "PostgreSQL",
                    "PG:dbname=%s" % os.environ["PGDATABASE"],
                    sc.inputs[code], code, "-nln", n, "-nlt", "MULTIPOLYGON",
                    "-lco", "GEOMETRY_NAME=geom", "-lco", "FID=fid",
                    "-lco", "SPATIAL_INDEX=GIST", "-preserve_fid",
                    "-gt", "65536"])
        cls = SUB_CLASS[code]
        common.sql("CREATE TABLE %s_sub AS SELECT fid, %s::text AS cls, "
                   "ST_Subdivide(geom, 256) AS geom FROM %s"
                   % (n, cls or "NULL", n))
        common.sql("CREATE INDEX ON %s_sub USING gist (geom)" % n)
        common.sql("VACUUM ANALYZE %s" % n)
        common.sql("VACUUM ANALYZE %s_sub" % n)
        t[code] = time.monotonic() - t0
    sc.loads.setdefault("postgis", {})[rep] = t


class Interrupted(Exception):
    """The run was stopped by a signal."""


def interrupted(signum, frame):
    raise Interrupted()


def tools_for(mod, ctx):
    return [t for t in ctx.tools if t in getattr(mod, "TOOLS", common.ALL_TOOLS)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scales", default=os.environ.get("BENCH_SCALES",
                                                       "county,city"))
    ap.add_argument("--province", action="store_true",
                    default=bool(os.environ.get("BENCH_PROVINCE")))
    ap.add_argument("--reps", type=int,
                    default=int(os.environ.get("BENCH_REPS", "3")),
                    help="repetitions at county scale")
    ap.add_argument("--large-reps", type=int,
                    default=int(os.environ.get("BENCH_LARGE_REPS", "1")),
                    help="repetitions above county scale (every tool)")
    ap.add_argument("--timeout", type=float,
                    default=float(os.environ.get("BENCH_TIMEOUT", "300")),
                    help="seconds one run of one tool may take")
    ap.add_argument("--tools", default=os.environ.get(
        "BENCH_TOOLS", ",".join(common.ALL_TOOLS)))
    ap.add_argument("--workloads", default=os.environ.get("BENCH_WORKLOADS",
                                                          "a,b,c,d"))
    ap.add_argument("--cells", type=int,
                    default=int(os.environ.get("BENCH_CELLS", "0")))
    ap.add_argument("--keep", action="store_true",
                    default=bool(os.environ.get("BENCH_KEEP")))
    ap.add_argument("--out", default=os.path.join(common.ROOT, "bench"))
    a = ap.parse_args()
    scales = [s for s in a.scales.split(",") if s]
    if a.province and "province" not in scales:
        scales.append("province")
    for s in scales:
        if s not in ("county", "city", "province"):
            sys.exit("bench: unknown scale %s (county, city, province)" % s)
    tools = [t for t in a.tools.split(",") if t]
    if "onemap" not in tools:
        sys.exit("bench: onemap must be among the tools (the reference)")
    for t in tools:
        if t not in common.ALL_TOOLS:
            sys.exit("bench: unknown tool %s" % t)
    wls = [w for w in a.workloads.split(",") if w]
    mods = {}
    for w in wls:
        if w not in WORKLOADS:
            sys.exit("bench: unknown workload %s (a, b, c, d)" % w)
        mods[w] = importlib.import_module(WORKLOADS[w])

    # SIGTERM (and ^C) stop the run but still write what was measured
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    work = tempfile.mkdtemp(prefix="onemap-bench-",
                            dir=os.environ.get("TMPDIR", "/tmp"))
    ctx = common.Ctx(work, a.reps, a.large_reps, a.timeout, tools, wls)
    ctx.started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with open("/proc/loadavg") as f:
        ctx.load_before = " ".join(f.read().split()[:3])
    ctx.scales = []
    status = 0
    try:
        common.sql("CREATE EXTENSION IF NOT EXISTS postgis")
        for name in scales:
            sc = common.Scale(name, os.path.join(work, name))
            prepare(sc, a.cells)
            ctx.scales.append(sc)
            for w in wls:
                mods[w].setup(ctx, sc)
            reps = a.reps if name == "county" else a.large_reps
            for rep in range(1, reps + 1):
                log("== %s: run %d of %d" % (name, rep, reps))
                order = [t for t in tools if t != "onemap"]
                k = (rep - 1) % max(1, len(order))
                order = ["onemap"] + order[k:] + order[:k]
                ref = {}
                for tool in order:
                    # A tool's workloads follow its own load, as a user's
                    # analyses follow the import. (With PostGIS's load, 4
                    # minutes at city scale, between onemap's load and its
                    # workloads, the machine's proactive reclaim (DAMON,
                    # pages idle for a minute paged out) had dropped the
                    # project from the page cache: onemap's (a) read it
                    # from disk, 6.8-7.0 s against 4.7-5.0 s warm.)
                    if tool == "onemap":
                        onemap_load(sc, rep)
                    elif tool == "postgis":
                        postgis_load(sc, rep)
                    for w in wls:
                        m = mods[w]
                        if tool not in tools_for(m, ctx):
                            continue
                        if (w, tool) in ctx.extra.get("stopped", set()):
                            continue
                        o = m.run(ctx, sc, tool, rep)
                        ctx.record(sc, w, tool, rep, o)
                        log("  (%s) %-9s compute %s e2e %s%s" % (
                            w, tool,
                            "%.3f" % o.compute if o.compute is not None else "-",
                            "%.3f" % o.e2e if o.e2e is not None else "-",
                            "  TIMED OUT" if o.timed_out else ""))
                        if o.timed_out:
                            # not at this scale again, nor at larger ones
                            ctx.extra.setdefault("stopped", set()).add(
                                (w, tool))
                            continue
                        if tool == "onemap":
                            ref[w] = o
                        elif w in ref:
                            s = m.agree(ctx, sc, ref[w], o, tool)
                            ctx.agreements.append((sc.name, w, tool, s))
                        else:
                            ctx.agreements.append((
                                sc.name, w, tool, "not checked: onemap was "
                                "stopped at the timeout"))
    except Disagree as e:
        log("bench: RESULTS DISAGREE\n%s" % e)
        status = 1
    except BenchError as e:
        log("bench: a tool failed\n%s" % e)
        status = 1
    except Interrupted:
        log("bench: interrupted; writing the runs finished so far")
        ctx.interrupted = True
        status = 1
    finally:
        save(ctx, a.out, mods)
        if not a.keep:
            common.rmtree(work)
        else:
            log("bench: work files kept in %s" % work)
    return status


def versions():
    """Versions of every tool in the run."""
    v = {}

    def out(cmd):
        try:
            return common.run(cmd).out.strip()
        except (BenchError, OSError):
            return "?"
    v["onemap"] = out([common.ONEMAP, "--version"]).split()[-1]
    v["GEOS"] = out(["pkg-config", "--modversion", "geos"])
    v["GDAL"] = out(["gdal-config", "--version"])
    v["PostgreSQL"] = out(["psql", "-qXAtc", "SHOW server_version"])
    v["PostGIS"] = out(["psql", "-qXAtc", "SELECT postgis_lib_version()"])
    v["geopandas"] = out([common.PY, "-c", "import geopandas, shapely; "
                          "print(geopandas.__version__, 'shapely', "
                          "shapely.__version__)"])
    return v


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // (1024 * 1024)
    return {"cores": os.cpu_count(), "cpu": cpu, "mem_gib": mem}


def save(ctx, out, mods):
    """results.json; then results.md and plot.svg (bench/report.py)."""
    import report
    res = {
        "versions": versions(), "machine": machine(),
        "started": ctx.started, "load_before": ctx.load_before,
        "interrupted": getattr(ctx, "interrupted", False),
        "command": "bench/run " + " ".join(sys.argv[1:]),
        "reps": ctx.reps, "large_reps": ctx.large_reps,
        "timeout": ctx.timeout, "tools": ctx.tools,
        "workloads": {w: mods[w].TITLE for w in ctx.workloads},
        "notes": {w: getattr(mods[w], "NOTES", {}) for w in ctx.workloads},
        "scales": [{"name": sc.name, "parcels": sc.nparcels,
                    "vertices": sc.nvertices, "counts": sc.counts,
                    "sites": len(sc.sites_txt)} for sc in ctx.scales],
        "rows": ctx.rows,
        "agreements": ctx.agreements,
        "extra_md": {},
    }
    for sc in ctx.scales:
        for w in ctx.workloads:
            f = getattr(mods[w], "report", None)
            if f:
                try:
                    res["extra_md"]["%s/%s" % (sc.name, w)] = f(ctx, sc)
                except Exception as e:  # a report section must not hide results
                    res["extra_md"]["%s/%s" % (sc.name, w)] = (
                        "(report section failed: %s)" % e)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
    report.write(res, out)


if __name__ == "__main__":
    sys.exit(main())
