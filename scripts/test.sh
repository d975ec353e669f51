#!/usr/bin/env bash
# Runs every test layer and exits non-zero on any failure:
#   0. formatting (cargo fmt --check), lints (clippy, the server's build and
#      the three browser bundles) and the import direction
#      (scripts/check-layers.sh),
#   1. unit and integration tests (cargo test, real SQLite and WebSockets),
#      and the integration tests again on a real PostgreSQL,
#   2. a seconds-long run of the signaling load generator, and the WASM
#      size budget,
#   3. end-to-end tests in Chromium, inside a loopback-only network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
# Each layer's heading says when it began, so a slow run shows where.
phase() { echo "==> $1 (at $(( $(date +%s) - start )) s)"; }

scripts/tools.sh test

# The browser bundles build in the background while the server's code is
# checked and compiled (their link-time optimisation and wasm-opt keep one
# core each busy for long stretches), and are waited for before any test
# runs, so no test shares the machine with a compiler.
mkdir -p target
# Clippy is the compiler of this package's own crates (RUSTC_WORKSPACE_WRAPPER,
# as `cargo clippy` does it): the lints run inside the builds the tests need
# anyway, instead of a second, check-only pass over every dependency.
# Artifacts built this way are kept apart from plain builds (cargo hashes the
# wrapper into their names), so a lint can never be skipped by a cached build.
export RUSTC_WORKSPACE_WRAPPER=clippy-driver
export CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
scripts/build-site.sh > target/build-site.log 2>&1 &
site=$!
trap 'kill "$site" 2>/dev/null || true' EXIT
site_built() {
  if ! wait "$site"; then
    cat target/build-site.log >&2
    echo "the browser bundles did not build (above)" >&2
    exit 1
  fi
  # Its process id is free again: no kill of whatever gets it next.
  trap - EXIT
  grep -E '^(warning|error)' target/build-site.log >&2 || true
}

phase "formatting and the import direction"
cargo fmt --check
scripts/check-layers.sh

phase "the test build, linted (the browser bundles build and are linted beside it)"
cargo test --features ssr,postgres --no-run
site_built

phase "unit and integration tests"
scripts/check-size.sh
# Those that need a quiet machine run alone, first: the two that compare
# response times (a wrong password against an unknown account, a taken
# email against a new one), the burst of guesses on one account (past the
# limit, each block of 1 s, 2 s, … that ends lets one more guess be
# checked: beside three other tests its 300 requests took long enough for
# 12 more, once in CI), and the one that asks a real coturn for relays
# (its client failed to bind its sockets beside three other tests, once in
# CI; and after the other tests, among the thousands of connections they
# leave in TIME-WAIT, it retries its binds for a minute instead of 5 s).
# Then the rest, four at a time: they mostly wait on sockets and timers.
# Cluster mode, and copying into PostgreSQL, need PostgreSQL (and Redis):
# their tests run in the next phase.
cargo test --features ssr,postgres --test api -- --test-threads=1 _the_same_time real_coturn
cargo test --features ssr,postgres -- --test-threads=4 --skip _the_same_time --skip real_coturn --skip cluster:: --skip copy_to_postgres::
# That skip also matches the cluster adapter's own unit tests
# (server::cluster::…), which need no services: they run here.
cargo test --features ssr,postgres --lib server::cluster::

phase "integration tests on PostgreSQL, and cluster mode with Redis (throwaway servers, a database per test)"
scripts/with-postgres.sh scripts/with-redis.sh bash -c 'cargo test --features ssr,postgres --test api -- --test-threads=1 _the_same_time \
  && cargo test --features ssr,postgres --test api -- --test-threads=4 --skip _the_same_time --skip real_coturn'

phase "load generator smoke run (the benchmark itself: docs/performance.md)"
target/debug/examples/loadgen --server target/debug/huddle --sockets 40 --rooms 8 --seconds 2 --idle 50
phase "media server load client smoke run (the benchmark against Janus: bench/sfuload.sh)"
target/debug/examples/sfuload --huddle target/debug/huddle --no-janus --workloads class6,lecture10,breakout6 --seconds 2 --settle 3 --at-least-pps 600

phase "end-to-end tests"
end2end/run.sh

echo "==> all test layers passed in $(( $(date +%s) - start )) s"
