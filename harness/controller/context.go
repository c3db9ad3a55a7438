package controller

import (
	"math/rand/v2"
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
	w := api.World()
	c := &Context{name: name, w: w, api: api, group: w.NewGroup(name), rand: w.Rand("controller/" + name),
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

// guard runs an event handler of this controller, turning a panic into a
// failure of the controller instead of a crash of the harness.
func (c *Context) guard(fn func()) {
	if c.group.Failed() {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.group.Fail(panicMessage(r), stack())
		}
	}()
	fn()
}
