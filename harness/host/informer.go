package host

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// minimumResyncPeriod is client-go's floor for a handler's resync period.
const minimumResyncPeriod = time.Second

// reflectorBackoff is the Reflector's default backoff (client-go's
// reflector.go) without its jitter: after a failed list or watch the
// informer waits a fixed, seed-independent time, so that a bubble's clock
// advances the same way in every run.
var reflectorBackoff = wait.Backoff{
	Duration: 800 * time.Millisecond,
	Cap:      30 * time.Second,
	Steps:    38, // ceil(Cap/Duration), as client-go
	Factor:   2.0,
}

// reflectorBackoffReset is client-go's: a reflector that ran this long
// without failing starts its backoff again from the beginning.
const reflectorBackoffReset = 2 * time.Minute

// NewSharedIndexInformer has the signature of client-go's (and of
// controller-runtime's cache.Options.NewInformer) and behaves like it, except
// that everything it does comes out in one order for one input:
//
//   - GetStore and GetIndexer list objects by store key ("namespace/name")
//     and keys and index values lexically, where client-go lists in Go map
//     order.
//   - Handlers are called synchronously, on the goroutine that changed the
//     store (the Reflector's), one at a time, in registration order, where
//     client-go hands each handler its notifications on goroutines of its
//     own. The only goroutines are the Reflector's.
//   - A relist (Replace) is diffed against the store in key order: the store
//     takes the whole list first, then every vanished key gets
//     OnDelete(DeletedFinalStateUnknown), then every listed key OnAdd or
//     OnUpdate, as client-go v0.36's atomic FIFO does but with its map
//     orders sorted.
//   - A failed list or watch is retried after client-go's backoff without
//     jitter.
//
// Resync periods follow client-go's rules: a handler's period is at least
// one second; before Run, a handler asking for less than the informer's
// period lowers it; after Run, it is raised to it; an informer whose period
// is 0 when it starts never resyncs. A resync, and a relisted object whose
// resourceVersion did not change, goes only to the handlers whose resync is
// due (before the first resync check, to every handler), as in client-go.
func NewSharedIndexInformer(lw cache.ListerWatcher, exampleObject runtime.Object, defaultEventHandlerResyncPeriod time.Duration, indexers cache.Indexers) cache.SharedIndexInformer {
	if indexers == nil {
		indexers = cache.Indexers{} // client-go's indexer cannot AddIndexers to a nil map
	}
	return &informer{
		lw:            lw,
		objectType:    exampleObject,
		defaultResync: defaultEventHandlerResyncPeriod,
		resyncCheck:   defaultEventHandlerResyncPeriod,
		indexer:       sortedIndexer{cache.NewIndexer(cache.DeletionHandlingMetaNamespaceKeyFunc, indexers)},
		synced:        make(chan struct{}),
		mu:            make(chanMutex, 1),
	}
}

var _ cache.SharedIndexInformer = (*informer)(nil)

// informer is the deterministic cache.SharedIndexInformer.
//
// Locking: mu serialises every change of the store with the notifications
// it causes and with the registration of handlers (and its replay), so that
// nothing interleaves and no handler runs concurrently with another. mu is
// held while a handler runs. That cannot deadlock with a handler that reads
// this or any informer's store, because readers take only the indexer's own
// lock, which is never held across a call into a handler; nor with one that
// calls RemoveEventHandler, IsStopped, HasSynced or LastSyncResourceVersion,
// which do not take mu. It does deadlock a handler that calls
// AddEventHandler on its own informer (client-go allows that, since its
// handlers run on goroutines of their own): register handlers from outside
// handlers. life guards the lifecycle; mu may be taken before life, never
// after it.
//
// A handler may block while it holds mu: controller-runtime's cache reads
// wait for their informer to sync, and an EnqueueRequestsFromMapFunc that
// lists another kind does so inside the replay of AddEventHandler. mu is a
// channel so that a goroutine waiting for it is durably blocked in a
// bubble; a sync.Mutex waiter is not, and synctest.Wait, which the host
// needs before it can answer the list the handler waits for, would never
// return.
type informer struct {
	lw            cache.ListerWatcher
	objectType    runtime.Object
	defaultResync time.Duration
	indexer       sortedIndexer
	synced        chan struct{} // closed once the first list has been stored and dispatched

	mu      chanMutex
	regs    []*registration // in registration order; guarded by mu
	removed atomic.Int64    // registrations flagged as removed but still in regs

	life        sync.Mutex
	started     bool
	stopped     bool
	resyncCheck time.Duration // the Reflector's resync period
	transform   cache.TransformFunc
	watchErr    cache.WatchErrorHandlerWithContext
	reflector   *cache.Reflector
}

