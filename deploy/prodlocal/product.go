package prodlocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/telecomcrm/crm/deploy/localstack"
	"github.com/telecomcrm/crm/deploy/probe"
	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
)

// Product says how the product runs on the cluster.
type Product struct {
	// BinDir holds the deployables (make build).
	BinDir string
	// ConsoleDir is the built console; "" serves the API only.
	ConsoleDir string
	// HTTPAddr is the gateway's address; "" picks a free port.
	HTTPAddr string
	// AdminPassword is the first admin's.
	AdminPassword string
	// Env is more environment for every component (localstack.Config.Env).
	Env []string
}

// Migrate runs the migrate deployable against the services' database, as
// a deployment's init job does.
func (c *Cluster) Migrate(ctx context.Context, p Product) error {
	c.step("migrating the services' schemas with migrate")
	tls := certs.Files(c.certDir(), "migrate")
	return run(ctx, filepath.Join(p.BinDir, "migrate"), nil, []string{
		"CRM_DATABASE_URL=" + c.DatabaseURL, "CRM_ADMIN_PASSWORD=" + p.AdminPassword, "CRM_ADMIN_PASSWORD_CHANGE=false", "CRM_DATA_DIR=" + filepath.Join(c.dir, "data"),
		"CRM_TLS_CA_FILE=" + tls.CAFile, "CRM_TLS_CERT_FILE=" + tls.CertFile, "CRM_TLS_KEY_FILE=" + tls.KeyFile,
	})
}

// StartProduct runs every component against the cluster and the services'
// database, as separate processes (the local stack with an external
// Temporal), each serving /metrics.
func (c *Cluster) StartProduct(ctx context.Context, p Product, log *slog.Logger, out io.Writer) (*localstack.Stack, error) {
	if p.HTTPAddr == "" {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		p.HTTPAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	}
	c.key = make([]byte, 32)
	_, _ = rand.Read(c.key)
	env := map[string]string{
		"CRM_DATA_DIR":        filepath.Join(c.dir, "data"),
		"CRM_HTTP_ADDR":       p.HTTPAddr,
		"CRM_DATABASE_URL":    c.DatabaseURL,
		"TEMPORAL_ADDRESS":    c.Address,
		"TEMPORAL_NAMESPACE":  c.cfg.Namespace,
		"CRM_TEMPORAL_UI_URL": c.UIURL,
		"CRM_BIN_DIR":         p.BinDir,
		"CRM_CONSOLE_DIR":     p.ConsoleDir,
		"CRM_ADMIN_PASSWORD":  p.AdminPassword,
		// The smoke test signs in with it; no change at first.
		"CRM_ADMIN_PASSWORD_CHANGE": "false",
		// As in production: one key for all, given, not generated.
		"CRM_INTERNAL_KEY": base64.StdEncoding.EncodeToString(c.key),
		"CRM_LOG_FORMAT":   "json",
		// Every component its own certificate of the run's CA.
		"CRM_LOCAL_TLS_DIR": c.certDir(),
	}
	for k, v := range c.objects.env() {
		env[k] = v
	}
	for k, v := range env {
		if err := os.Setenv(k, v); err != nil {
			return nil, err
		}
		c.productEnv = append(c.productEnv, k)
	}
	cfg, err := config.Load[localstack.Config]()
	if err != nil {
		return nil, err
	}
	// every process, replicas included, serves /metrics on a port of its own
	if cfg.MetricsPort, err = portRange(len(cfg.Processes())); err != nil {
		return nil, err
	}
	cfg.Env = append(cfg.Env, p.Env...)
	c.endpoints = cfg.Endpoints
	c.step("starting the services, the worker and the gateway on %s", p.HTTPAddr)
	return localstack.Start(ctx, cfg, log, out)
}

// portRange finds n consecutive free loopback ports and returns the first.
func portRange(n int) (int, error) {
	for try := 0; try < 50; try++ {
		first, err := freePorts(1)
		if err != nil {
			return 0, err
		}
		base := first[0]
		if base+n > 65535 {
			continue
		}
		ok := true
		for i := 1; i < n && ok; i++ {
			ok = httpPortFree(base + i)
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports", n)
}

// Smoke drives one connection through the stack: the admin signs in,
// registers a customer, opens a contract; its connection workflow must be
// found in the namespace by its search attributes (as an ops engineer
// would in the Web UI), and every component must serve its metrics.
func (c *Cluster) Smoke(ctx context.Context, s *localstack.Stack, adminPassword string) error {
	c.step("smoke: sign in, customer, contract, its workflow by search attribute, metrics")
	base := s.ConsoleURL()
	var login struct{ AccessToken string }
	if err := call(ctx, base, "", http.MethodPost, "/api/v1/auth/login", map[string]string{"login": "admin", "password": adminPassword}, &login); err != nil {
		return err
	}
	var cust struct{ ID string }
	phone := fmt.Sprintf("+7912%07d", time.Now().UnixNano()%10_000_000)
	if err := call(ctx, base, login.AccessToken, http.MethodPost, "/api/v1/customers", map[string]any{"name": "Production Check", "phones": []map[string]string{{"number": phone}}}, &cust); err != nil {
		return err
	}
	var contract struct {
		ID               string `json:"id"`
		ConnectionTaskID string `json:"connectionTaskId"`
	}
	if err := call(ctx, base, login.AccessToken, http.MethodPost, "/api/v1/contracts", map[string]any{"customerId": cust.ID, "tariffId": "1", "address": "Tverskaya 1"}, &contract); err != nil {
		return err
	}
	if contract.ConnectionTaskID == "" {
		return fmt.Errorf("contract %s came without its connection task", contract.ID)
	}
	tc, err := c.dialTemporal(ctx, c.cfg.Namespace)
	if err != nil {
		return err
	}
	defer tc.Close()
	query := fmt.Sprintf("CrmContractId = '%s' AND CrmTaskState = 'TASK_STATE_OPEN'", contract.ID)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: c.cfg.Namespace, Query: query})
		if err == nil && len(resp.GetExecutions()) == 1 {
			c.step("smoke: workflow %s found by %q", resp.GetExecutions()[0].GetExecution().GetWorkflowId(), query)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no workflow answers %q in namespace %s (err %v)", query, c.cfg.Namespace, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for name, url := range s.MetricsURLs() {
		if err := probe.HTTP(ctx, url); err != nil {
			return fmt.Errorf("%s metrics: %w", name, err)
		}
	}
	return probe.HTTP(ctx, c.UIURL+"/namespaces/"+c.cfg.Namespace+"/workflows")
}

// call sends a JSON request that must answer 200.
func call(ctx context.Context, base, token, method, path string, body, out any) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, answer)
	}
	return json.Unmarshal(answer, out)
}

// EndToEnd runs the end-to-end suite (deploy/e2e) with every stack it
// starts pointed at the cluster and at databases beside the services'.
func (c *Cluster) EndToEnd(ctx context.Context, deployDir string, out io.Writer, flags ...string) error {
	c.step("end-to-end suite against the cluster")
	args := append([]string{"test"}, flags...)
	args = append(args, "./e2e/...")
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = deployDir
	// The suite's stacks make their own settings; none of the product
	// stack's may leak into them.
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(c.productEnv, k) {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"CRM_TEST_TEMPORAL_ADDRESS="+c.Address,
		"CRM_TEST_TEMPORAL_UI_URL="+c.UIURL,
		"CRM_TEST_DATABASE_URL="+c.DatabaseURL,
		"CRM_TEST_TLS_DIR="+c.certDir(),
	)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}
