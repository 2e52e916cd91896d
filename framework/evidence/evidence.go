// Package evidence collects what a person needs to see why a network check failed: per node the
// CNI configuration, links and MTUs, addresses, routes, iptables and nftables rules, conntrack
// usage and the last of the kubelet and container runtime logs; the logs of the networking
// provider's pods and CoreDNS; events and pod states; node conditions; and the raw observations of
// every failing check. Every collector has its own deadline, so a node that does not answer costs
// seconds, not the run. The result is one tarball with an index.
package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/diagnose"
	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/redact"
	"github.com/netconform/netconform/framework/results"
)

// BundleName is the tarball's name in the artifacts directory.
const BundleName = "evidence.tar.gz"

// Defaults.
const (
	DefaultPerCollector = 10 * time.Second
	logTailLines        = 200
	maxFileBytes        = 1 << 20
)

// nodeCommands are run on every node where the platform can run commands on nodes.
var nodeCommands = []struct {
	file, why string
	argv      []string
}{
	{"cni-config.txt", "CNI configuration files", []string{"sh", "-c", `for f in /etc/cni/net.d/*; do echo "== $f"; cat "$f"; echo; done`}},
	{"links.txt", "links with their MTU", []string{"ip", "-d", "link", "show"}},
	{"addresses.txt", "addresses", []string{"ip", "addr", "show"}},
	{"routes.txt", "routes, every table", []string{"ip", "route", "show", "table", "all"}},
	{"iptables.txt", "iptables rules", []string{"iptables-save", "-c"}},
	{"nftables.txt", "nftables ruleset", []string{"nft", "list", "ruleset"}},
	{"conntrack.txt", "conntrack usage", []string{"sh", "-c", "echo count: $(cat /proc/sys/net/netfilter/nf_conntrack_count) max: $(cat /proc/sys/net/netfilter/nf_conntrack_max); conntrack -S"}},
	{"kubelet.log", "kubelet log (last lines)", []string{"journalctl", "-u", "kubelet", "--no-pager", "-n", fmt.Sprint(logTailLines)}},
	{"containerd.log", "container runtime log (last lines)", []string{"journalctl", "-u", "containerd", "--no-pager", "-n", fmt.Sprint(logTailLines)}},
}

// Entry is one file of the bundle.
type Entry struct {
	File       string `json:"file"`
	What       string `json:"what"`
	Node       string `json:"node,omitempty"`
	DurationMS int64  `json:"durationMS"`
	Error      string `json:"error,omitempty"`
	Bytes      int    `json:"bytes"`
}

// Collector gathers a bundle.
type Collector struct {
	Client *kube.Client
	// Nodes runs commands on nodes (kind); nil where the platform cannot, and then node state
	// comes from the probe agents (links and routes only).
	Nodes platform.NodeRunner
	// Fleet is the deployed probe agents, if any.
	Fleet *agents.Fleet
	// Namespace of netconform's agents.
	Namespace string
	// PerCollector bounds each collector.
	PerCollector time.Duration
	Redactor     *redact.Redactor

	mu      sync.Mutex
	files   map[string][]byte
	entries []Entry
	nodes   []diagnose.NodeCondition
}

// Bundle is what Collect produced.
type Bundle struct {
	Path    string
	Entries []Entry
	// Nodes are the node conditions seen, for diagnosis.
	Nodes []diagnose.NodeCondition
}

// Collect gathers everything into dir/evidence.tar.gz. failing are the checks whose raw
// observations go into the bundle. It fails only when the bundle cannot be written; each
// collector's own failure is recorded in the index.
func (c *Collector) Collect(ctx context.Context, dir string, failing []results.Check) (*Bundle, error) {
	if c.PerCollector == 0 {
		c.PerCollector = DefaultPerCollector
	}
	c.files = map[string][]byte{}
	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	run(func() { c.collectNodes(ctx) })
	run(func() { c.collectCluster(ctx) })
	run(func() { c.collectLogs(ctx) })
	wg.Wait()
	for _, ch := range failing {
		b, _ := json.MarshalIndent(ch, "", "  ")
		c.put(Entry{File: "checks/" + safe(ch.ID) + ".json", What: "raw observations of failing check " + ch.ID}, b, nil)
	}
	path := filepath.Join(dir, BundleName)
	if err := c.write(path); err != nil {
		return nil, err
	}
	sort.Slice(c.entries, func(i, j int) bool { return c.entries[i].File < c.entries[j].File })
	return &Bundle{Path: path, Entries: c.entries, Nodes: c.nodes}, nil
}

