package sim

import "time"

// event is one scheduled action. Events fire in (at, seq) order; seq is assigned
// when the event is scheduled, so two events at the same instant fire in the
// order they were scheduled, on every run.
type event struct {
	at  time.Duration
	seq uint64
	fn  func()
}

func (a *event) before(b *event) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// eventQueue is a 4-ary min-heap of events stored by value: fewer cache misses
// and no per-event allocation beyond the closure itself.
type eventQueue struct {
	items []event
}

func (q *eventQueue) Len() int { return len(q.items) }

func (q *eventQueue) push(e event) {
	q.items = append(q.items, e)
	// Sift up with a hole: move parents down, write e once.
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 4
		if !e.before(&q.items[parent]) {
			break
		}
		q.items[i] = q.items[parent]
		i = parent
	}
	q.items[i] = e
}

func (q *eventQueue) pop() event {
	items := q.items
	top := items[0]
	last := len(items) - 1
	e := items[last]
	items[last] = event{}
	items = items[:last]
	q.items = items
	n := last
	if n == 0 {
		return top
	}
	// Sift down with a hole: move the smallest child up, write e once.
	i := 0
	for {
		first := 4*i + 1
		if first >= n {
			break
		}
		smallest := first
		end := min(first+4, n)
		for c := first + 1; c < end; c++ {
			if items[c].before(&items[smallest]) {
				smallest = c
			}
		}
		if !items[smallest].before(&e) {
			break
		}
		items[i] = items[smallest]
		i = smallest
	}
	items[i] = e
	return top
}

func (q *eventQueue) peek() *event { return &q.items[0] }
