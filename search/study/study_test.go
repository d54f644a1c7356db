package study_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/einspace-go/einspace/grammar"
	"github.com/einspace-go/einspace/search"
	"github.com/einspace-go/einspace/search/study"
	"github.com/einspace-go/einspace/search/study/studytest"
)

var (
	folderOnce sync.Once
	folderDir  string
)

// folder is studytest.Write's folder, written once for the package's tests (they only read it).
func folder(t *testing.T) string {
	t.Helper()
	folderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "einspace-study")
		if err != nil {
			t.Fatal(err)
		}
		studytest.Write(t, dir)
		folderDir = dir
	})
	if folderDir == "" {
		t.Fatal("the test folder could not be written")
	}
	return folderDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if folderDir != "" {
		os.RemoveAll(folderDir)
	}
	os.Exit(code)
}

func read(t *testing.T, dir string) *study.Study {
	t.Helper()
	s, err := study.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReadFinishedDataset(t *testing.T) {
	dir := folder(t)
	s := read(t, dir)
	var names []string
	for _, d := range s.Datasets {
		names = append(names, d.Name)
	}
	if !slices.Equal(names, []string{"addnist", "multnist"}) {
		t.Fatalf("datasets %v", names)
	}
	d := s.Dataset("addnist")
	if d.Classes != 20 || d.Chance() != 5 || !slices.Equal(d.Seeds, []int{0, 1, 2}) {
		t.Errorf("addnist: %d classes, chance %v, seeds %v", d.Classes, d.Chance(), d.Seeds)
	}
	for _, m := range study.RunMethods {
		if got := d.Method(m).Status(); got != "3 of 3 seeds finished" {
			t.Errorf("addnist %s: %q", m, got)
		}
	}
	// Every run against the log read directly.
	var samples []float64
	failed := 0
	for _, mr := range d.Methods {
		for _, r := range mr.Runs {
			records, _, err := search.ReadRecords(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			best, curve, seconds, counted, fails := -1.0, []float64(nil), 0.0, 0, 0
			for _, rec := range records {
				if rec.Failed() {
					fails++
				}
				if rec.Origin.Kind != search.SeedCopy && !rec.Cached {
					seconds += rec.Seconds
				}
				if rec.Counted {
					counted++
					best = max(best, rec.ValAccuracy)
					curve = append(curve, best)
					if mr.Method == study.RandomSearch {
						samples = append(samples, rec.ValAccuracy)
					}
				}
			}
			if mr.Method == study.RandomSearch {
				failed += fails
			}
			if r.Counted != counted || r.Failed != fails || !slices.Equal(r.Curve, curve) || r.SearchSeconds != seconds {
				t.Errorf("%s: counted %d failed %d seconds %v curve %v; want %d %d %v %v", r.Dir, r.Counted, r.Failed, r.SearchSeconds, r.Curve,
					counted, fails, seconds, curve)
			}
			sum, err := search.Summarise(r.Dir)
			if err != nil {
				t.Fatal(err)
			}
			if !r.HasBest || r.Best.Index != sum.Best[0].Index || r.Best.ValAccuracy != best {
				t.Errorf("%s: best record %d (%.2f), want %d (%.2f)", r.Dir, r.Best.Index, r.Best.ValAccuracy, sum.Best[0].Index, best)
			}
			if !r.Finished() || r.Status() != "finished" || r.FinalSeconds <= 0 || r.TestAccuracy() != sum.Final.Result.TestAccuracy {
				t.Errorf("%s: %s, final %v s, test %v", r.Dir, r.Status(), r.FinalSeconds, r.TestAccuracy())
			}
		}
	}
	if d.Sampling.N != 3*studytest.Budget || d.SamplingRuns != 3 || d.SamplingFailed != failed {
		t.Errorf("random sampling: %d samples from %d runs, %d failed; want %d from 3, %d failed", d.Sampling.N, d.SamplingRuns,
			d.SamplingFailed, 3*studytest.Budget, failed)
	}
	near(t, "sampling mean", d.Sampling.Mean, study.Describe(samples).Mean, 1e-9)
	if d.Sampling.Threshold != 10 {
		t.Errorf("threshold %v, want twice chance, 10", d.Sampling.Threshold)
	}
	// The ResNet-18 seed is trained once per search seed (re-rn18 first), and read from the cache by re-mix
	// and rn18, which do not count its cost.
	if ref := d.ResNet18Seed(); ref.N != 3 {
		t.Errorf("ResNet-18 seed trainings: %d distinct, want 3 (one per search seed)", ref.N)
	}
	for _, m := range []study.Method{study.REMix, study.RN18} {
		for _, r := range d.Method(m).Runs {
			if r.CachedSeeds < 1 || !r.SeedTrainings["resnet18"].Cached {
				t.Errorf("%s: the ResNet-18 seed should come from the cache (%d cached)", r.Dir, r.CachedSeeds)
			}
		}
	}
	if r := d.Method(study.RERN18).Run(0); r.CachedSeeds != 0 {
		t.Errorf("re-rn18 seed 0 trained its seed itself, but %d cached", r.CachedSeeds)
	}
	// Progress over seeds: after every counted evaluation the mean and range of the three curves.
	prog := d.Method(study.REScratch).Progress()
	if len(prog) != studytest.Budget {
		t.Fatalf("progress has %d points, want %d", len(prog), studytest.Budget)
	}
	for _, p := range prog {
		var vals []float64
		for _, r := range d.Method(study.REScratch).Runs {
			vals = append(vals, r.Curve[p.Evaluation-1])
		}
		st := study.Describe(vals)
		if p.N != 3 || p.Mean != st.Mean || p.Min != st.Min || p.Max != st.Max {
			t.Errorf("progress at %d: %+v, want mean %v range %v-%v of 3", p.Evaluation, p, st.Mean, st.Min, st.Max)
		}
	}
	// The baseline.
	if v, ok := d.Baseline.ValAccuracy(); !ok || v != 100*studytest.BaselineAccuracy(8) || d.Baseline.Status() != "finished" ||
		d.Baseline.Result.TestAccuracy != v-1 {
		t.Errorf("baseline: %v %v %q", v, ok, d.Baseline.Status())
	}
}

func TestReadUnfinishedDataset(t *testing.T) {
	d := read(t, folder(t)).Dataset("multnist")
	if d.Classes != 10 || !slices.Equal(d.Seeds, []int{0, 1}) {
		t.Errorf("multnist: %d classes, seeds %v", d.Classes, d.Seeds)
	}
	scratch := d.Method(study.REScratch).Run(1)
	for method, want := range map[study.Method]string{
		study.REMix:        "not run",
		study.RandomSearch: "2 of 2 seeds finished",
		study.RN18:         "1 of 2 seeds finished; seed 1: not started",
		study.RERN18:       "0 of 2 seeds finished; seed 0: search done; final training not run yet; seed 1: not started",
		study.REScratch:    "1 of 2 seeds finished; seed 1: search at " + itoa(scratch.Counted) + " of 12 counted evaluations",
	} {
		if got := d.Method(method).Status(); got != want {
			t.Errorf("multnist %s:\n got %q\nwant %q", method, got, want)
		}
	}
	if scratch.Counted >= studytest.Budget || len(scratch.Records) != 7 || scratch.FinalSeconds != 0 {
		t.Errorf("the stopped run: %d counted of %d records, final %v s", scratch.Counted, len(scratch.Records), scratch.FinalSeconds)
	}
	if got := d.Baseline.Status(); got != "training: 3 of 8 epochs done" {
		t.Errorf("baseline: %q", got)
	}
	if _, ok := d.Baseline.ValAccuracy(); ok {
		t.Error("an unfinished baseline has no validation accuracy")
	}
	// The table: a cell per finished seed, none for a method not run.
	row := read(t, folder(t)).Table()[1]
	want := map[study.Method]int{study.RN18: 1, study.RandomSampling: 2 * studytest.Budget, study.RandomSearch: 2, study.REScratch: 1,
		study.RERN18: 0, study.REMix: 0}
	for _, c := range row.Cells {
		if c.Ours.N != want[c.Method] || !c.HasPaper {
			t.Errorf("multnist %s: n = %d, want %d (paper %v)", c.Method, c.Ours.N, want[c.Method], c.HasPaper)
		}
	}
	if got := row.Texts(); got[0] != "MultNIST" || got[5] != "– · paper 96.37" || !strings.HasSuffix(got[4], "(n=1) · paper 93.44") {
		t.Errorf("row texts %q", got)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestClaims(t *testing.T) {
	s := read(t, folder(t))
	byDataset := map[string][]study.Claim{}
	for _, c := range s.Claims() {
		byDataset[c.Dataset] = append(byDataset[c.Dataset], c)
	}
	// AddNIST: three seeds of everything, so every comparison has a verdict and its evidence.
	for _, c := range byDataset["addnist"] {
		if c.Verdict == study.NotMeasured {
			t.Errorf("addnist (%s) %s: not measured: %s", c.ID, c.Test, c.Text)
		}
		if c.Comparison != nil && (!strings.Contains(c.Text, "in "+itoa(c.Comparison.Wins)+" of 3 seeds") || !strings.Contains(c.Text, "95% interval")) {
			t.Errorf("addnist (%s): evidence missing: %s", c.ID, c.Text)
		}
		if !strings.HasPrefix(c.Text, strings.ToUpper(c.Verdict.String()[:1])+c.Verdict.String()[1:]+" on AddNIST") {
			t.Errorf("addnist (%s): text does not open with its verdict %q: %s", c.ID, c.Verdict, c.Text)
		}
	}
	// The within-run comparison: RE(RN18)'s best is never below its seed (copies count with the seed's
	// accuracy), and the claim's numbers are the runs'.
	c := byDataset["addnist"][1]
	for _, p := range c.Comparison.Pairs {
		r := s.Dataset("addnist").Method(study.RERN18).Run(p.Seed)
		if p.A != r.Best.ValAccuracy || p.B != r.SeedTrainings["resnet18"].ValAccuracy || p.A < p.B {
			t.Errorf("seed %d: pair %+v, run best %v seed %v", p.Seed, p, r.Best.ValAccuracy, r.SeedTrainings["resnet18"].ValAccuracy)
		}
	}
	// MultNIST: what is missing is said.
	want := []struct {
		verdict study.Verdict
		text    string
	}{
		{study.NotMeasured, "Not yet measured on MultNIST: no seed has a finished run of both (RE(RN18): 0 of 2 seeds finished; seed 0: search done; final training not run yet; seed 1: not started; RN18: 1 of 2 seeds finished; seed 1: not started)."},
		{study.NotMeasured, "Not yet measured on MultNIST: one seed so far (seed 0: "},
		{study.NotMeasured, "Not yet measured on MultNIST: one seed so far (seed 0: RE(Scratch) "},
		{study.NotMeasured, "Not yet measured on MultNIST: no seed has a finished run of both (RE(RN18): "},
		{study.NotMeasured, "Not yet measured on MultNIST: no seed has a finished run of both (RE(Mix): not run; random search: 2 of 2 seeds finished)."},
	}
	got := byDataset["multnist"]
	if len(got) != len(want)+1 {
		t.Fatalf("multnist: %d claims, want %d", len(got), len(want)+1)
	}
	for i, w := range want {
		if got[i].Verdict != w.verdict || !strings.HasPrefix(got[i].Text, w.text) {
			t.Errorf("multnist claim %d (%s):\n got %s: %s\nwant %s: %s…", i, got[i].Test, got[i].Verdict, got[i].Text, w.verdict, w.text)
		}
	}
	if last := got[len(got)-1]; last.ID != "iii" || last.Verdict == study.NotMeasured || !strings.Contains(last.Text, "the 24 random samples (from 2 random-search runs)") {
		t.Errorf("multnist (iii): %s: %s", last.Verdict, last.Text)
	}
}

// An empty folder is a study of nothing yet: every method not run, every claim not measured.
func TestReadEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "notes"), 0o755); err != nil {
		t.Fatal(err)
	}
	s := read(t, dir)
	if len(s.Datasets) != 2 || len(s.Ignored) != 1 || !strings.Contains(s.Ignored[0], "notes") {
		t.Fatalf("%d datasets, ignored %q", len(s.Datasets), s.Ignored)
	}
	for _, d := range s.Datasets {
		for _, m := range d.Methods {
			if m.Status() != "not run" {
				t.Errorf("%s %s: %q", d.Name, m.Method, m.Status())
			}
		}
		if d.Baseline.Status() != "not run yet" {
			t.Errorf("baseline: %q", d.Baseline.Status())
		}
	}
	for _, c := range s.Claims() {
		if c.Verdict != study.NotMeasured {
			t.Errorf("%s (%s): %s", c.Dataset, c.ID, c.Verdict)
		}
	}
	if got := s.Table()[0].Texts(); !slices.Equal(got, []string{"AddNIST", "– · paper 93.36", "– · paper 10.13", "– · paper 67.00",
		"– · paper 93.82", "– · paper 97.54", "– · paper 97.72"}) {
		t.Errorf("empty row: %q", got)
	}
}

// A hand-written run whose times are known: compute counts trained evaluations (a failed one too) and
// not copies or cached seed trainings; the final training is its End-Start.
func TestCompute(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "addnist", "re-mix", "seed-0")
	cfg := studytest.Config("re-mix", "addnist", 0)
	writeJSON(t, filepath.Join(run, search.ConfigFile), cfg)
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	recs := []search.Record{
		{Origin: search.SeedOrigin("resnet18"), Seconds: 0.01, Cached: true, Result: search.Result{ValAccuracy: 70}},
		{Origin: search.SeedOrigin("vit"), Seconds: 1800, Result: search.Result{ValAccuracy: 40}},
		{Origin: search.CopyOrigin("resnet18"), Seconds: 0.001, Counted: true, Result: search.Result{ValAccuracy: 70}},
		{Origin: search.CopyOrigin("vit"), Seconds: 0.001, Counted: true, Result: search.Result{ValAccuracy: 40}},
		{Origin: search.OriginMutation, Seconds: 900, Counted: true, Result: search.Result{ValAccuracy: 72.5}},
		{Origin: search.OriginMutation, Seconds: 300, Result: search.Result{Failure: "NaN"}},
		{Origin: search.OriginMutation, Seconds: 600, Counted: true, Result: search.Result{ValAccuracy: 71}},
	}
	var lines []byte
	for i, r := range recs {
		r.Index, r.ParentIndex = i, -1
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(run, search.EvaluationsFile), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSON(t, filepath.Join(run, search.FinalFile), search.FinalResult{Start: t0, End: t0.Add(90 * time.Minute),
		Result: search.Result{TestAccuracy: 71.25}})
	r := read(t, dir).Dataset("addnist").Method(study.REMix).Run(0)
	near(t, "search seconds", r.SearchSeconds, 1800+900+300+600, 1e-9)
	near(t, "search hours", study.Hours(r.SearchSeconds), 1, 1e-9)
	near(t, "final seconds", r.FinalSeconds, 5400, 1e-9)
	if r.Counted != 4 || r.Failed != 1 || r.CachedSeeds != 1 || !slices.Equal(r.Curve, []float64{70, 70, 72.5, 72.5}) || r.Best.Index != 4 {
		t.Errorf("counted %d failed %d cached %d curve %v best %d", r.Counted, r.Failed, r.CachedSeeds, r.Curve, r.Best.Index)
	}
	if got := r.Status(); got != "search at 4 of 12 counted evaluations" {
		t.Errorf("status %q", got)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Bad input: the error names the file and, where it can, the line.
func TestReadErrors(t *testing.T) {
	if _, err := study.Read(filepath.Join(t.TempDir(), "nowhere")); err == nil || !strings.Contains(err.Error(), "nowhere does not exist") {
		t.Errorf("missing folder: %v", err)
	}
	good, err := json.MarshalIndent(studytest.Config("random", "addnist", 0), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file, content, want string
	}{
		{"syntax", search.ConfigFile, "{\n  \"strategy\": \"random\",\n  \"budget\": 12,,\n}\n", "config.json:3:16: malformed: invalid character ','"},
		{"unknown field", search.ConfigFile, "{\n  \"strategy\": \"random\",\n  \"budgte\": 12\n}\n", "config.json:3:3: malformed: json: unknown field \"budgte\""},
		{"type", search.ConfigFile, "{\n  \"budget\": \"twelve\"\n}\n", "config.json:2:"},
		{"truncated final", search.FinalFile, "{\n  \"job_id\": \"x\",\n", "final.json:3:1: malformed"},
		{"bad record", search.EvaluationsFile, "{\"index\":0,\"origin\":\"random\",\"counted\":true}\n{\"index\":1,", ""},
		{"bad record line", search.EvaluationsFile, "{\"index\":0,\"origin\":\"random\"}\n{\"index\":1,\"origin\":\"sideways\"}\n", "evaluations.jsonl:2: malformed"},
		{"empty", search.FinalFile, "", "final.json:1:1: empty file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			run := filepath.Join(dir, "addnist", "random", "seed-0")
			if err := os.MkdirAll(run, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(run, search.ConfigFile), good, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(run, c.file), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := study.Read(dir)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("an incomplete last line is an interrupted write, not an error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), filepath.Join(run, c.file)) || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v\nwant it to name %s and say %q", err, filepath.Join(run, c.file), c.want)
			}
		})
	}
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "baseline", "addnist", "train.json"), map[string]any{"epochs": "eight"})
	if _, err := study.Read(dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "baseline", "addnist", "train.json")+":2:") {
		t.Errorf("bad baseline: %v", err)
	}
}