// registration is a handler added to an informer.
type registration struct {
	informer  *informer
	handler   cache.ResourceEventHandler
	requested time.Duration // resync period asked for, after the one-second floor
	removed   atomic.Bool

	// Guarded by informer.mu.
	resync     time.Duration // effective resync period, 0 for none
	nextResync time.Time
	syncing    bool // takes resyncs and unchanged relisted objects (client-go's listener "isSyncing")
}

func (r *registration) HasSynced() bool { return r.informer.HasSynced() }

// HasSyncedChecker is the informer's: a handler gets its initial objects
// synchronously, at the first list or in AddEventHandler, so it has synced
// as soon as the informer has.
func (r *registration) HasSyncedChecker() cache.DoneChecker {
	return doneChecker{
		name: fmt.Sprintf("SharedIndexInformer %T + event handler %T", r.informer.objectType, r.handler),
		done: r.informer.synced,
	}
}

type doneChecker struct {
	name string
	done <-chan struct{}
}

func (d doneChecker) Name() string          { return d.name }
func (d doneChecker) Done() <-chan struct{} { return d.done }

func (s *informer) AddEventHandler(handler cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandlerWithOptions(handler, cache.HandlerOptions{})
}

func (s *informer) AddEventHandlerWithResyncPeriod(handler cache.ResourceEventHandler, resyncPeriod time.Duration) (cache.ResourceEventHandlerRegistration, error) {
	return s.AddEventHandlerWithOptions(handler, cache.HandlerOptions{ResyncPeriod: &resyncPeriod})
}

// AddEventHandlerWithOptions registers handler and, on a started informer,
// calls its OnAdd(obj, true) for every stored object in key order before it
// returns. Options.Logger is not used: the informer does not log per handler.
func (s *informer) AddEventHandlerWithOptions(handler cache.ResourceEventHandler, options cache.HandlerOptions) (cache.ResourceEventHandlerRegistration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	period := s.defaultResync
	if options.ResyncPeriod != nil {
		period = *options.ResyncPeriod
	}
	if period > 0 && period < minimumResyncPeriod {
		period = minimumResyncPeriod
	}

	s.life.Lock()
	if s.stopped {
		s.life.Unlock()
		return nil, fmt.Errorf("handler %v was not added to shared informer because it has stopped already", handler)
	}
	started := s.started
	if period > 0 && period < s.resyncCheck {
		if started {
			period = s.resyncCheck
		} else {
			s.resyncCheck = period
			for _, r := range s.regs {
				r.resync = effectiveResync(r.requested, period)
			}
		}
	}
	check := s.resyncCheck
	s.life.Unlock()

	s.pruneLocked()
	reg := &registration{informer: s, handler: handler, requested: period, resync: effectiveResync(period, check), syncing: true}
	reg.nextResync = time.Now().Add(reg.resync)
	s.regs = append(s.regs, reg)
	if started {
		for _, obj := range s.indexer.List() {
			handler.OnAdd(obj, true)
		}
	}
	return reg, nil
}

// effectiveResync is client-go's determineResyncPeriod: none if either
// asks for none, else at least the informer's period.
func effectiveResync(desired, check time.Duration) time.Duration {
	if desired == 0 || check == 0 {
		return 0
	}
	return max(desired, check)
}

