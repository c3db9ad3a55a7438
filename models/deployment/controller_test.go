package deployment_test

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models/deployment"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// env is a cluster (nodes, kubelets, scheduler, garbage collector) running
// upstream's ReplicaSet controllers and a Deployment controller, playing a
// scenario's manifests and steps.
type env struct {
	t      *testing.T
	w      *sim.World
	c      *cluster.Cluster
	dc     *deployment.Controller
	runner *workloads.Runner
}

func start(t *testing.T, text string, opts deployment.Options) *env {
	t.Helper()
	sc := parse(t, text)
	sc.Defaults()
	w := sim.New(1, sim.Limits{MaxTime: 2 * time.Hour, MaxEvents: 5_000_000})
	c, err := cluster.New(w, sc.Cluster)
	require.NoError(t, err)
	st := strategy(t, "upstream", opts)
	st.Controllers = slices.DeleteFunc(st.Controllers, func(c plugin.Controller) bool {
		return slices.Contains(c.Kinds, apiserver.Deployments)
	})
	st.Start(c.API, nil)
	e := &env{t: t, w: w, c: c, dc: deployment.Start(c.API, opts)}
	e.runner = workloads.Start(sc, c, nil)
	return e
}

func (e *env) runUntil(d time.Duration) {
	e.w.RunUntil(d)
	require.Empty(e.t, e.w.Failures())
}

func (e *env) stepErrors() []string {
	var out []string
	for _, r := range e.runner.Results {
		out = append(out, r.Error)
	}
	return out
}

func (e *env) deployment(name string) *appsv1.Deployment {
	for _, o := range e.c.API.Objects(apiserver.Deployments) {
		if o.GetName() == name {
			return o.(*appsv1.Deployment)
		}
	}
	e.t.Fatalf("no Deployment %s", name)
	return nil
}

// replicaSets in creation order.
func (e *env) replicaSets() []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, o := range e.c.API.Objects(apiserver.ReplicaSets) {
		out = append(out, o.(*appsv1.ReplicaSet))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CreationTimestamp.Equal(&out[j].CreationTimestamp) {
			return out[i].CreationTimestamp.Before(&out[j].CreationTimestamp)
		}
		return out[i].Name < out[j].Name
	})
	return out
}

func (e *env) image(rs *appsv1.ReplicaSet) string { return rs.Spec.Template.Spec.Containers[0].Image }

// sizes is "image=spec" for every ReplicaSet, in creation order.
func (e *env) sizes() []string {
	var out []string
	for _, rs := range e.replicaSets() {
		out = append(out, fmt.Sprintf("%s=%d", e.image(rs), *rs.Spec.Replicas))
	}
	return out
}

// condition is a copy of d's condition of type t, or nil.
func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return controller.GetCondition(d.Status.Conditions, t, func(c *appsv1.DeploymentCondition) appsv1.DeploymentConditionType { return c.Type })
}

// nginxWith is the Deployment web with a progress deadline of 60s, on four
// nodes whose kubelets cannot pull nginx:bad, then steps.
func nginxWith(replicas, historyLimit int, strategy, steps string) string {
	return "manifests:\n" + web(fmt.Sprintf("replicas: %d", replicas), fmt.Sprintf("revisionHistoryLimit: %d", historyLimit),
		"progressDeadlineSeconds: 60", "strategy: "+strategy) + `
cluster:
  nodeCount: 4
  kubelet:
    unpullableImages: [nginx:bad]
` + steps
}

var scaledRE = regexp.MustCompile(`^Scaled (up|down) replica set (\S+) from (\d+) to (\d+)$`)

