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
