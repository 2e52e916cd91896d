#!/usr/bin/env bash
# Measures how long all suites take on a warm kind cluster: one `netconform run --keep` makes and
# warms the cluster (its own time is not the figure), then ROUNDS `netconform check` runs of every
# suite against it, agents kept, each printing its suites phase, probe-agents phase and counts.
# The target (issue 13) is at most 120 s for all suites on a warm 3-node cluster; for the
# NetworkPolicy scenarios (issue 14, LABEL_FILTER=policy with a provider that enforces it) 5 min.
#   scripts/bench-suites.sh [ROUNDS]     PROVIDER, K8S_VERSION, NODES, IP_FAMILY as for make e2e;
#                                        LABEL_FILTER selects suites (warm-up run and rounds)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=scripts/prepare.sh
. scripts/prepare.sh
rounds=${1:-2}
make -s build
PROVIDER=${PROVIDER:-$(bin/netconform providers --default)}
prepare_cluster_images
id=bench-$(date +%s | tail -c 6)
art=_artifacts/$id
mkdir -p "$art"
trap 'bin/netconform delete --name "$id" >/dev/null 2>&1 || true' EXIT
family_args=()
[ -n "${IP_FAMILY:-}" ] && family_args=(--ip-family "$IP_FAMILY")
filter_args=()
[ -n "${LABEL_FILTER:-}" ] && filter_args=(--label-filter "$LABEL_FILTER")
provider_images=()
for ref in $(scripts/provider-images.sh "$PROVIDER"); do provider_images+=(--provider-image "$ref"); done
echo "[bench] cluster $id: $PROVIDER on ${NODES:-3} nodes${IP_FAMILY:+, $IP_FAMILY} (warm-up run, not measured)" >&2
bin/netconform run --provider "$PROVIDER" "${family_args[@]}" --run-id "$id" --keep --nodes "${NODES:-3}" --node-image "$node_image" \
  --probe-image "$probe_image" "${provider_images[@]}" "${filter_args[@]}" --artifacts "$art/run" >"$art/run.log" 2>&1 ||
  echo "[bench] warm-up run exit $? (see $art/run.log); the cluster is kept, the rounds go on" >&2
[ -f "$art/run/kubeconfig" ] || { echo "[bench] the warm-up run made no cluster; see $art/run.log" >&2; tail -20 "$art/run.log" >&2; exit 1; }
# phase NAME FILE: the phase's time from the result's summary.
phase() { bin/netconform report "$2" 2>/dev/null | awk -F'|' -v p="$1" '$2 ~ "^ "p" $" { gsub(/ /, "", $4); print $4 }'; }
for i in $(seq 1 "$rounds"); do
  dir=$art/check-$i
  code=0
  bin/netconform check --kubeconfig "$art/run/kubeconfig" --kind-cluster "$id" --provider "$PROVIDER" \
    --probe-image "$probe_image" --keep-agents "${filter_args[@]}" --artifacts "$dir" >"$dir.log" 2>&1 || code=$?
  counts=$(bin/netconform report "$dir/result.json" 2>/dev/null | grep -Eo "[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped" | head -1 || true)
  printf 'round %d: suites %s, probe agents %s, %s, exit %d\n' "$i" "$(phase suites "$dir/result.json")" \
    "$(phase 'probe agents ready' "$dir/result.json")" "${counts:-no counts}" "$code"
  # The NetworkPolicy scenarios' figures, when the round ran them.
  grep -E '^(scenarios:|in effect:)' "$dir/summary.md" 2>/dev/null | sed 's/^/  /' || true
done
