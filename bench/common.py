"""bench/common.py -- what every workload of the benchmark shares.

Running a tool and measuring its wall time and peak memory (os.wait4 on a
process of its own), the PostgreSQL session (one backend per timed query,
its peak memory read from /proc), the per-scale context, the outcome of one
run, and the agreement check that stops the benchmark loudly when onemap's
numbers and a peer's differ.

Conventions every workload module (bench/wl_*.py) follows:

    NAME = "a"                       # workload letter
    TITLE = "..."                    # one line, English
    LAYERS = {"onemap": [...], "postgis": [...]}
        # layer codes whose load time counts in the end-to-end time of
        # onemap (import) and PostGIS (ogr2ogr + derived tables + index +
        # VACUUM ANALYZE); see Scale.load_time
    def setup(ctx, sc): ...          # once per scale, untimed
    def run(ctx, sc, tool, rep): ... # -> Outcome; tool in TOOLS
    def agree(ctx, sc, ref, other, tool): ...
        # compare `other` (a peer's Outcome) with `ref` (onemap's Outcome
        # of the same repetition); return a one-line summary, raise
        # Disagree listing the first differences
    def report(ctx, sc): ...         # optional: extra Markdown for results.md

A module that cannot run a tool for a workload (no such operation in that
tool) leaves the tool out of its TOOLS tuple and says why in NOTES[tool].
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
ONEMAP = os.path.join(BUILD, "onemap")
SYNTH = os.path.join(BUILD, "tools", "synth")
BENCH_CHECK = os.path.join(BUILD, "tools", "bench-check")
# The Debian interpreter: geopandas is a Debian package (python3-geopandas),
# and a python3 earlier on PATH (pyenv, venv) would not see it.
PY = "/usr/bin/python3"
ALL_TOOLS = ("onemap", "postgis", "geopandas", "gdal")
# Every area onemap reports must agree with every peer's to this.
REL = 1e-9
ABS_M2 = 1e-6


class BenchError(Exception):
    """A tool failed: the message names the command and ends with its stderr."""


class Disagree(Exception):
    """onemap's result and a peer's differ beyond the tolerance."""


class Run:
    """One finished process: wall seconds, peak RSS (KiB), output."""

    def __init__(self, wall, rss_kb, out, err, timed_out=False):
        self.wall = wall
        self.rss_kb = rss_kb
        self.out = out
        self.err = err
        self.timed_out = timed_out


class Outcome:
    """One run of one tool on one workload.

    compute: seconds of the computation alone (data already loaded), None
             when the tool cannot separate it (say why in note);
    e2e:     seconds from the GeoPackages to the result written;
    rss_kb:  peak resident memory of the tool's process (PostGIS: the
             backend that ran the query, parallel workers not counted);
    result:  whatever agree() compares (dict of keys to areas, ...);
    note:    short text for the report;
    timed_out: the run was stopped at ctx.timeout (times are lower bounds).
    """

    def __init__(self, compute=None, e2e=None, rss_kb=None, result=None,
                 note="", timed_out=False):
        self.compute = compute
        self.e2e = e2e
        self.rss_kb = rss_kb
        self.result = result
        self.note = note
        self.timed_out = timed_out


def log(msg):
    print(msg, flush=True)


def run(cmd, *, timeout=None, env=None, cwd=None, stdout=None, ok=(0,)):
    """Run `cmd` (a list) in a process group of its own and wait for it.

    Returns a Run with the wall time and the peak RSS of the process (the
    largest of it and its waited-for children: ru_maxrss of os.wait4).
    The writes of earlier steps are flushed to disk first (os.sync, not
    timed), so no tool pays for the previous one's (a 1 GB project being
    written back while the next command runs); its own writes and fsyncs
    it does pay.
    stdout: a path to write standard output to (else it is returned in
    Run.out). Exit codes outside `ok` raise BenchError with the stderr tail.
    On timeout the whole group is killed and Run.timed_out is set.
    """
    env2 = dict(os.environ)
    if env:
        env2.update(env)
    with tempfile.TemporaryFile() as ferr, \
            (open(stdout, "wb") if stdout else tempfile.TemporaryFile()) as fout:
        os.sync()
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=fout, stderr=ferr, env=env2, cwd=cwd,
                             start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        except BaseException:
            # interrupted (SIGTERM, ^C): do not leave the tool running
            kill()
            os.wait4(p.pid, 0)
            raise
        finally:
            if timer:
                timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        ferr.seek(0)
        err = ferr.read().decode("utf-8", "replace")
        out = ""
        if not stdout:
            fout.seek(0)
            out = fout.read().decode("utf-8", "replace")
    if killed:
        return Run(wall, ru.ru_maxrss, out, err, timed_out=True)
    if p.returncode not in ok:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise BenchError("%s: exit %d\n%s" % (" ".join(map(str, cmd)),
                                              p.returncode, tail))
    return Run(wall, ru.ru_maxrss, out, err)


def psql(sql, *, out=None, timeout=None):
    """Run SQL in a fresh backend of the bench cluster (psql -f).

    Returns a Run whose wall time is the whole psql process (connect +
    query + output) and whose rss_kb is the backend's peak RSS (VmHWM, read
    from /proc before it exits; the leader only). Rows go to `out` (a path)
    as psql -A -t -F'|' prints them, or to Run.out.
    """
    fd, path = tempfile.mkstemp(suffix=".sql")
    rss = path + ".rss"
    with os.fdopen(fd, "w") as f:
        f.write("SELECT pg_backend_pid() AS bpid \\gset\n")
        f.write("\\setenv BPID :bpid\n")
        if out:
            f.write("\\o %s\n" % out)
        f.write(sql.rstrip().rstrip(";") + ";\n")
        if out:
            f.write("\\o\n")
        f.write("\\! grep VmHWM /proc/$BPID/status | awk '{ print $2 }' > %s\n"
                % rss)
    try:
        r = run(["psql", "-qXAt", "-F|", "-v", "ON_ERROR_STOP=1", "-f", path],
                timeout=timeout)
        try:
            with open(rss) as f:
                r.rss_kb = int(f.read().strip() or 0)
        except (OSError, ValueError):
            r.rss_kb = None
        return r
    finally:
        for p in (path, rss):
            if os.path.exists(p):
                os.unlink(p)


def sql(text):
    """Run untimed SQL (setup); returns its output."""
    return run(["psql", "-qXAt", "-F|", "-v", "ON_ERROR_STOP=1", "-c",
                text]).out


def onemap(*args, **kw):
    """Run build/onemap with --quiet; keyword arguments as run()."""
    return run([ONEMAP, "--quiet"] + [str(a) for a in args], **kw)


def gpd(script, *args, timeout=None):
    """Run a geopandas script (bench/peers/<script>) with Debian's python.

    The script prints one JSON object on its last stdout line, e.g.
    {"compute_s": 1.23, ...}; returns (Run, that dict).
    """
    r = run([PY, os.path.join(ROOT, "bench", "peers", script)]
            + [str(a) for a in args], timeout=timeout)
    if r.timed_out:
        return r, {}
    lines = r.out.strip().splitlines()
    if not lines:
        raise BenchError("%s printed nothing" % script)
    return r, json.loads(lines[-1])


def agree_maps(what, ref, other, tool, rel=REL, abs_m2=ABS_M2):
    """Compare two dicts key -> area (m2): onemap's `ref` and a peer's.

    A key missing on one side counts as 0 there. Raises Disagree naming the
    first differing keys; returns "N values, worst relative difference X
    (values > 1 m2)".
    """
    bad = []
    worst = 0.0
    keys = set(ref) | set(other)
    for k in sorted(keys, key=str):
        a = ref.get(k, 0.0)
        b = other.get(k, 0.0)
        d = abs(a - b)
        m = max(abs(a), abs(b))
        if m > 1:
            worst = max(worst, d / m)
        if d > rel * m and d > abs_m2:
            bad.append("  %s: onemap %.9f, %s %.9f (difference %.3g m2)"
                       % (k, a, tool, b, d))
    if bad:
        raise Disagree("%s: onemap and %s DISAGREE on %d of %d values:\n%s"
                       % (what, tool, len(bad), len(keys),
                          "\n".join(bad[:20])))
    return "%d values, worst relative difference %.2g (values > 1 m2)" % (
        len(keys), worst)


def gpd_methods_md(ctx, sc, key):
    """Markdown lines: the two geopandas methods' times at the scale where
    both ran (ctx.extra[key]["gpd_both"], set by a workload module)."""
    both = ctx.extra.get(key, {}).get("gpd_both")
    if not both or both["scale"] != sc.name:
        return []
    lines = ["", "geopandas, both methods (run %d; the faster is the "
             "geopandas row from then on: %s):"
             % (both["rep"], ctx.extra[key]["gpd_best"]), "",
             "| method | compute s | e2e s | peak RSS MB |",
             "|---|---:|---:|---:|"]
    for m, (c, e, rss, to) in both["runs"].items():
        lines.append("| %s | %s | %s%s | %s |" % (
            m, "%.2f" % c if c is not None else "-",
            "%.2f" % e if e is not None else "-",
            " (timed out)" if to else "",
            "%.0f" % (rss / 1024) if rss else "-"))
    return lines


def stats3(xs):
    """(median, min, max) of a non-empty list."""
    return statistics.median(xs), min(xs), max(xs)


class Scale:
    """One data size: its directory, inputs and the load times per tool.

    inputs: layer code -> single-layer GeoPackage every tool reads (the
            layers exported by onemap from its project, so every tool sees
            the same fids and bit-identical coordinates); layer name inside
            = the code (DLTB, XZQ, YJJBNTBHTB, STBHHX, CZKFBJ, GHYT).
    sites_txt / sites_gpkg: the construction sites (部标 TXT as synth wrote
            them, and each converted to a GeoPackage, layer = file stem).
    project: onemap project built from the inputs (for compute-only runs).
    loads[tool][rep][code]: seconds to load that layer in that repetition.
    postgis tables (after Scale.postgis_load): <code lower-case> with all
            attributes (lower-case column names), GiST on geom; and for
            every layer but DLTB ... see bench.py postgis_load.
    """

    def __init__(self, name, directory):
        self.name = name
        self.dir = directory
        self.data = os.path.join(directory, "data")
        self.inputs = {}
        self.sites_txt = []
        self.sites_gpkg = []
        self.project = None
        self.nparcels = 0
        self.nvertices = 0
        self.counts = {}
        self.loads = {}

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def load_time(self, tool, rep, codes):
        """Seconds the tool spent loading `codes` in repetition `rep`."""
        got = self.loads.get(tool, {}).get(rep, {})
        missing = [c for c in codes if c not in got]
        if missing:
            raise BenchError("no %s load time for %s in run %d"
                             % (tool, ",".join(missing), rep))
        return sum(got[c] for c in codes)


class Ctx:
    """The whole benchmark run: settings, scales, recorded rows."""

    def __init__(self, work, reps, large_reps, timeout, tools, workloads):
        self.work = work
        self.reps = reps
        self.large_reps = large_reps
        self.timeout = timeout
        self.tools = tools
        self.workloads = workloads
        self.rows = []
        self.agreements = []
        self.extra = {}

    def record(self, sc, wl, tool, rep, o):
        self.rows.append({
            "scale": sc.name, "parcels": sc.nparcels,
            "vertices": sc.nvertices, "workload": wl, "tool": tool,
            "rep": rep, "compute": o.compute, "e2e": o.e2e,
            "rss_kb": o.rss_kb, "note": o.note, "timed_out": o.timed_out})


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