func safe(s string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(s) }

// put records one file, redacted and capped.
func (c *Collector) put(e Entry, data []byte, err error) {
	data = c.Redactor.Bytes(data)
	if len(data) > maxFileBytes {
		data = append(data[:maxFileBytes], []byte("\n[truncated]\n")...)
	}
	if err != nil {
		e.Error = c.Redactor.String(err.Error())
	}
	e.Bytes = len(data)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[e.File] = data
	c.entries = append(c.entries, e)
}

// timed runs f under the per-collector deadline.
func (c *Collector) timed(ctx context.Context, f func(ctx context.Context) ([]byte, error)) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.PerCollector)
	defer cancel()
	start := time.Now()
	type res struct {
		b   []byte
		err error
	}
	done := make(chan res, 1)
	go func() { b, err := f(ctx); done <- res{b, err} }()
	select {
	case r := <-done:
		return r.b, time.Since(start), r.err
	case <-ctx.Done():
		return nil, time.Since(start), fmt.Errorf("no answer within %s", c.PerCollector)
	}
}

func (c *Collector) collectNodes(ctx context.Context) {
	nodes, err := c.Client.Nodes(ctx)
	if err != nil {
		c.put(Entry{File: "cluster/nodes-error.txt", What: "node list"}, nil, err)
		return
	}
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dir := "nodes/" + n.Name + "/"
			if c.Nodes == nil {
				c.agentState(ctx, n.Name, dir)
				return
			}
			for _, nc := range nodeCommands {
				b, d, err := c.timed(ctx, func(ctx context.Context) ([]byte, error) {
					return c.Nodes.RunOnNode(ctx, n.Name, nc.argv, nil)
				})
				c.put(Entry{File: dir + nc.file, What: nc.why, Node: n.Name, DurationMS: d.Milliseconds()}, b, err)
			}
		}()
	}
	wg.Wait()
}

// agentState stands in for node commands on platforms without node access.
func (c *Collector) agentState(ctx context.Context, node, dir string) {
	if c.Fleet == nil {
		c.put(Entry{File: dir + "unavailable.txt", What: "node state", Node: node}, []byte("this platform gives no command access to nodes and no probe agent ran\n"), nil)
		return
	}
	host, ok := c.Fleet.Agent(agents.Host, node)
	if !ok {
		c.put(Entry{File: dir + "links-routes.json", What: "links and routes from the host probe agent", Node: node}, nil, fmt.Errorf("no host agent on %s", node))
		return
	}
	b, d, err := c.timed(ctx, func(ctx context.Context) ([]byte, error) {
		info, err := c.Fleet.Info(ctx, host)
		if err != nil {
			return nil, err
		}
		return json.MarshalIndent(info, "", "  ")
	})
	c.put(Entry{File: dir + "links-routes.json", What: "links and routes from the host probe agent (no node command access on this platform)", Node: node, DurationMS: d.Milliseconds()}, b, err)
}

