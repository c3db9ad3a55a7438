package controller

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestExpectations runs steps on one key and checks SatisfiedExpectations
// after each: the counting form (the DaemonSet controller's) counts every
// observed deletion, the UID-tracking form (the ReplicaSet controller's)
// each expected pod once.
func TestExpectations(t *testing.T) {
	type step struct {
		name      string
		do        func(e *UIDTrackingExpectations, advance func(time.Duration))
		satisfied bool
	}
	const key = "ns/owner"
	tests := []struct {
		name  string
		steps []step
	}{
		{"creations", []step{
			{"no record", func(*UIDTrackingExpectations, func(time.Duration)) {}, true},
			{"expect 2", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.ExpectCreations(key, 2) }, false},
			{"one seen", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.CreationObserved(key) }, false},
			{"both seen", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.CreationObserved(key) }, true},
		}},
		{"deletions by pod key count once", []step{
			{"expect p1, p2", func(e *UIDTrackingExpectations, _ func(time.Duration)) {
				e.ExpectDeletions(key, []string{"ns/p1", "ns/p2"})
			}, false},
			{"p1 terminating, then deleted, and an unexpected pod", func(e *UIDTrackingExpectations, _ func(time.Duration)) {
				e.DeletionObserved(key, "ns/p1")
				e.DeletionObserved(key, "ns/p1")
				e.DeletionObserved(key, "ns/other")
			}, false},
			{"p2", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.DeletionObserved(key, "ns/p2") }, true},
		}},
		{"counted deletions count every observation", []step{
			{"set 1, 2", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.SetExpectations(key, 1, 2) }, false},
			{"created, and a pod seen terminating", func(e *UIDTrackingExpectations, _ func(time.Duration)) {
				e.CreationObserved(key)
				e.Expectations.DeletionObserved(key)
			}, false},
			{"the same pod's delete event", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.Expectations.DeletionObserved(key) }, true},
			{"set 3, lower 2", func(e *UIDTrackingExpectations, _ func(time.Duration)) {
				e.SetExpectations(key, 3, 0)
				e.LowerExpectations(key, 2, 0)
			}, false},
		}},
		{"expiry", []step{
			{"expect 5", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.ExpectCreations(key, 5) }, false},
			{"at exactly the timeout", func(_ *UIDTrackingExpectations, advance func(time.Duration)) { advance(ExpectationsTimeout) }, false},
			{"past it", func(_ *UIDTrackingExpectations, advance func(time.Duration)) { advance(time.Nanosecond) }, true},
		}},
		{"deleted", []step{
			{"expect 1", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.ExpectCreations(key, 1) }, false},
			{"deleted", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.DeleteExpectations(key) }, true},
			{"no record to lower", func(e *UIDTrackingExpectations, _ func(time.Duration)) { e.CreationObserved(key) }, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			e := NewUIDTrackingExpectations(func() time.Time { return now })
			for _, s := range tt.steps {
				s.do(e, func(d time.Duration) { now = now.Add(d) })
				assert.Equal(t, s.satisfied, e.SatisfiedExpectations(key), s.name)
			}
		})
	}
}
