package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The files of a run directory.
const (
	ConfigFile      = "config.json"
	EvaluationsFile = "evaluations.jsonl"
	FinalFile       = "final.json"
)

// Record is one finished evaluation, one line of evaluations.jsonl. Index is the line's position (from
// 0) and the evaluation's submission order.
type Record struct {
	Index  int    `json:"index"`
	JobID  string `json:"job_id"`
	Origin Origin `json:"origin"` // "random", "mutation", "crossover", "seed:NAME" (its training), "copy:NAME"
	Arch   string `json:"arch"`   // canonical text; empty when no architecture could be generated
	Hash   string `json:"hash"`
	// ParentIndex is the record a child was mutated (or crossed over) from, or that a copy copies; -1 for
	// none.
	ParentIndex int    `json:"parent_index"`
	ParentHash  string `json:"parent_hash,omitempty"`
	// MateIndex and MateHash are a crossover child's second parent, the donor of the subtree it carries.
	// Only a crossover child has them (MateHash is empty otherwise, and MateIndex 0).
	MateIndex int    `json:"mate_index,omitempty"`
	MateHash  string `json:"mate_hash,omitempty"`
	// Counted says whether the record counts toward the budget and, for RE/RM, entered the population
	// (RM children count but never enter).
	Counted    bool      `json:"counted"`
	SearchSeed uint64    `json:"search_seed"` // the run's seed; the decisions used PCG(SearchSeed, Index)
	TrainSeed  uint64    `json:"train_seed"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	Seconds    float64   `json:"seconds"` // End-Start, as seen by the search
	// Cached says that a seed training's result was read from the SeedCache (trained by another search
	// or an earlier attempt at this one) rather than trained for this record; Seconds is then about 0.
	Cached bool `json:"cached,omitempty"`
	Result
}

// IsCopy reports whether the record is a population copy of a trained seed (not trained again).
func (r Record) IsCopy() bool { return r.Origin.Kind == SeedCopy }

// mate is the record's second parent, -1 for none.
func (r Record) mate() int {
	if r.MateHash == "" {
		return -1
	}
	return r.MateIndex
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir string) (Config, error) {
	var c Config
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return c, fmt.Errorf("read run config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("read run config %s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return c, nil
}

// readRun reads a run directory: its configuration and its records (truncated: see ReadRecords).
func readRun(dir string) (cfg Config, records []Record, truncated bool, err error) {
	if cfg, err = ReadConfig(dir); err != nil {
		return cfg, nil, false, err
	}
	records, truncated, err = ReadRecords(dir)
	return cfg, records, truncated, err
}

// prepareDir creates the run directory and its config.json, or checks that an existing one holds the
// same configuration.
func prepareDir(dir string, cfg Config) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	old, err := ReadConfig(dir)
	switch {
	case err == nil:
		if diffs := configDiff(old, cfg); len(diffs) > 0 {
			return fmt.Errorf("run directory %s holds a search with a different configuration (%s); use a new directory or the same configuration",
				dir, joinLines(diffs))
		}
		return nil
	case errors.Is(err, fs.ErrNotExist):
		b, err := json.MarshalIndent(cfg, "", "  ")
		if err != nil {
			return fmt.Errorf("encode config: %w", err)
		}
		return writeFileSynced(filepath.Join(dir, ConfigFile), append(b, '\n'))
	default:
		return err
	}
}

// writeFileSynced writes a file through a temporary name and renames it, so that a crash leaves either
// the old file or the whole new one.
func writeFileSynced(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadRecords reads a run's evaluations.jsonl. A last line without its newline (a crash in the middle
// of a write) is not a record: it is dropped and reported by truncated = true. A malformed complete line
// is an error naming its line number. A missing file holds no records.
func ReadRecords(dir string) (records []Record, truncated bool, err error) {
	path := filepath.Join(dir, EvaluationsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read evaluations: %w", err)
	}
	records, complete, err := parseRecords(b, path)
	return records, complete < len(b), err
}

// parseRecords parses the complete lines of b and returns how many bytes they span.
func parseRecords(b []byte, path string) ([]Record, int, error) {
	var records []Record
	offset := 0
	for line := 1; offset < len(b); line++ {
		end := bytes.IndexByte(b[offset:], '\n')
		if end < 0 {
			break // an incomplete last line
		}
		text := b[offset : offset+end]
		var r Record
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, offset, fmt.Errorf("%s:%d: malformed evaluation record: %w", path, line, err)
		}
		if r.Index != len(records) {
			return nil, offset, fmt.Errorf("%s:%d: record has index %d, want %d (lines must be in order)", path, line, r.Index, len(records))
		}
		records = append(records, r)
		offset += end + 1
	}
	return records, offset, nil
}

// runLog appends records to evaluations.jsonl: each one a single write followed by fsync.
type runLog struct {
	f *os.File
}

// openRunLog reads the existing records, cuts off an incomplete last line (reporting it through logf) and
// opens the file for appending.
func openRunLog(dir string, logf func(string, ...any)) (*runLog, []Record, error) {
	path := filepath.Join(dir, EvaluationsFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open evaluations log: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read evaluations log: %w", err)
	}
	records, complete, err := parseRecords(b, path)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if complete < len(b) {
		logf("search: %s: dropping an incomplete last line (%d bytes after record %d), left by an interrupted write; that evaluation will run again",
			path, len(b)-complete, len(records)-1)
		if err := f.Truncate(int64(complete)); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate evaluations log: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, err
		}
	}
	if _, err := f.Seek(int64(complete), 0); err != nil {
		f.Close()
		return nil, nil, err
	}
	return &runLog{f: f}, records, nil
}

func (l *runLog) append(r Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record %d: %w", r.Index, err)
	}
	b = append(b, '\n')
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("append record %d: %w", r.Index, err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync record %d: %w", r.Index, err)
	}
	return nil
}

func (l *runLog) close() error { return l.f.Close() }
