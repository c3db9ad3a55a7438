package host

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/informers/admissionregistration"
	"k8s.io/client-go/informers/apiserverinternal"
	"k8s.io/client-go/informers/apps"
	"k8s.io/client-go/informers/autoscaling"
	"k8s.io/client-go/informers/batch"
	"k8s.io/client-go/informers/certificates"
	"k8s.io/client-go/informers/coordination"
	"k8s.io/client-go/informers/core"
	"k8s.io/client-go/informers/discovery"
	"k8s.io/client-go/informers/events"
	"k8s.io/client-go/informers/extensions"
	"k8s.io/client-go/informers/flowcontrol"
	"k8s.io/client-go/informers/internalinterfaces"
	"k8s.io/client-go/informers/networking"
	"k8s.io/client-go/informers/node"
	"k8s.io/client-go/informers/policy"
	"k8s.io/client-go/informers/rbac"
	"k8s.io/client-go/informers/resource"
	"k8s.io/client-go/informers/scheduling"
	"k8s.io/client-go/informers/storage"
	"k8s.io/client-go/informers/storagemigration"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/cache"
)

// FactoryOption configures NewSharedInformerFactory.
type FactoryOption func(*factory)

// WithNamespace limits the factory's namespaced informers to ns; informers
// of cluster-scoped kinds ignore it, as client-go's do.
func WithNamespace(ns string) FactoryOption {
	return func(f *factory) { f.namespace = ns }
}

// WithTweakListOptions has every list and watch request of the factory's
// informers go through tweak first (a label or field selector, say).
func WithTweakListOptions(tweak internalinterfaces.TweakListOptionsFunc) FactoryOption {
	return func(f *factory) { f.tweak = tweak }
}

// NewSharedInformerFactory is client-go's informers.SharedInformerFactory
// with every informer made by NewSharedIndexInformer: the generated typed
// accessors (f.Apps().V1().ReplicaSets() and the rest) and their listers
// read ordered indexers, and handlers are called synchronously in
// registration order.
//
// Differences from client-go's factory: Start starts informers in the order
// they were created; WaitForCacheSync waits on them in that order, without
// polling or goroutines; Shutdown stops the informers it started (client-go
// only waits for the caller to stop them) and then waits for them;
// InformerFor ignores its newFunc (its informer would list in map order)
// and builds the list/watch from the client instead. Objects are listed and
// watched with the client's typed resource client (the same calls the
// generated informers make), so a fake clientset works too.
func NewSharedInformerFactory(client kubernetes.Interface, defaultResync time.Duration, opts ...FactoryOption) informers.SharedInformerFactory {
	f := &factory{
		client:        client,
		namespace:     metav1.NamespaceAll,
		defaultResync: defaultResync,
		byType:        map[reflect.Type]*factoryInformer{},
	}
	f.stop, f.cancel = context.WithCancel(context.Background())
	for _, opt := range opts {
		opt(f)
	}
	return f
}

var _ informers.SharedInformerFactory = (*factory)(nil)

type factory struct {
	client        kubernetes.Interface
	namespace     string
	tweak         internalinterfaces.TweakListOptionsFunc
	defaultResync time.Duration

	// stop is canceled by Shutdown; every informer's run context ends with it.
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu           sync.Mutex
	informers    []*factoryInformer                // in creation order
	byType       map[reflect.Type]*factoryInformer // lookup only
	shuttingDown bool
}

type factoryInformer struct {
	typ      reflect.Type
	informer cache.SharedIndexInformer
	started  bool
}

// InformerName is nil: the factory's informers publish no metrics.
func (f *factory) InformerName() *cache.InformerName { return nil }

func (f *factory) Start(stopCh <-chan struct{}) {
	f.StartWithContext(wait.ContextForChannel(stopCh))
}

// StartWithContext runs, each on a goroutine of its own, the informers not
// yet started, in creation order, until ctx is done or Shutdown.
func (f *factory) StartWithContext(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.shuttingDown {
		return
	}
	for _, e := range f.informers {
		if e.started {
			continue
		}
		e.started = true
		inf := e.informer
		runCtx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(f.stop, cancel)
		f.wg.Go(func() {
			defer cancel()
			defer stop()
			inf.RunWithContext(runCtx)
		})
	}
}

// Shutdown stops the informers Start started, waits for them to return,
// and makes later Starts do nothing. It may be called more than once.
func (f *factory) Shutdown() {
	f.mu.Lock()
	f.shuttingDown = true
	f.mu.Unlock()
	f.cancel()
	f.wg.Wait()
}

func (f *factory) WaitForCacheSync(stopCh <-chan struct{}) map[reflect.Type]bool {
	return f.WaitForCacheSyncWithContext(wait.ContextForChannel(stopCh)).Synced
}

