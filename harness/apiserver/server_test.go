package apiserver

import (
	"strconv"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/kube/kubetest"

	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
)

func newTestServer(t *testing.T) (*sim.World, *Server) {
	t.Helper()
	w := sim.New(1, sim.Limits{})
	return w, New(w, DefaultConfig())
}

func mustServe(t *testing.T, s *Server, req *Request) *Response {
	t.Helper()
	resp := s.Serve(req)
	require.NoError(t, resp.Err)
	return resp
}

func TestCreateSetsServerFields(t *testing.T) {
	_, s := newTestServer(t)
	resp := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)})
	rs := resp.Object.(*appsv1.ReplicaSet)
	assert.Equal(t, "default", rs.Namespace)
	assert.NotEmpty(t, rs.UID)
	assert.Equal(t, "2", rs.ResourceVersion, "the store starts at revision 1")
	assert.Equal(t, int64(1), rs.Generation)
	assert.Equal(t, sim.Epoch, rs.CreationTimestamp.Time)
	assert.Equal(t, corev1.RestartPolicyAlways, rs.Spec.Template.Spec.RestartPolicy, "defaulted")

	_, err := s.Serve(&Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}).Object, s.Serve(&Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}).Err
	assert.True(t, apierrors.IsAlreadyExists(err), "%v", err)
}

func TestGenerateName(t *testing.T) {
	_, s := newTestServer(t)
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		p := kubetest.BarePod("", nil)
		p.GenerateName = "frontend-"
		name := mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: p}).Object.GetName()
		assert.Regexp(t, `^frontend-[bcdfghjklmnpqrstvwxz2456789]{5}$`, name)
		assert.False(t, seen[name])
		seen[name] = true
	}
	err := s.Serve(&Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("", nil)}).Err
	assert.True(t, apierrors.IsInvalid(err))
	assert.Contains(t, err.Error(), "name or generateName is required")
}

func TestStaleResourceVersionConflicts(t *testing.T) {
	_, s := newTestServer(t)
	v1 := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}).Object.(*appsv1.ReplicaSet)

	a := v1.DeepCopy()
	a.Spec.Replicas = ptr(int32(5))
	v2 := mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: a}).Object
	assert.Equal(t, int64(2), v2.GetGeneration(), "spec change bumps generation")

	b := v1.DeepCopy() // still at the first resourceVersion
	b.Spec.Replicas = ptr(int32(7))
	err := s.Serve(&Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: b}).Err
	require.True(t, apierrors.IsConflict(err), "%v", err)
	assert.Contains(t, err.Error(), `replicasets.apps "frontend": the object has been modified`)

	// An empty resourceVersion is an unconditional update.
	b.ResourceVersion = ""
	mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: b})

	// Status updates do not bump generation, and updates do not touch status.
	st := b.DeepCopy()
	st.Status.Replicas = 7
	st.ResourceVersion = ""
	v4 := mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Subresource: "status", Object: st}).Object.(*appsv1.ReplicaSet)
	assert.Equal(t, int32(7), v4.Status.Replicas)
	assert.Equal(t, int64(3), v4.Generation)
	c := v4.DeepCopy()
	c.Status.Replicas = 0
	c.Labels["x"] = "y"
	v5 := mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: c}).Object.(*appsv1.ReplicaSet)
	assert.Equal(t, int32(7), v5.Status.Replicas)
	assert.Equal(t, int64(3), v5.Generation, "a label change is not a spec change")

	// A write that changes nothing is not a write.
	again := mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: v5.DeepCopy()}).Object
	assert.Equal(t, v5.ResourceVersion, again.GetResourceVersion())
}

