package check_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// statefulSet web at 3 replicas with a "data" claim template, converged on
// revision web-2.
func statefulSet() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "sts-web", Generation: 1},
		Spec: appsv1.StatefulSetSpec{Replicas: checktest.I32(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template:             checktest.PodTemplate("nginx:2"),
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: checktest.I32(0)}}},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, Replicas: 3, ReadyReplicas: 3, CurrentRevision: "web-2", UpdateRevision: "web-2"},
	}
}

func runningPod(name string, ref metav1.OwnerReference, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{ref}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: checktest.At(1)}}},
	}
}

func statefulPod(ordinal int, revision string) *corev1.Pod {
	return runningPod(fmt.Sprint("web-", ordinal), checktest.ControllerRef("StatefulSet", "web", "sts-web"),
		map[string]string{"app": "web", appsv1.ControllerRevisionHashLabelKey: revision})
}

func claim(name string) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name)}}
}

func statefulObjects() (*appsv1.StatefulSet, []*corev1.Pod, []*corev1.PersistentVolumeClaim) {
	var pods []*corev1.Pod
	var claims []*corev1.PersistentVolumeClaim
	for i := 0; i < 3; i++ {
		pods = append(pods, statefulPod(i, "web-2"))
		claims = append(claims, claim(fmt.Sprint("data-web-", i)))
	}
	return statefulSet(), pods, claims
}

