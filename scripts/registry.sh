#!/usr/bin/env bash
# Builds the OCI registry the registry-mirror end-to-end test starts (distribution's cmd/registry,
# pinned below) and prints the binary's path; an existing build of the same version and Go is
# reused (about a second). Built with `go install MODULE/cmd/registry@VERSION` from the Go module
# proxy: that builds it with distribution's own go.mod, so its dependencies (cloud storage SDKs,
# redis, OpenTelemetry) never enter netconform's module graph, as they would as a `go get -tool`
# dependency of go.mod. Progress goes to stderr.
set -euo pipefail
DISTRIBUTION_VERSION=v3.1.2
CACHE=${NETCONFORM_CACHE:-/var/cache/netconform}
dir=$CACHE/bin/registry-$DISTRIBUTION_VERSION-$(go version | sha256sum | cut -c1-12)
if [ ! -x "$dir/registry" ]; then
  printf '[registry %s] building github.com/distribution/distribution/v3/cmd/registry@%s\n' "$(date +%H:%M:%S)" "$DISTRIBUTION_VERSION" >&2
  mkdir -p "$dir.tmp"
  (cd / && GOBIN="$dir.tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
    "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION")
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
fi
echo "$dir/registry"
