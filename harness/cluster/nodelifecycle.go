package cluster

import (
	"math"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// NodeLifecycleController watches node health. A node whose lease is older
// than NodeMonitorGracePeriod at a monitor tick gets Ready (and the pressure
// conditions) Unknown, its pods get Ready=False, and it is tainted
// node.kubernetes.io/unreachable with NoSchedule and NoExecute (timeAdded set
// on the NoExecute taint). The taints follow the Ready condition at the next
// monitor tick after any change: Unknown → unreachable, False → not-ready,
// True → none (a returning node's taints are removed that way).
//
// There are no periodic ticks: leases are implicit (see the package comment),
// LoseNode tells the controller the last renewal, and it wakes up at the tick
// when its monitor would have seen the lease expire. Zone disruption modes
// and the eviction rate limiter are not modelled: every lost node is tainted
// at its own tick.
type NodeLifecycleController struct {
	c *Cluster
	nodesAndPods
	health map[string]*nodeHealth
}

type nodeHealth struct {
	checkTok       uint64
	reconcileTok   uint64
	reconciling    bool
	markedNotReady bool
}

func newNodeLifecycle(c *Cluster) *NodeLifecycleController {
	n := &NodeLifecycleController{c: c, health: map[string]*nodeHealth{}}
	n.nodesAndPods = newNodesAndPods(c, ClientNodeLifecycle, n.onNode, n.onPod, nil)
	return n
}

func (n *NodeLifecycleController) h(node string) *nodeHealth {
	h := n.health[node]
	if h == nil {
		h = &nodeHealth{}
		n.health[node] = h
	}
	return h
}

func (n *NodeLifecycleController) cfg() *NodeLifecycleConfig { return &n.c.Config.NodeLifecycle }

// nextTick is the first monitor tick strictly after t.
func (n *NodeLifecycleController) nextTick(t time.Duration) time.Duration {
	p := n.cfg().NodeMonitorPeriod
	return (t/p + 1) * p
}

// UnknownAt is when the controller will find the lost node's lease expired:
// the first monitor tick after lastRenewal + NodeMonitorGracePeriod.
func (n *NodeLifecycleController) UnknownAt(lastRenewal time.Duration) time.Duration {
	return n.nextTick(lastRenewal + n.cfg().NodeMonitorGracePeriod)
}

// leaseStopped is LoseNode's notice: wake at the tick that sees the lease expire.
func (n *NodeLifecycleController) leaseStopped(node string) {
	last, ok := n.c.LastRenewal(node)
	if !ok {
		return
	}
	h := n.h(node)
	h.checkTok++
	tok := h.checkTok
	n.c.World.At(n.UnknownAt(last), func() {
		if h.checkTok == tok && n.health[node] == h {
			n.monitor(node)
		}
	})
}

// leaseExpired reports whether the node's lease is older than the grace period.
func (n *NodeLifecycleController) leaseExpired(node string) bool {
	last, ok := n.c.LastRenewal(node)
	return ok && n.c.World.Elapsed() > last+n.cfg().NodeMonitorGracePeriod
}

// monitor is one monitor pass over a node whose lease stopped.
func (n *NodeLifecycleController) monitor(node string) {
	if !n.leaseExpired(node) {
		return
	}
	cur := n.nodes.GetByKey(node)
	if cur == nil {
		return
	}
	now := apiserver.Timestamp(n.c.World)
	u := &rmw{api: n.c.API, client: ClientNodeLifecycle, kind: apiserver.Nodes, name: node, sub: "status",
		mutate: func(obj apiserver.Object) bool {
			if !n.leaseExpired(node) {
				return false
			}
			nd := obj.(*corev1.Node)
			changed := false
			for _, t := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure, corev1.NodeReady} {
				c := nodeCondition(nd, t)
				if c == nil {
					nd.Status.Conditions = append(nd.Status.Conditions, corev1.NodeCondition{Type: t})
					c = &nd.Status.Conditions[len(nd.Status.Conditions)-1]
				} else if c.Status == corev1.ConditionUnknown {
					continue
				}
				c.Status, c.Reason, c.Message = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status."
				c.LastTransitionTime = now
				changed = true
			}
			return changed
		},
		done: func(obj apiserver.Object) {
			if obj == nil || !n.leaseExpired(node) {
				return
			}
			nd := obj.(*corev1.Node)
			if nodeReadyStatus(nd) != corev1.ConditionTrue {
				n.markPodsNotReady(node)
				n.reconcileTaints(node, nd)
			}
		}}
	u.run(cur)
}

func (n *NodeLifecycleController) onPod(typ watch.EventType, key string, obj, old apiserver.Object) {
	oldPod := asPod(old)
	if typ == watch.Deleted {
		n.podIdx.set(key, nil, oldPod)
		return
	}
	n.podIdx.set(key, obj.(*corev1.Pod), oldPod)
}

