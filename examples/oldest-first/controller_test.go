package oldestfirst_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	oldestfirst "github.com/ctrlsim/ctrlsim/examples/oldest-first"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// rsScenarios are the catalog's ReplicaSet scenarios.
func rsScenarios(t *testing.T) []string {
	var out []string
	for _, n := range workloads.Names() {
		if strings.HasPrefix(n, "rs-") {
			out = append(out, n)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func runOnce(t *testing.T, scenario string, st plugin.Strategy, seed uint64) *run.Result {
	t.Helper()
	sc, err := workloads.Lookup(scenario)
	require.NoError(t, err)
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed})
	require.NoError(t, err)
	return res
}

func failures(s run.Summary) string {
	var b strings.Builder
	for _, c := range s.Checks {
		fmt.Fprintf(&b, "\n  %s %s %s %s", c.Check, c.Verdict, c.At, c.Message)
	}
	for _, f := range s.Failures {
		fmt.Fprintf(&b, "\n  %s", f.Error())
	}
	return b.String()
}

// TestConvergesOnCatalog: every rs-* catalog scenario passes every check under
// the example strategy, and a second run of the same seed has the same digest.
func TestConvergesOnCatalog(t *testing.T) {
	st, err := models.Lookup(oldestfirst.StrategyName)
	require.NoError(t, err, "the package registers its strategy in init")
	for _, name := range rsScenarios(t) {
		t.Run(name, func(t *testing.T) {
			for _, seed := range []uint64{1, 2} {
				res := runOnce(t, name, st, seed)
				require.Equal(t, run.Pass, res.Summary.Verdict, "seed %d:%s", seed, failures(res.Summary))
				again := runOnce(t, name, st, seed)
				assert.Equal(t, res.Summary.Digest, again.Summary.Digest, "seed %d: the same seed, another history", seed)
			}
		})
	}
}

// TestDeletesOldestFirst reads the decision trace of a scale-down 10 → 2:
// every decision of the example controller chose the oldest candidates, and
// it deleted pods upstream would have kept (those with pod-deletion-cost 100
// are among the oldest).
func TestDeletesOldestFirst(t *testing.T) {
	st, err := models.Lookup(oldestfirst.StrategyName)
	require.NoError(t, err)
	res := runOnce(t, "rs-scale-down-deletion-cost", st, 1)
	require.Equal(t, run.Pass, res.Summary.Verdict, failures(res.Summary))
	decisions := res.Decisions.Decisions()
	require.NotEmpty(t, decisions)
	for _, d := range decisions {
		assert.Equal(t, oldestfirst.StrategyName, d.Controller)
		pods := make([]*corev1.Pod, len(d.Candidates))
		for i, c := range d.Candidates {
			created, err := time.Parse(time.RFC3339Nano, c.Created)
			require.NoError(t, err)
			pods[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: c.Name, CreationTimestamp: metav1.NewTime(created)}}
		}
		var want []string
		for _, p := range oldestfirst.OldestFirst(pods, len(d.Chosen)) {
			want = append(want, p.Name)
		}
		assert.Equal(t, want, d.Chosen)
	}
	assert.Positive(t, res.Summary.Ordering.Spared, "oldest-first deletes pods upstream keeps: %+v", res.Summary.Ordering)

	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	base := runOnce(t, "rs-scale-down-deletion-cost", up, 1)
	assert.Zero(t, base.Summary.Ordering.Spared, "upstream is its own reference")
}

func TestOldestFirst(t *testing.T) {
	at := func(name string, sec int) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(time.Date(2025, 1, 1, 0, 0, sec, 0, time.UTC))}}
	}
	names := func(pods []*corev1.Pod) []string {
		out := []string{}
		for _, p := range pods {
			out = append(out, p.Name)
		}
		return out
	}
	tests := []struct {
		name string
		pods []*corev1.Pod
		n    int
		want []string
	}{
		{"oldest first", []*corev1.Pod{at("c", 3), at("a", 1), at("b", 2)}, 2, []string{"a", "b"}},
		{"same time: by name", []*corev1.Pod{at("y", 5), at("x", 5), at("w", 9)}, 2, []string{"x", "y"}},
		{"more than there are", []*corev1.Pod{at("a", 1)}, 3, []string{"a"}},
		{"none", []*corev1.Pod{at("a", 1)}, 0, []string{}},
		{"negative", []*corev1.Pod{at("a", 1)}, -1, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := names(tt.pods)
			assert.Equal(t, tt.want, names(oldestfirst.OldestFirst(tt.pods, tt.n)))
			assert.Equal(t, before, names(tt.pods), "the input is not reordered")
		})
	}
}

// TestStrategy: the example replaces upstream's ReplicaSet controller and
// keeps the others.
func TestStrategy(t *testing.T) {
	st := oldestfirst.Strategy()
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	assert.Len(t, st.Controllers, len(up.Controllers))
	assert.ElementsMatch(t, up.Kinds, st.Kinds)
	c, ok := st.Controller(oldestfirst.StrategyName)
	require.True(t, ok)
	assert.Equal(t, "ReplicaSet", string(c.Kinds[0]))
	_, ok = st.Controller("upstream")
	assert.False(t, ok, "upstream's ReplicaSet controller is replaced")
	_, ok = st.Controller("upstream/rc")
	assert.True(t, ok, "the other controllers stay")
}
