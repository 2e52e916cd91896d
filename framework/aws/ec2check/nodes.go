package ec2check

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
)

// NodesFromKube maps Kubernetes nodes to the cluster's EC2 instances, for the checks.
//
// A node whose spec.providerID is an AWS one (aws:///zone/i-...) names its instance. A kubelet
// that runs without the AWS cloud provider (an out-of-tree or no cloud provider, or a stand-in
// cluster) leaves a providerID of another kind or none; such a node is matched by its
// InternalIP against the private addresses of the cluster's running instances (tagged
// kubernetes.io/cluster/<clusterName>, or KubernetesCluster=<clusterName> as older kops
// tags them), which is unambiguous because a VPC hands an address to one interface at a time.
// A node that can be matched neither way is an error that names it: the checks must not run on
// a partial set of nodes and report a passing cluster.
func NodesFromKube(ctx context.Context, api ec2.DescribeInstancesAPIClient, clusterName string, nodes []corev1.Node) ([]Node, error) {
	out := make([]Node, len(nodes))
	// Nodes left to match by address: index into out, with the reason the providerID did not do.
	type pending struct {
		i   int
		ips []string
		why string
	}
	var byIP []pending
	for i, item := range nodes {
		out[i] = Node{Name: item.Name, PodCIDR: item.Spec.PodCIDR}
		if q, ok := item.Status.Capacity[corev1.ResourcePods]; ok {
			out[i].MaxPods = int(q.Value())
		}
		id, err := InstanceIDFromProviderID(item.Spec.ProviderID)
		if err == nil {
			out[i].InstanceID = id
			continue
		}
		why := err.Error()
		if item.Spec.ProviderID == "" {
			why = "no spec.providerID"
		}
		byIP = append(byIP, pending{i: i, ips: internalIPv4s(item), why: why})
	}
	if len(byIP) == 0 {
		return out, nil
	}
	var want []string
	for _, p := range byIP {
		want = append(want, p.ips...)
	}
	instances := map[string][]string{} // private address -> instance ids
	if len(want) > 0 {
		var err error
		if instances, err = instancesByPrivateIP(ctx, api, clusterName, want); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, p := range byIP {
		n := &out[p.i]
		if len(p.ips) == 0 {
			errs = append(errs, fmt.Errorf("node %s: %s, and no IPv4 InternalIP to find its instance by", n.Name, p.why))
			continue
		}
		var ids []string
		for _, ip := range p.ips {
			for _, id := range instances[ip] {
				if !slices.Contains(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		switch len(ids) {
		case 1:
			n.InstanceID = ids[0]
		case 0:
			errs = append(errs, fmt.Errorf("node %s: %s, and no running instance of cluster %s has its InternalIP %s",
				n.Name, p.why, clusterName, strings.Join(p.ips, ", ")))
		default:
			errs = append(errs, fmt.Errorf("node %s: %s, and its InternalIP %s belongs to several running instances of cluster %s (%s)",
				n.Name, p.why, strings.Join(p.ips, ", "), clusterName, strings.Join(ids, ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("match nodes to EC2 instances: %w", errors.Join(errs...))
	}
	return out, nil
}

// internalIPv4s are a node's IPv4 InternalIP addresses (EC2's private-ip-address is IPv4; a
// dual-stack node lists an IPv6 one too).
func internalIPv4s(n corev1.Node) []string {
	var out []string
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
			out = append(out, ip.String())
		}
	}
	return out
}

// instancesByPrivateIP finds the cluster's live instances holding any of ips, by the current
// cluster tag, else the legacy one (as clusterRouteTables does).
func instancesByPrivateIP(ctx context.Context, api ec2.DescribeInstancesAPIClient, cluster string, ips []string) (map[string][]string, error) {
	live := types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}
	addr := types.Filter{Name: aws.String("private-ip-address"), Values: ips}
	for _, tag := range []types.Filter{
		{Name: aws.String("tag-key"), Values: []string{"kubernetes.io/cluster/" + cluster}},
		{Name: aws.String("tag:KubernetesCluster"), Values: []string{cluster}},
	} {
		found := map[string][]string{}
		p := ec2.NewDescribeInstancesPaginator(api, &ec2.DescribeInstancesInput{Filters: []types.Filter{tag, live, addr}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances of cluster %s by private address: %w", cluster, err)
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					ip := aws.ToString(in.PrivateIpAddress)
					found[ip] = append(found[ip], aws.ToString(in.InstanceId))
				}
			}
		}
		if len(found) > 0 {
			return found, nil
		}
	}
	return map[string][]string{}, nil
}
