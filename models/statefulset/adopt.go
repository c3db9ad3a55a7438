package statefulset

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

// claimPods is upstream's getPodsForStatefulSet: of the pods the set controls
// and the orphans of its namespace, keep those that match its selector and
// are members by name (<set>-<ordinal>), release its pods that are not, adopt
// matching orphans that are not being deleted. Before the first adoption of a
// sync it reads the set once, uncached, to be sure it still exists and is not
// being deleted. It returns the pods the set now controls.
func (c *Controller) claimPods(set *appsv1.StatefulSet, selector labels.Selector) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	var canAdopt *error // checked once per sync, on the first adoption
	for _, key := range []string{ownedIndexKey(set), set.Namespace} {
		for _, o := range c.pods.ByIndex(indexController, key) {
			pod := o.(*corev1.Pod)
			matches := selector.Matches(labels.Set(pod.Labels)) && c.identify(set, pod).member
			if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
				if ref.UID != set.UID {
					continue
				}
				if matches {
					claimed = append(claimed, pod)
					continue
				}
				if set.DeletionTimestamp != nil {
					continue
				}
				if err := c.releasePod(set, pod); err != nil {
					errs = append(errs, err)
				}
				continue
			}
			if set.DeletionTimestamp != nil || !matches || pod.DeletionTimestamp != nil || pod.Namespace != set.Namespace {
				continue
			}
			if canAdopt == nil {
				err := c.checkCanAdopt(set)
				canAdopt = &err
			}
			if *canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", pod.Namespace, pod.Name, pod.UID, *canAdopt))
				continue
			}
			if err := c.adoptPod(set, pod); err != nil {
				if !apierrors.IsNotFound(err) {
					errs = append(errs, err)
				}
				continue
			}
			claimed = append(claimed, pod)
		}
	}
	return claimed, errors.Join(errs...)
}

// checkCanAdopt reads the set from the API server, not the cache.
func (c *Controller) checkCanAdopt(set *appsv1.StatefulSet) error {
	obj, err := c.ctx.Client().Get(apiserver.StatefulSets, set.Namespace, set.Name)
	if err != nil {
		return fmt.Errorf("can't recheck DeletionTimestamp: %w", err)
	}
	if obj.GetUID() != set.UID {
		return fmt.Errorf("can't recheck DeletionTimestamp: original StatefulSet %s/%s is gone: got uid %s, wanted %s", set.Namespace, set.Name, obj.GetUID(), set.UID)
	}
	if dt := obj.GetDeletionTimestamp(); dt != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", set.Namespace, set.Name, dt)
	}
	return nil
}

const adoptPatchType = types.StrategicMergePatchType

// adoptPatch adds set as controller, guarded by the object's uid.
func adoptPatch(set *appsv1.StatefulSet, uid types.UID) []byte {
	ref := apiserver.OwnerReference(set)
	return fmt.Appendf(nil, `{"metadata":{"ownerReferences":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}],"uid":%q}}`,
		ref.APIVersion, ref.Kind, ref.Name, ref.UID, uid)
}

func (c *Controller) adoptPod(set *appsv1.StatefulSet, pod *corev1.Pod) error {
	obj, err := c.ctx.Client().Patch(apiserver.Pods, pod.Namespace, pod.Name, adoptPatchType, adoptPatch(set, pod.UID), "")
	if err == nil {
		c.wrote(set, apiserver.Pods, obj)
	}
	return err
}

func (c *Controller) releasePod(set *appsv1.StatefulSet, pod *corev1.Pod) error {
	patch := fmt.Appendf(nil, `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, set.UID, pod.UID)
	obj, err := c.ctx.Client().Patch(apiserver.Pods, pod.Namespace, pod.Name, types.StrategicMergePatchType, patch, "")
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil // gone, or no longer ours
	}
	if err == nil {
		c.wrote(set, apiserver.Pods, obj)
	}
	return err
}

// wrote tells the consistency check about a write on set's behalf.
func (c *Controller) wrote(set *appsv1.StatefulSet, kind apiserver.Kind, obj apiserver.Object) {
	if c.consistency != nil && obj != nil {
		c.consistency.WroteAt(keyOf(set), set.UID, kind, obj.GetResourceVersion())
	}
}
