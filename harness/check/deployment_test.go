package check_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
)

// store turns writes into the events the server would commit, in order, and
// feeds them to a predicate.
type store struct {
	objs map[string]apiserver.Object
	pred check.Predicate
}

func newStore(pred check.Predicate) *store {
	return &store{objs: map[string]apiserver.Object{}, pred: pred}
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

func (s *store) put(objs ...apiserver.Object) *store {
	for _, obj := range objs {
		k := storeKey(obj)
		typ := watch.Added
		old := s.objs[k]
		if old != nil {
			typ = watch.Modified
		}
		s.objs[k] = obj
		s.pred.Observe(apiserver.Event{Type: typ, Kind: apiserver.KindOf(obj), Key: eventKey(obj), Object: obj, Old: old})
	}
	return s
}

func (s *store) del(objs ...apiserver.Object) *store {
	for _, obj := range objs {
		k := storeKey(obj)
		old := s.objs[k]
		if old == nil {
			continue
		}
		delete(s.objs, k)
		s.pred.Observe(apiserver.Event{Type: watch.Deleted, Kind: apiserver.KindOf(old), Key: eventKey(old), Object: old, Old: old})
	}
	return s
}

// replay feeds the current objects, in key order, to a fresh predicate.
func (s *store) replay(pred check.Predicate) check.Predicate {
	keys := make([]string, 0, len(s.objs))
	for k := range s.objs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		obj := s.objs[k]
		pred.Observe(apiserver.Event{Type: watch.Added, Kind: apiserver.KindOf(obj), Key: eventKey(obj), Object: obj})
	}
	return pred
}

func i32(n int32) *int32 { return &n }

func at(sec int) metav1.Time { return metav1.NewTime(sim.Epoch.Add(time.Duration(sec) * time.Second)) }

func controllerRef(kind, name string, uid types.UID) metav1.OwnerReference {
	t := true
	gv := "apps/v1"
	if kind == "ReplicationController" {
		gv = "v1"
	}
	return metav1.OwnerReference{APIVersion: gv, Kind: kind, Name: name, UID: uid, Controller: &t, BlockOwnerDeletion: &t}
}

func deleting[T apiserver.Object](obj T) T {
	c := obj.DeepCopyObject().(T)
	now := at(1000)
	c.SetDeletionTimestamp(&now)
	return c
}

func podTemplate(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}}}
}

// deployment web at 3 replicas, converged on nginx:2.
func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "dep-web", Generation: 2},
		Spec: appsv1.DeploymentSpec{Replicas: i32(3), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: podTemplate("nginx:2"),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr(intstr.FromString("25%")), MaxUnavailable: ptr(intstr.FromString("25%"))}},
			RevisionHistoryLimit: i32(10)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ReadyReplicas: 3},
	}
}

func ptr[T any](v T) *T { return &v }

// replicaSet of web with the given image, hash, creation second and replicas
// (spec and status alike).
func replicaSet(name, image, hash string, created int, replicas int32) *appsv1.ReplicaSet {
	t := podTemplate(image)
	t.Labels = map[string]string{"app": "web", appsv1.DefaultDeploymentUniqueLabelKey: hash}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("rs-" + name), Generation: 1,
			CreationTimestamp: at(created), OwnerReferences: []metav1.OwnerReference{controllerRef("Deployment", "web", "dep-web")}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: i32(replicas), Template: t},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas, ObservedGeneration: 1},
	}
}

