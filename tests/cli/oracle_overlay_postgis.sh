# oracle_overlay_postgis.sh — overlay cross-tab and conflict patches checked
# against PostGIS on real data, in EPSG:5070 (equal-area):
#  1. Illinois tracts × us-atlas counties (different editions: general-
#     position overlaps): every cross-tab cell (COUNTYFP × county id) and
#     every conflict patch (tract fid × county fid) agrees with PostGIS
#     ST_Area(ST_Intersection(...)) to 1e-9 relative or 1e-6 m2.
#  2. tracts × dissolves of the tracts by county (exactly shared edges, the
#     degenerate case of control lines digitised from parcels): each tract
#     lies in its own dissolve and nowhere else; every cell agrees.
# A throwaway PostgreSQL 15 + PostGIS cluster is started by pg_virtualenv.
SUITE=oracle_overlay_postgis
. "$(dirname "$0")/lib.sh"
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
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/county.gpkg" -nln county -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
q -c "CREATE TABLE pairs AS SELECT t.fid AS tf, c.fid AS cf, t.countyfp AS ca, c.id AS cb,
        ST_Area(ST_CollectionExtract(ST_Intersection(t.geom, c.geom), 3)) AS a
      FROM tract t JOIN county c ON ST_Intersects(t.geom, c.geom)"
q -c "SELECT ca, cb, sum(a) FROM pairs GROUP BY 1, 2 HAVING sum(a) > 0 ORDER BY 1, 2" > "$T/pg_cells"
q -c "SELECT tf, cf, a FROM pairs WHERE a > 0 ORDER BY 1, 2" > "$T/pg_pairs"
q -c "CREATE TABLE dis AS SELECT countyfp AS g, ST_Multi(ST_Union(geom)) AS geom FROM tract GROUP BY countyfp"
ogr2ogr -f GPKG "$T/dis.gpkg" PG:"dbname=$PGDATABASE" -sql "SELECT g, geom FROM dis" -nln dis -a_srs EPSG:5070
q -c "SELECT t.countyfp, d.g, sum(ST_Area(ST_CollectionExtract(ST_Intersection(t.geom, d.geom), 3)))
      FROM tract t JOIN dis d ON ST_Intersects(t.geom, d.geom) GROUP BY 1, 2
      HAVING sum(ST_Area(ST_CollectionExtract(ST_Intersection(t.geom, d.geom), 3))) > 1e-6 ORDER BY 1, 2" > "$T/pg_dis"
X
if T=$T pg_virtualenv -t -v 15 sh "$T/pg.sh" >"$T/pg.log" 2>&1; then
    pass postgis_run
else
    fail postgis_run "$(tail -c 600 "$T/pg.log" | tr '\n' '|')"
    exit 1
fi

# compare NAME ONEMAP PG: key|key|value lines, 1e-9 relative or 1e-6 m2
compare() {
    sort "$2" > "$T/a"
    sort "$3" > "$T/b"
    r=$(awk -F'|' 'NR == FNR { pg[$1 "|" $2] = $3; next }
        { k = $1 "|" $2; a = $3 + 0; m++
          if (!(k in pg)) { if (a > 1e-6) { bad++; msg = msg " extra:" k } ; next }
          b = pg[k] + 0; d = a - b; if (d < 0) d = -d; mx = a > b ? a : b
          if (mx > 1 && d / mx > worst) worst = d / mx
          if (d > 1e-9 * mx && d > 1e-6) { bad++; msg = msg " " k ":" a "/" b }
          seen[k] = 1 }
        END { for (k in pg) if (!(k in seen) && pg[k] > 1e-6) { bad++; msg = msg " missing:" k }
              printf "%d %d %.3g%s\n", bad, m, worst, substr(msg, 1, 300) }' "$T/b" "$T/a")
    set -- "$1" $r
    if [ "$2" = 0 ] && [ "$3" -gt 0 ]; then
        pass "$1"
        echo "    $1: $3 compared, worst relative difference $4 (above 1 m2)" >&2
    else
        fail "$1" "$2 of $3 differ (worst $4):$(echo "$r" | cut -d' ' -f4-)"
    fi
}

# 1a. cross-tab cells
ok overlay "$ONEMAP" overlay "$P" TRACT COUNTY --class-a COUNTYFP --class-b id \
    --area planar --unit m2 --decimals 6 --format csv -j 2
awk -F, 'NR > 1 && $1 != "TOTAL" && $3 != "TOTAL" && $3 != "outside" && $3 != "" {print $1 "|" $3 "|" $6}' "$T/out" > "$T/om_cells"
compare crosstab_vs_postgis "$T/om_cells" "$T/pg_cells"
# 1b. conflict patches, pair by pair
printf 'version: 1\nrules:\n  - id: P1\n    kind: must_not_overlap\n    en: tracts vs counties\n    a: TRACT\n    b: COUNTY\n    min_area: 0\n' > "$T/r.yaml"
ok conflicts "$ONEMAP" conflicts "$P" --rules "$T/r.yaml" --no-store --format gpkg -o "$T/c" -j 2
ogrinfo -ro -q "$T/c/conflicts.gpkg" -sql "SELECT a_fid, b_fid, area_m2 FROM conflicts" |
    awk -F' = ' '/a_fid/ {a = $2} /b_fid/ {b = $2} /area_m2/ {print a "|" b "|" $2}' > "$T/om_pairs_raw"
# every patch is a valid polygon (GEOS via SpatiaLite in GDAL's SQLite dialect)
nbad=$(ogrinfo -ro -q "$T/c/conflicts.gpkg" -dialect sqlite \
    -sql "SELECT count(*) AS n FROM conflicts WHERE NOT ST_IsValid(geom) OR ST_IsEmpty(geom)" |
    awk -F' = ' '/n \(/ {print $2}')
[ "$nbad" = 0 ] && pass patches_valid || fail patches_valid "$nbad invalid or empty patches"
# patches of one pair split by nothing here: one per pair (no admin layer)
awk -F'|' '{ s[$1 "|" $2] += $3 } END { for (k in s) printf "%s|%.9f\n", k, s[k] }' "$T/om_pairs_raw" > "$T/om_pairs"
compare patches_vs_postgis "$T/om_pairs" "$T/pg_pairs"

# 2. dissolves with exactly shared edges
ok import_dissolve "$ONEMAP" import "$P" "$T/dis.gpkg" --as DIS
ok overlay_dis "$ONEMAP" overlay "$P" TRACT DIS --class-a COUNTYFP --class-b g \
    --area planar --unit m2 --decimals 6 --format csv
awk -F, 'NR > 1 && $1 != "TOTAL" && $3 != "TOTAL" && $3 != "outside" && $3 != "" {print $1 "|" $3 "|" $6}' "$T/out" > "$T/om_dis"
compare dissolve_vs_postgis "$T/om_dis" "$T/pg_dis"
off=$(awk -F'|' '$1 != $2 && $3 + 0 > 1e-6' "$T/om_dis" | wc -l)
[ "$off" = 0 ] && pass dissolve_diagonal || fail dissolve_diagonal "$off tract classes fall in another county's dissolve"
