package providers

// AWSNetworker is implemented by providers netconform can set up on AWS through kops. What the
// provider needs on AWS is written in its own package; framework/platform/aws reads it from the
// registry and adds the facts every provider shares (spec key, encapsulation, options).
type AWSNetworker interface {
	// AWSNetworking lists one entry per kops --networking value netconform sets up. The first is
	// the one the provider's own name and spec key stand for.
	AWSNetworking() []AWSSpec
}

// AWSSpec is what netconform does on AWS for one kops --networking value. Plain data, so that a
// provider package declares it without importing the framework.
type AWSSpec struct {
	// Name is the entry's name in plans and results (a kops value, or the longer form users know).
	Name string
	// KopsValue is the --networking value given to kops create cluster.
	KopsValue string
	// Spec is what netconform writes under spec.networking.<SpecKey> on AWS, on top of what kops
	// generated and under the user's own options. Each call returns a fresh map.
	Spec map[string]any
	// VPCRoutes: the mode relies on one VPC route per node pod CIDR in a single route table (so
	// the route table quota caps the nodes, and a private topology, with a table per zone, is
	// refused).
	VPCRoutes bool
	// SourceDestDisabled: pod traffic leaves nodes unencapsulated, at least in part, so EC2's
	// source/destination check must be off on every instance.
	SourceDestDisabled bool
	// ENIIPAM: pods take VPC addresses from the instances' interfaces (max pods per instance type).
	ENIIPAM bool
	// PrivateTopology is false for modes that cannot run with --topology private.
	PrivateTopology bool
	// GuideSwitchSafe: the kops networking guide calls a switch from this mode to a CNI provider
	// safe (change the spec and roll), and does not cover a switch back to it.
	GuideSwitchSafe bool
	// Notes are printed with the plan.
	Notes []string
}

// AWSAdjuster is implemented by providers whose AWS settings depend on the user's options or the
// cluster's size. AdjustAWS gets s with the user's options (given) already merged into s.Spec and
// returns it adjusted; a setting the user gave must win over one the provider adds.
type AWSAdjuster interface {
	AdjustAWS(s AWSSpec, given map[string]any, nodes int) AWSSpec
}

// JumboPodMTU is the pod MTU kops writes on AWS for providers that take it from the spec: 9001
// (EC2's jumbo frames) minus the largest overhead kops allows for (87 bytes), as the
// kops networking guide says ("kops sets the MTU to 8912 bytes (9001 minus overhead)").
const JumboPodMTU = 8912
