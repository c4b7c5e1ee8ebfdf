"""bench/report.py -- results.md and plot.svg from the benchmark's results.

bench/bench.py calls write(res, out_dir) with the dict it saves as
bench/results.json; to render the report again from a saved run:

    /usr/bin/python3 bench/report.py bench/results.json [OUT_DIR]

results.md: when and where, versions, data sizes, how it was run, a
summary (onemap's end-to-end time and every peer's ratio per workload and
scale), then per workload a table of compute and end-to-end times
(median, min–max), peak memory and ratios, the notes, the agreement
checks and the workload's own sections. plot.svg: time vs data size, one
panel per workload, log-log, drawn here by hand (no matplotlib on the
bench machine; the SVG must render alike in a browser and on GitHub).

Everything in `res` may be missing or partial (one scale, a tool left out,
a run stopped at the timeout, times that are None): the report says what
is not there instead of failing.
"""

import json
import math
import os
import statistics
import sys
from xml.sax.saxutils import escape

TOOL_ORDER = ("onemap", "postgis", "geopandas", "gdal")
TOOL_NAME = {"onemap": "onemap", "postgis": "PostGIS",
             "geopandas": "geopandas", "gdal": "GDAL"}
# Okabe-Ito colours (distinguishable with colour-blindness), plus a shape
# per tool so that the plot also reads in grey.
TOOL_COLOUR = {"onemap": "#0072B2", "postgis": "#D55E00",
               "geopandas": "#009E73", "gdal": "#CC79A7"}
TOOL_SHAPE = {"onemap": "circle", "postgis": "square",
              "geopandas": "triangle", "gdal": "diamond"}
EXTRA_COLOURS = ("#E69F00", "#56B4E9", "#000000", "#F0E442")
LAYERS = (("DLTB", "land-use parcels (地类图斑)"),
          ("XZQ", "townships (行政区)"),
          ("YJJBNTBHTB", "permanent basic farmland (永久基本农田)"),
          ("STBHHX", "ecological protection red line (生态保护红线)"),
          ("CZKFBJ", "urban development boundary (城镇开发边界)"),
          ("GHYT", "planned land use (规划用途)"))
DASH = "\u2014"  # em dash: "not available"


# ---------------------------------------------------------------- numbers

def fmt_s(x):
    """Seconds: 3 significant digits below 10 s, else one decimal."""
    if x is None:
        return DASH
    if x <= 0:
        return "0"
    if x < 10:
        digits = max(0, 2 - int(math.floor(math.log10(x))))
        s = "%.*f" % (digits, x)
        if float(s) < 10:
            return s
    return "%.1f" % x


def fmt_ratio(r):
    """A ratio as "12.3×" (> 1: onemap faster)."""
    if r is None or r <= 0 or math.isinf(r) or math.isnan(r):
        return DASH
    if r >= 100:
        return "%.0f\u00d7" % r
    if r >= 1:
        return "%.1f\u00d7" % r
    return "%.2f\u00d7" % r


def fmt_int(n):
    """An integer with thousands separators; "—" for None."""
    if n is None:
        return DASH
    try:
        return "{:,}".format(int(n))
    except (TypeError, ValueError):
        return str(n)


def fmt_count(n):
    """A count for an axis or a heading: 1200 -> "1.2k", 2e6 -> "2M"."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            s = ("%.0f" % v) if v >= 10 else ("%.1f" % v).rstrip("0")
            return s.rstrip(".") + unit
    return "%.0f" % n


def fmt_decade(k):
    """10**k seconds as a tick label: 0.01, 0.1, 1, 10, 100, 1000."""
    if k >= 0:
        return str(10 ** k)
    return "0." + "0" * (-k - 1) + "1"


def median(xs):
    return statistics.median(xs) if xs else None


# ------------------------------------------------------------ the results

def tools_in(res):
    """Tools in report order: the known four first, then any other."""
    seen = list(res.get("tools") or [])
    for r in res.get("rows") or []:
        if r.get("tool") and r["tool"] not in seen:
            seen.append(r["tool"])
    known = [t for t in TOOL_ORDER if t in seen]
    return known + [t for t in seen if t not in TOOL_ORDER]


def scales_in(res):
    """[(name, parcels, scale dict)] in run order, rows' scales included."""
    out = []
    names = set()
    for s in res.get("scales") or []:
        if s.get("name") and s["name"] not in names:
            names.add(s["name"])
            out.append((s["name"], s.get("parcels") or 0, s))
    extra = {}
    for r in res.get("rows") or []:
        n = r.get("scale")
        if n and n not in names:
            extra[n] = max(extra.get(n, 0), r.get("parcels") or 0)
    for n in sorted(extra, key=lambda k: extra[k]):
        out.append((n, extra[n], {"name": n, "parcels": extra[n]}))
    return out


