package flannel

import (
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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// Version is the flannel release installed, and the upstream images that go with it (used
// where they can be pulled; offline, scripts/provider-images.sh builds replacements).
const (
	Version              = "v0.28.10"
	UpstreamImage        = "ghcr.io/flannel-io/flannel:" + Version
	UpstreamCNIImage     = "ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3"
	ImageName            = "flannel"            // --provider-image flannel=REF
	CNIPluginImageName   = "flannel-cni-plugin" // --provider-image flannel-cni-plugin=REF
	BackendHostGW        = "host-gw"
	Namespace            = "kube-flannel"
	DaemonSetName        = "kube-flannel-ds"
	ConfigMapName        = "kube-flannel-cfg"
	CNIConfigPath        = "/etc/cni/net.d/10-flannel.conflist"
	SubnetEnvPath        = "/run/flannel/subnet.env"
	AnnotationBackend    = "flannel.alpha.coreos.com/backend-type"
	AnnotationPublicIP   = "flannel.alpha.coreos.com/public-ip"
	Bridge               = "cni0"
	VXLANDevice          = "flannel.1"
	UDPDevice            = "flannel0"
	healthzPort          = 8081
	cniVersion           = "0.3.1" // the CNI flannel plugin built here (containernetworking/plugins v0.9.1) speaks up to 0.4.0
	defaultIPTablesDepth = "5000"
)

// Options are the settings flannel is rendered from.
type Options struct {
	// Backend is vxlan (default), udp or host-gw.
	Backend string
	// PodCIDR is the cluster pod CIDR (flannel's Network); every node's podCIDR lies in it.
	PodCIDR string
	// MTU of pods; 0 lets flannel derive it from the underlay (minus the backend's overhead).
	// Only the vxlan backend can be given one.
	MTU int
	// IPTablesResyncSeconds is kops' iptablesResyncSeconds; 0 keeps flannel's default.
	IPTablesResyncSeconds int
	// Image runs flanneld (and install-conf); CNIPluginImage provides /flannel, the CNI plugin.
	Image, CNIPluginImage string
}

// OptionsFrom reads options as given on the command line (--provider-option key=value) or as
// kops presets them (flannel-udp sets backend=udp).
func OptionsFrom(kv map[string]string) (Options, error) {
	o := Options{Backend: BackendVXLAN}
	for k, v := range kv {
		switch k {
		case "backend":
			o.Backend = v
		case "iptablesResyncSeconds":
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("flannel: iptablesResyncSeconds %q: want a number of seconds", v)
			}
			o.IPTablesResyncSeconds = n
		default:
			return o, fmt.Errorf("flannel: unknown option %q (known: backend, iptablesResyncSeconds)", k)
		}
	}
	return o, o.validateBackend()
}

func (o Options) validateBackend() error {
	switch o.Backend {
	case BackendVXLAN, BackendUDP, BackendHostGW:
		return nil
	}
	return fmt.Errorf("flannel: backend %q: want %s, %s or %s (ipip, wireguard and ipsec need kernel modules these kind nodes lack)", o.Backend, BackendVXLAN, BackendUDP, BackendHostGW)
}

// Validate checks the options before anything is installed.
func (o Options) Validate() error {
	if err := o.validateBackend(); err != nil {
		return err
	}
	if _, _, err := net.ParseCIDR(o.PodCIDR); err != nil {
		return fmt.Errorf("flannel: pod CIDR %q: %w", o.PodCIDR, err)
	}
	if o.MTU != 0 {
		if o.Backend != BackendVXLAN {
			return fmt.Errorf("flannel: the %s backend takes its MTU from the underlay; only vxlan accepts an MTU", o.Backend)
		}
		if o.MTU < 576 || o.MTU > 65535-providers.OverheadVXLAN {
			return fmt.Errorf("flannel: MTU %d out of range", o.MTU)
		}
	}
	if o.IPTablesResyncSeconds < 0 {
		return fmt.Errorf("flannel: iptablesResyncSeconds %d must be positive", o.IPTablesResyncSeconds)
	}
	return nil
}

