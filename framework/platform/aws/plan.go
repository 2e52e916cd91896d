package aws

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/netconform/netconform/framework/aws/ec2check"
	"github.com/netconform/netconform/framework/aws/kops"
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
}

func (a *AWS) step(kind StepKind, title string, timeout time.Duration, args ...string) Step {
	return Step{Kind: kind, Title: title, Args: args, Argv: a.kops.Argv(args...), Timeout: timeout}
}

func (a *AWS) deleteStep() Step {
	return a.step(StepDelete, "delete the cluster and everything kops made for it", a.cfg.Timeouts.Delete,
		"delete", "cluster", "--name", a.cfg.ClusterName, "--yes")
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
	for _, note := range n.Notes {
		fmt.Fprintf(&b, "# note: %s\n", note)
	}
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
	for _, l := range checkLines(p.Checks) {
		fmt.Fprintf(&b, "#   %s\n", l)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// checkLines says what the EC2 checks will expect, in words.
func checkLines(r ec2check.Requirements) []string {
	var out []string
	if r.VPCRoutes {
		out = append(out, "route table: one route per node pod CIDR to the node, no blackholes, routes needed <= Routes per route table quota (vpc/L-93826ACB)")
	} else {
		out = append(out, "route table: skipped ("+r.Provider+" does not program VPC routes)")
	}
	if r.SourceDestDisabled {
		out = append(out, "source/destination check: off on every node")
	} else {
		out = append(out, "source/destination check: skipped (pod traffic between nodes is encapsulated)")
	}
	if r.PodMTU > 0 {
		out = append(out, fmt.Sprintf("MTU: interfaces at %d (jumbo frames); pod MTU %d + %d bytes of overhead = %d fits", vpcMTU, r.PodMTU, r.Overhead, r.PodMTU+r.Overhead))
	} else {
		out = append(out, fmt.Sprintf("MTU: interfaces at %d (jumbo frames); the provider derives its pod MTU (%d - %d = %d)", vpcMTU, vpcMTU, r.Overhead, vpcMTU-r.Overhead))
	}
	if r.ENIIPAM {
		out = append(out, "max pods: kubelet maxPods <= ENIs x (IPv4 per ENI - 1) + 2 for each node's instance type")
	} else {
		out = append(out, "max pods: skipped (pods do not take interface addresses)")
	}
	return out
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
