package check_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/check/checktest"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func node(name, role string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{"role": role}},
		Spec: corev1.NodeSpec{Taints: taints}}
}

// daemonSet agent runs on the role=worker nodes; two of them, n1 and n2.
func daemonSet() *appsv1.DaemonSet {
	t := checktest.PodTemplate("agent:1")
	t.Spec.NodeSelector = map[string]string{"role": "worker"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "ds-agent", Generation: 1},
		Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: t},
		Status:     appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2},
	}
}

// daemonPod is agent's pod for a node: bound by spec.nodeName, or (unbound)
// by the node-affinity term the controller writes.
func daemonPod(name, nodeName string, bound bool) *corev1.Pod {
	p := runningPod(name, checktest.ControllerRef("DaemonSet", "agent", "ds-agent"), map[string]string{"app": "web"})
	if bound {
		p.Spec.NodeName = nodeName
		return p
	}
	p.Status.Phase = corev1.PodPending
	p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}}}}}}}
	return p
}

func taint(key string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Effect: effect}
}

func TestDaemonSetsPredicate(t *testing.T) {
	type objs struct {
		ds         *appsv1.DaemonSet
		n1, n2, n3 *corev1.Node
		p1, p2     *corev1.Pod
	}
	fresh := func() objs {
		return objs{daemonSet(), node("n1", "worker"), node("n2", "worker"), node("n3", "db"),
			daemonPod("agent-a", "n1", true), daemonPod("agent-b", "n2", false)}
	}
	for _, tc := range []struct {
		name   string
		change func(o objs) (put, del []apiserver.Object)
		want   string // "" for holds
	}{
		{"converged", nil, ""},
		{"observedGeneration behind", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Status.ObservedGeneration = 0
			return []apiserver.Object{o.ds}, nil
		}, "DaemonSet default/agent observedGeneration 0 is behind generation 1"},
		{"a node without its pod", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return nil, []apiserver.Object{o.p2}
		}, "DaemonSet default/agent has 0 pods on node n2, wants 1"},
		{"a node with two pods", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{daemonPod("agent-c", "n1", true)}, nil
		}, "DaemonSet default/agent has 2 pods on node n1, wants 1"},
		{"a second pod terminating", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(daemonPod("agent-c", "n1", true))}, nil
		}, ""},
		{"a pod on a node outside the selector", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{daemonPod("agent-c", "n3", true)}, nil
		}, "DaemonSet default/agent has 1 pods on node n3, which does not qualify for it"},
		{"a pod on a node that is gone", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{daemonPod("agent-c", "n9", true)}, nil
		}, "DaemonSet default/agent has 1 pods on node n9, which does not exist"},
		{"a pod bound to no node", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			p := daemonPod("agent-c", "", true)
			return []apiserver.Object{p}, nil
		}, "DaemonSet default/agent: its pod default/agent-c is bound to no node"},
		{"a pod another DaemonSet controls", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			p := daemonPod("agent-c", "n3", true)
			p.OwnerReferences = []metav1.OwnerReference{checktest.ControllerRef("DaemonSet", "other", "ds-other")}
			return []apiserver.Object{p}, nil
		}, ""},
		{"a node being deleted keeps no pod", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.ds, checktest.Deleting(o.n2)}, nil
		}, "has 1 pods on node n2, which does not qualify"},
		{"a node being deleted, its pod gone", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.ds, checktest.Deleting(o.n2)}, []apiserver.Object{o.p2}
		}, ""},
		{"a new node", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{node("n4", "worker")}, nil
		}, "has 0 pods on node n4, wants 1"},
		{"a node relabelled out of the selector", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Labels["role"] = "db"
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.n1, o.ds}, nil
		}, "has 1 pods on node n1, which does not qualify"},
		{"an untolerated NoExecute taint", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectNoExecute)}
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.n1, o.ds}, nil
		}, "has 1 pods on node n1, which does not qualify"},
		{"an untolerated NoSchedule taint: the pod there may stay", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectNoSchedule)}
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.n1, o.ds}, nil
		}, ""},
		{"an untolerated NoSchedule taint: no longer desired there", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectNoSchedule)}
			return []apiserver.Object{o.n1}, nil
		}, "DaemonSet default/agent status.desiredNumberScheduled is 2, wants 1"},
		{"a tolerated taint", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectNoExecute)}
			o.ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
			return []apiserver.Object{o.n1, o.ds}, nil
		}, ""},
		{"a PreferNoSchedule taint is no obstacle", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint("dedicated", corev1.TaintEffectPreferNoSchedule)}
			return []apiserver.Object{o.n1}, nil
		}, ""},
		{"every DaemonSet pod tolerates node problems and cordons", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute),
				taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute), taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule),
				taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule), taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule),
				taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)}
			return []apiserver.Object{o.n1}, nil
		}, ""},
		{"network-unavailable is tolerated by hostNetwork pods only", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)}
			return []apiserver.Object{o.n1}, nil
		}, "status.desiredNumberScheduled is 2, wants 1"},
		{"network-unavailable with hostNetwork", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.n1.Spec.Taints = []corev1.Taint{taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)}
			o.ds.Spec.Template.Spec.HostNetwork = true
			return []apiserver.Object{o.n1, o.ds}, nil
		}, ""},
		{"required node affinity narrows the nodes", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
					{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpNotIn, Values: []string{"n2"}}}}}}}}
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.ds}, nil
		}, "has 1 pods on node n2, which does not qualify"},
		{"required node affinity on labels", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Spec.Template.Spec.NodeSelector = nil
			o.ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{
					{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "role", Operator: corev1.NodeSelectorOpIn, Values: []string{"nothing"}}}},
					{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "role", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"db"}}}},
				}}}}
			return []apiserver.Object{o.ds}, nil
		}, ""},
		{"the template names a node", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Spec.Template.Spec.NodeName = "n1"
			o.ds.Status.DesiredNumberScheduled, o.ds.Status.NumberReady = 1, 1
			return []apiserver.Object{o.ds}, nil
		}, "has 1 pods on node n2, which does not qualify"},
		{"status.numberReady behind", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			o.ds.Status.NumberReady = 1
			return []apiserver.Object{o.ds}, nil
		}, "DaemonSet default/agent status.numberReady is 1, wants 2"},
		{"a DaemonSet being deleted is not judged", func(o objs) ([]apiserver.Object, []apiserver.Object) {
			return []apiserver.Object{checktest.Deleting(o.ds)}, []apiserver.Object{o.p1}
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := fresh()
			st := checktest.NewStore(check.DaemonSets()).Put(o.ds, o.n1, o.n2, o.n3, o.p1, o.p2)
			ok, why := st.Pred.Holds()
			require.True(t, ok, why)
			if tc.change != nil {
				put, del := tc.change(fresh())
				st.Put(put...).Del(del...)
			}
			checktest.AssertVerdict(t, tc.want, st.Pred, st.Replay(check.DaemonSets()))
		})
	}
}

