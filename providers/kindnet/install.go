package kindnet

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// KindVersion is the kind release whose kindnetd netconform installs (the sigs.k8s.io/kind in
// go.mod), and Image the kindnetd image that release ships (pkg/build/nodeimage/const_cni.go).
const (
	KindVersion = "v0.33.0"
	Image       = "docker.io/kindest/kindnetd:v20260820-69b56db7"
	ImageName   = "kindnetd" // --provider-image kindnetd=REF
	Namespace   = "kube-system"
	Name        = "kindnet"
	// CNIConfigPath is where kindnetd writes each node's CNI configuration (ptp, host-local over
	// the node's podCIDR, the MTU of the node's eth0).
	CNIConfigPath = "/etc/cni/net.d/10-kindnet.conflist"
	// binary is kindnetd in its image (the image's CMD; it has no ENTRYPOINT).
	binary = "/bin/kindnetd"
)

// Options are what kind's kindnetd manifest is rendered from.
type Options struct {
	// PodSubnet is the cluster pod CIDR: POD_SUBNET, the range kindnetd does not masquerade.
	PodSubnet string
	// LogLevel is kops' logLevel, kindnetd's --v; nil leaves kind's manifest as it is (no flags).
	LogLevel *int
	// Image replaces kind's kindnetd image (--provider-image kindnetd=REF).
	Image string
}

// OptionsFrom reads kops' kindnet options (--provider-option KEY=VALUE) as far as kind's
// kindnetd can follow them: logLevel is its --v; the others say what kind's kindnetd always does
// and are accepted when they ask for that, refused otherwise (kops' image has flags for them,
// kind's has none).
func OptionsFrom(kv map[string]string) (Options, error) {
	var o Options
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		v := kv[k]
		switch k {
		case "logLevel":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return o, fmt.Errorf("kindnet: logLevel %q: want a verbosity of 0 or more", v)
			}
			o.LogLevel = &n
		case "networkPolicies", "adminNetworkPolicies", "baselineAdminNetworkPolicies", "dnsCaching", "nat64":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("kindnet: %s %q: want true or false", k, v)
			}
			always := k == "networkPolicies" // kind's kindnetd always enforces NetworkPolicy, and has none of the others
			if b != always {
				return o, fmt.Errorf("kindnet: %s=%t: kind's kindnetd (%s) cannot do that: it %s; kops' build (registry.k8s.io/networking/kindnet) has the flag, netconform installs kind's",
					k, b, Image, map[bool]string{true: "always enforces NetworkPolicy", false: "has no " + k}[always])
			}
		case "fastPathThreshold":
			return o, fmt.Errorf("kindnet: fastPathThreshold: kind's kindnetd (%s) has no fast path; kops' build (registry.k8s.io/networking/kindnet) has", Image)
		case "version":
			return o, fmt.Errorf("kindnet: version %s is a tag of kops' build, registry.k8s.io/networking/kindnet; netconform installs kind %s's kindnetd (%s); --provider-image %s=REF runs another image", v, KindVersion, Image, ImageName)
		default:
			return o, fmt.Errorf("kindnet: unknown option %q (kops' options: %s)", k, strings.Join(optionNames(), ", "))
		}
	}
	return o, nil
}

func optionNames() []string {
	var out []string
	for _, opt := range New().Descriptor().Options {
		out = append(out, opt.Name)
	}
	return out
}

func (o Options) image() string {
	if o.Image != "" {
		return o.Image
	}
	return Image
}

