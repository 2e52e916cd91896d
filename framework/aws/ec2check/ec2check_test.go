package ec2check_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
)

const cluster = "nc-test.k8s.local"

// world is a kops-like cluster in the stand-in: one VPC, one subnet, a route table tagged for
// the cluster with a default route, and nodes with their pod CIDRs routed (kubenet).
type world struct {
	srv    *ec2stub.Server
	ec2    *ec2.Client
	check  *ec2check.Checker
	rtb    string
	subnet string
	nodes  []ec2check.Node
}

func newWorld(t *testing.T, nodes int, typ string, opts ...ec2stub.Option) *world {
	t.Helper()
	srv, err := ec2stub.Start(append([]ec2stub.Option{ec2stub.WithPageSize(2)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: "us-east-1", Endpoint: srv.URL(), StaticCredentials: true, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv, ec2: c.EC2, check: &ec2check.Checker{EC2: c.EC2, Quotas: c.Quotas}}
	x := tctx(t)
	vpc := must(c.EC2.CreateVpc(x, &ec2.CreateVpcInput{CidrBlock: aws.String("172.20.0.0/16")}))
	sn := must(c.EC2.CreateSubnet(x, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("172.20.32.0/19"), AvailabilityZone: aws.String("us-east-1a")}))
	w.subnet = *sn.Subnet.SubnetId
	igw := must(c.EC2.CreateInternetGateway(x, &ec2.CreateInternetGatewayInput{}))
	must(c.EC2.AttachInternetGateway(x, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}))
	rt := must(c.EC2.CreateRouteTable(x, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId, TagSpecifications: []types.TagSpecification{{
		ResourceType: types.ResourceTypeRouteTable, Tags: []types.Tag{{Key: aws.String("kubernetes.io/cluster/" + cluster), Value: aws.String("owned")}},
	}}}))
	w.rtb = *rt.RouteTable.RouteTableId
	must(c.EC2.CreateRoute(x, &ec2.CreateRouteInput{RouteTableId: &w.rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId}))
	for i := range nodes {
		w.addNode(t, fmt.Sprintf("node-%d", i), fmt.Sprintf("100.96.%d.0/24", i), typ)
	}
	return w
}

// addNode launches an instance and, as kubenet's route controller does, turns its
// source/destination check off and routes its pod CIDR to it.
func (w *world) addNode(t *testing.T, name, podCIDR, typ string) ec2check.Node {
	t.Helper()
	x := tctx(t)
	out := must(w.ec2.RunInstances(x, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), InstanceType: types.InstanceType(typ),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &w.subnet}))
	id := *out.Instances[0].InstanceId
	must(w.ec2.ModifyInstanceAttribute(x, &ec2.ModifyInstanceAttributeInput{InstanceId: &id, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}))
	if _, err := w.ec2.CreateRoute(x, &ec2.CreateRouteInput{RouteTableId: &w.rtb, DestinationCidrBlock: &podCIDR, InstanceId: &id}); err != nil {
		t.Logf("route for %s not created: %v", name, err)
	}
	n := ec2check.Node{Name: name, InstanceID: id, PodCIDR: podCIDR, MaxPods: 17}
	w.nodes = append(w.nodes, n)
	return n
}

func (w *world) links() ec2check.LinkSource {
	return ec2check.LinkSourceFunc(func(ctx context.Context, id string) ([]ec2check.Link, error) {
		ls, err := w.srv.NodeLinks(ctx, id)
		var out []ec2check.Link
		for _, l := range ls {
			out = append(out, ec2check.Link{Name: l.Name, MAC: l.MAC, Addrs: l.Addrs, MTU: l.MTU})
		}
		return out, err
	})
}

func tctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// find returns the results of one check with one status whose location contains where.
func find(rs []ec2check.Result, check string, status ec2check.Status, where string) []ec2check.Result {
	var out []ec2check.Result
	for _, r := range rs {
		if r.Check == check && r.Status == status && strings.Contains(r.Location, where) {
			out = append(out, r)
		}
	}
	return out
}

func dump(rs []ec2check.Result) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("\n  " + r.String())
	}
	return b.String()
}

func expectOnlyFailures(t *testing.T, rs []ec2check.Result, want ...string) {
	t.Helper()
	var got []string
	for _, r := range ec2check.Failed(rs) {
		got = append(got, r.Check)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("failing checks = %v, want %v%s", got, want, dump(rs))
	}
}

var kubenet = ec2check.Requirements{Provider: "kubenet", VPCRoutes: true, SourceDestDisabled: true}

