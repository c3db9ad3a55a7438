package apiserver

import (
	"strconv"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/kube/kubetest"

	"github.com/ctrlsim/ctrlsim/harness/sim"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func benchServer(b *testing.B) (*sim.World, *Server) {
	w := sim.New(1, sim.Limits{})
	cfg := DefaultConfig()
	cfg.KeepHistory = false
	s := New(w, cfg)
	// Two watchers, as an informer and a kubelet would have.
	s.Watch(WatchOptions{Client: "informer", Kind: Pods}, func(Event) {})
	s.Watch(WatchOptions{Client: "gc", Kind: Pods}, func(Event) {})
	w.RunUntil(time.Second)
	return w, s
}

// BenchmarkAPICreateUpdateDelete: one create, one status update and one delete
// of a pod through Do (latency, history, two watchers), per iteration.
func BenchmarkAPICreateUpdateDelete(b *testing.B) {
	w, s := benchServer(b)
	tmpl := kubetest.BarePod("", map[string]string{"app": "bench"})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := tmpl.DeepCopy()
		p.Name = "p" + strconv.Itoa(i)
		s.Do(&Request{Client: "bench", Verb: Create, Kind: Pods, Object: p}, func(r *Response) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			up := r.Object.(*corev1.Pod).DeepCopy()
			up.Status.Phase = corev1.PodRunning
			s.Do(&Request{Client: "bench", Verb: Update, Kind: Pods, Name: up.Name, Subresource: "status", Object: up}, func(r *Response) {
				if r.Err != nil {
					b.Fatal(r.Err)
				}
				s.Do(&Request{Client: "bench", Verb: Delete, Kind: Pods, Name: up.Name, Delete: &metav1.DeleteOptions{}}, func(r *Response) {})
			})
		})
		if i%1000 == 999 {
			w.RunUntil(w.Elapsed() + time.Second)
		}
	}
	w.Run()
	b.ReportMetric(float64(3*b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkAPIGet: one uncached get through Do.
func BenchmarkAPIGet(b *testing.B) {
	w, s := benchServer(b)
	s.Serve(&Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("p", nil)})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Do(&Request{Client: "bench", Verb: Get, Kind: Pods, Name: "p"}, func(*Response) {})
		if i%1000 == 999 {
			w.Run()
		}
	}
	w.Run()
}
