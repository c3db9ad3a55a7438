package daemonset_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// strategy is upstream's ReplicaSet controllers plus the DaemonSet model.
func strategy(t *testing.T, opts daemonset.Options) plugin.Strategy {
	t.Helper()
	return models.UpstreamWith(plugin.Controller{Name: "upstream/ds", Kinds: []apiserver.Kind{apiserver.DaemonSets}, Run: daemonset.Run(opts)})
}

// touchNodes annotates every node of the initial cluster at time 0. The
// nodes are created inside cluster.New, before run registers the
// convergence predicates' commit observer, so check.DaemonSets() would
// otherwise never learn of them and judge every pod on them to be on a node
// that does not exist. An annotation changes nothing the DaemonSet
// controller reads. (Remove once run feeds the predicates the
// objects that exist when it starts.)
func touchNodes(c *cluster.Cluster) {
	c.World.At(0, func() {
		for _, n := range c.Nodes() {
			c.API.Serve(&apiserver.Request{Client: "test-setup", Verb: apiserver.Patch, Kind: apiserver.Nodes, Name: n,
				PatchType: types.MergePatchType, Patch: []byte(`{"metadata":{"annotations":{"ctrlsim.test/observed":"true"}}}`)})
		}
	})
}

// playPassing parses a scenario written in a test (as if read from file in
// this directory: its manifests may be files in testdata), runs it once
// under the model with opts, and requires a pass.
func playPassing(t *testing.T, file, text string, opts daemonset.Options, seed uint64, setup func(*cluster.Cluster)) *run.Result {
	t.Helper()
	sc, err := workloads.ParseScenario(file, []byte(text), os.ReadFile)
	require.NoError(t, err)
	res, err := run.Run(run.Config{Scenario: sc, Strategy: strategy(t, opts), Seed: seed, Setup: setup})
	require.NoError(t, err)
	runtest.RequirePass(t, res.Summary)
	return res
}

func runScenario(t *testing.T, name string, opts daemonset.Options, seed uint64) *run.Result {
	t.Helper()
	return runtest.Scenario(t, name, strategy(t, opts), seed, touchNodes)
}

func TestNodeAddRemoveScenarioPasses(t *testing.T) {
	res := runScenario(t, "ds-node-add-remove", daemonset.Options{}, 1)
	s := res.Summary
	runtest.RequirePass(t, s)
	t.Logf("converged %s after the last step; %s virtual, %d events, pods created %d deleted %d, requests %v",
		s.ConvergenceLatency, s.VirtualTime, s.Events, s.PodsCreated, s.PodsDeleted, s.Requests)
	again := runScenario(t, "ds-node-add-remove", daemonset.Options{}, 1)
	require.Equal(t, s.Digest, again.Summary.Digest, "the same seed replays the same history")
}

// TestNodeAddRemoveUnderRandomFaults plays the scenario under random fault
// plans (swarm testing) with the upstream model and each variant.
// flap-readiness is left out: its heal stops at the first pod that has gone
// (a pod of the deleted node-2 here) and leaves the others failing their
// readiness probe for good, which no controller can fix.
func TestNodeAddRemoveUnderRandomFaults(t *testing.T) {
	variants := append([]daemonset.Variant{{Name: "upstream"}}, daemonset.Variants...)
	for _, v := range variants {
		t.Run(v.Name, func(t *testing.T) {
			for seed := uint64(1); seed <= 8; seed++ {
				sc, err := workloads.Lookup("ds-node-add-remove")
				require.NoError(t, err)
				for _, f := range faults.Random(seed, sc.FaultScope()) {
					if f.Kind != faults.FlapReadiness {
						sc.Faults = append(sc.Faults, f)
					}
				}
				res, err := run.Run(run.Config{Scenario: sc, Strategy: strategy(t, v.Options), Seed: seed, Setup: touchNodes})
				require.NoError(t, err)
				s := res.Summary
				assert.Equal(t, run.Pass, s.Verdict, "seed %d, faults %v: checks %+v, failures %+v", seed, sc.Faults, s.Checks, s.Failures)
			}
		})
	}
}
