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
	}
	for _, c := range cases {
		if got := c.h.PodMTU(c.underlay, c.configured); got != c.want {
			t.Errorf("%+v.PodMTU(%d, %d) = %d, want %d", c.h, c.underlay, c.configured, got, c.want)
		}
	}
}
