package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/aws/kops"
	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/framework/lint"
	"github.com/netconform/netconform/providers"
)

// StepRoll is kops rolling-update cluster --yes, which Switch runs after kops update cluster.
const StepRoll StepKind = "rolling-update"

// rollLaunch is the share of the rolling update's deadline, per instance, for launching the
// replacement and waiting until it registers (beside drain, post-drain delay and validation).
const rollLaunch = 5 * time.Minute

// rollBudget is the default deadline of kops rolling-update: every instance (the control
// plane and the nodes) may take its drain, post-drain delay, launch and validation time.
func rollBudget(c Config) time.Duration {
	per := c.Timeouts.Drain + c.PostDrainDelay + rollLaunch + c.Timeouts.RollValidation
	return time.Duration(c.NodeCount+1) * per
}

// SwitchPlan is what Switch runs to move the cluster from one networking provider to another,
// for --dry-run and for reports.
type SwitchPlan struct {
	From, To    Networking
	ClusterName string
	StateStore  string
	RunID       string
	Artifacts   string
	Steps       []Step
	// Before and After are spec.networking as YAML: From's block as netconform sets it up
	// (Switch edits the block kops prints, which kops has filled with its defaults) and the
	// block Switch writes for To, with the switch's options.
	Before, After []byte
	// BeforePath receives the spec kops prints; AfterPath the edited spec kops replace reads.
	BeforePath, AfterPath string
	Notes                 []string
	// Checks are what the EC2 checks expect of the cluster once it runs To.
	Checks ec2check.Requirements
	// Routes is the route table's room once the cluster runs To, when To relies on VPC routes.
	Routes *RouteBudget
}

// SwitchPlan lists the kops commands Switch runs to switch the cluster's networking to the
// provider named to, with opts (KEY=VALUE settings, typed as YAML would type them) in
// spec.networking.<to>. It refuses what it can tell cannot work without reading the spec: an
// unknown provider, the provider the cluster already runs, and a provider that cannot run with
// the configured topology (a mode relying on VPC routes with --topology private: lint rule NC001).
func (a *AWS) SwitchPlan(to string, opts map[string]string) (SwitchPlan, error) {
	from := a.networking
	n, err := LookupNetworking(a.cfg.Providers, to)
	if err != nil {
		return SwitchPlan{}, fmt.Errorf("aws: switch %s -> %s refused: %w", from.Name, to, err)
	}
	if n.Name == from.Name {
		return SwitchPlan{}, fmt.Errorf("aws: switch %s -> %s refused: the cluster already runs %s", from.Name, to, n.Name)
	}
	if a.cfg.Topology == "private" && !n.PrivateTopology {
		return SwitchPlan{}, fmt.Errorf("aws: switch %s -> %s refused: %s cannot run with a private topology (lint rule NC001): it needs a single route table, and a private topology has one per zone (NAT gateways are per zone)", from.Name, n.Name, n.Name)
	}
	typed, err := providers.ParseOptions(n.provider.Descriptor(), providers.ForKops, opts)
	if err != nil {
		return SwitchPlan{}, fmt.Errorf("aws: switch %s -> %s refused: %w", from.Name, n.Name, err)
	}
	n = n.WithOptions(typed, a.cfg.NodeCount)
	if err := a.fits(n); err != nil {
		return SwitchPlan{}, fmt.Errorf("aws: switch %s -> %s refused: %w", from.Name, n.Name, err)
	}
	c := a.cfg
	name := c.ClusterName
	roll := []string{"rolling-update", "cluster", "--name", name, "--yes",
		"--validation-timeout", shortDuration(c.Timeouts.RollValidation), "--drain-timeout", shortDuration(c.Timeouts.Drain)}
	if c.PostDrainDelay > 0 {
		roll = append(roll, "--post-drain-delay", shortDuration(c.PostDrainDelay))
	}
	p := SwitchPlan{
		From: from, To: n, ClusterName: name, StateStore: c.StateStore, RunID: c.RunID, Artifacts: c.ArtifactsDir,
		BeforePath: filepath.Join(c.ArtifactsDir, "cluster.switch-before.yaml"),
		AfterPath:  filepath.Join(c.ArtifactsDir, "cluster.switch-after.yaml"),
		Notes:      switchNotes(from, n), Checks: n.Requirements(), Routes: a.routeBudget(n),
	}
	p.Before = networkingYAML(from)
	p.After = networkingYAML(n)
	p.Steps = []Step{
		a.step(StepGetSpec, "read the cluster spec from the state store", c.Timeouts.Spec, "get", "cluster", "--name", name, "-o", "yaml"),
		a.step(StepReplace, "store the spec with the new networking", c.Timeouts.Spec, "replace", "-f", p.AfterPath),
		a.step(StepUpdate, "apply the new spec to the cloud resources (launch templates, node configuration)", c.Timeouts.Update,
			"update", "cluster", "--name", name, "--yes"),
		a.step(StepRoll, "replace every instance, one at a time, so that it comes up with the new networking", c.Timeouts.Roll, roll...),
		a.step(StepValidate, "wait until the nodes and system pods are ready", c.Timeouts.Validate+validateMargin,
			"validate", "cluster", "--name", name, "--wait", shortDuration(c.Timeouts.Validate)),
	}
	return p, nil
}

