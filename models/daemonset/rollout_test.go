package daemonset_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/cluster"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/models/daemonset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// rollout watches a DaemonSet's pods from the moment its template changes:
// the most nodes at once without a ready daemon pod, and the most daemon
// pods on one node.
type rollout struct {
	nodes          []string
	started        bool
	pods           map[string]*corev1.Pod // active daemon pods by key
	maxUnavailable int
	maxOnNode      int
	c              *cluster.Cluster
}

func (r *rollout) setup(c *cluster.Cluster) {
	touchNodes(c)
	r.c, r.nodes, r.pods = c, c.Nodes(), map[string]*corev1.Pod{}
	c.API.OnCommit(r.observe)
}

func (r *rollout) observe(ev apiserver.Event) {
	switch o := ev.Object.(type) {
	case *appsv1.DaemonSet:
		r.started = r.started || o.Generation > 1
	case *corev1.Pod:
		key := o.Namespace + "/" + o.Name
		if ev.Type == watch.Deleted || o.DeletionTimestamp != nil || o.Status.Phase == corev1.PodFailed || o.Status.Phase == corev1.PodSucceeded ||
			metav1.GetControllerOfNoCopy(o) == nil || metav1.GetControllerOfNoCopy(o).Kind != "DaemonSet" {
			delete(r.pods, key)
		} else {
			r.pods[key] = o
		}
	}
	if !r.started || r.c.World.Elapsed() >= 5*time.Minute { // the rollout, not the pod deleted by hand at 5m
		return
	}
	ready, onNode := map[string]bool{}, map[string]int{}
	for _, p := range r.pods {
		node, _ := kube.DaemonPodTargetNode(p)
		onNode[node]++
		r.maxOnNode = max(r.maxOnNode, onNode[node])
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready[node] = true
			}
		}
	}
	unavailable := 0
	for _, n := range r.nodes {
		if !ready[n] {
			unavailable++
		}
	}
	r.maxUnavailable = max(r.maxUnavailable, unavailable)
}

// images lists the image of every active daemon pod at the end, sorted.
func (r *rollout) images() []string {
	var out []string
	for _, o := range r.c.API.Objects(apiserver.Pods) {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp == nil && p.Labels["app"] == "agent" {
			out = append(out, p.Spec.Containers[0].Image)
		}
	}
	sort.Strings(out)
	return out
}

func (r *rollout) daemonSet(t *testing.T) *appsv1.DaemonSet {
	for _, o := range r.c.API.Objects(apiserver.DaemonSets) {
		return o.(*appsv1.DaemonSet)
	}
	t.Fatal("no DaemonSet")
	return nil
}

func (r *rollout) revisions() map[int64]string {
	out := map[int64]string{}
	for _, o := range r.c.API.Objects(apiserver.ControllerRevisions) {
		h := o.(*appsv1.ControllerRevision)
		out[h.Revision] = h.Labels[appsv1.ControllerRevisionHashLabelKey]
	}
	return out
}

const rolloutScenario = `
name: ds-rollout
cluster: {nodeCount: 4}
manifests:
  - inline: |
      apiVersion: apps/v1
      kind: DaemonSet
      metadata: {name: agent}
      spec:
        selector: {matchLabels: {app: agent}}
        updateStrategy: STRATEGY
        revisionHistoryLimit: LIMIT
        template:
          metadata: {labels: {app: agent}}
          spec:
            terminationGracePeriodSeconds: 5
            containers: [{name: agent, image: "agent:1"}]
steps:
  - after: ds/agent ready=4
    set-image: ds/agent
    image: {agent: "agent:2"}
  - at: 5m
    delete: pods
    selector: app=agent
    limit: 1
expect: {convergeWithin: 5m, stableFor: 1m}
`

func TestRollingUpdate(t *testing.T) {
	for _, tc := range []struct {
		name, strategy string
		// the most nodes without a ready pod, and the most pods on a node
		unavailable, onNode int
		// images at the end: OnDelete replaces only the pod deleted by hand
		images  []string
		updated int32
		// revisionHistoryLimit, and the revisions left at the end
		limit, revisions int
	}{
		{"maxUnavailable 1 (default)", "{type: RollingUpdate}", 1, 1, []string{"agent:2", "agent:2", "agent:2", "agent:2"}, 4, 10, 2},
		{"maxUnavailable 2", "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 2}}", 2, 1, []string{"agent:2", "agent:2", "agent:2", "agent:2"}, 4, 10, 2},
		{"maxUnavailable 50%", "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 50%}}", 2, 1, []string{"agent:2", "agent:2", "agent:2", "agent:2"}, 4, 10, 2},
		{"maxSurge 1", "{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}", 0, 2, []string{"agent:2", "agent:2", "agent:2", "agent:2"}, 4, 10, 2},
		{"OnDelete", "{type: OnDelete}", 0, 1, []string{"agent:1", "agent:1", "agent:1", "agent:2"}, 1, 10, 2},
		{"no history kept", "{type: RollingUpdate}", 1, 1, []string{"agent:2", "agent:2", "agent:2", "agent:2"}, 4, 0, 1},
		{"no history kept, but old pods still run it", "{type: OnDelete}", 0, 1, []string{"agent:1", "agent:1", "agent:1", "agent:2"}, 1, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.NewReplacer("STRATEGY", tc.strategy, "LIMIT", fmt.Sprint(tc.limit)).Replace(rolloutScenario)
			r := &rollout{}
			playPassing(t, "ds-rollout.yaml", text, daemonset.Options{}, 1, r.setup)
			assert.Equal(t, tc.unavailable, r.maxUnavailable, "most nodes without a ready daemon pod")
			assert.Equal(t, tc.onNode, r.maxOnNode, "most daemon pods on one node")
			assert.Equal(t, tc.images, r.images())
			ds := r.daemonSet(t)
			revs := r.revisions()
			require.Len(t, revs, tc.revisions, "ControllerRevisions: one per template, old ones within the limit or still in use")
			assert.NotEmpty(t, revs[2], "revision 2 is the new template's")
			assert.NotEqual(t, revs[1], revs[2])
			assert.Equal(t, tc.updated, ds.Status.UpdatedNumberScheduled)
			assert.Equal(t, int32(4), ds.Status.NumberAvailable)
			for _, o := range r.c.API.Objects(apiserver.Pods) {
				if p := o.(*corev1.Pod); p.Spec.Containers[0].Image == "agent:2" && p.Labels["app"] == "agent" {
					assert.Equal(t, revs[2], p.Labels[appsv1.ControllerRevisionHashLabelKey], "new pods carry the new revision's hash")
				}
			}
		})
	}
}
