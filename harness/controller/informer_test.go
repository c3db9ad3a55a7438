package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

func testServer(latency, watchDelay time.Duration) (*sim.World, *apiserver.Server) {
	w := sim.New(1, sim.Limits{MaxTime: time.Hour})
	cfg := apiserver.DefaultConfig()
	cfg.DefaultLatency = apiserver.Fixed(latency)
	cfg.Latency = nil
	cfg.WatchDelay = apiserver.Fixed(watchDelay)
	return w, apiserver.New(w, cfg)
}

func pod(name string, lbls map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: lbls},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1"}}},
	}
}

func TestClientCallsTakeLatencyAndReturnCopies(t *testing.T) {
	w, api := testServer(10*time.Millisecond, 0)
	ctx := NewContext("ctl", api)
	var created, got apiserver.Object
	var errGet error
	var at []time.Duration
	ctx.Go("worker", func() {
		var err error
		created, err = ctx.Client().Create(pod("a", nil))
		require.NoError(t, err)
		at = append(at, w.Elapsed())
		created.SetLabels(map[string]string{"mutated": "by-caller"}) // our own copy
		got, _ = ctx.Client().Get(apiserver.Pods, "default", "a")
		at = append(at, w.Elapsed())
		_, errGet = ctx.Client().Get(apiserver.Pods, "default", "missing")
	})
	w.Run()
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}, at)
	assert.Empty(t, got.GetLabels(), "mutating a returned object does not touch the server")
	assert.True(t, apierrors.IsNotFound(errGet))
}

func TestClientOutsideCoroutinePanics(t *testing.T) {
	_, api := testServer(time.Millisecond, 0)
	ctx := NewContext("ctl", api)
	assert.Panics(t, func() { _, _ = ctx.Client().Get(apiserver.Pods, "default", "a") })
}

func TestInformerSeesChangesAfterItsDelay(t *testing.T) {
	w, api := testServer(2*time.Millisecond, 0)
	ctx := NewContext("ctl", api)
	stale := apiserver.Fixed(500 * time.Millisecond)
	ctx.WatchDelay = &stale
	inf := ctx.Informer(apiserver.Pods)
	var log []string
	inf.AddHandler(Handler{
		OnAdd:    func(o apiserver.Object) { log = append(log, "add "+o.GetName()+" @"+w.Elapsed().String()) },
		OnUpdate: func(_, o apiserver.Object) { log = append(log, "update "+o.GetName()) },
		OnDelete: func(o apiserver.Object) { log = append(log, "delete "+o.GetName()) },
	})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("before", nil)})
	ctx.Go("worker", func() {
		inf.WaitForCacheSync()
		log = append(log, "synced @"+w.Elapsed().String())
		_, err := ctx.Client().Create(pod("after", map[string]string{"app": "x"}))
		require.NoError(t, err)
		assert.Nil(t, inf.Get("default", "after"), "the cache has not seen our own write yet")
		ctx.Sleep(time.Second)
		assert.NotNil(t, inf.Get("default", "after"))
		require.NoError(t, ctx.Client().Delete(apiserver.Pods, "default", "after", nil))
	})
	w.Run()
	// "after" commits at 3ms, before the watch is open (4ms); the watch starts
	// from the list's resourceVersion, replays it, and the delay applies.
	assert.Equal(t, []string{"add before @2ms", "synced @2ms", "add after @504ms", "delete after"}, log)
}

func TestInformerIndexesAndDeterministicLists(t *testing.T) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	ctx := NewContext("ctl", api)
	inf := ctx.Informer(apiserver.Pods)
	rs := api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "rs"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}},
	}}).Object
	for _, n := range []string{"p3", "p1", "p2", "q"} {
		p := pod(n, map[string]string{"app": "x"})
		if n != "q" {
			p.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(rs)}
		} else {
			p.Labels["app"] = "y"
		}
		api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: p})
	}
	inf.Start()
	w.RunUntil(time.Second)
	names := func(objs []apiserver.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.GetName())
		}
		return out
	}
	assert.Equal(t, []string{"p1", "p2", "p3", "q"}, names(inf.List("default", nil)), "first list in key order")
	assert.Equal(t, []string{"p1", "p2", "p3"}, names(inf.ByIndex(IndexOwnerUID, string(rs.GetUID()))))
	assert.Equal(t, []string{"q"}, names(inf.ByIndex(IndexLabel, "app=y")))
	assert.Equal(t, []string{"p1", "p2", "p3"}, names(inf.List("default", labels.SelectorFromSet(labels.Set{"app": "x"}))))
	assert.Empty(t, inf.List("other", nil))
	api.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "p1"})
	w.RunUntil(2 * time.Second)
	assert.Equal(t, []string{"q", "p2", "p3"}, names(inf.List("default", nil)), "removal moves the last item into the gap")
	assert.Equal(t, []string{"p3", "p2"}, names(inf.ByIndex(IndexOwnerUID, string(rs.GetUID()))))
}

