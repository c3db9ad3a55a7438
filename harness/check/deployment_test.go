package check_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDeploymentsPredicate(t *testing.T) {
	base := func() (*appsv1.Deployment, *appsv1.ReplicaSet, *appsv1.ReplicaSet) {
		return checktest.Deployment(), checktest.ReplicaSet("web-new", "nginx:2", "bbb", 10, 3), checktest.ReplicaSet("web-old", "nginx:1", "aaa", 0, 0)
	}
	for _, tc := range []struct {
		name   string
		change func(d *appsv1.Deployment, newRS, oldRS *appsv1.ReplicaSet) []apiserver.Object // the objects after the change
		want   string                                                                         // "" for holds
	}{
		{"converged", nil, ""},
		{"observedGeneration behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Status.ObservedGeneration = 1
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web observedGeneration 1 is behind generation 2"},
		{"new ReplicaSet short", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.Spec.Replicas = checktest.I32(2)
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web: its new ReplicaSet web-new has spec.replicas 2, wants 3"},
		{"new ReplicaSet not all available", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.Status.AvailableReplicas = 2
			return []apiserver.Object{d, n, o}
		}, "its new ReplicaSet web-new has 2 available replicas, wants 3"},
		{"new ReplicaSet being deleted", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			return []apiserver.Object{d, checktest.Deleting(n), o}
		}, "its new ReplicaSet web-new is being deleted"},
		{"template changed, no ReplicaSet for it yet", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Template = checktest.PodTemplate("nginx:3")
			d.Generation, d.Status.ObservedGeneration = 3, 3
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web has no ReplicaSet with its pod template"},
		{"a matching ReplicaSet it does not control", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.OwnerReferences = nil
			return []apiserver.Object{d, n, o}
		}, "has no ReplicaSet with its pod template"},
		{"a matching ReplicaSet controlled by another uid", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.OwnerReferences = []metav1.OwnerReference{checktest.ControllerRef("Deployment", "web", "dep-web-old")}
			return []apiserver.Object{d, n, o}
		}, "has no ReplicaSet with its pod template"},
		{"templates differ in a label other than the hash", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.Spec.Template.Labels["tier"] = "x"
			n.Generation = 2
			return []apiserver.Object{d, n, o}
		}, "has no ReplicaSet with its pod template"},
		{"templates equal but for nil and empty maps", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Template.Annotations = map[string]string{}
			d.Generation, d.Status.ObservedGeneration = 3, 3
			return []apiserver.Object{d, n, o}
		}, ""},
		{"old ReplicaSet not scaled down", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			o.Spec.Replicas = checktest.I32(1)
			return []apiserver.Object{d, n, o}
		}, "its old ReplicaSet web-old has spec.replicas 1 and status.replicas 0, wants 0"},
		{"old ReplicaSet still has pods", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			o.Status.Replicas = 1
			return []apiserver.Object{d, n, o}
		}, "its old ReplicaSet web-old has spec.replicas 0 and status.replicas 1, wants 0"},
		{"two ReplicaSets with the template: the oldest is the new one", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			dup := checktest.ReplicaSet("web-dup", "nginx:2", "ccc", 20, 0)
			return []apiserver.Object{d, n, o, dup}
		}, ""},
		{"two ReplicaSets with the template: the younger one holds the replicas", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			dup := checktest.ReplicaSet("web-dup", "nginx:2", "ccc", 5, 0)
			return []apiserver.Object{d, n, o, dup}
		}, "its new ReplicaSet web-dup has spec.replicas 0, wants 3"},
		{"more old ReplicaSets than revisionHistoryLimit", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = checktest.I32(1)
			older := checktest.ReplicaSet("web-older", "nginx:0", "zzz", 0, 0)
			return []apiserver.Object{d, n, o, older}
		}, "Deployment default/web has 2 old ReplicaSets, more than its revisionHistoryLimit 1"},
		{"old ReplicaSets being deleted do not count against the limit", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = checktest.I32(0)
			return []apiserver.Object{d, n, checktest.Deleting(o)}
		}, ""},
		{"limit 0 with an old ReplicaSet", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = checktest.I32(0)
			return []apiserver.Object{d, n, o}
		}, "has 1 old ReplicaSets, more than its revisionHistoryLimit 0"},
		{"status.replicas behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Status.Replicas = 4
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web status.replicas is 4, wants 3"},
		{"status.updatedReplicas behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Status.UpdatedReplicas = 2
			return []apiserver.Object{d, n, o}
		}, "status.updatedReplicas is 2, wants 3"},
		{"status.availableReplicas behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Status.AvailableReplicas = 2
			return []apiserver.Object{d, n, o}
		}, "status.availableReplicas is 2, wants 3"},
		{"replicas default to 1", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Replicas = nil
			return []apiserver.Object{d, n, o}
		}, "its new ReplicaSet web-new has spec.replicas 3, wants 1"},
		{"a Deployment being deleted is not judged", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Status.ObservedGeneration = 0
			return []apiserver.Object{checktest.Deleting(d), n, o}
		}, ""},
		{"paused with the template changed: the replicas are all that counts", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Template = checktest.PodTemplate("nginx:3")
			d.Generation, d.Status.ObservedGeneration = 3, 3
			d.Status.UpdatedReplicas = 0
			return []apiserver.Object{d, n, o}
		}, ""},
		{"paused, scaled, not followed", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Replicas = checktest.I32(5)
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web is paused and its ReplicaSets have 3 replicas, wants 5"},
		{"paused, observedGeneration behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Status.ObservedGeneration = 1
			return []apiserver.Object{d, n, o}
		}, "observedGeneration 1 is behind generation 2"},
		{"paused mid-rollout: proportionally at replicas + maxSurge", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			n.Spec.Replicas, o.Spec.Replicas = checktest.I32(1), checktest.I32(3) // 3 + 25% of 3 rounded up
			return []apiserver.Object{d, n, o}
		}, ""},
		{"paused mid-rollout at replicas", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			n.Spec.Replicas, o.Spec.Replicas = checktest.I32(1), checktest.I32(2)
			return []apiserver.Object{d, n, o}
		}, "is paused and its ReplicaSets have 3 replicas, wants 4"},
		{"paused mid-rollout, Recreate: any sum", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
			n.Spec.Replicas, o.Spec.Replicas = checktest.I32(1), checktest.I32(1)
			return []apiserver.Object{d, n, o}
		}, ""},
		{"Recreate converged", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
			return []apiserver.Object{d, n, o}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, n, o := base()
			objs := []apiserver.Object{d, n, o}
			if tc.change != nil {
				objs = tc.change(d, n, o)
			}
			// Once from scratch, once as a change to the converged state.
			checktest.AssertVerdict(t, tc.want, checktest.NewStore(check.Deployments()).Put(objs...).Pred, changed(check.Deployments(), objs).Pred)
		})
	}
}

