package kopsspec

import (
	"fmt"

	yaml "go.yaml.in/yaml/v3"
)

// cluster reads a Cluster's spec.
func (p *parser) cluster(c *Cluster, spec []pair, path string, specLine int) error {
	c.KubernetesVersion.Path = path + ".kubernetesVersion"
	c.CloudProvider.Path = path + ".cloudProvider"
	c.NetworkID.Path = path + ".networkID"
	c.NetworkCIDR.Path = path + ".networkCIDR"
	c.AdditionalNetworkCIDRs.Path = path + ".additionalNetworkCIDRs"
	c.TopologyControlPlane.Path = path + ".topology.masters"
	c.TopologyNodes.Path = path + ".topology.nodes"
	c.KubeProxyEnabled.Path = path + ".kubeProxy.enabled"
	c.EtcdClustersPath = path + ".etcdClusters"
	c.Networking.Path = path + ".networking"
	c.Networking.Line = specLine

	var err error
	if pr, ok := get(spec, "kubernetesVersion"); ok {
		if c.KubernetesVersion, err = p.str(pr, c.KubernetesVersion.Path); err != nil {
			return err
		}
	}
	if pr, ok := get(spec, "cloudProvider"); ok {
		if c.CloudProvider, err = p.cloudProvider(pr, c.CloudProvider.Path); err != nil {
			return err
		}
	}
	if pr, ok := get(spec, "kubeProxy"); ok {
		kp, err := p.mapping(pr.value, path+".kubeProxy")
		if err != nil {
			return err
		}
		if e, ok := get(kp, "enabled"); ok {
			if c.KubeProxyEnabled, err = p.boolean(e, c.KubeProxyEnabled.Path); err != nil {
				return err
			}
		}
	}
	if pr, ok := get(spec, "etcdClusters"); ok {
		if err := p.etcdClusters(c, pr.value); err != nil {
			return err
		}
	}
	// v1alpha2 keeps the network layout directly under spec.
	if err := p.layout(c, spec, path); err != nil {
		return err
	}
	if pr, ok := get(spec, "networking"); ok {
		if err := p.networking(c, pr, c.Networking.Path); err != nil {
			return err
		}
	}
	return nil
}

// cloudProvider reads spec.cloudProvider: "aws" (v1alpha2) or {aws: {...}} (v1alpha3).
func (p *parser) cloudProvider(pr pair, path string) (Field[string], error) {
	n, err := p.resolve(pr.value, path)
	if err != nil {
		return Field[string]{Path: path}, err
	}
	if n.Kind != yaml.MappingNode {
		return p.str(pr, path)
	}
	m, err := p.mapping(n, path)
	if err != nil {
		return Field[string]{Path: path}, err
	}
	if len(m) != 1 {
		return Field[string]{Path: path}, p.errorf(n, path, "want exactly one cloud (e.g. aws: {}), got %d keys", len(m))
	}
	return Field[string]{Value: m[0].key, Set: true, Path: path + "." + m[0].key, Line: m[0].keyN.Line}, nil
}

func (p *parser) etcdClusters(c *Cluster, n *yaml.Node) error {
	items, err := p.sequence(n, c.EtcdClustersPath)
	if err != nil {
		return err
	}
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", c.EtcdClustersPath, i)
		m, err := p.mapping(item, ip)
		if err != nil {
			return err
		}
		name := Field[string]{Path: ip + ".name", Line: item.Line}
		if pr, ok := get(m, "name"); ok {
			if name, err = p.str(pr, ip+".name"); err != nil {
				return err
			}
		}
		c.EtcdClusters = append(c.EtcdClusters, name)
	}
	return nil
}

