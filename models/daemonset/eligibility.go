package daemonset

import (
	"strconv"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ShouldRunDaemonPod is upstream's NodeShouldRunDaemonPod: whether ds wants a
// pod on node (shouldRun), and whether a pod of ds already there may stay
// (shouldContinueRunning).
//
// The node qualifies when the template's nodeName (if any) names it, its
// labels match the template's nodeSelector and required node affinity, and
// the daemon pod's tolerations (the template's, with the ones the controller
// adds: see kube.DaemonPodTolerations) tolerate every NoSchedule and NoExecute
// taint of the node. A node that fails only on taints may keep a pod already
// there if every NoExecute taint is tolerated (a NoSchedule taint keeps new
// pods away but evicts nobody).
func ShouldRunDaemonPod(node *corev1.Node, ds *appsv1.DaemonSet) (shouldRun, shouldContinueRunning bool) {
	return kube.NewDaemonEligibility(&ds.Spec.Template.Spec).ShouldRun(node)
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
