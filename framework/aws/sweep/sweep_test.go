package sweep_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/netconform/netconform/fixtures/ec2stub"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/sweep"
)

const tagKey = "netconform.io/run-id"

func tags(rt types.ResourceType, run, cluster string) []types.TagSpecification {
	return []types.TagSpecification{{ResourceType: rt, Tags: []types.Tag{
		{Key: aws.String(tagKey), Value: aws.String(run)}, {Key: aws.String("KubernetesCluster"), Value: aws.String(cluster)},
	}}}
}

// leftovers builds what an interrupted run leaves: a VPC with a subnet, an attached gateway, a
// route table associated with the subnet, two instances and a detached interface.
func leftovers(t *testing.T, c *ec2.Client, run string) {
	t.Helper()
	x := context.Background()
	cluster := run + ".k8s.local"
	vpc, err := c.CreateVpc(x, &ec2.CreateVpcInput{CidrBlock: aws.String("172.20.0.0/16"), TagSpecifications: tags(types.ResourceTypeVpc, run, cluster)})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := c.CreateSubnet(x, &ec2.CreateSubnetInput{VpcId: vpc.Vpc.VpcId, CidrBlock: aws.String("172.20.32.0/19"), TagSpecifications: tags(types.ResourceTypeSubnet, run, cluster)})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.CreateInternetGateway(x, &ec2.CreateInternetGatewayInput{TagSpecifications: tags(types.ResourceTypeInternetGateway, run, cluster)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachInternetGateway(x, &ec2.AttachInternetGatewayInput{InternetGatewayId: g.InternetGateway.InternetGatewayId, VpcId: vpc.Vpc.VpcId}); err != nil {
		t.Fatal(err)
	}
	rt, err := c.CreateRouteTable(x, &ec2.CreateRouteTableInput{VpcId: vpc.Vpc.VpcId, TagSpecifications: tags(types.ResourceTypeRouteTable, run, cluster)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AssociateRouteTable(x, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sn.Subnet.SubnetId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RunInstances(x, &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), InstanceType: "t3.medium", MinCount: aws.Int32(2), MaxCount: aws.Int32(2),
		SubnetId: sn.Subnet.SubnetId, TagSpecifications: tags(types.ResourceTypeInstance, run, cluster)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateNetworkInterface(x, &ec2.CreateNetworkInterfaceInput{SubnetId: sn.Subnet.SubnetId, TagSpecifications: tags(types.ResourceTypeNetworkInterface, run, cluster)}); err != nil {
		t.Fatal(err)
	}
}

func kinds(rs []sweep.Resource) string {
	var ks []string
	for _, r := range rs {
		ks = append(ks, r.Kind+"/"+r.RunID)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

func TestSweepDeletesOneRunOnly(t *testing.T) {
	srv, err := ec2stub.Start(ec2stub.WithPageSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: "us-east-1", Endpoint: srv.URL(), StaticCredentials: true})
	if err != nil {
		t.Fatal(err)
	}
	leftovers(t, c.EC2, "run-a")
	leftovers(t, c.EC2, "run-b")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	all, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(all); got != 14 {
		t.Errorf("found %d resources of any run, want 14: %s", got, kinds(all))
	}
	if got := fmt.Sprint(sweep.Clusters(all)); got != "[run-a.k8s.local run-b.k8s.local]" {
		t.Errorf("clusters = %s", got)
	}
	a, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey, RunID: "run-a"})
	if err != nil {
		t.Fatal(err)
	}
	want := "instance/run-a instance/run-a internet-gateway/run-a network-interface/run-a route-table/run-a subnet/run-a vpc/run-a"
	if got := kinds(a); got != want {
		t.Errorf("run-a resources = %s, want %s", got, want)
	}
	done, err := sweep.Delete(ctx, c.EC2, a)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if len(done) != len(a) {
		t.Errorf("deleted %d of %d", len(done), len(a))
	}
	if rest, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey, RunID: "run-a"}); err != nil || len(rest) != 0 {
		t.Errorf("run-a after the sweep: %s %v", kinds(rest), err)
	}
	if b, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey, RunID: "run-b"}); err != nil || len(b) != 7 {
		t.Errorf("run-b must be untouched, found %s %v", kinds(b), err)
	}
}

func TestSweepReportsWhatItCannotDelete(t *testing.T) {
	srv, err := ec2stub.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := awsclient.New(context.Background(), awsclient.Config{Region: "us-east-1", Endpoint: srv.URL(), StaticCredentials: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	leftovers(t, c.EC2, "run-a")
	ctx := context.Background()
	rs, err := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey, RunID: "run-a"})
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault("TerminateInstances", ec2stub.Fault{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}, 1)
	_, err = sweep.Delete(ctx, c.EC2, rs)
	// The instances stay, so the subnet and the VPC cannot go either; all of it is reported.
	for _, w := range []string{"UnauthorizedOperation", "delete subnet", "DependencyViolation", "delete vpc"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if rest, _ := sweep.Find(ctx, c.EC2, sweep.Selector{TagKey: tagKey, RunID: "run-a"}); !strings.Contains(kinds(rest), "instance/run-a") {
		t.Errorf("instances should remain: %s", kinds(rest))
	}
}
