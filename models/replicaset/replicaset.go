// Package replicaset models the upstream ReplicaSet controller
// (pkg/controller/replicaset) rule by rule, on ctrlsim's controller runtime:
// its event handlers, expectations, slow-start creation batches, adoption and
// release of pods, scale-down ranking and status. The ReplicationController
// runs the same algorithm through a conversion layer, as upstream does.
//
// Options select named alternatives (no expectations, other scale-down
// policies, no slow start, another burst size) for comparison; the defaults are
// upstream's (v1.36).
package replicaset

import (
	"reflect"
	"time"

	"github.com/ctrlsim/ctrlsim/harness/apiserver"
	"github.com/ctrlsim/ctrlsim/harness/controller"
	"github.com/ctrlsim/ctrlsim/harness/kube"
	"github.com/ctrlsim/ctrlsim/harness/plugin"
	"github.com/ctrlsim/ctrlsim/harness/trace"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// Upstream constants.
const (
	BurstReplicas       = 500
	Workers             = 5 // --concurrent-replicaset-syncs
	statusUpdateRetries = 1
)

// Options configure the model. The zero value of each field means upstream's
// behaviour, so Options{} is the faithful model of the ReplicaSet controller.
type Options struct {
	// Name is the controller's name in the history, failures and decision
	// trace (the strategy name). Default "replicaset-controller".
	Name string
	// Kind is ReplicaSets (default) or ReplicationControllers.
	Kind apiserver.Kind
	// Workers is the number of sync workers. Default 5.
	Workers int
	// BurstReplicas caps the pods created or deleted in one sync. Default 500.
	BurstReplicas int
	// NoSlowStart creates all pods of a sync at once instead of in batches of
	// 1, 2, 4, …
	NoSlowStart bool
	// NoExpectations syncs on every event, trusting a possibly stale cache
	// (the "naive" strategy).
	NoExpectations bool
	// NoConsistencyCheck turns off v1.36's StaleControllerConsistency check
	// (wait for the informer to catch up with the controller's own writes).
	// ReplicationControllers never have it, as upstream.
	NoConsistencyCheck bool
	// ScaleDown is the policy for choosing pods to delete. Default Upstream.
	ScaleDown ScaleDown
	// Trace receives every scale-down decision (may be nil).
	Trace *trace.Recorder
}

// Controller is one running ReplicaSet (or ReplicationController) controller.
type Controller struct {
	ctx          *controller.Context
	opts         Options
	adapter      adapter
	owners       *controller.Informer
	refs         *controller.Owners[*appsv1.ReplicaSet] // owners of pods
	pods         *controller.Informer
	queue        *controller.Queue[string]
	expectations *controller.UIDTrackingExpectations
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
	if opts.Name == "" {
		opts.Name = "replicaset-controller"
		if opts.Kind == apiserver.ReplicationControllers {
			opts.Name = "replication-controller"
		}
	}
	return StartWithContext(controller.NewContext(opts.Name, api), opts)
}

// StartWithContext runs the controller in ctx.
func StartWithContext(ctx *controller.Context, opts Options) *Controller {
	if opts.Kind == "" {
		opts.Kind = apiserver.ReplicaSets
	}
	if opts.Workers <= 0 {
		opts.Workers = Workers
	}
	if opts.BurstReplicas <= 0 {
		opts.BurstReplicas = BurstReplicas
	}
	if opts.ScaleDown == "" {
		opts.ScaleDown = Upstream
	}
	c := &Controller{
		ctx: ctx, opts: opts, adapter: adapterFor(opts.Kind),
		owners:       ctx.Informer(opts.Kind),
		pods:         ctx.Informer(apiserver.Pods),
		queue:        controller.NewQueue[string](ctx.World(), opts.Name, nil),
		expectations: controller.NewUIDTrackingExpectations(ctx.Now),
	}
	c.refs = &controller.Owners[*appsv1.ReplicaSet]{Kind: opts.Kind, Informer: c.owners, Convert: c.adapter.toRS,
		Selector: func(rs *appsv1.ReplicaSet) *metav1.LabelSelector { return rs.Spec.Selector }}
	if !opts.NoConsistencyCheck && opts.Kind == apiserver.ReplicaSets {
		c.consistency = controller.NewConsistency(controller.Watched{Kind: apiserver.ReplicaSets, Informer: c.owners},
			controller.Watched{Kind: apiserver.Pods, Informer: c.pods})
	}
	c.pods.AddIndex(controller.IndexController, controller.ControllerIndex)
	c.owners.AddHandler(controller.OwnerHandler(c.queue, c.forget))
	c.pods.AddHandler(c.podHandler().Handler())
	ctx.RunWorkers(opts.Workers, controller.Worker(c.queue, c.sync, 0), c.owners, c.pods)
	return c
}

// --- event handlers (run outside coroutines: they only enqueue) ---

// podHandler is addPod, updatePod and deletePod: a pod's owner, or the owners
// selecting an orphan, are enqueued, and its creation or deletion counts
// against the owner's expectations. A pod updated to terminating counts as
// deleted, for its old labels' owner too.
func (c *Controller) podHandler() *controller.DependentHandler[*appsv1.ReplicaSet] {
	return &controller.DependentHandler[*appsv1.ReplicaSet]{
		Owners: c.refs, Queue: c.queue, Terminating: controller.TerminatingAsDeleteOfBoth,
		Added: func(rs *appsv1.ReplicaSet, _ apiserver.Object) {
			c.expectations.CreationObserved(controller.KeyFunc(rs))
		},
		Deleted: func(rs *appsv1.ReplicaSet, pod apiserver.Object) {
			c.expectations.DeletionObserved(controller.KeyFunc(rs), controller.KeyFunc(pod))
		},
		Updated: func(rs *appsv1.ReplicaSet, old, cur apiserver.Object) {
			// A pod just ready: look again once it may be available.
			if !kube.IsPodReady(old.(*corev1.Pod)) && kube.IsPodReady(cur.(*corev1.Pod)) && rs.Spec.MinReadySeconds > 0 {
				c.queue.AddAfter(controller.KeyFunc(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second)
			}
		},
	}
}

// forget drops what the controller remembers of an owner deleted.
func (c *Controller) forget(key string, uid types.UID) {
	c.consistency.Clear(key, uid)
	c.expectations.DeleteExpectations(key)
}

// --- workers ---

// sync is syncReplicaSet: bring one owner's pods to spec.replicas and write
// its status.
func (c *Controller) sync(key string) error {
	if err := c.consistency.EnsureReady(key); err != nil {
		return err
	}
	namespace, name := controller.SplitKey(key)
	obj := c.owners.Get(namespace, name)
	if obj == nil {
		c.consistency.Clear(key, "")
		c.expectations.DeleteExpectations(key)
		return nil
	}
	rs := c.adapter.toRS(obj)
	needsSync := c.opts.NoExpectations || c.expectations.SatisfiedExpectations(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return nil // an invalid selector never becomes valid by retrying
	}

	var all []*corev1.Pod
	owned := controller.OwnedIndexKey(rs, c.opts.Kind)
	for _, idx := range []string{owned, rs.Namespace} { // owned, then orphans
		for _, o := range c.pods.ByIndex(controller.IndexController, idx) {
			all = append(all, o.(*corev1.Pod))
		}
	}
	var active, terminating []*corev1.Pod
	for _, p := range all {
		if kube.IsPodActive(p) {
			active = append(active, p)
		} else if p.DeletionTimestamp != nil && !kube.IsPodTerminal(p) {
			terminating = append(terminating, p)
		}
	}
	claimed, err := c.claimPods(rs, selector, active)
	if err != nil {
		return err
	}

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(claimed, rs)
	}
	var terminatingCount *int32
	if c.opts.Kind == apiserver.ReplicaSets {
		n := int32(0)
		for _, p := range terminating {
			if metav1.IsControlledBy(p, rs) && selector.Matches(labels.Set(p.Labels)) {
				n++
			}
		}
		terminatingCount = &n
	}
	now := c.ctx.Now()
	status := calculateStatus(rs, claimed, terminatingCount, manageErr, now)
	updated, err := c.updateStatus(rs, status)
	if err != nil {
		return err
	}
	if manageErr != nil {
		return manageErr
	}
	if mrs := updated.Spec.MinReadySeconds; mrs > 0 && updated.Status.ReadyReplicas != updated.Status.AvailableReplicas {
		next := time.Duration(mrs) * time.Second
		if soon, ok := kube.FindMinNextPodAvailabilityCheck(claimed, mrs, now, c.ctx.Now()); ok {
			next = soon
		}
		c.queue.AddAfter(key, next)
	}
	return nil
}

// manageReplicas creates or deletes pods to close the gap to spec.replicas.
func (c *Controller) manageReplicas(active []*corev1.Pod, rs *appsv1.ReplicaSet) error {
	key := controller.KeyFunc(rs)
	diff := len(active) - int(*rs.Spec.Replicas)
	switch {
	case diff < 0:
		n := min(-diff, c.opts.BurstReplicas)
		if !c.opts.NoExpectations {
			c.expectations.ExpectCreations(key, n)
		}
		initial := 1
		if c.opts.NoSlowStart {
			initial = n
		}
		created, errs := c.ctx.SlowStartBatch(n, initial, func(int) error { return c.createPod(rs) })
		if !c.opts.NoExpectations {
			for i := created; i < n; i++ {
				c.expectations.CreationObserved(key)
			}
		}
		if len(errs) > 0 {
			return errs[0]
		}
		return nil
	case diff > 0:
		n := min(diff, c.opts.BurstReplicas)
		victims := c.podsToDelete(rs, active, n)
		keys := make([]string, len(victims))
		for i, p := range victims {
			keys[i] = controller.KeyFunc(p)
		}
		if !c.opts.NoExpectations {
			c.expectations.ExpectDeletions(key, keys)
		}
		var firstErr error
		c.ctx.Parallel(len(victims), func(i int) {
			err := c.ctx.Client().Delete(apiserver.Pods, rs.Namespace, victims[i].Name, nil)
			if err == nil {
				return
			}
			if !c.opts.NoExpectations {
				c.expectations.DeletionObserved(key, keys[i])
			}
			if !apierrors.IsNotFound(err) && firstErr == nil {
				firstErr = err
			}
		})
		return firstErr
	}
	return nil
}

func (c *Controller) createPod(rs *appsv1.ReplicaSet) error {
	pod, err := controller.PodFromTemplate(&rs.Spec.Template, rs, c.adapter.controllerRef(rs))
	if err != nil {
		return err
	}
	created, err := c.ctx.Client().Create(pod)
	if err == nil && c.consistency != nil {
		c.consistency.WroteAt(controller.KeyFunc(rs), rs.UID, apiserver.Pods, created.GetResourceVersion())
	}
	return err
}

// podsToDelete ranks the candidates and records the decision.
func (c *Controller) podsToDelete(rs *appsv1.ReplicaSet, active []*corev1.Pod, n int) []*corev1.Pod {
	related := c.relatedPods(rs)
	onNode := map[string]int{}
	for _, p := range related {
		if kube.IsPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	pods := append([]*corev1.Pod(nil), active...)
	ranks := make([]int, len(pods))
	for i, p := range pods {
		ranks[i] = onNode[p.Spec.NodeName]
	}
	now := c.ctx.Now()
	candidates := make([]trace.Candidate, len(pods))
	for i, p := range pods {
		candidates[i] = candidate(p, ranks[i])
	}
	victims := choose(c.opts.ScaleDown, pods, ranks, n, now, c.ctx.Rand())
	chosen := make([]string, len(victims))
	for i, p := range victims {
		chosen[i] = p.Name
	}
	c.opts.Trace.Record(trace.Decision{
		Time: c.ctx.World().Now().Format(time.RFC3339Nano), Controller: c.opts.Name,
		Owner:              string(c.opts.Kind) + "/" + rs.Namespace + "/" + rs.Name,
		OwnerHasController: metav1.GetControllerOfNoCopy(rs) != nil,
		Now:                now.Format(time.RFC3339Nano), Diff: n, Candidates: candidates, Chosen: chosen,
	})
	return victims
}

// relatedPods are the pods selected by every owner with the same controller
// as rs (its Deployment's ReplicaSets). An owner without a controller has none.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []*corev1.Pod
	for _, obj := range c.owners.List(rs.Namespace, nil) {
		sib := c.adapter.toRS(obj)
		if r := metav1.GetControllerOfNoCopy(sib); r == nil || r.UID != ref.UID {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(sib.Spec.Selector)
		if err != nil {
			continue
		}
		for _, o := range c.pods.List(sib.Namespace, sel) {
			if !seen[string(o.GetUID())] {
				seen[string(o.GetUID())] = true
				out = append(out, o.(*corev1.Pod))
			}
		}
	}
	return out
}

func candidate(p *corev1.Pod, rank int) trace.Candidate {
	c := trace.CandidateOf(p)
	c.DeletionCost, c.Rank = int(deletionCost(p)), rank
	return c
}

// updateStatus writes the status if it changed (one GET and one retry on
// failure, as upstream).
func (c *Controller) updateStatus(rs *appsv1.ReplicaSet, status appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	cur := rs.Status
	if cur.Replicas == status.Replicas && cur.FullyLabeledReplicas == status.FullyLabeledReplicas &&
		cur.ReadyReplicas == status.ReadyReplicas && cur.AvailableReplicas == status.AvailableReplicas &&
		equalPtr(cur.TerminatingReplicas, status.TerminatingReplicas) &&
		rs.Generation == cur.ObservedGeneration && reflect.DeepEqual(cur.Conditions, status.Conditions) {
		return rs, nil
	}
	status.ObservedGeneration = rs.Generation
	obj, err := c.ctx.Client().UpdateStatusRetrying(c.opts.Kind, c.adapter.fromRS(rs), statusUpdateRetries, func(obj apiserver.Object) apiserver.Object {
		rs := c.adapter.toRS(obj).DeepCopy()
		rs.Status = status
		return c.adapter.fromRS(rs)
	})
	if err != nil {
		return nil, err
	}
	updated := c.adapter.toRS(obj)
	c.consistency.WroteAt(controller.KeyFunc(updated), updated.UID, c.opts.Kind, updated.ResourceVersion)
	return updated, nil
}

func equalPtr(a, b *int32) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// Stop shuts the controller's work queue down: its workers finish the key in
// hand and exit. (A stopped controller is how tests plant "stops reconciling".)
func (c *Controller) Stop() { c.queue.ShutDown() }
