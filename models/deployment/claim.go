package deployment

import (
	"fmt"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// claimReplicaSets is getReplicaSetsForDeployment: ClaimReplicaSets over
// every cached ReplicaSet of the namespace, with a controller-ref manager
// made for this sync that rechecks the Deployment (uncached) before its
// first adoption. It returns the ReplicaSets the Deployment now controls.
func (c *Controller) claimReplicaSets(d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %v", d.Namespace, d.Name, err)
	}
	var sets []*appsv1.ReplicaSet
	for _, o := range c.replicaSets.List(d.Namespace, nil) {
		sets = append(sets, o.(*appsv1.ReplicaSet))
	}
	m := controller.NewRefManager(d, appsv1.SchemeGroupVersion.WithKind("Deployment"), selector,
		controller.PatchThrough(c.ctx.Client(), nil),
		controller.RecheckDeletionTimestamp(c.ctx.Client(), apiserver.Deployments, d))
	return m.ClaimReplicaSets(sets)
}

func controllerRef(d *appsv1.Deployment) metav1.OwnerReference {
	return *metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))
}
