# qc_synth.sh — `onemap qc` on the sample county with synthetic defects
# (synth --defects: DIR/defects/DLTB_defects.gpkg and expected.csv, see
# docs/SAMPLE-DATA.md): every injected defect is found with its code, fid,
# fid2 and its exact area or value (to 1e-6 m² + 1e-9 relative: qc.json
# has 6 decimals), and nothing else of severity error or warning is
# reported. The clean DLTB gives no error or warning at all. Info findings
# are not compared: the layer-level G007 of the shapefile (shells stored
# clockwise, the Shapefile convention) is expected and not a defect. The
# areas in expected.csv (computed by the generator) are checked against
# SpatiaLite (GEOS) on the written file; the same seed gives the same
# files.
SUITE=qc_synth
. "$(dirname "$0")/lib.sh"
SYNTH=${BUILD:-$ROOT/build}/tools/synth
if [ ! -x "$SYNTH" ]; then
    fail build "no $SYNTH"
    exit 0
fi
D=$T/data
"$SYNTH" --seed 42 --sites 0 --defects -o "$D" >"$T/s1" 2>&1 &
p1=$!
"$SYNTH" --seed 42 --sites 0 --defects -o "$T/again" >"$T/s2" 2>&1 &
p2=$!
wait $p1 && wait $p2 && pass synth ||
    { fail synth "$(cat "$T/s1" "$T/s2" | head -c 400)"; exit 0; }
E=$D/defects/expected.csv
G=$D/defects/DLTB_defects.gpkg
if cmp -s "$E" "$T/again/defects/expected.csv" &&
    cmp -s "$G" "$T/again/defects/DLTB_defects.gpkg"; then
    pass same_seed_same_bytes
else
    fail same_seed_same_bytes "expected.csv or DLTB_defects.gpkg differ"
fi

# ---- the injected defects cover the catalogue ----
python3 - "$E" <<'X'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
codes = {r["code"] for r in rows}
want = {"G001", "G002", "G003", "G004", "G005", "G006", "T001", "T002",
        "T003", "T004", "A003", "A004", "A005", "A006", "A007"}
g001 = [r["defect"] for r in rows if r["code"] == "G001"]
if want - codes or not any("bow-tie" in d for d in g001) or \
        not any("hole outside" in d for d in g001):
    print("FAIL qc_synth:covers_catalogue: missing %s; G001: %s"
          % (sorted(want - codes), g001))
else:
    print("PASS qc_synth:covers_catalogue")
X

# ---- an independent oracle for the areas in expected.csv ----
# close NAME GOT WANT: |GOT - WANT| <= 1e-6 m² + 1e-9 |WANT| (SpatiaLite
# measures with the raw 8-digit coordinates: ~1e-8 m² of rounding)
close() {
    if [ -n "$2" ] && awk -v a="$2" -v b="$3" 'BEGIN {
        d = a - b; if (d < 0) d = -d; m = b < 0 ? -b : b;
        exit !(d <= 1e-6 + 1e-9 * m) }'; then
        pass "$1"
    else
        fail "$1" "'$2' vs $3"
    fi
}
# sq SQL: the single value of the single row (SpatiaLite on the GPKG)
sq() {
    ogrinfo -q -dialect SQLite -sql "$2" "$1" 2>/dev/null |
        sed -n 's/^  [A-Za-z0-9_]* ([A-Za-z0-9]*) = //p' | head -1
}
while IFS=, read -r layer code fid fid2 area value what; do
    case $code in
    T001)
        a=$(sq "$G" "SELECT ST_Area(CollectionExtract(
            ST_Intersection(a.geom, b.geom), 3)) AS v
            FROM DLTB a, DLTB b WHERE a.fid = $fid AND b.fid = $fid2")
        close "oracle_T001_${fid}_$fid2" "$a" "$area"
        ;;
    T003)
        a=$(sq "$G" "SELECT ST_Area(geom) AS v FROM DLTB WHERE fid = $fid")
        close "oracle_T003_$fid" "$a" "$area"
        ;;
    T002)
        # the deleted parcel: its area in the clean shapefile, by BSM;
        # the near-miss gap: the quadrilateral between the two vertices
        bsm=$(echo "$what" | sed -n 's/.*BSM \([0-9]*\).*/\1/p')
        if [ -n "$bsm" ]; then
            a=$(sq "$D/landuse/DLTB.shp" \
                "SELECT ST_Area(geometry) AS v FROM DLTB WHERE BSM = '$bsm'")
            close oracle_T002_deleted_parcel "$a" "$area"
        fi
        ;;
    esac
