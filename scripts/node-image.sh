#!/usr/bin/env bash
# Builds a kind node image without a container registry, or reuses one already built from the
# same inputs. Prints the image reference on stdout; progress goes to stderr.
#
#   scripts/node-image.sh [--check] [K8S_VERSION]
#
# --check only resolves what the version needs (a second or two) and builds nothing: exit 2, with
# one line, for a version that is no Kubernetes release or that the Go module proxy does not serve.
# When kindest/node:<version> is already present or can be pulled, it is used as is. Otherwise
# every part is built here: Kubernetes components from the Go module proxy, a Debian root
# filesystem with systemd, containerd, runc, iptables and the CNI reference plugins, kind's own
# base files taken from the sigs.k8s.io/kind module, and the control-plane images preloaded into
# the node's containerd. Each step's output is cached under $NETCONFORM_CACHE by its inputs, and
# the image is tagged by a hash of all inputs, so an unchanged rebuild takes seconds.
# A failed step names itself and keeps its log under $NETCONFORM_CACHE/logs.
set -euo pipefail

CHECK=
if [ "${1:-}" = --check ]; then CHECK=1; shift; fi
K8S_VERSION=${1:-${K8S_VERSION:-v1.34.4}}
# etcd, CoreDNS and pause follow what this version's kubeadm expects (read below from its
# constants); crictl is a CRI client, and the proxy serves only v1.34.0 and v1.37.0 of it.
CRITOOLS_VERSION=v1.34.0
# The proxy serves no CoreDNS v1.12.x or v1.13.x: every version gets v1.14.7, tagged as the
# version its kubeadm expects (kubeadm's Corefile uses nothing 1.14 dropped).
COREDNS_MODULE_VERSION=v1.14.7
DEBIAN_SUITE=bookworm
# Debian's Go-free packages for the node; kubelet, kubeadm and crictl are built here.
NODE_PACKAGES=systemd,dbus,containerd,runc,containernetworking-plugins,iptables,nftables,conntrack,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,socat,iputils-ping,tcpdump,e2fsprogs
# The kube-proxy image: iptables and conntrack only.
PROXY_PACKAGES=iptables,conntrack,nftables

here=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${NETCONFORM_CACHE:-/var/cache/netconform}
LOGS=$CACHE/logs
mkdir -p "$CACHE" "$LOGS"
KIND_MODULE=sigs.k8s.io/kind@$(cd "$here" && go list -m -f '{{.Version}}' sigs.k8s.io/kind)

log() { printf '[node-image %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "$*"; exit 1; }
# refuse: bad input, before anything is built.
refuse() { log "$*"; exit 2; }

case $K8S_VERSION in
  v1.[0-9]*.[0-9]*) ;;
  *) refuse "K8S_VERSION '$K8S_VERSION' is not a Kubernetes release like v1.34.4" ;;
esac

# kubeadm_constant NAME: the string constant NAME in this version's kubeadm, from the module the
# proxy serves (downloaded once; the build below needs it anyway).
K8S_MODULE_DIR=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null | jq -r '.Dir // empty') ||
  true
[ -n "$K8S_MODULE_DIR" ] || refuse "k8s.io/kubernetes@$K8S_VERSION is not served by the Go module proxy ($(go env GOPROXY))"
kubeadm_constant() {
  sed -nE "s/^[[:space:]]*$1 = \"([^\"]+)\".*/\1/p" "$K8S_MODULE_DIR/cmd/kubeadm/app/constants/constants.go" | head -n 1 |
    grep . || die "no constant $1 in kubeadm $K8S_VERSION"
}

# served_near MODULE WANT: the releases of WANT's minor that the proxy serves, in order of
# preference: WANT, then the later patches from the nearest, then the earlier ones from the nearest.
served_near() {
  local mod=$1 want=$2 minor list
  minor=${want%.*}
  list=$(go list -m -versions "$mod" | tr ' ' '\n' | grep -E "^${minor//./\\.}\.[0-9]+$" | sort -V) ||
    die "the proxy serves no $mod ${minor}.x (kubeadm $K8S_VERSION expects $want)"
  printf '%s\n' "$list" | awk -v w="$want" 'BEGIN { split(w, a, "."); n = 0 }
    { split($0, b, "."); if (b[3] + 0 == a[3] + 0) print; else if (b[3] + 0 > a[3] + 0) print; else below[n++] = $0 }
    END { for (i = n - 1; i >= 0; i--) print below[i] }'
}

