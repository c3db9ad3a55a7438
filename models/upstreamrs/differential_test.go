package upstreamrs_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
)

// hostedAs is the "upstream" strategy with upstream's code in place of the
// model, under the model's controller name and position: the same client name
// draws the same latencies, so the two runs can be compared request by request.
func hostedAs(t *testing.T) (model, hosted plugin.Strategy) {
	t.Helper()
	model, err := models.Lookup("upstream")
	require.NoError(t, err)
	hosted = model
	hosted.Controllers = slices.Clone(model.Controllers)
	replaced := false
	for i, c := range hosted.Controllers {
		if c.Name == "upstream" {
			hosted.Controllers[i].Run = func(ctx *controller.Context, tr *trace.Recorder) {
				upstreamrs.StartWithContext(ctx, upstreamrs.Options{Name: ctx.Name(), Trace: tr})
			}
			replaced = true
		}
	}
	require.True(t, replaced, "the upstream strategy has no controller named upstream")
	return model, hosted
}

// opJSON renders an operation for comparison, with a JSON patch body
// normalized (the model and upstream write a release patch's keys in another
// order).
func opJSON(t *testing.T, op *history.Op) string {
	t.Helper()
	o := *op
	var v any
	if o.Verb == "patch" && json.Unmarshal([]byte(o.Arg), &v) == nil {
		b, err := json.Marshal(v) // map keys sorted
		require.NoError(t, err)
		o.Arg = string(b)
	}
	b, err := json.Marshal(o)
	require.NoError(t, err)
	return string(b)
}

// firstDivergence is the index of the first operation the two histories
// disagree on, or -1.
func firstDivergence(t *testing.T, a, b []*history.Op) int {
	for i := range min(len(a), len(b)) {
		if opJSON(t, a[i]) != opJSON(t, b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// rankedChoice is the set of pods the upstream ranking (the model's
// PodsToDelete, checked against upstream's in models/replicaset/upstreamdiff)
// deletes from d's candidates when it ranks at now.
func rankedChoice(d trace.Decision, now time.Time) []string {
	pods := make([]*corev1.Pod, len(d.Candidates))
	ranks := make([]int, len(d.Candidates))
	for i, c := range d.Candidates {
		pods[i], ranks[i] = c.Pod(), c.Rank
	}
	var out []string
	for _, p := range replicaset.PodsToDelete(replicaset.Upstream, pods, ranks, len(d.Chosen), now, rand.New(rand.NewPCG(0, 0))) {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// Outcomes of a differential run.
const (
	// identical: the same requests, in the same order, at the same virtual
	// times, with the same outcomes (patch bodies compared as JSON).
	identical = "identical"
	// otherOrder: the same histories up to the first scale-down, which
	// deletes the same pods, sent in another order (upstream sends them from
	// concurrent goroutines, in no defined order; the host sends them in
	// name order, the model in rank order), after which the timings differ.
	otherOrder = "same pods, other order"
)

func TestDifferentialAgainstModel(t *testing.T) {
	tests := []struct {
		scenario string
		want     string
	}{
		{"rs-adopt-after", identical},
		{"rs-adopt-before", identical},
		{"rs-isolate-by-relabel", identical},
		{"rs-node-loss", identical},
		{"rs-orphan-delete-readopt", identical},
		{"rs-self-heal", identical},
		{"rs-scale-down-deletion-cost", otherOrder},
		{"rs-chaos-stale-cache", otherOrder},
		{"rs-hpa", otherOrder},
	}
	model, hosted := hostedAs(t)
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			m := runScenario(t, tt.scenario, model, 1)
			h := runScenario(t, tt.scenario, hosted, 1)
			require.Equal(t, "pass", h.Summary.Verdict, checks(t, h))

			// Whatever the outcome, upstream's code chose what the upstream
			// ranking chooses at virtual now: in the bubble its metav1.Now()
			// reads virtual time.
			for i, d := range h.Decisions.Decisions() {
				virtualNow, err := time.Parse(time.RFC3339Nano, d.Now)
				require.NoError(t, err)
				require.Equal(t, rankedChoice(d, virtualNow), sortedCopy(d.Chosen), "decision %d at %s", i, d.Time)
			}

			div := firstDivergence(t, m.History, h.History)
			if tt.want == identical {
				require.Equal(t, -1, div, "the histories differ at operation %d", div)
				require.Equal(t, len(m.Decisions.Decisions()), len(h.Decisions.Decisions()))
				for i, d := range h.Decisions.Decisions() {
					require.Equal(t, sortedCopy(m.Decisions.Decisions()[i].Chosen), sortedCopy(d.Chosen), "decision %d", i)
				}
				return
			}
			require.GreaterOrEqual(t, div, 0, "the histories were expected to differ")
			first := h.History[div]
			require.Equal(t, "delete", first.Verb, "the first divergence is not a scale-down: %s", opJSON(t, first))
			require.Equal(t, "Pod", first.Kind)
			md, hd := m.Decisions.Decisions()[0], h.Decisions.Decisions()[0]
			require.Equal(t, md.Time, hd.Time, "not the same first scale-down")
			require.Equal(t, sortedCopy(md.Chosen), sortedCopy(hd.Chosen))
		})
	}
}
