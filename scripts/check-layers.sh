#!/usr/bin/env bash
# The import direction of docs/architecture.md: a module imports only from
# its own layer or below (domain and error ← call ← server ← api ← pages ←
# app and startup; the browser client sits beside the server, above call).
# Fails naming each import that runs up a layer.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each module, and the modules above it that it may not name.
rules=(
  "domain:call server api pages client app startup"
  "error:call server api pages client app startup"
  "call:server api pages client app startup"
  "server:api pages client app startup"
  "client:server api pages app startup"
  "api:pages client app startup"
  "pages:app startup"
)
found=0
for rule in "${rules[@]}"; do
  module=${rule%%:*}
  above=${rule#*:}
  files=$(ls -d "src/$module" "src/$module.rs" 2>/dev/null || true)
  for name in $above; do
    # Code only: doc and line comments may name a layer above in words.
    hits=$(grep -rnE "crate::$name\b" $files --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
    if [ -n "$hits" ]; then
      echo "src/$module may not import crate::$name:" >&2
      echo "$hits" >&2
      found=1
    fi
  done
done
[ "$found" = 0 ] && echo "layers: every import runs down"
exit "$found"