// Objects renders kind's kindnetd manifest (kind's default CNI, pkg/build/nodeimage): the
// ClusterRole to watch nodes, pods, namespaces and NetworkPolicies, its binding and
// ServiceAccount, and the kindnet DaemonSet.
func (o Options) Objects() ([]runtime.Object, error) {
	if o.PodSubnet == "" {
		return nil, fmt.Errorf("kindnet: no pod subnet for POD_SUBNET")
	}
	labels := map[string]string{"tier": "node", "app": Name, "k8s-app": Name}
	c := corev1.Container{
		Name: "kindnet-cni", Image: o.image(),
		Env: []corev1.EnvVar{
			manifest.FieldEnv("HOST_IP", "status.hostIP"),
			manifest.FieldEnv("POD_IP", "status.podIP"),
			{Name: "POD_SUBNET", Value: o.PodSubnet},
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: "cni-cfg", MountPath: "/etc/cni/net.d"},
			{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
			{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true},
			{Name: "nri-plugin", MountPath: "/var/run/nri"},
		},
		Resources: corev1.ResourceRequirements{Requests: manifest.Requests("100m", "50Mi")},
		SecurityContext: &corev1.SecurityContext{
			Privileged:   manifest.Ptr(false),
			Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_RAW", "NET_ADMIN"}},
		},
	}
	if o.LogLevel != nil {
		c.Command = []string{binary, "--v=" + strconv.Itoa(*o.LogLevel)}
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": Name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostNetwork:        true,
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					PriorityClassName:  "system-node-critical",
					ServiceAccountName: Name,
					Containers:         []corev1.Container{c},
					Volumes: []corev1.Volume{
						manifest.HostPath("cni-cfg", "/etc/cni/net.d", ""),
						manifest.HostPath("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
						manifest.HostPath("lib-modules", "/lib/modules", ""),
						manifest.HostPath("nri-plugin", "/var/run/nri", ""),
					},
				},
			},
		},
	}
	return manifest.Typed(
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: Name},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{"policy"}, Resources: []string{"podsecuritypolicies"}, Verbs: []string{"use"}, ResourceNames: []string{Name}},
				{APIGroups: []string{""}, Resources: []string{"nodes", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
				{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"list", "watch"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: Namespace}},
		},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace}},
		ds,
	), nil
}

// Installer installs kind's kindnetd from its upstream image and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages is kindnetd's image.
func (in Installer) UpstreamImages() []providers.Image {
	return []providers.Image{{Name: ImageName, Ref: in.Options.image()}}
}

// Healthy is what a node looks like under kindnetd: routed, one route per peer's podCIDR via the
// peer's InternalIP, pods at the MTU of the node's eth0 (no encapsulation, no bridge).
func (Installer) Healthy() providers.Healthy {
	return providers.Healthy{NodeRoutes: true}
}

// Install implements providers.Installer: it renders the manifest with the cluster's pod subnet
// (and the image given for this run), applies it, waits for the DaemonSet on every node and
// then, where the platform gives node access, for kindnetd's work on each node: its CNI
// configuration over the node's podCIDR and a route to every peer's podCIDR via the peer.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	o.PodSubnet = c.PodSubnet
	if ref := c.ImageRefs[ImageName]; ref != "" {
		o.Image = ref
	}
	objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		fmt.Fprintf(c.Out, "kindnet: kind %s's kindnetd %s, pod subnet %s\n", KindVersion, o.image(), o.PodSubnet)
	}
	if err := manifest.ApplyDaemonSet(ctx, c.Client, "kindnet", objs, Namespace, Name, "app="+Name); err != nil {
		return err
	}
	if c.Nodes == nil {
		return nil
	}
	nodes, err := c.Client.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("kindnet: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, c.Client.Timeouts.ProviderReady)
	defer cancel()
	for {
		var problems []string
		for _, n := range nodes {
			if p := nodeProblem(wctx, c, n, nodes); p != "" {
				problems = append(problems, n.Name+": "+p)
			}
		}
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("kindnet: rolled out, but after %s: %s", c.Client.Timeouts.ProviderReady, strings.Join(problems, "; "))
		case <-time.After(c.Client.Timeouts.PollInterval):
		}
	}
}

// nodeProblem reads kindnetd's work on one node; "" when it is done.
func nodeProblem(ctx context.Context, c providers.Cluster, n kube.Node, nodes []kube.Node) string {
	conf, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"cat", CNIConfigPath}, nil)
	if err != nil {
		return "no " + CNIConfigPath + ": " + err.Error()
	}
	if !strings.Contains(string(conf), `"`+n.PodCIDR+`"`) {
		return CNIConfigPath + " does not name the node's podCIDR " + n.PodCIDR
	}
	routes, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"ip", "-o", "route", "show"}, nil)
	if err != nil {
		return "routes: " + err.Error()
	}
	if missing := MissingRoutes(string(routes), n.Name, nodes); len(missing) > 0 {
		return "no route to " + strings.Join(missing, ", ")
	}
	return ""
}

// MissingRoutes are the peers of node whose podCIDR has no route via their InternalIP in routes
// (`ip -o route show`), as "CIDR via IP".
func MissingRoutes(routes, node string, nodes []kube.Node) []string {
	have := map[string]bool{}
	for _, line := range strings.Split(routes, "\n") {
		f := strings.Fields(line)
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "via" {
				have[f[0]+" via "+f[i+1]] = true
			}
		}
	}
	var missing []string
	for _, p := range nodes {
		if want := p.PodCIDR + " via " + p.InternalIP; p.Name != node && !have[want] {
			missing = append(missing, want)
		}
	}
	return missing
}
