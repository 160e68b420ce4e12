package localstack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// child is one process of the stack. Its output goes to its log file and,
// prefixed with its name, to the stack's output.
type child struct {
	name string
	path string
	args []string
	env  []string

	logDir string
	out    io.Writer

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	tail    []string // the last lines it printed, to explain a failed start
	started time.Time
	ended   time.Time
}

// stableRun is how long a component must have run for its restart not to
// wait longer than the first.
const stableRun = 10 * time.Second

func (c *child) start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	logFile, err := os.OpenFile(c.logDir+"/"+c.name+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.path, c.args...)
	cmd.Env = c.env
	// Its own process group: a Ctrl-C in the terminal reaches the stack,
	// which stops the children in order; if the stack dies, they are told.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("starting %s (%s): %w", c.name, c.path, err)
	}
	c.cmd, c.exited, c.tail, c.started, c.ended = cmd, make(chan struct{}), nil, time.Now(), time.Time{}
	go c.copyOutput(pr, logFile)
	go func(exited chan struct{}) {
		err := cmd.Wait()
		pw.Close()
		c.mu.Lock()
		c.err, c.ended = err, time.Now()
		c.mu.Unlock()
		close(exited)
	}(c.exited)
	return nil
}

func (c *child) copyOutput(r io.Reader, logFile *os.File) {
	defer logFile.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(logFile, line)
		if c.out != nil {
			fmt.Fprintf(c.out, "%-9s| %s\n", c.name, line)
		}
		c.mu.Lock()
		c.tail = append(c.tail, line)
		if len(c.tail) > 5 {
			c.tail = c.tail[1:]
		}
		c.mu.Unlock()
	}
}

// done is closed when the current process exits.
func (c *child) done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exited
}

// running tells whether the current process has started and not ended.
func (c *child) running() bool {
	c.mu.Lock()
	exited := c.exited
	c.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// pid is the current process's id (0 before the first start).
func (c *child) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// ranFor is how long the last process ran before it ended.
func (c *child) ranFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended.IsZero() {
		return 0
	}
	return c.ended.Sub(c.started)
}

// lastWords is what the process printed last, for an error message.
func (c *child) lastWords() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tail) == 0 {
		return fmt.Sprintf("%s exited: %v", c.name, c.err)
	}
	return c.tail[len(c.tail)-1]
}

// stop asks the process to end (SIGTERM) and kills it after grace.
func (c *child) stop(grace time.Duration) {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-exited:
		return
	default:
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// kill ends the process at once (SIGKILL), as a crash would.
func (c *child) kill() {
	c.mu.Lock()
	cmd, exited := c.cmd, c.exited
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// waitReady polls ready until it succeeds, the process exits, or the
// timeout passes.
func (c *child) waitReady(ctx context.Context, timeout time.Duration, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	exited := c.done()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		last = ready(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New(c.lastWords())
		case <-ctx.Done():
			return fmt.Errorf("%s did not become ready within %s: %v", c.name, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
