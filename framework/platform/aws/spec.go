package aws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/providers"
)

// specPatch is the part of the Cluster document netconform writes, as YAML (for plans).
func specPatch(clusterName string, n Networking) ([]byte, error) {
	doc := map[string]any{
		"apiVersion": "kops.k8s.io/v1alpha2",
		"kind":       "Cluster",
		"metadata":   map[string]any{"name": clusterName},
		"spec":       map[string]any{"networking": map[string]any{n.SpecKey: n.Spec}},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render spec patch: %w", err)
	}
	return b, nil
}

// mergeSpec merges the networking settings into the Cluster document kops generated
// (kops get cluster -o yaml), keeping everything else as kops wrote it. It refuses a document
// for another cluster, or one whose spec.networking selects a different provider.
func mergeSpec(generated []byte, clusterName string, n Networking) ([]byte, error) {
	return editCluster(generated, clusterName, func(spec map[string]any) error {
		return mergeCluster(spec, clusterName, n)
	})
}

// editCluster applies edit to the spec of the one Cluster document for clusterName in what
// kops printed, and renders every document back, the others unchanged.
func editCluster(generated []byte, clusterName string, edit func(spec map[string]any) error) ([]byte, error) {
	var out [][]byte
	clusters := 0
	for _, raw := range splitDocuments(generated) {
		j, err := yaml.YAMLToJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("parse the spec kops printed: %w", err)
		}
		var doc map[string]any
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil || doc == nil {
			return nil, fmt.Errorf("the spec kops printed is not a YAML mapping: %v", err)
		}
		if doc["kind"] == "Cluster" {
			clusters++
			md, _ := doc["metadata"].(map[string]any)
			if name, _ := md["name"].(string); name != clusterName {
				return nil, fmt.Errorf("kops printed the spec of cluster %q, want %q", name, clusterName)
			}
			spec, ok := doc["spec"].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("cluster %s: spec is missing or not a mapping", clusterName)
			}
			if err := edit(spec); err != nil {
				return nil, err
			}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("render spec: %w", err)
		}
		y, err := yaml.JSONToYAML(b)
		if err != nil {
			return nil, fmt.Errorf("render spec: %w", err)
		}
		out = append(out, y)
	}
	if clusters != 1 {
		return nil, fmt.Errorf("kops printed %d Cluster documents for %s, want 1", clusters, clusterName)
	}
	return bytes.Join(out, []byte("---\n")), nil
}

// selectedProviders are the provider keys set under spec.networking, sorted; it creates an
// empty spec.networking when there is none. reg says which keys select a provider; nil knows none.
func selectedProviders(reg providers.Registry, spec map[string]any) (map[string]any, []string) {
	nw, ok := spec["networking"].(map[string]any)
	if !ok {
		nw = map[string]any{}
		spec["networking"] = nw
	}
	var set []string
	// Every key that selects a provider is some provider's spec key; other keys under
	// spec.networking (such as networkID) select nothing.
	// A provider that cannot run on AWS (gce) is one of them too, so such a spec is refused.
	for k := range nw {
		if reg != nil {
			if _, ok := reg.BySpecKey(k); ok {
				set = append(set, k)
			}
		}
	}
	sort.Strings(set)
	return nw, set
}

// describeSelected joins the selected keys for a message, saying which select a provider that
// cannot run on AWS at all (gce: "gce (GCE only, cannot run on AWS)").
func describeSelected(reg providers.Registry, keys []string) string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		if reg != nil {
			if p, ok := reg.BySpecKey(k); ok {
				if pl := p.Descriptor().Platforms; !pl.RunsOn(providers.AWS) {
					k += " (" + pl.String() + ", cannot run on AWS)"
				}
			}
		}
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}

func mergeCluster(spec map[string]any, clusterName string, n Networking) error {
	nw, set := selectedProviders(n.reg, spec)
	var others []string
	for _, k := range set {
		if k != n.SpecKey {
			others = append(others, k)
		}
	}
	if len(others) > 0 {
		return fmt.Errorf("cluster %s: spec.networking selects %s, not %s: was the cluster created with another --networking?", clusterName, describeSelected(n.reg, others), n.SpecKey)
	}
	block, _ := nw[n.SpecKey].(map[string]any)
	if block == nil {
		block = map[string]any{}
	}
	for k, v := range n.Spec {
		block[k] = v
	}
	nw[n.SpecKey] = block
	return nil
}

// splitDocuments splits multi-document YAML on "---" lines, dropping empty documents.
func splitDocuments(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(cur.Bytes())) > 0 {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}
