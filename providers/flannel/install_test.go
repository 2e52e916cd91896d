package flannel

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

func TestManifestGolden(t *testing.T) {
	for name, o := range map[string]Options{
		"vxlan.yaml": {Backend: BackendVXLAN, PodCIDR: "10.244.0.0/16"},
		"udp.yaml":   {Backend: BackendUDP, PodCIDR: "10.244.0.0/16", IPTablesResyncSeconds: 10, Image: "netconform/flannel:test", CNIPluginImage: "netconform/flannel:test"},
	} {
		objs, err := o.Objects()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		y, err := manifest.YAML(objs)
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name, y)
	}
}

func TestOptionsFrom(t *testing.T) {
	o, err := OptionsFrom(nil)
	if err != nil || o.Backend != BackendVXLAN {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = OptionsFrom(map[string]string{"backend": "udp", "iptablesResyncSeconds": "5"})
	if err != nil || o.Backend != BackendUDP || o.IPTablesResyncSeconds != 5 {
		t.Fatalf("udp: %+v, %v", o, err)
	}
	for _, bad := range []map[string]string{
		{"backend": "ipip"}, {"backend": "wireguard"}, {"colour": "blue"}, {"iptablesResyncSeconds": "soon"},
	} {
		if _, err := OptionsFrom(bad); err == nil {
			t.Errorf("OptionsFrom(%v) accepted", bad)
		}
	}
}

func netConf(t *testing.T, o Options) map[string]any {
	t.Helper()
	b, err := o.NetConf()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNetConfFollowsOptions(t *testing.T) {
	m := netConf(t, Options{Backend: BackendHostGW, PodCIDR: "10.99.0.0/16"})
	if m["Network"] != "10.99.0.0/16" || m["Backend"].(map[string]any)["Type"] != "host-gw" {
		t.Errorf("host-gw net-conf: %v", m)
	}
	// A pod MTU of 1400 is flannel's vxlan mtu 1450: flannel subtracts the 50 bytes itself.
	m = netConf(t, Options{Backend: BackendVXLAN, PodCIDR: "10.244.0.0/16", MTU: 1400})
	if got := m["Backend"].(map[string]any)["mtu"]; got != float64(1450) {
		t.Errorf("vxlan mtu = %v, want 1450", got)
	}
	if _, ok := netConf(t, Options{Backend: BackendVXLAN, PodCIDR: "10.244.0.0/16"})["Backend"].(map[string]any)["mtu"]; ok {
		t.Error("vxlan without MTU must let flannel derive it")
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{
		{Backend: BackendUDP, PodCIDR: "10.244.0.0/16", MTU: 1400},
		{Backend: BackendHostGW, PodCIDR: "10.244.0.0/16", MTU: 1400},
		{Backend: BackendVXLAN, PodCIDR: "10.244.0.0/16", MTU: 100},
		{Backend: BackendVXLAN, PodCIDR: "not-a-cidr"},
		{Backend: "ipsec", PodCIDR: "10.244.0.0/16"},
	} {
		if _, err := o.Objects(); err == nil {
			t.Errorf("%+v rendered", o)
		}
	}
}

func daemonSet(t *testing.T, o Options) *appsv1.DaemonSet {
	t.Helper()
	objs, err := o.Objects()
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if ds, ok := obj.(*appsv1.DaemonSet); ok {
			return ds
		}
	}
	t.Fatal("no DaemonSet")
	return nil
}

func TestImagesAndPrivilege(t *testing.T) {
	ds := daemonSet(t, Options{Backend: BackendVXLAN, PodCIDR: "10.244.0.0/16"})
	spec := ds.Spec.Template.Spec
	if spec.Containers[0].Image != UpstreamImage || spec.InitContainers[0].Image != UpstreamCNIImage {
		t.Errorf("default images: %s, %s", spec.Containers[0].Image, spec.InitContainers[0].Image)
	}
	if p := spec.Containers[0].SecurityContext.Privileged; p == nil || *p {
		t.Error("vxlan flanneld must not be privileged (NET_ADMIN and NET_RAW suffice)")
	}
	ds = daemonSet(t, Options{Backend: BackendUDP, PodCIDR: "10.244.0.0/16", Image: "local/flannel:x"})
	c := ds.Spec.Template.Spec.Containers[0]
	if c.Image != "local/flannel:x" || c.SecurityContext.Privileged == nil || !*c.SecurityContext.Privileged {
		t.Errorf("udp: image %s, security %+v", c.Image, c.SecurityContext)
	}
	if !strings.Contains(strings.Join(c.Args, " "), "--kube-subnet-mgr") {
		t.Errorf("flanneld must take node subnets from node.spec.podCIDR: %v", c.Args)
	}
	var hasRun bool
	for _, v := range ds.Spec.Template.Spec.Volumes {
		hasRun = hasRun || (v.HostPath != nil && v.HostPath.Path == "/run/flannel")
	}
	if !hasRun || ds.Spec.Template.Spec.HostNetwork != true {
		t.Error("flanneld must run in the host network with /run/flannel from the host")
	}
}

func TestHealthyFor(t *testing.T) {
	for backend, want := range map[string]struct {
		overhead int
		device   string
		routes   bool
	}{
		BackendVXLAN:  {50, VXLANDevice, false},
		BackendUDP:    {28, UDPDevice, false},
		BackendHostGW: {0, Bridge, true},
	} {
		h := HealthyFor(backend)
		if h.EncapOverhead != want.overhead || h.NodeRoutes != want.routes || !strings.Contains(strings.Join(h.Devices, ","), want.device) {
			t.Errorf("%s: %+v", backend, h)
		}
	}
	if BackendAnnotation(BackendUDP) != "" || BackendAnnotation(BackendVXLAN) != "vxlan" {
		t.Error("flannel's udp backend writes an empty backend-type annotation")
	}
}

func TestCheckSubnetEnv(t *testing.T) {
	env := ParseSubnetEnv("FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=10.244.1.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n")
	if err := CheckSubnetEnv(env, "10.244.1.0/24"); err != nil {
		t.Errorf("good subnet.env: %v", err)
	}
	if err := CheckSubnetEnv(env, "10.244.2.0/24"); err == nil {
		t.Error("a subnet outside the node's podCIDR passed")
	}
	if err := CheckSubnetEnv(ParseSubnetEnv("FLANNEL_SUBNET=10.244.1.1/24\n"), "10.244.1.0/24"); err == nil {
		t.Error("subnet.env without an MTU passed")
	}
}

func TestOwnedFollowsTheBackend(t *testing.T) {
	nodes := []kube.Node{{Name: "a", PodCIDR: "10.244.0.0/24", InternalIP: "172.18.0.2"}, {Name: "b", PodCIDR: "10.244.1.0/24", InternalIP: "172.18.0.3"}}
	vx := Installer{Options: Options{Backend: BackendVXLAN}}.Owned("a", nodes, "10.244.0.0/16")
	if !slices.Contains(vx.Links, VXLANDevice) || !slices.Contains(vx.Links, Bridge) || len(vx.Routes) != 0 || !slices.Contains(vx.Files, CNIConfigPath) {
		t.Errorf("vxlan: %+v", vx)
	}
	gw := Installer{Options: Options{Backend: BackendHostGW}}.Owned("a", nodes, "10.244.0.0/16")
	if slices.Contains(gw.Links, VXLANDevice) || len(gw.Routes) != 1 || gw.Routes[0] != (providers.Route{Dst: "10.244.1.0/24", Via: "172.18.0.3"}) {
		t.Errorf("host-gw: %+v", gw)
	}
	// The conflist Install writes names the network whose host-local directory Owned removes.
	b, err := CNIConf()
	var conf struct{ Name string }
	if err != nil || json.Unmarshal(b, &conf) != nil || "/var/lib/cni/networks/"+conf.Name != IPAMDir {
		t.Errorf("conflist network %q does not match %s (%v)", conf.Name, IPAMDir, err)
	}
}