func TestHealthyKubenetPasses(t *testing.T) {
	w := newWorld(t, 3, "t3.medium", ec2stub.WithRouteQuota(50))
	rs, err := w.check.Run(tctx(t), kubenet, ec2check.Input{ClusterName: cluster, Nodes: w.nodes, Links: w.links()})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs)
	if got := len(find(rs, ec2check.CheckNodeRoute, ec2check.Pass, "")); got != 3 {
		t.Errorf("node routes passing = %d, want 3%s", got, dump(rs))
	}
	q := find(rs, ec2check.CheckRouteQuota, ec2check.Pass, w.rtb)
	if len(q) != 1 || !strings.Contains(q[0].Observed, "headroom 46 nodes") {
		t.Errorf("quota result = %v, want a pass with headroom 46 nodes (50 - 3 nodes - default route)", q)
	}
	if got := len(find(rs, ec2check.CheckSourceDest, ec2check.Pass, "")); got != 3 {
		t.Errorf("source/dest passing = %d, want 3", got)
	}
	if got := len(find(rs, ec2check.CheckMaxPods, ec2check.Skip, "")); got != 1 {
		t.Errorf("max-pods should be skipped for kubenet%s", dump(rs))
	}
}

func TestMissingRouteFails(t *testing.T) {
	w := newWorld(t, 3, "t3.medium")
	must(w.ec2.DeleteRoute(tctx(t), &ec2.DeleteRouteInput{RouteTableId: &w.rtb, DestinationCidrBlock: aws.String("100.96.1.0/24")}))
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckNodeRoute)
	if f := find(rs, ec2check.CheckNodeRoute, ec2check.Fail, "node-1"); len(f) != 1 || f[0].Observed != "no route" {
		t.Errorf("want node-1's route reported missing%s", dump(rs))
	}
}

func TestBlackholeAndStaleRoutesFail(t *testing.T) {
	w := newWorld(t, 2, "t3.medium")
	// A node left the cluster and its instance was terminated, but its route stayed.
	gone := w.nodes[1]
	w.nodes = w.nodes[:1]
	must(w.ec2.TerminateInstances(tctx(t), &ec2.TerminateInstancesInput{InstanceIds: []string{gone.InstanceID}}))
	// And a route for a CIDR nobody owns still points at a live node.
	must(w.ec2.CreateRoute(tctx(t), &ec2.CreateRouteInput{RouteTableId: &w.rtb, DestinationCidrBlock: aws.String("100.96.77.0/24"), InstanceId: &w.nodes[0].InstanceID}))
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckBlackhole, ec2check.CheckStaleRoute)
	if f := find(rs, ec2check.CheckBlackhole, ec2check.Fail, "100.96.1.0/24"); len(f) != 1 || !strings.Contains(f[0].Observed, gone.InstanceID) {
		t.Errorf("want the terminated node's route reported as a blackhole via %s%s", gone.InstanceID, dump(rs))
	}
	if f := find(rs, ec2check.CheckStaleRoute, ec2check.Fail, "100.96.77.0/24"); len(f) != 1 {
		t.Errorf("want 100.96.77.0/24 reported stale%s", dump(rs))
	}
}

func TestWrongTargetFails(t *testing.T) {
	w := newWorld(t, 2, "t3.medium")
	must(w.ec2.ReplaceRoute(tctx(t), &ec2.ReplaceRouteInput{RouteTableId: &w.rtb, DestinationCidrBlock: aws.String("100.96.0.0/24"), InstanceId: &w.nodes[1].InstanceID}))
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	f := find(rs, ec2check.CheckNodeRoute, ec2check.Fail, "node-0")
	if len(f) != 1 || !strings.Contains(f[0].Observed, w.nodes[1].InstanceID) {
		t.Errorf("want node-0's route reported pointing at node-1's instance%s", dump(rs))
	}
}

func TestQuotaExhaustedFails(t *testing.T) {
	// The default route plus 3 node routes fit a quota of 4; the fifth node's CreateRoute fails
	// with RouteLimitExceeded, as it would for the route controller.
	w := newWorld(t, 4, "t3.medium", ec2stub.WithRouteQuota(4))
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckNodeRoute, ec2check.CheckRouteQuota)
	q := find(rs, ec2check.CheckRouteQuota, ec2check.Fail, w.rtb)
	if len(q) != 1 || !strings.Contains(q[0].Reason, "kubenet needs 5 routes in one table; quota 4") || !strings.Contains(q[0].Observed, "headroom -1 nodes") {
		t.Errorf("quota result = %v%s", q, dump(rs))
	}
	if f := find(rs, ec2check.CheckNodeRoute, ec2check.Fail, "node-3"); len(f) != 1 {
		t.Errorf("want node-3 without a route%s", dump(rs))
	}
	// Exactly at the quota passes, but a required headroom fails it.
	w2 := newWorld(t, 3, "t3.medium", ec2stub.WithRouteQuota(4))
	rs, err = w2.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w2.nodes, MinHeadroomNodes: 1})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckRouteQuota)
}

