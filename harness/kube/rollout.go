package kube

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ResolveFenceposts is upstream's (pkg/controller/deployment/util): it turns
// maxSurge and maxUnavailable (absolute or a percentage of desired; nil is 0)
// into numbers: the surge rounded up, the unavailability rounded down, and 1
// unavailable when both come out 0.
func ResolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
	zero := intstr.FromInt32(0)
	if maxSurge == nil {
		maxSurge = &zero
	}
	if maxUnavailable == nil {
		maxUnavailable = &zero
	}
	surge, err := intstr.GetScaledValueFromIntOrPercent(maxSurge, int(desired), true)
	if err != nil {
		return 0, 0, err
	}
	unavailable, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, int(desired), false)
	if err != nil {
		return 0, 0, err
	}
	if surge == 0 && unavailable == 0 {
		// Validation forbids both 0, but a percentage can round down to 0:
		// then one pod may be unavailable (a surge may be impossible, say for
		// quota).
		unavailable = 1
	}
	return int32(surge), int32(unavailable), nil
}

// deploymentOnly are upstream's annotationsToSkip (pkg/controller/deployment/util).
var deploymentOnly = map[string]bool{
	corev1.LastAppliedConfigAnnotation:          true,
	"deployment.kubernetes.io/revision":         true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	appsv1.DeprecatedRollbackTo:                 true,
}

// DeploymentOnlyAnnotation reports whether a Deployment's annotation k is
// never copied to its ReplicaSets, and so is kept on a rollback rather than
// taken from the ReplicaSet.
func DeploymentOnlyAnnotation(k string) bool { return deploymentOnly[k] }

// RollbackAnnotations are a Deployment's annotations after a rollback to a
// ReplicaSet's template, by the controller (the deprecated rollbackTo) or
// by kubectl: the Deployment's own (DeploymentOnlyAnnotation) and the
// ReplicaSet's others.
func RollbackAnnotations(deployment, rs map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range deployment {
		if deploymentOnly[k] {
			out[k] = v
		}
	}
	for k, v := range rs {
		if !deploymentOnly[k] {
			out[k] = v
		}
	}
	return out
}
