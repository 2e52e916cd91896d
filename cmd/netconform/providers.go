package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/netconform/netconform/providers"
)

type providersFlags struct {
	output string
	// installable, def and switchTarget print names only, one a line, for scripts and the
	// Makefile, which ask the binary instead of keeping their own provider lists.
	installable, def, switchTarget bool
}

func newProvidersCmd() *cobra.Command {
	var f providersFlags
	cmd := &cobra.Command{
		Use:   "providers [NAME]",
		Short: "List every networking mode and CNI provider kops knows, with status, platforms and kind support",
		Long: `List every networking mode and CNI provider in the kops networking guide, and the modes
netconform adds: kops --networking values, lifecycle status, the clouds each runs on, whether
netconform can install it on kind, and notes. With NAME (a netconform name or a kops --networking
value), show everything known about that one provider: options, requirements and encapsulation.
--installable, --default and --switch-target print only names, one a line, for scripts.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.output != "text" && f.output != "json" {
				return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--output %q: want text or json", f.output)}
			}
			out := cmd.OutOrStdout()
			if names, ok, err := f.names(args); ok {
				if err != nil {
					return &exitError{code: exitCouldNotRun, err: err}
				}
				_, err := io.WriteString(out, strings.Join(names, "\n")+"\n")
				return err
			}
			if len(args) == 1 {
				p, err := registry().Lookup(args[0])
				if err != nil {
					return &exitError{code: exitCouldNotRun, err: err}
				}
				if f.output == "json" {
					return writeJSON(out, p.Descriptor())
				}
				return writeProviderDetail(out, p.Descriptor(), componentImages(p))
			}
			all := registry().All()
			if f.output == "json" {
				ds := make([]providers.Descriptor, 0, len(all))
				for _, p := range all {
					ds = append(ds, p.Descriptor())
				}
				return writeJSON(out, ds)
			}
			return writeProviderTable(out, all)
		},
	}
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&f.installable, "installable", false, "print the providers netconform installs on kind, one a line")
	cmd.Flags().BoolVar(&f.def, "default", false, "print the provider kind runs use when none is named")
	cmd.Flags().BoolVar(&f.switchTarget, "switch-target", false, "print the provider a switch goes to when none is named")
	return cmd
}

// names answers --installable, --default and --switch-target (ok is false when none is given).
func (f providersFlags) names(args []string) (names []string, ok bool, err error) {
	var asked []string
	for flag, on := range map[string]bool{"--installable": f.installable, "--default": f.def, "--switch-target": f.switchTarget} {
		if on {
			asked = append(asked, flag)
		}
	}
	switch {
	case len(asked) == 0:
		return nil, false, nil
	case len(asked) > 1 || len(args) > 0:
		slices.Sort(asked)
		return nil, true, fmt.Errorf("%s: give one of --installable, --default, --switch-target, without NAME", strings.Join(append(asked, args...), " "))
	}
	reg := registry()
	switch {
	case f.installable:
		names = providers.Installable(reg)
	case f.def:
		names = []string{providers.KindDefault(reg)}
	default:
		names = []string{providers.KindSwitchTarget(reg)}
	}
	if len(names) == 0 || names[0] == "" {
		return nil, true, fmt.Errorf("%s: no provider in the registry is marked so", asked[0])
	}
	return names, true, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// statusText is the lifecycle status with the kops release that made it so.
func statusText(l providers.Lifecycle) string {
	switch {
	case l.Status == providers.StatusRemoved && !l.RemovedInKops.IsZero():
		return fmt.Sprintf("removed (kops %s)", l.RemovedInKops)
	case l.Status == providers.StatusDeprecated && !l.DeprecatedInKops.IsZero():
		return fmt.Sprintf("deprecated (kops %s)", l.DeprecatedInKops)
	}
	return string(l.Status)
}

// shortNotes are the facts that fit a table cell.
func shortNotes(d providers.Descriptor) string {
	var parts []string
	switch enc := d.Encapsulation; {
	case enc.Kind == providers.EncapUnknown:
		parts = append(parts, "datapath: yours")
	case enc.Kind == providers.EncapNone:
		parts = append(parts, "routed")
	default:
		parts = append(parts, fmt.Sprintf("%s +%dB", enc.Kind, enc.Overhead))
	}
	if d.EnforcesNetworkPolicy {
		parts = append(parts, "NetworkPolicy")
	}
	switch r := d.Requirements.ReplacesKubeProxy; r {
	case providers.Never:
	case providers.Always:
		parts = append(parts, "replaces kube-proxy")
	default:
		parts = append(parts, "replaces kube-proxy "+string(r))
	}
	l := d.Lifecycle
	if !l.UnsupportedFromKubernetes.IsZero() {
		parts = append(parts, fmt.Sprintf("not on Kubernetes %s+", l.UnsupportedFromKubernetes))
	}
	if l.Status == providers.StatusRemoved && !l.DeprecatedInKops.IsZero() {
		parts = append(parts, fmt.Sprintf("deprecated kops %s", l.DeprecatedInKops))
	}
	if l.IsDefault {
		switch {
		case !l.DefaultUntilKops.IsZero():
			parts = append(parts, fmt.Sprintf("kops default before %s", l.DefaultUntilKops))
		case !l.DefaultFromKops.IsZero():
			parts = append(parts, fmt.Sprintf("kops default from %s", l.DefaultFromKops))
		}
	}
	return strings.Join(parts, "; ")
}

func writeProviderTable(w io.Writer, all []providers.Provider) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKOPS --networking\tSTATUS\tPLATFORMS\tKIND\tNOTES")
	for _, p := range all {
		d := p.Descriptor()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, strings.Join(d.KopsValueNames(), ","),
			statusText(d.Lifecycle), d.Platforms, d.Kind.Status, shortNotes(d))
	}
	// Those installed from upstream images: which images, and that their installers never ran
	// here (the KIND column cannot say it).
	var upstream []providers.Descriptor
	for _, p := range all {
		if d := p.Descriptor(); d.Kind.Status == providers.KindUpstreamImages {
			upstream = append(upstream, d)
		}
	}
	if len(upstream) > 0 {
		fmt.Fprintf(tw, "\n%s: netconform installs these on kind from their providers' own images, pulled by docker or already in it; it builds none of them, and these installers never ran here (no registry reachable):\n", providers.KindUpstreamImages)
		for _, d := range upstream {
			fmt.Fprintf(tw, "  %s\t%s\n", d.Name, strings.Join(d.Kind.Images, ", "))
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing provider table: %w", err)
	}
	return nil
}

// componentImages are the upstream images, by component, that p's kind installer runs with its
// default options; nil when it installs nothing on kind or runs no images.
func componentImages(p providers.Provider) []providers.Image {
	ki, ok := p.(providers.KindInstallable)
	if !ok {
		return nil
	}
	in, _, err := ki.KindInstaller(nil, 0)
	if err != nil {
		return nil
	}
	return providers.UpstreamImages(in)
}

func writeProviderDetail(w io.Writer, d providers.Descriptor, imgs []providers.Image) error {
	var b strings.Builder
	b.WriteString(d.Name)
	if d.Title != d.Name {
		fmt.Fprintf(&b, " (%s)", d.Title)
	}
	fmt.Fprintf(&b, "\n  %s\n", d.Summary)
	fmt.Fprintf(&b, "kops --networking: %s\n", kopsValuesText(d.KopsValues))
	fmt.Fprintf(&b, "spec key:          spec.networking.%s\n", d.SpecKey)
	fmt.Fprintf(&b, "status:            %s\n", statusText(d.Lifecycle))
	l := d.Lifecycle
	for _, v := range []struct {
		label string
		ver   providers.Version
	}{
		{"introduced in kops", l.IntroducedInKops},
		{"deprecated in kops", l.DeprecatedInKops},
		{"removed in kops", l.RemovedInKops},
		{"unsupported from Kubernetes", l.UnsupportedFromKubernetes},
		{"kops default from", l.DefaultFromKops},
		{"kops default until", l.DefaultUntilKops},
	} {
		if !v.ver.IsZero() {
			fmt.Fprintf(&b, "  %s %s\n", v.label, v.ver)
		}
	}
	if l.Note != "" {
		fmt.Fprintf(&b, "  %s\n", l.Note)
	}
	fmt.Fprintf(&b, "platforms:         %s\n", d.Platforms)
	fmt.Fprintf(&b, "on kind:           %s: %s\n", d.Kind.Status, d.Kind.Reason)
	if len(d.Kind.Images) > 0 {
		// The images its installer runs, which a run looks for and pulls before anything else.
		fmt.Fprintf(&b, "  upstream images: %s\n", strings.Join(d.Kind.Images, ", "))
	}
	if d.Kind.NotBuilt != "" {
		fmt.Fprintf(&b, "  not built: %s\n", d.Kind.NotBuilt)
	}
	if d.Kind.Status == providers.KindSupported && len(imgs) > 0 {
		// What --images upstream runs in place of the local builds (--provider-image NAME=REF).
		parts := make([]string, len(imgs))
		for i, img := range imgs {
			parts[i] = img.Name + "=" + img.Ref
		}
		fmt.Fprintf(&b, "  images: local builds (scripts/provider-images.sh) or, with --images upstream, %s\n", strings.Join(parts, ", "))
	}
	if d.Kind.Installs() {
		// Which --ip-family values run takes with this provider on kind, and why not the others.
		var fams []string
		for _, f := range d.Kind.Families() {
			fams = append(fams, string(f))
		}
		fmt.Fprintf(&b, "  --ip-family %s", strings.Join(fams, ", "))
		if d.Kind.IPv6Gap != "" {
			fmt.Fprintf(&b, " (IPv6 not yet: %s)", d.Kind.IPv6Gap)
		}
		b.WriteString("\n")
	}
	enc := d.Encapsulation
	fmt.Fprintf(&b, "encapsulation:     %s, %d bytes", enc.Kind, enc.Overhead)
	if enc.Note != "" {
		fmt.Fprintf(&b, " (%s)", enc.Note)
	}
	fmt.Fprintf(&b, "\nNetworkPolicy:     %t\n", d.EnforcesNetworkPolicy)
	writeOptions(&b, "options:", d.Options)
	writeOptions(&b, "options on kind (netconform's install; they replace kops' of the same name):", d.KindOptions)
	writeRequirements(&b, d.Requirements)
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing provider details: %w", err)
	}
	return nil
}

// writeOptions lists options under a heading, if there are any.
func writeOptions(b *strings.Builder, heading string, opts []providers.Option) {
	if len(opts) > 0 {
		b.WriteString(heading + "\n")
		for _, o := range opts {
			fmt.Fprintf(b, "  %s (%s, default %s", o.Name, o.Type, o.Default)
			if o.DefaultOnAWS != "" {
				fmt.Fprintf(b, ", %s on AWS", o.DefaultOnAWS)
			}
			if len(o.Enum) > 0 {
				fmt.Fprintf(b, ", one of %s", strings.Join(o.Enum, "|"))
			}
			if o.Secret {
				b.WriteString(", secret")
			}
			if !o.SinceKops.IsZero() {
				fmt.Fprintf(b, ", kops %s+", o.SinceKops)
			}
			fmt.Fprintf(b, "): %s", o.Description)
			if !o.InSpec {
				fmt.Fprintf(b, " Set with: %s.", o.Source)
			}
			b.WriteString("\n")
		}
	}
}

func kopsValuesText(vs []providers.KopsValue) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		s := v.Value
		if len(v.Presets) > 0 {
			var ps []string
			for _, k := range slices.Sorted(maps.Keys(v.Presets)) {
				ps = append(ps, k+"="+v.Presets[k])
			}
			s += " (" + strings.Join(ps, ", ") + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func cond(c providers.Cond) string {
	if c == providers.Always {
		return ""
	}
	return " " + string(c)
}

func writeRequirements(b *strings.Builder, r providers.Requirements) {
	b.WriteString("requirements:\n")
	for _, k := range r.Kernel {
		fmt.Fprintf(b, "  kernel %s", k.Feature)
		if k.MinKernel != "" {
			fmt.Fprintf(b, " (Linux %s+)", k.MinKernel)
		}
		fmt.Fprintf(b, "%s\n", cond(k.When))
	}
	if r.ReplacesKubeProxy != providers.Never {
		fmt.Fprintf(b, "  replaces kube-proxy%s\n", cond(r.ReplacesKubeProxy))
	}
	for _, p := range r.Ports {
		fmt.Fprintf(b, "  port %s between %s: %s%s\n", p, p.Between, p.Purpose, cond(p.When))
	}
	for _, g := range r.IAM {
		fmt.Fprintf(b, "  IAM for %s on %s%s: %s\n", g.Role, g.Resource, cond(g.When), strings.Join(g.Actions, ", "))
	}
	if r.SrcDstCheckDisabled != providers.Never {
		fmt.Fprintf(b, "  EC2 source/destination check disabled%s\n", cond(r.SrcDstCheckDisabled))
	}
	if r.EtcdCluster != nil {
		fmt.Fprintf(b, "  etcd cluster %q in spec.etcdClusters%s\n", r.EtcdCluster.Name, cond(r.EtcdCluster.When))
	}
}
