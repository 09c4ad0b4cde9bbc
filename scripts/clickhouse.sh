#!/usr/bin/env bash
# Installs (when missing) and starts a local ClickHouse server on loopback, then waits
# until it answers on the native port. Idempotent: a running server is left alone.
# Used by `make clickhouse`, `make demo` and .ci/run.
set -euo pipefail

PORT="${CHURN_CLICKHOUSE_PORT:-9000}"
WAIT="${CHURN_CLICKHOUSE_WAIT:-60}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ready() {
  clickhouse-client --port "$PORT" -q "SELECT 1" >/dev/null 2>&1
}

if ! command -v clickhouse-server >/dev/null 2>&1 || ! command -v clickhouse-client >/dev/null 2>&1; then
  echo "clickhouse: installing Debian packages clickhouse-server and clickhouse-client"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
fi

if ready; then
  echo "clickhouse: already running on 127.0.0.1:$PORT ($(clickhouse-client --port "$PORT" -q 'SELECT version()'))"
  exit 0
fi

# The Debian package ships a config that listens on loopback only; make sure the
# directories it writes to exist and belong to the server's user.
for d in /var/lib/clickhouse /var/log/clickhouse-server /run/clickhouse-server; do
  as_root mkdir -p "$d"
  as_root chown -R clickhouse:clickhouse "$d" 2>/dev/null || true
done

echo "clickhouse: starting server (logs in /var/log/clickhouse-server)"
as_root setsid su -s /bin/sh clickhouse -c \
  "clickhouse-server --config-file=/etc/clickhouse-server/config.xml >/dev/null 2>&1" </dev/null >/dev/null 2>&1 &

for _ in $(seq 1 "$WAIT"); do
  if ready; then
    echo "clickhouse: ready on 127.0.0.1:$PORT ($(clickhouse-client --port "$PORT" -q 'SELECT version()'))"
    exit 0
  fi
  sleep 1
done
echo "clickhouse: server did not answer on 127.0.0.1:$PORT within ${WAIT}s; see /var/log/clickhouse-server/clickhouse-server.err.log" >&2
exit 1
