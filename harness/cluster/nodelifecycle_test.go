package cluster

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func readyIs(s corev1.ConditionStatus) func(*corev1.Node) bool {
	return func(n *corev1.Node) bool { return nodeReadyStatus(n) == s }
}

func hasTaint(key string, effect corev1.TaintEffect) func(*corev1.Node) bool {
	return func(n *corev1.Node) bool {
		for _, t := range n.Spec.Taints {
			if t.Key == key && t.Effect == effect {
				return true
			}
		}
		return false
	}
}

// lossScenario: node-1 and node-2 are lost at 103 s; node-2's Node object is
// deleted at 500 s; node-1 returns at 600 s.
func lossScenario(t testing.TB) (*sim.World, *Cluster, *commits) {
	w, c := newTestCluster(t, fixedConfig())
	rec := recordCommits(c)
	create(t, c, mkPod("web", onNode("node-1"))) // default tolerations: 300 s
	create(t, c, mkPod("short", onNode("node-1"), tolerateUnreachable(ptrTo(int64(60)))))
	create(t, c, mkPod("now", onNode("node-1"), tolerateUnreachable(ptrTo(int64(0)))))
	create(t, c, mkPod("forever", onNode("node-1"), tolerateUnreachable(nil))) // a DaemonSet pod
	create(t, c, mkPod("orphan", onNode("node-2")))
	create(t, c, mkPod("safe", onNode("node-3")))
	runTo(w, at(103))
	for _, p := range []string{"web", "short", "now", "forever", "orphan", "safe"} {
		require.True(t, podReady(getPod(c, p)), p)
	}
	require.NoError(t, c.LoseNode("node-1"))
	require.NoError(t, c.LoseNode("node-2"))
	last, _ := c.LastRenewal("node-1")
	require.Equal(t, at(100), last, "renewals every 10 s from the join at 0")
	require.Equal(t, at(155), c.NodeLifecycle.UnknownAt(last), "first 5 s tick after 100 s + 50 s")

	runTo(w, at(500))
	require.NoError(t, c.DeleteNode("node-2"))
	runTo(w, at(600))
	require.NoError(t, c.ReturnNode("node-1"))
	runTo(w, at(700))
	return w, c, rec
}

