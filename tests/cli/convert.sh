# convert.sh — `onemap convert`: 部标 TXT -> GPKG -> TXT round trip (point
# numbers, attributes, coordinates to the file's precision), the CRS seen by
# GDAL's ogrinfo, Shapefile in CGCS2000 lon/lat -> TXT in zone 42 (checked
# against the original to 1 mm), warnings and errors with line numbers.
SUITE=convert
. "$(dirname "$0")/lib.sh"
B=$FIX/bbtxt

# the [地块坐标] section of a TXT, UTF-8, LF, coordinates to 3 decimals
coords() {
    iconv -f GB18030 -t UTF-8 "$1" | tr -d '\r' |
        awk -F, '/^\[地块坐标\]/ { on = 1; next }
                 on && /^J/ { printf "%s,%s,%.3f,%.3f\n", $1, $2, $3, $4; next }
                 on { print }'
}

ok txt_to_gpkg "$ONEMAP" convert "$B/typical_gbk.txt" "$T/a.gpkg"
grep -q "2 parcels" "$T/out" && pass txt_to_gpkg_count || fail txt_to_gpkg_count "$(cat "$T/out")"
if ogrinfo -so "$T/a.gpkg" typical_gbk 2>&1 | grep -q 'ID\["EPSG",4530\]\]$'; then
    pass ogrinfo_epsg_4530
else
    fail ogrinfo_epsg_4530 "$(ogrinfo -so "$T/a.gpkg" typical_gbk 2>&1 | tail -5)"
fi
ogrinfo -q "$T/a.gpkg" -sql "SELECT DKMC, DKMJ_HA, DLBM FROM typical_gbk ORDER BY fid" \
    >"$T/attr" 2>&1
if grep -q "DKMC (String) = 长春市某建设项目一号地块" "$T/attr" &&
    grep -q "DKMJ_HA (Real) = 1.25" "$T/attr" && grep -q "DLBM (String) = 1003" "$T/attr"; then
    pass gpkg_attributes_gbk_decoded
else
    fail gpkg_attributes_gbk_decoded "$(head -c 400 "$T/attr")"
fi

ok gpkg_to_txt "$ONEMAP" convert "$T/a.gpkg" "$T/b.txt"
coords "$B/typical_gbk.txt" >"$T/c0"
coords "$T/b.txt" >"$T/c1"
same round_trip_coords_numbers_attrs "$T/c0" "$T/c1"
if iconv -f GBK -t UTF-8 "$T/b.txt" >/dev/null 2>&1 && grep -q "$(printf '\r')$" "$T/b.txt"; then
    pass txt_is_gbk_crlf
else
    fail txt_is_gbk_crlf "not GBK with CRLF"
fi
grep -q "^带号=42" "$T/c1" 2>/dev/null || true
iconv -f GBK -t UTF-8 "$T/b.txt" | grep -q "^带号=42" && pass txt_zone_key || fail txt_zone_key "no 带号=42"

bad txt_exists "exists" "$ONEMAP" convert "$T/a.gpkg" "$T/b.txt"
ok txt_overwrite "$ONEMAP" convert "$T/a.gpkg" "$T/b.txt" --overwrite --utf8
if iconv -f UTF-8 -t UTF-8 "$T/b.txt" >/dev/null 2>&1 && grep -q "长春市" "$T/b.txt"; then
    pass txt_utf8
else
    fail txt_utf8 "not UTF-8"
fi