func TestInformerRelistsAfterDroppedWatch(t *testing.T) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	ctx := NewContext("ctl", api)
	inf := ctx.Informer(apiserver.Pods)
	var log []string
	inf.AddHandler(Handler{
		OnAdd:    func(o apiserver.Object) { log = append(log, "add "+o.GetName()) },
		OnUpdate: func(_, o apiserver.Object) { log = append(log, "update "+o.GetName()) },
		OnDelete: func(o apiserver.Object) { log = append(log, "delete "+o.GetName()) },
	})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("a", nil)})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("b", nil)})
	inf.Start()
	w.RunUntil(time.Second)
	inf.Watcher().Drop(errors.New("connection reset"))
	// While the informer is blind: one pod goes, one changes, one arrives.
	api.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "a"})
	b := api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Name: "b"}).Object.DeepCopyObject().(*corev1.Pod)
	b.Labels = map[string]string{"changed": "yes"}
	api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "b", Object: b})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("c", nil)})
	w.RunUntil(2 * time.Second)
	assert.Equal(t, []string{"add a", "add b", "update b", "add c", "delete a"}, log)
	assert.Equal(t, 1, inf.Relists)
	assert.Equal(t, 2, inf.Len())
}

func TestHandlerPanicFailsTheControllerOnly(t *testing.T) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	bad := NewContext("bad", api)
	bad.Informer(apiserver.Pods).AddHandler(Handler{OnAdd: func(apiserver.Object) { panic("nil map") }})
	bad.Informer(apiserver.Pods).Start()
	good := NewContext("good", api)
	good.Informer(apiserver.Pods).Start()
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("a", nil)})
	w.Run()
	require.Len(t, w.Failures(), 1)
	assert.Equal(t, "bad", w.Failures()[0].Actor)
	assert.True(t, bad.Failed())
	assert.Equal(t, 1, good.Informer(apiserver.Pods).Len())
}

// recorder logs an informer's notifications as "add a", "update b", "delete
// c", "sync".
// listedPods is ctl's pod informer, with a recorder, started on a server
// holding the pods names and run for a second: the list is in and the watch
// running.
func listedPods(names ...string) (*sim.World, *apiserver.Server, *Informer, *[]string) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	for _, n := range names {
		api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod(n, nil)})
	}
	inf := NewContext("ctl", api).Informer(apiserver.Pods)
	log := new([]string)
	inf.AddHandler(recorder(log))
	inf.Start()
	w.RunUntil(time.Second)
	return w, api, inf, log
}

func recorder(log *[]string) Handler {
	return Handler{
		OnAdd: func(o apiserver.Object) { *log = append(*log, "add "+o.GetName()) },
		OnUpdate: func(old, cur apiserver.Object) {
			s := "update " + cur.GetName()
			if old.GetUID() != cur.GetUID() {
				s += " (new uid)"
			}
			*log = append(*log, s)
		},
		OnDelete: func(o apiserver.Object) { *log = append(*log, "delete "+o.GetName()) },
		OnSync:   func() { *log = append(*log, "sync") },
	}
}

// blindChanges makes the changes an informer that is not watching misses: a
// goes, b changes, c arrives, d is deleted and created again (another uid).
func blindChanges(api *apiserver.Server) {
	api.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "a"})
	b := api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Name: "b"}).Object.DeepCopyObject().(*corev1.Pod)
	b.Labels = map[string]string{"changed": "yes"}
	api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "b", Object: b})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("c", nil)})
	api.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "d"})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("d", nil)})
}

func TestInformerWatchEnds(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		relists   int
		rewatches int
		want      []string
	}{
		{"dropped connection: watch again from the last version", apierrors.NewInternalError(errors.New("connection reset")), 0, 1,
			[]string{"delete a", "update b", "add c", "delete d", "add d"}},
		{"410 Gone: list again and diff", apierrors.NewResourceExpired("too old resource version"), 1, 0,
			[]string{"update b", "add c", "update d (new uid)", "delete a", "sync"}},
		{"refused otherwise: list again and diff", errors.New("bad request"), 1, 0,
			[]string{"update b", "add c", "update d (new uid)", "delete a", "sync"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, api, inf, log := listedPods("a", "b", "d")
			require.Equal(t, []string{"add a", "add b", "add d", "sync"}, *log)
			*log = nil

			inf.Watcher().Drop(tc.err)
			blindChanges(api)
			w.RunUntil(2 * time.Second)
			assert.Equal(t, tc.want, *log)
			assert.Equal(t, tc.relists, inf.Relists)
			assert.Equal(t, tc.rewatches, inf.Rewatches)
			assert.Equal(t, 3, inf.Len())
			assert.False(t, inf.Watcher().Closed(), "watching again")
		})
	}
}

