#!/usr/bin/env bash
# End-to-end benchmark on generated log sets: `baton stats`, `baton
# report --format json` and `baton events --format jsonl` (errors only and
# `--all`, to /dev/null) on a whole set, stats and report on it gzipped,
# and stats on its access log beside `wc -l`, `rg -c ' 502 '`, mawk
# counting 502s by path and goaccess (when installed) on the same files in
# the same run. Prints one Markdown table (seconds, MB/s, peak RSS, time ÷
# baton stats' time on the same input) and a summary per set (report ÷
# stats, peak RSS of each baton command), headed by the date, machine and
# tool versions, followed by the exact commands.
#
#   benches/e2e.sh [SIZE...]       SIZE like 8M, 1G, 4G (default 1G): the
#                                  access log's size; the set is a little more
#
# Two sets per SIZE, written by baton-gen to BATON_BENCH_DIR/NAME/{plain,gz}
# with truth.json beside them, and reused while baton-gen is not newer:
# - gen-SIZE (`--size SIZE --seed 1`): every incident kind, 5 min each,
#   background noise, error/php-fpm/slow/kernel logs beside the access log;
# - gen-heavy-SIZE (`--heavy --size SIZE --seed 1`): a failure-heavy day,
#   24 h with about 1 % of the requests gateway errors in 5 to 8 incidents
#   of 30 to 90 min and lone 502/504s every hour.
# The answers are checked against truth.json and mawk before anything is
# timed.
#
# Environment: BATON_BENCH_DIR (default bench-data), BATON_BENCH_RUNS (best
# of N, default 3; goaccess always runs once), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1G)
DIR=${BATON_BENCH_DIR:-bench-data}
RUNS=${BATON_BENCH_RUNS:-3}
TARGET=${CARGO_TARGET_DIR:-target}

# No parquet feature: the benchmark times stats and report, and polars would
# add minutes of release build to CI.
cargo build --quiet --profile dist --locked -p baton-cli -p baton-gen --bin baton --bin baton-gen
BATON=$TARGET/dist/baton
GEN=$TARGET/dist/baton-gen
HAVE_REPORT=0 HAVE_EVENTS=0
"$BATON" report --help > /dev/null 2>&1 && HAVE_REPORT=1
"$BATON" events --help > /dev/null 2>&1 && HAVE_EVENTS=1
have() { command -v "$1" > /dev/null; }
have mawk || { echo "e2e.sh needs mawk (apt-get install -y mawk)" >&2; exit 1; }
mkdir -p "$DIR"

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }
sum_sizes() { local n=0 f; for f in "$@"; do n=$((n + $(size_of "$f"))); done; echo "$n"; }
# json EXPR FILE: EXPR evaluated on FILE's document `d`.
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$2"; }

