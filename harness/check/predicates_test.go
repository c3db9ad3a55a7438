package check_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// groundTruth is the ReplicaSet predicate computed from scratch over every
// stored object: slow and obviously right, the reference for the incremental one.
func groundTruth(api *apiserver.Server) bool {
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

func rs(name string, replicas int32, app string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": app}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}}}},
	}
}

// TestReplicaSetsPredicateAgreesWithGroundTruth drives a real cluster with the
// ReplicaSet model through scaling, relabelling, orphan pods, node loss and
// deletion, and compares the incremental predicate with the from-scratch one
// after every commit.
func TestReplicaSetsPredicateAgreesWithGroundTruth(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			w := sim.New(seed, sim.Limits{MaxTime: time.Hour})
			cfg := cluster.DefaultConfig()
			cfg.NodeCount = 3
			c, err := cluster.New(w, cfg)
			require.NoError(t, err)
			pred := check.ReplicaSets()
			var commits, disagreements, holds int
			c.API.OnCommit(func(ev apiserver.Event) {
				pred.Observe(ev)
				commits++
				want := groundTruth(c.API)
				got, why := pred.Holds()
				if got != want {
					disagreements++
					t.Errorf("after %s %s/%s at %v: incremental says %v (%s), ground truth %v", ev.Type, ev.Kind, ev.Object.GetName(), w.Elapsed(), got, why, want)
				}
				if got {
					holds++
				}
			})
			replicaset.Start(c.API, replicaset.Options{})
			api := c.API
			serve := func(req *apiserver.Request) {
				req.Client = "test"
				api.Do(req, func(*apiserver.Response) {})
			}
			w.At(time.Second, func() {
				serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: rs("a", 3, "a")})
			})
			w.At(2*time.Second, func() {
				serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: rs("b", 2, "b")})
			})
			w.At(20*time.Second, func() {
				bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "default", Labels: map[string]string{"app": "a"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
				serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bare})
			})
			w.At(40*time.Second, func() {
				serve(&apiserver.Request{Verb: apiserver.Patch, Kind: apiserver.ReplicaSets, Namespace: "default", Name: "a", Subresource: "scale",
					PatchType: types.MergePatchType, Patch: []byte(`{"spec":{"replicas":5}}`)})
			})
			w.At(50*time.Second, func() {
				// Relabel one of a's pods out of its selector: released, replaced.
				for _, o := range c.API.Objects(apiserver.Pods) {
					if o.GetLabels()["app"] == "a" && metav1.GetControllerOf(o) != nil {
						serve(&apiserver.Request{Verb: apiserver.Patch, Kind: apiserver.Pods, Namespace: "default", Name: o.GetName(),
							PatchType: types.MergePatchType, Patch: []byte(`{"metadata":{"labels":{"app":"debug"}}}`)})
						return
					}
				}
			})
			w.At(60*time.Second, func() { _ = c.LoseNode("node-1") })
			w.At(8*time.Minute, func() {
				orphan := metav1.DeletePropagationOrphan
				serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.ReplicaSets, Namespace: "default", Name: "b", Delete: &metav1.DeleteOptions{PropagationPolicy: &orphan}})
			})
			w.RunUntil(10 * time.Minute)
			assert.Zero(t, disagreements)
			assert.Greater(t, commits, 100)
			assert.Greater(t, holds, 0, "the predicate held at some point")
			assert.Less(t, holds, commits, "and failed at others")
		})
	}
}

// A controller that never releases a relabelled pod has not converged, even
// when it has created a replacement.
func TestReplicaSetsPredicateWantsRelabelledPodsReleased(t *testing.T) {
	p := check.ReplicaSets()
	owner := rs("a", 1, "a")
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
			owner := rs("a", 3, "a")
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
			scaled := rs("a", 1, "a")
			scaled.UID = "rs-uid"
			p.Observe(apiserver.Event{Type: "MODIFIED", Kind: apiserver.ReplicaSets, Object: scaled, Old: owner})
			now = 12 * time.Second
			p.Observe(apiserver.Event{Type: "ADDED", Kind: apiserver.Pods, Object: pod("p3"), Called: tc.called})
			assert.Equal(t, tc.want, p.Metrics().MaxOvershoot, "3 pods against spec 1")
		})
	}
}
