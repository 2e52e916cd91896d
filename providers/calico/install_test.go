package calico

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// upstream reads one of calico's manifests from the calico module in the Go module cache,
// downloading the module (8.5 MB) if needed, as the installer reads it at run time.
func upstream(t *testing.T, file string) []byte {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", Module).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", Module, err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Fatalf("go mod download %s: %s", Module, out)
	}
	b, err := os.ReadFile(filepath.Join(m.Dir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func render(t *testing.T, o Options) (int, []runtime.Object) {
	t.Helper()
	if o.Manifest == nil {
		file := CalicoManifestFile
		if o.Canal {
			file = CanalManifestFile
		}
		o.Manifest = upstream(t, file)
	}
	crds, objs, err := o.Objects()
	if err != nil {
		t.Fatal(err)
	}
	return len(crds), objs
}

func find[T runtime.Object](t *testing.T, objs []runtime.Object) T {
	t.Helper()
	for _, o := range objs {
		if v, ok := o.(T); ok {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T", zero)
	return zero
}

func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func container(t *testing.T, ds *appsv1.DaemonSet, name string) corev1.Container {
	t.Helper()
	for _, c := range append(ds.Spec.Template.Spec.InitContainers, ds.Spec.Template.Spec.Containers...) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s in %s", name, ds.Name)
	return corev1.Container{}
}

func TestCalicoRendersVXLANFromOptions(t *testing.T) {
	ncrd, objs := render(t, Options{EncapsulationMode: EncapVXLAN, PodCIDR: "10.99.0.0/16", MTU: 1400, NodeImage: "local/node:x", CNIImage: "local/cni:x"})
	if ncrd != 18 {
		t.Errorf("%d CRDs, want calico's 18", ncrd)
	}
	ds := find[*appsv1.DaemonSet](t, objs)
	node := container(t, ds, "calico-node")
	e := env(node)
	if node.Image != "local/node:x" || e["CALICO_IPV4POOL_CIDR"] != "10.99.0.0/16" || e["CALICO_IPV4POOL_VXLAN"] != "Always" || e["CALICO_IPV4POOL_IPIP"] != "Never" || e["FELIX_BPFENABLED"] != "false" {
		t.Errorf("calico-node: image %s env %v", node.Image, e)
	}
	if c := container(t, ds, "install-cni"); c.Image != "local/cni:x" {
		t.Errorf("install-cni image %s", c.Image)
	}
	for _, c := range ds.Spec.Template.Spec.InitContainers {
		if c.Name == "mount-bpffs" || c.Name == "upgrade-ipam" {
			t.Errorf("init container %s must be gone (no eBPF, fresh install)", c.Name)
		}
	}
	for _, v := range ds.Spec.Template.Spec.Volumes {
		if v.Name == "bpffs" || v.Name == "nodeproc" {
			t.Errorf("volume %s must be gone", v.Name)
		}
	}
	cm := find[*corev1.ConfigMap](t, objs)
	if cm.Data["veth_mtu"] != "1400" || cm.Data["calico_backend"] != "vxlan" {
		t.Errorf("calico-config: %v", cm.Data)
	}
	for _, o := range objs {
		if d, ok := o.(*appsv1.Deployment); ok {
			t.Errorf("%s is not installed here", d.Name)
		}
	}
	if h := (Options{}).Healthy(); h.EncapOverhead != 50 || h.Devices[0] != VXLANDevice {
		t.Errorf("healthy %+v", h)
	}
	_, objs = render(t, Options{EncapsulationMode: EncapVXLAN, PodCIDR: "10.99.0.0/16", CrossSubnet: true})
	if e := env(container(t, find[*appsv1.DaemonSet](t, objs), "calico-node")); e["CALICO_IPV4POOL_VXLAN"] != "CrossSubnet" {
		t.Errorf("crossSubnet: %v", e)
	}
}

func TestCanalRendersFlannelNetwork(t *testing.T) {
	o, err := CanalOptionsFrom(nil)
	if err != nil {
		t.Fatal(err)
	}
	o.PodCIDR, o.MTU, o.FlannelImage = "10.244.0.0/16", 1450, "local/flannel:x"
	_, objs := render(t, o)
	ds := find[*appsv1.DaemonSet](t, objs)
	if ds.Name != "canal" || container(t, ds, "kube-flannel").Image != "local/flannel:x" {
		t.Errorf("canal DaemonSet %s", ds.Name)
	}
	if _, ok := env(container(t, ds, "calico-node"))["CALICO_IPV4POOL_CIDR"]; ok {
		t.Error("canal's network is flannel's: no Calico pool")
	}
	cm := find[*corev1.ConfigMap](t, objs)
	var net struct {
		Network string
		Backend map[string]any
	}
	if err := json.Unmarshal([]byte(cm.Data["net-conf.json"]), &net); err != nil || net.Network != "10.244.0.0/16" || net.Backend["mtu"] != float64(1500) {
		t.Errorf("net-conf.json %s (%v)", cm.Data["net-conf.json"], err)
	}
	if cm.Data["veth_mtu"] != "1450" {
		t.Errorf("veth_mtu %q", cm.Data["veth_mtu"])
	}
	if h := o.Healthy(); h.Devices[0] != FlannelDevice || h.EncapOverhead != 50 {
		t.Errorf("healthy %+v", h)
	}
}

func TestOptionsRefuseWhatCannotRunHere(t *testing.T) {
	for _, kv := range []map[string]string{
		{"encapsulationMode": "ipip"}, {"typhaReplicas": "3"}, {"majorVersion": "v2"}, {"bgp": "on"},
	} {
		if _, err := OptionsFrom(kv); err == nil {
			t.Errorf("%v accepted", kv)
		}
	}
	_, err := OptionsFrom(map[string]string{"encapsulationMode": "ipip"})
	if err == nil || !strings.Contains(err.Error(), "IP-in-IP") {
		t.Errorf("ipip error must name the cause: %v", err)
	}
	if _, err := CanalOptionsFrom(map[string]string{"backend": "udp"}); err == nil {
		t.Error("canal accepted an option")
	}
}

// The CNI config Owned removes is the one the rendered install-cni writes (CNI_CONF_NAME).
func TestOwnedNamesTheRenderedConfig(t *testing.T) {
	for _, canal := range []bool{false, true} {
		o := Options{EncapsulationMode: EncapVXLAN, PodCIDR: "10.244.0.0/16", Canal: canal}
		_, objs := render(t, o)
		ds := find[*appsv1.DaemonSet](t, objs)
		var name string
		for _, c := range ds.Spec.Template.Spec.InitContainers {
			for _, e := range c.Env {
				if e.Name == "CNI_CONF_NAME" {
					name = e.Value
				}
			}
		}
		s := Installer{Options: o}.Owned("n", nil, "10.244.0.0/16")
		if name == "" || s.Files[0] != "/etc/cni/net.d/"+name {
			t.Errorf("canal=%v: install-cni writes %q, Owned removes %v", canal, name, s.Files)
		}
		if len(s.Chains) < 4 || len(s.RouteProtocols) != 1 {
			t.Errorf("canal=%v: chains %v, route protocols %v", canal, s.Chains, s.RouteProtocols)
		}
	}
}

// The CRDs go to the API server as JSON; decoded by e2e-framework's decoder (numbers as int64)
// they must serialise as they did when each document was read with sigs.k8s.io/yaml (numbers as
// float64), which is what the installer applied before.
func TestCRDsAreAppliedAsUpstreamWritesThem(t *testing.T) {
	b := upstream(t, CalicoManifestFile)
	want := map[string]string{}
	for _, doc := range strings.Split(string(b), "\n---\n") {
		if !strings.Contains(doc, "\nkind: CustomResourceDefinition\n") {
			continue
		}
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatal(err)
		}
		j, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		want[m["metadata"].(map[string]any)["name"].(string)] = string(j)
	}
	crds, _, err := Options{EncapsulationMode: EncapVXLAN, PodCIDR: "10.99.0.0/16", Manifest: b}.Objects()
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) != len(want) {
		t.Errorf("%d CRDs, upstream has %d", len(crds), len(want))
	}
	for _, u := range crds {
		got, err := json.Marshal(u.Object)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want[u.GetName()] {
			t.Errorf("CRD %s differs from upstream's document", u.GetName())
		}
	}
}
