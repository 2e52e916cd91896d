package aws

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/aws/kops"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/providers"
)

// StepKind names a step of the plan.
type StepKind string

// Steps, in the order Create runs them; Delete runs StepDelete.
const (
	StepCreate   StepKind = "create"
	StepGetSpec  StepKind = "get-spec"
	StepReplace  StepKind = "replace"
	StepUpdate   StepKind = "update"
	StepValidate StepKind = "validate"
	StepExport   StepKind = "export"
	StepDelete   StepKind = "delete"
)

// Step is one kops command.
type Step struct {
	Kind  StepKind
	Title string
	// Args are kops' arguments; Argv is the whole command line as run (kops, Args, --state).
	Args    []string
	Argv    []string
	Timeout time.Duration
}

// Plan is everything the platform will run, for --dry-run and for reports.
type Plan struct {
	Networking  Networking
	ClusterName string
	StateStore  string
	RunID       string
	Artifacts   string
	Steps       []Step
	// SpecPatch is the YAML netconform merges into the generated spec before kops replace.
	SpecPatch []byte
	SpecPath  string
	// Checks are what the EC2 checks will expect of the cluster.
	Checks ec2check.Requirements
	// MTU is the pod MTU against the VPC's; Routes, only for modes that rely on VPC routes, the
	// route table's room.
	MTU    MTUFit
	Routes *RouteBudget
}

func (a *AWS) step(kind StepKind, title string, timeout time.Duration, args ...string) Step {
	return Step{Kind: kind, Title: title, Args: args, Argv: a.kops.Argv(args...), Timeout: timeout}
}

func (a *AWS) deleteStep() Step {
	return a.step(StepDelete, "delete the cluster and everything kops made for it", a.cfg.Timeouts.Delete,
		"delete", "cluster", "--name", a.cfg.ClusterName, "--yes")
}

// routeBudget is n's route table room on this cluster; nil when n programs no
// VPC routes. Every node, the control plane included, gets a pod CIDR and so a route.
func (a *AWS) routeBudget(n Networking) *RouteBudget {
	if !n.VPCRoutes {
		return nil
	}
	return &RouteBudget{Provider: n.Name, Alternatives: providers.Suggested(a.cfg.Providers),
		Quota: a.cfg.RouteQuota, Existing: a.cfg.ExistingRoutes, Nodes: a.cfg.NodeCount + 1}
}

// Plan lists the kops commands Create and Delete run, in order.
func (a *AWS) Plan() Plan {
	c := a.cfg
	name := c.ClusterName
	create := []string{"create", "cluster", "--name", name, "--cloud", "aws",
		"--zones", joinComma(c.Zones), "--control-plane-zones", c.Zones[0], "--control-plane-count", "1",
		"--control-plane-size", c.ControlPlaneSize, "--node-count", strconv.Itoa(c.NodeCount), "--node-size", c.NodeSize,
		"--topology", c.Topology, "--networking", a.networking.KopsValue, "--cloud-labels", a.cloudLabels()}
	if c.KubernetesVersion != "" {
		create = append(create, "--kubernetes-version", c.KubernetesVersion)
	}
	patch, err := specPatch(name, a.networking)
	if err != nil {
		patch = []byte("# " + err.Error() + "\n")
	}
	return Plan{
		Networking: a.networking, ClusterName: name, StateStore: c.StateStore, RunID: c.RunID, Artifacts: c.ArtifactsDir,
		SpecPatch: patch, SpecPath: a.specPath(), Checks: a.networking.Requirements(),
		MTU: a.networking.MTU(), Routes: a.routeBudget(a.networking),
		Steps: []Step{
			a.step(StepCreate, "register the cluster spec in the state store (nothing is built yet)", c.Timeouts.Create, create...),
			a.step(StepGetSpec, "read back the spec kops generated", c.Timeouts.Spec, "get", "cluster", "--name", name, "-o", "yaml"),
			a.step(StepReplace, "store the spec with netconform's networking settings merged in", c.Timeouts.Spec, "replace", "-f", a.specPath()),
			a.step(StepUpdate, "build the cloud resources", c.Timeouts.Update, "update", "cluster", "--name", name, "--yes"),
			a.step(StepValidate, "wait until the nodes and system pods are ready", c.Timeouts.Validate+validateMargin,
				"validate", "cluster", "--name", name, "--wait", shortDuration(c.Timeouts.Validate)),
			a.step(StepExport, "export an admin kubeconfig into the artifacts", c.Timeouts.Export,
				"export", "kubecfg", "--name", name, "--admin", "--kubeconfig", a.KubeconfigPath()),
			a.deleteStep(),
		},
	}
}

