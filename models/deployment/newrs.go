package deployment

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// findNewRS is the oldest ReplicaSet (rsList is in age order) whose template
// equals the Deployment's but for the pod-template-hash label.
func findNewRS(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	for _, rs := range rsList {
		if kube.EqualIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return rs
		}
	}
	return nil
}

// oldReplicaSets are all the others, in age order.
func oldReplicaSets(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	newRS := findNewRS(d, rsList)
	var out []*appsv1.ReplicaSet
	for _, rs := range rsList {
		if newRS == nil || rs.UID != newRS.UID {
			out = append(out, rs)
		}
	}
	return out
}

// newAndOld is getAllReplicaSetsAndSyncRevision: the old ReplicaSets, and the
// new one with its revision brought up to date (created first if create and
// it does not exist; nil if it does not and create is false).
func (c *Controller) newAndOld(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	old := oldReplicaSets(d, rsList)
	newRS, err := c.newReplicaSet(d, rsList, old, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, old, nil
}

// newReplicaSet is getNewReplicaSet.
func (c *Controller) newReplicaSet(d *appsv1.Deployment, rsList, oldRSs []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, error) {
	client := c.ctx.Client()
	existing := findNewRS(d, rsList)
	newRevision := strconv.FormatInt(maxRevision(oldRSs)+1, 10)

	if existing != nil {
		rs := existing.DeepCopy()
		changed := setNewRSAnnotations(d, rs, newRevision, true)
		if changed || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			obj, err := client.Update(rs)
			if err != nil {
				return nil, err
			}
			return obj.(*appsv1.ReplicaSet), nil
		}
		// The Deployment takes the revision of its new ReplicaSet.
		needsUpdate := setDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
		if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", rs.Name)))
			needsUpdate = true
		}
		if needsUpdate {
			if _, err := client.UpdateStatus(c.forWrite(d)); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	if !create {
		return nil, nil
	}

	// A new ReplicaSet: the template with the pod-template-hash label, in
	// labels, selector and template, named <deployment>-<hash>.
	tmpl := *d.Spec.Template.DeepCopy()
	hash := kube.ComputeHash(&tmpl, d.Status.CollisionCount)
	tmpl.Labels = withLabel(d.Spec.Template.Labels, podTemplateHashLabel, hash)
	selector := d.Spec.Selector.DeepCopy()
	if selector.MatchLabels == nil {
		selector.MatchLabels = map[string]string{}
	}
	selector.MatchLabels[podTemplateHashLabel] = hash
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            replicaSetName(d.Name, hash),
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{controllerRef(d)},
			Labels:          tmpl.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: selector, Template: tmpl},
	}
	replicas, err := NewRSReplicas(d, append(append([]*appsv1.ReplicaSet(nil), oldRSs...), rs), rs)
	if err != nil {
		return nil, err
	}
	if c.opts.ScaleDownFirst && isRolling(d) && sumSpec(oldRSs) > 0 {
		replicas = 0 // the old ReplicaSets go down first
	}
	rs.Spec.Replicas = &replicas
	setNewRSAnnotations(d, rs, newRevision, false)

	alreadyExists := false
	obj, err := client.Create(rs)
	var created *appsv1.ReplicaSet
	switch {
	case apierrors.IsAlreadyExists(err):
		// A stale cache, or a hash collision with a ReplicaSet of another
		// template (or another owner).
		alreadyExists = true
		cached := c.replicaSets.Get(rs.Namespace, rs.Name)
		if cached == nil {
			return nil, apierrors.NewNotFound(appsv1.Resource("replicaset"), rs.Name)
		}
		have := cached.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOfNoCopy(have); ref != nil && ref.UID == d.UID && kube.EqualIgnoreHash(&d.Spec.Template, &have.Spec.Template) {
			created, err = have, nil
			break
		}
		// A collision: bump collisionCount (a new hash next time) and retry.
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		*d.Status.CollisionCount++
		_, _ = client.UpdateStatus(c.forWrite(d))
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonFailedRSCreate, msg))
			_, _ = client.UpdateStatus(c.forWrite(d))
		}
		c.event(d, corev1.EventTypeWarning, ReasonFailedRSCreate, "%s", msg)
		return nil, err
	default:
		created = obj.(*appsv1.ReplicaSet)
	}
	if !alreadyExists && replicas > 0 {
		c.event(d, corev1.EventTypeNormal, reasonScalingReplicaSet, "Scaled up replica set %s from 0 to %d", created.Name, replicas)
	}
	needsUpdate := setDeploymentRevision(d, newRevision)
	if !alreadyExists && hasProgressDeadline(d) {
		setCondition(&d.Status, c.newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSet,
			fmt.Sprintf("Created new replica set %q", created.Name)))
		needsUpdate = true
	}
	if needsUpdate {
		_, err = client.UpdateStatus(c.forWrite(d))
	}
	return created, err
}

