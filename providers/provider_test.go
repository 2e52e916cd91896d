package providers

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/ipfamily"
)

func TestPodMTU(t *testing.T) {
	for _, tc := range []struct {
		name     string
		enc      Encapsulation
		underlay int
		want     int
	}{
		{"vxlan on AWS jumbo", VXLAN(""), 9001, 8951},
		{"vxlan on 1500", VXLAN(""), 1500, 1450},
		{"ipip on 1500", IPIP(""), 1500, 1480},
		{"flannel udp on 1500", UDP(""), 1500, 1472},
		{"87 bytes on AWS jumbo", Encapsulation{Overhead: 87}, 9001, 8914},
		{"routed keeps the underlay", None(""), 9001, 9001},
		{"nothing fits", VXLAN(""), 40, 0},
	} {
		if got := tc.enc.PodMTU(tc.underlay); got != tc.want {
			t.Errorf("%s: PodMTU(%d) = %d, want %d", tc.name, tc.underlay, got, tc.want)
		}
	}
	// kops' 8912 on AWS must fit the largest overhead it allows for (87), and 8914 is the exact bound.
	if (Encapsulation{Overhead: 87}).PodMTU(9001) < JumboPodMTU {
		t.Errorf("kops' jumbo pod MTU %d does not fit 9001 minus 87", JumboPodMTU)
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Version
		wantErr bool
	}{
		{in: "1.28", want: V(1, 28)},
		{in: "v1.29.3", want: Version{1, 29, 3}},
		{in: "1.30.0-beta.1", want: Version{1, 30, 0}},
		{in: "1.27.4+k3s1", want: Version{1, 27, 4}},
		{in: "https://storage.googleapis.com/kubernetes-release/release/v1.26.5", want: Version{1, 26, 5}},
		{in: "", wantErr: true},
		{in: "stable", wantErr: true},
		{in: "1", wantErr: true},
		{in: "1.2.3.4", wantErr: true},
		{in: "1.x", wantErr: true},
		{in: "0.0", wantErr: true},
		{in: "-1.2", wantErr: true},
	} {
		got, err := ParseVersion(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("ParseVersion(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestVersionCompareAndText(t *testing.T) {
	if !V(1, 28).AtLeast(V(1, 28)) || V(1, 27).AtLeast(V(1, 28)) || !(Version{1, 28, 1}).AtLeast(V(1, 28)) {
		t.Error("AtLeast is wrong")
	}
	b, err := json.Marshal(struct {
		V Version `json:"v"`
		Z Version `json:"z,omitzero"`
	}{V: Version{1, 5, 2}})
	if err != nil || string(b) != `{"v":"1.5.2"}` {
		t.Errorf("JSON = %s, %v", b, err)
	}
	var v Version
	if err := v.UnmarshalText([]byte("1.19")); err != nil || v != V(1, 19) {
		t.Errorf("UnmarshalText = %v, %v", v, err)
	}
}

func TestLifecycleAt(t *testing.T) {
	weave := Lifecycle{
		Status: StatusRemoved, IntroducedInKops: V(1, 5), DeprecatedInKops: V(1, 23),
		RemovedInKops: V(1, 28), UnsupportedFromKubernetes: V(1, 23),
	}
	for _, tc := range []struct {
		name       string
		l          Lifecycle
		kops, k8s  Version
		want       Status
		wantReason string
	}{
		{"weave, newest kops", weave, Version{}, V(1, 22), StatusRemoved, "removed in kops 1.28"},
		{"weave, kops 1.28", weave, V(1, 28), V(1, 22), StatusRemoved, "removed in kops 1.28"},
		{"weave, kops 1.27, k8s 1.23", weave, V(1, 27), Version{1, 23, 6}, StatusUnsupported, "not supported from Kubernetes 1.23"},
		{"weave, kops 1.24, k8s 1.22", weave, V(1, 24), V(1, 22), StatusDeprecated, "deprecated since kops 1.23"},
		{"weave, kops 1.22, k8s 1.22", weave, V(1, 22), V(1, 22), StatusSupported, "supported"},
		{"weave, kops 1.4", weave, V(1, 4), V(1, 4), StatusNotYet, "not available before kops 1.5"},
		{"experimental stays experimental", Lifecycle{Status: StatusExperimental}, V(1, 30), V(1, 30), StatusExperimental, "experimental in kops"},
		{"no kubernetes version skips that check", Lifecycle{Status: StatusSupported, UnsupportedFromKubernetes: V(1, 28)}, Version{}, Version{}, StatusSupported, "supported"},
	} {
		got := tc.l.At(tc.kops, tc.k8s)
		if got.Status != tc.want || got.Reason != tc.wantReason {
			t.Errorf("%s: At = %+v, want %s (%s)", tc.name, got, tc.want, tc.wantReason)
		}
		if got.Status.Usable() != (tc.want == StatusSupported || tc.want == StatusDeprecated || tc.want == StatusExperimental) {
			t.Errorf("%s: Usable() = %t", tc.name, got.Status.Usable())
		}
	}
}

func TestDefaultAt(t *testing.T) {
	kubenet := Lifecycle{IsDefault: true, DefaultUntilKops: V(1, 26)}
	cilium := Lifecycle{IsDefault: true, DefaultFromKops: V(1, 26)}
	for _, tc := range []struct {
		name string
		l    Lifecycle
		kops Version
		want bool
	}{
		{"kubenet in 1.25", kubenet, V(1, 25), true},
		{"kubenet in 1.26", kubenet, V(1, 26), false},
		{"kubenet newest", kubenet, Version{}, false},
		{"cilium in 1.25", cilium, V(1, 25), false},
		{"cilium in 1.26", cilium, V(1, 26), true},
		{"cilium newest", cilium, Version{}, true},
		{"never default", Lifecycle{}, V(1, 26), false},
	} {
		if got := tc.l.DefaultAt(tc.kops); got != tc.want {
			t.Errorf("%s: DefaultAt = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestOptionValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opt     Option
		value   any
		wantErr string
	}{
		{"bool ok", Option{Name: "b", Type: TypeBool}, true, ""},
		{"bool from string", Option{Name: "b", Type: TypeBool}, "true", `want true or false, got "true"`},
		{"int ok", Option{Name: "n", Type: TypeInt, Min: IntPtr(0)}, 3, ""},
		{"int below min", Option{Name: "n", Type: TypeInt, Min: IntPtr(576)}, 100, "below the minimum 576"},
		{"int above max", Option{Name: "n", Type: TypeInt, Max: IntPtr(10)}, 11, "above the maximum 10"},
		{"int from float", Option{Name: "n", Type: TypeInt}, 1.5, "want an integer, got 1.5"},
		{"enum ok", Option{Name: "e", Type: TypeString, Enum: []string{"a", "b"}}, "b", ""},
		{"enum bad", Option{Name: "e", Type: TypeString, Enum: []string{"a", "b"}}, "c", `"c" is not one of a, b`},
		{"map ok", Option{Name: "m", Type: TypeStringMap}, map[string]any{"k": "v"}, ""},
		{"map bad value", Option{Name: "m", Type: TypeStringMap}, map[string]any{"k": 1}, `key "k": want a string value`},
		{"map not a map", Option{Name: "m", Type: TypeStringMap}, "x", "want a mapping of strings"},
		{"env ok", Option{Name: "env", Type: TypeEnvList}, []any{map[string]any{"name": "A", "value": "1"}}, ""},
		{"env unquoted number", Option{Name: "env", Type: TypeEnvList}, []any{map[string]any{"name": "A", "value": 10}}, "value must be a string (quote it)"},
		{"env no name", Option{Name: "env", Type: TypeEnvList}, []any{map[string]any{"value": "1"}}, "name must be a non-empty string"},
		{"env not a list", Option{Name: "env", Type: TypeEnvList}, map[string]any{}, "want a list"},
		{"unknown type", Option{Name: "x", Type: "complex"}, 1, "unknown option type"},
	} {
		err := tc.opt.Validate(tc.value)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestSecretValuesAreNeverPrinted(t *testing.T) {
	const secret = "hunter2-s3cr3t"
	opt := Option{Name: "password", Type: TypeInt, Secret: true, InSpec: true}
	err := opt.Validate(secret)
	if err == nil {
		t.Fatal("want a type error")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the secret: %v", err)
	}
	enum := Option{Name: "password", Type: TypeString, Enum: []string{"x"}, Secret: true, InSpec: true}
	if err := enum.Validate(secret); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("enum error = %v; want an error without the secret", err)
	}
	d := Descriptor{Options: []Option{{Name: "password", Type: TypeString, Secret: true, Source: "kops create secret weavepassword"}}}
	errs := ValidateOptions(d, map[string]any{"password": secret})
	if len(errs) != 1 || errs[0].Option != "password" {
		t.Fatalf("ValidateOptions = %v, want one error for password (not a spec field)", errs)
	}
	if strings.Contains(errs[0].Error(), secret) || !strings.Contains(errs[0].Error(), "kops create secret weavepassword") {
		t.Errorf("error = %q; want the source and no secret", errs[0])
	}
}

func TestValidateOptionsIgnoresUnknownAndOrders(t *testing.T) {
	d := Descriptor{Options: []Option{
		{Name: "z", Type: TypeBool, InSpec: true},
		{Name: "a", Type: TypeInt, InSpec: true},
	}}
	errs := ValidateOptions(d, map[string]any{"z": 1, "a": "x", "somethingKopsHas": 3, "nullValue": nil})
	if len(errs) != 2 || errs[0].Option != "a" || errs[1].Option != "z" {
		t.Fatalf("ValidateOptions = %v, want errors for a then z only", errs)
	}
}

func TestPlatforms(t *testing.T) {
	aws := Platforms{Clouds: []Cloud{AWS}}
	if !aws.RunsOn(AWS) || aws.RunsOn(GCE) || aws.String() != "AWS only" {
		t.Errorf("AWS-only platforms wrong: RunsOn(aws)=%t RunsOn(gce)=%t %q", aws.RunsOn(AWS), aws.RunsOn(GCE), aws)
	}
	anyCloud := Platforms{AnyCloud: true}
	if !anyCloud.RunsOn(OpenStack) || anyCloud.String() != "any cloud" {
		t.Error("any-cloud platforms wrong")
	}
}

func TestPortString(t *testing.T) {
	for _, tc := range []struct {
		p    Port
		want string
	}{
		{Port{Protocol: "tcp", Port: 179}, "tcp/179"},
		{Port{Protocol: "udp", Port: 6783, EndPort: 6784}, "udp/6783-6784"},
		{Port{Protocol: "ipip"}, "ipip"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}

// A provider names the IP families its kind installer configures; one that names none is IPv4
// only, and a run asking it for another family is refused naming the provider, the family, what
// it does, and why not.
func TestRefuseIPFamily(t *testing.T) {
	d := Descriptor{Name: "flannel", Kind: KindSupport{Status: KindSupported}}
	if err := d.RefuseIPFamily(ipfamily.IPv4); err != nil {
		t.Errorf("IPv4 refused: %v", err)
	}
	if fams := d.Kind.Families(); len(fams) != 1 || fams[0] != ipfamily.IPv4 {
		t.Errorf("no families named: %v, want IPv4", fams)
	}
	err := d.RefuseIPFamily(ipfamily.Dual)
	if err == nil || err.Error() != "flannel: --ip-family dual is not supported on kind by netconform yet (IPv4 only)" {
		t.Errorf("dual: %v", err)
	}
	d.Kind.IPv6Gap = "its net-conf.json needs EnableIPv6"
	if err := d.RefuseIPFamily(ipfamily.IPv6); err == nil || err.Error() != "flannel: --ip-family ipv6 is not supported on kind by netconform yet (IPv4 only: its net-conf.json needs EnableIPv6)" {
		t.Errorf("ipv6: %v", err)
	}
	d.Kind.IPFamilies = []ipfamily.Family{ipfamily.IPv4, ipfamily.IPv6}
	if err := d.RefuseIPFamily(ipfamily.IPv6); err != nil {
		t.Errorf("declared ipv6 refused: %v", err)
	}
	if err := d.RefuseIPFamily(ipfamily.Dual); err == nil || !strings.Contains(err.Error(), "(IPv4, IPv6 only: ") {
		t.Errorf("dual with IPv4 and IPv6 declared: %v", err)
	}
}
