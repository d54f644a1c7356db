package kernel_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/kernel"
	"github.com/einspace-go/einspace/search"
)

// fakeEvaluator scores an architecture by its text's hash (some fail), quickly and deterministically.
func fakeEvaluator(seedText string) search.EvaluatorFunc {
	return func(ctx context.Context, job search.Job) (search.Result, error) {
		h := sha256.Sum256([]byte(job.Arch))
		v := binary.BigEndian.Uint64(h[:8])
		if job.Arch != seedText && v%7 == 3 {
			return search.Result{Failure: "fake failure"}, nil
		}
		time.Sleep(time.Millisecond) // let the evaluations in flight overlap
		acc := 40 + float64(v%5000)/100
		return search.Result{ValAccuracy: acc, TrainLoss: 1 / acc, TestAccuracy: acc - 1}, nil
	}
}

func tinySearch(t *testing.T, dir string, listener search.Listener) *search.History {
	t.Helper()
	cfg := search.DefaultConfig()
	cfg.Seeds, cfg.Population, cfg.Tournament, cfg.Budget, cfg.InFlight = search.SeedsRN18, 4, 2, 20, 4
	cfg.Seed, cfg.Train, cfg.FinalEpochs, cfg.Data = 3, search.Budget{Epochs: 1}, 1, search.DataSpec{Name: "fake"}
	input, _ := cfg.InputShape()
	rn, err := grammar.SeedArch(grammar.ResNet18, input)
	if err != nil {
		t.Fatal(err)
	}
	h, err := search.Run(t.Context(), dir, cfg, fakeEvaluator(rn.String()), search.Options{Listener: listener, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSearchDashboardOutsideNotebook(t *testing.T) {
	_, out := outside(t)
	d := kernel.NewSearchDashboard("tiny search", 0)
	d.Interval = time.Hour // redraw on the first record and on new bests only

	// a reader polls the dashboard while the search feeds it (the race detector checks the locking)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = d.Records()
				_ = d.Err()
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	start := time.Now()
	h := tinySearch(t, t.TempDir(), d.Listener())
	close(stop)
	wg.Wait()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("search of %d records with the dashboard: %v", len(h.Records), time.Since(start))
	if err := d.Close(); err != nil { // a second Close does nothing
		t.Fatal(err)
	}
	d.Listener()(search.Event{Kind: search.EvaluationFinished}) // ignored after Close
	if got := len(d.Records()); got != len(h.Records) {
		t.Errorf("the dashboard saw %d records, the search made %d", got, len(h.Records))
	}

	text := out.String()
	best, _ := h.Best()
	lines := strings.Count(text, "tiny search [")
	bests := 0
	for i, r := range h.Records {
		if b, ok := bestUpTo(h.Records[:i+1]); ok && b.Index == r.Index {
			bests++
		}
	}
	// one line for the first record, one per new best (unless it is the first record), one for Close
	if lines < bests || lines > bests+2 {
		t.Errorf("%d progress lines for %d new bests:\n%s", lines, bests, text)
	}
	if !strings.Contains(text, "tiny search [====================] 20/20") {
		t.Errorf("no final progress line:\n%s", text)
	}
	if !strings.Contains(text, best.Arch) {
		t.Error("Close did not print the best architecture whole")
	}
	m := wrote.FindStringSubmatch(text)
	if m == nil || !strings.Contains(m[1], "tiny-search") {
		t.Fatalf("Close wrote no page named after the dashboard:\n%s", text)
	}
	page, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"search progress", "population: accuracy vs parameters", "resnet18 lineage"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the final page lacks %q", want)
		}
	}
}

func bestUpTo(records []search.Record) (search.Record, bool) {
	h := search.History{Records: records}
	return h.Best()
}

func TestDisplaySearchHistoryAndSummary(t *testing.T) {
	_, out := outside(t)
	dir := t.TempDir()
	h := tinySearch(t, dir, nil)
	if err := kernel.Display(h); err != nil {
		t.Fatal(err)
	}
	sum, err := search.Summarise(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.Display(sum); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if n := len(wrote.FindAllString(text, -1)); n != 2 {
		t.Errorf("%d pages written, want 2:\n%s", n, text)
	}
	for _, want := range []string{"evaluations  ", "20/20 counted", "best val accuracy", "best architectures", "rank  record"} {
		if !strings.Contains(text, want) {
			t.Errorf("the text lacks %q:\n%s", want, text)
		}
	}
	if err := kernel.Display((*search.History)(nil)); err == nil {
		t.Error("a nil history was displayed")
	}
}
