package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/lifecycle"
)

// A build without a default probe image (plain `go build`) says how to get one; a build with
// one (`make build`) uses it without --probe-image.
func TestCheckProbeImageDefault(t *testing.T) {
	saved := defaultProbeImage
	t.Cleanup(func() { defaultProbeImage = saved })

	defaultProbeImage = ""
	out, code, err := runCLI(t, "check", "--kubeconfig", filepath.Join(t.TempDir(), "kubeconfig"), "--artifacts", t.TempDir())
	if code != exitCouldNotRun || err == nil || !strings.Contains(err.Error(), "built without a default probe image") || !strings.Contains(err.Error(), "scripts/probe-image.sh") {
		t.Errorf("without a default: exit %d, err %v\n%s", code, err, out)
	}

	defaultProbeImage = "netconform/probe:0123456789ab"
	cmd := newCheckCmd()
	f := cmd.Flags().Lookup("probe-image")
	if f == nil || f.Value.String() != defaultProbeImage || f.DefValue != defaultProbeImage {
		t.Fatalf("--probe-image flag: %+v, want the build's image as value and default", f)
	}
	if !strings.Contains(cmd.Flags().FlagUsages(), `(default "netconform/probe:0123456789ab")`) {
		t.Errorf("help does not show the default:\n%s", cmd.Flags().FlagUsages())
	}
	// With the default, check gets past the image and fails on the kubeconfig it was given.
	_, code, err = runCLI(t, "check", "--kubeconfig", filepath.Join(t.TempDir(), "missing"), "--artifacts", t.TempDir())
	if code != exitCouldNotRun || err == nil || strings.Contains(err.Error(), "probe-image") {
		t.Errorf("with a default: exit %d, err %v; want the kubeconfig, not the image, to stop it", code, err)
	}
}

func TestWithPullFix(t *testing.T) {
	pe := &agents.ImagePullError{Image: "netconform/probe:abc", Nodes: []string{"w1", "w2"}, Why: map[string]string{"w1": "ErrImagePull: not found", "w2": "ErrImagePull: not found"}}
	fix := (&lifecycle.Suites{PullHint: pullHint("netconform/probe:abc")}).WithPullHint
	err := fix(fmt.Errorf("wait: %w", pe))
	msg := err.Error()
	for _, want := range []string{"probe image netconform/probe:abc cannot be pulled on nodes w1, w2", "--kind-cluster", "docker save -o probe.tar netconform/probe:abc", "ctr -n k8s.io images import", "registry the nodes reach"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if !errors.As(err, &pe) {
		t.Error("the fix hides the *ImagePullError")
	}
	other := errors.New("list nodes: forbidden")
	if fix(other) != other {
		t.Error("another error got an image fix")
	}
}