func TestOneControllerRule(t *testing.T) {
	_, s := newTestServer(t)
	rs := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(1)}).Object
	other := kubetest.FrontendReplicaSet(1)
	other.Name = "other"
	rs2 := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: other}).Object

	p := kubetest.BarePod("pod1", map[string]string{"tier": "frontend"})
	p.OwnerReferences = []metav1.OwnerReference{OwnerReference(rs)}
	pod := mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: p}).Object.(*corev1.Pod)

	two := pod.DeepCopy()
	two.OwnerReferences = append(two.OwnerReferences, OwnerReference(rs2))
	err := s.Serve(&Request{Verb: Update, Kind: Pods, Name: "pod1", Object: two}).Err
	require.True(t, apierrors.IsInvalid(err))
	assert.Contains(t, err.Error(), "Only one reference can have Controller set to true")

	// The same through a strategic merge patch, as ClaimPods adopts.
	patch := `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"other","uid":"` + string(rs2.GetUID()) + `","controller":true,"blockOwnerDeletion":true}],"uid":"` + string(pod.UID) + `"}}`
	err = s.Serve(&Request{Verb: Patch, Kind: Pods, Name: "pod1", PatchType: types.StrategicMergePatchType, Patch: []byte(patch)}).Err
	require.True(t, apierrors.IsInvalid(err), "%v", err)
}

func TestPatchUIDPrecondition(t *testing.T) {
	_, s := newTestServer(t)
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("pod1", map[string]string{"a": "b"})})
	err := s.Serve(&Request{Verb: Patch, Kind: Pods, Name: "pod1", PatchType: types.MergePatchType,
		Patch: []byte(`{"metadata":{"labels":{"a":"c"},"uid":"not-the-uid"}}`)}).Err
	assert.True(t, apierrors.IsConflict(err), "%v", err)
	resp := mustServe(t, s, &Request{Verb: Patch, Kind: Pods, Name: "pod1", PatchType: types.MergePatchType,
		Patch: []byte(`{"metadata":{"labels":{"a":"c"}}}`)})
	assert.Equal(t, "c", resp.Object.GetLabels()["a"])
}

func TestValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   string
	}{
		{"spaced name", func(rs *appsv1.ReplicaSet) { rs.Name = "rs - web" }, `metadata.name: Invalid value: "rs - web"`},
		{"no selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, "spec.selector: Required value"},
		{"template does not match", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Labels = map[string]string{"tier": "backend"} },
			"spec.template.metadata.labels: Invalid value"},
		{"no containers", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Containers = nil }, "spec.template.spec.containers: Required value"},
		{"negative replicas", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = ptr(int32(-1)) }, "spec.replicas: Invalid value: -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := newTestServer(t)
			rs := kubetest.FrontendReplicaSet(3)
			tc.mutate(rs)
			err := s.Serve(&Request{Verb: Create, Kind: ReplicaSets, Object: rs}).Err
			require.True(t, apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "ReplicaSet.apps")
		})
	}
}

func TestSelectorIsImmutable(t *testing.T) {
	_, s := newTestServer(t)
	rs := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}).Object.(*appsv1.ReplicaSet).DeepCopy()
	rs.Spec.Selector.MatchLabels["extra"] = "x"
	rs.Spec.Template.Labels["extra"] = "x"
	err := s.Serve(&Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Object: rs}).Err
	require.True(t, apierrors.IsInvalid(err))
	assert.Contains(t, err.Error(), "spec.selector: Invalid value")
	assert.Contains(t, err.Error(), "field is immutable")
}

func TestReplicationControllerDefaultsSelectorFromTemplate(t *testing.T) {
	_, s := newTestServer(t)
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend-controller"},
		Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "frontend"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "php-redis", Image: "dockerfile/redis"}}},
		}},
	}
	got := mustServe(t, s, &Request{Verb: Create, Kind: ReplicationControllers, Object: rc}).Object.(*corev1.ReplicationController)
	assert.Equal(t, map[string]string{"name": "frontend"}, got.Spec.Selector)
	assert.Equal(t, int32(1), *got.Spec.Replicas)
}

