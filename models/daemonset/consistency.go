package daemonset

import (
	"fmt"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"k8s.io/apimachinery/pkg/types"
)

// consistency is v1.36's StaleControllerConsistencyDaemonSet (beta, on by
// default): after the controller writes for a DaemonSet (a pod created,
// adopted or released; a status update) it remembers the resourceVersion it
// wrote, and does not sync that DaemonSet again until its informers have
// seen at least that version.
type consistency struct {
	informers map[apiserver.Kind]*controller.Informer
	writes    map[string]*ownerWrites
}

type ownerWrites struct {
	uid types.UID
	rv  map[apiserver.Kind]uint64
}

func newConsistency(sets, pods *controller.Informer) *consistency {
	return &consistency{
		informers: map[apiserver.Kind]*controller.Informer{apiserver.DaemonSets: sets, apiserver.Pods: pods},
		writes:    map[string]*ownerWrites{},
	}
}

func (c *consistency) wroteAt(key string, uid types.UID, kind apiserver.Kind, rv string) {
	if c == nil {
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

func (c *consistency) clear(key string, uid types.UID) {
	if c == nil {
		return
	}
	if w := c.writes[key]; w != nil && (uid == "" || w.uid == uid) {
		delete(c.writes, key)
	}
}

// ensureReady fails while an informer is behind the DaemonSet's last write.
func (c *consistency) ensureReady(key string) error {
	if c == nil {
		return nil
	}
	w := c.writes[key]
	if w == nil {
		return nil
	}
	for _, kind := range []apiserver.Kind{apiserver.DaemonSets, apiserver.Pods} {
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