// WaitForCacheSyncWithContext waits, in creation order, for each started
// informer to sync or for ctx to be done.
func (f *factory) WaitForCacheSyncWithContext(ctx context.Context) cache.SyncResult {
	f.mu.Lock()
	var started []*factoryInformer
	for _, e := range f.informers {
		if e.started {
			started = append(started, e)
		}
	}
	f.mu.Unlock()

	for _, e := range started {
		select {
		case <-e.informer.HasSyncedChecker().Done():
		case <-ctx.Done():
		}
	}
	res := cache.SyncResult{Synced: make(map[reflect.Type]bool, len(started))}
	for _, e := range started {
		synced := e.informer.HasSynced()
		res.Synced[e.typ] = synced
		if !synced {
			res.Err = context.Cause(ctx)
		}
	}
	return res
}

// InformerFor returns the factory's one informer for obj's type, made by
// NewSharedIndexInformer with client-go's namespace index. newFunc is not
// called. It panics if obj's type has no list/watch in the client (a type
// outside client-go's scheme, or a kind that cannot be listed).
func (f *factory) InformerFor(obj runtime.Object, newFunc internalinterfaces.NewInformerFunc) cache.SharedIndexInformer {
	inf, err := f.informerFor(obj)
	if err != nil {
		panic(fmt.Sprintf("host: informer factory: %v", err))
	}
	return inf
}

func (f *factory) informerFor(obj runtime.Object) (cache.SharedIndexInformer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	typ := reflect.TypeOf(obj)
	if e, ok := f.byType[typ]; ok {
		return e.informer, nil
	}
	lw, err := f.listWatchFor(obj)
	if err != nil {
		return nil, err
	}
	inf := NewSharedIndexInformer(lw, obj, f.defaultResync, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	e := &factoryInformer{typ: typ, informer: inf}
	f.informers = append(f.informers, e)
	f.byType[typ] = e
	return inf, nil
}

// listWatchFor lists and watches obj's kind through the clientset's typed
// client, as the generated informer does (client.AppsV1().ReplicaSets(ns)):
// the kind comes from client-go's scheme, the group-version client from its
// accessor (CoreV1, AppsV1, RbacV1, ...), and the resource client is the
// accessor method whose result lists obj's List type; it takes the
// namespace if the kind is namespaced.
func (f *factory) listWatchFor(obj runtime.Object) (cache.ListerWatcher, error) {
	gvks, _, err := scheme.Scheme.ObjectKinds(obj)
	if err != nil {
		return nil, fmt.Errorf("%T is not a kind of client-go's scheme: %w", obj, err)
	}
	gvk := gvks[0]
	list, err := scheme.Scheme.New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return nil, fmt.Errorf("%s cannot be listed: %w", gvk, err)
	}
	listType := reflect.TypeOf(list)

	name := clientsetAccessor(gvk.GroupVersion())
	accessor := reflect.ValueOf(f.client).MethodByName(name)
	if !accessor.IsValid() || accessor.Type().NumIn() != 0 || accessor.Type().NumOut() != 1 {
		return nil, fmt.Errorf("%s: clientset %T has no %s()", gvk, f.client, name)
	}
	gv := accessor.Call(nil)[0] // an interface value: its methods are the interface's, in name order
	for i := range gv.NumMethod() {
		m := gv.Type().Method(i)
		if m.Type.NumOut() != 1 || !listsType(m.Type.Out(0), listType) {
			continue
		}
		var args []reflect.Value
		switch {
		case m.Type.NumIn() == 0: // cluster-scoped
		case m.Type.NumIn() == 1 && m.Type.In(0).Kind() == reflect.String:
			args = []reflect.Value{reflect.ValueOf(f.namespace)}
		default:
			continue
		}
		rc := gv.Method(i).Call(args)[0]
		return f.typedListWatch(rc.MethodByName("List"), rc.MethodByName("Watch")), nil
	}
	return nil, fmt.Errorf("%s: %s() of clientset %T has no client that lists %v", gvk, name, f.client, listType)
}

// listsType reports whether a resource client interface t has
// List(ctx, ListOptions) (listType, error) and Watch(ctx, ListOptions)
// (watch.Interface, error).
func listsType(t reflect.Type, listType reflect.Type) bool {
	if t.Kind() != reflect.Interface {
		return false
	}
	l, ok := t.MethodByName("List")
	if !ok || l.Type.NumIn() != 2 || l.Type.NumOut() != 2 || l.Type.Out(0) != listType {
		return false
	}
	w, ok := t.MethodByName("Watch")
	return ok && w.Type.NumIn() == 2 && w.Type.NumOut() == 2 && w.Type.Out(0) == reflect.TypeFor[watch.Interface]()
}

