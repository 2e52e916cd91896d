package main

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/framework/ipfamily"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/providers"
	"github.com/netconform/netconform/suites"
)

// Input is checked before anything is created or contacted: a run that would fail on its
// input after minutes of cluster creation, or worse run with settings nobody asked for, ends
// here instead, in well under a second, with exit code 2 and one line naming the bad value and
// what would be right.

// badInput marks err as bad input: netconform could not run.
func badInput(err error) error { return &exitError{code: exitCouldNotRun, err: err} }

// setAssignments applies make-style arguments (PROVIDER=<name> NODES=4) to the flags they stand
// for (keys maps KEY to the flag name). A value given both ways is refused unless it is the
// same: silently preferring one would run something the user did not ask for.
func setAssignments(cmd *cobra.Command, args []string, keys map[string]string) error {
	seen := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		name, known := keys[strings.ToUpper(k)]
		switch {
		case !ok:
			return fmt.Errorf("unexpected argument %q: use flags, or KEY=VALUE with KEY one of %s", a, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		case !known:
			return fmt.Errorf("unknown setting %q: use one of %s", k, strings.Join(slices.Sorted(maps.Keys(keys)), ", "))
		}
		key := strings.ToUpper(k)
		if prev, twice := seen[key]; twice && prev != v {
			return fmt.Errorf("%s=%s conflicts with %s=%s", key, v, key, prev)
		}
		seen[key] = v
		f := cmd.Flags().Lookup(name)
		if f.Changed && f.Value.String() != v {
			return fmt.Errorf("%s=%s conflicts with --%s %s", key, v, name, f.Value.String())
		}
		if err := cmd.Flags().Set(name, v); err != nil {
			return fmt.Errorf("%s=%s: want %s", key, v, kindOf(f.Value.Type()))
		}
	}
	return nil
}

// kindOf says in words what a flag of pflag's type takes.
func kindOf(flagType string) string {
	switch flagType {
	case "int":
		return "a whole number"
	case "bool":
		return "true or false"
	}
	return "a " + flagType
}

// lookupProvider finds a provider by netconform name, spec key or kops value; an unknown name
// gets the nearest valid one.
func lookupProvider(name string) (providers.Provider, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("no provider given; 'netconform providers' lists them")
	}
	return registry().Lookup(name)
}

// providerSettings checks --provider-option values against the provider's option schema for
// target, after the presets of the kops value it was named by (providers.Resolve). Every
// command taking --provider-option goes through here: run and switch on kind, check, and the
// AWS plans. It returns the settings as given (with presets) and typed by the schema.
func providerSettings(provider string, target providers.Target, kv []string) (map[string]string, map[string]any, error) {
	p, err := lookupProvider(provider)
	if err != nil {
		return nil, nil, err
	}
	given, err := keyValues("--provider-option", kv)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := providers.Configure(p, provider, target, given)
	if err != nil {
		return nil, nil, fmt.Errorf("--provider-option: %w", err)
	}
	return cfg.Settings, cfg.Options, nil
}

// selectFilter is what filter selects, parsed with ginkgo's parser; a filter that selects no
// check is refused: such a run would pass without having measured anything. given is the filter
// as the user wrote it, for that message (filter may have the perf suite left out).
func selectFilter(filter, given string) (suites.Selection, error) {
	sel, err := suites.Select(filter)
	if err != nil {
		return sel, err
	}
	if len(sel.Checks) == 0 {
		return sel, fmt.Errorf("label filter '%s' selects no check; the labels are %s", given, strings.Join(sel.Labels, ", "))
	}
	return sel, nil
}

// checkKindIPFamily refuses a cluster IP family the provider's kind installer does not configure
// (providers.KindSupport.IPFamilies): the cluster would come up and its pods get no address of
// the family, which the suites would report as the provider's failure rather than netconform's.
func checkKindIPFamily(provider string, f ipfamily.Family) error {
	p, err := lookupProvider(provider)
	if err != nil {
		return err
	}
	return p.Descriptor().RefuseIPFamily(f)
}

// checkExternalTarget refuses an --external-target that is not HOST:PORT with a port number:
// it would only fail when the suites start, after the cluster was made.
func checkExternalTarget(target string) error {
	if target == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(target)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return fmt.Errorf("--external-target %q: want HOST:PORT, the control address of a probe agent outside the cluster, e.g. 192.0.2.10:%d", target, probe.ControlPort)
	}
	return nil
}

// checkNodes refuses a node count below what the command needs (why says what that is). The
// platforms would otherwise round it up (kops to its default of two workers), running a cluster
// of another size than asked for.
func checkNodes(nodes, least int, why string) error {
	if nodes < least {
		return fmt.Errorf("--nodes %d: want at least %d: %s", nodes, least, why)
	}
	return nil
}

// Why commands need the nodes they need.
const (
	needControlPlane = "a cluster needs its control plane"
	needKopsWorker   = "a kops cluster has the control plane and at least one worker"
	needSwitchPeers  = "a switch rolls one node while another carries traffic"
)

// refuseUnknownSubcommands makes every command that only groups subcommands (aws, simulate)
// refuse an argument that names none of them. Cobra prints such a command's help and exits 0
// on "netconform aws bogus", which a script cannot tell from success.
func refuseUnknownSubcommands(root *cobra.Command) {
	for _, c := range root.Commands() {
		refuseUnknownSubcommands(c)
		if !c.HasSubCommands() || c.Runnable() {
			continue
		}
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			var valid []string
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() {
					valid = append(valid, s.Name())
				}
			}
			return badInput(fmt.Errorf("unknown command %q for %q; valid: %s", args[0], cmd.CommandPath(), strings.Join(valid, ", ")))
		}
	}
}
