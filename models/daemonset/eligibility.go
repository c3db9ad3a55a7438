package daemonset

import (
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShouldRunDaemonPod is upstream's NodeShouldRunDaemonPod: whether ds wants a
// pod on node (shouldRun), and whether a pod of ds already there may stay
// (shouldContinueRunning).
//
// The node qualifies when the template's nodeName (if any) names it, its
// labels match the template's nodeSelector and required node affinity, and
// the daemon pod's tolerations (the template's, with the ones the controller
// adds: see DaemonPodTolerations) tolerate every NoSchedule and NoExecute
// taint of the node. A node that fails only on taints may keep a pod already
// there if every NoExecute taint is tolerated (a NoSchedule taint keeps new
// pods away but evicts nobody).
func ShouldRunDaemonPod(node *corev1.Node, ds *appsv1.DaemonSet) (shouldRun, shouldContinueRunning bool) {
	return compileEligibility(ds).check(node)
}

// eligibility is ShouldRunDaemonPod with the DaemonSet's part worked out once
// per sync rather than once per node.
type eligibility struct {
	nodeName    string
	affinity    kube.RequiredNodeAffinity // the template's nodeSelector and required affinity
	tolerations []corev1.Toleration
}

func compileEligibility(ds *appsv1.DaemonSet) *eligibility {
	pod := &corev1.Pod{Spec: *ds.Spec.Template.Spec.DeepCopy()}
	addDaemonPodTolerations(&pod.Spec)
	return &eligibility{nodeName: pod.Spec.NodeName, affinity: kube.GetRequiredNodeAffinity(pod), tolerations: pod.Spec.Tolerations}
}

func (e *eligibility) check(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if e.nodeName != "" && e.nodeName != node.Name {
		return false, false
	}
	if !e.affinity.Match(node) {
		return false, false
	}
	if _, untolerated := kube.FindMatchingUntoleratedTaint(node.Spec.Taints, e.tolerations, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute); untolerated {
		_, untolerated := kube.FindMatchingUntoleratedTaint(node.Spec.Taints, e.tolerations, corev1.TaintEffectNoExecute)
		return false, !untolerated
	}
	return true, true
}

// DaemonPodTolerations returns spec's tolerations with the ones the
// DaemonSet controller gives every daemon pod (AddOrUpdateDaemonPodTolerations):
// not-ready and unreachable NoExecute with no time limit (so that node loss
// does not evict daemon pods), disk-, memory- and pid-pressure and
// unschedulable NoSchedule, and network-unavailable NoSchedule for
// hostNetwork pods.
func DaemonPodTolerations(spec *corev1.PodSpec) []corev1.Toleration {
	s := &corev1.PodSpec{Tolerations: append([]corev1.Toleration(nil), spec.Tolerations...), HostNetwork: spec.HostNetwork}
	addDaemonPodTolerations(s)
	return s.Tolerations
}

func addDaemonPodTolerations(spec *corev1.PodSpec) {
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

// TargetNodeName is the node a daemon pod is meant for (upstream's
// GetTargetNodeName): spec.nodeName once bound, else the value of the first
// required node-affinity matchFields requirement metadata.name In [node].
// ok is false when there is none, or it names more than one node.
func TargetNodeName(pod *corev1.Pod) (node string, ok bool) {
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

// pinToNode replaces the required node affinity of a daemon pod with the one
// term metadata.name In [node] (upstream's
// ReplaceDaemonSetPodNodeNameNodeAffinity), so that the default scheduler
// binds it there. Preferred terms and pod (anti-)affinity stay.
func pinToNode(affinity *corev1.Affinity, node string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
	}}}
	switch {
	case affinity == nil:
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}}
	case affinity.NodeAffinity == nil:
		affinity.NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}
	case affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil:
		affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	default:
		affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = sel.NodeSelectorTerms
	}
	return affinity
}

// templateGeneration is the deprecated.daemonset.template.generation
// annotation the API server keeps on a DaemonSet; nil if absent or not a
// number.
func templateGeneration(ds *appsv1.DaemonSet) *int64 {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}
