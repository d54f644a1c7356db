package study

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PlanFile is the reproduction's plan in a results folder: the jobs it is to run, one per line, in the
// order they run ("addnist/re-rn18/seed-1", "baseline/multnist"); blank lines and lines starting with #
// are skipped. scripts/reproduction.sh runs it; Read uses it to tell a seed still to come from one never
// planned.
const PlanFile = "PLAN"

// Plan is a results folder's plan: the search seeds planned for each dataset and method, and the
// datasets whose baseline is planned.
type Plan struct {
	Seeds     map[string]map[Method][]int // dataset → method → seed numbers, in the plan's order
	Baselines []string
}

// readPlan reads dir/PLAN; a folder without one has no plan (nil, nil).
func readPlan(dir string) (*Plan, error) {
	path := filepath.Join(dir, PlanFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	p := &Plan{Seeds: map[string]map[Method][]int{}}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		job := strings.TrimSpace(sc.Text())
		if job == "" || strings.HasPrefix(job, "#") {
			continue
		}
		if err := p.add(job); err != nil {
			return nil, fmt.Errorf("%s:%d: %q: %w", path, line, job, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

// add adds one job of the plan.
func (p *Plan) add(job string) error {
	parts := strings.Split(job, "/")
	if len(parts) == 2 && parts[0] == BaselineDir {
		if err := checkDataset(parts[1]); err != nil {
			return err
		}
		if slices.Contains(p.Baselines, parts[1]) {
			return errors.New("planned twice")
		}
		p.Baselines = append(p.Baselines, parts[1])
		return nil
	}
	if len(parts) != 3 {
		return errors.New("a job is DATASET/METHOD/seed-N or baseline/DATASET")
	}
	if err := checkDataset(parts[0]); err != nil {
		return err
	}
	m := Method(parts[1])
	if !slices.Contains(RunMethods, m) {
		return fmt.Errorf("no method %q (the methods: %s)", parts[1], methodList())
	}
	n, ok := seedNumber(parts[2])
	if !ok {
		return fmt.Errorf("%q is not seed-N", parts[2])
	}
	if p.Seeds[parts[0]] == nil {
		p.Seeds[parts[0]] = map[Method][]int{}
	}
	if slices.Contains(p.Seeds[parts[0]][m], n) {
		return errors.New("planned twice")
	}
	p.Seeds[parts[0]][m] = append(p.Seeds[parts[0]][m], n)
	return nil
}

// datasets are the datasets the plan has searches for, sorted (none for a nil plan).
func (p *Plan) datasets() []string {
	if p == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(p.Seeds))
}

// checkDataset accepts the datasets of the paper's Table 1 (Paper).
func checkDataset(name string) error {
	if _, ok := Paper[name]; !ok {
		return fmt.Errorf("no dataset %q (Table 1's: %s)", name, strings.Join(slices.Sorted(maps.Keys(Paper)), ", "))
	}
	return nil
}