// A rolling update, step by step: the new ReplicaSet starts at maxSurge,
// the ReplicaSets' sizes never sum beyond replicas + maxSurge, and the
// rollout ends with the new one at replicas and the old one at 0.
func TestRollingUpdateScalingSteps(t *testing.T) {
	e := start(t, nginxWith(10, 10, "{rollingUpdate: {maxSurge: 3, maxUnavailable: 2}}", rollout(10, "nginx:1.9.1")), deployment.Options{})
	e.runUntil(2 * time.Minute)
	rss := e.replicaSets()
	require.Len(t, rss, 2)
	old, cur := rss[0], rss[1]
	spec := map[string]int{}
	first := true
	for _, ev := range e.dc.Events() {
		m := scaledRE.FindStringSubmatch(ev.Message)
		require.NotNil(t, m, "an event of the rollout: %q", ev.Message)
		from, _ := strconv.Atoi(m[3])
		to, _ := strconv.Atoi(m[4])
		if first && m[2] == cur.Name {
			assert.Equal(t, []int{0, 3}, []int{from, to}, "the new ReplicaSet starts at maxSurge")
			first = false
		}
		assert.Equal(t, spec[m[2]], from, "%s", ev.Message)
		spec[m[2]] = to
		assert.LessOrEqual(t, spec[old.Name]+spec[cur.Name], 13, "within replicas + maxSurge after %q", ev.Message)
		if m[1] == "down" {
			assert.Equal(t, old.Name, m[2], "only the old ReplicaSet goes down")
		}
	}
	assert.False(t, first, "the new ReplicaSet was scaled up")
	assert.Equal(t, []string{"nginx:1.7.9=0", "nginx:1.9.1=10"}, e.sizes())
	d := e.deployment("web")
	assert.Equal(t, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 10, UpdatedReplicas: 10, ReadyReplicas: 10,
		AvailableReplicas: 10, TerminatingReplicas: d.Status.TerminatingReplicas, Conditions: d.Status.Conditions}, d.Status)
	if p := condition(d, appsv1.DeploymentProgressing); assert.NotNil(t, p) {
		assert.Equal(t, deployment.ReasonNewRSAvailable, p.Reason)
		assert.Equal(t, fmt.Sprintf("ReplicaSet %q has successfully progressed.", cur.Name), p.Message)
	}
	if a := condition(d, appsv1.DeploymentAvailable); assert.NotNil(t, a) {
		assert.Equal(t, corev1.ConditionTrue, a.Status)
		assert.Equal(t, deployment.ReasonMinimumAvailable, a.Reason)
	}
}

// The new ReplicaSet: <deployment>-<hash>, the hash of the template (as
// upstream computes it) in its labels, selector and pod template; owned by
// the Deployment; revision, desired-replicas and max-replicas annotations.
// Rolling back makes the old ReplicaSet new again with the next revision,
// its old one kept in revision-history.
func TestNewReplicaSetNamesAndRevisions(t *testing.T) {
	e := start(t, nginxWith(4, 10, "{}", rollout(4, "nginx:1.9.1")+`
  - at: 1m
    rollout-undo: deploy/web
`), deployment.Options{})
	e.runUntil(50 * time.Second)
	d := e.deployment("web")
	rss := e.replicaSets()
	require.Len(t, rss, 2)
	for i, rs := range rss {
		hash := rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
		require.NotEmpty(t, hash)
		assert.Equal(t, "web-"+hash, rs.Name)
		assert.Equal(t, hash, rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey])
		assert.Equal(t, hash, rs.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey])
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		assert.Equal(t, kube.ComputeHash(tmpl, nil), hash, "the hash of the template without its hash label")
		assert.True(t, metav1.IsControlledBy(rs, d))
		assert.Equal(t, strconv.Itoa(i+1), rs.Annotations[deployment.RevisionAnnotation])
		assert.Equal(t, "4", rs.Annotations[deployment.DesiredReplicasAnnotation])
		assert.Equal(t, "5", rs.Annotations[deployment.MaxReplicasAnnotation], "4 + 25% rounded up")
	}
	e.runUntil(2 * time.Minute)
	assert.Equal(t, []string{"", "", ""}, e.stepErrors())
	rss = e.replicaSets()
	require.Len(t, rss, 2, "no new ReplicaSet: the first one's template is back")
	assert.Equal(t, []string{"nginx:1.7.9=4", "nginx:1.9.1=0"}, e.sizes())
	assert.Equal(t, "3", rss[0].Annotations[deployment.RevisionAnnotation])
	assert.Equal(t, "1", rss[0].Annotations[deployment.RevisionHistoryAnnotation])
	assert.Equal(t, "2", rss[1].Annotations[deployment.RevisionAnnotation])
	d = e.deployment("web")
	assert.Equal(t, "nginx:1.7.9", d.Spec.Template.Spec.Containers[0].Image)
	assert.NotContains(t, d.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey, "undo drops the hash label")
}

