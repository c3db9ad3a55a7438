package host

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

func pod(ns, name, rv string, labels ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}}
	if len(labels) > 0 {
		p.Labels = map[string]string{}
		for i := 0; i+1 < len(labels); i += 2 {
			p.Labels[labels[i]] = labels[i+1]
		}
	}
	return p
}

// shuffledPods returns n pods over three namespaces with names in a
// shuffled (but fixed) order.
func shuffledPods(n int, rv string) []*corev1.Pod {
	pods := make([]*corev1.Pod, n)
	for i := range pods {
		pods[i] = pod([]string{"ns-b", "ns-a", "ns-c"}[i%3], fmt.Sprintf("p-%03d", i), rv, "app", fmt.Sprintf("app-%d", i%7))
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(pods), func(i, j int) { pods[i], pods[j] = pods[j], pods[i] })
	return pods
}

func describe(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return "tombstone(" + t.Key + "@" + t.Obj.(*corev1.Pod).ResourceVersion + ")"
	}
	p := obj.(*corev1.Pod)
	return p.Namespace + "/" + p.Name + "@" + p.ResourceVersion
}

// recorder records the handler calls of several handlers in one sequence.
type recorder struct {
	mu    sync.Mutex
	calls []string
}

func (r *recorder) record(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, s)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recorder) handler(name string) cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			r.record(fmt.Sprintf("%s add %s initial=%t", name, describe(obj), initial))
		},
		UpdateFunc: func(old, obj any) {
			r.record(fmt.Sprintf("%s update %s -> %s", name, describe(old), describe(obj)))
		},
		DeleteFunc: func(obj any) { r.record(fmt.Sprintf("%s delete %s", name, describe(obj))) },
	}
}

// fakeLW lists its current pods and hands out a watch.FakeWatcher per watch.
type fakeLW struct {
	mu      sync.Mutex
	rv      string
	pods    []*corev1.Pod
	listErr error // returned once
	calls   []string
	w       *watch.FakeWatcher
}

func (l *fakeLW) set(rv string, pods ...*corev1.Pod) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rv, l.pods = rv, pods
}

func (l *fakeLW) watcher() *watch.FakeWatcher {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w
}

func (l *fakeLW) callLog() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

func (l *fakeLW) lw() *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(_ context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.calls = append(l.calls, "list")
			if err := l.listErr; err != nil {
				l.listErr = nil
				return nil, err
			}
			list := &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: l.rv}}
			for _, p := range l.pods {
				list.Items = append(list.Items, *p.DeepCopy())
			}
			return list, nil
		},
		WatchFuncWithContext: func(_ context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.calls = append(l.calls, fmt.Sprintf("watch sendInitialEvents=%t", opts.SendInitialEvents != nil))
			l.w = watch.NewFake()
			return l.w, nil
		},
	}
}

// run starts inf in the bubble and returns a stop func that waits for Run.
func run(t *testing.T, inf cache.SharedIndexInformer) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.RunWithContext(ctx)
	}()
	synctest.Wait()
	return func() {
		cancel()
		<-done
	}
}

// expired makes the Reflector drop its watch and list again (after its
// backoff, which the caller lets pass).
func expired(w *watch.FakeWatcher) {
	w.Error(&apierrors.NewResourceExpired("too old").ErrStatus)
}

func keysOf(objs []any) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i], _ = cache.MetaNamespaceKeyFunc(o)
	}
	return keys
}

var podIndexers = cache.Indexers{
	cache.NamespaceIndex: cache.MetaNamespaceIndexFunc,
	"app":                func(obj any) ([]string, error) { return []string{obj.(*corev1.Pod).Labels["app"]}, nil },
}

