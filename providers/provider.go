// Package providers is the typed catalog model for Kubernetes networking modes and CNI providers
// as kops knows them: names, options, clouds, lifecycle, requirements and encapsulation. Each
// mode lives in its own sub-package (providers/<name>) and declares its
// facts in catalog.go; providers/catalog lists them all.
package providers

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/netconform/netconform/framework/ipfamily"
)

// Provider is one networking mode or CNI provider.
type Provider interface {
	// Descriptor returns the provider's facts. Every call returns a fresh value that the caller
	// may keep or modify.
	Descriptor() Descriptor
}

// Encapsulator is implemented by providers whose encapsulation depends on their options
// (a backend or encapsulation mode option). opts are the provider's
// options as written under spec.networking.<key>; nil means the defaults.
type Encapsulator interface {
	Encapsulation(opts map[string]any) Encapsulation
}

// EncapsulationOf returns p's encapsulation for opts: Encapsulator's answer when p implements
// it, else the descriptor's default.
func EncapsulationOf(p Provider, opts map[string]any) Encapsulation {
	if e, ok := p.(Encapsulator); ok {
		return e.Encapsulation(opts)
	}
	return p.Descriptor().Encapsulation
}

// Descriptor holds everything netconform knows about a provider.
type Descriptor struct {
	// Name is netconform's name for the provider; it equals SpecKey.
	Name string `json:"name"`
	// Title is the provider's name as people write it, capitals and spaces included.
	Title string `json:"title"`
	// KopsValues are the values kops' --networking flag accepts for this provider.
	KopsValues []KopsValue `json:"kopsValues"`
	// SpecKey is the key under spec.networking in a kops Cluster.
	SpecKey string `json:"specKey"`
	// Summary is one line on what the provider does.
	Summary string `json:"summary"`
	// Options are the settings under spec.networking.<SpecKey> (and secrets kops keeps beside
	// the spec) that netconform knows about. kops accepts more, so lint does not flag unknown keys
	// in a spec; on the command line (ParseOptions) an unknown key is refused as a likely typo.
	Options []Option `json:"options,omitempty"`
	// KindOptions are settings netconform's own installer reads on kind beyond kops' (a backend
	// kops does not offer, a controller to switch off); one of the same name as an Option
	// replaces it there. See Schema.
	KindOptions []Option  `json:"kindOptions,omitempty"`
	Platforms   Platforms `json:"platforms"`
	Lifecycle   Lifecycle `json:"lifecycle"`
	// Requirements are what nodes, clouds and the rest of the cluster must provide.
	Requirements Requirements `json:"requirements"`
	// Encapsulation is the encapsulation with default options; see Encapsulator.
	Encapsulation Encapsulation `json:"encapsulation"`
	// EnforcesNetworkPolicy tells whether NetworkPolicy objects take effect with this provider
	// as kops installs it.
	EnforcesNetworkPolicy bool        `json:"enforcesNetworkPolicy"`
	Kind                  KindSupport `json:"kind"`
	// Implied marks the mode kops assumes when spec.networking selects none (lint checks such a
	// spec as this mode; a switch from it accepts an empty spec.networking).
	Implied bool `json:"implied,omitempty"`
	// Suggested marks a provider lint and plans name as the way out when a mode cannot serve
	// ("use a CNI provider such as ..."); see Suggested.
	Suggested bool `json:"suggested,omitempty"`
	// Notes are short facts worth a user's attention.
	Notes []string `json:"notes,omitempty"`
}

// KopsValue is one value of kops' --networking flag.
type KopsValue struct {
	Value string `json:"value"`
	// Presets are the options the value sets (a value naming a backend sets backend=...).
	Presets map[string]string `json:"presets,omitempty"`
}

// OptionType is the YAML type of an option's value.
type OptionType string

// Option types.
const (
	TypeBool      OptionType = "bool"
	TypeInt       OptionType = "int"
	TypeString    OptionType = "string"
	TypeStringMap OptionType = "map[string]string"
	// TypeEnvList is a list of {name, value} pairs, as Kubernetes writes environment variables.
	TypeEnvList OptionType = "[]{name,value}"
)

