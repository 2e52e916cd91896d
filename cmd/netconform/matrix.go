package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/matrix"
	"github.com/netconform/netconform/providers"
)

// defaultKubernetesVersion is the Makefile's K8S_VERSION default (a test keeps the two equal):
// the version of a plan that names none.
const defaultKubernetesVersion = "v1.34.4"

type planOptions struct {
	// providers, versions and switches are as given, each value a list separated by spaces
	// (repeatable): PROVIDERS, VERSIONS and SWITCHES of make matrix.
	providers, versions, switches []string
	shard                         string
}

// newMatrixCmd is `netconform matrix`: the compatibility matrix's plan, for make matrix and for
// CI that runs one cell per job.
func newMatrixCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "matrix",
		Short: "Plan a compatibility matrix: its cells, and shards of them for several machines",
	}
	cmd.AddCommand(newMatrixPlanCmd())
	return cmd
}

func newMatrixPlanCmd() *cobra.Command {
	o := &planOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the cells of a compatibility matrix (providers and switches x Kubernetes versions) as JSON",
		Long: `plan prints the cells of a compatibility matrix as JSON: for each Kubernetes version, each
provider, then each switch, with a stable name (the cell's artifacts directory and CI job), the
provider entry and its kops --networking value, the provider a switch starts from, the version,
the cell's index in the whole plan and the flags of 'netconform run' (or 'switch') that make the
run that cell (--matrix-cell records it in the result, so that 'report merge' orders the columns
as the plan does, however the cells were split across machines). --shard i/N prints only every
N-th cell from the i-th.

Without --providers: every provider netconform installs on kind ('netconform providers
--installable'), and, without --switches too, the default switch ('--default' -> '--switch-target').
Entries are names or kops --networking values, optionally NAME:KEY=VALUE[,KEY=VALUE]; switches
FROM->TO[:KEY=VALUE,...] (options of TO). A provider that cannot be installed here is planned: its
run says why. Bad input (an unknown provider or option, a malformed switch or version, a shard
that is not i/N or would be empty) exits 2.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := o.plan(cmd)
			if err != nil {
				return badInput(err)
			}
			return writeJSON(cmd.OutOrStdout(), plan)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.providers, "providers", nil, `providers, separated by spaces: NAME or NAME:KEY=VALUE[,KEY=VALUE] (default: 'netconform providers --installable')`)
	f.StringArrayVar(&o.versions, "versions", nil, "Kubernetes versions, separated by spaces (default "+defaultKubernetesVersion+")")
	f.StringArrayVar(&o.switches, "switches", nil, `switches, separated by spaces: FROM->TO[:KEY=VALUE,...] (default without --providers: the default switch; "" for none)`)
	f.StringVar(&o.shard, "shard", "", "only the cells of shard i of N (i/N, from 1)")
	return cmd
}

// plan checks the input and makes the plan; every refusal comes before anything is printed.
func (o *planOptions) plan(cmd *cobra.Command) (matrix.Plan, error) {
	var shard *matrix.Shard
	if o.shard != "" || cmd.Flags().Changed("shard") {
		s, err := matrix.ParseShard(o.shard)
		if err != nil {
			return matrix.Plan{}, err
		}
		shard = &s
	}
	versions := fields(o.versions)
	if !cmd.Flags().Changed("versions") {
		versions = []string{defaultKubernetesVersion}
	}
	if len(versions) == 0 {
		return matrix.Plan{}, fmt.Errorf("--versions is empty: give at least one Kubernetes version, e.g. %s", defaultKubernetesVersion)
	}
	for _, v := range versions {
		if err := matrix.CheckVersion(v); err != nil {
			return matrix.Plan{}, fmt.Errorf("--versions: %w", err)
		}
	}
	reg := registry()
	given := fields(o.providers)
	if !cmd.Flags().Changed("providers") {
		given = providers.Installable(reg)
	}
	var entries []matrix.Entry
	for _, s := range given {
		e, err := matrix.ParseProvider(s)
		if err != nil {
			return matrix.Plan{}, fmt.Errorf("--providers: %w", err)
		}
		cfg, err := configure(e)
		if err != nil {
			return matrix.Plan{}, fmt.Errorf("--providers %s: %w", s, err)
		}
		e.Networking = cfg.Descriptor.Networking(cfg.Given)
		entries = append(entries, e)
	}
	sw := fields(o.switches)
	if !cmd.Flags().Changed("switches") && !cmd.Flags().Changed("providers") {
		from, to := providers.KindDefault(reg), providers.KindSwitchTarget(reg)
		if from == "" || to == "" {
			return matrix.Plan{}, fmt.Errorf("no default switch: the registry marks no default provider or switch target; give --switches")
		}
		sw = []string{from + "->" + to}
	}
	var switches []matrix.Entry
	for _, s := range sw {
		e, err := matrix.ParseSwitch(s)
		if err != nil {
			return matrix.Plan{}, fmt.Errorf("--switches: %w", err)
		}
		from, err := lookupProvider(e.From)
		if err != nil {
			return matrix.Plan{}, fmt.Errorf("--switches %s: FROM: %w", s, err)
		}
		to, err := configure(e)
		if err != nil {
			return matrix.Plan{}, fmt.Errorf("--switches %s: TO: %w", s, err)
		}
		if to.Name == from.Descriptor().Name {
			return matrix.Plan{}, fmt.Errorf("--switches %s: FROM and TO are both %s", s, to.Name)
		}
		e.Networking = to.Descriptor.Networking(to.Given)
		switches = append(switches, e)
	}
	cells := matrix.Cells(versions, entries, switches)
	if len(cells) == 0 {
		return matrix.Plan{}, matrix.ErrEmpty
	}
	plan := matrix.Plan{Total: len(cells), Cells: cells}
	if shard != nil {
		part, err := shard.Of(cells)
		if err != nil {
			return matrix.Plan{}, err
		}
		plan.Shard, plan.Cells = shard.String(), part
	}
	return plan, nil
}

// configure resolves an entry's provider through the registry and checks its options against
// the provider's schema for kind, as run and switch do with --provider-option.
func configure(e matrix.Entry) (providers.Config, error) {
	p, err := lookupProvider(e.Name)
	if err != nil {
		return providers.Config{}, err
	}
	given, err := keyValues("option", e.Options)
	if err != nil {
		return providers.Config{}, err
	}
	return providers.Configure(p, e.Name, providers.ForKind, given)
}

// fields splits each value at spaces: --providers "a b" and --providers a --providers b are
// the same.
func fields(values []string) []string {
	var out []string
	for _, v := range values {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// addMatrixCellFlag adds --matrix-cell (run and switch): the cell of a matrix plan this run is.
func (o *verifyOptions) addMatrixCellFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.cellRef, "matrix-cell", "", "this run is cell INDEX:NAME of a matrix plan ('netconform matrix plan' writes it), recorded in the result so that report merge orders the columns as the plan does")
}

// checkMatrixCell parses --matrix-cell into the cell the result records.
func (o *verifyOptions) checkMatrixCell() error {
	if o.cellRef == "" {
		return nil
	}
	c, err := matrix.ParseRef(o.cellRef)
	if err != nil {
		return err
	}
	o.cell = &c
	return nil
}
