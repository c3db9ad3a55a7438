// Package controller is the runtime that controllers under test are written
// against: the pieces upstream controllers are built from (a blocking API
// client, informers with listers and indexes, client-go's work queue and rate
// limiters), re-implemented on ctrlsim's virtual clock.
//
// A controller is ordinary blocking Go. Its workers run as coroutines, one at a
// time; each call into this package that waits (an API request, Queue.Get,
// Sleep, Parallel, WaitForCacheSync) hands control back to the engine. A
// controller must not start raw goroutines, read the wall clock or use global
// randomness: Context offers Go, Now and Rand instead.
package controller
