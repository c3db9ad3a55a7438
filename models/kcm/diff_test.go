package kcm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim"
	"github.com/ctrlsim/ctrlsim/models"
)

// Without faults, upstream's own controllers and the models decide alike as
// ctrlsim diff reads decisions, on the scenarios where they used to differ
// only by artefacts: pods upstream's ranking cannot tell apart
// (deploy-bad-image-undo, rs-chaos-stale-cache, rs-hpa,
// rs-scale-down-deletion-cost, rc-canary-tracks, rc-scale; ties and circles
// among pods of one log2 bucket, and states that drifted apart by the hosted
// informers' timing), and a StatefulSet pod deleted again while it
// terminated (sts-ordered-identity).
func TestDiffAgreesWithoutFaults(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	seeds := make([]uint64, 20)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	for _, c := range []struct {
		strategy  string
		scenarios []string
	}{
		{"kcm-replicaset", []string{"deploy-bad-image-undo", "rs-chaos-stale-cache", "rs-hpa", "rs-scale-down-deletion-cost"}},
		{"kcm-replicationcontroller", []string{"rc-canary-tracks", "rc-scale"}},
		{"kcm-deployment", []string{"deploy-bad-image-undo"}},
		{"kcm-statefulset", []string{"sts-ordered-identity"}},
	} {
		t.Run(c.strategy, func(t *testing.T) {
			res, err := ctrlsim.Diff(context.Background(), ctrlsim.DiffConfig{A: up, B: strategy(t, c.strategy),
				Scenarios: c.scenarios, Seeds: seeds, NoFaults: true})
			require.NoError(t, err)
			for _, r := range res.Runs {
				assert.True(t, r.Agree, "%s seed %d: %v", r.Scenario, r.Seed, r.Differences)
			}
		})
	}
}
