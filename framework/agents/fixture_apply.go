package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/probe"
)

// specAnnotation holds a hash of the spec netconform gave an object. An object found with
// another hash (or none: a namespace kept from an older netconform) is brought up to date, so
// that a kept agents namespace never serves an older layout.
const specAnnotation = "netconform.io/spec"

// nobody is a role no pod has: EmptyService selects it.
const nobody = "nobody"

// fixtureServiceNames are the fixture Services besides the probe Service, in the order Deploy
// creates them.
var fixtureServiceNames = []string{AffinityService, LocalService, EmptyService, HeadlessService, FlowService}

// servicePort is the port of a fixture Service by its name (PortTCPEcho, ...): the same number
// as the agents' own port, so a check reaches a backend's port through the Service unchanged.
func servicePort(name string) corev1.ServicePort {
	p := corev1.ServicePort{Name: name}
	switch name {
	case PortTCPEcho:
		p.Protocol, p.Port = corev1.ProtocolTCP, probe.TCPEchoPort
	case PortUDPEcho:
		p.Protocol, p.Port = corev1.ProtocolUDP, probe.UDPEchoPort
	case PortWhoTCP:
		p.Protocol, p.Port = corev1.ProtocolTCP, probe.WhoPort
	case PortWhoUDP:
		p.Protocol, p.Port = corev1.ProtocolUDP, probe.WhoPort
	default:
		panic("agents: no fixture port " + name)
	}
	p.TargetPort = intstr.FromInt32(p.Port)
	return p
}

func servicePorts(names ...string) []corev1.ServicePort {
	out := make([]corev1.ServicePort, 0, len(names))
	for _, n := range names {
		out = append(out, servicePort(n))
	}
	return out
}

// podAgentsSelector selects the per-node pod agents (PodA and PodB), not the solo and flow pods.
func podAgentsSelector() map[string]string {
	return map[string]string{appLabel: "netconform-probe", podNetworkLabel: "true"}
}

// services are the probe Service and the fixture Services, probe Service first. Each asks for
// PreferDualStack: on a dual-stack cluster it gets a ClusterIP (and, headless, endpoints and DNS
// records) of each family, so that a check can be run per family; on a single-stack cluster it
// is what it always was.
func services(ns string) []*corev1.Service {
	local := corev1.ServiceExternalTrafficPolicyLocal
	internalLocal := corev1.ServiceInternalTrafficPolicyLocal
	svc := func(name string, spec corev1.ServiceSpec) *corev1.Service {
		spec.IPFamilyPolicy = ptr(corev1.IPFamilyPolicyPreferDualStack)
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{appLabel: "netconform-probe"}}, Spec: spec}
	}
	return []*corev1.Service{
		svc(ServiceName, corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: podAgentsSelector(),
			Ports: servicePorts(PortTCPEcho, PortUDPEcho, PortWhoTCP, PortWhoUDP)}),
		svc(AffinityService, corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: podAgentsSelector(),
			SessionAffinity: corev1.ServiceAffinityClientIP,
			Ports:           servicePorts(PortTCPEcho, PortUDPEcho, PortWhoTCP, PortWhoUDP)}),
		svc(LocalService, corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{RoleLabel: Solo},
			ExternalTrafficPolicy: local, InternalTrafficPolicy: &internalLocal,
			Ports: servicePorts(PortWhoTCP, PortWhoUDP, PortTCPEcho)}),
		svc(EmptyService, corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{RoleLabel: nobody},
			Ports: servicePorts(PortTCPEcho, PortUDPEcho)}),
		// Named ports give the headless Service its SRV records
		// (_tcp-echo._tcp.probe-headless.<ns>.svc...).
		svc(HeadlessService, corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone,
			Selector: map[string]string{appLabel: "netconform-probe", headlessLabel: "true"},
			Ports:    servicePorts(PortTCPEcho, PortUDPEcho)}),
		svc(FlowService, corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{RoleLabel: Flow},
			Ports: servicePorts(PortWhoUDP, PortWhoTCP)}),
	}
}

