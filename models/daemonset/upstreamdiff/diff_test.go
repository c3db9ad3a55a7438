package upstreamdiff

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller"
	"k8s.io/kubernetes/pkg/controller/daemon"
	"k8s.io/kubernetes/pkg/controller/daemon/util"

	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
)

// Corpus size and seed: the corpus is fully determined by them. Try other
// corpora with e.g. go test -args -seed=7 -cases=50000.
var (
	numCases = flag.Int("cases", 5000, "number of randomized DaemonSet × node pairs")
	seed     = flag.Uint64("seed", 0xd5, "corpus seed")
)

// gen draws from small alphabets so that labels, selectors, taints and
// tolerations often meet.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g gen) chance(p float64) bool    { return g.r.Float64() < p }

var (
	labelKeys = []string{"disktype", "zone", "cores", "role"}
	labelVals = []string{"ssd", "hdd", "a", "b", "4", "8", "x"}
	nodeNames = []string{"node-1", "node-2", "node-3"}
	taintKeys = []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeDiskPressure, corev1.TaintNodeMemoryPressure,
		corev1.TaintNodePIDPressure, corev1.TaintNodeUnschedulable, corev1.TaintNodeNetworkUnavailable, "dedicated", "tier"}
	taintVals = []string{"", "db", "5", "web"}
	effects   = []string{"", string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectNoExecute), string(corev1.TaintEffectPreferNoSchedule)}
	selOps    = []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Near"}
	tolOps    = []string{"", "Equal", "Exists", "Lt", "Gt", "Bogus"}
)

func (g gen) labels(n int) map[string]string {
	if n == 0 {
		return nil
	}
	out := map[string]string{}
	for i := 0; i < n; i++ {
		out[g.pick(labelKeys...)] = g.pick(labelVals...)
	}
	return out
}

func (g gen) requirement(fields bool) corev1.NodeSelectorRequirement {
	r := corev1.NodeSelectorRequirement{Key: g.pick(labelKeys...), Operator: corev1.NodeSelectorOperator(g.pick(selOps...))}
	if fields {
		r.Key = g.pick(metav1.ObjectNameField, metav1.ObjectNameField, metav1.ObjectNameField, "metadata.uid")
		r.Operator = corev1.NodeSelectorOperator(g.pick("In", "In", "NotIn", "Exists"))
	}
	for n := g.r.IntN(3); n > 0; n-- {
		if fields {
			r.Values = append(r.Values, g.pick(nodeNames...))
		} else {
			r.Values = append(r.Values, g.pick(labelVals...))
		}
	}
	return r
}

func (g gen) node() *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: g.pick(nodeNames...), Labels: g.labels(g.r.IntN(4))}}
	for k := g.r.IntN(4); k > 0; k-- {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: g.pick(taintKeys...), Value: g.pick(taintVals...),
			Effect: corev1.TaintEffect(g.pick(effects[1:]...))})
	}
	return n
}

func (g gen) toleration() corev1.Toleration {
	t := corev1.Toleration{Operator: corev1.TolerationOperator(g.pick(tolOps...)), Effect: corev1.TaintEffect(g.pick(effects...)),
		Value: g.pick(taintVals...)}
	if !g.chance(0.15) {
		t.Key = g.pick(taintKeys...)
	}
	if g.chance(0.3) {
		s := int64(300)
		t.TolerationSeconds = &s
	}
	return t
}

func (g gen) daemonSet() *appsv1.DaemonSet {
	ds := dsWith(func(s *corev1.PodSpec) { s.Containers[0].Image = "img:" + g.pick(labelVals...) })
	s := &ds.Spec.Template.Spec
	if g.chance(0.1) {
		s.NodeName = g.pick(nodeNames...)
	}
	s.HostNetwork = g.chance(0.3)
	if g.chance(0.4) {
		s.NodeSelector = g.labels(1 + g.r.IntN(2))
	}
	if g.chance(0.5) {
		sel := &corev1.NodeSelector{}
		for t := g.r.IntN(3); t > 0; t-- {
			var term corev1.NodeSelectorTerm
			for k := g.r.IntN(3); k > 0; k-- {
				term.MatchExpressions = append(term.MatchExpressions, g.requirement(false))
			}
			for k := g.r.IntN(2); k > 0; k-- {
				term.MatchFields = append(term.MatchFields, g.requirement(true))
			}
			sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, term)
		}
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}}
	}
	for k := g.r.IntN(4); k > 0; k-- {
		s.Tolerations = append(s.Tolerations, g.toleration())
	}
	if g.chance(0.3) {
		s.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(g.pick("100m", "1", "250m"))}
	}
	return ds
}

type shouldRun func(*corev1.Node, *appsv1.DaemonSet) (bool, bool)

