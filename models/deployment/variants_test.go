package deployment_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parse(t testing.TB, text string) *workloads.Scenario {
	t.Helper()
	sc, err := workloads.ParseScenario("test.yaml", []byte(text), os.ReadFile)
	require.NoError(t, err)
	return sc
}

// web is a manifests: entry of the Deployment web (nginx:1.7.9, selecting
// app: web) with spec, its other fields (one YAML line each).
func web(spec ...string) string {
	return `  - inline: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        selector:
          matchLabels: {app: web}
        template:
          metadata:
            labels: {app: web}
          spec:
            containers:
            - name: web
              image: nginx:1.7.9
        ` + strings.Join(spec, "\n        ") + "\n"
}

// rollout is steps: once the Deployment web has available pods, it is given
// image (the steps that follow run after that one).
func rollout(available int, image string) string {
	return fmt.Sprintf("steps:\n  - after: deploy/web available=%d\n    set-image: deploy/web\n    image: {web: %q}\n", available, image)
}

// web10 is the Deployment web of 10 replicas with strategy, on five nodes.
func web10(strategy string) string {
	return "manifests:\n" + web("replicas: 10", "strategy: "+strategy) + `
cluster:
  nodeCount: 5
expect: {convergeWithin: 5m}
`
}

// More workflows than the catalog's, under upstream and both named
// variants, every check on: a scale in the middle of a rollout (up, and
// down during the next one), Recreate with a rollback, a rollout paused
// half way and scaled.
//
// The scale comes seconds after the new template, not at once: within the
// controller's watch delay of its own ReplicaSet writes, upstream's
// controller (no expectations) sizes ReplicaSets from a stale cache and can
// exceed replicas + maxSurge for a moment, which the bounds invariant
// reports (the model does what upstream does; see the package's report).
var moreScenarios = []struct{ name, text string }{
	{"scale-mid-rollout", web10("{}") + rollout(10, "nginx:1.9.1") + `
  - at: 7s
    scale: deploy/web
    replicas: 20
  - wait: deploy/web replicas=20 available=20
    timeout: 5m
  - set-image: deploy/web
    image: {web: "nginx:1.10"}
  - at: 3m
    scale: deploy/web
    replicas: 5
`},
	{"recreate-undo", web10("{type: Recreate}") + rollout(10, "nginx:1.9.1") + `
  - at: 1m
    rollout-undo: deploy/web
`},
	{"pause-mid-rollout", web10("{rollingUpdate: {maxSurge: 30%, maxUnavailable: 0}}") + rollout(10, "nginx:1.9.1") + `
  - at: 0s
    rollout-pause: deploy/web
  - at: 1m
    scale: deploy/web
    replicas: 15
  - at: 2m
    rollout-resume: deploy/web
`},
}

var variants = []struct {
	name string
	opts deployment.Options
}{
	{"upstream", deployment.Options{}},
	{"newest-only", deployment.Options{ScaleNewestOnly: true}},
	{"scale-down-first", deployment.Options{ScaleDownFirst: true}},
}

func seeds() uint64 {
	if testing.Short() {
		return 2
	}
	return 20
}

func TestMoreScenarios(t *testing.T) {
	for _, s := range moreScenarios {
		for _, v := range variants {
			t.Run(s.name+"/"+v.name, func(t *testing.T) {
				st := strategy(t, v.name, v.opts)
				for seed := uint64(1); seed <= seeds(); seed++ {
					sc := parse(t, s.text)
					sc.Name = s.name
					res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed})
					require.NoError(t, err)
					sum := res.Summary
					assert.Equal(t, run.Pass, sum.Verdict, "seed %d: checks %+v\nsteps %+v", seed, sum.Checks, sum.Steps)
				}
			})
		}
	}
}