def workloads_in(res):
    """[(letter, title)]: the run's workloads, then any found only in rows."""
    titles = dict(res.get("workloads") or {})
    for r in res.get("rows") or []:
        w = r.get("workload")
        if w and w not in titles:
            titles[w] = "workload %s" % w
    return sorted(titles.items())


def tool_name(t):
    return TOOL_NAME.get(t, t)


def tool_colour(t, tools):
    if t in TOOL_COLOUR:
        return TOOL_COLOUR[t]
    others = [x for x in tools if x not in TOOL_COLOUR]
    return EXTRA_COLOURS[others.index(t) % len(EXTRA_COLOURS)]


class Cell:
    """The runs of one tool on one workload at one scale, summarised."""

    def __init__(self, rows):
        self.rows = rows
        done = [r for r in rows if not r.get("timed_out")]
        self.stopped = [r for r in rows if r.get("timed_out")]
        comp = [r["compute"] for r in done if r.get("compute") is not None]
        e2e = [r["e2e"] for r in done if r.get("e2e") is not None]
        self.compute = (median(comp), min(comp), max(comp)) if comp else None
        self.e2e = (median(e2e), min(e2e), max(e2e)) if e2e else None
        rss = [r["rss_kb"] for r in rows if r.get("rss_kb")]
        self.rss_kb = max(rss) if rss else None
        self.n = len(rows)

    def all_stopped(self):
        return bool(self.stopped) and not (self.compute or self.e2e)


def cells(res):
    """(scale, workload, tool) -> Cell."""
    groups = {}
    for r in res.get("rows") or []:
        key = (r.get("scale"), r.get("workload"), r.get("tool"))
        groups.setdefault(key, []).append(r)
    return {k: Cell(v) for k, v in groups.items()}


def stopped_before(res, scales, w, tool, scale):
    """The smaller scale at which (w, tool) was stopped, or None.

    bench.py does not run a (workload, tool) again once it timed out, so
    at the larger scales it has no rows at all.
    """
    for name, _, _ in scales:
        if name == scale:
            return None
        for r in res.get("rows") or []:
            if (r.get("scale") == name and r.get("workload") == w
                    and r.get("tool") == tool and r.get("timed_out")):
                return name
    return None


def timeout_of(res):
    t = res.get("timeout")
    try:
        return float(t) if t else None
    except (TypeError, ValueError):
        return None


def fmt_stats(st, cell, timeout):
    """"median (min–max)" seconds, or the stop at the timeout."""
    if cell is None:
        return DASH
    if cell.all_stopped():
        return stopped_text(timeout)
    if st is None:
        return DASH
    m, lo, hi = st
    s = fmt_s(m)
    if hi > lo:
        s += " (%s\u2013%s)" % (fmt_s(lo), fmt_s(hi))
    if cell.stopped:
        s += "; %d of %d stopped" % (len(cell.stopped), cell.n)
    return s


def stopped_text(timeout):
    if timeout:
        return "> %s s (stopped)" % fmt_timeout(timeout)
    return "stopped"


def fmt_timeout(t):
    """The timeout, as the user gave it: 1800, 0.5."""
    return "%g" % t


def ratio_text(peer, ref, kind, timeout):
    """peer/onemap for kind "compute" or "e2e"; a lower bound if stopped."""
    if peer is None or ref is None:
        return DASH
    r = getattr(ref, kind)
    if r is None or r[0] <= 0:
        return DASH
    if peer.all_stopped():
        # only e2e has a meaningful bound: the run was killed at the timeout
        if kind == "e2e" and timeout:
            return "> " + fmt_ratio(timeout / r[0])
        return DASH
    p = getattr(peer, kind)
    if p is None:
        return DASH
    return fmt_ratio(p[0] / r[0])


