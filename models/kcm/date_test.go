package kcm_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/sim"
)

// TestTheDateDoesNotReachARun: upstream's scale-down ranking compares pods'
// ages in log2 buckets of Now − t. If its Now read the real date while the
// pods' timestamps are virtual, every pod would fall into one bucket, whose
// bounds move with the date (2^55 ns after sim.Epoch, 2025-01-01, is about
// 2027-04-14), and replays after that day could choose other pods. Inside
// the bubble its Now is virtual time, whatever the date: moving the whole
// simulation to a date past that bound (sim.Epoch) gives the same
// histories.
func TestTheDateDoesNotReachARun(t *testing.T) {
	st := strategy(t, "kcm")
	scenarios := []string{"rs-scale-down-deletion-cost", "rc-scale", "deploy-rolling-update"}
	want := map[string]string{}
	for _, sc := range scenarios {
		want[sc] = runScenario(t, sc, st, 1).Summary.Digest
	}
	defer func(e time.Time) { sim.Epoch = e }(sim.Epoch)
	for _, epoch := range []time.Time{
		time.Date(2027, time.June, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2031, time.March, 3, 12, 0, 0, 0, time.UTC),
	} {
		sim.Epoch = epoch
		for _, sc := range scenarios {
			require.Equal(t, want[sc], runScenario(t, sc, st, 1).Summary.Digest, "%s with the simulation on %v", sc, epoch)
		}
	}
}
