package aws

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// The platform keeps its own small table (see the TODO on Networking); this keeps it in step
// with the provider catalog until the platform takes its AWS facts from the registry.
func TestNetworkingAgreesWithCatalog(t *testing.T) {
	for _, n := range networkings() {
		p, err := catalog.Lookup(n.KopsValue)
		if err != nil {
			t.Errorf("%s: the catalog does not know kops value %q: %v", n.Name, n.KopsValue, err)
			continue
		}
		d := p.Descriptor()
		if d.SpecKey != n.SpecKey {
			t.Errorf("%s: spec key %q, catalog says %q", n.Name, n.SpecKey, d.SpecKey)
		}
		known := false
		for _, v := range d.KopsValues {
			known = known || v.Value == n.KopsValue
		}
		if !known {
			t.Errorf("%s: --networking %s is not among the catalog's kops values %v", n.Name, n.KopsValue, d.KopsValues)
		}
		looked, err := LookupNetworking(catalog.Registry{}, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		spec := looked.WithOptions(nil, 3)
		if catalogSays := d.Requirements.SrcDstCheckDisabled != providers.Never; catalogSays != spec.SourceDestDisabled {
			t.Errorf("%s: source/dest checks off = %v, catalog says %q", n.Name, spec.SourceDestDisabled, d.Requirements.SrcDstCheckDisabled)
		}
		for _, o := range d.Options {
			if o.Name == "mtu" && o.DefaultOnAWS != "" && o.DefaultOnAWS != strconv.Itoa(spec.PodMTU()) {
				t.Errorf("%s: pod MTU %d, catalog's default on AWS is %s", n.Name, spec.PodMTU(), o.DefaultOnAWS)
			}
		}
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