// RemoveEventHandler stops calls to the handler; a call in progress on
// another goroutine finishes. It does not take mu, so a handler may remove
// itself or another.
func (s *informer) RemoveEventHandler(handle cache.ResourceEventHandlerRegistration) error {
	r, ok := handle.(*registration)
	if !ok {
		return fmt.Errorf("invalid registration type %T", handle)
	}
	if r.informer != s {
		return nil // not ours, as client-go: nothing to remove
	}
	if r.removed.CompareAndSwap(false, true) {
		s.removed.Add(1)
	}
	return nil
}

// pruneLocked drops removed registrations from regs. Called with mu held.
func (s *informer) pruneLocked() {
	if s.removed.Load() == 0 {
		return
	}
	n := len(s.regs)
	s.regs = slices.DeleteFunc(s.regs, func(r *registration) bool { return r.removed.Load() })
	s.removed.Add(-int64(n - len(s.regs)))
}

func (s *informer) GetStore() cache.Store           { return s.indexer }
func (s *informer) GetIndexer() cache.Indexer       { return s.indexer }
func (s *informer) GetController() cache.Controller { return dummyController{s} }

func (s *informer) AddIndexers(indexers cache.Indexers) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.stopped {
		return fmt.Errorf("indexer was not added because it has stopped already")
	}
	return s.indexer.AddIndexers(indexers)
}

func (s *informer) HasSynced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

func (s *informer) HasSyncedChecker() cache.DoneChecker {
	return doneChecker{name: fmt.Sprintf("SharedIndexInformer %T", s.objectType), done: s.synced}
}

func (s *informer) LastSyncResourceVersion() string {
	s.life.Lock()
	r := s.reflector
	s.life.Unlock()
	if r == nil {
		return ""
	}
	return r.LastSyncResourceVersion()
}

func (s *informer) SetWatchErrorHandler(handler cache.WatchErrorHandler) error {
	return s.SetWatchErrorHandlerWithContext(func(_ context.Context, r *cache.Reflector, err error) {
		handler(r, err)
	})
}

func (s *informer) SetWatchErrorHandlerWithContext(handler cache.WatchErrorHandlerWithContext) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.started {
		return fmt.Errorf("informer has already started")
	}
	s.watchErr = handler
	return nil
}

// SetTransform sets a function applied to every object from the server
// before it is stored or handed to a handler. An object it fails on is
// skipped (utilruntime.HandleError reports it): a watch event is dropped,
// and in a relist the key keeps what the store had, or stays absent.
func (s *informer) SetTransform(handler cache.TransformFunc) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.started {
		return fmt.Errorf("informer has already started")
	}
	s.transform = handler
	return nil
}

func (s *informer) IsStopped() bool {
	s.life.Lock()
	defer s.life.Unlock()
	return s.stopped
}

func (s *informer) Run(stopCh <-chan struct{}) {
	s.RunWithContext(wait.ContextForChannel(stopCh))
}

// RunWithContext lists and watches with one client-go Reflector until ctx
// is done. A second call does nothing, as in client-go.
func (s *informer) RunWithContext(ctx context.Context) {
	s.life.Lock()
	if s.started {
		s.life.Unlock()
		klog.FromContext(ctx).Info("Warning: the sharedIndexInformer has started, run more than once is not allowed")
		return
	}
	s.started = true
	onErr := s.watchErr
	if onErr == nil {
		onErr = cache.DefaultWatchErrorHandler
	}
	backoff := reflectorBackoff
	r := cache.NewReflectorWithOptions(withoutWatchList(s.lw), s.objectType, s.newStore(s.transform), cache.ReflectorOptions{
		Name:         fmt.Sprintf("host.informer %T", s.objectType),
		ResyncPeriod: s.resyncCheck,
		Backoff:      &backoff,
	})
	r.ShouldResync = s.shouldResync
	s.reflector = r
	s.life.Unlock()

	defer func() {
		s.life.Lock()
		s.stopped = true
		s.life.Unlock()
	}()
	// Reflector.RunWithContext, but with our error handler: a Reflector's
	// own handler can only be set from inside package cache.
	_ = reflectorBackoff.DelayWithReset(clock.RealClock{}, reflectorBackoffReset).Until(ctx, true, true, func(ctx context.Context) (bool, error) {
		if err := r.ListAndWatchWithContext(ctx); err != nil {
			onErr(ctx, r, err)
		}
		return false, nil
	})
}

