package kcm_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
)

// BenchmarkScaleDownDeletionCost: one run of rs-scale-down-deletion-cost
// under the ReplicaSet model and under upstream's own code, hosted: the
// price of hosting (JSON over the in-process transport, a synctest.Wait per
// delivery, a bubble per run).
func BenchmarkScaleDownDeletionCost(b *testing.B) {
	up, err := models.Lookup("upstream")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		run  func()
	}{
		{"model", func() { runScenario(b, "rs-scale-down-deletion-cost", up, 1) }},
		{"hosted", func() {
			res := runScenario(b, "rs-scale-down-deletion-cost", strategy(b, "kcm-replicaset"), 1)
			if res.Summary.Verdict != run.Pass {
				b.Fatal(res.Summary.Verdict)
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.run()
			}
		})
	}
}
