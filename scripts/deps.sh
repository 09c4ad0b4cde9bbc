#!/usr/bin/env bash
# Installs the Debian packages the service needs when they are missing:
# ClickHouse (server and client), XGBoost's C library for the cgo wrapper and
# ZooKeeper.
# Go modules come from the Go module proxy through `go build` itself.
# Extra packages can be named as arguments (e.g. the notebook stack).
set -euo pipefail

# prometheus brings promtool, which checks the /metrics exposition in tests.
# zookeeperd: the action queue's lease tests (zookeeper/zktest starts it on
# loopback when it is not running).
pkgs=(clickhouse-server clickhouse-client libxgboost-dev python3-xgboost prometheus curl chromium zookeeperd "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}
echo "deps: installing ${missing[*]}"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
