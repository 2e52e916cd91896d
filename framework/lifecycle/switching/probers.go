package switching

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/platform"
	"github.com/netconform/netconform/framework/probe"
)

// The continuous probers of a switch: one pod per node, each an echo server and a client that
// probes every other prober pod (new connections and one long-lived connection each), a
// ClusterIP Service over all of them and a DNS name, every 100 ms.
const (
	proberNamespace = "netconform-switch"
	proberName      = "prober"
	proberService   = "prober-echo"
	// switchingLabel marks a node being rolled: the prober leaves it until the node is back.
	switchingLabel = "netconform.io/switching"
	// networkLabel says which provider a node is given to; the new provider's DaemonSets
	// select it.
	networkLabel   = "netconform.io/network"
	proberDNSName  = "kubernetes.default.svc.cluster.local"
	proberAppLabel = "netconform.io/app"
	// proberPeersDir holds, on every node, the file of prober pod IPs the probers read: finding
	// peers must not depend on the DNS under test.
	proberPeersDir  = "/run/netconform-switch"
	proberPeersFile = proberPeersDir + "/peers"
)

// deployProbers creates the probers and waits until one is Ready on every node.
func deployProbers(ctx context.Context, c *kube.Client, image string, nodes int) error {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: proberNamespace}}
	if _, err := c.CoreV1().Namespaces().Create(cctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("probers: %w", err)
	}
	sel := map[string]string{proberAppLabel: proberName}
	port := func(name string, p int32) corev1.ServicePort {
		return corev1.ServicePort{Name: name, Protocol: corev1.ProtocolTCP, Port: p, TargetPort: intstr.FromInt32(p)}
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: proberService, Namespace: proberNamespace},
		Spec: corev1.ServiceSpec{Selector: sel, Ports: []corev1.ServicePort{port("tcp-echo", probe.TCPEchoPort)}}}
	if _, err := c.CoreV1().Services(proberNamespace).Create(cctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("probers: service %s: %w", svc.Name, err)
	}
	got, err := c.CoreV1().Services(proberNamespace).Get(cctx, proberService, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("probers: %w", err)
	}
	args := []string{"loop",
		"--peers-file", proberPeersFile, "--peer-refresh", "1s",
		"--service", net.JoinHostPort(got.Spec.ClusterIP, strconv.Itoa(probe.TCPEchoPort)),
		"--dns-name", proberDNSName,
		"--interval", "100ms", "--timeout", "1s"}
	if _, err := c.AppsV1().DaemonSets(proberNamespace).Create(cctx, proberDaemonSet(image, args), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("probers: %w", err)
	}
	return waitPods(ctx, c, c.Timeouts.AgentsReady, "probers Ready on every node", func(ctx context.Context) (bool, string, error) {
		pods, err := proberPods(ctx, c)
		if err != nil {
			return false, "", err
		}
		ready := 0
		for _, p := range pods {
			if kube.PodReady(&p) {
				ready++
			}
		}
		return ready >= nodes, fmt.Sprintf("%d of %d Ready", ready, nodes), nil
	})
}

func proberDaemonSet(image string, args []string) *appsv1.DaemonSet {
	labels := map[string]string{proberAppLabel: proberName}
	grace := int64(1)
	env := []corev1.EnvVar{
		{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "HOST_NETWORK", Value: strconv.FormatBool(false)},
	}
	// A node being rolled loses its prober (after its records are collected) and gets a new
	// one, on the new provider's network, when it is back.
	away := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: switchingLabel, Operator: corev1.NodeSelectorOpDoesNotExist}}}},
	}}}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: proberName, Namespace: proberNamespace, Labels: labels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Affinity: away,
					Volumes: []corev1.Volume{{Name: "peers", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{
						Path: proberPeersDir, Type: ptrTo(corev1.HostPathDirectoryOrCreate)}}}},
					TerminationGracePeriodSeconds: &grace,
					Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
					Containers: []corev1.Container{{
						Name: "prober", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args: args, Env: env,
						VolumeMounts: []corev1.VolumeMount{{Name: "peers", MountPath: proberPeersDir, ReadOnly: true}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(probe.ControlPort)}},
							PeriodSeconds: 1,
						},
					}},
				},
			},
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

// publishPeers writes the IPs of the prober pods that are Ready on every node's peers file.
func publishPeers(ctx context.Context, c *kube.Client, nodes platform.NodeRunner, names []string) error {
	pods, err := proberPods(ctx, c)
	if err != nil {
		return fmt.Errorf("probers: %w", err)
	}
	var ips []string
	for _, p := range pods {
		if p.Status.PodIP != "" && p.DeletionTimestamp == nil && kube.PodReady(&p) {
			ips = append(ips, p.Status.PodIP)
		}
	}
	content := strings.Join(ips, "\n") + "\n"
	for _, n := range names {
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.NodeCommand)
		_, err := nodes.RunOnNode(cctx, n, []string{"sh", "-c", `mkdir -p "$0" && cat > "$1.tmp" && mv "$1.tmp" "$1"`, proberPeersDir, proberPeersFile}, strings.NewReader(content))
		cancel()
		if err != nil {
			return fmt.Errorf("probers: peers file on %s: %w", n, err)
		}
	}
	return nil
}

func proberPods(ctx context.Context, c *kube.Client) ([]corev1.Pod, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	list, err := c.CoreV1().Pods(proberNamespace).List(cctx, metav1.ListOptions{LabelSelector: proberAppLabel + "=" + proberName})
	if err != nil {
		return nil, err
	}
	return list.Items, nil
}

// proberLog is one prober pod's records with where it ran.
type proberLog struct {
	Pod, Node, IP string
	Records       []probe.Record
}

// collectProberLog reads a prober's records through the API server's log endpoint (kubelet
// serves it from the node's disk: no pod network involved).
func collectProberLog(ctx context.Context, c *kube.Client, p corev1.Pod) (proberLog, error) {
	cctx, cancel := context.WithTimeout(ctx, c.Timeouts.ProberLogs)
	defer cancel()
	raw, err := c.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "prober"}).DoRaw(cctx)
	if err != nil {
		return proberLog{}, fmt.Errorf("records of %s on %s: %w", p.Name, p.Spec.NodeName, err)
	}
	recs, err := probe.ParseRecords(bytes.NewReader(raw))
	if err != nil {
		return proberLog{}, fmt.Errorf("records of %s: %w", p.Name, err)
	}
	return proberLog{Pod: p.Name, Node: p.Spec.NodeName, IP: p.Status.PodIP, Records: recs}, nil
}

// waitPods polls cond every second until it is done or timeout passes; API errors are retried
// until then (the API server restarts with the control-plane node).
func waitPods(ctx context.Context, c *kube.Client, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string, error)) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		done, why, err := cond(ctx)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		last = why
		return done, nil
	})
	if err != nil {
		return fmt.Errorf("%s: not done within %s: %s", what, timeout, last)
	}
	return nil
}
