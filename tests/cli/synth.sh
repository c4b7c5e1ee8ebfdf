# synth.sh — the sample-data generator (tools/synth): outputs exist and
# open, counts are in range, every geometry is valid, the parcels are a
# clean coverage of the county, the areas agree with independent oracles
# (SpatiaLite/GEOS planar areas, GeographicLib TransverseMercatorProj +
# Planimeter ellipsoidal areas), TBDLMJ = TBMJ - KCMJ, the DBF is GBK
# without .cpg, the planned land use GHYT is the parcels' coverage with
# valid 用地用海 codes and the deliberate R005/R006 conflicts, the sites
# (部标 TXT) read back with `onemap convert` and their expected review
# numbers agree with SpatiaLite, and the same seed gives the same bytes.
#
# Needs gdal-bin (ogrinfo, ogr2ogr with the SQLite dialect and SpatiaLite)
# and geographiclib-tools; the onemap CLI only for the site checks.
SUITE=synth
: "${ONEMAP:=/nonexistent}" # lib.sh insists; only the site checks use it
. "$(dirname "$0")/lib.sh"
SYNTH=${BUILD:-$ROOT/build}/tools/synth
A=$T/a
B=$T/b
CGCS2000="6378137 1/298.257222101"

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
    echo "SKIP synth: no ogrinfo (apt-get install gdal-bin)"
    exit 0
fi

ok generate "$SYNTH" --seed 42 -o "$A"
D=$A/landuse/DLTB.shp
X=$A/admin/XZQ.geojson
G=$A/plan.gdb

# ---- files ----
missing=
for f in landuse/DLTB.shp landuse/DLTB.shx landuse/DLTB.dbf landuse/DLTB.prj \
    admin/XZQ.geojson plan.gdb README.txt; do
    [ -e "$A/$f" ] || missing="$missing $f"
done
[ -z "$missing" ] && pass files || fail files "missing:$missing"
[ ! -e "$A/landuse/DLTB.cpg" ] && pass no_cpg || fail no_cpg "DLTB.cpg written"
grep -q "EPSG:4530" "$A/README.txt" && grep -q "seed 42" "$A/README.txt" &&
    pass readme || fail readme "$(head -c 300 "$A/README.txt")"
grep -q 'Gauss_Kruger_zone_42\|Gauss-Kruger zone 42\|GK_Zone_42\|zone 42' \
    "$A/landuse/DLTB.prj" && pass prj_zone42 ||
    fail prj_zone42 "$(head -c 200 "$A/landuse/DLTB.prj")"
for f in plan.gdb plan.gpkg; do
    layers=$(ogrinfo -q "$A/$f" 2>&1 | grep -o -w 'YJJBNTBHTB\|STBHHX\|CZKFBJ\|GHYT' |
        sort | tr '\n' ' ')
    [ "$layers" = "CZKFBJ GHYT STBHHX YJJBNTBHTB " ] && pass "layers_$f" ||
        fail "layers_$f" "layers: $layers"
done

# SpatiaLite gives the SQLite dialect its ST_ functions
if [ -z "$(q "$D" "SELECT spatialite_version() AS v")" ]; then
    echo "SKIP synth:geometry: GDAL has no SpatiaLite"
    exit 0
fi

