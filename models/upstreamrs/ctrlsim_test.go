package upstreamrs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// pinnedDigest is testdata/digests.golden's digest of scenario (seed 1),
// pinned by the tests that make their own bubble.
func pinnedDigest(t *testing.T, scenario string) string {
	t.Helper()
	golden, err := os.ReadFile(filepath.Join("testdata", "digests.golden"))
	require.NoError(t, err)
	for line := range strings.Lines(string(golden)) {
		if f := strings.Fields(line); len(f) == 3 && f[0] == scenario {
			return f[2]
		}
	}
	t.Fatalf("no digest of %s in testdata/digests.golden", scenario)
	return ""
}

// TestLibraryRunsInABubble: the ctrlsim library (Main, as the binary of
// `make build-upstream` calls it, and Run) puts the strategy in a bubble
// itself (Strategy.WallClock), and gives the digest the bubble tests pin.
func TestLibraryRunsInABubble(t *testing.T) {
	const scenario = "rs-scale-down-deletion-cost"
	want := pinnedDigest(t, scenario)

	var stdout, stderr bytes.Buffer
	code := ctrlsim.Main([]string{"run", "--scenario", scenario, "--strategy", upstreamrs.Name, "--seed", "1",
		"--out", t.TempDir(), "-o", "json"}, &stdout, &stderr, ctrlsim.WithStrategies(upstreamrs.Strategy()))
	require.Equal(t, ctrlsim.ExitOK, code, "%s%s", stdout.String(), stderr.String())
	var s run.Summary
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &s), stdout.String())
	require.Equal(t, run.Pass, s.Verdict)
	require.Equal(t, want, s.Digest, "ctrlsim.Main ran another history than the bubble tests")

	sc, err := workloads.Lookup(scenario)
	require.NoError(t, err)
	res, err := ctrlsim.Run(ctrlsim.RunConfig{Scenario: sc, Strategy: upstreamrs.Strategy(), Seed: 1, Out: t.TempDir()})
	require.NoError(t, err)
	require.Equal(t, want, res.Summary.Digest, "ctrlsim.Run ran another history than the bubble tests")
}

// TestLibraryChaosRunsBubblesAtOnce: a sweep runs several bubbles at once
// (on the one T package bubble borrows), and its runs do not depend on how
// many: the digests with four jobs are those with one.
func TestLibraryChaosRunsBubblesAtOnce(t *testing.T) {
	sweep := func(jobs int) []ctrlsim.ChaosRun {
		res, err := ctrlsim.Chaos(context.Background(), ctrlsim.ChaosConfig{
			Scenarios:  []string{"rs-scale-down-deletion-cost", "rs-self-heal"},
			Strategies: []plugin.Strategy{upstreamrs.Strategy()},
			Seeds:      []uint64{1, 2, 3, 4},
			Jobs:       jobs,
			Out:        t.TempDir(),
		})
		require.NoError(t, err)
		return res.Runs
	}
	parallel, serial := sweep(4), sweep(1)
	require.Len(t, parallel, 8)
	for i, r := range parallel {
		require.NotEqual(t, run.Fail, r.Verdict, "%+v", r)
		require.Equal(t, serial[i].Digest, r.Digest, "%s seed %d", r.Scenario, r.Seed)
	}
}
