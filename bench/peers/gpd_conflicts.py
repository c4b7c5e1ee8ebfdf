"""bench/peers/gpd_conflicts.py -- workload (b) in geopandas (Debian 0.12).

The conflict patches of must_not_overlap rules, A ∩ B split by the
townships, written as polygons to a GeoPackage, the way an expert writes
it with the geopandas Debian 12 ships (shapely 1.8, rtree spatial index,
no pygeos: every "vectorised" geometry operation is a Python loop over
GEOS calls).

    gpd_conflicts.py --method overlay|sjoin SPEC.json OUT.gpkg OUT.csv

SPEC.json (written by bench/wl_conflicts.py):
    {"layers": {"CODE": "path.gpkg", ...},      # layer name = CODE
     "admin": {"layer": "XZQ", "code": "XZQDM"},
     "rules": [{"id": "R001",
                "a": {"layer": "CZKFBJ", "field": null, "values": null,
                      "null_ok": false},
                "b": {...}}, ...]}
A side with a field keeps the features whose value is one of `values`
(or NULL/blank when null_ok): the rule's where filter as an explicit code
list.

One patch per (rule, A fid, B fid, township code): the polygonal part of
A ∩ B ∩ township, with area > 0 (what onemap writes). The fids are the
GeoPackage fids (fiona's feature ids), carried as attributes.

  overlay  gpd.overlay(how="intersection", keep_geom_type=False), twice
           (A x B, then x the townships), polygonal parts kept.
  sjoin    gpd.sjoin(predicate="intersects") (rtree), then per pair the
           left geometry where a prepared right polygon covers it (what
           PostGIS's CASE WHEN ST_CoveredBy does), else
           GeoSeries.intersection(align=False); twice.

Prints one JSON line: compute_s (between the data read and the patches
written: the patches in memory), read_s, write_s (the GeoPackage),
patches, csv, gpkg.
"""

import argparse
import json
import time

import fiona
import geopandas as gpd
import pandas as pd
from shapely.geometry import MultiPolygon
from shapely.prepared import prep


def read(path, layer, cols):
    """A GeoPackage layer with its fids as column "fid" (fiona's ids)."""
    df = gpd.read_file(path, layer=layer)
    with fiona.open(path, layer=layer) as src:
        # fiona iterates a GeoPackage layer in fid order, as read_file did
        fids = [int(k) for k in src.keys()]
    if len(fids) != len(df):
        raise SystemExit("%s: %d fids for %d features" % (path, len(fids),
                                                         len(df)))
    df = df[cols + ["geometry"]].copy()
    df.insert(0, "fid", fids)
    return df


def select(df, side):
    """The features the rule's where filter keeps."""
    field = side.get("field")
    if not field:
        return df
    col = df[field]
    keep = col.astype(str).str.strip().isin(set(side["values"]))
    if side.get("null_ok"):
        keep |= col.isna() | (col.astype(str).str.strip() == "")
    return df[keep.to_numpy()]


def polygonal(df):
    """Only the polygonal pieces, with the polygon parts of collections.

    Lines and points (pairs that only touch) have no area and are no
    patches. The polygon parts of a GeometryCollection that GEOS returns
    are not adjacent to each other (they would have been merged), so a
    MultiPolygon of them is valid without a union.
    """
    kind = df.geom_type
    df = df[kind.isin(("Polygon", "MultiPolygon",
                       "GeometryCollection")).to_numpy()]
    coll = (df.geom_type == "GeometryCollection").to_numpy()
    if coll.any():
        geoms = list(df.geometry)
        for i in coll.nonzero()[0]:
            parts = []
            for p in geoms[i].geoms:
                if p.geom_type == "Polygon":
                    parts.append(p)
                elif p.geom_type == "MultiPolygon":
                    parts.extend(p.geoms)
            geoms[i] = MultiPolygon(parts) if parts else None
        df = df.set_geometry(gpd.GeoSeries(geoms, index=df.index,
                                           crs=df.crs))
        df = df[df.geometry.notna().to_numpy()]
    return df[~df.geometry.is_empty.to_numpy()]


def cut_overlay(left, right):
    return polygonal(gpd.overlay(left, right, how="intersection",
                                 keep_geom_type=False))


