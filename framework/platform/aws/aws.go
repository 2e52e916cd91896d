// Package aws is the AWS platform: it builds a cluster with the kops CLI, with a networking
// provider's --networking value and its settings written into the cluster spec, and deletes it
// at the end (also after an interrupt).
//
// The cluster spec is edited, not generated: kops create cluster (without --yes) registers the
// spec kops generates in the state store; netconform reads it back with kops get cluster -o
// yaml, merges its settings into spec.networking.<provider>, and stores the result with kops
// replace -f, before kops update cluster --yes builds anything. Everything else stays as the
// kops release in use generates it, so netconform does not have to track every kops spec field.
//
// Every resource carries the run id: kops create cluster --cloud-labels
// netconform.io/run-id=<id> puts it in spec.cloudLabels, which kops applies to the AWS
// resources it creates; netconform cleanup finds leftovers by that tag.
package aws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/netconform/netconform/framework/aws/kops"
	"github.com/netconform/netconform/framework/lint"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/providers"
)

// RunIDTag is the tag key every resource of a run carries.
const RunIDTag = "netconform.io/run-id"

var _ platform.Platform = (*AWS)(nil)

// Timeouts bound each kops step.
type Timeouts struct {
	Create   time.Duration // kops create cluster: writes the spec to the state store
	Spec     time.Duration // kops get cluster and kops replace
	Update   time.Duration // kops update cluster --yes: builds the cloud resources
	Validate time.Duration // kops validate cluster --wait: until nodes and system pods are ready
	Export   time.Duration // kops export kubecfg
	Delete   time.Duration // kops delete cluster --yes
	// Switch's rolling update (kops rolling-update cluster --yes) as a whole. Zero: a budget
	// per instance (control plane and nodes) of Drain, PostDrainDelay, RollValidation and
	// rollLaunch, so it grows with the cluster.
	Roll time.Duration
	// RollValidation is kops rolling-update's --validation-timeout: how long kops waits for
	// the cluster to validate after each instance it replaces.
	RollValidation time.Duration
	// Drain is kops rolling-update's --drain-timeout: how long kops waits for a node to drain.
	Drain time.Duration
}

// DefaultTimeouts are the timeouts used when Config.Timeouts leaves one at zero.
func DefaultTimeouts() Timeouts {
	return Timeouts{Create: 5 * time.Minute, Spec: 2 * time.Minute, Update: 30 * time.Minute,
		Validate: 20 * time.Minute, Export: 2 * time.Minute, Delete: 30 * time.Minute,
		RollValidation: 15 * time.Minute, Drain: 5 * time.Minute}
}

// validateMargin lets kops report its own --wait timeout before netconform's deadline hits.
const validateMargin = time.Minute

// Config is the AWS platform's settings, parsed once from flags.
type Config struct {
	// Providers are the providers the platform can look up (cmd passes providers/catalog): the
	// platform reads a provider's options and encapsulation there, and lints switched specs
	// with them. Required.
	Providers providers.Registry
	// Provider is the networking provider, as the registry in Providers knows it.
	Provider string
	// Options are extra provider settings for spec.networking.<provider>, over netconform's.
	Options map[string]any
	// RunID identifies the run and tags every resource.
	RunID string
	// ArtifactsDir receives the kubeconfig, the specs and kops' log.
	ArtifactsDir string
	// ClusterName defaults to <run id>.k8s.local: gossip DNS, so no Route 53 zone is needed.
	ClusterName string
	// Kops is the kops binary (default: kops on PATH).
	Kops string
	// StateStore is kops' --state (default: $KOPS_STATE_STORE).
	StateStore string
	// Zones for the nodes; the control plane runs in the first one.
	Zones []string
	// NodeCount is the number of worker nodes.
	NodeCount int
	// NodeSize and ControlPlaneSize are EC2 instance types.
	NodeSize         string
	ControlPlaneSize string
	// Topology is public or private.
	Topology string
	// KubernetesVersion, when set, is passed to kops; otherwise kops' channel decides.
	KubernetesVersion string
	// Env is added to kops' environment.
	Env []string
	// Timeouts for each step; zero fields take DefaultTimeouts'.
	Timeouts Timeouts
	// PostDrainDelay is kops rolling-update's --post-drain-delay (zero: kops' default).
	PostDrainDelay time.Duration
	// RouteQuota is the Routes per route table quota node routes must fit (modes that rely on VPC routes)
	// (zero: lint.DefaultRouteQuota, AWS's default); ExistingRoutes the routes the table holds
	// besides them (zero: lint.DefaultExistingRoutes, the local and internet gateway routes).
	RouteQuota, ExistingRoutes int
}

// Defaults.
const (
	DefaultZone      = "us-east-1a"
	DefaultNodeCount = 2
	DefaultSize      = "t3.medium"
)

