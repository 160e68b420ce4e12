package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/telecomcrm/crm/services/platform/config"
	"github.com/telecomcrm/crm/services/platform/temporalclient"
	"github.com/telecomcrm/crm/workflows/taskflow"
)

// transferPollRPS lifts the dev server's default of 20 polls per second and
// shard, which alone adds ~100 ms to every activity a workflow schedules.
const transferPollRPS = 1000

// startTemporal runs the Temporal CLI's dev server with its Web UI,
// persisting to SQLite in the data folder, with the product's search
// attributes registered.
func (s *Stack) startTemporal(ctx context.Context, logDir string, out io.Writer) (*child, error) {
	if s.cfg.TemporalBin == "" {
		return nil, errors.New("CRM_TEMPORAL_BIN is unset: say where the Temporal CLI is, or set TEMPORAL_ADDRESS to use an existing cluster")
	}
	for setting, port := range map[string]int{"CRM_TEMPORAL_PORT": s.cfg.TemporalPort, "CRM_TEMPORAL_UI_PORT": s.cfg.TemporalUIPort} {
		if err := portFree(setting, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err != nil {
			return nil, err
		}
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(s.cfg.TemporalPort),
		"--ui-port", strconv.Itoa(s.cfg.TemporalUIPort),
		"--db-filename", filepath.Join(s.cfg.DataDir, "temporal.db"),
		"--namespace", s.cfg.Temporal.Namespace,
		"--log-level", "error",
		// As the services' own SQLite files: a write-ahead log synced at
		// checkpoints, not a rollback journal synced at every commit. A
		// process killed mid-write loses nothing committed; only a power
		// cut may lose the last commits, and leaves the file consistent.
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=normal",
		"--dynamic-config-value", "history.transferProcessorMaxPollRPS=" + strconv.Itoa(transferPollRPS),
		// Task priority (workflows/queueorder): people's work first.
		"--dynamic-config-value", "matching.useNewMatcher=true",
	}
	args = append(args, taskflow.SearchAttributeFlags()...)
	c := &child{name: "temporal", path: s.cfg.TemporalBin, args: args, env: nil, logDir: logDir, out: out}
	if err := c.start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx, 60*time.Second, func(ctx context.Context) error { return namespaceReady(ctx, s.cfg.Common) }); err != nil {
		c.stop(5 * time.Second)
		return nil, fmt.Errorf("the Temporal dev server did not start: %w", err)
	}
	return c, nil
}

func namespaceReady(ctx context.Context, c config.Common) error {
	cl, err := temporalclient.DialQuietly(ctx, c.Temporal)
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: c.Temporal.Namespace})
	return err
}

// workerPolling is the worker's readiness: it polls the task queue. With
// pid set, the poller must be that process (Temporal remembers a killed
// worker's poller for minutes).
func workerPolling(ctx context.Context, c config.Common, pid int) error {
	cl, err := temporalclient.DialQuietly(ctx, c.Temporal)
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := cl.DescribeTaskQueue(ctx, c.Temporal.TaskQueue, enums.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return err
	}
	if len(resp.GetPollers()) == 0 {
		return fmt.Errorf("no worker polls %s yet", c.Temporal.TaskQueue)
	}
	if pid == 0 {
		return nil
	}
	// The SDK names a poller "<pid>@<host>@…".
	prefix := strconv.Itoa(pid) + "@"
	for _, p := range resp.GetPollers() {
		if strings.HasPrefix(p.GetIdentity(), prefix) {
			return nil
		}
	}
	return fmt.Errorf("worker %d does not poll %s yet", pid, c.Temporal.TaskQueue)
}

// DialTemporal connects to the stack's namespace as its checks do.
func (s *Stack) DialTemporal(ctx context.Context) (client.Client, error) {
	return temporalclient.DialQuietly(ctx, s.cfg.Temporal)
}