// networkingYAML is spec.networking holding n's block only.
func networkingYAML(n Networking) []byte {
	b, err := yaml.Marshal(map[string]any{"networking": map[string]any{n.SpecKey: n.Spec}})
	if err != nil {
		return []byte("# " + err.Error() + "\n")
	}
	return b
}

// switchNotes says what the kops networking guide says about this kind of switch, and what is
// left behind.
func switchNotes(from, to Networking) []string {
	var notes []string
	leftovers := "kops does not remove what " + from.Name + " leaves behind, its DaemonSet included: delete it once the roll is done"
	switch {
	case from.GuideSwitchSafe:
		notes = append(notes, "the kops networking guide calls a switch from "+from.Name+" to a CNI provider safe: change the spec and roll the cluster")
	case to.GuideSwitchSafe:
		notes = append(notes, "the kops networking guide covers switches from "+to.Name+" and between CNI providers, not from a CNI provider to "+to.Name+"; "+leftovers)
	default:
		notes = append(notes, "the kops networking guide calls a switch between CNI providers usually disruptive; "+leftovers)
	}
	if from.VPCRoutes {
		notes = append(notes, from.Name+"'s node routes were added by the route controller, not by kops: once the roll has replaced their instances they may stay in the route table as blackholes")
	}
	return append(notes, to.Notes...)
}

