package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// Before measures the cluster before the scenarios after it change it (perf on the provider a
// switch starts from). Ginkgo runs its suites once per process, so the measurement is a
// `netconform check` of its own on the same cluster (Command); the checks its result holds
// with label Label join this run's result, marked results.BeforeLabel, their IDs under results.BeforeIDPrefix
// and Stage after their names.
//
// A measurement that could not run, or measured nothing, fails the phase (the run then cannot
// pass) but not the scenarios after it: the switch itself is still worth measuring.
type Before struct {
	// Phase names the phase, e.g. "perf before the switch".
	Phase string
	// Stage is added to each check's name, e.g. "(flannel, before the switch)".
	Stage string
	// Label selects the checks taken in.
	Label string
	// Dir receives the check's artifacts (its result.json is read from there) and its log.
	Dir string
	// Command is the check to run, against the cluster at kubeconfig, writing to Dir.
	Command func(ctx context.Context, kubeconfig string) *exec.Cmd
	// Timeout bounds the check, agents' start and removal included.
	Timeout time.Duration
}

// Name is the scenario's name in errors.
func (b *Before) Name() string { return b.Phase }

// Run runs the check and takes its checks in.
func (b *Before) Run(ctx context.Context, env *Env) error {
	err := env.Recorder.Phase(b.Phase, func() error {
		if env.Out != nil {
			fmt.Fprintf(env.Out, "%s: a check of its own on the cluster (log %s)\n", b.Phase, b.Dir+".log")
		}
		return b.measure(ctx, env)
	})
	if err != nil && env.Out != nil {
		fmt.Fprintf(env.Out, "warning: %s: %v\n", b.Phase, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (b *Before) measure(ctx context.Context, env *Env) error {
	if err := os.MkdirAll(filepath.Dir(b.Dir), 0o755); err != nil {
		return err
	}
	log, err := os.Create(b.Dir + ".log")
	if err != nil {
		return err
	}
	defer log.Close()
	cctx, cancel := context.WithTimeout(ctx, b.Timeout)
	defer cancel()
	cmd := b.Command(cctx, env.Platform.KubeconfigPath())
	cmd.Stdout, cmd.Stderr = log, log
	// The check's own exit code says whether its checks passed; what counts here is what it
	// measured, read from its result. A check that could not run leaves no usable result.
	runErr := cmd.Run()
	if cctx.Err() != nil {
		return fmt.Errorf("not done within %s (log %s)", b.Timeout, log.Name())
	}
	r, err := results.Load(filepath.Join(b.Dir, "result.json"))
	if err != nil {
		return errors.Join(fmt.Errorf("no result (log %s): %w", log.Name(), err), runErr)
	}
	taken := takeChecks(r, b.Label, b.Stage)
	for _, c := range taken {
		if err := env.Recorder.AddCheck(c); err != nil {
			return err
		}
	}
	if len(taken) == 0 {
		msg := "no check labelled " + b.Label + " ran"
		if r.Error != "" {
			msg += ": " + r.Error
		}
		return fmt.Errorf("%s (log %s)", msg, log.Name())
	}
	if r.Error != "" {
		return fmt.Errorf("the check could not finish: %s", r.Error)
	}
	return nil
}

// takeChecks returns r's checks labelled label, as a Before scenario records them: IDs under
// results.BeforeIDPrefix, results.BeforeLabel added, stage after the name.
func takeChecks(r *results.Result, label, stage string) []results.Check {
	var out []results.Check
	for _, c := range r.Checks {
		if !slices.Contains(c.Labels, label) {
			continue
		}
		c.ID = results.BeforeIDPrefix + c.ID
		c.Name = c.Name + " " + stage
		c.Labels = append(slices.Clone(c.Labels), results.BeforeLabel)
		out = append(out, c)
	}
	return out
}