# --------------------------------------------------------------- Markdown

def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    return out


def md_header(res, scales):
    m = res.get("machine") or {}
    lines = ["# onemap vs PostGIS, geopandas and GDAL", ""]
    where = []
    if m.get("cores"):
        where.append("%s cores" % m["cores"])
    if m.get("cpu"):
        where.append(m["cpu"])
    if m.get("mem_gib"):
        where.append("%s GiB memory" % m["mem_gib"])
    s = "Generated by `make bench`"
    if res.get("started"):
        s += " on %s" % res["started"]
    if where:
        s += ", " + ", ".join(where)
    if res.get("load_before"):
        s += "; load average before the run %s" % res["load_before"]
    lines.append(s + ".")
    if scales:
        lines.append("Scales: " + ", ".join(
            "%s (%s parcels)" % (n, fmt_int(p)) if p else n
            for n, p, _ in scales) + ".")
    lines.append("")
    lines.append("Times in seconds, median (min\u2013max) over the runs; "
                 "*compute* = the computation on data already loaded, "
                 "*end to end* = GeoPackages in \u2192 result written "
                 "(for onemap and PostGIS: loading the layers the workload "
                 "reads + compute). A ratio is peer / onemap: above 1\u00d7 "
                 "onemap is faster.")
    lines.append("")
    return lines


def md_summary(res, scales, wls, tools, cs):
    peers = [t for t in tools if t != "onemap"]
    timeout = timeout_of(res)
    header = ["workload", "scale", "onemap end to end, s"]
    header += ["%s / onemap" % tool_name(t) for t in peers]
    rows = []
    for w, title in wls:
        first = True
        for name, _, _ in scales:
            ref = cs.get((name, w, "onemap"))
            if ref is None and not any((name, w, t) in cs for t in peers):
                continue
            label = "(%s) %s" % (w, short_title(title)) if first else ""
            first = False
            if ref and ref.e2e:
                om = fmt_s(ref.e2e[0])
            elif ref and ref.all_stopped():
                om = stopped_text(timeout)
            else:
                om = DASH
            row = [label, name, om]
            for t in peers:
                c = cs.get((name, w, t))
                if c is None:
                    s = stopped_before(res, scales, w, t, name)
                    row.append("not run (stopped at %s)" % s if s else DASH)
                    continue
                e = ratio_text(c, ref, "e2e", timeout)
                k = ratio_text(c, ref, "compute", timeout)
                row.append(e if k == DASH else "%s (compute %s)" % (e, k))
            rows.append(row)
    lines = ["## Summary", ""]
    if not rows:
        return lines + ["No results were recorded.", ""]
    lines += md_table(header, rows)
    lines += ["",
              "End-to-end ratios, compute-only ratios in parentheses where "
              "the peer's computation can be timed apart. \u201c> N\u00d7\u201d: "
              "the peer was stopped at the timeout, so the ratio is at "
              "least N.", "",
              "![time vs data size](plot.svg)", ""]
    return lines


def short_title(t):
    """A workload's title for the summary: the part before a colon."""
    head = t.split(":")[0].strip()
    if ":" in t and len(head) >= 8:
        t = head
    return t if len(t) <= 70 else t[:67].rstrip() + "..."


