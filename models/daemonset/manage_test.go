package daemonset

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
)

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// testWorld is an API server and nothing else: no scheduler, no kubelets.
// Daemon pods stay Pending, pinned to their node by affinity.
func testWorld(latency, watchDelay time.Duration) (*sim.World, *apiserver.Server) {
	w := sim.New(1, sim.Limits{MaxTime: time.Hour, MaxEvents: 5_000_000})
	return w, apiserver.New(w, modeltest.APIConfig(apiserver.Fixed(latency), apiserver.Fixed(watchDelay)))
}

func agent() *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default", UID: "uid-agent"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:1"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
}

// createTimes records when each pod creation committed.
func createTimes(api *apiserver.Server, w *sim.World) *[]time.Duration {
	var at []time.Duration
	api.OnCommit(func(ev apiserver.Event) {
		if _, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
			at = append(at, w.Elapsed())
		}
	})
	return &at
}

// batches groups commit times into runs of equal time.
func batches(at []time.Duration) []int {
	var out []int
	for i, t := range at {
		if i > 0 && t == at[i-1] {
			out[len(out)-1]++
			continue
		}
		out = append(out, 1)
	}
	return out
}

func TestCreationsComeInSlowStartBatchesOfAtMostBurst(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		first []int // batch sizes of the first sync
	}{
		{"upstream", Options{}, []int{1, 2, 4, 8, 16, 32, 64, 123}},
		// Expectations alone keep the next sync from acting on a stale cache.
		{"without the consistency check", Options{NoConsistencyCheck: true}, []int{1, 2, 4, 8, 16, 32, 64, 123}},
		{"no slow start", Options{NoSlowStart: true}, []int{250}},
		{"burst 20", Options{BurstReplicas: 20}, []int{1, 2, 4, 8, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Requests take exactly 10 ms, so one batch commits at one instant;
			// the watch lags a second, so the next sync waits on expectations.
			w, api := testWorld(10*time.Millisecond, time.Second)
			for i := 0; i < 300; i++ {
				modeltest.Serve(t, api, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Nodes,
					Object: &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%03d", i)}}})
			}
			at := createTimes(api, w)
			c := Start(api, tc.opts)
			modeltest.Serve(t, api, &apiserver.Request{Verb: apiserver.Create, Kind: apiserver.DaemonSets, Object: agent()})
			w.RunUntil(30 * time.Second)
			got := batches(*at)
			require.GreaterOrEqual(t, len(got), len(tc.first))
			assert.Equal(t, tc.first, got[:len(tc.first)], "the first sync's batches")
			assert.Len(t, *at, 300, "one pod per node, none twice")
			// The second sync waited for the first sync's pods to show.
			first := 0
			for _, n := range tc.first {
				first += n
			}
			assert.GreaterOrEqual(t, (*at)[first]-(*at)[first-1], time.Second, "the next sync waited for the watch")
			assert.True(t, c.expectations.SatisfiedExpectations("default/agent"))
		})
	}
}

func TestFailedPodBackoffDoublesAndForgets(t *testing.T) {
	b := newBackoff(FailedPodBackoff, MaxFailedPodBackoff)
	now := epoch
	assert.False(t, b.inBackoff("k", now))
	var delays []time.Duration
	for i := 0; i < 12; i++ {
		b.next("k", now)
		delays = append(delays, b.get("k"))
		assert.True(t, b.inBackoff("k", now.Add(b.get("k")-time.Nanosecond)))
		assert.False(t, b.inBackoff("k", now.Add(b.get("k"))))
		now = now.Add(b.get("k"))
	}
	assert.Equal(t, []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, 512 * time.Second, 15 * time.Minute, 15 * time.Minute}, delays)
	now = now.Add(30*time.Minute + time.Nanosecond) // quiet for twice the maximum
	assert.False(t, b.inBackoff("k", now))
	b.next("k", now)
	assert.Equal(t, time.Second, b.get("k"), "starts over")
	b.gc(now.Add(time.Hour))
	assert.Zero(t, b.get("k"))
}

type podOpt func(*corev1.Pod)

