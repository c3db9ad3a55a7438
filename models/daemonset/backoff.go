package daemonset

import "time"

// Upstream's back-off for deleting failed daemon pods (kube-controller-manager
// gives the controller flowcontrol.NewBackOff(1s, 15m)).
const (
	FailedPodBackoff    = time.Second
	MaxFailedPodBackoff = 15 * time.Minute
)

// backoff is client-go's flowcontrol.Backoff without jitter, in virtual
// time: per key a delay that starts at initial and doubles up to max each
// time Next is called, and is forgotten once the key has been quiet for twice
// max.
type backoff struct {
	initial, max time.Duration
	entries      map[string]*backoffEntry
}

type backoffEntry struct {
	delay      time.Duration
	lastUpdate time.Time
}

func newBackoff(initial, max time.Duration) *backoff {
	return &backoff{initial: initial, max: max, entries: map[string]*backoffEntry{}}
}

func (b *backoff) expired(e *backoffEntry, now time.Time) bool {
	return now.Sub(e.lastUpdate) > 2*b.max
}

// get is the key's current delay (0 if none).
func (b *backoff) get(key string) time.Duration {
	if e, ok := b.entries[key]; ok {
		return e.delay
	}
	return 0
}

// next records an attempt at now: the first (or the first after a quiet
// spell) gets the initial delay, each further one twice the last.
func (b *backoff) next(key string, now time.Time) {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		e = &backoffEntry{delay: b.initial}
		b.entries[key] = e
	} else {
		e.delay = min(2*e.delay, b.max)
	}
	e.lastUpdate = now
}

// inBackoff reports whether now is within the delay since the last attempt
// (IsInBackOffSinceUpdate).
func (b *backoff) inBackoff(key string, now time.Time) bool {
	e, ok := b.entries[key]
	if !ok || b.expired(e, now) {
		return false
	}
	return now.Sub(e.lastUpdate) < e.delay
}

// gc forgets the keys quiet for twice max (upstream runs it every minute; here
// each sync that looks at failed pods runs it, which decides nothing
// differently).
func (b *backoff) gc(now time.Time) {
	for k, e := range b.entries {
		if b.expired(e, now) {
			delete(b.entries, k)
		}
	}
}
