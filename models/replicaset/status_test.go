package replicaset

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod exactly at ready + minReadySeconds is not available yet (upstream's
// strict "before"), and gets no check "now": that would requeue the
// ReplicaSet at the same virtual instant forever.
func TestNextAvailabilityCheckAtTheBoundary(t *testing.T) {
	ready := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(ready)}}}}
	for _, tc := range []struct {
		now       time.Time
		available bool
		next      time.Duration
		found     bool
	}{
		{ready.Add(2 * time.Second), false, 3 * time.Second, true},
		{ready.Add(5 * time.Second), false, 0, false},
		{ready.Add(6 * time.Second), true, 0, false},
	} {
		assert.Equal(t, tc.available, isAvailable(pod, 5, tc.now), "at %v", tc.now.Sub(ready))
		next, found := nextAvailabilityCheck([]*corev1.Pod{pod}, 5, tc.now)
		assert.Equal(t, tc.found, found, "at %v", tc.now.Sub(ready))
		assert.Equal(t, tc.next, next)
	}
}
