package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

func TestProvidersTable(t *testing.T) {
	out, code, err := runCLI(t, "providers")
	if code != exitOK || err != nil {
		t.Fatalf("exit %d, %v", code, err)
	}
	// One row per registered provider: the count comes from the catalog, so adding a provider
	// does not touch this test. After a blank line, the providers installed from upstream
	// images, with their images.
	table, upstream, _ := strings.Cut(out, "\n\n")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if n := len(catalog.All()); len(lines) != n+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("want a header and %d rows, got %d lines:\n%s", n, len(lines), out)
	}
	for _, p := range catalog.All() {
		d := p.Descriptor()
		if d.Kind.Status != providers.KindUpstreamImages {
			continue
		}
		if !strings.Contains(upstream, "  "+d.Name+" ") || !strings.Contains(upstream, strings.Join(d.Kind.Images, ", ")) {
			t.Errorf("the table's end does not name %s's upstream images %v:\n%s", d.Name, d.Kind.Images, upstream)
		}
	}
	if !strings.Contains(upstream, "never ran here") {
		t.Errorf("the table's end does not say the upstream-image installers never ran here:\n%s", upstream)
	}
	for i, p := range catalog.All() {
		d := p.Descriptor()
		row := lines[i+1]
		if !strings.HasPrefix(row, d.Name+" ") {
			t.Errorf("row %d = %q, want %s first", i+1, row, d.Name)
		}
		for _, v := range d.KopsValueNames() {
			if !strings.Contains(row, v) {
				t.Errorf("%s row lacks kops value %s", d.Name, v)
			}
		}
	}
	for _, want := range []string{"removed (kops 1.19)", "removed (kops 1.23)", "removed (kops 1.28)", "AWS only", "not on Kubernetes 1.28+", "kops default from 1.26"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestProvidersJSON(t *testing.T) {
	out, code, _ := runCLI(t, "providers", "-o", "json")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var ds []providers.Descriptor
	if err := json.Unmarshal([]byte(out), &ds); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	all := catalog.All()
	if len(ds) != len(all) {
		t.Fatalf("decoded %d descriptors, want one per registered provider (%d)", len(ds), len(all))
	}
	for i, p := range all {
		if ds[i].Name != p.Descriptor().Name {
			t.Errorf("descriptor %d = %s, want %s (the catalog's order)", i, ds[i].Name, p.Descriptor().Name)
		}
	}
	var romana providers.Descriptor
	for _, d := range ds {
		if d.Name == "romana" {
			romana = d
		}
	}
	if romana.Lifecycle.RemovedInKops != providers.V(1, 19) {
		t.Fatalf("romana lifecycle = %+v, want removed in kops 1.19", romana.Lifecycle)
	}
}

func TestProviderDetail(t *testing.T) {
	out, code, _ := runCLI(t, "providers", "amazon-vpc-routed-eni")
	if code != exitOK || !strings.HasPrefix(out, "amazonvpc (Amazon VPC CNI)") || !strings.Contains(out, "ec2:AssignPrivateIpAddresses") {
		t.Errorf("exit %d, detail:\n%s", code, out)
	}
	out, _, _ = runCLI(t, "providers", "weave")
	if !strings.Contains(out, "password (string, default generated at random by kops, secret)") || !strings.Contains(out, "kops create secret weavepassword") {
		t.Errorf("weave detail must mark the password secret and say where it lives:\n%s", out)
	}
	for _, want := range []string{"on kind:           upstream-images: ", "never ran here", "upstream images: weaveworks/weave-kube:2.8.1, weaveworks/weave-npc:2.8.1", "not built: its sources (github.com/weaveworks/weave)", "--ip-family ipv4", "Kubernetes >= 1.23"} {
		if !strings.Contains(out, want) {
			t.Errorf("weave detail lacks %q:\n%s", want, out)
		}
	}
	out, _, _ = runCLI(t, "providers", "flannel")
	if !strings.Contains(out, "options on kind") || !strings.Contains(out, "one of vxlan|udp|host-gw") {
		t.Errorf("flannel detail must list the options netconform's kind install takes:\n%s", out)
	}
	_, code, err := runCLI(t, "providers", "calcio")
	if code != exitCouldNotRun || err == nil || err.Error() != "unknown provider calcio; did you mean calico?" {
		t.Errorf("unknown provider: exit %d, %v", code, err)
	}
}

// Scripts and the Makefile ask the binary for provider names instead of listing them.
func TestProvidersNamesForScripts(t *testing.T) {
	out, code, _ := runCLI(t, "providers", "--installable")
	if code != 0 || len(strings.Fields(out)) != len(providers.Installable(registry())) || !strings.HasSuffix(out, "\n") {
		t.Errorf("--installable: exit %d, %q", code, out)
	}
	for _, flag := range []string{"--default", "--switch-target"} {
		out, code, _ := runCLI(t, "providers", flag)
		if code != 0 || len(strings.Fields(out)) != 1 {
			t.Errorf("%s: exit %d, %q", flag, code, out)
		}
	}
	if _, code, _ := runCLI(t, "providers", "--default", "--installable"); code != 2 {
		t.Errorf("two name flags: exit %d, want 2", code)
	}
}
