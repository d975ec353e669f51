#!/usr/bin/env bash
# Installs what is missing, builds and serves Huddle on
# http://127.0.0.1:3000 (settings: target/first-run/huddle --help). The
# first-run profile is a release built faster (Cargo.toml); deployments
# build --release (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh base
mkdir -p target
rm -f target/.bundles-compiled target/.wasm-bindgen-installed
# wasm-bindgen's CLI (about a minute to build, once) builds beside the
# first browser bundle, whose final optimisation leaves a core idle;
# build-site.sh waits for it before it first needs it.
(
  status=0
  scripts/tools.sh wasm-bindgen || status=$?
  echo "$status" > target/.wasm-bindgen-installed
) &
# The server's build starts once the browser bundles are compiled; their
# last optimisation pass and compression (one core) run beside it.
WASM_BINDGEN_INSTALLED=target/.wasm-bindgen-installed scripts/build-site.sh &
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
