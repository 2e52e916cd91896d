package suites

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netconform/netconform/framework/agents"
	"github.com/netconform/netconform/framework/netpol"
	"github.com/netconform/netconform/framework/probe"
	"github.com/netconform/netconform/framework/results"
)

// The NetworkPolicy truth tables. Every scenario puts its policies in place and probes every
// cell (source, destination, port, protocol) of the fixture at once, round after round, until
// the table is what the model says twice in a row, or the bound ends. Then it deletes them and
// waits, the same way, for every cell to be back.
const (
	// cellTimeout bounds one cell's probe: a blocked cell costs it every round.
	cellTimeout = time.Second
	// policyMetricInEffect and policyMetricRemoved are the latencies the reports read.
	policyMetricInEffect = "policy in effect within"
	policyMetricRemoved  = "policy removed within"
	// settleNoChange is how long a step that changes no cell waits before it is judged, so
	// that a provider which wrongly blocks something has had the time to.
	settleNoChange = 2 * time.Second
	// dnsName is what the DNS cells resolve.
	dnsName = "kubernetes.default.svc." + clusterDomain
)

var _ = ginkgo.Describe("networkpolicy", ginkgo.Label("policy"), ginkgo.Ordered, ginkgo.ContinueOnFailure, func() {
	run := &policyRun{}
	ginkgo.BeforeAll(func(ctx ginkgo.SpecContext) { run.setup(ctx) }, within(5*time.Minute))
	ginkgo.AfterAll(func(ctx ginkgo.SpecContext) {
		if run.fx == nil {
			return
		}
		if err := agents.RemovePolicyFixture(ctx, env.Client, env.Fleet.Namespace); err != nil {
			ginkgo.GinkgoWriter.Printf("remove the NetworkPolicy fixture: %v\n", err)
		}
	}, within(3*time.Minute))

	ginkgo.It("every cell of the fixture works before any policy", ginkgo.Label("networkpolicy"), func(ctx ginkgo.SpecContext) {
		run.ready()
		cells := run.cells(policyScenario{hosts: true, service: true, dns: true})
		// Connectivity itself is not retried: it must work before any policy.
		want := run.expect(cells, nil)
		observed := run.round(ctx, cells)
		observe(run.seenAsObs)
		observe(tableObservations("before any policy", cells, want, observed))
		if wrong, unobserved := netpol.Mismatches(tableCells(cells, want, observed)); wrong+unobserved > 0 {
			run.baselineBad = fmt.Sprintf("%d cells blocked and %d not observed before any policy", wrong, unobserved)
			ginkgo.Fail(fmt.Sprintf("before any policy, %d of %d cells were blocked and %d could not be observed:\n%s",
				wrong, len(cells), unobserved, netpol.RenderTable(tableCells(cells, want, observed))))
		}
	}, within(2*time.Minute))

	for _, sc := range policyScenarios {
		ginkgo.It(sc.name, ginkgo.Label(append([]string{"netpol"}, sc.tags...)...), func(ctx ginkgo.SpecContext) {
			run.ready()
			if run.baselineBad != "" {
				ginkgo.Skip("precondition: " + run.baselineBad + " (see 'every cell of the fixture works before any policy'): a blocked cell would prove nothing")
			}
			run.scenario(ctx, sc)
		}, policySpecTimeout())
	}

	ginkgo.It("NetworkPolicy over SCTP", ginkgo.Label("netpol", "ports", "sctp"), func(ctx ginkgo.SpecContext) {
		run.ready()
		sctpSkip(ctx)
	}, within(time.Minute))
})

// policySpecTimeout bounds one scenario: up to three steps of the policy bound (--policy-wait)
// each, plus room for the API calls and the probing.
func policySpecTimeout() ginkgo.NodeTimeout {
	wait := 45 * time.Second
	if env != nil && env.Client != nil {
		wait = env.Client.Timeouts.PolicyTakesEffect
	}
	return ginkgo.NodeTimeout(3*wait + time.Duration(within(time.Minute)))
}

