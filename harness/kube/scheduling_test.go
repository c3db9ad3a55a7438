package kube

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRequiredNodeAffinityMatches(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"disk": "ssd"}}}
	name := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: op, Values: values}}}
	}
	label := func(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: op, Values: values}}}
	}
	for _, tc := range []struct {
		name     string
		selector map[string]string
		terms    []corev1.NodeSelectorTerm
		want     bool
	}{
		{"nothing required", nil, nil, true},
		{"nodeSelector", map[string]string{"disk": "hdd"}, nil, false},
		{"metadata.name In", nil, []corev1.NodeSelectorTerm{name("In", "a")}, true},
		{"metadata.name In two values: a parse error", nil, []corev1.NodeSelectorTerm{name("In", "a", "b")}, false},
		{"metadata.name Exists: a parse error", nil, []corev1.NodeSelectorTerm{name("Exists")}, false},
		{"metadata.name NotIn", nil, []corev1.NodeSelectorTerm{name("NotIn", "b")}, true},
		{"terms are ORed past a bad one", nil, []corev1.NodeSelectorTerm{name("Exists"), label("In", "hdd", "ssd")}, true},
		{"label NotIn", nil, []corev1.NodeSelectorTerm{label("NotIn", "ssd")}, false},
		{"an empty term matches nothing", nil, []corev1.NodeSelectorTerm{{}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: tc.selector}}
			if tc.terms != nil {
				pod.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
					RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: tc.terms}}}
			}
			assert.Equal(t, tc.want, RequiredNodeAffinityMatches(pod, node))
		})
	}
}

func TestTaints(t *testing.T) {
	noSchedule := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	noExecute := corev1.Taint{Key: "gone", Effect: corev1.TaintEffectNoExecute}
	taints := []corev1.Taint{noSchedule, noExecute}
	for _, tc := range []struct {
		name    string
		tols    []corev1.Toleration
		effects []corev1.TaintEffect
		want    string // the untolerated taint's key, "" if none
	}{
		{"none tolerated", nil, nil, "dedicated"},
		{"only NoExecute considered", nil, []corev1.TaintEffect{corev1.TaintEffectNoExecute}, "gone"},
		{"Equal, same value", []corev1.Toleration{{Key: "dedicated", Value: "db"}}, nil, "gone"},
		{"Equal, other value", []corev1.Toleration{{Key: "dedicated", Value: "web"}}, nil, "dedicated"},
		{"Exists without a key tolerates all", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, nil, ""},
		{"wrong effect", []corev1.Toleration{{Key: "gone", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			[]corev1.TaintEffect{corev1.TaintEffectNoExecute}, "gone"},
		{"Lt: the gate is off", []corev1.Toleration{{Key: "dedicated", Operator: "Lt", Value: "9"}, {Key: "gone", Operator: corev1.TolerationOpExists}}, nil, "dedicated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taint, found := FindMatchingUntoleratedTaint(taints, tc.tols, tc.effects...)
			assert.Equal(t, tc.want != "", found)
			assert.Equal(t, tc.want, taint.Key)
		})
	}
	assert.Equal(t, "dedicated", MatchingToleration([]corev1.Toleration{{Key: "x"}, {Key: "dedicated", Value: "db"}}, &noSchedule).Key)
	assert.Nil(t, MatchingToleration(nil, &noSchedule))
}
