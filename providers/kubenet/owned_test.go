package kubenet

import (
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/kube"
)

func TestOwnedNamesWhatInstallWrites(t *testing.T) {
	nodes := []kube.Node{{Name: "a", PodCIDR: "10.244.0.0/24", InternalIP: "172.18.0.2"}, {Name: "b", PodCIDR: "10.244.1.0/24", InternalIP: "172.18.0.3"}, {Name: "c", PodCIDR: "10.244.2.0/24", InternalIP: "172.18.0.4"}}
	s := Owned("a", nodes, "10.244.0.0/16")
	if len(s.Routes) != 2 || s.Routes[0].Dst != "10.244.1.0/24" || s.Routes[0].Via != "172.18.0.3" {
		t.Errorf("routes %+v, want one per peer via the peer", s.Routes)
	}
	// The routes Install writes are the ones Owned names.
	for i, peer := range nodes[1:] {
		argv := RouteCommand(peer)
		if argv[3] != s.Routes[i].Dst || argv[5] != s.Routes[i].Via {
			t.Errorf("install writes %v, Owned names %+v", argv, s.Routes[i])
		}
	}
	if len(s.Links) != 1 || s.Links[0] != Bridge || s.Files[0] != ConfigPath {
		t.Errorf("links %v files %v", s.Links, s.Files)
	}
	// The chain Owned names is the one Install's masquerade rules create.
	found := false
	masq, err := MasqueradeCommands("10.244.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	for _, argv := range masq {
		for _, a := range argv {
			if strings.Contains(a, "-N "+MasqChain) || strings.Contains(a, "-j "+MasqChain) {
				found = true
			}
		}
	}
	if !found || len(s.Chains) != 1 || s.Chains[0].Table != "nat" || s.Chains[0].Name != MasqChain {
		t.Errorf("chains %+v do not match the chain Install creates", s.Chains)
	}
}
