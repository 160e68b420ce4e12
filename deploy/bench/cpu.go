package bench

import (
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/telecomcrm/crm/deploy/localstack"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTicks = 100

// cpuSeconds reads the user and system CPU a process has used.
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// the command name may hold spaces: fields start after its ')'
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / clockTicks, nil
}

// cpuMeter tells how the stack's processes shared the CPU over a span:
// where the time of a run went, process by process.
type cpuMeter struct {
	pids  map[string]int
	start map[string]float64
	at    time.Time
}

func startCPU(stack *localstack.Stack) *cpuMeter {
	m := &cpuMeter{pids: stack.PIDs(), start: map[string]float64{}, at: time.Now()}
	for name, pid := range m.pids {
		m.start[name], _ = cpuSeconds(pid)
	}
	m.start["(load clients)"], _ = cpuSeconds(os.Getpid())
	return m
}

// cpuUse is how many cores each process used over a span.
type cpuUse struct {
	what  string
	wall  float64
	cores map[string]float64
}

// stop ends the span.
func (m *cpuMeter) stop(what string) cpuUse {
	u := cpuUse{what: what, wall: time.Since(m.at).Seconds(), cores: map[string]float64{}}
	for name, pid := range m.pids {
		if now, err := cpuSeconds(pid); err == nil {
			u.cores[name] = (now - m.start[name]) / u.wall
		}
	}
	self, _ := cpuSeconds(os.Getpid())
	u.cores["(load clients)"] = (self - m.start["(load clients)"]) / u.wall
	return u
}

// print lists the processes busiest first (1.0 = one core busy all along).
func (u cpuUse) print(out io.Writer) {
	fmt.Fprintf(out, "CPU by process during %s (%.0f s; cores used):\n", u.what, u.wall)
	total := 0.0
	for _, name := range slices.SortedFunc(maps.Keys(u.cores), func(a, b string) int { return int((u.cores[b] - u.cores[a]) * 1e6) }) {
		total += u.cores[name]
		fmt.Fprintf(out, "  %-16s %5.2f\n", name, u.cores[name])
	}
	fmt.Fprintf(out, "  %-16s %5.2f of %d\n", "total", total, numCPU())
}

func numCPU() int { return runtime.NumCPU() }
