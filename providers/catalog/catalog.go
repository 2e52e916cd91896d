// Package catalog lists every networking mode and CNI provider netconform knows, in a stable
// order, and finds one by netconform name or kops --networking value.
package catalog

import (
	"fmt"
	"sort"
	"strings"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/amazonvpc"
	"github.com/netconform/netconform/providers/calico"
	"github.com/netconform/netconform/providers/canal"
	"github.com/netconform/netconform/providers/cilium"
	"github.com/netconform/netconform/providers/classic"
	"github.com/netconform/netconform/providers/cni"
	"github.com/netconform/netconform/providers/external"
	"github.com/netconform/netconform/providers/flannel"
	"github.com/netconform/netconform/providers/gce"
	"github.com/netconform/netconform/providers/kindnet"
	"github.com/netconform/netconform/providers/kopeio"
	"github.com/netconform/netconform/providers/kubenet"
	"github.com/netconform/netconform/providers/kuberouter"
	"github.com/netconform/netconform/providers/lyftvpc"
	"github.com/netconform/netconform/providers/romana"
	"github.com/netconform/netconform/providers/weave"
)

// Registry is the catalog as a providers.Registry, for the packages that take their providers
// as a dependency. It holds nothing: its methods are All, Lookup and BySpecKey.
type Registry struct{}

var _ providers.Registry = Registry{}

// All is the package's All.
func (Registry) All() []providers.Provider { return All() }

// Lookup is the package's Lookup.
func (Registry) Lookup(name string) (providers.Provider, error) { return Lookup(name) }

// BySpecKey is the package's BySpecKey.
func (Registry) BySpecKey(key string) (providers.Provider, bool) { return BySpecKey(key) }

// All returns every provider: first the four kops modes in the guide's order (kubenet, cni,
// classic, external), then the CNI providers in the guide's order, then gce (GCE's native mode),
// then kindnet. Each call returns a new slice.
func All() []providers.Provider {
	return []providers.Provider{
		kubenet.New(),
		cni.New(),
		classic.New(),
		external.New(),
		calico.New(),
		canal.New(),
		flannel.New(),
		kopeio.New(),
		kuberouter.New(),
		romana.New(),
		weave.New(),
		amazonvpc.New(),
		cilium.New(),
		lyftvpc.New(),
		gce.New(),
		kindnet.New(),
	}
}

// Lookup finds a provider by netconform name, spec.networking key or kops --networking value,
// ignoring case. An unknown name gives an error listing the valid ones.
func Lookup(name string) (providers.Provider, error) {
	want := strings.ToLower(strings.TrimSpace(name))
	for _, p := range All() {
		d := p.Descriptor()
		if want == d.Name || want == d.SpecKey {
			return p, nil
		}
		for _, v := range d.KopsValues {
			if want == v.Value {
				return p, nil
			}
		}
	}
	return nil, UnknownError(name)
}

// UnknownError says that name is no provider, suggesting the nearest accepted name (a
// netconform name or kops value) when it looks like a typo, and listing them all otherwise.
func UnknownError(name string) error {
	if c := providers.Closest(strings.TrimSpace(name), Names()); c != "" {
		return fmt.Errorf("unknown provider %s; did you mean %s?", name, c)
	}
	return fmt.Errorf("unknown provider %q; valid: %s", name, strings.Join(Names(), ", "))
}

// BySpecKey finds the provider whose spec.networking key is key (exactly, as kops is case
// sensitive).
func BySpecKey(key string) (providers.Provider, bool) {
	for _, p := range All() {
		if p.Descriptor().SpecKey == key {
			return p, true
		}
	}
	return nil, false
}

// Names returns every accepted name (netconform names and kops values), sorted and without
// duplicates.
func Names() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, p := range All() {
		d := p.Descriptor()
		add(d.Name)
		for _, v := range d.KopsValues {
			add(v.Value)
		}
	}
	sort.Strings(out)
	return out
}
