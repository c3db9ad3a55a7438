package daemonset

import "time"

// ExpectationsTimeout is how long the controller trusts its expectations
// before it syncs anyway (upstream's ExpectationsTimeout).
const ExpectationsTimeout = 5 * time.Minute

// expectations are upstream's ControllerExpectations as the DaemonSet
// controller uses them: per DaemonSet key, a count of creations and one of
// deletions the last sync started and the informer has not shown yet. Unlike
// the ReplicaSet controller's, deletions are a count, not a set of pod keys:
// a pod seen first with a deletionTimestamp and then gone counts twice.
type expectations struct {
	now     func() time.Time
	records map[string]*expectation
}

type expectation struct {
	add, del  int
	timestamp time.Time
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{now: now, records: map[string]*expectation{}}
}

// satisfied reports whether a sync may act: no record, a record fulfilled
// (both counts at or below 0), or one older than ExpectationsTimeout.
func (e *expectations) satisfied(key string) bool {
	r, ok := e.records[key]
	if !ok || (r.add <= 0 && r.del <= 0) {
		return true
	}
	return e.now().Sub(r.timestamp) > ExpectationsTimeout
}

// set replaces the record (SetExpectations), restarting its clock.
func (e *expectations) set(key string, add, del int) {
	e.records[key] = &expectation{add: add, del: del, timestamp: e.now()}
}

// lower takes add creations and del deletions off the record, if any.
func (e *expectations) lower(key string, add, del int) {
	if r, ok := e.records[key]; ok {
		r.add -= add
		r.del -= del
	}
}

func (e *expectations) creationObserved(key string) { e.lower(key, 1, 0) }
func (e *expectations) deletionObserved(key string) { e.lower(key, 0, 1) }
func (e *expectations) forget(key string)           { delete(e.records, key) }
