package replicaset

import "time"

// ExpectationsTimeout is how long a controller trusts its expectations before
// it syncs anyway (upstream's ExpectationsTimeout).
const ExpectationsTimeout = 5 * time.Minute

// expectations remembers, per controller key, the creations and deletions a
// sync started and has not yet seen in its informer, so that the next sync does
// not act again on a stale cache. Creations are a count; deletions are tracked
// by pod key, so a pod counts once whether it is seen with a deletionTimestamp
// or as a delete event.
type expectations struct {
	now     func() time.Time
	records map[string]*expectation
}

type expectation struct {
	add, del  int
	timestamp time.Time
	deletions map[string]bool // pod keys still expected to go
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, records: map[string]*expectation{}}
}

// satisfied reports whether a sync may act: no record, a record fulfilled, or
// one older than ExpectationsTimeout.
func (e *expectations) satisfied(key string) bool {
	r, ok := e.records[key]
	if !ok {
		return true
	}
	if r.add <= 0 && r.del <= 0 {
		return true
	}
	return e.now().Sub(r.timestamp) > ExpectationsTimeout
}

func (e *expectations) expectCreations(key string, n int) {
	e.records[key] = &expectation{add: n, timestamp: e.now()}
}

func (e *expectations) expectDeletions(key string, podKeys []string) {
	r := &expectation{del: len(podKeys), timestamp: e.now(), deletions: map[string]bool{}}
	for _, k := range podKeys {
		r.deletions[k] = true
	}
	e.records[key] = r
}

func (e *expectations) creationObserved(key string) {
	if r, ok := e.records[key]; ok {
		r.add--
	}
}

func (e *expectations) deletionObserved(key, podKey string) {
	if r, ok := e.records[key]; ok && r.deletions[podKey] {
		delete(r.deletions, podKey)
		r.del--
	}
}

func (e *expectations) forget(key string) { delete(e.records, key) }
