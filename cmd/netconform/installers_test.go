package main

import (
	"strings"
	"testing"
)

func TestLookupInstallerAppliesKopsPresetsAndOptions(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     map[string]string
		overhead int
		routes   bool
	}{
		{"flannel", nil, 50, false},
		{"flannel-vxlan", nil, 50, false},
		{"flannel-udp", nil, 28, false},
		{"flannel", map[string]string{"backend": "host-gw"}, 0, true},
		{"kube-router", nil, 0, true},
		{"calico", nil, 50, false},
		{"calico", map[string]string{"crossSubnet": "true"}, 50, false},
		{"canal", nil, 50, false},
		{"cilium", nil, 50, false},
		{"kubenet", nil, 0, true},
		// Installed from upstream images: weave's MTU is its own (ProviderMTU), kopeio's
		// vxlan1 takes 100 bytes, kindnet routes via the peers.
		{"weave", nil, 87, false},
		{"kopeio-vxlan", nil, 100, false},
		{"kindnet", nil, 0, true},
	} {
		_, h, err := lookupInstaller(tc.name, 0, tc.opts)
		if err != nil {
			t.Errorf("%s %v: %v", tc.name, tc.opts, err)
			continue
		}
		if h.EncapOverhead != tc.overhead || h.NodeRoutes != tc.routes {
			t.Errorf("%s %v: healthy %+v", tc.name, tc.opts, h)
		}
	}
}

func TestLookupInstallerSaysWhy(t *testing.T) {
	for name, want := range map[string]string{
		"romana":    "not-applicable",
		"amazonvpc": "AWS only",
		"no-such":   `unknown provider "no-such"; valid: amazon-vpc-routed-eni, amazonvpc, calico`,
	} {
		_, _, err := lookupInstaller(name, 0, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to say %q", name, err, want)
		}
	}
	if _, _, err := lookupInstaller("kube-router", 0, map[string]string{"serviceProxy": "true"}); err == nil || !strings.Contains(err.Error(), "IPVS") {
		t.Errorf("kube-router serviceProxy=true: %v", err)
	}
	if _, _, err := lookupInstaller("calico", 0, map[string]string{"encapsulationMode": "ipip"}); err == nil || !strings.Contains(err.Error(), "IP-in-IP") {
		t.Errorf("calico ipip: %v", err)
	}
	if _, _, err := lookupInstaller("kubenet", 0, map[string]string{"backend": "udp"}); err == nil {
		t.Error("kubenet accepted a provider option")
	}
}

// kops' standing on the cluster's version comes from the catalog's lifecycle: canal is
// unsupported from Kubernetes 1.28, weave removed from kops, calico supported; a version or a
// provider that is not known gives nothing rather than a guess.
func TestKopsStanding(t *testing.T) {
	for _, tc := range []struct{ provider, version, want string }{
		{"calico", "v1.34.4", "supported"},
		{"canal", "v1.27.3", "experimental in kops"},
		{"canal", "v1.36.3", "not supported from Kubernetes 1.28"},
		{"weave", "v1.33.13", "removed in kops 1.28"},
		{"kuberouter", "v1.35.4", "experimental in kops"},
		{"calico", "", ""},
		{"calico", "latest", ""},
		{"nosuch", "v1.34.4", ""},
	} {
		if got := kopsStanding(tc.provider, tc.version); got != tc.want {
			t.Errorf("kopsStanding(%s, %s) = %q, want %q", tc.provider, tc.version, got, tc.want)
		}
	}
}