// mismatches counts the corpus cases where fn disagrees with upstream's
// NodeShouldRunDaemonPod, and describes the first few.
func mismatches(fn shouldRun) (int, []string) {
	g := gen{rand.New(rand.NewPCG(*seed, 1))}
	logger := klog.Background()
	n := 0
	var first []string
	for i := 0; i < *numCases; i++ {
		ds, node := g.daemonSet(), g.node()
		wantRun, wantKeep := daemon.NodeShouldRunDaemonPod(logger, node, ds)
		run, keep := fn(node, ds)
		if run != wantRun || keep != wantKeep {
			n++
			if len(first) < 3 {
				first = append(first, fmt.Sprintf("case %d: got (%v, %v), upstream (%v, %v)\n  node %+v\n  template spec %+v",
					i, run, keep, wantRun, wantKeep, node, ds.Spec.Template.Spec))
			}
		}
	}
	return n, first
}

func TestShouldRunDaemonPodAgreesWithUpstream(t *testing.T) {
	n, first := mismatches(daemonset.ShouldRunDaemonPod)
	assert.Zero(t, n, "%d of %d cases differ; first: %v", n, *numCases, first)

	// The corpus is rich enough to tell wrong rules apart.
	run := 0
	g := gen{rand.New(rand.NewPCG(*seed, 1))}
	for i := 0; i < *numCases; i++ {
		ds, node := g.daemonSet(), g.node()
		if r, _ := daemon.NodeShouldRunDaemonPod(klog.Background(), node, ds); r {
			run++
		}
	}
	assert.Greater(t, run, *numCases/20, "some nodes qualify")
	assert.Less(t, run, *numCases*19/20, "some nodes do not")
	for name, wrong := range map[string]shouldRun{
		"a pod may stay only where a new one would go": func(n *corev1.Node, ds *appsv1.DaemonSet) (bool, bool) {
			r, _ := daemonset.ShouldRunDaemonPod(n, ds)
			return r, r
		},
		"hostNetwork ignored": func(n *corev1.Node, ds *appsv1.DaemonSet) (bool, bool) {
			ds = ds.DeepCopy()
			ds.Spec.Template.Spec.HostNetwork = false
			return daemonset.ShouldRunDaemonPod(n, ds)
		},
		"required node affinity ignored": func(n *corev1.Node, ds *appsv1.DaemonSet) (bool, bool) {
			ds = ds.DeepCopy()
			ds.Spec.Template.Spec.Affinity = nil
			return daemonset.ShouldRunDaemonPod(n, ds)
		},
		"the template's tolerations ignored": func(n *corev1.Node, ds *appsv1.DaemonSet) (bool, bool) {
			ds = ds.DeepCopy()
			ds.Spec.Template.Spec.Tolerations = nil
			return daemonset.ShouldRunDaemonPod(n, ds)
		},
	} {
		n, _ := mismatches(wrong)
		assert.Greater(t, n, 0, "the wrong rule %q goes unnoticed", name)
	}
}

func TestDaemonPodTolerationsAgreeWithUpstream(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(*seed, 2))}
	for i := 0; i < *numCases; i++ {
		ds := g.daemonSet()
		spec := ds.Spec.Template.Spec.DeepCopy()
		util.AddOrUpdateDaemonPodTolerations(spec)
		require.Equal(t, spec.Tolerations, kube.DaemonPodTolerations(&ds.Spec.Template.Spec), "case %d: %+v", i, ds.Spec.Template.Spec.Tolerations)
	}
}

func TestComputeHashAgreesWithUpstream(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(*seed, 3))}
	for i := 0; i < *numCases/10; i++ {
		ds := g.daemonSet()
		var cc *int32
		if g.chance(0.5) {
			n := int32(g.r.IntN(3))
			cc = &n
		}
		require.Equal(t, controller.ComputeHash(&ds.Spec.Template, cc), kube.ComputeHash(&ds.Spec.Template, cc), "case %d", i)
	}
}

func TestRevisionPatchMatchesUpstream(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(*seed, 4))}
	for i := 0; i < *numCases/10; i++ {
		ds := g.daemonSet()
		patch, err := daemonset.RevisionPatch(ds)
		require.NoError(t, err)
		ok, err := daemon.Match(ds, &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: patch}})
		require.NoError(t, err)
		require.True(t, ok, "case %d: upstream does not recognize the revision data %s", i, patch)
		other := g.daemonSet()
		if ok, _ := daemon.Match(other, &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: patch}}); !ok {
			continue
		}
		samePatch, _ := daemonset.RevisionPatch(other)
		require.Equal(t, string(patch), string(samePatch), "case %d: upstream matches another template", i)
	}
}

func TestTargetNodeNameAgreesWithUpstream(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(*seed, 5))}
	for i := 0; i < *numCases; i++ {
		ds := g.daemonSet()
		pod := &corev1.Pod{Spec: ds.Spec.Template.Spec}
		if g.chance(0.3) {
			pod.Spec.NodeName = g.pick(nodeNames...)
		}
		want, err := util.GetTargetNodeName(pod)
		got, ok := kube.DaemonPodTargetNode(pod)
		require.Equal(t, err == nil, ok, "case %d: %+v", i, pod.Spec.Affinity)
		require.Equal(t, want, got, "case %d", i)
	}
}
