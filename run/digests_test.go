package run

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	raw, err := os.ReadFile(file)
	require.NoError(t, err, "regenerate with: go test ./run -run TestPinnedDigests -update")
	want := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		require.Len(t, f, 5, "%s: %q", file, line)
		want[strings.Join(f[:3], " ")] = f[3] + " " + f[4]
	}
	for _, line := range strings.Split(strings.TrimSpace(got.String()), "\n") {
		f := strings.Fields(line)
		run := strings.Join(f[:3], " ")
		assert.Equal(t, want[run], f[3]+" "+f[4],
			"%s: its history changed; if that is intended, regenerate with go test ./run -run TestPinnedDigests -update and say why in the commit", run)
	}
}