// Overhead is the bytes the backend adds to every packet between nodes.
func (o Options) Overhead() int {
	switch o.Backend {
	case BackendUDP:
		return providers.OverheadUDP
	case BackendHostGW:
		return 0
	}
	return providers.OverheadVXLAN
}

// HealthyFor is what a node looks like under flannel with the given backend: the CNI bridge
// and the backend's device carry the pod MTU; host-gw programs one route per peer's pod CIDR
// via the peer.
func HealthyFor(backend string) providers.Healthy {
	o := Options{Backend: backend}
	h := providers.Healthy{Devices: []string{Bridge}, EncapOverhead: o.Overhead()}
	switch backend {
	case BackendUDP:
		h.Devices = append(h.Devices, UDPDevice)
	case BackendHostGW:
		h.NodeRoutes = true
	default:
		h.Devices = append(h.Devices, VXLANDevice)
	}
	return h
}

// NetConf is flannel's net-conf.json.
func (o Options) NetConf() ([]byte, error) {
	backend := map[string]any{"Type": o.Backend}
	if o.Backend == BackendVXLAN && o.MTU != 0 {
		// flannel's vxlan "mtu" is the underlay's: it gives flannel.1 and pods mtu-50.
		backend["mtu"] = o.MTU + providers.OverheadVXLAN
	}
	return json.MarshalIndent(map[string]any{
		"Network":        o.PodCIDR,
		"EnableNFTables": false,
		"Backend":        backend,
	}, "", "  ")
}