// clientsetAccessor names the kubernetes.Interface method of a
// group-version: the group's first DNS label and the version, each
// capitalised ("" v1 → CoreV1, rbac.authorization.k8s.io v1 → RbacV1,
// autoscaling v2 → AutoscalingV2).
func clientsetAccessor(gv schema.GroupVersion) string {
	group, _, _ := strings.Cut(gv.Group, ".")
	if group == "" {
		group = "core"
	}
	return capitalise(group) + capitalise(gv.Version)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// typedListWatch calls a typed resource client's List and Watch, tweaking
// the options first.
func (f *factory) typedListWatch(list, watchFn reflect.Value) *cache.ListWatch {
	call := func(fn reflect.Value, ctx context.Context, opts metav1.ListOptions) (any, error) {
		if f.tweak != nil {
			f.tweak(&opts)
		}
		out := fn.Call([]reflect.Value{reflect.ValueOf(ctx), reflect.ValueOf(opts)})
		if err, _ := out[1].Interface().(error); err != nil {
			return nil, err
		}
		return out[0].Interface(), nil
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			obj, err := call(list, ctx, opts)
			if err != nil {
				return nil, err
			}
			return obj.(runtime.Object), nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			w, err := call(watchFn, ctx, opts)
			if err != nil {
				return nil, err
			}
			return w.(watch.Interface), nil
		},
	}
}

// ForResource returns the informer of the kind whose resource is
// resource: of the kinds client-go's scheme has in its group-version, in
// name order, the first whose guessed plural is the resource and that the
// client can list and watch. Its lister reads the ordered indexer.
func (f *factory) ForResource(resource schema.GroupVersionResource) (informers.GenericInformer, error) {
	gv := resource.GroupVersion()
	kinds := make([]string, 0)
	for kind := range scheme.Scheme.KnownTypes(gv) {
		kinds = append(kinds, kind)
	}
	slices.Sort(kinds) // the map's order must not choose
	for _, kind := range kinds {
		if strings.HasSuffix(kind, "List") {
			continue
		}
		if plural, _ := meta.UnsafeGuessKindToResource(gv.WithKind(kind)); plural.Resource != resource.Resource {
			continue
		}
		obj, err := scheme.Scheme.New(gv.WithKind(kind))
		if err != nil {
			continue
		}
		if unversioned, _ := scheme.Scheme.IsUnversioned(obj); unversioned {
			continue
		}
		inf, err := f.informerFor(obj)
		if err != nil {
			continue
		}
		return genericInformer{inf, cache.NewGenericLister(inf.GetIndexer(), resource.GroupResource())}, nil
	}
	return nil, fmt.Errorf("no informer found for %v", resource)
}

type genericInformer struct {
	informer cache.SharedIndexInformer
	lister   cache.GenericLister
}

func (g genericInformer) Informer() cache.SharedIndexInformer { return g.informer }
func (g genericInformer) Lister() cache.GenericLister         { return g.lister }

// The group accessors of client-go's factory; the generated informers call
// back into InformerFor.

func (f *factory) Admissionregistration() admissionregistration.Interface {
	return admissionregistration.New(f, f.namespace, f.tweak)
}

func (f *factory) Internal() apiserverinternal.Interface {
	return apiserverinternal.New(f, f.namespace, f.tweak)
}

func (f *factory) Apps() apps.Interface { return apps.New(f, f.namespace, f.tweak) }

func (f *factory) Autoscaling() autoscaling.Interface {
	return autoscaling.New(f, f.namespace, f.tweak)
}

func (f *factory) Batch() batch.Interface { return batch.New(f, f.namespace, f.tweak) }

func (f *factory) Certificates() certificates.Interface {
	return certificates.New(f, f.namespace, f.tweak)
}

func (f *factory) Coordination() coordination.Interface {
	return coordination.New(f, f.namespace, f.tweak)
}

func (f *factory) Core() core.Interface { return core.New(f, f.namespace, f.tweak) }

func (f *factory) Discovery() discovery.Interface {
	return discovery.New(f, f.namespace, f.tweak)
}

func (f *factory) Events() events.Interface { return events.New(f, f.namespace, f.tweak) }

func (f *factory) Extensions() extensions.Interface {
	return extensions.New(f, f.namespace, f.tweak)
}

func (f *factory) Flowcontrol() flowcontrol.Interface {
	return flowcontrol.New(f, f.namespace, f.tweak)
}

func (f *factory) Networking() networking.Interface {
	return networking.New(f, f.namespace, f.tweak)
}

func (f *factory) Node() node.Interface { return node.New(f, f.namespace, f.tweak) }

func (f *factory) Policy() policy.Interface { return policy.New(f, f.namespace, f.tweak) }

func (f *factory) Rbac() rbac.Interface { return rbac.New(f, f.namespace, f.tweak) }

func (f *factory) Resource() resource.Interface {
	return resource.New(f, f.namespace, f.tweak)
}

func (f *factory) Scheduling() scheduling.Interface {
	return scheduling.New(f, f.namespace, f.tweak)
}

func (f *factory) Storage() storage.Interface { return storage.New(f, f.namespace, f.tweak) }

func (f *factory) Storagemigration() storagemigration.Interface {
	return storagemigration.New(f, f.namespace, f.tweak)
}
