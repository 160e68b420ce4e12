package bench

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
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
	// postgres are PostgreSQL's processes on this machine (the server
	// the services, and Temporal on the production topology, write to).
	postgres map[int]float64
	machine  float64
	at       time.Time
}

func startCPU(pids map[string]int) *cpuMeter {
	m := &cpuMeter{pids: pids, start: map[string]float64{}, postgres: postgresCPU(), machine: machineBusy(), at: time.Now()}
	for name, pid := range m.pids {
		m.start[name], _ = cpuSeconds(pid)
	}
	m.start["(load clients)"], _ = cpuSeconds(os.Getpid())
	return m
}

// cpuUse is how many cores each process used over a span.
type cpuUse struct {
	what    string
	wall    float64
	cores   map[string]float64
	machine float64
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
	// a backend that ended during the span is not counted; one that began
	// in it counts from its start
	pg := 0.0
	for pid, now := range postgresCPU() {
		pg += now - m.postgres[pid]
	}
	if pg > 0 {
		u.cores["(postgresql)"] = pg / u.wall
	}
	u.machine = (machineBusy() - m.machine) / u.wall
	return u
}

// postgresCPU is the CPU seconds of each PostgreSQL process now.
func postgresCPU() map[int]float64 {
	out := map[int]float64{}
	comms, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, path := range comms {
		comm, err := os.ReadFile(path)
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
		if secs, err := cpuSeconds(pid); err == nil {
			out[pid] = secs
		}
	}
	return out
}

// machineBusy is the CPU seconds the whole machine has been busy (not idle
// nor waiting on the disk), all cores together.
func machineBusy() float64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	var busy float64
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / clockTicks
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
	if u.machine > 0 {
		fmt.Fprintf(out, "  %-16s %5.2f (every process on it)\n", "the machine", u.machine)
	}
}

func numCPU() int { return runtime.NumCPU() }
