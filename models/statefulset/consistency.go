package statefulset

import (
	"fmt"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"k8s.io/apimachinery/pkg/types"
)

// consistency is v1.36's StaleControllerConsistency for StatefulSets: after
// the controller writes on a set's behalf (a pod created, updated, adopted or
// released, a claim created or updated, a status update) it remembers the
// resourceVersion per kind, and does not sync that set again until the
// informer of each kind has seen at least that version.
type consistency struct {
	informers map[apiserver.Kind]*controller.Informer
	order     []apiserver.Kind
	writes    map[string]*setWrites
}

type setWrites struct {
	uid types.UID
	rv  map[apiserver.Kind]uint64
}

func newConsistency(informers map[apiserver.Kind]*controller.Informer) *consistency {
	c := &consistency{informers: informers, writes: map[string]*setWrites{}}
	for _, k := range apiserver.Kinds { // a fixed order
		if informers[k] != nil {
			c.order = append(c.order, k)
		}
	}
	return c
}

func (c *consistency) wroteAt(key string, uid types.UID, kind apiserver.Kind, rv string) {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil || c.informers[kind] == nil {
		return
	}
	w := c.writes[key]
	if w == nil || w.uid != uid {
		w = &setWrites{uid: uid, rv: map[apiserver.Kind]uint64{}}
		c.writes[key] = w
	}
	if n > w.rv[kind] {
		w.rv[kind] = n
	}
}

func (c *consistency) clear(key string, uid types.UID) {
	if w := c.writes[key]; w != nil && (uid == "" || w.uid == uid) {
		delete(c.writes, key)
	}
}

// ensureReady fails while an informer is behind the set's last write of its
// kind; once none is, the record is dropped.
func (c *consistency) ensureReady(key string) error {
	w := c.writes[key]
	if w == nil {
		return nil
	}
	for _, kind := range c.order {
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
	c.clear(key, w.uid)
	return nil
}