// shouldResync is the Reflector's ShouldResync: it marks the handlers whose
// resync is due, as client-go's sharedProcessor.shouldResync.
func (s *informer) shouldResync() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	now := time.Now()
	due := false
	for _, r := range s.regs {
		r.syncing = r.resync > 0 && !now.Before(r.nextResync)
		if r.syncing {
			due = true
			r.nextResync = now.Add(r.resync)
		}
	}
	return due
}

// The dispatchers run with mu held. A removed registration is skipped even
// mid-dispatch, so that a handler removed by an earlier one gets nothing more.

func (s *informer) notifyAdd(obj any, isInInitialList bool) {
	for _, r := range s.regs {
		if !r.removed.Load() {
			r.handler.OnAdd(obj, isInInitialList)
		}
	}
}

// notifyUpdate sends an update to every handler, or, when the
// resourceVersion did not change (a resync, or an unchanged object in a
// relist), only to the handlers that are syncing, as client-go.
func (s *informer) notifyUpdate(old, obj any) {
	sync := sameResourceVersion(old, obj)
	for _, r := range s.regs {
		if !r.removed.Load() && (!sync || r.syncing) {
			r.handler.OnUpdate(old, obj)
		}
	}
}

func (s *informer) notifyDelete(obj any) {
	for _, r := range s.regs {
		if !r.removed.Load() {
			r.handler.OnDelete(obj)
		}
	}
}

func sameResourceVersion(old, obj any) bool {
	a, err := meta.Accessor(old)
	if err != nil {
		return false
	}
	b, err := meta.Accessor(obj)
	if err != nil {
		return false
	}
	return a.GetResourceVersion() == b.GetResourceVersion()
}

// dummyController is client-go's: GetController's Run does nothing.
type dummyController struct{ s *informer }

func (c dummyController) Run(<-chan struct{})                 {}
func (c dummyController) RunWithContext(context.Context)      {}
func (c dummyController) HasSynced() bool                     { return c.s.HasSynced() }
func (c dummyController) HasSyncedChecker() cache.DoneChecker { return c.s.HasSyncedChecker() }
func (c dummyController) LastSyncResourceVersion() string     { return c.s.LastSyncResourceVersion() }

// store is what the Reflector writes to: it applies each change to the
// indexer and then tells the handlers, with the informer's mu held.
type store struct {
	s         *informer
	transform cache.TransformFunc // fixed at Run
}

var (
	_ cache.ReflectorStore         = (*store)(nil)
	_ cache.ReflectorBookmarkStore = (*store)(nil)
	_ cache.ResourceVersionUpdater = (*store)(nil)
)

func (s *informer) newStore(transform cache.TransformFunc) *store {
	return &store{s: s, transform: transform}
}

// transformed applies the transform; false means skip the object.
func (st *store) transformed(obj any) (any, bool) {
	if st.transform == nil {
		return obj, true
	}
	if _, tombstone := obj.(cache.DeletedFinalStateUnknown); tombstone {
		return obj, true
	}
	out, err := st.transform(obj)
	if err != nil {
		// Beware in a synctest bubble: HandleError's default rate limiter
		// sleeps minPeriod minus the time since the last error, which it
		// took from the real clock, so its first call in a bubble sleeps
		// decades of fake time. Hosts should replace
		// utilruntime.ErrorHandlers.
		utilruntime.HandleError(fmt.Errorf("host informer: transforming %T: %w", obj, err))
		return nil, false
	}
	return out, true
}

// Add stores obj and sends OnAdd, or OnUpdate if the key was present
// (client-go treats an add of a known key as an update).
func (st *store) Add(obj any) error { return st.addOrUpdate(obj) }