// soloPod is the pod agent pinned to node, with a hostname in the headless Service's domain.
func soloPod(ns, image, node string) *corev1.Pod {
	spec := agentPodSpec(image, false, agentPorts(false))
	// Pinned by name, not scheduled: the solo pod's node is the one Fixtures.SoloNode names,
	// whatever the scheduler would think of it (it tolerates every taint like the agents).
	spec.NodeName = node
	spec.Hostname = SoloHostname
	spec.Subdomain = HeadlessService
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: SoloPod, Namespace: ns,
			Labels: map[string]string{appLabel: "netconform-probe", RoleLabel: Solo, headlessLabel: "true"}},
		Spec: spec,
	}
}

// flowDeployment is the one-replica Deployment behind FlowService.
func flowDeployment(ns, image string) *appsv1.Deployment {
	labels := map[string]string{appLabel: "netconform-probe", RoleLabel: Flow}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: FlowDeployment, Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{RoleLabel: Flow}},
			// One backend at a time: a rollout never puts an old and a new pod behind FlowService
			// together (a check that replaces the backend expects exactly one).
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       agentPodSpec(image, false, agentPorts(false)),
			},
		},
	}
}

// soloNode is the node the solo pod is pinned to: the last in name order that is not a
// control-plane node, or the last of all when every node is one; "" without nodes.
func soloNode(nodes []kube.Node) string {
	var workers, all []string
	for _, n := range nodes {
		all = append(all, n.Name)
		if !n.ControlPl {
			workers = append(workers, n.Name)
		}
	}
	pick := workers
	if len(pick) == 0 {
		pick = all
	}
	if len(pick) == 0 {
		return ""
	}
	sort.Strings(pick)
	return pick[len(pick)-1]
}

// specHash is a short stable hash of what netconform asks of an object.
func specHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("agents: hash spec: %v", err))
	}
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64())
}

func annotate(m *metav1.ObjectMeta, hash string) {
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[specAnnotation] = hash
}

// applyFixtures creates the fixture objects besides the probe Service, all at once: the
// Services, the solo pod and the flow Deployment. It returns, by object name, why one could not
// be created; none of them keeps the agents from running, so the checks that need it fail naming
// it instead. node is the solo pod's (soloNode), "" when there is none.
func applyFixtures(ctx context.Context, c *kube.Client, ns, image, node string, svcs []*corev1.Service) map[string]string {
	problems := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	do := func(name string, create func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := create(); err != nil {
				mu.Lock()
				problems[name] = err.Error()
				mu.Unlock()
			}
		}()
	}
	if node == "" {
		problems[SoloPod] = "the cluster has no node to pin the solo pod to"
	} else {
		do(SoloPod, func() error { return ensurePod(ctx, c, soloPod(ns, image, node), c.Timeouts.AgentsReady) })
	}
	for _, svc := range svcs {
		do(svc.Name, func() error { return createOrUpdateService(ctx, c, svc) })
	}
	do(FlowDeployment, func() error { return createOrUpdateDeployment(ctx, c, flowDeployment(ns, image)) })
	wg.Wait()
	return problems
}

// existing creates an object, or returns the one of that name already there (found false when
// it was just created), each call under the API bound.
func existing[T any](ctx context.Context, c *kube.Client, what string, create func(context.Context) error, get func(context.Context) (T, error)) (cur T, found bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	err = create(cctx)
	cancel()
	if err == nil {
		return cur, false, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return cur, false, fmt.Errorf("create %s: %w", what, err)
	}
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	if cur, err = get(cctx); err != nil {
		return cur, false, fmt.Errorf("get %s: %w", what, err)
	}
	return cur, true, nil
}