func TestInformerStopKeepsTheCacheAndStartReportsOnlyDifferences(t *testing.T) {
	w, api, inf, log := listedPods("a", "b", "d", "e")
	*log = nil

	inf.Stop()
	blindChanges(api)
	w.RunUntil(2 * time.Second)
	assert.Empty(t, *log, "nothing while stopped")
	assert.Equal(t, 4, inf.Len(), "the cache is kept")
	assert.NotNil(t, inf.Get("default", "a"))

	inf.Start()
	w.RunUntil(3 * time.Second)
	// The list's order (by key) for adds and updates, then deletions by key;
	// e did not change: no news.
	assert.Equal(t, []string{"update b", "add c", "update d (new uid)", "delete a", "sync"}, *log)
	assert.Nil(t, inf.GetByKey("default/a"))
	assert.Equal(t, "yes", inf.GetByKey("default/b").GetLabels()["changed"])
}

func TestInformerFieldSelector(t *testing.T) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	bound := func(name, node string) *corev1.Pod {
		p := pod(name, nil)
		p.Spec.NodeName = node
		return p
	}
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bound("mine", "node-1")})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bound("theirs", "node-2")})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("unbound", nil)})
	inf := NewContext("kubelet/node-1", api).Informer(apiserver.Pods)
	inf.SetFieldSelector(fields.OneTermEqualSelector("spec.nodeName", "node-1"))
	var log []string
	inf.AddHandler(recorder(&log))
	inf.Start()
	w.RunUntil(time.Second)
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Subresource: "binding", Name: "unbound", Node: "node-1"})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: bound("later", "node-2")})
	w.RunUntil(2 * time.Second)
	assert.Equal(t, []string{"add mine", "sync", "add unbound"}, log)
	var lists []string
	for _, op := range api.History().Ops() {
		if op.Client == "kubelet/node-1" && op.Verb == string(apiserver.List) {
			lists = append(lists, op.Result)
		}
	}
	assert.Equal(t, []string{"items=1"}, lists, "the server filters the list")
}

func TestInformerOnAnEmptyServerMissesNothing(t *testing.T) {
	// A pod created after the list and before the watch registers arrives:
	// the watch starts from the list's resourceVersion (the server's first
	// is 1, so even an empty server's list names one to watch from).
	w, api := testServer(5*time.Millisecond, time.Millisecond)
	inf := NewContext("ctl", api).Informer(apiserver.Pods)
	var log []string
	inf.AddHandler(recorder(&log))
	inf.Start()
	w.RunUntil(6 * time.Millisecond) // the list is back, the watch not yet registered
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("early", nil)})
	w.RunUntil(time.Second)
	assert.Equal(t, []string{"sync", "add early"}, log)
}

// OnChange hands over the cache's key with every change, the informer's own
// ("name" for a cluster-scoped kind), with the same old objects the other
// functions get.
func TestInformerOnChangeGivesTheCacheKey(t *testing.T) {
	w, api := testServer(time.Millisecond, time.Millisecond)
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod("a", nil)})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Nodes,
		Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}})
	ctx := NewContext("ctl", api)
	var log []string
	for _, kind := range []apiserver.Kind{apiserver.Pods, apiserver.Nodes} {
		ctx.Informer(kind).AddHandler(Handler{OnChange: func(typ watch.EventType, key string, obj, old apiserver.Object) {
			s := string(typ) + " " + key
			if old != nil {
				s += " old=" + old.GetResourceVersion()
			}
			log = append(log, s)
		}})
		ctx.Informer(kind).Start()
	}
	w.RunUntil(time.Second)
	a := api.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Name: "a"}).Object
	b := a.DeepCopyObject().(*corev1.Pod)
	b.Labels = map[string]string{"x": "y"}
	api.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Pods, Name: "a", Object: b})
	api.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Name: "a"})
	w.RunUntil(2 * time.Second)
	rv := a.GetResourceVersion()
	require.Len(t, log, 4)
	assert.Equal(t, []string{"ADDED default/a", "ADDED node-1", "MODIFIED default/a old=" + rv}, log[:3])
	assert.Regexp(t, `^DELETED default/a old=\d+$`, log[3])
}
