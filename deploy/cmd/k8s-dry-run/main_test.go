package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fakeServer serves discovery for core/v1 and apps/v1, creates everything
// it is sent, and refuses Deployments named "bad" the way the API server
// does; it records each create as METHOD path?query.
type fakeServer struct {
	mu      sync.Mutex
	creates []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer t0ken" {
		http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/readyz":
		io.WriteString(w, "ok")
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1":
		io.WriteString(w, `{"resources":[{"name":"configmaps","kind":"ConfigMap","namespaced":true},{"name":"namespaces","kind":"Namespace"},{"name":"namespaces/status","kind":"Namespace"}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/apis/apps/v1":
		io.WriteString(w, `{"resources":[{"name":"deployments","kind":"Deployment","namespaced":true}]}`)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"):
		io.WriteString(w, `{"status":{"conditions":[{"type":"Established","status":"True"}]}}`)
	case r.Method == http.MethodGet:
		http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
	case r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		var o struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		json.Unmarshal(body, &o)
		f.mu.Lock()
		f.creates = append(f.creates, r.URL.Path+"?"+r.URL.RawQuery)
		f.mu.Unlock()
		if o.Metadata.Name == "bad" {
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"kind":"Status","message":"Deployment.apps \"bad\" is invalid: spec.replicas: Invalid value: -1"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "{}")
	}
}

func write(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const manifests = `---
# Source: crm/templates/config.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: crm-config}
data: {A: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: crm-task, namespace: other}
spec: {replicas: 2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec: {replicas: -1}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: crm-task}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
`

func TestEachObjectIsADryRunCreateAndRefusalsAndUnservedKindsAreCountedAndNamed(t *testing.T) {
	fake := &fakeServer{}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	ca := write(t, "ca.pem", string(certPEM(srv)))
	var out bytes.Buffer
	err := run(context.Background(), srv.URL, ca, "t0ken", "crm", 0, nil, []string{"Certificate.cert-manager.io"}, []string{write(t, "m.yaml", manifests)}, &out)
	if !errors.Is(err, errRefused) {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`Deployment/bad (`, `refused: 422 Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1`,
		"Certificate/crm-task: skipped, Certificate.cert-manager.io is not served by this API server",
		"Widget/w: refused: Widget.example.com is not served by this API server",
		"dry run: 2 objects accepted, 2 refused, 1 skipped",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	wantCreates := []string{
		"/api/v1/namespaces?fieldValidation=Strict",
		"/api/v1/namespaces/crm/serviceaccounts?fieldValidation=Strict",
		"/api/v1/namespaces/crm/configmaps?fieldValidation=Strict&dryRun=All",
		"/apis/apps/v1/namespaces/other/deployments?fieldValidation=Strict&dryRun=All",
		"/apis/apps/v1/namespaces/crm/deployments?fieldValidation=Strict&dryRun=All",
	}
	if strings.Join(fake.creates, "\n") != strings.Join(wantCreates, "\n") {
		t.Errorf("creates:\n%s\nwant:\n%s", strings.Join(fake.creates, "\n"), strings.Join(wantCreates, "\n"))
	}
}

func TestCRDsAreRegisteredForRealBeforeTheDryRun(t *testing.T) {
	fake := &fakeServer{}
	srv := httptest.NewTLSServer(fake)
	defer srv.Close()
	crd := write(t, "crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: certificates.cert-manager.io}\n")
	var out bytes.Buffer
	if err := run(context.Background(), srv.URL, write(t, "ca.pem", string(certPEM(srv))), "t0ken", "crm", 0, []string{crd}, nil,
		[]string{write(t, "m.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if len(fake.creates) == 0 || fake.creates[0] != "/apis/apiextensions.k8s.io/v1/customresourcedefinitions?fieldValidation=Strict" {
		t.Errorf("creates: %q", fake.creates)
	}
	if !strings.Contains(out.String(), "dry run: 1 objects accepted, 0 refused, 0 skipped") {
		t.Errorf("output: %s", out.String())
	}
}

// certPEM is the certificate a test server presents.
func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}
