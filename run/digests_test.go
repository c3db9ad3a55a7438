package run

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
)

var update = flag.Bool("update", false, "rewrite testdata/digests.golden (go test ./run -run TestPinnedDigests -update)")

// pinned are catalog runs whose history digests are kept in
// testdata/digests.golden: a change that alters what any controller, the
// cluster or the API server does shows up here as a diff to review, not as a
// silent pass. One run per controller kind, and two with faults.
var pinned = []struct {
	scenario, strategy string
	seed               uint64
}{
	{"rs-scale-down-deletion-cost", "upstream", 1},
	{"rs-adopt-before", "upstream", 2},
	{"rc-rolling-update", "upstream", 1},
	{"deploy-rolling-update", "upstream", 1},
	{"sts-ordered-identity", "upstream", 1},
	{"ds-node-add-remove", "upstream", 1},
	{"rs-hpa", "upstream", 1},
	{"rs-node-loss", "naive", 2},
	{"rs-chaos-stale-cache", "upstream", 3},
}

// pinnedDigests reads testdata/digests.golden: "scenario strategy seed" to
// "verdict digest".
func pinnedDigests(t *testing.T) map[string]string {
	t.Helper()
	file := filepath.Join("testdata", "digests.golden")
	raw, err := os.ReadFile(file)
	require.NoError(t, err, "regenerate with: go test ./run -run TestPinnedDigests -update")
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		require.Len(t, f, 5, "%s: %q", file, line)
		want[strings.Join(f[:3], " ")] = f[3] + " " + f[4]
	}
	return want
}

func TestPinnedDigests(t *testing.T) {
	var got strings.Builder
	for _, p := range pinned {
		d, res := runDigest(t, p.scenario, p.strategy, p.seed)
		fmt.Fprintf(&got, "%s %s %d %s %s\n", p.scenario, p.strategy, p.seed, res.Summary.Verdict, d)
	}
	file := filepath.Join("testdata", "digests.golden")
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(got.String()), 0o644))
		return
	}
	want := pinnedDigests(t)
	for _, line := range strings.Split(strings.TrimSpace(got.String()), "\n") {
		f := strings.Fields(line)
		run := strings.Join(f[:3], " ")
		assert.Equal(t, want[run], f[3]+" "+f[4],
			"%s: its history changed; if that is intended, regenerate with go test ./run -run TestPinnedDigests -update and say why in the commit", run)
	}
}

// TestSyncWallClockKeepsPinnedDigests runs the pinned runs inside a
// testing/synctest bubble with the wall clock following virtual time: the
// built-in models read the World's clock, never time.Now, so nothing changes.
func TestSyncWallClockKeepsPinnedDigests(t *testing.T) {
	want := pinnedDigests(t)
	for _, p := range pinned {
		run := fmt.Sprintf("%s %s %d", p.scenario, p.strategy, p.seed)
		t.Run(run, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc, err := workloads.Lookup(p.scenario)
				require.NoError(t, err)
				st, err := models.Lookup(p.strategy)
				require.NoError(t, err)
				res, err := Run(Config{Scenario: sc, Strategy: st, Seed: p.seed, SyncWallClock: true})
				require.NoError(t, err)
				assert.Equal(t, want[run], res.Summary.Verdict+" "+res.Summary.Digest)
				end, err := time.ParseDuration(res.Summary.VirtualTime)
				require.NoError(t, err)
				assert.Equal(t, sim.Epoch.Add(end), time.Now().UTC(), "the wall clock did not end at the run's virtual time")
			})
		})
	}
}
