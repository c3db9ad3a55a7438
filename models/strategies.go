package models

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/ctrlsim/ctrlsim/models/hpa"
	"github.com/ctrlsim/ctrlsim/models/replicaset"
	"github.com/ctrlsim/ctrlsim/models/statefulset"
)

var registry = map[string]plugin.Strategy{}

// Register adds a strategy. Names are unique; registering one twice panics.
func Register(s plugin.Strategy) {
	if _, dup := registry[s.Name]; dup {
		panic("models: strategy registered twice: " + s.Name)
	}
	registry[s.Name] = s
}

// Lookup finds a strategy by name.
func Lookup(name string) (plugin.Strategy, error) {
	if s, ok := registry[name]; ok {
		return s, nil
	}
	return plugin.Strategy{}, fmt.Errorf("unknown strategy %q (known: %s)", name, strings.Join(Names(), ", "))
}

// UpstreamWith is the strategy "upstream" with c in place of its
// controllers of c's kinds: a model under test, or a controller of one's
// own, among upstream's other controllers.
func UpstreamWith(c plugin.Controller) plugin.Strategy { return registry["upstream"].With(c) }

// Names lists the registered strategies in order.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// choices are the options a strategy gives each model; a strategy varies
// one model and runs the others as upstream does.
type choices struct {
	rs  replicaset.Options
	dep deployment.Options
	sts statefulset.Options
	ds  daemonset.Options
	hpa hpa.Options
}

// bundle is a strategy running every model with the given options: the
// ReplicaSet and ReplicationController controllers (one algorithm, two
// kinds, as upstream), the Deployment, StatefulSet, DaemonSet and
// HorizontalPodAutoscaler controllers.
func bundle(name, summary string, o choices) plugin.Strategy {
	rs := func(kind apiserver.Kind) func(*controller.Context, *trace.Recorder) {
		x := o.rs
		x.Kind = kind
		return replicaset.Run(x)
	}
	return plugin.Strategy{Name: name, Summary: summary,
		Kinds: []apiserver.Kind{apiserver.ReplicaSets, apiserver.ReplicationControllers, apiserver.Deployments, apiserver.StatefulSets,
			apiserver.DaemonSets, apiserver.HorizontalPodAutoscalers},
		Controllers: []plugin.Controller{
			{Name: name, Kinds: []apiserver.Kind{apiserver.ReplicaSets}, Run: rs(apiserver.ReplicaSets)},
			{Name: name + "/rc", Kinds: []apiserver.Kind{apiserver.ReplicationControllers}, Run: rs(apiserver.ReplicationControllers)},
			{Name: name + "/deploy", Kinds: []apiserver.Kind{apiserver.Deployments}, Run: deployment.Run(o.dep)},
			{Name: name + "/sts", Kinds: []apiserver.Kind{apiserver.StatefulSets}, Run: statefulset.Run(o.sts)},
			{Name: name + "/ds", Kinds: []apiserver.Kind{apiserver.DaemonSets}, Run: daemonset.Run(o.ds)},
			{Name: name + "/hpa", Kinds: []apiserver.Kind{apiserver.HorizontalPodAutoscalers}, Run: func(ctx *controller.Context, tr *trace.Recorder) {
				x := o.hpa
				x.Name = ctx.Name() // its decisions are not scale-down rankings: no trace
				hpa.StartWithContext(ctx, x)
			}},
		}}
}

func init() {
	rs := func(name, summary string, opts replicaset.Options) {
		Register(bundle(name, summary, choices{rs: opts}))
	}
	rs("upstream", "every controller as upstream v1.36 runs it", replicaset.Options{})
	rs("naive", "ReplicaSets without expectations and consistency check: every sync trusts a possibly stale cache", replicaset.Options{NoExpectations: true, NoConsistencyCheck: true})
	rs("pre-1.36", "ReplicaSets as upstream without v1.36's stale-cache consistency check (expectations only)", replicaset.Options{NoConsistencyCheck: true})
	rs("linear-age", "ReplicaSets scale down with the pre-1.22 ranking: exact ready and creation times, no log2 buckets", replicaset.Options{ScaleDown: replicaset.LinearAge})
	rs("random", "ReplicaSets scale down by deleting pods chosen at random", replicaset.Options{ScaleDown: replicaset.Random})
	rs("oldest-first", "ReplicaSets scale down by deleting the oldest pods first", replicaset.Options{ScaleDown: replicaset.OldestFirst})
	rs("newest-first", "ReplicaSets scale down by deleting the newest pods first, ignoring readiness and placement", replicaset.Options{ScaleDown: replicaset.NewestFirst})
	rs("no-slow-start", "ReplicaSets create all missing pods at once instead of in batches of 1, 2, 4, …", replicaset.Options{NoSlowStart: true})
	rs("burst-50", "ReplicaSets create or delete at most 50 pods per sync instead of 500", replicaset.Options{BurstReplicas: 50})
	Register(bundle("deploy-newest-only", "Deployments: a scaling event mid-rollout goes all to the newest ReplicaSet, not proportionally",
		choices{dep: deployment.Options{ScaleNewestOnly: true}}))
	Register(bundle("deploy-scale-down-first", "Deployments: a rolling update scales the old ReplicaSets down before the new one up",
		choices{dep: deployment.Options{ScaleDownFirst: true}}))
	for _, v := range statefulset.Variants {
		Register(bundle("sts-"+strings.TrimPrefix(v.Name, "sts-"), "StatefulSets: "+v.Summary, choices{sts: v.Options}))
	}
	for _, v := range hpa.Variants {
		if v.Name != "upstream" {
			Register(bundle("hpa-"+v.Name, "HorizontalPodAutoscalers: "+v.Summary, choices{hpa: v.Options}))
		}
	}
	for _, v := range daemonset.Variants {
		Register(bundle("ds-"+v.Name, "DaemonSets: "+v.Summary, choices{ds: v.Options}))
	}
}