func TestNodeLossTimeline(t *testing.T) {
	w, c, rec := lossScenario(t)

	// At the 155 s tick: Ready=Unknown (status commits 5 ms later), then the
	// taints and the pods' Ready=False (5 ms after the status response).
	assert.Equal(t, at(155.005), rec.firstNode("node-1", readyIs(corev1.ConditionUnknown)))
	assert.Equal(t, at(155.015), rec.firstNode("node-1", hasTaint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)))
	assert.Equal(t, at(155.015), rec.firstNode("node-1", hasTaint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule)))
	for _, nc := range rec.node["node-1"] {
		if hasTaint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)(nc.node) {
			for _, tn := range nc.node.Spec.Taints {
				if tn.Effect == corev1.TaintEffectNoExecute {
					assert.Equal(t, sim.Epoch.Add(155*time.Second), tn.TimeAdded.Time)
				}
			}
			break
		}
	}
	notReady := func(pc podCommit) bool {
		return pc.at > at(103) && !isDeleted(pc) && !podReady(pc.pod)
	}
	assert.Equal(t, at(155.015), rec.first("web", notReady))
	assert.Equal(t, at(155.015), rec.first("forever", notReady))
	for _, pc := range rec.pods["web"] {
		if pc.at == at(155.015) {
			assert.Equal(t, corev1.PodRunning, pc.pod.Status.Phase, "phase unchanged")
		}
	}
	assert.Len(t, opsBy(c, ClientNodeLifecycle, "update", "default/web"), 1)

	// Taint eviction (it sees the taint at 155.020): GET, DisruptionTarget,
	// delete: terminating 25 ms after the due time.
	assert.Equal(t, at(155.045), rec.first("now", isTerminating), "tolerationSeconds 0: at once")
	assert.Equal(t, at(215.045), rec.first("short", isTerminating), "60 s")
	assert.Equal(t, at(455.045), rec.first("web", isTerminating), "default 300 s")
	assert.Equal(t, time.Duration(-1), rec.first("forever", isTerminating), "tolerates forever")
	assert.Equal(t, time.Duration(-1), rec.first("safe", isTerminating))
	dels := opsBy(c, ClientTaintEviction, "delete", "default/web")
	require.Len(t, dels, 1)
	web := rec.pods["web"]
	var terminating *corev1.Pod
	for _, pc := range web {
		if isTerminating(pc) {
			terminating = pc.pod
			break
		}
	}
	dt := podCondition(&terminating.Status, corev1.DisruptionTarget)
	require.NotNil(t, dt)
	assert.Equal(t, "DeletionByTaintManager", dt.Reason)

	// Stuck Terminating while the node is lost; finished when it returns at
	// 600: the kubelet lists at 600.005, stops the containers 1 s after
	// seeing them (600.010), reports and deletes.
	for _, name := range []string{"web", "short", "now"} {
		assert.Equal(t, at(601.025), rec.first(name, isDeleted), name)
		for _, pc := range rec.pods[name] {
			if pc.at > at(456) && pc.at < at(600) {
				t.Errorf("%s changed at %v while its node was lost", name, pc.at)
			}
		}
	}
	assert.Nil(t, getPod(c, "web"))

	// The node is Ready again (posted by its kubelet), its taints are removed
	// at the next tick, and the surviving pod is Ready again.
	assert.Equal(t, at(600.015), rec.firstNode("node-1", func(n *corev1.Node) bool {
		return n.ResourceVersion != "" && nodeReadyStatus(n) == corev1.ConditionTrue && hasTaint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)(n)
	}))
	assert.Len(t, opsBy(c, "kubelet/node-1", "update", "node-1"), 1)
	assert.Equal(t, at(605.005), rec.firstNode("node-1", func(n *corev1.Node) bool {
		return len(n.Spec.Taints) == 0 && nodeReadyStatus(n) == corev1.ConditionTrue
	}))
	forever := getPod(c, "forever")
	assert.True(t, podReady(forever))
	assert.Equal(t, sim.Epoch.Add(600*time.Second), podCondition(&forever.Status, corev1.PodReady).LastTransitionTime.Time)
	assert.True(t, podReady(getPod(c, "safe")))
	n1 := getNode(c, "node-1")
	assert.Empty(t, n1.Spec.Taints)

	// node-2's Node object was deleted at 500: the pod GC waits 40 s from
	// seeing it (500.010), checks with a GET, marks the pod Failed and force
	// deletes it.
	assert.Nil(t, getNode(c, "node-2"))
	assert.Equal(t, at(540.035), rec.first("orphan", isDeleted))
	gets := opsBy(c, ClientPodGC, "get", "node-2")
	require.Len(t, gets, 1)
	assert.Equal(t, 404, gets[0].Code)
	orphan := rec.pods["orphan"]
	failed := orphan[len(orphan)-2].pod
	assert.Equal(t, corev1.PodFailed, failed.Status.Phase)
	assert.Equal(t, "DeletionByPodGC", podCondition(&failed.Status, corev1.DisruptionTarget).Reason)
	gcDel := opsBy(c, ClientPodGC, "delete", "default/orphan")
	require.Len(t, gcDel, 1)
	assert.Contains(t, gcDel[0].Arg, "grace=0")

	// Nothing left to do.
	assert.Equal(t, sim.Idle, w.Run().Verdict)
}

func TestNodeReturnsBeforeGracePeriod(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	rec := recordCommits(c)
	create(t, c, mkPod("web", onNode("node-1")))
	runTo(w, at(100))
	require.NoError(t, c.LoseNode("node-1"))
	runTo(w, at(140))
	require.NoError(t, c.ReturnNode("node-1"))
	assert.Equal(t, sim.Idle, w.Run().Verdict)
	assert.Equal(t, time.Duration(-1), rec.firstNode("node-1", readyIs(corev1.ConditionUnknown)))
	assert.Empty(t, opsBy(c, ClientNodeLifecycle, "update", ""))
	assert.True(t, podReady(getPod(c, "web")))
	assert.Empty(t, opsBy(c, "kubelet/node-1", "update", "node-1"), "Ready all along: nothing to post")
}

func TestOutOfServiceTaint(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	rec := recordCommits(c)
	create(t, c, mkPod("web", onNode("node-3")))
	create(t, c, mkPod("ds", onNode("node-3"), tolerateUnreachable(nil)))
	runTo(w, at(103))
	require.NoError(t, c.LoseNode("node-3"))
	runTo(w, at(500))
	require.NotNil(t, getPod(c, "web").DeletionTimestamp, "evicted, stuck Terminating")

	// The operator declares the node out of service.
	n := getNode(c, "node-3").DeepCopy()
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: TaintOutOfService, Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute})
	require.NoError(t, c.API.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Nodes, Name: "node-3", Object: n}).Err)
	runTo(w, at(510))
	// The terminating pod goes at once (PodGC sees the taint at 500.005:
	// status patch, then delete); the DaemonSet pod does not tolerate the new
	// taint: evicted, then force-deleted too.
	assert.Equal(t, at(500.020), rec.first("web", isDeleted))
	assert.Equal(t, at(500.050), rec.first("ds", isDeleted))
	assert.Len(t, opsBy(c, ClientPodGC, "delete", "default/web"), 1)
	assert.Len(t, opsBy(c, ClientTaintEviction, "delete", "default/ds"), 1)
}

