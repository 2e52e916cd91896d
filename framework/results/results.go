// Package results is netconform's own result model: what ran where, how long each phase took,
// and every check's verdict with its observations. A result is saved after every change, so a
// crash loses at most the check in progress, and later runs merge results into a matrix.
package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// SchemaVersion of the result JSON.
const SchemaVersion = 1

// Status is a verdict.
type Status string

// Verdicts. A skip always carries a reason; "environment" skips name the missing feature.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	Running Status = "running"
)

// Observation is one probe or measurement behind a check: a pair of endpoints, what was
// expected and what was seen.
type Observation struct {
	From     string  `json:"from,omitempty"`
	To       string  `json:"to,omitempty"`
	Protocol string  `json:"protocol,omitempty"`
	Expected string  `json:"expected,omitempty"`
	Observed string  `json:"observed"`
	OK       bool    `json:"ok"`
	Detail   string  `json:"detail,omitempty"`
	RTTMS    float64 `json:"rttMS,omitempty"`
	// Attempts is how often the question was asked: more than one only when talking to the
	// API server failed in transport, never because the verdict was bad.
	Attempts int `json:"attempts,omitempty"`
}

// Check is one verdict of a suite.
type Check struct {
	ID           string        `json:"id"`
	Suite        string        `json:"suite"`
	Name         string        `json:"name"`
	Labels       []string      `json:"labels,omitempty"`
	Status       Status        `json:"status"`
	Reason       string        `json:"reason,omitempty"`
	Started      time.Time     `json:"started"`
	DurationMS   int64         `json:"durationMS"`
	Attempts     int           `json:"attempts"`
	Measurements []Measurement `json:"measurements,omitempty"`
	Observations []Observation `json:"observations,omitempty"`
}

// BeforeLabel marks checks measured on the cluster as it was before the run changed it (perf
// on the provider a switch started from), taken into the run's result from a check of their own.
const BeforeLabel = "before"

// BeforeIDPrefix starts the ID of every check labelled BeforeLabel; the rest is the ID the same
// check has when the run measures it afterwards, which is how reports pair the two.
const BeforeIDPrefix = "before/"

// Measurement is a named figure a check reports (seconds to CoreDNS Ready, MTU, route count).
type Measurement struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
}

// Phase is a provisioning or verification step with its duration.
type Phase struct {
	Name       string    `json:"name"`
	Status     Status    `json:"status"`
	Started    time.Time `json:"started"`
	DurationMS int64     `json:"durationMS"`
	Error      string    `json:"error,omitempty"`
}

// Result is one run.
type Result struct {
	SchemaVersion     int       `json:"schemaVersion"`
	RunID             string    `json:"runID"`
	Provider          string    `json:"provider"`
	Platform          string    `json:"platform"`
	KubernetesVersion string    `json:"kubernetesVersion,omitempty"`
	NodeImage         string    `json:"nodeImage,omitempty"`
	Kernel            string    `json:"kernel,omitempty"`
	Nodes             int       `json:"nodes,omitempty"`
	Started           time.Time `json:"started"`
	Finished          time.Time `json:"finished,omitzero"`
	// ProviderOptions are the provider settings given for the run (--provider-option).
	ProviderOptions map[string]string `json:"providerOptions,omitempty"`
	// Networking is the kops --networking value of the provider run (of TO for a switch):
	// Provider itself when it is one of the provider's kops values, else the provider's first (on
	// AWS, the value netconform gave kops). Provider is the name as typed, which need not be a kops
	// value ("kuberouter" runs as "kube-router"); empty where the provider is unknown or kops has
	// no value for it.
	Networking string `json:"networking,omitempty"`
	// KopsStanding is what kops says of that provider on the run's Kubernetes version, from
	// netconform's record of kops (providers.Lifecycle.At, newest kops): "supported", "experimental
	// in kops", "not supported from Kubernetes 1.28", "removed in kops 1.28", ... A run on kind
	// goes ahead whatever it says; a certification on a version kops does not support says so.
	// Empty when the version or the provider is not known.
	KopsStanding string `json:"kopsStanding,omitempty"`
	// IPFamily is the cluster's IP family (ipv4, ipv6, dual) where netconform made the cluster
	// with one (run --ip-family on kind); empty where it did not choose.
	IPFamily string `json:"ipFamily,omitempty"`
	// SwitchFrom is the provider the cluster ran before netconform switch moved it to Provider
	// node by node; empty for a cluster installed with Provider directly.
	SwitchFrom string `json:"switchFrom,omitempty"`
	// Images says where the provider's images came from on kind (run and switch --images): nil
	// where netconform chose nothing (a provider that runs no images, check, AWS).
	Images *ImageSource `json:"images,omitempty"`
	// Cell is the cell of a matrix plan the run was (`netconform matrix plan`, run's and switch's
	// --matrix-cell); nil for a run outside a plan. report merge orders a plan's runs by it.
	Cell *Cell `json:"cell,omitempty"`
	// Complete is false while the run goes on, and stays false in a result left by a crash.
	Complete bool `json:"complete"`
	// Error says why the run could not run (as opposed to checks that failed).
	Error  string  `json:"error,omitempty"`
	Phases []Phase `json:"phases"`
	Checks []Check `json:"checks"`
	// Causes are the likely causes of the failures, with the evidence behind each.
	Causes []Cause `json:"causes,omitempty"`
	// Evidence is the evidence bundle's path, relative to the result file.
	Evidence string `json:"evidence,omitempty"`
	// Verdict is Judge's answer when the file was written, for readers of the JSON; netconform
	// itself always judges the result again.
	Verdict *Verdict `json:"verdict,omitempty"`
}

