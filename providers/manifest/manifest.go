// Package manifest applies the Kubernetes objects a provider renders from its options, and
// prints them as YAML for golden files and for users who want to see what will be installed.
package manifest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/netconform/netconform/framework/kube"
	"github.com/netconform/netconform/framework/redact"
)

// Apply creates every object, or replaces it when it exists (keeping its resourceVersion), in
// order. Each API call is bounded by the client's APICall timeout.
func Apply(ctx context.Context, c *kube.Client, objs []runtime.Object) error {
	for _, o := range objs {
		if err := applyOne(ctx, c, o); err != nil {
			return fmt.Errorf("apply %s: %w", Describe(o), err)
		}
	}
	return nil
}

// Describe names an object as kind/namespace/name.
func Describe(o runtime.Object) string {
	m, ok := o.(metav1.Object)
	if !ok {
		return fmt.Sprintf("%T", o)
	}
	kind := o.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = strings.TrimPrefix(fmt.Sprintf("%T", o), "*")
	}
	if m.GetNamespace() == "" {
		return kind + "/" + m.GetName()
	}
	return kind + "/" + m.GetNamespace() + "/" + m.GetName()
}

func applyOne(ctx context.Context, c *kube.Client, o runtime.Object) error {
	ctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
	defer cancel()
	create, opts := metav1.CreateOptions{}, metav1.UpdateOptions{}
	var err error
	switch v := o.(type) {
	case *corev1.Namespace:
		_, err = c.CoreV1().Namespaces().Create(ctx, v, create)
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
	case *corev1.ServiceAccount:
		api := c.CoreV1().ServiceAccounts(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			return nil
		}
	case *corev1.Secret:
		api := c.CoreV1().Secrets(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *corev1.Secret
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *corev1.ConfigMap:
		api := c.CoreV1().ConfigMaps(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *corev1.ConfigMap
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *rbacv1.ClusterRole:
		api := c.RbacV1().ClusterRoles()
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *rbacv1.ClusterRole
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *rbacv1.ClusterRoleBinding:
		api := c.RbacV1().ClusterRoleBindings()
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *rbacv1.ClusterRoleBinding
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *rbacv1.Role:
		api := c.RbacV1().Roles(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *rbacv1.Role
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *rbacv1.RoleBinding:
		api := c.RbacV1().RoleBindings(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *rbacv1.RoleBinding
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *appsv1.DaemonSet:
		api := c.AppsV1().DaemonSets(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *appsv1.DaemonSet
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	case *appsv1.Deployment:
		api := c.AppsV1().Deployments(v.Namespace)
		if _, err = api.Create(ctx, v, create); apierrors.IsAlreadyExists(err) {
			var cur *appsv1.Deployment
			if cur, err = api.Get(ctx, v.Name, metav1.GetOptions{}); err == nil {
				v.ResourceVersion = cur.ResourceVersion
				_, err = api.Update(ctx, v, opts)
			}
		}
	default:
		return fmt.Errorf("manifest: no apply for %T", o)
	}
	return err
}

// YAML prints objects as one multi-document YAML stream, with apiVersion and kind set from
// gvks (the typed objects leave TypeMeta empty unless the provider filled it). The values of a
// Secret are never printed: each is written as redact.Mask (golden files and users see which
// keys a Secret has, never what they hold; Apply sends the objects as they are).
func YAML(objs []runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			b.WriteString("---\n")
		}
		if sec, ok := o.(*corev1.Secret); ok {
			o = masked(sec)
		}
		y, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("manifest: %s: %w", Describe(o), err)
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}

// masked is a copy of sec with every value replaced by redact.Mask, in stringData (readable).
func masked(sec *corev1.Secret) *corev1.Secret {
	m := sec.DeepCopy()
	if len(m.Data)+len(m.StringData) > 0 {
		m.StringData = map[string]string{}
	}
	for k := range sec.Data {
		m.StringData[k] = redact.Mask
	}
	for k := range sec.StringData {
		m.StringData[k] = redact.Mask
	}
	m.Data = nil
	return m
}

// Typed sets TypeMeta on the objects the providers build, so that YAML and Describe name them.
func Typed(objs ...runtime.Object) []runtime.Object {
	for _, o := range objs {
		var gvk schema.GroupVersionKind
		switch o.(type) {
		case *corev1.Namespace:
			gvk = corev1.SchemeGroupVersion.WithKind("Namespace")
		case *corev1.ServiceAccount:
			gvk = corev1.SchemeGroupVersion.WithKind("ServiceAccount")
		case *corev1.ConfigMap:
			gvk = corev1.SchemeGroupVersion.WithKind("ConfigMap")
		case *corev1.Secret:
			gvk = corev1.SchemeGroupVersion.WithKind("Secret")
		case *rbacv1.ClusterRole:
			gvk = rbacv1.SchemeGroupVersion.WithKind("ClusterRole")
		case *rbacv1.ClusterRoleBinding:
			gvk = rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding")
		case *rbacv1.Role:
			gvk = rbacv1.SchemeGroupVersion.WithKind("Role")
		case *rbacv1.RoleBinding:
			gvk = rbacv1.SchemeGroupVersion.WithKind("RoleBinding")
		case *appsv1.DaemonSet:
			gvk = appsv1.SchemeGroupVersion.WithKind("DaemonSet")
		case *appsv1.Deployment:
			gvk = appsv1.SchemeGroupVersion.WithKind("Deployment")
		default:
			continue
		}
		o.GetObjectKind().SetGroupVersionKind(gvk)
	}
	return objs
}

// Ptr returns a pointer to v, for the optional fields of API objects.
func Ptr[T any](v T) *T { return &v }

// HostPath is a hostPath volume.
func HostPath(name, path string, t corev1.HostPathType) corev1.Volume {
	v := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}}}
	if t != "" {
		v.HostPath.Type = &t
	}
	return v
}

// ConfigMapVolume is a volume from a ConfigMap.
func ConfigMapVolume(name, configMap string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: configMap},
	}}}
}

