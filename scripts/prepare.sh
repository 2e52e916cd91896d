# Sourced by e2e.sh and e2e-switch.sh (from the repository root): host setup, then the node and
# probe images (cached by their inputs), each step timed. Sets node_image, probe_image and
# phase_args (--phase NAME=SECONDS for each step, for netconform's result).
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

prepare_cluster_images() {
  local t
  # A K8S_VERSION that is no release, or that the module proxy does not serve, ends here (exit 2,
  # one line) before the host is touched.
  scripts/node-image.sh --check "${K8S_VERSION:-v1.34.4}"
  t=$(now)
  scripts/host-setup.sh
  phase_args=(--phase "host setup=$(since "$t")")
  t=$(now)
  node_image=$(scripts/node-image.sh "${K8S_VERSION:-v1.34.4}")
  phase_args+=(--phase "node image=$(since "$t")")
  t=$(now)
  probe_image=$(scripts/probe-image.sh)
  phase_args+=(--phase "probe image=$(since "$t")")
}
