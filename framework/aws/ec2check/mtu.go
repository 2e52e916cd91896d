package ec2check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// Link MTUs inside a VPC (AWS documentation, "Network maximum transmission unit (MTU) for your
// EC2 instance"): every current-generation instance type supports 9001-byte jumbo frames, as do
// a few previous-generation families; the rest use 1500. Traffic leaving the VPC through an
// internet gateway or a VPN is limited to 1500 whatever the type; these checks cover node to
// node traffic inside the VPC only.
const (
	JumboMTU    = 9001
	StandardMTU = 1500
)

// previousGenerationJumbo says whether a previous-generation family supports jumbo frames.
func previousGenerationJumbo(family string) bool {
	switch family {
	case "c3", "g2", "i2", "m3", "r3":
		return true
	}
	return false
}

// ExpectedLinkMTU is the MTU an interface of this instance type has inside a VPC. EC2's API does
// not report interface MTUs; this derives the expectation from the type's generation, which it
// does report.
func ExpectedLinkMTU(t types.InstanceTypeInfo) int {
	family, _, _ := strings.Cut(string(t.InstanceType), ".")
	if aws.ToBool(t.CurrentGeneration) || previousGenerationJumbo(family) {
		return JumboMTU
	}
	return StandardMTU
}

// MTUInput gives the provider's MTU settings and where node links come from.
type MTUInput struct {
	Provider string
	PodMTU   int
	Overhead int
	Nodes    []Node
	Links    LinkSource
}

// MTU checks every interface of every node: that the MTU the node reports equals what the
// instance type has inside a VPC (9001 for current types), and that the provider's pod MTU plus
// its encapsulation overhead fits in it.
//
// How the MTU is known: EC2's API does not expose interface MTUs at all. The interfaces (their
// MAC and private addresses) come from DescribeNetworkInterfaces, the expected MTU from
// DescribeInstanceTypes (see ExpectedLinkMTU), and the observed MTU from the node itself through
// in.Links, matched by MAC address or, failing that, by private address.
func (c *Checker) MTU(ctx context.Context, in MTUInput) ([]Result, error) {
	if in.Links == nil {
		return []Result{{Check: CheckENIMTU, Status: Skip,
			Reason: "no node link source: EC2's API does not report interface MTUs, so they must come from the nodes"}}, nil
	}
	instances, err := c.runningInstances(ctx, instanceIDs(in.Nodes))
	if err != nil {
		return nil, err
	}
	var typeNames []string
	for _, inst := range instances {
		typeNames = append(typeNames, string(inst.InstanceType))
	}
	typeInfo, err := c.instanceTypes(ctx, typeNames)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, n := range in.Nodes {
		inst, alive := instances[n.InstanceID]
		if !alive {
			out = append(out, Result{Check: CheckENIMTU, Status: Fail, Location: n.where(),
				Reason: "the node's instance is not running in EC2", Observed: "no running instance"})
			continue
		}
		expected := ExpectedLinkMTU(typeInfo[string(inst.InstanceType)])
		enis, err := c.nodeInterfaces(ctx, n.InstanceID)
		if err != nil {
			return nil, err
		}
		links, err := in.Links.NodeLinks(ctx, n.InstanceID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			out = append(out, Result{Check: CheckENIMTU, Status: Fail, Location: n.where(),
				Reason: "the node did not report its links: " + err.Error()})
			continue
		}
		for _, e := range enis {
			out = append(out, interfaceResults(in, n, e, links, expected, string(inst.InstanceType))...)
		}
	}
	return out, nil
}

func (c *Checker) nodeInterfaces(ctx context.Context, instanceID string) ([]types.NetworkInterface, error) {
	var out []types.NetworkInterface
	p := ec2.NewDescribeNetworkInterfacesPaginator(c.EC2, &ec2.DescribeNetworkInterfacesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{instanceID}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe network interfaces of %s: %w", instanceID, err)
		}
		out = append(out, page.NetworkInterfaces...)
	}
	return out, nil
}

