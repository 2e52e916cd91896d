#!/usr/bin/env bash
# Builds the perf image: the probe agent on a Debian bookworm minbase root with netperf (Debian's
# non-free component: its licence is not DFSG-free) and iperf3, so that the perf suite runs real
# benchmark tools, not a loop of its own. No registry: debootstrap, then `docker import`. Tagged
# by a hash of its inputs (the probe's sources, the packages, this script); an unchanged rebuild
# takes a second. Prints the image reference on stdout, progress on stderr.
#
#   scripts/perf-image.sh          build (or reuse) and print the reference
#   scripts/perf-image.sh --tag    print the reference only
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
DEBIAN_SUITE=bookworm
PERF_PACKAGES=netperf,iperf3,iproute2
CACHE=${NETCONFORM_CACHE:-/var/cache/netconform}

hash=$( { cat go.sum framework/probe/*.go framework/perf/*.go cmd/netconform-probe/*.go scripts/perf-image.sh; echo "$DEBIAN_SUITE $PERF_PACKAGES"; go version; } | sha256sum | cut -c1-12)
image=netconform/perf:$hash
case "${1:-}" in
  "") ;;
  --tag) echo "$image"; exit 0 ;;
  *) echo "usage: $0 [--tag]" >&2; exit 2 ;;
esac
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"; exit 0
fi
log() { printf '[perf-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The root filesystem is cached by suite and packages alone: the probe binary changes more often.
mkdir -p "$CACHE/rootfs" "$CACHE/logs"
rootfs=$CACHE/rootfs/perf-$(echo "$DEBIAN_SUITE $PERF_PACKAGES" | sha256sum | cut -c1-12).tar
if [ ! -f "$rootfs" ]; then
  log "debootstrap $DEBIAN_SUITE with $PERF_PACKAGES (log $CACHE/logs/perf-rootfs.log)"
  root=$(mktemp -d "$CACHE/rootfs.XXXX")
  if ! debootstrap --variant=minbase --components=main,non-free --include="$PERF_PACKAGES" \
    "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian >"$CACHE/logs/perf-rootfs.log" 2>&1; then
    log "debootstrap FAILED; its end:"; tail -n 30 "$CACHE/logs/perf-rootfs.log" >&2
    rm -rf "$root"; exit 1
  fi
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$rootfs.tmp" .
  rm -rf "$root"
  mv "$rootfs.tmp" "$rootfs"
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/root"
tar -C "$dir/root" -xf "$rootfs"
for bin in netperf netserver iperf3; do
  [ -x "$dir/root/usr/bin/$bin" ] || { log "the root has no /usr/bin/$bin"; exit 1; }
done
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/root/netconform-probe" ./cmd/netconform-probe
tar -C "$dir/root" --numeric-owner -c . | docker import \
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
  --change 'ENTRYPOINT ["/netconform-probe"]' - "$image" >/dev/null
log "built $image"
echo "$image"
