// Package models holds the controllers under test, the named strategies a
// run can pick from, and the API for plugging in a controller of your own.
//
// # Strategies and controllers
//
// A plugin.Strategy (package harness/plugin) is a named choice of controller
// implementations: a list of plugin.Controller processes, each with a Name
// (its client name in the history,
// in failures and in the decision trace), the Kinds it reconciles, and a Run
// function. The built-in strategies (Names, Lookup) run every model; each
// named one varies one model and runs the others as upstream does.
//
// # Plugging in a controller
//
// Write the controller against package harness/controller (read its
// documentation first: it says what a controller may call and what it must
// not do), as a function that starts it in the Context it is given and
// returns:
//
//	func run(ctx *controller.Context, tr *trace.Recorder) {
//		pods := ctx.Informer(apiserver.Pods)
//		queue := controller.NewQueue[string](ctx.World(), ctx.Name(), nil)
//		pods.AddHandler(controller.Handler{OnAdd: …}) // handlers only enqueue
//		ctx.Go("worker", func() {                      // workers are coroutines
//			pods.WaitForCacheSync()
//			for {
//				key, shutdown := queue.Get()
//				…
//			}
//		})
//	}
//
// Wrap it in a Controller and swap it into a strategy with Strategy.With,
// which replaces every controller that runs one of its kinds and keeps the
// others (here: upstream's, with your ReplicaSet controller); then give the
// strategy its own name:
//
//	up, _ := models.Lookup("upstream")
//	st := up.With(plugin.Controller{Name: "mine", Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: run})
//	st.Name, st.Summary = "mine", "ReplicaSets by my controller; the rest as upstream"
//
// Run it on a scenario with package run; the summary has the
// verdict, every check, the controller failures and the history digest
// (equal digests, equal runs):
//
//	sc, _ := workloads.Lookup("rs-self-heal")
//	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
//	fmt.Println(res.Summary.Verdict, res.Summary.Digest)
//
// Register makes the strategy available by name (Lookup). A plug-in
// registers its strategies once, from an init function of its package, so
// that importing the package is enough; names are unique, and registering
// one twice panics. run.Run itself does not need a registered strategy.
// Chaos sweeps are runs of scenarios with random fault plans added
// (faults.Random), and comparison reports (reports.Compare) aggregate their
// summaries: examples/oldest-first in the repository does all of it from a
// module of its own.
//
// The harness calls Run once per instance of the controller, each time in a
// new Context: at the start of the run, after a crash-controller fault
// (nothing of the old instance's memory survives), and for the twin of a
// split-brain fault. Fault plans name controllers by their Kinds
// (crash-controller: rs reaches every controller that reconciles
// ReplicaSets).
//
// # How a run judges a controller
//
// Every run is judged by the same checks, whatever the strategy (package
// harness/check):
//
//   - convergence: after the last step and the last fault heal, the desired
//     state of every workload kind holds within the scenario's
//     convergeWithin and keeps holding for stableFor. The desired state is
//     the built-in predicate of each kind, combined with check.All:
//     check.ReplicaSets (for ReplicaSets and ReplicationControllers: owned,
//     selector-matching, non-terminating pods equal spec.replicas, status
//     caught up at the current generation, no matching orphans),
//     check.Deployments, check.StatefulSets, check.DaemonSets and
//     check.HPAs. A controller of one of these kinds is held to its
//     predicate; it must write status as upstream does.
//   - invariants (check.Invariants), on every committed write: at most one
//     controller owner per object, orphan and foreground deletion
//     semantics, no adoption of an object being deleted, the Deployment
//     rolling-update bounds and StatefulSet identity.
//   - linearizability and watch guarantees of the API server, and the
//     scenario's steps (and maxOvershoot, when it sets one).
//
// A predicate of your own is a check.Predicate: Observe sees every
// committed change in commit order, Holds says whether the desired state
// holds and, if not, why. Keep in Observe what Holds needs, so that asking
// is cheap; check.GroundTruth reads the server's objects instead, which is
// simpler and fine for small runs. Combine predicates with check.All. A
// strategy carries its own checks: Strategy.Predicate makes a predicate for
// each run, which the convergence check wants to hold beside the built-in
// ones, and Strategy.Invariant a function that sees every committed write
// and fails the invariants check with its first error. See Example
// (Predicate).
//
// # Decisions
//
// A controller that deletes pods to scale down should record each decision
// in the trace.Recorder its Run is given (Record is safe on a nil
// Recorder): the owner, every candidate with the attributes upstream ranks
// by (node, phase, readiness and since when, creation, restarts,
// pod-deletion-cost, co-located related pods), and the pods chosen. The run
// writes them to decisions.jsonl and scores them against upstream's
// ranking (Summary.Ordering: the share of chosen pods upstream would have
// kept; reports call it "spared by upstream").
package models