// policyRun is the suite's state across its ordered specs.
type policyRun struct {
	skip        string // why no scenario runs here (the provider does not enforce NetworkPolicy)
	err         error  // why the fixture is not there
	baselineBad string // why the cells did not all work before any policy
	fx          *agents.PolicyFixture
	plan        *policyPlan
	namespaces  map[string]map[string]string // for the model: the fixture's and CoreDNS's
	hosts       []agents.Agent
	// seenAs is the address each fixture pod saw each node's host agent come from, by node and
	// pod address (see measureHostSources); a node's own address where it could not be seen.
	seenAs    map[string]map[string]string
	seenAsObs []results.Observation
	dnsServer string
	coreDNS   netpol.Endpoint
}

// setup decides whether the scenarios run and deploys the fixture. It never fails: every
// spec reports what setup found (ready).
func (r *policyRun) setup(ctx context.Context) {
	if env.Healthy.PolicyOff != "" {
		r.skip = "not-applicable: " + env.Healthy.PolicyOff
		return
	}
	if r.skip = policyNotExpected(env.Provider); r.skip != "" {
		return
	}
	var nodes []string
	for _, n := range env.Fleet.Nodes() {
		h := agentOrMissing(agents.Host, n)
		if h.Ready && h.IP != "" {
			nodes = append(nodes, n)
			r.hosts = append(r.hosts, h)
		}
	}
	if len(nodes) == 0 {
		r.err = errors.New("no node runs a Ready host agent to ask the fixture's pods through")
		return
	}
	r.fx, r.err = agents.DeployPolicyFixture(ctx, env.Client, env.Fleet.Namespace, r.hosts[0].Image, nodes)
	if r.err != nil {
		return
	}
	r.plan = &policyPlan{fx: r.fx, any: "0.0.0.0/0"}
	r.measureHostSources(ctx)
	for _, h := range r.hosts {
		r.plan.nodeSources = append(r.plan.nodeSources, r.sourcesOf(h))
	}
	if len(r.fx.Pods) > 0 && strings.Contains(r.fx.Pods[0].IP, ":") {
		r.plan.any = "::/0"
	}
	r.namespaces = map[string]map[string]string{}
	for _, ns := range r.fx.Namespaces {
		r.namespaces[ns.Name] = ns.Labels
	}
	if r.err = r.readCoreDNS(ctx); r.err != nil {
		return
	}
	r.waitService(ctx)
}

// measureHostSources asks every fixture pod which address each node's host agent comes from.
// The API leaves a node's source address to the provider: calico's VXLAN sends a node's
// traffic to remote pods from its tunnel address, not its InternalIP. An ipBlock sees the
// address the pod sees, so that measured address, not the node's, is what the model gets.
// Nothing is blocked yet; a pod that does not answer leaves the node's own address (the
// baseline table then fails on that cell anyway).
func (r *policyRun) measureHostSources(ctx context.Context) {
	r.seenAs = map[string]map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range r.hosts {
		r.seenAs[h.Node] = map[string]string{}
		reqs := make([]probe.Request, len(r.fx.Pods))
		for i, d := range r.fx.Pods {
			reqs[i] = probe.Request{Protocol: probe.WhoTCP, Target: hostPort(d.IP, probe.WhoPort), TimeoutMS: cellTimeoutMS}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := env.Fleet.ProbeBatch(ctx, h, reqs)
			mu.Lock()
			defer mu.Unlock()
			for i, d := range r.fx.Pods {
				seen, detail := whoPeerIP(res[i])
				if seen != "" {
					r.seenAs[h.Node][d.IP] = seen
				}
				r.seenAsObs = append(r.seenAsObs, results.Observation{From: "host/" + h.Node, To: d.Suffix + "/" + d.Name, Protocol: "who-tcp",
					Observed: seen, OK: seen != "", Detail: detail})
			}
		}()
	}
	wg.Wait()
}

