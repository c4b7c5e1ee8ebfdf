# lib.sh — sourced by tests/cli/*.sh. Each test prints one line:
#   PASS <suite>:<name>      or      FAIL <suite>:<name>: <why>
# Needs: ONEMAP (path of the CLI), SUITE (set by the script).
: "${ONEMAP:?ONEMAP must point at the onemap binary}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DATA=${ONEMAP_SHARED_DATA:-$ROOT/../shared/data}
FIX=$ROOT/tests/data
T=$(mktemp -d "${TMPDIR:-/tmp}/onemap-cli-XXXXXX")
trap 'rm -rf "$T"' EXIT
export LANG=C.UTF-8 ONEMAP_LANG=en

pass() { echo "PASS $SUITE:$1"; }
fail() { echo "FAIL $SUITE:$1: $2"; }

# ok NAME CMD... : the command succeeds (its output is kept in $T/out, $T/err)
ok() {
    n=$1
    shift
    if "$@" >"$T/out" 2>"$T/err"; then
        pass "$n"
    else
        fail "$n" "exit $?: $(head -c 400 "$T/err")"
    fi
}

# bad NAME PATTERN CMD... : the command fails (exit != 0, no crash) and its
# stderr matches PATTERN (grep -E)
bad() {
    n=$1
    pat=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        fail "$n" "succeeded but should have failed"
    elif [ "$rc" -ge 128 ]; then
        fail "$n" "crashed (exit $rc): $(head -c 300 "$T/err")"
    elif ! grep -Eq "$pat" "$T/err"; then
        fail "$n" "stderr does not match /$pat/: $(head -c 300 "$T/err")"
    else
        pass "$n"
    fi
}

# same NAME FILE_EXPECTED FILE_ACTUAL
same() {
    if diff -u "$2" "$3" >"$T/diff" 2>&1; then
        pass "$1"
    else
        fail "$1" "differs: $(head -c 600 "$T/diff" | tr '\n' '|')"
    fi
}

# near NAME A B RELTOL : |A-B| <= RELTOL*max(|A|,|B|)
near() {
    if awk -v a="$2" -v b="$3" -v r="$4" 'BEGIN {
        d = a - b; if (d < 0) d = -d;
        m = a < 0 ? -a : a; mb = b < 0 ? -b : b; if (mb > m) m = mb;
        exit !(d <= r * m) }'; then
        pass "$1"
    else
        fail "$1" "$2 vs $3 differ by more than $4 relative"
    fi
}

# agree NAME FILE_KERNEL FILE_GEOS : two CSV outputs of the same command
# with --engine kernel and --engine geos (area in the last column) have the
# same number of lines, at least 5 rows, every column but the area
# identical, and areas within 1e-9 relative or 1e-6 absolute (m2 with
# --unit m2)
agree() {
    an=$1
    nk=$(wc -l < "$2")
    ng=$(wc -l < "$3")
    r=$(awk -F, 'NR == FNR { k[FNR] = $0; next }
        { n++; a = k[FNR]; m = split(a, x, ","); split($0, y, ",")
          ka = a; sub(/,[^,]*$/, "", ka); kb = $0; sub(/,[^,]*$/, "", kb)
          d = x[m] - y[m]; if (d < 0) d = -d
          s = y[m] < 0 ? -y[m] : y[m]
          if (d > worst) worst = d
          if (ka != kb || !(d <= 1e-9 * s || d <= 1e-6)) {
              bad++; if (bad <= 3) msg = msg " [" a " | " $0 "]" } }
        END { printf "%d %d %g%s", bad, n, worst, msg }' "$2" "$3")
    set -- $r
    if [ "$1" = 0 ] && [ "$nk" = "$ng" ] && [ "$2" -ge 5 ]; then
        pass "$an"
    else
        fail "$an" "kernel $nk lines, geos $ng; bad rows, rows, worst diff (m2): $r"
    fi
}
