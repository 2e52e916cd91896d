package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/lifecycle"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/platform/existing"
	"github.com/netconform/netconform/framework/results"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

// defaultProbeImage is the probe image the sources of this build produce, set by `make build`
// (-ldflags -X main.defaultProbeImage=...; scripts/probe-image.sh --tag computes it). A plain
// `go build` leaves it empty, and check then asks for --probe-image.
var defaultProbeImage string

type checkOptions struct {
	verifyOptions
	kubeconfig string
	keepAgents bool
	// removeAgents (--remove-agents): remove what an earlier `check --keep-agents` left, and
	// run no checks.
	removeAgents bool
	repeat       int
	// kindCluster names the kind cluster behind the kubeconfig, if it is one: the evidence
	// bundle then holds each node's own state (docker exec), not only what the agents see.
	kindCluster string
	// providerOptions (--provider-option KEY=VALUE) are the provider's settings in the
	// cluster, for the expectations that depend on them (an encapsulation backend).
	providerOptions []string
}

func newCheckCmd() *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check --kubeconfig FILE [--provider NAME [--provider-option KEY=VALUE]...]",
		Short: "Run the suites against an existing cluster, installing and deleting nothing but the probe agents",
		Long: `check runs the suites against a cluster that is already there (a troubleshooting runbook):
it deploys the probe agents into their own namespace, runs the selected checks, writes the reports,
and removes the namespace again, returning once it is gone (not Terminating). The agents need
privileged pods (host network, NET_RAW): the namespace netconform creates is labelled
pod-security.kubernetes.io/enforce=privileged. The probe image must be on the nodes or pullable by
them; with --kind-cluster netconform loads it itself.

--keep-agents leaves the agents running for the next check, which reuses them as they are (no
rollout when nothing changed). check --remove-agents removes them later (and the namespace, when
netconform created it) and runs no checks: exit 0 when they are gone or were not there, 2 when
they could not be removed. Deleting a kind cluster (netconform delete) takes them with it.

--provider names the networking the cluster runs, and --provider-option its settings (the
same names and values as for run, or the cluster spec's on AWS): the checks then expect what
that provider does (its MTU overhead, its routes). Without --provider, check expects nothing
provider-specific (generic expectations); a name netconform does not know is refused.

Exit codes: 0 all checks passed, 1 checks failed (listed), 2 netconform could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.removeAgents {
				if err := refuseWithRemoveAgents(cmd.Flags().Changed); err != nil {
					return badInput(err)
				}
			}
			if err := o.validate(); err != nil {
				return badInput(err)
			}
			if o.removeAgents {
				return runRemoveAgents(cmd.Context(), o, cmd.OutOrStdout())
			}
			return runCheck(cmd.Context(), o, cmd.OutOrStdout())
		},
	}
	o.addFlags(cmd)
	o.addExternalTargetFlag(cmd)
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to check (required)")
	cmd.Flags().StringVar(&o.provider, "provider", "", "networking mode the cluster runs, for provider-specific expectations")
	cmd.Flags().BoolVar(&o.keepAgents, "keep-agents", false, "leave the probe agents running for the next check, which reuses them (check --remove-agents removes them)")
	cmd.Flags().BoolVar(&o.removeAgents, "remove-agents", false, "remove the probe agents (and their namespace, when netconform created it) an earlier check --keep-agents left, and run no checks")
	cmd.Flags().StringVar(&o.kindCluster, "kind-cluster", "", "the kind cluster (run id) behind --kubeconfig: netconform loads the probe image into its nodes, and the evidence bundle gets each node's own state")
	cmd.Flags().IntVar(&o.repeat, "repeat", 1, "run the selected checks N times and report each check's pass rate")
	cmd.Flags().StringArrayVar(&o.providerOptions, "provider-option", nil, "setting of the provider the cluster runs, as KEY=VALUE (repeatable; needs --provider; `netconform providers NAME` lists them)")
	return cmd
}

// validate checks check's input before the cluster is contacted (see input.go).
func (o *checkOptions) validate() error {
	if err := o.checkTimeouts(); err != nil {
		return err
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: need at least 1", o.repeat)
	}
	if err := checkExternalTarget(o.externalTarget); err != nil {
		return err
	}
	switch {
	case o.provider != "":
		// The widest schema: the cluster may have been built by kops or by netconform on kind.
		if _, _, err := providerSettings(o.provider, providers.ForKind, o.providerOptions); err != nil {
			return err
		}
	case len(o.providerOptions) > 0:
		return errors.New("--provider-option needs --provider: options belong to a provider")
	}
	return o.selectChecks()
}

func runCheck(ctx context.Context, o *checkOptions, out io.Writer) error {
	now := time.Now()
	o.complete(now)
	if o.kubeconfig == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--kubeconfig is required")}
	}
	if o.probeImage == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--probe-image is required: this netconform was built without a default probe image " +
			"(`make build` gives it one); build the image with scripts/probe-image.sh and pass the reference it prints, e.g. --probe-image netconform/probe:<tag>")}
	}
	if o.repeat < 1 {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--repeat %d: need at least 1", o.repeat)}
	}
	if o.repeat > 1 {
		return runRepeated(ctx, o, o.repeat, out)
	}
	opts, _ := keyValues("--provider-option", o.providerOptions)
	redactSecretOptions(o.red, o.provider, opts)
	rec, err := newRecorder(o.artifacts, results.Result{RunID: o.runID, Provider: o.provider, Networking: kopsNetworking(o.provider), ProviderOptions: opts, Platform: "existing", Started: now}, o.red)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	fmt.Fprintf(out, "netconform check %s: artifacts %s\n", o.runID, o.artifacts)
	var p platform.Platform = existing.New(o.kubeconfig)
	var images []string
	if o.kindCluster != "" {
		p = existing.OnKind(o.kubeconfig, o.kindCluster, o.artifacts, out)
		images = []string{o.probeImage}
	}
	suitesScenario := o.suites("existing")
	suitesScenario.Healthy = o.healthy(out)
	// On kind, the agent outside the cluster runs on the network of the cluster's nodes (found
	// when the suites start; --external-target, when given, is used instead).
	suitesScenario.ExternalKindCluster = o.kindCluster
	run := &lifecycle.Run{
		Platform: p, UpPhase: "connect", Images: images, Scenarios: []lifecycle.Scenario{suitesScenario},
		CollectAlways: o.collect, RemoveAgents: !o.keepAgents,
		Recorder: rec, Redactor: o.red, Out: out, Artifacts: o.artifacts, Timeouts: o.timeouts(), AgentsNamespace: o.namespace,
	}
	return finish(rec, run.Execute(ctx), out, o.red)
}

// checkOnlyFlags are check's flags that only mean something when checks run: given with
// --remove-agents, which runs none, they are refused rather than ignored.
var checkOnlyFlags = []string{"label-filter", "repeat", "collect", "external-target", "max-pairs"}

// refuseWithRemoveAgents refuses flags that contradict --remove-agents; given says whether a
// flag was given on the command line.
func refuseWithRemoveAgents(given func(name string) bool) error {
	if given("keep-agents") {
		return errors.New("--remove-agents and --keep-agents contradict each other: --remove-agents removes the agents an earlier check --keep-agents left, and runs no checks")
	}
	for _, name := range checkOnlyFlags {
		if given(name) {
			return fmt.Errorf("--remove-agents runs no checks, so --%s has nothing to do: remove the agents with check --remove-agents alone, and run checks without it", name)
		}
	}
	return nil
}

// runRemoveAgents removes the probe agents a check --keep-agents left (agents.Remove: their
// pods, then the namespace when netconform created it, each waited for within its bound) and
// says what it removed. Exit 0 when they are gone or were never there, 2 when they could not be
// removed or the cluster could not be asked.
func runRemoveAgents(ctx context.Context, o *checkOptions, out io.Writer) error {
	o.complete(time.Now())
	if o.kubeconfig == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--kubeconfig is required")}
	}
	o.red.AddKubeconfig(o.kubeconfig)
	fail := func(err error) error {
		return &exitError{code: exitCouldNotRun, err: errors.New(o.red.String(err.Error()))}
	}
	t := o.timeouts()
	c, err := kube.NewClient(ctx, o.kubeconfig, t)
	if err != nil {
		return fail(fmt.Errorf("%w (check the kubeconfig's server address and credentials)", err))
	}
	before, err := agents.Leftovers(ctx, c, o.namespace)
	if err != nil {
		return fail(fmt.Errorf("look for probe agents: %w", err))
	}
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, t.NamespaceGone+t.APICall)
	defer cancel()
	if err := agents.Remove(rctx, c, o.namespace); err != nil {
		return fail(err)
	}
	after, err := agents.Leftovers(ctx, c, o.namespace)
	switch {
	case err != nil:
		return fail(fmt.Errorf("look for probe agents after removing them: %w", err))
	case len(after) > 0:
		return fail(fmt.Errorf("probe agents left after removing them: %s", strings.Join(after, ", ")))
	case len(before) == 0:
		fmt.Fprintf(out, "no probe agents in namespace %s: nothing to remove\n", o.namespace)
	default:
		fmt.Fprintf(out, "removed %s in %.1f s\n", strings.Join(before, ", "), time.Since(start).Seconds())
	}
	return nil
}

// healthy is what the checks expect of the provider with its options. Expectations come from
// netconform's installers; for options they do not model (an encapsulation only kops sets), the
// provider's defaults are expected and a note says so.
func (o *checkOptions) healthy(out io.Writer) providers.Healthy {
	if o.provider == "" {
		return providers.Healthy{}
	}
	settings, _, _ := providerSettings(o.provider, providers.ForKind, o.providerOptions)
	if _, h, err := lookupInstaller(o.provider, 0, settings); err == nil || len(settings) == 0 {
		return h
	}
	p, _ := catalog.Lookup(o.provider)
	d := p.Descriptor()
	_, h, err := lookupInstaller(d.Name, 0, nil)
	if err == nil {
		fmt.Fprintf(out, "note: netconform has no expectations for %s with these options; it expects what %s does with its defaults\n", d.Name, d.Name)
	}
	return h
}
