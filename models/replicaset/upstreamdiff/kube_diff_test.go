package upstreamdiff

// harness/kube's pod rules and hashes against upstream's own functions:
// podutil.IsPodAvailable at and around the instant a pod becomes available,
// controller.FindMinNextPodAvailabilityCheck, history.HashControllerRevision.
// (ComputeHash and EqualIgnoreHash: deployment_diff_test.go.)

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	podutil "k8s.io/kubernetes/pkg/api/v1/pod"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/history"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/ctrlsim/ctrlsim/harness/kube"
)

var readyAt = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func podReadySince(status corev1.ConditionStatus, since time.Time) *corev1.Pod {
	return &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)}}}}
}

// TestIsPodAvailableAtTheBoundary: exactly at lastTransitionTime +
// minReadySeconds, a nanosecond and a second either side, for several
// minReadySeconds, and the pods that are never available by time.
func TestIsPodAvailableAtTheBoundary(t *testing.T) {
	offsets := []time.Duration{-time.Second, -1, 0, 1, time.Second}
	pods := map[string]*corev1.Pod{
		"ready":                 podReadySince(corev1.ConditionTrue, readyAt),
		"not ready":             podReadySince(corev1.ConditionFalse, readyAt),
		"unknown":               podReadySince(corev1.ConditionUnknown, readyAt),
		"ready, no time":        podReadySince(corev1.ConditionTrue, time.Time{}),
		"no Ready condition":    {Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}},
		"no conditions at all":  {},
		"ready at the boundary": podReadySince(corev1.ConditionTrue, readyAt.Add(-time.Nanosecond)),
	}
	atBoundary := 0
	for name, pod := range pods {
		for _, mrs := range []int32{0, 1, 5, 30, 600} {
			for _, off := range offsets {
				now := readyAt.Add(time.Duration(mrs)*time.Second + off)
				want := podutil.IsPodAvailable(pod, mrs, metav1.NewTime(now))
				got := kube.IsPodAvailable(pod, mrs, now)
				require.Equal(t, want, got, "%s, minReadySeconds %d, now = ready + minReadySeconds %+v", name, mrs, off)
				assert.Equal(t, podutil.IsPodReady(pod), kube.IsPodReady(pod), name)
				if name == "ready" && mrs > 0 && off == 0 {
					require.True(t, got, "available at the very instant (v1.36: Compare <= 0)")
					atBoundary++
				}
			}
		}
	}
	assert.Equal(t, 4, atBoundary, "the boundary itself is in the table")
}

// TestFindMinNextPodAvailabilityCheckAgrees: random pod sets, status
// evaluated at one instant and the check planned a little later.
func TestFindMinNextPodAvailabilityCheckAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 30))
	found := 0
	for n := 0; n < *numSets; n++ {
		var pods []*corev1.Pod
		for i := r.IntN(5); i > 0; i-- {
			status := []corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionTrue, corev1.ConditionFalse}[r.IntN(3)]
			since := readyAt.Add(time.Duration(r.IntN(20)) * time.Second)
			if r.IntN(10) == 0 {
				since = time.Time{}
			}
			pods = append(pods, podReadySince(status, since))
		}
		mrs := []int32{0, 1, 5, 10}[r.IntN(4)]
		eval := readyAt.Add(time.Duration(r.IntN(30))*time.Second + time.Duration(r.IntN(3)-1))
		now := eval.Add(time.Duration(r.IntN(4)) * time.Second / 2)
		want := controller.FindMinNextPodAvailabilityCheck(pods, mrs, eval, testingclock.NewFakePassiveClock(now))
		got, ok := kube.FindMinNextPodAvailabilityCheck(pods, mrs, eval, now)
		require.Equal(t, want != nil, ok, "case %d", n)
		if ok {
			found++
			require.Equal(t, *want, got, "case %d", n)
		}
	}
	assert.Positive(t, found)
}

// TestHashControllerRevisionAgrees: the StatefulSet revision names.
func TestHashControllerRevisionAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 31))
	for n := 0; n < *numSets; n++ {
		data := []byte(fmt.Sprintf(`{"spec":{"template":{"metadata":{"labels":{"app":"web-%d"}},"$patch":"replace"}}}`, r.IntN(50)))
		var probe *int32
		if r.IntN(2) == 0 {
			probe = pint(int32(r.IntN(5)))
		}
		rev := &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: data}}
		require.Equal(t, history.HashControllerRevision(rev, probe), kube.HashControllerRevision(data, probe), "case %d", n)
	}
}
