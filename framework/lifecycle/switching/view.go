package switching

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/netconform/netconform/framework/kube"
)

// switchView is the API as the new provider's installer sees it during a switch: every
// DaemonSet it creates or updates gets a nodeSelector on the switch label, and listing nodes
// returns only the nodes already given to it. The installer itself is unchanged: it installs
// on, and waits for, the switched nodes only, while the old provider keeps the others.
type switchView struct {
	next         http.RoundTripper
	label, value string
	mu           sync.Mutex
	daemonSets   []string // namespace/name of every DaemonSet the installer wrote
	deployments  []string // and of every Deployment, left as written
}

var (
	daemonSetPath  = regexp.MustCompile(`^/apis/apps/v1/namespaces/([^/]+)/daemonsets(?:/([^/]+))?$`)
	deploymentPath = regexp.MustCompile(`^/apis/apps/v1/namespaces/([^/]+)/deployments(?:/([^/]+))?$`)
)

// newSwitchClient returns a client for the installer of the provider taking over: its
// DaemonSets run only on nodes labelled label=value.
func newSwitchClient(c *kube.Client, label, value string) (*kube.Client, *switchView, error) {
	cfg := rest.CopyConfig(c.Config)
	v := &switchView{label: label, value: value}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		v.next = rt
		return v
	})
	// JSON, so that request bodies can be rewritten.
	cfg.ContentType = "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("switch client: %w", err)
	}
	return &kube.Client{Interface: cs, Config: cfg, Timeouts: c.Timeouts}, v, nil
}

// DaemonSets are the DaemonSets the installer wrote, as namespace/name.
func (v *switchView) DaemonSets() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.daemonSets)
}

// Deployments are the Deployments the installer wrote, as namespace/name.
func (v *switchView) Deployments() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.deployments)
}

func (v *switchView) remember(list *[]string, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !slices.Contains(*list, id) {
		*list = append(*list, id)
	}
}

func (v *switchView) RoundTrip(req *http.Request) (*http.Response, error) {
	p := req.URL.Path
	switch {
	case req.Method == http.MethodGet && p == "/api/v1/nodes":
		req = req.Clone(req.Context())
		q := req.URL.Query()
		sel := v.label + "=" + v.value
		if s := q.Get("labelSelector"); s != "" {
			sel = s + "," + sel
		}
		q.Set("labelSelector", sel)
		req.URL.RawQuery = q.Encode()
	case (req.Method == http.MethodPost || req.Method == http.MethodPut) && daemonSetPath.MatchString(p) && req.Body != nil:
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		out, name, err := withNodeSelector(body, v.label, v.value)
		if err != nil {
			return nil, fmt.Errorf("switch: DaemonSet request to %s: %w", p, err)
		}
		v.remember(&v.daemonSets, daemonSetPath.FindStringSubmatch(p)[1]+"/"+name)
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(out))
		req.ContentLength = int64(len(out))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out)), nil }
	case req.Method == http.MethodPost && deploymentPath.MatchString(p) && req.GetBody != nil:
		// Only remembered (to be removed with the provider): a Deployment may run anywhere.
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		var d struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		err = json.NewDecoder(body).Decode(&d)
		body.Close()
		if err == nil && d.Metadata.Name != "" {
			v.remember(&v.deployments, deploymentPath.FindStringSubmatch(p)[1]+"/"+d.Metadata.Name)
		}
	}
	return v.next.RoundTrip(req)
}

// withNodeSelector adds label=value to a DaemonSet's pod template nodeSelector.
func withNodeSelector(body []byte, label, value string) ([]byte, string, error) {
	if len(body) == 0 || !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		return nil, "", fmt.Errorf("not a JSON body (content type must be JSON)")
	}
	var ds map[string]any
	if err := json.Unmarshal(body, &ds); err != nil {
		return nil, "", err
	}
	name := ""
	if md, ok := ds["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	spec := child(ds, "spec")
	tmpl := child(spec, "template")
	pod := child(tmpl, "spec")
	sel := child(pod, "nodeSelector")
	sel[label] = value
	out, err := json.Marshal(ds)
	return out, name, err
}

func child(m map[string]any, key string) map[string]any {
	c, ok := m[key].(map[string]any)
	if !ok {
		c = map[string]any{}
		m[key] = c
	}
	return c
}
