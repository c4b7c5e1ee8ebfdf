# overlay.sh — `onemap overlay` (cross-tab) on the hand-made fixture
# (tests/data/small, zone.csv: the rectangle [50,250]x[50,125] cutting
# parcels 1-4) with exact expected areas; consistency with `onemap stats`;
# identical output for -j 1 / -j 2; errors.
SUITE=overlay
. "$(dirname "$0")/lib.sh"
P=$T/p.gpkg
S=$FIX/small

ok init "$ONEMAP" init "$P" --crs EPSG:4530
ok import_parcels "$ONEMAP" import "$P" "$S/parcels.csv" --as DLTB --src-crs EPSG:4530
ok import_xzq "$ONEMAP" import "$P" "$S/xzq.csv" --as XZQ --src-crs EPSG:4530 \
    --code-field XZQDM --name-field XZQMC
ok import_zone "$ONEMAP" import "$P" "$S/zone.csv" --as CZKFBJ --src-crs EPSG:4530

# Parcel 1 [0,100]x[0,100]: inside [50,100]x[50,100] = 2500; parcel 2:
# [100,200]x[50,100] = 5000; parcel 3: [50,200]x[100,125] = 3750; parcel 4
# [200,300]x[0,150]: inside [200,250]x[50,125] = 3750, in 甲镇 (x < 250).
cat > "$T/want.csv" <<'X'
unit_code,unit_name,class_a,class_a_name,class_b,class_b_name,features,area_m2
220183101,甲镇,0101,水田,inside,范围内,1,2500.00
220183101,甲镇,0101,水田,outside,范围外,1,7500.00
220183101,甲镇,0101,水田,TOTAL,,1,10000.00
220183101,甲镇,0103,旱地,inside,范围内,1,5000.00
220183101,甲镇,0103,旱地,outside,范围外,1,5000.00
220183101,甲镇,0103,旱地,TOTAL,,1,10000.00
220183101,甲镇,0301,乔木林地,inside,范围内,1,3750.00
220183101,甲镇,0301,乔木林地,outside,范围外,1,3750.00
220183101,甲镇,0301,乔木林地,TOTAL,,1,7500.00
220183101,甲镇,0702,农村宅基地,inside,范围内,1,3750.00
220183101,甲镇,0702,农村宅基地,outside,范围外,1,6250.00
220183101,甲镇,0702,农村宅基地,TOTAL,,1,10000.00
220183101,甲镇,TOTAL,,,,4,37500.00
220183102,乙乡,0301,乔木林地,outside,范围外,1,7500.00
220183102,乙乡,0301,乔木林地,TOTAL,,1,7500.00
220183102,乙乡,1101,河流水面,outside,范围外,1,14600.00
220183102,乙乡,1101,河流水面,TOTAL,,1,14600.00
220183102,乙乡,1104,坑塘水面,outside,范围外,1,400.00
220183102,乙乡,1104,坑塘水面,TOTAL,,1,400.00
220183102,乙乡,TOTAL,,,,3,22500.00
TOTAL,,0101,水田,inside,范围内,1,2500.00
TOTAL,,0101,水田,outside,范围外,1,7500.00
TOTAL,,0101,水田,TOTAL,,1,10000.00
TOTAL,,0103,旱地,inside,范围内,1,5000.00
TOTAL,,0103,旱地,outside,范围外,1,5000.00
TOTAL,,0103,旱地,TOTAL,,1,10000.00
TOTAL,,0301,乔木林地,inside,范围内,1,3750.00
TOTAL,,0301,乔木林地,outside,范围外,1,11250.00
TOTAL,,0301,乔木林地,TOTAL,,1,15000.00
TOTAL,,0702,农村宅基地,inside,范围内,1,3750.00
TOTAL,,0702,农村宅基地,outside,范围外,1,6250.00
TOTAL,,0702,农村宅基地,TOTAL,,1,10000.00
TOTAL,,1101,河流水面,outside,范围外,1,14600.00
TOTAL,,1101,河流水面,TOTAL,,1,14600.00
TOTAL,,1104,坑塘水面,outside,范围外,1,400.00
TOTAL,,1104,坑塘水面,TOTAL,,1,400.00
TOTAL,,TOTAL,,,,6,60000.00
X
ok overlay_planar "$ONEMAP" overlay "$P" DLTB CZKFBJ --by XZQ --class DLBM \
    --area planar --unit m2 --format csv