// whoPeerIP is the address a WhoPort saw the probe come from, or why there is none.
func whoPeerIP(res probe.Result) (string, string) {
	if res.Outcome != probe.OK || len(res.Who) == 0 {
		return "", fmt.Sprintf("%s %s: the node's own address is used", res.Outcome, res.Detail)
	}
	host, _, err := net.SplitHostPort(res.Who[0].Peer)
	if err != nil {
		return "", fmt.Sprintf("peer %q: %v", res.Who[0].Peer, err)
	}
	return host, ""
}

// hostSource is the address pod d sees host agent h come from.
func (r *policyRun) hostSource(h agents.Agent, d agents.PolicyPod) netpol.Endpoint {
	ip := h.IP
	if seen := r.seenAs[h.Node][d.IP]; seen != "" {
		ip = seen
	}
	return netpol.Endpoint{Host: &netpol.Host{Node: h.Node, IP: ip}}
}

// sourcesOf is every address the fixture's pods saw h come from, sorted, or its own address.
func (r *policyRun) sourcesOf(h agents.Agent) []string {
	set := map[string]bool{}
	for _, ip := range r.seenAs[h.Node] {
		set[ip] = true
	}
	if len(set) == 0 {
		return []string{h.IP}
	}
	out := make([]string, 0, len(set))
	for ip := range set {
		out = append(out, ip)
	}
	sort.Strings(out)
	return out
}

// waitService waits, within the Service bound, until every fixture pod reaches the fixture's
// Service: kube-proxy programs a new Service a moment after its endpoint is Ready, and the
// first table must not catch it half-done. A Service that never answers fails the first table.
func (r *policyRun) waitService(ctx context.Context) {
	var cells []policyCell
	for _, c := range r.cells(policyScenario{service: true}) {
		if c.to == "svc" {
			cells = append(cells, c)
		}
	}
	deadline := time.Now().Add(env.Client.Timeouts.ServiceProgrammed)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		ok := true
		for _, res := range r.round(ctx, cells) {
			ok = ok && res.Outcome == probe.OK
		}
		if ok {
			return
		}
		time.Sleep(env.Client.Timeouts.PollInterval)
	}
}

// readCoreDNS reads what the DNS cells need: the cluster DNS Service's address, and one CoreDNS
// pod and its namespace as the model sees them (policies select them by label).
func (r *policyRun) readCoreDNS(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
	defer cancel()
	svc, err := env.Client.CoreV1().Services(CoreDNSNamespace).Get(cctx, kubeDNSService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("cluster DNS Service: %w", err)
	}
	r.dnsServer = net.JoinHostPort(svc.Spec.ClusterIP, "53")
	ns, err := env.Client.CoreV1().Namespaces().Get(cctx, CoreDNSNamespace, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("namespace %s: %w", CoreDNSNamespace, err)
	}
	r.namespaces[ns.Name] = ns.Labels
	pods, err := env.Client.CoreV1().Pods(CoreDNSNamespace).List(cctx, metav1.ListOptions{LabelSelector: CoreDNSSelector})
	if err != nil || len(pods.Items) == 0 {
		return fmt.Errorf("CoreDNS pods (%s in %s): %d found, %v", CoreDNSSelector, CoreDNSNamespace, len(pods.Items), err)
	}
	p := pods.Items[0]
	r.coreDNS = netpol.Endpoint{Pod: &netpol.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.Status.PodIP, Node: p.Spec.NodeName,
		Ports: p.Spec.Containers[0].Ports}}
	return nil
}

// ready skips or fails the running spec as setup found.
func (r *policyRun) ready() {
	switch {
	case r.skip != "":
		ginkgo.Skip(r.skip)
	case r.err != nil:
		ginkgo.Fail("NetworkPolicy fixture: " + r.err.Error())
	case r.fx == nil:
		ginkgo.Fail("NetworkPolicy fixture: not deployed (its setup did not run to the end)")
	}
}

// policyCell is one cell of a truth table: who sends, to what, and the model's view of both.
type policyCell struct {
	from     agents.Agent
	src, dst netpol.Endpoint
	to       string // the destination's name in the table
	port     int32
	proto    corev1.Protocol
	req      probe.Request
}

