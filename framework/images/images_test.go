package images

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeDocker writes a docker stand-in: `image inspect REF` succeeds for the refs in have, says
// "No such image" for the others; `pull` does what pull says (a shell fragment).
func fakeDocker(t *testing.T, have []string, pull string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker")
	script := `#!/bin/sh
if [ "$1" = image ] && [ "$2" = inspect ]; then
  for r in ` + strings.Join(have, " ") + `; do [ "$r" = "$5" ] && { echo sha256:1234; exit 0; }; done
  echo "Error: No such image: $5" >&2; exit 1
fi
if [ "$1" = pull ]; then
` + pull + `
fi
echo "unexpected: $*" >&2; exit 3
`
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func checker(docker string) Checker {
	return Checker{Docker: docker, Inspect: 5 * time.Second, Answer: 500 * time.Millisecond, Pull: 5 * time.Second}
}

func TestPresentImagesAreNotPulled(t *testing.T) {
	// A pull would fail: the image must be found without one.
	c := checker(fakeDocker(t, []string{"weaveworks/weave-kube:2.8.1"}, `echo "pull must not run" >&2; exit 1`))
	rs, err := c.Ensure(context.Background(), []string{"weaveworks/weave-kube:2.8.1"})
	if err != nil || rs[0].Found != Local {
		t.Fatalf("%+v, %v", rs, err)
	}
	if got := Refs(rs); len(got) != 1 || got[0] != "weaveworks/weave-kube:2.8.1" {
		t.Errorf("Refs = %v", got)
	}
}

// No registry (what these machines have): docker answers at once; the error names every image
// and what was tried, on one line, with docker's own words once.
func TestUnreachableRegistryNamesImagesAndWhatWasTried(t *testing.T) {
	c := checker(fakeDocker(t, nil, `echo 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host' >&2; exit 1`))
	start := time.Now()
	rs, err := c.Ensure(context.Background(), []string{"weaveworks/weave-kube:2.8.1", "weaveworks/weave-npc:2.8.1"})
	if err == nil {
		t.Fatalf("no error: %+v", rs)
	}
	msg := err.Error()
	for _, want := range []string{"weaveworks/weave-kube:2.8.1, weaveworks/weave-npc:2.8.1 (", "docker image inspect: not present; docker pull: Error response from daemon", "no such host"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Count(msg, "no such host") != 1 || strings.Contains(msg, "\n") {
		t.Errorf("want one line, docker's words once: %q", msg)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	if Refs(rs) != nil {
		t.Errorf("Refs of failures: %v", Refs(rs))
	}
}

// A registry that does not answer (a firewall dropping packets): the pull is stopped after
// Answer, not left to docker's own minutes-long timeouts.
func TestSilentRegistryStopsWithinTheAnswerBound(t *testing.T) {
	c := checker(fakeDocker(t, nil, `exec sleep 30`))
	start := time.Now()
	_, err := c.Ensure(context.Background(), []string{"kopeio/networking-agent:1.0.20181028"})
	if err == nil || !strings.Contains(err.Error(), "no answer from the registry within 500ms") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s, want about the 500ms bound", d)
	}
}

// A registry that answers: the pull may take longer than Answer, and ends in success.
func TestAnsweringRegistryPullRunsToTheEnd(t *testing.T) {
	c := checker(fakeDocker(t, nil, `echo "v20260820-69b56db7: Pulling from kindest/kindnetd"; sleep 1; echo "Status: Downloaded newer image"; exit 0`))
	rs, err := c.Ensure(context.Background(), []string{"docker.io/kindest/kindnetd:v20260820-69b56db7"})
	if err != nil || rs[0].Found != Pulled {
		t.Fatalf("%+v, %v", rs, err)
	}
}

func TestAPullThatStartsButDoesNotFinishIsBounded(t *testing.T) {
	c := checker(fakeDocker(t, nil, `echo "2.8.1: Pulling from weaveworks/weave-npc"; exec sleep 30`))
	c.Pull = time.Second
	_, err := c.Ensure(context.Background(), []string{"weaveworks/weave-npc:2.8.1"})
	if err == nil || !strings.Contains(err.Error(), "started but not finished within 1s (last: 2.8.1: Pulling from weaveworks/weave-npc)") {
		t.Fatalf("error %v", err)
	}
}

func TestNoDocker(t *testing.T) {
	c := checker(filepath.Join(t.TempDir(), "no-docker"))
	_, err := c.Ensure(context.Background(), []string{"a/b:c"})
	if err == nil || !strings.Contains(err.Error(), "a/b:c (docker image inspect: ") {
		t.Fatalf("error %v", err)
	}
}
