package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/netconform/netconform/fixtures/kops"
	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func load(t *testing.T, files ...string) *kopsspec.Set {
	t.Helper()
	set := &kopsspec.Set{}
	for _, f := range files {
		data, err := fs.ReadFile(kops.Files, f)
		if err != nil {
			t.Fatalf("fixture %s: %v", f, err)
		}
		s, err := kopsspec.Parse(f, data)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		set.Add(s)
	}
	return set
}

func check(t *testing.T, opts Options, files ...string) []Finding {
	t.Helper()
	fs, err := Check(load(t, files...), opts)
	if err != nil {
		t.Fatalf("Check(%v): %v", files, err)
	}
	return fs
}

// brief renders findings as "RULE path" for comparison.
func brief(fs []Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Path)
	}
	return out
}

func withKops(major, minor int) func(*Options) {
	return func(o *Options) { o.KopsVersion = providers.V(major, minor) }
}

// TestRules runs every fixture through every rule: each case lists exactly the findings it
// must produce, so a rule that fires where it should not fails as surely as one that stays
// silent.
func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		opts  func(*Options)
		want  []string
	}{
		// Clean specs: nothing fires.
		{name: "calico private AWS with Typha", files: []string{"calico-aws-valid.yaml"}},
		{name: "cilium ENI, node port, managed etcd", files: []string{"cilium-aws-valid.yaml"}},
		{name: "kubenet public, 11 nodes", files: []string{"kubenet-public-valid.yaml"}},
		{name: "kube-router with kube-proxy off", files: []string{"kuberouter-valid.yaml"}},
		{name: "amazonvpc env", files: []string{"amazonvpc-valid.yaml"}},
		{name: "flannel udp", files: []string{"flannel-udp-valid.yaml"}},
		{name: "canal on Kubernetes 1.27", files: []string{"canal-k8s127-valid.yaml"}},
		{name: "v1alpha3 cilium", files: []string{"v1alpha3-cilium-valid.yaml"}},
		{name: "split files, 76 nodes, Typha warning", files: []string{"split-cluster.yaml", "split-igs.yaml"}, want: []string{"NC018 spec.networking.calico"}},

		// NC001
		{name: "NC001 kubenet private topology", files: []string{"nc001-kubenet-private.yaml"}, want: []string{"NC001 spec.networking.kubenet"}},
		{name: "NC001 inside a List", files: []string{"list-kubenet-private.yaml"}, want: []string{"NC001 items[0].spec.networking.kubenet"}},
		// NC002
		{name: "NC002 fires with the old quota of 50", files: []string{"nc002-kubenet-routes.yaml"}, opts: func(o *Options) { o.RouteQuota = 50 },
			want: []string{"NC002 spec.networking.kubenet"}},
		{name: "NC002 silent at the default quota", files: []string{"nc002-kubenet-routes.yaml"}},
		{name: "NC002 silent at exactly the quota", files: []string{"nc002-kubenet-routes.yaml"}, opts: func(o *Options) { o.RouteQuota = 61 }},
		{name: "NC002 counts existing routes", files: []string{"nc002-kubenet-routes.yaml"}, opts: func(o *Options) { o.RouteQuota = 61; o.ExistingRoutes = 3 },
			want: []string{"NC002 spec.networking.kubenet"}},
		// NC003
		{name: "NC003 romana removed", files: []string{"nc003-romana-removed.yaml"}, want: []string{"NC003 spec.networking.romana"}},
		{name: "NC003 silent for romana with kops 1.17", files: []string{"nc003-romana-removed.yaml"}, opts: withKops(1, 17)},
		{name: "NC003 weave removed in newest kops", files: []string{"nc003-weave-k8s123.yaml"}, want: []string{"NC003 spec.networking.weave"}},
		{name: "NC003 weave on Kubernetes 1.23 with kops 1.23", files: []string{"nc003-weave-k8s123.yaml"}, opts: withKops(1, 23), want: []string{"NC003 spec.networking.weave"}},
		{name: "NC003 canal on Kubernetes 1.28", files: []string{"nc003-canal-k8s128.yaml"}, want: []string{"NC003 spec.networking.canal"}},
		{name: "NC003 cilium options need kops 1.18", files: []string{"cilium-aws-valid.yaml"}, opts: withKops(1, 17),
			want: []string{"NC003 spec.networking.cilium.enableNodePort", "NC003 spec.networking.cilium.etcdManaged"}},
		{name: "NC003 cilium options fine with kops 1.18", files: []string{"cilium-aws-valid.yaml"}, opts: withKops(1, 18)},
		{name: "NC003 provider not in kops yet", files: []string{"canal-k8s127-valid.yaml"}, opts: withKops(1, 11), want: []string{"NC003 spec.networking.canal"}},
		// NC004
		{name: "NC004 lyftvpc deprecated in kops 1.22", files: []string{"nc004-lyftvpc-deprecated.yaml"}, opts: withKops(1, 22), want: []string{"NC004 spec.networking.lyftvpc"}},
		{name: "NC004 silent for lyftvpc with kops 1.21", files: []string{"nc004-lyftvpc-deprecated.yaml"}, opts: withKops(1, 21)},
		{name: "NC004 becomes NC003 with kops 1.23", files: []string{"nc004-lyftvpc-deprecated.yaml"}, opts: withKops(1, 23), want: []string{"NC003 spec.networking.lyftvpc"}},
		{name: "NC004 weave before Kubernetes 1.23", files: []string{"nc014-weave-password-in-spec.yaml"}, opts: withKops(1, 25),
			want: []string{"NC004 spec.networking.weave", "NC014 spec.networking.weave.password"}},
		// NC005
		{name: "NC005 two providers", files: []string{"nc005-two-providers.yaml"}, want: []string{"NC005 spec.networking.flannel"}},
		// NC006
		{name: "NC006 no networking means kubenet", files: []string{"nc006-no-networking.yaml"}, want: []string{"NC006 spec.networking"}},
		{name: "NC006 implied kubenet still meets NC002", files: []string{"nc006-no-networking.yaml"}, opts: func(o *Options) { o.RouteQuota = 5 },
			want: []string{"NC006 spec.networking", "NC002 spec.networking"}},
		// NC007
		{name: "NC007 amazonvpc on GCE", files: []string{"nc007-amazonvpc-gce.yaml"}, want: []string{"NC007 spec.networking.amazonvpc"}},
		{name: "NC007 gce on AWS", files: []string{"nc007-gce-on-aws.yaml"}, want: []string{"NC007 spec.networking.gce"}},
		// NC008
		{name: "NC008 calico vxlan MTU above 8951", files: []string{"nc008-calico-mtu.yaml"}, want: []string{"NC008 spec.networking.calico.mtu"}},
		{name: "NC008 silent with kops' 8912", files: []string{"calico-aws-valid.yaml"}},
		{name: "NC008 8912 across a 1500 path", files: []string{"calico-aws-valid.yaml"}, opts: func(o *Options) { o.UnderlayMTU = 1500 },
			want: []string{"NC008 spec.networking.calico.mtu"}},
		// NC009
		{name: "NC009 cilium eni with masquerade", files: []string{"nc009-cilium-eni-masquerade.yaml"}, want: []string{"NC009 spec.networking.cilium.ipam"}},
		// NC010
		{name: "NC010 cilium node port with kube-proxy", files: []string{"nc010-cilium-nodeport-proxy.yaml"}, want: []string{"NC010 spec.networking.cilium.enableNodePort"}},
		// NC011
		{name: "NC011 cilium etcd missing", files: []string{"nc011-cilium-etcd-missing.yaml"}, want: []string{"NC011 spec.networking.cilium.etcdManaged"}},
		// NC012
		{name: "NC012 kube-router with kube-proxy", files: []string{"nc012-kuberouter-proxy.yaml"}, want: []string{"NC012 spec.networking.kuberouter"}},
		// NC013
		{name: "NC013 lyftvpc without networkID", files: []string{"nc013-lyftvpc-no-networkid.yaml"}, opts: withKops(1, 21), want: []string{"NC013 spec.networking.lyftvpc"}},
		{name: "NC013 silent with networkID", files: []string{"lyftvpc-networkid-valid.yaml"}, opts: withKops(1, 21)},
		// NC014
		{name: "NC014 flannel bad backend and quoted number", files: []string{"nc014-bad-options.yaml"},
			want: []string{"NC014 spec.networking.flannel.backend", "NC014 spec.networking.flannel.iptablesResyncSeconds"}},
		// NC015
		{name: "NC015 misspelt provider", files: []string{"nc015-unknown-key.yaml"}, want: []string{"NC015 spec.networking.calcio"}},
		// NC016
		{name: "NC016 no instance groups", files: []string{"nc016-kubenet-no-igs.yaml"}, want: []string{"NC016 spec.networking"}},
		{name: "NC016 calico cluster file alone", files: []string{"split-cluster.yaml"}, want: []string{"NC016 spec.networking"}},
		// NC017
		{name: "NC017 no kubernetesVersion", files: []string{"nc017-no-kubernetes-version.yaml"}, want: []string{"NC017 spec.kubernetesVersion"}},
		// NC018
		{name: "NC018 calico on 61 nodes without Typha", files: []string{"nc018-calico-no-typha.yaml"}, want: []string{"NC018 spec.networking.calico"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions(catalog.Registry{})
			if tc.opts != nil {
				tc.opts(&opts)
			}
			got := brief(check(t, opts, tc.files...))
			want := slices.Clone(tc.want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("findings = %q\nwant       %q", got, want)
			}
		})
	}
}

