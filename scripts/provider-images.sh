#!/usr/bin/env bash
# Builds the container images a CNI provider runs, without a container registry, or reuses the
# ones already built from the same inputs. Prints one NAME=REF line per image on stdout (what
# `netconform run --provider-image NAME=REF` takes); progress goes to stderr.
#
#   scripts/provider-images.sh PROVIDER
#
# PROVIDER is a netconform name or kops --networking value (flannel, flannel-udp, kube-router,
# ...). Modes that run nothing of their own (kubenet) print nothing. Each provider's binaries are
# built from its Go module, as served by the Go module proxy, into a Debian bookworm minbase root
# filesystem with iptables (and the iptables-wrapper that picks legacy or nft like the node),
# then `docker import`ed. Patches a provider needs to build or to start here live in
# scripts/patches/, each explaining itself, and are applied to a copy of the downloaded module.
# Images are tagged by a hash of every input; an unchanged rebuild takes a second. A failed step
# names itself and keeps its log under $NETCONFORM_CACHE/logs.
set -euo pipefail

PROVIDER=${1:?usage: scripts/provider-images.sh PROVIDER}
FLANNEL_VERSION=v0.28.10
# The CNI flannel plugin (the meta plugin that turns subnet.env into a bridge config) left
# containernetworking/plugins after v0.9.1 for github.com/flannel-io/cni-plugin, which the
# proxy does not serve; v0.9.1's is the same plugin and speaks CNI up to 0.4.0.
CNI_PLUGINS_VERSION=v0.9.1
KUBE_ROUTER_VERSION=v2.1.0
DEBIAN_SUITE=bookworm
# What the providers' daemons call: iptables/nft, ipset (kube-router's policies), ip.
PROVIDER_PACKAGES=iptables,nftables,conntrack,ipset,iproute2

here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${NETCONFORM_CACHE:-/var/cache/netconform}
LOGS=$CACHE/logs
mkdir -p "$CACHE" "$LOGS"

