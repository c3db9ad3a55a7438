package run

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runDigest(t testing.TB, scenario, strategy string, seed uint64) (string, *Result) {
	sc, err := workloads.Lookup(scenario)
	require.NoError(t, err)
	st, err := models.Lookup(strategy)
	require.NoError(t, err)
	res, err := Run(Config{Scenario: sc, Strategy: st, Seed: seed})
	require.NoError(t, err)
	return res.Summary.Digest, res
}

// The child half of TestDeterminismAcrossProcesses: prints one digest.
func TestDigestChild(t *testing.T) {
	spec := os.Getenv("CTRLSIM_DIGEST_CHILD")
	if spec == "" {
		t.Skip("only runs as a child process")
	}
	var scenario, strategy string
	var seed uint64
	_, err := fmt.Sscanf(spec, "%s %s %d", &scenario, &strategy, &seed)
	require.NoError(t, err)
	d, _ := runDigest(t, scenario, strategy, seed)
	fmt.Println("DIGEST", d)
}

// TestDeterminism: the same seed gives the same history (twice in this
// process, and once in a child process with GOMAXPROCS=1); another seed gives
// another history.
func TestDeterminism(t *testing.T) {
	for _, tc := range []struct{ scenario, strategy string }{
		{"rs-scale-down-deletion-cost", "upstream"},
		{"rs-node-loss", "upstream"},
		{"rc-scale", "random"},
		{"rs-chaos-stale-cache", "upstream"}, // six faults: lagging watch, slow API, crashes, kills
	} {
		t.Run(tc.scenario+"/"+tc.strategy, func(t *testing.T) {
			first, res := runDigest(t, tc.scenario, tc.strategy, 7)
			require.Equal(t, Pass, res.Summary.Verdict, "%+v", res.Summary.Checks)
			second, _ := runDigest(t, tc.scenario, tc.strategy, 7)
			assert.Equal(t, first, second, "same seed, same process")

			cmd := exec.Command(os.Args[0], "-test.run=^TestDigestChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "GOMAXPROCS=1", fmt.Sprintf("CTRLSIM_DIGEST_CHILD=%s %s %d", tc.scenario, tc.strategy, 7))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			var child string
			for _, line := range strings.Split(string(out), "\n") {
				if d, ok := strings.CutPrefix(line, "DIGEST "); ok {
					child = d
				}
			}
			assert.Equal(t, first, child, "same seed, another process with GOMAXPROCS=1")

			other, _ := runDigest(t, tc.scenario, tc.strategy, 8)
			assert.NotEqual(t, first, other, "another seed, another history")
		})
	}
}
