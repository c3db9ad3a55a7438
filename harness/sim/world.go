// Package sim is ctrlsim's deterministic discrete-event engine: a virtual clock,
// an event queue ordered by (time, sequence number), named pseudo-random streams
// derived from one root seed, and coroutines that let ordinary blocking Go code
// (controllers written the way upstream writes them) run one at a time.
//
// Nothing in a World reads the wall clock, global randomness or goroutine
// scheduling order: the same seed and the same inputs give the same run.
package sim

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing/synctest"
	"time"
)

// Epoch is the wall-clock instant that virtual time zero stands for. Object
// timestamps (creationTimestamp, conditions) are Epoch plus virtual time.
var Epoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Verdict says how a run ended.
type Verdict string

const (
	// Idle: nothing was left to do (the event queue drained).
	Idle Verdict = "idle"
	// Stopped: someone called Stop (a check concluded, a scenario ended).
	Stopped Verdict = "stopped"
	// Runaway: the run passed its maximum virtual time or event count.
	Runaway Verdict = "runaway"
	// Blocked: a coroutine blocked outside the runtime (a raw channel, a mutex,
	// the wall clock) and the engine could not go on.
	Blocked Verdict = "blocked"
)

// Limits bound a run, so that a livelocked controller ends in a verdict rather
// than a hang. Zero values mean "no limit" for MaxTime and MaxEvents.
type Limits struct {
	MaxTime   time.Duration // virtual time
	MaxEvents uint64
	// BlockTimeout is how long (wall clock) a single coroutine may run without
	// yielding before it is reported as blocked outside the runtime. It only
	// detects hangs; it never influences a run that does not hang. Default 10s.
	// Under SyncWallClock the wall clock is the bubble's: see there.
	BlockTimeout time.Duration
	// SyncWallClock makes Run keep the process's wall clock equal to Now,
	// so that hosted code which reads time.Now, arms timers or stamps
	// metav1.Now() (upstream's own controllers) sees virtual time. It works
	// only inside a testing/synctest bubble, whose fake clock starts at
	// 2000-01-01 UTC and moves only when every goroutine of the bubble is
	// blocked: Run sleeps once to Epoch, and before each event at a later
	// virtual time it sleeps the difference. Outside a bubble that would be a
	// real sleep of 25 years, so Run panics instead.
	//
	// It changes nothing else: the World's own clock, events and randomness
	// are the same, so code that reads Now (every built-in model) runs the
	// same either way. Hosted code that sleeps on the wall clock moves it
	// ahead of Now; the World never moves it back. A hosted timer that fires
	// while the World sleeps runs between two events, outside any coroutine:
	// a host should let hosted code run only while a coroutine waits for it.
	//
	// The BlockTimeout watchdog then measures the bubble's time: a coroutine
	// blocked durably (a channel or sync.Cond of the bubble, select, a wall
	// clock sleep) is reported after BlockTimeout of fake time, at once in
	// real time; one blocked on something that is not durable for synctest
	// (a contended sync.Mutex, a channel made outside the bubble, I/O) stops
	// the bubble's clock, and with it the watchdog: that run hangs.
	SyncWallClock bool
}

// bubbleStart is the instant a testing/synctest bubble's fake clock starts at.
var bubbleStart = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// Outcome is the result of Run.
type Outcome struct {
	Verdict Verdict
	Reason  string        // for Runaway, Blocked and Stopped: why
	Now     time.Duration // virtual time at the end
	Events  uint64        // events executed
}

// Failure is a problem of an actor, not of the harness: a controller that
// panicked or blocked outside the runtime. The run goes on without it.
type Failure struct {
	Actor   string        `json:"actor"`
	Kind    string        `json:"kind"` // "panic", "blocked", or "bubble" (hosted goroutines outlived the run)
	Time    time.Duration `json:"time"`
	Seed    uint64        `json:"seed"`
	Message string        `json:"message"`
	Stack   string        `json:"stack,omitempty"`
}

func (f Failure) Error() string {
	return fmt.Sprintf("%s: %s at virtual time %v (seed %d): %s", f.Actor, f.Kind, f.Time, f.Seed, f.Message)
}

