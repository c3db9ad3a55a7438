package ctrlsim

import (
	"context"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/models"
	simrun "github.com/ctrlsim/ctrlsim/run"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The differential sweep finds no difference between a strategy and itself,
// and finds the one between two scale-down rankings.
func TestDiffSeparatesStrategiesThatDecideOtherwise(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	oldest, err := models.Lookup("oldest-first")
	require.NoError(t, err)
	cfg := DiffConfig{A: up, B: up, Scenarios: []string{"rs-scale-down-deletion-cost"}, Seeds: []uint64{1, 2}}

	same, err := Diff(context.Background(), cfg)
	require.NoError(t, err)
	assert.Zero(t, same.Disagreements, "%+v", same.Runs)
	require.Len(t, same.Runs, 2)
	assert.NotEmpty(t, same.Runs[0].A.Deleted, "the scenario scales down")

	cfg.B = oldest
	other, err := Diff(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, 2, other.Disagreements)
	assert.Contains(t, other.Runs[0].Differences[0], "pods deleted")
}

// Scale-down rankings that are upstream's but for one rule still differ:
// the pre-1.22 ranking (exact times, no log2 buckets and uids) and one that
// ignores pod-deletion-cost and readiness.
func TestDiffSeparatesRankingRules(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	for _, c := range []struct{ strategy, scenario string }{
		{"linear-age", "rc-scale"},
		{"newest-first", "rs-scale-down-deletion-cost"},
	} {
		other, err := models.Lookup(c.strategy)
		require.NoError(t, err)
		res, err := Diff(context.Background(), DiffConfig{A: up, B: other, Scenarios: []string{c.scenario}, Seeds: []uint64{1, 2}, NoFaults: true})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Disagreements, c.strategy)
		for _, r := range res.Runs {
			require.NotEmpty(t, r.Differences, c.strategy)
			assert.Contains(t, r.Differences[len(r.Differences)-1], "pods deleted", c.strategy)
		}
	}
}

// victim is a deletion of a ranked pod.
func victim(pod, view string, first bool) DiffVictim {
	return DiffVictim{Pod: pod, Rank: view, First: first}
}

// The rules by which DiffRun reads two runs' decisions as alike.
func TestDiffRules(t *testing.T) {
	const (
		ready3  = "Running ready@2025-01-01T00:00:03Z cost=0 rank=0 restarts=0/0 created@2025-01-01T00:00:00Z"
		ready4  = "Running ready@2025-01-01T00:00:04Z cost=0 rank=0 restarts=0/0 created@2025-01-01T00:00:00Z"
		pending = "Pending not-ready cost=0 rank=0 restarts=0/0 created@2025-01-01T00:00:00Z"
	)
	side := func(created, lost int, vs ...DiffVictim) DiffSide {
		return DiffSide{Verdict: "pass", Created: created, Lost: lost, Victims: vs}
	}
	for _, c := range []struct {
		name  string
		a, b  DiffSide
		agree bool
	}{
		{"ties: pods that look the same to the ranking", side(3, 0, victim("web-#1", ready3, false)), side(3, 0, victim("web-#2", ready3, false)), true},
		{"the same pod looking different, ranked first in neither run", side(3, 0, victim("web-#1", ready3, false)), side(3, 0, victim("web-#1", ready4, false)), false},
		{"each what the ranking put first in its own run", side(3, 0, victim("web-#1", ready3, true)), side(3, 0, victim("web-#2", pending, true)), true},
		{"a pod the ranking puts after one kept", side(3, 0, victim("web-#1", ready3, true)), side(3, 0, victim("web-#2", ready4, false)), false},
		{"first, but of another owner", side(3, 0, victim("web-#1", ready3, true)), side(3, 0, victim("api-#1", ready3, true)), false},
		{"more deletions", side(3, 0, victim("web-#1", ready3, true)), side(3, 0, victim("web-#1", ready3, true), victim("web-#2", ready3, true)), false},
		{"unranked pods by name", side(3, 0, DiffVictim{Pod: "web-0#1"}), side(3, 0, DiffVictim{Pod: "web-0#1"}), true},
		{"unranked pods by name, others", side(3, 0, DiffVictim{Pod: "web-0#1"}), side(3, 0, DiffVictim{Pod: "web-1#1"}), false},
		{"creates less the pods others took", side(6, 1), side(5, 0), true},
		{"more creates", side(6, 0), side(5, 0), false},
		{"verdict", side(3, 0), DiffSide{Verdict: "fail", Signature: "x", Created: 3}, false},
	} {
		got := compareSides(c.a, c.b)
		assert.Equal(t, c.agree, len(got) == 0, "%s: %v", c.name, got)
	}
}

// A delete repeated while the pod terminates is one decision; one that
// shortens its grace period is another; one that loses a race with another
// client still is one; one of a pod already gone is none.
func TestDiffDecisionsRepeatsAndRaces(t *testing.T) {
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	op := func(client, verb, key string, code int, arg string, at time.Duration) *history.Op {
		return &history.Op{Client: client, Verb: verb, Kind: "Pod", Key: key, Code: code, Arg: arg, Call: history.Stamp{Time: at}}
	}
	obs := newDeleteObserver(ownClient(up))
	obs.seen["default/web-2@5"] = rankedDelete{found: true}
	res := &simrun.Result{Summary: simrun.Summary{Verdict: simrun.Pass}, History: []*history.Op{
		op("upstream/sts", "create", "default/web-0", 201, "", 0),
		op("upstream/sts", "create", "default/web-1", 201, "", 0),
		op("upstream/sts", "create", "default/web-2", 201, "", 0),
		op("upstream/sts", "delete", "default/web-0", 200, "", 1),
		op("upstream/sts", "delete", "default/web-0", 200, "", 2),         // again: the same decision
		op("upstream/sts", "delete", "default/web-0", 200, " grace=0", 3), // a force delete: another
		op("kubectl", "delete", "default/web-1", 200, "", 4),
		op("upstream/sts", "delete", "default/web-1", 404, "", 4), // gone before it was sent
		op("pod-garbage-collector", "delete", "default/web-2", 200, "", 5),
		op("upstream/sts", "delete", "default/web-2", 404, "", 5), // there when sent: lost the race
	}}
	s := decisions(res, up, obs)
	assert.Equal(t, 3, s.Created)
	assert.Equal(t, []string{"default/web-0#1", "default/web-0#1", "default/web-2#1"}, s.Deleted)
}