// TestFindingDetails pins the message, line and severity of representative findings.
func TestFindingDetails(t *testing.T) {
	opts := DefaultOptions(catalog.Registry{})
	opts.RouteQuota = 50
	fs := check(t, opts, "nc002-kubenet-routes.yaml")
	if len(fs) != 1 {
		t.Fatalf("findings = %v", fs)
	}
	f := fs[0]
	if f.Severity != Error || f.Line != 42 || f.File != "nc002-kubenet-routes.yaml" ||
		!strings.HasPrefix(f.Message, "kubenet needs 61 routes in one table") || !strings.HasSuffix(f.Message, "quota 50") {
		t.Errorf("NC002 finding = %+v", f)
	}

	fs = check(t, DefaultOptions(catalog.Registry{}), "nc008-calico-mtu.yaml")
	if len(fs) != 1 || !strings.Contains(fs[0].Message, "mtu 8981 is above 8951") || !strings.Contains(fs[0].Fix, "8951") {
		t.Errorf("NC008 finding = %+v", fs)
	}
	fs = check(t, DefaultOptions(catalog.Registry{}), "nc006-no-networking.yaml")
	if len(fs) != 1 || fs[0].Severity != Info || !strings.Contains(fs[0].Message, "kubenet") {
		t.Errorf("NC006 finding = %+v", fs)
	}
}

