package kube

import (
	corev1 "k8s.io/api/core/v1"
	schedcorev1 "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// comparisonOperators is the TaintTolerationComparisonOperators gate: alpha
// and off by default in v1.36, so Lt and Gt tolerations tolerate nothing.
const comparisonOperators = false

// logger receives component-helpers' parse errors of Lt/Gt values, which
// the gate being off never produces. The zero logger discards.
var logger klog.Logger

// ToleratesTaint reports whether the toleration tolerates the taint.
func ToleratesTaint(t *corev1.Toleration, taint *corev1.Taint) bool {
	return t.ToleratesTaint(logger, taint, comparisonOperators)
}

// TolerationsTolerateTaint reports whether some toleration tolerates the
// taint.
func TolerationsTolerateTaint(tolerations []corev1.Toleration, taint *corev1.Taint) bool {
	return schedcorev1.TolerationsTolerateTaint(logger, tolerations, taint, comparisonOperators)
}

// MatchingToleration returns the first toleration that tolerates the taint,
// or nil. Taint eviction reads its tolerationSeconds.
func MatchingToleration(tolerations []corev1.Toleration, taint *corev1.Taint) *corev1.Toleration {
	for i := range tolerations {
		if ToleratesTaint(&tolerations[i], taint) {
			return &tolerations[i]
		}
	}
	return nil
}

// FindMatchingUntoleratedTaint returns the first taint with one of the
// effects (any effect if none are given) that no toleration tolerates, and
// whether there is one.
func FindMatchingUntoleratedTaint(taints []corev1.Taint, tolerations []corev1.Toleration, effects ...corev1.TaintEffect) (corev1.Taint, bool) {
	var filter func(*corev1.Taint) bool
	if len(effects) > 0 {
		filter = func(t *corev1.Taint) bool {
			for _, e := range effects {
				if t.Effect == e {
					return true
				}
			}
			return false
		}
	}
	return schedcorev1.FindMatchingUntoleratedTaint(logger, taints, tolerations, filter, comparisonOperators)
}

// RequiredNodeAffinity is a pod's nodeSelector and required node affinity,
// parsed once to be matched against many nodes
// (nodeaffinity.RequiredNodeAffinity).
type RequiredNodeAffinity struct {
	a nodeaffinity.RequiredNodeAffinity
}

// GetRequiredNodeAffinity parses the pod's nodeSelector and required node
// affinity.
func GetRequiredNodeAffinity(pod *corev1.Pod) RequiredNodeAffinity {
	return RequiredNodeAffinity{nodeaffinity.GetRequiredNodeAffinity(pod)}
}

// Match reports whether the node has the labels and fields required. A
// requirement that does not parse (matchFields other than metadata.name
// In/NotIn with one value, say) makes its term match nothing; the error is
// dropped, as the scheduler and the DaemonSet controller drop it.
func (r RequiredNodeAffinity) Match(node *corev1.Node) bool {
	ok, _ := r.a.Match(node)
	return ok
}

// RequiredNodeAffinityMatches is GetRequiredNodeAffinity(pod).Match(node).
func RequiredNodeAffinityMatches(pod *corev1.Pod, node *corev1.Node) bool {
	return GetRequiredNodeAffinity(pod).Match(node)
}
