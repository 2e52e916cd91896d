package agents

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netconform/netconform/framework/probe"
)

// PerfService is the Service the perf suite measures a ClusterIP path through. It has no
// selector and one EndpointSlice naming a single pod agent: netperf opens a control and a data
// connection, and behind a Service with several backends they could reach different netservers.
const PerfService = "perf"

// perfPorts are the netserver's control port and its fixed data port (TCP and UDP tests).
var perfPorts = []struct {
	name  string
	port  int
	proto corev1.Protocol
}{
	{"netperf", probe.NetserverPort, corev1.ProtocolTCP},
	{"data-tcp", probe.NetperfDataPort, corev1.ProtocolTCP},
	{"data-udp", probe.NetperfDataPort, corev1.ProtocolUDP},
}

// EnsurePerfService creates the perf Service in front of backend (replacing one left by an
// earlier run) and returns its ClusterIP. Its EndpointSlice is owned by the Service, so that it
// goes with it.
func (f *Fleet) EnsurePerfService(ctx context.Context, backend Agent) (string, error) {
	if !backend.Ready {
		return "", fmt.Errorf("perf Service: backend %s", backend.Unavailable())
	}
	family := corev1.IPv4Protocol
	addrType := discoveryv1.AddressTypeIPv4
	if ip := net.ParseIP(backend.IP); ip != nil && ip.To4() == nil {
		family, addrType = corev1.IPv6Protocol, discoveryv1.AddressTypeIPv6
	}
	if err := f.RemovePerfService(ctx); err != nil {
		return "", err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: PerfService, Namespace: f.Namespace, Labels: map[string]string{appLabel: "netconform-probe"}},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, IPFamilies: []corev1.IPFamily{family}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: PerfService, Namespace: f.Namespace, Labels: map[string]string{
			discoveryv1.LabelServiceName: PerfService, discoveryv1.LabelManagedBy: "netconform.io"}},
		AddressType: addrType,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{backend.IP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
			NodeName:   ptr(backend.Node),
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: f.Namespace, Name: backend.Pod},
		}},
	}
	for _, p := range perfPorts {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: p.name, Port: int32(p.port), Protocol: p.proto, TargetPort: intstr.FromInt32(int32(p.port))})
		slice.Ports = append(slice.Ports, discoveryv1.EndpointPort{Name: ptr(p.name), Port: ptr(int32(p.port)), Protocol: ptr(p.proto)})
	}
	cctx, cancel := context.WithTimeout(ctx, f.timeouts().APICall)
	defer cancel()
	made, err := f.c.CoreV1().Services(f.Namespace).Create(cctx, svc, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("create service %s/%s: %w", f.Namespace, PerfService, err)
	}
	slice.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: made.Name, UID: made.UID}}
	if _, err := f.c.DiscoveryV1().EndpointSlices(f.Namespace).Create(cctx, slice, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create endpointslice %s/%s: %w", f.Namespace, PerfService, err)
	}
	return made.Spec.ClusterIP, nil
}

// RemovePerfService deletes the perf Service and its EndpointSlice; absent is fine.
func (f *Fleet) RemovePerfService(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, f.timeouts().APICall)
	defer cancel()
	if err := f.c.DiscoveryV1().EndpointSlices(f.Namespace).Delete(cctx, PerfService, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete endpointslice %s/%s: %w", f.Namespace, PerfService, err)
	}
	if err := f.c.CoreV1().Services(f.Namespace).Delete(cctx, PerfService, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete service %s/%s: %w", f.Namespace, PerfService, err)
	}
	return nil
}
