# synth_scale.sh — the sample-data generator at city/province scale
# (synth --counties N, --scale city|province): four small counties
# generated in parallel are one clean coverage across county borders,
# the parcel, township and county areas agree, codes and BSM are unique,
# the output does not depend on -j, --fgb writes the same parcels as
# FlatGeobuf, the second-year snapshot DLTB_2024 changes 1-5 % of the
# area and is a clean coverage of the same area, and a failed county
# leaves no partial output behind.
#
# Needs gdal-bin (ogrinfo with the SQLite dialect and SpatiaLite) and the
# onemap CLI (qc).
SUITE=synth_scale
. "$(dirname "$0")/lib.sh"
SYNTH=${BUILD:-$ROOT/build}/tools/synth
PY=/usr/bin/python3

# q FILE SQL: the values of the single result row, one per line
q() {
    ogrinfo -q -dialect SQLite -sql "$2" "$1" 2>/dev/null |
        sed -n 's/^  [A-Za-z0-9_]* ([A-Za-z0-9]*) = //p'
}
# check NAME CONDITION-AS-AWK-EXPR VALUE...: pass if the awk expression
# over v1..vn holds
check() {
    n=$1
    e=$2
    shift 2
    if awk -v v1="${1:-}" -v v2="${2:-}" -v v3="${3:-}" -v v4="${4:-}" \
        "BEGIN { exit !($e) }"; then
        pass "$n"
    else
        fail "$n" "not ($e) with v1=${1:-} v2=${2:-} v3=${3:-} v4=${4:-}"
    fi
}

if [ ! -x "$SYNTH" ]; then
    fail build "no $SYNTH"
    exit 0
fi
if ! command -v ogrinfo >/dev/null; then
    echo "SKIP synth_scale: no ogrinfo (apt-get install gdal-bin)"
    exit 0
fi

# ---- generate 2 x 2 counties of 60 x 60 cells, with -j 2 and -j 1 ----
A=$T/a
B=$T/b
ok generate_j2 "$SYNTH" --counties 2 --cells 60 --sites 4 -j 2 --fgb -o "$A"
grep -q '4 counties' "$T/out" && pass summary_line ||
    fail summary_line "$(head -c 300 "$T/out")"
ok generate_j1 "$SYNTH" --counties 2 --cells 60 --sites 4 -j 1 --fgb -o "$B"
same_files=yes
for f in landuse/DLTB.gpkg landuse/DLTB_2024.gpkg landuse/DLTB.fgb \
    admin/XZQ.gpkg plan.gpkg README.txt sites/expected.csv; do
    cmp -s "$A/$f" "$B/$f" || same_files="no ($f)"
done
[ "$same_files" = yes ] && pass same_bytes_any_j || fail same_bytes_any_j "$same_files"
[ ! -e "$A/.tmp" ] && pass no_temporary_files || fail no_temporary_files "$A/.tmp left"
[ ! -e "$A/landuse/DLTB.shp" ] && [ ! -e "$A/plan.gdb" ] && pass gpkg_only ||
    fail gpkg_only "a Shapefile or FileGDB in mosaic mode"

D=$A/landuse/DLTB.gpkg
D2=$A/landuse/DLTB_2024.gpkg
X=$A/admin/XZQ.gpkg
nf=$(ogrinfo -so "$A/landuse/DLTB.fgb" DLTB 2>/dev/null | sed -n 's/^Feature Count: //p')
ng=$(q "$D" "SELECT count(*) AS n FROM DLTB")
check fgb_same_parcels 'v1 > 0 && v1 == v2' "$nf" "$ng"

