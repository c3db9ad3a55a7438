package hpa

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)

// pod is a Running pod requesting 100m that started at start and became
// ready at ready (zero: not ready).
func pod(name string, start, ready time.Time) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}}}
	p.Status.Phase = corev1.PodRunning
	st := metav1.NewTime(start)
	p.Status.StartTime = &st
	cond := corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(start)}
	if !ready.IsZero() {
		cond.Status, cond.LastTransitionTime = corev1.ConditionTrue, metav1.NewTime(ready)
	}
	p.Status.Conditions = []corev1.PodCondition{cond}
	return p
}

// old is a pod that has run and been ready for an hour.
func old(name string) *corev1.Pod { return pod(name, t0.Add(-time.Hour), t0.Add(-time.Hour)) }

func pending(name string) *corev1.Pod {
	p := old(name)
	p.Status.Phase = corev1.PodPending
	return p
}

func at(m int64) sample { return sample{value: m, timestamp: t0, window: 15 * time.Second} }

func TestResourceReplicas(t *testing.T) {
	calc := &calculator{now: t0, cpuInitialization: 5 * time.Minute, initialReadinessDelay: 30 * time.Second}
	tol := tolerances{0.1, 0.1}
	deleting := old("deleting")
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	failed := old("failed")
	failed.Status.Phase = corev1.PodFailed
	for _, tc := range []struct {
		name    string
		current int32
		pods    []*corev1.Pod
		metrics map[string]sample
		want    int32
		percent int32
	}{
		{"within tolerance: no change", 3, []*corev1.Pod{old("a"), old("b"), old("c")},
			map[string]sample{"a": at(54), "b": at(54), "c": at(54)}, 3, 54},
		{"scale up: ceil(3 × 90/50)", 3, []*corev1.Pod{old("a"), old("b"), old("c")},
			map[string]sample{"a": at(90), "b": at(90), "c": at(90)}, 6, 90},
		{"scale down: ceil(10 × 20/50) = 4 (0.4 × 10 is exactly 4)", 10,
			[]*corev1.Pod{old("a"), old("b"), old("c"), old("d"), old("e"), old("f"), old("g"), old("h"), old("i"), old("j")},
			map[string]sample{"a": at(20), "b": at(20), "c": at(20), "d": at(20), "e": at(20), "f": at(20), "g": at(20), "h": at(20), "i": at(20), "j": at(20)}, 4, 20},
		{"utilization is truncated to whole percent before the ratio", 3, []*corev1.Pod{old("a"), old("b"), old("c")},
			map[string]sample{"a": at(55), "b": at(55), "c": at(56)}, 3, 55},
		{"scale down with a pod without a sample: it is assumed at 100%, which lands within tolerance", 3,
			[]*corev1.Pod{old("a"), old("b"), old("c")}, map[string]sample{"a": at(20), "b": at(20)}, 3, 20},
		{"scale up with a pod without a sample: it is assumed at 0%", 3,
			[]*corev1.Pod{old("a"), old("b"), old("c")}, map[string]sample{"a": at(90), "b": at(90)}, 4, 90},
		{"scale up with pending pods: they count at 0%, here within tolerance", 6,
			[]*corev1.Pod{old("a"), old("b"), old("c"), pending("d"), pending("e"), pending("f")},
			map[string]sample{"a": at(90), "b": at(90), "c": at(90)}, 6, 90},
		{"scale down with pending pods: they are left out", 6,
			[]*corev1.Pod{old("a"), old("b"), old("c"), pending("d"), pending("e"), pending("f")},
			map[string]sample{"a": at(20), "b": at(20), "c": at(20)}, 2, 20},
		{"assumptions that reverse the direction change nothing", 4,
			[]*corev1.Pod{old("a"), old("b"), old("c"), old("d")}, map[string]sample{"a": at(40)}, 4, 40},
		{"terminating and failed pods are ignored, their samples too", 2,
			[]*corev1.Pod{old("a"), old("b"), deleting, failed},
			map[string]sample{"a": at(90), "b": at(90), "deleting": at(0), "failed": at(0)}, 4, 90},
		{"a CPU sample taken less than a window after the pod became ready does not count (start-up): it is unready, at 0%", 3,
			[]*corev1.Pod{old("a"), old("b"), pod("new", t0.Add(-time.Minute), t0.Add(-10*time.Second))},
			map[string]sample{"a": at(90), "b": at(90), "new": at(90)}, 4, 90},
		{"a window after becoming ready it counts", 3,
			[]*corev1.Pod{old("a"), old("b"), pod("new", t0.Add(-time.Minute), t0.Add(-15*time.Second))},
			map[string]sample{"a": at(90), "b": at(90), "new": at(90)}, 6, 90},
		{"past the start-up period, a pod that was never ready is set aside", 3,
			[]*corev1.Pod{old("a"), old("b"), pod("never", t0.Add(-10*time.Minute), time.Time{})},
			map[string]sample{"a": at(90), "b": at(90), "never": at(90)}, 4, 90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, pct, _, err := calc.resourceReplicas(tc.current, 50, tol, tc.pods, tc.metrics, "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.percent, pct)
		})
	}
}