// World is one simulation: its clock, its event queue, its randomness and its
// coroutines. A World is driven by one goroutine at a time.
type World struct {
	seed    uint64
	now     time.Duration
	seq     uint64
	events  uint64
	queue   eventQueue
	streams *Streams
	limits  Limits

	current  *Proc
	procs    map[*Proc]struct{}
	failures []Failure
	blocked  *Failure // set by Run when the loop goroutine is stuck
	stopped  string
	// Read by the hang watchdog, from another goroutine.
	progress  atomic.Uint64        // events executed
	running   atomic.Pointer[Proc] // the coroutine resumed last
	runningAt atomic.Int64         // virtual time it was resumed at
	abandoned atomic.Bool          // Run gave up on a stuck loop: stop if it comes back

	// Under SyncWallClock the loop asks Run's goroutine to sleep the wall
	// clock forward, which answers on the same channel (syncWallClock); Run
	// closes quit when it returns.
	advance chan time.Time
	quit    chan struct{}

	// Hosted code (goroutines of the bubble that are not coroutines) wakes
	// the World through interrupt; see Interrupt.
	interrupt   chan struct{}
	onInterrupt []func()
	onClose     []func()
}

// New returns a World at virtual time zero.
func New(seed uint64, limits Limits) *World {
	if limits.BlockTimeout == 0 {
		limits.BlockTimeout = 10 * time.Second
	}
	w := &World{seed: seed, streams: NewStreams(seed), limits: limits, procs: map[*Proc]struct{}{}}
	if limits.SyncWallClock {
		// Made here, inside the bubble, so that waiting on it is durable.
		w.interrupt = make(chan struct{}, 1)
	}
	return w
}

// Interrupt tells the World that hosted code has work for it (a request
// sent). It may be called from any goroutine of the bubble, while the World
// is idle, asleep between events or waiting in synctest.Wait: the World,
// sleeping the wall clock toward its next event, stops at the wall clock's
// instant and runs the OnInterrupt handlers there, as an event of that
// virtual time. Only under SyncWallClock; elsewhere it does nothing.
func (w *World) Interrupt() {
	if w.interrupt == nil {
		return
	}
	select {
	case w.interrupt <- struct{}{}:
	default: // one pending wake-up is enough
	}
}

// OnInterrupt registers fn to run (as an event) after Interrupt. Under
// SyncWallClock the World also runs it once whenever the wall clock reaches
// an event's time, after the hosted goroutines woken at that instant have
// settled (synctest.Wait), before the event: hosted timers and the World's
// events that fall on one instant are ordered the same way every run.
func (w *World) OnInterrupt(fn func()) { w.onInterrupt = append(w.onInterrupt, fn) }

// OnClose registers fn to run when the run ends (Close), before coroutines
// are killed: a host stops its hosted code there.
func (w *World) OnClose(fn func()) { w.onClose = append(w.onClose, fn) }

// SyncsWallClock reports whether the World runs with Limits.SyncWallClock.
func (w *World) SyncsWallClock() bool { return w.interrupt != nil }

// Hosting reports whether hosted code is registered (OnInterrupt).
func (w *World) Hosting() bool { return len(w.onInterrupt) > 0 }

func (w *World) runInterrupts() {
	for _, fn := range w.onInterrupt {
		fn()
	}
}

// Seed is the root seed.
func (w *World) Seed() uint64 { return w.seed }

// Elapsed is the virtual time since the start of the run.
func (w *World) Elapsed() time.Duration { return w.now }

// Now is the current virtual instant as a wall-clock time (Epoch + Elapsed).
func (w *World) Now() time.Time { return Epoch.Add(w.now) }

// Rand returns the named stream (see Streams).
func (w *World) Rand(name string) *rand.Rand { return w.streams.Get(name) }

// Events is the number of events executed so far.
func (w *World) Events() uint64 { return w.events }

// At schedules fn at virtual time t (or now, if t is in the past).
func (w *World) At(t time.Duration, fn func()) {
	if t < w.now {
		t = w.now
	}
	w.seq++
	w.queue.push(event{at: t, seq: w.seq, fn: fn})
}

// After schedules fn d after now.
func (w *World) After(d time.Duration, fn func()) { w.At(w.now+d, fn) }

