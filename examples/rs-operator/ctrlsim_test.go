package rsoperator_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ctrlsim/ctrlsim"
	rsoperator "github.com/ctrlsim/ctrlsim/examples/rs-operator"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// rsScenarios are the catalog's ReplicaSet scenarios (scale-burst-10k, ten
// thousand pods, is left out: it is a benchmark).
func rsScenarios() []string {
	var out []string
	for _, n := range workloads.Names() {
		if strings.HasPrefix(n, "rs-") && !strings.Contains(n, "scale-burst") {
			out = append(out, n)
		}
	}
	return out
}

func checks(s run.Summary) string {
	var b strings.Builder
	for _, c := range s.Checks {
		if c.Verdict != "pass" {
			fmt.Fprintf(&b, "%s: %s (at %s); ", c.Check, c.Message, c.At)
		}
	}
	for _, f := range s.Failures {
		fmt.Fprintf(&b, "%s; ", f.Error())
	}
	return b.String()
}

// The operator passes every check of every ReplicaSet scenario of the
// catalog.
func TestCatalog(t *testing.T) {
	st := rsoperator.Strategy()
	names := rsScenarios()
	require.NotEmpty(t, names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sc, err := workloads.Lookup(name)
			require.NoError(t, err)
			res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1})
			require.NoError(t, err)
			require.Equal(t, run.Pass, res.Summary.Verdict, checks(res.Summary))
			assert.NotZero(t, res.Summary.Requests["watch"], "the operator's cache watched")
		})
	}
}

// digest runs a scenario, with seed's random fault plan if chaos is set.
func digest(t testing.TB, scenario string, chaos bool, seed uint64) (string, run.Summary) {
	sc, err := workloads.Lookup(scenario)
	require.NoError(t, err)
	if chaos {
		sc, err = ctrlsim.ChaosScenario(scenario, seed)
		require.NoError(t, err)
	}
	res, err := run.Run(run.Config{Scenario: sc, Strategy: rsoperator.Strategy(), Seed: seed})
	require.NoError(t, err)
	return res.Summary.Digest, res.Summary
}

// The child half of TestDeterminism: prints one digest.
func TestDigestChild(t *testing.T) {
	spec := os.Getenv("RSOPERATOR_DIGEST_CHILD")
	if spec == "" {
		t.Skip("only runs as a child process")
	}
	var scenario string
	var chaos bool
	var seed uint64
	_, err := fmt.Sscanf(spec, "%s %t %d", &scenario, &chaos, &seed)
	require.NoError(t, err)
	d, _ := digest(t, scenario, chaos, seed)
	fmt.Println("DIGEST", d)
}

// TestDeterminism: a run of the hosted operator is a function of its seed:
// the same history twice in this process and in a child process with
// GOMAXPROCS=1, with the catalog's faults and with random fault plans
// (crashes and restarts of the operator, a second instance, stalls, lost
// responses, watch delays and drops).
func TestDeterminism(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		chaos    bool
		seed     uint64
	}{
		{"rs-chaos-stale-cache", false, 7},
		{"rs-orphan-delete-readopt", false, 7},
		{"rs-self-heal", true, 1},                // split-brain, crashes, a stall, lost responses, a watch drop
		{"rs-scale-down-deletion-cost", true, 5}, // crashes, stalls, API errors
	} {
		t.Run(fmt.Sprintf("%s/chaos=%t/seed=%d", tc.scenario, tc.chaos, tc.seed), func(t *testing.T) {
			first, s := digest(t, tc.scenario, tc.chaos, tc.seed)
			second, _ := digest(t, tc.scenario, tc.chaos, tc.seed)
			assert.Equal(t, first, second, "same seed, same process")
			t.Logf("%s: %d events, requests %v", s.Verdict, s.Events, s.Requests)

			cmd := exec.Command(os.Args[0], "-test.run=^TestDigestChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "GOMAXPROCS=1",
				fmt.Sprintf("RSOPERATOR_DIGEST_CHILD=%s %t %d", tc.scenario, tc.chaos, tc.seed))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			var child string
			for _, line := range strings.Split(string(out), "\n") {
				if d, ok := strings.CutPrefix(line, "DIGEST "); ok {
					child = d
				}
			}
			assert.Equal(t, first, child, "same seed, another process with GOMAXPROCS=1")
		})
	}
}

// chaosSeeds is how many seeds TestChaos sweeps (the Makefile's
// example-operator target sweeps more through the command).
const chaosSeeds = 12

// TestChaos sweeps the ReplicaSet scenarios with random fault plans through
// the library (ctrlsim.Chaos), the operator next to upstream's strategy on
// the same plans. A random plan can defeat a scenario's own steps (a step
// that deletes or annotates the pods it listed a moment ago finds one gone
// because a fault removed it; the first step's wait outlasts the second's
// start while the operator is down): such runs fail the steps check, often
// for upstream too. Any other failure — an invariant, convergence,
// overshoot, linearizability, a watch guarantee, a panic or a bubble that
// did not end — is a bug of the operator or of hosting.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("a sweep")
	}
	up, err := models.Lookup("upstream")
	require.NoError(t, err)
	var seeds []uint64
	for s := uint64(1); s <= chaosSeeds; s++ {
		seeds = append(seeds, s)
	}
	res, err := ctrlsim.Chaos(context.Background(), ctrlsim.ChaosConfig{
		Scenarios:  rsScenarios(),
		Strategies: []plugin.Strategy{rsoperator.Strategy(), up},
		Seeds:      seeds,
		Out:        t.TempDir(),
	})
	require.NoError(t, err)

	type key struct {
		scenario string
		seed     uint64
	}
	upstream := map[key]ctrlsim.ChaosRun{}
	for _, r := range res.Runs {
		if r.Strategy == up.Name {
			upstream[key{r.Scenario, r.Seed}] = r
		}
	}
	counts := map[string]map[string]int{}
	for _, r := range res.Runs {
		if counts[r.Strategy] == nil {
			counts[r.Strategy] = map[string]int{}
		}
		counts[r.Strategy][r.Verdict]++
		if r.Strategy != rsoperator.StrategyName || r.Verdict == run.Pass {
			continue
		}
		u := upstream[key{r.Scenario, r.Seed}]
		t.Logf("%s seed %d: %s: %s (upstream: %s %s)", r.Scenario, r.Seed, r.Failure, r.Message, u.Verdict, u.Failure)
		// A sweep keeps the first failed check; the run again has them all.
		_, s := digest(t, r.Scenario, true, r.Seed)
		assert.Empty(t, s.Failures, "%s seed %d", r.Scenario, r.Seed)
		for _, c := range s.Checks {
			if c.Verdict != "pass" {
				assert.Equal(t, "steps", c.Check, "%s seed %d: %s", r.Scenario, r.Seed, c.Message)
			}
		}
	}
	t.Logf("%d runs: %v", len(res.Runs), counts)
	assert.Positive(t, counts[rsoperator.StrategyName][run.Pass])
}
