package deployment_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
)

// strategy is upstream's controllers with this Deployment model, with opts,
// in place of any Deployment controller the upstream strategy has.
func strategy(t testing.TB, name string, opts deployment.Options) plugin.Strategy {
	st := models.UpstreamWith(plugin.Controller{Name: name + "/deployment", Kinds: []apiserver.Kind{apiserver.Deployments}, Run: deployment.Run(opts)})
	st.Name = name
	return st
}

// The catalog's Deployment scenarios pass under upstream's controllers, with
// every check (convergence, the rolling-update bounds among the invariants),
// and replay to the same digest.
func TestCatalogScenarios(t *testing.T) {
	for _, name := range []string{"deploy-rolling-update", "deploy-pause-resume", "deploy-bad-image-undo", "deploy-history-limit-0"} {
		t.Run(name, func(t *testing.T) {
			st := strategy(t, "upstream+deployment", deployment.Options{})
			res := runtest.Scenario(t, name, st, 1, nil)
			s := res.Summary
			assert.Equal(t, run.Pass, s.Verdict, "checks %+v\nsteps %+v\nfailures %+v", s.Checks, s.Steps, s.Failures)
			t.Logf("%s: converged %s after the last step, %s virtual, %d events, requests %v", name, s.ConvergenceLatency, s.VirtualTime, s.Events, s.SortedRequests())
			again := runtest.Scenario(t, name, st, 1, nil)
			assert.Equal(t, s.Digest, again.Summary.Digest, "same seed, same history")
		})
	}
}

// The catalog's Deployment scenarios pass for other seeds and under the
// named variants too.
func TestCatalogScenariosSeedsAndVariants(t *testing.T) {
	for _, name := range []string{"deploy-rolling-update", "deploy-pause-resume", "deploy-bad-image-undo", "deploy-history-limit-0"} {
		for _, v := range variants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				st := strategy(t, v.name, v.opts)
				for seed := uint64(2); seed <= 1+seeds(); seed++ {
					s := runtest.Scenario(t, name, st, seed, nil).Summary
					assert.Equal(t, run.Pass, s.Verdict, "seed %d: checks %+v\nsteps %+v", seed, s.Checks, s.Steps)
				}
			})
		}
	}
}
