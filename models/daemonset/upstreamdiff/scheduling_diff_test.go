package upstreamdiff

// Taints, tolerations and required node affinity as harness/kube decides
// them, and as the two harness parts that use it decide them (the
// DaemonSets convergence check and the cluster's scheduler), against
// upstream's DaemonSet NodeShouldRunDaemonPod, which decides with
// component-helpers: a table of the cases hand-written matchers got wrong,
// then the randomized corpus.

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/daemon"
	"k8s.io/kubernetes/pkg/controller/daemon/util"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/sim"
)

func affinity(terms ...corev1.NodeSelectorTerm) *corev1.Affinity {
	return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
}

func fields(op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: op, Values: values}}}
}

func exprs(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
}

// schedCase is a DaemonSet template and a node.
type schedCase struct {
	name string
	ds   *appsv1.DaemonSet
	node *corev1.Node
}

func dsWith(spec func(*corev1.PodSpec)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "ds", Namespace: "default", UID: "uid-ds"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "ds"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "ds"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
			},
		},
	}
	spec(&ds.Spec.Template.Spec)
	return ds
}

func nodeWith(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

// tableCases are the ones the hand-written matchers decided differently
// from upstream (matchFields In with two values, matchFields Exists: a
// parse error upstream, so the term matches nothing), and their neighbours.
func tableCases() []schedCase {
	ssd := map[string]string{"disktype": "ssd", "zone": "a"}
	dedicated := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	evict := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
	return []schedCase{
		{"matchFields In, one value", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("In", "node-1")) }), nodeWith("node-1", nil)},
		{"matchFields In, two values", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("In", "node-1", "node-2")) }), nodeWith("node-1", nil)},
		{"matchFields In, other node", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("In", "node-2")) }), nodeWith("node-1", nil)},
		{"matchFields NotIn", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("NotIn", "node-2")) }), nodeWith("node-1", nil)},
		{"matchFields Exists", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("Exists")) }), nodeWith("node-1", nil)},
		{"matchFields on metadata.uid", dsWith(func(s *corev1.PodSpec) {
			s.Affinity = affinity(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.uid", Operator: "In", Values: []string{"node-1"}}}})
		}), nodeWith("node-1", nil)},
		{"a bad term, then a good one", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(fields("Exists"), exprs("disktype", "In", "ssd")) }), nodeWith("node-1", ssd)},
		{"matchExpressions In", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(exprs("disktype", "In", "hdd", "ssd")) }), nodeWith("node-1", ssd)},
		{"matchExpressions NotIn", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(exprs("disktype", "NotIn", "ssd")) }), nodeWith("node-1", ssd)},
		{"matchExpressions DoesNotExist", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(exprs("gpu", "DoesNotExist")) }), nodeWith("node-1", ssd)},
		{"matchExpressions Gt, not a number", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(exprs("disktype", "Gt", "4")) }), nodeWith("node-1", ssd)},
		{"an empty term", dsWith(func(s *corev1.PodSpec) { s.Affinity = affinity(corev1.NodeSelectorTerm{}) }), nodeWith("node-1", ssd)},
		{"nodeSelector and affinity", dsWith(func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"zone": "b"}
			s.Affinity = affinity(exprs("disktype", "In", "ssd"))
		}), nodeWith("node-1", ssd)},
		{"NoSchedule taint, not tolerated: a pod may stay", dsWith(func(s *corev1.PodSpec) {}), nodeWith("node-1", nil, dedicated)},
		{"NoExecute taint, not tolerated", dsWith(func(s *corev1.PodSpec) {}), nodeWith("node-1", nil, evict)},
		{"tolerated by Exists without a key", dsWith(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
		}), nodeWith("node-1", nil, evict, dedicated)},
		{"Lt toleration: the gate is off", dsWith(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: "Lt", Value: "9"}}
		}), nodeWith("node-1", nil, corev1.Taint{Key: "dedicated", Value: "5", Effect: corev1.TaintEffectNoSchedule})},
		{"tolerated with the wrong effect", dsWith(func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}
		}), nodeWith("node-1", nil, evict)},
	}
}

func corpusCases() []schedCase {
	g := gen{rand.New(rand.NewPCG(*seed, 10))}
	var out []schedCase
	for i := 0; i < *numCases; i++ {
		out = append(out, schedCase{fmt.Sprintf("corpus %d", i), g.daemonSet(), g.node()})
	}
	return out
}

func upstreamShouldRun(c schedCase) (bool, bool) {
	return daemon.NodeShouldRunDaemonPod(klog.Background(), c.node, c.ds)
}

