#!/usr/bin/env bash
# Renders `baton report --format html` in headless Chromium and checks what
# a reader would see: a PNG screenshot that is not blank and shows the
# charts' bars, and the DOM as the browser built it, with the overview chart,
# one chart and one section per incident, and no script.
#
#   scripts/screenshot.sh [--out DIR] [--png FILE] [--size WxH] [PATHS...]
#
# PATHS default to testdata/sample. Writes DIR/report.html, DIR/dom.html and
# the PNG (default DIR/report.png; DIR defaults to target/screenshot). The
# README's picture is made with:
#
#   scripts/screenshot.sh --png docs/report.png --size 1200x1400 testdata/sample
#
# Exit status: 0 checks passed, 1 a check failed, 2 no Chromium (install
# Debian's `chromium` package) or bad usage.
set -euo pipefail
cd "$(dirname "$0")/.."

out=target/screenshot
png=
size=1200x1400
paths=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        --png) png=$2; shift 2 ;;
        --size) size=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        -*) echo "screenshot.sh: unknown option $1" >&2; exit 2 ;;
        *) paths+=("$1"); shift ;;
    esac
done
[ ${#paths[@]} -gt 0 ] || paths=(testdata/sample)
[ -n "$png" ] || png=$out/report.png
case "$size" in
    [0-9]*x[0-9]*) ;;
    *) echo "screenshot.sh: --size is WIDTHxHEIGHT, e.g. 1200x1400" >&2; exit 2 ;;
esac

chrome=
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" > /dev/null; then chrome=$c; break; fi
done
if [ -z "$chrome" ]; then
    echo "screenshot.sh: no chromium on PATH (apt-get install chromium)" >&2
    exit 2
fi

mkdir -p "$out" "$(dirname "$png")"
html=$out/report.html
dom=$out/dom.html
cargo run --locked --quiet -p baton-cli -- report --format html -o "$html" "${paths[@]}"
json=$out/report.json
cargo run --locked --quiet -p baton-cli -- report --format json -o "$json" "${paths[@]}"

# A fresh profile, no background traffic: the page must need no network.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browse() {
    "$chrome" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor=1 \
        --run-all-compositor-stages-before-draw "$@" 2> "$out/chromium.log"
}
url="file://$(realpath "$html")"
browse --window-size="${size/x/,}" --screenshot="$png" "$url" > /dev/null
browse --dump-dom "$url" > "$dom"

python3 - "$png" "$dom" "$json" << 'EOF'
"""Checks the screenshot's pixels and the browser's DOM."""
import json
import re
import struct
import sys
import zlib

png_path, dom_path, json_path = sys.argv[1:4]
failures = []


def pixels(path):
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat = 8, b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or color not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, color {color})")
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
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
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


w, h, bpp, rows = pixels(png_path)
ink = red = 0
for row in rows:
    for i in range(0, len(row), bpp * 2):  # every other pixel is enough
        r, g, b = row[i], row[i + 1], row[i + 2]
        if r < 235 or g < 235 or b < 235:
            ink += 1
        # The 502 bars' colour (#d1242f), give or take antialiasing.
        if abs(r - 0xD1) < 12 and abs(g - 0x24) < 12 and abs(b - 0x2F) < 12:
            red += 1
sampled = w * h // 2
print(f"screenshot {w}x{h}: {100 * ink / sampled:.1f}% ink, {red} sampled pixels of 502 bars")
if ink < sampled * 0.02:
    failures.append("the screenshot is blank")

report = json.load(open(json_path))
n = len(report["incidents"])
if report["totals"]["status_502"] > 0 and red < 20:
    failures.append("no 502 bars painted in the screenshot")

dom = open(dom_path, encoding="utf-8").read()
checks = {
    "overview chart": len(re.findall(r'<svg class="chart overview"', dom)) == 1,
    "one zoomed chart per incident": len(re.findall(r'<svg class="chart zoom"', dom)) == n,
    "one section per incident": len(re.findall(r'<details class="incident', dom)) == n,
    "charts closed (no element swallowed its siblings)": dom.count("<svg") == dom.count("</svg>"),
    "bars drawn": report["totals"]["gateway_errors"] == 0 or '<g class="bar" ' in dom,
    "no script": "<script" not in dom.lower(),
    "headline": "baton report" in dom,
}


def attr(el, key):
    m = re.search(r'\s' + key + r'="([^"]*)"', el[: el.index(">")])
    return float(m.group(1))


# Charts true to time, as the browser built them: every bar inside its own
# minute, every band labelled, the overview ending where the data ends.
bars_ok = labels_ok = True
bars = 0
for m in re.finditer(r'<svg class="chart (\w+)"', dom):
    svg = dom[m.start(): dom.index("</svg>", m.start())]
    lo, hi = attr(svg, "data-from"), attr(svg, "data-to")
    x0, x1 = attr(svg, "data-x0"), attr(svg, "data-x1")

    def x(t):
        return x0 + (min(max(t, lo), hi) - lo) / (hi - lo) * (x1 - x0)

    for g in re.finditer(r'<g class="bar" ', svg):
        el = svg[g.start():]
        t, end = attr(el, "data-t"), attr(el, "data-end")
        rect = el[el.index("<rect "):]
        bx, bw = attr(rect, "x"), attr(rect, "width")
        bars += 1
        if bx < x(t) - 0.05 or bx + bw > x(end) + 0.05:
            bars_ok = False
            print(f"bar of {t:.0f} at x {bx}..{bx + bw}, its minute is {x(t):.1f}..{x(end):.1f}")
    for b in re.finditer(r'<a href="#incident-(\d+)">', svg):
        if f">#{b.group(1)}</text>" not in svg:
            labels_ok = False
            print(f"incident #{b.group(1)}'s band has no label")
    if m.group(1) == "overview" and report["window"]["start"]:
        import math
        from datetime import datetime

        ws = datetime.fromisoformat(report["window"]["start"]).timestamp()
        we = datetime.fromisoformat(report["window"]["end"]).timestamp()
        # The axis runs over whole seconds: from the first one read to
        # the end of the last one.
        if we - ws >= 60 and (lo, hi) != (math.floor(ws), math.floor(we) + 1):
            checks["overview axis ends where the data ends"] = False
checks["every bar inside its minute"] = bars_ok and (bars > 0 or report["totals"]["gateway_errors"] == 0)
checks["every incident band labelled"] = labels_ok
print(f"dom: {bars} bars checked against their minutes")

for what, ok in checks.items():
    print(f"dom: {what}: {'ok' if ok else 'FAILED'}")
    if not ok:
        failures.append(f"dom: {what}")
if failures:
    print("screenshot.sh: " + "; ".join(failures), file=sys.stderr)
    sys.exit(1)
EOF
echo "screenshot.sh: $png and $dom look right"