// Stop ends the run after the current event.
func (w *World) Stop(reason string) {
	if w.stopped == "" {
		w.stopped = reason
	}
}

// Failures lists actor failures in the order they happened. After a Blocked
// run the stuck coroutine is the last one.
func (w *World) Failures() []Failure {
	if w.blocked != nil {
		return append(append([]Failure(nil), w.failures...), *w.blocked)
	}
	return w.failures
}

// Step executes the next event. It returns false when the queue is empty.
func (w *World) Step() bool {
	if w.queue.Len() == 0 {
		return false
	}
	e := w.queue.pop()
	w.now = e.at
	w.events++
	w.progress.Store(w.events)
	e.fn()
	return true
}

// RunUntil executes events up to and including virtual time t, then sets the
// clock to t. It is meant for tests that drive a World by hand.
func (w *World) RunUntil(t time.Duration) {
	for w.queue.Len() > 0 && w.queue.peek().at <= t && w.stopped == "" {
		w.Step()
	}
	if w.now < t {
		w.now = t
	}
}

// Run executes events until the queue drains, Stop is called, or a limit is
// passed. A coroutine that blocks outside the runtime ends the run with the
// verdict Blocked and a Failure naming it (its goroutine is abandoned).
func (w *World) Run() Outcome {
	if w.limits.SyncWallClock {
		if now := time.Now(); now.Before(bubbleStart) || now.After(w.Now()) {
			panic(fmt.Sprintf("sim: SyncWallClock needs a testing/synctest bubble whose clock has not passed %v: time.Now() is %v", w.Now(), now))
		}
		// Before the watchdog's ticker exists, or it would tick 25 years of
		// fake time.
		time.Sleep(time.Until(w.Now()))
		w.advance, w.quit = make(chan time.Time), make(chan struct{})
		defer close(w.quit)
	}
	done := make(chan Outcome, 1)
	go func() { done <- w.loop() }()
	// The watchdog looks at the wall clock only to notice a hang; a run that
	// does not hang ends through done and never depends on it.
	tick := time.NewTicker(w.limits.BlockTimeout / 4)
	defer tick.Stop()
	last, still := uint64(0), 0
	for {
		select {
		case out := <-done:
			return out
		case t := <-w.advance: // nil, never ready, unless SyncWallClock
			// This goroutine sleeps, not the loop's: a ticker nobody waits on
			// does not fire, so virtual time stays free of watchdog wake-ups.
			w.advance <- sleepUntil(t, w.interrupt)
			last, still = w.progress.Load(), 0
		case <-tick.C:
			p := w.progress.Load()
			if p != last {
				last, still = p, 0
				continue
			}
			if still++; still < 4 {
				continue
			}
			// The loop goroutine is stuck: read only what it published atomically.
			actor := "an event handler"
			if cur := w.running.Load(); cur != nil {
				actor = cur.name
			}
			now := time.Duration(w.runningAt.Load())
			f := Failure{Actor: actor, Kind: "blocked", Time: now, Seed: w.seed,
				Message: fmt.Sprintf("did not yield for %v of wall time: it blocked outside the runtime (a raw channel, mutex, goroutine or the wall clock)", w.limits.BlockTimeout)}
			w.blocked = &f
			w.abandoned.Store(true)
			return Outcome{Verdict: Blocked, Reason: f.Error(), Now: now, Events: w.progress.Load()}
		}
	}
}

func (w *World) loop() Outcome {
	defer w.Close()
	for {
		if w.abandoned.Load() {
			return Outcome{Verdict: Blocked}
		}
		if w.stopped != "" {
			return Outcome{Verdict: Stopped, Reason: w.stopped, Now: w.now, Events: w.events}
		}
		if w.queue.Len() == 0 && !w.Hosting() {
			return Outcome{Verdict: Idle, Now: w.now, Events: w.events}
		}
		if w.limits.MaxEvents > 0 && w.events >= w.limits.MaxEvents {
			return Outcome{Verdict: Runaway, Reason: fmt.Sprintf("more than %d events", w.limits.MaxEvents), Now: w.now, Events: w.events}
		}
		if w.queue.Len() > 0 && w.limits.MaxTime > 0 && w.queue.peek().at > w.limits.MaxTime {
			return Outcome{Verdict: Runaway, Reason: fmt.Sprintf("virtual time passed %v", w.limits.MaxTime), Now: w.now, Events: w.events}
		}
		if w.advance != nil {
			if !w.hostedStep() {
				return Outcome{Verdict: Blocked}
			}
			if w.queue.Len() == 0 {
				// Hosted code had nothing more to say before MaxTime (or,
				// without a limit, the World is idle).
				return Outcome{Verdict: Idle, Now: w.now, Events: w.events}
			}
			if w.queue.peek().at > w.now {
				continue // an interrupt handler ran and may have queued earlier events
			}
		}
		w.Step()
	}
}

