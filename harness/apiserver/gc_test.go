package apiserver

import (
	"errors"
	"strconv"
	"testing"
	"time"

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
func gcServer(t *testing.T) (*sim.World, *Server, *GarbageCollector) {
	t.Helper()
	w := sim.New(1, sim.Limits{MaxTime: 24 * time.Hour})
	t.Cleanup(w.Close)
	s := New(w, DefaultConfig())
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
	rs := frontendRS(1)
	rs.Name = name
	return rs
}

func gcCreateRS(t *testing.T, s *Server, name string) Object {
	t.Helper()
	return mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: gcNamedRS(name)}).Object
}

func gcCreatePod(t *testing.T, s *Server, name string, owners ...metav1.OwnerReference) *corev1.Pod {
	t.Helper()
	p := barePod(name, map[string]string{"tier": "frontend"})
	p.OwnerReferences = owners
	return mustServe(t, s, &Request{Verb: Create, Kind: Pods, Object: p}).Object.(*corev1.Pod)
}

// gcSecondaryRef is a reference that is not the controller's and does not block.
func gcSecondaryRef(owner Object) metav1.OwnerReference {
	ref := OwnerReference(owner)
	ref.Controller, ref.BlockOwnerDeletion = nil, nil
	return ref
}

func gcGhostRef(name, uid string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: name, UID: types.UID(uid)}
}

func gcDelete(t *testing.T, s *Server, kind Kind, name string, policy metav1.DeletionPropagation) *Response {
	t.Helper()
	return mustServe(t, s, &Request{Verb: Delete, Kind: kind, Name: name, Delete: &metav1.DeleteOptions{PropagationPolicy: &policy}})
}

func gcLookup(s *Server, kind Kind, name string) (Object, bool) {
	resp := s.Serve(&Request{Verb: Get, Kind: kind, Name: name})
	if apierrors.IsNotFound(resp.Err) {
		return nil, false
	}
	if resp.Err != nil {
		panic(resp.Err)
	}
	return resp.Object, true
}

func gcOwnerUIDs(obj Object) []types.UID {
	var out []types.UID
	for _, r := range obj.GetOwnerReferences() {
		out = append(out, r.UID)
	}
	return out
}

// gcOps are the garbage collector's requests of a verb ("" for any).
func gcOps(s *Server, verb Verb) []*history.Op {
	var out []*history.Op
	for _, op := range s.History().Ops() {
		if op.Client == GarbageCollectorClient && (verb == "" || op.Verb == string(verb)) {
			out = append(out, op)
		}
	}
	return out
}

// gcWritesTo are the garbage collector's writes to one object.
func gcWritesTo(s *Server, key string) []*history.Op {
	var out []*history.Op
	for _, op := range gcOps(s, "") {
		if op.Key == key && op.Verb != string(Get) {
			out = append(out, op)
		}
	}
	return out
}

// gcDeletions records the resourceVersion at which each object left storage,
// as a watcher of the given kinds sees it.
type gcDeletions map[string]uint64

