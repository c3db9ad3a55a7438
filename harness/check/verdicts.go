package check

import (
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// observeOwner keeps a predicate's owners (by uid) and their verdicts up to
// date with one owner's event: a deleted owner is forgotten, any other
// change makes its verdict stale; an owner being deleted is not judged.
func observeOwner[T metav1.Object](owners map[types.UID]T, verdicts *verdictCache, ev apiserver.Event, obj T) {
	uid := obj.GetUID()
	if ev.Type == watch.Deleted {
		delete(owners, uid)
		verdicts.remove(uid)
		return
	}
	owners[uid] = obj
	verdicts.put(uid, obj.GetNamespace(), obj.GetName(), obj.GetDeletionTimestamp() != nil)
}

// verdictCache keeps each owner's last verdict, recomputed only once
// something it depends on has changed (touch), and asks the owners in
// (namespace, name) order so that the first failure reported does not depend
// on map order.
type verdictCache struct {
	entries map[types.UID]*verdict
	order   []*verdict
	stale   bool // order needs rebuilding
}

type verdict struct {
	uid      types.UID
	ns, name string
	skip     bool // being deleted: not judged
	dirty    bool
	ok       bool
	why      string
}

func newVerdictCache() *verdictCache { return &verdictCache{entries: map[types.UID]*verdict{}} }

// put adds or updates an owner (and marks it for recomputation).
func (c *verdictCache) put(uid types.UID, ns, name string, skip bool) {
	v := c.entries[uid]
	if v == nil {
		v = &verdict{uid: uid, ns: ns, name: name}
		c.entries[uid] = v
		c.stale = true
	}
	v.skip, v.dirty = skip, true
}

func (c *verdictCache) remove(uid types.UID) {
	if _, ok := c.entries[uid]; ok {
		delete(c.entries, uid)
		c.stale = true
	}
}

// touch marks an owner for recomputation (unknown owners are ignored).
func (c *verdictCache) touch(uid types.UID) {
	if v := c.entries[uid]; v != nil {
		v.dirty = true
	}
}

// touchAll marks every owner for recomputation.
func (c *verdictCache) touchAll() {
	for _, v := range c.entries {
		v.dirty = true
	}
}

// touchNamespace marks every owner of a namespace for recomputation.
func (c *verdictCache) touchNamespace(ns string) {
	for _, v := range c.entries {
		if v.ns == ns {
			v.dirty = true
		}
	}
}

func (c *verdictCache) holds(eval func(types.UID) (bool, string)) (bool, string) {
	if c.stale {
		c.order = c.order[:0]
		for _, v := range c.entries {
			c.order = append(c.order, v)
		}
		sort.Slice(c.order, func(i, j int) bool {
			a, b := c.order[i], c.order[j]
			if a.ns != b.ns {
				return a.ns < b.ns
			}
			if a.name != b.name {
				return a.name < b.name
			}
			return a.uid < b.uid
		})
		c.stale = false
	}
	for _, v := range c.order {
		if v.skip {
			continue
		}
		if v.dirty {
			v.ok, v.why = eval(v.uid)
			v.dirty = false
		}
		if !v.ok {
			return false, v.why
		}
	}
	return true, ""
}