def cut_sjoin(left, right):
    """Every intersection of left with right: sjoin + per-pair pieces."""
    j = gpd.sjoin(left, right, how="inner", predicate="intersects")
    if j.empty:
        return j.drop(columns="index_right")
    rgeom = right.geometry
    ri = j["index_right"].to_numpy()
    lg = j.geometry.to_numpy()
    covered = [False] * len(j)
    # one prepared geometry per right polygon, for all its pairs
    for r, pos in pd.Series(range(len(j))).groupby(ri):
        pr = prep(rgeom.loc[r])
        for i in pos.to_numpy():
            covered[i] = pr.covers(lg[i])
    cov = pd.Series(covered).to_numpy()
    out = j.geometry.copy()
    rest = ~cov
    if rest.any():
        other = gpd.GeoSeries(rgeom.loc[ri[rest]].to_numpy(), crs=right.crs)
        out.iloc[rest] = j.geometry[rest].intersection(
            other, align=False).to_numpy()
    j = j.drop(columns="index_right")
    return polygonal(j.set_geometry(out.to_numpy()))


def patches(rule, layers, units, cut):
    """The patches of one rule: rule_id, a_fid, b_fid, xzqdm, geometry."""
    a = select(layers[rule["a"]["layer"]], rule["a"])[["fid", "geometry"]]
    b = select(layers[rule["b"]["layer"]], rule["b"])[["fid", "geometry"]]
    a = a.rename(columns={"fid": "a_fid"})
    b = b.rename(columns={"fid": "b_fid"})
    ab = cut(a.reset_index(drop=True), b.reset_index(drop=True))
    if ab.empty:
        return None
    p = cut(ab.reset_index(drop=True)[["a_fid", "b_fid", "geometry"]], units)
    p = p[(p.geometry.area > 0).to_numpy()]
    if p.empty:
        return None
    keys = ["a_fid", "b_fid", "xzqdm"]
    if p.duplicated(keys).any():
        # townships sharing a code: one patch per code, like onemap's
        p = p.dissolve(by=keys, as_index=False)
    p = p[keys + ["geometry"]].copy()
    p.insert(0, "rule_id", rule["id"])
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=("overlay", "sjoin"),
                    default="sjoin")
    ap.add_argument("spec")
    ap.add_argument("gpkg")
    ap.add_argument("csv")
    a = ap.parse_args()
    cut = cut_overlay if a.method == "overlay" else cut_sjoin
    with open(a.spec, encoding="utf-8") as f:
        spec = json.load(f)

    t0 = time.monotonic()
    need = {}
    for r in spec["rules"]:
        for s in (r["a"], r["b"]):
            need.setdefault(s["layer"], set())
            if s.get("field"):
                need[s["layer"]].add(s["field"])
    layers = {code: read(spec["layers"][code], code, sorted(cols))
              for code, cols in need.items()}
    adm = spec["admin"]
    units = read(spec["layers"][adm["layer"]], adm["layer"], [adm["code"]])
    units = units[[adm["code"], "geometry"]].rename(
        columns={adm["code"]: "xzqdm"})
    t1 = time.monotonic()

    parts = [patches(r, layers, units, cut) for r in spec["rules"]]
    parts = [p for p in parts if p is not None]
    if parts:
        out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True),
                               geometry="geometry", crs=units.crs)
    else:
        out = gpd.GeoDataFrame({"rule_id": [], "a_fid": [], "b_fid": [],
                                "xzqdm": []}, geometry=[], crs=units.crs)
    out["area_m2"] = out.geometry.area
    # every patch as a MultiPolygon, as the other tools write them
    out = out.set_geometry([g if g.geom_type == "MultiPolygon"
                            else MultiPolygon([g]) for g in out.geometry],
                           crs=units.crs)
    t2 = time.monotonic()
    out.to_file(a.gpkg, layer="patches", driver="GPKG")

    t3 = time.monotonic()
    # the keys and areas for the comparison (not part of the work)
    with open(a.csv, "w", encoding="utf-8") as f:
        f.write("rule_id,a_fid,b_fid,xzqdm,area_m2\n")
        for r in out[["rule_id", "a_fid", "b_fid", "xzqdm",
                      "area_m2"]].itertuples(index=False):
            f.write("%s,%d,%d,%s,%r\n" % (r[0], r[1], r[2], r[3],
                                          float(r[4])))
    print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0,
                      "write_s": t3 - t2, "patches": len(out),
                      "method": a.method, "csv": a.csv, "gpkg": a.gpkg}))


if __name__ == "__main__":
    main()
