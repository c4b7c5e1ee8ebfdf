# oracle_qc_postgis.sh — the topology checks of onemap qc (T001 overlaps,
# T002 gaps) against PostGIS on real data that is not a clean coverage.
#
# The DCW outlines of Jilin, Liaoning, Heilongjiang and Nei Mongol
# (dcw-gmt/dcw_CN_northeast.geojson: neighbours share no vertex, overlap
# and leave gaps), imported as XZQ into a project in EPSG:4552 and
# exported again, so that PostGIS and onemap see the same coordinates.
#   T001: for each pair a.fid < b.fid, ST_Area(ST_Intersection(a, b));
#   T002: the gaps = the holes of ST_Union(all) (each part's filled
#         exterior ring minus the union, dumped into polygons).
# Per pair (T001) and per gap (T002, matched by sorted area) onemap's
# areas must agree with PostGIS to 1e-9 relative (or 1e-4 m² for the
# small ones: JSON areas carry 6 decimals, so below about 1000 m² the
# rounding alone exceeds 1e-9); so must the totals and the counts (pieces
# of 1e-6 m² or less are left out on both sides).
# The same on a clean real coverage with injected defects: the Illinois
# census tracts in EPSG:5070 with one tract buffered by 50 m, one moved
# 1 m east, one moved 1 cm north and three deleted.
# G001: the us-atlas counties (quantised: 22 invalid) imported as they
# are: onemap's invalid features = PostGIS NOT ST_IsValid.
# A throwaway PostgreSQL 15 + PostGIS cluster is started by pg_virtualenv.
SUITE=oracle_qc_postgis
. "$(dirname "$0")/lib.sh"
if ! command -v pg_virtualenv >/dev/null; then
    fail postgis "pg_virtualenv missing (apt-get install postgresql-common)"
    exit 0
fi
P=$T/ne.gpkg
ok init "$ONEMAP" init "$P" --crs EPSG:4552
ok import "$ONEMAP" import "$P" "$DATA/dcw-gmt/dcw_CN_northeast.geojson" --as XZQ
ok export "$ONEMAP" export "$P" XZQ "$T/xzq.gpkg"
P2=$T/il.gpkg
ok il_init "$ONEMAP" init "$P2" --crs EPSG:5070
ok il_import "$ONEMAP" import "$P2" "$DATA/us-tracts-2018/cb_2018_17_tract_500k.json" \
    --as TRACT --src-crs EPSG:4269
ok il_export "$ONEMAP" export "$P2" TRACT "$T/tract.gpkg"
ok il_inject ogr2ogr -f GPKG "$T/bad.gpkg" "$T/tract.gpkg" -dialect SQLite -nln XZQ \
    -nlt MULTIPOLYGON -sql "SELECT GEOID, CASE
        WHEN fid = 1000 THEN CastToMultiPolygon(ST_Buffer(geom, 50))
        WHEN fid = 2000 THEN ST_Translate(geom, 1, 0, 0)
        WHEN fid = 2500 THEN ST_Translate(geom, 0, 0.01, 0)
        ELSE geom END AS geom FROM TRACT WHERE fid NOT IN (1500, 1501, 3000)"
ok il_import_bad "$ONEMAP" import "$P2" "$T/bad.gpkg" --as XZQ
ok il_export_bad "$ONEMAP" export "$P2" XZQ "$T/il_xzq.gpkg"
# G001: the us-atlas counties, quantised (the data README: 22 invalid),
# imported as they are (no --repair): onemap's invalid set must be
# PostGIS's NOT ST_IsValid set.
P3=$T/us.gpkg
ok us_init "$ONEMAP" init "$P3" --crs EPSG:5070
ok us_import "$ONEMAP" import "$P3" "$DATA/us-atlas/counties-10m.json" \
    --layer counties --as COUNTY --src-crs EPSG:4269
ok us_export "$ONEMAP" export "$P3" COUNTY "$T/county.gpkg"

cat > "$T/pg.sh" <<'X'
set -e
q() { psql -qXAt -F'|' -v ON_ERROR_STOP=1 "$@"; }
q -c 'CREATE EXTENSION postgis' >/dev/null
# topo TABLE FILE: the oracle's overlaps (pairs) and gaps of one layer
topo() {
    ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$2" XZQ -nln "$1" \
        -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
    q -c "SELECT a.fid, b.fid, ST_Area(ST_Intersection(a.geom, b.geom))
          FROM $1 a JOIN $1 b ON a.fid < b.fid AND ST_Intersects(a.geom, b.geom)
          WHERE ST_Area(ST_Intersection(a.geom, b.geom)) > 1e-6 ORDER BY 1, 2" \
        > "$T/pg_$1_t001"
    q -c "CREATE TABLE $1_u AS SELECT ST_Union(geom) AS geom FROM $1"
    q -c "CREATE TABLE $1_f AS
          SELECT ST_Union(ST_MakePolygon(ST_ExteriorRing(d.geom))) AS geom
          FROM $1_u u, LATERAL ST_Dump(u.geom) d"
    q -c "SELECT ST_Area(d.geom) FROM $1_f f, $1_u u,
          LATERAL ST_Dump(ST_CollectionExtract(ST_Difference(f.geom, u.geom), 3)) d
          WHERE ST_Area(d.geom) > 1e-6 ORDER BY 1 DESC" > "$T/pg_$1_t002"
}
topo ne "$T/xzq.gpkg"
topo il "$T/il_xzq.gpkg"
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/county.gpkg" -nln county \
    -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
