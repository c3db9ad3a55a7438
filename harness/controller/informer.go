package controller

import (
	"slices"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
)

// Handler receives an informer's notifications, like client-go's
// ResourceEventHandlerFuncs. Handlers run as event handlers, not coroutines:
// they must not block (enqueue a key and return). Objects are shared with the
// cache: do not modify them. Any of the functions may be nil.
//
// As with client-go, an object deleted and created again under the same name
// while the informer was not watching comes out of the next list as an
// update whose old and new objects have different uids.
type Handler struct {
	OnAdd    func(obj apiserver.Object)
	OnUpdate func(old, cur apiserver.Object)
	OnDelete func(obj apiserver.Object)
	// OnChange takes every change with the cache's key ("namespace/name",
	// "name" for a cluster-scoped kind), for a handler that keys its own
	// state by it and need not derive it again for every event: typ is
	// Added, Modified or Deleted; old is nil for Added and, for Deleted, the
	// object itself. It runs after OnAdd, OnUpdate or OnDelete.
	OnChange func(typ watch.EventType, key string, obj, old apiserver.Object)
	// OnSync runs after every list (the first and each relist) has been
	// applied and its changes handed to the other functions: a point where
	// the cache is complete, for actors that then look at all of it.
	OnSync func()
}

// IndexFunc returns the index values of an object.
type IndexFunc func(obj apiserver.Object) []string

// The built-in indexes of every informer.
const (
	IndexNamespace = "namespace" // the object's namespace
	IndexOwnerUID  = "owner-uid" // the uid of each ownerReference
	IndexLabel     = "label"     // "key=value" for each label
)

// Informer is a watch-fed cache of one kind with listers and indexes. It is
// stale by construction: it sees each change after the controller's watch
// delay. It follows client-go's reflector: it lists, watches from the list's
// resourceVersion, watches again from the last version it saw when the
// connection drops, and lists again only when the server refuses that (410
// Gone, or any other refusal), telling the handlers what changed meanwhile.
type Informer struct {
	ctx       *Context
	kind      apiserver.Kind
	fields    fields.Selector
	epoch     uint64 // bumped by Stop: callbacks of an older epoch do nothing
	all       orderedSet
	indexers  map[string]IndexFunc
	indexes   map[string]map[string]*orderedSet
	handlers  []Handler
	synced    bool
	started   bool
	rv        string
	watch     *apiserver.Watcher
	waiting   []func()
	Relists   int // how many times it listed again after a watch ended
	Rewatches int // how many times it watched again from its last version
}

// Informer returns the controller's informer of a kind, creating it on first
// use. It starts listing and watching when the controller calls Start or
// WaitForCacheSync.
func (c *Context) Informer(kind apiserver.Kind) *Informer {
	if inf, ok := c.informers[kind]; ok {
		return inf
	}
	inf := &Informer{ctx: c, kind: kind,
		indexers: map[string]IndexFunc{}, indexes: map[string]map[string]*orderedSet{}}
	inf.AddIndex(IndexNamespace, func(o apiserver.Object) []string { return []string{o.GetNamespace()} })
	inf.AddIndex(IndexOwnerUID, func(o apiserver.Object) []string {
		refs := o.GetOwnerReferences()
		out := make([]string, len(refs))
		for i, r := range refs {
			out[i] = string(r.UID)
		}
		return out
	})
	inf.AddIndex(IndexLabel, func(o apiserver.Object) []string {
		ls := o.GetLabels()
		out := make([]string, 0, len(ls))
		for k, v := range ls {
			out = append(out, k+"="+v)
		}
		return out // order does not matter: each value is a separate set
	})
	c.informers[kind] = inf
	return inf
}

// AddIndex adds an index. Add indexes before the informer starts.
func (inf *Informer) AddIndex(name string, fn IndexFunc) {
	inf.indexers[name] = fn
	inf.indexes[name] = map[string]*orderedSet{}
}

// RemoveIndex removes an index, the built-in ones included: an informer whose
// owner never looks objects up by index (the cluster's actors) need not pay
// for keeping them. Remove indexes before the informer starts.
func (inf *Informer) RemoveIndex(name string) {
	delete(inf.indexers, name)
	delete(inf.indexes, name)
}

// AddHandler registers a handler. Added before the informer starts, it sees
// every object as an add when the first list arrives.
func (inf *Informer) AddHandler(h Handler) { inf.handlers = append(inf.handlers, h) }

// SetFieldSelector restricts the informer to the objects sel matches (the
// kubelet's spec.nodeName=<node>). Set it before the informer starts.
func (inf *Informer) SetFieldSelector(sel fields.Selector) { inf.fields = sel }

// Start lists and watches. It does not wait: see WaitForCacheSync. Starting a
// started informer does nothing; starting a stopped one lists again and
// reports only what changed since it stopped.
func (inf *Informer) Start() {
	if inf.started {
		return
	}
	inf.started = true
	inf.epoch++
	inf.list()
}

