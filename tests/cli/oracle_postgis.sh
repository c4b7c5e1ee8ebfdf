# oracle_postgis.sh — land-use statistics checked against PostGIS on real
# data: Illinois census tracts (parcels) by us-atlas counties (admin units,
# a different edition and generalisation, so tracts cross county lines).
# Every cell (county × tract COUNTYFP) and the totals must agree to 1e-9
# relative with PostGIS's ST_Area(geography) of ST_Intersection, computed
# on the same projected coordinates (exported from the project).
# A throwaway PostgreSQL 15 cluster is started on loopback by pg_virtualenv.
SUITE=oracle_postgis
. "$(dirname "$0")/lib.sh"

if ! command -v pg_virtualenv >/dev/null || ! command -v ogr2ogr >/dev/null; then
    fail setup "pg_virtualenv or ogr2ogr missing (scripts/install-deps check)"
    exit 1
fi
P=$T/il.gpkg
ok init "$ONEMAP" init "$P" --crs EPSG:5070
ok import_tracts "$ONEMAP" import "$P" "$DATA/us-tracts-2018/cb_2018_17_tract_500k.json" \
    --as TRACT --src-crs EPSG:4269
ok import_counties "$ONEMAP" import "$P" "$DATA/us-atlas/counties-10m.json" \
    --layer counties --as COUNTY --src-crs EPSG:4269 --code-field id --repair \
    --name-field name --where "id LIKE '17%'"
ok stats_ellipsoidal "$ONEMAP" stats "$P" TRACT --by COUNTY --class COUNTYFP \
    --area ellipsoidal --unit m2 --decimals 6 --format csv -j 2
awk -F, 'NR>1 && $1!="" && $1!="TOTAL" && $3!="TOTAL" {print $1 "|" $3 "|" $6}' "$T/out" | sort > "$T/om_cells"
ok stats_planar "$ONEMAP" stats "$P" TRACT --by COUNTY --class COUNTYFP \
    --area planar --unit m2 --decimals 6 --format csv
awk -F, 'NR>1 && $1!="" && $1!="TOTAL" && $3!="TOTAL" {print $1 "|" $3 "|" $6}' "$T/out" | sort > "$T/om_planar"
ok stats_whole "$ONEMAP" stats "$P" TRACT --class STATEFP --area ellipsoidal --unit m2 --decimals 6 --format csv
om_total=$(awk -F, '$1=="TOTAL" {print $4}' "$T/out")
ok export_tracts "$ONEMAP" export "$P" TRACT "$T/tract.gpkg"
ok export_counties "$ONEMAP" export "$P" COUNTY "$T/county.gpkg"

cat > "$T/pg.sh" <<'X'
set -e
psql -qX -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION postgis' >/dev/null
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/tract.gpkg" -nln tract -lco GEOMETRY_NAME=geom -lco FID=fid
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/county.gpkg" -nln county -lco GEOMETRY_NAME=geom -lco FID=fid
Q="WITH pieces AS (
  SELECT c.id AS unit, t.countyfp AS class,
         CASE WHEN ST_CoveredBy(t.geom, c.geom) THEN t.geom
              ELSE ST_CollectionExtract(ST_Intersection(t.geom, c.geom), 3) END AS g
  FROM tract t JOIN county c ON ST_Intersects(t.geom, c.geom))"
psql -qXAt -F'|' -c "$Q SELECT unit, class, sum(ST_Area(ST_Transform(g, 4269)::geography)) FROM pieces WHERE NOT ST_IsEmpty(g) GROUP BY 1,2 HAVING sum(ST_Area(g)) > 0 ORDER BY 1,2" > "$T/pg_cells"
psql -qXAt -F'|' -c "$Q SELECT unit, class, sum(ST_Area(g)) FROM pieces WHERE NOT ST_IsEmpty(g) GROUP BY 1,2 HAVING sum(ST_Area(g)) > 0 ORDER BY 1,2" > "$T/pg_planar"
psql -qXAt -c "SELECT sum(ST_Area(ST_Transform(geom, 4269)::geography)) FROM tract" > "$T/pg_total"
X
if T=$T pg_virtualenv -t -v 15 sh "$T/pg.sh" >"$T/pg.log" 2>&1; then
    pass postgis_run
else
    fail postgis_run "$(tail -c 600 "$T/pg.log" | tr '\n' '|')"
    exit 1
fi

# compare NAME ONEMAP_FILE POSTGIS_FILE FLOOR: same cells, each to 1e-9
# relative, or FLOOR m2 absolute for slivers. Planar: 1e-6 m2. Ellipsoidal:
# 1e-5 m2: in a geodesic polygon area each edge contributes a term the size
# of the area between the edge and the equator (1e7-1e9 m2 here) known to
# ~1e-15 relative, so a sliver's area carries 1e-7-1e-6 m2 of rounding
# whichever implementation computes it.
compare() {
    sort "$3" > "$T/pg_sorted"
    r=$(awk -F'|' -v floor="$4" '
        NR==FNR { pg[$1 "|" $2] = $3; n++; next }
        { k = $1 "|" $2; m++
          if (!(k in pg)) { if ($3 + 0 > 1e-3) { bad++; msg = msg " missing-in-postgis:" k } ; next }
          a = $3 + 0; b = pg[k] + 0; d = a - b; if (d < 0) d = -d
          mx = a > b ? a : b
          rel = mx > 0 ? d / mx : 0
          if (rel > worst) { worst = rel; wk = k ":" a "/" b }
          if (d > 1e-9 * mx && d > floor) { bad++; msg = msg " " k ":" a "/" b }
          seen[k] = 1 }
        END { for (k in pg) if (!(k in seen) && pg[k] + 0 > 1e-3) { bad++; msg = msg " missing-in-onemap:" k }
              printf "%d %d %d %.3g%s\n", bad, m, n, worst, substr(msg " worst:" wk, 1, 400) }' \
        "$T/pg_sorted" "$2")
    set -- "$1" $r
    if [ "$2" = 0 ] && [ "$3" -gt 0 ]; then
        pass "$1"
        echo "    $1: $3 cells, worst relative difference $5" >&2
    else
        fail "$1" "$2 of $3 cells differ (worst $5):$(echo "$r" | cut -d' ' -f5-)"
    fi
}
compare cells_ellipsoidal_vs_postgis "$T/om_cells" "$T/pg_cells" 1e-5
compare cells_planar_vs_postgis "$T/om_planar" "$T/pg_planar" 1e-6
near total_vs_postgis "$om_total" "$(cat "$T/pg_total")" 1e-9
n=$(wc -l < "$T/om_cells")
[ "$n" -gt 102 ] && pass split_cells_present || fail split_cells_present "only $n cells: no tract crosses a county line?"
