#!/usr/bin/env bash
# Installs web/node_modules exactly as web/package-lock.json pins it (npm ci), once per lock file
# content: a stamp holds the lock file's hash. Serialised with flock, since several build trees
# (release, ASan, TSan) share web/node_modules.
set -euo pipefail
web="$(cd "$(dirname "$0")/../web" && pwd)"
command -v npm >/dev/null || { echo "npm_ci: npm not found (scripts/setup.sh installs Node.js and npm)" >&2; exit 1; }
exec 9>"$web/.npm-ci.lock"
flock 9
want=$(sha256sum "$web/package-lock.json" | cut -d' ' -f1)
stamp="$web/node_modules/.trackiq-lock-sha256"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
echo "npm_ci: installing the report's front-end packages (web/package-lock.json)" >&2
(cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
