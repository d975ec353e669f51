#!/usr/bin/env bash
# Runs a command beside a throwaway Redis (Debian's redis-server): on
# 127.0.0.1, nothing saved to disk, gone afterwards whatever the command
# did. The command finds it in HUDDLE_TEST_REDIS (tests/api's cluster
# tests give each test its own key prefix in it).
#   scripts/with-postgres.sh scripts/with-redis.sh cargo test --features ssr,postgres --test api cluster::
set -euo pipefail
command -v redis-server > /dev/null || { echo "no redis-server (scripts/tools.sh test installs Debian's redis-server)" >&2; exit 1; }
port=${HUDDLE_TEST_REDIS_PORT:-63790}
dir=$(mktemp -d /tmp/huddle-redis.XXXXXX)
redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$dir" --logfile "$dir/redis.log" --daemonize no &
pid=$!
stop() {
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  rm -rf "$dir"
}
trap stop EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping > /dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$port" ping > /dev/null || { cat "$dir/redis.log" >&2; exit 1; }
export HUDDLE_TEST_REDIS="redis://127.0.0.1:$port"
"$@"
