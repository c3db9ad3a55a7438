package host

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// podKeeper is a small controller-runtime reconciler that uses every verb:
// it keeps one pod per ReplicaSet with replicas > 0 (create), deletes it
// when replicas is 0 (delete with a body), labels the ReplicaSet (merge
// patch), writes its status (update of the status subresource) and records
// an event. A ReplicaSet annotated panic=true makes it panic.
type podKeeper struct {
	c   client.Client
	rec events.EventRecorder
}

func (r *podKeeper) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var rs appsv1.ReplicaSet
	if err := r.c.Get(ctx, req.NamespacedName, &rs); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if rs.Annotations["panic"] == "true" {
		panic("asked to")
	}
	var pods corev1.PodList
	if err := r.c.List(ctx, &pods, client.InNamespace(rs.Namespace), client.MatchingLabels(rs.Spec.Selector.MatchLabels)); err != nil {
		return reconcile.Result{}, err
	}
	switch want := ptr.Deref(rs.Spec.Replicas, 1); {
	case want > 0 && len(pods.Items) == 0:
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: rs.Namespace, GenerateName: rs.Name + "-", Labels: rs.Spec.Selector.MatchLabels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
		if err := ctrl.SetControllerReference(&rs, pod, r.c.Scheme()); err != nil {
			return reconcile.Result{}, err
		}
		if err := r.c.Create(ctx, pod); err != nil {
			return reconcile.Result{}, err
		}
		r.rec.Eventf(&rs, pod, corev1.EventTypeNormal, "SuccessfulCreate", "Create", "created pod %s", pod.Name)
	case want == 0:
		var owned corev1.PodList
		if err := r.c.List(ctx, &owned, client.InNamespace(rs.Namespace), client.MatchingFields{"owner": rs.Name}); err != nil {
			return reconcile.Result{}, err
		}
		for i := range owned.Items {
			if err := r.c.Delete(ctx, &owned.Items[i], client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
				return reconcile.Result{}, err
			}
		}
	}
	if rs.Labels["seen"] != "true" {
		patch := client.MergeFrom(rs.DeepCopy())
		if rs.Labels == nil {
			rs.Labels = map[string]string{}
		}
		rs.Labels["seen"] = "true"
		if err := r.c.Patch(ctx, &rs, patch); err != nil {
			return reconcile.Result{}, err
		}
	}
	if rs.Status.ObservedGeneration != rs.Generation {
		rs.Status.ObservedGeneration = rs.Generation
		if err := r.c.Status().Update(ctx, &rs); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{}, nil
}

