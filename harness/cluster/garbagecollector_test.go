package cluster

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/kube/kubetest"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// gcServer is a server with a garbage collector whose graph is synced.
func gcServer(t *testing.T) (*sim.World, *apiserver.Server, *GarbageCollector) {
	t.Helper()
	w := sim.New(1, sim.Limits{MaxTime: 24 * time.Hour})
	t.Cleanup(w.Close)
	s := apiserver.New(w, apiserver.DefaultConfig())
	gc := StartGarbageCollector(s)
	w.RunUntil(time.Second)
	require.True(t, gc.Synced())
	return w, s, gc
}

// gcSettle runs until nothing is left to do and checks that no actor failed.
func gcSettle(t *testing.T, w *sim.World) {
	t.Helper()
	out := w.Run()
	require.Equal(t, sim.Idle, out.Verdict, out.Reason)
	require.Empty(t, w.Failures())
}

func gcNamedRS(name string) *appsv1.ReplicaSet {
	rs := kubetest.FrontendReplicaSet(1)
	rs.Name = name
	return rs
}

func gcCreateRS(t *testing.T, s *apiserver.Server, name string) apiserver.Object {
	t.Helper()
	return gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: gcNamedRS(name)}).Object
}

func gcCreatePod(t *testing.T, s *apiserver.Server, name string, owners ...metav1.OwnerReference) *corev1.Pod {
	t.Helper()
	p := kubetest.BarePod(name, map[string]string{"tier": "frontend"})
	p.OwnerReferences = owners
	return gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: p}).Object.(*corev1.Pod)
}

// gcSecondaryRef is a reference that is not the controller's and does not block.
func gcSecondaryRef(owner apiserver.Object) metav1.OwnerReference {
	ref := apiserver.OwnerReference(owner)
	ref.Controller, ref.BlockOwnerDeletion = nil, nil
	return ref
}

func gcGhostRef(name, uid string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name, UID: types.UID(uid)}
}

func gcDelete(t *testing.T, s *apiserver.Server, kind apiserver.Kind, name string, policy metav1.DeletionPropagation) *apiserver.Response {
	t.Helper()
	return gcServe(t, s, &apiserver.Request{Verb: apiserver.Delete, Kind: kind, Name: name, Delete: &metav1.DeleteOptions{PropagationPolicy: &policy}})
}

func gcLookup(s *apiserver.Server, kind apiserver.Kind, name string) (apiserver.Object, bool) {
	resp := s.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: kind, Name: name})
	if apierrors.IsNotFound(resp.Err) {
		return nil, false
	}
	if resp.Err != nil {
		panic(resp.Err)
	}
	return resp.Object, true
}

func gcOwnerUIDs(obj apiserver.Object) []types.UID {
	var out []types.UID
	for _, r := range obj.GetOwnerReferences() {
		out = append(out, r.UID)
	}
	return out
}

// gcOps are the garbage collector's requests of a verb ("" for any).
func gcOps(s *apiserver.Server, verb apiserver.Verb) []*history.Op {
	var out []*history.Op
	for _, op := range s.History().Ops() {
		if op.Client == ClientGarbageCollector && (verb == "" || op.Verb == string(verb)) {
			out = append(out, op)
		}
	}
	return out
}

// gcWritesTo are the garbage collector's writes to one object.
func gcWritesTo(s *apiserver.Server, key string) []*history.Op {
	var out []*history.Op
	for _, op := range gcOps(s, "") {
		if op.Key == key && op.Verb != string(apiserver.Get) {
			out = append(out, op)
		}
	}
	return out
}

// gcDeletions records the resourceVersion at which each object left storage,
// as a watcher of the given kinds sees it.
type gcDeletions map[string]uint64

func gcWatchDeletions(s *apiserver.Server, kinds ...apiserver.Kind) gcDeletions {
	d := gcDeletions{}
	for _, k := range kinds {
		s.Watch(apiserver.WatchOptions{Client: "test", Kind: k}, func(ev apiserver.Event) {
			if ev.Type == watch.Deleted {
				d[string(ev.Kind)+"/"+ev.Object.GetName()] = ev.RV
			}
		})
	}
	return d
}

