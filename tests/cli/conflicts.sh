# conflicts.sh — `onemap conflicts` on the hand-made fixture with exact
# expected patches (tests/data/small/README.md, rules.yaml): the three rule
# kinds, filters, admin splitting, sliver threshold, runs recorded, outputs,
# thread-count independence and errors.
SUITE=conflicts
. "$(dirname "$0")/lib.sh"
P=$T/p.gpkg
S=$FIX/small
R=$S/rules.yaml
"$ONEMAP" init "$P" --crs EPSG:4530 >/dev/null 2>&1
"$ONEMAP" import "$P" "$S/parcels.csv" --as DLTB --src-crs EPSG:4530 >/dev/null 2>&1
"$ONEMAP" import "$P" "$S/xzq.csv" --as XZQ --src-crs EPSG:4530 --code-field XZQDM --name-field XZQMC >/dev/null 2>&1
ok import_zone "$ONEMAP" import "$P" "$S/zone.csv" --as ZONE --src-crs EPSG:4530
ok run "$ONEMAP" conflicts "$P" --rules "$R" --unit m2 --decimals 2 --format table,csv,json,gpkg,html -o "$T/o1" -j 1
cat > "$T/want.csv" <<'X'
rule_id,severity,unit_code,unit_name,patches,area_m2,area_ell_m2
T1,error,220183101,甲镇,2,7500.00,7500.00
T1,error,TOTAL,,2,7500.00,7500.00
T2,warning,220183101,甲镇,1,6250.00,6250.00
T2,warning,TOTAL,,1,6250.00,6250.00
T3,info,220183101,甲镇,1,3750.00,3750.00
T3,info,220183102,乙乡,1,7500.00,7500.00
T3,info,TOTAL,,2,11250.00,11250.00
X
same summary_exact "$T/want.csv" "$T/o1/conflicts_summary.csv"
grep -q '"rule_id": "T3", "severity": "info", "unit_code": "220183102"' "$T/o1/conflicts_summary.json" &&
    pass summary_json || fail summary_json "$(head -c 300 "$T/o1/conflicts_summary.json")"
# Patches: source fids and keys of both sides, unit, exact areas.
ogrinfo -ro -q "$T/o1/conflicts.gpkg" -sql "SELECT rule_id, a_fid, b_fid, b_keys, unit_code, area_m2 FROM conflicts ORDER BY rule_id, unit_code, area_m2" |
    awk -F' = ' '/=/ { printf "%s%s", sep, $2; sep = "|" } /^$/ && sep { print ""; sep = "" } END { if (sep) print "" }' > "$T/patches"
cat > "$T/want_patches" <<'X'
T1|1|1|{"BSM":"1","DLBM":"0101"}|220183101|2500
T1|1|2|{"BSM":"2","DLBM":"0103"}|220183101|5000
T2|3|(null)|(null)|220183101|6250
T3|(null)|4|{"BSM":"4","DLBM":"0301"}|220183101|3750
T3|(null)|4|{"BSM":"4","DLBM":"0301"}|220183102|7500
X
same patches_exact "$T/want_patches" "$T/patches"
grep -q "<svg" "$T/o1/conflicts_report.html" && grep -q "冲突检测报告" "$T/o1/conflicts_report.html" &&
    pass html_report || fail html_report "no map or title in the report"
# The run is recorded with its tables; a second run keeps the first.
ok run2 "$ONEMAP" conflicts "$P" --rules "$R" --format csv -o "$T/o2" -j 2
n=$(sqlite3 "$P" "SELECT count(*) FROM om_runs WHERE kind='conflicts'")
[ "$n" = 2 ] && pass runs_recorded || fail runs_recorded "$n runs"
c=$(sqlite3 "$P" "SELECT count(*) FROM CONFLICTS_r1")
[ "$c" = 5 ] && pass run1_kept || fail run1_kept "CONFLICTS_r1 has $c rows"
c=$(ogrinfo -ro -so "$P" CONFLICTS_r2 2>/dev/null | awk -F': ' '/Feature Count/ {print $2}')
[ "$c" = 5 ] && pass results_layer_gdal || fail results_layer_gdal "ogrinfo sees $c"
sqlite3 "$P" "SELECT rules_sha256, inputs FROM om_runs WHERE id=2" | grep -q '"DLTB"' &&
    pass run_inputs || fail run_inputs "$(sqlite3 "$P" 'SELECT inputs FROM om_runs WHERE id=2')"
