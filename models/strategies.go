package models

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/ctrlsim/ctrlsim/models/hpa"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/ctrlsim/ctrlsim/models/statefulset"
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

var registry = map[string]Strategy{}

// Register adds a strategy. Names are unique; registering one twice panics.
func Register(s Strategy) {
	if _, dup := registry[s.Name]; dup {
		panic("models: strategy registered twice: " + s.Name)
	}
	registry[s.Name] = s
}

// Lookup finds a strategy by name.
func Lookup(name string) (Strategy, error) {
	if s, ok := registry[name]; ok {
		return s, nil
	}
	return Strategy{}, fmt.Errorf("unknown strategy %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the registered strategies in order.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// choices are the options a strategy gives each model; a strategy varies
// one model and runs the others as upstream does.
type choices struct {
	rs  replicaset.Options
	dep deployment.Options
	sts statefulset.Options
	ds  daemonset.Options
	hpa hpa.Options
}

// bundle is a strategy running every model with the given options: the
// ReplicaSet and ReplicationController controllers (one algorithm, two
// kinds, as upstream), the Deployment, StatefulSet, DaemonSet and
// HorizontalPodAutoscaler controllers.
func bundle(name, summary string, o choices) Strategy {
	rs := func(kind apiserver.Kind) func(*controller.Context, *trace.Recorder) {
		return func(ctx *controller.Context, tr *trace.Recorder) {
			x := o.rs
			x.Name, x.Kind, x.Trace = ctx.Name(), kind, tr
			replicaset.StartWithContext(ctx, x)
		}
	}
	return Strategy{Name: name, Summary: summary,
		Kinds: []apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.Deployments, apiserver.StatefulSets,
			apiserver.DaemonSets, apiserver.HorizontalPodAutoscalers},
		Controllers: []Controller{
			{Name: name, Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: rs(apiserver.ReplicaSets)},
			{Name: name + "/rc", Kinds: []apiserver.Kind{apiserver.ReplicationControllers}, Run: rs(apiserver.ReplicationControllers)},
			{Name: name + "/deploy", Kinds: []apiserver.Kind{apiserver.Deployments}, Run: func(ctx *controller.Context, tr *trace.Recorder) {
				x := o.dep
				x.Name, x.Trace = ctx.Name(), tr
				deployment.StartWithContext(ctx, x)
			}},
			{Name: name + "/sts", Kinds: []apiserver.Kind{apiserver.StatefulSets}, Run: func(ctx *controller.Context, tr *trace.Recorder) {
				x := o.sts
				x.Name, x.Trace = ctx.Name(), tr
				statefulset.StartWithContext(ctx, x)
			}},
			{Name: name + "/ds", Kinds: []apiserver.Kind{apiserver.DaemonSets}, Run: func(ctx *controller.Context, tr *trace.Recorder) {
				x := o.ds
				x.Name, x.Trace = ctx.Name(), tr
				daemonset.StartWithContext(ctx, x)
			}},
			{Name: name + "/hpa", Kinds: []apiserver.Kind{apiserver.HorizontalPodAutoscalers}, Run: func(ctx *controller.Context, tr *trace.Recorder) {
				x := o.hpa
				x.Name = ctx.Name() // its decisions are not scale-down rankings: no trace
				hpa.StartWithContext(ctx, x)
			}},
		}}
}

func init() {
	rs := func(name, summary string, opts replicaset.Options) {
		Register(bundle(name, summary, choices{rs: opts}))
	}
	rs("upstream", "every controller as upstream v1.36 runs it", replicaset.Options{})
	rs("naive", "ReplicaSets without expectations and consistency check: every sync trusts a possibly stale cache", replicaset.Options{NoExpectations: true, NoConsistencyCheck: true})
	rs("pre-1.36", "ReplicaSets as upstream without v1.36's stale-cache consistency check (expectations only)", replicaset.Options{NoConsistencyCheck: true})
	rs("linear-age", "ReplicaSets scale down with the pre-1.22 ranking: exact ready and creation times, no log2 buckets", replicaset.Options{ScaleDown: replicaset.LinearAge})
	rs("random", "ReplicaSets scale down by deleting pods chosen at random", replicaset.Options{ScaleDown: replicaset.Random})
	rs("oldest-first", "ReplicaSets scale down by deleting the oldest pods first", replicaset.Options{ScaleDown: replicaset.OldestFirst})
	rs("newest-first", "ReplicaSets scale down by deleting the newest pods first, ignoring readiness and placement", replicaset.Options{ScaleDown: replicaset.NewestFirst})
	rs("no-slow-start", "ReplicaSets create all missing pods at once instead of in batches of 1, 2, 4, …", replicaset.Options{NoSlowStart: true})
	rs("burst-50", "ReplicaSets create or delete at most 50 pods per sync instead of 500", replicaset.Options{BurstReplicas: 50})
	Register(bundle("deploy-newest-only", "Deployments: a scaling event mid-rollout goes all to the newest ReplicaSet, not proportionally",
		choices{dep: deployment.Options{ScaleNewestOnly: true}}))
	Register(bundle("deploy-scale-down-first", "Deployments: a rolling update scales the old ReplicaSets down before the new one up",
		choices{dep: deployment.Options{ScaleDownFirst: true}}))
	for _, v := range statefulset.Variants {
		Register(bundle("sts-"+strings.TrimPrefix(v.Name, "sts-"), "StatefulSets: "+v.Summary, choices{sts: v.Options}))
	}
	for _, v := range hpa.Variants {
		if v.Name != "upstream" {
			Register(bundle("hpa-"+v.Name, "HorizontalPodAutoscalers: "+v.Summary, choices{hpa: v.Options}))
		}
	}
	for _, v := range daemonset.Variants {
		Register(bundle("ds-"+v.Name, "DaemonSets: "+v.Summary, choices{ds: v.Options}))
	}
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
