package daemonset

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

// adopter is one controller-ref manager (upstream's BaseControllerRefManager
// with RecheckDeletionTimestamp): it claims objects for one DaemonSet, and
// before its first adoption reads the DaemonSet once, uncached, to be sure
// it still exists and is not being deleted. Upstream makes a new one for
// every claim, so a sync may check more than once.
type adopter struct {
	c        *Controller
	ds       *appsv1.DaemonSet
	canAdopt *error // nil until checked
}

func (c *Controller) newAdopter(ds *appsv1.DaemonSet) *adopter { return &adopter{c: c, ds: ds} }

// claim is ClaimObject: whether the DaemonSet now controls obj (matches says
// whether its selector selects obj), adopting or releasing it as needed.
func (a *adopter) claim(obj metav1.Object, matches bool, kind apiserver.Kind) (bool, error) {
	ds := a.ds
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		if ref.UID != ds.UID {
			return false, nil
		}
		if matches {
			return true, nil
		}
		if ds.DeletionTimestamp != nil {
			return false, nil
		}
		if err := a.release(obj, kind); err != nil && !apierrors.IsNotFound(err) {
			return false, err
		}
		return false, nil
	}
	if ds.DeletionTimestamp != nil || !matches || obj.GetDeletionTimestamp() != nil || obj.GetNamespace() != ds.Namespace {
		return false, nil
	}
	if err := a.adopt(obj, kind); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

func (a *adopter) check() error {
	if a.canAdopt == nil {
		err := a.c.recheckOwner(a.ds)
		a.canAdopt = &err
	}
	return *a.canAdopt
}

// recheckOwner reads the DaemonSet from the API server, not the cache.
func (c *Controller) recheckOwner(ds *appsv1.DaemonSet) error {
	obj, err := c.ctx.Client().Get(apiserver.DaemonSets, ds.Namespace, ds.Name)
	if err != nil {
		return err
	}
	if obj.GetUID() != ds.UID {
		return fmt.Errorf("original DaemonSet %s/%s is gone: got uid %s, wanted %s", ds.Namespace, ds.Name, obj.GetUID(), ds.UID)
	}
	if dt := obj.GetDeletionTimestamp(); dt != nil {
		return fmt.Errorf("%s/%s has just been deleted at %v", ds.Namespace, ds.Name, dt)
	}
	return nil
}

func (a *adopter) adopt(obj metav1.Object, kind apiserver.Kind) error {
	if err := a.check(); err != nil {
		return fmt.Errorf("can't adopt %s %s/%s (%s): %w", kind, obj.GetNamespace(), obj.GetName(), obj.GetUID(), err)
	}
	ds := a.ds
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}],"uid":%q}}`,
		ds.Name, ds.UID, obj.GetUID())
	out, err := a.c.ctx.Client().Patch(kind, obj.GetNamespace(), obj.GetName(), types.StrategicMergePatchType, []byte(patch), "")
	if err == nil && kind == apiserver.Pods {
		a.c.podWritten(out.(*corev1.Pod))
	}
	return err
}

func (a *adopter) release(obj metav1.Object, kind apiserver.Kind) error {
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, a.ds.UID, obj.GetUID())
	out, err := a.c.ctx.Client().Patch(kind, obj.GetNamespace(), obj.GetName(), types.StrategicMergePatchType, []byte(patch), "")
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil // gone, or no longer ours: nothing to release
	}
	if err == nil && kind == apiserver.Pods {
		a.c.podWritten(out.(*corev1.Pod))
	}
	return err
}

// podWritten tells the consistency check about a pod write, on behalf of the
// DaemonSet that controls the pod now (none after a release), as upstream's
// pod-control write callback.
func (c *Controller) podWritten(pod *corev1.Pod) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	c.consistency.WroteAt(pod.Namespace+"/"+ref.Name, ref.UID, apiserver.Pods, pod.ResourceVersion)
}

// daemonPods is getDaemonPods: the pods the DaemonSet controls after
// claiming its own and matching orphans in its namespace, of any phase.
func (c *Controller) daemonPods(ds *appsv1.DaemonSet) ([]*corev1.Pod, error) {
	selector, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, err
	}
	adopter := c.newAdopter(ds)
	var claimed []*corev1.Pod
	var errs []error
	for _, idx := range []string{ownedIndexKey(ds), ds.Namespace} { // owned, then orphans
		for _, o := range c.pods.ByIndex(indexController, idx) {
			pod := o.(*corev1.Pod)
			ok, err := adopter.claim(pod, selector.Matches(labels.Set(pod.Labels)), apiserver.Pods)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				claimed = append(claimed, pod)
			}
		}
	}
	return claimed, joinErrors(errs)
}

func joinErrors(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}
