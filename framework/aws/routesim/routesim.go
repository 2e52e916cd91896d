// Package routesim drives an EC2 endpoint the way Kubernetes' route controller drives it for
// a mode that relies on VPC routes, to show where the routes-per-route-table quota stops a growing cluster and
// what it costs in API calls. It is meant for a local stand-in (fixtures/ec2stub), never for a
// real account: it creates hundreds of instances.
//
// The model: the cluster's route table starts with the local route and some routes of its own
// (the default route to the internet gateway). Nodes join one at a time; each join triggers one
// reconcile of the route controller, which lists the table (DescribeRouteTables) and creates the
// new node's route (CreateRoute to the node's instance). When CreateRoute fails with
// RouteLimitExceeded, the node keeps NetworkUnavailable=True (reason NoRouteCreated) and the
// controller retries it on every later reconcile; the simulation ends with one such retry pass,
// which is what the controller repeats every reconcile period from then on.
package routesim

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// API is what the simulation calls; *ec2.Client implements it.
type API interface {
	CreateVpc(context.Context, *ec2.CreateVpcInput, ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error)
	CreateSubnet(context.Context, *ec2.CreateSubnetInput, ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error)
	CreateInternetGateway(context.Context, *ec2.CreateInternetGatewayInput, ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error)
	AttachInternetGateway(context.Context, *ec2.AttachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error)
	CreateRouteTable(context.Context, *ec2.CreateRouteTableInput, ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error)
	CreateRoute(context.Context, *ec2.CreateRouteInput, ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error)
	RunInstances(context.Context, *ec2.RunInstancesInput, ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error)
	ec2.DescribeRouteTablesAPIClient
}

// Config is one simulated cluster.
type Config struct {
	// Nodes join one by one, numbered 1..LastNode; FirstNode..LastNode is the range reported.
	FirstNode, LastNode int
	// OtherRoutes are the table's routes besides node routes and the local route (kops' public
	// topology has one: 0.0.0.0/0 to the internet gateway). They count against the quota.
	OtherRoutes int
	// ReconcilePeriod is the route controller's period (kube-controller-manager
	// --route-reconciliation-period, 10s by default), for the steady-state call rate.
	ReconcilePeriod time.Duration
	// InstanceType of the nodes.
	InstanceType string
}

// Result is what happened.
type Result struct {
	Quota       int `json:"quota"`
	FirstNode   int `json:"firstNode"`
	LastNode    int `json:"lastNode"`
	OtherRoutes int `json:"otherRoutes"`
	// Routed is how many nodes got a route; FirstUnrouted the first node that did not (0: all
	// did).
	Routed        int `json:"routed"`
	FirstUnrouted int `json:"firstUnrouted"`
	Unrouted      int `json:"unrouted"`
	// UnroutedInRange counts nodes without a route among FirstNode..LastNode.
	UnroutedInRange int `json:"unroutedInRange"`
	// Calls are the route controller's API calls by action, and how many failed with
	// RouteLimitExceeded (including the final retry pass).
	Calls            map[string]int `json:"calls"`
	RouteLimitErrors int            `json:"routeLimitErrors"`
	// CallsUntilLimit is the controller's calls up to and including the first RouteLimitExceeded.
	CallsUntilLimit int `json:"callsUntilLimit"`
	// ElapsedUntilLimit and Elapsed are wall-clock times of the controller's work (not the setup).
	ElapsedUntilLimit time.Duration `json:"elapsedUntilLimitNs"`
	Elapsed           time.Duration `json:"elapsedNs"`
	// SteadyRetryPerSecond is the failing CreateRoute calls per second the controller keeps
	// making once the table is full: unrouted nodes / reconcile period.
	SteadyRetryPerSecond float64 `json:"steadyRetryPerSecond"`
	// SetupCalls are the calls that built the VPC and launched the instances.
	SetupCalls int `json:"setupCalls"`
}

// podCIDR is node i's /24 in kops' default cluster CIDR, 100.96.0.0/11.
func podCIDR(i int) (string, error) {
	if i < 0 || i >= 1<<13 {
		return "", fmt.Errorf("node %d: 100.96.0.0/11 holds 8192 /24 pod CIDRs", i+1)
	}
	base := netip.MustParseAddr("100.96.0.0").As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(i)<<8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24).String(), nil
}

