#!/usr/bin/env bash
# Installs what is missing, builds a release and serves Huddle on
# http://127.0.0.1:3000 (settings: target/release/huddle --help).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh build
scripts/build-site.sh
cargo build --release --features ssr
exec target/release/huddle
