# qc.sh — `onemap qc`: a small DLTB (EPSG:4530) with injected defects —
# a bow-tie (G001), a duplicate BSM (A005), an overlap of exactly 1000 m²
# (T001), a gap of exactly 1000 m² (T002), a 0.05 m wide sliver (T003), a
# wrong DLBM (A004), TBDLMJ ≠ TBMJ − KCMJ (A006) — each found with its
# code, fid and (by construction) exact area; a clean project exits 0;
# -o writes the four files; JSON parses; the HTML is well-formed;
# --only limits; --no-store leaves the project unchanged; the stored run
# is listed by `onemap runs --kind qc`; --repair makes v2 which passes
# G001, --dry-run writes nothing; --lang zh; usage and run errors.
SUITE=qc
. "$(dirname "$0")/lib.sh"

E0=42512000
N0=4856000
# sq X0 X1: the WKT of [E0+X0, E0+X1] x [N0, N0+100]
sq() {
    awk -v e="$E0" -v n="$N0" -v a="$1" -v b="$2" 'BEGIN {
        printf "\"POLYGON ((%.3f %d,%.3f %d,%.3f %d,%.3f %d,%.3f %d))\"",
            e+a, n, e+b, n, e+b, n+100, e+a, n+100, e+a, n }'
}
# Defective DLTB, feature by feature (fid = line number):
#   1 [0,100]        clean
#   2 [100,200]      BSM 1 again                       A005 (2 repeats 1)
#   3 [190,300]      overlaps 2 by 10 x 100 = 1000 m²  T001 (2, 3)
#   4 [300,390]      leaves [390,400]: 1000 m² gap     T002
#   5 [400,500]      DLBM 9999, TBDLMJ 9000 ≠ 10000-100 A004, A006
#   6 bow-tie over [500,600]                           G001
#   7 [600,600.05]   5 m², 0.05 m wide                  T003
#   8 [600.05,700]   clean
{
    echo "WKT,BSM,DLBM,TBMJ,KCMJ,TBDLMJ"
    echo "$(sq 0 100),1,0101,10000,0,10000"
    echo "$(sq 100 200),1,0103,10000,0,10000"
    echo "$(sq 190 300),3,0103,11000,0,11000"
    echo "$(sq 300 390),4,0301,9000,0,9000"
    echo "$(sq 400 500),5,9999,10000,100,9000"
    echo "\"POLYGON (($((E0 + 500)) $N0,$((E0 + 600)) $((N0 + 100)),$((E0 + 600)) $N0,$((E0 + 500)) $((N0 + 100)),$((E0 + 500)) $N0))\",6,0101,10000,0,10000"
    echo "$(sq 600 600.05),7,0101,5,0,5"
    echo "$(sq 600.05 700),8,0101,9995,0,9995"
} >"$T/bad.csv"
{
    echo "WKT,BSM,DLBM,TBMJ,KCMJ,TBDLMJ"
    for i in 0 1 2 3 4 5 6; do
        echo "$(sq $((i * 100)) $((i * 100 + 100))),$((i + 1)),0101,10000,0,10000"
    done
} >"$T/clean.csv"
printf '"WKT","String","String","Real","Real","Real"\n' >"$T/bad.csvt"
cp "$T/bad.csvt" "$T/clean.csvt"
{
    echo "WKT,XZQDM,XZQMC"
    echo "$(sq 0 700),220102,某区"
} >"$T/xzq.csv"
printf '"WKT","String","String"\n' >"$T/xzq.csvt"
cat >"$T/rules.yaml" <<'X'
version: 1
qc:
  coverage: [DLTB]
  extent: XZQ
  schemas:
    DLTB:
      single_part: true
      net_area: {net: TBDLMJ, gross: TBMJ, deduct: KCMJ}
      fields:
        BSM: {type: text, required: true, unique: true}
        DLBM: {type: text, required: true, domain: dlbm}
        TBMJ: {type: real, required: true}
    XZQ:
      fields:
        XZQDM: {type: text, required: true, unique: true, domain: xzqdm}
X
for p in bad clean; do
    "$ONEMAP" init "$T/$p.gpkg" --crs EPSG:4530 >/dev/null 2>&1
    for l in $p:DLTB xzq:XZQ; do
        "$ONEMAP" import "$T/$p.gpkg" "$T/${l%%:*}.csv" --as "${l#*:}" \
            --src-crs EPSG:4530 >/dev/null 2>"$T/err" ||
            fail "import_${p}_${l#*:}" "$(cat "$T/err")"
    done
