// Command trainstep measures the training throughput of a paper seed (or of any architecture, --arch) on
// the Go backend, the Go side of bench/train_vs_torch.sh: steps of SGD (the paper's protocol) on one batch
// of random AddNIST-shaped images (3×28×28, 20 classes), after warm-up steps that include compiling the
// graph. It prints one JSON line, the same fields as bench/torch_einspace.py: images/s, seconds per step,
// trainable parameters and the peak resident set size (VmHWM of /proc/self/status), plus the minor page
// faults and the CPU seconds (user and system) per timed step. --cpuprofile writes a pprof CPU profile. --traffic adds
// what the step's graph writes to memory: the bytes its operations' outputs hold, per image, by kind of
// operation (counted in the first warm-up step's graph, models.Model.TrainStepTraffic).
//
//	go run ./bench/trainstep --seed resnet18 --steps 3
//	go run ./bench/trainstep --arch "$(go run ./cmd/einspace sample --seed 7)" --cpuprofile /tmp/cpu.prof
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/models"
)

func main() {
	seed := flag.String("seed", grammar.ResNet18, "paper seed: resnet18, wrn16_4, vit, mlp_mixer")
	archText := flag.String("arch", "", "an architecture in the text format to measure instead of a seed")
	batch := flag.Int("batch", 256, "batch size")
	classes := flag.Int("classes", 20, "classes")
	steps := flag.Int("steps", 3, "timed steps")
	warmup := flag.Int("warmup", 1, "untimed steps first (the first compiles the graph)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the timed steps to this file")
	traffic := flag.Bool("traffic", false, "add the bytes the step's operations write per image, by kind (needs --warmup ≥ 1)")
	flag.Parse()
	if *traffic && *warmup < 1 {
		fmt.Fprintln(os.Stderr, "trainstep: --traffic counts the first warm-up step's graph: give --warmup 1 or more")
		os.Exit(2)
	}
	if err := run(*seed, *archText, *batch, *classes, *steps, *warmup, *cpuProfile, *traffic); err != nil {
		fmt.Fprintln(os.Stderr, "trainstep:", err)
		os.Exit(1)
	}
}

// startProfile starts a CPU profile written to path; the returned function stops it.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func run(seed, archText string, batch, classes, steps, warmup int, cpuProfile string, traffic bool) error {
	input := grammar.ImShape(3, 28, 28)
	arch, err := grammar.SeedArch(seed, input)
	if archText != "" {
		seed = "custom"
		arch, err = grammar.ParseArch(archText, input)
	}
	if err != nil {
		return err
	}
	net, err := models.Compile(arch, classes)
	if err != nil {
		return err
	}
	m, err := models.New(net, 1)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(1, 2))
	images := make([]float32, batch*int(input.Size()))
	for i := range images {
		images[i] = float32(r.NormFloat64())
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(r.IntN(classes))
	}
	var start time.Time
	var loss float64
	var losses []float64 // every step's, warm-up included: the loss curve on this fixed batch
	var faults0 int64
	var cpu0 float64
	var ops []models.OpTraffic
	for step := range warmup + steps {
		if step == 0 && traffic {
			if ops, err = m.TrainStepTraffic(images, labels); err != nil {
				return err
			}
			continue
		}
		if step == warmup {
			if cpuProfile != "" { // the timed steps only: not the graph's compilation
				stop, err := startProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			start = time.Now()
			faults0 = minorFaults()
			cpu0 = cpuSeconds()
		}
		if loss, _, err = m.TrainStep(images, labels); err != nil {
			return err
		}
		losses = append(losses, round(loss, 6))
	}
	perStep := time.Since(start).Seconds() / float64(steps)
	faultsPerStep := (minorFaults() - faults0) / int64(steps)
	cpuPerStep := (cpuSeconds() - cpu0) / float64(steps)
	out := map[string]any{
		"framework":         "gomlx go backend",
		"seed":              seed,
		"params":            m.TrainableParams(),
		"seconds_per_step":  round(perStep, 4),
		"cpu_seconds_step":  round(cpuPerStep, 4),
		"images_per_second": round(float64(batch)/perStep, 1),
		"peak_rss_mb":       round(float64(peakRSSKiB())/1024, 1),
		"loss":              round(loss, 4),
		"losses":            losses,
		"page_faults_step":  faultsPerStep,
		"backend_module":    backendModule(),
	}
	if traffic {
		var total int64
		perOp := map[string]float64{}
		for _, t := range ops {
			total += t.Bytes
			perOp[t.Op] = round(float64(t.Bytes)/float64(batch)/1e6, 3)
		}
		out["written_mb_per_image"] = round(float64(total)/float64(batch)/1e6, 2)
		out["written_mb_per_image_by_op"] = perOp
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// backendModule says which build of the GoMLX backend this program has: the module version, or "patched"
// when it was built in the workspace of scripts/setup-backend.sh, whose copy of the module has no version.
func backendModule() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == "github.com/gomlx/compute" {
			if d.Version == "(devel)" {
				return d.Path + " patched (scripts/setup-backend.sh)"
			}
			return d.Path + " " + d.Version
		}
	}
	return "unknown"
}

func round(x float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', digits, 64), 64)
	return v
}

// minorFaults is the process's count of minor page faults so far (memory touched for the first time
// since the kernel handed it out).
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Minflt
}

// cpuSeconds is the process's CPU time so far, user and system: per step, beside the wall time, it says
// how busy the cores were, and it is what to compare when other work shares the machine.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// peakRSSKiB is VmHWM from /proc/self/status, in KiB (0 if unavailable).
func peakRSSKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
