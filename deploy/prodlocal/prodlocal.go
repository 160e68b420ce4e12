// Package prodlocal runs the product the way production does, on this
// machine: a Temporal server (not the dev server) persisting to
// PostgreSQL, its Web UI, the namespace and search attributes registered
// by the operator's tools, and the services on PostgreSQL, every
// connection between them mutual TLS with certificates of a CA made for
// the run. Everything it creates — processes and databases, all named
// crm_prod_<random>_… — it removes again.
package prodlocal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/telecomcrm/crm/deploy/probe"
	"github.com/telecomcrm/crm/services/platform/certs"
	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// Config says where the tools are and which PostgreSQL to use.
type Config struct {
	// PostgresURL is an account that may create databases.
	PostgresURL string `env:"CRM_PROD_POSTGRES_URL" envDefault:"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"`
	// ServerBin, SQLToolBin and UIServerBin are the Temporal server,
	// temporal-sql-tool and the Web UI server; CLI is the Temporal CLI.
	ServerBin   string `env:"CRM_TEMPORAL_SERVER_BIN,required"`
	SQLToolBin  string `env:"CRM_TEMPORAL_SQL_TOOL_BIN,required"`
	UIServerBin string `env:"CRM_TEMPORAL_UI_SERVER_BIN,required"`
	CLI         string `env:"CRM_TEMPORAL_BIN,required"`
	// WeedBin is SeaweedFS's weed, the S3-compatible server attachments
	// go to; unset, they stay on the local disk.
	WeedBin string `env:"CRM_WEED_BIN"`
	// SchemaDir is the server module's schema/postgresql/v12 folder.
	SchemaDir string `env:"CRM_TEMPORAL_SCHEMA_DIR,required"`
	// Namespace is the one the services use.
	Namespace string `env:"TEMPORAL_NAMESPACE" envDefault:"crm"`
	// WorkDir keeps the configuration and the logs; default: a new
	// temporary folder, removed at the end unless the run failed.
	WorkDir string `env:"CRM_PROD_DIR"`
}

// Cluster is a running Temporal server on PostgreSQL with its Web UI.
type Cluster struct {
	cfg    Config
	log    *slog.Logger
	out    io.Writer
	prefix string
	admin  *url.URL
	dir    string

	server, ui *proc
	objects    *objectStore
	// productEnv names the variables StartProduct set in this process.
	productEnv []string
	// key is the internal signing key StartProduct gave the components,
	// endpoints where it has them serve.
	key       []byte
	endpoints config.Endpoints

	// Address is the frontend's gRPC address; UIURL the Web UI.
	Address string
	UIURL   string
	// DatabaseURL is the services' database (crm_prod_<random>_crm).
	DatabaseURL string
}

// Prefix is what every database of this run is named with.
func (c *Cluster) Prefix() string { return c.prefix }

// Dir is where configuration and logs are.
func (c *Cluster) Dir() string { return c.dir }

