package daemonset_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/stretchr/testify/assert"

	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/stretchr/testify/require"
)

const splitScenario = `
name: ds-split-brain
cluster: {nodeCount: 10}
manifests: [testdata/agent.yaml]
steps:
  - at: 1s
    add-node: node-11
  - at: 2m
    add-node: node-12
faults:
  - {at: 0s, split-brain: ds, for: 3m}
  - {at: 0s, watch-delay: ds, delay: 2s, for: 3m}
expect: {convergeWithin: 5m, stableFor: 1m}
`

// Two instances of the controller (split brain) with lagging caches both
// create a pod for the same nodes; the duplicates rule then picks, the same
// way in both, which pod of each node stays.
func TestSplitBrainDuplicatesAreResolved(t *testing.T) {
	for _, tc := range []struct {
		name       string
		opts       daemonset.Options
		keepOldest bool
	}{
		{"upstream keeps the oldest", daemonset.Options{}, true},
		{"keep-newest", daemonset.Options{Duplicates: daemonset.KeepNewest}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := playPassing(t, "ds-split-brain.yaml", splitScenario, tc.opts, 2, touchNodes)
			s := res.Summary
			decisions := res.Decisions.Decisions()
			require.NotEmpty(t, decisions, "the split brain made duplicates")
			for _, d := range decisions {
				assert.True(t, strings.HasPrefix(d.Owner, "DaemonSet/default/agent"), d.Owner)
				require.Len(t, d.Candidates, 2)
				require.Len(t, d.Chosen, 1)
				a, b := d.Candidates[0], d.Candidates[1]
				if a.Node != "" && b.Node != "" {
					require.Equal(t, a.Node, b.Node, "duplicates are on one node")
				}
				if (a.Node == "") != (b.Node == "") { // a bound pod stays whatever its age
					unbound := a
					if b.Node == "" {
						unbound = b
					}
					assert.Equal(t, unbound.Name, d.Chosen[0], "the unbound pod goes")
					continue
				}
				ta, err := time.Parse(time.RFC3339Nano, a.Created)
				require.NoError(t, err)
				tb, err := time.Parse(time.RFC3339Nano, b.Created)
				require.NoError(t, err)
				older, newer := a, b
				if tb.Before(ta) || (tb.Equal(ta) && b.Name < a.Name) {
					older, newer = b, a
				}
				if tc.keepOldest {
					assert.Equal(t, newer.Name, d.Chosen[0], "the newer pod goes")
				} else {
					assert.Equal(t, older.Name, d.Chosen[0], "the older pod goes: %+v", d)
				}
			}
			// One pod per node at the end, each created once more than needed at most.
			assert.Equal(t, 12+len(decisionsByPod(decisions)), s.PodsCreated, "every extra pod was deleted")
		})
	}
}

func decisionsByPod(ds []trace.Decision) map[string]bool {
	out := map[string]bool{}
	for _, d := range ds {
		for _, name := range d.Chosen {
			out[name] = true
		}
	}
	return out
}
