package drill

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/telecomcrm/crm/deploy/stacktest"
)

// DefaultPostgresBin is where Debian keeps PostgreSQL 15's programs.
const DefaultPostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a throwaway PostgreSQL cluster the drill starts, restarts
// and removes itself: its own folder, its own loopback port, trust
// authentication. It never touches another cluster on the machine.
type Postgres struct {
	bin  string
	dir  string
	data string
	port int
	// asUser runs the cluster's programs as the postgres OS user when the
	// drill runs as root (PostgreSQL refuses to run as root).
	asUser string
}

// StartPostgres makes a cluster in a new temporary folder with initdb and
// starts it with pg_ctl on a free port.
func StartPostgres(ctx context.Context, bin string) (*Postgres, error) {
	if bin == "" {
		bin = DefaultPostgresBin
	}
	if _, err := os.Stat(filepath.Join(bin, "pg_ctl")); err != nil {
		return nil, fmt.Errorf("no PostgreSQL programs in %s (set -postgres-bin): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "crm-drill-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{bin: bin, dir: dir, data: filepath.Join(dir, "data")}
	if os.Geteuid() == 0 {
		u, err := osuser.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root, the cluster needs the postgres OS user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p.asUser = "postgres"
	}
	if err := p.run(ctx, "initdb", "-D", p.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if p.port, err = stacktest.Port(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	// The options are kept in postmaster.opts, so pg_ctl restart reuses
	// them. fsync is off: the drill restarts the cluster cleanly (-m fast),
	// never the machine.
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c max_connections=400 -c fsync=off -c shared_buffers=128MB", p.port, p.dir)
	if err := p.run(ctx, "pg_ctl", "-D", p.data, "-l", filepath.Join(p.dir, "postgres.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.createDatabase(ctx, "crm"); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

// URL is the drill database's address (CRM_DATABASE_URL).
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/crm?sslmode=disable", p.port)
}

// Port is the cluster's port.
func (p *Postgres) Port() int { return p.port }

// Restart stops the cluster (fast: open sessions are ended) and starts it
// again, as an operator's restart would.
func (p *Postgres) Restart(ctx context.Context) error {
	// -l: the server must not inherit pg_ctl's output, which run waits on.
	return p.run(ctx, "pg_ctl", "-D", p.data, "-l", filepath.Join(p.dir, "postgres.log"), "-m", "fast", "-w", "-t", "60", "restart")
}

// Stop stops the cluster and removes its folder.
func (p *Postgres) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = p.run(ctx, "pg_ctl", "-D", p.data, "-m", "fast", "-w", "stop")
	os.RemoveAll(p.dir)
}

func (p *Postgres) run(ctx context.Context, prog string, args ...string) error {
	path := filepath.Join(p.bin, prog)
	var cmd *exec.Cmd
	if p.asUser != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return nil
}

func (p *Postgres) createDatabase(ctx context.Context, name string) error {
	url := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connecting to the drill's cluster: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) && pgErr.SQLState() == "42P04" {
		return nil
	}
	return err
}