func TestQuotaReadsAWSDefault(t *testing.T) {
	// No applied value: GetServiceQuota answers NoSuchResourceException, the default (50) applies.
	w := newWorld(t, 1, "t3.medium")
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	if q := find(rs, ec2check.CheckRouteQuota, ec2check.Pass, w.rtb); len(q) != 1 || !strings.Contains(q[0].Expected, "at most 50 routes") {
		t.Errorf("want the AWS default of 50 used%s", dump(rs))
	}
	if calls := w.srv.Calls(); calls["GetServiceQuota"] != 1 || calls["GetAWSDefaultServiceQuota"] != 1 {
		t.Errorf("quota calls = %v", calls)
	}
}

func TestNoOrSeveralRouteTablesFail(t *testing.T) {
	w := newWorld(t, 1, "t3.medium")
	rs, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: "other.k8s.local", Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckRouteTables)
	// A private topology has a table per zone: kubenet cannot use it.
	must(w.ec2.CreateTags(tctx(t), &ec2.CreateTagsInput{Resources: []string{w.mainTable(t)}, Tags: []types.Tag{{Key: aws.String("kubernetes.io/cluster/" + cluster), Value: aws.String("owned")}}}))
	rs, err = w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	if f := find(rs, ec2check.CheckRouteTables, ec2check.Fail, ""); len(f) != 1 || f[0].Observed != "2" {
		t.Errorf("want two route tables reported%s", dump(rs))
	}
}

func (w *world) mainTable(t *testing.T) string {
	out := must(w.ec2.DescribeRouteTables(tctx(t), &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("association.main"), Values: []string{"true"}}}}))
	return *out.RouteTables[0].RouteTableId
}

func TestSourceDestCheckStillOnFails(t *testing.T) {
	w := newWorld(t, 3, "t3.medium")
	must(w.ec2.ModifyInstanceAttribute(tctx(t), &ec2.ModifyInstanceAttributeInput{InstanceId: &w.nodes[2].InstanceID, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	rs, err := w.check.SourceDest(tctx(t), ec2check.SourceDestInput{Provider: "calico", Required: true, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckSourceDest)
	if f := find(rs, ec2check.CheckSourceDest, ec2check.Fail, "node-2"); len(f) != 1 || f[0].Observed != "sourceDestCheck=true" {
		t.Errorf("want node-2 reported%s", dump(rs))
	}
	rs, err = w.check.SourceDest(tctx(t), ec2check.SourceDestInput{Provider: "flannel", Required: false, Nodes: w.nodes})
	if err != nil || len(rs) != 1 || rs[0].Status != ec2check.Skip {
		t.Errorf("flannel: got %v %v, want one skip", rs, err)
	}
}

func TestENIMTUBelowProviderFails(t *testing.T) {
	w := newWorld(t, 2, "m5.large")
	calico := ec2check.MTUInput{Provider: "calico", PodMTU: 8912, Overhead: 20, Nodes: w.nodes, Links: w.links()}
	rs, err := w.check.MTU(tctx(t), calico)
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs)
	if got := len(find(rs, ec2check.CheckPodMTU, ec2check.Pass, "")); got != 2 {
		t.Errorf("pod MTU passes = %d, want 2%s", got, dump(rs))
	}
	// node-1's interface comes up at 1500 (no jumbo frames): both checks fail there.
	enis := must(w.ec2.DescribeNetworkInterfaces(tctx(t), &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{{Name: aws.String("attachment.instance-id"), Values: []string{w.nodes[1].InstanceID}}}}))
	eni := *enis.NetworkInterfaces[0].NetworkInterfaceId
	if err := w.srv.SetLinkMTU(eni, 1500); err != nil {
		t.Fatal(err)
	}
	rs, err = w.check.MTU(tctx(t), calico)
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckENIMTU, ec2check.CheckPodMTU)
	f := find(rs, ec2check.CheckPodMTU, ec2check.Fail, eni)
	if len(f) != 1 || f[0].Observed != "1500" || !strings.Contains(f[0].Expected, ">= 8932") || !strings.Contains(f[0].Location, "node-1") {
		t.Errorf("pod MTU failure = %v%s", f, dump(rs))
	}
	// A provider MTU that is too big even for jumbo frames fails on healthy links.
	rs, err = w.check.MTU(tctx(t), ec2check.MTUInput{Provider: "weave", PodMTU: 8950, Overhead: 87, Nodes: w.nodes[:1], Links: w.links()})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckPodMTU)
}

