// Package controller is the runtime that controllers under test are written
// against: the pieces upstream controllers are built from (a blocking API
// client, informers with listers and indexes, client-go's work queue and rate
// limiters), re-implemented on ctrlsim's virtual clock, and the helpers
// upstream keeps in pkg/controller. The cluster's own actors (scheduler,
// kubelets, garbage collector) run on it too. To plug a controller of your
// own into a strategy, see packages harness/plugin and models;
// examples/oldest-first in the repository is a complete one, in a module of
// its own.
//
// # How a controller runs
//
// A controller is ordinary blocking Go, in the shape client-go controllers
// have: informers whose handlers enqueue keys, a work queue, and workers that
// take keys from the queue and reconcile them through the API. The harness
// gives each controller process a Context and calls its Run function once
// (plugin.Controller.Run); Run sets up informers and handlers, starts the
// workers with Context.Go, and returns at once. It must not block: it is
// called while the run is being set up, and again by the fault injector
// when the controller restarts after a crash.
//
// Two kinds of code run inside a controller:
//
//   - Coroutines: functions started with Context.Go (and the branches of
//     Context.Parallel). They may block, but only by calling the runtime:
//     an API request (Client), Queue.Get, Context.Sleep, Context.Parallel,
//     Informer.WaitForCacheSync. Each such call parks the coroutine and
//     hands control back to the engine, which resumes it when its virtual
//     time comes. Exactly one coroutine (or event handler) runs at a time,
//     so a controller's coroutines may share variables without locks.
//   - Event handlers: the functions of a Handler, which an Informer calls as
//     changes arrive. They run outside any coroutine and must not block:
//     look at the cache, note what you saw, enqueue a key, return.
//
// # What a controller may call
//
// From Context: Go, Sleep and Parallel (coroutines and waiting in virtual
// time), Now (the controller's clock: virtual time, plus the skew a
// clock-skew fault gives it), Rand (the controller's own random stream:
// its numbers do not depend on what any other actor draws), Client (the
// blocking API client), Informer (a watch-fed cache of a kind, one per kind
// and Context), Name (the client name in the history and in failures), and
// World only to build queues and rate limiters (NewQueue(ctx.World(), …))
// and to stamp decision traces with the unskewed time (World().Now()).
//
// From Client, in coroutines only: Get (a quorum read), List, Create,
// Update, UpdateStatus, Patch, Delete, GetScale and UpdateScale. Each takes
// the virtual time the server's latency says and returns the caller's own
// copy of the object.
//
// From Informer: AddIndex, RemoveIndex, SetFieldSelector and AddHandler
// before the informer starts (a handler added before the first list sees
// every object as an add; its OnSync runs after every list); Start (does not
// wait) and Stop anywhere, WaitForCacheSync in a coroutine; Get, GetByKey,
// List, ByIndex, Len, HasSynced and LastSyncResourceVersion anywhere. The
// built-in indexes are IndexNamespace, IndexOwnerUID and IndexLabel. Cached
// objects are shared with the cache: read them, DeepCopy before changing
// one. List and ByIndex return them in a deterministic order that is not
// sorted: sort when the order matters to a decision.
//
// An Informer follows client-go's reflector: it lists, then watches from the
// list's resourceVersion; when the connection drops it watches again from
// the last version it saw (no event is lost, nothing is listed); when the
// server refuses that (410 Gone, or any other error) it lists again and
// diffs the list against its cache as DeltaFIFO.Replace does: adds and
// updates in the list's order, an unchanged resourceVersion is no news,
// then deletions (of the last known state) in key order. An object deleted
// and created again meanwhile is an update whose old and new objects have
// different uids. Stop keeps the cache, so a later Start reports only what
// changed. The cluster's own actors (scheduler, kubelets, node lifecycle,
// pod GC, garbage collector) run on the same informers.
//
// From Queue (NewQueue, with client-go's semantics: an item is queued once
// however often it is added, and never handed to two workers at once): Get
// in a coroutine; Add, AddAfter, AddRateLimited, Forget, Done, Len,
// NumRequeues, ShutDown and OnReady anywhere, handlers included. AddAfter is how a
// controller looks at something again later. A nil rate limiter means
// DefaultControllerRateLimiter (per-item exponential backoff from 5 ms to
// 1000 s, and an overall bucket of 10 qps with a burst of 100); build others
// from NewItemExponentialFailureRateLimiter, NewBucketRateLimiter and
// NewMaxOfRateLimiter, or implement RateLimiter.
//
// Context's other methods and fields (API, Kill, Group, Informers, Failed,
// Dead, Skew, WatchDelay) are for the harness and its fault injector.
//
// # Upstream's pkg/controller helpers
//
// What upstream's controllers share in pkg/controller is here once, for
// every model: the controller-ref manager (RefManager: ClaimPods and its
// ReplicaSet and ControllerRevision forms), Expectations and
// UIDTrackingExpectations, the StaleControllerConsistency check
// (Consistency), the handlers that turn events into keys (OwnerHandler for
// the reconciled kind; DependentHandler, with Owners, for pods, ReplicaSets
// and revisions: resolveControllerRef and the owners selecting an orphan),
// the ControllerIndex, pods from a template (PodFromTemplate), creation in
// slow-start batches (SlowStartBatch), the worker loop with its rate-limited
// requeue (Worker, RunWorkers), work-queue keys (KeyFunc, SplitKey), client-
// go's RetryOnConflict, the status write with a re-read and retry
// (Client.UpdateStatusRetrying) and the status condition helpers
// (GetCondition, FilterOutCondition).
//
// # What a controller must not do, and what happens if it does
//
// The harness replays a run exactly from its seed; that holds only if every
// input of a controller comes from the runtime.
//
//   - No raw goroutines (the go statement), and no blocking on channels,
//     mutexes, sync.WaitGroup or I/O: use Go, Parallel, Queue.Get and Sleep.
//     A coroutine that blocks outside the runtime stops the engine; after
//     10 s of wall time without progress the run ends with a "blocked"
//     failure naming the controller, its virtual time and the seed, and the
//     run fails. A raw goroutine that calls the runtime races with the
//     engine: the race detector reports it; without it, expect a panic or a
//     run that does not replay.
//   - No wall clock: not time.Now, time.Since, time.Sleep, time.After,
//     timers or tickers. Use Now, Sleep and Queue.AddAfter. (Callbacks
//     scheduled with World().At or After are not the controller's: they
//     would outlive a crash of it.) Object timestamps are virtual too.
//   - No global randomness: not math/rand's or math/rand/v2's top-level
//     functions, not crypto/rand. Use Rand.
//   - No map iteration order reaching a decision, a request or an output:
//     collect the keys and sort them.
//   - No blocking in event handlers: no Client call, Queue.Get, Sleep,
//     Parallel or WaitForCacheSync there. Such a call panics (an API call
//     outside a coroutine, or sim.ErrNotInProc) on every run, not only on
//     unlucky ones.
//   - No modifying objects the cache or a response shares: DeepCopy first.
//   - No mutable package-level state: a restarted controller must start
//     from nothing, and a sweep runs many simulations in one process at
//     once (they would share it). Keep state in what Run builds.
//
// A panic in a coroutine or an event handler is a failure of the controller,
// not of the harness: the controller stops (all its coroutines and
// handlers), the run goes on without it, and the run's verdict is "fail",
// with a sim.Failure in Summary.Failures naming the controller, the kind
// ("panic" or "blocked"), the virtual time, the seed and the message. The
// wall clock, global randomness, map order and goroutine scheduling are not
// detected at the call; they show as two runs of the same seed with
// different history digests. Test for that: run the seed twice and compare
// Summary.Digest (run's determinism test does so for the built-in
// strategies, also in a child process with GOMAXPROCS=1).
//
// # Faults that reach a controller
//
// A fault plan names controllers by the kinds they reconcile
// (plugin.Controller.Kinds): crash-controller kills the Context (Kill: its
// coroutines end where they are, its watches close, nothing it held in
// memory survives) and later calls Run again in a fresh one, with a new
// random stream; stall-controller freezes its coroutines; split-brain runs a
// second instance next to it; clock-skew shifts Now; watch-delay and
// watch-drop make its informers stale or make them watch and list again.
// A controller written as this package intends needs nothing special for any
// of them.
package controller