func (c *Collector) collectCluster(ctx context.Context) {
	b, d, err := c.timed(ctx, func(ctx context.Context) ([]byte, error) {
		list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		for _, n := range list.Items {
			fmt.Fprintf(&buf, "%s podCIDR=%s\n", n.Name, n.Spec.PodCIDR)
			for _, cond := range n.Status.Conditions {
				fmt.Fprintf(&buf, "  %s=%s %s: %s\n", cond.Type, cond.Status, cond.Reason, cond.Message)
				if cond.Type == corev1.NodeReady {
					c.mu.Lock()
					c.nodes = append(c.nodes, diagnose.NodeCondition{Node: n.Name, Ready: cond.Status == corev1.ConditionTrue, Reason: cond.Reason, Message: cond.Message})
					c.mu.Unlock()
				}
			}
		}
		return buf.Bytes(), nil
	})
	c.put(Entry{File: "cluster/node-conditions.txt", What: "node conditions", DurationMS: d.Milliseconds()}, b, err)

	for _, ns := range []string{c.Namespace, "kube-system"} {
		b, d, err := c.timed(ctx, func(ctx context.Context) ([]byte, error) {
			var buf bytes.Buffer
			pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			for _, p := range pods.Items {
				fmt.Fprintf(&buf, "%s\t%s\tnode=%s\tip=%s\tready=%v\n", p.Name, p.Status.Phase, p.Spec.NodeName, p.Status.PodIP, kube.PodReady(&p))
				for _, cs := range p.Status.ContainerStatuses {
					fmt.Fprintf(&buf, "  %s restarts=%d %s\n", cs.Name, cs.RestartCount, containerState(cs.State))
				}
			}
			events, err := c.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return buf.Bytes(), err
			}
			buf.WriteString("\nevents:\n")
			for _, e := range events.Items {
				fmt.Fprintf(&buf, "%s %s %s/%s %s: %s\n", e.LastTimestamp.Format(time.RFC3339), e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
			}
			return buf.Bytes(), nil
		})
		c.put(Entry{File: "cluster/" + ns + "-pods-events.txt", What: "pod states and events in " + ns, DurationMS: d.Milliseconds()}, b, err)
	}
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return "waiting " + s.Waiting.Reason + " " + s.Waiting.Message
	case s.Terminated != nil:
		return fmt.Sprintf("terminated %s exit %d", s.Terminated.Reason, s.Terminated.ExitCode)
	case s.Running != nil:
		return "running"
	}
	return ""
}

// collectLogs takes the last lines of the provider's pods (DaemonSet pods in kube-system, which
// is where networking providers and kube-proxy run) and of CoreDNS.
func (c *Collector) collectLogs(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, c.PerCollector)
	pods, err := c.Client.CoreV1().Pods("kube-system").List(lctx, metav1.ListOptions{})
	cancel()
	if err != nil {
		c.put(Entry{File: "logs/error.txt", What: "pod logs"}, nil, err)
		return
	}
	var wg sync.WaitGroup
	for _, p := range pods.Items {
		if !ownedByDaemonSet(&p) && p.Labels["k8s-app"] != "kube-dns" {
			continue
		}
		for _, ctr := range p.Spec.Containers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tail := int64(logTailLines)
				b, d, err := c.timed(ctx, func(ctx context.Context) ([]byte, error) {
					rc, err := c.Client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: ctr.Name, TailLines: &tail}).Stream(ctx)
					if err != nil {
						return nil, err
					}
					defer rc.Close()
					return io.ReadAll(io.LimitReader(rc, maxFileBytes))
				})
				c.put(Entry{File: fmt.Sprintf("logs/kube-system/%s_%s.log", p.Name, ctr.Name), What: "pod log (last lines)", Node: p.Spec.NodeName, DurationMS: d.Milliseconds()}, b, err)
			}()
		}
	}
	wg.Wait()
}

func ownedByDaemonSet(p *corev1.Pod) bool {
	for _, o := range p.OwnerReferences {
		if o.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// write makes the tarball: index.json and index.md first, then every file.
func (c *Collector) write(path string) error {
	sort.Slice(c.entries, func(i, j int) bool { return c.entries[i].File < c.entries[j].File })
	idx, _ := json.MarshalIndent(c.entries, "", "  ")
	var md bytes.Buffer
	md.WriteString("# netconform evidence\n\n| file | what | node | time | error |\n|---|---|---|---|---|\n")
	for _, e := range c.entries {
		fmt.Fprintf(&md, "| %s | %s | %s | %dms | %s |\n", e.File, e.What, e.Node, e.DurationMS, strings.ReplaceAll(e.Error, "|", "/"))
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("evidence bundle: %w", err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	add := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: "evidence/" + name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Now()}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	err = add("index.json", idx)
	if err == nil {
		err = add("index.md", md.Bytes())
	}
	for _, e := range c.entries {
		if err != nil {
			break
		}
		err = add(e.File, c.files[e.File])
	}
	if cerr := tw.Close(); err == nil {
		err = cerr
	}
	if cerr := gz.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("evidence bundle: %w", err)
	}
	return os.Rename(tmp, path)
}
