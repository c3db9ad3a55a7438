package reports

import (
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/run"
	"github.com/stretchr/testify/assert"
)

func ms(n int64) *int64 { return &n }

func TestCompareAggregatesBySeed(t *testing.T) {
	sums := []run.Summary{
		{Scenario: "s", Strategy: "b", Seed: 2, Verdict: run.Fail, PodsCreated: 5},
		{Scenario: "s", Strategy: "a", Seed: 1, Verdict: run.Pass, ConvergenceMillis: ms(100), PodsCreated: 3, PodsDeleted: 1, Decisions: 1,
			MaxOvershoot: 2, Ordering: run.OrderingScore{Decisions: 1, Chosen: 4, Spared: 1}},
		{Scenario: "s", Strategy: "a", Seed: 2, Verdict: run.Pass, ConvergenceMillis: ms(300), PodsCreated: 3},
		{Scenario: "s", Strategy: "a", Seed: 3, Verdict: run.Unknown, ConvergenceMillis: ms(200)},
		{Scenario: "s", Strategy: "b", Seed: 1, Verdict: run.Pass, ConvergenceMillis: ms(50)},
	}
	c := Compare([]string{"a", "b"}, []string{"s"}, []uint64{1, 2, 3}, sums)
	assert.Equal(t, []Row{
		{Scenario: "s", Strategy: "a", Runs: 3, Passed: 2, Unknown: 1, ConvergenceP50: "200ms", ConvergenceP90: "300ms", ConvergenceMax: "300ms",
			PodsCreated: 6, PodsDeleted: 1, Decisions: 1, FailedSeeds: []uint64{3}, MaxOvershoot: 2, SparedShare: 0.25},
		{Scenario: "s", Strategy: "b", Runs: 2, Passed: 1, Failed: 1, ConvergenceP50: "50ms", ConvergenceP90: "50ms", ConvergenceMax: "50ms",
			PodsCreated: 5, FailedSeeds: []uint64{2}},
	}, c.Rows)
}

func TestMarkdownEscapesNames(t *testing.T) {
	c := Compare([]string{"<script>|x"}, []string{"s"}, []uint64{1}, []run.Summary{{Scenario: "s", Strategy: "<script>|x", Seed: 1, Verdict: run.Fail}})
	var b strings.Builder
	assert.NoError(t, c.WriteMarkdown(&b))
	table, replay, _ := strings.Cut(b.String(), "Runs that did not pass")
	assert.NotContains(t, table, "<script>")
	assert.Contains(t, table, `| &lt;script&gt;\|x |`)
	assert.Contains(t, replay, "`ctrlsim run --scenario s --strategy <script>|x --seed 1`", "the replay command is a code span, verbatim")
}
