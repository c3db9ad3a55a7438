package controller

import (
	"fmt"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Consistency is v1.36's stale-controller consistency check, shared by the
// controllers that have it (ReplicaSet, StatefulSet, DaemonSet): after a
// controller writes on an owner's behalf it remembers the resourceVersion
// per kind, and does not sync that owner again until the informer of each
// kind has seen at least that version. A nil *Consistency checks nothing.
type Consistency struct {
	kinds     []apiserver.Kind // checked in this order
	informers map[apiserver.Kind]*Informer
	writes    map[string]*ownerWrites
}

type ownerWrites struct {
	uid types.UID
	rv  map[apiserver.Kind]uint64
}

// Watched is an informer the check waits for, under the kind its writes are
// recorded as.
type Watched struct {
	Kind     apiserver.Kind
	Informer *Informer
}

// NewConsistency checks the watched informers, in the order given.
func NewConsistency(watched ...Watched) *Consistency {
	c := &Consistency{informers: map[apiserver.Kind]*Informer{}, writes: map[string]*ownerWrites{}}
	for _, w := range watched {
		c.kinds = append(c.kinds, w.Kind)
		c.informers[w.Kind] = w.Informer
	}
	return c
}

// WroteAt records a write of kind at resourceVersion rv for the owner key
// (uid tells owners of one name apart). Kinds not watched are ignored.
func (c *Consistency) WroteAt(key string, uid types.UID, kind apiserver.Kind, rv string) {
	if c == nil || c.informers[kind] == nil {
		return
	}
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return
	}
	w := c.writes[key]
	if w == nil || w.uid != uid {
		w = &ownerWrites{uid: uid, rv: map[apiserver.Kind]uint64{}}
		c.writes[key] = w
	}
	if n > w.rv[kind] {
		w.rv[kind] = n
	}
}

// Clear forgets the owner's writes (uid "" for whatever owner has the key).
func (c *Consistency) Clear(key string, uid types.UID) {
	if c == nil {
		return
	}
	if w := c.writes[key]; w != nil && (uid == "" || w.uid == uid) {
		delete(c.writes, key)
	}
}

// EnsureReady fails while an informer is behind the owner's last write of
// its kind; once none is, the record is dropped.
func (c *Consistency) EnsureReady(key string) error {
	if c == nil {
		return nil
	}
	w := c.writes[key]
	if w == nil {
		return nil
	}
	for _, kind := range c.kinds {
		wrote, ok := w.rv[kind]
		if !ok {
			continue
		}
		read := c.informers[kind].LastSyncResourceVersion()
		if read == 0 {
			continue
		}
		if wrote > read {
			return fmt.Errorf("read version: %d is not as new as written version: %d for %s", read, wrote, kind)
		}
	}
	c.Clear(key, w.uid)
	return nil
}

// ControllerWrote is upstream's pod-control write callback: given an object
// of kind a write returned, it records the write for the object's
// controller, if it has one (after a release it has none, and nothing is
// recorded). It is nil for a nil *Consistency. Use it as the onWrite of PatchThrough.
func (c *Consistency) ControllerWrote(kind apiserver.Kind) func(apiserver.Object) {
	if c == nil {
		return nil
	}
	return func(obj apiserver.Object) {
		if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
			c.WroteAt(obj.GetNamespace()+"/"+ref.Name, ref.UID, kind, obj.GetResourceVersion())
		}
	}
}