// findLink matches an interface to the node's link by MAC, or by one of its private addresses.
func findLink(e types.NetworkInterface, links []Link) (Link, bool) {
	mac := strings.ToLower(aws.ToString(e.MacAddress))
	for _, l := range links {
		if mac != "" && strings.ToLower(l.MAC) == mac {
			return l, true
		}
	}
	ips := map[string]bool{aws.ToString(e.PrivateIpAddress): true}
	for _, a := range e.PrivateIpAddresses {
		ips[aws.ToString(a.PrivateIpAddress)] = true
	}
	for _, l := range links {
		for _, a := range l.Addrs {
			addr := a
			if p, err := netip.ParsePrefix(a); err == nil {
				addr = p.Addr().String()
			}
			if ips[addr] {
				return l, true
			}
		}
	}
	return Link{}, false
}

func interfaceResults(in MTUInput, n Node, e types.NetworkInterface, links []Link, expected int, typ string) []Result {
	eniID := aws.ToString(e.NetworkInterfaceId)
	loc := fmt.Sprintf("%s %s", n.where(), eniID)
	l, found := findLink(e, links)
	if !found {
		return []Result{{Check: CheckENIMTU, Status: Fail, Location: loc,
			Reason:   fmt.Sprintf("the node reports no link with the interface's MAC %s or address %s", aws.ToString(e.MacAddress), aws.ToString(e.PrivateIpAddress)),
			Expected: fmt.Sprint(expected), Observed: "no link"}}
	}
	loc += " " + l.Name
	var out []Result
	switch {
	case l.MTU == expected:
		out = append(out, Result{Check: CheckENIMTU, Status: Pass, Location: loc,
			Reason: fmt.Sprintf("%s has the MTU a %s interface has inside a VPC", l.Name, typ), Expected: fmt.Sprint(expected), Observed: fmt.Sprint(l.MTU)})
	case l.MTU < expected:
		out = append(out, Result{Check: CheckENIMTU, Status: Fail, Location: loc,
			Reason:   fmt.Sprintf("%s's MTU is below what a %s interface carries inside a VPC: the node is not using jumbo frames", l.Name, typ),
			Expected: fmt.Sprint(expected), Observed: fmt.Sprint(l.MTU)})
	default:
		out = append(out, Result{Check: CheckENIMTU, Status: Fail, Location: loc,
			Reason:   fmt.Sprintf("%s's MTU is above what the VPC carries for %s: larger frames are dropped", l.Name, typ),
			Expected: fmt.Sprint(expected), Observed: fmt.Sprint(l.MTU)})
	}
	if in.PodMTU == 0 {
		out = append(out, Result{Check: CheckPodMTU, Status: Skip, Location: loc,
			Reason: fmt.Sprintf("%s derives its pod MTU from the link (%d - %d bytes of overhead = %d)", in.Provider, l.MTU, in.Overhead, l.MTU-in.Overhead)})
		return out
	}
	need := in.PodMTU + in.Overhead
	want := fmt.Sprintf("link MTU >= %d (pod MTU %d + %d bytes of %s overhead)", need, in.PodMTU, in.Overhead, in.Provider)
	if l.MTU < need {
		out = append(out, Result{Check: CheckPodMTU, Status: Fail, Location: loc,
			Reason:   fmt.Sprintf("%s's pod MTU %d plus %d bytes of overhead does not fit the link's %d: full-size pod packets are dropped or fragmented", in.Provider, in.PodMTU, in.Overhead, l.MTU),
			Expected: want, Observed: fmt.Sprint(l.MTU)})
		return out
	}
	return append(out, Result{Check: CheckPodMTU, Status: Pass, Location: loc,
		Reason: "the pod MTU with its overhead fits the link", Expected: want, Observed: fmt.Sprint(l.MTU)})
}

// isNotFound says whether an EC2 error is a "does not exist" answer.
func isNotFound(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.HasSuffix(ae.ErrorCode(), ".NotFound")
}