func onNode(node string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = node } }
func pinned(node string) podOpt {
	return func(p *corev1.Pod) { p.Spec.Affinity = pinToNode(nil, node) }
}
func created(sec int) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(epoch.Add(time.Duration(sec) * time.Second)) }
}
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func deleting() podOpt {
	return func(p *corev1.Pod) { ts := metav1.NewTime(epoch); p.DeletionTimestamp = &ts }
}
func ready(since int) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(epoch.Add(time.Duration(since) * time.Second))}}
	}
}
func revision(hash string) podOpt {
	return func(p *corev1.Pod) { p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash }
}

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "agent"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func TestPodsShouldBeOnNode(t *testing.T) {
	surge := func(ds *appsv1.DaemonSet) {
		ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: ptr(intstr.FromInt32(1)), MaxUnavailable: ptr(intstr.FromInt32(0))}
	}
	tainted := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoExecute}}}}
	cordonLike := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}}}}
	plain := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	for _, tc := range []struct {
		name   string
		opts   Options
		ds     func(*appsv1.DaemonSet)
		node   *corev1.Node
		pods   []*corev1.Pod
		create bool
		del    []string
		traced int
	}{
		{name: "no pod: create", node: plain, create: true},
		{name: "one running pod: nothing", node: plain, pods: []*corev1.Pod{pod("a", onNode("n1"))}},
		{name: "duplicates: keep the oldest", node: plain, traced: 1,
			pods: []*corev1.Pod{pod("b", onNode("n1"), created(20)), pod("a", onNode("n1"), created(10)), pod("c", onNode("n1"), created(30))},
			del:  []string{"b", "c"}},
		{name: "duplicates: a bound pod before an older unbound one", node: plain, traced: 1,
			pods: []*corev1.Pod{pod("a", pinned("n1"), created(10)), pod("b", onNode("n1"), created(20))},
			del:  []string{"a"}},
		{name: "duplicates of equal age: by name", node: plain, traced: 1,
			pods: []*corev1.Pod{pod("b", onNode("n1"), created(10)), pod("a", onNode("n1"), created(10))},
			del:  []string{"b"}},
		{name: "duplicates: keep-newest", opts: Options{Duplicates: KeepNewest}, node: plain, traced: 1,
			pods: []*corev1.Pod{pod("b", onNode("n1"), created(20)), pod("a", onNode("n1"), created(10)), pod("c", onNode("n1"), created(30))},
			del:  []string{"b", "a"}},
		{name: "a terminating pod: neither create nor delete", node: plain, pods: []*corev1.Pod{pod("a", onNode("n1"), deleting())}},
		{name: "failed pod: delete (no create until it is gone)", node: plain,
			pods: []*corev1.Pod{pod("a", onNode("n1"), phase(corev1.PodFailed))}, del: []string{"a"}},
		{name: "succeeded pod: delete", node: plain,
			pods: []*corev1.Pod{pod("a", onNode("n1"), phase(corev1.PodSucceeded))}, del: []string{"a"}},
		{name: "untolerated NoExecute: delete every pod not already going", node: tainted,
			pods: []*corev1.Pod{pod("a", onNode("n1")), pod("b", onNode("n1"), deleting()), pod("c", onNode("n1"), phase(corev1.PodFailed))},
			del:  []string{"a", "c"}},
		{name: "untolerated NoExecute, no pod: nothing", node: tainted},
		{name: "untolerated NoSchedule: no new pod", node: cordonLike},
		{name: "untolerated NoSchedule: the pod stays", node: cordonLike, pods: []*corev1.Pod{pod("a", onNode("n1"))}},
		{name: "untolerated NoSchedule: duplicates still pruned", node: cordonLike, traced: 1,
			pods: []*corev1.Pod{pod("a", onNode("n1"), created(10)), pod("b", onNode("n1"), created(20))}, del: []string{"b"}},
		{name: "surge: old and unready new pod both stay", ds: surge, node: plain,
			pods: []*corev1.Pod{pod("old", onNode("n1"), created(10), revision("v1"), ready(11)), pod("new", onNode("n1"), created(20), revision("v2"))}},
		{name: "surge: the old pod goes once the new one is available", ds: surge, node: plain, traced: 1,
			pods: []*corev1.Pod{pod("old", onNode("n1"), created(10), revision("v1"), ready(11)), pod("new", onNode("n1"), created(20), revision("v2"), ready(21))},
			del:  []string{"old"}},
		{name: "surge: an unready old pod goes at once", ds: surge, node: plain, traced: 1,
			pods: []*corev1.Pod{pod("old", onNode("n1"), created(10), revision("v1")), pod("new", onNode("n1"), created(20), revision("v2"))},
			del:  []string{"old"}},
		{name: "surge: extra pods of a revision go", ds: surge, node: plain, traced: 1,
			pods: []*corev1.Pod{pod("old", onNode("n1"), created(10), revision("v1"), ready(11)), pod("old2", onNode("n1"), created(12), revision("v1")),
				pod("new", onNode("n1"), created(20), revision("v2"))},
			del: []string{"old2"}},
		{name: "surge: the last pod terminating, create", ds: surge, node: plain, create: true,
			pods: []*corev1.Pod{pod("a", onNode("n1"), deleting())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, api := testWorld(time.Millisecond, time.Millisecond)
			tr := &trace.Recorder{}
			opts := tc.opts
			opts.Trace = tr
			c := Start(api, opts)
			ds := agent()
			if tc.ds != nil {
				tc.ds(ds)
			}
			byNode := map[string][]*corev1.Pod{}
			if len(tc.pods) > 0 {
				byNode["n1"] = tc.pods
			}
			create, del := c.podsShouldBeOnNode(tc.node, byNode, ds, kube.NewDaemonEligibility(&ds.Spec.Template.Spec), "v2")
			assert.Equal(t, tc.create, len(create) == 1, "create")
			sort.Strings(del)
			want := append([]string(nil), tc.del...)
			sort.Strings(want)
			assert.Equal(t, want, del, "deletions")
			assert.Len(t, tr.Decisions(), tc.traced)
		})
	}
}

func TestFailedPodDeletionBacksOff(t *testing.T) {
	w, api := testWorld(time.Millisecond, time.Millisecond)
	c := Start(api, Options{})
	ds := agent()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	failed := map[string][]*corev1.Pod{"n1": {pod("a", onNode("n1"), phase(corev1.PodFailed))}}
	decide := func() []string {
		_, del := c.podsShouldBeOnNode(node, failed, ds, kube.NewDaemonEligibility(&ds.Spec.Template.Spec), "v2")
		return del
	}
	assert.Equal(t, []string{"a"}, decide(), "the first failure is deleted at once")
	assert.Empty(t, decide(), "the next one waits a second")
	w.RunUntil(time.Second)
	assert.Equal(t, []string{"a"}, decide())
	w.RunUntil(2 * time.Second)
	assert.Empty(t, decide(), "then two seconds")
	w.RunUntil(3 * time.Second)
	assert.Equal(t, []string{"a"}, decide())
	ds.Status.ObservedGeneration = 2
	assert.Equal(t, []string{"a"}, decide(), "a new generation starts its own back-off")
}

func ptr[T any](v T) *T { return &v }
