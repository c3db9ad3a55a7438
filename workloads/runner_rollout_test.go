package workloads_test

import (
	"os"
	"slices"
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
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/ctrlsim/ctrlsim/models"
	"github.com/ctrlsim/ctrlsim/workloads"
)

// playWith is play with setup run in a coroutine of its own at time zero,
// beside the runner (to make what a scenario file cannot: objects that refer
// to each other by uid).
func playWith(t *testing.T, text string, setup func(c *controller.Client)) ([]workloads.StepResult, *cluster.Cluster) {
	t.Helper()
	sc, err := workloads.ParseScenario("testdata/scenarios/test.yaml", []byte(text), os.ReadFile)
	require.NoError(t, err)
	w := sim.New(1, sim.Limits{MaxTime: sc.LastStep() + time.Minute})
	c, err := cluster.New(w, sc.Cluster)
	require.NoError(t, err)
	st, err := models.Lookup("upstream")
	require.NoError(t, err)
	// Only the ReplicaSet and ReplicationController controllers: these
	// tests are about the steps, and make DaemonSet pods by hand.
	var ctls []plugin.Controller
	for _, ctl := range st.Controllers {
		if slices.Contains(ctl.Kinds, apiserver.ReplicaSets) || slices.Contains(ctl.Kinds, apiserver.ReplicationControllers) {
			ctls = append(ctls, ctl)
		}
	}
	st.Controllers = ctls
	st.Start(c.API, nil)
	if setup != nil {
		ctx := controller.NewContext("test-setup", c.API)
		ctx.Go("setup", func() { setup(ctx.Client()) })
	}
	r := workloads.Start(sc, c, func() { w.Stop("steps done") })
	w.Run()
	require.Len(t, r.Results, len(sc.Steps)+1, "every step ran (the first result is the manifests' create)")
	assert.Empty(t, r.Results[0].Error)
	return r.Results[1:], c
}

func templateImages(spec corev1.PodSpec) map[string]string {
	out := map[string]string{}
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		out[c.Name] = c.Image
	}
	return out
}

func TestRunnerSetImageAndRollouts(t *testing.T) {
	res, c := play(t, `
manifests:
  - ../../manifests/nginx-deployment.yaml
  - ../../manifests/frontend.yaml
  - ../../manifests/frontend-rc.yaml
steps:
  - at: 5s
    set-image: deployment/nginx-deployment
    image: {nginx: "nginx:1.91"}
  - at: 6s
    set-image: rs/frontend
    image: [php-redis=gb-frontend:v6]
  - at: 7s
    set-image: rc/frontend-controller
    image: "*=redis:7"
  - at: 8s
    set-image: deploy/nginx-deployment
    image: {nope: "x:1"}
  - at: 10s
    rollout-pause: deploy/nginx-deployment
  - at: 11s
    rollout-pause: deploy/nginx-deployment
    expectErrorMessage: is already paused
  - at: 20s
    rollout-resume: deploy/nginx-deployment
  - at: 21s
    rollout-resume: deploy/nginx-deployment
  - at: 30s
    rollout-undo: deploy/nginx-deployment
    toRevision: 1
    expectErrorMessage: unable to find specified revision
  - at: 50s
    rollout-pause: deploy/nginx-deployment
`)
	require.Len(t, res, 10)
	for _, i := range []int{0, 1, 2, 4, 5, 6, 9} {
		assert.Empty(t, res[i].Error, res[i].Step)
	}
	d := object(t, c, apiserver.Deployments, "nginx-deployment").(*appsv1.Deployment)
	assert.Equal(t, map[string]string{"nginx": "nginx:1.91"}, templateImages(d.Spec.Template.Spec))
	rs := object(t, c, apiserver.ReplicaSets, "frontend").(*appsv1.ReplicaSet)
	assert.Equal(t, map[string]string{"php-redis": "gb-frontend:v6"}, templateImages(rs.Spec.Template.Spec))
	rc := object(t, c, apiserver.ReplicationControllers, "frontend-controller").(*corev1.ReplicationController)
	assert.Equal(t, map[string]string{"php-redis": "redis:7"}, templateImages(rc.Spec.Template.Spec), "* is every container")
	assert.Equal(t, []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8000}}, rc.Spec.Template.Spec.Containers[0].Ports,
		"a strategic merge: the rest of the container stays")

	assert.Equal(t, `unable to find container named "nope" in deployments.apps "nginx-deployment"`, res[3].Error)
	assert.Equal(t, `deployments.apps "nginx-deployment" is already paused`, res[5].Expected)
	assert.Equal(t, `deployments.apps "nginx-deployment" is not paused`, res[7].Error)
	assert.Empty(t, res[8].Error)
	assert.Contains(t, res[8].Expected, "unable to find specified revision", "no controller made ReplicaSets: no history")
	assert.True(t, d.Spec.Paused, "paused, resumed, paused again")

	// The pods the ReplicaSet made before set-image keep their image.
	for _, o := range c.API.Objects(apiserver.Pods) {
		if pod := o.(*corev1.Pod); pod.Labels["tier"] == "frontend" {
			assert.Equal(t, "us-docker.pkg.dev/google-samples/containers/gke/gb-frontend:v5", pod.Spec.Containers[0].Image)
		}
	}
}