// Up creates the databases, sets up Temporal's schema, starts the server
// and the Web UI, and registers the namespace with its search attributes.
// On failure it removes what it made, and says why.
func Up(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*Cluster, error) {
	admin, err := url.Parse(cfg.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("CRM_PROD_POSTGRES_URL: %w", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	c := &Cluster{cfg: cfg, log: log, out: out, prefix: "crm_prod_" + hex.EncodeToString(b[:]), admin: admin}
	c.dir = cfg.WorkDir
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", c.prefix+"-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	if err := c.up(ctx); err != nil {
		c.Down(false)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) step(format string, args ...any) {
	fmt.Fprintf(c.out, "prod-local: "+format+"\n", args...)
}

func (c *Cluster) up(ctx context.Context) error {
	temporalDB, visibilityDB, crmDB := c.prefix+"_temporal", c.prefix+"_visibility", c.prefix+"_crm"
	c.step("creating databases %s, %s, %s", temporalDB, visibilityDB, crmDB)
	if err := c.createDatabases(ctx, temporalDB, visibilityDB, crmDB); err != nil {
		return err
	}
	c.DatabaseURL = c.databaseURL(crmDB)

	c.step("setting up Temporal's schema")
	for _, s := range []struct{ db, dir string }{{temporalDB, "temporal"}, {visibilityDB, "visibility"}} {
		if err := c.setupSchema(ctx, s.db, filepath.Join(c.cfg.SchemaDir, s.dir, "versioned")); err != nil {
			return err
		}
	}

	c.step("making a CA and the components' certificates in %s", c.certDir())
	if _, err := certs.Make(certs.Options{Dir: c.certDir(), Lifetime: 7 * 24 * time.Hour}); err != nil {
		return err
	}

	// Temporal keeps membership ports in a smallint column: below 32768.
	ports, err := lowFreePorts(10)
	if err != nil {
		return err
	}
	p := serverPorts{
		Frontend: ports[0], FrontendHTTP: ports[1], FrontendMembership: ports[2],
		History: ports[3], HistoryMembership: ports[4],
		Matching: ports[5], MatchingMembership: ports[6],
		Worker: ports[7], WorkerMembership: ports[8],
		Metrics: ports[9],
	}
	cfgFile, err := c.writeServerConfig(temporalDB, visibilityDB, p)
	if err != nil {
		return err
	}
	c.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.Frontend))
	c.step("starting the Temporal server on %s (PostgreSQL persistence and visibility)", c.Address)
	if c.server, err = start("temporal-server", c.dir, c.cfg.ServerBin, []string{"--config-file", cfgFile, "--allow-no-auth", "start"}, nil); err != nil {
		return err
	}
	if err := c.server.waitFor(ctx, 2*time.Minute, c.frontendServing); err != nil {
		return err
	}

	uiPorts, err := freePorts(1)
	if err != nil {
		return err
	}
	uiRoot, err := c.writeUIConfig(uiPorts[0])
	if err != nil {
		return err
	}
	c.UIURL = fmt.Sprintf("http://127.0.0.1:%d", uiPorts[0])
	c.step("starting the Temporal Web UI on %s", c.UIURL)
	if c.ui, err = start("temporal-ui", c.dir, c.cfg.UIServerBin, []string{"--root", uiRoot, "--config", "config", "--env", "production", "start"}, nil); err != nil {
		return err
	}
	if err := c.ui.waitFor(ctx, time.Minute, func(ctx context.Context) error { return probe.HTTP(ctx, c.UIURL+"/healthz") }); err != nil {
		return err
	}

	if err := c.startObjectStore(ctx); err != nil {
		return err
	}

	c.step("registering namespace %s and the search attributes with the Temporal CLI", c.cfg.Namespace)
	return c.registerNamespace(ctx)
}

// PIDs are the Temporal server's and its Web UI's process ids.
func (c *Cluster) PIDs() map[string]int {
	out := map[string]int{}
	for _, p := range []*proc{c.server, c.ui} {
		if p != nil && p.cmd.Process != nil {
			out[p.name] = p.cmd.Process.Pid
		}
	}
	return out
}

// Down stops the processes and drops every database of the run. The work
// folder stays when keep is set (to read the logs of a failed run).
func (c *Cluster) Down(keep bool) {
	c.ui.stop(10 * time.Second)
	c.objects.stop()
	c.server.stop(20 * time.Second)
	if err := c.dropDatabases(); err != nil {
		c.step("dropping the databases failed: %v", err)
	}
	if keep {
		c.step("logs kept in %s", c.dir)
	} else if c.cfg.WorkDir == "" {
		os.RemoveAll(c.dir)
	}
}

func (c *Cluster) databaseURL(db string) string {
	u := *c.admin
	u.Path = "/" + db
	return u.String()
}

func (c *Cluster) createDatabases(ctx context.Context, names ...string) error {
	conn, err := pgx.Connect(ctx, c.admin.String())
	if err != nil {
		return fmt.Errorf("CRM_PROD_POSTGRES_URL: PostgreSQL does not answer: %w", err)
	}
	defer conn.Close(ctx)
	for _, n := range names {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize()); err != nil {
			return fmt.Errorf("creating database %s: %w", n, err)
		}
	}
	return nil
}

