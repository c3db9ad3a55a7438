package cluster

import (
	"container/heap"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

// Scheduler is the default scheduler, reduced to what replica controllers
// meet: it binds each pending pod (schedulerName default-scheduler, no
// scheduling gates) to a Ready node that is not cordoned, carries no
// NoSchedule/NoExecute taint the pod does not tolerate, matches the pod's
// nodeSelector and required node affinity, and has room (pods below the
// node's pod capacity, cpu and memory requests within allocatable). Among the
// nodes that fit it picks the one with the fewest pods, ties broken by name.
// Pods are taken by priority, then in the order they were created, one per
// cycle (CycleTime); a binding is sent asynchronously and the pod counts on
// its node from the decision on ("assumed"), as upstream's cache does.
//
// A pod that fits nowhere gets PodScheduled=False (reason Unschedulable, with
// upstream's "0/N nodes are available: …" message) and waits until a node is
// added or changes, or an assigned pod goes away; it is then retried after its
// back-off (InitialBackoff doubling to MaxBackoff per attempt).
type Scheduler struct {
	c    *Cluster
	cfg  *SchedulerConfig
	rand *rand.Rand

	ctx         *controller.Context
	pods, nodes *controller.Informer
	nodeInfo    map[string]*schedNode
	nodeList    []*schedNode // the nodes with a Node object, by name; see sortedNodes
	nodesStale  bool         // a node was added or deleted since nodeList was built
	nextStart   int          // where the next node search starts
	acct        map[types.UID]*podAcct

	queue   map[string]*qpod // pods waiting to be scheduled, by key
	active  qheap
	unsched map[string]*qpod
	seq     uint64
	busy    bool
}

type schedNode struct {
	name     string
	node     *corev1.Node
	pods     int
	cpu, mem int64
	ports    map[string]int // host ports in use ("TCP/8000") and by how many pods
	// Facts of node, computed when it changes rather than per pod, so that
	// checking a node does not have to touch the Node object.
	ready                   bool
	unschedulable           bool
	taints                  []corev1.Taint // node.Spec.Taints (shared, read-only)
	maxPods, maxCPU, maxMem int64
}

func (n *schedNode) setNode(node *corev1.Node) {
	n.node = node
	if node == nil {
		return
	}
	alloc := node.Status.Allocatable
	n.ready = nodeReadyStatus(node) == corev1.ConditionTrue
	n.unschedulable = node.Spec.Unschedulable
	n.taints = node.Spec.Taints
	n.maxPods = quantityOr(alloc, corev1.ResourcePods, DefaultPodsPerNode, false)
	n.maxCPU = quantityOr(alloc, corev1.ResourceCPU, 0, true)
	n.maxMem = quantityOr(alloc, corev1.ResourceMemory, 0, false)
}

// podAcct is a pod counted against a node.
type podAcct struct {
	node     string
	cpu, mem int64
	ports    []string // host ports the pod takes on its node
	assumed  bool     // bound by our decision, not yet seen bound
}

type qstate int

const (
	qActive qstate = iota
	qBackoff
	qUnschedulable
	qBinding
)

type qpod struct {
	key         string
	uid         types.UID
	seq         uint64
	prio        int32
	state       qstate
	attempts    int
	lastAttempt time.Duration
	tok         uint64
	index       int
}

func newScheduler(c *Cluster) *Scheduler {
	s := &Scheduler{c: c, cfg: &c.Config.Scheduler, rand: c.World.Rand(ClientScheduler),
		nodeInfo: map[string]*schedNode{}, acct: map[types.UID]*podAcct{},
		queue: map[string]*qpod{}, unsched: map[string]*qpod{}}
	s.ctx = controller.NewContext(ClientScheduler, c.API)
	s.pods = actorInformer(s.ctx, apiserver.Pods, s.onPod, nil)
	s.nodes = actorInformer(s.ctx, apiserver.Nodes, s.onNode, nil)
	return s
}

func (s *Scheduler) start() {
	s.nodes.Start()
	s.pods.Start()
}

// Pending lists the keys of the pods waiting to be scheduled, sorted.
func (s *Scheduler) Pending() []string { return slices.Sorted(maps.Keys(s.queue)) }

func wantsScheduling(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.Spec.SchedulerName == corev1.DefaultSchedulerName &&
		pod.DeletionTimestamp == nil && !isTerminal(pod) && len(pod.Spec.SchedulingGates) == 0
}

func (s *Scheduler) onPod(typ watch.EventType, key string, obj, _ apiserver.Object) {
	pod := obj.(*corev1.Pod)
	freed := false
	if typ != watch.Deleted && pod.Spec.NodeName != "" && !isTerminal(pod) {
		s.account(pod)
	} else if a := s.acct[pod.UID]; a != nil {
		keepAssumed := a.assumed && typ != watch.Deleted && pod.Spec.NodeName == "" && !isTerminal(pod)
		if !keepAssumed {
			s.unaccount(pod.UID)
			freed = true
		}
	}
	if typ != watch.Deleted && wantsScheduling(pod) {
		s.enqueue(key, pod)
	} else {
		s.dequeue(key, pod.UID)
	}
	if freed {
		s.retryUnschedulable()
	}
}

func (s *Scheduler) account(pod *corev1.Pod) {
	if a := s.acct[pod.UID]; a != nil {
		if a.node == pod.Spec.NodeName && !a.assumed {
			return
		}
		s.unaccount(pod.UID)
	}
	cpu, mem := podRequests(pod)
	a := &podAcct{node: pod.Spec.NodeName, cpu: cpu, mem: mem, ports: hostPorts(pod)}
	s.acct[pod.UID] = a
	s.charge(a, 1)
}

func (s *Scheduler) unaccount(uid types.UID) {
	a := s.acct[uid]
	if a == nil {
		return
	}
	delete(s.acct, uid)
	s.charge(a, -1)
}

// charge adds (sign 1) or removes (sign -1) a pod's use of its node.
func (s *Scheduler) charge(a *podAcct, sign int) {
	node := a.node
	n := s.nodeInfo[node]
	if n == nil {
		n = &schedNode{name: node}
		s.nodeInfo[node] = n
	}
	n.pods += sign
	n.cpu += int64(sign) * a.cpu
	n.mem += int64(sign) * a.mem
	for _, p := range a.ports {
		if n.ports == nil {
			n.ports = map[string]int{}
		}
		if n.ports[p] += sign; n.ports[p] <= 0 {
			delete(n.ports, p)
		}
	}
	if n.node == nil && n.pods == 0 {
		delete(s.nodeInfo, node)
	}
}

// hostPorts lists the host ports a pod asks for, as "protocol/port". Any two
// uses of one port and protocol conflict (kube-scheduler's NodePorts lets
// different host IPs share a port; no workload here uses host IPs).
func hostPorts(pod *corev1.Pod) []string {
	var out []string
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort > 0 {
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				out = append(out, string(proto)+"/"+strconv.Itoa(int(p.HostPort)))
			}
		}
	}
	return out
}

