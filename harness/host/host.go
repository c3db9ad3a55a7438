package host

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"sync"
	"testing/synctest"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Main is a hosted controller's program: what its main function does once it
// has a *rest.Config. It builds clients and informers from config, starts its
// controllers, and returns when ctx is done.
type Main func(ctx context.Context, config *rest.Config) error

// Controller is a controller of a strategy that runs main under the
// simulation: kinds are the kinds it manages (as plugin.Controller's).
// Strategies with hosted controllers set plugin.Strategy.WallClock.
func Controller(name string, kinds []apiserver.Kind, main Main) plugin.Controller {
	return plugin.Controller{Name: name, Kinds: kinds, Run: func(ctx *controller.Context, _ *trace.Recorder) { Start(ctx, main) }}
}

// Host runs one instance of a hosted controller. The World's goroutine and
// the hosted goroutines never run at once: hosted code runs only while the
// World waits for it (synctest.Wait after each delivery, or while the World
// sleeps the bubble's clock toward its next event), and its requests wait in
// pending until then.
type Host struct {
	ctx    *controller.Context
	w      *sim.World
	api    *apiserver.Server
	cancel context.CancelFunc

	mu       sync.Mutex // pending, failures and closed: hosted goroutines write them
	pending  []*call
	failures []failure
	closed   bool

	// The World's side only.
	streams  []*stream
	inflight []*call  // sent to the API server, not yet answered
	held     []func() // deliveries held while the controller is stalled
	holding  bool
	stopped  bool
}

// call is one request of hosted code waiting for the World.
type call struct {
	rc   *restCall
	hr   *http.Request
	done chan *http.Response // buffered: a late answer never blocks
	st   *stream             // a watch's body
	stop *stream             // set instead of rc: close this watch
}

type failure struct{ message, stack string }

// Start runs main for the controller of ctx. The World must sync the wall
// clock (a strategy with WallClock): hosted code reads time.Now.
func Start(ctx *controller.Context, main Main) *Host {
	w := ctx.World()
	if !w.SyncsWallClock() {
		panic(fmt.Sprintf("host: controller %s runs hosted code, which needs the World to sync the wall clock: set plugin.Strategy.WallClock", ctx.Name()))
	}
	installHooks()
	h := &Host{ctx: ctx, w: w, api: ctx.API()}
	w.OnInterrupt(h.settle)
	w.OnClose(h.close)
	ctx.Group().OnHalt(h.close)
	// Hosted code logs through the context's logger (klog.FromContext):
	// quiet, as a run's output is its results. Code that logs through
	// klog's globals is the binary's to silence (see models/kcm).
	hctx, cancel := context.WithCancel(klog.NewContext(context.WithValue(context.Background(), hostKey{}, h), logr.Discard()))
	h.cancel = cancel
	config := &rest.Config{
		Host:      "https://ctrlsim.invalid",
		Transport: h,
		UserAgent: ctx.Name(),
		// kube-controller-manager's defaults; the limiter waits in virtual time.
		QPS: 50, Burst: 100,
		ContentConfig: rest.ContentConfig{ContentType: "application/json", AcceptContentTypes: "application/json"},
	}
	w.At(w.Elapsed(), func() {
		go h.runMain(hctx, main, config)
		h.settle()
	})
	return h
}

// hostKey marks a hosted context, so that a panic handler finds its host.
type hostKey struct{}

func (h *Host) runMain(ctx context.Context, main Main, config *rest.Config) {
	defer func() {
		if r := recover(); r != nil {
			h.fail(fmt.Sprintf("panic: %v", r), string(debug.Stack()))
		}
	}()
	if err := main(ctx, config); err != nil && ctx.Err() == nil {
		h.fail(fmt.Sprintf("its main returned: %v", err), "")
	}
}

// fail records a failure of hosted code; the World reports it the next time
// hosted code settles. Any goroutine may call it.
func (h *Host) fail(message, stack string) {
	h.mu.Lock()
	h.failures = append(h.failures, failure{message, stack})
	h.mu.Unlock()
	h.w.Interrupt()
}

// RoundTrip is the hosted clients' transport: the simulated API server.
func (h *Host) RoundTrip(hr *http.Request) (*http.Response, error) {
	rc := decodeRequest(hr, h.ctx.Name())
	if rc.now != nil {
		return rc.now, nil
	}
	c := &call{rc: rc, hr: hr, done: make(chan *http.Response, 1)}
	if rc.watch != nil {
		c.st = newStream(h, hr.Context())
	}
	if !h.enqueue(c) {
		// An answer, not a transport error: client-go retries those.
		return errorResponse(hr, errHostStopped), nil
	}
	select {
	case resp := <-c.done:
		return resp, nil
	case <-hr.Context().Done():
		return nil, hr.Context().Err()
	}
}

var errHostStopped = apierrors.NewServiceUnavailable("the controller was stopped (ctrlsim host)")

