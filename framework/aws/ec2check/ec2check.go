// Package ec2check checks, through the EC2 and Service Quotas APIs, what a Kubernetes networking
// mode needs from AWS on a kops-built cluster: the VPC route table a routed mode relies on (one route
// per node pod CIDR, no blackholes, room under the routes-per-route-table quota), EC2
// source/destination checks turned off where pod traffic leaves nodes unencapsulated, interface
// MTUs against the provider's MTU and overhead, and the pods an instance can address under the
// Amazon VPC CNI against kubelet's maxPods.
//
// Checks return typed results (pass, fail or skip with a reason, expected versus observed, and
// where). An error means a check could not run (AWS unreachable, access denied), never that it
// failed.
package ec2check

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
)

// Status is a check's verdict.
type Status string

// Verdicts.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Check names, stable for reports and label filters.
const (
	CheckRouteTables = "aws/route-table/count"
	CheckNodeRoute   = "aws/route-table/node-route"
	CheckBlackhole   = "aws/route-table/blackhole"
	CheckStaleRoute  = "aws/route-table/stale-route"
	CheckRouteQuota  = "aws/route-table/quota"
	CheckSourceDest  = "aws/ec2/source-dest-check"
	CheckENIMTU      = "aws/eni/mtu"
	CheckPodMTU      = "aws/eni/pod-mtu"
	CheckMaxPods     = "aws/eni/max-pods"
)

// Result is one verdict at one place.
type Result struct {
	Check    string `json:"check"`
	Status   Status `json:"status"`
	Reason   string `json:"reason"`
	Expected string `json:"expected,omitempty"`
	Observed string `json:"observed,omitempty"`
	// Location is where: a route table, an instance, an interface, with the node's name.
	Location string `json:"location,omitempty"`
}

func (r Result) String() string {
	s := fmt.Sprintf("%s %s", r.Status, r.Check)
	if r.Location != "" {
		s += " [" + r.Location + "]"
	}
	s += ": " + r.Reason
	if r.Expected != "" || r.Observed != "" {
		s += fmt.Sprintf(" (expected %s, observed %s)", r.Expected, r.Observed)
	}
	return s
}

// Failed returns the failing results.
func Failed(rs []Result) []Result {
	var out []Result
	for _, r := range rs {
		if r.Status == Fail {
			out = append(out, r)
		}
	}
	return out
}

// Node is a cluster node as Kubernetes reports it.
type Node struct {
	Name       string // metadata.name
	InstanceID string // from spec.providerID, see InstanceIDFromProviderID
	PodCIDR    string // spec.podCIDR
	MaxPods    int    // status.capacity["pods"], which is kubelet's maxPods
}

func (n Node) where() string {
	if n.Name == "" {
		return n.InstanceID
	}
	return fmt.Sprintf("node %s (%s)", n.Name, n.InstanceID)
}

// InstanceIDFromProviderID extracts the instance id from a node's spec.providerID, which the AWS
// cloud provider writes as aws:///<zone>/<instance-id>.
func InstanceIDFromProviderID(providerID string) (string, error) {
	rest, ok := strings.CutPrefix(providerID, "aws://")
	if !ok {
		return "", fmt.Errorf("provider id %q is not an AWS one (aws:///zone/i-...)", providerID)
	}
	i := strings.LastIndex(rest, "/")
	id := rest[i+1:]
	if !strings.HasPrefix(id, "i-") {
		return "", fmt.Errorf("provider id %q has no instance id", providerID)
	}
	return id, nil
}

// EC2API is what the checks call on EC2; *ec2.Client implements it.
type EC2API interface {
	ec2.DescribeRouteTablesAPIClient
	ec2.DescribeInstancesAPIClient
	ec2.DescribeInstanceTypesAPIClient
	ec2.DescribeNetworkInterfacesAPIClient
	DescribeInstanceAttribute(ctx context.Context, in *ec2.DescribeInstanceAttributeInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstanceAttributeOutput, error)
}

// QuotasAPI is what the checks call on Service Quotas; *servicequotas.Client implements it.
type QuotasAPI interface {
	GetServiceQuota(ctx context.Context, in *servicequotas.GetServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetServiceQuotaOutput, error)
	GetAWSDefaultServiceQuota(ctx context.Context, in *servicequotas.GetAWSDefaultServiceQuotaInput, opts ...func(*servicequotas.Options)) (*servicequotas.GetAWSDefaultServiceQuotaOutput, error)
}

// Link is a network interface as the node itself reports it (its name, MAC address, addresses
// and MTU), for example from the probe agent's link list or /sys/class/net.
type Link struct {
	Name  string
	MAC   string
	Addrs []string // with or without a /prefix
	MTU   int
}

// LinkSource reports a node's links. EC2's API does not expose interface MTUs, so the MTU check
// needs the node's own view.
type LinkSource interface {
	NodeLinks(ctx context.Context, instanceID string) ([]Link, error)
}

