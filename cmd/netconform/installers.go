package main

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/calico"
	"github.com/netconform/netconform/providers/catalog"
	"github.com/netconform/netconform/providers/cilium"
	"github.com/netconform/netconform/providers/flannel"
	"github.com/netconform/netconform/providers/kubenet"
	"github.com/netconform/netconform/providers/kuberouter"
)

// installable are the providers netconform installs on kind, by catalog name.
var installable = []string{"kubenet", "flannel", "kuberouter", "calico", "canal", "cilium"}

// lookupInstaller maps a provider name (a netconform name or a kops --networking value, whose
// presets apply: flannel-udp is flannel with backend=udp) to the code that installs it on kind,
// and to what a healthy node looks like under it. opts are --provider-option settings; they
// override the presets.
func lookupInstaller(name string, mtu int, opts map[string]string) (providers.Installer, providers.Healthy, error) {
	p, err := catalog.Lookup(name)
	if err != nil {
		return nil, providers.Healthy{}, err
	}
	d := p.Descriptor()
	settings := presets(d, name)
	maps.Copy(settings, opts)
	switch d.Name {
	case "kubenet":
		if len(settings) > 0 {
			return nil, providers.Healthy{}, fmt.Errorf("kubenet takes no provider options (got %v)", settings)
		}
		return kubenet.Installer{MTU: mtu}, kubenet.Healthy(), nil
	case "flannel":
		o, err := flannel.OptionsFrom(settings)
		if err != nil {
			return nil, providers.Healthy{}, err
		}
		o.MTU = mtu
		in := flannel.Installer{Options: o}
		return in, in.Healthy(), nil
	case "calico":
		o, err := calico.OptionsFrom(settings)
		if err != nil {
			return nil, providers.Healthy{}, err
		}
		o.MTU = mtu
		in := calico.Installer{Options: o}
		return in, in.Healthy(), nil
	case "canal":
		o, err := calico.CanalOptionsFrom(settings)
		if err != nil {
			return nil, providers.Healthy{}, err
		}
		o.MTU = mtu
		in := calico.Installer{Options: o}
		return in, in.Healthy(), nil
	case "cilium":
		o, err := cilium.OptionsFrom(settings)
		if err != nil {
			return nil, providers.Healthy{}, err
		}
		o.MTU = mtu
		in := cilium.Installer{Options: o}
		return in, in.Healthy(), nil
	case "kuberouter":
		o, err := kuberouter.OptionsFrom(settings)
		if err != nil {
			return nil, providers.Healthy{}, err
		}
		o.MTU = mtu
		in := kuberouter.Installer{Options: o}
		return in, in.Healthy(), nil
	}
	return nil, providers.Healthy{}, fmt.Errorf("provider %q cannot be installed on kind by this netconform: %s (%s); installable: %s; 'netconform providers' lists every mode and why",
		name, d.Kind.Status, d.Kind.Reason, strings.Join(installable, ", "))
}

// presets are the options the kops --networking value name sets, if it is one.
func presets(d providers.Descriptor, name string) map[string]string {
	out := map[string]string{}
	for _, v := range d.KopsValues {
		if strings.EqualFold(strings.TrimSpace(name), v.Value) {
			maps.Copy(out, v.Presets)
		}
	}
	return out
}

// writeNotInstallable leaves a result saying why a provider could not be installed, so that a
// matrix of runs shows the provider with its reason instead of leaving it out.
func writeNotInstallable(artifacts string, r results.Result, why error, red *redact.Redactor) {
	// Redacted from the first write on: the options may hold a secret.
	rec, err := newRecorder(artifacts, r, red)
	if err == nil {
		err = rec.Finish(why)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "netconform: could not write result:", err)
	}
}

// redactSecretOptions registers the values of the provider's secret options (the weave
// encryption password) so that they appear in no output.
func redactSecretOptions(red *redact.Redactor, provider string, opts map[string]string) {
	p, err := catalog.Lookup(provider)
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
	for _, name := range installable {
		if in, _, err := lookupInstaller(name, 0, nil); err == nil {
			if _, ok := in.(providers.Owner); ok {
				out = append(out, name)
			}
		}
	}
	return out
}
