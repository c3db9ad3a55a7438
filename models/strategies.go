// Package models holds the controllers under test and the named strategies a
// run can pick from. A strategy says which implementation runs each kind of
// controller; models without a named alternative run as upstream does.
package models

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
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

// replicaSetStrategy runs the ReplicaSet and ReplicationController models with
// the given options.
func replicaSetStrategy(name, summary string, opts replicaset.Options) Strategy {
	run := func(kind apiserver.Kind) func(*controller.Context, *trace.Recorder) {
		return func(ctx *controller.Context, tr *trace.Recorder) {
			o := opts
			o.Name, o.Kind, o.Trace = ctx.Name(), kind, tr
			replicaset.StartWithContext(ctx, o)
		}
	}
	return Strategy{Name: name, Summary: summary, Kinds: []apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers},
		Controllers: []Controller{
			{Name: name, Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: run(apiserver.ReplicaSets)},
			{Name: name + "/rc", Kinds: []apiserver.Kind{apiserver.ReplicationControllers}, Run: run(apiserver.ReplicationControllers)}}}
}

func init() {
	Register(replicaSetStrategy("upstream", "the ReplicaSet and ReplicationController controllers as upstream v1.36 runs them", replicaset.Options{}))
	Register(replicaSetStrategy("naive", "no expectations and no consistency check: every sync trusts a possibly stale cache", replicaset.Options{NoExpectations: true, NoConsistencyCheck: true}))
	Register(replicaSetStrategy("pre-1.36", "upstream without v1.36's stale-cache consistency check (expectations only)", replicaset.Options{NoConsistencyCheck: true}))
	Register(replicaSetStrategy("linear-age", "scale down with the pre-1.22 ranking: exact ready and creation times, no log2 buckets", replicaset.Options{ScaleDown: replicaset.LinearAge}))
	Register(replicaSetStrategy("random", "scale down by deleting pods chosen at random", replicaset.Options{ScaleDown: replicaset.Random}))
	Register(replicaSetStrategy("oldest-first", "scale down by deleting the oldest pods first", replicaset.Options{ScaleDown: replicaset.OldestFirst}))
	Register(replicaSetStrategy("newest-first", "scale down by deleting the newest pods first, ignoring readiness and placement", replicaset.Options{ScaleDown: replicaset.NewestFirst}))
	Register(replicaSetStrategy("no-slow-start", "create all missing pods at once instead of in batches of 1, 2, 4, …", replicaset.Options{NoSlowStart: true}))
	Register(replicaSetStrategy("burst-50", "create or delete at most 50 pods per sync instead of 500", replicaset.Options{BurstReplicas: 50}))
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
