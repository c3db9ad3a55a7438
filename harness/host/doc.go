// Package host runs controller code written against client-go (and
// controller-runtime) unmodified under the simulation: its clients reach the
// simulated API server through an in-process http.RoundTripper, its clock is
// the run's virtual clock, and a run stays a function of its seed.
//
// A hosted controller is a Main, what a controller's main does with a
// *rest.Config; Controller makes it a plugin.Controller for a strategy with
// WallClock set, which run.Run runs inside a testing/synctest bubble whose
// clock follows virtual time (sim.Limits.SyncWallClock).
//
// # Determinism
//
// The bubble fixes time; the host fixes order:
//   - Hosted goroutines never run alongside the World. After every delivery
//     to hosted code (a response, a watch event) the World waits
//     (synctest.Wait) until every hosted goroutine is blocked again; hosted
//     timers fire only while the World sleeps the bubble's clock toward its
//     next event, and a request sent then interrupts that sleep at the
//     request's instant (sim.World.Interrupt).
//   - Requests sent while hosted code ran are served in the order of what
//     they ask (method, path, query without timeoutSeconds, body hash), never
//     in the order goroutines happened to send them.
//   - Caches must list in a fixed order: client-go's own informers list in
//     Go map order. NewSharedInformerFactory and NewSharedIndexInformer are
//     drop-in informers that list in key order and call handlers in
//     registration order on one goroutine.
//
// # What reaches hosted code
//
// Every request is a request of the controller's client name: it is in the
// history, checked for linearizability, and subject to every fault a
// strategy's controllers get (API errors, latency, lost responses, watch
// delays and drops, crashes: a crash cancels the hosted context and a
// restart runs Main again; a stall holds its deliveries). Clock skew does not
// reach hosted code: the bubble has one clock.
//
// Events (core/v1 and events.k8s.io) are accepted and not kept. Kinds the
// simulated API server does not serve answer 404; deletecollection and
// server-side apply are not served.
package host
