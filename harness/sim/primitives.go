package sim

import "time"

// Sleep parks the calling coroutine for d of virtual time.
func (w *World) Sleep(d time.Duration) {
	p := w.current
	if p == nil {
		panic(ErrNotInProc)
	}
	w.After(d, func() { w.resume(p) })
	w.Park()
}

// Yield lets every other event scheduled for this instant run first.
func (w *World) Yield() { w.Sleep(0) }

// Parallel runs fn(0), …, fn(n-1) as n coroutines of the caller's group, started
// in index order at the current instant, and returns when all have returned. It
// is how controllers express "these requests are in flight together" (a
// slow-start batch, concurrent deletes) without raw goroutines.
func (w *World) Parallel(n int, fn func(i int)) {
	parent := w.current
	if parent == nil {
		panic(ErrNotInProc)
	}
	if n <= 0 {
		return
	}
	left := n
	for i := 0; i < n; i++ {
		parent.group.Go(parent.name[len(parent.group.Name)+1:]+"#"+itoa(i), func() {
			defer func() {
				if left--; left == 0 {
					w.Wake(parent)
				}
			}()
			fn(i)
		})
	}
	w.Park()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	return string(b[n:])
}