func podEndpoint(p agents.PolicyPod) netpol.Endpoint {
	return netpol.Endpoint{Pod: &netpol.Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, IP: p.IP, Node: p.Node, Ports: p.Ports}}
}

// cells are a scenario's cells: every fixture pod to every other over both ports and both
// protocols (a pod to itself never leaves its loopback, so no policy can act on it), and what
// the scenario adds.
func (r *policyRun) cells(sc policyScenario) []policyCell {
	var out []policyCell
	toPods := func(from agents.Agent, srcFor func(agents.PolicyPod) netpol.Endpoint, skip string) {
		for _, d := range r.fx.Pods {
			if d.Role == skip {
				continue
			}
			for _, port := range []int32{agents.PolicyPortA, agents.PolicyPortB} {
				for _, proto := range []corev1.Protocol{tcp, udp} {
					out = append(out, policyCell{from: from, src: srcFor(d), dst: podEndpoint(d), to: d.Suffix + "/" + d.Name, port: port, proto: proto,
						req: echoRequest(proto, hostPort(d.IP, int(port)))})
				}
			}
		}
	}
	var backend netpol.Endpoint
	for _, p := range r.fx.Pods {
		if p.Suffix == "y" && p.Name == "b" {
			backend = podEndpoint(p)
		}
	}
	for _, s := range r.fx.Pods {
		src := podEndpoint(s)
		toPods(s.Agent, func(agents.PolicyPod) netpol.Endpoint { return src }, s.Role)
		// The backend itself is left out: kube-proxy masquerades a pod that reaches itself
		// through a Service (hairpin), so its policy sees the node, which is always admitted.
		if sc.service && src.Name() != backend.Name() {
			for _, proto := range []corev1.Protocol{tcp, udp} {
				out = append(out, policyCell{from: s.Agent, src: src, dst: backend, to: "svc", port: agents.PolicyPortA, proto: proto,
					req: echoRequest(proto, hostPort(r.fx.ServiceIP, agents.PolicyPortA))})
			}
		}
		if sc.dns {
			out = append(out, policyCell{from: s.Agent, src: src, dst: r.coreDNS, to: "dns", port: 53, proto: udp,
				req: probe.Request{Protocol: probe.DNS, Target: r.dnsServer, Name: dnsName, QType: probe.QueryA, TimeoutMS: cellTimeoutMS}})
		}
	}
	if sc.hosts {
		for _, h := range r.hosts {
			toPods(h, func(d agents.PolicyPod) netpol.Endpoint { return r.hostSource(h, d) }, "")
		}
	}
	return out
}

// cellTimeoutMS is cellTimeout as a probe request gives it.
const cellTimeoutMS = int(cellTimeout / time.Millisecond)

// echoRequest is a cell's probe over TCP or UDP to an echo port at target.
func echoRequest(proto corev1.Protocol, target string) probe.Request {
	return probe.Request{Protocol: probe.Protocol(strings.ToLower(string(proto))), Target: target, TimeoutMS: cellTimeoutMS}
}

// cellName is a source's name in the table: x/a for a fixture pod, host/<node> for a node.
func cellName(e netpol.Endpoint) string {
	if e.Host != nil {
		return "host/" + e.Host.Node
	}
	return e.Pod.Namespace[strings.LastIndex(e.Pod.Namespace, "-")+1:] + "/" + e.Pod.Name
}

// expect is what the model says of every cell with these policies in place.
func (r *policyRun) expect(cells []policyCell, policies []networkingv1.NetworkPolicy) []bool {
	m := netpol.Cluster{Namespaces: r.namespaces, Policies: policies}
	out := make([]bool, len(cells))
	for i, c := range cells {
		out[i] = m.Evaluate(netpol.Traffic{From: c.src, To: c.dst, Port: c.port, Protocol: c.proto}).Allowed
	}
	return out
}

