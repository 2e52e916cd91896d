package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/aws/awsclient"
	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform/aws"
	"github.com/netconform/netconform/framework/results"
)

// EC2Checks asks EC2 whether it carries the cluster's networking: route tables against their
// quota, source/destination checks, interface MTUs, pods per node (framework/aws/ec2check).
// Each check becomes one check of the run, with one observation per place it looked at.
type EC2Checks struct {
	ClusterName string
	Networking  aws.Networking
	AWS         awsclient.Config
	// MinHeadroom fails the route quota check when fewer nodes than this can still join.
	MinHeadroom int
	// Timeout bounds all the checks together.
	Timeout time.Duration
}

func (s *EC2Checks) Name() string { return "EC2 checks" }

// Run runs the checks; the probe agents (env.Fleet), when a scenario deployed them, give the
// nodes' interface MTUs. Not reaching EC2 is an error: nothing was measured.
func (s *EC2Checks) Run(ctx context.Context, env *Env) error {
	var rs []ec2check.Result
	started := time.Now()
	err := env.Recorder.Phase("EC2 checks", func() error {
		ctx, cancel := context.WithTimeout(ctx, s.Timeout)
		defer cancel()
		var err error
		rs, err = AWSChecks(ctx, env.Client, env.Fleet, s.ClusterName, s.Networking, s.AWS, s.MinHeadroom)
		return err
	})
	if err != nil {
		return err
	}
	for _, ch := range EC2Results(rs, started) {
		if err := env.Recorder.AddCheck(ch); err != nil {
			return err
		}
	}
	return nil
}

// EC2Results turns the EC2 checks' findings into checks of the run, one per check name in the
// order found, each observation a place it looked at. A check with a failure fails; one whose
// findings are all skips skips with their reasons.
func EC2Results(rs []ec2check.Result, started time.Time) []results.Check {
	var order []string
	byName := map[string][]ec2check.Result{}
	for _, r := range rs {
		if _, ok := byName[r.Check]; !ok {
			order = append(order, r.Check)
		}
		byName[r.Check] = append(byName[r.Check], r)
	}
	var out []results.Check
	for _, name := range order {
		ch := results.Check{ID: name, Suite: "aws", Name: name, Labels: []string{"aws", "ec2"}, Started: started,
			DurationMS: time.Since(started).Milliseconds(), Attempts: 1, Status: results.Passed}
		var skips, fails []string
		for _, r := range byName[name] {
			switch r.Status {
			case ec2check.Skip:
				skips = append(skips, r.Reason)
				continue
			case ec2check.Fail:
				fails = append(fails, r.String())
			}
			observed := r.Observed
			if observed == "" {
				observed = r.Reason
			}
			ch.Observations = append(ch.Observations, results.Observation{
				From: r.Location, Expected: r.Expected, Observed: observed, OK: r.Status == ec2check.Pass, Detail: r.Reason,
			})
		}
		switch {
		case len(fails) > 0:
			ch.Status, ch.Reason = results.Failed, strings.Join(fails, "; ")
		case len(ch.Observations) == 0:
			ch.Status, ch.Reason = results.Skipped, strings.Join(slices.Compact(skips), "; ")
		}
		out = append(out, ch)
	}
	return out
}

// AWSChecks runs the EC2 checks for a kops cluster on AWS once its nodes are up (fleet, the
// probe agents, may be nil: the interface MTU checks then skip).
func AWSChecks(ctx context.Context, c *kube.Client, fleet *agents.Fleet, clusterName string, n aws.Networking, ac awsclient.Config, minHeadroom int) ([]ec2check.Result, error) {
	list, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	clients, err := awsclient.New(ctx, ac)
	if err != nil {
		return nil, err
	}
	// By providerID where the kubelets run with the AWS cloud provider (kops), else by the
	// nodes' private addresses among the cluster's instances.
	nodes, err := ec2check.NodesFromKube(ctx, clients.EC2, clusterName, list.Items)
	if err != nil {
		return nil, err
	}
	checker := &ec2check.Checker{EC2: clients.EC2, Quotas: clients.Quotas}
	in := ec2check.Input{ClusterName: clusterName, Nodes: nodes, MinHeadroomNodes: minHeadroom}
	if fleet != nil {
		in.Links = fleetLinks(fleet, nodes)
	}
	return checker.Run(ctx, n.Requirements(), in)
}

// fleetLinks reads node links from the host probe agents (their /info lists the host's links
// with MTUs and addresses; the checks match interfaces by private address).
func fleetLinks(f *agents.Fleet, nodes []ec2check.Node) ec2check.LinkSource {
	byInstance := map[string]string{}
	for _, n := range nodes {
		byInstance[n.InstanceID] = n.Name
	}
	return ec2check.LinkSourceFunc(func(ctx context.Context, instanceID string) ([]ec2check.Link, error) {
		node, ok := byInstance[instanceID]
		if !ok {
			return nil, fmt.Errorf("instance %s is no node of the cluster", instanceID)
		}
		a, ok := f.Agent(agents.Host, node)
		if !ok {
			return nil, fmt.Errorf("no host probe agent on %s", node)
		}
		info, err := f.Info(ctx, a)
		if err != nil {
			return nil, err
		}
		var out []ec2check.Link
		for _, l := range info.Links {
			out = append(out, ec2check.Link{Name: l.Name, Addrs: l.Addrs, MTU: l.MTU})
		}
		return out, nil
	})
}
