#!/usr/bin/env bash
# make e2e-switch: host setup, node, probe and provider images (cached by their inputs), then one
# netconform switch from FROM to TO on a real kind cluster.
# Settings come from the environment: FROM, TO, K8S_VERSION, NODES, KEEP, ARTIFACTS, SWITCH_ARGS,
# PERF (default 1: the perf suite on FROM before the roll and on TO after it, compared; 0: not).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=scripts/prepare.sh
. scripts/prepare.sh

make -s build
# No FROM or TO: the binary's default provider and switch target.
FROM=${FROM:-$(bin/netconform providers --default)}
TO=${TO:-$(bin/netconform providers --switch-target)}
# Providers that cannot be installed here end now, before any image is built.
bin/netconform run --provider "$FROM" --preflight >/dev/null
# shellcheck disable=SC2086
bin/netconform run --provider "$TO" --preflight >/dev/null

prepare_cluster_images

t=$(now)
provider_images="$(scripts/provider-images.sh "$FROM") $(scripts/provider-images.sh "$TO")"
provider_s=$(since "$t")

args=(switch --from "$FROM" --to "$TO" --nodes "${NODES:-3}" --node-image "$node_image" --probe-image "$probe_image"
  "${phase_args[@]}" --phase "provider images=$provider_s")
for ref in $provider_images; do args+=(--provider-image "$ref"); done
# A switch is judged on performance too: unless PERF=0, perf is measured on FROM and on TO.
if [ "${PERF:-1}" != 0 ]; then
  t=$(now)
  perf_image=$(scripts/probe-image.sh --perf)
  args+=(--perf --perf-image "$perf_image" --phase "perf image=$(since "$t")")
fi
[ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ] && args+=(--keep)
[ -n "${ARTIFACTS:-}" ] && args+=(--artifacts "$ARTIFACTS")
# shellcheck disable=SC2206
[ -n "${SWITCH_ARGS:-}" ] && args+=($SWITCH_ARGS)
exec bin/netconform "${args[@]}"