// round probes every cell once, each source's cells in one batch, every source at once. A
// cell is allowed (ok), blocked (no answer or a rejection), or not observed (nil: the agent
// could not be asked, or answered something else).
func (r *policyRun) round(ctx context.Context, cells []policyCell) []probe.Result {
	bySource := map[string][]int{}
	var order []string
	for i, c := range cells {
		k := c.from.Node + "/" + c.from.Role
		if _, ok := bySource[k]; !ok {
			order = append(order, k)
		}
		bySource[k] = append(bySource[k], i)
	}
	out := make([]probe.Result, len(cells))
	var wg sync.WaitGroup
	for _, k := range order {
		idx := bySource[k]
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs := make([]probe.Request, len(idx))
			for j, i := range idx {
				reqs[j] = cells[i].req
			}
			for j, res := range env.Fleet.ProbeBatch(ctx, cells[idx[0]].from, reqs) {
				out[idx[j]] = res
			}
		}()
	}
	wg.Wait()
	return out
}

// allowed says what the cell showed: true (answered), false (blocked), nil (not observed).
func allowed(res probe.Result) *bool {
	ok, no := true, false
	switch {
	case res.Outcome == probe.OK:
		return &ok
	case blocked(res.Outcome):
		return &no
	}
	return nil
}

func tableCells(cells []policyCell, want []bool, got []probe.Result) []netpol.Cell {
	out := make([]netpol.Cell, len(cells))
	for i, c := range cells {
		out[i] = netpol.Cell{From: cellName(c.src), To: c.to, Port: c.port, Protocol: c.proto, Expected: want[i], Observed: allowed(got[i])}
	}
	return out
}

// tableObservations records a table compactly: one observation per source and port, its
// destinations in order as "A" (allowed) or "-" (blocked), expected against observed ("?": not
// observed).
func tableObservations(what string, cells []policyCell, want []bool, got []probe.Result) []results.Observation {
	type key struct{ from, port string }
	rows := map[key]*results.Observation{}
	var order []key
	mark := func(b *bool) string {
		switch {
		case b == nil:
			return "?"
		case *b:
			return "A"
		}
		return "-"
	}
	for i, c := range cells {
		k := key{cellName(c.src), fmt.Sprintf("%d/%s", c.port, c.proto)}
		o := rows[k]
		if o == nil {
			o = &results.Observation{From: c.from.Node + " " + k.from, To: what, Protocol: k.port, OK: true}
			rows[k] = o
			order = append(order, k)
		}
		w := want[i]
		g := allowed(got[i])
		o.Expected += mark(&w)
		o.Observed += mark(g)
		o.Detail += c.to + " "
		if g == nil || *g != w {
			o.OK = false
			o.Detail += "(" + string(got[i].Outcome)
			if d := got[i].Detail; d != "" {
				o.Detail += ": " + d
			}
			o.Detail += ") "
		}
	}
	out := make([]results.Observation, 0, len(order))
	for _, k := range order {
		o := rows[k]
		o.Detail = "destinations in order: " + strings.TrimSpace(o.Detail)
		out = append(out, *o)
	}
	return out
}