func (h *Host) enqueue(c *call) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.pending = append(h.pending, c)
	h.mu.Unlock()
	h.w.Interrupt()
	return true
}

// settle lets hosted code run until every hosted goroutine is blocked, then
// serves what it asked for. The World calls it after each delivery and on
// every interrupt.
func (h *Host) settle() {
	synctest.Wait()
	h.reseed()
	h.mu.Lock()
	calls, fails := h.pending, h.failures
	h.pending, h.failures = nil, nil
	h.mu.Unlock()
	if len(fails) > 0 && !h.stopped {
		f := fails[0]
		h.ctx.Group().Fail(f.message, f.stack)
		h.close()
	}
	if len(calls) == 0 {
		return
	}
	if h.stopped {
		return
	}
	if until := h.ctx.Group().FrozenUntil(); until > h.w.Elapsed() {
		// A stalled process sends nothing until it wakes.
		h.mu.Lock()
		h.pending = append(calls, h.pending...)
		h.mu.Unlock()
		h.w.At(until, h.settle)
		return
	}
	// The order hosted goroutines happened to send in is not the World's:
	// serve in the order of what was asked.
	slices.SortStableFunc(calls, func(a, b *call) int { return cmp.Compare(a.key(), b.key()) })
	for _, c := range calls {
		h.serve(c)
	}
}

// reseed makes the draws hosted code takes from math/rand's global
// functions until it next settles a function of where the run is. Hosted
// code draws from them (jittered retries: retry.DefaultBackoff,
// wait.Jitter; a reflector's watch timeout), and how many draws a wind-down
// or a select between ready cases takes depends on scheduling: one draw
// more anywhere would shift every later one. Reseeding at every settle
// confines such a difference to the instant it happened at, where it only
// reaches what the World does not see.
func (h *Host) reseed() {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], h.w.Seed())
	binary.LittleEndian.PutUint64(b[8:], uint64(h.w.Elapsed()))
	binary.LittleEndian.PutUint64(b[16:], h.w.Events())
	f := fnv.New64a()
	f.Write(b[:])
	io.WriteString(f, h.ctx.Name())
	SeedGlobalRand(f.Sum64())
}

func (c *call) key() string {
	if c.stop != nil {
		return "~stop " + c.stop.key
	}
	return c.rc.key
}

func (h *Host) serve(c *call) {
	switch {
	case c.stop != nil:
		if wt := c.stop.wt; wt != nil {
			wt.Stop()
		}
	case c.rc.watch != nil:
		h.openWatch(c)
	case c.rc.local != nil:
		resp := c.rc.local(h.api)
		h.deliver(func() { c.done <- resp })
	default:
		h.inflight = append(h.inflight, c)
		h.api.Do(c.rc.req, func(resp *apiserver.Response) {
			h.inflight = slices.DeleteFunc(h.inflight, func(x *call) bool { return x == c })
			h.deliver(func() { c.done <- encodeResponse(c.hr, c.rc.req, resp) })
		})
	}
}

// deliver hands something to hosted code and lets it run. While the
// controller is stalled (a fault) deliveries wait, in order.
func (h *Host) deliver(fn func()) {
	if h.stopped {
		return
	}
	if h.holding {
		h.held = append(h.held, fn)
		return
	}
	if until := h.ctx.Group().FrozenUntil(); until > h.w.Elapsed() {
		h.held, h.holding = append(h.held, fn), true
		h.w.At(until, h.release)
		return
	}
	fn()
	h.settle()
}

func (h *Host) release() {
	if until := h.ctx.Group().FrozenUntil(); until > h.w.Elapsed() {
		h.w.At(until, h.release) // stalled again meanwhile
		return
	}
	held := h.held
	h.held, h.holding = nil, false
	for _, fn := range held {
		h.deliver(fn)
	}
}

// close stops the hosted controller: its context is canceled, its watches
// end, and its requests fail from now on. Hosted goroutines then have until
// the end of the bubble to return.
func (h *Host) close() {
	if h.stopped {
		return
	}
	h.stopped = true
	h.mu.Lock()
	h.closed = true
	calls := h.pending
	h.pending = nil
	h.mu.Unlock()
	h.cancel()
	for _, st := range h.streams {
		st.end()
		if st.wt != nil {
			st.wt.Stop()
		}
	}
	// Requests still waiting get an error, in-flight ones included: hosted
	// code often sends with context.TODO(), which no cancel reaches, and a
	// goroutine left waiting would keep the bubble from ending. (Nothing of
	// this instance reaches the simulation any more: it is dead.)
	for _, c := range append(calls, h.inflight...) {
		if c.done != nil {
			c.done <- errorResponse(c.hr, errHostStopped)
		}
	}
	h.inflight = nil
	// Let the dead instance wind down now, while the World waits, rather
	// than at some later instant alongside the living.
	synctest.Wait()
}
