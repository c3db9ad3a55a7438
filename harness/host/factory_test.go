package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// fakeAPI is an API server behind an http.RoundTripper: it answers a list
// with the list set for the path and a watch with the lines set for it,
// after which the watch stays open until the request is canceled.
type fakeAPI struct {
	mu       sync.Mutex
	lists    map[string]runtime.Object
	watches  map[string][]string
	requests []*url.URL
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{lists: map[string]runtime.Object{}, watches: map[string][]string{}}
}

func (a *fakeAPI) serve(path string, list runtime.Object, watchEvents ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lists[path] = list
	a.watches[path] = watchEvents
}

func (a *fakeAPI) seen() []*url.URL {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

func (a *fakeAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.requests = append(a.requests, req.URL)
	list, ok := a.lists[req.URL.Path]
	lines := a.watches[req.URL.Path]
	a.mu.Unlock()

	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, Request: req}
	switch {
	case !ok:
		resp.StatusCode = http.StatusNotFound
		resp.Body = io.NopCloser(bytes.NewReader(mustJSON(&metav1.Status{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Status"},
			Status:   metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		})))
	case req.URL.Query().Get("watch") == "true":
		resp.Body = &streamBody{ctx: req.Context(), data: []byte(strings.Join(lines, "\n")), closed: make(chan struct{})}
	default:
		resp.Body = io.NopCloser(bytes.NewReader(mustJSON(list)))
	}
	return resp, nil
}

// streamBody yields its data, then blocks until the request is canceled or
// the body closed.
type streamBody struct {
	ctx    context.Context
	data   []byte
	once   sync.Once
	closed chan struct{}
}

func (b *streamBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	select {
	case <-b.ctx.Done():
		return 0, b.ctx.Err()
	case <-b.closed:
		return 0, io.EOF
	}
}

func (b *streamBody) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}

func mustJSON(obj any) []byte {
	data, err := json.Marshal(obj)
	if err != nil {
		panic(err)
	}
	return data
}

func watchLine(typ string, obj runtime.Object) string {
	return fmt.Sprintf(`{"type":%q,"object":%s}`, typ, mustJSON(obj))
}

func replicaSet(ns, name, rv string) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv},
	}
}

func shuffled[T any](items []T) []T {
	r := rand.New(rand.NewPCG(3, 4))
	r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	return items
}

func newClient(t *testing.T, api *fakeAPI) kubernetes.Interface {
	client, err := kubernetes.NewForConfig(&rest.Config{Host: "http://ctrlsim.invalid", Transport: api})
	require.NoError(t, err)
	return client
}

func names(objs []metav1.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetNamespace() + "/" + o.GetName()
	}
	return out
}

func TestFactoryListersAreSorted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		rsList := &appsv1.ReplicaSetList{TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSetList"}, ListMeta: metav1.ListMeta{ResourceVersion: "7"}}
		var rss []appsv1.ReplicaSet
		for i := range 60 {
			rss = append(rss, *replicaSet([]string{"b", "a"}[i%2], fmt.Sprintf("rs-%02d", i), "7"))
		}
		rsList.Items = shuffled(rss)
		api.serve("/apis/apps/v1/replicasets", rsList, watchLine("ADDED", replicaSet("a", "zz-watched", "8")))
		podList := &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{ResourceVersion: "9"}}
		for i := range 30 {
			podList.Items = append(podList.Items, *pod([]string{"b", "a", "c"}[i%3], fmt.Sprintf("pod-%02d", i), "9"))
		}
		podList.Items = shuffled(podList.Items)
		api.serve("/api/v1/pods", podList)

		f := NewSharedInformerFactory(newClient(t, api), 0)
		rsInformer := f.Apps().V1().ReplicaSets()
		podInformer := f.Core().V1().Pods().Informer()
		assert.Same(t, podInformer, f.Core().V1().Pods().Informer())
		assert.Same(t, rsInformer.Informer(), f.InformerFor(&appsv1.ReplicaSet{}, nil))
		assert.IsType(t, &informer{}, podInformer)

		ctx, cancel := context.WithCancel(t.Context())
		f.Start(ctx.Done())
		assert.Equal(t, map[reflect.Type]bool{
			reflect.TypeFor[*appsv1.ReplicaSet](): true,
			reflect.TypeFor[*corev1.Pod]():        true,
		}, f.WaitForCacheSync(ctx.Done()))
		synctest.Wait() // the watch's ADDED

		all, err := rsInformer.Lister().List(labels.Everything())
		require.NoError(t, err)
		got := names(toMeta(all))
		assert.Len(t, got, 61)
		assert.True(t, slices.IsSorted(got), "%v", got)
		assert.Contains(t, got, "a/zz-watched")
		inA, err := rsInformer.Lister().ReplicaSets("a").List(labels.Everything())
		require.NoError(t, err)
		assert.Len(t, inA, 31)
		assert.True(t, slices.IsSorted(names(toMeta(inA))))

		generic, err := f.ForResource(corev1.SchemeGroupVersion.WithResource("pods"))
		require.NoError(t, err)
		assert.Same(t, podInformer, generic.Informer())
		objs, err := generic.Lister().List(labels.Everything())
		require.NoError(t, err)
		assert.Len(t, objs, 30)
		assert.True(t, slices.IsSorted(names(toMeta(objs))))
		one, err := generic.Lister().ByNamespace("a").Get("pod-01")
		require.NoError(t, err)
		assert.Equal(t, "pod-01", one.(*corev1.Pod).Name)

		cancel()
		f.Shutdown()
		assert.True(t, podInformer.IsStopped())
	})
}

