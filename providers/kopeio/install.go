package kopeio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// The agent image kops' networking.kope.io addon runs (k8s-1.12.yaml, unchanged since 2018), and
// what the install creates.
const (
	Image           = "kopeio/networking-agent:1.0.20181028"
	ImageName       = "networking-agent" // --provider-image networking-agent=REF
	Namespace       = "kube-system"
	Name            = "kopeio-networking-agent"
	ClusterRoleName = "kopeio:networking-agent"
	addonLabel      = "networking.kope.io"
	// VXLANDevice is the device the agent creates (VNI 1, UDP 4789), with the underlay MTU minus
	// DeviceOverhead, hard-coded in the agent.
	VXLANDevice    = "vxlan1"
	DeviceOverhead = 100
	// CNIConfigPath is the pods' CNI configuration netconform writes on each node, as kops'
	// nodeup writes kubenet's for containerd: ptp with host-local over the node's podCIDR.
	CNIConfigPath = "/etc/cni/net.d/10-netconform-kopeio.conflist"
	// MasqChain is the chain of kops' masquerade rules (nodeup's cni-iptables-setup): traffic
	// leaving the pod network is masqueraded.
	MasqChain = "IP-MASQ"
)

// Options are what the manifest is rendered from. kops' spec.networking.kopeio has no settings.
type Options struct {
	// Image replaces the agent's upstream image (--provider-image networking-agent=REF).
	Image string
}

func (o Options) image() string {
	if o.Image != "" {
		return o.Image
	}
	return Image
}

// Objects renders kops' networking.kope.io addon: the agent's ServiceAccount, the ClusterRole to
// read and patch nodes, and the agent DaemonSet (host network, privileged, the node's modules
// read-only).
func (o Options) Objects() []runtime.Object {
	addon := map[string]string{"k8s-addon": addonLabel}
	labels := map[string]string{"name": Name}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: addon},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					HostPID:     true,
					HostIPC:     true,
					HostNetwork: true,
					Containers: []corev1.Container{{
						Name: "networking-agent", Image: o.image(),
						Resources: corev1.ResourceRequirements{
							Requests: manifest.Requests("50m", "100Mi"),
							Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("100Mi")},
						},
						SecurityContext: &corev1.SecurityContext{Privileged: manifest.Ptr(true)},
						VolumeMounts:    []corev1.VolumeMount{{Name: "lib-modules", MountPath: "/lib/modules", ReadOnly: true}},
						// The agent finds its node by NODE_NAME.
						Env: []corev1.EnvVar{manifest.FieldEnv("NODE_NAME", "spec.nodeName")},
					}},
					ServiceAccountName: Name,
					PriorityClassName:  "system-node-critical",
					Tolerations: []corev1.Toleration{
						{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
					},
					Volumes: []corev1.Volume{manifest.HostPath("lib-modules", "/lib/modules", "")},
				},
			},
		},
	}
	// kops' file lists the DaemonSet first; its account and role go first here, so that the
	// DaemonSet's pods are not refused for a missing service account while they are applied.
	return manifest.Typed(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: addon}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName, Labels: addon},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch", "patch"}},
				{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: ClusterRoleName, Labels: addon},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: ClusterRoleName},
			// kops binds the service account by its user name.
			Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: "system:serviceaccount:" + Namespace + ":" + Name}},
		},
		ds,
	)
}

