package main

import (
	"strings"
	"testing"
)

func TestSwitchAWSDryRun(t *testing.T) {
	out, err := execute(t, "switch", "--platform", "aws", "--dry-run", "--from", "kubenet", "--to", "calico",
		"--provider-option", "mtu=8900", "--provider-option", "typhaReplicas=2", "--run-id", "nc-sw", "--state", "s3://bucket",
		"--drain-timeout", "3m", "--post-drain-delay", "20s", "--roll-timeout", "90m")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The kops commands in the order they run, and the networking before and after.
	at := -1
	for _, want := range []string{
		"# switch:      kubenet -> calico",
		"kops get cluster --name nc-sw.k8s.local -o yaml --state s3://bucket > _artifacts/nc-sw/cluster.switch-before.yaml",
		"#   before (as netconform sets kubenet up; kops prints it with its defaults filled in):\n#     networking:\n#       kubenet: {}\n",
		"#   after:\n#     networking:\n#       calico:\n",
		"#         mtu: 8900\n#         typhaReplicas: 2\n",
		"kops replace -f _artifacts/nc-sw/cluster.switch-after.yaml --state s3://bucket",
		"kops update cluster --name nc-sw.k8s.local --yes --state s3://bucket",
		"(timeout 1h30m)\nkops rolling-update cluster --name nc-sw.k8s.local --yes --validation-timeout 15m --drain-timeout 3m --post-drain-delay 20s --state s3://bucket",
		"kops validate cluster --name nc-sw.k8s.local --wait 20m --state s3://bucket",
		"# EC2 checks once the cluster runs calico:",
	} {
		i := strings.Index(out, want)
		if i < 0 {
			t.Errorf("plan lacks %q:\n%s", want, out)
			continue
		}
		if i < at {
			t.Errorf("%q is out of order:\n%s", want, out)
		}
		at = i
	}
	if strings.Contains(out, "kops create") || strings.Contains(out, "kops delete") {
		t.Errorf("a switch plan creates or deletes the cluster:\n%s", out)
	}
}

func TestSwitchAWSRefusals(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--platform", "aws", "--from", "kubenet", "--to", "calico"}, "needs --dry-run"},
		{[]string{"--platform", "aws", "--dry-run", "--from", "calico", "--to", "kubenet", "--topology", "private", "--state", "s3://b"}, "NC001"},
		{[]string{"--platform", "aws", "--dry-run", "--from", "calico", "--to", "nope", "--state", "s3://b"}, `provider "nope"`},
		{[]string{"--platform", "aws", "--dry-run", "--from", "calico", "--to", "calico", "--state", "s3://b"}, "already runs calico"},
		{[]string{"--platform", "aws", "--dry-run", "--to", "calico"}, "--from and --to are required"},
		{[]string{"--dry-run", "--from", "calico", "--to", "kubenet"}, "--dry-run applies to --platform aws only"},
		{[]string{"--platform", "gce", "--from", "calico", "--to", "kubenet"}, "--platform gce: want kind, or aws with --dry-run"},
	} {
		out, err := execute(t, append([]string{"switch"}, c.args...)...)
		if exitCode(err) != exitCouldNotRun || !strings.Contains(err.Error(), c.want) {
			t.Errorf("switch %s: exit %d, %v, want exit 2 with %q\n%s", strings.Join(c.args, " "), exitCode(err), err, c.want, out)
		}
		if strings.Contains(out, "kops replace") {
			t.Errorf("switch %s printed a plan:\n%s", strings.Join(c.args, " "), out)
		}
	}
}
