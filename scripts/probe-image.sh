#!/usr/bin/env bash
# Builds the probe agent image (a static Go binary, no registry needed) and prints its reference.
# The tag is a hash of the agent's sources, so an unchanged rebuild reuses the image.
#   --tag   print the reference this build would produce, without docker or building anything
#           (`make build` bakes it into netconform as the default --probe-image)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
hash=$( { cat go.sum framework/probe/*.go framework/perf/*.go cmd/netconform-probe/*.go; go version; } | sha256sum | cut -c1-12)
image=netconform/probe:$hash
case "${1:-}" in
  "") ;;
  --tag) echo "$image"; exit 0 ;;
  *) echo "usage: $0 [--tag]" >&2; exit 2 ;;
esac
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"; exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/root/netconform-probe" ./cmd/netconform-probe
tar -C "$dir/root" --numeric-owner -c . | docker import --change 'ENTRYPOINT ["/netconform-probe"]' - "$image" >/dev/null
echo "[probe-image] built $image" >&2
echo "$image"
