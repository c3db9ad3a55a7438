package run

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// TestConvergenceCatchesAControllerThatStopsReconciling plants the bug: the
// ReplicaSet controller stops after 60 s, before the scenario's last scale.
func TestConvergenceCatchesAControllerThatStopsReconciling(t *testing.T) {
	frozen := plugin.Strategy{Name: "stops-at-60s", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Controllers: []plugin.Controller{{Name: "stops-at-60s",
		Run: func(ctx *controller.Context, tr *trace.Recorder) {
			ctl := replicaset.StartWithContext(ctx, replicaset.Options{Name: ctx.Name(), Trace: tr})
			ctx.World().At(60*time.Second, ctl.Stop)
		}}}}
	sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
	require.NoError(t, err)
	res, err := Run(Config{Scenario: sc, Strategy: frozen, Seed: 1})
	require.NoError(t, err)
	s := res.Summary
	assert.Equal(t, Fail, s.Verdict)
	conv := find(t, s.Checks, "convergence")
	assert.Equal(t, check.Fail, conv.Verdict)
	assert.Contains(t, conv.Message, "ReplicaSet default/frontend has 10 pods, wants 2")
	assert.Regexp(t, `^7m0\.0\d+s$`, conv.At, "the last step (done a few ms after 2m) plus convergeWithin (5m)")

	// The same scenario with the controller left running passes.
	sc, _ = workloads.Lookup("rs-scale-down-deletion-cost")
	upstream, _ := models.Lookup("upstream")
	res, err = Run(Config{Scenario: sc, Strategy: upstream, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Summary.Verdict)
}

func find(t *testing.T, checks []check.Result, name string) check.Result {
	t.Helper()
	for _, c := range checks {
		if c.Check == name {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, checks)
	return check.Result{}
}

func TestStepsCheck(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	scenario := func(steps ...workloads.Step) *workloads.Scenario {
		sc, err := workloads.Lookup("rc-scale")
		require.NoError(t, err)
		sc.Steps = steps
		return sc
	}
	for _, tc := range []struct {
		name    string
		step    workloads.Step
		verdict check.Verdict
		message string
	}{
		{"a step that works", workloads.Step{At: 10 * time.Second, Action: workloads.Scale, Target: "rc/frontend-controller", Replicas: 3}, check.Pass, ""},
		{"a step that fails", workloads.Step{At: 10 * time.Second, Action: workloads.Scale, Target: "rc/missing", Replicas: 3}, check.Fail, `replicationcontrollers "missing" not found`},
		{"an expected Conflict", workloads.Step{At: 10 * time.Second, Action: workloads.Scale, Target: "rc/frontend-controller", Replicas: 3,
			ResourceVersion: "1", ExpectError: "Conflict"}, check.Pass, ""},
		{"an expected Conflict that does not come", workloads.Step{At: 10 * time.Second, Action: workloads.Scale, Target: "rc/frontend-controller", Replicas: 3,
			ExpectError: "Conflict"}, check.Fail, "expected the step to fail with Conflict, but it succeeded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(Config{Scenario: scenario(tc.step), Strategy: upstream, Seed: 1})
			require.NoError(t, err)
			got := find(t, res.Summary.Checks, "steps")
			assert.Equal(t, tc.verdict, got.Verdict)
			assert.Contains(t, got.Message, tc.message)
			if tc.verdict == check.Fail {
				assert.Equal(t, Fail, res.Summary.Verdict)
			}
		})
	}
}

func TestAScenarioNeedingAMissingModelSaysSo(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	sc, err := workloads.ParseScenario("deploy.yaml", []byte(`
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: nginx-deployment}
      spec:
        selector: {matchLabels: {app: nginx}}
        template:
          metadata: {labels: {app: nginx}}
          spec: {containers: [{name: nginx, image: "nginx:1.7.9"}]}
`), nil)
	require.NoError(t, err)
	// Every kind has a model now: a strategy of ReplicaSets only.
	rsOnly := plugin.Strategy{Name: "rs-only", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Controllers: upstream.Controllers[:1]}
	_, err = Run(Config{Scenario: sc, Strategy: rsOnly, Seed: 1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Deployment "nginx-deployment" needs a Deployment controller, and strategy "rs-only" does not run one`)
}

// staleReads plants a store bug: a GET is answered with the version of the
// object before its latest write, as a lagging replica would. It learns the
// versions from the answers to writes, which all pass through it.
type staleReads struct {
	prev, last map[string]apiserver.Object
	planted    int
}

func (s *staleReads) Intercept(*apiserver.Request) apiserver.Interception {
	return apiserver.Interception{Rewrite: func(req *apiserver.Request, resp *apiserver.Response) *apiserver.Response {
		k := string(req.Kind) + "/" + req.Namespace + "/" + req.Name
		if resp.Err != nil || req.Subresource == "scale" {
			return resp
		}
		if req.Verb != apiserver.Get {
			if o := resp.Object; o != nil && (s.last[k] == nil || s.last[k].GetResourceVersion() != o.GetResourceVersion()) {
				s.prev[k], s.last[k] = s.last[k], o
			}
			return resp
		}
		if old := s.prev[k]; old != nil {
			s.planted++
			return &apiserver.Response{Object: old, ResourceVersion: old.GetResourceVersion()}
		}
		return resp
	}}
}

func TestLinearizabilityCatchesAStoreServingStaleReads(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	sc, err := workloads.Lookup("rs-adopt-after")
	require.NoError(t, err)
	bug := &staleReads{prev: map[string]apiserver.Object{}, last: map[string]apiserver.Object{}}
	res, err := Run(Config{Scenario: sc, Strategy: upstream, Seed: 1, Interceptor: bug})
	require.NoError(t, err)
	require.Positive(t, bug.planted, "the scenario reads objects after writing them")
	lin := find(t, res.Summary.Checks, "linearizability")
	assert.Equal(t, check.Fail, lin.Verdict)
	assert.Equal(t, Fail, res.Summary.Verdict)
	dir := t.TempDir() + "/run"
	require.NoError(t, res.WriteDir(dir))
	page, err := os.ReadFile(dir + "/linearizability.html")
	require.NoError(t, err)
	assert.Contains(t, string(page), "step: ", "the workload's steps are drawn on the timeline")
}

// TestOvershootMetricCatchesAControllerWithoutExpectations: the naive
// strategy (no expectations) creates pods beyond spec.replicas; upstream does not.
func TestOvershootMetricCatchesAControllerWithoutExpectations(t *testing.T) {
	overshoot := func(strategy string) int {
		st, _ := models.Lookup(strategy)
		worst := 0
		for seed := uint64(1); seed <= 5; seed++ {
			sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
			require.NoError(t, err)
			res, err := Run(Config{Scenario: sc, Strategy: st, Seed: seed})
			require.NoError(t, err)
			worst = max(worst, res.Summary.MaxOvershoot)
		}
		return worst
	}
	assert.Zero(t, overshoot("upstream"))
	assert.Positive(t, overshoot("naive"))
}

// TestWatchCheckCatchesASkippedEvent plants a lossy watch: the ReplicaSet
// controller's pod watch loses one event.
func TestWatchCheckCatchesASkippedEvent(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	run := func(plant bool) Summary {
		sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
		require.NoError(t, err)
		dropped := 0
		res, err := Run(Config{Scenario: sc, Strategy: upstream, Seed: 1, Setup: func(c *cluster.Cluster) {
			if !plant {
				return
			}
			c.API.WatchFault = func(w *apiserver.Watcher, ev apiserver.Event) bool {
				o := w.Options()
				if o.Client == "upstream" && o.Kind == apiserver.Pods && dropped == 0 && c.World.Elapsed() > 30*time.Second {
					dropped++
					return true
				}
				return false
			}
		}})
		require.NoError(t, err)
		if plant {
			require.Equal(t, 1, dropped)
		}
		return res.Summary
	}
	assert.Equal(t, check.Pass, find(t, run(false).Checks, "watch").Verdict)
	got := find(t, run(true).Checks, "watch")
	assert.Equal(t, check.Fail, got.Verdict)
	assert.Contains(t, got.Message, "of upstream (Pod): gap: the ")
	assert.Contains(t, got.Message, "never arrived")
}

func TestOvershootInvariantWhenTheScenarioAsks(t *testing.T) {
	verdict := func(strategy string, seed uint64) check.Verdict {
		st, _ := models.Lookup(strategy)
		sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
		require.NoError(t, err)
		zero := 0
		sc.Expect.MaxOvershoot = &zero
		res, err := Run(Config{Scenario: sc, Strategy: st, Seed: seed})
		require.NoError(t, err)
		return find(t, res.Summary.Checks, "overshoot").Verdict
	}
	assert.Equal(t, check.Pass, verdict("upstream", 2))
	failed := false
	for seed := uint64(1); seed <= 5 && !failed; seed++ {
		failed = verdict("naive", seed) == check.Fail
	}
	assert.True(t, failed, "naive overshoots on some seed")
}

// loseWrites loses the responses of the ReplicaSet controller's first pod
// creates: they commit, but the controller hears a timeout.
type loseWrites struct{ lost int }

func (l *loseWrites) Intercept(req *apiserver.Request) apiserver.Interception {
	if req.Client == "upstream" && req.Verb == apiserver.Create && req.Kind == apiserver.Pods && l.lost < 2 {
		l.lost++
		return apiserver.Interception{LoseResponse: true, Timeout: 30 * time.Second}
	}
	return apiserver.Interception{}
}

// TestLostResponsesAreOpenIntervals: writes whose response never came are in
// the history with no return and the server's outcome; the history is still
// linearizable, and the controller converges (expectations expire or the
// timeout error releases them).
func TestLostResponsesAreOpenIntervals(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	sc, err := workloads.Lookup("rs-scale-down-deletion-cost")
	require.NoError(t, err)
	lose := &loseWrites{}
	res, err := Run(Config{Scenario: sc, Strategy: upstream, Seed: 1, Interceptor: lose})
	require.NoError(t, err)
	require.Equal(t, 2, lose.lost)
	open := 0
	for _, op := range res.History {
		if op.Return == nil && op.Commit != nil {
			open++
			assert.Equal(t, 200, op.Code, "the server's outcome is recorded")
		}
	}
	assert.Equal(t, 2, open)
	assert.Equal(t, check.Pass, find(t, res.Summary.Checks, "linearizability").Verdict)
	assert.Equal(t, Pass, res.Summary.Verdict, "%+v", res.Summary.Checks)
}

// A ReplicaSet with minReadySeconds becomes available and the run ends (the
// availability check at the exact boundary used to requeue forever at one
// virtual instant).
func TestMinReadySecondsConverges(t *testing.T) {
	sc, err := workloads.ParseScenario("mrs.yaml", []byte(`
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web}
      spec:
        replicas: 3
        minReadySeconds: 5
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: nginx}]}
steps:
  - wait: rs/web available=3
    timeout: 1m
