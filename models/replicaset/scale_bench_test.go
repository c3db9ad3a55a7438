package replicaset_test

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// BenchmarkScaleUpDown10k: the upstream model scales a ReplicaSet 0 → 10,000
// → 0 on 100 nodes, end to end (scheduler, kubelets, garbage collector, the
// convergence check), one whole run per iteration.
func BenchmarkScaleUpDown10k(b *testing.B) {
	strategy, err := models.Lookup("upstream")
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	for i := 0; i < b.N; i++ {
		objs, err := workloads.Manifest("frontend.yaml")
		if err != nil {
			b.Fatal(err)
		}
		cfg := cluster.DefaultConfig()
		cfg.NodeCount = 100
		sc := &workloads.Scenario{Name: "scale-10k", Cluster: cfg, Objects: objs, Steps: []workloads.Step{
			{At: time.Second, Action: workloads.Scale, Target: "rs/frontend", Replicas: 10000},
			{At: 5 * time.Minute, Action: workloads.Scale, Target: "rs/frontend", Replicas: 0},
		}}
		res, err := run.Run(run.Config{Scenario: sc, Strategy: strategy, Seed: uint64(i + 1)})
		if err != nil {
			b.Fatal(err)
		}
		s := res.Summary
		if s.Verdict != run.Pass || s.PodsCreated < 10000 {
			b.Fatalf("verdict %s, %d pods created: %+v", s.Verdict, s.PodsCreated, s.Checks)
		}
		events += s.Events
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}