done <"$E"

# ---- qc on the clean and the defective DLTB ----
for v in clean defects; do
    P=$T/$v.gpkg
    "$ONEMAP" init "$P" --crs auto >/dev/null 2>&1
    if [ $v = clean ]; then
        ok "import_DLTB_$v" "$ONEMAP" import "$P" "$D/landuse/DLTB.shp" \
            --as DLTB --encoding GBK
    else
        ok "import_DLTB_$v" "$ONEMAP" import "$P" "$G" --as DLTB
    fi
    ok "import_XZQ_$v" "$ONEMAP" import "$P" "$D/admin/XZQ.geojson" --as XZQ \
        --code-field XZQDM --name-field XZQMC
    "$ONEMAP" qc "$P" --layer DLTB --layer XZQ --no-store --format json \
        -o "$T/qc_$v" >"$T/out" 2>"$T/err"
    rc=$?
    want=1
    [ $v = clean ] && want=0
    [ "$rc" = $want ] && pass "qc_${v}_exit_$want" ||
        fail "qc_${v}_exit_$want" "exit $rc: $(head -c 300 "$T/err")"
done

python3 - "$E" "$T/qc_clean/qc.json" "$T/qc_defects/qc.json" <<'X'
import csv, json, sys
exp_path, clean_path, bad_path = sys.argv[1:4]
SEV = ("error", "warning")

def findings(path):
    d = json.load(open(path, encoding="utf-8"))
    return [e for e in d["errors"] if e["severity"] in SEV]

def show(e):
    return "%s %s fid=%s fid2=%s area=%s value=%s: %s" % (
        e["code"], e["layer"], e["fid"], e["fid2"], e["area_m2"], e["value"],
        e["message_en"][:80])

# the clean county: nothing at all
try:
    fs = findings(clean_path)
    if fs:
        print("FAIL qc_synth:clean_no_findings: %d: %s"
              % (len(fs), "; ".join(show(e) for e in fs[:5])))
    else:
        print("PASS qc_synth:clean_no_findings")
except Exception as x:
    print("FAIL qc_synth:clean_no_findings: %s" % x)

def close(got, want):
    return got is not None and abs(got - want) <= 1e-6 + 1e-9 * abs(want)

def fid(s):
    return None if s in ("", "-1") else int(s)

try:
    rows = list(csv.DictReader(open(exp_path, encoding="utf-8")))
    fs = findings(bad_path)
except Exception as x:
    print("FAIL qc_synth:defects_read: %s" % x)
    sys.exit(0)
used = [False] * len(fs)
for r in rows:
    name = "found_%s_%s%s" % (r["code"], r["fid"],
                              "_" + r["fid2"] if r["fid2"] else "")
    cands = []
    for i, e in enumerate(fs):
        if used[i] or e["layer"] != r["layer"] or e["code"] != r["code"] \
                or e["fid"] != fid(r["fid"]) or e["fid2"] != fid(r["fid2"]):
            continue
        ok = True
        if r["area_m2"]:
            ok = ok and close(e["area_m2"], float(r["area_m2"]))
        if r["value"]:
            ok = ok and close(e["value"], float(r["value"]))
        cands.append((not ok, i))
    cands.sort()
    if not cands:
        print("FAIL qc_synth:%s: not reported (%s)" % (name, r["defect"]))
    elif cands[0][0]:
        e = fs[cands[0][1]]
        used[cands[0][1]] = True
        print("FAIL qc_synth:%s: area %s value %s, expected %s %s"
              % (name, e["area_m2"], e["value"], r["area_m2"], r["value"]))
    else:
        used[cands[0][1]] = True
        print("PASS qc_synth:%s" % name)
extra = [fs[i] for i in range(len(fs)) if not used[i]]
if extra:
    print("FAIL qc_synth:nothing_else_reported: %d not injected: %s"
          % (len(extra), "; ".join(show(e) for e in extra[:6])))
else:
    print("PASS qc_synth:nothing_else_reported")
X
