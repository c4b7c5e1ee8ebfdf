# bad_input.sh — bad geometries are imported and flagged with GEOS's reason
# (or repaired with --repair, recorded), encodings, codes and broken files
# get clear errors, and nothing is half-written.
SUITE=bad_input
. "$(dirname "$0")/lib.sh"
P=$T/p.gpkg
B=$FIX/bad
ok init "$ONEMAP" init "$P" --crs EPSG:4530
ok import_flags "$ONEMAP" import "$P" "$B/bad.csv" --as BAD --src-crs EPSG:4530
grep -q "3 invalid geometries kept and flagged (first: fid 1: Self-intersection)" "$T/out" &&
    pass flagged_count || fail flagged_count "$(cat "$T/out")"
ok info "$ONEMAP" info "$P" BAD --format json
n=0
for want in '"fid": 1, "kind": "invalid", "reason": "Self-intersection", "x": 5.000, "y": 5.000' \
    '"fid": 4, "kind": "invalid", "reason": "Too few points"' \
    '"fid": 7, "kind": "invalid", "reason": "Hole lies outside shell"' \
    '"fid": 6, "kind": "empty"'; do
    n=$((n + 1))
    grep -qF "$want" "$T/out" && pass "reason_$n" || fail "reason_$n" "missing $want"
done
# --repair: a new version, repairs recorded with the reason and areas.
ok import_repair "$ONEMAP" import "$P" "$B/bad.csv" --as bad --src-crs EPSG:4530 --repair
grep -q "imported BAD v2" "$T/out" && pass code_upper_case || fail code_upper_case "$(cat "$T/out")"
grep -q "3 geometries repaired" "$T/out" && pass repaired_count || fail repaired_count "$(cat "$T/out")"
ok info_repaired "$ONEMAP" info "$P" BAD
grep -q "fid 1  repaired Self-intersection; MakeValid: planar area 0.000 -> 50.000" "$T/out" &&
    pass repair_recorded || fail repair_recorded "$(grep fid "$T/out" | head -3)"
# After repair: the bow-tie's two triangles 50, the closed square 100, the
# shell whose hole lay outside 100, the valid square 100.
ok stats_after_repair "$ONEMAP" stats "$P" BAD --class NOTE --area planar --unit m2 --format csv
tot=$(awk -F, '$1=="TOTAL" {print $4}' "$T/out")
[ "$tot" = "350.00" ] && pass repaired_area || fail repaired_area "total $tot, want 350.00"

# Encoding: a GBK Shapefile without .cpg needs --encoding GBK.
"$ONEMAP" import "$P" "$FIX/small/parcels.csv" --as DLTB --src-crs EPSG:4530 >/dev/null 2>&1
ok export_gbk "$ONEMAP" export "$P" DLTB "$T/gbk.shp" --encoding GBK
rm -f "$T/gbk.cpg"
bad gbk_without_encoding "encoding.*GBK|GBK.*encoding" \
    "$ONEMAP" import "$P" "$T/gbk.shp" --as G
ok gbk_with_encoding "$ONEMAP" import "$P" "$T/gbk.shp" --as G --encoding GBK
ok gbk_text "$ONEMAP" stats "$P" G --class DLMC --area planar --format csv
grep -q "农村宅基地" "$T/out" && pass gbk_decoded || fail gbk_decoded "$(head -3 "$T/out")"

