#!/usr/bin/env bash
# The WASM size budget: each bundle a page loads must stay within 250 KB
# compressed (docs/performance.md). Measured brotli-compressed, as browsers
# fetch it over HTTPS (the server sends the stored .br); the gzip figure,
# for browsers that only take gzip, is printed beside it. Run after
# scripts/build-site.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

BUDGET=$((250 * 1000))
failed=0
# Each page loads one bundle: the site's, or its call's (build-site.sh).
for name in huddle huddle-mesh huddle-sfu; do
  WASM=target/site/pkg/${name}_bg.wasm
  raw=$(stat -c %s "$WASM")
  br=$(brotli --best -c "$WASM" | wc -c)
  gz=$(gzip -9 -c "$WASM" | wc -c)
  js=$(brotli --best -c "target/site/pkg/$name.js" | wc -c)
  echo "wasm bundle $name: $raw bytes raw, $br bytes brotli, $gz bytes gzip (+ $js bytes of brotli JS glue); budget $BUDGET bytes compressed"
  if [ "$br" -gt "$BUDGET" ]; then
    echo "FAIL: the $name WASM bundle is over its size budget" >&2
    failed=1
  fi
done
exit "$failed"
