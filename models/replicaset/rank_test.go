package replicaset

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

type podOpt func(*corev1.Pod)

func mkPod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(t0)},
		Spec:       corev1.PodSpec{NodeName: "node-1"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func unassigned(p *corev1.Pod)        { p.Spec.NodeName = "" }
func onNode(n string) podOpt          { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func created(d time.Duration) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t0.Add(d)) }
}
func uid(u string) podOpt { return func(p *corev1.Pod) { p.UID = types.UID(u) } }
func cost(c string) podOpt {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{DeletionCostAnnotation: c} }
}
func restarts(n int32) podOpt {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: n}} }
}
func sidecarRestarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		always := corev1.ContainerRestartPolicyAlways
		p.Spec.InitContainers = []corev1.Container{{Name: "proxy", RestartPolicy: &always}, {Name: "init"}}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "init", RestartCount: 99}, {Name: "proxy", RestartCount: n}}
	}
}
func readyAt(d time.Duration) podOpt {
	return func(p *corev1.Pod) { setReady(p, corev1.ConditionTrue, t0.Add(d)) }
}
func notReadySince(d time.Duration) podOpt {
	return func(p *corev1.Pod) { setReady(p, corev1.ConditionFalse, t0.Add(d)) }
}

func setReady(p *corev1.Pod, s corev1.ConditionStatus, at time.Time) {
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: s, LastTransitionTime: metav1.NewTime(at)}}
}

// TestRankingRules: for each rule, a pair of pods that differ in it (and agree
// on every rule before it); "first" must be deleted before "second", whatever
// order they come in.
func TestRankingRules(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, tc := range []struct {
		name          string
		first, second *corev1.Pod
		rankFirst     int
		rankSecond    int
		linear        bool // the pre-1.22 ranking
	}{
		{name: "1 unassigned before assigned", first: mkPod("a", unassigned, phase(corev1.PodRunning), readyAt(0)), second: mkPod("b", phase(corev1.PodPending))},
		{name: "2 pending before unknown", first: mkPod("a", phase(corev1.PodPending)), second: mkPod("b", phase(corev1.PodUnknown))},
		{name: "2 unknown before running", first: mkPod("a", phase(corev1.PodUnknown)), second: mkPod("b", phase(corev1.PodRunning))},
		{name: "2 other phases count as pending", first: mkPod("a", phase(corev1.PodSucceeded)), second: mkPod("b", phase(corev1.PodUnknown))},
		{name: "3 not ready before ready", first: mkPod("a", notReadySince(0)), second: mkPod("b", readyAt(0))},
		{name: "3 no condition is not ready", first: mkPod("a"), second: mkPod("b", readyAt(0))},
		{name: "4 lower deletion cost first", first: mkPod("a", readyAt(0), cost("-5")), second: mkPod("b", readyAt(0))},
		{name: "4 cost beats rank", first: mkPod("a", cost("1")), second: mkPod("b", cost("2")), rankFirst: 0, rankSecond: 9},
		{name: "4 invalid cost counts as 0", first: mkPod("a", cost("+3"), restarts(0)), second: mkPod("b", cost("1"), restarts(9))},
		{name: "4 leading zeros are invalid", first: mkPod("a", cost("007")), second: mkPod("b", cost("1"))},
		{name: "5 more co-located first", first: mkPod("a"), second: mkPod("b"), rankFirst: 3, rankSecond: 1},
		{name: "6 ready more recently first", first: mkPod("a", readyAt(50*time.Minute)), second: mkPod("b", readyAt(0))},
		{name: "6 same log2 bucket: uid decides", first: mkPod("b", uid("1"), readyAt(30*time.Minute+time.Second), restarts(0)),
			second: mkPod("a", uid("2"), readyAt(30*time.Minute+2*time.Second), restarts(5))},
		{name: "6 linear: exact ready time", linear: true, first: mkPod("a", uid("2"), readyAt(30*time.Minute+2*time.Second)),
			second: mkPod("b", uid("1"), readyAt(30*time.Minute+time.Second))},
		{name: "6 zero ready time first", first: mkPod("a", func(p *corev1.Pod) { setReady(p, corev1.ConditionTrue, time.Time{}) }), second: mkPod("b", readyAt(0))},
		{name: "7 more restarts first", first: mkPod("a", restarts(3)), second: mkPod("b", restarts(1))},
		{name: "7 then more sidecar restarts first", first: mkPod("a", restarts(1), sidecarRestarts(4)), second: mkPod("b", restarts(1), sidecarRestarts(2), created(time.Minute))},
		{name: "7 restarts only when ready times tie", first: mkPod("a", readyAt(50*time.Minute), restarts(0)), second: mkPod("b", readyAt(0), restarts(9))},
		{name: "8 newer first", first: mkPod("a", created(50*time.Minute)), second: mkPod("b", created(0))},
		{name: "8 same log2 bucket: uid decides", first: mkPod("z", uid("1"), created(40*time.Minute)), second: mkPod("y", uid("2"), created(41*time.Minute))},
		{name: "8 linear: exact creation time", linear: true, first: mkPod("y", uid("2"), created(41*time.Minute)), second: mkPod("z", uid("1"), created(40*time.Minute))},
		{name: "8 created in the future counts as bucket -1", first: mkPod("a", uid("9"), created(2*time.Hour)), second: mkPod("b", uid("1"), created(0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][2]int{{0, 1}, {1, 0}} {
				pods := []*corev1.Pod{tc.first, tc.second}
				ranks := []int{tc.rankFirst, tc.rankSecond}
				in := rankedPods{pods: []*corev1.Pod{pods[order[0]], pods[order[1]]}, rank: []int{ranks[order[0]], ranks[order[1]]}, now: now, logarithmic: !tc.linear}
				sort.Sort(in)
				assert.Equal(t, tc.first.Name, in.pods[0].Name)
			}
			// And never both ways.
			r := rankedPods{pods: []*corev1.Pod{tc.first, tc.second}, rank: []int{tc.rankFirst, tc.rankSecond}, now: now, logarithmic: !tc.linear}
			assert.True(t, r.Less(0, 1))
			assert.False(t, r.Less(1, 0))
		})
	}
}

