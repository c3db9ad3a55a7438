package replicaset

import (
	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// adapter lets one algorithm run ReplicaSets and ReplicationControllers, as
// upstream's replication controller wraps the ReplicaSet controller with a
// conversion layer.
type adapter interface {
	toRS(obj apiserver.Object) *appsv1.ReplicaSet
	fromRS(rs *appsv1.ReplicaSet) apiserver.Object
	controllerRef(rs *appsv1.ReplicaSet) metav1.OwnerReference
}

func adapterFor(kind apiserver.Kind) adapter {
	if kind == apiserver.ReplicationControllers {
		return rcAdapter{}
	}
	return rsAdapter{}
}

type rsAdapter struct{}

func (rsAdapter) toRS(obj apiserver.Object) *appsv1.ReplicaSet  { return obj.(*appsv1.ReplicaSet) }
func (rsAdapter) fromRS(rs *appsv1.ReplicaSet) apiserver.Object { return rs }
func (rsAdapter) controllerRef(rs *appsv1.ReplicaSet) metav1.OwnerReference {
	return ownerRef("apps/v1", "ReplicaSet", rs)
}

func ownerRef(apiVersion, kind string, rs *appsv1.ReplicaSet) metav1.OwnerReference {
	return *metav1.NewControllerRef(rs, schema.FromAPIVersionAndKind(apiVersion, kind))
}

type rcAdapter struct{}

// toRS converts a ReplicationController: its map selector becomes matchLabels.
func (rcAdapter) toRS(obj apiserver.Object) *appsv1.ReplicaSet {
	rc := obj.(*corev1.ReplicationController)
	rs := &appsv1.ReplicaSet{ObjectMeta: rc.ObjectMeta}
	rs.Spec.Replicas = rc.Spec.Replicas
	rs.Spec.MinReadySeconds = rc.Spec.MinReadySeconds
	if rc.Spec.Selector != nil {
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	rs.Status = appsv1.ReplicaSetStatus{
		Replicas: rc.Status.Replicas, FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
		ReadyReplicas: rc.Status.ReadyReplicas, AvailableReplicas: rc.Status.AvailableReplicas,
		ObservedGeneration: rc.Status.ObservedGeneration,
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message})
	}
	return rs
}

func (rcAdapter) fromRS(rs *appsv1.ReplicaSet) apiserver.Object {
	rc := &corev1.ReplicationController{ObjectMeta: rs.ObjectMeta}
	rc.Spec.Replicas = rs.Spec.Replicas
	rc.Spec.MinReadySeconds = rs.Spec.MinReadySeconds
	if rs.Spec.Selector != nil {
		rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	}
	tmpl := rs.Spec.Template
	rc.Spec.Template = &tmpl
	rc.Status = corev1.ReplicationControllerStatus{
		Replicas: rs.Status.Replicas, FullyLabeledReplicas: rs.Status.FullyLabeledReplicas,
		ReadyReplicas: rs.Status.ReadyReplicas, AvailableReplicas: rs.Status.AvailableReplicas,
		ObservedGeneration: rs.Status.ObservedGeneration,
	}
	for _, c := range rs.Status.Conditions {
		rc.Status.Conditions = append(rc.Status.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message})
	}
	return rc
}

func (rcAdapter) controllerRef(rs *appsv1.ReplicaSet) metav1.OwnerReference {
	return ownerRef("v1", "ReplicationController", rs)
}