// FieldEnv is an environment variable from a field of the pod.
func FieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
}

// Requests are a container's CPU and memory requests.
func Requests(cpu, memory string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
}

// ApplyDaemonSet applies objs and waits until the DaemonSet ns/name is rolled out on every node;
// a rollout that does not finish says why through PodProblems for the pods matching selector.
// Errors start with who ("flannel: ..."): the install steps most providers share.
func ApplyDaemonSet(ctx context.Context, c *kube.Client, who string, objs []runtime.Object, ns, name, selector string) error {
	if err := Apply(ctx, c, objs); err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	if err := c.WaitDaemonSet(ctx, ns, name); err != nil {
		return fmt.Errorf("%s: %w%s", who, err, PodProblems(ctx, c, ns, selector))
	}
	return nil
}

// PodProblems describes the pods matching selector in ns that are not Ready: phase, node and
// each waiting or crashed container's reason, for an install error to say why a rollout did not
// finish. It returns "" when there is nothing to say, else a string starting with "; ".
func PodProblems(ctx context.Context, c *kube.Client, ns, selector string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.Timeouts.APICall)
	defer cancel()
	pods, err := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil || len(pods.Items) == 0 {
		return ""
	}
	var out []string
	for _, p := range pods.Items {
		if kube.PodReady(&p) {
			continue
		}
		why := []string{string(p.Status.Phase)}
		statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
		for _, s := range statuses {
			switch {
			case s.State.Waiting != nil && s.State.Waiting.Reason != "" && s.State.Waiting.Reason != "PodInitializing":
				why = append(why, fmt.Sprintf("%s %s: %s", s.Name, s.State.Waiting.Reason, oneLine(s.State.Waiting.Message)))
			case s.State.Terminated != nil && s.State.Terminated.ExitCode != 0:
				why = append(why, fmt.Sprintf("%s exited %d: %s", s.Name, s.State.Terminated.ExitCode, oneLine(s.State.Terminated.Message)))
			}
			if s.LastTerminationState.Terminated != nil && s.LastTerminationState.Terminated.ExitCode != 0 {
				t := s.LastTerminationState.Terminated
				why = append(why, fmt.Sprintf("%s last exited %d (%s): %s", s.Name, t.ExitCode, t.Reason, oneLine(t.Message)))
			}
		}
		out = append(out, fmt.Sprintf("%s on %s: %s", p.Name, p.Spec.NodeName, strings.Join(why, ", ")))
	}
	if len(out) == 0 {
		return ""
	}
	return "; pods not ready: " + strings.Join(out, "; ")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ApplyCRDs creates or replaces CustomResourceDefinitions (kept as unstructured objects: the
// apiextensions types are not a dependency), then waits up to establish for each to be
// Established, so that objects of those kinds can be created next.
func ApplyCRDs(ctx context.Context, c *kube.Client, crds []*unstructured.Unstructured, establish time.Duration) error {
	if len(crds) == 0 {
		return nil
	}
	dc, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("dynamic client: %w", err)
	}
	api := dc.Resource(crdResource)
	for _, u := range crds {
		cctx, cancel := context.WithTimeout(ctx, c.Timeouts.APICall)
		_, err := api.Create(cctx, u, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			var cur *unstructured.Unstructured
			if cur, err = api.Get(cctx, u.GetName(), metav1.GetOptions{}); err == nil {
				u.SetResourceVersion(cur.GetResourceVersion())
				_, err = api.Update(cctx, u, metav1.UpdateOptions{})
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("apply CRD %s: %w", u.GetName(), err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, establish)
	defer cancel()
	for _, u := range crds {
		for {
			cur, err := api.Get(wctx, u.GetName(), metav1.GetOptions{})
			if err == nil && established(cur) {
				break
			}
			select {
			case <-wctx.Done():
				return fmt.Errorf("CRD %s not Established within %s", u.GetName(), establish)
			case <-time.After(c.Timeouts.PollInterval):
			}
		}
	}
	return nil
}

func established(u *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == "Established" && m["status"] == "True" {
			return true
		}
	}
	return false
}
