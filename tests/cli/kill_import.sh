# kill_import.sh — an import killed with SIGKILL at any moment leaves the
# project database exactly as before: same catalogue, same tables, and
# SQLite's integrity check passes. The kill is tried at many moments
# spread over the duration of a full import.
SUITE=kill_import
. "$(dirname "$0")/lib.sh"
SYNTH=${BUILD:-$ROOT/build}/tools/synth
if [ ! -x "$SYNTH" ]; then
    fail setup "no synth tool at $SYNTH"
    exit 1
fi
"$SYNTH" --seed 7 -o "$T/data" >/dev/null 2>&1 || { fail setup "synth failed"; exit 1; }
SRC=$T/data/landuse/DLTB.shp
P=$T/p.gpkg
ok init "$ONEMAP" init "$P" --crs EPSG:4530
ok first_import "$ONEMAP" import "$P" "$T/data/admin/XZQ.geojson" --as XZQ
state() {
    sqlite3 "$P" "SELECT type, name FROM sqlite_master ORDER BY name;
                  SELECT * FROM om_layers ORDER BY 1;
                  SELECT count(*) FROM gpkg_contents;" 2>&1
}
state > "$T/before"
# kill_at SRC TAG ARGS...: time one full import of SRC into a scratch
# copy, then kill imports of it at moments spread over that time.
kill_at() {
SRC=$1; TAG=$2; shift 2
cp "$P" "$T/scratch.gpkg"
t0=$(date +%s%N)
"$ONEMAP" import "$T/scratch.gpkg" "$SRC" --as DLTB "$@" >/dev/null 2>&1
t1=$(date +%s%N)
full_ms=$(( (t1 - t0) / 1000000 ))
[ "$full_ms" -gt 0 ] || full_ms=100
want=$(sqlite3 "$T/scratch.gpkg" "SELECT nfeatures FROM om_layers WHERE code='DLTB' ORDER BY version DESC LIMIT 1")
killed=0
for pct in 5 15 25 35 45 55 65 75 85 92 97; do
    ms=$(( full_ms * pct / 100 ))
    "$ONEMAP" import "$P" "$SRC" --as DLTB "$@" >/dev/null 2>&1 &
    pid=$!
    sleep "$(awk -v m="$ms" 'BEGIN { printf "%.3f", m / 1000 }')"
    if kill -9 "$pid" 2>/dev/null; then
        killed=$((killed + 1))
    fi
    wait "$pid" 2>/dev/null
    state > "$T/after"
    integrity=$(sqlite3 "$P" "PRAGMA integrity_check" 2>&1)
    n=$(sqlite3 "$P" "SELECT count(*) FROM om_layers WHERE code='DLTB'")
    if [ "$integrity" != ok ]; then
        fail "${TAG}kill_at_${pct}pct" "integrity check after kill -9 at ${ms} ms: $integrity"
        exit 1
    fi
    if [ "$n" = "$ndltb" ]; then
        if ! diff -q "$T/before" "$T/after" >/dev/null; then
            fail "${TAG}kill_at_${pct}pct" "database changed after kill -9 at ${ms} ms"
            diff "$T/before" "$T/after" | head -20 | sed 's/^/    /'
            exit 1
        fi
    elif [ "$n" = $((ndltb + 1)) ]; then
        # The import committed before the kill landed: it must be complete.
        tab=$(sqlite3 "$P" "SELECT table_name FROM om_layers WHERE code='DLTB' ORDER BY version DESC LIMIT 1")
        got=$(sqlite3 "$P" "SELECT count(*) FROM \"$tab\"")
        if [ "$got" != "$want" ]; then
            fail "${TAG}kill_at_${pct}pct" "committed version has $got of $want features"
            exit 1
        fi
        ndltb=$n
        cp "$T/after" "$T/before"
    else
        fail "${TAG}kill_at_${pct}pct" "DLTB versions went from $ndltb to $n"
        exit 1
    fi
    pass "${TAG}kill_at_${pct}pct"
done
[ "$killed" -ge 5 ] && pass "${TAG}enough_kills" || fail "${TAG}enough_kills" "only $killed imports were killed (full import ${full_ms} ms)"
}
ndltb=0
kill_at "$SRC" "" --encoding GBK
ok import_after_kills "$ONEMAP" import "$P" "$SRC" --as DLTB --encoding GBK
# The same with the GeoPackage, in the project's CRS: a streamed import
# (rows read, written and checked at once, in chunks).
ndltb=$(sqlite3 "$P" "SELECT count(*) FROM om_layers WHERE code='DLTB'")
state > "$T/before"
kill_at "$T/data/landuse/DLTB_2024.gpkg" "streamed_"
ok streamed_import_after_kills "$ONEMAP" import "$P" "$T/data/landuse/DLTB_2024.gpkg" --as DLTB
ok layers_after "$ONEMAP" layers "$P"
