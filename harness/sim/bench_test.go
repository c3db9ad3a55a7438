package sim

import (
	"testing"
	"time"
)

// BenchmarkEventQueue: one scheduled and one executed event per iteration, with
// 10,000 events pending (a busy cluster's queue depth).
func BenchmarkEventQueue(b *testing.B) {
	w := New(1, Limits{})
	r := w.Rand("bench")
	noop := func() {}
	for i := 0; i < 10000; i++ {
		w.After(time.Duration(r.IntN(1e9)), noop)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.After(time.Duration(r.IntN(1e9)), noop)
		w.Step()
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
