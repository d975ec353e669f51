#!/usr/bin/env bash
# The media-server benchmark: builds the release server and `sfuload`
# (examples/sfuload), then runs it in a loopback-only network namespace
# with the load client pinned to core 1 (it pins each server to core 0).
# Janus needs an interface that is not loopback carrying 127.0.0.1 (it
# skips loopback ones when gathering candidates): janus0, a port-less
# bridge. Needs root (or sudo) for the namespace; Debian's `janus` is
# installed by `scripts/tools.sh bench`.
#
#   bench/sfuload.sh                                   # every workload, both servers
#   bench/sfuload.sh --workloads class --seconds 20
#   bench/sfuload.sh --no-janus --workloads lecture10 --seconds 2
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh bench
cargo build --release --features ssr --bin huddle --example sfuload
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
exec $SUDO unshare --net -- bash -c '
  ip link set lo up
  ip link add janus0 type bridge && ip addr add 127.0.0.1/32 dev janus0 && ip link set janus0 up
  ulimit -n "$(ulimit -Hn)"
  exec taskset -c 1 target/release/examples/sfuload "$@"' sfuload "$@"