# gen NAME SIZE [ARG...]: writes (or reuses) BATON_BENCH_DIR/NAME with
# `baton-gen ARG... --size SIZE --seed 1`.
gen() {
  local d="$DIR/$1" size=$2; shift 2
  if [ -f "$d/.done" ] && [ ! "$GEN" -nt "$d/.done" ] && [ "$(cat "$d/.done")" = "$*" ]; then return; fi
  rm -rf "$d"
  mkdir -p "$d/gz"
  "$GEN" "$@" --size "$size" --seed 1 --out "$d/plain" > /dev/null
  mv "$d/plain/truth.json" "$d/truth.json"
  local f
  for f in "$d"/plain/*; do gzip -c "$f" > "$d/gz/$(basename "$f").gz"; done
  echo "$*" > "$d/.done"
}

# measure GROUP NAME BYTES CMD...: the fastest of RUNS runs (hyperfine when
# installed, else /usr/bin/time) and peak RSS from /usr/bin/time.
# measure_once: one /usr/bin/time run for both (slow references).
ROWS=()
declare -A SECS RSS BYTES_OF CMD_OF GW_OF
# shq ARGS...: the command as one would type it (single quotes where needed).
shq() {
  local a out=""
  for a in "$@"; do
    if [[ $a =~ ^[A-Za-z0-9_./=:,+-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
  done
  echo "${out% }"
}
# peak_and_secs CMD...: "SECONDS PEAK_KIB" of one run.
peak_and_secs() {
  /usr/bin/time -o "$DIR/time.out" -f '%e %M' "$@" > /dev/null 2>&1
  tail -n 1 "$DIR/time.out"
}
measure() {
  local group=$1 name=$2 bytes=$3; shift 3
  local key="$group|$name" best="" out
  if have hyperfine; then
    hyperfine --style none --warmup 1 --runs "$RUNS" --export-json "$DIR/hf.json" "$(printf '%q ' "$@")" > /dev/null 2>&1
    best=$(json "min(d['results'][0]['times'])" "$DIR/hf.json")
  else
    for _ in $(seq "$RUNS"); do
      out=$(peak_and_secs "$@")
      if [ -z "$best" ] || awk -v a="${out% *}" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=${out% *}; fi
    done
  fi
  out=$(peak_and_secs "$@")
  SECS[$key]=$best; RSS[$key]=${out#* }
  BYTES_OF[$key]=$bytes; CMD_OF[$key]=$(shq "$@"); ROWS+=("$key")
}
measure_once() {
  local group=$1 name=$2 bytes=$3; shift 3
  local key="$group|$name" out
  out=$(peak_and_secs "$@")
  SECS[$key]=${out% *}; RSS[$key]=${out#* }
  BYTES_OF[$key]=$bytes; CMD_OF[$key]=$(shq "$@"); ROWS+=("$key")
}

MAWK_502='$9=="502"{split($7,a,"?");c[a[1]]++}END{for(p in c)print c[p],p}'
NOTES=()
SETS=()
# bench_set LABEL D: checks and times the set in D; rows grouped as
# "LABEL set", "LABEL set.gz", "LABEL access", "LABEL access.gz".
bench_set() {
  local L=$1 D=$2
  local PLAIN=("$D"/plain/*.log) GZ=("$D"/gz/*.gz)
  local ACCESS="$D/plain/access.log" ACCESS_GZ="$D/gz/access.log.gz"
  local SET_BYTES ACCESS_BYTES want got n w c wc_
  SETS+=("$L")
  cat "${PLAIN[@]}" "${GZ[@]}" > /dev/null   # page-cache the set
  SET_BYTES=$(sum_sizes "${PLAIN[@]}")
  ACCESS_BYTES=$(size_of "$ACCESS")
  GW_OF[$L]=$(json "'%d (%.2f %%)' % (sum(v for k, v in d['totals']['status'].items() if k in ('502', '504')), 100 * sum(v for k, v in d['totals']['status'].items() if k in ('502', '504')) / d['totals']['requests'])" "$D/truth.json")

  # Check the answers before timing: baton's counts are truth.json's, the
  # gzipped set reads the same, and mawk counts the same 502s.
  "$BATON" stats --format json "$D/plain" > "$DIR/stats.json"
  "$BATON" stats --format json "$D/gz" > "$DIR/stats-gz.json"
  python3 - "$DIR/stats.json" "$DIR/stats-gz.json" "$D/truth.json" <<'PY'
import json, sys
s, g, t = (json.load(open(p)) for p in sys.argv[1:4])
tot = t["totals"]
def check(what, got, want):
    if got != want:
        sys.exit(f"answer mismatch on {what}: baton {got}, truth {want}")
check("requests", s["access"]["requests"], tot["requests"])
check("status", {k: v for k, v in s["access"]["status"].items()}, tot["status"])
check("upstream errors", s.get("upstream_errors", {}), tot["upstream_errors"])
check("upstream warnings", s.get("upstream_warnings", 0), tot["upstream_warnings"])
check("gzipped status", g["access"]["status"], s["access"]["status"])
check("gzipped upstream errors", g.get("upstream_errors", {}), s.get("upstream_errors", {}))
PY
  want=$(mawk '$9=="502"{n++}END{print n+0}' "$ACCESS")
  got=$(json "d['access']['status'].get('502',0)" "$DIR/stats.json")
  [ "$want" = "$got" ] || { echo "answer mismatch: mawk counts $want 502s, baton $got ($D)" >&2; exit 1; }
  if [ "$HAVE_REPORT" = 1 ]; then
    "$BATON" report --format json "$D/plain" > "$DIR/report.json"
    n=$(json "len(d['incidents'])" "$DIR/report.json")
    w=$(json "len(d['incidents'])" "$D/truth.json")
    c=$(json "[i['cause'] for i in d['incidents']]" "$DIR/report.json")
    wc_=$(json "[i['cause'] for i in d['incidents']]" "$D/truth.json")
    [ "$n" = "$w" ] || NOTES+=("$L set: baton report found $n incidents, truth.json has $w (accuracy is the report's tests' business; timed anyway)")
    [ "$n" != "$w" ] || [ "$c" = "$wc_" ] || NOTES+=("$L set: baton report's causes $c, truth.json's $wc_ (timed anyway)")
  fi

  measure "$L set" "baton stats" "$SET_BYTES" "$BATON" stats --format json "$D/plain"
  [ "$HAVE_REPORT" = 1 ] && measure "$L set" "baton report --format json" "$SET_BYTES" "$BATON" report --format json "$D/plain"
  [ "$HAVE_EVENTS" = 1 ] && measure "$L set" "baton events --format jsonl" "$SET_BYTES" "$BATON" events --format jsonl "$D/plain"
  [ "$HAVE_EVENTS" = 1 ] && measure "$L set" "baton events --all --format jsonl" "$SET_BYTES" "$BATON" events --all --format jsonl "$D/plain"
  measure "$L set.gz" "baton stats" "$SET_BYTES" "$BATON" stats --format json "$D/gz"
  [ "$HAVE_REPORT" = 1 ] && measure "$L set.gz" "baton report --format json" "$SET_BYTES" "$BATON" report --format json "$D/gz"
  measure "$L access" "baton stats" "$ACCESS_BYTES" "$BATON" stats --format json "$ACCESS"
  measure "$L access" "wc -l" "$ACCESS_BYTES" wc -l "$ACCESS"
  have rg && measure "$L access" "rg -c ' 502 '" "$ACCESS_BYTES" rg -c ' 502 ' "$ACCESS"
  measure "$L access" "mawk 502s by path" "$ACCESS_BYTES" mawk "$MAWK_502" "$ACCESS"
  have goaccess && measure_once "$L access" "goaccess -o json" "$ACCESS_BYTES" \
    goaccess "$ACCESS" --log-format=COMBINED --no-global-config --no-progress -o json
  measure "$L access.gz" "baton stats" "$ACCESS_BYTES" "$BATON" stats --format json "$ACCESS_GZ"
  have rg && measure "$L access.gz" "rg -z -c ' 502 '" "$ACCESS_BYTES" rg -z -c ' 502 ' "$ACCESS_GZ"
  measure "$L access.gz" "zcat \\| mawk 502s by path" "$ACCESS_BYTES" \
    bash -c 'zcat "$1" | mawk "$2"' - "$ACCESS_GZ" "$MAWK_502"
}

for SIZE in "${SIZES[@]}"; do
  gen "gen-$SIZE" "$SIZE"
  bench_set "$SIZE" "$DIR/gen-$SIZE"
  gen "gen-heavy-$SIZE" "$SIZE" --heavy
  bench_set "$SIZE heavy" "$DIR/gen-heavy-$SIZE"
done
[ "$HAVE_EVENTS" = 1 ] || NOTES+=("baton events is not available in this build: skipped")
[ "$HAVE_REPORT" = 1 ] || NOTES+=("baton report is not available in this build: skipped")
have goaccess || NOTES+=("goaccess is not installed: skipped")
have rg || NOTES+=("rg is not installed: skipped")

echo "## baton end-to-end benchmark"
echo
echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "- machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "- data: \`baton-gen --size SIZE --seed 1\` (access log of SIZE in combined form, error log, php-fpm log, slowlog, kern.log; every incident kind) and, as SIZE heavy, \`baton-gen --heavy --size SIZE --seed 1\` (the same logs over 24 h, about 1 % of the requests gateway errors in 5 to 8 incidents of 30 to 90 min), gzipped with \`gzip\` (level 6); page-cached"
echo "- timing: fastest of $RUNS runs ($(have hyperfine && echo "hyperfine $(hyperfine --version | cut -d' ' -f2)" || echo "/usr/bin/time"); goaccess: one run); peak RSS from /usr/bin/time"
echo "- references: mawk $(mawk -W version 2>&1 | head -1 | cut -d' ' -f2), $( { rg --version 2>/dev/null || echo 'rg not installed'; } | head -1), $( { goaccess --version 2>/dev/null || echo 'goaccess not installed'; } | head -1 | sed 's/ - / /; s/\.$//'), $(gzip --version | head -1)"
echo "- command: benches/e2e.sh ${SIZES[*]}"
for n in "${NOTES[@]+"${NOTES[@]}"}"; do echo "- note: $n"; done
echo
echo "MB/s is decompressed bytes per second. Last column: the command's time divided by \`baton stats\`' on the same input (above 1: baton is faster)."
echo
echo "| input | command | MB | seconds | MB/s | peak RSS (MiB) | time ÷ baton stats' |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for key in "${ROWS[@]}"; do
  group=${key%%|*}; name=${key#*|}
  base=${SECS["$group|baton stats"]}
  # The names through the environment: awk -v would unescape `\|`.
  G="$group" N="$name" awk -v s="${SECS[$key]}" -v b="${BYTES_OF[$key]}" -v m="${RSS[$key]}" -v base="$base" \
    'BEGIN{ if (s<=0) s=0.001; if (base<=0) base=0.001; printf "| %s | `%s` | %.0f | %.3f | %.0f | %.1f | %.2f |\n", ENVIRON["G"], ENVIRON["N"], b/1e6, s, b/s/1e6, m/1024, s/base }'
done
echo
echo "Per set: \`baton report --format json\`'s time divided by \`baton stats\`' on the same set, and each command's peak RSS (MiB); events go to /dev/null."
echo
echo "| set | gateway errors | report ÷ stats | stats RSS | report RSS | events RSS | events --all RSS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for L in "${SETS[@]}"; do
  g="$L set"
  rss() { local k="$g|$1"; [ -n "${RSS[$k]:-}" ] && awk -v m="${RSS[$k]}" 'BEGIN{printf "%.1f", m/1024}' || echo "-"; }
  ratio=$(awk -v s="${SECS["$g|baton report --format json"]:-0}" -v b="${SECS["$g|baton stats"]}" 'BEGIN{ if (b<=0) b=0.001; if (s<=0) print "-"; else printf "%.2f", s/b }')
  echo "| $L | ${GW_OF[$L]} | $ratio | $(rss "baton stats") | $(rss "baton report --format json") | $(rss "baton events --format jsonl") | $(rss "baton events --all --format jsonl") |"
done
echo
echo "Commands, in table order:"
echo
for key in "${ROWS[@]}"; do
  echo "- ${key%%|*}: \`${CMD_OF[$key]}\`"
done
