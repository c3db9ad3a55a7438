package hpa_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/models/hpa"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// scenario is the web ReplicaSet at replicas, the HPAs given (YAML
// documents), a 90% load from the start and a step at 3m.
func scenario(t *testing.T, replicas int, hpas ...string) *workloads.Scenario {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web}
      spec:
        replicas: %d
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - {name: web, image: nginx}
`, replicas)
	for _, h := range hpas {
		b.WriteString("  - inline: |\n")
		for _, line := range strings.Split(strings.TrimSpace(h), "\n") {
			b.WriteString("      " + line + "\n")
		}
	}
	b.WriteString(`load:
  - {at: 0s, cpu: 90}
steps:
  - at: 3m
    wait: rs/web replicas>=0
`)
	sc, err := workloads.ParseScenario("test.yaml", []byte(b.String()), nil)
	require.NoError(t, err, b.String())
	return sc
}

func hpaYAML(name, ref string, spec string) string {
	return fmt.Sprintf(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: %s}
spec:
  scaleTargetRef: {%s}
  minReplicas: 2
  maxReplicas: 10
%s`, name, ref, spec)
}

const cpu50 = `  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}`

func hpaNamed(t *testing.T, o outcome, name string) *autoscalingv2.HorizontalPodAutoscaler {
	t.Helper()
	for _, obj := range o.c.API.Objects(apiserver.HorizontalPodAutoscalers) {
		if obj.GetName() == name {
			return obj.(*autoscalingv2.HorizontalPodAutoscaler)
		}
	}
	t.Fatalf("no HPA %s", name)
	return nil
}

func scaleTimes(ops []*history.Op) []float64 {
	var out []float64
	for _, op := range ops {
		if op.Client == "horizontal-pod-autoscaler" && op.Verb == "update" && op.Subresource == "scale" {
			out = append(out, op.Call.Time.Seconds())
		}
	}
	return out
}

func TestConditions(t *testing.T) {
	rs := "apiVersion: apps/v1, kind: ReplicaSet, name: web"
	for _, tc := range []struct {
		name     string
		replicas int
		hpas     []string
		opts     hpa.Options
		check    func(t *testing.T, o outcome)
	}{
		{"a missing target: FailedGetScale", 2, []string{hpaYAML("web", "apiVersion: apps/v1, kind: ReplicaSet, name: nope", cpu50)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				c := condition(hpaNamed(t, o, "web"), autoscalingv2.AbleToScale)
				assert.Equal(t, corev1.ConditionFalse, c.Status)
				assert.Equal(t, "FailedGetScale", c.Reason)
				assert.Contains(t, c.Message, `"nope" not found`)
			}},
		{"no apiVersion: resolved by kind", 2, []string{hpaYAML("web", "kind: ReplicaSet, name: web", cpu50)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				assert.Equal(t, []string{"4", "8", "10"}, scales(o.res.History))
			}},
		{"no apiVersion, strict: the core group has no ReplicaSet", 2, []string{hpaYAML("web", "kind: ReplicaSet, name: web", cpu50)}, hpa.Options{StrictTargetAPIVersion: true},
			func(t *testing.T, o outcome) {
				assert.Empty(t, scales(o.res.History))
				c := condition(hpaNamed(t, o, "web"), autoscalingv2.AbleToScale)
				assert.Equal(t, "FailedGetScale", c.Reason)
				assert.Contains(t, c.Message, `no matches for kind "ReplicaSet" in group ""`)
			}},
		{"two HPAs on one target: AmbiguousSelector, no scaling", 2, []string{hpaYAML("a", rs, cpu50), hpaYAML("b", rs, cpu50)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				assert.Empty(t, scales(o.res.History))
				for _, name := range []string{"a", "b"} {
					c := condition(hpaNamed(t, o, name), autoscalingv2.ScalingActive)
					assert.Equal(t, "AmbiguousSelector", c.Reason, name)
					assert.Contains(t, c.Message, "[default/a default/b]")
				}
			}},
		{"a target scaled to 0 is left alone", 0, []string{hpaYAML("web", rs, cpu50)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				assert.Empty(t, scales(o.res.History))
				h := hpaNamed(t, o, "web")
				assert.Equal(t, "ScalingDisabled", condition(h, autoscalingv2.ScalingActive).Reason)
				assert.Zero(t, h.Status.DesiredReplicas)
			}},
		{"above maxReplicas: down to it without metrics", 12, []string{hpaYAML("web", rs, cpu50)}, hpa.Options{Metrics: noMetrics{}},
			func(t *testing.T, o outcome) {
				assert.Equal(t, []string{"10"}, scales(o.res.History))
				assert.Equal(t, int32(10), hpaNamed(t, o, "web").Status.DesiredReplicas)
			}},
		{"a memory metric has no source", 2, []string{hpaYAML("web", rs, `  metrics:
  - type: Resource
    resource: {name: memory, target: {type: Utilization, averageUtilization: 50}}`)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				assert.Empty(t, scales(o.res.History))
				c := condition(hpaNamed(t, o, "web"), autoscalingv2.ScalingActive)
				assert.Equal(t, "FailedGetResourceMetric", c.Reason)
			}},
		{"an average value target", 2, []string{hpaYAML("web", rs, `  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: AverageValue, averageValue: 30m}}`)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				got := scales(o.res.History)
				require.NotEmpty(t, got)
				assert.Equal(t, "4", got[0], "90m against 30m: 2 × 3")
				assert.Equal(t, "10", got[len(got)-1], "up to the maximum")
				h := hpaNamed(t, o, "web")
				require.Len(t, h.Status.CurrentMetrics, 1)
				assert.Equal(t, "90m", h.Status.CurrentMetrics[0].Resource.Current.AverageValue.String())
				assert.Nil(t, h.Status.CurrentMetrics[0].Resource.Current.AverageUtilization)
			}},
		{"spec.behavior: one pod a minute up", 2, []string{hpaYAML("web", rs, cpu50+`
  behavior:
    scaleUp:
      policies: [{type: Pods, value: 1, periodSeconds: 60}]`)}, hpa.Options{},
			func(t *testing.T, o outcome) {
				got := scales(o.res.History)
				assert.Equal(t, []string{"3", "4", "5"}, got[:3])
				times := scaleTimes(o.res.History)
				for i := 1; i < len(times); i++ {
					assert.Greater(t, times[i]-times[i-1], 60.0, "one pod per minute: %v", times)
				}
				// At the end the target is either still climbing (the limit
				// holds it) or at maxReplicas: when the run ends depends on
				// when the checks conclude.
				assert.Contains(t, []string{"ScaleUpLimit", "TooManyReplicas"}, condition(hpaNamed(t, o, "web"), autoscalingv2.ScalingLimited).Reason)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, play(t, scenario(t, tc.replicas, tc.hpas...), tc.opts))
		})
	}
}

type noMetrics struct{}

func (noMetrics) PodMetrics(string, labels.Selector) []apiserver.PodMetrics { return nil }