func TestStatefulSetsPredicate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(s *appsv1.StatefulSet, pods []*corev1.Pod, claims []*corev1.PersistentVolumeClaim) (put, del []apiserver.Object)
		want   string // "" for holds
	}{
		{"converged", nil, ""},
		{"observedGeneration behind", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Status.ObservedGeneration = 0
			return []apiserver.Object{s}, nil
		}, "StatefulSet default/web observedGeneration 0 is behind generation 1"},
		{"a pod missing", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return nil, []apiserver.Object{pods[1]}
		}, "StatefulSet default/web has no pod web-1"},
		{"a pod it does not control", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			pods[1].OwnerReferences = nil
			return []apiserver.Object{pods[1]}, nil
		}, "has no pod web-1"},
		{"a pod controlled by an earlier StatefulSet of the name", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			pods[0].OwnerReferences = []metav1.OwnerReference{checktest.ControllerRef("StatefulSet", "web", "sts-web-before")}
			return []apiserver.Object{pods[0]}, nil
		}, "has no pod web-0"},
		{"a pod terminating", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(pods[2])}, nil
		}, "StatefulSet default/web: its pod web-2 is terminating"},
		{"a pod pending", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			pods[2].Status.Phase = corev1.PodPending
			return []apiserver.Object{pods[2]}, nil
		}, "its pod web-2 is Pending, wants Running"},
		{"a pod not ready", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			pods[0].Status.Conditions[0].Status = corev1.ConditionFalse
			return []apiserver.Object{pods[0]}, nil
		}, "its pod web-0 is not Ready"},
		{"a pod beyond the replicas", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{statefulPod(3, "web-2")}, nil
		}, "StatefulSet default/web still has pod web-3 beyond its ordinals 0..2"},
		{"a pod with a name that is no ordinal", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			p := statefulPod(0, "web-2")
			p.Name = "web-x"
			return []apiserver.Object{p}, nil
		}, "still has pod web-x beyond its ordinals"},
		{"a terminating pod beyond the replicas", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(statefulPod(3, "web-2"))}, nil
		}, ""},
		{"a pod of the name in another namespace", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			p := statefulPod(1, "web-2")
			p.Namespace = "other"
			return []apiserver.Object{p}, []apiserver.Object{pods[1]}
		}, "has no pod web-1"},
		{"a claim missing", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, claims []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return nil, []apiserver.Object{claims[2]}
		}, "StatefulSet default/web has no PersistentVolumeClaim data-web-2"},
		{"a claim being deleted", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, claims []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(claims[0])}, nil
		}, "its PersistentVolumeClaim data-web-0 is being deleted"},
		{"claims of a scaled-down ordinal are kept", func(_ *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{claim("data-web-3")}, nil
		}, ""},
		{"status.replicas behind", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Status.Replicas = 2
			return []apiserver.Object{s}, nil
		}, "StatefulSet default/web status.replicas is 2, wants 3"},
		{"status.readyReplicas behind", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Status.ReadyReplicas = 2
			return []apiserver.Object{s}, nil
		}, "status.readyReplicas is 2, wants 3"},
		{"a pod at the old revision", func(_ *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			pods[1].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			return []apiserver.Object{pods[1]}, nil
		}, `StatefulSet default/web: its pod web-1 is at revision "web-1", wants "web-2"`},
		{"pods below the partition keep their revision", func(s *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = checktest.I32(2)
			pods[0].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			pods[1].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			return []apiserver.Object{s, pods[0], pods[1]}, nil
		}, ""},
		{"pods from the partition on are updated", func(s *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.UpdateStrategy.RollingUpdate.Partition = checktest.I32(2)
			pods[2].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			return []apiserver.Object{s, pods[2]}, nil
		}, "its pod web-2 is at revision"},
		{"OnDelete leaves old revisions", func(s *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
			pods[2].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			return []apiserver.Object{s, pods[2]}, nil
		}, ""},
		{"no update revision yet", func(s *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Status.UpdateRevision = ""
			pods[2].Labels[appsv1.ControllerRevisionHashLabelKey] = "web-1"
			return []apiserver.Object{s, pods[2]}, nil
		}, ""},
		{"scaled up", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.Replicas = checktest.I32(4)
			return []apiserver.Object{s}, nil
		}, "has no pod web-3"},
		{"scaled down", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.Replicas = checktest.I32(2)
			s.Status.Replicas, s.Status.ReadyReplicas = 2, 2
			return []apiserver.Object{s}, nil
		}, "still has pod web-2 beyond its ordinals 0..1"},
		{"ordinals from 1", func(s *appsv1.StatefulSet, _ []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 1}
			return []apiserver.Object{s}, nil
		}, "has no pod web-3"},
		{"a StatefulSet being deleted is not judged", func(s *appsv1.StatefulSet, pods []*corev1.Pod, _ []*corev1.PersistentVolumeClaim) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(s)}, []apiserver.Object{pods[0]}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, pods, claims := statefulObjects()
			objs := []apiserver.Object{s}
			for i := range pods {
				objs = append(objs, pods[i], claims[i])
			}
			st := checktest.NewStore(check.StatefulSets()).Put(objs...)
			ok, why := st.Pred.Holds()
			require.True(t, ok, why)
			if tc.change != nil {
				s, pods, claims = statefulObjects() // fresh copies: the store's are not to be modified
				put, del := tc.change(s, pods, claims)
				st.Put(put...).Del(del...)
			}
			checktest.AssertVerdict(t, tc.want, st.Pred, st.Replay(check.StatefulSets()))
		})
	}
}

func TestStatefulSetsPredicateAgreesWithReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	checktest.AgreesWithReplay(t, check.StatefulSets, 50, 80, func(st *checktest.Store) {
		switch k := r.IntN(12); {
		case k < 2:
			s := statefulSet()
			n := int32(1 + r.IntN(3))
			s.Spec.Replicas = checktest.I32(n)
			s.Status.Replicas, s.Status.ReadyReplicas = n, n-int32(r.IntN(6)/5)
			s.Status.UpdateRevision = fmt.Sprint("web-", 1+r.IntN(2))
			if r.IntN(4) == 0 {
				s = checktest.Deleting(s)
			}
			st.Put(s)
		case k < 3:
			st.Del(statefulSet())
		case k < 8:
			p := statefulPod(r.IntN(4), fmt.Sprint("web-", 1+r.IntN(2)))
			switch r.IntN(8) {
			case 0:
				p = checktest.Deleting(p)
			case 1:
				p.Status.Conditions = nil
			case 2:
				p.OwnerReferences = nil
			}
			st.Put(p)
		case k < 9:
			st.Del(statefulPod(r.IntN(4), ""))
		case k < 11:
			st.Put(claim(fmt.Sprint("data-web-", r.IntN(4))))
		default:
			st.Del(claim(fmt.Sprint("data-web-", r.IntN(4))))
		}
	})
}
