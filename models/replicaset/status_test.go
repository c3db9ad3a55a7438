package replicaset

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod counts as available at the very instant ready + minReadySeconds
// (v1.36's IsPodAvailable), not a check later.
func TestAvailableReplicasAtTheBoundary(t *testing.T) {
	ready := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(ready)}}}}
	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{MinReadySeconds: 5}}
	for _, tc := range []struct {
		at        time.Duration
		available int32
	}{
		{5*time.Second - 1, 0},
		{5 * time.Second, 1},
		{5*time.Second + 1, 1},
	} {
		st := calculateStatus(rs, []*corev1.Pod{pod}, nil, nil, ready.Add(tc.at))
		assert.Equal(t, int32(1), st.ReadyReplicas, "at %v", tc.at)
		assert.Equal(t, tc.available, st.AvailableReplicas, "at %v", tc.at)
	}
}