// AWS is a kops-built cluster.
type AWS struct {
	cfg        Config
	networking Networking
	kops       *kops.CLI
	out        io.Writer

	mu      sync.Mutex
	started bool // kops create cluster was launched: there may be something to delete
	deleted bool
}

// Option adjusts an AWS platform.
type Option func(*AWS)

// WithOutput sends progress lines and kops' output to w (default: discarded; kops' output also
// goes to <artifacts>/kops.log).
func WithOutput(w io.Writer) Option { return func(a *AWS) { a.out = w } }

// Existing says the cluster already exists (created by an earlier run), so that Delete deletes
// it even though this value did not create it. netconform cleanup uses it.
func Existing() Option { return func(a *AWS) { a.started = true } }

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// New checks the configuration and fills its defaults. It runs nothing.
func New(cfg Config, opts ...Option) (*AWS, error) {
	if cfg.RunID == "" {
		return nil, errors.New("aws: a run id is required: it tags every resource")
	}
	if cfg.Providers == nil {
		return nil, errors.New("aws: no provider registry in the configuration")
	}
	n, err := LookupNetworking(cfg.Providers, cfg.Provider)
	if err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	if cfg.ClusterName == "" {
		if !dnsLabel.MatchString(cfg.RunID) || len(cfg.RunID) > 40 {
			return nil, fmt.Errorf("aws: run id %q cannot name a cluster (lowercase letters, digits and dashes, at most 40): pass a cluster name", cfg.RunID)
		}
		cfg.ClusterName = cfg.RunID + ".k8s.local"
	}
	if cfg.StateStore == "" {
		cfg.StateStore = os.Getenv("KOPS_STATE_STORE")
	}
	if cfg.StateStore == "" {
		return nil, errors.New("aws: no kops state store: pass --state or set KOPS_STATE_STORE (for example s3://my-kops-state)")
	}
	if len(cfg.Zones) == 0 {
		cfg.Zones = []string{DefaultZone}
	}
	if cfg.NodeCount == 0 {
		cfg.NodeCount = DefaultNodeCount
	}
	if cfg.NodeCount < 0 {
		return nil, fmt.Errorf("aws: node count %d is negative", cfg.NodeCount)
	}
	if cfg.NodeSize == "" {
		cfg.NodeSize = DefaultSize
	}
	if cfg.ControlPlaneSize == "" {
		cfg.ControlPlaneSize = DefaultSize
	}
	switch cfg.Topology {
	case "":
		cfg.Topology = "public"
	case "public", "private":
	default:
		return nil, fmt.Errorf("aws: topology %q: want public or private", cfg.Topology)
	}
	if cfg.Topology == "private" && !n.PrivateTopology {
		return nil, fmt.Errorf("aws: %s cannot run with --topology private: it needs a single route table, and a private topology has one per zone (NAT gateways are per zone)", n.Name)
	}
	if cfg.ArtifactsDir == "" {
		cfg.ArtifactsDir = filepath.Join("_artifacts", cfg.RunID)
	}
	if cfg.PostDrainDelay < 0 {
		return nil, fmt.Errorf("aws: post-drain delay %s is negative", cfg.PostDrainDelay)
	}
	cfg.Timeouts = withDefaults(cfg.Timeouts)
	if cfg.Timeouts.Roll <= 0 {
		cfg.Timeouts.Roll = rollBudget(cfg)
	}
	if cfg.RouteQuota == 0 {
		cfg.RouteQuota = lint.DefaultRouteQuota
	}
	if cfg.ExistingRoutes == 0 {
		cfg.ExistingRoutes = lint.DefaultExistingRoutes
	}
	if cfg.RouteQuota < 0 || cfg.ExistingRoutes < 0 {
		return nil, fmt.Errorf("aws: route quota %d and existing routes %d must not be negative", cfg.RouteQuota, cfg.ExistingRoutes)
	}
	a := &AWS{cfg: cfg, networking: n.WithOptions(cfg.Options, cfg.NodeCount), out: io.Discard}
	// The settings that go into the spec, checked as lint checks a spec (rule NC014).
	if errs := providers.ValidateOptions(n.provider.Descriptor(), a.networking.Spec); len(errs) > 0 {
		return nil, fmt.Errorf("aws: %s %w", n.Name, errs[0])
	}
	if err := a.fits(a.networking); err != nil {
		return nil, fmt.Errorf("aws: %w", err)
	}
	a.kops = &kops.CLI{Bin: cfg.Kops, State: cfg.StateStore, Env: cfg.Env}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// fits refuses a networking whose figures cannot work on this cluster: pod packets that do not
// fit the VPC's MTU, or node routes beyond the route table's quota.
func (a *AWS) fits(n Networking) error {
	if err := n.MTU().Err(n.Name); err != nil {
		return err
	}
	if r := a.routeBudget(n); r != nil {
		return r.Err()
	}
	return nil
}

func withDefaults(t Timeouts) Timeouts {
	d := DefaultTimeouts()
	for _, p := range []struct{ v, def *time.Duration }{
		{&t.Create, &d.Create}, {&t.Spec, &d.Spec}, {&t.Update, &d.Update},
		{&t.Validate, &d.Validate}, {&t.Export, &d.Export}, {&t.Delete, &d.Delete},
		{&t.RollValidation, &d.RollValidation}, {&t.Drain, &d.Drain},
	} {
		if *p.v <= 0 {
			*p.v = *p.def
		}
	}
	return t
}

// Name is the platform's name.
func (a *AWS) Name() string { return "aws" }

// ClusterName is the kops cluster name.
func (a *AWS) ClusterName() string { return a.cfg.ClusterName }

// Networking is the provider as this platform sets it up, with the user's options applied.
func (a *AWS) Networking() Networking { return a.networking }

// KubeconfigPath is where Create exports the admin kubeconfig.
func (a *AWS) KubeconfigPath() string { return filepath.Join(a.cfg.ArtifactsDir, "kubeconfig") }

func (a *AWS) generatedSpecPath() string {
	return filepath.Join(a.cfg.ArtifactsDir, "cluster.kops.yaml")
}
func (a *AWS) specPath() string { return filepath.Join(a.cfg.ArtifactsDir, "cluster.yaml") }
func (a *AWS) logPath() string  { return filepath.Join(a.cfg.ArtifactsDir, "kops.log") }

// Create builds the cluster: create the spec, merge netconform's settings into it, build the
// cloud resources, wait for validation, export the kubeconfig. When it fails, call Delete.
func (a *AWS) Create(ctx context.Context) error {
	if len(a.networking.OutOfSpec) > 0 {
		// netconform writes no secret to disk or to kops' command line.
		return fmt.Errorf("aws: %s settings kept out of the spec (%s) must be stored with kops before the cluster is built; netconform does not store them",
			a.networking.Name, strings.Join(slices.Sorted(maps.Keys(a.networking.OutOfSpec)), ", "))
	}
	if err := os.MkdirAll(a.cfg.ArtifactsDir, 0o755); err != nil {
		return fmt.Errorf("aws: artifacts directory: %w", err)
	}
	log, err := os.OpenFile(a.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("aws: kops log: %w", err)
	}
	defer log.Close()
	cli := *a.kops
	cli.Log = io.MultiWriter(log, a.out)
	if _, err := cli.Path(); err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	for _, st := range a.Plan().Steps {
		if st.Kind == StepDelete {
			continue
		}
		fmt.Fprintf(a.out, "aws: %s\n", st.Title)
		if st.Kind == StepCreate {
			a.mu.Lock()
			a.started = true
			a.mu.Unlock()
		}
		out, err := cli.Run(ctx, st.Timeout, st.Args...)
		if err != nil {
			return fmt.Errorf("aws: %s: %w", st.Title, err)
		}
		if st.Kind == StepGetSpec {
			if err := a.writeSpecs(out); err != nil {
				return err
			}
		}
	}
	if _, err := os.Stat(a.KubeconfigPath()); err != nil {
		return fmt.Errorf("aws: kops export kubecfg wrote no kubeconfig: %w", err)
	}
	return nil
}

// writeSpecs keeps the generated spec and writes the merged one that kops replace reads.
func (a *AWS) writeSpecs(generated []byte) error {
	if err := os.WriteFile(a.generatedSpecPath(), generated, 0o644); err != nil {
		return fmt.Errorf("aws: keep the generated spec: %w", err)
	}
	merged, err := mergeSpec(generated, a.cfg.ClusterName, a.networking)
	if err != nil {
		return fmt.Errorf("aws: %w", err)
	}
	if err := os.WriteFile(a.specPath(), merged, 0o644); err != nil {
		return fmt.Errorf("aws: write the spec: %w", err)
	}
	return nil
}

// Delete deletes the cluster with kops delete cluster --yes. It runs even when ctx is already
// cancelled (an interrupt cancels the run's context; cleanup must still happen), bounded by its
// own timeout. It does nothing when Create never started, and succeeds when kops says the
// cluster does not exist.
func (a *AWS) Delete(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.started || a.deleted {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	cli := *a.kops
	if err := os.MkdirAll(a.cfg.ArtifactsDir, 0o755); err == nil {
		if log, err := os.OpenFile(a.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
			defer log.Close()
			cli.Log = io.MultiWriter(log, a.out)
		}
	}
	st := a.deleteStep()
	fmt.Fprintf(a.out, "aws: %s\n", st.Title)
	if _, err := cli.Run(ctx, st.Timeout, st.Args...); err != nil && !kops.IsNotFound(err) {
		return fmt.Errorf("aws: %s: %w", st.Title, err)
	}
	a.deleted = true
	return nil
}

// cloudLabels is the --cloud-labels value: key=value pairs, comma separated.
func (a *AWS) cloudLabels() string {
	return RunIDTag + "=" + a.cfg.RunID
}

func joinComma(s []string) string { return strings.Join(s, ",") }
