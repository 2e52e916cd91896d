package providers

import "testing"

func TestHealthyPodMTU(t *testing.T) {
	cases := []struct {
		h                    Healthy
		underlay, configured int
		want                 int
	}{
		{Healthy{EncapOverhead: 0}, 1500, 0, 1500},
		{Healthy{EncapOverhead: 50}, 1500, 0, 1450},
		{Healthy{EncapOverhead: 50}, 9001, 8912, 8912},
		{Healthy{EncapOverhead: 20}, 9001, 0, 8981},
		// weave sets 1376 itself whatever the underlay; --mtu still wins.
		{Healthy{EncapOverhead: 87, ProviderMTU: 1376}, 1500, 0, 1376},
		{Healthy{EncapOverhead: 87, ProviderMTU: 1376}, 9001, 8912, 8912},
	}
	for _, c := range cases {
		if got := c.h.PodMTU(c.underlay, c.configured); got != c.want {
			t.Errorf("%+v.PodMTU(%d, %d) = %d, want %d", c.h, c.underlay, c.configured, got, c.want)
		}
	}
}

func TestAllPodSubnets(t *testing.T) {
	if got := (Cluster{PodSubnet: "10.244.0.0/16"}).AllPodSubnets(); len(got) != 1 || got[0] != "10.244.0.0/16" {
		t.Errorf("PodSubnet alone: %v", got)
	}
	if got := (Cluster{PodSubnet: "10.244.0.0/16", PodSubnets: []string{"10.244.0.0/16", "fd00:10:244::/56"}}).AllPodSubnets(); len(got) != 2 {
		t.Errorf("dual: %v", got)
	}
	if got := (Cluster{}).AllPodSubnets(); got != nil {
		t.Errorf("none: %v", got)
	}
}