func TestNodeNotReadyConditionTaintsNotReady(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	rec := recordCommits(c)
	create(t, c, mkPod("web", onNode("node-2")))
	runTo(w, at(12))
	// Someone (a kubelet with a broken runtime) reports Ready=False.
	n := getNode(c, "node-2").DeepCopy()
	nodeCondition(n, corev1.NodeReady).Status = corev1.ConditionFalse
	require.NoError(t, c.API.Serve(&apiserver.Request{Verb: apiserver.Update, Kind: apiserver.Nodes, Name: "node-2", Subresource: "status", Object: n}).Err)
	runTo(w, at(19))
	assert.Equal(t, at(15.005), rec.firstNode("node-2", hasTaint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), "next tick")
	assert.Equal(t, time.Duration(-1), rec.firstNode("node-2", hasTaint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)))
	assert.Equal(t, at(12.010), rec.first("web", func(pc podCommit) bool { return pc.at > at(12) && !podReady(pc.pod) }),
		"the controller marks the node's pods not ready")
	assert.False(t, podReady(getPod(c, "web")))
	// The (live) kubelet puts its own view back at its status manager's
	// next batch tick (every 10 s since it started at 0).
	runTo(w, at(21))
	assert.Equal(t, at(20.005), rec.first("web", func(pc podCommit) bool { return pc.at > at(12.010) && podReady(pc.pod) }))
	// Tolerations of not-ready are 300 s from when the eviction controller saw
	// the taint (15.010); GET, DisruptionTarget and delete take 25 ms. The
	// live kubelet then finishes the pod.
	runTo(w, at(700))
	assert.Equal(t, at(315.035), rec.first("web", isTerminating))
	assert.Equal(t, at(316.055), rec.first("web", isDeleted), "seen 315.040, stopped 1 s later, status, then the final delete")
}

// The same seed and the same inputs give the same history.
func TestDeterministicHistory(t *testing.T) {
	digest := func() string {
		_, c, _ := lossScenario(t)
		return history.Digest(c.API.History().Ops())
	}
	a, b := digest(), digest()
	assert.Equal(t, a, b)

	// With random delays too.
	run := func(seed uint64) string {
		w := sim.New(seed, sim.Limits{})
		c, err := New(w, Config{NodeCount: 5})
		require.NoError(t, err)
		for i := 0; i < 30; i++ {
			create(t, c, mkPod("p"+string(rune('a'+i%26))+string(rune('a'+i/26))))
		}
		runTo(w, at(60))
		require.NoError(t, c.LoseNode("node-2"))
		runTo(w, at(500))
		require.NoError(t, c.ReturnNode("node-2"))
		require.NoError(t, c.CrashContainer("paa"))
		runTo(w, at(900))
		return history.Digest(c.API.History().Ops())
	}
	assert.Equal(t, run(3), run(3))
	assert.NotEqual(t, run(3), run(4))
}

func TestFaultHookErrors(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	runTo(w, at(1))
	assert.Error(t, c.LoseNode("nope"))
	assert.Error(t, c.ReturnNode("node-1"), "not lost")
	require.NoError(t, c.LoseNode("node-1"))
	assert.Error(t, c.LoseNode("node-1"), "already lost")
	assert.Error(t, c.CrashContainer("default/none"))
	require.NoError(t, c.DeleteNode("node-1"))
	assert.Error(t, c.ReturnNode("node-1"), "deleted")
	assert.Equal(t, []string{"node-2", "node-3"}, c.Nodes())
	assert.True(t, c.NodeLost("node-1"))
}

// The owner-reference garbage collector runs in the cluster: deleting an
// owner removes its pods, which the kubelet then stops and deletes.
func TestGarbageCollectorRemovesOwnedPods(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	require.NotNil(t, c.GC)
	replicas := int32(1)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.25"}}}}},
	}
	resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: rs})
	require.NoError(t, resp.Err)
	create(t, c, mkPod("frontend-x", func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{apiserver.OwnerReference(resp.Object)}
	}))
	runTo(w, at(10))
	require.True(t, podReady(getPod(c, "frontend-x")))
	require.NoError(t, c.API.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.ReplicaSets, Namespace: "default", Name: "frontend"}).Err)
	assert.Equal(t, sim.Idle, w.Run().Verdict)
	assert.Nil(t, getPod(c, "frontend-x"))
	assert.Len(t, opsBy(c, ClientGarbageCollector, "delete", "default/frontend-x"), 1)
	assert.Len(t, opsBy(c, "kubelet/node-1", "delete", "default/frontend-x"), 1, "graceful: the kubelet finished it")
}
