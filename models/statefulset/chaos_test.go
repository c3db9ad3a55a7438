package statefulset_test

import (
	"fmt"
	"testing"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/models/statefulset"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/require"
)

// Swarm testing: random fault plans (node loss, partitions, drains, pod
// kills and force deletes, stuck terminations, relabels, API errors, lost
// responses, watch delays and drops, controller crashes, stalls, split
// brain, clock skew) over three workloads; every run must pass every check.
//
// flap-readiness is left out: when it fails on one of its pods (one whose
// node is gone) the injector reports the fault healed at once but leaves the
// readiness of the pods it already touched failing for good, so the set
// cannot converge whatever the controller does (a faults bug, reported).
func TestRandomFaults(t *testing.T) {
	seeds := uint64(30)
	if testing.Short() {
		seeds = 6
	}
	scenarios := map[string]string{
		"parallel": `
cluster: {nodeCount: 3}
manifests:` + set(4, "podManagementPolicy: Parallel\npersistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}") + `
steps:
  - at: 1m
    set-image: sts/web
    image: {nginx: "nginx:1.10"}
  - at: 2m
    scale: sts/web
    replicas: 2
  - at: 3m
    scale: sts/web
    replicas: 5
`,
		"rolling": `
cluster: {nodeCount: 3}
manifests:` + set(3, "updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}\nminReadySeconds: 5") + `
steps:
  - at: 1m
    set-image: sts/web
    image: {nginx: "nginx:1.10"}
  - at: 3m
    scale: sts/web
    replicas: 4
`,
	}
	st := strategy(t, "upstream", statefulset.Options{})
	for _, name := range []string{"sts-ordered-identity", "parallel", "rolling"} {
		for seed := uint64(1); seed <= seeds; seed++ {
			t.Run(fmt.Sprintf("%s/seed-%d", name, seed), func(t *testing.T) {
				var sc *workloads.Scenario
				if text, ok := scenarios[name]; ok {
					sc = parse(t, text)
				} else {
					var err error
					sc, err = workloads.Lookup(name)
					require.NoError(t, err)
				}
				scope := sc.FaultScope()
				scope.Exclude = append(scope.Exclude, faults.FlapReadiness)
				sc.Faults = append(sc.Faults, faults.Random(seed, scope)...)
				res, _ := play(t, sc, st, seed)
				runtest.RequirePass(t, res.Summary)
			})
		}
	}
}
