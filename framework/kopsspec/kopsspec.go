// Package kopsspec reads kops Cluster and InstanceGroup documents (apiVersion
// kops.k8s.io/v1alpha2 or v1alpha3, as `kops get cluster -o yaml` and `kops get ig -o yaml`
// print them) into typed values that remember the YAML path and line of every field, so that
// checks can point at the spot a user has to edit. Errors carry the file, line and what was
// wrong; malformed input never panics.
package kopsspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxSize is the largest input Read and ReadFile accept. kops specs are a few kilobytes.
const MaxSize = 8 << 20

// Field is a value read from a spec together with where it was found. Set is false when the
// field was absent (Value is then the zero value and Path is where it would be).
type Field[T any] struct {
	Value T
	Set   bool
	// Path is the field's YAML path inside its document, e.g. spec.kubeProxy.enabled.
	Path string
	// Line is the 1-based line of the field's key; 0 when absent.
	Line int
}

// Source is where a document came from.
type Source struct {
	File string
	// Doc is the 1-based number of the document in its file (a List's items share it).
	Doc int
	// Line is the line of the document's kind key.
	Line int
	// Prefix is prepended to paths inside the document ("items[2]." for a List item).
	Prefix string
}

// Cluster is a kops Cluster document, reduced to what netconform checks.
type Cluster struct {
	Source
	APIVersion string
	Name       string
	// KubernetesVersion is spec.kubernetesVersion as written (a version or a URL).
	KubernetesVersion Field[string]
	// CloudProvider is spec.cloudProvider: a string in v1alpha2, the single key of a mapping
	// in v1alpha3 (cloudProvider: {aws: {}}).
	CloudProvider Field[string]
	// NetworkID, NetworkCIDR, AdditionalNetworkCIDRs, Subnets and the topology live under
	// spec in v1alpha2 and under spec.networking in v1alpha3; both are accepted.
	NetworkID              Field[string]
	NetworkCIDR            Field[string]
	AdditionalNetworkCIDRs Field[[]string]
	Subnets                []Subnet
	// TopologyControlPlane is topology.masters (v1alpha2) or topology.controlPlane.
	TopologyControlPlane Field[string]
	TopologyNodes        Field[string]
	// KubeProxyEnabled is spec.kubeProxy.enabled; absent means enabled.
	KubeProxyEnabled Field[bool]
	// EtcdClusters holds the names under spec.etcdClusters[].name.
	EtcdClusters []Field[string]
	// EtcdClustersPath is where spec.etcdClusters is (or would be).
	EtcdClustersPath string
	Networking       Networking
}

// Networking is spec.networking.
type Networking struct {
	Set  bool
	Path string
	Line int
	// Providers are the keys under spec.networking that are not network layout fields, in
	// document order. Each is normally a provider's spec key; deciding
	// which keys are known is left to the caller.
	Providers []ProviderBlock
}

// ProviderBlock is one spec.networking.<key> entry.
type ProviderBlock struct {
	Key  string
	Path string
	Line int
	// Options are the block's settings decoded as YAML values (bool, int, float64, string,
	// []any, map[string]any); empty for `key: {}`.
	Options map[string]any
	// OptionLines maps an option name to the line of its key.
	OptionLines map[string]int
}

// OptionPath returns the YAML path of option name in the block.
func (b ProviderBlock) OptionPath(name string) string { return b.Path + "." + name }

// OptionLine returns the line of option name, or the block's line when it is absent.
func (b ProviderBlock) OptionLine(name string) int {
	if l, ok := b.OptionLines[name]; ok {
		return l
	}
	return b.Line
}

// Subnet is one spec.subnets (or spec.networking.subnets) entry.
type Subnet struct {
	Name, Type, Zone, CIDR string
	Path                   string
	Line                   int
}

// InstanceGroup is a kops InstanceGroup document, reduced to what netconform checks.
type InstanceGroup struct {
	Source
	APIVersion string
	Name       string
	// ClusterName is the kops.k8s.io/cluster label; empty when absent.
	ClusterName string
	// Role is spec.role: ControlPlane (Master in older releases), Node, APIServer or Bastion.
	Role    Field[string]
	MinSize Field[int]
	MaxSize Field[int]
	Subnets Field[[]string]
}

// Other is a document of a kind netconform does not read.
type Other struct {
	Source
	APIVersion, Kind string
}

// Set is everything read from one or more files.
type Set struct {
	Clusters       []*Cluster
	InstanceGroups []*InstanceGroup
	Others         []Other
}

// Add appends o's documents to s.
func (s *Set) Add(o *Set) {
	s.Clusters = append(s.Clusters, o.Clusters...)
	s.InstanceGroups = append(s.InstanceGroups, o.InstanceGroups...)
	s.Others = append(s.Others, o.Others...)
}

// InstanceGroupsFor returns the instance groups that belong to c: those labelled with its name,
// and unlabelled ones when c is the only cluster or shares their file.
func (s *Set) InstanceGroupsFor(c *Cluster) []*InstanceGroup {
	var out []*InstanceGroup
	for _, ig := range s.InstanceGroups {
		switch {
		case ig.ClusterName != "":
			if ig.ClusterName == c.Name {
				out = append(out, ig)
			}
		case len(s.Clusters) == 1 || ig.File == c.File:
			out = append(out, ig)
		}
	}
	return out
}

// Error is input that could not be read or parsed.
type Error struct {
	File string
	// Line is 1-based; 0 when no line applies (an unreadable file).
	Line int
	// Path is the YAML path of the offending field when known.
	Path string
	Msg  string
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ReadFile reads the kops documents in the file at path; "-" reads standard input.
func ReadFile(path string) (*Set, error) {
	if path == "-" {
		return Read("<stdin>", os.Stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot open: " + unwrapPathError(err), Err: err}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, &Error{File: path, Msg: "cannot stat: " + unwrapPathError(err), Err: err}
	}
	if st.IsDir() {
		return nil, &Error{File: path, Msg: "is a directory, not a kops YAML file"}
	}
	return Read(path, f)
}

func unwrapPathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Read reads the kops documents in r; name is used in errors and sources.
func Read(name string, r io.Reader) (*Set, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, &Error{File: name, Msg: "cannot read: " + err.Error(), Err: err}
	}
	if len(data) > MaxSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("larger than %d bytes; not a kops spec", MaxSize)}
	}
	return Parse(name, data)
}

// Parse reads the kops documents in data; name is used in errors and sources. Documents whose
// apiVersion is not in the kops.k8s.io group, and kops kinds other than Cluster and
// InstanceGroup, are kept in Set.Others and not checked.
func Parse(name string, data []byte) (*Set, error) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, &Error{File: name, Line: 1 + bytes.Count(data[:bytes.IndexByte(data, 0)], []byte("\n")), Msg: "contains a NUL byte; not a YAML text file"}
	}
	docs, err := decodeAll(name, data)
	if err != nil {
		return nil, err
	}
	p := parser{file: name}
	set := &Set{}
	for i, d := range docs {
		if err := p.document(set, d, i+1); err != nil {
			return nil, err
		}
	}
	return set, nil
}
