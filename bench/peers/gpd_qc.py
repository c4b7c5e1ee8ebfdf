"""bench/peers/gpd_qc.py -- workload (d) in geopandas: validity + overlaps.

    gpd_qc.py IN.gpkg LAYER OUTDIR [--candidates intersects|bbox]

Reads the layer, finds the invalid features (is_valid) and every pair of
valid features whose interiors intersect (DE-9IM '2********', the pairs
onemap qc T001 and PostGIS report), with the area of their intersection.
Candidate pairs come from the layer's spatial index (rtree: Debian 12 has
no pygeos) by sindex.query_bulk: on the bare bounding boxes (default,
--candidates bbox) or with the predicate "intersects" (--candidates
intersects); in a coverage nearly every box neighbour touches, so the
prepared intersects test drops ~3 % of the pairs and costs more than it
saves. Writes OUTDIR/invalid.csv (fid) and OUTDIR/pairs.csv
(fid1,fid2,area; fid1 < fid2) and prints one JSON line:
{"compute_s": ..., "read_s": ..., "invalid": PATH,
 "pairs": PATH, "ninvalid": N, "npairs": N, "ncandidates": N}.
compute_s is the time between the data read and the result written.
"""

import argparse
import json
import os
import time

import fiona
import geopandas as gpd


def read_layer(path, layer):
    """The layer as a GeoDataFrame indexed by the GeoPackage fid.

    What gpd.read_file does (fiona features -> from_features), keeping the
    feature ids that read_file drops: the findings must name the same fids
    as onemap's and PostGIS's.
    """
    with fiona.open(path, layer=layer) as src:
        crs = src.crs_wkt
        feats = list(src)
    df = gpd.GeoDataFrame.from_features(feats, crs=crs)
    df.index = [int(f["id"]) for f in feats]
    return df


def qc(df, candidates):
    """(invalid fids, {(fid1, fid2): area}, number of candidate pairs)."""
    geoms = df.geometry.values
    fids = df.index.values
    valid = df.geometry.is_valid.values
    invalid = sorted(int(f) for f, ok in zip(fids, valid) if not ok)
    pred = "intersects" if candidates == "intersects" else None
    left, right = df.sindex.query_bulk(df.geometry, predicate=pred)
    pairs = {}
    ncand = 0
    for i, j in zip(left, right):
        # each unordered pair once; invalid features are left out (as onemap
        # and the PostGIS query do: their overlaps are not defined)
        if i >= j or not valid[i] or not valid[j]:
            continue
        ncand += 1
        a, b = geoms[i], geoms[j]
        # the DE-9IM matrix starts with dim(interior ∩ interior): "2" is the
        # pattern '2********' (relate() is faster than relate_pattern() in
        # shapely 1.8)
        if a.relate(b)[0] == "2":
            f1, f2 = int(fids[i]), int(fids[j])
            if f1 > f2:
                f1, f2 = f2, f1
            pairs[(f1, f2)] = a.intersection(b).area
    return invalid, pairs, ncand


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gpkg")
    ap.add_argument("layer")
    ap.add_argument("outdir")
    ap.add_argument("--candidates", choices=("intersects", "bbox"),
                    default="bbox")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    t0 = time.monotonic()
    df = read_layer(a.gpkg, a.layer)
    t1 = time.monotonic()
    invalid, pairs, ncand = qc(df, a.candidates)
    inv_path = os.path.join(a.outdir, "invalid.csv")
    pairs_path = os.path.join(a.outdir, "pairs.csv")
    with open(inv_path, "w") as f:
        f.write("fid\n")
        for fid in invalid:
            f.write("%d\n" % fid)
    with open(pairs_path, "w") as f:
        f.write("fid1,fid2,area\n")
        for (f1, f2), area in sorted(pairs.items()):
            f.write("%d,%d,%r\n" % (f1, f2, area))
    t2 = time.monotonic()
    print(json.dumps({"compute_s": t2 - t1, "read_s": t1 - t0,
                      "invalid": inv_path, "pairs": pairs_path,
                      "ninvalid": len(invalid), "npairs": len(pairs),
                      "ncandidates": ncand, "nfeatures": len(df)}))


if __name__ == "__main__":
    main()
