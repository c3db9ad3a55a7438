package replicaset

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/kube/kubetest"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// testCluster is an API server with a controller and no nodes: pods stay
// Pending, which is all these tests need (Pending pods are active).
type testCluster struct {
	t   *testing.T
	w   *sim.World
	api *apiserver.Server
}

func newTestCluster(t *testing.T, seed uint64, latency, watchDelay time.Duration) *testCluster {
	w := sim.New(seed, sim.Limits{MaxTime: time.Hour, MaxEvents: 1_000_000})
	cfg := modeltest.APIConfig(apiserver.Dist{Min: latency / 2, Max: latency}, apiserver.Dist{Min: watchDelay / 2, Max: watchDelay})
	return &testCluster{t: t, w: w, api: apiserver.New(w, cfg)}
}

func (c *testCluster) serve(req *apiserver.Request) apiserver.Object {
	c.t.Helper()
	return modeltest.Serve(c.t, c.api, req)
}

func (c *testCluster) pods(sel string) []*corev1.Pod {
	s, err := labels.Parse(sel)
	require.NoError(c.t, err)
	var out []*corev1.Pod
	for _, o := range c.api.Serve(&apiserver.Request{Verb: apiserver.List, Kind: apiserver.Pods, LabelSelector: s}).Items {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

func frontend(replicas int32) *appsv1.ReplicaSet {
	rs := kubetest.FrontendReplicaSet(replicas)
	rs.Namespace = "default"
	return rs
}

func bare(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"tier": "frontend"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "hello", Image: "hello-app:2.0"}}},
	}
}

// maxOwned watches every commit and remembers the most active pods the owner
// with this uid ever controlled at one instant.
func maxOwned(api *apiserver.Server, owner func() types.UID) *int {
	active := map[string]bool{}
	most := 0
	api.OnCommit(func(ev apiserver.Event) {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok {
			return
		}
		key := pod.Namespace + "/" + pod.Name
		ref := metav1.GetControllerOfNoCopy(pod)
		if ev.Type != "DELETED" && ref != nil && ref.UID == owner() && kube.IsPodActive(pod) {
			active[key] = true
		} else {
			delete(active, key)
		}
		most = max(most, len(active))
	})
	return &most
}

func TestScaleUpWithSlowWatchNeverOvershootsWithExpectations(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      Options
		overshoot bool
	}{
		{"upstream", Options{}, false},
		{"upstream without the 1.36 consistency check", Options{NoConsistencyCheck: true}, false},
		{"naive", Options{Name: "naive", NoExpectations: true, NoConsistencyCheck: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The watch is much slower than a request: the cache lags the
			// controller's own writes.
			c := newTestCluster(t, 7, 10*time.Millisecond, 200*time.Millisecond)
			var uid types.UID
			most := maxOwned(c.api, func() types.UID { return uid })
			Start(c.api, tc.opts)
			uid = c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(10)}).GetUID()
			c.w.RunUntil(2 * time.Minute)
			t.Logf("max owned active pods: %d", *most)
			if tc.overshoot {
				assert.Greater(t, *most, 10, "a controller without expectations creates more than asked for")
			} else {
				assert.Equal(t, 10, *most, "never more than spec.replicas")
				assert.Len(t, c.pods("tier=frontend"), 10)
			}
			assert.Empty(t, c.w.Failures())
		})
	}
}

func TestAdoption(t *testing.T) {
	t.Run("bare pods created after the ReplicaSet are adopted and deleted as surplus", func(t *testing.T) {
		c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
		tr := &trace.Recorder{}
		Start(c.api, Options{Trace: tr})
		rs := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
		c.w.RunUntil(10 * time.Second)
		require.Len(t, c.pods("tier=frontend"), 3)
		c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bare("pod1")})
		c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bare("pod2")})
		c.w.RunUntil(20 * time.Second)
		pods := c.pods("tier=frontend")
		assert.Len(t, pods, 3)
		for _, p := range pods {
			assert.True(t, metav1.IsControlledBy(p, rs), "%s is owned", p.Name)
			assert.NotContains(t, []string{"pod1", "pod2"}, p.Name, "the newest pods go first")
		}
		require.NotEmpty(t, tr.Decisions())
		d := tr.Decisions()[len(tr.Decisions())-1]
		assert.Equal(t, 2, d.Diff)
		assert.ElementsMatch(t, []string{"pod1", "pod2"}, d.Chosen)
		assert.Len(t, d.Candidates, 5)
		assert.Equal(t, "ReplicaSet/default/frontend", d.Owner)
		assert.False(t, d.OwnerHasController)
	})
	t.Run("bare pods created before are adopted and only the rest is created", func(t *testing.T) {
		c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
		c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bare("pod1")})
		c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bare("pod2")})
		Start(c.api, Options{})
		rs := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
		c.w.RunUntil(10 * time.Second)
		pods := c.pods("tier=frontend")
		require.Len(t, pods, 3)
		var names []string
		for _, p := range pods {
			assert.True(t, metav1.IsControlledBy(p, rs))
			names = append(names, p.Name)
		}
		assert.Contains(t, names, "pod1")
		assert.Contains(t, names, "pod2")
	})
	t.Run("a pod relabelled out of the selector is released and replaced", func(t *testing.T) {
		c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
		Start(c.api, Options{})
		rs := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
		c.w.RunUntil(10 * time.Second)
		victim := c.pods("tier=frontend")[0].DeepCopy()
		victim.Labels = map[string]string{"tier": "debug"}
		c.serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: victim.Name, Object: victim})
		c.w.RunUntil(20 * time.Second)
		assert.Len(t, c.pods("tier=frontend"), 3, "replaced")
		isolated := c.pods("tier=debug")
		require.Len(t, isolated, 1)
		assert.False(t, metav1.IsControlledBy(isolated[0], rs), "released")
		assert.Empty(t, isolated[0].OwnerReferences)
	})
}