// ImageSource is where a run's provider images came from.
type ImageSource struct {
	// Source is "upstream" (the provider's release images, pulled by the nodes) or "local"
	// (images given with --provider-image, or for a provider netconform builds none of, found in
	// this machine's docker; loaded into the nodes).
	Source string `json:"source"`
	// Asked is the --images value: auto, upstream or local.
	Asked string `json:"asked"`
	// Mirror is the registry mirror the nodes pulled through (--registry-mirror), if any.
	Mirror string `json:"mirror,omitempty"`
	// Refs are the upstream references the nodes pulled (source upstream).
	Refs []string `json:"refs,omitempty"`
	// Why says why auto chose local: what the upstream images' check answered.
	Why string `json:"why,omitempty"`
}

// Cell names a run's place in a matrix plan: its index in the whole plan, from 0, and its name
// (the directory of its artifacts, its CI job). The results of a plan's shards, merged in any
// order or grouping, then make the same matrix as the plan run on one machine.
type Cell struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// Cause is a probable explanation of failing checks.
type Cause struct {
	// Title names the cause in one line; "no clear cause" says the observations do not tell.
	Title    string   `json:"title"`
	Clear    bool     `json:"clear"`
	Evidence []string `json:"evidence,omitempty"`
	Checks   []string `json:"checks,omitempty"`
}

// Counts returns passed, failed and skipped checks. A check left running, with a status
// netconform does not know, or passed with nothing measured counts as failed: only a pass that
// rests on an observation counts as one (the same rule as Judge).
func (r *Result) Counts() (passed, failed, skipped int) {
	for _, c := range r.Checks {
		switch {
		case c.Status == Passed && c.Measured():
			passed++
		case c.Status == Skipped:
			skipped++
		default:
			failed++
		}
	}
	return
}

// Load reads a result file.
func Load(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse result %s: %w", path, err)
	}
	if r.SchemaVersion == 0 || r.SchemaVersion > SchemaVersion {
		return nil, fmt.Errorf("result %s: unsupported schema version %d", path, r.SchemaVersion)
	}
	return &r, nil
}

// Recorder owns a Result and rewrites its file after every change, atomically, so that the
// file on disk is always a valid (possibly partial) result.
type Recorder struct {
	mu   sync.Mutex
	path string
	r    Result
	now  func() time.Time
	// redact filters what is written (secrets never reach the file); nil writes as is.
	redact func([]byte) []byte
	// companions are files rendered from the result at every save (JUnit), so that they are
	// as current as the result itself, also after a crash.
	companions []companion
	// err is the first save that failed; a run whose result could not be written ends with it.
	err error
}

type companion struct {
	path   string
	render func(io.Writer, *Result) error
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder)

// WithRedaction makes every save, the first included, pass through f (secrets never reach the
// file).
func WithRedaction(f func([]byte) []byte) RecorderOption {
	return func(rec *Recorder) { rec.redact = f }
}

// WithCompanion renders the result into path at every save, through the same redaction (the
// run's own junit.xml: CI finds it current even when the run was killed).
func WithCompanion(path string, render func(io.Writer, *Result) error) RecorderOption {
	return func(rec *Recorder) { rec.companions = append(rec.companions, companion{path: path, render: render}) }
}

