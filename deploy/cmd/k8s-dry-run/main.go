// Command k8s-dry-run sends rendered manifests to a Kubernetes API server
// as server-side dry-run creates (dryRun=All, fieldValidation=Strict): the
// server's own defaulting, validation and admission judge every object,
// and nothing is stored. It prints each refusal and the number of objects
// accepted, and exits 1 when any was refused (3 when the server could not
// be asked).
//
//	k8s-dry-run -server https://127.0.0.1:6443 -ca apiserver.crt -token T \
//	  -wait 60s -namespace crm -crd certificate-crd.yaml full.yaml min.yaml
//
// Before the dry run it makes, for real, what a bare API server lacks and
// a cluster has: the namespace with its default ServiceAccount (no
// controller manager runs to make it) and the -crd definitions (e.g.
// cert-manager's Certificate), so their objects are checked against
// them. A kind the server does not serve at all is refused, unless -skip
// names it, which prints a note instead.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

func main() {
	server := flag.String("server", "", "the API server's URL")
	caFile := flag.String("ca", "", "PEM file of the CA (or self-signed certificate) the server presents")
	token := flag.String("token", "", "bearer token")
	namespace := flag.String("namespace", "default", "namespace of the namespaced objects that name none")
	wait := flag.Duration("wait", 0, "how long to wait for the server to be ready (/readyz) first")
	var crds, skip list
	flag.Var(&crds, "crd", "CustomResourceDefinition manifest to register first (repeatable)")
	flag.Var(&skip, "skip", "kind not served that is skipped with a note, as Kind.group (repeatable)")
	flag.Parse()
	if *server == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: k8s-dry-run -server URL [-ca FILE] [-token T] [-namespace NS] [-crd FILE]... [-skip Kind.group]... MANIFEST...")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := run(ctx, *server, *caFile, *token, *namespace, *wait, crds, skip, flag.Args(), os.Stdout)
	switch {
	case errors.Is(err, errRefused):
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, "k8s-dry-run:", err)
		os.Exit(3)
	}
}

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// errRefused says the server refused some of the objects; each refusal
// has been printed.
var errRefused = errors.New("objects refused")

func run(ctx context.Context, server, caFile, token, namespace string, wait time.Duration, crdFiles, skip, files []string, out io.Writer) error {
	hc, err := httpClient(caFile)
	if err != nil {
		return err
	}
	api := &apiServer{base: strings.TrimSuffix(server, "/"), token: token, http: hc, resources: map[string]map[string]resource{}}
	if err := api.ready(ctx, wait); err != nil {
		return err
	}
	if err := api.prepare(ctx, namespace, crdFiles); err != nil {
		return err
	}
	var accepted, refused, skipped int
	for _, f := range files {
		objs, err := readObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			name := o.describe()
			res, ok, err := api.resource(ctx, o.APIVersion, o.Kind)
			switch {
			case err != nil:
				return err
			case !ok && slices.Contains(skip, o.kindGroup()):
				fmt.Fprintf(out, "%s: skipped, %s is not served by this API server\n", name, o.kindGroup())
				skipped++
				continue
			case !ok:
				fmt.Fprintf(out, "%s: refused: %s is not served by this API server\n", name, o.kindGroup())
				refused++
				continue
			}
			ns := o.Metadata.Namespace
			if ns == "" {
				ns = namespace
			}
			if err := api.create(ctx, o.APIVersion, res, ns, o.raw, true); err != nil {
				fmt.Fprintf(out, "%s (%s): refused: %v\n", name, f, err)
				refused++
				continue
			}
			accepted++
		}
	}
	fmt.Fprintf(out, "dry run: %d objects accepted, %d refused, %d skipped\n", accepted, refused, skipped)
	if refused > 0 {
		return errRefused
	}
	return nil
}

func httpClient(caFile string) (*http.Client, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}, nil
}

// object is one manifest: what routes it, and its JSON.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	raw []byte
}

func (o object) describe() string { return o.Kind + "/" + o.Metadata.Name }

// kindGroup is Kind.group, as -skip names it (Kind alone for the core group).
func (o object) kindGroup() string {
	group, _, found := strings.Cut(o.APIVersion, "/")
	if !found {
		return o.Kind
	}
	return o.Kind + "." + group
}

// readObjects reads the documents of a multi-document YAML file, skipping
// empty ones.
func readObjects(path string) ([]object, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var objs []object
	for i := 1; ; i++ {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", path, i, err)
		}
		if len(doc) == 0 {
			continue
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", path, i, err)
		}
		o := object{raw: raw}
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("%s, document %d: %w", path, i, err)
		}
		if o.APIVersion == "" || o.Kind == "" {
			return nil, fmt.Errorf("%s, document %d: no apiVersion or kind", path, i)
		}
		objs = append(objs, o)
	}
}

