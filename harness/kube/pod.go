package kube

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// GetPodCondition returns the condition of type t in status, or nil.
func GetPodCondition(status *corev1.PodStatus, t corev1.PodConditionType) *corev1.PodCondition {
	if status == nil {
		return nil
	}
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// IsPodTerminal reports whether the pod has finished: phase Succeeded or
// Failed (its containers will not run again).
func IsPodTerminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// MaxContainerRestarts is the most restarts of any of the pod's containers
// (pkg/controller's maxContainerRestarts, by which ranking prefers to delete
// the pods that restarted most).
func MaxContainerRestarts(pod *corev1.Pod) int {
	n := 0
	for _, c := range pod.Status.ContainerStatuses {
		n = max(n, int(c.RestartCount))
	}
	return n
}

// IsPodActive is pkg/controller's IsPodActive: a pod not terminal and not
// being deleted, the kind a controller counts towards its replicas.
func IsPodActive(pod *corev1.Pod) bool {
	return !IsPodTerminal(pod) && pod.DeletionTimestamp == nil
}

// GetPodReadyCondition returns the pod's Ready condition, or nil.
func GetPodReadyCondition(status *corev1.PodStatus) *corev1.PodCondition {
	return GetPodCondition(status, corev1.PodReady)
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := GetPodReadyCondition(&pod.Status)
	return c != nil && c.Status == corev1.ConditionTrue
}

// PodReadySince is the last transition time of the pod's Ready condition
// (the zero time if it has none).
func PodReadySince(pod *corev1.Pod) time.Time {
	if c := GetPodReadyCondition(&pod.Status); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

// IsPodAvailable reports whether the pod is ready and has been for at least
// minReadySeconds at now, as podutil.IsPodAvailable in v1.36: available at
// the instant readiness + minReadySeconds is reached, not only after it. A
// ready pod without a transition time is available only when
// minReadySeconds is 0.
func IsPodAvailable(pod *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	if !IsPodReady(pod) {
		return false
	}
	return ReadyLongEnough(PodReadySince(pod), minReadySeconds, now)
}

// ReadyLongEnough is the time part of IsPodAvailable, for a pod ready since
// the given time: whether it counts as available at now.
func ReadyLongEnough(since time.Time, minReadySeconds int32, now time.Time) bool {
	if minReadySeconds == 0 {
		return true
	}
	return !since.IsZero() && since.Add(time.Duration(minReadySeconds)*time.Second).Compare(now) <= 0
}

// NextAvailabilityCheck is how long after now a ready pod that is not yet
// available becomes available (upstream's nextPodAvailabilityCheck); false
// if it is not ready, already available, or has no transition time.
func NextAvailabilityCheck(pod *corev1.Pod, minReadySeconds int32, now time.Time) (time.Duration, bool) {
	if minReadySeconds <= 0 || !IsPodReady(pod) {
		return 0, false
	}
	since := PodReadySince(pod)
	if since.IsZero() {
		return 0, false
	}
	d := since.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
	return d, d > 0
}

// FindMinNextPodAvailabilityCheck is upstream's function of that name: the
// pod that becomes available first, as of the status evaluation at
// lastEvaluation, and how long after now it does (0 if by now it has).
// false if no pod is waiting to become available.
func FindMinNextPodAvailabilityCheck(pods []*corev1.Pod, minReadySeconds int32, lastEvaluation, now time.Time) (time.Duration, bool) {
	var first *corev1.Pod
	var soonest time.Duration
	for _, p := range pods {
		if d, ok := NextAvailabilityCheck(p, minReadySeconds, lastEvaluation); ok && (first == nil || d < soonest) {
			first, soonest = p, d
		}
	}
	if first == nil {
		return 0, false
	}
	if d, ok := NextAvailabilityCheck(first, minReadySeconds, now); ok {
		return d, true
	}
	return 0, true // past it already: check at once
}
