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
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// Start runs the controller on the harness with its own context.
func Start(api *apiserver.Server, opts Options) *Controller {
	if opts.Name == "" {
		opts.Name = "daemonset-controller"
	}
	return StartWithContext(controller.NewContext(opts.Name, api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	if opts.Name == "" {
		opts.Name = ctx.Name()
	}
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
	c.pods.AddIndex(indexController, podControllerIndex)
	c.pods.AddIndex(indexNode, podNodeIndex)
	c.sets.AddHandler(controller.Handler{OnAdd: c.addSet, OnUpdate: c.updateSet, OnDelete: c.deleteSet})
	c.histories.AddHandler(controller.Handler{OnAdd: c.addHistory, OnUpdate: c.updateHistory, OnDelete: c.deleteHistory})
	c.pods.AddHandler(controller.Handler{OnAdd: c.addPod, OnUpdate: c.updatePod, OnDelete: c.deletePod})
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
			ctx.Go(fmt.Sprintf("worker-%d", i), c.worker)
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

// Pod indexes: by controller reference ("ns/Kind/name/uid", orphans by
// namespace alone) as upstream's PodControllerIndex, and by spec.nodeName.
const (
	indexController = "controller"
	indexNode       = "node"
)

func podControllerIndex(obj apiserver.Object) []string {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return []string{obj.GetNamespace()}
	}
	return []string{obj.GetNamespace() + "/" + ref.Kind + "/" + ref.Name + "/" + string(ref.UID)}
}

func podNodeIndex(obj apiserver.Object) []string {
	if n := obj.(*corev1.Pod).Spec.NodeName; n != "" {
		return []string{n}
	}
	return nil
}

func ownedIndexKey(ds *appsv1.DaemonSet) string {
	return ds.Namespace + "/DaemonSet/" + ds.Name + "/" + string(ds.UID)
}

func keyOf(obj metav1.Object) string { return obj.GetNamespace() + "/" + obj.GetName() }

func splitKey(key string) (namespace, name string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}

func controllerRef(ds *appsv1.DaemonSet) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &t, BlockOwnerDeletion: &t}
}

// --- event handlers (run outside coroutines: they only enqueue) ---

func (c *Controller) enqueue(ds *appsv1.DaemonSet) { c.queue.Add(keyOf(ds)) }

func (c *Controller) addSet(obj apiserver.Object) { c.enqueue(obj.(*appsv1.DaemonSet)) }

func (c *Controller) updateSet(old, cur apiserver.Object) {
	if old.GetUID() != cur.GetUID() {
		c.deleteSet(old)
	}
	c.enqueue(cur.(*appsv1.DaemonSet))
}

func (c *Controller) deleteSet(obj apiserver.Object) {
	key := keyOf(obj)
	c.consistency.Clear(key, obj.GetUID())
	c.expectations.DeleteExpectations(key)
	c.queue.Add(key)
}

// resolve returns the DaemonSet a controller reference points to, if it is
// in the cache and still the same object.
func (c *Controller) resolve(namespace string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	if ref == nil || ref.Kind != "DaemonSet" {
		return nil
	}
	obj := c.sets.Get(namespace, ref.Name)
	if obj == nil || obj.GetUID() != ref.UID {
		return nil
	}
	return obj.(*appsv1.DaemonSet)
}

// setsSelecting lists the DaemonSets in namespace whose selector matches
// lbls (an empty selector matches nothing).
func (c *Controller) setsSelecting(namespace string, lbls map[string]string) []*appsv1.DaemonSet {
	if len(lbls) == 0 {
		return nil
	}
	var out []*appsv1.DaemonSet
	for _, obj := range c.sets.List(namespace, nil) {
		ds := obj.(*appsv1.DaemonSet)
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(lbls)) {
			continue
		}
		out = append(out, ds)
	}
	return out
}

func (c *Controller) addHistory(obj apiserver.Object) {
	h := obj.(*appsv1.ControllerRevision)
	if h.DeletionTimestamp != nil {
		c.deleteHistory(h)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(h); ref != nil {
		return // upstream notes it and does nothing more
	}
	for _, ds := range c.setsSelecting(h.Namespace, h.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updateHistory(oldObj, curObj apiserver.Object) {
	old, cur := oldObj.(*appsv1.ControllerRevision), curObj.(*appsv1.ControllerRevision)
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.resolve(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		if ds := c.resolve(cur.Namespace, curRef); ds != nil {
			c.enqueue(ds)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, ds := range c.setsSelecting(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deleteHistory(obj apiserver.Object) {
	if ds := c.resolve(obj.GetNamespace(), metav1.GetControllerOfNoCopy(obj)); ds != nil {
		c.enqueue(ds)
	}
}

func (c *Controller) addPod(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if ds := c.resolve(pod.Namespace, ref); ds != nil {
			c.expectations.CreationObserved(keyOf(ds))
			c.enqueue(ds)
		}
		return
	}
	for _, ds := range c.setsSelecting(pod.Namespace, pod.Labels) {
		c.enqueue(ds)
	}
}

func (c *Controller) updatePod(oldObj, curObj apiserver.Object) {
	old, cur := oldObj.(*corev1.Pod), curObj.(*corev1.Pod)
	if old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(cur), metav1.GetControllerOfNoCopy(old)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if ds := c.resolve(old.Namespace, oldRef); ds != nil {
			c.enqueue(ds)
		}
	}
	if curRef != nil {
		ds := c.resolve(cur.Namespace, curRef)
		if ds == nil {
			return
		}
		c.enqueue(ds)
		if !kube.IsPodReady(old) && kube.IsPodReady(cur) && ds.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(keyOf(ds), time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if refChanged || !reflect.DeepEqual(cur.Labels, old.Labels) {
		for _, ds := range c.setsSelecting(cur.Namespace, cur.Labels) {
			c.enqueue(ds)
		}
	}
}

func (c *Controller) deletePod(obj apiserver.Object) {
	pod := obj.(*corev1.Pod)
	ds := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod))
	if ds == nil {
		return
	}
	c.expectations.DeletionObserved(keyOf(ds))
	c.enqueue(ds)
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

func (c *Controller) worker() {
	for {
		key, quit := c.queue.Get()
		if quit {
			return
		}
		err := c.sync(key)
		c.queue.Done(key)
		if err == nil {
			c.queue.Forget(key)
		} else {
			c.queue.AddRateLimited(key)
		}
	}
}

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
		run, keep := compileEligibility(ds).check(node)
		scheduled := onNode[keyOf(ds)] > 0
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
	namespace, name := splitKey(key)
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
		if !includeDeletedTerminal && isTerminal(p) && p.DeletionTimestamp != nil {
			continue
		}
		node, ok := TargetNodeName(p)
		if !ok {
			continue
		}
		out[node] = append(out[node], p)
	}
	return out, nil
}

func isTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
