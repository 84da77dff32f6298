#!/usr/bin/env bash
# End-to-end benchmark: `baton stats` beside wc -l, mawk and rg on the same
# files, in the same run. Prints one Markdown table with throughput, peak
# memory and ratios, headed by the date, machine and commands.
#
#   benches/e2e.sh [SIZE]          SIZE like 64M, 1G, 4G (default 1G)
#
# Environment: BATON_BENCH_DIR (default bench-data), BATON_BENCH_RUNS (best
# of N, default 3). The data is built by `make-bench-log` from the vendored
# fixtures in testdata/ (real lines, timestamps shifted) and reused when it
# already has the right size.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${1:-1G}
DIR=${BATON_BENCH_DIR:-bench-data}
RUNS=${BATON_BENCH_RUNS:-3}
case "$SIZE" in
  *G) BYTES=$(( ${SIZE%G} * 1024 * 1024 * 1024 )) ;;
  *M) BYTES=$(( ${SIZE%M} * 1024 * 1024 )) ;;
  *K) BYTES=$(( ${SIZE%K} * 1024 )) ;;
  *) BYTES=$SIZE ;;
esac

ACCESS_SAMPLES=(testdata/bench/access.combined.sample)
ERROR_SAMPLES=(testdata/bench/error.sample)

cargo build --quiet --release --locked -p baton-cli -p baton-benches --bin baton --bin make-bench-log
BATON=target/release/baton
MAKE=target/release/make-bench-log
mkdir -p "$DIR"
ACCESS="$DIR/access-$SIZE.log"
ERROR="$DIR/error-$SIZE.log"
size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
[ "$(size_of "$ACCESS")" -ge "$BYTES" ] || "$MAKE" access "$BYTES" "$ACCESS" "${ACCESS_SAMPLES[@]}"
[ "$(size_of "$ERROR")" -ge "$BYTES" ] || "$MAKE" error "$BYTES" "$ERROR" "${ERROR_SAMPLES[@]}"
cat "$ACCESS" "$ERROR" > /dev/null   # page-cache both

# measure NAME FILE CMD...: the fastest of RUNS runs (hyperfine when
# installed, else /usr/bin/time), and peak RSS from /usr/bin/time -v.
declare -A SECS RSS BYTES_OF
ORDER=()
measure() {
  local name=$1 file=$2; shift 2
  local best="" peak
  if command -v hyperfine > /dev/null; then
    local q
    q=$(printf '%q ' "$@")
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$DIR/hf.json" "$q" > /dev/null 2>&1
    best=$(python3 -c 'import json,sys; print(min(json.load(open(sys.argv[1]))["results"][0]["times"]))' "$DIR/hf.json")
  else
    for _ in $(seq "$RUNS"); do
      local s
      s=$( { /usr/bin/time -f '%e' "$@" > /dev/null; } 2>&1 | tail -n 1 )
      if [ -z "$best" ] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$s; fi
    done
  fi
  peak=$( { /usr/bin/time -f '%M' "$@" > /dev/null; } 2>&1 | tail -n 1 )
  SECS[$name]=$best; RSS[$name]=$peak; BYTES_OF[$name]=$(size_of "$file"); ORDER+=("$name")
}

# Check answers before timing: baton's 502+504 count equals mawk's.
want=$(mawk '$9=="502"||$9=="504"{n++}END{print n+0}' "$ACCESS")
got=$("$BATON" stats --format json "$ACCESS" | python3 -c 'import json,sys; s=json.load(sys.stdin)["access"]["status"]; print(s.get("502",0)+s.get("504",0))')
[ "$want" = "$got" ] || { echo "answer mismatch: mawk counts $want 502/504s, baton $got" >&2; exit 1; }
wantl=$(wc -l < "$ACCESS")
gotl=$("$BATON" stats --format json "$ACCESS" | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["lines"])')
[ "$wantl" = "$gotl" ] || { echo "line count mismatch: wc -l $wantl, baton $gotl" >&2; exit 1; }

MAWK_ACCESS='$9=="502"||$9=="504"{split($7,a,"?");c[a[1]]++}END{for(p in c)print c[p],p}'
MAWK_ERROR='/upstream/{c[$2]++}END{for(k in c)print c[k],k}'
measure "access: baton stats" "$ACCESS" "$BATON" stats --format json "$ACCESS"
measure "access: wc -l" "$ACCESS" wc -l "$ACCESS"
measure "access: mawk 502/504 by path" "$ACCESS" mawk "$MAWK_ACCESS" "$ACCESS"
command -v rg > /dev/null && measure "access: rg -c ' 502 '" "$ACCESS" rg -c ' 502 ' "$ACCESS"
measure "error: baton stats" "$ERROR" "$BATON" stats --format json "$ERROR"
measure "error: wc -l" "$ERROR" wc -l "$ERROR"
measure "error: mawk upstream by errno" "$ERROR" mawk -F'[()]' "$MAWK_ERROR" "$ERROR"
command -v rg > /dev/null && measure "error: rg -c upstream" "$ERROR" rg -c upstream "$ERROR"

echo "## baton end-to-end benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "- data: $ACCESS ($(size_of "$ACCESS") bytes, $wantl lines), $ERROR ($(size_of "$ERROR") bytes), page-cached"
echo "- timing: fastest of $RUNS runs ($(command -v hyperfine > /dev/null && echo "hyperfine $(hyperfine --version | cut -d' ' -f2)" || echo "/usr/bin/time")); peak RSS from /usr/bin/time"
echo "- references: mawk $(mawk -W version 2>&1 | head -1 | cut -d' ' -f2), $( { rg --version 2>/dev/null || echo 'rg not installed'; } | head -1), $(wc --version | head -1)"
echo "- command: benches/e2e.sh $SIZE"
echo
echo "Last column: the command's time divided by baton's on the same file (above 1: baton is faster)."
echo
echo "| command | seconds | MB/s | peak RSS (MiB) | time ÷ baton's |"
echo "| --- | ---: | ---: | ---: | ---: |"
for name in "${ORDER[@]}"; do
  kind=${name%%:*}
  base=${SECS["$kind: baton stats"]}
  awk -v n="$name" -v s="${SECS[$name]}" -v b="${BYTES_OF[$name]}" -v m="${RSS[$name]}" -v base="$base" \
    'BEGIN{ if (s<=0) s=0.001; printf "| `%s` | %.3f | %.0f | %.1f | %.2f |\n", n, s, b/s/1e6, m/1024, s/(base<=0?0.001:base) }'
done
