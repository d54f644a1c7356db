package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FinalResult is the last step of a search: its best architecture retrained from scratch on train+val
// and scored on test.
type FinalResult struct {
	Best   Record    `json:"best"` // the search's best record by validation accuracy
	JobID  string    `json:"job_id"`
	Result Result    `json:"result"` // TestAccuracy is the number the paper reports
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
}

// Final retrains the best architecture of the finished search in dir (the counted record with the
// highest validation accuracy over the whole history) for the configuration's FinalEpochs on train+val,
// through ev with Job.Final set, and writes the outcome to final.json. When final.json already exists it
// is returned without training again.
func Final(ctx context.Context, dir string, ev Evaluator) (FinalResult, error) {
	var out FinalResult
	if done, err := readFinal(dir); err != nil || done != nil {
		if done != nil {
			out = *done
		}
		return out, err
	}
	cfg, records, _, err := readRun(dir)
	if err != nil {
		return out, err
	}
	best, ok := bestOf(records)
	if !ok {
		return out, fmt.Errorf("final: the search in %s has no successful counted evaluation", dir)
	}
	job := Job{
		ID: cfg.RunID() + "-final", Arch: best.Arch, Input: cfg.Input, Classes: cfg.Classes, Data: cfg.Data,
		Budget: cfg.FinalBudget(), TrainSeed: trainSeed(cfg, -1), Final: true,
	}
	out.Best, out.JobID, out.Start = best, job.ID, time.Now().UTC()
	res, err := EvaluateSafely(ctx, ev, job)
	if err != nil {
		return out, fmt.Errorf("final training of record %d: %w", best.Index, err)
	}
	out.Result, out.End = res.Finite(), time.Now().UTC()
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return out, fmt.Errorf("encode final result: %w", err)
	}
	if err := writeFileSynced(filepath.Join(dir, FinalFile), append(b, '\n')); err != nil {
		return out, fmt.Errorf("write final result: %w", err)
	}
	return out, nil
}

// FinalBudget is the protocol of the final training: the search's, for FinalEpochs epochs, with the
// search's wall-clock cap per epoch (so a cap that fits 1 epoch of search allows the final's 8 epochs eight
// times as long).
func (c Config) FinalBudget() Budget {
	b := c.Train
	b.Epochs = c.FinalEpochs
	if b.MaxSeconds > 0 && c.Train.Epochs > 0 {
		b.MaxSeconds = c.Train.MaxSeconds * float64(c.FinalEpochs) / float64(c.Train.Epochs)
	}
	return b
}

// readFinal reads a run directory's final.json, and nil when the final training has not run.
func readFinal(dir string) (*FinalResult, error) {
	path := filepath.Join(dir, FinalFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read final result: %w", err)
	}
	var f FinalResult
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &f, nil
}
