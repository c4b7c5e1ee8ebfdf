#!/bin/sh
# rules_sync.sh — src/rules/default_rules.c is what tools/gen-rules makes of
# data/rules/onemap.yaml today, and gen-rules refuses broken input.
# Prints PASS/FAIL/SKIP lines for tests/run.
cd "$(dirname "$0")/../.." || exit 1
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP rules_sync: python3 not found"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if python3 tools/gen-rules -o "$tmp/default_rules.c" 2>"$tmp/err" &&
    cmp -s "$tmp/default_rules.c" src/rules/default_rules.c; then
    echo "PASS rules_sync:generated_in_sync"
else
    echo "FAIL rules_sync:generated_in_sync: src/rules/default_rules.c is" \
        "stale; run tools/gen-rules ($(cat "$tmp/err"))"
fi

if python3 tools/gen-rules -o "$tmp/a.c" && python3 tools/gen-rules -o "$tmp/b.c" &&
    cmp -s "$tmp/a.c" "$tmp/b.c"; then
    echo "PASS rules_sync:deterministic"
else
    echo "FAIL rules_sync:deterministic: two runs differ"
fi

# each broken copy must be refused with a message naming the file
check_rejects() { # name printf-or-sed kind arg
    cp data/rules/onemap.yaml "$tmp/r.yaml"
    case $2 in
    sed) sed -i "$3" "$tmp/r.yaml" ;;
    append) printf "$3" >>"$tmp/r.yaml" ;;
    esac
    rm -f "$tmp/bad.c"
    if python3 tools/gen-rules -o "$tmp/bad.c" "$tmp/r.yaml" 2>"$tmp/err"; then
        echo "FAIL rules_sync:rejects_$1: gen-rules accepted it"
    elif [ -e "$tmp/bad.c" ]; then
        echo "FAIL rules_sync:rejects_$1: output written despite the error"
    elif grep -q "gen-rules: .*r.yaml" "$tmp/err"; then
        echo "PASS rules_sync:rejects_$1"
    else
        echo "FAIL rules_sync:rejects_$1: message: $(cat "$tmp/err")"
    fi
}
check_rejects tab sed 's/^  - id: R001/\t- id: R001/'
check_rejects not_utf8 append '# \262\273\312\307 UTF-8\n'
check_rejects crlf sed 's/^version: 1$/version: 1\r/'
check_rejects no_final_newline append '# end'
exit 0