func podKeeperMain(ctx context.Context, config *rest.Config) error {
	mgr, err := NewManager(config, manager.Options{})
	if err != nil {
		return err
	}
	// An index makes the cache start the pod informer before the
	// controllers: the manager waits for it to sync when it starts.
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Pod{}, "owner", func(o client.Object) []string {
		if ref := metav1.GetControllerOf(o); ref != nil {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	r := &podKeeper{c: mgr.GetClient(), rec: mgr.GetEventRecorder("pod-keeper")}
	if err := ctrl.NewControllerManagedBy(mgr).For(&appsv1.ReplicaSet{}).Owns(&corev1.Pod{}).Complete(r); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// sent is what a hosted client put on the wire, seen by a wrapping transport.
type sent struct {
	mu   sync.Mutex
	reqs []string // "METHOD path content-type accept status"
}

func (s *sent) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(r)
		code := 0
		if resp != nil {
			code = resp.StatusCode
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, fmt.Sprintf("%s %s ct=%q accept=%q %d", r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Accept"), code))
		s.mu.Unlock()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type hostedRun struct {
	ops      []*history.Op
	failures []sim.Failure
	sent     []string
}

// runHosted runs main as the controller "cr" against a bare simulated API
// server inside a bubble until stopAt, with a ReplicaSet created at 1s and
// scaled to 0 at 20s. The bubble must end: every hosted goroutine returned
// when the run closed.
func runHosted(t *testing.T, seed uint64, main Main, rs *appsv1.ReplicaSet, stopAt time.Duration) hostedRun {
	var out hostedRun
	rec := &sent{}
	synctest.Test(t, func(t *testing.T) {
		w := sim.New(seed, sim.Limits{SyncWallClock: true, MaxTime: time.Minute})
		api := apiserver.New(w, apiserver.DefaultConfig())
		wrapped := func(ctx context.Context, config *rest.Config) error {
			config.WrapTransport = rec.wrap
			return main(ctx, config)
		}
		st := plugin.Strategy{Name: "cr", WallClock: true, Kinds: []apiserver.Kind{apiserver.ReplicaSets},
			Controllers: []plugin.Controller{Controller("cr", []apiserver.Kind{apiserver.ReplicaSets}, wrapped)}}
		st.Start(api, &trace.Recorder{})
		w.At(time.Second, func() {
			api.Do(&apiserver.Request{Client: "test", Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: rs.DeepCopy()}, func(*apiserver.Response) {})
		})
		w.At(20*time.Second, func() {
			api.Do(&apiserver.Request{Client: "test", Verb: apiserver.Get, Kind: apiserver.ReplicaSets, Namespace: rs.Namespace, Name: rs.Name}, func(resp *apiserver.Response) {
				if resp.Err != nil {
					return
				}
				up := resp.Object.DeepCopyObject().(*appsv1.ReplicaSet)
				up.Spec.Replicas = ptr.To[int32](0)
				api.Do(&apiserver.Request{Client: "test", Verb: apiserver.Update, Kind: apiserver.ReplicaSets, Namespace: up.Namespace, Name: up.Name, Object: up}, func(resp *apiserver.Response) {
					if resp.Err != nil {
						t.Errorf("scaling to 0: %v", resp.Err)
					}
				})
			})
		})
		w.At(stopAt, func() { w.Stop("done") })
		w.Run()
		out.ops = api.History().Ops()
		out.failures = w.Failures()
	})
	out.sent = rec.reqs
	return out
}

func testRS() *appsv1.ReplicaSet {
	labels := map[string]string{"app": "web"}
	return &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
}

// A controller-runtime manager runs hosted: its requests are the
// controller's in the history, it speaks JSON, never asks for discovery,
// records events, a run is a function of its seed, and every goroutine it
// started returns when the run ends (synctest.Test would fail otherwise).
func TestManagerHosted(t *testing.T) {
	first := runHosted(t, 3, podKeeperMain, testRS(), 50*time.Second)
	require.Empty(t, first.failures)

	verbs := map[string]int{}
	for _, op := range first.ops {
		if op.Client == "cr" {
			verbs[op.Verb+" "+op.Kind]++
		}
	}
	t.Log(verbs)
	for _, v := range []string{"list Pod", "list ReplicaSet", "watch Pod", "watch ReplicaSet", "create Pod", "delete Pod", "patch ReplicaSet", "update ReplicaSet"} {
		assert.NotZero(t, verbs[v], "%s by the manager", v)
	}

	events := 0
	for _, s := range first.sent {
		assert.Contains(t, s, `accept="application/json"`, "it asks for JSON")
		if strings.HasPrefix(s, "POST") || strings.HasPrefix(s, "PUT") || strings.HasPrefix(s, "DELETE") {
			assert.Contains(t, s, `ct="application/json"`, "it sends JSON")
		}
		path := strings.Fields(s)[1]
		_, err := parsePath(path)
		assert.NoError(t, err, "a request that is not a resource's (discovery?): %s", s)
		if strings.Contains(path, "/events") {
			events++
			assert.True(t, strings.HasSuffix(s, " 201"), s)
		}
	}
	assert.NotZero(t, events, "events were recorded")

	second := runHosted(t, 3, podKeeperMain, testRS(), 50*time.Second)
	assert.Equal(t, history.Digest(first.ops), history.Digest(second.ops), "same seed, same history")
}

// A reconciler's panic is recovered by controller-runtime and reported as
// the controller's failure, with its stack.
func TestManagerPanicFailsTheRun(t *testing.T) {
	rs := testRS()
	rs.Annotations = map[string]string{"panic": "true"}
	res := runHosted(t, 1, podKeeperMain, rs, 50*time.Second)
	require.NotEmpty(t, res.failures)
	assert.Contains(t, res.failures[0].Message, "panic: asked to")
	assert.Equal(t, "cr", res.failures[0].Actor)
}

// Options hosting needs are forced; the caller's others are kept.
func TestNewManagerOptions(t *testing.T) {
	_, err := NewManager(&rest.Config{Host: "https://example.invalid"}, manager.Options{})
	assert.ErrorContains(t, err, "hosted Main")

	var got manager.Manager
	res := runHosted(t, 1, func(ctx context.Context, config *rest.Config) error {
		mgr, err := NewManager(config, manager.Options{
			LeaderElection: true, LeaderElectionID: "x", HealthProbeBindAddress: ":8081", PprofBindAddress: ":6060",
			Controller: manager.Options{}.Controller,
		})
		if err != nil {
			return err
		}
		got = mgr
		return mgr.Start(ctx)
	}, testRS(), 10*time.Second)
	require.Empty(t, res.failures)
	require.NotNil(t, got)
	c := got.GetControllerOptions()
	assert.True(t, *c.SkipNameValidation)
	assert.False(t, *c.UsePriorityQueue)
	assert.False(t, *c.EnableWarmup)
	assert.True(t, *c.RecoverPanic)
	assert.True(t, globalLoggerSet())
}

// A manager stopped before its caches synced (the run ends, or a crash
// fault, during startup) stops: controller-runtime v0.24 alone would spin
// in Start forever, and the bubble would never end.
func TestManagerStoppedDuringStartup(t *testing.T) {
	res := runHosted(t, 1, podKeeperMain, testRS(), time.Millisecond)
	assert.Empty(t, res.failures)
	for _, op := range res.ops {
		assert.NotEqual(t, "watch", op.Verb, "it was stopped before its lists were answered")
	}
}

func TestRESTMapper(t *testing.T) {
	m := RESTMapper()
	for _, k := range apiserver.Kinds {
		gv := apiserver.GroupVersionOf(k)
		mapping, err := m.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: string(k)}, gv.Version)
		require.NoError(t, err, k)
		assert.Equal(t, apiserver.Resource(k), mapping.Resource.Resource)
		assert.Equal(t, apiserver.Namespaced(k), mapping.Scope.Name() == meta.RESTScopeNameNamespace, k)
	}
	mapping, err := m.RESTMapping(schema.GroupKind{Group: "events.k8s.io", Kind: "Event"})
	require.NoError(t, err)
	assert.Equal(t, "events", mapping.Resource.Resource)
}

// controller-runtime draws a resync period in [0.9, 1.1) × SyncPeriod; the
// host snaps every draw back to one configured period.
func TestResyncSnap(t *testing.T) {
	hour := time.Hour
	for _, tc := range []struct {
		opts cache.Options
		in   []time.Duration
		want time.Duration
	}{
		{cache.Options{}, []time.Duration{9 * hour, 10 * hour, 11*hour - 1}, 10 * hour},
		{cache.Options{SyncPeriod: ptr.To(time.Minute)}, []time.Duration{54 * time.Second, 65 * time.Second}, time.Minute},
		// 10h and 10.5h overlap: one group, snapped to 10h.
		{cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {SyncPeriod: ptr.To(10*hour + 30*time.Minute)}}},
			[]time.Duration{9 * hour, 11 * hour, 11*hour + 30*time.Minute}, 10 * hour},
	} {
		g := syncPeriods(tc.opts)
		for _, d := range tc.in {
			assert.Equal(t, tc.want, g.snap(d), "%v", d)
		}
	}
	g := syncPeriods(cache.Options{SyncPeriod: ptr.To(time.Minute),
		ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {SyncPeriod: ptr.To(hour)}}})
	assert.Equal(t, time.Minute, g.snap(time.Minute*11/10-1))
	assert.Equal(t, hour, g.snap(hour*9/10))
	assert.Equal(t, time.Duration(0), g.snap(0))
}
