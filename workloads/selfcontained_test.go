package workloads_test

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every catalog scenario, written self-contained and read back, is the same
// scenario: same objects, steps and expectations, needing no other file.
func TestSelfContainedRoundTrip(t *testing.T) {
	plan := faults.Plan{
		{Kind: faults.LoseNode, At: 30 * time.Second, For: time.Minute, Target: "node/node-1"},
		{Kind: faults.KillPod, At: time.Minute, Target: "pods", Selector: "app=x", Count: 2},
		{Kind: faults.WatchDelay, At: 10 * time.Second, For: time.Minute, Target: "rs", Delay: apiserverDist(time.Second, 5*time.Second)},
		{Kind: faults.APIError, At: 10 * time.Second, For: time.Minute, Target: "create,update", Code: 409, Rate: 0.25, Clients: "all"},
		{Kind: faults.Relabel, At: 10 * time.Second, For: time.Minute, Target: "pods", Set: map[string]string{"app": "y"}, Remove: []string{"tier"}},
		{Kind: faults.ClockSkew, At: 10 * time.Second, For: time.Minute, Target: "*", Skew: -30 * time.Second},
	}
	for _, name := range workloads.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := workloads.Lookup(name)
			require.NoError(t, err)
			text, err := sc.SelfContained(plan, "naive", 42)
			require.NoError(t, err)
			again, err := workloads.ParseScenario("elsewhere/repro.yaml", text, nil)
			require.NoError(t, err, "%s", text)
			assert.Equal(t, sc.Name, again.Name)
			assert.Equal(t, len(sc.Objects), len(again.Objects))
			for i := range sc.Objects {
				assert.Equal(t, sc.Objects[i], again.Objects[i])
			}
			require.Equal(t, len(sc.Steps), len(again.Steps))
			for i := range sc.Steps {
				assert.Equal(t, sc.Steps[i].String(), again.Steps[i].String())
				assert.Equal(t, sc.Steps[i].Objects, again.Steps[i].Objects)
			}
			assert.Equal(t, sc.Expect, again.Expect)
			assert.Equal(t, sc.Cluster, again.Cluster)
			require.Len(t, again.Faults, len(plan))
			for i := range plan {
				assert.Equal(t, plan[i].String(), again.Faults[i].String())
			}
			assert.Equal(t, "naive", again.Run.Strategy)
			require.NotNil(t, again.Run.Seed)
			assert.Equal(t, uint64(42), *again.Run.Seed)
		})
	}
}

func apiserverDist(lo, hi time.Duration) apiserver.Dist { return apiserver.Dist{Min: lo, Max: hi} }
