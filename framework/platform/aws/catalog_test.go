package aws

import (
	"strconv"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// The platform keeps its own small table (see the TODO on Networking); this keeps it in step
// with the provider catalog until the platform reads the catalog directly.
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
		looked, err := LookupNetworking(n.Name)
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
