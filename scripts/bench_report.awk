# bench_report.awk reads the output of scripts/bench.sh (go test -bench lines
# and the seed command's line) and prints each figure against its target.
# It exits 1 when a target is missed or its figure is missing, so that
# `make bench` fails.
function metric(name, unit) { return val[name, unit] }
function check(name, unit, op, target, label,   v, ok) {
  v = val[name, unit]
  if (v == "") {
    printf "  %-66s %12s   [%s %s]  MISSING\n", label, "-", op, target
    bad++
    return
  }
  ok = (op == "<=") ? (v + 0 <= target + 0) : (v + 0 >= target + 0)
  printf "  %-66s %12.4g   [%s %s]  %s\n", label, v, op, target, ok ? "ok" : "MISSED"
  if (!ok) bad++
}
# info prints a figure without a target: context for the checks around it.
function info(name, unit, label,   v) {
  v = val[name, unit]
  printf "  %-66s %12s\n", label, v == "" ? "-" : sprintf("%.4g", v)
}
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  n = split($0, f, /[ \t]+/)
  for (i = 3; i < n; i++) if (f[i] ~ /^[0-9.e+-]+$/) val[name, f[i+1]] = f[i]
}
END {
  check("BenchmarkSeedCommand100k", "s/seed", "<=", 60, "churn seed 100k customers x 12 months, seconds")
  check("BenchmarkSnapshot100k", "customers/s", ">=", 10000, "feature snapshot, customers/s (100k in 10 s)")
  check("BenchmarkSnapshot100k", "go/bare", "<=", 1.3, "feature snapshot: Go / clickhouse-client time")
  check("BenchmarkTrain100kx50", "go-cpu/python-cpu", "<=", 1.2, "XGBoost training 100k x 50, 100 trees: Go / python3-xgboost CPU s")
  info("BenchmarkTrain100kx50", "go/python", "  the same on wall time (fastest of 4 and 3)")

  printf "  XGBoost prediction of %d rows x 50 by %d trees (depth 6), matrix building included:\n",
    metric("BenchmarkPredictVsPython", "rows"), metric("BenchmarkPredictVsPython", "trees")
  check("BenchmarkPredictVsPython", "go-cpu/python-cpu", "<=", 1.1, "  Go (Matrix columns -> DMatrix -> predict) / python3-xgboost CPU s")
  info("BenchmarkPredictVsPython", "go/python", "  the same on wall time (fastest of 5 each)")
  info("BenchmarkPredictVsPython", "go-dmatrix-s", "  Go: DMatrix from the columns, wall s")
  info("BenchmarkPredictVsPython", "python-dmatrix-s", "  Python: DMatrix from numpy, wall s")
  info("BenchmarkPredictVsPython", "go-rows/s", "  Go rows/s (issue target 1,000,000 on an idle machine)")
  info("BenchmarkPredictVsPython", "python-rows/s", "  python3-xgboost rows/s (numpy -> DMatrix -> predict)")
  printf "  Reason-code contributions (Saabas) of %d rows x 60 by %d trees (depth 6), from matrix columns:\n",
    metric("BenchmarkSaabasGoVsXGBoost", "rows"), metric("BenchmarkSaabasGoVsXGBoost", "trees")
  check("BenchmarkSaabasGoVsXGBoost", "xgboost-cpu/go-cpu", ">=", 4, "  XGBoost (DMatrix + ContribsApprox) / Go tree walk, CPU s")
  info("BenchmarkSaabasGoVsXGBoost", "xgboost/go", "  the same on wall time (fastest of 3 each)")
  info("BenchmarkSaabasGoVsXGBoost", "go-ns/row", "  Go ns per row, wall")
  info("BenchmarkSaabasGoVsXGBoost", "xgboost-ns/row", "  XGBoost ns per row, wall")
  info("BenchmarkSaabasGoVsXGBoost", "forest-build-ms", "  Go: trees copied out of the model once, ms")

  printf "  Scoring run: %d active customers scored of a %d-customer base; champion %d trees,\n",
    metric("BenchmarkScore100k", "scored"), metric("BenchmarkScore100k", "base"), metric("BenchmarkScore100k", "trees")
  printf "    trained by the benchmark on %d rows (fit + validation snapshots) of the same data:\n", metric("BenchmarkScore100k", "train-rows")
  check("BenchmarkScore100k", "reasons_s", "<=", 10, "  reason codes, seconds")
  check("BenchmarkScore100k", "s/run", "<=", 20, "  whole run end to end, seconds")
  check("BenchmarkScore100k", "projected_s/1M", "<=", 90, "  projected to 1,000,000 active customers (issue 17: churn score), s")
  info("BenchmarkScore100k", "features_s", "  of which features in ClickHouse, s")
  info("BenchmarkScore100k", "uplift_s", "  of which the uplift champion's estimates stored with the scores, s")
  check("BenchmarkScore100k", "projected_plan_s/1M", "<=", 30, "  plan by uplift (default policy) projected to 1,000,000 (issue 17), s")
  info("BenchmarkScore100k", "plan_s", "  the plan, reading the uplift the run stored, s")
  info("BenchmarkScore100k", "plan_uplift_computed_s", "  its uplift computed instead, as for a run that stored none, s")
  info("BenchmarkScore100k", "distinct-texts", "  share of distinct reason texts in the run")

  printf "  API on 1,000,000 scores, request logging on, load from a separate process (%d samples a side):\n",
    metric("BenchmarkAPI/ScoreLatencyAt1000RPS", "samples")
  check("BenchmarkAPI/ScoreLatencyAt1000RPS", "p99-ms", "<=", 5, "  GET /v1/customers/{id}/score p99 at 1,000 req/s (median), ms")
  info("BenchmarkAPI/ScoreLatencyAt1000RPS", "bare-p99-ms", "  bare gin constant JSON p99 at 1,000 req/s (median), ms")
  check("BenchmarkAPI/ScorePeakThroughputVsBareGin", "ratio", ">=", 0.5, "  peak score req/s / bare gin req/s (median of pairs)")
  info("BenchmarkAPI/ScorePeakThroughputVsBareGin", "score-req/s", "  peak score req/s (median)")
  check("BenchmarkAPI/ScoresPage100Latency", "p99-ms", "<=", 20, "  GET /v1/scores page of 100 p99 at 200 req/s (median), ms")
  info("BenchmarkAPI/ScoresPage100Latency", "bare-p99-ms", "  bare gin constant JSON p99 at 200 req/s (median), ms")
  printf "  Snapshot of 1,000,000 scores with reason texts from model.ReasonText (%.0f%% distinct):\n",
    100 * metric("BenchmarkSnapshotHeap", "distinct-texts")
  check("BenchmarkSnapshotHeap", "heap-MiB/1M-scores", "<=", 1024, "  heap, MiB")
  printf "  Action queue over a year of monthly cycles of 20,000 actions, worked and closed (issue 17):\n"
  check("BenchmarkQueueYearOfCycles", "archived-12/all-12", "<=", 0.5, "  heap after 12 cycles: archived 90 days on / every action kept")
  info("BenchmarkQueueYearOfCycles", "all-4-MiB", "  every action kept: heap after 4 cycles, MiB")
  info("BenchmarkQueueYearOfCycles", "all-12-MiB", "  every action kept: heap after 12 cycles, MiB")
  info("BenchmarkQueueYearOfCycles", "archived-4-MiB", "  archived: heap after 4 cycles, MiB")
  info("BenchmarkQueueYearOfCycles", "archived-12-MiB", "  archived: heap after 12 cycles, MiB (contacts kept included)")
  info("BenchmarkQueueYearOfCycles", "contacted-customers", "  archived: customers whose contact days are kept")
  printf "  Retention targeting on a held-out cycle at the same budget (issue 16), offers:\n"
  check("BenchmarkUpliftTargeting", "uplift/risk", ">=", 1.5, "  incremental saves: uplift targeting / risk targeting")
  info("BenchmarkUpliftTargeting", "uplift-saves", "  churners kept by uplift targeting")
  info("BenchmarkUpliftTargeting", "risk-saves", "  churners kept by risk targeting")
  info("BenchmarkUpliftTargeting", "qini-uplift", "  Qini coefficient of the uplift ranking")
  info("BenchmarkUpliftTargeting", "qini-risk", "  Qini coefficient of the risk ranking")
  exit bad > 0
}