# ---- counts ----
set -- $(q "$D" "SELECT count(*) AS n, count(DISTINCT BSM) AS u,
    min(ST_NPoints(geometry)) AS a, max(ST_NPoints(geometry)) AS b FROM DLTB")
check dltb_count 'v1 >= 15000 && v1 <= 26000' "$1"
check dltb_bsm_unique 'v1 == v2' "$1" "$2"
check dltb_vertices '(v1 >= 8) && (v2 <= 200)' "$3" "$4"
NPARCELS=$1
set -- $(q "$D" "SELECT count(*) AS n FROM DLTB WHERE NumInteriorRings(geometry) > 0")
check dltb_islands 'v1 >= 0.004 * v2 && v1 <= 0.03 * v2' "$1" "$NPARCELS"
set -- $(q "$X" "SELECT count(*) AS n, sum(XZQDM GLOB '220[12][0-9][0-9][0-9][0-9][0-9]') AS c,
    sum(XZQMC LIKE '%镇' OR XZQMC LIKE '%乡' OR XZQMC LIKE '%街道') AS m FROM XZQ")
check xzq_count 'v1 >= 8 && v1 <= 14' "$1"
check xzq_codes 'v1 == v2 && v1 == v3' "$1" "$2" "$3"
set -- $(q "$G" "SELECT count(*) AS n, min(ST_NPoints(SHAPE)) AS a,
    max(ST_NPoints(SHAPE)) AS b, sum(NumInteriorRings(ST_GeometryN(SHAPE, 1))) AS h FROM STBHHX")
check stbhhx_shape 'v1 >= 1 && v2 >= 5000 && v3 <= 50000 && v4 >= 1' "$1" "$2" "$3" "$4"
set -- $(q "$G" "SELECT count(*) AS n FROM CZKFBJ")
check czkfbj_count 'v1 >= 2 && v1 <= 3' "$1"
set -- $(q "$G" "SELECT count(*) AS n, sum(NumInteriorRings(ST_GeometryN(SHAPE, 1))) AS h
    FROM YJJBNTBHTB")
check jbnt_count 'v1 >= 50 && v2 >= 1' "$1" "$2"

# ---- validity (GEOS through SpatiaLite) ----
set -- $(q "$D" "SELECT count(*) AS n FROM DLTB WHERE NOT ST_IsValid(geometry)")
check dltb_valid 'v1 == 0' "$1"
set -- $(q "$X" "SELECT count(*) AS n FROM XZQ WHERE NOT ST_IsValid(geometry)")
check xzq_valid 'v1 == 0' "$1"
for L in YJJBNTBHTB STBHHX CZKFBJ; do
    set -- $(q "$G" "SELECT count(*) AS n FROM $L WHERE NOT ST_IsValid(SHAPE)")
    check "${L}_valid" 'v1 == 0' "$1"
done

# ---- a clean coverage ----
# The parcels' planar areas add up to the county's (XZQ brought back to
# EPSG:4530 by GDAL), and so does the area of their union: no gaps, no
# overlaps.
set -- $(q "$D" "SELECT sum(ST_Area(geometry)) AS a FROM DLTB")
DSUM=$1
set -- $(q "$X" "SELECT sum(ST_Area(ST_Transform(geometry, 4530))) AS a,
    ST_Area(ST_Transform(ST_Union(geometry), 4530)) AS u FROM XZQ")
near coverage_area_sum "$DSUM" "$1" 1e-9
near xzq_no_overlap "$1" "$2" 1e-9
XSUM=$1
set -- $(q "$D" "SELECT ST_Area(ST_Union(geometry)) AS u FROM DLTB")
near dltb_union_no_overlap "$1" "$XSUM" 1e-9
# Every vertex of the basic-farmland patches is a parcel vertex: the
# patches are dissolves of parcels, not redrawn. Exactly in the GeoPackage;
# in the FileGDB to its storage grid (printed to 0.1 mm here).
vert() { # FILE [LAYER]: every vertex, one "x y" per line
    ogr2ogr -f CSV /vsistdout/ "$@" -lco GEOMETRY=AS_WKT 2>/dev/null |
        sed -n 's/^"[A-Z]* (*//; s/)*".*//p' | tr ',()' '\n\n\n' | sed '/^ *$/d'
}
round4() { awk '{ printf "%.4f %.4f\n", $1, $2 }'; }
vert "$D" | sort -u >"$T/dv"
vert "$A/plan.gpkg" YJJBNTBHTB | sort -u >"$T/jv"
nj=$(wc -l <"$T/jv")
nmiss=$(comm -13 "$T/dv" "$T/jv" | wc -l)
check jbnt_vertices_on_parcels 'v1 > 1000 && v2 == 0' "$nj" "$nmiss"
round4 <"$T/dv" | sort -u >"$T/dv4"
vert "$G" YJJBNTBHTB | round4 | sort -u >"$T/gv4"
nmiss=$(comm -13 "$T/dv4" "$T/gv4" | wc -l)
check gdb_jbnt_vertices_on_parcels 'v1 == 0' "$nmiss"
# and so is every township boundary vertex (back in EPSG:4530): parcels
# nest in townships
ogr2ogr -t_srs EPSG:4530 "$T/xzq4530.gpkg" "$X" 2>/dev/null
vert "$T/xzq4530.gpkg" | round4 | sort -u >"$T/xv4"
nx=$(wc -l <"$T/xv4")
nmiss=$(comm -13 "$T/dv4" "$T/xv4" | wc -l)
check xzq_vertices_on_parcels 'v1 > 1000 && v2 == 0' "$nx" "$nmiss"

# ---- planned land use GHYT ----
# One feature per parcel with the parcel's exact geometry (so the same
# clean coverage), every code in the 用地用海 table with its name, urban
# classes inside the development boundaries, and the planted conflicts.
P=$A/plan.gpkg
set -- $(q "$P" "SELECT count(*) AS n, count(DISTINCT BSM) AS u,
    sum(NOT ST_IsValid(geom)) AS b, sum(ST_Area(geom)) AS a FROM GHYT")
check ghyt_count 'v1 == v3 && v2 == v3 && v4 == 0' "$1" "$2" "$NPARCELS" "$3"
near ghyt_area_sum "$4" "$DSUM" 1e-9
# per BSM the same area as the parcel (and below, the union's area is the
# county's: no overlaps, no gaps)
barea() { # FILE SQL: "BSM area" per feature, sorted
    ogr2ogr -f CSV -lco STRING_QUOTING=IF_NEEDED /vsistdout/ "$1" -dialect SQLite \
        -sql "$2" 2>/dev/null | awk -F, 'NR > 1 { printf "%s %.6f\n", $1, $2 }' | sort
}
barea "$D" "SELECT BSM, ST_Area(geometry) AS a FROM DLTB" >"$T/da"
barea "$P" "SELECT BSM, ST_Area(geom) AS a FROM GHYT" >"$T/ga"
nd=$(join "$T/da" "$T/ga" | awk '{ d = $2 - $3; if (d < 0) d = -d
    if (d <= 1e-9 * $2 + 2e-6) n++ } END { print NR - n }')
ng=$(wc -l <"$T/ga")
check ghyt_area_per_parcel 'v1 == 0 && v2 == v3' "$nd" "$ng" "$NPARCELS"
set -- $(q "$P" "SELECT ST_Area(ST_Union(geom)) AS u FROM GHYT")
near ghyt_union_no_overlap "$1" "$XSUM" 1e-9
ogr2ogr -f CSV -lco STRING_QUOTING=IF_NEEDED "$T/ghyt.csv" "$P" GHYT \
    -select YDYHFLDM,YDYHFLMC 2>/dev/null
bad=$(awk -F, 'NR == FNR { name[$1] = $5; next }
    FNR > 1 { n++; if (!($1 in name)) { print "unknown code " $1; exit }
              if (name[$1] != $2) { print $1 " named " $2 " not " name[$1]; exit }
              c[$1]++ }
    END { if (!bad && n < 1000) print n " rows"
          k = 0; for (x in c) k++; if (k < 15) print k " classes" }' \
    "$ROOT/data/codes/ydyh.csv" "$T/ghyt.csv")
[ -z "$bad" ] && pass ghyt_codes_valid || fail ghyt_codes_valid "$bad"
CONSTR="(YDYHFLDM GLOB '0[7-9]*' OR YDYHFLDM GLOB '1[0-6]*' OR YDYHFLDM = '2301')"
set -- $(q "$P" "SELECT
    (SELECT count(*) FROM GHYT g, CZKFBJ z WHERE $CONSTR AND YDYHFLDM IN
        ('0701', '0901', '1001', '1401') AND ST_Within(g.geom, z.geom)) AS u,
    (SELECT count(*) FROM GHYT g, YJJBNTBHTB j WHERE $CONSTR
        AND MbrIntersects(g.geom, j.geom)
        AND ST_Area(ST_Intersection(g.geom, j.geom)) > 1) AS f,
    (SELECT count(*) FROM GHYT g, STBHHX r WHERE $CONSTR
        AND MbrIntersects(g.geom, r.geom)
        AND ST_Area(ST_Intersection(g.geom, r.geom)) > 1) AS r")
check ghyt_urban_in_czkfbj 'v1 >= 100' "$1"
check ghyt_conflict_r006_farmland 'v1 >= 3' "$2"
check ghyt_conflict_r005_redline 'v1 >= 2' "$3"

# ---- construction sites (部标 TXT) ----
S=$A/sites
nsite=$(ls "$S"/site[0-9][0-9].txt 2>/dev/null | wc -l)
check sites_count 'v1 == 12' "$nsite"
[ -s "$S/README.md" ] && [ -s "$S/expected.csv" ] &&
    [ "$(grep -c 'expected: default' "$S/README.md")" = 12 ] &&
    pass sites_readme || fail sites_readme "README.md or expected.csv"
notgbk=
for f in "$S"/site[0-9][0-9].txt; do
    iconv -f UTF-8 -t UTF-8 "$f" >/dev/null 2>&1 && notgbk="$notgbk $(basename "$f")"
    iconv -f GBK -t UTF-8 "$f" 2>/dev/null | grep -q '^\[地块坐标\]' ||
        notgbk="$notgbk $(basename "$f")"
done
[ -z "$notgbk" ] && pass sites_gbk || fail sites_gbk "not GBK:$notgbk"
set -- $(awk -F, 'NR > 1 { n++; if ($7 > m) m = $7; if ($8 >= 4000 && $8 <= 200000) a++ }
    END { print n, m, a }' "$S/expected.csv")
check sites_variety 'v1 >= 14 && v2 >= 3000 && v3 >= 10' "$1" "$2" "$3"
set -- $(cut -d, -f15,16 "$S/expected.csv" | sort | uniq | tr '\n' ' ')
case " $* " in
*" pass,pass "*) pass sites_some_pass_urban ;;
*) fail sites_some_pass_urban "decisions: $*" ;;
esac
for d in pass conditional fail; do
    grep -q ",$d,[a-z]*,[a-z]*\$" "$S/expected.csv" && pass "sites_default_$d" ||
        fail "sites_default_$d" "no parcel with default decision $d"
done
if [ -x "$ONEMAP" ]; then
    # every site converts; the parcels go into one GeoPackage with the plan
    # layers and DLTB, where SpatiaLite recomputes expected.csv
    R=$T/review.gpkg
    cp "$P" "$R"
    ogr2ogr -update -nln DLTB -select DLBM "$R" "$D" 2>/dev/null
    ogr2ogr -update -nln XW "$R" "$ROOT/data/codes/dlbm_ydyh.csv" 2>/dev/null
    badconv=
    for f in "$S"/site[0-9][0-9].txt; do
        b=$(basename "$f" .txt)
        if "$ONEMAP" convert "$f" "$T/$b.gpkg" >"$T/out" 2>"$T/err"; then
            ogr2ogr -append "$R" "$T/$b.gpkg" -nln SITES -sql \
                "SELECT '$b.txt' AS file, * FROM $b" -dialect SQLite 2>/dev/null
        else
            badconv="$badconv $b: $(head -c 200 "$T/err")"
        fi
    done
    [ -z "$badconv" ] && pass sites_convert || fail sites_convert "$badconv"
    A1="CAST(coalesce(sum(ST_Area(ST_Intersection(s.geom, x.geom))), 0.0) AS REAL)"
    ogr2ogr -f CSV -lco STRING_QUOTING=IF_NEEDED "$T/oracle.csv" "$R" -dialect SQLite -sql "
        SELECT file, DKBH, area, farm, red, cult, area - czk AS outczk, conf,
            area - cty AS outcty FROM (SELECT s.file AS file, s.DKBH AS DKBH,
            CAST(ST_Area(s.geom) AS REAL) AS area,
            (SELECT $A1 FROM YJJBNTBHTB x WHERE MbrIntersects(s.geom, x.geom)) AS farm,
            (SELECT $A1 FROM STBHHX x WHERE MbrIntersects(s.geom, x.geom)) AS red,
            (SELECT $A1 FROM DLTB x WHERE MbrIntersects(s.geom, x.geom)
                AND x.DLBM IN ('0101', '0102', '0103')) AS cult,
            (SELECT $A1 FROM CZKFBJ x WHERE MbrIntersects(s.geom, x.geom)) AS czk,
            (SELECT $A1 FROM GHYT x WHERE MbrIntersects(s.geom, x.geom) AND NOT (
                substr(x.YDYHFLDM, 1, length(s.u)) = s.u OR
                substr(s.u, 1, length(x.YDYHFLDM)) = x.YDYHFLDM)) AS conf,
            (SELECT $A1 FROM DLTB x WHERE MbrIntersects(s.geom, x.geom)) AS cty
        FROM (SELECT *, CASE WHEN DKYT GLOB '[0-9]*' THEN DKYT ELSE
            (SELECT ydyh FROM XW WHERE XW.dlbm = SITES.DLBM) END AS u
            FROM SITES) s) ORDER BY file, DKBH" 2>"$T/err"
    # decisions of the shipped profiles (tolerance 1 m²) from the oracle's
    # areas, and every area within 0.01 m² of expected.csv
    bad=$(awk -F, 'function dec(lines, cond) { return lines ? "fail" : cond ? "conditional" : "pass" }
        NR == FNR { if (FNR > 1) { key = $1 "," $3; row[key] = $0; n++ } next }
        FNR > 1 {
            key = $1 "," $2; m++
            if (!(key in row)) { print "no expected row for " key; exit }
            split(row[key], e, ",")
            for (i = 3; i <= 9; i++) {
                d = $i - e[i + 5]; if (d < 0) d = -d
                if (d > 0.01 + 1e-9 * $3) { print key ": column " i " oracle " $i " expected " e[i + 5]; exit }
            }
            lines = $4 > 1 || $5 > 1; cond = $6 > 1 || $8 > 1 || $9 > 1
            d1 = dec(lines, cond); d2 = dec(lines || $7 > 1, cond)
            d3 = (lines || cond) ? "conditional" : "pass"
            if (d1 != e[15] || d2 != e[16] || d3 != e[17]) {
                print key ": oracle " d1 "/" d2 "/" d3 " expected " e[15] "/" e[16] "/" e[17]; exit
            }
        }
        END { if (m != n) print m " oracle rows, " n " expected" }' \
        "$S/expected.csv" "$T/oracle.csv")
    [ -z "$bad" ] && [ -s "$T/oracle.csv" ] && pass sites_expected_vs_spatialite ||
        fail sites_expected_vs_spatialite "$bad $(head -c 300 "$T/err")"
    # the designed cases: touching farmland along an edge or round a hole is
    # 0 m² exactly; the road has thousands of vertices; all in the county
    set -- $(awk -F, 'FNR > 1 && ($1 == "site06.txt" || $1 == "site07.txt") { z += $4 }
        FNR > 1 { if ($9 > o) o = $9 } END { print z + 0, o + 0 }' "$T/oracle.csv")
    check sites_touching_farmland_0m2 'v1 == 0' "$1"
    check sites_inside_county 'v1 < 0.01' "$2"
else
    echo "SKIP synth:sites_convert: no onemap CLI"
fi

# ---- areas ----
# TBMJ is the ellipsoidal area: check every parcel's sum against
# SpatiaLite's geodesic area of the county, and a sample of parcels one by
# one against GeographicLib (TransverseMercatorProj back to lat/lon, then
# Planimeter on the CGCS2000 ellipsoid) — no PROJ involved.
set -- $(q "$D" "SELECT sum(TBMJ) AS t FROM DLTB")
TSUM=$1
set -- $(q "$X" "SELECT sum(ST_Area(geometry, 1)) AS e FROM XZQ")
near tbmj_sum_vs_spatialite "$TSUM" "$1" 1e-7
if command -v Planimeter >/dev/null && command -v TransverseMercatorProj >/dev/null; then
    ogr2ogr -f CSV "$T/sample.csv" "$D" -dialect SQLite -lco GEOMETRY=AS_WKT \
        -sql "SELECT TBMJ, geometry FROM DLTB WHERE NumInteriorRings(geometry) = 0
              AND ROWID % 250 = 3" 2>/dev/null
    awk -F'"' 'NR > 1 {
        s = $2; sub(/^POLYGON \(\(/, "", s); sub(/\)\)$/, "", s)
        n = split(s, p, ",")
        for (i = 1; i <= n; i++) {
            split(p[i], c, " "); printf "%d %.4f %.4f\n", NR - 1, c[1] - 42500000, c[2]
        }
    }' "$T/sample.csv" >"$T/pts"
    cut -d' ' -f2,3 "$T/pts" |
        TransverseMercatorProj -r -p 12 -l 126 -k 1 -e $CGCS2000 >"$T/ll"
    paste -d' ' "$T/pts" "$T/ll" | awk '
        NR > 1 && $1 != prev { print "" }
        { print $4, $5; prev = $1 }' |
        Planimeter -p 9 -e $CGCS2000 >"$T/pl"
    awk -F'"' 'NR > 1 { split($3, a, ","); print a[2] }' "$T/sample.csv" >"$T/tbmj"
    bad=$(paste -d' ' "$T/pl" "$T/tbmj" | awk '
        { a = $3 < 0 ? -$3 : $3; d = a - $4; if (d < 0) d = -d
          if (d > 0.006 + 1e-9 * a) { printf "%d: %.4f vs TBMJ %s\n", NR, a, $4; exit } }')
    npl=$(wc -l <"$T/pl")
    if [ -z "$bad" ] && [ "$npl" -ge 40 ]; then
        pass tbmj_vs_planimeter
    else
        fail tbmj_vs_planimeter "$npl polygons; $bad"
    fi
else
    echo "SKIP synth:tbmj_vs_planimeter: no geographiclib-tools"
fi
set -- $(q "$G" "SELECT sum(JBNTMJ) AS m, sum(ST_Area(ST_Transform(SHAPE, 4490), 1)) AS e
    FROM YJJBNTBHTB")
near jbntmj_vs_spatialite "$1" "$2" 1e-7

# ---- attributes ----
# KCMJ = round(TBMJ * KCXS, 2) and TBDLMJ = TBMJ - KCMJ exactly in cents
ogr2ogr -f CSV -lco STRING_QUOTING=IF_NEEDED "$T/attr.csv" "$D" -select TBMJ,KCXS,KCMJ,TBDLMJ,DLBM,GDPDJB,ZLDWDM,QSXZ 2>/dev/null
bad=$(awk -F, 'NR > 1 {
    t = $1 * 100; k = $3 * 100; d = $4 * 100
    if (t - k - d > 0.5 || t - k - d < -0.5) { print NR ": TBDLMJ " $4 " != " $1 " - " $3; exit }
    w = $1 * $2 - $3; if (w < 0) w = -w
    if (w > 0.0051) { print NR ": KCMJ " $3 " != " $1 " * " $2; exit }
    if ($2 > 0 && ($5 !~ /^010[123]$/ || $6 < 2)) { print NR ": KCXS on " $5 " grade " $6; exit }
    if ($7 !~ /^220[12][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]$/) { print NR ": ZLDWDM " $7; exit }
    if ($8 != "10" && $8 != "20" && $8 != "30") { print NR ": QSXZ " $8; exit }
    if ($1 <= 0) { print NR ": TBMJ " $1; exit }
    }' "$T/attr.csv")
[ -z "$bad" ] && pass dltb_area_fields || fail dltb_area_fields "$bad"
set -- $(q "$D" "SELECT count(*) AS n FROM DLTB WHERE KCXS > 0")
check dltb_kcxs_some 'v1 > 100' "$1"
set -- $(q "$D" "SELECT count(DISTINCT DLBM) AS n,
    sum(CASE WHEN DLBM IN ('0101', '0102', '0103') THEN TBMJ ELSE 0 END) / sum(TBMJ) AS c
    FROM DLTB")
check dltb_classes 'v1 >= 15 && v2 > 0.4 && v2 < 0.85' "$1" "$2"

# ---- GBK without .cpg ----
gbk=$(printf '旱地' | iconv -f UTF-8 -t GBK)
LC_ALL=C grep -q "$gbk" "$A/landuse/DLTB.dbf" && pass dbf_is_gbk ||
    fail dbf_is_gbk "no GBK 旱地 in DLTB.dbf"
ogrinfo -q --config SHAPE_ENCODING CP936 -where "DLBM = '0103'" "$D" DLTB 2>/dev/null |
    grep -m1 'DLMC' | grep -q '旱地' && pass dbf_decodes_cp936 ||
    fail dbf_decodes_cp936 "ogrinfo with SHAPE_ENCODING=CP936 does not show 旱地"
ogrinfo -q -where "DLBM = '0103'" "$D" DLTB 2>/dev/null | grep -a -m1 'DLMC' |
    grep -q '旱地' && fail dbf_needs_encoding "decodes without being told GBK" ||
    pass dbf_needs_encoding

# ---- scale, determinism, regenerating in place ----
# A small county first (into B, which the default county then replaces)
ok small_grid "$SYNTH" --cells 60 --seed 5 -o "$B"
set -- $(q "$B/landuse/DLTB.shp" "SELECT count(*) AS n, sum(NOT ST_IsValid(geometry)) AS b FROM DLTB")
check small_grid_parcels 'v1 >= 600 && v1 <= 2000 && v2 == 0' "$1" "$2"
ok small_grid_seed6 "$SYNTH" --cells 60 --seed 6 -o "$T/s6"
cmp -s "$B/landuse/DLTB.shp" "$T/s6/landuse/DLTB.shp" &&
    fail other_seed_differs "seeds 5 and 6 give the same DLTB.shp" || pass other_seed_differs
ok regenerate_in_place "$SYNTH" --seed 42 -o "$B"
same_files=yes
for f in landuse/DLTB.shp landuse/DLTB.shx landuse/DLTB.dbf landuse/DLTB.prj \
    admin/XZQ.geojson plan.gpkg README.txt sites/README.md sites/expected.csv \
    sites/site01.txt sites/site05.txt sites/site08.txt sites/site09.txt \
    sites/site12.txt; do
    cmp -s "$A/$f" "$B/$f" || same_files="no ($f)"
done
[ "$same_files" = yes ] && pass same_seed_same_bytes || fail same_seed_same_bytes "$same_files"
ogrinfo -al -q "$A/plan.gdb" 2>&1 | sed 's|'"$A"'||' >"$T/ga"
ogrinfo -al -q "$B/plan.gdb" 2>&1 | sed 's|'"$B"'||' >"$T/gb"
same same_seed_same_gdb "$T/ga" "$T/gb"

# ---- arguments ----
bad usage_no_output "usage" "$SYNTH" --seed 1
bad usage_bad_cells "cells" "$SYNTH" --cells 5 -o "$T/x"
bad usage_bad_seed "seed" "$SYNTH" --seed abc -o "$T/x"
bad usage_bad_sites "sites" "$SYNTH" --sites 500 -o "$T/x"
