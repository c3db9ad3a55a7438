package ctrlsim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

func readSummary(t *testing.T, dir string) simrun.Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	var s simrun.Summary
	require.NoError(t, json.Unmarshal(data, &s))
	return s
}

// The naive strategy overshoots when its watch lags: the failing run replays
// exactly from its directory, and shrinks to a reproducer from which no fault
// or step can be removed without losing the failure.
func TestReplayAndShrinkNaiveOvershoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "naive")
	code, stdout, stderr := runCLI("run", "--scenario", "rs-chaos-stale-cache", "--strategy", "naive", "--out", dir)
	require.Equal(t, ExitFail, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	recorded := readSummary(t, dir)
	assert.Equal(t, "check overshoot", recorded.Signature())

	code, stdout, _ = runCLI("replay", dir)
	assert.Equal(t, ExitFail, code, "the replay fails as the run did")
	assert.Contains(t, stdout, "reproduced exactly: digest "+recorded.Digest)
	assert.Equal(t, recorded.Digest, readSummary(t, filepath.Join(dir, "replay")).Digest)

	code, stdout, stderr = runCLI("shrink", dir)
	require.Equal(t, ExitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	repro := filepath.Join(dir, "repro.yaml")
	text, err := os.ReadFile(repro)
	require.NoError(t, err)
	sc, err := workloads.LoadScenario(repro)
	require.NoError(t, err)
	require.NotEmpty(t, sc.Faults, "the watch delay is the cause: it stays")
	assert.Equal(t, "watch-delay", string(sc.Faults[0].Kind))
	assert.LessOrEqual(t, len(sc.Faults)+len(sc.Steps), 3, "a handful of lines:\n%s", text)

	// One command reproduces it.
	code, stdout, _ = runCLI("run", "--scenario", repro, "--out", filepath.Join(t.TempDir(), "repro"))
	assert.Equal(t, ExitFail, code)
	assert.Contains(t, stdout, "check overshoot        fail")

	// Minimal: without any one of its faults or steps, it passes the
	// overshoot check.
	naive, err := models.Lookup("naive")
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(text, &doc))
	root := doc.Content[0]
	for _, key := range []string{"faults", "steps"} {
		list := mapValue(root, key)
		for i := range list.Content {
			saved := list.Content
			list.Content = append(append([]*yaml.Node{}, saved[:i]...), saved[i+1:]...)
			less, err := yaml.Marshal(&doc)
			list.Content = saved
			require.NoError(t, err)
			sc, err := workloads.ParseScenario("less.yaml", less, nil)
			require.NoError(t, err)
			res, err := simrun.Run(simrun.Config{Scenario: sc, Strategy: naive, Seed: recorded.Seed})
			require.NoError(t, err)
			assert.NotEqual(t, "check overshoot", res.Summary.Signature(), "without %s[%d] it still fails: not minimal", key, i)
		}
	}
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return &yaml.Node{}
}

// A random plan is drawn from the seed, written into the run directory, and
// replays from there with the same digest.
func TestRandomFaultsReplay(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "swarm")
	code, stdout, stderr := runCLI("run", "--scenario", "rs-self-heal", "--random-faults", "--seed", "7", "--out", dir)
	require.Contains(t, []int{ExitOK, ExitFail}, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	s := readSummary(t, dir)
	require.NotEmpty(t, s.Faults, "the plan is in the summary")
	assert.Equal(t, "ctrlsim replay "+dir, s.Replay)
	text, err := os.ReadFile(filepath.Join(dir, "scenario.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(text), "faults:")
	_, stdout, _ = runCLI("replay", dir)
	assert.Contains(t, stdout, "reproduced exactly")

	// The same seed draws the same plan; another seed another.
	again := filepath.Join(t.TempDir(), "again")
	runCLI("run", "--scenario", "rs-self-heal", "--random-faults", "--seed", "7", "--out", again)
	text2, err := os.ReadFile(filepath.Join(again, "scenario.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(text), string(text2))
	other := filepath.Join(t.TempDir(), "other")
	runCLI("run", "--scenario", "rs-self-heal", "--random-faults", "--seed", "8", "--out", other)
	text3, err := os.ReadFile(filepath.Join(other, "scenario.yaml"))
	require.NoError(t, err)
	assert.NotEqual(t, strings.TrimSpace(string(text)), strings.TrimSpace(string(text3)))
}

func TestShrinkRefusesAPassingRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ok")
	code, _, _ := runCLI("run", "--scenario", "rc-scale", "--out", dir)
	require.Equal(t, ExitOK, code)
	code, _, stderr := runCLI("shrink", dir)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "did not fail: nothing to shrink")
	code, _, stderr = runCLI("replay", filepath.Join(dir, "nope"))
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "nope")
}

func TestFaultsList(t *testing.T) {
	code, stdout, _ := runCLI("faults")
	assert.Equal(t, ExitOK, code)
	for _, k := range []string{"lose-node", "api-error", "split-brain", "clock-skew"} {
		assert.Contains(t, stdout, k)
	}
}
