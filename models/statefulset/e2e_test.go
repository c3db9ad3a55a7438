package statefulset_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/check"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/statefulset"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// strategy is upstream's ReplicaSet and ReplicationController controllers
// plus the StatefulSet model with opts.
func strategy(t *testing.T, name string, opts statefulset.Options) plugin.Strategy {
	t.Helper()
	st := models.UpstreamWith(plugin.Controller{Name: name + "/sts", Kinds: []apiserver.Kind{apiserver.StatefulSets}, Run: statefulset.Run(opts)})
	st.Name = name
	return st
}

// observer follows every commit of a run: the pods and claims in storage,
// and what the StatefulSet controller did, with the state it did it in.
type observer struct {
	client string
	pods   map[string]*corev1.Pod // by name
	claims map[string]bool
	revs   map[string]bool
	// The controller's pod creates and deletes, in order.
	acts []act
	now  func() time.Duration
}

type act struct {
	verb, pod string
	at        time.Duration
	// Of the set's other pods at that moment (by name): Running, Ready and
	// not terminating, and existing at all.
	ready, exists map[string]bool
	claims        map[string]bool
	labels        map[string]string
}

func newObserver(client string) *observer {
	return &observer{client: client, pods: map[string]*corev1.Pod{}, claims: map[string]bool{}, revs: map[string]bool{}}
}

func (o *observer) setup(c *cluster.Cluster) {
	o.now = c.World.Elapsed
	c.API.OnCommit(o.observe)
}

func (o *observer) observe(ev apiserver.Event) {
	switch obj := ev.Object.(type) {
	case *corev1.PersistentVolumeClaim:
		o.claims[obj.Name] = ev.Type != watch.Deleted && obj.DeletionTimestamp == nil
	case *appsv1.ControllerRevision:
		o.revs[obj.Name] = ev.Type != watch.Deleted
	case *corev1.Pod:
		deleting := ev.Type == watch.Modified && obj.DeletionTimestamp != nil && ev.Old.GetDeletionTimestamp() == nil
		if ev.Client == o.client && (ev.Type == watch.Added || deleting) {
			a := act{verb: "create", pod: obj.Name, at: o.now(), ready: map[string]bool{}, exists: map[string]bool{}, claims: map[string]bool{},
				labels: obj.Labels}
			if deleting {
				a.verb = "delete"
			}
			for name, p := range o.pods {
				a.exists[name] = true
				a.ready[name] = p.Status.Phase == corev1.PodRunning && ready(p) && p.DeletionTimestamp == nil
			}
			for name, ok := range o.claims {
				a.claims[name] = ok
			}
			o.acts = append(o.acts, a)
		}
		if ev.Type == watch.Deleted {
			delete(o.pods, obj.Name)
		} else {
			o.pods[obj.Name] = obj
		}
	}
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// verbs lists the controller's acts of one verb, in order.
func (o *observer) verbs(verb string) []act {
	var out []act
	for _, a := range o.acts {
		if a.verb == verb {
			out = append(out, a)
		}
	}
	return out
}

func names(acts []act) []string {
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.pod
	}
	return out
}

func parse(t *testing.T, text string) *workloads.Scenario {
	t.Helper()
	sc, err := workloads.ParseScenario("test.yaml", []byte("name: test\n"+text), nil)
	require.NoError(t, err)
	return sc
}

// play runs the scenario once under the strategy, watching it.
func play(t *testing.T, sc *workloads.Scenario, st plugin.Strategy, seed uint64) (*run.Result, *observer) {
	t.Helper()
	o := newObserver(st.Name + "/sts")
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: seed, Setup: o.setup})
	require.NoError(t, err)
	return res, o
}

func checks(res *run.Result) string {
	var b strings.Builder
	for _, c := range res.Summary.Checks {
		fmt.Fprintf(&b, "\n  %s %s %s %s", c.Check, c.Verdict, c.At, c.Message)
	}
	for _, f := range res.Summary.Failures {
		fmt.Fprintf(&b, "\n  failure %s: %s", f.Actor, f.Message)
	}
	return b.String()
}

func checkVerdict(res *run.Result, name string) check.Result {
	for _, c := range res.Summary.Checks {
		if c.Check == name {
			return c
		}
	}
	return check.Result{}
}

// set is the web StatefulSet manifest with extra spec lines (indented two
// spaces, under spec:).
func set(replicas int, spec string) string {
	return fmt.Sprintf(`
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: web}
    spec:
      serviceName: nginx
      replicas: %d
      selector: {matchLabels: {app: nginx}}
      template:
        metadata: {labels: {app: nginx}}
        spec:
          containers: [{name: nginx, image: "nginx:1.9.1"}]
      volumeClaimTemplates:
      - metadata: {name: www}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
%s`, replicas, indent(spec, "      "))
}