func TestRunnerDrainAddDeleteNode(t *testing.T) {
	// A DaemonSet (no controller runs it here) and a pod of it bound to
	// node-1: drain leaves it.
	setup := func(cl *controller.Client) {
		labels := map[string]string{"name": "agent"}
		tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "agent", Image: "agent:1"}}}}
		ds, err := cl.Create(&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tmpl}})
		require.NoError(t, err)
		yes := true
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "agent-node-1", Namespace: "default", Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", UID: ds.GetUID(), Controller: &yes}}},
			Spec: tmpl.Spec}
		pod.Spec.NodeName = "node-1"
		_, err = cl.Create(pod)
		require.NoError(t, err)
	}
	res, c := playWith(t, `
cluster: {nodeCount: 3}
manifests: [../../manifests/frontend.yaml]
steps:
  - at: 10s
    scale: rs/frontend
    replicas: 6
  - wait: rs/frontend ready=6
    timeout: 1m
  - at: 30s
    add-node:
      name: node-4
      zone: zone-b
      labels: {disktype: ssd}
  - at: 1m
    drain: node-1
  - at: 1m10s
    drain: node/node-2
    gracePeriod: 0
  - wait: rs/frontend ready=6
    timeout: 2m
  - at: 3m
    delete-node: node/node-4
  - at: 4m
    wait: rs/frontend ready=6
`, setup)
	for _, r := range res {
		assert.Empty(t, r.Error, r.Step)
	}
	nodes := map[string]*corev1.Node{}
	for _, o := range c.API.Objects(apiserver.Nodes) {
		nodes[o.GetName()] = o.(*corev1.Node)
	}
	assert.True(t, nodes["node-1"].Spec.Unschedulable, "drain cordons")
	assert.True(t, nodes["node-2"].Spec.Unschedulable)
	assert.False(t, nodes["node-3"].Spec.Unschedulable)
	assert.NotContains(t, nodes, "node-4", "deleted")

	byNode := map[string][]string{}
	for _, o := range c.API.Objects(apiserver.Pods) {
		pod := o.(*corev1.Pod)
		byNode[pod.Spec.NodeName] = append(byNode[pod.Spec.NodeName], pod.Name)
	}
	assert.Equal(t, []string{"agent-node-1"}, byNode["node-1"], "drain deleted every pod but the DaemonSet's")
	assert.Empty(t, byNode["node-2"])
	assert.Len(t, byNode["node-3"], 6, "the ReplicaSet's pods went to the one node left schedulable (node-4 is gone, its pods with it)")
}

// The added node joined as a Node with its labels and zone, and took pods.
func TestRunnerAddNodeJoins(t *testing.T) {
	res, c := play(t, `
cluster: {nodeCount: 1}
manifests: [../../manifests/frontend.yaml]
steps:
  - at: 5s
    cordon: node-1
  - add-node: {name: node-2, zone: zone-b, labels: {disktype: ssd}}
  - at: 10s
    scale: rs/frontend
    replicas: 5
  - wait: rs/frontend ready=5
    timeout: 1m
`)
	for _, r := range res {
		assert.Empty(t, r.Error, r.Step)
	}
	n := object(t, c, apiserver.Nodes, "node-2").(*corev1.Node)
	assert.Equal(t, "ssd", n.Labels["disktype"])
	assert.Equal(t, "zone-b", n.Labels["topology.kubernetes.io/zone"])
	on := 0
	for _, o := range c.API.Objects(apiserver.Pods) {
		if o.(*corev1.Pod).Spec.NodeName == "node-2" {
			on++
		}
	}
	assert.Equal(t, 2, on, "the new pods went to the new node (node-1 cordoned)")
}