def md_setup(res, scales, tools):
    lines = ["## Machine, versions, data", ""]
    v = res.get("versions") or {}
    if v:
        lines.append("Versions: " + ", ".join(
            "%s %s" % (k, v[k]) for k in v) + ".")
        lines.append("")
    m = res.get("machine") or {}
    if m:
        lines.append("Machine: %s cores, %s, %s GiB memory; load average "
                     "before the run %s." % (
                         m.get("cores", "?"), m.get("cpu", "?"),
                         m.get("mem_gib", "?"), res.get("load_before", "?")))
        lines.append("")
    if scales:
        lines.append("Data: `build/tools/synth --seed 1` (`--scale city`, "
                     "`--scale province`), every layer exported by onemap "
                     "to a GeoPackage that every tool reads; features / "
                     "vertices per layer:")
        lines.append("")
        header = ["layer"] + [n for n, _, _ in scales]
        rows = []
        for code, what in LAYERS:
            row = ["%s %s" % (code, what)]
            for _, _, s in scales:
                c = (s.get("counts") or {}).get(code)
                if code == "DLTB" and not c and s.get("parcels"):
                    c = (s.get("parcels"), s.get("vertices"))
                if c:
                    row.append("%s / %s" % (fmt_int(c[0]), fmt_int(c[1])))
                else:
                    row.append(DASH)
            rows.append(row)
        rows.append(["construction sites (部标 TXT)"]
                    + [fmt_int(s.get("sites")) for _, _, s in scales])
        lines += md_table(header, rows) + [""]
    lines += ["## How it was run", ""]
    reps = res.get("reps")
    lreps = res.get("large_reps")
    lines.append("`make bench` (= `bench/run`: county and city scale); "
                 "`make bench PROVINCE=1` (= `bench/run --province`) adds "
                 "the province scale. Everything runs on one machine; "
                 "PostgreSQL is a throwaway cluster started by the script.")
    lines.append("")
    s = []
    if reps:
        s.append("every tool %s at county scale" % times(reps))
    if lreps:
        s.append("%s above it" % times(lreps))
    if timeout_of(res):
        s.append("a run longer than %s s was stopped and not run again "
                 "at that scale nor at larger ones"
                 % fmt_timeout(timeout_of(res)))
    if s:
        lines.append("Repetitions: " + "; ".join(s) + ".")
    for inv in res.get("invocations", []):
        lines.append("")
        lines.append("- `%s` (%s): scales %s, tools %s, %s runs, timeout %s s%s"
                     % (inv.get("command", "bench/run"), inv.get("started"),
                        ", ".join(inv.get("scales", [])),
                        ", ".join(inv.get("tools", [])), inv.get("reps"),
                        fmt_timeout(inv.get("timeout")),
                        " (interrupted)" if inv.get("interrupted") else ""))
    if res.get("invocations"):
        lines.append("")
    lines.append(("Tools: %s. " % ", ".join(tool_name(t) for t in tools)
                  if tools else "") +
                 "Each repetition runs every tool, onemap first and the "
                 "peers in an order that rotates with the repetition; "
                 "onemap and PostGIS each load the data afresh right "
                 "before their workloads; "
                 "every peer's result is checked against onemap's of the "
                 "same repetition. Peak RSS: the tool's process (PostGIS: "
                 "the backend that ran the query, parallel workers not "
                 "counted), largest over the runs; MiB.")
    lines.append("")
    return lines


def times(n):
    return "once" if n == 1 else "twice" if n == 2 else "%s times" % n


