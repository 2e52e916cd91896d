package ec2check_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/aws/ec2check"
)

// launchTagged starts an instance at ip carrying tags (key, value, ...) and returns its id.
func (w *world) launchTagged(t *testing.T, ip string, kv ...string) string {
	t.Helper()
	var tags []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	out, err := w.ec2.RunInstances(tctx(t), &ec2.RunInstancesInput{ImageId: aws.String("ami-1"), InstanceType: types.InstanceTypeT3Medium,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &w.subnet, PrivateIpAddress: aws.String(ip),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: tags}}})
	if err != nil {
		t.Fatalf("launch %s: %v", ip, err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func kubeNode(name, providerID, podCIDR string, ips ...string) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{ProviderID: providerID, PodCIDR: podCIDR}}
	n.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	return n
}

func TestNodesFromKube(t *testing.T) {
	w := newWorld(t, 0, "t3.medium")
	owned := []string{"kubernetes.io/cluster/" + cluster, "owned"}
	cp := w.launchTagged(t, "172.20.32.10", owned...)
	worker := w.launchTagged(t, "172.20.32.11", owned...)
	w.launchTagged(t, "172.20.32.12", "kubernetes.io/cluster/other.k8s.local", "owned")

	w.srv.ResetCalls()
	got, err := ec2check.NodesFromKube(tctx(t), w.ec2, cluster, []corev1.Node{
		kubeNode("aws-node", "aws:///us-east-1a/i-0123456789abcdef0", "100.96.0.0/24", "172.20.32.99"),
		kubeNode("kind-control-plane", "kind://docker/kind/kind-control-plane", "100.96.1.0/24", "fc00::10", "172.20.32.10"),
		kubeNode("no-provider", "", "100.96.2.0/24", "172.20.32.11"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []ec2check.Node{
		{Name: "aws-node", InstanceID: "i-0123456789abcdef0", PodCIDR: "100.96.0.0/24", MaxPods: 110},
		{Name: "kind-control-plane", InstanceID: cp, PodCIDR: "100.96.1.0/24", MaxPods: 110},
		{Name: "no-provider", InstanceID: worker, PodCIDR: "100.96.2.0/24", MaxPods: 110},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("node %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Every node that needs an address lookup is found with one call, not one per node.
	if n := w.srv.Calls()["DescribeInstances"]; n != 1 {
		t.Errorf("%d DescribeInstances calls, want 1", n)
	}

	// All nodes with an AWS provider id: EC2 is not asked at all.
	w.srv.ResetCalls()
	if _, err := ec2check.NodesFromKube(tctx(t), w.ec2, cluster, []corev1.Node{kubeNode("a", "aws:///us-east-1a/i-1", "")}); err != nil {
		t.Fatal(err)
	}
	if n := w.srv.TotalCalls(); n != 0 {
		t.Errorf("%d EC2 calls for nodes with AWS provider ids, want 0", n)
	}

	// Nodes that match nothing are named, each with why.
	_, err = ec2check.NodesFromKube(tctx(t), w.ec2, cluster, []corev1.Node{
		kubeNode("ok", "kind://docker/kind/ok", "", "172.20.32.10"),
		kubeNode("elsewhere", "kind://docker/kind/elsewhere", "", "172.20.32.12"), // another cluster's instance
		kubeNode("no-address", "kind://docker/kind/no-address", ""),
		kubeNode("bad-aws", "aws:///us-east-1a/", "", "172.20.32.77"),
	})
	if err == nil {
		t.Fatal("unmatched nodes accepted")
	}
	for _, s := range []string{
		"node elsewhere: provider id \"kind://docker/kind/elsewhere\" is not an AWS one", "no running instance of cluster " + cluster + " has its InternalIP 172.20.32.12",
		"node no-address:", "no IPv4 InternalIP",
		"node bad-aws: provider id \"aws:///us-east-1a/\" has no instance id",
	} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if strings.Contains(err.Error(), "node ok") {
		t.Errorf("error %q names a node that matched", err)
	}
}

// kops releases before the kubernetes.io/cluster/<name> tag tagged instances only with
// KubernetesCluster=<name>; those are found too. A terminated instance does not count.
func TestNodesFromKubeLegacyTagAndTerminated(t *testing.T) {
	w := newWorld(t, 0, "t3.medium")
	id := w.launchTagged(t, "172.20.32.20", "KubernetesCluster", cluster)
	gone := w.launchTagged(t, "172.20.32.21", "KubernetesCluster", cluster)
	if _, err := w.ec2.TerminateInstances(tctx(t), &ec2.TerminateInstancesInput{InstanceIds: []string{gone}}); err != nil {
		t.Fatal(err)
	}
	got, err := ec2check.NodesFromKube(tctx(t), w.ec2, cluster, []corev1.Node{kubeNode("n", "", "", "172.20.32.20")})
	if err != nil || got[0].InstanceID != id {
		t.Fatalf("got %+v, %v; want instance %s", got, err, id)
	}
	if _, err := ec2check.NodesFromKube(tctx(t), w.ec2, cluster, []corev1.Node{kubeNode("n", "", "", "172.20.32.21")}); err == nil {
		t.Error("a node matched a terminated instance")
	}
}