// TestKubeDecidesAsUpstream: NodeShouldRunDaemonPod composed of harness/kube's
// helpers.
func TestKubeDecidesAsUpstream(t *testing.T) {
	decide := func(c schedCase) (bool, bool) {
		spec := c.ds.Spec.Template.Spec.DeepCopy()
		if spec.NodeName != "" && spec.NodeName != c.node.Name {
			return false, false
		}
		util.AddOrUpdateDaemonPodTolerations(spec)
		if !kube.RequiredNodeAffinityMatches(&corev1.Pod{Spec: *spec}, c.node) {
			return false, false
		}
		if _, ok := kube.FindMatchingUntoleratedTaint(c.node.Spec.Taints, spec.Tolerations, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute); ok {
			_, ok := kube.FindMatchingUntoleratedTaint(c.node.Spec.Taints, spec.Tolerations, corev1.TaintEffectNoExecute)
			return false, !ok
		}
		return true, true
	}
	for _, c := range append(tableCases(), corpusCases()...) {
		run, keep := upstreamShouldRun(c)
		gotRun, gotKeep := decide(c)
		require.Equal(t, [2]bool{run, keep}, [2]bool{gotRun, gotKeep}, "%s: node %+v\ntemplate %+v", c.name, c.node, c.ds.Spec.Template.Spec)
	}
	// The table's point: upstream's answers, stated.
	for name, want := range map[string][2]bool{
		"matchFields In, one value":                       {true, true},
		"matchFields In, two values":                      {false, false},
		"matchFields Exists":                              {false, false},
		"a bad term, then a good one":                     {true, true},
		"matchExpressions In":                             {true, true},
		"NoSchedule taint, not tolerated: a pod may stay": {false, true},
	} {
		for _, c := range tableCases() {
			if c.name == name {
				run, keep := upstreamShouldRun(c)
				assert.Equal(t, want, [2]bool{run, keep}, name)
			}
		}
	}
}

// TestDaemonSetCheckDecidesAsUpstream: the DaemonSets convergence
// predicate wants a pod exactly where upstream would run one, and lets a pod
// stay exactly where upstream would keep it.
func TestDaemonSetCheckDecidesAsUpstream(t *testing.T) {
	holds := func(c schedCase, run, withPod bool) bool {
		ds := c.ds.DeepCopy()
		if run {
			ds.Status.DesiredNumberScheduled, ds.Status.NumberReady = 1, 1
		}
		p := check.DaemonSets()
		p.Observe(apiserver.Event{Type: watch.Added, Kind: apiserver.Nodes, Object: c.node, Key: c.node.Name})
		p.Observe(apiserver.Event{Type: watch.Added, Kind: apiserver.DaemonSets, Object: ds, Key: "default/ds"})
		if withPod {
			t := true
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ds-x", UID: "uid-pod",
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", UID: ds.UID, Controller: &t}}},
				Spec: corev1.PodSpec{NodeName: c.node.Name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
			p.Observe(apiserver.Event{Type: watch.Added, Kind: apiserver.Pods, Object: pod, Key: "default/ds-x"})
		}
		ok, _ := p.Holds()
		return ok
	}
	for _, c := range append(tableCases(), corpusCases()...) {
		run, keep := upstreamShouldRun(c)
		require.Equal(t, !run, holds(c, false, false), "%s: a pod wanted? node %+v\ntemplate %+v", c.name, c.node, c.ds.Spec.Template.Spec)
		require.Equal(t, run || keep, holds(c, run, true), "%s: a pod may be there? node %+v\ntemplate %+v", c.name, c.node, c.ds.Spec.Template.Spec)
	}
}

// TestSchedulerDecidesAsUpstream: the cluster's scheduler binds the pod
// the DaemonSet controller would make (upstream's NewPod: the template with
// the daemon tolerations) to a node exactly when upstream's predicates say
// it fits. One node per cluster, many pods.
func TestSchedulerDecidesAsUpstream(t *testing.T) {
	const podsPerNode = 25
	all := append(tableCases(), corpusCases()[:min(*numCases, 1000)]...)
	bound := 0
	for start := 0; start < len(all); start += podsPerNode {
		node := all[start].node.DeepCopy()
		var taints []corev1.Taint
		for _, taint := range node.Spec.Taints {
			// The node lifecycle manages the node.kubernetes.io taints itself.
			if len(taint.Key) < len("node.kubernetes.io/") || taint.Key[:len("node.kubernetes.io/")] != "node.kubernetes.io/" {
				taints = append(taints, taint)
			}
		}
		w := sim.New(1, sim.Limits{})
		c, err := cluster.New(w, cluster.Config{Nodes: []cluster.NodeSpec{{Name: node.Name, Labels: node.Labels, Taints: taints}}})
		require.NoError(t, err)
		resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Nodes, Name: node.Name})
		require.NoError(t, resp.Err)
		live := resp.Object.(*corev1.Node) // with the labels and taints the cluster gave it
		type placed struct {
			name string
			want bool
			c    schedCase
		}
		var pods []placed
		for i := start; i < min(start+podsPerNode, len(all)); i++ {
			sc := all[i]
			ds := sc.ds.DeepCopy()
			ds.Spec.Template.Spec.NodeName = "" // the scheduler's part only
			for j := range ds.Spec.Template.Spec.Containers {
				ds.Spec.Template.Spec.Containers[j].Resources = corev1.ResourceRequirements{}
			}
			want, _ := daemon.NodeShouldRunDaemonPod(klog.Background(), live, ds)
			pod := daemon.NewPod(ds, "")
			pod.Name = fmt.Sprintf("p-%d", i)
			resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod})
			require.NoError(t, resp.Err, sc.name)
			pods = append(pods, placed{pod.Name, want, schedCase{sc.name, ds, live}})
		}
		w.RunUntil(30 * time.Second)
		for _, p := range pods {
			resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Namespace: "default", Name: p.name})
			require.NoError(t, resp.Err)
			got := resp.Object.(*corev1.Pod).Spec.NodeName != ""
			require.Equal(t, p.want, got, "%s: node %+v\ntemplate %+v", p.c.name, p.c.node, p.c.ds.Spec.Template.Spec)
			if got {
				bound++
			}
		}
	}
	assert.Positive(t, bound)
	assert.Less(t, bound, len(all))
}
