// Package rsoperator runs the ReplicaSet operator of package operator, an
// ordinary controller-runtime operator, under ctrlsim: Strategy is upstream's
// strategy with the operator in place of the ReplicaSet controller.
package rsoperator

import (
	"context"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/ctrlsim/ctrlsim/examples/rs-operator/operator"
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/host"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
)

// StrategyName is the strategy's name, and the operator's client name in a
// run's history.
const StrategyName = "rs-operator"

// Main is the operator's main under the host: cmd/rs-operator's, with
// host.NewManager for ctrl.NewManager and the run's context for the signal
// handler's.
func Main(ctx context.Context, config *rest.Config) error {
	mgr, err := host.NewManager(config, manager.Options{})
	if err != nil {
		return err
	}
	if err := operator.SetupWithManager(mgr); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// Controller is the operator as a process of a strategy: it manages
// ReplicaSets, so a fault plan's crash-controller: rs (or stall,
// watch-delay) reaches it, and a restart runs Main again.
func Controller() plugin.Controller {
	return host.Controller(StrategyName, []apiserver.Kind{apiserver.ReplicaSets}, Main)
}

// Strategy is upstream's strategy with the operator in place of the
// ReplicaSet controller. It runs in virtual wall-clock time (WallClock).
func Strategy() plugin.Strategy {
	up, err := models.Lookup("upstream")
	if err != nil {
		panic(err) // models registers upstream in its init
	}
	st := up.With(Controller())
	st.Name = StrategyName
	st.Summary = "ReplicaSets by a controller-runtime operator, hosted (examples/rs-operator); the rest as upstream"
	st.WallClock = true
	return st
}
