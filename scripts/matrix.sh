#!/usr/bin/env bash
# make matrix: the cells of `netconform matrix plan` (each provider in PROVIDERS and each switch in
# SWITCHES, on each Kubernetes version in VERSIONS), each on a fresh kind cluster, one after
# another, then one compatibility matrix of all their results.
#
#   PROVIDERS="NAME NAME:KEY=VALUE ..." SWITCHES="FROM->TO ..." VERSIONS="v1.33.13 v1.34.4" SHARD=i/N scripts/matrix.sh
#
# The plan is the one source of what runs (netconform matrix plan --help): without PROVIDERS,
# every provider the binary installs on kind (netconform providers --installable), and without
# SWITCHES too, its default switch (--default -> --switch-target); without VERSIONS, K8S_VERSION
# (default v1.34.4). An entry is a provider name or kops --networking value, optionally followed
# by :KEY=VALUE[,KEY=VALUE] provider options; SWITCHES are FROM->TO[:KEY=VALUE,...] (options of TO),
# each a rolling `netconform switch` on a fresh cluster: the matrix's "switch from" dimension
# (column FROM -> TO). SHARD=i/N runs only shard i of N (every N-th cell from the i-th); the
# shards' results, merged (netconform report merge) in any order, make the matrix of the whole
# plan. Bad input (an unknown provider, a malformed switch, version or shard) ends here, exit 2,
# before anything is built.
# Results go to $MATRIX_DIR (default _artifacts/matrix-<time>): plan.json, node-image-VERSION.log,
# a directory per cell named as in the plan (its log beside it), and matrix.md, matrix.json and
# report.html. The node image of each version comes from scripts/node-image.sh VERSION; a version
# whose image cannot be built, and a provider whose images cannot be, still get a column saying why.
# PERF=1 adds the perf suite to every cell (the perf image is built once), and the matrix gets
# its Performance rows. Exit status: 0 when every run passed, 1 when any failed or could not run
# (the matrix is written either way), 2 on bad input or when no result or matrix could be written.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PROVIDERS=${PROVIDERS:-}
SWITCHES=${SWITCHES:-}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
VERSIONS=${VERSIONS:-$K8S_VERSION}
SHARD=${SHARD:-}
NODES=${NODES:-3}
log() { printf '[matrix %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

set -e
make -s build
plan_args=(--versions "$VERSIONS")
[ -n "$PROVIDERS" ] && plan_args+=(--providers "$PROVIDERS")
[ -n "$SWITCHES" ] && plan_args+=(--switches "$SWITCHES")
[ -n "$SHARD" ] && plan_args+=(--shard "$SHARD")
# Bad input exits 2 here, before any image is built or directory made.
plan=$(bin/netconform matrix plan "${plan_args[@]}")
out=${MATRIX_DIR:-_artifacts/matrix-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
printf '%s\n' "$plan" >"$out/plan.json"
mapfile -t cells < <(jq -c '.cells[]' <<<"$plan")
log "${#cells[@]} of $(jq .total <<<"$plan") cells${SHARD:+ (shard $SHARD)}: $(jq -r '[.cells[].name] | join(" ")' <<<"$plan")"
scripts/host-setup.sh
probe_image=$(scripts/probe-image.sh)
perf_args=()
if [ -n "${PERF:-}" ] && [ "${PERF}" != 0 ]; then
  perf_args=(--perf --perf-image "$(scripts/probe-image.sh --perf)")
fi
set +e
# One node image per version of the plan (its progress shown and kept in node-image-VERSION.log);
# a version whose image cannot be built is recorded with the script's last line, for its cells.
declare -A node_images=() node_errors=()
for v in $(jq -r '[.cells[].kubernetesVersion] | unique | .[]' <<<"$plan"); do
  if img=$( { scripts/node-image.sh "$v" 2>&1 1>&3 | tee "$out/node-image-$v.log" >&2; } 3>&1 ); then
    node_images[$v]=$img
  else
    node_errors[$v]=$(grep -v '^[[:space:]]*$' "$out/node-image-$v.log" | tail -n 1)
    log "$v: scripts/node-image.sh failed; its cells get a result saying so"
  fi
done

rc=0
results=()
# refused DIR CELL RUN-ID NODE-IMAGE WHY writes the result of a cell that could not start, for
# the matrix.
refused() {
  local dir=$1 cell=$2 id=$3 img=$4 why=$5
  mkdir -p "$dir"
  jq -n --argjson c "$cell" --arg id "$id" --arg img "$img" --arg e "$why" \
    '{schemaVersion: 1, runID: $id, provider: $c.providerName, platform: "kind", kubernetesVersion: $c.kubernetesVersion, nodeImage: $img,
      cell: {index: $c.index, name: $c.name}, started: (now | todate), complete: true, error: $e, phases: [], checks: []}
     + (if $c.from then {switchFrom: $c.from} else {} end)
     + (if $c.networking then {networking: $c.networking} else {} end)
     + (if $c.providerOptions then {providerOptions: ($c.providerOptions | map(capture("^(?<k>[^=]+)=(?<v>.*)$") | {(.k): .v}) | add)} else {} end)' >"$dir/result.json"
  results+=("$dir/result.json")
  rc=1
}
for cell in "${cells[@]}"; do
  name=$(jq -r .name <<<"$cell")
  provider=$(jq -r .providerName <<<"$cell")
  from=$(jq -r '.from // ""' <<<"$cell")
  version=$(jq -r .kubernetesVersion <<<"$cell")
  mapfile -t cell_args < <(jq -r '.args[]' <<<"$cell")
  dir=$out/$name
  log "$name: start"
  start=$SECONDS
  node_image=${node_images[$version]:-}
  if [ -z "$node_image" ]; then
    refused "$dir" "$cell" node-image-failed "" "no node image for Kubernetes $version (scripts/node-image.sh $version, log $out/node-image-$version.log): ${node_errors[$version]:-}"
    continue
  fi
  if [ -n "$from" ]; then
    args=(switch --from "$from" --to "$provider")
  else
    args=(run --provider "$provider")
  fi
  args+=(--nodes "$NODES" --node-image "$node_image" --probe-image "$probe_image" --artifacts "$dir" "${cell_args[@]}")
  images=""
  failed_images=""
  for p in $from $provider; do
    if ! more=$(scripts/provider-images.sh "$p"); then failed_images=$p; break; fi
    images="$images $more"
  done
  if [ -n "$failed_images" ]; then
    # No image, no run: leave a result that says so, for the matrix.
    refused "$dir" "$cell" images-failed "$node_image" "building the provider images failed (scripts/provider-images.sh $failed_images; logs under /var/cache/netconform/logs)"
    continue
  fi
  for ref in $images; do args+=(--provider-image "$ref"); done
  args+=("${perf_args[@]}")
  bin/netconform "${args[@]}" >"$dir.log" 2>&1
  code=$?
  [ "$code" -ne 0 ] && rc=1
  summary=$(jq -r '"\(.checks | map(select(.status == "passed")) | length) passed, \(.checks | map(select(.status == "failed")) | length) failed, \(.checks | map(select(.status == "skipped")) | length) skipped" + (if .error then "; could not run: " + .error else "" end)' "$dir/result.json" 2>/dev/null || echo "no result")
  log "$name: exit $code in $((SECONDS - start)) s: $summary (log $dir.log)"
  [ -f "$dir/result.json" ] && results+=("$dir/result.json")
done

if [ ${#results[@]} -eq 0 ]; then
  log "no results"
  exit 2
fi
bin/netconform report merge --out "$out" "${results[@]}" || exit 2
exit $rc
