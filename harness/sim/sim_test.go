package sim

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventsFireInTimeThenScheduleOrder(t *testing.T) {
	w := New(1, Limits{})
	var got []string
	w.At(20, func() { got = append(got, "b@20") })
	w.At(10, func() { got = append(got, "a@10") })
	w.At(20, func() { got = append(got, "c@20") })
	w.At(10, func() {
		got = append(got, "d@10")
		w.At(10, func() { got = append(got, "e@10 scheduled at 10") })
	})
	out := w.Run()
	assert.Equal(t, Idle, out.Verdict)
	assert.Equal(t, []string{"a@10", "d@10", "e@10 scheduled at 10", "b@20", "c@20"}, got)
	assert.Equal(t, time.Duration(20), out.Now)
	assert.Equal(t, uint64(5), out.Events)
}

func TestQueueOrdersManyEvents(t *testing.T) {
	var q eventQueue
	r := NewStreams(7).Get("q")
	for i := 0; i < 5000; i++ {
		q.push(event{at: time.Duration(r.IntN(100)), seq: uint64(i)})
	}
	prev := q.pop()
	for q.Len() > 0 {
		e := q.pop()
		require.True(t, prev.before(&e), "%v/%d then %v/%d", prev.at, prev.seq, e.at, e.seq)
		prev = e
	}
}

func TestStreamsAreIndependentOfOtherNames(t *testing.T) {
	a := NewStreams(42)
	first := []uint64{a.Get("kubelet/node-1").Uint64(), a.Get("kubelet/node-1").Uint64()}

	b := NewStreams(42)
	b.Get("scheduler").Uint64() // a new actor draws first…
	b.Get("another").Uint64()
	second := []uint64{b.Get("kubelet/node-1").Uint64(), b.Get("kubelet/node-1").Uint64()}
	assert.Equal(t, first, second, "…and node-1's numbers do not shift")

	c := NewStreams(43)
	assert.NotEqual(t, first[0], c.Get("kubelet/node-1").Uint64(), "another seed, other numbers")
}

func TestCoroutinesInterleaveByVirtualTime(t *testing.T) {
	w := New(1, Limits{})
	g := w.NewGroup("ctl")
	var log []string
	g.Go("a", func() {
		for i := 0; i < 3; i++ {
			log = append(log, "a"+w.Now().Format("05.000"))
			w.Sleep(300 * time.Millisecond)
		}
	})
	g.Go("b", func() {
		for i := 0; i < 2; i++ {
			w.Sleep(500 * time.Millisecond)
			log = append(log, "b"+w.Now().Format("05.000"))
		}
	})
	out := w.Run()
	assert.Equal(t, Idle, out.Verdict)
	assert.Equal(t, []string{"a00.000", "a00.300", "b00.500", "a00.600", "b01.000"}, log)
	assert.Empty(t, w.Failures())
}

func TestParallelRunsChildrenConcurrentlyAndWaits(t *testing.T) {
	w := New(1, Limits{})
	g := w.NewGroup("ctl")
	var log []string
	var doneAt time.Duration
	g.Go("worker", func() {
		w.Parallel(3, func(i int) {
			w.Sleep(time.Duration(3-i) * time.Second)
			log = append(log, itoa(i))
		})
		doneAt = w.Elapsed()
	})
	w.Run()
	assert.Equal(t, []string{"2", "1", "0"}, log)
	assert.Equal(t, 3*time.Second, doneAt, "children run at once: the longest decides")
}

func TestPanicBecomesFailureOfTheGroupAndRunGoesOn(t *testing.T) {
	w := New(99, Limits{})
	bad := w.NewGroup("bad-controller")
	good := w.NewGroup("good-controller")
	var sibling, goodTicks int
	bad.Go("worker-1", func() {
		w.Sleep(time.Second)
		panic("index out of range")
	})
	bad.Go("worker-2", func() {
		defer func() { sibling = -1 }() // deferred code runs when the group is stopped
		for {
			w.Sleep(100 * time.Millisecond)
			sibling++
		}
	})
	good.Go("worker", func() {
		for i := 0; i < 30; i++ {
			w.Sleep(100 * time.Millisecond)
			goodTicks++
		}
	})
	out := w.Run()
	assert.Equal(t, Idle, out.Verdict)
	require.Len(t, w.Failures(), 1)
	f := w.Failures()[0]
	assert.Equal(t, "bad-controller", f.Actor)
	assert.Equal(t, "panic", f.Kind)
	assert.Equal(t, time.Second, f.Time)
	assert.Equal(t, uint64(99), f.Seed)
	assert.Contains(t, f.Message, "index out of range")
	assert.Contains(t, f.Stack, "sim_test.go", "the stack is the controller's, not the engine's")
	assert.Contains(t, f.Error(), "seed 99")
	assert.True(t, bad.Failed())
	assert.Equal(t, -1, sibling)
	assert.Equal(t, 30, goodTicks, "other controllers keep running")
}

