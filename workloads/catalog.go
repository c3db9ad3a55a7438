package workloads

import (
	"fmt"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/cluster"
)

// catalog holds the built-in scenarios by name. Each is built fresh on lookup,
// so a run can change its copy.
var catalog = map[string]func() (*Scenario, error){}

func builtin(name, summary string, build func(sc *Scenario) error) {
	catalog[name] = func() (*Scenario, error) {
		sc := &Scenario{Name: name, Summary: summary, Cluster: cluster.DefaultConfig()}
		if err := build(sc); err != nil {
			return nil, fmt.Errorf("built-in scenario %s: %w", name, err)
		}
		sc.Defaults()
		return sc, nil
	}
}

// Lookup returns a fresh copy of a built-in scenario.
func Lookup(name string) (*Scenario, error) {
	build, ok := catalog[name]
	if !ok {
		return nil, fmt.Errorf("unknown scenario %q (built-in: %v)", name, Names())
	}
	return build()
}

// Names lists the built-in scenarios in order.
func Names() []string {
	out := make([]string, 0, len(catalog))
	for n := range catalog {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func nodes(n int) cluster.Config {
	cfg := cluster.DefaultConfig()
	cfg.NodeCount = n
	return cfg
}

func init() {
	builtin("rs-scale-down-deletion-cost",
		"the frontend ReplicaSet scaled 3 → 10 → 2, with pod-deletion-cost on some pods",
		func(sc *Scenario) error {
			objs, err := Manifest("frontend.yaml")
			sc.Objects = objs
			sc.Steps = []Step{
				{At: 30 * time.Second, Action: Scale, Target: "rs/frontend", Replicas: 10},
				{At: 90 * time.Second, Action: Annotate, Target: "pods", Selector: "tier=frontend", Limit: 3,
					Set: map[string]string{"controller.kubernetes.io/pod-deletion-cost": "100"}},
				{At: 120 * time.Second, Action: Scale, Target: "rs/frontend", Replicas: 2},
			}
			return err
		})
	builtin("rs-node-loss",
		"a 10-replica ReplicaSet on 5 nodes loses one node; its pods are evicted after 300 s and replaced",
		func(sc *Scenario) error {
			objs, err := Manifest("frontend.yaml")
			sc.Cluster = nodes(5)
			sc.Objects = objs
			sc.Steps = []Step{
				{At: 30 * time.Second, Action: Scale, Target: "rs/frontend", Replicas: 10},
				{At: 90 * time.Second, Action: LoseNode, Target: "node/node-2"},
			}
			// The loss disturbs the pods 350 s later (grace period, then the
			// 300 s toleration): the state must stay converged through that.
			sc.Expect.ConvergeWithin = 10 * time.Minute
			sc.Expect.StableFor = 8 * time.Minute
			return err
		})
	builtin("rc-scale",
		"the frontend ReplicationController scaled 2 → 5 → 1",
		func(sc *Scenario) error {
			objs, err := Manifest("frontend-rc.yaml")
			sc.Objects = objs
			sc.Steps = []Step{
				{At: 30 * time.Second, Action: Scale, Target: "rc/frontend-controller", Replicas: 5},
				{At: 90 * time.Second, Action: Scale, Target: "rc/frontend-controller", Replicas: 1},
			}
			return err
		})
}