// setImage is steps: once the set has ready pods Ready, it is given the
// nginx image (the steps that follow run after that one).
func setImage(ready int, image string) string {
	return fmt.Sprintf("steps:\n  - after: sts/web ready=%d\n    set-image: sts/web\n    image: {nginx: %q}\n", ready, image)
}

// playPassing plays sc once under the model with opts and requires a pass.
func playPassing(t *testing.T, sc *workloads.Scenario, opts statefulset.Options, seed uint64) *observer {
	t.Helper()
	res, o := play(t, sc, strategy(t, "s", opts), seed)
	runtest.RequirePass(t, res.Summary)
	return o
}

func indent(s, by string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = by + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestCatalogOrderedIdentity(t *testing.T) {
	sc, err := workloads.Lookup("sts-ordered-identity")
	require.NoError(t, err)
	st := strategy(t, "upstream", statefulset.Options{})
	res, o := play(t, sc, st, 1)
	runtest.RequirePass(t, res.Summary)

	// web-0, web-1; after kubectl deletes both: web-0, web-1 again; the
	// scale to 3: web-2; the scale to 1: web-2 then web-1 deleted.
	assert.Equal(t, []string{"web-0", "web-1", "web-0", "web-1", "web-2"}, names(o.verbs("create")))
	assert.Equal(t, []string{"web-2", "web-1"}, names(o.verbs("delete")))
	for _, a := range o.verbs("create") {
		var ord int
		_, err := fmt.Sscanf(a.pod, "web-%d", &ord)
		require.NoError(t, err)
		assert.True(t, a.claims["www-"+a.pod], "%s created after its claim", a.pod)
		assert.False(t, a.exists[a.pod], "%s created while a pod of that name exists", a.pod)
		for i := 0; i < ord; i++ {
			assert.True(t, a.ready[fmt.Sprintf("web-%d", i)], "%s created at %s while web-%d is not Running and Ready", a.pod, a.at, i)
		}
		assert.Equal(t, a.pod, a.labels[appsv1.StatefulSetPodNameLabel])
		assert.Equal(t, fmt.Sprint(ord), a.labels[appsv1.PodIndexLabel])
		assert.NotEmpty(t, a.labels[appsv1.ControllerRevisionHashLabelKey])
	}
	// Scale-down one at a time: web-1 only once web-2 is gone.
	dels := o.verbs("delete")
	require.Len(t, dels, 2)
	assert.False(t, dels[1].exists["web-2"], "web-1 deleted while web-2 still exists")
	// The claims stay (Retain).
	for _, c := range []string{"www-web-0", "www-web-1", "www-web-2"} {
		assert.True(t, o.claims[c], c)
	}
	assert.Equal(t, 2, res.Summary.Decisions, "two scale-down decisions traced")

	again, _ := play(t, sc, st, 1)
	assert.Equal(t, res.Summary.Digest, again.Summary.Digest, "the same seed, the same run")
}

// lostNode: a one-node cluster loses its node once the set is Ready; the
// pods stop being Ready after 50 s, are evicted 300 s later and stay
// Terminating on the unreachable kubelet until the node returns at 12m.
var lostNode = `
cluster: {nodeCount: 1}
manifests:` + set(2, "") + `
steps:
  - after: sts/web ready=2
    lose-node: node/node-1
  - at: 12m
    return-node: node/node-1
expect: {convergeWithin: 5m}
`

func TestLostNodeIdentityGuard(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts statefulset.Options
		pass bool
	}{
		{"upstream", statefulset.Options{}, true},
		{"no-identity-guard", statefulset.Options{NoIdentityGuard: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, o := play(t, parse(t, lostNode), strategy(t, tc.name, tc.opts), 1)
			creates := o.verbs("create")
			if tc.pass {
				runtest.RequirePass(t, res.Summary)
				// Nothing is created between the loss and the return: each
				// ordinal waits for its terminating pod.
				for _, a := range creates {
					assert.False(t, a.at > time.Minute && a.at < 12*time.Minute, "%s created at %s while the node was lost", a.pod, a.at)
				}
				assert.Equal(t, []string{"web-0", "web-1", "web-0", "web-1"}, names(creates))
				return
			}
			require.Equal(t, run.Fail, res.Summary.Verdict, checks(res))
			inv := checkVerdict(res, "invariants")
			require.Equal(t, check.Fail, inv.Verdict, checks(res))
			assert.Regexp(t, `Pod default/web-\d-\w+ was created as ordinal \d of StatefulSet web while Pod default/web-\d still exists`, inv.Message)
			// Its replacement came at the eviction, not at the return.
			var early []string
			for _, a := range creates {
				if a.at > time.Minute && a.at < 12*time.Minute {
					early = append(early, a.pod)
				}
			}
			assert.NotEmpty(t, early, "the variant replaces the pods while the node is lost")
		})
	}
}