func TestEqualPodsAreNotLess(t *testing.T) {
	a, b := mkPod("a"), mkPod("b")
	r := rankedPods{pods: []*corev1.Pod{a, b}, rank: []int{0, 0}, now: t0}
	assert.False(t, r.Less(0, 1))
	assert.False(t, r.Less(1, 0))
}

func TestChoosePolicies(t *testing.T) {
	now := t0.Add(time.Hour)
	pods := func() []*corev1.Pod {
		return []*corev1.Pod{mkPod("mid", created(20*time.Minute)), mkPod("old", created(0)), mkPod("new", created(50*time.Minute))}
	}
	names := func(ps []*corev1.Pod) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return out
	}
	r := rand.New(rand.NewPCG(1, 2))
	assert.Equal(t, []string{"old"}, names(choose(OldestFirst, pods(), make([]int, 3), 1, now, r)))
	assert.Equal(t, []string{"new", "mid"}, names(choose(NewestFirst, pods(), make([]int, 3), 2, now, r)))
	assert.Equal(t, []string{"new"}, names(choose(Upstream, pods(), make([]int, 3), 1, now, r)))
	assert.Len(t, choose(Random, pods(), make([]int, 3), 2, now, r), 2)
	assert.Len(t, choose(Upstream, pods(), make([]int, 3), 5, now, r), 3, "asking for more than there are takes all")

	// Random is random but reproducible from the stream.
	a := names(choose(Random, pods(), make([]int, 3), 3, now, rand.New(rand.NewPCG(7, 7))))
	b := names(choose(Random, pods(), make([]int, 3), 3, now, rand.New(rand.NewPCG(7, 7))))
	assert.Equal(t, a, b)
}

func TestDeletionCostParsing(t *testing.T) {
	for v, want := range map[string]int32{"": 0, "0": 0, "10": 10, "-10": -10, "+10": 0, "010": 0, "abc": 0, "2147483648": 0, "-2147483648": -2147483648} {
		p := mkPod("p", cost(v))
		assert.Equal(t, want, deletionCost(p), "value %q", v)
	}
}