func TestGracefulPodDeletionAndFinalizers(t *testing.T) {
	w, s := newTestServer(t)
	p := kubetest.BarePod("web", nil)
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: p})

	// An unscheduled pod goes at once.
	resp := mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "web"})
	assert.True(t, resp.gone)

	// A pod on a node waits for its kubelet.
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: p})
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "web", Node: "node-1"})
	w.RunUntil(10 * time.Second)
	resp = mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "web"})
	assert.False(t, resp.gone)
	pod := resp.Object.(*corev1.Pod)
	require.NotNil(t, pod.DeletionTimestamp)
	assert.Equal(t, sim.Epoch.Add(40*time.Second), pod.DeletionTimestamp.Time, "now + 30s grace")
	assert.Equal(t, int64(30), *pod.DeletionGracePeriodSeconds)

	// The kubelet's final delete with grace 0 removes it.
	resp = mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "web", Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}})
	assert.True(t, resp.gone)
	assert.True(t, apierrors.IsNotFound(s.Serve(&Request{Verb: Get, Kind: Pods, Name: "web"}).Err))

	// A finalizer holds an object until it is removed.
	f := kubetest.BarePod("held", nil)
	f.Finalizers = []string{"example.com/hold"}
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: f})
	resp = mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "held"})
	assert.False(t, resp.gone)
	held := resp.Object.(*corev1.Pod).DeepCopy()
	assert.NotNil(t, held.DeletionTimestamp)
	more := held.DeepCopy()
	more.Finalizers = append(more.Finalizers, "example.com/another")
	err := s.Serve(&Request{Verb: Update, Kind: Pods, Name: "held", Object: more}).Err
	assert.True(t, apierrors.IsInvalid(err), "no new finalizers on a terminating object: %v", err)
	held.Finalizers = nil
	resp = mustServe(t, s, &Request{Verb: Update, Kind: Pods, Name: "held", Object: held})
	assert.True(t, resp.gone, "removing the last finalizer deletes the object")
}

func TestDeletePropagationFinalizers(t *testing.T) {
	for _, tc := range []struct {
		policy    metav1.DeletionPropagation
		finalizer string
	}{
		{metav1.DeletePropagationOrphan, metav1.FinalizerOrphanDependents},
		{metav1.DeletePropagationForeground, metav1.FinalizerDeleteDependents},
		{metav1.DeletePropagationBackground, ""},
	} {
		t.Run(string(tc.policy), func(t *testing.T) {
			_, s := newTestServer(t)
			mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)})
			policy := tc.policy
			resp := mustServe(t, s, &Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{PropagationPolicy: &policy}})
			if tc.finalizer == "" {
				assert.True(t, resp.gone)
				return
			}
			assert.False(t, resp.gone)
			assert.Equal(t, []string{tc.finalizer}, resp.Object.GetFinalizers())
			assert.NotNil(t, resp.Object.GetDeletionTimestamp())
		})
	}
}

func TestDeletePreconditions(t *testing.T) {
	_, s := newTestServer(t)
	rs := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}).Object
	wrong := types.UID("nope")
	err := s.Serve(&Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &wrong}}}).Err
	assert.True(t, apierrors.IsConflict(err))
	uid := rs.GetUID()
	mustServe(t, s, &Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}})
}

func TestScaleSubresource(t *testing.T) {
	_, s := newTestServer(t)
	mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)})
	sc := mustServe(t, s, &Request{Verb: Get, Kind: ReplicaSets, Name: "frontend", Subresource: "scale"}).Scale
	assert.Equal(t, int32(3), sc.Spec.Replicas)
	assert.Equal(t, "tier=frontend", sc.Status.Selector)

	stale := sc.DeepCopy()
	sc.Spec.Replicas = 10
	got := mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Subresource: "scale", Scale: sc})
	assert.Equal(t, int32(10), got.Scale.Spec.Replicas)
	assert.Equal(t, int64(2), got.Object.GetGeneration())

	stale.Spec.Replicas = 2 // kubectl scale --resource-version=<old>
	err := s.Serve(&Request{Verb: Update, Kind: ReplicaSets, Name: "frontend", Subresource: "scale", Scale: stale}).Err
	assert.True(t, apierrors.IsConflict(err))

	patched := mustServe(t, s, &Request{Verb: Patch, Kind: ReplicaSets, Name: "frontend", Subresource: "scale",
		PatchType: types.MergePatchType, Patch: []byte(`{"spec":{"replicas":2}}`)})
	assert.Equal(t, int32(2), patched.Scale.Spec.Replicas)

	err = s.Serve(&Request{Verb: Update, Kind: DaemonSets, Name: "x", Subresource: "scale", Scale: &autoscalingv1.Scale{}}).Err
	assert.True(t, apierrors.IsNotFound(err))
}

