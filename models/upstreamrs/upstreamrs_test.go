package upstreamrs_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// rsScenarios are the catalog's ReplicaSet scenarios.
var rsScenarios = []string{
	"rs-adopt-after",
	"rs-adopt-before",
	"rs-chaos-stale-cache",
	"rs-hpa",
	"rs-isolate-by-relabel",
	"rs-node-loss",
	"rs-orphan-delete-readopt",
	"rs-scale-down-deletion-cost",
	"rs-self-heal",
}

func runScenario(t *testing.T, name string, st plugin.Strategy, seed uint64) *run.Result {
	t.Helper()
	sc, err := workloads.Lookup(name)
	require.NoError(t, err)
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed})
	require.NoError(t, err)
	return res
}

func checks(t *testing.T, res *run.Result) string {
	t.Helper()
	b, err := json.MarshalIndent(struct {
		Checks   any
		Failures any
	}{res.Summary.Checks, res.Summary.Failures}, "", "  ")
	require.NoError(t, err)
	return string(b)
}

func TestCatalogPassesDeterministically(t *testing.T) {
	st := upstreamrs.Strategy()
	for _, name := range rsScenarios {
		t.Run(name, func(t *testing.T) {
			first := runScenario(t, name, st, 1)
			require.Equal(t, run.Pass, first.Summary.Verdict, checks(t, first))
			second := runScenario(t, name, st, 1)
			require.Equal(t, first.Summary.Digest, second.Summary.Digest, "same scenario and seed, another digest")
		})
	}
}
