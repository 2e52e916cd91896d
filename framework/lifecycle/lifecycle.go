// Package lifecycle is netconform's run engine: one run is Up (bring the cluster up, or connect
// to it), Install (the networking mode), Verify (scenarios: a provider switch, the suites, the
// cloud's own checks), Collect (evidence when something failed) and Down (delete what Up made),
// each recorded as phases of the run's result. Platforms (kind, an existing cluster, AWS through
// kops) come in through framework/platform's Platform interface; the commands in cmd/netconform
// parse flags into a Run and call Execute.
//
// Down is deferred and runs with its own deadline on a context that an interrupt does not
// cancel, so a cancelled run still deletes its cluster; the result is saved at every step, so a
// killed run leaves a valid partial result and JUnit.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/suites"
)

// Installer puts the networking mode into the cluster Up made (env.Client, env.Nodes,
// env.Images are set). It returns once the provider's own components are up; Execute then waits
// for the nodes and CoreDNS.
type Installer func(ctx context.Context, env *Env) error

// Scenario is one thing Verify does to the cluster: switch its provider under traffic, run the
// suites, ask the cloud. Scenarios run in order; each records its own checks and phases. An
// error means the scenario could not run (the run then could not run); failed checks are not
// errors.
type Scenario interface {
	Name() string
	Run(ctx context.Context, env *Env) error
}

// ErrSkipRest, returned by a scenario, ends Verify without an error: the scenario recorded why
// the ones after it are not worth running (a switch that stopped half-way).
var ErrSkipRest = errors.New("the scenarios after this one are not run")

// Env is what installers and scenarios work with, filled in by Execute as the run goes.
type Env struct {
	Platform platform.Platform
	Client   *kube.Client
	// Nodes runs commands on nodes without the cluster network, and Images loads local images
	// into them; nil where the platform cannot.
	Nodes  platform.NodeRunner
	Images platform.ImageLoader
	// PodSubnet is the cluster's pod CIDR when the platform knows it (the primary family's on a
	// dual-stack cluster).
	PodSubnet string
	// PodSubnets are the cluster's pod CIDRs of every IP family, IPv4 first, when the platform
	// knows them (kind); nil otherwise.
	PodSubnets []string
	// IPFamily is the cluster's IP family when the platform made it with one (kind's
	// --ip-family); "" otherwise (kube.ClusterFamily reads it from the nodes).
	IPFamily  ipfamily.Family
	Recorder  *results.Recorder
	Redactor  *redact.Redactor
	Out       io.Writer
	Artifacts string
	// Install holds what Up and Install saw of CoreDNS before and after the networking came up;
	// nil when netconform did not install the networking.
	Install *suites.InstallObservations
	// Fleet is the probe agents, once a scenario deployed them (Collect reads their view).
	Fleet *agents.Fleet
	// AgentsNamespace is where the probe agents run.
	AgentsNamespace string
}

// Run is one run, from flags.
type Run struct {
	Platform platform.Platform
	// UpPhase names Up in the result: "cluster create" by default, "connect" for a cluster
	// that already exists.
	UpPhase string
	// Nodes is how many nodes must register; 0 takes the cluster as it is (existing, kops,
	// whose validation waited for its nodes).
	Nodes int
	// Keep leaves the cluster in place at the end, saying how to delete it.
	Keep bool
	// KeepHint is printed when Keep is set (how to delete the cluster later).
	KeepHint string
	// Images are local images to load into every node before Install (probe image first),
	// when the platform is a platform.ImageLoader; ImageFiles are files an installer reads
	// instead (manifests), skipped here.
	Images []string
	// Install installs the networking; nil when the platform brought it (kops) or it is there
	// (an existing cluster). InstallName follows "networking install" in the phase's name.
	Install     Installer
	InstallName string
	// Scenarios are Verify, in order.
	Scenarios []Scenario
	// Collect: always collect evidence, not only on failure.
	CollectAlways bool
	// DeleteTimeout bounds Down's cluster delete; zero takes Timeouts.ClusterDelete (sized for
	// kind; kops deleting cloud resources needs its own, longer bound).
	DeleteTimeout time.Duration
	// RemoveAgents deletes the probe agents (and their namespace when netconform made it) in
	// Down, for clusters that outlive the run.
	RemoveAgents bool

	Recorder  *results.Recorder
	Redactor  *redact.Redactor
	Out       io.Writer
	Artifacts string
	Timeouts  kube.Timeouts
	// AgentsNamespace is where the probe agents run.
	AgentsNamespace string
}

