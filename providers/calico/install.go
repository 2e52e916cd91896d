package calico

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// Calico's own manifests are not copied into netconform: they are read, at install time, from
// the calico module in the Go module cache (the same module scripts/provider-images.sh builds
// calico-node from), whose manifests/ directory ships manifests/calico-vxlan.yaml and
// manifests/canal.yaml. scripts/provider-images.sh prints their paths as calico-manifest=PATH
// and canal-manifest=PATH; Objects adjusts the decoded objects to the options in Go.
const (
	// Module is the calico module (the v3.28.5 branch) as the Go module proxy serves it.
	Module             = "github.com/projectcalico/calico@v1.11.0-cni-plugin.0.20250813170300-a0db560f0520"
	CalicoManifestFile = "manifests/calico-vxlan.yaml"
	CanalManifestFile  = "manifests/canal.yaml"
	CalicoManifestName = "calico-manifest" // --provider-image calico-manifest=PATH
	CanalManifestName  = "canal-manifest"  // --provider-image canal-manifest=PATH
)

// The release installed, its upstream images (used where they can be pulled; offline,
// scripts/provider-images.sh builds replacements) and names on the nodes.
const (
	Version          = "v3.28.5"
	UpstreamNode     = "docker.io/calico/node:" + Version
	UpstreamCNI      = "docker.io/calico/cni:" + Version
	NodeImageName    = "calico-node" // --provider-image calico-node=REF
	CNIImageName     = "calico-cni"  // --provider-image calico-cni=REF
	Namespace        = "kube-system"
	DaemonSetName    = "calico-node"
	VXLANDevice      = "vxlan.calico"
	FlannelDevice    = "flannel.1"
	FlannelImageName = "flannel" // canal's flannel: --provider-image flannel=REF
	UpstreamFlannel  = "docker.io/flannel/flannel:v0.24.3"
	EncapVXLAN       = "vxlan"
	EncapIPIP        = "ipip"
)

// Options are the settings Calico is rendered from (kops' names).
type Options struct {
	// EncapsulationMode is vxlan here: IP-in-IP needs the ipip module these kind nodes lack.
	EncapsulationMode string
	// CrossSubnet encapsulates only between subnets (kind's nodes share one, so then nothing is
	// encapsulated); false encapsulates everything.
	CrossSubnet bool
	// MTU of pods; 0 lets Calico derive it (underlay minus 50 for VXLAN).
	MTU int
	// PodCIDR is the default IP pool (the cluster pod CIDR).
	PodCIDR string
	// NodeImage and CNIImage run calico-node and install the CNI plugin.
	NodeImage, CNIImage string
	// Canal installs canal instead: Calico enforcing policy over flannel's vxlan network, with
	// FlannelImage running flanneld. The encapsulation options then do not apply.
	Canal        bool
	FlannelImage string
	// Manifest is the upstream manifest (calico-vxlan.yaml, or canal.yaml for canal) the
	// objects are rendered from.
	Manifest []byte
}

// CanalOptionsFrom reads canal's --provider-option settings: canal takes none of its own here
// (kops' mtu is --mtu).
func CanalOptionsFrom(kv map[string]string) (Options, error) {
	for k := range kv {
		return Options{}, fmt.Errorf("canal: unknown option %q (canal takes none; the MTU is --mtu)", k)
	}
	return Options{Canal: true, EncapsulationMode: EncapVXLAN}, nil
}

// OptionsFrom reads --provider-option settings, named as kops names them.
func OptionsFrom(kv map[string]string) (Options, error) {
	o := Options{EncapsulationMode: EncapVXLAN}
	for k, v := range kv {
		switch k {
		case "encapsulationMode":
			o.EncapsulationMode = v
		case "crossSubnet":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("calico: crossSubnet %q: want true or false", v)
			}
			o.CrossSubnet = b
		case "typhaReplicas":
			if n, err := strconv.Atoi(v); err != nil || n != 0 {
				return o, fmt.Errorf("calico: typhaReplicas %q: netconform installs Calico without Typha on kind", v)
			}
		case "majorVersion":
			if v != "v3" {
				return o, fmt.Errorf("calico: majorVersion %q: only v3 is installed", v)
			}
		default:
			return o, fmt.Errorf("calico: unknown option %q (known: encapsulationMode, crossSubnet, typhaReplicas, majorVersion)", k)
		}
	}
	return o, o.validateMode()
}

func (o Options) validateMode() error {
	switch o.EncapsulationMode {
	case EncapVXLAN:
		return nil
	case EncapIPIP:
		return errors.New("calico: encapsulationMode ipip cannot run on these kind nodes: their kernel has no IP-in-IP support (CONFIG_NET_IPIP, and no loadable modules: CONFIG_MODULES=n), and IP-in-IP needs BIRD for routes; use encapsulationMode=vxlan (the default here)")
	}
	return fmt.Errorf("calico: encapsulationMode %q: want vxlan (ipip is not possible here)", o.EncapsulationMode)
}

