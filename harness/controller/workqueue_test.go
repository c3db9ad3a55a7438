package controller

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/sim"
)

func newWorld() *sim.World { return sim.New(1, sim.Limits{MaxTime: 1000 * time.Hour}) }

// inProc runs fn as a coroutine and the world to completion.
func inProc(t *testing.T, w *sim.World, fn func()) {
	t.Helper()
	w.NewGroup("test").Go("main", fn)
	out := w.Run()
	require.Equal(t, sim.Idle, out.Verdict, out.Reason)
	require.Empty(t, w.Failures())
}

// TestQueueScripts drives one queue through a sequence of operations in a
// single coroutine (no parking: every Get finds an item or the shut-down queue).
func TestQueueScripts(t *testing.T) {
	tests := []struct {
		name   string
		script string // space separated: +x add, -x done, get, shutdown
		want   string // what each get returned, "!" for shutdown
		len    int    // Len at the end
		adds   uint64
	}{
		{name: "FIFO", script: "+a +b +c get get get", want: "a b c", adds: 3},
		{name: "dirty items are queued once", script: "+a +b +a +a", len: 2, adds: 2},
		{name: "dedupe keeps the first position", script: "+a +b +a get get", want: "a b", adds: 2},
		{name: "add while processing waits for Done", script: "+a get +a", want: "a", len: 0, adds: 2},
		{name: "done re-queues a dirty item", script: "+a get +a +b -a get get", want: "a b a", adds: 3},
		{name: "repeated adds while processing queue once", script: "+a get +a +a +a -a", want: "a", len: 1, adds: 2},
		{name: "done of a clean item does not re-queue", script: "+a get -a", want: "a", len: 0, adds: 1},
		{name: "other items are not held back by processing", script: "+a get +b +a get", want: "a b", len: 0, adds: 3},
		{name: "add after shutdown is ignored", script: "shutdown +a get", want: "!", adds: 0},
		{name: "shutdown drains queued items first", script: "+a +b shutdown get get get", want: "a b !", adds: 2},
		{name: "done after shutdown re-queues items dirtied before", script: "+a get +a shutdown -a get get", want: "a a !", adds: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			q := NewQueue[string](w, "q", nil)
			var got []string
			inProc(t, w, func() {
				for _, op := range strings.Fields(tt.script) {
					switch {
					case op == "get":
						item, shutdown := q.Get()
						if shutdown {
							item = "!"
						}
						got = append(got, item)
					case op == "shutdown":
						q.ShutDown()
					case op[0] == '+':
						q.Add(op[1:])
					case op[0] == '-':
						q.Done(op[1:])
					}
				}
			})
			assert.Equal(t, strings.Fields(tt.want), nonNil(got))
			assert.Equal(t, tt.len, q.Len())
			assert.Equal(t, tt.adds, q.Adds())
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestGetOutsideCoroutinePanics(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	q.Add("a")
	assert.PanicsWithValue(t, sim.ErrNotInProc, func() { q.Get() }, "even with an item ready")
}

func TestGetParksUntilAddAtItsVirtualTime(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	var got string
	var at time.Duration
	var lenBefore int
	w.At(3*time.Second, func() { lenBefore = q.Len(); q.Add("a") }) // from an event handler
	inProc(t, w, func() {
		got, _ = q.Get()
		at = w.Elapsed()
	})
	assert.Equal(t, 0, lenBefore)
	assert.Equal(t, "a", got)
	assert.Equal(t, 3*time.Second, at)
}

// worker records which item each named coroutine got, and when.
type record struct {
	worker string
	item   string
	at     time.Duration
}

func TestParkedGetsAreServedFIFO(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	g := w.NewGroup("ctl")
	var got []record
	for _, name := range []string{"w0", "w1", "w2"} {
		g.Go(name, func() {
			item, _ := q.Get()
			got = append(got, record{name, item, w.Elapsed()})
		})
	}
	w.At(time.Second, func() { q.Add("a") })
	w.At(2*time.Second, func() { q.Add("b") })
	w.At(3*time.Second, func() { q.Add("c") })
	w.Run()
	assert.Equal(t, []record{
		{"w0", "a", time.Second},
		{"w1", "b", 2 * time.Second},
		{"w2", "c", 3 * time.Second},
	}, got)
}

// A running worker that adds and then gets takes the item before the parked
// worker woken for it runs; the woken one must keep its place in line.
func TestWokenWaiterThatFindsNothingKeepsItsPlace(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	g := w.NewGroup("ctl")
	var got []record
	for _, name := range []string{"A", "B"} {
		g.Go(name, func() {
			item, _ := q.Get()
			got = append(got, record{name, item, w.Elapsed()})
		})
	}
	g.Go("C", func() {
		w.Sleep(time.Second)
		q.Add("x")         // wakes A…
		item, _ := q.Get() // …but C, still running, takes x
		got = append(got, record{"C", item, w.Elapsed()})
		w.Sleep(time.Second)
		q.Add("y")
	})
	w.Run()
	assert.Equal(t, []record{
		{"C", "x", time.Second},
		{"A", "y", 2 * time.Second}, // not B: A parked first
	}, got)
	assert.Empty(t, q.waiters, "B, parked until the run ended, left the line when it was killed")
}

func TestKilledWaiterDoesNotSwallowItems(t *testing.T) {
	for _, killAt := range []struct {
		name string
		at   time.Duration
	}{
		{"killed while parked", 500 * time.Millisecond},
		{"killed after being woken", time.Second}, // same instant, after the Add
	} {
		t.Run(killAt.name, func(t *testing.T) {
			w := newWorld()
			q := NewQueue[string](w, "q", nil)
			doomed, live := w.NewGroup("doomed"), w.NewGroup("live")
			var got []record
			doomed.Go("worker", func() { // parks first, so it is first in line
				item, _ := q.Get()
				got = append(got, record{"doomed", item, w.Elapsed()})
			})
			live.Go("worker", func() {
				item, _ := q.Get()
				got = append(got, record{"live", item, w.Elapsed()})
			})
			w.At(time.Second, func() { q.Add("a") })
			w.At(killAt.at, func() { doomed.Fail("boom", "") })
			w.Run()
			assert.Equal(t, []record{{"live", "a", time.Second}}, got)
			assert.Empty(t, q.waiters)
		})
	}
}

func TestOneKeyIsNeverProcessedByTwoWorkers(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	g := w.NewGroup("ctl")
	inFlight := map[string]int{}
	maxInFlight := map[string]int{}
	processed := map[string]int{}
	var overlap int // moments with two workers busy at once, on any keys
	busy := 0
	for i := range 2 {
		g.Go(fmt.Sprintf("worker-%d", i), func() {
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				inFlight[item]++
				maxInFlight[item] = max(maxInFlight[item], inFlight[item])
				if busy++; busy > 1 {
					overlap++
				}
				w.Sleep(300 * time.Millisecond) // processing takes time
				busy--
				inFlight[item]--
				processed[item]++
				q.Done(item)
			}
		})
	}
	// "hot" is added every 100ms, far more often than it can be processed;
	// "cold" now and then, so the second worker has something to do.
	g.Go("producer", func() {
		for i := range 50 {
			q.Add("hot")
			if i%7 == 0 {
				q.Add("cold")
			}
			w.Sleep(100 * time.Millisecond)
		}
		w.Sleep(time.Second)
		q.ShutDown()
	})
	out := w.Run()
	require.Equal(t, sim.Idle, out.Verdict)
	assert.Equal(t, 1, maxInFlight["hot"], "hot was processed by two workers at once")
	assert.Equal(t, 1, maxInFlight["cold"])
	assert.Greater(t, overlap, 0, "the workers did run concurrently")
	// Adds during processing coalesce: hot is processed about once per 300ms.
	assert.InDelta(t, 17, processed["hot"], 2)
}

func TestShutDownWakesParkedWorkers(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	g := w.NewGroup("ctl")
	var ended []time.Duration
	for i := range 3 {
		g.Go(fmt.Sprintf("worker-%d", i), func() {
			_, shutdown := q.Get()
			assert.True(t, shutdown)
			ended = append(ended, w.Elapsed())
		})
	}
	q.AddAfter("late", 5*time.Second)
	waitingAfterShutDown := -1
	w.At(2*time.Second, func() { q.ShutDown(); waitingAfterShutDown = len(q.waiting) })
	out := w.Run()
	assert.Equal(t, sim.Idle, out.Verdict)
	assert.Equal(t, []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}, ended)
	assert.True(t, q.ShuttingDown())
	assert.Equal(t, 0, q.Len(), "the pending AddAfter was dropped")
	assert.Equal(t, 0, waitingAfterShutDown, "pending AddAfters are dropped at once")
}

// TestAddAfter checks ready times: at each step, at virtual time at, the
// item is added with AddAfter(d) (or plain Add if add). A worker records when
// it gets each item.
func TestAddAfter(t *testing.T) {
	type call struct {
		at   time.Duration
		item string
		d    time.Duration
		add  bool // plain Add instead of AddAfter
	}
	s := time.Second
	tests := []struct {
		name  string
		calls []call
		want  []string // "item@time"
	}{
		{name: "ready after the delay", calls: []call{{0, "a", 5 * s, false}}, want: []string{"a@5s"}},
		{name: "zero and negative delays add now", calls: []call{{s, "a", 0, false}, {2 * s, "b", -s, false}}, want: []string{"a@1s", "b@2s"}},
		{name: "later ready time is ignored", calls: []call{{0, "a", 5 * s, false}, {s, "a", 10 * s, false}}, want: []string{"a@5s"}},
		{name: "equal ready time is ignored", calls: []call{{0, "a", 5 * s, false}, {s, "a", 4 * s, false}}, want: []string{"a@5s"}},
		{name: "earlier ready time replaces", calls: []call{{0, "a", 10 * s, false}, {3 * s, "a", 4 * s, false}}, want: []string{"a@7s"}},
		{name: "replaced event does not fire again", calls: []call{{0, "a", 10 * s, false}, {0, "a", s, false}}, want: []string{"a@1s"}},
		{name: "a replaced event does not release a newer wait", calls: []call{{0, "a", 10 * s, false}, {0, "a", s, false}, {5 * s, "a", 10 * s, false}}, want: []string{"a@1s", "a@15s"}},
		{name: "a fired item can wait again", calls: []call{{0, "a", 10 * s, false}, {12 * s, "a", 10 * s, false}}, want: []string{"a@10s", "a@22s"}},
		{name: "items wait independently", calls: []call{{0, "a", 3 * s, false}, {0, "b", 2 * s, false}, {0, "c", 2 * s, false}}, want: []string{"b@2s", "c@2s", "a@3s"}},
		{name: "a plain add does not cancel the wait", calls: []call{{0, "a", 5 * s, false}, {s, "a", 0, true}}, want: []string{"a@1s", "a@5s"}},
		{name: "infinite delay never fires", calls: []call{{s, "a", InfDuration, false}, {s, "b", s, false}}, want: []string{"b@2s"}},
		{name: "earlier delay releases an infinite wait", calls: []call{{0, "a", InfDuration, false}, {s, "a", s, false}}, want: []string{"a@2s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld()
			q := NewQueue[string](w, "q", nil)
			for _, c := range tt.calls {
				w.At(c.at, func() {
					if c.add {
						q.Add(c.item)
					} else {
						q.AddAfter(c.item, c.d)
					}
				})
			}
			w.At(100*s, q.ShutDown)
			var got []string
			inProc(t, w, func() {
				for {
					item, shutdown := q.Get()
					if shutdown {
						return
					}
					got = append(got, fmt.Sprintf("%s@%v", item, w.Elapsed()))
					q.Done(item)
				}
			})
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAddAfterCostFollowsCallsNotVirtualTime(t *testing.T) {
	t.Run("a long wait is a few events", func(t *testing.T) {
		w := newWorld()
		q := NewQueue[string](w, "q", nil)
		q.AddAfter("a", 900*time.Hour)
		out := w.Run()
		assert.Equal(t, 900*time.Hour, out.Now)
		assert.Equal(t, uint64(1), out.Events)
		assert.Equal(t, 1, q.Len())
	})
	t.Run("repeated AddAfter on a waiting item", func(t *testing.T) {
		w := newWorld()
		q := NewQueue[string](w, "q", nil)
		const calls = 10000
		maxWaiting := 0
		g := w.NewGroup("ctl")
		g.Go("producer", func() {
			for range calls {
				q.AddAfter("a", time.Hour) // ignored while an earlier one waits
				maxWaiting = max(maxWaiting, len(q.waiting))
				w.Sleep(time.Second)
			}
		})
		var fired int
		g.Go("worker", func() {
			for {
				item, _ := q.Get()
				fired++
				q.Done(item)
			}
		})
		out := w.Run()
		require.Equal(t, sim.Idle, out.Verdict)
		assert.Equal(t, 3, fired, "10000s of calls, an hour apart: three adds")
		assert.Equal(t, 1, maxWaiting)
		// The producer alone costs calls+1 events; each fire costs two (the
		// timer and the worker's wake-up), plus the worker's start.
		assert.LessOrEqual(t, out.Events, uint64(calls+1+2*fired+1))
	})
	t.Run("ever earlier AddAfter", func(t *testing.T) {
		w := newWorld()
		q := NewQueue[string](w, "q", nil)
		const calls = 1000
		for i := range calls {
			q.AddAfter("a", time.Duration(calls-i)*time.Hour)
		}
		assert.Len(t, q.waiting, 1)
		out := w.Run()
		assert.Equal(t, uint64(calls), out.Events, "one event per replacing call, stale ones are no-ops")
		assert.Equal(t, 1, q.Len())
		assert.Equal(t, uint64(1), q.Adds())
		assert.Equal(t, time.Duration(calls)*time.Hour, out.Now)
	})
}

func TestAddRateLimitedForgetAndNumRequeues(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", NewItemExponentialFailureRateLimiter[string](time.Second, time.Minute))
	var got []string
	inProc(t, w, func() {
		for range 3 {
			q.AddRateLimited("a")
			item, _ := q.Get()
			got = append(got, fmt.Sprintf("%s@%v#%d", item, w.Elapsed(), q.NumRequeues(item)))
			q.Done(item)
		}
		q.Forget("a")
		q.AddRateLimited("a")
		item, _ := q.Get()
		got = append(got, fmt.Sprintf("%s@%v#%d", item, w.Elapsed(), q.NumRequeues(item)))
		q.Done(item)
	})
	assert.Equal(t, []string{"a@1s#1", "a@3s#2", "a@7s#3", "a@8s#1"}, got)
}

func TestExponentialFailureRateLimiter(t *testing.T) {
	ms := time.Millisecond
	r := NewItemExponentialFailureRateLimiter[string](5*ms, 1000*time.Second)
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, 1280 * ms}
	for i, d := range want {
		assert.Equal(t, d, r.When("a"), "failure %d", i)
		assert.Equal(t, i+1, r.NumRequeues("a"))
	}
	assert.Equal(t, 5*ms, r.When("b"), "items back off independently")
	// 5ms*2^17 = 655.36s, 5ms*2^18 = 1310.72s > 1000s.
	for i := len(want); i < 17; i++ {
		r.When("a")
	}
	assert.Equal(t, 5*ms<<17, r.When("a"))
	for range 500 { // far past 2^63: no overflow, no wrap-around
		require.Equal(t, 1000*time.Second, r.When("a"))
	}
	assert.Equal(t, 518, r.NumRequeues("a"))
	r.Forget("a")
	assert.Equal(t, 0, r.NumRequeues("a"))
	assert.Equal(t, 5*ms, r.When("a"), "Forget resets the backoff")
	assert.Equal(t, 10*ms, r.When("b"), "Forget is per item")
}

func TestBackoffBounds(t *testing.T) {
	maxDur := time.Duration(1<<63 - 1)
	tests := []struct {
		base, maxDelay time.Duration
		exp            int
		want           time.Duration
	}{
		{time.Second, time.Hour, 0, time.Second},
		{time.Second, time.Hour, 11, 2048 * time.Second},
		{time.Second, time.Hour, 12, time.Hour},
		{1, maxDur, 62, 1 << 62},
		{1, maxDur, 63, maxDur},
		{2, maxDur, 62, maxDur},
		{maxDur/2 + 1, maxDur, 1, maxDur},
		{time.Hour, time.Minute, 0, time.Minute},
		{0, time.Minute, 100, 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, backoff(tt.base, tt.maxDelay, tt.exp), "%v*2^%d cap %v", tt.base, tt.exp, tt.maxDelay)
	}
}

func TestBucketRateLimiter(t *testing.T) {
	ms := time.Millisecond
	w := newWorld()
	r := NewBucketRateLimiter[int](w, 10, 100)
	for i := range 100 {
		require.Equal(t, time.Duration(0), r.When(i), "burst token %d", i)
	}
	for i := 1; i <= 10; i++ {
		assert.Equal(t, time.Duration(i)*100*ms, r.When(0), "reservation %d past the burst", i)
	}
	assert.Equal(t, 0, r.NumRequeues(0))

	// At 500ms, five of the ten owed tokens have come in: -5 left, the next
	// reservation is the 6th owed, due at 1.1s.
	w.RunUntil(500 * ms)
	assert.Equal(t, 600*ms, r.When(0))

	// After a long idle spell the bucket is full again, but no fuller.
	w.RunUntil(time.Hour)
	for i := range 100 {
		require.Equal(t, time.Duration(0), r.When(i), "refilled token %d", i)
	}
	assert.Equal(t, 100*ms, r.When(0))

	// Partial refill: 1s idle from empty gives 10 tokens.
	w.RunUntil(time.Hour + 1100*ms) // pays the one owed and 10 more
	for i := range 10 {
		require.Equal(t, time.Duration(0), r.When(i), "partially refilled token %d", i)
	}
	assert.Equal(t, 100*ms, r.When(0))
}

func TestBucketRateLimiterEdges(t *testing.T) {
	w := newWorld()
	inf := NewBucketRateLimiter[int](w, posInf(), 0)
	for range 1000 {
		require.Equal(t, time.Duration(0), inf.When(0))
	}
	zero := NewBucketRateLimiter[int](w, 0, 2)
	assert.Equal(t, []time.Duration{0, 0, InfDuration, InfDuration}, whens(zero, 4))
	noBurst := NewBucketRateLimiter[int](w, 10, 0)
	assert.Equal(t, []time.Duration{InfDuration, InfDuration}, whens(noBurst, 2))
}

func posInf() float64 { f := 0.0; return 1 / f }

func whens(r RateLimiter[int], n int) []time.Duration {
	var out []time.Duration
	for range n {
		out = append(out, r.When(0))
	}
	return out
}

// fakeLimiter returns fixed delays and counts calls.
type fakeLimiter struct {
	delay   time.Duration
	when    int
	forgets int
	requeue int
}

func (f *fakeLimiter) When(string) time.Duration { f.when++; return f.delay }
func (f *fakeLimiter) Forget(string)             { f.forgets++ }
func (f *fakeLimiter) NumRequeues(string) int    { return f.requeue }

func TestMaxOfRateLimiter(t *testing.T) {
	a := &fakeLimiter{delay: time.Second, requeue: 7}
	b := &fakeLimiter{delay: 3 * time.Second, requeue: 2}
	c := &fakeLimiter{delay: 2 * time.Second, requeue: 5}
	r := NewMaxOfRateLimiter[string](a, b, c)
	assert.Equal(t, 3*time.Second, r.When("x"))
	assert.Equal(t, []int{1, 1, 1}, []int{a.when, b.when, c.when}, "every limiter counts the retry")
	assert.Equal(t, 7, r.NumRequeues("x"))
	r.Forget("x")
	assert.Equal(t, []int{1, 1, 1}, []int{a.forgets, b.forgets, c.forgets})
	assert.Equal(t, time.Duration(0), NewMaxOfRateLimiter[string]().When("x"))
}

func TestDefaultControllerRateLimiter(t *testing.T) {
	ms := time.Millisecond
	w := newWorld()
	r := DefaultControllerRateLimiter[int](w)

	// One item failing: the exponential backoff decides (the bucket is full).
	assert.Equal(t, []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms}, whens(r, 4))
	assert.Equal(t, 4, r.NumRequeues(0))
	r.Forget(0)
	assert.Equal(t, 0, r.NumRequeues(0))
	assert.Equal(t, 5*ms, r.When(0), "Forget resets the per-item backoff")

	// Many items failing at once: after the burst of 100 (5 used above), the
	// bucket spaces them 100ms apart.
	for i := 1; i <= 95; i++ {
		require.Equal(t, 5*ms, r.When(i), "item %d", i)
	}
	assert.Equal(t, 100*ms, r.When(96))
	assert.Equal(t, 200*ms, r.When(97))

	// Both at once: an item at its 7th failure (320ms) behind 3 owed tokens
	// (300ms) waits 320ms; at its 6th (160ms) behind 4 owed it waits 400ms.
	slow := func(failures, others int) time.Duration {
		r := DefaultControllerRateLimiter[string](w)
		for range failures {
			r.When("slow")
		}
		for i := range others {
			r.When(fmt.Sprint(i))
		}
		return r.When("slow")
	}
	assert.Equal(t, 320*ms, slow(6, 96), "backoff decides")
	assert.Equal(t, 400*ms, slow(5, 98), "bucket decides")
}

func TestQueueDefaultsToControllerRateLimiter(t *testing.T) {
	w := newWorld()
	q := NewQueue[string](w, "q", nil)
	assert.Equal(t, "q", q.Name())
	q.AddRateLimited("a")
	q.AddRateLimited("a")
	assert.Equal(t, 2, q.NumRequeues("a"))
	assert.Equal(t, 0, q.Len())
	w.RunUntil(5 * time.Millisecond)
	assert.Equal(t, 1, q.Len(), "ready after 5ms: the earlier of 5ms and 10ms")
}

func TestQueueOnReady(t *testing.T) {
	for _, tc := range []struct {
		name  string
		do    func(w *sim.World, q *Queue[string])
		ready []string // the queue's items at each OnReady call, with its virtual time
	}{
		{"add", func(_ *sim.World, q *Queue[string]) { q.Add("a"); q.Add("b") }, []string{"0s [a]", "0s [a b]"}},
		{"an item already queued is not news", func(_ *sim.World, q *Queue[string]) { q.Add("a"); q.Add("a") }, []string{"0s [a]"}},
		{"add after, when its time comes", func(_ *sim.World, q *Queue[string]) { q.AddAfter("a", time.Second) }, []string{"1s [a]"}},
		{"done re-queues a dirty item", func(w *sim.World, q *Queue[string]) {
			q.Add("a")
			w.NewGroup("worker").Go("w", func() {
				item, _ := q.Get()
				q.Add(item) // dirty while processing: not queued yet
				q.Done(item)
			})
		}, []string{"0s [a]", "0s [a]"}},
		{"nothing after shutdown", func(_ *sim.World, q *Queue[string]) { q.ShutDown(); q.Add("a") }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			q := NewQueue[string](w, "q", nil)
			var got []string
			q.OnReady(func() { got = append(got, fmt.Sprint(w.Elapsed(), " ", q.items)) })
			tc.do(w, q)
			w.Run()
			assert.Equal(t, tc.ready, got)
		})
	}
}
