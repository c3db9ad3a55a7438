package hpa

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func TestStabilize(t *testing.T) {
	h := &history{}
	window := 5 * time.Minute
	assert.Equal(t, int32(10), h.stabilize(10, t0, window))
	assert.Equal(t, int32(10), h.stabilize(4, t0.Add(time.Minute), window), "a lower proposal waits for the window")
	assert.Equal(t, int32(10), h.stabilize(4, t0.Add(5*time.Minute), window), "the proposal of exactly a window ago still counts")
	assert.Equal(t, int32(4), h.stabilize(4, t0.Add(5*time.Minute+time.Second), window), "older ones do not")
	assert.Len(t, h.recs, 3, "the new proposal took the slot of the one that aged out")
	assert.Equal(t, int32(12), h.stabilize(12, t0.Add(6*time.Minute), window), "a scale-up is never held back")
	assert.Equal(t, int32(3), (&history{}).stabilize(3, t0, 0), "no window: every proposal at once")
	h = &history{}
	h.stabilize(10, t0, 0)
	assert.Equal(t, int32(2), h.stabilize(2, t0.Add(15*time.Second), 0))
}

func TestClampWithRules(t *testing.T) {
	for _, tc := range []struct {
		current, desired, min, max int32
		want                       limited
	}{
		{3, 20, 1, 100, limited{6, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"}},
		{1, 20, 1, 100, limited{4, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"}},
		{3, 8, 1, 5, limited{5, "TooManyReplicas", "the desired replica count is more than the maximum replica count"}},
		{6, 2, 3, 10, limited{3, "TooFewReplicas", "the desired replica count is less than the minimum replica count"}},
		{6, 4, 3, 10, limited{4, "DesiredWithinRange", "the desired count is within the acceptable range"}},
	} {
		assert.Equal(t, tc.want, clampWithRules(tc.current, tc.desired, tc.min, tc.max), "%+v", tc)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDefaultedBehavior(t *testing.T) {
	assert.Nil(t, defaultedBehavior(nil, time.Minute))
	given := &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}}
	b := defaultedBehavior(given, 5*time.Minute)
	require.NotNil(t, b.ScaleUp)
	assert.Equal(t, int32(0), *b.ScaleUp.StabilizationWindowSeconds)
	assert.Equal(t, autoscalingv2.MaxChangePolicySelect, *b.ScaleUp.SelectPolicy)
	assert.Len(t, b.ScaleUp.Policies, 2)
	assert.Equal(t, int32(300), *b.ScaleDown.StabilizationWindowSeconds, "the controller's window")
	assert.Equal(t, autoscalingv2.MaxChangePolicySelect, *b.ScaleDown.SelectPolicy)
	assert.Equal(t, given.ScaleDown.Policies, b.ScaleDown.Policies)
	assert.Nil(t, given.ScaleDown.StabilizationWindowSeconds, "the HPA's own spec is not changed")
	assert.Equal(t, int32(0), *defaultedBehavior(given, 0).ScaleDown.StabilizationWindowSeconds)
}

func TestBehaviorRateLimits(t *testing.T) {
	b := defaultedBehavior(&autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}},
	}, 0)
	h := &history{}
	// Scale-up defaults: max(+4 pods, +100%) per 15 s.
	assert.Equal(t, limited{20, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"},
		h.clampWithBehavior(10, 50, 1, 100, b.ScaleUp, b.ScaleDown, t0))
	assert.Equal(t, limited{5, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"},
		h.clampWithBehavior(1, 50, 1, 100, b.ScaleUp, b.ScaleDown, t0))
	h.record(b, 10, 20, t0)
	assert.Equal(t, int32(20), h.clampWithBehavior(20, 50, 1, 100, b.ScaleUp, b.ScaleDown, t0.Add(10*time.Second)).replicas,
		"the period's budget (from 10: 20) is spent")
	assert.Equal(t, int32(40), h.clampWithBehavior(20, 50, 1, 100, b.ScaleUp, b.ScaleDown, t0.Add(16*time.Second)).replicas,
		"a period later it is back")
	// Scale-down: one pod a minute.
	assert.Equal(t, limited{19, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"},
		h.clampWithBehavior(20, 2, 1, 100, b.ScaleUp, b.ScaleDown, t0.Add(time.Minute)))
	h.record(b, 20, 19, t0.Add(time.Minute))
	assert.Equal(t, int32(19), h.clampWithBehavior(19, 2, 1, 100, b.ScaleUp, b.ScaleDown, t0.Add(90*time.Second)).replicas)
	assert.Equal(t, int32(18), h.clampWithBehavior(19, 2, 1, 100, b.ScaleUp, b.ScaleDown, t0.Add(121*time.Second)).replicas)
	assert.Equal(t, limited{3, "TooFewReplicas", "the desired replica count is less than the minimum replica count"},
		h.clampWithBehavior(4, 1, 3, 100, b.ScaleUp, b.ScaleDown, t0.Add(time.Hour)))

	disabled := autoscalingv2.DisabledPolicySelect
	off := &autoscalingv2.HPAScalingRules{SelectPolicy: &disabled, StabilizationWindowSeconds: ptr(int32(0))}
	assert.Equal(t, int32(7), h.clampWithBehavior(7, 50, 1, 100, off, b.ScaleDown, t0.Add(time.Hour)).replicas, "scale-up disabled")

	minPolicy := autoscalingv2.MinChangePolicySelect
	least := &autoscalingv2.HPAScalingRules{SelectPolicy: &minPolicy, StabilizationWindowSeconds: ptr(int32(0)),
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}, {Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 15}}}
	assert.Equal(t, int32(11), (&history{}).clampWithBehavior(10, 50, 1, 100, least, b.ScaleDown, t0).replicas, "Min: +10% rounded up beats +4")
}

func TestStabilizeWithBehavior(t *testing.T) {
	up := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(60))}
	down := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(300))}
	h := &history{}
	got, _, _ := h.stabilizeWithBehavior(3, 3, up, down, t0)
	assert.Equal(t, int32(3), got)
	got, reason, _ := h.stabilizeWithBehavior(3, 8, up, down, t0.Add(30*time.Second))
	assert.Equal(t, int32(3), got, "a scale-up waits for the scale-up window: the lowest recent proposal")
	assert.Equal(t, "ScaleUpStabilized", reason)
	got, _, _ = h.stabilizeWithBehavior(3, 8, up, down, t0.Add(91*time.Second))
	assert.Equal(t, int32(8), got)
	got, reason, _ = h.stabilizeWithBehavior(8, 2, up, down, t0.Add(2*time.Minute))
	assert.Equal(t, int32(8), got, "a scale-down waits for the scale-down window: the highest recent proposal")
	assert.Equal(t, "ScaleDownStabilized", reason)
}
