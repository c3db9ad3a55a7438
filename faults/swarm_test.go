package faults_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

func TestRandomPlans(t *testing.T) {
	sc, err := workloads.Lookup("rs-chaos-stale-cache")
	require.NoError(t, err)
	scope := sc.FaultScope()
	assert.Equal(t, []string{"node-1", "node-2", "node-3"}, scope.Nodes)
	assert.Equal(t, []string{"tier=frontend"}, scope.Selectors)
	assert.Empty(t, scope.Owners, "its steps scale rs/frontend: no fault deletes it from under them")
	assert.Equal(t, []faults.Kind{faults.Relabel, faults.SplitBrain}, scope.Exclude, "maxOvershoot: no pods relabelled back into the selector, no second controller")
	for seed := uint64(1); seed <= 50; seed++ {
		for _, f := range faults.Random(seed, scope) {
			assert.NotEqual(t, faults.Relabel, f.Kind)
			assert.NotEqual(t, faults.OrphanDelete, f.Kind)
		}
	}
	scope.Owners, scope.Exclude = []string{"rs/frontend"}, nil // every kind has a target now

	kinds := map[faults.Kind]bool{}
	for seed := uint64(1); seed <= 200; seed++ {
		plan := faults.Random(seed, scope)
		require.NotEmpty(t, plan)
		assert.Equal(t, plan, faults.Random(seed, scope), "seed %d draws one plan", seed)
		for _, f := range plan {
			kinds[f.Kind] = true
			assert.LessOrEqual(t, f.HealsAt(), scope.Window, "seed %d: %s heals inside the window", seed, f)
		}
		// Every plan is a valid faults: section.
		text, err := yaml.Marshal(workloads.PlanNode(plan))
		require.NoError(t, err)
		again, err := workloads.ParseFaults("plan.yaml", text, sc)
		require.NoError(t, err, "seed %d:\n%s", seed, text)
		require.Len(t, again, len(plan))
		for i := range plan {
			assert.Equal(t, plan[i].String(), again[i].String())
		}
	}
	assert.Len(t, kinds, len(faults.Kinds), "200 seeds draw every kind")
	assert.NotEqual(t, faults.Random(1, scope), faults.Random(2, scope))
}
