package evidence

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
)

const (
	plantedToken = "PLANTED-TOKEN-7f3a9c"
	plantedAWS   = "PLANTED-AWS-SECRET-91bd"
	plantedWeave = "PLANTED-WEAVE-PASSWORD-55e1"
)

// fakeNodes answers node commands; node "hang" never answers, node "bad" fails.
type fakeNodes struct{}

func (fakeNodes) RunOnNode(ctx context.Context, node string, argv []string, _ io.Reader) ([]byte, error) {
	switch node {
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	case "bad":
		return []byte("partial output"), errors.New("exit status 1")
	}
	cmd := strings.Join(argv, " ")
	switch {
	case strings.Contains(cmd, "cni"):
		// A provider config that carries secrets, as weave's does.
		return []byte(`{"type":"weave-net","password":"` + plantedWeave + `","token":"` + plantedToken + `"}`), nil
	case strings.Contains(cmd, "kubelet"):
		return []byte("kubelet: using AWS_SECRET_ACCESS_KEY=" + plantedAWS), nil
	case strings.HasPrefix(cmd, "ip -d link"):
		return []byte("2: eth0: <BROADCAST,UP> mtu 1400"), nil
	}
	return []byte("output of " + cmd), nil
}

func node(name string, ready bool, msg string) *corev1.Node {
	st := corev1.ConditionTrue
	if !ready {
		st = corev1.ConditionFalse
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st, Reason: "KubeletNotReady", Message: msg}}}}
}

func TestCollectBundle(t *testing.T) {
	cs := fake.NewSimpleClientset(
		node("good", true, ""),
		node("hang", true, ""),
		node("bad", false, "network plugin is not ready: cni config uninitialized"),
	)
	c := &Collector{
		Client:       &kube.Client{Interface: cs, Timeouts: kube.DefaultTimeouts()},
		Nodes:        fakeNodes{},
		Namespace:    "netconform",
		PerCollector: 300 * time.Millisecond,
		Redactor:     redact.New(plantedToken, plantedAWS, plantedWeave),
	}
	failing := []results.Check{{ID: "mtu/full-size", Status: results.Failed, Reason: "token " + plantedToken,
		Observations: []results.Observation{{From: "good", To: "bad", Observed: "timeout"}}}}
	dir := t.TempDir()
	start := time.Now()
	b, err := c.Collect(context.Background(), dir, failing)
	if err != nil {
		t.Fatal(err)
	}
	// A node that never answers costs about one deadline per command, not the run.
	if took := time.Since(start); took > time.Duration(len(nodeCommands)+2)*c.PerCollector+2*time.Second {
		t.Errorf("collect took %s with a hanging node", took)
	}
	files := untar(t, b.Path)
	for _, want := range []string{"evidence/index.json", "evidence/index.md", "evidence/nodes/good/links.txt", "evidence/nodes/good/kubelet.log",
		"evidence/nodes/hang/routes.txt", "evidence/cluster/node-conditions.txt", "evidence/checks/mtu_full-size.json"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s", want)
		}
	}
	if !strings.Contains(files["evidence/nodes/good/links.txt"], "mtu 1400") {
		t.Errorf("links: %q", files["evidence/nodes/good/links.txt"])
	}
	var idx []Entry
	if err := json.Unmarshal([]byte(files["evidence/index.json"]), &idx); err != nil {
		t.Fatal(err)
	}
	var hangErr, badErr bool
	for _, e := range idx {
		hangErr = hangErr || (e.Node == "hang" && strings.Contains(e.Error, "no answer within"))
		badErr = badErr || (e.Node == "bad" && strings.Contains(e.Error, "exit status 1"))
	}
	if !hangErr || !badErr {
		t.Errorf("index must record the hanging and the failing node's errors: %+v", idx)
	}
	// Node conditions feed the diagnosis.
	found := false
	for _, n := range b.Nodes {
		found = found || (n.Node == "bad" && !n.Ready && strings.Contains(n.Message, "network plugin"))
	}
	if !found {
		t.Errorf("node conditions: %+v", b.Nodes)
	}
	// Planted secrets appear nowhere in the bundle.
	for name, content := range files {
		for _, s := range []string{plantedToken, plantedAWS, plantedWeave} {
			if strings.Contains(content, s) {
				t.Errorf("%s contains planted secret %s", name, s)
			}
		}
	}
}

func untar(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[filepath.Clean(h.Name)] = string(b)
	}
}
