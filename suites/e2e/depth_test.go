//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/netconform/netconform/framework/results"
)

// Check IDs of the deeper checks (suites/sourceip.go, services.go, conntrack.go, dnsrecords.go
// and the connectivity additions).
const (
	idPodSourceTCP      = "source-ip/pod-to-pod-across-nodes-keeps-the-client-pod-s-ip-over-tcp"
	idPodSourceUDP      = "source-ip/pod-to-pod-across-nodes-keeps-the-client-pod-s-ip-over-udp"
	idPodSourceLocal    = "source-ip/pod-to-pod-on-the-same-node-keeps-the-client-pod-s-ip"
	idServiceSource     = "source-ip/pod-to-a-clusterip-service-keeps-the-client-pod-s-ip"
	idEgressTCP         = "source-ip/pod-to-outside-the-cluster-leaves-with-its-node-s-ip-over-tcp"
	idEgressUDP         = "source-ip/pod-to-outside-the-cluster-leaves-with-its-node-s-ip-over-udp"
	idEgressICMP        = "source-ip/pod-to-outside-the-cluster-over-icmp"
	idHostToServiceTCP  = "services/host-network-to-clusterip-service-over-tcp"
	idHostToServiceUDP  = "services/host-network-to-clusterip-service-over-udp"
	idNodePortUDP       = "services/pod-to-nodeport-on-every-node-over-udp"
	idHairpin           = "services/a-pod-reaches-itself-through-its-service-hairpin"
	idAffinity          = "services/sessionaffinity-clientip-keeps-each-client-on-one-backend"
	idSpread            = "services/without-session-affinity-connections-spread-over-more-than-one-backend"
	idOutsideNodePortT  = "services/nodeport-from-outside-the-cluster-on-every-node-over-tcp"
	idOutsideNodePortU  = "services/nodeport-from-outside-the-cluster-on-every-node-over-udp"
	idETPLocalAnswers   = "services/externaltrafficpolicy-local-answers-on-the-endpoint-s-node-and-keeps-the-client-s-ip"
	idETPLocalSilent    = "services/externaltrafficpolicy-local-does-not-answer-on-nodes-without-a-local-endpoint"
	idITPLocalReaches   = "services/internaltrafficpolicy-local-reaches-the-endpoint-from-pods-on-its-node"
	idITPLocalElsewhere = "services/internaltrafficpolicy-local-does-not-reach-it-from-pods-on-other-nodes"
	idNoEndpointsTCP    = "services/a-service-without-endpoints-refuses-tcp-rather-than-black-holing-it"
	idNoEndpointsUDP    = "services/a-service-without-endpoints-refuses-udp-rather-than-black-holing-it"
	idHostPortOutT      = "services/hostport-answers-from-outside-the-cluster-on-every-node-s-ip-over-tcp"
	idHostPortOutU      = "services/hostport-answers-from-outside-the-cluster-on-every-node-s-ip-over-udp"
	idHostPortPods      = "services/hostport-answers-pods-on-other-nodes"
	idFlowClusterIP     = "conntrack/a-udp-flow-to-a-clusterip-keeps-working-after-its-backend-is-replaced"
	idFlowNodePort      = "conntrack/a-udp-flow-to-a-nodeport-keeps-working-after-its-backend-is-replaced"
	idARecord           = "dns-records/a-service-s-a-record-is-its-clusterip"
	idAAAARecord        = "dns-records/a-service-s-aaaa-records-are-its-ipv6-clusterips-none-for-an-ipv4-only-service"
	idSRVRecord         = "dns-records/srv-records-name-each-named-port-of-a-service"
	idHeadlessA         = "dns-records/a-headless-service-resolves-to-its-pods-ips"
	idHeadlessSRV       = "dns-records/a-headless-service-s-srv-records-name-each-of-its-pods"
	idPodRecord         = "dns-records/a-pod-s-hostname-subdomain-record-resolves-to-the-pod"
	idPTR               = "dns-records/a-service-s-clusterip-resolves-back-to-its-name"
	idNXDomain          = "dns-records/a-name-that-does-not-exist-is-answered-as-such-not-left-to-time-out"
	idResolvConf        = "dns-records/a-pod-s-resolver-gets-the-cluster-search-path-and-ndots-5"
	idSearchPath        = "dns-records/a-service-s-short-name-resolves-through-the-search-path"
	idDNSLatency        = "dns-records/every-node-s-pods-get-answers-to-100-queries-in-a-row-p50-and-p99-measured"
	idResolveUDP        = "dns/cluster-names-resolve-over-udp-from-every-node"
	idResolveTCP        = "dns/cluster-names-resolve-over-tcp-from-every-node"
	idPodToHost         = "connectivity/pod-to-host-network-on-every-node-over-tcp"
	idHostToPodUDP      = "connectivity/host-network-to-pod-over-udp"
)

