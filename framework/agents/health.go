package agents

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// RefusedError means Kubernetes refused to create the agents' pods (admission: Pod Security,
// a policy engine, a quota). No agent can come up, so nothing can be checked: the run could not
// run, and waiting for the agents would only delay saying so.
type RefusedError struct {
	Namespace string
	// ByRole is the refusal message of each refused role's DaemonSet, as the DaemonSet
	// controller recorded it in its FailedCreate event.
	ByRole map[string]string
}

func (e *RefusedError) Error() string {
	// Roles refused with the same words (probe-a and probe-b: the same pod template but for
	// its name) are listed once.
	byMsg := map[string][]string{}
	for r, msg := range e.ByRole {
		byMsg[msg] = append(byMsg[msg], r)
	}
	parts := make([]string, 0, len(byMsg))
	for msg, rs := range byMsg {
		sort.Strings(rs)
		parts = append(parts, strings.Join(rs, ", ")+": "+msg)
	}
	sort.Strings(parts)
	return fmt.Sprintf("Kubernetes refused the probe agents' pods in namespace %s: %s; "+
		"the agents need privileged pods (host network, NET_RAW capability): allow them in %s "+
		"(label it pod-security.kubernetes.io/enforce=privileged) or pass --namespace with a namespace "+
		"that does not exist yet (netconform creates it with that label)",
		e.Namespace, strings.Join(parts, "; "), e.Namespace)
}

// ImagePullError means nodes cannot get the probe image: their agents would never start.
type ImagePullError struct {
	Image string
	// Nodes that cannot get the image, sorted, with the kubelet's reason on each.
	Nodes []string
	Why   map[string]string
}

func (e *ImagePullError) Error() string {
	first := ""
	if len(e.Nodes) > 0 {
		first = fmt.Sprintf(" (%s: %s)", e.Nodes[0], e.Why[e.Nodes[0]])
	}
	return fmt.Sprintf("probe image %s cannot be pulled on nodes %s%s", e.Image, strings.Join(e.Nodes, ", "), first)
}

// pullFailureReasons are the kubelet's waiting reasons for a container whose image it cannot
// get. They do not go away on their own: the kubelet only backs off and tries again.
var pullFailureReasons = map[string]bool{
	"ErrImagePull":      true,
	"ImagePullBackOff":  true,
	"ErrImageNeverPull": true,
	"InvalidImageName":  true,
}

// imagePullFailure says why a pod's container cannot get its image, or "" when it is not
// stuck on the image.
func imagePullFailure(p *corev1.Pod) (image, why string) {
	for _, cs := range p.Status.ContainerStatuses {
		w := cs.State.Waiting
		if w == nil || !pullFailureReasons[w.Reason] {
			continue
		}
		why = w.Reason
		if w.Message != "" {
			why += ": " + w.Message
		}
		image = cs.Image
		for _, c := range p.Spec.Containers {
			if c.Name == cs.Name {
				image = c.Image
			}
		}
		return image, why
	}
	return "", ""
}

// podName matches the generated pod name in a DaemonSet controller's FailedCreate message
// (pods "probe-a-x7k2p" is forbidden): each attempt names another pod, and the message is
// reported once, not once per attempt and role.
var podName = regexp.MustCompile(`pods "[^"]*"`)

// refusal says why Kubernetes refuses a DaemonSet's pods, or "" when it does not: the
// DaemonSet has fewer pods than nodes that need one (pods counts the live ones), and the
// DaemonSet controller recorded a FailedCreate event whose message says the API server
// refused the pod (forbidden: admission webhooks, Pod Security, quotas). Other FailedCreate
// messages (a conflict, a timeout) are transient and the controller retries them.
func refusal(ds *appsv1.DaemonSet, pods int, events []corev1.Event) string {
	want := int(ds.Status.DesiredNumberScheduled)
	if want == 0 || pods >= want {
		return ""
	}
	var latest *corev1.Event
	for i := range events {
		e := &events[i]
		if e.Reason != "FailedCreate" || e.InvolvedObject.Kind != "DaemonSet" || e.InvolvedObject.Name != ds.Name {
			continue
		}
		// Events of an earlier DaemonSet of the same name are not this one's.
		if e.InvolvedObject.UID != "" && ds.UID != "" && e.InvolvedObject.UID != ds.UID {
			continue
		}
		if !strings.Contains(e.Message, "forbidden") {
			continue
		}
		if latest == nil || eventTime(e).After(eventTime(latest)) {
			latest = e
		}
	}
	if latest == nil {
		return ""
	}
	return podName.ReplaceAllString(latest.Message, `pods "…"`)
}

// eventTime is when an event last happened, whichever API wrote it.
func eventTime(e *corev1.Event) time.Time {
	switch {
	case e.Series != nil && !e.Series.LastObservedTime.IsZero():
		return e.Series.LastObservedTime.Time
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
