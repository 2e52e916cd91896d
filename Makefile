# netconform: `make e2e PROVIDER=<name>` runs one provider on a real kind cluster;
# `make test` runs the unit tests, then the end-to-end tests on a real kind cluster.
# Provider names are the binary's to know: an empty PROVIDER (FROM, TO, PROVIDERS, SWITCHES) is
# filled in by the scripts from `netconform providers --default` (--switch-target, --installable).
SHELL := /bin/bash
PROVIDER ?=
K8S_VERSION ?= v1.34.4
NODES ?= 3
KEEP ?=
# PERF=1: make e2e also runs the perf suite (netperf; builds the perf image, a Debian root).
PERF ?=
# IP_FAMILY (ipv4, ipv6, dual): the kind cluster's IP family for make e2e; empty is netconform's
# default (ipv4). A provider that does not do the family on kind is refused before any image is built.
IP_FAMILY ?=
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
GO_PACKAGES := ./...
export PROVIDER K8S_VERSION NODES KEEP IP_FAMILY PERF

.PHONY: all build test unit e2e e2e-test lint node-image probe-image host-setup browser-test fuzz clean aws-test aws-plan simulate-routes

all: build

# The binary's default --probe-image and --perf-image are the images these sources produce
# (scripts/probe-image.sh [--perf] --tag only computes the tag; `make probe-image` builds one).
build:
	@mkdir -p bin
	probe=$$(scripts/probe-image.sh --tag) && perf=$$(scripts/probe-image.sh --perf --tag) && \
	CGO_ENABLED=0 go build -trimpath -ldflags "-X main.version=$(VERSION) -X main.defaultProbeImage=$$probe -X main.defaultPerfImage=$$perf" -o bin/netconform ./cmd/netconform

# lint: gofmt, go vet (also of the files behind build tags), the import direction of the layers
# (internal/layers), and the GitHub Actions workflows with actionlint (a tool of go.mod, built from
# the module cache; it checks the workflows' shell with shellcheck only where shellcheck is installed).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(GO_PACKAGES)
	go vet -tags kindbacking,e2e ./fixtures/fakekops/
	go vet -tags browser ./reports/htmlreport/
	go test -count=1 -run 'TestImportDirection|TestPlantedViolationFails' ./internal/layers/
	go tool actionlint

unit:
	go test -count=1 $(GO_PACKAGES)
	go test -count=1 -tags kindbacking ./fixtures/fakekops/

# Unit tests first (fast), then the HTML reports in a browser, then the end-to-end tests on a real
# kind cluster.
test: lint unit fuzz host-setup browser-test e2e-test

host-setup:
	scripts/host-setup.sh

# The HTML reports in a real browser (build tag browser): each page rendered from recorded results
# (reports/htmlreport/testdata), opened from a file in headless chromium and clicked through; a
# console error or warning, an uncaught exception or any request outside the file fails it.
# Screenshots go to _artifacts/browser/ ($NETCONFORM_ARTIFACTS/browser). Needs chromium.
browser-test: host-setup
	go test -tags browser -count=1 -timeout 10m -v ./reports/htmlreport/

node-image: host-setup
	scripts/node-image.sh $(K8S_VERSION)

probe-image: host-setup
	scripts/probe-image.sh

e2e:
	scripts/e2e.sh

# A rolling switch of networking provider on a real kind cluster: FROM on every node, then node by
# node to TO under continuous probes; disruption report, leftover check, suites on TO; the perf
# suite on FROM before the roll and on TO after it, compared (PERF=0 leaves perf out).
FROM ?=
TO ?=
.PHONY: e2e-switch
e2e-switch:
	FROM=$(FROM) TO=$(TO) scripts/e2e-switch.sh

