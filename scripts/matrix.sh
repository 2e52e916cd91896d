#!/usr/bin/env bash
# make matrix: every provider in PROVIDERS on a fresh kind cluster, one after another, all from
# one node image and one probe image, then one compatibility matrix of all their results.
#
#   PROVIDERS="kubenet flannel flannel-udp flannel:backend=host-gw kube-router" scripts/matrix.sh
#
# An entry is a provider name or kops --networking value, optionally followed by
# :KEY=VALUE[,KEY=VALUE] provider options. Results go to $MATRIX_DIR (default
# _artifacts/matrix-<time>), one directory per entry, with matrix.md and matrix.json beside them.
# A provider that cannot be installed here still gets a column saying why. Exit status: 0 when
# every run passed, 1 when any failed or could not run (the matrix is written either way).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PROVIDERS=${PROVIDERS:-kubenet flannel kube-router calico canal cilium}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
NODES=${NODES:-3}
out=${MATRIX_DIR:-_artifacts/matrix-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
log() { printf '[matrix %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

set -e
make -s build
scripts/host-setup.sh
node_image=$(scripts/node-image.sh "$K8S_VERSION")
probe_image=$(scripts/probe-image.sh)
set +e

rc=0
results=()
for entry in $PROVIDERS; do
  provider=${entry%%:*}
  dir=$out/$(echo "$entry" | tr ':=,/' '_-__')
  args=(run --provider "$provider" --nodes "$NODES" --node-image "$node_image" --probe-image "$probe_image" --artifacts "$dir")
  if [ "$entry" != "$provider" ]; then
    IFS=, read -ra opts <<<"${entry#*:}"
    for kv in "${opts[@]}"; do args+=(--provider-option "$kv"); done
  fi
  log "$entry: start"
  start=$SECONDS
  if ! images=$(scripts/provider-images.sh "$provider"); then
    # No image, no run: leave a result that says so, for the matrix.
    mkdir -p "$dir"
    jq -n --arg p "$provider" --arg img "$node_image" --arg e "building the provider images failed (scripts/provider-images.sh $provider; logs under /var/cache/netconform/logs)" \
      '{schemaVersion: 1, runID: "images-failed", provider: $p, platform: "kind", nodeImage: $img, started: (now | todate), complete: true, error: $e, phases: [], checks: []}' >"$dir/result.json"
    results+=("$dir/result.json")
    rc=1
    continue
  fi
  for ref in $images; do args+=(--provider-image "$ref"); done
  bin/netconform "${args[@]}" >"$dir.log" 2>&1
  code=$?
  [ "$code" -ne 0 ] && rc=1
  summary=$(jq -r '"\(.checks | map(select(.status == "passed")) | length) passed, \(.checks | map(select(.status == "failed")) | length) failed, \(.checks | map(select(.status == "skipped")) | length) skipped" + (if .error then "; could not run: " + .error else "" end)' "$dir/result.json" 2>/dev/null || echo "no result")
  log "$entry: exit $code in $((SECONDS - start)) s: $summary (log $dir.log)"
  [ -f "$dir/result.json" ] && results+=("$dir/result.json")
done

if [ ${#results[@]} -eq 0 ]; then
  log "no results"
  exit 2
fi
bin/netconform report merge --out "$out" "${results[@]}" || exit 2
exit $rc
