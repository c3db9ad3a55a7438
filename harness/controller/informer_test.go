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
	"k8s.io/apimachinery/pkg/labels"
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