func TestBindingOnlyOnce(t *testing.T) {
	_, s := newTestServer(t)
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("p", nil)})
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "p", Node: "node-1"})
	err := s.Serve(&Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "p", Node: "node-2"}).Err
	assert.True(t, apierrors.IsConflict(err))
}

func TestRequestsTakeVirtualTimeAndAreRecorded(t *testing.T) {
	w := sim.New(1, sim.Limits{})
	cfg := DefaultConfig()
	cfg.DefaultLatency = Fixed(10 * time.Millisecond)
	s := New(w, cfg)
	var gotAt time.Duration
	var got *Response
	s.Do(&Request{Client: "test", Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)}, func(r *Response) {
		gotAt, got = w.Elapsed(), r
	})
	w.Run()
	require.NoError(t, got.Err)
	assert.Equal(t, 10*time.Millisecond, gotAt)
	ops := s.History().Ops()
	require.Len(t, ops, 1)
	op := ops[0]
	assert.Equal(t, "test", op.Client)
	assert.Equal(t, "default/frontend", op.Key)
	assert.Equal(t, time.Duration(0), op.Call.Time)
	assert.Equal(t, 5*time.Millisecond, op.Commit.Time, "commits halfway")
	assert.Equal(t, 10*time.Millisecond, op.Return.Time)
	assert.True(t, op.Call.Seq < op.Commit.Seq && op.Commit.Seq < op.Return.Seq)
	assert.Equal(t, 200, op.Code)
	assert.Equal(t, "2", op.RV)
}

func TestWatchOrderFiltersAndDelay(t *testing.T) {
	w := sim.New(1, sim.Limits{})
	cfg := DefaultConfig()
	cfg.DefaultLatency = Fixed(2 * time.Millisecond)
	s := New(w, cfg)
	type seen struct {
		typ watch.EventType
		rv  uint64
		at  time.Duration
	}
	var all, node1, frontend []seen
	delay := Dist{Min: time.Millisecond, Max: 50 * time.Millisecond}
	s.Watch(WatchOptions{Client: "all", Kind: Pods, Delay: &delay}, func(e Event) { all = append(all, seen{e.Type, e.RV, w.Elapsed()}) })
	s.Watch(WatchOptions{Client: "kubelet", Kind: Pods, Fields: fields.OneTermEqualSelector("spec.nodeName", "node-1")},
		func(e Event) { node1 = append(node1, seen{e.Type, e.RV, w.Elapsed()}) })
	s.Watch(WatchOptions{Client: "rs", Kind: Pods, Labels: labels.SelectorFromSet(labels.Set{"tier": "frontend"})},
		func(e Event) { frontend = append(frontend, seen{e.Type, e.RV, w.Elapsed()}) })
	w.RunUntil(time.Second)
	for i := 0; i < 20; i++ {
		mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("p"+itoa(i), map[string]string{"tier": "frontend"})})
	}
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "p3", Node: "node-1"})
	relabel := mustServe(t, s, &Request{Verb: Get, Kind: Pods, Name: "p3"}).Object.(*corev1.Pod).DeepCopy()
	relabel.Labels = map[string]string{"tier": "debug"}
	mustServe(t, s, &Request{Verb: Update, Kind: Pods, Name: "p3", Object: relabel})
	mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "p3", Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}})
	w.Run()

	require.Len(t, all, 23)
	for i := 1; i < len(all); i++ {
		assert.Less(t, all[i-1].rv, all[i].rv, "ordered by resourceVersion despite random delays")
		assert.LessOrEqual(t, all[i-1].at, all[i].at)
	}
	assert.Greater(t, all[0].at, time.Second, "delivered after a delay")
	assert.Equal(t, []watch.EventType{watch.Added, watch.Modified, watch.Deleted},
		[]watch.EventType{node1[0].typ, node1[1].typ, node1[2].typ}, "bound: Added; relabelled; deleted")
	assert.Len(t, node1, 3)
	last := frontend[len(frontend)-1]
	assert.Equal(t, watch.Deleted, last.typ, "relabelled out of the selector reads as Deleted")
	assert.Len(t, frontend, 22, "20 adds, the binding, the relabel; not the final delete")
}

