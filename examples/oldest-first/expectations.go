package oldestfirst

import (
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// ExpectationsTimeout is how long a ReplicaSet waits for pods it created or
// deleted to show up in the cache before it syncs anyway (a create whose pod
// was deleted again before the informer saw it is never observed).
const ExpectationsTimeout = 5 * time.Minute

// expectations are, per ReplicaSet key, the creates and deletes of its last
// sync that the informer has not shown yet. Handlers count them down; a sync
// manages pods only when none are left. Creates are a count (the names are
// the server's); deletes are pod uids, so that a pod counts once whether it
// is seen terminating or gone.
type expectations struct {
	pending map[string]*pending
}

type pending struct {
	creates int
	deletes map[types.UID]bool
	since   time.Time
}

func newExpectations() *expectations { return &expectations{pending: map[string]*pending{}} }

// expect replaces the key's expectations: a sync expects only once the
// previous ones are met (or timed out).
func (e *expectations) expect(key string, creates int, deletes []types.UID, now time.Time) {
	p := &pending{creates: creates, deletes: map[types.UID]bool{}, since: now}
	for _, uid := range deletes {
		p.deletes[uid] = true
	}
	e.pending[key] = p
}

func (e *expectations) created(key string) {
	if p := e.pending[key]; p != nil {
		p.creates--
	}
}

func (e *expectations) deleted(key string, uid types.UID) {
	if p := e.pending[key]; p != nil {
		delete(p.deletes, uid)
	}
}

func (e *expectations) forget(key string) { delete(e.pending, key) }

// satisfied: nothing pending, or pending for longer than ExpectationsTimeout.
func (e *expectations) satisfied(key string, now time.Time) bool {
	p := e.pending[key]
	return p == nil || (p.creates <= 0 && len(p.deletes) == 0) || now.Sub(p.since) > ExpectationsTimeout
}
