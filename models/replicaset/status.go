package replicaset

import (
	"time"

	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// calculateStatus counts the owner's active pods: all, fully labelled (the
// template's labels), ready and available (ready for minReadySeconds); and sets
// or clears the ReplicaFailure condition after a failed create or delete.
func calculateStatus(rs *appsv1.ReplicaSet, active []*corev1.Pod, terminating *int32, manageErr error, now time.Time) appsv1.ReplicaSetStatus {
	status := *rs.Status.DeepCopy()
	tmpl := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var fully, ready, available int32
	for _, p := range active {
		if tmpl.Matches(labels.Set(p.Labels)) {
			fully++
		}
		if kube.IsPodReady(p) {
			ready++
			if kube.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				available++
			}
		}
	}
	failed := controller.GetCondition(status.Conditions, appsv1.ReplicaSetReplicaFailure, conditionType)
	switch {
	case manageErr != nil && failed == nil:
		reason := ""
		if diff := len(active) - int(*rs.Spec.Replicas); diff < 0 {
			reason = "FailedCreate"
		} else if diff > 0 {
			reason = "FailedDelete"
		}
		status.Conditions = append(controller.FilterOutCondition(status.Conditions, appsv1.ReplicaSetReplicaFailure, conditionType), appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: reason, Message: manageErr.Error(),
			LastTransitionTime: metav1.NewTime(now.Truncate(time.Second)),
		})
	case manageErr == nil && failed != nil:
		status.Conditions = controller.FilterOutCondition(status.Conditions, appsv1.ReplicaSetReplicaFailure, conditionType)
	}
	status.Replicas = int32(len(active))
	status.FullyLabeledReplicas = fully
	status.ReadyReplicas = ready
	status.AvailableReplicas = available
	status.TerminatingReplicas = terminating
	return status
}

func conditionType(c *appsv1.ReplicaSetCondition) appsv1.ReplicaSetConditionType { return c.Type }
