# oracle_check_postgis.sh — compliance review areas (onemap check) checked
# against PostGIS on real data, in EPSG:5070 (equal-area).
#
# The sites are the 102 Illinois counties of us-atlas (quantised, repaired:
# general position against the tracts); the "control lines" are the Census
# tracts of Illinois (another edition) and their dissolve by county
# (PostGIS ST_Union: edges exactly shared with the tracts). For every
# parcel (county) and every check:
#   report    TRACT by COUNTYFP           area per class
#   forbidden TRACT where COUNTYFP in (031, 043, 197)
#   forbidden DIS where g = 031            (exactly shared edges)
#   must_be_within DIS                     the county outside the tracts
# onemap's planar areas must agree with PostGIS ST_Area(ST_Intersection)
# / ST_Area(ST_Difference) to 1e-9 relative or 1e-6 m², and its
# ellipsoidal areas with ST_Area(geography) of the same PostGIS pieces to
# 1e-9 relative or 1e-4 m² (geodesic edges between the same vertices).
# A throwaway PostgreSQL 15 + PostGIS cluster is started by pg_virtualenv.
SUITE=oracle_check_postgis
. "$(dirname "$0")/lib.sh"
if ! command -v pg_virtualenv >/dev/null; then
    fail postgis "pg_virtualenv missing (apt-get install postgresql-common)"
    exit 0
fi
P=$T/il.gpkg
ok init "$ONEMAP" init "$P" --crs EPSG:5070
ok import_tracts "$ONEMAP" import "$P" "$DATA/us-tracts-2018/cb_2018_17_tract_500k.json" \
    --as TRACT --src-crs EPSG:4269
ok import_counties "$ONEMAP" import "$P" "$DATA/us-atlas/counties-10m.json" \
    --layer counties --as COUNTY --src-crs EPSG:4269 --repair --where "id LIKE '17%'"
ok export_tracts "$ONEMAP" export "$P" TRACT "$T/tract.gpkg"
ok export_counties "$ONEMAP" export "$P" COUNTY "$T/county.gpkg"

cat > "$T/pg.sh" <<'X'
set -e
q() { psql -qXAt -F'|' -v ON_ERROR_STOP=1 "$@"; }
q -c 'CREATE EXTENSION postgis' >/dev/null
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/tract.gpkg" -nln tract -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/county.gpkg" -nln site -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
q -c "CREATE TABLE dis AS SELECT countyfp AS g, ST_Multi(ST_Union(geom)) AS geom FROM tract GROUP BY countyfp"
ogr2ogr -f GPKG "$T/dis.gpkg" PG:"dbname=$PGDATABASE" -sql "SELECT g, geom FROM dis" -nln dis -a_srs EPSG:5070
# ellipsoidal area of a 5070 polygon: vertices to NAD83 lon/lat, geodesic edges
E="ST_Area(ST_Transform(%s, 4269)::geography, true)"
ell() { printf "$E" "$1"; }
q -c "CREATE TABLE pt AS SELECT s.fid AS sf, t.countyfp AS c,
        ST_CollectionExtract(ST_Intersection(s.geom, t.geom), 3) AS g
      FROM site s JOIN tract t ON ST_Intersects(s.geom, t.geom)"
q -c "SELECT sf, 'T1', c, sum(ST_Area(g)), sum($(ell g)) FROM pt
      GROUP BY 1, 3 HAVING sum(ST_Area(g)) > 0" > "$T/pg_t1"
q -c "SELECT sf, 'T2', '', sum(ST_Area(g)), sum($(ell g)) FROM pt
      WHERE c IN ('031', '043', '197') GROUP BY 1 HAVING sum(ST_Area(g)) > 0" > "$T/pg_t2"
q -c "SELECT s.fid, 'T3', '', ST_Area(x.pg), $(ell x.pg) FROM site s
      JOIN dis d ON d.g = '031' AND ST_Intersects(s.geom, d.geom),
      LATERAL (SELECT ST_CollectionExtract(ST_Intersection(s.geom, d.geom), 3) AS pg) x
      WHERE ST_Area(x.pg) > 0" > "$T/pg_t3"
