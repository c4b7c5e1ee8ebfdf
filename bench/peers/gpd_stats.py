"""bench/peers/gpd_stats.py -- workload (a) in geopandas (Debian 0.12).

Planar area (m2) of DLTB ∩ L by (XZQ.XZQDM, DLTB.DLBM) for each
control-line layer L, the way an expert writes it with the geopandas that
Debian 12 ships (shapely 1.8, rtree spatial index, no pygeos: every
"vectorised" geometry operation is a Python loop over GEOS calls).

    gpd_stats.py --method overlay|sjoin [--order line|admin] \\
        DLTB.gpkg XZQ.gpkg OUT.csv L1=L1.gpkg [L2=L2.gpkg ...]

--order line (default): the parcels are cut by each control-line layer,
the pieces by the admin units; --order admin: the parcels are cut by the
admin units once (a parcel may cross units; the synthetic data happen not
to, but real data do), the pieces by each control-line layer. The areas
are summed by (XZQDM, DLBM). Two methods:

  overlay  gpd.overlay(how="intersection"), keep_geom_type=False and
           then only the polygonal parts (polygonal()): keep_geom_type=True
           would dissolve (unary_union) the polygon parts of
           GeometryCollections, reshaping them for nothing.
  sjoin    gpd.sjoin(predicate="intersects") (rtree), then per pair the
           parcel itself where a prepared right polygon covers it (what
           PostGIS's CASE WHEN ST_CoveredBy does) and else
           GeoSeries.intersection(align=False) on the remaining pairs.

Prints one JSON line: compute_s (between the data read and the result
written), read_s, write_s, pieces, csv.
"""

import argparse
import json
import time

import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon
from shapely.prepared import prep


def read(path, cols):
    """The single layer of a GeoPackage, only the columns we need."""
    df = gpd.read_file(path)
    return df[cols + ["geometry"]]


def polygonal(df):
    """Only the polygonal pieces, with the polygon parts of collections.

    Lines and points (from pairs that only touch) have no area; they are
    dropped so that the next cut sees polygons only (gpd.overlay refuses
    mixed geometry types). The polygon parts of a GeometryCollection
    that GEOS returns are not adjacent to each other (they would have
    been merged), so a MultiPolygon of them is valid: no union needed.
    """
    g = df.geometry
    kind = g.geom_type
    keep = kind.isin(("Polygon", "MultiPolygon", "GeometryCollection"))
    df = df[keep.to_numpy()]
    coll = (df.geom_type == "GeometryCollection").to_numpy()
    if coll.any():
        fixed = []
        for gc in df.geometry[coll]:
            parts = []
            for p in gc.geoms:
                if p.geom_type == "Polygon":
                    parts.append(p)
                elif p.geom_type == "MultiPolygon":
                    parts.extend(p.geoms)
            fixed.append(MultiPolygon(parts) if parts else None)
        g = df.geometry.copy()
        g[coll] = fixed
        df = df.set_geometry(g.to_numpy())
        df = df[df.geometry.notna().to_numpy()]
    return df[~df.geometry.is_empty.to_numpy()]


def cut_overlay(left, right):
    """Every intersection of left with right (attributes of both)."""
    return polygonal(gpd.overlay(left, right, how="intersection",
                                 keep_geom_type=False))


def cut_sjoin(left, right):
    """Every intersection of left with right: sjoin + per-pair pieces.

    Pairs whose right polygon covers the left one keep the left geometry
    (prepared covers test, one preparation per right polygon); the others
    are intersected pairwise.
    """
    j = gpd.sjoin(left, right, how="inner", predicate="intersects")
    if j.empty:
        return j.drop(columns="index_right")
    rgeom = right.geometry
    covered = pd.Series(False, index=range(len(j)))
    ri = j["index_right"].to_numpy()
    lg = j.geometry.to_numpy()
    # group the pair positions by right polygon: one prepared geometry each
    for r, pos in pd.Series(range(len(j))).groupby(ri):
        pr = prep(rgeom.loc[r])
        idx = pos.to_numpy()
        covered.iloc[idx] = [pr.covers(lg[i]) for i in idx]
    cov = covered.to_numpy()
    out = j.geometry.copy()
    rest = ~cov
    if rest.any():
        other = gpd.GeoSeries(rgeom.loc[ri[rest]].to_numpy(), crs=right.crs)
        out.iloc[rest] = j.geometry[rest].intersection(other, align=False) \
            .to_numpy()
    j = j.drop(columns="index_right")
    return polygonal(j.set_geometry(out.to_numpy()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=("overlay", "sjoin"),
                    default="sjoin")
    ap.add_argument("--order", choices=("admin", "line"), default="line")
    ap.add_argument("dltb")
    ap.add_argument("xzq")
    ap.add_argument("out")
    ap.add_argument("layers", nargs="+", help="CODE=path.gpkg")
    a = ap.parse_args()
    cut = cut_overlay if a.method == "overlay" else cut_sjoin

    t0 = time.monotonic()
    dltb = read(a.dltb, ["DLBM"])
    xzq = read(a.xzq, ["XZQDM"])
    lines = {}
    for spec in a.layers:
        code, path = spec.split("=", 1)
        lines[code] = read(path, [])
    t1 = time.monotonic()

    rows = []
    npieces = 0
    if a.order == "admin":
        pieces = cut(dltb, xzq)
        npieces = len(pieces)
    for code, lyr in lines.items():
        if a.order == "admin":
            got = cut(pieces, lyr)
        else:
            part = cut(dltb, lyr)
            npieces += len(part)
            got = cut(part, xzq)
        s = got.assign(a=got.geometry.area).groupby(["XZQDM", "DLBM"])["a"] \
            .sum()
        for (x, c), v in s.items():
            rows.append((code, x, c, v))
    t2 = time.monotonic()

    with open(a.out, "w") as f:
        f.write("layer,xzqdm,dlbm,area_m2\n")
        for code, x, c, v in rows:
            f.write("%s,%s,%s,%r\n" % (code, x, c, float(v)))
    t3 = time.monotonic()
    print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0,
                      "write_s": t3 - t2, "pieces": npieces,
                      "method": a.method, "order": a.order,
                      "csv": a.out}))


if __name__ == "__main__":
    main()
