package reports

import (
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ms(n int64) *int64 { return &n }

func checks(failing ...string) []check.Result {
	var out []check.Result
	for _, name := range []string{"steps", "convergence", "invariants", "linearizability", "watch"} {
		r := check.Result{Check: name, Verdict: check.Pass}
		for _, f := range failing {
			if f == name {
				r = check.Result{Check: name, Verdict: check.Fail, Message: name + " broke"}
			}
		}
		out = append(out, r)
	}
	return out
}

func TestCompareAggregatesBySeed(t *testing.T) {
	sums := []run.Summary{
		{Scenario: "s", Strategy: "b", Seed: 2, Verdict: run.Fail, PodsCreated: 5, Checks: checks("invariants", "linearizability")},
		{Scenario: "s", Strategy: "a", Seed: 1, Verdict: run.Pass, ConvergenceMillis: ms(100), PodsCreated: 3, PodsDeleted: 1, Decisions: 1,
			MaxOvershoot: 2, Ordering: run.OrderingScore{Decisions: 1, Chosen: 4, Spared: 1}},
		{Scenario: "s", Strategy: "a", Seed: 2, Verdict: run.Pass, ConvergenceMillis: ms(300), PodsCreated: 3},
		{Scenario: "s", Strategy: "a", Seed: 3, Verdict: run.Unknown, ConvergenceMillis: ms(200),
			Checks: []check.Result{{Check: "linearizability", Verdict: check.Unknown, Message: "step budget"}}},
		{Scenario: "s", Strategy: "b", Seed: 1, Verdict: run.Pass, ConvergenceMillis: ms(50)},
		{Scenario: "s", Strategy: "b", Seed: 3, Verdict: run.Fail, Checks: checks("invariants"),
			Failures: []sim.Failure{{Actor: "rs-controller", Message: "panic"}}},
	}
	c := Compare([]string{"a", "b"}, []string{"s"}, []uint64{1, 2, 3}, sums)
	assert.Equal(t, []Row{
		{Scenario: "s", Strategy: "a", Runs: 3, Passed: 2, Unknown: 1, ConvergenceP50: "200ms", ConvergenceP90: "300ms", ConvergenceP99: "300ms", ConvergenceMax: "300ms",
			Convergence: &Latency{Count: 3, P50: 200, P90: 300, P99: 300, Max: 300},
			PodsCreated: 6, PodsDeleted: 1, Decisions: 1, FailedSeeds: []uint64{3}, MaxOvershoot: 2, SparedShare: 0.25},
		{Scenario: "s", Strategy: "b", Runs: 3, Passed: 1, Failed: 2, ConvergenceP50: "50ms", ConvergenceP90: "50ms", ConvergenceP99: "50ms", ConvergenceMax: "50ms",
			Convergence: &Latency{Count: 1, P50: 50, P90: 50, P99: 50, Max: 50},
			PodsCreated: 5, FailedSeeds: []uint64{2, 3}, Violations: 4,
			Violated: []CheckCount{{"invariants", 2}, {"linearizability", 1}, {"controller failure", 1}}},
	}, c.Rows)
	assert.Equal(t, []FailedRun{
		{Scenario: "s", Strategy: "a", Seed: 3, Verdict: run.Unknown, Why: "linearizability unknown: step budget",
			Replay: "ctrlsim run --scenario s --strategy a --seed 3", Dir: "runs/s/a/seed-3"},
		{Scenario: "s", Strategy: "b", Seed: 2, Verdict: run.Fail, Why: "invariants: invariants broke",
			Replay: "ctrlsim run --scenario s --strategy b --seed 2", Dir: "runs/s/b/seed-2", Linearizability: "runs/s/b/seed-2/linearizability.html"},
		{Scenario: "s", Strategy: "b", Seed: 3, Verdict: run.Fail, Why: "controller failure: rs-controller: panic",
			Replay: "ctrlsim run --scenario s --strategy b --seed 3", Dir: "runs/s/b/seed-3"},
	}, c.Failing, "in scenario, strategy, seed order")
	assert.Equal(t, "invariants 2, linearizability 1, controller failure 1", c.Rows[1].violatedText())
	assert.Equal(t, "0", c.Rows[0].violatedText())
}

// The percentiles are an HDR histogram's at 3 significant digits: exact
// below 2048 ms, within 0.1% above; independent of the order of the runs.
func TestLatencyOfIsAnHDRHistogram(t *testing.T) {
	_, ok := LatencyOf(nil)
	assert.False(t, ok)
	var vals []int64
	for i := int64(1); i <= 100; i++ {
		vals = append(vals, i*10)
	}
	l, ok := LatencyOf(vals)
	require.True(t, ok)
	assert.Equal(t, Latency{Count: 100, P50: 500, P90: 900, P99: 990, Max: 1000}, l)
	reversed := make([]int64, len(vals))
	for i, v := range vals {
		reversed[len(vals)-1-i] = v
	}
	r, _ := LatencyOf(reversed)
	assert.Equal(t, l, r, "order does not matter")

	// 5m55.071s: 355071 ms is in a bucket 256 ms wide at 3 digits; the HDR
	// reading is the bucket's highest value, within 0.1% of the truth.
	big, _ := LatencyOf([]int64{355_071, 355_100, 0})
	assert.InDelta(t, 355_100, big.Max, 355_100*0.001)
	assert.GreaterOrEqual(t, big.Max, int64(355_100))
	assert.Equal(t, int64(0), mustLatency(t, []int64{0, 0}).P50, "0 ms is a value")
	assert.Equal(t, int64(0), mustLatency(t, []int64{-5}).Max, "negative latencies count as 0")
}

func mustLatency(t *testing.T, v []int64) Latency {
	l, ok := LatencyOf(v)
	require.True(t, ok)
	return l
}

func TestMarkdownEscapesNames(t *testing.T) {
	c := Compare([]string{"<script>|x"}, []string{"s"}, []uint64{1}, []run.Summary{{Scenario: "s", Strategy: "<script>|x", Seed: 1, Verdict: run.Fail}})
	var b strings.Builder
	assert.NoError(t, c.WriteMarkdown(&b))
	table, replay, _ := strings.Cut(b.String(), "Runs that did not pass")
	assert.NotContains(t, table, "<script>")
	assert.Contains(t, table, `| &lt;script&gt;\|x |`)
	assert.Contains(t, replay, "`ctrlsim run --scenario s --strategy '<script>|x' --seed 1`", "the replay command is a code span, verbatim, quoted for the shell")
	assert.Contains(t, replay, "[run](runs/s/_script__x-", "the run's directory has a safe name")
	assert.NotContains(t, strings.ReplaceAll(replay, "`ctrlsim run --scenario s --strategy '<script>|x' --seed 1`", ""), "<script>")
}

func TestNames(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"rs-node-loss", "rs-node-loss"},
		{"v1.2_x", "v1.2_x"},
		{"..", "..-"},
		{"a/b", "a_b-"},
		{"<script>", "_script_-"},
		{"", "-"},
	} {
		got := PathName(tc.in)
		if strings.HasSuffix(tc.want, "-") {
			assert.True(t, strings.HasPrefix(got, tc.want), "%q → %q", tc.in, got)
			assert.Len(t, got, len(tc.want)+8, "a hash of the name follows")
		} else {
			assert.Equal(t, tc.want, got)
		}
	}
	assert.NotEqual(t, PathName("a/b"), PathName("a_b"), "names never share a path")
	assert.Equal(t, "runs/rc-scale/upstream/seed-3", RunDir("rc-scale", "upstream", 3))

	assert.Equal(t, "ctrlsim run --scenario rc-scale --strategy upstream --seed 2", ReplayCommand("rc-scale", "upstream", 2))
	assert.Equal(t, `ctrlsim run --scenario 'it'\''s' --strategy '' --seed 2`, ReplayCommand("it's", "", 2))

	assert.Equal(t, "`a`", codeSpan("a"))
	assert.Equal(t, "``a`b``", codeSpan("a`b"))
	assert.Equal(t, "`` `a ``", codeSpan("`a"))

	assert.Equal(t, "1-5", SeedsText([]uint64{1, 2, 3, 4, 5}))
	assert.Equal(t, "1, 3, 7-9", SeedsText([]uint64{1, 3, 7, 8, 9}))
	assert.Equal(t, "", SeedsText(nil))
	assert.Equal(t, `a\_b \*c\* \[d\](e) &lt;f&gt; \\`, md(`a_b *c* [d](e) <f> \`))
}
