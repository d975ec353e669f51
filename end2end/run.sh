#!/usr/bin/env bash
# Runs the end-to-end tests with the server and Chromium inside a fresh
# network namespace that has only loopback: nothing can leave the machine.
set -euo pipefail
cd "$(dirname "$0")"

export HUDDLE_BIN="${HUDDLE_BIN:-$PWD/../target/debug/huddle}"
export HUDDLE_SITE_ROOT="${HUDDLE_SITE_ROOT:-$PWD/../target/site}"
[ -x "$HUDDLE_BIN" ] || { echo "no server binary at $HUDDLE_BIN (run cargo build --features ssr)" >&2; exit 1; }

# Root can make a network namespace directly; anyone else needs a user
# namespace around it.
if [ "$(id -u)" = 0 ]; then ns=(unshare --net); else ns=(unshare --user --map-root-user --net); fi
# PostgreSQL and Redis (for cluster mode's tests) start inside it too.
exec "${ns[@]}" -- bash -c 'ip link set lo up && exec ../scripts/with-postgres.sh ../scripts/with-redis.sh node --test --test-concurrency=1 tests/'
