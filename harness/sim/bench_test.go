package sim

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// BenchmarkEventQueue: one scheduled and one executed event per iteration,
// with 100, 10,000 and 1,000,000 events pending (an idle cluster, a busy one,
// a burst of 100,000 pods).
func BenchmarkEventQueue(b *testing.B) {
	for _, pending := range []int{100, 10000, 1000000} {
		b.Run(fmt.Sprintf("pending=%d", pending), func(b *testing.B) {
			w := New(1, Limits{})
			r := w.Rand("bench")
			noop := func() {}
			for i := 0; i < pending; i++ {
				w.After(time.Duration(r.IntN(1e9)), noop)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.After(time.Duration(r.IntN(1e9)), noop)
				w.Step()
			}
		})
	}
}

// BenchmarkCoroutineSwitch: one Sleep (park and resume) of a coroutine.
func BenchmarkCoroutineSwitch(b *testing.B) {
	w := New(1, Limits{})
	g := w.NewGroup("bench")
	g.Go("sleeper", func() {
		for i := 0; i < b.N; i++ {
			w.Sleep(time.Millisecond)
		}
	})
	b.ReportAllocs()
	b.ResetTimer()
	w.Run()
}

// BenchmarkEventLoop: Run executing one event per iteration, each a gap of
// virtual time after the one before, with SyncWallClock off and on (then
// every event is a sleep of the bubble's clock: gaps shorter than a quarter
// of BlockTimeout in the loop's goroutine, longer ones in the watchdog's).
func BenchmarkEventLoop(b *testing.B) {
	loop := func(b *testing.B, gap time.Duration, sync bool) {
		w := New(1, Limits{SyncWallClock: sync})
		var next func()
		n := 0
		next = func() {
			if n++; n < b.N {
				w.After(gap, next)
			}
		}
		w.After(gap, next)
		w.Run()
	}
	for _, gap := range []time.Duration{time.Millisecond, time.Hour} {
		b.Run(fmt.Sprintf("gap=%v/SyncWallClock=off", gap), func(b *testing.B) {
			b.ReportAllocs()
			loop(b, gap, false)
		})
		b.Run(fmt.Sprintf("gap=%v/SyncWallClock=on", gap), func(b *testing.B) {
			b.ReportAllocs()
			inBubble(b, func() { loop(b, gap, true) })
		})
	}
}

// inBubble runs f in a testing/synctest bubble from a benchmark: synctest.Test
// wants a *testing.T, which testing.RunTests provides. The benchmark's timer
// stays outside the bubble, on the real clock.
func inBubble(b *testing.B, f func()) {
	b.Helper()
	ok := testing.RunTests(func(string, string) (bool, error) { return true, nil },
		[]testing.InternalTest{{Name: b.Name(), F: func(t *testing.T) { synctest.Test(t, func(*testing.T) { f() }) }}})
	if !ok {
		b.Fatal("the bubble failed")
	}
}
