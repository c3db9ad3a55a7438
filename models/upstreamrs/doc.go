// Package upstreamrs runs the real upstream ReplicaSet controller
// (k8s.io/kubernetes/pkg/controller/replicaset, v1.36.3) under ctrlsim's
// deterministic runtime, as the strategy "upstream-replicaset".
//
// It is a nested module so that the main module never depends on
// k8s.io/kubernetes; test it with `cd models/upstreamrs && go test ./...`.
//
// # How the upstream code is hosted
//
// The controller is built with upstream's own constructor
// (replicaset.NewBaseController) and its syncReplicaSet, event handlers,
// expectations, PodControllerRefManager (adoption and release), slow-start
// batches, scale-down ranking and status computation run unmodified. Around
// them:
//
//   - Informers: its ReplicaSet and Pod informers are shims over ctrlsim's own
//     informers (controller.Informer): the cache.Indexer it reads, and the
//     listers built on it by client-go, serve ctrlsim's caches in their
//     deterministic order, and its event handlers are called from ctrlsim's
//     informer events. Its indexers (controllerUID, PodControllerIndex) are
//     registered on ctrlsim's informers.
//   - Client: a kubernetes.Interface whose ReplicaSet (Get, UpdateStatus) and
//     Pod (Create, Delete, Patch, Get) clients send their requests to the
//     simulated API server. client-go's fake clientset is not used: its
//     Invokes holds a mutex across the reactor, so the concurrent requests of
//     a slow-start batch would deadlock on it.
//   - Work queue and workers: its queue is replaced by ctrlsim's Queue (the
//     client-go semantics and default rate limiter, in virtual time), and the
//     harness's coroutines play its workers (upstream's Run would start
//     goroutines on the wall clock): each takes a key and calls the
//     controller's syncHandler, exactly as processNextWorkItem does.
//   - Goroutines: each sync runs in a goroutine of its own while the worker
//     coroutine serves its API requests one batch at a time (the world stands
//     still meanwhile). Upstream starts raw goroutines for the creates of a
//     slow-start batch and for the deletes of a scale-down; the worker learns
//     how many to wait for from the expectations the sync just set
//     (ExpectCreations: batches of 1, 2, 4, …; ExpectDeletions: one batch),
//     collects them all, and sends them into the simulation together
//     (concurrently, in a fixed order: creates are identical, deletes go in
//     pod-name order), so that nothing depends on goroutine scheduling.
//   - Clock: its clock field (status availability, the next availability
//     check) reads virtual time. Expectations time out after
//     ExpectationsTimeout of virtual time (upstream's ControllerExpectations
//     reads the wall clock: "TODO: Support injection of clock").
//   - Condition timestamps: NewReplicaSetCondition stamps metav1.Now() (the
//     wall clock); a status update carrying a timestamp later than virtual now
//     is restamped with virtual now before it reaches the server.
//   - The wall clock itself: the strategy sets plugin.Strategy.WallClock, so
//     that run.Run runs it inside a testing/synctest bubble with
//     run.Config.SyncWallClock (sim.Limits.SyncWallClock), from a test or a
//     plain ctrlsim binary alike (package run/bubble); the process's wall
//     clock is the World's (sim.Epoch plus virtual time) whenever upstream's
//     code runs, so everything it reads with time.Now or metav1.Now() is
//     virtual, including what no hook reaches: the scale-down ranking's
//     metav1.Now() in getPodsRankedByRelatedPodsOnSameNode. Its choices then
//     equal models/replicaset's ranking at virtual now (the differential
//     test), and the bubble's clock starts at 2000-01-01 whatever the date,
//     so the real date never reaches a run. The virtual expectations
//     time-out and the restamping then change nothing, and stay for runs
//     outside a bubble. apimachinery's HandleError backoff, which compares
//     time.Now with the wall clock read at package init and would sleep the
//     bubble forward by the process's age, is removed from
//     utilruntime.ErrorHandlers (logging stays).
//
// The unexported fields replaced (queue, clock, expectations) and read
// (syncHandler) are reached through reflection; Start panics with a clear
// message if a future upstream version renames them.
//
// # What cannot be made faithful
//
// Outside a bubble the scale-down ranking reads the real wall clock:
// getPodsRankedByRelatedPodsOnSameNode sets ActivePodsWithRanks.Now to
// metav1.Now(), and with LogarithmicScaleDown (GA, locked on since v1.31)
// ActivePodsWithRanks.Less compares pods' ready and creation times by
// floor(log2(Now − t)). Every timestamp is virtual (sim.Epoch, 2025-01-01,
// plus minutes), so Now − t is about the age of the real date relative to the
// epoch for every pod: all fall in the same bucket and the UID tie-break
// decides, where a real cluster (and models/replicaset) would prefer the pod
// ready or created most recently. The bucket (2^55 to 2^56 ns after the epoch)
// holds until about 2027-04-14, so such runs are deterministic on a given day
// but may choose other pods when replayed after it. Only a strategy with
// WallClock cleared runs that way: the ctrlsim binary built by `make
// build-upstream` runs this one in a bubble, where the real date never
// reaches a run (run/bubble obtains the *testing.T synctest.Test needs
// through testing.MainStart, an internal API of the testing package that a
// Go release may change; run/bubble's TestPlainBinary guards it).
//
// Inside a bubble what remains is what the bubble does not fix: the order of
// runnable goroutines and map iteration. This host already serializes
// upstream's goroutines (one sync at a time, its concurrent requests sent in
// a fixed order) and serves listers from ctrlsim's ordered caches, so neither
// reaches a run; hosting client-go's own informers and goroutines would need
// both. Hosted code
// that sleeps on the wall clock moves it ahead of virtual time for good, and
// one that blocks on something not durable for synctest (a contended mutex, a
// channel made outside the bubble) hangs the run instead of being reported.
package upstreamrs