# -j 1 and -j 2 give identical patches.
ok run_j1 "$ONEMAP" conflicts "$P" --rules "$R" --no-store --format gpkg -o "$T/j1" -j 1
ok run_j2 "$ONEMAP" conflicts "$P" --rules "$R" --no-store --format gpkg -o "$T/j2" -j 2
for d in j1 j2; do
    ogrinfo -ro -q "$T/$d/conflicts.gpkg" -sql "SELECT rule_id, a_fid, b_fid, unit_code, area_m2, area_ell_m2, ST_AsText(geom) FROM conflicts" > "$T/$d.txt"
done
same threads_identical "$T/j1.txt" "$T/j2.txt"
n=$(sqlite3 "$P" "SELECT count(*) FROM om_runs")
[ "$n" = 2 ] && pass no_store_no_run || fail no_store_no_run "$n runs after --no-store"
# Sliver threshold: the 2500 m2 patch goes below --min-area 3000.
ok min_area "$ONEMAP" conflicts "$P" --rules "$R" --no-store --min-area 3000 --unit m2 --format csv -o "$T/o3"
awk -F, '$1=="T1" && $3=="TOTAL" {print $5, $6}' "$T/o3/conflicts_summary.csv" > "$T/sl"
echo "1 5000.0000" > "$T/sl.want"
same sliver_threshold "$T/sl.want" "$T/sl"
grep -q "1 slivers ignored" "$T/err" && pass slivers_counted || fail slivers_counted "$(cat "$T/err")"
# One rule only; a filter that selects nothing gives no patches.
ok one_rule "$ONEMAP" conflicts "$P" --rules "$R" --no-store --rule T2 --format csv -o "$T/o4"
n=$(grep -c '^T' "$T/o4/conflicts_summary.csv")
[ "$n" = 2 ] && pass only_rule || fail only_rule "$n rows"
printf 'version: 1\nrules:\n  - id: E1\n    kind: must_not_overlap\n    zh: 空\n    a: ZONE\n    b: {layer: DLTB, where: {DLBM: [9999]}}\n' > "$T/empty.yaml"
ok empty_result "$ONEMAP" conflicts "$P" --rules "$T/empty.yaml" --no-store
grep -q "no conflicts found" "$T/out" && pass empty_message || fail empty_message "$(cat "$T/out")"
# Errors: a rule naming a missing layer; a malformed file with its line.
printf 'version: 1\nrules:\n  - id: M1\n    kind: must_not_overlap\n    en: missing layer\n    a: GHYT\n    b: DLTB\n' > "$T/missing.yaml"
bad missing_layer "GHYT" "$ONEMAP" conflicts "$P" --rules "$T/missing.yaml" --no-store
ok skip_missing "$ONEMAP" conflicts "$P" --rules "$T/missing.yaml" --no-store --skip-missing
printf 'version: 1\nrules:\n  - id: B1\n    kind: must_overlap_badly\n    a: ZONE\n    b: DLTB\n' > "$T/bad.yaml"
bad bad_kind "bad.yaml:4: column 11: rule B1: kind: unknown value" "$ONEMAP" conflicts "$P" --rules "$T/bad.yaml"
bad no_rules_file "cannot|No such|no such" "$ONEMAP" conflicts "$P" --rules "$T/nope.yaml"
# The built-in rule set runs on any project (rules with missing layers are
# skipped and listed).
ok builtin "$ONEMAP" conflicts "$P" --no-store
grep -q "skipped rule" "$T/err" && pass builtin_skips_listed || fail builtin_skips_listed "$(head -c 300 "$T/err")"
# A layer code may not take the name of results (it would replace the view).
bad code_is_result_name "name of analysis results" \
    "$ONEMAP" import "$P" "$S/zone.csv" --as CONFLICTS --src-crs EPSG:4530
# The run history and the export of a run's results.
ok runs_list "$ONEMAP" runs "$P" --format csv
n=$(grep -c '^[0-9]*,conflicts,' "$T/out")
[ "$n" = 2 ] && pass runs_listed || fail runs_listed "$n runs listed"
ok runs_table "$ONEMAP" runs "$P"
grep -q "DLTB v1" "$T/out" && pass runs_inputs_shown || fail runs_inputs_shown "$(head -3 "$T/out")"
ok runs_export "$ONEMAP" runs "$P" --export CONFLICTS_r1 "$T/r1.geojson"
c=$(ogrinfo -ro -so "$T/r1.geojson" CONFLICTS_r1 2>/dev/null | awk -F': ' '/Feature Count/ {print $2}')
[ "$c" = 5 ] && pass runs_exported || fail runs_exported "$c features"
bad runs_export_unknown "CONFLICTS_r9|not found|no results" "$ONEMAP" runs "$P" --export CONFLICTS_r9 "$T/x.geojson"
