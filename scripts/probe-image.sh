#!/usr/bin/env bash
# Builds the probe agent image (a static Go binary, no registry needed) and prints its reference.
# The tag is a hash of the agent's sources, so an unchanged rebuild reuses the image.
#   --tag   print the reference this build would produce, without docker or building anything
#           (`make build` bakes it into netconform as the default --probe-image)
#   --perf  the perf image instead: the same agent on a Debian bookworm minbase root with netperf
#           (Debian's non-free component: its licence is not DFSG-free) and iperf3, so that the
#           perf suite runs real benchmark tools; netconform/perf:<tag>. Combines with --tag.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
perf="" tag_only=""
for arg in "$@"; do
  case "$arg" in
    --tag) tag_only=1 ;;
    --perf) perf=1 ;;
    *) echo "usage: $0 [--perf] [--tag]" >&2; exit 2 ;;
  esac
done
DEBIAN_SUITE=bookworm
# netbase: /etc/protocols, which netperf looks up (getprotobyname).
PERF_PACKAGES=netperf,iperf3,iproute2,netbase
sources() { cat go.sum framework/probe/*.go framework/perf/*.go cmd/netconform-probe/*.go; go version; }
if [ -n "$perf" ]; then
  image=netconform/perf:$( { sources; cat "$0"; echo "$DEBIAN_SUITE $PERF_PACKAGES"; } | sha256sum | cut -c1-12)
else
  image=netconform/probe:$(sources | sha256sum | cut -c1-12)
fi
[ -n "$tag_only" ] && { echo "$image"; exit 0; }
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"; exit 0
fi
log() { printf '[probe-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/root"
env_path=()
if [ -n "$perf" ]; then
  # The root filesystem is cached by suite and packages alone: the agent changes more often.
  CACHE=${NETCONFORM_CACHE:-/var/cache/netconform}
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
  tar -C "$dir/root" -xf "$rootfs"
  for bin in netperf netserver iperf3; do
    [ -x "$dir/root/usr/bin/$bin" ] || { log "the perf root has no /usr/bin/$bin"; exit 1; }
  done
  env_path=(--change "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
fi
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$dir/root/netconform-probe" ./cmd/netconform-probe
tar -C "$dir/root" --numeric-owner -c . | docker import "${env_path[@]}" --change 'ENTRYPOINT ["/netconform-probe"]' - "$image" >/dev/null
log "built $image"
echo "$image"
