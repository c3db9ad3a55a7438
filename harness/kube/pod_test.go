package kube

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func readyPod(status corev1.ConditionStatus, since time.Time) *corev1.Pod {
	return &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(since)}}}}
}

// A pod is available at the very instant ready + minReadySeconds (v1.36),
// and then needs no further check: one "now" would requeue at the same
// virtual instant forever.
func TestAvailabilityAtTheBoundary(t *testing.T) {
	ready := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		pod       *corev1.Pod
		min       int32
		at        time.Duration
		available bool
		next      time.Duration
		found     bool
	}{
		{"waiting", readyPod(corev1.ConditionTrue, ready), 5, 2 * time.Second, false, 3 * time.Second, true},
		{"a nanosecond early", readyPod(corev1.ConditionTrue, ready), 5, 5*time.Second - 1, false, 1, true},
		{"exactly at it", readyPod(corev1.ConditionTrue, ready), 5, 5 * time.Second, true, 0, false},
		{"after it", readyPod(corev1.ConditionTrue, ready), 5, 6 * time.Second, true, 0, false},
		{"no minReadySeconds", readyPod(corev1.ConditionTrue, ready), 0, 0, true, 0, false},
		{"not ready", readyPod(corev1.ConditionFalse, ready), 5, time.Hour, false, 0, false},
		{"no transition time", readyPod(corev1.ConditionTrue, time.Time{}), 5, time.Hour, false, 0, false},
		{"no transition time, no minReadySeconds", readyPod(corev1.ConditionTrue, time.Time{}), 0, 0, true, 0, false},
		{"no conditions", &corev1.Pod{}, 0, 0, false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := ready.Add(tc.at)
			assert.Equal(t, tc.available, IsPodAvailable(tc.pod, tc.min, now))
			next, found := NextAvailabilityCheck(tc.pod, tc.min, now)
			assert.Equal(t, tc.found, found)
			if found {
				assert.Equal(t, tc.next, next)
			}
		})
	}
}

func TestFindMinNextPodAvailabilityCheck(t *testing.T) {
	ready := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	early, late := readyPod(corev1.ConditionTrue, ready), readyPod(corev1.ConditionTrue, ready.Add(2*time.Second))
	for _, tc := range []struct {
		name      string
		pods      []*corev1.Pod
		eval, now time.Duration
		want      time.Duration
		found     bool
	}{
		{"the earliest pod, counted from now", []*corev1.Pod{late, early}, time.Second, 2 * time.Second, 3 * time.Second, true},
		{"past it since the evaluation: at once", []*corev1.Pod{late, early}, time.Second, 6 * time.Second, 0, true},
		{"none waiting", []*corev1.Pod{early}, 5 * time.Second, 5 * time.Second, 0, false},
		{"no pods", nil, 0, 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := FindMinNextPodAvailabilityCheck(tc.pods, 5, ready.Add(tc.eval), ready.Add(tc.now))
			assert.Equal(t, tc.found, ok)
			assert.Equal(t, tc.want, d)
		})
	}
}

func TestPodTerminalAndActive(t *testing.T) {
	deleted := metav1.NewTime(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		phase            corev1.PodPhase
		deleting         bool
		terminal, active bool
	}{
		{"", false, false, true},
		{corev1.PodPending, false, false, true},
		{corev1.PodRunning, false, false, true},
		{corev1.PodUnknown, false, false, true},
		{corev1.PodRunning, true, false, false},
		{corev1.PodSucceeded, false, true, false},
		{corev1.PodFailed, false, true, false},
		{corev1.PodFailed, true, true, false},
	} {
		pod := &corev1.Pod{Status: corev1.PodStatus{Phase: tc.phase}}
		if tc.deleting {
			pod.DeletionTimestamp = &deleted
		}
		assert.Equal(t, tc.terminal, IsPodTerminal(pod), "%+v", tc)
		assert.Equal(t, tc.active, IsPodActive(pod), "%+v", tc)
	}
}
