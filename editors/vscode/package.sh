#!/usr/bin/env sh
# Build tensorlint-<version>.vsix in this folder: install the pinned dependencies, run the unit tests, package.
# Needs node >= 20 and the npm registry. Install the result with `code --install-extension tensorlint-*.vsix`.
set -eu
cd "$(dirname "$0")"
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
node --test test/
npx --no-install vsce package "$@"