func TestPodManagement(t *testing.T) {
	for _, tc := range []struct {
		name     string
		spec     string
		opts     statefulset.Options
		parallel bool
	}{
		{"OrderedReady", "", statefulset.Options{}, false},
		{"Parallel", "podManagementPolicy: Parallel", statefulset.Options{}, true},
		{"parallel-always on OrderedReady", "", statefulset.Options{AlwaysParallel: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := parse(t, `
cluster: {nodeCount: 3}
manifests:`+set(3, tc.spec)+`
steps:
  - at: 2m
    scale: sts/web
    replicas: 1
`)
			res, o := play(t, sc, strategy(t, "s", tc.opts), 3)
			runtest.RequirePass(t, res.Summary)
			creates := o.verbs("create")
			require.Len(t, creates, 3)
			readyBefore := 0
			for _, a := range creates[1:] {
				if a.ready["web-0"] {
					readyBefore++
				}
			}
			dels := o.verbs("delete")
			require.Len(t, dels, 2)
			if tc.parallel {
				assert.Zero(t, readyBefore, "all pods created at once, before any is Ready")
				assert.True(t, dels[1].exists["web-2"] || dels[1].exists["web-1"], "scale-down does not wait for terminations")
			} else {
				assert.Equal(t, 2, readyBefore, "each pod after its predecessors are Ready")
				assert.Equal(t, "web-2", dels[0].pod)
				assert.False(t, dels[1].exists["web-2"], "web-1 deleted only once web-2 is gone")
			}
		})
	}
}

func TestRollingUpdateWithPartition(t *testing.T) {
	sc := parse(t, `
cluster: {nodeCount: 3}
manifests:`+set(3, "updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 1}}")+setImage(3, "nginx:1.10")+`
  - at: 3m
    apply:`+indent(strings.Replace(set(3, "updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 0}}"), "1.9.1", "1.10", 1), "  "))
	o := playPassing(t, sc, statefulset.Options{}, 2)
	dels := o.verbs("delete")
	require.Equal(t, []string{"web-2", "web-1", "web-0"}, names(dels), "highest ordinal first, down to the partition")
	assert.Less(t, dels[1].at, 3*time.Minute)
	assert.Greater(t, dels[2].at, 3*time.Minute, "web-0 is below the partition until it is lowered")
	for i := 1; i < len(dels); i++ {
		prev := fmt.Sprintf("web-%d", 3-i)
		assert.True(t, dels[i].ready[prev], "%s deleted before its updated predecessor %s is Ready", dels[i].pod, prev)
	}
	creates := o.verbs("create")
	require.Len(t, creates, 6)
	old, updated := creates[0].labels[appsv1.ControllerRevisionHashLabelKey], creates[3].labels[appsv1.ControllerRevisionHashLabelKey]
	assert.NotEqual(t, old, updated)
	for _, a := range creates[3:] {
		assert.Equal(t, updated, a.labels[appsv1.ControllerRevisionHashLabelKey], a.pod)
	}
	assert.Len(t, trueKeys(o.revs), 2, "one ControllerRevision per template")
}

// Parallel pod management does not order creations, but a rolling update
// still takes one pod at a time, each after the one before is back.
func TestParallelRollingUpdate(t *testing.T) {
	sc := parse(t, `
cluster: {nodeCount: 3}
manifests:`+set(3, "podManagementPolicy: Parallel")+setImage(3, "nginx:1.10"))
	o := playPassing(t, sc, statefulset.Options{}, 1)
	dels := o.verbs("delete")
	require.Equal(t, []string{"web-2", "web-1", "web-0"}, names(dels))
	for i := 1; i < len(dels); i++ {
		prev := fmt.Sprintf("web-%d", 3-i)
		assert.True(t, dels[i].ready[prev], "%s deleted before %s is back and Ready", dels[i].pod, prev)
	}
}

