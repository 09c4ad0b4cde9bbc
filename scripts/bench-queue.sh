#!/usr/bin/env bash
# `make bench-queue`: restart of the retention action queue with 10,000,000
# events in action_events (issue 17, part 3), not part of CI. Runs
# BenchmarkQueueRestart (clickhouse/queue_restart_bench_test.go), which
# generates the events in a scratch database with INSERT ... SELECT FROM
# numbers(), replays the whole log once, stores a snapshot, and times a start
# from the snapshot plus the later events; the database is dropped at the end.
# CHURN_BENCH_QUEUE_EVENTS changes the number of events. Exits 1 when the
# restart takes longer than 15 s or the benchmark fails. Raw output:
# build/bench-queue.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
mkdir -p build
out=build/bench-queue.txt
go test -run '^$' -bench 'BenchmarkQueueRestart$' -benchtime 1x -timeout 60m ./clickhouse/ >"$out" 2>&1
rc=$?
awk -v rc="$rc" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
/^BenchmarkQueueRestart/ {
  n = split($0, f, /[ \t]+/)
  for (i = 3; i < n; i++) if (f[i] ~ /^[0-9.e+-]+$/) v[f[i+1]] = f[i]
}
END {
  if (rc != 0 || v["restart-s"] == "") { print "bench-queue: the benchmark failed; see build/bench-queue.txt"; exit 1 }
  printf "REPORT: action queue restart, %d events (%d actions), load average %s\n", v["events"], v["actions"], load
  printf "  %-52s %10.1f s\n", "generate the events in ClickHouse", v["fill-s"]
  printf "  %-52s %10.1f s\n", "start by replaying the whole log (before snapshots)", v["full-replay-s"]
  printf "  %-52s %10.1f s\n", "  of which CPU time of the process", v["full-replay-cpu-s"]
  printf "  %-52s %10.1f s\n", "store a snapshot", v["snapshot-write-s"]
  ok = v["restart-s"] + 0 <= 15
  printf "  %-52s %10.1f s   [<= 15 s]  %s\n", "start from the snapshot + later events", v["restart-s"], ok ? "ok" : "MISSED"
  printf "  %-52s %10.1f s\n", "  of which CPU time of the process", v["restart-cpu-s"]
  exit ok ? 0 : 1
}' "$out"