# Broken and wrong files.
: > "$T/empty.geojson"
bad empty_file "empty|cannot open|not recognized|format" "$ONEMAP" import "$P" "$T/empty.geojson" --as E
printf '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}' > "$T/points.geojson"
bad points_only "no polygons|polygon" "$ONEMAP" import "$P" "$T/points.geojson" --as E
printf '{"type":"FeatureCollection","features":[{"type":"Feature"' > "$T/cut.geojson"
bad truncated_json "cut|parse|cannot open|not recognized|format|failed" "$ONEMAP" import "$P" "$T/cut.geojson" --as E
bad bad_code "code" "$ONEMAP" import "$P" "$B/bad.csv" --as "1-bad code" --src-crs EPSG:4530
bad bad_src_crs "EPSG:0|CRS|coordinate" "$ONEMAP" import "$P" "$B/bad.csv" --as E --src-crs EPSG:0
# None of the failed imports left anything behind.
n=$(sqlite3 "$P" "SELECT count(*) FROM om_layers WHERE code='E'")
[ "$n" = 0 ] && pass nothing_half_written || fail nothing_half_written "$n rows for E"
t=$(sqlite3 "$P" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'E\_v%' ESCAPE '\\'")
[ "$t" = 0 ] && pass no_stray_tables || fail no_stray_tables "$t tables"
ok integrity sqlite3 "$P" "PRAGMA integrity_check"
grep -qx ok "$T/out" && pass integrity_ok || fail integrity_ok "$(cat "$T/out")"
# A GeoPackage that QGIS made is not a project.
ogr2ogr -f GPKG "$T/plain.gpkg" "$B/bad.csv" -oo GEOM_POSSIBLE_NAMES=WKT >/dev/null 2>&1
bad plain_gpkg_not_project "not a onemap project" "$ONEMAP" layers "$T/plain.gpkg"
# ... but it imports, through the fast GeoPackage reader.
ok import_gpkg "$ONEMAP" import "$P" "$T/plain.gpkg" --as FROMGPKG --src-crs EPSG:4530
# A failed first import into an "auto" project leaves the CRS "auto".
ok init_auto "$ONEMAP" init "$T/auto.gpkg" --crs auto
bad auto_first_import_fails "no field 'NOPE'" "$ONEMAP" import "$T/auto.gpkg" \
    "$DATA/dcw-gmt/dcw_CN_JL.geojson" --as JL --code-field NOPE
c=$(sqlite3 "$T/auto.gpkg" "SELECT value FROM om_project WHERE key='crs'")
[ "$c" = auto ] && pass auto_crs_untouched || fail auto_crs_untouched "crs is $c"
ok auto_first_import "$ONEMAP" import "$T/auto.gpkg" "$DATA/dcw-gmt/dcw_CN_JL.geojson" --as JL
c=$(sqlite3 "$T/auto.gpkg" "SELECT value FROM om_project WHERE key='crs'")
[ "$c" = EPSG:4530 ] && pass auto_crs_set || fail auto_crs_set "crs is $c"

# The validity check on threads (at least 20,000 vertices each): 9,000
# features (every 97th a bow-tie, every other 89th a ring with a spike onto
# itself) give the same flagged features and reasons with -j 1 and -j 2,
# and with --repair the same repaired layer.
awk 'BEGIN { print "WKT,N"
    for (i = 1; i <= 9000; i++) {
        x = 42500000 + (i % 40) * 20; y = 4800000 + int(i / 40) * 20
        if (i % 97 == 0)
            printf "\"POLYGON ((%d %d, %d %d, %d %d, %d %d, %d %d))\",%d\n", x, y, x + 10, y + 10, x + 10, y, x, y + 10, x, y, i
        else if (i % 89 == 0)
            printf "\"POLYGON ((%d %d, %d %d, %d %d, %d %d, %d %d))\",%d\n", x, y, x + 10, y, x + 10, y + 10, x + 10, y - 5, x, y, i
        else
            printf "\"POLYGON ((%d %d, %d %d, %d %d, %d %d, %d %d))\",%d\n", x, y, x + 10, y, x + 10, y + 10, x, y + 10, x, y, i
    } }' > "$T/many.csv"
for j in 1 2; do
    ok "import_j$j" "$ONEMAP" import "$P" "$T/many.csv" --as MANY$j --src-crs EPSG:4530 -j $j
    grep -o "[0-9]* invalid geometries kept and flagged (first: fid [0-9]*: [A-Za-z -]*" "$T/out" > "$T/flag$j"
    "$ONEMAP" info "$P" MANY$j --format json --max-issues 1000 2>/dev/null | grep '"kind"' > "$T/issues$j"
    ok "repair_j$j" "$ONEMAP" import "$P" "$T/many.csv" --as MANY$j --src-crs EPSG:4530 -j $j --repair
    "$ONEMAP" stats "$P" MANY$j --class N --area planar --unit m2 --decimals 3 --format csv 2>/dev/null > "$T/rstats$j"
done
want=$(awk 'BEGIN { for (i = 1; i <= 9000; i++) n += i % 97 == 0 || i % 89 == 0; print n }')
grep -q "^$want invalid geometries kept and flagged (first: fid 89: " "$T/flag1" &&
    pass threads_flag_count || fail threads_flag_count "$(cat "$T/flag1"), want $want from fid 89"
same threads_same_flags "$T/flag1" "$T/flag2"
[ "$(wc -l < "$T/issues1")" -eq "$want" ] && pass threads_issue_count ||
    fail threads_issue_count "$(wc -l < "$T/issues1") issues, want $want"
same threads_same_issues "$T/issues1" "$T/issues2"
same threads_same_repair "$T/rstats1" "$T/rstats2"
bad import_bad_j "bad -j" "$ONEMAP" import "$P" "$T/many.csv" --as MANY3 --src-crs EPSG:4530 -j 0
