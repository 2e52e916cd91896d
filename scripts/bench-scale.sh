#!/usr/bin/env bash
# How `check` scales with the cluster (issue 15): for each size in SIZES (default "2 3 4 6") a
# kind cluster of PROVIDER (default the binary's) is made and warmed by one run (not measured),
# then `check` of LABEL_FILTER (default 'dns || connectivity') runs on it twice, and prints the
# figures of the second: end-to-end seconds, the suites phase, checks, node pairs probed, seconds
# per check and milliseconds per pair. On the largest cluster a third check runs with
# --max-pairs MAX_PAIRS (default 2 x nodes) to show the bound. One cluster at a time; each is
# deleted before the next.
#   scripts/bench-scale.sh        SIZES, PROVIDER, LABEL_FILTER, MAX_PAIRS, K8S_VERSION
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# shellcheck source=scripts/prepare.sh
. scripts/prepare.sh
make -s build
PROVIDER=${PROVIDER:-$(bin/netconform providers --default)}
SIZES=${SIZES:-2 3 4 6}
LABEL_FILTER=${LABEL_FILTER:-dns || connectivity}
prepare_cluster_images
provider_images=()
for ref in $(scripts/provider-images.sh "$PROVIDER"); do provider_images+=(--provider-image "$ref"); done
base=_artifacts/bench-scale-$(date +%Y%m%d-%H%M%S)
mkdir -p "$base"
id=""
trap '[ -n "$id" ] && bin/netconform delete --name "$id" >/dev/null 2>&1 || true' EXIT
# phase NAME FILE: the phase's seconds from the result JSON.
phase() { jq -r --arg p "$1" '[.phases[] | select(.name == $p) | .durationMS][0] // 0 | . / 1000' "$2"; }
# measure DIR ARGS...: one check, its figures as one line.
measure() {
  local dir=$1 start end code=0
  shift
  start=$(now)
  bin/netconform check --kubeconfig "$art/run/kubeconfig" --kind-cluster "$id" --provider "$PROVIDER" --probe-image "$probe_image" \
    --label-filter "$LABEL_FILTER" --artifacts "$dir" "$@" >"$dir.log" 2>&1 || code=$?
  end=$(now)
  jq -r --arg total "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" --arg suites "$(phase suites "$dir/result.json")" \
    --arg agents "$(phase 'probe agents ready' "$dir/result.json")" --arg code "$code" '
    ([.checks[] | select(.status != "skipped")] | length) as $checks
    | ([.checks[] | select(.status != "skipped") | .observations // [] | .[] | select(.from != null and .to != null)] | length) as $pairs
    | "end to end \($total) s, agents \($agents) s, suites \($suites) s, \($checks) checks, \($pairs) observations from/to, "
      + "\(if $checks > 0 then (($suites | tonumber) / $checks * 100 | round / 100) else "-" end) s/check, "
      + "\(if $pairs > 0 then (($suites | tonumber) / $pairs * 1000 * 10 | round / 10) else "-" end) ms/observation, exit \($code)"' "$dir/result.json"
}
largest=$(echo "$SIZES" | tr ' ' '\n' | sort -n | tail -1)
for n in $SIZES; do
  id=scale-$n-$(date +%s | tail -c 5)
  art=$base/$n
  mkdir -p "$art"
  echo "[bench-scale] $n nodes: cluster $id (warm-up run, not measured)" >&2
  bin/netconform run --provider "$PROVIDER" --run-id "$id" --keep --nodes "$n" --node-image "$node_image" --probe-image "$probe_image" \
    "${provider_images[@]}" --label-filter "$LABEL_FILTER" --artifacts "$art/run" >"$art/run.log" 2>&1 ||
    echo "[bench-scale] warm-up run exit $? (see $art/run.log)" >&2
  [ -f "$art/run/kubeconfig" ] || { echo "[bench-scale] no cluster for $n nodes; see $art/run.log" >&2; tail -20 "$art/run.log" >&2; exit 1; }
  measure "$art/check-1" >/dev/null
  printf '%d nodes: %s\n' "$n" "$(measure "$art/check-2")"
  if [ "$n" = "$largest" ]; then
    limit=${MAX_PAIRS:-$((2 * n))}
    printf '%d nodes, --max-pairs %d: %s\n' "$n" "$limit" "$(measure "$art/check-max" --max-pairs "$limit")"
  fi
  bin/netconform delete --name "$id" >/dev/null 2>&1 || echo "[bench-scale] delete $id failed" >&2
  id=""
done
echo "[bench-scale] results under $base" >&2