// Option is one provider setting.
type Option struct {
	// Name is the key under spec.networking.<SpecKey>, or the secret's name when InSpec is false.
	Name        string     `json:"name"`
	Type        OptionType `json:"type"`
	Description string     `json:"description"`
	// Default is the value kops uses when the option is absent, in words ("unset" when kops
	// leaves the choice to the provider).
	Default string `json:"default"`
	// DefaultOnAWS, when set, is what kops writes into the spec on AWS at cluster creation.
	DefaultOnAWS string `json:"defaultOnAWS,omitempty"`
	// Enum lists the accepted values of a string option; empty accepts any string.
	Enum []string `json:"enum,omitempty"`
	// Min and Max bound an int option when non-nil.
	Min *int `json:"min,omitempty"`
	Max *int `json:"max,omitempty"`
	// MinLen is the shortest value a string option takes, surrounding blanks not counted (0: any).
	MinLen int `json:"minLen,omitempty"`
	// OnlyOn lists the clouds the option has an effect on; empty means any.
	OnlyOn []Cloud `json:"onlyOn,omitempty"`
	// SinceKops is the first kops release that reads the option; zero when it always did.
	SinceKops Version `json:"sinceKops,omitzero"`
	// Secret marks a value that must never be printed (in findings, logs or reports).
	Secret bool `json:"secret,omitempty"`
	// InSpec is false for settings kops keeps outside the cluster spec (kops create secret).
	InSpec bool `json:"inSpec"`
	// Source says where a setting outside the spec lives.
	Source string `json:"source,omitempty"`
}

// IntPtr returns a pointer to v, for Option.Min and Option.Max.
func IntPtr(v int) *int { return &v }

// Validate checks value against the option's type and constraints. Messages never contain the
// value of a secret option.
func (o Option) Validate(value any) error {
	show := func(v any) string {
		if o.Secret {
			return "(secret value hidden)"
		}
		if s, ok := v.(string); ok {
			return strconv.Quote(s)
		}
		return fmt.Sprintf("%v", v)
	}
	switch o.Type {
	case TypeBool:
		if _, ok := value.(bool); !ok {
			return fmt.Errorf("option %s: want true or false, got %s", o.Name, show(value))
		}
	case TypeInt:
		n, ok := value.(int)
		if !ok {
			return fmt.Errorf("option %s: want an integer, got %s", o.Name, show(value))
		}
		if o.Min != nil && n < *o.Min {
			return fmt.Errorf("option %s: %s is below the minimum %d", o.Name, show(n), *o.Min)
		}
		if o.Max != nil && n > *o.Max {
			return fmt.Errorf("option %s: %s is above the maximum %d", o.Name, show(n), *o.Max)
		}
	case TypeString:
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("option %s: want a string, got %s", o.Name, show(value))
		}
		if len(o.Enum) > 0 && !slices.Contains(o.Enum, s) {
			return fmt.Errorf("option %s: %s is not one of %s", o.Name, show(s), strings.Join(o.Enum, ", "))
		}
		if n := len([]rune(strings.TrimSpace(s))); n < o.MinLen {
			return fmt.Errorf("option %s: %d characters, want at least %d", o.Name, n, o.MinLen)
		}
	case TypeStringMap:
		m, ok := value.(map[string]any)
		if !ok {
			return fmt.Errorf("option %s: want a mapping of strings", o.Name)
		}
		for k, v := range m {
			if _, ok := v.(string); !ok {
				return fmt.Errorf("option %s: key %q: want a string value, got %s", o.Name, k, show(v))
			}
		}
	case TypeEnvList:
		list, ok := value.([]any)
		if !ok {
			return fmt.Errorf("option %s: want a list of {name, value}", o.Name)
		}
		for i, item := range list {
			m, ok := item.(map[string]any)
			if !ok {
				return fmt.Errorf("option %s[%d]: want a mapping with name and value", o.Name, i)
			}
			if name, ok := m["name"].(string); !ok || name == "" {
				return fmt.Errorf("option %s[%d]: name must be a non-empty string", o.Name, i)
			}
			if v, ok := m["value"]; ok {
				if _, isString := v.(string); !isString {
					return fmt.Errorf("option %s[%d]: value must be a string (quote it), got %s", o.Name, i, show(v))
				}
			}
		}
	default:
		return fmt.Errorf("option %s: unknown option type %q in the catalog", o.Name, o.Type)
	}
	return nil
}

// OptionError is an option with an invalid value, or one found where it does not belong.
type OptionError struct {
	Option string
	Err    error
}

func (e *OptionError) Error() string { return e.Err.Error() }
func (e *OptionError) Unwrap() error { return e.Err }