func gcWatchDeletions(s *Server, kinds ...Kind) gcDeletions {
	d := gcDeletions{}
	for _, k := range kinds {
		s.Watch(WatchOptions{Client: "test", Kind: k}, func(ev Event) {
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
	a0 := gcCreatePod(t, s, "a-0", OwnerReference(a))
	a1 := gcCreatePod(t, s, "a-1", OwnerReference(a))
	gcCreatePod(t, s, "b-0", OwnerReference(b))
	gcSettle(t, w)

	assert.True(t, gcDelete(t, s, ReplicaSets, "a", metav1.DeletePropagationBackground).gone)
	gcSettle(t, w)

	for _, name := range []string{"a-0", "a-1"} {
		_, ok := gcLookup(s, Pods, name)
		assert.False(t, ok, "%s belonged to the deleted ReplicaSet", name)
	}
	_, ok := gcLookup(s, Pods, "b-0")
	assert.True(t, ok, "b-0 belongs to another ReplicaSet")
	_, ok = gcLookup(s, ReplicaSets, "b")
	assert.True(t, ok)

	deletes := gcOps(s, Delete)
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
	gcCreatePod(t, s, "p0", OwnerReference(a))
	gcCreatePod(t, s, "p1", OwnerReference(a), gcSecondaryRef(b))
	gcSettle(t, w)

	resp := gcDelete(t, s, ReplicaSets, "a", metav1.DeletePropagationOrphan)
	require.False(t, resp.gone, "held by the orphan finalizer until the collector is done")
	gcSettle(t, w)

	_, ok := gcLookup(s, ReplicaSets, "a")
	assert.False(t, ok, "the owner goes once its orphan finalizer is removed")
	p0, ok := gcLookup(s, Pods, "p0")
	require.True(t, ok)
	assert.Empty(t, p0.GetOwnerReferences())
	p1, ok := gcLookup(s, Pods, "p1")
	require.True(t, ok)
	assert.Equal(t, []types.UID{b.GetUID()}, gcOwnerUIDs(p1), "the reference to the live owner stays")

	assert.Empty(t, gcOps(s, Delete), "orphaning deletes nothing")
	assert.Len(t, gcOps(s, Patch), 2, "one patch per dependent")
	updates := gcOps(s, Update)
	require.Len(t, updates, 1)
	assert.Equal(t, "default/a", updates[0].Key)
	assert.Equal(t, a.GetUID(), types.UID(updates[0].PreUID))
	assert.NotEmpty(t, updates[0].PreRV, "the finalizer is removed under a resourceVersion precondition")
	for _, op := range gcOps(s, Patch) {
		assert.Less(t, op.Commit.Seq, updates[0].Commit.Seq, "dependents are released before the owner goes")
	}
}

func TestGCForegroundDeletionWaitsForBlockingDependents(t *testing.T) {
	w, s, _ := gcServer(t)
	gone := gcWatchDeletions(s, Pods, ReplicaSets)
	rs := gcCreateRS(t, s, "web")
	gcCreatePod(t, s, "u-0", OwnerReference(rs))
	gcCreatePod(t, s, "u-1", OwnerReference(rs))
	loose := OwnerReference(rs)
	loose.BlockOwnerDeletion = ptr(false)
	gcCreatePod(t, s, "loose", loose)
	// A pod on a node: deleted gracefully, it stays Terminating until its kubelet is done.
	gcCreatePod(t, s, "bound", OwnerReference(rs))
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "bound", Node: "node-1"})
	gcSettle(t, w)

	gcDelete(t, s, ReplicaSets, "web", metav1.DeletePropagationForeground)
	w.RunUntil(w.Elapsed() + 10*time.Second)

	for _, name := range []string{"u-0", "u-1", "loose"} {
		_, ok := gcLookup(s, Pods, name)
		assert.False(t, ok, "%s is deleted by the collector", name)
	}
	bound, ok := gcLookup(s, Pods, "bound")
	require.True(t, ok)
	assert.NotNil(t, bound.GetDeletionTimestamp(), "the bound pod is terminating")
	owner, ok := gcLookup(s, ReplicaSets, "web")
	require.True(t, ok, "the owner stays while a blocking dependent is in storage")
	assert.NotNil(t, owner.GetDeletionTimestamp())
	assert.Equal(t, []string{metav1.FinalizerDeleteDependents}, owner.GetFinalizers())

	// The kubelet finishes the pod.
	mustServe(t, s, &Request{Verb: Delete, Kind: Pods, Name: "bound", Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptr(int64(0))}})
	gcSettle(t, w)

	_, ok = gcLookup(s, ReplicaSets, "web")
	assert.False(t, ok, "the owner goes after its blocking dependents")
	require.Contains(t, gone, "ReplicaSet/web")
	for _, name := range []string{"u-0", "u-1", "bound"} {
		require.Contains(t, gone, "Pod/"+name)
		assert.Less(t, gone["Pod/"+name], gone["ReplicaSet/web"], "%s left storage before its owner", name)
	}

	podDeletes := 0
	for _, op := range gcOps(s, Delete) {
		assert.Equal(t, "propagation=Background", op.Arg, "pods have no dependents: background")
		podDeletes++
	}
	assert.Equal(t, 4, podDeletes, "every dependent once, the terminating pod not again")
	updates := gcOps(s, Update)
	require.Len(t, updates, 1)
	assert.Equal(t, "default/web", updates[0].Key)
}

