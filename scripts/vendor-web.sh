#!/usr/bin/env bash
# Refreshes the dashboard's vendored browser libraries (serve/web/vendor) from
# the npm packages pinned in package-lock.json, and records their checksums in
# serve/web/vendor/SHA256SUMS. Run it after changing package.json (then
# `npm install --package-lock-only`); serve/vendor_test.go fails while the
# vendored files do not match the lock file or the recorded checksums.
# With --check it only compares a fresh install with the vendored files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/serve/web/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cp "$ROOT/package.json" "$ROOT/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --silent --no-audit --no-fund --ignore-scripts >/dev/null)
src="$tmp/node_modules/chart.js"
if [ "${1:-}" = "--check" ]; then
  cmp "$src/dist/chart.umd.min.js" "$VENDOR/chart.umd.min.js"
  cmp "$src/LICENSE.md" "$VENDOR/LICENSE.md"
  echo "vendor-web: serve/web/vendor matches package-lock.json"
  exit 0
fi
cp "$src/dist/chart.umd.min.js" "$VENDOR/chart.umd.min.js"
cp "$src/LICENSE.md" "$VENDOR/LICENSE.md"
(cd "$VENDOR" && sha256sum chart.umd.min.js LICENSE.md > SHA256SUMS)
echo "vendor-web: chart.js $(node -p "require('$src/package.json').version") vendored into serve/web/vendor"
