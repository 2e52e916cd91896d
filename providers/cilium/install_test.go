package cilium

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// chart is a cut-down rendering of the chart with the settings scripts/provider-images.sh uses.
const chart = `---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cilium-config
  namespace: kube-system
data:
  routing-mode: "tunnel"
  tunnel-protocol: "vxlan"
  ipam: "kubernetes"
  kube-proxy-replacement: "false"
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: cilium
  namespace: kube-system
spec:
  selector:
    matchLabels:
      k8s-app: cilium
  template:
    metadata:
      labels:
        k8s-app: cilium
    spec:
      initContainers:
      - name: config
        image: "quay.io/cilium/cilium:v1.15.19"
      containers:
      - name: cilium-agent
        image: "quay.io/cilium/cilium:v1.15.19"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: cilium-operator
  namespace: kube-system
spec:
  selector:
    matchLabels:
      io.cilium/app: operator
  template:
    metadata:
      labels:
        io.cilium/app: operator
    spec:
      containers:
      - name: cilium-operator
        image: "quay.io/cilium/operator-generic:v1.15.19"
`

func TestObjectsSetImagesAndMTU(t *testing.T) {
	objs, err := Options{Manifest: []byte(chart), MTU: 1400, AgentImage: "local/cilium:x", OperatorImage: "local/op:x"}.Objects()
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("%d objects", len(objs))
	}
	for _, o := range objs {
		switch v := o.(type) {
		case *corev1.ConfigMap:
			if v.Data["mtu"] != "1450" {
				t.Errorf("mtu %q: Cilium's mtu is the underlay's, pods get 50 less", v.Data["mtu"])
			}
		case *appsv1.DaemonSet:
			s := v.Spec.Template.Spec
			if s.InitContainers[0].Image != "local/cilium:x" || s.Containers[0].Image != "local/cilium:x" {
				t.Errorf("agent images %v", s)
			}
			if sc := s.Containers[0].SecurityContext; sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Add) != 2 {
				t.Errorf("agent needs CAP_BPF and CAP_PERFMON for bpftool: %+v", sc)
			}
		case *appsv1.Deployment:
			if img := v.Spec.Template.Spec.Containers[0].Image; img != "local/op:x" {
				t.Errorf("operator image %s", img)
			}
		}
	}
}

func TestObjectsRefuseOtherSettings(t *testing.T) {
	if _, err := (Options{}).Objects(); err == nil || !strings.Contains(err.Error(), ManifestName) {
		t.Errorf("no manifest: %v", err)
	}
	native := strings.Replace(chart, `routing-mode: "tunnel"`, `routing-mode: "native"`, 1)
	if _, err := (Options{Manifest: []byte(native)}).Objects(); err == nil {
		t.Error("a native-routing rendering was accepted")
	}
}

func TestOptionsFrom(t *testing.T) {
	if _, err := OptionsFrom(map[string]string{"tunnel": "vxlan", "ipam": "kubernetes"}); err != nil {
		t.Error(err)
	}
	for _, kv := range []map[string]string{{"ipam": "eni"}, {"tunnel": "geneve"}, {"enableNodePort": "true"}, {"etcdManaged": "true"}} {
		if _, err := OptionsFrom(kv); err == nil {
			t.Errorf("%v accepted", kv)
		}
	}
}
