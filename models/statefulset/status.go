package statefulset

import (
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// countStatus sets the replica counts of status from the pod lists: pods the
// server has (replicas), Running and Ready (ready), also available for
// minReadySeconds (available), and the non-terminating ones at the current
// and at the update revision.
func countStatus(status *appsv1.StatefulSetStatus, minReadySeconds int32, current, update string, now time.Time, lists ...[]*corev1.Pod) {
	status.Replicas, status.ReadyReplicas, status.AvailableReplicas = 0, 0, 0
	status.CurrentReplicas, status.UpdatedReplicas = 0, 0
	for _, pods := range lists {
		for _, p := range pods {
			if isCreated(p) {
				status.Replicas++
			}
			if isRunningAndReady(p) {
				status.ReadyReplicas++
				if kube.IsPodAvailable(p, minReadySeconds, now) {
					status.AvailableReplicas++
				}
			}
			if isCreated(p) && !isTerminating(p) {
				rev := podRevision(p)
				if rev == current {
					status.CurrentReplicas++
				}
				if rev == update {
					status.UpdatedReplicas++
				}
			}
		}
	}
}

// completeRollingUpdate: once every replica is updated and ready, the update
// revision becomes the current one.
func completeRollingUpdate(set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) {
	n := int32(replicasOf(set))
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		status.UpdatedReplicas == n && status.ReadyReplicas == n && status.Replicas == n {
		status.CurrentReplicas = status.UpdatedReplicas
		status.CurrentRevision = status.UpdateRevision
	}
}

// statusChanged is upstream's inconsistentStatus (the collision count alone
// is not a reason to write).
func statusChanged(set *appsv1.StatefulSet, s *appsv1.StatefulSetStatus) bool {
	cur := &set.Status
	return s.ObservedGeneration > cur.ObservedGeneration || s.Replicas != cur.Replicas ||
		s.CurrentReplicas != cur.CurrentReplicas || s.ReadyReplicas != cur.ReadyReplicas ||
		s.UpdatedReplicas != cur.UpdatedReplicas || s.CurrentRevision != cur.CurrentRevision ||
		s.AvailableReplicas != cur.AvailableReplicas || s.UpdateRevision != cur.UpdateRevision
}

// writeStatus completes a finished rolling update and writes the status if it
// changed, retrying conflicts with the cached set (DefaultRetry: 5 tries).
func (c *Controller) writeStatus(set *appsv1.StatefulSet, status *appsv1.StatefulSetStatus) error {
	completeRollingUpdate(set, status)
	if !statusChanged(set, status) {
		return nil
	}
	set = set.DeepCopy()
	return c.ctx.RetryOnConflict(controller.DefaultRetry, func() error {
		set.Status = *status.DeepCopy()
		updated, err := c.ctx.Client().UpdateStatus(set)
		if err == nil {
			c.wrote(updated.(*appsv1.StatefulSet), apiserver.StatefulSets, updated)
			return nil
		}
		if cached := c.sets.Get(set.Namespace, set.Name); cached != nil {
			set = cached.(*appsv1.StatefulSet).DeepCopy()
		}
		return err
	})
}
