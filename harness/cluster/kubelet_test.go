package cluster

import (
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod's life with fixed delays: every step lands at the virtual time the
// delays add up to.
func TestPodTimeline(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	rec := recordCommits(c)
	runTo(w, at(1))
	create(t, c, mkPod("web"))

	runTo(w, at(20))
	p := getPod(c, "web")
	require.NotNil(t, p)
	assert.Equal(t, "node-1", p.Spec.NodeName, "least loaded, ties by name")
	assert.Equal(t, corev1.PodRunning, p.Status.Phase)

	// created 1.000; the scheduler sees it at 1.005 and its binding commits
	// at 1.010; the kubelet sees the binding at 1.015 and reports Pending at
	// 1.020; pull 2 s and start 1 s: running at 4.015, reported at 4.020;
	// ready 3 s later: 7.015, reported at 7.020.
	steps := []struct {
		what string
		cond func(podCommit) bool
		want time.Duration
	}{
		{"scheduled", func(pc podCommit) bool { return pc.pod.Spec.NodeName != "" }, at(1.010)},
		{"accepted by the kubelet", func(pc podCommit) bool { return pc.pod.Status.StartTime != nil }, at(1.020)},
		{"running", func(pc podCommit) bool { return pc.pod.Status.Phase == corev1.PodRunning }, at(4.020)},
		{"ready", isReady, at(7.020)},
	}
	for _, s := range steps {
		assert.Equal(t, s.want, rec.first("web", s.cond), s.what)
	}
	accepted := rec.pods["web"][2].pod
	assert.Equal(t, corev1.PodPending, accepted.Status.Phase)
	assert.Equal(t, "ContainerCreating", waitingReason(accepted))
	assert.Equal(t, corev1.ConditionTrue, podCondition(&accepted.Status, corev1.PodInitialized).Status)
	assert.Equal(t, "ContainersNotReady", podCondition(&accepted.Status, corev1.PodReady).Reason)

	cs := p.Status.ContainerStatuses[0]
	require.NotNil(t, cs.State.Running)
	assert.Equal(t, sim.Epoch.Add(4*time.Second), cs.State.Running.StartedAt.Time)
	assert.True(t, cs.Ready)
	ready := podCondition(&p.Status, corev1.PodReady)
	assert.Equal(t, sim.Epoch.Add(7*time.Second), ready.LastTransitionTime.Time, "timestamps have 1 s precision")
	assert.Equal(t, sim.Epoch.Add(1*time.Second), p.Status.StartTime.Time)
	assert.NotEmpty(t, p.Status.PodIP)
	assert.Equal(t, getNode(c, "node-1").Status.Addresses[0].Address, p.Status.HostIP)

	// Who wrote what: the scheduler bound it, the kubelet wrote status three
	// times, each with the resourceVersion it had last seen.
	assert.Len(t, opsBy(c, "scheduler", "create", "default/web"), 1)
	st := opsBy(c, "kubelet/node-1", "update", "default/web")
	require.Len(t, st, 3)
	for _, op := range st {
		assert.Equal(t, "status", op.Subresource)
		assert.Equal(t, 200, op.Code)
		assert.NotEmpty(t, op.PreRV)
	}

	// A second pod on the same node finds the image there: no pull.
	create(t, c, mkPod("web2", onNode("node-1")))
	runTo(w, at(30))
	assert.Equal(t, at(21.010), rec.first("web2", func(pc podCommit) bool { return pc.pod.Status.Phase == corev1.PodRunning }),
		"seen at 20.005, started 1 s later, reported 5 ms after")
}

func TestZeroReadinessDelayIsOneWrite(t *testing.T) {
	_, c, rec := runningReady(t, mkPod("web", onNode("node-2")))
	running := rec.first("web", func(pc podCommit) bool { return pc.pod.Status.Phase == corev1.PodRunning })
	assert.Equal(t, running, rec.first("web", isReady))
	assert.Len(t, opsBy(c, "kubelet/node-2", "update", "default/web"), 2, "accepted, then running and ready")
}

func TestUnpullableImageBacksOff(t *testing.T) {
	cfg := fixedConfig()
	cfg.Kubelet.ImagePull = Fixed(time.Second)
	cfg.Kubelet.UnpullableImages = []string{"registry.example/missing:v1"}
	w, c := newTestCluster(t, cfg)
	rec := recordCommits(c)
	runTo(w, at(1))
	create(t, c, mkPod("bad", withImage("registry.example/missing:v1")))
	runTo(w, 20*time.Minute)

	type step struct {
		at     time.Duration
		reason string
	}
	var got []step
	for _, pc := range rec.pods["bad"] {
		if r := waitingReason(pc.pod); r != "" && (len(got) == 0 || got[len(got)-1].reason != r) {
			got = append(got, step{pc.at, r})
		}
	}
	// The kubelet sees the pod at 1.015. Pulls fail after 1 s; the next sync
	// comes 10 s after a failure; the back-off since the failure is 10 s,
	// 20 s, 40 s, 80 s, 160 s, then 300 s. Attempts start at 1.015, 12.015,
	// 33.015, 74.015, 155.015, 316.015, 617.015, 918.015.
	want := []step{
		{at(1.020), "ContainerCreating"},
		{at(2.020), "ErrImagePull"},      // attempt 1 failed; attempt 2 (at 12.015) fails too: same status
		{at(23.020), "ImagePullBackOff"}, // sync at 23.015: 10 s into a 20 s back-off
		{at(34.020), "ErrImagePull"},     // attempt 3 at 33.015
		{at(44.020), "ImagePullBackOff"}, // back-off 40 s
		{at(75.020), "ErrImagePull"},     // attempt 4 at 74.015
		{at(85.020), "ImagePullBackOff"}, // back-off 80 s
		{at(156.020), "ErrImagePull"},    // attempt 5 at 155.015
		{at(166.020), "ImagePullBackOff"},
		{at(317.020), "ErrImagePull"}, // back-off 160 s
		{at(327.020), "ImagePullBackOff"},
		{at(618.020), "ErrImagePull"}, // capped at 300 s
		{at(628.020), "ImagePullBackOff"},
		{at(919.020), "ErrImagePull"},
		{at(929.020), "ImagePullBackOff"},
	}
	assert.Equal(t, want, got)

	p := getPod(c, "bad")
	assert.Equal(t, corev1.PodPending, p.Status.Phase)
	assert.False(t, podReady(p))
	assert.Contains(t, p.Status.ContainerStatuses[0].State.Waiting.Message, `Back-off pulling image "registry.example/missing:v1"`)
	assert.Equal(t, int32(0), p.Status.ContainerStatuses[0].RestartCount)

	// Deleting it works although nothing ever ran: no stop delay.
	del := c.API.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: "default", Name: "bad"})
	require.NoError(t, del.Err)
	runTo(w, 20*time.Minute+time.Second)
	assert.Nil(t, getPod(c, "bad"))
	last := rec.pods["bad"][len(rec.pods["bad"])-2].pod
	assert.Equal(t, corev1.PodFailed, last.Status.Phase)
	assert.Equal(t, "ContainerStatusUnknown", last.Status.ContainerStatuses[0].State.Terminated.Reason)
}

