package weave

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// Version is the weave release kops last shipped (kops' networking.weave addon, until weave was
// removed in kops 1.28), and the names of what the manifest creates.
const (
	Version       = "2.8.1"
	KubeImageName = "weave-kube" // --provider-image weave-kube=REF
	NPCImageName  = "weave-npc"  // --provider-image weave-npc=REF
	Namespace     = "kube-system"
	Name          = "weave-net" // DaemonSet, ServiceAccount, roles and the Secret
	// SecretKey is the key of the Secret weave-net that holds the encryption password (kops'
	// weavepassword secret, rendered there), read into WEAVE_PASSWORD.
	SecretKey = "network-password"
	// Bridge is the bridge weave attaches pods to.
	Bridge = "weave"
	// DefaultMTU is the MTU weave gives its bridge and pods with its fast datapath when none is
	// set (weave's net/bridge.go: GCE's 1460 minus its overhead and headroom).
	DefaultMTU = 1376
	// statusPort is where weave answers /status on 127.0.0.1 (its readiness probe).
	statusPort = 6784
	// upReason is the reason weave's kube-utils writes on the node condition NetworkUnavailable
	// (False) once the weave network is up on the node.
	upReason = "WeaveIsUp"
)

// KubeImage and NPCImage are the upstream images of a weave version, as kops wrote them.
func KubeImage(version string) string { return "weaveworks/weave-kube:" + version }

// NPCImage: see KubeImage.
func NPCImage(version string) string { return "weaveworks/weave-npc:" + version }

// Options are the settings the manifest is rendered from: kops' spec.networking.weave and the
// weavepassword secret.
type Options struct {
	// PodCIDR is the cluster pod CIDR: weave's IPALLOC_RANGE (kops: the controller manager's
	// clusterCIDR). Weave allocates pod addresses itself, not from the nodes' podCIDRs.
	PodCIDR string
	// MTU is WEAVE_MTU; 0 leaves weave's default (DefaultMTU).
	MTU int
	// ConnLimit and NoMasqLocal are CONN_LIMIT and NO_MASQ_LOCAL, written when set.
	ConnLimit, NoMasqLocal *int
	// NetExtraArgs and NPCExtraArgs are the EXTRA_ARGS of weave and weave-npc.
	NetExtraArgs, NPCExtraArgs string
	// Password turns encryption on: the Secret weave-net holds it, WEAVE_PASSWORD reads it. It
	// never appears in anything netconform prints (the run's redactor knows it; manifest.YAML
	// masks Secret values).
	Password string
	// Resources of the weave and weave-npc containers, as Kubernetes quantities; "" is kops'
	// default (requests 50m and 200Mi, a 200Mi memory limit, no CPU limit).
	CPURequest, MemoryRequest, CPULimit, MemoryLimit             string
	NPCCPURequest, NPCMemoryRequest, NPCCPULimit, NPCMemoryLimit string
	// Version is the tag of both images; "" is Version.
	Version string
	// KubeImage and NPCImage replace the images (--provider-image); "" uses the version's.
	KubeImage, NPCImage string
}

// OptionsFrom reads kops' settings as given with --provider-option KEY=VALUE.
func OptionsFrom(kv map[string]string) (Options, error) {
	o := Options{}
	for k, v := range kv {
		switch k {
		case "mtu":
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("weave: mtu %q: want a number of bytes", v)
			}
			o.MTU = n
		case "connLimit", "noMasqLocal":
			n, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("weave: %s %q: want an integer", k, v)
			}
			if k == "connLimit" {
				o.ConnLimit = &n
			} else {
				o.NoMasqLocal = &n
			}
		case "netExtraArgs":
			o.NetExtraArgs = v
		case "npcExtraArgs":
			o.NPCExtraArgs = v
		case "password":
			o.Password = v
		case "version":
			o.Version = v
		default:
			q, ok := o.quantity(k)
			if !ok {
				return o, fmt.Errorf("weave: unknown option %q (known: %s)", k, strings.Join(optionNames(), ", "))
			}
			*q = v
		}
	}
	return o, o.validateSettings()
}

// quantity is the field of a resource option.
func (o *Options) quantity(name string) (*string, bool) {
	f := map[string]*string{
		"cpuRequest": &o.CPURequest, "memoryRequest": &o.MemoryRequest, "cpuLimit": &o.CPULimit, "memoryLimit": &o.MemoryLimit,
		"npcCPURequest": &o.NPCCPURequest, "npcMemoryRequest": &o.NPCMemoryRequest, "npcCPULimit": &o.NPCCPULimit, "npcMemoryLimit": &o.NPCMemoryLimit,
	}[name]
	return f, f != nil
}

