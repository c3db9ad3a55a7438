package deployment

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// rolloutRolling is one step of a RollingUpdate: scale the new ReplicaSet up
// within maxSurge, else the old ones down within maxUnavailable (the
// ScaleDownFirst variant tries them the other way round); with neither to do
// and the rollout complete, clean up old revisions. Then the status.
func (c *Controller) rolloutRolling(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.newAndOld(d, rsList, true)
	if err != nil {
		return err
	}
	allRSs := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	steps := []func() (bool, error){
		func() (bool, error) { return c.reconcileNewReplicaSet(allRSs, newRS, d) },
		func() (bool, error) { return c.reconcileOldReplicaSets(allRSs, active(oldRSs), newRS, d) },
	}
	if c.opts.ScaleDownFirst {
		steps[0], steps[1] = steps[1], steps[0]
	}
	for _, step := range steps {
		scaled, err := step()
		if err != nil {
			return err
		}
		if scaled {
			return c.syncRolloutStatus(allRSs, newRS, d)
		}
	}
	if complete(d, &d.Status) {
		if err := c.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(allRSs, newRS, d)
}

// reconcileNewReplicaSet sizes the new ReplicaSet: down to spec.replicas if
// above, else up by what maxSurge allows (NewRSReplicas).
func (c *Controller) reconcileNewReplicaSet(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	switch {
	case specOf(newRS) == replicasOf(d):
		return false, nil
	case specOf(newRS) > replicasOf(d):
		scaled, _, err := c.scaleReplicaSet(newRS, replicasOf(d), d, false)
		return scaled, err
	}
	size, err := NewRSReplicas(d, allRSs, newRS)
	if err != nil {
		return false, err
	}
	scaled, _, err := c.scaleReplicaSet(newRS, size, d, false)
	return scaled, err
}

// reconcileOldReplicaSets scales the old ReplicaSets down by at most
//
//	Σ specs − (spec.replicas − maxUnavailable) − (new spec − new available)
//
// (so that the new ReplicaSet's unavailable pods do not let old ones go):
// first their unhealthy replicas, oldest ReplicaSet first, then available
// ones while more than spec.replicas − maxUnavailable are available. Errors
// of the scaling are dropped, as upstream drops them (the next sync retries).
func (c *Controller) reconcileOldReplicaSets(allRSs, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) (bool, error) {
	if sumSpec(oldRSs) == 0 {
		return false, nil
	}
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	newUnavailable := specOf(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumSpec(allRSs) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	oldRSs, cleaned, err := c.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown)
	if err != nil {
		return false, nil
	}
	allRSs = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	scaledDown, err := c.scaleDownOldForRollingUpdate(allRSs, oldRSs, d)
	if err != nil {
		return false, nil
	}
	return cleaned+scaledDown > 0, nil
}

// cleanupUnhealthyReplicas scales old ReplicaSets (oldest first) down by
// their replicas that are not available, up to limit in all: the ReplicaSet
// controller deletes not-ready, unscheduled and pending pods first, so this
// costs no availability. It returns the ReplicaSets as updated.
func (c *Controller) cleanupUnhealthyReplicas(oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment, limit int32) ([]*appsv1.ReplicaSet, int32, error) {
	byAge(oldRSs)
	var total int32
	for i, rs := range oldRSs {
		if total >= limit {
			break
		}
		if specOf(rs) == 0 || specOf(rs) == rs.Status.AvailableReplicas {
			continue
		}
		n := min(limit-total, specOf(rs)-rs.Status.AvailableReplicas)
		size := specOf(rs) - n
		if size > specOf(rs) {
			return nil, 0, fmt.Errorf("when cleaning up unhealthy replicas, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, specOf(rs), size)
		}
		_, updated, err := c.scaleReplicaSet(rs, size, d, false)
		if err != nil {
			return nil, total, err
		}
		total += n
		oldRSs[i] = updated
	}
	return oldRSs, total, nil
}

// scaleDownOldForRollingUpdate scales old ReplicaSets (oldest first) down by
// the available pods beyond spec.replicas − maxUnavailable.
func (c *Controller) scaleDownOldForRollingUpdate(allRSs, oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) (int32, error) {
	minAvailable := replicasOf(d) - MaxUnavailable(d)
	available := sumStatus(allRSs, statusAvailable)
	if available <= minAvailable {
		return 0, nil
	}
	byAge(oldRSs)
	want := available - minAvailable
	var total int32
	for _, rs := range oldRSs {
		if total >= want {
			break
		}
		if specOf(rs) == 0 {
			continue
		}
		n := min(specOf(rs), want-total)
		size := specOf(rs) - n
		if size > specOf(rs) {
			return 0, fmt.Errorf("when scaling down old RS, got invalid request to scale down %s/%s %d -> %d", rs.Namespace, rs.Name, specOf(rs), size)
		}
		if _, _, err := c.scaleReplicaSet(rs, size, d, false); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// rolloutRecreate: scale every old ReplicaSet to 0, wait until none of their
// pods is running, then create (or scale up) the new ReplicaSet.
func (c *Controller) rolloutRecreate(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, podMap map[string][]*corev1.Pod) error {
	// No new ReplicaSet yet: it is created only once the old pods are gone.
	newRS, oldRSs, err := c.newAndOld(d, rsList, false)
	if err != nil {
		return err
	}
	allRSs := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	scaledDown := false
	for _, rs := range active(oldRSs) {
		scaled, _, err := c.scaleReplicaSet(rs, 0, d, false)
		if err != nil {
			return err
		}
		scaledDown = scaledDown || scaled
	}
	if scaledDown {
		return c.syncRolloutStatus(allRSs, newRS, d)
	}
	if oldPodsRunning(newRS, oldRSs, podMap) {
		return c.syncRolloutStatus(allRSs, newRS, d)
	}
	if newRS == nil {
		if newRS, oldRSs, err = c.newAndOld(d, rsList, true); err != nil {
			return err
		}
		allRSs = append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	}
	if _, _, err := c.scaleReplicaSet(newRS, replicasOf(d), d, false); err != nil {
		return err
	}
	if complete(d, &d.Status) {
		if err := c.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(allRSs, newRS, d)
}

// oldPodsRunning: an old ReplicaSet still reports pods, or a pod of one is
// in neither Succeeded nor Failed (Unknown counts as running).
func oldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podMap map[string][]*corev1.Pod) bool {
	if sumStatus(oldRSs, statusReplicas) > 0 {
		return true
	}
	for uid, pods := range podMap {
		if newRS != nil && string(newRS.UID) == uid {
			continue
		}
		for _, p := range pods {
			if !kube.IsPodTerminal(p) {
				return true
			}
		}
	}
	return false
}
