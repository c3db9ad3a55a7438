package sim

import (
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"time"
)

// ErrNotInProc is the panic value of a blocking primitive called outside a
// coroutine: from an event handler, an informer handler or a raw goroutine.
var ErrNotInProc = errors.New("sim: blocking call outside a coroutine (event handlers must not block; start a coroutine with Go)")

// errKilled unwinds a coroutine whose group was stopped.
var errKilled = errors.New("sim: coroutine killed")

// Group is a set of coroutines that live and die together: one controller, with
// its workers and the children of its Parallel calls. When one of them panics,
// the whole group stops and the World records a Failure naming the group.
type Group struct {
	Name   string
	w      *World
	procs  []*Proc // the live ones (finished ones leave, so long runs do not accumulate them)
	failed bool
	halted bool          // Halt was called: a crash injected from outside, not a failure
	frozen time.Duration // until then, no coroutine of the group runs (Freeze)
	onFail []func(Failure)
	onHalt []func()
}

// NewGroup returns an empty group of coroutines.
func (w *World) NewGroup(name string) *Group { return &Group{Name: name, w: w} }

// Failed reports whether a coroutine of the group panicked.
func (g *Group) Failed() bool { return g.failed }

// Halt kills every coroutine of the group without recording a failure: the
// process was killed from outside (a crash fault). Coroutines started later
// do not run.
func (g *Group) Halt() {
	g.halted = true
	hooks := g.onHalt
	g.onHalt = nil
	for _, fn := range hooks {
		fn()
	}
	for _, q := range append([]*Proc(nil), g.procs...) {
		q.kill()
	}
}

// Freeze stalls the group until the virtual time until: a coroutine due to
// run before then waits until then (a stalled process: a long GC pause, a
// starved CPU). Events delivered to the group's handlers still arrive.
func (g *Group) Freeze(until time.Duration) { g.frozen = max(g.frozen, until) }

// FrozenUntil is the virtual time a Freeze lasts until (zero if never frozen).
func (g *Group) FrozenUntil() time.Duration { return g.frozen }

// OnHalt registers fn to run when the group is halted (a host stops the
// goroutines it runs outside the World's coroutines there).
func (g *Group) OnHalt(fn func()) { g.onHalt = append(g.onHalt, fn) }

// Dead reports whether the group has stopped: it failed or was halted.
func (g *Group) Dead() bool { return g.failed || g.halted }

// OnFailure registers fn to run (as an event handler) when the group fails.
func (g *Group) OnFailure(fn func(Failure)) { g.onFail = append(g.onFail, fn) }

// Proc is one coroutine: a goroutine that runs only while the engine has
// resumed it, and hands control back whenever it calls a blocking primitive.
type Proc struct {
	id    uint64
	name  string
	group *Group
	slot  int // index in group.procs while live
	body  func()
	next  func() (struct{}, bool)
	stop  func()
	yield func(struct{}) bool

	started, done, killed bool
	panicked              *Failure
}

// Name is the coroutine's name, "<group>/<name>".
func (p *Proc) Name() string { return p.name }

// Go starts fn as a coroutine of the group at the current virtual time (as a
// new event: it never runs inside the caller).
func (g *Group) Go(name string, fn func()) *Proc {
	w := g.w
	w.seq++
	p := &Proc{id: w.seq, name: g.Name + "/" + name, group: g, body: fn}
	if g.Dead() {
		return p
	}
	p.slot = len(g.procs)
	g.procs = append(g.procs, p)
	w.procs[p] = struct{}{}
	w.At(w.now, func() { w.resume(p) })
	return p
}

// Current is the coroutine the engine is running, or nil inside an event handler.
func (w *World) Current() *Proc { return w.current }

// InProc reports whether the caller runs inside a coroutine (and may block).
func (w *World) InProc() bool { return w.current != nil }

func (p *Proc) start() {
	seq := func(yield func(struct{}) bool) {
		p.yield = yield
		defer func() {
			if r := recover(); r != nil && r != errKilled {
				p.panicked = &Failure{Kind: "panic", Message: fmt.Sprint(r), Stack: string(debug.Stack())}
			}
		}()
		p.body()
	}
	p.next, p.stop = iter.Pull(seq)
	p.started = true
}

// resume runs p until it blocks again or returns.
func (w *World) resume(p *Proc) {
	if p.done || p.killed {
		return
	}
	if f := p.group.frozen; f > w.now {
		w.At(f, func() { w.resume(p) })
		return
	}
	if !p.started {
		p.start()
	}
	w.current = p
	w.running.Store(p)
	w.runningAt.Store(int64(w.now))
	_, more := p.next()
	w.running.Store(nil)
	w.current = nil
	if !more {
		w.finish(p)
	}
	if f := p.panicked; f != nil {
		p.panicked = nil
		f.Actor, f.Time, f.Seed = p.group.Name, w.now, w.seed
		w.failGroup(p.group, *f)
	}
}

func (w *World) finish(p *Proc) {
	p.done = true
	delete(w.procs, p)
	p.group.remove(p)
}

// remove takes a finished coroutine out of its group (swap with the last).
func (g *Group) remove(p *Proc) {
	i := p.slot
	if i < 0 || i >= len(g.procs) || g.procs[i] != p {
		return
	}
	last := len(g.procs) - 1
	g.procs[i] = g.procs[last]
	g.procs[i].slot = i
	g.procs[last] = nil
	g.procs = g.procs[:last]
	p.slot = -1
}

func (w *World) failGroup(g *Group, f Failure) {
	if g.failed {
		return
	}
	g.failed = true
	w.failures = append(w.failures, f)
	for _, q := range append([]*Proc(nil), g.procs...) {
		q.kill()
	}
	for _, fn := range g.onFail {
		fn(f)
	}
}

// Fail records a failure of the group as if one of its coroutines had panicked:
// for panics in informer event handlers, which run outside coroutines.
func (g *Group) Fail(message, stack string) {
	w := g.w
	w.failGroup(g, Failure{Actor: g.Name, Kind: "panic", Time: w.now, Seed: w.seed, Message: message, Stack: stack})
}

// kill unwinds a parked coroutine: its pending primitive panics with errKilled,
// deferred calls run, and the goroutine ends.
func (p *Proc) kill() {
	if p.done {
		return
	}
	p.killed = true
	if p.started && p.stop != nil {
		p.stop()
	}
	p.done = true
	delete(p.group.w.procs, p)
	p.group.remove(p)
}

// Park hands control back to the engine until someone calls Wake. It is the
// one primitive every blocking call is built on.
func (w *World) Park() {
	p := w.current
	if p == nil {
		panic(ErrNotInProc)
	}
	if p.killed || !p.yield(struct{}{}) {
		panic(errKilled)
	}
}

// Wake schedules p to continue at the current virtual time.
func (w *World) Wake(p *Proc) { w.At(w.now, func() { w.resume(p) }) }