func optionNames() []string {
	var out []string
	for _, opt := range New().Descriptor().Options {
		out = append(out, opt.Name)
	}
	return out
}

// validateSettings checks what the user gave; errors never contain the password.
func (o Options) validateSettings() error {
	if o.MTU != 0 && (o.MTU < 576 || o.MTU > 65535) {
		return fmt.Errorf("weave: mtu %d out of range (576 to 65535)", o.MTU)
	}
	if o.ConnLimit != nil && *o.ConnLimit < 0 {
		return fmt.Errorf("weave: connLimit %d must not be negative", *o.ConnLimit)
	}
	for _, name := range []string{"cpuRequest", "memoryRequest", "cpuLimit", "memoryLimit", "npcCPURequest", "npcMemoryRequest", "npcCPULimit", "npcMemoryLimit"} {
		q, _ := (&o).quantity(name)
		if *q == "" {
			continue
		}
		if _, err := resource.ParseQuantity(*q); err != nil {
			return fmt.Errorf("weave: %s %q is not a Kubernetes quantity (such as 100m or 256Mi)", name, *q)
		}
	}
	if strings.ContainsAny(o.Version, " /:@") {
		return fmt.Errorf("weave: version %q: want an image tag such as %s", o.Version, Version)
	}
	return nil
}

// Validate checks the options before anything is rendered.
func (o Options) Validate() error {
	if err := o.validateSettings(); err != nil {
		return err
	}
	if o.PodCIDR == "" {
		return fmt.Errorf("weave: no pod CIDR for IPALLOC_RANGE")
	}
	return nil
}

// Images are the images the options run: the version's upstream ones unless replaced.
func (o Options) Images() (kube, npc string) {
	v := o.Version
	if v == "" {
		v = Version
	}
	kube, npc = KubeImage(v), NPCImage(v)
	if o.KubeImage != "" {
		kube = o.KubeImage
	}
	if o.NPCImage != "" {
		npc = o.NPCImage
	}
	return kube, npc
}

// PodMTU is the MTU pods get: the mtu option, else weave's default.
func (o Options) PodMTU() int {
	if o.MTU > 0 {
		return o.MTU
	}
	return DefaultMTU
}

// Objects renders what kops' networking.weave addon (k8s-1.12.yaml.template, weave 2.8.1)
// installs: the Secret when a password is set, the ServiceAccount and roles, and the weave-net
// DaemonSet with the weave-init init container and the weave and weave-npc containers.
func (o Options) Objects() ([]runtime.Object, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	kubeImage, npcImage := o.Images()
	labels := map[string]string{"name": Name}
	var objs []runtime.Object
	if o.Password != "" {
		objs = append(objs, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace},
			StringData: map[string]string{SecretKey: o.Password},
		})
	}
	read := []string{"get", "list", "watch"}
	objs = append(objs,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: labels}},
		&rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Labels: labels},
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "namespaces", "nodes"}, Verbs: read},
				{APIGroups: []string{"extensions"}, Resources: []string{"networkpolicies"}, Verbs: read},
				{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: read},
				{APIGroups: []string{""}, Resources: []string{"nodes/status"}, Verbs: []string{"patch", "update"}},
			},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: Namespace}},
		},
		&rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: labels},
			Rules: []rbacv1.PolicyRule{
				// weave keeps its peer list in the ConfigMap weave-net.
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{Name}, Verbs: []string{"get", "update"}},
				{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"create"}},
			},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: labels},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: Name, Namespace: Namespace}},
		},
		o.daemonSet(kubeImage, npcImage, labels),
	)
	return manifest.Typed(objs...), nil
}

