#!/usr/bin/env bash
# Starts `churn serve` in the background for the demo (logs in build/serve.log,
# pid in build/serve.pid), waits until it is ready, and prints where to look.
# A server started by an earlier demo is stopped first. `make stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
ADDR="${CHURN_HTTP_ADDR:-127.0.0.1:8080}"
KEYS="${CHURN_API_KEYS:-admin:churn-demo-admin-key,agent:dana:churn-demo-agent-key,viewer:churn-demo-viewer-key}"
# Email and sms actions go to the campaign system as one CSV per cycle and
# channel here (a webhook in production: --dispatch-webhook-url).
DISPATCH_DIR="${CHURN_DISPATCH_CSV_DIR:-build/dispatch}"
mkdir -p "$DISPATCH_DIR"

# The demo's policy is the default one with a larger control group
# (DEMO_CONTROL_SHARE, default 0.4 against the default's 0.10): with 20,000
# customers a cycle plans a few hundred to a few thousand customers, and a
# 10% control group is too small for the saved rate's interval to exclude
# zero (docs/retention.md). Control customers cost nothing, so the share
# changes the interval, not the spending. CHURN_POLICY overrides it.
if [ -z "${CHURN_POLICY:-}" ]; then
  CHURN_POLICY=build/demo-policy.yaml
  # The demo's cycles all lie more than archive_after_days behind its data,
  # so they would be archived as soon as they are labelled; the demo keeps
  # their actions listed (0: never archive) so there is a queue to look at.
  sed -e "s/^control_share: [0-9.]*/control_share: ${DEMO_CONTROL_SHARE:-0.4}/" \
    -e "s/^archive_after_days: [0-9]*/archive_after_days: 0/" policies/default.yaml >"$CHURN_POLICY"
  bin/churn policy check "$CHURN_POLICY" >/dev/null
fi
export CHURN_POLICY

if [ -f build/serve.pid ] && kill -0 "$(cat build/serve.pid)" 2>/dev/null; then
  kill "$(cat build/serve.pid)" && sleep 1
fi
CHURN_API_KEYS="$KEYS" CHURN_HTTP_ADDR="$ADDR" CHURN_DISPATCH_CSV_DIR="$DISPATCH_DIR" setsid nohup bin/churn serve --log-format json --poll-interval 2s \
  >build/serve.log 2>&1 </dev/null &
echo $! > build/serve.pid
for _ in $(seq 1 60); do
  if curl -fsS "http://$ADDR/readyz" >/dev/null 2>&1; then
    break
  fi
  sleep 0.5
done
if ! curl -fsS "http://$ADDR/readyz" >/dev/null 2>&1; then
  echo "churn serve did not become ready; see build/serve.log:" >&2
  tail -20 build/serve.log >&2
  exit 1
fi
viewer="${KEYS##*viewer:}"; viewer="${viewer%%,*}"
admin="${KEYS##*admin:}"; admin="${admin%%,*}"
agent="${KEYS##*agent:}"; agent="${agent%%,*}"; agent="${agent##*:}"

CHURN_API_KEYS="$KEYS" CHURN_HTTP_ADDR="$ADDR" DEMO_REPORT=0 bash scripts/demo-retention.sh

# The server also runs the scheduled jobs. Start a scoring run by hand through
# the API (the drift check follows it), wait for it, and show the schedule
# with the next runs and the history the manual run now heads.
echo
echo "manual scoring run through the API: POST /v1/jobs/score/run"
curl -fsS -X POST -H "Authorization: Bearer $admin" "http://$ADDR/v1/jobs/score/run"
echo
for _ in $(seq 1 240); do
  if ! curl -fsS -H "Authorization: Bearer $viewer" "http://$ADDR/v1/jobs?limit=5" | grep -q '"status":"running"'; then
    break
  fi
  sleep 0.5
done
echo
bin/churn jobs list --runs 5
if [ "${DEMO_CYCLES:-6}" -gt 0 ]; then
  echo
  echo "retention cycles of the demo (full report: bin/churn actions report):"
  bin/churn actions report --brief --log-level warn
fi
cat <<MSG

churn serve is running on http://$ADDR (pid $(cat build/serve.pid), log build/serve.log; stop it with 'make stop').
Dashboard: open http://$ADDR/ in a browser and sign in with one of the keys below.
API keys of the demo: $KEYS
Try:
  curl -s -H 'Authorization: Bearer $viewer' http://$ADDR/v1/summary
  curl -s -H 'Authorization: Bearer $viewer' 'http://$ADDR/v1/scores?tier=A&band=high&limit=5'
  curl -s http://$ADDR/openapi.yaml | head
  curl -s http://$ADDR/metrics | grep ^churn_
  curl -s -H 'Authorization: Bearer $viewer' http://$ADDR/v1/jobs
  curl -s -X POST -H 'Authorization: Bearer $agent' -H 'Content-Type: application/json' http://$ADDR/v1/actions/claim -d '{"limit":1}'   # claims as dana, the key's name
  ls $DISPATCH_DIR   # email and sms actions handed to the campaign system
  curl -s -X POST -H 'Authorization: Bearer $admin' http://$ADDR/v1/jobs/drift/run
  bin/churn jobs list
MSG
