// Package sweep finds the EC2 resources netconform runs left behind, by their run-id tag, and
// deletes them in dependency order: instances (waiting until they are terminated), detached
// network interfaces, route tables, internet gateways, subnets, VPCs.
//
// It is the second line of cleanup: kops delete cluster is the first and knows every resource
// kops made (load balancers, volumes, security groups, IAM, DNS, the state store). The sweep
// covers what an interrupted run or a failed kops delete leaves in EC2; resources of other kinds
// are not listed here and need kops delete cluster.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// ClusterTag is the tag kops puts on every resource with the cluster's name.
const ClusterTag = "KubernetesCluster"

// API is what the sweep calls on EC2; *ec2.Client implements it.
type API interface {
	ec2.DescribeInstancesAPIClient
	ec2.DescribeNetworkInterfacesAPIClient
	ec2.DescribeRouteTablesAPIClient
	ec2.DescribeInternetGatewaysAPIClient
	ec2.DescribeSubnetsAPIClient
	ec2.DescribeVpcsAPIClient
	TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
	DeleteNetworkInterface(context.Context, *ec2.DeleteNetworkInterfaceInput, ...func(*ec2.Options)) (*ec2.DeleteNetworkInterfaceOutput, error)
	DisassociateRouteTable(context.Context, *ec2.DisassociateRouteTableInput, ...func(*ec2.Options)) (*ec2.DisassociateRouteTableOutput, error)
	DeleteRouteTable(context.Context, *ec2.DeleteRouteTableInput, ...func(*ec2.Options)) (*ec2.DeleteRouteTableOutput, error)
	DetachInternetGateway(context.Context, *ec2.DetachInternetGatewayInput, ...func(*ec2.Options)) (*ec2.DetachInternetGatewayOutput, error)
	DeleteInternetGateway(context.Context, *ec2.DeleteInternetGatewayInput, ...func(*ec2.Options)) (*ec2.DeleteInternetGatewayOutput, error)
	DeleteSubnet(context.Context, *ec2.DeleteSubnetInput, ...func(*ec2.Options)) (*ec2.DeleteSubnetOutput, error)
	DeleteVpc(context.Context, *ec2.DeleteVpcInput, ...func(*ec2.Options)) (*ec2.DeleteVpcOutput, error)
}

// Kinds of resources, in deletion order.
const (
	KindInstance         = "instance"
	KindInterface        = "network-interface"
	KindRouteTable       = "route-table"
	KindInternetGateway  = "internet-gateway"
	KindSubnet           = "subnet"
	KindVPC              = "vpc"
	kindMainRouteTable   = "main-route-table"
	terminatedWaitPeriod = 10 * time.Minute
)

// Resource is one tagged resource.
type Resource struct {
	Kind    string `json:"kind"`
	ID      string `json:"id"`
	RunID   string `json:"runID"`
	Cluster string `json:"cluster,omitempty"`
	// VPC is the attached VPC of an internet gateway; Associations are a route table's subnet
	// associations. Both are undone before deletion.
	VPC          string   `json:"-"`
	Associations []string `json:"-"`
}

// Selector chooses what to sweep: the resources with TagKey, with the value RunID, or with any
// value when RunID is empty.
type Selector struct {
	TagKey string
	RunID  string
}

func (s Selector) filter() types.Filter {
	if s.RunID == "" {
		return types.Filter{Name: aws.String("tag-key"), Values: []string{s.TagKey}}
	}
	return types.Filter{Name: aws.String("tag:" + s.TagKey), Values: []string{s.RunID}}
}

func (s Selector) describe(tags []types.Tag, kind, id string) Resource {
	r := Resource{Kind: kind, ID: id}
	for _, t := range tags {
		switch aws.ToString(t.Key) {
		case s.TagKey:
			r.RunID = aws.ToString(t.Value)
		case ClusterTag:
			r.Cluster = aws.ToString(t.Value)
		}
	}
	return r
}

