package workloads_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
)

// Every catalog entry parses, is named after its file, and says what it is;
// the ones a model or actor of ctrlsim does not have yet say what they need.
func TestCatalog(t *testing.T) {
	upstream, err := models.Lookup("upstream")
	require.NoError(t, err)
	// What each scenario needs that the upstream strategy or the runner does
	// not have yet ("" for nothing).
	needs := map[string]string{
		"rs-self-heal": "", "rs-chaos-stale-cache": "", "rs-adopt-after": "", "rs-adopt-before": "", "rs-orphan-delete-readopt": "", "rs-isolate-by-relabel": "",
		"rs-scale-down-deletion-cost": "", "rs-node-loss": "", "rs-hpa": "",
		"rc-reschedule-node-failure": "", "rc-canary-tracks": "", "rc-scale": "", "rc-scale-preconditions": "", "rc-rolling-update": "",
		"deploy-rolling-update": "", "deploy-bad-image-undo": "", "deploy-pause-resume": "", "deploy-history-limit-0": "",
		"sts-ordered-identity": "", "ds-node-add-remove": "", "scale-burst-10k": "",
	}
	names := workloads.Names()
	assert.ElementsMatch(t, keys(needs), names, "the catalog is the list above")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sc, err := workloads.Lookup(name)
			require.NoError(t, err)
			assert.Equal(t, name, sc.Name)
			assert.NotEmpty(t, sc.Summary)
			assert.NotEmpty(t, sc.Objects)
			assert.Equal(t, name == "scale-burst-10k", sc.Heavy, "heavy")
			got := ""
			if kind, _, missing := upstream.Missing(sc.AllObjects()); missing {
				got = string(kind)
			} else if _, err := sc.Unsupported(); err != nil {
				got = err.Error()
			}
			assert.Equal(t, needs[name], got)
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Facts the new catalog scenarios are built on.
func TestCatalogFacts(t *testing.T) {
	lookup := func(name string) *workloads.Scenario {
		sc, err := workloads.Lookup(name)
		require.NoError(t, err)
		return sc
	}
	sc := lookup("deploy-bad-image-undo")
	assert.Equal(t, []string{"nginx:1.91"}, sc.Cluster.Kubelet.UnpullableImages, "the image that does not exist")
	assert.Equal(t, map[string]string{"nginx": "nginx:1.91"}, sc.Steps[0].Images)
	assert.Equal(t, workloads.RolloutUndo, sc.Steps[1].Action)

	sc = lookup("deploy-history-limit-0")
	d := sc.Objects[0].(*appsv1.Deployment)
	require.NotNil(t, d.Spec.RevisionHistoryLimit)
	assert.Equal(t, int32(0), *d.Spec.RevisionHistoryLimit)
	last := sc.Steps[len(sc.Steps)-1]
	assert.Equal(t, workloads.RolloutUndo, last.Action)
	assert.Equal(t, "no rollout history found", last.ExpectErrorMessage, "undo refused")

	sc = lookup("deploy-pause-resume")
	assert.Equal(t, []workloads.Action{workloads.RolloutPause, workloads.SetImage, workloads.RolloutResume, workloads.Wait},
		[]workloads.Action{sc.Steps[0].Action, sc.Steps[1].Action, sc.Steps[2].Action, sc.Steps[3].Action})

	sc = lookup("rc-rolling-update")
	require.Len(t, sc.Steps[0].Objects, 1)
	assert.Equal(t, "frontend-v2", sc.Steps[0].Objects[0].GetName())

	sc = lookup("rs-hpa")
	require.Len(t, sc.Load, 3)
	for _, lp := range sc.Load {
		assert.Equal(t, "rs/frontend", lp.Target)
	}
	assert.Equal(t, []int32{30, 90, 20}, []int32{sc.Load[0].CPU, sc.Load[1].CPU, sc.Load[2].CPU})
	assert.Equal(t, apiserver.HorizontalPodAutoscalers, apiserver.KindOf(sc.Objects[1]))

	sc = lookup("ds-node-add-remove")
	var actions []workloads.Action
	for _, s := range sc.Steps {
		actions = append(actions, s.Action)
	}
	assert.Subset(t, actions, []workloads.Action{workloads.AddNode, workloads.Drain, workloads.DeleteNode})

	sc = lookup("scale-burst-10k")
	assert.Equal(t, 100, sc.Cluster.NodeCount)
	assert.Equal(t, int32(10000), sc.Steps[0].Replicas)
	assert.Equal(t, int32(0), sc.Steps[1].Replicas)
}
