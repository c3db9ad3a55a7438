package controller

import (
	"slices"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/sim"
)

// Queue is a rate-limited, delaying work queue with client-go's semantics, in
// virtual time:
//
//   - an item is queued at most once however often it is added (the dirty set);
//   - an item handed out by Get is not handed out again until Done, so one key
//     is never processed by two workers at once; adding it meanwhile marks it
//     dirty, and Done queues it again;
//   - otherwise items come out in the order they were added.
//
// Get parks the calling coroutine; every other method is safe to call from
// event handlers (informer callbacks) as well as from coroutines.
type Queue[T comparable] struct {
	w    *sim.World
	name string
	rl   RateLimiter[T]

	items      []T // FIFO of queued items; each is also in dirty
	dirty      map[T]struct{}
	processing map[T]struct{}

	// waiting holds, per item, the earliest pending AddAfter. Each entry has
	// one live sim event; events whose entry was replaced or dropped find a
	// different gen (or none) and do nothing.
	waiting map[T]delayed
	gen     uint64

	// waiters are coroutines parked in Get, oldest ticket first.
	waiters []*waiter
	ticket  uint64

	shuttingDown bool
	adds         uint64
	onReady      func()
}

type delayed struct {
	readyAt time.Duration
	gen     uint64
}

// waiter is one coroutine parked in Get.
type waiter struct {
	p        *sim.Proc
	ticket   uint64 // order of the first park: keeps FIFO across spurious wake-ups
	signaled bool   // woken (and out of waiters) but not yet resumed
}

// NewQueue returns an empty queue bound to w. name identifies the queue in
// metrics and reports. A nil rl means DefaultControllerRateLimiter.
func NewQueue[T comparable](w *sim.World, name string, rl RateLimiter[T]) *Queue[T] {
	if rl == nil {
		rl = DefaultControllerRateLimiter[T](w)
	}
	return &Queue[T]{
		w:          w,
		name:       name,
		rl:         rl,
		dirty:      map[T]struct{}{},
		processing: map[T]struct{}{},
		waiting:    map[T]delayed{},
	}
}

// Name is the name given to NewQueue.
func (q *Queue[T]) Name() string { return q.name }

// Add marks item as needing processing. It is ignored after ShutDown, and when
// the item is already queued; if the item is being processed it is queued
// when its worker calls Done.
func (q *Queue[T]) Add(item T) {
	if q.shuttingDown {
		return
	}
	if _, ok := q.dirty[item]; ok {
		return
	}
	q.adds++
	q.dirty[item] = struct{}{}
	if _, ok := q.processing[item]; ok {
		return
	}
	q.push(item)
}

// push queues an item (already dirty) and wakes one parked Get.
func (q *Queue[T]) push(item T) {
	q.items = append(q.items, item)
	q.signal()
	if q.onReady != nil {
		q.onReady()
	}
}

// OnReady sets fn to run each time an item is queued for Get (by Add, by an
// AddAfter whose time has come, or by Done re-queueing a dirty item). fn runs
// inside that call and must not block. It is for actors that start workers on
// demand, while there is work, instead of parking them in Get for good.
func (q *Queue[T]) OnReady(fn func()) { q.onReady = fn }

// signal wakes the longest-parked Get, if any. Like a condition variable's
// Signal, the woken coroutine re-checks the queue when it runs: a coroutine
// that was already running may have taken the item first.
func (q *Queue[T]) signal() {
	if len(q.waiters) == 0 {
		return
	}
	wt := q.waiters[0]
	q.waiters[0] = nil
	q.waiters = q.waiters[1:]
	wt.signaled = true
	q.w.Wake(wt.p)
}

// Get returns the next item, parking the calling coroutine until there is one.
// The item stays "processing" until Done. shutdown is true (and item is the
// zero value) once the queue is shut down and drained. Get panics with
// sim.ErrNotInProc outside a coroutine, even when an item is ready, so that
// misuse shows on every run rather than only on unlucky ones.
func (q *Queue[T]) Get() (item T, shutdown bool) {
	p := q.w.Current()
	if p == nil {
		panic(sim.ErrNotInProc)
	}
	if len(q.items) == 0 && !q.shuttingDown {
		q.ticket++
		wt := &waiter{p: p, ticket: q.ticket}
		q.wait(wt)
	}
	if len(q.items) == 0 {
		var zero T
		return zero, true
	}
	item = q.items[0]
	var zero T
	q.items[0] = zero
	q.items = q.items[1:]
	q.processing[item] = struct{}{}
	delete(q.dirty, item)
	return item, false
}

