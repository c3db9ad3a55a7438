package upstreamrs_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/models/upstreamrs"
	"github.com/ctrlsim/ctrlsim/run"
)

var update = flag.Bool("update", false, "rewrite testdata/digests.golden")

// catalogDigests runs every ReplicaSet scenario of the catalog (seed 1) in a
// bubble and lists "scenario verdict digest", one a line.
func catalogDigests(t *testing.T) string {
	var b strings.Builder
	for _, name := range rsScenarios {
		res := runScenario(t, name, upstreamrs.Strategy(), 1)
		fmt.Fprintf(&b, "%s %s %s\n", name, res.Summary.Verdict, res.Summary.Digest)
	}
	return b.String()
}

// The child half of TestDeterministicAcrossProcessesAndDates.
func TestDigestsChild(t *testing.T) {
	if os.Getenv("UPSTREAMRS_DIGESTS_CHILD") == "" {
		t.Skip("only runs as a child process")
	}
	fmt.Print("digests:\n" + catalogDigests(t))
}

// TestDeterministicAcrossProcessesAndDates: the same digests in this process,
// in a child process with one CPU and another time zone, and as pinned in
// testdata/digests.golden on the day they were written. Inside the bubble
// upstream's time.Now reads virtual time and the bubble's clock starts at
// 2000-01-01 whatever the date, so the process's real date never reaches a
// run (before SyncWallClock upstream's scale-down ranking read it, and runs
// could choose other pods after about 2027-04-14): the golden file keeps
// checking that on every later day.
func TestDeterministicAcrossProcessesAndDates(t *testing.T) {
	here := catalogDigests(t)
	for _, line := range strings.Split(strings.TrimSpace(here), "\n") {
		require.Contains(t, line, " "+run.Pass+" ")
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestDigestsChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "UPSTREAMRS_DIGESTS_CHILD=1", "GOMAXPROCS=1", "TZ=Pacific/Kiritimati")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, child, ok := strings.Cut(string(out), "digests:\n")
	require.True(t, ok, "%s", out)
	require.True(t, strings.HasPrefix(child, here), "the child process ran other histories:\n%s\nwant:\n%s", child, here)

	file := filepath.Join("testdata", "digests.golden")
	if *update {
		require.NoError(t, os.WriteFile(file, []byte(here), 0o644))
		return
	}
	want, err := os.ReadFile(file)
	require.NoError(t, err, "regenerate with: go test -run TestDeterministicAcrossProcessesAndDates -update")
	require.Equal(t, string(want), here,
		"the histories changed; if a change of the main module or of upstream's version explains it, regenerate with -update and say why in the commit")
}
