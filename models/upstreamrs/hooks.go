package upstreamrs

import (
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/ctrlsim/ctrlsim/harness/controller"
	"k8s.io/klog/v2"
	kcontroller "k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/replicaset"
)

// field returns an addressable, settable view of an unexported field of
// upstream's controller, checking its type so that an upstream change fails
// loudly here rather than strangely later.
func field[T any](rsc *replicaset.ReplicaSetController, name string) reflect.Value {
	f := reflect.ValueOf(rsc).Elem().FieldByName(name)
	want := reflect.TypeFor[T]()
	if !f.IsValid() || f.Type() != want {
		panic(fmt.Sprintf("upstreamrs: ReplicaSetController.%s is not a %v in this version of k8s.io/kubernetes", name, want))
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func getField[T any](rsc *replicaset.ReplicaSetController, name string) T {
	return field[T](rsc, name).Interface().(T)
}

func setField[T any](rsc *replicaset.ReplicaSetController, name string, v T) {
	field[T](rsc, name).Set(reflect.ValueOf(&v).Elem())
}

// queue is upstream's workqueue.TypedRateLimitingInterface over ctrlsim's
// Queue: the same semantics (dirty set, one worker per key, AddAfter,
// DefaultControllerRateLimiter) in virtual time. Get parks the calling
// coroutine. Calls from upstream code after the controller died are dropped.
type queue struct {
	q    *controller.Queue[string]
	dead <-chan struct{}
}

func (q *queue) alive() bool {
	select {
	case <-q.dead:
		return false
	default:
		return true
	}
}

func (q *queue) Add(item string) {
	if q.alive() {
		q.q.Add(item)
	}
}
func (q *queue) Len() int                    { return q.q.Len() }
func (q *queue) Get() (string, bool)         { return q.q.Get() }
func (q *queue) Done(item string)            { q.q.Done(item) }
func (q *queue) ShutDown()                   { q.q.ShutDown() }
func (q *queue) ShutDownWithDrain()          { q.q.ShutDown() }
func (q *queue) ShuttingDown() bool          { return q.q.ShuttingDown() }
func (q *queue) Forget(item string)          { q.q.Forget(item) }
func (q *queue) NumRequeues(item string) int { return q.q.NumRequeues(item) }
func (q *queue) AddRateLimited(item string)  { q.q.AddRateLimited(item) }
func (q *queue) AddAfter(item string, d time.Duration) {
	if q.alive() {
		q.q.AddAfter(item, d)
	}
}

// clock is upstream's clock.PassiveClock on the controller's virtual clock.
type clock struct{ now func() time.Time }

func (c clock) Now() time.Time                  { return c.now() }
func (c clock) Since(t time.Time) time.Duration { return c.now().Sub(t) }

// expectations wraps upstream's ControllerExpectations, which the controller's
// UIDTrackingControllerExpectations delegates to. It changes one thing, the
// time-out: upstream reads the wall clock there; this one also treats
// expectations older than ExpectationsTimeout of virtual time as expired.
// And it tells the worker how many concurrent requests the sync is about to
// make: the slow-start plan after ExpectCreations, the size of the delete
// batch after ExpectDeletions.
type expectations struct {
	kcontroller.ControllerExpectationsInterface
	now func() time.Time

	mu    sync.Mutex
	setAt map[string]time.Time
	plans map[string]*plan
}

// plan is what a sync of one key announced: the creates still to come (in
// slow-start batches of 1, 2, 4, …) and the deletes of its scale-down.
type plan struct {
	createRemaining, createBatch int
	deletes                      int
}

func newExpectations(now func() time.Time) *expectations {
	return &expectations{ControllerExpectationsInterface: kcontroller.NewControllerExpectations(), now: now,
		setAt: map[string]time.Time{}, plans: map[string]*plan{}}
}

func (e *expectations) stamp(key string, p func(*plan)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setAt[key] = e.now()
	if p != nil {
		pl := e.plans[key]
		if pl == nil {
			pl = &plan{}
			e.plans[key] = pl
		}
		p(pl)
	}
}

func (e *expectations) SatisfiedExpectations(logger klog.Logger, key string) bool {
	if e.ControllerExpectationsInterface.SatisfiedExpectations(logger, key) {
		return true
	}
	e.mu.Lock()
	at, ok := e.setAt[key]
	e.mu.Unlock()
	return ok && e.now().Sub(at) > kcontroller.ExpectationsTimeout
}

func (e *expectations) SetExpectations(logger klog.Logger, key string, add, del int) error {
	e.stamp(key, nil)
	return e.ControllerExpectationsInterface.SetExpectations(logger, key, add, del)
}

func (e *expectations) ExpectCreations(logger klog.Logger, key string, adds int) error {
	e.stamp(key, func(p *plan) {
		p.createRemaining = adds
		p.createBatch = min(adds, kcontroller.SlowStartInitialBatchSize)
	})
	return e.ControllerExpectationsInterface.ExpectCreations(logger, key, adds)
}

func (e *expectations) ExpectDeletions(logger klog.Logger, key string, dels int) error {
	e.stamp(key, func(p *plan) { p.deletes = dels })
	return e.ControllerExpectationsInterface.ExpectDeletions(logger, key, dels)
}

func (e *expectations) DeleteExpectations(logger klog.Logger, key string) {
	e.mu.Lock()
	delete(e.setAt, key)
	e.mu.Unlock()
	e.ControllerExpectationsInterface.DeleteExpectations(logger, key)
}

// nextCreates is the size of the next slow-start batch of key's sync, and
// takes it from the plan (upstream's slowStartBatch: the next batch doubles,
// up to what remains; after a failed batch no more requests come, and the
// next ExpectCreations starts a new plan).
func (e *expectations) nextCreates(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.plans[key]
	if p == nil || p.createBatch == 0 {
		return 0
	}
	n := p.createBatch
	p.createRemaining -= n
	p.createBatch = min(2*n, p.createRemaining)
	return n
}

// takeDeletes is the size of key's delete batch, once.
func (e *expectations) takeDeletes(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.plans[key]
	if p == nil {
		return 0
	}
	n := p.deletes
	p.deletes = 0
	return n
}

// forgetPlan drops what a finished sync left of its plan.
func (e *expectations) forgetPlan(key string) {
	e.mu.Lock()
	delete(e.plans, key)
	e.mu.Unlock()
}