func TestCrashLoopBackOff(t *testing.T) {
	w, c, rec := runningReady(t, mkPod("web", onNode("node-1")))
	require.True(t, podReady(getPod(c, "web")))

	// Crash whenever the container has just been restarted (or at once),
	// and measure how long each restart waits.
	var crashes []time.Duration
	crash := func() {
		require.NoError(t, c.CrashContainer("web"))
		crashes = append(crashes, w.Elapsed())
	}
	runTo(w, at(20))
	crash()
	p := getPod(c, "web")
	for i := 0; i < 6; i++ {
		restarts := p.Status.ContainerStatuses[0].RestartCount
		for getPod(c, "web").Status.ContainerStatuses[0].RestartCount == restarts || !podReady(getPod(c, "web")) {
			require.True(t, w.Step())
		}
		p = getPod(c, "web")
		runTo(w, w.Elapsed()+10*time.Second)
		crash()
	}
	// Restarts: when the kubelet reported the container running again.
	var restarts []time.Duration
	var prev int32
	for _, pc := range rec.pods["web"] {
		cs := pc.pod.Status.ContainerStatuses
		if len(cs) == 1 && cs[0].RestartCount > prev && cs[0].State.Running != nil {
			restarts = append(restarts, pc.at)
			prev = cs[0].RestartCount
		}
	}
	require.Len(t, restarts, 6)
	var waits []time.Duration
	for i, r := range restarts {
		// restart report = crash + back-off + 1 s start + 5 ms to commit
		waits = append(waits, r-crashes[i]-time.Second-5*ms)
	}
	assert.Equal(t, []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second}, waits,
		"first restart at once, then CrashLoopBackOff 10 s doubling")

	// During a back-off the pod says so and is not ready.
	runTo(w, w.Elapsed()+100*ms)
	p = getPod(c, "web")
	cs := p.Status.ContainerStatuses[0]
	require.NotNil(t, cs.State.Waiting)
	assert.Equal(t, "CrashLoopBackOff", cs.State.Waiting.Reason)
	assert.Contains(t, cs.State.Waiting.Message, "back-off 5m0s restarting failed container=app pod=web_default(")
	assert.Equal(t, int32(6), cs.RestartCount)
	require.NotNil(t, cs.LastTerminationState.Terminated)
	assert.Equal(t, int32(1), cs.LastTerminationState.Terminated.ExitCode)
	assert.False(t, podReady(p))
	assert.Equal(t, corev1.PodRunning, p.Status.Phase, "restartPolicy Always: still Running")

	// Running more than 10 min since the last restart resets the back-off.
	runTo(w, w.Elapsed()+5*time.Minute+2*time.Second)
	require.True(t, podReady(getPod(c, "web")))
	runTo(w, w.Elapsed()+11*time.Minute)
	crashAt := w.Elapsed()
	require.NoError(t, c.CrashContainer("default/web"))
	runTo(w, crashAt+time.Second+10*ms)
	p = getPod(c, "web")
	assert.True(t, podReady(p), "restarted at once")
	assert.Equal(t, int32(8), p.Status.ContainerStatuses[0].RestartCount)
}