func (s *Scheduler) onNode(typ watch.EventType, _ string, obj, old apiserver.Object) {
	node := obj.(*corev1.Node)
	n := s.nodeInfo[node.Name]
	if typ == watch.Deleted {
		if n != nil {
			n.setNode(nil)
			if n.pods == 0 {
				delete(s.nodeInfo, node.Name)
			}
		}
		s.nodesStale = true
		return
	}
	if n == nil {
		n = &schedNode{name: node.Name}
		s.nodeInfo[node.Name] = n
	}
	n.setNode(node)
	if typ == watch.Added {
		s.nodesStale = true
	}
	if typ == watch.Added || schedulingRelevantChange(old.(*corev1.Node), node) {
		s.retryUnschedulable()
	}
}

func schedulingRelevantChange(a, b *corev1.Node) bool {
	if a.Spec.Unschedulable != b.Spec.Unschedulable || nodeReadyStatus(a) != nodeReadyStatus(b) {
		return true
	}
	return !apiequality.Semantic.DeepEqual(a.Labels, b.Labels) || !apiequality.Semantic.DeepEqual(a.Spec.Taints, b.Spec.Taints) ||
		!apiequality.Semantic.DeepEqual(a.Status.Allocatable, b.Status.Allocatable)
}

// sortedNodes is the nodes that have a Node object, in name order. It is
// rebuilt lazily, so that listing N nodes costs one sort rather than N.
func (s *Scheduler) sortedNodes() []*schedNode {
	if s.nodesStale {
		s.nodesStale = false
		s.nodeList = s.nodeList[:0]
		for _, n := range s.nodeInfo {
			if n.node != nil {
				s.nodeList = append(s.nodeList, n)
			}
		}
		sort.Slice(s.nodeList, func(i, j int) bool { return s.nodeList[i].name < s.nodeList[j].name })
	}
	return s.nodeList
}