func TestNoInstanceGroupsIsSilentWhenNothingCountsNodes(t *testing.T) {
	set := load(t, "v1alpha3-cilium-valid.yaml")
	set.InstanceGroups = nil
	fs, err := Check(set, DefaultOptions(catalog.Registry{}))
	if err != nil || len(fs) != 0 {
		t.Errorf("cilium without instance groups: %v, %v; want no findings", fs, err)
	}
}

func TestSecretIsNeverPrinted(t *testing.T) {
	fs := check(t, DefaultOptions(catalog.Registry{}), "nc014-weave-password-in-spec.yaml")
	var text, js bytes.Buffer
	if err := WriteText(&text, fs); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, fs); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{text.String(), js.String()} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("output shows the weave password:\n%s", out)
		}
		if !strings.Contains(out, "weavepassword") {
			t.Errorf("output does not say where the password belongs:\n%s", out)
		}
	}
}

func TestNoClusterIsAnError(t *testing.T) {
	_, err := Check(load(t, "only-instancegroups.yaml"), DefaultOptions(catalog.Registry{}))
	if !errors.Is(err, ErrNoCluster) {
		t.Fatalf("err = %v, want ErrNoCluster", err)
	}
}

func TestRulesAreStable(t *testing.T) {
	id := regexp.MustCompile(`^NC\d{3}$`)
	rs := mustRules(t)
	if len(rs) < 18 {
		t.Fatalf("%d rules, want at least 18", len(rs))
	}
	for i, r := range rs {
		if !id.MatchString(r.ID) || r.Title == "" || (r.Severity != Error && r.Severity != Warning && r.Severity != Info) {
			t.Errorf("bad rule %+v", r)
		}
		if i > 0 && rs[i-1].ID >= r.ID {
			t.Errorf("rule ids out of order or repeated: %s then %s", rs[i-1].ID, r.ID)
		}
	}
}

func TestHasErrorsAndSummary(t *testing.T) {
	fs := []Finding{{Severity: Warning}, {Severity: Info}, {Severity: Info}}
	if HasErrors(fs) {
		t.Error("no errors expected")
	}
	if s := Summarize(append(fs, Finding{Severity: Error})); s != (Summary{Errors: 1, Warnings: 1, Infos: 2}) {
		t.Errorf("summary = %+v", s)
	}
	if !HasErrors([]Finding{{Severity: Error}}) {
		t.Error("error expected")
	}
}

