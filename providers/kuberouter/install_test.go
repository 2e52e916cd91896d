package kuberouter

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/internal/golden"
	"github.com/netconform/netconform/providers/manifest"
)

func TestManifestGolden(t *testing.T) {
	objs, err := Options{NetworkPolicy: true}.Objects()
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.YAML(objs)
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "default.yaml", got)
}

func TestArgsFollowOptions(t *testing.T) {
	args := Options{NetworkPolicy: true}.Args()
	for _, want := range []string{"--run-service-proxy=false", "--enable-overlay=false", "--run-firewall=true", "--run-router=true"} {
		if !slices.Contains(args, want) {
			t.Errorf("args %v lack %s", args, want)
		}
	}
	if slices.Contains(args, "--auto-mtu=false") {
		t.Error("without an MTU kube-router must derive it")
	}
	args = Options{NetworkPolicy: false, MTU: 1400}.Args()
	if !slices.Contains(args, "--run-firewall=false") || !slices.Contains(args, "--auto-mtu=false") {
		t.Errorf("args %v", args)
	}
	conf, err := Options{MTU: 1400}.CNIConf()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Plugins []map[string]any `json:"plugins"`
	}
	if err := json.Unmarshal(conf, &m); err != nil || m.Plugins[0]["mtu"] != float64(1400) || m.Plugins[0]["bridge"] != Bridge {
		t.Errorf("CNI conf with MTU 1400: %s (%v)", conf, err)
	}
}

func TestOptionsFrom(t *testing.T) {
	o, err := OptionsFrom(nil)
	if err != nil || !o.NetworkPolicy {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	if o, err = OptionsFrom(map[string]string{"networkPolicy": "false", "serviceProxy": "false"}); err != nil || o.NetworkPolicy {
		t.Errorf("networkPolicy=false: %+v %v", o, err)
	}
	if _, err := OptionsFrom(map[string]string{"serviceProxy": "true"}); err == nil || !strings.Contains(err.Error(), "IPVS") {
		t.Errorf("serviceProxy=true: %v", err)
	}
	if _, err := OptionsFrom(map[string]string{"overlay": "true"}); err == nil {
		t.Error("unknown option accepted")
	}
}

func TestMissingRoutes(t *testing.T) {
	nodes := []kube.Node{
		{Name: "a", InternalIP: "172.18.0.2", PodCIDR: "10.244.0.0/24"},
		{Name: "b", InternalIP: "172.18.0.3", PodCIDR: "10.244.1.0/24"},
		{Name: "c", InternalIP: "172.18.0.4", PodCIDR: "10.244.2.0/24"},
	}
	routes := "default via 172.18.0.1 dev eth0\n10.244.0.0/24 dev kube-bridge proto kernel scope link src 10.244.0.1\n" +
		"10.244.1.0/24 via 172.18.0.3 dev eth0 proto 17\n"
	got := MissingRoutes(nodes[0], nodes, routes)
	if len(got) != 1 || !strings.Contains(got[0], "10.244.2.0/24 via 172.18.0.4") {
		t.Errorf("missing = %v", got)
	}
	routes += "10.244.2.0/24 via 172.18.0.4 dev eth0 proto 17\n"
	if got := MissingRoutes(nodes[0], nodes, routes); len(got) != 0 {
		t.Errorf("all routes present, missing = %v", got)
	}
}

// The host-local directory Owned removes is the one of the network the conflist names.
func TestOwnedNamesTheConflistNetwork(t *testing.T) {
	b, err := Options{}.CNIConf()
	var conf struct{ Name string }
	if err != nil || json.Unmarshal(b, &conf) != nil || "/var/lib/cni/networks/"+conf.Name != IPAMDir {
		t.Errorf("conflist network %q, Owned removes %s (%v)", conf.Name, IPAMDir, err)
	}
	s := Installer{}.Owned("n", nil, "10.244.0.0/16")
	if s.Links[0] != Bridge || s.Files[0] != CNIConfigPath || len(s.RouteProtocols) != 1 {
		t.Errorf("%+v", s)
	}
}
