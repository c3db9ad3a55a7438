package ctrlsim

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

func readResults(t *testing.T, dir string) []ChaosRun {
	t.Helper()
	runs, err := readRuns(filepath.Join(dir, "results.jsonl"))
	require.NoError(t, err)
	return runs
}

// 200 seeds over the catalog, each with its own random fault plan: every run
// has a result line and a JUnit case; every failure a replay that reproduces
// it and a shrunk repro.yaml that still fails the same check.
func TestChaos200Seeds(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chaos")
	code, stdout, stderr := runCLI("chaos", "--seeds", "200", "--shrink-runs", "30", "--jobs", "2", "--out", dir)
	require.Contains(t, []int{ExitOK, ExitFail}, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	var cfg ChaosSweep
	data, err := os.ReadFile(filepath.Join(dir, "chaos.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cfg))
	results := readResults(t, dir)
	require.Len(t, results, cfg.Total)
	assert.GreaterOrEqual(t, len(cfg.Scenarios), 10, "the runnable catalog")
	assert.Equal(t, 200*len(cfg.Scenarios), cfg.Total)

	var failed []ChaosRun
	kinds := map[string]bool{}
	for i, r := range results {
		assert.Equal(t, i, r.Index, "in sweep order")
		for _, f := range r.Faults {
			kinds[strings.Fields(f)[0]] = true
		}
		if r.Verdict != "pass" {
			failed = append(failed, r)
			assert.NotEmpty(t, r.Replay)
			assert.FileExists(t, filepath.Join(dir, r.Repro), "%s seed %d has a repro", r.Scenario, r.Seed)
		}
	}
	assert.GreaterOrEqual(t, len(kinds), 20, "the plans use (nearly) every fault kind: %v", kinds)
	if len(failed) > 0 {
		assert.Equal(t, ExitFail, code, "a failure fails the sweep")
		// The first failure replays exactly from its directory.
		first := failed[0]
		code, out, _ := runCLI("replay", filepath.Join(dir, strings.TrimPrefix(first.Replay, "ctrlsim replay ")))
		assert.Equal(t, ExitFail, code)
		assert.Contains(t, out, "reproduced exactly: digest "+first.Digest)
	} else {
		assert.Equal(t, ExitOK, code)
	}

	var suites junitSuites
	data, err = os.ReadFile(filepath.Join(dir, "junit.xml"))
	require.NoError(t, err)
	require.NoError(t, xml.Unmarshal(data, &suites))
	assert.Equal(t, cfg.Total, suites.Tests)
	assert.Equal(t, len(failed), suites.Fails+suites.Errors)
}

// The same sweep gives the same bytes with any --jobs, and its shards merged
// give the unsharded sweep's directory, file for file.
func TestChaosShardsMergeToTheUnshardedSweep(t *testing.T) {
	base := t.TempDir()
	args := []string{"chaos", "--seeds", "12", "--scenarios", "rc-scale,rs-self-heal,rs-chaos-stale-cache", "--strategies", "upstream,oldest-first", "--shrink-runs", "10", "--max-events", "300000"}
	run := func(dir string, extra ...string) {
		code, stdout, stderr := runCLI(append(append(append([]string{}, args...), "--out", dir), extra...)...)
		require.Contains(t, []int{ExitOK, ExitFail}, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	whole := filepath.Join(base, "whole")
	run(whole, "--jobs", "2")
	one := filepath.Join(base, "one-job")
	run(one, "--jobs", "1")
	wholeTree, oneTree := tree(t, whole), tree(t, one)
	assert.Equal(t, len(wholeTree), len(oneTree))
	for name, data := range wholeTree {
		assert.True(t, bytes.Equal(data, oneTree[name]), "--jobs changed %s", name)
	}

	var shards []string
	for i := range 3 {
		d := filepath.Join(base, "shard-"+string(rune('0'+i)))
		run(d, "--shard", string(rune('0'+i))+"/3")
		shards = append(shards, d)
	}
	merged := filepath.Join(base, "merged")
	code, stdout, stderr := runCLI(append([]string{"merge", "--out", merged}, shards...)...)
	require.Contains(t, []int{ExitOK, ExitFail}, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	want, got := tree(t, whole), tree(t, merged)
	assert.Equal(t, len(want), len(got))
	for name, data := range want {
		assert.True(t, bytes.Equal(data, got[name]), "merged %s differs from the unsharded sweep's", name)
	}
	assert.NotEmpty(t, readResults(t, whole))
	repros := 0
	for name := range want {
		if strings.HasPrefix(name, "failures/") && strings.HasSuffix(name, "repro.yaml") {
			repros++
		}
	}
	assert.Positive(t, repros, "the sweep has failures, and they are merged too")

	// A missing shard, or a shard of another sweep, is refused.
	code, _, stderr = runCLI("merge", "--out", filepath.Join(base, "bad"), shards[0], shards[1])
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "a shard is missing")
	code, _, stderr = runCLI("merge", "--out", filepath.Join(base, "bad"), shards[0], shards[0])
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "is in both")
}

func TestChaosBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"chaos", "--shard", "3/3"},
		{"chaos", "--seeds", "0"},
		{"chaos", "--strategies", "nope"},
		{"chaos", "--jobs", "0"},
	} {
		code, _, stderr := runCLI(args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr)
	}
}

// The sweeps the repository ships for other engines are valid: the Indexed
// Job is a Job with one shard per completion index, and its arguments (with
// a small seed range) run; the GitHub workflow's matrix has as many shards as
// it tells chaos there are.
func TestShippedSweeps(t *testing.T) {
	data, err := os.ReadFile("deploy/chaos-indexed-job.yaml")
	require.NoError(t, err)
	docs := strings.Split(string(data), "\n---\n")
	var job batchv1.Job
	require.NoError(t, sigsyaml.UnmarshalStrict([]byte(docs[0]), &job))
	require.NotNil(t, job.Spec.CompletionMode)
	assert.Equal(t, batchv1.IndexedCompletion, *job.Spec.CompletionMode)
	args := job.Spec.Template.Spec.Containers[0].Args
	assert.Contains(t, args, "--shard=$(JOB_COMPLETION_INDEX)/"+strconv.Itoa(int(*job.Spec.Completions)))
	var run []string
	for _, a := range args {
		a = strings.ReplaceAll(a, "$(JOB_COMPLETION_INDEX)", "0")
		switch {
		case strings.HasPrefix(a, "--seeds="):
			a = "--seeds=1-2"
		case strings.HasPrefix(a, "--out="):
			a = "--out=" + filepath.Join(t.TempDir(), "shard-0")
		}
		run = append(run, a)
	}
	code, stdout, stderr := runCLI(append(run, "--scenarios=rc-scale")...)
	assert.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)

	var merge batchv1.Job
	data, err = os.ReadFile("deploy/chaos-merge-job.yaml")
	require.NoError(t, err)
	require.NoError(t, sigsyaml.UnmarshalStrict(data, &merge))
	assert.Equal(t, "merge", merge.Spec.Template.Spec.Containers[0].Args[0])
	assert.Len(t, merge.Spec.Template.Spec.Containers[0].Args, 2+int(*job.Spec.Completions), "merge, --out, and every shard")

	var wf struct {
		Env  map[string]string `json:"env"`
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Shard []int `json:"shard"`
				} `json:"matrix"`
			} `json:"strategy"`
		} `json:"jobs"`
	}
	data, err = os.ReadFile(".github/workflows/nightly-chaos.yml")
	require.NoError(t, err)
	require.NoError(t, sigsyaml.Unmarshal(data, &wf))
	assert.Len(t, wf.Jobs["shard"].Strategy.Matrix.Shard, mustAtoi(t, wf.Env["SHARDS"]))
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
