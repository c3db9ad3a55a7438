package rollingupdate_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/models/internal/modeltest"
	"github.com/ctrlsim/ctrlsim/models/rollingupdate"
	"github.com/ctrlsim/ctrlsim/run"
	"github.com/ctrlsim/ctrlsim/run/runtest"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// outcome is a run under the upstream strategy with what the tests watch.
type outcome struct {
	res *run.Result
	c   *cluster.Cluster
	// fewestReady is the fewest ready, non-terminating pods of either
	// controller after the first rolling-update step began; most the most
	// non-terminating pods.
	fewestReady, most int
}

func play(t *testing.T, sc *workloads.Scenario) outcome {
	t.Helper()
	st, err := models.Lookup("upstream")
	require.NoError(t, err)
	var o outcome
	o.fewestReady = -1
	res, err := run.Run(run.Config{Scenario: sc, Strategy: st, Seed: 1, Setup: func(c *cluster.Cluster) {
		o.c = c
		ready, alive := map[string]bool{}, map[string]bool{}
		started := false
		c.API.OnCommit(func(ev apiserver.Event) {
			if op := ev.Client; op == workloads.Client && ev.Kind == apiserver.ReplicationControllers && ev.Type == "ADDED" && len(alive) > 0 {
				started = true // the new controller: the update began
			}
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok || !strings.HasPrefix(pod.Labels["name"], "frontend") {
				return
			}
			live := ev.Type != "DELETED" && pod.DeletionTimestamp == nil
			alive[pod.Name], ready[pod.Name] = live, live && kube.IsPodReady(pod)
			n, r := 0, 0
			for name := range alive {
				if alive[name] {
					n++
				}
				if ready[name] {
					r++
				}
			}
			o.most = max(o.most, n)
			if started && (o.fewestReady < 0 || r < o.fewestReady) {
				o.fewestReady = r
			}
		})
	}})
	require.NoError(t, err)
	o.res = res
	return o
}

// scaleWrites are kubectl's writes of scale subresources: "name=replicas".
func scaleWrites(ops []*history.Op) []string {
	out := modeltest.ScaleWrites(ops, workloads.Client)
	for i, w := range out {
		out[i] = strings.TrimPrefix(w, "default/")
	}
	return out
}

func controllers(c *cluster.Cluster) map[string]*corev1.ReplicationController {
	out := map[string]*corev1.ReplicationController{}
	for _, o := range c.API.Objects(apiserver.ReplicationControllers) {
		out[o.GetName()] = o.(*corev1.ReplicationController)
	}
	return out
}

