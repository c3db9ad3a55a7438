package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// BenchmarkPodLifecycle: 10,000 pods on 100 nodes, created through the API,
// scheduled, started and Ready; then all deleted gracefully and run to idle.
// pods/s is whole pod lifecycles per second of wall time.
func BenchmarkPodLifecycle(b *testing.B) { benchLifecycle(b, 100, 10000) }

// BenchmarkPodLifecycle100k: the scale target, 100,000 pods on 5,000 nodes.
// Run it alone: go test -run '^$' -bench PodLifecycle100k -benchtime 1x ./harness/cluster/
func BenchmarkPodLifecycle100k(b *testing.B) { benchLifecycle(b, 5000, 100000) }

func benchLifecycle(b *testing.B, nodes, pods int) {
	var events uint64
	var virtual time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := sim.New(uint64(i+1), sim.Limits{})
		api := apiserver.DefaultConfig()
		api.KeepHistory = false
		c, err := New(w, Config{NodeCount: nodes, API: &api})
		if err != nil {
			b.Fatal(err)
		}
		w.RunUntil(time.Second) // the cluster is up before the workload starts
		ready, gone := 0, 0
		c.API.OnCommit(func(ev apiserver.Event) {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				return
			}
			if ev.Type == watch.Deleted {
				gone++
				return
			}
			if podReady(p) && (ev.Old == nil || !podReady(ev.Old.(*corev1.Pod))) {
				ready++
			}
		})
		for j := 0; j < pods; j++ {
			pod := mkPod(fmt.Sprintf("bench-%06d", j))
			c.API.Do(&apiserver.Request{Client: "bench", Verb: apiserver.Create, Kind: apiserver.Pods, Namespace: "default", Object: pod},
				func(*apiserver.Response) {})
		}
		for ready < pods && w.Step() {
		}
		if ready != pods {
			b.Fatalf("only %d of %d pods became ready", ready, pods)
		}
		for j := 0; j < pods; j++ {
			c.API.Do(&apiserver.Request{Client: "bench", Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: "default",
				Name: fmt.Sprintf("bench-%06d", j)}, func(*apiserver.Response) {})
		}
		if out := w.Run(); out.Verdict != sim.Idle || gone != pods {
			b.Fatalf("run ended %v with %d of %d pods gone", out.Verdict, gone, pods)
		}
		events += w.Events()
		virtual += w.Elapsed()
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(pods*b.N)/secs, "pods/s")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
	b.ReportMetric(virtual.Seconds()/float64(b.N), "virtual-s/op")
}

func BenchmarkPodLifecycleMid(b *testing.B) { benchLifecycle(b, 1000, 20000) }
