package hpa_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/hpa"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// strategy is upstream's ReplicaSet and ReplicationController controllers
// plus the autoscaler with opts.
func strategy(t *testing.T, opts hpa.Options) plugin.Strategy {
	t.Helper()
	return models.UpstreamWith(plugin.Controller{Name: "horizontal-pod-autoscaler", Kinds: []apiserver.Kind{apiserver.HorizontalPodAutoscalers},
		Run: func(ctx *controller.Context, tr *trace.Recorder) {
			o := opts
			o.Name, o.Trace = ctx.Name(), tr
			hpa.StartWithContext(ctx, o)
		}})
}

// outcome is a run, the cluster it ran on, and the HPA predicate with the
// model's recommendation, fed every commit of the run.
type outcome struct {
	res  *run.Result
	c    *cluster.Cluster
	pred check.Predicate
}

func play(t *testing.T, sc *workloads.Scenario, opts hpa.Options) outcome {
	t.Helper()
	var o outcome
	res, err := run.Run(run.Config{Scenario: sc, Strategy: strategy(t, opts), Seed: 1, Setup: func(c *cluster.Cluster) {
		o.c = c
		o.pred = check.HPAs(hpa.Recommender(c.API, opts))
		c.API.OnCommit(o.pred.Observe)
	}})
	require.NoError(t, err)
	o.res = res
	return o
}

// scales are the replica counts the autoscaler wrote, in order.
func scales(ops []*history.Op) []string {
	var out []string
	for _, w := range modeltest.ScaleWrites(ops, "horizontal-pod-autoscaler") {
		_, replicas, _ := strings.Cut(w, "=")
		out = append(out, replicas)
	}
	return out
}

func theHPA(t *testing.T, c *cluster.Cluster) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	objs := c.API.Objects(apiserver.HorizontalPodAutoscalers)
	require.Len(t, objs, 1)
	return objs[0].(*autoscalingv2.HorizontalPodAutoscaler)
}

func condition(h *autoscalingv2.HorizontalPodAutoscaler, typ autoscalingv2.HorizontalPodAutoscalerConditionType) autoscalingv2.HorizontalPodAutoscalerCondition {
	for _, c := range h.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return autoscalingv2.HorizontalPodAutoscalerCondition{}
}

func TestCatalogRSHPA(t *testing.T) {
	sc, err := workloads.Lookup("rs-hpa")
	require.NoError(t, err)
	o := play(t, sc, hpa.Options{})
	runtest.RequirePass(t, o.res.Summary)
	// 90% against 50%: 3 → 6, then (per-pod load stays at 90%) up to the
	// maximum, 10; at 20%: 10 → 4 once the window forgets the 90% proposals,
	// → 3 five minutes later.
	assert.Equal(t, []string{"6", "8", "10", "4", "3"}, scales(o.res.History))
	ok, why := o.pred.Holds()
	assert.True(t, ok, "the HPA predicate with the model's recommendation holds at the end: %s", why)

	h := theHPA(t, o.c)
	assert.Equal(t, int32(3), h.Status.CurrentReplicas)
	assert.Equal(t, int32(3), h.Status.DesiredReplicas)
	require.NotNil(t, h.Status.LastScaleTime)
	require.Len(t, h.Status.CurrentMetrics, 1)
	assert.Equal(t, int32(20), *h.Status.CurrentMetrics[0].Resource.Current.AverageUtilization)
	assert.Equal(t, "20m", h.Status.CurrentMetrics[0].Resource.Current.AverageValue.String(), "20% of the default 100m request")
	assert.Equal(t, corev1.ConditionTrue, condition(h, autoscalingv2.AbleToScale).Status)
	assert.Equal(t, "ValidMetricFound", condition(h, autoscalingv2.ScalingActive).Reason)
	assert.Equal(t, "TooFewReplicas", condition(h, autoscalingv2.ScalingLimited).Reason, "2 proposed, 3 the minimum")

	again := play(t, sc, hpa.Options{})
	assert.Equal(t, o.res.Summary.Digest, again.res.Summary.Digest, "same seed, same history")
}

func TestNoStabilizationFlaps(t *testing.T) {
	// A ReplicaSet whose load swings every minute.
	var plays []outcome
	for _, opts := range []hpa.Options{{}, {NoStabilization: true}} {
		sc, err := workloads.LoadScenario("testdata/hpa-flap.yaml")
		require.NoError(t, err)
		o := play(t, sc, opts)
		runtest.RequirePass(t, o.res.Summary)
		plays = append(plays, o)
	}
	up, flap := plays[0], plays[1]

	downs := func(s []string) int {
		n := 0
		for i := 1; i < len(s); i++ {
			a, _ := strconv.Atoi(s[i-1])
			b, _ := strconv.Atoi(s[i])
			if b < a {
				n++
			}
		}
		return n
	}
	// Upstream climbs to the maximum during the first 90% minute and holds it
	// through the dips; without the window every dip is a scale-down.
	assert.Equal(t, []string{"4", "8"}, scales(up.res.History))
	flaps := scales(flap.res.History)
	t.Logf("upstream %v, no-stabilization %v", scales(up.res.History), flaps)
	assert.GreaterOrEqual(t, downs(flaps), 2, "without stabilization the target follows every dip: %v", flaps)
	assert.Greater(t, len(flaps), len(scales(up.res.History)))
}

func TestRecommenderNeedsEveryMetric(t *testing.T) {
	sc, err := workloads.Lookup("rs-hpa")
	require.NoError(t, err)
	o := play(t, sc, hpa.Options{})
	rec := hpa.Recommender(o.c.API, hpa.Options{})
	h := theHPA(t, o.c).DeepCopy()
	r, ok := rec(h)
	require.True(t, ok)
	assert.Equal(t, int32(2), r, "3 pods at 20% against 50%: ceil(1.2)")
	h.Spec.Metrics = append(h.Spec.Metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
		Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps"}}})
	_, ok = rec(h)
	assert.False(t, ok, "a metric without a source: no recommendation")
	h = theHPA(t, o.c).DeepCopy()
	h.Spec.ScaleTargetRef.Name = "nope"
	_, ok = rec(h)
	assert.False(t, ok)
}