func (o Options) daemonSet(kubeImage, npcImage string, labels map[string]string) *appsv1.DaemonSet {
	xtables := corev1.VolumeMount{Name: "xtables-lock", MountPath: "/run/xtables.lock"}
	privileged := &corev1.SecurityContext{Privileged: manifest.Ptr(true)}
	env := []corev1.EnvVar{
		{Name: "INIT_CONTAINER", Value: "true"},
		manifest.FieldEnv("HOSTNAME", "spec.nodeName"),
		{Name: "IPALLOC_RANGE", Value: o.PodCIDR},
	}
	if o.MTU > 0 {
		env = append(env, corev1.EnvVar{Name: "WEAVE_MTU", Value: strconv.Itoa(o.MTU)})
	}
	if o.NoMasqLocal != nil {
		env = append(env, corev1.EnvVar{Name: "NO_MASQ_LOCAL", Value: strconv.Itoa(*o.NoMasqLocal)})
	}
	if o.ConnLimit != nil {
		env = append(env, corev1.EnvVar{Name: "CONN_LIMIT", Value: strconv.Itoa(*o.ConnLimit)})
	}
	if o.NetExtraArgs != "" {
		env = append(env, corev1.EnvVar{Name: "EXTRA_ARGS", Value: o.NetExtraArgs})
	}
	if o.Password != "" {
		env = append(env, corev1.EnvVar{Name: "WEAVE_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: Name}, Key: SecretKey,
		}}})
	}
	npcEnv := []corev1.EnvVar{manifest.FieldEnv("HOSTNAME", "spec.nodeName")}
	if o.NPCExtraArgs != "" {
		npcEnv = append(npcEnv, corev1.EnvVar{Name: "EXTRA_ARGS", Value: o.NPCExtraArgs})
	}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: Namespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			// Each pod gets 5 seconds to connect before the next one is rolled.
			MinReadySeconds: 5,
			UpdateStrategy:  appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"prometheus.io/scrape": "true"}},
				Spec: corev1.PodSpec{
					HostNetwork:        true,
					DNSPolicy:          corev1.DNSClusterFirstWithHostNet,
					HostPID:            false,
					RestartPolicy:      corev1.RestartPolicyAlways,
					SecurityContext:    &corev1.PodSecurityContext{SELinuxOptions: &corev1.SELinuxOptions{}},
					ServiceAccountName: Name,
					PriorityClassName:  "system-node-critical",
					Tolerations: []corev1.Toleration{
						{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
						{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
					},
					// weave-init loads kernel modules, checks xt_set and installs the CNI plugin and
					// its configuration from the host's /opt, /home and /etc.
					InitContainers: []corev1.Container{{
						Name: "weave-init", Image: kubeImage,
						Command:         []string{"/home/weave/init.sh"},
						SecurityContext: privileged,
						VolumeMounts: []corev1.VolumeMount{
							{Name: "cni-bin", MountPath: "/host/opt"},
							{Name: "cni-bin2", MountPath: "/host/home"},
							{Name: "cni-conf", MountPath: "/host/etc"},
							{Name: "lib-modules", MountPath: "/lib/modules"},
							xtables,
						},
					}},
					Containers: []corev1.Container{
						{
							Name: "weave", Image: kubeImage,
							Command: []string{"/home/weave/launch.sh"},
							Env:     env,
							Ports:   []corev1.ContainerPort{{Name: "metrics", ContainerPort: 6782}},
							ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
								Host: "127.0.0.1", Path: "/status", Port: intstr.FromInt32(statusPort),
							}}},
							Resources:       resources(o.CPURequest, "50m", o.MemoryRequest, "200Mi", o.CPULimit, o.MemoryLimit, "200Mi"),
							SecurityContext: privileged,
							VolumeMounts: []corev1.VolumeMount{
								{Name: "weavedb", MountPath: "/weavedb"},
								{Name: "dbus", MountPath: "/host/var/lib/dbus", ReadOnly: true},
								{Name: "cni-machine-id", MountPath: "/host/etc/machine-id", ReadOnly: true},
								xtables,
							},
						},
						{
							Name: "weave-npc", Image: npcImage,
							Env:             npcEnv,
							Ports:           []corev1.ContainerPort{{Name: "metrics", ContainerPort: 6781}},
							Resources:       resources(o.NPCCPURequest, "50m", o.NPCMemoryRequest, "200Mi", o.NPCCPULimit, o.NPCMemoryLimit, "200Mi"),
							SecurityContext: privileged,
							VolumeMounts:    []corev1.VolumeMount{xtables},
						},
					},
					Volumes: []corev1.Volume{
						manifest.HostPath("weavedb", "/var/lib/weave", ""),
						manifest.HostPath("cni-bin", "/opt", ""),
						manifest.HostPath("cni-bin2", "/home", ""),
						manifest.HostPath("cni-conf", "/etc", ""),
						manifest.HostPath("cni-machine-id", "/etc/machine-id", ""),
						manifest.HostPath("dbus", "/var/lib/dbus", ""),
						manifest.HostPath("lib-modules", "/lib/modules", ""),
						manifest.HostPath("xtables-lock", "/run/xtables.lock", corev1.HostPathFileOrCreate),
					},
				},
			},
		},
	}
}