func TestIndexerListingsAreSorted(t *testing.T) {
	pods := shuffledPods(200, "1")
	check := func(t *testing.T, idx cache.Indexer) {
		all := keysOf(idx.List())
		require.Len(t, all, 200)
		assert.True(t, slices.IsSorted(all), "List")
		assert.Equal(t, all, idx.ListKeys(), "ListKeys")
		assert.Equal(t, []string{"ns-a", "ns-b", "ns-c"}, idx.ListIndexFuncValues(cache.NamespaceIndex))
		assert.Equal(t, []string{"app-0", "app-1", "app-2", "app-3", "app-4", "app-5", "app-6"}, idx.ListIndexFuncValues("app"))
		for _, ns := range []string{"ns-a", "ns-b", "ns-c"} {
			objs, err := idx.ByIndex(cache.NamespaceIndex, ns)
			require.NoError(t, err)
			assert.True(t, slices.IsSorted(keysOf(objs)), "ByIndex %s", ns)
			keys, err := idx.IndexKeys(cache.NamespaceIndex, ns)
			require.NoError(t, err)
			assert.Equal(t, keysOf(objs), keys, "IndexKeys %s", ns)
			objs, err = idx.Index(cache.NamespaceIndex, pod(ns, "x", ""))
			require.NoError(t, err)
			assert.True(t, slices.IsSorted(keysOf(objs)), "Index %s", ns)
		}
		objs, err := idx.ByIndex("app", "app-3")
		require.NoError(t, err)
		assert.True(t, slices.IsSorted(keysOf(objs)), "ByIndex app")
	}

	t.Run("adds", func(t *testing.T) {
		inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, podIndexers).(*informer)
		st := inf.newStore(nil)
		for _, p := range pods {
			require.NoError(t, st.Add(p))
		}
		check(t, inf.GetIndexer())
	})
	t.Run("list and watch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			lw := &fakeLW{}
			lw.set("5", pods[:150]...)
			inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, podIndexers)
			stop := run(t, inf)
			defer stop()
			for _, p := range pods[150:] {
				lw.watcher().Add(p)
			}
			synctest.Wait()
			check(t, inf.GetIndexer())
			assert.Equal(t, inf.GetStore().List(), inf.GetIndexer().List())
		})
	})
}

// TestClientGoListIsNotSorted runs the sortedness check on client-go's own
// informer over the same input: its threadSafeMap lists in map order. This
// is what the package exists to fix.
func TestClientGoListIsNotSorted(t *testing.T) {
	pods := shuffledPods(200, "1")
	sortedList := func(newInformer func(cache.ListerWatcher) cache.SharedIndexInformer) bool {
		var ok bool
		synctest.Test(t, func(t *testing.T) {
			lw := &fakeLW{}
			lw.set("5", pods...)
			inf := newInformer(withoutWatchList(lw.lw()))
			stop := run(t, inf)
			defer stop()
			require.True(t, inf.HasSynced())
			keys := keysOf(inf.GetStore().List())
			require.Len(t, keys, 200)
			ok = slices.IsSorted(keys)
		})
		return ok
	}
	assert.True(t, sortedList(func(lw cache.ListerWatcher) cache.SharedIndexInformer {
		return NewSharedIndexInformer(lw, &corev1.Pod{}, 0, podIndexers)
	}), "host informer")
	if sortedList(func(lw cache.ListerWatcher) cache.SharedIndexInformer {
		return cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, podIndexers)
	}) {
		t.Skip("client-go's informer listed 200 objects in key order by chance")
	}
}

