package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func nodeOf(c *Cluster, name string) string {
	if p := getPod(c, name); p != nil {
		return p.Spec.NodeName
	}
	return "<gone>"
}

func hostPort(port int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: port}}
	}
}

func TestSchedulerPlacement(t *testing.T) {
	withSelector := func(k, v string) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{k: v} }
	}
	cases := []struct {
		name  string
		nodes []NodeSpec
		pods  []*corev1.Pod
		want  map[string]string // pod → node ("" = stays pending)
	}{
		{
			name:  "least loaded, ties by name, in creation order",
			nodes: []NodeSpec{{Name: "c"}, {Name: "a"}, {Name: "b"}},
			pods:  []*corev1.Pod{mkPod("p1"), mkPod("p2"), mkPod("p3"), mkPod("p4")},
			want:  map[string]string{"p1": "a", "p2": "b", "p3": "c", "p4": "a"},
		},
		{
			name:  "capacity",
			nodes: []NodeSpec{{Name: "a", Capacity: PodCapacity(1)}, {Name: "b", Capacity: PodCapacity(2)}},
			pods:  []*corev1.Pod{mkPod("p1"), mkPod("p2"), mkPod("p3"), mkPod("p4")},
			want:  map[string]string{"p1": "a", "p2": "b", "p3": "b", "p4": ""},
		},
		{
			name:  "host ports: one pod per node and port",
			nodes: []NodeSpec{{Name: "a"}, {Name: "b"}},
			pods: []*corev1.Pod{mkPod("p1", hostPort(8000)), mkPod("p2", hostPort(8000)), mkPod("p3", hostPort(8000)),
				mkPod("p4", hostPort(9000)), mkPod("p5")},
			want: map[string]string{"p1": "a", "p2": "b", "p3": "", "p4": "a", "p5": "b"},
		},
		{
			name:  "cordoned node",
			nodes: []NodeSpec{{Name: "a", Unschedulable: true}, {Name: "b"}},
			pods:  []*corev1.Pod{mkPod("p1"), mkPod("p2")},
			want:  map[string]string{"p1": "b", "p2": "b"},
		},
		{
			name:  "tolerating the unschedulable taint ignores the cordon",
			nodes: []NodeSpec{{Name: "a", Unschedulable: true}},
			pods: []*corev1.Pod{mkPod("p1", func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
			}), mkPod("p2")},
			want: map[string]string{"p1": "a", "p2": ""},
		},
		{
			name:  "node selector and zones",
			nodes: []NodeSpec{{Name: "a", Zone: "z1"}, {Name: "b", Zone: "z2", Labels: map[string]string{"disk": "ssd"}}},
			pods: []*corev1.Pod{mkPod("p1", withSelector(corev1.LabelTopologyZone, "z2")), mkPod("p2", withSelector("disk", "ssd")),
				mkPod("p3", withSelector("disk", "hdd")), mkPod("p4")},
			want: map[string]string{"p1": "b", "p2": "b", "p3": "", "p4": "a"},
		},
		{
			name:  "node affinity by name, as DaemonSet pods use it",
			nodes: []NodeSpec{{Name: "a"}, {Name: "b"}},
			pods: []*corev1.Pod{mkPod("p1", func(p *corev1.Pod) {
				p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
					NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
						{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}}}}}}
			})},
			want: map[string]string{"p1": "b"},
		},
		{
			// Upstream's NodeAffinity (component-helpers) reads a metadata.name
			// requirement only as In or NotIn with one value; anything else
			// is a parse error and its term matches no node.
			name:  "node affinity by name: two values or Exists match nothing",
			nodes: []NodeSpec{{Name: "a"}, {Name: "b", Labels: map[string]string{"disk": "ssd"}}},
			pods: []*corev1.Pod{
				mkPod("p1", withTerms(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
					{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"a", "b"}}}})),
				mkPod("p2", withTerms(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
					{Key: "metadata.name", Operator: corev1.NodeSelectorOpExists}}})),
				mkPod("p3", withTerms(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
					{Key: "metadata.name", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"a"}}}})),
				mkPod("p4", withTerms(
					corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpExists}}},
					corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "disk", Operator: corev1.NodeSelectorOpIn, Values: []string{"hdd", "ssd"}}}})),
			},
			want: map[string]string{"p1": "", "p2": "", "p3": "b", "p4": "b"},
		},
		{
			name:  "NoSchedule taint",
			nodes: []NodeSpec{{Name: "a", Taints: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}}, {Name: "b"}},
			pods: []*corev1.Pod{mkPod("p1"), mkPod("p2", func(p *corev1.Pod) {
				p.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
			})},
			want: map[string]string{"p1": "b", "p2": "a"},
		},
		{
			name:  "cpu requests",
			nodes: []NodeSpec{{Name: "a", Capacity: Capacity{CPU: resource.MustParse("1")}}},
			pods:  []*corev1.Pod{mkPod("p1", withCPU("600m")), mkPod("p2", withCPU("600m")), mkPod("p3", withCPU("400m"))},
			want:  map[string]string{"p1": "a", "p2": "", "p3": "a"},
		},
		{
			name:  "other scheduler",
			nodes: []NodeSpec{{Name: "a"}},
			pods:  []*corev1.Pod{mkPod("p1", func(p *corev1.Pod) { p.Spec.SchedulerName = "my-scheduler" })},
			want:  map[string]string{"p1": ""},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixedConfig()
			cfg.Nodes = tc.nodes
			w, c := newTestCluster(t, cfg)
			for _, p := range tc.pods {
				create(t, c, p)
			}
			runTo(w, at(30))
			for _, p := range tc.pods {
				assert.Equal(t, tc.want[p.Name], nodeOf(c, p.Name), p.Name)
			}
		})
	}
}

