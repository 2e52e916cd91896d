#!/usr/bin/env bash
# Host setup for netconform: a running container engine, the packages the node-image build needs, and the
# browser the HTML report's tests drive.
# Idempotent: on a host that already has all of it, it changes nothing and takes about a second.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
log() { printf '[host-setup] %s\n' "$*" >&2; }

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v iptables >/dev/null 2>&1 || need_pkgs+=(iptables)
command -v jq >/dev/null 2>&1 || need_pkgs+=(jq)
# Headless chromium runs the HTML report's browser tests. Its fonts come with it: libfontconfig1 depends
# on fontconfig-config, which depends on a font package (fonts-dejavu-core first), so text renders.
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# The OCI runtime wrapper is registered only where privileged containers cannot get every capability.
"$here/scripts/runtime-wrapper.sh"

if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  (setsid dockerd >/var/log/netconform-dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up in 60 s; see /var/log/netconform-dockerd.log"; exit 1; }
fi
log "container engine ready: $(docker version --format '{{.Server.Version}}')"