func TestDaemonSetsPredicateAgreesWithReplay(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	roles := []string{"worker", "worker", "db"}
	checktest.AgreesWithReplay(t, check.DaemonSets, 50, 80, func(st *checktest.Store) {
		switch k := r.IntN(12); {
		case k < 2:
			ds := daemonSet()
			n := int32(r.IntN(4))
			ds.Status.DesiredNumberScheduled, ds.Status.NumberReady = n, n-int32(r.IntN(6)/5)
			st.Put(ds)
		case k < 3:
			st.Del(daemonSet())
		case k < 7:
			i := r.IntN(4)
			p := daemonPod(fmt.Sprint("agent-", r.IntN(5)), fmt.Sprint("n", i), r.IntN(2) == 0)
			if r.IntN(6) == 0 {
				p = checktest.Deleting(p)
			}
			st.Put(p)
		case k < 9:
			st.Del(daemonPod(fmt.Sprint("agent-", r.IntN(5)), "", true))
		case k < 11:
			i := r.IntN(4)
			n := node(fmt.Sprint("n", i), roles[r.IntN(3)])
			if r.IntN(4) == 0 {
				n.Spec.Taints = []corev1.Taint{taint("dedicated", []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute}[r.IntN(2)])}
			}
			st.Put(n)
		default:
			st.Del(node(fmt.Sprint("n", r.IntN(4)), ""))
		}
	})
}