`), nil)
	require.NoError(t, err)
	upstream, _ := models.Lookup("upstream")
	res, err := Run(Config{Scenario: sc, Strategy: upstream, Seed: 1, MaxEvents: 200_000})
	require.NoError(t, err)
	assert.Equal(t, Pass, res.Summary.Verdict, "%+v", res.Summary.Checks)
}

type never struct{}

func (never) Observe(apiserver.Event) {}
func (never) Holds() (bool, string)   { return false, "the strategy's own predicate never holds" }

// A strategy's own predicate and invariant take part in the verdict.
func TestStrategyChecks(t *testing.T) {
	upstream, _ := models.Lookup("upstream")
	sc, err := workloads.Lookup("rs-self-heal")
	require.NoError(t, err)
	st := upstream
	st.Predicate = func() check.Predicate { return never{} }
	res, err := Run(Config{Scenario: sc, Strategy: st, Seed: 1})
	require.NoError(t, err)
	conv := find(t, res.Summary.Checks, "convergence")
	assert.Equal(t, check.Fail, conv.Verdict)
	assert.Contains(t, conv.Message, "the strategy's own predicate never holds")

	sc, _ = workloads.Lookup("rs-self-heal")
	st = upstream
	st.Invariant = func() func(apiserver.Event) error {
		return func(ev apiserver.Event) error {
			if ev.Kind == apiserver.Pods && ev.Type == "DELETED" {
				return fmt.Errorf("%s was deleted", ev.Key)
			}
			return nil
		}
	}
	res, err = Run(Config{Scenario: sc, Strategy: st, Seed: 1})
	require.NoError(t, err)
	inv := find(t, res.Summary.Checks, "invariants")
	assert.Equal(t, check.Fail, inv.Verdict)
	assert.Contains(t, inv.Message, "was deleted")
	assert.NotEmpty(t, inv.At)
}