func TestOrphanDeleteThenReadopt(t *testing.T) {
	c := newTestCluster(t, 3, 5*time.Millisecond, 5*time.Millisecond)
	cluster.StartGarbageCollector(c.api)
	Start(c.api, Options{})
	first := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
	c.w.RunUntil(10 * time.Second)
	before := c.pods("tier=frontend")
	require.Len(t, before, 3)

	orphan := metav1.DeletePropagationOrphan
	c.serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{PropagationPolicy: &orphan}})
	c.w.RunUntil(20 * time.Second)
	assert.True(t, c.api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Name: "frontend"}).Err != nil, "the ReplicaSet is gone")
	orphans := c.pods("tier=frontend")
	require.Len(t, orphans, 3, "its pods stay")
	for _, p := range orphans {
		assert.Empty(t, p.OwnerReferences)
	}

	second := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
	require.NotEqual(t, first.GetUID(), second.GetUID())
	c.w.RunUntil(30 * time.Second)
	after := c.pods("tier=frontend")
	require.Len(t, after, 3, "adopted, none created")
	for i, p := range after {
		assert.Equal(t, before[i].UID, p.UID)
		assert.True(t, metav1.IsControlledBy(p, second))
	}
}

func TestStatus(t *testing.T) {
	c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
	Start(c.api, Options{})
	c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(4)})
	c.w.RunUntil(10 * time.Second)
	rs := c.serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Name: "frontend"}).(*appsv1.ReplicaSet)
	assert.Equal(t, int32(4), rs.Status.Replicas)
	assert.Equal(t, int32(4), rs.Status.FullyLabeledReplicas)
	assert.Equal(t, int32(0), rs.Status.ReadyReplicas, "no kubelet: nothing is ready")
	assert.Equal(t, rs.Generation, rs.Status.ObservedGeneration)
	require.NotNil(t, rs.Status.TerminatingReplicas)
}

func TestReplicationControllerRunsTheSameAlgorithm(t *testing.T) {
	c := newTestCluster(t, 1, 5*time.Millisecond, 5*time.Millisecond)
	Start(c.api, Options{Kind: apiserver.ReplicationControllers})
	two := int32(2)
	rc := c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicationControllers, Object: &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend-controller", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{Replicas: &two, Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "frontend"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "php-redis", Image: "dockerfile/redis"}}},
		}},
	}})
	c.w.RunUntil(10 * time.Second)
	pods := c.pods("name=frontend")
	require.Len(t, pods, 2)
	ref := metav1.GetControllerOf(pods[0])
	require.NotNil(t, ref)
	assert.Equal(t, "ReplicationController", ref.Kind)
	assert.Equal(t, "v1", ref.APIVersion)
	assert.Equal(t, rc.GetUID(), ref.UID)
	got := c.serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicationControllers, Name: "frontend-controller"}).(*corev1.ReplicationController)
	assert.Equal(t, int32(2), got.Status.Replicas)

	scale := c.api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicationControllers, Name: "frontend-controller", Subresource: "scale"}).Scale
	scale.Spec.Replicas = 5
	require.NoError(t, c.api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.ReplicationControllers, Name: "frontend-controller", Subresource: "scale", Scale: scale}).Err)
	c.w.RunUntil(20 * time.Second)
	assert.Len(t, c.pods("name=frontend"), 5)
	scale = c.api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.ReplicationControllers, Name: "frontend-controller", Subresource: "scale"}).Scale
	scale.Spec.Replicas = 1
	require.NoError(t, c.api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.ReplicationControllers, Name: "frontend-controller", Subresource: "scale", Scale: scale}).Err)
	c.w.RunUntil(30 * time.Second)
	assert.Len(t, c.pods("name=frontend"), 1)
}

func TestAPanickingControllerIsAReportedFailure(t *testing.T) {
	c := newTestCluster(t, 42, 5*time.Millisecond, 5*time.Millisecond)
	ctl := Start(c.api, Options{})
	ctl.adapter = panicky{}
	c.serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: frontend(3)})
	c.w.RunUntil(10 * time.Second)
	require.Len(t, c.w.Failures(), 1)
	f := c.w.Failures()[0]
	assert.Equal(t, "replicaset-controller", f.Actor)
	assert.Equal(t, uint64(42), f.Seed)
	assert.Contains(t, f.Message, "planted")
}

type panicky struct{ rsAdapter }

func (panicky) toRS(apiserver.Object) *appsv1.ReplicaSet { panic("planted bug") }