// createOrUpdateService creates svc or brings an existing one with another spec up to date:
// updated in place where the API allows (its cluster IP and node ports kept), replaced where
// it does not (a headless Service becoming a ClusterIP one).
func createOrUpdateService(ctx context.Context, c *kube.Client, svc *corev1.Service) error {
	hash := specHash(svc.Spec)
	annotate(&svc.ObjectMeta, hash)
	api := c.CoreV1().Services(svc.Namespace)
	cur, found, err := existing(ctx, c, "service "+svc.Namespace+"/"+svc.Name,
		func(ctx context.Context) error { _, err := api.Create(ctx, svc, metav1.CreateOptions{}); return err },
		func(ctx context.Context) (*corev1.Service, error) { return api.Get(ctx, svc.Name, metav1.GetOptions{}) })
	if err != nil || !found {
		return err
	}
	if cur.Annotations[specAnnotation] == hash {
		return nil
	}
	upd := svc.DeepCopy()
	upd.ResourceVersion = cur.ResourceVersion
	keepAllocated(upd, cur)
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	_, err = api.Update(cctx, upd, metav1.UpdateOptions{})
	cancel()
	if err == nil {
		return nil
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	// The API refuses this change in place: replace the Service.
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	err = api.Delete(cctx, svc.Name, metav1.DeleteOptions{})
	cancel()
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("replace service %s/%s: delete: %w", svc.Namespace, svc.Name, err)
	}
	return createRetrying(ctx, c, "service "+svc.Namespace+"/"+svc.Name, func(ctx context.Context) error {
		_, err := api.Create(ctx, svc, metav1.CreateOptions{})
		return err
	})
}

// keepAllocated copies what the API server allocated to cur (cluster IPs and their families,
// node ports by port name and protocol) into upd, so that an update does not move them. The
// primary family and its ClusterIP are immutable, and a Service from an older netconform is
// SingleStack: upd keeps cur's cluster IPs and families and brings its own ipFamilyPolicy
// (PreferDualStack), which the API server takes as an upgrade and, on a dual-stack cluster,
// answers by adding the other family. Nothing netconform asks for removes a family (a
// downgrade would have to drop the secondary ClusterIP and family in the same update).
func keepAllocated(upd, cur *corev1.Service) {
	switch {
	case upd.Spec.ClusterIP == "" && cur.Spec.ClusterIP != corev1.ClusterIPNone:
		upd.Spec.ClusterIP, upd.Spec.ClusterIPs = cur.Spec.ClusterIP, cur.Spec.ClusterIPs
		upd.Spec.IPFamilies = cur.Spec.IPFamilies
	case upd.Spec.ClusterIP == corev1.ClusterIPNone && cur.Spec.ClusterIP == corev1.ClusterIPNone:
		// A headless Service has families too (its endpoints' and DNS records'); the primary
		// one stays.
		upd.Spec.IPFamilies = cur.Spec.IPFamilies
	}
	if upd.Spec.IPFamilyPolicy == nil {
		upd.Spec.IPFamilyPolicy = cur.Spec.IPFamilyPolicy
	}
	if upd.Spec.Type != corev1.ServiceTypeNodePort || cur.Spec.Type != corev1.ServiceTypeNodePort {
		return
	}
	for i := range upd.Spec.Ports {
		p := &upd.Spec.Ports[i]
		for _, old := range cur.Spec.Ports {
			if old.Name == p.Name && old.Protocol == p.Protocol {
				p.NodePort = old.NodePort
			}
		}
	}
}

