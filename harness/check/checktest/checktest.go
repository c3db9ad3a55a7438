// Package checktest has the fixtures the checks' tests share: a store that
// turns writes into the events the API server would commit, objects of a
// converged web Deployment and its ReplicaSets, and the ReplicaSet predicate
// computed from scratch.
package checktest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
)

// Store turns writes into the events the server would commit, in order, and
// feeds them to a predicate.
type Store struct {
	objs map[string]apiserver.Object
	Pred check.Predicate
}

func NewStore(pred check.Predicate) *Store {
	return &Store{objs: map[string]apiserver.Object{}, Pred: pred}
}

func storeKey(obj apiserver.Object) string {
	return string(apiserver.KindOf(obj)) + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

func eventKey(obj apiserver.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

func (s *Store) Put(objs ...apiserver.Object) *Store {
	for _, obj := range objs {
		k := storeKey(obj)
		typ := watch.Added
		old := s.objs[k]
		if old != nil {
			typ = watch.Modified
		}
		s.objs[k] = obj
		s.Pred.Observe(apiserver.Event{Type: typ, Kind: apiserver.KindOf(obj), Key: eventKey(obj), Object: obj, Old: old})
	}
	return s
}

func (s *Store) Del(objs ...apiserver.Object) *Store {
	for _, obj := range objs {
		k := storeKey(obj)
		old := s.objs[k]
		if old == nil {
			continue
		}
		delete(s.objs, k)
		s.Pred.Observe(apiserver.Event{Type: watch.Deleted, Kind: apiserver.KindOf(old), Key: eventKey(old), Object: old, Old: old})
	}
	return s
}

// Replay feeds the current objects, in key order, to a fresh predicate.
func (s *Store) Replay(pred check.Predicate) check.Predicate {
	keys := slices.Sorted(maps.Keys(s.objs))
	for _, k := range keys {
		obj := s.objs[k]
		pred.Observe(apiserver.Event{Type: watch.Added, Kind: apiserver.KindOf(obj), Key: eventKey(obj), Object: obj})
	}
	return pred
}

// I32 and Ptr make pointers for optional fields.
func I32(n int32) *int32 { return &n }

// At is sec seconds into a run, as objects carry it.
func At(sec int) metav1.Time { return metav1.NewTime(sim.Epoch.Add(time.Duration(sec) * time.Second)) }

// ControllerRef is a controller owner reference of kind.
func ControllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	t := true
	gv := "apps/v1"
	if kind == "ReplicationController" {
		gv = "v1"
	}
	return metav1.OwnerReference{APIVersion: gv, Kind: kind, Name: name, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
}

// Deleting is obj with a deletionTimestamp.
func Deleting[T apiserver.Object](obj T) T {
	c := obj.DeepCopyObject().(T)
	now := At(1000)
	c.SetDeletionTimestamp(&now)
	return c
}

// PodTemplate is web's pod template with image.
func PodTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}}
}

// Deployment is web at 3 replicas, converged on nginx:2.
func Deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "dep-web", Generation: 2},
		Spec: appsv1.DeploymentSpec{Replicas: I32(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: PodTemplate("nginx:2"),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: Ptr(intstr.FromString("25%")), MaxUnavailable: Ptr(intstr.FromString("25%"))}},
			RevisionHistoryLimit: I32(10)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3},
	}
}

func Ptr[T any](v T) *T { return &v }

// ReplicaSet is one of web's with the given image, hash, creation second and replicas
// (spec and status alike).
func ReplicaSet(name, image, hash string, created int, replicas int32) *appsv1.ReplicaSet {
	t := PodTemplate(image)
	t.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("rs-" + name), Generation: 1,
			CreationTimestamp: At(created), OwnerReferences: []metav1.OwnerReference{ControllerRef("Deployment", "web", "dep-web")}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: I32(replicas), Template: t},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas, ObservedGeneration: 1},
	}
}

// GroundTruthReplicaSets is the ReplicaSet predicate computed from scratch over every
// stored object: slow and obviously right, the reference for the incremental one.
func GroundTruthReplicaSets(api *apiserver.Server) bool {
	type owner struct {
		uid          types.UID
		ns           string
		sel          labels.Selector
		spec, status int32
		gen, obs     int64
		count        int32
	}
	var owners []*owner
	for _, o := range api.Objects(apiserver.ReplicaSets) {
		rs := o.(*appsv1.ReplicaSet)
		sel, _ := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if rs.DeletionTimestamp == nil {
			owners = append(owners, &owner{rs.UID, rs.Namespace, sel, *rs.Spec.Replicas, rs.Status.Replicas, rs.Generation, rs.Status.ObservedGeneration, 0})
		}
	}
	for _, o := range api.Objects(apiserver.Pods) {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ref := metav1.GetControllerOf(p)
		for _, ow := range owners {
			if ref != nil && ref.UID == ow.uid && ow.ns == p.Namespace && !ow.sel.Matches(labels.Set(p.Labels)) {
				return false // owned but no longer selected: not yet released
			}
			if !ow.sel.Matches(labels.Set(p.Labels)) || ow.ns != p.Namespace {
				continue
			}
			if ref == nil {
				return false // a matching orphan
			}
			if ref.UID == ow.uid {
				ow.count++
			}
		}
	}
	for _, ow := range owners {
		if ow.count != ow.spec || ow.status != ow.spec || ow.obs != ow.gen {
			return false
		}
	}
	return true
}

// AppReplicaSet is a bare ReplicaSet selecting app=app.
func AppReplicaSet(name string, replicas int32, app string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}},
	}
}

// AssertVerdict asserts that each predicate holds when want is "", and
// otherwise fails with a reason that contains want.
func AssertVerdict(t testing.TB, want string, preds ...check.Predicate) {
	t.Helper()
	for _, pred := range preds {
		ok, why := pred.Holds()
		if want == "" {
			assert.True(t, ok, why)
		} else {
			assert.False(t, ok)
			assert.Contains(t, why, want)
		}
	}
}

// AgreesWithReplay drives rounds × steps random writes through step and,
// after each, requires the incremental predicate to say exactly what a fresh
// one (newPred) fed the current objects says. The walk must visit both
// verdicts often, or it proves nothing.
func AgreesWithReplay(t *testing.T, newPred func() check.Predicate, rounds, steps int, step func(s *Store)) {
	t.Helper()
	var holds, fails int
	for round := 0; round < rounds; round++ {
		s := NewStore(newPred())
		for i := 0; i < steps; i++ {
			step(s)
			got, why := s.Pred.Holds()
			want, wantWhy := s.Replay(newPred()).Holds()
			require.Equal(t, want, got, "round %d step %d: incremental %q, replay %q", round, i, why, wantWhy)
			require.Equal(t, wantWhy, why)
			if got {
				holds++
			} else {
				fails++
			}
		}
	}
	assert.Greater(t, holds, 50, "the predicate held at times")
	assert.Greater(t, fails, 50, "and failed at others")
}
