package deployment

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

func hasRevisionHistoryLimit(d *appsv1.Deployment) bool {
	return d.Spec.RevisionHistoryLimit != nil && *d.Spec.RevisionHistoryLimit != math.MaxInt32
}

// newCondition is a condition updated and transitioned now.
func (c *Controller) newCondition(t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string) appsv1.DeploymentCondition {
	now := metav1.NewTime(c.ctx.Now())
	return appsv1.DeploymentCondition{Type: t, Status: status, LastUpdateTime: now, LastTransitionTime: now, Reason: reason, Message: message}
}

func conditionType(c *appsv1.DeploymentCondition) appsv1.DeploymentConditionType { return c.Type }

// getCondition returns a copy of the condition of type t, or nil.
func getCondition(s appsv1.DeploymentStatus, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return controller.GetCondition(s.Conditions, t, conditionType)
}

// setCondition puts cond in place of the condition of its type, unless that
// one has the same status and reason already; an unchanged status keeps its
// lastTransitionTime.
func setCondition(s *appsv1.DeploymentStatus, cond appsv1.DeploymentCondition) {
	cur := getCondition(*s, cond.Type)
	if cur != nil && cur.Status == cond.Status && cur.Reason == cond.Reason {
		return
	}
	if cur != nil && cur.Status == cond.Status {
		cond.LastTransitionTime = cur.LastTransitionTime
	}
	s.Conditions = append(withoutCondition(s.Conditions, cond.Type), cond)
}

func withoutCondition(cs []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType) []appsv1.DeploymentCondition {
	return controller.FilterOutCondition(cs, t, conditionType)
}

// forWrite is the Deployment as the API server will store it: condition
// times at one-second precision. The controller keeps comparing its own
// in-memory copy, with full precision, as upstream's does.
func (c *Controller) forWrite(d *appsv1.Deployment) *appsv1.Deployment {
	out := d.DeepCopy()
	for i := range out.Status.Conditions {
		cond := &out.Status.Conditions[i]
		cond.LastUpdateTime = metav1.NewTime(cond.LastUpdateTime.Truncate(time.Second))
		cond.LastTransitionTime = metav1.NewTime(cond.LastTransitionTime.Truncate(time.Second))
	}
	return out
}

// Sums over ReplicaSets (nil entries, a missing new ReplicaSet, count 0).
func sumStatus(rss []*appsv1.ReplicaSet, f func(*appsv1.ReplicaSet) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(rs)
		}
	}
	return n
}

func statusReplicas(rs *appsv1.ReplicaSet) int32  { return rs.Status.Replicas }
func statusReady(rs *appsv1.ReplicaSet) int32     { return rs.Status.ReadyReplicas }
func statusAvailable(rs *appsv1.ReplicaSet) int32 { return rs.Status.AvailableReplicas }

// terminatingReplicas sums status.terminatingReplicas (the
// DeploymentReplicaSetTerminatingReplicas gate, on by default since 1.35);
// unknown (nil) when a ReplicaSet its controller has synced does not report
// it.
func terminatingReplicas(rss []*appsv1.ReplicaSet) *int32 {
	var n int32
	for _, rs := range rss {
		switch {
		case rs == nil:
		case rs.Status.ObservedGeneration == 0 && rs.Status.TerminatingReplicas == nil:
		case rs.Status.TerminatingReplicas == nil:
			return nil
		default:
			n += *rs.Status.TerminatingReplicas
		}
	}
	return &n
}

// calculateStatus is the Deployment's status from its ReplicaSets' (the
// conditions carried over).
func calculateStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) appsv1.DeploymentStatus {
	available := sumStatus(allRSs, statusAvailable)
	unavailable := max(0, sumSpec(allRSs)-available)
	status := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(allRSs, statusReplicas),
		UpdatedReplicas:     sumStatus([]*appsv1.ReplicaSet{newRS}, statusReplicas),
		ReadyReplicas:       sumStatus(allRSs, statusReady),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		CollisionCount:      d.Status.CollisionCount,
		TerminatingReplicas: terminatingReplicas(allRSs),
	}
	status.Conditions = append(status.Conditions, d.Status.Conditions...)
	return status
}

