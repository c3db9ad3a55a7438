package upstreamrs

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"k8s.io/client-go/tools/cache"
)

// errReadOnly: the shim caches are fed by ctrlsim's informers only.
var errReadOnly = errors.New("upstreamrs: the informer cache is read-only (ctrlsim's informer feeds it)")

// indexer is a cache.Indexer over a ctrlsim informer: upstream's listers and
// index lookups read ctrlsim's cache, in its deterministic order (client-go's
// thread-safe store would hand them out in map order).
type indexer struct {
	inf      *controller.Informer
	indexers cache.Indexers
}

var _ cache.Indexer = (*indexer)(nil)

func newIndexer(inf *controller.Informer) *indexer {
	// ctrlsim's informers index by namespace under the name client-go uses.
	return &indexer{inf: inf, indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}}
}

func toInterfaces(objs []apiserver.Object) []interface{} {
	out := make([]interface{}, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

func (x *indexer) Add(interface{}) error               { return errReadOnly }
func (x *indexer) Update(interface{}) error            { return errReadOnly }
func (x *indexer) Delete(interface{}) error            { return errReadOnly }
func (x *indexer) Replace([]interface{}, string) error { return errReadOnly }
func (x *indexer) Resync() error                       { return nil }
func (x *indexer) Bookmark(string)                     {}

func (x *indexer) List() []interface{} { return toInterfaces(x.inf.List("", nil)) }

func (x *indexer) ListKeys() []string {
	objs := x.inf.List("", nil)
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i], _ = cache.MetaNamespaceKeyFunc(o)
	}
	return out
}

// LastStoreSyncResourceVersion is what upstream's consistency store compares
// its own writes with ("" before the first list: not checked).
func (x *indexer) LastStoreSyncResourceVersion() string {
	if rv := x.inf.LastSyncResourceVersion(); rv > 0 {
		return strconv.FormatUint(rv, 10)
	}
	return ""
}

func (x *indexer) Get(obj interface{}) (interface{}, bool, error) {
	key, err := cache.MetaNamespaceKeyFunc(obj)
	if err != nil {
		return nil, false, err
	}
	return x.GetByKey(key)
}

func (x *indexer) GetByKey(key string) (interface{}, bool, error) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil, false, err
	}
	if o := x.inf.Get(ns, name); o != nil {
		return o, true, nil
	}
	return nil, false, nil
}

func (x *indexer) Index(indexName string, obj interface{}) ([]interface{}, error) {
	fn, ok := x.indexers[indexName]
	if !ok {
		return nil, errors.New("upstreamrs: index " + indexName + " does not exist")
	}
	values, err := fn(obj)
	if err != nil {
		return nil, err
	}
	var out []interface{}
	seen := map[string]bool{}
	for _, v := range values {
		for _, o := range x.inf.ByIndex(indexName, v) {
			k, _ := cache.MetaNamespaceKeyFunc(o)
			if !seen[k] {
				seen[k] = true
				out = append(out, o)
			}
		}
	}
	return out, nil
}

func (x *indexer) IndexKeys(indexName, value string) ([]string, error) {
	objs, err := x.ByIndex(indexName, value)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i], _ = cache.MetaNamespaceKeyFunc(o)
	}
	return out, nil
}

// ListIndexFuncValues is not needed by the ReplicaSet controller.
func (x *indexer) ListIndexFuncValues(string) []string { return nil }

func (x *indexer) ByIndex(indexName, value string) ([]interface{}, error) {
	if _, ok := x.indexers[indexName]; !ok {
		return nil, errors.New("upstreamrs: index " + indexName + " does not exist")
	}
	return toInterfaces(x.inf.ByIndex(indexName, value)), nil
}

func (x *indexer) GetIndexers() cache.Indexers { return x.indexers }

// AddIndexers registers upstream's index functions on the ctrlsim informer
// (before it starts, as client-go requires too).
func (x *indexer) AddIndexers(add cache.Indexers) error {
	for name, fn := range add {
		if _, dup := x.indexers[name]; dup {
			return errors.New("upstreamrs: index " + name + " already exists")
		}
		x.indexers[name] = fn
		x.inf.AddIndex(name, func(o apiserver.Object) []string {
			v, err := fn(o)
			if err != nil {
				return nil
			}
			return v
		})
	}
	return nil
}

// informer is a cache.SharedIndexInformer over a ctrlsim informer. It never
// runs by itself: the ctrlsim informer lists and watches, and calls the
// handlers registered here from its events.
type informer struct {
	inf   *controller.Informer
	store *indexer
}

var _ cache.SharedIndexInformer = (*informer)(nil)

func newInformer(inf *controller.Informer) *informer {
	return &informer{inf: inf, store: newIndexer(inf)}
}

type registration struct{ inf *controller.Informer }

func (r registration) HasSynced() bool                     { return r.inf.HasSynced() }
func (r registration) HasSyncedChecker() cache.DoneChecker { return doneChecker(r) }

type doneChecker registration

func (d doneChecker) Name() string { return "upstreamrs informer" }
func (d doneChecker) Done() <-chan struct{} {
	ch := make(chan struct{})
	if d.inf.HasSynced() {
		close(ch)
	}
	return ch
}

func (s *informer) AddEventHandler(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	s.inf.AddHandler(controller.Handler{
		OnAdd:    func(o apiserver.Object) { h.OnAdd(o, false) },
		OnUpdate: func(old, cur apiserver.Object) { h.OnUpdate(old, cur) },
		OnDelete: func(o apiserver.Object) { h.OnDelete(o) },
	})
	return registration{s.inf}, nil
}

func (s *informer) AddEventHandlerWithResyncPeriod(h cache.ResourceEventHandler, _ time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandler(h)
}

func (s *informer) AddEventHandlerWithOptions(h cache.ResourceEventHandler, _ cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandler(h)
}

func (s *informer) RemoveEventHandler(cache.ResourceEventHandlerRegistration) error {
	return errors.New("upstreamrs: RemoveEventHandler is not supported")
}

func (s *informer) GetStore() cache.Store                  { return s.store }
func (s *informer) GetIndexer() cache.Indexer              { return s.store }
func (s *informer) AddIndexers(add cache.Indexers) error   { return s.store.AddIndexers(add) }
func (s *informer) GetController() cache.Controller        { return nil }
func (s *informer) Run(<-chan struct{})                    {}
func (s *informer) RunWithContext(context.Context)         {}
func (s *informer) HasSynced() bool                        { return s.inf.HasSynced() }
func (s *informer) HasSyncedChecker() cache.DoneChecker    { return doneChecker{s.inf} }
func (s *informer) LastSyncResourceVersion() string        { return s.store.LastStoreSyncResourceVersion() }
func (s *informer) IsStopped() bool                        { return false }
func (s *informer) SetTransform(cache.TransformFunc) error { return nil }
func (s *informer) SetWatchErrorHandler(cache.WatchErrorHandler) error {
	return nil
}
func (s *informer) SetWatchErrorHandlerWithContext(cache.WatchErrorHandlerWithContext) error {
	return nil
}