// CNIConf is the conflist the install-cni init container writes on every node: the flannel
// meta plugin delegating to the bridge plugin with the node's subnet from subnet.env.
func CNIConf() ([]byte, error) {
	return json.MarshalIndent(map[string]any{
		"name":       "cbr0",
		"cniVersion": cniVersion,
		"plugins": []any{
			map[string]any{"type": "flannel", "delegate": map[string]any{"hairpinMode": true, "isDefaultGateway": true}},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
}

// Objects renders everything flannel's upstream manifest (Documentation/kube-flannel.yml of
// the release) installs, from the options.
func (o Options) Objects() ([]runtime.Object, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.Image == "" {
		o.Image = UpstreamImage
	}
	if o.CNIPluginImage == "" {
		o.CNIPluginImage = UpstreamCNIImage
	}
	netConf, err := o.NetConf()
	if err != nil {
		return nil, err
	}
	cniConf, err := CNIConf()
	if err != nil {
		return nil, err
	}
	labels := map[string]string{"k8s-app": "flannel"}
	args := []string{"--ip-masq", "--kube-subnet-mgr", fmt.Sprintf("--healthz-port=%d", healthzPort)}
	if o.IPTablesResyncSeconds > 0 {
		args = append(args, fmt.Sprintf("--iptables-resync=%d", o.IPTablesResyncSeconds))
	}
	sc := &corev1.SecurityContext{Privileged: manifest.Ptr(false), Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"NET_ADMIN", "NET_RAW"}}}
	if o.Backend == BackendUDP {
		// The udp backend opens /dev/net/tun, which only a privileged container sees.
		sc = &corev1.SecurityContext{Privileged: manifest.Ptr(true)}
	}
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: DaemonSetName, Namespace: Namespace, Labels: map[string]string{"tier": "node", "app": "flannel", "k8s-app": "flannel"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "flannel"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"tier": "node", "app": "flannel"}},
				Spec: corev1.PodSpec{
					HostNetwork:        true,
					PriorityClassName:  "system-node-critical",
					Tolerations:        []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
					ServiceAccountName: "flannel",
					NodeSelector:       map[string]string{"kubernetes.io/os": "linux"},
					InitContainers: []corev1.Container{
						{
							Name: "install-cni-plugin", Image: o.CNIPluginImage, ImagePullPolicy: corev1.PullIfNotPresent,
							Command:      []string{"cp"},
							Args:         []string{"-f", "/flannel", "/opt/cni/bin/flannel"},
							VolumeMounts: []corev1.VolumeMount{{Name: "cni-plugin", MountPath: "/opt/cni/bin"}},
						},
						{
							Name: "install-cni", Image: o.Image, ImagePullPolicy: corev1.PullIfNotPresent,
							Command:      []string{"/opt/bin/install-conf"},
							Args:         []string{"/etc/kube-flannel/cni-conf.json", CNIConfigPath},
							VolumeMounts: []corev1.VolumeMount{{Name: "cni", MountPath: "/etc/cni/net.d"}, {Name: "flannel-cfg", MountPath: "/etc/kube-flannel/"}},
						},
					},
					Containers: []corev1.Container{{
						Name: "kube-flannel", Image: o.Image, ImagePullPolicy: corev1.PullIfNotPresent,
						Command: []string{"/opt/bin/flanneld"},
						Args:    args,
						Ports:   []corev1.ContainerPort{{Name: "healthz", ContainerPort: healthzPort, Protocol: corev1.ProtocolTCP}},
						LivenessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("healthz")}},
							InitialDelaySeconds: 10, PeriodSeconds: 30,
						},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("healthz")}},
							InitialDelaySeconds: 5, PeriodSeconds: 10,
						},
						Resources:       corev1.ResourceRequirements{Requests: manifest.Requests("100m", "50Mi")},
						SecurityContext: sc,
						Env: []corev1.EnvVar{
							manifest.FieldEnv("POD_NAME", "metadata.name"),
							manifest.FieldEnv("POD_NAMESPACE", "metadata.namespace"),
							{Name: "EVENT_QUEUE_DEPTH", Value: defaultIPTablesDepth},
							{Name: "CONT_WHEN_CACHE_NOT_READY", Value: "false"},
						},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "run", MountPath: "/run/flannel"},
							{Name: "flannel-cfg", MountPath: "/etc/kube-flannel/"},
							{Name: "xtables-lock", MountPath: "/run/xtables.lock"},
						},
					}},
					Volumes: []corev1.Volume{
						manifest.HostPath("run", "/run/flannel", ""),
						manifest.HostPath("cni-plugin", "/opt/cni/bin", ""),
						manifest.HostPath("cni", "/etc/cni/net.d", ""),
						manifest.ConfigMapVolume("flannel-cfg", ConfigMapName),
						manifest.HostPath("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
					},
				},
			},
		},
	}
	return manifest.Typed(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace, Labels: map[string]string{"k8s-app": "flannel", "pod-security.kubernetes.io/enforce": "privileged"}}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: "flannel", Labels: labels},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}},
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch"}},
				{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "flannel", Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "flannel"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "flannel", Namespace: Namespace}},
		},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "flannel", Namespace: Namespace, Labels: labels}},
		&corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: Namespace, Labels: map[string]string{"tier": "node", "k8s-app": "flannel", "app": "flannel"}},
			Data:       map[string]string{"cni-conf.json": string(cniConf) + "\n", "net-conf.json": string(netConf) + "\n"},
		},
		ds,
	), nil
}

// Installer installs flannel and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages are flannel's release images by component (the names --provider-image takes
// and scripts/provider-images.sh prints for its local build, one image for both).
func (Installer) UpstreamImages() []providers.Image {
	return []providers.Image{{Name: ImageName, Ref: UpstreamImage}, {Name: CNIPluginImageName, Ref: UpstreamCNIImage}}
}

// Healthy is what a node looks like under this installer's backend.
func (in Installer) Healthy() providers.Healthy { return HealthyFor(in.Options.Backend) }