q -c "CREATE TABLE il AS SELECT ST_Union(geom) AS geom FROM dis"
q -c "SELECT s.fid, 'T4', '', ST_Area(x.pg), $(ell x.pg) FROM site s, il,
      LATERAL (SELECT ST_CollectionExtract(ST_Difference(s.geom, il.geom), 3) AS pg) x
      WHERE ST_Area(x.pg) > 0" > "$T/pg_t4"
X
if T=$T pg_virtualenv -t -v 15 sh "$T/pg.sh" >"$T/pg.log" 2>&1; then
    pass postgis_run
else
    fail postgis_run "$(tail -c 600 "$T/pg.log" | tr '\n' '|')"
    exit 0
fi
cat "$T"/pg_t1 "$T"/pg_t2 "$T"/pg_t3 "$T"/pg_t4 > "$T/pg_all"

ok import_dissolve "$ONEMAP" import "$P" "$T/dis.gpkg" --as DIS
cat > "$T/r.yaml" <<'X'
version: 1
profiles:
  t:
    tolerance: 0
    checks:
      - {id: T1, kind: report, layer: TRACT, by: COUNTYFP, en: tracts by county}
      - id: T2
        kind: forbidden
        layer: {layer: TRACT, where: {COUNTYFP: {in: ['031', '043', '197']}}}
        en: three counties' tracts
      - id: T3
        kind: forbidden
        layer: {layer: DIS, where: {g: {in: ['031']}}}
        en: Cook county dissolve
      - {id: T4, kind: must_be_within, layer: DIS, en: inside the tracts}
X
# exit 1: the sites do occupy the forbidden layers
"$ONEMAP" check "$P" "$T/county.gpkg" --rules "$T/r.yaml" --profile t \
    --no-store --format json -o "$T/ck" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && [ -s "$T/ck/county.json" ] && pass check_run ||
    fail check_run "exit $rc: $(head -c 400 "$T/err")"
python3 - "$T/ck/county.json" > "$T/om_all" <<'X'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["parcels"]:
    for f in p["findings"]:
        if f["kind"] == "report":
            for c in f["classes"]:
                if c["area_m2"] > 0:
                    print("%d|%s|%s|%.9f|%.9f" % (p["fid"], f["check_id"],
                          c["value"], c["area_m2"], c["area_ell_m2"]))
        elif f["area_m2"] > 0:
            print("%d|%s||%.9f|%.9f" % (p["fid"], f["check_id"],
                  f["area_m2"], f["area_ell_m2"]))
X
nparcels=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['parcels']))" "$T/ck/county.json")
[ "$nparcels" = 102 ] && pass parcels || fail parcels "$nparcels parcels, expected 102"

# compare NAME COLUMN ABS: key = fields 1-3, value = field COLUMN
compare() {
    r=$(awk -F'|' -v col="$2" -v abs="$3" '
        NR == FNR { pg[$1 "|" $2 "|" $3] = $col; next }
        { k = $1 "|" $2 "|" $3; a = $col + 0; m++
          if (!(k in pg)) { if (a > abs) { bad++; msg = msg " extra:" k } ; next }
          b = pg[k] + 0; d = a - b; if (d < 0) d = -d; mx = a > b ? a : b
          if (mx > 1 && d / mx > worst) worst = d / mx
          if (d > 1e-9 * mx && d > abs) { bad++; msg = msg " " k ":" a "/" b }
          seen[k] = 1 }
        END { for (k in pg) if (!(k in seen) && pg[k] > abs) { bad++; msg = msg " missing:" k }
              printf "%d %d %.3g%s\n", bad, m, worst, substr(msg, 1, 300) }' "$T/pg_all" "$T/om_all")
    set -- "$1" $r
    if [ "$2" = 0 ] && [ "$3" -gt 100 ]; then
        pass "$1"
        echo "    $1: $3 areas compared, worst relative difference $4 (above 1 m2)" >&2
    else
        fail "$1" "$2 of $3 differ (worst $4):$(echo "$r" | cut -d' ' -f4-)"
    fi
}
compare planar_vs_postgis 4 1e-6
compare ellipsoidal_vs_postgis 5 1e-4
# every check kind took part
for k in T1 T2 T3 T4; do
    n=$(grep -c "|$k|" "$T/om_all")
    [ "$n" -gt 0 ] && pass "has_$k" || fail "has_$k" "no $k areas"
done
