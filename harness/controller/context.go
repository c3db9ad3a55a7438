package controller

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
)

// Context is what one controller sees of the harness. Everything a controller
// does goes through it, so that the engine decides every interleaving.
type Context struct {
	name      string
	w         *sim.World
	api       *apiserver.Server
	group     *sim.Group
	rand      *rand.Rand
	informers map[apiserver.Kind]*Informer
	watchers  []*apiserver.Watcher // opened by hosted code (package host)
	client    *Client
	// Skew is added to Now: a controller whose clock is off (a fault).
	Skew time.Duration
	// WatchDelay, when set, is this controller's watch delay instead of the
	// server's (a stale informer cache).
	WatchDelay *apiserver.Dist
}

// NewContext returns the context of a controller named name. Start its
// workers with Go.
func NewContext(name string, api *apiserver.Server) *Context {
	return NewContextWithStream(name, api, name)
}

// NewContextWithStream is NewContext with the random stream named stream
// instead of after the controller: a restarted controller keeps its client
// name but draws new numbers.
func NewContextWithStream(name string, api *apiserver.Server, stream string) *Context {
	w := api.World()
	c := &Context{name: name, w: w, api: api, group: w.NewGroup(name), rand: w.Rand("controller/" + stream),
		informers: map[apiserver.Kind]*Informer{}}
	c.client = &Client{ctx: c, name: name}
	return c
}

// Name is the controller's name, as it appears in the history and in failures.
func (c *Context) Name() string { return c.name }

// World is the simulation the controller runs in.
func (c *Context) World() *sim.World { return c.w }

// API is the simulated API server (for actors that use its asynchronous form).
func (c *Context) API() *apiserver.Server { return c.api }

// Client is the controller's blocking API client.
func (c *Context) Client() *Client { return c.client }

// Now is the controller's view of the current time.
func (c *Context) Now() time.Time { return c.w.Now().Add(c.Skew) }

// Rand is the controller's own random stream: its numbers do not depend on
// what any other actor draws.
func (c *Context) Rand() *rand.Rand { return c.rand }

// Go starts fn as a coroutine of this controller (a worker).
func (c *Context) Go(name string, fn func()) { c.group.Go(name, fn) }

// Sleep waits d of virtual time.
func (c *Context) Sleep(d time.Duration) { c.w.Sleep(d) }

// Parallel runs fn(0..n-1) concurrently as coroutines and waits for all.
func (c *Context) Parallel(n int, fn func(i int)) { c.w.Parallel(n, fn) }

// Failed reports whether the controller panicked (and was stopped).
func (c *Context) Failed() bool { return c.group.Failed() }

// Kill stops the controller as a crash of its process would: its coroutines
// end where they are, its watches close, and nothing it held in memory
// (caches, queues, expectations) survives. It is not a failure of the
// controller. Start a new instance in a new Context to restart it.
func (c *Context) Kill() {
	c.group.Halt()
	for _, wt := range c.Watchers() {
		wt.Stop()
	}
}

// AddWatcher makes a watch opened outside the context's informers (by hosted
// code, through package host) the controller's: faults that delay or drop a
// controller's watches reach it, and Kill stops it.
func (c *Context) AddWatcher(wt *apiserver.Watcher) {
	c.watchers = slices.DeleteFunc(c.watchers, (*apiserver.Watcher).Closed)
	c.watchers = append(c.watchers, wt)
}

// Watchers are the controller's open watches: its informers', in kind
// order, then those added with AddWatcher, in the order they were opened.
func (c *Context) Watchers() []*apiserver.Watcher {
	var out []*apiserver.Watcher
	for _, kind := range sortedKinds(c.informers) {
		if wt := c.informers[kind].watch; wt != nil && !wt.Closed() {
			out = append(out, wt)
		}
	}
	for _, wt := range c.watchers {
		if !wt.Closed() {
			out = append(out, wt)
		}
	}
	return out
}

// Group is the controller's coroutines (to stall them: a fault).
func (c *Context) Group() *sim.Group { return c.group }

// Dead reports whether the controller was killed or failed.
func (c *Context) Dead() bool { return c.group.Dead() }

// Informers are the controller's informers, in kind order (for fault
// injection: a watch delay reaches their watches).
func (c *Context) Informers() []*Informer {
	out := make([]*Informer, 0, len(c.informers))
	for _, k := range sortedKinds(c.informers) {
		out = append(out, c.informers[k])
	}
	return out
}

func sortedKinds(m map[apiserver.Kind]*Informer) []apiserver.Kind {
	out := make([]apiserver.Kind, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// guard runs an event handler of this controller, turning a panic into a
// failure of the controller instead of a crash of the harness.
func (c *Context) guard(fn func()) {
	if c.group.Dead() {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.group.Fail(panicMessage(r), stack())
		}
	}()
	fn()
}
