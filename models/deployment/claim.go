package deployment

import (
	"errors"
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// claimReplicaSets is ClaimReplicaSets over every cached ReplicaSet of the
// namespace: keep ours that match the selector, release ours that stopped
// matching (unless the Deployment is being deleted), adopt matching orphans
// that are not being deleted. Before the first adoption of a sync it reads
// the Deployment once, uncached, to be sure it is still there and not being
// deleted. It returns the ReplicaSets the Deployment now controls.
func (c *Controller) claimReplicaSets(d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %v", d.Namespace, d.Name, err)
	}
	var claimed []*appsv1.ReplicaSet
	var errs []error
	var canAdopt *error // checked at most once per sync
	for _, o := range c.replicaSets.List(d.Namespace, nil) {
		rs := o.(*appsv1.ReplicaSet)
		matches := selector.Matches(labels.Set(rs.Labels))
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
			switch {
			case ref.UID != d.UID: // someone else's
			case matches:
				claimed = append(claimed, rs) // ours, even while we are being deleted
			case d.DeletionTimestamp != nil:
			default:
				if err := c.release(d, rs); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		if d.DeletionTimestamp != nil || !matches || rs.DeletionTimestamp != nil {
			continue
		}
		if canAdopt == nil {
			err := c.checkCanAdopt(d)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s/%s (%s): %w", rs.Namespace, rs.Name, rs.UID, *canAdopt))
			continue
		}
		if err := c.adopt(d, rs); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		claimed = append(claimed, rs)
	}
	return claimed, errors.Join(errs...)
}

// checkCanAdopt reads the Deployment from the API server, not the cache.
func (c *Controller) checkCanAdopt(d *appsv1.Deployment) error {
	fresh, err := c.ctx.Client().Get(apiserver.Deployments, d.Namespace, d.Name)
	if err != nil {
		return fmt.Errorf("can't recheck DeletionTimestamp: %v", err)
	}
	if fresh.GetUID() != d.UID {
		return fmt.Errorf("can't recheck DeletionTimestamp: original Deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, fresh.GetUID(), d.UID)
	}
	if dt := fresh.GetDeletionTimestamp(); dt != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", d.Namespace, d.Name, dt)
	}
	return nil
}

// adopt patches our controller reference in, guarded by the ReplicaSet's uid
// (the server refuses a second controller).
func (c *Controller) adopt(d *appsv1.Deployment, rs *appsv1.ReplicaSet) error {
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}],"uid":%q}}`,
		d.Name, d.UID, rs.UID)
	_, err := c.ctx.Client().Patch(apiserver.ReplicaSets, rs.Namespace, rs.Name, types.StrategicMergePatchType, []byte(patch), "")
	return err
}

// release patches our reference away; a ReplicaSet gone or no longer ours is
// not an error.
func (c *Controller) release(d *appsv1.Deployment, rs *appsv1.ReplicaSet) error {
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, d.UID, rs.UID)
	_, err := c.ctx.Client().Patch(apiserver.ReplicaSets, rs.Namespace, rs.Name, types.StrategicMergePatchType, []byte(patch), "")
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

func controllerRef(d *appsv1.Deployment) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name, UID: d.UID, Controller: &t, BlockOwnerDeletion: &t}
}
