package cluster

import (
	"math"
	"testing"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/history"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

const ms = time.Millisecond

// fixedConfig has fixed delays so that tests can name exact virtual times:
// every request takes 10 ms (it commits after 5 ms), watchers see a commit
// 5 ms later, a scheduling cycle takes no time, an image pull 2 s, a
// container start 1 s, readiness 3 s, stopping 1 s, a sync retry 10 s.
func fixedConfig() Config {
	api := apiserver.DefaultConfig()
	api.Latency = nil
	api.DefaultLatency = apiserver.Fixed(10 * ms)
	api.WatchDelay = apiserver.Fixed(5 * ms)
	return Config{
		API:       &api,
		Scheduler: SchedulerConfig{CycleTime: Fixed(0)},
		Kubelet: KubeletConfig{
			ImagePull: Fixed(2 * time.Second), ContainerStart: Fixed(time.Second), Readiness: Fixed(3 * time.Second),
			StopDelay: Fixed(time.Second), SyncRetry: Fixed(10 * time.Second),
		},
	}
}

func newTestCluster(t testing.TB, cfg Config) (*sim.World, *Cluster) {
	t.Helper()
	w := sim.New(1, sim.Limits{})
	c, err := New(w, cfg)
	require.NoError(t, err)
	return w, c
}

func mkPod(name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.25"}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func onNode(node string) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Spec.NodeName = node } }

func withImage(img string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Image = img }
}

func tolerateUnreachable(seconds *int64) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: corev1.TaintNodeUnreachable,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds})
	}
}

// create writes a pod directly (test setup at the current instant).
func create(t testing.TB, c *Cluster, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Pods, Object: pod})
	require.NoError(t, resp.Err)
	return resp.Object.(*corev1.Pod)
}

func getPod(c *Cluster, name string) *corev1.Pod {
	resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Pods, Namespace: "default", Name: name})
	if resp.Err != nil {
		return nil
	}
	return resp.Object.(*corev1.Pod)
}

func getNode(c *Cluster, name string) *corev1.Node {
	resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Get, Kind: apiserver.Nodes, Name: name})
	if resp.Err != nil {
		return nil
	}
	return resp.Object.(*corev1.Node)
}

func runTo(w *sim.World, t time.Duration) { w.RunUntil(t) }

func at(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

// commits records every committed pod and node change with its virtual time.
type commits struct {
	w    *sim.World
	pods map[string][]podCommit
	node map[string][]nodeCommit
}

type podCommit struct {
	at  time.Duration
	typ watch.EventType
	pod *corev1.Pod
}

type nodeCommit struct {
	at   time.Duration
	node *corev1.Node
}

func recordCommits(c *Cluster) *commits {
	r := &commits{w: c.World, pods: map[string][]podCommit{}, node: map[string][]nodeCommit{}}
	c.API.OnCommit(func(ev apiserver.Event) {
		switch o := ev.Object.(type) {
		case *corev1.Pod:
			r.pods[o.Name] = append(r.pods[o.Name], podCommit{at: c.World.Elapsed(), typ: ev.Type, pod: o})
		case *corev1.Node:
			r.node[o.Name] = append(r.node[o.Name], nodeCommit{at: c.World.Elapsed(), node: o})
		}
	})
	return r
}

// first is when the pod first satisfied cond (-1 if never).
func (r *commits) first(name string, cond func(podCommit) bool) time.Duration {
	for _, pc := range r.pods[name] {
		if cond(pc) {
			return pc.at
		}
	}
	return -1
}

func (r *commits) firstNode(name string, cond func(*corev1.Node) bool) time.Duration {
	for _, nc := range r.node[name] {
		if cond(nc.node) {
			return nc.at
		}
	}
	return -1
}

func isReady(pc podCommit) bool { return pc.typ != watch.Deleted && podReady(pc.pod) }

func isDeleted(pc podCommit) bool { return pc.typ == watch.Deleted }

func isTerminating(pc podCommit) bool {
	return pc.typ != watch.Deleted && pc.pod.DeletionTimestamp != nil
}

func waitingReason(p *corev1.Pod) string {
	if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].State.Waiting == nil {
		return ""
	}
	return p.Status.ContainerStatuses[0].State.Waiting.Reason
}

// opsBy returns the recorded operations of a client on a key.
func opsBy(c *Cluster, client, verb, key string) []*history.Op {
	var out []*history.Op
	for _, op := range c.API.History().Ops() {
		if op.Client == client && op.Verb == verb && (key == "" || op.Key == key) {
			out = append(out, op)
		}
	}
	return out
}
