#!/usr/bin/env bash
# Prints the brotli size of the probe's bundle without and with leptos_i18n,
# built and shrunk as scripts/build-site.sh does Huddle's.
set -euo pipefail
cd "$(dirname "$0")"
for features in "" with_i18n; do
  cargo build --quiet --lib --target wasm32-unknown-unknown --profile wasm-release ${features:+--features "$features"}
  wasm-bindgen --target web --no-typescript --out-name probe --out-dir target/out target/wasm32-unknown-unknown/wasm-release/i18n_probe.wasm
  wasm-opt -Oz --converge --strip-producers --strip-target-features --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-mutable-globals --enable-reference-types target/out/probe_bg.wasm -o target/out/probe_bg.wasm
  echo "${features:-plain strings}: $(brotli --best -c target/out/probe_bg.wasm | wc -c) bytes brotli"
done
