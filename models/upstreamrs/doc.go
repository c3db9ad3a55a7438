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
//
// The unexported fields replaced (queue, clock, expectations) and read
// (syncHandler) are reached through reflection; Start panics with a clear
// message if a future upstream version renames them.
//
// # What cannot be made faithful
//
// Scale-down ranking reads the wall clock: getPodsRankedByRelatedPodsOnSameNode
// (pkg/controller/replicaset/replica_set.go) sets ActivePodsWithRanks.Now to
// metav1.Now(), and with LogarithmicScaleDown (GA, locked on since v1.31)
// ActivePodsWithRanks.Less (pkg/controller/controller_utils.go) compares
// pods' ready and creation times by floor(log2(Now − t)). Under the harness
// every timestamp is virtual (sim.Epoch, 2025-01-01, plus minutes), so Now − t
// is the age of the wall clock relative to the epoch for every pod: all pods
// fall in the same bucket and the UID tie-break decides, where a real cluster
// (and models/replicaset, ranking at virtual now) would prefer the pod ready
// or created most recently. This does not break determinism on a given day (the
// bucket, 2^55 ns ≈ 417 days to 2^56 ns ≈ 834 days after the epoch, holds until
// about 2027-04-14), but a run replayed after that date may choose other pods,
// and it does change decisions against the model. No hook reaches it: the call
// is inside the sync, on a package-level function, with no clock parameter.
package upstreamrs
