package kops

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRunPassesArgvAndState(t *testing.T) {
	c := &CLI{Bin: "echo", State: "s3://bucket"}
	out, err := c.Run(context.Background(), 10*time.Second, "get", "cluster", "--name", "a b")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "get cluster --name a b --state s3://bucket" {
		t.Errorf("argv reached the command as %q", got)
	}
	if got := Display(c.Argv("get", "cluster", "--name", "a b", "it's")); got != `kops get cluster --name 'a b' 'it'\''s' --state s3://bucket` {
		t.Errorf("Display = %s", got)
	}
}

func TestRunErrorKeepsOutput(t *testing.T) {
	c := &CLI{Bin: "ls"}
	_, err := c.Run(context.Background(), 10*time.Second, "/no/such/dir/netconform")
	var re *RunError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want a *RunError", err)
	}
	if !strings.Contains(err.Error(), "kops /no/such/dir/netconform") || !strings.Contains(strings.ToLower(err.Error()), "no such file") {
		t.Errorf("error does not carry the command and its output: %v", err)
	}
	if IsNotFound(err) {
		t.Error(`"No such file" is not kops saying a cluster was not found`)
	}
	for _, out := range []string{`Error: cluster "x.k8s.local" not found`, `Error: cluster not found "x.k8s.local"`} {
		if !IsNotFound(&RunError{Output: []byte(out), Err: errors.New("exit status 1")}) {
			t.Errorf("kops' answer %q not recognised as a missing cluster", out)
		}
	}
	if IsNotFound(&RunError{Output: []byte("error deleting resources: hosted zone not found"), Err: errors.New("exit status 1")}) {
		t.Error("a resource kops did not find is not a missing cluster")
	}
}

func TestRunDeadline(t *testing.T) {
	c := &CLI{Bin: "sleep"}
	start := time.Now()
	_, err := c.Run(context.Background(), 200*time.Millisecond, "30")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("got %v, want a timeout", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s to give up", d)
	}
}

func TestMissingBinary(t *testing.T) {
	c := &CLI{Bin: "/nonexistent/kops"}
	if _, err := c.Run(context.Background(), time.Second, "version"); err == nil || !strings.Contains(err.Error(), "--kops") {
		t.Errorf("got %v, want an error naming --kops", err)
	}
}
