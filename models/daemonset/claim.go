package daemonset

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// controllerKind is the kind a DaemonSet's controller references name.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// refManager is a controller-ref manager for one claim, as upstream makes
// one per claim (so a sync that claims pods and revisions may recheck the
// DaemonSet twice): it reads the DaemonSet once, uncached, before its first
// adoption. onWrite sees the objects its patches return.
func (c *Controller) refManager(ds *appsv1.DaemonSet, selector labels.Selector, onWrite func(apiserver.Object)) *controller.RefManager {
	return controller.NewRefManager(ds, controllerKind, selector,
		controller.PatchThrough(c.ctx.Client(), onWrite),
		controller.RecheckDeletionTimestamp(c.ctx.Client(), apiserver.DaemonSets, ds))
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
	var pods []*corev1.Pod
	for _, idx := range []string{controller.OwnedIndexKey(ds, apiserver.DaemonSets), ds.Namespace} { // owned, then orphans
		for _, o := range c.pods.ByIndex(controller.IndexController, idx) {
			pods = append(pods, o.(*corev1.Pod))
		}
	}
	return c.refManager(ds, selector, func(obj apiserver.Object) { c.podWritten(obj.(*corev1.Pod)) }).ClaimPods(pods)
}
