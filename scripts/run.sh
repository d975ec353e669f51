#!/usr/bin/env bash
# Installs what is missing, builds and serves Huddle on
# http://127.0.0.1:3000 (settings: target/first-run/huddle --help). The
# first-run profile is a release built faster (Cargo.toml); deployments
# build --release (docs/deploy.md).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/tools.sh build
scripts/build-site.sh
cargo build --profile first-run --features ssr
exec target/first-run/huddle