// Run builds a VPC like kops' public topology, launches the nodes, and runs the controller.
// quota is the value in force on the endpoint (the caller set it), for the report.
func Run(ctx context.Context, api API, cfg Config, quota int) (Result, error) {
	if cfg.FirstNode < 1 || cfg.LastNode < cfg.FirstNode {
		return Result{}, fmt.Errorf("routesim: node range %d..%d: want 1 <= first <= last", cfg.FirstNode, cfg.LastNode)
	}
	if cfg.LastNode > 4000 {
		return Result{}, fmt.Errorf("routesim: %d nodes: at most 4000 fit the simulated subnet", cfg.LastNode)
	}
	if cfg.ReconcilePeriod <= 0 {
		cfg.ReconcilePeriod = 10 * time.Second
	}
	if cfg.InstanceType == "" {
		cfg.InstanceType = "t3.medium"
	}
	res := Result{Quota: quota, FirstNode: cfg.FirstNode, LastNode: cfg.LastNode, OtherRoutes: cfg.OtherRoutes, Calls: map[string]int{}}
	rtb, instances, err := setup(ctx, api, cfg, &res.SetupCalls)
	if err != nil {
		return res, err
	}
	routed := make([]bool, cfg.LastNode)
	start := time.Now()
	controller := func(action string) { res.Calls[action]++ }
	total := func() int {
		n := 0
		for _, v := range res.Calls {
			n += v
		}
		return n
	}
	create := func(i int) (bool, error) {
		cidr, err := podCIDR(i)
		if err != nil {
			return false, err
		}
		controller("CreateRoute")
		_, err = api.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String(cidr), InstanceId: aws.String(instances[i])})
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "RouteLimitExceeded" {
			res.RouteLimitErrors++
			if res.FirstUnrouted == 0 {
				res.FirstUnrouted = i + 1
				res.CallsUntilLimit = total()
				res.ElapsedUntilLimit = time.Since(start)
			}
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("routesim: CreateRoute for node %d: %w", i+1, err)
		}
		return true, nil
	}
	for i := range cfg.LastNode {
		// A reconcile: list the table, then add the joining node's route.
		controller("DescribeRouteTables")
		if _, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{aws.ToString(rtb)}}); err != nil {
			return res, fmt.Errorf("routesim: DescribeRouteTables: %w", err)
		}
		ok, err := create(i)
		if err != nil {
			return res, err
		}
		routed[i] = ok
	}
	// One more reconcile retries every node still without a route.
	controller("DescribeRouteTables")
	if _, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{aws.ToString(rtb)}}); err != nil {
		return res, fmt.Errorf("routesim: DescribeRouteTables: %w", err)
	}
	for i := range cfg.LastNode {
		if routed[i] {
			continue
		}
		ok, err := create(i)
		if err != nil {
			return res, err
		}
		routed[i] = ok
	}
	res.Elapsed = time.Since(start)
	for i, ok := range routed {
		if ok {
			res.Routed++
			continue
		}
		res.Unrouted++
		if i+1 >= cfg.FirstNode {
			res.UnroutedInRange++
		}
	}
	res.SteadyRetryPerSecond = float64(res.Unrouted) / cfg.ReconcilePeriod.Seconds()
	return res, nil
}

// setup builds the VPC, the cluster's route table with its other routes, and the instances.
func setup(ctx context.Context, api API, cfg Config, calls *int) (*string, []string, error) {
	*calls++
	vpc, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("172.20.0.0/16")})
	if err != nil {
		return nil, nil, fmt.Errorf("routesim: CreateVpc: %w", err)
	}
	*calls++
	sn, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("172.20.0.0/20")})
	if err != nil {
		return nil, nil, fmt.Errorf("routesim: CreateSubnet: %w", err)
	}
	*calls += 2
	igw, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		return nil, nil, fmt.Errorf("routesim: CreateInternetGateway: %w", err)
	}
	if _, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}); err != nil {
		return nil, nil, fmt.Errorf("routesim: AttachInternetGateway: %w", err)
	}
	*calls++
	rt, err := api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId})
	if err != nil {
		return nil, nil, fmt.Errorf("routesim: CreateRouteTable: %w", err)
	}
	rtb := rt.RouteTable.RouteTableId
	for i := range cfg.OtherRoutes {
		dest := "0.0.0.0/0"
		if i > 0 {
			dest = fmt.Sprintf("192.168.%d.0/24", i-1)
		}
		*calls++
		if _, err := api.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rtb, DestinationCidrBlock: aws.String(dest), GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
			return nil, nil, fmt.Errorf("routesim: the table's own route %s: %w", dest, err)
		}
	}
	var ids []string
	const batch = 100
	for len(ids) < cfg.LastNode {
		n := min(batch, cfg.LastNode-len(ids))
		*calls++
		out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0000000000routesim"), InstanceType: types.InstanceType(cfg.InstanceType),
			MinCount: aws.Int32(int32(n)), MaxCount: aws.Int32(int32(n)), SubnetId: sn.Subnet.SubnetId})
		if err != nil {
			return nil, nil, fmt.Errorf("routesim: RunInstances: %w", err)
		}
		for _, in := range out.Instances {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return rtb, ids, nil
}
