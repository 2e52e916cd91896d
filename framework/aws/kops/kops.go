// Package kops runs the kops CLI: always an argv slice (never a shell string), always under a
// deadline, with the command's output kept inside the error when it fails.
package kops

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// CLI is a kops binary with the state store it works on.
type CLI struct {
	// Bin is the kops executable: a path, or a name looked up on PATH (default "kops").
	Bin string
	// State is the state store (--state), e.g. s3://bucket. Empty leaves it to KOPS_STATE_STORE.
	State string
	// Env is added to netconform's environment for every command (AWS_PROFILE=..., ...).
	Env []string
	// Log, when set, receives every command line and its output as it runs.
	Log io.Writer
}

// RunError is a failed kops command with what it printed.
type RunError struct {
	Argv   []string
	Output []byte
	Err    error
}

// maxErrorOutput is how much of a failed command's output an error message carries (the end of
// it, where kops says what went wrong); the whole output goes to CLI.Log.
const maxErrorOutput = 8 << 10

func (e *RunError) Error() string {
	out := e.Output
	if len(out) > maxErrorOutput {
		out = append([]byte("...\n"), out[len(out)-maxErrorOutput:]...)
	}
	msg := fmt.Sprintf("%s: %v", Display(e.Argv), e.Err)
	if s := strings.TrimSpace(string(out)); s != "" {
		msg += "\n" + s
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// Path finds the kops binary, with an error that says how to fix a missing one.
func (c *CLI) Path() (string, error) {
	bin := c.Bin
	if bin == "" {
		bin = "kops"
	}
	p, err := exec.LookPath(bin)
	if err != nil {
		return "", fmt.Errorf("kops binary %q not found (install kops, or pass --kops PATH): %w", bin, err)
	}
	return p, nil
}

// Argv is the command line for args as netconform runs it, starting with "kops" and followed
// by --state when the CLI has one. It is what plans print.
func (c *CLI) Argv(args ...string) []string {
	argv := append([]string{"kops"}, args...)
	if c.State != "" {
		argv = append(argv, "--state", c.State)
	}
	return argv
}

// Run runs kops with args (and --state) under timeout. It returns standard output; on failure
// the *RunError holds standard output and standard error together.
func (c *CLI) Run(ctx context.Context, timeout time.Duration, args ...string) ([]byte, error) {
	argv := c.Argv(args...)
	bin, err := c.Path()
	if err != nil {
		return nil, &RunError{Argv: argv, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	// Ask kops to stop cleanly first; kill it if it does not within WaitDelay.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, all bytes.Buffer
	var log io.Writer = io.Discard
	if c.Log != nil {
		log = c.Log
		fmt.Fprintf(log, "$ %s\n", Display(argv))
	}
	cmd.Stdout = io.MultiWriter(&stdout, &all, log)
	cmd.Stderr = io.MultiWriter(&all, log)
	start := time.Now()
	err = cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		err = fmt.Errorf("timed out after %s: %w", time.Since(start).Round(time.Second), context.DeadlineExceeded)
	case ctx.Err() != nil:
		err = fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return stdout.Bytes(), &RunError{Argv: argv, Output: all.Bytes(), Err: err}
}

// notFound matches kops' answers for a cluster missing from the state store: `cluster not
// found "NAME"` (kops get) and `cluster "NAME" not found` (kops delete, update, validate).
var notFound = regexp.MustCompile(`cluster (not found "[^"]*"|"[^"]*" not found)`)

// IsNotFound says whether a failed command reported that the cluster does not exist.
func IsNotFound(err error) bool {
	var re *RunError
	return errors.As(err, &re) && notFound.Match(re.Output)
}

// Display renders argv for people: arguments that a shell would split or expand are quoted.
// It is for printing only; commands never go through a shell.
func Display(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		parts[i] = quote(a)
	}
	return strings.Join(parts, " ")
}

func quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
