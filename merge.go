package ctrlsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	simrun "github.com/ctrlsim/ctrlsim/run"
)

// Merge joins the shard directories of one sweep (Chaos with Shards > 1)
// into out, exactly the directory the unsharded sweep writes: the same
// files, byte for byte. An error of type *BadInputError means the shards do
// not make one sweep (a shard of another sweep, a run in two shards, a
// shard missing) and nothing was written.
func Merge(out string, shards ...string) (*ChaosResult, error) {
	if len(shards) == 0 {
		return nil, badInput(errors.New("no shard directories to merge"))
	}
	var sweep *ChaosSweep
	var runs []ChaosRun
	seen := map[int]string{}
	for _, dir := range shards {
		var c ChaosSweep
		data, err := os.ReadFile(filepath.Join(dir, "chaos.json"))
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil {
			return nil, badInput(fmt.Errorf("%s is not a chaos directory: %v", dir, err))
		}
		if sweep == nil {
			sweep = &c
		} else if c.Description != sweep.Description || c.Total != sweep.Total || c.ShrinkRuns != sweep.ShrinkRuns || c.MaxEvents != sweep.MaxEvents {
			return nil, badInput(fmt.Errorf("%s is a shard of another sweep (%s) than %s (%s)", dir, c.Description, shards[0], sweep.Description))
		}
		rs, err := readRuns(filepath.Join(dir, "results.jsonl"))
		if err != nil {
			return nil, badInput(err)
		}
		for _, r := range rs {
			if other, dup := seen[r.Index]; dup {
				return nil, badInput(fmt.Errorf("run %d is in both %s and %s", r.Index, other, dir))
			}
			seen[r.Index] = dir
		}
		runs = append(runs, rs...)
	}
	if len(runs) != sweep.Total {
		return nil, badInput(fmt.Errorf("the shards hold %d of the sweep's %d runs: a shard is missing", len(runs), sweep.Total))
	}
	tmp, err := makeTempSibling(out)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	for _, r := range runs {
		if r.Verdict == simrun.Pass {
			continue
		}
		rel := failureDir(r.Scenario, r.Strategy, r.Seed)
		if err := copyDir(filepath.Join(seen[r.Index], rel), filepath.Join(tmp, rel)); err != nil {
			return nil, err
		}
	}
	merged := *sweep
	merged.Shard, merged.Shards = 0, 1
	if err := writeChaos(tmp, merged, runs); err != nil {
		return nil, err
	}
	if err := replaceDir(tmp, out); err != nil {
		return nil, err
	}
	return &ChaosResult{Dir: out, Sweep: merged, Runs: runs}, nil
}

// readRuns reads a results.jsonl.
func readRuns(file string) ([]ChaosRun, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ChaosRun
	dec := json.NewDecoder(f)
	for {
		var r ChaosRun
		if err := dec.Decode(&r); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		out = append(out, r)
	}
}

func copyDir(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

func newMergeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:               "merge --out DIR SHARD_DIR... [flags]",
		Short:             "Merge chaos shards into the result one unsharded run gives",
		ValidArgsFunction: completeDirs,
		Example:           `  ctrlsim merge --out out/chaos shards/chaos-shard-*`,
	}
	out := cmd.Flags().String("out", filepath.Join("out", "chaos"), "the merged directory")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef(cmd, "give the shard directories to merge")
		}
		res, err := Merge(*out, args...)
		if err != nil {
			return errorOf(cmd, err)
		}
		if err := res.WriteText(cmd.OutOrStdout()); err != nil {
			return failf(cmd, "%v", err)
		}
		return exit(res.ExitCode())
	}
	return cmd
}