// Healthy is what a node looks like under Calico in VXLAN mode: its vxlan.calico device carries
// the pod MTU (underlay minus 50; Calico sizes pods for VXLAN with crossSubnet too). Routes go to
// Calico's IPAM blocks, not to the nodes' podCIDRs, so the per-node route checks do not apply.
// Under canal, flannel.1 carries it.
func (o Options) Healthy() providers.Healthy {
	if o.Canal {
		return providers.Healthy{Devices: []string{FlannelDevice}, EncapOverhead: providers.OverheadVXLAN}
	}
	return providers.Healthy{Devices: []string{VXLANDevice}, EncapOverhead: providers.OverheadVXLAN}
}

// Objects renders the upstream manifest with the options: the images, the default IP pool
// (pod CIDR, VXLAN Always or CrossSubnet, no IP-in-IP), the MTU; without what cannot run or is
// not needed here: the eBPF mount init container (eBPF dataplane off), the host-local upgrade
// init container (fresh install), and calico-kube-controllers (not built here; it garbage-collects
// IPAM and node objects, which a short-lived cluster does not need).
func (o Options) Objects() (crds []*unstructured.Unstructured, objs []runtime.Object, err error) {
	if err := o.validateMode(); err != nil {
		return nil, nil, err
	}
	if o.PodCIDR == "" {
		return nil, nil, errors.New("calico: no pod CIDR")
	}
	if o.MTU != 0 && (o.MTU < 576 || o.MTU > 65535) {
		return nil, nil, fmt.Errorf("calico: MTU %d out of range", o.MTU)
	}
	if o.NodeImage == "" {
		o.NodeImage = UpstreamNode
	}
	if o.CNIImage == "" {
		o.CNIImage = UpstreamCNI
	}
	if o.FlannelImage == "" {
		o.FlannelImage = UpstreamFlannel
	}
	upstream := o.Manifest
	if len(upstream) == 0 {
		return nil, nil, fmt.Errorf("calico: no upstream manifest: pass --provider-image %s=PATH (scripts/provider-images.sh prints it from %s in the Go module cache)", o.manifestName(), Module)
	}
	crds, decoded, err := manifest.Decode(bytes.NewReader(upstream))
	if err != nil {
		return nil, nil, fmt.Errorf("calico: upstream manifest: %w", err)
	}
	for _, obj := range decoded {
		switch v := obj.(type) {
		case *appsv1.Deployment:
			continue // calico-kube-controllers
		case *corev1.ServiceAccount:
			if v.Name == "calico-kube-controllers" {
				continue
			}
		case *corev1.ConfigMap:
			if o.MTU != 0 {
				v.Data["veth_mtu"] = strconv.Itoa(o.MTU)
			}
			if o.Canal {
				net, err := canalNetConf(o.PodCIDR, o.MTU)
				if err != nil {
					return nil, nil, err
				}
				v.Data["net-conf.json"] = net
			} else {
				v.Data["calico_backend"] = "vxlan"
			}
		case *appsv1.DaemonSet:
			o.adjustDaemonSet(v)
		}
		if m, ok := obj.(interface{ GetName() string }); ok && strings.Contains(m.GetName(), "kube-controllers") {
			continue // its RBAC and PodDisruptionBudget
		}
		objs = append(objs, obj)
	}
	return crds, manifest.Typed(objs...), nil
}

// manifestName is the --provider-image key of the upstream manifest these options need.
func (o Options) manifestName() string {
	if o.Canal {
		return CanalManifestName
	}
	return CalicoManifestName
}

func (o Options) adjustDaemonSet(ds *appsv1.DaemonSet) {
	spec := &ds.Spec.Template.Spec
	var inits []corev1.Container
	for _, c := range spec.InitContainers {
		switch c.Name {
		case "upgrade-ipam", "mount-bpffs":
			continue
		case "install-cni":
			c.Image = o.CNIImage
		}
		inits = append(inits, c)
	}
	spec.InitContainers = inits
	drop := map[string]bool{"sys-fs": true, "bpffs": true, "nodeproc": true, "host-local-net-dir": true}
	var vols []corev1.Volume
	for _, v := range spec.Volumes {
		if !drop[v.Name] {
			vols = append(vols, v)
		}
	}
	spec.Volumes = vols
	mode := "Always"
	if o.CrossSubnet {
		mode = "CrossSubnet"
	}
	for i := range spec.Containers {
		c := &spec.Containers[i]
		if c.Name == "kube-flannel" {
			c.Image = o.FlannelImage
			continue
		}
		if c.Name != "calico-node" {
			continue
		}
		c.Image = o.NodeImage
		var mounts []corev1.VolumeMount
		for _, m := range c.VolumeMounts {
			if !drop[m.Name] {
				mounts = append(mounts, m)
			}
		}
		c.VolumeMounts = mounts
		if !o.Canal {
			setEnv(c, "CALICO_IPV4POOL_CIDR", o.PodCIDR)
			setEnv(c, "CALICO_IPV4POOL_VXLAN", mode)
			setEnv(c, "CALICO_IPV4POOL_IPIP", "Never")
		}
		// Felix must not load eBPF programs: the dataplane is iptables.
		setEnv(c, "FELIX_BPFENABLED", "false")
	}
}