// Install implements providers.Installer: it renders the manifest with the cluster's pod CIDR
// and the images given for this run, applies it, waits until the DaemonSet is rolled out on
// every node, and then for flannel's own signs of life: every node annotated with the backend
// and its public IP, and subnet.env written with a subnet inside the node's podCIDR.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	o.PodCIDR = c.PodSubnet
	if ref := c.ImageRefs[ImageName]; ref != "" {
		o.Image = ref
	}
	if ref := c.ImageRefs[CNIPluginImageName]; ref != "" {
		o.CNIPluginImage = ref
	}
	objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		fmt.Fprintf(c.Out, "flannel %s: backend %s, network %s, image %s\n", Version, o.Backend, o.PodCIDR, orDefault(o.Image, UpstreamImage))
	}
	if err := manifest.ApplyDaemonSet(ctx, c.Client, "flannel", objs, Namespace, DaemonSetName, "app=flannel"); err != nil {
		return err
	}
	nodes, err := c.Client.Nodes(ctx)
	if err != nil {
		return fmt.Errorf("flannel: %w", err)
	}
	// Ready pods have written subnet.env; the node annotations follow within seconds.
	healthTimeout := c.Client.Timeouts.ProviderReady
	wctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	for {
		var problems []string
		for _, n := range nodes {
			if p := in.nodeProblem(wctx, c, n); p != "" {
				problems = append(problems, n.Name+": "+p)
			}
		}
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("flannel: rolled out, but after %s not working: %s", healthTimeout, strings.Join(problems, "; "))
		case <-time.After(2 * time.Second):
		}
	}
}

// BackendAnnotation is the backend-type annotation flannel writes on a node for a backend: the
// udp backend leaves it empty.
func BackendAnnotation(backend string) string {
	if backend == BackendUDP {
		return ""
	}
	return backend
}

// nodeProblem reads flannel's health signals for one node; "" means healthy.
func (in Installer) nodeProblem(ctx context.Context, c providers.Cluster, n kube.Node) string {
	cctx, cancel := context.WithTimeout(ctx, c.Client.Timeouts.APICall)
	defer cancel()
	node, err := c.Client.CoreV1().Nodes().Get(cctx, n.Name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	got, ok := node.Annotations[AnnotationBackend]
	if want := BackendAnnotation(in.Options.Backend); !ok || got != want {
		return fmt.Sprintf("annotation %s is %q, want %q", AnnotationBackend, got, want)
	}
	if node.Annotations[AnnotationPublicIP] == "" {
		return "no " + AnnotationPublicIP + " annotation"
	}
	if c.Nodes == nil {
		return ""
	}
	out, err := c.Nodes.RunOnNode(ctx, n.Name, []string{"cat", SubnetEnvPath}, nil)
	if err != nil {
		return "no " + SubnetEnvPath + ": " + err.Error()
	}
	env := ParseSubnetEnv(string(out))
	if err := CheckSubnetEnv(env, n.PodCIDR); err != nil {
		return err.Error()
	}
	return ""
}

// ParseSubnetEnv reads flannel's subnet.env (KEY=VALUE lines).
func ParseSubnetEnv(s string) map[string]string {
	env := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			env[k] = v
		}
	}
	return env
}

// CheckSubnetEnv checks that flannel gave the node a subnet inside its podCIDR and an MTU.
func CheckSubnetEnv(env map[string]string, podCIDR string) error {
	sub := env["FLANNEL_SUBNET"]
	ip, _, err := net.ParseCIDR(sub)
	if err != nil {
		return fmt.Errorf("subnet.env FLANNEL_SUBNET %q: %w", sub, err)
	}
	_, owned, err := net.ParseCIDR(podCIDR)
	if err != nil {
		return fmt.Errorf("node podCIDR %q: %w", podCIDR, err)
	}
	if !owned.Contains(ip) {
		return fmt.Errorf("subnet.env FLANNEL_SUBNET %s is outside the node's podCIDR %s", sub, podCIDR)
	}
	if mtu, err := strconv.Atoi(env["FLANNEL_MTU"]); err != nil || mtu <= 0 {
		return errors.New("subnet.env has no FLANNEL_MTU")
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
