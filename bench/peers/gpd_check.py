"""bench/peers/gpd_check.py -- workload (c) in geopandas (Debian 0.12).

The compliance check of a set of construction sites, the areas onemap's
default review profile computes, per site parcel (DKBH), planar m2:

  C001  site ∩ YJJBNTBHTB                       (one area)
  C002  site ∩ STBHHX                           (one area)
  C003  site ∩ DLTB, cultivated DLBM only, by DLBM
  C004  site ∩ DLTB by DLBM
  C005  site ∩ GHYT by YDYHFLDM

written as an expert writes it with the geopandas that Debian 12 ships
(shapely 1.8, rtree spatial index, no pygeos):

    gpd_check.py --method sjoin|overlay OUT.csv \\
        YJJBNTBHTB=y.gpkg STBHHX=s.gpkg DLTB=d.gpkg GHYT=g.gpkg \\
        site01.gpkg site02.gpkg ...

The four layers and every site are read once and the spatial indexes
built before timing (what a checking service keeps in memory); then each
site is checked and timed on its own. Two methods:

  sjoin    gpd.sjoin(site, layer, predicate="intersects") (the layer's
           rtree), then per pair the layer polygon itself where the
           prepared site parcel covers it (PostGIS's CASE WHEN
           ST_CoveredBy) and else the pairwise intersection.
  overlay  gpd.overlay(site, candidates, how="intersection",
           keep_geom_type=False), the candidates first picked with the
           layer's rtree: overlay itself copies both frames and tests every
           geometry for validity on each call, which on the whole layer
           would cost more than the check (an expert filters first).

Prints one JSON line: compute_s (the sum over the sites), sites (site ->
seconds), read_s, index_s, write_s, pieces, method, csv.
"""

import argparse
import json
import os
import time

import geopandas as gpd
from shapely.prepared import prep

# the class column each layer is grouped by (None: one area per parcel)
BY = {"YJJBNTBHTB": None, "STBHHX": None, "DLTB": "DLBM",
      "GHYT": "YDYHFLDM"}
CHECK = {"YJJBNTBHTB": "C001", "STBHHX": "C002", "DLTB": "C004",
         "GHYT": "C005"}
# group "cultivated" of data/codes/groups.csv: DLBM 0101 0102 0103
CULTIVATED = ("0101", "0102", "0103")


def read(path, by):
    df = gpd.read_file(path)
    df = df[([by] if by else []) + ["geometry"]]
    if by is None:
        df = df.assign(cls="")
    else:
        df = df.rename(columns={by: "cls"})
    return df.reset_index(drop=True)


def pieces_sjoin(site, layer):
    """[(DKBH, cls, piece geometry)] of one site against one layer."""
    j = gpd.sjoin(site, layer, how="inner", predicate="intersects")
    out = []
    lgeom = layer.geometry.to_numpy()
    preps = {}
    for code, sg, ri, cls in zip(j["DKBH"], j.geometry, j["index_right"],
                                 j["cls"]):
        p = preps.get(code)
        if p is None:
            p = preps[code] = prep(sg)
        g = lgeom[ri]
        out.append((code, cls, g if p.covers(g) else sg.intersection(g)))
    return out


def pieces_overlay(site, layer):
    """[(DKBH, cls, piece geometry)] by gpd.overlay on the candidates."""
    idx = layer.sindex.query(site.unary_union, predicate="intersects")
    if len(idx) == 0:
        return []
    o = gpd.overlay(site, layer.iloc[idx], how="intersection",
                    keep_geom_type=False)
    return list(zip(o["DKBH"], o["cls"], o.geometry))


def check_site(site, layers, pieces):
    """{(DKBH, check, cls): m2} of one site; and the number of pieces."""
    areas = {}
    n = 0
    for code, layer in layers.items():
        cid = CHECK[code]
        for dkbh, cls, g in pieces(site, layer):
            # lines and points (pairs that only touch) have area 0; the
            # polygon parts of a GeometryCollection count
            a = g.area
            n += 1
            keys = [(dkbh, cid, cls)]
            if code == "DLTB" and cls in CULTIVATED:
                keys.append((dkbh, "C003", cls))
            for k in keys:
                areas[k] = areas.get(k, 0.0) + a
    return areas, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=("sjoin", "overlay"),
                    default="sjoin")
    ap.add_argument("out")
    ap.add_argument("layers", nargs=4, help="CODE=path.gpkg")
    ap.add_argument("sites", nargs="+", help="site GeoPackages")
    a = ap.parse_args()
    pieces = pieces_sjoin if a.method == "sjoin" else pieces_overlay

    t0 = time.monotonic()
    layers = {}
    for spec in a.layers:
        code, path = spec.split("=", 1)
        layers[code] = read(path, BY[code])
    sites = {}
    for path in a.sites:
        stem = os.path.splitext(os.path.basename(path))[0]
        sites[stem] = gpd.read_file(path)[["DKBH", "geometry"]]
    t1 = time.monotonic()
    for layer in layers.values():
        layer.sindex  # built now (lazily otherwise): not a per-site cost
    t2 = time.monotonic()

    rows = []
    times = {}
    npieces = 0
    for stem, site in sites.items():
        ts = time.monotonic()
        areas, n = check_site(site, layers, pieces)
        times[stem] = time.monotonic() - ts
        npieces += n
        for (dkbh, cid, cls), v in areas.items():
            rows.append((stem, dkbh, cid, cls, v))
    t3 = time.monotonic()

    with open(a.out, "w", encoding="utf-8") as f:
        f.write("site,code,check,cls,area_m2\n")
        for r in rows:
            f.write("%s,%s,%s,%s,%r\n" % (r[:4] + (float(r[4]),)))
    t4 = time.monotonic()
    print(json.dumps({"compute_s": sum(times.values()), "sites": times,
                      "read_s": t1 - t0, "index_s": t2 - t1,
                      "loop_s": t3 - t2, "write_s": t4 - t3,
                      "pieces": npieces, "method": a.method, "csv": a.out}))


if __name__ == "__main__":
    main()
