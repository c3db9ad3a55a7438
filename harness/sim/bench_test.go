package sim

import (
	"fmt"
	"testing"
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
