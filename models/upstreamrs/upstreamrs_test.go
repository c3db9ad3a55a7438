package upstreamrs_test

import (
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
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

// runScenario runs a catalog scenario the way the tests host upstream's code:
// inside a testing/synctest bubble whose clock follows virtual time, so that
// upstream's own time.Now and metav1.Now() read it.
func runScenario(t *testing.T, name string, st plugin.Strategy, seed uint64) *run.Result {
	t.Helper()
	sc, err := workloads.Lookup(name)
	require.NoError(t, err)
	return runInBubble(t, run.Config{Scenario: sc, Strategy: st, Seed: seed})
}

// runInBubble runs cfg with SyncWallClock inside a synctest bubble, and checks
// that the wall clock ended at the run's virtual time: nothing hosted moved
// it on its own.
func runInBubble(t *testing.T, cfg run.Config) *run.Result {
	t.Helper()
	cfg.SyncWallClock = true
	var res *run.Result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = run.Run(cfg)
		require.NoError(t, err)
		end, err := time.ParseDuration(res.Summary.VirtualTime)
		require.NoError(t, err)
		require.Equal(t, sim.Epoch.Add(end), time.Now().UTC(), "the wall clock left virtual time")
	})
	require.NotNil(t, res)
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

// clockProbe compares the wall clock with the World's at every request.
type clockProbe struct {
	w             *sim.World
	hosted, wrong int
}

func (p *clockProbe) Intercept(req *apiserver.Request) apiserver.Interception {
	if req.Client == upstreamrs.Name {
		p.hosted++
	}
	if !time.Now().Equal(p.w.Now()) {
		p.wrong++
	}
	return apiserver.Interception{}
}

// TestHostedCodeReadsVirtualTime: inside the bubble, the wall clock upstream
// reads (metav1.Now() in its ranking and conditions, its expectations) is the
// World's clock whenever the World serves a request.
func TestHostedCodeReadsVirtualTime(t *testing.T) {
	sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
	require.NoError(t, err)
	probe := &clockProbe{}
	res := runInBubble(t, run.Config{Scenario: sc, Strategy: upstreamrs.Strategy(), Seed: 1,
		Setup: func(c *cluster.Cluster) { probe.w = c.World }, Interceptor: probe})
	require.Equal(t, run.Pass, res.Summary.Verdict, checks(t, res))
	require.Positive(t, probe.hosted)
	require.Zero(t, probe.wrong)
}

// TestCatalogPassesOutsideABubble: with WallClock off the strategy runs
// outside a bubble, and upstream's ranking reads the real date (see the
// package documentation); it still passes.
func TestCatalogPassesOutsideABubble(t *testing.T) {
	st := upstreamrs.Strategy()
	st.WallClock = false
	for _, name := range rsScenarios {
		sc, err := workloads.Lookup(name)
		require.NoError(t, err)
		res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
		require.NoError(t, err)
		require.Equal(t, run.Pass, res.Summary.Verdict, "%s: %s", name, checks(t, res))
	}
}
