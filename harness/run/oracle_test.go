package run

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConvergenceCatchesAControllerThatStopsReconciling plants the bug: the
// ReplicaSet controller stops after 60 s, before the scenario's last scale.
func TestConvergenceCatchesAControllerThatStopsReconciling(t *testing.T) {
	frozen := models.Strategy{Name: "stops-at-60s", Start: func(api *apiserver.Server, tr *trace.Recorder) {
		ctl := replicaset.Start(api, replicaset.Options{Trace: tr})
		api.World().At(60*time.Second, ctl.Stop)
	}}
	sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
	require.NoError(t, err)
	res, err := Run(Config{Scenario: sc, Strategy: frozen, Seed: 1})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, Fail, s.Verdict)
	require.Len(t, s.Checks, 1)
	assert.Equal(t, check.Fail, s.Checks[0].Verdict)
	assert.Contains(t, s.Checks[0].Message, "ReplicaSet default/frontend has 10 pods, wants 2")
	assert.Equal(t, "7m0s", s.Checks[0].At, "the last step (2m) plus convergeWithin (5m)")

	// The same scenario with the controller left running passes.
	sc, _ = workloads.Lookup("rs-scale-down-deletion-cost")
	upstream, _ := models.Lookup("upstream")
	res, err = Run(Config{Scenario: sc, Strategy: upstream, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Summary.Verdict)
}