func TestDeploymentsPredicate(t *testing.T) {
	base := func() (*appsv1.Deployment, *appsv1.ReplicaSet, *appsv1.ReplicaSet) {
		return deployment(), replicaSet("web-new", "nginx:2", "bbb", 10, 3), replicaSet("web-old", "nginx:1", "aaa", 0, 0)
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
			n.Spec.Replicas = i32(2)
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web: its new ReplicaSet web-new has spec.replicas 2, wants 3"},
		{"new ReplicaSet not all available", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.Status.AvailableReplicas = 2
			return []apiserver.Object{d, n, o}
		}, "its new ReplicaSet web-new has 2 available replicas, wants 3"},
		{"new ReplicaSet being deleted", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			return []apiserver.Object{d, deleting(n), o}
		}, "its new ReplicaSet web-new is being deleted"},
		{"template changed, no ReplicaSet for it yet", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Template = podTemplate("nginx:3")
			d.Generation, d.Status.ObservedGeneration = 3, 3
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web has no ReplicaSet with its pod template"},
		{"a matching ReplicaSet it does not control", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.OwnerReferences = nil
			return []apiserver.Object{d, n, o}
		}, "has no ReplicaSet with its pod template"},
		{"a matching ReplicaSet controlled by another uid", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			n.OwnerReferences = []metav1.OwnerReference{controllerRef("Deployment", "web", "dep-web-old")}
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
			o.Spec.Replicas = i32(1)
			return []apiserver.Object{d, n, o}
		}, "its old ReplicaSet web-old has spec.replicas 1 and status.replicas 0, wants 0"},
		{"old ReplicaSet still has pods", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			o.Status.Replicas = 1
			return []apiserver.Object{d, n, o}
		}, "its old ReplicaSet web-old has spec.replicas 0 and status.replicas 1, wants 0"},
		{"two ReplicaSets with the template: the oldest is the new one", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			dup := replicaSet("web-dup", "nginx:2", "ccc", 20, 0)
			return []apiserver.Object{d, n, o, dup}
		}, ""},
		{"two ReplicaSets with the template: the younger one holds the replicas", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			dup := replicaSet("web-dup", "nginx:2", "ccc", 5, 0)
			return []apiserver.Object{d, n, o, dup}
		}, "its new ReplicaSet web-dup has spec.replicas 0, wants 3"},
		{"more old ReplicaSets than revisionHistoryLimit", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = i32(1)
			older := replicaSet("web-older", "nginx:0", "zzz", 0, 0)
			return []apiserver.Object{d, n, o, older}
		}, "Deployment default/web has 2 old ReplicaSets, more than its revisionHistoryLimit 1"},
		{"old ReplicaSets being deleted do not count against the limit", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = i32(0)
			return []apiserver.Object{d, n, deleting(o)}
		}, ""},
		{"limit 0 with an old ReplicaSet", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.RevisionHistoryLimit = i32(0)
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
			return []apiserver.Object{deleting(d), n, o}
		}, ""},
		{"paused with the template changed: the replicas are all that counts", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Template = podTemplate("nginx:3")
			d.Generation, d.Status.ObservedGeneration = 3, 3
			d.Status.UpdatedReplicas = 0
			return []apiserver.Object{d, n, o}
		}, ""},
		{"paused, scaled, not followed", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Replicas = i32(5)
			return []apiserver.Object{d, n, o}
		}, "Deployment default/web is paused and its ReplicaSets have 3 replicas, wants 5"},
		{"paused, observedGeneration behind", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Status.ObservedGeneration = 1
			return []apiserver.Object{d, n, o}
		}, "observedGeneration 1 is behind generation 2"},
		{"paused mid-rollout: proportionally at replicas + maxSurge", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			n.Spec.Replicas, o.Spec.Replicas = i32(1), i32(3) // 3 + 25% of 3 rounded up
			return []apiserver.Object{d, n, o}
		}, ""},
		{"paused mid-rollout at replicas", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			n.Spec.Replicas, o.Spec.Replicas = i32(1), i32(2)
			return []apiserver.Object{d, n, o}
		}, "is paused and its ReplicaSets have 3 replicas, wants 4"},
		{"paused mid-rollout, Recreate: any sum", func(d *appsv1.Deployment, n, o *appsv1.ReplicaSet) []apiserver.Object {
			d.Spec.Paused = true
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
			n.Spec.Replicas, o.Spec.Replicas = i32(1), i32(1)
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
			for _, s := range []*store{newStore(check.Deployments()).put(objs...), changed(check.Deployments(), objs)} {
				ok, why := s.pred.Holds()
				if tc.want == "" {
					assert.True(t, ok, why)
				} else {
					assert.False(t, ok)
					assert.Contains(t, why, tc.want)
				}
			}
		})
	}
}

// changed feeds the converged Deployment first, then the objects given.
func changed(pred check.Predicate, objs []apiserver.Object) *store {
	d := deployment()
	s := newStore(pred).put(d, replicaSet("web-new", "nginx:2", "bbb", 10, 3), replicaSet("web-old", "nginx:1", "aaa", 0, 0))
	if ok, why := pred.Holds(); !ok {
		panic("the converged Deployment does not hold: " + why)
	}
	return s.put(objs...)
}

