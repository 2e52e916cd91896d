// Package redact keeps secrets out of everything netconform writes: logs, results, summaries
// and evidence bundles. Secrets are collected where they enter (kubeconfig credentials, AWS
// credentials in the environment, provider options marked secret) and replaced wherever they
// would leave.
package redact

import (
	"encoding/base64"
	"os"
	"sort"
	"strings"
	"sync"

	"k8s.io/client-go/tools/clientcmd"
)

// Mask replaces a secret.
const Mask = "[REDACTED]"

// minLen keeps short, common strings from being treated as secrets (they would mangle output
// and a 3-character secret is no secret).
const minLen = 6

// Redactor replaces known secret values.
type Redactor struct {
	mu      sync.RWMutex
	secrets []string
}

// New returns a redactor that knows the given secrets.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	r.Add(secrets...)
	return r
}

// Add registers secrets (and their base64 forms, as they appear in kubeconfigs and Secrets).
func (r *Redactor) Add(secrets ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range secrets {
		s = strings.TrimSpace(s)
		if len(s) < minLen {
			continue
		}
		r.secrets = append(r.secrets, s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	// Longest first, so a secret containing another is replaced whole.
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
}

// String returns s with every known secret masked.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, sec := range r.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// Bytes is String for byte slices.
func (r *Redactor) Bytes(b []byte) []byte { return []byte(r.String(string(b))) }

// AWSEnv are the environment variables that carry AWS credentials.
var awsEnv = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN"}

// AddEnvironment registers AWS credentials found in the environment.
func (r *Redactor) AddEnvironment() {
	for _, k := range awsEnv {
		r.Add(os.Getenv(k))
	}
}

// AddKubeconfig registers a kubeconfig's credentials: tokens, passwords, client keys.
// An unreadable kubeconfig adds nothing (reading it fails elsewhere with a clear error).
func (r *Redactor) AddKubeconfig(path string) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return
	}
	for _, a := range cfg.AuthInfos {
		r.Add(a.Token, a.Password, string(a.ClientKeyData))
		if a.TokenFile != "" {
			if b, err := os.ReadFile(a.TokenFile); err == nil {
				r.Add(string(b))
			}
		}
	}
}
