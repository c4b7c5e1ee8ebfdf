# check.sh — `onemap check`: 部标 TXT and GeoJSON sites against a small
# project with exact areas (EPSG:4530, zone 42 with prefix): a site half
# over farmland fails with the exact area, a touching site passes with 0,
# a site whose hole is exactly the red line passes with 0, the same site
# as GeoJSON in EPSG:4490 gives the same areas, batch summary and exit
# codes, a broken site in a batch, --no-store, review records, profiles,
# JSON / HTML validity, languages, reproducing a review record (--rerun N,
# --against-current after a plan revision).
SUITE=check
. "$(dirname "$0")/lib.sh"
P=$T/p.gpkg
E0=42512000
N0=4856000

# Layers (WKT CSV, EPSG:4530):
#   YJJBNTBHTB  F = [E0, E0+200] x [N0, N0+200]          40000 m²
#   STBHHX      R = [E0+1000, E0+1100] x [N0, N0+100]    10000 m²
#   DLTB        0103 on F; 0702 on [E0-1000, E0] x [N0, N0+200]
#   XZQ         one unit over everything
cat >"$T/farm.csv" <<X
WKT,BSM
"POLYGON ((42512000 4856000,42512200 4856000,42512200 4856200,42512000 4856200,42512000 4856000))",1
X
cat >"$T/red.csv" <<X
WKT,BSM
"POLYGON ((42513000 4856000,42513100 4856000,42513100 4856100,42513000 4856100,42513000 4856000))",1
X
cat >"$T/dltb.csv" <<X
WKT,BSM,DLBM
"POLYGON ((42512000 4856000,42512200 4856000,42512200 4856200,42512000 4856200,42512000 4856000))",1,0103
"POLYGON ((42511000 4856000,42512000 4856000,42512000 4856200,42511000 4856200,42511000 4856000))",2,0702
X
cat >"$T/xzq.csv" <<X
WKT,XZQDM,XZQMC
"POLYGON ((42510000 4855000,42515000 4855000,42515000 4857000,42510000 4857000,42510000 4855000))",220102001,某镇
X
printf '"WKT","String"\n' >"$T/farm.csvt"
cp "$T/farm.csvt" "$T/red.csvt"
printf '"WKT","String","String"\n' >"$T/dltb.csvt"
cp "$T/dltb.csvt" "$T/xzq.csvt"
cat >"$T/rules.yaml" <<'X'
version: 1
admin: {layer: XZQ, code: XZQDM, name: XZQMC}
profiles:
  test:
    zh: 测试方案
    en: Test profile
    tolerance: 1
    checks:
      - id: T001
        kind: forbidden
        layer: YJJBNTBHTB
        zh: 不得占用永久基本农田
        en: Must not occupy permanent basic farmland
      - id: T002
        kind: forbidden
        layer: STBHHX
        zh: 不得占用生态保护红线
        en: Must not occupy the ecological protection red line
      - id: T003
        kind: conditional
        layer: {layer: DLTB, where: {DLBM: {group: cultivated}}}
        by: DLBM
        zh: 占用耕地
        en: Occupies cultivated land
      - id: T004
        kind: report
        layer: DLTB
        by: DLBM
        zh: 占用现状地类
        en: Current land use occupied
  other:
    zh: 另一方案
    en: Another profile
    checks:
      - id: T001
        kind: forbidden
        layer: YJJBNTBHTB
        zh: 不得占用永久基本农田
        en: Must not occupy permanent basic farmland
X

"$ONEMAP" init "$P" --crs EPSG:4530 >/dev/null 2>&1
for l in farm:YJJBNTBHTB red:STBHHX dltb:DLTB xzq:XZQ; do
    "$ONEMAP" import "$P" "$T/${l%%:*}.csv" --as "${l#*:}" --src-crs EPSG:4530 \
        >/dev/null 2>"$T/err" || fail "import_${l#*:}" "$(cat "$T/err")"
done

