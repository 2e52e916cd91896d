package main

import (
	"maps"

	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// registry is the provider registry every command resolves names through: the catalog, where
// each provider registers once.
func registry() providers.Registry { return catalog.Registry{} }

// lookupInstaller maps a provider name (a netconform name or a kops --networking value, whose
// presets apply) to the code that installs it on kind, and to what a healthy node looks like
// under it. opts are --provider-option settings; they override the presets. The provider's own
// package answers (providers.KindInstallable); this is the registry's answer in the signature the
// commands use.
func lookupInstaller(name string, mtu int, opts map[string]string) (providers.Installer, providers.Healthy, error) {
	cfg, err := resolveKind(name, opts)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	return cfg.KindInstaller(registry(), mtu)
}

// resolveKind resolves a provider and its settings for kind without typing the settings by the
// schema first: each installer checks its own options and says why in its own words (an option
// that needs a kernel feature the kind nodes lack), which the schema's generic message would hide.
func resolveKind(name string, opts map[string]string) (providers.Config, error) {
	p, err := lookupProvider(name)
	if err != nil {
		return providers.Config{}, err
	}
	d := p.Descriptor()
	settings := providers.Presets(d, name)
	maps.Copy(settings, opts)
	return providers.Config{Provider: p, Descriptor: d, Name: d.Name, Given: name, Settings: settings}, nil
}

// redactSecretOptions registers the values of the provider's secret options (Option.Secret,
// such as an encryption password) so that they appear in no output.
func redactSecretOptions(red *redact.Redactor, provider string, opts map[string]string) {
	p, err := registry().Lookup(provider)
	if err != nil {
		return
	}
	for _, opt := range p.Descriptor().Options {
		if v, ok := opts[opt.Name]; ok && opt.Secret {
			red.Add(v)
		}
	}
}

// switchableFrom are the installable providers whose node state netconform knows, so that a
// cluster can be switched away from them.
func switchableFrom() []string {
	var out []string
	for _, name := range providers.Installable(registry()) {
		if in, _, err := lookupInstaller(name, 0, nil); err == nil {
			if _, ok := in.(providers.Owner); ok {
				out = append(out, name)
			}
		}
	}
	return out
}