// changed feeds the converged Deployment first, then the objects given.
func changed(pred check.Predicate, objs []apiserver.Object) *checktest.Store {
	d := checktest.Deployment()
	s := checktest.NewStore(pred).Put(d, checktest.ReplicaSet("web-new", "nginx:2", "bbb", 10, 3), checktest.ReplicaSet("web-old", "nginx:1", "aaa", 0, 0))
	if ok, why := pred.Holds(); !ok {
		panic("the converged Deployment does not hold: " + why)
	}
	return s.Put(objs...)
}

func TestDeploymentsPredicateForgetsDeletedObjects(t *testing.T) {
	d, n, o := checktest.Deployment(), checktest.ReplicaSet("web-new", "nginx:2", "bbb", 10, 3), checktest.ReplicaSet("web-old", "nginx:1", "aaa", 0, 0)
	s := checktest.NewStore(check.Deployments()).Put(d, n, o)
	o2 := o.DeepCopy()
	o2.Spec.Replicas = checktest.I32(2)
	s.Put(o2)
	ok, _ := s.Pred.Holds()
	require.False(t, ok)
	s.Del(o2) // the old ReplicaSet goes
	ok, why := s.Pred.Holds()
	assert.True(t, ok, why)
	s.Del(n)
	ok, why = s.Pred.Holds()
	assert.False(t, ok)
	assert.Contains(t, why, "has no ReplicaSet with its pod template")
	s.Del(d)
	ok, why = s.Pred.Holds()
	assert.True(t, ok, why)
}

// Randomly changing the objects (the spec's generation changing with the
// template, as the server does it), the incremental predicate must agree with
// one fed only the final objects.
func TestDeploymentsPredicateAgreesWithReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	checktest.AgreesWithReplay(t, check.Deployments, 50, 60, func(s *checktest.Store) {
		switch k := r.IntN(10); {
		case k < 2:
			d := checktest.Deployment()
			img := r.IntN(3)
			d.Spec.Template = checktest.PodTemplate(fmt.Sprint("nginx:", img))
			d.Spec.Paused = r.IntN(4) == 0
			d.Generation = int64(10*img + 1 + r.IntN(2))
			d.Status.ObservedGeneration = d.Generation - int64(r.IntN(5)/4)
			n := int32(r.IntN(4))
			d.Spec.Replicas = checktest.I32(n)
			d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = n, n, n-int32(r.IntN(5)/4)
			d.Spec.RevisionHistoryLimit = checktest.I32(int32(r.IntN(3)))
			s.Put(d)
		case k < 3:
			s.Del(checktest.Deployment())
		case k < 9:
			img := r.IntN(3)
			n := int32(r.IntN(4))
			rs := checktest.ReplicaSet(fmt.Sprint("web-", img), fmt.Sprint("nginx:", img), fmt.Sprint(img), img, n)
			rs.Status.Replicas = n - int32(r.IntN(5)/4)
			rs.Status.AvailableReplicas = n - int32(r.IntN(5)/4)
			rs.Generation = int64(1 + r.IntN(2))
			if r.IntN(8) == 0 {
				rs.OwnerReferences = nil
			}
			if r.IntN(8) == 0 {
				rs = checktest.Deleting(rs)
			}
			s.Put(rs)
		default:
			img := r.IntN(3)
			s.Del(checktest.ReplicaSet(fmt.Sprint("web-", img), "", "", 0, 0))
		}
	})
}
