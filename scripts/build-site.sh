#!/usr/bin/env bash
# Builds the browser side into target/site: the hydrate WASM (optimised for
# size), its JS glue, the stylesheet and public/ files, each also gzipped and
# brotli-compressed so the server can send them compressed.
set -euo pipefail
cd "$(dirname "$0")/.."

SITE=target/site
PKG=$SITE/pkg

# Panic locations name source files; the crates' download directory adds
# ~60 bytes to each, so it is left out of the names. (Given with --config,
# these flags join those of .cargo/config.toml instead of replacing them.)
remap=()
for dir in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  remap+=("\"--remap-path-prefix=${dir%/}=\"")
done
flags=$(IFS=,; echo "${remap[*]}")
rm -rf "$PKG" target/.bundles-compiled
mkdir -p "$PKG"
work=$(mktemp -d target/site-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

# wasm-bindgen, then wasm-opt (one core, 10-20 s a bundle): run in the
# background while cargo compiles the next bundle, whose final link-time
# optimisation leaves the other core idle too.
finish() {
  local name=$1 wasm=$2
  wasm-bindgen --target web --no-typescript --out-name "$name" --out-dir "$PKG" "$wasm"
  # The producers and target-features sections are for tools; browsers
  # ignore them. One pass: a second (--converge) takes as long again (21 s
  # a bundle) for 0.5 % (1.2 KB of the call's 243 KB brotli).
  # --low-memory-unused lets a pointer's constant offset go into the load
  # or store itself (1.8 KB less of the media server's bundle, brotli). It
  # holds for Rust: the linker puts the stack first, growing down towards
  # address 0, so the lowest kilobyte is touched only by a stack within
  # 1 KB of overflowing its megabyte (docs/performance.md).
  wasm-opt -Oz --low-memory-unused --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types \
    "$PKG/${name}_bg.wasm" -o "$PKG/${name}_bg.wasm"
}

# One bundle per kind of page (Cargo.toml's features): each page loads one.
# (`make test` runs this with clippy as the compiler: RUSTC_WORKSPACE_WRAPPER,
# scripts/test.sh.)
finishing=()
for bundle in huddle:hydrate huddle-mesh:bundle-mesh huddle-sfu:bundle-sfu; do
  name=${bundle%%:*}
  cargo build --config "build.rustflags=[$flags]" --lib --target wasm32-unknown-unknown --features "${bundle#*:}" --profile wasm-release
  cp target/wasm32-unknown-unknown/wasm-release/huddle.wasm "$work/$name.wasm"
  finish "$name" "$work/$name.wasm" &
  finishing+=("$!")
done
# Every bundle is compiled: what is left (the last wasm-opt pass and the
# compression) needs one core, so `make run` starts the server's build now
# (scripts/run.sh).
touch target/.bundles-compiled
for job in "${finishing[@]}"; do
  wait "$job"
done
cp style/main.css "$PKG/huddle.css"
cp -r style/icons "$PKG/icons"
cp style/how-it-works.svg "$PKG/"
cp -r public/. "$SITE/"
for file in "$PKG"/*_bg.wasm "$PKG"/huddle*.js "$PKG"/huddle.css; do
  gzip -9 --keep --force "$file"
  brotli --best --keep --force "$file"
done
