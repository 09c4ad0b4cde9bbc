#!/usr/bin/env bash
# Demo of retention actions with a measured save, on the synthetic operator
# only: for each of DEMO_CYCLES months (default 6) ending 3 months before the
# data's last (a prepaid customer's label needs the 30-day horizon and 60
# days of silence after it), score the
# customers as of that month, plan the cycle's actions under the default
# policy, let the server dispatch the cycle's email and sms actions (job
# dispatch, into CHURN_DISPATCH_CSV_DIR) and synthetic agents work the calls
# and offers through the running API (`churn actions simulate`, which also
# plants the synthetic effect: offers keep price-driven churners and prepaid
# customers going silent, calls those leaving over service, messages almost
# nobody, and messages wake a few contented postpaid customers) and label
# the cycle, whose
# horizon the data covers, so the next cycle's plan learns from its outcomes.
# Then print the lift report with the learned against the assumed response
# rates.
# Needs the API started by scripts/demo-serve.sh (CHURN_API_KEYS, CHURN_HTTP_ADDR);
# plans under CHURN_POLICY (demo-serve.sh sets build/demo-policy.yaml, the
# default with a larger control group; unset: the built-in default).
set -euo pipefail
cd "$(dirname "$0")/.."
ADDR="${CHURN_HTTP_ADDR:-127.0.0.1:8080}"
CYCLES="${DEMO_CYCLES:-6}"
BIN=bin/churn
[ "$CYCLES" -gt 0 ] || exit 0

viewer="${CHURN_API_KEYS##*viewer:}"; viewer="${viewer%%,*}"
admin="${CHURN_API_KEYS##*admin:}"; admin="${admin%%,*}"
# The data end is the day after the latest usage day; cycles are the first
# days of the months whose horizon and prepaid silence the data covers.
ch="${CHURN_CLICKHOUSE_ADDR:-127.0.0.1:9000}"
last=$(clickhouse-client --host "${ch%:*}" --port "${ch##*:}" -d "${CHURN_CLICKHOUSE_DB:-churn}" \
  -q "SELECT toStartOfMonth(max(day)) FROM usage_daily" 2>/dev/null || true)
[ -n "$last" ] || { echo "demo-retention: no usage data" >&2; exit 1; }

echo
last=$(date -u -d "$last -3 month" +%F)
echo "retention cycles (synthetic agents, demo only): the $CYCLES months up to $last"
for k in $(seq $((CYCLES - 1)) -1 0); do
  cycle=$(date -u -d "$last -$k month" +%F)
  # A cycle is planned once per database: an earlier demo's plan stays, and
  # so do its outcomes, labelled on the data seeded then.
  if curl -fsS -H "Authorization: Bearer $viewer" "http://$ADDR/v1/actions?cycle=$cycle&limit=1" | grep -q '"action_id"'; then
    echo "demo-retention: cycle $cycle was planned in this database by an earlier run; its plan and outcomes are reused" \
      "(a fresh measurement needs a fresh database: CHURN_CLICKHOUSE_DB)" >&2
  fi
  $BIN score --as-of "$cycle" --log-level warn | sed -n 1p
  $BIN actions plan --log-level warn | sed -n 2p
  # The server picks up the plan on its next poll; wait for queued actions.
  for _ in $(seq 1 60); do
    if curl -fsS -H "Authorization: Bearer $viewer" "http://$ADDR/v1/actions?status=queued&cycle=$cycle&limit=1" | grep -q '"action_id"'; then
      break
    fi
    sleep 0.5
  done
  # The server owns the queue, so it dispatches: start its job and wait for
  # it. A server without scheduled jobs (DEMO_DISPATCH=0) leaves email and
  # sms queued.
  if [ "${DEMO_DISPATCH:-1}" = 1 ]; then
    curl -fsS -X POST -H "Authorization: Bearer $admin" "http://$ADDR/v1/jobs/dispatch/run" >/dev/null
    for _ in $(seq 1 120); do
      if ! curl -fsS -H "Authorization: Bearer $viewer" "http://$ADDR/v1/jobs?job=dispatch&limit=1" | grep -q '"status":"running"'; then
        break
      fi
      sleep 0.5
    done
  fi
  $BIN actions simulate --agents 4 --cycle "$cycle" --seed "${DEMO_SEED:-1}" --log-level warn | tail -2
  $BIN actions outcomes --log-level warn | tail -1
done
# The short lift report (the full one: bin/churn actions report); the demo
# (scripts/demo-serve.sh) prints it at its end instead.
if [ "${DEMO_REPORT:-1}" = 1 ]; then
  echo
  $BIN actions report --brief --log-level warn
fi