func (n *NodeLifecycleController) onNode(typ watch.EventType, _ string, obj, old apiserver.Object) {
	node := obj.(*corev1.Node)
	if typ == watch.Deleted {
		if h := n.health[node.Name]; h != nil {
			h.checkTok++
			h.reconcileTok++
			delete(n.health, node.Name)
		}
		return
	}
	h := n.h(node.Name)
	ready := nodeReadyStatus(node)
	if ready == corev1.ConditionTrue {
		h.markedNotReady = false
	} else if old != nil && nodeReadyStatus(old.(*corev1.Node)) == corev1.ConditionTrue && ready != "" {
		n.markPodsNotReady(node.Name)
	}
	if !apiequality.Semantic.DeepEqual(desiredTaints(node, nil), node.Spec.Taints) {
		n.scheduleReconcile(node.Name)
	}
}

// scheduleReconcile fixes the node's taints at the next monitor tick.
func (n *NodeLifecycleController) scheduleReconcile(node string) {
	h := n.h(node)
	if h.reconciling {
		return
	}
	h.reconciling = true
	h.reconcileTok++
	tok := h.reconcileTok
	n.c.World.At(n.nextTick(n.c.World.Elapsed()), func() {
		if h.reconcileTok != tok || n.health[node] != h {
			return
		}
		h.reconciling = false
		if cur := n.nodes.GetByKey(node); cur != nil {
			n.reconcileTaints(node, cur)
		}
	})
}

// reconcileTaints makes the node's unreachable/not-ready taints follow its
// Ready condition.
func (n *NodeLifecycleController) reconcileTaints(node string, cur apiserver.Object) {
	now := apiserver.Timestamp(n.c.World)
	u := &rmw{api: n.c.API, client: ClientNodeLifecycle, kind: apiserver.Nodes, name: node,
		mutate: func(obj apiserver.Object) bool {
			nd := obj.(*corev1.Node)
			want := desiredTaints(nd, &now)
			if apiequality.Semantic.DeepEqual(want, nd.Spec.Taints) {
				return false
			}
			nd.Spec.Taints = want
			return true
		}}
	u.run(cur)
}

var lifecycleTaintKeys = map[string]bool{corev1.TaintNodeUnreachable: true, corev1.TaintNodeNotReady: true}

// desiredTaints is the node's taint list with the controller's taints set
// from its Ready condition; existing entries keep their timeAdded. now is the
// timeAdded of new NoExecute taints (nil when only comparing).
func desiredTaints(nd *corev1.Node, now *metav1.Time) []corev1.Taint {
	var key string
	switch nodeReadyStatus(nd) {
	case corev1.ConditionUnknown:
		key = corev1.TaintNodeUnreachable
	case corev1.ConditionFalse:
		key = corev1.TaintNodeNotReady
	}
	var out []corev1.Taint
	var have [2]*corev1.Taint
	for i := range nd.Spec.Taints {
		t := nd.Spec.Taints[i]
		if !lifecycleTaintKeys[t.Key] {
			out = append(out, t)
			continue
		}
		if t.Key == key && t.Effect == corev1.TaintEffectNoSchedule && have[0] == nil {
			have[0] = &nd.Spec.Taints[i]
		}
		if t.Key == key && t.Effect == corev1.TaintEffectNoExecute && have[1] == nil {
			have[1] = &nd.Spec.Taints[i]
		}
	}
	if key == "" {
		return out
	}
	for i, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
		if have[i] != nil {
			out = append(out, *have[i])
			continue
		}
		t := corev1.Taint{Key: key, Effect: effect}
		if effect == corev1.TaintEffectNoExecute {
			if now == nil {
				t.TimeAdded = &metav1.Time{} // differs from any existing: a change
			} else {
				added := *now
				t.TimeAdded = &added
			}
		}
		out = append(out, t)
	}
	return out
}

// markPodsNotReady sets Ready=False on the node's pods, once per episode.
func (n *NodeLifecycleController) markPodsNotReady(node string) {
	h := n.h(node)
	if h.markedNotReady {
		return
	}
	h.markedNotReady = true
	now := apiserver.Timestamp(n.c.World)
	for _, pod := range n.podIdx.on(node) {
		if c := podCondition(&pod.Status, corev1.PodReady); c == nil || c.Status == corev1.ConditionFalse {
			continue
		}
		u := &rmw{api: n.c.API, client: ClientNodeLifecycle, kind: apiserver.Pods, ns: pod.Namespace, name: pod.Name, sub: "status", uid: pod.UID,
			mutate: func(obj apiserver.Object) bool {
				p := obj.(*corev1.Pod)
				c := podCondition(&p.Status, corev1.PodReady)
				if c == nil || c.Status == corev1.ConditionFalse || p.Spec.NodeName != node {
					return false
				}
				c.Status, c.LastTransitionTime = corev1.ConditionFalse, now
				return true
			}}
		u.run(pod)
	}
}

// TaintEvictionController deletes pods from nodes with NoExecute taints they
// do not tolerate: at once for an untolerated taint, after the smallest
// tolerationSeconds of the matching tolerations otherwise (counted from when
// the controller first saw the pod under the taint, as upstream), never for
// tolerations without seconds (DaemonSet pods). Before deleting it marks the
// pod with DisruptionTarget=True (reason DeletionByTaintManager). Deletes are
// graceful: on a lost node the pods stay Terminating.
type TaintEvictionController struct {
	c *Cluster
	nodesAndPods
	taints map[string][]corev1.Taint // NoExecute taints by node
	work   map[string]*eviction
}