done
R="--rules $T/rules.yaml"
sha() { sha256sum "$1" | cut -d' ' -f1; }

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

# row CSV CODE FID -> the first qc_errors.csv row of CODE at FID ("" = any)
row() {
    awk -F, -v c="$2" -v f="$3" \
        'NR > 1 && $1 == c && (f == "" || $4 == f) { print; exit }' "$1"
}
# col N ROW -> field N of a CSV row (no quoted commas before it)
col() { echo "$2" | cut -d, -f"$1"; }

# --- the defective project: every defect with its code ---
"$ONEMAP" qc "$T/bad.gpkg" $R -o "$T/o" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass bad_exit_1 || fail bad_exit_1 "exit $rc: $(head -c 300 "$T/err")"
for f in qc.html qc.json qc_errors.csv qc_summary.csv; do
    [ -s "$T/o/$f" ] && pass "writes_$f" || fail "writes_$f" "missing"
done
E=$T/o/qc_errors.csv
head -1 "$E" | grep -qx 'code,severity,layer,fid,fid2,x,y,area_m2,value,field,message' &&
    pass errors_csv_header || fail errors_csv_header "$(head -1 "$E")"
r=$(row "$E" G001 6)
[ -n "$r" ] && [ "$(col 2 "$r")" = error ] && pass bowtie_G001 || fail bowtie_G001 "'$r'"
r=$(row "$E" A005 2)
[ "$(col 5 "$r")" = 1 ] && [ "$(col 10 "$r")" = BSM ] && pass dup_bsm_A005 ||
    fail dup_bsm_A005 "'$r'"
r=$(row "$E" T001 2)
[ "$(col 5 "$r")" = 3 ] && pass overlap_T001 || fail overlap_T001 "'$r'"
near overlap_area_1000 "$(col 8 "$r")" 1000 1e-9
# the gap [390,400] x [0,100]: its centre and area
r=$(awk -F, -v x=$((E0 + 395)) 'NR > 1 && $1 == "T002" && $6 + 0 == x { print; exit }' "$E")
[ -n "$r" ] && pass gap_T002 || fail gap_T002 "no T002 at x=$((E0 + 395)): $(grep T002 "$E" | head -3 | tr '\n' '|')"
near gap_area_1000 "$(col 8 "$r")" 1000 1e-9
r=$(row "$E" T003 7)
[ "$(col 2 "$r")" = warning ] && pass sliver_T003 || fail sliver_T003 "'$r'"
r=$(row "$E" A004 5)
[ "$(col 10 "$r")" = DLBM ] && pass dlbm_A004 || fail dlbm_A004 "'$r'"
r=$(row "$E" A006 5)
[ -n "$r" ] && pass tbdlmj_A006 || fail tbdlmj_A006 "no A006 at fid 5"
near tbdlmj_diff "$(col 9 "$r" | tr -d -)" 900 1e-9
# clean features have no error finding
n=$(awk -F, 'NR > 1 && $2 == "error" && ($4 == 1 || $4 == 8)' "$E" | wc -l)
[ -s "$E" ] && [ "$n" = 0 ] && pass clean_features_clean || fail clean_features_clean "$n errors on fid 1/8"
# stdout: per layer the score and the counts by code, then findings
grep -q '^layer DLTB v1: score' "$T/out" && grep -q 'T001  *error' "$T/out" &&
    grep -q 'first findings' "$T/out" && pass table_stdout ||
    fail table_stdout "$(head -c 400 "$T/out")"
# summary CSV: DLTB's T001 count and area
r=$(awk -F, '$1 == "DLTB" && $6 == "T001"' "$T/o/qc_summary.csv")
[ "$(col 9 "$r")" = 1 ] && pass summary_csv || fail summary_csv "'$r'"
near summary_t001_area "$(col 11 "$r")" 1000 1e-9
# JSON parses and agrees with the CSV
python3 - "$T/o/qc.json" "$E" >"$T/py" 2>&1 <<'PY'
import csv, json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8")))
assert len(d["errors"]) == len(rows), (len(d["errors"]), len(rows))
codes = sorted({e["code"] for e in d["errors"]})
for c in ["A004", "A005", "A006", "G001", "T001", "T002", "T003"]:
    assert c in codes, c
