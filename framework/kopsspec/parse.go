package kopsspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Group is the API group of kops documents.
const Group = "kops.k8s.io"

// maxAliasHops bounds alias chains when following them by hand.
const maxAliasHops = 8

// isLayoutKey reports whether k is a key under spec.networking (v1alpha3) that describes the
// network layout rather than chooses a provider.
func isLayoutKey(k string) bool {
	switch k {
	case "networkID", "networkCIDR", "additionalNetworkCIDRs", "subnets", "tagSubnets", "topology",
		"egressProxy", "nonMasqueradeCIDR", "podCIDR", "serviceClusterIPRange", "isolateControlPlane":
		return true
	}
	return false
}

// supported reports whether version is a kops API version this package reads.
func supported(version string) bool { return version == "v1alpha2" || version == "v1alpha3" }

// yamlLine finds the line number in the YAML library's error messages.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeAll splits data into YAML document nodes. A panic inside the YAML library is turned
// into an error so that no input can crash the caller.
func decodeAll(file string, data []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, &Error{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlError(file, 0, "", err)
		}
		docs = append(docs, &n)
	}
}

// yamlError turns a YAML library error into an Error, taking the line from the message when
// it has one and falling back to line.
func yamlError(file string, line int, path string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil {
			line = n
		}
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Path: path, Msg: "invalid YAML: " + msg, Err: err}
}

type parser struct {
	file string
}

func (p *parser) errorf(n *yaml.Node, path, format string, args ...any) *Error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// resolve follows aliases.
func (p *parser) resolve(n *yaml.Node, path string) (*yaml.Node, error) {
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == maxAliasHops || n.Alias == nil {
			return nil, p.errorf(n, path, "alias chain too long or broken")
		}
		n = n.Alias
	}
	return n, nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return fmt.Sprintf("the string %q", n.Value)
		default:
			return fmt.Sprintf("%s %s", strings.TrimPrefix(n.Tag, "!!"), n.Value)
		}
	}
	return "an unexpected node"
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// pair is one key and value of a mapping.
type pair struct {
	key   string
	keyN  *yaml.Node
	value *yaml.Node
}

// mapping returns n's pairs in order. Null counts as an empty mapping. Duplicate keys are an
// error: YAML forbids them and tools disagree on which one wins.
func (p *parser) mapping(n *yaml.Node, path string) ([]pair, error) {
	n, err := p.resolve(n, path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, path, "want a mapping, got %s", describe(n))
	}
	if len(n.Content)%2 != 0 {
		return nil, p.errorf(n, path, "malformed mapping")
	}
	pairs := make([]pair, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errorf(k, path, "keys must be plain strings, got %s", describe(k))
		}
		if k.Value == "<<" {
			return nil, p.errorf(k, path, "merge keys (<<) are not supported in kops specs")
		}
		if first, dup := seen[k.Value]; dup {
			return nil, p.errorf(k, join(path, k.Value), "duplicate key (first at line %d)", first)
		}
		seen[k.Value] = k.Line
		pairs = append(pairs, pair{key: k.Value, keyN: k, value: v})
	}
	return pairs, nil
}

func get(pairs []pair, key string) (pair, bool) {
	for _, pr := range pairs {
		if pr.key == key {
			return pr, true
		}
	}
	return pair{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (p *parser) str(pr pair, path string) (Field[string], error) {
	f := Field[string]{Path: path, Line: pr.keyN.Line}
	n, err := p.resolve(pr.value, path)
	if err != nil {
		return f, err
	}
	if isNull(n) {
		return f, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return f, p.errorf(n, path, "want a string, got %s (quote it if it is meant as text)", describe(n))
	}
	f.Value, f.Set = n.Value, true
	return f, nil
}

func (p *parser) integer(pr pair, path string) (Field[int], error) {
	f := Field[int]{Path: path, Line: pr.keyN.Line}
	n, err := p.resolve(pr.value, path)
	if err != nil {
		return f, err
	}
	if isNull(n) {
		return f, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return f, p.errorf(n, path, "want an integer, got %s", describe(n))
	}
	if err := n.Decode(&f.Value); err != nil {
		return f, p.errorf(n, path, "want an integer: %v", err)
	}
	f.Set = true
	return f, nil
}

func (p *parser) boolean(pr pair, path string) (Field[bool], error) {
	f := Field[bool]{Path: path, Line: pr.keyN.Line}
	n, err := p.resolve(pr.value, path)
	if err != nil {
		return f, err
	}
	if isNull(n) {
		return f, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return f, p.errorf(n, path, "want true or false, got %s", describe(n))
	}
	if err := n.Decode(&f.Value); err != nil {
		return f, p.errorf(n, path, "want true or false: %v", err)
	}
	f.Set = true
	return f, nil
}

func (p *parser) stringList(pr pair, path string) (Field[[]string], error) {
	f := Field[[]string]{Path: path, Line: pr.keyN.Line}
	n, err := p.resolve(pr.value, path)
	if err != nil {
		return f, err
	}
	if isNull(n) {
		return f, nil
	}
	if n.Kind != yaml.SequenceNode {
		return f, p.errorf(n, path, "want a list of strings, got %s", describe(n))
	}
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		item, err := p.resolve(item, ip)
		if err != nil {
			return f, err
		}
		if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
			return f, p.errorf(item, ip, "want a string, got %s", describe(item))
		}
		f.Value = append(f.Value, item.Value)
	}
	f.Set = true
	return f, nil
}

