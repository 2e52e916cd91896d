package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// agentsAPI is an API server holding netconform's agents namespace (no pods left in it) until it
// is deleted; forbidDelete makes the namespace's deletion refused.
func agentsAPI(t *testing.T, exists, forbidDelete bool) *httptest.Server {
	var mu sync.Mutex
	status := func(w http.ResponseWriter, code int, reason string) {
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":%q,"code":%d}`, reason, code)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case p == "/version":
			fmt.Fprint(w, `{"major":"1","minor":"34","gitVersion":"v1.34.4"}`)
		case p == "/api/v1/namespaces" && r.Method == http.MethodGet:
			fmt.Fprint(w, `{"kind":"NamespaceList","apiVersion":"v1","metadata":{},"items":[]}`)
		case p == "/api/v1/namespaces/netconform" && r.Method == http.MethodGet:
			if !exists {
				status(w, http.StatusNotFound, "NotFound")
				return
			}
			fmt.Fprint(w, `{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"netconform","labels":{"app.kubernetes.io/managed-by":"netconform"}}}`)
		case p == "/api/v1/namespaces/netconform" && r.Method == http.MethodDelete:
			if forbidDelete {
				status(w, http.StatusForbidden, "Forbidden")
				return
			}
			exists = false
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Success"}`)
		case r.Method == http.MethodGet && strings.HasPrefix(p, "/api"):
			// Lists in the namespace (pods, replicasets): empty.
			fmt.Fprint(w, `{"kind":"List","apiVersion":"v1","metadata":{},"items":[]}`)
		case r.Method == http.MethodDelete:
			status(w, http.StatusNotFound, "NotFound")
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
			status(w, http.StatusMethodNotAllowed, "MethodNotAllowed")
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// check --remove-agents removes netconform's namespace and says so (exit 0), says when there is
// nothing to remove (exit 0), and exits 2 when the cluster refuses or cannot be asked. It writes
// no result: it runs no checks.
func TestCheckRemoveAgents(t *testing.T) {
	cases := []struct {
		name           string
		server         string
		code           int
		want           string
		exists, forbid bool
	}{
		{name: "kept agents", exists: true, code: exitOK, want: "removed namespace netconform (netconform's) in "},
		{name: "nothing there", code: exitOK, want: "no probe agents in namespace netconform: nothing to remove"},
		{name: "refused", exists: true, forbid: true, code: exitCouldNotRun, want: "delete namespace netconform"},
		{name: "unreachable", server: "https://127.0.0.1:1", code: exitCouldNotRun, want: "does not answer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			server := c.server
			if server == "" {
				server = agentsAPI(t, c.exists, c.forbid).URL
			}
			art := t.TempDir() + "/artifacts"
			out, code, err := runCLI(t, "check", "--remove-agents", "--kubeconfig", writeKubeconfig(t, server, "PLANTED-TOKEN-REMOVE"), "--artifacts", art)
			msg := out
			if err != nil {
				msg += err.Error()
			}
			if code != c.code || !strings.Contains(msg, c.want) {
				t.Errorf("exit %d, %q; want exit %d and %q", code, msg, c.code, c.want)
			}
			if strings.Contains(msg, "PLANTED-TOKEN-REMOVE") {
				t.Error("the kubeconfig's token was printed")
			}
			if _, err := os.Stat(art); !os.IsNotExist(err) {
				t.Errorf("--remove-agents wrote %s (%v): it runs no checks", art, err)
			}
		})
	}
}
