package routesim

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// Model is an in-memory route table model that answers the calls Run makes, so that
// `netconform simulate routes` needs no EC2 endpoint and links no stand-in: a table holds its
// local route plus at most Quota created routes (EC2 counts every route but the local one
// against "Routes per route table"), and CreateRoute beyond that fails with EC2's
// RouteLimitExceeded. The wire-level behaviour is tested against fixtures/ec2stub, which Run
// also drives in the tests; the two must agree (routesim_test.go).
type Model struct {
	// Quota is the routes-per-route-table quota in force.
	Quota int

	next   int
	tables map[string]map[string]bool
}

var _ API = (*Model)(nil)

// NewModel returns an empty model with the quota.
func NewModel(quota int) *Model { return &Model{Quota: quota, tables: map[string]map[string]bool{}} }

func (m *Model) id(prefix string) *string {
	m.next++
	return aws.String(fmt.Sprintf("%s-%017x", prefix, m.next))
}

// CreateVpc implements API.
func (m *Model) CreateVpc(context.Context, *ec2.CreateVpcInput, ...func(*ec2.Options)) (*ec2.CreateVpcOutput, error) {
	return &ec2.CreateVpcOutput{Vpc: &types.Vpc{VpcId: m.id("vpc")}}, nil
}

// CreateSubnet implements API.
func (m *Model) CreateSubnet(context.Context, *ec2.CreateSubnetInput, ...func(*ec2.Options)) (*ec2.CreateSubnetOutput, error) {
	return &ec2.CreateSubnetOutput{Subnet: &types.Subnet{SubnetId: m.id("subnet")}}, nil
}

// CreateInternetGateway implements API.
func (m *Model) CreateInternetGateway(context.Context, *ec2.CreateInternetGatewayInput, ...func(*ec2.Options)) (*ec2.CreateInternetGatewayOutput, error) {
	return &ec2.CreateInternetGatewayOutput{InternetGateway: &types.InternetGateway{InternetGatewayId: m.id("igw")}}, nil
}

// AttachInternetGateway implements API.
func (m *Model) AttachInternetGateway(context.Context, *ec2.AttachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.AttachInternetGatewayOutput, error) {
	return &ec2.AttachInternetGatewayOutput{}, nil
}

// CreateRouteTable implements API.
func (m *Model) CreateRouteTable(context.Context, *ec2.CreateRouteTableInput, ...func(*ec2.Options)) (*ec2.CreateRouteTableOutput, error) {
	id := m.id("rtb")
	m.tables[*id] = map[string]bool{}
	return &ec2.CreateRouteTableOutput{RouteTable: &types.RouteTable{RouteTableId: id}}, nil
}

// CreateRoute implements API with EC2's errors for a full table and a duplicate destination.
func (m *Model) CreateRoute(_ context.Context, in *ec2.CreateRouteInput, _ ...func(*ec2.Options)) (*ec2.CreateRouteOutput, error) {
	t, ok := m.tables[aws.ToString(in.RouteTableId)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "InvalidRouteTableID.NotFound", Message: "no route table " + aws.ToString(in.RouteTableId)}
	}
	dest := aws.ToString(in.DestinationCidrBlock)
	if t[dest] {
		return nil, &smithy.GenericAPIError{Code: "RouteAlreadyExists", Message: "the route " + dest + " already exists"}
	}
	if len(t) >= m.Quota {
		return nil, &smithy.GenericAPIError{Code: "RouteLimitExceeded", Message: fmt.Sprintf("The maximum number of routes (%d) has been reached", m.Quota)}
	}
	t[dest] = true
	return &ec2.CreateRouteOutput{Return: aws.Bool(true)}, nil
}

// RunInstances implements API.
func (m *Model) RunInstances(_ context.Context, in *ec2.RunInstancesInput, _ ...func(*ec2.Options)) (*ec2.RunInstancesOutput, error) {
	out := &ec2.RunInstancesOutput{}
	for range aws.ToInt32(in.MaxCount) {
		out.Instances = append(out.Instances, types.Instance{InstanceId: m.id("i")})
	}
	return out, nil
}

// DescribeRouteTables implements API: the table with its local route and created routes.
func (m *Model) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	out := &ec2.DescribeRouteTablesOutput{}
	for _, id := range in.RouteTableIds {
		t, ok := m.tables[id]
		if !ok {
			return nil, &smithy.GenericAPIError{Code: "InvalidRouteTableID.NotFound", Message: "no route table " + id}
		}
		rt := types.RouteTable{RouteTableId: aws.String(id), Routes: []types.Route{{DestinationCidrBlock: aws.String("172.20.0.0/16"), GatewayId: aws.String("local")}}}
		for dest := range t {
			rt.Routes = append(rt.Routes, types.Route{DestinationCidrBlock: aws.String(dest)})
		}
		out.RouteTables = append(out.RouteTables, rt)
	}
	return out, nil
}
