# oracle_areak_postgis.sh — the exact area kernel (onemap overlay / stats
# --engine kernel) checked against PostGIS on real data: the 516 communes
# of Bas-Rhin (france-communes, IGN Admin Express COG 2018 / INSEE,
# Licence Ouverte) in EPSG:2154 (Lambert-93), and dissolves of them made
# by PostGIS (ST_Union):
#   Z3  by the first three digits of the INSEE code (6 scattered zones),
#   Z7  by the code mod 7 (7 scattered zones),
#   U   by the code / 200 (3 units, each the union of two Z3 zones),
#   Z7M, UM: Z7 and U moved by (137.31, -91.27) m and (-53.83, 211.69) m,
#   the same shapes in general position against the communes.
# Checked, every cell to 1e-9 relative or 1e-6 m2 against PostGIS
# sum(ST_Area(ST_Intersection(...))) in EPSG:2154 on the same coordinates
# (the project's export):
#  1. communes × Z3 (code × zone): each commune in its own zone, nowhere
#     else (exactly shared edges);
#  2. communes × Z7M split by UM (code × zone × unit: general position);
#  3. Z3 × Z7 (dissolves against dissolves, code × code);
#  4. stats of the communes by UM (unit × code), through onemap stats --by;
#  5. the GEOS engine agrees with the kernel on case 2.
# A throwaway PostgreSQL 15 + PostGIS cluster is started by pg_virtualenv.
SUITE=oracle_areak_postgis
. "$(dirname "$0")/lib.sh"
P=$T/br.gpkg
ok init "$ONEMAP" init "$P" --crs EPSG:2154
ok import_communes "$ONEMAP" import "$P" "$DATA/france-communes/communes-67-bas-rhin.geojson" \
    --as COM --src-crs EPSG:4326
ok export_communes "$ONEMAP" export "$P" COM "$T/com.gpkg"

cat > "$T/pg.sh" <<'X'
set -e
q() { psql -qXAt -F'|' -v ON_ERROR_STOP=1 "$@"; }
q -c 'CREATE EXTENSION postgis' >/dev/null
ogr2ogr -f PostgreSQL PG:"dbname=$PGDATABASE" "$T/com.gpkg" -nln com -lco GEOMETRY_NAME=geom -lco FID=fid -preserve_fid
q -c "CREATE TABLE z3 AS SELECT substr(code, 1, 3) AS g, ST_Multi(ST_Union(geom)) AS geom FROM com GROUP BY 1"
q -c "CREATE TABLE z7 AS SELECT (code::int % 7)::text AS g, ST_Multi(ST_Union(geom)) AS geom FROM com GROUP BY 1"
q -c "CREATE TABLE u AS SELECT (code::int / 200)::text AS g, ST_Multi(ST_Union(geom)) AS geom FROM com GROUP BY 1"
q -c "CREATE TABLE z7m AS SELECT g, ST_Translate(geom, 137.31, -91.27) AS geom FROM z7"
q -c "CREATE TABLE um AS SELECT g, ST_Translate(geom, -53.83, 211.69) AS geom FROM u"
for t in z3 z7 z7m um; do
    ogr2ogr -f GPKG "$T/$t.gpkg" PG:"dbname=$PGDATABASE" -sql "SELECT g, geom FROM $t" -nln $t -a_srs EPSG:2154
done
# area of the polygonal part of an intersection
q -c "CREATE FUNCTION ia(a geometry, b geometry) RETURNS float8 AS
      'SELECT ST_Area(ST_CollectionExtract(ST_Intersection(a, b), 3))' LANGUAGE sql IMMUTABLE"
q -c "SELECT c.code, z.g, sum(ia(c.geom, z.geom)) FROM com c JOIN z3 z ON ST_Intersects(c.geom, z.geom)
      GROUP BY 1, 2 HAVING sum(ia(c.geom, z.geom)) > 1e-6 ORDER BY 1, 2" > "$T/pg_z3"
q -c "SELECT c.code, z.g, u.g, sum(ST_Area(ST_CollectionExtract(ST_Intersection(ST_Intersection(c.geom, z.geom), u.geom), 3)))
      FROM com c JOIN z7m z ON ST_Intersects(c.geom, z.geom) JOIN um u ON ST_Intersects(c.geom, u.geom)
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3" | awk -F'|' '$4 > 1e-6' > "$T/pg_by"
q -c "SELECT a.g, b.g, ia(a.geom, b.geom) FROM z3 a JOIN z7 b ON ST_Intersects(a.geom, b.geom)
      ORDER BY 1, 2" | awk -F'|' '$3 > 1e-6' > "$T/pg_z3z7"
q -c "SELECT u.g, c.code, ia(c.geom, u.geom) FROM com c JOIN um u ON ST_Intersects(c.geom, u.geom)
      ORDER BY 1, 2" | awk -F'|' '$3 > 1e-6' > "$T/pg_stats"
X
if T=$T pg_virtualenv -t -v 15 sh "$T/pg.sh" >"$T/pg.log" 2>&1; then
    pass postgis_run
else
    fail postgis_run "$(tail -c 600 "$T/pg.log" | tr '\n' '|')"
    exit 1
fi

