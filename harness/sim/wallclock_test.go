package sim

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// busyWorld is a run with coroutines, events at many instants and random
// draws; trace says what happened when, by the World's clock.
func busyWorld(limits Limits) (w *World, trace func() []string) {
	w = New(7, limits)
	var log []string
	for i := range 3 {
		g := w.NewGroup(fmt.Sprint("ctl", i))
		r := w.Rand(g.Name)
		g.Go("worker", func() {
			for j := 0; j < 20; j++ {
				w.Sleep(time.Duration(r.IntN(5000)) * time.Millisecond)
				log = append(log, fmt.Sprintf("%v %s %d", w.Elapsed(), g.Name, r.IntN(100)))
			}
		})
	}
	return w, func() []string { return log }
}

func TestSyncWallClockFollowsVirtualTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(1, Limits{SyncWallClock: true})
		var seen int
		check := func() {
			assert.Equal(t, w.Now(), time.Now().UTC(), "at virtual time %v", w.Elapsed())
			seen++
		}
		w.At(0, check)
		w.After(90*time.Minute, check)
		w.NewGroup("ctl").Go("sleeper", func() {
			check()
			for range 10 {
				w.Sleep(1234 * time.Millisecond)
				check()
			}
			// Hosted code reads the wall clock between the World's events.
			w.Sleep(time.Nanosecond)
			check()
		})
		out := w.Run()
		assert.Equal(t, Idle, out.Verdict)
		assert.Equal(t, 14, seen)
		assert.Equal(t, Epoch.Add(90*time.Minute), time.Now().UTC())
	})
}

func TestSyncWallClockChangesNothingElse(t *testing.T) {
	off, offTrace := busyWorld(Limits{})
	offOut := off.Run()
	synctest.Test(t, func(t *testing.T) {
		on, onTrace := busyWorld(Limits{SyncWallClock: true})
		assert.Equal(t, offOut, on.Run())
		assert.Equal(t, offTrace(), onTrace())
	})
	assert.Len(t, offTrace(), 60)
}

func TestSyncWallClockOutsideABubblePanics(t *testing.T) {
	w := New(1, Limits{SyncWallClock: true})
	w.After(time.Second, func() {})
	defer func() {
		assert.Contains(t, fmt.Sprint(recover()), "sim: SyncWallClock needs a testing/synctest bubble")
	}()
	w.Run()
	t.Fatal("Run did not panic: it would have slept until 2025")
}

func TestSyncWallClockIdleTimeStaysFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New(1, Limits{SyncWallClock: true, BlockTimeout: time.Second})
		w.NewGroup("ctl").Go("sleeper", func() { w.Sleep(24 * time.Hour) })
		out := w.Run()
		assert.Equal(t, Idle, out.Verdict, "a day of virtual time is not a blocked coroutine")
		assert.Equal(t, Epoch.Add(24*time.Hour), time.Now().UTC())
	})
}

func TestSyncWallClockBlockingIsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, never := runStuck(t, Limits{SyncWallClock: true}) // its channel is the bubble's: a durable block
		// BlockTimeout (10s by default, in ticks of a quarter) of the
		// bubble's time, none of the real one.
		assert.WithinRange(t, time.Now(), Epoch.Add(time.Minute+10*time.Second), Epoch.Add(time.Minute+12500*time.Millisecond))
		// The bubble ends only when the abandoned coroutine does.
		close(never)
	})
}
