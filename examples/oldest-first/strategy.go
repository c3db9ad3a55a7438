package oldestfirst

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
)

// StrategyName is the strategy this package registers. (The built-in
// strategy "oldest-first" is ctrlsim's own ReplicaSet model with an
// oldest-first policy: a name can be registered only once.)
const StrategyName = "example-oldest-first"

// ModelController is this controller as a process of a strategy: it
// reconciles ReplicaSets, so a fault plan's "crash-controller: rs" (or
// watch-delay, stall, split-brain, clock-skew) reaches it. The harness calls
// Run once per instance, each time in a fresh Context: after a crash nothing
// of the old instance's memory survives.
func ModelController(name string) plugin.Controller {
	return plugin.Controller{
		Name:  name,
		Kinds: []apiserver.Kind{apiserver.ReplicaSets},
		Run: func(ctx *controller.Context, tr *trace.Recorder) {
			Start(ctx, Options{Trace: tr})
		},
	}
}

// Strategy is upstream's strategy with this controller in place of the
// ReplicaSet controller; every other controller (ReplicationController,
// Deployment, StatefulSet, DaemonSet, HPA) runs as upstream does.
func Strategy() plugin.Strategy {
	up, err := models.Lookup("upstream")
	if err != nil {
		panic(err) // models registers upstream in its init, before ours runs
	}
	st := up.With(ModelController(StrategyName))
	st.Name = StrategyName
	st.Summary = "ReplicaSets by the oldest-first example controller (examples/oldest-first); the rest as upstream"
	return st
}

// Registering in init makes the strategy available by name (models.Lookup)
// to any program that imports this package, as database/sql drivers do.
func init() { models.Register(Strategy()) }