q -c "SELECT fid FROM county WHERE NOT ST_IsValid(geom) ORDER BY 1" > "$T/pg_invalid"
X
if T=$T pg_virtualenv -t -v 15 sh "$T/pg.sh" >"$T/pg.log" 2>&1; then
    pass postgis_run
else
    fail postgis_run "$(tail -c 600 "$T/pg.log" | tr '\n' '|')"
    exit 0
fi

# qc NAME PROJECT: run onemap qc on XZQ, write $T/om_NAME_t001 and _t002
qc() {
    # exit 1: the layer has defects
    "$ONEMAP" qc "$2" --layer XZQ --only T001,T002 --no-store --format json \
        -o "$T/qc_$1" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" = 1 ] && [ -s "$T/qc_$1/qc.json" ]; then
        pass "$1_qc_run"
    else
        fail "$1_qc_run" "exit $rc: $(head -c 400 "$T/err")"
        return 1
    fi
    python3 - "$T/qc_$1/qc.json" "$T/om_$1_t001" "$T/om_$1_t002" <<'X'
import json, sys
d = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w") as f1, open(sys.argv[3], "w") as f2:
    ov = {}
    gaps = []
    for e in d["errors"]:
        if e["code"] == "T001":
            k = (min(e["fid"], e["fid2"]), max(e["fid"], e["fid2"]))
            ov[k] = ov.get(k, 0.0) + e["area_m2"]
        elif e["code"] == "T002":
            gaps.append(e["area_m2"])
    for k in sorted(ov):
        if ov[k] > 1e-6:
            f1.write("%d|%d|%.6f\n" % (k[0], k[1], ov[k]))
    for a in sorted(gaps, reverse=True):
        if a > 1e-6:
            f2.write("%.6f\n" % a)
X
}

# compare NAME PG OM : line by line, the last field numeric, the others equal
compare() {
    r=$(paste -d'#' "$2" "$3" | awk -F'#' '
        { n++; na = split($1, a, "|"); nb = split($2, b, "|")
          for (i = 1; i < na; i++) if (a[i] != b[i]) { bad++; msg = msg " key:" $0; next }
          x = a[na] + 0; y = b[nb] + 0; d = x - y; if (d < 0) d = -d
          m = x > y ? x : y; sx += x; sy += y
          if (m > 1000 && d / m > worst) worst = d / m
          if (d > 1e-9 * m && d > 1e-4) { bad++; msg = msg " " $0 } }
        END { d = sx - sy; if (d < 0) d = -d
              if (d > 1e-9 * sx) { bad++; msg = msg " total:" sx "/" sy }
              printf "%d %d %.3g %.6f%s\n", bad, n, worst, sy, substr(msg, 1, 300) }')
    set -- "$1" "$2" "$3" $r
    na=$(wc -l < "$2")
    nb=$(wc -l < "$3")
    if [ "$na" != "$nb" ]; then
        fail "$1" "PostGIS $na, onemap $nb"
    elif [ "$4" = 0 ] && [ "$5" -gt 0 ]; then
        pass "$1"
        echo "    $1: $5 areas (total $7 m2), worst relative difference $6 (above 1000 m2)" >&2
    else
        fail "$1" "$4 of $5 differ (worst $6):$(echo "$r" | cut -d' ' -f5-)"
    fi
}
for n in ne il; do
    if [ "$n" = ne ]; then qc ne "$P"; else qc il "$P2"; fi || continue
    compare "$n"_overlaps_vs_postgis "$T/pg_${n}_t001" "$T/om_${n}_t001"
    compare "$n"_gaps_vs_postgis "$T/pg_${n}_t002" "$T/om_${n}_t002"
done

# G001 on the us-atlas counties: the same invalid features as PostGIS
"$ONEMAP" qc "$P3" --layer COUNTY --only G001 --no-store --format json \
    -o "$T/qc_us" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass us_qc_run || fail us_qc_run "exit $rc: $(head -c 300 "$T/err")"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
for f in sorted({e['fid'] for e in d['errors'] if e['code'] == 'G001'}):
    print(f)" "$T/qc_us/qc.json" > "$T/om_invalid"
n=$(wc -l < "$T/om_invalid")
if [ "$n" = 22 ] && cmp -s "$T/om_invalid" "$T/pg_invalid"; then
    pass g001_vs_postgis
else
    fail g001_vs_postgis "onemap $n invalid, PostGIS $(wc -l < "$T/pg_invalid"): $(diff "$T/om_invalid" "$T/pg_invalid" | head -5 | tr '\n' ' ')"
fi