# compare NAME ONEMAP PG: key|...|key|value lines (the value last), 1e-9
# relative or 1e-6 m2; a cell only one side has must be below 1e-6 m2
compare() {
    sort "$2" > "$T/a"
    sort "$3" > "$T/b"
    r=$(awk -F'|' 'function key(  k, i) { k = $1; for (i = 2; i < NF; i++) k = k "|" $i; return k }
        NR == FNR { pg[key()] = $NF; next }
        { k = key(); a = $NF + 0; m++
          if (!(k in pg)) { if (a > 1e-6) { bad++; msg = msg " extra:" k "=" a } ; next }
          b = pg[k] + 0; d = a - b; if (d < 0) d = -d; mx = a > b ? a : b
          if (d > wabs) wabs = d
          if (mx > 1 && d / mx > worst) worst = d / mx
          if (d > 1e-9 * mx && d > 1e-6) { bad++; msg = msg " " k ":" a "/" b }
          seen[k] = 1 }
        END { for (k in pg) if (!(k in seen) && pg[k] > 1e-6) { bad++; msg = msg " missing:" k "=" pg[k] }
              printf "%d %d %.3g %.3g%s\n", bad, m, worst, wabs, substr(msg, 1, 300) }' "$T/b" "$T/a")
    set -- "$1" $r
    if [ "$2" = 0 ] && [ "$3" -gt 0 ]; then
        pass "$1"
        echo "    $1: $3 cells compared, worst relative difference $4 (cells above 1 m2), worst absolute $5 m2" >&2
    else
        fail "$1" "$2 of $3 differ (worst relative $4, absolute $5):$(echo "$r" | cut -d' ' -f5-)"
    fi
}

for t in z3 z7 z7m; do
    T_=$(echo "$t" | tr a-z A-Z)
    ok "import_$t" "$ONEMAP" import "$P" "$T/$t.gpkg" --as "$T_"
done
ok import_um "$ONEMAP" import "$P" "$T/um.gpkg" --as UM --code-field g --name-field g

# cells of a CSV cross-tab: class_a|class_b|area, no totals, no outside
cells() {
    awk -F, 'NR > 1 && $1 != "TOTAL" && $3 != "TOTAL" && $3 != "outside" && $3 != "" {print $1 "|" $3 "|" $NF}' "$1"
}

# 1. communes × Z3: exactly shared edges
ok overlay_z3 "$ONEMAP" overlay "$P" COM Z3 --class-a code --class-b g \
    --area planar --unit m2 --decimals 9 --format csv --engine kernel -j 2
cells "$T/out" > "$T/om_z3"
compare communes_x_z3_vs_postgis "$T/om_z3" "$T/pg_z3"
off=$(awk -F'|' 'substr($1, 1, 3) != $2 && $3 + 0 > 1e-6' "$T/om_z3" | wc -l)
n=$(wc -l < "$T/om_z3")
[ "$off" = 0 ] && [ "$n" = 516 ] && pass z3_diagonal ||
    fail z3_diagonal "$n cells (want 516, one per commune), $off communes in another zone"

# 2. communes × Z7M × UM: general position, three-way
ok overlay_by "$ONEMAP" overlay "$P" COM Z7M --class-a code --class-b g --by UM \
    --area planar --unit m2 --decimals 9 --format csv --engine kernel -j 2
cp "$T/out" "$T/by_kernel.csv"
# unit_code,unit_name,class_a,class_a_name,class_b,class_b_name,features,area_m2
awk -F, 'NR > 1 && $1 != "" && $1 != "TOTAL" && $1 != "outside" && $3 != "TOTAL" &&
    $5 != "TOTAL" && $5 != "outside" && $5 != "" {print $3 "|" $5 "|" $1 "|" $NF}' "$T/by_kernel.csv" > "$T/om_by"
compare communes_x_z7m_by_um_vs_postgis "$T/om_by" "$T/pg_by"

# 3. dissolves against dissolves
ok overlay_z3z7 "$ONEMAP" overlay "$P" Z3 Z7 --class-a g --class-b g \
    --area planar --unit m2 --decimals 9 --format csv --engine kernel -j 2
cells "$T/out" > "$T/om_z3z7"
compare z3_x_z7_vs_postgis "$T/om_z3z7" "$T/pg_z3z7"

# 4. stats --by
ok stats_by "$ONEMAP" stats "$P" COM --class code --by UM --area planar --unit m2 \
    --decimals 9 --format csv --engine kernel -j 2
cp "$T/out" "$T/stats.csv"
# unit_code,unit_name,class,class_name,features,area_m2
awk -F, 'NR > 1 && $1 != "TOTAL" && $1 != "outside" && $1 != "" && $3 != "TOTAL" && $3 != "" {print $1 "|" $3 "|" $NF}' "$T/stats.csv" > "$T/om_stats"
compare stats_by_um_vs_postgis "$T/om_stats" "$T/pg_stats"

# 5. the reference engine on case 2
ok overlay_by_geos "$ONEMAP" overlay "$P" COM Z7M --class-a code --class-b g --by UM \
    --area planar --unit m2 --decimals 9 --format csv --engine geos -j 2
agree kernel_vs_geos_engine "$T/by_kernel.csv" "$T/out"