func TestOnDelete(t *testing.T) {
	sc := parse(t, `
manifests:`+set(2, "updateStrategy: {type: OnDelete}")+setImage(2, "nginx:1.10")+`
  - at: 2m
    delete: pod/web-1
`)
	o := playPassing(t, sc, statefulset.Options{}, 1)
	assert.Empty(t, o.verbs("delete"), "OnDelete: the controller deletes nothing")
	creates := o.verbs("create")
	require.Equal(t, []string{"web-0", "web-1", "web-1"}, names(creates))
	assert.NotEqual(t, creates[0].labels[appsv1.ControllerRevisionHashLabelKey], creates[2].labels[appsv1.ControllerRevisionHashLabelKey],
		"the pod deleted by hand comes back at the new revision")
	assert.Equal(t, creates[0].labels[appsv1.ControllerRevisionHashLabelKey], o.pods["web-0"].Labels[appsv1.ControllerRevisionHashLabelKey],
		"web-0 stays at the old one")
}

func TestMaxUnavailable(t *testing.T) {
	text := `
cluster: {nodeCount: 4}
manifests:` + set(4, "updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}") + setImage(4, "nginx:1.10")
	for _, tc := range []struct {
		name string
		opts statefulset.Options
		two  bool
	}{
		{"gate off (v1.36 default): one at a time", statefulset.Options{}, false},
		{"gate on: two at a time", statefulset.Options{MaxUnavailable: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, o := play(t, parse(t, text), strategy(t, "s", tc.opts), 1)
			runtest.RequirePass(t, res.Summary)
			dels := o.verbs("delete")
			require.Len(t, dels, 4)
			assert.Equal(t, []string{"web-3", "web-2"}, names(dels[:2]))
			// The second deletion while the first pod is still away.
			assert.Equal(t, tc.two, !dels[1].ready["web-3"])
		})
	}
}

func TestOrdinalsStartAndClaimRetention(t *testing.T) {
	sc := parse(t, `
manifests:`+set(3, `ordinals: {start: 5}
persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Delete}`)+`
steps:
  - after: sts/web ready=3
    scale: sts/web
    replicas: 1
  - at: 3m
    scale: sts/web
    replicas: 2
  - at: 5m
    delete: sts/web
`)
	o := playPassing(t, sc, statefulset.Options{}, 1)
	assert.Equal(t, []string{"web-5", "web-6", "web-7", "web-6"}, names(o.verbs("create")))
	assert.Equal(t, []string{"web-7", "web-6"}, names(o.verbs("delete")))
	// web-6 came back at 3m with a new claim: the old one went with its pod.
	again := o.verbs("create")[3]
	assert.True(t, again.claims["www-web-6"])
	assert.Empty(t, trueKeys(o.claims), "WhenDeleted: Delete: the claims go with the set")
	assert.Empty(t, o.pods)
}

func TestRevisionHistoryLimit(t *testing.T) {
	sc := parse(t, `
manifests:`+set(1, "revisionHistoryLimit: 1")+setImage(1, "nginx:1.10")+`
  - at: 1m
    set-image: sts/web
    image: {nginx: "nginx:1.11"}
  - at: 2m
    set-image: sts/web
    image: {nginx: "nginx:1.12"}
`)
	o := playPassing(t, sc, statefulset.Options{}, 1)
	assert.Len(t, trueKeys(o.revs), 2, "the live revision and one more")
	assert.Len(t, o.verbs("create"), 4)
}

func trueKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// The named variants on the catalog scenario: parallel-always and
// sts-max-unavailable pass (they differ from upstream where their tests
// show it); no-identity-guard breaks at most one pod per ordinal as soon as
// kubectl deletes the pods: it replaces them while they terminate.
func TestVariantsOnTheCatalogScenario(t *testing.T) {
	sc, err := workloads.Lookup("sts-ordered-identity")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, v := range statefulset.Variants {
		t.Run(v.Name, func(t *testing.T) {
			assert.False(t, seen[v.Name], "names are unique")
			seen[v.Name] = true
			assert.NotEmpty(t, v.Summary)
			assert.NotEqual(t, statefulset.Options{}, v.Options)
			res, _ := play(t, sc, strategy(t, v.Name, v.Options), 1)
			if !v.Options.NoIdentityGuard {
				runtest.RequirePass(t, res.Summary)
				return
			}
			inv := checkVerdict(res, "invariants")
			require.Equal(t, check.Fail, inv.Verdict, checks(res))
			assert.Contains(t, inv.Message, "was created as ordinal 0 of StatefulSet web while Pod default/web-0 still exists")
		})
	}
}
