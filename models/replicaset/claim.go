package replicaset

import (
	"errors"
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// claimPods is ClaimPods: keep our matching pods, release ours that stopped
// matching, adopt matching orphans. Before the first adoption of a sync it
// reads the owner once, uncached, to be sure it still exists and is not being
// deleted. It returns the pods the owner now controls.
func (c *Controller) claimPods(rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	var canAdopt *error // nil until checked, once per sync
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		matches := selector.Matches(labels.Set(pod.Labels))
		if ref != nil {
			if ref.UID != rs.UID {
				continue // someone else's
			}
			if matches {
				claimed = append(claimed, pod)
				continue
			}
			if rs.DeletionTimestamp != nil {
				continue
			}
			if err := c.releasePod(rs, pod); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if rs.DeletionTimestamp != nil || !matches || pod.DeletionTimestamp != nil || pod.Namespace != rs.Namespace {
			continue
		}
		if canAdopt == nil {
			err := c.checkCanAdopt(rs)
			canAdopt = &err
		}
		if *canAdopt != nil {
			errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
			continue
		}
		if err := c.adoptPod(rs, pod); err != nil {
			if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
			continue
		}
		claimed = append(claimed, pod)
	}
	return claimed, errors.Join(errs...)
}

// checkCanAdopt reads the owner from the API server, not the cache.
func (c *Controller) checkCanAdopt(rs *appsv1.ReplicaSet) error {
	obj, err := c.ctx.Client().Get(c.opts.Kind, rs.Namespace, rs.Name)
	if err != nil {
		return err
	}
	if obj.GetUID() != rs.UID {
		return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s", c.opts.Kind, rs.Namespace, rs.Name, obj.GetUID(), rs.UID)
	}
	if dt := obj.GetDeletionTimestamp(); dt != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", rs.Namespace, rs.Name, dt)
	}
	return nil
}

func (c *Controller) adoptPod(rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	ref := c.adapter.controllerRef(rs)
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}],"uid":%q}}`,
		ref.APIVersion, ref.Kind, ref.Name, ref.UID, pod.UID)
	obj, err := c.ctx.Client().Patch(apiserver.Pods, pod.Namespace, pod.Name, types.StrategicMergePatchType, []byte(patch), "")
	if err == nil && c.consistency != nil {
		c.consistency.WroteAt(keyOf(rs), rs.UID, apiserver.Pods, obj.GetResourceVersion())
	}
	return err
}

func (c *Controller) releasePod(rs *appsv1.ReplicaSet, pod *corev1.Pod) error {
	// The bytes upstream sends (GenerateDeleteOwnerRefStrategicMergeBytes:
	// uid first), so that histories compare byte for byte.
	patch := fmt.Sprintf(`{"metadata":{"uid":%q,"ownerReferences":[{"$patch":"delete","uid":%q}]}}`, pod.UID, rs.UID)
	_, err := c.ctx.Client().Patch(apiserver.Pods, pod.Namespace, pod.Name, types.StrategicMergePatchType, []byte(patch), "")
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil // gone, or no longer ours: nothing to release
	}
	return err
}
