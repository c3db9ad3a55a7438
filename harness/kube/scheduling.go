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

// RequiredNodeAffinityMatches reports whether the pod's nodeSelector and
// required node affinity admit the node (nodeaffinity.GetRequiredNodeAffinity).
// A requirement that does not parse makes its term match nothing; the error
// is dropped, as the scheduler and the DaemonSet controller drop it.
func RequiredNodeAffinityMatches(pod *corev1.Pod, node *corev1.Node) bool {
	ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)
	return ok
}

// NodeSelectorMatches reports whether a required node affinity selector
// admits the node (nodeaffinity.LazyErrorNodeSelector, errors dropped).
func NodeSelectorMatches(sel *corev1.NodeSelector, node *corev1.Node) bool {
	ok, _ := nodeaffinity.NewLazyErrorNodeSelector(sel).Match(node)
	return ok
}
