#!/usr/bin/env bash
# Installs what building and testing Huddle need, once, into their default
# global places (rustup, ~/.cargo/bin, npm's global prefix, apt), skipping
# anything already present at the right version. Nothing is downloaded from
# anywhere but the package registries.
#
#   scripts/tools.sh build   # wasm target, wasm-bindgen, wasm-opt
#   scripts/tools.sh test    # the above, plus Chromium and end2end/ packages
set -euo pipefail
cd "$(dirname "$0")/.."

# wasm-bindgen's CLI must match the library version in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
BINARYEN_VERSION=132

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

need_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

need_rust_components() {
  # rustfmt and clippy: formatting and lints are checked by make test.
  local installed
  installed=$(rustup component list --installed)
  for component in rustfmt clippy; do
    if ! grep -q "^$component" <<<"$installed"; then
      say "adding the $component component"
      rustup component add "$component"
    fi
  done
}

need_wasm_bindgen() {
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    # Not --locked: its lock file names a webpki-roots release the registry
    # mirror here does not serve.
    # --debug: built in 65 s instead of 137 s on two cores; it then takes
    # 1.4 s instead of 0.2 s a bundle, with the same output.
    cargo install --debug wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
  fi
}

need_wasm_opt() {
  if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION\b"; then
    say "installing wasm-opt (npm binaryen@$BINARYEN_VERSION)"
    npm install --global --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
  fi
}

need_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

need_e2e_packages() {
  # npm ci is quick for one package and always matches package-lock.json.
  if [ ! -d end2end/node_modules/playwright-core ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing end2end/ npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
}

case "${1:-build}" in
  build)
    need_wasm_target
    need_wasm_bindgen
    need_wasm_opt
    # brotli: the bundle is also stored brotli-compressed (what browsers on
    # HTTPS fetch, and what the size budget measures).
    # libsqlite3-dev and pkg-config: the server links the system's SQLite
    # (.cargo/config.toml).
    need_apt_packages brotli libsqlite3-dev pkg-config
    ;;
  test)
    need_rust_components
    need_wasm_target
    need_wasm_bindgen
    need_wasm_opt
    # libsqlite3-dev and pkg-config as for build; chromium for the browser
    # tests; iproute2 (ip, tc) and util-linux
    # (unshare, nsenter) for the loopback-only network namespace they run in
    # and the shaped link of the bad-link test; nftables (nft) to cut media
    # traffic inside it for the network-blip test and to lose packets on the
    # shaped link; coturn for the
    # call through a real TURN relay; caddy (a real TLS reverse proxy) and
    # openssl (a test certificate) for the deployment tests; systemd for
    # systemd-analyze, which checks docs/huddle.service; a Chinese font
    # (fonts-wqy-microhei, 1.6 MB) so Chinese pages are drawn, not boxes,
    # in the screenshots; postgresql for the integration tests' second run,
    # on PostgreSQL (scripts/with-postgres.sh starts a throwaway server);
    # redis-server for cluster mode's tests (scripts/with-redis.sh);
    # vpx-tools (vpxenc, 1.4 MB) for the real VP8 that sfuload's pupils
    # replay to a teacher's browser in the gallery test (bench/clips.sh).
    need_apt_packages brotli libsqlite3-dev pkg-config chromium iproute2 util-linux nftables coturn caddy openssl systemd fonts-wqy-microhei postgresql redis-server vpx-tools
    need_e2e_packages
    ;;
  bench)
    # The benchmarks' peers: janus (a mature C media server, VideoRoom) for
    # bench/sfuload.sh, wrk for the page benchmark; taskset (util-linux)
    # pins server and load client to different cores; vpx-tools (vpxenc)
    # makes the real VP8 that sfuload replays to a browser (bench/clips.sh).
    need_apt_packages janus wrk util-linux iproute2 vpx-tools
    ;;
  *)
    echo "usage: scripts/tools.sh build|test|bench" >&2
    exit 2
    ;;
esac
