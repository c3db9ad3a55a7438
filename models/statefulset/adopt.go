package statefulset

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// claimPods is upstream's getPodsForStatefulSet: ClaimPods over the pods
// the set controls and the orphans of its namespace, matching those its
// selector selects that are members by name (<set>-<ordinal>). The manager
// rechecks the set (uncached) before its first adoption; adoptions are
// writes for the consistency check.
func (c *Controller) claimPods(set *appsv1.StatefulSet, selector labels.Selector) ([]*corev1.Pod, error) {
	var pods []*corev1.Pod
	for _, key := range []string{controller.OwnedIndexKey(set, apiserver.StatefulSets), set.Namespace} {
		for _, o := range c.pods.ByIndex(controller.IndexController, key) {
			pods = append(pods, o.(*corev1.Pod))
		}
	}
	m := controller.NewRefManager(set, controllerKind, selector,
		controller.PatchThrough(c.ctx.Client(), c.consistency.ControllerWrote(apiserver.Pods)),
		c.canAdopt(set))
	return m.ClaimPods(pods, func(pod *corev1.Pod) bool { return c.identify(set, pod).member })
}

// controllerKind is the kind a StatefulSet's controller references name.
var controllerKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

// canAdopt rechecks the set from the API server, not the cache.
func (c *Controller) canAdopt(set *appsv1.StatefulSet) func() error {
	return controller.RecheckDeletionTimestamp(c.ctx.Client(), apiserver.StatefulSets, set)
}

// wrote tells the consistency check about a write on set's behalf.
func (c *Controller) wrote(set *appsv1.StatefulSet, kind apiserver.Kind, obj apiserver.Object) {
	if c.consistency != nil && obj != nil {
		c.consistency.WroteAt(controller.KeyFunc(set), set.UID, kind, obj.GetResourceVersion())
	}
}
