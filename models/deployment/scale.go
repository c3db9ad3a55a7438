package deployment

import (
	"sort"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// syncStatusOnly writes the status of a Deployment being deleted, and nothing
// else.
func (c *Controller) syncStatusOnly(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.newAndOld(d, rsList, false)
	if err != nil {
		return err
	}
	return c.syncDeploymentStatus(append(oldRSs, newRS), newRS, d)
}

// syncScale is upstream's sync, for a scaling event or a paused Deployment:
// scale (ScalePlan), clean up old ReplicaSets if paused, write the status.
func (c *Controller) syncScale(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.newAndOld(d, rsList, false)
	if err != nil {
		return err
	}
	for _, t := range ScalePlan(d, newRS, oldRSs, c.opts.ScaleNewestOnly) {
		if _, _, err := c.scaleReplicaSet(t.RS, t.Replicas, d, t.Force); err != nil {
			return err // requeued: the next sync starts over
		}
	}
	if d.Spec.Paused && rollbackTo(d) == nil {
		if err := c.cleanupDeployment(oldRSs, d); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(append(oldRSs, newRS), newRS, d)
}

// isScalingEvent: an active ReplicaSet's desired-replicas annotation differs
// from spec.replicas (the Deployment was scaled since it last sized them).
func (c *Controller) isScalingEvent(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, error) {
	newRS, oldRSs, err := c.newAndOld(d, rsList, false)
	if err != nil {
		return false, err
	}
	for _, rs := range active(append(oldRSs, newRS)) {
		if desired, ok := annotationInt32(rs, DesiredReplicasAnnotation); ok && desired != replicasOf(d) {
			return true, nil
		}
	}
	return false, nil
}

// scaleReplicaSet sets a ReplicaSet's size and replica annotations. Without
// force it writes only when the size changes; with force also when only the
// annotations are out of date. It reports whether the size changed.
func (c *Controller) scaleReplicaSet(rs *appsv1.ReplicaSet, size int32, d *appsv1.Deployment, force bool) (bool, *appsv1.ReplicaSet, error) {
	if !force && specOf(rs) == size {
		return false, rs, nil
	}
	resize := specOf(rs) != size
	maxReplicas := replicasOf(d) + MaxSurge(d)
	if !resize && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), maxReplicas) {
		return false, rs, nil
	}
	from := specOf(rs)
	cp := rs.DeepCopy()
	cp.Spec.Replicas = &size
	setReplicasAnnotations(cp, replicasOf(d), maxReplicas)
	obj, err := c.ctx.Client().Update(cp)
	if err != nil {
		return false, nil, err
	}
	updated := obj.(*appsv1.ReplicaSet)
	if !resize {
		return false, updated, nil
	}
	dir := "up"
	if size < from {
		dir = "down"
	}
	c.event(d, corev1.EventTypeNormal, reasonScalingReplicaSet, "Scaled %s replica set %s from %d to %d", dir, updated.Name, from, size)
	return true, updated, nil
}

// cleanupDeployment deletes the oldest revisions beyond revisionHistoryLimit,
// among old ReplicaSets not being deleted; only those with no replicas, in
// spec and status, whose status is of their generation.
func (c *Controller) cleanupDeployment(oldRSs []*appsv1.ReplicaSet, d *appsv1.Deployment) error {
	if !hasRevisionHistoryLimit(d) {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	excess := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if excess <= 0 {
		return nil
	}
	sort.SliceStable(alive, func(i, j int) bool { return byRevision(alive[i], alive[j]) })
	for _, rs := range alive[:excess] {
		if rs.Status.Replicas != 0 || specOf(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration || rs.DeletionTimestamp != nil {
			continue
		}
		if err := c.ctx.Client().Delete(apiserver.ReplicaSets, rs.Namespace, rs.Name, nil); err != nil && !apierrors.IsNotFound(err) {
			return err // stop: the server may be overloaded
		}
	}
	return nil
}

// byRevision orders by revision, then age (also when a revision does not
// parse).
func byRevision(a, b *appsv1.ReplicaSet) bool {
	ra, errA := Revision(a)
	rb, errB := Revision(b)
	if errA != nil || errB != nil || ra == rb {
		return olderThan(a, b)
	}
	return ra < rb
}