func toMeta[T runtime.Object](objs []T) []metav1.Object {
	out := make([]metav1.Object, len(objs))
	for i, o := range objs {
		out[i] = must(meta.Accessor(o))
	}
	return out
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFactoryNamespaceAndTweak(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI()
		api.serve("/api/v1/namespaces/a/pods", &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{ResourceVersion: "3"}})
		api.serve("/api/v1/nodes", &corev1.NodeList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "NodeList"}, ListMeta: metav1.ListMeta{ResourceVersion: "3"}})
		f := NewSharedInformerFactory(newClient(t, api), 0,
			WithNamespace("a"),
			WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "app=web" }))
		pods := f.Core().V1().Pods().Informer()
		nodes := f.Core().V1().Nodes().Informer() // cluster-scoped: no namespace in its path

		f.StartWithContext(t.Context()) // never canceled: Shutdown stops it
		require.NoError(t, f.WaitForCacheSyncWithContext(t.Context()).AsError())
		synctest.Wait()

		type request struct{ path, watch, selector string }
		var got []request
		for _, u := range api.seen() {
			got = append(got, request{u.Path, u.Query().Get("watch"), u.Query().Get("labelSelector")})
		}
		slices.SortFunc(got, func(a, b request) int { return strings.Compare(a.path+a.watch, b.path+b.watch) })
		assert.Equal(t, []request{
			{"/api/v1/namespaces/a/pods", "", "app=web"},
			{"/api/v1/namespaces/a/pods", "true", "app=web"},
			{"/api/v1/nodes", "", "app=web"},
			{"/api/v1/nodes", "true", "app=web"},
		}, got)

		f.Shutdown()
		assert.True(t, pods.IsStopped())
		assert.True(t, nodes.IsStopped())
		f.Start(t.Context().Done()) // after Shutdown: nothing starts
		later := f.Apps().V1().Deployments().Informer()
		f.Start(t.Context().Done())
		synctest.Wait()
		assert.False(t, later.HasSynced())
		assert.False(t, later.IsStopped())
		f.Shutdown()
	})
}

func TestFactoryWaitForCacheSyncCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := newFakeAPI() // serves nothing: every list is a 404
		f := NewSharedInformerFactory(newClient(t, api), 0)
		f.Core().V1().Pods().Informer()
		ctx, cancel := context.WithCancel(t.Context())
		f.Start(ctx.Done())
		synctest.Wait()
		waitCtx, stopWaiting := context.WithCancel(t.Context())
		stopWaiting()
		res := f.WaitForCacheSyncWithContext(waitCtx)
		assert.Equal(t, map[reflect.Type]bool{reflect.TypeFor[*corev1.Pod](): false}, res.Synced)
		require.ErrorIs(t, res.AsError(), context.Canceled)
		cancel()
		f.Shutdown()
	})
}