// wait parks wt until the queue has an item or is shut down.
func (q *Queue[T]) wait(wt *waiter) {
	resumed := false
	defer func() {
		if resumed {
			return
		}
		// The coroutine was killed while parked (its group failed or the run
		// ended). Leave the queue as if it had never waited, and if it had
		// already been woken for an item, pass the wake-up on so that the
		// item does not sit in the queue with live workers parked.
		if i := slices.Index(q.waiters, wt); i >= 0 {
			q.waiters = slices.Delete(q.waiters, i, i+1)
		}
		if wt.signaled && len(q.items) > 0 {
			q.signal()
		}
	}()
	for len(q.items) == 0 && !q.shuttingDown {
		wt.signaled = false
		// A waiter woken for an item someone else took goes back to its
		// place, not to the end: FIFO among waiters is by first park.
		i, _ := slices.BinarySearchFunc(q.waiters, wt.ticket, func(x *waiter, t uint64) int {
			switch {
			case x.ticket < t:
				return -1
			case x.ticket > t:
				return 1
			}
			return 0
		})
		q.waiters = slices.Insert(q.waiters, i, wt)
		q.w.Park()
	}
	resumed = true
}

// Done tells the queue that processing of item has ended. If the item was
// added meanwhile, it is queued again now.
func (q *Queue[T]) Done(item T) {
	delete(q.processing, item)
	if _, ok := q.dirty[item]; ok {
		q.push(item)
	}
}

// AddAfter adds item once d of virtual time has passed (at once if d <= 0).
// As in client-go, an item waits for at most one ready time, the earliest
// asked for: a later AddAfter is ignored, an earlier one replaces it. Waiting
// does not stop a plain Add from queueing the item now. A delay whose ready
// time cannot be represented (InfDuration) parks the item with no event, so
// only an earlier AddAfter can release it.
func (q *Queue[T]) AddAfter(item T, d time.Duration) {
	if q.shuttingDown {
		return
	}
	if d <= 0 {
		q.Add(item)
		return
	}
	now := q.w.Elapsed()
	readyAt := InfDuration
	if d < InfDuration-now {
		readyAt = now + d
	}
	if e, ok := q.waiting[item]; ok && e.readyAt <= readyAt {
		return
	}
	q.gen++
	gen := q.gen
	q.waiting[item] = delayed{readyAt: readyAt, gen: gen}
	if readyAt == InfDuration {
		return
	}
	// Replaced entries are cancelled lazily: their event still fires but finds
	// another gen. Each AddAfter schedules at most one event, so the cost
	// follows the number of calls, never the span of virtual time.
	q.w.At(readyAt, func() {
		if e, ok := q.waiting[item]; ok && e.gen == gen {
			delete(q.waiting, item)
			q.Add(item)
		}
	})
}

// AddRateLimited adds item after the delay the rate limiter asks for. It
// counts as a retry: the limiter's backoff for the item grows.
func (q *Queue[T]) AddRateLimited(item T) { q.AddAfter(item, q.rl.When(item)) }

// Forget tells the rate limiter the item succeeded, resetting its backoff.
// It does not remove the item from the queue.
func (q *Queue[T]) Forget(item T) { q.rl.Forget(item) }

// NumRequeues is how many rate-limited retries the item has had since Forget.
func (q *Queue[T]) NumRequeues(item T) int { return q.rl.NumRequeues(item) }

// Len is the number of queued items: neither those being processed nor those
// waiting for an AddAfter count.
func (q *Queue[T]) Len() int { return len(q.items) }

// ShutDown stops the queue: new adds and pending AddAfters are dropped, parked
// Gets are woken, and Get reports shutdown once the queued items are drained.
// Items being processed are still re-queued by Done if they became dirty
// before the shutdown, as in client-go.
func (q *Queue[T]) ShutDown() {
	if q.shuttingDown {
		return
	}
	q.shuttingDown = true
	clear(q.waiting)
	for len(q.waiters) > 0 {
		q.signal()
	}
}

// ShuttingDown reports whether ShutDown has been called.
func (q *Queue[T]) ShuttingDown() bool { return q.shuttingDown }

// Adds counts additions that made an item dirty: client-go's adds_total, which
// leaves out adds of items already queued and adds after shutdown.
func (q *Queue[T]) Adds() uint64 { return q.adds }