// Write prints the plan as a commented command list: the kops commands in the order they run,
// and the spec settings merged between reading the spec back and replacing it.
func (p Plan) Write(w io.Writer) error {
	var b bytes.Buffer
	n := p.Networking
	fmt.Fprintf(&b, "# netconform AWS plan (dry run: nothing was run)\n")
	fmt.Fprintf(&b, "# provider:    %s (kops --networking %s, spec.networking.%s)\n", n.Name, n.KopsValue, n.SpecKey)
	fmt.Fprintf(&b, "# cluster:     %s\n", p.ClusterName)
	fmt.Fprintf(&b, "# state store: %s\n", p.StateStore)
	fmt.Fprintf(&b, "# run id:      %s (every resource is tagged %s=%s)\n", p.RunID, RunIDTag, p.RunID)
	fmt.Fprintf(&b, "# artifacts:   %s\n", p.Artifacts)
	fmt.Fprintf(&b, "# datapath:    %s\n", encapsulationText(n.Encapsulation))
	for _, note := range n.Notes {
		fmt.Fprintf(&b, "# note: %s\n", note)
	}
	writeOutOfSpec(&b, n)
	i := 0
	for _, st := range p.Steps {
		if st.Kind == StepDelete {
			continue
		}
		i++
		fmt.Fprintf(&b, "\n# %d. %s (timeout %s)\n", i, st.Title, shortDuration(st.Timeout))
		line := kops.Display(st.Argv)
		if st.Kind == StepGetSpec {
			line += " > " + strings.TrimSuffix(p.SpecPath, "cluster.yaml") + "cluster.kops.yaml"
		}
		fmt.Fprintln(&b, line)
		if st.Kind == StepGetSpec {
			i++
			fmt.Fprintf(&b, "\n# %d. merge these settings into it, keeping the rest as kops generated it, and write %s:\n", i, p.SpecPath)
			for _, l := range strings.Split(strings.TrimRight(string(p.SpecPatch), "\n"), "\n") {
				fmt.Fprintf(&b, "#   %s\n", l)
			}
		}
	}
	for _, st := range p.Steps {
		if st.Kind == StepDelete {
			fmt.Fprintf(&b, "\n# at the end, after a failure, and on interrupt: %s (timeout %s)\n", st.Title, shortDuration(st.Timeout))
			fmt.Fprintln(&b, kops.Display(st.Argv))
		}
	}
	fmt.Fprintf(&b, "\n# EC2 checks once the cluster is up:\n")
	for _, l := range checkLines(p.Networking, p.MTU, p.Routes) {
		fmt.Fprintf(&b, "#   %s\n", l)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// checkLines says what the EC2 checks will expect, in words, with the figures they are held
// to: computed from the provider's encapsulation and the route table's quota.
func checkLines(n Networking, mtu MTUFit, routes *RouteBudget) []string {
	var out []string
	switch {
	case routes != nil:
		out = append(out, routes.String())
	case n.VPCRoutes:
		out = append(out, "route table: one route per node pod CIDR to the node, no blackholes, routes needed <= Routes per route table quota (vpc/L-93826ACB)")
	default:
		out = append(out, "route table: skipped ("+n.Name+" does not program VPC routes)")
	}
	switch {
	case n.SourceDestDisabled:
		out = append(out, "source/destination check: off on every node")
	case n.Encapsulation.Kind == providers.EncapNone:
		out = append(out, "source/destination check: skipped (pods use addresses of the instances' own interfaces, so EC2 sees no foreign addresses)")
	default:
		out = append(out, fmt.Sprintf("source/destination check: skipped (pod traffic between nodes is encapsulated: %s)", n.Encapsulation.Kind))
	}
	if n.Encapsulation.Kind == providers.EncapNone && n.PodMTU() == 0 {
		out = append(out, fmt.Sprintf("MTU: interfaces at %d (jumbo frames); pods use the interfaces' MTU, nothing is encapsulated", mtu.Underlay))
	} else {
		out = append(out, mtu.String())
	}
	if n.ENIIPAM {
		out = append(out, "max pods: kubelet maxPods <= ENIs x (IPv4 per ENI - 1) + 2 for each node's instance type")
	} else {
		out = append(out, "max pods: skipped (pods do not take interface addresses)")
	}
	return out
}

// encapsulationText says how pod packets cross the VPC, from the provider catalog.
func encapsulationText(e providers.Encapsulation) string {
	s := fmt.Sprintf("%s encapsulation, %d bytes per packet", e.Kind, e.Overhead)
	if e.Kind == providers.EncapNone {
		s = "routed, no encapsulation"
	}
	if e.Note != "" {
		s += " (" + e.Note + ")"
	}
	return s
}

// writeOutOfSpec lists settings kops keeps beside the spec, which the plan does not write into
// it (lint rule NC014); a secret's value is shown as redact.Mask.
func writeOutOfSpec(b *bytes.Buffer, n Networking) {
	for _, k := range slices.Sorted(maps.Keys(n.OutOfSpec)) {
		v := fmt.Sprint(n.OutOfSpec[k])
		if n.Secret(k) {
			v = redact.Mask
		}
		o, _ := n.option(k)
		fmt.Fprintf(b, "# setting:     %s %s = %s is kept out of the cluster spec: store it yourself with %s before kops update cluster\n", n.Name, k, v, o.Source)
	}
}

// shortDuration prints 20m rather than 20m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
