package daemonset_test

import (
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

const nodeChangesScenario = `
name: ds-node-changes
cluster:
  nodes:
    - {name: node-1, labels: {role: logging}}
    - {name: node-2, labels: {role: logging}}
    - {name: node-3}
manifests: [testdata/agent-logging.yaml]
steps:
  - after: ds/agent ready=2
    label: node/node-3
    set: {role: logging}
  - wait: ds/agent ready=3
    timeout: 1m
  - at: 1m
    label: node/node-1
    set: {role: web}
    overwrite: true
  - wait: ds/agent replicas=2
    timeout: 1m
  - at: 2m
    lose-node: node/node-2
  - at: 12m
    return-node: node/node-2
expect: {convergeWithin: 5m, stableFor: 1m}
`

// daemonPodEvents records, per node, the daemon pods created and deleted, and
// the DaemonSet's status as it was at every write.
type daemonPodEvents struct {
	c        *cluster.Cluster
	created  map[string]int
	deleted  map[string][]time.Duration // when a pod on the node got its deletionTimestamp
	statuses []struct {
		at     time.Duration
		status appsv1.DaemonSetStatus
	}
}

func (e *daemonPodEvents) setup(c *cluster.Cluster) {
	touchNodes(c)
	e.c, e.created, e.deleted = c, map[string]int{}, map[string][]time.Duration{}
	seen := map[string]bool{}
	c.API.OnCommit(func(ev apiserver.Event) {
		switch o := ev.Object.(type) {
		case *appsv1.DaemonSet:
			e.statuses = append(e.statuses, struct {
				at     time.Duration
				status appsv1.DaemonSetStatus
			}{c.World.Elapsed(), o.Status})
		case *corev1.Pod:
			ref := metav1.GetControllerOfNoCopy(o)
			if ref == nil || ref.Kind != "DaemonSet" {
				return
			}
			node, _ := kube.DaemonPodTargetNode(o)
			if ev.Type == watch.Added {
				e.created[node]++
			}
			if (o.DeletionTimestamp != nil || ev.Type == watch.Deleted) && !seen[o.Name] {
				seen[o.Name] = true
				e.deleted[node] = append(e.deleted[node], c.World.Elapsed())
			}
		}
	})
}

// statusAt is the DaemonSet's status as last written at or before t.
func (e *daemonPodEvents) statusAt(t time.Duration) appsv1.DaemonSetStatus {
	var s appsv1.DaemonSetStatus
	for _, x := range e.statuses {
		if x.at <= t {
			s = x.status
		}
	}
	return s
}

func TestNodeLabelsAndNodeLoss(t *testing.T) {
	e := &daemonPodEvents{}
	playPassing(t, "ds-node-changes.yaml", nodeChangesScenario, daemonset.Options{}, 3, e.setup)

	assert.Equal(t, map[string]int{"node-1": 1, "node-2": 1, "node-3": 1}, e.created, "one pod per qualifying node, each once")
	require.Len(t, e.deleted["node-1"], 1, "the pod of the node that stopped qualifying is deleted")
	assert.Less(t, e.deleted["node-1"][0], 2*time.Minute)
	assert.Empty(t, e.deleted["node-2"], "node loss does not evict a daemon pod")
	assert.Empty(t, e.deleted["node-3"])

	// Lost (and tainted unreachable), node-2 is no longer desired; its pod
	// counts as misscheduled until the node returns.
	lost := e.statusAt(10 * time.Minute)
	assert.Equal(t, int32(1), lost.DesiredNumberScheduled)
	assert.Equal(t, int32(1), lost.CurrentNumberScheduled)
	assert.Equal(t, int32(1), lost.NumberMisscheduled)
	end := e.statusAt(time.Hour)
	assert.Equal(t, appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2,
		UpdatedNumberScheduled: 2, ObservedGeneration: 1}, end)
}
