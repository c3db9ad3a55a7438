package cluster

import (
	"sort"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// informer is the actors' list-and-watch cache, a small cousin of client-go's
// reflector: it lists through the API (recorded under the actor's client),
// watches from the list's resourceVersion, re-watches from the last version
// it saw when a watch is dropped and re-lists after a 410 Gone, and hands
// changes to its handler as Added, Modified and Deleted with the previous
// cached object and the object's key. A re-list is diffed against the cache
// so the handler sees what it missed. Objects are shared with the server:
// never modify them.
type informer struct {
	w       *sim.World
	s       *apiserver.Server
	client  string
	kind    apiserver.Kind
	fields  fields.Selector
	onEvent func(typ watch.EventType, key string, obj, old apiserver.Object)
	onSync  func() // after every (re)list has been applied

	cache   map[string]apiserver.Object
	lastRV  string
	lastN   uint64 // lastRV as a number
	epoch   uint64 // bumped by stop: callbacks of an older epoch are ignored
	watcher *apiserver.Watcher
	running bool
	synced  bool
}

func newInformer(w *sim.World, s *apiserver.Server, client string, kind apiserver.Kind, sel fields.Selector,
	onEvent func(typ watch.EventType, key string, obj, old apiserver.Object)) *informer {
	return &informer{w: w, s: s, client: client, kind: kind, fields: sel, onEvent: onEvent, cache: map[string]apiserver.Object{}}
}

// start lists and then watches. The cache of a stopped informer is kept, so a
// restart reports only the differences.
func (in *informer) start() {
	if in.running {
		return
	}
	in.running = true
	in.epoch++
	in.list()
}

// stop ends the watch; callbacks still in flight are ignored.
func (in *informer) stop() {
	if !in.running {
		return
	}
	in.running = false
	in.synced = false
	in.epoch++
	if in.watcher != nil {
		in.watcher.Stop()
		in.watcher = nil
	}
}

func (in *informer) get(key string) apiserver.Object { return in.cache[key] }

func (in *informer) list() {
	e := in.epoch
	in.s.Do(&apiserver.Request{Client: in.client, Verb: apiserver.List, Kind: in.kind, FieldSelector: in.fields}, func(resp *apiserver.Response) {
		if e != in.epoch {
			return
		}
		if resp.Err != nil {
			in.w.After(retryDelay, func() {
				if e == in.epoch {
					in.list()
				}
			})
			return
		}
		in.replace(resp.Items)
		in.lastRV = resp.ResourceVersion
		in.lastN, _ = strconv.ParseUint(in.lastRV, 10, 64)
		in.watch()
		in.synced = true
		if in.onSync != nil {
			in.onSync()
		}
	})
}

func (in *informer) watch() {
	e := in.epoch
	in.watcher = in.s.Watch(apiserver.WatchOptions{Client: in.client, Kind: in.kind, Fields: in.fields, ResourceVersion: in.lastRV},
		func(ev apiserver.Event) {
			if e != in.epoch {
				return
			}
			if ev.Type == watch.Error {
				in.watcher = nil
				gone := apierrors.IsResourceExpired(ev.Err) || apierrors.IsGone(ev.Err)
				in.w.After(retryDelay, func() {
					if e != in.epoch {
						return
					}
					if gone {
						in.list()
					} else {
						in.watch()
					}
				})
				return
			}
			key := ev.Key
			if key == "" {
				key = podKey(ev.Object)
			}
			in.apply(ev.Type, key, ev.Object, ev.RV)
		})
}

// apply takes one watch event; rv is the object's resourceVersion as a number
// (0 if it has none).
func (in *informer) apply(typ watch.EventType, key string, obj apiserver.Object, rv uint64) {
	old := in.cache[key]
	if rv > in.lastN {
		in.lastRV, in.lastN = obj.GetResourceVersion(), rv
	}
	if typ == watch.Deleted {
		if old == nil {
			return
		}
		delete(in.cache, key)
		in.onEvent(watch.Deleted, key, obj, old)
		return
	}
	in.cache[key] = obj
	if old == nil {
		in.onEvent(watch.Added, key, obj, nil)
	} else {
		in.onEvent(watch.Modified, key, obj, old)
	}
}

// replace applies a full list: new objects in creation order (then key), then
// changed ones, then deletions of what the list no longer has.
func (in *informer) replace(items []apiserver.Object) {
	seen := make(map[string]bool, len(items))
	sorted := append([]apiserver.Object(nil), items...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].GetCreationTimestamp(), sorted[j].GetCreationTimestamp()
		if !a.Equal(&b) {
			return a.Before(&b)
		}
		return podKey(sorted[i]) < podKey(sorted[j])
	})
	for _, obj := range sorted {
		key := podKey(obj)
		seen[key] = true
		old := in.cache[key]
		if old != nil && old.GetResourceVersion() == obj.GetResourceVersion() {
			continue
		}
		if old != nil && old.GetUID() != obj.GetUID() {
			// Deleted and recreated while we were not watching.
			delete(in.cache, key)
			in.onEvent(watch.Deleted, key, old, old)
			old = nil
		}
		in.cache[key] = obj
		if old == nil {
			in.onEvent(watch.Added, key, obj, nil)
		} else {
			in.onEvent(watch.Modified, key, obj, old)
		}
	}
	for _, key := range sortedKeys(in.cache) {
		if !seen[key] {
			old := in.cache[key]
			delete(in.cache, key)
			in.onEvent(watch.Deleted, key, old, old)
		}
	}
}