// revisionHistoryLimit keeps that many old ReplicaSets, the newest
// revisions, once each rollout is complete.
func TestRevisionHistoryLimit(t *testing.T) {
	e := start(t, nginxWith(2, 1, "{}", rollout(2, "nginx:1.8")+`
  - at: 1m
    set-image: deploy/web
    image: {web: "nginx:1.9"}
  - at: 2m
    set-image: deploy/web
    image: {web: "nginx:1.10"}
`), deployment.Options{})
	e.runUntil(3 * time.Minute)
	assert.Equal(t, []string{"nginx:1.9=0", "nginx:1.10=2"}, e.sizes())
	var revisions []string
	for _, rs := range e.replicaSets() {
		revisions = append(revisions, rs.Annotations[deployment.RevisionAnnotation])
	}
	assert.Equal(t, []string{"3", "4"}, revisions, "revisions 1 and 2 deleted")
}

// Paused: Progressing is Unknown (DeploymentPaused), a new template makes no
// ReplicaSet, a scale still applies; resumed: DeploymentResumed, then the
// rollout.
func TestPauseAndResume(t *testing.T) {
	e := start(t, nginxWith(3, 10, "{}", `
steps:
  - after: deploy/web available=3
    rollout-pause: deploy/web
  - at: 20s
    set-image: deploy/web
    image: {web: "nginx:1.9.1"}
  - at: 30s
    scale: deploy/web
    replicas: 5
  - at: 2m
    rollout-resume: deploy/web
`), deployment.Options{})
	e.runUntil(time.Minute)
	assert.Equal(t, []string{"nginx:1.7.9=5"}, e.sizes(), "scaled, not rolled")
	d := e.deployment("web")
	p := condition(d, appsv1.DeploymentProgressing)
	require.NotNil(t, p)
	assert.Equal(t, [2]string{"Unknown", deployment.ReasonPaused}, [2]string{string(p.Status), p.Reason})
	assert.Equal(t, int32(0), d.Status.UpdatedReplicas, "no pod has the paused template")
	assert.Equal(t, d.Generation, d.Status.ObservedGeneration)

	var reasons []string // Progressing's reasons as written, from here on
	e.c.API.OnCommit(func(ev apiserver.Event) {
		if d, ok := ev.Object.(*appsv1.Deployment); ok {
			if p := condition(d, appsv1.DeploymentProgressing); p != nil && (len(reasons) == 0 || reasons[len(reasons)-1] != p.Reason) {
				reasons = append(reasons, p.Reason)
			}
		}
	})
	e.runUntil(3 * time.Minute)
	assert.Equal(t, []string{"nginx:1.7.9=0", "nginx:1.9.1=5"}, e.sizes())
	// No NewReplicaSetCreated: as upstream, the sync that writes Resumed
	// goes on with the resourceVersion it read before, so its next status
	// write (after creating the ReplicaSet) is a 409; the retry finds the
	// ReplicaSet and reports progress.
	assert.Equal(t, []string{deployment.ReasonPaused, deployment.ReasonResumed, deployment.ReasonReplicaSetUpdated,
		deployment.ReasonNewRSAvailable}, reasons)
}