// goldenCases are written as text and JSON; together they cover every rule.
var goldenCases = []struct {
	name  string
	files []string
	opts  func(*Options)
}{
	{"clean", []string{"calico-aws-valid.yaml", "cilium-aws-valid.yaml", "v1alpha3-cilium-valid.yaml"}, nil},
	{"kubenet", []string{"nc001-kubenet-private.yaml", "nc002-kubenet-routes.yaml", "nc006-no-networking.yaml", "nc016-kubenet-no-igs.yaml"},
		func(o *Options) { o.RouteQuota = 50 }},
	{"lifecycle", []string{"nc003-romana-removed.yaml", "nc003-weave-k8s123.yaml", "nc003-canal-k8s128.yaml", "nc004-lyftvpc-deprecated.yaml", "nc013-lyftvpc-no-networkid.yaml", "nc017-no-kubernetes-version.yaml"},
		withKops(1, 22)},
	{"providers", []string{"nc005-two-providers.yaml", "nc007-amazonvpc-gce.yaml", "nc007-gce-on-aws.yaml", "nc008-calico-mtu.yaml", "nc009-cilium-eni-masquerade.yaml",
		"nc010-cilium-nodeport-proxy.yaml", "nc011-cilium-etcd-missing.yaml", "nc012-kuberouter-proxy.yaml", "nc014-bad-options.yaml",
		"nc014-weave-password-in-spec.yaml", "nc015-unknown-key.yaml", "nc018-calico-no-typha.yaml"}, nil},
}

