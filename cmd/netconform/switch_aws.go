package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/netconform/netconform/framework/platform/aws"
)

// switchAWSOptions are switch's settings for --platform aws: the AWS platform's flags, and
// the rolling update's.
type switchAWSOptions struct {
	awsOptions
	dryRun         bool
	rollTimeout    time.Duration
	rollValidation time.Duration
	postDrainDelay time.Duration
}

// addFlags registers the AWS flags switch does not have already (--provider-option and
// --drain-timeout are switch's own, and mean the same on AWS).
func (o *switchAWSOptions) addFlags(f *pflag.FlagSet) {
	own := pflag.NewFlagSet("aws", pflag.ContinueOnError)
	o.awsOptions.addFlags(own)
	o.awsOptions.addPlanFlags(own)
	own.BoolVar(&o.dryRun, "dry-run", false, "print the kops commands and spec.networking before and after, without running anything (aws)")
	own.DurationVar(&o.rollTimeout, "roll-timeout", 0, "deadline of kops rolling-update cluster (aws; default: per instance, drain timeout + post-drain delay + 5m + roll validation timeout)")
	own.DurationVar(&o.rollValidation, "roll-validation-timeout", aws.DefaultTimeouts().RollValidation, "kops rolling-update --validation-timeout: how long kops waits for the cluster to validate after each instance (aws)")
	own.DurationVar(&o.postDrainDelay, "post-drain-delay", 0, "kops rolling-update --post-drain-delay (aws; default: kops')")
	own.VisitAll(func(fl *pflag.Flag) {
		if f.Lookup(fl.Name) == nil {
			f.AddFlag(fl)
		}
	})
}

// runSwitchAWS is switch --platform aws (and switch --dry-run, which only aws has). It prints the kops flow with --dry-run; without it,
// it refuses: netconform has not run a switch against AWS (the flow is tested against
// fixtures/fakekops and fixtures/ec2stub only), and this command would not measure disruption
// or run the suites on AWS as it does on kind.
func runSwitchAWS(o *switchOptions, out io.Writer) error {
	switch o.platform {
	case "aws":
	case "kind":
		return &exitError{code: exitCouldNotRun, err: errors.New("--dry-run is for --platform aws: on kind, switch runs the switch")}
	default:
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("platform %q: switch supports kind, and aws with --dry-run", o.platform)}
	}
	if o.from == "" || o.to == "" {
		return &exitError{code: exitCouldNotRun, err: errors.New("--from and --to are required")}
	}
	if !o.aws.dryRun {
		return &exitError{code: exitCouldNotRun, err: errors.New("switch --platform aws needs --dry-run here: a real switch needs AWS credentials, a kops binary and a cluster kops built, and netconform's kops switch has only run against a stand-in kops and EC2 (fixtures/fakekops, fixtures/ec2stub); --dry-run prints the kops commands it would run")}
	}
	opts, err := keyValues("--provider-option", o.providerOptions)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	ao := o.aws.awsOptions
	ao.provider, ao.runID, ao.artifacts, ao.nodes = o.from, o.runID, o.artifacts, o.nodes
	// --route-quota is switch's own (the routes suite's), and the plan's too.
	ao.routeQuota = o.routeQuota
	note := ""
	if ao.state == "" && os.Getenv("KOPS_STATE_STORE") == "" {
		ao.state = placeholderState
		note = fmt.Sprintf("# note: no --state and no KOPS_STATE_STORE: %s stands in for your kops state store\n", placeholderState)
	}
	cfg, err := ao.config()
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	cfg.Timeouts.Drain, cfg.Timeouts.RollValidation, cfg.Timeouts.Roll = o.drainTimeout, o.aws.rollValidation, o.aws.rollTimeout
	cfg.PostDrainDelay = o.aws.postDrainDelay
	p, err := aws.New(cfg)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: fmt.Errorf("--from %s: %w", o.from, err)}
	}
	plan, err := p.SwitchPlan(o.to, opts)
	if err != nil {
		return &exitError{code: exitCouldNotRun, err: err}
	}
	return writePlan(out, o.to, o.providerOptions, func(b io.Writer) error {
		if _, err := io.WriteString(b, note); err != nil {
			return err
		}
		return plan.Write(b)
	})
}