// hostedStep moves the bubble's clock toward the next event (or, with an
// empty queue and hosted code, toward MaxTime). If hosted code interrupts
// on the way, the World's clock stops at that instant and the interrupt
// handlers run there. It reports false if Run has returned meanwhile.
func (w *World) hostedStep() bool {
	next := w.limits.MaxTime
	if w.queue.Len() > 0 {
		next = w.queue.peek().at
	} else if next == 0 {
		return true
	}
	if next > w.now {
		reached, ok := w.syncWallClock(next)
		if !ok {
			return false
		}
		if reached < next {
			w.now = reached
			w.interrupted()
			return true
		}
		w.now = next
	}
	if w.Hosting() {
		// Hosted timers due at this very instant fire with the World's own
		// wake-up; let them settle, then serve what they sent before the
		// World's event.
		synctest.Wait()
		select {
		case <-w.interrupt:
			w.interrupted()
		default:
		}
	}
	return true
}

// interrupted runs the interrupt handlers as one event at the current time.
func (w *World) interrupted() {
	select {
	case <-w.interrupt: // consumed: the handlers serve everything pending
	default:
	}
	w.events++
	w.progress.Store(w.events)
	w.runInterrupts()
}

// syncWallClock moves the bubble's clock to virtual time t, or less if
// hosted code interrupts: it returns the virtual time reached, and false if
// Run has returned meanwhile.
func (w *World) syncWallClock(t time.Duration) (time.Duration, bool) {
	wall := Epoch.Add(t)
	if t-w.now < w.limits.BlockTimeout/4 {
		// Shorter than the watchdog's tick: sleep here, the cheapest way
		// (at most one tick fires meanwhile, and an event runs between any
		// two, so the watchdog sees progress).
		return sleepUntil(wall, w.interrupt).Sub(Epoch), true
	}
	// Longer: Run's goroutine sleeps, so that its ticker, which nobody then
	// waits on, does not fire every tick of the gap.
	select {
	case w.advance <- wall:
	case <-w.quit:
		return 0, false
	}
	select {
	case reached := <-w.advance:
		return reached.Sub(Epoch), true
	case <-w.quit:
		return 0, false
	}
}

// sleepUntil sleeps the bubble's clock to wall, or until interrupt is ready
// (a nil channel never is), and returns the time reached. An interrupt's
// wake-up is put back for the loop, which serves it (interrupted, or right
// before the event when the interrupt came at the event's own instant).
func sleepUntil(wall time.Time, interrupt chan struct{}) time.Time {
	if interrupt == nil {
		time.Sleep(time.Until(wall))
		return wall
	}
	timer := time.NewTimer(time.Until(wall))
	defer timer.Stop()
	select {
	case <-timer.C:
		return wall
	case <-interrupt:
		select {
		case interrupt <- struct{}{}:
		default:
		}
		if now := time.Now(); now.Before(wall) {
			return now
		}
		return wall
	}
}

// Close ends every coroutine still parked, so that a finished run leaves no
// goroutines behind. Run calls it; tests that drive a World with Step call it
// themselves.
func (w *World) Close() {
	hooks := w.onClose
	w.onClose = nil
	for _, fn := range hooks {
		fn()
	}
	for len(w.procs) > 0 {
		// Kill in creation order so that deferred code in controllers runs in a
		// deterministic order.
		var oldest *Proc
		for p := range w.procs {
			if oldest == nil || p.id < oldest.id {
				oldest = p
			}
		}
		oldest.kill()
	}
}
