package kopeio

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/manifest"
)

// kops' spec.networking.kopeio has no settings: the cases are the upstream image and one given
// with --provider-image; the pods' CNI configuration on a 1500-byte underlay is golden too.
func TestManifestGolden(t *testing.T) {
	for name, o := range map[string]Options{
		"default.yaml":     {},
		"local-image.yaml": {Image: "registry.example:5000/kopeio/networking-agent:1.0.20181028"},
	} {
		y, err := manifest.YAML(o.Objects())
		if err != nil {
			t.Fatal(err)
		}
		golden.Check(t, name, y)
	}
	conf, err := Conflist("10.244.1.0/24", 1400)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "conflist-1400.json", append(conf, '\n'))
}

func TestConflist(t *testing.T) {
	b, err := Conflist("10.244.2.0/24", 8901)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type string
			MTU  int
			IPAM struct {
				Ranges [][]struct{ Subnet string }
			}
		}
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	if p := conf.Plugins[0]; p.Type != "ptp" || p.MTU != 8901 || p.IPAM.Ranges[0][0].Subnet != "10.244.2.0/24" {
		t.Errorf("conflist: %s", b)
	}
	for _, bad := range []struct {
		cidr string
		mtu  int
	}{{"10.244.2.0", 1400}, {"10.244.2.0/24", 100}} {
		if _, err := Conflist(bad.cidr, bad.mtu); err == nil {
			t.Errorf("Conflist(%q, %d) accepted", bad.cidr, bad.mtu)
		}
	}
}

func TestKindInstaller(t *testing.T) {
	in, h, err := New().KindInstaller(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if h.PodMTU(1500, 0) != 1400 || !slices.Equal(h.Devices, []string{VXLANDevice}) || h.NodeRoutes {
		t.Errorf("healthy %+v: want pods and vxlan1 at the underlay minus 100, no routes via peers", h)
	}
	imgs := in.(providers.UpstreamImager).UpstreamImages()
	if len(imgs) != 1 || !slices.Equal([]string{imgs[0].Ref}, New().Descriptor().Kind.Images) || imgs[0].Ref != "kopeio/networking-agent:1.0.20181028" {
		t.Errorf("images %v, catalog %v", imgs, New().Descriptor().Kind.Images)
	}
	if _, _, err := New().KindInstaller(map[string]string{"mtu": "1400"}, 0); err == nil {
		t.Error("an option was accepted")
	}
	if _, _, err := New().KindInstaller(nil, 1450); err == nil || !strings.Contains(err.Error(), "minus 100") {
		t.Errorf("--mtu: %v", err)
	}
}

func TestMasqueradeCommands(t *testing.T) {
	cmds, err := MasqueradeCommands("10.244.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	joined := make([]string, len(cmds))
	for i, c := range cmds {
		joined[i] = strings.Join(c, " ")
	}
	all := strings.Join(joined, "\n")
	for _, want := range []string{"-A IP-MASQ -d 10.244.0.0/16 -j RETURN", "-A IP-MASQ -j MASQUERADE", "-C POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ 2>/dev/null || iptables -w -t nat -A POSTROUTING"} {
		if !strings.Contains(all, want) {
			t.Errorf("masquerade rules lack %q:\n%s", want, all)
		}
	}
	if _, err := MasqueradeCommands("nope"); err == nil {
		t.Error("a bad subnet was accepted")
	}
}

func TestMissingRoutes(t *testing.T) {
	nodes := []kube.Node{{Name: "a", PodCIDR: "10.244.0.0/24"}, {Name: "b", PodCIDR: "10.244.1.0/24"}, {Name: "c", PodCIDR: "10.244.2.0/24"}}
	routes := "10.244.1.0/24 via 10.244.1.0 onlink \n"
	if got := MissingRoutes(routes, "a", nodes); !slices.Equal(got, []string{"10.244.2.0/24"}) {
		t.Errorf("missing = %v", got)
	}
	if got := MissingRoutes(routes+"10.244.2.0/24 via 10.244.2.0 onlink\n", "a", nodes); len(got) != 0 {
		t.Errorf("all there, missing = %v", got)
	}
}

func TestDeviceOf(t *testing.T) {
	for out, want := range map[string]string{
		"4: eth0    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0\\       valid_lft forever": "eth0",
		"9: eth0@if10    inet 172.18.0.3/16 scope global eth0":                                         "eth0",
		"": "",
	} {
		if got := DeviceOf(out); got != want {
			t.Errorf("DeviceOf(%q) = %q, want %q", out, got, want)
		}
	}
}