func TestReplaceDiff(t *testing.T) {
	inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil).(*informer)
	rec := &recorder{}
	reg, err := inf.AddEventHandler(rec.handler("h"))
	require.NoError(t, err)
	st := inf.newStore(nil)

	assert.False(t, inf.HasSynced())
	assert.False(t, reg.HasSynced())
	require.NoError(t, st.Replace([]any{pod("ns", "c", "1"), pod("ns", "a", "1"), pod("ns", "b", "1"), pod("ns", "e", "1")}, "1"))
	assert.True(t, inf.HasSynced())
	assert.True(t, reg.HasSynced())
	assert.True(t, cache.IsDone(reg.HasSyncedChecker()))
	assert.Equal(t, []string{
		"h add ns/a@1 initial=true",
		"h add ns/b@1 initial=true",
		"h add ns/c@1 initial=true",
		"h add ns/e@1 initial=true",
	}, rec.take())

	// a and e vanish, b changes, c does not, d is new.
	require.NoError(t, st.Replace([]any{pod("ns", "d", "3"), pod("ns", "c", "1"), pod("ns", "b", "2")}, "3"))
	assert.Equal(t, []string{
		"h delete tombstone(ns/a@1)",
		"h delete tombstone(ns/e@1)",
		"h update ns/b@1 -> ns/b@2",
		"h update ns/c@1 -> ns/c@1", // every relisted object, as client-go (before any resync check)
		"h add ns/d@3 initial=false",
	}, rec.take())
	assert.Equal(t, []string{"ns/b", "ns/c", "ns/d"}, inf.GetStore().ListKeys())
	assert.Equal(t, "3", inf.GetStore().LastStoreSyncResourceVersion())

	// Watch events after the list.
	require.NoError(t, st.Add(pod("ns", "f", "4")))
	require.NoError(t, st.Update(pod("ns", "f", "5")))
	require.NoError(t, st.Update(pod("ns", "g", "6"))) // unknown key: an add
	require.NoError(t, st.Add(pod("ns", "g", "7")))    // known key: an update
	require.NoError(t, st.Delete(pod("ns", "f", "8")))
	assert.Equal(t, []string{
		"h add ns/f@4 initial=false",
		"h update ns/f@4 -> ns/f@5",
		"h add ns/g@6 initial=false",
		"h update ns/g@6 -> ns/g@7",
		"h delete ns/f@8",
	}, rec.take())
}

func TestHandlersInRegistrationOrder(t *testing.T) {
	inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil).(*informer)
	rec := &recorder{}
	for _, name := range []string{"h3", "h1", "h2"} {
		_, err := inf.AddEventHandler(rec.handler(name))
		require.NoError(t, err)
	}
	st := inf.newStore(nil)
	require.NoError(t, st.Replace([]any{pod("ns", "b", "1"), pod("ns", "a", "1")}, "1"))
	require.NoError(t, st.Update(pod("ns", "a", "2")))
	require.NoError(t, st.Delete(pod("ns", "b", "3")))
	assert.Equal(t, []string{
		"h3 add ns/a@1 initial=true", "h1 add ns/a@1 initial=true", "h2 add ns/a@1 initial=true",
		"h3 add ns/b@1 initial=true", "h1 add ns/b@1 initial=true", "h2 add ns/b@1 initial=true",
		"h3 update ns/a@1 -> ns/a@2", "h1 update ns/a@1 -> ns/a@2", "h2 update ns/a@1 -> ns/a@2",
		"h3 delete ns/b@3", "h1 delete ns/b@3", "h2 delete ns/b@3",
	}, rec.take())
}

func TestLateHandlerReplaysInKeyOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("5", pod("ns", "c", "1"), pod("ns", "a", "1"), pod("other", "a", "1"), pod("ns", "b", "1"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		rec := &recorder{}
		_, err := inf.AddEventHandler(rec.handler("early"))
		require.NoError(t, err)
		stop := run(t, inf)
		defer stop()
		require.True(t, inf.HasSynced())
		rec.take()

		// Synchronously, before AddEventHandler returns.
		reg, err := inf.AddEventHandler(rec.handler("late"))
		require.NoError(t, err)
		assert.True(t, reg.HasSynced())
		assert.Equal(t, []string{
			"late add ns/a@1 initial=true",
			"late add ns/b@1 initial=true",
			"late add ns/c@1 initial=true",
			"late add other/a@1 initial=true",
		}, rec.take())

		lw.watcher().Add(pod("ns", "d", "6"))
		synctest.Wait()
		assert.Equal(t, []string{"early add ns/d@6 initial=false", "late add ns/d@6 initial=false"}, rec.take())
	})
}

