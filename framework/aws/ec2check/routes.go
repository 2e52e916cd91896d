package ec2check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"
)

// The "Routes per route table" quota in Service Quotas.
const (
	RouteQuotaService = "vpc"
	RouteQuotaCode    = "L-93826ACB"
)

// RoutesInput selects the cluster whose route tables are checked.
type RoutesInput struct {
	// Provider names the networking mode in reasons; "" says "the provider".
	Provider         string
	ClusterName      string
	Nodes            []Node
	MinHeadroomNodes int
}

// provider is the mode's name for reasons.
func (in RoutesInput) provider() string {
	if in.Provider == "" {
		return "the provider"
	}
	return in.Provider
}

// Routes checks the VPC routes of a mode that relies on them (Requirements.VPCRoutes): one route table for the cluster; in it exactly one route
// per node pod CIDR, targeting that node's instance or one of its interfaces; no blackhole
// routes; no instance routes that belong to no node; and the routes the cluster needs against
// the routes-per-route-table quota, read live, with the headroom in nodes.
func (c *Checker) Routes(ctx context.Context, in RoutesInput) ([]Result, error) {
	tables, err := c.clusterRouteTables(ctx, in.ClusterName)
	if err != nil {
		return nil, err
	}
	var out []Result
	switch len(tables) {
	case 0:
		return []Result{{Check: CheckRouteTables, Status: Fail, Location: "cluster " + in.ClusterName,
			Reason:   fmt.Sprintf("no route table is tagged kubernetes.io/cluster/%s: the route controller has nowhere to put node routes", in.ClusterName),
			Expected: "1 route table", Observed: "0"}}, nil
	case 1:
		out = append(out, Result{Check: CheckRouteTables, Status: Pass, Location: aws.ToString(tables[0].RouteTableId),
			Reason: "the cluster has one route table for node routes", Expected: "1 route table", Observed: "1"})
	default:
		var ids []string
		for _, t := range tables {
			ids = append(ids, aws.ToString(t.RouteTableId))
		}
		out = append(out, Result{Check: CheckRouteTables, Status: Fail, Location: strings.Join(ids, ","),
			Reason:   in.provider() + " needs a single route table, and the route controller refuses to choose between several (a private topology has one per zone)",
			Expected: "1 route table", Observed: fmt.Sprint(len(tables))})
	}
	instances, err := c.runningInstances(ctx, instanceIDs(in.Nodes))
	if err != nil {
		return nil, err
	}
	// A route may name the node's instance or any of its interfaces.
	owner := map[string]string{} // instance or interface id -> instance id
	for id, inst := range instances {
		owner[id] = id
		for _, ni := range inst.NetworkInterfaces {
			owner[aws.ToString(ni.NetworkInterfaceId)] = id
		}
	}
	quota, quotaErr := c.routeQuota(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, t := range tables {
		out = append(out, checkTable(t, in, instances, owner)...)
		out = append(out, quotaResult(t, in, quota, quotaErr))
	}
	return out, nil
}

// clusterRouteTables finds the tables tagged for the cluster, with the current tag or the
// legacy one.
func (c *Checker) clusterRouteTables(ctx context.Context, cluster string) ([]types.RouteTable, error) {
	filters := [][]types.Filter{
		{{Name: aws.String("tag-key"), Values: []string{"kubernetes.io/cluster/" + cluster}}},
		{{Name: aws.String("tag:KubernetesCluster"), Values: []string{cluster}}},
	}
	for _, f := range filters {
		var tables []types.RouteTable
		p := ec2.NewDescribeRouteTablesPaginator(c.EC2, &ec2.DescribeRouteTablesInput{Filters: f})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe route tables of cluster %s: %w", cluster, err)
			}
			tables = append(tables, page.RouteTables...)
		}
		if len(tables) > 0 {
			return tables, nil
		}
	}
	return nil, nil
}

func routeTarget(r types.Route) string {
	switch {
	case r.InstanceId != nil && r.NetworkInterfaceId != nil:
		return aws.ToString(r.InstanceId) + "/" + aws.ToString(r.NetworkInterfaceId)
	case r.InstanceId != nil:
		return aws.ToString(r.InstanceId)
	case r.NetworkInterfaceId != nil:
		return aws.ToString(r.NetworkInterfaceId)
	case r.GatewayId != nil:
		return aws.ToString(r.GatewayId)
	case r.NatGatewayId != nil:
		return aws.ToString(r.NatGatewayId)
	case r.TransitGatewayId != nil:
		return aws.ToString(r.TransitGatewayId)
	}
	return "?"
}

