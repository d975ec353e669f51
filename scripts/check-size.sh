#!/usr/bin/env bash
# The WASM size budget: the hydrate bundle must stay within 250 KB
# compressed (docs/performance.md). Measured brotli-compressed, as browsers
# fetch it over HTTPS (the server sends the stored .br); the gzip figure,
# for browsers that only take gzip, is printed beside it. Run after
# scripts/build-site.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET=$((250 * 1000))
WASM=target/site/pkg/huddle_bg.wasm
raw=$(stat -c %s "$WASM")
br=$(brotli --best -c "$WASM" | wc -c)
gz=$(gzip -9 -c "$WASM" | wc -c)
js=$(brotli --best -c target/site/pkg/huddle.js | wc -c)
echo "wasm bundle: $raw bytes raw, $br bytes brotli, $gz bytes gzip (+ $js bytes of brotli JS glue); budget $BUDGET bytes compressed"
if [ "$br" -gt "$BUDGET" ]; then
  echo "FAIL: the WASM bundle is over its size budget" >&2
  exit 1
fi
