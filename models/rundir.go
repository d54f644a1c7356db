package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// RunRecord is what a training run directory holds besides the weights: what was trained on what, with
// which protocol, and the metrics of every epoch the checkpoint has completed.
type RunRecord struct {
	Arch    string `json:"arch"`    // canonical text of the architecture
	Input   []int  `json:"input"`   // the network's input shape (C, H, W)
	Classes int    `json:"classes"` // classes of the head
	// Data names the training data (for example "addnist subset 5000 seed 1"); a resumed run must name the
	// same.
	Data        string         `json:"data"`
	Epochs      int            `json:"epochs"` // the protocol's epochs (the cosine schedule's length)
	BatchSize   int            `json:"batch_size"`
	LR          float64        `json:"lr"`
	Momentum    float64        `json:"momentum"`
	WeightDecay float64        `json:"weight_decay"`
	Seed        uint64         `json:"seed"`       // the shuffling seed (Config.Seed)
	Completed   []EpochMetrics `json:"completed"`  // one per epoch in Checkpoint, in order
	Checkpoint  string         `json:"checkpoint"` // the subdirectory holding the weights after Completed
}

// RecordOf is the record of a run of the network with cfg on the data named data, before any epoch.
func RecordOf(net *Network, cfg Config, data string) RunRecord {
	return RunRecord{Arch: net.Arch.String(), Input: net.Arch.Input.Dims(), Classes: net.Classes, Data: data,
		Epochs: cfg.Epochs, BatchSize: cfg.BatchSize, LR: cfg.LR, Momentum: cfg.Momentum,
		WeightDecay: cfg.WeightDecay, Seed: cfg.Seed}
}

// Mismatch names the first setting in which a record of a run differs from another, or returns "".
// Metrics and the checkpoint are not settings.
func (r RunRecord) Mismatch(o RunRecord) string {
	switch {
	case r.Arch != o.Arch:
		return fmt.Sprintf("architecture %s, not %s", r.Arch, o.Arch)
	case !slices.Equal(r.Input, o.Input):
		return fmt.Sprintf("input shape %v, not %v", r.Input, o.Input)
	case r.Classes != o.Classes:
		return fmt.Sprintf("%d classes, not %d", r.Classes, o.Classes)
	case r.Data != o.Data:
		return fmt.Sprintf("data %q, not %q", r.Data, o.Data)
	case r.Epochs != o.Epochs:
		return fmt.Sprintf("%d epochs, not %d", r.Epochs, o.Epochs)
	case r.BatchSize != o.BatchSize:
		return fmt.Sprintf("batch size %d, not %d", r.BatchSize, o.BatchSize)
	case r.LR != o.LR || r.Momentum != o.Momentum || r.WeightDecay != o.WeightDecay:
		return fmt.Sprintf("SGD %g/%g/%g, not %g/%g/%g", r.LR, r.Momentum, r.WeightDecay, o.LR, o.Momentum, o.WeightDecay)
	case r.Seed != o.Seed:
		return fmt.Sprintf("seed %d, not %d", r.Seed, o.Seed)
	}
	return ""
}

// runRecordFile is the record's name inside a run directory.
const runRecordFile = "train.json"

// SaveEpoch writes the model as it stands after the epochs in rec.Completed to the run directory dir, so
// that a run killed at any moment can be resumed from its last completed epoch (ResumeRun):
//
//	dir/epoch-003/   the GoMLX checkpoint after epoch 3 (Load reads it)
//	dir/train.json   the record, naming that checkpoint
//
// The checkpoint is written beside the previous one and renamed into place, then the record is replaced
// atomically, then the previous checkpoint is removed; a crash between any two steps leaves a record that
// names a complete checkpoint. It returns the checkpoint's directory.
func SaveEpoch(dir string, m *Model, rec RunRecord) (string, error) {
	name := fmt.Sprintf("epoch-%03d", len(rec.Completed))
	final := filepath.Join(dir, name)
	tmp := final + ".tmp"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("save epoch: %w", err)
	}
	for _, d := range []string{tmp, final} { // left by a run killed before it recorded them
		if err := os.RemoveAll(d); err != nil {
			return "", fmt.Errorf("save epoch: %w", err)
		}
	}
	if err := m.Save(tmp); err != nil {
		return "", err
	}
	if err := syncDir(tmp); err != nil {
		return "", fmt.Errorf("save epoch: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", fmt.Errorf("save epoch: %w", err)
	}
	rec.Checkpoint = name
	if err := writeRecord(dir, rec); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("save epoch: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "epoch-") && e.Name() != name {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return "", fmt.Errorf("save epoch: %w", err)
			}
		}
	}
	return final, nil
}

// ReadRunRecord reads the record of the run directory dir; the error wraps fs.ErrNotExist when dir holds
// no run.
func ReadRunRecord(dir string) (RunRecord, error) {
	var rec RunRecord
	raw, err := os.ReadFile(filepath.Join(dir, runRecordFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return rec, fmt.Errorf("%s holds no training run (no %s): %w", dir, runRecordFile, err)
		}
		return rec, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, fmt.Errorf("%s: %w", filepath.Join(dir, runRecordFile), err)
	}
	return rec, nil
}

// ResumeRun loads the last completed epoch of the run directory dir for the network, which must be the one
// the run trained: it returns the model with its weights, batch-norm statistics and optimizer state, and
// the record, whose Completed epochs Config.StartEpoch then skips.
func ResumeRun(dir string, net *Network) (*Model, RunRecord, error) {
	rec, err := ReadRunRecord(dir)
	if err != nil {
		return nil, rec, err
	}
	if m := rec.Mismatch(RecordOf(net, Config{Epochs: rec.Epochs, BatchSize: rec.BatchSize, LR: rec.LR,
		Momentum: rec.Momentum, WeightDecay: rec.WeightDecay, Seed: rec.Seed}, rec.Data)); m != "" {
		return nil, rec, fmt.Errorf("resume %s: the run trained %s", dir, m)
	}
	m, err := Load(net, filepath.Join(dir, rec.Checkpoint))
	if err != nil {
		return nil, rec, fmt.Errorf("resume %s: %w", dir, err)
	}
	return m, rec, nil
}

// writeRecord replaces dir's record atomically: a temporary file, synced, renamed over the old one.
func writeRecord(dir string, rec RunRecord) error {
	raw, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, runRecordFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("save epoch: %w", err)
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("save epoch: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save epoch: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save epoch: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, runRecordFile)); err != nil {
		return fmt.Errorf("save epoch: %w", err)
	}
	return syncDir(dir)
}

// syncDir flushes a directory's files and entries to disk.
func syncDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := syncFile(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return syncFile(dir)
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