func checkTable(t types.RouteTable, in RoutesInput, instances map[string]types.Instance, owner map[string]string) []Result {
	id := aws.ToString(t.RouteTableId)
	var out []Result
	byDest := map[string][]types.Route{}
	for _, r := range t.Routes {
		byDest[aws.ToString(r.DestinationCidrBlock)] = append(byDest[aws.ToString(r.DestinationCidrBlock)], r)
	}
	podCIDRs := map[string]bool{}
	for _, n := range in.Nodes {
		loc := id + " " + n.where()
		if n.PodCIDR == "" {
			out = append(out, Result{Check: CheckNodeRoute, Status: Fail, Location: loc,
				Reason: "the node has no pod CIDR (is kube-controller-manager allocating node CIDRs?)", Expected: "a /24 pod CIDR", Observed: "none"})
			continue
		}
		podCIDRs[n.PodCIDR] = true
		want := fmt.Sprintf("%s -> %s", n.PodCIDR, n.InstanceID)
		if _, alive := instances[n.InstanceID]; !alive {
			out = append(out, Result{Check: CheckNodeRoute, Status: Fail, Location: loc,
				Reason: "the node's instance is not running in EC2", Expected: want, Observed: "no running instance " + n.InstanceID})
			continue
		}
		rs := byDest[n.PodCIDR]
		switch {
		case len(rs) == 0:
			out = append(out, Result{Check: CheckNodeRoute, Status: Fail, Location: loc,
				Reason:   "no route for the node's pod CIDR: pods on other nodes cannot reach pods on this one (the node should show NetworkUnavailable / NoRouteCreated)",
				Expected: want, Observed: "no route"})
		case len(rs) > 1:
			out = append(out, Result{Check: CheckNodeRoute, Status: Fail, Location: loc,
				Reason: "more than one route for the node's pod CIDR", Expected: "exactly one route " + want, Observed: fmt.Sprintf("%d routes", len(rs))})
		default:
			r := rs[0]
			target := owner[aws.ToString(r.InstanceId)]
			if target == "" {
				target = owner[aws.ToString(r.NetworkInterfaceId)]
			}
			if target != n.InstanceID {
				out = append(out, Result{Check: CheckNodeRoute, Status: Fail, Location: loc,
					Reason:   "the route for the node's pod CIDR points at another target: its pods' traffic goes to the wrong place",
					Expected: want, Observed: fmt.Sprintf("%s -> %s", n.PodCIDR, routeTarget(r))})
				continue
			}
			out = append(out, Result{Check: CheckNodeRoute, Status: Pass, Location: loc,
				Reason: "one route for the node's pod CIDR, targeting the node", Expected: want, Observed: fmt.Sprintf("%s -> %s (%s)", n.PodCIDR, routeTarget(r), r.State)})
		}
	}
	var holes, stale []string
	for _, r := range t.Routes {
		dest := aws.ToString(r.DestinationCidrBlock)
		if r.DestinationCidrBlock == nil {
			dest = aws.ToString(r.DestinationPrefixListId) + aws.ToString(r.DestinationIpv6CidrBlock)
		}
		if r.State == types.RouteStateBlackhole {
			holes = append(holes, fmt.Sprintf("%s -> %s", dest, routeTarget(r)))
			out = append(out, Result{Check: CheckBlackhole, Status: Fail, Location: id + " " + dest,
				Reason:   "blackhole route: its target is gone (a terminated node?), so traffic for " + dest + " is dropped",
				Expected: "active", Observed: fmt.Sprintf("blackhole via %s", routeTarget(r))})
			continue
		}
		if (r.InstanceId != nil || r.NetworkInterfaceId != nil) && !podCIDRs[dest] {
			stale = append(stale, dest)
			out = append(out, Result{Check: CheckStaleRoute, Status: Fail, Location: id + " " + dest,
				Reason:   "a route to an instance for a CIDR that is no node's pod CIDR (left over from a deleted node, or a pod CIDR that changed)",
				Expected: "no route", Observed: fmt.Sprintf("%s -> %s", dest, routeTarget(r))})
		}
	}
	if len(holes) == 0 {
		out = append(out, Result{Check: CheckBlackhole, Status: Pass, Location: id, Reason: "no blackhole routes", Expected: "0 blackhole routes", Observed: "0"})
	}
	if len(stale) == 0 {
		out = append(out, Result{Check: CheckStaleRoute, Status: Pass, Location: id, Reason: "every instance route belongs to a node", Expected: "0 stale routes", Observed: "0"})
	}
	return out
}