func TestDeploymentsPredicateForgetsDeletedObjects(t *testing.T) {
	d, n, o := deployment(), replicaSet("web-new", "nginx:2", "bbb", 10, 3), replicaSet("web-old", "nginx:1", "aaa", 0, 0)
	s := newStore(check.Deployments()).put(d, n, o)
	o2 := o.DeepCopy()
	o2.Spec.Replicas = i32(2)
	s.put(o2)
	ok, _ := s.pred.Holds()
	require.False(t, ok)
	s.del(o2) // the old ReplicaSet goes
	ok, why := s.pred.Holds()
	assert.True(t, ok, why)
	s.del(n)
	ok, why = s.pred.Holds()
	assert.False(t, ok)
	assert.Contains(t, why, "has no ReplicaSet with its pod template")
	s.del(d)
	ok, why = s.pred.Holds()
	assert.True(t, ok, why)
}

// Randomly changing the objects (the spec's generation changing with the
// template, as the server does it), the incremental predicate must agree with
// one fed only the final objects.
func TestDeploymentsPredicateAgreesWithReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var holds, fails int
	for round := 0; round < 50; round++ {
		s := newStore(check.Deployments())
		for step := 0; step < 60; step++ {
			switch k := r.IntN(10); {
			case k < 2:
				d := deployment()
				img := r.IntN(3)
				d.Spec.Template = podTemplate(fmt.Sprint("nginx:", img))
				d.Spec.Paused = r.IntN(4) == 0
				d.Generation = int64(10*img + 1 + r.IntN(2))
				d.Status.ObservedGeneration = d.Generation - int64(r.IntN(5)/4)
				n := int32(r.IntN(4))
				d.Spec.Replicas = i32(n)
				d.Status.Replicas, d.Status.UpdatedReplicas, d.Status.AvailableReplicas = n, n, n-int32(r.IntN(5)/4)
				d.Spec.RevisionHistoryLimit = i32(int32(r.IntN(3)))
				s.put(d)
			case k < 3:
				s.del(deployment())
			case k < 9:
				img := r.IntN(3)
				n := int32(r.IntN(4))
				rs := replicaSet(fmt.Sprint("web-", img), fmt.Sprint("nginx:", img), fmt.Sprint(img), img, n)
				rs.Status.Replicas = n - int32(r.IntN(5)/4)
				rs.Status.AvailableReplicas = n - int32(r.IntN(5)/4)
				rs.Generation = int64(1 + r.IntN(2))
				if r.IntN(8) == 0 {
					rs.OwnerReferences = nil
				}
				if r.IntN(8) == 0 {
					rs = deleting(rs)
				}
				s.put(rs)
			default:
				img := r.IntN(3)
				s.del(replicaSet(fmt.Sprint("web-", img), "", "", 0, 0))
			}
			got, why := s.pred.Holds()
			want, wantWhy := s.replay(check.Deployments()).Holds()
			require.Equal(t, want, got, "round %d step %d: incremental %q, replay %q", round, step, why, wantWhy)
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
	t.Logf("holds %d, fails %d", holds, fails)
}

// TestDeploymentBoundsEndToEnd runs a rolling update on a real cluster — the
// ReplicaSet model, kubelets, API latencies — with the test as the
// Deployment controller, once as upstream rolls (the bounds hold, and the
// Deployments predicate ends up holding) and once replacing every old pod at
// once (a planted bug: the invariant fires).
func TestDeploymentBoundsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bigBang bool
		want    string // "" for pass
	}{
		{"rolling as upstream does", false, ""},
		{"every old pod replaced at once", true, "available pods, fewer than spec.replicas 4 - maxUnavailable 1"},
	} {
		for seed := uint64(1); seed <= 5; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				w := sim.New(seed, sim.Limits{MaxTime: time.Hour})
				cfg := cluster.DefaultConfig()
				cfg.NodeCount = 3
				c, err := cluster.New(w, cfg)
				require.NoError(t, err)
				inv := check.WatchInvariants(c.API)
				pred := check.Deployments()
				c.API.OnCommit(pred.Observe)
				replicaset.Start(c.API, replicaset.Options{})
				const client = "deployment-controller"
				do := func(req *apiserver.Request) {
					req.Client = client
					c.API.Do(req, func(resp *apiserver.Response) { require.NoError(t, resp.Err) })
				}
				get := func(kind apiserver.Kind, name string) apiserver.Object {
					for _, o := range c.API.Objects(kind) {
						if o.GetName() == name {
							return o
						}
					}
					return nil
				}
				d := deployment()
				d.UID, d.Generation, d.Status = "", 0, appsv1.DeploymentStatus{}
				d.Spec.Replicas = i32(4)
				d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: ptr(intstr.FromInt32(1)), MaxUnavailable: ptr(intstr.FromInt32(1))}
				w.At(0, func() { do(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Deployments, Object: d}) })
				newRS := func(name, image, hash string, replicas int32) *appsv1.ReplicaSet {
					dep := get(apiserver.Deployments, "web").(*appsv1.Deployment)
					rs := replicaSet(name, image, hash, 0, replicas)
					rs.UID, rs.Generation, rs.CreationTimestamp, rs.Status = "", 0, metav1.Time{}, appsv1.ReplicaSetStatus{}
					rs.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(dep)}
					rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rs.Spec.Template.Labels}
					return rs
				}
				scale := func(rs *appsv1.ReplicaSet, n int32) {
					do(&apiserver.Request{Verb: apiserver.Patch, Kind: apiserver.ReplicaSets, Namespace: "default", Name: rs.Name, Subresource: "scale",
						PatchType: types.MergePatchType, Patch: fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, n)})
				}
				w.At(time.Second, func() {
					old := newRS("web-old", "nginx:1", "aaa", 4)
					old.Spec.Template.Spec.Containers[0].Image = "nginx:1"
					do(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: old})
				})
				// The rollout to nginx:2, one step a second, from the ReplicaSets'
				// specs and statuses as upstream's rolloutRolling computes it.
				var step func()
				step = func() {
					defer w.After(time.Second, step)
					oldRS := get(apiserver.ReplicaSets, "web-old").(*appsv1.ReplicaSet)
					cur, _ := get(apiserver.ReplicaSets, "web-new").(*appsv1.ReplicaSet)
					if cur == nil {
						do(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: newRS("web-new", "nginx:2", "bbb", 0)})
						return
					}
					const n, surge, unavailable = 4, 1, 1
					if tc.bigBang {
						scale(oldRS, 0)
						scale(cur, n)
						return
					}
					oldSpec, newSpec := *oldRS.Spec.Replicas, *cur.Spec.Replicas
					if total := oldSpec + newSpec; newSpec < n && total < n+surge {
						scale(cur, min(n, newSpec+n+surge-total))
						return
					}
					maxScaledDown := oldSpec + newSpec - (n - unavailable) - (newSpec - cur.Status.AvailableReplicas)
					canGo := oldRS.Status.AvailableReplicas + cur.Status.AvailableReplicas - (n - unavailable)
					if down := min(oldSpec, maxScaledDown, canGo); down > 0 {
						scale(oldRS, oldSpec-down)
					}
				}
				w.At(time.Minute, step)
				// Status, as the Deployment controller would write it, once the rollout is done.
				w.At(4*time.Minute, func() {
					dep := get(apiserver.Deployments, "web").(*appsv1.Deployment).DeepCopy()
					dep.Status = appsv1.DeploymentStatus{ObservedGeneration: dep.Generation, Replicas: 4, UpdatedReplicas: 4, AvailableReplicas: 4, ReadyReplicas: 4}
					do(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Deployments, Namespace: "default", Name: "web", Subresource: "status", Object: dep})
				})
				commits := 0
				c.API.OnCommit(func(apiserver.Event) { commits++ })
				w.RunUntil(5 * time.Minute)
				w.Close()
				require.Greater(t, commits, 50, "the rollout ran")
				r := inv.Result()
				if tc.want == "" {
					assert.Equal(t, check.Pass, r.Verdict, r.Message)
					ok, why := pred.Holds()
					assert.True(t, ok, why)
				} else {
					assert.Equal(t, check.Fail, r.Verdict)
					assert.Contains(t, r.Message, tc.want)
				}
			})
		}
	}
}
