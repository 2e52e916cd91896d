#!/usr/bin/env bash
# make e2e: host setup, node and probe images (cached by their inputs), then one netconform run.
# Settings come from the environment: PROVIDER, K8S_VERSION, NODES, KEEP, IP_FAMILY, ARTIFACTS,
# RUN_ARGS, PERF (1: the perf suite too, with the perf image).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=scripts/prepare.sh
. scripts/prepare.sh

# A provider that cannot be installed here (or bad options) ends now, before any image is built.
make -s build
# No PROVIDER: the one the binary's registry marks as the default.
PROVIDER=${PROVIDER:-$(bin/netconform providers --default)}
# IP_FAMILY (ipv4, ipv6, dual) is checked here too: a provider that does not do it on kind ends now.
family_args=()
[ -n "${IP_FAMILY:-}" ] && family_args=(--ip-family "$IP_FAMILY")
# shellcheck disable=SC2086
bin/netconform run --provider "$PROVIDER" "${family_args[@]}" --preflight ${RUN_ARGS:-} >/dev/null

prepare_cluster_images

t=$(now)
provider_images=$(scripts/provider-images.sh "$PROVIDER")
provider_s=$(since "$t")

args=(run --provider "$PROVIDER" --nodes "${NODES:-3}" --node-image "$node_image" --probe-image "$probe_image"
  "${family_args[@]}" "${phase_args[@]}")
for ref in $provider_images; do args+=(--provider-image "$ref"); done
[ -n "$provider_images" ] && args+=(--phase "provider images=$provider_s")
if [ -n "${PERF:-}" ] && [ "${PERF}" != 0 ]; then
  t=$(now)
  perf_image=$(scripts/probe-image.sh --perf)
  args+=(--perf --perf-image "$perf_image" --phase "perf image=$(since "$t")")
fi
[ -n "${KEEP:-}" ] && [ "${KEEP}" != 0 ] && args+=(--keep)
[ -n "${ARTIFACTS:-}" ] && args+=(--artifacts "$ARTIFACTS")
# shellcheck disable=SC2206
[ -n "${RUN_ARGS:-}" ] && args+=($RUN_ARGS)
exec bin/netconform "${args[@]}"
