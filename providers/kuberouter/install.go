package kuberouter

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// The kube-router release installed and its upstream image (used where it can be pulled;
// offline, scripts/provider-images.sh builds a replacement).
const (
	Version       = "v2.1.0"
	UpstreamImage = "docker.io/cloudnativelabs/kube-router:" + Version
	ImageName     = "kube-router" // --provider-image kube-router=REF
	Namespace     = "kube-system"
	DaemonSetName = "kube-router"
	ConfigMapName = "kube-router-cfg"
	CNIConfigPath = "/etc/cni/net.d/10-kuberouter.conflist"
	Bridge        = "kube-bridge"
	healthPort    = 20244
	cniVersion    = "0.3.1"
)

// Options are the settings kube-router is rendered from. It runs as kops runs it, minus the
// service proxy: kube-router's proxy is IPVS, which these kind nodes' kernel lacks, so
// kube-proxy (iptables) stays and kube-router routes pods and enforces NetworkPolicy.
type Options struct {
	// NetworkPolicy runs kube-router's firewall controller (default true).
	NetworkPolicy bool
	// MTU of pods; 0 lets kube-router take the underlay's (--auto-mtu; no encapsulation here).
	MTU int
	// Image runs kube-router and its install-cni init container.
	Image string
}

// OptionsFrom reads --provider-option settings.
func OptionsFrom(kv map[string]string) (Options, error) {
	o := Options{NetworkPolicy: true}
	for k, v := range kv {
		switch k {
		case "networkPolicy":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("kube-router: networkPolicy %q: want true or false", v)
			}
			o.NetworkPolicy = b
		case "serviceProxy":
			if b, _ := strconv.ParseBool(v); b {
				return o, fmt.Errorf("kube-router: serviceProxy=true needs IPVS, which the kernel of these kind nodes lacks (CONFIG_IP_VS); kube-proxy stays")
			}
		default:
			return o, fmt.Errorf("kube-router: unknown option %q (known: networkPolicy, serviceProxy)", k)
		}
	}
	return o, nil
}

// Validate checks the options before anything is installed.
func (o Options) Validate() error {
	if o.MTU != 0 && (o.MTU < 576 || o.MTU > 65535) {
		return fmt.Errorf("kube-router: MTU %d out of range", o.MTU)
	}
	return nil
}

// Healthy is what a node looks like under kube-router on one L2 network: the bridge carries
// the underlay MTU and every node has a route to every other node's pod CIDR via that node,
// learnt over iBGP.
func Healthy() providers.Healthy {
	return providers.Healthy{NodeRoutes: true, Devices: []string{Bridge}}
}

// Args are kube-router's command line.
func (o Options) Args() []string {
	args := []string{
		"--run-router=true",
		"--run-firewall=" + strconv.FormatBool(o.NetworkPolicy),
		// IPVS is missing from these kind nodes' kernel: kube-proxy keeps the Services.
		"--run-service-proxy=false",
		// One L2 network: no tunnels between nodes.
		"--enable-overlay=false",
		"--enable-cni=true",
		"--enable-pod-egress=true",
		"--bgp-graceful-restart=true",
		fmt.Sprintf("--health-port=%d", healthPort),
	}
	if o.MTU != 0 {
		args = append(args, "--auto-mtu=false")
	}
	return args
}

// CNIConf is the conflist kube-router starts from; it fills in the node's pod CIDR itself.
func (o Options) CNIConf() ([]byte, error) {
	bridge := map[string]any{
		"name": "kubernetes", "type": "bridge", "bridge": Bridge, "isDefaultGateway": true, "hairpinMode": true,
		"ipam": map[string]any{"type": "host-local"},
	}
	if o.MTU != 0 {
		bridge["mtu"] = o.MTU
	}
	return json.MarshalIndent(map[string]any{
		"cniVersion": cniVersion,
		"name":       "mynet",
		"plugins": []any{
			bridge,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"snat": true, "portMappings": true}},
		},
	}, "", "  ")
}

// installCNI is the init container's script, as upstream's generic manifest has it, minus the
// download of CNI binaries (the node image carries bridge, host-local and portmap).
const installCNI = `set -e -x
if [ ! -f ` + CNIConfigPath + ` ]; then
  if [ -f /etc/cni/net.d/*.conf ]; then rm -f /etc/cni/net.d/*.conf; fi
  TMP=/etc/cni/net.d/.tmp-kuberouter-cfg
  cp /etc/kube-router/cni-conf.json ${TMP}
  mv ${TMP} ` + CNIConfigPath + `
fi
`

