package aws

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// Each provider's AWS entries (providers.AWSNetworker) agree with its own catalog facts: their
// kops values are the provider's, source/destination checks are off exactly when the catalog
// says so, and a pod MTU written on AWS is the catalog's default there.
func TestNetworkingAgreesWithCatalog(t *testing.T) {
	entries := 0
	for _, p := range catalog.All() {
		aw, ok := p.(providers.AWSNetworker)
		if !ok {
			continue
		}
		d := p.Descriptor()
		for _, e := range aw.AWSNetworking() {
			entries++
			known := false
			for _, v := range d.KopsValues {
				known = known || v.Value == e.KopsValue
			}
			if !known {
				t.Errorf("%s: --networking %s is not among the catalog's kops values %v", e.Name, e.KopsValue, d.KopsValues)
			}
			looked, err := LookupNetworking(catalog.Registry{}, e.Name)
			if err != nil {
				t.Fatal(err)
			}
			if looked.Name != e.Name || looked.SpecKey != d.SpecKey {
				t.Errorf("%s: looked up as %s (spec key %s)", e.Name, looked.Name, looked.SpecKey)
			}
			spec := looked.WithOptions(nil, 3)
			if catalogSays := d.Requirements.SrcDstCheckDisabled != providers.Never; catalogSays != spec.SourceDestDisabled {
				t.Errorf("%s: source/dest checks off = %v, catalog says %q", e.Name, spec.SourceDestDisabled, d.Requirements.SrcDstCheckDisabled)
			}
			for _, o := range d.Options {
				if o.Name == "mtu" && o.DefaultOnAWS != "" && o.DefaultOnAWS != strconv.Itoa(spec.PodMTU()) {
					t.Errorf("%s: pod MTU %d, catalog's default on AWS is %s", e.Name, spec.PodMTU(), o.DefaultOnAWS)
				}
			}
		}
	}
	if entries == 0 {
		t.Fatal("no provider declares an AWS setup")
	}
}

// hiding is the catalog without the provider called name, to show that the platform reads the
// registry it is given rather than the catalog.
type hiding struct {
	catalog.Registry
	name string
}

func (h hiding) Lookup(name string) (providers.Provider, error) {
	p, err := h.Registry.Lookup(name)
	if err == nil && p.Descriptor().Name == h.name {
		return nil, fmt.Errorf("no %s in this registry", h.name)
	}
	return p, err
}

func TestProvidersComeFromTheConfiguredRegistry(t *testing.T) {
	reg := hiding{name: "calico"}
	_, err := New(Config{Providers: reg, Provider: "calico", RunID: "nc-1", StateStore: "s3://s"})
	if err == nil || !strings.Contains(err.Error(), "no calico in this registry") {
		t.Errorf("New with a registry without calico: %v, want the registry's error", err)
	}
	a, err := New(Config{Providers: reg, Provider: "kubenet", RunID: "nc-1", StateStore: "s3://s"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SwitchPlan("calico", nil); err == nil || !strings.Contains(err.Error(), "no calico in this registry") {
		t.Errorf("SwitchPlan to a provider the registry lacks: %v, want the registry's error", err)
	}
}
