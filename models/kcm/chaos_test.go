package kcm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/run"
)

// TestChaosSweepRunsBubblesAtOnce: a chaos sweep (random fault plans) of
// upstream's controllers runs several bubbles at once in one process, and
// its runs do not depend on how many: the digests with four jobs are those
// with one. Every run passes: a red run would be a bug of upstream's code,
// of a model it runs beside, or of the hosting.
func TestChaosSweepRunsBubblesAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("a sweep")
	}
	sweep := func(jobs int) []ctrlsim.ChaosRun {
		res, err := ctrlsim.Chaos(context.Background(), ctrlsim.ChaosConfig{
			Scenarios:  []string{"rs-scale-down-deletion-cost", "rs-chaos-stale-cache", "deploy-rolling-update", "sts-ordered-identity", "ds-node-add-remove", "rc-scale"},
			Strategies: []plugin.Strategy{strategy(t, "kcm")},
			Seeds:      []uint64{1, 2, 3, 4},
			Jobs:       jobs,
			Out:        t.TempDir(),
		})
		require.NoError(t, err)
		return res.Runs
	}
	parallel, serial := sweep(4), sweep(1)
	require.Len(t, parallel, 24)
	for i, r := range parallel {
		require.Equal(t, run.Pass, r.Verdict, "%+v", r)
		require.Equal(t, serial[i].Digest, r.Digest, "%s seed %d", r.Scenario, r.Seed)
	}
}