func TestGCBackgroundDeletionRemovesDependents(t *testing.T) {
	w, s, _ := gcServer(t)
	a := gcCreateRS(t, s, "a")
	b := gcCreateRS(t, s, "b")
	a0 := gcCreatePod(t, s, "a-0", apiserver.OwnerReference(a))
	a1 := gcCreatePod(t, s, "a-1", apiserver.OwnerReference(a))
	gcCreatePod(t, s, "b-0", apiserver.OwnerReference(b))
	gcSettle(t, w)

	gcDelete(t, s, apiserver.ReplicaSets, "a", metav1.DeletePropagationBackground)
	_, ok := gcLookup(s, apiserver.ReplicaSets, "a")
	assert.False(t, ok, "gone at once")
	gcSettle(t, w)

	for _, name := range []string{"a-0", "a-1"} {
		_, ok := gcLookup(s, apiserver.Pods, name)
		assert.False(t, ok, "%s belonged to the deleted ReplicaSet", name)
	}
	_, ok = gcLookup(s, apiserver.Pods, "b-0")
	assert.True(t, ok, "b-0 belongs to another ReplicaSet")
	_, ok = gcLookup(s, apiserver.ReplicaSets, "b")
	assert.True(t, ok)

	deletes := gcOps(s, apiserver.Delete)
	require.Len(t, deletes, 2)
	want := map[string]string{"default/a-0": string(a0.UID), "default/a-1": string(a1.UID)}
	for _, op := range deletes {
		assert.Equal(t, want[op.Key], op.PreUID, "deleted with a uid precondition")
		assert.Equal(t, "propagation=Background", op.Arg)
		assert.Equal(t, 200, op.Code)
		assert.Equal(t, "deleted", op.Result)
		require.NotNil(t, op.Commit)
		assert.Greater(t, op.Commit.Time, op.Call.Time, "an ordinary request, with latency")
	}
}

func TestGCOrphanDeletionKeepsDependents(t *testing.T) {
	w, s, _ := gcServer(t)
	a := gcCreateRS(t, s, "a")
	b := gcCreateRS(t, s, "b")
	gcCreatePod(t, s, "p0", apiserver.OwnerReference(a))
	gcCreatePod(t, s, "p1", apiserver.OwnerReference(a), gcSecondaryRef(b))
	gcSettle(t, w)

	gcDelete(t, s, apiserver.ReplicaSets, "a", metav1.DeletePropagationOrphan)
	_, ok := gcLookup(s, apiserver.ReplicaSets, "a")
	require.True(t, ok, "held by the orphan finalizer until the collector is done")
	gcSettle(t, w)

	_, ok = gcLookup(s, apiserver.ReplicaSets, "a")
	assert.False(t, ok, "the owner goes once its orphan finalizer is removed")
	p0, ok := gcLookup(s, apiserver.Pods, "p0")
	require.True(t, ok)
	assert.Empty(t, p0.GetOwnerReferences())
	p1, ok := gcLookup(s, apiserver.Pods, "p1")
	require.True(t, ok)
	assert.Equal(t, []types.UID{b.GetUID()}, gcOwnerUIDs(p1), "the reference to the live owner stays")

	assert.Empty(t, gcOps(s, apiserver.Delete), "orphaning deletes nothing")
	assert.Len(t, gcOps(s, apiserver.Patch), 2, "one patch per dependent")
	updates := gcOps(s, apiserver.Update)
	require.Len(t, updates, 1)
	assert.Equal(t, "default/a", updates[0].Key)
	assert.Equal(t, a.GetUID(), types.UID(updates[0].PreUID))
	assert.NotEmpty(t, updates[0].PreRV, "the finalizer is removed under a resourceVersion precondition")
	for _, op := range gcOps(s, apiserver.Patch) {
		assert.Less(t, op.Commit.Seq, updates[0].Commit.Seq, "dependents are released before the owner goes")
	}
}

