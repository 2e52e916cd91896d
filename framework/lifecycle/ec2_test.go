package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/results"
)

// TestEC2Results: one check per EC2 check name; a failure anywhere fails it naming the place,
// all skips skip it with the reason, passes carry their observations (so they are measured).
func TestEC2Results(t *testing.T) {
	rs := []ec2check.Result{
		{Check: ec2check.CheckNodeRoute, Status: ec2check.Pass, Reason: "route present", Expected: "100.96.1.0/24 -> i-1", Observed: "100.96.1.0/24 -> i-1", Location: "rtb-1 (node a)"},
		{Check: ec2check.CheckNodeRoute, Status: ec2check.Fail, Reason: "no route", Expected: "100.96.2.0/24 -> i-2", Location: "rtb-1 (node b)"},
		{Check: ec2check.CheckENIMTU, Status: ec2check.Skip, Reason: "no host probe agents"},
		{Check: ec2check.CheckSourceDest, Status: ec2check.Pass, Reason: "disabled", Observed: "false", Location: "i-1"},
	}
	got := EC2Results(rs, time.Now())
	if len(got) != 3 {
		t.Fatalf("got %d checks, want 3: %+v", len(got), got)
	}
	route, mtu, sd := got[0], got[1], got[2]
	if route.ID != ec2check.CheckNodeRoute || route.Status != results.Failed || !strings.Contains(route.Reason, "node b") || len(route.Observations) != 2 {
		t.Errorf("node route check = %+v", route)
	}
	if mtu.Status != results.Skipped || mtu.Reason != "no host probe agents" || mtu.Measured() {
		t.Errorf("MTU check = %+v", mtu)
	}
	if sd.Status != results.Passed || !sd.Measured() || !sd.Observations[0].OK {
		t.Errorf("source/dest check = %+v", sd)
	}
}