# A 部标 TXT (UTF-8, LF): txt NAME CODE DECLARED_HA RING... where a ring is
# "E1 N1 E2 N2" (a rectangle), ring 1 the outer one.
txt() {
    f=$T/$1.txt
    {
        printf '[属性描述]\n格式版本号=1.0\n坐标系=2000国家大地坐标系\n几度分带=3\n'
        printf '投影类型=高斯克吕格\n计量单位=米\n带号=42\n精度=0.001\n转换参数=,,,,,,\n'
        printf '[地块坐标]\n'
        code=$2
        ha=$3
        shift 3
        nr=$(($# / 4))
        printf '%d,%s,%s,测试地块,面,,工业用地,0601,@\n' $((nr * 5)) "$ha" "$code"
        r=1
        k=1
        while [ $# -ge 4 ]; do
            e1=$1 n1=$2 e2=$3 n2=$4
            shift 4
            printf 'J%d,%d,%s,%s\nJ%d,%d,%s,%s\nJ%d,%d,%s,%s\nJ%d,%d,%s,%s\nJ%d,%d,%s,%s\n' \
                $k $r "$n1" "$e1" $((k + 1)) $r "$n1" "$e2" $((k + 2)) $r "$n2" "$e2" \
                $((k + 3)) $r "$n2" "$e1" $k $r "$n1" "$e1"
            k=$((k + 4))
            r=$((r + 1))
        done
    } >"$f"
}
# A: [E0-100, E0+100] x [N0, N0+100]: half (10000 m²) on the farmland.
txt half A1 2.0000 42511900 4856000 42512100 4856100
# B: [E0-200, E0] x [N0, N0+100]: touches the farmland along x = E0.
txt touch B1 2.0000 42511800 4856000 42512000 4856100
# C: [E0+900, E0+1200] x [N0-100, N0+200] with the red line as its hole.
txt hole C1 8.0000 42512900 4855900 42513200 4856200 42513000 4856000 42513100 4856100

R="--rules $T/rules.yaml --profile test"
# html_ok FILE: xmllint (an HTML 4 parser) finds no error but the HTML5 /
# SVG elements it does not know, and every element is closed in order.
html_ok() {
    xmllint --html --noout "$1" 2>&1 | grep 'parser error' |
        grep -v -E 'Tag (figure|figcaption|svg|g|path|rect|text|tspan|line|polyline|polygon|circle|title|defs|clipPath|use|marker|section|header|footer|main|nav|article) invalid' \
            >"$T/xerr"
    python3 - "$1" >>"$T/xerr" 2>&1 <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack = []
        self.bad = []
    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.bad.append("line %d: </%s> closes %s" % (self.getpos()[0], tag,
                            self.stack[-1] if self.stack else "nothing"))
        else:
            self.stack.pop()
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
for b in p.bad[:5]:
    print(b)
for t, pos in p.stack[:5]:
    print("unclosed <%s> at line %d" % (t, pos[0]))
PY
    [ ! -s "$T/xerr" ]
}
# csv_area FILE PARCEL CHECK -> area_m2 of that row
csv_area() {
    awk -F, -v p="$2" -v c="$3" 'NR > 1 && $2 == p && $6 == c { print $12 }' "$1"
}
csv_decision() {
    awk -F, -v p="$2" -v c="$3" 'NR > 1 && $2 == p && $6 == c { print $11 }' "$1"
}

# --- one site: half over the farmland: fail, exact area ---
"$ONEMAP" check "$P" "$T/half.txt" $R --format table,csv,json,html -o "$T/o1" --no-store \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass half_exit_1 || fail half_exit_1 "exit $rc: $(head -c 300 "$T/err")"
grep -q "decision: fail" "$T/out" && pass half_decision_fail || fail half_decision_fail "$(head -5 "$T/out")"
a=$(csv_area "$T/o1/half.csv" TOTAL T001)
[ "$a" = "10000.000000" ] && pass half_area_exact || fail half_area_exact "T001 area '$a'"
d=$(csv_decision "$T/o1/half.csv" TOTAL T001)
[ "$d" = fail ] && pass half_t001_fail || fail half_t001_fail "T001 decision '$d'"
a=$(csv_area "$T/o1/half.csv" TOTAL T003)
d=$(csv_decision "$T/o1/half.csv" TOTAL T003)
[ "$a" = "10000.000000" ] && [ "$d" = conditional ] && pass half_cultivated_conditional ||
    fail half_cultivated_conditional "T003 $a $d"
a=$(csv_area "$T/o1/half.csv" 1 T004)
[ "$a" = "20000.000000" ] && pass half_report_all_classes || fail half_report_all_classes "T004 $a"
grep -q '0103=10000.00;0702=10000.00' "$T/o1/half.csv" && pass half_classes ||
    fail half_classes "$(grep T004 "$T/o1/half.csv" | head -2)"
grep -Eq '^T001 +forbidden +YJJBNTBHTB +10000\.00 +[0-9.]+ +15\.0000 +fail' "$T/out" &&
    pass half_table_row || fail half_table_row "$(grep T001 "$T/out")"
if python3 -m json.tool "$T/o1/half.json" >/dev/null 2>"$T/jerr"; then
    pass json_valid
else
    fail json_valid "$(head -c 300 "$T/jerr")"
fi
python3 - "$T/o1/half.json" >"$T/jv" 2>&1 <<'X'
import json, sys
j = json.load(open(sys.argv[1]))
t = {f["check_id"]: f for f in j["totals"]}
print(j["decision"], t["T001"]["decision"], "%.6f" % t["T001"]["area_m2"],
      "%.6f" % j["area_m2"], len(j["parcels"]))
X
[ "$(cat "$T/jv")" = "fail fail 10000.000000 20000.000000 1" ] && pass json_content ||
    fail json_content "$(cat "$T/jv")"
if html_ok "$T/o1/half.html"; then
    pass html_valid
else
    fail html_valid "$(head -c 300 "$T/xerr")"
fi
grep -q "J1" "$T/o1/half.html" && grep -q "4856100" "$T/o1/half.html" &&
    pass html_point_table || fail html_point_table "no 界址点 J1 / coordinates in the report"
[ -f "$T/o1/summary.csv" ] && [ -f "$T/o1/summary.html" ] && pass summary_files ||
    fail summary_files "$(ls "$T/o1")"

# ellipsoidal area of the occupied square against GeographicLib's Planimeter
if command -v Planimeter >/dev/null && command -v gdaltransform >/dev/null; then
    ell=$(awk -F, 'NR > 1 && $2 == "TOTAL" && $6 == "T001" { print $13 }' "$T/o1/half.csv")
    oracle=$(printf '42512000 4856000\n42512100 4856000\n42512100 4856100\n42512000 4856100\n' |
        gdaltransform -s_srs EPSG:4530 -t_srs EPSG:4490 -output_xy |
        awk '{ printf "%.12f %.12f\n", $2, $1 }' |
        Planimeter -e 6378137 0.003352810681182319 -p 9 |
        awk '{ a = $3; if (a < 0) a = -a; printf "%.6f", a }')
    near ellipsoidal_vs_planimeter "$ell" "$oracle" 1e-7
else
    echo "SKIP $SUITE:ellipsoidal_vs_planimeter: no Planimeter/gdaltransform"
fi

# --- touching: pass with 0 ---
# without -o, file formats go to ./check-<site>.* (run in $T)
O=$(cd "$(dirname "$ONEMAP")" && pwd)/$(basename "$ONEMAP")
ok touch_pass sh -c 'cd "$1" && shift && exec "$@"' sh "$T" "$O" check "$P" \
    "$T/touch.txt" $R --format csv,table --no-store
grep -q "decision: pass" "$T/out" && pass touch_decision || fail touch_decision "$(head -3 "$T/out")"
a=$(csv_area "$T/check-touch.csv" TOTAL T001)
[ "$a" = "0.000000" ] && pass touch_area_zero || fail touch_area_zero "T001 area '$a'"

# --- a hole exactly over the red line: pass with 0 ---
ok hole_pass "$ONEMAP" check "$P" "$T/hole.txt" $R --format csv -o "$T/o3" --no-store
a=$(csv_area "$T/o3/hole.csv" TOTAL T002)
[ "$a" = "0.000000" ] && pass hole_red_line_zero || fail hole_red_line_zero "T002 area '$a'"
a=$(awk -F, 'NR == 2 { print $4 }' "$T/o3/summary.csv")
[ "$a" = "80000.000000" ] && pass hole_site_area || fail hole_site_area "site area '$a'"

# --- the same site as GeoJSON in CGCS2000 lon/lat: same areas ---
"$ONEMAP" convert "$T/half.txt" "$T/half.gpkg" >/dev/null 2>&1
ogr2ogr -f GeoJSON -t_srs EPSG:4490 "$T/half4490.geojson" "$T/half.gpkg" >/dev/null 2>&1
grep -q 4490 "$T/half4490.geojson" && pass geojson_is_4490 || fail geojson_is_4490 "no EPSG:4490 crs"
"$ONEMAP" check "$P" "$T/half4490.geojson" $R --format csv -o "$T/o4" --no-store >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass geojson_exit_1 || fail geojson_exit_1 "exit $rc: $(head -c 300 "$T/err")"
for c in T001 T003; do
    near "geojson_area_$c" "$(csv_area "$T/o4/half4490.csv" TOTAL $c)" \
        "$(csv_area "$T/o1/half.csv" TOTAL $c)" 1e-8
done
[ "$(csv_decision "$T/o4/half4490.csv" TOTAL T001)" = fail ] && pass geojson_decision ||
    fail geojson_decision "$(grep TOTAL "$T/o4/half4490.csv" | head -2)"

# --- DXF: a closed LWPOLYLINE is the site; an open LINE and a POINT are
# skipped with a warning (DXF has no CRS: --src-crs) ---
{
    printf '0\nSECTION\n2\nENTITIES\n0\nLWPOLYLINE\n8\nSITE\n90\n4\n70\n1\n'
    printf '10\n42511900\n20\n4856000\n10\n42512100\n20\n4856000\n'
    printf '10\n42512100\n20\n4856100\n10\n42511900\n20\n4856100\n'
    printf '0\nLINE\n8\nSITE\n10\n42511900\n20\n4856200\n11\n42512100\n21\n4856200\n'
    printf '0\nPOINT\n8\nSITE\n10\n42512000\n20\n4856300\n0\nENDSEC\n0\nEOF\n'
} >"$T/lw.dxf"
"$ONEMAP" check "$P" "$T/lw.dxf" $R --src-crs EPSG:4530 --format csv -o "$T/o4" --no-store \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass dxf_exit_1 || fail dxf_exit_1 "exit $rc: $(head -c 300 "$T/err")"
[ "$(csv_area "$T/o4/lw.csv" TOTAL T001)" = "10000.000000" ] && pass dxf_area_exact ||
    fail dxf_area_exact "$(grep TOTAL "$T/o4/lw.csv" | head -1)"
grep -q "lw.dxf: 2 point or open-line features skipped" "$T/err" && pass dxf_skipped_warning ||
    fail dxf_skipped_warning "$(cat "$T/err")"
bad dxf_needs_crs "coordinate reference|src-crs" \
    "$ONEMAP" check "$P" "$T/lw.dxf" $R --no-store
# --- KML (WGS 84 lon/lat) ---
ogr2ogr -f KML "$T/half.kml" "$T/half.gpkg" >/dev/null 2>&1
"$ONEMAP" check "$P" "$T/half.kml" $R --format csv -o "$T/o4" --no-store >/dev/null 2>&1
near kml_area "$(csv_area "$T/o4/half.csv" TOTAL T001)" 10000 1e-8

# --- batch of three: summary with 3 rows, exit 1, records stored ---
h0=$(sha256sum "$P" | cut -d' ' -f1)
"$ONEMAP" check "$P" "$T/half.txt" "$T/touch.txt" "$T/hole.txt" $R -o "$T/o5" \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass batch_exit_1 || fail batch_exit_1 "exit $rc: $(head -c 300 "$T/err")"
n=$(awk 'NR > 1' "$T/o5/summary.csv" | wc -l)
[ "$n" = 3 ] && pass batch_summary_3_rows || fail batch_summary_3_rows "$n rows"
cut -d, -f1,3,7,8 "$T/o5/summary.csv" >"$T/sum"
cat >"$T/sum.want" <<'X'
site,parcels,decision,failing_checks
half,1,fail,T001 T003
touch,1,pass,
hole,1,pass,
X
same batch_summary "$T/sum.want" "$T/sum"
grep -A5 '^Summary' "$T/out" | grep -q "touch.txt .*pass" && pass batch_summary_table ||
    fail batch_summary_table "$(grep -A5 Summary "$T/out")"
for s in half touch hole; do
    [ -s "$T/o5/$s.html" ] && [ -s "$T/o5/$s.json" ] && [ -s "$T/o5/$s.csv" ] ||
        fail "batch_outputs_$s" "$(ls "$T/o5")"
done
pass batch_outputs
grep -q 'href="touch.html"' "$T/o5/summary.html" && pass summary_links ||
    fail summary_links "no link to touch.html"
html_ok "$T/o5/summary.html" &&
    pass summary_html_valid || fail summary_html_valid "$(head -c 300 "$T/xerr")"
ok runs_check "$ONEMAP" runs "$P" --kind check --format csv
n=$(grep -c ',check,' "$T/out")
[ "$n" = 3 ] && pass runs_3_records || fail runs_3_records "$n check runs: $(head -c 300 "$T/out")"
[ "$(sha256sum "$P" | cut -d' ' -f1)" != "$h0" ] && pass store_changes_project ||
    fail store_changes_project "project unchanged after a stored check"

# --- --no-store leaves the project byte for byte unchanged ---
h1=$(sha256sum "$P" | cut -d' ' -f1)
"$ONEMAP" check "$P" "$T/half.txt" "$T/touch.txt" $R --no-store >/dev/null 2>&1
[ "$(sha256sum "$P" | cut -d' ' -f1)" = "$h1" ] && pass no_store_unchanged ||
    fail no_store_unchanged "the project changed"

# --- a broken site in a batch: its error, the others still checked, exit 3 ---
cp "$FIX/bbtxt/bad_number.txt" "$T/broken.txt"
"$ONEMAP" check "$P" "$T/touch.txt" "$T/broken.txt" "$T/hole.txt" $R -o "$T/o6" --no-store \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && pass bad_site_exit_3 || fail bad_site_exit_3 "exit $rc"
grep -q "broken.txt:16: .*bad number" "$T/err" && pass bad_site_error ||
    fail bad_site_error "$(head -c 300 "$T/err")"
grep -q '^broken,.*,error,.*bad number' "$T/o6/summary.csv" && pass bad_site_in_summary ||
    fail bad_site_in_summary "$(cat "$T/o6/summary.csv")"
[ -s "$T/o6/touch.json" ] && [ -s "$T/o6/hole.json" ] && [ ! -e "$T/o6/broken.json" ] &&
    pass bad_site_others_checked || fail bad_site_others_checked "$(ls "$T/o6")"

# --- all pass: exit 0 ---
ok all_pass_exit_0 "$ONEMAP" check "$P" "$T/touch.txt" "$T/hole.txt" $R --no-store

# --- profiles ---
bad unknown_profile "no review profile 'nope'.*test \(Test profile\), other \(Another profile\)" \
    "$ONEMAP" check "$P" "$T/half.txt" --rules "$T/rules.yaml" --profile nope --no-store
bad unknown_builtin_profile "no review profile 'nope'.*default" \
    "$ONEMAP" check "$P" "$T/half.txt" --profile nope --no-store
# the built-in default profile: GHYT is not in the project, so its checks
# are reported missing and the touching site is at best conditional
"$ONEMAP" check "$P" "$T/touch.txt" --no-store >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && grep -q "decision: conditional" "$T/out" && grep -q "layer not in the project" "$T/out" &&
    pass builtin_missing_layer_conditional || fail builtin_missing_layer_conditional "exit $rc: $(head -c 400 "$T/out")"

# --- languages ---
ONEMAP_LANG=zh "$ONEMAP" check "$P" "$T/half.txt" $R --no-store >"$T/out" 2>&1
grep -q "审查结论:不通过" "$T/out" && grep -q "面积(亩)" "$T/out" && pass lang_zh ||
    fail lang_zh "$(head -3 "$T/out")"
"$ONEMAP" check "$P" "$T/half.txt" $R --no-store --lang zh >"$T/out" 2>&1
grep -q "审查结论:不通过" "$T/out" && pass lang_zh_option || fail lang_zh_option "$(head -3 "$T/out")"
ONEMAP_LANG=zh "$ONEMAP" --lang en check "$P" "$T/half.txt" $R --no-store >"$T/out" 2>&1
grep -q "decision: fail" "$T/out" && pass lang_en || fail lang_en "$(head -3 "$T/out")"

# --- usage and errors ---
"$ONEMAP" check "$P" >/dev/null 2>&1
[ $? = 2 ] && pass usage_exit_2 || fail usage_exit_2 "no site: not exit 2"
"$ONEMAP" check "$P" "$T/half.txt" --format pdf >/dev/null 2>&1
[ $? = 2 ] && pass bad_format_exit_2 || fail bad_format_exit_2 "not exit 2"
bad missing_project "nope.gpkg" "$ONEMAP" check "$T/nope.gpkg" "$T/half.txt" $R
bad missing_site "nope.geojson" "$ONEMAP" check "$P" "$T/nope.geojson" $R --no-store
# a TXT in zone 41 is outside the project (zone 42): the engine refuses it
sed 's/=42$/=41/; s/,42511/,41511/g; s/,42512/,41512/g' "$T/half.txt" >"$T/z41.txt"
bad site_outside_project "outside|extent|zone" "$ONEMAP" check "$P" "$T/z41.txt" $R --no-store

# --- reproducing a stored review: --rerun N [--against-current] ---
"$ONEMAP" check "$P" "$T/half.txt" $R >"$T/out" 2>"$T/err"
N=$(sed -n 's/.*(review record run \([0-9]*\)).*/\1/p' "$T/out" | head -1)
[ -n "$N" ] && pass rerun_stored_record || fail rerun_stored_record "$(head -3 "$T/out")"
RR="--rules $T/rules.yaml"
h2=$(sha256sum "$P" | cut -d' ' -f1)
"$ONEMAP" check "$P" --rerun "$N" $RR -o "$T/o7" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] && grep -q "^reproduced: identical" "$T/out" && pass rerun_identical ||
    fail rerun_identical "exit $rc: $(cat "$T/out" "$T/err" | head -c 400)"
grep -q "YJJBNTBHTB v1" "$T/out" && pass rerun_layer_versions ||
    fail rerun_layer_versions "$(head -3 "$T/out")"
python3 - "$T/o7/rerun-$N.json" >"$T/jv" 2>&1 <<'Y'
import json, sys
j = json.load(open(sys.argv[1]))
t = {f["check_id"]: f for f in j["totals"]}
print(j["decision"], t["T001"]["decision"], "%.6f" % t["T001"]["area_m2"])
Y
[ "$(cat "$T/jv")" = "fail fail 10000.000000" ] && pass rerun_json ||
    fail rerun_json "$(cat "$T/jv")"
# the rerun opens the project read-only
[ "$(sha256sum "$P" | cut -d' ' -f1)" = "$h2" ] && pass rerun_read_only ||
    fail rerun_read_only "the project changed"
# other rules (one comment added): refused, naming both hashes, exit 3
cp "$T/rules.yaml" "$T/rules2.yaml"
echo "# edited" >>"$T/rules2.yaml"
s1=$(sha256sum "$T/rules.yaml" | cut -d' ' -f1)
s2=$(sha256sum "$T/rules2.yaml" | cut -d' ' -f1)
"$ONEMAP" check "$P" --rerun "$N" --rules "$T/rules2.yaml" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && grep -q "other rules.*$s1.*$s2" "$T/err" && pass rerun_other_rules_refused ||
    fail rerun_other_rules_refused "exit $rc: $(head -c 400 "$T/err")"
"$ONEMAP" check "$P" --rerun 999 $RR >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && grep -q "no run 999" "$T/err" && pass rerun_unknown_run ||
    fail rerun_unknown_run "exit $rc: $(head -c 300 "$T/err")"
# a conflicts run is not a review record
cat >"$T/crules.yaml" <<'Y'
version: 1
rules:
  - id: K001
    kind: must_not_overlap
    a: DLTB
    b: YJJBNTBHTB
    zh: 现状地类压占永久基本农田
    en: Land use over permanent basic farmland
Y
"$ONEMAP" conflicts "$P" --rules "$T/crules.yaml" -o "$T/oc" >"$T/out" 2>"$T/err"
C=$("$ONEMAP" runs "$P" --kind conflicts --format csv 2>/dev/null | awk -F, 'NR > 1 { id = $1 } END { print id }')
if [ -n "$C" ]; then
    "$ONEMAP" check "$P" --rerun "$C" $RR >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" = 3 ] && grep -q "conflicts run, not a review" "$T/err" &&
        pass rerun_conflicts_run_refused ||
        fail rerun_conflicts_run_refused "exit $rc: $(head -c 300 "$T/err")"
else
    fail rerun_conflicts_run_refused "no conflicts run: $(head -c 300 "$T/err")"
fi
"$ONEMAP" check "$P" "$T/half.txt" --rerun "$N" $RR >/dev/null 2>&1
[ $? = 2 ] && pass rerun_with_site_usage || fail rerun_with_site_usage "not exit 2"
"$ONEMAP" check "$P" --against-current >/dev/null 2>&1
[ $? = 2 ] && pass against_current_needs_rerun || fail against_current_needs_rerun "not exit 2"
# a plan revision: the farmland moves off the site (version 2)
cat >"$T/farm2.csv" <<Y
WKT,BSM
"POLYGON ((42512500 4856000,42512700 4856000,42512700 4856200,42512500 4856200,42512500 4856000))",1
Y
cp "$T/farm.csvt" "$T/farm2.csvt"
"$ONEMAP" import "$P" "$T/farm2.csv" --as YJJBNTBHTB --src-crs EPSG:4530 >/dev/null 2>"$T/err" ||
    fail rerun_import_v2 "$(cat "$T/err")"
"$ONEMAP" check "$P" --rerun "$N" $RR >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] && grep -q "^reproduced: identical" "$T/out" && grep -q "YJJBNTBHTB v1" "$T/out" &&
    pass rerun_after_revision_identical ||
    fail rerun_after_revision_identical "exit $rc: $(cat "$T/out" "$T/err" | head -c 400)"
"$ONEMAP" check "$P" --rerun "$N" --against-current $RR >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && grep -q "^changed since the run" "$T/out" &&
    grep -q "layer YJJBNTBHTB: version 1 -> 2" "$T/out" &&
    grep -q "T001: decision fail -> pass; area_m2 10000.000000 -> 0.000000" "$T/out" &&
    pass rerun_against_current ||
    fail rerun_against_current "exit $rc: $(cat "$T/out" "$T/err" | head -c 600)"