func setEnv(c *corev1.Container, name, value string) {
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i] = corev1.EnvVar{Name: name, Value: value}
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

// Installer installs Calico and waits for it.
type Installer struct {
	Options Options
}

var (
	_ providers.Installer      = Installer{}
	_ providers.UpstreamImager = Installer{}
)

// UpstreamImages are Calico's release images by component (the names --provider-image takes
// and scripts/provider-images.sh prints for the local builds), canal's flannel too.
func (in Installer) UpstreamImages() []providers.Image {
	imgs := []providers.Image{{Name: NodeImageName, Ref: UpstreamNode}, {Name: CNIImageName, Ref: UpstreamCNI}}
	if in.Options.Canal {
		imgs = append(imgs, providers.Image{Name: FlannelImageName, Ref: UpstreamFlannel})
	}
	return imgs
}

// Healthy is what a node looks like under this installer's options.
func (in Installer) Healthy() providers.Healthy { return in.Options.Healthy() }

// Install implements providers.Installer: CRDs first (and established), then the rest, then it
// waits until calico-node is rolled out and Ready on every node (its readiness is Felix's).
func (in Installer) Install(ctx context.Context, c providers.Cluster) error {
	o := in.Options
	o.PodCIDR = c.PodSubnet
	if ref := c.ImageRefs[NodeImageName]; ref != "" {
		o.NodeImage = ref
	}
	if ref := c.ImageRefs[CNIImageName]; ref != "" {
		o.CNIImage = ref
	}
	if ref := c.ImageRefs[FlannelImageName]; ref != "" {
		o.FlannelImage = ref
	}
	if path := c.ImageRefs[o.manifestName()]; path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("calico: upstream manifest: %w", err)
		}
		o.Manifest = b
	}
	if o.Canal && o.MTU == 0 && c.Nodes != nil {
		// Upstream canal.yaml leaves veth_mtu at 0, and Calico's auto-detection does not know
		// about flannel's vxlan: pods get the underlay's 1500 over flannel.1's 1450. kops always
		// writes an MTU; netconform writes the one flannel gives its own pods.
		underlay, err := underlayMTU(ctx, c)
		if err != nil {
			return fmt.Errorf("canal: %w", err)
		}
		o.MTU = underlay - providers.OverheadVXLAN
	}
	crds, objs, err := o.Objects()
	if err != nil {
		return err
	}
	if c.Out != nil {
		if o.Canal {
			fmt.Fprintf(c.Out, "canal (calico %s policy, flannel vxlan), network %s, images %s, %s, %s\n", Version, o.PodCIDR, o.NodeImage, o.CNIImage, o.FlannelImage)
		} else {
			fmt.Fprintf(c.Out, "calico %s: VXLAN (%s), pool %s, images %s, %s\n", Version, o.Healthy().Devices, o.PodCIDR, o.NodeImage, o.CNIImage)
		}
	}
	if err := manifest.ApplyCRDs(ctx, c.Client, crds, c.Client.Timeouts.CRDEstablish); err != nil {
		return fmt.Errorf("calico: %w", err)
	}
	if err := manifest.Apply(ctx, c.Client, objs); err != nil {
		return fmt.Errorf("calico: %w", err)
	}
	name, selector := DaemonSetName, "k8s-app=calico-node"
	if o.Canal {
		name, selector = "canal", "k8s-app=canal"
	}
	if err := c.Client.WaitDaemonSet(ctx, Namespace, name); err != nil {
		return fmt.Errorf("%s: %w%s", name, err, manifest.PodProblems(ctx, c.Client, Namespace, selector))
	}
	return nil
}

// canalNetConf is flannel's net-conf.json inside canal: the cluster pod CIDR, vxlan, and the
// MTU (flannel's vxlan mtu is the underlay's: pods get mtu-50).
func canalNetConf(podCIDR string, mtu int) (string, error) {
	backend := map[string]any{"Type": "vxlan"}
	if mtu != 0 {
		backend["mtu"] = mtu + providers.OverheadVXLAN
	}
	b, err := json.MarshalIndent(map[string]any{"Network": podCIDR, "Backend": backend}, "", "  ")
	return string(b) + "\n", err
}

// underlayMTU is the MTU of the first node's interface toward another node.
func underlayMTU(ctx context.Context, c providers.Cluster) (int, error) {
	nodes, err := c.Client.Nodes(ctx)
	if err != nil {
		return 0, err
	}
	if len(nodes) == 0 {
		return 0, errors.New("no nodes")
	}
	target := nodes[len(nodes)-1].InternalIP
	out, err := c.Nodes.RunOnNode(ctx, nodes[0].Name, []string{"ip", "-o", "route", "get", target}, nil)
	if err != nil {
		return 0, fmt.Errorf("route toward %s: %w", target, err)
	}
	f := strings.Fields(string(out))
	dev := ""
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "dev" {
			dev = f[i+1]
		}
	}
	if dev == "" {
		return 0, fmt.Errorf("no device in %q", out)
	}
	out, err = c.Nodes.RunOnNode(ctx, nodes[0].Name, []string{"cat", "/sys/class/net/" + dev + "/mtu"}, nil)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(out)))
}
