package check

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"k8s.io/apimachinery/pkg/watch"
)

// WatchGuarantees checks every watcher's stream against the store's history:
// events in resourceVersion order without duplicates; each event the very
// change the store committed at that version; and no gaps: every committed
// change the watcher's selectors match, between its start and its latest
// event, was delivered. Gaps across watchers are fine (a relist starts a new
// watcher). A change missing at the very end of a watch is not caught, since
// it cannot be told from one still in flight.
type WatchGuarantees struct {
	w         *sim.World
	commits   map[apiserver.Kind][]apiserver.Event // in resourceVersion order
	index     map[apiserver.Kind]map[uint64]int    // rv → position in commits
	watchers  map[uint64]*watchState
	violation *Result
	events    int
}

type watchState struct {
	kind   apiserver.Kind
	cursor int    // next commit of the kind to account for
	last   uint64 // rv of the last event delivered (or the start)
}

// ObserveWatches starts checking the watchers of api.
func ObserveWatches(api *apiserver.Server) *WatchGuarantees {
	g := &WatchGuarantees{w: api.World(), commits: map[apiserver.Kind][]apiserver.Event{},
		index: map[apiserver.Kind]map[uint64]int{}, watchers: map[uint64]*watchState{}}
	api.OnCommit(func(ev apiserver.Event) {
		if g.index[ev.Kind] == nil {
			g.index[ev.Kind] = map[uint64]int{}
		}
		ev.Client = ""
		g.index[ev.Kind][ev.RV] = len(g.commits[ev.Kind])
		g.commits[ev.Kind] = append(g.commits[ev.Kind], ev)
	})
	api.OnWatch(g.observe)
	return g
}

// Result is pass, or the first violation.
func (g *WatchGuarantees) Result() Result {
	if g.violation != nil {
		return *g.violation
	}
	return Result{Check: "watch", Verdict: Pass}
}

// Events is how many delivered events were checked.
func (g *WatchGuarantees) Events() int { return g.events }

func (g *WatchGuarantees) fail(wt *apiserver.Watcher, format string, args ...any) {
	if g.violation == nil {
		o := wt.Options()
		g.violation = &Result{Check: "watch", Verdict: Fail, At: g.w.Elapsed().String(),
			Message: fmt.Sprintf("watch #%d of %s (%s): %s", wt.ID(), o.Client, o.Kind, fmt.Sprintf(format, args...))}
	}
}

func (g *WatchGuarantees) observe(n apiserver.WatchNotice) {
	wt := n.Watcher
	switch n.What {
	case "start":
		kind := wt.Options().Kind
		commits := g.commits[kind]
		lo, hi := 0, len(commits) // the first commit after the start version
		for lo < hi {
			if mid := (lo + hi) / 2; commits[mid].RV <= n.StartRV {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		g.watchers[wt.ID()] = &watchState{kind: kind, cursor: lo, last: n.StartRV}
	case "end":
		delete(g.watchers, wt.ID())
	case "event":
		st := g.watchers[wt.ID()]
		if st == nil {
			g.fail(wt, "an event outside the watch's life")
			return
		}
		g.events++
		ev := n.Event
		if ev.RV <= st.last {
			g.fail(wt, "event at resourceVersion %d after %d: out of order or a duplicate", ev.RV, st.last)
			return
		}
		at, ok := g.index[st.kind][ev.RV]
		if !ok {
			g.fail(wt, "event at resourceVersion %d, where the store committed no %s", ev.RV, st.kind)
			return
		}
		c := g.commits[st.kind][at]
		if c.Object != ev.Object || c.Key != ev.Key {
			g.fail(wt, "event at resourceVersion %d is not what the store committed there (%s, not %s)", ev.RV, ev.Key, c.Key)
			return
		}
		if want, ok := expectedType(wt, c); !ok {
			g.fail(wt, "event %s %s at resourceVersion %d does not match the watch's selectors", ev.Type, ev.Key, ev.RV)
			return
		} else if ev.Type != want {
			g.fail(wt, "event %s %s at resourceVersion %d should be %s", ev.Type, ev.Key, ev.RV, want)
			return
		}
		for i := st.cursor; i < at; i++ { // every matching commit before it must have come
			c := g.commits[st.kind][i]
			if c.RV > st.last && (wt.Matches(c.Object) || (c.Old != nil && wt.Matches(c.Old))) {
				g.fail(wt, "gap: the %s of %s at resourceVersion %d never arrived (the next event is at %d)", c.Type, c.Key, c.RV, ev.RV)
				return
			}
		}
		st.cursor, st.last = at+1, ev.RV
	}
}

// expectedType is what a watcher should see of a commit through its
// selectors: an object entering them is Added, one leaving them Deleted; ok is
// false when the watcher should see nothing.
func expectedType(wt *apiserver.Watcher, c apiserver.Event) (watch.EventType, bool) {
	newOK := c.Type != watch.Deleted && wt.Matches(c.Object)
	oldOK := false
	switch c.Type {
	case watch.Deleted:
		oldOK = wt.Matches(c.Object)
	case watch.Modified:
		oldOK = c.Old != nil && wt.Matches(c.Old)
	}
	switch {
	case newOK && oldOK:
		return watch.Modified, true
	case newOK:
		return watch.Added, true
	case oldOK:
		return watch.Deleted, true
	}
	return "", false
}