func (s *Scheduler) enqueue(key string, pod *corev1.Pod) {
	if q := s.queue[key]; q != nil {
		if q.uid == pod.UID {
			return
		}
		s.dequeue(key, q.uid)
	}
	s.seq++
	prio := int32(0)
	if pod.Spec.Priority != nil {
		prio = *pod.Spec.Priority
	}
	q := &qpod{key: key, uid: pod.UID, seq: s.seq, prio: prio}
	s.queue[key] = q
	s.activate(q)
}

func (s *Scheduler) dequeue(key string, uid types.UID) {
	q := s.queue[key]
	if q == nil || q.uid != uid {
		return
	}
	delete(s.queue, key)
	delete(s.unsched, key)
	q.tok++
	if q.state == qActive && q.index >= 0 {
		heap.Remove(&s.active, q.index)
	}
}

func (s *Scheduler) activate(q *qpod) {
	q.state = qActive
	heap.Push(&s.active, q)
	s.kick()
}

// backoffUntil is when a pod that failed `attempts` times may be tried again.
func (s *Scheduler) backoffUntil(q *qpod) time.Duration {
	d := s.cfg.InitialBackoff
	for i := 1; i < q.attempts && d < s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return q.lastAttempt + min(d, s.cfg.MaxBackoff)
}

// requeue puts a pod back after its back-off.
func (s *Scheduler) requeue(q *qpod) {
	delete(s.unsched, q.key)
	at := s.backoffUntil(q)
	if at <= s.c.World.Elapsed() {
		s.activate(q)
		return
	}
	q.state = qBackoff
	q.tok++
	tok := q.tok
	s.c.World.At(at, func() {
		if q.tok == tok && s.queue[q.key] == q {
			s.activate(q)
		}
	})
}

// retryUnschedulable moves every unschedulable pod back (a cluster event).
func (s *Scheduler) retryUnschedulable() {
	if len(s.unsched) == 0 {
		return
	}
	list := make([]*qpod, 0, len(s.unsched))
	for _, q := range s.unsched {
		list = append(list, q)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].seq < list[j].seq })
	for _, q := range list {
		s.requeue(q)
	}
}

func (s *Scheduler) kick() {
	if s.busy || s.active.Len() == 0 {
		return
	}
	s.busy = true
	s.c.World.After(s.cfg.CycleTime.Sample(s.rand), s.cycle)
}

// cycle schedules the first pod of the active queue.
func (s *Scheduler) cycle() {
	s.busy = false
	for s.active.Len() > 0 {
		q := heap.Pop(&s.active).(*qpod)
		obj := s.pods.GetByKey(q.key)
		pod, _ := obj.(*corev1.Pod)
		if pod == nil || pod.UID != q.uid || !wantsScheduling(pod) {
			s.dequeue(q.key, q.uid)
			continue
		}
		s.schedule(q, pod)
		break
	}
	s.kick()
}

func (s *Scheduler) schedule(q *qpod, pod *corev1.Pod) {
	now := s.c.World.Elapsed()
	best, reasons := s.pick(pod)
	q.attempts++
	q.lastAttempt = now
	if best == "" {
		q.state = qUnschedulable
		s.unsched[q.key] = q
		s.reportUnschedulable(pod, unschedulableMessage(len(s.sortedNodes()), reasons))
		return
	}
	cpu, mem := podRequests(pod)
	a := &podAcct{node: best, cpu: cpu, mem: mem, ports: hostPorts(pod), assumed: true}
	s.acct[pod.UID] = a
	s.charge(a, 1)
	q.state = qBinding
	s.c.API.Do(&apiserver.Request{Client: ClientScheduler, Verb: apiserver.Create, Kind: apiserver.Pods, Subresource: "binding",
		Namespace: pod.Namespace, Name: pod.Name, Node: best}, func(resp *apiserver.Response) {
		if resp.Err == nil {
			if s.queue[q.key] == q {
				delete(s.queue, q.key)
			}
			return
		}
		if a := s.acct[q.uid]; a != nil && a.assumed {
			s.unaccount(q.uid)
			s.retryUnschedulable()
		}
		if s.queue[q.key] != q {
			return
		}
		if cur, _ := s.pods.GetByKey(q.key).(*corev1.Pod); cur != nil && cur.UID == q.uid && wantsScheduling(cur) {
			s.requeue(q)
		} else {
			s.dequeue(q.key, q.uid)
		}
	})
}