// layout reads networkID, networkCIDR, additionalNetworkCIDRs, subnets and topology from m
// (spec in v1alpha2, spec.networking in v1alpha3). Fields found override earlier ones.
func (p *parser) layout(c *Cluster, m []pair, path string) error {
	var err error
	if pr, ok := get(m, "networkID"); ok {
		if c.NetworkID, err = p.str(pr, path+".networkID"); err != nil {
			return err
		}
	}
	if pr, ok := get(m, "networkCIDR"); ok {
		if c.NetworkCIDR, err = p.str(pr, path+".networkCIDR"); err != nil {
			return err
		}
	}
	if pr, ok := get(m, "additionalNetworkCIDRs"); ok {
		if c.AdditionalNetworkCIDRs, err = p.stringList(pr, path+".additionalNetworkCIDRs"); err != nil {
			return err
		}
	}
	if pr, ok := get(m, "subnets"); ok {
		if err := p.subnets(c, pr.value, path+".subnets"); err != nil {
			return err
		}
	}
	if pr, ok := get(m, "topology"); ok {
		tp := path + ".topology"
		t, err := p.mapping(pr.value, tp)
		if err != nil {
			return err
		}
		for _, key := range []string{"masters", "controlPlane"} {
			if tpr, ok := get(t, key); ok {
				if c.TopologyControlPlane, err = p.str(tpr, tp+"."+key); err != nil {
					return err
				}
			}
		}
		if tpr, ok := get(t, "nodes"); ok {
			if c.TopologyNodes, err = p.str(tpr, tp+".nodes"); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) subnets(c *Cluster, n *yaml.Node, path string) error {
	items, err := p.sequence(n, path)
	if err != nil {
		return err
	}
	c.Subnets = c.Subnets[:0]
	for i, item := range items {
		ip := fmt.Sprintf("%s[%d]", path, i)
		m, err := p.mapping(item, ip)
		if err != nil {
			return err
		}
		s := Subnet{Path: ip, Line: item.Line}
		for _, f := range []struct {
			key string
			dst *string
		}{{"name", &s.Name}, {"type", &s.Type}, {"zone", &s.Zone}, {"cidr", &s.CIDR}} {
			if pr, ok := get(m, f.key); ok {
				v, err := p.str(pr, ip+"."+f.key)
				if err != nil {
					return err
				}
				*f.dst = v.Value
			}
		}
		c.Subnets = append(c.Subnets, s)
	}
	return nil
}

// networking reads spec.networking: the layout keys of v1alpha3 and one block per other key.
func (p *parser) networking(c *Cluster, pr pair, path string) error {
	m, err := p.mapping(pr.value, path)
	if err != nil {
		return err
	}
	c.Networking.Set = true
	c.Networking.Line = pr.keyN.Line
	if err := p.layout(c, m, path); err != nil {
		return err
	}
	for _, kv := range m {
		if isLayoutKey(kv.key) {
			continue
		}
		b, err := p.providerBlock(kv, path+"."+kv.key)
		if err != nil {
			return err
		}
		c.Networking.Providers = append(c.Networking.Providers, b)
	}
	return nil
}

func (p *parser) providerBlock(kv pair, path string) (ProviderBlock, error) {
	b := ProviderBlock{Key: kv.key, Path: path, Line: kv.keyN.Line, Options: map[string]any{}, OptionLines: map[string]int{}}
	n, err := p.resolve(kv.value, path)
	if err != nil {
		return b, err
	}
	if !isNull(n) && n.Kind != yaml.MappingNode {
		return b, p.errorf(n, path, "want a mapping of options ({} for none), got %s", describe(n))
	}
	opts, err := p.mapping(n, path)
	if err != nil {
		return b, err
	}
	for _, o := range opts {
		var v any
		if err := decodeValue(o.value, &v); err != nil {
			return b, yamlError(p.file, o.keyN.Line, path+"."+o.key, err)
		}
		b.Options[o.key] = v
		b.OptionLines[o.key] = o.keyN.Line
	}
	return b, nil
}

// decodeValue decodes n into v, turning a panic in the YAML library into an error.
func decodeValue(n *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed: %v", r)
		}
	}()
	return n.Decode(v)
}

// instanceGroup reads an InstanceGroup's spec.
func (p *parser) instanceGroup(ig *InstanceGroup, spec []pair, path string) error {
	ig.Role.Path = path + ".role"
	ig.MinSize.Path = path + ".minSize"
	ig.MaxSize.Path = path + ".maxSize"
	ig.Subnets.Path = path + ".subnets"
	var err error
	if pr, ok := get(spec, "role"); ok {
		if ig.Role, err = p.str(pr, ig.Role.Path); err != nil {
			return err
		}
	}
	if pr, ok := get(spec, "minSize"); ok {
		if ig.MinSize, err = p.integer(pr, ig.MinSize.Path); err != nil {
			return err
		}
	}
	if pr, ok := get(spec, "maxSize"); ok {
		if ig.MaxSize, err = p.integer(pr, ig.MaxSize.Path); err != nil {
			return err
		}
	}
	if pr, ok := get(spec, "subnets"); ok {
		if ig.Subnets, err = p.stringList(pr, ig.Subnets.Path); err != nil {
			return err
		}
	}
	for _, f := range []Field[int]{ig.MinSize, ig.MaxSize} {
		if f.Set && f.Value < 0 {
			return &Error{File: p.file, Line: f.Line, Path: f.Path, Msg: fmt.Sprintf("want a count of instances, got %d", f.Value)}
		}
	}
	if ig.MinSize.Set && ig.MaxSize.Set && ig.MinSize.Value > ig.MaxSize.Value {
		return &Error{File: p.file, Line: ig.MaxSize.Line, Path: ig.MaxSize.Path, Msg: fmt.Sprintf("maxSize %d is below minSize %d", ig.MaxSize.Value, ig.MinSize.Value)}
	}
	return nil
}