// createRetrying creates an object whose earlier self is being deleted: it retries while the
// API still has the old one, each call and the whole within the API call bound.
func createRetrying(ctx context.Context, c *kube.Client, what string, create func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	for {
		err := create(ctx)
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s: %w", what, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create %s: its earlier self is still being deleted: %w", what, ctx.Err())
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// ensurePod creates a bare pod, or replaces one of that name that runs another spec, is being
// deleted, or has ended (a bare pod is not restarted elsewhere). Pods are immutable, so
// replacing means deleting and waiting, within bound, until it is gone.
func ensurePod(ctx context.Context, c *kube.Client, pod *corev1.Pod, bound time.Duration) error {
	hash := specHash(struct {
		Labels map[string]string
		Spec   corev1.PodSpec
	}{pod.Labels, pod.Spec})
	annotate(&pod.ObjectMeta, hash)
	api := c.CoreV1().Pods(pod.Namespace)
	what := "pod " + pod.Namespace + "/" + pod.Name
	cur, found, err := existing(ctx, c, what,
		func(ctx context.Context) error { _, err := api.Create(ctx, pod, metav1.CreateOptions{}); return err },
		func(ctx context.Context) (*corev1.Pod, error) { return api.Get(ctx, pod.Name, metav1.GetOptions{}) })
	if err != nil || !found {
		return err
	}
	ended := cur.Status.Phase == corev1.PodFailed || cur.Status.Phase == corev1.PodSucceeded
	if cur.DeletionTimestamp == nil && !ended && cur.Annotations[specAnnotation] == hash {
		return nil
	}
	if cur.DeletionTimestamp == nil {
		grace := int64(1)
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		err = api.Delete(cctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace, Preconditions: &metav1.Preconditions{UID: &cur.UID}})
		cancel()
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("replace %s: delete: %w", what, err)
		}
	}
	if err := waitPodGone(ctx, c, pod.Namespace, pod.Name, cur.UID, bound); err != nil {
		return fmt.Errorf("replace %s: %w", what, err)
	}
	return createRetrying(ctx, c, what, func(ctx context.Context) error {
		_, err := api.Create(ctx, pod, metav1.CreateOptions{})
		return err
	})
}

// waitPodGone polls until the pod of that UID no longer exists, within bound.
func waitPodGone(ctx context.Context, c *kube.Client, ns, name string, uid types.UID, bound time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		p, err := c.CoreV1().Pods(ns).Get(cctx, name, metav1.GetOptions{})
		ccancel()
		switch {
		case apierrors.IsNotFound(err), err == nil && p.UID != uid:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the old pod was not gone within %s", bound)
		case <-time.After(c.Timeouts.PollInterval):
		}
	}
}

// createOrUpdateDeployment creates d or updates an existing one with another spec (replacing
// it when the API refuses the change, e.g. another selector).
func createOrUpdateDeployment(ctx context.Context, c *kube.Client, d *appsv1.Deployment) error {
	hash := specHash(d.Spec)
	annotate(&d.ObjectMeta, hash)
	api := c.AppsV1().Deployments(d.Namespace)
	what := "deployment " + d.Namespace + "/" + d.Name
	cur, found, err := existing(ctx, c, what,
		func(ctx context.Context) error { _, err := api.Create(ctx, d, metav1.CreateOptions{}); return err },
		func(ctx context.Context) (*appsv1.Deployment, error) {
			return api.Get(ctx, d.Name, metav1.GetOptions{})
		})
	if err != nil || !found {
		return err
	}
	if cur.Annotations[specAnnotation] == hash {
		return nil
	}
	upd := d.DeepCopy()
	upd.ResourceVersion = cur.ResourceVersion
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	_, err = api.Update(cctx, upd, metav1.UpdateOptions{})
	cancel()
	if err == nil {
		return nil
	}
	if !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update %s: %w", what, err)
	}
	background := metav1.DeletePropagationBackground
	cctx, cancel = context.WithTimeout(ctx, c.Timeouts.APICall)
	err = api.Delete(cctx, d.Name, metav1.DeleteOptions{PropagationPolicy: &background})
	cancel()
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("replace %s: delete: %w", what, err)
	}
	return createRetrying(ctx, c, what, func(ctx context.Context) error {
		_, err := api.Create(ctx, d, metav1.CreateOptions{})
		return err
	})
}