// Objects renders what upstream's daemonset/generic-kuberouter.yaml installs, from the options.
func (o Options) Objects() ([]runtime.Object, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Image == "" {
		o.Image = UpstreamImage
	}
	cniConf, err := o.CNIConf()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"k8s-app": "kube-router", "tier": "node"}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: DaemonSetName, Namespace: Namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					PriorityClassName:  "system-node-critical",
					ServiceAccountName: "kube-router",
					HostNetwork:        true,
					HostPID:            true,
					Tolerations: []corev1.Toleration{
						{Effect: corev1.TaintEffectNoSchedule, Operator: corev1.TolerationOpExists},
						{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists},
						{Effect: corev1.TaintEffectNoExecute, Operator: corev1.TolerationOpExists},
					},
					InitContainers: []corev1.Container{{
						Name: "install-cni", Image: o.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{"/bin/sh", "-c", installCNI},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "cni-conf-dir", MountPath: "/etc/cni/net.d"},
							{Name: "kube-router-cfg", MountPath: "/etc/kube-router"},
						},
					}},
					Containers: []corev1.Container{{
						Name: "kube-router", Image: o.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args: o.Args(),
						Env: []corev1.EnvVar{
							manifest.FieldEnv("NODE_NAME", "spec.nodeName"),
							manifest.FieldEnv("POD_NAME", "metadata.name"),
							{Name: "KUBE_ROUTER_CNI_CONF_FILE", Value: CNIConfigPath},
						},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(healthPort)}},
							InitialDelaySeconds: 10, PeriodSeconds: 3,
						},
						Resources:       corev1.ResourceRequirements{Requests: manifest.Requests("250m", "250Mi")},
						SecurityContext: &corev1.SecurityContext{Privileged: manifest.Ptr(true)},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
							{Name: "cni-conf-dir", MountPath: "/etc/cni/net.d"},
							{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
						},
					}},
					Volumes: []corev1.Volume{
						manifest.HostPath("lib-modules", "/lib/modules", corev1.HostPathDirectoryOrCreate),
						manifest.HostPath("cni-conf-dir", "/etc/cni/net.d", ""),
						manifest.ConfigMapVolume("kube-router-cfg", ConfigMapName),
						manifest.HostPath("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
					},
				},
			},
		},
	}
	return manifest.Typed(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "kube-router", Namespace: Namespace}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-router"},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"namespaces", "pods", "services", "nodes", "endpoints"}, Verbs: []string{"list", "get", "watch"}},
				{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list", "get", "watch"}},
				{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "create", "update"}},
				{APIGroups: []string{""}, Resources: []string{"services/status"}, Verbs: []string{"update"}},
				{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"get", "list", "watch"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-router"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "kube-router"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "kube-router", Namespace: Namespace}},
		},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: Namespace, Labels: labels},
			Data:       map[string]string{"cni-conf.json": string(cniConf) + "\n"},
		},
		ds,
	), nil
}

// Installer installs kube-router and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages is kube-router's release image (--provider-image kube-router=REF replaces it
// with the local build).
func (Installer) UpstreamImages() []providers.Image {
	return []providers.Image{{Name: ImageName, Ref: UpstreamImage}}
}

// Healthy implements the installer's expectation of a node.
func (in Installer) Healthy() providers.Healthy {
	h := Healthy()
	if !in.Options.NetworkPolicy {
		h.PolicyOff = "kube-router runs with networkPolicy=false (--run-firewall=false)"
	}
	return h
}

// Install implements providers.Installer: it applies the manifest, waits until the DaemonSet is
// rolled out on every node, then until every node has its pod CIDR in its CNI config and a
// route to every other node's pod CIDR via that node (BGP has converged).
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	if ref := c.ImageRefs[ImageName]; ref != "" {
		o.Image = ref
	}
	objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		fmt.Fprintf(c.Out, "kube-router %s: routing, network policy %v, service proxy off (kube-proxy stays), image %s\n", Version, o.NetworkPolicy, o.Image)
	}
	if err := manifest.ApplyDaemonSet(ctx, c.Client, "kube-router", objs, Namespace, DaemonSetName, "k8s-app=kube-router"); err != nil {
		return err
	}
	if c.Nodes == nil {
		return nil
	}
	nodes, err := c.Client.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("kube-router: %w", err)
	}
	routesTimeout := c.Client.Timeouts.ProviderReady
	wctx, cancel := context.WithTimeout(ctx, routesTimeout)
	defer cancel()
	for {
		problems := routeProblems(wctx, c, nodes)
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("kube-router: rolled out, but after %s: %s", routesTimeout, strings.Join(problems, "; "))
		case <-time.After(2 * time.Second):
		}
	}
}

// routeProblems lists what is missing on the nodes: each node's CNI config with its pod CIDR,
// and routes to the others' pod CIDRs via them.
func routeProblems(ctx context.Context, c providers.Cluster, nodes []kube.Node) []string {
	var problems []string
	for _, n := range nodes {
		conf, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"cat", CNIConfigPath}, nil)
		if err != nil || !strings.Contains(string(conf), n.PodCIDR) {
			problems = append(problems, fmt.Sprintf("%s: %s does not carry podCIDR %s yet", n.Name, CNIConfigPath, n.PodCIDR))
			continue
		}
		out, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"ip", "-4", "route", "show"}, nil)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		problems = append(problems, MissingRoutes(n, nodes, string(out))...)
	}
	return problems
}

// MissingRoutes checks `ip -4 route show` output of node n for a route to every other node's
// pod CIDR via that node.
func MissingRoutes(n kube.Node, nodes []kube.Node, routes string) []string {
	var missing []string
	for _, peer := range nodes {
		if peer.Name == n.Name || peer.PodCIDR == "" {
			continue
		}
		_, want, err := net.ParseCIDR(peer.PodCIDR)
		if err != nil {
			continue
		}
		found := false
		for _, line := range strings.Split(routes, "\n") {
			f := strings.Fields(line)
			if len(f) >= 3 && f[0] == want.String() && f[1] == "via" && f[2] == peer.InternalIP {
				found = true
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s: no route to %s via %s", n.Name, peer.PodCIDR, peer.InternalIP))
		}
	}
	return missing
}