func TestGolden(t *testing.T) {
	covered := map[string]bool{}
	for _, gc := range goldenCases {
		opts := DefaultOptions(catalog.Registry{})
		if gc.opts != nil {
			gc.opts(&opts)
		}
		fs := check(t, opts, gc.files...)
		for _, f := range fs {
			covered[f.Rule] = true
		}
		var text, js bytes.Buffer
		if err := WriteText(&text, fs); err != nil {
			t.Fatal(err)
		}
		if err := WriteJSON(&js, fs); err != nil {
			t.Fatal(err)
		}
		var back Report
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Findings) != len(fs) || back.Summary != Summarize(fs) {
			t.Errorf("%s: JSON does not round-trip: %v", gc.name, err)
		}
		compareGolden(t, filepath.Join("testdata", gc.name+".txt"), text.Bytes())
		compareGolden(t, filepath.Join("testdata", gc.name+".json"), js.Bytes())
	}
	for _, r := range mustRules(t) {
		if !covered[r.ID] {
			t.Errorf("rule %s appears in no golden file", r.ID)
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./framework/lint -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

// TestCiliumENIOffAWS pins NC007's cilium part, which no golden file covers: ipam: eni on another
// cloud is reported at the ipam line with its own message and fix.
func TestCiliumENIOffAWS(t *testing.T) {
	data, err := fs.ReadFile(kops.Files, "cilium-aws-valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gce := strings.Replace(string(data), "cloudProvider: aws", "cloudProvider: gce", 1)
	if gce == string(data) {
		t.Fatal("fixture cilium-aws-valid.yaml no longer says cloudProvider: aws")
	}
	set, err := kopsspec.Parse("cilium-gce.yaml", []byte(gce))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Check(set, DefaultOptions(catalog.Registry{}))
	if err != nil {
		t.Fatal(err)
	}
	want := []Finding{{Rule: "NC007", Severity: Error, File: "cilium-gce.yaml", Line: 55, Path: "spec.networking.cilium.ipam",
		Message: "cilium ipam: eni needs AWS ENIs; this cluster is on gce", Fix: "remove ipam or set it to kubernetes"}}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %+v\nwant       %+v", got, want)
	}
}

func mustRules(t *testing.T) []RuleInfo {
	t.Helper()
	rs, err := Rules(catalog.Registry{})
	if err != nil {
		t.Fatalf("Rules(catalog): %v", err)
	}
	return rs
}

// TestRulesListEveryID: with the catalog, --rules lists NC001 to NC018 once each, as before the
// provider rules moved to their packages; cilium's part of NC007 adds no line.
func TestRulesListEveryID(t *testing.T) {
	var got []string
	for _, r := range mustRules(t) {
		got = append(got, r.ID)
	}
	var want []string
	for i := 1; i <= 18; i++ {
		want = append(want, fmt.Sprintf("NC%03d", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("rule ids = %v\nwant %v", got, want)
	}
}

// registry is a stand-in providers.Registry holding ps.
type registry []providers.Provider

func (r registry) All() []providers.Provider { return slices.Clone(r) }
func (r registry) Lookup(name string) (providers.Provider, error) {
	if p, ok := r.BySpecKey(name); ok {
		return p, nil
	}
	return nil, fmt.Errorf("unknown provider %s", name)
}
func (r registry) BySpecKey(key string) (providers.Provider, bool) {
	for _, p := range r {
		if p.Descriptor().SpecKey == key {
			return p, true
		}
	}
	return nil, false
}

// linter is a provider with the given lint rules.
type linter struct {
	key   string
	rules []providers.LintRule
}

func (l linter) Descriptor() providers.Descriptor {
	return providers.Descriptor{Name: l.key, SpecKey: l.key, Platforms: providers.Platforms{AnyCloud: true}}
}
func (l linter) LintRules() []providers.LintRule { return l.rules }

// TestProviderRulesComeFromTheRegistry: lint runs the rules of the providers it is given and no
// others, on clusters that set the provider, and places their findings.
func TestProviderRulesComeFromTheRegistry(t *testing.T) {
	calls := 0
	fake := linter{key: "cilium", rules: []providers.LintRule{{ID: "NC099", Severity: providers.LintWarning, Title: "fake",
		Check: func(c providers.LintCluster) []providers.LintFinding {
			calls++
			return []providers.LintFinding{{Path: c.Block.OptionPath("ipam"), Line: c.Block.OptionLine("ipam"), Message: "m " + string(c.Cloud), Fix: "f"}}
		}}}}
	got, err := Check(load(t, "nc009-cilium-eni-masquerade.yaml", "calico-aws-valid.yaml"), DefaultOptions(registry{fake}))
	if err != nil {
		t.Fatal(err)
	}
	// cilium's own NC009 is not in this registry; calico is unknown to it (NC015).
	if b := brief(got); !slices.Contains(b, "NC099 spec.networking.cilium.ipam") || slices.Contains(b, "NC009 spec.networking.cilium.ipam") || calls != 1 {
		t.Errorf("findings %q after %d calls; want NC099 from the one cilium cluster and no NC009", b, calls)
	}
	for _, f := range got {
		if f.Rule == "NC099" && (f.Severity != Warning || f.File != "nc009-cilium-eni-masquerade.yaml" || f.Line != 43 || f.Message != "m aws") {
			t.Errorf("NC099 finding = %+v", f)
		}
	}
	rs, err := Rules(registry{fake})
	if err != nil || !slices.Contains(rs, RuleInfo{ID: "NC099", Severity: Warning, Title: "fake"}) ||
		slices.ContainsFunc(rs, func(r RuleInfo) bool { return r.ID == "NC009" }) {
		t.Errorf("Rules = %v, %v; want NC099 and no NC009", rs, err)
	}
}

// TestBadProviderRulesAreRefused: an id clash, a part of no rule or of another severity, and a
// rule without a check are errors rather than a silently different --rules list.
func TestBadProviderRulesAreRefused(t *testing.T) {
	none := func(providers.LintCluster) []providers.LintFinding { return nil }
	for name, r := range map[string]providers.LintRule{
		"taken id":        {ID: "NC001", Severity: providers.LintError, Title: "another", Check: none},
		"part of nothing": {ID: "NC098", Severity: providers.LintError, Check: none},
		"part, severity":  {ID: "NC007", Severity: providers.LintWarning, Check: none},
		"no check":        {ID: "NC098", Severity: providers.LintError, Title: "t"},
		"bad id":          {ID: "X1", Severity: providers.LintError, Title: "t", Check: none},
		"bad severity":    {ID: "NC098", Severity: "fatal", Title: "t", Check: none},
	} {
		reg := registry{linter{key: "x", rules: []providers.LintRule{r}}}
		if _, err := Rules(reg); err == nil {
			t.Errorf("%s: Rules accepted %+v", name, r)
		}
		if _, err := Check(load(t, "calico-aws-valid.yaml"), DefaultOptions(reg)); err == nil {
			t.Errorf("%s: Check accepted %+v", name, r)
		}
	}
	if _, err := Check(load(t, "calico-aws-valid.yaml"), Options{}); err == nil {
		t.Error("Check without a registry did not fail")
	}
}