// badWhen says which observations of a failed check must be the failing ones.
type badWhen func(o results.Observation) bool

func fromNode(n string) badWhen { return func(o results.Observation) bool { return o.From == n } }
func toPrefix(p string) badWhen {
	return func(o results.Observation) bool { return strings.HasPrefix(o.To, p) }
}
func pair(from, to string) badWhen {
	return func(o results.Observation) bool { return o.From == from && o.To == to }
}
func anyObs() badWhen { return func(results.Observation) bool { return true } }

// expectOnly asserts that exactly the checks in failing failed, each exactly on the observations
// its badWhen picks and naming what it saw, and that every other check that ran passed.
func expectOnly(t *testing.T, r *results.Result, failing map[string]badWhen) {
	t.Helper()
	for id := range failing {
		if _, ok := checkByID(r, id); !ok {
			t.Errorf("%s did not run", id)
		}
	}
	for _, c := range r.Checks {
		bad, want := failing[c.ID]
		switch {
		case !want && c.Status == results.Failed:
			t.Errorf("%s failed, but the fault is not on its path: %s", c.ID, c.Reason)
		case !want:
		case c.Status != results.Failed:
			t.Errorf("%s: %s (%s), want failed", c.ID, c.Status, c.Reason)
		default:
			for _, o := range c.Observations {
				if wantOK := !bad(o); o.OK != wantOK {
					t.Errorf("%s: %s -> %s ok=%v (observed %q, %s), want ok=%v", c.ID, o.From, o.To, o.OK, o.Observed, o.Detail, wantOK)
				}
				if !o.OK && !strings.Contains(c.Reason, o.Observed) {
					t.Errorf("%s: the failure does not name what it saw (%q): %s", c.ID, o.Observed, c.Reason)
				}
			}
		}
	}
}

// fault is a command run on a node to break it, and the command that undoes it.
type fault struct{ node, apply, undo string }

// breakNodes applies faults and registers their undoing; the returned func undoes them at once.
func breakNodes(t *testing.T, faults ...fault) func() {
	t.Helper()
	done := false
	undo := func() {
		if done {
			return
		}
		done = true
		for _, f := range faults {
			if out, err := exec.Command("docker", "exec", f.node, "sh", "-c", f.undo).CombinedOutput(); err != nil {
				t.Errorf("undo fault on %s (%s): %v: %s", f.node, f.undo, err, out)
			}
		}
	}
	t.Cleanup(undo)
	for _, f := range faults {
		onNode(t, f.node, "sh", "-c", f.apply)
	}
	return undo
}

// ipt is a fault made of one iptables rule inserted first in a chain (and deleted again).
func ipt(node, table, chain, rule string) fault {
	return fault{node: node,
		apply: "iptables -t " + table + " -I " + chain + " 1 " + rule,
		undo:  "iptables -t " + table + " -D " + chain + " " + rule}
}

