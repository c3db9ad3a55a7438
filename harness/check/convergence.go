// Package check judges a run: whether the controllers converged to what the
// workload asked for (and stayed there), and, as later checks join it, whether
// the history is linearizable and the safety invariants held.
package check

import (
	"fmt"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"k8s.io/apimachinery/pkg/watch"
)

// Verdict of a check.
type Verdict string

// Verdicts.
const (
	Pass    Verdict = "pass"
	Fail    Verdict = "fail"
	Unknown Verdict = "unknown" // the check could not conclude (out of budget)
)

// Result is the outcome of one check.
type Result struct {
	Check   string  `json:"check"`
	Verdict Verdict `json:"verdict"`
	// For a failure: the first violation and its virtual time.
	Message string `json:"message,omitempty"`
	At      string `json:"at,omitempty"`
}

// Predicate says whether the cluster is in the desired state and, if not, why.
// It sees every committed change (Observe, in commit order, from the start of
// the run) and keeps whatever it needs, so that asking (Holds) is cheap: the
// check asks after every instant with a commit.
type Predicate interface {
	Observe(ev apiserver.Event)
	Holds() (ok bool, why string)
}

// GroundTruth is a Predicate that reads the server's objects each time it is
// asked: simple, and fine for small runs and tests (it costs O(objects)).
type GroundTruth struct {
	API  *apiserver.Server
	Func func(api *apiserver.Server) (bool, string)
}

// Observe does nothing: the ground truth is read when asked.
func (GroundTruth) Observe(apiserver.Event) {}

// Holds reads the objects.
func (g GroundTruth) Holds() (bool, string) { return g.Func(g.API) }

// Convergence checks eventually stable reconciliation: after the last
// disturbance the predicate must hold within a bound and then keep holding for
// a stability window. It is evaluated once per instant at which something was
// committed, so its cost grows with writes, not with virtual time.
type Convergence struct {
	w         *sim.World
	api       *apiserver.Server
	pred      Predicate
	after     time.Duration // the last disturbance
	within    time.Duration
	stable    time.Duration
	holding   bool
	since     time.Duration
	pending   bool
	lastWhy   string
	done      bool
	onDone    func()
	result    Result
	latency   time.Duration
	converged bool
}

// WatchConvergence prepares the check: the predicate sees every commit from
// now on. The check itself starts when Begin is called, at the last
// disturbance. onDone runs once a verdict is reached.
func WatchConvergence(api *apiserver.Server, pred Predicate, within, stable time.Duration, onDone func()) *Convergence {
	c := &Convergence{w: api.World(), api: api, pred: pred, within: within, stable: stable, onDone: onDone, after: -1,
		result: Result{Check: "convergence", Verdict: Unknown, Message: "the run ended before the check concluded"}}
	// What is stored already (the cluster's nodes) is seen as added.
	for _, kind := range apiserver.Kinds {
		for _, obj := range api.Objects(kind) {
			key := obj.GetName()
			if ns := obj.GetNamespace(); ns != "" {
				key = ns + "/" + key
			}
			pred.Observe(apiserver.Event{Type: watch.Added, Kind: kind, Object: obj, Key: key})
		}
	}
	api.OnCommit(func(ev apiserver.Event) {
		pred.Observe(ev)
		c.schedule()
	})
	return c
}

// Begin marks the last disturbance (the last step done, the last fault
// healed): from now the state must converge within the bound and stay.
func (c *Convergence) Begin() {
	if c.after >= 0 {
		return
	}
	c.after = c.w.Elapsed()
	c.evaluate()
	c.w.At(c.after+c.within, c.deadline)
}

func (c *Convergence) schedule() {
	if c.done || c.pending || c.after < 0 {
		return
	}
	c.pending = true
	c.w.At(c.w.Elapsed(), c.evaluate)
}

func (c *Convergence) evaluate() {
	c.pending = false
	if c.done {
		return
	}
	ok, why := c.pred.Holds()
	switch {
	case ok && !c.holding:
		c.holding, c.since = true, c.w.Elapsed()
		since := c.since
		c.w.At(since+c.stable, func() {
			if !c.done && c.holding && c.since == since {
				c.finish(Result{Check: "convergence", Verdict: Pass})
				c.converged, c.latency = true, since-c.after
			}
		})
	case !ok:
		c.holding, c.lastWhy = false, why
	}
}

func (c *Convergence) deadline() {
	if c.done || c.holding {
		return // holding: the stability timer decides
	}
	c.finish(Result{Check: "convergence", Verdict: Fail, At: c.w.Elapsed().String(),
		Message: fmt.Sprintf("not converged %v after the last disturbance: %s", c.within, c.lastWhy)})
}

func (c *Convergence) finish(r Result) {
	c.done, c.result = true, r
	if c.onDone != nil {
		c.onDone()
	}
}

// Result is the verdict so far (Unknown until concluded).
func (c *Convergence) Result() Result { return c.result }

// Latency is how long after the last disturbance the state converged (the
// start of the stable window), and whether it did.
func (c *Convergence) Latency() (time.Duration, bool) { return c.latency, c.converged }
