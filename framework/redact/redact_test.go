package redact

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRedactsPlainAndBase64(t *testing.T) {
	r := New("s3cr3t-password", "abc")
	got := r.String("pw=s3cr3t-password b64=" + base64.StdEncoding.EncodeToString([]byte("s3cr3t-password")) + " abc")
	if strings.Contains(got, "s3cr3t") || strings.Contains(got, base64.StdEncoding.EncodeToString([]byte("s3cr3t-password"))) {
		t.Errorf("secret left in %q", got)
	}
	if !strings.Contains(got, " abc") {
		t.Errorf("a 3-character string is not treated as a secret: %q", got)
	}
}

func TestKubeconfigAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	key := "-----BEGIN RSA PRIVATE KEY-----\nPLANTEDKEYMATERIAL\n-----END RSA PRIVATE KEY-----\n"
	body := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
users:
- name: u
  user:
    token: PLANTED-TOKEN-123456
    client-key-data: ` + base64.StdEncoding.EncodeToString([]byte(key)) + "\n"
	if err := os.WriteFile(kc, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "PLANTED-AWS-SECRET")
	r := New()
	r.AddKubeconfig(kc)
	r.AddEnvironment()
	out := r.String("Authorization: Bearer PLANTED-TOKEN-123456; key " + key + "; aws PLANTED-AWS-SECRET")
	for _, s := range []string{"PLANTED-TOKEN-123456", "PLANTEDKEYMATERIAL", "PLANTED-AWS-SECRET"} {
		if strings.Contains(out, s) {
			t.Errorf("%s left in %q", s, out)
		}
	}
}