// A rollout that makes no progress for progressDeadlineSeconds gets
// Progressing False with ProgressDeadlineExceeded, checked one second after
// the deadline (upstream's requeue), and keeps it while stuck.
func TestProgressDeadlineExceeded(t *testing.T) {
	e := start(t, nginxWith(3, 10, "{rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}", rollout(3, "nginx:bad")), deployment.Options{})
	e.runUntil(30 * time.Second)
	p := condition(e.deployment("web"), appsv1.DeploymentProgressing)
	require.NotNil(t, p)
	require.Equal(t, deployment.ReasonReplicaSetUpdated, p.Reason)
	deadline := p.LastUpdateTime.Add(60 * time.Second)
	e.runUntil(deadline.Sub(sim.Epoch))
	assert.Equal(t, deployment.ReasonReplicaSetUpdated, condition(e.deployment("web"), appsv1.DeploymentProgressing).Reason, "not before the deadline")
	e.runUntil(deadline.Sub(sim.Epoch) + 2*time.Second)
	d := e.deployment("web")
	p = condition(d, appsv1.DeploymentProgressing)
	assert.Equal(t, [2]string{"False", deployment.ReasonTimedOut}, [2]string{string(p.Status), p.Reason})
	assert.Contains(t, p.Message, "has timed out progressing.")
	assert.Equal(t, corev1.ConditionTrue, condition(d, appsv1.DeploymentAvailable).Status, "2 of 3 available: within maxUnavailable")
	assert.Equal(t, []string{"nginx:1.7.9=2", "nginx:bad=2"}, e.sizes())
	e.runUntil(10 * time.Minute)
	assert.Equal(t, deployment.ReasonTimedOut, condition(e.deployment("web"), appsv1.DeploymentProgressing).Reason, "sticky")
}

// Scaling a stuck rollout spreads the new replicas over the ReplicaSets in
// proportion to their sizes (upstream); the named variant puts them all on
// the newest.
func TestProportionalScaling(t *testing.T) {
	steps := rollout(10, "nginx:bad") + `
  - at: 1m
    scale: deploy/web
    replicas: 30
`
	for _, tc := range []struct {
		name string
		opts deployment.Options
		want []string
	}{
		// 10 replicas, surge 3, unavailable 2: stuck at old 8 + new 5 (13 of
		// max-replicas 13). To 30 (+8 surge = 38): old round(8×38/13) = 23,
		// new round(5×38/13) = 15.
		{"upstream", deployment.Options{}, []string{"nginx:1.7.9=23", "nginx:bad=15"}},
		{"newest only", deployment.Options{ScaleNewestOnly: true}, []string{"nginx:1.7.9=8", "nginx:bad=30"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nginxWith(10, 10, "{}", steps), tc.opts)
			e.runUntil(50 * time.Second)
			assert.Equal(t, []string{"nginx:1.7.9=8", "nginx:bad=5"}, e.sizes())
			e.runUntil(90 * time.Second)
			assert.Equal(t, tc.want, e.sizes())
			for _, rs := range e.replicaSets() {
				assert.Equal(t, "30", rs.Annotations[deployment.DesiredReplicasAnnotation])
				assert.Equal(t, "38", rs.Annotations[deployment.MaxReplicasAnnotation])
			}
		})
	}
}

// ScaleDownFirst creates the new ReplicaSet empty and scales the old one
// down first; upstream surges first.
func TestScaleDownFirst(t *testing.T) {
	steps := rollout(4, "nginx:1.9.1")
	for _, tc := range []struct {
		name  string
		opts  deployment.Options
		first string
	}{
		{"upstream", deployment.Options{}, "Scaled up replica set %s from 0 to 1"},
		{"scale down first", deployment.Options{ScaleDownFirst: true}, "Scaled down replica set %s from 4 to 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, nginxWith(4, 10, "{rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}", steps), tc.opts)
			e.runUntil(2 * time.Minute)
			rss := e.replicaSets()
			require.Len(t, rss, 2)
			name := rss[1].Name
			if tc.opts.ScaleDownFirst {
				name = rss[0].Name
			}
			var msgs []string
			for _, ev := range e.dc.Events() {
				msgs = append(msgs, ev.Message)
			}
			require.Greater(t, len(msgs), 1)
			assert.Equal(t, fmt.Sprintf("Scaled up replica set %s from 0 to 4", rss[0].Name), msgs[0], "the Deployment's creation")
			assert.Equal(t, fmt.Sprintf(tc.first, name), msgs[1], "the rollout's first step")
			assert.Equal(t, []string{"nginx:1.7.9=0", "nginx:1.9.1=4"}, e.sizes())
		})
	}
}