def md_workload(res, scales, w, title, tools, cs):
    timeout = timeout_of(res)
    lines = ["## (%s) %s" % (w, title), ""]
    header = ["scale", "tool", "runs", "compute, s", "end to end, s",
              "peak RSS, MiB", "compute / onemap", "e2e / onemap"]
    rows = []
    run_notes = []
    for name, parcels, _ in scales:
        ref = cs.get((name, w, "onemap"))
        first = True
        for t in tools:
            c = cs.get((name, w, t))
            label = ("%s (%s)" % (name, fmt_count(parcels)) if parcels
                     else name) if first else ""
            if c is None:
                s = stopped_before(res, scales, w, t, name)
                if s:
                    rows.append([label, tool_name(t), "0",
                                 "not run (stopped at %s)" % s, DASH, DASH,
                                 DASH, DASH])
                    first = False
                continue
            first = False
            rss = ("%d" % round(c.rss_kb / 1024.0)) if c.rss_kb else DASH
            peer = t != "onemap"
            rows.append([
                label, tool_name(t), str(c.n),
                "stopped" if c.all_stopped() else
                fmt_stats(c.compute, c, timeout),
                fmt_stats(c.e2e, c, timeout),
                rss,
                ratio_text(c, ref, "compute", timeout) if peer else DASH,
                ratio_text(c, ref, "e2e", timeout) if peer else DASH])
            run_notes += notes_of(name, t, c)
    if not rows:
        return lines + ["No results for this workload.", ""]
    lines += md_table(header, rows) + [""]
    notes = (res.get("notes") or {}).get(w)
    if isinstance(notes, dict) and notes:
        lines.append("Notes:")
        lines.append("")
        for t in sorted(notes, key=lambda x: (
                x not in tools, TOOL_ORDER.index(x) if x in TOOL_ORDER
                else len(TOOL_ORDER), str(x))):
            lines.append("- **%s**: %s" % (tool_name(t),
                                          " ".join(str(notes[t]).split())))
        lines.append("")
    elif isinstance(notes, str) and notes.strip():
        lines += ["Notes: " + " ".join(notes.split()), ""]
    if run_notes:
        lines.append("Per run:")
        lines.append("")
        lines += run_notes
        lines.append("")
    agr = [a for a in res.get("agreements") or []
           if len(a) >= 4 and a[1] == w]
    if agr:
        lines.append("Agreement with onemap (checked in every run; "
                     "1e-9 relative or 1e-6 m\u00b2):")
        lines.append("")
        seen = set()
        for sc, _, t, s in (a[:4] for a in agr):
            if (sc, t, s) in seen:
                continue
            seen.add((sc, t, s))
            lines.append("- %s, %s: %s" % (sc, tool_name(t), s))
        lines.append("")
    elif any(k[1] == w and k[2] != "onemap" for k in cs):
        lines += ["No agreement check was recorded for this workload.", ""]
    extra = res.get("extra_md") or {}
    for name, _, _ in scales:
        x = extra.get("%s/%s" % (name, w))
        if x and str(x).strip():
            lines += ["### (%s) at %s scale" % (w, name), "",
                      str(x).strip(), ""]
    return lines


def notes_of(scale, tool, c):
    """Bullets for the distinct per-run notes of one cell."""
    by = {}
    for r in c.rows:
        n = " ".join(str(r.get("note") or "").split())
        if n:
            by.setdefault(n, []).append(str(r.get("rep", "?")))
    out = []
    for n, reps in list(by.items())[:5]:
        which = ("" if len(reps) == c.n and len(by) == 1
                 else " (run %s)" % ", ".join(reps))
        out.append("- %s, %s%s: %s" % (scale, tool_name(tool), which, n))
    return out


def markdown(res):
    scales = scales_in(res)
    wls = workloads_in(res)
    tools = tools_in(res)
    cs = cells(res)
    lines = md_header(res, scales)
    lines += md_summary(res, scales, wls, tools, cs)
    for w, title in wls:
        lines += md_workload(res, scales, w, title, tools, cs)
    lines += md_setup(res, scales, tools)
    return "\n".join(lines).rstrip() + "\n"


# -------------------------------------------------------------------- SVG

class Axis:
    """A log10 axis from 10**lo to 10**hi onto pixels p0..p1."""

    def __init__(self, lo, hi, p0, p1):
        self.lo, self.hi, self.p0, self.p1 = lo, hi, p0, p1

    def __call__(self, v):
        f = (math.log10(v) - self.lo) / (self.hi - self.lo)
        return self.p0 + f * (self.p1 - self.p0)


def decades(values, pad=0.05):
    """(lo, hi) integer decades enclosing values with a little room."""
    vs = [v for v in values if v and v > 0]
    if not vs:
        return 0, 1
    lo = int(math.floor(math.log10(min(vs)) - pad))
    hi = int(math.ceil(math.log10(max(vs)) + pad))
    if hi <= lo:
        hi = lo + 1
    return lo, hi


def marker(shape, x, y, r, colour, hollow=False):
    fill = "#ffffff" if hollow else colour
    st = 'fill="%s" stroke="%s" stroke-width="1.5"' % (fill, colour)
    if shape == "square":
        r *= 0.9
        return '<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" %s/>' % (
            x - r, y - r, 2 * r, 2 * r, st)
    if shape == "triangle":
        r *= 1.15
        pts = [(x, y - r), (x + r * 0.95, y + r * 0.7),
               (x - r * 0.95, y + r * 0.7)]
    elif shape == "diamond":
        r *= 1.2
        pts = [(x, y - r), (x + r, y), (x, y + r), (x - r, y)]
    else:
        return '<circle cx="%.1f" cy="%.1f" r="%.1f" %s/>' % (x, y, r, st)
    return '<polygon points="%s" %s/>' % (
        " ".join("%.1f,%.1f" % p for p in pts), st)


