package kube

import (
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DaemonPodTolerations returns spec's tolerations with the ones the
// DaemonSet controller gives every daemon pod (upstream's
// AddOrUpdateDaemonPodTolerations): not-ready and unreachable NoExecute with
// no time limit (so that node loss does not evict daemon pods), disk-,
// memory- and pid-pressure and unschedulable NoSchedule, and
// network-unavailable NoSchedule for hostNetwork pods.
func DaemonPodTolerations(spec *corev1.PodSpec) []corev1.Toleration {
	s := &corev1.PodSpec{Tolerations: append([]corev1.Toleration(nil), spec.Tolerations...), HostNetwork: spec.HostNetwork}
	AddDaemonPodTolerations(s)
	return s.Tolerations
}

// AddDaemonPodTolerations adds, in place, the tolerations of
// DaemonPodTolerations to a daemon pod's spec.
func AddDaemonPodTolerations(spec *corev1.PodSpec) {
	add := func(key string, effect corev1.TaintEffect) {
		addOrUpdateToleration(spec, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect})
	}
	add(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)
	add(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)
	add(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)
	if spec.HostNetwork {
		add(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)
	}
}

// addOrUpdateToleration adds t, or replaces the tolerations with its key,
// operator, value and effect (one with a tolerationSeconds loses it), as
// upstream's AddOrUpdateTolerationInPodSpec. An identical one already there
// leaves the list as it is.
func addOrUpdateToleration(spec *corev1.PodSpec, t corev1.Toleration) {
	var out []corev1.Toleration
	replaced := false
	for _, have := range spec.Tolerations {
		if have.Key == t.Key && have.Operator == t.Operator && have.Value == t.Value && have.Effect == t.Effect {
			if apiequality.Semantic.DeepEqual(have, t) {
				return
			}
			out = append(out, t)
			replaced = true
			continue
		}
		out = append(out, have)
	}
	if !replaced {
		out = append(out, t)
	}
	spec.Tolerations = out
}

// DaemonEligibility is upstream's NodeShouldRunDaemonPod for one DaemonSet
// template, its node-independent part worked out once, so that a sync over
// many nodes does not redo it per node.
type DaemonEligibility struct {
	nodeName    string
	affinity    RequiredNodeAffinity // the template's nodeSelector and required affinity
	tolerations []corev1.Toleration
}

// NewDaemonEligibility compiles the rules of a DaemonSet's pod template.
func NewDaemonEligibility(template *corev1.PodSpec) *DaemonEligibility {
	pod := &corev1.Pod{Spec: corev1.PodSpec{NodeName: template.NodeName, NodeSelector: template.NodeSelector, Affinity: template.Affinity}}
	return &DaemonEligibility{nodeName: template.NodeName, affinity: GetRequiredNodeAffinity(pod), tolerations: DaemonPodTolerations(template)}
}

// ShouldRun says whether the DaemonSet wants a pod on node (shouldRun) and
// whether one already there may stay (shouldContinueRunning). The node
// qualifies when the template's nodeName (if any) names it, its labels and
// fields match the template's nodeSelector and required node affinity, and
// the daemon pod's tolerations tolerate every NoSchedule and NoExecute taint
// of the node. A node that fails only on taints may keep a pod already there
// if every NoExecute taint is tolerated (a NoSchedule taint keeps new pods
// away but evicts nobody).
func (e *DaemonEligibility) ShouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if e.nodeName != "" && e.nodeName != node.Name {
		return false, false
	}
	if !e.affinity.Match(node) {
		return false, false
	}
	if _, untolerated := FindMatchingUntoleratedTaint(node.Spec.Taints, e.tolerations, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute); untolerated {
		_, untolerated := FindMatchingUntoleratedTaint(node.Spec.Taints, e.tolerations, corev1.TaintEffectNoExecute)
		return false, !untolerated
	}
	return true, true
}

// DaemonPodTargetNode is the node a daemon pod is meant for (upstream's
// GetTargetNodeName): spec.nodeName once bound, else the value of the first
// required node-affinity matchFields requirement metadata.name In [node].
// ok is false when there is none, or it names more than one node.
func DaemonPodTargetNode(pod *corev1.Pod) (node string, ok bool) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, true
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", false
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range term.MatchFields {
			if r.Key == metav1.ObjectNameField && r.Operator == corev1.NodeSelectorOpIn {
				if len(r.Values) != 1 {
					return "", false
				}
				return r.Values[0], true
			}
		}
	}
	return "", false
}