func TestGCForegroundDeletionWaitsForBlockingDependents(t *testing.T) {
	w, s, _ := gcServer(t)
	gone := gcWatchDeletions(s, apiserver.Pods, apiserver.ReplicaSets)
	rs := gcCreateRS(t, s, "web")
	gcCreatePod(t, s, "u-0", apiserver.OwnerReference(rs))
	gcCreatePod(t, s, "u-1", apiserver.OwnerReference(rs))
	loose := apiserver.OwnerReference(rs)
	loose.BlockOwnerDeletion = new(bool)
	gcCreatePod(t, s, "loose", loose)
	// A pod on a node: deleted gracefully, it stays Terminating until its kubelet is done.
	gcCreatePod(t, s, "bound", apiserver.OwnerReference(rs))
	gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Subresource: "binding", Name: "bound", Node: "node-1"})
	gcSettle(t, w)

	gcDelete(t, s, apiserver.ReplicaSets, "web", metav1.DeletePropagationForeground)
	w.RunUntil(w.Elapsed() + 10*time.Second)

	for _, name := range []string{"u-0", "u-1", "loose"} {
		_, ok := gcLookup(s, apiserver.Pods, name)
		assert.False(t, ok, "%s is deleted by the collector", name)
	}
	bound, ok := gcLookup(s, apiserver.Pods, "bound")
	require.True(t, ok)
	assert.NotNil(t, bound.GetDeletionTimestamp(), "the bound pod is terminating")
	owner, ok := gcLookup(s, apiserver.ReplicaSets, "web")
	require.True(t, ok, "the owner stays while a blocking dependent is in storage")
	assert.NotNil(t, owner.GetDeletionTimestamp())
	assert.Equal(t, []string{metav1.FinalizerDeleteDependents}, owner.GetFinalizers())

	// The kubelet finishes the pod.
	gcServe(t, s, &apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "bound", Delete: &metav1.DeleteOptions{GracePeriodSeconds: new(int64)}})
	gcSettle(t, w)

	_, ok = gcLookup(s, apiserver.ReplicaSets, "web")
	assert.False(t, ok, "the owner goes after its blocking dependents")
	require.Contains(t, gone, "ReplicaSet/web")
	for _, name := range []string{"u-0", "u-1", "bound"} {
		require.Contains(t, gone, "Pod/"+name)
		assert.Less(t, gone["Pod/"+name], gone["ReplicaSet/web"], "%s left storage before its owner", name)
	}

	podDeletes := 0
	for _, op := range gcOps(s, apiserver.Delete) {
		assert.Equal(t, "propagation=Background", op.Arg, "pods have no dependents: background")
		podDeletes++
	}
	assert.Equal(t, 4, podDeletes, "every dependent once, the terminating pod not again")
	updates := gcOps(s, apiserver.Update)
	require.Len(t, updates, 1)
	assert.Equal(t, "default/web", updates[0].Key)
}

func TestGCForegroundCascadesThroughIntermediateOwners(t *testing.T) {
	w, s, _ := gcServer(t)
	gone := gcWatchDeletions(s, apiserver.Pods, apiserver.ReplicaSets, apiserver.Deployments)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}},
			Template: gcNamedRS("x").Spec.Template,
		},
	}
	dep := gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Deployments, Object: d}).Object
	rs := gcNamedRS("app-1")
	rs.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(dep)}
	rsObj := gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: rs}).Object
	gcCreatePod(t, s, "app-1-a", apiserver.OwnerReference(rsObj))
	gcCreatePod(t, s, "app-1-b", apiserver.OwnerReference(rsObj))
	gcSettle(t, w)

	gcDelete(t, s, apiserver.Deployments, "app", metav1.DeletePropagationForeground)
	gcSettle(t, w)

	for _, key := range []string{"Pod/app-1-a", "Pod/app-1-b", "ReplicaSet/app-1", "Deployment/app"} {
		require.Contains(t, gone, key)
	}
	assert.Less(t, gone["Pod/app-1-a"], gone["ReplicaSet/app-1"])
	assert.Less(t, gone["Pod/app-1-b"], gone["ReplicaSet/app-1"])
	assert.Less(t, gone["ReplicaSet/app-1"], gone["Deployment/app"])

	var rsDelete *history.Op
	for _, op := range gcOps(s, apiserver.Delete) {
		if op.Key == "default/app-1" {
			rsDelete = op
		}
	}
	require.NotNil(t, rsDelete)
	assert.Equal(t, "propagation=Foreground", rsDelete.Arg, "a dependent with dependents of its own goes in the foreground")
}