func TestRemoveEventHandler(t *testing.T) {
	inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil).(*informer)
	rec := &recorder{}
	var h2 cache.ResourceEventHandlerRegistration
	// h1 removes h2 on the first update: h2 must not get that update.
	h1, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) { rec.record("h1 add " + describe(obj)) },
		UpdateFunc: func(old, obj any) {
			rec.record("h1 update " + describe(obj))
			assert.NoError(t, inf.RemoveEventHandler(h2))
		},
	})
	require.NoError(t, err)
	h2, err = inf.AddEventHandler(rec.handler("h2"))
	require.NoError(t, err)
	st := inf.newStore(nil)

	require.NoError(t, st.Add(pod("ns", "a", "1")))
	require.NoError(t, st.Update(pod("ns", "a", "2")))
	require.NoError(t, st.Update(pod("ns", "a", "3")))
	assert.Equal(t, []string{
		"h1 add ns/a@1",
		"h2 add ns/a@1 initial=true", // before the first list, as client-go's FIFO
		"h1 update ns/a@2",
		"h1 update ns/a@3",
	}, rec.take())
	assert.Len(t, inf.regs, 1, "pruned")

	require.NoError(t, inf.RemoveEventHandler(h1))
	require.NoError(t, inf.RemoveEventHandler(h1), "idempotent")
	other := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil)
	require.NoError(t, other.RemoveEventHandler(h2), "not registered there: nothing to do")
	require.Error(t, inf.RemoveEventHandler(nil))
	require.NoError(t, st.Delete(pod("ns", "a", "4")))
	assert.Empty(t, rec.take())
}

func TestSetTransform(t *testing.T) {
	var handled []string
	saved := utilruntime.ErrorHandlers
	// Also keeps HandleError's rate limiter, which sleeps, out of the bubble.
	utilruntime.ErrorHandlers = []utilruntime.ErrorHandler{func(_ context.Context, err error, _ string, _ ...any) {
		handled = append(handled, err.Error())
	}}
	defer func() { utilruntime.ErrorHandlers = saved }()

	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("5", pod("ns", "a", "1", "drop", "me"), pod("ns", "bad", "1"), pod("ns", "b", "1", "drop", "me"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		rec := &recorder{}
		_, err := inf.AddEventHandler(rec.handler("h"))
		require.NoError(t, err)
		require.NoError(t, inf.SetTransform(func(obj any) (any, error) {
			p := obj.(*corev1.Pod)
			if p.Name == "bad" {
				return nil, errors.New("bad pod")
			}
			p.Labels = nil
			return p, nil
		}))
		stop := run(t, inf)
		defer stop()
		require.Error(t, inf.SetTransform(nil), "after Run")

		assert.Equal(t, []string{"h add ns/a@1 initial=true", "h add ns/b@1 initial=true"}, rec.take())
		for _, obj := range inf.GetStore().List() {
			assert.Nil(t, obj.(*corev1.Pod).Labels)
		}
		lw.watcher().Add(pod("ns", "bad", "6"))
		lw.watcher().Add(pod("ns", "c", "7", "drop", "me"))
		synctest.Wait()
		assert.Equal(t, []string{"h add ns/c@7 initial=false"}, rec.take())
		assert.Equal(t, []string{"ns/a", "ns/b", "ns/c"}, inf.GetStore().ListKeys())
		assert.Len(t, handled, 2)
		assert.Contains(t, handled[0], "bad pod")
	})
}

func TestRunLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("42", pod("ns", "a", "40"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		rec := &recorder{}
		reg, err := inf.AddEventHandler(rec.handler("h"))
		require.NoError(t, err)
		assert.False(t, inf.HasSynced())
		assert.False(t, reg.HasSynced())
		assert.False(t, inf.IsStopped())
		assert.Empty(t, inf.LastSyncResourceVersion())

		stop := run(t, inf)
		assert.True(t, cache.WaitFor(t.Context(), "", inf.HasSyncedChecker(), reg.HasSyncedChecker()))
		assert.True(t, inf.GetController().HasSynced())
		assert.Equal(t, "42", inf.LastSyncResourceVersion())
		assert.Equal(t, []string{"list", "watch sendInitialEvents=false"}, lw.callLog(), "a plain list, not WatchList")
		require.Error(t, inf.SetWatchErrorHandler(func(*cache.Reflector, error) {}), "after Run")

		inf.Run(t.Context().Done()) // a second Run returns at once
		stop()
		assert.True(t, inf.IsStopped())
		_, err = inf.AddEventHandler(rec.handler("late"))
		require.Error(t, err, "stopped")
		require.Error(t, inf.AddIndexers(cache.Indexers{"x": cache.MetaNamespaceIndexFunc}))
		assert.Equal(t, []string{"h add ns/a@40 initial=true"}, rec.take())
	})
}

func TestWatchErrorHandlerAndBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{listErr: apierrors.NewServiceUnavailable("not yet")}
		lw.set("5", pod("ns", "a", "1"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		var errs []string
		require.NoError(t, inf.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
			errs = append(errs, err.Error())
		}))
		start := time.Now()
		stop := run(t, inf)
		defer stop()
		assert.False(t, inf.HasSynced())
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0], "not yet")

		// The retry comes after the jitter-free backoff: 800ms exactly.
		time.Sleep(800*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		assert.False(t, inf.HasSynced())
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		assert.True(t, inf.HasSynced())
		assert.Equal(t, 800*time.Millisecond, time.Since(start))
	})
}

func TestAddIndexers(t *testing.T) {
	inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil)
	require.NoError(t, inf.AddIndexers(podIndexers))
	for _, p := range shuffledPods(30, "1") {
		require.NoError(t, inf.GetStore().Add(p))
	}
	objs, err := inf.GetIndexer().ByIndex("app", "app-2")
	require.NoError(t, err)
	assert.True(t, slices.IsSorted(keysOf(objs)))
	assert.NotEmpty(t, objs)
}

func TestResync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("5", pod("ns", "b", "1"), pod("ns", "a", "1"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, time.Minute, nil)
		rec := &recorder{}
		mustAdd := func(name string, period time.Duration) {
			_, err := inf.AddEventHandlerWithResyncPeriod(rec.handler(name), period)
			require.NoError(t, err)
		}
		_, err := inf.AddEventHandler(rec.handler("default")) // 1m
		require.NoError(t, err)
		mustAdd("none", 0)
		mustAdd("fast", 10*time.Millisecond) // raised to the 1s floor, and the informer's period lowered to it
		mustAdd("slow", 3*time.Minute)
		stop := run(t, inf)
		defer stop()
		rec.take()

		var got []string
		for range 180 {
			time.Sleep(time.Second)
			synctest.Wait()
			for _, c := range rec.take() {
				got = append(got, time.Now().UTC().Format("15:04:05")+" "+c)
			}
		}
		count := map[string]int{}
		for _, c := range got {
			var at, name string
			_, _ = fmt.Sscan(c, &at, &name)
			count[name]++
		}
		assert.Equal(t, map[string]int{"fast": 2 * 180, "default": 2 * 3, "slow": 2}, count)
		assert.Contains(t, got, "00:01:00 default update ns/a@1 -> ns/a@1")
		assert.Contains(t, got, "00:03:00 slow update ns/b@1 -> ns/b@1")
		// One resync is all of a handler's objects in key order.
		assert.Equal(t, []string{"00:00:01 fast update ns/a@1 -> ns/a@1", "00:00:01 fast update ns/b@1 -> ns/b@1"}, got[:2])

		// Handlers added after Run cannot lower the period below the informer's.
		mustAdd("late", 10*time.Millisecond)
		rec.take()
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Contains(t, rec.take(), "late update ns/a@1 -> ns/a@1")
	})
}

