package statefulset

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestAvailableReplicasAtTheBoundary(t *testing.T) {
	modeltest.AvailableAtTheBoundary(t, 10, func(pod *corev1.Pod, now time.Time) (int32, int32) {
		var st appsv1.StatefulSetStatus
		countStatus(&st, 10, "", "", now, []*corev1.Pod{pod})
		return st.ReadyReplicas, st.AvailableReplicas
	})
}