// Write prints the switch plan as a commented command list: the kops commands in the order
// Switch runs them, and spec.networking before and after the edit.
func (p SwitchPlan) Write(w io.Writer) error {
	var b bytes.Buffer
	from, to := p.From, p.To
	fmt.Fprintf(&b, "# netconform AWS switch plan (dry run: nothing was run)\n")
	fmt.Fprintf(&b, "# switch:      %s -> %s (spec.networking.%s -> spec.networking.%s)\n", from.Name, to.Name, from.SpecKey, to.SpecKey)
	fmt.Fprintf(&b, "# cluster:     %s\n", p.ClusterName)
	fmt.Fprintf(&b, "# state store: %s\n", p.StateStore)
	fmt.Fprintf(&b, "# run id:      %s\n", p.RunID)
	fmt.Fprintf(&b, "# artifacts:   %s (kops' output goes to kops.log there)\n", p.Artifacts)
	fmt.Fprintf(&b, "# datapath:    %s -> %s\n", encapsulationText(from.Encapsulation), encapsulationText(to.Encapsulation))
	for _, note := range p.Notes {
		fmt.Fprintf(&b, "# note: %s\n", note)
	}
	writeOutOfSpec(&b, to)
	i := 0
	for _, st := range p.Steps {
		i++
		fmt.Fprintf(&b, "\n# %d. %s (timeout %s)\n", i, st.Title, shortDuration(st.Timeout))
		line := kops.Display(st.Argv)
		if st.Kind == StepGetSpec {
			line += " > " + p.BeforePath
		}
		fmt.Fprintln(&b, line)
		if st.Kind == StepGetSpec {
			i++
			fmt.Fprintf(&b, "\n# %d. replace the provider block under spec.networking, keeping everything else as it is, and write %s;\n", i, p.AfterPath)
			fmt.Fprintf(&b, "#    the switch stops here, before anything changes, if the spec does not select %s or the edited spec breaks a\n", from.SpecKey)
			fmt.Fprintf(&b, "#    lint rule that the spec kops printed did not (NC001: VPC routes with a private topology, NC003: provider removed, ...)\n")
			fmt.Fprintf(&b, "#   before (as netconform sets %s up; kops prints it with its defaults filled in):\n", from.Name)
			writeIndented(&b, p.Before)
			fmt.Fprintf(&b, "#   after:\n")
			writeIndented(&b, p.After)
		}
	}
	fmt.Fprintf(&b, "\n# EC2 checks once the cluster runs %s:\n", to.Name)
	for _, l := range checkLines(p.To, p.To.MTU(), p.Routes) {
		fmt.Fprintf(&b, "#   %s\n", l)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeIndented(b *bytes.Buffer, y []byte) {
	for _, l := range strings.Split(strings.TrimRight(string(y), "\n"), "\n") {
		fmt.Fprintf(b, "#     %s\n", l)
	}
}

// Switch moves the cluster's networking from the provider it runs to the one named to, the way
// the kops networking guide describes: read the spec (kops get cluster -o yaml), replace the
// provider block under spec.networking with to's (netconform's settings for to on AWS, opts
// over them) and change nothing else, store it (kops replace -f), apply it (kops update
// cluster --yes), replace every instance (kops rolling-update cluster --yes) and wait for the
// cluster to validate (kops validate cluster --wait). Each step runs under its deadline from
// Config.Timeouts; kops' output goes to <artifacts>/kops.log.
//
// What SwitchPlan refuses is refused before any kops command. After reading the spec, Switch
// also refuses, before kops replace, a spec that does not select the provider the cluster runs
// and an edited spec that breaks a lint rule (framework/lint, error level) the spec kops
// printed did not break: the implied routed mode with private subnets (NC001), a provider removed in the
// spec's Kubernetes version (NC003), an invalid option (NC014), ....
//
// Networking reports to's settings once the switch has validated; after a failure it still
// reports the old provider's, while the state store may already hold the new spec.
func (a *AWS) Switch(ctx context.Context, to string, opts map[string]string) error {
	p, err := a.SwitchPlan(to, opts)
	if err != nil {
		return err
	}
	prefix := fmt.Sprintf("aws: switch %s -> %s", p.From.Name, p.To.Name)
	if err := os.MkdirAll(a.cfg.ArtifactsDir, 0o755); err != nil {
		return fmt.Errorf("%s: artifacts directory: %w", prefix, err)
	}
	log, err := os.OpenFile(a.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("%s: kops log: %w", prefix, err)
	}
	defer log.Close()
	cli := *a.kops
	cli.Log = io.MultiWriter(log, a.out)
	if _, err := cli.Path(); err != nil {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	for _, st := range p.Steps {
		fmt.Fprintf(a.out, "%s: %s\n", prefix, st.Title)
		out, err := cli.Run(ctx, st.Timeout, st.Args...)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", prefix, st.Title, err)
		}
		if st.Kind != StepGetSpec {
			continue
		}
		if err := os.WriteFile(p.BeforePath, out, 0o644); err != nil {
			return fmt.Errorf("%s: keep the spec kops printed: %w", prefix, err)
		}
		edited, err := switchSpec(out, p.ClusterName, p.From, p.To)
		if err != nil {
			return fmt.Errorf("%s refused before kops replace (nothing was changed): %w", prefix, err)
		}
		if err := switchLint(a.cfg.Providers, out, edited); err != nil {
			return fmt.Errorf("%s refused before kops replace (nothing was changed): %w", prefix, err)
		}
		if err := os.WriteFile(p.AfterPath, edited, 0o644); err != nil {
			return fmt.Errorf("%s: write the edited spec: %w", prefix, err)
		}
	}
	a.mu.Lock()
	a.networking = p.To
	a.cfg.Provider = p.To.Name
	a.mu.Unlock()
	return nil
}

// switchSpec replaces from's block under spec.networking with to's in the spec kops printed;
// everything else stays as it is. It refuses a spec that selects another provider than from (or
// more than one).
func switchSpec(printed []byte, clusterName string, from, to Networking) ([]byte, error) {
	return editCluster(printed, clusterName, func(spec map[string]any) error {
		nw, set := selectedProviders(from.reg, spec)
		implied := len(set) == 0 && from.Implied() // the mode kops assumes when none is set
		if !implied && (len(set) != 1 || set[0] != from.SpecKey) {
			what := "no provider"
			if len(set) > 0 {
				what = describeSelected(from.reg, set)
			}
			return fmt.Errorf("cluster %s: spec.networking selects %s, not %s: the cluster does not run %s", clusterName, what, from.SpecKey, from.Name)
		}
		for _, k := range set {
			delete(nw, k)
		}
		nw[to.SpecKey] = maps.Clone(to.Spec)
		return nil
	})
}

// switchLint refuses an edited spec with error-level lint findings that the spec kops printed
// does not have (same rule at the same path): problems the switch would bring in.
func switchLint(reg providers.Registry, printed, edited []byte) error {
	check := func(name string, b []byte) ([]lint.Finding, error) {
		set, err := kopsspec.Parse(name, b)
		if err != nil {
			return nil, err
		}
		return lint.Check(set, lint.DefaultOptions(reg))
	}
	before, err := check("spec kops printed", printed)
	if err != nil {
		return fmt.Errorf("lint the spec kops printed: %w", err)
	}
	after, err := check("edited spec", edited)
	if err != nil {
		return fmt.Errorf("lint the edited spec: %w", err)
	}
	had := map[string]bool{}
	for _, f := range before {
		had[f.Rule+" "+f.Path] = true
	}
	var msgs []string
	for _, f := range after {
		if f.Severity == lint.Error && !had[f.Rule+" "+f.Path] {
			msgs = append(msgs, fmt.Sprintf("%s %s: %s (fix: %s)", f.Rule, f.Path, f.Message, f.Fix))
		}
	}
	if len(msgs) > 0 {
		return errors.New("the edited spec breaks lint rules: " + strings.Join(msgs, "; "))
	}
	return nil
}