// depthFaults breaks the kept kubenet cluster once for each of the deeper checks, or a few of
// them at a time when one fault is on all their paths, and asserts that exactly those fail.
func depthFaults(t *testing.T, k *liveCluster) {
	const ns = "netconform"
	keep := k.keepAgents(t)
	check := func(t *testing.T, labels string) *results.Result { t.Helper(); return k.failing(t, labels, keep) }
	passes := func(t *testing.T, labels string) {
		t.Helper()
		k.expectPassed(t, labels, keep...)
	}
	get := func(t *testing.T, args ...string) string {
		t.Helper()
		return kubectl(t, k.cp, append([]string{"-n", ns, "get"}, args...)...)
	}
	svcIP := func(t *testing.T, name string) string {
		return get(t, "service", name, "-o", "jsonpath={.spec.clusterIP}")
	}
	nodePort := func(t *testing.T, svc, port string) string {
		return get(t, "service", svc, "-o", `jsonpath={.spec.ports[?(@.name=="`+port+`")].nodePort}`)
	}
	agentIP := func(t *testing.T, role, node string) string {
		return get(t, "pod", "-l", "netconform.io/agent="+role, "--field-selector", "spec.nodeName="+node, "-o", "jsonpath={.items[0].status.podIP}")
	}
	worker, worker2, cp := k.worker, k.worker2, k.cp
	podSubnet := "10.244.0.0/16"

	// Deploy the agents and fixtures once and keep them.
	if _, code := k.check(t, "hairpin", keep...); code != 0 {
		t.Fatalf("healthy check before the depth faults exited %d", code)
	}
	soloNode := get(t, "pod", "probe-solo", "-o", "jsonpath={.spec.nodeName}")
	soloIP := get(t, "pod", "probe-solo", "-o", "jsonpath={.status.podIP}")
	other := worker
	if soloNode == worker {
		other = worker2
	}

	t.Run("SNAT on one node hides its pods' IPs from pods on another node and from Services", func(t *testing.T) {
		breakNodes(t,
			ipt(worker, "nat", "POSTROUTING", "-s "+podCIDR(t, cp, worker)+" -d "+podCIDR(t, cp, worker2)+" -j MASQUERADE"),
			ipt(worker, "nat", "POSTROUTING", "-s "+podCIDR(t, cp, worker)+" -m conntrack --ctstate DNAT -j MASQUERADE"))
		r := check(t, "pod-source || pod-source-local || service-source || pod-to-pod")
		expectOnly(t, r, map[string]badWhen{
			idPodSourceTCP:  pair(worker, worker2),
			idPodSourceUDP:  pair(worker, worker2),
			idServiceSource: fromNode(worker),
		})
	})

	t.Run("pods leaving the cluster unmasqueraded are lost", func(t *testing.T) {
		undo := breakNodes(t, ipt(worker, "nat", "NETCONFORM-KUBENET-MASQ", "-j RETURN"))
		r := check(t, "egress")
		expectOnly(t, r, map[string]badWhen{idEgressTCP: fromNode(worker), idEgressUDP: fromNode(worker), idEgressICMP: fromNode(worker)})
		undo()
		passes(t, "egress")
	})

	t.Run("session affinity and load balancing undone on one node", func(t *testing.T) {
		aff, probeSvc := svcIP(t, "probe-affinity"), svcIP(t, "probe")
		b1, b2 := agentIP(t, "probe-b", cp), agentIP(t, "probe-b", worker2)
		src := "-s " + podCIDR(t, cp, worker) + " -p tcp --dport 29084"
		breakNodes(t,
			// Half the connections to the affinity Service to one backend, the rest to another.
			ipt(worker, "nat", "PREROUTING", src+" -d "+aff+" -j DNAT --to-destination "+b2+":29084"),
			ipt(worker, "nat", "PREROUTING", src+" -d "+aff+" -m statistic --mode random --probability 0.5 -j DNAT --to-destination "+b1+":29084"),
			// Every connection to the probe Service to one backend.
			ipt(worker, "nat", "PREROUTING", src+" -d "+probeSvc+" -j DNAT --to-destination "+b2+":29084"))
		r := check(t, "affinity || load-balancing")
		expectOnly(t, r, map[string]badWhen{idAffinity: fromNode(worker), idSpread: fromNode(worker)})
	})

	t.Run("NodePort closed to the outside on one node", func(t *testing.T) {
		// Pods reach another node's NodePort masqueraded to their node's IP (kubenet masquerades
		// everything that leaves the pod CIDR), so "not from the cluster" is: neither a pod nor a
		// node address. A chain of its own says so, one RETURN per cluster address.
		const chain = "NETCONFORM-FAULT-OUTSIDE"
		var returns []string
		for _, src := range []string{podSubnet, nodeIP(t, cp), nodeIP(t, worker), nodeIP(t, worker2)} {
			returns = append(returns, "iptables -t raw -A "+chain+" -s "+src+" -j RETURN")
		}
		jump := func(proto, port string) string { return "-p " + proto + " --dport " + port + " -j " + chain }
		tcpJump, udpJump := jump("tcp", nodePort(t, "probe", "tcp-echo")), jump("udp", nodePort(t, "probe", "udp-echo"))
		breakNodes(t, fault{node: worker2,
			apply: "iptables -t raw -N " + chain + " && " + strings.Join(returns, " && ") + " && iptables -t raw -A " + chain + " -j DROP" +
				" && iptables -t raw -I PREROUTING 1 " + tcpJump + " && iptables -t raw -I PREROUTING 1 " + udpJump,
			undo: "iptables -t raw -D PREROUTING " + tcpJump + "; iptables -t raw -D PREROUTING " + udpJump +
				"; iptables -t raw -F " + chain + "; iptables -t raw -X " + chain})
		r := check(t, "nodeport-outside || nodeport")
		expectOnly(t, r, map[string]badWhen{idOutsideNodePortT: toPrefix(worker2 + " "), idOutsideNodePortU: toPrefix(worker2 + " ")})
	})

	t.Run("externalTrafficPolicy Local: a node without the endpoint forwards, the endpoint's node masquerades", func(t *testing.T) {
		np := nodePort(t, "probe-local", "who-tcp")
		breakNodes(t,
			ipt(other, "nat", "PREROUTING", "-p tcp --dport "+np+" -j DNAT --to-destination "+soloIP+":29084"),
			ipt(other, "nat", "POSTROUTING", "-d "+soloIP+" -p tcp --dport 29084 -j MASQUERADE"),
			ipt(soloNode, "nat", "POSTROUTING", "! -s "+podSubnet+" -d "+soloIP+" -p tcp --dport 29084 -j MASQUERADE"))
		r := check(t, "external-traffic-policy")
		expectOnly(t, r, map[string]badWhen{idETPLocalAnswers: anyObs(), idETPLocalSilent: toPrefix(other + " ")})
	})

	t.Run("internalTrafficPolicy Local: another node forwards, the endpoint's node drops", func(t *testing.T) {
		local := svcIP(t, "probe-local")
		breakNodes(t,
			ipt(other, "nat", "PREROUTING", "-s "+podCIDR(t, cp, other)+" -d "+local+" -p tcp --dport 29084 -j DNAT --to-destination "+soloIP+":29084"),
			ipt(soloNode, "raw", "PREROUTING", "-s "+podCIDR(t, cp, soloNode)+" -d "+local+" -j DROP"))
		r := check(t, "internal-traffic-policy")
		expectOnly(t, r, map[string]badWhen{idITPLocalReaches: anyObs(), idITPLocalElsewhere: fromNode(other)})
	})

	t.Run("a Service without endpoints black-holed on one node", func(t *testing.T) {
		breakNodes(t, ipt(worker, "raw", "PREROUTING", "-s "+podCIDR(t, cp, worker)+" -d "+svcIP(t, "probe-empty")+" -j DROP"))
		r := check(t, "no-endpoints")
		expectOnly(t, r, map[string]badWhen{idNoEndpointsTCP: fromNode(worker), idNoEndpointsUDP: fromNode(worker)})
		c, _ := checkByID(r, idNoEndpointsTCP)
		if !strings.Contains(c.Reason, "expected refused, observed timeout") {
			t.Errorf("no endpoints: %q, want it to say it expected refused and saw a timeout", c.Reason)
		}
	})

	t.Run("hostPort closed on one node", func(t *testing.T) {
		breakNodes(t,
			ipt(worker2, "raw", "PREROUTING", "-d "+nodeIP(t, worker2)+" -p tcp --dport 29085 -j DROP"),
			ipt(worker2, "raw", "PREROUTING", "-d "+nodeIP(t, worker2)+" -p udp --dport 29085 -j DROP"))
		r := check(t, "hostport")
		to := toPrefix(worker2 + " ")
		expectOnly(t, r, map[string]badWhen{idHostPortOutT: to, idHostPortOutU: to, idHostPortPods: to})
	})

	t.Run("hairpin traffic dropped", func(t *testing.T) {
		breakNodes(t, ipt(soloNode, "filter", "FORWARD", "-s "+soloIP+" -d "+soloIP+" -j DROP"))
		r := check(t, "hairpin || internal-traffic-policy")
		expectOnly(t, r, map[string]badWhen{idHairpin: anyObs()})
	})

	t.Run("host network to ClusterIP dropped on one node, and one node's host ports closed to another node's pods", func(t *testing.T) {
		breakNodes(t,
			ipt(worker, "raw", "OUTPUT", "-d "+svcIP(t, "probe")+" -j DROP"),
			// worker's pods reach worker2's own address masqueraded to worker's (kubenet).
			ipt(worker2, "filter", "INPUT", "-s "+nodeIP(t, worker)+" -p tcp --dport 29081 -j DROP"),
			ipt(worker2, "raw", "PREROUTING", "-s "+nodeIP(t, worker)+" -p udp --dport "+nodePort(t, "probe", "udp-echo")+" -j DROP"))
		r := check(t, "host-to-service || service || pod-to-host || nodeport")
		expectOnly(t, r, map[string]badWhen{
			idHostToServiceTCP: fromNode(worker), idHostToServiceUDP: fromNode(worker),
			idPodToHost:   pair(worker, worker2+" host"),
			idNodePortUDP: pair(worker, worker2+" NodePort"),
		})
	})

	t.Run("kube-proxy frozen: flows stay on a replaced backend", func(t *testing.T) {
		var faults []fault
		for _, n := range []string{cp, worker, worker2} {
			faults = append(faults, fault{node: n, apply: "pkill -STOP -x kube-proxy", undo: "pkill -CONT -x kube-proxy"})
		}
		undo := breakNodes(t, faults...)
		r := check(t, "conntrack || host-to-service")
		expectOnly(t, r, map[string]badWhen{idFlowClusterIP: anyObs(), idFlowNodePort: anyObs()})
		undo()
		// The thawed proxies program the new backend; the flows must work again.
		time.Sleep(3 * time.Second)
		passes(t, "conntrack")
	})

	t.Run("CoreDNS answers wrong records", func(t *testing.T) {
		corefile := kubectl(t, cp, "-n", "kube-system", "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}")
		probeIP := svcIP(t, "probe")
		rev := reverseName(probeIP)
		wrong := strings.Replace(corefile, "    kubernetes ", `    template IN A netconform.svc.cluster.local {
        match "^(probe|probe-headless|solo\.probe-headless|netconform-no-such-service)\.netconform\.svc\.cluster\.local\.$"
        answer "{{ .Name }} 30 IN A 192.0.2.1"
        fallthrough
    }
    template IN AAAA netconform.svc.cluster.local {
        match "^probe\.netconform\.svc\.cluster\.local\.$"
        answer "{{ .Name }} 30 IN AAAA 2001:db8::1"
        fallthrough
    }
    template IN SRV netconform.svc.cluster.local {
        match "^_[a-z-]+\._(tcp|udp)\.(probe|probe-headless)\.netconform\.svc\.cluster\.local\.$"
        answer "{{ .Name }} 30 IN SRV 0 100 9 wrong.example."
        fallthrough
    }
    template IN PTR in-addr.arpa {
        match "^`+strings.ReplaceAll(rev, ".", `\.`)+`$"
        answer "{{ .Name }} 30 IN PTR wrong.example."
        fallthrough
    }
    kubernetes `, 1)
		if wrong == corefile {
			t.Fatalf("no kubernetes plugin in the Corefile:\n%s", corefile)
		}
		setCorefile(t, cp, wrong)
		restored := false
		restore := func() {
			if !restored {
				restored = true
				setCorefile(t, cp, corefile)
			}
		}
		t.Cleanup(restore)
		r := check(t, "dns")
		expectOnly(t, r, map[string]badWhen{
			idARecord: anyObs(), idAAAARecord: anyObs(), idSRVRecord: anyObs(), idHeadlessA: anyObs(), idHeadlessSRV: anyObs(),
			idPodRecord: anyObs(), idPTR: anyObs(), idNXDomain: anyObs(), idSearchPath: anyObs(),
			// The older checks resolve the probe Service's name too.
			idResolveUDP: func(o results.Observation) bool { return strings.HasPrefix(o.To, "probe.") },
			idResolveTCP: func(o results.Observation) bool { return strings.HasPrefix(o.To, "probe.") },
		})
		restore()
		passes(t, "records")
	})

	t.Run("one pod's resolv.conf without the search path", func(t *testing.T) {
		pod := get(t, "pod", "-l", "netconform.io/agent=probe-a", "--field-selector", "spec.nodeName="+worker, "-o", "jsonpath={.items[0].metadata.name}")
		sandbox := onNode(t, worker, "crictl", "pods", "--name", pod, "--namespace", ns, "-q")
		file := "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/" + strings.Fields(sandbox)[0] + "/resolv.conf"
		orig := onNode(t, worker, "cat", file)
		dnsIP := kubectl(t, cp, "-n", "kube-system", "get", "service", "kube-dns", "-o", "jsonpath={.spec.clusterIP}")
		// Written in place: the container sees the file through a bind mount of it.
		undo := breakNodes(t, fault{node: worker,
			apply: "printf 'nameserver " + dnsIP + "\\noptions ndots:1\\n' > " + file,
			undo:  "printf '%s\\n' '" + strings.ReplaceAll(orig, "\n", "' '") + "' > " + file})
		// Go's resolver (the agent's) looks at resolv.conf again at most every 5 s: a check
		// sooner than that after a lookup of the previous subtest resolves with the old search
		// path, and the search-path check passes.
		time.Sleep(6 * time.Second)
		r := check(t, "resolv-conf || search-path || a-record")
		expectOnly(t, r, map[string]badWhen{idResolvConf: fromNode(worker), idSearchPath: fromNode(worker)})
		undo()
	})

	t.Run("one node loses a tenth of its DNS queries", func(t *testing.T) {
		breakNodes(t, ipt(worker, "raw", "PREROUTING", "-s "+podCIDR(t, cp, worker)+" -p udp --dport 53 -m statistic --mode nth --every 10 --packet 0 -j DROP"))
		r := check(t, "dns-latency")
		expectOnly(t, r, map[string]badWhen{idDNSLatency: fromNode(worker)})
	})
}

