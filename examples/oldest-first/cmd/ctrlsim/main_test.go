package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim"
	oldestfirst "github.com/ctrlsim/ctrlsim/examples/oldest-first"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
)

func ctrlsimCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = ctrlsim.Main(args, &out, &errb, ctrlsim.WithStrategies(oldestfirst.Strategy()))
	return code, out.String(), errb.String()
}

// tree reads every file under dir.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	}))
	return out
}

// jsonLines decodes a JSON-lines file.
func jsonLines[T any](t *testing.T, file string) []T {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var x T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &x))
		out = append(out, x)
	}
	require.NoError(t, sc.Err())
	return out
}

// A chaos sweep through ctrlsim's command line with the plug-in: its runs
// are in results.jsonl next to upstream's, each seed with one random plan
// for both strategies, and the sweep's directory is the same, byte for
// byte, with one job or two.
func TestChaosWithThePlugin(t *testing.T) {
	base := t.TempDir()
	args := []string{"chaos", "--strategies", oldestfirst.StrategyName + ",upstream", "--seeds", "1-3",
		"--scenarios", "rs-self-heal,rs-scale-down-deletion-cost", "--shrink-runs", "10"}
	var trees []map[string]string
	for _, jobs := range []string{"1", "2"} {
		dir := filepath.Join(base, "jobs-"+jobs)
		code, stdout, stderr := ctrlsimCLI(append(args, "--jobs", jobs, "--out", dir)...)
		require.Contains(t, []int{ctrlsim.ExitOK, ctrlsim.ExitFail}, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
		assert.Contains(t, stdout, "12 runs, ")
		trees = append(trees, tree(t, dir))
	}
	require.Equal(t, len(trees[0]), len(trees[1]))
	for name, data := range trees[0] {
		assert.True(t, data == trees[1][name], "--jobs changed %s", name)
	}

	runs := jsonLines[ctrlsim.ChaosRun](t, filepath.Join(base, "jobs-1", "results.jsonl"))
	require.Len(t, runs, 2*2*3, "2 scenarios × 2 strategies × 3 seeds")
	plans := map[string]string{}
	ours := 0
	for i, r := range runs {
		assert.Equal(t, i, r.Index)
		assert.NotEmpty(t, r.Digest)
		assert.NotEmpty(t, r.Faults, "each seed has its own random plan")
		key := fmt.Sprint(r.Scenario, "/", r.Seed)
		plan := strings.Join(r.Faults, "; ")
		if p, ok := plans[key]; ok {
			assert.Equal(t, p, plan, "%s: the same plan for every strategy", key)
		}
		plans[key] = plan
		if r.Strategy == oldestfirst.StrategyName {
			ours++
		}
	}
	assert.Equal(t, 6, ours, "the plug-in ran its share")
	assert.Contains(t, trees[0]["summary.md"], "| rs-self-heal | "+oldestfirst.StrategyName+" | 3 |")
	assert.Contains(t, trees[0]["junit.xml"], `classname="ctrlsim.rs-self-heal.`+oldestfirst.StrategyName+`"`)
}

// A comparison through the command line: the plug-in's controller made the
// scale-down decisions of its runs, the report has its rows, and a run
// replays with its digest.
func TestCompareWithThePlugin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "compare")
	code, stdout, stderr := ctrlsimCLI("compare", "--strategies", oldestfirst.StrategyName+",oldest-first,upstream",
		"--scenarios", "rs-scale-down-deletion-cost", "--seeds", "1-2", "--figures", "none", "--out", dir)
	require.Equal(t, ctrlsim.ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	for _, st := range []string{oldestfirst.StrategyName, "oldest-first", "upstream"} {
		assert.Contains(t, stdout, "| rs-scale-down-deletion-cost | "+st+" | 2 | 0 | 0 |")
	}
	run := filepath.Join(dir, "runs", "rs-scale-down-deletion-cost", oldestfirst.StrategyName, "seed-1")
	decisions := jsonLines[struct{ Controller string }](t, filepath.Join(run, "decisions.jsonl"))
	require.NotEmpty(t, decisions)
	for _, d := range decisions {
		assert.Equal(t, oldestfirst.StrategyName, d.Controller, "the plug-in decided")
	}

	code, stdout, stderr = ctrlsimCLI("replay", run, "--out", filepath.Join(t.TempDir(), "replay"))
	require.Equal(t, ctrlsim.ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "reproduced exactly")
}

func TestStrategiesListThePlugin(t *testing.T) {
	code, stdout, _ := ctrlsimCLI("strategies")
	require.Equal(t, ctrlsim.ExitOK, code)
	assert.Regexp(t, "(?m)^"+oldestfirst.StrategyName+`\s+ReplicaSets by the oldest-first example controller`, stdout)
	assert.Regexp(t, `(?m)^upstream\s`, stdout)

	code, _, stderr := ctrlsimCLI("chaos", "--strategies", "nope", "--seeds", "1")
	assert.Equal(t, ctrlsim.ExitUsage, code)
	assert.Contains(t, stderr, `unknown strategy "nope"`)
}

// The library without the command line: a sweep of the plug-in and a
// strategy that fails (its ReplicaSet controller does nothing). The failure
// gets a run directory that replays with the same digest, and a shrunk
// reproducer.
func TestChaosLibrary(t *testing.T) {
	idle, err := models.Lookup("upstream")
	require.NoError(t, err)
	idle = idle.With(plugin.Controller{Name: "idle", Kinds: []apiserver.Kind{apiserver.ReplicaSets},
		Run: func(*controller.Context, *trace.Recorder) {}})
	idle.Name, idle.Summary = "idle", "a ReplicaSet controller that does nothing"
	strategies := []plugin.Strategy{oldestfirst.Strategy(), idle}
	dir := filepath.Join(t.TempDir(), "chaos")
	res, err := ctrlsim.Chaos(context.Background(), ctrlsim.ChaosConfig{Scenarios: []string{"rs-self-heal"}, Strategies: strategies,
		Seeds: []uint64{5}, Jobs: 2, ShrinkRuns: 20, Out: dir})
	require.NoError(t, err)
	failed, unknown := res.Counts()
	assert.Equal(t, [2]int{1, 0}, [2]int{failed, unknown})
	assert.Equal(t, ctrlsim.ExitFail, res.ExitCode())
	require.Len(t, res.Runs, 2)
	assert.Equal(t, oldestfirst.StrategyName, res.Runs[0].Strategy)
	assert.Equal(t, run.Pass, res.Runs[0].Verdict)
	bad := res.Runs[1]
	require.Equal(t, run.Fail, bad.Verdict)
	require.NotEmpty(t, bad.Repro)
	assert.FileExists(t, filepath.Join(dir, bad.Repro))

	lookup := func(name string) (plugin.Strategy, error) {
		for _, st := range strategies {
			if st.Name == name {
				return st, nil
			}
		}
		return plugin.Strategy{}, errors.New("unknown strategy " + name)
	}
	rec, err := ctrlsim.LoadRecorded(filepath.Join(dir, strings.TrimPrefix(bad.Replay, "ctrlsim replay ")), lookup)
	require.NoError(t, err)
	again, err := ctrlsim.Replay(rec, filepath.Join(t.TempDir(), "replay"))
	require.NoError(t, err, "the replay is the same run")
	assert.Equal(t, bad.Digest, again.Summary.Digest)
}
