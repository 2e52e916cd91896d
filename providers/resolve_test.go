package providers

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// fakeRegistry holds test providers; it finds them by name and kops value, as the catalog does.
type fakeRegistry []Provider

func (r fakeRegistry) All() []Provider { return append([]Provider(nil), r...) }

func (r fakeRegistry) Lookup(name string) (Provider, error) {
	for _, p := range r {
		d := p.Descriptor()
		if strings.EqualFold(name, d.Name) || strings.EqualFold(name, d.SpecKey) {
			return p, nil
		}
		for _, v := range d.KopsValues {
			if strings.EqualFold(name, v.Value) {
				return p, nil
			}
		}
	}
	return nil, errors.New("unknown provider " + name)
}

func (r fakeRegistry) BySpecKey(key string) (Provider, bool) {
	for _, p := range r {
		if p.Descriptor().SpecKey == key {
			return p, true
		}
	}
	return nil, false
}

// plain installs nothing; overlay installs on kind with a mode option and a preset kops value.
type plain struct{}

func (plain) Descriptor() Descriptor {
	return Descriptor{Name: "plain", SpecKey: "plain", KopsValues: []KopsValue{{Value: "plain"}},
		Kind: KindSupport{Status: KindPossible, Reason: "bring your own"}}
}

type overlay struct{}

func (overlay) Descriptor() Descriptor {
	return Descriptor{
		Name: "overlay", SpecKey: "overlay",
		KopsValues: []KopsValue{{Value: "overlay"}, {Value: "overlay-fast", Presets: map[string]string{"mode": "fast"}}},
		Options:    []Option{{Name: "mode", Type: TypeString, Enum: []string{"slow", "fast"}, InSpec: true}, {Name: "size", Type: TypeInt, InSpec: true}},
		Kind:       KindSupport{Status: KindSupported, Default: true, SwitchTarget: true},
	}
}

type overlayInstaller struct{ settings map[string]string }

func (overlayInstaller) Install(context.Context, Cluster) error { return nil }

func (overlay) KindInstaller(settings map[string]string, mtu int) (Installer, Healthy, error) {
	if settings["mode"] == "slow" {
		return nil, Healthy{}, errors.New("overlay: mode slow needs a kernel module kind lacks")
	}
	return overlayInstaller{settings}, Healthy{EncapOverhead: 50}, nil
}

// Networking: the kops value as given (its presets are the ones applied), the first one for
// any other name, none for a provider kops has no value for.
func TestDescriptorNetworking(t *testing.T) {
	d := overlay{}.Descriptor()
	for given, want := range map[string]string{"overlay-fast": "overlay-fast", " Overlay-Fast ": "overlay-fast", "overlay": "overlay", "ovl": "overlay", "": "overlay"} {
		if got := d.Networking(given); got != want {
			t.Errorf("Networking(%q) = %q, want %q", given, got, want)
		}
	}
	if got := (Descriptor{Name: "bare"}).Networking("bare"); got != "" {
		t.Errorf("a provider without kops values: %q", got)
	}
}

func TestResolveAppliesPresetsThenOptions(t *testing.T) {
	reg := fakeRegistry{plain{}, overlay{}}
	cfg, err := Resolve(reg, "overlay-fast", ForKind, map[string]string{"size": "3"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "overlay" || cfg.Given != "overlay-fast" || cfg.Settings["mode"] != "fast" || cfg.Options["size"] != 3 {
		t.Errorf("resolved %+v", cfg)
	}
	// The user's option overrides the kops value's preset.
	cfg, err = Resolve(reg, "overlay-fast", ForKind, map[string]string{"mode": "slow"})
	if err != nil || cfg.Options["mode"] != "slow" {
		t.Errorf("override: %+v, %v", cfg.Options, err)
	}
	if _, err := Resolve(reg, "overlay", ForKind, map[string]string{"sise": "3"}); err == nil || !strings.Contains(err.Error(), "did you mean size") {
		t.Errorf("typo: %v", err)
	}
	if _, err := Resolve(reg, " ", ForKind, nil); err == nil {
		t.Error("an empty name resolved")
	}
}

func TestKindInstallerFromTheProvider(t *testing.T) {
	reg := fakeRegistry{plain{}, overlay{}}
	cfg, _ := Resolve(reg, "overlay-fast", ForKind, nil)
	in, h, err := cfg.KindInstaller(reg, 0)
	if err != nil || h.EncapOverhead != 50 || in.(overlayInstaller).settings["mode"] != "fast" {
		t.Errorf("installer %+v %+v %v", in, h, err)
	}
	cfg, _ = Resolve(reg, "plain", ForKind, nil)
	if _, _, err := cfg.KindInstaller(reg, 0); err == nil || !strings.Contains(err.Error(), "bring your own") || !strings.Contains(err.Error(), "installable: overlay;") {
		t.Errorf("not installable: %v", err)
	}
	if got := Installable(reg); len(got) != 1 || got[0] != "overlay" {
		t.Errorf("Installable = %v", got)
	}
	if KindDefault(reg) != "overlay" || KindSwitchTarget(reg) != "overlay" || KindDefault(fakeRegistry{plain{}}) != "" {
		t.Error("default or switch target not found by its mark")
	}
}
