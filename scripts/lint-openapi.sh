#!/usr/bin/env bash
# Lints the API's OpenAPI document (serve/openapi.yaml) with Redocly's
# recommended rules; any error fails. Redocly CLI is installed from npm into a
# cache folder outside the repository the first time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${REDOCLY_CLI_VERSION:-2.77.0}"
PREFIX="${REDOCLY_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/churn/redocly-$VERSION}"

if ! command -v npm >/dev/null 2>&1; then
  echo "lint-openapi: npm is required (Debian: apt-get install -y npm)" >&2
  exit 1
fi
if [ ! -x "$PREFIX/node_modules/.bin/redocly" ]; then
  echo "lint-openapi: installing @redocly/cli@$VERSION into $PREFIX"
  mkdir -p "$PREFIX"
  npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@redocly/cli@$VERSION" >/dev/null
fi
cd "$ROOT"
"$PREFIX/node_modules/.bin/redocly" lint --format=stylish serve/openapi.yaml
