package ec2check

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// SourceDestInput says whether the provider needs source/destination checks off.
type SourceDestInput struct {
	Provider string
	Required bool
	Nodes    []Node
}

// SourceDest checks that EC2's source/destination check is off on every node when the provider
// sends or receives pod traffic unencapsulated (through VPC routes, or by an overlay that
// encapsulates only across subnets). With the check on, EC2 drops packets whose
// source or destination is a pod address rather than the instance's own.
func (c *Checker) SourceDest(ctx context.Context, in SourceDestInput) ([]Result, error) {
	if !in.Required {
		return []Result{{Check: CheckSourceDest, Status: Skip,
			Reason: fmt.Sprintf("%s encapsulates pod traffic between nodes (or uses VPC addresses for pods), so source/destination checks do not affect it", in.Provider)}}, nil
	}
	var out []Result
	for _, n := range in.Nodes {
		a, err := c.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{
			InstanceId: aws.String(n.InstanceID), Attribute: types.InstanceAttributeNameSourceDestCheck,
		})
		if isNotFound(err) {
			out = append(out, Result{Check: CheckSourceDest, Status: Fail, Location: n.where(),
				Reason: "the node's instance does not exist in EC2", Expected: "sourceDestCheck=false", Observed: "no instance"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read sourceDestCheck of %s: %w", n.InstanceID, err)
		}
		on := a.SourceDestCheck == nil || aws.ToBool(a.SourceDestCheck.Value)
		if on {
			out = append(out, Result{Check: CheckSourceDest, Status: Fail, Location: n.where(),
				Reason:   fmt.Sprintf("source/destination check is still on: EC2 drops %s's unencapsulated pod traffic to and from this node", in.Provider),
				Expected: "sourceDestCheck=false", Observed: "sourceDestCheck=true"})
			continue
		}
		out = append(out, Result{Check: CheckSourceDest, Status: Pass, Location: n.where(),
			Reason: "source/destination check is off", Expected: "sourceDestCheck=false", Observed: "sourceDestCheck=false"})
	}
	return out, nil
}