func withLabel(l map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(l)+1)
	for k, v := range l {
		out[k] = v
	}
	out[key] = value
	return out
}

// replicaSetName is <deployment>-<hash>, the Deployment's name cut short if
// the whole would be too long for a name.
func replicaSetName(deployment, hash string) string {
	room := validation.DNS1123SubdomainMaxLength - 1 - len(hash)
	if len(deployment) > room && room > 0 {
		deployment = deployment[:room]
	}
	return deployment + "-" + hash
}

// setDeploymentRevision sets the Deployment's revision annotation.
func setDeploymentRevision(d *appsv1.Deployment, revision string) bool {
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	if d.Annotations[RevisionAnnotation] == revision {
		return false
	}
	d.Annotations[RevisionAnnotation] = revision
	return true
}

// setNewRSAnnotations copies the Deployment's annotations (but kube.DeploymentOnlyAnnotation) to
// its new ReplicaSet, raises the ReplicaSet's revision to newRevision if it is
// lower (keeping the one it had in revision-history: a rollback to it), and on
// a ReplicaSet about to be created sets the replica annotations. It reports
// whether the annotations changed.
func setNewRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision string, exists bool) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if have, ok := rs.Annotations[k]; kube.DeploymentOnlyAnnotation(k) || (ok && have == v) {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	oldRevision, had := rs.Annotations[RevisionAnnotation]
	oldN, err := strconv.ParseInt(oldRevision, 10, 64)
	if err != nil {
		if oldRevision != "" {
			return false // not a number: left alone
		}
		oldN = 0
	}
	newN, err := strconv.ParseInt(newRevision, 10, 64)
	if err != nil {
		return false
	}
	if oldN < newN {
		rs.Annotations[RevisionAnnotation] = newRevision
		changed = true
		if had {
			rs.Annotations[RevisionHistoryAnnotation] = appendRevisionHistory(rs.Annotations[RevisionHistoryAnnotation], oldRevision)
		}
	}
	if !exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d)+MaxSurge(d)) {
		changed = true
	}
	return changed
}

// appendRevisionHistory adds a revision to the comma-separated history,
// dropping the oldest entries to stay within revisionHistoryMaxChars (and
// adding nothing if even that does not make room).
func appendRevisionHistory(history, revision string) string {
	if history == "" {
		return revision
	}
	entries := strings.Split(history, ",")
	total := len(history) + len(revision) + 1
	start := 0
	for total > revisionHistoryMaxChars && start < len(entries) {
		total -= len(entries[start]) + 1
		start++
	}
	if total > revisionHistoryMaxChars {
		return history
	}
	return strings.Join(append(entries[start:], revision), ",")
}

// setReplicasAnnotations records desired-replicas and max-replicas.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	for k, v := range map[string]string{DesiredReplicasAnnotation: strconv.Itoa(int(desired)), MaxReplicasAnnotation: strconv.Itoa(int(maxReplicas))} {
		if rs.Annotations[k] != v {
			rs.Annotations[k] = v
			changed = true
		}
	}
	return changed
}

func replicasAnnotationsNeedUpdate(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.Itoa(int(maxReplicas))
}
