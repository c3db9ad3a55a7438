package daemonset_test

import (
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func dsWith(mutate func(spec *corev1.PodSpec)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "fluentd", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "fluentd"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"name": "fluentd"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "fluentd", Image: "fluentd:v2.5.2"}}},
			},
		},
	}
	if mutate != nil {
		mutate(&ds.Spec.Template.Spec)
	}
	return ds
}

func nodeWith(name string, lbls map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: lbls}, Spec: corev1.NodeSpec{Taints: taints}}
}

func taint(key, value string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: value, Effect: effect}
}

func required(terms ...corev1.NodeSelectorTerm) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
	}
}

func expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func fieldTerm(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

func tolerate(ts ...corev1.Toleration) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) { s.Tolerations = append(s.Tolerations, ts...) }
}

// The expectations below are read from upstream's NodeShouldRunDaemonPod and
// the helpers it calls (v1.36): component-helpers' nodeaffinity,
// FindMatchingUntoleratedTaint, Toleration.ToleratesTaint and
// AddOrUpdateDaemonPodTolerations.
func TestShouldRunDaemonPod(t *testing.T) {
	ssd := map[string]string{"disktype": "ssd", "cores": "8"}
	for _, tc := range []struct {
		name      string
		ds        func(*corev1.PodSpec)
		node      *corev1.Node
		run, keep bool
	}{
		{"plain node", nil, nodeWith("n1", nil), true, true},

		// Template nodeName.
		{"nodeName names the node", func(s *corev1.PodSpec) { s.NodeName = "n1" }, nodeWith("n1", nil), true, true},
		{"nodeName names another node", func(s *corev1.PodSpec) { s.NodeName = "n2" }, nodeWith("n1", nil), false, false},

		// nodeSelector.
		{"nodeSelector matches", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disktype": "ssd"} }, nodeWith("n1", ssd), true, true},
		{"nodeSelector does not match", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disktype": "hdd"} }, nodeWith("n1", ssd), false, false},
		{"nodeSelector on a node without labels", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disktype": "ssd"} }, nodeWith("n1", nil), false, false},
		{"nodeSelector and affinity must both match", func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"disktype": "ssd"}
			required(expr("cores", corev1.NodeSelectorOpIn, "4"))(s)
		}, nodeWith("n1", ssd), false, false},

		// Required node affinity.
		{"affinity In matches", required(expr("disktype", corev1.NodeSelectorOpIn, "ssd", "nvme")), nodeWith("n1", ssd), true, true},
		{"affinity NotIn excludes", required(expr("disktype", corev1.NodeSelectorOpNotIn, "ssd")), nodeWith("n1", ssd), false, false},
		{"affinity NotIn of a missing label matches", required(expr("gpu", corev1.NodeSelectorOpNotIn, "a100")), nodeWith("n1", ssd), true, true},
		{"affinity Exists", required(expr("disktype", corev1.NodeSelectorOpExists)), nodeWith("n1", ssd), true, true},
		{"affinity DoesNotExist", required(expr("disktype", corev1.NodeSelectorOpDoesNotExist)), nodeWith("n1", ssd), false, false},
		{"affinity Gt", required(expr("cores", corev1.NodeSelectorOpGt, "4")), nodeWith("n1", ssd), true, true},
		{"affinity Lt", required(expr("cores", corev1.NodeSelectorOpLt, "4")), nodeWith("n1", ssd), false, false},
		{"affinity Gt with a non-number does not parse", required(expr("cores", corev1.NodeSelectorOpGt, "many")), nodeWith("n1", ssd), false, false},
		{"terms are ORed", required(expr("disktype", corev1.NodeSelectorOpIn, "hdd"), expr("cores", corev1.NodeSelectorOpIn, "8")), nodeWith("n1", ssd), true, true},
		{"requirements of a term are ANDed", required(corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "disktype", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}},
			{Key: "cores", Operator: corev1.NodeSelectorOpIn, Values: []string{"4"}}}}), nodeWith("n1", ssd), false, false},
		{"a bad term does not spoil a good one", required(expr("disktype", "Near", "ssd"), expr("cores", corev1.NodeSelectorOpIn, "8")), nodeWith("n1", ssd), true, true},
		{"only empty terms match nothing", required(corev1.NodeSelectorTerm{}), nodeWith("n1", ssd), false, false},
		{"no terms match nothing", required(), nodeWith("n1", ssd), false, false},
		{"an empty term is skipped", required(corev1.NodeSelectorTerm{}, expr("disktype", corev1.NodeSelectorOpIn, "ssd")), nodeWith("n1", ssd), true, true},
		{"matchFields metadata.name In", required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpIn, "n1")), nodeWith("n1", nil), true, true},
		{"matchFields metadata.name In another", required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpIn, "n2")), nodeWith("n1", nil), false, false},
		{"matchFields metadata.name NotIn", required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpNotIn, "n1")), nodeWith("n1", nil), false, false},
		{"matchFields with two values does not parse", required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpIn, "n1", "n2")), nodeWith("n1", nil), false, false},
		{"matchFields Exists does not parse", required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpExists)), nodeWith("n1", nil), false, false},
		{"matchFields on an unknown field", required(fieldTerm("metadata.uid", corev1.NodeSelectorOpNotIn, "x")), nodeWith("n1", nil), true, true},
		{"expressions and fields of a term are ANDed", required(corev1.NodeSelectorTerm{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disktype", Operator: corev1.NodeSelectorOpIn, Values: []string{"ssd"}}},
			MatchFields:      []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}}),
			nodeWith("n1", ssd), false, false},

		// Taints the daemon pod tolerates by itself.
		{"not-ready NoExecute", nil, nodeWith("n1", nil, taint(corev1.TaintNodeNotReady, "", corev1.TaintEffectNoExecute)), true, true},
		{"unreachable NoExecute", nil, nodeWith("n1", nil, taint(corev1.TaintNodeUnreachable, "", corev1.TaintEffectNoExecute)), true, true},
		{"disk-pressure NoSchedule", nil, nodeWith("n1", nil, taint(corev1.TaintNodeDiskPressure, "", corev1.TaintEffectNoSchedule)), true, true},
		{"memory-pressure NoSchedule", nil, nodeWith("n1", nil, taint(corev1.TaintNodeMemoryPressure, "", corev1.TaintEffectNoSchedule)), true, true},
		{"pid-pressure NoSchedule", nil, nodeWith("n1", nil, taint(corev1.TaintNodePIDPressure, "", corev1.TaintEffectNoSchedule)), true, true},
		{"unschedulable NoSchedule (cordoned)", nil, nodeWith("n1", nil, taint(corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule)), true, true},
		{"not-ready NoSchedule is not tolerated but evicts nobody", nil, nodeWith("n1", nil,
			taint(corev1.TaintNodeNotReady, "", corev1.TaintEffectNoSchedule), taint(corev1.TaintNodeNotReady, "", corev1.TaintEffectNoExecute)), false, true},
		{"network-unavailable without hostNetwork", nil, nodeWith("n1", nil, taint(corev1.TaintNodeNetworkUnavailable, "", corev1.TaintEffectNoSchedule)), false, true},
		{"network-unavailable with hostNetwork", func(s *corev1.PodSpec) { s.HostNetwork = true },
			nodeWith("n1", nil, taint(corev1.TaintNodeNetworkUnavailable, "", corev1.TaintEffectNoSchedule)), true, true},
		{"disk-pressure NoExecute is not the tolerated effect", nil, nodeWith("n1", nil, taint(corev1.TaintNodeDiskPressure, "", corev1.TaintEffectNoExecute)), false, false},
		{"PreferNoSchedule taints do not count", nil, nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectPreferNoSchedule)), true, true},

		// Other taints against the template's tolerations.
		{"untolerated NoSchedule: no new pod, the old one stays", nil, nodeWith("n1", nil, taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule)), false, true},
		{"untolerated NoExecute: the pod goes", nil, nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute)), false, false},
		{"Exists toleration", tolerate(corev1.Toleration{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}),
			nodeWith("n1", nil, taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule)), true, true},
		{"toleration of another effect", tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute)), false, false},
		{"toleration without an effect tolerates every effect", tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute), taint("dedicated", "db", corev1.TaintEffectNoSchedule)), true, true},
		{"Equal with the taint's value", tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "db", Effect: corev1.TaintEffectNoExecute}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute)), true, true},
		{"Equal with another value", tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "web", Effect: corev1.TaintEffectNoExecute}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute)), false, false},
		{"an empty operator is Equal", tolerate(corev1.Toleration{Key: "dedicated", Value: "db"}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoSchedule)), true, true},
		{"Exists without a key tolerates everything", tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute), taint("a", "b", corev1.TaintEffectNoSchedule)), true, true},
		{"Gt tolerates nothing while its gate is off", tolerate(corev1.Toleration{Key: "tier", Operator: corev1.TolerationOpGt, Value: "1"}),
			nodeWith("n1", nil, taint("tier", "5", corev1.TaintEffectNoSchedule)), false, true},
		{"one untolerated taint among tolerated ones", tolerate(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}),
			nodeWith("n1", nil, taint("dedicated", "db", corev1.TaintEffectNoExecute), taint("spot", "", corev1.TaintEffectNoExecute)), false, false},
		{"a placement mismatch wins over tolerated taints", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disktype": "hdd"} },
			nodeWith("n1", ssd, taint(corev1.TaintNodeUnreachable, "", corev1.TaintEffectNoExecute)), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, keep := daemonset.ShouldRunDaemonPod(tc.node, dsWith(tc.ds))
			assert.Equal(t, tc.run, run, "shouldRun")
			assert.Equal(t, tc.keep, keep, "shouldContinueRunning")
		})
	}
}

