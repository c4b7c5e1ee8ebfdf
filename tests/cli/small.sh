# small.sh — the commands on the hand-made fixture (tests/data/small) with
# exact expected results: init, import (CSV+WKT), layers, info, stats in
# every mode, export and re-import, versions, bad input.
SUITE=small
. "$(dirname "$0")/lib.sh"
P=$T/p.gpkg
S=$FIX/small

ok init "$ONEMAP" init "$P" --crs EPSG:4530
bad init_exists "exist" "$ONEMAP" init "$P" --crs EPSG:4530
bad init_geographic "projected" "$ONEMAP" init "$T/g.gpkg" --crs EPSG:4490
bad init_unknown_crs "EPSG:999999|unknown|CRS" "$ONEMAP" init "$T/u.gpkg" --crs EPSG:999999
ok import_parcels "$ONEMAP" import "$P" "$S/parcels.csv" --as DLTB --src-crs EPSG:4530
grep -q "7 features\|8 features" "$T/out" && pass import_count || fail import_count "$(cat "$T/out")"
grep -q "1 invalid" "$T/out" && pass import_flags_invalid || fail import_flags_invalid "$(cat "$T/out")"
ok import_xzq "$ONEMAP" import "$P" "$S/xzq.csv" --as XZQ --src-crs EPSG:4530 \
    --code-field XZQDM --name-field XZQMC
bad import_no_crs "no coordinate reference system|--src-crs" \
    "$ONEMAP" import "$P" "$S/xzq.csv" --as X2
bad import_missing_file "no such file|cannot open|does not exist" \
    "$ONEMAP" import "$P" "$T/nope.shp" --as X3
printf 'hello\nworld\n' > "$T/notgis.txt"
bad import_not_gis "not recognized|unsupported|cannot open|format" \
    "$ONEMAP" import "$P" "$T/notgis.txt" --as X4
bad import_bad_field "no field 'NOPE'" \
    "$ONEMAP" import "$P" "$S/xzq.csv" --as X5 --src-crs EPSG:4530 --code-field NOPE
printf 'not sqlite at all' > "$T/fake.gpkg"
bad open_not_project "not a onemap project|not a database|file is not" \
    "$ONEMAP" layers "$T/fake.gpkg"

ok layers "$ONEMAP" layers "$P" --format csv
awk -F, 'NR>1 {print $1, $3, $5, $6, $7}' "$T/out" > "$T/layers"
printf 'DLTB 1 8 1 EPSG:4530\nXZQ 1 2 0 EPSG:4530\n' > "$T/layers.want"
same layers_catalogue "$T/layers.want" "$T/layers"

ok info "$ONEMAP" info "$P" DLTB
grep -q "Self-intersection" "$T/out" && pass info_reason || fail info_reason "no reason in: $(head -c 300 "$T/out")"
ok info_json "$ONEMAP" info "$P" DLTB --format json
grep -q '"invalid": 1' "$T/out" && grep -q '"empty": 1' "$T/out" &&
    pass info_json_counts || fail info_json_counts "$(head -c 300 "$T/out")"

cat > "$T/want_planar.csv" <<'X'
unit_code,unit_name,class,class_name,features,area_m2
220183101,甲镇,0101,水田,1,10000.00
220183101,甲镇,0103,旱地,1,10000.00
220183101,甲镇,0301,乔木林地,1,7500.00
220183101,甲镇,0702,农村宅基地,1,10000.00
220183101,甲镇,TOTAL,,4,37500.00
220183102,乙乡,0301,乔木林地,1,7500.00
220183102,乙乡,1101,河流水面,1,14600.00
220183102,乙乡,1104,坑塘水面,1,400.00
220183102,乙乡,TOTAL,,3,22500.00
TOTAL,,0101,水田,1,10000.00
TOTAL,,0103,旱地,1,10000.00
TOTAL,,0301,乔木林地,2,15000.00
TOTAL,,0702,农村宅基地,1,10000.00
TOTAL,,1101,河流水面,1,14600.00
TOTAL,,1104,坑塘水面,1,400.00
TOTAL,,TOTAL,,7,60000.00
X
ok stats_planar "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --area planar --unit m2 --format csv
same stats_planar_exact "$T/want_planar.csv" "$T/out"
grep -q "2 skipped" "$T/err" && pass stats_reports_skipped || fail stats_reports_skipped "$(cat "$T/err")"
grep -q "1 split" "$T/err" && pass stats_reports_split || fail stats_reports_split "$(cat "$T/err")"

for j in 1 2; do
    "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --format csv --unit m2 --decimals 6 -j $j > "$T/ell_$j.csv" 2>/dev/null
done
same stats_threads_identical "$T/ell_1.csv" "$T/ell_2.csv"
# At the central meridian of zone 42 the Gauss-Kruger scale is 1: the
# ellipsoidal total equals the planar one to ~1e-8 (not exactly).
ell=$(awk -F, '$1=="TOTAL" && $3=="TOTAL" {print $6}' "$T/ell_1.csv")
near stats_ellipsoidal_total "$ell" 60000 1e-6
[ "$ell" != "60000.000000" ] && pass stats_ellipsoidal_differs || fail stats_ellipsoidal_differs "ellipsoidal equals planar exactly: $ell"

