#!/usr/bin/env bash
# Regenerates each worker's Env interface from its wrangler config (`npm run types`).
# Secrets are typed from .dev.vars.example (copied beside each config for the run only, when no
# .dev.vars exists there) so CI and fresh clones type-check the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
gen() { # config interface out
  local dir; dir=$(dirname "$1"); local tmp=""
  if [ ! -f "$dir/.dev.vars" ]; then cp .dev.vars.example "$dir/.dev.vars"; tmp="$dir/.dev.vars"; fi
  npx wrangler types -c "$1" --env-interface "$2" --include-runtime false --strict-vars false >/dev/null
  [ -n "$tmp" ] && rm -f "$tmp"
  # Generated at the root, so module paths are root-relative: make them relative to the worker folder.
  local rel="./$(dirname "$3")/"
  sed -e "s#import(\"${rel}#import(\"./#g" worker-configuration.d.ts > "$3"
  rm -f worker-configuration.d.ts
}
gen wrangler.toml EdgeEnv workers/edge/worker-configuration.d.ts
gen workers/processor/wrangler.toml ProcessorEnv workers/processor/worker-configuration.d.ts
gen workers/indexer/wrangler.toml IndexerEnv workers/indexer/worker-configuration.d.ts
gen workers/console/wrangler.toml ConsoleEnv workers/console/worker-configuration.d.ts
gen workers/alerter/wrangler.toml AlerterEnv workers/alerter/worker-configuration.d.ts
echo "types regenerated"
