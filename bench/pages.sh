#!/usr/bin/env bash
# Server-rendered pages under load: the release server pinned to core 0,
# wrk (Debian) on core 1, kept-alive connections. For the home page,
# sign-in, a guest's pre-join page and a signed-in dashboard with 20 rooms:
# latency at about 200 requests a second (4 connections, one request each
# 20 ms), then unpaced with 1, 2 and 4 connections to find where p99
# crosses 10 ms.
#
#   bench/pages.sh            # needs scripts/tools.sh bench (wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh bench
cargo build --release --features ssr --bin huddle
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
origin="http://127.0.0.1:$port"
HUDDLE_ADDR="127.0.0.1:$port" HUDDLE_DATABASE="$dir/pages.db" HUDDLE_MEDIA_ADDR=off RUST_LOG=error \
  HUDDLE_SITE_ROOT=target/site taskset -c 0 target/release/huddle &
server=$!
trap 'kill $server; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "$origin/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/cookies"
curl -sf -c "$jar" -b "$jar" -H "Origin: $origin" -o /dev/null --data 'email=pages@example.org&display_name=Pages&password=a page benchmark password' "$origin/api/signup"
curl -sf -c "$jar" -b "$jar" -H "Origin: $origin" -o /dev/null --data 'email=pages@example.org&password=a page benchmark password' "$origin/api/login"
slug=""
for n in $(seq 20); do
  slug=$(curl -sf -c "$jar" -b "$jar" -H "Origin: $origin" -H 'Accept: application/json' --data "name=Room $n&kind=meeting" "$origin/api/create_room" | python3 -c 'import json,sys; print(json.load(sys.stdin)["slug"])')
done
cookie=$(awk '!/^#/ || /^#HttpOnly_/ {sub(/^#HttpOnly_/, ""); if (NF >= 7) printf "%s=%s; ", $6, $7}' "$jar")
run() { # name path cookie connections pace_ms
  COOKIE="$3" PACE_MS="$5" taskset -c 1 wrk -t1 -c"$4" -d10s --latency -s bench/pace.lua "$origin$2" |
    awk -v name="$1" -v c="$4" -v pace="$5" '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$NF}
      END {printf "%-12s c=%d pace=%sms: %7.0f req/s  p50 %-9s p99 %-9s %s\n", name, c, pace, rps, p50, p99, (bad ? "non-2xx " bad : "")}'
}
for page in "home / " "sign-in /login " "pre-join /r/$slug " "dashboard /rooms $cookie"; do
  read -r name path _ <<<"$page"
  c=""; [ "$name" = dashboard ] && c="$cookie"
  run "$name" "$path" "$c" 4 20
  for conns in 1 2 4; do run "$name" "$path" "$c" "$conns" 0; done
done