def text(x, y, s, size=11, anchor="start", fill="#333333", weight=None,
         extra=""):
    w = ' font-weight="%s"' % weight if weight else ""
    return ('<text x="%.1f" y="%.1f" font-size="%s" text-anchor="%s" '
            'fill="%s"%s%s>%s</text>' % (x, y, size, anchor, fill, w, extra,
                                         escape(s)))


def tw(s):
    """Width of s in Latin characters (CJK characters count twice)."""
    return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in s)


def wrap(s, width):
    """Words of s in lines of at most `width` characters (max 2 lines)."""
    lines = [""]
    for word in s.split():
        if lines[-1] and tw(lines[-1]) + 1 + tw(word) > width:
            lines.append(word)
        else:
            lines[-1] = (lines[-1] + " " + word).strip()
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
        while tw(lines[1]) > width - 3:
            lines[1] = lines[1][:-1]
        lines[1] = lines[1].rstrip() + "..."
    return lines


def panel(res, w, title, scales, tools, cs, x0, y0, pw, ph):
    """One workload's panel: axes, grid, lines and markers; SVG lines."""
    timeout = timeout_of(res)
    parcels = {n: p for n, p, _ in scales if p}
    pts = {}  # tool -> [(parcels, e2e median, compute median, stopped)]
    for t in tools:
        for n, p in parcels.items():
            c = cs.get((n, w, t))
            if c is None:
                continue
            e = c.e2e[0] if c.e2e else None
            k = c.compute[0] if c.compute else None
            stop = c.all_stopped()
            if stop:
                e = timeout or max([r.get("e2e") or 0 for r in c.rows]
                                   or [0]) or None
            if e or k:
                pts.setdefault(t, []).append((p, e, k, stop))
    for t in pts:
        pts[t].sort()
    ml, mr, mt, mb = 52, 14, 46, 40
    ax0, ax1 = x0 + ml, x0 + pw - mr
    ay0, ay1 = y0 + mt, y0 + ph - mb  # top, bottom
    out = ['<g>']
    tl = wrap("(%s) %s" % (w, title), int((pw - 20) / 6.6))
    for i, s in enumerate(tl):
        out.append(text(x0 + pw / 2, y0 + 16 + 15 * i, s, 12.5, "middle",
                        "#111111", "bold"))
    xs = [p for t in pts for p, _, _, _ in pts[t]] or list(parcels.values())
    ys = [v for t in pts for _, e, k, _ in pts[t] for v in (e, k) if v]
    if not xs or not ys:
        out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" '
                   'fill="none" stroke="#999999"/>' % (ax0, ay0, ax1 - ax0,
                                                       ay1 - ay0))
        out.append(text((ax0 + ax1) / 2, (ay0 + ay1) / 2, "no results", 12,
                        "middle", "#777777"))
        return out + ["</g>"]
    xl, xh = decades(xs, 0.1)
    yl, yh = decades(ys)
    X = Axis(xl, xh, ax0, ax1)
    Y = Axis(yl, yh, ay1, ay0)
    # grid: decades solid light, 2..9 faint ticks on the axes
    for k in range(xl, xh + 1):
        px = X(10 ** k)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                   'stroke="#dddddd"/>' % (px, ay0, px, ay1))
        out.append(text(px, ay1 + 15, fmt_count(10 ** k), 10.5, "middle"))
        if k < xh:
            for m in range(2, 10):
                q = X(m * 10 ** k)
                out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                           'stroke="#999999"/>' % (q, ay1, q, ay1 - 4))
    for k in range(yl, yh + 1):
        py = Y(10 ** k)
        out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                   'stroke="#dddddd"/>' % (ax0, py, ax1, py))
        out.append(text(ax0 - 6, py + 3.5, fmt_decade(k), 10.5, "end"))
        if k < yh:
            for m in range(2, 10):
                q = Y(m * 10 ** k)
                out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                           'stroke="#999999"/>' % (ax0, q, ax0 + 4, q))
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" '
               'fill="none" stroke="#666666"/>' % (ax0, ay0, ax1 - ax0,
                                                   ay1 - ay0))
    sizes = ", ".join("%s %s" % (n, fmt_count(p)) for n, p in parcels.items())
    out.append(text((ax0 + ax1) / 2, ay1 + 31,
                    "parcels" + (" (%s)" % sizes if sizes else ""), 11,
                    "middle"))
    out.append(text(x0 + 13, (ay0 + ay1) / 2, "seconds", 11, "middle",
                    extra=' transform="rotate(-90 %.1f %.1f)"'
                    % (x0 + 13, (ay0 + ay1) / 2)))
    labelled = set()
    for i, t in enumerate(t for t in tools if t in pts):
        col = tool_colour(t, tools)
        shape = TOOL_SHAPE.get(t, "circle")
        done = [(X(p), Y(e)) for p, e, _, s in pts[t] if e and not s]
        comp = [(X(p), Y(k)) for p, _, k, s in pts[t] if k and not s]
        stop = [(X(p), Y(e)) for p, e, _, s in pts[t] if e and s]
        if len(comp) > 1:
            out.append('<polyline points="%s" fill="none" stroke="%s" '
                       'stroke-width="1.5" stroke-dasharray="5 3" '
                       'opacity="0.85"/>' % (pl(comp), col))
        for q in comp:
            out.append('<circle cx="%.1f" cy="%.1f" r="2.2" fill="%s"/>'
                       % (q[0], q[1], col))
        if len(done) > 1:
            out.append('<polyline points="%s" fill="none" stroke="%s" '
                       'stroke-width="2"/>' % (pl(done), col))
        if done and stop:
            out.append('<polyline points="%s" fill="none" stroke="%s" '
                       'stroke-width="1.5" stroke-dasharray="1 3"/>'
                       % (pl([done[-1], stop[0]]), col))
        for q in done:
            out.append(marker(shape, q[0], q[1], 4, col))
        for q in stop:
            # tools stopped at the same place: side by side, one label
            dx = (i - 1.5) * 5
            out.append(marker(shape, q[0] + dx, q[1], 4.5, col, hollow=True))
            key = (round(q[0]), round(q[1]))
            if key not in labelled:
                labelled.add(key)
                out.append(text(q[0] + 10, q[1] + 3.5, "stopped", 9.5,
                                fill="#555555"))
    return out + ["</g>"]


