package controller

import "time"

// ExpectationsTimeout is how long a controller trusts its expectations
// before it syncs anyway (upstream's ExpectationsTimeout).
const ExpectationsTimeout = 5 * time.Minute

// Expectations is upstream's ControllerExpectations: per controller key, the
// creations and deletions a sync started and the informer has not shown yet,
// so that the next sync does not act again on a stale cache. Deletions are a
// count here (a pod seen first with a deletionTimestamp and then gone counts
// twice, as the DaemonSet controller's do); UIDTrackingExpectations tracks
// them by pod key.
type Expectations struct {
	now     func() time.Time
	records map[string]*expectation
}

type expectation struct {
	add, del  int
	timestamp time.Time
	deletions map[string]bool // pod keys still expected to go (UIDTrackingExpectations)
}

// NewExpectations returns empty expectations on the clock now (the
// controller's, Context.Now).
func NewExpectations(now func() time.Time) *Expectations {
	return &Expectations{now: now, records: map[string]*expectation{}}
}

// SatisfiedExpectations reports whether a sync may act: no record, a record
// fulfilled (both counts at or below 0), or one older than
// ExpectationsTimeout.
func (e *Expectations) SatisfiedExpectations(key string) bool {
	r, ok := e.records[key]
	if !ok || (r.add <= 0 && r.del <= 0) {
		return true
	}
	return e.now().Sub(r.timestamp) > ExpectationsTimeout
}

// SetExpectations replaces the record, restarting its clock.
func (e *Expectations) SetExpectations(key string, add, del int) {
	e.records[key] = &expectation{add: add, del: del, timestamp: e.now()}
}

// ExpectCreations replaces the record with one expecting n creations.
func (e *Expectations) ExpectCreations(key string, n int) { e.SetExpectations(key, n, 0) }

// LowerExpectations takes add creations and del deletions off the record,
// if there is one.
func (e *Expectations) LowerExpectations(key string, add, del int) {
	if r, ok := e.records[key]; ok {
		r.add -= add
		r.del -= del
	}
}

// CreationObserved counts one expected creation as seen.
func (e *Expectations) CreationObserved(key string) { e.LowerExpectations(key, 1, 0) }

// DeletionObserved counts one expected deletion as seen.
func (e *Expectations) DeletionObserved(key string) { e.LowerExpectations(key, 0, 1) }

// DeleteExpectations forgets the record (its owner is gone).
func (e *Expectations) DeleteExpectations(key string) { delete(e.records, key) }

// UIDTrackingExpectations is upstream's UIDTrackingControllerExpectations,
// as the ReplicaSet controller uses them: deletions are tracked by pod key,
// so a pod counts once whether it is seen with a deletionTimestamp or as a
// delete event. Creations remain a count.
type UIDTrackingExpectations struct {
	*Expectations
}

// NewUIDTrackingExpectations returns empty expectations on the clock now.
func NewUIDTrackingExpectations(now func() time.Time) *UIDTrackingExpectations {
	return &UIDTrackingExpectations{NewExpectations(now)}
}

// ExpectDeletions replaces the record with one expecting the deletion of
// the pods podKeys names.
func (u *UIDTrackingExpectations) ExpectDeletions(key string, podKeys []string) {
	r := &expectation{del: len(podKeys), timestamp: u.now(), deletions: make(map[string]bool, len(podKeys))}
	for _, k := range podKeys {
		r.deletions[k] = true
	}
	u.records[key] = r
}

// DeletionObserved counts the deletion of the pod podKey as seen, if the
// record expects it and has not counted it yet.
func (u *UIDTrackingExpectations) DeletionObserved(key, podKey string) {
	if r, ok := u.records[key]; ok && r.deletions[podKey] {
		delete(r.deletions, podKey)
		r.del--
	}
}