dltb = [l for l in d["layers"] if l["code"] == "DLTB"][0]
assert dltb["nfeatures"] == 8 and dltb["score"] < 100, dltb
PY
[ $? = 0 ] && pass json_parses || fail json_parses "$(tail -3 "$T/py")"
html_ok "$T/o/qc.html" && pass html_well_formed || fail html_well_formed "$(head -5 "$T/xerr")"
for s in 成果质检报告 'Quality control report' T001 G001 '<svg' 1000.00; do
    grep -q "$s" "$T/o/qc.html" || fail "html_has_$s" "missing"
done
grep -q 'Worst cases' "$T/o/qc.html" && pass html_content || fail html_content "no worst cases"

# --- the stored run ---
"$ONEMAP" runs "$T/bad.gpkg" --kind qc >"$T/out" 2>&1
awk '$2 == "qc"' "$T/out" | grep -q . && pass runs_kind_qc || fail runs_kind_qc "$(head -c 300 "$T/out")"

# --- a clean project exits 0 ---
"$ONEMAP" qc "$T/clean.gpkg" $R --no-store >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] && grep -q 'layer DLTB v1: score 100.00' "$T/out" && pass clean_exit_0 || fail clean_exit_0 "exit $rc: $(head -c 300 "$T/out")"

# --- --only and --no-store ---
h0=$(sha "$T/bad.gpkg")
"$ONEMAP" qc "$T/bad.gpkg" $R --only G001 --no-store --format csv -o "$T/g" \
    >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] && pass only_exit_1 || fail only_exit_1 "exit $rc"
n=$(awk -F, 'NR > 1 && $1 != "G001"' "$T/g/qc_errors.csv" | wc -l)
m=$(awk -F, 'NR > 1 && $1 == "G001"' "$T/g/qc_errors.csv" | wc -l)
[ "$n" = 0 ] && [ "$m" = 1 ] && pass only_limits || fail only_limits "$n others, $m G001"
[ -s "$T/g/qc_errors.csv" ] && [ ! -e "$T/g/qc.html" ] && pass format_csv_only || fail format_csv_only "qc.html written"
[ "$(sha "$T/bad.gpkg")" = "$h0" ] && pass no_store_unchanged || fail no_store_unchanged "project changed"
"$ONEMAP" qc "$T/bad.gpkg" $R --only topology --no-store --format csv -o "$T/tp" >/dev/null 2>&1
n=$(awk -F, 'NR > 1 && $1 !~ /^T/' "$T/tp/qc_errors.csv" | wc -l)
m=$(awk -F, 'NR > 1 && $1 ~ /^T/' "$T/tp/qc_errors.csv" | wc -l)
[ "$n" = 0 ] && [ "$m" -gt 0 ] && pass only_category || fail only_category "$n non-topology rows"
"$ONEMAP" qc "$T/bad.gpkg" $R --layer XZQ --no-store >"$T/out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q 'layer XZQ' "$T/out" && ! grep -q 'layer DLTB' "$T/out" &&
    pass layer_option ||
    fail layer_option "exit $rc: $(head -c 200 "$T/out")"

# --max: listed per (layer, check) at most N, all counted
"$ONEMAP" qc "$T/bad.gpkg" $R --max 1 --no-store --format csv -o "$T/mx" >/dev/null 2>"$T/err"
n=$(awk -F, 'NR > 1 && $1 == "T002"' "$T/mx/qc_errors.csv" | wc -l)
r=$(awk -F, '$1 == "DLTB" && $6 == "T002"' "$T/mx/qc_summary.csv")
[ "$n" = 1 ] && [ "$(col 9 "$r")" -gt 1 ] && [ "$(col 10 "$r")" = 1 ] &&
    grep -q 'truncated' "$T/err" && pass max_truncates ||
    fail max_truncates "$n T002 rows listed; summary '$r'; $(head -c 200 "$T/err")"

# --- languages ---
"$ONEMAP" qc "$T/bad.gpkg" $R --no-store --lang zh >"$T/out" 2>&1
grep -q '图层 DLTB' "$T/out" && grep -q '图斑之间相互重叠' "$T/out" && pass lang_zh ||
    fail lang_zh "$(head -c 300 "$T/out")"

# --- repair ---
cp "$T/bad.gpkg" "$T/rep.gpkg"
h0=$(sha "$T/rep.gpkg")
"$ONEMAP" qc "$T/rep.gpkg" --layer DLTB --repair --dry-run $R -o "$T/dry" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -le 1 ] && grep -q 'G001' "$T/out" && pass dry_run_lists ||
    fail dry_run_lists "exit $rc: $(head -c 300 "$T/out") $(head -c 200 "$T/err")"
