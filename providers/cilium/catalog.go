// Package cilium describes Cilium as kops installs it: BPF datapath, VXLAN tunnel by default,
// optional ENI IPAM on AWS, an optional dedicated etcd, and an optional kube-proxy replacement.
package cilium

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is Cilium.
type Provider struct{}

var (
	_ providers.Provider     = Provider{}
	_ providers.Encapsulator = Provider{}
)

// New returns the Cilium provider.
func New() Provider { return Provider{} }

// IPAM modes.
const (
	IPAMKubernetes = "kubernetes"
	IPAMENI        = "eni"
)

// EtcdClusterName is the etcd cluster etcdManaged needs in spec.etcdClusters.
const EtcdClusterName = "cilium"

// NodePortMinKernel is the oldest kernel BPF NodePort works on.
const NodePortMinKernel = "4.19.57"

func eniActions() []string {
	return []string{
		"ec2:CreateNetworkInterface",
		"ec2:AttachNetworkInterface",
		"ec2:DeleteNetworkInterface",
		"ec2:DescribeNetworkInterfaces",
		"ec2:ModifyNetworkInterfaceAttribute",
		"ec2:AssignPrivateIpAddresses",
		"ec2:UnassignPrivateIpAddresses",
		"ec2:DescribeInstances",
		"ec2:DescribeInstanceTypes",
		"ec2:DescribeSubnets",
		"ec2:DescribeVpcs",
		"ec2:DescribeSecurityGroups",
		"ec2:CreateTags",
	}
}

// Descriptor returns Cilium's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:  "cilium",
		Title: "Cilium",
		KopsValues: []providers.KopsValue{
			{Value: "cilium"},
			{Value: "cilium-etcd", Presets: map[string]string{"etcdManaged": "true"}},
			{Value: "cilium-eni", Presets: map[string]string{"ipam": IPAMENI}},
		},
		SpecKey: "cilium",
		Summary: "BPF datapath with NetworkPolicy enforcement; VXLAN tunnel by default, native VPC routing with ENI IPAM.",
		Options: []providers.Option{
			{
				Name:        "ipam",
				Type:        providers.TypeString,
				Description: "Pod address management: kubernetes (node podCIDRs) or eni (AWS-managed addresses on ENIs, needs disableMasquerade).",
				Default:     IPAMKubernetes,
				Enum:        []string{IPAMKubernetes, IPAMENI},
				InSpec:      true,
			},
			{
				Name:        "enableNodePort",
				Type:        providers.TypeBool,
				Description: "BPF NodePort: Cilium replaces kube-proxy, which must be disabled; needs Linux " + NodePortMinKernel + " or later.",
				Default:     "false",
				SinceKops:   providers.V(1, 18),
				InSpec:      true,
			},
			{
				Name:        "etcdManaged",
				Type:        providers.TypeBool,
				Description: "Keep agent state in a kops-managed etcd cluster named cilium instead of CRDs.",
				Default:     "false",
				SinceKops:   providers.V(1, 18),
				InSpec:      true,
			},
			{
				Name:        "disableMasquerade",
				Type:        providers.TypeBool,
				Description: "Do not masquerade pod traffic leaving the node; required with ipam: eni.",
				Default:     "false",
				InSpec:      true,
			},
		},
		KindOptions: []providers.Option{
			{
				Name:        "tunnel",
				Type:        providers.TypeString,
				Description: "Tunnel between nodes on kind: only vxlan is installed here (geneve and native routing are not).",
				Default:     "vxlan",
				Enum:        []string{"vxlan"},
				InSpec:      true,
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:           providers.StatusSupported,
			IntroducedInKops: providers.V(1, 9),
			IsDefault:        true,
			DefaultFromKops:  providers.V(1, 26),
			Note:             "Stable since kops 1.15 (ENI IPAM: experimental 1.18, stable 1.26); kops' default provider from 1.26.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelBPF, When: providers.Always},
				{Feature: providers.KernelBPF, MinKernel: NodePortMinKernel, When: providers.When("enableNodePort: true")},
				{Feature: providers.KernelVXLAN, When: providers.When("tunnel mode (the default; not with ipam: eni)")},
			},
			ReplacesKubeProxy: providers.When("enableNodePort: true"),
			Ports: []providers.Port{
				{Protocol: "udp", Port: 8472, Between: "all nodes", Purpose: "VXLAN tunnel", When: providers.When("tunnel mode (the default; not with ipam: eni)")},
				{Protocol: "tcp", Port: 4240, Between: "all nodes", Purpose: "cilium-health", When: providers.Always},
			},
			IAM: []providers.IAMGrant{{
				Role:     "control plane",
				Actions:  eniActions(),
				Resource: "*",
				When:     providers.When("ipam: eni (the cilium operator runs on the control plane)"),
			}},
			EtcdCluster: &providers.EtcdNeed{Name: EtcdClusterName, When: providers.When("etcdManaged: true")},
		},
		Encapsulation: providers.VXLAN("tunnel mode, the default"),
		// Lint and AWS plans suggest it where a routed mode cannot serve.
		Suggested:             true,
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status:     providers.KindSupported,
			Reason:     "Cilium v1.15.19 (VXLAN tunnel, kubernetes IPAM, kube-proxy kept) from locally built images: its agent patched to start without /proc/modules (CONFIG_MODULES=n) and given CAP_BPF and CAP_PERFMON for Debian's bpftool; eni and etcd modes are not installed",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "Cilium's IPv6 needs enable-ipv6 in its agent config, and enable-ipv4 false on an IPv6 cluster, which netconform's installer does not set",
		},
		Notes: []string{
			"ipam: eni is AWS only and needs disableMasquerade: true; ENI IPAM was only tested on kops' default images.",
			"etcdManaged needs an etcd cluster named cilium in spec.etcdClusters with the same instance groups as the others.",
		},
	}
}

// Encapsulation returns no encapsulation for ipam: eni (native VPC routing) and VXLAN
// otherwise.
func (p Provider) Encapsulation(opts map[string]any) providers.Encapsulation {
	if ipam, _ := opts["ipam"].(string); ipam == IPAMENI {
		return providers.None("ipam: eni: pods use VPC addresses")
	}
	return p.Descriptor().Encapsulation
}
