package replicaset

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestAvailableReplicasAtTheBoundary(t *testing.T) {
	rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{MinReadySeconds: 5}}
	modeltest.AvailableAtTheBoundary(t, 5, func(pod *corev1.Pod, now time.Time) (int32, int32) {
		st := calculateStatus(rs, []*corev1.Pod{pod}, nil, nil, now)
		return st.ReadyReplicas, st.AvailableReplicas
	})
}