func TestGCForegroundCascadesThroughIntermediateOwners(t *testing.T) {
	w, s, _ := gcServer(t)
	gone := gcWatchDeletions(s, Pods, ReplicaSets, Deployments)
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}},
			Template: gcNamedRS("x").Spec.Template,
		},
	}
	dep := mustServe(t, s, &Request{Verb: Create, Kind: Deployments, Object: d}).Object
	rs := gcNamedRS("app-1")
	rs.OwnerReferences = []metav1.OwnerReference{OwnerReference(dep)}
	rsObj := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: rs}).Object
	gcCreatePod(t, s, "app-1-a", OwnerReference(rsObj))
	gcCreatePod(t, s, "app-1-b", OwnerReference(rsObj))
	gcSettle(t, w)

	gcDelete(t, s, Deployments, "app", metav1.DeletePropagationForeground)
	gcSettle(t, w)

	for _, key := range []string{"Pod/app-1-a", "Pod/app-1-b", "ReplicaSet/app-1", "Deployment/app"} {
		require.Contains(t, gone, key)
	}
	assert.Less(t, gone["Pod/app-1-a"], gone["ReplicaSet/app-1"])
	assert.Less(t, gone["Pod/app-1-b"], gone["ReplicaSet/app-1"])
	assert.Less(t, gone["ReplicaSet/app-1"], gone["Deployment/app"])

	var rsDelete *history.Op
	for _, op := range gcOps(s, Delete) {
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
		owners    func(live Object) []metav1.OwnerReference
		deleted   bool
		wantOwner bool // the live RS is the only owner left
		untouched bool // the collector wrote nothing to the pod
	}{
		{name: "only owner never existed",
			owners: func(Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{gcGhostRef("ghost", "made-up-uid")}
			},
			deleted: true},
		{name: "owner name taken by another uid",
			owners:  func(Object) []metav1.OwnerReference { return []metav1.OwnerReference{gcGhostRef("live", "stale-uid")} },
			deleted: true},
		{name: "live uid under another name",
			owners: func(live Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{gcGhostRef("renamed", string(live.GetUID()))}
			},
			deleted: true},
		{name: "one live and one dangling owner",
			owners: func(live Object) []metav1.OwnerReference {
				return []metav1.OwnerReference{OwnerReference(live), gcGhostRef("ghost", "made-up-uid")}
			},
			wantOwner: true},
		{name: "live owner",
			owners:    func(live Object) []metav1.OwnerReference { return []metav1.OwnerReference{OwnerReference(live)} },
			wantOwner: true, untouched: true},
		{name: "owner of a kind the server does not serve",
			owners: func(Object) []metav1.OwnerReference {
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
			_, ok := gcLookup(s, Pods, "canary")
			require.False(t, ok, "the collector is at work")

			pod, exists := gcLookup(s, Pods, "pod")
			assert.Equal(t, !tc.deleted, exists)
			if tc.deleted {
				require.Len(t, gcWritesTo(s, "default/pod"), 1)
				assert.Equal(t, string(Delete), gcWritesTo(s, "default/pod")[0].Verb)
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
			_, ok = gcLookup(s, ReplicaSets, "live")
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
	heldObj := mustServe(t, s, &Request{Verb: Create, Kind: ReplicaSets, Object: held}).Object
	gcCreatePod(t, s, "held-0", OwnerReference(heldObj))
	// A pod in its grace period whose owner never existed: not deleted again.
	gcCreatePod(t, s, "terminating", gcGhostRef("ghost", "made-up-uid"))
	mustServe(t, s, &Request{Verb: Create, Kind: Pods, Subresource: "binding", Name: "terminating", Node: "node-1"})
	require.False(t, gcDelete(t, s, Pods, "terminating", metav1.DeletePropagationBackground).gone)
	// …while its sibling that is not terminating is.
	gcCreatePod(t, s, "victim", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)

	gcDelete(t, s, ReplicaSets, "held", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	rs, ok := gcLookup(s, ReplicaSets, "held")
	require.True(t, ok)
	assert.Equal(t, []string{"example.com/hold"}, rs.GetFinalizers())
	assert.Empty(t, gcWritesTo(s, "default/held"), "another actor's finalizer")
	_, ok = gcLookup(s, Pods, "held-0")
	assert.True(t, ok, "its owner is still in storage")
	assert.Empty(t, gcWritesTo(s, "default/terminating"))
	_, ok = gcLookup(s, Pods, "victim")
	assert.False(t, ok)

	// The other actor removes its finalizer: the owner goes, then its pod.
	release := rs.DeepCopyObject().(Object)
	release.SetFinalizers(nil)
	require.True(t, mustServe(t, s, &Request{Verb: Update, Kind: ReplicaSets, Name: "held", Object: release}).gone)
	gcSettle(t, w)
	_, ok = gcLookup(s, Pods, "held-0")
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
			s := New(w, DefaultConfig())
			rs := gcCreateRS(t, s, "rs")
			gcCreatePod(t, s, "p0", OwnerReference(rs))
			gcCreatePod(t, s, "p1", OwnerReference(rs))
			gcDelete(t, s, ReplicaSets, "rs", tc.policy)
			w.RunUntil(time.Minute)

			StartGarbageCollector(s)
			gcSettle(t, w)
			_, ok := gcLookup(s, ReplicaSets, "rs")
			assert.False(t, ok)
			for _, name := range []string{"p0", "p1"} {
				_, ok := gcLookup(s, Pods, name)
				assert.Equal(t, tc.podsRemain, ok, name)
			}
		})
	}
}

func TestGCSeesObjectsCreatedWhileItsWatchesStart(t *testing.T) {
	// A server at resourceVersion 0: a watch from the list's version would
	// start at its registration and miss these.
	w := sim.New(1, sim.Limits{MaxTime: 24 * time.Hour})
	s := New(w, DefaultConfig())
	StartGarbageCollector(s)
	w.RunUntil(time.Millisecond)
	gcCreatePod(t, s, "p0", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	_, ok := gcLookup(s, Pods, "p0")
	assert.False(t, ok)
}

func TestGCRelistsAfterItsWatchIsDropped(t *testing.T) {
	w, s, gc := gcServer(t)
	rs := gcCreateRS(t, s, "rs")
	gcCreatePod(t, s, "p0", OwnerReference(rs))
	gcSettle(t, w)

	gc.Watcher(Pods).Drop(errors.New("connection reset"))
	gcCreatePod(t, s, "p1", OwnerReference(rs)) // created while the collector is not watching pods
	gcDelete(t, s, ReplicaSets, "rs", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	for _, name := range []string{"p0", "p1"} {
		_, ok := gcLookup(s, Pods, name)
		assert.False(t, ok, name)
	}
	podLists := 0
	for _, op := range gcOps(s, List) {
		if op.Kind == string(Pods) {
			podLists++
		}
	}
	assert.Equal(t, 2, podLists, "listed again after the watch ended")
	assert.False(t, gc.Watcher(Pods).Closed())
}

// gcRejectOnce answers the first request of each listed verb from the
// collector with an error instead of serving it.
type gcRejectOnce map[Verb]error

func (r gcRejectOnce) Intercept(req *Request) Interception {
	if err, ok := r[req.Verb]; ok && req.Client == GarbageCollectorClient {
		delete(r, req.Verb)
		return Interception{Reject: err}
	}
	return Interception{}
}

func TestGCRetriesAfterErrors(t *testing.T) {
	w, s, _ := gcServer(t)
	s.Interceptor = gcRejectOnce{
		Update: apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "a", errors.New("the object has been modified")),
		Delete: apierrors.NewInternalError(errors.New("etcd leader changed")),
		Patch:  apierrors.NewTooManyRequests("slow down", 1),
	}
	a := gcCreateRS(t, s, "a")
	b := gcCreateRS(t, s, "b")
	gcCreatePod(t, s, "a-0", OwnerReference(a))
	gcCreatePod(t, s, "b-0", OwnerReference(b))
	gcSettle(t, w)

	gcDelete(t, s, ReplicaSets, "a", metav1.DeletePropagationOrphan)
	gcDelete(t, s, ReplicaSets, "b", metav1.DeletePropagationBackground)
	gcSettle(t, w)

	_, ok := gcLookup(s, ReplicaSets, "a")
	assert.False(t, ok, "the orphan finalizer is removed despite a conflict")
	a0, ok := gcLookup(s, Pods, "a-0")
	require.True(t, ok)
	assert.Empty(t, a0.GetOwnerReferences(), "released despite a throttled patch")
	_, ok = gcLookup(s, Pods, "b-0")
	assert.False(t, ok, "deleted despite a server error")

	codes := map[Verb][]int{}
	for _, op := range gcOps(s, "") {
		if v := Verb(op.Verb); v == Update || v == Delete || v == Patch {
			codes[v] = append(codes[v], op.Code)
		}
	}
	assert.Equal(t, []int{409, 200}, codes[Update])
	assert.Equal(t, []int{500, 200}, codes[Delete])
	assert.Equal(t, []int{429, 200}, codes[Patch])
}

func TestGCRequestsAreRecordedAsTheCollector(t *testing.T) {
	w, s, _ := gcServer(t)
	watches := map[string]bool{}
	for _, op := range gcOps(s, Watch) {
		watches[op.Kind] = true
	}
	lists := map[string]bool{}
	for _, op := range gcOps(s, List) {
		lists[op.Kind] = true
	}
	for _, k := range Kinds {
		assert.True(t, watches[string(k)], "watches %s", k)
		assert.True(t, lists[string(k)], "lists %s", k)
	}

	gcCreatePod(t, s, "p0", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	var keys []string
	for _, op := range s.History().Ops() {
		if op.Key == "default/p0" || op.Key == "default/ghost" {
			assert.Equal(t, GarbageCollectorClient, op.Client)
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
		s := New(w, DefaultConfig())
		StartGarbageCollector(s)
		w.RunUntil(time.Second)
		for i, policy := range []metav1.DeletionPropagation{metav1.DeletePropagationBackground,
			metav1.DeletePropagationOrphan, metav1.DeletePropagationForeground} {
			name := "rs-" + strconv.Itoa(i)
			rs := gcCreateRS(t, s, name)
			for j := 0; j < 5; j++ {
				gcCreatePod(t, s, name+"-"+strconv.Itoa(j), OwnerReference(rs))
			}
			w.RunUntil(w.Elapsed() + time.Second)
			gcDelete(t, s, ReplicaSets, name, policy)
		}
		out := w.Run()
		require.Equal(t, sim.Idle, out.Verdict)
		for j := 0; j < 5; j++ {
			_, ok := gcLookup(s, Pods, "rs-0-"+strconv.Itoa(j))
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
	_, ok := gcLookup(s, Pods, "before")
	require.False(t, ok, "collected while running")

	gc.Stop()
	gcCreatePod(t, s, "after", gcGhostRef("ghost", "made-up-uid"))
	gcSettle(t, w)
	_, ok = gcLookup(s, Pods, "after")
	assert.True(t, ok, "not after Stop")
	assert.Empty(t, gcWritesTo(s, "default/after"))
}