def pl(points):
    return " ".join("%.1f,%.1f" % p for p in points)


def svg(res):
    """The whole plot.svg as a string."""
    scales = scales_in(res)
    wls = workloads_in(res)
    tools = tools_in(res)
    cs = cells(res)
    width = 900
    ncols = 1 if len(wls) == 1 else 2
    nrows = max(1, (len(wls) + ncols - 1) // ncols)
    pw, ph = width / ncols, 300
    top = 78
    height = top + nrows * ph + 8
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">'
           % (width, height, width, height),
           # opaque background: GitHub's dark theme would show black text
           # on a transparent SVG as black on black
           '<rect width="100%" height="100%" fill="#ffffff"/>']
    runs = res.get("reps")
    out.append(text(width / 2, 20, "Time vs data size (median%s; log\u2013log)"
                    % (" of %s runs" % runs if runs and runs > 1 else ""),
                    14, "middle", "#111111", "bold"))
    # legend: the tools, then what the line styles mean
    shown = [t for t in tools
             if any(k[2] == t for k in cs)] or tools
    items = []
    for t in shown:
        col = tool_colour(t, tools)
        items.append((tool_name(t), col, TOOL_SHAPE.get(t, "circle")))
    x = width / 2 - sum(34 + 7 * tw(n) + 18 for n, _, _ in items) / 2
    for n, col, shape in items:
        out.append('<line x1="%.1f" y1="40" x2="%.1f" y2="40" stroke="%s" '
                   'stroke-width="2"/>' % (x, x + 26, col))
        out.append(marker(shape, x + 13, 40, 4, col))
        out.append(text(x + 32, 44, n, 12, fill="#222222"))
        x += 34 + 7 * tw(n) + 18
    to = timeout_of(res)
    key = [("line", "end to end"), ("dash", "compute only"),
           ("hollow", "stopped at the timeout" +
            (" (%s s)" % fmt_timeout(to) if to else ""))]
    x = width / 2 - sum(34 + 6 * len(s) + 18 for _, s in key) / 2
    for kind, s in key:
        if kind == "line":
            out.append('<line x1="%.1f" y1="60" x2="%.1f" y2="60" '
                       'stroke="#555555" stroke-width="2"/>' % (x, x + 26))
        elif kind == "dash":
            out.append('<line x1="%.1f" y1="60" x2="%.1f" y2="60" '
                       'stroke="#555555" stroke-width="1.5" '
                       'stroke-dasharray="5 3"/>' % (x, x + 26))
        else:
            out.append(marker("circle", x + 13, 60, 4.5, "#555555", True))
        out.append(text(x + 32, 64, s, 11, fill="#444444"))
        x += 34 + 6 * len(s) + 18
    if not wls:
        out.append(text(width / 2, top + ph / 2, "no results", 14, "middle",
                        "#777777"))
    for i, (w, title) in enumerate(wls):
        r, c = divmod(i, ncols)
        out += panel(res, w, title, scales, tools, cs, c * pw, top + r * ph,
                     pw, ph)
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write(res, out_dir):
    """Write out_dir/results.md and out_dir/plot.svg from `res`."""
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "plot.svg"), "w", encoding="utf-8") as f:
        f.write(svg(res))
    with open(os.path.join(out_dir, "results.md"), "w",
              encoding="utf-8") as f:
        f.write(markdown(res))


