// Package runtest holds what the tests that run whole scenarios share: a
// catalog scenario run under a strategy, and a pass required with what to
// look at when it is not one.
package runtest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// Scenario runs the catalog scenario name once under st with seed; setup, if
// not nil, sees the cluster before anything starts (run.Config.Setup).
func Scenario(t testing.TB, name string, st plugin.Strategy, seed uint64, setup func(*cluster.Cluster)) *run.Result {
	t.Helper()
	sc, err := workloads.Lookup(name)
	require.NoError(t, err)
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed, Setup: setup})
	require.NoError(t, err)
	return res
}

// RequirePass stops t unless the run passed, showing its checks, steps and
// failures.
func RequirePass(t testing.TB, s run.Summary) {
	t.Helper()
	require.Equal(t, run.Pass, s.Verdict, "checks: %+v\nsteps: %+v\nfailures: %+v", s.Checks, s.Steps, s.Failures)
}