# Shapefile in CGCS2000 lon/lat -> TXT in zone 42: back to the same numbers
# (a shapefile stores shells clockwise: compare the sorted vertex sets)
if ogr2ogr -lco ENCODING=UTF-8 -t_srs EPSG:4490 "$T/site.shp" "$T/a.gpkg" >/dev/null 2>&1; then
    ok shp_to_txt_zone "$ONEMAP" convert "$T/site.shp" "$T/s.txt" --zone 42
    coords "$T/s.txt" >"$T/c2"
    grep '^J' "$T/c0" | cut -d, -f3,4 | sort -u >"$T/v0"
    grep '^J' "$T/c2" | cut -d, -f3,4 | sort -u >"$T/v2"
    if [ "$(wc -l <"$T/v0")" -eq 9 ] && paste -d, "$T/v0" "$T/v2" | awk -F, '{
            d = $1 - $3; if (d < 0) d = -d; e = $2 - $4; if (e < 0) e = -e;
            if (d > 0.001 || e > 0.001) bad = 1; n++ }
            END { exit bad || n != 9 }'; then
        pass shp_to_txt_reprojected_1mm
    else
        fail shp_to_txt_reprojected_1mm "$(paste -d, "$T/v0" "$T/v2" | head -5)"
    fi
    grep -v '^J' "$T/c0" | grep -v '^精度\|^格式\|^数据' >"$T/h0"
    grep -v '^J' "$T/c2" | grep -v '^精度\|^格式\|^数据' >"$T/h2"
    same shp_to_txt_parcel_lines "$T/h0" "$T/h2"
    ok shp_to_txt_auto_zone "$ONEMAP" convert "$T/site.shp" "$T/s2.txt"
    coords "$T/s2.txt" | grep -c '^J' | grep -q '^11$' &&
        pass shp_auto_zone_points || fail shp_auto_zone_points "point count"
    ok shp_to_txt_zone41 "$ONEMAP" convert "$T/site.shp" "$T/s41.txt" --zone 41
    iconv -f GBK -t UTF-8 "$T/s41.txt" | grep -q "^J1,1,[0-9.]*,41" &&
        pass zone41_prefix || fail zone41_prefix "no 41 prefix"
else
    fail shp_setup "ogr2ogr failed"
fi

# warnings (bilingual) and errors with line numbers
ok warn_zone "$ONEMAP" convert "$B/wrong_zone.txt" "$T/w.gpkg"
grep -q "带号=41 but eastings start with 42: using zone 42" "$T/err" &&
    pass warn_zone_message || fail warn_zone_message "$(cat "$T/err")"
ok warn_zh "$ONEMAP" --lang zh convert "$B/area_mismatch.txt" "$T/w2.gpkg"
grep -q "警告.*申报面积 2.5000 公顷" "$T/err" && pass warn_zh_message ||
    fail warn_zh_message "$(cat "$T/err")"
bad bad_number "typical|bad_number.txt:16: .*bad number X" \
    "$ONEMAP" convert "$B/bad_number.txt" "$T/x.gpkg"
bad bad_self_intersect "bad_self_intersect.txt:19: .*DK2: invalid boundary" \
    "$ONEMAP" convert "$B/bad_self_intersect.txt" "$T/x.gpkg"
bad bad_no_section "missing \[地块坐标\]" \
    "$ONEMAP" convert "$B/bad_no_section.txt" "$T/x.gpkg"
bad bad_zone_arg "zone" "$ONEMAP" convert "$B/typical_gbk.txt" "$T/y.txt" --zone 99

# ellipsoidal area against GeographicLib's Planimeter (CGCS2000 ellipsoid),
# vertices to lon/lat by gdaltransform: hole.txt = outer ring - ring 2
ok areas_hole "$ONEMAP" convert "$B/hole.txt" "$T/h.gpkg"
ell=$(sed -n 's/.* m² planar, \([0-9.]*\) m² ellipsoidal.*/\1/p' "$T/out")
ring_area() { # ring number -> |area| m² by Planimeter
    iconv -f GBK -t UTF-8 "$B/hole.txt" | tr -d '\r' |
        awk -F, -v r="$1" '/^J/ && $2 == r { print $4, $3 }' |
        gdaltransform -s_srs EPSG:4530 -t_srs EPSG:4490 -output_xy |
        awk '{ printf "%.12f %.12f\n", $2, $1 }' |
        Planimeter -e 6378137 0.003352810681182319 -p 9 |
        awk '{ a = $3; if (a < 0) a = -a; print a }'
}
if command -v Planimeter >/dev/null && command -v gdaltransform >/dev/null; then
    a1=$(ring_area 1)
    a2=$(ring_area 2)
    oracle=$(awk -v a="$a1" -v b="$a2" 'BEGIN { printf "%.6f", a - b }')
    near ellipsoidal_area_vs_planimeter "$ell" "$oracle" 1e-7
    near planar_area_closed_form "$(sed -n 's/.*: \([0-9.]*\) m² planar.*/\1/p' "$T/out")" 37500 1e-12
else
    echo "SKIP $SUITE:ellipsoidal_area_vs_planimeter: no Planimeter/gdaltransform"
fi