// converge probes round after round until two rounds in a row match want, or bound ends. It
// returns the last round, and when the first of the two matching rounds started, since start.
func (r *policyRun) converge(ctx context.Context, cells []policyCell, want []bool, start time.Time, bound time.Duration) ([]probe.Result, time.Duration, bool) {
	var matchedAt time.Duration = -1
	var got []probe.Result
	for {
		roundStart := time.Since(start)
		got = r.round(ctx, cells)
		wrong, unobserved := netpol.Mismatches(tableCells(cells, want, got))
		switch {
		case wrong+unobserved > 0:
			matchedAt = -1
		case matchedAt >= 0:
			return got, matchedAt, true
		default:
			matchedAt = roundStart
		}
		if time.Since(start) >= bound || ctx.Err() != nil {
			return got, matchedAt, false
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// scenario runs one scenario: each step's policies, then none.
func (r *policyRun) scenario(ctx context.Context, sc policyScenario) {
	cells := r.cells(sc)
	steps := sc.steps(r.plan)
	for _, st := range steps {
		for _, p := range st.policies {
			if err := netpol.Validate(p); err != nil {
				ginkgo.Fail(fmt.Sprintf("scenario %q: policy %s/%s is not valid: %v", sc.name, p.Namespace, p.Name, err))
			}
		}
	}
	placed := map[string]networkingv1.NetworkPolicy{}
	ginkgo.DeferCleanup(func(ctx context.Context) {
		if err := r.apply(ctx, placed, nil); err != nil {
			ginkgo.GinkgoWriter.Printf("delete the scenario's policies: %v\n", err)
		}
	}, within(env.Client.Timeouts.APICall*2))
	bound := env.Client.Timeouts.PolicyTakesEffect
	prev := r.expect(cells, nil)
	var failures []string
	blockedCells, wrongCells := 0, 0
	for _, st := range append(steps, policyStep{what: "policies deleted"}) {
		if len(failures) > 0 && st.what != "policies deleted" {
			break // the steps after a failed one would be judged against a state never reached
		}
		want := r.expect(cells, st.policies)
		changed := 0
		for i := range want {
			if want[i] != prev[i] {
				changed++
			}
			if !want[i] {
				blockedCells++
			}
		}
		start := time.Now()
		if err := r.apply(ctx, placed, st.policies); err != nil {
			ginkgo.Fail(fmt.Sprintf("%s: %v", st.what, err))
		}
		if changed == 0 {
			time.Sleep(settleNoChange)
		}
		got, took, ok := r.converge(ctx, cells, want, start, bound)
		observe(tableObservations(st.what, cells, want, got))
		table := tableCells(cells, want, got)
		if !ok {
			wrong, unobserved := netpol.Mismatches(table)
			wrongCells += wrong
			failures = append(failures, fmt.Sprintf("%s: after %s, %d of %d cells differ from the model and %d were not observed:\n%s",
				st.what, bound, wrong, len(cells), unobserved, netpol.RenderTable(table)))
			continue
		}
		if changed > 0 {
			name := policyMetricInEffect
			if st.what == "policies deleted" {
				name = policyMetricRemoved
			}
			measure(name, took.Seconds(), "s")
		}
		prev = want
	}
	measure("cells expected blocked", float64(blockedCells), "")
	measure("cells not as the model says", float64(wrongCells), "")
	if len(failures) > 0 {
		ginkgo.Fail(strings.Join(failures, "\n"))
	}
}

// apply creates, updates and deletes policies until exactly want is in place; placed is what
// is, and is kept up to date.
func (r *policyRun) apply(ctx context.Context, placed map[string]networkingv1.NetworkPolicy, want []networkingv1.NetworkPolicy) error {
	wanted := map[string]bool{}
	for _, p := range want {
		key := p.Namespace + "/" + p.Name
		wanted[key] = true
		api := env.Client.NetworkingV1().NetworkPolicies(p.Namespace)
		cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
		var err error
		if cur, ok := placed[key]; ok {
			p.ResourceVersion = cur.ResourceVersion
			var upd *networkingv1.NetworkPolicy
			if upd, err = api.Update(cctx, &p, metav1.UpdateOptions{}); err == nil {
				placed[key] = *upd
			}
		} else {
			var made *networkingv1.NetworkPolicy
			if made, err = api.Create(cctx, &p, metav1.CreateOptions{}); err == nil {
				placed[key] = *made
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("put NetworkPolicy %s in place: %w", key, err)
		}
	}
	var keys []string
	for k := range placed {
		if !wanted[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		p := placed[key]
		cctx, cancel := context.WithTimeout(ctx, env.Client.Timeouts.APICall)
		err := env.Client.NetworkingV1().NetworkPolicies(p.Namespace).Delete(cctx, p.Name, metav1.DeleteOptions{})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete NetworkPolicy %s: %w", key, err)
		}
		delete(placed, key)
	}
	return nil
}
