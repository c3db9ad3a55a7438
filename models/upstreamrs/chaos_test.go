package upstreamrs_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/require"
)

// TestChaosControllerFaults crashes the hosted controller while a sync's
// goroutines wait for their requests, fails and loses its requests (slow-start
// batches that stop early), drops its watches, runs a second instance and
// skews its clock: it still converges, never panics, and replays exactly.
func TestChaosControllerFaults(t *testing.T) {
	sc, err := workloads.LoadScenario("testdata/rs-chaos-controller.yaml")
	require.NoError(t, err)
	st := upstreamrs.Strategy()
	var digest string
	for _, seed := range []uint64{1, 2, 3} {
		res := runInBubble(t, run.Config{Scenario: sc, Strategy: st, Seed: seed})
		require.Equal(t, run.Pass, res.Summary.Verdict, "seed %d: %s", seed, checks(t, res))
		require.Empty(t, res.Summary.Failures)
		again := runInBubble(t, run.Config{Scenario: sc, Strategy: st, Seed: seed})
		require.Equal(t, res.Summary.Digest, again.Summary.Digest, "seed %d replays differently", seed)
		require.NotEqual(t, digest, res.Summary.Digest, "seed %d: the same run as the seed before", seed)
		digest = res.Summary.Digest
	}
}
