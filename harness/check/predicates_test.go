package check_test

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A controller that never releases a relabelled pod has not converged, even
// when it has created a replacement.
func TestReplicaSetsPredicateWantsRelabelledPodsReleased(t *testing.T) {
	p := check.ReplicaSets()
	owner := checktest.AppReplicaSet("a", 1, "a")
	owner.UID, owner.Generation = "rs-uid", 1
	owner.Status = appsv1.ReplicaSetStatus{Replicas: 1, ObservedGeneration: 1}
	t0 := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "a", UID: "rs-uid", Controller: ptrBool(true)}
	mk := func(name, app string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name),
			Labels: map[string]string{"app": app}, OwnerReferences: []metav1.OwnerReference{t0}}}
	}
	p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.ReplicaSets, Object: owner})
	first := mk("p1", "a")
	p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: first})
	ok, why := p.Holds()
	require.True(t, ok, why)

	relabelled := mk("p1", "debug")
	p.Observe(apiserver.Event{Type: "MODIFIED", Kind: apiserver.Pods, Object: relabelled, Old: first})
	p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: mk("p2", "a")})
	ok, why = p.Holds()
	assert.False(t, ok)
	assert.Contains(t, why, "still owns 1 pods its selector no longer matches")

	released := relabelled.DeepCopy()
	released.OwnerReferences = nil
	p.Observe(apiserver.Event{Type: "MODIFIED", Kind: apiserver.Pods, Object: released, Old: relabelled})
	ok, why = p.Holds()
	assert.True(t, ok, why)
}

func ptrBool(b bool) *bool { return &b }

// Overshoot counts a create against the spec it was sent under: one sent
// before a scale-down committed is not the controller's excess, one sent
// after is.
func TestOvershootIsMeasuredAgainstTheSpecAtSendTime(t *testing.T) {
	for _, tc := range []struct {
		name   string
		called time.Duration
		want   int
	}{
		{"sent before the scale-down", 9 * time.Second, 0},
		{"sent after the scale-down", 11 * time.Second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Duration(0)
			p := check.ReplicaSets()
			p.Clock = func() time.Duration { return now }
			owner := checktest.AppReplicaSet("a", 3, "a")
			owner.UID = "rs-uid"
			ref := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "a", UID: "rs-uid", Controller: ptrBool(true)}
			pod := func(name string) *corev1.Pod {
				return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name),
					Labels: map[string]string{"app": "a"}, OwnerReferences: []metav1.OwnerReference{ref}}}
			}
			p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.ReplicaSets, Object: owner})
			p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: pod("p1")})
			p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: pod("p2")})
			now = 10 * time.Second
			scaled := checktest.AppReplicaSet("a", 1, "a")
			scaled.UID = "rs-uid"
			p.Observe(apiserver.Event{Type: "MODIFIED", Kind: apiserver.ReplicaSets, Object: scaled, Old: owner})
			now = 12 * time.Second
			p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: pod("p3"), Called: tc.called})
			assert.Equal(t, tc.want, p.Metrics().MaxOvershoot, "3 pods against spec 1")
		})
	}
}
