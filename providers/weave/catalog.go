// Package weave describes Weave Net as kops installed it: a mesh overlay with optional
// encryption and the weave-npc NetworkPolicy controller. kops refuses it from 1.28.
package weave

import (
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/providers"
)

// Provider is Weave Net.
type Provider struct{}

var _ providers.Provider = Provider{}

// New returns the Weave provider.
func New() Provider { return Provider{} }

// Descriptor returns Weave's facts.
func (Provider) Descriptor() providers.Descriptor {
	return providers.Descriptor{
		Name:       "weave",
		Title:      "Weave Net",
		KopsValues: []providers.KopsValue{{Value: "weave"}},
		SpecKey:    "weave",
		Summary:    "Mesh overlay (fast datapath or sleeve) with optional encryption; weave-npc enforces NetworkPolicy.",
		Options: []providers.Option{
			{
				Name:         "mtu",
				Type:         providers.TypeInt,
				Description:  "MTU of the weave bridge (WEAVE_MTU); must leave room for up to 87 bytes of overhead.",
				Default:      "unset (weave's own default: 1376 with its fast datapath)",
				DefaultOnAWS: "8912",
				Min:          providers.IntPtr(576),
				InSpec:       true,
			},
			{
				Name:        "connLimit",
				Type:        providers.TypeInt,
				Description: "Most connections to other peers (CONN_LIMIT, weave's --conn-limit).",
				Default:     "unset (weave's 200)",
				Min:         providers.IntPtr(0),
				InSpec:      true,
			},
			{
				Name:        "noMasqLocal",
				Type:        providers.TypeInt,
				Description: "NO_MASQ_LOCAL: 0 turns weave's --no-masq-local off, so traffic from outside to pods on the same node is masqueraded; unset or another value keeps the client's source address.",
				Default:     "unset (weave keeps the source address)",
				InSpec:      true,
			},
			{
				Name:        "netExtraArgs",
				Type:        providers.TypeString,
				Description: "Extra weave command-line arguments (its EXTRA_ARGS); wrong flags can break cluster networking.",
				Default:     "empty",
				InSpec:      true,
			},
			{
				Name:        "npcExtraArgs",
				Type:        providers.TypeString,
				Description: "Extra weave-npc (policy controller) arguments (its EXTRA_ARGS).",
				Default:     "empty",
				InSpec:      true,
			},
			quantity("cpuRequest", "CPU request of the weave container", "50m"),
			quantity("memoryRequest", "memory request of the weave container", "200Mi"),
			quantity("cpuLimit", "CPU limit of the weave container", "none"),
			quantity("memoryLimit", "memory limit of the weave container", "200Mi"),
			quantity("npcCPURequest", "CPU request of the weave-npc container", "50m"),
			quantity("npcMemoryRequest", "memory request of the weave-npc container", "200Mi"),
			quantity("npcCPULimit", "CPU limit of the weave-npc container", "none"),
			quantity("npcMemoryLimit", "memory limit of the weave-npc container", "200Mi"),
			{
				Name:        "version",
				Type:        providers.TypeString,
				Description: "Tag of the weaveworks/weave-kube and weaveworks/weave-npc images.",
				Default:     Version + " (the last kops shipped)",
				InSpec:      true,
			},
			{
				Name:        "password",
				Type:        providers.TypeString,
				Description: "Network encryption password; weaveworks recommends at least 50 bits of entropy. Nodes with and without encryption cannot talk, so changing it means downtime. kops puts it into the Secret kube-system/weave-net (key network-password), which WEAVE_PASSWORD reads.",
				Default:     "generated at random by kops",
				// Shorter values are refused before anything runs: the redactor that keeps secrets
				// out of every output ignores strings under 6 characters (redact.New), so such a
				// password would reach the result and logs.
				MinLen: 6,
				Secret: true,
				InSpec: false,
				Source: "kops create secret weavepassword -f FILE",
			},
		},
		Platforms: providers.Platforms{AnyCloud: true},
		Lifecycle: providers.Lifecycle{
			Status:                    providers.StatusRemoved,
			IntroducedInKops:          providers.V(1, 5),
			DeprecatedInKops:          providers.V(1, 23),
			RemovedInKops:             providers.V(1, 28),
			UnsupportedFromKubernetes: providers.V(1, 23),
			Note:                      "Deprecated in kops 1.23, not supported from Kubernetes 1.23, refused from kops 1.28.",
		},
		Requirements: providers.Requirements{
			Kernel: []providers.KernelRequirement{
				{Feature: providers.KernelOpenVSwitch, When: providers.When("fast datapath is used")},
				{Feature: providers.KernelVXLAN, When: providers.When("fast datapath is used")},
			},
			Ports: []providers.Port{
				{Protocol: "tcp", Port: 6783, Between: "all nodes", Purpose: "weave control", When: providers.Always},
				{Protocol: "udp", Port: 6783, EndPort: 6784, Between: "all nodes", Purpose: "weave data (sleeve and fast datapath)", When: providers.Always},
			},
		},
		Encapsulation:         encapsulation("sleeve mode's worst case, the figure kops uses"),
		EnforcesNetworkPolicy: true,
		Kind: providers.KindSupport{
			Status: providers.KindUpstreamImages,
			Reason: "netconform installs weave as kops rendered it (weave-kube with weave-npc) from its upstream images, where docker can pull them or already has them, " +
				"and loads them into the nodes; this installer never ran here (no registry is reachable from this project's machines): only its manifests are tested, against golden files",
			Images:     []string{KubeImage(Version), NPCImage(Version)},
			NotBuilt:   "its sources (github.com/weaveworks/weave) are not served by the Go module proxy this project can reach, so netconform builds no image of its own",
			IPFamilies: []ipfamily.Family{ipfamily.IPv4},
			IPv6Gap:    "weave allocates IPv4 addresses only (kops refused weave on IPv6 clusters: \"Weave does not support IPv6\")",
		},
		Notes: []string{
			"kops sets mtu 8912 on AWS at cluster creation (9001 minus 87, rounded down to a multiple of 4).",
			"kops refused weave on Kubernetes 1.23 and later (\"Weave is not supported for Kubernetes >= 1.23\", kubernetes/kops#12941); a kops maintainer gave the reason there: " +
				"weave stopped working as of Kubernetes 1.23 (nodes cannot reach each other) and upstream seemed dead. netconform's kind installer does not refuse a newer Kubernetes " +
				"(kind runs v1.34 here), so expect checks across nodes to fail there; whether they do was never observed here.",
		},
	}
}

// quantity is one of kops' CPU and memory settings for weave's containers (a Kubernetes
// quantity, such as 100m or 256Mi).
func quantity(name, what, def string) providers.Option {
	return providers.Option{Name: name, Type: providers.TypeString, Description: "The " + what + " (a Kubernetes quantity).", Default: def, InSpec: true}
}
