package cilium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// The release installed and its upstream images (used where they can be pulled; offline,
// scripts/provider-images.sh builds replacements and renders the chart).
const (
	Version           = "v1.15.19"
	UpstreamAgent     = "quay.io/cilium/cilium:" + Version
	UpstreamOperator  = "quay.io/cilium/operator-generic:" + Version
	AgentImageName    = "cilium"          // --provider-image cilium=REF
	OperatorImageName = "cilium-operator" // --provider-image cilium-operator=REF
	ManifestName      = "cilium-manifest" // --provider-image cilium-manifest=PATH
	Namespace         = "kube-system"
	DaemonSetName     = "cilium"
	OperatorName      = "cilium-operator"
	VXLANDevice       = "cilium_vxlan"
)

// Options are the settings Cilium is installed with here: VXLAN tunnel, kubernetes IPAM (the
// nodes' podCIDRs), kube-proxy kept.
type Options struct {
	// MTU of pods; 0 lets Cilium derive it (underlay minus 50 for VXLAN).
	MTU int
	// Manifest is the chart rendered for these settings (scripts/provider-images.sh).
	Manifest []byte
	// AgentImage and OperatorImage replace the chart's images.
	AgentImage, OperatorImage string
}

// OptionsFrom reads --provider-option settings, named as kops names them; only the values
// that describe what is installed here are accepted.
func OptionsFrom(kv map[string]string) (Options, error) {
	for k, v := range kv {
		switch {
		case k == "tunnel" && v == "vxlan", k == "ipam" && v == "kubernetes", k == "enableNodePort" && v == "false":
		case k == "ipam" && v == "eni":
			return Options{}, errors.New("cilium: ipam eni is AWS only")
		case k == "tunnel":
			return Options{}, fmt.Errorf("cilium: tunnel %q: only vxlan is installed here (geneve and native routing are not)", v)
		case k == "enableNodePort":
			return Options{}, errors.New("cilium: enableNodePort true replaces kube-proxy, which needs the socket load balancer and cgroup v2; kube-proxy stays here")
		default:
			return Options{}, fmt.Errorf("cilium: option %s=%s is not supported here (known: tunnel=vxlan, ipam=kubernetes, enableNodePort=false)", k, v)
		}
	}
	return Options{}, nil
}

// Healthy is what a node looks like under Cilium in VXLAN mode: pods must fit the underlay MTU
// minus 50. Cilium's own devices (cilium_host, cilium_net, cilium_vxlan) are not listed: they
// keep the underlay MTU by design, and Cilium accounts for the tunnel in the pods instead.
func Healthy() providers.Healthy {
	return providers.Healthy{EncapOverhead: providers.OverheadVXLAN, MTUOnRoutes: true}
}

// Objects decodes the rendered chart and sets the images and the MTU.
func (o Options) Objects() ([]runtime.Object, error) {
	if len(o.Manifest) == 0 {
		return nil, fmt.Errorf("cilium: no rendered chart: pass --provider-image %s=PATH (scripts/provider-images.sh renders it)", ManifestName)
	}
	if o.MTU != 0 && (o.MTU < 576 || o.MTU > 65535) {
		return nil, fmt.Errorf("cilium: MTU %d out of range", o.MTU)
	}
	if o.AgentImage == "" {
		o.AgentImage = UpstreamAgent
	}
	if o.OperatorImage == "" {
		o.OperatorImage = UpstreamOperator
	}
	crds, objs, err := manifest.Decode(bytes.NewReader(o.Manifest))
	if err != nil {
		return nil, fmt.Errorf("cilium: rendered chart: %w", err)
	}
	// The chart is rendered without CRDs: the operator registers Cilium's own at start.
	if len(crds) != 0 {
		return nil, fmt.Errorf("cilium: rendered chart: %d CustomResourceDefinitions (first %s): not installed by this installer", len(crds), crds[0].GetName())
	}
	for _, obj := range objs {
		switch v := obj.(type) {
		case *corev1.ConfigMap:
			if v.Name == "cilium-config" {
				if got := v.Data["tunnel-protocol"]; got != "vxlan" || v.Data["routing-mode"] != "tunnel" || v.Data["ipam"] != "kubernetes" || v.Data["kube-proxy-replacement"] != "false" {
					return nil, fmt.Errorf("cilium: the rendered chart is not VXLAN tunnel, kubernetes IPAM, kube-proxy kept: %v", v.Data)
				}
				if o.MTU != 0 {
					v.Data["mtu"] = strconv.Itoa(o.MTU + providers.OverheadVXLAN)
				}
			}
		case *appsv1.DaemonSet:
			setImages(&v.Spec.Template.Spec, "quay.io/cilium/cilium:", o.AgentImage)
			dropVolume(&v.Spec.Template.Spec, "cilium-cgroup")
			addCapabilities(&v.Spec.Template.Spec, "cilium-agent", "BPF", "PERFMON")
		case *appsv1.Deployment:
			setImages(&v.Spec.Template.Spec, "quay.io/cilium/operator", o.OperatorImage)
		}
	}
	return manifest.Typed(objs...), nil
}