// NewRecorder starts a result saved at path.
func NewRecorder(path string, r Result, opts ...RecorderOption) (*Recorder, error) {
	r.SchemaVersion = SchemaVersion
	if r.Started.IsZero() {
		r.Started = time.Now()
	}
	if r.Phases == nil {
		r.Phases = []Phase{}
	}
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	rec := &Recorder{path: path, r: r, now: time.Now}
	for _, o := range opts {
		o(rec)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("result directory: %w", err)
	}
	return rec, rec.saveLocked()
}

// Path is where the result is saved.
func (rec *Recorder) Path() string { return rec.path }

// Update changes the result under the lock and saves it.
func (rec *Recorder) Update(f func(*Result)) error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	f(&rec.r)
	return rec.saveLocked()
}

// Err returns the first save that failed, if any: callers may go on after a failed save (the
// next one may work), and the run ends "could not run" with this error.
func (rec *Recorder) Err() error {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.err
}

// Snapshot returns a deep copy of the result.
func (rec *Recorder) Snapshot() Result {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	b, _ := json.Marshal(rec.r)
	var out Result
	_ = json.Unmarshal(b, &out)
	return out
}

// Phase runs f as a named phase and records its duration and outcome.
func (rec *Recorder) Phase(name string, f func() error) error {
	start := rec.now()
	_ = rec.Update(func(r *Result) {
		r.Phases = append(r.Phases, Phase{Name: name, Status: Running, Started: start})
	})
	err := f()
	_ = rec.Update(func(r *Result) {
		for i := range r.Phases {
			p := &r.Phases[i]
			if p.Name == name && p.Status == Running {
				p.DurationMS = rec.now().Sub(start).Milliseconds()
				p.Status = Passed
				if err != nil {
					p.Status, p.Error = Failed, err.Error()
				}
			}
		}
	})
	return err
}

// AddPhase records a phase measured elsewhere (host setup and node image build run before
// netconform starts).
func (rec *Recorder) AddPhase(p Phase) error {
	return rec.Update(func(r *Result) { r.Phases = append(r.Phases, p) })
}

// AddCheck records a finished check, replacing a running entry with the same ID.
func (rec *Recorder) AddCheck(c Check) error {
	return rec.Update(func(r *Result) {
		for i := range r.Checks {
			if r.Checks[i].ID == c.ID && r.Checks[i].Status == Running {
				r.Checks[i] = c
				return
			}
		}
		r.Checks = append(r.Checks, c)
	})
}

// Finish marks the result complete (err: the run could not run) and saves it.
func (rec *Recorder) Finish(runErr error) error {
	return rec.Update(func(r *Result) {
		r.Finished = rec.now()
		r.Complete = true
		if runErr != nil && r.Error == "" {
			r.Error = runErr.Error()
		}
		for i := range r.Phases {
			if r.Phases[i].Status == Running {
				r.Phases[i].Status, r.Phases[i].Error = Failed, "did not finish"
			}
		}
	})
}

func (rec *Recorder) saveLocked() error {
	err := rec.writeLocked()
	if err != nil && rec.err == nil {
		rec.err = err
	}
	return err
}

func (rec *Recorder) writeLocked() error {
	v := rec.r.Judge()
	rec.r.Verdict = &v
	b, err := json.MarshalIndent(rec.r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	if err := rec.writeFile(rec.path, append(b, '\n')); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	for _, c := range rec.companions {
		var buf bytes.Buffer
		if err := c.render(&buf, &rec.r); err != nil {
			return fmt.Errorf("render %s: %w", filepath.Base(c.path), err)
		}
		if err := rec.writeFile(c.path, buf.Bytes()); err != nil {
			return fmt.Errorf("write %s: %w", filepath.Base(c.path), err)
		}
	}
	return nil
}

// writeFile writes b, redacted, to path atomically: a reader never sees half a file.
func (rec *Recorder) writeFile(path string, b []byte) error {
	if rec.redact != nil {
		b = rec.redact(b)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// SortChecks orders checks by suite then ID, for stable reports.
func SortChecks(cs []Check) {
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].Suite != cs[j].Suite {
			return cs[i].Suite < cs[j].Suite
		}
		return cs[i].ID < cs[j].ID
	})
}

// ErrChecksFailed is returned when the run worked and some checks failed.
var ErrChecksFailed = errors.New("checks failed")

// Figure is a measured value as reports print it: about three significant digits, never with
// an exponent (a throughput of 13221 Mbit/s reads as such, not 1.3e+04).
func Figure(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
