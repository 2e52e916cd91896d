package routesim_test

import (
	"context"
	"testing"
	"time"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/routesim"
)

func simulate(t *testing.T, quota int, cfg routesim.Config) (routesim.Result, *ec2stub.Server) {
	t.Helper()
	srv, err := ec2stub.Start(ec2stub.WithRouteQuota(quota))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: "us-east-1", Endpoint: srv.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := routesim.Run(ctx, c.EC2, cfg, quota)
	if err != nil {
		t.Fatal(err)
	}
	return res, srv
}

func TestRoutesStopAtTheQuota(t *testing.T) {
	res, srv := simulate(t, 10, routesim.Config{FirstNode: 1, LastNode: 15, OtherRoutes: 1})
	// The default route takes one of the 10 slots: node 10 is the first without a route.
	if res.FirstUnrouted != 10 || res.Routed != 9 || res.Unrouted != 6 || res.UnroutedInRange != 6 {
		t.Errorf("result = %+v, want node 10 first unrouted, 9 routed, 6 not", res)
	}
	// 15 joins and a final retry pass over the 6 unrouted nodes.
	if res.Calls["CreateRoute"] != 21 || res.Calls["DescribeRouteTables"] != 16 || res.RouteLimitErrors != 12 {
		t.Errorf("calls = %v, route limit errors %d; want 21 CreateRoute, 16 DescribeRouteTables, 12 errors", res.Calls, res.RouteLimitErrors)
	}
	// Node 10's join was the 19th and 20th controller calls.
	if res.CallsUntilLimit != 20 {
		t.Errorf("calls until the limit = %d, want 20", res.CallsUntilLimit)
	}
	if got := srv.Calls()["CreateRoute"]; got != 21+1 {
		t.Errorf("the stand-in saw %d CreateRoute calls, want 22 (21 by the controller, 1 default route)", got)
	}
	if res.SteadyRetryPerSecond != 0.6 {
		t.Errorf("steady retries = %v/s, want 0.6 (6 nodes every 10 s)", res.SteadyRetryPerSecond)
	}
}

func TestRoutesAllFitUnderALargeQuota(t *testing.T) {
	res, _ := simulate(t, 500, routesim.Config{FirstNode: 5, LastNode: 40, OtherRoutes: 3})
	if res.FirstUnrouted != 0 || res.Routed != 40 || res.RouteLimitErrors != 0 {
		t.Errorf("result = %+v, want all 40 routed", res)
	}
}

func TestBadRange(t *testing.T) {
	if _, err := routesim.Run(context.Background(), nil, routesim.Config{FirstNode: 5, LastNode: 2}, 50); err == nil {
		t.Error("accepted 5..2")
	}
}

// The model that `simulate routes` runs on must agree with the stand-in that speaks EC2's wire
// protocol, quota by quota: same first unrouted node, same calls, same errors.
func TestModelAgreesWithTheStandIn(t *testing.T) {
	for _, tc := range []struct {
		quota int
		cfg   routesim.Config
	}{
		{10, routesim.Config{FirstNode: 1, LastNode: 15, OtherRoutes: 1}},
		{50, routesim.Config{FirstNode: 40, LastNode: 70, OtherRoutes: 2}},
		{500, routesim.Config{FirstNode: 5, LastNode: 40, OtherRoutes: 3}},
	} {
		wire, _ := simulate(t, tc.quota, tc.cfg)
		model, err := routesim.Run(context.Background(), routesim.NewModel(tc.quota), tc.cfg, tc.quota)
		if err != nil {
			t.Fatal(err)
		}
		if model.FirstUnrouted != wire.FirstUnrouted || model.Routed != wire.Routed || model.Unrouted != wire.Unrouted ||
			model.RouteLimitErrors != wire.RouteLimitErrors || model.CallsUntilLimit != wire.CallsUntilLimit || model.SetupCalls != wire.SetupCalls ||
			model.Calls["CreateRoute"] != wire.Calls["CreateRoute"] || model.Calls["DescribeRouteTables"] != wire.Calls["DescribeRouteTables"] {
			t.Errorf("quota %d, %+v:\nmodel %+v\nwire  %+v", tc.quota, tc.cfg, model, wire)
		}
	}
}