// TestForResourceMatchesClientGo asks both factories for the guessed
// resource of every listable kind in client-go's scheme: this factory must
// have an informer exactly where client-go's generated one does, of the
// kind's own type. It also checks, for all of them, the clientset accessor
// and resource client found by reflection.
func TestForResourceMatchesClientGo(t *testing.T) {
	client := newClient(t, newFakeAPI())
	ours := NewSharedInformerFactory(client, 0)
	var gvks []schema.GroupVersionKind
	for gvk := range scheme.Scheme.AllKnownTypes() {
		gvks = append(gvks, gvk)
	}
	slices.SortFunc(gvks, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })
	supported := 0
	for _, gvk := range gvks {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		gvr, _ := meta.UnsafeGuessKindToResource(gvk)
		_, upstreamErr := informers.NewSharedInformerFactory(client, 0).ForResource(gvr)
		generic, err := ours.ForResource(gvr)
		if upstreamErr != nil {
			assert.Error(t, err, "%v: client-go has no informer", gvr)
			continue
		}
		if !assert.NoError(t, err, "%v", gvr) {
			continue
		}
		supported++
		assert.Equal(t, scheme.Scheme.AllKnownTypes()[gvk], reflect.TypeOf(generic.Informer().(*informer).objectType).Elem(), "%v", gvr)
	}
	t.Logf("%d resources with informers", supported)
	assert.Greater(t, supported, 80)

	_, err := ours.ForResource(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "widgets"})
	require.EqualError(t, err, "no informer found for apps/v1, Resource=widgets")
}

func TestClientsetAccessor(t *testing.T) {
	for _, tc := range []struct {
		gv   schema.GroupVersion
		want string
	}{
		{schema.GroupVersion{Version: "v1"}, "CoreV1"},
		{schema.GroupVersion{Group: "apps", Version: "v1"}, "AppsV1"},
		{schema.GroupVersion{Group: "autoscaling", Version: "v2"}, "AutoscalingV2"},
		{schema.GroupVersion{Group: "rbac.authorization.k8s.io", Version: "v1"}, "RbacV1"},
		{schema.GroupVersion{Group: "internal.apiserver.k8s.io", Version: "v1alpha1"}, "InternalV1alpha1"},
		{schema.GroupVersion{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta3"}, "FlowcontrolV1beta3"},
		{schema.GroupVersion{Group: "storagemigration.k8s.io", Version: "v1beta1"}, "StoragemigrationV1beta1"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, clientsetAccessor(tc.gv))
			_, ok := reflect.TypeFor[kubernetes.Interface]().MethodByName(tc.want)
			assert.True(t, ok, "kubernetes.Interface has %s", tc.want)
		})
	}
}

type notAKind struct{ corev1.Pod }

func (n *notAKind) DeepCopyObject() runtime.Object { return &notAKind{*n.Pod.DeepCopy()} }

func TestInformerForUnresolvable(t *testing.T) {
	f := NewSharedInformerFactory(newClient(t, newFakeAPI()), 0)
	for _, tc := range []struct {
		obj  runtime.Object
		want string
	}{
		{&notAKind{}, "is not a kind of client-go's scheme"},
		{&corev1.Binding{}, "/v1, Kind=Binding cannot be listed"},
	} {
		t.Run(fmt.Sprintf("%T", tc.obj), func(t *testing.T) {
			defer func() {
				r := recover()
				require.NotNil(t, r, "InformerFor must panic")
				assert.Contains(t, r, tc.want)
			}()
			f.InformerFor(tc.obj, nil)
		})
	}
}

func TestFactoryWithFakeClientset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var objs []runtime.Object
		for _, i := range shuffled([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) {
			objs = append(objs, pod([]string{"b", "a"}[i%2], fmt.Sprintf("p-%02d", i), ""))
		}
		client := fake.NewClientset(objs...)
		f := NewSharedInformerFactory(client, 0)
		lister := f.Core().V1().Pods().Lister()
		ctx, cancel := context.WithCancel(t.Context())
		defer f.Shutdown()
		defer cancel()
		f.Start(ctx.Done())
		require.NoError(t, f.WaitForCacheSyncWithContext(ctx).AsError())

		_, err := client.CoreV1().Pods("a").Create(ctx, pod("a", "created", ""), metav1.CreateOptions{})
		require.NoError(t, err)
		synctest.Wait()
		got, err := lister.List(labels.Everything())
		require.NoError(t, err)
		assert.Len(t, got, 13)
		assert.True(t, slices.IsSorted(names(toMeta(got))))
	})
}