func TestWatchFromResourceVersionAndGone(t *testing.T) {
	w := sim.New(1, sim.Limits{})
	cfg := DefaultConfig()
	cfg.WatchWindow = time.Minute
	s := New(w, cfg)
	for i := 0; i < 5; i++ {
		mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("early"+itoa(i), nil)})
	}
	var replay []uint64
	s.Watch(WatchOptions{Client: "c", Kind: Pods, ResourceVersion: "3"}, func(e Event) { replay = append(replay, e.RV) })
	w.RunUntil(2 * time.Minute)
	assert.Equal(t, []uint64{4, 5, 6}, replay, "events after the requested version")

	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("late", nil)}) // compacts the old ones
	gone := watchEnd(s, "2")
	w.Run()
	require.Error(t, *gone)
	assert.True(t, apierrors.IsResourceExpired(*gone) || apierrors.IsGone(*gone), "%v", *gone)
	assert.Equal(t, 410, int((*gone).(apierrors.APIStatus).Status().Code))
}

func TestListIsSortedAndFiltered(t *testing.T) {
	_, s := newTestServer(t)
	for _, n := range []string{"c", "a", "b"} {
		mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod(n, map[string]string{"x": n})})
	}
	resp := mustServe(t, s, &Request{Verb: List, Kind: Pods})
	var names []string
	for _, o := range resp.Items {
		names = append(names, o.GetName())
	}
	assert.Equal(t, []string{"a", "b", "c"}, names)
	assert.Equal(t, "4", resp.ResourceVersion)
	sel, _ := labels.Parse("x in (a,c)")
	assert.Len(t, mustServe(t, s, &Request{Verb: List, Kind: Pods, LabelSelector: sel}).Items, 2)
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDeploymentSurgeAndUnavailableNotBothZero(t *testing.T) {
	for _, tc := range []struct {
		surge, unavailable intstr.IntOrString
		ok                 bool
	}{
		{intstr.FromInt32(0), intstr.FromInt32(0), false},
		{intstr.FromString("0%"), intstr.FromInt32(0), false},
		{intstr.FromString("0%"), intstr.FromString("0%"), false},
		{intstr.FromInt32(1), intstr.FromInt32(0), true},
		{intstr.FromString("25%"), intstr.FromString("0%"), true},
	} {
		_, s := newTestServer(t)
		d := &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "nginx-deployment"},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "nginx"}},
				Template: kubetest.FrontendReplicaSet(1).Spec.Template,
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &tc.surge, MaxUnavailable: &tc.unavailable}},
			},
		}
		d.Spec.Template.Labels = map[string]string{"app": "nginx"}
		err := s.Serve(&Request{Verb: Create, Kind: Deployments, Object: d}).Err
		if tc.ok {
			assert.NoError(t, err, "%s/%s", tc.surge.String(), tc.unavailable.String())
		} else {
			require.Error(t, err)
			assert.Contains(t, err.Error(), "spec.strategy.rollingUpdate.maxUnavailable: Invalid value")
			assert.Contains(t, err.Error(), "may not be 0 when `maxSurge` is 0")
		}
	}
}

