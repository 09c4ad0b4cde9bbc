#!/usr/bin/env bash
# `make bench-scale`: the operator-scale check of issue 17, not part of CI.
# Seeds 1,000,000 customers x 12 months into database churn_scale (or reuses
# it when it already holds that many customers: BENCH_SCALE_DB, BENCH_SCALE_CUSTOMERS
# change them), then runs the real commands with /usr/bin/time -v and reports
# wall time and peak resident memory against the targets:
#   churn train           <= 15 min wall, <= 4 GiB peak RSS
#   churn score           <= 90 s
#   churn serve           ready <= 20 s after start, resident memory <= 500 MiB with every score loaded
#   churn actions plan    <= 30 s
# Exits 1 when a target is missed or a command fails. Takes about an hour on 2 cores
# (the seed alone 6-30 minutes). Raw output: build/bench-scale/.
# On a cluster: CHURN_CLICKHOUSE_ADDR names a node and CHURN_CLICKHOUSE_CLUSTER
# the cluster (docs/scaling.md), as for every command.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
DB="${BENCH_SCALE_DB:-churn_scale}"
N="${BENCH_SCALE_CUSTOMERS:-1000000}"
OUT=build/bench-scale
mkdir -p "$OUT"
export CHURN_CLICKHOUSE_DB="$DB"
ADDR="${CHURN_CLICKHOUSE_ADDR:-127.0.0.1:9000}"
# chq QUERY: clickhouse-client on the node the commands use
chq() { clickhouse-client --host "${ADDR%:*}" --port "${ADDR##*:}" -q "$1"; }
BIN=bin/churn
go build -o "$BIN" ./cmd/churn || exit 1
command -v /usr/bin/time >/dev/null || bash scripts/deps.sh time

fail=0
report=()
# timed NAME CMD...: runs CMD under /usr/bin/time -v; sets WALL (s) and RSS (KiB).
timed() {
  local name=$1; shift
  /usr/bin/time -v -o "$OUT/$name.time" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
  local rc=$?
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$OUT/$name.time")
  RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$OUT/$name.time")
  if [ "$rc" -ne 0 ]; then
    echo "bench-scale: $name failed (exit $rc); see $OUT/$name.err" >&2
    tail -5 "$OUT/$name.err" >&2
    fail=1
  fi
  return $rc
}
# check LABEL VALUE OP TARGET UNIT
check() {
  local ok
  ok=$(awk -v v="$2" -v t="$4" -v op="$3" 'BEGIN { print (v == "" ? 0 : (op == "<=" ? v + 0 <= t + 0 : v + 0 >= t + 0)) }')
  [ "$ok" = 1 ] || fail=1
  report+=("$(printf '  %-44s %12s %-5s [%s %s %s]  %s' "$1" "${2:--}" "$5" "$3" "$4" "$5" "$([ "$ok" = 1 ] && echo ok || echo MISSED)")")
}

have=$(chq "SELECT count() FROM $DB.customers" 2>/dev/null || echo 0)
$BIN migrate >/dev/null || exit 1
if [ "$have" != "$N" ]; then
  echo "bench-scale: seeding $N customers x 12 months into $DB (this takes a while)"
  timed seed $BIN seed --customers "$N" --months 12 --seed 1 --log-level warn || exit 1
  echo "bench-scale: seed took ${WALL}s"
else
  echo "bench-scale: reusing $DB ($have customers)"
fi

echo "bench-scale: churn train"
timed train $BIN train --log-level warn && true
check "churn train, wall" "$WALL" "<=" 900 s
check "churn train, peak RSS" "$(awk -v k="$RSS" 'BEGIN { printf "%.0f", k / 1024 }')" "<=" 4096 MiB

echo "bench-scale: churn score"
timed score $BIN score --log-level warn && true
check "churn score, wall" "$WALL" "<=" 90 s
scored=$(chq "SELECT rows FROM $DB.score_runs WHERE status = 'finished' ORDER BY at DESC LIMIT 1" 2>/dev/null)

echo "bench-scale: churn serve"
port=18089
start=$(date +%s.%N)
$BIN serve --http-addr "127.0.0.1:$port" --insecure-no-auth --scheduler=false --log-level warn >"$OUT/serve.out" 2>"$OUT/serve.err" &
spid=$!
ready=""
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
    ready=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    break
  fi
  sleep 0.2
done
sleep 2 # let the heap settle after the load
rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$spid/status" 2>/dev/null)
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
check "churn serve, ready after start" "$ready" "<=" 20 s
check "churn serve, resident memory" "$rss" "<=" 500 MiB

echo "bench-scale: churn actions plan"
timed plan $BIN actions plan --log-level warn && true
check "churn actions plan, wall" "$WALL" "<=" 30 s

echo
echo "REPORT: $N customers in $DB${CHURN_CLICKHOUSE_CLUSTER:+ on cluster $CHURN_CLICKHOUSE_CLUSTER}, ${scored:-?} scored by the latest run (load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${report[@]}"
exit $fail
