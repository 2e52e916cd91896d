package providers

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// KindInstallable is implemented by providers netconform installs on a local kind cluster. The
// provider turns its settings (KEY=VALUE, the kops value's presets already applied) into its own
// installer and says what a healthy node looks like under that configuration. mtu is the pod MTU
// the user asked for; 0 lets the installer derive it from the underlay.
type KindInstallable interface {
	KindInstaller(settings map[string]string, mtu int) (Installer, Healthy, error)
}

// HealthyInstaller is an installer that knows what a healthy node looks like under its options.
type HealthyInstaller interface {
	Installer
	Healthy() Healthy
}

// KindInstallerFrom is the usual KindInstaller: parse reads the settings into the provider's
// options, build makes the installer from them (setting the MTU).
func KindInstallerFrom[O any, I HealthyInstaller](settings map[string]string, parse func(map[string]string) (O, error), build func(O) I) (Installer, Healthy, error) {
	o, err := parse(settings)
	if err != nil {
		return nil, Healthy{}, err
	}
	in := build(o)
	return in, in.Healthy(), nil
}

// Config is a provider resolved once from what the user typed: the name (a netconform name, a
// spec key or a kops --networking value) and the --provider-option settings. Install, suites,
// switch, plans and lint take it instead of looking the name up again.
type Config struct {
	Provider   Provider
	Descriptor Descriptor
	// Name is the provider's canonical netconform name (Descriptor.Name), whatever alias was given.
	Name string
	// Given is the name as the user wrote it; the kops value's presets came from it.
	Given string
	// Settings are the options as KEY=VALUE: the kops value's presets, overridden by the user's.
	Settings map[string]string
	// Options are Settings typed and validated by the provider's schema for the target.
	Options map[string]any
}

// Resolve looks name up in reg once, applies the presets of the kops value it was named by
// (a value naming a backend sets backend=...), lays kv over them and types the result by the provider's option
// schema for target. An unknown name or option is an error naming the nearest valid one.
func Resolve(reg Registry, name string, target Target, kv map[string]string) (Config, error) {
	if strings.TrimSpace(name) == "" {
		return Config{}, errors.New("no provider given; 'netconform providers' lists them")
	}
	p, err := reg.Lookup(name)
	if err != nil {
		return Config{}, err
	}
	return Configure(p, name, target, kv)
}

// Configure is Resolve for a provider already found under the name given.
func Configure(p Provider, given string, target Target, kv map[string]string) (Config, error) {
	d := p.Descriptor()
	settings := Presets(d, given)
	maps.Copy(settings, kv)
	typed, err := ParseOptions(d, target, settings)
	if err != nil {
		return Config{}, err
	}
	return Config{Provider: p, Descriptor: d, Name: d.Name, Given: given, Settings: settings, Options: typed}, nil
}

// Presets are the options the kops --networking value name sets, if name is one of d's; a new
// map the caller may change.
func Presets(d Descriptor, name string) map[string]string {
	out := map[string]string{}
	for _, v := range d.KopsValues {
		if strings.EqualFold(strings.TrimSpace(name), v.Value) {
			maps.Copy(out, v.Presets)
		}
	}
	return out
}

// KindInstaller returns the installer for c on kind and the healthy model the suites compare
// nodes with, or an error saying why this provider cannot be installed there (with the names of
// those that can, from reg).
func (c Config) KindInstaller(reg Registry, mtu int) (Installer, Healthy, error) {
	k, ok := c.Provider.(KindInstallable)
	if !ok {
		return nil, Healthy{}, fmt.Errorf("provider %q cannot be installed on kind by this netconform: %s (%s); installable: %s; 'netconform providers' lists every mode and why",
			c.Given, c.Descriptor.Kind.Status, c.Descriptor.Kind.Reason, strings.Join(Installable(reg), ", "))
	}
	// The providers' own errors start with their name ("<name>: ..."), so they go out as is.
	return k.KindInstaller(c.Settings, mtu)
}

// Installable are the names of reg's providers that netconform installs on kind from what it
// builds here (kind status supported), in reg's order: what `netconform providers
// --installable` prints and the matrix runs by default. Providers installed from their upstream
// images only (upstream-images) are left out, so that this list does not depend on a registry;
// a run that names one checks its images first.
func Installable(reg Registry) []string {
	var out []string
	for _, p := range reg.All() {
		if _, ok := p.(KindInstallable); ok && p.Descriptor().Kind.Status == KindSupported {
			out = append(out, p.Descriptor().Name)
		}
	}
	return out
}

// KindDefault is the provider kind runs use when none is named (Descriptor.Kind.Default), and
// KindSwitchTarget the one a switch goes to from it when no target is named; "" when reg marks
// none.
func KindDefault(reg Registry) string {
	return nameOf(marked(reg, func(d Descriptor) bool { return d.Kind.Default }))
}

// KindSwitchTarget: see KindDefault.
func KindSwitchTarget(reg Registry) string {
	return nameOf(marked(reg, func(d Descriptor) bool { return d.Kind.SwitchTarget }))
}

// marked is the first of reg's providers whose descriptor has the mark; nil when none has.
func marked(reg Registry, mark func(Descriptor) bool) Provider {
	for _, p := range reg.All() {
		if mark(p.Descriptor()) {
			return p
		}
	}
	return nil
}

func nameOf(p Provider) string {
	if p == nil {
		return ""
	}
	return p.Descriptor().Name
}

// Suggested names the providers reg marks Suggested, in reg's order, joined with "or" ("a or b",
// "a, b or c"), for messages that suggest another provider.
func Suggested(reg Registry) string {
	var names []string
	for _, p := range reg.All() {
		if d := p.Descriptor(); d.Suggested {
			names = append(names, d.Name)
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ImpliedMode is the provider reg marks Implied: the mode kops assumes when a spec selects none.
func ImpliedMode(reg Registry) (Provider, bool) {
	p := marked(reg, func(d Descriptor) bool { return d.Implied })
	return p, p != nil
}