func TestNoResyncWhenInformerPeriodIsZero(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lw := &fakeLW{}
		lw.set("5", pod("ns", "a", "1"))
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, nil)
		rec := &recorder{}
		_, err := inf.AddEventHandlerWithResyncPeriod(rec.handler("h"), time.Second)
		require.NoError(t, err)
		stop := run(t, inf)
		defer stop()
		rec.take()
		time.Sleep(time.Hour)
		synctest.Wait()
		assert.Empty(t, rec.take(), "as client-go: an informer made with period 0 never resyncs")
	})
}

// scenario drives one informer through lists, watch events, a relist, a
// resync, a late handler and a removal, and returns every handler call.
func scenario(t *testing.T) []string {
	var calls []string
	synctest.Test(t, func(t *testing.T) {
		pods := shuffledPods(60, "10")
		lw := &fakeLW{}
		lw.set("10", pods[:40]...)
		inf := NewSharedIndexInformer(lw.lw(), &corev1.Pod{}, 0, podIndexers)
		rec := &recorder{}
		_, err := inf.AddEventHandler(rec.handler("a"))
		require.NoError(t, err)
		regB, err := inf.AddEventHandlerWithResyncPeriod(rec.handler("b"), 0)
		require.NoError(t, err)
		stop := run(t, inf)
		defer stop()

		w := lw.watcher()
		for i, p := range pods[40:50] {
			p = p.DeepCopy()
			p.ResourceVersion = fmt.Sprint(11 + i)
			w.Add(p)
		}
		for i, p := range pods[:5] {
			p = p.DeepCopy()
			p.ResourceVersion = fmt.Sprint(30 + i)
			w.Modify(p)
		}
		w.Delete(pods[5])
		synctest.Wait()

		// The server moves on while the informer is not watching.
		var next []*corev1.Pod
		for i, p := range pods[10:] {
			p = p.DeepCopy()
			if i%4 == 0 {
				p.ResourceVersion = "50"
			}
			next = append(next, p)
		}
		lw.set("50", next...)
		expired(w)
		time.Sleep(time.Second)
		synctest.Wait()

		_, err = inf.AddEventHandler(rec.handler("c"))
		require.NoError(t, err)
		require.NoError(t, inf.RemoveEventHandler(regB))
		lw.watcher().Delete(next[0])
		synctest.Wait()
		for _, obj := range inf.GetStore().List() {
			rec.record("list " + describe(obj))
		}
		byIndex, err := inf.GetIndexer().ByIndex("app", "app-3")
		require.NoError(t, err)
		for _, obj := range byIndex {
			rec.record("app-3 " + describe(obj))
		}
		calls = rec.take()
	})
	return calls
}

func TestSameInputSameCalls(t *testing.T) {
	first := scenario(t)
	require.Greater(t, len(first), 300)
	assert.Contains(t, first, "a delete tombstone(ns-a/p-022@10)")
	assert.Contains(t, first, "b add ns-b/p-000@10 initial=true")
	for run := 1; run < 20; run++ {
		require.Equal(t, first, scenario(t), "run %d", run)
	}
}

func TestDoneCheckerNames(t *testing.T) {
	inf := NewSharedIndexInformer(nil, &corev1.Pod{}, 0, nil)
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{})
	require.NoError(t, err)
	assert.Equal(t, "SharedIndexInformer *v1.Pod", inf.HasSyncedChecker().Name())
	assert.Equal(t, "SharedIndexInformer *v1.Pod + event handler cache.ResourceEventHandlerFuncs", reg.HasSyncedChecker().Name())
}
