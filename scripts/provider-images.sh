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
# Calico publishes no module versions (its tags lack /v3): this pseudo-version is the v3.28.5
# branch. Its nested api module is not in the zip and the proxy serves no version of it built for
# 3.28; the served pseudo-version below (from the v3.29 development line) builds with it.
CALICO_MODULE=github.com/projectcalico/calico@v1.11.0-cni-plugin.0.20250813170300-a0db560f0520
CALICO_VERSION=v3.28.5
CALICO_API=github.com/projectcalico/api@v0.0.0-20240708202104-e3f70b269c2c
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
CILIUM_VERSION=v1.15.19
HELM_VERSION=v3.14.4
# The cilium agent compiles its BPF programs at run time with clang (Debian's is 14) and probes
# the kernel with bpftool.
CILIUM_PACKAGES=$PROVIDER_PACKAGES,clang,bpftool
CILIUM_ROOTFS=$CACHE/rootfs/cilium-$(echo "$DEBIAN_SUITE $CILIUM_PACKAGES" | hash_of).tar
# calico-node runs its daemons under runit, as its own image does.
CALICO_PACKAGES=$PROVIDER_PACKAGES,runit
CALICO_ROOTFS=$CACHE/rootfs/calico-$(echo "$DEBIAN_SUITE $CALICO_PACKAGES" | hash_of).tar
debootstrap_tar() {
  local out=$1 packages=${2:-$PROVIDER_PACKAGES} root
  root=$(mktemp -d "$CACHE/rootfs.XXXX")
  debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian
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

# --- calico ----------------------------------------------------------------------------------
calico_images() {
  local hash node cni bin
  hash=$( { common_inputs; cat "$here"/scripts/patches/calico-"$CALICO_VERSION"*.patch 2>/dev/null || true; echo "$CALICO_MODULE $CALICO_API $CALICO_PACKAGES"; } | hash_of)
  node=netconform/calico-node:$CALICO_VERSION-$hash
  cni=netconform/calico-cni:$CALICO_VERSION-$hash
  if ! docker image inspect "$node" >/dev/null 2>&1 || ! docker image inspect "$cni" >/dev/null 2>&1; then
    bin=$CACHE/bin/calico-$CALICO_VERSION-$hash
    [ -x "$bin/calico-node" ] || step calico-binaries build_calico "$bin"
    mkdir -p "$CACHE/rootfs"
    [ -f "$CALICO_ROOTFS" ] || step calico-rootfs debootstrap_tar "$CALICO_ROOTFS" "$CALICO_PACKAGES"
    step calico-images calico_image "$node" "$cni" "$bin"
    log "built $node and $cni"
  else
    log "reusing cached $node and $cni"
  fi
  echo "calico-node=$node"
  echo "calico-cni=$cni"
  # Calico's own manifests are read from its module in the Go module cache, never copied in.
  local dir
  dir=$(go mod download -json "$CALICO_MODULE" | jq -r .Dir)
  echo "calico-manifest=$dir/manifests/calico-vxlan.yaml"
  echo "canal-manifest=$dir/manifests/canal.yaml"
}

build_calico() {
  local out=$1 src=$CACHE/src/calico-$CALICO_VERSION
  module_copy "$CALICO_MODULE" "$src"
  apply_patches "$src" "calico-$CALICO_VERSION"
  # The api module sits in ./api of the repository, which module zips leave out.
  (cd "$src" && go mod edit -replace "github.com/projectcalico/api=$CALICO_API")
  mkdir -p "$out.tmp"
  # CGO off: no eBPF dataplane (it needs libbpf); Felix runs the iptables dataplane.
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
    -ldflags "-s -w -X github.com/projectcalico/calico/node/buildinfo.GitVersion=$CALICO_VERSION -X main.VERSION=$CALICO_VERSION" \
    -o "$out.tmp/" ./node/cmd/calico-node ./cni-plugin/cmd/calico ./cni-plugin/cmd/install)
  mkdir -p "$out.tmp/filesystem"
  cp -r "$src/node/filesystem/." "$out.tmp/filesystem/"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

calico_image() {
  local node=$1 cni=$2 bin=$3 d
  d=$(mktemp -d "$CACHE/img.XXXX")
  tar -C "$d" -xf "$CALICO_ROOTFS"
  # calico/node's own layout: runit services, start_runit, rc.local, confd and felix config.
  # Debian's runit makes /etc/service a link into /etc/runit; calico's services live there instead.
  rm -f "$d/etc/service"
  cp -r "$bin/filesystem/etc/." "$d/etc/"
  install -m 0755 "$bin"/filesystem/sbin/* "$d/usr/sbin/"
  chmod 0755 "$d/etc/rc.local"
  find "$d/etc/service/available" -name run -exec chmod 0755 {} +
  install -m 0755 "$bin/calico-node" "$d/usr/bin/calico-node"
  mkdir -p "$d/var/lib/calico" "$d/var/run/calico" "$d/var/log/calico"
  install_iptables_wrapper "$d"
  image_from_dir "$node" "$d" '["/usr/sbin/start_runit"]'
  rm -rf "$d"
  # calico/cni: the CNI plugin (also calico-ipam, by its name) and the installer.
  d=$(mktemp -d "$CACHE/img.XXXX")
  mkdir -p "$d/opt/cni/bin" "$d/tmp"
  install -m 0755 "$bin/calico" "$d/opt/cni/bin/calico"
  install -m 0755 "$bin/calico" "$d/opt/cni/bin/calico-ipam"
  install -m 0755 "$bin/install" "$d/opt/cni/bin/install"
  image_from_dir "$cni" "$d" '["/opt/cni/bin/install"]'
  rm -rf "$d"
}

# --- cilium ----------------------------------------------------------------------------------
cilium_images() {
  local hash agent operator bin
  hash=$( { common_inputs; cat "$here"/scripts/patches/cilium-"$CILIUM_VERSION"*.patch; echo "$CILIUM_VERSION $HELM_VERSION $CILIUM_PACKAGES"; } | hash_of)
  agent=netconform/cilium:$CILIUM_VERSION-$hash
  operator=netconform/cilium-operator-generic:$CILIUM_VERSION-$hash
  bin=$CACHE/bin/cilium-$CILIUM_VERSION-$hash
  if ! docker image inspect "$agent" >/dev/null 2>&1 || ! docker image inspect "$operator" >/dev/null 2>&1; then
    [ -x "$bin/cilium-agent" ] || step cilium-binaries build_cilium "$bin"
    mkdir -p "$CACHE/rootfs"
    [ -f "$CILIUM_ROOTFS" ] || step cilium-rootfs debootstrap_tar "$CILIUM_ROOTFS" "$CILIUM_PACKAGES"
    step cilium-images cilium_image "$agent" "$operator" "$bin"
    log "built $agent and $operator"
  else
    log "reusing cached $agent and $operator"
  fi
  echo "cilium=$agent"
  echo "cilium-operator=$operator"
  # Cilium ships as a Helm chart only: rendered here, by helm built from the module proxy, from
  # the chart in the cilium module; the installer sets the images and checks the settings.
  echo "cilium-manifest=$bin/cilium.yaml"
}

build_cilium() {
  local out=$1 src=$CACHE/src/cilium-$CILIUM_VERSION
  module_copy "github.com/cilium/cilium@$CILIUM_VERSION" "$src"
  # The zip carries vendor/ without everything -mod=vendor wants; build from the module cache.
  rm -rf "$src/vendor"
  apply_patches "$src" "cilium-$CILIUM_VERSION"
  mkdir -p "$out.tmp"
  local ld="-s -w"
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$out.tmp/cilium-agent" ./daemon)
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$out.tmp/cilium-dbg" ./cilium-dbg)
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ld" -o "$out.tmp/cilium-cni" ./plugins/cilium-cni)
  (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags ipam_provider_operator -ldflags "$ld" -o "$out.tmp/cilium-operator-generic" ./operator)
  GOBIN="$out.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "$ld" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mkdir -p "$out.tmp/bpf" "$out.tmp/scripts"
  cp -r "$src/bpf/." "$out.tmp/bpf/"
  cp "$src/images/cilium/init-container.sh" "$src/plugins/cilium-cni/install-plugin.sh" "$src/plugins/cilium-cni/cni-uninstall.sh" "$out.tmp/scripts/"
  # The chart's settings for kind here: VXLAN tunnel with kubernetes IPAM (node podCIDRs),
  # kube-proxy kept, no L7 proxy (no envoy built), no Hubble, no cgroup or sysctl helpers,
  # no health endpoints (no cilium-health built).
  "$out.tmp/helm" template cilium "$src/install/kubernetes/cilium" --namespace kube-system \
    --set kubeProxyReplacement=false --set routingMode=tunnel --set tunnelProtocol=vxlan \
    --set ipam.mode=kubernetes --set operator.replicas=1 --set hubble.enabled=false \
    --set l7Proxy=false --set envoy.enabled=false --set cgroup.autoMount.enabled=false \
    --set cgroup.hostRoot=/sys/fs/cgroup --set sysctlfix.enabled=false --set healthChecking=false \
    --set endpointHealthChecking.enabled=false --set image.useDigest=false \
    --set operator.image.useDigest=false >"$out.tmp/cilium.yaml"
  rm -rf "$out"; mv "$out.tmp" "$out"
}

cilium_image() {
  local agent=$1 operator=$2 bin=$3 d
  d=$(mktemp -d "$CACHE/img.XXXX")
  tar -C "$d" -xf "$CILIUM_ROOTFS"
  install -m 0755 "$bin/cilium-agent" "$bin/cilium-dbg" "$d/usr/bin/"
  mkdir -p "$d/opt/cni/bin" "$d/var/lib/cilium" "$d/var/run/cilium"
  install -m 0755 "$bin/cilium-cni" "$d/opt/cni/bin/cilium-cni"
  cp -r "$bin/bpf" "$d/var/lib/cilium/bpf"
  install -m 0755 "$bin"/scripts/*.sh "$d/"
  # install-plugin.sh copies /opt/cni/bin/cilium-cni (its image's layout).
  install_iptables_wrapper "$d"
  image_from_dir "$agent" "$d" '["/usr/bin/cilium-agent"]'
  rm -rf "$d"
  d=$(mktemp -d "$CACHE/img.XXXX")
  mkdir -p "$d/usr/bin" "$d/tmp"
  install -m 0755 "$bin/cilium-operator-generic" "$d/usr/bin/cilium-operator-generic"
  image_from_dir "$operator" "$d" '["/usr/bin/cilium-operator-generic"]'
  rm -rf "$d"
}

case "$PROVIDER" in
  flannel | flannel-vxlan | flannel-udp) flannel_images ;;
  kube-router | kuberouter) kuberouter_images ;;
  calico) calico_images ;;
  canal) calico_images; flannel_images ;;
  cilium) cilium_images ;;
  *) log "$PROVIDER: no provider images to build" ;;
esac
