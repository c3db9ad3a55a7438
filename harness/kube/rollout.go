package kube

import "k8s.io/apimachinery/pkg/util/intstr"

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
