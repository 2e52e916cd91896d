package probe

import (
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	cases := []struct {
		name string
		req  Request
		want time.Duration
	}{
		{"single probe: its timeout", Request{Protocol: TCP, TimeoutMS: 1500}, 1500 * ms},
		{"unset timeout", Request{Protocol: TCP}, 5 * s},
		{"timeout above the cap falls back to the default", Request{Protocol: TCP, TimeoutMS: 61000}, 5 * s},
		{"huge timeout does not overflow", Request{Protocol: WhoUDP, TimeoutMS: 1 << 62, Count: 2}, 2*5*s + repeatMargin},
		{"count ignored by protocols that do not repeat", Request{Protocol: TCP, TimeoutMS: 1000, Count: 5, IntervalMS: 100}, s},
		{"count 1 ignores the interval", Request{Protocol: WhoTCP, TimeoutMS: 1000, Count: 1, IntervalMS: 700}, s},
		{"who-udp x5", Request{Protocol: WhoUDP, TimeoutMS: 1000, Count: 5, IntervalMS: 200}, 6*s + repeatMargin},
		{"who-tcp x3", Request{Protocol: WhoTCP, TimeoutMS: 500, Count: 3}, 1500*ms + repeatMargin},
		{"dns x4", Request{Protocol: DNS, TimeoutMS: 2000, Count: 4, IntervalMS: 500}, 10*s + repeatMargin},
		{"negative interval counts as none", Request{Protocol: DNS, TimeoutMS: 2000, Count: 2, IntervalMS: -5}, 4*s + repeatMargin},
		{"capped at 60 s", Request{Protocol: WhoUDP, TimeoutMS: 1000, Count: 100}, 60 * s},
		{"huge count and interval stay capped", Request{Protocol: WhoUDP, TimeoutMS: 1000, Count: 1 << 40, IntervalMS: 1 << 50}, 60 * s},
		{"relayed single probe", Request{Protocol: TCP, TimeoutMS: 1500, Via: "10.0.0.1:29080"}, 1500*ms + relayMargin},
		{"relayed repeated probe", Request{Protocol: WhoUDP, TimeoutMS: 1000, Count: 5, IntervalMS: 200, Via: "x:1"}, 6*s + repeatMargin + relayMargin},
		{"relayed capped probe: the cap plus the relay's margin", Request{Protocol: DNS, TimeoutMS: 30000, Count: 3, Via: "x:1"}, 60*s + relayMargin},
	}
	for _, c := range cases {
		if got := c.req.Budget(); got != c.want {
			t.Errorf("%s: Budget() = %v, want %v", c.name, got, c.want)
		}
	}
}
