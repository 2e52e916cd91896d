package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"

	"github.com/netconform/netconform/framework/images"
	"github.com/netconform/netconform/framework/kube"
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

// kopsNetworking is the kops --networking value a run of the provider named name records
// (providers.Descriptor.Networking); "" for a name the registry does not know, which the run
// refuses with its own message.
func kopsNetworking(name string) string {
	p, err := lookupProvider(name)
	if err != nil {
		return ""
	}
	return p.Descriptor().Networking(name)
}

// kopsStanding is what kops says of the provider named name on Kubernetes version k8s
// (providers.Lifecycle.At with the newest kops netconform knows); "" when either is unknown.
func kopsStanding(name, k8s string) string {
	p, err := lookupProvider(name)
	if err != nil || k8s == "" {
		return ""
	}
	v, err := providers.ParseVersion(k8s)
	if err != nil {
		return ""
	}
	return p.Descriptor().Lifecycle.At(providers.Version{}, v).Reason
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

// dockerEnv names the docker command the upstream-image check runs (default docker); tests point
// it at a stand-in, so that they never pull from a real registry.
const dockerEnv = "NETCONFORM_DOCKER"

// ensureUpstreamImages makes sure this machine's docker has the upstream images in runs (those
// not replaced with --provider-image, given) before any cluster exists: each is looked for, and
// pulled when missing, the registry given ImageAnswer to answer. It returns their references,
// to be loaded into the nodes (which cannot pull them either), or one line saying which could
// not be had, what was tried, and why netconform builds none of its own. An installer that runs
// no upstream images needs nothing.
func ensureUpstreamImages(ctx context.Context, provider string, in providers.Installer, given map[string]string, t kube.Timeouts, out io.Writer) ([]string, error) {
	need := providers.ImagesToEnsure(in, given)
	if len(need) == 0 {
		return nil, nil
	}
	refs := make([]string, len(need))
	for i, img := range need {
		refs[i] = img.Ref
	}
	c := images.Checker{Docker: os.Getenv(dockerEnv), Inspect: t.ImageAnswer, Answer: t.ImageAnswer, Pull: t.ImagePull}
	rs, err := c.Ensure(ctx, refs)
	if err != nil {
		why := "netconform builds no image of its own for it"
		if p, lerr := lookupProvider(provider); lerr == nil && p.Descriptor().Kind.NotBuilt != "" {
			why = p.Descriptor().Kind.NotBuilt
		}
		what, them := "images cannot be pulled and are not", "them"
		if len(need) == 1 {
			what, them = "image cannot be pulled and is not", "it"
		}
		return nil, fmt.Errorf("%s: its upstream %s in this machine's docker: %v; %s; docker load %s (or make the registry reachable) and run again",
			provider, what, err, why, them)
	}
	var found []string
	for _, r := range rs {
		found = append(found, fmt.Sprintf("%s (%s)", r.Ref, r.Found))
	}
	fmt.Fprintf(out, "%s: upstream images %s\n", provider, strings.Join(found, ", "))
	return images.Refs(rs), nil
}
