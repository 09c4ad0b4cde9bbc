#!/usr/bin/env bash
# `make notebooks`: executes every notebook in notebooks/ top to bottom on
# Debian's Python (/usr/bin/python3 and its packages, installed when missing)
# and writes the HTML reports to build/notebooks/.
#
# Data: the notebooks read CHURN_CLICKHOUSE_DB (default here: churn_notebooks).
# When that database has no finished scoring run, this script prepares one
# with the churn binary: migrate, seed NOTEBOOK_CUSTOMERS synthetic customers
# (default 6000, 12 months), train and score.
# On a cluster (CHURN_CLICKHOUSE_CLUSTER, CHURN_CLICKHOUSE_ADDR a node of it)
# the data is prepared with `churn migrate --cluster` and the notebooks read
# the Distributed tables through that node.
# Reports go to NOTEBOOK_OUT (default build/notebooks).
# API: with CHURN_API_URL and CHURN_API_KEY set, the notebooks use that server;
# otherwise this script starts `churn serve` on a free loopback port with
# generated viewer and agent keys for the run, and stops it afterwards. When
# the database has no retention actions yet, two cycles are planned and worked
# by synthetic agents through that server first (scripts/demo-retention.sh).
#
#   scripts/notebooks.sh           prepare data if needed, execute, write HTML
#   scripts/notebooks.sh --strip   remove outputs from the committed notebooks
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

PY=/usr/bin/python3
NOTEBOOKS=(notebooks/[0-9]*.ipynb)
# The notebooks run on Debian's Python whatever python3 is first on PATH: its
# kernel spec (/usr/share/jupyter) comes before any user-installed one, and
# user site-packages stay out.
export JUPYTER_PATH=/usr/share/jupyter PYTHONNOUSERSITE=1

bash scripts/deps.sh jupyter-nbconvert python3-ipykernel python3-pandas python3-sklearn \
  python3-matplotlib python3-clickhouse-driver python3-xgboost

if [ "${1:-}" = "--strip" ]; then
  "$PY" -m nbconvert --log-level WARN --to notebook --inplace \
    --ClearOutputPreprocessor.enabled=True --ClearMetadataPreprocessor.enabled=True \
    --ClearMetadataPreprocessor.preserve_nb_metadata_mask=kernelspec "${NOTEBOOKS[@]}"
  echo "notebooks: outputs stripped from ${NOTEBOOKS[*]}"
  exit 0
fi

bash scripts/clickhouse.sh >/dev/null
go build -o bin/churn ./cmd/churn

export CHURN_CLICKHOUSE_DB="${CHURN_CLICKHOUSE_DB:-churn_notebooks}"
export CHURN_BIN="$PWD/bin/churn"
ADDR="${CHURN_CLICKHOUSE_ADDR:-127.0.0.1:9000}"
OUT="${NOTEBOOK_OUT:-build/notebooks}"
mkdir -p "$OUT"
start=$(date +%s)

ch() { # query against the configured server, empty output on error
  clickhouse-client --host "${ADDR%:*}" --port "${ADDR##*:}" --user "${CHURN_CLICKHOUSE_USER:-default}" \
    --password "${CHURN_CLICKHOUSE_PASSWORD:-}" -q "$1" 2>/dev/null || true
}

# The script's own database, prepared by an older release, is prepared again
# from scratch: its tables lack what the migrations add and its models and
# retention cycles the features and rules of this release. Any other database
# is only migrated.
migrated=$(bin/churn migrate --log-level warn)
if [ "$CHURN_CLICKHOUSE_DB" = churn_notebooks ] && [[ "$migrated" != *"(0 migrations applied now)"* ]] &&
  [ "$(ch "SELECT count() FROM churn_notebooks.score_runs")" != "0" ]; then
  echo "notebooks: database churn_notebooks was prepared by an older release; preparing it again"
  ch "DROP DATABASE churn_notebooks"
  bin/churn migrate --log-level warn >/dev/null
fi
runs=$(ch "SELECT count() FROM ${CHURN_CLICKHOUSE_DB}.score_runs WHERE status = 'finished'")
if [ "${runs:-0}" = "0" ]; then
  echo "notebooks: preparing demo data in database $CHURN_CLICKHOUSE_DB"
  if [ "$(ch "SELECT count() FROM ${CHURN_CLICKHOUSE_DB}.customers")" = "0" ]; then
    bin/churn seed --customers "${NOTEBOOK_CUSTOMERS:-6000}" --months 12 --seed 1 --log-level warn >/dev/null
  fi
  bin/churn train --log-level warn >/dev/null
  bin/churn score --log-level warn >/dev/null
  echo "notebooks: data ready in $(($(date +%s) - start))s"
fi

serve_pid=""
stop_server() {
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT
if [ -z "${CHURN_API_URL:-}" ]; then
  port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  key="nb-$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
  agent="nb-agent-$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
  admin="nb-admin-$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
  # Only the API: scheduled jobs must not change the data under the notebooks.
  serve_flags=(--log-format json --poll-interval 2s)
  if bin/churn serve --help 2>/dev/null | grep -q -- '--scheduler'; then serve_flags+=(--scheduler=false); fi
  CHURN_API_KEYS="viewer:$key,agent:$agent,admin:$admin" CHURN_HTTP_ADDR="127.0.0.1:$port" bin/churn serve "${serve_flags[@]}" \
    >"$OUT/serve.log" 2>&1 </dev/null &
  serve_pid=$!
  export CHURN_API_URL="http://127.0.0.1:$port" CHURN_API_KEY="$key"
  for _ in $(seq 1 60); do
    curl -fsS "$CHURN_API_URL/readyz" >/dev/null 2>&1 && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.5
  done
  if ! curl -fsS "$CHURN_API_URL/readyz" >/dev/null 2>&1; then
    echo "notebooks: churn serve did not become ready; see $OUT/serve.log:" >&2
    tail -20 "$OUT/serve.log" >&2
    exit 1
  fi
  # Retention data for 03-retention: two cycles worked by synthetic agents
  # through this server and labelled. Their synthetic saves delete churn
  # events inside the holdout window, so the models are trained again on the
  # data as it now is (02-model-report checks the registry's holdout metrics
  # against the data), then a fresh scoring run goes on top.
  if [ "$(ch "SELECT count() FROM ${CHURN_CLICKHOUSE_DB}.action_events")" = "0" ]; then
    CHURN_API_KEYS="viewer:$key,agent:$agent,admin:$admin" CHURN_HTTP_ADDR="127.0.0.1:$port" DEMO_CYCLES=2 DEMO_DISPATCH=0 \
      bash scripts/demo-retention.sh >"$OUT/retention.log" 2>&1 || { tail -20 "$OUT/retention.log" >&2; exit 1; }
    bin/churn train --promote --log-level warn >/dev/null
    bin/churn score --log-level warn >/dev/null
    echo "notebooks: retention cycles ready in $(($(date +%s) - start))s (log $OUT/retention.log)"
  fi
fi

for nb in "${NOTEBOOKS[@]}"; do
  t0=$(date +%s)
  "$PY" -m nbconvert --log-level WARN --to html --execute --ExecutePreprocessor.timeout=600 \
    --ExecutePreprocessor.kernel_name=python3 --output-dir "$OUT" "$nb"
  echo "notebooks: $nb executed in $(($(date +%s) - t0))s -> $OUT/$(basename "${nb%.ipynb}").html"
done
echo "notebooks: ${#NOTEBOOKS[@]} notebooks on database $CHURN_CLICKHOUSE_DB in $(($(date +%s) - start))s"
