package run_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A strategy that reads the wall clock runs in a synctest bubble; hosted
// code that leaves a goroutine blocked for ever keeps the bubble from
// ending. That is the controller's failure, reported with the seed, not an
// error of the harness.
func TestABubbleThatCannotEndIsAControllerFailure(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	leaky := up.With(plugin.Controller{Name: "leaky", Kinds: []apiserver.Kind{apiserver.DaemonSets},
		Run: func(*controller.Context, *trace.Recorder) {
			never := make(chan struct{})
			go func() { <-never }() // a raw goroutine that outlives the run
		}})
	leaky.Name, leaky.WallClock = "leaky", true
	sc, err := workloads.Lookup("rs-self-heal")
	require.NoError(t, err)

	res, err := run.Run(run.Config{Scenario: sc, Strategy: leaky, Seed: 3})
	require.NoError(t, err)
	assert.Equal(t, run.Fail, res.Summary.Verdict)
	require.NotEmpty(t, res.Summary.Failures)
	f := res.Summary.Failures[len(res.Summary.Failures)-1]
	assert.Equal(t, "bubble", f.Kind)
	assert.Equal(t, uint64(3), f.Seed)
	assert.Equal(t, "controller failure: leaky", res.Summary.Signature())
}