// A comparison with one pair says whether more seeds are coming.
func TestOneSeed(t *testing.T) {
	dir := t.TempDir()
	studytest.Run(t, dir, "random", "multnist", 0)
	studytest.Run(t, dir, "re-scratch", "multnist", 0)
	text := func() string {
		for _, c := range read(t, dir).Dataset("multnist").Claims() {
			if c.ID == "ii" && c.Comparison.A == "RE(Scratch)" {
				return c.Text
			}
		}
		return ""
	}
	if got := text(); !strings.HasPrefix(got, "Not yet measured on MultNIST: one seed only (seed 0: RE(Scratch) ") {
		t.Errorf("everything planned has finished: %s", got)
	}
	studytest.Unfinish(t, studytest.Run(t, dir, "random", "multnist", 1), 3)
	if got := text(); !strings.HasPrefix(got, "Not yet measured on MultNIST: one seed so far (seed 0: RE(Scratch) ") ||
		!strings.HasSuffix(got, "an interval needs a second seed.") {
		t.Errorf("a second seed is on its way: %s", got)
	}
}

// A seeded search whose best architecture is one of its seeds says so, and the claims comparing its final
// numbers say that those seeds' differences are a retraining, not the search.
func TestBestSeed(t *testing.T) {
	s := read(t, folder(t))
	input := grammar.ImShape(3, 28, 28)
	seedOf := map[string]string{}
	for _, name := range grammar.SeedNames() {
		a, err := grammar.SeedArch(name, input)
		if err != nil {
			t.Fatal(err)
		}
		seedOf[a.String()] = name
	}
	kinds := map[bool]int{}
	for _, m := range []study.Method{study.RERN18, study.REMix, study.REScratch} {
		var onSeed []string
		for _, r := range s.Dataset("addnist").Method(m).Runs {
			name, ok := r.BestSeed()
			want, wantOK := seedOf[r.Best.Arch]
			if m == study.REScratch {
				want, wantOK = "", false // no seed was trained, so none can be recognised
			}
			if name != want || ok != wantOK {
				t.Errorf("%s seed %d: BestSeed() = %q, %v; the best is %q", m.Title(), r.Seed, name, ok, r.Best.Arch)
			}
			kinds[ok]++
			if ok {
				onSeed = append(onSeed, itoa(r.Seed))
				rn := s.Dataset("addnist").Method(study.RN18).Run(r.Seed)
				if m == study.RERN18 && rn.TestAccuracy() != r.TestAccuracy() {
					t.Errorf("RE(RN18) seed %d ended on ResNet-18, but its final training (%v) differs from RN18's (%v)", r.Seed, r.TestAccuracy(), rn.TestAccuracy())
				}
			}
		}
		for _, c := range s.Dataset("addnist").Claims() {
			if c.Comparison == nil || c.Comparison.A != m.Title() {
				continue
			}
			var note string
			switch len(onSeed) {
			case 0:
			case 1:
				note = "In seed " + onSeed[0] + " the search's best architecture is its seed ("
			default:
				note = "In seeds " + strings.Join(onSeed, ", ") + " the search's best architecture is its seed ("
			}
			if has := strings.Contains(c.Text, "the search's best architecture is its seed"); has != (note != "") || !strings.Contains(c.Text, note) {
				t.Errorf("%s, %s: want the note %q: %s", m.Title(), c.Test, note, c.Text)
			}
			// What the note says it means: against RN18 the two final trainings are the same job (which the
			// fake evaluator, a function of the job, scores alike); against random search, that the number is the seed's.
			if note != "" && c.ID == "i" && !strings.Contains(c.Text, "the same job") {
				t.Errorf("%s: %s", c.Test, c.Text)
			}
			if note != "" && c.ID == "ii" && !strings.Contains(c.Text, "the seed architecture's, not") {
				t.Errorf("%s: %s", c.Test, c.Text)
			}
		}
	}
	if kinds[true] == 0 || kinds[false] == 0 {
		t.Errorf("the fixture should have searches that ended on a seed and searches that did not: %v", kinds)
	}
}