// sequence returns the items of a list; null counts as empty.
func (p *parser) sequence(n *yaml.Node, path string) ([]*yaml.Node, error) {
	n, err := p.resolve(n, path)
	if err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, path, "want a list, got %s", describe(n))
	}
	return n.Content, nil
}

// document reads one YAML document into set.
func (p *parser) document(set *Set, doc *yaml.Node, num int) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if isNull(root) {
		return nil // an empty document, e.g. a trailing ---
	}
	return p.object(set, root, Source{File: p.file, Doc: num, Line: root.Line}, true)
}

// object reads one Kubernetes-style object: a kops Cluster or InstanceGroup, a List of them,
// or anything else (recorded in set.Others).
func (p *parser) object(set *Set, n *yaml.Node, src Source, allowList bool) error {
	where := strings.TrimSuffix(src.Prefix, ".")
	n, err := p.resolve(n, where)
	if err != nil {
		return err
	}
	if n.Kind != yaml.MappingNode {
		return p.errorf(n, where, "document %d: want a mapping with apiVersion and kind, got %s", src.Doc, describe(n))
	}
	top, err := p.mapping(n, where)
	if err != nil {
		return err
	}
	kindPair, ok := get(top, "kind")
	if !ok {
		return p.errorf(n, where, "document %d: no kind", src.Doc)
	}
	kind, err := p.str(kindPair, src.Prefix+"kind")
	if err != nil {
		return err
	}
	src.Line = kindPair.keyN.Line
	apiPair, ok := get(top, "apiVersion")
	if !ok {
		return p.errorf(kindPair.keyN, where, "document %d (kind %s): no apiVersion", src.Doc, kind.Value)
	}
	api, err := p.str(apiPair, src.Prefix+"apiVersion")
	if err != nil {
		return err
	}

	if kind.Value == "List" && allowList {
		itemsPair, ok := get(top, "items")
		if !ok {
			return nil
		}
		items, err := p.sequence(itemsPair.value, src.Prefix+"items")
		if err != nil {
			return err
		}
		for i, item := range items {
			is := src
			is.Prefix = fmt.Sprintf("%sitems[%d].", src.Prefix, i)
			is.Line = item.Line
			if err := p.object(set, item, is, false); err != nil {
				return err
			}
		}
		return nil
	}

	group, version, _ := strings.Cut(api.Value, "/")
	if group != Group || (kind.Value != "Cluster" && kind.Value != "InstanceGroup") {
		set.Others = append(set.Others, Other{Source: src, APIVersion: api.Value, Kind: kind.Value})
		return nil
	}
	if !supported(version) {
		return p.errorf(apiPair.value, api.Path, "unsupported apiVersion %q: want %s/v1alpha2 or %s/v1alpha3", api.Value, Group, Group)
	}
	name, labels, err := p.metadata(top, src.Prefix+"metadata")
	if err != nil {
		return err
	}
	specPair, ok := get(top, "spec")
	if !ok {
		return p.errorf(kindPair.keyN, where, "%s %q has no spec", kind.Value, name)
	}
	spec, err := p.mapping(specPair.value, src.Prefix+"spec")
	if err != nil {
		return err
	}
	if kind.Value == "Cluster" {
		c := &Cluster{Source: src, APIVersion: api.Value, Name: name}
		if err := p.cluster(c, spec, src.Prefix+"spec", specPair.keyN.Line); err != nil {
			return err
		}
		set.Clusters = append(set.Clusters, c)
		return nil
	}
	ig := &InstanceGroup{Source: src, APIVersion: api.Value, Name: name, ClusterName: labels["kops.k8s.io/cluster"]}
	if err := p.instanceGroup(ig, spec, src.Prefix+"spec"); err != nil {
		return err
	}
	set.InstanceGroups = append(set.InstanceGroups, ig)
	return nil
}

// metadata returns metadata.name and the string labels.
func (p *parser) metadata(top []pair, path string) (string, map[string]string, error) {
	mdPair, ok := get(top, "metadata")
	if !ok {
		return "", nil, nil
	}
	md, err := p.mapping(mdPair.value, path)
	if err != nil {
		return "", nil, err
	}
	var name string
	if pr, ok := get(md, "name"); ok {
		f, err := p.str(pr, path+".name")
		if err != nil {
			return "", nil, err
		}
		name = f.Value
	}
	labels := map[string]string{}
	if pr, ok := get(md, "labels"); ok {
		lp, err := p.mapping(pr.value, path+".labels")
		if err != nil {
			return "", nil, err
		}
		for _, l := range lp {
			f, err := p.str(l, path+".labels."+l.key)
			if err != nil {
				return "", nil, err
			}
			labels[l.key] = f.Value
		}
	}
	return name, labels, nil
}