// dropVolume removes a volume and its mounts. The chart mounts the host's /sys/fs/cgroup with
// HostToContainer propagation for the socket load balancer (off here, kube-proxy stays); in a
// kind node /sys/fs/cgroup is not a shared mount, so containerd refuses that mount.
func dropVolume(spec *corev1.PodSpec, name string) {
	var vols []corev1.Volume
	for _, v := range spec.Volumes {
		if v.Name != name {
			vols = append(vols, v)
		}
	}
	spec.Volumes = vols
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			var mounts []corev1.VolumeMount
			for _, m := range cs[i].VolumeMounts {
				if m.Name != name {
					mounts = append(mounts, m)
				}
			}
			cs[i].VolumeMounts = mounts
		}
	}
}

// addCapabilities adds capabilities to a container. The chart's agent relies on CAP_SYS_ADMIN
// for BPF, as Cilium's own bpftool (built without libcap) does; Debian's bpftool checks for
// CAP_BPF and CAP_PERFMON and refuses to probe the kernel without them.
func addCapabilities(spec *corev1.PodSpec, container string, caps ...corev1.Capability) {
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.Name != container {
			continue
		}
		if c.SecurityContext == nil {
			c.SecurityContext = &corev1.SecurityContext{}
		}
		if c.SecurityContext.Capabilities == nil {
			c.SecurityContext.Capabilities = &corev1.Capabilities{}
		}
		c.SecurityContext.Capabilities.Add = append(c.SecurityContext.Capabilities.Add, caps...)
	}
}

func setImages(spec *corev1.PodSpec, prefix, image string) {
	for i := range spec.InitContainers {
		if strings.HasPrefix(spec.InitContainers[i].Image, prefix) {
			spec.InitContainers[i].Image = image
		}
	}
	for i := range spec.Containers {
		if strings.HasPrefix(spec.Containers[i].Image, prefix) {
			spec.Containers[i].Image = image
		}
	}
}

// Installer installs Cilium and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages are Cilium's release images by component (the names --provider-image takes
// and scripts/provider-images.sh prints for the local builds).
func (Installer) UpstreamImages() []providers.Image {
	return []providers.Image{{Name: AgentImageName, Ref: UpstreamAgent}, {Name: OperatorImageName, Ref: UpstreamOperator}}
}

// Healthy implements the installer's expectation of a node.
func (Installer) Healthy() providers.Healthy { return Healthy() }

// Install implements providers.Installer: it applies the rendered chart with the images of this
// run, then waits until the agent is rolled out and Ready on every node and the operator (which
// registers Cilium's CRDs) is available.
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	if ref := c.ImageRefs[AgentImageName]; ref != "" {
		o.AgentImage = ref
	}
	if ref := c.ImageRefs[OperatorImageName]; ref != "" {
		o.OperatorImage = ref
	}
	if path := c.ImageRefs[ManifestName]; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("cilium: rendered chart: %w", err)
		}
		o.Manifest = b
	}
	objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		fmt.Fprintf(c.Out, "cilium %s: VXLAN tunnel, kubernetes IPAM, kube-proxy kept, images %s, %s\n", Version, o.AgentImage, o.OperatorImage)
	}
	if err := manifest.Apply(ctx, c.Client, objs); err != nil {
		return fmt.Errorf("cilium: %w", err)
	}
	if err := c.Client.WaitDeployment(ctx, Namespace, OperatorName, c.Client.Timeouts.RolloutReady); err != nil {
		return fmt.Errorf("cilium: %w%s", err, manifest.PodProblems(ctx, c.Client, Namespace, "io.cilium/app=operator"))
	}
	if err := c.Client.WaitDaemonSet(ctx, Namespace, DaemonSetName); err != nil {
		return fmt.Errorf("cilium: %w%s", err, manifest.PodProblems(ctx, c.Client, Namespace, "k8s-app=cilium"))
	}
	return nil
}