// Recreate: the old ReplicaSet goes to 0, and the new one is created only
// once none of the old pods is left.
func TestRecreate(t *testing.T) {
	e := start(t, nginxWith(3, 10, "{type: Recreate}", rollout(3, "nginx:1.9.1")), deployment.Options{})
	oldPods := map[string]bool{}
	var atCreation []string
	e.c.API.OnCommit(func(ev apiserver.Event) {
		switch o := ev.Object.(type) {
		case *corev1.Pod:
			if o.Spec.Containers[0].Image != "nginx:1.7.9" {
				return
			}
			if ev.Type == "DELETED" {
				delete(oldPods, o.Name)
			} else {
				oldPods[o.Name] = true
			}
		case *appsv1.ReplicaSet:
			if ev.Type == "ADDED" && o.Spec.Template.Spec.Containers[0].Image == "nginx:1.9.1" {
				for name := range oldPods {
					atCreation = append(atCreation, name)
				}
			}
		}
	})
	e.runUntil(3 * time.Minute)
	assert.Equal(t, []string{"nginx:1.7.9=0", "nginx:1.9.1=3"}, e.sizes())
	assert.Empty(t, atCreation, "old pods still there when the new ReplicaSet was created")
	msgs := []string{}
	for _, ev := range e.dc.Events() {
		msgs = append(msgs, strings.Fields(ev.Message)[1])
	}
	assert.Equal(t, []string{"up", "down", "up"}, msgs, "created; then scale the old down, then the new up (created at full size)")
}

// An orphan ReplicaSet the selector matches is adopted (here it has the
// template: it becomes the new ReplicaSet, nothing is created); one that
// stops matching is released.
func TestAdoptionAndRelease(t *testing.T) {
	e := start(t, "manifests:\n  - testdata/web-legacy.yaml\n"+web("replicas: 3")+`
steps:
  - at: 1m
    label: rs/web-legacy
    set: {app: other}
    overwrite: true
`, deployment.Options{})
	e.runUntil(50 * time.Second)
	rss := e.replicaSets()
	require.Len(t, rss, 1, "adopted, not replaced")
	d := e.deployment("web")
	assert.True(t, metav1.IsControlledBy(rss[0], d))
	assert.Equal(t, int32(3), *rss[0].Spec.Replicas)
	assert.Equal(t, "1", rss[0].Annotations[deployment.RevisionAnnotation])

	e.runUntil(2 * time.Minute)
	assert.Equal(t, []string{"", ""}, e.stepErrors())
	rss = e.replicaSets()
	require.Len(t, rss, 2)
	assert.Equal(t, "web-legacy", rss[0].Name)
	assert.Nil(t, metav1.GetControllerOf(rss[0]), "released")
	assert.True(t, metav1.IsControlledBy(rss[1], d), "and a new one made")
	assert.Equal(t, int32(3), *rss[1].Spec.Replicas)
}

// A ReplicaSet of another template already has the new one's name: the
// Deployment bumps status.collisionCount and takes the next hash.
func TestHashCollision(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.7.9"}}},
	}
	// The template as the API server defaults it.
	w := sim.New(1, sim.Limits{MaxTime: time.Minute})
	api := apiserver.New(w, apiserver.DefaultConfig())
	resp := api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Deployments, Object: &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: "default"},
		Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}, Template: tmpl}}})
	require.NoError(t, resp.Err)
	defaulted := resp.Object.(*appsv1.Deployment).Spec.Template
	taken := kube.ComputeHash(&defaulted, nil)
	one := int32(1)
	next := kube.ComputeHash(&defaulted, &one)
	require.NotEqual(t, taken, next)

	e := start(t, "manifests:\n"+web("replicas: 2"), deployment.Options{})
	// The squatter, there before the Deployment: a ReplicaSet of no pods
	// with the name of the Deployment's first.
	squatter := map[string]string{"app": "squatter"}
	zero := int32(0)
	require.NoError(t, e.c.API.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.ReplicaSets, Object: &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-" + taken, Namespace: "default", Labels: squatter},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, Selector: &metav1.LabelSelector{MatchLabels: squatter},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: squatter},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "squatter", Image: "busybox"}}}}}}}).Err)
	e.runUntil(time.Minute)
	d := e.deployment("web")
	require.NotNil(t, d.Status.CollisionCount)
	assert.Equal(t, int32(1), *d.Status.CollisionCount)
	var names []string
	for _, rs := range e.replicaSets() {
		names = append(names, rs.Name)
	}
	assert.ElementsMatch(t, []string{"web-" + taken, "web-" + next}, names)
	assert.Equal(t, int32(2), d.Status.AvailableReplicas)
}

