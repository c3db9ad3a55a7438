package faults_test

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/faults"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// bed is a cluster of three nodes with a ReplicaSet web of three pods, run by
// the upstream strategy, and one fault from 30s to 90s.
type bed struct {
	w   *sim.World
	c   *cluster.Cluster
	in  *faults.Injector
	ops func() []*history.Op
	// readiness: ready pods at chosen times (flap-readiness)
	readiness map[time.Duration]int
}

const (
	faultAt  = 30 * time.Second
	faultFor = 60 * time.Second
	healAt   = faultAt + faultFor
)

func newBed(t *testing.T, f faults.Fault) *bed {
	t.Helper()
	w := sim.New(7, sim.Limits{MaxTime: 10 * time.Minute})
	t.Cleanup(w.Close)
	c, err := cluster.New(w, cluster.DefaultConfig())
	require.NoError(t, err)
	st, err := models.Lookup("upstream")
	require.NoError(t, err)
	ctls := st.Start(c.API, nil)
	f.At = faultAt
	b := &bed{w: w, c: c, ops: c.API.History().Ops}
	b.in = faults.Start(faults.Env{Cluster: c, Strategy: st, Controllers: ctls}, faults.Plan{f}, nil)
	c.API.Interceptor = b.in
	three := int32(3)
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &three, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}}}
	c.API.Do(&apiserver.Request{Client: "test", Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Namespace: "default", Object: rs}, func(*apiserver.Response) {})
	return b
}

// until runs the world up to t.
func (b *bed) until(t time.Duration) { b.w.RunUntil(t) }

func (b *bed) pods() []*corev1.Pod {
	var out []*corev1.Pod
	for _, o := range b.c.API.Objects(apiserver.Pods) {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

func (b *bed) readyPods() int {
	n := 0
	for _, p := range b.pods() {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				n++
			}
		}
	}
	return n
}