func TestPreviousGenerationExpects1500(t *testing.T) {
	w := newWorld(t, 1, "t1.micro")
	rs, err := w.check.MTU(tctx(t), ec2check.MTUInput{Provider: "calico", PodMTU: 8912, Overhead: 20, Nodes: w.nodes, Links: w.links()})
	if err != nil {
		t.Fatal(err)
	}
	if p := find(rs, ec2check.CheckENIMTU, ec2check.Pass, ""); len(p) != 1 || p[0].Expected != "1500" {
		t.Errorf("t1.micro link: want pass at 1500%s", dump(rs))
	}
	expectOnlyFailures(t, rs, ec2check.CheckPodMTU)
	rs, err = w.check.MTU(tctx(t), ec2check.MTUInput{Provider: "flannel", Overhead: 50, Nodes: w.nodes, Links: w.links()})
	if err != nil {
		t.Fatal(err)
	}
	if s := find(rs, ec2check.CheckPodMTU, ec2check.Skip, ""); len(s) != 1 || !strings.Contains(s[0].Reason, "= 1450") {
		t.Errorf("flannel derives 1450 from 1500%s", dump(rs))
	}
}

func TestMaxPods(t *testing.T) {
	w := newWorld(t, 2, "t3.medium")
	w.nodes[0].MaxPods = 17  // t3.medium: 3 x (6 - 1) + 2
	w.nodes[1].MaxPods = 110 // kubelet's default, far beyond what the interfaces hold
	rs, err := w.check.MaxPods(tctx(t), ec2check.MaxPodsInput{Provider: "amazon-vpc-routed-eni", ENIIPAM: true, Nodes: w.nodes})
	if err != nil {
		t.Fatal(err)
	}
	expectOnlyFailures(t, rs, ec2check.CheckMaxPods)
	f := find(rs, ec2check.CheckMaxPods, ec2check.Fail, "node-1")
	if len(f) != 1 || !strings.Contains(f[0].Expected, "maxPods <= 17") {
		t.Errorf("max pods failure = %v%s", f, dump(rs))
	}
	for typ, want := range map[string]int{"m5.large": 29, "c5.xlarge": 58, "m4.large": 20, "t1.micro": 4} {
		info := must(w.ec2.DescribeInstanceTypes(tctx(t), &ec2.DescribeInstanceTypesInput{InstanceTypes: []types.InstanceType{types.InstanceType(typ)}}))
		if got, _, _ := ec2check.ENIPodCapacity(info.InstanceTypes[0]); got != want {
			t.Errorf("%s capacity = %d, want %d (published eni-max-pods)", typ, got, want)
		}
	}
}

func TestAPIErrorsAreErrorsNotFailures(t *testing.T) {
	w := newWorld(t, 1, "t3.medium")
	w.srv.InjectFault("DescribeRouteTables", ec2stub.Fault{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}, 1)
	_, err := w.check.Routes(tctx(t), ec2check.RoutesInput{Provider: "kubenet", ClusterName: cluster, Nodes: w.nodes})
	if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") {
		t.Errorf("got %v, want an UnauthorizedOperation error", err)
	}
	// Throttling is retried by the SDK's retryer and does not surface.
	w.srv.InjectFault("DescribeInstanceAttribute", ec2stub.Fault{Code: "RequestLimitExceeded"}, 1)
	rs, err := w.check.SourceDest(tctx(t), ec2check.SourceDestInput{Provider: "kube-router", Required: true, Nodes: w.nodes})
	if err != nil || len(ec2check.Failed(rs)) != 0 {
		t.Errorf("after one throttle: %v %s", err, dump(rs))
	}
}

func TestInstanceIDFromProviderID(t *testing.T) {
	for in, want := range map[string]string{"aws:///us-east-1a/i-0123456789abcdef0": "i-0123456789abcdef0", "gce://p/z/n": "", "aws:///us-east-1a/": ""} {
		got, err := ec2check.InstanceIDFromProviderID(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("InstanceIDFromProviderID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
