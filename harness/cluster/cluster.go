// Package cluster is the simulated cluster's own actors around the API server:
// the default scheduler, one kubelet per node, the node lifecycle and taint
// eviction controllers, the pod garbage collector and the owner-reference
// garbage collector, assembled by New from a Config. They run on the
// controller runtime (package controller) as the controllers under test do:
// each has a controller.Context (its client name in the history) and
// controller.Informers. Every actor but the garbage collector is event-driven
// (no coroutines, no periodic scans): it reacts to informer events, to its own
// timers and to API responses; the garbage collector's workers are coroutines
// parked on their work queues. So a cluster that has nothing to do executes
// no events, however much virtual time passes. Randomness comes only from the
// actors' named streams (w.Rand("scheduler"), w.Rand("kubelet/<node>")); maps
// are never iterated in an order that reaches behaviour.
//
// Node leases are modelled implicitly: a live kubelet renews its lease every
// LeaseRenewal (at its join time plus multiples of LeaseRenewal) without any
// API writes, which keeps an idle hour free of events. When a node is lost its
// last renewal is the last tick at or before the loss; the node lifecycle
// controller is told at once and acts at the first monitor tick (a multiple
// of NodeMonitorPeriod) after lastRenewal + NodeMonitorGracePeriod, exactly
// when its periodic monitor would have noticed.
package cluster

