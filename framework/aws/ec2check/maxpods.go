package ec2check

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// MaxPodsInput says whether pods take their addresses from the instances' interfaces.
type MaxPodsInput struct {
	Provider string
	ENIIPAM  bool
	Nodes    []Node
}

// ENIPodCapacity is how many pods an instance type can address under the Amazon VPC CNI: each
// interface keeps its primary address for itself, and two host-network pods (kube-proxy and the
// CNI's own) need none. ENIs x (IPv4 addresses per ENI - 1) + 2.
func ENIPodCapacity(t types.InstanceTypeInfo) (capacity, enis, perENI int) {
	if t.NetworkInfo == nil {
		return 0, 0, 0
	}
	enis = int(aws.ToInt32(t.NetworkInfo.MaximumNetworkInterfaces))
	perENI = int(aws.ToInt32(t.NetworkInfo.Ipv4AddressesPerInterface))
	return enis*(perENI-1) + 2, enis, perENI
}

// MaxPods checks, for a mode whose pods take interface addresses (ENIIPAM), that kubelet's maxPods on every node does not
// exceed the pods its instance type can address. Pods beyond that are scheduled, then stay in
// ContainerCreating because the CNI has no address to give them.
func (c *Checker) MaxPods(ctx context.Context, in MaxPodsInput) ([]Result, error) {
	if !in.ENIIPAM {
		return []Result{{Check: CheckMaxPods, Status: Skip,
			Reason: fmt.Sprintf("%s does not take pod addresses from the instances' interfaces", in.Provider)}}, nil
	}
	instances, err := c.runningInstances(ctx, instanceIDs(in.Nodes))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, inst := range instances {
		names = append(names, string(inst.InstanceType))
	}
	info, err := c.instanceTypes(ctx, names)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, n := range in.Nodes {
		inst, alive := instances[n.InstanceID]
		if !alive {
			out = append(out, Result{Check: CheckMaxPods, Status: Fail, Location: n.where(),
				Reason: "the node's instance is not running in EC2", Observed: "no running instance"})
			continue
		}
		typ := string(inst.InstanceType)
		t, known := info[typ]
		if !known {
			out = append(out, Result{Check: CheckMaxPods, Status: Fail, Location: n.where(),
				Reason: "EC2 does not describe instance type " + typ})
			continue
		}
		capacity, enis, perENI := ENIPodCapacity(t)
		want := fmt.Sprintf("maxPods <= %d (%s: %d ENIs x (%d IPv4 per ENI - 1) + 2)", capacity, typ, enis, perENI)
		loc := fmt.Sprintf("%s %s", n.where(), typ)
		switch {
		case n.MaxPods <= 0:
			out = append(out, Result{Check: CheckMaxPods, Status: Skip, Location: loc,
				Reason: "kubelet's maxPods for the node is not known", Expected: want})
		case n.MaxPods > capacity:
			out = append(out, Result{Check: CheckMaxPods, Status: Fail, Location: loc,
				Reason:   fmt.Sprintf("kubelet admits %d pods but the instance can address only %d: the rest stay ContainerCreating without an IP", n.MaxPods, capacity),
				Expected: want, Observed: fmt.Sprintf("maxPods %d", n.MaxPods)})
		default:
			out = append(out, Result{Check: CheckMaxPods, Status: Pass, Location: loc,
				Reason: "every pod kubelet admits can get an address", Expected: want, Observed: fmt.Sprintf("maxPods %d", n.MaxPods)})
		}
	}
	return out, nil
}