func TestDaemonPodTolerations(t *testing.T) {
	forever := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	defaults := []corev1.Toleration{
		forever(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute),
		forever(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
		forever(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule),
		forever(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
		forever(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule),
		forever(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
	}
	secs := int64(300)
	timed := forever(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)
	timed.TolerationSeconds = &secs
	custom := corev1.Toleration{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name string
		spec corev1.PodSpec
		want []corev1.Toleration
	}{
		{"none of its own", corev1.PodSpec{}, defaults},
		{"its own come first", corev1.PodSpec{Tolerations: []corev1.Toleration{custom}}, append([]corev1.Toleration{custom}, defaults...)},
		{"hostNetwork adds network-unavailable", corev1.PodSpec{HostNetwork: true},
			append(append([]corev1.Toleration(nil), defaults...), forever(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))},
		{"a time-limited not-ready toleration becomes unlimited, in place", corev1.PodSpec{Tolerations: []corev1.Toleration{custom, timed}},
			append([]corev1.Toleration{custom}, defaults...)},
		{"an identical one is not repeated", corev1.PodSpec{Tolerations: []corev1.Toleration{forever(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)}},
			append([]corev1.Toleration{defaults[1], defaults[0]}, defaults[2:]...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, kube.DaemonPodTolerations(&tc.spec))
		})
	}
}

func TestTargetNodeName(t *testing.T) {
	pinned := func(values ...string) *corev1.Pod {
		p := &corev1.Pod{}
		required(fieldTerm(metav1.ObjectNameField, corev1.NodeSelectorOpIn, values...))(&p.Spec)
		return p
	}
	bound := pinned("n1")
	bound.Spec.NodeName = "n2"
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		node string
		ok   bool
	}{
		{"bound", bound, "n2", true},
		{"pinned", pinned("n1"), "n1", true},
		{"pinned to two nodes", pinned("n1", "n2"), "", false},
		{"neither", &corev1.Pod{}, "", false},
		{"affinity without a name term", func() *corev1.Pod {
			p := &corev1.Pod{}
			required(expr("disktype", corev1.NodeSelectorOpIn, "ssd"))(&p.Spec)
			return p
		}(), "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node, ok := kube.DaemonPodTargetNode(tc.pod)
			assert.Equal(t, tc.node, node)
			assert.Equal(t, tc.ok, ok)
		})
	}
}