// Execute runs Up, Install, Verify, Collect and Down, recording each as phases. It returns the
// error that kept the run from finishing (nil when every scenario ran, whatever the checks
// said); the verdict is the result's (results.Result.Judge).
func (r *Run) Execute(ctx context.Context) (runErr error) {
	env := &Env{Platform: r.Platform, Recorder: r.Recorder, Redactor: r.Redactor, Out: r.Out, Artifacts: r.Artifacts, AgentsNamespace: r.AgentsNamespace}
	if n, ok := r.Platform.(platform.NodeRunner); ok {
		env.Nodes = n
	}
	if l, ok := r.Platform.(platform.ImageLoader); ok {
		env.Images = l
	}
	if s, ok := r.Platform.(interface{ PodSubnet() string }); ok {
		env.PodSubnet = s.PodSubnet()
	}
	if s, ok := r.Platform.(interface{ PodSubnets() []string }); ok {
		env.PodSubnets = s.PodSubnets()
	}
	if s, ok := r.Platform.(interface{ IPFamily() ipfamily.Family }); ok {
		env.IPFamily = s.IPFamily()
	}
	defer func() {
		if err := r.down(ctx, env); err != nil && runErr == nil {
			runErr = fmt.Errorf("cleanup: %w", err)
		}
	}()
	if err := r.up(ctx, env); err != nil {
		return err
	}
	if r.Install != nil {
		if err := r.install(ctx, env); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	verifyErr := r.verify(ctx, env)
	if ctx.Err() == nil && (r.CollectAlways || verifyErr != nil || failed(r.Recorder.Snapshot())) {
		collect(ctx, env)
	}
	return verifyErr
}

// up creates the cluster (or connects to it) and waits for its nodes to register.
func (r *Run) up(ctx context.Context, env *Env) error {
	name := r.UpPhase
	if name == "" {
		name = "cluster create"
	}
	if err := r.Recorder.Phase(name, func() error { return r.Platform.Create(ctx) }); err != nil {
		return err
	}
	r.Redactor.AddKubeconfig(r.Platform.KubeconfigPath())
	c, err := kube.NewClient(ctx, r.Platform.KubeconfigPath(), r.Timeouts)
	if err != nil {
		return fmt.Errorf("%w (check the kubeconfig's server address and credentials)", err)
	}
	env.Client = c
	if v, err := c.ServerVersion(); err == nil {
		r.update(func(res *results.Result) { res.KubernetesVersion = v })
	}
	if r.Nodes > 0 {
		if err := r.Recorder.Phase("nodes registered", func() error {
			_, err := c.WaitNodesRegistered(ctx, r.Nodes)
			return err
		}); err != nil {
			return err
		}
	}
	if r.Install != nil {
		env.Install = &suites.InstallObservations{}
		if err := r.Recorder.Phase("CoreDNS before networking", func() error { return observeCoreDNSBefore(ctx, c, env.Install) }); err != nil {
			return err
		}
	}
	nodes, err := c.Nodes(ctx)
	if err != nil {
		return err
	}
	if len(nodes) == 0 {
		return errors.New("the cluster has no nodes: nothing to check")
	}
	r.update(func(res *results.Result) { res.Nodes, res.Kernel = len(nodes), nodes[0].Kernel })
	if env.Images != nil && len(r.Images) > 0 {
		if err := r.Recorder.Phase("load images", func() error { return loadImages(ctx, env.Images, r.Images, r.Timeouts) }); err != nil {
			return err
		}
	}
	return nil
}

// install installs the networking and waits until nodes and CoreDNS are Ready. A cluster whose
// networking does not come up still gets verified: the suites say what is broken.
func (r *Run) install(ctx context.Context, env *Env) error {
	name := "networking install"
	if r.InstallName != "" {
		name += ": " + r.InstallName
	}
	if err := r.Recorder.Phase(name, func() error { return r.Install(ctx, env) }); err != nil {
		return err
	}
	installed := time.Now()
	ready := "networking ready"
	if r.InstallName != "" {
		ready += ": " + r.InstallName
	}
	c := env.Client
	_ = r.Recorder.Phase(ready, func() error {
		if err := c.WaitNodesReady(ctx, r.nodeCount(ctx, c)); err != nil {
			env.Install.CoreDNSReadyError = err.Error()
			return err
		}
		if err := c.WaitDeployment(ctx, suites.CoreDNSNamespace, suites.CoreDNSDeployment, c.Timeouts.CoreDNSReady); err != nil {
			env.Install.CoreDNSReadyError = err.Error()
			return err
		}
		env.Install.CoreDNSReadyAfter = time.Since(installed)
		return nil
	})
	return nil
}

func (r *Run) nodeCount(ctx context.Context, c *kube.Client) int {
	if r.Nodes > 0 {
		return r.Nodes
	}
	nodes, err := c.Nodes(ctx)
	if err != nil || len(nodes) == 0 {
		return 1
	}
	return len(nodes)
}

// verify runs the scenarios in order; the first that cannot run ends Verify.
func (r *Run) verify(ctx context.Context, env *Env) error {
	for _, s := range r.Scenarios {
		err := s.Run(ctx, env)
		if errors.Is(err, ErrSkipRest) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name(), err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// down removes the probe agents from a cluster that stays, and deletes a cluster Up made,
// each under its own deadline on a context an interrupt has not cancelled.
func (r *Run) down(ctx context.Context, env *Env) error {
	if r.RemoveAgents && env.Client != nil {
		err := r.Recorder.Phase("remove probe agents", func() error {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Timeouts.NamespaceGone+r.Timeouts.APICall)
			defer cancel()
			return agents.Remove(dctx, env.Client, r.AgentsNamespace)
		})
		// Agents left behind are a warning, not a failed run: the checks were measured.
		if err != nil {
			fmt.Fprintf(r.Out, "warning: %v\n", err)
		}
	}
	if _, existing := r.Platform.(interface{ Existing() }); existing {
		return nil
	}
	if r.Keep {
		fmt.Fprintf(r.Out, "keeping the cluster (kubeconfig %s)", r.Platform.KubeconfigPath())
		if r.KeepHint != "" {
			fmt.Fprintf(r.Out, "; delete it with: %s", r.KeepHint)
		}
		fmt.Fprintln(r.Out)
		return nil
	}
	return r.Recorder.Phase("cluster delete", func() error {
		bound := r.DeleteTimeout
		if bound == 0 {
			bound = r.Timeouts.ClusterDelete
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
		defer cancel()
		return r.Platform.Delete(dctx)
	})
}

// update records result metadata; a failed save is kept by the recorder and ends the run as
// "could not run" in Finish, so it is not lost here.
func (r *Run) update(f func(*results.Result)) { _ = r.Recorder.Update(f) }

func failed(res results.Result) bool {
	for _, ch := range res.Checks {
		if ch.Status == results.Failed {
			return true
		}
	}
	return false
}

// observeCoreDNSBefore records CoreDNS's readiness before any networking exists. kubeadm
// creates the Deployment a little after the API server answers, so this waits for its pods.
func observeCoreDNSBefore(ctx context.Context, c *kube.Client, in *suites.InstallObservations) error {
	bound := c.Timeouts.CoreDNSBefore
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	for {
		ready, total, notReady, err := c.PodsReady(ctx, suites.CoreDNSNamespace, suites.CoreDNSSelector)
		if err == nil && total > 0 {
			in.CoreDNSReadyBefore, in.CoreDNSTotalBefore, in.CoreDNSNotReadyWhy = ready, total, notReady
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no CoreDNS pods appeared within %s: %v", bound, err)
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// loadImages loads each distinct image into every node, each within its bound: the first
// (the probe image, a few MB) within ProbeImageLoad, the provider's within ImageLoad.
func loadImages(ctx context.Context, loader platform.ImageLoader, images []string, t kube.Timeouts) error {
	done := map[string]bool{}
	for i, ref := range images {
		bound := t.ImageLoad
		if i == 0 {
			bound = t.ProbeImageLoad
		}
		if done[ref] || ref == "" {
			continue
		}
		done[ref] = true
		lctx, cancel := context.WithTimeout(ctx, bound)
		err := loader.LoadImage(lctx, ref)
		cancel()
		if err != nil {
			return fmt.Errorf("load image %s (bound %s): %w", ref, bound, err)
		}
	}
	return nil
}

// ImagesToLoad are the probe image and the provider's images (NAME=REF from --provider-image),
// without entries named *-manifest: those are files an installer reads, not images.
func ImagesToLoad(probe string, provider map[string]string) []string {
	out := []string{probe}
	skip := map[string]bool{}
	for name, ref := range provider {
		if strings.HasSuffix(name, "-manifest") {
			skip[ref] = true
		}
	}
	for _, ref := range slices.Sorted(maps.Values(provider)) {
		if !skip[ref] {
			out = append(out, ref)
		}
	}
	return out
}
