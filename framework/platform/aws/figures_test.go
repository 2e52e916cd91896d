package aws

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

func plan(t *testing.T, cfg Config) (string, error) {
	t.Helper()
	if cfg.RunID == "" {
		cfg.RunID = "nc-1"
	}
	if cfg.StateStore == "" {
		cfg.StateStore = "s3://s"
	}
	if cfg.Providers == nil {
		cfg.Providers = catalog.Registry{}
	}
	a, err := New(cfg)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := a.Plan().Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String(), nil
}

// The encapsulation and its overhead are the provider catalog's, for the options in the spec.
func TestEncapsulationComesFromTheProvider(t *testing.T) {
	for _, c := range []struct {
		provider string
		opts     map[string]any
		kind     providers.EncapKind
		overhead int
	}{
		{"amazon-vpc-routed-eni", nil, providers.EncapNone, 0},
		{"amazonvpc", nil, providers.EncapNone, 0},
		{"kubenet", nil, providers.EncapNone, 0},
		{"calico", nil, providers.EncapIPIP, providers.OverheadIPIP},
		{"calico", map[string]any{"encapsulationMode": "vxlan"}, providers.EncapVXLAN, providers.OverheadVXLAN},
		{"flannel-udp", nil, providers.EncapUDP, providers.OverheadUDP},
		{"weave", nil, "weave", 87},
		{"cilium", map[string]any{"ipam": "eni"}, providers.EncapNone, 0},
	} {
		n, err := LookupNetworking(catalog.Registry{}, c.provider)
		if err != nil {
			t.Fatal(err)
		}
		n = n.WithOptions(c.opts, 3)
		if n.Encapsulation.Kind != c.kind || n.Encapsulation.Overhead != c.overhead || n.Requirements().Overhead != c.overhead {
			t.Errorf("%s %v: %+v, want %s +%d", c.provider, c.opts, n.Encapsulation, c.kind, c.overhead)
		}
	}
	out, err := plan(t, Config{Provider: "amazon-vpc-routed-eni"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "is encapsulated:") || !strings.Contains(out, "# datapath:    routed, no encapsulation") ||
		!strings.Contains(out, "pods use the interfaces' MTU, nothing is encapsulated") {
		t.Errorf("a routed provider's plan calls it encapsulated, or does not say it is routed:\n%s", out)
	}
}

func TestPlanRefusesAnMTUAboveTheUnderlay(t *testing.T) {
	for _, c := range []struct {
		provider string
		mtu      int
		want     string // "" fits
	}{
		{"calico", 8981, ""},
		{"calico", 8982, "calico pod MTU 8982 + 20 bytes of ipip overhead = 9002 does not fit the VPC interfaces' MTU 9001: set mtu to 8981 or lower"},
		{"calico", 99999, "set mtu to 8981 or lower"},
		{"weave", 8914, ""},
		{"weave", 8915, "weave pod MTU 8915 + 87 bytes of weave overhead = 9002 does not fit"},
		{"canal", 8951, ""},
		{"canal", 8952, "set mtu to 8951 or lower"},
	} {
		out, err := plan(t, Config{Provider: c.provider, Options: map[string]any{"mtu": c.mtu}})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s mtu %d: %v", c.provider, c.mtu, err)
		case c.want == "" && !strings.Contains(out, "fits"):
			t.Errorf("%s mtu %d: the plan does not say it fits:\n%s", c.provider, c.mtu, out)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s mtu %d: %v, want %q", c.provider, c.mtu, err, c.want)
		}
	}
	// A switch to a provider whose MTU does not fit is refused the same way.
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "kubenet", RunID: "nc-1", StateStore: "s3://s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SwitchPlan("calico", map[string]string{"mtu": "99999"}); err == nil || !strings.Contains(err.Error(), "does not fit") {
		t.Errorf("switch to calico mtu 99999: %v", err)
	}
	if _, err := a.SwitchPlan("calico", map[string]string{"mtu": "lots"}); err == nil || !strings.Contains(err.Error(), "want an integer") {
		t.Errorf("switch to calico mtu lots: %v", err)
	}
}

func TestKubenetPlanStatesRouteHeadroomAndFailsAboveTheQuota(t *testing.T) {
	out, err := plan(t, Config{Provider: "kubenet", NodeCount: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "3 nodes + 2 existing routes = 5 of the Routes per route table quota 500 (vpc/L-93826ACB): room for 495 more nodes") {
		t.Errorf("headroom missing:\n%s", out)
	}
	// 498 nodes and 2 routes fill 500 exactly; one node more does not fit.
	if out, err := plan(t, Config{Provider: "kubenet", NodeCount: 497}); err != nil || !strings.Contains(out, "room for 0 more nodes") {
		t.Errorf("498 nodes: %v\n%s", err, out)
	}
	if _, err := plan(t, Config{Provider: "kubenet", NodeCount: 498}); err == nil ||
		!strings.Contains(err.Error(), "kubenet needs 501 routes in one route table (499 nodes + 2 existing routes), above the Routes per route table quota of 500 (vpc/L-93826ACB): use at most 498 nodes") {
		t.Errorf("499 nodes: %v", err)
	}
	// The old default quota, and a table with more routes of its own.
	if _, err := plan(t, Config{Provider: "kubenet", NodeCount: 46, RouteQuota: 50, ExistingRoutes: 3}); err != nil {
		t.Errorf("47 + 3 of 50: %v", err)
	}
	if _, err := plan(t, Config{Provider: "kubenet", NodeCount: 47, RouteQuota: 50, ExistingRoutes: 3}); err == nil || !strings.Contains(err.Error(), "use at most 47 nodes") {
		t.Errorf("48 + 3 of 50: %v", err)
	}
	// Routed providers that program no VPC routes have no such limit.
	if out, err := plan(t, Config{Provider: "calico", NodeCount: 600}); err != nil || strings.Contains(out, "room for") {
		t.Errorf("calico, 601 nodes: %v", err)
	}
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "calico", RunID: "nc-1", StateStore: "s3://s", NodeCount: 600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SwitchPlan("kubenet", nil); err == nil || !strings.Contains(err.Error(), "above the Routes per route table quota") {
		t.Errorf("switch a 601-node cluster to kubenet: %v", err)
	}
}

// A secret option (weave's password) is kept out of the spec and shown as [REDACTED].
func TestSecretOptionStaysOutOfTheSpecAndThePlan(t *testing.T) {
	const planted = "PLANTED-PLAN-SECRET-77"
	out, err := plan(t, Config{Provider: "weave", Options: map[string]any{"password": planted}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, planted) || !strings.Contains(out, "weave password = [REDACTED] is kept out of the cluster spec: store it yourself with kops create secret weavepassword") {
		t.Errorf("plan:\n%s", out)
	}
	a, err := New(Config{Providers: catalog.Registry{}, Provider: "weave", RunID: "nc-1", StateStore: "s3://s", Options: map[string]any{"password": planted}, ArtifactsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Networking().Spec["password"]; ok {
		t.Error("the password is in the spec")
	}
	if err := a.Create(context.Background()); err == nil || strings.Contains(err.Error(), planted) || !strings.Contains(err.Error(), "password") {
		t.Errorf("Create with a secret kept out of the spec: %v", err)
	}
	p, _ := catalog.Lookup("weave")
	if o, _ := p.Descriptor().Option("password"); !o.Secret || o.InSpec {
		t.Fatal("the catalog no longer marks weave's password secret and out of the spec; this test needs another secret")
	}
}
