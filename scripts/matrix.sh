#!/usr/bin/env bash
# make matrix: every provider in PROVIDERS on a fresh kind cluster, one after another, all from
# one node image and one probe image, then one compatibility matrix of all their results.
#
#   PROVIDERS="NAME NAME:KEY=VALUE ..." SWITCHES="FROM->TO ..." scripts/matrix.sh
#
# Without PROVIDERS, every provider the binary installs on kind (netconform providers
# --installable); without SWITCHES, its default switch (--default -> --switch-target).
# An entry is a provider name or kops --networking value, optionally followed by
# :KEY=VALUE[,KEY=VALUE] provider options. Results go to $MATRIX_DIR (default
# _artifacts/matrix-<time>), one directory per entry, with matrix.md and matrix.json beside them.
# SWITCHES are provider switches, FROM->TO[:KEY=VALUE,...] (options of TO), each a rolling
# `netconform switch` on a fresh cluster: the matrix's "switch from" dimension (column FROM -> TO).
# PERF=1 adds the perf suite to every entry (the perf image is built once), and the matrix gets
# its Performance rows. A provider that cannot be installed here still gets a column saying why. Exit status: 0 when
# every run passed, 1 when any failed or could not run (the matrix is written either way).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
PROVIDERS=${PROVIDERS:-}
SWITCHES=${SWITCHES:-}
K8S_VERSION=${K8S_VERSION:-v1.34.4}
NODES=${NODES:-3}
out=${MATRIX_DIR:-_artifacts/matrix-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
log() { printf '[matrix %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

set -e
make -s build
if [ -z "$PROVIDERS" ]; then
  PROVIDERS=$(bin/netconform providers --installable | tr '\n' ' ')
  if [ -z "$SWITCHES" ]; then
    SWITCHES="$(bin/netconform providers --default)->$(bin/netconform providers --switch-target)"
  fi
fi
scripts/host-setup.sh
node_image=$(scripts/node-image.sh "$K8S_VERSION")
probe_image=$(scripts/probe-image.sh)
perf_args=()
if [ -n "${PERF:-}" ] && [ "${PERF}" != 0 ]; then
  perf_args=(--perf --perf-image "$(scripts/probe-image.sh --perf)")
fi
set +e

rc=0
results=()
# entries are PROVIDERS, then SWITCHES marked with a leading '>'.
entries=$PROVIDERS
for sw in $SWITCHES; do entries="$entries >$sw"; done
for entry in $entries; do
  from=""
  case "$entry" in
  '>'*)
    entry=${entry#>}
    from=${entry%%->*}
    entry=${entry#*->}
    ;;
  esac
  provider=${entry%%:*}
  name=$entry
  [ -n "$from" ] && name="$from-to-$entry"
  dir=$out/$(echo "$name" | tr ':=,/' '_-__')
  if [ -n "$from" ]; then
    args=(switch --from "$from" --to "$provider" --nodes "$NODES" --node-image "$node_image" --probe-image "$probe_image" --artifacts "$dir")
  else
    args=(run --provider "$provider" --nodes "$NODES" --node-image "$node_image" --probe-image "$probe_image" --artifacts "$dir")
  fi
  if [ "$entry" != "$provider" ]; then
    IFS=, read -ra opts <<<"${entry#*:}"
    for kv in "${opts[@]}"; do args+=(--provider-option "$kv"); done
  fi
  log "$name: start"
  start=$SECONDS
  images=""
  failed_images=""
  for p in $from $provider; do
    if ! more=$(scripts/provider-images.sh "$p"); then failed_images=$p; break; fi
    images="$images $more"
  done
  if [ -n "$failed_images" ]; then
    # No image, no run: leave a result that says so, for the matrix.
    mkdir -p "$dir"
    jq -n --arg p "$provider" --arg from "$from" --arg img "$node_image" --arg e "building the provider images failed (scripts/provider-images.sh $failed_images; logs under /var/cache/netconform/logs)" \
      '{schemaVersion: 1, runID: "images-failed", provider: $p, platform: "kind", nodeImage: $img, started: (now | todate), complete: true, error: $e, phases: [], checks: []} + (if $from != "" then {switchFrom: $from} else {} end)' >"$dir/result.json"
    results+=("$dir/result.json")
    rc=1
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