// Update stores obj and sends OnUpdate(old, obj), or OnAdd if the key was
// absent.
func (st *store) Update(obj any) error { return st.addOrUpdate(obj) }

func (st *store) addOrUpdate(obj any) error {
	obj, ok := st.transformed(obj)
	if !ok {
		return nil
	}
	s := st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	old, exists, err := s.indexer.Get(obj)
	if err != nil {
		return err
	}
	if exists {
		if err := s.indexer.Update(obj); err != nil {
			return err
		}
		s.notifyUpdate(old, obj)
		return nil
	}
	if err := s.indexer.Add(obj); err != nil {
		return err
	}
	s.notifyAdd(obj, !s.HasSynced())
	return nil
}

// Delete removes obj and sends OnDelete(obj), even for a key the store did
// not have, as client-go v0.36 does.
func (st *store) Delete(obj any) error {
	obj, ok := st.transformed(obj)
	if !ok {
		return nil
	}
	s := st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	if err := s.indexer.Delete(obj); err != nil {
		return err
	}
	s.notifyDelete(obj)
	return nil
}

// Replace makes the store list and then tells the handlers what changed:
// OnDelete(DeletedFinalStateUnknown) for each vanished key, then, for each
// listed key, OnAdd (isInInitialList on the first Replace only) or
// OnUpdate(old, new), each group in key order. The first Replace marks the
// informer synced.
func (st *store) Replace(list []any, resourceVersion string) error {
	s := st.s
	type item struct {
		key string
		obj any
		ok  bool // transformed; if not, keep what the store has
	}
	items := make([]item, 0, len(list))
	for _, obj := range list {
		t, ok := st.transformed(obj)
		if ok {
			obj = t
		}
		key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		if err != nil {
			utilruntime.HandleError(fmt.Errorf("host informer: key of listed %T: %w", obj, err))
			continue
		}
		items = append(items, item{key, obj, ok})
	}
	// Stable, so that of two objects with one key the later one wins, as
	// it would in the indexer.
	slices.SortStableFunc(items, func(a, b item) int { return strings.Compare(a.key, b.key) })
	items = dedupLast(items, func(a, b item) bool { return a.key == b.key })

	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	initial := !s.HasSynced()

	type change struct {
		old, obj any
		existed  bool
	}
	listed := make(map[string]bool, len(items)) // membership only
	objs := make([]any, 0, len(items))
	changes := make([]change, 0, len(items))
	for _, it := range items {
		old, exists, err := s.indexer.GetByKey(it.key)
		if err != nil {
			return err
		}
		if !it.ok {
			if exists {
				listed[it.key] = true
				objs = append(objs, old)
			}
			continue
		}
		listed[it.key] = true
		objs = append(objs, it.obj)
		changes = append(changes, change{old, it.obj, exists})
	}
	var deleted []cache.DeletedFinalStateUnknown
	for _, key := range s.indexer.ListKeys() { // sorted
		if listed[key] {
			continue
		}
		old, _, err := s.indexer.GetByKey(key)
		if err != nil {
			return err
		}
		deleted = append(deleted, cache.DeletedFinalStateUnknown{Key: key, Obj: old})
	}

	if err := s.indexer.Replace(objs, resourceVersion); err != nil {
		return err
	}
	for _, d := range deleted {
		s.notifyDelete(d)
	}
	for _, c := range changes {
		if c.existed {
			s.notifyUpdate(c.old, c.obj)
		} else {
			s.notifyAdd(c.obj, initial)
		}
	}
	if initial {
		close(s.synced)
	}
	return nil
}