import (
	"fmt"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/sim"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// KubeletVersion is what the simulated nodes report.
const KubeletVersion = "v1.36.3"

// Cluster is a simulated control plane and its nodes.
type Cluster struct {
	World  *sim.World
	API    *apiserver.Server
	Config Config // as defaulted

	Scheduler     *Scheduler
	NodeLifecycle *NodeLifecycleController
	TaintEviction *TaintEvictionController
	PodGC         *PodGC
	// GC is the owner-reference garbage collector.
	GC *GarbageCollector

	kubelets map[string]*Kubelet
	leases   map[string]*lease
	nodeSeq  int
}

// lease is the implicit kubelet lease of a node.
type lease struct {
	phase  time.Duration // renewals at phase + k·LeaseRenewal while alive
	lost   bool
	lostAt time.Duration
}

// New builds the cluster: the API server, the Node objects (written directly,
// as the state the run starts from) and the actors, which start by listing
// through the API at virtual time now.
func New(w *sim.World, cfg Config) (*Cluster, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	apiCfg := *cfg.API
	if cfg.WatchDelay != nil {
		apiCfg.WatchDelay = *cfg.WatchDelay
	}
	c := &Cluster{World: w, API: apiserver.New(w, apiCfg), Config: cfg,
		kubelets: map[string]*Kubelet{}, leases: map[string]*lease{}}
	specs := cfg.NodeSpecs()
	for _, spec := range specs {
		k := c.newKubelet(spec)
		resp := c.API.Serve(&apiserver.Request{Verb: apiserver.Create, Kind: apiserver.Nodes, Object: k.nodeObject(true)})
		if resp.Err != nil {
			return nil, fmt.Errorf("creating node %s: %w", spec.Name, resp.Err)
		}
	}
	c.Scheduler = newScheduler(c)
	c.NodeLifecycle = newNodeLifecycle(c)
	c.TaintEviction = newTaintEviction(c)
	c.PodGC = newPodGC(c)
	c.Scheduler.start()
	c.NodeLifecycle.start()
	c.TaintEviction.start()
	c.PodGC.start()
	for _, spec := range specs {
		c.kubelets[spec.Name].start()
	}
	c.GC = StartGarbageCollector(c.API)
	return c, nil
}

func (c *Cluster) newKubelet(spec NodeSpec) *Kubelet {
	c.nodeSeq++
	k := newKubelet(c, spec, c.nodeSeq)
	c.kubelets[spec.Name] = k
	c.leases[spec.Name] = &lease{phase: c.World.Elapsed()}
	return k
}

// Nodes lists the names of the cluster's nodes (not deleted), sorted.
func (c *Cluster) Nodes() []string {
	var out []string
	for name, k := range c.kubelets {
		if !k.removed {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Kubelet returns the kubelet of a node, or nil.
func (c *Cluster) Kubelet(node string) *Kubelet { return c.kubelets[node] }

// NodeLost reports whether the node's kubelet is stopped by LoseNode.
func (c *Cluster) NodeLost(node string) bool {
	k := c.kubelets[node]
	return k != nil && k.lost
}

// LastRenewal is the virtual time of the node's latest lease renewal.
func (c *Cluster) LastRenewal(node string) (time.Duration, bool) {
	l := c.leases[node]
	if l == nil {
		return 0, false
	}
	t := c.World.Elapsed()
	if l.lost {
		t = l.lostAt
	}
	if t < l.phase {
		return l.phase, true
	}
	period := c.Config.NodeLifecycle.LeaseRenewal
	return l.phase + (t-l.phase)/period*period, true
}

func (c *Cluster) liveKubelet(node string) (*Kubelet, error) {
	k := c.kubelets[node]
	if k == nil || k.removed {
		return nil, fmt.Errorf("cluster: no node %q", node)
	}
	return k, nil
}

// LoseNode stops the node's kubelet (a crash, a partition): it stops renewing
// its lease, stops watching and writing, and its containers are left as they
// are. The node lifecycle controller notices after the grace period.
func (c *Cluster) LoseNode(node string) error {
	k, err := c.liveKubelet(node)
	if err != nil {
		return err
	}
	if k.lost {
		return fmt.Errorf("cluster: node %q is already lost", node)
	}
	l := c.leases[node]
	l.lost, l.lostAt = true, c.World.Elapsed()
	k.stop()
	c.NodeLifecycle.leaseStopped(node)
	return nil
}

// ReturnNode brings a lost node's kubelet back: it renews its lease at once,
// posts Ready=True, lists its pods again and carries on — running pods keep
// running, pods deleted meanwhile are finished and removed.
func (c *Cluster) ReturnNode(node string) error {
	k, err := c.liveKubelet(node)
	if err != nil {
		return err
	}
	if !k.lost {
		return fmt.Errorf("cluster: node %q is not lost", node)
	}
	l := c.leases[node]
	l.lost, l.phase = false, c.World.Elapsed()
	k.resume()
	return nil
}

// NodeSpec is the spec a live node joined with.
func (c *Cluster) NodeSpec(node string) (NodeSpec, bool) {
	k := c.kubelets[node]
	if k == nil || k.removed {
		return NodeSpec{}, false
	}
	return k.spec, true
}

// AddNode joins a new node: its kubelet registers the Node object through the
// API (create, then a status update with Ready=True) and starts watching.
func (c *Cluster) AddNode(spec NodeSpec) error {
	spec.Capacity.defaults(&c.Config.NodeCapacity)
	if errs := validateNodeSpec(&spec, field.NewPath("node")); len(errs) > 0 {
		return fmt.Errorf("cluster: %w", errs.ToAggregate())
	}
	if k := c.kubelets[spec.Name]; k != nil && !k.removed {
		return fmt.Errorf("cluster: node %q already exists", spec.Name)
	}
	k := c.newKubelet(spec)
	k.register()
	k.start()
	return nil
}

// DeleteNode deletes the Node object through the API (client "cluster") and
// removes the machine: its kubelet stops for good. Pods bound to it are left
// for the pod garbage collector.
func (c *Cluster) DeleteNode(node string) error {
	k, err := c.liveKubelet(node)
	if err != nil {
		return err
	}
	k.remove()
	delete(c.leases, node)
	c.API.Do(&apiserver.Request{Client: ClientCluster, Verb: apiserver.Delete, Kind: apiserver.Nodes, Name: node}, func(*apiserver.Response) {})
	return nil
}

// CrashContainer makes the first running container of the pod ("ns/name", or
// "name" in the default namespace) exit with code 1, as if it had crashed.
func (c *Cluster) CrashContainer(key string) error {
	ns, name := splitKey(key)
	key = ns + "/" + name
	for _, node := range c.Nodes() {
		k := c.kubelets[node]
		if ps := k.byKey[key]; ps != nil {
			return k.Crash(key, "", 1)
		}
	}
	return fmt.Errorf("cluster: pod %q is not known to any kubelet", key)
}

// SetReadinessFailing makes the pod's ("ns/name") readiness probe fail or
// pass again (see Kubelet.SetReadinessFailing).
func (c *Cluster) SetReadinessFailing(key string, failing bool) error {
	ns, name := splitKey(key)
	key = ns + "/" + name
	for _, node := range c.Nodes() {
		if k := c.kubelets[node]; k.byKey[key] != nil {
			return k.SetReadinessFailing(key, failing)
		}
	}
	return fmt.Errorf("cluster: pod %q is not known to any kubelet", key)
}

// nodeIP and podCIDR give each node its own addresses by join order.
func nodeIP(seq int) string { return fmt.Sprintf("192.168.%d.%d", seq/250, seq%250+1) }

func podIP(seq, n int) string { return fmt.Sprintf("10.%d.%d.%d", 244+seq/256, seq%256, 2+n%252) }

func podCIDR(seq int) string { return fmt.Sprintf("10.%d.%d.0/24", 244+seq/256, seq%256) }

// nodeObject is the Node as the kubelet registers it; with conditions, as it
// looks once the kubelet has posted its first status.
func (k *Kubelet) nodeObject(withConditions bool) *corev1.Node {
	spec := k.spec
	lbls := map[string]string{}
	for key, v := range spec.Labels {
		lbls[key] = v
	}
	lbls[corev1.LabelHostname] = spec.Name
	lbls[corev1.LabelOSStable] = "linux"
	lbls[corev1.LabelArchStable] = "amd64"
	if spec.Zone != "" {
		lbls[corev1.LabelTopologyZone] = spec.Zone
	}
	capacity := corev1.ResourceList{
		corev1.ResourcePods:   spec.Capacity.Pods.DeepCopy(),
		corev1.ResourceCPU:    spec.Capacity.CPU.DeepCopy(),
		corev1.ResourceMemory: spec.Capacity.Memory.DeepCopy(),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: spec.Name, Labels: lbls},
		Spec: corev1.NodeSpec{
			PodCIDR: podCIDR(k.seq), PodCIDRs: []string{podCIDR(k.seq)},
			ProviderID:    "ctrlsim://" + spec.Name,
			Unschedulable: spec.Unschedulable,
			Taints:        append([]corev1.Taint(nil), spec.Taints...),
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity.DeepCopy(),
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: k.ip},
				{Type: corev1.NodeHostName, Address: spec.Name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: KubeletVersion, OperatingSystem: "linux", Architecture: "amd64",
				ContainerRuntimeVersion: "containerd://2.0.0", OSImage: "ctrlsim",
			},
		},
	}
	if withConditions {
		setNodeConditionsReady(n, apiserver.Timestamp(k.c.World))
	}
	return n
}

// setNodeConditionsReady sets the kubelet's view of a healthy node and reports
// whether anything changed.
func setNodeConditionsReady(n *corev1.Node, now metav1.Time) bool {
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	changed := false
	for _, c := range want {
		c.LastHeartbeatTime, c.LastTransitionTime = now, now
		if old := nodeCondition(n, c.Type); old != nil {
			if old.Status == c.Status && old.Reason == c.Reason {
				continue
			}
			*old = c
		} else {
			n.Status.Conditions = append(n.Status.Conditions, c)
		}
		changed = true
	}
	return changed
}

// errGone reports whether a node or pod write failed because the object is gone.
func errGone(err error) bool { return apierrors.IsNotFound(err) }
