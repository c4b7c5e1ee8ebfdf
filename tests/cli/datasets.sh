# datasets.sh — every dataset in ../shared/data imports through the CLI into
# a project (reprojected), with the expected feature counts, or fails with
# a clear message where it should (Shapefiles without .prj).
SUITE=datasets
. "$(dirname "$0")/lib.sh"

# imp NAME PROJECT_CRS SOURCE EXPECTED_FEATURES [import options...]
imp() {
    name=$1 crs=$2 src=$3 want=$4
    shift 4
    p=$T/$name.gpkg
    rm -f "$p"
    if ! "$ONEMAP" init "$p" --crs "$crs" >/dev/null 2>"$T/err"; then
        fail "$name" "init: $(cat "$T/err")"
        return
    fi
    if ! "$ONEMAP" import "$p" "$DATA/$src" --as L "$@" >"$T/out" 2>"$T/err"; then
        fail "$name" "import: $(head -c 400 "$T/err")"
        return
    fi
    got=$("$ONEMAP" layers "$p" --format csv | awk -F, 'NR==2 {print $5}')
    if [ "$got" = "$want" ]; then
        pass "$name"
    else
        fail "$name" "$got features, want $want"
    fi
}

imp us_atlas_counties EPSG:5070 us-atlas/counties-10m.json 3231 --layer counties
imp us_atlas_states EPSG:5070 us-atlas/counties-10m.json 56 --layer states
imp france_communes EPSG:2154 france-communes/communes-67-bas-rhin.geojson 516
imp il_tracts EPSG:5070 us-tracts-2018/cb_2018_17_tract_500k.json 3121
imp jilin_outline auto dcw-gmt/dcw_CN_JL.geojson 1
imp northeast EPSG:4530 dcw-gmt/dcw_CN_northeast.geojson 4
imp boston EPSG:5070 spdata/boston_tracts.shp 506
imp ny8 EPSG:32618 spdata/NY8_utm18.shp 281
imp nc EPSG:5070 sf/nc.shp 100
imp olinda EPSG:31985 sf/olinda1.shp 470
# No .prj: a clear error, then with --src-crs they import.
for s in auckland columbus eire; do
    "$ONEMAP" init "$T/$s.gpkg" --crs EPSG:3857 >/dev/null 2>&1
    bad "${s}_no_prj" "no coordinate reference system.*--src-crs" \
        "$ONEMAP" import "$T/$s.gpkg" "$DATA/spdata/$s.shp" --as L
done
imp columbus_src_crs EPSG:3857 spdata/columbus.shp 49 --src-crs EPSG:4326

# Jilin with --crs auto picks zone 42 (EPSG:4530) from the outline's centre.
c=$("$ONEMAP" layers "$T/jilin_outline.gpkg" --format csv | awk -F, 'NR==2 {print $7}')
[ "$c" = EPSG:4530 ] && pass auto_crs_jilin_zone42 || fail auto_crs_jilin_zone42 "chose $c"
# The jts WKT files (plain WKT, lon/lat): without a CRS a clear error; with
# --src-crs every polygon of the README's count is read.
"$ONEMAP" init "$T/w.gpkg" --crs EPSG:3857 >/dev/null 2>&1
bad jts_wkt_needs_crs "no coordinate reference system.*--src-crs" \
    "$ONEMAP" import "$T/w.gpkg" "$DATA/jts-testdata/africa.wkt" --as L
ok jts_wkt_import "$ONEMAP" import "$T/w.gpkg" "$DATA/jts-testdata/africa.wkt" \
    --as AFRICA --src-crs EPSG:4326
n=$("$ONEMAP" layers "$T/w.gpkg" --format csv | awk -F, '$1 == "AFRICA" {print $5}')
[ "$n" = 49 ] && pass jts_wkt_count || fail jts_wkt_count "$n features, README says 49"
# us-atlas counties quantised: 22 invalid geometries flagged (data README).
inv=$("$ONEMAP" layers "$T/us_atlas_counties.gpkg" --format csv | awk -F, 'NR==2 {print $6}')
[ "$inv" = 22 ] && pass us_atlas_invalid_22 || fail us_atlas_invalid_22 "$inv invalid flagged, README says 22"
