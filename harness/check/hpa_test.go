package check_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// hpa scales Deployment web between 2 and 10; it is at 4.
func hpa() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "hpa-web", Generation: 1},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    checktest.I32(2), MaxReplicas: 10},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{ObservedGeneration: checktest.Ptr(int64(1)), CurrentReplicas: 4, DesiredReplicas: 4},
	}
}

func TestHPAsPredicate(t *testing.T) {
	target := func(n int32) *corev1.ReplicationController {
		return &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "rc-web"}, Spec: corev1.ReplicationControllerSpec{Replicas: checktest.I32(n)}}
	}
	scaled := func(n int32) apiserver.Object {
		d := checktest.Deployment()
		d.Spec.Replicas = checktest.I32(n)
		return d
	}
	recommends := func(n int32) func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool) {
		return func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool) { return n, true }
	}
	for _, tc := range []struct {
		name      string
		change    func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object // objects put after the HPA and the Deployment at 4
		recommend func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool)
		want      string // "" for holds
	}{
		{"converged", nil, nil, ""},
		{"observedGeneration behind", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Generation = 2
			return []apiserver.Object{h}
		}, nil, "HorizontalPodAutoscaler default/web observedGeneration 1 is behind generation 2"},
		{"no observedGeneration", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.ObservedGeneration = nil
			h.Generation = 2
			return []apiserver.Object{h}
		}, nil, ""},
		{"target missing", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef.Name = "api"
			return []apiserver.Object{h}
		}, nil, "HorizontalPodAutoscaler default/web targets Deployment default/api, which does not exist"},
		{"target of a kind it cannot scale", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef.Kind = "DaemonSet"
			return []apiserver.Object{h}
		}, nil, "targets DaemonSet default/web, which is not a kind it can scale"},
		{"target above max", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 11, 11
			return []apiserver.Object{h, scaled(11)}
		}, nil, "HorizontalPodAutoscaler default/web: its target Deployment default/web has 11 replicas, outside [2, 10]"},
		{"target below min", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 1, 1
			return []apiserver.Object{h, scaled(1)}
		}, nil, "has 1 replicas, outside [2, 10]"},
		{"min defaults to 1", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.MinReplicas = nil
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 1, 1
			return []apiserver.Object{h, scaled(1)}
		}, nil, ""},
		{"target scaled to 0: scaling disabled", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 0, 0
			return []apiserver.Object{h, scaled(0)}
		}, recommends(5), ""},
		{"target scaled to 0, status not following", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			return []apiserver.Object{scaled(0)}
		}, nil, "its target Deployment default/web is at 0 replicas (scaling disabled) but status has current 4, desired 4, wants 0 and 0"},
		{"desired behind the target", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.DesiredReplicas = 5
			return []apiserver.Object{h}
		}, nil, "HorizontalPodAutoscaler default/web status.desiredReplicas is 5, but its target Deployment default/web has 4 replicas"},
		{"current behind the target", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas = 3
			return []apiserver.Object{h}
		}, nil, "status.currentReplicas is 3, but its target Deployment default/web has 4 replicas"},
		{"target scaled by someone else", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			return []apiserver.Object{scaled(6)}
		}, nil, "status.desiredReplicas is 4, but its target Deployment default/web has 6 replicas"},
		{"target deleted", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			return nil
		}, nil, "which does not exist"},
		{"metrics agree", nil, recommends(4), ""},
		{"metrics call for more", nil, recommends(6), "HorizontalPodAutoscaler default/web: its target Deployment default/web has 4 replicas, the metrics call for 6"},
		{"metrics call for more than max", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 10, 10
			return []apiserver.Object{h, scaled(10)}
		}, recommends(40), ""},
		{"metrics call for less than min", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 2, 2
			return []apiserver.Object{h, scaled(2)}
		}, recommends(0), ""},
		{"metrics unknown", nil, func(*autoscalingv2.HorizontalPodAutoscaler) (int32, bool) { return 9, false }, ""},
		{"a ReplicationController target", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "ReplicationController", Name: "web"}
			return []apiserver.Object{h, target(4)}
		}, nil, ""},
		{"a ReplicationController target out of bounds", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "v1", Kind: "ReplicationController", Name: "web"}
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 12, 12
			return []apiserver.Object{h, target(12)}
		}, nil, "its target ReplicationController default/web has 12 replicas, outside [2, 10]"},
		{"a ReplicaSet target", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-new"}
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 3, 3
			return []apiserver.Object{h, checktest.ReplicaSet("web-new", "nginx:2", "x", 0, 3)}
		}, nil, ""},
		{"a StatefulSet target", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web"}
			h.Status.CurrentReplicas, h.Status.DesiredReplicas = 3, 3
			return []apiserver.Object{h, statefulSet()}
		}, nil, ""},
		{"an HPA being deleted is not judged", func(h *autoscalingv2.HorizontalPodAutoscaler) []apiserver.Object {
			h.Status.DesiredReplicas = 9
			return []apiserver.Object{checktest.Deleting(h)}
		}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := checktest.NewStore(check.HPAs(tc.recommend)).Put(hpa(), scaled(4))
			if tc.change != nil {
				st.Put(tc.change(hpa())...)
			}
			if tc.name == "target deleted" {
				st.Del(scaled(4))
			}
			checktest.AssertVerdict(t, tc.want, st.Pred)
		})
	}
}

// The first failing HPA in (namespace, name) order is the one reported, and a
// deleted HPA is forgotten.
func TestHPAsPredicateOrderAndDeletion(t *testing.T) {
	a, b := hpa(), hpa()
	a.Name, a.UID, a.Status.DesiredReplicas = "b-second", "hpa-b", 7
	b.Name, b.UID, b.Status.DesiredReplicas = "a-first", "hpa-a", 5
	d := checktest.Deployment()
	d.Spec.Replicas = checktest.I32(4)
	st := checktest.NewStore(check.HPAs(nil)).Put(a, b, d)
	ok, why := st.Pred.Holds()
	require.False(t, ok)
	assert.Contains(t, why, "HorizontalPodAutoscaler default/a-first status.desiredReplicas is 5")
	st.Del(b)
	_, why = st.Pred.Holds()
	assert.Contains(t, why, "HorizontalPodAutoscaler default/b-second status.desiredReplicas is 7")
	st.Del(a)
	ok, why = st.Pred.Holds()
	assert.True(t, ok, why)
}
