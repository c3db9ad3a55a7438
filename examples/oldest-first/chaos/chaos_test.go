package chaos_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	oldestfirst "github.com/ctrlsim/ctrlsim/examples/oldest-first"
	"github.com/ctrlsim/ctrlsim/examples/oldest-first/chaos"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
)

func strategies(t *testing.T, names ...string) []plugin.Strategy {
	out := make([]plugin.Strategy, len(names))
	for i, n := range names {
		var err error
		out[i], err = models.Lookup(n)
		require.NoError(t, err)
	}
	return out
}

func config(t *testing.T, jobs int) chaos.Config {
	return chaos.Config{
		Scenarios:  []string{"rs-self-heal", "rs-scale-down-deletion-cost", "rs-chaos-stale-cache"},
		Strategies: strategies(t, oldestfirst.StrategyName, "upstream"),
		Seeds:      []uint64{1, 2, 3, 4},
		Jobs:       jobs,
	}
}

// TestSweepDeterministic: the same sweep twice, one run at a time and then
// in parallel, gives the same digests and the same files byte for byte.
func TestSweepDeterministic(t *testing.T) {
	a, err := chaos.Run(config(t, 1))
	require.NoError(t, err)
	b, err := chaos.Run(config(t, 3))
	require.NoError(t, err)
	require.Len(t, a.Outcomes, 3*2*4)
	require.Len(t, b.Outcomes, len(a.Outcomes))
	for i := range a.Outcomes {
		x, y := a.Outcomes[i], b.Outcomes[i]
		assert.Equal(t, [3]any{x.Scenario, x.Strategy, x.Seed}, [3]any{y.Scenario, y.Strategy, y.Seed}, "sweep order")
		assert.NotEmpty(t, x.Digest)
		assert.Equal(t, x.Digest, y.Digest, "%s/%s seed %d", x.Scenario, x.Strategy, x.Seed)
	}
	// Each seed has its own random plan, the same for every strategy.
	plans := map[uint64]string{}
	for _, o := range a.Outcomes {
		if o.Scenario != "rs-self-heal" {
			continue
		}
		plan := strings.Join(o.Faults, "; ")
		assert.NotEmpty(t, plan, "seed %d has a random plan", o.Seed)
		if p, ok := plans[o.Seed]; ok {
			assert.Equal(t, p, plan, "seed %d: the same plan for every strategy", o.Seed)
		}
		plans[o.Seed] = plan
	}
	assert.Len(t, plans, 4)

	da, db := t.TempDir(), t.TempDir()
	require.NoError(t, a.Write(da))
	require.NoError(t, b.Write(db))
	for _, name := range []string{"report.md", "report.json", "results.jsonl"} {
		x, err := os.ReadFile(filepath.Join(da, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(db, name))
		require.NoError(t, err)
		assert.Equal(t, string(x), string(y), name)
	}
}

// TestReport: the report compares the strategies on every scenario; a run
// that did not pass is listed with its replay command and gets a run
// directory; chaos.Scenario gives back exactly what the sweep ran.
func TestReport(t *testing.T) {
	// A strategy that fails: its ReplicaSet controller does nothing.
	idle, err := models.Lookup("upstream")
	require.NoError(t, err)
	idle = idle.With(plugin.Controller{Name: "idle", Kinds: []apiserver.Kind{apiserver.ReplicaSets},
		Run: func(*controller.Context, *trace.Recorder) {}})
	idle.Name, idle.Summary = "idle", "a ReplicaSet controller that does nothing"
	cfg := chaos.Config{Scenarios: []string{"rs-self-heal"}, Seeds: []uint64{5},
		Strategies: append(strategies(t, oldestfirst.StrategyName), idle)}
	res, err := chaos.Run(cfg)
	require.NoError(t, err)
	failed, unknown := res.Counts()
	assert.Equal(t, [2]int{1, 0}, [2]int{failed, unknown})

	dir := t.TempDir()
	require.NoError(t, res.Write(dir))
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	report := string(md)
	assert.Contains(t, report, "| rs-self-heal | "+oldestfirst.StrategyName+" | 1 | 0 | 0 |")
	assert.Contains(t, report, "| rs-self-heal | idle | 0 | 1 | 0 |")
	assert.Contains(t, report, "go run ./cmd/sweep -replay -scenario rs-self-heal -strategy idle -seed 5")
	assert.NotContains(t, report, "ctrlsim run", "ctrlsim knows neither the plan nor the strategy")

	data, err := os.ReadFile(filepath.Join(dir, "results.jsonl"))
	require.NoError(t, err)
	var outcomes []chaos.Outcome
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var o chaos.Outcome
		require.NoError(t, json.Unmarshal([]byte(l), &o))
		outcomes = append(outcomes, o)
	}
	require.Len(t, outcomes, 2)
	assert.Equal(t, run.Pass, outcomes[0].Verdict)
	assert.Empty(t, outcomes[0].Dir)
	bad := outcomes[1]
	assert.Equal(t, run.Fail, bad.Verdict)
	assert.NotEmpty(t, bad.Failure)
	require.NotEmpty(t, bad.Dir)
	for _, f := range []string{"summary.json", "history.jsonl", "decisions.jsonl", "scenario.yaml"} {
		assert.FileExists(t, filepath.Join(dir, bad.Dir, f))
	}

	sc, err := chaos.Scenario("rs-self-heal", 5, false)
	require.NoError(t, err)
	again, err := run.Run(run.Config{Scenario: sc, Strategy: idle, Seed: 5, MaxEvents: 2_000_000})
	require.NoError(t, err)
	assert.Equal(t, bad.Digest, again.Summary.Digest, "the replay is the same run")
}
