// Package images makes sure the container images a run needs from elsewhere can be had before a
// cluster is created: in this machine's docker (present already, or pulled), or served to the
// nodes by their registry or by a registry mirror (asked, not pulled), each step bounded. A
// registry that does not answer within seconds ends the check at once, saying what was tried,
// so that a run that cannot get its images is refused, or falls back to local images, before
// anything exists. It also reads image references as containerd does, for the mirror.
package images

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Checker asks this machine's docker for images.
type Checker struct {
	// Docker is the docker command; "" is "docker".
	Docker string
	// Inspect bounds `docker image inspect` (is the image here?).
	Inspect time.Duration
	// Answer bounds how long `docker pull` may take to show that the registry answered (its first
	// line of progress); a pull that says nothing by then is stopped.
	Answer time.Duration
	// Pull bounds a pull that has started, to its end.
	Pull time.Duration
}

// Found says where an image came from.
type Found string

// Where an image was found.
const (
	Local  Found = "in this machine's docker"
	Pulled Found = "pulled"
)

// Result is one image's outcome: Found when it is in this machine's docker now, else Err.
type Result struct {
	Ref   string
	Found Found
	Err   error
}

// Ensure looks for each image in this machine's docker and pulls those that are not there, all
// at once; the results are in refs' order. The error, when any image could not be had, is one
// line naming each such image and what was tried (see Missing).
func (c Checker) Ensure(ctx context.Context, refs []string) ([]Result, error) {
	return each(refs, func(ref string) Result { return c.one(ctx, ref) })
}

// each asks about every image at once (each question is bounded by its own deadline) and
// returns the answers in refs' order, with Missing's one-line error.
func each(refs []string, ask func(ref string) Result) ([]Result, error) {
	out := make([]Result, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = ask(ref)
		}()
	}
	wg.Wait()
	return out, Missing(out)
}

// Missing is nil when every result found its image, else one line: the images that are neither
// here nor pullable, grouped by what docker said.
func Missing(rs []Result) error {
	var order []string
	byErr := map[string][]string{}
	for _, r := range rs {
		if r.Err == nil {
			continue
		}
		msg := r.Err.Error()
		if _, ok := byErr[msg]; !ok {
			order = append(order, msg)
		}
		byErr[msg] = append(byErr[msg], r.Ref)
	}
	if len(order) == 0 {
		return nil
	}
	parts := make([]string, 0, len(order))
	for _, msg := range order {
		parts = append(parts, strings.Join(byErr[msg], ", ")+" ("+msg+")")
	}
	return errors.New(strings.Join(parts, "; "))
}

func (c Checker) docker() string {
	if c.Docker == "" {
		return "docker"
	}
	return c.Docker
}

// one finds or pulls ref.
func (c Checker) one(ctx context.Context, ref string) Result {
	r := Result{Ref: ref}
	present, err := c.present(ctx, ref)
	switch {
	case err != nil:
		r.Err = err
	case present:
		r.Found = Local
	default:
		if r.Err = c.pull(ctx, ref, "docker image inspect: not present; docker pull", false); r.Err == nil {
			r.Found = Pulled
		}
	}
	return r
}

// present asks docker whether it has ref. An answer that the image is missing is false with no
// error; docker not answering at all is an error.
func (c Checker) present(ctx context.Context, ref string) (bool, error) {
	ictx, cancel := context.WithTimeout(ctx, c.Inspect)
	defer cancel()
	cmd := exec.CommandContext(ictx, c.docker(), "image", "inspect", "--format", "{{.Id}}", ref)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	var exit *exec.ExitError
	if ictx.Err() == nil && errors.As(err, &exit) && strings.Contains(strings.ToLower(out.String()), "no such image") {
		return false, nil
	}
	if ictx.Err() != nil {
		return false, fmt.Errorf("docker image inspect: no answer within %s", c.Inspect)
	}
	return false, fmt.Errorf("docker image inspect: %s", oneLine(out.String(), err))
}

// pull runs `docker pull ref`: stopped when the registry has not answered within Answer (no line
// of progress yet), else awaited within Pull, or stopped at once when onlyAnswer (the registry
// serves the image: that is all Pullable asks). Errors start with tried.
func (c Checker) pull(ctx context.Context, ref, tried string, onlyAnswer bool) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(pctx, c.docker(), "pull", ref)
	cmd.WaitDelay = time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("docker pull: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s could not start: %w", tried, err)
	}
	answered := make(chan struct{})
	var last lastLine
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			// docker's own note on a reference without a tag comes before it asks the registry.
			if !strings.HasPrefix(sc.Text(), "Using default tag") {
				once.Do(func() { close(answered) })
			}
			last.set(sc.Text())
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %s", tried, oneLine(stderr.String(), err))
		}
		return nil
	case <-answered:
	case <-time.After(c.Answer):
		cancel()
		<-done
		return fmt.Errorf("%s: no answer from the registry within %s%s", tried, c.Answer, detail(stderr.String()))
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("%s: %w", tried, ctx.Err())
	}
	if onlyAnswer {
		// docker prints its first line once the registry has served the manifest.
		cancel()
		<-done
		return nil
	}
	// The registry answered: the pull runs to its end, within Pull.
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("%s: %s", tried, oneLine(stderr.String()+" "+last.get(), err))
		}
		return nil
	case <-time.After(c.Pull):
		cancel()
		<-done
		return fmt.Errorf("%s: started but not finished within %s (last: %s)", tried, c.Pull, last.get())
	case <-ctx.Done():
		cancel()
		<-done
		return fmt.Errorf("%s: %w", tried, ctx.Err())
	}
}

// lastLine keeps the last line a pull printed.
type lastLine struct {
	mu sync.Mutex
	s  string
}

func (l *lastLine) set(s string) { l.mu.Lock(); l.s = s; l.mu.Unlock() }
func (l *lastLine) get() string  { l.mu.Lock(); defer l.mu.Unlock(); return l.s }

// oneLine is docker's message on one line, or err when docker said nothing.
func oneLine(msg string, err error) string {
	msg = strings.Join(strings.Fields(msg), " ")
	if msg == "" {
		return err.Error()
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return msg
}

func detail(msg string) string {
	if m := oneLine(msg, errors.New("")); m != "" {
		return ": " + m
	}
	return ""
}

// Refs are the references of the images in rs that were found, in order, without repeats.
func Refs(rs []Result) []string {
	var out []string
	for _, r := range rs {
		if r.Err == nil && !slices.Contains(out, r.Ref) {
			out = append(out, r.Ref)
		}
	}
	return out
}