// dedupLast keeps the last of each run of equal neighbours.
func dedupLast[T any](s []T, eq func(a, b T) bool) []T {
	out := s[:0]
	for i, v := range s {
		if i+1 < len(s) && eq(v, s[i+1]) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// Resync sends OnUpdate(obj, obj) for every stored object in key order to
// the handlers whose resync shouldResync found due.
func (st *store) Resync() error {
	s := st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	for _, obj := range s.indexer.List() {
		s.notifyUpdate(obj, obj)
	}
	return nil
}

// Bookmark and UpdateResourceVersion keep the indexer's
// LastStoreSyncResourceVersion up to date, as client-go's FIFO does.
func (st *store) Bookmark(resourceVersion string) error {
	st.s.indexer.Bookmark(resourceVersion)
	return nil
}

func (st *store) UpdateResourceVersion(resourceVersion string) {
	st.s.indexer.Bookmark(resourceVersion)
}

// The rest of a cache.Store, read from the indexer.
func (st *store) List() []any                            { return st.s.indexer.List() }
func (st *store) ListKeys() []string                     { return st.s.indexer.ListKeys() }
func (st *store) Get(obj any) (any, bool, error)         { return st.s.indexer.Get(obj) }
func (st *store) GetByKey(key string) (any, bool, error) { return st.s.indexer.GetByKey(key) }

// withoutWatchList turns off the Reflector's WatchList (streaming list)
// mode. In client-go v0.36 the Reflector's switch for it is unexported and
// set from the WatchListClient feature gate (on by default since 1.35); a
// ListerWatcher that says IsWatchListSemanticsUnSupported() is the one
// per-Reflector way to turn it off.
func withoutWatchList(lw cache.ListerWatcher) cache.ListerWatcher {
	return noWatchList{cache.ToListerWatcherWithContext(lw)}
}

type noWatchList struct {
	lw cache.ListerWatcherWithContext
}

func (n noWatchList) List(options metav1.ListOptions) (runtime.Object, error) {
	return n.lw.ListWithContext(context.Background(), options)
}

func (n noWatchList) Watch(options metav1.ListOptions) (watch.Interface, error) {
	return n.lw.WatchWithContext(context.Background(), options)
}

func (n noWatchList) ListWithContext(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
	return n.lw.ListWithContext(ctx, options)
}

func (n noWatchList) WatchWithContext(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
	return n.lw.WatchWithContext(ctx, options)
}

func (noWatchList) IsWatchListSemanticsUnSupported() bool { return true }

// sortedIndexer is a client-go indexer whose listings are sorted: objects
// by store key, keys and index values lexically.
type sortedIndexer struct{ cache.Indexer }

func (x sortedIndexer) List() []any { return sortByKey(x.Indexer.List()) }

func (x sortedIndexer) ListKeys() []string { return sorted(x.Indexer.ListKeys()) }

func (x sortedIndexer) Index(indexName string, obj any) ([]any, error) {
	objs, err := x.Indexer.Index(indexName, obj)
	return sortByKey(objs), err
}

func (x sortedIndexer) ByIndex(indexName, indexedValue string) ([]any, error) {
	objs, err := x.Indexer.ByIndex(indexName, indexedValue)
	return sortByKey(objs), err
}

func (x sortedIndexer) IndexKeys(indexName, indexedValue string) ([]string, error) {
	keys, err := x.Indexer.IndexKeys(indexName, indexedValue)
	return sorted(keys), err
}

func (x sortedIndexer) ListIndexFuncValues(indexName string) []string {
	return sorted(x.Indexer.ListIndexFuncValues(indexName))
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}

// sortByKey sorts objects by their store key. Every stored object has a
// key (the indexer refuses one without), so keys are unique and the order
// total.
func sortByKey(objs []any) []any {
	if len(objs) < 2 {
		return objs
	}
	type keyed struct {
		key string
		obj any
	}
	ks := make([]keyed, len(objs))
	for i, obj := range objs {
		key, _ := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
		ks[i] = keyed{key, obj}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i := range ks {
		objs[i] = ks[i].obj
	}
	return objs
}

// chanMutex is a mutex whose waiters are durably blocked in a synctest
// bubble when it is made there (a channel), where sync.Mutex waiters are not.
type chanMutex chan struct{}

func (m chanMutex) Lock()   { m <- struct{}{} }
func (m chanMutex) Unlock() { <-m }