log() { printf '[provider-images %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# step NAME CMD...: one build step with its output in a log file; on failure it names the step
# and shows the end of its log.
step() {
  local name=$1; shift
  local logf=$LOGS/$name.log start=$SECONDS
  log "step $name ..."
  if ! ("$@") >"$logf" 2>&1; then
    log "step $name FAILED after $((SECONDS - start)) s; log kept at $logf; its end:"
    tail -n 30 "$logf" >&2
    exit 1
  fi
  log "step $name done in $((SECONDS - start)) s"
}

hash_of() { sha256sum | cut -c1-12; }

# module_copy MODULE@VERSION DIR: a writable copy of a downloaded module, to patch and build as
# the main module (go install refuses modules with replace directives).
module_copy() {
  local src
  src=$(go mod download -json "$1" | jq -r .Dir)
  [ -d "$src" ] || { echo "module $1 not downloaded"; return 1; }
  rm -rf "$2"; mkdir -p "$(dirname "$2")"
  cp -r "$src" "$2"; chmod -R u+w "$2"
}

# apply_patches DIR NAME-PREFIX: applies scripts/patches/NAME-PREFIX*.patch in order.
apply_patches() {
  local p
  for p in "$here"/scripts/patches/"$2"*.patch; do
    [ -f "$p" ] || continue
    echo "applying $(basename "$p")"
    patch -d "$1" -p1 --forward <"$p"
  done
}

ROOTFS=$CACHE/rootfs/provider-$(echo "$DEBIAN_SUITE $PROVIDER_PACKAGES" | hash_of).tar
debootstrap_tar() {
  local out=$1 root
  root=$(mktemp -d "$CACHE/rootfs.XXXX")
  debootstrap --variant=minbase --include="$PROVIDER_PACKAGES" "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$out.tmp" .
  rm -rf "$root"
  mv "$out.tmp" "$out"
}
rootfs() {
  mkdir -p "$CACHE/rootfs"
  [ -f "$ROOTFS" ] || step provider-rootfs debootstrap_tar "$ROOTFS"
}

# image_from_dir IMAGE DIR ENTRYPOINT_JSON: a registry-free image from a directory.
image_from_dir() {
  tar -C "$2" --numeric-owner -c . | docker import \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin:/opt/bin" \
    --change "ENTRYPOINT $3" - "$1" >/dev/null
}

# install_iptables_wrapper ROOT: iptables and friends pick legacy or nft on first use, like the
# node (the same wrapper as the kube-proxy image).
install_iptables_wrapper() {
  install -m 0755 "$here/scripts/iptables-wrapper" "$1/usr/sbin/iptables-wrapper"
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf iptables-wrapper "$1/usr/sbin/$t"
  done
}

# Inputs every provider image shares.
common_inputs() {
  cat "$0" "$here/scripts/iptables-wrapper"
  echo "$DEBIAN_SUITE $PROVIDER_PACKAGES $(go version)"
}

# --- flannel ---------------------------------------------------------------------------------
flannel_images() {
  local hash image bin
  hash=$( { common_inputs; cat "$here"/scripts/patches/flannel-"$FLANNEL_VERSION"*.patch; echo "$FLANNEL_VERSION $CNI_PLUGINS_VERSION"; } | hash_of)
  image=netconform/flannel:$FLANNEL_VERSION-$hash
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    bin=$CACHE/bin/flannel-$FLANNEL_VERSION-$hash
    [ -x "$bin/flanneld" ] || step flannel-binaries build_flannel "$bin"
    rootfs
    step flannel-image flannel_image "$image" "$bin"
    log "built $image"
  else
    log "reusing cached $image"
  fi
  # One image carries flanneld, install-conf and the CNI plugin at /flannel, so it stands in for
  # both upstream images.
  echo "flannel=$image"
  echo "flannel-cni-plugin=$image"
}

build_flannel() {
  local out=$1 src=$CACHE/src/flannel-$FLANNEL_VERSION
  module_copy "github.com/flannel-io/flannel@$FLANNEL_VERSION" "$src"
  apply_patches "$src" "flannel-$FLANNEL_VERSION"
  mkdir -p "$out.tmp"
  # cgo: the udp backend's packet proxy is C (without cgo flannel builds with no udp backend).
  # The binary links Debian bookworm's glibc, which the image carries.
  (cd "$src" && CGO_ENABLED=1 go build -trimpath \
    -ldflags "-s -w -X github.com/flannel-io/flannel/pkg/version.Version=$FLANNEL_VERSION" -o "$out.tmp/flanneld" .)
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/install-conf" ./cmd/install_conf)
  local cni=$CACHE/src/cni-plugins-$CNI_PLUGINS_VERSION
  module_copy "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" "$cni"
  (cd "$cni" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$out.tmp/flannel" ./plugins/meta/flannel)
  "$out.tmp/flanneld" --version
  rm -rf "$out"; mv "$out.tmp" "$out"
}

flannel_image() {
  local image=$1 bin=$2 d
  d=$(mktemp -d "$CACHE/img.XXXX")
  tar -C "$d" -xf "$ROOTFS"
  install -D -m 0755 "$bin/flanneld" "$d/opt/bin/flanneld"
  install -D -m 0755 "$bin/install-conf" "$d/opt/bin/install-conf"
  install -m 0755 "$bin/flannel" "$d/flannel"
  install_iptables_wrapper "$d"
  image_from_dir "$image" "$d" '["/opt/bin/flanneld"]'
  rm -rf "$d"
}

# --- kube-router -----------------------------------------------------------------------------
kuberouter_images() {
  local hash image bin
  hash=$( { common_inputs; cat "$here"/scripts/patches/kube-router-"$KUBE_ROUTER_VERSION"*.patch 2>/dev/null || true; echo "$KUBE_ROUTER_VERSION"; } | hash_of)
  image=netconform/kube-router:$KUBE_ROUTER_VERSION-$hash
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    bin=$CACHE/bin/kube-router-$KUBE_ROUTER_VERSION-$hash
    [ -x "$bin/kube-router" ] || step kube-router-binaries build_kuberouter "$bin"
    rootfs
    step kube-router-image kuberouter_image "$image" "$bin"
    log "built $image"
  else
    log "reusing cached $image"
  fi
  echo "kube-router=$image"
}

build_kuberouter() {
  local out=$1 src=$CACHE/src/kube-router-$KUBE_ROUTER_VERSION
  module_copy "github.com/cloudnativelabs/kube-router/v2@$KUBE_ROUTER_VERSION" "$src"
  apply_patches "$src" "kube-router-$KUBE_ROUTER_VERSION"
  mkdir -p "$out.tmp"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION -X github.com/cloudnativelabs/kube-router/v2/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
    -o "$out.tmp/kube-router" ./cmd/kube-router)
  "$out.tmp/kube-router" --version
  rm -rf "$out"; mv "$out.tmp" "$out"
}

kuberouter_image() {
  local image=$1 bin=$2 d
  d=$(mktemp -d "$CACHE/img.XXXX")
  tar -C "$d" -xf "$ROOTFS"
  install -D -m 0755 "$bin/kube-router" "$d/usr/local/bin/kube-router"
  mkdir -p "$d/var/lib/gobgp"
  install_iptables_wrapper "$d"
  image_from_dir "$image" "$d" '["/usr/local/bin/kube-router"]'
  rm -rf "$d"
}

case "$PROVIDER" in
  flannel | flannel-vxlan | flannel-udp) flannel_images ;;
  kube-router | kuberouter) kuberouter_images ;;
  *) log "$PROVIDER: no provider images to build" ;;
esac