// dropDatabases drops the run's databases: its own three and those the
// end-to-end stacks made beside them (all named with the run's prefix,
// which is random, so no other database matches).
func (c *Cluster) dropDatabases() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.admin.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, c.prefix+"_")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping %s: %w", n, err)
		}
	}
	c.step("dropped %d databases named %s_*", len(names), c.prefix)
	return nil
}

// setupSchema runs temporal-sql-tool on db: the base schema, then every
// versioned step in dir.
func (c *Cluster) setupSchema(ctx context.Context, db, dir string) error {
	host, port := c.admin.Hostname(), c.admin.Port()
	if port == "" {
		port = "5432"
	}
	pass, _ := c.admin.User.Password()
	env := []string{"SQL_PLUGIN=postgres12", "SQL_HOST=" + host, "SQL_PORT=" + port,
		"SQL_USER=" + c.admin.User.Username(), "SQL_PASSWORD=" + pass, "SQL_DATABASE=" + db}
	if err := run(ctx, c.cfg.SQLToolBin, []string{"setup-schema", "-v", "0.0"}, env); err != nil {
		return err
	}
	return run(ctx, c.cfg.SQLToolBin, []string{"update-schema", "-d", dir}, env)
}

// certDir holds the run's CA and certificates, in crm-certs' layout.
func (c *Cluster) certDir() string { return filepath.Join(c.dir, "certs") }

// CertDir is where the run's CA and certificates are (crm-certs' layout).
func (c *Cluster) CertDir() string { return c.certDir() }

// temporal is how a client of the run reaches namespace ns: as admin.
func (c *Cluster) temporal(ns string) config.Temporal {
	return config.Temporal{Address: c.Address, Namespace: ns, TLS: certs.Files(c.certDir(), "admin")}
}

// dialTemporal connects to namespace ns over mutual TLS as admin.
func (c *Cluster) dialTemporal(ctx context.Context, ns string) (client.Client, error) {
	return temporalclient.DialQuietly(ctx, c.temporal(ns))
}

func (c *Cluster) frontendServing(ctx context.Context) error {
	cl, err := c.dialTemporal(ctx, "")
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.CheckHealth(ctx, &client.CheckHealthRequest{})
	return err
}

// registerNamespace does what an operator does once per cluster: create
// the namespace and the search attributes, with the CLI. A namespace is
// usable some seconds after it is created, so each step is retried.
func (c *Cluster) registerNamespace(ctx context.Context) error {
	admin := certs.Files(c.certDir(), "admin")
	addr := []string{"--address", c.Address, "--tls-ca-path", admin.CAFile, "--tls-cert-path", admin.CertFile, "--tls-key-path", admin.KeyFile}
	cli := func(ctx context.Context, args ...string) error {
		return run(ctx, c.cfg.CLI, append(args, addr...), nil)
	}
	retry := func(what string, f func(context.Context) error) error {
		deadline := time.Now().Add(time.Minute)
		for {
			err := f(ctx)
			if err == nil || strings.Contains(err.Error(), "already") {
				return nil
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			time.Sleep(time.Second)
		}
	}
	ns := c.cfg.Namespace
	if err := retry("creating namespace "+ns, func(ctx context.Context) error {
		return cli(ctx, "operator", "namespace", "create", "--namespace", ns, "--retention", "72h")
	}); err != nil {
		return err
	}
	attrs := taskflow.SearchAttributes()
	var query []string
	for _, name := range sortedKeys(attrs) {
		typ := strings.TrimPrefix(attrs[name].String(), "IndexedValueType")
		if err := retry("creating search attribute "+name, func(ctx context.Context) error {
			return cli(ctx, "operator", "search-attribute", "create", "--namespace", ns, "--name", name, "--type", typ)
		}); err != nil {
			return err
		}
		query = append(query, name+" IS NULL")
	}
	// Usable once a list filtered by every attribute is answered.
	return retry("listing workflows of "+ns, func(ctx context.Context) error {
		return cli(ctx, "workflow", "list", "--namespace", ns, "--limit", "1", "--query", strings.Join(query, " AND "))
	})
}
