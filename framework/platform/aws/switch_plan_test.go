package aws

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers/catalog"
)

func TestSwitchPlanGolden(t *testing.T) {
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "calico", RunID: "nc-20260101-120000", StateStore: "s3://example-kops-state",
		Zones: []string{"us-east-1a", "us-east-1b"}, ArtifactsDir: "_artifacts/nc-20260101-120000"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.SwitchPlan("kubenet", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "calico-to-kubenet.switch.plan", b.Bytes())
}

func TestSwitchPlanContent(t *testing.T) {
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "kubenet", RunID: "nc-1", StateStore: "s3://s", NodeCount: 5, PostDrainDelay: 30 * time.Second,
		Timeouts: Timeouts{RollValidation: 10 * time.Minute, Drain: 2 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.SwitchPlan("calico", map[string]string{"mtu": "8900", "crossSubnet": "true"})
	if err != nil {
		t.Fatal(err)
	}
	// 6 instances x (2m drain + 30s post-drain delay + 5m launch + 10m validation).
	if roll := p.Steps[3]; roll.Kind != StepRoll || roll.Timeout != 6*(17*time.Minute+30*time.Second) {
		t.Errorf("rolling-update step = %s with timeout %s", roll.Kind, roll.Timeout)
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	plan := b.String()
	var at []int
	for _, want := range []string{
		"# switch:      kubenet -> calico (spec.networking.kubenet -> spec.networking.calico)",
		"kops get cluster --name nc-1.k8s.local -o yaml --state s3://s > _artifacts/nc-1/cluster.switch-before.yaml\n",
		"#   before (as netconform sets kubenet up; kops prints it with its defaults filled in):\n#     networking:\n#       kubenet: {}\n",
		"#   after:\n#     networking:\n#       calico:\n#         awsSrcDstCheck: Disable\n#         crossSubnet: true\n#         encapsulationMode: ipip\n#         ipipMode: CrossSubnet\n#         mtu: 8900\n",
		"kops replace -f _artifacts/nc-1/cluster.switch-after.yaml --state s3://s\n",
		"kops update cluster --name nc-1.k8s.local --yes --state s3://s\n",
		"(timeout 1h45m)\nkops rolling-update cluster --name nc-1.k8s.local --yes --validation-timeout 10m --drain-timeout 2m --post-drain-delay 30s --state s3://s\n",
		"kops validate cluster --name nc-1.k8s.local --wait 20m --state s3://s\n",
		"pod MTU 8900 + 20 bytes of ipip overhead = 8920 fits, 81 bytes to spare",
	} {
		i := strings.Index(plan, want)
		if i < 0 {
			t.Errorf("plan lacks %q:\n%s", want, plan)
			continue
		}
		at = append(at, i)
	}
	for i := 1; i < len(at); i++ {
		if at[i] < at[i-1] {
			t.Errorf("plan out of order:\n%s", plan)
		}
	}
	if !strings.Contains(plan, "switch from kubenet to a CNI provider safe") || strings.Contains(plan, "kops delete") || strings.Contains(plan, "kops create") {
		t.Errorf("plan notes or steps:\n%s", plan)
	}
}

func TestSwitchSpecKeepsEverythingElse(t *testing.T) {
	from, _ := LookupNetworking(catalog.Registry{}, "calico")
	to, _ := LookupNetworking(catalog.Registry{}, "flannel-udp")
	printed := "apiVersion: kops.k8s.io/v1alpha2\nkind: Cluster\nmetadata:\n  name: c.k8s.local\nspec:\n  networking:\n    calico:\n      mtu: 8912\n    networkCIDR: 10.0.0.0/16\n  nonMasqueradeCIDR: 100.64.0.0/10\n---\napiVersion: kops.k8s.io/v1alpha2\nkind: InstanceGroup\nmetadata:\n  name: nodes\n"
	out, err := switchSpec([]byte(printed), "c.k8s.local", from, to)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{"    flannel:\n      backend: udp\n", "networkCIDR: 10.0.0.0/16", "nonMasqueradeCIDR: 100.64.0.0/10", "kind: InstanceGroup"} {
		if !strings.Contains(got, want) {
			t.Errorf("edited spec lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "calico") || strings.Contains(got, "8912") {
		t.Errorf("edited spec keeps calico's block:\n%s", got)
	}
	// kops' default when spec.networking names no provider is kubenet.
	kubenet, _ := LookupNetworking(catalog.Registry{}, "kubenet")
	if _, err := switchSpec([]byte(strings.Replace(printed, "    calico:\n      mtu: 8912\n", "", 1)), "c.k8s.local", kubenet, to); err != nil {
		t.Errorf("switch from an implied kubenet: %v", err)
	}
	if _, err := switchSpec([]byte(printed), "c.k8s.local", kubenet, to); err == nil || !strings.Contains(err.Error(), "selects calico, not kubenet") {
		t.Errorf("switch from kubenet on a calico spec: %v", err)
	}
	gce := strings.Replace(printed, "    calico:\n      mtu: 8912\n", "    gce: {}\n", 1)
	if _, err := switchSpec([]byte(gce), "c.k8s.local", kubenet, to); err == nil || !strings.Contains(err.Error(), "selects gce (GCE only, cannot run on AWS), not kubenet") {
		t.Errorf("switch from kubenet on a gce spec: %v", err)
	}
}