# ---- counties, codes, BSM ----
set -- $(q "$X" "SELECT count(*) AS n, count(DISTINCT XZQDM) AS d,
    sum(length(XZQDM) = 6 AND XZQDM GLOB '22[0-9][0-9][0-9][0-9]') AS s,
    sum(NOT ST_IsValid(geom)) AS b FROM XZQ_XIAN")
check xian_four_counties 'v1 == 4 && v2 == 4 && v3 == 4 && v4 == 0' "$@"
set -- $(q "$X" "SELECT count(*) AS n, count(DISTINCT XZQDM) AS d,
    sum(length(XZQDM) = 9) AS s FROM XZQ")
check xzq_township_codes 'v1 >= 4 && v2 == v1 && v3 == v1' "$@"
set -- $(q "$X" "SELECT count(*) AS n FROM XZQ t WHERE substr(t.XZQDM, 1, 6)
    NOT IN (SELECT XZQDM FROM XZQ_XIAN)")
check xzq_in_counties 'v1 == 0' "$1"
for f in "$D" "$D2"; do
    set -- $(q "$f" "SELECT count(*) AS n, count(DISTINCT BSM) AS d,
        sum(length(BSM) = 18) AS l, sum(NOT ST_IsValid(geom)) AS b FROM DLTB")
    check "bsm_unique_valid_$(basename "$f" .gpkg)" \
        'v1 > 2000 && v2 == v1 && v3 == v1 && v4 == 0' "$@"
done
set -- $(q "$D" "SELECT count(DISTINCT substr(BSM, 1, 6)) AS n FROM DLTB")
check dltb_from_four_counties 'v1 == 4' "$1"
set -- $(q "$A/plan.gpkg" "SELECT count(*) AS n,
    sum(NOT ST_IsValid(geom)) AS b FROM STBHHX")
check red_lines_valid 'v1 >= 4 && v2 == 0' "$@"

# ---- areas: parcels = counties = townships; year 2 the same ----
ad=$(q "$D" "SELECT sum(ST_Area(geom)) AS a FROM DLTB")
ad2=$(q "$D2" "SELECT sum(ST_Area(geom)) AS a FROM DLTB")
ax=$(q "$X" "SELECT sum(ST_Area(geom)) AS a FROM XZQ_XIAN")
at=$(q "$X" "SELECT sum(ST_Area(geom)) AS a FROM XZQ")
au=$(q "$X" "SELECT ST_Area(ST_Union(geom)) AS a FROM XZQ_XIAN")
near area_parcels_counties "$ad" "$ax" 1e-6
near area_parcels_townships "$ad" "$at" 1e-6
near area_counties_union "$ax" "$au" 1e-6
near area_year2_same "$ad" "$ad2" 1e-6

# ---- year 2: 1-5 % of the area changed, unchanged parcels keep BSM ----
$PY - "$D" "$D2" <<'X'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ATTACH ? AS y2", (sys.argv[2],))
tot = db.execute("SELECT sum(TBMJ) FROM y2.DLTB").fetchone()[0]
new = db.execute("SELECT sum(TBMJ) FROM y2.DLTB WHERE BSM NOT IN "
                 "(SELECT BSM FROM main.DLTB)").fetchone()[0] or 0
moved = db.execute("SELECT count(*) FROM y2.DLTB b JOIN main.DLTB a "
                   "USING (BSM) WHERE a.geom != b.geom OR a.DLBM != b.DLBM "
                   "OR a.TBMJ != b.TBMJ").fetchone()[0]
years = db.execute("SELECT (SELECT group_concat(DISTINCT SJNF) FROM main.DLTB),"
                   " (SELECT group_concat(DISTINCT SJNF) FROM y2.DLTB)").fetchone()
share = 100.0 * new / tot
if 1.0 <= share <= 5.0:
    print("PASS synth_scale:year2_changed_share")
else:
    print("FAIL synth_scale:year2_changed_share: %.2f %% of the area" % share)
if moved == 0:
    print("PASS synth_scale:year2_kept_bsm_same_parcel")
else:
    print("FAIL synth_scale:year2_kept_bsm_same_parcel: %d differ" % moved)
if years == ("2023", "2024"):
    print("PASS synth_scale:year2_sjnf")
else:
    print("FAIL synth_scale:year2_sjnf: %r" % (years,))
X

# ---- clean coverage across county borders: onemap qc ----
P=$T/p.gpkg
"$ONEMAP" init "$P" --crs EPSG:4530 >/dev/null 2>&1
ok import_dltb "$ONEMAP" import "$P" "$D" --as DLTB
ok import_xzq "$ONEMAP" import "$P" "$X" --layer XZQ --as XZQ \
    --code-field XZQDM --name-field XZQMC
ok qc_dltb_xzq "$ONEMAP" qc "$P" --layer DLTB --layer XZQ \
    --only G001,T001,T002 --no-store --format json -o "$T/qc1"
P2=$T/p2.gpkg
"$ONEMAP" init "$P2" --crs EPSG:4530 >/dev/null 2>&1
ok import_dltb_2024 "$ONEMAP" import "$P2" "$D2" --as DLTB
ok import_xian "$ONEMAP" import "$P2" "$X" --layer XZQ_XIAN --as XZQ \
    --code-field XZQDM --name-field XZQMC
ok qc_dltb_2024_xian "$ONEMAP" qc "$P2" --layer DLTB --layer XZQ \
    --only G001,T001,T002 --no-store --format json -o "$T/qc2"
for v in 1 2; do
    $PY - "$T/qc$v/qc.json" "$v" <<'X'
import json, sys
name = "qc_clean_" + ("dltb_xzq" if sys.argv[2] == "1" else "dltb_2024_xian")
try:
    d = json.load(open(sys.argv[1], encoding="utf-8"))
    fs = d["errors"]
    if fs:
        print("FAIL synth_scale:%s: %d findings: %s" % (name, len(fs), "; ".join(
            "%s %s fid=%s %s" % (e["code"], e["layer"], e["fid"],
                                 e["message_en"][:60]) for e in fs[:4])))
    else:
        print("PASS synth_scale:%s" % name)
except Exception as x:
    print("FAIL synth_scale:%s: %s" % (name, x))
X
done

# ---- arguments and failures ----
bad usage_bad_counties "counties" "$SYNTH" --counties 0 -o "$T/x"
bad usage_bad_scale "scale" "$SYNTH" --scale state -o "$T/x"
bad usage_defects_mosaic "defects" "$SYNTH" --counties 2 --defects -o "$T/x"
bad usage_fgb_county "fgb" "$SYNTH" --fgb -o "$T/x"
# a county that cannot write its temporary file: the run fails naming
# the county and leaves no GeoPackage behind
F=$T/fail
mkdir -p "$F/.tmp/county001.gpkg"
bad failed_county_named "county 22010[0-9]" \
    "$SYNTH" --counties 2 --cells 40 --sites 0 -j 2 -o "$F"
left=$(find "$F" -name '*.gpkg' -type f | head -3)
[ -z "$left" ] && pass failed_county_no_output ||
    fail failed_county_no_output "left behind: $left"
