#!/bin/sh
# codes_sync.sh — src/rules/codes_data.c is what tools/gen-codes makes of
# data/codes/ today, and gen-codes rejects broken tables.
# Prints PASS/FAIL/SKIP lines for tests/run.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP codes_sync: python3 not found"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if python3 tools/gen-codes -o "$tmp/codes_data.c" 2>"$tmp/err" &&
    cmp -s "$tmp/codes_data.c" src/rules/codes_data.c; then
    echo "PASS codes_sync:generated_in_sync"
else
    echo "FAIL codes_sync:generated_in_sync: src/rules/codes_data.c is" \
        "stale; run tools/gen-codes ($(cat "$tmp/err"))"
fi

if python3 tools/gen-codes -o "$tmp/a.c" && python3 tools/gen-codes -o "$tmp/b.c" &&
    cmp -s "$tmp/a.c" "$tmp/b.c"; then
    echo "PASS codes_sync:deterministic"
else
    echo "FAIL codes_sync:deterministic: two runs differ"
fi

# each broken copy of the tables must be refused with a message
check_rejects() { # name sed-script file
    rm -rf "$tmp/data"
    cp -r data/codes "$tmp/data"
    sed -i "$2" "$tmp/data/$3"
    if python3 tools/gen-codes -o "$tmp/bad.c" "$tmp/data" 2>"$tmp/err"; then
        echo "FAIL codes_sync:rejects_$1: gen-codes accepted it"
    elif [ -e "$tmp/bad.c" ]; then
        echo "FAIL codes_sync:rejects_$1: output written despite the error"
    elif grep -q "gen-codes: .*$3" "$tmp/err"; then
        echo "PASS codes_sync:rejects_$1"
    else
        echo "FAIL codes_sync:rejects_$1: message: $(cat "$tmp/err")"
    fi
}
check_rejects duplicate '/^0102,/s/^0102,/0101,/' dlbm.csv
check_rejects bad_parent '/^0101,/s/,01,01,/,0X,01,/' dlbm.csv
check_rejects bad_stat_class '/^0303,/s/,03,00,/,03,0303,/' dlbm.csv
check_rejects unknown_group '/^0101,/s/cultivated/cultivatd/' dlbm.csv
check_rejects xwalk_target '/^0101,/s/^0101,0101/0101,0199/' dlbm_ydyh.csv
check_rejects xwalk_source '/^0101,/s/^0101,/0199,/' dlbm_ydyh.csv
check_rejects ydyh_parent '/^070101,/s/,0701,07,/,0702,07,/' ydyh.csv
exit 0