// resource is how the server serves a kind.
type resource struct {
	name       string
	namespaced bool
}

type apiServer struct {
	base, token string
	http        *http.Client
	// resources by group/version, then kind; nil for a group/version the
	// server does not serve.
	resources map[string]map[string]resource
}

// ready waits up to wait for the server to answer /readyz with 200.
func (a *apiServer) ready(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		err := a.get(ctx, "/readyz", nil)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// prepare makes what the dry run needs to exist: the CRDs, the namespace
// and its default ServiceAccount.
func (a *apiServer) prepare(ctx context.Context, namespace string, crdFiles []string) error {
	crd := resource{name: "customresourcedefinitions"}
	for _, f := range crdFiles {
		objs, err := readObjects(f)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := a.create(ctx, o.APIVersion, crd, "", o.raw, false); err != nil && !isConflict(err) {
				return fmt.Errorf("registering %s: %w", o.describe(), err)
			}
			if err := a.established(ctx, o.Metadata.Name); err != nil {
				return err
			}
		}
	}
	ns, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]string{"name": namespace}})
	if err := a.create(ctx, "v1", resource{name: "namespaces"}, "", ns, false); err != nil && !isConflict(err) {
		return fmt.Errorf("creating namespace %s: %w", namespace, err)
	}
	sa, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": map[string]string{"name": "default"}})
	if err := a.create(ctx, "v1", resource{name: "serviceaccounts", namespaced: true}, namespace, sa, false); err != nil && !isConflict(err) {
		return fmt.Errorf("creating the default ServiceAccount: %w", err)
	}
	return nil
}

// established waits until the server serves a CRD's kind.
func (a *apiServer) established(ctx context.Context, name string) error {
	for {
		var crd struct {
			Status struct {
				Conditions []struct{ Type, Status string } `json:"conditions"`
			} `json:"status"`
		}
		if err := a.get(ctx, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+name, &crd); err != nil {
			return err
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == "Established" && c.Status == "True" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("CRD %s not established: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resource finds how the server serves apiVersion's kind; ok is false when
// it does not.
func (a *apiServer) resource(ctx context.Context, apiVersion, kind string) (resource, bool, error) {
	byKind, seen := a.resources[apiVersion]
	if !seen {
		var l struct {
			Resources []struct {
				Name       string `json:"name"`
				Kind       string `json:"kind"`
				Namespaced bool   `json:"namespaced"`
			} `json:"resources"`
		}
		err := a.get(ctx, groupVersionPath(apiVersion), &l)
		var se *statusError
		switch {
		case errors.As(err, &se) && se.code == http.StatusNotFound:
		case err != nil:
			return resource{}, false, err
		default:
			byKind = map[string]resource{}
			for _, r := range l.Resources {
				if !strings.Contains(r.Name, "/") {
					byKind[r.Kind] = resource{name: r.Name, namespaced: r.Namespaced}
				}
			}
		}
		a.resources[apiVersion] = byKind
	}
	r, ok := byKind[kind]
	return r, ok, nil
}

func groupVersionPath(apiVersion string) string {
	if !strings.Contains(apiVersion, "/") {
		return "/api/" + apiVersion
	}
	return "/apis/" + apiVersion
}

// create posts body to the resource's collection; dryRun asks that
// nothing be stored.
func (a *apiServer) create(ctx context.Context, apiVersion string, r resource, namespace string, body []byte, dryRun bool) error {
	path := groupVersionPath(apiVersion)
	if r.namespaced {
		path += "/namespaces/" + namespace
	}
	path += "/" + r.name + "?fieldValidation=Strict"
	if dryRun {
		path += "&dryRun=All"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return a.do(req, nil)
}

func (a *apiServer) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return err
	}
	return a.do(req, into)
}

func (a *apiServer) do(req *http.Request, into any) error {
	req.Header.Set("Accept", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		// A refusal is a metav1.Status whose message says what is wrong.
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &st) != nil || st.Message == "" {
			st.Message = strings.TrimSpace(string(body))
		}
		return &statusError{code: resp.StatusCode, message: st.Message}
	}
	if into != nil {
		return json.Unmarshal(body, into)
	}
	return nil
}

type statusError struct {
	code    int
	message string
}

func (e *statusError) Error() string { return fmt.Sprintf("%d %s", e.code, e.message) }

func isConflict(err error) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == http.StatusConflict
}
