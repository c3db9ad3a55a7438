package deployment

import (
	"fmt"
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// The controller side of the deprecated rollback API (extensions/v1beta1
// DeploymentRollback, kept as the deprecated.deployment.rollback.to
// annotation): copy the template of the revision asked for (0: the one before
// the current) into the Deployment and clear the request. Today's kubectl
// rolls back on its own (workloads: rollout undo) and never sets it.

// rollbackTo is the revision the annotation asks for, or nil.
func rollbackTo(d *appsv1.Deployment) *int64 {
	v := d.Annotations[deprecatedRollbackToKey]
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func (c *Controller) rollback(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, oldRSs, err := c.newAndOld(d, rsList, true)
	if err != nil {
		return err
	}
	allRSs := append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS)
	revision := *rollbackTo(d)
	if revision == 0 {
		if revision = lastRevision(allRSs); revision == 0 {
			c.event(d, corev1.EventTypeWarning, reasonRollbackNotFound, "Unable to find last revision.")
			return c.clearRollbackTo(d)
		}
	}
	for _, rs := range allRSs {
		if rs == nil {
			continue
		}
		v, err := Revision(rs)
		if err != nil || v != revision {
			continue
		}
		if kube.EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			c.event(d, corev1.EventTypeWarning, reasonRollbackUnchanged, "The rollback revision contains the same template as current deployment %q", d.Name)
			return c.clearRollbackTo(d)
		}
		// The template, without the hash label, and the ReplicaSet's
		// annotations (but those only the Deployment has, which it keeps).
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, podTemplateHashLabel)
		d.Spec.Template = *tmpl
		d.Annotations = kube.RollbackAnnotations(d.Annotations, rs.Annotations)
		if err := c.clearRollbackTo(d); err != nil {
			return err
		}
		c.event(d, corev1.EventTypeNormal, reasonRollbackDone, "Rolled back deployment %q to revision %d", d.Name, revision)
		return nil
	}
	c.event(d, corev1.EventTypeWarning, reasonRollbackNotFound, "Unable to find the revision to rollback to.")
	return c.clearRollbackTo(d)
}

// clearRollbackTo removes the request and writes the Deployment.
func (c *Controller) clearRollbackTo(d *appsv1.Deployment) error {
	delete(d.Annotations, deprecatedRollbackToKey)
	if _, err := c.ctx.Client().Update(c.forWrite(d)); err != nil {
		return fmt.Errorf("rollback of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}