// A watch cache that has dropped events for lack of room answers 410 for a
// watch from before them, rather than starting it with a silent gap.
func TestWatchFromBeforeTheCacheCapacityIsGone(t *testing.T) {
	w := sim.New(1, sim.Limits{})
	cfg := DefaultConfig()
	cfg.WatchCapacity = 3
	s := New(w, cfg)
	for i := 0; i < 6; i++ {
		mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("p"+itoa(i), nil)})
	}
	gone := watchEnd(s, "3")
	var got []uint64
	s.Watch(WatchOptions{Client: "c", Kind: Pods, ResourceVersion: "4"}, func(e Event) { got = append(got, e.RV) })
	w.Run()
	require.Error(t, *gone, "events 4 and 5 were dropped from the cache")
	assert.True(t, apierrors.IsResourceExpired(*gone) || apierrors.IsGone(*gone))
	assert.Equal(t, []uint64{5, 6, 7}, got, "from 4: the three kept events")
}

func TestExplicitBackgroundUndoesAnOrphanDelete(t *testing.T) {
	_, s := newTestServer(t)
	mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)})
	orphan, background := metav1.DeletePropagationOrphan, metav1.DeletePropagationBackground
	resp := mustServe(t, s, &Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{PropagationPolicy: &orphan}})
	assert.Equal(t, []string{metav1.FinalizerOrphanDependents}, resp.Object.GetFinalizers())
	resp = mustServe(t, s, &Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend"})
	assert.Equal(t, []string{metav1.FinalizerOrphanDependents}, resp.Object.GetFinalizers(), "no policy: keep what is there")
	resp = mustServe(t, s, &Request{Verb: Delete, Kind: ReplicaSets, Name: "frontend", Delete: &metav1.DeleteOptions{PropagationPolicy: &background}})
	assert.True(t, resp.gone, "an explicit background delete drops the orphan finalizer, so the owner goes")
}

func TestShorterGracePeriodMovesTheDeletionEarlier(t *testing.T) {
	w, s := newTestServer(t)
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: kubetest.BarePod("web", nil)})
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "web", Node: "node-1"})
	mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "web"}) // at 0s: now + 30s
	w.RunUntil(10 * time.Second)
	resp := mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "web", Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(5))}})
	pod := resp.Object.(*corev1.Pod)
	assert.Equal(t, sim.Epoch.Add(5*time.Second), pod.DeletionTimestamp.Time, "30s − 30s + 5s from the first delete, not now + 5s")
	assert.Equal(t, int64(5), *pod.DeletionGracePeriodSeconds)
}

func TestWatchFromTheFutureIsRefused(t *testing.T) {
	w, s := newTestServer(t)
	end := watchEnd(s, "999")
	w.Run()
	require.Error(t, *end)
	assert.Contains(t, (*end).Error(), "Too large resource version: 999")
}

// A patch is defaulted as a create or an update is: a field a patch removes
// (kubectl apply's three-way patch removes what a manifest no longer sets)
// takes its default again.
func TestPatchDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		patchType types.PatchType
		patch     string
	}{
		{"strategic merge", types.StrategicMergePatchType, `{"spec":{"replicas":null,"template":{"spec":{"restartPolicy":null}}}}`},
		{"merge", types.MergePatchType, `{"spec":{"replicas":null,"template":{"spec":{"restartPolicy":null}}}}`},
		{"json", types.JSONPatchType, `[{"op":"remove","path":"/spec/replicas"},{"op":"remove","path":"/spec/template/spec/restartPolicy"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, s := newTestServer(t)
			mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: kubetest.FrontendReplicaSet(3)})
			rs := mustServe(t, s, &Request{Verb: Patch, Kind: ReplicaSets, Name: "frontend", PatchType: tc.patchType, Patch: []byte(tc.patch)}).Object.(*appsv1.ReplicaSet)
			require.NotNil(t, rs.Spec.Replicas)
			assert.Equal(t, int32(1), *rs.Spec.Replicas)
			assert.Equal(t, corev1.RestartPolicyAlways, rs.Spec.Template.Spec.RestartPolicy)
		})
	}
}

// watchEnd watches pods from rv: once the world has run, the error the
// watch ended with (nil while it has not).
func watchEnd(s *Server, rv string) *error {
	end := new(error)
	s.Watch(WatchOptions{Client: "c", Kind: Pods, ResourceVersion: rv}, func(e Event) {
		if e.Type == watch.Error {
			*end = e.Err
		}
	})
	return end
}