// ValidateOptions checks the options d knows about in opts. Keys d does not list are ignored:
// kops accepts many more settings than netconform models. Settings kept outside the spec are
// reported when found in it. The result is ordered by option name.
func ValidateOptions(d Descriptor, opts map[string]any) []*OptionError {
	var errs []*OptionError
	// The same schema the command line's --provider-option is checked against (ParseOptions).
	for _, o := range sortedOptions(d.Schema(ForKops)) {
		v, ok := opts[o.Name]
		if !ok || v == nil {
			continue
		}
		if !o.InSpec {
			errs = append(errs, &OptionError{Option: o.Name, Err: fmt.Errorf("option %s does not belong in the cluster spec: use %s", o.Name, o.Source)})
			continue
		}
		if err := o.Validate(v); err != nil {
			errs = append(errs, &OptionError{Option: o.Name, Err: err})
		}
	}
	return errs
}

func sortedOptions(opts []Option) []Option {
	out := slices.Clone(opts)
	slices.SortFunc(out, func(a, b Option) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Option returns d's option called name.
func (d Descriptor) Option(name string) (Option, bool) {
	for _, o := range d.Options {
		if o.Name == name {
			return o, true
		}
	}
	return Option{}, false
}

// KopsValueNames returns the --networking values as plain strings.
func (d Descriptor) KopsValueNames() []string {
	out := make([]string, 0, len(d.KopsValues))
	for _, v := range d.KopsValues {
		out = append(out, v.Value)
	}
	return out
}

// Networking is the kops --networking value of the provider as named by given: the value itself
// when given is one of d's (matched as Presets matches it, so that its presets and the recorded
// value agree), else d's first value; "" when kops has no value for d. Results record it beside
// the name the user typed, which may be netconform's name or an alias ("kuberouter" is kops'
// "kube-router").
func (d Descriptor) Networking(given string) string {
	for _, v := range d.KopsValues {
		if strings.EqualFold(strings.TrimSpace(given), v.Value) {
			return v.Value
		}
	}
	if len(d.KopsValues) == 0 {
		return ""
	}
	return d.KopsValues[0].Value
}

// Cloud is a cloud kops can create clusters on, spelled as spec.cloudProvider spells it.
type Cloud string

// Clouds kops supports.
const (
	AWS          Cloud = "aws"
	GCE          Cloud = "gce"
	Azure        Cloud = "azure"
	OpenStack    Cloud = "openstack"
	DigitalOcean Cloud = "digitalocean"
	Hetzner      Cloud = "hetzner"
	Scaleway     Cloud = "scaleway"
)

// Platforms says where a provider can run.
type Platforms struct {
	// AnyCloud is true when the provider does not depend on one cloud's API.
	AnyCloud bool `json:"anyCloud"`
	// Clouds lists the only clouds it runs on when AnyCloud is false.
	Clouds []Cloud `json:"clouds,omitempty"`
}

// RunsOn reports whether the provider can run on cloud c.
func (p Platforms) RunsOn(c Cloud) bool {
	return p.AnyCloud || slices.Contains(p.Clouds, c)
}

func (p Platforms) String() string {
	if p.AnyCloud {
		return "any cloud"
	}
	names := make([]string, 0, len(p.Clouds))
	for _, c := range p.Clouds {
		names = append(names, strings.ToUpper(string(c))+" only")
	}
	return strings.Join(names, ", ")
}

// Cond says when something applies: never (""), always ("always"), or under the condition its
// text describes (an option setting such as "enableNodePort: true").
type Cond string

// Never and Always are the unconditional values of Cond.
const (
	Never  Cond = ""
	Always Cond = "always"
)

// When returns the Cond that applies under the described condition.
func When(condition string) Cond { return Cond("when " + condition) }

// Requirements are what a provider needs from nodes, the cloud and the rest of the cluster.
type Requirements struct {
	Kernel []KernelRequirement `json:"kernel,omitempty"`
	// ReplacesKubeProxy says when the provider takes over Service proxying, so kube-proxy must
	// not run (spec.kubeProxy.enabled: false).
	ReplacesKubeProxy Cond `json:"replacesKubeProxy,omitempty"`
	// Ports that must be open between nodes.
	Ports []Port `json:"ports,omitempty"`
	// IAM lists cloud permissions kops grants for the provider.
	IAM []IAMGrant `json:"iam,omitempty"`
	// SrcDstCheckDisabled says when EC2 source/destination checks must be off on instances.
	SrcDstCheckDisabled Cond `json:"srcDstCheckDisabled,omitempty"`
	// EtcdCluster names a dedicated etcd cluster the provider needs in spec.etcdClusters.
	EtcdCluster *EtcdNeed `json:"etcdCluster,omitempty"`
	// SingleRouteTable: the mode puts one route per node into a single cloud route table, so it
	// cannot run with a private topology (a table per zone) and the route quota caps the nodes
	// (lint rules NC001 and NC002).
	SingleRouteTable bool `json:"singleRouteTable,omitempty"`
}

// KernelFeature is a Linux kernel facility a provider uses.
type KernelFeature string

// Kernel features.
const (
	KernelIPIP        KernelFeature = "ipip"
	KernelIPVS        KernelFeature = "ipvs"
	KernelBPF         KernelFeature = "bpf"
	KernelVXLAN       KernelFeature = "vxlan"
	KernelTUN         KernelFeature = "tun"
	KernelIPVlan      KernelFeature = "ipvlan"
	KernelBridge      KernelFeature = "bridge"
	KernelOpenVSwitch KernelFeature = "openvswitch"
)

// KernelRequirement is one kernel feature, with a minimum kernel version when one is known.
type KernelRequirement struct {
	Feature   KernelFeature `json:"feature"`
	MinKernel string        `json:"minKernel,omitempty"`
	When      Cond          `json:"when"`
}

// Port is a port (or range) that must be reachable between nodes.
type Port struct {
	// Protocol is tcp, udp, or an IP protocol name (ipip) when Port is zero.
	Protocol string `json:"protocol"`
	Port     int    `json:"port,omitempty"`
	EndPort  int    `json:"endPort,omitempty"`
	// Between says which machines talk ("all nodes", "control plane and nodes").
	Between string `json:"between"`
	Purpose string `json:"purpose"`
	When    Cond   `json:"when"`
}

func (p Port) String() string {
	switch {
	case p.Port == 0:
		return p.Protocol
	case p.EndPort > p.Port:
		return fmt.Sprintf("%s/%d-%d", p.Protocol, p.Port, p.EndPort)
	default:
		return fmt.Sprintf("%s/%d", p.Protocol, p.Port)
	}
}

// IAMGrant is a set of cloud API actions given to some machines.
type IAMGrant struct {
	// Role is who gets it: "nodes", "control plane" or "all instances".
	Role     string   `json:"role"`
	Actions  []string `json:"actions"`
	Resource string   `json:"resource"`
	When     Cond     `json:"when"`
}

// EtcdNeed is a dedicated etcd cluster a provider needs.
type EtcdNeed struct {
	Name string `json:"name"`
	When Cond   `json:"when"`
}

// EncapKind names how pod packets cross the underlay.
type EncapKind string

// Encapsulation kinds.
const (
	EncapNone  EncapKind = "none"
	EncapVXLAN EncapKind = "vxlan"
	EncapIPIP  EncapKind = "ipip"
	EncapUDP   EncapKind = "udp"
	// EncapUnknown is for modes where the user or another program chooses the datapath.
	EncapUnknown EncapKind = "unknown"
)

// Per-packet overhead in bytes added by each kind of encapsulation over IPv4.
const (
	// OverheadVXLAN is outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14).
	OverheadVXLAN = 50
	// OverheadIPIP is one outer IPv4 header.
	OverheadIPIP = 20
	// OverheadUDP is plain UDP encapsulation: outer IPv4 (20) + UDP (8) around the inner packet.
	OverheadUDP = 28
)

// Encapsulation describes a provider's datapath overhead.
type Encapsulation struct {
	Kind EncapKind `json:"kind"`
	// Overhead is the bytes each packet grows by on the underlay.
	Overhead int `json:"overhead"`
	// Note qualifies the figure (selective encapsulation, options that change it).
	Note string `json:"note,omitempty"`
}

// None returns the encapsulation of a routed mode.
func None(note string) Encapsulation { return Encapsulation{Kind: EncapNone, Note: note} }

// VXLAN returns a VXLAN encapsulation.
func VXLAN(note string) Encapsulation {
	return Encapsulation{Kind: EncapVXLAN, Overhead: OverheadVXLAN, Note: note}
}

// IPIP returns an IP-in-IP encapsulation.
func IPIP(note string) Encapsulation {
	return Encapsulation{Kind: EncapIPIP, Overhead: OverheadIPIP, Note: note}
}

// UDP returns an encapsulation in plain UDP (outer IPv4 and UDP headers only).
func UDP(note string) Encapsulation {
	return Encapsulation{Kind: EncapUDP, Overhead: OverheadUDP, Note: note}
}

// PodMTU returns the largest pod interface MTU that fits an underlay of underlayMTU bytes, or 0
// when nothing fits.
func (e Encapsulation) PodMTU(underlayMTU int) int {
	if m := underlayMTU - e.Overhead; m > 0 {
		return m
	}
	return 0
}

// KindStatus says whether netconform can install a provider on a local kind cluster.
type KindStatus string

// Kind support statuses.
const (
	// KindSupported: netconform installs it on kind (make e2e PROVIDER=<name>).
	KindSupported KindStatus = "supported"
	// KindPlanned: install code for kind is planned.
	KindPlanned KindStatus = "planned"
	// KindPossible: nothing blocks it, but netconform installs nothing of its own (bring your
	// own CNI).
	KindPossible KindStatus = "possible"
	// KindUpstreamImages: netconform installs it on kind from the provider's own upstream images,
	// which it cannot build (their sources are not served): where docker can pull them or already
	// has them. `netconform run` checks that before it creates anything (KindSupport.Images).
	KindUpstreamImages KindStatus = "upstream-images"
	// KindUnavailable: the provider could run on kind, but netconform cannot obtain it here.
	KindUnavailable KindStatus = "unavailable"
	// KindNotApplicable: the provider cannot run on kind at all (cloud-only, or removed).
	KindNotApplicable KindStatus = "not-applicable"
)

// KindSupport is a provider's kind status with the reason for it.
type KindSupport struct {
	Status KindStatus `json:"status"`
	Reason string     `json:"reason"`
	// Default marks the one provider kind runs use when none is named (make e2e, the switch's
	// default starting point); scripts ask `netconform providers --default` for it.
	Default bool `json:"default,omitempty"`
	// SwitchTarget marks the one provider a switch goes to when none is named (make e2e-switch);
	// `netconform providers --switch-target` prints it.
	SwitchTarget bool `json:"switchTarget,omitempty"`
	// IPFamilies are the cluster IP families (run --ip-family) netconform installs the provider
	// with on kind; empty means IPv4 only. A provider lists a family once its kind installer
	// configures it (address ranges, routes, masquerading per family), not because the
	// provider itself could run so.
	IPFamilies []ipfamily.Family `json:"ipFamilies,omitempty"`
	// IPv6Gap says, for a provider installed with IPv4 only, what its IPv6 would take that
	// netconform's installer does not do yet; refusals of another family quote it.
	IPv6Gap string `json:"ipv6Gap,omitempty"`
	// Images are the upstream images the kind installer runs with default options, pinned
	// (status upstream-images); the installer's UpstreamImages says which for given options.
	Images []string `json:"images,omitempty"`
	// NotBuilt says why netconform builds no images of its own for the provider (status
	// upstream-images); a run refused for want of the upstream images quotes it.
	NotBuilt string `json:"notBuilt,omitempty"`
}

// Installs reports whether netconform installs the provider on kind: from what it builds
// (supported) or from the provider's upstream images where those can be had (upstream-images).
func (k KindSupport) Installs() bool {
	return k.Status == KindSupported || k.Status == KindUpstreamImages
}

// Families are the cluster IP families netconform installs the provider with on kind:
// IPFamilies, or IPv4 alone when it lists none.
func (k KindSupport) Families() []ipfamily.Family {
	if len(k.IPFamilies) == 0 {
		return []ipfamily.Family{ipfamily.IPv4}
	}
	return slices.Clone(k.IPFamilies)
}

// RefuseIPFamily is nil when netconform installs provider d on kind with cluster IP family f,
// else an error saying that it does not and which families it does: a run asking for another
// family ends before anything starts.
func (d Descriptor) RefuseIPFamily(f ipfamily.Family) error {
	fams := d.Kind.Families()
	if slices.Contains(fams, f) {
		return nil
	}
	names := make([]string, len(fams))
	for i, x := range fams {
		names[i] = x.Title()
	}
	why := strings.Join(names, ", ") + " only"
	if d.Kind.IPv6Gap != "" {
		why += ": " + d.Kind.IPv6Gap
	}
	return fmt.Errorf("%s: --ip-family %s is not supported on kind by netconform yet (%s)", d.Name, f, why)
}
