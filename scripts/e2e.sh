#!/usr/bin/env bash
# make e2e: host setup, node and probe images (cached by their inputs), then one netconform run.
# Settings come from the environment: PROVIDER, K8S_VERSION, NODES, KEEP, ARTIFACTS, RUN_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# A provider that cannot be installed here (or bad options) ends now, before any image is built.
make -s build
# shellcheck disable=SC2086
bin/netconform run --provider "${PROVIDER:-kubenet}" --preflight ${RUN_ARGS:-} >/dev/null

t=$(now)
scripts/host-setup.sh
setup_s=$(since "$t")

t=$(now)
node_image=$(scripts/node-image.sh "${K8S_VERSION:-v1.34.4}")
node_s=$(since "$t")

t=$(now)
probe_image=$(scripts/probe-image.sh)
probe_s=$(since "$t")

t=$(now)
provider_images=$(scripts/provider-images.sh "${PROVIDER:-kubenet}")
provider_s=$(since "$t")

args=(run --provider "${PROVIDER:-kubenet}" --nodes "${NODES:-3}" --node-image "$node_image" --probe-image "$probe_image"
  --phase "host setup=$setup_s" --phase "node image=$node_s" --phase "probe image=$probe_s")
for ref in $provider_images; do args+=(--provider-image "$ref"); done
[ -n "$provider_images" ] && args+=(--phase "provider images=$provider_s")
[ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ] && args+=(--keep)
[ -n "${ARTIFACTS:-}" ] && args+=(--artifacts "$ARTIFACTS")
# shellcheck disable=SC2206
[ -n "${RUN_ARGS:-}" ] && args+=($RUN_ARGS)
exec bin/netconform "${args[@]}"
