package search

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// SeedCache keeps the results of seed trainings, so that searches seeded with the same architectures on
// the same data never train a seed twice: RE(RN18) and RE(Mix) of one search seed share their ResNet-18,
// and a run started again from its log finds the seeds it trained before it stopped. An entry is keyed by
// everything that decides a training's outcome (the job without its ID: architecture, input, classes,
// data, protocol, training seed), so a different protocol or training seed is a different entry.
//
// The cache is a folder of small JSON files, one per training, which can be committed beside the run
// logs it served. The zero value (no Dir) caches nothing.
type SeedCache struct {
	Dir string
}

// seedCacheEntry is one file of the cache: the job it answers (for the collision check and for a reader)
// and its result.
type seedCacheEntry struct {
	Job    Job       `json:"job"`
	Result Result    `json:"result"`
	Stored time.Time `json:"stored"`
}

// cacheKey is the hex SHA-256 of the job's JSON without its ID.
func cacheKey(job Job) (string, Job) {
	job.ID = ""
	b, _ := json.Marshal(job)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), job
}

func (c SeedCache) path(key string) string { return filepath.Join(c.Dir, key[:32]+".json") }

// Get returns the cached result of job, and false when there is none.
func (c SeedCache) Get(job Job) (Result, bool, error) {
	if c.Dir == "" {
		return Result{}, false, nil
	}
	key, bare := cacheKey(job)
	b, err := os.ReadFile(c.path(key))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return Result{}, false, nil
	case err != nil:
		return Result{}, false, fmt.Errorf("seed cache: %w", err)
	}
	var e seedCacheEntry
	if err := json.Unmarshal(b, &e); err != nil {
		return Result{}, false, fmt.Errorf("seed cache %s: %w", c.path(key), err)
	}
	if k, _ := cacheKey(e.Job); k != key || e.Job.Arch != bare.Arch {
		return Result{}, false, fmt.Errorf("seed cache %s holds another job than its name says", c.path(key))
	}
	return e.Result, true, nil
}

// Put stores the result of job. Failed trainings are not stored: a seed that failed stops its search,
// and trying again is the right thing after whatever made it fail is fixed.
func (c SeedCache) Put(job Job, res Result) error {
	if c.Dir == "" || res.Failed() {
		return nil
	}
	key, bare := cacheKey(job)
	b, err := json.MarshalIndent(seedCacheEntry{Job: bare, Result: res.Finite(), Stored: time.Now().UTC()}, "", "  ")
	if err != nil {
		return fmt.Errorf("seed cache: %w", err)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("seed cache: %w", err)
	}
	if err := writeFileSynced(c.path(key), append(b, '\n')); err != nil {
		return fmt.Errorf("seed cache: %w", err)
	}
	return nil
}