// Stop ends the watch and ignores responses still in flight; the cache is
// kept (a lost node's kubelet, say, that comes back later).
func (inf *Informer) Stop() {
	if !inf.started {
		return
	}
	inf.started = false
	inf.epoch++
	if inf.watch != nil {
		inf.watch.Stop()
		inf.watch = nil
	}
}

// live reports whether a callback of epoch e may act.
func (inf *Informer) live(e uint64) bool { return e == inf.epoch && !inf.ctx.group.Dead() }

// HasSynced reports whether the first list has been received.
func (inf *Informer) HasSynced() bool { return inf.synced }

// WaitForCacheSync starts the informer and waits until its first list arrived.
func (inf *Informer) WaitForCacheSync() {
	inf.Start()
	if inf.synced {
		return
	}
	w := inf.ctx.w
	p := w.Current()
	if p == nil {
		panic("controller: WaitForCacheSync outside a coroutine")
	}
	inf.waiting = append(inf.waiting, func() { w.Wake(p) })
	w.Park()
}

func (inf *Informer) list() {
	c, e := inf.ctx, inf.epoch
	c.api.Do(&apiserver.Request{Client: c.name, Verb: apiserver.List, Kind: inf.kind, FieldSelector: inf.fields}, func(resp *apiserver.Response) {
		if !inf.live(e) {
			return
		}
		if resp.Err != nil {
			c.w.After(backoffAfterListError, func() {
				if inf.live(e) {
					inf.list()
				}
			})
			return
		}
		c.guard(func() { inf.replace(resp.Items) })
		inf.rv = resp.ResourceVersion
		if !inf.synced {
			inf.synced = true
			for _, wake := range inf.waiting {
				wake()
			}
			inf.waiting = nil
		}
		inf.startWatch()
		for _, h := range inf.handlers {
			if h.OnSync != nil {
				c.guard(h.OnSync)
			}
		}
	})
}

const backoffAfterListError = 1e9 // 1s

func (inf *Informer) startWatch() {
	c, e := inf.ctx, inf.epoch
	inf.watch = c.api.Watch(apiserver.WatchOptions{Client: c.name, Kind: inf.kind, Fields: inf.fields, ResourceVersion: inf.rv, Delay: c.WatchDelay},
		func(ev apiserver.Event) {
			if !inf.live(e) {
				return
			}
			if ev.Type == watch.Error {
				// The watch ended. As client-go's reflector: watch again from
				// the last version seen, so no event is lost; list again only
				// when that version is gone (410) or the server refused the
				// watch otherwise (then the next watch starts from the list).
				inf.watch = nil
				if apierrors.IsResourceExpired(ev.Err) || apierrors.IsGone(ev.Err) || !isDropped(ev.Err) {
					inf.Relists++
					inf.list()
					return
				}
				inf.Rewatches++
				inf.startWatch()
				return
			}
			inf.rv = ev.Object.GetResourceVersion()
			inf.applyGuarded(ev)
		})
}

// applyGuarded is apply as a guarded event handler of the controller (see
// Context.guard), without a closure: it runs for every watch event.
func (inf *Informer) applyGuarded(ev apiserver.Event) {
	c := inf.ctx
	if c.group.Dead() {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.group.Fail(panicMessage(r), stack())
		}
	}()
	inf.apply(ev)
}

// isDropped: the watch ended with a broken connection (an internal error, a
// timeout), not a refusal: the client watches again from where it was.
func isDropped(err error) bool {
	return apierrors.IsInternalError(err) || apierrors.IsTimeout(err) || apierrors.IsServerTimeout(err)
}

// LastSyncResourceVersion is the resourceVersion of the last list or event the
// cache applied (0 before the first list).
func (inf *Informer) LastSyncResourceVersion() uint64 {
	n, _ := strconv.ParseUint(inf.rv, 10, 64)
	return n
}

// Watcher is the informer's current watch (for fault injection).
func (inf *Informer) Watcher() *apiserver.Watcher { return inf.watch }

func (inf *Informer) apply(ev apiserver.Event) {
	obj := ev.Object
	k := ev.Key // the store's key is the cache's
	if k == "" {
		k = cacheKey(obj)
	}
	i, had := inf.all.pos[k]
	var old apiserver.Object
	if had {
		old = inf.all.items[i]
	}
	switch ev.Type {
	case watch.Added, watch.Modified:
		inf.store(k, i, obj, old)
		typ := watch.Modified
		if !had {
			typ = watch.Added
		}
		for _, h := range inf.handlers {
			switch {
			case !had && h.OnAdd != nil:
				h.OnAdd(obj)
			case had && h.OnUpdate != nil:
				h.OnUpdate(old, obj)
			}
			if h.OnChange != nil {
				h.OnChange(typ, k, obj, old)
			}
		}
	case watch.Deleted:
		if !had {
			return
		}
		inf.remove(k, old)
		for _, h := range inf.handlers {
			if h.OnDelete != nil {
				h.OnDelete(obj)
			}
			if h.OnChange != nil {
				h.OnChange(watch.Deleted, k, obj, obj)
			}
		}
	}
}

