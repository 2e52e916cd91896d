package gce

import (
	"testing"

	"github.com/netconform/netconform/providers"
)

// TestFacts pins what the mode is: GCE only, routed natively, no policy, no options, not on kind.
func TestFacts(t *testing.T) {
	d := New().Descriptor()
	if d.Name != "gce" || d.SpecKey != "gce" || len(d.KopsValues) != 1 || d.KopsValues[0].Value != "gce" {
		t.Errorf("names: %s, spec key %s, kops values %v", d.Name, d.SpecKey, d.KopsValues)
	}
	if d.Platforms.AnyCloud || !d.Platforms.RunsOn(providers.GCE) || d.Platforms.RunsOn(providers.AWS) {
		t.Errorf("must be GCE only: %+v", d.Platforms)
	}
	if e := providers.EncapsulationOf(New(), nil); e.Kind != providers.EncapNone || e.Overhead != 0 {
		t.Errorf("encapsulation = %+v, want none", e)
	}
	if d.EnforcesNetworkPolicy || len(d.Options) != 0 || len(d.KindOptions) != 0 {
		t.Errorf("policy %t, options %v %v: want none", d.EnforcesNetworkPolicy, d.Options, d.KindOptions)
	}
	if d.Kind.Status != providers.KindNotApplicable || d.Kind.Reason == "" || d.Kind.Default || d.Kind.SwitchTarget {
		t.Errorf("kind support = %+v", d.Kind)
	}
	if _, ok := any(New()).(providers.KindInstallable); ok {
		t.Error("gce cannot install on kind")
	}
	if _, ok := any(New()).(providers.AWSNetworker); ok {
		t.Error("gce cannot be set up on AWS")
	}
	if v := d.Lifecycle.At(providers.Version{}, providers.Version{}); v.Status != providers.StatusSupported {
		t.Errorf("lifecycle = %+v", v)
	}
}