# The compatibility matrix: the cells of `netconform matrix plan`, each provider in PROVIDERS and
# each switch in SWITCHES on each Kubernetes version in VERSIONS (default K8S_VERSION), on a fresh
# kind cluster, one after another; writes matrix.md, matrix.json and report.html under
# $(MATRIX_DIR) (default _artifacts/matrix-<time>). Entries may carry options:
# NAME:KEY=VALUE[,KEY=VALUE]. SWITCHES are rolling provider switches (FROM->TO), the matrix's
# "switch from" dimension; PERF=1 adds the perf suite to every cell. Empty PROVIDERS means every
# provider the binary installs on kind (and, with empty SWITCHES, the default switch).
# SHARD=i/N runs only shard i of N; the shards' results merged with `netconform report merge`
# make the same matrix as one run of all cells (.github/workflows/matrix.yml: a job per cell).
PROVIDERS ?=
SWITCHES ?=
VERSIONS ?=
SHARD ?=
.PHONY: matrix
matrix:
	PROVIDERS="$(PROVIDERS)" SWITCHES="$(SWITCHES)" VERSIONS="$(VERSIONS)" SHARD="$(SHARD)" scripts/matrix.sh

# The cluster end-to-end tests: a full run of the default provider, broken-cluster tests,
# interrupts, a switch with faults (default provider to the switch target, both asked of the binary).
# The NetworkPolicy fault test runs on a provider that enforces policy; POLICY_AGENT is the
# process it stops on every node.
POLICY_PROVIDER ?= kube-router
POLICY_AGENT ?= kube-router
# The registry-mirror test: MIRROR_PROVIDER's local images are pushed under its upstream names into
# a registry (distribution's, built by scripts/registry.sh from the module proxy), which the kind
# nodes then pull them through (--images upstream --registry-mirror).
MIRROR_PROVIDER ?= flannel

e2e-test: host-setup build
	@mkdir -p _artifacts
	node=$$(scripts/node-image.sh $(K8S_VERSION)) && probe=$$(scripts/probe-image.sh) && perf=$$(scripts/probe-image.sh --perf) && \
	to=$$(bin/netconform providers --switch-target) && to_images=$$(scripts/provider-images.sh $$to) && \
	policy_images=$$(scripts/provider-images.sh $(POLICY_PROVIDER)) && \
	mirror_images=$$(scripts/provider-images.sh $(MIRROR_PROVIDER)) && registry=$$(scripts/registry.sh) && \
	export NETCONFORM_NODE_IMAGE=$$node NETCONFORM_PROBE_IMAGE=$$probe NETCONFORM_PERF_IMAGE=$$perf NETCONFORM_SWITCH_TO=$$to NETCONFORM_SWITCH_IMAGES="$$to_images" \
		NETCONFORM_POLICY_PROVIDER=$(POLICY_PROVIDER) NETCONFORM_POLICY_AGENT=$(POLICY_AGENT) NETCONFORM_POLICY_IMAGES="$$policy_images" \
		NETCONFORM_REGISTRY=$$registry NETCONFORM_MIRROR_PROVIDER=$(MIRROR_PROVIDER) NETCONFORM_MIRROR_IMAGES="$$mirror_images" && \
	go test -tags e2e -count=1 -timeout 80m -v ./suites/e2e/ 2>&1 | tee _artifacts/e2e-test.log; exit $${PIPESTATUS[0]}

# How `check` scales with the cluster: kind clusters of SIZES nodes (default 2 3 4 6), one at a
# time; seconds per check and per observed pair, and --max-pairs on the largest.
.PHONY: bench-scale
bench-scale: host-setup
	scripts/bench-scale.sh

# Short fuzzing of the kops spec reader (no panic on any input).
FUZZTIME ?= 20s
fuzz:
	go test -run '^$$' -fuzz '^FuzzRead$$' -fuzztime $(FUZZTIME) ./framework/kopsspec/

# AWS platform, EC2 checks and their stand-ins (no AWS account needed; part of `make unit` too).
aws-test:
	go test -count=1 ./framework/aws/... ./framework/platform/aws ./fixtures/ec2stub
	go test -count=1 ./cmd/netconform -run 'AWS|Cleanup|Simulate|EC2Nodes|WriteCheck|ParseRange'

# The kops plan for PROVIDER (default: the binary's) on AWS; nothing is run.
aws-plan: build
	bin/netconform run --platform aws --dry-run $(if $(PROVIDER),PROVIDER=$(PROVIDER))

simulate-routes: build
	bin/netconform simulate routes --nodes 1..600 --quota 50,500

clean:
	rm -rf bin _artifacts
