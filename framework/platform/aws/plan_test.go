package aws

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers/catalog"
)

func TestCalicoPlanGolden(t *testing.T) {
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "calico", RunID: "nc-20260101-120000", StateStore: "s3://example-kops-state",
		Zones: []string{"us-east-1a", "us-east-1b"}, ArtifactsDir: "_artifacts/nc-20260101-120000"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := a.Plan().Write(&b); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "calico.plan", b.Bytes())
}

func TestCalicoPlanContent(t *testing.T) {
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "calico", RunID: "nc-1", StateStore: "s3://s", NodeCount: 60})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := a.Plan().Write(&b); err != nil {
		t.Fatal(err)
	}
	plan := b.String()
	for _, want := range []string{
		"kops create cluster --name nc-1.k8s.local --cloud aws --zones us-east-1a",
		"--networking calico --cloud-labels netconform.io/run-id=nc-1 --state s3://s\n",
		"#         mtu: 8912\n", "#         ipipMode: CrossSubnet\n", "#         typhaReplicas: 3\n",
		"kops replace -f _artifacts/nc-1/cluster.yaml --state s3://s\n",
		"kops update cluster --name nc-1.k8s.local --yes --state s3://s\n",
		"kops validate cluster --name nc-1.k8s.local --wait 20m --state s3://s\n",
		"kops export kubecfg --name nc-1.k8s.local --admin --kubeconfig _artifacts/nc-1/kubeconfig --state s3://s\n",
		"kops delete cluster --name nc-1.k8s.local --yes --state s3://s\n",
		"pod MTU 8912 + 20 bytes of ipip overhead = 8932 fits, 69 bytes to spare",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
}

func TestCalicoEncapsulationDecidesRequirements(t *testing.T) {
	n, err := LookupNetworking(catalog.Registry{}, "calico")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts     map[string]any
		srcDst   bool
		overhead int
	}{
		{nil, true, 20},
		{map[string]any{"ipipMode": "Always"}, false, 20},
		{map[string]any{"encapsulationMode": "vxlan"}, true, 50},
		{map[string]any{"encapsulationMode": "vxlan", "vxlanMode": "Always"}, false, 50},
	} {
		r := n.WithOptions(c.opts, 3).Requirements()
		if r.SourceDestDisabled != c.srcDst || r.Overhead != c.overhead || r.PodMTU != 8912 {
			t.Errorf("calico %v: requirements %+v, want source/dest off %v, overhead %d, MTU 8912", c.opts, r, c.srcDst, c.overhead)
		}
	}
	if _, err := LookupNetworking(catalog.Registry{}, "amazonvpc"); err != nil {
		t.Errorf("alias amazonvpc: %v", err)
	}
}

const generated = `apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: c.k8s.local
spec:
  kubernetesVersion: 1.33.1
  networking:
    calico:
      typhaReplicas: 2
  nonMasqueradeCIDR: 100.64.0.0/10
`

func TestMergeSpec(t *testing.T) {
	n, _ := LookupNetworking(catalog.Registry{}, "calico")
	out, err := mergeSpec([]byte("---\n"+generated), "c.k8s.local", n)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kubernetesVersion: 1.33.1", "typhaReplicas: 2", "mtu: 8912", "nonMasqueradeCIDR: 100.64.0.0/10"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("merged spec lacks %q:\n%s", want, out)
		}
	}
	if _, err := mergeSpec([]byte(generated), "other.k8s.local", n); err == nil {
		t.Error("merged the spec of another cluster")
	}
	w, _ := LookupNetworking(catalog.Registry{}, "weave")
	if _, err := mergeSpec([]byte(generated), "c.k8s.local", w); err == nil || !strings.Contains(err.Error(), "selects calico") {
		t.Errorf("weave settings into a calico spec: %v", err)
	}
	// gce comes from the registry like every other key: a spec that sets it is refused, and
	// the message says that gce cannot run on AWS.
	gceSpec := strings.Replace(generated, "    calico:\n      typhaReplicas: 2\n", "    gce: {}\n", 1)
	if gceSpec == generated {
		t.Fatal("test spec has no calico block to replace")
	}
	if _, err := mergeSpec([]byte(gceSpec), "c.k8s.local", n); err == nil || !strings.Contains(err.Error(), "selects gce (GCE only, cannot run on AWS), not calico") {
		t.Errorf("calico settings into a gce spec: %v", err)
	}
	if _, err := mergeSpec([]byte(generated+"---\n"+generated), "c.k8s.local", n); err == nil {
		t.Error("merged a stream with two Cluster documents")
	}
	if _, err := mergeSpec([]byte("{{{"), "c.k8s.local", n); err == nil {
		t.Error("merged garbage")
	}
}
