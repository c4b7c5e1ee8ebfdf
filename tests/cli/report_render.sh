# report_render.sh — render the demo HTML report (written by the
# test_report unit test from sf/nc.shp) with headless chromium and check
# the screenshot: a real PNG of the requested size, with the highlighted
# (red) counties of the map, dark text and many colours (anti-aliased map
# and text, not a blank or error page). SKIP when chromium, the test binary
# or the data are absent.
SUITE=report_render
. "$(dirname "$0")/lib.sh"

bin=${BUILD:-$ROOT/build}/tests/test_report
if ! command -v chromium >/dev/null 2>&1; then
    echo "SKIP $SUITE: chromium is not installed"
    exit 0
fi
if [ ! -x "$bin" ] || [ ! -f "$DATA/sf/nc.shp" ]; then
    echo "SKIP $SUITE: no $bin or no $DATA/sf/nc.shp"
    exit 0
fi

html=$T/demo.html
ONEMAP_REPORT_DEMO=$html "$bin" >"$T/unit" 2>&1
if [ -s "$html" ] && grep -q "PASS test_report.c:test_demo_report" "$T/unit"; then
    pass demo_written
else
    fail demo_written "$(grep FAIL "$T/unit" | head -c 400)"
    exit 0
fi

profile=$(mktemp -d "${TMPDIR:-/tmp}/onemap-chromium-XXXXXX")
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" \
    --screenshot="$T/shot.png" --window-size=1000,1300 "file://$html" \
    >"$T/chromium.log" 2>&1
rm -rf "$profile"
if [ -s "$T/shot.png" ]; then
    pass screenshot
else
    fail screenshot "no PNG: $(tail -c 300 "$T/chromium.log")"
    exit 0
fi

# Decode the PNG with the standard library only and count pixel classes.
python3 - "$T/shot.png" >"$T/png" 2>&1 <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG type"
        bpp = 3 if ctype == 2 else 4
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, red, dark = set(), 0, 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        for i in range(stride):
            line[i] = (line[i] + prev[i]) & 255
    elif f == 3:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((a + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            r, g, b = line[x], line[x + 1], line[x + 2]
            colours.add((r, g, b))
            if r > 190 and g < 160 and b < 160 and r - g > 60:
                red += 1
            if r < 90 and g < 90 and b < 90:
                dark += 1
    prev = line
print(w, h, len(colours), red, dark)
EOF
read -r w h ncol red dark <"$T/png" || true
if [ "${w:-0}" = 1000 ] && [ "${h:-0}" = 1300 ]; then
    pass png_size
else
    fail png_size "$(head -c 300 "$T/png")"
    exit 0
fi
# Sampled every 2nd pixel each way: the 6 red counties cover ~2% of the
# map, text and outlines give hundreds of dark samples.
[ "$red" -gt 1000 ] && pass map_highlight || fail map_highlight "$red red samples"
[ "$dark" -gt 300 ] && pass text_dark || fail text_dark "$dark dark samples"
[ "$ncol" -gt 50 ] && pass many_colours || fail many_colours "$ncol colours"

# ---- the compliance review report (om_review_report_html) ----
# The test_review_report unit test writes its reports (real engine on a
# small project: a failing site) into a directory; chromium renders the
# top of one (the red 不通过 badge must show) and prints it to PDF (A4
# pages, more than one: maps and the 界址点成果表 start new pages).
rbin=${BUILD:-$ROOT/build}/tests/test_review_report
if [ ! -x "$rbin" ]; then
    echo "SKIP $SUITE: no $rbin"
    exit 0
fi
mkdir -p "$T/rr"
ONEMAP_REVIEW_REPORT_DEMO=$T/rr "$rbin" >"$T/runit" 2>&1
if [ -s "$T/rr/engine.html" ] &&
    grep -q "PASS test_review_report.c:test_engine" "$T/runit"; then
    pass review_demo_written
else
    fail review_demo_written "$(grep FAIL "$T/runit" | head -c 400)"
    exit 0
fi
profile=$(mktemp -d "${TMPDIR:-/tmp}/onemap-chromium-XXXXXX")
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" \
    --screenshot="$T/rshot.png" --window-size=1000,1300 \
    "file://$T/rr/engine.html" >"$T/chromium.log" 2>&1
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$profile" \
    --print-to-pdf="$T/review.pdf" --no-pdf-header-footer \
    "file://$T/rr/engine.html" >>"$T/chromium.log" 2>&1
rm -rf "$profile"
# Pixels of the badge colour #c62828, sampled every 2nd pixel each way.
python3 - "$T/rshot.png" >"$T/rpng" 2>&1 <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8 and ctype in (2, 6), "unexpected PNG type"
        bpp = 3 if ctype == 2 else 4
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
badge = 0
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1:
            line[i] = (line[i] + a) & 255
        elif f == 2:
            line[i] = (line[i] + b) & 255
        elif f == 3:
            line[i] = (line[i] + ((a + b) >> 1)) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            r, g, b = line[x], line[x + 1], line[x + 2]
            if abs(r - 198) < 20 and abs(g - 40) < 25 and abs(b - 40) < 25:
                badge += 1
    prev = line
print(badge)
PY
read -r badge <"$T/rpng" || true
[ "${badge:-0}" -gt 500 ] 2>/dev/null && pass review_badge_red ||
    fail review_badge_red "$(head -c 300 "$T/rpng")"
pages=$(grep -a -o "/MediaBox \[0 0 59[45]\.[0-9]* 841\.[0-9]*\]" \
    "$T/review.pdf" 2>/dev/null | wc -l)
if head -c 5 "$T/review.pdf" 2>/dev/null | grep -q "%PDF" &&
    [ "${pages:-0}" -ge 2 ]; then
    pass review_pdf_a4
else
    fail review_pdf_a4 "pages=$pages: $(tail -c 300 "$T/chromium.log")"
fi