func TestResourceReplicasErrors(t *testing.T) {
	calc := &calculator{now: t0, cpuInitialization: 5 * time.Minute, initialReadinessDelay: 30 * time.Second}
	tol := tolerances{0.1, 0.1}
	_, _, _, err := calc.resourceReplicas(3, 50, tol, nil, map[string]sample{"a": at(1)}, "")
	assert.EqualError(t, err, "no pods returned by selector while calculating replica count")
	_, _, _, err = calc.resourceReplicas(3, 50, tol, []*corev1.Pod{pending("a")}, map[string]sample{"a": at(1)}, "")
	assert.EqualError(t, err, "did not receive metrics for targeted pods (pods might be unready)")
	_, _, _, err = calc.resourceReplicas(3, 50, tol, []*corev1.Pod{old("a")}, map[string]sample{"a": at(1)}, "nope")
	assert.EqualError(t, err, "container nope not found in Pod a")
}

func TestRequests(t *testing.T) {
	p := old("a")
	p.Spec.Containers = append(p.Spec.Containers,
		corev1.Container{Name: "limit-only", Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("300m")}}},
		corev1.Container{Name: "none"})
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers = []corev1.Container{{Name: "sidecar", RestartPolicy: &always,
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}}},
		{Name: "init", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}
	r, err := requests([]*corev1.Pod{p}, "")
	require.NoError(t, err)
	assert.Equal(t, int64(100+300+apiserver.DefaultContainerCPURequest+50), r["a"], "limit as request, the default, the sidecar, not the init container")
	r, err = requests([]*corev1.Pod{p}, "limit-only")
	require.NoError(t, err)
	assert.Equal(t, int64(300), r["a"])
	p.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}
	r, err = requests([]*corev1.Pod{p}, "")
	require.NoError(t, err)
	assert.Equal(t, int64(2000), r["a"], "a pod-level request wins")
}

func TestPlainReplicas(t *testing.T) {
	calc := &calculator{now: t0, cpuInitialization: 5 * time.Minute, initialReadinessDelay: 30 * time.Second}
	got, avg, err := calc.plainReplicas(3, 50, tolerances{0.1, 0.1}, []*corev1.Pod{old("a"), old("b"), old("c")},
		map[string]sample{"a": at(90), "b": at(90), "c": at(90)}, true)
	require.NoError(t, err)
	assert.Equal(t, int32(6), got)
	assert.Equal(t, int64(90), avg)
	got, _, err = calc.plainReplicas(3, 50, tolerances{0.1, 0.1}, []*corev1.Pod{old("a"), old("b"), old("c")},
		map[string]sample{"a": at(20), "b": at(20)}, true)
	require.NoError(t, err)
	assert.Equal(t, int32(2), got, "on a scale-down a pod without a sample is assumed exactly on target: (20+20+50)/3 = 30, 0.6: ceil(1.8)")
}

func TestTolerancesFromBehavior(t *testing.T) {
	tol := tolerances{0.1, 0.1}
	assert.True(t, tol.within(0.9))
	assert.True(t, tol.within(1.1))
	assert.False(t, tol.within(1.11))
	assert.False(t, tol.within(0.89))
}
