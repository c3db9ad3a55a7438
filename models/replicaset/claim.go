package replicaset

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// claimPods is the controller's claimPods: ClaimPods with a controller-ref
// manager made for this sync, rechecking the owner (uncached) before the
// first adoption. An adoption is a write on the owner's behalf for the
// consistency check (upstream's pod-control write callback).
func (c *Controller) claimPods(rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	ref := c.adapter.controllerRef(rs)
	m := controller.NewRefManager(rs, schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind), selector,
		controller.PatchThrough(c.ctx.Client(), c.consistency.ControllerWrote(apiserver.Pods)),
		controller.RecheckDeletionTimestamp(c.ctx.Client(), c.opts.Kind, rs))
	return m.ClaimPods(pods)
}
