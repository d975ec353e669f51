#!/usr/bin/env bash
# Installs what is missing, builds a release and serves Huddle on
# http://127.0.0.1:3000 (settings: target/release/huddle --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh build
# The browser bundles and the server build side by side: each leaves a core
# idle for long stretches (link-time optimisation, wasm-opt, the last
# crates), and cargo locks each profile's folder apart.
scripts/build-site.sh &
site=$!
trap 'kill "$site" 2>/dev/null || true' EXIT
cargo build --release --features ssr
wait "$site"
trap - EXIT
exec target/release/huddle