// statusOf is calculateStatus with the Available condition: True when at
// least spec.replicas − maxUnavailable pods are available.
func (c *Controller) statusOf(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) appsv1.DeploymentStatus {
	status := calculateStatus(allRSs, newRS, d)
	if sumStatus(allRSs, statusAvailable) >= replicasOf(d)-MaxUnavailable(d) {
		setCondition(&status, c.newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability."))
	} else {
		setCondition(&status, c.newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability."))
	}
	return status
}

// complete: every desired replica updated and available, no old pods, and
// the status is of this generation.
func complete(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	n := replicasOf(d)
	return s.UpdatedReplicas == n && s.Replicas == n && s.AvailableReplicas == n && s.ObservedGeneration >= d.Generation
}

// progressing: more updated, ready or available pods than the status says,
// or fewer old ones.
func progressing(d *appsv1.Deployment, s *appsv1.DeploymentStatus) bool {
	old := d.Status
	return s.UpdatedReplicas > old.UpdatedReplicas ||
		s.Replicas-s.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		s.ReadyReplicas > old.ReadyReplicas ||
		s.AvailableReplicas > old.AvailableReplicas
}

// timedOut: the Progressing condition was last updated more than
// progressDeadlineSeconds ago (or says so already); never after a completed
// rollout.
func timedOut(d *appsv1.Deployment, s *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	cond := getCondition(*s, appsv1.DeploymentProgressing)
	switch {
	case cond == nil, cond.Reason == ReasonNewRSAvailable:
		return false
	case cond.Reason == ReasonTimedOut:
		return true
	}
	return cond.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// syncDeploymentStatus writes the status if it changed.
func (c *Controller) syncDeploymentStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	status := c.statusOf(allRSs, newRS, d)
	if reflect.DeepEqual(d.Status, status) {
		return nil
	}
	d.Status = status
	_, err := c.ctx.Client().UpdateStatus(c.forWrite(d))
	return err
}

// syncRolloutStatus is the status of a rollout: the Progressing condition
// (NewReplicaSetAvailable when complete, ReplicaSetUpdated while progress is
// made, ProgressDeadlineExceeded once the deadline passed without any),
// ReplicaFailure carried over from the ReplicaSets, and a requeue for the
// deadline check when nothing changed.
func (c *Controller) syncRolloutStatus(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, d *appsv1.Deployment) error {
	status := c.statusOf(allRSs, newRS, d)
	if !hasProgressDeadline(d) {
		status.Conditions = withoutCondition(status.Conditions, appsv1.DeploymentProgressing)
	}
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	done := status.Replicas == status.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(d) && !done {
		subject := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case complete(d, &status):
			setCondition(&status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable,
				subject+" has successfully progressed."))
		case progressing(d, &status):
			// Same reason, new lastUpdateTime: set by hand, since
			// setCondition keeps a condition whose reason is unchanged.
			cond := c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, subject+" is progressing.")
			if cur != nil {
				if cur.Status == corev1.ConditionTrue {
					cond.LastTransitionTime = cur.LastTransitionTime
				}
				status.Conditions = withoutCondition(status.Conditions, appsv1.DeploymentProgressing)
			}
			setCondition(&status, cond)
		case timedOut(d, &status, c.ctx.Now()):
			setCondition(&status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut,
				subject+" has timed out progressing."))
		}
	}
	if failure := replicaFailure(allRSs, newRS); failure != nil {
		setCondition(&status, *failure)
	} else {
		status.Conditions = withoutCondition(status.Conditions, appsv1.DeploymentReplicaFailure)
	}
	if reflect.DeepEqual(d.Status, status) {
		c.requeueStuck(d, status)
		return nil
	}
	d.Status = status
	_, err := c.ctx.Client().UpdateStatus(c.forWrite(d))
	return err
}

// replicaFailure is the new ReplicaSet's ReplicaFailure condition, else the
// first old one's, as a Deployment condition.
func replicaFailure(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	from := func(rs *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
		if rs == nil {
			return nil
		}
		for _, rc := range rs.Status.Conditions {
			if rc.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{Type: appsv1.DeploymentConditionType(rc.Type), Status: rc.Status,
					LastTransitionTime: rc.LastTransitionTime, LastUpdateTime: rc.LastTransitionTime, Reason: rc.Reason, Message: rc.Message}
			}
		}
		return nil
	}
	if cond := from(newRS); cond != nil {
		return cond
	}
	for _, rs := range allRSs {
		if cond := from(rs); cond != nil {
			return cond
		}
	}
	return nil
}

// requeueStuck schedules the deadline check of a rollout that shows no
// progress: at lastUpdateTime + progressDeadlineSeconds (plus a second), or
// at once (rate limited) if that is less than a second away.
func (c *Controller) requeueStuck(d *appsv1.Deployment, status appsv1.DeploymentStatus) {
	cur := getCondition(d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil || complete(d, &status) || cur.Reason == ReasonTimedOut {
		return
	}
	after := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(c.ctx.Now())
	if after < time.Second {
		c.queue.AddRateLimited(controller.KeyFunc(d))
		return
	}
	c.queue.AddAfter(controller.KeyFunc(d), after+time.Second)
}

// checkPausedConditions sets Progressing Unknown with DeploymentPaused or
// DeploymentResumed when the Deployment was paused or resumed (not over a
// timed-out rollout).
func (c *Controller) checkPausedConditions(d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return nil
	}
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	switch {
	case d.Spec.Paused && !pausedCond:
		setCondition(&d.Status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused"))
	case !d.Spec.Paused && pausedCond:
		setCondition(&d.Status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed"))
	default:
		return nil
	}
	_, err := c.ctx.Client().UpdateStatus(c.forWrite(d))
	return err
}