// runStuck runs a World (seed 5) whose one coroutine blocks outside the
// runtime a minute in, and checks that the World reports it. The caller
// closes the returned channel to let the abandoned coroutine go.
func runStuck(t *testing.T, limits Limits) (Outcome, chan struct{}) {
	t.Helper()
	w := New(5, limits)
	g := w.NewGroup("stuck-controller")
	never := make(chan struct{})
	g.Go("worker", func() {
		w.Sleep(time.Minute)
		<-never
	})
	out := w.Run()
	assert.Equal(t, Blocked, out.Verdict)
	require.Len(t, w.Failures(), 1)
	assert.Equal(t, "stuck-controller/worker", w.Failures()[0].Actor)
	assert.Equal(t, time.Minute, w.Failures()[0].Time)
	return out, never
}

func TestBlockingOutsideTheRuntimeIsReported(t *testing.T) {
	out, never := runStuck(t, Limits{BlockTimeout: 200 * time.Millisecond})
	assert.Contains(t, out.Reason, "seed 5")
	close(never)
}

func TestBlockingPrimitiveOutsideCoroutinePanics(t *testing.T) {
	w := New(1, Limits{})
	assert.PanicsWithValue(t, ErrNotInProc, func() { w.Sleep(time.Second) })
}

func TestRunawayLimits(t *testing.T) {
	w := New(1, Limits{MaxTime: time.Hour})
	var tick func()
	tick = func() { w.After(time.Minute, tick) }
	tick()
	out := w.Run()
	assert.Equal(t, Runaway, out.Verdict)
	assert.Contains(t, out.Reason, "1h0m0s")
	assert.Equal(t, time.Hour, out.Now)

	w = New(1, Limits{MaxEvents: 1000})
	var spin func()
	spin = func() { w.After(0, spin) } // a livelock at one instant
	spin()
	out = w.Run()
	assert.Equal(t, Runaway, out.Verdict)
	assert.Equal(t, uint64(1000), out.Events)
}

func TestStop(t *testing.T) {
	w := New(1, Limits{})
	var tick func()
	n := 0
	tick = func() {
		if n++; n == 10 {
			w.Stop("enough")
		}
		w.After(time.Second, tick)
	}
	tick()
	out := w.Run()
	assert.Equal(t, Stopped, out.Verdict)
	assert.Equal(t, "enough", out.Reason)
	assert.Equal(t, 9*time.Second, out.Now)
}

func TestFinishedRunLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := 0; i < 50; i++ {
		w := New(uint64(i), Limits{MaxTime: time.Minute})
		g := w.NewGroup("ctl")
		for j := 0; j < 10; j++ {
			g.Go("w", func() {
				for {
					w.Sleep(time.Second)
				}
			})
		}
		assert.Equal(t, Runaway, w.Run().Verdict)
	}
	// Killed coroutines exit asynchronously; give them a moment.
	for i := 0; i < 100 && runtime.NumGoroutine() > before+2; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+2, "parked coroutines are ended when the run ends")
}

func TestIdleVirtualTimeIsFree(t *testing.T) {
	w := New(1, Limits{})
	g := w.NewGroup("ctl")
	g.Go("sleeper", func() { w.Sleep(24 * time.Hour) })
	out := w.Run()
	assert.Equal(t, 24*time.Hour, out.Now)
	assert.Equal(t, uint64(2), out.Events, "a day of idle time is two events")
}

func TestFailureMessageNamesActor(t *testing.T) {
	f := Failure{Actor: "rs", Kind: "panic", Time: time.Second, Seed: 3, Message: "boom"}
	assert.True(t, strings.HasPrefix(f.Error(), "rs: panic at virtual time 1s (seed 3)"))
}

func TestFinishedCoroutinesLeaveTheirGroup(t *testing.T) {
	w := New(1, Limits{})
	g := w.NewGroup("ctl")
	g.Go("worker", func() {
		for i := 0; i < 100; i++ {
			w.Parallel(10, func(int) { w.Sleep(time.Millisecond) })
		}
		w.Sleep(time.Hour)
	})
	w.RunUntil(time.Minute)
	assert.Len(t, g.procs, 1, "1,000 finished children are not kept")
	w.Close()
}