[ "$(sha "$T/rep.gpkg")" = "$h0" ] && [ ! -e "$T/dry/repairs.csv" ] &&
    pass dry_run_writes_nothing || fail dry_run_writes_nothing "project or repairs.csv written"
"$ONEMAP" qc "$T/rep.gpkg" --layer DLTB --repair $R -o "$T/rep" >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" -le 1 ] && grep -q 'v1 -> v2' "$T/out" && pass repair_new_version ||
    fail repair_new_version "exit $rc: $(head -c 300 "$T/out") $(head -c 200 "$T/err")"
awk -F, 'NR > 1 && $1 == 6 && $2 == "G001"' "$T/rep/repairs.csv" | grep -q . &&
    pass repairs_csv || fail repairs_csv "$(cat "$T/rep/repairs.csv" 2>&1 | head -3)"
"$ONEMAP" layers "$T/rep.gpkg" --all >"$T/out" 2>&1
awk '$1 == "DLTB" && $3 == 2 && $4 == "yes"' "$T/out" | grep -q . && pass layers_all_v2 ||
    fail layers_all_v2 "$(cat "$T/out")"
"$ONEMAP" qc "$T/rep.gpkg" --layer DLTB --only G001 $R --no-store >"$T/out" 2>&1
rc=$?
[ "$rc" = 0 ] && grep -q 'layer DLTB v2' "$T/out" && pass repaired_passes_G001 || fail repaired_passes_G001 "exit $rc: $(head -c 300 "$T/out")"

# --- usage and run errors ---
"$ONEMAP" qc >/dev/null 2>&1
[ $? = 2 ] && pass usage_no_project || fail usage_no_project "exit $?"
"$ONEMAP" qc "$T/bad.gpkg" --format pdf >/dev/null 2>&1
[ $? = 2 ] && pass usage_bad_format || fail usage_bad_format "exit $?"
"$ONEMAP" qc "$T/bad.gpkg" --repair >/dev/null 2>&1
[ $? = 2 ] && pass usage_repair_needs_layer || fail usage_repair_needs_layer "exit $?"
"$ONEMAP" qc "$T/bad.gpkg" --dry-run --layer DLTB >/dev/null 2>&1
[ $? = 2 ] && pass usage_dry_run_alone || fail usage_dry_run_alone "exit $?"
"$ONEMAP" qc "$T/nope.gpkg" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && pass missing_project_3 || fail missing_project_3 "exit $rc"
"$ONEMAP" qc "$T/bad.gpkg" --layer NOPE --no-store >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && grep -q NOPE "$T/err" && pass unknown_layer_3 ||
    fail unknown_layer_3 "exit $rc: $(head -c 300 "$T/err")"
"$ONEMAP" qc "$T/bad.gpkg" --only X999 --no-store >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 3 ] && grep -q X999 "$T/err" && pass unknown_check_3 ||
    fail unknown_check_3 "exit $rc: $(head -c 300 "$T/err")"
"$ONEMAP" qc "$T/bad.gpkg" --rules "$T/nope.yaml" --no-store >/dev/null 2>&1
[ $? = 3 ] && pass missing_rules_3 || fail missing_rules_3 "exit $?"
"$ONEMAP" qc --help | grep -q 'Exit status' && pass help || fail help "no help"
# --profile FILE: a qc profile (a rule file with a qc: section) changes the
# thresholds: the 900 m² TBDLMJ difference passes a 1000 m² tolerance.
printf 'version: 1\nqc:\n  thresholds: {tbdlmj_abs: 1000}\n' > "$T/loose.yaml"
n_default=$("$ONEMAP" qc "$T/bad.gpkg" --only A006 --no-store --format json -o "$T/p0" >/dev/null 2>&1;
    python3 -c "import json,sys; print(sum(e['code'] == 'A006' for e in json.load(open(sys.argv[1]))['errors']))" "$T/p0/qc.json")
n_loose=$("$ONEMAP" qc "$T/bad.gpkg" --profile "$T/loose.yaml" --only A006 --no-store --format json -o "$T/p1" >/dev/null 2>&1;
    python3 -c "import json,sys; print(sum(e['code'] == 'A006' for e in json.load(open(sys.argv[1]))['errors']))" "$T/p1/qc.json")
[ "$n_default" -ge 1 ] && [ "$n_loose" = 0 ] && pass profile_thresholds ||
    fail profile_thresholds "A006 default $n_default, with the loose profile $n_loose"