// A plan (results/PLAN) says which seeds are still to come: a method's missing seeds are the plan's, not
// the other methods', and a method planned but not started says so.
func TestPlan(t *testing.T) {
	dir := t.TempDir()
	studytest.Run(t, dir, "random", "multnist", 0)
	studytest.Run(t, dir, "random", "multnist", 1)
	studytest.Run(t, dir, "re-scratch", "multnist", 0)
	claim := func(s *study.Study) string {
		for _, c := range s.Dataset("multnist").Claims() {
			if c.ID == "ii" && c.Comparison.A == "RE(Scratch)" {
				return c.Text
			}
		}
		return ""
	}
	// Without a plan, RE(Scratch) misses random search's seed 1.
	s := read(t, dir)
	if got := s.Dataset("multnist").Method(study.REScratch).Status(); got != "1 of 2 seeds finished; seed 1: not started" {
		t.Errorf("without a plan: RE(Scratch) %q", got)
	}
	// Random search has a third seed still to come, which RE(Scratch) will never pair with.
	plan := "# the plan\nmultnist/random/seed-0\nmultnist/re-scratch/seed-0\n\nmultnist/random/seed-1\nmultnist/re-mix/seed-0\nbaseline/multnist\n" +
		"  multnist/random/seed-2  \n"
	if err := os.WriteFile(filepath.Join(dir, study.PlanFile), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	s = read(t, dir)
	d := s.Dataset("multnist")
	for m, want := range map[study.Method]string{
		study.REScratch:    "1 of 1 seed finished",
		study.REMix:        "0 of 1 seed finished; seed 0: not started",
		study.RERN18:       "not run",
		study.RandomSearch: "2 of 3 seeds finished; seed 2: not started",
	} {
		if got := d.Method(m).Status(); got != want {
			t.Errorf("with the plan: %s %q, want %q", m.Title(), got, want)
		}
	}
	if got := claim(s); !strings.HasPrefix(got, "Not yet measured on MultNIST: one seed only (seed 0: RE(Scratch) ") {
		t.Errorf("with the plan, everything RE(Scratch) planned has finished: %s", got)
	}
	// Planning a second RE(Scratch) seed makes the one pair "so far".
	if err := os.WriteFile(filepath.Join(dir, study.PlanFile), []byte(plan+"multnist/re-scratch/seed-1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := claim(read(t, dir)); !strings.HasPrefix(got, "Not yet measured on MultNIST: one seed so far (seed 0: RE(Scratch) ") {
		t.Errorf("a second seed is planned: %s", got)
	}
	if got := read(t, dir).Plan.Baselines; !slices.Equal(got, []string{"multnist"}) {
		t.Errorf("planned baselines %v", got)
	}
}

// A plan's bad line is an error that names the file and the line, and what a job looks like.
func TestPlanErrors(t *testing.T) {
	for line, want := range map[string]string{
		"addnist/re-rn18":          "a job is DATASET/METHOD/seed-N or baseline/DATASET",
		"addnsit/random/seed-1":    `no dataset "addnsit" (Table 1's: addnist, chesseract, cifartile, geoclassing, gutenberg, isabella, language, multnist)`,
		"baseline/random":          `no dataset "random" (Table 1's: addnist, chesseract, cifartile, geoclassing, gutenberg, isabella, language, multnist)`,
		"addnist/evolution/seed-0": `no method "evolution" (the methods: rn18, random, re-scratch, re-rn18, re-mix)`,
		"addnist/random/seed-x":    `"seed-x" is not seed-N`,
		"addnist/random/seed-0":    "planned twice",
		"baseline/addnist":         "planned twice",
	} {
		dir := t.TempDir()
		plan := "addnist/random/seed-0\nbaseline/addnist\n" + line + "\n"
		path := filepath.Join(dir, study.PlanFile)
		if err := os.WriteFile(path, []byte(plan), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := study.Read(dir)
		if err == nil || !strings.Contains(err.Error(), path+":3: ") || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%q: %v, want %s:3: … %s", line, err, path, want)
		}
	}
}