type eviction struct {
	uid       types.UID
	start, at time.Duration
	tok       uint64
}

func newTaintEviction(c *Cluster) *TaintEvictionController {
	e := &TaintEvictionController{c: c, taints: map[string][]corev1.Taint{}, work: map[string]*eviction{}}
	e.nodesAndPods = newNodesAndPods(c, ClientTaintEviction, e.onNode, e.onPod, nil)
	return e
}

// Scheduled returns when the pod ("ns/name") is due for eviction, if it is.
func (e *TaintEvictionController) Scheduled(key string) (time.Duration, bool) {
	if w := e.work[key]; w != nil {
		return w.at, true
	}
	return 0, false
}

func (e *TaintEvictionController) onNode(typ watch.EventType, _ string, obj, _ apiserver.Object) {
	node := obj.(*corev1.Node)
	var taints []corev1.Taint
	if typ != watch.Deleted {
		taints = noExecuteTaints(node.Spec.Taints)
	}
	if apiequality.Semantic.DeepEqual(taints, e.taints[node.Name]) {
		return
	}
	if len(taints) == 0 {
		delete(e.taints, node.Name)
	} else {
		e.taints[node.Name] = taints
	}
	for _, pod := range e.podIdx.on(node.Name) {
		e.process(podKey(pod), pod)
	}
}

func (e *TaintEvictionController) onPod(typ watch.EventType, key string, obj, old apiserver.Object) {
	pod := obj.(*corev1.Pod)
	oldPod := asPod(old)
	if typ == watch.Deleted {
		e.podIdx.set(key, nil, oldPod)
		e.cancel(key)
		return
	}
	e.podIdx.set(key, pod, oldPod)
	e.process(key, pod)
}

func (e *TaintEvictionController) cancel(key string) {
	if w := e.work[key]; w != nil {
		w.tok++
		delete(e.work, key)
	}
}

func (e *TaintEvictionController) process(key string, pod *corev1.Pod) {
	taints := e.taints[pod.Spec.NodeName]
	if pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil || len(taints) == 0 {
		e.cancel(key)
		return
	}
	now := e.c.World.Elapsed()
	wait, tolerated := minTolerationTime(taints, pod.Spec.Tolerations)
	if !tolerated {
		e.schedule(key, pod.UID, now, now)
		return
	}
	if wait < 0 {
		e.cancel(key)
		return
	}
	if w := e.work[key]; w != nil && w.uid == pod.UID {
		if w.start+wait != w.at {
			e.schedule(key, pod.UID, w.start, w.start+wait)
		}
		return
	}
	e.schedule(key, pod.UID, now, now+wait)
}

// minTolerationTime is the smallest tolerationSeconds among the first
// toleration matching each taint; -1 if all tolerate forever; tolerated is
// false if some taint is not tolerated at all.
func minTolerationTime(taints []corev1.Taint, tols []corev1.Toleration) (time.Duration, bool) {
	m := int64(math.MaxInt64)
	for i := range taints {
		t := firstToleration(tols, &taints[i])
		if t == nil {
			return 0, false
		}
		if t.TolerationSeconds != nil {
			m = min(m, max(*t.TolerationSeconds, 0))
		}
	}
	if m == math.MaxInt64 {
		return -1, true
	}
	return time.Duration(m) * time.Second, true
}

func (e *TaintEvictionController) schedule(key string, uid types.UID, start, at time.Duration) {
	e.cancel(key)
	w := &eviction{uid: uid, start: start, at: at}
	e.work[key] = w
	tok := w.tok
	e.c.World.At(at, func() {
		if w.tok != tok || e.work[key] != w {
			return
		}
		delete(e.work, key)
		e.evict(key, uid)
	})
}

// evict: GET the pod, mark it DisruptionTarget, delete it (graceful).
func (e *TaintEvictionController) evict(key string, uid types.UID) {
	ns, name := splitKey(key)
	now := apiserver.Timestamp(e.c.World)
	u := &rmw{api: e.c.API, client: ClientTaintEviction, kind: apiserver.Pods, ns: ns, name: name, sub: "status", uid: uid,
		mutate: func(obj apiserver.Object) bool {
			p := obj.(*corev1.Pod)
			if p.DeletionTimestamp != nil {
				return false
			}
			return setPodCondition(&p.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
				Reason: "DeletionByTaintManager", Message: "Taint manager: deleting due to NoExecute taint"}, now)
		},
		done: func(obj apiserver.Object) {
			if obj == nil || obj.GetDeletionTimestamp() != nil {
				return
			}
			e.c.API.Do(&apiserver.Request{Client: ClientTaintEviction, Verb: apiserver.Delete, Kind: apiserver.Pods, Namespace: ns, Name: name},
				func(*apiserver.Response) {})
		}}
	u.run(nil)
}
