package bench

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rssKiB reads a process's resident set size.
func rssKiB(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// IdleMemory waits for the stack to settle, then prints each component's
// resident memory and the total (goal P5: ≤ 400 MB, Temporal included).
func IdleMemory(out io.Writer, pids map[string]int, settle time.Duration) (totalMiB float64, err error) {
	time.Sleep(settle)
	total := 0
	fmt.Fprintf(out, "resident memory after %s idle:\n", settle)
	for _, name := range slices.Sorted(maps.Keys(pids)) {
		kib, err := rssKiB(pids[name])
		if err != nil {
			return 0, err
		}
		total += kib
		fmt.Fprintf(out, "  %-10s %7.1f MiB\n", name, float64(kib)/1024)
	}
	totalMiB = float64(total) / 1024
	fmt.Fprintf(out, "  %-10s %7.1f MiB   (P5: ≤ 400 MB)\n", "total", totalMiB)
	return totalMiB, nil
}