# etcd_buildable VERSION: whether the proxy serves every go.etcd.io module that etcd server
# VERSION requires. etcd tags its modules together, but the proxy does not always hold all of
# them (it serves server v3.5.31 and not raft v3.5.31), and a build would fail half an hour in.
etcd_buildable() {
  local gomod req mod ver
  gomod=$(go mod download -json "go.etcd.io/etcd/server/v3@$1" | jq -r '.GoMod // empty') || return 1
  [ -n "$gomod" ] || return 1
  req=$(awk '/^require \(/ { r = 1; next } r && /^\)/ { r = 0 } r && $1 ~ /^go\.etcd\.io\// && NF == 2 { print $1, $2 }' "$gomod")
  while read -r mod ver; do
    [ -n "$mod" ] || continue
    go list -m -versions "$mod" | tr ' ' '\n' | grep -qxF "$ver" || { log "etcd $1 needs $mod $ver, which the proxy does not serve"; return 1; }
  done <<<"$req"
}

ETCD_TAG=$(kubeadm_constant DefaultEtcdVersion)
ETCD_WANT=v${ETCD_TAG%-*}
ETCD_VERSION=
for v in $(served_near go.etcd.io/etcd/server/v3 "$ETCD_WANT"); do
  if etcd_buildable "$v"; then ETCD_VERSION=${v#v}; break; fi
done
[ -n "$ETCD_VERSION" ] || die "no etcd ${ETCD_WANT%.*}.x that the proxy serves whole (kubeadm $K8S_VERSION expects $ETCD_TAG)"
COREDNS_TAG=$(kubeadm_constant CoreDNSVersion)
# kubeadm's sandbox image, and the one kind's containerd configuration names.
KIND_PAUSE=$(sed -nE 's/.*sandbox_image = ".*pause:([^"]+)".*/\1/p' \
  "$(go mod download -json "$KIND_MODULE" | jq -r .Dir)/images/base/files/etc/containerd/config.toml")
PAUSE_TAGS=$(printf '%s\n' "$(kubeadm_constant PauseVersion)" "$KIND_PAUSE" | sort -u | xargs)
log "Kubernetes $K8S_VERSION: etcd $ETCD_VERSION (kubeadm expects $ETCD_TAG), CoreDNS $COREDNS_MODULE_VERSION as $COREDNS_TAG, pause $PAUSE_TAGS, crictl $CRITOOLS_VERSION"
[ -z "$CHECK" ] || exit 0

# step NAME CMD...: runs one build step with its output in a log file; on failure names the step
# and shows the end of its log.
step() {
  local name=$1; shift
  local logf=$LOGS/$name.log start=$SECONDS
  log "step $name ..."
  # In a subshell with errexit on: a function called as an if or || condition would run with
  # errexit off, and a failed command halfway through would go unnoticed until a later one.
  local rc
  set +e
  (set -e; "$@") >"$logf" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    log "step $name FAILED after $((SECONDS - start)) s; log kept at $logf; its end:"
    tail -n 30 "$logf" >&2
    exit 1
  fi
  log "step $name done in $((SECONDS - start)) s"
}

hash_of() { sha256sum | cut -c1-12; }

# Inputs of the whole image: this script, the wrapper and pause sources, versions.
INPUT_HASH=$( {
  cat "$0"
  cat "$here"/framework/ocicaps/*.go "$here"/cmd/netconform-runc/*.go "$here"/cmd/netconform-pause/*.go
  cat "$here"/scripts/iptables-wrapper
  echo "$K8S_VERSION $KIND_MODULE $(go version) etcd $ETCD_VERSION $ETCD_TAG coredns $COREDNS_TAG pause $PAUSE_TAGS"
} | hash_of)
IMAGE=netconform/node:$K8S_VERSION-$INPUT_HASH

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  log "reusing cached $IMAGE"
  echo "$IMAGE"; exit 0
fi
if [ -z "${NETCONFORM_FORCE_BUILD:-}" ]; then
  if docker image inspect "kindest/node:$K8S_VERSION" >/dev/null 2>&1 || timeout 60 docker pull "kindest/node:$K8S_VERSION" >/dev/null 2>&1; then
    log "using kindest/node:$K8S_VERSION"
    echo "kindest/node:$K8S_VERSION"; exit 0
  fi
  log "kindest/node:$K8S_VERSION cannot be pulled: building $IMAGE locally"
fi

# --- Go builds -------------------------------------------------------------------------------
GOBUILD_FLAGS=(-trimpath)
export CGO_ENABLED=0

build_kubernetes() {
  local out=$1 dir=$CACHE/src/kubernetes-$K8S_VERSION
  mkdir -p "$dir"
  cd "$dir"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | jq -r .GoMod)
  local staging=${K8S_VERSION/v1./v0.}
  {
    echo "module netconform.local/kubernetes-build"
    echo "go 1.24"
    # Kubernetes requires its staging modules at v0.0.0 and replaces them with directories
    # that a module zip does not carry: pin each to its published version instead.
    grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging/src/k8s\.io/[a-z0-9-]+' "$gomod" | awk '{print $1}' |
      grep -v '^k8s.io/sample-' | sed "s|.*|replace & => & $staging|"
  } >go.mod
  local cmds=(kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
  local pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c@$K8S_VERSION"); done
  go get "${pkgs[@]}"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  pkgs=()
  for c in "${cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  mkdir -p "$out.tmp"
  go build "${GOBUILD_FLAGS[@]}" -ldflags "-s -w $ld" -o "$out.tmp/" "${pkgs[@]}"
  "$out.tmp/kubeadm" version -o short | grep -qx "$K8S_VERSION"
  mv "$out.tmp" "$out"
}

# build_go_command OUT MODULE@VERSION PACKAGE: builds a main package of a served module in a
# scratch module, so that the module's own replace directives do not get in the way.
build_go_command() {
  local out=$1 modver=$2 pkg=$3
  local dir=$CACHE/src/$(echo "$modver" | tr '/@' '__')
  mkdir -p "$dir" "$(dirname "$out")"
  cd "$dir"
  [ -f go.mod ] || go mod init netconform.local/build
  go get "$pkg@${modver#*@}"
  go build "${GOBUILD_FLAGS[@]}" -ldflags "-s -w" -o "$out.tmp" "$pkg"
  mv "$out.tmp" "$out"
}

build_own() {
  local out=$1 pkg=$2
  mkdir -p "$(dirname "$out")"
  (cd "$here" && go build "${GOBUILD_FLAGS[@]}" -ldflags "-s -w" -o "$out" "$pkg")
}

BIN=$CACHE/bin/$K8S_VERSION
K8S_BIN=$BIN/kubernetes
[ -x "$K8S_BIN/kube-proxy" ] || step kubernetes-binaries build_kubernetes "$K8S_BIN"
ETCD_BIN=$CACHE/bin/etcd-$ETCD_VERSION
[ -x "$ETCD_BIN" ] || step etcd build_go_command "$ETCD_BIN" "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" go.etcd.io/etcd/server/v3
COREDNS_BIN=$CACHE/bin/coredns-$COREDNS_MODULE_VERSION
[ -x "$COREDNS_BIN" ] || step coredns build_go_command "$COREDNS_BIN" "github.com/coredns/coredns@$COREDNS_MODULE_VERSION" github.com/coredns/coredns
CRICTL_BIN=$CACHE/bin/crictl-$CRITOOLS_VERSION
[ -x "$CRICTL_BIN" ] || step crictl build_go_command "$CRICTL_BIN" "sigs.k8s.io/cri-tools@$CRITOOLS_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
OWN_BIN=$CACHE/bin/own-$INPUT_HASH
build_own_all() {
  build_own "$OWN_BIN/netconform-runc" ./cmd/netconform-runc
  build_own "$OWN_BIN/pause" ./cmd/netconform-pause
}
[ -x "$OWN_BIN/pause" ] || step own-binaries build_own_all

# --- Debian root filesystems -----------------------------------------------------------------
debootstrap_tar() {
  local out=$1 packages=$2 root
  root=$(mktemp -d "$CACHE/rootfs.XXXX")
  debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$root" http://deb.debian.org/debian
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" --numeric-owner -cf "$out.tmp" .
  rm -rf "$root"
  mv "$out.tmp" "$out"
}
NODE_ROOTFS=$CACHE/rootfs/node-$(echo "$DEBIAN_SUITE $NODE_PACKAGES" | hash_of).tar
PROXY_ROOTFS=$CACHE/rootfs/proxy-$(echo "$DEBIAN_SUITE $PROXY_PACKAGES" | hash_of).tar
mkdir -p "$CACHE/rootfs"
[ -f "$NODE_ROOTFS" ] || step node-rootfs debootstrap_tar "$NODE_ROOTFS" "$NODE_PACKAGES"
[ -f "$PROXY_ROOTFS" ] || step proxy-rootfs debootstrap_tar "$PROXY_ROOTFS" "$PROXY_PACKAGES"

# --- Control-plane image archives ------------------------------------------------------------
WORK=$(mktemp -d "$CACHE/work.XXXX")
cleanup() {
  umount -l "$WORK/node/proc" 2>/dev/null || true
  [ -n "${CTRD_PID:-}" ] && kill "$CTRD_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ARCHIVES=$WORK/archives
mkdir -p "$ARCHIVES"

# image_from_dir NAME DIR ENTRYPOINT_JSON: a registry-free image from a directory, saved as an
# archive for the node's containerd.
image_from_dir() {
  local name=$1 dir=$2 entry=$3
  tar -C "$dir" --numeric-owner -c . | docker import \
    --change "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
    --change "ENTRYPOINT $entry" - "$name" >/dev/null
  docker save "$name" -o "$ARCHIVES/$(echo "$name" | tr '/:' '__').tar"
}

control_plane_images() {
  local reg=registry.k8s.io d
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    d=$WORK/img-$c; mkdir -p "$d/usr/local/bin"
    cp "$K8S_BIN/$c" "$d/usr/local/bin/"
    image_from_dir "$reg/$c:$K8S_VERSION" "$d" "[\"/usr/local/bin/$c\"]"
  done
  d=$WORK/img-etcd; mkdir -p "$d/usr/local/bin" "$d/var/lib/etcd" "$d/tmp"
  cp "$ETCD_BIN" "$d/usr/local/bin/etcd"
  image_from_dir "$reg/etcd:$ETCD_TAG" "$d" '["/usr/local/bin/etcd"]'
  d=$WORK/img-coredns; mkdir -p "$d/etc/coredns" "$d/tmp"
  cp "$COREDNS_BIN" "$d/coredns"
  image_from_dir "$reg/coredns/coredns:$COREDNS_TAG" "$d" '["/coredns"]'
  d=$WORK/img-pause; mkdir -p "$d"
  cp "$OWN_BIN/pause" "$d/pause"
  for t in $PAUSE_TAGS; do image_from_dir "$reg/pause:$t" "$d" '["/pause"]'; done
  # kube-proxy needs iptables and conntrack, and must use the iptables mode the node uses.
  d=$WORK/img-kube-proxy; mkdir -p "$d"
  tar -C "$d" -xf "$PROXY_ROOTFS"
  cp "$K8S_BIN/kube-proxy" "$d/usr/local/bin/"
  install_iptables_wrapper "$d"
  image_from_dir "$reg/kube-proxy:$K8S_VERSION" "$d" '["/usr/local/bin/kube-proxy"]'
}

# install_iptables_wrapper ROOT: iptables, ip6tables and their save/restore become our wrapper,
# which picks legacy or nft on first use.
install_iptables_wrapper() {
  local root=$1
  install -m 0755 "$here/scripts/iptables-wrapper" "$root/usr/sbin/iptables-wrapper"
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf iptables-wrapper "$root/usr/sbin/$t"
  done
}
step control-plane-images control_plane_images

# --- Node root filesystem --------------------------------------------------------------------
assemble_node() {
  local root=$WORK/node kind files
  files=$(go mod download -json "$KIND_MODULE" | jq -r .Dir)/images/base/files
  mkdir -p "$root"
  tar -C "$root" -xf "$NODE_ROOTFS"
  # kind's base files, as kind's own base image Dockerfile lays them out.
  install -m 0755 "$files"/usr/local/bin/* "$root/usr/local/bin/"
  mkdir -p "$root/kind/bin" "$root/LICENSES" "$root/etc/containerd" "$root/etc/systemd/system/kubelet.service.d"
  cp -r "$files/kind/." "$root/kind/"; chmod 0755 "$root/kind" "$root/kind/bin" "$root"/kind/bin/*
  cp "$files"/LICENSES/* "$root/LICENSES/"
  cp "$files/etc/crictl.yaml" "$root/etc/"
  cp "$files"/etc/containerd/* "$root/etc/containerd/"
  cp "$files"/etc/default/* "$root/etc/default/"
  cp "$files"/etc/sysctl.d/* "$root/etc/sysctl.d/"
  find "$files/etc/systemd/system" -maxdepth 1 -type f -exec cp {} "$root/etc/systemd/system/" \;
  cp "$files"/etc/systemd/system/kubelet.service.d/* "$root/etc/systemd/system/kubelet.service.d/"
  chmod -R a+rX "$root/etc" "$root/kind"
  # The same clean-up of systemd units as kind's base image.
  find "$root/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
    "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
    "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
  chroot "$root" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
  chroot "$root" systemctl mask systemd-binfmt.service
  mkdir -p "$root/etc/kubernetes/manifests"
  # kind's units expect containerd in /usr/local/bin; Debian installs it in /usr/bin.
  for b in containerd containerd-shim-runc-v2 ctr; do ln -sf "/usr/bin/$b" "$root/usr/local/bin/$b"; done
  # Kubernetes components and tools built above.
  install -m 0755 "$K8S_BIN/kubeadm" "$K8S_BIN/kubelet" "$K8S_BIN/kubectl" "$root/usr/bin/"
  install -m 0755 "$CRICTL_BIN" "$root/usr/local/bin/crictl"
  install -m 0755 "$OWN_BIN/netconform-runc" "$root/usr/local/sbin/netconform-runc"
  # CNI reference plugins where kubelet and containerd look for them.
  mkdir -p "$root/opt/cni/bin"
  cp -a "$root"/usr/lib/cni/. "$root/opt/cni/bin/"
  echo "$K8S_VERSION" >"$root/kind/version"
  # Pods' runc goes through the wrapper too: privileged pods and sandboxes meet the same
  # capability and oom_score_adj limits as the node container (a pass-through elsewhere).
  sed -i '/containerd.runtimes.runc.options\]/a\    BinaryName = "/usr/local/sbin/netconform-runc"' "$root/etc/containerd/config.toml"
  grep -q 'BinaryName = "/usr/local/sbin/netconform-runc"' "$root/etc/containerd/config.toml"
  # cri-base.json as kind generates it: containerd's default spec plus kind's product-uuid hook.
  chroot "$root" ctr oci spec |
    jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"$root/etc/containerd/cri-base.json"
  jq -e .process "$root/etc/containerd/cri-base.json" >/dev/null
}
step node-assemble assemble_node

# Preload: the node's own containerd, in a chroot with CRI disabled, imports the archives the way
# kind's node-image builder does.
preload_images() {
  local root=$WORK/node
  mkdir -p "$root/proc" "$root/run/containerd" "$root/tmp/archives"
  mount -t proc proc "$root/proc"
  cp "$ARCHIVES"/*.tar "$root/tmp/archives/"
  cat >"$root/tmp/preload.toml" <<'TOML'
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "/run/containerd/preload.sock"
TOML
  chroot "$root" /usr/bin/containerd --config /tmp/preload.toml >"$LOGS/preload-containerd.log" 2>&1 &
  CTRD_PID=$!
  # This runs in step's subshell: stop containerd and release proc here if a command fails.
  # (Expanded now: $root is local and gone by the time the subshell exits.)
  # shellcheck disable=SC2064
  trap "kill $CTRD_PID 2>/dev/null; umount -l '$root/proc' 2>/dev/null || true" EXIT
  for _ in $(seq 1 30); do [ -S "$root/run/containerd/preload.sock" ] && break; sleep 1; done
  for a in "$root"/tmp/archives/*.tar; do
    chroot "$root" ctr --address /run/containerd/preload.sock -n k8s.io images import \
      --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests "/tmp/archives/$(basename "$a")"
  done
  chroot "$root" ctr --address /run/containerd/preload.sock -n k8s.io images ls -q
  kill "$CTRD_PID"; wait "$CTRD_PID" || true; CTRD_PID=
  umount "$root/proc"
  trap - EXIT
  rm -rf "$root/tmp/archives" "$root/tmp/preload.toml" "$root/run/containerd"
}
step preload-images preload_images

import_node() {
  local base=netconform/node-base:$K8S_VERSION-$INPUT_HASH
  tar -C "$WORK/node" --numeric-owner -c . | docker import \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' - "$base"
  # docker import cannot set STOPSIGNAL; a build FROM the local image adds it and pulls nothing.
  printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$base" | DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" -
  docker rmi "$base" >/dev/null
}
step node-import import_node
log "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | numfmt --to=iec))"
echo "$IMAGE"