// resources are a container's requests and limits with kops' defaults: the CPU limit only when
// one is given. The quantities were checked by validateSettings.
func resources(cpuReq, cpuReqDefault, memReq, memReqDefault, cpuLimit, memLimit, memLimitDefault string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse(or(cpuReq, cpuReqDefault)),
			corev1.ResourceMemory: resource.MustParse(or(memReq, memReqDefault)),
		},
		Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(or(memLimit, memLimitDefault))},
	}
	if cpuLimit != "" {
		r.Limits[corev1.ResourceCPU] = resource.MustParse(cpuLimit)
	}
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Installer installs weave from its upstream images and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages are the two images the DaemonSet runs, for the run to find or pull before it
// creates a cluster and to load into the nodes.
func (in Installer) UpstreamImages() []providers.Image {
	kubeImage, npcImage := in.Options.Images()
	return []providers.Image{{Name: KubeImageName, Ref: kubeImage}, {Name: NPCImageName, Ref: npcImage}}
}

// Healthy is what a node looks like under weave: pods on the weave bridge at weave's MTU (the
// mtu option, else its fast datapath's default, whatever the underlay), addresses from weave's
// own allocator (no route per node's podCIDR).
func (in Installer) Healthy() providers.Healthy {
	return providers.Healthy{Devices: []string{Bridge}, EncapOverhead: Overhead, ProviderMTU: in.Options.PodMTU()}
}

// Summary is the install's one line of progress. It never contains the password.
func (o Options) Summary() string {
	kubeImage, npcImage := o.Images()
	enc := "encryption off"
	if o.Password != "" {
		enc = fmt.Sprintf("encryption on (password from Secret %s/%s, key %s)", Namespace, Name, SecretKey)
	}
	mtu := fmt.Sprintf("MTU %d", o.PodMTU())
	if o.MTU == 0 {
		mtu += " (weave's default)"
	}
	return fmt.Sprintf("weave: IP range %s, %s, %s, images %s and %s", o.PodCIDR, mtu, enc, kubeImage, npcImage)
}

// Install implements providers.Installer: it renders the manifest with the cluster's pod CIDR as
// weave's IP range (and the images given for this run), applies it, waits for the DaemonSet on
// every node and then for weave's own sign that its network is up there: the node condition
// NetworkUnavailable False with reason WeaveIsUp, which weave sets once it answers on /status.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	o.PodCIDR = c.PodSubnet
	if ref := c.ImageRefs[KubeImageName]; ref != "" {
		o.KubeImage = ref
	}
	if ref := c.ImageRefs[NPCImageName]; ref != "" {
		o.NPCImage = ref
	}
	objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		fmt.Fprintln(c.Out, o.Summary())
	}
	if err := manifest.ApplyDaemonSet(ctx, c.Client, "weave", objs, Namespace, Name, "name="+Name); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, c.Client.Timeouts.ProviderReady)
	defer cancel()
	for {
		nodes, err := c.Client.Nodes(wctx)
		var problems []string
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, n := range nodes {
			if p := NodeProblem(n); p != "" {
				problems = append(problems, n.Name+": "+p)
			}
		}
		if len(problems) == 0 {
			return nil
		}
		select {
		case <-wctx.Done():
			return fmt.Errorf("weave: rolled out, but after %s not up: %s", c.Client.Timeouts.ProviderReady, strings.Join(problems, "; "))
		case <-time.After(c.Client.Timeouts.PollInterval):
		}
	}
}

// NodeProblem says why weave is not up on a node yet ("" when it is): weave sets the condition
// NetworkUnavailable to False, reason WeaveIsUp.
func NodeProblem(n kube.Node) string {
	for _, cond := range n.Conditions {
		if cond.Type != corev1.NodeNetworkUnavailable {
			continue
		}
		if cond.Status == corev1.ConditionFalse && cond.Reason == upReason {
			return ""
		}
		return fmt.Sprintf("condition NetworkUnavailable is %s (%s: %s), want False (%s)", cond.Status, cond.Reason, cond.Message, upReason)
	}
	return "no NetworkUnavailable condition: weave has not marked the node's network up"
}