def merge(paths):
    """One result from several runs of bench/run (e.g. county with every
    tool, then city with some): rows, scales, agreements and sections of
    all, versions and machine of the first; each run listed."""
    out = None
    for p in paths:
        with open(p, encoding="utf-8") as f:
            r = json.load(f)
        inv = {"command": r.get("command", "bench/run"),
               "started": r.get("started"),
               "scales": [s["name"] for s in r.get("scales", [])],
               "tools": r.get("tools", []), "reps": r.get("reps"),
               "timeout": r.get("timeout"),
               "interrupted": r.get("interrupted", False)}
        if out is None:
            out = r
            out["invocations"] = [inv]
            continue
        out["invocations"].append(inv)
        names = {s["name"] for s in r.get("scales", [])}
        out["scales"] = [s for s in out["scales"] if s["name"] not in names]
        out["scales"] += r.get("scales", [])
        out["rows"] += r.get("rows", [])
        out["agreements"] += r.get("agreements", [])
        out.setdefault("extra_md", {}).update(r.get("extra_md", {}))
        out.setdefault("workloads", {}).update(r.get("workloads", {}))
        for w, n in r.get("notes", {}).items():
            out.setdefault("notes", {}).setdefault(w, {}).update(n)
        out["tools"] = list(dict.fromkeys(out.get("tools", []) +
                                          r.get("tools", [])))
    return out


def main(argv):
    if len(argv) >= 3 and argv[1] == "--merge":
        # report.py --merge A.json B.json ... OUT_DIR
        res = merge(argv[2:-1])
        out = argv[-1]
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(res, f, indent=1, ensure_ascii=False)
        write(res, out)
        print("report: merged %d runs into %s" % (len(argv) - 3, out))
        return
    if len(argv) not in (2, 3):
        sys.exit("usage: report.py RESULTS.json [OUT_DIR]\n"
                 "       report.py --merge A.json B.json ... OUT_DIR")
    with open(argv[1], encoding="utf-8") as f:
        res = json.load(f)
    out = argv[2] if len(argv) == 3 else os.path.dirname(
        os.path.abspath(argv[1]))
    write(res, out)
    print("report: wrote %s and %s" % (os.path.join(out, "results.md"),
                                       os.path.join(out, "plot.svg")))


if __name__ == "__main__":
    main(sys.argv)