func TestGCDanglingOwnerReferences(t *testing.T) {
	for _, tc := range []struct {
		name      string
		owners    func(live apiserver.Object) []metav1.OwnerReference
		deleted   bool
		wantOwner bool // the live RS is the only owner left
		untouched bool // the collector wrote nothing to the pod
	}{
		{name: "only owner never existed",
			owners: func(apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{gcGhostRef("ghost", "made-up-uid")}
			},
			deleted: true},
		{name: "owner name taken by another uid",
			owners: func(apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{gcGhostRef("live", "stale-uid")}
			},
			deleted: true},
		{name: "live uid under another name",
			owners: func(live apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{gcGhostRef("renamed", string(live.GetUID()))}
			},
			deleted: true},
		{name: "one live and one dangling owner",
			owners: func(live apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{apiserver.OwnerReference(live), gcGhostRef("ghost", "made-up-uid")}
			},
			wantOwner: true},
		{name: "live owner",
			owners: func(live apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{apiserver.OwnerReference(live)}
			},
			wantOwner: true, untouched: true},
		{name: "owner of a kind the server does not serve",
			owners: func(apiserver.Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "widget-uid"}}
			},
			untouched: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, s, _ := gcServer(t)
			live := gcCreateRS(t, s, "live")
			gcCreatePod(t, s, "pod", tc.owners(live)...)
			// A canary, so that every case shows the collector at work.
			gcCreatePod(t, s, "canary", gcGhostRef("canary-owner", "canary-owner-uid"))
			gcSettle(t, w)
			_, ok := gcLookup(s, apiserver.Pods, "canary")
			require.False(t, ok, "the collector is at work")

			pod, exists := gcLookup(s, apiserver.Pods, "pod")
			assert.Equal(t, !tc.deleted, exists)
			if tc.deleted {
				require.Len(t, gcWritesTo(s, "default/pod"), 1)
				assert.Equal(t, string(apiserver.Delete), gcWritesTo(s, "default/pod")[0].Verb)
			}
			if tc.wantOwner {
				require.True(t, exists)
				assert.Equal(t, []types.UID{live.GetUID()}, gcOwnerUIDs(pod))
			}
			if tc.untouched {
				assert.Empty(t, gcWritesTo(s, "default/pod"))
			} else {
				assert.NotEmpty(t, gcWritesTo(s, "default/pod"))
			}
			_, ok = gcLookup(s, apiserver.ReplicaSets, "live")
			assert.True(t, ok, "owners are never collected because of their dependents")
		})
	}
}

func TestGCLeavesTerminatingObjectsAlone(t *testing.T) {
	w, s, _ := gcServer(t)
	// An owner held by someone else's finalizer: deleted in the background,
	// it is still in storage, so its dependents stay.
	held := gcNamedRS("held")
	held.Finalizers = []string{"example.com/hold"}
	heldObj := gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: held}).Object
	gcCreatePod(t, s, "held-0", apiserver.OwnerReference(heldObj))
	// A pod in its grace period whose owner never existed: not deleted again.
	gcCreatePod(t, s, "terminating", gcGhostRef("ghost", "made-up-uid"))
	gcServe(t, s, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Subresource: "binding", Name: "terminating", Node: "node-1"})
	gcDelete(t, s, apiserver.Pods, "terminating", metav1.DeletePropagationBackground)
	_, terminating := gcLookup(s, apiserver.Pods, "terminating")
	require.True(t, terminating, "still in its grace period")
	// …while its sibling that is not terminating is.
	gcCreatePod(t, s, "victim", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)

	gcDelete(t, s, apiserver.ReplicaSets, "held", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	rs, ok := gcLookup(s, apiserver.ReplicaSets, "held")
	require.True(t, ok)
	assert.Equal(t, []string{"example.com/hold"}, rs.GetFinalizers())
	assert.Empty(t, gcWritesTo(s, "default/held"), "another actor's finalizer")
	_, ok = gcLookup(s, apiserver.Pods, "held-0")
	assert.True(t, ok, "its owner is still in storage")
	assert.Empty(t, gcWritesTo(s, "default/terminating"))
	_, ok = gcLookup(s, apiserver.Pods, "victim")
	assert.False(t, ok)

	// The other actor removes its finalizer: the owner goes, then its pod.
	release := rs.DeepCopyObject().(apiserver.Object)
	release.SetFinalizers(nil)
	gcServe(t, s, &apiserver.Request{Verb: apiserver.Update, Kind: apiserver.ReplicaSets, Name: "held", Object: release})
	_, ok = gcLookup(s, apiserver.ReplicaSets, "held")
	require.False(t, ok, "removing the last finalizer deletes it")
	gcSettle(t, w)
	_, ok = gcLookup(s, apiserver.Pods, "held-0")
	assert.False(t, ok)
}

