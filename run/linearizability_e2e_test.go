package run_test

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func historyOf(t *testing.T, scenario string, seed uint64) []*history.Op {
	t.Helper()
	sc, err := workloads.Lookup(scenario)
	require.NoError(t, err)
	st, _ := models.Lookup("upstream")
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed})
	require.NoError(t, err)
	return res.History
}

func TestRealHistoriesAreLinearizable(t *testing.T) {
	for _, sc := range []string{"rs-scale-down-deletion-cost", "rs-orphan-delete-readopt", "rc-scale-preconditions", "rs-node-loss"} {
		t.Run(sc, func(t *testing.T) {
			res := check.Linearizability{}.Check(historyOf(t, sc, 3))
			assert.Equal(t, check.Pass, res.Verdict, res.Message)
			assert.Greater(t, res.Ops, 20)
			assert.Greater(t, res.Objects, 2)
		})
	}
}

// clone copies the operations so a test can tamper with them.
func clone(ops []*history.Op) []*history.Op {
	out := make([]*history.Op, len(ops))
	for i, op := range ops {
		c := *op
		out[i] = &c
	}
	return out
}

// TestLinearizabilityCatchesPlantedBugs: each history is a real one with one
// operation changed the way a broken store would have answered it.
func TestLinearizabilityCatchesPlantedBugs(t *testing.T) {
	real := historyOf(t, "rs-adopt-after", 3) // has uncached GETs (adoption's canAdopt)
	for _, tc := range []struct {
		name  string
		plant func(ops []*history.Op) []*history.Op
	}{
		{"a stale read served as a quorum read", func(ops []*history.Op) []*history.Op {
			// A get answered with the version before the latest write.
			prev, last := map[string]string{}, map[string]string{}
			for _, op := range ops {
				if op.Verb == "get" && op.Code == 200 && op.RV == last[op.Key] && prev[op.Key] != "" {
					op.RV = prev[op.Key]
					return ops
				}
				if op.Code == 200 && op.RV != "" && op.Key != "" && op.Verb != "get" && op.RV != last[op.Key] {
					prev[op.Key], last[op.Key] = last[op.Key], op.RV
				}
			}
			return nil
		}},
		{"a write accepted with a stale resourceVersion", func(ops []*history.Op) []*history.Op {
			for _, op := range ops {
				if op.Verb == "update" && op.Subresource == "status" && op.Code == 200 && op.PreRV != "" {
					n, _ := strconv.Atoi(op.PreRV)
					op.PreRV = strconv.Itoa(n - 1)
					return ops
				}
			}
			return nil
		}},
		{"a create that succeeds although the object exists", func(ops []*history.Op) []*history.Op {
			for _, op := range ops {
				if op.Verb == "create" && op.Kind == "ReplicaSet" && op.Code == 200 {
					dup := *op
					dup.Call = history.Stamp{Time: op.Return.Time, Seq: op.Return.Seq + 1}
					dup.Return = &history.Stamp{Time: op.Return.Time, Seq: op.Return.Seq + 2}
					dup.RV = "999999"
					return append(ops, &dup)
				}
			}
			return nil
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.plant(clone(real))
			require.NotNil(t, ops, "found an operation to plant the bug in")
			res := check.Linearizability{}.Check(ops)
			require.Equal(t, check.Fail, res.Verdict, "the planted bug is caught")
			assert.Contains(t, res.Message, "no order of its operations is legal")
			path := filepath.Join(t.TempDir(), "history.html")
			require.NoError(t, res.Visualize(path))
			assert.FileExists(t, path)
		})
	}
}

func TestLinearizabilityBudgetGivesUnknown(t *testing.T) {
	res := check.Linearizability{StepBudget: 3}.Check(historyOf(t, "rs-scale-down-deletion-cost", 3))
	assert.Equal(t, check.Unknown, res.Verdict)
	assert.Contains(t, res.Message, "gave up after 3 model steps")
}
