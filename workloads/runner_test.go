package workloads_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/workloads"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// play parses a scenario (its manifest paths relative to testdata/scenarios),
// runs it with the upstream controllers until its last step is done, and
// returns the step results and the cluster.
func play(t *testing.T, text string) ([]workloads.StepResult, *cluster.Cluster) {
	t.Helper()
	return playWith(t, text, nil)
}

func object(t *testing.T, c *cluster.Cluster, kind apiserver.Kind, name string) apiserver.Object {
	t.Helper()
	for _, o := range c.API.Objects(kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

func replicas(t *testing.T, c *cluster.Cluster, name string) int32 {
	return *object(t, c, apiserver.ReplicaSets, name).(*appsv1.ReplicaSet).Spec.Replicas
}

func at(t *testing.T, r workloads.StepResult) time.Duration {
	d, err := time.ParseDuration(r.At)
	require.NoError(t, err)
	return d
}

func TestRunnerConditions(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - after: rs/frontend ready=3
    timeout: 2m
    scale: rs/frontend
    replicas: 5
  - wait: rs/frontend ready=5 available>=5
    timeout: 2m
  - after: rs/frontend ready=99
    timeout: 10s
    scale: rs/frontend
    replicas: 1
`)
	require.Len(t, res, 3)
	assert.Empty(t, res[0].Error)
	assert.Greater(t, at(t, res[0]), time.Second, "held until the pods were ready")
	assert.Less(t, at(t, res[0]), time.Minute)
	assert.Empty(t, res[1].Error)
	assert.Greater(t, at(t, res[1]), at(t, res[0]))

	assert.Contains(t, res[2].Error, "timed out after 10s waiting for rs/frontend ready=99 (last seen: ready=5); the step did not run")
	assert.InDelta(t, float64(at(t, res[1])+10*time.Second), float64(at(t, res[2])), float64(2*time.Second), "gave up after the timeout")
	assert.Equal(t, int32(5), replicas(t, c, "frontend"), "the timed-out step did not scale")
}

func TestRunnerConditionOnMissingObject(t *testing.T) {
	res, _ := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - wait: rs/nope ready=1
    timeout: 3s
`)
	assert.Contains(t, res[0].Error, `timed out after 3s waiting for rs/nope ready=1 (last seen: replicasets.apps "nope" not found)`)
}

func TestRunnerScalePreconditions(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - at: 10s
    scale: rs/frontend
    replicas: 9
    currentReplicas: 5
  - at: 20s
    scale: rs/frontend
    replicas: 4
    currentReplicas: 3
  - at: 30s
    scale: rs/frontend
    replicas: 8
    resourceVersion: "2"
`)
	assert.Equal(t, "Expected replicas to be 5, was 3", res[0].Error)
	assert.Empty(t, res[1].Error)
	assert.Contains(t, res[2].Error, `Operation cannot be fulfilled on replicasets.apps "frontend": the object has been modified`, "a stale resourceVersion is a 409")
	assert.Equal(t, int32(4), replicas(t, c, "frontend"))
}

func TestRunnerLabelsAnnotationsDelete(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/pod-rs.yaml]
steps:
  - at: 5s
    label: pod/pod1
    set: [track=canary, tier-]
  - at: 6s
    annotate: pods
    selector: tier=frontend
    set: {note: hello}
  - at: 7s
    annotate: pod/pod2
    set: [note-]
  - at: 30s
    delete: pod/pod2
    gracePeriod: 0
`)
	for _, r := range res {
		assert.Empty(t, r.Error, r.Step)
	}
	pod1 := object(t, c, apiserver.Pods, "pod1").(*corev1.Pod)
	assert.Equal(t, map[string]string{"track": "canary"}, pod1.Labels, "tier- removed the label")
	assert.Empty(t, pod1.Annotations, "pod1 no longer matched the selector")
	for _, o := range c.API.Objects(apiserver.Pods) {
		assert.NotEqual(t, "pod2", o.GetName(), "deleted at once with --grace-period=0")
	}
}