// Conflist is the pods' CNI configuration on a node: what kops' nodeup gives containerd for
// kubenet-based modes (ptp, host-local over the node's podCIDR, a default route, portmap), with
// the MTU of the agent's vxlan1 so that a full-size pod packet fits the tunnel (kops leaves the
// MTU to ptp, 1500, which fits AWS's 9001-byte underlay; a 1500-byte one would not).
func Conflist(podCIDR string, mtu int) ([]byte, error) {
	if _, _, err := net.ParseCIDR(podCIDR); err != nil {
		return nil, fmt.Errorf("kopeio: podCIDR %q: %w", podCIDR, err)
	}
	if mtu < 576 || mtu > 65535 {
		return nil, fmt.Errorf("kopeio: pod MTU %d out of range", mtu)
	}
	return json.MarshalIndent(map[string]any{
		"cniVersion": "0.4.0",
		"name":       "netconform-kopeio",
		"plugins": []any{
			map[string]any{
				"type": "ptp", "mtu": mtu,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": [][]map[string]string{{{"subnet": podCIDR}}},
					"routes": []map[string]string{{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
}

// MasqueradeCommands are kops' masquerade rules (nodeup's cni-iptables-setup) with the cluster
// pod CIDR as the range not to masquerade (kops' nonMasqueradeCIDR), made idempotent.
func MasqueradeCommands(podSubnet string) ([][]string, error) {
	if _, _, err := net.ParseCIDR(podSubnet); err != nil {
		return nil, fmt.Errorf("kopeio: cluster pod subnet %q: %w", podSubnet, err)
	}
	hook := "-t nat -C POSTROUTING -m addrtype ! --dst-type LOCAL -j " + MasqChain
	return [][]string{
		{"sh", "-c", "iptables -w -t nat -N " + MasqChain + " 2>/dev/null || true"},
		{"iptables", "-w", "-t", "nat", "-F", MasqChain},
		{"iptables", "-w", "-t", "nat", "-A", MasqChain, "-d", podSubnet, "-j", "RETURN"},
		{"iptables", "-w", "-t", "nat", "-A", MasqChain, "-j", "MASQUERADE"},
		{"sh", "-c", "iptables -w " + hook + " 2>/dev/null || iptables -w " + strings.Replace(hook, "-C", "-A", 1)},
	}, nil
}

// Installer installs kopeio-vxlan from its upstream image and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages is the agent's image.
func (in Installer) UpstreamImages() []providers.Image {
	return []providers.Image{{Name: ImageName, Ref: in.Options.image()}}
}

// Healthy is what a node looks like under kopeio-vxlan: the agent's vxlan1 at the underlay MTU
// minus 100, and pods at the same MTU (the conflist); routes to the peers' podCIDRs go over
// vxlan1, not via the peers' addresses.
func (Installer) Healthy() providers.Healthy {
	return providers.Healthy{Devices: []string{VXLANDevice}, EncapOverhead: DeviceOverhead}
}

// Install implements providers.Installer: on every node the pods' CNI configuration (podCIDR,
// MTU the underlay's minus 100) and kops' masquerade rules, then the agent DaemonSet, then the
// agent's sign of work: on every node a route to every peer's podCIDR over vxlan1.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	if c.Nodes == nil {
		return errors.New("kopeio: this platform gives no node access to write the pods' CNI configuration (kops' nodeup does that on its nodes)")
	}
	o := in.Options
	if ref := c.ImageRefs[ImageName]; ref != "" {
		o.Image = ref
	}
	nodes, err := c.Client.WaitPodCIDRs(ctx)
	if err != nil {
		return fmt.Errorf("kopeio: %w", err)
	}
	masq, err := MasqueradeCommands(c.PodSubnet)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		underlay, err := underlayMTU(ctx, c, n)
		if err != nil {
			return err
		}
		conf, err := Conflist(n.PodCIDR, underlay-DeviceOverhead)
		if err != nil {
			return fmt.Errorf("kopeio: node %s: %w", n.Name, err)
		}
		if c.Out != nil {
			fmt.Fprintf(c.Out, "kopeio: node %s podCIDR %s, pod MTU %d (underlay %d minus %d)\n", n.Name, n.PodCIDR, underlay-DeviceOverhead, underlay, DeviceOverhead)
		}
		if _, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"tee", CNIConfigPath}, bytes.NewReader(conf)); err != nil {
			return fmt.Errorf("kopeio: write CNI config on %s: %w", n.Name, err)
		}
		for _, argv := range masq {
			if _, err := c.Nodes.RunOnNode(ctx, n.Name, argv, nil); err != nil {
				return fmt.Errorf("kopeio: masquerade rules on %s: %w", n.Name, err)
			}
		}
	}
	if c.Out != nil {
		fmt.Fprintf(c.Out, "kopeio: agent %s\n", o.image())
	}
	if err := manifest.ApplyDaemonSet(ctx, c.Client, "kopeio", o.Objects(), Namespace, Name, "name="+Name); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, c.Client.Timeouts.ProviderReady)
	defer cancel()
	for {
		var problems []string
		for _, n := range nodes {
			out, err := c.Nodes.RunOnNode(wctx, n.Name, []string{"ip", "-o", "route", "show", "dev", VXLANDevice}, nil)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: no %s: %v", n.Name, VXLANDevice, err))
				continue
			}
			if missing := MissingRoutes(string(out), n.Name, nodes); len(missing) > 0 {
				problems = append(problems, fmt.Sprintf("%s: no route over %s to %s", n.Name, VXLANDevice, strings.Join(missing, ", ")))
			}
		}
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("kopeio: rolled out, but after %s: %s", c.Client.Timeouts.ProviderReady, strings.Join(problems, "; "))
		case <-time.After(c.Client.Timeouts.PollInterval):
		}
	}
}

// MissingRoutes are the podCIDRs of node's peers that `ip -o route show dev vxlan1` on node
// (routes) does not list.
func MissingRoutes(routes, node string, nodes []kube.Node) []string {
	have := map[string]bool{}
	for _, line := range strings.Split(routes, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			have[f[0]] = true
		}
	}
	var missing []string
	for _, p := range nodes {
		if p.Name != node && !have[p.PodCIDR] {
			missing = append(missing, p.PodCIDR)
		}
	}
	return missing
}

// underlayMTU is the MTU of the node's interface holding its InternalIP: the one the agent
// takes vxlan1's MTU from.
func underlayMTU(ctx context.Context, c providers.Cluster, n kube.Node) (int, error) {
	out, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"ip", "-o", "addr", "show", "to", n.InternalIP}, nil)
	if err != nil {
		return 0, fmt.Errorf("kopeio: device of %s on %s: %w", n.InternalIP, n.Name, err)
	}
	dev := DeviceOf(string(out))
	if dev == "" {
		return 0, fmt.Errorf("kopeio: no device holds %s on %s", n.InternalIP, n.Name)
	}
	out, err = c.Nodes.RunOnNode(ctx, n.Name, []string{"cat", "/sys/class/net/" + dev + "/mtu"}, nil)
	if err != nil {
		return 0, fmt.Errorf("kopeio: MTU of %s on %s: %w", dev, n.Name, err)
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("kopeio: MTU of %s on %s: %w", dev, n.Name, err)
	}
	return mtu, nil
}

// DeviceOf is the device of the first line of `ip -o addr show to ADDRESS` ("4: eth0    inet
// ..."), without a peer suffix (eth0@if8); "" when there is none.
func DeviceOf(ipAddrOutput string) string {
	f := strings.Fields(ipAddrOutput)
	if len(f) < 2 {
		return ""
	}
	dev, _, _ := strings.Cut(f[1], "@")
	return dev
}