same overlay_planar_exact "$T/want.csv" "$T/out"

ok overlay_class_b "$ONEMAP" overlay "$P" DLTB CZKFBJ --class-a DLBM --class-b ZONE \
    --area planar --unit m2 --format csv
awk -F, '$1=="0301" {print $1, $3, $5, $6}' "$T/out" > "$T/cb"
printf '0301 Z1 1 3750.00\n0301  1 11250.00\n0301 TOTAL 1 15000.00\n' > "$T/cb.want"
same overlay_class_b_rows "$T/cb.want" "$T/cb"

ok overlay_level1 "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --level 1 \
    --area planar --unit m2 --format csv
awk -F, '$1=="01" && $3=="inside" {print $5, $6}' "$T/out" > "$T/l1"
echo "2 7500.00" > "$T/l1.want"
same overlay_level1_rollup "$T/l1.want" "$T/l1"

# Σ over inside/outside of a class row = `onemap stats` of that class and
# unit, in both area modes (6 decimals, m2).
for mode in planar ellipsoidal; do
    "$ONEMAP" overlay "$P" DLTB CZKFBJ --by XZQ --class DLBM --area $mode \
        --unit m2 --decimals 6 --format csv 2>/dev/null |
        awk -F, '$1!="TOTAL" && $3!="TOTAL" && $5=="TOTAL" {print $1, $3, $8}' > "$T/ov_$mode"
    "$ONEMAP" stats "$P" DLTB --by XZQ --class DLBM --area $mode \
        --unit m2 --decimals 6 --format csv 2>/dev/null |
        awk -F, 'NR>1 && $1!="TOTAL" && $3!="TOTAL" {print $1, $3, $6}' > "$T/st_$mode"
    # planar: exact; ellipsoidal: pieces are measured separately (1e-9)
    tol=0
    [ $mode = ellipsoidal ] && tol=1e-9
    r=$(paste -d' ' "$T/st_$mode" "$T/ov_$mode" | awk -v tol=$tol '
        { n++; d = $3 - $6; if (d < 0) d = -d
          if ($1 != $4 || $2 != $5 || d > tol * $3) { bad++; msg = msg " " $0 } }
        END { printf "%d %d%s", bad, n, msg }')
    set -- $r
    if [ "$1" = 0 ] && [ "$2" -ge 7 ]; then
        pass "consistent_with_stats_$mode"
    else
        fail "consistent_with_stats_$mode" "$r"
    fi
done

for j in 1 2; do
    "$ONEMAP" overlay "$P" DLTB CZKFBJ --by XZQ --class DLBM --unit m2 \
        --decimals 6 --format json -j $j > "$T/j$j.json" 2>/dev/null
done
same threads_identical "$T/j1.json" "$T/j2.json"
grep -q '"class_b": "outside"' "$T/j1.json" && pass json_rows || fail json_rows "$(head -c 300 "$T/j1.json")"

ok overlay_min_area "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --area planar \
    --unit m2 --min-area 3000 --format csv
awk -F, '$1=="0101" && $3=="inside"' "$T/out" > "$T/m"
[ ! -s "$T/m" ] && pass min_area_drops || fail min_area_drops "$(cat "$T/m")"

ok overlay_table_zh "$ONEMAP" --lang zh overlay "$P" DLTB CZKFBJ --by XZQ --class DLBM
grep -q "合计" "$T/out" && pass table_zh || fail table_zh "$(head -c 300 "$T/out")"

bad missing_layer "NOPE" "$ONEMAP" overlay "$P" DLTB NOPE --class DLBM
bad missing_field "no class field 'NOPE'" "$ONEMAP" overlay "$P" DLTB CZKFBJ --class NOPE
bad missing_field_b "no class field 'NOPE'.*CZKFBJ" \
    "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --class-b NOPE
bad no_class "class" "$ONEMAP" overlay "$P" DLTB CZKFBJ
bad bad_area "ellipsoidal or planar" "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --area TBDLMJ

# --engine: the exact area kernel and the GEOS reference give the same rows
# (every column but the area identical) and areas to 1e-9 relative or 1e-6
# m2 absolute, with and without units and with --class-b.
for mode in planar ellipsoidal; do
for args in "--by XZQ --class DLBM" "--class DLBM" "--by XZQ --class-a DLBM --class-b ZONE"; do
    name=$(echo "$mode $args" | tr -c 'A-Za-z0-9\n' _)
    for e in kernel geos; do
        "$ONEMAP" overlay "$P" DLTB CZKFBJ $args --area $mode --unit m2 \
            --decimals 9 --format csv --engine $e > "$T/eng_$e.csv" 2> "$T/eng_$e.err"
    done
    grep -q "engine: kernel" "$T/eng_kernel.err" && grep -q "engine: geos" "$T/eng_geos.err" &&
        pass "engine_reported$name" || fail "engine_reported$name" "$(cat "$T/eng_kernel.err" "$T/eng_geos.err")"
    agree "engine_kernel_vs_geos$name" "$T/eng_kernel.csv" "$T/eng_geos.csv"
done
done
# the default (auto) is the kernel, for planar and ellipsoidal areas
ok engine_auto_planar "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --area planar
grep -q "engine: kernel" "$T/err" && pass engine_auto_is_kernel || fail engine_auto_is_kernel "$(cat "$T/err")"
ok engine_auto_ellipsoidal "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM
grep -q "engine: kernel" "$T/err" && pass engine_auto_ellipsoidal_is_kernel || fail engine_auto_ellipsoidal_is_kernel "$(cat "$T/err")"
ok engine_geos_ellipsoidal "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --engine geos --area ellipsoidal
ok engine_kernel_ellipsoidal "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --engine kernel --area ellipsoidal
bad engine_bad_value "overlay: --engine must be auto, kernel or geos 'x'" \
    "$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --engine x --area planar
"$ONEMAP" overlay "$P" DLTB CZKFBJ --class DLBM --engine x >/dev/null 2>&1
rc=$?
[ $rc = 2 ] && pass engine_bad_value_usage_exit || fail engine_bad_value_usage_exit "exit $rc, want 2 (usage)"
"$ONEMAP" overlay --help > "$T/help" 2>&1
grep -q -- "--engine" "$T/help" && pass engine_in_help || fail engine_in_help "$(cat "$T/help")"
"$ONEMAP" --lang zh overlay --help > "$T/help" 2>&1
grep -q -- "--engine 引擎" "$T/help" && pass engine_in_help_zh || fail engine_in_help_zh "$(cat "$T/help")"

# Several layers B in one run (A read once): every layer's rows are the
# rows of its own run, behind a layer_b column; JSON lists the layers;
# bad lists are usage errors; a failing layer leaves no output file.
printf 'WKT,ZONE\n"POLYGON ((42500000 4800000, 42500150 4800000, 42500150 4800090, 42500000 4800090, 42500000 4800000))",S1\n' > "$T/zone2.csv"
ok import_zone2 "$ONEMAP" import "$P" "$T/zone2.csv" --as STBHHX --src-crs EPSG:4530
ok multi_b "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX --by XZQ --class DLBM \
    --area planar --unit m2 --decimals 6 --format csv
cp "$T/out" "$T/multi.csv"
head -1 "$T/multi.csv" > "$T/h"
echo "layer_b,unit_code,unit_name,class_a,class_a_name,class_b,class_b_name,features,area_m2" > "$T/h.want"
same multi_b_header "$T/h.want" "$T/h"
for L in CZKFBJ STBHHX; do
    "$ONEMAP" overlay "$P" DLTB $L --by XZQ --class DLBM --area planar \
        --unit m2 --decimals 6 --format csv 2>/dev/null | tail -n +2 > "$T/one_$L"
    grep "^$L," "$T/multi.csv" | cut -d, -f2- > "$T/multi_$L"
    [ -s "$T/one_$L" ] && same "multi_b_rows_$L" "$T/one_$L" "$T/multi_$L" ||
        fail "multi_b_rows_$L" "no rows"
done
# parcel 1 [0,100]x[0,100] in S1 [0,150]x[0,90]: 9000 m2
awk -F, '$1=="STBHHX" && $2=="220183101" && $4=="0101" && $6=="inside" {print $9}' "$T/multi.csv" > "$T/s1"
echo "9000.000000" > "$T/s1.want"
same multi_b_exact "$T/s1.want" "$T/s1"
ok multi_b_json "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX --class DLBM --format json
grep -q '"b": \["CZKFBJ", "STBHHX"\]' "$T/out" && grep -q '"layer_b": "STBHHX"' "$T/out" &&
    pass multi_b_json_layers || fail multi_b_json_layers "$(head -c 300 "$T/out")"
ok multi_b_table "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX --class DLBM
grep -q "^layer B" "$T/out" && pass multi_b_table_column || fail multi_b_table_column "$(head -c 300 "$T/out")"
bad multi_b_empty "list of up to 32" "$ONEMAP" overlay "$P" DLTB CZKFBJ,,STBHHX --class DLBM
bad multi_b_twice "list of up to 32" "$ONEMAP" overlay "$P" DLTB CZKFBJ,CZKFBJ --class DLBM
bad multi_b_version "version-b takes one layer B" \
    "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX --class DLBM --version-b 1
rm -f "$T/never.csv"
bad multi_b_missing "NOPE" "$ONEMAP" overlay "$P" DLTB CZKFBJ,NOPE --class DLBM -o "$T/never.csv"
[ ! -e "$T/never.csv" ] && pass multi_b_missing_no_output || fail multi_b_missing_no_output "output written"

# More layers than run at once (3): the same bytes with -j 1 (one layer
# at a time) and -j 2; a layer failing while the others run is reported
# (the first failing layer in list order) and nothing is written.
ok import_zone3 "$ONEMAP" import "$P" "$S/zone.csv" --as YJJBNTBHTB --src-crs EPSG:4530
for J in 1 2; do
    ok "multi_b4_j$J" "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX,YJJBNTBHTB,XZQ \
        --by XZQ --class DLBM --area planar --unit m2 --decimals 6 \
        --format csv -j $J
    cp "$T/out" "$T/multi4_j$J.csv"
done
same multi_b4_j1_j2 "$T/multi4_j1.csv" "$T/multi4_j2.csv"
"$ONEMAP" overlay "$P" DLTB XZQ --by XZQ --class DLBM --area planar \
    --unit m2 --decimals 6 --format csv 2>/dev/null | tail -n +2 > "$T/one_XZQ"
grep "^XZQ," "$T/multi4_j2.csv" | cut -d, -f2- > "$T/multi_XZQ"
[ -s "$T/one_XZQ" ] && same multi_b4_rows_XZQ "$T/one_XZQ" "$T/multi_XZQ" ||
    fail multi_b4_rows_XZQ "no rows"
rm -f "$T/never.csv"
bad multi_b_job_fails "no class field 'NAME' in layer STBHHX" \
    "$ONEMAP" overlay "$P" DLTB CZKFBJ,STBHHX,YJJBNTBHTB,XZQ --class DLBM \
    --class-b NAME -o "$T/never.csv"
[ ! -e "$T/never.csv" ] && pass multi_b_job_fails_no_output || fail multi_b_job_fails_no_output "output written"

# A real overlap of 0.1 m2 between a 10^8 m2 feature and a small one is a
# piece in both engines (crumbs of pieces: 1e-12 of the feature + 1e-6 m2;
# the 1e-9 of remainders would be 0.1 m2 here).
printf 'WKT,K\n"POLYGON ((42500000 4810000, 42510000 4810000, 42510000 4820000, 42500000 4820000, 42500000 4810000))",big\n' > "$T/big.csv"
printf 'WKT,S\n"POLYGON ((42509999 4815000, 42510009 4815000, 42510009 4815000.1, 42509999 4815000.1, 42509999 4815000))",s\n' > "$T/small.csv"
ok import_big "$ONEMAP" import "$P" "$T/big.csv" --as BIGZ --src-crs EPSG:4530
ok import_small "$ONEMAP" import "$P" "$T/small.csv" --as SMALLZ --src-crs EPSG:4530
for e in kernel geos; do
    ok "tiny_overlap_$e" "$ONEMAP" overlay "$P" BIGZ SMALLZ --class K --area planar \
        --unit m2 --decimals 6 --format csv --engine $e
    v=$(awk -F, '$1=="big" && $3=="inside" {print $6}' "$T/out")
    near "tiny_overlap_piece_$e" "${v:-0}" 0.1 1e-6
done