// reverseName is an IPv4 address's in-addr.arpa name, with the final dot.
func reverseName(ip string) string {
	p := strings.Split(ip, ".")
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return strings.Join(p, ".") + ".in-addr.arpa."
}

// setCorefile replaces CoreDNS's Corefile and restarts CoreDNS, waiting for it (its reload
// plugin would take up to a minute to notice).
func setCorefile(t *testing.T, cp, corefile string) {
	t.Helper()
	cmd := exec.Command("docker", "exec", "-i", cp, "sh", "-c",
		"kubectl --kubeconfig /etc/kubernetes/admin.conf -n kube-system create configmap coredns --from-file=Corefile=/dev/stdin --dry-run=client -o yaml | "+
			"kubectl --kubeconfig /etc/kubernetes/admin.conf replace -f -")
	cmd.Stdin = strings.NewReader(corefile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("replace the Corefile: %v: %s", err, out)
	}
	// The pods running now have the old Corefile. A finished rollout does not mean they are
	// gone: a terminating CoreDNS keeps answering through its lameduck period, and a check run
	// right after the rollout met one (the restored Corefile, a wrong record from one node). So
	// wait until each of them is deleted.
	old := strings.Fields(kubectl(t, cp, "-n", "kube-system", "get", "pod", "-l", "k8s-app=kube-dns", "-o", "jsonpath={.items[*].metadata.name}"))
	kubectl(t, cp, "-n", "kube-system", "rollout", "restart", "deployment/coredns")
	kubectl(t, cp, "-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=120s")
	if len(old) > 0 {
		args := []string{"-n", "kube-system", "wait", "--for=delete", "--timeout=90s"}
		for _, p := range old {
			args = append(args, "pod/"+p)
		}
		kubectl(t, cp, args...)
	}
}

// TestDepthFaultsOnKeptCluster runs the depth fault tests against a cluster kept by
// `make e2e PROVIDER=kubenet KEEP=1` (NETCONFORM_KEPT_RUN=<run id>, NETCONFORM_KEPT_KUBECONFIG=<its
// artifacts>/kubeconfig), for working on them without creating a cluster each time. make test
// runs them inside TestKubenet instead.
func TestDepthFaultsOnKeptCluster(t *testing.T) {
	runID, kubeconfig := os.Getenv("NETCONFORM_KEPT_RUN"), os.Getenv("NETCONFORM_KEPT_KUBECONFIG")
	if runID == "" || kubeconfig == "" {
		t.Skip("NETCONFORM_KEPT_RUN and NETCONFORM_KEPT_KUBECONFIG name a kept kubenet cluster")
	}
	depthFaults(t, &liveCluster{runID: runID, kubeconfig: kubeconfig, cp: runID + "-control-plane", worker: runID + "-worker", worker2: runID + "-worker2"})
}
