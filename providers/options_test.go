package providers_test

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

func descriptor(t *testing.T, name string) providers.Descriptor {
	t.Helper()
	p, err := catalog.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p.Descriptor()
}

func TestParseOptions(t *testing.T) {
	flannel, calico, weave, kubenet := descriptor(t, "flannel"), descriptor(t, "calico"), descriptor(t, "weave"), descriptor(t, "kubenet")
	got, err := providers.ParseOptions(calico, providers.ForKops, map[string]string{"mtu": "8900", "crossSubnet": "true", "encapsulationMode": "vxlan"})
	if err != nil || got["mtu"] != 8900 || got["crossSubnet"] != true || got["encapsulationMode"] != "vxlan" {
		t.Fatalf("typed by the schema: %#v %v", got, err)
	}
	// host-gw is netconform's kind install only; kops has vxlan and udp.
	if _, err := providers.ParseOptions(flannel, providers.ForKind, map[string]string{"backend": "host-gw"}); err != nil {
		t.Errorf("host-gw on kind: %v", err)
	}
	for _, c := range []struct {
		d    providers.Descriptor
		t    providers.Target
		kv   map[string]string
		want string
	}{
		{flannel, providers.ForKops, map[string]string{"backend": "host-gw"}, `flannel option backend: "host-gw" is not one of vxlan, udp`},
		{flannel, providers.ForKind, map[string]string{"backend": "ipip"}, `is not one of vxlan, udp, host-gw`},
		{flannel, providers.ForKind, map[string]string{"bakend": "udp"}, "flannel has no option bakend on kind; did you mean backend? options: backend, iptablesResyncSeconds"},
		{calico, providers.ForKops, map[string]string{"mtu": "big"}, `calico option mtu: want an integer, got "big"`},
		{calico, providers.ForKops, map[string]string{"crossSubnet": "maybe"}, "want true or false"},
		{calico, providers.ForKops, map[string]string{"zzzzzz": "1"}, "calico has no option zzzzzz on kops; options: "},
		{kubenet, providers.ForKind, map[string]string{"mtu": "1400"}, "kubenet takes no options on kind"},
		{weave, providers.ForKops, map[string]string{"password": "PLANTED-SECRET", "mtu": "x"}, "weave option mtu"},
		// A password shorter than the redactor masks is refused before it can reach a report.
		{weave, providers.ForKind, map[string]string{"password": " abcde "}, "weave option password: 5 characters, want at least 6"},
	} {
		_, err := providers.ParseOptions(c.d, c.t, c.kv)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %s %v: %v; want %q", c.d.Name, c.t, c.kv, err, c.want)
		}
	}
	// A secret's value stays out of messages, whatever is wrong with it.
	secret := providers.Descriptor{Name: "x", Options: []providers.Option{{Name: "password", Type: providers.TypeInt, Secret: true}}}
	if _, err := providers.ParseOptions(secret, providers.ForKops, map[string]string{"password": "PLANTED-SECRET"}); err == nil || strings.Contains(err.Error(), "PLANTED") {
		t.Errorf("secret option error: %v", err)
	}
}

func TestClosest(t *testing.T) {
	names := catalog.Names()
	for in, want := range map[string]string{"calcio": "calico", "flanel": "flannel", "KUBENET": "kubenet", "cillium": "cilium", "weeve": "weave", "xyzzy": "", "kube-ruoter": "kube-router"} {
		if got := providers.Closest(in, names); got != want {
			t.Errorf("Closest(%q) = %q, want %q", in, got, want)
		}
	}
}