// LinkSourceFunc adapts a function to LinkSource.
type LinkSourceFunc func(ctx context.Context, instanceID string) ([]Link, error)

// NodeLinks calls f.
func (f LinkSourceFunc) NodeLinks(ctx context.Context, instanceID string) ([]Link, error) {
	return f(ctx, instanceID)
}

// Checker runs the checks with one pair of clients.
type Checker struct {
	EC2    EC2API
	Quotas QuotasAPI
}

// Requirements are what a networking provider needs from AWS.
type Requirements struct {
	Provider string
	// VPCRoutes: the provider relies on one VPC route per node pod CIDR.
	VPCRoutes bool
	// SourceDestDisabled: pod traffic leaves or enters nodes unencapsulated, so EC2's
	// source/destination check must be off (VPC-routed modes, and overlays that encapsulate only
	// across subnets).
	SourceDestDisabled bool
	// PodMTU is the MTU configured for pods (kops writes 8912 on AWS for some providers); 0 when the
	// provider derives it from the link.
	PodMTU int
	// Overhead is the encapsulation the provider adds between nodes, in bytes.
	Overhead int
	// ENIIPAM: pods take addresses from the instance's interfaces.
	ENIIPAM bool
}

// Input names the cluster and its nodes.
type Input struct {
	// ClusterName is the kops cluster name; its route tables carry the tag
	// kubernetes.io/cluster/<name> (or the older KubernetesCluster=<name>).
	ClusterName string
	Nodes       []Node
	// Links is where node-reported MTUs come from; nil skips the MTU checks.
	Links LinkSource
	// MinHeadroomNodes fails the route quota check when fewer nodes than this can still join.
	MinHeadroomNodes int
}

// Run runs every check for a provider, skipping (with the reason) the ones it does not need.
func (c *Checker) Run(ctx context.Context, req Requirements, in Input) ([]Result, error) {
	var all []Result
	steps := []func() ([]Result, error){
		func() ([]Result, error) {
			if !req.VPCRoutes {
				return []Result{{Check: CheckNodeRoute, Status: Skip,
					Reason: fmt.Sprintf("%s does not program VPC routes: pod traffic between nodes never reaches the VPC route table", req.Provider)}}, nil
			}
			return c.Routes(ctx, RoutesInput{Provider: req.Provider, ClusterName: in.ClusterName, Nodes: in.Nodes, MinHeadroomNodes: in.MinHeadroomNodes})
		},
		func() ([]Result, error) {
			return c.SourceDest(ctx, SourceDestInput{Provider: req.Provider, Required: req.SourceDestDisabled, Nodes: in.Nodes})
		},
		func() ([]Result, error) {
			return c.MTU(ctx, MTUInput{Provider: req.Provider, PodMTU: req.PodMTU, Overhead: req.Overhead, Nodes: in.Nodes, Links: in.Links})
		},
		func() ([]Result, error) {
			return c.MaxPods(ctx, MaxPodsInput{Provider: req.Provider, ENIIPAM: req.ENIIPAM, Nodes: in.Nodes})
		},
	}
	for _, step := range steps {
		rs, err := step()
		if err != nil {
			return all, err
		}
		all = append(all, rs...)
	}
	return all, nil
}

// maxFilterValues is how many values EC2 takes in one filter.
const maxFilterValues = 200

// runningInstances describes the given instances that are pending or running, by id.
func (c *Checker) runningInstances(ctx context.Context, ids []string) (map[string]types.Instance, error) {
	out := map[string]types.Instance{}
	for start := 0; start < len(ids); start += maxFilterValues {
		chunk := ids[start:min(start+maxFilterValues, len(ids))]
		p := ec2.NewDescribeInstancesPaginator(c.EC2, &ec2.DescribeInstancesInput{Filters: []types.Filter{
			{Name: aws.String("instance-id"), Values: chunk},
			{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
		}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					out[aws.ToString(in.InstanceId)] = in
				}
			}
		}
	}
	return out, nil
}

// instanceTypes describes the named instance types.
func (c *Checker) instanceTypes(ctx context.Context, names []string) (map[string]types.InstanceTypeInfo, error) {
	out := map[string]types.InstanceTypeInfo{}
	seen := map[string]bool{}
	var want []types.InstanceType
	for _, n := range names {
		if n != "" && !seen[n] {
			seen[n] = true
			want = append(want, types.InstanceType(n))
		}
	}
	const perCall = 100 // DescribeInstanceTypes takes at most 100 names
	for start := 0; start < len(want); start += perCall {
		p := ec2.NewDescribeInstanceTypesPaginator(c.EC2, &ec2.DescribeInstanceTypesInput{InstanceTypes: want[start:min(start+perCall, len(want))]})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instance types: %w", err)
			}
			for _, t := range page.InstanceTypes {
				out[string(t.InstanceType)] = t
			}
		}
	}
	return out, nil
}

func instanceIDs(nodes []Node) []string {
	ids := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if n.InstanceID != "" {
			ids = append(ids, n.InstanceID)
		}
	}
	return ids
}
