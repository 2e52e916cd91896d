package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/kopsspec"
	"github.com/netconform/netconform/framework/lint"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/providers/catalog"
)

type lintFlags struct {
	output         string
	routeQuota     int
	existingRoutes int
	kopsVersion    string
	underlayMTU    int
	listRules      bool
}

// options turns the flags into lint options, or says which flag is wrong.
func (f lintFlags) options() (lint.Options, error) {
	if f.output != "text" && f.output != "json" {
		return lint.Options{}, fmt.Errorf("--output %q: want text or json", f.output)
	}
	if f.routeQuota < 1 {
		return lint.Options{}, fmt.Errorf("--route-quota %d: want a positive number", f.routeQuota)
	}
	if f.existingRoutes < 0 {
		return lint.Options{}, fmt.Errorf("--existing-routes %d: want zero or more", f.existingRoutes)
	}
	if f.underlayMTU != 0 && (f.underlayMTU < 576 || f.underlayMTU > 65535) {
		return lint.Options{}, fmt.Errorf("--underlay-mtu %d: want 576 to 65535, or 0 for the cloud's default", f.underlayMTU)
	}
	o := lint.Options{Providers: catalog.Registry{}, RouteQuota: f.routeQuota, ExistingRoutes: f.existingRoutes, UnderlayMTU: f.underlayMTU}
	if f.kopsVersion != "" {
		v, err := providers.ParseVersion(f.kopsVersion)
		if err != nil {
			return lint.Options{}, fmt.Errorf("--kops-version: %w", err)
		}
		o.KopsVersion = v
	}
	return o, nil
}

func newLintCmd() *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint FILE...",
		Short: "Check the networking of kops cluster specs before creating anything",
		Long: `Check kops Cluster and InstanceGroup documents (as 'kops get cluster -o yaml' and
'kops get ig -o yaml' print them; "-" reads standard input) against netconform's provider
catalog. Each finding has a rule id, severity, file, line, YAML path and a one-line fix.

Exit status: 0 when no error-level finding, 1 when there is one, 2 when input cannot be read
or parsed (the message gives file, line and what was wrong).

The MTU rule compares spec.networking.<provider>.mtu with the underlay MTU minus the
provider's encapsulation overhead. The underlay defaults by cloud: AWS 9001 (jumbo frames
inside a VPC), GCE 1460, other clouds 1500; pass --underlay-mtu 1500 when pod traffic
crosses an internet gateway, VPN or inter-region peering.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			if f.listRules {
				return writeRules(cmd, f.output)
			}
			if len(args) == 0 {
				return &exitError{code: exitCouldNotRun, err: errors.New("lint: no files given (use - for standard input)")}
			}
			opts, err := f.options()
			if err != nil {
				return &exitError{code: exitCouldNotRun, err: fmt.Errorf("lint: %w", err)}
			}
			set := &kopsspec.Set{}
			for _, name := range args {
				s, err := kopsspec.ReadFile(name)
				if err != nil {
					return &exitError{code: exitCouldNotRun, err: fmt.Errorf("lint: %w", err)}
				}
				set.Add(s)
			}
			findings, err := lint.Check(set, opts)
			if err != nil {
				return &exitError{code: exitCouldNotRun, err: fmt.Errorf("lint %s: %w", strings.Join(args, " "), err)}
			}
			if f.output == "json" {
				err = lint.WriteJSON(out, findings)
			} else {
				err = lint.WriteText(out, findings)
			}
			if err != nil {
				return &exitError{code: exitCouldNotRun, err: err}
			}
			if lint.HasErrors(findings) {
				s := lint.Summarize(findings)
				return &exitError{code: exitChecksFail, err: fmt.Errorf("lint: %d error-level finding(s)", s.Errors)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	fl.IntVar(&f.routeQuota, "route-quota", lint.DefaultRouteQuota, "routes allowed per VPC route table (AWS default 500; older accounts 50)")
	fl.IntVar(&f.existingRoutes, "existing-routes", lint.DefaultExistingRoutes, "routes a node-route table (NC002) holds besides node routes (local + internet gateway); each additionalNetworkCIDRs entry adds one")
	fl.StringVar(&f.kopsVersion, "kops-version", "", "kops release the spec is for (default: the newest netconform knows)")
	fl.IntVar(&f.underlayMTU, "underlay-mtu", 0, "MTU between nodes (default by cloud: aws 9001, gce 1460, others 1500)")
	fl.BoolVar(&f.listRules, "rules", false, "list the rules and exit")
	return cmd
}

func writeRules(cmd *cobra.Command, output string) error {
	rules, err := lint.Rules(catalog.Registry{})
	if err != nil {
		return fmt.Errorf("listing lint rules: %w", err)
	}
	if output == "json" {
		return writeJSON(cmd.OutOrStdout(), rules)
	}
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tSEVERITY\tCHECKS")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Severity, r.Title)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing rules: %w", err)
	}
	return nil
}