func TestRunnerApplyCordon(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - at: 10s
    cordon: node-1
  - at: 20s
    apply:
      - apiVersion: apps/v1
        kind: ReplicaSet
        metadata:
          name: frontend
          labels: {tier: frontend, track: stable}
        spec:
          replicas: 6
          selector:
            matchLabels: {tier: frontend}
          template:
            metadata:
              labels: {tier: frontend}
            spec:
              containers:
              - name: php-redis
                image: us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5
      - ../../manifests/rs-web.yaml
  - wait: rs/frontend ready=6
    timeout: 2m
  - at: 3m
    uncordon: node/node-1
`)
	for _, r := range res {
		assert.Empty(t, r.Error, r.Step)
	}
	rs := object(t, c, apiserver.ReplicaSets, "frontend").(*appsv1.ReplicaSet)
	assert.Equal(t, int32(6), *rs.Spec.Replicas, "apply patched the live object")
	assert.Equal(t, map[string]string{"app": "guestbook", "tier": "frontend", "track": "stable"}, rs.Labels, "a strategic merge: labels the manifest leaves out stay")
	object(t, c, apiserver.ReplicaSets, "rs-web") // apply created what did not exist
	// The pods created by the apply (at 20s, while node-1 was cordoned) are
	// not on node-1.
	var first time.Time
	var pods []*corev1.Pod
	for _, o := range c.API.Objects(apiserver.Pods) {
		pod := o.(*corev1.Pod)
		if strings.HasPrefix(pod.Name, "frontend-") {
			pods = append(pods, pod)
			if first.IsZero() || pod.CreationTimestamp.Before(&metav1.Time{Time: first}) {
				first = pod.CreationTimestamp.Time
			}
		}
	}
	newPods := 0
	for _, pod := range pods {
		if pod.CreationTimestamp.Sub(first) >= 15*time.Second {
			newPods++
			assert.NotEqual(t, "node-1", pod.Spec.NodeName, "no new pod on the cordoned node")
		}
	}
	assert.Equal(t, 3, newPods)
	assert.False(t, object(t, c, apiserver.Nodes, "node-1").(*corev1.Node).Spec.Unschedulable, "uncordoned")
}

func TestRunnerLabelNeedsOverwriteToChangeAValue(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - after: rs/frontend ready=3
    label: rs/frontend
    set: {tier: backend}
  - label: rs/frontend
    set: {tier: backend}
    overwrite: true
  - label: rs/frontend
    set: {tier: backend, new: value}
`)
	require.Len(t, res, 3)
	assert.Equal(t, "'tier' already has a value (frontend), and --overwrite is false", res[0].Error)
	assert.Empty(t, res[1].Error)
	assert.Empty(t, res[2].Error, "setting a key to the value it has, or a new key, needs no --overwrite")
	assert.Equal(t, map[string]string{"app": "guestbook", "tier": "backend", "new": "value"}, object(t, c, apiserver.ReplicaSets, "frontend").GetLabels())
}

// apply through the runner, as kubectl apply: the second manifest's removals
// reach the live ReplicaSet, while the replicas a scale set (no manifest
// sets them) and another step's annotation stay; an unchanged manifest sends
// nothing.
func TestRunnerApplyThreeWayMerge(t *testing.T) {
	res, c := play(t, `
manifests: [../../manifests/frontend.yaml]
steps:
  - at: 1s
    apply:
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web, labels: {app: web, track: stable}}
      spec:
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: web
              image: nginx:1.25
              env: [{name: A, value: "1"}, {name: B, value: "2"}]
  - at: 10s
    scale: rs/web
    replicas: 3
  - annotate: rs/web
    set: {note: kept}
  - at: 20s
    apply: &b
      apiVersion: apps/v1
      kind: ReplicaSet
      metadata: {name: web, labels: {app: web}}
      spec:
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - name: web
              image: nginx:1.25
              env: [{name: A, value: "1"}]
  - wait: rs/web ready=3
    timeout: 2m
  - apply: *b
`)
	for _, r := range res {
		assert.Empty(t, r.Error, r.Step)
	}
	rs := object(t, c, apiserver.ReplicaSets, "web").(*appsv1.ReplicaSet)
	assert.Equal(t, int32(3), *rs.Spec.Replicas, "no manifest sets replicas: the scale's stay")
	assert.Equal(t, map[string]string{"app": "web"}, rs.Labels, "the label B no longer has is gone")
	assert.Equal(t, []corev1.EnvVar{{Name: "A", Value: "1"}}, rs.Spec.Template.Spec.Containers[0].Env)
	assert.Equal(t, "kept", rs.Annotations["note"])
	assert.Contains(t, rs.Annotations[corev1.LastAppliedConfigAnnotation], `"labels":{"app":"web"}`)

	var applies []string
	for _, op := range c.API.History().Ops() {
		if op.Client == workloads.Client && op.Verb == "patch" && op.Key == "default/web" && strings.Contains(op.Arg, corev1.LastAppliedConfigAnnotation) {
			applies = append(applies, op.Arg)
		}
	}
	require.Len(t, applies, 1, "the first apply creates, the third changes nothing")
	// kubectl's patch: the new record, the label and the env var removed
	// (strategic merge directives), the rest left alone.
	want := `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"annotations\":{},\"labels\":{\"app\":\"web\"},\"name\":\"web\",\"namespace\":\"default\"},` +
		`\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"env\":[{\"name\":\"A\",\"value\":\"1\"}],\"image\":\"nginx:1.25\",\"name\":\"web\",\"resources\":{}}]}}}}\n"},` +
		`"labels":{"track":null}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],"name":"web"}]}}}}`
	assert.Equal(t, want, applies[0])
}