func withTerms(terms ...corev1.NodeSelectorTerm) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
	}
}

func withCPU(q string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(q)}
	}
}

func TestUnschedulablePodWaitsForRoom(t *testing.T) {
	cfg := fixedConfig()
	cfg.Nodes = []NodeSpec{{Name: "a", Capacity: PodCapacity(2)}, {Name: "b", Capacity: PodCapacity(2), Unschedulable: true}}
	w, c := newTestCluster(t, cfg)
	for i := 1; i <= 3; i++ {
		create(t, c, mkPod(fmt.Sprintf("p%d", i)))
	}
	runTo(w, at(30))
	p3 := getPod(c, "p3")
	assert.Equal(t, "", p3.Spec.NodeName)
	cond := podCondition(&p3.Status, corev1.PodScheduled)
	require.NotNil(t, cond)
	assert.Equal(t, corev1.ConditionFalse, cond.Status)
	assert.Equal(t, "Unschedulable", cond.Reason)
	assert.Equal(t, "0/2 nodes are available: 1 Too many pods, 1 node(s) were unschedulable.", cond.Message)
	assert.Equal(t, []string{"default/p3"}, c.Scheduler.Pending())
	evBefore := w.Events()
	runTo(w, at(3600))
	assert.Equal(t, evBefore, w.Events(), "no polling while nothing changes")

	// Freeing room on a: p3 is retried when the deleted pod is gone.
	c.API.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: "default", Name: "p1"})
	runTo(w, at(3610))
	assert.Equal(t, "a", nodeOf(c, "p3"))

	// Uncordoning b makes room for a fourth pod right away.
	create(t, c, mkPod("p4"))
	runTo(w, at(3620))
	assert.Equal(t, "", nodeOf(c, "p4"))
	b := getNode(c, "b").DeepCopy()
	b.Spec.Unschedulable = false
	require.NoError(t, c.API.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Nodes, Name: "b", Object: b}).Err)
	runTo(w, at(3630))
	assert.Equal(t, "b", nodeOf(c, "p4"))

	// A new node takes the next one.
	create(t, c, mkPod("p5"))
	create(t, c, mkPod("p6"))
	create(t, c, mkPod("p7"))
	runTo(w, at(3640))
	assert.Equal(t, "", nodeOf(c, "p7"))
	require.NoError(t, c.AddNode(NodeSpec{Name: "c", Zone: "z3"}))
	runTo(w, at(3650))
	assert.Equal(t, "c", nodeOf(c, "p7"))
	assert.Len(t, opsBy(c, "kubelet/c", "create", "c"), 1, "the kubelet registered its node")
	assert.True(t, podReady(getPod(c, "p7")))
	assert.Error(t, c.AddNode(NodeSpec{Name: "c"}), "already exists")
	assert.Error(t, c.AddNode(NodeSpec{Name: "Bad_Name"}))
}

func TestSchedulerPriorityFirst(t *testing.T) {
	cfg := fixedConfig()
	cfg.Nodes = []NodeSpec{{Name: "a", Capacity: PodCapacity(1)}}
	w, c := newTestCluster(t, cfg)
	create(t, c, mkPod("low"))
	create(t, c, mkPod("high", func(p *corev1.Pod) { p.Spec.Priority = ptrTo(int32(1000)) }))
	runTo(w, at(10))
	assert.Equal(t, "a", nodeOf(c, "high"))
	assert.Equal(t, "", nodeOf(c, "low"))
}

func TestIdleHourIsAlmostFree(t *testing.T) {
	w := sim.New(7, sim.Limits{})
	c, err := New(w, Config{NodeCount: 100})
	require.NoError(t, err)
	runTo(w, time.Second)
	settled := w.Events()
	runTo(w, time.Hour)
	assert.LessOrEqual(t, w.Events()-settled, uint64(5), "an idle hour costs (almost) no events")
	assert.Less(t, settled, uint64(1000), "starting 100 kubelets is a few events each")
	out := w.Run()
	assert.Equal(t, sim.Idle, out.Verdict)
	assert.Len(t, c.Nodes(), 100)
}
