#!/usr/bin/env bash
# Installs what is missing, builds and serves Huddle on
# http://127.0.0.1:3000 (settings: target/first-run/huddle --help). The
# first-run profile is a release built faster (Cargo.toml); deployments
# build --release (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh build
# The server's build starts once the browser bundles are compiled; their
# last optimisation pass and compression (one core) run beside it.
mkdir -p target
rm -f target/.bundles-compiled
# Ctrl-C stops the bundles' build too: a script's background jobs ignore
# SIGINT, so everything in this process group is sent SIGTERM.
trap 'trap - INT TERM; kill 0' INT TERM
scripts/build-site.sh &
site=$!
while [ ! -e target/.bundles-compiled ]; do
  if ! kill -0 "$site" 2>/dev/null; then
    wait "$site" || exit 1
    break
  fi
  sleep 1
done
cargo build --profile first-run --features ssr
wait "$site"
exec target/first-run/huddle