// replace installs a fresh list as client-go's DeltaFIFO.Replace does: in the
// list's order, new objects are adds and changed ones updates (an unchanged
// resourceVersion is no news); then, in key order, the cached objects the list
// no longer has are deletes, with their last known state.
func (inf *Informer) replace(items []apiserver.Object) {
	seen := make(map[string]bool, len(items))
	for _, obj := range items {
		k := cacheKey(obj)
		seen[k] = true
		if old := inf.all.get(k); old != nil && old.GetResourceVersion() == obj.GetResourceVersion() {
			continue
		}
		inf.apply(apiserver.Event{Type: watch.Modified, Object: obj, Key: k})
	}
	var gone []string
	for _, k := range inf.all.keys {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	slices.Sort(gone)
	for _, k := range gone {
		inf.apply(apiserver.Event{Type: watch.Deleted, Object: inf.all.get(k), Key: k})
	}
}

// store caches obj under k; old is the object it replaces (nil for a new
// key), at position i of inf.all.
func (inf *Informer) store(k string, i int, obj, old apiserver.Object) {
	if old != nil {
		inf.unindex(k, old)
		inf.all.items[i] = obj
	} else {
		inf.all.add(k, obj)
	}
	for name, fn := range inf.indexers {
		idx := inf.indexes[name]
		for _, v := range fn(obj) {
			set := idx[v]
			if set == nil {
				set = &orderedSet{}
				idx[v] = set
			}
			set.add(k, obj)
		}
	}
}

func (inf *Informer) remove(k string, old apiserver.Object) {
	inf.unindex(k, old)
	inf.all.remove(k)
}

func (inf *Informer) unindex(k string, old apiserver.Object) {
	for name, fn := range inf.indexers {
		idx := inf.indexes[name]
		for _, v := range fn(old) {
			if set := idx[v]; set != nil {
				set.remove(k)
				if set.len() == 0 {
					delete(idx, v)
				}
			}
		}
	}
}

// Get returns the cached object, or nil.
func (inf *Informer) Get(namespace, name string) apiserver.Object {
	return inf.all.get(joinKey(namespace, name))
}

// GetByKey returns the cached object with the key "namespace/name" ("name"
// for a cluster-scoped kind), or nil.
func (inf *Informer) GetByKey(key string) apiserver.Object { return inf.all.get(key) }

// List returns the cached objects of a namespace ("" for all) that match sel
// (nil for all). The order is deterministic (it depends only on the sequence
// of changes the cache saw), not sorted.
func (inf *Informer) List(namespace string, sel labels.Selector) []apiserver.Object {
	src := inf.all.items
	filterNS := false
	if namespace != "" {
		if idx, ok := inf.indexes[IndexNamespace]; ok {
			set := idx[namespace]
			if set == nil {
				return nil
			}
			src = set.items
		} else {
			filterNS = true
		}
	}
	out := make([]apiserver.Object, 0, len(src))
	for _, o := range src {
		if filterNS && o.GetNamespace() != namespace {
			continue
		}
		if sel == nil || sel.Empty() || sel.Matches(labels.Set(o.GetLabels())) {
			out = append(out, o)
		}
	}
	return out
}

// ByIndex returns the cached objects with the given index value.
func (inf *Informer) ByIndex(index, value string) []apiserver.Object {
	set := inf.indexes[index][value]
	if set == nil {
		return nil
	}
	return append([]apiserver.Object(nil), set.items...)
}

// Len is the number of cached objects.
func (inf *Informer) Len() int { return inf.all.len() }

func cacheKey(obj apiserver.Object) string { return joinKey(obj.GetNamespace(), obj.GetName()) }

func joinKey(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// orderedSet is a set of objects with a deterministic order and O(1) add and
// remove (removal moves the last item into the gap): listing needs no sort.
type orderedSet struct {
	items []apiserver.Object
	keys  []string
	pos   map[string]int
}

func (s *orderedSet) len() int { return len(s.items) }

func (s *orderedSet) get(k string) apiserver.Object {
	if i, ok := s.pos[k]; ok {
		return s.items[i]
	}
	return nil
}

func (s *orderedSet) add(k string, obj apiserver.Object) {
	if s.pos == nil {
		s.pos = map[string]int{}
	}
	if i, ok := s.pos[k]; ok {
		s.items[i] = obj
		return
	}
	s.pos[k] = len(s.items)
	s.items = append(s.items, obj)
	s.keys = append(s.keys, k)
}

func (s *orderedSet) remove(k string) {
	i, ok := s.pos[k]
	if !ok {
		return
	}
	last := len(s.items) - 1
	s.items[i], s.keys[i] = s.items[last], s.keys[last]
	s.pos[s.keys[i]] = i
	s.items[last], s.keys = nil, s.keys[:last]
	s.items = s.items[:last]
	delete(s.pos, k)
}
