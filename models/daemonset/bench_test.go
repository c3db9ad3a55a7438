package daemonset

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkRollOut1000Nodes measures a DaemonSet going from nothing to a pod
// on each of 1,000 nodes (API server only: the pods stay Pending), syncs and
// node updates included.
func BenchmarkRollOut1000Nodes(b *testing.B) {
	for b.Loop() {
		w, api := testWorld(5*time.Millisecond, 5*time.Millisecond)
		for i := 0; i < 1000; i++ {
			api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Nodes,
				Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%04d", i)}}})
		}
		at := createTimes(api, w)
		Start(api, Options{})
		api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.DaemonSets, Object: agent()})
		w.RunUntil(time.Minute)
		if len(*at) != 1000 {
			b.Fatalf("%d pods, want 1000", len(*at))
		}
	}
}