// Find lists the selected resources that still exist (terminated instances excluded).
func Find(ctx context.Context, api API, sel Selector) ([]Resource, error) {
	if sel.TagKey == "" {
		return nil, errors.New("sweep: no tag key")
	}
	f := sel.filter()
	var out []Resource
	ins := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: []types.Filter{f,
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	for ins.HasMorePages() {
		page, err := ins.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				out = append(out, sel.describe(in.Tags, KindInstance, aws.ToString(in.InstanceId)))
			}
		}
	}
	enis := ec2.NewDescribeNetworkInterfacesPaginator(api, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{f}})
	for enis.HasMorePages() {
		page, err := enis.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list network interfaces: %w", err)
		}
		for _, e := range page.NetworkInterfaces {
			out = append(out, sel.describe(e.TagSet, KindInterface, aws.ToString(e.NetworkInterfaceId)))
		}
	}
	rts := ec2.NewDescribeRouteTablesPaginator(api, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{f}})
	for rts.HasMorePages() {
		page, err := rts.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list route tables: %w", err)
		}
		for _, t := range page.RouteTables {
			r := sel.describe(t.Tags, KindRouteTable, aws.ToString(t.RouteTableId))
			for _, a := range t.Associations {
				if aws.ToBool(a.Main) {
					r.Kind = kindMainRouteTable // goes with its VPC
					continue
				}
				r.Associations = append(r.Associations, aws.ToString(a.RouteTableAssociationId))
			}
			out = append(out, r)
		}
	}
	igws := ec2.NewDescribeInternetGatewaysPaginator(api, &ec2.DescribeInternetGatewaysInput{Filters: []types.Filter{f}})
	for igws.HasMorePages() {
		page, err := igws.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list internet gateways: %w", err)
		}
		for _, g := range page.InternetGateways {
			r := sel.describe(g.Tags, KindInternetGateway, aws.ToString(g.InternetGatewayId))
			for _, a := range g.Attachments {
				r.VPC = aws.ToString(a.VpcId)
			}
			out = append(out, r)
		}
	}
	sns := ec2.NewDescribeSubnetsPaginator(api, &ec2.DescribeSubnetsInput{Filters: []types.Filter{f}})
	for sns.HasMorePages() {
		page, err := sns.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list subnets: %w", err)
		}
		for _, s := range page.Subnets {
			out = append(out, sel.describe(s.Tags, KindSubnet, aws.ToString(s.SubnetId)))
		}
	}
	vpcs := ec2.NewDescribeVpcsPaginator(api, &ec2.DescribeVpcsInput{Filters: []types.Filter{f}})
	for vpcs.HasMorePages() {
		page, err := vpcs.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sweep: list VPCs: %w", err)
		}
		for _, v := range page.Vpcs {
			out = append(out, sel.describe(v.Tags, KindVPC, aws.ToString(v.VpcId)))
		}
	}
	return out, nil
}

// Clusters are the kops clusters the resources belong to, by their KubernetesCluster tag.
func Clusters(rs []Resource) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if r.Cluster != "" && !seen[r.Cluster] {
			seen[r.Cluster] = true
			out = append(out, r.Cluster)
		}
	}
	sort.Strings(out)
	return out
}

// Delete deletes the resources in dependency order and returns those it deleted. It carries on
// past failures (a resource that cannot go yet may go on the next sweep) and returns them all
// joined.
func Delete(ctx context.Context, api API, rs []Resource) ([]Resource, error) {
	by := map[string][]Resource{}
	for _, r := range rs {
		by[r.Kind] = append(by[r.Kind], r)
	}
	var done []Resource
	var errs []error
	fail := func(r Resource, err error) { errs = append(errs, fmt.Errorf("delete %s %s: %w", r.Kind, r.ID, err)) }

	if ins := by[KindInstance]; len(ins) > 0 {
		ids := make([]string, len(ins))
		for i, r := range ins {
			ids[i] = r.ID
		}
		if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			errs = append(errs, fmt.Errorf("terminate instances %v: %w", ids, err))
		} else if err := ec2.NewInstanceTerminatedWaiter(api).Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, terminatedWaitPeriod); err != nil {
			errs = append(errs, fmt.Errorf("wait for instances %v to terminate: %w", ids, err))
		} else {
			done = append(done, ins...)
		}
	}
	for _, r := range by[KindInterface] {
		if _, err := api.DeleteNetworkInterface(ctx, &ec2.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(r.ID)}); err != nil {
			if isNotFound(err) { // went with its instance
				continue
			}
			fail(r, err)
			continue
		}
		done = append(done, r)
	}
	for _, r := range by[KindRouteTable] {
		if err := deleteRouteTable(ctx, api, r); err != nil {
			fail(r, err)
			continue
		}
		done = append(done, r)
	}
	for _, r := range by[KindInternetGateway] {
		if r.VPC != "" {
			if _, err := api.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: aws.String(r.ID), VpcId: aws.String(r.VPC)}); err != nil {
				fail(r, err)
				continue
			}
		}
		if _, err := api.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: aws.String(r.ID)}); err != nil {
			fail(r, err)
			continue
		}
		done = append(done, r)
	}
	for _, r := range by[KindSubnet] {
		if _, err := api.DeleteSubnet(ctx, &ec2.DeleteSubnetInput{SubnetId: aws.String(r.ID)}); err != nil {
			fail(r, err)
			continue
		}
		done = append(done, r)
	}
	for _, r := range by[KindVPC] {
		if _, err := api.DeleteVpc(ctx, &ec2.DeleteVpcInput{VpcId: aws.String(r.ID)}); err != nil {
			fail(r, err)
			continue
		}
		done = append(done, r)
	}
	return done, errors.Join(errs...)
}

func deleteRouteTable(ctx context.Context, api API, r Resource) error {
	for _, a := range r.Associations {
		if _, err := api.DisassociateRouteTable(ctx, &ec2.DisassociateRouteTableInput{AssociationId: aws.String(a)}); err != nil && !isNotFound(err) {
			return fmt.Errorf("disassociate %s: %w", a, err)
		}
	}
	_, err := api.DeleteRouteTable(ctx, &ec2.DeleteRouteTableInput{RouteTableId: aws.String(r.ID)})
	return err
}

// isNotFound says whether EC2 answered that the resource does not exist.
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasSuffix(ae.ErrorCode(), ".NotFound")
}