ok stats_level1 "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --level 1 --area planar --unit m2 --format csv
awk -F, '$1=="220183101" && $3=="01" {print $5, $6}' "$T/out" > "$T/l1"
echo "2 20000.00" > "$T/l1.want"
same stats_level1_rollup "$T/l1.want" "$T/l1"

# Without --by: whole-layer totals per class.
ok stats_nogroup "$ONEMAP" stats "$P" DLTB --class DLBM --area planar --unit m2 --format csv
awk -F, 'NR>1 {print $1, $3, $4}' "$T/out" > "$T/ng"
printf '0101 1 10000.00\n0103 1 10000.00\n0301 1 15000.00\n0702 1 10000.00\n1101 1 14600.00\n1104 1 400.00\nTOTAL 6 60000.00\n' > "$T/ng.want"
same stats_whole_layer "$T/ng.want" "$T/ng"

# Field areas (TBDLMJ) by code prefix: invalid geometry does not matter here.
ok stats_field_prefix "$ONEMAP" stats "$P" DLTB --by XZQ --by-field ZLDWDM --class DLBM --area TBDLMJ --unit m2 --format csv
awk -F, '$3=="TOTAL" {print $1, $5, $6}' "$T/out" > "$T/fp"
printf '220183101 4 3990.00\n220183102 3 3018.00\nTOTAL 7 7008.00\n' > "$T/fp.want"
same stats_field_by_prefix "$T/fp.want" "$T/fp"
ok stats_units_ha_mu "$ONEMAP" stats "$P" DLTB --class DLBM --area planar --unit mu --format csv
tot=$(awk -F, '$1=="TOTAL" {print $4}' "$T/out")
[ "$tot" = "90.00" ] && pass stats_mu || fail stats_mu "60000 m2 should be 90.00 mu, got $tot"
ok stats_json "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --area planar --unit ha --format json
grep -q '"total": 6.00' "$T/out" && pass stats_json_total || fail stats_json_total "$(head -c 300 "$T/out")"
bad stats_bad_class "no class field 'NOPE'" "$ONEMAP" stats "$P" DLTB --class NOPE
bad stats_bad_layer "GHFQ" "$ONEMAP" stats "$P" GHFQ --class DLBM
bad stats_text_area "text, not a number" "$ONEMAP" stats "$P" DLTB --class DLBM --area DLMC

# --engine (overlay assignment, --by LAYER): the exact area kernel and the
# GEOS reference give the same rows and areas to 1e-9 relative or 1e-6 m2,
# in planar and field (TBDLMJ) areas.
for area in planar ellipsoidal TBDLMJ; do
    for e in kernel geos; do
        "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --area $area --unit m2 \
            --decimals 9 --format csv --engine $e > "$T/se_$e.csv" 2> "$T/se_$e.err"
    done
    grep -q "engine: kernel" "$T/se_kernel.err" && grep -q "engine: geos" "$T/se_geos.err" &&
        pass "stats_engine_reported_$area" ||
        fail "stats_engine_reported_$area" "$(cat "$T/se_kernel.err" "$T/se_geos.err")"
    agree "stats_engine_kernel_vs_geos_$area" "$T/se_kernel.csv" "$T/se_geos.csv"
done
bad stats_engine_bad_value "stats: --engine must be auto, kernel or geos 'x'" \
    "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --engine x --area planar
"$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --engine x >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && pass stats_engine_bad_value_exit || fail stats_engine_bad_value_exit "exit $rc, want 2"
ok stats_engine_unused "$ONEMAP" stats "$P" DLTB --class DLBM --engine geos --area planar
grep -q "engine applies to overlay assignment.*ignored" "$T/err" &&
    pass stats_engine_unused_note || fail stats_engine_unused_note "$(cat "$T/err")"

# Export, re-import as a new version, versions stay readable.
ok export_shp "$ONEMAP" export "$P" DLTB "$T/out.shp" --encoding GBK
[ -f "$T/out.cpg" ] && pass export_cpg || fail export_cpg "no .cpg written"
ok reimport "$ONEMAP" import "$P" "$T/out.shp" --as DLTB --repair
grep -q "v2" "$T/out" && pass reimport_v2 || fail reimport_v2 "$(cat "$T/out")"
grep -q "repaired" "$T/out" && pass reimport_repaired || fail reimport_repaired "$(cat "$T/out")"
ok layers_all "$ONEMAP" layers "$P" --all --format csv
n=$(grep -c '^DLTB,' "$T/out")
[ "$n" = 2 ] && pass versions_kept || fail versions_kept "expected 2 DLTB versions, got $n"
ok info_v1 "$ONEMAP" info "$P" DLTB --version 1
ok export_geojson "$ONEMAP" export "$P" XZQ "$T/xzq.geojson"
ok export_gpkg "$ONEMAP" export "$P" DLTB "$T/dltb.gpkg"
ok ogrinfo_project ogrinfo -so "$P" DLTB_v1
if command -v ogrinfo >/dev/null; then
    c=$(ogrinfo -so "$P" DLTB_v2 | awk -F': ' '/Feature Count/ {print $2}')
    [ "$c" = 8 ] && pass ogrinfo_count || fail ogrinfo_count "ogrinfo sees $c features"
fi
