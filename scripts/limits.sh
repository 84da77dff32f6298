#!/usr/bin/env bash
# Hostile input at full size: runs crates/cli/tests/all/limits.rs against a
# release build with the issue's sizes (a 100 MB line, a 2 GB file without a
# newline, 10 GB gzip and zstd bombs, 10,000 files), then measures time and
# peak RSS of `baton stats` on the largest cases with /usr/bin/time -v.
#
#   scripts/limits.sh                 # full size
#   BATON_LIMITS_NONEWLINE=512M scripts/limits.sh   # any size overridden
#
# Needs about 2.5 GB free in ${TMPDIR:-/tmp} (the files are removed after).
set -euo pipefail
cd "$(dirname "$0")/.."

export BATON_LIMITS_LINE="${BATON_LIMITS_LINE:-100M}"
export BATON_LIMITS_NONEWLINE="${BATON_LIMITS_NONEWLINE:-2G}"
export BATON_LIMITS_BOMB="${BATON_LIMITS_BOMB:-10G}"
export BATON_LIMITS_FILES="${BATON_LIMITS_FILES:-10000}"
export BATON_LIMITS_TIMEOUT="${BATON_LIMITS_TIMEOUT:-900}"
target="${CARGO_TARGET_DIR:-target}"
baton="$target/dist/baton"
dir="${TMPDIR:-/tmp}/baton-limits-sh-$$"

echo "== $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) cores, $(uname -sr)"
echo "   line $BATON_LIMITS_LINE, no newline $BATON_LIMITS_NONEWLINE," \
    "bombs $BATON_LIMITS_BOMB, files $BATON_LIMITS_FILES"
df -h "${TMPDIR:-/tmp}" | tail -1

echo; echo "== release build"
cargo build --profile dist --locked -p baton-cli

echo; echo "== the limits tests at full size (one at a time, so memory figures are alone)"
start=$(date +%s)
tests=0
cargo test --profile dist --locked -p baton-cli --test all -- limits:: --test-threads=1 --nocapture 2>&1 |
    grep -E '^(test |running|test result)|peak RSS|ratio|files:|round|not checked|skipped|panicked' ||
    tests=$?
echo "   ($(($(date +%s) - start)) s)"

[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: no RSS figures"; exit "$tests"; }
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT

to_bytes() { numfmt --from=iec "$1"; }

# peak NAME FILE: time and peak RSS of `baton stats --format json FILE`.
peak() {
    local name=$1 file=$2 rep
    rep=$(/usr/bin/time -v "$baton" stats --format json "$file" 2>&1 >"$dir/out.json") || true
    local wall rss lines reason
    wall=$(grep 'Elapsed (wall clock)' <<<"$rep" | awk '{print $NF}')
    rss=$(grep 'Maximum resident set size' <<<"$rep" | awk '{print $NF}')
    lines=$(grep -m1 '"lines"' "$dir/out.json" | tr -dc 0-9)
    reason=$(grep -A1 '"skipped_by_reason"' "$dir/out.json" | tail -1 | tr -d ' ,')
    printf '| %s | %s | %s | %.1f | %s %s |\n' "$name" "$(du -h --apparent-size "$file" | cut -f1)" \
        "$wall" "$(echo "$rss / 1024" | bc -l)" "$lines line(s)" "$reason"
}

echo; echo "== building the measured inputs in $dir"
head -c "$(to_bytes "$BATON_LIMITS_NONEWLINE")" /dev/zero | tr '\0' 'x' >"$dir/nonewline.log"
head -c "$(to_bytes "$BATON_LIMITS_NONEWLINE")" /dev/zero >"$dir/nuls.bin"
{
    printf '203.0.113.7 - - [24/Nov/2026:01:00:00 +0000] "GET /'
    head -c "$(to_bytes "$BATON_LIMITS_LINE")" /dev/zero | tr '\0' 'a'
    printf ' HTTP/1.1" 414 0 "-" "-"\n'
} >"$dir/hugeline.log"
# A bomb: copies of one gzip member of 1 GiB of zeros (about 1 MB each).
bomb=$(to_bytes "$BATON_LIMITS_BOMB")
gib=$((1 << 30))
head -c "$gib" /dev/zero | gzip -9 >"$dir/member.gz"
for _ in $(seq 1 $((bomb / gib))); do cat "$dir/member.gz"; done >"$dir/bomb.gz"
rm "$dir/member.gz"
if command -v zstd >/dev/null; then
    head -c "$gib" /dev/zero | zstd -19 -q >"$dir/member.zst"
    for _ in $(seq 1 $((bomb / gib))); do cat "$dir/member.zst"; done >"$dir/bomb.zst"
    rm "$dir/member.zst"
fi
ls -l "$dir"

echo; echo "== baton stats: time and peak RSS (/usr/bin/time -v)"
echo "| input | size on disk | wall (m:ss) | peak RSS (MiB) | read as |"
echo "| --- | ---: | ---: | ---: | --- |"
peak "one $BATON_LIMITS_LINE line" "$dir/hugeline.log"
peak "$BATON_LIMITS_NONEWLINE without a newline" "$dir/nonewline.log"
peak "$BATON_LIMITS_NONEWLINE of NULs" "$dir/nuls.bin"
peak "gzip bomb, $BATON_LIMITS_BOMB of zeros" "$dir/bomb.gz"
[ -f "$dir/bomb.zst" ] && peak "zstd bomb, $BATON_LIMITS_BOMB of zeros" "$dir/bomb.zst"
# The same bomb through a pipe (standard input).
rep=$(/usr/bin/time -v sh -c "cat '$dir/bomb.gz' | '$baton' stats --format json - >/dev/null" 2>&1) || true
echo "| gzip bomb on stdin | | $(grep 'Elapsed (wall' <<<"$rep" | awk '{print $NF}') |" \
    "$(echo "$(grep 'Maximum resident' <<<"$rep" | awk '{print $NF}') / 1024" | bc -l | xargs printf '%.1f') | (max of cat and baton) |"
[ "$tests" = 0 ] || echo "the limits tests failed (above)"
exit "$tests"
