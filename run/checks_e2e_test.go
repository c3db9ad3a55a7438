package run_test

// End-to-end tests of the checks: a real cluster with the ReplicaSet model
// under them (the checks' own tests in harness/check run without models).

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
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
)

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
				want := checktest.GroundTruthReplicaSets(c.API)
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
				serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: checktest.AppReplicaSet("a", 3, "a")})
			})
			w.At(2*time.Second, func() {
				serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: checktest.AppReplicaSet("b", 2, "b")})
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
				d := checktest.Deployment()
				d.UID, d.Generation, d.Status = "", 0, appsv1.DeploymentStatus{}
				d.Spec.Replicas = checktest.I32(4)
				d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: checktest.Ptr(intstr.FromInt32(1)), MaxUnavailable: checktest.Ptr(intstr.FromInt32(1))}
				w.At(0, func() { do(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Deployments, Object: d}) })
				newRS := func(name, image, hash string, replicas int32) *appsv1.ReplicaSet {
					dep := get(apiserver.Deployments, "web").(*appsv1.Deployment)
					rs := checktest.ReplicaSet(name, image, hash, 0, replicas)
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