// pick returns the least-loaded fitting node and, if none fits, why each
// failed. Like kube-scheduler, on a large cluster it stops after finding
// enough feasible nodes (numFeasibleNodesToFind) and starts the next search
// where this one stopped, so a decision costs O(sample), not O(cluster).
func (s *Scheduler) pick(pod *corev1.Pod) (string, map[string]int) {
	cpu, mem := podRequests(pod)
	ports := hostPorts(pod)
	nodes := s.sortedNodes()
	total := len(nodes)
	want := numFeasibleNodesToFind(total)
	best, bestPods, bestIdx := "", 0, 0
	var reasons map[string]int
	found, checked := 0, 0
	for ; checked < total && found < want; checked++ {
		idx := (s.nextStart + checked) % total
		n := nodes[idx]
		if why := fits(pod, n, cpu, mem, ports); why != "" {
			if reasons == nil {
				reasons = map[string]int{}
			}
			reasons[why]++
			continue
		}
		found++
		// Least loaded; among equals the first in name order.
		if best == "" || n.pods < bestPods || (n.pods == bestPods && idx < bestIdx) {
			best, bestPods, bestIdx = n.name, n.pods, idx
		}
	}
	if total > 0 {
		s.nextStart = (s.nextStart + checked) % total
	}
	return best, reasons
}

// numFeasibleNodesToFind is kube-scheduler's sample size with the default
// percentageOfNodesToScore: every node below 100, else 50% minus 1% per 125
// nodes (at least 5%), and never fewer than 100.
func numFeasibleNodesToFind(total int) int {
	if total < 100 {
		return total
	}
	pct := max(50-total/125, 5)
	return max(total*pct/100, 100)
}

var unschedulableTaint = corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}

// fits returns "" if the pod fits the node, else upstream's reason.
func fits(pod *corev1.Pod, n *schedNode, cpu, mem int64, ports []string) string {
	if !n.ready {
		return "node(s) were not ready"
	}
	if n.unschedulable && firstToleration(pod.Spec.Tolerations, &unschedulableTaint) == nil {
		return "node(s) were unschedulable"
	}
	if t := untoleratedTaint(n.taints, pod.Spec.Tolerations, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute); t != nil {
		return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
	}
	if !nodeMatches(pod, n.node) {
		return "node(s) didn't match Pod's node affinity/selector"
	}
	if int64(n.pods) >= n.maxPods {
		return "Too many pods"
	}
	if cpu > 0 && n.cpu+cpu > n.maxCPU {
		return "Insufficient cpu"
	}
	if mem > 0 && n.mem+mem > n.maxMem {
		return "Insufficient memory"
	}
	for _, p := range ports {
		if n.ports[p] > 0 {
			return "node(s) didn't have free ports for the requested pod ports"
		}
	}
	return ""
}

func unschedulableMessage(nodes int, reasons map[string]int) string {
	parts := make([]string, 0, len(reasons))
	for _, r := range slices.Sorted(maps.Keys(reasons)) {
		parts = append(parts, fmt.Sprintf("%d %s", reasons[r], r))
	}
	msg := fmt.Sprintf("0/%d nodes are available", nodes)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	return msg + "."
}

// reportUnschedulable sets PodScheduled=False (reason Unschedulable) unless
// the pod already says so with the same message.
func (s *Scheduler) reportUnschedulable(pod *corev1.Pod, msg string) {
	if c := podCondition(&pod.Status, corev1.PodScheduled); c != nil && c.Status == corev1.ConditionFalse && c.Message == msg {
		return
	}
	now := apiserver.Timestamp(s.c.World)
	u := &rmw{api: s.c.API, client: ClientScheduler, kind: apiserver.Pods, ns: pod.Namespace, name: pod.Name, sub: "status", uid: pod.UID,
		mutate: func(obj apiserver.Object) bool {
			p := obj.(*corev1.Pod)
			if !wantsScheduling(p) {
				return false
			}
			return setPodCondition(&p.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
				Reason: corev1.PodReasonUnschedulable, Message: msg}, now)
		}}
	u.run(pod)
}

// qheap orders pods by priority (higher first), then arrival.
type qheap []*qpod

func (h qheap) Len() int { return len(h) }
func (h qheap) Less(i, j int) bool {
	if h[i].prio != h[j].prio {
		return h[i].prio > h[j].prio
	}
	return h[i].seq < h[j].seq
}
func (h qheap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *qheap) Push(x any) {
	q := x.(*qpod)
	q.index = len(*h)
	*h = append(*h, q)
}
func (h *qheap) Pop() any {
	old := *h
	n := len(old)
	q := old[n-1]
	old[n-1] = nil
	q.index = -1
	*h = old[:n-1]
	return q
}
