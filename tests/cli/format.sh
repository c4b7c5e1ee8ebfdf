# format.sh — every C source and header is clang-formatted (.clang-format),
# and no banned unsafe function is used in library code.
SUITE=format
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
if ! command -v clang-format >/dev/null; then
    fail clang_format "clang-format missing (scripts/install-deps check)"
    exit 1
fi
bad_files=""
for f in $(git ls-files 'src/*.[ch]' 'include/*.h' 'tests/unit/*.[ch]' \
    'tests/fuzz/*.c' 'tools/*.c' 2>/dev/null); do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad_files="$bad_files $f"
done
if [ -z "$bad_files" ]; then
    pass clang_format
else
    fail clang_format "not formatted (run make format):$bad_files"
fi
# Banned in the library: unbounded string functions and process control.
hits=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atof|exit|abort)\(' \
    $(git ls-files 'src/*.c' | grep -v '^src/cli/') 2>/dev/null |
    grep -v '^\s*/[*/]' | head -5)
if [ -z "$hits" ]; then
    pass banned_functions
else
    fail banned_functions "$(echo "$hits" | tr '\n' '|')"
fi
