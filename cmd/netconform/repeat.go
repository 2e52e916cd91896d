package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/reports"
)

// runRepeated runs `check` n times, each in a process of its own (ginkgo runs a suite once per
// process) with its own artifacts directory, then reports each check's pass rate. Verdicts are
// never retried within a run; repeating whole runs is how flaky paths are found.
func runRepeated(ctx context.Context, o *checkOptions, n int, out io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	var runs []*results.Result
	for i := 1; i <= n; i++ {
		dir := filepath.Join(o.artifacts, fmt.Sprintf("repeat-%d", i))
		args := append([]string{"check"}, repeatArgs(o, dir, fmt.Sprintf("%s-%d", o.runID, i))...)
		fmt.Fprintf(out, "== run %d of %d\n", i, n)
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == exitCouldNotRun {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("run %d could not run; see %s", i, dir)}
		}
		r, lerr := results.Load(filepath.Join(dir, "result.json"))
		if lerr != nil {
			return &exitError{code: exitCouldNotRun, err: fmt.Errorf("run %d: %w", i, lerr)}
		}
		p, f, _ := r.Counts()
		fmt.Fprintf(out, "   %d passed, %d failed\n", p, f)
		runs = append(runs, r)
		if ctx.Err() != nil {
			break
		}
	}
	rates := reports.PassRates(runs)
	var md strings.Builder
	_ = reports.RepeatMarkdown(&md, rates, len(runs))
	text := o.red.String(md.String())
	_ = os.WriteFile(filepath.Join(o.artifacts, "repeat.md"), []byte(text), 0o644)
	if b, err := json.MarshalIndent(rates, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(o.artifacts, "repeat.json"), b, 0o644)
	}
	fmt.Fprintln(out)
	io.WriteString(out, text)
	for _, r := range rates {
		if r.Failed > 0 {
			return &exitError{code: exitChecksFail, err: fmt.Errorf("some checks did not pass in every run (%s)", filepath.Join(o.artifacts, "repeat.md"))}
		}
	}
	return nil
}

// repeatArgs are the flags of one repeated run.
func repeatArgs(o *checkOptions, dir, runID string) []string {
	args := []string{"--kubeconfig", o.kubeconfig, "--probe-image", o.probeImage, "--artifacts", dir, "--run-id", runID,
		"--namespace", o.namespace, "--probe-concurrency", fmt.Sprint(o.concurrency), "--route-quota", fmt.Sprint(o.routeQuota)}
	if o.provider != "" {
		args = append(args, "--provider", o.provider)
	}
	for _, kv := range o.providerOptions {
		args = append(args, "--provider-option", kv)
	}
	if o.labelFilter != "" {
		args = append(args, "--label-filter", o.labelFilter)
	}
	if o.podSubnet != "" {
		args = append(args, "--pod-subnet", o.podSubnet)
	}
	if o.mtu != 0 {
		args = append(args, "--mtu", fmt.Sprint(o.mtu))
	}
	if o.maxPairs > 0 {
		args = append(args, "--max-pairs", fmt.Sprint(o.maxPairs))
	}
	// The filter above already says whether the perf suite runs (perfFilter); its settings and
	// image go along.
	args = append(args, "--perf-image", o.perfImage, "--perf-samples", fmt.Sprint(o.perfCfg.Samples),
		"--perf-duration", o.perfCfg.Duration.String(), "--perf-tolerance", fmt.Sprint(o.perfCfg.Tolerance))
	if o.collect {
		args = append(args, "--collect")
	}
	if o.kindCluster != "" {
		args = append(args, "--kind-cluster", o.kindCluster)
	}
	return args
}