// kubectl rollout undo: refused while paused, an unknown revision, no
// history, and an undo to the current template is skipped without a write.
func TestRolloutUndoErrors(t *testing.T) {
	e := start(t, nginxWith(2, 10, "{}", `
steps:
  - at: 20s
    rollout-undo: deploy/web
    expectErrorMessage: no rollout history found for deployment "web"
  - at: 25s
    set-image: deploy/web
    image: {web: "nginx:1.9.1"}
  - at: 1m
    rollout-undo: deploy/web
    toRevision: 9
    expectErrorMessage: unable to find specified revision 9 in history
  - at: 70s
    rollout-undo: deploy/web
    toRevision: 2
  - at: 80s
    rollout-pause: deploy/web
  - at: 90s
    rollout-undo: deploy/web
    expectErrorMessage: "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/web' and try again"
  - at: 100s
    rollout-resume: deploy/web
  - at: 110s
    rollout-undo: deploy/web
    toRevision: 1
`), deployment.Options{})
	e.runUntil(70*time.Second - time.Millisecond)
	gen := e.deployment("web").Generation
	e.runUntil(75 * time.Second)
	assert.Equal(t, gen, e.deployment("web").Generation, "undo to the current revision writes nothing")
	e.runUntil(3 * time.Minute)
	for i, r := range e.runner.Results {
		assert.Empty(t, r.Error, "step %d %s", i, r.Step)
	}
	assert.Equal(t, []string{"nginx:1.7.9=2", "nginx:1.9.1=0"}, e.sizes(), "rolled back to revision 1")
	assert.Equal(t, "3", e.replicaSets()[0].Annotations[deployment.RevisionAnnotation])
}

// The deprecated rollback request (the deprecated.deployment.rollback.to
// annotation) is served by the controller and cleared.
func TestDeprecatedRollbackTo(t *testing.T) {
	e := start(t, nginxWith(2, 10, "{}", rollout(2, "nginx:1.9.1")+`
  - at: 1m
    annotate: deploy/web
    set: {deprecated.deployment.rollback.to: "1"}
`), deployment.Options{})
	e.runUntil(2 * time.Minute)
	d := e.deployment("web")
	assert.NotContains(t, d.Annotations, appsv1.DeprecatedRollbackTo)
	assert.Equal(t, "nginx:1.7.9", d.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, []string{"nginx:1.7.9=2", "nginx:1.9.1=0"}, e.sizes())
	var rolled bool
	for _, ev := range e.dc.Events() {
		rolled = rolled || ev.Message == `Rolled back deployment "web" to revision 1`
	}
	assert.True(t, rolled)
}

// A controller started in a context of a strategy takes the context's name.
func TestStartWithContextName(t *testing.T) {
	w := sim.New(1, sim.Limits{MaxTime: time.Minute})
	api := apiserver.New(w, apiserver.DefaultConfig())
	ctx := controller.NewContext("custom/deployment", api)
	dc := deployment.StartWithContext(ctx, deployment.Options{})
	api.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Deployments, Object: &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}}}})
	w.RunUntil(10 * time.Second)
	clients := map[string]bool{}
	for _, op := range api.History().Ops() {
		clients[op.Client] = true
	}
	assert.True(t, clients["custom/deployment"])
	require.Len(t, dc.Events(), 1)
	assert.Equal(t, "Deployment/default/web", dc.Events()[0].Object)
}