func TestGCSeesObjectsFromBeforeItStarted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		policy     metav1.DeletionPropagation
		podsRemain bool
	}{
		{"background", metav1.DeletePropagationBackground, false},
		{"orphan", metav1.DeletePropagationOrphan, true},
		{"foreground", metav1.DeletePropagationForeground, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := sim.New(1, sim.Limits{MaxTime: 24 * time.Hour})
			s := apiserver.New(w, apiserver.DefaultConfig())
			rs := gcCreateRS(t, s, "rs")
			gcCreatePod(t, s, "p0", apiserver.OwnerReference(rs))
			gcCreatePod(t, s, "p1", apiserver.OwnerReference(rs))
			gcDelete(t, s, apiserver.ReplicaSets, "rs", tc.policy)
			w.RunUntil(time.Minute)

			StartGarbageCollector(s)
			gcSettle(t, w)
			_, ok := gcLookup(s, apiserver.ReplicaSets, "rs")
			assert.False(t, ok)
			for _, name := range []string{"p0", "p1"} {
				_, ok := gcLookup(s, apiserver.Pods, name)
				assert.Equal(t, tc.podsRemain, ok, name)
			}
		})
	}
}

func TestGCSeesObjectsCreatedWhileItsWatchesStart(t *testing.T) {
	// Created while the collector's informers list and open their watches:
	// the watches start from the lists' resourceVersion, so nothing is missed.
	w := sim.New(1, sim.Limits{MaxTime: 24 * time.Hour})
	s := apiserver.New(w, apiserver.DefaultConfig())
	StartGarbageCollector(s)
	w.RunUntil(time.Millisecond)
	gcCreatePod(t, s, "p0", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	_, ok := gcLookup(s, apiserver.Pods, "p0")
	assert.False(t, ok)
}

func TestGCRelistsAfterItsWatchIsDropped(t *testing.T) {
	w, s, gc := gcServer(t)
	rs := gcCreateRS(t, s, "rs")
	gcCreatePod(t, s, "p0", apiserver.OwnerReference(rs))
	gcSettle(t, w)

	gc.Watcher(apiserver.Pods).Drop(errors.New("connection reset"))
	gcCreatePod(t, s, "p1", apiserver.OwnerReference(rs)) // created while the collector is not watching pods
	gcDelete(t, s, apiserver.ReplicaSets, "rs", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	for _, name := range []string{"p0", "p1"} {
		_, ok := gcLookup(s, apiserver.Pods, name)
		assert.False(t, ok, name)
	}
	podLists := 0
	for _, op := range gcOps(s, apiserver.List) {
		if op.Kind == string(apiserver.Pods) {
			podLists++
		}
	}
	assert.Equal(t, 2, podLists, "listed again after the watch ended")
	assert.False(t, gc.Watcher(apiserver.Pods).Closed())
}

// gcRejectOnce answers the first request of each listed verb from the
// collector with an error instead of serving it.
type gcRejectOnce map[apiserver.Verb]error

func (r gcRejectOnce) Intercept(req *apiserver.Request) apiserver.Interception {
	if err, ok := r[req.Verb]; ok && req.Client == ClientGarbageCollector {
		delete(r, req.Verb)
		return apiserver.Interception{Reject: err}
	}
	return apiserver.Interception{}
}

func TestGCRetriesAfterErrors(t *testing.T) {
	w, s, _ := gcServer(t)
	s.Interceptor = gcRejectOnce{
		apiserver.Update: apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "a", errors.New("the object has been modified")),
		apiserver.Delete: apierrors.NewInternalError(errors.New("etcd leader changed")),
		apiserver.Patch:  apierrors.NewTooManyRequests("slow down", 1),
	}
	a := gcCreateRS(t, s, "a")
	b := gcCreateRS(t, s, "b")
	gcCreatePod(t, s, "a-0", apiserver.OwnerReference(a))
	gcCreatePod(t, s, "b-0", apiserver.OwnerReference(b))
	gcSettle(t, w)

	gcDelete(t, s, apiserver.ReplicaSets, "a", metav1.DeletePropagationOrphan)
	gcDelete(t, s, apiserver.ReplicaSets, "b", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	_, ok := gcLookup(s, apiserver.ReplicaSets, "a")
	assert.False(t, ok, "the orphan finalizer is removed despite a conflict")
	a0, ok := gcLookup(s, apiserver.Pods, "a-0")
	require.True(t, ok)
	assert.Empty(t, a0.GetOwnerReferences(), "released despite a throttled patch")
	_, ok = gcLookup(s, apiserver.Pods, "b-0")
	assert.False(t, ok, "deleted despite a server error")

	codes := map[apiserver.Verb][]int{}
	for _, op := range gcOps(s, "") {
		if v := apiserver.Verb(op.Verb); v == apiserver.Update || v == apiserver.Delete || v == apiserver.Patch {
			codes[v] = append(codes[v], op.Code)
		}
	}
	assert.Equal(t, []int{409, 200}, codes[apiserver.Update])
	assert.Equal(t, []int{500, 200}, codes[apiserver.Delete])
	assert.Equal(t, []int{429, 200}, codes[apiserver.Patch])
}

func TestGCRequestsAreRecordedAsTheCollector(t *testing.T) {
	w, s, _ := gcServer(t)
	watches := map[string]bool{}
	for _, op := range gcOps(s, apiserver.Watch) {
		watches[op.Kind] = true
	}
	lists := map[string]bool{}
	for _, op := range gcOps(s, apiserver.List) {
		lists[op.Kind] = true
	}
	for _, k := range apiserver.Kinds {
		assert.True(t, watches[string(k)], "watches %s", k)
		assert.True(t, lists[string(k)], "lists %s", k)
	}

	gcCreatePod(t, s, "p0", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	var keys []string
	for _, op := range s.History().Ops() {
		if op.Key == "default/p0" || op.Key == "default/ghost" {
			assert.Equal(t, ClientGarbageCollector, op.Client)
			keys = append(keys, op.Verb+" "+op.Kind+" "+op.Key)
		}
	}
	assert.Equal(t, []string{
		"get Pod default/p0",           // the dependent, live
		"get ReplicaSet default/ghost", // its owner, unknown to the graph: verified
		"delete Pod default/p0",        // absent: collected
	}, keys)
}

func TestGCIsDeterministicAndIdleWhenNothingHappens(t *testing.T) {
	run := func() (string, uint64) {
		w := sim.New(7, sim.Limits{MaxTime: 48 * time.Hour})
		s := apiserver.New(w, apiserver.DefaultConfig())
		StartGarbageCollector(s)
		w.RunUntil(time.Second)
		for i, policy := range []metav1.DeletionPropagation{metav1.DeletePropagationBackground,
			metav1.DeletePropagationOrphan, metav1.DeletePropagationForeground} {
			name := "rs-" + strconv.Itoa(i)
			rs := gcCreateRS(t, s, name)
			for j := 0; j < 5; j++ {
				gcCreatePod(t, s, name+"-"+strconv.Itoa(j), apiserver.OwnerReference(rs))
			}
			w.RunUntil(w.Elapsed() + time.Second)
			gcDelete(t, s, apiserver.ReplicaSets, name, policy)
		}
		out := w.Run()
		require.Equal(t, sim.Idle, out.Verdict)
		for j := 0; j < 5; j++ {
			_, ok := gcLookup(s, apiserver.Pods, "rs-0-"+strconv.Itoa(j))
			require.False(t, ok, "collected")
		}
		events := w.Events()
		w.RunUntil(w.Elapsed() + 24*time.Hour)
		assert.Equal(t, events, w.Events(), "an idle day costs nothing")
		return history.Digest(s.History().Ops()), events
	}
	d1, e1 := run()
	d2, e2 := run()
	assert.Equal(t, d1, d2)
	assert.Equal(t, e1, e2)
}

func TestGCStop(t *testing.T) {
	w, s, gc := gcServer(t)
	gcCreatePod(t, s, "before", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	_, ok := gcLookup(s, apiserver.Pods, "before")
	require.False(t, ok, "collected while running")

	gc.Stop()
	gcCreatePod(t, s, "after", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	_, ok = gcLookup(s, apiserver.Pods, "after")
	assert.True(t, ok, "not after Stop")
	assert.Empty(t, gcWritesTo(s, "default/after"))
}

func gcServe(t *testing.T, s *apiserver.Server, req *apiserver.Request) *apiserver.Response {
	t.Helper()
	resp := s.Serve(req)
	require.NoError(t, resp.Err)
	return resp
}