func (b *bed) activePods() int {
	n := 0
	for _, p := range b.pods() {
		if p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// killOne deletes a pod at time t (not a fault: a test's own request), so
// that the controller has something to do.
func (b *bed) killOne(at time.Duration) {
	b.w.At(at, func() {
		p := b.pods()[0]
		zero := int64(0)
		b.c.API.Do(&apiserver.Request{Client: "test", Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: p.Namespace, Name: p.Name,
			Delete: &metav1.DeleteOptions{GracePeriodSeconds: &zero}}, func(*apiserver.Response) {})
	})
}

// ops of a client (prefix match on "upstream" takes its instances too) with
// a verb, called within [from, to).
func (b *bed) count(client, verb string, from, to time.Duration) int {
	n := 0
	for _, op := range b.ops() {
		if op.Client == client && (verb == "" || op.Verb == verb) && op.Call.Time >= from && op.Call.Time < to {
			n++
		}
	}
	return n
}

func nodeReady(b *bed, name string) (exists, ready, unschedulable bool) {
	for _, o := range b.c.API.Objects(apiserver.Nodes) {
		n := o.(*corev1.Node)
		if n.Name != name {
			continue
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = c.Status == corev1.ConditionTrue
			}
		}
		return true, ready, n.Spec.Unschedulable
	}
	return false, false, false
}

func TestEachFaultHappensAndHealsOnTime(t *testing.T) {
	for _, tc := range []struct {
		fault  faults.Fault
		setup  func(b *bed)
		during func(t *testing.T, b *bed) // at 89s
		after  func(t *testing.T, b *bed) // at 3m
	}{
		{fault: faults.Fault{Kind: faults.LoseNode, Target: "node/node-1", For: faultFor},
			during: func(t *testing.T, b *bed) {
				_, ready, _ := nodeReady(b, "node-1")
				assert.False(t, ready, "marked not ready after the grace period")
			},
			after: func(t *testing.T, b *bed) { _, ready, _ := nodeReady(b, "node-1"); assert.True(t, ready) }},
		{fault: faults.Fault{Kind: faults.PartitionNode, Target: "node/node-2", For: faultFor},
			during: func(t *testing.T, b *bed) { _, ready, _ := nodeReady(b, "node-2"); assert.False(t, ready) },
			after:  func(t *testing.T, b *bed) { _, ready, _ := nodeReady(b, "node-2"); assert.True(t, ready) }},
		{fault: faults.Fault{Kind: faults.DeleteNode, Target: "node/node-1", For: faultFor},
			during: func(t *testing.T, b *bed) { exists, _, _ := nodeReady(b, "node-1"); assert.False(t, exists) },
			after: func(t *testing.T, b *bed) {
				exists, ready, _ := nodeReady(b, "node-1")
				assert.True(t, exists && ready)
			}},
		{fault: faults.Fault{Kind: faults.CordonNode, Target: "node/node-1", For: faultFor},
			during: func(t *testing.T, b *bed) { _, _, u := nodeReady(b, "node-1"); assert.True(t, u) },
			after:  func(t *testing.T, b *bed) { _, _, u := nodeReady(b, "node-1"); assert.False(t, u) }},
		{fault: faults.Fault{Kind: faults.DrainNode, Target: "node/node-1", For: faultFor},
			during: func(t *testing.T, b *bed) {
				_, _, u := nodeReady(b, "node-1")
				assert.True(t, u)
				for _, p := range b.pods() {
					assert.False(t, p.Spec.NodeName == "node-1" && p.DeletionTimestamp == nil, "pod %s still on the drained node", p.Name)
				}
			},
			after: func(t *testing.T, b *bed) { _, _, u := nodeReady(b, "node-1"); assert.False(t, u) }},
		{fault: faults.Fault{Kind: faults.CrashPod, Target: "pods", Selector: "app=web"},
			during: func(t *testing.T, b *bed) {
				restarts := int32(0)
				for _, p := range b.pods() {
					for _, cs := range p.Status.ContainerStatuses {
						restarts += cs.RestartCount
					}
				}
				assert.Equal(t, int32(1), restarts, "one container crashed and was restarted")
			}},
		{fault: faults.Fault{Kind: faults.KillPod, Target: "pods", Selector: "app=web", Count: 2},
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 2, b.count(faults.Client, "delete", faultAt, faultAt+time.Second))
			},
			after: func(t *testing.T, b *bed) { assert.Equal(t, 3, b.activePods(), "replaced") }},
		{fault: faults.Fault{Kind: faults.ForceDeletePod, Target: "pods"},
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 1, b.count(faults.Client, "delete", faultAt, faultAt+time.Second))
				assert.Equal(t, 3, b.activePods())
			}},
		{fault: faults.Fault{Kind: faults.StuckTerminating, Target: "pods", For: faultFor},
			during: func(t *testing.T, b *bed) {
				stuck := 0
				for _, p := range b.pods() {
					if p.DeletionTimestamp != nil {
						assert.Contains(t, p.Finalizers, faults.StuckFinalizer)
						stuck++
					}
				}
				assert.Equal(t, 1, stuck, "held by its finalizer long past its grace period")
			},
			after: func(t *testing.T, b *bed) { assert.Len(t, b.pods(), 3, "the finalizer went and so did the pod") }},
		{fault: faults.Fault{Kind: faults.FlapReadiness, Target: "pods", Count: 3, Period: 10 * time.Second, For: faultFor},
			setup: func(b *bed) {
				b.readiness = map[time.Duration]int{}
				for _, at := range []time.Duration{29, 35, 45, 55, 65, 75, 85} {
					b.w.At(at*time.Second, func() { b.readiness[at] = b.readyPods() })
				}
			},
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, map[time.Duration]int{29: 3, 35: 0, 45: 3, 55: 0, 65: 3, 75: 0, 85: 3}, b.readiness,
					"ready pods: failing from 30s, passing at 40s, failing at 50s, … (period 10s)")
				assert.Equal(t, 3, b.activePods(), "unready pods are not replaced")
			},
			after: func(t *testing.T, b *bed) { assert.Equal(t, 3, b.readyPods()) }},
		{fault: faults.Fault{Kind: faults.OrphanDelete, Target: "rs/web", RecreateAs: "web-2", For: faultFor},
			after: func(t *testing.T, b *bed) {
				rss := b.c.API.Objects(apiserver.ReplicaSets)
				require.Len(t, rss, 1)
				assert.Equal(t, "web-2", rss[0].GetName(), "another owner with the same selector")
				for _, p := range b.pods() {
					ref := metav1.GetControllerOf(p)
					require.NotNil(t, ref)
					assert.Equal(t, "web-2", ref.Name, "adopts the orphans")
				}
				assert.Equal(t, 3, b.activePods())
			}},
		{fault: faults.Fault{Kind: faults.Relabel, Target: "pods", Set: map[string]string{"app": "other"}, For: faultFor},
			during: func(t *testing.T, b *bed) {
				others := 0
				for _, p := range b.pods() {
					if p.Labels["app"] == "other" {
						others++
						assert.Nil(t, metav1.GetControllerOf(p), "released by its ReplicaSet")
					}
				}
				assert.Equal(t, 1, others)
				assert.Equal(t, 4, b.activePods(), "and replaced")
			},
			after: func(t *testing.T, b *bed) {
				for _, p := range b.pods() {
					assert.Equal(t, "web", p.Labels["app"], "restored")
				}
				assert.Equal(t, 3, b.activePods(), "readopted, and the surplus deleted")
			}},
		{fault: faults.Fault{Kind: faults.Annotate, Target: "pods", Count: 3, Set: map[string]string{"controller.kubernetes.io/pod-deletion-cost": "100"}, For: faultFor},
			during: func(t *testing.T, b *bed) {
				for _, p := range b.pods() {
					assert.Equal(t, "100", p.Annotations["controller.kubernetes.io/pod-deletion-cost"])
				}
			},
			after: func(t *testing.T, b *bed) {
				for _, p := range b.pods() {
					assert.NotContains(t, p.Annotations, "controller.kubernetes.io/pod-deletion-cost")
				}
			}},
		{fault: faults.Fault{Kind: faults.OrphanDelete, Target: "rs/web", For: faultFor},
			during: func(t *testing.T, b *bed) {
				assert.Empty(t, b.c.API.Objects(apiserver.ReplicaSets))
				assert.Equal(t, 3, b.activePods(), "orphaned, not deleted")
				for _, p := range b.pods() {
					assert.Nil(t, metav1.GetControllerOf(p))
				}
			},
			after: func(t *testing.T, b *bed) {
				require.Len(t, b.c.API.Objects(apiserver.ReplicaSets), 1)
				for _, p := range b.pods() {
					assert.NotNil(t, metav1.GetControllerOf(p), "adopted by the new ReplicaSet")
				}
			}},
		{fault: faults.Fault{Kind: faults.APILatency, Target: "create", Delay: apiserver.Fixed(5 * time.Second), Rate: 1, For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second); b.killOne(120 * time.Second) },
			during: func(t *testing.T, b *bed) {
				for _, op := range b.ops() {
					if op.Client == "upstream" && op.Verb == "create" && op.Call.Time > faultAt && op.Call.Time < healAt {
						assert.GreaterOrEqual(t, op.Return.Time-op.Call.Time, 5*time.Second)
					}
				}
				assert.Equal(t, 1, b.count("upstream", "create", 45*time.Second, healAt))
			},
			after: func(t *testing.T, b *bed) {
				for _, op := range b.ops() {
					if op.Client == "upstream" && op.Verb == "create" && op.Call.Time > healAt {
						assert.Less(t, op.Return.Time-op.Call.Time, time.Second)
					}
				}
			}},
		{fault: faults.Fault{Kind: faults.APIError, Target: "create", Code: 500, Rate: 1, For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second) },
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 2, b.activePods(), "every create fails")
				for _, op := range b.ops() {
					if op.Client == "upstream" && op.Verb == "create" && op.Call.Time > faultAt {
						assert.Equal(t, 500, op.Code)
					}
				}
			},
			after: func(t *testing.T, b *bed) { assert.Equal(t, 3, b.activePods()) }},
		{fault: faults.Fault{Kind: faults.LoseResponse, Target: "create", Rate: 1, For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second) },
			during: func(t *testing.T, b *bed) {
				lost := 0
				for _, op := range b.ops() {
					if op.Client == "upstream" && op.Verb == "create" && op.Call.Time > faultAt {
						assert.Nil(t, op.Return, "no answer")
						assert.NotNil(t, op.Commit, "yet committed")
						lost++
					}
				}
				assert.Equal(t, 1, lost)
				assert.Equal(t, 3, b.activePods(), "the write took effect")
			},
			after: func(t *testing.T, b *bed) { assert.Equal(t, 3, b.activePods()) }},
		{fault: faults.Fault{Kind: faults.WatchDelay, Target: "rs", Delay: apiserver.Fixed(20 * time.Second), For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second) },
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 0, b.count("upstream", "create", 45*time.Second, 64*time.Second), "the controller hears of the deletion 20s late")
				assert.Equal(t, 1, b.count("upstream", "create", 64*time.Second, 70*time.Second))
			}},
		{fault: faults.Fault{Kind: faults.WatchDrop, Target: "*", Gone: true},
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 2, b.count("upstream", "list", faultAt, faultAt+time.Second), "relists: its pod and ReplicaSet informers")
			}},
		{fault: faults.Fault{Kind: faults.CrashController, Target: "rs", For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second) },
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 0, b.count("upstream", "", faultAt+time.Second, 80*time.Second), "dead")
				assert.Equal(t, 2, b.activePods())
			},
			after: func(t *testing.T, b *bed) {
				assert.Positive(t, b.count("upstream", "list", healAt, healAt+time.Second), "restarted: lists again")
				assert.Equal(t, 3, b.activePods())
			}},
		{fault: faults.Fault{Kind: faults.StallController, Target: "rs", For: faultFor},
			setup: func(b *bed) { b.killOne(45 * time.Second) },
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 0, b.count("upstream", "create", faultAt, 80*time.Second))
				assert.Equal(t, 2, b.activePods())
			},
			after: func(t *testing.T, b *bed) {
				assert.Equal(t, 1, b.count("upstream", "create", healAt, healAt+5*time.Second))
				assert.Equal(t, 3, b.activePods())
			}},
		{fault: faults.Fault{Kind: faults.SplitBrain, Target: "rs", For: faultFor},
			during: func(t *testing.T, b *bed) {
				assert.Positive(t, b.count("upstream#split", "list", faultAt, faultAt+time.Second), "a second instance starts")
			},
			after: func(t *testing.T, b *bed) {
				assert.Equal(t, 0, b.count("upstream#split", "", healAt+time.Second, 3*time.Minute), "and stops")
			}},
		{fault: faults.Fault{Kind: faults.ClockSkew, Target: "rs", Skew: 10 * time.Minute, For: faultFor},
			during: func(t *testing.T, b *bed) {
				assert.Equal(t, 10*time.Minute, b.in.Live("upstream").Now().Sub(b.w.Now()))
				assert.Equal(t, time.Duration(0), b.in.Live("upstream/rc").Now().Sub(b.w.Now()), "the rc controller is not skewed")
			},
			after: func(t *testing.T, b *bed) {
				assert.Equal(t, time.Duration(0), b.in.Live("upstream").Now().Sub(b.w.Now()))
			}},
	} {
		name := string(tc.fault.Kind)
		if tc.fault.RecreateAs != "" {
			name += "-as-another"
		}
		t.Run(name, func(t *testing.T) {
			b := newBed(t, tc.fault)
			if tc.setup != nil {
				tc.setup(b)
			}
			b.until(89 * time.Second)
			if tc.during != nil {
				tc.during(t, b)
			}
			b.until(3 * time.Minute)
			if tc.after != nil {
				tc.after(t, b)
			}
			rec := b.in.Records[0]
			assert.Empty(t, rec.Error)
			assert.Equal(t, faultAt.String(), rec.Started)
			info, _ := faults.Info(tc.fault.Kind)
			if tc.fault.For > 0 {
				assert.Equal(t, healAt.String(), rec.Healed, "healed at the planned time")
			} else if !info.Heals {
				healed, err := time.ParseDuration(rec.Healed)
				require.NoError(t, err)
				assert.True(t, healed >= faultAt && healed < faultAt+time.Second, "an instant: over once its requests are answered (%v)", healed)
			}
			marks := b.c.API.History().Marks()
			require.NotEmpty(t, marks)
			last := marks[len(marks)-1]
			assert.Equal(t, "fault", last.Tag, "drawn on the timeline")
			assert.Equal(t, faultAt, last.Start.Time)
		})
	}
}
