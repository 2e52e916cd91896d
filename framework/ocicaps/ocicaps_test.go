package ocicaps

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		args []string
		want Invocation
	}{
		{[]string{"--root", "/run/runc", "--log", "/x/log.json", "--log-format", "json", "create", "--bundle", "/b", "--pid-file", "p", "id"},
			Invocation{Command: "create", Bundle: "/b"}},
		{[]string{"--systemd-cgroup", "run", "-b=/c", "id"}, Invocation{Command: "run", Bundle: "/c"}},
		{[]string{"--root", "/r", "exec", "--process", "/tmp/p.json", "--detach", "id"}, Invocation{Command: "exec", Process: "/tmp/p.json"}},
		{[]string{"state", "id"}, Invocation{Command: "state"}},
	}
	for _, c := range cases {
		if got := ParseArgs(c.args); got != c.want {
			t.Errorf("ParseArgs(%q) = %+v, want %+v", c.args, got, c.want)
		}
	}
}

func TestParseStatus(t *testing.T) {
	s, err := ParseStatus("Name:\tx\nCapBnd:\t000001fffeffffff\n")
	if err != nil {
		t.Fatal(err)
	}
	if s.Has("CAP_SYS_RESOURCE") {
		t.Error("bit 24 is clear but Has reports it")
	}
	if !s.Has("CAP_NET_ADMIN") || !s.Has("CAP_BPF") {
		t.Error("NET_ADMIN and BPF are set but Has denies them")
	}
	if _, err := ParseStatus("Name:\tx\n"); err == nil {
		t.Error("no CapBnd line must be an error")
	}
}

func TestPatchConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	cfg := map[string]any{"ociVersion": "1.0.2", "process": map[string]any{
		"oomScoreAdj":  -998,
		"capabilities": map[string]any{"bounding": []string{"CAP_NET_ADMIN", "CAP_SYS_RESOURCE"}, "effective": []string{"CAP_SYS_RESOURCE"}},
	}}
	raw, _ := json.Marshal(cfg)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	bounding := Set(0x1fffeffffff)
	if err := PatchFile(path, true, bounding, -500); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	p := got["process"].(map[string]any)
	caps := p["capabilities"].(map[string]any)
	if !reflect.DeepEqual(caps["bounding"], []any{"CAP_NET_ADMIN"}) || len(caps["effective"].([]any)) != 0 {
		t.Errorf("capabilities not trimmed: %v", caps)
	}
	if p["oomScoreAdj"].(float64) != -500 {
		t.Errorf("oomScoreAdj = %v, want -500", p["oomScoreAdj"])
	}
	if got["ociVersion"] != "1.0.2" {
		t.Error("other fields must survive")
	}
}

func TestPatchUnchangedKeepsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	orig := `{"capabilities":{"bounding":["CAP_NET_ADMIN"]},  "oomScoreAdj": 10}`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := PatchFile(path, false, Set(^uint64(0)), 0); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != orig {
		t.Errorf("file rewritten although nothing changed: %s", b)
	}
}

func TestGrantPrivilegedCompletesOnlyPrivilegedConfigs(t *testing.T) {
	bounding := Set(0x1fffeffffff) // the host here: everything up to CAP_CHECKPOINT_RESTORE but CAP_SYS_RESOURCE
	privileged := func() map[string]any {
		return map[string]any{
			"linux": map[string]any{},
			"process": map[string]any{"capabilities": map[string]any{
				"bounding":  []any{"CAP_SYS_ADMIN", "CAP_NET_ADMIN"},
				"effective": []any{"CAP_SYS_ADMIN", "CAP_NET_ADMIN"},
				"permitted": []any{"CAP_SYS_ADMIN", "CAP_NET_ADMIN"},
			}},
		}
	}
	cfg := privileged()
	if !GrantPrivileged(cfg, bounding) {
		t.Fatal("a privileged config was left as it was")
	}
	caps := cfg["process"].(map[string]any)["capabilities"].(map[string]any)
	for _, kind := range []string{"bounding", "effective", "permitted"} {
		if !contains(caps[kind], "CAP_BPF") || !contains(caps[kind], "CAP_PERFMON") {
			t.Errorf("%s lacks CAP_BPF or CAP_PERFMON: %v", kind, caps[kind])
		}
		if contains(caps[kind], "CAP_SYS_RESOURCE") {
			t.Errorf("%s got CAP_SYS_RESOURCE, which the host cannot grant", kind)
		}
	}
	if GrantPrivileged(cfg, bounding) {
		t.Error("a second pass changed it again")
	}
	masked := privileged()
	masked["linux"].(map[string]any)["maskedPaths"] = []any{"/proc/kcore"}
	if GrantPrivileged(masked, bounding) {
		t.Error("a container with masked paths is not privileged")
	}
	plain := privileged()
	plain["process"].(map[string]any)["capabilities"].(map[string]any)["bounding"] = []any{"CAP_NET_ADMIN"}
	if GrantPrivileged(plain, bounding) {
		t.Error("a container without CAP_SYS_ADMIN is not privileged")
	}
}
