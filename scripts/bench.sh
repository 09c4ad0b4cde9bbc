#!/usr/bin/env bash
# `make bench`: runs the benchmarks behind the performance targets of the
# issues, against the local ClickHouse, prints a report of each figure against
# its target, and exits 1 when a benchmark fails or a target is missed or
# missing. Raw output: build/bench.txt. Takes 10-20 minutes on 2 cores.
#
# The machine may be shared, so wherever a target can be a ratio it is one:
# the baseline (python3-xgboost on the same matrix, a bare gin handler,
# clickhouse-client on the same query) is measured in the same run, samples
# of the two sides alternating. The remaining absolute targets (seconds,
# milliseconds, MiB) come from the issues and are judged as measured.
#
# Reason codes use Saabas path attribution, walked in Go over the booster's
# trees (xgboost.Forest); BenchmarkSaabasGoVsXGBoost measures it against
# XGBoost's own ContribsApprox on the same rows. Exact TreeSHAP
# (BenchmarkContribs, about 30-60 s per 100k rows of a 100-tree model on 2
# cores, the same in python3-xgboost) is left out of the report: run it with
#   go test -run '^$' -bench Contribs$ -benchtime 1x ./model/xgboost
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
out=build/bench.txt
: > "$out"
export PATH="$PATH:/usr/local/go/bin"

# Absolute targets depend on the machine's load: the report shows it.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

failed=()
bench() { # package, benchmark regexp, benchtime
  echo "== $1 $2" | tee -a "$out"
  local rc=0 log
  log=$(mktemp)
  go test -run '^$' -bench "$2" -benchtime "${3:-1x}" -benchmem -timeout 40m "$1" >"$log" 2>&1 || rc=$?
  # The raw lines go to $out; the console gets results and failures.
  cat "$log" >>"$out"
  grep -E '^(Benchmark|FAIL|--- |panic)' "$log" || true
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then
    failed+=("$1 $2 (go test exit $rc)")
  fi
}

bench ./dataset/synth 'Generate'
bench ./clickhouse 'SeedLoad'
bench ./dataset 'ReadCSV' 3x
bench ./clickhouse 'Snapshot100k'
bench ./model/eval '.' 3x
bench ./model/calibrate '.' 3x
bench ./model/xgboost 'Train100kx50|PredictVsPython|SaabasGoVsXGBoost'
bench ./jobs 'Score100k'
bench ./model/uplift 'UpliftTargeting'
bench ./retention 'QueueYearOfCycles$'
bench ./serve '.'

# The seed target is for the command itself: 100,000 customers x 12 months.
echo "== churn seed --customers 100000 --months 12" | tee -a "$out"
go build -o bin/churn ./cmd/churn
export CHURN_CLICKHOUSE_DB=churn_bench
if bin/churn migrate >/dev/null && start=$(date +%s.%N) &&
  bin/churn seed --customers 100000 --months 12 --log-level warn >>"$out" 2>&1; then
  end=$(date +%s.%N)
  seed_s=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
  echo "BenchmarkSeedCommand100k 1 ${seed_s} s/seed" | tee -a "$out"
else
  failed+=("churn seed --customers 100000")
fi
clickhouse-client -q "DROP DATABASE IF EXISTS churn_bench" || true

echo
echo "REPORT (target in brackets; raw output in $out)"
echo "  load average (1, 5, 15 min) at start: $load_start; at end: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
rc=0
awk -f scripts/bench_report.awk "$out" || rc=$?
for f in "${failed[@]}"; do
  echo "  FAILED: $f"
  rc=1
done
if [ "$rc" -ne 0 ]; then
  echo "bench: FAILED (a benchmark failed or a target was missed or missing)"
else
  echo "bench: every target met"
fi
exit "$rc"