// routeQuota reads the routes-per-route-table quota: the applied value, or AWS's default when
// the account never changed it (GetServiceQuota then answers NoSuchResourceException).
func (c *Checker) routeQuota(ctx context.Context) (int, error) {
	if c.Quotas == nil {
		return 0, errors.New("no Service Quotas client")
	}
	q, err := c.Quotas.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String(RouteQuotaService), QuotaCode: aws.String(RouteQuotaCode)})
	var nsr *sqtypes.NoSuchResourceException
	if errors.As(err, &nsr) {
		d, derr := c.Quotas.GetAWSDefaultServiceQuota(ctx, &servicequotas.GetAWSDefaultServiceQuotaInput{ServiceCode: aws.String(RouteQuotaService), QuotaCode: aws.String(RouteQuotaCode)})
		if derr != nil {
			return 0, fmt.Errorf("read default quota %s/%s: %w", RouteQuotaService, RouteQuotaCode, derr)
		}
		return quotaValue(d.Quota)
	}
	if err != nil {
		return 0, fmt.Errorf("read quota %s/%s: %w", RouteQuotaService, RouteQuotaCode, err)
	}
	return quotaValue(q.Quota)
}

func quotaValue(q *sqtypes.ServiceQuota) (int, error) {
	if q == nil || q.Value == nil {
		return 0, errors.New("quota answer has no value")
	}
	return int(*q.Value), nil
}

// quotaResult counts the routes the table needs (its routes other than node routes and the
// local route, plus one per node) against the quota.
func quotaResult(t types.RouteTable, in RoutesInput, quota int, quotaErr error) Result {
	id := aws.ToString(t.RouteTableId)
	if quotaErr != nil {
		return Result{Check: CheckRouteQuota, Status: Skip, Location: id,
			Reason: "cannot read the Routes per route table quota (vpc/L-93826ACB): " + quotaErr.Error()}
	}
	nodeCIDRs := map[string]bool{}
	for _, n := range in.Nodes {
		if n.PodCIDR != "" {
			nodeCIDRs[n.PodCIDR] = true
		}
	}
	used, other := 0, 0
	var otherDests []string
	for _, r := range t.Routes {
		if r.Origin != types.RouteOriginCreateRoute {
			continue // the local route does not count
		}
		used++
		if !nodeCIDRs[aws.ToString(r.DestinationCidrBlock)] {
			other++
			otherDests = append(otherDests, aws.ToString(r.DestinationCidrBlock))
		}
	}
	sort.Strings(otherDests)
	need := other + len(nodeCIDRs)
	headroom := quota - need
	observed := fmt.Sprintf("%d routes in use, %d needed (%d nodes + %d other: %s); headroom %d nodes", used, need, len(nodeCIDRs), other, strings.Join(otherDests, " "), headroom)
	switch {
	case need > quota:
		return Result{Check: CheckRouteQuota, Status: Fail, Location: id,
			Reason:   fmt.Sprintf("%s needs %d routes in one table; quota %d: %d nodes cannot get a route (CreateRoute fails with RouteLimitExceeded)", in.provider(), need, quota, need-quota),
			Expected: fmt.Sprintf("at most %d routes (Routes per route table, L-93826ACB)", quota), Observed: observed}
	case headroom < in.MinHeadroomNodes:
		return Result{Check: CheckRouteQuota, Status: Fail, Location: id,
			Reason:   fmt.Sprintf("only %d more nodes fit under the route quota of %d; at least %d wanted", headroom, quota, in.MinHeadroomNodes),
			Expected: fmt.Sprintf("headroom of at least %d nodes", in.MinHeadroomNodes), Observed: observed}
	}
	return Result{Check: CheckRouteQuota, Status: Pass, Location: id,
		Reason:   fmt.Sprintf("%d of %d routes needed; %d more nodes fit", need, quota, headroom),
		Expected: fmt.Sprintf("at most %d routes (Routes per route table, L-93826ACB)", quota), Observed: observed}
}
