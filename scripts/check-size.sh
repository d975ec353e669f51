#!/usr/bin/env bash
# The WASM size budget: the hydrate bundle must stay within 250 KB gzipped
# (docs/performance.md). Run after scripts/build-site.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET=$((250 * 1000))
WASM=target/site/pkg/huddle_bg.wasm
raw=$(stat -c %s "$WASM")
gz=$(gzip -9 -c "$WASM" | wc -c)
js=$(gzip -9 -c target/site/pkg/huddle.js | wc -c)
echo "wasm bundle: $raw bytes raw, $gz bytes gzipped (+ $js bytes of gzipped JS glue); budget $BUDGET bytes gzipped"
if [ "$gz" -gt "$BUDGET" ]; then
  echo "FAIL: the WASM bundle is over its size budget" >&2
  exit 1
fi
