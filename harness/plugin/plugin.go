// Package plugin holds the types a controller plugs into the harness with: a
// Strategy is a named set of controller processes, a Controller one of them.
// The built-in strategies live in package models (models.Lookup); a run
// takes any Strategy, registered or not.
package plugin

import (
	"slices"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/trace"
)

// Strategy is a named choice of controller implementations.
type Strategy struct {
	Name    string
	Summary string
	// Kinds are the kinds of object the strategy's controllers reconcile.
	Kinds []apiserver.Kind
	// Controllers are the processes the strategy runs, each started in a
	// Context of its own so that the harness can crash, restart or duplicate
	// one (fault injection).
	Controllers []Controller
	// Predicate, when set, makes a new "current state matches desired"
	// predicate for a run: the convergence check wants it to hold too,
	// beside the built-in ones of every kind.
	Predicate func() check.Predicate
	// Invariant, when set, makes a new safety check for a run: it sees every
	// committed write, and the first error it returns fails the run's
	// invariants check, with its virtual time.
	Invariant func() func(apiserver.Event) error
	// WallClock says its controllers read the process's wall clock (hosted
	// upstream code): runs put the whole simulation inside a
	// testing/synctest bubble with sim's SyncWallClock, so that the wall
	// clock is virtual time.
	WallClock bool
}

// Controller is one controller process of a strategy.
type Controller struct {
	// Name is the controller's client name in the history and in failures.
	Name string
	// Kinds are the kinds it reconciles (fault plans name controllers by
	// kind: crash-controller: rs).
	Kinds []apiserver.Kind
	// Run starts the controller's workers in ctx and returns. Decisions go to
	// tr (may be nil).
	Run func(ctx *controller.Context, tr *trace.Recorder)
}

// Start runs every controller of the strategy on the API server, each in a
// new Context, and returns the contexts in the order of Controllers.
func (s Strategy) Start(api *apiserver.Server, tr *trace.Recorder) []*controller.Context {
	out := make([]*controller.Context, len(s.Controllers))
	for i, c := range s.Controllers {
		out[i] = controller.NewContext(c.Name, api)
		c.Run(out[i], tr)
	}
	return out
}

// With is the strategy with c in place of the controllers that run any of
// c's kinds (a model under test swapped into a strategy), or with c added.
// c takes the place of the first one it replaces, so that the others start
// in the same order as before (and histories stay comparable).
func (s Strategy) With(c Controller) Strategy {
	out := s
	out.Controllers = nil
	placed := false
	for _, x := range s.Controllers {
		if !slices.ContainsFunc(x.Kinds, func(k apiserver.Kind) bool { return slices.Contains(c.Kinds, k) }) {
			out.Controllers = append(out.Controllers, x)
		} else if !placed {
			out.Controllers = append(out.Controllers, c)
			placed = true
		}
	}
	if !placed {
		out.Controllers = append(out.Controllers, c)
	}
	out.Kinds = slices.Clone(s.Kinds)
	for _, k := range c.Kinds {
		if !slices.Contains(out.Kinds, k) {
			out.Kinds = append(out.Kinds, k)
		}
	}
	return out
}

// Controller finds a controller of the strategy by name.
func (s Strategy) Controller(name string) (Controller, bool) {
	for _, c := range s.Controllers {
		if c.Name == name {
			return c, true
		}
	}
	return Controller{}, false
}

// NeedsController lists the kinds whose objects do nothing without a
// controller: a scenario with such an object needs a strategy that runs one.
var NeedsController = []apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.Deployments,
	apiserver.StatefulSets, apiserver.DaemonSets, apiserver.HorizontalPodAutoscalers}

// Missing reports the first kind in objs that needs a controller the strategy
// does not run, and the object's name.
func (s Strategy) Missing(objs []apiserver.Object) (apiserver.Kind, string, bool) {
	for _, o := range objs {
		k := apiserver.KindOf(o)
		if slices.Contains(NeedsController, k) && !slices.Contains(s.Kinds, k) {
			return k, o.GetName(), true
		}
	}
	return "", "", false
}

// ModelOptions are the options of a model: a strategy's context and run decide
// the name its process runs under and the trace it records decisions in.
type ModelOptions[O any] interface {
	*O
	SetProcess(name string, tr *trace.Recorder)
}

// Run is a model as a strategy's controller (Controller.Run): start runs a
// controller with opts in the strategy's context, named after it, recording
// its decisions in the run's trace.
func Run[O any, P ModelOptions[O], C any](opts O, start func(*controller.Context, O) C) func(*controller.Context, *trace.Recorder) {
	return func(ctx *controller.Context, tr *trace.Recorder) {
		o := opts
		P(&o).SetProcess(ctx.Name(), tr)
		start(ctx, o)
	}
}
