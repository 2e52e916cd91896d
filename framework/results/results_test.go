package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/redact"
)

func TestRecorderRewritesAfterEveryCheckAndRedacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "result.json")
	rec, err := NewRecorder(path, Result{RunID: "r1", Provider: "weave", ProviderOptions: map[string]string{"password": "PLANTED-WEAVE-PASSWORD"}},
		WithRedaction(redact.New("PLANTED-WEAVE-PASSWORD").Bytes))
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.AddCheck(Check{ID: "a/b", Status: Failed, Reason: "password PLANTED-WEAVE-PASSWORD rejected"}); err != nil {
		t.Fatal(err)
	}
	// Without Finish (a crash), the file is a valid partial result with the check.
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete || len(r.Checks) != 1 || r.Checks[0].ID != "a/b" {
		t.Fatalf("partial result: %+v", r)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "PLANTED-WEAVE-PASSWORD") || !strings.Contains(string(b), redact.Mask) {
		t.Errorf("secret not redacted: %s", b)
	}
	if err := rec.Phase("p", func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := rec.Finish(nil); err != nil {
		t.Fatal(err)
	}
	if r, _ = Load(path); !r.Complete || len(r.Phases) != 1 || r.Phases[0].Status != Passed {
		t.Errorf("finished result: %+v", r)
	}
}

func TestLoadRejectsGarbage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "r.json")
	os.WriteFile(p, []byte(`{"schemaVersion": 99}`), 0o644)
	if _, err := Load(p); err == nil {
		t.Error("unknown schema version must be refused")
	}
	os.WriteFile(p, []byte(`{`), 0o644)
	if _, err := Load(p); err == nil {
		t.Error("broken JSON must be refused")
	}
}
