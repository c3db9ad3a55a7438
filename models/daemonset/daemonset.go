// Package daemonset models the upstream DaemonSet controller
// (pkg/controller/daemon, v1.36) decision by decision, on ctrlsim's
// controller runtime: one daemon pod on every node that should run it
// (ShouldRunDaemonPod: nodeSelector, required node affinity, taints against
// the template's tolerations and the ones the controller adds), pinned to its
// node by a required node-affinity term on metadata.name so that the default
// scheduler binds it; nodes watched through a node-update queue of their own;
// several pods on one node pruned to the oldest; pods on nodes that stopped
// qualifying deleted; failed pods deleted (with a per-node back-off) and
// recreated; creations in slow-start batches of at most 250 per sync with
// expectations; ControllerRevisions and the controller-revision-hash label;
// rolling update (maxUnavailable, maxSurge) and OnDelete; status; and v1.36's
// StaleControllerConsistency check.
//
// Options select named alternatives for comparison (keep the newest of
// duplicate pods, no slow start, bind pods by spec.nodeName as before 1.12);
// the defaults are upstream's.
package daemonset

import (
	"cmp"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Upstream constants.
const (
	BurstReplicas       = 250 // creations (and deletions) per sync
	Workers             = 2   // --concurrent-daemonset-syncs
	statusUpdateRetries = 1
)

// Duplicates is the rule for a node with more than one running daemon pod
// (without surge).
type Duplicates string

const (
	// KeepOldest keeps the oldest pod (bound pods before unbound ones, then
	// by creation time, then by name) and deletes the others: upstream.
	KeepOldest Duplicates = "keep-oldest"
	// KeepNewest keeps the most recently created bound pod instead (upstream's
	// order reversed, bound pods still first; creation times have whole
	// seconds, so a tie goes to the last name).
	KeepNewest Duplicates = "keep-newest"
)

// Options configure the model. The zero value of each field means upstream's
// behaviour, so Options{} is the faithful model of the DaemonSet controller.
type Options struct {
	// Name is the controller's name in the history, failures and decision
	// trace. Default "daemonset-controller".
	Name string
	// Workers is the number of DaemonSet sync workers, and of node-update
	// workers (upstream starts as many of each). Default 2.
	Workers int
	// BurstReplicas caps the pods created, and those deleted, in one sync.
	// Default 250.
	BurstReplicas int
	// NoSlowStart creates all the pods of a sync at once instead of in
	// batches of 1, 2, 4, …
	NoSlowStart bool
	// Duplicates is the rule for several pods on one node. Default KeepOldest.
	Duplicates Duplicates
	// BindByNodeName sets spec.nodeName on new pods, as the controller did
	// before Kubernetes 1.12 (ScheduleDaemonSetPods off): the pods bypass the
	// scheduler, and so its checks of node readiness and resources.
	BindByNodeName bool
	// NoConsistencyCheck turns off v1.36's StaleControllerConsistency check
	// (wait for the informers to catch up with the controller's own writes).
	NoConsistencyCheck bool
	// Trace receives every choice among several pods on one node (which to
	// delete). May be nil.
	Trace *trace.Recorder
}

// Variant is a named alternative to the upstream model, for a strategy
// registry.
type Variant struct {
	Name, Summary string
	Options       Options
}

// Variants are the alternatives a user would compare with upstream.
var Variants = []Variant{
	{Name: "keep-newest", Summary: "of several daemon pods on one node keep the newest, not the oldest", Options: Options{Duplicates: KeepNewest}},
	{Name: "no-slow-start", Summary: "create every missing daemon pod at once instead of in batches of 1, 2, 4, …", Options: Options{NoSlowStart: true}},
	{Name: "bind-by-node-name", Summary: "set spec.nodeName on daemon pods as before Kubernetes 1.12, bypassing the scheduler", Options: Options{BindByNodeName: true}},
}

// Controller is one running DaemonSet controller.
type Controller struct {
	ctx          *controller.Context
	opts         Options
	sets         *controller.Informer
	histories    *controller.Informer
	pods         *controller.Informer
	nodes        *controller.Informer
	queue        *controller.Queue[string]
	nodeQueue    *controller.Queue[string]
	expectations *controller.Expectations
	failed       *backoff
	consistency  *controller.Consistency
}

// Run is the model as a strategy's controller (plugin.Controller.Run).
func Run(opts Options) func(*controller.Context, *trace.Recorder) {
	return plugin.Run(opts, StartWithContext)
}

// SetProcess names the controller and sets its trace (plugin.ModelOptions).
func (o *Options) SetProcess(name string, tr *trace.Recorder) { o.Name, o.Trace = name, tr }

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	return StartWithContext(controller.NewContext(cmp.Or(opts.Name, "daemonset-controller"), api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	opts.Name = cmp.Or(opts.Name, ctx.Name())
	if opts.Workers <= 0 {
		opts.Workers = Workers
	}
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	if opts.Duplicates == "" {
		opts.Duplicates = KeepOldest
	}
	c := &Controller{
		ctx: ctx, opts: opts,
		sets:         ctx.Informer(apiserver.DaemonSets),
		histories:    ctx.Informer(apiserver.ControllerRevisions),
		pods:         ctx.Informer(apiserver.Pods),
		nodes:        ctx.Informer(apiserver.Nodes),
		queue:        controller.NewQueue[string](ctx.World(), opts.Name, nil),
		nodeQueue:    controller.NewQueue[string](ctx.World(), opts.Name+"/node-updates", nil),
		expectations: controller.NewExpectations(ctx.Now),
		failed:       newBackoff(FailedPodBackoff, MaxFailedPodBackoff),
	}
	if !opts.NoConsistencyCheck {
		c.consistency = controller.NewConsistency(controller.Watched{Kind: apiserver.DaemonSets, Informer: c.sets},
			controller.Watched{Kind: apiserver.Pods, Informer: c.pods})
	}
	c.pods.AddIndex(controller.IndexController, controller.ControllerIndex)
	c.pods.AddIndex(indexNode, podNodeIndex)
	c.sets.AddHandler(controller.OwnerHandler(c.queue, c.forget))
	c.histories.AddHandler(c.historyHandler())
	c.pods.AddHandler(c.podHandler().Handler())
	// Upstream has no delete handler for nodes: the pod garbage collector
	// deletes the pods of a deleted node, and their delete events bring the
	// DaemonSet back.
	c.nodes.AddHandler(controller.Handler{OnAdd: c.addNode, OnUpdate: c.updateNode})
	ctx.Go("run", func() {
		// The informer factory starts every informer, then the controller
		// waits for each cache.
		for _, inf := range []*controller.Informer{c.pods, c.nodes, c.histories, c.sets} {
			inf.Start()
		}
		for _, inf := range []*controller.Informer{c.pods, c.nodes, c.histories, c.sets} {
			inf.WaitForCacheSync()
		}
		for i := 0; i < opts.Workers; i++ {
			ctx.Go(fmt.Sprintf("worker-%d", i), controller.Worker(c.queue, c.sync, 0))
			ctx.Go(fmt.Sprintf("node-worker-%d", i), c.nodeWorker)
		}
	})
	return c
}

// Stop shuts the controller's queues down: its workers finish the key in
// hand and exit.
func (c *Controller) Stop() {
	c.queue.ShutDown()
	c.nodeQueue.ShutDown()
}

// Pods are indexed by controller reference (controller.ControllerIndex, as
// upstream's PodControllerIndex) and by spec.nodeName.
const indexNode = "node"

func podNodeIndex(obj apiserver.Object) []string {
	if n := obj.(*corev1.Pod).Spec.NodeName; n != "" {
		return []string{n}
	}
	return nil
}

func controllerRef(ds *appsv1.DaemonSet) metav1.OwnerReference {
	return *metav1.NewControllerRef(ds, appsv1.SchemeGroupVersion.WithKind("DaemonSet"))
}

// --- event handlers (run outside coroutines: they only enqueue) ---

func (c *Controller) enqueue(ds *appsv1.DaemonSet) { c.queue.Add(controller.KeyFunc(ds)) }

// forget drops what the controller remembers of a DaemonSet deleted.
func (c *Controller) forget(key string, uid types.UID) {
	c.consistency.Clear(key, uid)
	c.expectations.DeleteExpectations(key)
}

// owners finds the DaemonSet of a pod or revision (resolveControllerRef),
// or those selecting an orphan (an unlabelled one has none).
func (c *Controller) owners() *controller.Owners[*appsv1.DaemonSet] {
	return &controller.Owners[*appsv1.DaemonSet]{Kind: apiserver.DaemonSets, Informer: c.sets, SkipUnlabelled: true,
		Selector: func(ds *appsv1.DaemonSet) *metav1.LabelSelector { return ds.Spec.Selector }}
}

// historyHandler is addHistory, updateHistory and deleteHistory. A new
// revision with a controller only is noted, as upstream does.
func (c *Controller) historyHandler() controller.Handler {
	h := &controller.DependentHandler[*appsv1.DaemonSet]{Owners: c.owners(), Queue: c.queue}
	add := func(obj apiserver.Object) {
		switch {
		case obj.GetDeletionTimestamp() != nil:
			h.Delete(obj)
		case metav1.GetControllerOfNoCopy(obj) == nil:
			h.EnqueueSelecting(obj)
		}
	}
	return controller.Handler{OnAdd: add, OnUpdate: h.Update, OnDelete: h.Delete}
}

// podHandler is addPod, updatePod and deletePod: a pod's DaemonSet, or those
// selecting an orphan, are enqueued, and its creation or deletion counts
// against the expectations (a pod updated to terminating counts as deleted).
func (c *Controller) podHandler() *controller.DependentHandler[*appsv1.DaemonSet] {
	return &controller.DependentHandler[*appsv1.DaemonSet]{
		Owners: c.owners(), Queue: c.queue, Terminating: controller.TerminatingAsDelete,
		Added: func(ds *appsv1.DaemonSet, _ apiserver.Object) {
			c.expectations.CreationObserved(controller.KeyFunc(ds))
		},
		Deleted: func(ds *appsv1.DaemonSet, _ apiserver.Object) {
			c.expectations.DeletionObserved(controller.KeyFunc(ds))
		},
		Updated: func(ds *appsv1.DaemonSet, old, cur apiserver.Object) {
			// A pod just ready: look again a second after it may be available.
			if !kube.IsPodReady(old.(*corev1.Pod)) && kube.IsPodReady(cur.(*corev1.Pod)) && ds.Spec.MinReadySeconds > 0 {
				c.queue.AddAfter(controller.KeyFunc(ds), time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
			}
		},
	}
}

func (c *Controller) addNode(obj apiserver.Object) { c.nodeQueue.Add(obj.GetName()) }

// updateNode queues the node only when its labels or taints changed: nothing
// else of a node enters the decision.
func (c *Controller) updateNode(oldObj, curObj apiserver.Object) {
	old, cur := oldObj.(*corev1.Node), curObj.(*corev1.Node)
	if apiequality.Semantic.DeepEqual(old.Labels, cur.Labels) && apiequality.Semantic.DeepEqual(old.Spec.Taints, cur.Spec.Taints) {
		return
	}
	c.nodeQueue.Add(cur.Name)
}

// --- workers ---

func (c *Controller) nodeWorker() {
	for {
		name, quit := c.nodeQueue.Get()
		if quit {
			return
		}
		c.syncNode(name)
		c.nodeQueue.Done(name)
		c.nodeQueue.Forget(name)
	}
}

// syncNode is syncNodeUpdate: queue every DaemonSet the node's change may
// concern — one that should run on the node and has no pod there, one with
// a pod there that may not stay, and one with a pod there while its status
// counts misscheduled pods (the pod may have become welcome again).
func (c *Controller) syncNode(name string) {
	obj := c.nodes.Get("", name)
	if obj == nil {
		return
	}
	node := obj.(*corev1.Node)
	onNode := map[string]int{}
	for _, o := range c.pods.ByIndex(indexNode, name) {
		pod := o.(*corev1.Pod)
		if ref := metav1.GetControllerOfNoCopy(pod); ref != nil && ref.Kind == "DaemonSet" {
			onNode[pod.Namespace+"/"+ref.Name]++
		}
	}
	for _, o := range c.sets.List("", nil) {
		ds := o.(*appsv1.DaemonSet)
		run, keep := kube.NewDaemonEligibility(&ds.Spec.Template.Spec).ShouldRun(node)
		scheduled := onNode[controller.KeyFunc(ds)] > 0
		if (run && !scheduled) || (!keep && scheduled) || (scheduled && ds.Status.NumberMisscheduled > 0) {
			c.enqueue(ds)
		}
	}
}

// sortedNodes lists the cached nodes by name. (Upstream's lister order is a
// map's; the model's decisions must not depend on the order of the cache.)
func (c *Controller) sortedNodes() []*corev1.Node {
	objs := c.nodes.List("", nil)
	out := make([]*corev1.Node, len(objs))
	for i, o := range objs {
		out[i] = o.(*corev1.Node)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// sync is syncDaemonSet.
func (c *Controller) sync(key string) error {
	if err := c.consistency.EnsureReady(key); err != nil {
		return err
	}
	namespace, name := controller.SplitKey(key)
	obj := c.sets.Get(namespace, name)
	if obj == nil {
		c.expectations.DeleteExpectations(key)
		c.consistency.Clear(key, "")
		return nil
	}
	ds := obj.(*appsv1.DaemonSet)
	nodes := c.sortedNodes()
	if ds.Spec.Selector != nil && reflect.DeepEqual(*ds.Spec.Selector, metav1.LabelSelector{}) {
		return nil // selects every pod: upstream only warns
	}
	// A DaemonSet being deleted may have lost its revisions to the garbage
	// collector already: upstream leaves it (and its status) alone.
	if ds.DeletionTimestamp != nil {
		return nil
	}
	cur, old, err := c.constructHistory(ds)
	if err != nil {
		return fmt.Errorf("failed to construct revisions of DaemonSet: %w", err)
	}
	hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	if !c.expectations.SatisfiedExpectations(key) {
		// Status only, without observedGeneration: this generation was not
		// acted on.
		return c.updateStatus(ds, nodes, hash, false)
	}
	err = c.update(ds, nodes, hash, key, old)
	statusErr := c.updateStatus(ds, nodes, hash, true)
	if err != nil {
		return err
	}
	return statusErr
}

// update is updateDaemonSet: manage the pods, then (expectations allowing)
// the rolling update, then the history.
func (c *Controller) update(ds *appsv1.DaemonSet, nodes []*corev1.Node, hash, key string, old []*appsv1.ControllerRevision) error {
	if err := c.manage(ds, nodes, hash); err != nil {
		return err
	}
	if c.expectations.SatisfiedExpectations(key) && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if err := c.rollingUpdate(ds, nodes, hash); err != nil {
			return err
		}
	}
	if err := c.cleanupHistory(ds, old); err != nil {
		return fmt.Errorf("failed to clean up revisions of DaemonSet: %w", err)
	}
	return nil
}

// nodesToDaemonPods is getNodesToDaemonPods: the DaemonSet's pods (claimed)
// by the node they are for. Terminal pods already being deleted are left out
// unless includeDeletedTerminal.
func (c *Controller) nodesToDaemonPods(ds *appsv1.DaemonSet, includeDeletedTerminal bool) (map[string][]*corev1.Pod, error) {
	pods, err := c.daemonPods(ds)
	if err != nil {
		return nil, err
	}
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if !includeDeletedTerminal && kube.IsPodTerminal(p) && p.DeletionTimestamp != nil {
			continue
		}
		node, ok := kube.DaemonPodTargetNode(p)
		if !ok {
			continue
		}
		out[node] = append(out[node], p)
	}
	return out, nil
}