func TestGracefulDeletion(t *testing.T) {
	cases := []struct {
		name      string
		grace     *int64
		stop      time.Duration
		wantAfter time.Duration // from the delete's commit to the pod's removal
	}{
		// seen 5 ms after; containers stop after min(grace, stop); final
		// status commits 5 ms later, the response 5 ms after that, then the
		// final delete commits 5 ms later.
		{"stop delay shorter than grace", nil, time.Second, time.Second + 20*ms},
		{"grace shorter than stop delay", ptrTo(int64(2)), 5 * time.Second, 2*time.Second + 20*ms},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fixedConfig()
			cfg.Kubelet.StopDelay = Fixed(tc.stop)
			w, c := newTestCluster(t, cfg)
			rec := recordCommits(c)
			create(t, c, mkPod("web", onNode("node-3")))
			runTo(w, at(10))
			require.True(t, podReady(getPod(c, "web")))

			resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: "default", Name: "web",
				Delete: &metav1.DeleteOptions{GracePeriodSeconds: tc.grace}})
			require.NoError(t, resp.Err)
			require.NotNil(t, resp.Object.GetDeletionTimestamp())
			runTo(w, at(60))
			assert.Nil(t, getPod(c, "web"))
			assert.Equal(t, at(10)+tc.wantAfter, rec.first("web", isDeleted))

			// The kubelet reported the stopped containers, then deleted with
			// grace 0 and the pod's uid as precondition.
			final := rec.pods["web"][len(rec.pods["web"])-2].pod
			assert.Equal(t, corev1.PodSucceeded, final.Status.Phase)
			term := final.Status.ContainerStatuses[0].State.Terminated
			require.NotNil(t, term)
			assert.Equal(t, "Completed", term.Reason)
			assert.False(t, podReady(final))
			dels := opsBy(c, "kubelet/node-3", "delete", "default/web")
			require.Len(t, dels, 1)
			assert.Contains(t, dels[0].Arg, "grace=0")
			assert.Equal(t, string(final.UID), dels[0].PreUID)
			assert.Equal(t, "deleted", dels[0].Result)
		})
	}
}

func TestForceDeleteWhileRunning(t *testing.T) {
	w, c := newTestCluster(t, fixedConfig())
	create(t, c, mkPod("web", onNode("node-1")))
	runTo(w, at(10))
	resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: "default", Name: "web",
		Delete: &metav1.DeleteOptions{GracePeriodSeconds: ptrTo(int64(0))}})
	require.NoError(t, resp.Err)
	assert.Equal(t, sim.Idle, w.Run().Verdict)
	assert.Empty(t, c.Kubelet("node-1").Pods(), "the kubelet forgot the pod")
	assert.Empty(t, opsBy(c, "kubelet/node-1", "delete", ""))
}

func TestRestartPolicyNeverEndsThePod(t *testing.T) {
	w, c, _ := runningReady(t, mkPod("job", onNode("node-1"), func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }))
	require.NoError(t, c.Kubelet("node-1").Crash("default/job", "app", 0))
	assert.Equal(t, sim.Idle, w.Run().Verdict)
	p := getPod(c, "job")
	assert.Equal(t, corev1.PodSucceeded, p.Status.Phase)
	assert.Equal(t, int32(0), p.Status.ContainerStatuses[0].RestartCount)
	assert.Equal(t, "PodCompleted", podCondition(&p.Status, corev1.PodReady).Reason)
}

// runningReady runs pod for ten seconds on a cluster whose kubelets report a
// pod ready as soon as it runs; rec has every commit.
func runningReady(t *testing.T, pod *corev1.Pod) (w *sim.World, c *Cluster, rec *commits) {
	t.Helper()
	cfg := fixedConfig()
	cfg.Kubelet.Readiness = Fixed(0)
	w, c = newTestCluster(t, cfg)
	rec = recordCommits(c)
	create(t, c, pod)
	runTo(w, at(10))
	return w, c, rec
}