func podsOf(c *cluster.Cluster, rc *corev1.ReplicationController) []*corev1.Pod {
	var out []*corev1.Pod
	for _, o := range c.API.Objects(apiserver.Pods) {
		p := o.(*corev1.Pod)
		if labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(p.Labels)) && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func TestCatalogRCRollingUpdate(t *testing.T) {
	sc, err := workloads.Lookup("rc-rolling-update")
	require.NoError(t, err)
	o := play(t, sc)
	runtest.RequirePass(t, o.res.Summary)
	assert.Equal(t, []string{"frontend-v2=1", "frontend-controller=1", "frontend-v2=2", "frontend-controller=0"}, scaleWrites(o.res.History),
		"a pod at a time: new up by one, old down by one")
	assert.Equal(t, 3, o.most, "never more than desired + maxSurge (1) pods")
	assert.Equal(t, 2, o.fewestReady, "never fewer than desired − maxUnavailable (0) ready pods")

	rcs := controllers(o.c)
	require.Len(t, rcs, 1, "the old controller is deleted")
	v2 := rcs["frontend-v2"]
	require.NotNil(t, v2)
	assert.Equal(t, int32(2), *v2.Spec.Replicas)
	assert.NotContains(t, v2.Annotations, rollingupdate.DesiredReplicasAnnotation)
	assert.NotContains(t, v2.Annotations, rollingupdate.SourceIDAnnotation)
	assert.Len(t, podsOf(o.c, v2), 2)

	again := play(t, sc)
	assert.Equal(t, o.res.Summary.Digest, again.res.Summary.Digest)
}

// scenario is the frontend-controller (2 replicas) on 3 nodes with the
// given cluster settings and steps.
func scenario(t *testing.T, clusterYAML, steps string) *workloads.Scenario {
	t.Helper()
	text := fmt.Sprintf(`
cluster:
  nodeCount: 3
%s
manifests:
  - inline: |
      apiVersion: v1
      kind: ReplicationController
      metadata: {name: frontend-controller}
      spec:
        replicas: 2
        selector: {name: frontend}
        template:
          metadata: {labels: {name: frontend}}
          spec:
            containers:
            - {name: php-redis, image: "redis:7", ports: [{containerPort: 80, hostPort: 8000}]}
steps:
%s
expect:
  convergeWithin: 10m
`, clusterYAML, steps)
	sc, err := workloads.ParseScenario("test.yaml", []byte(text), nil)
	require.NoError(t, err, text)
	return sc
}

const v2 = `
    to:
      inline: |
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: frontend-v2}
        spec:
          replicas: %d
          selector: {name: %s}
          template:
            metadata: {labels: {name: %s}}
            spec:
              containers:
              - {name: php-redis, image: "redis:8", ports: [{containerPort: 80, hostPort: 8000}]}`

func TestTimeoutThenResume(t *testing.T) {
	// Pulling an image takes 40 s: the first command gives up after 20 s
	// without progress (the new pod is not ready, so the old one may not go);
	// the second finds the new controller by its annotations and finishes.
	sc := scenario(t, "  kubelet: {imagePull: {min: 40s, max: 40s}}", `
  - after: rc/frontend-controller ready=2
    rolling-update: rc/frontend-controller
    updatePeriod: 5s
    updateTimeout: 20s
    expectErrorMessage: timed out waiting for any update progress to be made`+fmt.Sprintf(v2, 2, "frontend-v2", "frontend-v2")+`
  - rolling-update: rc/frontend-controller
    updatePeriod: 5s
    updateTimeout: 2m`+fmt.Sprintf(v2, 2, "frontend-v2", "frontend-v2")+`
  - wait: rc/frontend-v2 ready=2`)
	o := play(t, sc)
	runtest.RequirePass(t, o.res.Summary)
	creates := 0
	for _, op := range o.res.History {
		if op.Client == workloads.Client && op.Kind == "ReplicationController" && op.Key == "default/frontend-v2" && op.Verb == "create" {
			creates++
		}
	}
	assert.Equal(t, 1, creates, "the second run continues with the controller the first created")
	assert.Equal(t, "frontend-v2=1", scaleWrites(o.res.History)[0])
	require.Len(t, controllers(o.c), 1)
	assert.Equal(t, 2, o.fewestReady)
	assert.Equal(t, 3, o.most)
}

func TestByImageRenames(t *testing.T) {
	sc := scenario(t, "", `
  - after: rc/frontend-controller ready=2
    rolling-update: rc/frontend-controller
    image: "redis:8"
    updatePeriod: 10s
  - wait: rc/frontend-controller ready=2`)
	o := play(t, sc)
	runtest.RequirePass(t, o.res.Summary)
	rcs := controllers(o.c)
	require.Len(t, rcs, 1)
	rc := rcs["frontend-controller"]
	require.NotNil(t, rc, "renamed to the old name")
	assert.Equal(t, "redis:8", rc.Spec.Template.Spec.Containers[0].Image)
	hash := rc.Spec.Selector[rollingupdate.DefaultDeploymentKey]
	assert.Len(t, hash, 32)
	assert.Equal(t, hash, rc.Spec.Template.Labels[rollingupdate.DefaultDeploymentKey])
	pods := podsOf(o.c, rc)
	require.Len(t, pods, 2)
	for _, p := range pods {
		assert.Equal(t, "redis:8", p.Spec.Containers[0].Image)
		ref := p.OwnerReferences
		require.Len(t, ref, 1, "adopted by the renamed controller")
		assert.Equal(t, rc.UID, ref[0].UID)
	}
	writes := scaleWrites(o.res.History)
	newName := "frontend-controller-" + hash
	assert.Equal(t, []string{newName + "=1", "frontend-controller=1", newName + "=2", "frontend-controller=0"}, writes)
	// The old pods were labelled with the old controller's own hash first.
	relabelled := 0
	for _, op := range o.res.History {
		if op.Client == workloads.Client && op.Kind == "Pod" && op.Verb == "update" {
			relabelled++
		}
	}
	assert.Equal(t, 2, relabelled)
	assert.Equal(t, 3, o.most)
	assert.Equal(t, 2, o.fewestReady)
}

func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, step, err string
	}{
		{"the same selector", `
  - at: 1s
    rolling-update: rc/frontend-controller` + fmt.Sprintf(v2, 2, "frontend", "frontend"),
			"ReplicationController/frontend-v2 must specify a matching key with non-equal value in Selector for frontend-controller"},
		{"no replicas", `
  - at: 1s
    rolling-update: rc/frontend-controller` + fmt.Sprintf(v2, 0, "frontend-v2", "frontend-v2"),
			"Invalid controller spec for frontend-v2; required: > 0 replicas, actual: 0"},
		{"no old controller", `
  - at: 1s
    rolling-update: rc/nope` + fmt.Sprintf(v2, 2, "frontend-v2", "frontend-v2"),
			`replicationcontrollers "nope" not found`},
		{"the same image", `
  - at: 1s
    rolling-update: rc/frontend-controller
    image: "redis:7"`,
			"--image-pull-policy (Always|Never|IfNotPresent) must be provided when --image is the same as existing container image"},
		{"a container that is not there", `
  - at: 1s
    rolling-update: rc/frontend-controller
    image: "redis:8"
    container: nope`,
			"container nope not found in pod"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := play(t, scenario(t, "", tc.step))
			steps := o.res.Summary.Steps
			require.Len(t, steps, 2)
			assert.Equal(t, tc.err, steps[1].Error)
			assert.Len(t, controllers(o.c), 1, "nothing created")
		})
	}
}
