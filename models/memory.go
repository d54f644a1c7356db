package models

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Memory model of the pure-Go backend, calibrated on the four seeds' train steps at batch 256 and
// 3×28×28 (bench/trainstep's peak RSS against the analytic sizes below; docs/BENCHMARKS.md, "Memory
// preflight"): peak RSS ≈ memoryBase + memoryOverhead × (batch × activations per example + 4 copies of
// the weights).
const (
	// memoryOverhead scales the analytic bytes to the peak RSS. The grammar counts every terminal's
	// output, views and identities included, so the measured ratio is below 1: 0.58 (ResNet-18), 0.36
	// (WRN-16-4), 0.32 (ViT), 0.51 (MLP-Mixer). The largest, with a margin of a quarter.
	memoryOverhead = 0.75
	// memoryBase is the process without the network: the Go runtime, the backend and the program.
	memoryBase = 96 << 20
)

// MemoryNeed estimates the bytes a step of batch examples needs: training (train) or evaluation. It is
// analytic (the grammar's activation memory and parameter count, times the backend's measured overhead),
// so it is known before anything is built; it errs on the high side for evaluation.
func (n *Network) MemoryNeed(batch int, train bool) int64 {
	stats := n.Arch.Stats()
	perExample := 4*n.Arch.Input.Size() + stats.ActivationBytes + 4*int64(n.Classes)
	copies := int64(1) // the weights
	if train {
		copies = 4 // weights, gradients, momentum, and the update's temporaries
	}
	analytic := int64(batch)*perExample + copies*4*n.Params()
	return memoryBase + int64(memoryOverhead*float64(analytic))
}

// MemoryError is the refusal to build or run a network whose estimated memory need exceeds the memory
// available to the process.
type MemoryError struct {
	What       string // "train", "evaluate"
	Batch      int
	Need       int64 // Network.MemoryNeed
	PerExample int64 // the grammar's activation bytes of one example
	Available  int64
	Source     string // where Available comes from
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("not enough memory to %s a batch of %d: the network needs about %s (%s of activations per example, "+
		"times the backend's overhead), and %s is available (%s); use a smaller batch or input, or a smaller architecture",
		e.What, e.Batch, bytesText(e.Need), bytesText(e.PerExample), bytesText(e.Available), e.Source)
}

// CheckMemory returns a *MemoryError when a step of batch examples needs more memory than is available
// now, and nil otherwise (also when the available memory cannot be read).
func (n *Network) CheckMemory(batch int, train bool) error {
	need := n.MemoryNeed(batch, train)
	avail, source, ok := AvailableMemory()
	if !ok || need <= avail {
		return nil
	}
	what := "evaluate"
	if train {
		what = "train"
	}
	return &MemoryError{What: what, Batch: batch, Need: need, PerExample: n.Arch.Stats().ActivationBytes,
		Available: avail, Source: source}
}

// AvailableMemory returns the memory this process can still allocate: the smaller of the kernel's
// MemAvailable and the room left under the process's cgroup (v2) limit, and which of the two it is.
func AvailableMemory() (bytes int64, source string, ok bool) {
	if v, found := meminfo("MemAvailable"); found {
		bytes, source, ok = v, "MemAvailable in /proc/meminfo", true
	}
	if limit, used, found := cgroupRoom(); found && (!ok || limit-used < bytes) {
		bytes, source, ok = limit-used, fmt.Sprintf("cgroup limit %s, %s in use", bytesText(limit), bytesText(used)), true
	}
	return bytes, source, ok
}

func meminfo(key string) (int64, bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, _ := strings.Cut(sc.Text(), ":")
		if name != key {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return 0, false
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		return kb << 10, err == nil
	}
	return 0, false
}

// cgroupRoom reads the process's cgroup v2 memory limit and usage; found is false without a limit.
func cgroupRoom() (limit, used int64, found bool) {
	raw, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		path, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		dir := filepath.Join("/sys/fs/cgroup", path)
		l, err1 := readInt(filepath.Join(dir, "memory.max"))
		u, err2 := readInt(filepath.Join(dir, "memory.current"))
		if err1 != nil || err2 != nil {
			return 0, 0, false
		}
		return l, u, true
	}
	return 0, 0, false
}

func readInt(path string) (int64, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64) // "max" fails: no limit
}

// bytesText prints a byte count in binary units: 1.5 GiB.
func bytesText(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", b)
	}
	v, i := float64(b), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}
