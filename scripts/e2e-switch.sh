#!/usr/bin/env bash
# make e2e-switch: host setup, node, probe and provider images (cached by their inputs), then one
# netconform switch from FROM to TO on a real kind cluster.
# Settings come from the environment: FROM, TO, K8S_VERSION, NODES, KEEP, ARTIFACTS, SWITCH_ARGS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
FROM=${FROM:-kubenet}
TO=${TO:-flannel}

make -s build
# Providers that cannot be installed here end now, before any image is built.
bin/netconform run --provider "$FROM" --preflight >/dev/null
# shellcheck disable=SC2086
bin/netconform run --provider "$TO" --preflight >/dev/null

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
provider_images="$(scripts/provider-images.sh "$FROM") $(scripts/provider-images.sh "$TO")"
provider_s=$(since "$t")

args=(switch --from "$FROM" --to "$TO" --nodes "${NODES:-3}" --node-image "$node_image" --probe-image "$probe_image"
  --phase "host setup=$setup_s" --phase "node image=$node_s" --phase "probe image=$probe_s" --phase "provider images=$provider_s")
for ref in $provider_images; do args+=(--provider-image "$ref"); done
[ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ] && args+=(--keep)
[ -n "${ARTIFACTS:-}" ] && args+=(--artifacts "$ARTIFACTS")
# shellcheck disable=SC2206
[ -n "${SWITCH_ARGS:-}" ] && args+=($SWITCH_ARGS)
exec bin/netconform "${args[@]}"
