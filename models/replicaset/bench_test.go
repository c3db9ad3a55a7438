package replicaset

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// BenchmarkSync: one sync of a ReplicaSet that is already at its replica
// count (list, claim, status), over 1,000 and 10,000 pods in the cache.
func BenchmarkSync(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			w := sim.New(1, sim.Limits{})
			cfg := apiserver.DefaultConfig()
			cfg.KeepHistory = false
			api := apiserver.New(w, cfg)
			ctl := Start(api, Options{})
			api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(int32(n))})
			w.RunUntil(10 * time.Minute)
			if got := len(ctl.pods.List("default", nil)); got != n {
				b.Fatalf("%d pods in the cache, want %d", got, n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			ctl.ctx.Go("bench", func() {
				for i := 0; i < b.N; i++ {
					if err := ctl.sync("default/frontend"); err != nil {
						b.Error(err)
					}
				}
			})
			w.RunUntil(w.Elapsed() + time.Hour)
		})
	}
}

// BenchmarkRanking: choosing half of 1,000 and 10,000 pods to delete with the
// upstream ranking (every rule in play: nodes, phases, readiness, costs,
// restarts, ages).
func BenchmarkRanking(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("pods=%d", n), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 1))
			now := t0.Add(48 * time.Hour)
			base := make([]*corev1.Pod, n)
			for i := range base {
				p := mkPod(fmt.Sprintf("p%05d", i), onNode(fmt.Sprintf("node-%d", r.IntN(50))), created(time.Duration(r.IntN(48*3600))*time.Second))
				if r.IntN(10) > 0 {
					readyAt(time.Duration(r.IntN(48*3600)) * time.Second)(p)
				}
				if r.IntN(20) == 0 {
					cost(fmt.Sprint(r.IntN(100)))(p)
				}
				restarts(int32(r.IntN(3)))(p)
				p.UID = types.UID(fmt.Sprintf("%016x", r.Uint64()))
				base[i] = p
			}
			pods := make([]*corev1.Pod, n)
			ranks := make([]int, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				copy(pods, base)
				for j := range ranks {
					ranks[j] = j % 7
				}
				PodsToDelete(Upstream, pods, ranks, n/2, now, r)
			}
		})
	}
}
