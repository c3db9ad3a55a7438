package kcm_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models/kcm"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
)

var update = flag.Bool("update", false, "rewrite testdata/digests.golden")

func strategy(t testing.TB, name string) plugin.Strategy {
	t.Helper()
	for _, st := range kcm.Strategies() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no strategy %s", name)
	return plugin.Strategy{}
}

func runScenario(t testing.TB, scenario string, st plugin.Strategy, seed uint64) *run.Result {
	t.Helper()
	return runtest.Scenario(t, scenario, st, seed, nil)
}

func checks(res *run.Result) string {
	var b strings.Builder
	for _, c := range res.Summary.Checks {
		if c.Verdict != "pass" {
			fmt.Fprintf(&b, "%s: %s: %s\n", c.Check, c.Verdict, c.Message)
		}
	}
	for _, f := range res.Summary.Failures {
		fmt.Fprintf(&b, "failure: %s\n", f.Error())
	}
	return b.String()
}

// catalog is every built-in scenario but the 10,000-pod burst (a benchmark,
// not a test: see the README's performance section).
func catalog() []string {
	return slices.DeleteFunc(workloads.Names(), func(n string) bool { return n == "scale-burst-10k" })
}

// catalogDigests runs the catalog under kcm (seed 1) and lists
// "scenario verdict digest", one a line.
func catalogDigests(t *testing.T) string {
	st := strategy(t, "kcm")
	var b strings.Builder
	for _, name := range catalog() {
		res := runScenario(t, name, st, 1)
		fmt.Fprintf(&b, "%s %s %s\n", name, res.Summary.Verdict, res.Summary.Digest)
		if res.Summary.Verdict != run.Pass {
			t.Logf("%s: %s\n%s", name, res.Summary.Verdict, checks(res))
		}
	}
	return b.String()
}

// The child half of TestCatalogDeterministic.
func TestDigestsChild(t *testing.T) {
	if os.Getenv("KCM_DIGESTS_CHILD") == "" {
		t.Skip("only runs as a child process")
	}
	fmt.Print("digests:\n" + catalogDigests(t))
}

// TestCatalogDeterministic: upstream's own controllers pass every scenario of
// the catalog, with the same histories in this process, in a child process
// with one CPU and another time zone, and as pinned in testdata/digests.golden
// on the day they were written (the bubble's clock starts at 2000-01-01
// whatever the date, so the real date never reaches a run: the golden file
// keeps checking that every later day).
func TestCatalogDeterministic(t *testing.T) {
	here := catalogDigests(t)
	for _, line := range strings.Split(strings.TrimSpace(here), "\n") {
		require.Contains(t, line, " "+run.Pass+" ")
	}
	again := catalogDigests(t)
	require.Equal(t, here, again, "the same process ran other histories the second time")

	cmd := exec.Command(os.Args[0], "-test.run=^TestDigestsChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KCM_DIGESTS_CHILD=1", "GOMAXPROCS=1", "TZ=Pacific/Kiritimati")
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
	require.NoError(t, err, "regenerate with: go test -run TestCatalogDeterministic -update")
	require.Equal(t, string(want), here,
		"the histories changed; if a change of the main module or of upstream's version explains it, regenerate with -update and say why in the commit")
}
