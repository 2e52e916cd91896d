package lifecycle

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
)

// fakePlatform records what the engine asked of it.
type fakePlatform struct {
	createErr  error
	kubeconfig string
	deletes    atomic.Int32
	deleteCtx  error // the context's error when Delete ran
	block      bool  // Create waits for the context to end
}

func (p *fakePlatform) Name() string { return "fake" }
func (p *fakePlatform) Create(ctx context.Context) error {
	if p.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return p.createErr
}
func (p *fakePlatform) KubeconfigPath() string { return p.kubeconfig }
func (p *fakePlatform) Delete(ctx context.Context) error {
	p.deletes.Add(1)
	p.deleteCtx = ctx.Err()
	return nil
}

func newTestRun(t *testing.T, p *fakePlatform) (*Run, *results.Recorder) {
	t.Helper()
	dir := t.TempDir()
	red := redact.New()
	rec, err := NewRecorder(dir, results.Result{RunID: "t", Provider: "x", Platform: "fake"}, red)
	if err != nil {
		t.Fatal(err)
	}
	return &Run{Platform: p, Recorder: rec, Redactor: red, Out: io.Discard, Artifacts: dir, Timeouts: kube.DefaultTimeouts()}, rec
}

// A failed Up still runs Down, and the result names the failed phase; the run could not run.
func TestDownAfterFailedUp(t *testing.T) {
	p := &fakePlatform{createErr: errors.New("docker: no space left")}
	run, rec := newTestRun(t, p)
	err := run.Execute(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Execute = %v, want the create error", err)
	}
	if p.deletes.Load() != 1 {
		t.Errorf("Delete ran %d times, want 1", p.deletes.Load())
	}
	v, ferr := Finish(rec, err, io.Discard, redact.New())
	if ferr == nil || v.Outcome != results.CouldNotRun {
		t.Errorf("verdict %+v (%v), want could not run", v, ferr)
	}
	r := rec.Snapshot()
	names := []string{}
	for _, ph := range r.Phases {
		names = append(names, ph.Name+"="+string(ph.Status))
	}
	if got := strings.Join(names, ","); got != "cluster create=failed,cluster delete=passed" {
		t.Errorf("phases = %s", got)
	}
	for _, f := range []string{"result.json", "junit.xml", "summary.md"} {
		if _, err := os.Stat(filepath.Join(run.Artifacts, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// An interrupt during Up ends the run and Down still deletes, on a context the interrupt did
// not cancel.
func TestDownAfterInterrupt(t *testing.T) {
	p := &fakePlatform{block: true}
	run, _ := newTestRun(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := run.Execute(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute = %v, want context.Canceled", err)
	}
	if p.deletes.Load() != 1 || p.deleteCtx != nil {
		t.Errorf("Delete ran %d times with context error %v; want once, uncancelled", p.deletes.Load(), p.deleteCtx)
	}
}

// Keep leaves the cluster; an existing cluster is never deleted.
func TestKeepAndExistingAreNotDeleted(t *testing.T) {
	p := &fakePlatform{kubeconfig: filepath.Join(t.TempDir(), "missing")}
	run, _ := newTestRun(t, p)
	run.Keep = true
	if err := run.Execute(context.Background()); err == nil {
		t.Fatal("a missing kubeconfig was accepted")
	}
	if p.deletes.Load() != 0 {
		t.Errorf("Keep: Delete ran %d times", p.deletes.Load())
	}
	e := &existingFake{fakePlatform{kubeconfig: p.kubeconfig}}
	run2, _ := newTestRun(t, &e.fakePlatform)
	run2.Platform = e
	_ = run2.Execute(context.Background())
	if e.deletes.Load() != 0 {
		t.Errorf("existing: Delete ran %d times", e.deletes.Load())
	}
}

type existingFake struct{ fakePlatform }

func (*existingFake) Existing() {}

// Finish writes report.html beside the summary, with the verdict, and no secret reaches it:
// the page is rendered from the saved (redacted) result and redacted again.
func TestFinishWritesARedactedPage(t *testing.T) {
	dir := t.TempDir()
	red := redact.New("s3cr3t-token")
	rec, err := NewRecorder(dir, results.Result{RunID: "t", Provider: "x", Platform: "fake"}, red)
	if err != nil {
		t.Fatal(err)
	}
	_ = rec.AddCheck(results.Check{ID: "s/a", Suite: "s", Name: "a", Status: results.Failed, Reason: "server said s3cr3t-token"})
	var out strings.Builder
	if _, err := Finish(rec, nil, &out, red); err == nil {
		t.Fatal("a failed check finished without an error")
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(page), "s3cr3t-token") || !strings.Contains(string(page), "[REDACTED]") {
		t.Errorf("the secret reached report.html, or the redaction did not show")
	}
	if !strings.Contains(string(page), `data-outcome="FAIL"`) {
		t.Errorf("report.html does not show FAIL")
	}
	if !strings.Contains(out.String(), "report: "+filepath.Join(dir, "report.html")) {
		t.Errorf("Finish did not print where the page is:\n%s", out.String())
	}
}
